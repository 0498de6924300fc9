use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{CreateSessionInput, Session, SessionFilter, SessionStats, Timestamp};

/// Login sessions of one tenant. Only hashes of session ids are stored.
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Creates a session.
    ///
    /// Errors: `NotFound` for an unknown user; `Conflict` for a known hash.
    async fn create(&self, input: CreateSessionInput) -> StoreResult<Session>;

    /// The session with this id hash, whatever its status.
    ///
    /// Errors: `NotFound`.
    async fn get(&self, session_id_hash: &str) -> StoreResult<Session>;

    /// Records activity at `at`.
    ///
    /// Errors: `NotFound`.
    async fn touch(&self, session_id_hash: &str, at: Timestamp) -> StoreResult<()>;

    /// A page of sessions, most recent activity first, and the total matching count
    /// (paging ignored).
    ///
    /// Errors: `Unavailable`; `InvalidInput` for a search term over 320 characters or with a
    /// NUL; no match gives an empty page and a count of 0, a page past the end an empty page.
    async fn list(&self, filter: &SessionFilter) -> StoreResult<(Vec<Session>, u64)>;

    /// Revokes a session (a revoked one keeps its first revocation).
    ///
    /// Errors: `NotFound`.
    async fn revoke(&self, session_id_hash: &str, by: &str, reason: Option<&str>) -> StoreResult<()>;

    /// Revokes the user's active sessions. Returns how many; revoked or expired sessions are
    /// left as they were and not counted.
    ///
    /// Errors: `Unavailable`; an unknown user gives 0, not `NotFound`.
    async fn revoke_all_by_user(&self, user_id: Uuid, by: &str, reason: Option<&str>) -> StoreResult<u64>;

    /// Revokes every active session of the tenant. Returns how many; revoked or expired
    /// sessions are left as they were.
    ///
    /// Errors: `Unavailable`.
    async fn revoke_all(&self, by: &str, reason: Option<&str>) -> StoreResult<u64>;

    /// Deletes sessions that expired before `now`, `batch_size` at a time (0: 1000; at most
    /// [`MAX_PURGE_BATCH`](crate::model::MAX_PURGE_BATCH), larger is capped). Returns
    /// how many. A revoked session stays until it expires.
    ///
    /// Errors: `Unavailable`.
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64>;

    /// Aggregates over active sessions (and the count of sessions created today).
    ///
    /// Errors: `Unavailable`; an empty tenant gives zeros.
    async fn stats(&self) -> StoreResult<SessionStats>;
}
