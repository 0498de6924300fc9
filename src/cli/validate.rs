use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::adapters::fs::tree::validate_tree_with_key;
use crate::crypto::SecretBox;

/// Flags of `hellojohn-store validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Root of the control-plane YAML tree (the folder holding `tenants/` and `admins/`).
    fs_root: PathBuf,
    /// Also check that every secret decrypts for its own tenant and field, with the key in
    /// `HJ_SECRET_KEY` (without this flag validation never needs the key).
    #[arg(long)]
    decrypt: bool,
}

/// Prints every problem as `path:line:column: /json/pointer: message`. Exit 0 when the tree
/// is valid, 1 when it is not, 2 when the root is not a folder (or `--decrypt` has no key).
pub(crate) fn run(args: ValidateArgs) -> ExitCode {
    let key = if args.decrypt {
        match SecretBox::from_env() {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("hellojohn-store validate --decrypt: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let problems = match validate_tree_with_key(&args.fs_root, key.as_ref()) {
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
