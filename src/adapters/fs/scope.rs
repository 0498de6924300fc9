//! `ScopeRepository` over `tenants/<slug>/scopes.yaml`. The system scopes always exist:
//! when the file lacks one it is synthesised on read.

use async_trait::async_trait;

use super::FsControlPlane;
use super::schema::{ClientsFile, FileKind, ScopesFile};
use crate::adapters::control;
use crate::error::{StoreError, StoreResult};
use crate::model::{Scope, ScopeInput, Tenant, validate_scope_name};
use crate::repository::ScopeRepository;

/// The scopes of one tenant.
#[derive(Debug, Clone)]
pub struct FsScopeRepository {
    cp: FsControlPlane,
    slug: String,
}

impl FsScopeRepository {
    /// The scopes of tenant `slug` (validated by [`FsControlPlane::scopes`]).
    pub fn new(cp: FsControlPlane, slug: impl Into<String>) -> Self {
        FsScopeRepository { cp, slug: slug.into() }
    }

    fn path(&self, kind: FileKind) -> StoreResult<std::path::PathBuf> {
        Ok(self.cp.tenant_dir(&self.slug)?.join(kind.file_name()))
    }

    /// The file's scopes plus any system scope it lacks, by name.
    fn load(&self) -> StoreResult<(Tenant, Vec<Scope>)> {
        let tenant = self.cp.require_tenant(&self.slug)?;
        let file: ScopesFile =
            self.cp.load(FileKind::Scopes, &self.path(FileKind::Scopes)?, None)?.unwrap_or_default();
        let scopes = control::scopes_with_system(&tenant, file.scopes);
        Ok((tenant, scopes))
    }

    fn save(&self, scopes: Vec<Scope>) -> StoreResult<()> {
        self.cp.store(FileKind::Scopes, &self.path(FileKind::Scopes)?, &ScopesFile { scopes }, None)
    }
}

#[async_trait]
impl ScopeRepository for FsScopeRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn create(&self, input: ScopeInput) -> StoreResult<Scope> {
        validate_scope_name(&input.name)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        let scope = control::create_scope(&mut scopes, input)?;
        self.save(scopes)?;
        Ok(scope)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn get_by_name(&self, name: &str) -> StoreResult<Scope> {
        self.load()?
            .1
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| StoreError::not_found("scope", name))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn list(&self) -> StoreResult<Vec<Scope>> {
        Ok(self.load()?.1)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn update(&self, input: ScopeInput) -> StoreResult<Scope> {
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        let scope = control::update_scope(&mut scopes, input)?;
        self.save(scopes)?;
        Ok(scope)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn delete(&self, name: &str) -> StoreResult<()> {
        control::check_scope_deletable_name(name)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        let clients: ClientsFile =
            self.cp.load(FileKind::Clients, &self.path(FileKind::Clients)?, None)?.unwrap_or_default();
        control::delete_scope(&mut scopes, &clients.clients, name)?;
        self.save(scopes)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn upsert(&self, input: ScopeInput) -> StoreResult<Scope> {
        validate_scope_name(&input.name)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        let scope = control::upsert_scope(&mut scopes, input)?;
        self.save(scopes)?;
        Ok(scope)
    }
}
