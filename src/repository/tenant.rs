use async_trait::async_trait;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::model::{DeletedTenant, Provisioning, Tenant, TenantSettings};

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
    /// The returned tenant has its `namespace` recorded: the caller's, or one allocated in
    /// the same critical section as the create (see `Tenant::namespace`), so no two live
    /// tenants and no live and not-yet-purged deleted tenant ever hold the same one.
    ///
    /// Errors: `InvalidInput` for a bad slug, settings or namespace; `Conflict` on an
    /// existing slug or id (the id of a deleted tenant not yet purged included), or a
    /// caller-chosen namespace that is taken; `Crypto` when a
    /// secret must be written and no key is configured.
    async fn create(&self, tenant: Tenant) -> StoreResult<Tenant>;

    /// Replaces name, display name, language and settings (the slug, id and namespace are
    /// immutable).
    ///
    /// Errors: `NotFound`; `InvalidInput` (also for a `namespace` other than the current
    /// one); `Crypto` as for `create`.
    async fn update(&self, tenant: Tenant) -> StoreResult<Tenant>;

    /// Replaces the settings of the tenant.
    ///
    /// Errors: `NotFound`; `InvalidInput`; `Crypto` as for `create`.
    async fn update_settings(&self, slug: &str, settings: TenantSettings) -> StoreResult<Tenant>;

    /// Deletes the tenant and its clients and scopes, and keeps a [`DeletedTenant`]
    /// tombstone (id, slug, namespace, whether it had its own database, when) until
    /// [`TenantRepository::forget_deleted`]: the namespace's data stays where it is, and no
    /// new tenant is given that namespace, so a new tenant with the same slug starts empty.
    ///
    /// Errors: `NotFound`.
    async fn delete(&self, slug: &str) -> StoreResult<()>;

    /// Records the outcome of provisioning the tenant's namespace (see
    /// [`Tenant::provisioning`](crate::model::Tenant)), changing nothing else.
    ///
    /// Errors: `NotFound`; `NotSupported` when the backend cannot record it.
    async fn record_provisioning(&self, slug: &str, provisioning: Provisioning) -> StoreResult<Tenant> {
        let _ = (slug, provisioning);
        Err(StoreError::NotSupported {
            operation: "record provisioning".into(),
            backend: "this control plane".into(),
        })
    }

    /// The tombstones of deleted tenants not yet purged, oldest first.
    ///
    /// Errors: `NotSupported` when the backend keeps none; `InvalidConfig` for a corrupt
    /// tombstone.
    async fn list_deleted(&self) -> StoreResult<Vec<DeletedTenant>> {
        Err(crate::error::StoreError::NotSupported {
            operation: "list deleted tenants".into(),
            backend: "this tenant repository".into(),
        })
    }

    /// Removes the tombstone of the deleted tenant `id` (after its namespace was purged),
    /// which frees its namespace for new tenants.
    ///
    /// Errors: `NotFound`; `NotSupported` as for `list_deleted`.
    async fn forget_deleted(&self, id: Uuid) -> StoreResult<()> {
        let _ = id;
        Err(crate::error::StoreError::NotSupported {
            operation: "forget a deleted tenant".into(),
            backend: "this tenant repository".into(),
        })
    }
}
