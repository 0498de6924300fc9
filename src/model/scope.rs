use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

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
    /// UUID.
    pub id: Uuid,
    /// Name (immutable).
    #[schemars(regex(pattern = "^[A-Za-z0-9][A-Za-z0-9:._/-]{0,127}$"))]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Name shown on the consent screen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Claims released by the scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<String>,
    /// Scopes this one depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// System scope (cannot be deleted).
    #[serde(default)]
    pub system: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
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
