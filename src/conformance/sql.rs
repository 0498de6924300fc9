//! Fixtures of the SQL backends for the conformance and isolation tests: a fresh, empty
//! namespace per case on the test servers (a PostgreSQL schema, a MySQL database, a SQLite
//! file), dropped after the case.
//!
//! Servers come from `HJ_TEST_POSTGRES_URL` (default [`DEFAULT_POSTGRES_URL`]) and
//! `HJ_TEST_MYSQL_URL` (default [`DEFAULT_MYSQL_URL`]). An unreachable server is a failure:
//! the fixture panics, naming the URL and how to start the server.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use super::Fixture;
pub use crate::mode::with_database;
use crate::mode::{DbConfig, redact_dsn};
use crate::registry::{AdapterConnection, ConnectConfig, Registry};

/// PostgreSQL test server used when `HJ_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// MySQL/MariaDB test server used when `HJ_TEST_MYSQL_URL` is not set.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

const START_POSTGRES: &str = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start";
const START_MYSQL: &str = "install -d -o mysql -g mysql /run/mysqld; \
     start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd";

/// The PostgreSQL test server URL.
pub fn postgres_url() -> String {
    std::env::var("HJ_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.into())
}

/// The MySQL test server URL.
pub fn mysql_url() -> String {
    std::env::var("HJ_TEST_MYSQL_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_MYSQL_URL.into())
}

/// A fresh namespace name: `hj_t_<uuid v4, simple>` (valid as a schema, a database or a
/// file name).
pub fn unique_namespace() -> String {
    format!("hj_t_{}", Uuid::new_v4().simple())
}

pub(crate) fn connect_config(slug: &str, db: DbConfig) -> ConnectConfig {
    let mut cfg = ConnectConfig::new(slug, crate::model::new_id(), db);
    cfg.max_connections = 8;
    cfg.acquire_timeout = std::time::Duration::from_secs(20);
    cfg
}

async fn open(cfg: &ConnectConfig, url: &str, engine: &str, start: &str) -> Arc<dyn AdapterConnection> {
    match Registry::with_builtins().connect(cfg).await {
        Ok(conn) => conn,
        Err(e) if e.is_retryable() => panic!(
            "the {engine} test server at {} is unreachable ({e}); start it with `{start}` \
             or point the tests elsewhere (HJ_TEST_POSTGRES_URL / HJ_TEST_MYSQL_URL)",
            redact_dsn(url)
        ),
        Err(e) => panic!("opening a fresh {engine} namespace at {} failed: {e}", redact_dsn(url)),
    }
}

/// Runs `sql` on the server at `url` (cleanup of a namespace). Failures are reported on
/// stderr, not raised: the case itself has already passed or failed.
pub async fn execute_on(url: &str, sql: &str) {
    match Database::connect(url).await {
        Ok(db) => {
            if let Err(e) = db.execute_unprepared(sql).await {
                eprintln!("cleanup `{sql}` on {} failed: {e}", redact_dsn(url));
            }
            let _ = db.close().await;
        }
        Err(e) => eprintln!("cleanup: cannot connect to {}: {e}", redact_dsn(url)),
    }
}

/// Opens the `postgres` adapter on a fresh schema of the PostgreSQL test server, for a
/// tenant called `slug`. Returns the connection and the schema name.
pub async fn postgres_connection(slug: &str) -> (Arc<dyn AdapterConnection>, String) {
    let url = postgres_url();
    let schema = unique_namespace();
    let cfg = connect_config(slug, DbConfig::new("postgres", url.clone()).with_schema(schema.clone()));
    (open(&cfg, &url, "PostgreSQL", START_POSTGRES).await, schema)
}

/// Drops a schema made by [`postgres_connection`].
pub async fn drop_postgres_schema(schema: &str) {
    execute_on(&postgres_url(), &format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await;
}

/// Opens the `mysql` adapter on a fresh database of the MySQL test server, for a tenant
/// called `slug`. Returns the connection and the database name.
pub async fn mysql_connection(slug: &str) -> (Arc<dyn AdapterConnection>, String) {
    mysql_connection_with(slug, MySqlStatements::Text).await
}

/// How the store sends statements to MySQL/MariaDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MySqlStatements {
    /// The default: values written in, the text protocol.
    Text,
    /// Prepared and cached per connection (`statement-cache-capacity=100` on the DSN).
    Prepared,
}

impl MySqlStatements {
    /// `dsn` as this mode wants it.
    pub fn dsn(self, dsn: String) -> String {
        match self {
            MySqlStatements::Text => dsn,
            MySqlStatements::Prepared => {
                let sep = if dsn.contains('?') { '&' } else { '?' };
                format!("{dsn}{sep}statement-cache-capacity=100")
            }
        }
    }
}

/// [`mysql_connection`], statements sent as `mode` says.
pub async fn mysql_connection_with(
    slug: &str,
    mode: MySqlStatements,
) -> (Arc<dyn AdapterConnection>, String) {
    let url = mysql_url();
    let database = unique_namespace();
    let cfg = connect_config(slug, DbConfig::new("mysql", mode.dsn(with_database(&url, &database))));
    (open(&cfg, &url, "MySQL/MariaDB", START_MYSQL).await, database)
}

/// Drops a database made by [`mysql_connection`].
pub async fn drop_mysql_database(database: &str) {
    execute_on(&mysql_url(), &format!("DROP DATABASE IF EXISTS `{database}`")).await;
}

/// Opens the `sqlite` adapter on the file `path` (created), for a tenant called `slug`.
pub async fn sqlite_connection(slug: &str, path: &std::path::Path) -> Arc<dyn AdapterConnection> {
    let dsn = format!("sqlite://{}?mode=rwc", path.display());
    let cfg = connect_config(slug, DbConfig::new("sqlite", dsn.clone()));
    match Registry::with_builtins().connect(&cfg).await {
        Ok(conn) => conn,
        Err(e) => panic!("opening SQLite at {dsn} failed: {e}"),
    }
}

/// A conformance fixture on a fresh PostgreSQL schema, dropped after the case.
pub async fn postgres_fixture() -> Fixture {
    let (conn, schema) = postgres_connection("conformance").await;
    Fixture::with_cleanup(conn, async move { drop_postgres_schema(&schema).await })
}

/// A conformance fixture on a fresh MySQL database, dropped after the case.
pub async fn mysql_fixture() -> Fixture {
    let (conn, database) = mysql_connection("conformance").await;
    Fixture::with_cleanup(conn, async move { drop_mysql_database(&database).await })
}

/// [`mysql_fixture`] with prepared statements ([`MySqlStatements::Prepared`]).
pub async fn mysql_prepared_fixture() -> Fixture {
    let (conn, database) = mysql_connection_with("conformance", MySqlStatements::Prepared).await;
    Fixture::with_cleanup(conn, async move { drop_mysql_database(&database).await })
}

/// The isolation fixture on SQLite: one file per tenant in a temporary folder.
pub async fn sqlite_isolation_fixture() -> super::isolation::IsolationFixture {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("temporary folder for SQLite files: {e}"),
    };
    let template =
        DbConfig::new("sqlite", format!("sqlite://{}/{{tenant}}.db?mode=rwc", dir.path().display()));
    super::isolation::two_tenants(template, async move { drop(dir) }).await
}

/// The isolation fixture on PostgreSQL: a schema per tenant (`hj_i<run>_{tenant}`).
pub async fn postgres_isolation_fixture() -> super::isolation::IsolationFixture {
    let run = &Uuid::new_v4().simple().to_string()[..12];
    let template = DbConfig::new("postgres", postgres_url()).with_schema(format!("hj_i{run}_{{tenant}}"));
    let schemas = [format!("hj_i{run}_acme"), format!("hj_i{run}_globex")];
    super::isolation::two_tenants(template, async move {
        for schema in schemas {
            drop_postgres_schema(&schema).await;
        }
    })
    .await
}

/// The isolation fixture on MySQL/MariaDB: a database per tenant (`hj_i<run>_{tenant}`).
pub async fn mysql_isolation_fixture() -> super::isolation::IsolationFixture {
    mysql_isolation_fixture_with(MySqlStatements::Text).await
}

/// [`mysql_isolation_fixture`] with prepared statements ([`MySqlStatements::Prepared`]).
pub async fn mysql_prepared_isolation_fixture() -> super::isolation::IsolationFixture {
    mysql_isolation_fixture_with(MySqlStatements::Prepared).await
}

async fn mysql_isolation_fixture_with(mode: MySqlStatements) -> super::isolation::IsolationFixture {
    let run = &Uuid::new_v4().simple().to_string()[..12];
    let template =
        DbConfig::new("mysql", mode.dsn(with_database(&mysql_url(), &format!("hj_i{run}_{{tenant}}"))));
    let databases = [format!("hj_i{run}_acme"), format!("hj_i{run}_globex")];
    super::isolation::two_tenants(template, async move {
        for database in databases {
            drop_mysql_database(&database).await;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(with_database("mysql://root@127.0.0.1:3306/test", "x"), "mysql://root@127.0.0.1:3306/x");
        assert_eq!(with_database("mysql://root@h:1/test?a=b", "x"), "mysql://root@h:1/x?a=b");
        assert_eq!(with_database("mysql://root@h:1", "x"), "mysql://root@h:1/x");
    }
}
