//! Sending sign-in codes through the configured senders. Every send counts against three limits — per
//! account, per destination (number or address) and per client address — so a stolen password or a
//! script cannot flood someone's phone or run up a bill (toll fraud).

use std::net::SocketAddr;

use gatehouse_login::i18n::Text;
use gatehouse_mfa::MethodKind;
use gatehouse_mfa::code::CodePolicy;
use gatehouse_notify::sms::SmsMessage;
use gatehouse_store::factors::StoredFactor;
use gatehouse_store::outbox::OutgoingEmail;
use gatehouse_store::users::User;
use serde_json::json;

use crate::error::PageError;
use crate::state::AppState;

/// Codes per limit key and lock window.
const SENDS_PER_ACCOUNT: i64 = 5;
const SENDS_PER_DESTINATION: i64 = 5;
const SENDS_PER_CLIENT_ADDRESS: i64 = 20;

/// What happened when a code was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent { to: String },
    AlreadySent { to: String },
    TooSoon { to: String },
    Limited,
    Failed,
}

/// Where a factor's codes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub method: MethodKind,
    /// An e-mail address, or a mobile number in E.164 form.
    pub address: String,
    /// Shown to the person: enough to recognise, not to harvest.
    pub masked: String,
}

impl Destination {
    pub fn new(method: MethodKind, address: String) -> Self {
        let masked = match method {
            MethodKind::Sms => gatehouse_mfa::sms::mask(&address),
            _ => gatehouse_mfa::email::mask(&address),
        };
        Self {
            method,
            address,
            masked,
        }
    }
}

/// The lifetime and resend rules of a method that sends codes; `None` for the others.
pub fn code_policy(method: MethodKind) -> Option<CodePolicy> {
    match method {
        MethodKind::Email => Some(CodePolicy::EMAIL),
        MethodKind::Sms => Some(CodePolicy::SMS),
        MethodKind::Totp | MethodKind::Passkey | MethodKind::RecoveryCode => None,
    }
}

/// The destination stored with a factor (`{"address": …}` in its details).
pub fn destination(factor: &StoredFactor) -> Destination {
    let detail: serde_json::Value = serde_json::from_str(&factor.detail).unwrap_or_default();
    let address = detail["address"].as_str().unwrap_or_default().to_owned();
    Destination::new(
        MethodKind::parse(&factor.kind).unwrap_or(MethodKind::Email),
        address,
    )
}

/// Counts a send against every limit; `false` (and nothing counted) when one is reached.
pub async fn may_send(
    state: &AppState,
    user_id: &str,
    to: &Destination,
    peer: SocketAddr,
    now: i64,
) -> Result<bool, PageError> {
    let policy = state.0.settings.mfa_attempts;
    let method = to.method.as_str();
    let limits = [
        (
            format!("send:account:{user_id}:{method}"),
            SENDS_PER_ACCOUNT,
        ),
        (
            format!("send:to:{}", gatehouse_oidc::token_hash(&to.address)),
            SENDS_PER_DESTINATION,
        ),
        (format!("send:ip:{}", peer.ip()), SENDS_PER_CLIENT_ADDRESS),
    ];
    let since = policy.counting_since(now);
    for (key, limit) in &limits {
        if state.0.db.failures_since(key, since).await? >= *limit {
            tracing::warn!(target: "gatehouse::security", method, limit = key.split(':').nth(1), "code send limit reached");
            return Ok(false);
        }
    }
    for (key, _) in &limits {
        state
            .0
            .db
            .record_failure(key, policy.window_start(now))
            .await?;
    }
    Ok(true)
}

/// An e-mail from the theme: the text from `template` (a `.txt`), and an HTML alternative of the same
/// text from the theme's `email.html` (paragraphs, links made clickable, the theme's look).
pub fn themed_email(
    state: &AppState,
    template: &str,
    context: serde_json::Value,
    to: &str,
    subject: String,
) -> Result<OutgoingEmail, String> {
    let theme = state.theme();
    let text = theme.render(template, context).map_err(|e| e.to_string())?;
    // Each line as text, a link (made clickable), or a code (shown large).
    let line = |l: &str| {
        let kind = if l.starts_with("https://") || l.starts_with("http://") {
            "link"
        } else if l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()) {
            "code"
        } else {
            "text"
        };
        json!({ "text": l, "kind": kind })
    };
    let paragraphs: Vec<Vec<serde_json::Value>> = text
        .split("\n\n")
        .map(|p| {
            p.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(line)
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect();
    let html = theme
        .render(
            "email.html",
            json!({ "subject": subject, "paragraphs": paragraphs, "service": state.0.settings.display_name }),
        )
        .map_err(|e| e.to_string())?;
    Ok(OutgoingEmail {
        to: to.to_owned(),
        subject,
        text,
        html: Some(html),
    })
}

/// The e-mail carrying `code` to `address`. The text comes from the theme.
pub fn code_email(
    state: &AppState,
    address: &str,
    code: &str,
    policy: CodePolicy,
) -> Result<OutgoingEmail, String> {
    let mail = themed_email(
        state,
        "email_code.txt",
        code_context(state, code, policy),
        address,
        state.text(&service_text(state, "code-mail-subject")),
    );
    let result = if mail.is_ok() { "queued" } else { "failed" };
    state.0.metrics.code_sent(MethodKind::Email, result);
    mail
}

/// The message `key` with the service's name as `$service`.
pub fn service_text(state: &AppState, key: &'static str) -> Text {
    Text::new(key).with("service", state.0.settings.display_name.as_str())
}

fn code_context(state: &AppState, code: &str, policy: CodePolicy) -> serde_json::Value {
    let minutes = policy.lifetime_seconds / 60;
    json!({ "code": code, "minutes": minutes, "service": state.0.settings.display_name })
}

/// Sends `code` to `to`: a text message at once, an e-mail through the outbox. Text messages are
/// counted in the metrics here, e-mails where they are prepared ([`code_email`]).
pub async fn send_code(
    state: &AppState,
    to: &Destination,
    code: &str,
    policy: CodePolicy,
) -> Result<(), String> {
    let sent = deliver_code(state, to, code, policy).await;
    if to.method == MethodKind::Sms {
        let result = if sent.is_ok() { "sent" } else { "failed" };
        state.0.metrics.code_sent(MethodKind::Sms, result);
    }
    sent
}

async fn deliver_code(
    state: &AppState,
    to: &Destination,
    code: &str,
    policy: CodePolicy,
) -> Result<(), String> {
    match to.method {
        MethodKind::Email => {
            let mail = code_email(state, &to.address, code, policy)?;
            state.queue_email(&mail).await.map_err(|e| e.to_string())
        }
        MethodKind::Sms => {
            let sender = state.0.sms.as_ref().ok_or("no SMS sender is configured")?;
            let text = state
                .theme()
                .render("sms_code.txt", code_context(state, code, policy))
                .map_err(|e| e.to_string())?;
            sender
                .send(&SmsMessage {
                    to: to.address.clone(),
                    text: text.trim().to_owned(),
                })
                .await
                .map_err(|e| e.to_string())
        }
        MethodKind::Totp | MethodKind::Passkey | MethodKind::RecoveryCode => {
            Err("this method sends no codes".to_owned())
        }
    }
}

/// The e-mail telling `user` about a change to their account's security, to their login address.
pub fn notice_email(
    state: &AppState,
    user: &User,
    what: Text,
    client: &crate::audit::ClientInfo,
) -> Result<OutgoingEmail, String> {
    let when = chrono::DateTime::from_timestamp(state.0.provider.now(), 0)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    let context = json!({
        "name": user.name,
        "what": what,
        "when": when,
        "device": client.user_agent.as_deref().map(crate::audit::device_summary),
        "ip": client.ip,
        "service": state.0.settings.display_name,
    });
    themed_email(
        state,
        "email_notice.txt",
        context,
        &user.email,
        state.text(&service_text(state, "notice-mail-subject")),
    )
}

/// Tells a person about a change to their account's security, by e-mail to their login address.
/// A failure to queue it is logged; it does not undo the change.
pub async fn security_notice(
    state: &AppState,
    user_id: &str,
    what: Text,
    client: &crate::audit::ClientInfo,
) {
    let Ok(Some(user)) = state.0.db.user(user_id).await else {
        return;
    };
    let queued = match notice_email(state, &user, what, client) {
        Ok(mail) => state.queue_email(&mail).await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    if let Err(e) = queued {
        tracing::error!(error = %e, "queueing a security notice failed");
    }
}
