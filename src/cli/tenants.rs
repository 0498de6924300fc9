use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{fail, runtime};
use crate::error::StoreResult;
use crate::manager::Manager;
use crate::model::{Secret, Tenant, TenantDbSettings};

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant (its data plane on its own database with --db, else on the default one).
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Slug: lowercase letters, digits and dashes, at most 63 characters.
    slug: String,
    /// Name (defaults to the slug).
    #[arg(long)]
    name: Option<String>,
    /// The tenant's own database URL (postgres://, mysql://, sqlite://, mongodb://);
    /// stored encrypted, so HJ_SECRET_KEY must be set.
    #[arg(long)]
    db: Option<String>,
    /// PostgreSQL schema of the tenant's own database.
    #[arg(long, requires = "db")]
    schema: Option<String>,
}

pub(crate) fn list(manager_args: &super::args::StoreArgs) -> ExitCode {
    runtime(async {
        let manager = Manager::new(manager_args.manager_config()?).await?;
        let tenants = manager.config().tenants().list().await?;
        println!("{:<24} {:<38} {:<10} name", "slug", "id", "database");
        for t in &tenants {
            let db = match &t.settings.user_db {
                Some(own) => own.driver.clone(),
                None if manager.capabilities().users => "default".into(),
                None => "-".into(),
            };
            println!("{:<24} {:<38} {:<10} {}", t.slug, t.id, db, t.name);
        }
        println!("{} tenant(s)", tenants.len());
        Ok(ExitCode::SUCCESS)
    })
}

/// The driver a database URL's scheme names.
pub(crate) fn driver_of(url: &str) -> Option<&'static str> {
    let scheme = url.split("://").next()?.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Some("postgres"),
        "mysql" | "mariadb" => Some("mysql"),
        "sqlite" => Some("sqlite"),
        "mongodb" | "mongodb+srv" => Some("mongo"),
        _ => None,
    }
}

pub(crate) fn run(manager_args: &super::args::StoreArgs, cmd: TenantCommand) -> ExitCode {
    match cmd {
        TenantCommand::Create(args) => runtime(async move { create(manager_args, args).await }),
    }
}

async fn create(manager_args: &super::args::StoreArgs, args: CreateArgs) -> StoreResult<ExitCode> {
    let manager = Manager::new(manager_args.manager_config()?).await?;
    let mut tenant = Tenant::new(args.slug.clone(), args.name.clone().unwrap_or_else(|| args.slug.clone()));
    if let Some(url) = &args.db {
        let Some(driver) = driver_of(url) else {
            return Ok(fail(&format!("--db: cannot tell the driver of {}", crate::mode::redact_dsn(url)), 2));
        };
        tenant.settings.user_db = Some(TenantDbSettings {
            driver: driver.to_string(),
            dsn: Secret::plain(url.clone()),
            schema: args.schema,
        });
    }
    let created = manager.config().tenants().create(tenant).await?;
    println!("created tenant {} ({})", created.slug, created.id);
    match manager.migrate_tenant(&created.slug).await {
        Ok(()) => println!("database of {} ready", created.slug),
        Err(crate::StoreError::NoDatabase { .. }) => {
            println!("{} has no database (control plane only)", created.slug)
        }
        Err(e) => {
            return Ok(fail(&format!("tenant created, but its database could not be prepared: {e}"), 1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
