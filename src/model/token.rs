use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// A refresh token. Only the hash of the token is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshToken {
    /// UUID v7.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// E-mail of the owner (joined when read).
    pub user_email: Option<String>,
    /// OAuth client the token was issued to.
    pub client_id: String,
    /// Hash of the token (the token itself is never stored).
    pub token_hash: String,
    /// Issue time.
    pub issued_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Id of the token this one replaced, if it came from a rotation.
    pub rotated_from: Option<Uuid>,
    /// When the token was revoked (by rotation, explicitly, or by reuse detection).
    pub revoked_at: Option<Timestamp>,
    /// Family: every token descending from one login shares it.
    pub family_id: Uuid,
}

impl RefreshToken {
    /// The status of the token at `at`.
    pub fn status_at(&self, at: Timestamp) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if self.expires_at <= at {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// What `TokenRepository::create` takes.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRefreshTokenInput {
    /// Owner.
    pub user_id: Uuid,
    /// Client.
    pub client_id: String,
    /// Hash of the token.
    pub token_hash: String,
    /// Lifetime; must be positive.
    pub ttl: chrono::TimeDelta,
}

/// Status of a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Neither revoked nor expired.
    Active,
    /// Past its expiry, not revoked.
    Expired,
    /// Revoked.
    Revoked,
}

/// Filter of `TokenRepository::list` and `count`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenFilter {
    /// Only this user's tokens.
    pub user_id: Option<Uuid>,
    /// Only this client's tokens.
    pub client_id: Option<String>,
    /// Only tokens in this status.
    pub status: Option<TokenStatus>,
    /// Case-insensitive substring of the owner's e-mail.
    pub search: Option<String>,
    /// 1-based page (0 is treated as 1).
    pub page: u64,
    /// Page size (0 means 50, capped at 200).
    pub page_size: u64,
}

/// Aggregates over a tenant's refresh tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenStats {
    /// Tokens neither revoked nor expired.
    pub total_active: u64,
    /// Tokens issued since midnight UTC.
    pub issued_today: u64,
    /// Tokens revoked since midnight UTC.
    pub revoked_today: u64,
    /// Mean lifetime (expires_at − issued_at) of active tokens, in hours.
    pub avg_lifetime_hours: f64,
    /// Active tokens per client.
    pub by_client: BTreeMap<String, u64>,
}

/// Page arithmetic shared by paged filters: `(limit, offset)` for a 1-based page (the offset
/// saturates at `u64::MAX`; lists treat an offset past [`super::MAX_OFFSET`] as an empty page).
pub fn page_bounds(page: u64, page_size: u64) -> (u64, u64) {
    let size = super::page_size(page_size);
    (size, page.max(1).saturating_sub(1).saturating_mul(size))
}
