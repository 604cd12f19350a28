//! RP-Initiated Logout 1.0: validating the logout request and deciding where to send the person after.

use crate::error::Error;
use crate::provider::Provider;

#[derive(Debug, Clone, Default)]
pub struct EndSessionRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// What to do once the person is logged out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutPlan {
    pub client_id: Option<String>,
    /// Where to send the person afterwards, with `state` appended; `None` shows our own page.
    pub redirect: Option<String>,
    /// The subject named by a valid `id_token_hint`: when it is the signed-in person, no confirmation is asked.
    pub hinted_sub: Option<String>,
}

impl Provider {
    /// An `Err` carries a message for the person; nothing redirects on a bad request.
    pub fn plan_end_session(&self, request: &EndSessionRequest) -> Result<LogoutPlan, String> {
        let hint = match &request.id_token_hint {
            Some(token) => Some(self.verify_id_token_hint(token).map_err(|e| match e {
                Error::OAuth(e) => e.description,
                _ => "The sign-out request could not be checked.".to_owned(),
            })?),
            None => None,
        };
        // RP-Initiated Logout §2: client_id and the hint's audience must agree.
        let client_id = match (&request.client_id, &hint) {
            (Some(id), Some(hint)) if *id != hint.aud => {
                return Err("The sign-out request names two different applications.".to_owned());
            }
            (Some(id), _) => Some(id.clone()),
            (None, Some(hint)) => Some(hint.aud.clone()),
            (None, None) => None,
        };
        let client = match &client_id {
            Some(id) => Some(
                self.clients
                    .get(id)
                    .ok_or("The application that sent you here is not known.")?,
            ),
            None => None,
        };
        let redirect = match (&request.post_logout_redirect_uri, client) {
            (None, _) => None,
            (Some(_), None) => {
                return Err("The sign-out request has a return address but does not say which application sent it.".to_owned());
            }
            // RP-Initiated Logout §3: exact match against the registered post_logout_redirect_uris.
            (Some(uri), Some(client)) => {
                let Some(registered) = client.registered_post_logout_redirect_uri(uri) else {
                    return Err(
                        "The return address after sign-out is not registered for this application."
                            .to_owned(),
                    );
                };
                let params: Vec<(&str, &str)> = request
                    .state
                    .iter()
                    .map(|s| ("state", s.as_str()))
                    .collect();
                Some(registered.with_params(&params))
            }
        };
        Ok(LogoutPlan {
            client_id,
            redirect,
            hinted_sub: hint.map(|h| h.sub),
        })
    }
}
