//! How records look in MongoDB: collection names, one serde struct per document kind, and
//! the encodings shared by every repository.
//!
//! - Ids are UUID strings (hyphenated, lowercase), in `_id` and in every reference, so that
//!   documents read well in a shell and v7 ids sort by creation time as strings.
//! - Timestamps are `i64` microseconds since the Unix epoch (UTC). BSON `DateTime` keeps only
//!   milliseconds; the contract needs exact microsecond round trips, and integers still order
//!   and compare (`$lt`, `$gt`, sorts) like the instants they encode.
//! - Lists (scopes, permissions) are arrays kept sorted; JSON fields are embedded documents.
//!
//! Nothing here talks to the server.

use mongodb::bson::{Bson, Document, doc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::model::Timestamp;

/// Users.
pub(crate) const USERS: &str = "users";
/// Password and social identities (`provider = "password"` marks the password identity).
pub(crate) const IDENTITIES: &str = "identities";
/// Refresh tokens.
pub(crate) const REFRESH_TOKENS: &str = "refresh_tokens";
/// TOTP enrolments, `_id` = user id.
pub(crate) const MFA_TOTP: &str = "mfa_totp";
/// Recovery codes (hashes).
pub(crate) const MFA_RECOVERY_CODES: &str = "mfa_recovery_codes";
/// One document per user whose recovery codes were set (`_id` = user id, `generation`):
/// every replacement of the codes writes it first, so concurrent replacements conflict and
/// run one after the other.
pub(crate) const MFA_RECOVERY_SETS: &str = "mfa_recovery_sets";
/// Trusted devices (hashes).
pub(crate) const MFA_TRUSTED_DEVICES: &str = "mfa_trusted_devices";
/// Consents.
pub(crate) const CONSENTS: &str = "consents";
/// Roles.
pub(crate) const ROLES: &str = "roles";
/// Role assignments.
pub(crate) const USER_ROLES: &str = "user_roles";
/// Login sessions.
pub(crate) const SESSIONS: &str = "sessions";
/// E-mail tokens.
pub(crate) const EMAIL_TOKENS: &str = "email_tokens";
/// Applied schema steps (see `migrations`).
pub(crate) const MIGRATIONS: &str = "_migrations";

/// Every collection holding a user's records, children of `users` (the cascade of a user
/// delete), with the field that names the user.
pub(crate) const USER_CHILDREN: &[(&str, &str)] = &[
    (IDENTITIES, "user_id"),
    (REFRESH_TOKENS, "user_id"),
    (MFA_TOTP, "_id"),
    (MFA_RECOVERY_CODES, "user_id"),
    (MFA_RECOVERY_SETS, "_id"),
    (MFA_TRUSTED_DEVICES, "user_id"),
    (CONSENTS, "user_id"),
    (USER_ROLES, "user_id"),
    (SESSIONS, "user_id"),
    (EMAIL_TOKENS, "user_id"),
];

/// Provider name of the password identity.
pub(crate) const PASSWORD_PROVIDER: &str = "password";

/// An id as stored.
pub(crate) fn id(id: Uuid) -> Bson {
    Bson::String(id.hyphenated().to_string())
}

/// An instant as stored (microseconds since the epoch).
pub(crate) fn ts(t: Timestamp) -> Bson {
    Bson::Int64(t.timestamp_micros())
}

/// An optional instant as stored (`null` for `None`).
pub(crate) fn ts_opt(t: Option<Timestamp>) -> Bson {
    t.map(ts).unwrap_or(Bson::Null)
}

/// An optional string as stored.
pub(crate) fn str_opt(s: Option<&str>) -> Bson {
    s.map(|s| Bson::String(s.to_string())).unwrap_or(Bson::Null)
}

/// A JSON value as stored.
///
/// Errors: `InvalidInput` on `field` for a value BSON cannot hold (an integer above `i64::MAX`).
pub(crate) fn json(field: &str, value: &serde_json::Value) -> StoreResult<Bson> {
    mongodb::bson::serialize_to_bson(value)
        .map_err(|e| StoreError::invalid(field, format!("cannot be stored: {e}")))
}

/// A case-insensitive "contains `needle`" filter on `field` (regex metacharacters escaped).
pub(crate) fn contains_ci(field: &str, needle: &str) -> Document {
    doc! { field: { "$regex": regex_escape(needle), "$options": "i" } }
}

/// `s` as a literal regular expression: every ASCII character but letters, digits and `_`
/// is escaped (like Python's `re.escape`), which both PCRE and the test server read literally.
pub(crate) fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() && c != '_' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Serde for a [`Uuid`] stored as its hyphenated string.
pub(crate) mod uuid_str {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use uuid::Uuid;

    pub(crate) fn serialize<S: Serializer>(id: &Uuid, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
        let s = String::deserialize(d)?;
        Uuid::parse_str(&s).map_err(|e| D::Error::custom(format!("bad id {s:?}: {e}")))
    }
}

/// Serde for an optional [`Uuid`] stored as its hyphenated string or `null`.
pub(crate) mod uuid_str_opt {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use uuid::Uuid;

    pub(crate) fn serialize<S: Serializer>(id: &Option<Uuid>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.serialize_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer())),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Uuid>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => {
                Uuid::parse_str(&s).map(Some).map_err(|e| D::Error::custom(format!("bad id {s:?}: {e}")))
            }
        }
    }
}

/// Serde for a [`Timestamp`] stored as `i64` microseconds since the epoch.
pub(crate) mod micros {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::model::Timestamp;

    pub(crate) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_micros())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let us = i64::deserialize(d)?;
        Timestamp::from_timestamp_micros(us).ok_or_else(|| D::Error::custom(format!("bad instant {us}")))
    }
}

/// Serde for an optional [`Timestamp`] stored as `i64` microseconds or `null`.
pub(crate) mod micros_opt {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::model::Timestamp;

    pub(crate) fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_i64(t.timestamp_micros()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        match Option::<i64>::deserialize(d)? {
            None => Ok(None),
            Some(us) => Timestamp::from_timestamp_micros(us)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("bad instant {us}"))),
        }
    }
}

/// A user (`users`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    pub email: String,
    /// Trimmed, lowercased; unique.
    pub email_normalized: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub locale: Option<String>,
    pub language: Option<String>,
    pub metadata: serde_json::Value,
    pub custom_fields: serde_json::Value,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
    #[serde(with = "micros")]
    pub updated_at: Timestamp,
    #[serde(with = "micros_opt")]
    pub disabled_at: Option<Timestamp>,
    #[serde(with = "micros_opt")]
    pub disabled_until: Option<Timestamp>,
    pub disabled_reason: Option<String>,
    pub disabled_by: Option<String>,
    pub source_client_id: Option<String>,
}

/// A password or social identity (`identities`). Its `Debug` redacts the password hash.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct IdentityDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    pub provider: String,
    pub provider_user_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub password_hash: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
    pub raw_claims: serde_json::Value,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
    #[serde(with = "micros")]
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for IdentityDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityDoc")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("provider_user_id", &self.provider_user_id)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A refresh token (`refresh_tokens`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TokenDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    pub client_id: String,
    pub token_hash: String,
    #[serde(with = "micros")]
    pub issued_at: Timestamp,
    #[serde(with = "micros")]
    pub expires_at: Timestamp,
    #[serde(with = "uuid_str_opt")]
    pub rotated_from: Option<Uuid>,
    #[serde(with = "micros_opt")]
    pub revoked_at: Option<Timestamp>,
    #[serde(with = "uuid_str")]
    pub family_id: Uuid,
}

/// A TOTP enrolment (`mfa_totp`, `_id` = user id). Its `Debug` redacts the secret.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TotpDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub user_id: Uuid,
    pub secret_encrypted: String,
    #[serde(with = "micros_opt")]
    pub confirmed_at: Option<Timestamp>,
    #[serde(with = "micros_opt")]
    pub last_used_at: Option<Timestamp>,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
    #[serde(with = "micros")]
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for TotpDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpDoc")
            .field("user_id", &self.user_id)
            .field("secret_encrypted", &"<redacted>")
            .field("confirmed_at", &self.confirmed_at)
            .finish_non_exhaustive()
    }
}

/// A recovery code (`mfa_recovery_codes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RecoveryCodeDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    pub code_hash: String,
    #[serde(with = "micros_opt")]
    pub used_at: Option<Timestamp>,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
}

/// A consent (`consents`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ConsentDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    pub client_id: String,
    pub scopes: Vec<String>,
    #[serde(with = "micros")]
    pub granted_at: Timestamp,
    #[serde(with = "micros")]
    pub updated_at: Timestamp,
    #[serde(with = "micros_opt")]
    pub revoked_at: Option<Timestamp>,
}

/// A role (`roles`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoleDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    pub inherits_from: Option<String>,
    pub system: bool,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
    #[serde(with = "micros")]
    pub updated_at: Timestamp,
}

/// A role assignment (`user_roles`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserRoleDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    #[serde(with = "uuid_str")]
    pub role_id: Uuid,
    #[serde(with = "micros")]
    pub assigned_at: Timestamp,
}

/// A login session (`sessions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    pub session_id_hash: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub device_type: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub country_code: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
    #[serde(with = "micros")]
    pub last_activity: Timestamp,
    #[serde(with = "micros")]
    pub expires_at: Timestamp,
    #[serde(with = "micros_opt")]
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

/// An e-mail token (`email_tokens`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EmailTokenDoc {
    #[serde(rename = "_id", with = "uuid_str")]
    pub id: Uuid,
    pub kind: String,
    #[serde(with = "uuid_str")]
    pub user_id: Uuid,
    pub token_hash: String,
    pub sent_to: String,
    #[serde(with = "micros")]
    pub created_at: Timestamp,
    #[serde(with = "micros")]
    pub expires_at: Timestamp,
    #[serde(with = "micros_opt")]
    pub used_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(regex_escape("a.b*c"), "a\\.b\\*c");
        assert_eq!(regex_escape("203.0.113"), "203\\.0\\.113");
        assert_eq!(regex_escape("plain"), "plain");
    }

    #[test]
    fn documents_round_trip_ids_and_microseconds() {
        let t = Timestamp::from_timestamp_micros(1_795_814_324_123_456).expect("instant");
        let role = RoleDoc {
            id: Uuid::now_v7(),
            name: "r".into(),
            description: None,
            permissions: vec!["a".into()],
            inherits_from: None,
            system: false,
            created_at: t,
            updated_at: t,
        };
        let stored = mongodb::bson::serialize_to_document(&role).expect("serialize");
        assert_eq!(stored.get_i64("created_at").ok(), Some(1_795_814_324_123_456));
        assert_eq!(stored.get_str("_id").ok(), Some(role.id.to_string().as_str()));
        let back: RoleDoc = mongodb::bson::deserialize_from_document(stored).expect("deserialize");
        assert_eq!(back.created_at, t);
        assert_eq!(back.id, role.id);
    }
}

/// Where a revocable, expiring record (refresh token, session) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Neither revoked nor expired.
    Active,
    /// Past its expiry, not revoked.
    Expired,
    /// Revoked.
    Revoked,
}

impl From<crate::model::TokenStatus> for Lifecycle {
    fn from(s: crate::model::TokenStatus) -> Self {
        match s {
            crate::model::TokenStatus::Active => Lifecycle::Active,
            crate::model::TokenStatus::Expired => Lifecycle::Expired,
            crate::model::TokenStatus::Revoked => Lifecycle::Revoked,
        }
    }
}

impl From<crate::model::SessionStatus> for Lifecycle {
    fn from(s: crate::model::SessionStatus) -> Self {
        match s {
            crate::model::SessionStatus::Active => Lifecycle::Active,
            crate::model::SessionStatus::Expired => Lifecycle::Expired,
            crate::model::SessionStatus::Revoked => Lifecycle::Revoked,
        }
    }
}

/// Records active at `now`: not revoked, not expired.
pub(crate) fn active_at(now: Timestamp) -> Document {
    lifecycle(Lifecycle::Active, now)
}

/// The filter clauses selecting records in `state` at `now` (`revoked_at`, `expires_at`).
pub(crate) fn lifecycle(state: Lifecycle, now: Timestamp) -> Document {
    match state {
        Lifecycle::Active => doc! { "revoked_at": Bson::Null, "expires_at": { "$gt": ts(now) } },
        Lifecycle::Expired => doc! { "revoked_at": Bson::Null, "expires_at": { "$lte": ts(now) } },
        Lifecycle::Revoked => doc! { "revoked_at": { "$ne": Bson::Null } },
    }
}
