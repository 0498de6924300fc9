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

/// The checks `create_role` (`with_name`) and `update_role` make on a [`RoleInput`], the same
/// on every backend: a name that is not blank and has no leading or trailing whitespace
/// (names are keys: `" admin "` and `"admin"` would be two roles that look alike), and no
/// blank permission.
pub(crate) fn check_role_input(input: &RoleInput, with_name: bool) -> crate::error::StoreResult<()> {
    if with_name {
        super::check_non_empty("name", &input.name)?;
        if input.name.trim() != input.name {
            return Err(crate::error::StoreError::invalid("name", "has leading or trailing whitespace"));
        }
    }
    if input.permissions.iter().any(|p| p.trim().is_empty()) {
        return Err(crate::error::StoreError::invalid("permissions", "a permission is empty"));
    }
    Ok(())
}
