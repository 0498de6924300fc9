//! Open data-plane connections, one per tenant, on moka.
//!
//! - Concurrent opens of one tenant collapse into one `connect` (moka's `try_get_with`).
//! - At most `max_open_tenants` tenants hold an open connection pool, counting the ones
//!   being opened: each open takes one of `max_open_tenants` slots (a semaphore) before it
//!   connects and gives it back when its connection is closed. When no slot is free, the
//!   least recently used tenant idle for at least `eviction_grace` is closed to make room;
//!   a caller waits at most its acquire timeout for a slot. Tenants idle for `idle_timeout`
//!   are closed by a sweep; "used" means handed out by [`ConnectionPool::get`] or marked
//!   through the connection's [`UseMark`] (which the manager's warm path does, so a busy
//!   tenant is never closed as idle).
//! - A connection opened with one configuration is not handed out for another: when a
//!   tenant's database settings change, the next `get` with the new ones reconnects.
//! - A health check pings every open connection and drops those that stop answering.
//! - A failed connect is not remembered: the next call tries again.
//!
//! The pool owns connections only; it knows nothing of tenants' settings (the factory
//! resolves those) and never touches the control plane.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use moka::future::Cache as Moka;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{StoreError, StoreResult};
use crate::model::Timestamp;
use crate::registry::{AdapterConnection, ConnectConfig, Registry};

/// Limits and timers of the [`ConnectionPool`].
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most tenants holding an open connection pool at once (least recently used closed first).
    pub max_open_tenants: u64,
    /// A tenant unused for this long is closed.
    pub idle_timeout: Duration,
    /// How often open connections are pinged (`None`: never).
    pub health_check_interval: Option<Duration>,
    /// How long a ping may take before the connection counts as dead.
    pub health_check_timeout: Duration,
    /// A tenant used more recently than this is not closed to make room for another one
    /// (so an access just handed out is not closed under its caller).
    pub eviction_grace: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_open_tenants: 100,
            idle_timeout: Duration::from_secs(600),
            health_check_interval: Some(Duration::from_secs(30)),
            health_check_timeout: Duration::from_secs(5),
            eviction_grace: Duration::from_millis(250),
        }
    }
}

/// Records that a pooled connection is in use, without a clock read or a lock: one relaxed
/// load (and a store the first time after each sweep). Cheap enough for every request.
#[derive(Debug, Clone, Default)]
pub struct UseMark(Arc<AtomicBool>);

impl UseMark {
    /// Marks the connection as used now (as far as idle closing and LRU order go).
    pub fn mark(&self) {
        if !self.0.load(Ordering::Relaxed) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

struct PoolEntry {
    conn: Arc<dyn AdapterConnection>,
    driver: String,
    /// What the connection was opened with; a `get` with other settings reconnects.
    fingerprint: u64,
    created_at: Timestamp,
    last_used_micros: AtomicI64,
    used: UseMark,
    /// The open-tenant slot this connection holds; given back when the entry is dropped.
    _slot: OwnedSemaphorePermit,
}

impl PoolEntry {
    fn touch(&self) {
        self.last_used_micros.store(chrono::Utc::now().timestamp_micros(), Ordering::Relaxed);
    }

    /// When the connection was last used, folding in a pending [`UseMark`].
    fn last_used(&self) -> i64 {
        if self.used.0.swap(false, Ordering::Relaxed) {
            self.touch();
        }
        self.last_used_micros.load(Ordering::Relaxed)
    }
}

/// A connection handed out by [`ConnectionPool::checkout`], with the mark its users set.
#[derive(Clone)]
pub struct Checkout {
    /// The open connection.
    pub conn: Arc<dyn AdapterConnection>,
    /// Marks the connection used, so an idle sweep does not close it under a busy tenant.
    pub mark: UseMark,
}

/// Identifies what a connection was opened with: driver, DSN, schema and pool size.
fn fingerprint(cfg: &ConnectConfig) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&cfg.db.driver, &cfg.db.dsn, &cfg.db.schema, cfg.max_connections).hash(&mut h);
    h.finish()
}

/// One tenant's line in [`PoolStats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPoolStats {
    /// Pool key (the tenant slug).
    pub tenant: String,
    /// Driver of the connection.
    pub driver: String,
    /// When the connection was opened.
    pub created_at: Timestamp,
    /// When it was last handed out.
    pub last_used: Timestamp,
}

/// What the pool holds and has done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Tenants with an open connection, by slug.
    pub tenants: Vec<TenantPoolStats>,
    /// Open tenant connections right now.
    pub open: u64,
    /// Connects performed since start (successful or not).
    pub connects: u64,
    /// Connections closed since start (evicted, idle, unhealthy, refreshed).
    pub closed: u64,
}

/// Called with the key of every connection the pool closes.
pub type CloseHook = Arc<dyn Fn(String) -> moka::notification::ListenerFuture + Send + Sync>;

/// Per-tenant connections with single-flight opening, an LRU bound, idle closing and
/// health checks.
pub struct ConnectionPool {
    registry: Arc<Registry>,
    entries: Moka<String, Arc<PoolEntry>>,
    slots: Arc<Semaphore>,
    counters: Arc<Counters>,
    config: PoolConfig,
}

#[derive(Default)]
struct Counters {
    open: AtomicU64,
    connects: AtomicU64,
    closed: AtomicU64,
}

impl std::fmt::Debug for ConnectionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool")
            .field("config", &self.config)
            .field("open", &self.counters.open.load(Ordering::Relaxed))
            .finish()
    }
}

impl ConnectionPool {
    /// A pool opening connections through `registry`. `on_close` is called with the key of
    /// every connection the pool closes (so that caches built on it can drop it).
    pub fn new(registry: Arc<Registry>, config: PoolConfig, on_close: Option<CloseHook>) -> Arc<Self> {
        let counters = Arc::new(Counters::default());
        let listener_counters = counters.clone();
        let entries = Moka::builder()
            .max_capacity(config.max_open_tenants.max(1))
            .eviction_policy(EvictionPolicy::lru())
            .async_eviction_listener(move |key: Arc<String>, entry: Arc<PoolEntry>, cause| {
                let counters = listener_counters.clone();
                let on_close = on_close.clone();
                Box::pin(async move {
                    if cause == RemovalCause::Replaced {
                        return;
                    }
                    counters.open.fetch_sub(1, Ordering::Relaxed);
                    counters.closed.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = entry.conn.close().await {
                        tracing::warn!(tenant = %key, error = %e, "closing tenant connection failed");
                    }
                    tracing::debug!(tenant = %key, ?cause, "tenant connection closed");
                    if let Some(hook) = on_close {
                        hook(key.to_string()).await;
                    }
                })
            })
            .build();
        let slots =
            Arc::new(Semaphore::new(usize::try_from(config.max_open_tenants.max(1)).unwrap_or(usize::MAX)));
        let pool = Arc::new(ConnectionPool { registry, entries, slots, counters, config });
        if let Some(every) = pool.config.health_check_interval {
            spawn_periodic(Arc::downgrade(&pool), every, "connection health checks", |pool| async move {
                pool.health_check().await;
            });
        }
        let sweep = idle_sweep_interval(pool.config.idle_timeout);
        spawn_periodic(Arc::downgrade(&pool), sweep, "closing idle tenant connections", |pool| async move {
            pool.close_idle().await;
        });
        pool
    }

    /// The open connection of `key`, opening it with `cfg` when there is none. Of many
    /// concurrent callers for one key, one connects and the others wait for its result.
    ///
    /// Errors: those of the adapter's `connect` (typically `Unavailable`) and of the
    /// registry lookup; a failure is not cached.
    pub async fn get(&self, key: &str, cfg: &ConnectConfig) -> StoreResult<Arc<dyn AdapterConnection>> {
        Ok(self.checkout(key, cfg).await?.conn)
    }

    /// [`get`](Self::get), with the connection's [`UseMark`]: a holder that marks it on
    /// every use keeps the connection from being closed as idle.
    ///
    /// An open connection of `key` made with other settings (driver, DSN, schema, pool
    /// size) than `cfg` is closed and replaced, so a tenant's changed database takes effect
    /// even when a stale open raced the change.
    ///
    /// Errors: as [`get`](Self::get).
    pub async fn checkout(&self, key: &str, cfg: &ConnectConfig) -> StoreResult<Checkout> {
        let wanted = fingerprint(cfg);
        if let Some(entry) = self.entries.get(key).await {
            if entry.fingerprint == wanted {
                entry.touch();
                return Ok(Checkout { conn: entry.conn.clone(), mark: entry.used.clone() });
            }
            tracing::debug!(tenant = key, "tenant database settings changed; reconnecting");
            self.refresh(key).await;
        }
        let result = self
            .entries
            .try_get_with(key.to_string(), async {
                let slot = self.acquire_slot(cfg.acquire_timeout).await?;
                self.counters.connects.fetch_add(1, Ordering::Relaxed);
                let conn = self.registry.connect(cfg).await?;
                self.counters.open.fetch_add(1, Ordering::Relaxed);
                let now = chrono::Utc::now();
                Ok::<_, StoreError>(Arc::new(PoolEntry {
                    conn,
                    driver: cfg.db.driver.clone(),
                    fingerprint: wanted,
                    created_at: now,
                    last_used_micros: AtomicI64::new(now.timestamp_micros()),
                    used: UseMark::default(),
                    _slot: slot,
                }))
            })
            .await;
        // Enforce the bound now rather than at moka's next maintenance.
        self.entries.run_pending_tasks().await;
        match result {
            Ok(entry) => {
                entry.touch();
                Ok(Checkout { conn: entry.conn.clone(), mark: entry.used.clone() })
            }
            Err(shared) => Err(clone_error(&shared)),
        }
    }

    /// One open-tenant slot: a free one, or one freed by closing the least recently used
    /// tenant past its grace period. Waits at most `timeout`.
    ///
    /// Errors: `Unavailable` when every slot stays busy for `timeout`.
    async fn acquire_slot(&self, timeout: Duration) -> StoreResult<OwnedSemaphorePermit> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                return Ok(slot);
            }
            if let Some(victim) = self.least_recently_used() {
                tracing::debug!(tenant = %victim, "closing the least recently used tenant to make room");
                self.entries.invalidate(&victim).await;
                self.entries.run_pending_tasks().await;
            }
            let wait = Duration::from_millis(50)
                .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
            match tokio::time::timeout(wait, self.slots.clone().acquire_owned()).await {
                Ok(Ok(slot)) => return Ok(slot),
                Ok(Err(_)) => return Err(StoreError::unavailable("pool", "the connection pool is closed")),
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    return Err(StoreError::unavailable(
                        "pool",
                        format!(
                            "all {} open-tenant slots stayed busy for {timeout:?}",
                            self.config.max_open_tenants
                        ),
                    ));
                }
                Err(_) => {}
            }
        }
    }

    /// The open tenant used least recently, if it has been idle for the grace period.
    fn least_recently_used(&self) -> Option<String> {
        let cutoff = chrono::Utc::now().timestamp_micros()
            - i64::try_from(self.config.eviction_grace.as_micros()).unwrap_or(i64::MAX);
        self.entries
            .iter()
            .map(|(key, e)| (e.last_used(), key))
            .filter(|(used, _)| *used <= cutoff)
            .min_by_key(|(used, _)| *used)
            .map(|(_, key)| key.to_string())
    }

    /// Closes the connection of `key` (if open); the next [`get`](Self::get) reconnects.
    pub async fn refresh(&self, key: &str) {
        self.entries.invalidate(key).await;
        self.entries.run_pending_tasks().await;
    }

    /// Closes every connection unused for the idle timeout. Returns the keys closed. Runs
    /// on its own every quarter of the idle timeout (between 10 ms and 30 s).
    pub async fn close_idle(&self) -> Vec<String> {
        let cutoff = chrono::Utc::now().timestamp_micros()
            - i64::try_from(self.config.idle_timeout.as_micros()).unwrap_or(i64::MAX);
        let idle: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| e.last_used() <= cutoff)
            .map(|(k, _)| k.to_string())
            .collect();
        for key in &idle {
            tracing::debug!(tenant = %key, "closing an idle tenant connection");
            self.entries.invalidate(key).await;
        }
        self.entries.run_pending_tasks().await;
        idle
    }

    /// Pings every open connection and closes those that fail or time out. Returns the keys
    /// that were dropped.
    pub async fn health_check(&self) -> Vec<String> {
        let open: Vec<(Arc<String>, Arc<PoolEntry>)> = self.entries.iter().collect();
        let mut dropped = Vec::new();
        for (key, entry) in open {
            let alive = tokio::time::timeout(self.config.health_check_timeout, entry.conn.ping()).await;
            if !matches!(alive, Ok(Ok(()))) {
                tracing::warn!(tenant = %key, "tenant connection failed its health check; closing it");
                self.entries.invalidate(key.as_str()).await;
                dropped.push(key.to_string());
            }
        }
        self.entries.run_pending_tasks().await;
        dropped
    }

    /// Per-tenant and total figures.
    pub async fn stats(&self) -> PoolStats {
        self.entries.run_pending_tasks().await;
        let mut tenants: Vec<TenantPoolStats> = self
            .entries
            .iter()
            .map(|(key, e)| TenantPoolStats {
                tenant: key.to_string(),
                driver: e.driver.clone(),
                created_at: e.created_at,
                last_used: chrono::DateTime::from_timestamp_micros(e.last_used()).unwrap_or(e.created_at),
            })
            .collect();
        tenants.sort_by(|a, b| a.tenant.cmp(&b.tenant));
        PoolStats {
            tenants,
            open: self.counters.open.load(Ordering::Relaxed),
            connects: self.counters.connects.load(Ordering::Relaxed),
            closed: self.counters.closed.load(Ordering::Relaxed),
        }
    }

    /// Open tenant connections right now.
    pub fn open_count(&self) -> u64 {
        self.counters.open.load(Ordering::Relaxed)
    }

    /// Closes every connection.
    pub async fn close_all(&self) {
        self.entries.invalidate_all();
        self.entries.run_pending_tasks().await;
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }
}

/// Runs `job` on the pool every `every` (the first run one period after start) until the
/// pool is dropped. `what` names the job in the warning logged when there is no runtime.
fn spawn_periodic<F, Fut>(pool: Weak<ConnectionPool>, every: Duration, what: &'static str, job: F)
where
    F: Fn(Arc<ConnectionPool>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: {what} disabled");
        return;
    };
    handle.spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let Some(pool) = pool.upgrade() else { return };
            job(pool).await;
        }
    });
}

fn idle_sweep_interval(idle_timeout: Duration) -> Duration {
    (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(30))
}

/// A [`StoreError`] shared by moka between single-flight waiters, rebuilt for each caller.
fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable { backend, message, .. } => {
            StoreError::Unavailable { backend: backend.clone(), message: message.clone(), source: None }
        }
        StoreError::InvalidInput { field, message } => {
            StoreError::InvalidInput { field: field.clone(), message: message.clone() }
        }
        StoreError::NotSupported { operation, backend } => {
            StoreError::NotSupported { operation: operation.clone(), backend: backend.clone() }
        }
        other => StoreError::Backend { backend: "pool".into(), message: other.to_string(), source: None },
    }
}
