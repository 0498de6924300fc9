use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

use super::Inner;
use crate::error::StoreResult;
use crate::model::{Tenant, TenantSettings};
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ScopeRepository, TenantRepository,
};

/// The control plane as [`Manager::config`](super::Manager::config) hands it out. Tenant
/// writes made through it drop the tenant's cached access (and, when its database settings
/// changed or it was deleted, its open connection).
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

    async fn after_write(&self, before: Option<&Tenant>, after: &Tenant) {
        let db_changed = before.is_none_or(|b| {
            b.settings.user_db != after.settings.user_db || b.settings.cache != after.settings.cache
        });
        if db_changed {
            self.inner.refresh(&after.slug).await;
        } else {
            self.inner.clear(&after.slug).await;
        }
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

    async fn create(&self, tenant: Tenant) -> StoreResult<Tenant> {
        let created = self.repo()?.create(tenant).await?;
        self.inner.clear(&created.slug).await;
        Ok(created)
    }

    async fn update(&self, tenant: Tenant) -> StoreResult<Tenant> {
        let before = self.repo()?.get_by_slug(&tenant.slug).await.ok();
        let updated = self.repo()?.update(tenant).await?;
        self.after_write(before.as_ref(), &updated).await;
        Ok(updated)
    }

    async fn update_settings(&self, slug: &str, settings: TenantSettings) -> StoreResult<Tenant> {
        let before = self.repo()?.get_by_slug(slug).await.ok();
        let updated = self.repo()?.update_settings(slug, settings).await?;
        self.after_write(before.as_ref(), &updated).await;
        Ok(updated)
    }

    async fn delete(&self, slug: &str) -> StoreResult<()> {
        self.repo()?.delete(slug).await?;
        self.inner.forget(slug).await;
        Ok(())
    }
}
