//! The SQL data plane on SeaORM: one [`SqlAdapter`] per engine (`postgres`/`postgresql`,
//! `mysql`/`mariadb`, `sqlite`, each behind its cargo feature), opening a [`SqlConnection`]
//! per tenant whose repositories run on the entities generated in `entity/`.
//!
//! - `connect`: where a tenant is (`locate`), the sqlx pool of a server (`open_server`,
//!   built by the store itself, no connection opened), namespace creation and migrations
//!   under a database lock (`provision`), so that replicas migrate once.
//! - `exec`: the executor every repository statement runs through: the server's pool, the
//!   tenant's namespace written into the statement (`qualify`), never into the session.
//! - `inline`: on MySQL/MariaDB, values written into the statement as literals (the text
//!   protocol), so the number of tenants changes nothing the server keeps per connection.
//! - `template`: the hot paths' statements, built by SeaORM and qualified once per tenant,
//!   their rows read by position.
//! - `error`: the one place where `DbErr` becomes [`StoreError`].
//! - `retry`: runs a transaction again on serialization failures, deadlocks and `SQLITE_BUSY`;
//!   a write outside a transaction is one statement run through `SqlContext::write`, which
//!   retries it the same way.
//! - `time`: timestamps are written in UTC at microsecond precision, read back as UTC.
//! - one file per repository.

mod connect;
#[cfg(feature = "bench")]
pub(crate) use connect::PG_STATEMENT_CACHE;
pub(crate) mod error;
pub(crate) mod exec;
#[cfg(feature = "mysql")]
mod inline;
pub(crate) mod qualify;
pub(crate) mod retry;
pub(crate) mod template;
pub(crate) mod time;

mod identities;
mod tokens;
mod users;

mod consents;
mod email_tokens;
mod mfa;
mod purge;
mod rbac;
mod sessions;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::DbErr;
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use self::error::ErrCtx;
use crate::error::{StoreError, StoreResult};
use crate::mode::DbConfig;
#[cfg(feature = "bench")]
use crate::registry::ConnectConfig;
use crate::registry::{
    Adapter, AdapterConnection, Location, Registry, ServerConfig, ServerPool, ServerPoolFigures, TenantRef,
};
use crate::repository::{
    ConsentRepository, EmailTokenRepository, IdentityRepository, MfaRepository, RbacRepository,
    SessionRepository, TokenRepository, UserRepository,
};

/// The SQL engines the adapter speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlBackend {
    /// PostgreSQL (a schema per tenant).
    Postgres,
    /// MySQL or MariaDB (a database per tenant).
    MySql,
    /// SQLite (a file per tenant).
    Sqlite,
}

impl SqlBackend {
    /// The driver name (`postgres`, `mysql`, `sqlite`).
    pub fn name(self) -> &'static str {
        match self {
            SqlBackend::Postgres => "postgres",
            SqlBackend::MySql => "mysql",
            SqlBackend::Sqlite => "sqlite",
        }
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            SqlBackend::Postgres => &["postgresql"],
            SqlBackend::MySql => &["mariadb"],
            SqlBackend::Sqlite => &[],
        }
    }
}

/// The adapter of one SQL engine.
#[derive(Debug, Clone, Copy)]
pub struct SqlAdapter {
    backend: SqlBackend,
}

impl SqlAdapter {
    /// The adapter for `backend`.
    pub fn new(backend: SqlBackend) -> Self {
        SqlAdapter { backend }
    }

    /// The engine this adapter opens.
    pub fn backend(&self) -> SqlBackend {
        self.backend
    }
}

#[async_trait]
impl Adapter for SqlAdapter {
    fn name(&self) -> &str {
        self.backend.name()
    }

    fn aliases(&self) -> &[&str] {
        self.backend.aliases()
    }

    fn schema_version(&self) -> Option<String> {
        use migration::MigratorTrait;
        migration::Migrator::migrations().last().map(|m| m.name().to_string())
    }

    fn locate(&self, db: &DbConfig) -> StoreResult<Location> {
        connect::locate(self.backend, db)
    }

    async fn open_server(&self, server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>> {
        let server = connect::open_server(self.backend, server).map_err(|e| e.scrub_dsn(&server.dsn))?;
        Ok(Arc::new(SqlServerPool { server: Arc::new(server) }))
    }
}

/// The pool of one SQL server, shared by its tenants.
pub struct SqlServerPool {
    server: Arc<exec::Server>,
}

impl std::fmt::Debug for SqlServerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlServerPool")
            .field("backend", &self.server.backend)
            .field("dsn", &crate::mode::redact_dsn(&self.server.dsn))
            .finish()
    }
}

#[async_trait]
impl ServerPool for SqlServerPool {
    fn driver(&self) -> &str {
        self.server.backend.name()
    }

    fn bind(
        &self,
        tenant: &TenantRef,
        namespace: Option<&str>,
        owns_pool: bool,
    ) -> StoreResult<Arc<dyn AdapterConnection>> {
        if let Some(ns) = namespace {
            connect::check_namespace("namespace", ns)?;
        }
        let db = exec::NsDb::new(self.server.clone(), namespace);
        Ok(Arc::new(SqlConnection { ctx: Arc::new(SqlContext::new(db, tenant, owns_pool)) }))
    }

    async fn provision(&self, namespace: Option<&str>) -> StoreResult<()> {
        connect::provision(&self.server, namespace).await.map_err(|e| e.scrub_dsn(&self.server.dsn))
    }

    async fn drop_namespace(&self, namespace: Option<&str>) -> StoreResult<()> {
        connect::drop_namespace(&self.server, namespace).await.map_err(|e| e.scrub_dsn(&self.server.dsn))
    }

    async fn ping(&self) -> StoreResult<()> {
        connect::ping(&self.server).await
    }

    async fn close(&self) {
        self.server.pool.close().await;
    }

    fn holders(&self) -> usize {
        // Every bound tenant's context holds the server once; this pool holds it once.
        Arc::strong_count(&self.server).saturating_sub(1)
    }

    fn figures(&self) -> ServerPoolFigures {
        let size = self.server.pool.size();
        let idle = u32::try_from(self.server.pool.num_idle()).unwrap_or(u32::MAX).min(size);
        let in_use = size - idle;
        let busy = self.server.busy.load(std::sync::atomic::Ordering::Relaxed);
        ServerPoolFigures {
            max_size: self.server.max_connections,
            size,
            in_use,
            idle,
            waiting: busy.saturating_sub(u64::from(in_use)),
        }
    }
}

/// Registers the SQL adapters compiled in.
pub(crate) fn register(registry: &mut Registry) {
    #[cfg(feature = "postgres")]
    registry.register(Arc::new(SqlAdapter::new(SqlBackend::Postgres)));
    #[cfg(feature = "mysql")]
    registry.register(Arc::new(SqlAdapter::new(SqlBackend::MySql)));
    #[cfg(feature = "sqlite")]
    registry.register(Arc::new(SqlAdapter::new(SqlBackend::Sqlite)));
    let _ = registry;
}

/// What every repository of one tenant's SQL data plane shares.
pub(crate) struct SqlContext {
    /// The tenant's handle on its server's pool: every statement names its namespace.
    pub(crate) db: exec::NsDb,
    /// The tenant the pool serves (filled into `User::tenant_id`).
    pub(crate) tenant_id: Uuid,
    /// Slug of the tenant (for logs).
    pub(crate) tenant_slug: String,
    /// The engine.
    pub(crate) backend: SqlBackend,
    /// Closing this tenant's connection closes the pool too.
    owns_pool: bool,
}

impl SqlContext {
    pub(crate) fn new(db: exec::NsDb, tenant: &TenantRef, owns_pool: bool) -> Self {
        SqlContext {
            backend: db.server.backend,
            db,
            tenant_id: tenant.id,
            tenant_slug: tenant.slug.clone(),
            owns_pool,
        }
    }

    /// The refresh-token rotations this process committed lately on the tenant's server.
    pub(crate) fn rotations(&self) -> &crate::adapters::rotations::RecentRotations {
        &self.db.server.rotations
    }

    /// The error context for statements about `entity`.
    pub(crate) fn err(&self, entity: &'static str) -> ErrCtx {
        ErrCtx::new(self.backend.name(), entity)
    }

    /// Begins a read-write transaction: `BEGIN IMMEDIATE` behind the write gate on SQLite
    /// (so the write lock is taken up front and writers never deadlock on lock upgrades),
    /// the engine's default isolation elsewhere (READ COMMITTED on PostgreSQL, REPEATABLE
    /// READ on MySQL; the repositories rely on row locks and conditional updates, not on
    /// the isolation level).
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        let gate = self.db.write_gate().await;
        let txn = self.db.begin(self.backend == SqlBackend::Sqlite).await?;
        Ok(WriteTxn { txn, _gate: gate })
    }

    /// Runs one write statement on the pool (a transaction of its own), again when the
    /// database reports a race it can win on a second try, with the same bounded retry as the
    /// transactions ([`retry::with_retry`]: PostgreSQL 40001/40P01, MySQL 1213/1205, SQLite
    /// busy/locked). `statement` builds the statement afresh for each attempt; `err` maps
    /// its error. A single statement that failed that way changed nothing, so running it
    /// again is safe.
    pub(crate) async fn write<'a, T, F, Fut>(
        &'a self,
        operation: &str,
        err: &ErrCtx,
        mut statement: F,
    ) -> StoreResult<T>
    where
        F: FnMut(&'a exec::NsDb) -> Fut,
        Fut: Future<Output = Result<T, DbErr>>,
    {
        retry::with_retry(operation, || {
            let attempt = statement(&self.db);
            async move { attempt.await.map_err(|e| err.map(e)) }
        })
        .await
    }

    /// A tracing span for one repository call (tenant, backend, operation); attach it with
    /// `tracing::Instrument::instrument`.
    pub(crate) fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::debug_span!("store", tenant = %self.tenant_slug, backend = self.backend.name(), operation)
    }
}

/// A read-write transaction from [`SqlContext::begin_write`]. Dereferences to the
/// tenant's [`exec::NsTxn`]; rolls back when dropped without [`WriteTxn::commit`].
pub(crate) struct WriteTxn {
    txn: exec::NsTxn,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTxn {
    /// Commits (and then lets the next SQLite writer in).
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back (and then lets the next SQLite writer in).
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for WriteTxn {
    type Target = exec::NsTxn;
    fn deref(&self) -> &exec::NsTxn {
        &self.txn
    }
}

/// One tenant's open SQL data plane.
pub struct SqlConnection {
    ctx: Arc<SqlContext>,
}

impl std::fmt::Debug for SqlConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlConnection")
            .field("backend", &self.ctx.backend)
            .field("tenant", &self.ctx.tenant_slug)
            .finish()
    }
}

impl SqlConnection {
    /// The engine of this connection.
    pub fn backend(&self) -> SqlBackend {
        self.ctx.backend
    }

    /// Id of the tenant this connection serves.
    pub fn tenant_id(&self) -> Uuid {
        self.ctx.tenant_id
    }
}

#[async_trait]
impl AdapterConnection for SqlConnection {
    fn name(&self) -> &str {
        self.ctx.backend.name()
    }

    async fn ping(&self) -> StoreResult<()> {
        if self.ctx.db.closed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError::unavailable(self.ctx.backend.name(), "the connection is closed"));
        }
        connect::ping(&self.ctx.db.server).await
    }

    async fn close(&self) -> StoreResult<()> {
        self.ctx.db.closed.store(true, std::sync::atomic::Ordering::Relaxed);
        if self.ctx.owns_pool {
            self.ctx.db.server.pool.close().await;
        }
        Ok(())
    }

    fn users(&self) -> StoreResult<Arc<dyn UserRepository>> {
        Ok(Arc::new(users::SqlUsers::new(self.ctx.clone())))
    }

    fn identities(&self) -> StoreResult<Arc<dyn IdentityRepository>> {
        Ok(Arc::new(identities::SqlIdentities::new(self.ctx.clone())))
    }

    fn tokens(&self) -> StoreResult<Arc<dyn TokenRepository>> {
        Ok(Arc::new(tokens::SqlTokens::new(self.ctx.clone())))
    }

    fn mfa(&self) -> StoreResult<Arc<dyn MfaRepository>> {
        Ok(Arc::new(mfa::SqlMfa::new(self.ctx.clone())))
    }

    fn consents(&self) -> StoreResult<Arc<dyn ConsentRepository>> {
        Ok(Arc::new(consents::SqlConsents::new(self.ctx.clone())))
    }

    fn rbac(&self) -> StoreResult<Arc<dyn RbacRepository>> {
        Ok(Arc::new(rbac::SqlRbac::new(self.ctx.clone())))
    }

    fn sessions(&self) -> StoreResult<Arc<dyn SessionRepository>> {
        Ok(Arc::new(sessions::SqlSessions::new(self.ctx.clone())))
    }

    fn email_tokens(&self) -> StoreResult<Arc<dyn EmailTokenRepository>> {
        Ok(Arc::new(email_tokens::SqlEmailTokens::new(self.ctx.clone())))
    }
}

/// A sqlx pool to `db`'s server built as the store builds the pool its tenants share there
/// (the same connection settings and statement cache), with no tenant bound: for the
/// benchmarks' hand-written statements beside a manager, on connections of their own. Only
/// for `hellojohn_store::bench`.
#[cfg(feature = "bench")]
#[doc(hidden)]
pub fn open_server_pool(
    backend: SqlBackend,
    db: &DbConfig,
    max_connections: u32,
) -> StoreResult<sea_orm::DatabaseConnection> {
    let location = connect::locate(backend, db)?;
    let cfg = ConnectConfig { max_connections, ..ConnectConfig::new("bench", Uuid::nil(), db.clone()) };
    Ok(connect::open_server(backend, &cfg.server(&location))?.pool.sea_orm())
}

/// Opens one tenant's SQL data plane exactly as [`SqlAdapter::connect`] does, and also hands
/// back a SeaORM connection on the same sqlx pool, so that the benchmarks' hand-written sqlx
/// statements run on the very pool (and connections) the repositories use. Only for
/// `hellojohn_store::bench`.
#[cfg(feature = "bench")]
#[doc(hidden)]
pub async fn open_with_pool(
    backend: SqlBackend,
    cfg: &ConnectConfig,
) -> StoreResult<(Arc<dyn AdapterConnection>, sea_orm::DatabaseConnection, Option<String>)> {
    let location = connect::locate(backend, &cfg.db)?;
    let server = Arc::new(connect::open_server(backend, &cfg.server(&location))?);
    if cfg.migrate {
        connect::provision(&server, location.namespace.as_deref()).await?;
    }
    let db = server.pool.sea_orm();
    let pool = SqlServerPool { server };
    let conn = pool.bind(
        &TenantRef { slug: cfg.tenant_slug.clone(), id: cfg.tenant_id },
        location.namespace.as_deref(),
        true,
    )?;
    Ok((conn, db, location.namespace))
}
