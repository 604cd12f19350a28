//! Deleting what can no longer be used: expired sessions, pending sign-ins, codes, refresh tokens,
//! revocation records, WebAuthn ceremonies, remembered devices, password resets, sign-in links, and
//! attempt counters whose window no longer counts. Every row removed here would be refused anyway;
//! removing it keeps tables small and leaves no stale hashes behind. E-mails the outbox has sent (or
//! given up on) go a day later: their text may hold a code, which is nothing to keep.

use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::Database;
use crate::entities::{
    attempt_counter, auth_flow, authorization_code, ceremony, outbox_message, password_reset,
    refresh_token, remembered_device, revoked_access_token, session, sign_in_link,
};

/// How long a sent (or abandoned) e-mail stays in the outbox, for an operator looking into a complaint.
pub const SENT_EMAIL_KEPT_SECONDS: i64 = 24 * 3600;
use crate::error::StoreError;

/// How many rows one pass removed, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub sessions: u64,
    pub pending_sign_ins: u64,
    pub authorization_codes: u64,
    pub refresh_tokens: u64,
    pub revoked_access_tokens: u64,
    pub ceremonies: u64,
    pub remembered_devices: u64,
    pub password_resets: u64,
    pub sign_in_links: u64,
    pub sent_emails: u64,
    pub attempt_counters: u64,
}

impl Removed {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.pending_sign_ins
            + self.authorization_codes
            + self.refresh_tokens
            + self.revoked_access_tokens
            + self.ceremonies
            + self.remembered_devices
            + self.password_resets
            + self.sign_in_links
            + self.sent_emails
            + self.attempt_counters
    }
}

impl Database {
    /// Removes every row that expired before `now`, and the attempt counters of windows that started
    /// before `counters_before`. Counters kept in window 0 (the consecutive-failure lock, which only an
    /// operator or a successful sign-in clears) are never removed.
    pub async fn remove_expired(
        &self,
        now: i64,
        counters_before: i64,
    ) -> Result<Removed, StoreError> {
        let conn = &self.conn;
        Ok(Removed {
            sessions: session::Entity::delete_many()
                .filter(session::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            pending_sign_ins: auth_flow::Entity::delete_many()
                .filter(auth_flow::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            authorization_codes: authorization_code::Entity::delete_many()
                .filter(authorization_code::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            refresh_tokens: refresh_token::Entity::delete_many()
                .filter(refresh_token::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            revoked_access_tokens: revoked_access_token::Entity::delete_many()
                .filter(revoked_access_token::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            ceremonies: ceremony::Entity::delete_many()
                .filter(ceremony::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            remembered_devices: remembered_device::Entity::delete_many()
                .filter(remembered_device::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            password_resets: password_reset::Entity::delete_many()
                .filter(password_reset::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            sign_in_links: sign_in_link::Entity::delete_many()
                .filter(sign_in_link::Column::ExpiresAt.lt(now))
                .exec(conn)
                .await?
                .rows_affected,
            sent_emails: outbox_message::Entity::delete_many()
                .filter(
                    outbox_message::Column::SentAt
                        .lt(now - SENT_EMAIL_KEPT_SECONDS)
                        .or(outbox_message::Column::FailedAt.lt(now - SENT_EMAIL_KEPT_SECONDS)),
                )
                .exec(conn)
                .await?
                .rows_affected,
            attempt_counters: attempt_counter::Entity::delete_many()
                .filter(attempt_counter::Column::WindowStart.gt(0))
                .filter(attempt_counter::Column::WindowStart.lt(counters_before))
                .exec(conn)
                .await?
                .rows_affected,
        })
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_oidc::Store as _;
    use gatehouse_oidc::store::{CodeRecord, RefreshTokenRecord};
    use sea_orm::PaginatorTrait as _;

    use super::*;
    use crate::flows::PendingSignIn;
    use crate::sessions::BrowserSession;
    use crate::test_db;

    /// One row of every kind that expires at `expires_at`, named by `tag`.
    async fn rows(db: &Database, tag: &str, expires_at: i64) {
        db.create_session(&BrowserSession {
            id_hash: format!("session-{tag}"),
            user_id: "u".into(),
            auth_time: 1,
            amr: vec!["pwd".into()],
            acr: None,
            created_at: 1,
            expires_at,
        })
        .await
        .unwrap();
        db.insert_pending_sign_in(&PendingSignIn {
            id_hash: format!("flow-{tag}"),
            browser_hash: "b".into(),
            request: "{}".into(),
            state: "{}".into(),
            created_at: 1,
            expires_at,
        })
        .await
        .unwrap();
        db.insert_grant_and_code(
            &test_db::grant(&format!("grant-{tag}")),
            &CodeRecord {
                code_hash: format!("code-{tag}"),
                grant_id: format!("grant-{tag}"),
                client_id: "c".into(),
                redirect_uri: "https://app.example/cb".into(),
                code_challenge: None,
                nonce: None,
                created_at: 1,
                expires_at,
                used_at: None,
            },
        )
        .await
        .unwrap();
        db.insert_refresh_token(&RefreshTokenRecord {
            token_hash: format!("refresh-{tag}"),
            grant_id: format!("grant-{tag}"),
            client_id: "c".into(),
            created_at: 1,
            expires_at,
            used_at: None,
        })
        .await
        .unwrap();
        db.revoke_access_token(&format!("jti-{tag}"), expires_at)
            .await
            .unwrap();
        db.insert_ceremony(&format!("ceremony-{tag}"), "p", None, "{}", expires_at)
            .await
            .unwrap();
        db.remember_device(&format!("device-{tag}"), "u", "Firefox", 1, expires_at)
            .await
            .unwrap();
        use sea_orm::ActiveValue::Set;
        password_reset::Entity::insert(password_reset::ActiveModel {
            id_hash: Set(format!("reset-{tag}")),
            browser_hash: Set("b".into()),
            user_id: Set(None),
            email: Set("ann@example.com".into()),
            code: Set("hash".into()),
            attempts: Set(0),
            created_at: Set(1),
            expires_at: Set(expires_at),
            verified_at: Set(None),
            used_at: Set(None),
        })
        .exec(&db.conn)
        .await
        .unwrap();
        sign_in_link::Entity::insert(sign_in_link::ActiveModel {
            token_hash: Set(format!("link-{tag}")),
            flow_hash: Set("f".into()),
            browser_hash: Set("b".into()),
            user_id: Set("u".into()),
            created_at: Set(1),
            expires_at: Set(expires_at),
            used_at: Set(None),
        })
        .exec(&db.conn)
        .await
        .unwrap();
        // An e-mail sent at `expires_at - SENT_EMAIL_KEPT_SECONDS`: due for deletion at `expires_at`.
        outbox_message::Entity::insert(outbox_message::ActiveModel {
            id: Set(format!("mail-{tag}")),
            recipient: Set("ann@example.com".into()),
            subject: Set("s".into()),
            body_text: Set("t".into()),
            body_html: Set(None),
            created_at: Set(1),
            next_attempt_at: Set(1),
            attempts: Set(1),
            sent_at: Set(Some(expires_at - SENT_EMAIL_KEPT_SECONDS)),
            failed_at: Set(None),
            last_error: Set(None),
        })
        .exec(&db.conn)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn expired_rows_go_and_live_rows_stay() {
        let (db, _guard) = test_db::fresh().await;
        rows(&db, "expired", 99).await;
        rows(&db, "live", 101).await;
        db.record_failure("sign-in:address:old", 10).await.unwrap();
        db.record_failure("sign-in:address:recent", 90)
            .await
            .unwrap();
        db.record_failure("mfa:consecutive:u", 0).await.unwrap();

        let removed = db.remove_expired(100, 50).await.unwrap();
        assert_eq!(
            removed,
            Removed {
                sessions: 1,
                pending_sign_ins: 1,
                authorization_codes: 1,
                refresh_tokens: 1,
                revoked_access_tokens: 1,
                ceremonies: 1,
                remembered_devices: 1,
                password_resets: 1,
                sign_in_links: 1,
                sent_emails: 1,
                attempt_counters: 1,
            }
        );
        assert!(
            db.live_session("session-live", 100)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            db.pending_sign_in("flow-live", 100)
                .await
                .unwrap()
                .is_some()
        );
        assert!(db.code_with_grant("code-live").await.unwrap().is_some());
        assert!(db.code_with_grant("code-expired").await.unwrap().is_none());
        assert!(
            db.find_refresh_token("refresh-live")
                .await
                .unwrap()
                .is_some()
        );
        assert!(db.access_token_revoked("jti-live").await.unwrap());
        assert!(!db.access_token_revoked("jti-expired").await.unwrap());
        assert_eq!(
            session::Entity::find().count(&db.conn).await.unwrap(),
            1,
            "the expired session row is gone, not only hidden"
        );
        assert_eq!(
            db.failures_since("sign-in:address:recent", 0)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            db.failures_since("mfa:consecutive:u", 0).await.unwrap(),
            1,
            "the consecutive-failure lock outlives every window"
        );
        assert_eq!(db.remove_expired(100, 50).await.unwrap().total(), 0);
    }
}
