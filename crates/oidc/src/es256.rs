//! ES256 signatures without OpenSSL's per-signature set-up.
//!
//! josekit's ES256 signer builds an EVP signing context for every signature (fetching the algorithm
//! from OpenSSL's provider tables) and then converts OpenSSL's DER signature to JWS's `r || s`. On the
//! token endpoint that was about a tenth of the CPU of an ES256 token. This signer keeps the parsed
//! EC key, hashes with SHA-256 and signs the digest directly, and writes `r || s` itself. Tokens it
//! signs verify with josekit's own ES256 verifier (see the tests).

use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jws::{ES256, JwsAlgorithm, JwsSigner};
use openssl::ec::EcKey;
use openssl::ecdsa::EcdsaSig;
use openssl::pkey::Private;

/// One P-256 coordinate, and so each half of a JWS ES256 signature (RFC 7518 §3.4).
const HALF: i32 = 32;

#[derive(Clone)]
pub(crate) struct Es256Signer {
    key: EcKey<Private>,
}

impl std::fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Signer").finish_non_exhaustive()
    }
}

impl Es256Signer {
    /// From a private P-256 JWK.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let pair = EcKeyPair::from_jwk(jwk)?;
        let key = EcKey::private_key_from_der(&pair.to_raw_private_key())
            .map_err(|e| JoseError::InvalidKeyFormat(e.into()))?;
        Ok(Self { key })
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
        let digest = openssl::sha::sha256(message);
        let signature = EcdsaSig::sign(&digest, &self.key)
            .map_err(|e| JoseError::InvalidSignature(e.into()))?;
        let mut out = signature
            .r()
            .to_vec_padded(HALF)
            .map_err(|e| JoseError::InvalidSignature(e.into()))?;
        out.extend(
            signature
                .s()
                .to_vec_padded(HALF)
                .map_err(|e| JoseError::InvalidSignature(e.into()))?,
        );
        Ok(out)
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
