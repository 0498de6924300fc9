//! The `hellojohn-store` command-line tool: what operators and CI jobs run. Each
//! subcommand lives in its own file and only calls the library's public API.

mod mode;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command line of `hellojohn-store`.
#[derive(Debug, Parser)]
#[command(
    name = "hellojohn-store",
    version,
    about = "Data-access layer of HelloJohn: modes, migrations, tenants, validation"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the operational mode detected from flags or environment, and its capabilities.
    Mode(mode::ModeArgs),
}

/// Parses the process arguments and runs the subcommand. Exit code 0 on success, 1 on a
/// failure, 2 on a usage error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Mode(args) => mode::run(args),
    }
}
