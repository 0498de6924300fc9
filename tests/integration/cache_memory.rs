//! The cache conformance suite on the in-process moka cache, and the manager's memory caches
//! being per tenant id.

use std::sync::Arc;

use hellojohn_store::adapters::fs::{FsControlPlane, FsWatch};
use hellojohn_store::cache::MemoryCache;
use hellojohn_store::conformance::cache::{CacheFixture, HOSTILE_PREFIXES};
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::Tenant;

async fn fresh() -> CacheFixture {
    CacheFixture {
        a: Arc::new(MemoryCache::default()),
        b: Arc::new(MemoryCache::default()),
        hostile: HOSTILE_PREFIXES.iter().map(|_| Arc::new(MemoryCache::default()) as _).collect(),
    }
}

hellojohn_store::cache_conformance!(fresh);

/// A tenant deleted and re-created with the same slug behind the manager's back (another
/// writer, no watcher) starts with an empty cache once the manager reads it again: the memory
/// caches are keyed by tenant id, not slug.
#[tokio::test]
async fn a_tenant_recreated_with_the_same_slug_starts_with_an_empty_memory_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = FsControlPlane::new(dir.path(), None).with_watch(FsWatch::Off);
    let mgr = Manager::new(ManagerConfig::from_fs_root(dir.path()).control_plane(Arc::new(cp)))
        .await
        .expect("manager");
    mgr.config().tenants().create(Tenant::new("acme", "Acme")).await.expect("create");
    let first = mgr.for_tenant("acme").await.expect("resolve");
    first.cache().set("session", b"old tenant's", None).await.expect("set");

    let other = FsControlPlane::new(dir.path(), None).with_watch(FsWatch::Off);
    other.tenants().delete("acme").await.expect("delete");
    other.tenants().create(Tenant::new("acme", "Acme again")).await.expect("re-create");
    mgr.clear_tenant("acme").await;
    let second = mgr.for_tenant("acme").await.expect("resolve again");
    assert_ne!(second.id(), first.id(), "a new tenant");
    assert_eq!(second.cache().get("session").await.expect("get"), None, "the old tenant's key is not served");
    assert!(first.cache().exists("session").await.expect("exists"), "the old cache still holds its own key");
}
