//! Translations: every sentence a person reads — pages, e-mails, text messages, error messages — comes
//! from `themes/<theme>/locales/<language>.ftl` ([Project Fluent](https://projectfluent.org) files).
//! The languages offered are the files in the default theme's `locales/` folder, so adding a language
//! is adding one file. A theme may override single messages with a file of the same name.
//!
//! Code never holds a sentence, only a [`Text`]: a message key and its arguments, turned into words at
//! the last moment in the person's language.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::Serialize;
use unic_langid::LanguageIdentifier;

use crate::error::LoginError;

/// The language every other language falls back to, and the one offered when nothing else matches.
pub const DEFAULT_LANGUAGE: &str = "en";

/// Something to say to a person: a message key of the translation files and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    key: Cow<'static, str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    args: BTreeMap<&'static str, Arg>,
}

/// An argument of a [`Text`]: numbers stay numbers, so a translation can choose a plural form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    Number(i64),
    Words(String),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Self::Words(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Self::Words(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Self::Number(n)
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i32> for Arg {
    fn from(n: i32) -> Self {
        Self::Number(i64::from(n))
    }
}

impl From<u32> for Arg {
    fn from(n: u32) -> Self {
        Self::Number(i64::from(n))
    }
}

impl Text {
    /// The message `key` (which must exist in every language's file: a test checks every key the code
    /// and the templates name).
    pub const fn new(key: &'static str) -> Self {
        Self {
            key: Cow::Borrowed(key),
            args: BTreeMap::new(),
        }
    }

    /// Adds the argument `$name` of the message.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.insert(name, value.into());
        self
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A language offered: its code (the file's name, e.g. `nl`) and its name in itself (`Nederlands`),
/// from the file's `language-name` message.
#[derive(Debug, Clone, Serialize)]
pub struct Language {
    pub code: String,
    pub name: String,
}

/// The messages of every language offered, parsed once at start.
pub struct Translations {
    languages: Vec<Language>,
    ids: Vec<LanguageIdentifier>,
    bundles: HashMap<String, FluentBundle<FluentResource>>,
    keys: HashMap<String, BTreeSet<String>>,
}

impl std::fmt::Debug for Translations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translations")
            .field("languages", &self.languages)
            .finish_non_exhaustive()
    }
}

impl Translations {
    /// Loads `locales/*.ftl` of each folder in `layers`, later ones overriding single messages of
    /// earlier ones. The first layer decides which languages there are; it must have
    /// [`DEFAULT_LANGUAGE`]. A syntax error names the file and line.
    pub fn load(layers: &[&Path]) -> Result<Self, LoginError> {
        let Some(first) = layers.first() else {
            return Err(LoginError::Theme("no theme folder given".into()));
        };
        let mut codes = language_files(first)?;
        codes.sort_by_key(|code| (code != DEFAULT_LANGUAGE, code.clone()));
        if codes.first().map(String::as_str) != Some(DEFAULT_LANGUAGE) {
            return Err(LoginError::Theme(format!(
                "{}: there is no {DEFAULT_LANGUAGE}.ftl",
                first.join("locales").display()
            )));
        }
        let mut bundles = HashMap::new();
        let mut languages = Vec::new();
        let mut ids = Vec::new();
        let mut keys = HashMap::new();
        for code in &codes {
            let id: LanguageIdentifier = code.parse().map_err(|_| {
                LoginError::Theme(format!(
                    "{}: {code:?} is not a language code",
                    first.join("locales").display()
                ))
            })?;
            let mut bundle = FluentBundle::new_concurrent(vec![id.clone()]);
            // Pages are left-to-right languages only; isolation marks would show up in e-mails.
            bundle.set_use_isolating(false);
            for (depth, dir) in layers.iter().enumerate() {
                let path = dir.join("locales").join(format!("{code}.ftl"));
                let Ok(source) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let resource = parse(&path, source)?;
                let names: &mut BTreeSet<String> = keys.entry(code.clone()).or_default();
                names.extend(resource.entries().filter_map(|entry| match entry {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                }));
                if depth == 0 {
                    bundle.add_resource(resource).map_err(|errors| {
                        LoginError::Theme(format!("{}: {errors:?}", path.display()))
                    })?;
                } else {
                    bundle.add_resource_overriding(resource);
                }
            }
            let name = format_message(&bundle, "language-name", None).unwrap_or(code.clone());
            languages.push(Language {
                code: code.clone(),
                name,
            });
            ids.push(id);
            bundles.insert(code.clone(), bundle);
        }
        for dir in &layers[1..] {
            for code in language_files(dir)? {
                if !bundles.contains_key(&code) {
                    return Err(LoginError::Theme(format!(
                        "{}: language {code:?} is not one of the default theme's",
                        dir.join("locales").display()
                    )));
                }
            }
        }
        Ok(Self {
            languages,
            ids,
            bundles,
            keys,
        })
    }

    /// The languages offered, the default first.
    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// Whether `code` is one of the languages offered.
    pub fn offers(&self, code: &str) -> bool {
        self.bundles.contains_key(code)
    }

    /// The best language offered for a list of wishes (language tags, most wanted first), if any
    /// matches: `nl-BE` finds `nl`.
    pub fn best_match<'a>(&self, wishes: impl IntoIterator<Item = &'a str>) -> Option<&str> {
        let wanted: Vec<LanguageIdentifier> =
            wishes.into_iter().filter_map(|w| w.parse().ok()).collect();
        let found = fluent_langneg::negotiate_languages(
            &wanted,
            &self.ids,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        let id = found.first()?;
        let index = self.ids.iter().position(|i| i == *id)?;
        Some(&self.languages[index].code)
    }

    /// The language of a page: the app's `ui_locales` for this sign-in, else the person's own choice
    /// (the language switcher, or the one saved with their account), else the browser's
    /// `Accept-Language`, else the default. Each is used only when it names a language offered.
    pub fn choose(
        &self,
        ui_locales: Option<&str>,
        chosen: Option<&str>,
        accept_language: Option<&str>,
    ) -> &str {
        ui_locales
            .and_then(|l| self.best_match(l.split_whitespace()))
            .or_else(|| chosen.and_then(|c| self.best_match([c])))
            .or_else(|| {
                accept_language.and_then(|header| {
                    let wishes = accepted_languages(header);
                    self.best_match(wishes.iter().map(String::as_str))
                })
            })
            .unwrap_or(DEFAULT_LANGUAGE)
    }

    /// The words of `text` in language `code` (falling back to the default language, then to the key
    /// itself, so a missing message is visible rather than an empty space).
    pub fn text(&self, code: &str, text: &Text) -> String {
        let args = fluent_args(text.args.iter().map(|(k, v)| (*k, v.clone())));
        self.format(code, text.key(), args.as_ref())
    }

    /// The message `key` in language `code`, with arguments.
    pub fn format(&self, code: &str, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        [code, DEFAULT_LANGUAGE]
            .iter()
            .filter_map(|c| self.bundles.get(*c))
            .find_map(|bundle| format_message(bundle, key, args))
            .unwrap_or_else(|| key.to_owned())
    }

    /// Every message key of language `code` (for the test that keeps the languages complete).
    pub fn keys(&self, code: &str) -> BTreeSet<String> {
        self.keys.get(code).cloned().unwrap_or_default()
    }
}

/// Fluent arguments from name/value pairs (`None` when there are none).
pub fn fluent_args<'a>(pairs: impl IntoIterator<Item = (&'a str, Arg)>) -> Option<FluentArgs<'a>> {
    let mut args = FluentArgs::new();
    for (name, value) in pairs {
        match value {
            Arg::Number(n) => args.set(name, FluentValue::from(n)),
            Arg::Words(s) => args.set(name, FluentValue::from(s)),
        }
    }
    let any = args.iter().next().is_some();
    any.then_some(args)
}

/// The language tags of an `Accept-Language` header, most wanted first (by `q`, then by order);
/// tags with `q=0` are not wanted at all and left out.
pub fn accepted_languages(header: &str) -> Vec<String> {
    let mut wishes: Vec<(u16, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            if tag.is_empty() || tag == "*" {
                return None;
            }
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .map(|q| (q * 1000.0).round() as u16)
                })?;
            (q > 0).then(|| (q, i, tag.to_owned()))
        })
        .collect();
    wishes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    wishes.into_iter().map(|(_, _, tag)| tag).collect()
}

fn format_message(
    bundle: &FluentBundle<FluentResource>,
    key: &str,
    args: Option<&FluentArgs<'_>>,
) -> Option<String> {
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let words = bundle.format_pattern(pattern, args, &mut errors);
    Some(words.into_owned())
}

fn language_files(dir: &Path) -> Result<Vec<String>, LoginError> {
    let locales = dir.join("locales");
    let Ok(entries) = std::fs::read_dir(&locales) else {
        return Ok(Vec::new());
    };
    let mut codes = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("ftl") {
            continue;
        }
        if let Some(code) = path.file_stem().and_then(|s| s.to_str()) {
            codes.push(code.to_owned());
        }
    }
    Ok(codes)
}

fn parse(path: &Path, source: String) -> Result<FluentResource, LoginError> {
    FluentResource::try_new(source.clone()).map_err(|(_, errors)| {
        let first = errors.first();
        let line = first
            .map(|e| {
                source[..e.pos.start.min(source.len())]
                    .lines()
                    .count()
                    .max(1)
            })
            .unwrap_or(1);
        LoginError::Theme(format!(
            "{}: line {line}: {}",
            path.display(),
            first.map(|e| e.kind.to_string()).unwrap_or_default()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_theme() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../themes/default")
    }

    fn translations() -> Translations {
        Translations::load(&[&default_theme()]).unwrap()
    }

    #[test]
    fn accept_language_is_read_by_weight_and_ignores_what_is_refused() {
        assert_eq!(
            accepted_languages("fr;q=0.5, nl-BE, en;q=0.8, de;q=0"),
            ["nl-BE", "en", "fr"]
        );
        assert_eq!(
            accepted_languages("*, nl;q=nonsense, ;q=1"),
            Vec::<String>::new()
        );
        assert_eq!(accepted_languages("en-GB,en;q=0.9"), ["en-GB", "en"]);
    }

    #[test]
    fn the_app_wins_over_the_person_who_wins_over_the_browser() {
        let t = translations();
        assert_eq!(t.choose(Some("nl"), Some("en"), Some("en")), "nl");
        assert_eq!(t.choose(Some("fr nl-BE"), None, None), "nl");
        assert_eq!(t.choose(Some("fr"), Some("nl"), Some("en")), "nl");
        assert_eq!(
            t.choose(None, None, Some("de, nl-NL;q=0.7, en;q=0.5")),
            "nl"
        );
        assert_eq!(t.choose(None, Some("xx"), Some("fr")), DEFAULT_LANGUAGE);
    }

    #[test]
    fn messages_take_arguments_and_fall_back_to_the_key() {
        let t = translations();
        let text = Text::new("password-too-short").with("min", 12_i64);
        assert!(
            t.text("en", &text).contains("12"),
            "{}",
            t.text("en", &text)
        );
        assert!(t.text("nl", &text).contains("12"));
        assert_ne!(t.text("en", &text), t.text("nl", &text));
        assert_eq!(
            t.text("nl", &Text::new("no-such-message")),
            "no-such-message"
        );
        assert_eq!(t.languages()[0].code, "en");
        assert_eq!(t.languages()[1].name, "Nederlands");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("locales")).unwrap();
        std::fs::write(
            dir.path().join("locales/en.ftl"),
            "language-name = English\nok = fine\nbroken = {\n",
        )
        .unwrap();
        let err = Translations::load(&[dir.path()]).unwrap_err().to_string();
        assert!(err.contains("en.ftl") && err.contains("line 3"), "{err}");
    }
}
