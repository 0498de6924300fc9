use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Timestamp;

/// Whether a client can keep a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Browser or native app: no secret.
    Public,
    /// Server-side app with a secret.
    Confidential,
}

/// An OAuth/OIDC client of a tenant.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// UUID.
    pub id: Uuid,
    /// OAuth `client_id`, `^[A-Za-z0-9._-]{3,128}$`.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Public or confidential.
    pub client_type: ClientType,
    /// Allowed redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Allowed CORS origins.
    pub allowed_origins: Vec<String>,
    /// Login providers offered.
    pub providers: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: Vec<String>,
    /// Secret (ciphertext once stored; confidential clients only).
    pub secret: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("client_type", &self.client_type)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// What `ClientRepository::create` and `update` take. `secret` is plain text here; the
/// store encrypts it before writing.
#[derive(Clone, Default, PartialEq)]
pub struct ClientInput {
    /// OAuth `client_id`.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Public or confidential (`None` means public).
    pub client_type: Option<ClientType>,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Allowed CORS origins.
    pub allowed_origins: Vec<String>,
    /// Login providers.
    pub providers: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Plain-text secret (confidential clients only).
    pub secret: Option<String>,
}

impl std::fmt::Debug for ClientInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInput")
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("client_type", &self.client_type)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}
