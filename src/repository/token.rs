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

    /// Atomically revokes the token `old_hash` and issues `new_hash` in the same family,
    /// `rotated_from` pointing at the old one. Of concurrent rotations of one token exactly
    /// one succeeds.
    ///
    /// Errors: `InvalidInput` for an empty `new_hash`, one equal to `old_hash`, or a
    /// non-positive or overflowing ttl, checked before anything changes; `NotFound` for an
    /// unknown hash; `TokenReused` when the token was already rotated or revoked — the whole
    /// family is then revoked; `TokenExpired` when it has expired; `Conflict` when
    /// `new_hash` exists or a concurrent rotation won. On every error but `TokenReused`
    /// nothing is written: an active old token stays usable.
    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: chrono::TimeDelta,
    ) -> StoreResult<RefreshToken>;

    /// Revokes one token (idempotent).
    ///
    /// Errors: `NotFound`.
    async fn revoke(&self, id: Uuid) -> StoreResult<()>;

    /// Revokes the user's active tokens (of one client when given). Returns how many.
    ///
    /// Errors: `Unavailable`; an unknown user gives 0, not `NotFound`.
    async fn revoke_all_by_user(&self, user_id: Uuid, client_id: Option<&str>) -> StoreResult<u64>;

    /// Revokes the client's active tokens. Returns how many.
    ///
    /// Errors: `Unavailable`; an unknown client gives 0, not `NotFound`.
    async fn revoke_all_by_client(&self, client_id: &str) -> StoreResult<u64>;

    /// Revokes every active token of the tenant. Returns how many.
    ///
    /// Errors: `Unavailable`.
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

    /// Deletes, `batch_size` rows at a time, tokens that expired before `now` and tokens
    /// revoked more than a day before `now` (`batch_size` 0: 1000). Returns how many were
    /// deleted.
    ///
    /// Errors: `Unavailable`.
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64>;
}
