use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{Admin, AdminFilter, AdminInput, AdminRefreshToken, AdminUpdate, Timestamp};

/// Administrators of the deployment (global, not per tenant).
#[async_trait]
pub trait AdminRepository: Send + Sync {
    /// Admins matching the filter, by e-mail.
    ///
    /// Errors: `InvalidConfig` when the FS admins file does not validate; no match gives an
    /// empty list.
    async fn list(&self, filter: &AdminFilter) -> StoreResult<Vec<Admin>>;

    /// The admin with this id.
    ///
    /// Errors: `NotFound`.
    async fn get_by_id(&self, id: Uuid) -> StoreResult<Admin>;

    /// The admin with this e-mail (case-insensitive).
    ///
    /// Errors: `NotFound`.
    async fn get_by_email(&self, email: &str) -> StoreResult<Admin>;

    /// Creates an admin.
    ///
    /// Errors: `InvalidInput` for a bad e-mail or empty hash; `Conflict` on an existing
    /// e-mail (case-insensitive).
    async fn create(&self, input: AdminInput) -> StoreResult<Admin>;

    /// Writes the `Some` fields of `input`.
    ///
    /// Errors: `NotFound`; `Conflict` when the new e-mail is taken.
    async fn update(&self, id: Uuid, input: AdminUpdate) -> StoreResult<Admin>;

    /// Deletes the admin and its refresh tokens.
    ///
    /// Errors: `NotFound`.
    async fn delete(&self, id: Uuid) -> StoreResult<()>;

    /// Verifies a password against an argon2id or bcrypt hash (no I/O, constant time).
    ///
    /// Never fails: a wrong password or an unparsable hash gives `false`.
    fn check_password(&self, hash: &str, password: &str) -> bool {
        crate::password::verify_password(Some(hash), password)
    }

    /// Records that the admin was seen now.
    ///
    /// Errors: `NotFound`.
    async fn touch_last_seen(&self, id: Uuid) -> StoreResult<()>;

    /// Replaces the tenants a tenant admin may manage.
    ///
    /// Errors: `NotFound`.
    async fn assign_tenants(&self, id: Uuid, tenant_ids: &[Uuid]) -> StoreResult<()>;

    /// Whether the admin may manage the tenant: always for an enabled global admin, for a
    /// tenant admin when assigned; never for a disabled admin.
    ///
    /// Errors: `NotFound` for an unknown admin.
    async fn has_access_to_tenant(&self, id: Uuid, tenant_id: Uuid) -> StoreResult<bool>;
}

/// Refresh tokens of the admin console. Only hashes are stored.
#[async_trait]
pub trait AdminRefreshTokenRepository: Send + Sync {
    /// Stores a token.
    ///
    /// Errors: `NotFound` for an unknown admin; `Conflict` for a known hash.
    async fn create(
        &self,
        admin_id: Uuid,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<AdminRefreshToken>;

    /// The token with this hash.
    ///
    /// Errors: `NotFound`.
    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<AdminRefreshToken>;

    /// The admin's tokens, oldest first.
    ///
    /// Errors: `InvalidConfig` when the FS tokens file does not validate; an unknown admin
    /// gives an empty list, not `NotFound`.
    async fn list_by_admin(&self, admin_id: Uuid) -> StoreResult<Vec<AdminRefreshToken>>;

    /// Deletes one token.
    ///
    /// Errors: `NotFound`.
    async fn delete(&self, token_hash: &str) -> StoreResult<()>;

    /// Deletes the admin's tokens. Returns how many (0 for an unknown admin, not `NotFound`).
    ///
    /// Errors: `InvalidConfig` as for `list_by_admin`; `Unavailable` when the global database
    /// cannot be reached.
    async fn delete_by_admin(&self, admin_id: Uuid) -> StoreResult<u64>;

    /// Deletes tokens that expired before `now`. Returns how many; again with the same `now`, 0.
    ///
    /// Errors: `InvalidConfig` as for `list_by_admin`; `Unavailable` when the global database
    /// cannot be reached.
    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64>;
}
