//! Passkeys end to end, with a software authenticator in place of a browser and a security key.
//!
//! The authenticator is 1Password's `passkey` crate: a CTAP2 authenticator behind a WebAuthn
//! client. The client checks the RP ID against the origin and builds `clientDataJSON` as a browser
//! does. The client reads the options JSON that `start_*` returns and writes its answer as JSON
//! with base64url fields, as `PublicKeyCredential.toJSON()` does in a browser. That JSON goes to
//! `finish_*` unchanged. Every state passes through JSON, as it would through the database.
//! Nothing here touches the network.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking"
)]

use gatehouse_mfa::passkey::{
    CEREMONY_SECONDS, KeyProtection, PasskeyConfig, PasskeyError, PasskeyPrompt, Passkeys,
    StoredPasskey,
};
use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::Passkey as DeviceKey;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;
use uuid::Uuid;

const ISSUER: &str = "http://localhost:8080";
const NOW: i64 = 1_700_000_000;

/// The person at the authenticator. They are always present, and they pass a PIN or biometric
/// check whenever the authenticator asks for one.
struct Person;

#[async_trait::async_trait]
impl UserValidationMethod for Person {
    type PasskeyItem = DeviceKey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, DeviceKey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

type DeviceClient =
    Client<Option<DeviceKey>, Person, RustCryptoBackend, public_suffix::PublicSuffixList, ()>;

/// A platform authenticator holding one discoverable passkey, used from a page at `origin`.
struct Device {
    client: DeviceClient,
    origin: Url,
}

impl Device {
    /// An authenticator that keeps a signature counter, as security keys do.
    fn new() -> Self {
        Self::at(ISSUER, true)
    }

    /// An authenticator without a counter: the counter stays 0, as with most synced passkeys.
    fn without_counter() -> Self {
        Self::at(ISSUER, false)
    }

    fn at(origin: &str, counter: bool) -> Self {
        let mut authenticator =
            Authenticator::new(Aaguid::new_empty(), None, Person, RustCryptoBackend);
        authenticator.set_make_credentials_with_signature_counter(counter);
        Self {
            client: Client::new(authenticator).allows_insecure_localhost(true),
            origin: Url::parse(origin).unwrap(),
        }
    }

    /// `navigator.credentials.create(options)`, then `credential.toJSON()`.
    async fn create(&mut self, options: &Value) -> String {
        let request: CredentialCreationOptions = serde_json::from_value(options.clone()).unwrap();
        let credential = self
            .client
            .register(&self.origin, request, DefaultClientData)
            .await
            .unwrap();
        serde_json::to_string(&credential).unwrap()
    }

    /// `navigator.credentials.get(options)`, then `credential.toJSON()`.
    async fn get(&mut self, options: &Value) -> String {
        let request: CredentialRequestOptions = serde_json::from_value(options.clone()).unwrap();
        let credential = self
            .client
            .authenticate(&self.origin, request, DefaultClientData)
            .await
            .unwrap();
        serde_json::to_string(&credential).unwrap()
    }

    /// A copy of the authenticator's secret state, as a cloned authenticator would hold it.
    fn clone_key(&self) -> Option<DeviceKey> {
        self.client.authenticator().store().clone()
    }

    fn replace_key(&mut self, key: Option<DeviceKey>) {
        *self.client.authenticator_mut().store_mut() = key;
    }
}

fn service() -> Passkeys {
    let issuer = Url::parse(ISSUER).unwrap();
    Passkeys::new(&PasskeyConfig::for_issuer(&issuer, "Gatehouse").unwrap()).unwrap()
}

/// A round trip through JSON, as through the database between two HTTP requests.
fn through_store<T: Serialize + DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

async fn register(service: &Passkeys, device: &mut Device, user: Uuid) -> StoredPasskey {
    let (options, state) = service
        .start_registration(user, "ada@example.com", "Ada", &[], NOW)
        .unwrap();
    let response = device.create(&options).await;
    service
        .finish_registration(through_store(&state), &response, NOW + 5)
        .unwrap()
}

/// One second-factor ceremony from start to finish; saves the updated passkey, as the caller must.
async fn second_factor(
    service: &Passkeys,
    device: &mut Device,
    stored: &mut StoredPasskey,
) -> Result<u32, PasskeyError> {
    let (options, state) = service
        .start_authentication(stored.user_handle, std::slice::from_ref(stored), NOW)
        .unwrap();
    let response = device.get(&options).await;
    let outcome = service.finish_authentication(
        through_store(&state),
        &response,
        std::slice::from_ref(stored),
        NOW + 5,
    )?;
    if let Some(updated) = outcome.update {
        *stored = updated;
    }
    Ok(outcome.counter)
}

fn remove_user_handle(response: &str) -> String {
    let mut json: Value = serde_json::from_str(response).unwrap();
    json["response"]["userHandle"] = Value::Null;
    json.to_string()
}

fn set_user_handle(response: &str, user: Uuid) -> String {
    use base64::Engine as _;
    let mut json: Value = serde_json::from_str(response).unwrap();
    json["response"]["userHandle"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(user.as_bytes())
        .into();
    json.to_string()
}

// 1. Register, then use the passkey as a second factor.

#[tokio::test]
async fn registered_passkey_passes_as_second_factor() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    assert_eq!(stored.user_handle, ada);

    let (options, state) = service
        .start_authentication(ada, std::slice::from_ref(&stored), NOW)
        .unwrap();
    assert_eq!(
        options["publicKey"]["allowCredentials"][0]["id"],
        stored.credential_id.as_str()
    );
    let response = device.get(&options).await;
    let outcome = service
        .finish_authentication(
            through_store(&state),
            &response,
            std::slice::from_ref(&stored),
            NOW + 5,
        )
        .unwrap();

    assert_eq!(outcome.user_handle, ada);
    assert_eq!(outcome.credential_id, stored.credential_id);
}

// 2. Passwordless: the authenticator names the user.

#[tokio::test]
async fn discoverable_sign_in_finds_the_user_from_the_passkey() {
    let service = service();
    let (ada, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let mut ada_device = Device::new();
    let mut bob_device = Device::new();
    let store = [
        register(&service, &mut ada_device, ada).await,
        register(&service, &mut bob_device, bob).await,
    ];
    assert_eq!(store[0].discoverable, Some(true));

    let (options, state) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        serde_json::json!([])
    );
    assert!(options.get("mediation").is_none());
    let response = ada_device.get(&options).await;

    let who = service.identify(&response).unwrap();
    assert_eq!(who.user_handle, ada);
    let adas_passkeys: Vec<StoredPasskey> = store
        .iter()
        .filter(|p| p.user_handle == who.user_handle)
        .cloned()
        .collect();
    let outcome = service
        .finish_discoverable(through_store(&state), &response, &adas_passkeys, NOW + 5)
        .unwrap();

    assert_eq!(outcome.user_handle, ada);
    assert_eq!(outcome.credential_id, who.credential_id);
    assert_eq!(outcome.credential_id, store[0].credential_id);
}

#[tokio::test]
async fn autofill_prompt_asks_for_conditional_mediation() {
    let (options, _) = service()
        .start_discoverable(PasskeyPrompt::Autofill, NOW)
        .unwrap();
    assert_eq!(options["mediation"], "conditional");
}

#[tokio::test]
async fn registration_excludes_the_users_existing_passkeys() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let (options, _) = service
        .start_registration(
            ada,
            "ada@example.com",
            "Ada",
            std::slice::from_ref(&stored),
            NOW,
        )
        .unwrap();
    assert_eq!(
        options["publicKey"]["excludeCredentials"][0]["id"],
        stored.credential_id.as_str()
    );
}

// 3. User verification is required.

#[tokio::test]
async fn every_ceremony_asks_for_user_verification() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let (create, _) = service
        .start_registration(ada, "ada@example.com", "Ada", &[], NOW)
        .unwrap();
    let selection = &create["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);

    let stored = register(&service, &mut device, ada).await;
    let (second_factor, _) = service.start_authentication(ada, &[stored], NOW).unwrap();
    assert_eq!(second_factor["publicKey"]["userVerification"], "required");
    let (passwordless, _) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    assert_eq!(passwordless["publicKey"]["userVerification"], "required");
}

/// The authenticator does what the options ask. A client that lowers the request to
/// "discouraged" gets an answer without the UV flag, and the server must refuse it.
fn downgrade(mut options: Value) -> Value {
    let public_key = &mut options["publicKey"];
    if public_key.get("authenticatorSelection").is_some() {
        public_key["authenticatorSelection"]["userVerification"] = "discouraged".into();
    } else {
        public_key["userVerification"] = "discouraged".into();
    }
    options
}

#[tokio::test]
async fn registration_without_user_verification_is_refused() {
    let service = service();
    let mut device = Device::new();
    let (options, state) = service
        .start_registration(Uuid::new_v4(), "ada@example.com", "Ada", &[], NOW)
        .unwrap();
    let response = device.create(&downgrade(options)).await;
    assert_eq!(
        service.finish_registration(state, &response, NOW + 5),
        Err(PasskeyError::UserNotVerified)
    );
}

#[tokio::test]
async fn second_factor_without_user_verification_is_refused() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let passkeys = std::slice::from_ref(&stored);
    let (options, state) = service.start_authentication(ada, passkeys, NOW).unwrap();
    let response = device.get(&downgrade(options)).await;
    assert_eq!(
        service.finish_authentication(state, &response, passkeys, NOW + 5),
        Err(PasskeyError::UserNotVerified)
    );
}

#[tokio::test]
async fn passwordless_without_user_verification_is_refused() {
    let service = service();
    let mut device = Device::new();
    let stored = register(&service, &mut device, Uuid::new_v4()).await;
    let (options, state) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    let response = device.get(&downgrade(options)).await;
    assert_eq!(
        service.finish_discoverable(state, &response, &[stored], NOW + 5),
        Err(PasskeyError::UserNotVerified)
    );
}

// 4. An answer to another challenge is refused.

#[tokio::test]
async fn answer_from_an_earlier_ceremony_is_refused() {
    let service = service();
    let mut device = Device::without_counter();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let passkeys = std::slice::from_ref(&stored);

    let (earlier, _) = service.start_authentication(ada, passkeys, NOW).unwrap();
    let old_response = device.get(&earlier).await;
    let (_, state) = service.start_authentication(ada, passkeys, NOW).unwrap();
    assert_eq!(
        service.finish_authentication(state, &old_response, passkeys, NOW + 5),
        Err(PasskeyError::WrongChallenge)
    );

    let (earlier, _) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    let old_response = device.get(&earlier).await;
    let (_, state) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    assert_eq!(
        service.finish_discoverable(state, &old_response, passkeys, NOW + 5),
        Err(PasskeyError::WrongChallenge)
    );
}

#[tokio::test]
async fn registration_answer_from_another_ceremony_is_refused() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let (earlier, _) = service
        .start_registration(ada, "ada@example.com", "Ada", &[], NOW)
        .unwrap();
    let old_response = device.create(&earlier).await;
    let (_, state) = service
        .start_registration(ada, "ada@example.com", "Ada", &[], NOW)
        .unwrap();
    assert_eq!(
        service.finish_registration(state, &old_response, NOW + 5),
        Err(PasskeyError::WrongChallenge)
    );
}

/// The reason the store must take a state exactly once. webauthn-rs is stateless: a state left in
/// place accepts the same answer again from an authenticator without a counter.
#[tokio::test]
async fn a_state_left_in_the_store_accepts_a_replay_so_take_it_once() {
    let service = service();
    let mut device = Device::without_counter();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let passkeys = std::slice::from_ref(&stored);
    let (options, state) = service.start_authentication(ada, passkeys, NOW).unwrap();
    let response = device.get(&options).await;
    let first = service.finish_authentication(state.clone(), &response, passkeys, NOW + 5);
    let replay = service.finish_authentication(state, &response, passkeys, NOW + 6);
    assert!(first.is_ok());
    assert!(
        replay.is_ok(),
        "webauthn-rs keeps no record of used challenges"
    );
}

#[tokio::test]
async fn replay_with_a_counter_is_refused_once_the_update_is_saved() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let (options, state) = service
        .start_authentication(ada, std::slice::from_ref(&stored), NOW)
        .unwrap();
    let response = device.get(&options).await;
    let outcome = service
        .finish_authentication(
            state.clone(),
            &response,
            std::slice::from_ref(&stored),
            NOW + 5,
        )
        .unwrap();
    let saved = outcome.update.unwrap();
    assert_eq!(
        service.finish_authentication(state, &response, &[saved], NOW + 6),
        Err(PasskeyError::CounterWentBackwards)
    );
}

#[tokio::test]
async fn expired_ceremony_is_refused() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let passkeys = std::slice::from_ref(&stored);
    let (options, state) = service.start_authentication(ada, passkeys, NOW).unwrap();
    let response = device.get(&options).await;
    let late = NOW + CEREMONY_SECONDS + 1;
    assert_eq!(
        service.finish_authentication(state, &response, passkeys, late),
        Err(PasskeyError::Expired)
    );
}

// 5. The signature counter.

#[tokio::test]
async fn signature_counter_is_updated_after_use() {
    let service = service();
    let mut device = Device::new();
    let mut stored = register(&service, &mut device, Uuid::new_v4()).await;
    let registered = stored.clone();

    assert_eq!(
        second_factor(&service, &mut device, &mut stored).await,
        Ok(1)
    );
    assert_ne!(stored, registered, "the outcome carried an update to save");
    assert_eq!(
        second_factor(&service, &mut device, &mut stored).await,
        Ok(2)
    );
}

/// A cloned authenticator: copy the authenticator's key and counter, use the original twice, then
/// sign with the copy. Its counter (1) is behind the stored one (2).
#[tokio::test]
async fn counter_that_goes_backwards_is_refused() {
    let service = service();
    let mut device = Device::new();
    let mut stored = register(&service, &mut device, Uuid::new_v4()).await;
    let copy = device.clone_key();
    second_factor(&service, &mut device, &mut stored)
        .await
        .unwrap();
    second_factor(&service, &mut device, &mut stored)
        .await
        .unwrap();

    device.replace_key(copy);
    assert_eq!(
        second_factor(&service, &mut device, &mut stored).await,
        Err(PasskeyError::CounterWentBackwards)
    );
}

// 6. One user's passkey cannot sign in another user.

#[tokio::test]
async fn passkey_of_user_a_cannot_finish_second_factor_for_user_b() {
    let service = service();
    let (ada, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let mut ada_device = Device::new();
    let mut bob_device = Device::new();
    let adas = register(&service, &mut ada_device, ada).await;
    let bobs = register(&service, &mut bob_device, bob).await;

    // Bob gave his password. Ada answers Bob's challenge with her own passkey: her client drops
    // the allowCredentials list that names only Bob's passkey.
    let (mut options, state) = service
        .start_authentication(bob, std::slice::from_ref(&bobs), NOW)
        .unwrap();
    options["publicKey"]["allowCredentials"] = serde_json::json!([]);
    let response = ada_device.get(&options).await;
    let bobs_passkeys = std::slice::from_ref(&bobs);
    assert_eq!(
        service
            .start_authentication(bob, &[adas.clone(), bobs.clone()], NOW)
            .err(),
        Some(PasskeyError::WrongUser),
        "only Bob's passkeys may be offered to Bob"
    );

    // The answer names Ada.
    assert_eq!(
        service.finish_authentication(state.clone(), &response, bobs_passkeys, NOW + 5),
        Err(PasskeyError::WrongUser)
    );
    // The signature does not cover the user handle, so a client can drop it. Ada's passkey
    // is still not one of Bob's.
    let anonymous = remove_user_handle(&response);
    assert_eq!(
        service.finish_authentication(state.clone(), &anonymous, bobs_passkeys, NOW + 5),
        Err(PasskeyError::UnknownPasskey)
    );
    // A careless caller that passes every user's passkeys is still refused.
    assert_eq!(
        service.finish_authentication(state, &anonymous, &[adas, bobs], NOW + 5),
        Err(PasskeyError::WrongUser)
    );
}

#[tokio::test]
async fn passkey_of_user_a_cannot_finish_passwordless_sign_in_as_user_b() {
    let service = service();
    let (ada, bob) = (Uuid::new_v4(), Uuid::new_v4());
    let mut ada_device = Device::new();
    let mut bob_device = Device::new();
    let adas = register(&service, &mut ada_device, ada).await;
    let bobs = register(&service, &mut bob_device, bob).await;

    // The signature does not cover the user handle, so Ada can claim to be Bob.
    let (options, state) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    let response = set_user_handle(&ada_device.get(&options).await, bob);
    assert_eq!(service.identify(&response).unwrap().user_handle, bob);

    assert_eq!(
        service.finish_discoverable(
            state.clone(),
            &response,
            std::slice::from_ref(&bobs),
            NOW + 5
        ),
        Err(PasskeyError::UnknownPasskey)
    );
    // A careless caller that loads Ada's passkey by credential ID is still refused.
    assert_eq!(
        service.finish_discoverable(state, &response, &[adas], NOW + 5),
        Err(PasskeyError::WrongUser)
    );
}

// Origins (question e).

#[tokio::test]
async fn answer_from_another_origin_is_refused() {
    let service = service();
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    let passkeys = std::slice::from_ref(&stored);
    let mut elsewhere = Device::at("http://localhost:9999", true);
    elsewhere.replace_key(device.clone_key());

    let (options, state) = service.start_authentication(ada, passkeys, NOW).unwrap();
    let response = elsewhere.get(&options).await;
    assert_eq!(
        service.finish_authentication(state, &response, passkeys, NOW + 5),
        Err(PasskeyError::WrongOrigin)
    );
}

#[tokio::test]
async fn any_port_is_accepted_when_allowed_for_tests() {
    let config = PasskeyConfig {
        allow_any_port: true,
        ..PasskeyConfig::for_issuer(&Url::parse(ISSUER).unwrap(), "Gatehouse").unwrap()
    };
    let service = Passkeys::new(&config).unwrap();
    let mut device = Device::at("http://localhost:43210", true);
    let mut stored = register(&service, &mut device, Uuid::new_v4()).await;
    assert_eq!(
        second_factor(&service, &mut device, &mut stored).await,
        Ok(1)
    );
}

#[tokio::test]
async fn malformed_answer_is_refused() {
    let service = service();
    let (_, state) = service
        .start_discoverable(PasskeyPrompt::Modal, NOW)
        .unwrap();
    assert_eq!(
        service.finish_discoverable(state, "{\"id\": 1}", &[], NOW),
        Err(PasskeyError::Malformed)
    );
}

// Key protection (question a): the BE flag chooses the RFC 8176 `amr` value.

#[tokio::test]
async fn synced_passkey_earns_swk() {
    let service = service();
    // passkey-rs is a password manager's authenticator, so it sets BE and BS on every passkey.
    let mut device = Device::new();
    let ada = Uuid::new_v4();
    let stored = register(&service, &mut device, ada).await;
    assert!(stored.backup_eligible);
    let passkeys = std::slice::from_ref(&stored);
    let (options, state) = service.start_authentication(ada, passkeys, NOW).unwrap();
    let response = device.get(&options).await;
    let outcome = service
        .finish_authentication(state, &response, passkeys, NOW + 5)
        .unwrap();
    assert!(outcome.backup_eligible && outcome.backup_state);
    assert_eq!(outcome.key_protection(), KeyProtection::Synced);
    assert_eq!(outcome.key_protection().amr(), "swk");
}
