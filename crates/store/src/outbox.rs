//! The e-mail outbox. A message is written with the change that causes it (in the same transaction
//! where the change is made here), and a worker sends it later with retries: nothing is lost while the
//! mail server is away. A worker takes a due message by moving its due time forward by a lease in one
//! conditional update, so two workers (on two nodes) never take the same message at once.

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
        for message in due {
            let claimed = outbox_message::Entity::update_many()
                .col_expr(
                    outbox_message::Column::NextAttemptAt,
                    Expr::value(now + lease),
                )
                .filter(outbox_message::Column::Id.eq(&message.id))
                .filter(outbox_message::Column::NextAttemptAt.eq(message.next_attempt_at))
                .filter(outbox_message::Column::SentAt.is_null())
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
                });
            }
        }
        Ok(taken)
    }

    pub async fn mark_email_sent(&self, id: &str, now: i64) -> Result<(), StoreError> {
        outbox_message::Entity::update_many()
            .col_expr(outbox_message::Column::SentAt, Expr::value(now))
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::col(outbox_message::Column::Attempts).add(1),
            )
            .filter(outbox_message::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Records a failed attempt: the message is due again at `retry_at`, or, with `None`, given up.
    pub async fn mark_email_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
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
        update
            .filter(outbox_message::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(())
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
        db.mark_email_sent(&sent, 2).await.unwrap();
        db.mark_email_failed(&failing, "421 try later", Some(30), 2)
            .await
            .unwrap();
        db.mark_email_failed(&gone, "550 no such user", None, 2)
            .await
            .unwrap();
        assert_eq!(db.outbox_depth().await.unwrap(), 1);
        assert!(db.take_due_emails(29, 60, 10).await.unwrap().is_empty());
        let again = db.take_due_emails(1000, 60, 10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(
            (again[0].id.as_str(), again[0].attempts),
            (failing.as_str(), 1)
        );
    }
}
