//! The cache conformance suite on the in-process moka cache.

use std::sync::Arc;

use hellojohn_store::cache::MemoryCache;
use hellojohn_store::conformance::cache::CacheFixture;

async fn fresh() -> CacheFixture {
    CacheFixture { a: Arc::new(MemoryCache::default()), b: Arc::new(MemoryCache::default()) }
}

hellojohn_store::cache_conformance!(fresh);
