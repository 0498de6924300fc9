use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{Tenant, TenantSettings};

/// Tenants (control plane).
#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Every tenant, by slug.
    ///
    /// Errors: `InvalidConfig` when an FS tenant folder is not a valid slug or its
    /// `tenant.yaml` does not validate (one broken tenant fails the whole list).
    async fn list(&self) -> StoreResult<Vec<Tenant>>;

    /// The tenant with this slug.
    ///
    /// Errors: `InvalidInput` for a malformed slug; `NotFound`.
    async fn get_by_slug(&self, slug: &str) -> StoreResult<Tenant>;

    /// The tenant with this id.
    ///
    /// Errors: `NotFound`.
    async fn get_by_id(&self, id: Uuid) -> StoreResult<Tenant>;

    /// Creates a tenant; secrets in its settings are encrypted before they are written.
    ///
    /// Errors: `InvalidInput` for a bad slug or settings; `Conflict` on an existing slug or
    /// id; `Crypto` when a secret must be written and no key is configured.
    async fn create(&self, tenant: Tenant) -> StoreResult<Tenant>;

    /// Replaces name, display name, language and settings (the slug and id are immutable).
    ///
    /// Errors: `NotFound`; `InvalidInput`; `Crypto` as for `create`.
    async fn update(&self, tenant: Tenant) -> StoreResult<Tenant>;

    /// Replaces the settings of the tenant.
    ///
    /// Errors: `NotFound`; `InvalidInput`; `Crypto` as for `create`.
    async fn update_settings(&self, slug: &str, settings: TenantSettings) -> StoreResult<Tenant>;

    /// Deletes the tenant and its clients and scopes.
    ///
    /// Errors: `NotFound`.
    async fn delete(&self, slug: &str) -> StoreResult<()>;
}
