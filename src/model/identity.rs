use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// A social or federated identity linked to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocialIdentity {
    /// UUID v7.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Provider name (`google`, `github`, …).
    pub provider: String,
    /// The user's id at the provider.
    pub provider_user_id: String,
    /// E-mail reported by the provider.
    pub email: Option<String>,
    /// Whether the provider says the e-mail is verified.
    pub email_verified: bool,
    /// Name reported by the provider.
    pub name: Option<String>,
    /// Picture reported by the provider.
    pub picture: Option<String>,
    /// Raw claims of the last login (JSON object).
    pub raw_claims: serde_json::Value,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// What `IdentityRepository::upsert` and `link` take.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SocialIdentityInput {
    /// Provider name.
    pub provider: String,
    /// The user's id at the provider.
    pub provider_user_id: String,
    /// E-mail reported by the provider (used to find or create the user on upsert).
    pub email: Option<String>,
    /// Whether the provider says the e-mail is verified.
    pub email_verified: bool,
    /// Name.
    pub name: Option<String>,
    /// Picture.
    pub picture: Option<String>,
    /// Raw claims (JSON object).
    pub raw_claims: serde_json::Value,
}
