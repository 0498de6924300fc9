//! Opening SQL namespaces: drivers and aliases, name and DSN validation, unreachable servers,
//! closed pools, and replicas that connect (and migrate) the same new namespace at once.
#![cfg(all(feature = "sqlite", feature = "postgres", feature = "mysql"))]

use std::sync::Arc;

use hellojohn_store::conformance::sql::{
    drop_mysql_database, drop_postgres_schema, mysql_url, postgres_url, unique_namespace, with_database,
};
use hellojohn_store::{ConnectConfig, DbConfig, Registry, StoreError};
use sea_orm::{ConnectionTrait, Database, Statement};

/// Number of migrations in `migration/` (one `seaql_migrations` row each).
fn migration_count() -> usize {
    use migration::MigratorTrait;
    migration::Migrator::migrations().len()
}

fn config(db: DbConfig) -> ConnectConfig {
    let mut cfg = ConnectConfig::new("acme", hellojohn_store::model::new_id(), db);
    cfg.acquire_timeout = std::time::Duration::from_secs(20);
    cfg
}

async fn count_rows(url: &str, sql: &str) -> i64 {
    let db = Database::connect(url).await.expect("connect for the check");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string()))
        .await
        .expect("query")
        .expect("one row");
    let n: i64 = row.try_get_by_index(0).expect("count");
    let _ = db.close().await;
    n
}

#[test]
fn builtin_registry_knows_every_sql_driver_and_alias() {
    let drivers = Registry::with_builtins().drivers();
    for name in ["mariadb", "mysql", "postgres", "postgresql", "sqlite"] {
        assert!(drivers.iter().any(|d| d == name), "{name} missing from {drivers:?}");
    }
}

#[tokio::test]
async fn invalid_schema_database_or_dsn_is_invalid_input() {
    let registry = Registry::with_builtins();
    let cases = [
        DbConfig::new("postgres", postgres_url()).with_schema("bad\"; drop schema public; --"),
        DbConfig::new("postgres", postgres_url()).with_schema("UPPER"),
        DbConfig::new("mysql", with_database(&mysql_url(), "bad`name")),
        DbConfig::new("mysql", "mysql://root@127.0.0.1:3306"),
        DbConfig::new("postgres", "mysql://root@127.0.0.1:3306/test"),
        DbConfig::new("sqlite", "postgres://postgres@127.0.0.1/test"),
    ];
    for db in cases {
        let shown = format!("{db:?}");
        match registry.connect(&config(db)).await {
            Err(StoreError::InvalidInput { .. }) => {}
            Err(other) => panic!("{shown}: expected InvalidInput, got {other}"),
            Ok(_) => panic!("{shown}: expected InvalidInput, got a connection"),
        }
    }
}

#[tokio::test]
async fn unreachable_server_is_unavailable_and_hides_the_password() {
    let registry = Registry::with_builtins();
    for db in [
        DbConfig::new("postgres", "postgres://postgres:s3cret@127.0.0.1:1/test").with_schema("hj_x"),
        DbConfig::new("mysql", "mysql://root:s3cret@127.0.0.1:1/hj_x"),
    ] {
        let mut cfg = config(db);
        cfg.acquire_timeout = std::time::Duration::from_secs(2);
        let started = std::time::Instant::now();
        let result = registry.connect(&cfg).await;
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "gave up after {:?}",
            started.elapsed()
        );
        match result {
            Err(e @ StoreError::Unavailable { .. }) => {
                assert!(e.is_retryable());
                assert!(!e.to_string().contains("s3cret"), "password leaked: {e}");
            }
            Err(other) => panic!("expected Unavailable, got {other}"),
            Ok(_) => panic!("expected Unavailable, got a connection"),
        }
    }
}

#[tokio::test]
async fn calls_on_a_closed_connection_are_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = hellojohn_store::conformance::sql::sqlite_connection("acme", &dir.path().join("t.db")).await;
    conn.ping().await.expect("ping");
    conn.close().await.expect("close");
    let users = conn.users().expect("users");
    match users.count(None).await {
        Err(e) => assert!(e.is_retryable(), "expected Unavailable, got {e}"),
        Ok(n) => panic!("expected Unavailable after close, got {n}"),
    }
    assert!(conn.ping().await.is_err());
}

async fn connect_many(db: DbConfig, replicas: usize) -> Vec<Arc<dyn hellojohn_store::AdapterConnection>> {
    let mut tasks = Vec::new();
    for _ in 0..replicas {
        let cfg = config(db.clone());
        tasks.push(tokio::spawn(async move { Registry::with_builtins().connect(&cfg).await }));
    }
    let mut conns = Vec::new();
    for task in tasks {
        conns.push(task.await.expect("task").expect("every replica connects"));
    }
    conns
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_opening_a_new_schema_at_once_migrate_it_once() {
    let schema = unique_namespace();
    let conns = connect_many(DbConfig::new("postgres", postgres_url()).with_schema(schema.clone()), 6).await;
    let applied =
        count_rows(&postgres_url(), &format!("SELECT COUNT(*) FROM \"{schema}\".seaql_migrations")).await;
    assert_eq!(applied as usize, migration_count());
    let public = count_rows(
        &postgres_url(),
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'",
    )
    .await;
    assert_eq!(public, 0, "nothing may be created outside the tenant's schema");
    conns[0].users().expect("users").count(None).await.expect("tables are usable");
    for c in &conns {
        c.close().await.expect("close");
    }
    drop_postgres_schema(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_replicas_opening_a_new_database_at_once_migrate_it_once() {
    let database = unique_namespace();
    let conns = connect_many(DbConfig::new("mariadb", with_database(&mysql_url(), &database)), 6).await;
    let applied =
        count_rows(&mysql_url(), &format!("SELECT COUNT(*) FROM `{database}`.seaql_migrations")).await;
    assert_eq!(applied as usize, migration_count());
    conns[0].users().expect("users").count(None).await.expect("tables are usable");
    for c in &conns {
        c.close().await.expect("close");
    }
    drop_mysql_database(&database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_replicas_opening_a_new_file_at_once_migrate_it_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested").join("acme.db");
    let dsn = format!("sqlite://{}?mode=rwc", path.display());
    let conns = connect_many(DbConfig::new("sqlite", dsn.clone()), 6).await;
    assert_eq!(count_rows(&dsn, "SELECT COUNT(*) FROM seaql_migrations").await as usize, migration_count());
    conns[0].users().expect("users").count(None).await.expect("tables are usable");
    for c in &conns {
        c.close().await.expect("close");
    }
}
