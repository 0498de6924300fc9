//! The manager: single-flight resolution, the pool bound through `for_tenant`, template
//! checks, cache invalidation on tenant writes, tenants without or with a down database.
//! Connects are counted through an adapter the test registers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::Tenant;
use hellojohn_store::pool::PoolConfig;
use hellojohn_store::{
    Adapter, AdapterConnection, DbConfig, Location, OperationalMode, Registry, ServerConfig, ServerPool,
    StoreError, StoreResult, TenantRef,
};

/// The server and namespace of the last bind.
type LastBind = Arc<std::sync::Mutex<Option<(String, Option<String>)>>>;

#[derive(Default)]
struct Counting {
    /// Server pools opened.
    connects: AtomicU64,
    refuse: AtomicBool,
    /// Extra time each open takes, in milliseconds (on top of 30 ms).
    slow_ms: AtomicU64,
    /// The server and namespace of the last bind.
    last_dsn: LastBind,
    /// Namespaces provisioned.
    provisions: Arc<AtomicU64>,
}

struct CountingServer {
    dsn: String,
    last_dsn: LastBind,
    provisions: Arc<AtomicU64>,
}

struct CountingConn;

#[async_trait]
impl AdapterConnection for CountingConn {
    fn name(&self) -> &str {
        "counting"
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
    async fn close(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[async_trait]
impl ServerPool for CountingServer {
    fn driver(&self) -> &str {
        "counting"
    }
    fn bind(
        &self,
        _t: &TenantRef,
        namespace: Option<&str>,
        _owns: bool,
    ) -> StoreResult<Arc<dyn AdapterConnection>> {
        *self.last_dsn.lock().expect("lock") = Some((self.dsn.clone(), namespace.map(str::to_string)));
        Ok(Arc::new(CountingConn))
    }
    async fn provision(&self, _namespace: Option<&str>) -> StoreResult<()> {
        self.provisions.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
    async fn close(&self) {}
    fn figures(&self) -> hellojohn_store::registry::ServerPoolFigures {
        Default::default()
    }
}

#[async_trait]
impl Adapter for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    fn schema_version(&self) -> Option<String> {
        Some("v1".into())
    }
    fn locate(&self, db: &DbConfig) -> StoreResult<Location> {
        Ok(Location { server: db.dsn.clone(), namespace: db.schema.clone() })
    }
    async fn open_server(&self, server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        let extra = self.slow_ms.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(30 + extra)).await;
        if self.refuse.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("counting", "connection refused"));
        }
        Ok(Arc::new(CountingServer {
            dsn: server.dsn.clone(),
            last_dsn: self.last_dsn.clone(),
            provisions: self.provisions.clone(),
        }))
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    adapter: Arc<Counting>,
    manager: Manager,
}

async fn setup(pool: PoolConfig, tenants: &[&str]) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let adapter = Arc::new(Counting::default());
    let mut registry = Registry::empty();
    registry.register(adapter.clone());
    let cfg = ManagerConfig::from_fs_root(dir.path())
        .default_tenant_db(DbConfig::new("counting", "counting://server/db").with_schema("hj_{tenant}"))
        .registry(registry)
        .pool(pool)
        .server_pool(4, Duration::from_millis(500));
    let manager = Manager::new(cfg).await.expect("manager");
    for slug in tenants {
        manager
            .config()
            .tenants()
            .create(Tenant::new(*slug, slug.to_uppercase()))
            .await
            .expect("create tenant");
    }
    Setup { _dir: dir, adapter, manager }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_for_tenant_calls_on_a_cold_tenant_connect_once() {
    let s = setup(PoolConfig::default(), &["acme"]).await;
    assert_eq!(s.manager.mode(), OperationalMode::FsTenantDb);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let m = s.manager.clone();
        tasks.push(tokio::spawn(async move { m.for_tenant("acme").await.map(|a| a.slug().to_string()) }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("for_tenant"), "acme");
    }
    assert_eq!(s.adapter.connects.load(Ordering::SeqCst), 1);
    let last = s.adapter.last_dsn.lock().expect("lock").clone();
    assert_eq!(last, Some(("counting://server/db".to_string(), Some("hj_acme".to_string()))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_on_one_server_share_one_pool_and_are_provisioned_at_create() {
    let slugs = ["t0", "t1", "t2", "t3", "t4", "t5"];
    let s = setup(PoolConfig { max_open_servers: 2, ..Default::default() }, &slugs).await;
    assert_eq!(s.adapter.provisions.load(Ordering::SeqCst), 6, "each create provisioned its namespace");
    for slug in slugs {
        let t = s.manager.config().tenants().get_by_slug(slug).await.expect("tenant");
        let p = t.provisioning.expect("recorded");
        assert_eq!(p.state, hellojohn_store::model::ProvisioningState::Ready);
        assert_eq!(p.schema_version.as_deref(), Some("v1"));
    }
    for slug in slugs {
        let access = s.manager.for_tenant(slug).await.expect("for_tenant");
        assert!(access.has_db());
    }
    assert_eq!(
        s.adapter.provisions.load(Ordering::SeqCst),
        6,
        "a provisioned tenant is not migrated on open"
    );
    let stats = s.manager.stats().await;
    assert_eq!(stats.pool.open, 1, "{stats:?}");
    assert_eq!(stats.pool.servers.len(), 1);
    assert_eq!(stats.pool.servers[0].tenants, 6);
    assert_eq!(s.adapter.connects.load(Ordering::SeqCst), 1, "one pool for the server, whatever the tenants");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_tenant_is_not_closed_as_idle() {
    let pool = PoolConfig {
        idle_timeout: Duration::from_millis(300),
        health_check_interval: None,
        ..Default::default()
    };
    let s = setup(pool, &["acme"]).await;
    // Warm calls are answered without the pool; each use still counts against idleness.
    for _ in 0..24 {
        let access = s.manager.for_tenant("acme").await.expect("for_tenant");
        assert!(access.users().is_err(), "the counting adapter has no users; the call still marks use");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.adapter.connects.load(Ordering::SeqCst), 1, "used every 50 ms for 1.2 s: one connect");
    assert_eq!(s.manager.pool().open_count(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(s.manager.pool().open_count(), 0, "idle for longer than the timeout: closed");
    s.manager.for_tenant("acme").await.expect("again").ping().await.expect("reopened");
    assert_eq!(s.adapter.connects.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_made_while_the_access_is_being_built_is_not_lost() {
    let s = setup(PoolConfig::default(), &["acme"]).await;
    s.adapter.slow_ms.store(400, Ordering::SeqCst);
    let first = {
        let m = s.manager.clone();
        tokio::spawn(async move { m.for_tenant("acme").await })
    };
    // While the first resolution waits on its connect, the tenant changes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tenants = s.manager.config().tenants();
    let mut changed = tenants.get_by_slug("acme").await.expect("get");
    changed.name = "Acme Renamed".into();
    tenants.update(changed).await.expect("update");
    let old = first.await.expect("join").expect("first resolution");
    assert_eq!(old.tenant().name, "ACME", "the call that began before the change sees the old tenant");
    s.adapter.slow_ms.store(0, Ordering::SeqCst);
    let now = s.manager.for_tenant("acme").await.expect("after the change");
    assert_eq!(now.tenant().name, "Acme Renamed", "the access built across the change was not kept");
}

/// A tenant whose settings put its cache on Redis, reached through `port`.
async fn tenant_with_redis(s: &Setup, slug: &str, port: u16, prefix: &str) {
    use hellojohn_store::model::{CacheDriver, TenantCacheSettings};
    let mut tenant = Tenant::new(slug, slug.to_uppercase());
    tenant.settings.cache = Some(TenantCacheSettings {
        driver: CacheDriver::Redis,
        host: Some("127.0.0.1".into()),
        port: Some(port),
        prefix: Some(prefix.into()),
        ..Default::default()
    });
    s.manager.config().tenants().create(tenant).await.expect("create tenant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_settings_ask_for_redis_gets_a_redis_cache_namespaced_by_tenant() {
    let s = setup(PoolConfig::default(), &[]).await;
    let prefix = format!("hjtest-{}:", uuid::Uuid::now_v7().simple());
    tenant_with_redis(&s, "acme", 6379, &prefix).await;
    let cache = s.manager.for_tenant("acme").await.expect("for_tenant").cache();
    assert_eq!(cache.stats().await.expect("stats").backend, "redis");
    cache.set("k", b"v", Some(Duration::from_secs(60))).await.expect("set");
    let client = redis::Client::open("redis://127.0.0.1:6379/0").expect("client");
    let mut raw = client.get_multiplexed_async_connection().await.expect("redis");
    let id = s.manager.for_tenant("acme").await.expect("for_tenant").id();
    let stored: Option<Vec<u8>> =
        redis::cmd("GET").arg(format!("hj:t:{id}:{prefix}k")).query_async(&mut raw).await.expect("GET");
    assert_eq!(
        stored.as_deref(),
        Some(&b"v"[..]),
        "the key lives under hj:t:{{tenant id}}: + the tenant's prefix"
    );
    cache.delete("k").await.expect("clean up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_redis_is_down_still_resolves_and_its_cache_comes_back() {
    let s = setup(PoolConfig::default(), &[]).await;
    let proxy = crate::support::Proxy::start("127.0.0.1:6379".into()).await;
    proxy.cut();
    let prefix = format!("hjtest-{}:", uuid::Uuid::now_v7().simple());
    tenant_with_redis(&s, "acme", proxy.port, &prefix).await;
    let started = std::time::Instant::now();
    let access = s.manager.for_tenant("acme").await.expect("resolves without its cache server");
    assert!(started.elapsed() < Duration::from_secs(3), "bounded by the acquire timeout");
    access.ping().await.expect("data plane works");
    assert!(access.clients().list("").await.is_ok(), "control plane works");
    let err = access.cache().get("k").await.expect_err("cache down");
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    // Such an access is not kept: once Redis answers again, the next call has a cache.
    proxy.restore();
    let again = s.manager.for_tenant("acme").await.expect("again");
    again.cache().set("k", b"v", Some(Duration::from_secs(60))).await.expect("cache back");
    assert_eq!(again.cache().get("k").await.expect("get"), Some(b"v".to_vec()));
    again.cache().delete("k").await.expect("clean up");
}

#[tokio::test]
async fn a_default_tenant_database_without_the_placeholder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = ManagerConfig::from_fs_root(dir.path()).default_tenant_db(
        DbConfig::new("postgres", "postgres://postgres@127.0.0.1/test").with_schema("shared"),
    );
    let err = Manager::new(cfg).await.expect_err("refused");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    assert!(err.to_string().contains("{tenant}") && err.to_string().contains("share"), "{err}");
}

#[tokio::test]
async fn a_placeholder_only_in_a_schema_the_driver_ignores_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in [
        DbConfig::new("mysql", "mysql://root@127.0.0.1:3306/hj").with_schema("hj_{tenant}"),
        DbConfig::new("sqlite", "sqlite://./data/all.db?mode=rwc").with_schema("{tenant}"),
    ] {
        let cfg = ManagerConfig::from_fs_root(dir.path()).default_tenant_db(db.clone());
        let err = Manager::new(cfg).await.expect_err("refused");
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains("ignores") && err.to_string().contains(&db.driver), "{err}");
    }
    // The same schema template on PostgreSQL is a namespace per tenant, and accepted.
    let pg = DbConfig::new("postgres", "postgres://postgres@127.0.0.1/test").with_schema("hj_{tenant}");
    let cfg = ManagerConfig::from_fs_root(dir.path()).default_tenant_db(pg);
    Manager::new(cfg).await.expect("a schema per tenant on PostgreSQL");
}

#[tokio::test]
async fn tenants_resolve_by_slug_or_id_and_unknown_ones_are_tenant_not_found() {
    let s = setup(PoolConfig::default(), &["acme"]).await;
    let by_slug = s.manager.for_tenant("acme").await.expect("slug");
    let by_id = s.manager.for_tenant(&by_slug.id().to_string()).await.expect("id");
    assert_eq!(by_id.slug(), "acme");
    for missing in ["globex", "0190c8a4-0000-7000-8000-000000000000"] {
        match s.manager.for_tenant(missing).await {
            Err(StoreError::TenantNotFound { tenant }) => assert_eq!(tenant, missing),
            other => panic!("{missing}: {other:?}"),
        }
    }
    assert!(matches!(s.manager.for_tenant("../etc").await, Err(StoreError::InvalidInput { .. })));
}

#[tokio::test]
async fn writes_through_the_store_drop_the_cached_access() {
    let s = setup(PoolConfig::default(), &["acme"]).await;
    let first = s.manager.for_tenant("acme").await.expect("first");
    assert_eq!(first.tenant().name, "ACME");
    let mut changed = first.tenant().clone();
    changed.name = "Acme Renamed".into();
    s.manager.config().tenants().update(changed).await.expect("update");
    let second = s.manager.for_tenant("acme").await.expect("second");
    assert_eq!(second.tenant().name, "Acme Renamed");
    s.manager.config().tenants().delete("acme").await.expect("delete");
    assert!(matches!(s.manager.for_tenant("acme").await, Err(StoreError::TenantNotFound { .. })));
}

#[tokio::test]
async fn a_tenant_without_a_database_has_a_control_plane_and_no_data_plane() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = Manager::new(ManagerConfig::from_fs_root(dir.path())).await.expect("manager");
    assert_eq!(manager.mode(), OperationalMode::FsOnly);
    manager.config().tenants().create(Tenant::new("solo", "Solo")).await.expect("create");
    let solo = manager.for_tenant("solo").await.expect("resolves");
    assert!(!solo.has_db());
    assert!(matches!(solo.require_db(), Err(StoreError::NoDatabase { .. })));
    assert!(matches!(solo.users().err(), Some(StoreError::NoDatabase { .. })));
    assert!(matches!(solo.tokens().err(), Some(StoreError::NoDatabase { .. })));
    let scopes = solo.scopes().list().await.expect("control plane works");
    assert!(scopes.iter().any(|s| s.name == "openid"));
    solo.cache().set("k", b"v", None).await.expect("cache works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_database_is_down_resolves_and_recovers_without_restart() {
    let s = setup(PoolConfig::default(), &[]).await;
    s.adapter.refuse.store(true, Ordering::SeqCst);
    let created =
        s.manager.config().tenants().create(Tenant::new("acme", "ACME")).await.expect("created while down");
    let p = created.provisioning.expect("the failed attempt is recorded");
    assert_eq!(p.state, hellojohn_store::model::ProvisioningState::Failed);
    assert!(p.error.as_deref().is_some_and(|e| e.contains("connection refused")), "{p:?}");
    let down = s.manager.for_tenant("acme").await.expect("still resolves");
    assert!(down.has_db());
    let err = down.users().err().expect("data plane unavailable");
    assert!(err.is_retryable(), "{err:?}");
    assert!(down.clients().list("").await.is_ok(), "control plane answers");
    s.adapter.refuse.store(false, Ordering::SeqCst);
    let up = s.manager.for_tenant("acme").await.expect("resolves again");
    up.ping().await.expect("database back");
    assert_eq!(
        s.adapter.connects.load(Ordering::SeqCst),
        3,
        "refused at create and at the first open, then opened"
    );
    assert_eq!(s.adapter.provisions.load(Ordering::SeqCst), 1, "migrated on the first open that reached it");
    let again = s.manager.provision_tenant("acme").await.expect("retry");
    assert_eq!(again.state, hellojohn_store::model::ProvisioningState::Ready);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_slugs_get_distinct_recorded_namespaces_within_the_limit() {
    use hellojohn_store::model::NAMESPACE_MAX_LEN;
    let long_a = format!("a{}", "b".repeat(62));
    let long_b = format!("a{}c", "b".repeat(61));
    let s = setup(PoolConfig::default(), &[&long_a, &long_b, "acme-eu"]).await;
    let tenants = s.manager.config().tenants();
    let ns = |t: Tenant| t.namespace.expect("a created tenant records its namespace");
    let a = ns(tenants.get_by_slug(&long_a).await.expect("a"));
    let b = ns(tenants.get_by_slug(&long_b).await.expect("b"));
    assert!(a.len() <= NAMESPACE_MAX_LEN && b.len() <= NAMESPACE_MAX_LEN, "{a} {b}");
    assert_ne!(a, b);
    assert!(a.starts_with("abbb"), "{a}");
    // Short slugs keep the old name; dashes become underscores.
    assert_eq!(ns(tenants.get_by_slug("acme-eu").await.expect("acme-eu")), "acme_eu");
    s.manager.for_tenant(&long_a).await.expect("resolves");
    let last = s.adapter.last_dsn.lock().expect("lock").clone();
    assert_eq!(last, Some(("counting://server/db".to_string(), Some(format!("hj_{a}")))));
}

/// A tenant file edited by hand to drop its `namespace` (or written before the field
/// existed), whose slug's default namespace a deleted tenant still holds, is refused at
/// resolve and reported by `validate`: it would read the deleted tenant's data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_written_tenant_on_a_deleted_tenants_namespace_is_refused() {
    let s = setup(PoolConfig::default(), &["acme"]).await;
    let tenants = s.manager.config().tenants();
    tenants.delete("acme").await.expect("delete");
    let again = tenants.create(Tenant::new("acme", "Acme again")).await.expect("re-create");
    assert_ne!(again.namespace.as_deref(), Some("acme"));
    let file = s._dir.path().join("tenants/acme/tenant.yaml");
    let text = std::fs::read_to_string(&file).expect("tenant.yaml");
    let edited: String =
        text.lines().filter(|l| !l.starts_with("namespace:")).map(|l| format!("{l}\n")).collect();
    assert_ne!(edited, text, "the file recorded a namespace");
    std::fs::write(&file, edited).expect("edit");
    s.manager.clear_tenant("acme").await;
    match s.manager.for_tenant("acme").await {
        Err(StoreError::InvalidInput { message, .. }) => {
            assert!(message.contains("deleted tenant"), "{message}")
        }
        other => panic!("expected InvalidInput, got {:?}", other.map(|a| a.id())),
    }
    let problems = hellojohn_store::adapters::fs::tree::validate_tree(s._dir.path()).expect("validate");
    assert!(
        problems.iter().any(|p| p.message.contains("namespace \"acme\" is also held by")),
        "{problems:?}"
    );
}

/// `TenantDataAccess::tokens` binds the tenant's `refresh_token_reuse_interval_secs`: its
/// `rotate` answers a replay of the just-rotated token with the same successor on a tenant
/// that set an interval, and with reuse detection on one that did not. An interval above
/// the maximum is refused when the tenant is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tokens_of_an_access_apply_the_tenants_reuse_interval() {
    use chrono::TimeDelta;
    use hellojohn_store::model::{CreateRefreshTokenInput, CreateUserInput};

    let dir = tempfile::tempdir().expect("tempdir");
    let dsn = format!("sqlite://{}/{{tenant}}.db?mode=rwc", dir.path().display());
    let cfg =
        ManagerConfig::from_fs_root(dir.path().join("cp")).default_tenant_db(DbConfig::new("sqlite", dsn));
    let manager = Manager::new(cfg).await.expect("manager");
    let tenants = manager.config().tenants();
    let mut retrying = Tenant::new("retrying", "Retrying");
    retrying.settings.refresh_token_reuse_interval_secs = Some(300);
    tenants.create(retrying).await.expect("create retrying");
    tenants.create(Tenant::new("strict", "Strict")).await.expect("create strict");
    let mut too_long = Tenant::new("too-long", "Too long");
    too_long.settings.refresh_token_reuse_interval_secs = Some(301);
    match tenants.create(too_long).await {
        Err(StoreError::InvalidInput { .. }) => {}
        other => panic!("an interval above 300 s must be InvalidInput, got {other:?}"),
    }

    for slug in ["retrying", "strict"] {
        let access = manager.for_tenant(slug).await.expect("access");
        let (user, _) = access
            .users()
            .expect("users")
            .create(CreateUserInput::new("ana@example.com"))
            .await
            .expect("user");
        let tokens = access.tokens().expect("tokens");
        let ttl = TimeDelta::hours(1);
        tokens
            .create(CreateRefreshTokenInput {
                user_id: user.id,
                client_id: "web".into(),
                token_hash: "a".into(),
                ttl,
            })
            .await
            .expect("token");
        let successor = tokens.rotate("a", "b", ttl).await.expect("rotate");
        let replay = tokens.rotate("a", "b", ttl).await;
        match slug {
            "retrying" => assert_eq!(replay.expect("replay within the interval").id, successor.id),
            _ => assert!(matches!(replay, Err(StoreError::TokenReused)), "{slug}: got {replay:?}"),
        }
    }
}

/// A tombstone hand-edited to a namespace that is no namespace (`./victim`, which the
/// SQLite template would turn into the live tenant's file) is refused by the purge: the
/// report says why, the tombstone is kept and the live tenant's database and data survive.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn purge_refuses_a_tombstone_whose_namespace_is_no_namespace() {
    use hellojohn_store::manager::PurgeOutcome;
    use hellojohn_store::model::CreateUserInput;
    let dir = tempfile::tempdir().expect("root");
    let data = tempfile::tempdir().expect("data");
    let template =
        DbConfig::new("sqlite", format!("sqlite://{}/{{tenant}}.db?mode=rwc", data.path().display()));
    let mgr = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template))
        .await
        .expect("manager");
    let tenants = mgr.config().tenants();
    tenants.create(Tenant::new("victim", "V")).await.expect("victim");
    let gone = tenants.create(Tenant::new("gone", "G")).await.expect("gone");
    let users = mgr.for_tenant("victim").await.expect("victim access").users().expect("users");
    users.create(CreateUserInput::new("victim@corp.com")).await.expect("seed");
    tenants.delete("gone").await.expect("delete");
    let tomb = dir.path().join(format!("deleted/{}.yaml", gone.id));
    let text = std::fs::read_to_string(&tomb).expect("tombstone");
    assert!(text.contains("namespace: gone"), "{text}");
    std::fs::write(&tomb, text.replace("namespace: gone", "namespace: ./victim")).expect("edit");

    let report = mgr.purge_deleted_tenants(Duration::ZERO, false).await.expect("purge");
    let [entry] = report.purged.as_slice() else { panic!("{report:?}") };
    match &entry.outcome {
        PurgeOutcome::Failed(why) => assert!(why.contains("does not match"), "{why}"),
        other => panic!("a tombstone naming ./victim must be refused, got {other:?}"),
    }
    assert!(data.path().join("victim.db").exists(), "the live tenant's database was deleted");
    users.get_by_email("victim@corp.com").await.expect("the live tenant keeps its user");
    assert_eq!(mgr.deleted_tenants().await.expect("tombstones").len(), 1, "the tombstone is kept");
}
