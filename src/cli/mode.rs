use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use crate::mode::{Capabilities, DbConfig, ModeConfig, detect_mode};

/// Flags of `hellojohn-store mode`; each falls back to its environment variable.
#[derive(Debug, Args)]
pub(crate) struct ModeArgs {
    /// Root of the control-plane YAML tree.
    #[arg(long, env = "HJ_FS_ROOT", default_value = "./data")]
    fs_root: String,
    /// Driver of the global database.
    #[arg(long, env = "HJ_GLOBAL_DB_DRIVER", default_value = "")]
    global_db_driver: String,
    /// DSN of the global database.
    #[arg(long, env = "HJ_GLOBAL_DB_DSN", default_value = "", hide_env_values = true)]
    global_db_dsn: String,
    /// Driver of the default tenant database.
    #[arg(long, env = "HJ_TENANT_DB_DRIVER", default_value = "")]
    tenant_db_driver: String,
    /// DSN template (with `{tenant}`) of the default tenant database.
    #[arg(long, env = "HJ_TENANT_DB_DSN", default_value = "", hide_env_values = true)]
    tenant_db_dsn: String,
}

impl ModeArgs {
    fn to_config(&self) -> ModeConfig {
        let db = |driver: &str, dsn: &str| {
            let cfg = DbConfig::new(driver.trim(), dsn.trim());
            cfg.is_valid().then_some(cfg)
        };
        ModeConfig {
            fs_root: self.fs_root.clone().into(),
            global_db: db(&self.global_db_driver, &self.global_db_dsn),
            default_tenant_db: db(&self.tenant_db_driver, &self.tenant_db_dsn),
        }
    }
}

pub(crate) fn run(args: ModeArgs) -> ExitCode {
    let cfg = args.to_config();
    let mode = detect_mode(&cfg);
    let mut out = std::io::stdout().lock();
    let describe = |db: &Option<DbConfig>| match db {
        Some(db) => format!("{} {}", db.driver, db.redacted_dsn()),
        None => "-".to_string(),
    };
    let _ = writeln!(out, "mode:       {mode}");
    let _ = writeln!(out, "fs root:    {}", cfg.fs_root.display());
    let _ = writeln!(out, "global db:  {}", describe(&cfg.global_db));
    let _ = writeln!(out, "tenant db:  {}", describe(&cfg.default_tenant_db));
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<12} available", "capability");
    for (name, available) in Capabilities::of(mode).table() {
        let _ = writeln!(out, "{:<12} {}", name, if available { "yes" } else { "no" });
    }
    ExitCode::SUCCESS
}
