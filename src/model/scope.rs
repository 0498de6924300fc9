use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;
use super::limits::{CONTROL_DESCRIPTION, CONTROL_NAME};

/// The scopes every tenant has and nobody can delete.
pub const SYSTEM_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Pattern of a scope name.
pub const SCOPE_NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9:._/-]{0,127}$";

/// Whether `name` is one of [`SYSTEM_SCOPES`].
pub fn is_system_scope(name: &str) -> bool {
    SYSTEM_SCOPES.contains(&name)
}

/// Checks a scope name against [`SCOPE_NAME_PATTERN`].
///
/// Errors: `InvalidInput`.
pub fn validate_scope_name(name: &str) -> crate::error::StoreResult<()> {
    let mut bytes = name.bytes();
    let ok = name.len() <= 128
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b":._/-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(crate::error::StoreError::invalid(
            "scope",
            format!("{name:?} does not match {SCOPE_NAME_PATTERN}"),
        ))
    }
}

/// An OAuth scope of a tenant. Stored in `tenants/<slug>/scopes.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The scope's UUID, given by the store when it creates the scope.
    #[schemars(example = &"01a21ee0-4b10-7a2c-8e3f-0c1d2e3f4a5b")]
    pub id: Uuid,
    /// The scope as clients ask for it, unique in the tenant and never renamed: a letter or
    /// digit, then letters, digits and `:._/-` (at most 128).
    #[schemars(regex(pattern = "^[A-Za-z0-9][A-Za-z0-9:._/-]{0,127}$"), example = &"orders:read")]
    pub name: String,
    /// What the scope grants, for the people who manage it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = CONTROL_DESCRIPTION), example = &"Read the user's orders")]
    pub description: Option<String>,
    /// Name shown to users on the consent screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = CONTROL_NAME), example = &"Your orders")]
    pub display_name: Option<String>,
    /// Claims the scope releases into tokens and userinfo, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(max = CONTROL_NAME)), extend("uniqueItems" = true), example = ["email", "email_verified"])]
    pub claims: Vec<String>,
    /// Scopes granted along with this one, each once: system scopes or scopes of this file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true), example = ["openid"])]
    pub depends_on: Vec<String>,
    /// Whether this is one of the system scopes (`openid`, `profile`, `email`,
    /// `offline_access`), which every tenant has and nobody can delete.
    #[serde(default)]
    pub system: bool,
    /// When the scope was created: an RFC 3339 date-time in UTC, written by the store.
    pub created_at: Timestamp,
    /// When the scope was last changed: an RFC 3339 date-time in UTC, written by the store.
    pub updated_at: Timestamp,
}

/// What `ScopeRepository::create`, `update` and `upsert` take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeInput {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Claims.
    pub claims: Vec<String>,
    /// Dependencies.
    pub depends_on: Vec<String>,
}

impl ScopeInput {
    /// A scope with this name and description.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        ScopeInput { name: name.into(), description: Some(description.into()), ..Default::default() }
    }
}
