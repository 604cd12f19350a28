//! Passkeys (W3C WebAuthn Level 3) as a second factor and as passwordless sign-in, as plain logic:
//! no HTTP, no SQL, time passed in.
//!
//! Three ceremonies. Each `start_*` returns the options JSON for the browser and a state for the
//! server to keep. The matching `finish_*` takes that state back with the browser's answer:
//! - registration (`start_registration` / `finish_registration`), for a signed-in user;
//! - second factor (`start_authentication` / `finish_authentication`), for a user already known
//!   by password;
//! - passwordless (`start_discoverable` / `identify` / `finish_discoverable`). Here the
//!   authenticator names the user, through the user handle stored in the passkey at registration.
//!
//! Every ceremony requires user verification (a PIN or biometric on the authenticator), so one
//! passkey is two factors.
//!
//! Architecture invariant: a state is used at most once. The caller's store must *take* a state
//! (read and delete it in one step) before `finish_*`. A state left in place lets the same answer
//! verify twice for a passkey without a signature counter (most synced passkeys have none).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use url::{Host, Url};
use uuid::Uuid;
use webauthn_rs::prelude::{
    AuthenticationResult, Credential, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};
use webauthn_rs_proto::{ExtnState, Mediation, ResidentKeyRequirement};

/// How long the user has to answer, in seconds. This is also the `timeout` the browser gets.
pub const CEREMONY_SECONDS: i64 = 300;

/// Where passkeys are bound. Build it once at start-up, usually with [`PasskeyConfig::for_issuer`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyConfig {
    /// The relying party ID: the issuer's host name, such as `localhost` or `id.example.com`.
    /// Each passkey is bound to it permanently, so changing it orphans every registered passkey.
    pub rp_id: String,
    /// The origin the sign-in pages are served from, such as `http://localhost:8080`.
    pub rp_origin: Url,
    /// The name the browser shows when it creates a passkey.
    pub rp_name: String,
    /// Accept the origin on any port: for tests that bind `localhost:0`. Keep it off in production.
    #[serde(default)]
    pub allow_any_port: bool,
}

impl PasskeyConfig {
    /// The configuration that follows from the issuer: the issuer's origin, with its host as the
    /// RP ID. `http://localhost:8080` gives RP ID `localhost` and origin `http://localhost:8080`.
    pub fn for_issuer(issuer: &Url, rp_name: &str) -> Result<Self, PasskeyError> {
        // WebAuthn §5.1.3: an RP ID is a domain. Browsers refuse IP addresses.
        let Some(Host::Domain(host)) = issuer.host() else {
            return Err(PasskeyError::Config(format!(
                "the issuer {issuer} has no host name; passkeys need one (use localhost, not 127.0.0.1)"
            )));
        };
        let rp_origin = Url::parse(&issuer.origin().ascii_serialization())
            .map_err(|e| PasskeyError::Config(format!("issuer origin: {e}")))?;
        Ok(Self {
            rp_id: host.to_owned(),
            rp_origin,
            rp_name: rp_name.to_owned(),
            allow_any_port: false,
        })
    }
}

/// The passkey service, built once at start-up from [`PasskeyConfig`].
#[derive(Debug, Clone)]
pub struct Passkeys {
    webauthn: Webauthn,
}

/// Which passwordless prompt the browser should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyPrompt {
    /// The browser's own passkey dialog, opened by a "Sign in with a passkey" button.
    Modal,
    /// Passkeys offered in the username field's autofill (`autocomplete="username webauthn"`),
    /// started as the sign-in page loads (WebAuthn §5.1.4, conditional mediation).
    Autofill,
}

/// A registration in progress: keep it server-side until `finish_registration`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationState {
    user_handle: Uuid,
    expires_at: i64,
    ceremony: PasskeyRegistration,
}

/// A second-factor authentication in progress: keep it server-side and take it once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthenticationState {
    user_handle: Uuid,
    expires_at: i64,
    ceremony: PasskeyAuthentication,
}

/// A passwordless sign-in in progress: keep it server-side and take it once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiscoverableState {
    expires_at: i64,
    ceremony: DiscoverableAuthentication,
}

/// A registered passkey as the store keeps it: one row for each passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// The credential ID, base64url without padding. It is unique across all users, so give it a
    /// unique index: WebAuthn §7.1 step 26 refuses an ID already registered to someone else.
    pub credential_id: String,
    /// The owner's WebAuthn user handle (`user.id` at registration). Use a random UUID kept with
    /// the user, not an e-mail address or other personal data (WebAuthn §14.6.1).
    pub user_handle: Uuid,
    /// The backup-eligible (BE) flag: the passkey can be synced off the device.
    pub backup_eligible: bool,
    /// What the browser reported about discoverability (`credProps.rk`). The browser does not sign
    /// this report, so use it only as a hint on the account page.
    pub discoverable: Option<bool>,
    /// webauthn-rs's `Passkey` as JSON: the public key, the counter and the flags. The store
    /// treats it as opaque.
    pub passkey_json: String,
}

/// Who the authenticator says is signing in. Read it before `finish_discoverable`, which needs that
/// user's passkeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identified {
    pub user_handle: Uuid,
    /// base64url without padding, as in [`StoredPasskey::credential_id`].
    pub credential_id: String,
}

/// How the private key of a passkey is kept, for the RFC 8176 `amr` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyProtection {
    /// BE = 0: the key cannot leave its authenticator (a security key or a device-bound platform
    /// key). The authenticator asserts this and nothing attests it.
    DeviceBound,
    /// BE = 1: the key may be synced, for example by a password manager or a platform account.
    Synced,
}

impl KeyProtection {
    /// The RFC 8176 method reference for this key.
    pub fn amr(self) -> &'static str {
        match self {
            // RFC 8176 §2: "hwk", proof of possession of a hardware-secured key.
            Self::DeviceBound => "hwk",
            // RFC 8176 §2: "swk", proof of possession of a software-secured key.
            Self::Synced => "swk",
        }
    }
}

/// A successful passkey authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationOutcome {
    pub user_handle: Uuid,
    pub credential_id: String,
    /// The authenticator's signature counter. It is 0 for authenticators that keep none.
    pub counter: u32,
    /// The BE and BS flags of this assertion.
    pub backup_eligible: bool,
    pub backup_state: bool,
    /// The passkey with its new counter or flags. Save it over the stored row when it is `Some`.
    pub update: Option<StoredPasskey>,
}

impl AuthenticationOutcome {
    pub fn needs_update(&self) -> bool {
        self.update.is_some()
    }

    pub fn key_protection(&self) -> KeyProtection {
        if self.backup_eligible {
            KeyProtection::Synced
        } else {
            KeyProtection::DeviceBound
        }
    }
}

/// Why a passkey ceremony failed. The variants a caller acts on are listed first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// The ceremony took longer than [`CEREMONY_SECONDS`]. Start again.
    #[error("the passkey ceremony has expired")]
    Expired,
    /// The answer was made for another challenge: a replay, or an answer from an earlier ceremony.
    #[error("the answer belongs to another ceremony")]
    WrongChallenge,
    /// The answer was made on another web origin or for another RP ID.
    #[error("the answer was made for another site")]
    WrongOrigin,
    /// The authenticator did not verify the user with a PIN or biometric.
    #[error("the authenticator did not verify the user")]
    UserNotVerified,
    /// The passkey used is not one of this user's.
    #[error("this passkey is not registered to this account")]
    UnknownPasskey,
    /// The answer names a user other than the passkey's owner.
    #[error("the answer names another user")]
    WrongUser,
    /// A passwordless answer carried no user handle, so the user cannot be found.
    #[error("the answer does not say who is signing in")]
    NoUserHandle,
    /// The signature counter did not grow, so the authenticator may have been cloned.
    #[error("the passkey's signature counter went backwards")]
    CounterWentBackwards,
    /// There are no passkeys to authenticate with.
    #[error("no passkey is registered")]
    NoPasskeys,
    /// The browser's answer is not a WebAuthn credential in JSON.
    #[error("the answer is not a WebAuthn credential")]
    Malformed,
    /// The signature, the attestation or the flags did not verify.
    #[error("the passkey answer did not verify: {0}")]
    Rejected(String),
    /// Browsers would refuse the RP ID or origin. Fix the configuration.
    #[error("passkey configuration: {0}")]
    Config(String),
    /// A stored passkey, or options JSON, could not be read or written.
    #[error("passkey data: {0}")]
    Data(String),
}

impl From<WebauthnError> for PasskeyError {
    fn from(error: WebauthnError) -> Self {
        match error {
            WebauthnError::MismatchedChallenge => Self::WrongChallenge,
            WebauthnError::InvalidRPOrigin | WebauthnError::InvalidRPIDHash => Self::WrongOrigin,
            WebauthnError::UserNotVerified => Self::UserNotVerified,
            WebauthnError::CredentialNotFound => Self::UnknownPasskey,
            WebauthnError::CredentialPossibleCompromise => Self::CounterWentBackwards,
            WebauthnError::InvalidUserUniqueId => Self::NoUserHandle,
            WebauthnError::Configuration => Self::Config(error.to_string()),
            other => Self::Rejected(other.to_string()),
        }
    }
}

impl Passkeys {
    pub fn new(config: &PasskeyConfig) -> Result<Self, PasskeyError> {
        // WebAuthn §5.1.3: an RP ID is a domain. Browsers refuse IP addresses.
        let Some(Host::Domain(host)) = config.rp_origin.host() else {
            return Err(PasskeyError::Config(format!(
                "the origin {} has no host name (use localhost, not 127.0.0.1)",
                config.rp_origin
            )));
        };
        // WebAuthn §5.1.3: the RP ID is the origin's host or a registrable suffix of it.
        if host != config.rp_id && !host.ends_with(&format!(".{}", config.rp_id)) {
            return Err(PasskeyError::Config(format!(
                "the RP ID {} is not the origin's host {host} or a suffix of it",
                config.rp_id
            )));
        }
        // WebAuthn §5: only secure contexts have navigator.credentials. That means https, or
        // http on localhost.
        if config.rp_origin.scheme() != "https" && !is_localhost(host) {
            return Err(PasskeyError::Config(format!(
                "the origin {} must use https (plain http works only on localhost)",
                config.rp_origin
            )));
        }
        let webauthn = WebauthnBuilder::new(&config.rp_id, &config.rp_origin)?
            .rp_name(&config.rp_name)
            .allow_any_port(config.allow_any_port)
            .timeout(Duration::from_secs(CEREMONY_SECONDS.unsigned_abs()))
            .build()?;
        Ok(Self { webauthn })
    }

    /// Registration, step 1. Send the JSON to `navigator.credentials.create()`. `existing` holds
    /// the user's passkeys, which the authenticator is asked not to register again.
    pub fn start_registration(
        &self,
        user_handle: Uuid,
        user_name: &str,
        display_name: &str,
        existing: &[StoredPasskey],
        now: i64,
    ) -> Result<(serde_json::Value, RegistrationState), PasskeyError> {
        let exclude = existing
            .iter()
            .map(|stored| stored.passkey().map(|passkey| passkey.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut options, ceremony) = self.webauthn.start_passkey_registration(
            user_handle,
            user_name,
            display_name,
            Some(exclude),
        )?;
        // WebAuthn §5.4.6: passwordless sign-in needs a discoverable credential. webauthn-rs asks
        // for "discouraged", and it enforces nothing about this at finish.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Required);
            selection.require_resident_key = true;
        }
        let state = RegistrationState {
            user_handle,
            expires_at: now + CEREMONY_SECONDS,
            ceremony,
        };
        Ok((to_json(&options)?, state))
    }

    /// Registration, step 2. `response_json` is the browser's `PublicKeyCredential` as JSON.
    pub fn finish_registration(
        &self,
        state: RegistrationState,
        response_json: &str,
        now: i64,
    ) -> Result<StoredPasskey, PasskeyError> {
        // WebAuthn §5.4 `timeout`, enforced on the server too.
        if now > state.expires_at {
            return Err(PasskeyError::Expired);
        }
        let response: RegisterPublicKeyCredential = parse(response_json)?;
        // WebAuthn §7.1 steps 5–25: type, challenge, origin, RP ID hash, UP, UV, algorithm.
        let passkey = self
            .webauthn
            .finish_passkey_registration(&response, &state.ceremony)?;
        // WebAuthn §7.1 step 15: user verification is required.
        if !Credential::from(passkey.clone()).user_verified {
            return Err(PasskeyError::UserNotVerified);
        }
        StoredPasskey::from_passkey(state.user_handle, &passkey)
    }

    /// Second factor, step 1. `passkeys` holds the passkeys of the user who gave a password.
    /// Send the JSON to `navigator.credentials.get()`.
    pub fn start_authentication(
        &self,
        user_handle: Uuid,
        passkeys: &[StoredPasskey],
        now: i64,
    ) -> Result<(serde_json::Value, AuthenticationState), PasskeyError> {
        if passkeys.is_empty() {
            return Err(PasskeyError::NoPasskeys);
        }
        // WebAuthn §7.2 step 6: offer only passkeys that belong to this user.
        if passkeys
            .iter()
            .any(|stored| stored.user_handle != user_handle)
        {
            return Err(PasskeyError::WrongUser);
        }
        let keys = passkeys
            .iter()
            .map(StoredPasskey::passkey)
            .collect::<Result<Vec<_>, _>>()?;
        let (options, ceremony) = self.webauthn.start_passkey_authentication(&keys)?;
        let state = AuthenticationState {
            user_handle,
            expires_at: now + CEREMONY_SECONDS,
            ceremony,
        };
        Ok((to_json(&options)?, state))
    }

    /// Second factor, step 2. `passkeys` holds the user's passkeys as stored now. A passkey removed
    /// since step 1 no longer counts, and the newest stored counter is checked.
    pub fn finish_authentication(
        &self,
        state: AuthenticationState,
        response_json: &str,
        passkeys: &[StoredPasskey],
        now: i64,
    ) -> Result<AuthenticationOutcome, PasskeyError> {
        // WebAuthn §5.5 `timeout`, enforced on the server too.
        if now > state.expires_at {
            return Err(PasskeyError::Expired);
        }
        let response: PublicKeyCredential = parse(response_json)?;
        // WebAuthn §7.2 step 6: any user handle in the answer must be this user's.
        if let Some(handle) = response.get_user_unique_id()
            && handle != state.user_handle.as_bytes()
        {
            return Err(PasskeyError::WrongUser);
        }
        let stored = find(passkeys, response.get_credential_id())?;
        // WebAuthn §7.2 step 6: this user must own the passkey.
        if stored.user_handle != state.user_handle {
            return Err(PasskeyError::WrongUser);
        }
        // WebAuthn §7.2 steps 5–24: allowed credential, challenge, origin, RP ID hash, UP, UV,
        // signature, counter.
        let result = self
            .webauthn
            .finish_passkey_authentication(&response, &state.ceremony)?;
        outcome(stored, &result)
    }

    /// Passwordless, step 1. No user is known yet. Send the JSON to `navigator.credentials.get()`.
    pub fn start_discoverable(
        &self,
        prompt: PasskeyPrompt,
        now: i64,
    ) -> Result<(serde_json::Value, DiscoverableState), PasskeyError> {
        let (mut options, ceremony) = self.webauthn.start_discoverable_authentication()?;
        options.mediation = match prompt {
            PasskeyPrompt::Modal => None,
            PasskeyPrompt::Autofill => Some(Mediation::Conditional),
        };
        let state = DiscoverableState {
            expires_at: now + CEREMONY_SECONDS,
            ceremony,
        };
        Ok((to_json(&options)?, state))
    }

    /// Passwordless, step 2. Read who the answer claims to be, so the caller can load that user's
    /// passkeys. Nothing here is verified yet: `finish_discoverable` verifies it.
    pub fn identify(&self, response_json: &str) -> Result<Identified, PasskeyError> {
        let response: PublicKeyCredential = parse(response_json)?;
        identified(&response)
    }

    /// Passwordless, step 3. `user_passkeys` holds the stored passkeys of the user that
    /// [`Passkeys::identify`] named.
    pub fn finish_discoverable(
        &self,
        state: DiscoverableState,
        response_json: &str,
        user_passkeys: &[StoredPasskey],
        now: i64,
    ) -> Result<AuthenticationOutcome, PasskeyError> {
        // WebAuthn §5.5 `timeout`, enforced on the server too.
        if now > state.expires_at {
            return Err(PasskeyError::Expired);
        }
        let response: PublicKeyCredential = parse(response_json)?;
        let claimed = identified(&response)?;
        let stored = find(user_passkeys, response.get_credential_id())?;
        // WebAuthn §7.2 step 6: the user handle in the answer must be the passkey owner's.
        if stored.user_handle != claimed.user_handle {
            return Err(PasskeyError::WrongUser);
        }
        // WebAuthn §7.2 steps 7–24, checked against this one passkey.
        let key = DiscoverableKey::from(stored.passkey()?);
        let result =
            self.webauthn
                .finish_discoverable_authentication_v2(&response, state.ceremony, &key)?;
        outcome(stored, &result)
    }
}

impl StoredPasskey {
    fn from_passkey(user_handle: Uuid, passkey: &Passkey) -> Result<Self, PasskeyError> {
        let credential = Credential::from(passkey.clone());
        let discoverable = match credential.extensions.cred_props {
            ExtnState::Set(props) | ExtnState::Unsigned(props) | ExtnState::Unsolicited(props) => {
                props.rk
            }
            ExtnState::NotRequested | ExtnState::Ignored => None,
        };
        Ok(Self {
            credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice()),
            user_handle,
            backup_eligible: credential.backup_eligible,
            discoverable,
            passkey_json: serde_json::to_string(passkey)
                .map_err(|e| PasskeyError::Data(e.to_string()))?,
        })
    }

    fn passkey(&self) -> Result<Passkey, PasskeyError> {
        serde_json::from_str(&self.passkey_json).map_err(|e| PasskeyError::Data(e.to_string()))
    }
}

fn identified(response: &PublicKeyCredential) -> Result<Identified, PasskeyError> {
    // WebAuthn §7.2 step 6: when no user was named first, the answer must carry a user handle.
    let handle = response
        .get_user_unique_id()
        .ok_or(PasskeyError::NoUserHandle)?;
    let user_handle = Uuid::from_slice(handle).map_err(|_| PasskeyError::NoUserHandle)?;
    Ok(Identified {
        user_handle,
        credential_id: URL_SAFE_NO_PAD.encode(response.get_credential_id()),
    })
}

fn find<'a>(
    passkeys: &'a [StoredPasskey],
    credential_id: &[u8],
) -> Result<&'a StoredPasskey, PasskeyError> {
    let wanted = URL_SAFE_NO_PAD.encode(credential_id);
    passkeys
        .iter()
        .find(|stored| stored.credential_id == wanted)
        .ok_or(PasskeyError::UnknownPasskey)
}

fn outcome(
    stored: &StoredPasskey,
    result: &AuthenticationResult,
) -> Result<AuthenticationOutcome, PasskeyError> {
    // WebAuthn §7.2 step 17: user verification is required for every passkey sign-in.
    if !result.user_verified() {
        return Err(PasskeyError::UserNotVerified);
    }
    let mut passkey = stored.passkey()?;
    let stored_counter = Credential::from(passkey.clone()).counter;
    // WebAuthn §7.2 step 22: a counter that does not grow may mean a cloned authenticator.
    // webauthn-rs checked the copy in the state. This checks the store's, which may be newer.
    if (result.counter() > 0 || stored_counter > 0) && result.counter() <= stored_counter {
        return Err(PasskeyError::CounterWentBackwards);
    }
    let update = match passkey.update_credential(result) {
        Some(true) => Some(StoredPasskey::from_passkey(stored.user_handle, &passkey)?),
        Some(false) | None => None,
    };
    Ok(AuthenticationOutcome {
        user_handle: stored.user_handle,
        credential_id: stored.credential_id.clone(),
        counter: result.counter(),
        backup_eligible: result.backup_eligible(),
        backup_state: result.backup_state(),
        update,
    })
}

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(json).map_err(|_| PasskeyError::Malformed)
}

fn to_json<T: Serialize>(options: &T) -> Result<serde_json::Value, PasskeyError> {
    serde_json::to_value(options).map_err(|e| PasskeyError::Data(e.to_string()))
}

/// Browsers treat `localhost` and its subdomains as secure contexts, even over plain http.
fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rp_id: &str, origin: &str) -> PasskeyConfig {
        PasskeyConfig {
            rp_id: rp_id.to_owned(),
            rp_origin: Url::parse(origin).unwrap(),
            rp_name: "Gatehouse".to_owned(),
            allow_any_port: false,
        }
    }

    #[test]
    fn origins_browsers_accept_are_accepted() {
        for (rp_id, origin) in [
            ("localhost", "http://localhost:8080"),
            ("example.com", "https://id.example.com"),
            ("id.example.com", "https://id.example.com:8443"),
        ] {
            assert!(Passkeys::new(&config(rp_id, origin)).is_ok(), "{origin}");
        }
    }

    #[test]
    fn origins_browsers_refuse_are_refused() {
        for (rp_id, origin) in [
            ("127.0.0.1", "http://127.0.0.1:8080"),
            ("localhost", "http://127.0.0.1:8080"),
            ("[::1]", "http://[::1]:8080"),
            ("example.com", "http://id.example.com"),
            ("example.com", "https://id.example.org"),
            ("ample.com", "https://example.com"),
        ] {
            assert!(
                matches!(
                    Passkeys::new(&config(rp_id, origin)),
                    Err(PasskeyError::Config(_))
                ),
                "{origin}"
            );
        }
    }

    #[test]
    fn config_follows_the_issuer() {
        let issuer = Url::parse("http://localhost:8080/").unwrap();
        let config = PasskeyConfig::for_issuer(&issuer, "Gatehouse").unwrap();
        assert_eq!(config.rp_id, "localhost");
        assert_eq!(config.rp_origin.as_str(), "http://localhost:8080/");
        let ip_issuer = Url::parse("http://127.0.0.1:8080").unwrap();
        assert!(PasskeyConfig::for_issuer(&ip_issuer, "Gatehouse").is_err());
    }

    #[test]
    fn backup_eligible_passkeys_are_software_keys() {
        assert_eq!(KeyProtection::DeviceBound.amr(), "hwk");
        assert_eq!(KeyProtection::Synced.amr(), "swk");
    }
}
