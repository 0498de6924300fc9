//! `hellojohn-store sync export|import <fs-root>`: the FS tree ⇄ the global database
//! (`--global-db-driver/--global-db-dsn`, or `HJ_GLOBAL_DB_DRIVER`/`HJ_GLOBAL_DB_DSN`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::args::StoreArgs;
use super::runtime;
use crate::adapters::global::sync::{export_tree, import_tree};
use crate::adapters::global::{GlobalConfig, GlobalControlPlane};
use crate::error::StoreError;

/// Flags of `hellojohn-store sync`.
#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(subcommand)]
    command: SyncCommand,
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// Write the control plane of the global database as an FS tree (reviewable, valid
    /// against the schemas; secrets stay encrypted). Tenant folders the database lacks are
    /// removed.
    Export {
        /// Root of the tree to write (created if missing).
        fs_root: PathBuf,
    },
    /// Validate an FS tree, then replace the global database's control plane with it in one
    /// transaction, and print what changed.
    Import {
        /// Root of the tree to load.
        fs_root: PathBuf,
    },
}

pub(crate) fn run(store: &StoreArgs, args: SyncArgs) -> ExitCode {
    runtime(async move {
        let Some(db) = store.mode_config().global_db else {
            return Err(StoreError::invalid(
                "global_db",
                "sync needs a global database: --global-db-driver and --global-db-dsn (or HJ_GLOBAL_DB_DRIVER, HJ_GLOBAL_DB_DSN)",
            ));
        };
        let secrets = crate::crypto::SecretBox::from_env_optional()?;
        let cp = GlobalControlPlane::open(GlobalConfig::new(db, secrets.clone())).await?;
        match args.command {
            SyncCommand::Export { fs_root } => {
                let report = export_tree(&cp, &fs_root).await?;
                println!("exported control-plane version {} to {}", cp.current_version(), fs_root.display());
                print!("{report}");
            }
            SyncCommand::Import { fs_root } => {
                let report = import_tree(&cp, &fs_root, secrets.as_ref()).await?;
                println!("imported {} as control-plane version {}", fs_root.display(), cp.current_version());
                print!("{report}");
                if report.is_empty() {
                    println!("(no changes)");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
