use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreResult;

/// Counters of a cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Backend name (`memory`, `redis`).
    pub backend: String,
    /// Entries held (approximate for shared backends).
    pub entries: u64,
    /// Successful lookups.
    pub hits: u64,
    /// Lookups that found nothing.
    pub misses: u64,
}

/// A tenant's cache. Keys are namespaced by tenant: two tenants never see each other's
/// keys, whatever the keys are.
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value of `key`, if present and not expired.
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `value` under `key` for `ttl` (`None`: until evicted).
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<()>;

    /// Removes `key`. Returns whether it was present.
    async fn delete(&self, key: &str) -> StoreResult<bool>;

    /// Whether `key` is present.
    async fn exists(&self, key: &str) -> StoreResult<bool>;

    /// The values of `keys`, in order.
    async fn get_many(&self, keys: &[String]) -> StoreResult<Vec<Option<Vec<u8>>>>;

    /// Stores every pair with the same ttl.
    async fn set_many(&self, entries: &[(String, Vec<u8>)], ttl: Option<Duration>) -> StoreResult<()>;

    /// Removes `keys`. Returns how many were present.
    async fn delete_many(&self, keys: &[String]) -> StoreResult<u64>;

    /// Removes every key starting with `prefix` (in this tenant only). Returns how many.
    async fn delete_by_prefix(&self, prefix: &str) -> StoreResult<u64>;

    /// Gets and removes `key` atomically: of concurrent callers, one gets the value.
    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `value` only when `key` is absent. Returns whether it was stored (a lock).
    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<bool>;

    /// Checks the backend is reachable.
    ///
    /// Errors: `Unavailable`.
    async fn ping(&self) -> StoreResult<()>;

    /// Counters.
    async fn stats(&self) -> StoreResult<CacheStats>;
}
