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
    /// Delete a tenant: it is unreachable at once; its data stays in its namespace until
    /// `tenant purge` (a new tenant with the same slug starts empty).
    Delete(DeleteArgs),
    /// Drop the namespaces of tenants deleted at least --older-than ago (never a tenant's
    /// own database) and forget them.
    Purge(PurgeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Slug of the tenant.
    slug: String,
}

#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Retention: purge tenants deleted at least this long ago (`30d`, `12h`, `90m`, `45s`;
    /// `0s` for every deleted tenant).
    #[arg(long, value_parser = parse_retention)]
    older_than: std::time::Duration,
    /// Print what would be purged; drop and forget nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Parses `<number><unit>` with unit `s`, `m`, `h`, `d` or `w`.
pub(crate) fn parse_retention(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not <number><unit>, e.g. 30d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{text:?}: the unit must be s, m, h, d or w")),
    };
    n.checked_mul(secs).map(std::time::Duration::from_secs).ok_or_else(|| format!("{text:?} is too long"))
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
        TenantCommand::Delete(args) => runtime(async move {
            let manager = Manager::new(manager_args.manager_config()?).await?;
            manager.config().tenants().delete(&args.slug).await?;
            println!("deleted tenant {}; its data stays until `tenant purge`", args.slug);
            Ok(ExitCode::SUCCESS)
        }),
        TenantCommand::Purge(args) => runtime(async move { purge(manager_args, args).await }),
    }
}

pub(crate) fn list_deleted(manager_args: &super::args::StoreArgs) -> ExitCode {
    runtime(async {
        let manager = Manager::new(manager_args.manager_config()?).await?;
        let deleted = manager.deleted_tenants().await?;
        println!("{:<24} {:<38} {:<42} {:<8} deleted at", "slug", "id", "namespace", "database");
        for d in &deleted {
            let db = if d.own_db { "own" } else { "default" };
            println!(
                "{:<24} {:<38} {:<42} {:<8} {}",
                d.slug,
                d.id,
                d.namespace,
                db,
                d.deleted_at.to_rfc3339()
            );
        }
        println!("{} deleted tenant(s) not purged", deleted.len());
        Ok(ExitCode::SUCCESS)
    })
}

async fn purge(manager_args: &super::args::StoreArgs, args: PurgeArgs) -> StoreResult<ExitCode> {
    use crate::manager::PurgeOutcome;
    let manager = Manager::new(manager_args.manager_config()?).await?;
    let report = manager.purge_deleted_tenants(args.older_than, args.dry_run).await?;
    let (would, done) = if report.dry_run { ("would ", "(dry run) ") } else { ("", "") };
    let mut failed = 0;
    for entry in &report.purged {
        let t = &entry.tenant;
        let target = entry.target.as_deref().unwrap_or("-");
        match &entry.outcome {
            PurgeOutcome::Dropped => {
                println!("{done}{} ({}): {would}drop namespace {} ({target})", t.slug, t.id, t.namespace)
            }
            PurgeOutcome::OwnDatabaseLeft => {
                println!(
                    "{done}{} ({}): {would}drop template namespace {} ({target}); own database elsewhere {would}be left in place; record {would}be removed",
                    t.slug, t.id, t.namespace
                )
            }
            PurgeOutcome::Failed(why) => {
                failed += 1;
                println!("{} ({}): FAILED, kept: {why}", t.slug, t.id);
            }
        }
    }
    println!(
        "{done}{} purged, {failed} failed, {} younger than the retention kept",
        report.purged.len() - failed,
        report.kept.len()
    );
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
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
    // `create` provisions the tenant's database and records how it went.
    match &created.provisioning {
        None => println!("{} has no database (control plane only)", created.slug),
        Some(p) if p.state == crate::model::ProvisioningState::Ready => {
            println!("database of {} ready", created.slug)
        }
        Some(p) => {
            let error = p.error.as_deref().unwrap_or("unknown error");
            return Ok(fail(
                &format!(
                    "tenant created, but its database could not be prepared: {error}\n\
                     retry with: hellojohn-store tenant provision {}",
                    created.slug
                ),
                1,
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
