//! The `hellojohn-store` command-line tool: what operators and CI jobs run. Each
//! subcommand lives in its own file and only calls the library's public API.

mod internal;
mod mode;
mod schema;
mod validate;

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
    /// Validate a control-plane tree: every file against its JSON Schema and the rules
    /// across files. Prints `path:line:column: /json/pointer: message` per problem; exit 0
    /// when valid, 1 when not, 2 on a usage error.
    Validate(validate::ValidateArgs),
    /// JSON Schemas of the control-plane files.
    Schema(schema::SchemaArgs),
    /// (tests) Create clients in a tenant from a separate process.
    #[command(name = "__write-clients", hide = true)]
    WriteClients(internal::WriteClientsArgs),
}

/// Parses the process arguments and runs the subcommand. Exit code 0 on success, 1 on a
/// failure, 2 on a usage error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Mode(args) => mode::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
        Command::WriteClients(args) => internal::write_clients(args),
    }
}
