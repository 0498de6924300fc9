//! Many tenants on one database server (issue 13's scenario), on PostgreSQL (a schema each)
//! and MySQL/MariaDB (a database each), every tenant on the same server pool of
//! [`POOL_SIZE`] connections. N = 10,000 tenants in a full run (`--tenants` to change it),
//! 200 in `--quick`.
//!
//! 1. *provision*: the first `min(N, 1,000)` tenants created through
//!    `manager.config().tenants().create(..)` (which creates and migrates the namespace and
//!    records `provisioning`), 8 at a time; the other tenants are written straight into the
//!    FS tree (as [`super::control::generate`] does: the FS `create` lists every tenant under
//!    its lock, a control-plane cost that grows with the tree and is not the data plane's)
//!    and provisioned through `Manager::provision_tenant`, 8 at a time. Figure: ms per
//!    tenant. Baseline: the same number of bare `CREATE SCHEMA` / `CREATE DATABASE` plus one
//!    `CREATE TABLE` each through sqlx, 8 at a time.
//! 2. *cold open*: a fresh manager; 1,000 provisioned tenants each resolved
//!    (`for_tenant`) and read once (`users.get_by_email` of a missing user), all at once.
//!    Figures: wall time (baseline: the same 1,000 reads on one warm tenant), peak server
//!    connections (the pool's own figures, polled every 2 ms; on PostgreSQL also
//!    `pg_stat_activity` for the run's `application_name`) and connections opened
//!    (PostgreSQL: distinct backends seen in `pg_stat_activity`; MySQL: growth of the
//!    server's `Connections` status, which counts every client's connects).
//! 3. *1,000 tenants at once*: one user seeded in each, then 64 tasks call
//!    `for_tenant` + `users.get_by_id` round-robin over the 1,000 tenants for a fixed number
//!    of calls; baseline: the same calls on one tenant. Windows alternate (many, one, one,
//!    many). Figures: failed calls, peak server connections, ops/s. Then the same reads by
//!    hand with sqlx (prepared; one text per tenant) on a pool of their own built as the
//!    store's, round-robin and on one tenant: what the server itself pays for many
//!    namespaces, and the store against it. On PostgreSQL, when the ratio misses 10 %, all
//!    of it again with sqlx's per-connection statement cache raised to 2,048
//!    (`statement-cache-capacity=2048` in the DSN; the store's pools keep 1,024). MySQL's
//!    store sends text (no prepared statements); its hand-written reads keep 2,048.
//! 4. *memory*: a fresh manager whose tenant cache holds N; `VmRSS` growth after
//!    `for_tenant` of all N tenants (accesses cached, no read), divided by N.
//!
//! Every schema / database the run made (a prefix per run) is dropped at the end.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::sqlx::{self, AssertSqlSafe};
use uuid::Uuid;

use super::hot::Raw;
use super::{BenchOptions, Check, Engine, Row, Unit, nanos, progress, resident_memory};
use crate::adapters::sql::SqlBackend;
use crate::error::{StoreError, StoreResult};
use crate::manager::{Manager, ManagerConfig};
use crate::mode::DbConfig;
use crate::model::{CreateUserInput, ProvisioningState, Tenant};
use crate::pool::PoolConfig;

/// Connections of the server pool every tenant of the run shares (the default of
/// `ManagerConfig::max_connections_per_server`).
pub const POOL_SIZE: u32 = 10;
/// Tasks of the concurrent load.
pub const TASKS: usize = 64;
/// Tenants provisioned (and tenant creates) at once.
pub const PROVISION_CONCURRENCY: usize = 8;
/// Statement cache of the second concurrent-load run (`statement-cache-capacity`).
pub const LARGE_STATEMENT_CACHE: usize = 2048;

/// Runs `f` on every item with at most `limit` in flight; returns the failures.
async fn stream_for_each<T, F, Fut>(items: Vec<T>, limit: usize, f: F) -> usize
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let mut failures = 0;
    for item in items {
        while set.len() >= limit {
            if let Some(r) = set.join_next().await {
                failures += usize::from(!matches!(r, Ok(true)));
            }
        }
        let f = f.clone();
        set.spawn(async move { f(item).await });
    }
    while let Some(r) = set.join_next().await {
        failures += usize::from(!matches!(r, Ok(true)));
    }
    failures
}

fn add_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::invalid("bench", e.to_string())
}

/// What one engine's run works on.
struct Setup {
    engine: Engine,
    /// The run's namespaces all start with it.
    prefix: String,
    /// `application_name` of the store's connections (PostgreSQL).
    app: String,
    /// The server, as the bench's own sqlx connections reach it.
    admin_url: String,
    /// The tenant template.
    db: DbConfig,
    root: std::path::PathBuf,
}

impl Setup {
    fn config(&self, db: DbConfig) -> ManagerConfig {
        ManagerConfig::from_fs_root(&self.root)
            .default_tenant_db(db)
            .pool(PoolConfig { health_check_interval: None, ..PoolConfig::default() })
            .server_pool(POOL_SIZE, Duration::from_secs(5))
    }
}

/// Peak server connections while it runs: the pool's own figures (every server's open
/// connections summed) and, on PostgreSQL, `pg_stat_activity` for the run's
/// `application_name` (peak and distinct backends seen).
struct Poller {
    stop: Arc<AtomicBool>,
    pool: tokio::task::JoinHandle<u64>,
    server: Option<tokio::task::JoinHandle<(u64, u64)>>,
}

impl Poller {
    fn start(mgr: &Manager, setup: &Setup) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let pool = {
            let (mgr, stop) = (mgr.clone(), stop.clone());
            tokio::spawn(async move {
                let mut peak = 0u64;
                loop {
                    let stats = mgr.pool().stats().await;
                    let open: u64 = stats.servers.iter().map(|s| u64::from(s.figures.size)).sum();
                    peak = peak.max(open);
                    if stop.load(Ordering::Relaxed) {
                        return peak;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            })
        };
        let server = (setup.engine == Engine::Postgres).then(|| {
            let (url, app, stop) = (setup.admin_url.clone(), setup.app.clone(), stop.clone());
            tokio::spawn(async move {
                let Ok(pool) = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await
                else {
                    return (0, 0);
                };
                let mut peak = 0u64;
                let mut seen = HashSet::new();
                loop {
                    let pids: Vec<i32> =
                        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
                            .bind(&app)
                            .fetch_all(&pool)
                            .await
                            .unwrap_or_default();
                    peak = peak.max(pids.len() as u64);
                    seen.extend(pids);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                pool.close().await;
                (peak, seen.len() as u64)
            })
        });
        Poller { stop, pool, server }
    }

    /// (peak by the pool's figures, (peak, distinct backends) by the server).
    async fn finish(self) -> (u64, Option<(u64, u64)>) {
        self.stop.store(true, Ordering::Relaxed);
        let pool = self.pool.await.unwrap_or(0);
        let server = match self.server {
            Some(h) => Some(h.await.unwrap_or((0, 0))),
            None => None,
        };
        (pool, server)
    }
}

/// MySQL's `Connections` status (connects since the server started, every client's).
async fn mysql_connections(url: &str) -> Option<u64> {
    use sea_orm::sqlx::Connection as _;
    let mut c = sqlx::MySqlConnection::connect(url).await.ok()?;
    let row: (String, String) =
        sqlx::query_as("SHOW GLOBAL STATUS LIKE 'Connections'").fetch_one(&mut c).await.ok()?;
    let _ = c.close().await;
    row.1.parse().ok()
}

/// The rows of `engine` (PostgreSQL or MySQL; none for SQLite).
///
/// Errors: the temporary tree; opening a manager; provisioning or seeding failing for
/// every tenant.
pub async fn run(opts: &BenchOptions, engine: Engine) -> StoreResult<Vec<Row>> {
    // --quick: MariaDB's DDL (a database and its tables per tenant) is ~10× PostgreSQL's
    let quick_n = if engine == Engine::MySql { 50 } else { 200 };
    let n = opts.tenants.unwrap_or(if opts.quick { quick_n } else { 10_000 }).max(1);
    let active_n = n.min(1_000);
    let dir = tempfile::tempdir().map_err(io)?;
    let root = dir.path().join("cp");
    std::fs::create_dir_all(&root).map_err(io)?;
    let run_id = Uuid::new_v4().simple().to_string();
    let prefix = format!("hjc{}_", &run_id[..6]);
    let app = format!("hj_bench_cold_{}", &run_id[..6]);
    let (admin_url, db) = match engine {
        Engine::Postgres => {
            let url = add_param(&opts.postgres_url, &format!("application_name={app}"));
            (
                opts.postgres_url.clone(),
                DbConfig::new("postgres", url).with_schema(format!("{prefix}{{tenant}}")),
            )
        }
        Engine::MySql => (
            opts.mysql_url.clone(),
            DbConfig::new(
                "mysql",
                crate::mode::with_database(&opts.mysql_url, &format!("{prefix}{{tenant}}")),
            ),
        ),
        Engine::Sqlite => return Ok(Vec::new()),
    };
    let setup = Setup { engine, prefix, app, admin_url, db, root };
    let result = measure(&setup, n, active_n, opts.quick).await;
    cleanup(&setup).await;
    result
}

async fn measure(s: &Setup, n: usize, active_n: usize, quick: bool) -> StoreResult<Vec<Row>> {
    let e = s.engine.name();
    let mut rows = Vec::new();

    // 1. provision
    let created_n = n.min(1_000);
    let made: Vec<String> = (0..created_n).map(|i| format!("made-{i:05}")).collect();
    progress(format!("cold on {e}: creating {created_n} tenants through tenants().create"));
    let mgr = Manager::new(s.config(s.db.clone())).await?;
    let start = Instant::now();
    let m = mgr.clone();
    let create_failures = stream_for_each(made.clone(), PROVISION_CONCURRENCY, move |slug: String| {
        let m = m.clone();
        async move {
            let name = format!("Tenant {slug}");
            match m.config().tenants().create(Tenant::new(slug, name)).await {
                Ok(t) => t.provisioning.is_some_and(|p| p.state == ProvisioningState::Ready),
                Err(_) => false,
            }
        }
    })
    .await;
    let create_per = nanos(start.elapsed()) / created_n as f64;
    let rest = n - created_n;
    let mut provision_per = None;
    let mut provision_failures = 0;
    if rest > 0 {
        super::control::generate(&s.root, rest)?;
        let generated: Vec<String> = (0..rest).map(|i| format!("bench-{i:05}")).collect();
        progress(format!("cold on {e}: provisioning {rest} more tenants through provision_tenant"));
        let start = Instant::now();
        let m = mgr.clone();
        provision_failures = stream_for_each(generated, PROVISION_CONCURRENCY, move |slug: String| {
            let m = m.clone();
            async move { m.provision_tenant(&slug).await.is_ok_and(|p| p.state == ProvisioningState::Ready) }
        })
        .await;
        provision_per = Some(nanos(start.elapsed()) / rest as f64);
    }
    mgr.close().await;
    drop(mgr);
    let base_n = created_n;
    progress(format!("cold on {e}: baseline, {base_n} bare namespaces + one table"));
    let start = Instant::now();
    let base_failures = bare_namespaces(s, base_n).await;
    let base_per = nanos(start.elapsed()) / base_n as f64;
    let budget = |row: Row| {
        if s.engine == Engine::Postgres { row.check(Check::AtMost(30e6), "≤ 30 ms/tenant") } else { row }
    };
    rows.push(
        budget(
            Row::new(format!("cold provision: tenants().create, per tenant ({created_n})"), e, Unit::Nanos, create_per)
                .baseline(base_per),
        )
        .note(format!(
            "{create_failures} failed; {PROVISION_CONCURRENCY} at a time, FS control plane; baseline: bare CREATE {} + 1 CREATE TABLE via sqlx ({base_failures} failed)",
            if s.engine == Engine::Postgres { "SCHEMA" } else { "DATABASE" }
        )),
    );
    if let Some(per) = provision_per {
        rows.push(
            budget(
                Row::new(format!("cold provision: provision_tenant, per tenant ({rest} more)"), e, Unit::Nanos, per)
                    .baseline(base_per),
            )
            .note(format!(
                "{provision_failures} failed; tenants {} to {n}, FS tree written directly, {PROVISION_CONCURRENCY} at a time",
                created_n + 1
            )),
        );
    }
    if create_failures + provision_failures >= n {
        return Err(StoreError::unavailable(e, "every tenant failed to provision"));
    }

    // The tenants used from here on: the first `active_n` (the created ones first).
    let mut all: Vec<String> = made;
    all.extend((0..rest).map(|i| format!("bench-{i:05}")));
    let active: Vec<String> = all.iter().take(active_n).cloned().collect();

    // 2. cold open in a fresh manager
    progress(format!("cold on {e}: cold open of {active_n} tenants in a fresh manager"));
    let mgr = Manager::new(s.config(s.db.clone())).await?;
    let before = if s.engine == Engine::MySql { mysql_connections(&s.admin_url).await } else { None };
    let poller = Poller::start(&mgr, s);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for slug in active.clone() {
        let (m, failed) = (mgr.clone(), failed.clone());
        set.spawn(async move {
            if missing_read(&m, &slug).await.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while set.join_next().await.is_some() {}
    let open = nanos(start.elapsed());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (pool_peak, server) = poller.finish().await;
    let after = if s.engine == Engine::MySql { mysql_connections(&s.admin_url).await } else { None };
    // baseline: the same reads on one warm tenant
    let one = active[0].clone();
    missing_read(&mgr, &one).await?;
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..active_n {
        let (m, one) = (mgr.clone(), one.clone());
        set.spawn(async move { missing_read(&m, &one).await.is_ok() });
    }
    let mut base_failed = 0;
    while let Some(r) = set.join_next().await {
        base_failed += usize::from(!matches!(r, Ok(true)));
    }
    let warm = nanos(start.elapsed());
    let cold_failed = failed.load(Ordering::Relaxed);
    rows.push(
        Row::new(format!("cold open {active_n} tenants at once (for_tenant + 1 read)"), e, Unit::Nanos, open)
            .baseline(warm)
            .check(Check::AtMost(1e9), "≤ 1 s")
            .note(format!(
                "{cold_failed} failed; fresh manager; read = users.get_by_email of a missing user; baseline: {active_n} such reads on one warm tenant ({base_failed} failed)"
            )),
    );
    rows.push(
        Row::new(format!("cold open {active_n}: peak server connections"), e, Unit::Count, pool_peak as f64)
            .baseline(f64::from(POOL_SIZE))
            .check(Check::AtMost(f64::from(POOL_SIZE)), format!("≤ pool size {POOL_SIZE}"))
            .note(match server {
                Some((peak, _)) => {
                    format!("pool figures every 2 ms; pg_stat_activity peak {peak}; baseline = pool size")
                }
                None => "pool figures every 2 ms; baseline = pool size".into(),
            }),
    );
    let opened = match (s.engine, server, before, after) {
        (Engine::Postgres, Some((_, seen)), _, _) => {
            Some((seen, "distinct backends of the run's application_name in pg_stat_activity (every 5 ms)"))
        }
        (Engine::MySql, _, Some(b), Some(a)) => Some((
            a.saturating_sub(b).saturating_sub(1),
            "growth of the server's Connections status (every client's connects, the bench's own probe excluded)",
        )),
        _ => None,
    };
    if let Some((count, how)) = opened {
        rows.push(
            Row::new(format!("cold open {active_n}: connections opened"), e, Unit::Count, count as f64)
                .baseline(f64::from(POOL_SIZE))
                .check(Check::AtMost(f64::from(POOL_SIZE)), format!("≤ pool size {POOL_SIZE}, not 1/tenant"))
                .note(how),
        );
    }

    // 3. 1,000 tenants used at once
    progress(format!("cold on {e}: seeding a user in each of {active_n} tenants"));
    let seeded = Arc::new(std::sync::Mutex::new(Vec::with_capacity(active_n)));
    let (m, out) = (mgr.clone(), seeded.clone());
    let seed_failures = stream_for_each(active.clone(), TASKS, move |slug: String| {
        let (m, out) = (m.clone(), out.clone());
        async move {
            let Ok(access) = m.for_tenant(&slug).await else { return false };
            let Ok(users) = access.users() else { return false };
            let input = CreateUserInput::new(format!("ana@{slug}.example")).password_hash(super::hot::PHC);
            match users.create(input).await {
                Ok((user, _)) => {
                    if let Ok(mut v) = out.lock() {
                        v.push((slug, user.id));
                    }
                    true
                }
                Err(_) => false,
            }
        }
    })
    .await;
    let targets: Vec<(String, Uuid)> = match seeded.lock() {
        Ok(mut v) => {
            v.sort();
            v.clone()
        }
        Err(_) => Vec::new(),
    };
    if targets.is_empty() {
        mgr.close().await;
        return Err(StoreError::unavailable(e, "seeding failed in every tenant"));
    }
    let calls: u64 = if quick { 2_000 } else { 32_000 };
    let mut raw_targets = Vec::with_capacity(targets.len());
    let mut first_ns = None;
    for (slug, id) in &targets {
        let tenant = mgr.config().tenants().get_by_slug(slug).await?;
        let ns = format!("{}{}", s.prefix, tenant.effective_namespace());
        raw_targets.push((super::hot::user_by_id_sql(s.engine, &ns), *id));
        first_ns.get_or_insert(ns);
    }
    let first_ns = first_ns.unwrap_or_default();
    let raw_pool = |statement_cache: Option<usize>| -> StoreResult<Raw> {
        let dsn = match s.engine {
            Engine::MySql => crate::mode::with_database(&s.admin_url, &first_ns),
            _ => s.admin_url.clone(),
        };
        let dsn = match statement_cache {
            Some(n) => add_param(&dsn, &format!("statement-cache-capacity={n}")),
            None => dsn,
        };
        let backend = match s.engine {
            Engine::MySql => SqlBackend::MySql,
            _ => SqlBackend::Postgres,
        };
        let db =
            crate::adapters::sql::open_server_pool(backend, &DbConfig::new(backend.name(), dsn), POOL_SIZE)?;
        Raw::of(s.engine, &db)
    };
    let load =
        Load { targets: Arc::new(targets), raw_targets: Arc::new(raw_targets), calls, seed_failures, quick };
    let default_label = match s.engine {
        Engine::Postgres => format!(
            "store's defaults (statement cache {}, generic plans)",
            crate::adapters::sql::PG_STATEMENT_CACHE
        ),
        _ => "store's defaults (text protocol); hand-written: prepared, statement-cache-capacity=2048"
            .to_string(),
    };
    // MySQL: the store sends text; the hand-written reads are prepared, with a cache that
    // holds every tenant's statement (sqlx's 100 would prepare on every call).
    let raw = raw_pool((s.engine == Engine::MySql).then_some(LARGE_STATEMENT_CACHE))?;
    let ratio = load.measure(&mgr, &raw, s, &mut rows, &default_label).await;
    raw.close().await;
    mgr.close().await;
    drop(mgr);
    // PostgreSQL: when the ratio misses, again with a larger cache (MySQL's default sends no
    // prepared statement, so a cache changes nothing there).
    if s.engine == Engine::Postgres && ratio.is_some_and(|r| r > 1.10) {
        progress(format!("cold on {e}: again with statement-cache-capacity={LARGE_STATEMENT_CACHE}"));
        let mut db = s.db.clone();
        db.dsn = add_param(&db.dsn, &format!("statement-cache-capacity={LARGE_STATEMENT_CACHE}"));
        let mgr = Manager::new(s.config(db).migrate_on_open(false)).await?;
        let label = format!("statement-cache-capacity={LARGE_STATEMENT_CACHE}");
        let raw = raw_pool(Some(LARGE_STATEMENT_CACHE))?;
        load.measure(&mgr, &raw, s, &mut rows, &label).await;
        raw.close().await;
        mgr.close().await;
    }

    // 4. memory per idle provisioned tenant
    progress(format!("cold on {e}: memory of {n} idle tenants"));
    let mut cfg = s.config(s.db.clone());
    cfg.tenant_cache_capacity = (n as u64 + 16).max(10_000);
    let mgr = Manager::new(cfg).await?;
    let (rss_before, _) = resident_memory();
    let mut resolve_failures = 0usize;
    for slug in &all {
        resolve_failures += usize::from(mgr.for_tenant(slug).await.is_err());
    }
    let (rss_after, hwm) = resident_memory();
    let cached = mgr.stats().await.cached_tenants;
    mgr.close().await;
    drop(mgr);
    let growth = rss_after.saturating_sub(rss_before) as f64;
    rows.push(
        Row::new(format!("memory per idle provisioned tenant ({n})"), e, Unit::Bytes, growth / n as f64).note(
            format!(
                "VmRSS growth {:.1} MiB / {n} after for_tenant of each ({cached} cached, {resolve_failures} failed); includes the FS control plane's document cache; VmHWM {:.1} MiB",
                growth / 1048576.0,
                hwm as f64 / 1048576.0
            ),
        ),
    );
    Ok(rows)
}

/// `for_tenant` + `users.get_by_email` of an address no user has (`NotFound` is the
/// expected answer).
async fn missing_read(m: &Manager, slug: &str) -> StoreResult<()> {
    let access = m.for_tenant(slug).await?;
    match access.users()?.get_by_email("nobody@example.invalid").await {
        Err(StoreError::NotFound { .. }) => Ok(()),
        Ok(_) => Err(StoreError::invalid("bench", "an unexpected user")),
        Err(e) => Err(e),
    }
}

/// The concurrent load of part 3.
struct Load {
    targets: Arc<Vec<(String, Uuid)>>,
    /// The same users for the hand-written reads: each tenant's statement text (naming its
    /// namespace) and the user's id.
    raw_targets: Arc<Vec<(Arc<str>, Uuid)>>,
    calls: u64,
    seed_failures: usize,
    quick: bool,
}

impl Load {
    /// `calls` calls of `call(i)` for `i` in `0..calls`, from [`TASKS`] tasks: (ops/s, calls
    /// that returned `false`).
    async fn drive<F, Fut>(calls: u64, call: F) -> (f64, u64)
    where
        F: Fn(u64) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        let next = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..TASKS {
            let (call, next, failed) = (call.clone(), next.clone(), failed.clone());
            set.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        break;
                    }
                    if !call(i).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        while set.join_next().await.is_some() {}
        (calls as f64 / start.elapsed().as_secs_f64(), failed.load(Ordering::Relaxed))
    }

    /// `calls` calls of `for_tenant` + `users.get_by_id` from [`TASKS`] tasks, call `i` on
    /// `targets[i % len]`: (ops/s, failed calls).
    async fn once(mgr: &Manager, targets: Arc<Vec<(String, Uuid)>>, calls: u64) -> (f64, u64) {
        let mgr = mgr.clone();
        Self::drive(calls, move |i| {
            let (m, targets) = (mgr.clone(), targets.clone());
            async move {
                let (slug, id) = &targets[(i % targets.len() as u64) as usize];
                match m.for_tenant(slug).await {
                    Ok(access) => match access.users() {
                        Ok(users) => users.get_by_id(*id).await.is_ok(),
                        Err(_) => false,
                    },
                    Err(_) => false,
                }
            }
        })
        .await
    }

    /// The hand-written counterpart of [`Load::once`]: `calls` reads by hand with sqlx on
    /// `raw` (a pool of its own built as the store builds its server pools), call `i` on
    /// `targets[i % len]`: (ops/s, failed calls).
    async fn once_raw(raw: &Raw, targets: Arc<Vec<(Arc<str>, Uuid)>>, calls: u64) -> (f64, u64) {
        let raw = raw.clone();
        Self::drive(calls, move |i| {
            let (raw, targets) = (raw.clone(), targets.clone());
            async move {
                let (sql, id) = &targets[(i % targets.len() as u64) as usize];
                super::hot::raw_user_by_id(&raw, sql.clone(), *id).await.is_ok()
            }
        })
        .await
    }

    /// The hand-written load over many tenants and on one, alternating as [`Load::measure`]
    /// does: (ops/s many, ops/s one, failed calls).
    async fn measure_raw(&self, raw: &Raw) -> (f64, f64, u64) {
        let k = self.raw_targets.len() as u64;
        let one = Arc::new(vec![self.raw_targets[0].clone()]);
        let rounds = if self.quick { 1 } else { 2 * u64::from(POOL_SIZE) };
        let _ = Self::once_raw(raw, self.raw_targets.clone(), k * rounds).await;
        let _ = Self::once_raw(raw, one.clone(), k.min(2_000)).await;
        let (mut many, mut single, mut failed) = (0.0, 0.0, 0);
        for window in [true, false, false, true] {
            let targets = if window { self.raw_targets.clone() } else { one.clone() };
            let (r, f) = Self::once_raw(raw, targets, self.calls).await;
            failed += f;
            if window {
                many += r;
            } else {
                single += r;
            }
        }
        (many / 2.0, single / 2.0, failed)
    }

    /// Many tenants and one tenant, alternating (many, one, one, many), after a warm-up
    /// pass over every tenant, through the store and then by hand on a pool of its own
    /// (`raw`); pushes the rows; returns the cost ratio (one ÷ many) of the store's load.
    async fn measure(
        &self,
        mgr: &Manager,
        raw: &Raw,
        s: &Setup,
        rows: &mut Vec<Row>,
        label: &str,
    ) -> Option<f64> {
        let e = s.engine.name();
        let k = self.targets.len();
        let one = Arc::new(vec![self.targets[0].clone()]);
        progress(format!("cold on {e}: {k} tenants round-robin, {TASKS} tasks ({label})"));
        // warm-up (not measured): every tenant resolved, and its statement seen on every
        // pooled connection where the statement cache can hold them all (calls spread over
        // the connections, so twice the pool size per tenant; once per tenant in --quick)
        let rounds = if self.quick { 1 } else { 2 * u64::from(POOL_SIZE) };
        let _ = Self::once(mgr, self.targets.clone(), k as u64 * rounds).await;
        let _ = Self::once(mgr, one.clone(), (k as u64).min(2_000)).await;
        let poller = Poller::start(mgr, s);
        let (mut many, mut single) = (0.0, 0.0);
        let mut many_failed = 0;
        let mut one_failed = 0;
        let (r, f) = Self::once(mgr, self.targets.clone(), self.calls).await;
        many += r;
        many_failed += f;
        let (pool_peak, server) = poller.finish().await;
        for _ in 0..2 {
            let (r, f) = Self::once(mgr, one.clone(), self.calls).await;
            single += r;
            one_failed += f;
        }
        let poller = Poller::start(mgr, s);
        let (r, f) = Self::once(mgr, self.targets.clone(), self.calls).await;
        many += r;
        many_failed += f;
        let (pool_peak2, server2) = poller.finish().await;
        let pool_peak = pool_peak.max(pool_peak2);
        let server_peak = match (server, server2) {
            (Some((a, _)), Some((b, _))) => Some(a.max(b)),
            _ => None,
        };
        let group = format!("{k} tenants round-robin × {TASKS} tasks");
        rows.push(
            Row::new(format!("{group}: failed calls"), e, Unit::Count, many_failed as f64)
                .check(Check::AtMost(0.0), "0")
                .note(format!(
                    "{label}; 2 × {} calls of for_tenant + users.get_by_id; one-tenant load: {one_failed} failed; seeding: {} failed",
                    self.calls, self.seed_failures
                )),
        );
        rows.push(
            Row::new(format!("{group}: peak server connections"), e, Unit::Count, pool_peak as f64)
                .baseline(f64::from(POOL_SIZE))
                .check(Check::AtMost(f64::from(POOL_SIZE)), format!("≤ pool size {POOL_SIZE}"))
                .note(match server_peak {
                    Some(p) => format!("{label}; pool figures every 2 ms; pg_stat_activity peak {p}"),
                    None => format!("{label}; pool figures every 2 ms"),
                }),
        );
        let row = Row::new(format!("{group}: throughput"), e, Unit::PerSec, many / 2.0)
            .baseline(single / 2.0)
            .check(Check::VsBaseline(1.10), "≤ 1.10× one tenant")
            .note(format!("{label}; baseline: the same load on one tenant; windows many, one, one, many"));
        let ratio = row.ratio_vs_baseline();
        rows.push(row);
        progress(format!("cold on {e}: the same by hand with sqlx ({label})"));
        let (raw_many, raw_single, raw_failed) = self.measure_raw(raw).await;
        rows.push(
            Row::new(format!("{group}: hand-written sqlx throughput"), e, Unit::PerSec, raw_many)
                .baseline(raw_single)
                .note(format!(
                    "{label}; the same reads by hand (one statement text per tenant) on a pool of {POOL_SIZE} built as the store's; baseline: on one tenant; {raw_failed} failed; what the server itself costs for many namespaces"
                )),
        );
        rows.push(
            Row::new(format!("{group}: store vs hand-written sqlx"), e, Unit::PerSec, many / 2.0)
                .baseline(raw_many)
                .check(Check::VsBaseline(1.20), "≤ 1.20× hand-written")
                .note(format!(
                    "{label}; both round-robin over {k} tenants; the store's share of the many-tenant cost"
                )),
        );
        ratio
    }
}

/// The baseline of provisioning: `count` bare namespaces and one table each, by hand.
async fn bare_namespaces(s: &Setup, count: usize) -> usize {
    let names: Vec<String> = (0..count).map(|i| format!("{}base_{i:05}", s.prefix)).collect();
    match s.engine {
        Engine::Postgres => {
            let Ok(pool) = sqlx::postgres::PgPoolOptions::new()
                .max_connections(PROVISION_CONCURRENCY as u32)
                .connect(&s.admin_url)
                .await
            else {
                return count;
            };
            let p = pool.clone();
            let failures = stream_for_each(names, PROVISION_CONCURRENCY, move |ns: String| {
                let p = p.clone();
                async move {
                    let create = format!("CREATE SCHEMA \"{ns}\"");
                    let table = format!(
                        "CREATE TABLE \"{ns}\".\"users\" (\"id\" uuid PRIMARY KEY, \"email\" text NOT NULL UNIQUE)"
                    );
                    sqlx::query(AssertSqlSafe(create)).execute(&p).await.is_ok()
                        && sqlx::query(AssertSqlSafe(table)).execute(&p).await.is_ok()
                }
            })
            .await;
            pool.close().await;
            failures
        }
        Engine::MySql => {
            let Ok(pool) = sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(PROVISION_CONCURRENCY as u32)
                .connect(&s.admin_url)
                .await
            else {
                return count;
            };
            let p = pool.clone();
            let failures = stream_for_each(names, PROVISION_CONCURRENCY, move |ns: String| {
                let p = p.clone();
                async move {
                    let create = format!("CREATE DATABASE `{ns}`");
                    let table = format!(
                        "CREATE TABLE `{ns}`.`users` (`id` BINARY(16) PRIMARY KEY, `email` VARCHAR(255) NOT NULL UNIQUE)"
                    );
                    sqlx::query(AssertSqlSafe(create)).execute(&p).await.is_ok()
                        && sqlx::query(AssertSqlSafe(table)).execute(&p).await.is_ok()
                }
            })
            .await;
            pool.close().await;
            failures
        }
        Engine::Sqlite => 0,
    }
}

/// Drops every schema / database whose name starts with the run's prefix.
async fn cleanup(s: &Setup) {
    let prefix = s.prefix.clone();
    match s.engine {
        Engine::Postgres => {
            let Ok(pool) =
                sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&s.admin_url).await
            else {
                return;
            };
            let names: Vec<String> =
                sqlx::query_scalar("SELECT schema_name::text FROM information_schema.schemata")
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_default();
            let names: Vec<String> = names.into_iter().filter(|n| n.starts_with(&prefix)).collect();
            progress(format!("cold on postgres: dropping {} schemas", names.len()));
            let p = pool.clone();
            stream_for_each(names, 4, move |ns: String| {
                let p = p.clone();
                async move {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{ns}\" CASCADE");
                    sqlx::query(AssertSqlSafe(sql)).execute(&p).await.is_ok()
                }
            })
            .await;
            pool.close().await;
        }
        Engine::MySql => {
            let Ok(pool) =
                sqlx::mysql::MySqlPoolOptions::new().max_connections(4).connect(&s.admin_url).await
            else {
                return;
            };
            let names: Vec<String> =
                sqlx::query_scalar("SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata")
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_default();
            let names: Vec<String> = names.into_iter().filter(|n| n.starts_with(&prefix)).collect();
            progress(format!("cold on mysql: dropping {} databases", names.len()));
            let p = pool.clone();
            stream_for_each(names, 4, move |ns: String| {
                let p = p.clone();
                async move {
                    let sql = format!("DROP DATABASE IF EXISTS `{ns}`");
                    sqlx::query(AssertSqlSafe(sql)).execute(&p).await.is_ok()
                }
            })
            .await;
            pool.close().await;
        }
        Engine::Sqlite => {}
    }
}
