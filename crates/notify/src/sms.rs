//! SMS: one short text to one E.164 number, through a provider or a development outbox.
//!
//! [`sms_sender`] turns an [`SmsConfig`] into an [`SmsSender`] once, at start-up: URLs are checked
//! and the HTTP client (10 s timeout, no redirects) is built there. Every sender refuses a number
//! that is not E.164 (`+` and 8 to 15 digits) before doing anything else.
//!
//! Nothing here logs or returns the text (it usually holds a sign-in code), nor more of the number
//! than its last two digits, nor a provider's reply body (it may echo either).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::NotifyError;

/// How long one provider request may take, connecting included.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
const TWILIO_BASE_URL: &str = "https://api.twilio.com";
const MESSAGEBIRD_BASE_URL: &str = "https://rest.messagebird.com";

/// One text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// The recipient in E.164 form, e.g. `+31612345678`.
    pub to: String,
    /// The text; keep it short, providers split long texts and charge per part.
    pub text: String,
}

/// Something that delivers an [`SmsMessage`]; build one with [`sms_sender`].
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync + fmt::Debug {
    /// Sends one message; returns once the provider has accepted it (or the outbox has it).
    async fn send(&self, message: &SmsMessage) -> Result<(), NotifyError>;
}

/// Which SMS sender to use, as written in the configuration file under `sender = "..."`.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "sender", rename_all = "snake_case", deny_unknown_fields)]
pub enum SmsConfig {
    /// Development: appends one JSON line per message to `path`:
    /// `{"to":"+31...","text":"...","sent_at":<unix seconds>}`.
    File {
        /// The outbox file, created if missing.
        path: PathBuf,
    },
    /// Development: only logs that a message was sent, with the number's last two digits.
    Log,
    /// POSTs `{"to": "...", "text": "..."}` as JSON with `Authorization: Bearer <token>`.
    Webhook {
        /// An `https` URL (`http` only for a loopback host).
        url: String,
        /// The bearer token the webhook checks.
        bearer_token: String,
    },
    /// Twilio's Programmable Messaging API.
    Twilio {
        /// The account SID (`AC...`), also the Basic-auth user.
        account_sid: String,
        /// The auth token, the Basic-auth password.
        auth_token: String,
        /// The sending number (E.164) or alphanumeric sender id.
        from: String,
        /// Default `https://api.twilio.com`; set only for tests or a proxy.
        #[serde(default)]
        base_url: Option<String>,
    },
    /// MessageBird's SMS API.
    Messagebird {
        /// The live or test access key.
        access_key: String,
        /// The sending number or alphanumeric sender id.
        originator: String,
        /// Default `https://rest.messagebird.com`; set only for tests or a proxy.
        #[serde(default)]
        base_url: Option<String>,
    },
}

/// Written by hand so that tokens and keys never reach a log through `{:?}`.
impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REDACTED: &str = "[REDACTED]";
        match self {
            Self::File { path } => f.debug_struct("File").field("path", path).finish(),
            Self::Log => f.write_str("Log"),
            Self::Webhook { url, .. } => f
                .debug_struct("Webhook")
                .field("url", url)
                .field("bearer_token", &REDACTED)
                .finish(),
            Self::Twilio {
                account_sid,
                from,
                base_url,
                ..
            } => f
                .debug_struct("Twilio")
                .field("account_sid", account_sid)
                .field("auth_token", &REDACTED)
                .field("from", from)
                .field("base_url", base_url)
                .finish(),
            Self::Messagebird {
                originator,
                base_url,
                ..
            } => f
                .debug_struct("Messagebird")
                .field("access_key", &REDACTED)
                .field("originator", originator)
                .field("base_url", base_url)
                .finish(),
        }
    }
}

/// Builds the sender a configuration names; fails on a bad URL, account SID or sender.
pub fn sms_sender(config: &SmsConfig) -> Result<Arc<dyn SmsSender>, NotifyError> {
    Ok(match config {
        SmsConfig::File { path } => Arc::new(FileSender {
            path: path.clone(),
            lock: tokio::sync::Mutex::new(()),
        }),
        SmsConfig::Log => Arc::new(LogSender),
        SmsConfig::Webhook { url, bearer_token } => Arc::new(WebhookSender {
            client: http_client()?,
            url: endpoint(url, "webhook url")?,
            bearer_token: SecretString::from(bearer_token.as_str()),
        }),
        SmsConfig::Twilio {
            account_sid,
            auth_token,
            from,
            base_url,
        } => {
            // The SID becomes a path segment: letters and digits only, so it cannot add segments.
            if account_sid.is_empty() || !account_sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(NotifyError::Config(
                    "twilio: `account_sid` must be letters and digits".into(),
                ));
            }
            require_sender(from, "twilio: `from`")?;
            let base = base_url.as_deref().unwrap_or(TWILIO_BASE_URL);
            let url = format!(
                "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                base.trim_end_matches('/')
            );
            Arc::new(TwilioSender {
                client: http_client()?,
                url: endpoint(&url, "twilio base_url")?,
                account_sid: account_sid.clone(),
                auth_token: SecretString::from(auth_token.as_str()),
                from: from.clone(),
            })
        }
        SmsConfig::Messagebird {
            access_key,
            originator,
            base_url,
        } => {
            require_sender(originator, "messagebird: `originator`")?;
            let base = base_url.as_deref().unwrap_or(MESSAGEBIRD_BASE_URL);
            let url = format!("{}/messages", base.trim_end_matches('/'));
            Arc::new(MessagebirdSender {
                client: http_client()?,
                url: endpoint(&url, "messagebird base_url")?,
                access_key: SecretString::from(format!("AccessKey {access_key}")),
                originator: originator.clone(),
            })
        }
    })
}

/// Appends JSON lines to a file; see [`SmsConfig::File`].
#[derive(Debug)]
struct FileSender {
    path: PathBuf,
    /// One writer at a time, so concurrent sends never interleave within a line.
    lock: tokio::sync::Mutex<()>,
}

#[async_trait::async_trait]
impl SmsSender for FileSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), NotifyError> {
        check_number(&message.to)?;
        #[expect(
            clippy::disallowed_methods,
            reason = "the development outbox only records when a line was written; no rule depends on it"
        )]
        let now = std::time::SystemTime::now();
        let sent_at = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut line = serde_json::to_vec(&serde_json::json!({
            "to": message.to,
            "text": message.text,
            "sent_at": sent_at,
        }))
        .map_err(|e| NotifyError::Outbox(e.into()))?;
        line.push(b'\n');

        let _guard = self.lock.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(NotifyError::Outbox)?;
        file.write_all(&line).await.map_err(NotifyError::Outbox)?;
        file.flush().await.map_err(NotifyError::Outbox)?;
        tracing::info!(
            target: "gatehouse::notify",
            to = %masked(&message.to),
            "SMS written to the development outbox"
        );
        Ok(())
    }
}

/// Logs that a message would have been sent; see [`SmsConfig::Log`].
#[derive(Debug)]
struct LogSender;

#[async_trait::async_trait]
impl SmsSender for LogSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), NotifyError> {
        check_number(&message.to)?;
        tracing::info!(
            target: "gatehouse::notify",
            to = %masked(&message.to),
            chars = message.text.chars().count(),
            "SMS not delivered: the log sender only records that one was sent"
        );
        Ok(())
    }
}

/// POSTs JSON to the operator's own gateway; see [`SmsConfig::Webhook`].
#[derive(Debug)]
struct WebhookSender {
    client: reqwest::Client,
    url: Url,
    bearer_token: SecretString,
}

#[async_trait::async_trait]
impl SmsSender for WebhookSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), NotifyError> {
        check_number(&message.to)?;
        let request = self
            .client
            .post(self.url.clone())
            .bearer_auth(self.bearer_token.expose_secret())
            .json(&serde_json::json!({ "to": message.to, "text": message.text }));
        deliver("webhook", request, &message.to).await
    }
}

/// Twilio's `Messages.json`; see [`SmsConfig::Twilio`].
#[derive(Debug)]
struct TwilioSender {
    client: reqwest::Client,
    url: Url,
    account_sid: String,
    auth_token: SecretString,
    from: String,
}

#[async_trait::async_trait]
impl SmsSender for TwilioSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), NotifyError> {
        check_number(&message.to)?;
        let form = [
            ("To", message.to.as_str()),
            ("From", self.from.as_str()),
            ("Body", message.text.as_str()),
        ];
        let request = self
            .client
            .post(self.url.clone())
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&form);
        deliver("twilio", request, &message.to).await
    }
}

/// MessageBird's `POST /messages`; see [`SmsConfig::Messagebird`].
#[derive(Debug)]
struct MessagebirdSender {
    client: reqwest::Client,
    url: Url,
    /// The whole header value, `AccessKey <key>`.
    access_key: SecretString,
    originator: String,
}

#[async_trait::async_trait]
impl SmsSender for MessagebirdSender {
    async fn send(&self, message: &SmsMessage) -> Result<(), NotifyError> {
        check_number(&message.to)?;
        let request = self
            .client
            .post(self.url.clone())
            .header(
                reqwest::header::AUTHORIZATION,
                self.access_key.expose_secret(),
            )
            .json(&serde_json::json!({
                "originator": self.originator,
                "recipients": [message.to],
                "body": message.text,
            }));
        deliver("messagebird", request, &message.to).await
    }
}

/// Sends a provider request; any 2xx is success, and nothing of the message reaches the error.
async fn deliver(
    channel: &'static str,
    request: reqwest::RequestBuilder,
    to: &str,
) -> Result<(), NotifyError> {
    let response = request.send().await.map_err(|e| NotifyError::Unavailable {
        channel,
        reason: http_failure(&e),
    })?;
    let status = response.status();
    if !status.is_success() {
        tracing::warn!(
            target: "gatehouse::notify",
            channel,
            status = status.as_u16(),
            to = %masked(to),
            "SMS provider refused the message"
        );
        return Err(NotifyError::Rejected {
            channel,
            status: status.as_u16(),
        });
    }
    tracing::info!(target: "gatehouse::notify", channel, to = %masked(to), "SMS accepted");
    Ok(())
}

/// Describes a failed request without its URL (a webhook URL may hold a secret).
fn http_failure(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        error.to_string()
    }
}

/// The one HTTP client a sender keeps: a timeout, and no redirects (a redirect would carry the
/// credentials somewhere we did not configure).
fn http_client() -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| NotifyError::Config(format!("sms: the HTTP client: {e}")))
}

/// Parses a provider URL: `https`, or `http` to this machine only (credentials travel with it).
fn endpoint(url: &str, what: &str) -> Result<Url, NotifyError> {
    let url = Url::parse(url).map_err(|e| NotifyError::Config(format!("sms: {what}: {e}")))?;
    let loopback = url.host_str().is_some_and(crate::email::is_loopback);
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(NotifyError::Config(format!(
            "sms: {what} must be https (http only for a loopback host)"
        ))),
    }
}

fn require_sender(value: &str, what: &str) -> Result<(), NotifyError> {
    if value.trim().is_empty() {
        return Err(NotifyError::Config(format!("sms: {what} is empty")));
    }
    Ok(())
}

/// E.164: a `+`, then 8 to 15 digits, the first not 0 (ITU-T E.164 §6: at most 15 digits).
fn check_number(to: &str) -> Result<(), NotifyError> {
    let Some(digits) = to.strip_prefix('+') else {
        return Err(NotifyError::InvalidRecipient);
    };
    let valid = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !valid {
        return Err(NotifyError::InvalidRecipient);
    }
    Ok(())
}

/// A number as it may appear in a log: only its last two digits.
fn masked(to: &str) -> String {
    let tail: String = to
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use wiremock::matchers::{body_json, body_string, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::{SmsConfig, SmsMessage, check_number, masked, sms_sender};
    use crate::NotifyError;

    fn code_message() -> SmsMessage {
        SmsMessage {
            to: "+31612345678".into(),
            text: "Your Gatehouse code: 493027".into(),
        }
    }

    #[test]
    fn e164_numbers_are_accepted() {
        for to in ["+31612345678", "+14155552671", "+861012345678901"] {
            assert!(check_number(to).is_ok(), "{to}");
        }
    }

    #[test]
    fn non_e164_numbers_are_refused() {
        for to in [
            "",
            "31612345678",
            "+",
            "+0612345678",
            "+31 6 12345678",
            "+3161234567890123",
            "+3161",
            "+3161234567a",
        ] {
            assert!(check_number(to).is_err(), "{to}");
        }
    }

    #[test]
    fn masking_keeps_only_the_last_two_digits() {
        assert_eq!(masked("+31612345678"), "…78");
        assert_eq!(masked("7"), "…7");
    }

    #[tokio::test]
    async fn webhook_posts_json_with_a_bearer_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hooks/sms"))
            .and(header("authorization", "Bearer s3cret-token"))
            .and(header("content-type", "application/json"))
            .and(body_json(serde_json::json!({
                "to": "+31612345678",
                "text": "Your Gatehouse code: 493027",
            })))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let sender = sms_sender(&SmsConfig::Webhook {
            url: format!("{}/hooks/sms", server.uri()),
            bearer_token: "s3cret-token".into(),
        })
        .unwrap();

        sender.send(&code_message()).await.unwrap();
    }

    #[tokio::test]
    async fn twilio_posts_a_form_with_basic_auth() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/2010-04-01/Accounts/AC0123abc/Messages.json"))
            // base64("AC0123abc:tw-token")
            .and(header("authorization", "Basic QUMwMTIzYWJjOnR3LXRva2Vu"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string(
                "To=%2B31612345678&From=%2B3197010203040&Body=Your+Gatehouse+code%3A+493027",
            ))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM1"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let sender = sms_sender(&SmsConfig::Twilio {
            account_sid: "AC0123abc".into(),
            auth_token: "tw-token".into(),
            from: "+3197010203040".into(),
            base_url: Some(format!("{}/", server.uri())),
        })
        .unwrap();

        sender.send(&code_message()).await.unwrap();
    }

    #[tokio::test]
    async fn messagebird_posts_json_with_an_access_key() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/messages"))
            .and(header("authorization", "AccessKey live_abc123"))
            .and(header("content-type", "application/json"))
            .and(body_json(serde_json::json!({
                "originator": "Gatehouse",
                "recipients": ["+31612345678"],
                "body": "Your Gatehouse code: 493027",
            })))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
        let sender = sms_sender(&SmsConfig::Messagebird {
            access_key: "live_abc123".into(),
            originator: "Gatehouse".into(),
            base_url: Some(server.uri()),
        })
        .unwrap();

        sender.send(&code_message()).await.unwrap();
    }

    #[tokio::test]
    async fn a_refusal_is_an_error_with_the_status_but_not_the_text() {
        let server = MockServer::start().await;
        // The body echoes the message, as some providers do; it must not reach the error.
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(400)
                    .set_body_string("invalid To for body 'Your Gatehouse code: 493027'"),
            )
            .mount(&server)
            .await;
        let configs = [
            SmsConfig::Webhook {
                url: server.uri(),
                bearer_token: "s3cret-token".into(),
            },
            SmsConfig::Twilio {
                account_sid: "AC0123abc".into(),
                auth_token: "tw-token".into(),
                from: "+3197010203040".into(),
                base_url: Some(server.uri()),
            },
            SmsConfig::Messagebird {
                access_key: "live_abc123".into(),
                originator: "Gatehouse".into(),
                base_url: Some(server.uri()),
            },
        ];
        for config in configs {
            let error = sms_sender(&config)
                .unwrap()
                .send(&code_message())
                .await
                .unwrap_err();
            assert!(
                matches!(error, NotifyError::Rejected { status: 400, .. }),
                "{error:?}"
            );
            for shown in [error.to_string(), format!("{error:?}")] {
                assert!(shown.contains("400"), "{shown}");
                assert!(!shown.contains("493027"), "{shown}");
                assert!(!shown.contains("+31612345678"), "{shown}");
            }
            assert!(!error.is_transient());
        }
    }

    #[tokio::test]
    async fn a_server_error_is_transient() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        let sender = sms_sender(&SmsConfig::Webhook {
            url: server.uri(),
            bearer_token: "t".into(),
        })
        .unwrap();
        let error = sender.send(&code_message()).await.unwrap_err();
        assert!(matches!(error, NotifyError::Rejected { status: 503, .. }));
        assert!(error.is_transient());
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(307).insert_header("location", "/elsewhere"))
            .mount(&server)
            .await;
        Mock::given(path("/elsewhere"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let sender = sms_sender(&SmsConfig::Webhook {
            url: format!("{}/hook", server.uri()),
            bearer_token: "t".into(),
        })
        .unwrap();
        let error = sender.send(&code_message()).await.unwrap_err();
        assert!(matches!(error, NotifyError::Rejected { status: 307, .. }));
    }

    #[tokio::test]
    async fn a_bad_number_is_refused_before_any_request() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(204))
            .expect(0)
            .mount(&server)
            .await;
        let sender = sms_sender(&SmsConfig::Webhook {
            url: server.uri(),
            bearer_token: "t".into(),
        })
        .unwrap();
        let message = SmsMessage {
            to: "0612345678".into(),
            ..code_message()
        };
        assert!(matches!(
            sender.send(&message).await,
            Err(NotifyError::InvalidRecipient)
        ));
    }

    #[test]
    fn http_endpoints_off_this_machine_are_refused() {
        let refused = [
            SmsConfig::Webhook {
                url: "http://sms.example.test/hook".into(),
                bearer_token: "t".into(),
            },
            SmsConfig::Webhook {
                url: "not a url".into(),
                bearer_token: "t".into(),
            },
            SmsConfig::Messagebird {
                access_key: "k".into(),
                originator: "Gatehouse".into(),
                base_url: Some("http://10.1.2.3".into()),
            },
        ];
        for config in refused {
            assert!(
                matches!(sms_sender(&config), Err(NotifyError::Config(_))),
                "{config:?}"
            );
        }
        let accepted = SmsConfig::Webhook {
            url: "https://sms.example.test/hook".into(),
            bearer_token: "t".into(),
        };
        assert!(sms_sender(&accepted).is_ok());
    }

    #[test]
    fn a_twilio_sid_that_could_change_the_path_is_refused() {
        for sid in ["", "AC1/../../x", "AC1?x=1"] {
            let config = SmsConfig::Twilio {
                account_sid: sid.into(),
                auth_token: "t".into(),
                from: "+3197010203040".into(),
                base_url: None,
            };
            assert!(matches!(sms_sender(&config), Err(NotifyError::Config(_))));
        }
    }

    #[test]
    fn provider_defaults_build() {
        let twilio = SmsConfig::Twilio {
            account_sid: "AC0123abc".into(),
            auth_token: "t".into(),
            from: "+3197010203040".into(),
            base_url: None,
        };
        let messagebird = SmsConfig::Messagebird {
            access_key: "k".into(),
            originator: "Gatehouse".into(),
            base_url: None,
        };
        assert!(sms_sender(&twilio).is_ok());
        assert!(sms_sender(&messagebird).is_ok());
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let configs = [
            SmsConfig::Webhook {
                url: "https://sms.example.test".into(),
                bearer_token: "secret-1".into(),
            },
            SmsConfig::Twilio {
                account_sid: "AC1".into(),
                auth_token: "secret-1".into(),
                from: "+3197010203040".into(),
                base_url: None,
            },
            SmsConfig::Messagebird {
                access_key: "secret-1".into(),
                originator: "Gatehouse".into(),
                base_url: None,
            },
        ];
        for config in configs {
            assert!(!format!("{config:?}").contains("secret-1"));
            let sender = sms_sender(&config).unwrap();
            assert!(!format!("{sender:?}").contains("secret-1"), "{sender:?}");
        }
    }

    #[tokio::test]
    async fn file_outbox_appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.jsonl");
        let sender = sms_sender(&SmsConfig::File { path: path.clone() }).unwrap();
        let second = SmsMessage {
            to: "+14155552671".into(),
            text: "line one\nline \"two\"".into(),
        };

        sender.send(&code_message()).await.unwrap();
        sender.send(&second).await.unwrap();

        let written = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = written
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["to"], "+31612345678");
        assert_eq!(lines[0]["text"], "Your Gatehouse code: 493027");
        assert_eq!(lines[1]["to"], "+14155552671");
        assert_eq!(lines[1]["text"], "line one\nline \"two\"");
        for line in &lines {
            assert!(line["sent_at"].as_u64().unwrap() > 1_600_000_000);
            assert_eq!(line.as_object().unwrap().len(), 3);
        }
    }

    #[tokio::test]
    async fn file_outbox_keeps_earlier_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sms.jsonl");
        std::fs::write(
            &path,
            "{\"to\":\"+31600000000\",\"text\":\"old\",\"sent_at\":1}\n",
        )
        .unwrap();
        let sender = sms_sender(&SmsConfig::File { path: path.clone() }).unwrap();

        sender.send(&code_message()).await.unwrap();

        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written.lines().count(), 2);
        assert!(written.starts_with("{\"to\":\"+31600000000\""));
    }

    /// Collects everything a `tracing` subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_log_sender_logs_neither_the_text_nor_the_number() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let sender = sms_sender(&SmsConfig::Log).unwrap();

        sender.send(&code_message()).await.unwrap();

        let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("log sender"), "{logged}");
        assert!(logged.contains("…78"), "{logged}");
        assert!(!logged.contains("493027"), "{logged}");
        assert!(!logged.contains("Your Gatehouse code"), "{logged}");
        assert!(!logged.contains("612345678"), "{logged}");
    }

    #[test]
    fn config_reads_every_sender() {
        let cases = [
            r#"{"sender":"log"}"#,
            r#"{"sender":"file","path":"data/sms.jsonl"}"#,
            r#"{"sender":"webhook","url":"https://x.test","bearer_token":"t"}"#,
            r#"{"sender":"twilio","account_sid":"AC1","auth_token":"t","from":"+3197010203040"}"#,
            r#"{"sender":"messagebird","access_key":"k","originator":"Gatehouse"}"#,
        ];
        for case in cases {
            assert!(serde_json::from_str::<SmsConfig>(case).is_ok(), "{case}");
        }
        let typo = r#"{"sender":"webhook","url":"https://x.test","bearer_tokn":"t"}"#;
        assert!(serde_json::from_str::<SmsConfig>(typo).is_err());
    }
}
