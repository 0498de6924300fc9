use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// A user's TOTP enrolment. The secret is stored encrypted by the caller.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct MfaTotp {
    /// Owner.
    pub user_id: Uuid,
    /// The TOTP secret, encrypted by the caller.
    pub secret_encrypted: String,
    /// When the user confirmed the enrolment with a first code.
    pub confirmed_at: Option<Timestamp>,
    /// Last successful use.
    pub last_used_at: Option<Timestamp>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for MfaTotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaTotp")
            .field("user_id", &self.user_id)
            .field("secret_encrypted", &"<redacted>")
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_at", &self.last_used_at)
            .finish()
    }
}
