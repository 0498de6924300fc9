//! What the MongoDB adapter promises beyond the conformance suite: driver names, DSN
//! checks, where tenants are located, one server's pool shared by its tenants (opening and
//! binding do no I/O, closing a tenant or the pool, pool figures), dropping databases,
//! `Unavailable` for a server that is not there, closed connections, the versioned index
//! migrations (also under concurrent first opens), the storage encodings, and two tenants
//! through the `Manager` on one server. Server: `HJ_TEST_MONGO_URL` (default
//! `mongodb://127.0.0.1:27017/?directConnection=true`, see `scripts/mongo-service.sh`).

#![cfg(feature = "mongo")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::{CreateUserInput, Tenant};
use hellojohn_store::registry::{ServerPool, TenantRef};
use hellojohn_store::{AdapterConnection, ConnectConfig, DbConfig, Registry, StoreError, StoreResult};
use mongodb::bson::{Document, doc};

use crate::support::{Proxy, mongo_url};
use hellojohn_store::mode::with_database;

fn fresh_name() -> String {
    format!("hj_t_{}", uuid::Uuid::new_v4().simple())
}

fn config(dsn: String) -> ConnectConfig {
    let mut cfg = ConnectConfig::new("adapter-test", uuid::Uuid::now_v7(), DbConfig::new("mongo", dsn));
    cfg.acquire_timeout = Duration::from_secs(10);
    cfg
}

async fn open(database: &str) -> StoreResult<Arc<dyn AdapterConnection>> {
    Registry::with_builtins().connect(&config(with_database(&mongo_url(), database))).await
}

async fn raw_db(database: &str) -> mongodb::Database {
    let client = mongodb::Client::with_uri_str(mongo_url()).await.unwrap_or_else(|e| {
        panic!(
            "the MongoDB test server at {} is unreachable ({e}); run scripts/mongo-service.sh",
            mongo_url()
        )
    });
    client.database(database)
}

async fn drop_db(database: &str) {
    let _ = raw_db(database).await.drop().await;
}

#[test]
fn the_adapter_answers_to_mongo_and_mongodb() {
    let registry = Registry::with_builtins();
    for name in ["mongo", "mongodb", "MongoDB"] {
        assert_eq!(registry.get(name).expect(name).name(), "mongo");
    }
}

#[tokio::test]
async fn dsns_without_a_valid_database_are_invalid_input() {
    for dsn in [
        "mongodb://127.0.0.1:27017/?directConnection=true",
        "mongodb://127.0.0.1:27017/hj_{tenant}",
        "mongodb://127.0.0.1:27017/a.b",
        "postgres://127.0.0.1/hj_a",
    ] {
        match Registry::with_builtins().connect(&config(dsn.to_string())).await {
            Err(StoreError::InvalidInput { .. }) => {}
            other => panic!("{dsn}: expected InvalidInput, got {:?}", other.map(|c| c.name().to_string())),
        }
    }
}

#[tokio::test]
async fn a_schema_is_refused_rather_than_ignored() {
    let mut cfg = config(with_database(&mongo_url(), "hj_shared"));
    cfg.db.schema = Some("hj_acme".into());
    match Registry::with_builtins().connect(&cfg).await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "schema"),
        other => panic!("expected InvalidInput on schema, got {:?}", other.map(|c| c.name().to_string())),
    }
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable() {
    let mut cfg = config("mongodb://127.0.0.1:1/hj_nowhere?directConnection=true".into());
    cfg.acquire_timeout = Duration::from_millis(300);
    match Registry::with_builtins().connect(&cfg).await {
        Err(e) => assert!(e.is_retryable(), "expected Unavailable, got {e:?}"),
        Ok(_) => panic!("connected to a closed port"),
    }
}

fn tenant(slug: &str) -> TenantRef {
    TenantRef { slug: slug.into(), id: uuid::Uuid::now_v7() }
}

/// The pool of the test server, through `open_server` as the manager opens it.
async fn server_pool(max_connections: u32) -> Arc<dyn ServerPool> {
    let registry = Registry::with_builtins();
    let location =
        registry.locate(&DbConfig::new("mongo", with_database(&mongo_url(), "hj_any"))).expect("locate");
    let mut cfg = config(with_database(&mongo_url(), "hj_any"));
    cfg.max_connections = max_connections;
    registry.open_server(&cfg.server(&location)).await.expect("open server")
}

#[test]
fn tenants_of_one_server_locate_on_one_server_and_their_own_databases() {
    let registry = Registry::with_builtins();
    let a = registry.locate(&DbConfig::new("mongo", with_database(&mongo_url(), "hj_a"))).expect("a");
    let b = registry.locate(&DbConfig::new("mongodb", with_database(&mongo_url(), "hj_b"))).expect("b");
    assert_eq!(a.server, b.server);
    assert_eq!(a.namespace.as_deref(), Some("hj_a"));
    assert_eq!(b.namespace.as_deref(), Some("hj_b"));
    assert!(!a.server.contains("hj_a"), "the server DSN keeps no database");
    let mut with_schema = DbConfig::new("mongo", with_database(&mongo_url(), "hj_a"));
    with_schema.schema = Some("s".into());
    assert!(matches!(registry.locate(&with_schema), Err(StoreError::InvalidInput { .. })));
}

#[tokio::test]
async fn opening_a_server_and_binding_tenants_do_no_io() {
    let registry = Registry::with_builtins();
    let mut cfg = config("mongodb://127.0.0.1:1/hj_nowhere?directConnection=true".into());
    cfg.acquire_timeout = Duration::from_millis(300);
    let location = registry.locate(&cfg.db).expect("locate");
    let pool = registry.open_server(&cfg.server(&location)).await.expect("no connection is made to open");
    let conn = pool.bind(&tenant("nowhere"), location.namespace.as_deref(), false).expect("bind");
    assert!(conn.ping().await.expect_err("nothing listens").is_retryable());
    assert!(pool.ping().await.expect_err("nothing listens").is_retryable());
    for bad in [None, Some("a.b"), Some("")] {
        assert!(
            matches!(pool.bind(&tenant("bad"), bad, false), Err(StoreError::InvalidInput { .. })),
            "{bad:?}"
        );
    }
    pool.close().await;
}

#[tokio::test]
async fn a_closed_connection_is_unavailable_and_leaves_other_tenants_working() {
    let (a, b) = (fresh_name(), fresh_name());
    let pool = server_pool(4).await;
    pool.provision(Some(&a)).await.expect("provision a");
    pool.provision(Some(&b)).await.expect("provision b");
    let conn_a = pool.bind(&tenant("a"), Some(&a), false).expect("bind a");
    let conn_b = pool.bind(&tenant("b"), Some(&b), false).expect("bind b");
    let users_a = conn_a.users().expect("users a");
    users_a.create(CreateUserInput::new("ana@example.com")).await.expect("create in a");
    conn_a.close().await.expect("close");
    assert!(conn_a.ping().await.expect_err("ping after close").is_retryable());
    assert!(users_a.get_by_email("ana@example.com").await.expect_err("call after close").is_retryable());
    // b is on the same client: it keeps working.
    conn_b.ping().await.expect("ping b");
    pool.ping().await.expect("ping the server");
    let users_b = conn_b.users().expect("users b");
    users_b.create(CreateUserInput::new("bob@example.com")).await.expect("create in b");
    let figures = pool.figures();
    assert_eq!(figures.max_size, 4);
    assert!((1..=4).contains(&figures.size), "{figures:?}");
    assert_eq!(figures.size, figures.in_use + figures.idle, "{figures:?}");
    // Closing the server's pool closes every tenant on it.
    pool.close().await;
    assert!(users_b.get_by_email("bob@example.com").await.expect_err("pool closed").is_retryable());
    assert!(pool.ping().await.expect_err("pool closed").is_retryable());
    drop_db(&a).await;
    drop_db(&b).await;
}

#[tokio::test]
async fn a_connection_of_its_own_shuts_its_client_down_on_close() {
    let name = fresh_name();
    let conn = open(&name).await.expect("open");
    let users = conn.users().expect("users");
    users.create(CreateUserInput::new("ana@example.com")).await.expect("create");
    conn.close().await.expect("close");
    assert!(users.get_by_email("ana@example.com").await.expect_err("closed").is_retryable());
    drop_db(&name).await;
}

#[tokio::test]
async fn dropping_a_namespace_refuses_system_databases_and_forgets_a_tenant() {
    let name = fresh_name();
    let pool = server_pool(2).await;
    for system in ["admin", "local", "config"] {
        assert!(
            matches!(pool.drop_namespace(Some(system)).await, Err(StoreError::InvalidInput { .. })),
            "{system} must be refused"
        );
    }
    pool.provision(Some(&name)).await.expect("provision");
    let conn = pool.bind(&tenant("t"), Some(&name), false).expect("bind");
    conn.users().expect("users").create(CreateUserInput::new("ana@example.com")).await.expect("create");
    pool.drop_namespace(Some(&name)).await.expect("drop");
    pool.drop_namespace(Some(&name)).await.expect("dropping again is not an error");
    let names = raw_db("admin").await.client().list_database_names().await.expect("list");
    assert!(!names.contains(&name), "{name} is gone");
    pool.close().await;
}

#[tokio::test]
async fn migrations_create_the_indexes_once_and_record_the_version() {
    let name = fresh_name();
    open(&name).await.expect("first open");
    let db = raw_db(&name).await;
    let recorded: Vec<Document> = db
        .collection::<Document>("_migrations")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].get_i32("_id").ok(), Some(1));
    let first_applied = recorded[0].get("applied_at").cloned();

    let names: BTreeSet<String> =
        db.collection::<Document>("users").list_index_names().await.expect("indexes").into_iter().collect();
    assert!(names.contains("uq_users_email_normalized"), "{names:?}");
    let names: BTreeSet<String> = db
        .collection::<Document>("refresh_tokens")
        .list_index_names()
        .await
        .expect("indexes")
        .into_iter()
        .collect();
    assert!(
        names.contains("uq_refresh_tokens_token_hash") && names.contains("idx_refresh_tokens_expires_at")
    );

    open(&name).await.expect("second open");
    let again: Vec<Document> = db
        .collection::<Document>("_migrations")
        .find(doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].get("applied_at").cloned(), first_applied, "an applied step is not run again");
    drop_db(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_replicas_opening_one_new_tenant_at_once_migrate_it_once() {
    let name = fresh_name();
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let name = name.clone();
            tokio::spawn(async move { open(&name).await.map(|_| ()) })
        })
        .collect();
    for open in opens {
        open.await.expect("task").expect("concurrent first open");
    }
    let db = raw_db(&name).await;
    let recorded = db.collection::<Document>("_migrations").count_documents(doc! {}).await.expect("count");
    assert_eq!(recorded, 1);
    let conn = open(&name).await.expect("open");
    let users = conn.users().expect("users");
    users.create(CreateUserInput::new("ana@example.com")).await.expect("create");
    assert!(users.create(CreateUserInput::new("ANA@example.com")).await.expect_err("dup").is_conflict());
    drop_db(&name).await;
}

#[tokio::test]
async fn ids_are_uuid_strings_and_instants_integer_microseconds() {
    let name = fresh_name();
    let conn = open(&name).await.expect("open");
    let until = hellojohn_store::model::now() + chrono::TimeDelta::days(365 * 20);
    let (user, _) =
        conn.users().expect("users").create(CreateUserInput::new("ana@example.com")).await.expect("create");
    conn.users().expect("users").disable(user.id, "admin", Some("test"), Some(until)).await.expect("disable");
    let stored = raw_db(&name)
        .await
        .collection::<Document>("users")
        .find_one(doc! {})
        .await
        .expect("find")
        .expect("the user document");
    assert_eq!(stored.get_str("_id").ok(), Some(user.id.to_string().as_str()));
    assert_eq!(stored.get_i64("disabled_until").ok(), Some(until.timestamp_micros()));
    assert_eq!(stored.get_str("email_normalized").ok(), Some("ana@example.com"));
    let back = conn.users().expect("users").get_by_id(user.id).await.expect("get");
    assert_eq!(back.disabled_until, Some(until));
    drop_db(&name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tenants_through_the_manager_get_their_own_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = format!("hj_m{}_", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let template = with_database(&mongo_url(), &format!("{prefix}{{tenant}}"));
    let manager = Manager::new(
        ManagerConfig::from_fs_root(dir.path()).default_tenant_db(DbConfig::new("mongodb", template)),
    )
    .await
    .expect("manager");
    for slug in ["acme", "globex"] {
        manager.config().tenants().create(Tenant::new(slug, slug.to_uppercase())).await.expect("tenant");
    }
    let acme = manager.for_tenant("acme").await.expect("acme");
    let globex = manager.for_tenant("globex").await.expect("globex");
    assert_eq!(acme.backend(), "mongo");
    let (ana, _) =
        acme.users().expect("users").create(CreateUserInput::new("ana@example.com")).await.expect("ana");
    assert!(
        globex
            .users()
            .expect("users")
            .get_by_email("ana@example.com")
            .await
            .expect_err("isolated")
            .is_not_found()
    );
    assert!(globex.users().expect("users").get_by_id(ana.id).await.expect_err("isolated").is_not_found());
    globex
        .users()
        .expect("users")
        .create(CreateUserInput::new("ana@example.com"))
        .await
        .expect("same e-mail elsewhere");
    assert_eq!(acme.users().expect("users").count(None).await.expect("count"), 1);
    assert_eq!(ana.tenant_id, acme.id());
    manager.close().await;
    for slug in ["acme", "globex"] {
        drop_db(&format!("{prefix}{slug}")).await;
    }
}

/// The `host:port` of the test server.
fn mongo_target() -> String {
    let url = mongo_url();
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(&url);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority.rsplit_once('@').map(|x| x.1).unwrap_or(authority).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cutting_the_server_gives_unavailable_and_restoring_it_brings_calls_back() {
    use std::time::Instant;
    let target = mongo_target();
    if tokio::net::TcpStream::connect(&target).await.is_err() {
        panic!("MongoDB at {target} is not reachable; start it with scripts/mongo-service.sh");
    }
    let proxy = Proxy::start(target).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = format!("hj_f{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let template = format!("mongodb://127.0.0.1:{}/{prefix}_{{tenant}}?directConnection=true", proxy.port);
    let acquire_timeout = Duration::from_secs(2);
    let manager = Manager::new(
        ManagerConfig::from_fs_root(dir.path())
            .default_tenant_db(DbConfig::new("mongodb", template))
            .server_pool(2, acquire_timeout),
    )
    .await
    .expect("manager");
    manager.config().tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant");
    let acme = manager.for_tenant("acme").await.expect("resolve");
    let users = acme.users().expect("data plane");
    users.create(CreateUserInput::new("ana@example.com")).await.expect("create before the cut");

    proxy.cut();
    let started = Instant::now();
    let err = users.get_by_email("ana@example.com").await.expect_err("fails while cut");
    let took = started.elapsed();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(took < acquire_timeout * 2 + Duration::from_secs(3), "Unavailable took {took:?}");
    assert!(users.count(None).await.expect_err("still cut").is_retryable());
    assert!(
        manager.config().clients("acme").expect("clients").list("").await.is_ok(),
        "control plane answers"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match users.get_by_email("ana@example.com").await {
            Ok((user, _)) => {
                assert_eq!(user.email, "ana@example.com");
                break;
            }
            Err(e) if e.is_retryable() && Instant::now() < deadline => {}
            Err(e) => panic!("after restore: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    manager.close().await;
    drop_db(&format!("{prefix}_acme")).await;
}
