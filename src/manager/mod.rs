//! The entry point services use: [`Manager::for_tenant`] resolves a tenant into a
//! [`TenantDataAccess`] (cached), [`Manager::config`] reaches the control plane.
//!
//! The path of a request: `for_tenant(slug_or_id)` → cached access (moka) → on a miss the
//! tenant is read from the control plane, its database picked (its own `user_db` first, else
//! the default template with `{tenant}` substituted) and located (server + namespace), the
//! server's pool taken from the [`ConnectionPool`] (one per server, shared by its tenants),
//! the tenant bound to its namespace on it (no I/O; a tenant not yet provisioned for this
//! schema version is created and migrated first when `migrate_on_open` is on), its cache
//! picked, and the access built. Tenant isolation is enforced here: every repository handed
//! out is bound to the one namespace of the tenant it was resolved for.

mod access;
mod config;
mod purge;
pub(crate) mod resolve;
mod tenant;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use moka::future::Cache as Moka;
use uuid::Uuid;

pub use access::ConfigAccess;
pub use config::ManagerConfig;
pub use purge::{PurgeEntry, PurgeOutcome, PurgeReport};
pub use resolve::{
    MAX_NAMESPACE_LEN, NamespaceKey, RESERVED_NAMESPACES, TENANT_PLACEHOLDER, check_default_template,
    is_reserved_namespace, namespace_key, namespace_name, substitute,
};
use tenant::DataPlaneState;
pub use tenant::TenantDataAccess;

use crate::adapters::noop::NoopConnection;
use crate::cache::{MemoryCache, UnavailableCache};
use crate::error::{StoreError, StoreResult};
use crate::mode::{Capabilities, DbConfig, OperationalMode, detect_mode};
use crate::model::{Provisioning, ProvisioningState, Tenant};
use crate::pool::{CloseHook, ConnectionPool, PoolStats, UseMark, server_key};
use crate::registry::{AdapterConnection, ConnectConfig, Location, Registry, ServerConfig, TenantRef};
use crate::repository::Cache;
use crate::repository::ControlPlaneStore;

/// Figures of a running manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerStats {
    /// The operational mode.
    pub mode: OperationalMode,
    /// Tenants whose access is cached.
    pub cached_tenants: u64,
    /// The server pools (one per database server, shared by its tenants).
    pub pool: PoolStats,
    /// The version of the control plane this replica reads (global database modes), or `None`.
    pub control_plane_version: Option<u64>,
}

/// The store of a HelloJohn service: control plane, per-tenant data planes, caches.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    mode: OperationalMode,
    config: ManagerConfig,
    registry: Arc<Registry>,
    control: Arc<dyn ControlPlaneStore>,
    pool: Arc<ConnectionPool>,
    tenants: Moka<String, TenantDataAccess>,
    /// The read path of `for_tenant`: the accesses `tenants` holds, behind a plain lock
    /// (a moka lookup costs several times a hash-map lookup). Filled only on a miss and only
    /// when no access was dropped meanwhile (see [`Front`]); emptied wherever `tenants` is.
    front: Arc<Front>,
    ids: Moka<Uuid, String>,
    /// Memory caches by tenant id (so a tenant re-created with the same slug starts empty),
    /// with the slug they were made for (so a removed slug's cache can be dropped).
    memory_caches: Moka<Uuid, (String, Arc<MemoryCache>)>,
    /// Bumped by every tenant change this manager learns of ([`Inner::clear`]); an access
    /// built across a bump may carry the old settings and is not cached.
    changes: AtomicU64,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("mode", &self.inner.mode)
            .field("control_plane", &self.inner.control.backend())
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// Detects the mode, opens the control plane and builds the pool.
    ///
    /// Errors: `InvalidInput` when the default tenant database is not a template under which
    /// every tenant gets its own namespace (see [`check_default_template`]: `{tenant}` must
    /// choose the schema, database or file, and fit the engine's name limit), or names a
    /// driver the registry does not know; `NotSupported` for a global
    /// database in a build without the `postgres` and `mysql` features; those of opening the
    /// control plane.
    pub async fn new(config: ManagerConfig) -> StoreResult<Self> {
        let mode = detect_mode(&config.mode_config());
        let registry = Arc::new(config.registry.clone().unwrap_or_else(Registry::with_builtins));
        if let Some(db) = config.default_tenant_db.as_ref().filter(|db| db.is_valid()) {
            check_default_template(db)?;
            registry.get(&db.driver)?;
        }
        let control: Arc<dyn ControlPlaneStore> = match &config.control_plane {
            Some(cp) => cp.clone(),
            None => match config.global_db.as_ref().filter(|db| db.is_valid()) {
                #[cfg(any(feature = "postgres", feature = "mysql"))]
                Some(db) => {
                    let global =
                        crate::adapters::global::GlobalConfig::new(db.clone(), config.secrets.clone())
                            .poll_interval(config.global_poll_interval);
                    Arc::new(crate::adapters::global::GlobalControlPlane::open(global).await?)
                }
                #[cfg(not(any(feature = "postgres", feature = "mysql")))]
                Some(db) => {
                    return Err(StoreError::NotSupported {
                        operation: format!("a global {} database for the control plane", db.driver),
                        backend: "this build (enable the `postgres` or `mysql` cargo feature)".into(),
                    });
                }
                None => Arc::new(crate::adapters::fs::FsControlPlane::new(
                    &config.fs_root,
                    config.secrets.clone(),
                )),
            },
        };
        let front = Arc::new(Front::default());
        let tenants: Moka<String, TenantDataAccess> = {
            let front = front.clone();
            Moka::builder()
                .max_capacity(config.tenant_cache_capacity.max(1))
                .eviction_listener(move |slug: Arc<String>, _, cause| {
                    if cause != moka::notification::RemovalCause::Replaced {
                        front.remove(&slug);
                    }
                })
                .build()
        };
        // A closed server drops the accesses bound to it; the next `for_tenant` opens it again.
        let on_close: CloseHook = {
            let tenants = tenants.clone();
            let front = front.clone();
            Arc::new(move |key: String| {
                let tenants = tenants.clone();
                let front = front.clone();
                Box::pin(async move {
                    let bound: Vec<String> = tenants
                        .iter()
                        .filter(|(_, access)| access.server_key() == Some(key.as_str()))
                        .map(|(slug, _)| slug.to_string())
                        .collect();
                    for slug in bound {
                        tenants.invalidate(&slug).await;
                        front.remove(&slug);
                    }
                })
            })
        };
        let pool = ConnectionPool::new(registry.clone(), config.pool.clone(), Some(on_close));
        let ids = Moka::builder().max_capacity(config.tenant_cache_capacity.max(1)).build();
        let memory_caches = Moka::builder().max_capacity(config.tenant_cache_capacity.max(1)).build();
        tracing::info!(%mode, control_plane = control.backend(), "store manager ready");
        let changes = control.subscribe();
        let inner = Arc::new(Inner {
            mode,
            config,
            registry,
            control,
            pool,
            tenants,
            front,
            ids,
            memory_caches,
            changes: AtomicU64::new(0),
        });
        if let Some(changes) = changes {
            follow_changes(Arc::downgrade(&inner), changes);
        }
        Ok(Manager { inner })
    }

    /// The operational mode.
    pub fn mode(&self) -> OperationalMode {
        self.inner.mode
    }

    /// What the mode makes available.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities::of(self.inner.mode)
    }

    /// The control plane: tenants, clients, scopes, admins. Tenant writes made through it
    /// drop the tenant's cached access.
    pub fn config(&self) -> ConfigAccess {
        ConfigAccess::new(self.inner.clone())
    }

    /// The access of the tenant with this slug or id, cached; concurrent first calls for a
    /// tenant resolve it once. A tenant whose database or cache server is down still
    /// resolves: its control plane works and the calls that need the missing server return
    /// `Unavailable` (such an access is not cached, so the next call tries again).
    ///
    /// Errors: `TenantNotFound`; `InvalidInput` for a malformed slug; `Crypto` when the
    /// tenant's DSN cannot be decrypted.
    pub async fn for_tenant(&self, slug_or_id: &str) -> StoreResult<TenantDataAccess> {
        // A string that parses as a UUID is an id, never looked up as a slug.
        if Uuid::try_parse(slug_or_id).is_err()
            && let Some(access) = self.inner.front.get(slug_or_id)
        {
            access.mark_used();
            return Ok(access);
        }
        let epoch = self.inner.front.epoch();
        let changes = self.inner.changes.load(Ordering::Acquire);
        let slug = self.slug_of(slug_or_id).await?;
        if let Some(access) = self.inner.tenants.get(&slug).await {
            access.mark_used();
            self.inner.front.insert_unless_dropped_since(epoch, &slug, &access);
            return Ok(access);
        }
        let inner = self.inner.clone();
        let key = slug.clone();
        let result = self
            .inner
            .tenants
            .try_get_with(slug.clone(), async move { inner.build_access(&key).await })
            .await;
        match result {
            Ok(access) => {
                // An access built while a tenant changed may hold what the change replaced
                // (moka keeps a value whose load outlived an invalidation): serve it to this
                // call, which began before the change, but keep it nowhere.
                let stale = self.inner.changes.load(Ordering::Acquire) != changes;
                if stale || !access.is_complete() {
                    self.inner.tenants.invalidate(&slug).await;
                    self.inner.front.remove(&slug);
                } else {
                    self.inner.front.insert_unless_dropped_since(epoch, &slug, &access);
                }
                Ok(access)
            }
            Err(shared) => Err(rebuild_error(&shared, &slug)),
        }
    }

    async fn slug_of(&self, slug_or_id: &str) -> StoreResult<String> {
        let Ok(id) = Uuid::parse_str(slug_or_id) else {
            return Ok(slug_or_id.to_string());
        };
        if let Some(slug) = self.inner.ids.get(&id).await {
            return Ok(slug);
        }
        let tenant = self.inner.control.tenants()?.get_by_id(id).await.map_err(|e| match e {
            StoreError::NotFound { .. } => StoreError::TenantNotFound { tenant: slug_or_id.to_string() },
            other => other,
        })?;
        self.inner.ids.insert(id, tenant.slug.clone()).await;
        Ok(tenant.slug)
    }

    /// Drops the tenant's cached access; the next `for_tenant` reads the control plane again.
    pub async fn clear_tenant(&self, slug: &str) {
        self.inner.clear(slug).await;
    }

    /// Creates the tenant's namespace if needed and applies pending migrations (whatever
    /// `migrate_on_open` says), and records the outcome in the tenant
    /// ([`Tenant::provisioning`]): `ready` with the schema version, or `failed` with the
    /// error (then this call returns it, and a later call retries).
    ///
    /// Errors: `TenantNotFound`; `NoDatabase` when the tenant has none; those of the adapter
    /// (`Unavailable`, `Backend` for a failed migration); those of recording the outcome.
    pub async fn provision_tenant(&self, slug: &str) -> StoreResult<Provisioning> {
        self.inner.provision(slug).await
    }

    /// The database a tenant resolves to (DSN decrypted; keep it out of logs), or `None`.
    ///
    /// Errors: `TenantNotFound`; `Crypto`.
    pub async fn tenant_db(&self, slug: &str) -> StoreResult<Option<DbConfig>> {
        let tenant = self.inner.tenant(slug).await?;
        Ok(self.inner.connect_config(&tenant)?.map(|c| c.db))
    }

    /// Figures: mode, cached tenants, the server pools (with the tenants cached on each).
    pub async fn stats(&self) -> ManagerStats {
        self.inner.tenants.run_pending_tasks().await;
        let mut per_server: HashMap<String, u64> = HashMap::new();
        for (_, access) in self.inner.tenants.iter() {
            if let Some(key) = access.server_key() {
                *per_server.entry(key.to_string()).or_default() += 1;
            }
        }
        ManagerStats {
            mode: self.inner.mode,
            cached_tenants: self.inner.tenants.entry_count(),
            pool: self.inner.pool.stats_with(|key| per_server.get(key).copied().unwrap_or(0)).await,
            control_plane_version: self.inner.control.version(),
        }
    }

    /// The connection pool (for stats and health checks).
    pub fn pool(&self) -> &Arc<ConnectionPool> {
        &self.inner.pool
    }

    /// Closes every tenant connection and drops every cached access.
    pub async fn close(&self) {
        self.inner.tenants.invalidate_all();
        self.inner.front.clear();
        self.inner.pool.close_all().await;
        self.inner.tenants.run_pending_tasks().await;
    }
}

impl Inner {
    async fn tenant(&self, slug: &str) -> StoreResult<Tenant> {
        self.control.tenants()?.get_by_slug(slug).await.map_err(|e| match e {
            StoreError::NotFound { .. } => StoreError::TenantNotFound { tenant: slug.to_string() },
            other => other,
        })
    }

    pub(crate) async fn clear(&self, slug: &str) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.tenants.invalidate(slug).await;
        self.front.remove(slug);
        let stale: Vec<Uuid> = self.ids.iter().filter(|(_, s)| s == slug).map(|(id, _)| *id).collect();
        for id in stale {
            self.ids.invalidate(&id).await;
        }
    }

    pub(crate) async fn forget(&self, slug: &str) {
        self.clear(slug).await;
        let stale: Vec<Uuid> =
            self.memory_caches.iter().filter(|(_, (s, _))| s == slug).map(|(id, _)| *id).collect();
        for id in stale {
            self.memory_caches.invalidate(&id).await;
        }
    }

    /// The default tenant database template, when one is configured.
    pub(crate) fn template(&self) -> Option<&DbConfig> {
        self.config.default_tenant_db.as_ref().filter(|db| db.is_valid())
    }

    /// The tenant's own database, decrypted, with `{tenant}` replaced by its namespace.
    ///
    /// Errors: `Crypto` without a key or when the DSN does not decrypt.
    pub(crate) fn own_db(&self, tenant: &Tenant) -> StoreResult<Option<DbConfig>> {
        let Some(own) = &tenant.settings.user_db else { return Ok(None) };
        let secrets = self.config.secrets.as_ref().ok_or_else(|| StoreError::Crypto {
            message: format!(
                "tenant {} has its own database but no secret key is configured (HJ_SECRET_KEY)",
                tenant.slug
            ),
        })?;
        Ok(Some(substitute(&own.to_db_config(&tenant.slug, secrets)?, &tenant.effective_namespace())))
    }

    /// Refuses a tenant's own database that is on the default template's server (same
    /// [`NamespaceKey::server`]) and names a namespace the template gives, or could give, to
    /// another tenant: one of the template's form (`hj_<namespace>`, `<namespace>.db`, …)
    /// other than the tenant's own. A namespace of another form on that server (e.g. a
    /// SQLite file in the same folder that no template name can be) is allowed; that two
    /// tenants' own databases do not name the same one is checked on writes
    /// ([`ConfigAccess`]). When the template's namespace part holds `{tenant}` more than
    /// once, every other namespace on its server is refused.
    ///
    /// Errors: `InvalidInput`; `InvalidInput` from [`namespace_key`].
    pub(crate) fn check_own_db(&self, tenant: &Tenant, own: &DbConfig) -> StoreResult<()> {
        let Some(template) = self.template() else { return Ok(()) };
        let own_namespace = tenant.effective_namespace();
        let (Some(own_key), Some(default_key), Some(pattern)) = (
            namespace_key(own)?,
            namespace_key(&substitute(template, &own_namespace))?,
            namespace_key(template)?,
        ) else {
            return Ok(());
        };
        if own_key == default_key {
            return Ok(());
        }
        // A name of the template's form is refused on the template's host whatever the port,
        // not only on its server: a pooler (PgBouncer) on another port of that host leads to
        // the same database server. Another DNS name or address of it is not recognised.
        let same = resolve::same_server(&own_key.server, &default_key.server);
        if !same && !resolve::same_host(&own_key.server, &default_key.server) {
            return Ok(());
        }
        let template_form = match pattern.namespace.split_once(TENANT_PLACEHOLDER) {
            Some((prefix, suffix)) if !suffix.contains(TENANT_PLACEHOLDER) => own_key
                .namespace
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(suffix))
                .is_some_and(crate::model::is_valid_tenant_namespace),
            _ => same,
        };
        if template_form {
            return Err(StoreError::invalid(
                "settings.user_db",
                format!(
                    "tenant {}'s own database is on the host of the default tenant database and names {}, a \
                     namespace of the template's form that belongs (or may come to belong) to another tenant; \
                     on that host (any port: a pooler may lead to the template's server) it may only use its \
                     own ({}) or a name of another form",
                    tenant.slug, own_key.namespace, default_key.namespace
                ),
            ));
        }
        Ok(())
    }

    /// The connect config of the tenant's data plane, `None` when it has none.
    fn connect_config(&self, tenant: &Tenant) -> StoreResult<Option<ConnectConfig>> {
        let db = match self.own_db(tenant)? {
            Some(own) => {
                self.check_own_db(tenant, &own)?;
                Some(own)
            }
            None => self.template().map(|db| substitute(db, &tenant.effective_namespace())),
        };
        Ok(db.map(|db| ConnectConfig {
            tenant_slug: tenant.slug.clone(),
            tenant_id: tenant.id,
            db,
            max_connections: self.config.max_connections_per_server,
            acquire_timeout: self.config.acquire_timeout,
            migrate: self.config.migrate_on_open,
        }))
    }

    /// Refuses a tenant without a recorded namespace (a file written before namespaces were
    /// recorded, or by hand) whose default namespace a deleted tenant still holds: it would
    /// read the deleted tenant's data.
    async fn check_unrecorded_namespace(&self, tenant: &Tenant) -> StoreResult<()> {
        if tenant.namespace.is_some() || tenant.settings.user_db.is_some() {
            return Ok(());
        }
        let namespace = tenant.effective_namespace();
        let deleted = match self.control.tenants()?.list_deleted().await {
            Ok(deleted) => deleted,
            Err(StoreError::NotSupported { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(tomb) = deleted.iter().find(|d| d.namespace == namespace) {
            return Err(StoreError::invalid(
                "namespace",
                format!(
                    "tenant {} records no namespace and its default one ({namespace}) still holds the data of \
                     deleted tenant {} ({}); purge it first or give the tenant a namespace of its own",
                    tenant.slug, tomb.slug, tomb.id
                ),
            ));
        }
        Ok(())
    }

    async fn build_access(&self, slug: &str) -> StoreResult<TenantDataAccess> {
        let tenant = self.tenant(slug).await?;
        self.check_unrecorded_namespace(&tenant).await?;
        let mut key = None;
        let (conn, used, state): (Arc<dyn AdapterConnection>, Option<UseMark>, DataPlaneState) =
            match self.connect_config(&tenant)? {
                None => (Arc::new(NoopConnection::new(slug)), None, DataPlaneState::None),
                Some(cfg) => {
                    let location = self.registry.locate(&cfg.db)?;
                    let server = cfg.server(&location);
                    key = Some(server_key(&server));
                    let open = self.open_data_plane(&tenant, &cfg, &location, &server);
                    match tokio::time::timeout(self.config.acquire_timeout, open).await {
                        Ok(Ok((conn, mark))) => (conn, Some(mark), DataPlaneState::Open),
                        Ok(Err(e)) if e.is_retryable() => {
                            tracing::warn!(tenant = slug, error = %e, "tenant database unavailable");
                            (
                                Arc::new(NoopConnection::unavailable(slug, &cfg.db.driver, e.to_string())),
                                None,
                                DataPlaneState::Unavailable,
                            )
                        }
                        Ok(Err(e)) => return Err(e),
                        Err(_) => {
                            let message = format!("no connection within {:?}", self.config.acquire_timeout);
                            tracing::warn!(tenant = slug, %message, "tenant database unavailable");
                            (
                                Arc::new(NoopConnection::unavailable(slug, &cfg.db.driver, message)),
                                None,
                                DataPlaneState::Unavailable,
                            )
                        }
                    }
                }
            };
        let (cache, cache_down) = match self.cache_for(&tenant).await {
            Ok(cache) => (cache, false),
            Err(e) if e.is_retryable() => {
                tracing::warn!(tenant = slug, error = %e, "tenant cache unavailable");
                (Arc::new(UnavailableCache::new("cache", e.to_string())) as Arc<dyn Cache>, true)
            }
            Err(e) => return Err(e),
        };
        let clients = self.control.clients(slug)?;
        let scopes = self.control.scopes(slug)?;
        Ok(TenantDataAccess::new(tenant, conn, (used, key), state, (cache, cache_down), clients, scopes))
    }

    /// The tenant's data plane on its server's shared pool: provisioned first when
    /// `migrate_on_open` is on and the tenant's record does not say it is ready for this
    /// database and schema version (once per open pool), then bound to its namespace.
    async fn open_data_plane(
        &self,
        tenant: &Tenant,
        cfg: &ConnectConfig,
        location: &Location,
        server: &ServerConfig,
    ) -> StoreResult<(Arc<dyn AdapterConnection>, UseMark)> {
        let out = self.pool.checkout(server).await?;
        if cfg.migrate && !self.is_provisioned(tenant, &cfg.db.driver, location) {
            self.pool.provision(server, location.namespace.as_deref(), true).await?;
        }
        let who = TenantRef { slug: tenant.slug.clone(), id: tenant.id };
        Ok((out.server.bind(&who, location.namespace.as_deref(), false)?, out.mark))
    }

    /// Whether the tenant's record says its namespace at `location` is migrated to the
    /// adapter's current schema version.
    fn is_provisioned(&self, tenant: &Tenant, driver: &str, location: &Location) -> bool {
        let Some(record) = &tenant.provisioning else { return false };
        let Ok(adapter) = self.registry.get(driver) else { return false };
        record.state == ProvisioningState::Ready
            && record.target == provisioning_target(driver, location)
            && record.schema_version.is_some()
            && record.schema_version == adapter.schema_version()
    }

    /// See [`Manager::provision_tenant`].
    pub(crate) async fn provision(&self, slug: &str) -> StoreResult<Provisioning> {
        let tenant = self.tenant(slug).await?;
        let Some(cfg) = self.connect_config(&tenant)? else {
            return Err(StoreError::NoDatabase { tenant: slug.to_string() });
        };
        let location = self.registry.locate(&cfg.db)?;
        let server = cfg.server(&location);
        let result = self.pool.provision(&server, location.namespace.as_deref(), false).await;
        let record = Provisioning {
            state: if result.is_ok() { ProvisioningState::Ready } else { ProvisioningState::Failed },
            at: crate::model::now(),
            target: provisioning_target(&cfg.db.driver, &location),
            schema_version: result
                .is_ok()
                .then(|| self.registry.get(&cfg.db.driver).ok()?.schema_version())
                .flatten(),
            error: result.as_ref().err().map(|e| e.to_string().chars().take(1000).collect()),
        };
        match self.control.tenants()?.record_provisioning(slug, record.clone()).await {
            Ok(_) | Err(StoreError::NotSupported { .. }) => {}
            Err(e) if result.is_ok() => return Err(e),
            Err(e) => tracing::warn!(tenant = slug, error = %e, "recording a failed provisioning failed"),
        }
        self.clear(slug).await;
        match result {
            Ok(()) => {
                tracing::info!(tenant = slug, "tenant database provisioned");
                Ok(record)
            }
            Err(e) => {
                tracing::warn!(tenant = slug, error = %e, "provisioning the tenant database failed");
                Err(e)
            }
        }
    }

    /// Drops the namespace `cfg` names through the shared pool of its server (a SQLite
    /// file's pool is closed first), and forgets that it was provisioned.
    pub(crate) async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        let location = self.registry.locate(&cfg.db)?;
        let server = cfg.server(&location);
        let key = server_key(&server);
        if location.namespace.is_none() {
            // The whole connection is the namespace (a file): close it, then drop it alone.
            self.pool.refresh(&key).await;
            return self.registry.drop_namespace(cfg).await;
        }
        let out = self.pool.checkout(&server).await?;
        out.server.drop_namespace(location.namespace.as_deref()).await?;
        self.pool.forget_provisioned(&server, location.namespace.as_deref()).await;
        Ok(())
    }

    async fn cache_for(&self, tenant: &Tenant) -> StoreResult<Arc<dyn Cache>> {
        // A Redis cache shared by replicas must not become a per-process one unnoticed.
        #[cfg(not(feature = "redis"))]
        if tenant.settings.cache.as_ref().is_some_and(|c| c.driver == crate::model::CacheDriver::Redis) {
            return Err(StoreError::NotSupported {
                operation: format!("the Redis cache of tenant {}", tenant.slug),
                backend: "this build (enable hellojohn-store's `redis` cargo feature)".into(),
            });
        }
        #[cfg(feature = "redis")]
        if let Some(settings) =
            tenant.settings.cache.as_ref().filter(|c| c.driver == crate::model::CacheDriver::Redis)
        {
            let url = redis_url(tenant, settings, self.config.secrets.as_ref())?;
            let cfg = crate::cache::RedisCacheConfig {
                url,
                tenant_id: tenant.id,
                prefix: settings.prefix.clone().unwrap_or_default(),
            };
            let connect = crate::cache::RedisCache::connect(&cfg);
            return match tokio::time::timeout(self.config.acquire_timeout, connect).await {
                Ok(cache) => Ok(Arc::new(cache?)),
                Err(_) => Err(StoreError::unavailable(
                    "redis",
                    format!("no connection within {:?}", self.config.acquire_timeout),
                )),
            };
        }
        let bytes = self.config.memory_cache_bytes;
        let slug = tenant.slug.clone();
        let (_, cache) = self
            .memory_caches
            .get_with(tenant.id, async move { (slug, Arc::new(MemoryCache::new(bytes))) })
            .await;
        Ok(cache)
    }
}

/// The lock-guarded map in front of the moka cache of accesses. Every removal bumps an
/// epoch under the write lock; a miss records the epoch before it looks the tenant up and
/// inserts its result only if no removal happened since, so a dropped access can never be
/// put back by a caller that fetched it before the drop.
#[derive(Default)]
struct Front {
    map: RwLock<HashMap<String, TenantDataAccess>>,
    epoch: AtomicU64,
}

impl Front {
    fn get(&self, slug: &str) -> Option<TenantDataAccess> {
        self.map.read().ok()?.get(slug).cloned()
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    fn insert_unless_dropped_since(&self, epoch: u64, slug: &str, access: &TenantDataAccess) {
        if let Ok(mut map) = self.map.write()
            && self.epoch.load(Ordering::Acquire) == epoch
        {
            map.insert(slug.to_string(), access.clone());
        }
    }

    fn remove(&self, slug: &str) {
        if let Ok(mut map) = self.map.write() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            map.remove(slug);
        }
    }

    fn clear(&self) {
        if let Ok(mut map) = self.map.write() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            map.clear();
        }
    }
}

#[cfg(feature = "redis")]
fn redis_url(
    tenant: &Tenant,
    settings: &crate::model::TenantCacheSettings,
    secrets: Option<&crate::crypto::SecretBox>,
) -> StoreResult<String> {
    let host = settings.host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let port = settings.port.unwrap_or(6379);
    let db = settings.db.unwrap_or(0);
    let auth = match &settings.password {
        None => String::new(),
        Some(secret) => {
            let secrets = secrets.ok_or_else(|| StoreError::Crypto {
                message: format!(
                    "tenant {} has a Redis password but no secret key is configured",
                    tenant.slug
                ),
            })?;
            let password = secrets.decrypt(&tenant.slug, crate::crypto::fields::CACHE_PASSWORD, secret)?;
            format!(":{}@", percent_encode(&password))
        }
    };
    Ok(format!("redis://{auth}{host}:{port}/{db}"))
}

#[cfg(feature = "redis")]
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Drops the cached accesses of tenants another writer (or this one) changed: a changed
/// tenant's access is dropped (its server's pool stays: a new `user_db` resolves to another
/// server, and a clients edit costs no reconnect), a removed one forgotten.
/// Stops when the manager is gone.
fn follow_changes(
    inner: std::sync::Weak<Inner>,
    mut changes: tokio::sync::broadcast::Receiver<crate::repository::ControlPlaneChange>,
) {
    use tokio::sync::broadcast::error::RecvError;
    tokio::spawn(async move {
        loop {
            let received = changes.recv().await;
            let Some(inner) = inner.upgrade() else { return };
            match received {
                Ok(change) => {
                    for slug in &change.changed {
                        inner.clear(slug).await;
                    }
                    for slug in &change.removed {
                        inner.forget(slug).await;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "control-plane changes missed; dropping every cached tenant");
                    inner.tenants.invalidate_all();
                    inner.front.clear();
                    inner.ids.invalidate_all();
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Rebuilds an error shared by moka between single-flight waiters.
fn rebuild_error(e: &StoreError, slug: &str) -> StoreError {
    match e {
        StoreError::TenantNotFound { tenant } => StoreError::TenantNotFound { tenant: tenant.clone() },
        StoreError::NotFound { .. } => StoreError::TenantNotFound { tenant: slug.to_string() },
        StoreError::InvalidInput { field, message } => {
            StoreError::InvalidInput { field: field.clone(), message: message.clone() }
        }
        StoreError::Crypto { message } => StoreError::Crypto { message: message.clone() },
        StoreError::Unavailable { backend, message, .. } => {
            StoreError::unavailable(backend.clone(), message.clone())
        }
        StoreError::InvalidConfig { problems } => StoreError::InvalidConfig { problems: problems.clone() },
        other => StoreError::Backend { backend: "manager".into(), message: other.to_string(), source: None },
    }
}

/// [`Provisioning::target`]: 16 hex digits of the SHA-256 of driver, server (redacted: no
/// password) and namespace.
pub(crate) fn provisioning_target(driver: &str, location: &Location) -> String {
    use sha2::{Digest, Sha256};
    let text = format!(
        "{}\u{0}{}\u{0}{}",
        driver.trim().to_ascii_lowercase(),
        crate::mode::redact_dsn(&location.server),
        location.namespace.as_deref().unwrap_or_default()
    );
    Sha256::digest(text.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}
