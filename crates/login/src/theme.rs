//! Themes: minijinja templates and static files under `themes/<name>/`, loaded and compiled once at start.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use minijinja::Environment;
use serde::Serialize;

use crate::error::LoginError;
use crate::i18n::{Arg, DEFAULT_LANGUAGE, Translations, fluent_args};

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
    "backup_link_sent.html",
    "backup_link.txt",
    "username.html",
    "username_link.txt",
    "email.html",
    "email_code.txt",
    "sms_code.txt",
    "email_notice.txt",
];

/// A theme's `theme.toml`: the name people see, an optional logo (a file under `static/`), and colours.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeFile {
    #[serde(default)]
    pub name: Option<String>,
    /// A file under the theme's `static/` folder, e.g. `logo.svg`.
    #[serde(default)]
    pub logo: Option<String>,
    /// CSS colours by role: `accent`, `accent_ink`, `ink`, `muted`, `background`, `card`.
    #[serde(default)]
    pub colours: std::collections::BTreeMap<String, String>,
}

const COLOUR_ROLES: &[(&str, &str)] = &[
    ("accent", "--accent"),
    ("accent_ink", "--accent-ink"),
    ("ink", "--ink"),
    ("muted", "--muted"),
    ("background", "--bg"),
    ("card", "--card"),
];

#[derive(Debug)]
pub struct Theme {
    /// The folder name, e.g. `default`; part of asset URLs.
    name: String,
    env: Environment<'static>,
    assets: HashMap<String, Asset>,
    translations: Arc<Translations>,
}

#[derive(Debug, Clone)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// The first hex digits of the content's SHA-256: part of its URL, so a changed file gets a new
    /// URL and the old one may be cached for good.
    pub version: String,
}

impl Theme {
    /// Loads a complete theme from `dir` (e.g. `themes/default`): every template is compiled now, so
    /// a template error stops start-up with the file and line instead of showing a blank page later.
    pub fn load(dir: &Path) -> Result<Self, LoginError> {
        Self::load_layers(&[dir])
    }

    /// Loads the theme in `dir` over `base`: the theme's templates and static files replace the base's
    /// of the same name; everything else comes from the base.
    pub fn load_over(dir: &Path, base: &Path) -> Result<Self, LoginError> {
        Self::load_layers(&[base, dir])
    }

    fn load_layers(layers: &[&Path]) -> Result<Self, LoginError> {
        let top = layers.last().copied().unwrap_or(Path::new("."));
        let name = top
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("default")
            .to_owned();
        let mut sources = HashMap::new();
        let mut assets = HashMap::new();
        let mut file = ThemeFile::default();
        for dir in layers {
            read_templates(dir, &mut sources)?;
            read_assets(dir, &mut assets)?;
            if let Some(found) = read_theme_file(dir)? {
                file = found;
            }
        }
        if let Some(css) = colours_css(&file, top)? {
            assets.insert("theme.css".to_owned(), asset("theme.css", css.into_bytes()));
        }
        if let Some(logo) = &file.logo
            && !assets.contains_key(logo)
        {
            return Err(LoginError::Theme(format!(
                "{}: logo {logo:?} is not a file in static/",
                top.join("theme.toml").display()
            )));
        }
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
        let urls: HashMap<String, String> = assets
            .iter()
            .map(|(file, a)| (file.clone(), format!("/assets/{name}/{}/{file}", a.version)))
            .collect();
        env.add_global(
            "theme",
            minijinja::Value::from_serialize(serde_json::json!({
                "name": file.name,
                "logo": file.logo.as_ref().and_then(|l| urls.get(l)),
                "css": urls.get("theme.css"),
            })),
        );
        env.add_function(
            "asset",
            move |file: &str| -> Result<String, minijinja::Error> {
                urls.get(file).cloned().ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("no static file {file:?} in this theme"),
                    )
                })
            },
        );
        let mut names: Vec<_> = sources.keys().cloned().collect();
        names.sort();
        for template in names {
            let (path, source) = sources.remove(&template).unwrap_or_default();
            env.add_template_owned(template, source).map_err(|e| {
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
                    top.display()
                )));
            }
        }
        let translations = Arc::new(Translations::load(layers)?);
        env.add_global(
            "languages",
            minijinja::Value::from_serialize(translations.languages()),
        );
        let words = Arc::clone(&translations);
        env.add_function(
            "t",
            move |state: &minijinja::State,
                  what: minijinja::Value,
                  kwargs: minijinja::value::Kwargs|
                  -> Result<String, minijinja::Error> {
                translate(&words, state, &what, &kwargs)
            },
        );
        Ok(Self {
            name,
            env,
            assets,
            translations,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renders `page` in the default language.
    pub fn render(&self, page: &str, context: impl Serialize) -> Result<String, LoginError> {
        self.render_in(page, &PageLanguage::default(), context)
    }

    /// Renders `page` in `language`; the templates also get `lang` (the code) and `switch_back` (where
    /// the language switcher returns to).
    pub fn render_in(
        &self,
        page: &str,
        language: &PageLanguage,
        context: impl Serialize,
    ) -> Result<String, LoginError> {
        let context = minijinja::context! {
            lang => language.code,
            switch_back => language.switch_back,
            ..minijinja::Value::from_serialize(context)
        };
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

    /// The theme's translations (the default theme's, with this theme's overrides).
    pub fn translations(&self) -> &Translations {
        &self.translations
    }
}

/// The language a page is rendered in, and the address its language switcher comes back to.
#[derive(Debug, Clone, Serialize)]
pub struct PageLanguage {
    pub code: String,
    /// A path on this server (e.g. `/login?flow=…`), or `/`.
    pub switch_back: String,
}

impl Default for PageLanguage {
    fn default() -> Self {
        Self {
            code: DEFAULT_LANGUAGE.to_owned(),
            switch_back: "/".to_owned(),
        }
    }
}

/// The template function `t`: `t("key")`, `t("key", name=value)`, or `t(text)` with a [`crate::i18n::Text`]
/// handed over by the code (an object with `key` and `args`), in the page's language.
fn translate(
    translations: &Translations,
    state: &minijinja::State,
    what: &minijinja::Value,
    kwargs: &minijinja::value::Kwargs,
) -> Result<String, minijinja::Error> {
    let code = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned());
    let (key, given) = match what.as_str() {
        Some(key) => (key.to_owned(), minijinja::Value::UNDEFINED),
        None => (
            what.get_attr("key")?
                .as_str()
                .ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("t() needs a message key, not {what}"),
                    )
                })?
                .to_owned(),
            what.get_attr("args")?,
        ),
    };
    let mut pairs: Vec<(String, Arg)> = Vec::new();
    if !given.is_undefined() && !given.is_none() {
        for name in given.try_iter()? {
            let value = given.get_item(&name)?;
            pairs.push((name.to_string(), arg(&value)));
        }
    }
    for name in kwargs.args() {
        let value: minijinja::Value = kwargs.get(name)?;
        pairs.push((name.to_owned(), arg(&value)));
    }
    let args = fluent_args(pairs.iter().map(|(k, v)| (k.as_str(), v.clone())));
    Ok(translations.format(&code, &key, args.as_ref()))
}

fn arg(value: &minijinja::Value) -> Arg {
    match i64::try_from(value.clone()) {
        Ok(n) if value.kind() == minijinja::value::ValueKind::Number => Arg::Number(n),
        _ => Arg::Words(value.to_string()),
    }
}

/// The default theme and the others that clients and organisations name, each over the default.
#[derive(Debug)]
pub struct Themes {
    default: Theme,
    others: HashMap<String, Theme>,
}

impl Themes {
    /// Loads `default_dir` and, for each name in `names`, the folder of that name beside it.
    pub fn load<'a>(
        default_dir: &Path,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, LoginError> {
        let default = Theme::load(default_dir)?;
        let parent = default_dir.parent().unwrap_or(Path::new("."));
        let mut others = HashMap::new();
        for name in names {
            if name == default.name || others.contains_key(name) {
                continue;
            }
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(LoginError::Theme(format!(
                    "{name:?} is not a theme folder name"
                )));
            }
            let dir = parent.join(name);
            if !dir.is_dir() {
                return Err(LoginError::Theme(format!(
                    "theme {name:?}: no folder {}",
                    dir.display()
                )));
            }
            others.insert(name.to_owned(), Theme::load_over(&dir, default_dir)?);
        }
        Ok(Self { default, others })
    }

    /// The theme called `name`, or the default one.
    pub fn get(&self, name: Option<&str>) -> &Theme {
        name.and_then(|n| self.others.get(n))
            .unwrap_or(&self.default)
    }

    pub fn default_theme(&self) -> &Theme {
        &self.default
    }
}

fn read_templates(
    dir: &Path,
    sources: &mut HashMap<String, (std::path::PathBuf, String)>,
) -> Result<(), LoginError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| LoginError::Theme(format!("{}: {e}", dir.display())))?;
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
        sources.insert(name, (path, source));
    }
    Ok(())
}

fn read_assets(dir: &Path, assets: &mut HashMap<String, Asset>) -> Result<(), LoginError> {
    let Ok(entries) = std::fs::read_dir(dir.join("static")) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let bytes = std::fs::read(&path)
            .map_err(|e| LoginError::Theme(format!("{}: {e}", path.display())))?;
        assets.insert(name.clone(), asset(&name, bytes));
    }
    Ok(())
}

fn asset(name: &str, bytes: Vec<u8>) -> Asset {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(&bytes);
    let version = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    Asset {
        content_type: content_type(name),
        bytes,
        version,
    }
}

fn read_theme_file(dir: &Path) -> Result<Option<ThemeFile>, LoginError> {
    let path = dir.join("theme.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| LoginError::Theme(format!("{}: {e}", path.display())))
}

/// CSS custom properties from `theme.toml`'s colours; only `#rgb`/`#rrggbb` values are accepted, so a
/// theme file cannot inject CSS.
fn colours_css(file: &ThemeFile, dir: &Path) -> Result<Option<String>, LoginError> {
    if file.colours.is_empty() {
        return Ok(None);
    }
    let mut css = String::from(":root {");
    for (role, value) in &file.colours {
        let Some((_, property)) = COLOUR_ROLES.iter().find(|(r, _)| r == role) else {
            return Err(LoginError::Theme(format!(
                "{}: unknown colour {role:?} (known: accent, accent_ink, ink, muted, background, card)",
                dir.join("theme.toml").display()
            )));
        };
        let hex = value.strip_prefix('#').unwrap_or_default();
        if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LoginError::Theme(format!(
                "{}: colour {role} = {value:?} is not #rgb or #rrggbb",
                dir.join("theme.toml").display()
            )));
        }
        css.push_str(&format!(" {property}: {value};"));
    }
    css.push_str(" }\n");
    Ok(Some(css))
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
    fn a_theme_overrides_only_what_it_has_and_gets_colours_and_a_logo() {
        let dir = tempfile::tempdir().unwrap();
        let harbour = dir.path().join("harbour");
        std::fs::create_dir_all(harbour.join("static")).unwrap();
        std::fs::write(harbour.join("static/logo.svg"), "<svg/>").unwrap();
        std::fs::write(
            harbour.join("theme.toml"),
            "name = \"Harbour\"\nlogo = \"logo.svg\"\n[colours]\naccent = \"#0b6e4f\"\n",
        )
        .unwrap();
        std::fs::write(harbour.join("logged_out.html"), "harbour says bye").unwrap();
        // Themes live side by side; the default one is the real one.
        let default = dir.path().join("default");
        std::os::unix::fs::symlink(default_theme(), &default).unwrap();
        let themes = Themes::load(&default, ["harbour"]).unwrap();
        let theme = themes.get(Some("harbour"));
        assert_eq!(
            theme.render("logged_out.html", ()).unwrap(),
            "harbour says bye"
        );
        let login = theme
            .render(
                "error.html",
                serde_json::json!({ "title": "t", "message": "m" }),
            )
            .unwrap()
            .replace("&#x2f;", "/");
        assert!(login.contains("/assets/harbour/"), "{login}");
        let css = theme.asset("theme.css").unwrap();
        assert_eq!(
            String::from_utf8_lossy(&css.bytes).trim(),
            ":root { --accent: #0b6e4f; }"
        );
        assert!(theme.asset("style.css").is_some(), "from the default theme");
        assert_eq!(themes.get(Some("unknown")).name(), "default");
    }

    #[test]
    fn a_colour_that_is_not_a_colour_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad");
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(
            bad.join("theme.toml"),
            "[colours]\naccent = \"red; } body { display: none\"\n",
        )
        .unwrap();
        let err = Theme::load_over(&bad, &default_theme())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("theme.toml") && err.contains("accent"),
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
