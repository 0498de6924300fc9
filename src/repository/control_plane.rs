use std::sync::Arc;

use crate::error::StoreResult;
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ScopeRepository, TenantRepository,
};

/// The whole control plane of a deployment: what `Manager::config()` hands out and what the
/// control-plane conformance suite runs against. Implemented by the file-system backend
/// (and later by the global database).
pub trait ControlPlaneStore: Send + Sync {
    /// Backend name (`"fs"`, `"global"`).
    ///
    /// Never fails: a constant of the implementation, no I/O.
    fn backend(&self) -> &str;

    /// The tenant repository.
    ///
    /// Errors: `NotSupported` when the backend lacks it.
    fn tenants(&self) -> StoreResult<Arc<dyn TenantRepository>>;

    /// The client repository of the tenant `slug`.
    ///
    /// Errors: `InvalidInput` for a malformed slug.
    fn clients(&self, slug: &str) -> StoreResult<Arc<dyn ClientRepository>>;

    /// The scope repository of the tenant `slug`.
    ///
    /// Errors: `InvalidInput` for a malformed slug.
    fn scopes(&self, slug: &str) -> StoreResult<Arc<dyn ScopeRepository>>;

    /// The admin repository.
    ///
    /// Errors: `NotSupported` when the backend lacks it.
    fn admins(&self) -> StoreResult<Arc<dyn AdminRepository>>;

    /// The admin refresh-token repository.
    ///
    /// Errors: `NotSupported` when the backend lacks it.
    fn admin_refresh_tokens(&self) -> StoreResult<Arc<dyn AdminRefreshTokenRepository>>;

    /// The version of the control plane this store reads from (`None` for a backend without
    /// versions, such as the FS tree).
    ///
    /// Never fails: it reads the in-memory snapshot, no I/O.
    fn version(&self) -> Option<u64> {
        None
    }

    /// Announcements of tenants changed by any writer: another replica of the global
    /// database, or (FS tree) another process, a hand edit or a `git pull`, within about a
    /// second (`None` when the backend has nobody to hear from, or its watcher is off or
    /// could not start). The `Manager` drops the cached accesses they name. The first call
    /// may start the backend's watcher (the FS backend's stops when its last clone drops,
    /// and its receivers then see `Closed`).
    ///
    /// Never fails: each call gives a new receiver of a bounded channel; one that falls
    /// behind gets `RecvError::Lagged` and misses the oldest announcements.
    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<ControlPlaneChange>> {
        None
    }
}

/// Tenants whose control-plane documents (tenant, clients or scopes) changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlPlaneChange {
    /// Slugs of tenants that were created or changed.
    pub changed: Vec<String>,
    /// Slugs of tenants that were deleted.
    pub removed: Vec<String>,
}
