//! Every language is complete: each `locales/<code>.ftl` of the default theme has exactly the messages
//! of `en.ftl`, with the same `$variables`; every message key a template or the code names exists; and
//! a theme's own locale files only override messages that exist.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use gatehouse_login::i18n::Translations;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Messages of an `.ftl` file: key → the `$variables` its text uses (attributes and terms aside).
fn messages(path: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let source = std::fs::read_to_string(path).unwrap();
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in source.lines() {
        let starts_entry = line.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if starts_entry && let Some((key, _)) = line.split_once(" =") {
            current = Some(key.trim().to_owned());
            found.entry(key.trim().to_owned()).or_default();
        } else if !line.starts_with(' ') {
            current = None;
        }
        if let Some(key) = &current {
            let vars = found.entry(key.clone()).or_default();
            let mut rest = line;
            while let Some(at) = rest.find('$') {
                let name: String = rest[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                vars.insert(name);
                rest = &rest[at + 1..];
            }
        }
    }
    found
}

fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path, extensions));
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
    out
}

/// The string literals that directly follow each `marker` (e.g. `Text::new(`), up to `count` of them
/// separated by commas: `bad_request("title", "message")`. A marker followed by anything but a
/// literal (a variable) names no key here.
fn literals_after(source: &str, marker: &str, count: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for (at, _) in source.match_indices(marker) {
        let before = source[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `asset("…")` is not `t("…")`
        }
        let mut rest = &source[at + marker.len()..];
        for _ in 0..count {
            let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            let Some(literal) = trimmed.strip_prefix('"') else {
                break;
            };
            let Some(close) = literal.find('"') else {
                break;
            };
            keys.push(literal[..close].to_owned());
            rest = &literal[close + 1..];
        }
    }
    keys
}

#[test]
fn every_language_has_every_message_with_the_same_variables() {
    let locales = root().join("themes/default/locales");
    let english = messages(&locales.join("en.ftl"));
    assert!(
        english.len() > 200,
        "only {} English messages",
        english.len()
    );
    let mut problems = Vec::new();
    for file in files(&locales, &["ftl"]) {
        let other = messages(&file);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (key, vars) in &english {
            match other.get(key) {
                None => problems.push(format!("{name}: missing {key}")),
                Some(theirs) if theirs != vars => problems.push(format!(
                    "{name}: {key} uses {theirs:?}, English uses {vars:?}"
                )),
                Some(_) => {}
            }
        }
        for key in other.keys().filter(|k| !english.contains_key(*k)) {
            problems.push(format!("{name}: {key} is not in en.ftl"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_key_the_templates_and_the_code_name_exists() {
    let default = root().join("themes/default");
    let translations = Translations::load(&[&default]).unwrap();
    let known = translations.keys("en");
    let mut named = Vec::new();
    for template in files(&root().join("themes"), &["html", "txt"]) {
        let source = std::fs::read_to_string(&template).unwrap();
        // `t("key"`; a variable (`t(error)`) holds the code's Text, checked below.
        for key in literals_after(&source, "t(", 1) {
            named.push((template.clone(), key));
        }
    }
    for code in [
        "crates/server/src",
        "crates/login/src",
        "crates/gatehouse/src",
    ] {
        for file in files(&root().join(code), &["rs"]) {
            let source = std::fs::read_to_string(&file).unwrap();
            for key in literals_after(&source, "Text::new(", 1)
                .into_iter()
                .chain(literals_after(&source, "service_text(state,", 1))
                .chain(literals_after(&source, "bad_request(", 2))
            {
                named.push((file.clone(), key));
            }
        }
    }
    assert!(named.len() > 200, "only {} keys named", named.len());
    let missing: Vec<String> = named
        .iter()
        .filter(|(_, key)| !known.contains(key) && !key.starts_with("no-such-"))
        .map(|(file, key)| format!("{}: {key}", file.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "keys not in en.ftl:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_theme_overrides_only_messages_that_exist() {
    let english = messages(&root().join("themes/default/locales/en.ftl"));
    for theme in std::fs::read_dir(root().join("themes")).unwrap().flatten() {
        let locales = theme.path().join("locales");
        if theme.file_name() == "default" || !locales.is_dir() {
            continue;
        }
        for file in files(&locales, &["ftl"]) {
            for key in messages(&file).keys() {
                assert!(
                    english.contains_key(key),
                    "{}: {key} overrides no message",
                    file.display()
                );
            }
        }
    }
}
