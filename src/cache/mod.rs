//! Per-tenant caches implementing [`Cache`](crate::repository::Cache): an in-process moka
//! cache (the default) and Redis (when a tenant's settings ask for it, cargo feature
//! `redis`). Each instance serves exactly one tenant; the tenant namespace is part of the
//! instance (a separate moka cache per tenant id, or the key prefix `hj:t:{tenant_id}:` in
//! Redis, which no tenant setting can change), never of the caller's key.

mod memory;
#[cfg(feature = "redis")]
mod redis;
mod unavailable;

pub use memory::MemoryCache;
#[cfg(feature = "redis")]
pub use redis::{KEY_ROOT as REDIS_KEY_ROOT, RedisCache, RedisCacheConfig, namespace as redis_namespace};
pub use unavailable::UnavailableCache;
