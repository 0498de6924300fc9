//! `ClientRepository` over `tenants/<slug>/clients.yaml`.

use async_trait::async_trait;

use super::schema::{ClientsFile, FileKind, ScopesFile};
use super::{FsControlPlane, document, rules, storage};
use crate::adapters::control;
use crate::error::{StoreError, StoreResult};
use crate::model::{Client, ClientInput, validate_client_id};
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
        let json = self
            .cp
            .check(FileKind::Clients, &file, &text, None)
            .map_err(|problems| StoreError::InvalidConfig { problems })?;
        let names: Vec<String> = self.load_scopes()?.scopes.into_iter().map(|s| s.name).collect();
        let mut report = document::Report::new(&file, &text);
        rules::check_client_scopes(&json, &names, &mut report);
        if !report.problems.is_empty() {
            return Err(StoreError::InvalidConfig { problems: report.problems });
        }
        document::typed(&file, &text, &json)
    }

    fn load_scopes(&self) -> StoreResult<ScopesFile> {
        Ok(self.cp.load(FileKind::Scopes, &self.path(FileKind::Scopes)?, None)?.unwrap_or_default())
    }

    fn save(&self, mut file: ClientsFile) -> StoreResult<()> {
        file.clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        self.cp.store(FileKind::Clients, &self.path(FileKind::Clients)?, &file, None)
    }
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
        Ok(control::list_clients(self.load()?.clients, query))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn create(&self, input: ClientInput) -> StoreResult<Client> {
        validate_client_id(&input.client_id)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let mut file = self.load()?;
        let scopes = self.load_scopes()?;
        let client =
            control::create_client(&mut file.clients, &scopes.scopes, &self.slug, self.cp.secrets(), input)?;
        self.save(file)?;
        tracing::debug!(tenant = %self.slug, client = %client.client_id, backend = "fs", "client created");
        Ok(client)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn update(&self, input: ClientInput) -> StoreResult<Client> {
        validate_client_id(&input.client_id)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let mut file = self.load()?;
        let scopes = self.load_scopes()?;
        let updated =
            control::update_client(&mut file.clients, &scopes.scopes, &self.slug, self.cp.secrets(), input)?;
        self.save(file)?;
        Ok(updated)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn delete(&self, client_id: &str) -> StoreResult<()> {
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let mut file = self.load()?;
        control::delete_client(&mut file.clients, client_id)?;
        self.save(file)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn decrypt_secret(&self, client_id: &str) -> StoreResult<String> {
        let client = self.get(client_id).await?;
        control::decrypt_client_secret(self.cp.secrets(), &self.slug, client)
    }
}
