use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// The scopes a user granted to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// UUID v7.
    pub id: Uuid,
    /// The user who granted.
    pub user_id: Uuid,
    /// The client that received the grant.
    pub client_id: String,
    /// Granted scopes (a set: order and duplicates do not matter).
    pub scopes: BTreeSet<String>,
    /// First grant.
    pub granted_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// When the consent was revoked (soft delete).
    pub revoked_at: Option<Timestamp>,
}
