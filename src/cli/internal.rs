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
    /// How many clients to create (0: create, update and delete forever).
    count: u64,
}

pub(crate) fn write_clients(args: WriteClientsArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
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
        let clients = match cp.clients(&args.slug) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        };
        let with_secret = cp.secrets().is_some();
        let mut i: u64 = 0;
        loop {
            if args.count != 0 && i >= args.count {
                return ExitCode::SUCCESS;
            }
            let mut input = ClientInput::new(format!("{}-{i}", args.prefix), format!("Client {i}"));
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
            if args.count == 0 {
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
    })
}
