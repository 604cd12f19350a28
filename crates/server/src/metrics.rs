//! Prometheus metrics, with one registry per server (no process-wide recorder: two servers in one test
//! process count apart). Recording is an atomic add on a counter found by a small label set; label
//! values come from fixed lists in the code, never from what a client sent, so a client cannot make
//! the series grow.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use secrecy::ExposeSecret as _;
use subtle::ConstantTimeEq as _;

use crate::state::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    result: &'static str,
    method: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    channel: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    grant_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    /// The route pattern (`/account/{channel}`), never the raw path.
    route: String,
    status: u16,
}

/// Every Gatehouse metric, registered in a registry of its own.
#[derive(Debug, Clone)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    registry: Registry,
    sign_ins: Family<SignInLabels, Counter>,
    codes_sent: Family<CodeLabels, Counter>,
    tokens_issued: Family<TokenLabels, Counter>,
    http: Family<HttpLabels, Histogram, fn() -> Histogram>,
    outbox_depth: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("gatehouse");
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-in steps by result (success, failure, locked) and method (password, passkey, totp, sms, email, recovery_code)",
            sign_ins.clone(),
        );
        let codes_sent = Family::<CodeLabels, Counter>::default();
        registry.register(
            "codes_sent",
            "Sign-in codes by channel (email, sms) and result (sent: to the SMS sender, queued: in the e-mail outbox, failed)",
            codes_sent.clone(),
        );
        let tokens_issued = Family::<TokenLabels, Counter>::default();
        registry.register(
            "tokens_issued",
            "Successful token responses, by grant type",
            tokens_issued.clone(),
        );
        let http: Family<HttpLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route pattern and status",
            http.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Messages waiting in the outbox to be sent",
            outbox_depth.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            sign_ins,
            codes_sent,
            tokens_issued,
            http,
            outbox_depth,
        }))
    }
}

/// A sign-in method as a label: one of a fixed list.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 6] = [
        "password",
        "passkey",
        "totp",
        "sms",
        "email",
        "recovery_code",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

impl Metrics {
    /// Counts a sign-in step from its audit event: the kind says the result, the detail the method.
    pub(crate) fn audit_event(&self, kind: &str, detail: &serde_json::Value) {
        use gatehouse_login::audit as audit_kind;
        let result = match kind {
            audit_kind::SIGN_IN_SUCCEEDED => "success",
            audit_kind::SIGN_IN_FAILED | audit_kind::SECOND_FACTOR_FAILED => "failure",
            audit_kind::SECOND_FACTOR_LOCKED => "locked",
            _ => return,
        };
        let method = detail["method"]
            .as_str()
            .or(detail["step"].as_str())
            .unwrap_or(if kind == audit_kind::SECOND_FACTOR_LOCKED {
                "other"
            } else {
                "password"
            });
        self.0
            .sign_ins
            .get_or_create(&SignInLabels {
                result,
                method: method_label(method),
            })
            .inc();
    }

    /// Counts a code handed to the SMS sender (`sent`), put in the e-mail outbox (`queued`), or that
    /// could not be (`failed`).
    pub(crate) fn code_sent(&self, channel: gatehouse_mfa::MethodKind, result: &'static str) {
        let channel = match channel {
            gatehouse_mfa::MethodKind::Sms => "sms",
            _ => "email",
        };
        self.0
            .codes_sent
            .get_or_create(&CodeLabels { channel, result })
            .inc();
    }

    /// Counts a successful token response.
    pub(crate) fn token_issued(&self, grant_type: &str) {
        let grant_type = ["authorization_code", "refresh_token", "client_credentials"]
            .into_iter()
            .find(|g| *g == grant_type)
            .unwrap_or("other");
        self.0
            .tokens_issued
            .get_or_create(&TokenLabels { grant_type })
            .inc();
    }

    /// Sets the number of messages waiting in the outbox.
    pub fn set_outbox_depth(&self, depth: i64) {
        self.0.outbox_depth.set(depth);
    }

    fn observe_request(&self, method: &'static str, route: String, status: u16, took: Duration) {
        self.0
            .http
            .get_or_create(&HttpLabels {
                method,
                route,
                status,
            })
            .observe(took.as_secs_f64());
    }

    /// Every metric in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.0.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        text
    }
}

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics` on the main port: only with `Authorization: Bearer <metrics token>`, and not at all
/// (404) when no token is configured. A separate `metrics_listen` port serves [`scrape`] without one.
pub async fn metrics_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.0.settings.metrics_token.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(
        presented
            .as_bytes()
            .ct_eq(expected.expose_secret().as_bytes()),
    ) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    scrape(State(state)).await
}

/// The metrics, unauthenticated: for the separate metrics port only. The outbox depth is read from the
/// database at each scrape (it is the same on every node).
pub async fn scrape(State(state): State<AppState>) -> Response {
    let depth = tokio::time::timeout(Duration::from_secs(1), state.0.db.outbox_depth()).await;
    if let Ok(Ok(depth)) = depth {
        state
            .0
            .metrics
            .set_outbox_depth(i64::try_from(depth).unwrap_or(i64::MAX));
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.0.metrics.render(),
    )
        .into_response()
}

/// Times every request into the latency histogram, labelled by route pattern.
pub async fn track_latency(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = method_name(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state
        .0
        .metrics
        .observe_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

fn method_name(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_ins_are_counted_by_result_and_method() {
        let metrics = Metrics::default();
        metrics.audit_event("sign_in.failed", &serde_json::json!({ "step": "password" }));
        metrics.audit_event(
            "sign_in.succeeded",
            &serde_json::json!({ "amr": ["pwd", "otp"], "method": "totp" }),
        );
        metrics.audit_event("factor.added", &serde_json::json!({}));
        let text = metrics.render();
        assert!(
            text.contains(r#"gatehouse_sign_ins_total{result="failure",method="password"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"gatehouse_sign_ins_total{result="success",method="totp"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn label_values_come_only_from_fixed_lists() {
        let metrics = Metrics::default();
        metrics.token_issued("urn:something:made:up");
        metrics.audit_event(
            "sign_in.failed",
            &serde_json::json!({ "method": "<script>" }),
        );
        let text = metrics.render();
        assert!(text.contains(r#"grant_type="other""#), "{text}");
        assert!(text.contains(r#"method="other""#), "{text}");
        assert!(
            !text.contains("script") && !text.contains("made:up"),
            "{text}"
        );
    }
}
