//! Hidden subcommands used by the integration tests to run real concurrent and crashing
//! writer processes. Not part of the supported interface.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::adapters::fs::FsControlPlane;
use crate::model::{ClientInput, ClientType};

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
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let cp = match FsControlPlane::from_env(&args.fs_root) {
            Ok(cp) => cp,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        };
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
