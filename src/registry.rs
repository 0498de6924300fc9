//! Adapters by driver name. Built-in adapters are registered per cargo feature; a service
//! can register its own. Nothing here holds a connection: the pool does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
use crate::repository::{
    ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository, RbacRepository,
    SessionRepository, TokenRepository, UserRepository,
};

/// Everything an adapter needs to open one tenant's data plane.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// Slug of the tenant the connection serves.
    pub tenant_slug: String,
    /// Id of the tenant.
    pub tenant_id: Uuid,
    /// The resolved database (no `{tenant}` left in it, DSN in plain text).
    pub db: DbConfig,
    /// Largest number of connections of this tenant's pool.
    pub max_connections: u32,
    /// How long a call waits for a connection before `Unavailable`.
    pub acquire_timeout: Duration,
    /// Whether to create the namespace and apply pending migrations on connect.
    pub migrate: bool,
}

impl ConnectConfig {
    /// A config with default pool settings (10 connections, 5 s acquire timeout, migrate on).
    pub fn new(tenant_slug: impl Into<String>, tenant_id: Uuid, db: DbConfig) -> Self {
        ConnectConfig {
            tenant_slug: tenant_slug.into(),
            tenant_id,
            db,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            migrate: true,
        }
    }
}

/// A database driver: knows how to open a tenant's data plane.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// The driver name it is registered under.
    fn name(&self) -> &str;

    /// Other names it answers to (`postgresql` for `postgres`).
    fn aliases(&self) -> &[&str] {
        &[]
    }

    /// Opens (and, when asked, migrates) the tenant's namespace.
    ///
    /// Errors: `Unavailable` when the server cannot be reached; `InvalidInput` for a
    /// malformed DSN or schema.
    async fn connect(&self, cfg: &ConnectConfig) -> StoreResult<Arc<dyn AdapterConnection>>;

    /// Drops the namespace `cfg` names — a PostgreSQL schema (`DROP SCHEMA … CASCADE`), a
    /// MySQL/MariaDB database, a SQLite file with its `-wal`/`-shm`/`-journal` files, a
    /// MongoDB database — with everything in it. Idempotent: a namespace that does not exist
    /// is not an error. The store calls it only to purge a deleted tenant's namespace made
    /// from the default template (never a tenant's own database); close every connection to
    /// it first.
    ///
    /// Errors: `NotSupported` (the default, and for a namespace the adapter cannot drop,
    /// such as a PostgreSQL database without a schema); `InvalidInput` for a name that does
    /// not validate or is a system namespace; `Unavailable` when the server cannot be
    /// reached.
    async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        let _ = cfg;
        Err(StoreError::NotSupported {
            operation: "drop a namespace".into(),
            backend: self.name().to_string(),
        })
    }
}

/// An open data plane of one tenant. Accessors return the repositories the connection
/// supports; the default for each is `NotSupported`.
#[async_trait]
pub trait AdapterConnection: Send + Sync {
    /// Driver name.
    fn name(&self) -> &str;

    /// Checks the database answers.
    ///
    /// Errors: `Unavailable`.
    async fn ping(&self) -> StoreResult<()>;

    /// Closes the connection pool. Later calls return `Unavailable`.
    async fn close(&self) -> StoreResult<()>;

    /// Users.
    fn users(&self) -> StoreResult<Arc<dyn UserRepository>> {
        Err(self.unsupported("users"))
    }
    /// Social identities.
    fn identities(&self) -> StoreResult<Arc<dyn IdentityRepository>> {
        Err(self.unsupported("identities"))
    }
    /// Refresh tokens.
    fn tokens(&self) -> StoreResult<Arc<dyn TokenRepository>> {
        Err(self.unsupported("tokens"))
    }
    /// MFA.
    fn mfa(&self) -> StoreResult<Arc<dyn MfaRepository>> {
        Err(self.unsupported("mfa"))
    }
    /// Consents.
    fn consents(&self) -> StoreResult<Arc<dyn ConsentRepository>> {
        Err(self.unsupported("consents"))
    }
    /// Roles and permissions.
    fn rbac(&self) -> StoreResult<Arc<dyn RbacRepository>> {
        Err(self.unsupported("rbac"))
    }
    /// Sessions.
    fn sessions(&self) -> StoreResult<Arc<dyn SessionRepository>> {
        Err(self.unsupported("sessions"))
    }
    /// E-mail tokens.
    fn email_tokens(&self) -> StoreResult<Arc<dyn EmailTokenRepository>> {
        Err(self.unsupported("email_tokens"))
    }

    /// The `NotSupported` error for `operation` on this connection.
    fn unsupported(&self, operation: &str) -> StoreError {
        StoreError::NotSupported { operation: operation.to_string(), backend: self.name().to_string() }
    }
}

/// Adapters by driver name (and alias).
#[derive(Clone, Default)]
pub struct Registry {
    adapters: BTreeMap<String, Arc<dyn Adapter>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("drivers", &self.drivers()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// A registry holding every adapter compiled in (per cargo feature).
    pub fn with_builtins() -> Self {
        #[allow(unused_mut)]
        let mut registry = Registry::empty();
        crate::adapters::register_builtins(&mut registry);
        registry
    }

    /// Registers `adapter` under its name and aliases, replacing any adapter registered
    /// under the same names.
    pub fn register(&mut self, adapter: Arc<dyn Adapter>) {
        for alias in adapter.aliases() {
            self.adapters.insert(alias.to_ascii_lowercase(), adapter.clone());
        }
        self.adapters.insert(adapter.name().to_ascii_lowercase(), adapter);
    }

    /// The adapter for `driver` (case-insensitive).
    ///
    /// Errors: `InvalidInput` naming the known drivers when none is registered.
    pub fn get(&self, driver: &str) -> StoreResult<Arc<dyn Adapter>> {
        self.adapters.get(&driver.trim().to_ascii_lowercase()).cloned().ok_or_else(|| {
            let known = self.drivers();
            StoreError::invalid(
                "driver",
                format!(
                    "unknown driver {driver:?}; known drivers: {}",
                    if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
                ),
            )
        })
    }

    /// Every registered name and alias, sorted.
    pub fn drivers(&self) -> Vec<String> {
        self.adapters.keys().cloned().collect()
    }

    /// Opens a connection through the adapter for `cfg.db.driver`.
    ///
    /// Errors: those of [`Registry::get`] and of the adapter's `connect`.
    pub async fn connect(&self, cfg: &ConnectConfig) -> StoreResult<Arc<dyn AdapterConnection>> {
        self.get(&cfg.db.driver)?.connect(cfg).await.map_err(|e| e.scrub_dsn(&cfg.db.dsn))
    }

    /// Drops the namespace `cfg` names through the adapter for `cfg.db.driver` (see
    /// [`Adapter::drop_namespace`]).
    ///
    /// Errors: those of [`Registry::get`] and of the adapter's `drop_namespace`.
    pub async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        self.get(&cfg.db.driver)?.drop_namespace(cfg).await
    }
}
