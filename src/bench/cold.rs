//! Cold start: N tenants (1,000 in a full run) opened concurrently through one `Manager`,
//! on SQLite (a file each) and PostgreSQL (a schema each).
//!
//! 1. *provision* (timed apart): every tenant's namespace created and migrated through
//!    `Manager::migrate_tenant`, 8 at a time — what `hellojohn-store migrate --all` does
//!    before a deployment starts;
//! 2. *cold open* (the figure): a fresh manager with `migrate_on_open` off; all N tenants
//!    resolved at once (`for_tenant` + a ping each). Reported: wall time, failures, peak
//!    open connections (PostgreSQL: polled from `pg_stat_activity` for this run's
//!    `application_name`; SQLite: peak open tenant pools × connections per tenant as an
//!    upper bound) against the configured bound `max_open_tenants × max_connections_per_tenant`,
//!    and resident memory (`VmRSS` growth, `VmHWM`).
//!
//! The baseline of the open time is the same number of bare connects (one sqlx connection
//! per namespace, no manager), 8 at a time, with the same `SELECT 1`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use limited::stream_for_each;

use super::{BenchOptions, Check, Engine, Row, Unit, nanos, progress, resident_memory};
use crate::error::{StoreError, StoreResult};
use crate::manager::{Manager, ManagerConfig};
use crate::mode::DbConfig;
use crate::pool::PoolConfig;

/// Most tenants with an open pool during the cold-start run.
pub const MAX_OPEN_TENANTS: u64 = 40;
/// Connections of each tenant's pool during the cold-start run.
pub const CONNECTIONS_PER_TENANT: u32 = 2;
const APP: &str = "hj_bench_cold";

mod limited {
    use std::future::Future;

    /// Runs `f` on every item with at most `limit` in flight; returns the failures.
    pub async fn stream_for_each<T, F, Fut>(items: Vec<T>, limit: usize, f: F) -> usize
    where
        T: Send + 'static,
        F: Fn(T) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = bool> + Send + 'static,
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
}

fn with_app(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={APP}")
}

fn manager_config(root: &std::path::Path, db: DbConfig, migrate: bool) -> ManagerConfig {
    ManagerConfig::from_fs_root(root)
        .default_tenant_db(db)
        .pool(PoolConfig {
            max_open_servers: MAX_OPEN_TENANTS,
            idle_timeout: Duration::from_secs(600),
            health_check_interval: None,
            ..PoolConfig::default()
        })
        .server_pool(CONNECTIONS_PER_TENANT, Duration::from_secs(60))
        .migrate_on_open(migrate)
}

/// Polls the number of open connections until stopped; returns the peak.
#[cfg(feature = "postgres")]
fn poll_pg(url: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    use sea_orm::sqlx;
    tokio::spawn(async move {
        let Ok(pool) = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await else {
            return 0;
        };
        let mut peak = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let n: Result<i64, _> =
                sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                    .bind(APP)
                    .fetch_one(&pool)
                    .await;
            peak = peak.max(n.unwrap_or(0).max(0) as u64);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        pool.close().await;
        peak
    })
}

/// Polls the manager's open tenant pools until stopped; returns the peak.
fn poll_pools(mgr: Manager, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0u64;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(mgr.pool().open_count());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        peak.max(mgr.pool().open_count())
    })
}

/// The cold-start rows of `engine` (SQLite or PostgreSQL).
///
/// Errors: generating the tree; opening the manager.
pub async fn run(opts: &BenchOptions, engine: Engine) -> StoreResult<Vec<Row>> {
    let n = if opts.quick { 30 } else { 1_000 };
    let dir = tempfile::tempdir().map_err(|e| StoreError::invalid("fs_root", e.to_string()))?;
    let root = dir.path().join("cp");
    super::control::generate(&root, n)?;
    let slugs: Vec<String> = (0..n).map(|i| format!("bench-{i:05}")).collect();
    let prefix = format!("hjc{}_", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let db = match engine {
        Engine::Postgres => {
            DbConfig::new("postgres", with_app(&opts.postgres_url)).with_schema(format!("{prefix}{{tenant}}"))
        }
        Engine::Sqlite => {
            DbConfig::new("sqlite", format!("sqlite://{}/db/{{tenant}}.db?mode=rwc", dir.path().display()))
        }
        Engine::MySql => return Ok(Vec::new()),
    };
    let bound = MAX_OPEN_TENANTS * u64::from(CONNECTIONS_PER_TENANT);

    // 1. provision
    progress(format!("cold start on {}: provisioning {n} namespaces", engine.name()));
    let mgr = Manager::new(manager_config(&root, db.clone(), true)).await?;
    let start = Instant::now();
    let m = mgr.clone();
    let provision_failures = stream_for_each(slugs.clone(), 8, move |slug: String| {
        let m = m.clone();
        async move { m.provision_tenant(&slug).await.is_ok() }
    })
    .await;
    let provision = nanos(start.elapsed());
    mgr.close().await;
    drop(mgr);

    // 2. cold open, all at once
    progress(format!("cold start on {}: opening {n} tenants at once", engine.name()));
    let (rss_before, _) = resident_memory();
    let mgr = Manager::new(manager_config(&root, db.clone(), false)).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let pools_peak = poll_pools(mgr.clone(), stop.clone());
    #[cfg(feature = "postgres")]
    let conns_peak = (engine == Engine::Postgres).then(|| poll_pg(opts.postgres_url.clone(), stop.clone()));
    #[cfg(not(feature = "postgres"))]
    let conns_peak: Option<tokio::task::JoinHandle<u64>> = None;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for slug in slugs.clone() {
        let (m, failed) = (mgr.clone(), failed.clone());
        set.spawn(async move {
            let ok = match m.for_tenant(&slug).await {
                Ok(access) => access.ping().await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while set.join_next().await.is_some() {}
    let open = nanos(start.elapsed());
    tokio::time::sleep(Duration::from_millis(30)).await;
    stop.store(true, Ordering::Relaxed);
    let pools_peak = pools_peak.await.unwrap_or(0);
    let conns_peak = match conns_peak {
        Some(h) => Some(h.await.unwrap_or(0)),
        None => None,
    };
    let (rss_after, hwm) = resident_memory();
    mgr.close().await;
    drop(mgr);

    // baseline: bare connects to the same namespaces, 8 at a time
    let start = Instant::now();
    let base_failures = bare_connects(engine, &db, &slugs).await;
    let base = nanos(start.elapsed());

    cleanup(engine, opts, &prefix, &slugs).await;

    let failures = failed.load(Ordering::Relaxed);
    let e = engine.name();
    let mut rows = vec![
        Row::new(format!("cold provision {n} tenants (create+migrate, 8 at a time)"), e, Unit::Nanos, provision)
            .note(format!("{provision_failures} failed")),
        Row::new(format!("cold open {n} tenants at once (for_tenant + ping)"), e, Unit::Nanos, open)
            .baseline(base)
            .note(format!("{failures} failed; baseline: {n} bare sqlx connects + SELECT 1, 8 at a time ({base_failures} failed)")),
        Row::new(format!("cold open {n}: peak open tenant pools"), e, Unit::Count, pools_peak as f64)
            .baseline(MAX_OPEN_TENANTS as f64)
            .check(Check::AtMost(MAX_OPEN_TENANTS as f64), format!("≤ max_open_tenants = {MAX_OPEN_TENANTS}"))
            .note("polled from the pool's open count every 2 ms"),
        Row::new(format!("cold open {n}: resident memory (VmRSS growth)"), e, Unit::Bytes, rss_after.saturating_sub(rss_before) as f64)
            .note(format!("VmHWM of the whole bench process so far: {:.1} MiB", hwm as f64 / 1048576.0)),
    ];
    if let Some(peak) = conns_peak {
        rows.insert(
            2,
            Row::new(format!("cold open {n}: peak open connections"), e, Unit::Count, peak as f64)
                .baseline(bound as f64)
                .check(
                    Check::AtMost(bound as f64),
                    format!("≤ {MAX_OPEN_TENANTS}×{CONNECTIONS_PER_TENANT} = {bound}"),
                )
                .note("pg_stat_activity, polled every 5 ms; baseline column = the bound"),
        );
    }
    Ok(rows)
}

async fn bare_connects(engine: Engine, db: &DbConfig, slugs: &[String]) -> usize {
    use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
    let db = db.clone();
    stream_for_each(slugs.to_vec(), 8, move |slug: String| {
        let cfg = crate::manager::substitute(&db, &crate::manager::namespace_name(&slug));
        async move {
            match engine {
                #[cfg(feature = "postgres")]
                Engine::Postgres => {
                    let schema = cfg.schema.unwrap_or_default();
                    let Ok(opts) = cfg.dsn.parse::<sqlx::postgres::PgConnectOptions>() else { return false };
                    let opts = opts.options([("search_path", schema.as_str())]);
                    let Ok(mut c) = opts.connect().await else { return false };
                    let ok = sqlx::query("SELECT 1").execute(&mut c).await.is_ok();
                    let _ = c.close().await;
                    ok
                }
                #[cfg(feature = "sqlite")]
                Engine::Sqlite => {
                    let Ok(mut c) = sqlx::SqliteConnection::connect(&cfg.dsn).await else { return false };
                    let ok = sqlx::query("SELECT 1").execute(&mut c).await.is_ok();
                    let _ = c.close().await;
                    ok
                }
                #[allow(unreachable_patterns)]
                _ => false,
            }
        }
    })
    .await
}

async fn cleanup(engine: Engine, opts: &BenchOptions, prefix: &str, slugs: &[String]) {
    #[cfg(feature = "postgres")]
    if engine == Engine::Postgres {
        use sea_orm::sqlx::{self, AssertSqlSafe};
        progress(format!("cold start: dropping {} schemas", slugs.len()));
        let Ok(pool) =
            sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(&opts.postgres_url).await
        else {
            return;
        };
        let pool2 = pool.clone();
        let prefix = prefix.to_string();
        stream_for_each(slugs.to_vec(), 4, move |slug: String| {
            let pool = pool2.clone();
            let sql = format!("DROP SCHEMA IF EXISTS \"{prefix}{slug}\" CASCADE");
            async move { sqlx::query(AssertSqlSafe(sql)).execute(&pool).await.is_ok() }
        })
        .await;
        pool.close().await;
    }
    let _ = (engine, opts, prefix, slugs);
}
