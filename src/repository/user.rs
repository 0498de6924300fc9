use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{CreateUserInput, Identity, Timestamp, UpdateUserInput, User, UserFilter};

/// Users of one tenant and their password identity.
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// The user whose e-mail has the same normalised form as `email` (NFC, lowercased; see
    /// [`normalize_email`](crate::model::normalize_email)), with its password identity
    /// (`None` when the user has none). `jose@…` never finds `josé@…`.
    ///
    /// Errors: `NotFound` when no user has that e-mail; `InvalidInput` (before any I/O) for
    /// an address [`validate_email`](crate::model::validate_email) refuses.
    async fn get_by_email(&self, email: &str) -> StoreResult<(User, Option<Identity>)>;

    /// The user with id `user_id`.
    ///
    /// Errors: `NotFound`.
    async fn get_by_id(&self, user_id: Uuid) -> StoreResult<User>;

    /// A page of users ordered by `created_at`, then `id`; `search` matches e-mail or name
    /// case-insensitively. The page size is capped at 200 (default 50).
    ///
    /// Errors: `Unavailable`; `InvalidInput` for a search term over 320 characters or with a
    /// NUL; no match, or an offset past the end, gives an empty list.
    async fn list(&self, filter: &UserFilter) -> StoreResult<Vec<User>>;

    /// How many users match `search` (all users for `None`), searched as `list` does.
    ///
    /// Errors: `Unavailable`.
    async fn count(&self, search: Option<&str>) -> StoreResult<u64>;

    /// Creates a user and its password identity in one transaction.
    ///
    /// Errors: `InvalidInput` for an e-mail [`validate_email`](crate::model::validate_email)
    /// refuses (RFC 5321 lengths, control characters, …), a password hash
    /// [`validate_password_hash`](crate::password::validate_password_hash) refuses (unknown
    /// format or cost parameters out of limits; a blank hash means no password), or a
    /// non-object `metadata`/`custom_fields`; `Conflict` when a user with the same
    /// normalised e-mail exists.
    async fn create(&self, input: CreateUserInput) -> StoreResult<(User, Identity)>;

    /// Writes the `Some` fields of `input`, leaves the others, bumps `updated_at`.
    ///
    /// Errors: `NotFound`; `InvalidInput` for non-object JSON fields.
    async fn update(&self, user_id: Uuid, input: UpdateUserInput) -> StoreResult<User>;

    /// Deletes the user and, by cascade, its identities, tokens, MFA, consents, roles,
    /// sessions and e-mail tokens.
    ///
    /// Errors: `NotFound`.
    async fn delete(&self, user_id: Uuid) -> StoreResult<()>;

    /// Disables the user (until `until`, or indefinitely), recording who and why.
    ///
    /// Errors: `NotFound`.
    async fn disable(
        &self,
        user_id: Uuid,
        by: &str,
        reason: Option<&str>,
        until: Option<Timestamp>,
    ) -> StoreResult<()>;

    /// Clears the disablement. `by` is recorded in the logs only.
    ///
    /// Errors: `NotFound`.
    async fn enable(&self, user_id: Uuid, by: &str) -> StoreResult<()>;

    /// Sets `email_verified` on the user and its password identity.
    ///
    /// Errors: `NotFound`.
    async fn set_email_verified(&self, user_id: Uuid, verified: bool) -> StoreResult<()>;

    /// Replaces the password hash of the password identity (creating the identity when the
    /// user has none).
    ///
    /// Errors: `NotFound`; `InvalidInput` for an empty hash or one
    /// [`validate_password_hash`](crate::password::validate_password_hash) refuses.
    async fn update_password_hash(&self, user_id: Uuid, new_hash: &str) -> StoreResult<()>;

    /// Verifies `password` against an argon2id PHC string or a bcrypt
    /// (`$2a$`/`$2b$`/`$2y$`) hash. No I/O; constant time in the password.
    ///
    /// Never fails: a wrong password, `None`, an unparsable hash or one whose cost
    /// parameters are out of limits gives `false` (such a hash never reaches the KDF).
    fn check_password(&self, hash: Option<&str>, password: &str) -> bool {
        crate::password::verify_password(hash, password)
    }
}
