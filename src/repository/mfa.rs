use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{MfaTotp, Timestamp};

/// TOTP enrolments, recovery codes and trusted devices of one tenant's users.
#[async_trait]
pub trait MfaRepository: Send + Sync {
    /// Creates or replaces the user's TOTP secret (unconfirmed).
    ///
    /// Errors: `NotFound` for an unknown user.
    async fn upsert_totp(&self, user_id: Uuid, secret_encrypted: &str) -> StoreResult<()>;

    /// Marks the enrolment confirmed.
    ///
    /// Errors: `NotFound` when the user has no TOTP.
    async fn confirm_totp(&self, user_id: Uuid) -> StoreResult<()>;

    /// The user's TOTP enrolment.
    ///
    /// Errors: `NotFound`.
    async fn get_totp(&self, user_id: Uuid) -> StoreResult<MfaTotp>;

    /// Records a successful use (`last_used_at`).
    ///
    /// Errors: `NotFound`.
    async fn touch_totp(&self, user_id: Uuid) -> StoreResult<()>;

    /// Removes the enrolment (idempotent).
    ///
    /// Errors: `Unavailable`; a user without TOTP, or an unknown user, is `Ok`, not `NotFound`.
    async fn disable_totp(&self, user_id: Uuid) -> StoreResult<()>;

    /// Replaces all recovery codes of the user with `hashes`, in one transaction.
    ///
    /// Errors: `NotFound` for an unknown user; `InvalidInput` for an empty hash.
    async fn set_recovery_codes(&self, user_id: Uuid, hashes: &[String]) -> StoreResult<()>;

    /// Deletes all recovery codes of the user (idempotent).
    ///
    /// Errors: `Unavailable`; a user without codes, or an unknown user, is `Ok`, not `NotFound`.
    async fn delete_recovery_codes(&self, user_id: Uuid) -> StoreResult<()>;

    /// Uses a recovery code: `true` the first time, `false` afterwards or for an unknown
    /// code — also when many callers use the same code at once (exactly one gets `true`).
    ///
    /// Errors: `Unavailable`; an unknown user or code is `Ok(false)`, not `NotFound`.
    async fn use_recovery_code(&self, user_id: Uuid, code_hash: &str) -> StoreResult<bool>;

    /// Trusts a device until `expires_at` (upsert: a known device gets the new expiry).
    ///
    /// Errors: `NotFound` for an unknown user.
    async fn add_trusted_device(
        &self,
        user_id: Uuid,
        device_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;

    /// Whether the device is trusted now (`false` once expired).
    ///
    /// Errors: `Unavailable`; an unknown user or device is `Ok(false)`, not `NotFound`.
    async fn is_trusted_device(&self, user_id: Uuid, device_hash: &str) -> StoreResult<bool>;

    /// Deletes trusted devices that expired before `now`, `batch_size` at a time (0: 1000; at most
    /// [`MAX_PURGE_BATCH`](crate::model::MAX_PURGE_BATCH), larger is capped).
    /// Returns how many.
    ///
    /// Errors: `Unavailable`.
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64>;
}
