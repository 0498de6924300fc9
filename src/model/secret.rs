use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of every stored secret: the format version of [`Secret::Sealed`] ciphertext.
pub const SECRET_PREFIX: &str = "enc:v1:";

/// The JSON-Schema pattern of a stored secret: `enc:v1:` then standard base64 of a 24-byte
/// nonce followed by the ciphertext and its 16-byte tag (at least 40 bytes, 56 characters).
pub const SECRET_PATTERN: &str = "^enc:v1:[A-Za-z0-9+/]{54,}={0,2}$";

/// A secret value of the control plane (client secret, tenant DSN, SMTP, cache or social
/// provider secret).
///
/// A secret is either [`Secret::Plain`] — what a caller hands to a repository, to be
/// encrypted before it is written — or [`Secret::Sealed`] — the `enc:v1:<base64>`
/// ciphertext that files and databases hold. Serializing a plain secret **fails**, so plain
/// text can never reach a file by accident; deserializing accepts only ciphertext. `Debug`
/// and `Display` never show the value. Decrypt with [`crate::crypto::SecretBox`].
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// Plain text given by a caller; never serialized.
    Plain(String),
    /// Ciphertext as stored: `enc:v1:<base64 nonce+ciphertext>`.
    Sealed(String),
}

impl Secret {
    /// A plain-text secret, to be encrypted by the store.
    pub fn plain(value: impl Into<String>) -> Self {
        Secret::Plain(value.into())
    }

    /// Whether this is stored ciphertext.
    pub fn is_sealed(&self) -> bool {
        matches!(self, Secret::Sealed(_))
    }

    /// The ciphertext (`enc:v1:…`) of a sealed secret, `None` for a plain one.
    pub fn ciphertext(&self) -> Option<&str> {
        match self {
            Secret::Sealed(ct) => Some(ct),
            Secret::Plain(_) => None,
        }
    }

    /// Whether `s` has the shape of stored ciphertext (prefix, base64, minimum length). Does
    /// not need the key and says nothing about whether it decrypts.
    pub fn looks_sealed(s: &str) -> bool {
        use base64::Engine;
        let Some(body) = s.strip_prefix(SECRET_PREFIX) else {
            return false;
        };
        match base64::engine::general_purpose::STANDARD.decode(body) {
            Ok(bytes) => bytes.len() >= 40,
            Err(_) => false,
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Secret::Plain(<redacted>)"),
            Secret::Sealed(_) => f.write_str("Secret::Sealed(<redacted>)"),
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Secret::Sealed(ct) => serializer.serialize_str(ct),
            Secret::Plain(_) => {
                Err(serde::ser::Error::custom("refusing to serialize a plain-text secret: encrypt it first"))
            }
        }
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if Secret::looks_sealed(&s) {
            Ok(Secret::Sealed(s))
        } else {
            Err(serde::de::Error::custom(
                "expected an encrypted secret (enc:v1:…); plain text is not allowed",
            ))
        }
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "EncryptedSecret".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> schemars::Schema {
        json_schema!({
            "description": "An encrypted secret: `enc:v1:` followed by the base64 of a 24-byte nonce and the XChaCha20-Poly1305 ciphertext. Plain text is not allowed; write secrets through the store or encrypt them with HJ_SECRET_KEY.",
            "type": "string",
            "pattern": SECRET_PATTERN
        })
    }
}
