//! The authorization endpoint (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2): validating the request,
//! deciding whether the person must sign in or consent, and issuing the code.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::client::GrantType;
use crate::error::{ErrorCode, Result};
use crate::pkce;
use crate::provider::Provider;
use crate::redirect::RegisteredRedirectUri;
use crate::scope::{self, Scopes};
use crate::store::{CodeRecord, Grant};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request: the client and redirect URI are registered, every parameter is
/// well-formed. Kept with the pending sign-in until the code is issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: RegisteredRedirectUri,
    pub scope: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeRejection {
    /// The client or redirect URI cannot be trusted: tell the person, redirect nowhere (RFC 6749 §4.1.2.1).
    ShowError { description: String },
    /// Send the person back to the client with an error response.
    Redirect(String),
}

/// The person who is signed in, as far as this authorization request is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub user_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub session_hash: String,
    /// True when the person authenticated while handling this very request.
    pub authenticated_now: bool,
}

/// What the person has agreed to share with this client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentState {
    pub on_record: Option<Scopes>,
    pub given_now: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    SignIn,
    Consent,
    IssueCode,
}

/// Parameters whose meaning we do not implement but which OpenID Connect allows: accepted and ignored.
const ACCEPTED_ONLY: &[&str] = &[
    "display",
    "claims_locales",
    "id_token_hint",
    "response_mode",
];

impl Provider {
    /// Validates an authorization request given as name/value pairs (from the query or a form body).
    pub fn validate_authorization(
        &self,
        pairs: &[(String, String)],
    ) -> Result<AuthorizationRequest, AuthorizeRejection> {
        let show = |description: &str| AuthorizeRejection::ShowError {
            description: description.to_owned(),
        };
        let mut params: HashMap<&str, &str> = HashMap::new();
        let mut duplicated = None;
        for (name, value) in pairs {
            if params.insert(name.as_str(), value.as_str()).is_some() {
                duplicated = Some(name.as_str());
            }
        }

        // RFC 6749 §4.1.2.1: without a valid client and redirect URI, never redirect.
        let Some(client_id) = params.get("client_id") else {
            return Err(show(
                "The request does not say which application is asking (client_id is missing).",
            ));
        };
        let Some(client) = self.clients.get(client_id) else {
            return Err(show(
                "The application that sent you here is not known to this sign-in service.",
            ));
        };
        let Some(redirect_uri) = params.get("redirect_uri") else {
            return Err(show(
                "The request does not say where to return to (redirect_uri is missing).",
            ));
        };
        let Some(redirect_uri) = client.registered_redirect_uri(redirect_uri) else {
            return Err(show(
                "The return address in the request is not registered for this application.",
            ));
        };
        if duplicated == Some("client_id") || duplicated == Some("redirect_uri") {
            return Err(show("The request repeats a parameter."));
        }

        let state = params.get("state").map(|s| (*s).to_owned());
        let redirect_error = |code: ErrorCode, description: &str| {
            AuthorizeRejection::Redirect(error_redirect(
                &redirect_uri,
                &self.issuer,
                code,
                description,
                state.as_deref(),
            ))
        };

        // RFC 6749 §3.1: parameters must not be included more than once.
        if let Some(name) = duplicated {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                &format!("parameter {name} is repeated"),
            ));
        }
        // OpenID Connect Core §6: request objects are not supported.
        if params.contains_key("request") {
            return Err(redirect_error(
                ErrorCode::RequestNotSupported,
                "request objects are not supported",
            ));
        }
        if params.contains_key("request_uri") {
            return Err(redirect_error(
                ErrorCode::RequestUriNotSupported,
                "request_uri is not supported",
            ));
        }
        match params.get("response_type") {
            None => {
                return Err(redirect_error(
                    ErrorCode::InvalidRequest,
                    "response_type is required",
                ));
            }
            Some(&"code") => {}
            Some(_) => {
                return Err(redirect_error(
                    ErrorCode::UnsupportedResponseType,
                    "only response_type=code is supported",
                ));
            }
        }
        if let Some(mode) = params.get("response_mode")
            && *mode != "query"
        {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                "only response_mode=query is supported",
            ));
        }
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Err(redirect_error(
                ErrorCode::UnauthorizedClient,
                "this client may not use the authorization code flow",
            ));
        }

        // RFC 6749 §3.3: scopes outside the client's registration are refused.
        let scope = Scopes::parse(params.get("scope").copied().unwrap_or_default());
        if scope.is_empty() {
            return Err(redirect_error(ErrorCode::InvalidScope, "scope is required"));
        }
        let refused = scope.not_in(&client.scopes);
        if !refused.is_empty() {
            return Err(redirect_error(
                ErrorCode::InvalidScope,
                &format!("scope not allowed: {}", refused.join(" ")),
            ));
        }
        let unsupported: Vec<_> = scope
            .iter()
            .filter(|s| !scope::SUPPORTED.contains(s))
            .collect();
        if !unsupported.is_empty() {
            return Err(redirect_error(
                ErrorCode::InvalidScope,
                &format!("scope not supported: {}", unsupported.join(" ")),
            ));
        }

        // RFC 7636 §4.3, with S256 only (plain offers no protection against a stolen request).
        let code_challenge = params.get("code_challenge").map(|c| (*c).to_owned());
        match (
            code_challenge.as_deref(),
            params.get("code_challenge_method"),
        ) {
            (None, None) if client.pkce_required() => {
                return Err(redirect_error(
                    ErrorCode::InvalidRequest,
                    "PKCE is required: send code_challenge with code_challenge_method=S256",
                ));
            }
            (None, None) => {}
            (None, Some(_)) => {
                return Err(redirect_error(
                    ErrorCode::InvalidRequest,
                    "code_challenge is missing",
                ));
            }
            (Some(_), method) if method != Some(&"S256") => {
                return Err(redirect_error(
                    ErrorCode::InvalidRequest,
                    "code_challenge_method must be S256",
                ));
            }
            (Some(challenge), _) if !pkce::is_valid_challenge(challenge) => {
                return Err(redirect_error(
                    ErrorCode::InvalidRequest,
                    "code_challenge is malformed",
                ));
            }
            (Some(_), _) => {}
        }

        // OpenID Connect Core §3.1.2.1: prompt is a space-delimited set; `none` stands alone.
        let mut prompt = Prompt::default();
        for value in params
            .get("prompt")
            .copied()
            .unwrap_or_default()
            .split(' ')
            .filter(|v| !v.is_empty())
        {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => {}
                _ => {
                    return Err(redirect_error(
                        ErrorCode::InvalidRequest,
                        &format!("prompt value {value} is not supported"),
                    ));
                }
            }
        }
        if prompt.none && (prompt.login || prompt.consent) {
            return Err(redirect_error(
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other values",
            ));
        }
        let max_age = match params.get("max_age") {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(seconds) if seconds >= 0 => Some(seconds),
                _ => {
                    return Err(redirect_error(
                        ErrorCode::InvalidRequest,
                        "max_age must be a non-negative integer",
                    ));
                }
            },
        };
        for name in ACCEPTED_ONLY {
            let _ = params.get(name);
        }
        let text = |name: &str| {
            params
                .get(name)
                .filter(|v| !v.is_empty())
                .map(|v| (*v).to_owned())
        };
        Ok(AuthorizationRequest {
            client_id: client.id.clone(),
            redirect_uri,
            scope,
            state,
            nonce: text("nonce"),
            code_challenge,
            prompt,
            max_age,
            login_hint: text("login_hint"),
            ui_locales: text("ui_locales"),
            acr_values: text("acr_values"),
        })
    }

    /// Decides what the person must do before the code can be issued. An `Err` is the error redirect
    /// for `prompt=none` when interaction would be needed.
    pub fn next_step(
        &self,
        request: &AuthorizationRequest,
        signed_in: Option<&SignedIn>,
        consent: &ConsentState,
    ) -> Result<NextStep, String> {
        let interaction_needed = |code: ErrorCode, description: &str| {
            if request.prompt.none {
                Err(self.error_redirect(request, code, description))
            } else {
                Ok(())
            }
        };
        let now = self.now();
        let must_sign_in = match signed_in {
            None => true,
            Some(s) if s.authenticated_now => false,
            // OpenID Connect Core §3.1.2.1: prompt=login and an exceeded max_age both demand a fresh sign-in.
            Some(s) => {
                request.prompt.login || request.max_age.is_some_and(|max| now - s.auth_time > max)
            }
        };
        if must_sign_in {
            interaction_needed(ErrorCode::LoginRequired, "the user must sign in")?;
            return Ok(NextStep::SignIn);
        }
        let Some(client) = self.clients.get(&request.client_id) else {
            return Err(self.error_redirect(
                request,
                ErrorCode::UnauthorizedClient,
                "the client is no longer registered",
            ));
        };
        let covered = consent
            .on_record
            .as_ref()
            .is_some_and(|granted| request.scope.is_subset(granted));
        let must_consent =
            client.consent && !consent.given_now && (request.prompt.consent || !covered);
        if must_consent {
            interaction_needed(ErrorCode::ConsentRequired, "the user must consent")?;
            return Ok(NextStep::Consent);
        }
        Ok(NextStep::IssueCode)
    }

    /// Issues a single-use code and returns the success redirect (RFC 6749 §4.1.2, RFC 9207 `iss`).
    pub async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        signed_in: &SignedIn,
    ) -> Result<String> {
        let now = self.now();
        let grant = Grant {
            // Time-ordered: new grants go onto the last pages of the grants' index rather than onto
            // random pages of a large table (the creation time it shows is also the token's `iat`).
            id: uuid::Uuid::now_v7().to_string(),
            client_id: request.client_id.clone(),
            user_id: signed_in.user_id.clone(),
            scope: request.scope.clone(),
            auth_time: signed_in.auth_time,
            amr: signed_in.amr.clone(),
            acr: signed_in.acr.clone(),
            session_hash: Some(signed_in.session_hash.clone()),
            created_at: now,
            revoked_at: None,
        };
        let code = crate::random_token();
        let record = CodeRecord {
            code_hash: crate::token_hash(&code),
            grant_id: grant.id.clone(),
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.as_str().to_owned(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            created_at: now,
            expires_at: now + self.lifetimes.authorization_code,
            used_at: None,
        };
        self.store.insert_grant_and_code(&grant, &record).await?;
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = &request.state {
            params.push(("state", state));
        }
        params.push(("iss", &self.issuer));
        Ok(request.redirect_uri.with_params(&params))
    }

    /// The error response for a validated request (e.g. `access_denied` when the person declines).
    pub fn error_redirect(
        &self,
        request: &AuthorizationRequest,
        code: ErrorCode,
        description: &str,
    ) -> String {
        error_redirect(
            &request.redirect_uri,
            &self.issuer,
            code,
            description,
            request.state.as_deref(),
        )
    }
}

fn error_redirect(
    uri: &RegisteredRedirectUri,
    issuer: &str,
    code: ErrorCode,
    description: &str,
    state: Option<&str>,
) -> String {
    let mut params = vec![("error", code.as_str()), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    uri.with_params(&params)
}
