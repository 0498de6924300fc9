//! Adapters by driver name. Built-in adapters are registered per cargo feature; a service
//! can register its own. An adapter opens one [`ServerPool`] per database server; the
//! manager's pool keeps them, and binds each tenant to its namespace on one.

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
    /// Largest number of connections of the server's pool.
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

    /// The settings of the pool of the server this tenant's database is on.
    pub fn server(&self, location: &Location) -> ServerConfig {
        ServerConfig {
            driver: self.db.driver.clone(),
            dsn: location.server.clone(),
            max_connections: self.max_connections,
            acquire_timeout: self.acquire_timeout,
        }
    }
}

/// Where a tenant's database is: the server whose pool it shares and its namespace there.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The DSN of the server with the namespace part set aside (plain text: keep it out of
    /// logs). Tenants with equal `server`s share one pool.
    pub server: String,
    /// The tenant's namespace on that server: a PostgreSQL schema, a MySQL/MariaDB or
    /// MongoDB database; `None` when the connection itself is the namespace (a SQLite file, a
    /// PostgreSQL database without a schema).
    pub namespace: Option<String>,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location")
            .field("server", &crate::mode::redact_dsn(&self.server))
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// The settings of one server's pool.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Driver name.
    pub driver: String,
    /// [`Location::server`].
    pub dsn: String,
    /// Largest number of connections to the server.
    pub max_connections: u32,
    /// How long a call waits for a connection before `Unavailable`.
    pub acquire_timeout: Duration,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("driver", &self.driver)
            .field("dsn", &crate::mode::redact_dsn(&self.dsn))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// The tenant a [`ServerPool::bind`] serves.
#[derive(Debug, Clone)]
pub struct TenantRef {
    /// Slug (logs).
    pub slug: String,
    /// Id (filled into the records that carry it).
    pub id: Uuid,
}

/// Figures of one server's pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerPoolFigures {
    /// Most connections the pool opens.
    pub max_size: u32,
    /// Connections open now.
    pub size: u32,
    /// Of those, in use by a call.
    pub in_use: u32,
    /// Of those, idle.
    pub idle: u32,
    /// Calls waiting for a connection (calls in flight that hold none).
    pub waiting: u64,
}

/// A database driver: knows where a tenant's database is and how to open a server's pool.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// The driver name it is registered under.
    fn name(&self) -> &str;

    /// Other names it answers to (`postgresql` for `postgres`).
    fn aliases(&self) -> &[&str] {
        &[]
    }

    /// The version of the data-plane schema this adapter migrates to (the last migration's
    /// name), recorded when a tenant is provisioned; `None` when it has none, and then a
    /// tenant's namespace is provisioned on every first open.
    fn schema_version(&self) -> Option<String> {
        None
    }

    /// Splits a resolved database into its server and namespace. Pure.
    ///
    /// Errors: `InvalidInput` for a malformed DSN, schema or namespace name.
    fn locate(&self, db: &DbConfig) -> StoreResult<Location>;

    /// Opens the pool of a server. Opens no connection where the driver allows (connections
    /// are made on first use, up to `max_connections`).
    ///
    /// Errors: `InvalidInput` for a malformed DSN; `Unavailable` when the driver must reach
    /// the server to open it and cannot.
    async fn open_server(&self, server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>>;

    /// Opens one tenant's data plane on a pool of its own (and, with `cfg.migrate`, creates
    /// and migrates its namespace). The manager shares pools between tenants instead; this is
    /// for a single tenant (tests, tools). Closing the connection closes its pool.
    ///
    /// Errors: those of [`locate`](Self::locate), [`open_server`](Self::open_server) and
    /// [`ServerPool::provision`].
    async fn connect(&self, cfg: &ConnectConfig) -> StoreResult<Arc<dyn AdapterConnection>> {
        let location = self.locate(&cfg.db)?;
        let server = self.open_server(&cfg.server(&location)).await?;
        if cfg.migrate
            && let Err(e) = server.provision(location.namespace.as_deref()).await
        {
            server.close().await;
            return Err(e);
        }
        server.bind(
            &TenantRef { slug: cfg.tenant_slug.clone(), id: cfg.tenant_id },
            location.namespace.as_deref(),
            true,
        )
    }

    /// Drops the namespace `cfg` names — a PostgreSQL schema (`DROP SCHEMA … CASCADE`), a
    /// MySQL/MariaDB database, a SQLite file with its `-wal`/`-shm`/`-journal` files, a
    /// MongoDB database — with everything in it. Idempotent: a namespace that does not exist
    /// is not an error. The store calls it only to purge a deleted tenant's namespace made
    /// from the default template (never a tenant's own database); close every connection to
    /// it first.
    ///
    /// Errors: `NotSupported` (for a namespace the adapter cannot drop, such as a PostgreSQL
    /// database without a schema); `InvalidInput` for a name that does not validate or is a
    /// system namespace; `Unavailable` when the server cannot be reached.
    async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        let location = self.locate(&cfg.db)?;
        let server = self.open_server(&cfg.server(&location)).await?;
        let result = server.drop_namespace(location.namespace.as_deref()).await;
        server.close().await;
        result
    }
}

/// The connection pool of one database server, shared by the tenants whose namespaces live
/// there. Statements name the tenant's namespace themselves; no connection carries it.
#[async_trait]
pub trait ServerPool: Send + Sync {
    /// Driver name.
    fn driver(&self) -> &str;

    /// One tenant's data plane on this pool: its repositories name `namespace` and no other.
    /// No I/O. With `owns_pool`, closing the returned connection closes the pool too.
    ///
    /// Errors: `InvalidInput` for a namespace name that does not validate.
    fn bind(
        &self,
        tenant: &TenantRef,
        namespace: Option<&str>,
        owns_pool: bool,
    ) -> StoreResult<Arc<dyn AdapterConnection>>;

    /// Creates `namespace` if needed and applies pending migrations, under a lock on the
    /// server so that replicas provisioning one namespace at once migrate it once.
    ///
    /// Errors: `Unavailable` when the server cannot be reached; `InvalidInput` for a bad name;
    /// `Backend` when a migration fails.
    async fn provision(&self, namespace: Option<&str>) -> StoreResult<()>;

    /// Drops `namespace` (see [`Adapter::drop_namespace`]).
    ///
    /// Errors: as [`Adapter::drop_namespace`].
    async fn drop_namespace(&self, namespace: Option<&str>) -> StoreResult<()> {
        let _ = namespace;
        Err(StoreError::NotSupported {
            operation: "drop a namespace".into(),
            backend: self.driver().to_string(),
        })
    }

    /// Checks the server answers.
    ///
    /// Errors: `Unavailable`.
    async fn ping(&self) -> StoreResult<()>;

    /// Closes every connection; later calls through its tenants return `Unavailable`.
    async fn close(&self);

    /// Connections open, in use, idle, and calls waiting.
    fn figures(&self) -> ServerPoolFigures;

    /// Tenant connections bound to this pool that are still alive (held by a caller or by a
    /// call in flight). The manager's pool closes a server it drops only when this is 0;
    /// otherwise the server closes when its last holder lets go. The default, 0, means the
    /// adapter does not count (its server is closed when dropped).
    fn holders(&self) -> usize {
        0
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

    /// Closes this tenant's data plane (and the pool, when it owns one). Later calls return
    /// `Unavailable`.
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
    /// Errors: `InvalidInput` naming the known drivers when none is registered (and the
    /// cargo feature to enable when the driver is one of the store's own, not built in).
    pub fn get(&self, driver: &str) -> StoreResult<Arc<dyn Adapter>> {
        let name = driver.trim().to_ascii_lowercase();
        self.adapters.get(&name).cloned().ok_or_else(|| {
            let known = self.drivers();
            let feature = match name.as_str() {
                "postgres" | "postgresql" => Some("postgres"),
                "mysql" | "mariadb" => Some("mysql"),
                "sqlite" => Some("sqlite"),
                "mongo" | "mongodb" => Some("mongo"),
                _ => None,
            };
            StoreError::invalid(
                "driver",
                format!(
                    "unknown driver {driver:?}{}; known drivers: {}",
                    feature
                        .map(|f| format!(" (this build lacks hellojohn-store's `{f}` cargo feature)"))
                        .unwrap_or_default(),
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

    /// Opens the pool of `server` through the adapter for its driver.
    ///
    /// Errors: those of [`Registry::get`] and of the adapter's `open_server`.
    pub async fn open_server(&self, server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>> {
        self.get(&server.driver)?.open_server(server).await.map_err(|e| e.scrub_dsn(&server.dsn))
    }

    /// Where `db` puts a tenant, through the adapter for its driver.
    ///
    /// Errors: those of [`Registry::get`] and of the adapter's `locate`.
    pub fn locate(&self, db: &DbConfig) -> StoreResult<Location> {
        self.get(&db.driver)?.locate(db).map_err(|e| e.scrub_dsn(&db.dsn))
    }

    /// Drops the namespace `cfg` names through the adapter for `cfg.db.driver` (see
    /// [`Adapter::drop_namespace`]).
    ///
    /// Errors: those of [`Registry::get`] and of the adapter's `drop_namespace`.
    pub async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        self.get(&cfg.db.driver)?.drop_namespace(cfg).await
    }
}
