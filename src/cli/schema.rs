use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::adapters::fs::FileKind;

/// Flags of `hellojohn-store schema`.
#[derive(Debug, Args)]
pub(crate) struct SchemaArgs {
    #[command(subcommand)]
    command: SchemaCommand,
}

#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Write the JSON Schemas of the control-plane files into a folder (created if missing).
    Export {
        /// Target folder (the repository keeps them in `schemas/`).
        dir: PathBuf,
    },
}

pub(crate) fn run(args: SchemaArgs) -> ExitCode {
    match args.command {
        SchemaCommand::Export { dir } => {
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("hellojohn-store schema export: creating {}: {e}", dir.display());
                return ExitCode::from(1);
            }
            for kind in FileKind::ALL {
                let path = dir.join(kind.schema_file_name());
                if let Err(e) = std::fs::write(&path, kind.schema_text()) {
                    eprintln!("hellojohn-store schema export: writing {}: {e}", path.display());
                    return ExitCode::from(1);
                }
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
    }
}
