//! Themes: minijinja templates and static files under `themes/<name>/`, loaded and compiled once at start.

use std::collections::HashMap;
use std::path::Path;

use minijinja::Environment;
use serde::Serialize;

use crate::error::LoginError;

/// Every page and message a theme must provide.
pub const PAGES: &[&str] = &[
    "home.html",
    "login.html",
    "consent.html",
    "error.html",
    "logout.html",
    "logged_out.html",
    "demo.html",
    "mfa.html",
    "recovery_used.html",
    "account.html",
    "totp_enrol.html",
    "recovery_codes.html",
    "code_enrol.html",
    "passkey_register.html",
    "passkey_sign_in.html",
    "mfa_setup.html",
    "confirm_password.html",
    "password_reset.html",
    "password_reset.txt",
    "email_code.txt",
    "sms_code.txt",
    "email_notice.txt",
];

#[derive(Debug)]
pub struct Theme {
    env: Environment<'static>,
    assets: HashMap<String, Asset>,
}

#[derive(Debug, Clone)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Theme {
    /// Loads `dir` (e.g. `themes/default`): every `*.html` is compiled now, so a template error stops
    /// start-up with the file and line instead of showing a blank page later.
    pub fn load(dir: &Path) -> Result<Self, LoginError> {
        let mut env = Environment::new();
        // HTML pages are escaped as HTML; plain-text e-mails and SMS (`*.txt`) as text.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        let entries = std::fs::read_dir(dir)
            .map_err(|e| LoginError::Theme(format!("{}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if !(name.ends_with(".html") || name.ends_with(".txt")) {
                continue;
            }
            let source = std::fs::read_to_string(&path)
                .map_err(|e| LoginError::Theme(format!("{}: {e}", path.display())))?;
            env.add_template_owned(name.clone(), source).map_err(|e| {
                LoginError::Theme(format!(
                    "{}: line {}: {}",
                    path.display(),
                    e.line().unwrap_or(0),
                    e
                ))
            })?;
        }
        for page in PAGES {
            if env.get_template(page).is_err() {
                return Err(LoginError::Theme(format!(
                    "{}: missing template {page}",
                    dir.display()
                )));
            }
        }
        let mut assets = HashMap::new();
        if let Ok(entries) = std::fs::read_dir(dir.join("static")) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned)
                else {
                    continue;
                };
                let bytes = std::fs::read(&path)
                    .map_err(|e| LoginError::Theme(format!("{}: {e}", path.display())))?;
                assets.insert(
                    name.clone(),
                    Asset {
                        content_type: content_type(&name),
                        bytes,
                    },
                );
            }
        }
        Ok(Self { env, assets })
    }

    pub fn render(&self, page: &str, context: impl Serialize) -> Result<String, LoginError> {
        let render_error = |e: minijinja::Error| LoginError::Render {
            template: page.to_owned(),
            message: format!("{e:#}"),
        };
        self.env
            .get_template(page)
            .map_err(render_error)?
            .render(context)
            .map_err(render_error)
    }

    pub fn asset(&self, name: &str) -> Option<&Asset> {
        self.assets.get(name)
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_theme() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../themes/default")
    }

    #[test]
    fn default_theme_loads_with_every_page() {
        let theme = Theme::load(&default_theme()).unwrap();
        assert!(theme.asset("style.css").is_some());
    }

    #[test]
    fn template_error_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("login.html"), "line one\n{% if %}\n").unwrap();
        let err = Theme::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("login.html") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn theme_missing_a_page_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("login.html"), "ok").unwrap();
        let err = Theme::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("missing template"), "{err}");
    }
}
