//! Encryption of control-plane secrets at rest.
//!
//! [`SecretBox`] seals a secret with XChaCha20-Poly1305 under a 32-byte key (from
//! `HJ_SECRET_KEY`, base64) and a random 24-byte nonce. The associated data is
//! `"<tenant>|<field>"`, so a ciphertext copied to another tenant or another field does not
//! decrypt. Stored form: `enc:v1:<base64(nonce ‖ ciphertext ‖ tag)>` (see
//! [`Secret`]). This module owns no files and no I/O.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::{Rng, TryRng};

use crate::error::{StoreError, StoreResult};
use crate::model::{SECRET_PREFIX, Secret};

/// Name of the environment variable holding the base64 of the 32-byte key.
pub const SECRET_KEY_ENV: &str = "HJ_SECRET_KEY";

const NONCE_LEN: usize = 24;

/// Encrypts and decrypts secrets bound to a tenant and a field. `Debug` hides the key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<key redacted>)")
    }
}

fn crypto(message: impl Into<String>) -> StoreError {
    StoreError::Crypto { message: message.into() }
}

impl SecretBox {
    /// A box over a raw 32-byte key.
    pub fn new(key: [u8; 32]) -> Self {
        SecretBox { cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    /// A box over the base64 (standard alphabet, padded or not) of a 32-byte key.
    ///
    /// Errors: `Crypto` when the text is not base64 or not 32 bytes.
    pub fn from_base64(key_b64: &str) -> StoreResult<Self> {
        let trimmed = key_b64.trim();
        let bytes = B64
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| crypto(format!("{SECRET_KEY_ENV} is not valid base64")))?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            crypto(format!("{SECRET_KEY_ENV} must decode to 32 bytes, got {}", b.len()))
        })?;
        Ok(SecretBox::new(key))
    }

    /// A box over the key in `HJ_SECRET_KEY`.
    ///
    /// Errors: `Crypto` when the variable is unset or malformed.
    pub fn from_env() -> StoreResult<Self> {
        match std::env::var(SECRET_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => SecretBox::from_base64(&v),
            _ => Err(crypto(format!(
                "{SECRET_KEY_ENV} is not set: secrets cannot be read or written without the key"
            ))),
        }
    }

    /// Like [`SecretBox::from_env`], but `Ok(None)` when the variable is unset.
    ///
    /// Errors: `Crypto` when the variable is set but malformed.
    pub fn from_env_optional() -> StoreResult<Option<Self>> {
        match std::env::var(SECRET_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => SecretBox::from_base64(&v).map(Some),
            _ => Ok(None),
        }
    }

    /// A fresh random key, as base64 (for `HJ_SECRET_KEY`), from the thread's CSPRNG
    /// (ChaCha12 seeded and reseeded from the operating system).
    pub fn generate_key_base64() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        B64.encode(key)
    }

    /// Encrypts `plain` for `field` of `tenant`.
    ///
    /// Errors: `Crypto` if the cipher fails.
    pub fn encrypt(&self, tenant: &str, field: &str, plain: &str) -> StoreResult<Secret> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::SysRng
            .try_fill_bytes(&mut nonce)
            .map_err(|e| crypto(format!("no random nonce from the operating system: {e}")))?;
        let aad = associated_data(tenant, field);
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| crypto(format!("encrypting {field} of {tenant} failed")))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(Secret::Sealed(format!("{SECRET_PREFIX}{}", B64.encode(out))))
    }

    /// Decrypts a secret of `field` of `tenant`; a plain secret is returned as is.
    ///
    /// Errors: `Crypto` for malformed ciphertext, a wrong key, or a ciphertext that belongs
    /// to another tenant or field.
    pub fn decrypt(&self, tenant: &str, field: &str, secret: &Secret) -> StoreResult<String> {
        let ct = match secret {
            Secret::Plain(p) => return Ok(p.clone()),
            Secret::Sealed(ct) => ct,
        };
        self.decrypt_str(tenant, field, ct)
    }

    /// Decrypts stored ciphertext text (`enc:v1:…`) of `field` of `tenant`.
    ///
    /// Errors: as for [`SecretBox::decrypt`].
    pub fn decrypt_str(&self, tenant: &str, field: &str, ciphertext: &str) -> StoreResult<String> {
        let body = ciphertext
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| crypto(format!("{field} of {tenant} is not an {SECRET_PREFIX} ciphertext")))?;
        let bytes = B64.decode(body).map_err(|_| crypto(format!("{field} of {tenant}: bad base64")))?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(crypto(format!("{field} of {tenant}: ciphertext too short")));
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let aad = associated_data(tenant, field);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() })
            .map_err(|_| {
                crypto(format!(
                    "{field} of {tenant} does not decrypt: wrong key, tampered data, or a ciphertext of another tenant or field"
                ))
            })?;
        String::from_utf8(plain).map_err(|_| crypto(format!("{field} of {tenant} is not UTF-8")))
    }

    /// Returns `secret` sealed for `field` of `tenant`: a plain secret is encrypted; a sealed
    /// one is checked to decrypt under this key, tenant and field, and kept.
    ///
    /// Errors: `Crypto` when a sealed secret does not belong here.
    pub fn seal(&self, tenant: &str, field: &str, secret: &Secret) -> StoreResult<Secret> {
        match secret {
            Secret::Plain(p) => self.encrypt(tenant, field, p),
            Secret::Sealed(ct) => {
                self.decrypt_str(tenant, field, ct)?;
                Ok(secret.clone())
            }
        }
    }
}

/// The associated data binding a ciphertext to its tenant and field.
fn associated_data(tenant: &str, field: &str) -> String {
    format!("{tenant}|{field}")
}

/// Seals `secret` with `secrets` when there is a box; without one, a plain secret is a
/// `Crypto` error and a sealed one is kept as is.
///
/// Errors: `Crypto`.
pub fn seal_optional(
    secrets: Option<&SecretBox>,
    tenant: &str,
    field: &str,
    secret: &Secret,
) -> StoreResult<Secret> {
    match (secrets, secret) {
        (Some(b), s) => b.seal(tenant, field, s),
        (None, Secret::Sealed(_)) => Ok(secret.clone()),
        (None, Secret::Plain(_)) => Err(crypto(format!(
            "cannot write {field} of {tenant}: no secret key configured ({SECRET_KEY_ENV})"
        ))),
    }
}

/// Field names used as associated data, shared by every backend.
pub mod fields {
    /// DSN of the tenant's own database.
    pub const USER_DB_DSN: &str = "user_db.dsn";
    /// Password of the tenant's Redis cache.
    pub const CACHE_PASSWORD: &str = "cache.password";
    /// Password of the tenant's SMTP server.
    pub const SMTP_PASSWORD: &str = "smtp.password";

    /// Client secret of a social login provider.
    pub fn social_provider_secret(provider: &str) -> String {
        format!("social_providers.{provider}.client_secret")
    }

    /// Secret of an OAuth client.
    pub fn client_secret(client_id: &str) -> String {
        format!("clients.{client_id}.secret")
    }

    /// Every field a secret is sealed for, as [`check`] takes them (`<provider>` and
    /// `<client_id>` stand for a name).
    pub const SEALABLE: [&str; 5] = [
        USER_DB_DSN,
        CACHE_PASSWORD,
        SMTP_PASSWORD,
        "social_providers.<provider>.client_secret",
        "clients.<client_id>.secret",
    ];

    /// Checks that `field` is one the store seals secrets for: one of [`SEALABLE`], with a
    /// provider name matching `^[a-z0-9][a-z0-9_-]{0,31}$` or a client id matching the
    /// client-id pattern in place of the placeholder.
    ///
    /// Errors: `InvalidInput` naming the sealable fields.
    pub fn check(field: &str) -> crate::error::StoreResult<()> {
        let provider = field
            .strip_prefix("social_providers.")
            .and_then(|rest| rest.strip_suffix(".client_secret"))
            .filter(|name| is_provider_name(name));
        let client = field
            .strip_prefix("clients.")
            .and_then(|rest| rest.strip_suffix(".secret"))
            .filter(|id| crate::model::validate_client_id(id).is_ok());
        if [USER_DB_DSN, CACHE_PASSWORD, SMTP_PASSWORD].contains(&field)
            || provider.is_some()
            || client.is_some()
        {
            Ok(())
        } else {
            Err(crate::error::StoreError::invalid(
                "field",
                format!("{field:?} is not a sealable field; sealable fields: {}", SEALABLE.join(", ")),
            ))
        }
    }

    /// A social provider's name as `social_providers` keys it: `^[a-z0-9][a-z0-9_-]{0,31}$`.
    fn is_provider_name(name: &str) -> bool {
        let bytes = name.as_bytes();
        (1..=32).contains(&bytes.len())
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let b = SecretBox::new([7u8; 32]);
        let s = b.encrypt("acme", "user_db.dsn", "postgres://x").unwrap();
        assert!(Secret::looks_sealed(s.ciphertext().unwrap()));
        assert_eq!(b.decrypt("acme", "user_db.dsn", &s).unwrap(), "postgres://x");
        assert!(b.decrypt("other", "user_db.dsn", &s).is_err());
        assert!(b.decrypt("acme", "smtp.password", &s).is_err());
        assert!(SecretBox::new([8u8; 32]).decrypt("acme", "user_db.dsn", &s).is_err());
    }

    #[test]
    fn sealable_fields() {
        for ok in [
            "user_db.dsn",
            "cache.password",
            "smtp.password",
            "social_providers.google.client_secret",
            "clients.acme-web.secret",
            "clients.a.b.c.secret",
        ] {
            assert!(fields::check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "smtp",
            "smtp.pasword",
            "settings.smtp.password",
            "social_providers..client_secret",
            "social_providers.Google.client_secret",
            "social_providers.google.secret",
            "clients.ab.secret",
            "clients..secret",
            "clients.web app.secret",
        ] {
            let err = fields::check(bad).expect_err(bad).to_string();
            assert!(err.contains("smtp.password") && err.contains("clients.<client_id>.secret"), "{err}");
        }
    }

    #[test]
    fn key_from_base64() {
        let k = SecretBox::generate_key_base64();
        assert!(SecretBox::from_base64(&k).is_ok());
        assert!(SecretBox::from_base64("c2hvcnQ=").is_err());
    }
}
