use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// The scopes every tenant has and nobody can delete.
pub const SYSTEM_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// An OAuth scope of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// UUID.
    pub id: Uuid,
    /// Name (immutable).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Name shown on the consent screen.
    pub display_name: Option<String>,
    /// Claims released by the scope.
    pub claims: Vec<String>,
    /// Scopes this one depends on.
    pub depends_on: Vec<String>,
    /// System scope (cannot be deleted).
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
