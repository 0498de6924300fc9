//! What following a tree of N tenants (10,000 by default) costs: the FS control plane's
//! watcher, native (inotify) and polling, on the benchmark tree of `hellojohn-store bench`
//! (each tenant a folder with three files). Prints the start-up time, the resident memory
//! it added, the inotify watches it holds, the CPU it takes while nothing changes and how
//! long one changed tenant takes to be announced. A measurement, not a test.
//!
//! ```sh
//! cargo run --release --example watch_cost -- [N] [idle-seconds]
//! ```

use std::time::{Duration, Instant};

use hellojohn_store::StoreResult;
use hellojohn_store::adapters::fs::{FsControlPlane, FsWatch};
use hellojohn_store::repository::ControlPlaneStore;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU of this process, in clock ticks (1/100 s on Linux).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

fn inotify_watches() -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fdinfo") else { return 0 };
    fds.filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
        .map(|info| info.lines().filter(|l| l.starts_with("inotify wd:")).count())
        .sum()
}

#[tokio::main]
async fn main() -> StoreResult<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let idle: u64 = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let dir =
        tempfile::tempdir().map_err(|e| hellojohn_store::StoreError::invalid("tempdir", e.to_string()))?;
    hellojohn_store::bench::control::generate(dir.path(), n)?;
    println!("{n} tenants, {idle} s idle");
    for mode in [FsWatch::Auto, FsWatch::Poll] {
        let cp = FsControlPlane::new(dir.path(), None).with_watch(mode);
        let (rss, started) = (rss_kib(), Instant::now());
        let mut changes = cp.subscribe().expect("watcher");
        let start = started.elapsed();
        // The polling watcher scans once on start; let it settle before measuring.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let added = rss_kib().saturating_sub(rss);
        let watches = inotify_watches();
        let cpu = cpu_ticks();
        tokio::time::sleep(Duration::from_secs(idle)).await;
        let idle_cpu = cpu_ticks() - cpu;
        let file = dir.path().join("tenants/bench-00042/tenant.yaml");
        let text = std::fs::read_to_string(&file).expect("read");
        let edited = Instant::now();
        std::fs::write(&file, text.replace("name: Tenant 42", "name: Tenant 42 edited")).expect("edit");
        let change = tokio::time::timeout(Duration::from_secs(10), changes.recv()).await;
        let seen = edited.elapsed();
        std::fs::write(&file, text).expect("restore");
        println!(
            "{mode:?}: start {start:?}, +{} MiB resident, {watches} inotify watches, idle CPU {:.1}% of a core, \
             an edit announced after {seen:?} ({:?})",
            added / 1024,
            idle_cpu as f64 / idle as f64,
            change.ok().and_then(|c| c.ok()).map(|c| c.changed),
        );
        drop(changes);
        drop(cp);
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    Ok(())
}
