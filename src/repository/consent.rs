use std::collections::BTreeSet;

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::Consent;

/// Scopes granted by one tenant's users to clients.
#[async_trait]
pub trait ConsentRepository: Send + Sync {
    /// Grants `scopes` to the client, replacing earlier scopes and clearing `revoked_at`.
    /// Concurrent upserts for different clients all persist.
    ///
    /// Errors: `NotFound` for an unknown user; `InvalidInput` for an empty client id.
    async fn upsert(&self, user_id: Uuid, client_id: &str, scopes: &BTreeSet<String>)
    -> StoreResult<Consent>;

    /// The consent of the user for the client (revoked or not).
    ///
    /// Errors: `NotFound`.
    async fn get(&self, user_id: Uuid, client_id: &str) -> StoreResult<Consent>;

    /// The user's consents, oldest first; only unrevoked ones when `active_only`.
    ///
    /// Errors: `Unavailable`; an unknown user gives an empty list, not `NotFound`.
    async fn list_by_user(&self, user_id: Uuid, active_only: bool) -> StoreResult<Vec<Consent>>;

    /// A page of all consents of the tenant, oldest first, and the total matching count
    /// (paging ignored). `limit` 0 means 50; larger limits are capped at 200.
    ///
    /// Errors: `Unavailable`.
    async fn list_all(&self, limit: u64, offset: u64, active_only: bool) -> StoreResult<(Vec<Consent>, u64)>;

    /// Soft-deletes the consent (sets `revoked_at`).
    ///
    /// Errors: `NotFound`.
    async fn revoke(&self, user_id: Uuid, client_id: &str) -> StoreResult<()>;
}
