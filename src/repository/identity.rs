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

    /// Logs in through a provider, atomically:
    ///
    /// 1. an existing identity `(provider, provider_user_id)` logs in: it is updated with
    ///    what the provider reported (whatever the `email_verified` flags);
    /// 2. else, when a user has the same e-mail (same [`normalize_email`] form), the identity
    ///    is linked to that user **only when the provider reports the e-mail verified and the
    ///    user's e-mail is verified**; otherwise nothing is created or linked and the call
    ///    returns `LinkRequired` — an unverified e-mail on either side proves nothing, and
    ///    linking on it would let an attacker take over the account (or pre-register one
    ///    that a later social sign-in would fall into). The user must sign in to the
    ///    existing account and call [`link`](Self::link);
    /// 3. else a user is created with the provider's e-mail (its `email_verified` from the
    ///    provider), name and picture, and the identity is linked to it.
    ///
    /// Returns the user id and whether the user was created. Concurrent upserts of the same
    /// identity create one user.
    ///
    /// Errors: `LinkRequired` (case 2); `InvalidInput` for an empty provider or provider user
    /// id, a malformed e-mail (see [`validate_email`]; a blank one counts as none), or when a
    /// new user would be needed and there is no e-mail.
    ///
    /// [`normalize_email`]: crate::model::normalize_email
    /// [`validate_email`]: crate::model::validate_email
    async fn upsert(&self, input: SocialIdentityInput) -> StoreResult<(Uuid, bool)>;

    /// Links a provider identity to `user_id`, whatever the e-mails and their verification
    /// (the caller has authenticated the user: this is the explicit link `upsert`'s
    /// `LinkRequired` asks for).
    ///
    /// Errors: `NotFound` for an unknown user; `Conflict` when that provider identity
    /// belongs to another user (linking it again to the same user updates it);
    /// `InvalidInput` for an empty provider or provider user id or a malformed e-mail.
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
