use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::{Inner, namespace_key};
use crate::error::{StoreError, StoreResult};
use crate::model::{Tenant, TenantSettings};
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ScopeRepository, TenantRepository,
};

/// The control plane as [`Manager::config`](super::Manager::config) hands it out. Tenant
/// writes made through it drop the tenant's cached access; a create also provisions the
/// tenant's database.
#[derive(Clone)]
pub struct ConfigAccess {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ConfigAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigAccess").field("backend", &self.inner.control.backend()).finish()
    }
}

impl ConfigAccess {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        ConfigAccess { inner }
    }

    /// Tenants.
    pub fn tenants(&self) -> Arc<dyn TenantRepository> {
        Arc::new(InvalidatingTenants { inner: self.inner.clone() })
    }

    /// Clients of the tenant `slug`.
    ///
    /// Errors: `InvalidInput` for a malformed slug.
    pub fn clients(&self, slug: &str) -> StoreResult<Arc<dyn ClientRepository>> {
        self.inner.control.clients(slug)
    }

    /// Scopes of the tenant `slug`.
    ///
    /// Errors: `InvalidInput` for a malformed slug.
    pub fn scopes(&self, slug: &str) -> StoreResult<Arc<dyn ScopeRepository>> {
        self.inner.control.scopes(slug)
    }

    /// Admins.
    ///
    /// Errors: `NotSupported` when the control plane has none.
    pub fn admins(&self) -> StoreResult<Arc<dyn AdminRepository>> {
        self.inner.control.admins()
    }

    /// Admin console refresh tokens.
    ///
    /// Errors: `NotSupported` when the control plane has none.
    pub fn admin_refresh_tokens(&self) -> StoreResult<Arc<dyn AdminRefreshTokenRepository>> {
        self.inner.control.admin_refresh_tokens()
    }
}

struct InvalidatingTenants {
    inner: Arc<Inner>,
}

impl InvalidatingTenants {
    fn repo(&self) -> StoreResult<Arc<dyn TenantRepository>> {
        self.inner.control.tenants()
    }

    /// Refuses a tenant's own `user_db` that names a namespace on the default template's
    /// server other than the tenant's own (`InvalidInput`), or the same (server, namespace)
    /// as another tenant's own `user_db` (`Conflict`). `tenant` carries the settings about
    /// to be written. Checked again whenever the tenant is resolved (the manager refuses to
    /// connect), so a race between two writes cannot open another tenant's namespace.
    async fn check_own_db(&self, tenant: &Tenant) -> StoreResult<()> {
        let Some(own) = self.inner.own_db(tenant)? else { return Ok(()) };
        self.inner.check_own_db(tenant, &own)?;
        let Some(key) = namespace_key(&own)? else { return Ok(()) };
        for other in self.repo()?.list().await? {
            if other.id == tenant.id || other.slug == tenant.slug || other.settings.user_db.is_none() {
                continue;
            }
            let Ok(Some(theirs)) = self.inner.own_db(&other) else { continue };
            if namespace_key(&theirs).ok().flatten().is_some_and(|k| {
                k.namespace == key.namespace && super::resolve::same_server(&k.server, &key.server)
            }) {
                return Err(StoreError::conflict(
                    "tenant",
                    format!(
                        "tenant {}'s own database already uses {} on {}",
                        other.slug, key.namespace, key.server
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Drops the tenant's cached access: the next `for_tenant` resolves its settings again
    /// (a changed database resolves to another server's pool).
    async fn after_write(&self, after: &Tenant) {
        self.inner.clear(&after.slug).await;
    }
}

#[async_trait]
impl TenantRepository for InvalidatingTenants {
    async fn list(&self) -> StoreResult<Vec<Tenant>> {
        self.repo()?.list().await
    }

    async fn get_by_slug(&self, slug: &str) -> StoreResult<Tenant> {
        self.repo()?.get_by_slug(slug).await
    }

    async fn get_by_id(&self, id: Uuid) -> StoreResult<Tenant> {
        self.repo()?.get_by_id(id).await
    }

    /// Also provisions the tenant's database when it has one (the default template or its
    /// own `user_db`): creates and migrates its namespace and records the outcome in
    /// `provisioning`. A failed provisioning does not undo the create: the tenant is returned
    /// with `provisioning.state: failed` and the error, and `hellojohn-store tenant provision
    /// <slug>` (or [`Manager::provision_tenant`](super::Manager::provision_tenant)) retries.
    async fn create(&self, tenant: Tenant) -> StoreResult<Tenant> {
        self.check_own_db(&tenant).await?;
        let created = self.repo()?.create(tenant).await?;
        self.inner.clear(&created.slug).await;
        match self.inner.provision(&created.slug).await {
            Ok(_) | Err(StoreError::NoDatabase { .. }) => {}
            Err(e) => {
                tracing::warn!(tenant = %created.slug, error = %e, "tenant created, provisioning failed")
            }
        }
        match self.repo()?.get_by_slug(&created.slug).await {
            Ok(tenant) => Ok(tenant),
            Err(_) => Ok(created),
        }
    }

    async fn update(&self, tenant: Tenant) -> StoreResult<Tenant> {
        let before = self.repo()?.get_by_slug(&tenant.slug).await.ok();
        if let Some(before) = &before {
            let mut next = before.clone();
            next.settings = tenant.settings.clone();
            self.check_own_db(&next).await?;
        }
        let updated = self.repo()?.update(tenant).await?;
        self.after_write(&updated).await;
        Ok(updated)
    }

    async fn update_settings(&self, slug: &str, settings: TenantSettings) -> StoreResult<Tenant> {
        let before = self.repo()?.get_by_slug(slug).await.ok();
        if let Some(before) = &before {
            let mut next = before.clone();
            next.settings = settings.clone();
            self.check_own_db(&next).await?;
        }
        let updated = self.repo()?.update_settings(slug, settings).await?;
        self.after_write(&updated).await;
        Ok(updated)
    }

    /// Also drops the tenant's cached access, its memory cache and its open connection, so
    /// `for_tenant(slug)` on this manager fails with `TenantNotFound` at once.
    async fn delete(&self, slug: &str) -> StoreResult<()> {
        self.repo()?.delete(slug).await?;
        self.inner.forget(slug).await;
        Ok(())
    }

    async fn list_deleted(&self) -> StoreResult<Vec<crate::model::DeletedTenant>> {
        self.repo()?.list_deleted().await
    }

    async fn forget_deleted(&self, id: Uuid) -> StoreResult<()> {
        self.repo()?.forget_deleted(id).await
    }
}
