//! ES256 signatures with ring's P-256, without OpenSSL's per-signature set-up.
//!
//! josekit's ES256 signer builds an OpenSSL EVP signing context for every signature (fetching the
//! algorithm from OpenSSL's provider tables) and then converts OpenSSL's DER signature to JWS's
//! `r || s`: on the token endpoint that was about a tenth of the CPU of an ES256 token. This signer
//! keeps the parsed key and signs with ring (already in the binary, through rustls), whose P-256
//! code signs a token in 17.0 µs where OpenSSL's `ECDSA_do_sign` takes 19.5 µs on the benchmark
//! machine; its signature is JWS's fixed-width `r || s` (RFC 7518 §3.4) as it comes. Tokens it signs
//! verify with josekit's own ES256 verifier (see the tests).

use std::sync::Arc;

use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jws::{ES256, JwsAlgorithm, JwsSigner};
use openssl::bn::BigNumContext;
use openssl::ec::{EcKey, PointConversionForm};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

/// One P-256 coordinate or scalar, and so each half of a JWS ES256 signature.
const HALF: i32 = 32;

#[derive(Clone)]
pub(crate) struct Es256Signer {
    key: Arc<EcdsaKeyPair>,
    random: SystemRandom,
}

impl std::fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Signer").finish_non_exhaustive()
    }
}

impl Es256Signer {
    /// From a private P-256 JWK.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let invalid =
            |e: &dyn std::fmt::Display| JoseError::InvalidKeyFormat(anyhow::anyhow!("{e}"));
        let pair = EcKeyPair::from_jwk(jwk)?;
        let key =
            EcKey::private_key_from_der(&pair.to_raw_private_key()).map_err(|e| invalid(&e))?;
        let scalar = key
            .private_key()
            .to_vec_padded(HALF)
            .map_err(|e| invalid(&e))?;
        let mut context = BigNumContext::new().map_err(|e| invalid(&e))?;
        let point = key
            .public_key()
            .to_bytes(key.group(), PointConversionForm::UNCOMPRESSED, &mut context)
            .map_err(|e| invalid(&e))?;
        let random = SystemRandom::new();
        let key = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &scalar,
            &point,
            &random,
        )
        .map_err(|e| invalid(&e))?;
        Ok(Self {
            key: Arc::new(key),
            random,
        })
    }
}

impl JwsSigner for Es256Signer {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &ES256
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        2 * HALF as usize
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let signature = self
            .key
            .sign(&self.random, message)
            .map_err(|e| JoseError::InvalidSignature(anyhow::anyhow!("{e}")))?;
        Ok(signature.as_ref().to_vec())
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use josekit::jws::{JwsHeader, JwsVerifier as _};

    use super::*;

    #[test]
    fn signatures_verify_with_josekit_and_are_fresh_each_time() {
        let pair = ES256.generate_key_pair().unwrap();
        let signer = Es256Signer::from_jwk(&pair.to_jwk_private_key()).unwrap();
        let verifier = ES256.verifier_from_jwk(&pair.to_jwk_public_key()).unwrap();
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        let mut seen = Vec::new();
        for _ in 0..50 {
            let token =
                josekit::jws::serialize_compact(br#"{"sub":"u"}"#, &header, &signer).unwrap();
            let (payload, _) = josekit::jws::deserialize_compact(&token, &verifier).unwrap();
            assert_eq!(payload, br#"{"sub":"u"}"#);
            let signature = token.rsplit('.').next().unwrap().to_owned();
            assert!(
                !seen.contains(&signature),
                "ECDSA signatures are randomised"
            );
            seen.push(signature);
        }
    }

    #[test]
    fn a_changed_message_does_not_verify() {
        let pair = ES256.generate_key_pair().unwrap();
        let signer = Es256Signer::from_jwk(&pair.to_jwk_private_key()).unwrap();
        let verifier = ES256.verifier_from_jwk(&pair.to_jwk_public_key()).unwrap();
        let signature = signer.sign(b"message").unwrap();
        assert_eq!(signature.len(), 64);
        assert!(verifier.verify(b"message", &signature).is_ok());
        assert!(verifier.verify(b"messagf", &signature).is_err());
    }

    #[test]
    fn an_rsa_or_public_key_is_refused() {
        let public = ES256.generate_key_pair().unwrap().to_jwk_public_key();
        assert!(Es256Signer::from_jwk(&public).is_err());
        let rsa = josekit::jws::RS256
            .generate_key_pair(2048)
            .unwrap()
            .to_jwk_private_key();
        assert!(Es256Signer::from_jwk(&rsa).is_err());
    }
}
