//! Fixtures of PostgreSQL through PgBouncer in transaction pooling mode, for the conformance,
//! isolation and lifecycle suites: the same cases as on PostgreSQL directly, with the store's
//! DSN pointing at PgBouncer (`pgbouncer=true`: unnamed statements only, no session state).
//!
//! PgBouncer comes from `HJ_TEST_PGBOUNCER_URL` (default [`DEFAULT_PGBOUNCER_URL`]), in front of
//! the PostgreSQL test server of [`super::sql::postgres_url`]; `scripts/test-services.sh`
//! installs and starts it (transaction mode, 127.0.0.1:6432). Schemas are created through
//! PgBouncer by the store and dropped after the case through the direct PostgreSQL URL, so that
//! a store that misbehaves under PgBouncer cannot also leave its schemas behind. An unreachable
//! PgBouncer is a failure: the fixture panics, naming the URL and how to start it.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::Fixture;
use super::isolation::IsolationFixture;
use super::lifecycle::LifecycleFixture;
use super::sql::{drop_postgres_schema, execute_on, postgres_url, unique_namespace};
use crate::mode::{DbConfig, redact_dsn};
use crate::registry::{AdapterConnection, Registry};

/// PgBouncer (transaction pooling, in front of the PostgreSQL test server) used when
/// `HJ_TEST_PGBOUNCER_URL` is not set.
pub const DEFAULT_PGBOUNCER_URL: &str = "postgres://postgres@127.0.0.1:6432/test?pgbouncer=true";

const START_PGBOUNCER: &str = "scripts/test-services.sh (as root it installs Debian's pgbouncer and \
     runs it in transaction mode on 127.0.0.1:6432, in front of 127.0.0.1:5432)";

/// The PgBouncer test URL.
pub fn pgbouncer_url() -> String {
    std::env::var("HJ_TEST_PGBOUNCER_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PGBOUNCER_URL.into())
}

/// Whether `dsn` says it goes through PgBouncer in transaction mode (`pgbouncer=true` in its
/// query string).
pub fn through_pgbouncer(dsn: &str) -> bool {
    url::Url::parse(dsn)
        .map(|u| u.query_pairs().any(|(k, v)| k == "pgbouncer" && v.eq_ignore_ascii_case("true")))
        .unwrap_or(false)
}

/// Panics with how to start PgBouncer when nothing answers at `url`'s host and port: the
/// store's own error (a pool timeout) would not say that PgBouncer is what is missing.
async fn require_pgbouncer(url: &str) {
    let parsed = url::Url::parse(url)
        .unwrap_or_else(|e| panic!("HJ_TEST_PGBOUNCER_URL {} is not a URL: {e}", redact_dsn(url)));
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port().unwrap_or(6432);
    let refused = match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => return,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 5 s".to_string(),
    };
    panic!(
        "PgBouncer at {} is unreachable ({refused}); start it with {START_PGBOUNCER}, \
         or point the tests elsewhere (HJ_TEST_PGBOUNCER_URL)",
        redact_dsn(url)
    );
}

/// Opens the `postgres` adapter through PgBouncer on a fresh schema, for a tenant called
/// `slug`. Returns the connection and the schema name.
pub async fn pgbouncer_connection(slug: &str) -> (Arc<dyn AdapterConnection>, String) {
    let url = pgbouncer_url();
    require_pgbouncer(&url).await;
    let schema = unique_namespace();
    let cfg =
        super::sql::connect_config(slug, DbConfig::new("postgres", url.clone()).with_schema(schema.clone()));
    match Registry::with_builtins().connect(&cfg).await {
        Ok(conn) => (conn, schema),
        Err(e) => {
            // The store may have created the schema before it failed.
            drop_postgres_schema(&schema).await;
            panic!("opening a fresh PostgreSQL schema through PgBouncer at {} failed: {e}", redact_dsn(&url))
        }
    }
}

/// A conformance fixture on a fresh schema reached through PgBouncer, dropped after the case
/// through the direct PostgreSQL URL.
pub async fn pgbouncer_fixture() -> Fixture {
    let (conn, schema) = pgbouncer_connection("conformance").await;
    Fixture::with_cleanup(conn, async move { drop_postgres_schema(&schema).await })
}

/// The isolation fixture through PgBouncer: a schema per tenant (`hj_b<run>_{tenant}`),
/// dropped through the direct PostgreSQL URL.
pub async fn pgbouncer_isolation_fixture() -> IsolationFixture {
    let url = pgbouncer_url();
    require_pgbouncer(&url).await;
    let run = &Uuid::new_v4().simple().to_string()[..12];
    let template = DbConfig::new("postgres", url).with_schema(format!("hj_b{run}_{{tenant}}"));
    let schemas = [format!("hj_b{run}_acme"), format!("hj_b{run}_globex")];
    let drop_all = move || async move {
        for schema in schemas {
            drop_postgres_schema(&schema).await;
        }
    };
    // Built in a task of its own so that a store that fails half-way (one tenant's schema
    // made, the other's open refused) still has both schemas dropped before the panic goes on.
    let cleanup = drop_all.clone();
    match tokio::spawn(super::isolation::two_tenants(template, cleanup())).await {
        Ok(fixture) => fixture,
        Err(e) => {
            drop_all().await;
            match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("building the PgBouncer isolation fixture: {e}"),
            }
        }
    }
}

/// The lifecycle fixture through PgBouncer: a schema per tenant (`hj_bl<tag>_{tenant}`), FS
/// control plane. After the fixture's own teardown (which drops through the store, so through
/// PgBouncer), every schema of the case's prefix is dropped through the direct PostgreSQL URL.
pub async fn pgbouncer_lifecycle_fixture() -> LifecycleFixture {
    let url = pgbouncer_url();
    require_pgbouncer(&url).await;
    let prefix = format!("hj_bl{}_", super::lifecycle::run_tag());
    let template = DbConfig::new("postgres", url).with_schema(format!("{prefix}{{tenant}}"));
    LifecycleFixture::on_fs(template)
        .await
        .with_cleanup(async move { drop_schemas_with_prefix(&prefix).await })
}

/// Drops, through the direct PostgreSQL URL, every schema whose name starts with `prefix`
/// (letters, digits and `_` only).
async fn drop_schemas_with_prefix(prefix: &str) {
    if !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        eprintln!("cleanup: schema prefix {prefix:?} is not a plain identifier; nothing dropped");
        return;
    }
    let pattern = prefix.replace('_', "\\_");
    let sql = format!(
        "DO $$ DECLARE s text; BEGIN \
           FOR s IN SELECT schema_name FROM information_schema.schemata \
                    WHERE schema_name LIKE '{pattern}%' LOOP \
             EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', s); \
           END LOOP; END $$"
    );
    execute_on(&postgres_url(), &sql).await;
}

/// Whether `schema` exists, asked through `dsn` with the simple query protocol only (one
/// message, no prepared statement), which is the one way any client gets a reliable answer
/// through PgBouncer in transaction mode: an extended-protocol query outside a transaction
/// may have its Parse and its Bind served by two different server connections.
pub(crate) async fn schema_exists_simple_protocol(dsn: &str, schema: &str) -> bool {
    use sea_orm::{ConnectionTrait, Database};
    let literal = schema.replace('\'', "''");
    let sql = format!(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.schemata \
           WHERE schema_name = '{literal}') THEN RAISE EXCEPTION 'hj: schema absent'; END IF; END $$"
    );
    let db = Database::connect(dsn)
        .await
        .unwrap_or_else(|e| panic!("connecting to {} to look for {schema}: {e}", redact_dsn(dsn)));
    let result = db.execute_unprepared(&sql).await;
    let _ = db.close().await;
    match result {
        Ok(_) => true,
        Err(e) if e.to_string().contains("hj: schema absent") => false,
        Err(e) => panic!("looking for schema {schema} through {}: {e}", redact_dsn(dsn)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbouncer_dsns_are_recognised() {
        assert!(through_pgbouncer(DEFAULT_PGBOUNCER_URL));
        assert!(through_pgbouncer("postgres://u@h:6432/db?sslmode=disable&pgbouncer=TRUE"));
        assert!(!through_pgbouncer("postgres://u@h:6432/db?pgbouncer=false"));
        assert!(!through_pgbouncer("postgres://postgres@127.0.0.1:5432/test"));
        assert!(!through_pgbouncer("not a url"));
    }
}
