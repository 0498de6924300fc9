use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// Whether an admin sees every tenant or only the assigned ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminType {
    /// Access to every tenant.
    Global,
    /// Access to `assigned_tenants` only.
    Tenant,
}

/// Pattern of an admin password hash: an argon2 PHC string or a bcrypt hash.
pub const PASSWORD_HASH_PATTERN: &str = r"^(\$argon2(id|i|d)\$\S+|\$2[aby]\$\d\d\$\S{53})$";

/// An administrator of the deployment (global, not per tenant). Stored in
/// `admins/admins.yaml`.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// The admin's UUID, given by the store when it creates the admin; admin refresh
    /// tokens refer to it.
    #[schemars(example = &"01a21ee0-48b2-73d9-8da1-4db1341bd4d7")]
    pub id: Uuid,
    /// The admin's e-mail address, unique among admins (compared case-insensitively):
    /// `local@domain.tld`, no display name or quotes; the local part may be non-ASCII.
    #[schemars(schema_with = "super::email::email_address_schema", example = &"ops@hellojohn.example")]
    pub email: String,
    /// Hash of the admin's password: an argon2 PHC string (`$argon2id$v=19$m=…`) or a
    /// bcrypt hash (`$2b$12$…`), never the password itself.
    #[schemars(regex(pattern = PASSWORD_HASH_PATTERN))]
    pub password_hash: String,
    /// The admin's name as the admin console shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"Operations")]
    pub name: Option<String>,
    /// `global` (every tenant) or `tenant` (only the tenants of `assigned_tenants`).
    #[serde(rename = "type")]
    pub admin_type: AdminType,
    /// Ids (UUIDs) of the tenants a `tenant` admin may manage, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true))]
    pub assigned_tenants: Vec<Uuid>,
    /// When the admin was created: an RFC 3339 date-time in UTC, written by the store.
    pub created_at: Timestamp,
    /// When the admin was last changed: an RFC 3339 date-time in UTC, written by the store.
    pub updated_at: Timestamp,
    /// When the admin was last seen in the console (RFC 3339 date-time, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<Timestamp>,
    /// When the admin was disabled (RFC 3339 date-time, UTC); absent while enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Timestamp>,
    /// Who created the admin: an admin's e-mail, or a tool's name such as `seed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("password_hash", &"<redacted>")
            .field("admin_type", &self.admin_type)
            .field("assigned_tenants", &self.assigned_tenants)
            .finish_non_exhaustive()
    }
}

/// What `AdminRepository::create` takes.
#[derive(Clone, PartialEq)]
pub struct AdminInput {
    /// E-mail.
    pub email: String,
    /// Password hash.
    pub password_hash: String,
    /// Name.
    pub name: Option<String>,
    /// Global or tenant admin.
    pub admin_type: AdminType,
    /// Tenants a tenant admin may manage.
    pub assigned_tenants: Vec<Uuid>,
    /// Creator.
    pub created_by: Option<String>,
}

impl std::fmt::Debug for AdminInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminInput")
            .field("email", &self.email)
            .field("admin_type", &self.admin_type)
            .finish_non_exhaustive()
    }
}

/// What `AdminRepository::update` takes: `Some` fields are written. Its `Debug` redacts the
/// password hash.
#[derive(Clone, Default, PartialEq)]
pub struct AdminUpdate {
    /// New e-mail.
    pub email: Option<String>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// New name.
    pub name: Option<Option<String>>,
    /// New type.
    pub admin_type: Option<AdminType>,
    /// Disable (`Some(true)`) or enable (`Some(false)`).
    pub disabled: Option<bool>,
}

impl std::fmt::Debug for AdminUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminUpdate")
            .field("email", &self.email)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "<redacted>"))
            .field("name", &self.name)
            .field("admin_type", &self.admin_type)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// Filter of `AdminRepository::list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminFilter {
    /// Only this type.
    pub admin_type: Option<AdminType>,
    /// Only disabled (`true`) or enabled (`false`) admins.
    pub disabled: Option<bool>,
    /// Page size (0 means all).
    pub limit: u64,
    /// Rows to skip.
    pub offset: u64,
}

/// A refresh token of the admin console. Only its hash is stored, in
/// `admins/refresh_tokens.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminRefreshToken {
    /// Hash of the refresh token (hex or base64, 16 to 256 characters), never the token
    /// itself.
    #[schemars(regex(pattern = "^[A-Za-z0-9_=+/-]{16,256}$"))]
    pub token_hash: String,
    /// Id (UUID) of the admin the token belongs to, one of `admins/admins.yaml`.
    pub admin_id: Uuid,
    /// When the token was issued: an RFC 3339 date-time in UTC.
    pub created_at: Timestamp,
    /// When the token stops being accepted: an RFC 3339 date-time in UTC, after
    /// `created_at`.
    pub expires_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

    #[test]
    fn debug_of_admin_types_redacts_the_password_hash() {
        let update = AdminUpdate { password_hash: Some(HASH.into()), ..Default::default() };
        let input = AdminInput {
            email: "root@example.com".into(),
            password_hash: HASH.into(),
            name: None,
            admin_type: AdminType::Global,
            assigned_tenants: Vec::new(),
            created_by: None,
        };
        let now = crate::model::now();
        let admin = Admin {
            id: crate::model::new_id(),
            email: "root@example.com".into(),
            password_hash: HASH.into(),
            name: None,
            admin_type: AdminType::Global,
            assigned_tenants: Vec::new(),
            created_at: now,
            updated_at: now,
            last_seen_at: None,
            disabled_at: None,
            created_by: None,
        };
        for shown in
            [format!("{update:?}"), format!("{update:#?}"), format!("{input:?}"), format!("{admin:?}")]
        {
            assert!(!shown.contains("argon2") && !shown.contains("c2FsdHNhbHQ"), "{shown}");
        }
        assert!(format!("{update:?}").contains("<redacted>"));
    }
}
