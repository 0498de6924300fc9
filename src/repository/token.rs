use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{CreateRefreshTokenInput, RefreshToken, Timestamp, TokenFilter, TokenStats};

/// Refresh tokens of one tenant. Only hashes are stored.
#[async_trait]
pub trait TokenRepository: Send + Sync {
    /// Issues a token in a new family. Returns its id.
    ///
    /// Errors: `NotFound` for an unknown user; `Conflict` for a hash already stored;
    /// `InvalidInput` for an empty hash or client id or a non-positive ttl.
    async fn create(&self, input: CreateRefreshTokenInput) -> StoreResult<Uuid>;

    /// The token with this hash, whatever its status.
    ///
    /// Errors: `NotFound`.
    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<RefreshToken>;

    /// The token with this id, whatever its status.
    ///
    /// Errors: `NotFound`.
    async fn get_by_id(&self, id: Uuid) -> StoreResult<RefreshToken>;

    /// [`rotate_with_reuse_interval`](Self::rotate_with_reuse_interval) with the reuse
    /// interval this repository is bound to: the tenant's
    /// `refresh_token_reuse_interval_secs` for the repository
    /// [`TenantDataAccess::tokens`](crate::manager::TenantDataAccess::tokens) hands out, 0
    /// (off) for an adapter's own. Services call this one.
    ///
    /// Errors: those of `rotate_with_reuse_interval`.
    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: chrono::TimeDelta,
    ) -> StoreResult<RefreshToken> {
        self.rotate_with_reuse_interval(old_hash, new_hash, ttl, chrono::TimeDelta::zero()).await
    }

    /// Atomically revokes the token `old_hash` and issues `new_hash` in the same family,
    /// `rotated_from` pointing at the old one. Of concurrent rotations of one token exactly
    /// one succeeds; its new token stays active.
    ///
    /// A call whose token was rotated by another call is told apart by time (replicas'
    /// clocks must be in sync): it *started* (the wall clock at the entry of this method,
    /// before any I/O) no later than the winning rotation revoked the old token (the
    /// winner's `revoked_at`, taken right before its claim, its last write), or it saw the
    /// old token still active during its own attempt. Such a **concurrent loser** gets
    /// `Conflict` and writes nothing (the caller reads the winner's token from wherever the
    /// other request put it, or logs in again). A presentation that started after the
    /// rotation is a **replay**: within `reuse_interval` of the rotation, and while the
    /// successor is still active (not rotated, not revoked, not expired), it returns that
    /// successor unchanged (`Ok`, `new_hash` and `ttl` ignored, nothing written); otherwise
    /// it is reuse.
    ///
    /// Only hashes are stored, so a service can send the successor's value again only when it
    /// derives the new token from the presented one (an HMAC of it, say): a retry with the
    /// same `new_hash` is then idempotent within the interval.
    ///
    /// Errors: `InvalidInput` for an empty `new_hash`, one equal to `old_hash`, a
    /// non-positive or overflowing ttl, or a `reuse_interval` below 0 or above
    /// [`MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS`](crate::model::MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS),
    /// checked before anything changes; `NotFound` for an unknown hash; `TokenReused` when
    /// the token was revoked (by `revoke`, by a family revocation) or rotated and replayed
    /// outside the reuse interval — the whole family is then revoked; `TokenExpired` when it
    /// has expired; `Conflict` when `new_hash` exists or for a concurrent loser. On every
    /// error but `TokenReused` nothing is written: an active old token stays usable.
    async fn rotate_with_reuse_interval(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: chrono::TimeDelta,
        reuse_interval: chrono::TimeDelta,
    ) -> StoreResult<RefreshToken>;

    /// Revokes one token (idempotent).
    ///
    /// Errors: `NotFound`.
    async fn revoke(&self, id: Uuid) -> StoreResult<()>;

    /// Revokes the user's active tokens (of one client when given). Returns how many.
    ///
    /// Linearizable with rotation: a successor of a rotation that committed before this
    /// returns is revoked too (a concurrent rotation either loses or its successor is
    /// revoked).
    ///
    /// Errors: `Unavailable`; `Conflict` (SQL) when matching tokens kept being issued while it
    /// ran; an unknown user gives 0, not `NotFound`.
    async fn revoke_all_by_user(&self, user_id: Uuid, client_id: Option<&str>) -> StoreResult<u64>;

    /// Revokes the client's active tokens. Returns how many.
    ///
    /// Linearizable with rotation: a successor of a rotation that committed before this
    /// returns is revoked too (a concurrent rotation either loses or its successor is
    /// revoked).
    ///
    /// Errors: `Unavailable`; `Conflict` (SQL) when matching tokens kept being issued while it
    /// ran; an unknown client gives 0, not `NotFound`.
    async fn revoke_all_by_client(&self, client_id: &str) -> StoreResult<u64>;

    /// Revokes every active token of the tenant. Returns how many.
    ///
    /// Linearizable with rotation: a successor of a rotation that committed before this
    /// returns is revoked too (a concurrent rotation either loses or its successor is
    /// revoked).
    ///
    /// Errors: `Unavailable`; `Conflict` (SQL) when matching tokens kept being issued while it
    /// ran.
    async fn revoke_all(&self) -> StoreResult<u64>;

    /// A page of tokens, newest first, each with its owner's e-mail.
    ///
    /// Errors: `Unavailable`; `InvalidInput` for a search term over 320 characters or with a
    /// NUL; no match, or a page past the end, gives an empty list.
    async fn list(&self, filter: &TokenFilter) -> StoreResult<Vec<RefreshToken>>;

    /// How many tokens match the filter (paging ignored).
    ///
    /// Errors: `Unavailable`.
    async fn count(&self, filter: &TokenFilter) -> StoreResult<u64>;

    /// Aggregates over the tenant's tokens.
    ///
    /// Errors: `Unavailable`; an empty tenant gives zeros.
    async fn stats(&self) -> StoreResult<TokenStats>;

    /// Deletes, `batch_size` rows at a time (`batch_size` 0: 1000; at most
    /// [`MAX_PURGE_BATCH`](crate::model::MAX_PURGE_BATCH), larger is capped), the tokens that expired
    /// before `now` or were revoked more than a day before `now`, of families that are dead
    /// at `now`: a family with a token still active at `now` (neither revoked nor expired)
    /// keeps every token, so that a replay of a rotated token is still `TokenReused` and
    /// revokes the live tokens. Returns how many were deleted.
    ///
    /// Errors: `Unavailable`.
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64>;
}
