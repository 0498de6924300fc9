use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, ExistenceCheck, RedisError, SetExpiry, SetOptions};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::repository::{Cache, CacheStats};

/// What every key the store writes to Redis starts with: [`namespace`] adds the tenant's id.
pub const KEY_ROOT: &str = "hj:t:";

/// The key namespace of a tenant: `hj:t:{tenant_id}:{prefix}`. The store fixes everything
/// up to the tenant's id (a hyphenated UUID: always 36 characters, never a `:`), so no
/// tenant-given `prefix` can make one tenant's namespace a prefix of another's, and a tenant
/// re-created with the same slug (a new id) starts with an empty cache. The `prefix` only
/// subdivides the tenant's own namespace.
pub fn namespace(tenant_id: Uuid, prefix: &str) -> String {
    format!("{KEY_ROOT}{}:{prefix}", tenant_id.hyphenated())
}

/// Where a tenant's Redis cache lives.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisCacheConfig {
    /// `redis://host:port/db` (password included when needed).
    pub url: String,
    /// The tenant's id: every key is `hj:t:{tenant_id}:{prefix}{key}` (see [`namespace`]).
    pub tenant_id: Uuid,
    /// The tenant's own key prefix (its `cache.prefix` setting, `""` when unset), after its
    /// id; any text, glob characters included.
    pub prefix: String,
}

impl std::fmt::Debug for RedisCacheConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCacheConfig")
            .field("url", &crate::mode::redact_dsn(&self.url))
            .field("tenant_id", &self.tenant_id)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A tenant's cache in Redis. Keys are `hj:t:{tenant_id}:{prefix}{key}` ([`namespace`]), so
/// tenants sharing a server never see each other's keys, whatever their prefixes; the
/// patterns of `SCAN MATCH` (`delete_by_prefix`, `stats`) escape every glob character of
/// the namespace and the caller's prefix. `take` is `GETDEL`, `set_if_absent` is `SET NX`.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    namespace: String,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").field("namespace", &self.namespace).finish()
    }
}

fn map_err(e: RedisError) -> StoreError {
    if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout() {
        StoreError::Unavailable { backend: "redis".into(), message: e.to_string(), source: Some(Box::new(e)) }
    } else {
        StoreError::backend("redis", e)
    }
}

/// Escapes the glob characters of a `SCAN MATCH` pattern (`*`, `?`, `[`, `]`, `\\`), so
/// the text matches only itself.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn expiry(ttl: Option<Duration>) -> Option<SetExpiry> {
    ttl.map(|t| SetExpiry::PX(u64::try_from(t.as_millis()).unwrap_or(u64::MAX).max(1)))
}

impl RedisCache {
    /// Connects to Redis (the connection reconnects by itself afterwards).
    ///
    /// Errors: `InvalidInput` for a malformed URL; `Unavailable` when Redis does not answer.
    pub async fn connect(cfg: &RedisCacheConfig) -> StoreResult<Self> {
        let client = redis::Client::open(cfg.url.as_str()).map_err(|e| {
            StoreError::invalid("cache.url", format!("{}: {e}", crate::mode::redact_dsn(&cfg.url)))
                .scrub_dsn(&cfg.url)
        })?;
        let conn = ConnectionManager::new(client).await.map_err(|e| map_err(e).scrub_dsn(&cfg.url))?;
        Ok(RedisCache {
            conn,
            namespace: namespace(cfg.tenant_id, &cfg.prefix),
            hits: Arc::default(),
            misses: Arc::default(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.namespace, key)
    }

    fn count(&self, found: bool) {
        let counter = if found { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    async fn scan(&self, pattern: &str) -> StoreResult<Vec<String>> {
        let mut conn = self.conn.clone();
        let mut cursor: u64 = 0;
        let mut keys = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(map_err)?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let found: Option<Vec<u8>> = self.conn.clone().get(self.key(key)).await.map_err(map_err)?;
        self.count(found.is_some());
        Ok(found)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<()> {
        let mut opts = SetOptions::default();
        if let Some(exp) = expiry(ttl) {
            opts = opts.with_expiration(exp);
        }
        let _: () = self.conn.clone().set_options(self.key(key), value, opts).await.map_err(map_err)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> StoreResult<bool> {
        let n: u64 = self.conn.clone().del(self.key(key)).await.map_err(map_err)?;
        Ok(n > 0)
    }

    async fn exists(&self, key: &str) -> StoreResult<bool> {
        self.conn.clone().exists(self.key(key)).await.map_err(map_err)
    }

    async fn get_many(&self, keys: &[String]) -> StoreResult<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let full: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let values: Vec<Option<Vec<u8>>> =
            redis::cmd("MGET").arg(&full).query_async(&mut self.conn.clone()).await.map_err(map_err)?;
        for v in &values {
            self.count(v.is_some());
        }
        Ok(values)
    }

    async fn set_many(&self, entries: &[(String, Vec<u8>)], ttl: Option<Duration>) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (key, value) in entries {
            let mut opts = SetOptions::default();
            if let Some(exp) = expiry(ttl) {
                opts = opts.with_expiration(exp);
            }
            pipe.set_options(self.key(key), value.as_slice(), opts).ignore();
        }
        let _: () = pipe.query_async(&mut self.conn.clone()).await.map_err(map_err)?;
        Ok(())
    }

    async fn delete_many(&self, keys: &[String]) -> StoreResult<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let full: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        self.conn.clone().del(full).await.map_err(map_err)
    }

    async fn delete_by_prefix(&self, prefix: &str) -> StoreResult<u64> {
        let pattern = format!("{}*", escape_glob(&self.key(prefix)));
        let keys = self.scan(&pattern).await?;
        let mut removed = 0;
        for chunk in keys.chunks(500) {
            let n: u64 = self.conn.clone().del(chunk).await.map_err(map_err)?;
            removed += n;
        }
        Ok(removed)
    }

    async fn take(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let found: Option<Vec<u8>> = self.conn.clone().get_del(self.key(key)).await.map_err(map_err)?;
        self.count(found.is_some());
        Ok(found)
    }

    async fn set_if_absent(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> StoreResult<bool> {
        let mut opts = SetOptions::default().conditional_set(ExistenceCheck::NX);
        if let Some(exp) = expiry(ttl) {
            opts = opts.with_expiration(exp);
        }
        let reply: Option<String> =
            self.conn.clone().set_options(self.key(key), value, opts).await.map_err(map_err)?;
        Ok(reply.is_some())
    }

    async fn ping(&self) -> StoreResult<()> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn.clone()).await.map_err(map_err)?;
        Ok(())
    }

    async fn stats(&self) -> StoreResult<CacheStats> {
        let pattern = format!("{}*", escape_glob(&self.namespace));
        let entries = self.scan(&pattern).await?.len() as u64;
        Ok(CacheStats {
            backend: "redis".into(),
            entries,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_escaped_and_namespaces_are_fixed_up_to_the_id() {
        assert_eq!(escape_glob(r"a*b?c[d]e\f"), r"a\*b\?c\[d\]e\\f");
        let id = Uuid::nil();
        assert_eq!(namespace(id, ""), "hj:t:00000000-0000-0000-0000-000000000000:");
        assert_eq!(namespace(id, "*"), "hj:t:00000000-0000-0000-0000-000000000000:*");
        let other = Uuid::max();
        for prefix in ["", "*", "acme:", "[", "\\"] {
            assert!(!namespace(other, "").starts_with(&namespace(id, prefix)));
        }
    }
}
