//! Throughput on PostgreSQL: `users.get_by_email` from 1 to 64 concurrent tasks through the
//! store, against the hand-written sqlx statements on the same pool (10 connections, the
//! per-tenant default). Each level runs store then baseline for the same wall time, twice
//! in alternating order; the figure is the total operations per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::hot::{HotPaths, Op, Side};
use super::{BenchOptions, Check, Engine, Row, Unit};
use crate::error::{StoreError, StoreResult};

async fn ops_per_sec(hot: &Arc<HotPaths>, side: Side, tasks: usize, window: Duration) -> StoreResult<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (hot, stop, done) = (hot.clone(), stop.clone(), done.clone());
        set.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                hot.once(Op::GetByEmail, side).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, StoreError>(())
        });
    }
    let start = Instant::now();
    tokio::time::sleep(window).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = set.join_next().await {
        r.map_err(|e| StoreError::invalid("task", e.to_string()))??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// The throughput rows.
///
/// Errors: opening the namespace; a failing operation.
pub async fn run(opts: &BenchOptions) -> StoreResult<Vec<Row>> {
    let hot = Arc::new(HotPaths::open(opts, Engine::Postgres).await?);
    let window = if opts.quick { Duration::from_millis(150) } else { Duration::from_millis(1500) };
    let levels: &[usize] = if opts.quick { &[1, 8, 64] } else { &[1, 2, 4, 8, 16, 32, 64] };
    let mut rows = Vec::new();
    let mut result = Ok(());
    for &tasks in levels {
        let mut store = 0.0;
        let mut baseline = 0.0;
        let step = async {
            store += ops_per_sec(&hot, Side::Store, tasks, window).await?;
            baseline += ops_per_sec(&hot, Side::Baseline, tasks, window).await?;
            baseline += ops_per_sec(&hot, Side::Baseline, tasks, window).await?;
            store += ops_per_sec(&hot, Side::Store, tasks, window).await?;
            Ok::<_, StoreError>(())
        };
        if let Err(e) = step.await {
            result = Err(e);
            break;
        }
        rows.push(
            Row::new(
                format!("throughput users.get_by_email × {tasks} tasks"),
                "postgres",
                Unit::PerSec,
                store / 2.0,
            )
            .baseline(baseline / 2.0)
            .check(Check::VsBaseline(1.2), "≤1.2× sqlx")
            .note(format!("pool of 10, 2 × {} ms windows each", window.as_millis())),
        );
    }
    if let Ok(hot) = Arc::try_unwrap(hot) {
        hot.cleanup().await;
    }
    result.map(|()| rows)
}
