//! `ClientRepository` over `tenants/<slug>/clients.yaml`.

use async_trait::async_trait;

use super::schema::{ClientsFile, FileKind, ScopesFile};
use super::{FsControlPlane, document, rules, storage};
use crate::crypto::{fields, seal_optional};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Client, ClientInput, ClientType, Secret, is_system_scope, new_id, now, validate_client_id,
    validate_redirect_uri,
};
use crate::repository::ClientRepository;

/// The clients of one tenant.
#[derive(Debug, Clone)]
pub struct FsClientRepository {
    cp: FsControlPlane,
    slug: String,
}

impl FsClientRepository {
    /// The clients of tenant `slug` (validated by [`FsControlPlane::clients`]).
    pub fn new(cp: FsControlPlane, slug: impl Into<String>) -> Self {
        FsClientRepository { cp, slug: slug.into() }
    }

    fn path(&self, kind: FileKind) -> StoreResult<std::path::PathBuf> {
        Ok(self.cp.tenant_dir(&self.slug)?.join(kind.file_name()))
    }

    /// Reads `clients.yaml`, validated against its schema, its own rules and the rule
    /// across files that every scope a client lists exists in `scopes.yaml`.
    fn load(&self) -> StoreResult<ClientsFile> {
        self.cp.require_tenant(&self.slug)?;
        let path = self.path(FileKind::Clients)?;
        let Some(text) = storage::read_optional(&path)? else {
            return Ok(ClientsFile::default());
        };
        let file = path.display().to_string();
        let parsed = document::check_text(FileKind::Clients, &file, &text, None)
            .map_err(|problems| StoreError::InvalidConfig { problems })?;
        let names: Vec<String> = self.load_scopes()?.scopes.into_iter().map(|s| s.name).collect();
        let mut report = document::Report::new(&file, &parsed.text);
        rules::check_client_scopes(&parsed.json, &names, &mut report);
        if !report.problems.is_empty() {
            return Err(StoreError::InvalidConfig { problems: report.problems });
        }
        serde_json::from_value(parsed.json).map_err(|e| StoreError::InvalidConfig {
            problems: vec![crate::error::ConfigProblem {
                file,
                line: 1,
                column: 1,
                pointer: String::new(),
                message: format!("does not match the clients type: {e}"),
            }],
        })
    }

    fn load_scopes(&self) -> StoreResult<ScopesFile> {
        Ok(self.cp.load(FileKind::Scopes, &self.path(FileKind::Scopes)?, None)?.unwrap_or_default())
    }

    fn save(&self, mut file: ClientsFile) -> StoreResult<()> {
        file.clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        self.cp.store(FileKind::Clients, &self.path(FileKind::Clients)?, &file, None)
    }

    /// Checks everything about `input` (of effective type `client_type`) that needs no
    /// file, then that its scopes exist.
    fn check_input(&self, input: &ClientInput, client_type: ClientType) -> StoreResult<()> {
        validate_client_id(&input.client_id)?;
        if input.name.trim().is_empty() {
            return Err(StoreError::invalid("name", "a client needs a name"));
        }
        for uri in input.redirect_uris.iter().chain(&input.post_logout_uris) {
            validate_redirect_uri(uri)?;
        }
        if client_type == ClientType::Public && input.secret.is_some() {
            return Err(StoreError::invalid("secret", "a public client cannot have a secret"));
        }
        if input.secret.as_deref().is_some_and(str::is_empty) {
            return Err(StoreError::invalid("secret", "the secret is empty"));
        }
        let scopes = self.load_scopes()?;
        for s in &input.scopes {
            if !is_system_scope(s) && !scopes.scopes.iter().any(|x| &x.name == s) {
                return Err(StoreError::invalid(
                    "scopes",
                    format!("scope {s:?} does not exist in tenant {}", self.slug),
                ));
            }
        }
        Ok(())
    }

    fn seal(&self, client_id: &str, plain: &str) -> StoreResult<Secret> {
        seal_optional(self.cp.secrets(), &self.slug, &fields::client_secret(client_id), &Secret::plain(plain))
    }
}

/// Copies the fields of `input` into `client` (not id, client_id, secret or times); a
/// `client_type` of `None` keeps the current type.
fn apply(client: &mut Client, input: ClientInput) {
    client.name = input.name;
    if let Some(t) = input.client_type {
        client.client_type = t;
    }
    client.description = input.description;
    client.redirect_uris = input.redirect_uris;
    client.post_logout_uris = input.post_logout_uris;
    client.allowed_origins = input.allowed_origins;
    client.providers = input.providers;
    client.scopes = input.scopes;
    client.grant_types = input.grant_types;
    client.require_email_verification = input.require_email_verification;
    client.reset_password_url = input.reset_password_url;
    client.verify_email_url = input.verify_email_url;
    client.claim_schema = input.claim_schema;
    client.claim_mapping = input.claim_mapping;
    client.access_token_ttl_secs = input.access_token_ttl_secs;
    client.refresh_token_ttl_secs = input.refresh_token_ttl_secs;
    client.id_token_ttl_secs = input.id_token_ttl_secs;
}

#[async_trait]
impl ClientRepository for FsClientRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn get(&self, client_id: &str) -> StoreResult<Client> {
        self.load()?
            .clients
            .into_iter()
            .find(|c| c.client_id == client_id)
            .ok_or_else(|| StoreError::not_found("client", client_id))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn list(&self, query: &str) -> StoreResult<Vec<Client>> {
        let q = query.to_lowercase();
        let mut clients: Vec<Client> = self
            .load()?
            .clients
            .into_iter()
            .filter(|c| {
                q.is_empty() || c.client_id.to_lowercase().contains(&q) || c.name.to_lowercase().contains(&q)
            })
            .collect();
        clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(clients)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn create(&self, mut input: ClientInput) -> StoreResult<Client> {
        validate_client_id(&input.client_id)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let mut file = self.load()?;
        self.check_input(&input, input.client_type.unwrap_or_default())?;
        if file.clients.iter().any(|c| c.client_id == input.client_id) {
            return Err(StoreError::conflict("client", format!("client_id {:?} exists", input.client_id)));
        }
        let secret = match input.secret.take() {
            Some(plain) => Some(self.seal(&input.client_id, &plain)?),
            None => None,
        };
        let at = now();
        let mut client = Client {
            id: new_id(),
            client_id: input.client_id.clone(),
            name: String::new(),
            client_type: ClientType::Public,
            description: None,
            redirect_uris: Vec::new(),
            post_logout_uris: Vec::new(),
            allowed_origins: Vec::new(),
            providers: Vec::new(),
            scopes: Vec::new(),
            grant_types: Vec::new(),
            secret,
            require_email_verification: false,
            reset_password_url: None,
            verify_email_url: None,
            claim_schema: Default::default(),
            claim_mapping: Default::default(),
            access_token_ttl_secs: None,
            refresh_token_ttl_secs: None,
            id_token_ttl_secs: None,
            created_at: at,
            updated_at: at,
        };
        apply(&mut client, input);
        file.clients.push(client.clone());
        self.save(file)?;
        tracing::debug!(tenant = %self.slug, client = %client.client_id, backend = "fs", "client created");
        Ok(client)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn update(&self, mut input: ClientInput) -> StoreResult<Client> {
        validate_client_id(&input.client_id)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let mut file = self.load()?;
        let Some(index) = file.clients.iter().position(|c| c.client_id == input.client_id) else {
            return Err(StoreError::not_found("client", &input.client_id));
        };
        self.check_input(&input, input.client_type.unwrap_or(file.clients[index].client_type))?;
        let new_secret = match input.secret.take() {
            Some(plain) => Some(self.seal(&input.client_id, &plain)?),
            None => None,
        };
        let client = &mut file.clients[index];
        apply(client, input);
        if let Some(s) = new_secret {
            client.secret = Some(s);
        }
        if client.client_type == ClientType::Public {
            client.secret = None;
        }
        client.updated_at = now();
        let updated = client.clone();
        self.save(file)?;
        Ok(updated)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn delete(&self, client_id: &str) -> StoreResult<()> {
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let mut file = self.load()?;
        let before = file.clients.len();
        file.clients.retain(|c| c.client_id != client_id);
        if file.clients.len() == before {
            return Err(StoreError::not_found("client", client_id));
        }
        self.save(file)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn decrypt_secret(&self, client_id: &str) -> StoreResult<String> {
        let client = self.get(client_id).await?;
        let secret = client.secret.ok_or_else(|| StoreError::not_found("client_secret", client_id))?;
        let secrets = self.cp.secrets().ok_or_else(|| StoreError::Crypto {
            message: format!(
                "cannot read the secret of client {client_id}: no secret key configured ({})",
                crate::crypto::SECRET_KEY_ENV
            ),
        })?;
        secrets.decrypt(&self.slug, &fields::client_secret(client_id), &secret)
    }
}
