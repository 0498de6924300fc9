//! Open database servers, one [`ServerPool`] per server, on moka. Tenants whose namespaces
//! live on one server share its pool, so connections to a server are bounded by its pool
//! size whatever the number of tenants.
//!
//! - A server is keyed by driver and DSN with the namespace set aside
//!   ([`Location::server`](crate::registry::Location)); concurrent opens of one server
//!   collapse into one `open_server` (moka's `try_get_with`). Opening a server's pool opens
//!   no connection on the SQL engines: connections are made on first use.
//! - At most `max_open_servers` servers are open at once, counting the ones being opened
//!   (a SQLite file is a server, so this bounds open files): each open takes one of
//!   `max_open_servers` slots (a semaphore) and gives it back when the server is closed.
//!   When no slot is free, the least recently used server idle for at least `eviction_grace`
//!   is closed to make room; a caller waits at most its acquire timeout for a slot. Servers
//!   idle for `idle_timeout` are closed by a sweep; "used" means handed out by
//!   [`ConnectionPool::checkout`] or marked through its [`UseMark`] (which every tenant
//!   access on the server does, so a busy server is never closed as idle).
//! - A health check pings every open server and drops those that stop answering (closed
//!   once the calls in flight on them end); the next call opens the server again.
//! - A failed open is not remembered: the next call tries again.
//!
//! The pool owns servers only; it knows nothing of tenants' settings (the manager resolves
//! those and binds each tenant to its namespace on a server) and never touches the control
//! plane.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use moka::future::Cache as Moka;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{StoreError, StoreResult};
use crate::model::Timestamp;
use crate::registry::{Registry, ServerConfig, ServerPool, ServerPoolFigures};

/// Limits and timers of the [`ConnectionPool`].
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most servers (pools; SQLite files) open at once (least recently used closed first).
    pub max_open_servers: u64,
    /// A server unused for this long is closed.
    pub idle_timeout: Duration,
    /// How often open servers are pinged (`None`: never).
    pub health_check_interval: Option<Duration>,
    /// How long a ping may take before the connection counts as dead.
    pub health_check_timeout: Duration,
    /// A server used more recently than this is not closed to make room for another one
    /// (so an access just handed out is not closed under its caller).
    pub eviction_grace: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_open_servers: 100,
            idle_timeout: Duration::from_secs(600),
            health_check_interval: Some(Duration::from_secs(30)),
            health_check_timeout: Duration::from_secs(5),
            eviction_grace: Duration::from_millis(250),
        }
    }
}

/// Records that a pooled server is in use, without a clock read or a lock: one relaxed
/// load (and a store the first time after each sweep). Cheap enough for every request.
#[derive(Debug, Clone, Default)]
pub struct UseMark(Arc<AtomicBool>);

impl UseMark {
    /// Marks the server as used now (as far as idle closing and LRU order go).
    pub fn mark(&self) {
        if !self.0.load(Ordering::Relaxed) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

struct PoolEntry {
    server: Arc<dyn ServerPool>,
    driver: String,
    /// The server's DSN, redacted.
    redacted: String,
    created_at: Timestamp,
    last_used_micros: AtomicI64,
    used: UseMark,
    /// Closed already (by `refresh` or `close_all`).
    closed: AtomicBool,
    /// Dropped from the pool: no longer handed out (set before the eviction listener looks
    /// at who still holds the server, so a checkout racing the drop either is seen holding
    /// it or sees this and looks again).
    retired: AtomicBool,
    /// The namespaces provisioned through this pool since it opened.
    provisioned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The open-server slot this pool holds; given back when the entry is dropped.
    _slot: OwnedSemaphorePermit,
}

impl PoolEntry {
    fn touch(&self) {
        self.last_used_micros.store(chrono::Utc::now().timestamp_micros(), Ordering::Relaxed);
    }

    /// Closes the server now, whoever holds it.
    async fn close(&self) {
        if !self.closed.swap(true, Ordering::Relaxed) {
            self.server.close().await;
        }
    }

    /// When the connection was last used, folding in a pending [`UseMark`].
    fn last_used(&self) -> i64 {
        if self.used.0.swap(false, Ordering::Relaxed) {
            self.touch();
        }
        self.last_used_micros.load(Ordering::Relaxed)
    }
}

/// A server handed out by [`ConnectionPool::checkout`], with the mark its users set.
#[derive(Clone)]
pub struct Checkout {
    /// The server's pool.
    pub server: Arc<dyn ServerPool>,
    /// Marks the server used, so an idle sweep does not close it under a busy tenant.
    pub mark: UseMark,
}

/// The key of a server in the pool: driver and server DSN.
pub fn server_key(server: &ServerConfig) -> String {
    format!("{}\u{0}{}", server.driver.trim().to_ascii_lowercase(), server.dsn)
}

/// One server's line in [`PoolStats`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStats {
    /// The server's DSN, redacted (password hidden).
    pub server: String,
    /// Driver.
    pub driver: String,
    /// Connections: most, open, in use, idle; calls waiting.
    pub figures: ServerPoolFigures,
    /// Tenants whose cached access is on this server (filled by the manager).
    pub tenants: u64,
    /// When the pool was opened.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used: Timestamp,
}

/// What the pool holds and has done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open servers, by redacted DSN.
    pub servers: Vec<ServerStats>,
    /// Open servers right now.
    pub open: u64,
    /// Server pools opened since start (successful or not).
    pub connects: u64,
    /// Server pools closed since start (evicted, idle, unhealthy, refreshed).
    pub closed: u64,
}

/// Called with the key of every server the pool closes.
pub type CloseHook = Arc<dyn Fn(String) -> moka::notification::ListenerFuture + Send + Sync>;

/// Server pools with single-flight opening, an LRU bound, idle closing and health checks.
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
    /// A pool opening servers through `registry`. `on_close` is called with the key of every
    /// server the pool closes (so that tenant accesses bound to it can be dropped).
    pub fn new(registry: Arc<Registry>, config: PoolConfig, on_close: Option<CloseHook>) -> Arc<Self> {
        let counters = Arc::new(Counters::default());
        let listener_counters = counters.clone();
        let entries = Moka::builder()
            .max_capacity(config.max_open_servers.max(1))
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
                    // Closed now only when nothing else holds it: calls in flight (and accesses a
                    // caller still holds) keep a pool until they end, and it closes when its
                    // last holder lets go. `close_all` and `refresh`
                    // close it at once.
                    entry.retired.store(true, Ordering::SeqCst);
                    if !entry.closed.load(Ordering::Relaxed)
                        && Arc::strong_count(&entry.server) == 1
                        && entry.server.holders() == 0
                    {
                        entry.server.close().await;
                    }
                    tracing::debug!(server = %entry.redacted, ?cause, "server pool dropped from the pool");
                    if let Some(hook) = on_close {
                        hook(key.to_string()).await;
                    }
                })
            })
            .build();
        let slots =
            Arc::new(Semaphore::new(usize::try_from(config.max_open_servers.max(1)).unwrap_or(usize::MAX)));
        let pool = Arc::new(ConnectionPool { registry, entries, slots, counters, config });
        if let Some(every) = pool.config.health_check_interval {
            spawn_periodic(Arc::downgrade(&pool), every, "connection health checks", |pool| async move {
                pool.health_check().await;
            });
        }
        let sweep = idle_sweep_interval(pool.config.idle_timeout);
        spawn_periodic(Arc::downgrade(&pool), sweep, "closing idle servers", |pool| async move {
            pool.close_idle().await;
        });
        pool
    }

    /// The open pool of `server`, opening it when there is none. Of many concurrent callers
    /// for one server, one opens it and the others wait for its result.
    ///
    /// Errors: those of the adapter's `open_server` and of the registry lookup; a failure is
    /// not cached.
    pub async fn checkout(&self, server: &ServerConfig) -> StoreResult<Checkout> {
        // A server dropped from the pool between the lookup and the clone (see the eviction
        // listener) is not handed out: look again, which opens it anew.
        for _ in 0..8 {
            let out = self.checkout_once(server).await?;
            if let Some(out) = out {
                return Ok(out);
            }
        }
        Err(StoreError::unavailable("pool", "the server's pool kept being dropped while it was taken"))
    }

    async fn checkout_once(&self, server: &ServerConfig) -> StoreResult<Option<Checkout>> {
        let key = server_key(server);
        let handed = |entry: &PoolEntry| {
            let out = Checkout { server: entry.server.clone(), mark: entry.used.clone() };
            (!entry.retired.load(Ordering::SeqCst)).then_some(out)
        };
        if let Some(entry) = self.entries.get(&key).await {
            entry.touch();
            return Ok(handed(&entry));
        }
        let result = self
            .entries
            .try_get_with(key.clone(), async {
                let slot = self.acquire_slot(server.acquire_timeout).await?;
                self.counters.connects.fetch_add(1, Ordering::Relaxed);
                let pool = self.registry.open_server(server).await?;
                self.counters.open.fetch_add(1, Ordering::Relaxed);
                let now = chrono::Utc::now();
                Ok::<_, StoreError>(Arc::new(PoolEntry {
                    server: pool,
                    driver: server.driver.clone(),
                    redacted: crate::mode::redact_dsn(&server.dsn),
                    created_at: now,
                    last_used_micros: AtomicI64::new(now.timestamp_micros()),
                    used: UseMark::default(),
                    closed: AtomicBool::new(false),
                    retired: AtomicBool::new(false),
                    provisioned: Default::default(),
                    _slot: slot,
                }))
            })
            .await;
        // Enforce the bound now rather than at moka's next maintenance.
        self.entries.run_pending_tasks().await;
        match result {
            Ok(entry) => {
                entry.touch();
                Ok(handed(&entry))
            }
            Err(shared) => Err(clone_error(&shared)),
        }
    }

    /// Provisions `namespace` on `server`. With `once`, a namespace this open pool already
    /// provisioned is not provisioned again.
    ///
    /// Errors: those of [`checkout`](Self::checkout) and [`ServerPool::provision`].
    pub async fn provision(
        &self,
        server: &ServerConfig,
        namespace: Option<&str>,
        once: bool,
    ) -> StoreResult<()> {
        let key = server_key(server);
        let out = self.checkout(server).await?;
        let ns = namespace.unwrap_or_default().to_string();
        if once
            && let Some(entry) = self.entries.get(&key).await
            && entry.provisioned.lock().map(|set| set.contains(&ns)).unwrap_or(false)
        {
            return Ok(());
        }
        // On a task of its own: a caller that gives up (a timeout, a dropped request) does not
        // cut a migration in half (MySQL's DDL is not transactional).
        let server = out.server.clone();
        let owned = namespace.map(str::to_string);
        tokio::spawn(async move { server.provision(owned.as_deref()).await })
            .await
            .map_err(|e| StoreError::unavailable("pool", format!("provisioning task failed: {e}")))??;
        if let Some(entry) = self.entries.get(&key).await
            && Arc::ptr_eq(&entry.server, &out.server)
            && let Ok(mut set) = entry.provisioned.lock()
        {
            set.insert(ns);
        }
        Ok(())
    }

    /// Forgets that `namespace` was provisioned on `server` (it was dropped).
    pub async fn forget_provisioned(&self, server: &ServerConfig, namespace: Option<&str>) {
        if let Some(entry) = self.entries.get(&server_key(server)).await
            && let Ok(mut set) = entry.provisioned.lock()
        {
            set.remove(namespace.unwrap_or_default());
        }
    }

    /// One open-server slot: a free one, or one freed by closing the least recently used
    /// server past its grace period. Waits at most `timeout`.
    ///
    /// Errors: `Unavailable` when every slot stays busy for `timeout`.
    async fn acquire_slot(&self, timeout: Duration) -> StoreResult<OwnedSemaphorePermit> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                return Ok(slot);
            }
            if let Some(victim) = self.least_recently_used() {
                tracing::debug!("closing the least recently used server to make room");
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
                            "all {} open-server slots stayed busy for {timeout:?}",
                            self.config.max_open_servers
                        ),
                    ));
                }
                Err(_) => {}
            }
        }
    }

    /// The open server used least recently, if it has been idle for the grace period.
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

    /// Closes the server of `key` (a [`server_key`], if open); the next
    /// [`checkout`](Self::checkout) opens it again.
    pub async fn refresh(&self, key: &str) {
        if let Some(entry) = self.entries.get(key).await {
            entry.close().await;
        }
        self.entries.invalidate(key).await;
        self.entries.run_pending_tasks().await;
    }

    /// Closes every server unused for the idle timeout. Returns the keys closed. Runs
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
            tracing::debug!("closing an idle server");
            self.entries.invalidate(key).await;
        }
        self.entries.run_pending_tasks().await;
        idle
    }

    /// Pings every open server and closes those that fail or time out. Returns the keys
    /// that were dropped.
    pub async fn health_check(&self) -> Vec<String> {
        let open: Vec<(Arc<String>, Arc<PoolEntry>)> = self.entries.iter().collect();
        let mut dropped = Vec::new();
        for (key, entry) in open {
            let alive = tokio::time::timeout(self.config.health_check_timeout, entry.server.ping()).await;
            if !matches!(alive, Ok(Ok(()))) {
                // Dropped, not closed under its callers: a server too busy to answer within the
                // timeout is not dead, and calls in flight finish on it.
                tracing::warn!(server = %entry.redacted, "server failed its health check; dropping its pool");
                self.entries.invalidate(key.as_str()).await;
                dropped.push(key.to_string());
            }
        }
        self.entries.run_pending_tasks().await;
        dropped
    }

    /// Per-server and total figures.
    pub async fn stats(&self) -> PoolStats {
        self.stats_with(|_| 0).await
    }

    /// [`stats`](Self::stats), with each server's `tenants` from `tenants_of` (given the
    /// server's [`server_key`]).
    pub async fn stats_with(&self, tenants_of: impl Fn(&str) -> u64) -> PoolStats {
        self.entries.run_pending_tasks().await;
        let mut servers: Vec<ServerStats> = self
            .entries
            .iter()
            .map(|(key, e)| ServerStats {
                server: e.redacted.clone(),
                driver: e.driver.clone(),
                figures: e.server.figures(),
                tenants: tenants_of(key.as_str()),
                created_at: e.created_at,
                last_used: chrono::DateTime::from_timestamp_micros(e.last_used()).unwrap_or(e.created_at),
            })
            .collect();
        servers.sort_by(|a, b| (&a.driver, &a.server).cmp(&(&b.driver, &b.server)));
        PoolStats {
            servers,
            open: self.counters.open.load(Ordering::Relaxed),
            connects: self.counters.connects.load(Ordering::Relaxed),
            closed: self.counters.closed.load(Ordering::Relaxed),
        }
    }

    /// Open servers right now.
    pub fn open_count(&self) -> u64 {
        self.counters.open.load(Ordering::Relaxed)
    }

    /// Closes every server.
    pub async fn close_all(&self) {
        for (_, entry) in self.entries.iter() {
            entry.close().await;
        }
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
