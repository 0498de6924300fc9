//! The five control-plane repositories on the global database: reads from the snapshot,
//! writes through [`GlobalControlPlane::write`] with the rules shared with the FS store.

use async_trait::async_trait;
use uuid::Uuid;

use super::GlobalControlPlane;
use crate::adapters::control;
use crate::adapters::fs::validate_slug;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Admin, AdminFilter, AdminInput, AdminRefreshToken, AdminUpdate, Client, ClientInput, DeletedTenant,
    SYSTEM_SCOPES, Scope, ScopeInput, Tenant, TenantSettings, Timestamp, now,
};
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ScopeRepository, TenantRepository,
};

use super::state::ControlPlaneState;

fn tenant_of<'s>(state: &'s ControlPlaneState, slug: &str) -> StoreResult<&'s Tenant> {
    state.tenants.get(slug).ok_or_else(|| StoreError::TenantNotFound { tenant: slug.to_string() })
}

/// Tenants in the global database.
#[derive(Debug, Clone)]
pub struct GlobalTenantRepository {
    cp: GlobalControlPlane,
}

impl GlobalTenantRepository {
    /// The repository of `cp`.
    pub fn new(cp: GlobalControlPlane) -> Self {
        GlobalTenantRepository { cp }
    }
}

#[async_trait]
impl TenantRepository for GlobalTenantRepository {
    async fn list(&self) -> StoreResult<Vec<Tenant>> {
        Ok(self.cp.snapshot().state.tenants.values().cloned().collect())
    }

    async fn get_by_slug(&self, slug: &str) -> StoreResult<Tenant> {
        validate_slug(slug)?;
        self.cp
            .snapshot()
            .state
            .tenants
            .get(slug)
            .cloned()
            .ok_or_else(|| StoreError::not_found("tenant", slug))
    }

    async fn get_by_id(&self, id: Uuid) -> StoreResult<Tenant> {
        self.cp
            .snapshot()
            .state
            .tenants
            .values()
            .find(|t| t.id == id)
            .cloned()
            .ok_or_else(|| StoreError::not_found("tenant", id))
    }

    async fn create(&self, mut tenant: Tenant) -> StoreResult<Tenant> {
        control::check_tenant_input(&tenant)?;
        control::seal_settings(self.cp.secrets(), &tenant.slug, &mut tenant.settings)?;
        let at = now();
        tenant.created_at = at;
        tenant.updated_at = at;
        self.cp
            .write(move |state| {
                if state.tenants.contains_key(&tenant.slug) {
                    return Err(StoreError::conflict("tenant", format!("slug {:?} exists", tenant.slug)));
                }
                if state.tenants.values().any(|t| t.id == tenant.id) || state.deleted.contains_key(&tenant.id)
                {
                    return Err(StoreError::conflict("tenant", format!("id {} exists", tenant.id)));
                }
                // In the write transaction, whose version bump serialises every writer.
                let deleted: Vec<DeletedTenant> = state.deleted.values().cloned().collect();
                control::allocate_namespace(&mut tenant, state.tenants.values(), &deleted)?;
                let scopes = SYSTEM_SCOPES.iter().map(|n| control::system_scope(tenant.id, n, at)).collect();
                state.scopes.insert(tenant.slug.clone(), scopes);
                state.clients.insert(tenant.slug.clone(), Vec::new());
                state.tenants.insert(tenant.slug.clone(), tenant.clone());
                Ok(tenant)
            })
            .await
    }

    async fn update(&self, tenant: Tenant) -> StoreResult<Tenant> {
        control::check_tenant_input(&tenant)?;
        let mut settings = tenant.settings;
        control::seal_settings(self.cp.secrets(), &tenant.slug, &mut settings)?;
        self.cp
            .write(move |state| {
                let current = state
                    .tenants
                    .get_mut(&tenant.slug)
                    .ok_or_else(|| StoreError::not_found("tenant", &tenant.slug))?;
                control::check_namespace_unchanged(current, tenant.namespace.as_deref())?;
                current.name = tenant.name;
                current.display_name = tenant.display_name;
                current.language = tenant.language;
                current.settings = settings;
                current.updated_at = now();
                Ok(current.clone())
            })
            .await
    }

    async fn update_settings(&self, slug: &str, mut settings: TenantSettings) -> StoreResult<Tenant> {
        validate_slug(slug)?;
        settings.validate()?;
        control::seal_settings(self.cp.secrets(), slug, &mut settings)?;
        self.cp
            .write(move |state| {
                let current =
                    state.tenants.get_mut(slug).ok_or_else(|| StoreError::not_found("tenant", slug))?;
                current.settings = settings;
                current.updated_at = now();
                Ok(current.clone())
            })
            .await
    }

    async fn record_provisioning(
        &self,
        slug: &str,
        provisioning: crate::model::Provisioning,
    ) -> StoreResult<Tenant> {
        validate_slug(slug)?;
        self.cp
            .write(move |state| {
                let current =
                    state.tenants.get_mut(slug).ok_or_else(|| StoreError::not_found("tenant", slug))?;
                current.provisioning = Some(provisioning);
                Ok(current.clone())
            })
            .await
    }

    async fn delete(&self, slug: &str) -> StoreResult<()> {
        validate_slug(slug)?;
        self.cp
            .write(move |state| {
                let tenant =
                    state.tenants.remove(slug).ok_or_else(|| StoreError::not_found("tenant", slug))?;
                state.clients.remove(slug);
                state.scopes.remove(slug);
                control::unassign_tenant(&mut state.admins, tenant.id);
                state.deleted.insert(tenant.id, control::tombstone(&tenant));
                Ok(())
            })
            .await
    }

    async fn list_deleted(&self) -> StoreResult<Vec<DeletedTenant>> {
        let mut out: Vec<DeletedTenant> = self.cp.snapshot().state.deleted.values().cloned().collect();
        out.sort_by(|a, b| a.deleted_at.cmp(&b.deleted_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn forget_deleted(&self, id: Uuid) -> StoreResult<()> {
        self.cp
            .write(move |state| {
                state
                    .deleted
                    .remove(&id)
                    .map(|_| ())
                    .ok_or_else(|| StoreError::not_found("deleted tenant", id))
            })
            .await
    }
}

/// The clients of one tenant in the global database.
#[derive(Debug, Clone)]
pub struct GlobalClientRepository {
    cp: GlobalControlPlane,
    slug: String,
}

impl GlobalClientRepository {
    /// The clients of tenant `slug` (validated by the caller).
    pub fn new(cp: GlobalControlPlane, slug: impl Into<String>) -> Self {
        GlobalClientRepository { cp, slug: slug.into() }
    }

    fn load(&self) -> StoreResult<Vec<Client>> {
        let snap = self.cp.snapshot();
        tenant_of(&snap.state, &self.slug)?;
        Ok(snap.state.clients.get(&self.slug).cloned().unwrap_or_default())
    }
}

#[async_trait]
impl ClientRepository for GlobalClientRepository {
    async fn get(&self, client_id: &str) -> StoreResult<Client> {
        self.load()?
            .into_iter()
            .find(|c| c.client_id == client_id)
            .ok_or_else(|| StoreError::not_found("client", client_id))
    }

    async fn list(&self, query: &str) -> StoreResult<Vec<Client>> {
        Ok(control::list_clients(self.load()?, query))
    }

    async fn create(&self, input: ClientInput) -> StoreResult<Client> {
        let secrets = self.cp.secrets().cloned();
        let slug = self.slug.clone();
        self.cp
            .write(move |state| {
                tenant_of(state, &slug)?;
                let scopes = state.scopes.get(&slug).cloned().unwrap_or_default();
                let clients = state.clients.entry(slug.clone()).or_default();
                control::create_client(clients, &scopes, &slug, secrets.as_ref(), input)
            })
            .await
    }

    async fn update(&self, input: ClientInput) -> StoreResult<Client> {
        let secrets = self.cp.secrets().cloned();
        let slug = self.slug.clone();
        self.cp
            .write(move |state| {
                tenant_of(state, &slug)?;
                let scopes = state.scopes.get(&slug).cloned().unwrap_or_default();
                let clients = state.clients.entry(slug.clone()).or_default();
                control::update_client(clients, &scopes, &slug, secrets.as_ref(), input)
            })
            .await
    }

    async fn delete(&self, client_id: &str) -> StoreResult<()> {
        let slug = self.slug.clone();
        self.cp
            .write(move |state| {
                tenant_of(state, &slug)?;
                control::delete_client(state.clients.entry(slug.clone()).or_default(), client_id)
            })
            .await
    }

    async fn decrypt_secret(&self, client_id: &str) -> StoreResult<String> {
        let client = self.get(client_id).await?;
        control::decrypt_client_secret(self.cp.secrets(), &self.slug, client)
    }
}

/// The scopes of one tenant in the global database.
#[derive(Debug, Clone)]
pub struct GlobalScopeRepository {
    cp: GlobalControlPlane,
    slug: String,
}

impl GlobalScopeRepository {
    /// The scopes of tenant `slug` (validated by the caller).
    pub fn new(cp: GlobalControlPlane, slug: impl Into<String>) -> Self {
        GlobalScopeRepository { cp, slug: slug.into() }
    }

    fn load(&self) -> StoreResult<Vec<Scope>> {
        let snap = self.cp.snapshot();
        let tenant = tenant_of(&snap.state, &self.slug)?;
        Ok(control::scopes_with_system(
            tenant,
            snap.state.scopes.get(&self.slug).cloned().unwrap_or_default(),
        ))
    }

    /// Runs `change` on the tenant's scopes (system scopes filled in) inside a write.
    async fn modify<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Vec<Scope>, &[Client]) -> StoreResult<T> + Send,
    ) -> StoreResult<T> {
        let slug = self.slug.clone();
        self.cp
            .write(move |state| {
                let tenant = tenant_of(state, &slug)?.clone();
                let mut scopes = control::scopes_with_system(
                    &tenant,
                    state.scopes.get(&slug).cloned().unwrap_or_default(),
                );
                let clients = state.clients.get(&slug).cloned().unwrap_or_default();
                let out = change(&mut scopes, &clients)?;
                state.scopes.insert(slug.clone(), scopes);
                Ok(out)
            })
            .await
    }
}

#[async_trait]
impl ScopeRepository for GlobalScopeRepository {
    async fn create(&self, input: ScopeInput) -> StoreResult<Scope> {
        self.modify(move |scopes, _| control::create_scope(scopes, input)).await
    }

    async fn get_by_name(&self, name: &str) -> StoreResult<Scope> {
        self.load()?.into_iter().find(|s| s.name == name).ok_or_else(|| StoreError::not_found("scope", name))
    }

    async fn list(&self) -> StoreResult<Vec<Scope>> {
        self.load()
    }

    async fn update(&self, input: ScopeInput) -> StoreResult<Scope> {
        self.modify(move |scopes, _| control::update_scope(scopes, input)).await
    }

    async fn delete(&self, name: &str) -> StoreResult<()> {
        control::check_scope_deletable_name(name)?;
        let name = name.to_string();
        self.modify(move |scopes, clients| control::delete_scope(scopes, clients, &name)).await
    }

    async fn upsert(&self, input: ScopeInput) -> StoreResult<Scope> {
        self.modify(move |scopes, _| control::upsert_scope(scopes, input)).await
    }
}

/// Admins in the global database.
#[derive(Debug, Clone)]
pub struct GlobalAdminRepository {
    cp: GlobalControlPlane,
}

impl GlobalAdminRepository {
    /// The repository of `cp`.
    pub fn new(cp: GlobalControlPlane) -> Self {
        GlobalAdminRepository { cp }
    }

    async fn modify(&self, id: Uuid, change: impl FnOnce(&mut Admin) + Send) -> StoreResult<Admin> {
        self.cp.write(move |state| control::modify_admin(&mut state.admins, id, change)).await
    }
}

#[async_trait]
impl AdminRepository for GlobalAdminRepository {
    async fn list(&self, filter: &AdminFilter) -> StoreResult<Vec<Admin>> {
        Ok(control::list_admins(self.cp.snapshot().state.admins.clone(), filter))
    }

    async fn get_by_id(&self, id: Uuid) -> StoreResult<Admin> {
        self.cp
            .snapshot()
            .state
            .admins
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or_else(|| StoreError::not_found("admin", id))
    }

    async fn get_by_email(&self, email: &str) -> StoreResult<Admin> {
        let wanted = email.to_lowercase();
        self.cp
            .snapshot()
            .state
            .admins
            .iter()
            .find(|a| a.email.to_lowercase() == wanted)
            .cloned()
            .ok_or_else(|| StoreError::not_found("admin", email))
    }

    async fn create(&self, input: AdminInput) -> StoreResult<Admin> {
        self.cp
            .write(move |state| {
                let tenants: Vec<Uuid> = state.tenants.values().map(|t| t.id).collect();
                control::create_admin(&mut state.admins, input, &tenants)
            })
            .await
    }

    async fn update(&self, id: Uuid, input: AdminUpdate) -> StoreResult<Admin> {
        self.cp.write(move |state| control::update_admin(&mut state.admins, id, input)).await
    }

    async fn delete(&self, id: Uuid) -> StoreResult<()> {
        self.cp
            .write(move |state| {
                let before = state.admins.len();
                state.admins.retain(|a| a.id != id);
                if state.admins.len() == before {
                    return Err(StoreError::not_found("admin", id));
                }
                state.tokens.retain(|t| t.admin_id != id);
                Ok(())
            })
            .await
    }

    async fn touch_last_seen(&self, id: Uuid) -> StoreResult<()> {
        self.modify(id, |a| a.last_seen_at = Some(now())).await.map(|_| ())
    }

    async fn assign_tenants(&self, id: Uuid, tenant_ids: &[Uuid]) -> StoreResult<()> {
        let ids = tenant_ids.to_vec();
        self.cp
            .write(move |state| {
                let tenants: Vec<Uuid> = state.tenants.values().map(|t| t.id).collect();
                control::assign_tenants(&mut state.admins, id, &ids, &tenants)
            })
            .await
    }

    async fn has_access_to_tenant(&self, id: Uuid, tenant_id: Uuid) -> StoreResult<bool> {
        Ok(control::admin_has_access(&self.get_by_id(id).await?, tenant_id))
    }
}

/// Admin refresh tokens in the global database.
#[derive(Debug, Clone)]
pub struct GlobalAdminRefreshTokenRepository {
    cp: GlobalControlPlane,
}

impl GlobalAdminRefreshTokenRepository {
    /// The repository of `cp`.
    pub fn new(cp: GlobalControlPlane) -> Self {
        GlobalAdminRefreshTokenRepository { cp }
    }

    async fn remove_where(&self, pred: impl Fn(&AdminRefreshToken) -> bool + Send) -> StoreResult<u64> {
        let snap = self.cp.snapshot();
        if !snap.state.tokens.iter().any(&pred) {
            return Ok(0);
        }
        self.cp
            .write(move |state| {
                let before = state.tokens.len();
                state.tokens.retain(|t| !pred(t));
                Ok((before - state.tokens.len()) as u64)
            })
            .await
    }
}

#[async_trait]
impl AdminRefreshTokenRepository for GlobalAdminRefreshTokenRepository {
    async fn create(
        &self,
        admin_id: Uuid,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> StoreResult<AdminRefreshToken> {
        control::validate_token_hash(token_hash)?;
        self.cp
            .write(move |state| {
                control::create_token(&state.admins, &mut state.tokens, admin_id, token_hash, expires_at)
            })
            .await
    }

    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<AdminRefreshToken> {
        self.cp
            .snapshot()
            .state
            .tokens
            .iter()
            .find(|t| t.token_hash == token_hash)
            .cloned()
            .ok_or_else(|| StoreError::not_found("admin_refresh_token", "<hash>"))
    }

    async fn list_by_admin(&self, admin_id: Uuid) -> StoreResult<Vec<AdminRefreshToken>> {
        let mut tokens: Vec<AdminRefreshToken> =
            self.cp.snapshot().state.tokens.iter().filter(|t| t.admin_id == admin_id).cloned().collect();
        control::sort_tokens(&mut tokens);
        Ok(tokens)
    }

    async fn delete(&self, token_hash: &str) -> StoreResult<()> {
        let hash = token_hash.to_string();
        match self.remove_where(move |t| t.token_hash == hash).await? {
            0 => Err(StoreError::not_found("admin_refresh_token", "<hash>")),
            _ => Ok(()),
        }
    }

    async fn delete_by_admin(&self, admin_id: Uuid) -> StoreResult<u64> {
        self.remove_where(move |t| t.admin_id == admin_id).await
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        self.remove_where(move |t| t.expires_at < now).await
    }
}
