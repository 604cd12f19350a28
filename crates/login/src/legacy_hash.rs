//! Password hashes imported from older systems (`gatehouse user import`), verified once at the first
//! sign-in and then replaced by argon2id.
//!
//! Recognised formats (the hash says which it is; nothing else is stored):
//! - bcrypt: `$2a$`, `$2b$`, `$2y$` (the `bcrypt` crate; like every bcrypt, only the first 72 bytes
//!   of a password count).
//! - PBKDF2-HMAC-SHA256 as written by passlib, `$pbkdf2-sha256$<rounds>$<salt>$<hash>` (salt and hash
//!   in passlib's "adapted base64", `.` for `+`, unpadded), and as the PHC string format writes it,
//!   `$pbkdf2-sha256$i=<rounds>,l=<length>$<salt>$<hash>` (unpadded standard base64); in both the salt
//!   is the decoded bytes.
//! - PBKDF2-HMAC-SHA256 as Django writes it, `pbkdf2_sha256$<rounds>$<salt>$<hash>`: the salt is used
//!   as the text it is, the hash is padded standard base64.
//! - argon2 PHC strings `$argon2id$`, `$argon2i$`, `$argon2d$` with any parameters (the `argon2` crate
//!   reads them from the string).
//!
//! PBKDF2 digests are compared in constant time (`subtle`); bcrypt and argon2 compare in constant time
//! inside their crates.

use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// PBKDF2 iteration counts outside this range are refused at import: fewer is no protection, more
/// would let one sign-in occupy a hashing thread for minutes.
const PBKDF2_ROUNDS: std::ops::RangeInclusive<u32> = 1_000..=10_000_000;

/// The kind of a stored password hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Bcrypt,
    /// passlib or PHC `$pbkdf2-sha256$`.
    Pbkdf2Sha256Phc,
    /// Django's `pbkdf2_sha256$`.
    Pbkdf2Sha256Django,
    /// Any argon2 PHC string.
    Argon2,
}

impl HashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bcrypt => "bcrypt",
            Self::Pbkdf2Sha256Phc | Self::Pbkdf2Sha256Django => "pbkdf2-sha256",
            Self::Argon2 => "argon2",
        }
    }
}

/// Why an imported hash is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnrecognisedHash {
    #[error(
        "not a recognised password hash (expected bcrypt $2a$/$2b$/$2y$, $pbkdf2-sha256$, pbkdf2_sha256$ or $argon2id$/$argon2i$)"
    )]
    UnknownFormat,
    #[error("a {0} hash, but malformed: {1}")]
    Malformed(&'static str, String),
}

/// Recognises a hash and checks that it can be verified later, without knowing the password.
pub fn recognise(hash: &str) -> Result<HashKind, UnrecognisedHash> {
    let kind = kind_of(hash).ok_or(UnrecognisedHash::UnknownFormat)?;
    let malformed = |why: &str| UnrecognisedHash::Malformed(kind.as_str(), why.to_owned());
    match kind {
        HashKind::Bcrypt => {
            // `$2b$10$` + 22 characters of salt + 31 of hash.
            let cost = hash.get(4..6).and_then(|c| c.parse::<u32>().ok());
            if hash.len() != 60 || !cost.is_some_and(|c| (4..=31).contains(&c)) {
                return Err(malformed("expected $2b$<cost>$ and 53 characters"));
            }
        }
        HashKind::Pbkdf2Sha256Phc | HashKind::Pbkdf2Sha256Django => {
            parse_pbkdf2(kind, hash).map_err(|why| malformed(&why))?;
        }
        HashKind::Argon2 => {
            let parsed = PasswordHash::new(hash).map_err(|e| malformed(&e.to_string()))?;
            argon2::Params::try_from(&parsed).map_err(|e| malformed(&e.to_string()))?;
            if parsed.hash.is_none() || parsed.salt.is_none() {
                return Err(malformed("the salt or the hash is missing"));
            }
        }
    }
    Ok(kind)
}

/// The kind of a hash by its prefix, without checking the rest.
pub fn kind_of(hash: &str) -> Option<HashKind> {
    if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        Some(HashKind::Bcrypt)
    } else if hash.starts_with("$pbkdf2-sha256$") {
        Some(HashKind::Pbkdf2Sha256Phc)
    } else if hash.starts_with("pbkdf2_sha256$") {
        Some(HashKind::Pbkdf2Sha256Django)
    } else if ["$argon2id$", "$argon2i$", "$argon2d$"]
        .iter()
        .any(|p| hash.starts_with(p))
    {
        Some(HashKind::Argon2)
    } else {
        None
    }
}

/// Whether `password` matches `hash`, in whichever recognised format it is; false for anything
/// unrecognised or malformed.
pub fn verify(hash: &str, password: &[u8]) -> bool {
    match kind_of(hash) {
        Some(HashKind::Bcrypt) => bcrypt::verify(password, hash).unwrap_or(false),
        Some(kind @ (HashKind::Pbkdf2Sha256Phc | HashKind::Pbkdf2Sha256Django)) => {
            let Ok(stored) = parse_pbkdf2(kind, hash) else {
                return false;
            };
            let mut derived = vec![0u8; stored.digest.len()];
            pbkdf2::pbkdf2_hmac::<Sha256>(password, &stored.salt, stored.rounds, &mut derived);
            bool::from(derived.ct_eq(&stored.digest))
        }
        Some(HashKind::Argon2) => PasswordHash::new(hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password, &parsed).is_ok()),
        None => false,
    }
}

struct Pbkdf2Hash {
    rounds: u32,
    salt: Vec<u8>,
    digest: Vec<u8>,
}

fn parse_pbkdf2(kind: HashKind, hash: &str) -> Result<Pbkdf2Hash, String> {
    let fields: Vec<&str> = hash.split('$').collect();
    let (rounds, salt, digest) = match (kind, fields.as_slice()) {
        (HashKind::Pbkdf2Sha256Phc, ["", "pbkdf2-sha256", params, salt, digest]) => {
            let rounds = phc_rounds(params)?;
            let salt = adapted_base64(salt).ok_or("the salt is not base64")?;
            let digest = adapted_base64(digest).ok_or("the hash is not base64")?;
            (rounds, salt, digest)
        }
        (HashKind::Pbkdf2Sha256Django, ["pbkdf2_sha256", rounds, salt, digest]) => {
            let rounds = rounds
                .parse::<u32>()
                .map_err(|_| "the iteration count is not a number")?;
            let digest = STANDARD
                .decode(digest)
                .map_err(|_| "the hash is not base64")?;
            (rounds, salt.as_bytes().to_vec(), digest)
        }
        _ => return Err("expected four fields separated by $".into()),
    };
    if !PBKDF2_ROUNDS.contains(&rounds) {
        return Err(format!(
            "{rounds} iterations is outside {}..={}",
            PBKDF2_ROUNDS.start(),
            PBKDF2_ROUNDS.end()
        ));
    }
    if salt.is_empty() {
        return Err("the salt is empty".into());
    }
    if !(16..=64).contains(&digest.len()) {
        return Err(format!(
            "a hash of {} bytes (expected 16 to 64)",
            digest.len()
        ));
    }
    Ok(Pbkdf2Hash {
        rounds,
        salt,
        digest,
    })
}

/// `29000` (passlib) or `i=29000,l=32` (PHC; `l` must match the hash, which is checked by length).
fn phc_rounds(params: &str) -> Result<u32, String> {
    if let Ok(rounds) = params.parse::<u32>() {
        return Ok(rounds);
    }
    params
        .split(',')
        .find_map(|pair| pair.strip_prefix("i="))
        .and_then(|i| i.parse::<u32>().ok())
        .ok_or_else(|| "the iteration count is missing".into())
}

/// passlib's adapted base64 (`.` instead of `+`) or standard base64, padded or not.
fn adapted_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.replace('.', "+");
    STANDARD_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently with Python's `hashlib.pbkdf2_hmac` (password
    // "Tulip-Harbour-42"), written in Django's and in passlib's encoding.
    const DJANGO: &str = "pbkdf2_sha256$1000$seasalt$uK4wi2OtCy5tJsnbZdphdI2J9yzXsoBrf+Bnk/Gj3q8=";
    const PASSLIB: &str =
        "$pbkdf2-sha256$29000$....AQIDBAUGBwgJCgsMDQ$7M9jAavfl.8ufVNZNQ4KllPYiLF/zatlEXRaV8QIWLg";

    fn pbkdf2_hex(password: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
        let mut out = vec![0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, rounds, &mut out);
        out
    }

    #[test]
    fn pbkdf2_matches_the_rfc_7914_test_vector() {
        // RFC 7914 §11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, first 32 bytes.
        let expected = [
            0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f, 0xec, 0x16, 0x91, 0xc2, 0x25, 0x44,
            0xb6, 0x05, 0xf9, 0x41, 0x85, 0x21, 0x6d, 0xde, 0x04, 0x65, 0xe6, 0x8b, 0x9d, 0x57,
            0xc2, 0x0d, 0xac, 0xbc,
        ];
        assert_eq!(pbkdf2_hex(b"passwd", b"salt", 1), expected);
    }

    fn django(password: &str, salt: &str, rounds: u32) -> String {
        let digest = pbkdf2_hex(password.as_bytes(), salt.as_bytes(), rounds);
        format!("pbkdf2_sha256${rounds}${salt}${}", STANDARD.encode(digest))
    }

    fn passlib(password: &str, salt: &[u8], rounds: u32) -> String {
        let digest = pbkdf2_hex(password.as_bytes(), salt, rounds);
        let ab64 = |b: &[u8]| STANDARD_NO_PAD.encode(b).replace('+', ".");
        format!("$pbkdf2-sha256${rounds}${}${}", ab64(salt), ab64(&digest))
    }

    #[test]
    fn bcrypt_hashes_of_each_prefix_verify() {
        let hash = bcrypt::hash("Tulip-Harbour-42", 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let hash = format!("{prefix}{}", &hash[4..]);
            assert_eq!(recognise(&hash), Ok(HashKind::Bcrypt));
            assert!(verify(&hash, b"Tulip-Harbour-42"), "{prefix}");
            assert!(!verify(&hash, b"tulip-harbour-42"), "{prefix}");
        }
    }

    #[test]
    fn django_pbkdf2_verifies() {
        let hash = django("Tulip-Harbour-42", "seasalt", 1_000);
        assert_eq!(recognise(&hash), Ok(HashKind::Pbkdf2Sha256Django));
        assert!(verify(&hash, b"Tulip-Harbour-42"));
        assert!(!verify(&hash, b"Tulip-Harbour-43"));
    }

    #[test]
    fn passlib_pbkdf2_verifies() {
        // A salt whose base64 holds a `+`, written as `.` by passlib.
        let salt = [0xfb, 0xef, 0xbe, 0x01, 0x02, 0x03, 0x04, 0x05];
        let hash = passlib("Tulip-Harbour-42", &salt, 1_000);
        assert!(hash.contains('.'), "{hash}");
        assert_eq!(recognise(&hash), Ok(HashKind::Pbkdf2Sha256Phc));
        assert!(verify(&hash, b"Tulip-Harbour-42"));
        assert!(!verify(&hash, b"Tulip-Harbour-4"));
    }

    #[test]
    fn phc_pbkdf2_with_named_parameters_verifies() {
        let salt = b"0123456789abcdef";
        let digest = pbkdf2_hex(b"Tulip-Harbour-42", salt, 2_000);
        let hash = format!(
            "$pbkdf2-sha256$i=2000,l=32${}${}",
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(digest)
        );
        assert_eq!(recognise(&hash), Ok(HashKind::Pbkdf2Sha256Phc));
        assert!(verify(&hash, b"Tulip-Harbour-42"));
    }

    #[test]
    fn argon2i_and_argon2id_with_other_parameters_verify() {
        use argon2::password_hash::{PasswordHasher as _, SaltString};
        for algorithm in [argon2::Algorithm::Argon2i, argon2::Algorithm::Argon2id] {
            let params = argon2::Params::new(32, 3, 1, None).unwrap();
            let hasher = Argon2::new(algorithm, argon2::Version::V0x13, params);
            let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
            let hash = hasher
                .hash_password(b"Tulip-Harbour-42", &salt)
                .unwrap()
                .to_string();
            assert_eq!(recognise(&hash), Ok(HashKind::Argon2));
            assert!(verify(&hash, b"Tulip-Harbour-42"), "{hash}");
            assert!(!verify(&hash, b"Tulip-Harbour-24"), "{hash}");
        }
    }

    #[test]
    fn unknown_formats_are_refused() {
        for hash in [
            "",
            "5f4dcc3b5aa765d61d8327deb882cf99",
            "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0",
            "$6$rounds=5000$salt$hash",
            "sha1$salt$hash",
            "{SSHA}abcdef",
        ] {
            assert_eq!(
                recognise(hash),
                Err(UnrecognisedHash::UnknownFormat),
                "{hash}"
            );
            assert!(!verify(hash, b""), "{hash}");
        }
    }

    #[test]
    fn malformed_hashes_of_known_formats_are_refused() {
        for hash in [
            "$2b$10$tooshort",
            "$2b$99$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzABCDE",
            "pbkdf2_sha256$many$salt$ZAwnBmnTXRRyFvbVnMYDBDtYHuQJ5T9ZLqIhBZ0fE5k=",
            "pbkdf2_sha256$10$salt$ZAwnBmnTXRRyFvbVnMYDBDtYHuQJ5T9ZLqIhBZ0fE5k=",
            "pbkdf2_sha256$1000$salt$not base64!",
            "pbkdf2_sha256$1000$salt",
            "$pbkdf2-sha256$29000$$5bRnN5G5g6lFkL4I3gpFh/cTYwrPjMIqXEkqR3Wl0YU",
            "$argon2id$v=19$m=nope",
        ] {
            assert!(
                matches!(recognise(hash), Err(UnrecognisedHash::Malformed(..))),
                "{hash}"
            );
            assert!(!verify(hash, b"password"), "{hash}");
        }
    }

    #[test]
    fn independently_made_vectors_verify() {
        assert_eq!(recognise(PASSLIB), Ok(HashKind::Pbkdf2Sha256Phc));
        assert_eq!(recognise(DJANGO), Ok(HashKind::Pbkdf2Sha256Django));
        assert!(verify(PASSLIB, b"Tulip-Harbour-42"));
        assert!(verify(DJANGO, b"Tulip-Harbour-42"));
        assert!(!verify(PASSLIB, b"Tulip-Harbour-43"));
        assert!(!verify(DJANGO, b"Tulip-Harbour-43"));
    }
}
