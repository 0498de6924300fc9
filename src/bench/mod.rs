//! The measuring code behind `benches/` (criterion) and `hellojohn-store bench` (one table
//! for a whole run). Every figure is measured against a baseline in the same run, on the
//! same server and the same connection pool, so that what is reported is a ratio that
//! survives a noisy machine.
//!
//! One file per group:
//! - [`hot`]: repository hot paths against the same statements written by hand with sqlx
//!   (prepared, on the repositories' own pool) and against the `SELECT 1` round trip;
//! - [`throughput`]: 1 to 64 concurrent tasks on PostgreSQL;
//! - [`for_tenant`]: a warm `Manager::for_tenant` against a `HashMap<String, Arc<_>>`;
//! - `cold`: many tenants on one server (PostgreSQL, MySQL) — provisioning, a cold open in
//!   a fresh manager, 1,000 tenants used at once on one pool, memory per idle tenant;
//! - [`control`]: loading and validating a 10,000-tenant FS tree;
//! - `mongo` (feature `mongo`): the same hot paths through the MongoDB repositories against
//!   the same operations written directly with the `mongodb` driver (on the repositories' own
//!   client and database) and against the `{ping: 1}` round trip.
//!
//! [`run`] runs the groups asked for and returns the [`Row`]s that [`render_table`] prints.

#[cfg(all(feature = "postgres", feature = "mysql"))]
pub mod cold;
pub mod control;
pub mod for_tenant;
pub mod hot;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod throughput;

use std::fmt::Write as _;
use std::time::Duration;

use crate::error::{StoreError, StoreResult};

/// PostgreSQL server used when `HJ_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// MySQL/MariaDB server used when `HJ_TEST_MYSQL_URL` is not set.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";
/// MongoDB server used when `HJ_TEST_MONGO_URL` is not set (the test server of
/// `scripts/mongo-service.sh`).
pub const DEFAULT_MONGO_URL: &str = "mongodb://127.0.0.1:27017/?directConnection=true";

/// A SQL engine the benchmarks run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite (a file in a temporary folder).
    Sqlite,
    /// PostgreSQL (a schema on the server).
    Postgres,
    /// MySQL / MariaDB (a database on the server).
    MySql,
}

impl Engine {
    /// The name printed in the table.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
        }
    }

    /// Parses `sqlite`, `postgres`/`pg`/`postgresql`, `mysql`/`mariadb`.
    ///
    /// Errors: `InvalidInput` for another name.
    pub fn parse(s: &str) -> StoreResult<Engine> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" | "postgresql" | "pg" => Ok(Engine::Postgres),
            "mysql" | "mariadb" => Ok(Engine::MySql),
            other => Err(StoreError::invalid("engines", format!("unknown engine {other:?}"))),
        }
    }
}

/// What a run measures and how long.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Reduced counts (CI: the harness runs, its figures are printed, not asserted).
    pub quick: bool,
    /// SQL engines of the hot paths (and of cold start where it applies).
    pub engines: Vec<Engine>,
    /// PostgreSQL server.
    pub postgres_url: String,
    /// MySQL/MariaDB server.
    pub mysql_url: String,
    /// MongoDB server (the `mongo` group).
    pub mongo_url: String,
    /// Groups to run (`hot`, `throughput`, `for_tenant`, `cold`, `control`, `mongo`);
    /// empty means all.
    pub groups: Vec<String>,
    /// Tenants of the `cold` group (default 10,000; with `quick` 200, MySQL 50).
    pub tenants: Option<usize>,
}

impl BenchOptions {
    /// Every engine and group, full counts, servers from `HJ_TEST_POSTGRES_URL` /
    /// `HJ_TEST_MYSQL_URL` / `HJ_TEST_MONGO_URL` or the defaults.
    pub fn new(quick: bool) -> Self {
        let env =
            |k: &str, d: &str| std::env::var(k).ok().filter(|s| !s.trim().is_empty()).unwrap_or(d.into());
        BenchOptions {
            quick,
            engines: vec![Engine::Sqlite, Engine::Postgres, Engine::MySql],
            postgres_url: env("HJ_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
            mysql_url: env("HJ_TEST_MYSQL_URL", DEFAULT_MYSQL_URL),
            mongo_url: env("HJ_TEST_MONGO_URL", DEFAULT_MONGO_URL),
            groups: Vec::new(),
            tenants: None,
        }
    }

    /// Whether `group` is to run.
    pub fn wants(&self, group: &str) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|g| g == group)
    }

    /// Whether `engine` is to run.
    pub fn has(&self, engine: Engine) -> bool {
        self.engines.contains(&engine)
    }
}

/// What the figures of a row are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds (printed as ns, µs, ms or s).
    Nanos,
    /// Operations per second (higher is better; ratios are baseline / store).
    PerSec,
    /// A count (connections).
    Count,
    /// Bytes (printed as B, KiB or MiB).
    Bytes,
}

impl Unit {
    /// `v` in this unit, human-readable.
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "-".into();
        }
        match self {
            Unit::Nanos => format_nanos(v),
            Unit::PerSec => format!("{v:.0}/s"),
            Unit::Count => format!("{v:.0}"),
            Unit::Bytes if v < 1024.0 => format!("{v:.0} B"),
            Unit::Bytes if v < 1024.0 * 1024.0 => format!("{:.1} KiB", v / 1024.0),
            Unit::Bytes => format!("{:.1} MiB", v / (1024.0 * 1024.0)),
        }
    }
}

fn format_nanos(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.1} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A budget line of the issue, checked against a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// Ratio against the baseline at most this.
    VsBaseline(f64),
    /// Ratio against the floor at most this.
    VsFloor(f64),
    /// The store figure at most this (in the row's unit).
    AtMost(f64),
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Group and case, e.g. `hot users.get_by_email`.
    pub group: String,
    /// Engine or setting.
    pub engine: String,
    /// Unit of the three figures.
    pub unit: Unit,
    /// The store's figure (median).
    pub store: f64,
    /// The baseline's figure (median), if the case has one.
    pub baseline: Option<f64>,
    /// The floor's figure (median), if the case has one.
    pub floor: Option<f64>,
    /// The budget lines this row is held to.
    pub checks: Vec<Check>,
    /// The budget as printed.
    pub budget: String,
    /// A remark (iterations, what the baseline is).
    pub note: String,
}

impl Row {
    /// A row without baseline, floor or budget.
    pub fn new(group: impl Into<String>, engine: impl Into<String>, unit: Unit, store: f64) -> Self {
        Row {
            group: group.into(),
            engine: engine.into(),
            unit,
            store,
            baseline: None,
            floor: None,
            checks: Vec::new(),
            budget: String::new(),
            note: String::new(),
        }
    }

    /// Sets the baseline.
    pub fn baseline(mut self, v: f64) -> Self {
        self.baseline = Some(v);
        self
    }

    /// Sets the floor.
    pub fn floor(mut self, v: f64) -> Self {
        self.floor = Some(v);
        self
    }

    /// Adds a budget line.
    pub fn check(mut self, check: Check, text: impl Into<String>) -> Self {
        self.checks.push(check);
        let text = text.into();
        if self.budget.is_empty() {
            self.budget = text;
        } else {
            self.budget = format!("{}, {text}", self.budget);
        }
        self
    }

    /// Sets the remark.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    fn ratio(&self, other: Option<f64>) -> Option<f64> {
        let other = other?;
        if other <= 0.0 || self.store <= 0.0 {
            return None;
        }
        Some(if self.unit == Unit::PerSec { other / self.store } else { self.store / other })
    }

    /// Store against baseline (a cost ratio: above 1 means the store is slower).
    pub fn ratio_vs_baseline(&self) -> Option<f64> {
        self.ratio(self.baseline)
    }

    /// Store against floor (a cost ratio).
    pub fn ratio_vs_floor(&self) -> Option<f64> {
        self.ratio(self.floor)
    }

    /// Whether every budget line holds (`None` without a budget).
    pub fn holds(&self) -> Option<bool> {
        if self.checks.is_empty() {
            return None;
        }
        Some(self.checks.iter().all(|c| match *c {
            Check::VsBaseline(max) => self.ratio_vs_baseline().is_some_and(|r| r <= max),
            Check::VsFloor(max) => self.ratio_vs_floor().is_some_and(|r| r <= max),
            Check::AtMost(max) => self.store <= max,
        }))
    }
}

/// The table: `group | engine | store | baseline | floor | ratio vs baseline | ratio vs floor
/// | budget | holds? | note`, as Markdown.
pub fn render_table(rows: &[Row]) -> String {
    let header = [
        "group",
        "engine",
        "store",
        "baseline",
        "floor",
        "ratio vs baseline",
        "ratio vs floor",
        "budget",
        "holds?",
        "note",
    ];
    let mut lines: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let opt = |v: Option<f64>| v.map(|v| r.unit.format(v)).unwrap_or_else(|| "-".into());
        let ratio = |v: Option<f64>| v.map(|v| format!("{v:.2}×")).unwrap_or_else(|| "-".into());
        lines.push(vec![
            r.group.clone(),
            r.engine.clone(),
            r.unit.format(r.store),
            opt(r.baseline),
            opt(r.floor),
            ratio(r.ratio_vs_baseline()),
            ratio(r.ratio_vs_floor()),
            if r.budget.is_empty() { "-".into() } else { r.budget.clone() },
            match r.holds() {
                Some(true) => "yes".into(),
                Some(false) => "NO".into(),
                None => "-".into(),
            },
            r.note.clone(),
        ]);
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for l in &lines {
        for (w, c) in widths.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        out.push('|');
        for (c, w) in cells.iter().zip(&widths) {
            let pad = w - c.chars().count();
            let _ = write!(out, " {c}{} |", " ".repeat(pad));
        }
        out.push('\n');
    };
    line(&mut out, &header.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    line(&mut out, &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>());
    for l in &lines {
        line(&mut out, l);
    }
    out
}

/// The median of `samples` (0 for none).
pub fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len().is_multiple_of(2) { (samples[mid - 1] + samples[mid]) / 2.0 } else { samples[mid] }
}

/// Nanoseconds of `d` as `f64`.
pub fn nanos(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}

/// Resident memory of this process right now and at its peak (`VmRSS`, `VmHWM`), bytes.
pub fn resident_memory() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A progress line on stderr (the table goes to stdout).
pub(crate) fn progress(msg: impl AsRef<str>) {
    eprintln!("bench: {}", msg.as_ref());
}

/// Runs the groups `opts` asks for and returns their rows. A group that fails (a server
/// down, say) yields one row saying so and the run goes on.
pub async fn run(opts: &BenchOptions) -> Vec<Row> {
    let mut rows = Vec::new();
    if opts.wants("hot") {
        for &engine in &opts.engines {
            progress(format!("hot paths on {}", engine.name()));
            match hot::run(opts, engine).await {
                Ok(r) => rows.extend(r),
                Err(e) => rows.push(failed("hot", engine.name(), &e)),
            }
        }
    }
    if opts.wants("mongo") {
        #[cfg(feature = "mongo")]
        {
            progress("hot paths on mongo");
            match mongo::run(opts).await {
                Ok(r) => rows.extend(r),
                Err(e) => rows.push(failed("hot", "mongo", &e)),
            }
        }
        #[cfg(not(feature = "mongo"))]
        rows.push(
            Row::new("hot (all)", "mongo", Unit::Count, f64::NAN)
                .note("not built (the `mongo` feature is off)"),
        );
    }
    if opts.wants("throughput") && opts.has(Engine::Postgres) {
        progress("throughput on postgres");
        match throughput::run(opts).await {
            Ok(r) => rows.extend(r),
            Err(e) => rows.push(failed("throughput", "postgres", &e)),
        }
    }
    if opts.wants("for_tenant") {
        progress("for_tenant (warm)");
        match for_tenant::run(opts).await {
            Ok(r) => rows.extend(r),
            Err(e) => rows.push(failed("for_tenant", "-", &e)),
        }
    }
    #[cfg(all(feature = "postgres", feature = "mysql"))]
    if opts.wants("cold") {
        for engine in [Engine::Postgres, Engine::MySql] {
            if opts.has(engine) {
                progress(format!("cold (many tenants on one server) on {}", engine.name()));
                match cold::run(opts, engine).await {
                    Ok(r) => rows.extend(r),
                    Err(e) => rows.push(failed("cold", engine.name(), &e)),
                }
            }
        }
    }
    if opts.wants("control") {
        progress("control plane");
        match control::run(opts).await {
            Ok(r) => rows.extend(r),
            Err(e) => rows.push(failed("control", "fs", &e)),
        }
    }
    rows
}

fn failed(group: &str, engine: &str, e: &StoreError) -> Row {
    progress(format!("{group} on {engine} failed: {e}"));
    Row::new(group, engine, Unit::Count, 0.0).note(format!("FAILED: {e}"))
}
