use std::sync::Arc;

use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::model::{
    CreateRefreshTokenInput, RefreshToken, Tenant, TenantSettings, Timestamp, TokenFilter, TokenStats,
};
use crate::pool::UseMark;
use crate::registry::AdapterConnection;
use crate::repository::{
    Cache, ClientRepository, ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository,
    RbacRepository, ScopeRepository, SessionRepository, TokenRepository, UserRepository,
};

/// State of a tenant's data plane when its access was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataPlaneState {
    /// No database configured for the tenant.
    None,
    /// Connected.
    Open,
    /// Configured but unreachable when resolved; calls return `Unavailable`.
    Unavailable,
}

/// Everything a request needs for one tenant: its settings, its data-plane repositories,
/// its clients and scopes, and its cache. Cheap to clone. Built by
/// [`Manager::for_tenant`](super::Manager::for_tenant); the tenant is fixed here, so no
/// repository call can reach another tenant.
#[derive(Clone)]
pub struct TenantDataAccess {
    inner: Arc<Inner>,
}

struct Inner {
    tenant: Tenant,
    conn: Arc<dyn AdapterConnection>,
    /// Marks the server's pool used (no pool behind a tenant without a database).
    used: Option<UseMark>,
    /// The key of the server whose pool the tenant's data plane is bound to.
    server_key: Option<String>,
    state: DataPlaneState,
    cache: Arc<dyn Cache>,
    /// The cache server could not be reached; `cache` answers `Unavailable`.
    cache_down: bool,
    clients: Arc<dyn ClientRepository>,
    scopes: Arc<dyn ScopeRepository>,
}

impl std::fmt::Debug for TenantDataAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantDataAccess")
            .field("slug", &self.inner.tenant.slug)
            .field("backend", &self.inner.conn.name())
            .field("state", &self.inner.state)
            .finish()
    }
}

impl TenantDataAccess {
    pub(crate) fn new(
        tenant: Tenant,
        conn: Arc<dyn AdapterConnection>,
        (used, server_key): (Option<UseMark>, Option<String>),
        state: DataPlaneState,
        (cache, cache_down): (Arc<dyn Cache>, bool),
        clients: Arc<dyn ClientRepository>,
        scopes: Arc<dyn ScopeRepository>,
    ) -> Self {
        TenantDataAccess {
            inner: Arc::new(Inner {
                tenant,
                conn,
                used,
                server_key,
                state,
                cache,
                cache_down,
                clients,
                scopes,
            }),
        }
    }

    /// The key of the server pool the tenant is bound to (`None` without a database).
    pub(crate) fn server_key(&self) -> Option<&str> {
        self.inner.server_key.as_deref()
    }

    /// Whether every server the tenant is configured with was reached. Only such an access
    /// is cached; any other is rebuilt on the next call, so a server coming back is seen.
    pub(crate) fn is_complete(&self) -> bool {
        self.inner.state != DataPlaneState::Unavailable && !self.inner.cache_down
    }

    /// Tells the pool this tenant's connection is in use (so it is not closed as idle).
    pub(crate) fn mark_used(&self) {
        if let Some(used) = &self.inner.used {
            used.mark();
        }
    }

    /// The data-plane connection, marked used.
    fn conn(&self) -> &Arc<dyn AdapterConnection> {
        self.mark_used();
        &self.inner.conn
    }

    /// The tenant's slug.
    pub fn slug(&self) -> &str {
        &self.inner.tenant.slug
    }

    /// The tenant's id.
    pub fn id(&self) -> Uuid {
        self.inner.tenant.id
    }

    /// The tenant as read from the control plane (secrets still sealed).
    pub fn tenant(&self) -> &Tenant {
        &self.inner.tenant
    }

    /// The tenant's settings (secrets still sealed).
    pub fn settings(&self) -> &TenantSettings {
        &self.inner.tenant.settings
    }

    /// Whether the tenant has a data plane (its own database or the default one), reachable
    /// or not.
    pub fn has_db(&self) -> bool {
        self.inner.state != DataPlaneState::None
    }

    /// `Ok` when the tenant has a data plane.
    ///
    /// Errors: `NoDatabase`.
    pub fn require_db(&self) -> StoreResult<()> {
        if self.has_db() { Ok(()) } else { Err(StoreError::NoDatabase { tenant: self.slug().to_string() }) }
    }

    /// Name of the data-plane backend (`postgres`, `sqlite`, …; `noop` without a database).
    pub fn backend(&self) -> &str {
        self.inner.conn.name()
    }

    /// Checks the tenant's database answers.
    ///
    /// Errors: `NoDatabase`; `Unavailable`.
    pub async fn ping(&self) -> StoreResult<()> {
        self.require_db()?;
        self.conn().ping().await
    }

    /// Users. Errors: `NoDatabase`; `Unavailable` when the database could not be reached.
    pub fn users(&self) -> StoreResult<Arc<dyn UserRepository>> {
        self.conn().users()
    }
    /// Social identities. Errors as for [`users`](Self::users).
    pub fn identities(&self) -> StoreResult<Arc<dyn IdentityRepository>> {
        self.conn().identities()
    }
    /// Refresh tokens, bound to the tenant's refresh-token reuse interval
    /// ([`TenantSettings::refresh_token_reuse_interval`]): their
    /// [`rotate`](TokenRepository::rotate) applies it. Errors as for [`users`](Self::users).
    pub fn tokens(&self) -> StoreResult<Arc<dyn TokenRepository>> {
        let tokens = self.conn().tokens()?;
        let reuse_interval = self.inner.tenant.settings.refresh_token_reuse_interval();
        if reuse_interval.is_zero() {
            return Ok(tokens);
        }
        Ok(Arc::new(BoundTokens { inner: tokens, reuse_interval }))
    }
    /// MFA. Errors as for [`users`](Self::users).
    pub fn mfa(&self) -> StoreResult<Arc<dyn MfaRepository>> {
        self.conn().mfa()
    }
    /// Consents. Errors as for [`users`](Self::users).
    pub fn consents(&self) -> StoreResult<Arc<dyn ConsentRepository>> {
        self.conn().consents()
    }
    /// Roles and permissions. Errors as for [`users`](Self::users).
    pub fn rbac(&self) -> StoreResult<Arc<dyn RbacRepository>> {
        self.conn().rbac()
    }
    /// Sessions. Errors as for [`users`](Self::users).
    pub fn sessions(&self) -> StoreResult<Arc<dyn SessionRepository>> {
        self.conn().sessions()
    }
    /// E-mail tokens. Errors as for [`users`](Self::users).
    pub fn email_tokens(&self) -> StoreResult<Arc<dyn EmailTokenRepository>> {
        self.conn().email_tokens()
    }

    /// The tenant's OAuth clients (control plane, always available).
    pub fn clients(&self) -> Arc<dyn ClientRepository> {
        self.inner.clients.clone()
    }

    /// The tenant's scopes (control plane, always available).
    pub fn scopes(&self) -> Arc<dyn ScopeRepository> {
        self.inner.scopes.clone()
    }

    /// The tenant's cache (keys namespaced by tenant).
    pub fn cache(&self) -> Arc<dyn Cache> {
        self.inner.cache.clone()
    }
}

/// A tenant's token repository whose `rotate` applies the tenant's reuse interval; every
/// other call goes to the adapter's repository as it is.
struct BoundTokens {
    inner: Arc<dyn TokenRepository>,
    reuse_interval: chrono::TimeDelta,
}

#[async_trait::async_trait]
impl TokenRepository for BoundTokens {
    async fn create(&self, input: CreateRefreshTokenInput) -> StoreResult<Uuid> {
        self.inner.create(input).await
    }
    async fn get_by_hash(&self, token_hash: &str) -> StoreResult<RefreshToken> {
        self.inner.get_by_hash(token_hash).await
    }
    async fn get_by_id(&self, id: Uuid) -> StoreResult<RefreshToken> {
        self.inner.get_by_id(id).await
    }
    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: chrono::TimeDelta,
    ) -> StoreResult<RefreshToken> {
        self.inner.rotate_with_reuse_interval(old_hash, new_hash, ttl, self.reuse_interval).await
    }
    async fn rotate_with_reuse_interval(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: chrono::TimeDelta,
        reuse_interval: chrono::TimeDelta,
    ) -> StoreResult<RefreshToken> {
        self.inner.rotate_with_reuse_interval(old_hash, new_hash, ttl, reuse_interval).await
    }
    async fn revoke(&self, id: Uuid) -> StoreResult<()> {
        self.inner.revoke(id).await
    }
    async fn revoke_all_by_user(&self, user_id: Uuid, client_id: Option<&str>) -> StoreResult<u64> {
        self.inner.revoke_all_by_user(user_id, client_id).await
    }
    async fn revoke_all_by_client(&self, client_id: &str) -> StoreResult<u64> {
        self.inner.revoke_all_by_client(client_id).await
    }
    async fn revoke_all(&self) -> StoreResult<u64> {
        self.inner.revoke_all().await
    }
    async fn list(&self, filter: &TokenFilter) -> StoreResult<Vec<RefreshToken>> {
        self.inner.list(filter).await
    }
    async fn count(&self, filter: &TokenFilter) -> StoreResult<u64> {
        self.inner.count(filter).await
    }
    async fn stats(&self) -> StoreResult<TokenStats> {
        self.inner.stats().await
    }
    async fn purge_expired(&self, now: Timestamp, batch_size: u64) -> StoreResult<u64> {
        self.inner.purge_expired(now, batch_size).await
    }
}
