use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::{Scope, ScopeInput};

/// OAuth scopes of one tenant (control plane). The system scopes (`openid`, `profile`,
/// `email`, `offline_access`) always exist.
#[async_trait]
pub trait ScopeRepository: Send + Sync {
    /// Creates a scope.
    ///
    /// Errors: `InvalidInput` for a bad name; `Conflict` on an existing name.
    async fn create(&self, input: ScopeInput) -> StoreResult<Scope>;

    /// The scope called `name`.
    ///
    /// Errors: `NotFound`.
    async fn get_by_name(&self, name: &str) -> StoreResult<Scope>;

    /// Every scope, system scopes included, by name.
    ///
    /// Errors: `TenantNotFound` for an unknown tenant; `InvalidConfig` when the tenant's FS
    /// scopes file does not validate.
    async fn list(&self) -> StoreResult<Vec<Scope>>;

    /// Updates a scope (the name is immutable and identifies it).
    ///
    /// Errors: `NotFound`.
    async fn update(&self, input: ScopeInput) -> StoreResult<Scope>;

    /// Deletes a scope.
    ///
    /// Errors: `NotFound`; `InvalidInput` for a system scope or one a client uses.
    async fn delete(&self, name: &str) -> StoreResult<()>;

    /// Creates the scope or updates it.
    ///
    /// Errors: `InvalidInput` for a bad name.
    async fn upsert(&self, input: ScopeInput) -> StoreResult<Scope>;
}
