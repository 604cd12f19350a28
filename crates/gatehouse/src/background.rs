//! Tasks that run beside the HTTP server: reloading signing keys (so a rotation by any node or by
//! `gatehouse keys rotate` is picked up), deleting expired rows, and reloading client and organisation
//! files. They stop together, after the last request, when the server shuts down.

use std::time::Duration;

use gatehouse_store::Database;
use gatehouse_store::retention::Removed;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, interval_at};

use crate::app::Gatehouse;
use crate::config::Config;
use crate::reload::Reloader;

/// The running background tasks.
#[derive(Debug)]
pub(crate) struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    pub(crate) fn start(gatehouse: &Gatehouse) -> Self {
        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();

        // Keys rotated elsewhere take over signing within KEY_PUBLISH_AHEAD seconds.
        let provider = gatehouse.provider.clone();
        let period = Duration::from_secs(gatehouse_oidc::KEY_PUBLISH_AHEAD.unsigned_abs());
        tasks.push(every(period, stop.subscribe(), move || {
            let provider = provider.clone();
            async move {
                if let Err(e) = provider.reload_keys().await {
                    tracing::warn!(error = %e, "reloading signing keys failed");
                }
            }
        }));

        let (db, config, provider) = (
            gatehouse.db.clone(),
            gatehouse.config.clone(),
            gatehouse.provider.clone(),
        );
        let period = Duration::from_secs(config.file.retention_interval_seconds.max(1));
        tasks.push(every(period, stop.subscribe(), move || {
            let (db, config, now) = (db.clone(), config.clone(), provider.now());
            async move {
                if let Err(e) = remove_expired(&db, &config, now).await {
                    tracing::warn!(error = %e, "deleting expired rows failed");
                }
            }
        }));

        // argon2's working memory goes back to the system a few seconds after the last sign-in, and
        // whatever else was freed goes back too.
        let passwords = gatehouse.passwords.clone();
        tasks.push(every(Duration::from_secs(3), stop.subscribe(), move || {
            passwords.release_idle_memory();
            crate::allocator::release_free_memory();
            std::future::ready(())
        }));

        tasks.push(tokio::spawn(Reloader::new(gatehouse).start(
            gatehouse.config.file.watch_config || gatehouse.config.file.dev,
            stop.subscribe(),
        )));
        Self { stop, tasks }
    }

    /// Completes when the tasks are told to stop.
    pub(crate) fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.stop.subscribe();
        async move {
            // Only ever changes to `true`; a dropped sender means stopping too.
            let _ = stop.changed().await;
        }
    }

    /// Tells every task to stop and waits for them; a pass under way finishes first.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Runs `job` every `period` (first after one period) until `stop` turns true.
fn every<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, job: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = interval_at(Instant::now() + period, period);
        loop {
            tokio::select! {
                _ = tick.tick() => job().await,
                _ = stop.changed() => return,
            }
        }
    })
}

/// Deletes what expired before `now`, and attempt counters older than three of the longest counting
/// window (a window counts for at most two of its lengths).
async fn remove_expired(db: &Database, config: &Config, now: i64) -> anyhow::Result<Removed> {
    let longest_window = config
        .file
        .login_throttle
        .window_seconds
        .max(config.file.mfa.lock_seconds)
        .max(1);
    let removed = db.remove_expired(now, now - 3 * longest_window).await?;
    if removed.total() > 0 {
        tracing::info!(
            sessions = removed.sessions,
            pending_sign_ins = removed.pending_sign_ins,
            authorization_codes = removed.authorization_codes,
            refresh_tokens = removed.refresh_tokens,
            revoked_access_tokens = removed.revoked_access_tokens,
            ceremonies = removed.ceremonies,
            remembered_devices = removed.remembered_devices,
            password_resets = removed.password_resets,
            sign_in_links = removed.sign_in_links,
            sent_emails = removed.sent_emails,
            attempt_counters = removed.attempt_counters,
            "deleted expired rows"
        );
    }
    Ok(removed)
}
