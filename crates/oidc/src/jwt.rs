//! Compact JWS: signing with a [`LoadedKey`] and verifying against a [`KeySet`].

use josekit::jws::JwsHeader;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::keys::{KeySet, LoadedKey};

pub const TYP_JWT: &str = "JWT";
/// RFC 9068 §2.1.
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";

pub fn sign(key: &LoadedKey, typ: &str, claims: &impl Serialize) -> Result<String> {
    let payload = serde_json::to_vec(claims).map_err(|e| Error::Keys(e.to_string()))?;
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    header.set_key_id(&key.kid);
    josekit::jws::serialize_compact(&payload, &header, &*key.signer)
        .map_err(|e| Error::Keys(e.to_string()))
}

/// Why a presented token was not accepted. Callers turn every variant into the same `invalid_token`.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("signature, key or algorithm not accepted")]
    Signature,
    #[error("token type {0:?} not accepted here")]
    Type(Option<String>),
    #[error("claims malformed")]
    Claims,
}

/// Verifies the signature with the key named by `kid`, only with that key's own algorithm (so `alg: none`
/// or an algorithm switch finds no verifier), and checks the `typ` header.
pub fn verify<C: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    typ: &str,
) -> Result<C, VerifyError> {
    verify_with_kid(keys, token, typ).map(|(claims, _)| claims)
}

/// As [`verify`], also returning the `kid` of the key that signed the token.
pub fn verify_with_kid<C: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    typ: &str,
) -> Result<(C, String), VerifyError> {
    let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
        let Some(key) = header.key_id().and_then(|kid| keys.by_kid(kid)) else {
            return Ok(None);
        };
        if header.algorithm() != Some(key.alg.as_str()) {
            return Ok(None);
        }
        Ok(Some(&*key.verifier))
    })
    .map_err(|_| VerifyError::Signature)?;
    if header.token_type() != Some(typ) {
        return Err(VerifyError::Type(header.token_type().map(str::to_owned)));
    }
    let kid = header.key_id().ok_or(VerifyError::Signature)?.to_owned();
    let claims = serde_json::from_slice(&payload).map_err(|_| VerifyError::Claims)?;
    Ok((claims, kid))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::crypto::MasterKey;
    use crate::keys::{SigningAlg, generate};

    fn keyset() -> KeySet {
        let master = MasterKey::generate();
        let keys: Vec<_> = SigningAlg::ALL
            .iter()
            .map(|alg| generate(*alg, &master, 1).unwrap())
            .collect();
        KeySet::load(&keys, &master, 2, 60).unwrap()
    }

    #[test]
    fn signed_token_verifies_for_every_alg() {
        let keys = keyset();
        for alg in SigningAlg::ALL {
            let token = sign(
                keys.signing_key(alg).unwrap(),
                TYP_JWT,
                &serde_json::json!({"sub": "u"}),
            )
            .unwrap();
            let claims: serde_json::Value = verify(&keys, &token, TYP_JWT).unwrap();
            assert_eq!(claims["sub"], "u");
        }
    }

    #[test]
    fn alg_none_is_rejected() {
        let keys = keyset();
        let kid = &keys.signing_key(SigningAlg::RS256).unwrap().kid;
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        let body = URL_SAFE_NO_PAD.encode(r#"{"sub":"u"}"#);
        let token = format!("{header}.{body}.");
        assert!(matches!(
            verify::<serde_json::Value>(&keys, &token, TYP_JWT),
            Err(VerifyError::Signature)
        ));
    }

    #[test]
    fn foreign_key_is_rejected() {
        let keys = keyset();
        let other = keyset();
        let token = sign(
            other.signing_key(SigningAlg::ES256).unwrap(),
            TYP_JWT,
            &serde_json::json!({}),
        )
        .unwrap();
        assert!(verify::<serde_json::Value>(&keys, &token, TYP_JWT).is_err());
    }

    #[test]
    fn wrong_typ_is_rejected() {
        let keys = keyset();
        let token = sign(
            keys.signing_key(SigningAlg::ES256).unwrap(),
            TYP_JWT,
            &serde_json::json!({}),
        )
        .unwrap();
        assert!(matches!(
            verify::<serde_json::Value>(&keys, &token, TYP_ACCESS_TOKEN),
            Err(VerifyError::Type(_))
        ));
    }
}
