//! The cache conformance suite on Redis (`HJ_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`), and tenants' Redis namespaces as the manager builds them. Two
//! tenants share the server; every case gets fresh tenant ids, so runs never see each
//! other's keys.

use std::sync::Arc;

use hellojohn_store::adapters::fs::{FsControlPlane, FsWatch};
use hellojohn_store::cache::{RedisCache, RedisCacheConfig};
use hellojohn_store::conformance::cache::{CacheFixture, HOSTILE_PREFIXES};
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::{CacheDriver, Tenant, TenantCacheSettings};
use hellojohn_store::repository::Cache;

fn url() -> String {
    std::env::var("HJ_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn connect(prefix: &str) -> Arc<dyn Cache> {
    let cfg = RedisCacheConfig { url: url(), tenant_id: uuid::Uuid::now_v7(), prefix: prefix.into() };
    let cache = RedisCache::connect(&cfg).await.unwrap_or_else(|e| {
        panic!("Redis at {} is not reachable ({e}); start it with scripts/test-services.sh", cfg.url)
    });
    Arc::new(cache)
}

async fn fresh() -> CacheFixture {
    let mut hostile = Vec::new();
    for prefix in HOSTILE_PREFIXES {
        hostile.push(connect(prefix).await);
    }
    CacheFixture { a: connect("").await, b: connect("").await, hostile }
}

hellojohn_store::cache_conformance!(fresh);

/// The tenant settings of a Redis cache on the test server with this key prefix.
fn redis_settings(prefix: Option<&str>) -> TenantCacheSettings {
    let rest = url().trim_start_matches("redis://").to_string();
    let host_port = rest.split('/').next().unwrap_or_default().to_string();
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port.as_str(), "6379"));
    TenantCacheSettings {
        driver: CacheDriver::Redis,
        host: Some(host.to_string()),
        port: Some(port.parse().expect("port")),
        prefix: prefix.map(str::to_string),
        ..Default::default()
    }
}

/// Through the manager: tenant `hj` with an empty prefix (whose namespace used to be `hj:`,
/// the start of every tenant's keys), and tenants with the prefixes `*` and `acme:`, reach
/// none of `acme`'s keys; `acme` re-created with the same slug starts with an empty cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_prefixes_reach_no_other_tenant_and_a_recreated_slug_starts_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = FsControlPlane::new(dir.path(), None).with_watch(FsWatch::Off);
    let mgr = Manager::new(ManagerConfig::from_fs_root(dir.path()).control_plane(Arc::new(cp)))
        .await
        .expect("manager");
    let tenants = mgr.config().tenants();
    for (slug, prefix) in [("acme", None), ("hj", None), ("star", Some("*")), ("colon", Some("acme:"))] {
        let mut t = Tenant::new(slug, slug);
        t.settings.cache = Some(redis_settings(prefix));
        tenants.create(t).await.expect("create");
    }
    let acme = mgr.for_tenant("acme").await.expect("acme").cache();
    for key in ["k", "session:1", "*"] {
        acme.set(key, b"acme's", None).await.expect("acme set");
    }
    for slug in ["hj", "star", "colon"] {
        let cache = mgr.for_tenant(slug).await.expect("resolve").cache();
        for prefix in ["", "*", "acme:", "k"] {
            assert_eq!(
                cache.delete_by_prefix(prefix).await.expect("delete_by_prefix"),
                0,
                "{slug}: {prefix:?}"
            );
        }
        assert_eq!(cache.get("k").await.expect("get"), None, "{slug} reads acme's key");
        assert_eq!(cache.stats().await.expect("stats").entries, 0, "{slug} counts acme's keys");
    }
    for key in ["k", "session:1", "*"] {
        assert_eq!(
            acme.get(key).await.expect("get").as_deref(),
            Some(&b"acme's"[..]),
            "acme's {key:?} survived"
        );
    }

    tenants.delete("acme").await.expect("delete");
    let mut again = Tenant::new("acme", "acme");
    again.settings.cache = Some(redis_settings(None));
    tenants.create(again).await.expect("re-create");
    let fresh = mgr.for_tenant("acme").await.expect("acme again").cache();
    assert_eq!(fresh.get("k").await.expect("get"), None, "the deleted tenant's keys are not the new one's");
    assert_eq!(acme.delete_by_prefix("").await.expect("clean up"), 3);
}
