//! The store's own statement executor: SeaORM builds the statements and maps the rows, the
//! store runs them on sqlx pools it builds itself.
//!
//! - [`Server`]: the sqlx pool of one database server, shared by every tenant on it, with
//!   what those tenants share (the refresh-token rotations this process committed, SQLite's
//!   writer gate, a count of calls in flight).
//! - [`NsDb`]: one tenant's handle on a server. It implements SeaORM's `ConnectionTrait`, so
//!   the repositories' queries run through it unchanged; every statement is first given the
//!   tenant's namespace by [`qualify`](super::qualify::qualify) (fail-closed), so no
//!   connection ever carries a tenant as session state.
//! - [`NsTxn`]: a transaction of one tenant on one pooled connection, the same way.
//!
//! How a statement goes to the server ([`Wire`]): on PostgreSQL and SQLite prepared, its
//! values bound, and kept per connection; behind PgBouncer in transaction mode
//! (`pgbouncer=true` on the DSN) unnamed (`persistent(false)`), because a named prepared
//! statement lives on a server connection that PgBouncer hands to other clients between
//! transactions; on MySQL/MariaDB with its values written in and the text protocol
//! ([`inline`](super::inline)), because each tenant's statements are texts of their own and
//! the server's prepared statements are a bounded, shared resource — unless the DSN sets
//! `statement-cache-capacity`, which chooses prepared statements and sizes their cache.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use sea_orm::sea_query::Values;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr, Statement, sqlx,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::SqlBackend;
use super::qualify::{Dialect, qualify};
use super::template::{Template, Texts};
use crate::adapters::rotations::RecentRotations;

/// A sqlx pool of one engine.
pub(crate) enum SqlPool {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// SQLite (one file).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` with `$p` bound to the concrete sqlx pool.
macro_rules! with_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            #[cfg(feature = "postgres")]
            SqlPool::Postgres($p) => $body,
            #[cfg(feature = "mysql")]
            SqlPool::MySql($p) => $body,
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite($p) => $body,
        }
    };
}
pub(crate) use with_pool;

impl SqlPool {
    /// Connections open now.
    pub(crate) fn size(&self) -> u32 {
        with_pool!(self, |p| p.size())
    }

    /// Idle connections now.
    pub(crate) fn num_idle(&self) -> usize {
        with_pool!(self, |p| p.num_idle())
    }

    /// Closes every connection.
    pub(crate) async fn close(&self) {
        with_pool!(self, |p| p.close().await)
    }

    /// A SeaORM connection on the same pool (for the migrator, which takes SeaORM's types).
    pub(crate) fn sea_orm(&self) -> sea_orm::DatabaseConnection {
        with_pool!(self, |p| sea_orm::DatabaseConnection::from(p.clone()))
    }
}

/// One database server's pool and what its tenants share.
pub(crate) struct Server {
    /// The engine.
    pub(crate) backend: SqlBackend,
    /// The pool.
    pub(crate) pool: SqlPool,
    /// Most connections of the pool.
    pub(crate) max_connections: u32,
    /// How long a call waits for a connection (also bounds provisioning's own connections).
    pub(crate) acquire_timeout: std::time::Duration,
    /// Whether bound statements are prepared once and kept per connection (off behind
    /// PgBouncer; MySQL/MariaDB sends no bound statements).
    pub(crate) persistent: bool,
    /// MySQL/MariaDB without `statement-cache-capacity` on the DSN: values written into the
    /// statement and sent with the text protocol ([`inline`](super::inline)).
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    pub(crate) inline: bool,
    /// Behind PgBouncer in transaction mode.
    pub(crate) pgbouncer: bool,
    /// The refresh-token rotations this process committed lately on this server (token ids
    /// are unique across tenants).
    pub(crate) rotations: RecentRotations,
    /// SQLite only: one writer at a time in this process.
    pub(crate) write_gate: Option<Arc<Mutex<()>>>,
    /// Calls in flight (a statement, or a transaction from begin to its end).
    pub(crate) busy: AtomicU64,
    /// The server's DSN, plain (for migrations' own connections); never logged.
    pub(crate) dsn: String,
}

impl Server {
    fn dialect(&self) -> Dialect {
        match self.backend {
            SqlBackend::MySql => Dialect::MySql,
            _ => Dialect::Postgres,
        }
    }

    /// How `sql` and its `values` go to this server: bound, or on MySQL/MariaDB written in
    /// (see [`inline`](super::inline)).
    fn wire<S: AsRef<str>>(&self, sql: S, values: Values) -> Result<Wire<S>, DbErr> {
        #[cfg(feature = "mysql")]
        if self.inline {
            let text = super::inline::inline(sql.as_ref(), &values.0)?;
            if text.len() <= super::inline::INLINE_MAX {
                return Ok(Wire::Inline(text));
            }
            // Hexadecimal doubles a value: a statement this large is prepared once and
            // closed (nothing kept), so it fits wherever its values do.
            return Ok(Wire::Bound(sql, values, false));
        }
        Ok(Wire::Bound(sql, values, self.persistent))
    }

    fn db_backend(&self) -> DbBackend {
        match self.backend {
            SqlBackend::Postgres => DbBackend::Postgres,
            SqlBackend::MySql => DbBackend::MySql,
            SqlBackend::Sqlite => DbBackend::Sqlite,
        }
    }
}

/// Counts a call in flight on a server while it lives.
pub(crate) struct Busy(Arc<Server>);

impl Busy {
    fn new(server: &Arc<Server>) -> Self {
        server.busy.fetch_add(1, Ordering::Relaxed);
        Busy(server.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A statement's driver error, as SeaORM reports it (so `error.rs` maps it the same way).
pub(crate) fn sqlx_error_to_exec_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(err.into()))
}

/// A query's driver error, as SeaORM reports it.
pub(crate) fn sqlx_error_to_query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err.into()))
}

/// A connection's driver error, as SeaORM reports it.
pub(crate) fn sqlx_error_to_conn_err(err: sqlx::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(err.into()))
}

/// A failure to take a connection from the pool, as SeaORM reports it.
fn sqlx_conn_acquire_err(err: sqlx::Error) -> DbErr {
    match err {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        other => sqlx_error_to_conn_err(other),
    }
}

fn values(values: Option<Values>) -> Values {
    values.unwrap_or(Values(Vec::new()))
}

fn qualified<'a>(server: &Server, namespace: Option<&str>, sql: &'a str) -> Result<Cow<'a, str>, DbErr> {
    match namespace {
        Some(ns) => qualify(sql, ns, server.dialect()).map(Cow::Owned).map_err(|e| DbErr::Custom(e.0)),
        None => Ok(Cow::Borrowed(sql)),
    }
}

/// A statement as it goes to the server.
pub(crate) enum Wire<S> {
    /// Its text and values, bound: prepared, and kept per connection when the flag is set
    /// (off behind PgBouncer).
    Bound(S, Values, bool),
    /// Its text with the values written in as literals, sent with the text protocol
    /// (MySQL/MariaDB: see [`inline`](super::inline)).
    Inline(String),
}

/// Runs one statement (`$method`: `execute`, `fetch_optional` or `fetch_all`) on `$exec`.
macro_rules! run {
    (@send $exec:expr, $wire:expr, $method:ident) => {
        match $wire {
            Wire::Bound(sql, values, persistent) => {
                sqlx::query_with(sqlx::AssertSqlSafe(sql), SqlxValues(values))
                    .persistent(persistent)
                    .$method($exec)
                    .await
            }
            Wire::Inline(sql) => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).$method($exec).await,
        }
    };
    ($exec:expr, $wire:expr, execute) => {
        run!(@send $exec, $wire, execute).map(ExecResult::from).map_err(sqlx_error_to_exec_err)
    };
    ($exec:expr, $wire:expr, fetch_optional) => {
        run!(@send $exec, $wire, fetch_optional)
            .map(|row| row.map(QueryResult::from))
            .map_err(sqlx_error_to_query_err)
    };
    ($exec:expr, $wire:expr, fetch_all) => {
        run!(@send $exec, $wire, fetch_all)
            .map(|rows| rows.into_iter().map(QueryResult::from).collect())
            .map_err(sqlx_error_to_query_err)
    };
    ($exec:expr, $sql:expr, raw) => {
        sqlx::raw_sql(sqlx::AssertSqlSafe($sql))
            .execute($exec)
            .await
            .map(ExecResult::from)
            .map_err(sqlx_error_to_exec_err)
    };
}

/// One tenant's handle on a shared server: every statement names the tenant's namespace.
#[derive(Clone)]
pub(crate) struct NsDb {
    pub(crate) server: Arc<Server>,
    /// Private: the template texts in `texts` are qualified with it, so a handle never
    /// changes namespace (a clone keeps both).
    namespace: Option<Arc<str>>,
    /// Set when the tenant's connection is closed: every later statement is refused.
    pub(crate) closed: Arc<AtomicBool>,
    /// This tenant's texts of the hot paths' templates, qualified with its namespace.
    texts: Arc<Texts>,
}

impl NsDb {
    /// A handle of the tenant whose namespace is `namespace` on `server`.
    pub(crate) fn new(server: Arc<Server>, namespace: Option<&str>) -> Self {
        NsDb {
            server,
            namespace: namespace.map(Arc::from),
            closed: Arc::new(AtomicBool::new(false)),
            texts: Arc::default(),
        }
    }

    /// The text of template `T` for this tenant (SeaORM builds it and [`qualify`] names the
    /// namespace on the first call; later calls reuse it) and its values for `args`. With
    /// debug assertions, SeaORM builds the statement on every call as well, and a text or
    /// values other than the template's is a panic: the template drifted from its builder.
    fn template<T: Template>(&self, args: &T::Args<'_>) -> Result<(Arc<str>, Values), DbErr> {
        self.check_open()?;
        let backend = self.server.db_backend();
        let text = self.texts.get_or_try::<T>(|| {
            let built = T::build(backend, args);
            Ok(Arc::from(self.sql(&built.sql)?.as_ref()))
        })?;
        let values = T::values(args);
        if cfg!(debug_assertions) {
            let built = T::build(backend, args);
            assert_eq!(*self.sql(&built.sql)?, *text, "template {}: text", T::NAME);
            assert_eq!(built.values.map(|v| v.0).as_ref(), Some(&values), "template {}: values", T::NAME);
        }
        Ok((text, Values(values)))
    }

    /// Runs template `T` for `args`; its row, if any, read by [`Template::read`].
    pub(crate) async fn one<T: Template>(&self, args: T::Args<'_>) -> Result<Option<T::Row>, DbErr> {
        let (text, values) = self.template::<T>(&args)?;
        let row = if self.server.pgbouncer {
            self.in_transaction(|t| Box::pin(async move { t.one_text(text, values).await })).await?
        } else {
            let _busy = Busy::new(&self.server);
            let wire = self.server.wire(text, values)?;
            with_pool!(&self.server.pool, |p| run!(p, wire, fetch_optional))?
        };
        row.as_ref().map(T::read).transpose()
    }

    /// Runs template `T` for `args`; its rows, each read by [`Template::read`].
    pub(crate) async fn all<T: Template>(&self, args: T::Args<'_>) -> Result<Vec<T::Row>, DbErr> {
        let (text, values) = self.template::<T>(&args)?;
        let rows = if self.server.pgbouncer {
            self.in_transaction(|t| Box::pin(async move { t.all_text(text, values).await })).await?
        } else {
            let _busy = Busy::new(&self.server);
            let wire = self.server.wire(text, values)?;
            with_pool!(&self.server.pool, |p| run!(p, wire, fetch_all))?
        };
        rows.iter().map(T::read).collect()
    }

    /// Errors once the tenant's connection is closed.
    fn check_open(&self) -> Result<(), DbErr> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(DbErr::Conn(sea_orm::RuntimeErr::Internal("the connection is closed".into())));
        }
        Ok(())
    }

    fn sql<'a>(&self, sql: &'a str) -> Result<Cow<'a, str>, DbErr> {
        self.check_open()?;
        qualified(&self.server, self.namespace.as_deref(), sql)
    }

    /// Begins a transaction on one pooled connection (`BEGIN IMMEDIATE` on SQLite when
    /// `immediate`). The caller holds SQLite's writer gate already, when there is one.
    pub(crate) async fn begin(&self, immediate: bool) -> Result<NsTxn, DbErr> {
        self.check_open()?;
        let busy = Busy::new(&self.server);
        let txn = match &self.server.pool {
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(p) => Txn::Postgres(p.begin().await.map_err(sqlx_conn_acquire_err)?),
            #[cfg(feature = "mysql")]
            SqlPool::MySql(p) => Txn::MySql(p.begin().await.map_err(sqlx_conn_acquire_err)?),
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(p) => Txn::Sqlite(
                if immediate { p.begin_with("BEGIN IMMEDIATE").await } else { p.begin().await }
                    .map_err(sqlx_conn_acquire_err)?,
            ),
        };
        let _ = immediate;
        Ok(NsTxn { db: self.clone(), txn: Mutex::new(Some(txn)), _busy: busy })
    }

    /// Runs `f` in a transaction of its own: behind PgBouncer in transaction mode a
    /// statement's two round trips (parse and describe, then bind and execute) may otherwise
    /// reach two server connections, since PgBouncer reassigns a connection whenever no
    /// transaction is open.
    async fn in_transaction<T, F>(&self, f: F) -> Result<T, DbErr>
    where
        F: for<'t> FnOnce(
                &'t NsTxn,
            ) -> std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<T, DbErr>> + Send + 't>,
            > + Send,
        T: Send,
    {
        let txn = self.begin(false).await?;
        match f(&txn).await {
            Ok(out) => {
                txn.commit().await?;
                Ok(out)
            }
            Err(e) => {
                let _ = txn.rollback().await;
                Err(e)
            }
        }
    }

    /// Takes SQLite's writer gate of this server (a no-op elsewhere).
    pub(crate) async fn write_gate(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.server.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        }
    }
}

#[async_trait]
impl ConnectionTrait for NsDb {
    fn get_database_backend(&self) -> DbBackend {
        self.server.db_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        if self.server.pgbouncer {
            return self.in_transaction(|t| Box::pin(async move { t.execute_raw(stmt).await })).await;
        }
        let _busy = Busy::new(&self.server);
        let sql = self.sql(&stmt.sql)?.into_owned();
        let wire = self.server.wire(sql, values(stmt.values))?;
        with_pool!(&self.server.pool, |p| run!(p, wire, execute))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let _busy = Busy::new(&self.server);
        let sql = self.sql(sql)?.into_owned();
        with_pool!(&self.server.pool, |p| run!(p, sql, raw))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if self.server.pgbouncer {
            return self.in_transaction(|t| Box::pin(async move { t.query_one_raw(stmt).await })).await;
        }
        let _busy = Busy::new(&self.server);
        let sql = self.sql(&stmt.sql)?.into_owned();
        let wire = self.server.wire(sql, values(stmt.values))?;
        with_pool!(&self.server.pool, |p| run!(p, wire, fetch_optional))
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if self.server.pgbouncer {
            return self.in_transaction(|t| Box::pin(async move { t.query_all_raw(stmt).await })).await;
        }
        let _busy = Busy::new(&self.server);
        let sql = self.sql(&stmt.sql)?.into_owned();
        let wire = self.server.wire(sql, values(stmt.values))?;
        with_pool!(&self.server.pool, |p| run!(p, wire, fetch_all))
    }
}

enum Txn {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

macro_rules! with_txn {
    ($txn:expr, |$c:ident| $body:expr) => {
        match $txn {
            #[cfg(feature = "postgres")]
            Txn::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
            #[cfg(feature = "mysql")]
            Txn::MySql(t) => {
                let $c = &mut **t;
                $body
            }
            #[cfg(feature = "sqlite")]
            Txn::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// A transaction of one tenant: rolled back when dropped unfinished.
pub(crate) struct NsTxn {
    db: NsDb,
    txn: Mutex<Option<Txn>>,
    _busy: Busy,
}

fn finished() -> DbErr {
    DbErr::Custom("the transaction has already ended".into())
}

impl NsTxn {
    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        let txn = self.txn.lock().await.take().ok_or_else(finished)?;
        match txn {
            #[cfg(feature = "postgres")]
            Txn::Postgres(t) => t.commit().await,
            #[cfg(feature = "mysql")]
            Txn::MySql(t) => t.commit().await,
            #[cfg(feature = "sqlite")]
            Txn::Sqlite(t) => t.commit().await,
        }
        .map_err(sqlx_error_to_exec_err)
    }

    /// Rolls back.
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        let txn = self.txn.lock().await.take().ok_or_else(finished)?;
        match txn {
            #[cfg(feature = "postgres")]
            Txn::Postgres(t) => t.rollback().await,
            #[cfg(feature = "mysql")]
            Txn::MySql(t) => t.rollback().await,
            #[cfg(feature = "sqlite")]
            Txn::Sqlite(t) => t.rollback().await,
        }
        .map_err(sqlx_error_to_exec_err)
    }
}

#[async_trait]
impl ConnectionTrait for NsTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.db.server.db_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let sql = self.db.sql(&stmt.sql)?.into_owned();
        let wire = self.db.server.wire(sql, values(stmt.values))?;
        let mut guard = self.txn.lock().await;
        let txn = guard.as_mut().ok_or_else(finished)?;
        with_txn!(txn, |c| run!(c, wire, execute))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let sql = self.db.sql(sql)?.into_owned();
        let mut guard = self.txn.lock().await;
        let txn = guard.as_mut().ok_or_else(finished)?;
        with_txn!(txn, |c| run!(c, sql, raw))
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let sql: Arc<str> = self.db.sql(&stmt.sql)?.into();
        self.one_text(sql, stmt.values.unwrap_or(Values(Vec::new()))).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let sql: Arc<str> = self.db.sql(&stmt.sql)?.into();
        self.all_text(sql, stmt.values.unwrap_or(Values(Vec::new()))).await
    }
}

impl NsTxn {
    /// Runs `sql`, qualified already, on the transaction's connection; its row, if any.
    async fn one_text(&self, sql: Arc<str>, values: Values) -> Result<Option<QueryResult>, DbErr> {
        let wire = self.db.server.wire(sql, values)?;
        let mut guard = self.txn.lock().await;
        let txn = guard.as_mut().ok_or_else(finished)?;
        with_txn!(txn, |c| run!(c, wire, fetch_optional))
    }

    /// Runs `sql`, qualified already, on the transaction's connection; its rows.
    async fn all_text(&self, sql: Arc<str>, values: Values) -> Result<Vec<QueryResult>, DbErr> {
        let wire = self.db.server.wire(sql, values)?;
        let mut guard = self.txn.lock().await;
        let txn = guard.as_mut().ok_or_else(finished)?;
        with_txn!(txn, |c| run!(c, wire, fetch_all))
    }
}
