//! The `hellojohn-store` command-line tool. See `hellojohn-store --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    hellojohn_store::cli::main()
}
