use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::adapters::fs::tree::validate_tree;

/// Flags of `hellojohn-store validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Root of the control-plane YAML tree (the folder holding `tenants/` and `admins/`).
    fs_root: PathBuf,
}

/// Prints every problem as `path:line:column: /json/pointer: message`. Exit 0 when the tree
/// is valid, 1 when it is not, 2 when the root is not a folder.
pub(crate) fn run(args: ValidateArgs) -> ExitCode {
    let problems = match validate_tree(&args.fs_root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hellojohn-store validate: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    for p in &problems {
        let _ = writeln!(out, "{p}");
    }
    if problems.is_empty() {
        let _ = writeln!(out, "{}: valid", args.fs_root.display());
        ExitCode::SUCCESS
    } else {
        let mut files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        files.sort();
        files.dedup();
        eprintln!("{} problem(s) in {} file(s)", problems.len(), files.len());
        ExitCode::from(1)
    }
}
