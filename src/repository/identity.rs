use async_trait::async_trait;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::model::{SocialIdentity, SocialIdentityInput};

/// Social and federated identities of one tenant's users.
#[async_trait]
pub trait IdentityRepository: Send + Sync {
    /// The identity `provider_user_id` at `provider`.
    ///
    /// Errors: `NotFound`.
    async fn get_by_provider(&self, provider: &str, provider_user_id: &str) -> StoreResult<SocialIdentity>;

    /// Every social identity of the user, oldest first (empty for an unknown user). The
    /// password identity is not listed.
    ///
    /// Errors: `Unavailable`; an unknown user is not `NotFound`.
    async fn list_by_user(&self, user_id: Uuid) -> StoreResult<Vec<SocialIdentity>>;

    /// Logs in through a provider, atomically: an existing identity is updated; else it is
    /// linked to the user with the same e-mail (case-insensitively); else a user is created.
    /// Returns the user id and whether the user was created. Concurrent upserts of the same
    /// identity create one user.
    ///
    /// Errors: `InvalidInput` for an empty provider or provider user id, or when a new user
    /// would be needed and there is no e-mail.
    async fn upsert(&self, input: SocialIdentityInput) -> StoreResult<(Uuid, bool)>;

    /// Links a provider identity to `user_id`.
    ///
    /// Errors: `NotFound` for an unknown user; `Conflict` when that provider identity
    /// belongs to another user (linking it again to the same user updates it).
    async fn link(&self, user_id: Uuid, input: SocialIdentityInput) -> StoreResult<SocialIdentity>;

    /// Removes the user's identity at `provider`.
    ///
    /// Errors: `NotFound` when the user has no identity there; `LastIdentity` when it is
    /// the user's only way to log in (no password and no other identity).
    async fn unlink(&self, user_id: Uuid, provider: &str) -> StoreResult<()>;

    /// Replaces the raw claims of an identity.
    ///
    /// Errors: `NotFound`.
    async fn update_claims(&self, identity_id: Uuid, claims: serde_json::Value) -> StoreResult<()>;
}
