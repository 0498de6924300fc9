//! The `hellojohn-store` command-line tool: what operators and CI jobs run. Each
//! subcommand lives in its own file and only calls the library's public API.

mod args;
#[cfg(all(feature = "bench", any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
mod bench;
mod demo;
mod internal;
mod migrate;
mod mode;
mod schema;
mod secret;
mod status;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod sync;
mod tenants;
mod validate;

use std::future::Future;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::StoreResult;

/// Command line of `hellojohn-store`.
#[derive(Debug, Parser)]
#[command(
    name = "hellojohn-store",
    version,
    about = "Data-access layer of HelloJohn: modes, tenants, migrations, validation"
)]
pub struct Cli {
    #[command(flatten)]
    store: args::StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the operational mode detected from flags or environment, and its capabilities.
    Mode,
    /// Validate a control-plane tree: every file against its JSON Schema and the rules
    /// across files. Prints `path:line:column: /json/pointer: message` per problem; exit 0
    /// when valid, 1 when not, 2 on a usage error.
    Validate(validate::ValidateArgs),
    /// JSON Schemas of the control-plane files.
    Schema(schema::SchemaArgs),
    /// Seal a secret for a tenant's YAML (`secret seal --tenant acme --field smtp.password`,
    /// the value on stdin).
    Secret(secret::SecretArgs),
    /// (tests) Create clients in a tenant from a separate process.
    #[command(name = "__write-clients", hide = true)]
    WriteClients(internal::WriteClientsArgs),
    /// (tests) Write every kind of control-plane file in a loop, to be killed.
    #[command(name = "__churn", hide = true)]
    Churn(internal::ChurnArgs),
    /// The main job on the embedded default: a tenant on SQLite, users, a login, token
    /// rotation and reuse detection, consent and roles, printed step by step.
    Demo(demo::DemoArgs),
    /// List tenants.
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// Manage one tenant.
    Tenant {
        #[command(subcommand)]
        command: tenants::TenantCommand,
    },
    /// Create and migrate tenants' databases and record the outcome (one tenant, or --all,
    /// --jobs at a time, with a progress bar on a terminal).
    Migrate(migrate::MigrateArgs),
    /// Mode, tenants (database, provisioning, a ping of each), and the per-server pools.
    Status,
    /// Move the control plane between an FS tree and the global database.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    Sync(sync::SyncArgs),
    /// Benchmarks against baselines measured in the same run; prints one table.
    #[cfg(all(feature = "bench", any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    Bench(bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
enum TenantsCommand {
    /// List every tenant with its database (with --deleted: the deleted tenants whose
    /// namespaces are not purged yet).
    List {
        /// List the deleted tenants not yet purged instead.
        #[arg(long)]
        deleted: bool,
    },
}

/// Parses the process arguments and runs the subcommand. Exit code 0 on success, 1 on a
/// failure, 2 on a usage error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Mode => mode::run(&cli.store),
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Secret(args) => secret::run(args),
        Command::WriteClients(args) => internal::write_clients(args),
        Command::Churn(args) => internal::churn(args),
        Command::Demo(args) => demo::run(args),
        Command::Tenants { command: TenantsCommand::List { deleted: false } } => tenants::list(&cli.store),
        Command::Tenants { command: TenantsCommand::List { deleted: true } } => {
            tenants::list_deleted(&cli.store)
        }
        Command::Tenant { command } => tenants::run(&cli.store, command),
        Command::Migrate(args) => migrate::run(&cli.store, args),
        Command::Status => status::run(&cli.store),
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        Command::Sync(args) => sync::run(&cli.store, args),
        #[cfg(all(feature = "bench", any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
        Command::Bench(args) => bench::run(args),
    }
}

/// Prints `message` to stderr and returns `code`.
pub(crate) fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("hellojohn-store: {message}");
    ExitCode::from(code)
}

/// Runs an async subcommand on a fresh runtime; a `StoreError` is printed and exits 1.
pub(crate) fn runtime<F>(fut: F) -> ExitCode
where
    F: Future<Output = StoreResult<ExitCode>>,
{
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}"), 1),
    };
    match rt.block_on(fut) {
        Ok(code) => code,
        Err(e) => fail(&e.to_string(), 1),
    }
}
