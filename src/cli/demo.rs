use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::TimeDelta;
use clap::Args;
use sha2::{Digest, Sha256};

use super::runtime;
use crate::error::{StoreError, StoreResult};
use crate::manager::{Manager, ManagerConfig};
use crate::mode::DbConfig;
use crate::model::{CreateRefreshTokenInput, CreateUserInput, RoleInput, Tenant};
use crate::password::hash_password;

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where to create the demo's control-plane tree (and its SQLite files).
    #[arg(long, default_value = "./data")]
    root: PathBuf,
    /// Default tenant database (a `{tenant}` template); SQLite files under the root when absent.
    #[arg(long)]
    db: Option<String>,
    /// Tenant to create and use.
    #[arg(long, default_value = "acme")]
    tenant: String,
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The steps that gave another result than the one the demo shows: printed as they happen
/// and counted, so that the demo exits 1 when the store misbehaves instead of printing it.
#[derive(Default)]
struct Wrong(Vec<String>);

impl Wrong {
    /// Records `what` unless `ok`.
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            let what = what.into();
            eprintln!("   WRONG: {what}");
            self.0.push(what);
        }
    }
}

pub(crate) fn run(args: DemoArgs) -> ExitCode {
    runtime(async move { demo(args).await })
}

async fn demo(args: DemoArgs) -> StoreResult<ExitCode> {
    let db = match &args.db {
        Some(url) => {
            let driver = super::tenants::driver_of(url)
                .ok_or_else(|| StoreError::invalid("--db", "cannot tell the driver from the URL scheme"))?;
            DbConfig::new(driver, url.clone())
        }
        None => {
            let dir = args.root.join("db");
            std::fs::create_dir_all(&dir).map_err(|e| {
                StoreError::invalid("--root", format!("cannot create {}: {e}", dir.display()))
            })?;
            DbConfig::new("sqlite", format!("sqlite://{}/{{tenant}}.db?mode=rwc", dir.display()))
        }
    };
    println!("hellojohn-store demo");
    println!("  control plane: {}", args.root.display());
    println!("  tenant databases: {} {}", db.driver, db.redacted_dsn());
    let manager = Manager::new(ManagerConfig::from_fs_root(&args.root).default_tenant_db(db)).await?;
    println!("  mode: {}", manager.mode());

    let tenants = manager.config().tenants();
    match tenants.create(Tenant::new(args.tenant.clone(), "Acme Inc.")).await {
        Ok(t) => println!("1. created tenant {} ({})", t.slug, t.id),
        Err(StoreError::Conflict { .. }) => println!("1. tenant {} already exists; reusing it", args.tenant),
        Err(e) => return Err(e),
    }
    let acme = manager.for_tenant(&args.tenant).await?;
    println!("   data plane: {} (migrated on first use)", acme.backend());

    let users = acme.users()?;
    let mut ana = None;
    for (email, name, password) in [
        ("ana@example.com", "Ana", "correct horse battery staple"),
        ("bob@example.com", "Bob", "hunter2hunter2"),
    ] {
        let input = CreateUserInput::new(email).name(name).password_hash(hash_password(password)?);
        let user = match users.create(input).await {
            Ok((user, _)) => {
                println!("2. created user {} ({})", user.email, user.id);
                user
            }
            Err(StoreError::Conflict { .. }) => {
                let (user, _) = users.get_by_email(email).await?;
                println!("2. user {} already exists ({})", user.email, user.id);
                user
            }
            Err(e) => return Err(e),
        };
        if ana.is_none() {
            ana = Some(user);
        }
    }
    let ana = ana.ok_or_else(|| StoreError::not_found("user", "ana@example.com"))?;
    let mut wrong = Wrong::default();

    let (found, identity) = users.get_by_email("ANA@example.com").await?;
    let hash = identity.and_then(|i| i.password_hash);
    let good = users.check_password(hash.as_deref(), "correct horse battery staple");
    let bad = users.check_password(hash.as_deref(), "wrong password");
    println!(
        "3. login {} (e-mail matched case-insensitively): right password {}, wrong password {}",
        found.email,
        if good { "accepted" } else { "REJECTED" },
        if bad { "ACCEPTED" } else { "rejected" }
    );
    wrong.check(good, "the right password was rejected");
    wrong.check(!bad, "a wrong password was accepted");

    let tokens = acme.tokens()?;
    let first = random_token();
    let id = tokens
        .create(CreateRefreshTokenInput {
            user_id: ana.id,
            client_id: "demo-web".into(),
            token_hash: token_hash(&first),
            ttl: TimeDelta::days(30),
        })
        .await?;
    let second = random_token();
    let rotated = tokens.rotate(&token_hash(&first), &token_hash(&second), TimeDelta::days(30)).await?;
    println!("4. issued refresh token {id}; rotated it into {} (family {})", rotated.id, rotated.family_id);
    match tokens.rotate(&token_hash(&first), &token_hash(&random_token()), TimeDelta::days(30)).await {
        Err(StoreError::TokenReused) => {
            let newest = tokens.get_by_id(rotated.id).await?;
            println!(
                "5. presenting the old token again was detected as reuse; the family is revoked (newest token revoked: {})",
                newest.revoked_at.is_some()
            );
            wrong.check(newest.revoked_at.is_some(), "the reuse left the newest token of the family active");
        }
        other => {
            println!("5. reuse of a rotated token gave {other:?}");
            wrong.check(false, format!("reuse of a rotated token was not detected: {other:?}"));
        }
    }

    let scopes: BTreeSet<String> = ["openid", "profile", "email"].into_iter().map(String::from).collect();
    let consent = acme.consents()?.upsert(ana.id, "demo-web", &scopes).await?;
    println!("6. {} granted {:?} to client {}", ana.email, consent.scopes, consent.client_id);
    wrong.check(consent.scopes == scopes, format!("the consent holds {:?}, not {scopes:?}", consent.scopes));

    let rbac = acme.rbac()?;
    for role in [RoleInput::new("viewer", ["users:read"]), {
        let mut editor = RoleInput::new("editor", ["users:write"]);
        editor.inherits_from = Some("viewer".into());
        editor
    }] {
        match rbac.create_role(role).await {
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    rbac.assign_role(ana.id, "editor").await?;
    let permissions = rbac.get_user_permissions(ana.id).await?;
    println!("7. assigned role editor to {}; effective permissions {permissions:?}", ana.email);
    wrong.check(
        ["users:read", "users:write"].iter().all(|p| permissions.iter().any(|q| q == p)),
        format!("editor (inheriting viewer) gives {permissions:?}, not users:read and users:write"),
    );
    println!("done: {} user(s) in tenant {}", users.count(None).await?, acme.slug());
    manager.close().await;
    if wrong.0.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("demo: {} step(s) gave the wrong result:", wrong.0.len());
        for what in &wrong.0 {
            eprintln!("  - {what}");
        }
        Ok(ExitCode::FAILURE)
    }
}
