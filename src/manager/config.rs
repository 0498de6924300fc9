use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::SecretBox;
use crate::error::StoreResult;
use crate::mode::{DbConfig, ModeConfig};
use crate::pool::PoolConfig;
use crate::registry::Registry;
use crate::repository::ControlPlaneStore;

/// Everything [`Manager::new`](super::Manager::new) needs. Build it with
/// [`ManagerConfig::from_fs_root`] (or [`ManagerConfig::from_env`]) and the setters.
#[derive(Clone)]
pub struct ManagerConfig {
    /// Root of the control-plane YAML tree.
    pub fs_root: PathBuf,
    /// Global database (control plane shared by replicas). Set, and without an explicit
    /// `control_plane`, it holds the control plane (modes `fs_global_db` and `full_db`).
    pub global_db: Option<DbConfig>,
    /// How often a replica polls the global database's control-plane version on MySQL
    /// (PostgreSQL is notified; default 500 ms).
    pub global_poll_interval: Duration,
    /// Default tenant database: a template whose DSN or schema contains `{tenant}`.
    pub default_tenant_db: Option<DbConfig>,
    /// Key sealing control-plane secrets (default: `HJ_SECRET_KEY` when set).
    pub secrets: Option<SecretBox>,
    /// Adapters by driver (default: the built-ins).
    pub registry: Option<Registry>,
    /// A control plane to use instead of the YAML tree under `fs_root`.
    pub control_plane: Option<Arc<dyn ControlPlaneStore>>,
    /// Bounds and timers of the connection pool.
    pub pool: PoolConfig,
    /// Connections of each database server's pool (shared by the tenants on that server).
    pub max_connections_per_server: u32,
    /// How long a data-plane call waits for a connection (and a first connect may take)
    /// before `Unavailable`.
    pub acquire_timeout: Duration,
    /// Create and migrate a tenant's namespace when it is first opened and its record does
    /// not say it is provisioned for the current schema version (default on).
    pub migrate_on_open: bool,
    /// Most tenants whose resolved access is cached by `for_tenant`.
    pub tenant_cache_capacity: u64,
    /// Bytes of each tenant's in-process cache.
    pub memory_cache_bytes: u64,
}

impl std::fmt::Debug for ManagerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerConfig")
            .field("fs_root", &self.fs_root)
            .field("global_db", &self.global_db)
            .field("default_tenant_db", &self.default_tenant_db)
            .field("secrets", &self.secrets.as_ref().map(|_| "<key>"))
            .field("pool", &self.pool)
            .field("max_connections_per_server", &self.max_connections_per_server)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("migrate_on_open", &self.migrate_on_open)
            .finish_non_exhaustive()
    }
}

impl ManagerConfig {
    /// A config for the YAML tree at `fs_root`, no databases, defaults elsewhere.
    pub fn from_fs_root(fs_root: impl Into<PathBuf>) -> Self {
        ManagerConfig {
            fs_root: fs_root.into(),
            global_db: None,
            global_poll_interval: Duration::from_millis(500),
            default_tenant_db: None,
            secrets: None,
            registry: None,
            control_plane: None,
            pool: PoolConfig::default(),
            max_connections_per_server: 10,
            acquire_timeout: Duration::from_secs(5),
            migrate_on_open: true,
            tenant_cache_capacity: 10_000,
            memory_cache_bytes: 16 * 1024 * 1024,
        }
    }

    /// A config from the environment: `HJ_FS_ROOT`, `HJ_GLOBAL_DB_*`, `HJ_TENANT_DB_*`
    /// (see [`ModeConfig::from_env`]) and `HJ_SECRET_KEY`.
    ///
    /// Errors: `Crypto` when `HJ_SECRET_KEY` is set but is not a base64 32-byte key.
    pub fn from_env() -> StoreResult<Self> {
        let mode = ModeConfig::from_env();
        let mut cfg = ManagerConfig::from_fs_root(mode.fs_root);
        cfg.global_db = mode.global_db;
        cfg.default_tenant_db = mode.default_tenant_db;
        cfg.secrets = SecretBox::from_env_optional()?;
        Ok(cfg)
    }

    /// Sets the default tenant database (a `{tenant}` template).
    pub fn default_tenant_db(mut self, db: DbConfig) -> Self {
        self.default_tenant_db = Some(db);
        self
    }

    /// Sets the control-plane version poll interval (MySQL global database).
    pub fn global_poll_interval(mut self, interval: Duration) -> Self {
        self.global_poll_interval = interval;
        self
    }

    /// Sets the global database.
    pub fn global_db(mut self, db: DbConfig) -> Self {
        self.global_db = Some(db);
        self
    }

    /// Sets the secret key.
    pub fn secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Uses `registry` instead of the built-in adapters.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Uses `control_plane` instead of the YAML tree.
    pub fn control_plane(mut self, control_plane: Arc<dyn ControlPlaneStore>) -> Self {
        self.control_plane = Some(control_plane);
        self
    }

    /// Sets the pool's bounds and timers.
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// Sets each server's pool size and the acquire timeout.
    pub fn server_pool(mut self, max_connections: u32, acquire_timeout: Duration) -> Self {
        self.max_connections_per_server = max_connections;
        self.acquire_timeout = acquire_timeout;
        self
    }

    /// Turns migration on first open on or off.
    pub fn migrate_on_open(mut self, migrate: bool) -> Self {
        self.migrate_on_open = migrate;
        self
    }

    /// The [`ModeConfig`] the mode is detected from.
    pub fn mode_config(&self) -> ModeConfig {
        ModeConfig {
            fs_root: self.fs_root.clone(),
            global_db: self.global_db.clone(),
            default_tenant_db: self.default_tenant_db.clone(),
        }
    }
}
