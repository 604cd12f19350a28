//! E-mail: one plain-text message to one recipient, over SMTP or into a directory of `.eml` files.
//!
//! [`EmailSender::new`] checks the configuration and builds the lettre transport once; the sender
//! is cheap to clone and share. Each [`EmailSender::send`] opens one SMTP connection (there is no
//! connection pool: Gatehouse sends a few messages a minute, and a pool would tie the sender to a
//! running tokio runtime from the moment it is built).
//!
//! Messages are `text/plain; charset=utf-8` with a `Date` and a `Message-ID` whose domain is the
//! `from` address's. lettre picks the transfer encoding (7bit, quoted-printable or base64).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::NotifyError;

/// How long one SMTP exchange may take before the send fails as unavailable.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// One e-mail: a recipient, a subject line and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The recipient, `user@example.com` or `Name <user@example.com>`.
    pub to: String,
    /// The subject line; it may not contain a line break.
    pub subject: String,
    /// The body, sent as `text/plain; charset=utf-8`.
    pub text: String,
    /// An HTML alternative of the same text (`multipart/alternative`), when the theme has one.
    pub html: Option<String>,
    /// A stable id for this message (the outbox's): its `Message-ID` is made from it, so a retry
    /// after an uncertain failure is recognisable as the same message. A fresh one when `None`.
    pub id: Option<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// No TLS at all: only for a relay or test sink on this machine. A username and password are
    /// refused with it unless the host is a loopback address.
    Plain,
    /// STARTTLS, required: the send fails if the server does not offer it (usually port 587).
    Starttls,
    /// TLS from the first byte, "implicit TLS" (usually port 465).
    Tls,
}

/// Where e-mail goes, as written in the configuration file under `transport = "..."`.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "transport", rename_all = "snake_case", deny_unknown_fields)]
pub enum EmailConfig {
    /// An SMTP server (a relay, or a provider's submission port).
    Smtp {
        /// The server's host name; with TLS, the name its certificate must carry.
        host: String,
        /// Usually 587 with `starttls`, 465 with `tls`.
        port: u16,
        /// How the connection is protected.
        security: SmtpSecurity,
        /// The SMTP AUTH user; give both `username` and `password`, or neither.
        #[serde(default)]
        username: Option<String>,
        /// The SMTP AUTH password.
        #[serde(default)]
        password: Option<String>,
        /// The sender, `noreply@example.com` or `Gatehouse <noreply@example.com>`.
        from: String,
    },
    /// Development: each message becomes one `<uuid>.eml` file in `dir` (created if missing).
    File {
        /// The directory the `.eml` files are written to.
        dir: PathBuf,
        /// The sender, as for SMTP.
        from: String,
    },
}

/// Written by hand so that the SMTP password never reaches a log through `{:?}`.
impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Smtp {
                host,
                port,
                security,
                username,
                password,
                from,
            } => f
                .debug_struct("Smtp")
                .field("host", host)
                .field("port", port)
                .field("security", security)
                .field("username", username)
                .field("password", &password.as_ref().map(|_| "[REDACTED]"))
                .field("from", from)
                .finish(),
            Self::File { dir, from } => f
                .debug_struct("File")
                .field("dir", dir)
                .field("from", from)
                .finish(),
        }
    }
}

/// Sends [`EmailMessage`]s through the transport chosen by an [`EmailConfig`].
#[derive(Debug, Clone)]
pub struct EmailSender {
    from: Mailbox,
    transport: Transport,
}

/// The lettre transport, built once.
#[derive(Debug, Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl EmailSender {
    /// Checks the configuration (the `from` address, the credentials) and builds the transport.
    ///
    /// Does no network I/O and needs no runtime; the `file` transport creates its directory.
    pub fn new(config: &EmailConfig) -> Result<Self, NotifyError> {
        match config {
            EmailConfig::Smtp {
                host,
                port,
                security,
                username,
                password,
                from,
            } => {
                let from = parse_from(from)?;
                let credentials = credentials(host, *security, username, password)?;
                let transport = smtp_transport(host, *port, *security, credentials)?;
                Ok(Self {
                    from,
                    transport: Transport::Smtp(transport),
                })
            }
            EmailConfig::File { dir, from } => {
                let from = parse_from(from)?;
                std::fs::create_dir_all(dir).map_err(NotifyError::Outbox)?;
                Ok(Self {
                    from,
                    transport: Transport::File(AsyncFileTransport::new(dir)),
                })
            }
        }
    }

    /// Sends one message. Fails with [`NotifyError::InvalidRecipient`] for a bad `to` address.
    pub async fn send(&self, message: &EmailMessage) -> Result<(), NotifyError> {
        let email = self.build(message)?;
        match &self.transport {
            Transport::Smtp(transport) => transport.send(email).await.map(drop).map_err(smtp_error),
            Transport::File(transport) => transport
                .send(email)
                .await
                .map(drop)
                .map_err(|e| NotifyError::Outbox(std::io::Error::other(e))),
        }
    }

    /// Turns an [`EmailMessage`] into a MIME message with our headers.
    fn build(&self, message: &EmailMessage) -> Result<Message, NotifyError> {
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|_| NotifyError::InvalidRecipient)?;
        // RFC 5322 §2.2: a header field is one line; a break here would start a new header.
        if message.subject.contains(['\r', '\n']) {
            return Err(NotifyError::InvalidMessage(
                "the subject contains a line break".into(),
            ));
        }
        // RFC 5322 §3.6.4: "<unique@domain>"; the sender's domain keeps it ours.
        let local = match &message.id {
            Some(id) if id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => id.clone(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let message_id = format!("<{local}@{}>", self.from.email.domain());
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(message_id))
            .date_now();
        let built = match &message.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(message.text.clone()),
        };
        built.map_err(|e| NotifyError::InvalidMessage(e.to_string()))
    }
}

/// Parses the configured sender; a bad one is a configuration error, caught at start-up.
fn parse_from(from: &str) -> Result<Mailbox, NotifyError> {
    from.parse()
        .map_err(|e| NotifyError::Config(format!("email `from` is not a valid address: {e}")))
}

/// Both or neither of username and password; never a password over an unencrypted network link.
fn credentials(
    host: &str,
    security: SmtpSecurity,
    username: &Option<String>,
    password: &Option<String>,
) -> Result<Option<Credentials>, NotifyError> {
    let credentials = match (username, password) {
        (None, None) => return Ok(None),
        (Some(username), Some(password)) => Credentials::new(username.clone(), password.clone()),
        _ => {
            return Err(NotifyError::Config(
                "email: give both `username` and `password`, or neither".into(),
            ));
        }
    };
    if security == SmtpSecurity::Plain && !is_loopback(host) {
        return Err(NotifyError::Config(
            "email: a password may only be sent with `security = \"plain\"` to a loopback host; use starttls or tls"
                .into(),
        ));
    }
    Ok(Some(credentials))
}

/// Builds the SMTP transport for one of the three security modes.
fn smtp_transport(
    host: &str,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<Credentials>,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_owned())
            .map_err(|e| NotifyError::Config(format!("email: TLS for `{host}`: {e}")))
    };
    let builder = match security {
        SmtpSecurity::Plain => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(Tls::None)
        }
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(Tls::Required(tls(host)?)),
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .tls(Tls::Wrapper(tls(host)?)),
    };
    let builder = builder.port(port).timeout(Some(SMTP_TIMEOUT));
    let builder = match credentials {
        Some(credentials) => builder.credentials(credentials),
        None => builder,
    };
    Ok(builder.build())
}

/// Maps lettre's SMTP error without its text: a server's reply may quote the recipient.
fn smtp_error(error: lettre::transport::smtp::Error) -> NotifyError {
    if let Some(code) = error.status()
        && (error.is_permanent() || error.is_transient())
    {
        return NotifyError::Rejected {
            channel: "smtp",
            status: u16::from(code),
        };
    }
    let reason = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_tls() {
        "the TLS handshake failed".to_owned()
    } else {
        error.to_string()
    };
    NotifyError::Unavailable {
        channel: "smtp",
        reason,
    }
}

/// Whether a configured host name is this machine.
pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{EmailConfig, EmailMessage, EmailSender, SmtpSecurity};
    use crate::NotifyError;
    use crate::smtp_sink::SmtpSink;

    fn smtp_config(sink: &SmtpSink) -> EmailConfig {
        EmailConfig::Smtp {
            host: sink.addr.ip().to_string(),
            port: sink.addr.port(),
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            from: "Gatehouse <noreply@gatehouse.test>".into(),
        }
    }

    fn code_message() -> EmailMessage {
        EmailMessage {
            to: "ada@example.test".into(),
            subject: "Your sign-in code".into(),
            text: "Your code is 493027.\nIt expires in 10 minutes. — Gatehouse".into(),
            html: None,
            id: None,
        }
    }

    #[tokio::test]
    async fn smtp_delivers_recipient_subject_and_body() {
        let sink = SmtpSink::start().await;
        let sender = EmailSender::new(&smtp_config(&sink)).unwrap();

        sender.send(&code_message()).await.unwrap();

        let received = sink.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(received.len(), 1);
        let email = &received[0];
        assert_eq!(email.from, "noreply@gatehouse.test");
        assert_eq!(email.to, vec!["ada@example.test".to_owned()]);
        assert_eq!(email.subject().as_deref(), Some("Your sign-in code"));
        assert_eq!(email.header("To").as_deref(), Some("ada@example.test"));
        assert!(email.body_text().contains("Your code is 493027."));
        assert!(email.body_text().contains("— Gatehouse"));
        assert_eq!(email.find_code(6).as_deref(), Some("493027"));
    }

    #[tokio::test]
    async fn smtp_message_has_date_message_id_and_plain_text_type() {
        let sink = SmtpSink::start().await;
        let sender = EmailSender::new(&smtp_config(&sink)).unwrap();

        sender.send(&code_message()).await.unwrap();

        let email = &sink.wait_for(1, Duration::from_secs(10)).await[0];
        assert!(email.header("Date").is_some());
        let id = email.header("Message-ID").unwrap();
        assert!(
            id.starts_with('<') && id.ends_with("@gatehouse.test>"),
            "{id}"
        );
        assert_eq!(
            email.header("Content-Type").as_deref(),
            Some("text/plain; charset=utf-8")
        );
    }

    #[tokio::test]
    async fn one_sender_sends_many_messages() {
        let sink = SmtpSink::start().await;
        let sender = EmailSender::new(&smtp_config(&sink)).unwrap();

        for n in 0..3 {
            let message = EmailMessage {
                to: format!("user{n}@example.test"),
                ..code_message()
            };
            sender.send(&message).await.unwrap();
        }

        let received = sink.wait_for(3, Duration::from_secs(10)).await;
        let recipients: Vec<_> = received.iter().map(|e| e.to[0].clone()).collect();
        assert_eq!(
            recipients,
            [
                "user0@example.test",
                "user1@example.test",
                "user2@example.test"
            ]
        );
    }

    #[tokio::test]
    async fn a_body_line_starting_with_a_dot_arrives_intact() {
        let sink = SmtpSink::start().await;
        let sender = EmailSender::new(&smtp_config(&sink)).unwrap();
        let message = EmailMessage {
            text: "first\n.\n..two dots\nlast".into(),
            ..code_message()
        };

        sender.send(&message).await.unwrap();

        let email = &sink.wait_for(1, Duration::from_secs(10)).await[0];
        assert_eq!(email.body_text(), "first\n.\n..two dots\nlast");
    }

    #[tokio::test]
    async fn an_outbox_id_gives_a_stable_message_id_and_html_comes_as_an_alternative() {
        let sink = SmtpSink::start().await;
        let sender = EmailSender::new(&smtp_config(&sink)).unwrap();
        let message = EmailMessage {
            html: Some("<p>Your code is <b>493027</b>.</p>".into()),
            id: Some("0190-abc".into()),
            ..code_message()
        };
        sender.send(&message).await.unwrap();
        sender.send(&message).await.unwrap();

        let mail = sink.wait_for(2, Duration::from_secs(10)).await;
        let ids: Vec<_> = mail.iter().map(|m| m.header("Message-ID")).collect();
        assert_eq!(ids[0].as_deref(), Some("<0190-abc@gatehouse.test>"));
        assert_eq!(ids[0], ids[1], "a retry is recognisably the same message");
        assert!(mail[0].data.contains("multipart/alternative"));
        assert_eq!(
            mail[0].body_html().as_deref(),
            Some("<p>Your code is <b>493027</b>.</p>")
        );
        assert_eq!(mail[0].body_text(), code_message().text);
    }

    #[tokio::test]
    async fn non_ascii_subject_and_body_round_trip() {
        let sink = SmtpSink::start().await;
        let sender = EmailSender::new(&smtp_config(&sink)).unwrap();
        let message = EmailMessage {
            to: "ada@example.test".into(),
            subject: "Ваш код для входа — 493027".into(),
            text: "Ваш код: 493027. Никому его не сообщайте.".into(),
            html: None,
            id: None,
        };

        sender.send(&message).await.unwrap();

        let email = &sink.wait_for(1, Duration::from_secs(10)).await[0];
        assert!(email.header("Subject").unwrap().is_ascii());
        assert_eq!(
            email.subject().as_deref(),
            Some("Ваш код для входа — 493027")
        );
        assert_eq!(
            email.body_text(),
            "Ваш код: 493027. Никому его не сообщайте."
        );
        assert_eq!(email.find_code(6).as_deref(), Some("493027"));
    }

    #[tokio::test]
    async fn file_transport_writes_an_eml_file() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox");
        let sender = EmailSender::new(&EmailConfig::File {
            dir: outbox.clone(),
            from: "noreply@gatehouse.test".into(),
        })
        .unwrap();

        sender.send(&code_message()).await.unwrap();

        let files: Vec<_> = std::fs::read_dir(&outbox)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        let email = crate::smtp_sink::ReceivedEmail {
            from: String::new(),
            to: Vec::new(),
            data: raw,
        };
        assert_eq!(email.header("To").as_deref(), Some("ada@example.test"));
        assert_eq!(email.subject().as_deref(), Some("Your sign-in code"));
        assert_eq!(email.find_code(6).as_deref(), Some("493027"));
    }

    #[test]
    fn a_bad_from_address_is_refused() {
        for from in ["", "not an address", "noreply@", "<@example.test>"] {
            let config = EmailConfig::File {
                dir: std::env::temp_dir(),
                from: from.into(),
            };
            let error = EmailSender::new(&config).unwrap_err();
            assert!(matches!(error, NotifyError::Config(_)), "{from:?}: {error}");
        }
    }

    #[test]
    fn half_a_credential_is_refused() {
        let config = EmailConfig::Smtp {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::Plain,
            username: Some("gatehouse".into()),
            password: None,
            from: "noreply@gatehouse.test".into(),
        };
        assert!(matches!(
            EmailSender::new(&config),
            Err(NotifyError::Config(_))
        ));
    }

    #[test]
    fn a_password_in_the_clear_is_refused_off_this_machine() {
        let config = |host: &str| EmailConfig::Smtp {
            host: host.into(),
            port: 25,
            security: SmtpSecurity::Plain,
            username: Some("gatehouse".into()),
            password: Some("hunter2".into()),
            from: "noreply@gatehouse.test".into(),
        };
        assert!(matches!(
            EmailSender::new(&config("mail.example.test")),
            Err(NotifyError::Config(_))
        ));
        assert!(EmailSender::new(&config("127.0.0.1")).is_ok());
    }

    #[test]
    fn tls_modes_build_without_a_runtime() {
        for security in [SmtpSecurity::Starttls, SmtpSecurity::Tls] {
            let config = EmailConfig::Smtp {
                host: "mail.example.test".into(),
                port: 465,
                security,
                username: Some("gatehouse".into()),
                password: Some("hunter2".into()),
                from: "noreply@gatehouse.test".into(),
            };
            assert!(EmailSender::new(&config).is_ok(), "{security:?}");
        }
    }

    #[tokio::test]
    async fn a_bad_recipient_is_refused_before_connecting() {
        let sender = EmailSender::new(&EmailConfig::Smtp {
            host: "127.0.0.1".into(),
            port: 9,
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            from: "noreply@gatehouse.test".into(),
        })
        .unwrap();
        let message = EmailMessage {
            to: "ada at example".into(),
            ..code_message()
        };
        assert!(matches!(
            sender.send(&message).await,
            Err(NotifyError::InvalidRecipient)
        ));
    }

    #[tokio::test]
    async fn a_line_break_in_the_subject_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sender = EmailSender::new(&EmailConfig::File {
            dir: dir.path().into(),
            from: "noreply@gatehouse.test".into(),
        })
        .unwrap();
        let message = EmailMessage {
            subject: "Hello\r\nBcc: eve@example.test".into(),
            ..code_message()
        };
        assert!(matches!(
            sender.send(&message).await,
            Err(NotifyError::InvalidMessage(_))
        ));
    }

    #[tokio::test]
    async fn an_unreachable_server_is_unavailable() {
        // Bind, note the port, and close: nothing listens there any more.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let sender = EmailSender::new(&EmailConfig::Smtp {
            host: "127.0.0.1".into(),
            port,
            security: SmtpSecurity::Plain,
            username: None,
            password: None,
            from: "noreply@gatehouse.test".into(),
        })
        .unwrap();
        let error = sender.send(&code_message()).await.unwrap_err();
        assert!(
            matches!(
                error,
                NotifyError::Unavailable {
                    channel: "smtp",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.is_transient(), "{error}");
        assert!(!error.to_string().contains("493027"));
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let config = EmailConfig::Smtp {
            host: "mail.example.test".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: Some("gatehouse".into()),
            password: Some("hunter2".into()),
            from: "noreply@gatehouse.test".into(),
        };
        assert!(!format!("{config:?}").contains("hunter2"));
        let sender = EmailSender::new(&config).unwrap();
        assert!(!format!("{sender:?}").contains("hunter2"));
    }

    #[test]
    fn config_reads_from_toml_shaped_json() {
        let config: EmailConfig = serde_json::from_str(
            r#"{"transport":"smtp","host":"mail.example.test","port":465,"security":"tls","from":"noreply@gatehouse.test"}"#,
        )
        .unwrap();
        assert!(matches!(
            config,
            EmailConfig::Smtp {
                security: SmtpSecurity::Tls,
                username: None,
                ..
            }
        ));
        let unknown = serde_json::from_str::<EmailConfig>(
            r#"{"transport":"file","dir":"/tmp","from":"a@b.test","fom":"typo"}"#,
        );
        assert!(unknown.is_err());
    }
}
