use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::args::StoreArgs;
use super::{fail, runtime};
use crate::StoreError;
use crate::manager::Manager;

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Migrate every tenant's database.
    #[arg(long, conflicts_with = "tenant")]
    all: bool,
    /// Migrate this tenant's database.
    tenant: Option<String>,
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
        let bar = ProgressBar::new(slugs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (mut migrated, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
        for slug in &slugs {
            bar.set_message(slug.clone());
            match manager.provision_tenant(slug).await {
                Ok(_) => migrated.push(slug.clone()),
                Err(StoreError::NoDatabase { .. }) => skipped.push(slug.clone()),
                Err(e) => failed.push((slug.clone(), e.to_string())),
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        manager.close().await;
        println!(
            "migrated {} tenant(s), skipped {} without a database, {} failed ({:.1?})",
            migrated.len(),
            skipped.len(),
            failed.len(),
            started.elapsed()
        );
        for (slug, error) in &failed {
            eprintln!("  {slug}: {error}");
        }
        Ok(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
    })
}
