//! Gatehouse's outgoing messages: e-mail and SMS, and nothing about what they say.
//!
//! Callers build the text (a sign-in code, a reset link) and hand it to a sender chosen once from
//! configuration: [`email::EmailSender`] speaks SMTP or writes `.eml` files, and [`sms::sms_sender`]
//! returns an [`sms::SmsSender`] for Twilio, MessageBird, a webhook, or a development outbox. Every
//! failure is a [`NotifyError`]; none of them, and no log line here, carries a message's text.
//!
//! With the `test-sink` feature, [`smtp_sink`] runs a small SMTP server on 127.0.0.1 that other
//! crates' tests can send to and read back.

pub mod email;
pub mod error;
pub mod sms;
#[cfg(any(test, feature = "test-sink"))]
pub mod smtp_sink;

pub use error::NotifyError;
