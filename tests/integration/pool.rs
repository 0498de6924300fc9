//! The pool of servers: single-flight opens, the LRU bound, refresh, health checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hellojohn_store::adapters::noop::NoopConnection;
use hellojohn_store::pool::{ConnectionPool, PoolConfig};
use hellojohn_store::registry::{Location, ServerConfig, ServerPool, ServerPoolFigures, TenantRef};
use hellojohn_store::{Adapter, AdapterConnection, DbConfig, Registry, StoreError, StoreResult};

/// An adapter that counts the server pools it opens and closes; they answer pings while
/// `healthy` is set.
#[derive(Default)]
struct Counting {
    connects: AtomicU64,
    closes: Arc<AtomicU64>,
    healthy: Arc<AtomicBool>,
    refuse: AtomicBool,
}

struct CountingServer {
    closes: Arc<AtomicU64>,
    healthy: Arc<AtomicBool>,
}

#[async_trait]
impl ServerPool for CountingServer {
    fn driver(&self) -> &str {
        "counting"
    }
    fn bind(
        &self,
        tenant: &TenantRef,
        _ns: Option<&str>,
        _owns: bool,
    ) -> StoreResult<Arc<dyn AdapterConnection>> {
        Ok(Arc::new(NoopConnection::new(tenant.slug.clone())))
    }
    async fn provision(&self, _namespace: Option<&str>) -> StoreResult<()> {
        Ok(())
    }
    async fn ping(&self) -> StoreResult<()> {
        if self.healthy.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(StoreError::unavailable("counting", "down"))
        }
    }
    async fn close(&self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
    fn figures(&self) -> ServerPoolFigures {
        ServerPoolFigures { max_size: 4, ..Default::default() }
    }
}

#[async_trait]
impl Adapter for Counting {
    fn name(&self) -> &str {
        "counting"
    }
    fn locate(&self, db: &DbConfig) -> StoreResult<Location> {
        Ok(Location { server: db.dsn.clone(), namespace: db.schema.clone() })
    }
    async fn open_server(&self, _server: &ServerConfig) -> StoreResult<Arc<dyn ServerPool>> {
        self.connects.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        if self.refuse.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("counting", "connection refused"));
        }
        Ok(Arc::new(CountingServer { closes: self.closes.clone(), healthy: self.healthy.clone() }))
    }
}

fn setup(config: PoolConfig) -> (Arc<Counting>, Arc<ConnectionPool>) {
    let adapter = Arc::new(Counting { healthy: Arc::new(AtomicBool::new(true)), ..Default::default() });
    let mut registry = Registry::empty();
    registry.register(adapter.clone());
    (adapter, ConnectionPool::new(Arc::new(registry), config, None))
}

/// The server `name` (a server of its own per name).
fn cfg(name: &str) -> ServerConfig {
    ServerConfig {
        driver: "counting".into(),
        dsn: format!("counting://{name}"),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_gets_of_a_cold_tenant_connect_once() {
    let (adapter, pool) = setup(PoolConfig::default());
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move { pool.checkout(&cfg("acme")).await.map(|_| ()) }));
    }
    for t in tasks {
        t.await.expect("join").expect("get");
    }
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 1);
    let stats = pool.stats().await;
    assert_eq!((stats.open, stats.connects), (1, 1));
    assert_eq!(stats.servers.len(), 1);
    assert_eq!(stats.servers[0].driver, "counting");
    assert_eq!(stats.servers[0].server, "counting://acme");
    assert_eq!(stats.servers[0].figures.max_size, 4);
    assert!(stats.servers[0].last_used >= stats.servers[0].created_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opening_more_tenants_than_the_bound_keeps_the_bound_and_reopens_transparently() {
    let (adapter, pool) = setup(PoolConfig { max_open_servers: 3, ..Default::default() });
    for i in 0..10 {
        let t = format!("t{i}");
        pool.checkout(&cfg(&t)).await.expect("get");
        assert!(pool.open_count() <= 3, "open {} after {t}", pool.open_count());
    }
    let stats = pool.stats().await;
    assert_eq!(stats.open, 3);
    assert_eq!(stats.servers.len(), 3);
    assert_eq!(adapter.closes.load(Ordering::SeqCst), 7);
    // The least recently used went first: t0 is closed and reopens on its next call.
    let before = adapter.connects.load(Ordering::SeqCst);
    pool.checkout(&cfg("t0")).await.expect("reopen t0");
    assert_eq!(adapter.connects.load(Ordering::SeqCst), before + 1);
    assert_eq!(pool.open_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_connect_is_not_remembered() {
    let (adapter, pool) = setup(PoolConfig::default());
    adapter.refuse.store(true, Ordering::SeqCst);
    let err = pool.checkout(&cfg("acme")).await.err().expect("refused");
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(pool.open_count(), 0);
    adapter.refuse.store(false, Ordering::SeqCst);
    pool.checkout(&cfg("acme")).await.expect("works once the database is back");
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_and_health_check_close_connections_and_the_next_get_reconnects() {
    let (adapter, pool) = setup(PoolConfig { health_check_interval: None, ..Default::default() });
    pool.checkout(&cfg("a")).await.expect("a");
    pool.checkout(&cfg("b")).await.expect("b");
    pool.refresh(&hellojohn_store::pool::server_key(&cfg("a"))).await;
    assert_eq!(pool.open_count(), 1);
    assert_eq!(adapter.closes.load(Ordering::SeqCst), 1);
    assert!(pool.health_check().await.is_empty(), "healthy connections stay");
    adapter.healthy.store(false, Ordering::SeqCst);
    assert_eq!(pool.health_check().await, vec![hellojohn_store::pool::server_key(&cfg("b"))]);
    assert_eq!(pool.open_count(), 0);
    adapter.healthy.store(true, Ordering::SeqCst);
    pool.checkout(&cfg("b")).await.expect("b reopens");
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_tenants_are_closed_after_the_idle_timeout() {
    let (adapter, pool) = setup(PoolConfig {
        idle_timeout: Duration::from_millis(200),
        health_check_interval: None,
        ..Default::default()
    });
    pool.checkout(&cfg("idle")).await.expect("get");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stats = pool.stats().await;
    assert_eq!(stats.open, 0, "{stats:?}");
    assert_eq!(adapter.closes.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marked_tenant_is_not_closed_as_idle() {
    let (adapter, pool) = setup(PoolConfig {
        idle_timeout: Duration::from_millis(200),
        health_check_interval: None,
        ..Default::default()
    });
    let out = pool.checkout(&cfg("busy")).await.expect("checkout");
    for _ in 0..12 {
        out.mark.mark();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pool.stats().await.open, 1, "used every 50 ms, so never idle for 200 ms");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pool.stats().await.open, 0, "closed once it went unused");
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn one_server_is_one_pool_and_another_dsn_another() {
    let (adapter, pool) = setup(PoolConfig { health_check_interval: None, ..Default::default() });
    pool.checkout(&cfg("acme")).await.expect("first");
    pool.checkout(&cfg("acme")).await.expect("same server");
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 1);
    pool.checkout(&cfg("elsewhere")).await.expect("another server");
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 2, "a new DSN is a new pool");
    assert_eq!(pool.stats().await.open, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cold_opens_of_many_tenants_never_exceed_the_bound() {
    let bound = 5;
    let (adapter, pool) = setup(PoolConfig {
        max_open_servers: bound,
        eviction_grace: Duration::from_millis(10),
        health_check_interval: None,
        ..Default::default()
    });
    let peak = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (pool, peak) = (pool.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(pool.open_count(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for i in 0..60 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let t = format!("t{i}");
            let mut c = cfg(&t);
            c.acquire_timeout = Duration::from_secs(30);
            pool.checkout(&c).await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("every tenant opens, waiting for a slot");
    }
    watcher.abort();
    assert!(
        peak.load(Ordering::SeqCst) <= bound,
        "peak {} over the bound {bound}",
        peak.load(Ordering::SeqCst)
    );
    assert_eq!(adapter.connects.load(Ordering::SeqCst), 60);
    assert!(pool.open_count() <= bound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_within_its_grace_period_is_not_closed_and_the_caller_gets_unavailable() {
    let (_adapter, pool) = setup(PoolConfig {
        max_open_servers: 1,
        eviction_grace: Duration::from_secs(60),
        health_check_interval: None,
        ..Default::default()
    });
    pool.checkout(&cfg("busy")).await.expect("first tenant");
    let mut other = cfg("other");
    other.acquire_timeout = Duration::from_millis(200);
    let err = pool.checkout(&other).await.map(|_| ()).expect_err("no slot within the timeout");
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(pool.open_count(), 1);
}
