use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{fail, runtime};
use crate::error::{StoreError, StoreResult};
use crate::manager::Manager;
use crate::model::{ProvisioningState, Secret, Tenant, TenantDbSettings};

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
    /// Create and migrate the tenant's database now and record the outcome in the tenant
    /// (after a failed `tenant create`, or to retry). Exit 0 when ready, and also when the
    /// tenant has no database (nothing to do, said so); 1 when it fails.
    Provision(ProvisionArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ProvisionArgs {
    /// Slug of the tenant.
    slug: String,
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
        println!("{:<24} {:<38} {:<10} {:<13} name", "slug", "id", "database", "provisioning");
        let mut failed = 0;
        for t in &tenants {
            let (db, has_db) = match &t.settings.user_db {
                Some(own) => (own.driver.clone(), true),
                None if manager.capabilities().users => ("default".into(), true),
                None => ("-".into(), false),
            };
            let provisioning = provisioning_label(t, has_db);
            failed += usize::from(provisioning == "failed");
            // The name is free text from a file anyone with write access edits.
            let name = crate::error::printable(&t.name);
            println!("{:<24} {:<38} {:<10} {:<13} {name}", t.slug, t.id.to_string(), db, provisioning);
        }
        println!("{} tenant(s)", tenants.len());
        if failed > 0 {
            println!(
                "{failed} whose database could not be prepared: `hellojohn-store status` says why; \
                 retry with `hellojohn-store tenant provision <slug>`"
            );
        }
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
        TenantCommand::Provision(args) => runtime(async move { provision(manager_args, args).await }),
    }
}

async fn provision(manager_args: &super::args::StoreArgs, args: ProvisionArgs) -> StoreResult<ExitCode> {
    let manager = Manager::new(manager_args.manager_config()?).await?;
    let outcome = manager.provision_tenant(&args.slug).await;
    manager.close().await;
    match outcome {
        Ok(p) => {
            let version = p.schema_version.as_deref().unwrap_or("unknown");
            println!("database of {} ready (schema version {version})", args.slug);
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::NoDatabase { .. }) => {
            println!("{} has no database (control plane only): nothing to provision", args.slug);
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ StoreError::TenantNotFound { .. }) => Err(e),
        Err(e) => Ok(fail(
            &format!(
                "the database of {} could not be prepared (recorded as failed): {e}\n\
                 retry with: hellojohn-store tenant provision {}",
                args.slug, args.slug
            ),
            1,
        )),
    }
}

/// The provisioning column of a tenant: `ready`, `failed`, `not recorded`, or `-` without
/// a database.
pub(crate) fn provisioning_label(tenant: &Tenant, has_db: bool) -> &'static str {
    match &tenant.provisioning {
        _ if !has_db => "-",
        None => "not recorded",
        Some(p) if p.state == ProvisioningState::Ready => "ready",
        Some(_) => "failed",
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
                d.id.to_string(),
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
        Some(p) if p.state == ProvisioningState::Ready => {
            let version = p.schema_version.as_deref().unwrap_or("unknown");
            println!("database of {} ready (schema version {version})", created.slug)
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
