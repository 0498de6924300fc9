use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// What an e-mail token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailTokenKind {
    /// E-mail verification link.
    Verification,
    /// Password reset link.
    PasswordReset,
}

impl EmailTokenKind {
    /// Stored name (`verification`, `password_reset`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmailTokenKind::Verification => "verification",
            EmailTokenKind::PasswordReset => "password_reset",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verification" => Some(EmailTokenKind::Verification),
            "password_reset" => Some(EmailTokenKind::PasswordReset),
            _ => None,
        }
    }
}

/// A single-use e-mail token. Only its hash is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailToken {
    /// UUID v7.
    pub id: Uuid,
    /// Purpose.
    pub kind: EmailTokenKind,
    /// Owner.
    pub user_id: Uuid,
    /// Hash of the token.
    pub token_hash: String,
    /// Address the token was sent to.
    pub sent_to: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// When it was consumed.
    pub used_at: Option<Timestamp>,
}
