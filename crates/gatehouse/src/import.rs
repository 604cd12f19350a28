//! `gatehouse user import FILE`: accounts from a system that signed people in by username.
//!
//! The file is CSV with a header row, or JSON lines (one object a line): by its extension (`.csv`;
//! `.jsonl`, `.ndjson`, `.json`), else by its first character (`{` means JSON lines). Fields:
//! `email` and `name` (required), `username`, `organisation` and `password_hash` (optional; empty
//! is the same as absent).
//!
//! Every row is checked on its own and reported by line number; a bad row never stops the good ones.
//! Re-running a file changes nothing: an e-mail address that already has an account is never
//! modified (its owner may have signed in, changed the password or set up a second factor since); the
//! row is reported `unchanged` when the account holds what the row says, else `skipped`. A row is bad
//! when its e-mail address is malformed, its organisation unknown, its hash in no recognised format,
//! or its e-mail address or username is used by an earlier row or (username) another account.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;
use gatehouse_login::legacy_hash;
use gatehouse_login::password::NO_PASSWORD;
use gatehouse_store::users::{NewUser, normalize_username};
use gatehouse_store::{Database, StoreError};
use serde::Deserialize;

/// The columns a CSV file may have.
const COLUMNS: [&str; 5] = ["email", "name", "username", "organisation", "password_hash"];

/// One row as read, before any check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    email: Option<String>,
    name: Option<String>,
    username: Option<String>,
    organisation: Option<String>,
    password_hash: Option<String>,
}

/// A row that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    email: String,
    name: String,
    username: Option<String>,
    organisation: String,
    /// The legacy hash, or [`NO_PASSWORD`].
    password_hash: String,
}

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    /// The account exists and holds what the row says.
    Unchanged,
    /// The account exists with other details; it is left as it is.
    Skipped(String),
    Bad(String),
}

/// The outcome of every row, by line number.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<(usize, Outcome)>,
}

impl Report {
    fn count(&self, pick: fn(&Outcome) -> bool) -> usize {
        self.rows.iter().filter(|(_, o)| pick(o)).count()
    }

    pub fn bad(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Bad(_)))
    }

    /// One line per bad or skipped row, then the summary.
    pub fn print(&self) {
        for (line, outcome) in &self.rows {
            match outcome {
                Outcome::Bad(why) => println!("line {line}: error: {why}"),
                Outcome::Skipped(why) => println!("line {line}: skipped: {why}"),
                Outcome::Imported | Outcome::Unchanged => {}
            }
        }
        println!(
            "{} rows: {} imported, {} unchanged, {} skipped, {} bad",
            self.rows.len(),
            self.count(|o| *o == Outcome::Imported),
            self.count(|o| *o == Outcome::Unchanged),
            self.count(|o| matches!(o, Outcome::Skipped(_))),
            self.bad()
        );
    }
}

/// Reads `path`, checks every row and creates the accounts of the good ones.
pub async fn import(
    db: &Database,
    path: &Path,
    organisations: &[&str],
    now: i64,
) -> anyhow::Result<Report> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // Spreadsheet programs start UTF-8 files with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let raw = if is_json_lines(path, text) {
        read_json_lines(text)
    } else {
        read_csv(text).with_context(|| format!("reading {}", path.display()))?
    };
    let mut report = Report::default();
    let mut first_email: HashMap<String, usize> = HashMap::new();
    let mut first_username: HashMap<String, usize> = HashMap::new();
    for (line, raw) in raw {
        let row = raw.and_then(|raw| check_row(raw, organisations));
        let row = row.and_then(|row| {
            if let Some(earlier) = first_email.get(&row.email) {
                return Err(format!("the e-mail address is also on line {earlier}"));
            }
            first_email.insert(row.email.clone(), line);
            if let Some(username) = &row.username {
                if let Some(earlier) = first_username.get(username) {
                    return Err(format!("the username is also on line {earlier}"));
                }
                first_username.insert(username.clone(), line);
            }
            Ok(row)
        });
        let outcome = match row {
            Ok(row) => store(db, &row, now).await?,
            Err(why) => Outcome::Bad(why),
        };
        report.rows.push((line, outcome));
    }
    Ok(report)
}

fn is_json_lines(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => false,
        Some(ext) if ["jsonl", "ndjson", "json"].contains(&ext.to_lowercase().as_str()) => true,
        _ => text.trim_start().starts_with('{'),
    }
}

type RawRows = Vec<(usize, Result<RawRow, String>)>;

fn read_json_lines(text: &str) -> RawRows {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let row = serde_json::from_str::<RawRow>(line)
                .map_err(|e| format!("not a JSON object of the expected fields: {e}"));
            (i + 1, row)
        })
        .collect()
}

/// A bad header stops the whole file (no row could be read right); a bad record is a bad row.
fn read_csv(text: &str) -> anyhow::Result<RawRows> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers().context("the header row")?.clone();
    for header in &headers {
        anyhow::ensure!(
            COLUMNS.contains(&header),
            "the header row: unknown column {header:?} (the columns are {})",
            COLUMNS.join(", ")
        );
    }
    for required in ["email", "name"] {
        anyhow::ensure!(
            headers.iter().any(|h| h == required),
            "the header row: the column {required:?} is missing"
        );
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = line_at(text, reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| line_at(text, p.byte()));
                let row = record
                    .deserialize::<RawRow>(Some(&headers))
                    .map_err(|e| format!("unreadable row: {e}"));
                rows.push((line, row));
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| line_at(text, p.byte()));
                rows.push((line, Err(format!("unreadable row: {e}"))));
                // A wrong number of fields leaves the reader ready for the next record; anything
                // else (invalid UTF-8 cannot happen: the file was read as text) ends the file.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    Ok(rows)
}

/// The line (from 1) of the record starting at `byte`. The reader may place a record's start on the
/// line end before it (after `\r\n`), so line ends at the start are skipped first.
fn line_at(text: &str, byte: u64) -> usize {
    let start = usize::try_from(byte).unwrap_or(text.len()).min(text.len());
    let skipped = text.as_bytes()[start..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    1 + text.as_bytes()[..start + skipped]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// Empty or blank is the same as absent.
fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn check_row(raw: RawRow, organisations: &[&str]) -> Result<Row, String> {
    let email = present(raw.email).ok_or("the e-mail address is missing")?;
    let email = gatehouse_mfa::email::plausible_address(&email)
        .ok_or_else(|| format!("{email:?} is not an e-mail address"))?;
    let name = present(raw.name).ok_or("the name is missing")?;
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err("the name is longer than 200 characters or holds control characters".into());
    }
    let username = present(raw.username).map(|u| normalize_username(&u));
    if let Some(username) = &username
        && (username.chars().count() > 100
            || username.contains('@')
            || username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(format!(
            "{username:?} is not a username (at most 100 characters, no @, no spaces)"
        ));
    }
    let organisation = present(raw.organisation).unwrap_or_else(|| "default".into());
    if !organisations.contains(&organisation.as_str()) {
        return Err(format!(
            "there is no organisation {organisation:?} (see `gatehouse org list`)"
        ));
    }
    let password_hash = match present(raw.password_hash) {
        None => NO_PASSWORD.to_owned(),
        Some(hash) => {
            legacy_hash::recognise(&hash).map_err(|e| format!("password_hash: {e}"))?;
            hash
        }
    };
    Ok(Row {
        email,
        name,
        username,
        organisation,
        password_hash,
    })
}

async fn store(db: &Database, row: &Row, now: i64) -> anyhow::Result<Outcome> {
    if let Some(existing) = db.user_by_email(&row.email).await? {
        let same = existing.name == row.name
            && existing.organisation_id == row.organisation
            && existing.legacy_username == row.username;
        return Ok(if same {
            Outcome::Unchanged
        } else {
            Outcome::Skipped(
                "an account with this e-mail address already exists with other details; it is left as it is"
                    .into(),
            )
        });
    }
    let new = NewUser {
        email: &row.email,
        name: &row.name,
        password_hash: &row.password_hash,
        organisation_id: &row.organisation,
        legacy_username: row.username.as_deref(),
    };
    Ok(match db.create_user_with(&new, now).await {
        Ok(_) => Outcome::Imported,
        Err(StoreError::DuplicateLegacyUsername) => {
            Outcome::Bad("the username belongs to another account".into())
        }
        Err(StoreError::DuplicateEmail) => {
            Outcome::Bad("an account with this e-mail address was created meanwhile".into())
        }
        Err(e) => return Err(e.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORGS: &[&str] = &["default", "shop"];

    fn raw(email: &str, name: &str) -> RawRow {
        RawRow {
            email: Some(email.into()),
            name: Some(name.into()),
            ..RawRow::default()
        }
    }

    #[test]
    fn a_minimal_row_gets_the_default_organisation_and_no_password() {
        let row = check_row(raw(" Ann@Example.com ", "Ann"), ORGS).unwrap();
        assert_eq!(row.email, "ann@example.com");
        assert_eq!(row.organisation, "default");
        assert_eq!(row.password_hash, NO_PASSWORD);
        assert_eq!(row.username, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (raw("ann.example.com", "Ann"), "not an e-mail address"),
            (raw("ann@example.com", " "), "name is missing"),
            (
                RawRow {
                    organisation: Some("nope".into()),
                    ..raw("ann@example.com", "Ann")
                },
                "no organisation \"nope\"",
            ),
            (
                RawRow {
                    password_hash: Some("5f4dcc3b5aa765d61d8327deb882cf99".into()),
                    ..raw("ann@example.com", "Ann")
                },
                "not a recognised password hash",
            ),
            (
                RawRow {
                    username: Some("ann@old".into()),
                    ..raw("ann@example.com", "Ann")
                },
                "is not a username",
            ),
        ];
        for (row, expected) in cases {
            let err = check_row(row, ORGS).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }

    #[test]
    fn the_format_is_found_by_extension_then_first_character() {
        assert!(read_json_lines("{\"email\":\"a@b.c\",\"name\":\"A\"}\n\n").len() == 1);
        assert!(is_json_lines(Path::new("x.jsonl"), "email,name"));
        assert!(!is_json_lines(Path::new("x.csv"), "{"));
        assert!(is_json_lines(Path::new("x.txt"), "  {\"email\":1}"));
        assert!(!is_json_lines(Path::new("x"), "email,name\n"));
    }

    #[test]
    fn csv_rows_carry_their_line_numbers_and_a_broken_record_is_one_bad_row() {
        let rows = read_csv("email,name\na@example.com,A\n\"b@example.com\",\"B, Jr\"\nc@example.com\nd@example.com,D\n").unwrap();
        let lines: Vec<usize> = rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        assert!(rows[2].1.is_err());
        assert_eq!(rows[1].1.as_ref().unwrap().name.as_deref(), Some("B, Jr"));
    }

    #[test]
    fn line_numbers_hold_with_windows_line_ends() {
        let rows = read_csv("email,name\r\na@example.com,A\r\n\r\nb@example.com,B\r\n").unwrap();
        let lines: Vec<usize> = rows.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn an_unknown_column_stops_the_file() {
        let err = read_csv("email,name,pasword_hash\n").unwrap_err();
        assert!(format!("{err:#}").contains("unknown column \"pasword_hash\""));
        let err = read_csv("email,username\n").unwrap_err();
        assert!(format!("{err:#}").contains("\"name\" is missing"));
    }
}
