//! `ScopeRepository` over `tenants/<slug>/scopes.yaml`. The system scopes always exist:
//! when the file lacks one it is synthesised on read.

use async_trait::async_trait;

use super::FsControlPlane;
use super::schema::{ClientsFile, FileKind, ScopesFile};
use super::tenant::system_scope;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    SYSTEM_SCOPES, Scope, ScopeInput, Tenant, is_system_scope, new_id, now, validate_scope_name,
};
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
        let mut scopes = file.scopes;
        for name in SYSTEM_SCOPES {
            if !scopes.iter().any(|s| s.name == name) {
                scopes.push(system_scope(tenant.id, name, tenant.created_at));
            }
        }
        scopes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((tenant, scopes))
    }

    fn save(&self, mut scopes: Vec<Scope>) -> StoreResult<()> {
        scopes.sort_by(|a, b| a.name.cmp(&b.name));
        self.cp.store(FileKind::Scopes, &self.path(FileKind::Scopes)?, &ScopesFile { scopes }, None)
    }

    fn check_depends_on(input: &ScopeInput, scopes: &[Scope]) -> StoreResult<()> {
        for dep in &input.depends_on {
            if dep == &input.name {
                return Err(StoreError::invalid("depends_on", "a scope cannot depend on itself"));
            }
            if !scopes.iter().any(|s| &s.name == dep) {
                return Err(StoreError::invalid("depends_on", format!("scope {dep:?} does not exist")));
            }
        }
        Ok(())
    }

    fn insert(scopes: &mut Vec<Scope>, input: ScopeInput) -> StoreResult<Scope> {
        Self::check_depends_on(&input, scopes)?;
        let at = now();
        let scope = Scope {
            id: new_id(),
            name: input.name,
            description: input.description,
            display_name: input.display_name,
            claims: input.claims,
            depends_on: input.depends_on,
            system: false,
            created_at: at,
            updated_at: at,
        };
        scopes.push(scope.clone());
        Ok(scope)
    }

    fn replace(scopes: &mut [Scope], index: usize, input: ScopeInput) -> StoreResult<Scope> {
        Self::check_depends_on(&input, scopes)?;
        let scope = &mut scopes[index];
        scope.description = input.description;
        scope.display_name = input.display_name;
        scope.claims = input.claims;
        scope.depends_on = input.depends_on;
        scope.updated_at = now();
        Ok(scope.clone())
    }
}

#[async_trait]
impl ScopeRepository for FsScopeRepository {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn create(&self, input: ScopeInput) -> StoreResult<Scope> {
        validate_scope_name(&input.name)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        if scopes.iter().any(|s| s.name == input.name) {
            return Err(StoreError::conflict("scope", format!("scope {:?} exists", input.name)));
        }
        let scope = Self::insert(&mut scopes, input)?;
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
        let index = scopes
            .iter()
            .position(|s| s.name == input.name)
            .ok_or_else(|| StoreError::not_found("scope", &input.name))?;
        let scope = Self::replace(&mut scopes, index, input)?;
        self.save(scopes)?;
        Ok(scope)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn delete(&self, name: &str) -> StoreResult<()> {
        if is_system_scope(name) {
            return Err(StoreError::invalid(
                "scope",
                format!("{name:?} is a system scope and cannot be deleted"),
            ));
        }
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        let Some(index) = scopes.iter().position(|s| s.name == name) else {
            return Err(StoreError::not_found("scope", name));
        };
        let clients: ClientsFile =
            self.cp.load(FileKind::Clients, &self.path(FileKind::Clients)?, None)?.unwrap_or_default();
        if let Some(c) = clients.clients.iter().find(|c| c.is_scope_allowed(name)) {
            return Err(StoreError::invalid(
                "scope",
                format!("scope {name:?} is used by client {:?} and cannot be deleted", c.client_id),
            ));
        }
        if let Some(s) = scopes.iter().find(|s| s.depends_on.iter().any(|d| d == name)) {
            return Err(StoreError::invalid(
                "scope",
                format!("scope {name:?} is a dependency of scope {:?} and cannot be deleted", s.name),
            ));
        }
        scopes.remove(index);
        self.save(scopes)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "fs", tenant = %self.slug))]
    async fn upsert(&self, input: ScopeInput) -> StoreResult<Scope> {
        validate_scope_name(&input.name)?;
        let _guard = self.cp.lock(&format!("tenant-{}", self.slug)).await?;
        let (_, mut scopes) = self.load()?;
        let scope = match scopes.iter().position(|s| s.name == input.name) {
            Some(index) => Self::replace(&mut scopes, index, input)?,
            None => Self::insert(&mut scopes, input)?,
        };
        self.save(scopes)?;
        Ok(scope)
    }
}
