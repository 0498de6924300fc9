use async_trait::async_trait;

use crate::error::StoreResult;
use crate::model::{Client, ClientInput};

/// OAuth/OIDC clients of one tenant (control plane).
#[async_trait]
pub trait ClientRepository: Send + Sync {
    /// The client with this `client_id`.
    ///
    /// Errors: `NotFound`.
    async fn get(&self, client_id: &str) -> StoreResult<Client>;

    /// Clients whose id or name contains `query` (case-insensitive; all for `""`), by id.
    ///
    /// Errors: `TenantNotFound` for an unknown tenant; `InvalidConfig` when the tenant's FS
    /// files do not validate. No match gives an empty list.
    async fn list(&self, query: &str) -> StoreResult<Vec<Client>>;

    /// Creates a client; its secret is encrypted before it is written.
    ///
    /// Errors: `InvalidInput` for a bad client id, redirect URI or unknown scope, or a
    /// secret on a public client; `Conflict` on an existing client id; `Crypto` when a
    /// secret must be written and no key is configured.
    async fn create(&self, input: ClientInput) -> StoreResult<Client>;

    /// Replaces the client's fields (`secret: None` keeps the current secret,
    /// `client_type: None` keeps the current type; a client made public loses its secret).
    ///
    /// Errors: `NotFound`; others as for `create`.
    async fn update(&self, input: ClientInput) -> StoreResult<Client>;

    /// Deletes the client.
    ///
    /// Errors: `NotFound`.
    async fn delete(&self, client_id: &str) -> StoreResult<()>;

    /// The client's secret in plain text.
    ///
    /// Errors: `NotFound` for an unknown client or one without a secret; `Crypto` when
    /// there is no key or the ciphertext does not decrypt.
    async fn decrypt_secret(&self, client_id: &str) -> StoreResult<String>;
}
