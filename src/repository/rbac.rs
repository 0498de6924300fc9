use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{Role, RoleInput};

/// Roles, permissions and role assignments of one tenant.
#[async_trait]
pub trait RbacRepository: Send + Sync {
    /// Names of the roles assigned to the user, sorted.
    ///
    /// Errors: `Unavailable`; an unknown user gives an empty list, not `NotFound`.
    async fn get_user_roles(&self, user_id: Uuid) -> StoreResult<Vec<String>>;

    /// Effective permissions of the user: those of its roles and of every role they
    /// inherit from, sorted and deduplicated. Inheritance cycles are tolerated.
    ///
    /// Errors: `Unavailable`; an unknown user gives an empty list, not `NotFound`.
    async fn get_user_permissions(&self, user_id: Uuid) -> StoreResult<Vec<String>>;

    /// Assigns a role to the user (idempotent).
    ///
    /// Errors: `NotFound` for an unknown role or user.
    async fn assign_role(&self, user_id: Uuid, role: &str) -> StoreResult<()>;

    /// Removes a role from the user (idempotent).
    ///
    /// Errors: `Unavailable`; an unknown role or user, or a role the user lacks, is `Ok`, not
    /// `NotFound`.
    async fn remove_role(&self, user_id: Uuid, role: &str) -> StoreResult<()>;

    /// The role's direct permissions, sorted.
    ///
    /// Errors: `NotFound`.
    async fn get_role_permissions(&self, role: &str) -> StoreResult<Vec<String>>;

    /// Adds a permission to the role (idempotent).
    ///
    /// Errors: `NotFound`; `InvalidInput` for an empty permission.
    async fn add_permission_to_role(&self, role: &str, permission: &str) -> StoreResult<()>;

    /// Removes a permission from the role (idempotent).
    ///
    /// Errors: `NotFound`.
    async fn remove_permission_from_role(&self, role: &str, permission: &str) -> StoreResult<()>;

    /// Every role, by name.
    ///
    /// Errors: `Unavailable`; a tenant without roles gives an empty list.
    async fn list_roles(&self) -> StoreResult<Vec<Role>>;

    /// The role called `name`.
    ///
    /// Errors: `NotFound`.
    async fn get_role(&self, name: &str) -> StoreResult<Role>;

    /// Creates a role.
    ///
    /// Errors: `Conflict` on an existing name; `InvalidInput` for an empty name;
    /// `NotFound` when `inherits_from` names an unknown role.
    async fn create_role(&self, input: RoleInput) -> StoreResult<Role>;

    /// Replaces description, permissions and parent of the role (the name is immutable).
    ///
    /// Errors: `NotFound` for the role or its new parent.
    async fn update_role(&self, name: &str, input: RoleInput) -> StoreResult<Role>;

    /// Deletes the role and its assignments.
    ///
    /// Errors: `NotFound`; `InvalidInput` for a system role.
    async fn delete_role(&self, name: &str) -> StoreResult<()>;

    /// How many users have the role.
    ///
    /// Errors: `NotFound`.
    async fn role_user_count(&self, role: &str) -> StoreResult<u64>;
}
