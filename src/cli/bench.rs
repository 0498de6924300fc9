use std::process::ExitCode;

use clap::Args;

use crate::bench::{BenchOptions, Engine, render_table};
use crate::error::StoreResult;

/// Flags of `hellojohn-store bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Reduced counts (CI: proves the harness runs; figures are printed, not asserted).
    #[arg(long)]
    quick: bool,
    /// SQL engines, comma-separated: sqlite, postgres, mysql.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres,mysql")]
    engines: Vec<String>,
    /// Groups, comma-separated (hot, mongo, throughput, for_tenant, cold, control); all by default.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// Tenants of the `cold` group on each engine (default 10,000; with `--quick` 200, MySQL 50).
    #[arg(long)]
    tenants: Option<usize>,
    /// PostgreSQL server (else `HJ_TEST_POSTGRES_URL`, else the loopback test server).
    #[arg(long)]
    postgres_url: Option<String>,
    /// MySQL/MariaDB server (else `HJ_TEST_MYSQL_URL`, else the loopback test server).
    #[arg(long)]
    mysql_url: Option<String>,
    /// MongoDB server of the `mongo` group (else `HJ_TEST_MONGO_URL`, else the loopback test
    /// server).
    #[arg(long)]
    mongo_url: Option<String>,
}

/// Runs the benchmarks and prints the table on stdout (progress on stderr). Exit 0 when
/// every group ran (a missed budget is reported, not an error), 1 when one failed.
pub(crate) fn run(args: BenchArgs) -> ExitCode {
    super::runtime(async move {
        let mut opts = BenchOptions::new(args.quick);
        opts.engines = args.engines.iter().map(|e| Engine::parse(e)).collect::<StoreResult<_>>()?;
        opts.groups = args.groups.iter().map(|g| g.trim().to_string()).filter(|g| !g.is_empty()).collect();
        opts.tenants = args.tenants;
        if let Some(url) = args.postgres_url {
            opts.postgres_url = url;
        }
        if let Some(url) = args.mysql_url {
            opts.mysql_url = url;
        }
        if let Some(url) = args.mongo_url {
            opts.mongo_url = url;
        }
        let rows = crate::bench::run(&opts).await;
        println!("{}", render_table(&rows));
        let failed = rows.iter().any(|r| r.note.starts_with("FAILED"));
        Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
    })
}
