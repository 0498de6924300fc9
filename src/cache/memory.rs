use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache as Moka;

use crate::error::StoreResult;
use crate::repository::{Cache, CacheStats};

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Option<Duration>,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _created_at: Instant) -> Option<Duration> {
        value.ttl
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        value.ttl
    }
}

/// An in-process cache for one tenant, on moka: bounded by total bytes, with a ttl per
/// entry. Atomic `take` and `set_if_absent` come from moka's own `remove` and `entry` APIs.
#[derive(Clone)]
pub struct MemoryCache {
    inner: Moka<String, Entry>,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache").field("entries", &self.inner.entry_count()).finish()
    }
}

impl MemoryCache {
    /// A cache holding at most `max_bytes` of keys and values.
    pub fn new(max_bytes: u64) -> Self {
        let inner = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, v: &Entry| u32::try_from(k.len() + v.value.len()).unwrap_or(u32::MAX))
            .expire_after(PerEntryTtl)
            .build();
        MemoryCache { inner, hits: Arc::default(), misses: Arc::default() }
    }

    fn count(&self, found: bool) {
        let counter = if found { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Default for MemoryCache {
    /// 64 MiB.
    fn default() -> Self {
        MemoryCache::new(64 * 1024 * 1024)
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let found = self.inner.get(key).await.map(|e| e.value.to_vec());
        self.count(found.is_some());
        Ok(found)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<()> {
        self.inner.insert(key.to_string(), Entry { value: value.into(), ttl }).await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> StoreResult<bool> {
        Ok(self.inner.remove(key).await.is_some())
    }

    async fn exists(&self, key: &str) -> StoreResult<bool> {
        Ok(self.inner.contains_key(key))
    }

    async fn get_many(&self, keys: &[String]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)], ttl: Option<Duration>) -> StoreResult<()> {
        for (key, value) in entries {
            self.set(key, value, ttl).await?;
        }
        Ok(())
    }

    async fn delete_many(&self, keys: &[String]) -> StoreResult<u64> {
        let mut removed = 0;
        for key in keys {
            removed += u64::from(self.delete(key).await?);
        }
        Ok(removed)
    }

    async fn delete_by_prefix(&self, prefix: &str) -> StoreResult<u64> {
        let keys: Vec<Arc<String>> =
            self.inner.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, _)| k).collect();
        let mut removed = 0;
        for key in keys {
            removed += u64::from(self.inner.remove(key.as_str()).await.is_some());
        }
        Ok(removed)
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let found = self.inner.remove(key).await.map(|e| e.value.to_vec());
        self.count(found.is_some());
        Ok(found)
    }

    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<bool> {
        // `or_insert_with` coalesces concurrent callers into one insert (exactly one sees a
        // fresh entry); `or_insert` is a get followed by an insert and can crown two winners.
        let fresh = Entry { value: value.into(), ttl };
        let entry = self.inner.entry(key.to_string()).or_insert_with(async move { fresh }).await;
        Ok(entry.is_fresh())
    }

    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn stats(&self) -> StoreResult<CacheStats> {
        self.inner.run_pending_tasks().await;
        Ok(CacheStats {
            backend: "memory".into(),
            entries: self.inner.entry_count(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        })
    }
}
