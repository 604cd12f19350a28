//! The outbox worker: sends the e-mail that pages queue (codes, reset codes, security notices), with
//! retries and back-off, so a message survives a mail server that is away for a while and a restart
//! of Gatehouse. Pages wake the worker when they queue something; it also looks on its own every
//! `poll_interval`, for retries and for messages other nodes queued.

use std::time::Duration;

use gatehouse_notify::email::EmailMessage;
use gatehouse_store::StoreError;
use gatehouse_store::outbox::{OutgoingEmail, QueuedEmail};

use crate::state::AppState;

/// How the worker paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPolicy {
    /// How often the worker looks for due messages when nobody wakes it.
    pub poll_interval: Duration,
    /// Attempts before a message is given up (and logged as an error).
    pub max_attempts: i32,
}

impl Default for OutboxPolicy {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            max_attempts: 30,
        }
    }
}

/// How long a worker holds a message it is sending before another may take it, in seconds.
pub const LEASE_SECONDS: i64 = 120;
/// The longest one message may take to send, well inside its lease: a mail server that stalls
/// (each SMTP command may take 30 s) must not keep a message past its lease, when another worker
/// would take it and send it as well. A send cut off here counts as a failed attempt.
const SEND_DEADLINE: Duration = Duration::from_secs(60);
const _: () = assert!((SEND_DEADLINE.as_secs() as i64) < LEASE_SECONDS);
/// Messages taken per round.
const BATCH: u64 = 20;

/// Seconds to wait before attempt `attempts + 1`: 15 s, doubling, at most 15 minutes.
pub fn retry_delay(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.clamp(0, 10)).unwrap_or(0);
    (15_i64 << doublings).min(15 * 60)
}

impl AppState {
    /// Queues an e-mail and wakes the worker.
    pub async fn queue_email(&self, mail: &OutgoingEmail) -> Result<(), StoreError> {
        self.0.db.enqueue_email(mail, self.0.provider.now()).await?;
        self.wake_outbox();
        Ok(())
    }

    /// Tells the worker that something was queued (by a method that wrote it with other changes).
    pub fn wake_outbox(&self) {
        self.0.outbox_wake.notify_one();
    }
}

/// Runs the worker until `stop` resolves; a round in progress finishes first.
pub async fn run(state: AppState, stop: impl std::future::Future<Output = ()>) {
    let policy = state.0.settings.outbox;
    tokio::pin!(stop);
    loop {
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = %e, "the outbox could not be read; trying again shortly");
        }
        tokio::select! {
            () = &mut stop => return,
            () = state.0.outbox_wake.notified() => {}
            () = tokio::time::sleep(policy.poll_interval) => {}
        }
    }
}

/// Sends every message due now; returns how many were sent.
pub async fn deliver_due(state: &AppState) -> Result<usize, StoreError> {
    let Some(sender) = state.0.email.as_ref() else {
        return Ok(0);
    };
    let mut sent = 0;
    loop {
        let now = state.0.provider.now();
        let due = state
            .0
            .db
            .take_due_emails(now, LEASE_SECONDS, BATCH)
            .await?;
        if due.is_empty() {
            return Ok(sent);
        }
        for QueuedEmail {
            id,
            email,
            attempts,
            leased_until,
        } in due
        {
            let message = EmailMessage {
                to: email.to,
                subject: email.subject,
                text: email.text,
                html: email.html,
                id: Some(id.clone()),
            };
            let started = state.0.provider.now();
            let outcome = match tokio::time::timeout(SEND_DEADLINE, sender.send(&message)).await {
                Ok(outcome) => outcome.map_err(|e| e.to_string()),
                Err(_) => Err("sending took longer than its deadline".to_owned()),
            };
            let now = state.0.provider.now();
            match outcome {
                Ok(()) => {
                    state.0.db.mark_email_sent(&id, now).await?;
                    sent += 1;
                }
                Err(e) => {
                    let tried = attempts + 1;
                    // The back-off counts from the attempt's start, and never ends before the
                    // attempt did (a send cut off at its deadline).
                    let retry_at = (tried < state.0.settings.outbox.max_attempts)
                        .then(|| (started + retry_delay(attempts)).max(now));
                    if retry_at.is_some() {
                        tracing::warn!(error = %e, attempts = tried, "sending an e-mail failed; it will be retried");
                    } else {
                        tracing::error!(error = %e, attempts = tried, "sending an e-mail failed for good");
                    }
                    if !state
                        .0
                        .db
                        .mark_email_failed(&id, leased_until, &e, retry_at, now)
                        .await?
                    {
                        tracing::warn!(
                            "an e-mail's lease ran out while it was being sent; the worker holding it now decides"
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_fifteen_seconds_to_fifteen_minutes() {
        let delays: Vec<i64> = (0..8).map(retry_delay).collect();
        assert_eq!(delays, [15, 30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(retry_delay(1000), 900);
        assert_eq!(retry_delay(-1), 15);
    }
}
