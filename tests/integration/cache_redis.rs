//! The cache conformance suite on Redis (`HJ_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`). Two tenants share the server; every case gets fresh tenant
//! names so runs never see each other's keys.

use std::sync::Arc;

use hellojohn_store::cache::{RedisCache, RedisCacheConfig};
use hellojohn_store::conformance::cache::CacheFixture;

async fn fresh() -> CacheFixture {
    let url = std::env::var("HJ_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let run = uuid::Uuid::now_v7().simple().to_string();
    let connect = |tenant: String| {
        let cfg = RedisCacheConfig { url: url.clone(), prefix: format!("hjtest:{run}:"), tenant };
        async move {
            RedisCache::connect(&cfg).await.unwrap_or_else(|e| {
                panic!("Redis at {} is not reachable ({e}); start it with scripts/test-services.sh", cfg.url)
            })
        }
    };
    CacheFixture { a: Arc::new(connect("acme".into()).await), b: Arc::new(connect("globex".into()).await) }
}

hellojohn_store::cache_conformance!(fresh);
