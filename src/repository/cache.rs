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
///
/// Errors of every method: `Unavailable` when the cache server cannot be reached (or could
/// not be when the tenant was resolved), `Backend` for another server error. The in-process
/// cache never fails. A missing key is never an error.
#[async_trait]
pub trait Cache: Send + Sync {
    /// The value of `key`, if present and not expired. Counts a hit or a miss.
    ///
    /// Errors: `Unavailable`; a missing or expired key is `Ok(None)`, not `NotFound`.
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `value` under `key` for `ttl` (`None`: until evicted), replacing any value and
    /// ttl the key had.
    ///
    /// Errors: `Unavailable`.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<()>;

    /// Removes `key`. Returns whether it was present.
    ///
    /// Errors: `Unavailable`; a missing key is `Ok(false)`.
    async fn delete(&self, key: &str) -> StoreResult<bool>;

    /// Whether `key` is present (not counted as a hit or a miss).
    ///
    /// Errors: `Unavailable`.
    async fn exists(&self, key: &str) -> StoreResult<bool>;

    /// The values of `keys`, in order, `None` for each missing key; each counts as a hit or
    /// a miss.
    ///
    /// Errors: `Unavailable`.
    async fn get_many(&self, keys: &[String]) -> StoreResult<Vec<Option<Vec<u8>>>>;

    /// Stores every pair with the same ttl. Not atomic on every backend: a concurrent reader
    /// of the memory cache may see some pairs before the others.
    ///
    /// Errors: `Unavailable`.
    async fn set_many(&self, entries: &[(String, Vec<u8>)], ttl: Option<Duration>) -> StoreResult<()>;

    /// Removes `keys`. Returns how many were present (missing keys count 0).
    ///
    /// Errors: `Unavailable`.
    async fn delete_many(&self, keys: &[String]) -> StoreResult<u64>;

    /// Removes every key starting with `prefix` (in this tenant only). Returns how many. The
    /// prefix is literal (glob characters included); `""` empties the tenant's cache. Not
    /// atomic: a key written meanwhile may survive.
    ///
    /// Errors: `Unavailable`.
    async fn delete_by_prefix(&self, prefix: &str) -> StoreResult<u64>;

    /// Gets and removes `key` atomically: of concurrent callers, one gets the value.
    ///
    /// Errors: `Unavailable`; a missing key is `Ok(None)`.
    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores `value` only when `key` is absent. Returns whether it was stored (a lock): of
    /// concurrent callers exactly one gets `true`.
    ///
    /// Errors: `Unavailable`.
    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<bool>;

    /// Checks the backend is reachable.
    ///
    /// Errors: `Unavailable`.
    async fn ping(&self) -> StoreResult<()>;

    /// Counters. Entries are this tenant's; hits and misses are counted by this instance
    /// only (not shared between processes using one Redis).
    ///
    /// Errors: `Unavailable`.
    async fn stats(&self) -> StoreResult<CacheStats>;
}
