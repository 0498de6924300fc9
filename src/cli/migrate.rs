use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::args::StoreArgs;
use super::{fail, runtime};
use crate::StoreError;
use crate::manager::Manager;

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Migrate every tenant's database.
    #[arg(long, conflicts_with = "tenant")]
    all: bool,
    /// With --all: how many tenants are migrated at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    jobs: u32,
    /// Migrate this tenant's database.
    tenant: Option<String>,
}

/// How one tenant's migration went.
enum Outcome {
    Migrated,
    NoDatabase,
    Failed(String),
}

pub(crate) fn run(store: &StoreArgs, args: MigrateArgs) -> ExitCode {
    runtime(async move {
        let manager = Manager::new(store.manager_config()?).await?;
        let slugs: Vec<String> = match (&args.tenant, args.all) {
            (Some(slug), false) => vec![slug.clone()],
            (None, true) => manager.config().tenants().list().await?.into_iter().map(|t| t.slug).collect(),
            _ => return Ok(fail("give a tenant slug or --all", 2)),
        };
        let started = Instant::now();
        // On stderr; indicatif draws nothing when stderr is not a terminal, so piped or
        // captured output holds the summary lines only.
        let bar = ProgressBar::new(slugs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        // Each tenant is provisioned by `provision_tenant`, which takes the adapters'
        // per-namespace lock: replicas running this at once still migrate each namespace
        // once. The semaphore only bounds how many run here at the same time.
        let permits = Arc::new(Semaphore::new(args.jobs as usize));
        let mut tasks = JoinSet::new();
        let mut slug_of = std::collections::HashMap::new();
        for slug in slugs {
            let manager = manager.clone();
            let permits = Arc::clone(&permits);
            let key = slug.clone();
            let handle = tasks.spawn(async move {
                let outcome = match permits.acquire_owned().await {
                    Err(_) => Outcome::Failed("the job queue closed".into()),
                    Ok(_permit) => match manager.provision_tenant(&slug).await {
                        Ok(_) => Outcome::Migrated,
                        Err(StoreError::NoDatabase { .. }) => Outcome::NoDatabase,
                        Err(e) => Outcome::Failed(e.to_string()),
                    },
                };
                (slug, outcome)
            });
            slug_of.insert(handle.id(), key);
        }
        let (mut migrated, mut skipped, mut failed) = (0usize, 0usize, Vec::new());
        while let Some(joined) = tasks.join_next_with_id().await {
            match joined {
                Ok((_, (slug, outcome))) => {
                    match outcome {
                        Outcome::Migrated => migrated += 1,
                        Outcome::NoDatabase => skipped += 1,
                        Outcome::Failed(error) => failed.push((slug.clone(), error)),
                    }
                    bar.set_message(slug);
                }
                Err(e) => {
                    let slug = slug_of.get(&e.id()).cloned().unwrap_or_else(|| "?".into());
                    failed.push((slug, format!("the task stopped: {e}")));
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        manager.close().await;
        println!(
            "migrated {migrated} tenant(s), skipped {skipped} without a database, {} failed ({:.1?})",
            failed.len(),
            started.elapsed()
        );
        failed.sort();
        for (slug, error) in &failed {
            eprintln!("  {slug}: {error}");
        }
        Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}
