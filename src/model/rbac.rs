use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// A role of a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// UUID v7.
    pub id: Uuid,
    /// Unique name within the tenant.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Permissions granted directly by the role.
    pub permissions: BTreeSet<String>,
    /// Name of the role whose permissions this one inherits.
    pub inherits_from: Option<String>,
    /// System roles cannot be deleted.
    pub system: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// What `create_role` and `update_role` take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleInput {
    /// Name (ignored by `update_role`: names are immutable).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Direct permissions.
    pub permissions: BTreeSet<String>,
    /// Parent role name.
    pub inherits_from: Option<String>,
    /// Whether the role is a system role (only honoured by `create_role`).
    pub system: bool,
}

impl RoleInput {
    /// A role with a name and permissions.
    pub fn new<I, S>(name: impl Into<String>, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RoleInput {
            name: name.into(),
            permissions: permissions.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
}
