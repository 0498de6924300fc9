//! Hidden subcommands used by the integration tests to run real concurrent and crashing
//! writer processes. Not part of the supported interface.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::adapters::fs::FsControlPlane;
use crate::error::StoreResult;
use crate::model::{AdminFilter, AdminInput, AdminType, ClientInput, ClientType, Tenant, now};

/// Flags of the hidden `__write-clients` subcommand.
#[derive(Debug, Args)]
pub(crate) struct WriteClientsArgs {
    /// FS root.
    fs_root: PathBuf,
    /// Tenant slug.
    slug: String,
    /// Client id prefix.
    prefix: String,
    /// How many clients each task creates (0: create, update and delete forever).
    count: u64,
    /// Concurrent tasks in this process (client ids get `-t<task>` when more than one).
    #[arg(long, default_value_t = 1)]
    tasks: u64,
}

pub(crate) fn write_clients(args: WriteClientsArgs) -> ExitCode {
    on_control_plane(true, &args.fs_root.clone(), move |cp| async move {
        let mut handles = Vec::new();
        for task in 0..args.tasks.max(1) {
            let prefix =
                if args.tasks > 1 { format!("{}-t{task}", args.prefix) } else { args.prefix.clone() };
            handles.push(tokio::spawn(write_loop(cp.clone(), args.slug.clone(), prefix, args.count)));
        }
        for h in handles {
            match h.await {
                Ok(code) if code == ExitCode::SUCCESS => {}
                Ok(code) => return code,
                Err(e) => {
                    eprintln!("task: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        ExitCode::SUCCESS
    })
}

async fn write_loop(cp: FsControlPlane, slug: String, prefix: String, count: u64) -> ExitCode {
    {
        let clients = match cp.clients(&slug) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        };
        let with_secret = cp.secrets().is_some();
        let mut i: u64 = 0;
        loop {
            if count != 0 && i >= count {
                return ExitCode::SUCCESS;
            }
            let mut input = ClientInput::new(format!("{prefix}-{i}"), format!("Client {i}"));
            input.redirect_uris = vec![format!("https://app{i}.example.com/callback")];
            input.scopes = vec!["openid".into(), "email".into()];
            if with_secret {
                input.client_type = Some(ClientType::Confidential);
                input.secret = Some(format!("secret-{i}"));
            }
            if let Err(e) = clients.create(input.clone()).await {
                eprintln!("create {}: {e}", input.client_id);
                return ExitCode::from(1);
            }
            if count == 0 {
                input.name = format!("Client {i} renamed");
                if let Err(e) = clients.update(input.clone()).await {
                    eprintln!("update {}: {e}", input.client_id);
                    return ExitCode::from(1);
                }
                if i.is_multiple_of(2)
                    && let Err(e) = clients.delete(&input.client_id).await
                {
                    eprintln!("delete {}: {e}", input.client_id);
                    return ExitCode::from(1);
                }
            }
            i += 1;
        }
    }
}

/// Flags of the hidden `__churn` subcommand.
#[derive(Debug, Args)]
pub(crate) struct ChurnArgs {
    /// FS root.
    fs_root: PathBuf,
    /// Tenant whose clients are written (it must exist).
    slug: String,
    /// Prefix of every client id, tenant slug and admin e-mail made (one per process).
    prefix: String,
    /// Rounds to run (0: forever).
    count: u64,
}

/// Writes every kind of control-plane file in a loop, for the crash-safety test to kill at
/// random moments: per round a client (created, updated, every other one deleted), a tenant
/// (created, deleted), an admin with a refresh token (every other admin deleted, which
/// rewrites both admin files). Prints `ready` once it has opened and read the tree, so the
/// test kills it while it writes rather than while it starts.
pub(crate) fn churn(args: ChurnArgs) -> ExitCode {
    on_control_plane(false, &args.fs_root.clone(), move |cp| async move {
        // Read what the rounds write once (compiling the validators) before saying so.
        let warm = async {
            cp.clients(&args.slug)?.list("").await?;
            cp.admins().list(&AdminFilter::default()).await
        };
        if let Err(e) = warm.await {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
        println!("ready");
        let mut i: u64 = 0;
        while args.count == 0 || i < args.count {
            let name = format!("{}-{i}", args.prefix);
            if let Err(e) = churn_round(&cp, &args.slug, &name, i).await {
                eprintln!("round {name}: {e}");
                return ExitCode::from(1);
            }
            i += 1;
        }
        ExitCode::SUCCESS
    })
}

async fn churn_round(cp: &FsControlPlane, slug: &str, name: &str, i: u64) -> StoreResult<()> {
    let clients = cp.clients(slug)?;
    let mut input = ClientInput::new(name, "Churn client");
    input.redirect_uris = vec![format!("https://{name}.example.com/callback")];
    input.scopes = vec!["openid".into(), "email".into()];
    if cp.secrets().is_some() {
        input.client_type = Some(ClientType::Confidential);
        input.secret = Some(format!("secret-{name}"));
    }
    clients.create(input.clone()).await?;
    input.name = "Churn client renamed".into();
    clients.update(input.clone()).await?;
    if i.is_multiple_of(2) {
        clients.delete(name).await?;
    }

    let tenants = cp.tenants();
    tenants.create(Tenant::new(name, "Churn tenant")).await?;
    tenants.delete(name).await?;

    let admin = cp
        .admins()
        .create(AdminInput {
            email: format!("{name}@example.com"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            name: None,
            admin_type: AdminType::Global,
            assigned_tenants: Vec::new(),
            created_by: Some("churn".into()),
        })
        .await?;
    let tokens = cp.admin_refresh_tokens();
    let hash = format!("{name}-0123456789abcdef");
    tokens.create(admin.id, &hash, now() + chrono::TimeDelta::hours(1)).await?;
    cp.admins().touch_last_seen(admin.id).await?;
    if i.is_multiple_of(2) {
        // Rewrites refresh_tokens.yaml, then admins.yaml: a kill in between must leave a
        // valid tree (an admin without tokens, never tokens without an admin).
        cp.admins().delete(admin.id).await?;
    } else {
        tokens.delete(&hash).await?;
    }
    Ok(())
}

/// Runs `body` on a fresh runtime (two worker threads, or the current thread) with the FS
/// control plane of `fs_root`; a failure to build either is printed and exits 1.
fn on_control_plane<F, Fut>(multi_thread: bool, fs_root: &std::path::Path, body: F) -> ExitCode
where
    F: FnOnce(FsControlPlane) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let runtime = if multi_thread {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        match FsControlPlane::from_env(fs_root) {
            Ok(cp) => body(cp).await,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        }
    })
}
