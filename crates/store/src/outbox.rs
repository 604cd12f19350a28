//! The e-mail outbox. A message is written with the change that causes it (in the same transaction
//! where the change is made here), and a worker sends it later with retries: nothing is lost while the
//! mail server is away. A worker takes a due message by moving its due time forward by a lease in one
//! conditional update, so two workers (on two nodes) never take the same message at once.
//!
//! The lease's end (`next_attempt_at` as the taking worker set it) is also its fencing token: only
//! the worker that holds the current lease may schedule a retry or give the message up, so a worker
//! whose lease ran out while it was sending cannot move the lease another worker now holds. That a
//! message went out is recorded by whichever worker sent it, first one wins.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use crate::Database;
use crate::entities::outbox_message;
use crate::error::StoreError;

/// An e-mail to be sent: recipient, subject, plain text and, optionally, an HTML alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// A message a worker has taken for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEmail {
    /// Stable across retries: senders derive the `Message-ID` from it, so a receiver can tell a
    /// repeat from a new message.
    pub id: String,
    pub email: OutgoingEmail,
    /// Attempts before this one.
    pub attempts: i32,
    /// When this worker's lease ends; it identifies the lease when the attempt is recorded.
    pub leased_until: i64,
}

/// Writes `mail` to the outbox through `conn` (a connection or an open transaction).
pub(crate) async fn enqueue_in<C: ConnectionTrait>(
    conn: &C,
    mail: &OutgoingEmail,
    now: i64,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        id: Set(id.clone()),
        recipient: Set(mail.to.clone()),
        subject: Set(mail.subject.clone()),
        body_text: Set(mail.text.clone()),
        body_html: Set(mail.html.clone()),
        created_at: Set(now),
        next_attempt_at: Set(now),
        attempts: Set(0),
        sent_at: Set(None),
        failed_at: Set(None),
        last_error: Set(None),
    })
    .exec(conn)
    .await?;
    Ok(id)
}

impl Database {
    /// Puts a message in the outbox; returns its id.
    pub async fn enqueue_email(
        &self,
        mail: &OutgoingEmail,
        now: i64,
    ) -> Result<String, StoreError> {
        enqueue_in(&self.conn, mail, now).await
    }

    /// Takes up to `limit` messages due at `now`, each leased for `lease` seconds: a worker that dies
    /// while sending leaves its messages to be taken again when the lease ends.
    pub async fn take_due_emails(
        &self,
        now: i64,
        lease: i64,
        limit: u64,
    ) -> Result<Vec<QueuedEmail>, StoreError> {
        let due = outbox_message::Entity::find()
            .filter(outbox_message::Column::SentAt.is_null())
            .filter(outbox_message::Column::FailedAt.is_null())
            .filter(outbox_message::Column::NextAttemptAt.lte(now))
            .order_by_asc(outbox_message::Column::NextAttemptAt)
            .limit(limit)
            .all(&self.conn)
            .await?;
        let mut taken = Vec::with_capacity(due.len());
        let leased_until = now + lease;
        for message in due {
            let claimed = outbox_message::Entity::update_many()
                .col_expr(
                    outbox_message::Column::NextAttemptAt,
                    Expr::value(leased_until),
                )
                .filter(outbox_message::Column::Id.eq(&message.id))
                .filter(outbox_message::Column::NextAttemptAt.eq(message.next_attempt_at))
                .filter(outbox_message::Column::SentAt.is_null())
                .filter(outbox_message::Column::FailedAt.is_null())
                .exec(&self.conn)
                .await?;
            if claimed.rows_affected == 1 {
                taken.push(QueuedEmail {
                    id: message.id,
                    email: OutgoingEmail {
                        to: message.recipient,
                        subject: message.subject,
                        text: message.body_text,
                        html: message.body_html,
                    },
                    attempts: message.attempts,
                    leased_until,
                });
            }
        }
        Ok(taken)
    }

    /// Records that the message went out. Whoever sent it first records it; a second worker that sent
    /// it too (after the first one's lease ran out) changes nothing. `false` when it was already sent.
    pub async fn mark_email_sent(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let updated = outbox_message::Entity::update_many()
            .col_expr(outbox_message::Column::SentAt, Expr::value(now))
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::col(outbox_message::Column::Attempts).add(1),
            )
            .filter(outbox_message::Column::Id.eq(id))
            .filter(outbox_message::Column::SentAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Records a failed attempt by the worker holding the lease that ends at `leased_until`: the
    /// message is due again at `retry_at`, or, with `None`, given up. `false` (and nothing changes)
    /// when that lease is no longer the message's: it ran out and another worker took the message,
    /// or the message was sent meanwhile.
    pub async fn mark_email_failed(
        &self,
        id: &str,
        leased_until: i64,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut update = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::col(outbox_message::Column::Attempts).add(1),
            )
            .col_expr(outbox_message::Column::LastError, Expr::value(error));
        update = match retry_at {
            Some(at) => update.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(at)),
            None => update.col_expr(outbox_message::Column::FailedAt, Expr::value(now)),
        };
        let updated = update
            .filter(outbox_message::Column::Id.eq(id))
            .filter(outbox_message::Column::NextAttemptAt.eq(leased_until))
            .filter(outbox_message::Column::SentAt.is_null())
            .filter(outbox_message::Column::FailedAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Messages not yet sent and not given up.
    pub async fn outbox_depth(&self) -> Result<u64, StoreError> {
        Ok(outbox_message::Entity::find()
            .filter(outbox_message::Column::SentAt.is_null())
            .filter(outbox_message::Column::FailedAt.is_null())
            .count(&self.conn)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_db;

    fn mail(to: &str) -> OutgoingEmail {
        OutgoingEmail {
            to: to.into(),
            subject: "Hello".into(),
            text: "Body".into(),
            html: None,
        }
    }

    #[tokio::test]
    async fn a_message_is_taken_by_one_worker_until_its_lease_ends() {
        let (db, _dir) = test_db::fresh().await;
        let id = db
            .enqueue_email(&mail("ann@example.com"), 100)
            .await
            .unwrap();
        assert_eq!(
            db.take_due_emails(99, 60, 10).await.unwrap(),
            vec![],
            "not due yet"
        );
        let taken = db.take_due_emails(100, 60, 10).await.unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].id, id);
        assert!(
            db.take_due_emails(120, 60, 10).await.unwrap().is_empty(),
            "leased"
        );
        assert_eq!(
            db.take_due_emails(160, 60, 10).await.unwrap().len(),
            1,
            "lease over"
        );
    }

    #[tokio::test]
    async fn sent_messages_are_never_taken_again_and_failures_wait_for_their_retry() {
        let (db, _dir) = test_db::fresh().await;
        let sent = db.enqueue_email(&mail("a@example.com"), 1).await.unwrap();
        let failing = db.enqueue_email(&mail("b@example.com"), 1).await.unwrap();
        let gone = db.enqueue_email(&mail("c@example.com"), 1).await.unwrap();
        assert_eq!(db.take_due_emails(1, 60, 10).await.unwrap().len(), 3);
        assert!(db.mark_email_sent(&sent, 2).await.unwrap());
        assert!(
            db.mark_email_failed(&failing, 61, "421 try later", Some(30), 2)
                .await
                .unwrap()
        );
        assert!(
            db.mark_email_failed(&gone, 61, "550 no such user", None, 2)
                .await
                .unwrap()
        );
        assert_eq!(db.outbox_depth().await.unwrap(), 1);
        assert!(db.take_due_emails(29, 60, 10).await.unwrap().is_empty());
        let again = db.take_due_emails(1000, 60, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(
            (again[0].id.as_str(), again[0].attempts),
            (failing.as_str(), 1)
        );
    }

    #[tokio::test]
    async fn a_worker_whose_lease_ran_out_cannot_reschedule_the_message_another_worker_holds() {
        let (db, _dir) = test_db::fresh().await;
        let id = db
            .enqueue_email(&mail("ann@example.com"), 100)
            .await
            .unwrap();
        let first = db.take_due_emails(100, 60, 10).await.unwrap();
        assert_eq!(first[0].leased_until, 160);
        // The first worker is still talking to a slow mail server when its lease ends.
        let second = db.take_due_emails(160, 60, 10).await.unwrap();
        assert_eq!(
            (second[0].id.as_str(), second[0].leased_until),
            (id.as_str(), 220)
        );
        assert!(
            !db.mark_email_failed(&id, 160, "timed out", Some(175), 170)
                .await
                .unwrap(),
            "the first worker's failure does not move the second worker's lease"
        );
        assert!(
            db.take_due_emails(200, 60, 10).await.unwrap().is_empty(),
            "still leased by the second worker"
        );
        assert!(
            db.mark_email_failed(&id, 220, "421 try later", Some(235), 205)
                .await
                .unwrap()
        );
        let third = db.take_due_emails(235, 60, 10).await.unwrap();
        assert_eq!((third[0].attempts, third[0].leased_until), (1, 295));
    }

    #[tokio::test]
    async fn a_message_is_recorded_as_sent_once_and_then_no_failure_counts() {
        let (db, _dir) = test_db::fresh().await;
        let id = db
            .enqueue_email(&mail("ann@example.com"), 100)
            .await
            .unwrap();
        db.take_due_emails(100, 60, 10).await.unwrap();
        let second = db.take_due_emails(160, 60, 10).await.unwrap();
        assert!(
            db.mark_email_sent(&id, 165).await.unwrap(),
            "the first to send it"
        );
        assert!(!db.mark_email_sent(&id, 166).await.unwrap(), "already sent");
        assert!(
            !db.mark_email_failed(&id, second[0].leased_until, "timed out", Some(300), 170)
                .await
                .unwrap()
        );
        assert_eq!(db.outbox_depth().await.unwrap(), 0);
        assert!(db.take_due_emails(10_000, 60, 10).await.unwrap().is_empty());
    }
}
