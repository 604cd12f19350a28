//! Recovery codes: ten single-use codes, shown once, usable in place of any second factor. Stored as
//! HMAC-SHA256 under a key derived from the master key: a copy of the database alone cannot be used to
//! test guesses offline.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng as _;

pub const COUNT: usize = 10;
/// Crockford's base32 alphabet: no I, L, O or U, so codes read aloud or typed from paper survive.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 12 characters of 5 bits: 60 bits per code.
const LENGTH: usize = 12;

/// A fresh set of codes, formatted `XXXX-XXXX-XXXX`.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

/// A typed code in canonical form: upper case, without spaces or hyphens, with the look-alikes O→0
/// and I/L→1. `None` when it cannot be a recovery code.
pub fn normalize(typed: &str) -> Option<String> {
    let canonical: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (canonical.len() == LENGTH && canonical.bytes().all(|b| ALPHABET.contains(&b)))
        .then_some(canonical)
}

/// The stored form of a code (normalised first).
pub fn hash(key: &[u8; 32], code: &str) -> Option<String> {
    let canonical = normalize(code)?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(canonical.as_bytes());
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_well_formed_codes() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 14);
            assert!(normalize(code).is_some(), "{code}");
        }
    }

    #[test]
    fn typing_variants_hash_alike() {
        let key = [3u8; 32];
        let a = hash(&key, "0A1B-2C3D-4E5F").unwrap();
        assert_eq!(hash(&key, "oa1b 2c3d 4e5f"), Some(a.clone()));
        assert_eq!(hash(&key, "0A1B2C3D4E5F"), Some(a));
    }

    #[test]
    fn malformed_codes_do_not_hash() {
        for code in [
            "",
            "0A1B-2C3D",
            "0A1B-2C3D-4E5F-6",
            "UUUU-UUUU-UUUU",
            "0A1B-2C3D-4E5!",
        ] {
            assert!(hash(&[0; 32], code).is_none(), "{code}");
        }
    }

    #[test]
    fn hash_depends_on_the_key() {
        assert_ne!(
            hash(&[1; 32], "0A1B-2C3D-4E5F"),
            hash(&[2; 32], "0A1B-2C3D-4E5F")
        );
    }
}
