//! `Manager::for_tenant` on a warm tenant (its access cached) against the floor of any
//! tenant lookup: a plain `HashMap<String, Arc<_>>` `get` + `clone` of the same access.
//! Calls are timed in batches (one call is too short for the clock) and batches of the two
//! alternate.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use super::{BenchOptions, Check, Row, Unit, median, nanos};
use crate::error::{StoreError, StoreResult};
use crate::manager::{Manager, ManagerConfig, TenantDataAccess};
use crate::model::Tenant;

/// A manager over a temporary FS tree with one tenant, already resolved once, and the
/// `HashMap` holding the same access.
pub struct WarmTenant {
    _dir: tempfile::TempDir,
    /// The manager.
    pub manager: Manager,
    /// The baseline map: slug → access.
    pub map: HashMap<String, Arc<TenantDataAccess>>,
    /// The tenant's slug.
    pub slug: String,
}

impl WarmTenant {
    /// Builds the tree, the manager (no database: the warm path never touches one) and
    /// resolves the tenant once.
    ///
    /// Errors: those of the control plane.
    pub async fn new() -> StoreResult<Self> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::invalid("fs_root", e.to_string()))?;
        let manager = Manager::new(ManagerConfig::from_fs_root(dir.path())).await?;
        let slug = "acme".to_string();
        manager.config().tenants().create(Tenant::new(slug.clone(), "Acme")).await?;
        let access = manager.for_tenant(&slug).await?;
        let mut map = HashMap::new();
        map.insert(slug.clone(), Arc::new(access));
        Ok(WarmTenant { _dir: dir, manager, map, slug })
    }

    /// One warm `for_tenant`.
    ///
    /// Errors: those of `for_tenant` (none expected).
    pub async fn store_once(&self) -> StoreResult<()> {
        black_box(self.manager.for_tenant(black_box(&self.slug)).await?);
        Ok(())
    }

    /// One `HashMap` lookup and clone.
    pub fn baseline_once(&self) {
        black_box(self.map.get(black_box(self.slug.as_str())).cloned());
    }
}

/// The `for_tenant` row.
///
/// Errors: building the manager.
pub async fn run(opts: &BenchOptions) -> StoreResult<Vec<Row>> {
    let warm = WarmTenant::new().await?;
    let (rounds, batch) = if opts.quick { (30, 1_000) } else { (400, 2_000) };
    for _ in 0..batch {
        warm.store_once().await?;
        warm.baseline_once();
    }
    let mut store = Vec::with_capacity(rounds);
    let mut baseline = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..batch {
            warm.store_once().await?;
        }
        store.push(nanos(start.elapsed()) / batch as f64);
        let start = Instant::now();
        for _ in 0..batch {
            warm.baseline_once();
        }
        baseline.push(nanos(start.elapsed()) / batch as f64);
    }
    Ok(vec![
        Row::new("for_tenant (warm)", "-", Unit::Nanos, median(&mut store))
            .baseline(median(&mut baseline))
            .check(Check::AtMost(1_000.0), "≤1 µs")
            .check(Check::VsBaseline(5.0), "≤5× HashMap")
            .note(format!("ns/op, median of {rounds} batches of {batch}")),
    ])
}
