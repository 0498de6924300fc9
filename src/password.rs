//! Password verification: argon2id PHC strings and bcrypt hashes (`$2a$`, `$2b$`, `$2y$`,
//! imported from the Go service). No I/O. Both algorithms compare in constant time.
//!
//! A hash is only ever run through its KDF after [`validate_password_hash`] accepted it: the
//! cost parameters of a stored hash decide how much memory and time a verification takes,
//! and an argon2 hash asking for terabytes would abort the whole process (allocation
//! failure is not a panic), so out-of-limit hashes are refused on write and read as "wrong
//! password" on verification.

use argon2::{Argon2, PasswordHash, PasswordVerifier};

use crate::error::{StoreError, StoreResult};

/// Largest argon2 memory cost accepted, in KiB (256 MiB; OWASP recommends 19–64 MiB).
pub const ARGON2_MAX_MEMORY_KIB: u32 = 256 * 1024;
/// Largest argon2 time cost (passes) accepted.
pub const ARGON2_MAX_TIME_COST: u32 = 10;
/// Largest argon2 parallelism (lanes) accepted.
pub const ARGON2_MAX_PARALLELISM: u32 = 16;
/// Accepted argon2 output (hash) lengths, in bytes.
pub const ARGON2_OUTPUT_LEN: std::ops::RangeInclusive<usize> = 16..=64;
/// Accepted bcrypt costs (log2 of the rounds; 15 is about two seconds per check).
pub const BCRYPT_COST: std::ops::RangeInclusive<u32> = 4..=15;
/// Longest accepted hash string, in bytes.
pub const MAX_PASSWORD_HASH_LEN: usize = 512;

const BCRYPT_PREFIXES: [&str; 3] = ["$2a$", "$2b$", "$2y$"];

/// Checks that `hash` is a password hash this store will verify, within the cost limits
/// above: an argon2 PHC string (`$argon2id$`, `$argon2i$`, `$argon2d$`, version 16 or 19,
/// `m` ≤ [`ARGON2_MAX_MEMORY_KIB`], `t` ≤ [`ARGON2_MAX_TIME_COST`], `p` ≤
/// [`ARGON2_MAX_PARALLELISM`], a salt and an output of [`ARGON2_OUTPUT_LEN`] bytes) or a
/// bcrypt hash (`$2a$`/`$2b$`/`$2y$`, a two-digit cost in [`BCRYPT_COST`], 53 characters of
/// bcrypt base64: 60 in all). Anything else — other formats, whitespace, longer than
/// [`MAX_PASSWORD_HASH_LEN`] — is refused. Pure; runs no KDF.
///
/// Errors: `InvalidInput` on the `password_hash` field.
pub fn validate_password_hash(hash: &str) -> StoreResult<()> {
    let bad = |why: String| Err(StoreError::invalid("password_hash", why));
    if hash.len() > MAX_PASSWORD_HASH_LEN {
        return bad(format!("is longer than {MAX_PASSWORD_HASH_LEN} bytes"));
    }
    if !hash.is_ascii() || hash.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return bad("contains whitespace, control or non-ASCII characters".into());
    }
    if hash.starts_with("$argon2") {
        validate_argon2(hash).or_else(|why| bad(format!("argon2 hash refused: {why}")))
    } else if BCRYPT_PREFIXES.iter().any(|p| hash.starts_with(p)) {
        validate_bcrypt(hash).or_else(|why| bad(format!("bcrypt hash refused: {why}")))
    } else {
        bad("expected an argon2 PHC string or a bcrypt ($2a$/$2b$/$2y$) hash".into())
    }
}

fn validate_argon2(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|e| format!("not a PHC string ({e})"))?;
    if !matches!(parsed.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") {
        return Err(format!("unknown algorithm {}", parsed.algorithm));
    }
    if !matches!(parsed.version, None | Some(0x10) | Some(0x13)) {
        return Err("unknown version".into());
    }
    let params = argon2::Params::try_from(&parsed).map_err(|e| format!("bad parameters ({e})"))?;
    if params.m_cost() > ARGON2_MAX_MEMORY_KIB {
        return Err(format!("m={} KiB exceeds {ARGON2_MAX_MEMORY_KIB}", params.m_cost()));
    }
    if params.t_cost() > ARGON2_MAX_TIME_COST {
        return Err(format!("t={} exceeds {ARGON2_MAX_TIME_COST}", params.t_cost()));
    }
    if params.p_cost() > ARGON2_MAX_PARALLELISM {
        return Err(format!("p={} exceeds {ARGON2_MAX_PARALLELISM}", params.p_cost()));
    }
    if parsed.salt.is_none() {
        return Err("no salt".into());
    }
    match parsed.hash.map(|h| h.len()) {
        Some(len) if ARGON2_OUTPUT_LEN.contains(&len) => Ok(()),
        Some(len) => Err(format!("output of {len} bytes (expected {ARGON2_OUTPUT_LEN:?})")),
        None => Err("no hash".into()),
    }
}

fn validate_bcrypt(hash: &str) -> Result<(), String> {
    let b = hash.as_bytes();
    if b.len() != 60 {
        return Err(format!("{} characters (expected 60)", b.len()));
    }
    let cost = match (b[4], b[5], b[6]) {
        (d1 @ b'0'..=b'9', d2 @ b'0'..=b'9', b'$') => u32::from(d1 - b'0') * 10 + u32::from(d2 - b'0'),
        _ => return Err("expected a two-digit cost then $".into()),
    };
    if !BCRYPT_COST.contains(&cost) {
        return Err(format!("cost {cost} outside {BCRYPT_COST:?}"));
    }
    if !b[7..].iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'/')) {
        return Err("salt and hash must be bcrypt base64".into());
    }
    Ok(())
}

/// Whether `password` matches `hash`. `false` for `None`, an empty hash, a hash in an
/// unknown format, or one [`validate_password_hash`] refuses (then no KDF runs at all).
pub fn verify_password(hash: Option<&str>, password: &str) -> bool {
    let Some(hash) = hash.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    if validate_password_hash(hash).is_err() {
        return false;
    }
    if hash.starts_with("$argon2") {
        match PasswordHash::new(hash) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    } else {
        bcrypt::verify(password, hash).unwrap_or(false)
    }
}

/// Hashes `password` with argon2id and a random salt, as a PHC string.
///
/// Errors: `Crypto` if hashing fails.
pub fn hash_password(password: &str) -> StoreResult<String> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    use rand::Rng;
    // 16 bytes, argon2's recommended salt length (what `SaltString::generate` draws).
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| StoreError::Crypto { message: format!("encoding the password salt: {e}") })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Crypto { message: format!("hashing password: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed argon2id hash with the given parameters (salt "saltsalt", 16-byte
    /// output); it matches no password.
    fn argon2id(params: &str) -> String {
        format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
    }

    #[test]
    fn real_hashes_are_accepted() {
        let argon = hash_password("pw").expect("hash");
        assert!(validate_password_hash(&argon).is_ok(), "{argon}");
        let bcrypt = bcrypt::hash("pw", 4).expect("bcrypt");
        assert!(validate_password_hash(&bcrypt).is_ok(), "{bcrypt}");
        for prefix in BCRYPT_PREFIXES {
            let other = format!("{prefix}{}", &bcrypt[4..]);
            assert!(validate_password_hash(&other).is_ok(), "{other}");
        }
        assert!(validate_password_hash(&argon2id("m=19456,t=2,p=1")).is_ok());
        assert!(validate_password_hash(&argon2id("m=262144,t=10,p=16")).is_ok(), "at every limit");
        let argon2i = argon2id("m=65536,t=3,p=4").replace("argon2id", "argon2i");
        assert!(validate_password_hash(&argon2i).is_ok());
    }

    #[cfg(feature = "bench")]
    #[test]
    fn the_benchmarks_fixed_hash_is_accepted() {
        assert!(validate_password_hash(crate::bench::hot::PHC).is_ok());
    }

    #[test]
    fn out_of_limit_and_unknown_hashes_are_refused() {
        for bad in [
            argon2id("m=4294967295,t=1,p=1"),
            argon2id("m=262145,t=1,p=1"),
            argon2id("m=19456,t=11,p=1"),
            argon2id("m=19456,t=4294967295,p=1"),
            argon2id("m=19456,t=2,p=17"),
            argon2id("m=19456,t=2,p=1").replace("v=19", "v=20"),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ".to_string(),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".to_string(),
            "$argon2id$x".to_string(),
            "$argon2x$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_string(),
            format!("$2b$31${}", "a".repeat(53)),
            format!("$2b$16${}", "a".repeat(53)),
            format!("$2b$03${}", "a".repeat(53)),
            format!("$2b$12${}", "a".repeat(52)),
            format!("$2b$12${}!", "a".repeat(52)),
            format!("$2x$12${}", "a".repeat(53)),
            "$2b$12$abc".to_string(),
            "plaintext".to_string(),
            "$5$rounds=5000$salt$hash".to_string(),
            format!(" {}", argon2id("m=19456,t=2,p=1")),
            format!("{}\0", argon2id("m=19456,t=2,p=1")),
            format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${}", "A".repeat(600)),
        ] {
            assert!(validate_password_hash(&bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn verify_runs_no_kdf_on_an_out_of_limit_hash() {
        // 4 TiB of memory: running the KDF would abort the process, so `false` here means
        // the parameters were refused before any allocation.
        assert!(!verify_password(Some(&argon2id("m=4294967295,t=1,p=1")), "pw"));
        assert!(!verify_password(Some(&argon2id("m=19456,t=4294967295,p=1")), "pw"));
        let huge_bcrypt = format!("$2b$31${}", "a".repeat(53));
        assert!(!verify_password(Some(&huge_bcrypt), "pw"));
        let good = hash_password("pw").expect("hash");
        assert!(verify_password(Some(&good), "pw"));
        assert!(!verify_password(Some(&good), "wrong"));
        let bcrypt = bcrypt::hash("pw", 4).expect("bcrypt");
        assert!(verify_password(Some(&bcrypt), "pw"));
    }
}
