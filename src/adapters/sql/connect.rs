//! Where a tenant's SQL data lives, the pools of servers, and provisioning.
//!
//! - [`locate`]: PostgreSQL — the server is the DSN (a database), the namespace the schema
//!   (none: the database's default schema); MySQL/MariaDB — the server is the DSN without its
//!   database, the namespace the database; SQLite — the file is the server, no namespace.
//! - [`open_server`]: the store builds the sqlx pool itself (lazily: no connection until the
//!   first statement; statement logging off; no ping before each checkout). A PostgreSQL DSN
//!   with `pgbouncer=true` (removed before sqlx reads the DSN) goes through PgBouncer in
//!   transaction mode: statements are unnamed and provisioning clears prepared statements.
//! - [`provision`]: creates the namespace and runs `Migrator` under a lock so that replicas
//!   provisioning one namespace at once migrate it once. PostgreSQL: one transaction on a
//!   pooled connection — `pg_advisory_xact_lock`, `CREATE SCHEMA IF NOT EXISTS`, `SET LOCAL
//!   search_path`, the migrations (DDL is transactional): nothing outlives the transaction,
//!   so it works through PgBouncer (there on a connection of its own, with `DEALLOCATE ALL`
//!   before and after, since SeaORM's migrator prepares named statements). MySQL/MariaDB: a
//!   connection of its own holding `GET_LOCK`, `CREATE DATABASE IF NOT EXISTS`, `USE`, the
//!   migrations, then closed. SQLite: a process-wide mutex (other processes: SQLite's locks).
//!
//! Names are validated before they are interpolated into SQL.

use std::str::FromStr;
use std::time::Duration;

use migration::{Migrator, MigratorTrait, is_valid_namespace};
#[cfg(feature = "mysql")]
use sea_orm::Statement;
use sea_orm::{ConnectionTrait, DbErr, TransactionTrait, sqlx};
use sha2::{Digest, Sha256};

use super::SqlBackend;
use super::exec::{Server, SqlPool, with_pool};
use crate::error::{StoreError, StoreResult};
use crate::mode::{DbConfig, redact_dsn};
use crate::registry::{Location, ServerConfig};

/// How long SQLite waits for a lock held by another connection before `SQLITE_BUSY`.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a replica waits for another one's migrations.
const MIGRATION_LOCK_TIMEOUT_SECS: u32 = 300;
/// A pooled connection idle this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// The DSN parameter saying a PostgreSQL DSN goes through PgBouncer in transaction mode.
pub(crate) const PGBOUNCER_PARAM: &str = "pgbouncer";

pub(crate) fn check_namespace(field: &str, name: &str) -> StoreResult<()> {
    if !is_valid_namespace(name) {
        return Err(StoreError::invalid(
            field,
            format!("{name:?} is not a valid name (1-63 of a-z, 0-9, _ and -)"),
        ));
    }
    // The last guard before a migration runs there: whatever a control plane let through
    // (`pg{tenant}` with a namespace `_catalog`), a system schema or database is refused.
    // `public` is a dedicated PostgreSQL database's usual schema.
    if name != "public" && crate::manager::is_reserved_namespace(name) {
        return Err(StoreError::invalid(field, format!("{name:?} is a system schema or database")));
    }
    Ok(())
}

/// Checks that the DSN belongs to the engine (`mariadb://` is accepted as `mysql://`).
fn normalise_dsn(backend: SqlBackend, dsn: &str) -> StoreResult<String> {
    let dsn = dsn.trim();
    crate::manager::resolve::check_dsn_text(backend == SqlBackend::MySql, &redact_dsn(dsn), dsn)?;
    let ok = match backend {
        SqlBackend::Postgres => dsn.starts_with("postgres://") || dsn.starts_with("postgresql://"),
        SqlBackend::MySql => dsn.starts_with("mysql://") || dsn.starts_with("mariadb://"),
        SqlBackend::Sqlite => dsn.starts_with("sqlite:"),
    };
    if !ok {
        return Err(StoreError::invalid(
            "dsn",
            format!("{} is not a {} connection string", redact_dsn(dsn), backend.name()),
        ));
    }
    Ok(match dsn.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => dsn.to_string(),
    })
}

/// Where `db` puts a tenant (see the module documentation).
pub(crate) fn locate(backend: SqlBackend, db: &DbConfig) -> StoreResult<Location> {
    let dsn = normalise_dsn(backend, &db.dsn)?;
    match backend {
        SqlBackend::Postgres => {
            let schema = db.schema.as_deref().map(str::trim).filter(|s| !s.is_empty());
            if let Some(schema) = schema {
                check_namespace("schema", schema)?;
            }
            take_pgbouncer(&dsn)?;
            Ok(Location { server: dsn, namespace: schema.map(str::to_string) })
        }
        SqlBackend::MySql => {
            let (server, database) = split_mysql_dsn(&dsn);
            let Some(database) = database else {
                return Err(StoreError::invalid("dsn", format!("{} names no database", redact_dsn(&dsn))));
            };
            check_namespace("database", &database)?;
            Ok(Location { server, namespace: Some(database) })
        }
        SqlBackend::Sqlite => Ok(Location { server: dsn, namespace: None }),
    }
}

/// `dsn` without the `pgbouncer` parameter, and whether it was on.
///
/// Errors: `InvalidInput` for a value other than true/false (1/0, yes/no, on/off).
pub(crate) fn take_pgbouncer(dsn: &str) -> StoreResult<(String, bool)> {
    let Some((base, query)) = dsn.split_once('?') else { return Ok((dsn.to_string(), false)) };
    let mut on = false;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == PGBOUNCER_PARAM {
            on = match value {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                other => {
                    return Err(StoreError::invalid(
                        "dsn",
                        format!("{PGBOUNCER_PARAM}={other:?}: expected true or false"),
                    ));
                }
            };
        } else {
            kept.push(pair);
        }
    }
    Ok((if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) }, on))
}

#[cfg_attr(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")), allow(dead_code))]
fn config_error(dsn: &str, err: sqlx::Error) -> StoreError {
    StoreError::invalid("dsn", format!("{}: {err}", redact_dsn(dsn)))
}

/// The options of a server's shared pool: up to `max` connections made on demand, closed
/// after [`IDLE_TIMEOUT`] unused, not pinged before each checkout (a dead connection fails
/// its call with `Unavailable` and is dropped).
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
fn shared_pool_options<DB: sqlx::Database>(
    max: u32,
    acquire_timeout: Duration,
) -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(acquire_timeout)
        .idle_timeout(Some(IDLE_TIMEOUT))
        .test_before_acquire(false)
}

/// Prepared statements of one PostgreSQL connection kept by sqlx when the DSN does not set
/// `statement-cache-capacity` (sqlx's own default is 100). Each tenant's statements have
/// texts of their own (they name its schema), so the cache must hold the statements of every
/// tenant a connection serves to spare a prepare per call; each costs the server ~13 KB of
/// backend memory (measured on PostgreSQL 15), so at most ~13 MB per connection.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) const PG_STATEMENT_CACHE: usize = 1024;

/// The settings of a shared PostgreSQL pool's connections (not behind PgBouncer, where
/// statements are unnamed):
/// - `plan_cache_mode = force_generic_plan` (PostgreSQL 12+), a setting of the connection
///   the same for every tenant: a prepared statement is planned once. PostgreSQL otherwise
///   plans each of the first five executions of a statement anew, and with many tenants on
///   a connection most statements never get past five (the store's statements are lookups by
///   key or indexed column, where the generic plan is the custom one).
/// - [`PG_STATEMENT_CACHE`] prepared statements per connection unless the DSN chooses.
#[cfg(feature = "postgres")]
fn many_tenant_statements(
    opts: sqlx::postgres::PgConnectOptions,
    dsn: &str,
) -> sqlx::postgres::PgConnectOptions {
    let opts = opts.options([("plan_cache_mode", "force_generic_plan")]);
    if sets_statement_cache(dsn) { opts } else { opts.statement_cache_capacity(PG_STATEMENT_CACHE) }
}

/// Whether the DSN chooses sqlx's per-connection statement cache (`statement-cache-capacity`,
/// its name percent-decoded as sqlx decodes it).
fn sets_statement_cache(dsn: &str) -> bool {
    dsn.split_once('?').is_some_and(|(_, q)| {
        q.split('&').any(|p| {
            let key = p.split('=').next().unwrap_or_default();
            percent_encoding::percent_decode_str(key).decode_utf8_lossy() == "statement-cache-capacity"
        })
    })
}

/// The driver's options for a MySQL/MariaDB DSN, as every store connection to that server
/// uses them: after the driver has read the DSN, its character set is utf8mb4 and its
/// session time zone UTC whatever the DSN said, and a collation that is not a plain
/// `utf8mb4_` name is refused — the driver writes these into `SET` statements at connect,
/// unescaped, so this holds even for a DSN that reached here past the namespace guard.
///
/// Errors: `InvalidInput` for a DSN the driver cannot read or a collation it would write
/// into SQL unchecked.
#[cfg(feature = "mysql")]
pub(crate) fn mysql_options(dsn: &str) -> StoreResult<sqlx::mysql::MySqlConnectOptions> {
    #[allow(unused_imports)]
    use sqlx::ConnectOptions as _;
    let opts = sqlx::mysql::MySqlConnectOptions::from_str(dsn).map_err(|e| config_error(dsn, e))?;
    if let Some(collation) = opts.get_collation()
        && !(collation.to_ascii_lowercase().starts_with("utf8mb4_")
            && collation.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(StoreError::invalid(
            "dsn",
            format!("{}: collation must be a utf8mb4_ name", redact_dsn(dsn)),
        ));
    }
    Ok(opts.charset("utf8mb4").timezone(Some("+00:00".to_string())).disable_statement_logging())
}

/// The pool of one server, opened lazily (no connection yet).
pub(crate) fn open_server(backend: SqlBackend, cfg: &ServerConfig) -> StoreResult<Server> {
    #[allow(unused_imports)]
    use sqlx::ConnectOptions as _;
    let dsn = normalise_dsn(backend, &cfg.dsn)?;
    let max = cfg.max_connections.max(1);
    // Set by the PostgreSQL arm; with `postgres` alone the initial value is never read.
    #[allow(unused_mut, unused_assignments)]
    let mut pgbouncer = false;
    let pool = match backend {
        #[cfg(feature = "postgres")]
        SqlBackend::Postgres => {
            let (dsn, behind) = take_pgbouncer(&dsn)?;
            pgbouncer = behind;
            let mut opts = sqlx::postgres::PgConnectOptions::from_str(&dsn)
                .map_err(|e| config_error(&dsn, e))?
                .disable_statement_logging();
            if !pgbouncer {
                opts = many_tenant_statements(opts, &dsn);
            }
            SqlPool::Postgres(shared_pool_options(max, cfg.acquire_timeout).connect_lazy_with(opts))
        }
        #[cfg(feature = "mysql")]
        SqlBackend::MySql => {
            let opts = mysql_options(&dsn)?;
            SqlPool::MySql(shared_pool_options(max, cfg.acquire_timeout).connect_lazy_with(opts))
        }
        #[cfg(feature = "sqlite")]
        SqlBackend::Sqlite => {
            use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&dsn)
                .map_err(|e| config_error(&dsn, e))?
                .disable_statement_logging()
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let mut pool = sqlx::sqlite::SqlitePoolOptions::new()
                .acquire_timeout(cfg.acquire_timeout)
                .test_before_acquire(false);
            let opts = if sqlite_path(&dsn).is_some() {
                pool = pool.max_connections(max).min_connections(0).idle_timeout(Some(IDLE_TIMEOUT));
                opts.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal)
            } else {
                // Every connection to `:memory:` is its own database: keep exactly one, forever.
                pool = pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
                opts
            };
            SqlPool::Sqlite(pool.connect_lazy_with(opts))
        }
        #[allow(unreachable_patterns)]
        _ => {
            return Err(StoreError::NotSupported {
                operation: "connect".into(),
                backend: format!("{} (feature off)", backend.name()),
            });
        }
    };
    let max_connections = if backend == SqlBackend::Sqlite && sqlite_path(&dsn).is_none() { 1 } else { max };
    Ok(Server {
        backend,
        pool,
        max_connections,
        acquire_timeout: cfg.acquire_timeout,
        persistent: !pgbouncer,
        // MySQL/MariaDB: the text protocol unless the DSN sizes a statement cache itself.
        inline: backend == SqlBackend::MySql && !sets_statement_cache(&dsn),
        pgbouncer,
        rotations: Default::default(),
        write_gate: (backend == SqlBackend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(()))),
        busy: Default::default(),
        dsn,
    })
}

fn ddl_error(backend: SqlBackend, what: &str, err: DbErr) -> StoreError {
    let store = super::error::ErrCtx::new(backend.name(), "namespace").map(err);
    match store {
        StoreError::Backend { backend, message, source } => {
            StoreError::Backend { backend, message: format!("{what}: {message}"), source }
        }
        other => other,
    }
}

/// Checks the server answers (`Unavailable` when it does not).
pub(crate) async fn ping(server: &Server) -> StoreResult<()> {
    let result = with_pool!(&server.pool, |p| sqlx::raw_sql("SELECT 1").execute(p).await.map(|_| ()));
    result.map_err(|e| {
        match super::error::ErrCtx::new(server.backend.name(), "connection")
            .map(super::exec::sqlx_error_to_conn_err(e))
        {
            err @ StoreError::Unavailable { .. } => err,
            StoreError::Backend { backend, message, source } => {
                StoreError::Unavailable { backend, message, source }
            }
            other => other,
        }
    })
}

/// Creates `namespace` and applies pending migrations (see the module documentation).
pub(crate) async fn provision(server: &Server, namespace: Option<&str>) -> StoreResult<()> {
    if let Some(ns) = namespace {
        check_namespace("namespace", ns)?;
    }
    match server.backend {
        SqlBackend::Postgres => provision_postgres(server, namespace).await,
        SqlBackend::MySql => provision_mysql(server, namespace).await,
        SqlBackend::Sqlite => provision_sqlite(server).await,
    }
}

#[cfg(not(feature = "postgres"))]
async fn provision_postgres(_server: &Server, _namespace: Option<&str>) -> StoreResult<()> {
    Err(StoreError::NotSupported { operation: "provision".into(), backend: "postgres (feature off)".into() })
}

#[cfg(feature = "postgres")]
async fn provision_postgres(server: &Server, namespace: Option<&str>) -> StoreResult<()> {
    use sqlx::ConnectOptions as _;
    let backend = SqlBackend::Postgres;
    // Behind PgBouncer: a connection of its own, used for this one transaction only (the
    // migrator's named statements must not outlive it on a server connection).
    let own = if server.pgbouncer {
        let (dsn, _) = take_pgbouncer(&server.dsn)?;
        let opts = sqlx::postgres::PgConnectOptions::from_str(&dsn).map_err(|e| config_error(&dsn, e))?;
        Some(
            sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(server.acquire_timeout)
                .connect_lazy_with(opts.disable_statement_logging()),
        )
    } else {
        None
    };
    let db = match &own {
        Some(pool) => sea_orm::DatabaseConnection::from(pool.clone()),
        None => server.pool.sea_orm(),
    };
    let (key, _) = lock_key(namespace.unwrap_or("public"));
    let result = async {
        let txn = db.begin().await.map_err(|e| ddl_error(backend, "beginning the provisioning", e))?;
        if server.pgbouncer {
            txn.execute_unprepared("DEALLOCATE ALL")
                .await
                .map_err(|e| ddl_error(backend, "clearing prepared statements", e))?;
        }
        txn.execute_unprepared(&format!(
            "SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT_SECS}s'; SELECT pg_advisory_xact_lock({key})"
        ))
        .await
        .map_err(|e| ddl_error(backend, "taking the migration lock", e))?;
        if let Some(schema) = namespace {
            txn.execute_unprepared(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\""
            ))
            .await
            .map_err(|e| ddl_error(backend, "creating the schema", e))?;
        }
        Migrator::up(&txn, None).await.map_err(|e| ddl_error(backend, "applying migrations", e))?;
        if server.pgbouncer {
            txn.execute_unprepared("DEALLOCATE ALL")
                .await
                .map_err(|e| ddl_error(backend, "clearing prepared statements", e))?;
        }
        txn.commit().await.map_err(|e| ddl_error(backend, "committing the migrations", e))
    }
    .await;
    if let Some(pool) = own {
        pool.close().await;
    }
    result
}

#[cfg(not(feature = "mysql"))]
async fn provision_mysql(_server: &Server, _namespace: Option<&str>) -> StoreResult<()> {
    Err(StoreError::NotSupported { operation: "provision".into(), backend: "mysql (feature off)".into() })
}

#[cfg(feature = "mysql")]
async fn provision_mysql(server: &Server, namespace: Option<&str>) -> StoreResult<()> {
    let backend = SqlBackend::MySql;
    let Some(database) = namespace else {
        return Err(StoreError::invalid("dsn", "a MySQL/MariaDB tenant database needs a name"));
    };
    let opts = mysql_options(&server.dsn)?;
    // One connection of its own: the lock and `USE` are session state, gone when it closes.
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(server.acquire_timeout)
        .connect_lazy_with(opts);
    let db = sea_orm::DatabaseConnection::from(pool.clone());
    let (_, lock_name) = lock_key(database);
    let result = async {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT GET_LOCK(?, ?) AS got",
                [lock_name.clone().into(), MIGRATION_LOCK_TIMEOUT_SECS.into()],
            ))
            .await
            .map_err(|e| ddl_error(backend, "taking the migration lock", e))?;
        let got: Option<i64> = row.and_then(|r| r.try_get("", "got").ok());
        if got != Some(1) {
            return Err(StoreError::unavailable(
                backend.name(),
                format!("timed out waiting for the migration lock of {database}"),
            ));
        }
        db.execute_unprepared(&format!(
            "CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
        ))
        .await
        .map_err(|e| ddl_error(backend, "creating the database", e))?;
        db.execute_unprepared(&format!("USE `{database}`"))
            .await
            .map_err(|e| ddl_error(backend, "choosing the database", e))?;
        Migrator::up(&db, None).await.map_err(|e| ddl_error(backend, "applying migrations", e))?;
        let _ = db
            .execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "SELECT RELEASE_LOCK(?)",
                [lock_name.clone().into()],
            ))
            .await;
        Ok(())
    }
    .await;
    pool.close().await;
    result
}

/// Serialises SQLite migrations in this process (other processes are held off by SQLite's
/// own file locks and the busy timeout).
#[cfg(feature = "sqlite")]
static SQLITE_MIGRATIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[cfg(not(feature = "sqlite"))]
async fn provision_sqlite(_server: &Server) -> StoreResult<()> {
    Err(StoreError::NotSupported { operation: "provision".into(), backend: "sqlite (feature off)".into() })
}

#[cfg(feature = "sqlite")]
async fn provision_sqlite(server: &Server) -> StoreResult<()> {
    let backend = SqlBackend::Sqlite;
    if let Some(parent) = sqlite_path(&server.dsn).and_then(|p| p.parent().map(std::path::Path::to_path_buf))
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&parent).map_err(|e| {
            StoreError::unavailable(backend.name(), format!("creating {}: {e}", parent.display()))
        })?;
    }
    // Opening a new file switches it to WAL, which SQLite does not retry on a busy file:
    // replicas in this process opening one new file at once would get "database is locked".
    let _guard = SQLITE_MIGRATIONS.lock().await;
    Migrator::up(&server.pool.sea_orm(), None).await.map_err(|e| ddl_error(backend, "applying migrations", e))
}

/// Drops `namespace` on `server` (see `Adapter::drop_namespace`).
pub(crate) async fn drop_namespace(server: &Server, namespace: Option<&str>) -> StoreResult<()> {
    let backend = server.backend;
    match backend {
        SqlBackend::Postgres | SqlBackend::MySql => {
            let Some(ns) = namespace else {
                return Err(StoreError::NotSupported {
                    operation: "drop a namespace that is a whole database (no schema)".into(),
                    backend: backend.name().into(),
                });
            };
            let (field, sql) = if backend == SqlBackend::Postgres {
                ("schema", format!("DROP SCHEMA IF EXISTS \"{ns}\" CASCADE"))
            } else {
                ("database", format!("DROP DATABASE IF EXISTS `{ns}`"))
            };
            check_droppable(field, ns)?;
            let result = with_pool!(&server.pool, |p| sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .map(|_| ()));
            result.map_err(|e| {
                ddl_error(backend, "dropping the namespace", super::exec::sqlx_error_to_exec_err(e))
            })
        }
        SqlBackend::Sqlite => {
            server.pool.close().await;
            let Some(path) = sqlite_path(&server.dsn) else {
                return Ok(()); // an in-memory database is gone with its connection
            };
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                match std::fs::remove_file(&file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(StoreError::Backend {
                            backend: backend.name().into(),
                            message: format!("removing {}: {e}", std::path::Path::new(&file).display()),
                            source: Some(Box::new(e)),
                        });
                    }
                }
            }
            Ok(())
        }
    }
}

/// A 64-bit advisory-lock key (and a MySQL lock name) for `namespace`'s migrations.
fn lock_key(namespace: &str) -> (i64, String) {
    let digest = Sha256::digest(format!("hellojohn-store:migrate:{namespace}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    (i64::from_be_bytes(bytes), format!("hj_migrate_{hex}"))
}

fn check_droppable(field: &str, name: &str) -> StoreResult<()> {
    check_namespace(field, name)?;
    // Names no purge may drop, whatever a configuration says.
    if crate::manager::is_reserved_namespace(name) {
        return Err(StoreError::invalid(
            field,
            format!("{name:?} is a system namespace and is never dropped"),
        ));
    }
    Ok(())
}

/// Splits a MySQL URL into the server URL (no database) and the database name.
fn split_mysql_dsn(dsn: &str) -> (String, Option<String>) {
    let Some(scheme_end) = dsn.find("://") else {
        return (dsn.to_string(), None);
    };
    let rest_start = scheme_end + 3;
    let query_start = dsn[rest_start..].find(['?', '#']).map(|i| rest_start + i).unwrap_or(dsn.len());
    // The authority ends at the first '/' after the last '@' (passwords are percent-encoded).
    let host_start =
        dsn[rest_start..query_start].rfind('@').map(|i| rest_start + i + 1).unwrap_or(rest_start);
    let Some(slash) = dsn[host_start..query_start].find('/').map(|i| host_start + i) else {
        return (dsn.to_string(), None);
    };
    let name = dsn[slash + 1..query_start].to_string();
    let server = format!("{}{}", &dsn[..slash], &dsn[query_start..]);
    (server, (!name.is_empty()).then_some(name))
}

/// The file of a SQLite DSN (`None` for an in-memory database).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn sqlite_path(dsn: &str) -> Option<std::path::PathBuf> {
    let rest = dsn.strip_prefix("sqlite://").or_else(|| dsn.strip_prefix("sqlite:"))?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    if path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_schema_or_database_is_never_a_tenants_namespace_but_public_is_a_schema() {
        for name in ["pg_catalog", "pg_toast", "information_schema", "mysql", "performance_schema", "sys"] {
            assert!(check_namespace("schema", name).is_err(), "{name}");
        }
        assert!(check_namespace("schema", "public").is_ok());
        assert!(check_namespace("schema", "acme").is_ok());
        assert!(check_droppable("namespace", "public").is_err(), "public is never dropped");
    }

    #[test]
    fn mysql_dsn_is_split_into_server_and_database() {
        assert_eq!(
            split_mysql_dsn("mysql://root:p%2Fw@127.0.0.1:3306/hj_acme?ssl-mode=disabled"),
            ("mysql://root:p%2Fw@127.0.0.1:3306?ssl-mode=disabled".to_string(), Some("hj_acme".to_string()))
        );
        assert_eq!(split_mysql_dsn("mysql://root@h"), ("mysql://root@h".to_string(), None));
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite:///tmp/a.db?mode=rwc"), Some("/tmp/a.db".into()));
        assert_eq!(sqlite_path("sqlite://./data/a.db"), Some("./data/a.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    /// A shared PostgreSQL pool's connections plan each statement once (generic plans), the
    /// same for every tenant, and a DSN's own `statement-cache-capacity` is kept.
    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn postgres_connections_use_generic_plans() {
        let url = std::env::var("HJ_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let cfg = ServerConfig {
            driver: "postgres".into(),
            dsn: url.clone(),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(5),
        };
        let server = open_server(SqlBackend::Postgres, &cfg).expect("open");
        let SqlPool::Postgres(pool) = &server.pool else { panic!("not a PostgreSQL pool") };
        let mode: String = sqlx::query_scalar("SHOW plan_cache_mode").fetch_one(pool).await.expect("show");
        assert_eq!(mode, "force_generic_plan");
        server.pool.close().await;
        let own = format!("{url}{}statement-cache-capacity=7", if url.contains('?') { '&' } else { '?' });
        let kept =
            many_tenant_statements(sqlx::postgres::PgConnectOptions::from_str(&own).expect("dsn"), &own);
        assert!(format!("{kept:?}").contains("statement_cache_capacity: 7"), "{kept:?}");
        let default =
            many_tenant_statements(sqlx::postgres::PgConnectOptions::from_str(&url).expect("dsn"), &url);
        assert!(
            format!("{default:?}").contains(&format!("statement_cache_capacity: {PG_STATEMENT_CACHE}")),
            "{default:?}"
        );
    }

    #[test]
    fn lock_keys_differ_per_namespace() {
        assert_ne!(lock_key("a").0, lock_key("b").0);
        assert!(lock_key("a").1.len() <= 64);
    }
}
