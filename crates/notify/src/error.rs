//! The notify crate's error type.
//!
//! Policy: no variant carries a message's text (it may hold a sign-in code), a full recipient
//! address, a credential, or a provider's reply body (which may echo any of those). A status code
//! and a short reason are enough to act on.

/// Why a message was not sent, or a sender could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The configuration cannot work (a bad `from` address or URL, half a credential): fix it.
    #[error("notify configuration: {0}")]
    Config(String),
    /// The recipient is not a valid e-mail address or E.164 phone number: ask the user again.
    #[error("the recipient address or number is not valid")]
    InvalidRecipient,
    /// The message cannot be sent as given (for example a line break in a subject).
    #[error("the message cannot be built: {0}")]
    InvalidMessage(String),
    /// The mail server or provider could not be reached, or timed out: try again later.
    #[error("{channel} is unavailable: {reason}")]
    Unavailable {
        /// `smtp`, `twilio`, `messagebird` or `webhook`.
        channel: &'static str,
        /// What went wrong, without the message or its recipient.
        reason: String,
    },
    /// The mail server or provider answered, and refused the message.
    #[error("{channel} refused the message with status {status}")]
    Rejected {
        /// `smtp`, `twilio`, `messagebird` or `webhook`.
        channel: &'static str,
        /// The HTTP status, or the SMTP reply code.
        status: u16,
    },
    /// A development outbox (the `.eml` directory or the SMS file) could not be written.
    #[error("writing the development outbox failed: {0}")]
    Outbox(std::io::Error),
}

impl NotifyError {
    /// Whether sending the same message again later may succeed: the server was unreachable, or
    /// answered "try later" (HTTP 408, 429 or 5xx; SMTP 4xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable { .. } => true,
            Self::Rejected {
                channel: "smtp",
                status,
            } => (400..500).contains(status),
            Self::Rejected { status, .. } => matches!(status, 408 | 429 | 500..=599),
            Self::Config(_)
            | Self::InvalidRecipient
            | Self::InvalidMessage(_)
            | Self::Outbox(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NotifyError;

    #[test]
    fn provider_overload_is_transient() {
        let cases = [
            ("twilio", 429, true),
            ("twilio", 503, true),
            ("webhook", 408, true),
            ("messagebird", 401, false),
            ("twilio", 400, false),
            ("smtp", 451, true),
            ("smtp", 550, false),
        ];
        for (channel, status, transient) in cases {
            let error = NotifyError::Rejected { channel, status };
            assert_eq!(error.is_transient(), transient, "{channel} {status}");
        }
    }
}
