//! Live configuration: client and organisation files are read again when they change (a file watch,
//! debounced, so an editor's burst of writes is one reload) and on SIGHUP. The whole configuration is
//! loaded and validated as at start; only when every file is good are the new clients and
//! organisations swapped in, at once. A broken file is refused with a log line naming it, and what was
//! in force stays in force. Other settings (listen address, database, lifetimes…) need a restart.
//!
//! With `dev = true` the themes folder is watched too, and every reload compiles the themes again:
//! a theme author sees a changed template, style sheet or translation at the next page load.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_oidc::Provider;
use gatehouse_server::AppState;
use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};

use crate::app::{Gatehouse, client_registry};
use crate::config;

/// Quiet time after the last file event before a reload.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// What a reload needs: where the configuration is, and where to put the new one.
#[derive(Debug, Clone)]
pub(crate) struct Reloader {
    source: PathBuf,
    watched: Vec<PathBuf>,
    /// The folder holding every theme, watched with everything under it (`dev = true` only).
    themes_dir: Option<PathBuf>,
    provider: Arc<Provider>,
    state: AppState,
}

impl Reloader {
    pub(crate) fn new(gatehouse: &Gatehouse) -> Self {
        Self {
            source: gatehouse.config.source.clone(),
            watched: vec![
                gatehouse.config.file.clients_dir.clone(),
                gatehouse.config.file.organisations_dir.clone(),
            ],
            themes_dir: gatehouse.config.file.dev.then(|| {
                let default = &gatehouse.config.file.theme_dir;
                default.parent().unwrap_or(default).to_owned()
            }),
            provider: gatehouse.provider.clone(),
            state: gatehouse.state.clone(),
        }
    }

    /// Loads and checks every file, then swaps the clients and organisations in.
    fn reload(&self) -> anyhow::Result<()> {
        let fresh = config::load(&self.source)?;
        let themes = match self.themes_dir {
            Some(_) => Some(crate::app::load_themes(&fresh)?),
            None => None,
        };
        let has_theme = |name: &str| match &themes {
            Some(themes) => themes.get(Some(name)).name() == name,
            None => self.state.has_theme(name),
        };
        // Themes are compiled at start; a file naming one that is not loaded would silently get the
        // default, so it is refused instead.
        let named = fresh
            .clients
            .iter()
            .filter_map(|c| Some((format!("client {:?}", c.id), c.theme.as_deref()?)))
            .chain(
                fresh
                    .organisations
                    .iter()
                    .map(|o| (format!("organisation {:?}", o.id), o.theme.as_str())),
            );
        for (owner, theme) in named {
            anyhow::ensure!(
                has_theme(theme),
                "{owner}: theme {theme:?} is not loaded (themes load at start: restart to add one)"
            );
        }
        let registry = client_registry(&fresh)?;
        let clients = registry.all().len();
        self.provider.clients.replace(registry);
        self.state
            .replace_organisations(&fresh.organisations, fresh.password_policies.clone());
        if let Some(themes) = themes {
            self.state.replace_themes(themes);
        }
        tracing::info!(
            clients,
            organisations = fresh.organisations.len(),
            "configuration reloaded"
        );
        Ok(())
    }

    fn reload_or_keep(&self, why: &str) {
        if let Err(e) = self.reload() {
            for line in format!("{e:#}").lines() {
                tracing::error!(
                    trigger = why,
                    problem = line,
                    "configuration reload refused; the previous configuration stays in force"
                );
            }
        }
    }

    /// Starts watching now (when `watch` is on: a change from this moment on is seen) and returns the
    /// task that reloads on file changes and on SIGHUP until `stop` turns true.
    pub(crate) fn start(
        self,
        watch: bool,
        stop: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let (changed, changes) = mpsc::unbounded_channel::<()>();
        let watcher = if watch { self.watch(changed) } else { None };
        let hangup = hangup_signal();
        self.run(watcher, changes, hangup, stop)
    }

    async fn run(
        self,
        _watcher: Option<notify::RecommendedWatcher>,
        mut changes: mpsc::UnboundedReceiver<()>,
        mut hangup: Hangup,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                Some(()) = changes.recv() => {
                    // Let a burst of writes settle.
                    while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, changes.recv()).await {}
                    self.reload_or_keep("file changed");
                }
                () = next_hangup(&mut hangup) => self.reload_or_keep("SIGHUP"),
                _ = stop.changed() => return,
            }
        }
    }

    /// Watches the client and organisation folders; `None` (and a warning) when that is impossible.
    fn watch(&self, changed: mpsc::UnboundedSender<()>) -> Option<notify::RecommendedWatcher> {
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && matches!(
                        event.kind,
                        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                    )
                {
                    let _ = changed.send(());
                }
            })
            .inspect_err(|e| tracing::warn!(error = %e, "cannot watch configuration files"))
            .ok()?;
        for dir in &self.watched {
            if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
                tracing::warn!(folder = %dir.display(), error = %e, "cannot watch configuration folder");
            }
        }
        if let Some(dir) = &self.themes_dir
            && let Err(e) = watcher.watch(dir, RecursiveMode::Recursive)
        {
            tracing::warn!(folder = %dir.display(), error = %e, "cannot watch the themes folder");
        }
        Some(watcher)
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP"))
        .ok()
}
#[cfg(not(unix))]
fn hangup_signal() -> Hangup {}

#[cfg(unix)]
async fn next_hangup(hangup: &mut Hangup) {
    let Some(signal) = hangup else {
        return std::future::pending().await;
    };
    if signal.recv().await.is_none() {
        std::future::pending::<()>().await;
    }
}
#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}
