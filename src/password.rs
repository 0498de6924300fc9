//! Password verification: argon2id PHC strings and bcrypt hashes (`$2a$`, `$2b$`, `$2y$`,
//! imported from the Go service). No I/O. Both algorithms compare in constant time.

use argon2::{Argon2, PasswordHash, PasswordVerifier};

/// Whether `password` matches `hash`. `false` for `None`, an empty hash, or a hash in an
/// unknown format.
pub fn verify_password(hash: Option<&str>, password: &str) -> bool {
    let Some(hash) = hash.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    if hash.starts_with("$argon2") {
        match PasswordHash::new(hash) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    } else if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        bcrypt::verify(password, hash).unwrap_or(false)
    } else {
        false
    }
}

/// Hashes `password` with argon2id and a random salt, as a PHC string.
///
/// Errors: `Crypto` if hashing fails.
pub fn hash_password(password: &str) -> crate::error::StoreResult<String> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::error::StoreError::Crypto { message: format!("hashing password: {e}") })
}
