//! Redirect URIs. A [`RegisteredRedirectUri`] can only be built by exact matching against a client's
//! registration, so no code path can redirect to an address the operator did not configure.

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredRedirectUri(String);

impl RegisteredRedirectUri {
    /// OpenID Connect Core §3.1.2.1: "exactly match one of the Redirection URI values", by simple string comparison.
    pub(crate) fn find(registered: &[Url], candidate: &str) -> Option<Self> {
        registered
            .iter()
            .find(|uri| uri.as_str() == candidate || original_form_matches(uri, candidate))
            .map(|_| Self(candidate.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URI with response parameters appended to its query (RFC 6749 §4.1.2 keeps the existing query).
    pub fn with_params(&self, params: &[(&str, &str)]) -> String {
        let Ok(mut url) = Url::parse(&self.0) else {
            return self.0.clone();
        };
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in params {
                query.append_pair(name, value);
            }
        }
        url.into()
    }
}

/// `Url` normalises `https://app.example` to `https://app.example/`; a client that registered the bare form
/// and sends the bare form still matches. Nothing else is normalised.
fn original_form_matches(registered: &Url, candidate: &str) -> bool {
    registered.path() == "/"
        && registered.query().is_none()
        && registered.as_str().strip_suffix('/') == Some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered() -> Vec<Url> {
        vec![
            Url::parse("https://app.example/callback").unwrap(),
            Url::parse("https://other.example").unwrap(),
        ]
    }

    #[test]
    fn exact_uri_matches() {
        assert!(
            RegisteredRedirectUri::find(&registered(), "https://app.example/callback").is_some()
        );
        assert!(RegisteredRedirectUri::find(&registered(), "https://other.example").is_some());
    }

    #[test]
    fn prefix_suffix_and_case_variants_do_not_match() {
        for candidate in [
            "https://app.example/callback/",
            "https://app.example/callback?x=1",
            "https://app.example/callbackx",
            "https://APP.example/callback",
            "http://app.example/callback",
            "https://app.example/callback#frag",
            "https://app.example.evil/callback",
            "",
        ] {
            assert!(
                RegisteredRedirectUri::find(&registered(), candidate).is_none(),
                "{candidate}"
            );
        }
    }

    #[test]
    fn response_parameters_keep_existing_query() {
        let uri = RegisteredRedirectUri("https://app.example/cb?tenant=7".into());
        assert_eq!(
            uri.with_params(&[("code", "a b")]),
            "https://app.example/cb?tenant=7&code=a+b"
        );
    }
}
