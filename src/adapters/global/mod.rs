//! The control plane in the global database (modes `fs_global_db` and `full_db`): the
//! source of truth shared by every replica of the service.
//!
//! - **Storage.** One row per tenant, client, scope, admin and admin refresh token
//!   (`cp_*` tables of [`migration::GlobalMigrator`]), each holding the JSON of the same
//!   serde type the FS files use — secrets stay `enc:v1:` sealed — so FS ⇄ DB sync is
//!   lossless. `cp_version` is one row bumped by every write transaction.
//! - **Writes** run in one transaction: bump the version (the row lock serialises writers of
//!   every replica), load the current state, apply the change with the rules shared with
//!   the FS backend (`adapters::control`), validate every changed document exactly as the FS
//!   backend validates a file before writing it, write the changed rows, and on PostgreSQL
//!   `pg_notify('hj_control_plane', version)`; then commit and install the new snapshot.
//! - **Reads** come from an in-memory snapshot (version + state), swapped whole.
//! - **Propagation.** A background task per store: on PostgreSQL a `LISTEN` on
//!   `hj_control_plane` (reconnecting with backoff); on MySQL/MariaDB a poll of the version
//!   every [`GlobalConfig::poll_interval`]. Whenever the database version is ahead of the
//!   snapshot — after a notification, a poll, or a (re)connect of the listener, which is
//!   the catch-up of a replica that missed notifications — the snapshot is reloaded and
//!   the tenants that changed are announced to subscribers (the `Manager` drops their
//!   cached accesses).

mod repos;
mod state;
pub mod sync;

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, IsolationLevel, Statement, TransactionTrait,
};
use tokio::sync::{Notify, broadcast};

pub use repos::{
    GlobalAdminRefreshTokenRepository, GlobalAdminRepository, GlobalClientRepository, GlobalScopeRepository,
    GlobalTenantRepository,
};
pub use state::ControlPlaneState;

use crate::adapters::sql::error::ErrCtx;
use crate::crypto::SecretBox;
use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ControlPlaneChange, ControlPlaneStore,
    ScopeRepository, TenantRepository,
};

/// The PostgreSQL notification channel of control-plane writes (payload: the new version).
pub const CHANNEL: &str = "hj_control_plane";

/// The `application_name` of the PostgreSQL listener session of a global database in
/// `schema` (`hj_cp_listener` in the default schema).
pub fn listener_application_name(schema: Option<&str>) -> String {
    match schema.filter(|s| !s.is_empty()) {
        Some(schema) => format!(
            "hj_cp_{}",
            schema.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(50).collect::<String>()
        ),
        None => "hj_cp_listener".to_string(),
    }
}

/// Default interval of the version poll on MySQL/MariaDB.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How a [`GlobalControlPlane`] is opened.
#[derive(Clone)]
pub struct GlobalConfig {
    /// The global database (`postgres` or `mysql`; `schema` is honoured on PostgreSQL).
    pub db: DbConfig,
    /// The key secrets are sealed with (as for the FS store).
    pub secrets: Option<SecretBox>,
    /// Version poll interval on MySQL/MariaDB (and the safety re-check interval of the
    /// PostgreSQL listener).
    pub poll_interval: Duration,
    /// Apply pending `GlobalMigrator` migrations on open (under a database lock).
    pub migrate: bool,
}

impl GlobalConfig {
    /// Defaults: poll every 500 ms, migrate on open.
    pub fn new(db: DbConfig, secrets: Option<SecretBox>) -> Self {
        GlobalConfig { db, secrets, poll_interval: DEFAULT_POLL_INTERVAL, migrate: true }
    }

    /// Sets the poll interval.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }
}

impl std::fmt::Debug for GlobalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalConfig")
            .field("db", &self.db)
            .field("secrets", &self.secrets.as_ref().map(|_| "<key>"))
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

/// The snapshot replicas read from.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub version: u64,
    pub state: ControlPlaneState,
}

pub(crate) struct Shared {
    db: DatabaseConnection,
    /// The DSN the PostgreSQL listener connects with (`application_name` set to
    /// [`listener_application_name`], so operators and tests can find its session).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    listener_dsn: String,
    backend: DbBackend,
    secrets: Option<SecretBox>,
    snapshot: RwLock<Arc<Snapshot>>,
    changes: broadcast::Sender<ControlPlaneChange>,
    shutdown: Arc<Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.shutdown.notify_one();
    }
}

/// The control plane on the global database. Cheap to clone; clones share the snapshot,
/// the connection pool and the background watcher (stopped when the last clone drops).
#[derive(Clone)]
pub struct GlobalControlPlane {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for GlobalControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalControlPlane")
            .field("backend", &self.shared.backend)
            .field("version", &self.snapshot().version)
            .finish_non_exhaustive()
    }
}

fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::MySql => "mysql",
        DbBackend::Postgres => "postgres",
        _ => "sqlite",
    }
}

pub(crate) fn db_err(backend: DbBackend, entity: &'static str, err: DbErr) -> StoreError {
    ErrCtx::new(backend_name(backend), entity).map(err)
}

impl GlobalControlPlane {
    /// Connects, applies pending `GlobalMigrator` migrations (under a lock, when
    /// `config.migrate`), loads the snapshot and starts the watcher.
    ///
    /// Errors: `InvalidInput` for a driver other than postgres/mysql; `Unavailable` when the
    /// database cannot be reached; `Backend` for a failed migration or a corrupt row.
    pub async fn open(config: GlobalConfig) -> StoreResult<Self> {
        let backend = match config.db.driver.as_str() {
            "postgres" | "postgresql" => DbBackend::Postgres,
            "mysql" | "mariadb" => DbBackend::MySql,
            other => {
                return Err(StoreError::invalid(
                    "global_db.driver",
                    format!("the global database must be postgres or mysql, not {other:?}"),
                ));
            }
        };
        // The operator's DSN, checked as tenants' are: no control characters, and on MySQL
        // no value the driver would write into SQL at connect.
        crate::manager::resolve::check_dsn_text(
            backend == DbBackend::MySql,
            &config.db.redacted_dsn(),
            &config.db.dsn,
        )?;
        let mut options = ConnectOptions::new(config.db.dsn.trim().to_string());
        options.max_connections(5).min_connections(1).sqlx_logging(false);
        if backend == DbBackend::Postgres
            && let Some(schema) = config.db.schema.as_deref().filter(|s| !s.is_empty())
        {
            options.set_schema_search_path(schema.to_string());
        }
        let db = Database::connect(options).await.map_err(|e| {
            StoreError::unavailable(backend_name(backend), format!("connecting to the global database: {e}"))
                .scrub_dsn(&config.db.dsn)
        })?;
        if config.migrate {
            migrate(&db, backend).await.map_err(|e| e.scrub_dsn(&config.db.dsn))?;
        }
        let (tx, _) = broadcast::channel(256);
        let separator = if config.db.dsn.contains('?') { '&' } else { '?' };
        let listener_dsn = format!(
            "{}{separator}application_name={}",
            config.db.dsn,
            listener_application_name(config.db.schema.as_deref())
        );
        let shared = Arc::new(Shared {
            db,
            listener_dsn,
            backend,
            secrets: config.secrets,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            changes: tx,
            shutdown: Arc::new(Notify::new()),
        });
        let cp = GlobalControlPlane { shared };
        cp.catch_up().await?;
        watcher::spawn(Arc::downgrade(&cp.shared), cp.shared.shutdown.clone(), backend, config.poll_interval);
        Ok(cp)
    }

    /// The version of the snapshot this replica reads from.
    pub fn current_version(&self) -> u64 {
        self.snapshot().version
    }

    /// The snapshot (version and state).
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A copy of the whole control plane as this replica sees it.
    pub fn state(&self) -> ControlPlaneState {
        self.snapshot().state.clone()
    }

    pub(crate) fn secrets(&self) -> Option<&SecretBox> {
        self.shared.secrets.as_ref()
    }

    fn err(&self, entity: &'static str, e: DbErr) -> StoreError {
        db_err(self.shared.backend, entity, e)
    }

    /// Reloads the snapshot when the database's version is ahead of it. `true` when it was.
    ///
    /// Errors: `Unavailable`/`Backend` from the database.
    pub async fn catch_up(&self) -> StoreResult<bool> {
        Shared::catch_up(&self.shared).await
    }

    /// Runs `change` on the current state in one write transaction (see the module
    /// documentation) and returns its result once committed and visible in this replica.
    pub(crate) async fn write<T, F>(&self, change: F) -> StoreResult<T>
    where
        F: FnOnce(&mut ControlPlaneState) -> StoreResult<T>,
    {
        let shared = &self.shared;
        let txn = shared.db.begin().await.map_err(|e| self.err("control_plane", e))?;
        let version = bump(&txn).await.map_err(|e| self.err("control_plane", e))?;
        let snap = self.snapshot();
        let old = if snap.version + 1 == version {
            snap.state.clone()
        } else {
            state::load(&txn).await.map_err(|e| self.err("control_plane", e))??.1
        };
        let mut new = old.clone();
        let out = change(&mut new)?;
        new.validate_changes(&old)?;
        state::persist(&txn, &old, &new).await.map_err(|e| self.err("control_plane", e))?;
        if shared.backend == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), version.to_string().into()],
            ))
            .await
            .map_err(|e| self.err("control_plane", e))?;
        }
        txn.commit().await.map_err(|e| self.err("control_plane", e))?;
        shared.install(version, new);
        Ok(out)
    }

    /// Replaces the whole control plane with `new` in one transaction (what `sync import`
    /// does). Returns the old state (to report what changed).
    ///
    /// Errors: `InvalidInput` when a document of `new` does not validate; database errors.
    /// Tombstones of deleted tenants are kept (a tree holds none): their namespaces stay
    /// reserved until purged, and a tenant of `new` holding one is refused.
    pub async fn replace_all(&self, mut new: ControlPlaneState) -> StoreResult<ControlPlaneState> {
        self.write(move |state| {
            new.deleted = state.deleted.clone();
            Ok(std::mem::replace(state, new))
        })
        .await
    }
}

/// Bumps the version in `txn` (taking the row lock that serialises writers) and returns it.
async fn bump(txn: &DatabaseTransaction) -> Result<u64, DbErr> {
    txn.execute_unprepared("UPDATE cp_version SET version = version + 1 WHERE id = 1").await?;
    let row = entity::cp_version::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("cp_version".into()))?;
    Ok(u64::try_from(row.version).unwrap_or(0))
}

async fn read_version(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let row = entity::cp_version::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("cp_version".into()))?;
    Ok(u64::try_from(row.version).unwrap_or(0))
}

impl Shared {
    async fn catch_up(this: &Arc<Shared>) -> StoreResult<bool> {
        let err = |e| db_err(this.backend, "control_plane", e);
        let current = this.snapshot.read().unwrap_or_else(|p| p.into_inner()).version;
        let version = read_version(&this.db).await.map_err(err)?;
        if version <= current && current != 0 {
            return Ok(false);
        }
        let txn = this
            .db
            .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
            .await
            .map_err(err)?;
        let (version, state) = state::load(&txn).await.map_err(err)??;
        txn.commit().await.map_err(err)?;
        Ok(this.install(version, state))
    }

    /// Installs a snapshot newer than the current one and announces the tenants that
    /// changed. `true` when it was installed.
    fn install(&self, version: u64, state: ControlPlaneState) -> bool {
        let change = {
            let mut guard = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
            if version <= guard.version && guard.version != 0 {
                return false;
            }
            let change = guard.state.changes_to(&state);
            *guard = Arc::new(Snapshot { version, state });
            change
        };
        tracing::debug!(version, changed = ?change.changed, removed = ?change.removed, "control-plane snapshot installed");
        if !change.changed.is_empty() || !change.removed.is_empty() {
            let _ = self.changes.send(change);
        }
        true
    }
}

/// Applies `GlobalMigrator` under a database lock (advisory lock on PostgreSQL, `GET_LOCK`
/// on MySQL), on a dedicated session so the lock is released even if the pool is busy.
async fn migrate(db: &DatabaseConnection, backend: DbBackend) -> StoreResult<()> {
    use migration::{GlobalMigrator, MigratorTrait};
    let err = |what: &str, e: DbErr| StoreError::Backend {
        backend: backend_name(backend).into(),
        message: format!("{what}: {e}"),
        source: None,
    };
    let lock = db.begin().await.map_err(|e| err("taking the migration lock", e))?;
    match backend {
        DbBackend::Postgres => {
            lock.execute_unprepared("SELECT pg_advisory_xact_lock(7242060913820165)")
                .await
                .map_err(|e| err("taking the migration lock", e))?;
        }
        _ => {
            lock.execute_unprepared("SELECT GET_LOCK('hj_global_migrations', 60)")
                .await
                .map_err(|e| err("taking the migration lock", e))?;
        }
    }
    let result = GlobalMigrator::up(db, None).await.map_err(|e| err("applying the global migrations", e));
    if backend == DbBackend::MySql {
        let _ = lock.execute_unprepared("SELECT RELEASE_LOCK('hj_global_migrations')").await;
    }
    let _ = lock.commit().await;
    result
}

mod watcher {
    //! The background task that keeps a replica's snapshot current.

    use super::*;

    pub(super) fn spawn(shared: Weak<Shared>, shutdown: Arc<Notify>, backend: DbBackend, interval: Duration) {
        tokio::spawn(async move {
            match backend {
                DbBackend::Postgres => listen(shared, shutdown, interval).await,
                _ => poll(shared, shutdown, interval).await,
            }
        });
    }

    async fn check(shared: &Weak<Shared>) -> bool {
        let Some(shared) = shared.upgrade() else { return false };
        if let Err(e) = Shared::catch_up(&shared).await {
            tracing::warn!(error = %e, "control-plane catch-up failed; retrying");
        }
        true
    }

    async fn poll(shared: Weak<Shared>, shutdown: Arc<Notify>, interval: Duration) {
        loop {
            tokio::select! {
                _ = shutdown.notified() => return,
                _ = tokio::time::sleep(interval) => {
                    if !check(&shared).await { return; }
                }
            }
        }
    }

    #[cfg(feature = "postgres")]
    async fn listen(shared: Weak<Shared>, shutdown: Arc<Notify>, interval: Duration) {
        use sea_orm::sqlx::postgres::PgListener;
        let safety = interval.max(Duration::from_secs(5));
        let mut backoff = Duration::from_millis(50);
        loop {
            let Some(dsn) = shared.upgrade().map(|s| s.listener_dsn.clone()) else {
                return;
            };
            let connected = async {
                let mut l = PgListener::connect(&dsn).await?;
                l.listen(CHANNEL).await?;
                Ok::<_, sea_orm::sqlx::Error>(l)
            }
            .await;
            let mut listener = match connected {
                Ok(l) => l,
                Err(e) => {
                    let error = crate::mode::scrub_dsn(&e.to_string(), &dsn);
                    tracing::warn!(%error, "control-plane listener cannot connect; retrying");
                    tokio::select! {
                        _ = shutdown.notified() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(50);
            // (Re)connected: catch up on whatever was missed meanwhile.
            if !check(&shared).await {
                return;
            }
            loop {
                tokio::select! {
                    _ = shutdown.notified() => return,
                    received = listener.try_recv() => match received {
                        Ok(Some(_)) => {
                            if !check(&shared).await { return; }
                        }
                        Ok(None) => {
                            tracing::warn!("control-plane listener lost its connection; reconnecting");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "control-plane listener failed; reconnecting");
                            break;
                        }
                    },
                    _ = tokio::time::sleep(safety) => {
                        if !check(&shared).await { return; }
                    }
                }
            }
        }
    }

    #[cfg(not(feature = "postgres"))]
    async fn listen(shared: Weak<Shared>, shutdown: Arc<Notify>, interval: Duration) {
        poll(shared, shutdown, interval).await
    }
}

impl ControlPlaneStore for GlobalControlPlane {
    fn backend(&self) -> &str {
        "global"
    }
    fn tenants(&self) -> StoreResult<Arc<dyn TenantRepository>> {
        Ok(Arc::new(GlobalTenantRepository::new(self.clone())))
    }
    fn clients(&self, slug: &str) -> StoreResult<Arc<dyn ClientRepository>> {
        crate::adapters::fs::validate_slug(slug)?;
        Ok(Arc::new(GlobalClientRepository::new(self.clone(), slug)))
    }
    fn scopes(&self, slug: &str) -> StoreResult<Arc<dyn ScopeRepository>> {
        crate::adapters::fs::validate_slug(slug)?;
        Ok(Arc::new(GlobalScopeRepository::new(self.clone(), slug)))
    }
    fn admins(&self) -> StoreResult<Arc<dyn AdminRepository>> {
        Ok(Arc::new(GlobalAdminRepository::new(self.clone())))
    }
    fn admin_refresh_tokens(&self) -> StoreResult<Arc<dyn AdminRefreshTokenRepository>> {
        Ok(Arc::new(GlobalAdminRefreshTokenRepository::new(self.clone())))
    }
    fn version(&self) -> Option<u64> {
        Some(self.current_version())
    }
    fn subscribe(&self) -> Option<broadcast::Receiver<ControlPlaneChange>> {
        Some(self.shared.changes.subscribe())
    }
}

/// Tenants whose documents differ between two states.
pub(crate) fn slugs_differing(a: &ControlPlaneState, b: &ControlPlaneState) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for slug in a.tenants.keys().chain(b.tenants.keys()) {
        if a.tenants.get(slug) != b.tenants.get(slug)
            || a.clients.get(slug) != b.clients.get(slug)
            || a.scopes.get(slug) != b.scopes.get(slug)
        {
            out.insert(slug.clone());
        }
    }
    out
}
