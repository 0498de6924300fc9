//! The SQL data plane on SeaORM: one [`SqlAdapter`] per engine (`postgres`/`postgresql`,
//! `mysql`/`mariadb`, `sqlite`, each behind its cargo feature), opening a [`SqlConnection`]
//! per tenant whose repositories run on the entities generated in `entity/`.
//!
//! - `connect`: namespace creation (PostgreSQL schema, MySQL database, SQLite file) and
//!   migrations under a database lock, so that replicas migrate once.
//! - `error`: the one place where `DbErr` becomes [`StoreError`].
//! - `retry`: runs a transaction again on serialization failures, deadlocks and `SQLITE_BUSY`;
//!   a write outside a transaction is one statement run through `SqlContext::write`, which
//!   retries it the same way.
//! - `time`: timestamps are written in UTC at microsecond precision, read back as UTC.
//! - one file per repository.

mod connect;
pub(crate) mod error;
pub(crate) mod retry;
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
use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbErr, IsolationLevel, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};
use uuid::Uuid;

use self::error::ErrCtx;
use crate::error::{StoreError, StoreResult};
use crate::registry::{Adapter, AdapterConnection, ConnectConfig, Registry};
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

    async fn connect(&self, cfg: &ConnectConfig) -> StoreResult<Arc<dyn AdapterConnection>> {
        let ctx = connect::open(self.backend, cfg).await.map_err(|e| e.scrub_dsn(&cfg.db.dsn))?;
        Ok(Arc::new(SqlConnection { ctx: Arc::new(ctx) }))
    }

    async fn drop_namespace(&self, cfg: &ConnectConfig) -> StoreResult<()> {
        connect::drop_namespace(self.backend, cfg).await
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
    /// The pool, already scoped to the tenant's namespace.
    pub(crate) db: DatabaseConnection,
    /// The tenant the pool serves (filled into `User::tenant_id`).
    pub(crate) tenant_id: Uuid,
    /// Slug of the tenant (for logs).
    pub(crate) tenant_slug: String,
    /// The engine.
    pub(crate) backend: SqlBackend,
    /// SQLite only: one writer at a time in this process (writers queue here instead of
    /// spinning on `SQLITE_BUSY`; other processes are covered by the busy timeout and
    /// [`retry`]).
    write_gate: Option<Arc<Mutex<()>>>,
    /// The refresh-token rotations this connection committed lately.
    pub(crate) rotations: crate::adapters::rotations::RecentRotations,
}

impl SqlContext {
    pub(crate) fn new(db: DatabaseConnection, cfg: &ConnectConfig, backend: SqlBackend) -> Self {
        SqlContext {
            db,
            tenant_id: cfg.tenant_id,
            tenant_slug: cfg.tenant_slug.clone(),
            backend,
            write_gate: (backend == SqlBackend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            rotations: Default::default(),
        }
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
        let gate = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let options = TransactionOptions {
            isolation_level: None::<IsolationLevel>,
            access_mode: None::<AccessMode>,
            sqlite_transaction_mode: (self.backend == SqlBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
        };
        let txn = self.db.begin_with_options(options).await?;
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
        F: FnMut(&'a DatabaseConnection) -> Fut,
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
/// `DatabaseTransaction`; rolls back when dropped without [`WriteTxn::commit`].
pub(crate) struct WriteTxn {
    txn: DatabaseTransaction,
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
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
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
        self.ctx.db.ping().await.map_err(|e| match self.ctx.err("connection").map(e) {
            err @ StoreError::Unavailable { .. } => err,
            StoreError::Backend { backend, message, source } => {
                StoreError::Unavailable { backend, message, source }
            }
            other => other,
        })
    }

    async fn close(&self) -> StoreResult<()> {
        self.ctx.db.close_by_ref().await.map_err(|e| self.ctx.err("connection").map(e))
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

/// Opens one tenant's SQL data plane exactly as [`SqlAdapter::connect`] does, and also hands
/// back its SeaORM pool, so that the benchmarks' hand-written sqlx statements run on the very
/// pool (and connections) the repositories use. Only for `hellojohn_store::bench`.
#[cfg(feature = "bench")]
#[doc(hidden)]
pub async fn open_with_pool(
    backend: SqlBackend,
    cfg: &ConnectConfig,
) -> StoreResult<(Arc<dyn AdapterConnection>, DatabaseConnection)> {
    let ctx = connect::open(backend, cfg).await?;
    let db = ctx.db.clone();
    Ok((Arc::new(SqlConnection { ctx: Arc::new(ctx) }), db))
}
