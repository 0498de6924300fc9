//! Opening one tenant's SQL namespace.
//!
//! - PostgreSQL: the schema named in `db.schema` (`CREATE SCHEMA IF NOT EXISTS` when
//!   migrating), made the connection's `search_path` through
//!   `ConnectOptions::set_schema_search_path`; without a schema, the DSN's default.
//! - MySQL/MariaDB: the database named in the DSN (`CREATE DATABASE IF NOT EXISTS` when
//!   migrating, through a connection to the server without a database).
//! - SQLite: the file named in the DSN (a file per tenant, created with `mode=rwc`), in WAL
//!   mode with a busy timeout.
//!
//! With `ConnectConfig::migrate`, pending migrations run under a lock held on a separate,
//! dedicated connection (`pg_advisory_lock` / `GET_LOCK`; a process-wide mutex on SQLite),
//! so that replicas starting together migrate once. Names are validated before they are
//! interpolated into SQL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait, is_valid_namespace};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, Statement};
use sha2::{Digest, Sha256};

use super::{SqlBackend, SqlContext};
use crate::error::{StoreError, StoreResult};
use crate::registry::ConnectConfig;

/// How long SQLite waits for a lock held by another connection before `SQLITE_BUSY`.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a replica waits for another one's migrations.
const MIGRATION_LOCK_TIMEOUT_SECS: u32 = 300;

fn check_namespace(field: &str, name: &str) -> StoreResult<()> {
    if is_valid_namespace(name) {
        Ok(())
    } else {
        Err(StoreError::invalid(field, format!("{name:?} is not a valid name (1-63 of a-z, 0-9, _ and -)")))
    }
}

/// Opens (and, when asked, creates and migrates) the tenant's namespace.
pub(crate) async fn open(backend: SqlBackend, cfg: &ConnectConfig) -> StoreResult<SqlContext> {
    let dsn = normalise_dsn(backend, cfg)?;
    let db = match backend {
        SqlBackend::Postgres => open_postgres(&dsn, cfg).await?,
        SqlBackend::MySql => open_mysql(&dsn, cfg).await?,
        SqlBackend::Sqlite => open_sqlite(&dsn, cfg).await?,
    };
    tracing::debug!(tenant = %cfg.tenant_slug, backend = backend.name(), dsn = %cfg.db.redacted_dsn(), "opened tenant database");
    Ok(SqlContext::new(db, cfg, backend))
}

/// Checks that the DSN belongs to the engine (`mariadb://` is accepted as `mysql://`).
fn normalise_dsn(backend: SqlBackend, cfg: &ConnectConfig) -> StoreResult<String> {
    let dsn = cfg.db.dsn.trim();
    let ok = match backend {
        SqlBackend::Postgres => dsn.starts_with("postgres://") || dsn.starts_with("postgresql://"),
        SqlBackend::MySql => dsn.starts_with("mysql://") || dsn.starts_with("mariadb://"),
        SqlBackend::Sqlite => dsn.starts_with("sqlite:"),
    };
    if !ok {
        return Err(StoreError::invalid(
            "dsn",
            format!("{} is not a {} connection string", cfg.db.redacted_dsn(), backend.name()),
        ));
    }
    Ok(match dsn.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => dsn.to_string(),
    })
}

fn pool_options(dsn: &str, cfg: &ConnectConfig) -> ConnectOptions {
    let mut opts = ConnectOptions::new(dsn.to_string());
    opts.max_connections(cfg.max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(cfg.acquire_timeout)
        .connect_timeout(cfg.acquire_timeout)
        .idle_timeout(Duration::from_secs(600))
        .sqlx_logging(false);
    opts
}

/// A single-connection pool for locks and namespace DDL.
fn admin_options(dsn: &str, cfg: &ConnectConfig) -> ConnectOptions {
    let mut opts = ConnectOptions::new(dsn.to_string());
    opts.max_connections(1)
        .min_connections(1)
        .acquire_timeout(cfg.acquire_timeout)
        .connect_timeout(cfg.acquire_timeout)
        .sqlx_logging(false);
    opts
}

async fn connect_pool(
    backend: SqlBackend,
    opts: ConnectOptions,
    cfg: &ConnectConfig,
) -> StoreResult<DatabaseConnection> {
    Database::connect(opts).await.map_err(|e| connect_error(backend, cfg, e))
}

/// A failure to open a pool: a bad configuration is `InvalidInput`, anything else means the
/// server cannot be reached (`Unavailable`). The DSN is only ever shown redacted.
fn connect_error(backend: SqlBackend, cfg: &ConnectConfig, err: DbErr) -> StoreError {
    use sea_orm::RuntimeErr;
    if let DbErr::Conn(RuntimeErr::SqlxError(e)) = &err
        && let sea_orm::sqlx::Error::Configuration(msg) = &**e
    {
        return StoreError::invalid("dsn", format!("{}: {msg}", cfg.db.redacted_dsn()));
    }
    let message = match &err {
        // sea-orm quotes the whole connection string in this one.
        DbErr::Conn(RuntimeErr::Internal(_)) => "cannot open a connection".to_string(),
        other => other.to_string(),
    };
    StoreError::Unavailable {
        backend: backend.name().to_string(),
        message: format!("{}: {message}", cfg.db.redacted_dsn()),
        source: None,
    }
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

/// A 64-bit advisory-lock key (and a MySQL lock name) for `namespace`'s migrations.
fn lock_key(namespace: &str) -> (i64, String) {
    let digest = Sha256::digest(format!("hellojohn-store:migrate:{namespace}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    (i64::from_be_bytes(bytes), format!("hj_migrate_{hex}"))
}

async fn run_migrations(backend: SqlBackend, db: &DatabaseConnection) -> StoreResult<()> {
    Migrator::up(db, None).await.map_err(|e| ddl_error(backend, "applying migrations", e))
}

async fn open_postgres(dsn: &str, cfg: &ConnectConfig) -> StoreResult<DatabaseConnection> {
    let backend = SqlBackend::Postgres;
    let schema = cfg.db.schema.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(schema) = schema {
        check_namespace("schema", schema)?;
    }
    let mut opts = pool_options(dsn, cfg);
    if let Some(schema) = schema {
        opts.set_schema_search_path(schema.to_string());
    }
    if !cfg.migrate {
        return connect_pool(backend, opts, cfg).await;
    }

    let admin = connect_pool(backend, admin_options(dsn, cfg), cfg).await?;
    let (key, _) = lock_key(schema.unwrap_or("public"));
    let result = async {
        // Wait for another replica's migrations at most this long.
        admin
            .execute_unprepared(&format!("SET lock_timeout = '{MIGRATION_LOCK_TIMEOUT_SECS}s'"))
            .await
            .map_err(|e| ddl_error(backend, "setting the lock timeout", e))?;
        admin
            .execute_raw(Statement::from_sql_and_values(
                admin.get_database_backend(),
                "SELECT pg_advisory_lock($1)",
                [key.into()],
            ))
            .await
            .map_err(|e| ddl_error(backend, "taking the migration lock", e))?;
        if let Some(schema) = schema {
            admin
                .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await
                .map_err(|e| ddl_error(backend, "creating the schema", e))?;
        }
        let db = connect_pool(backend, opts, cfg).await?;
        run_migrations(backend, &db).await?;
        Ok(db)
    }
    .await;
    // Closing the session releases the lock too; unlock first to be prompt.
    let _ = admin
        .execute_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT pg_advisory_unlock($1)",
            [key.into()],
        ))
        .await;
    let _ = admin.close().await;
    result
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

/// Drops the namespace `cfg` names (see `Adapter::drop_namespace`).
pub(crate) async fn drop_namespace(backend: SqlBackend, cfg: &ConnectConfig) -> StoreResult<()> {
    let dsn = normalise_dsn(backend, cfg)?;
    match backend {
        SqlBackend::Postgres => {
            let Some(schema) = cfg.db.schema.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
                return Err(StoreError::NotSupported {
                    operation: "drop a PostgreSQL namespace that is a database (no schema)".into(),
                    backend: backend.name().into(),
                });
            };
            check_droppable("schema", schema)?;
            let admin = connect_pool(backend, admin_options(&dsn, cfg), cfg).await?;
            let result = admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await
                .map_err(|e| ddl_error(backend, "dropping the schema", e));
            let _ = admin.close().await;
            result.map(|_| ())
        }
        SqlBackend::MySql => {
            let (server, database) = split_mysql_dsn(&dsn);
            let Some(database) = database else {
                return Err(StoreError::invalid(
                    "dsn",
                    format!("{} names no database", cfg.db.redacted_dsn()),
                ));
            };
            check_droppable("database", &database)?;
            let admin = connect_pool(backend, admin_options(&server, cfg), cfg).await?;
            let result = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{database}`"))
                .await
                .map_err(|e| ddl_error(backend, "dropping the database", e));
            let _ = admin.close().await;
            result.map(|_| ())
        }
        SqlBackend::Sqlite => {
            let Some(path) = sqlite_path(&dsn) else {
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

async fn open_mysql(dsn: &str, cfg: &ConnectConfig) -> StoreResult<DatabaseConnection> {
    let backend = SqlBackend::MySql;
    let (server, database) = split_mysql_dsn(dsn);
    let Some(database) = database else {
        return Err(StoreError::invalid("dsn", format!("{} names no database", cfg.db.redacted_dsn())));
    };
    check_namespace("database", &database)?;
    let opts = pool_options(dsn, cfg);
    if !cfg.migrate {
        return connect_pool(backend, opts, cfg).await;
    }

    let admin = connect_pool(backend, admin_options(&server, cfg), cfg).await?;
    let (_, lock_name) = lock_key(&database);
    let result = async {
        let row = admin
            .query_one_raw(Statement::from_sql_and_values(
                admin.get_database_backend(),
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
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            ))
            .await
            .map_err(|e| ddl_error(backend, "creating the database", e))?;
        let db = connect_pool(backend, opts, cfg).await?;
        run_migrations(backend, &db).await?;
        Ok(db)
    }
    .await;
    let _ = admin
        .execute_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT RELEASE_LOCK(?)",
            [lock_name.into()],
        ))
        .await;
    let _ = admin.close().await;
    result
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

/// Serialises SQLite opens that migrate, in this process (other processes are held off by
/// SQLite's own file locks and the busy timeout).
#[cfg(feature = "sqlite")]
static SQLITE_MIGRATIONS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_dsn: &str, _cfg: &ConnectConfig) -> StoreResult<DatabaseConnection> {
    Err(StoreError::NotSupported { operation: "connect".into(), backend: "sqlite (feature off)".into() })
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(dsn: &str, cfg: &ConnectConfig) -> StoreResult<DatabaseConnection> {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let backend = SqlBackend::Sqlite;
    let path = sqlite_path(dsn);
    let mut opts = pool_options(dsn, cfg);
    match &path {
        Some(path) => {
            if cfg.migrate
                && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::unavailable(backend.name(), format!("creating {}: {e}", parent.display()))
                })?;
            }
            opts.map_sqlx_sqlite_opts(|o| {
                o.busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
            });
        }
        None => {
            // Every connection to `:memory:` is its own database: keep exactly one, forever.
            opts.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
            opts.map_sqlx_sqlite_opts(|o| o.busy_timeout(SQLITE_BUSY_TIMEOUT).foreign_keys(true));
        }
    }
    // Opening a new file switches it to WAL, which SQLite does not retry on a busy file:
    // replicas in this process opening one new file at once would get "database is locked".
    // So opening and migrating run under the same in-process lock.
    let _guard = if cfg.migrate { Some(SQLITE_MIGRATIONS.lock().await) } else { None };
    let db = connect_pool(backend, opts, cfg).await?;
    if cfg.migrate {
        run_migrations(backend, &db).await?;
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn lock_keys_differ_per_namespace() {
        assert_ne!(lock_key("a").0, lock_key("b").0);
        assert!(lock_key("a").1.len() <= 64);
    }
}
