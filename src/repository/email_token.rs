use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{EmailToken, EmailTokenKind, Timestamp};

/// Single-use e-mail tokens (verification, password reset) of one tenant. Hashes only.
#[async_trait]
pub trait EmailTokenRepository: Send + Sync {
    /// Stores a token valid for `ttl`. Returns its id.
    ///
    /// Errors: `NotFound` for an unknown user; `Conflict` for a known hash;
    /// `InvalidInput` for an empty hash, a non-positive ttl, or a `sent_to` address
    /// [`validate_email`](crate::model::validate_email) refuses (stored trimmed).
    async fn create(
        &self,
        kind: EmailTokenKind,
        user_id: Uuid,
        token_hash: &str,
        sent_to: &str,
        ttl: chrono::TimeDelta,
    ) -> StoreResult<Uuid>;

    /// Consumes the token atomically: exactly one caller gets it.
    ///
    /// Errors: `NotFound` for an unknown, already used or other-kind token;
    /// `TokenExpired` when it has expired.
    async fn consume(&self, kind: EmailTokenKind, token_hash: &str) -> StoreResult<EmailToken>;

    /// Deletes tokens that expired before `now`, `batch_size` at a time (0: 1000; at most
    /// [`MAX_PURGE_BATCH`](crate::model::MAX_PURGE_BATCH), larger is capped). Returns
    /// how many. A used token stays until it expires.
    ///
    /// Errors: `Unavailable`.
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64>;
}
