use clap::Args;

use crate::manager::ManagerConfig;
use crate::mode::{DbConfig, ModeConfig};

/// Where the store is: FS root and databases. Each flag falls back to its environment
/// variable, as a service reads them.
#[derive(Debug, Clone, Args)]
pub(crate) struct StoreArgs {
    /// Root of the control-plane YAML tree.
    #[arg(
        id = "store_fs_root",
        long = "fs-root",
        value_name = "FS_ROOT",
        env = "HJ_FS_ROOT",
        default_value = "./data",
        global = true
    )]
    pub fs_root: String,
    /// Driver of the global database.
    #[arg(long, env = "HJ_GLOBAL_DB_DRIVER", default_value = "", global = true)]
    pub global_db_driver: String,
    /// DSN of the global database.
    #[arg(long, env = "HJ_GLOBAL_DB_DSN", default_value = "", hide_env_values = true, global = true)]
    pub global_db_dsn: String,
    /// Driver of the default tenant database.
    #[arg(long, env = "HJ_TENANT_DB_DRIVER", default_value = "", global = true)]
    pub tenant_db_driver: String,
    /// DSN template (with `{tenant}`) of the default tenant database.
    #[arg(long, env = "HJ_TENANT_DB_DSN", default_value = "", hide_env_values = true, global = true)]
    pub tenant_db_dsn: String,
    /// PostgreSQL schema template (with `{tenant}`) of the default tenant database.
    #[arg(long, env = "HJ_TENANT_DB_SCHEMA", default_value = "", global = true)]
    pub tenant_db_schema: String,
}

impl StoreArgs {
    pub(crate) fn mode_config(&self) -> ModeConfig {
        let db = |driver: &str, dsn: &str| {
            let cfg = DbConfig::new(driver.trim(), dsn.trim());
            cfg.is_valid().then_some(cfg)
        };
        let schema = self.tenant_db_schema.trim();
        ModeConfig {
            fs_root: self.fs_root.clone().into(),
            global_db: db(&self.global_db_driver, &self.global_db_dsn),
            default_tenant_db: db(&self.tenant_db_driver, &self.tenant_db_dsn)
                .map(|d| if schema.is_empty() { d } else { d.with_schema(schema) }),
        }
    }

    pub(crate) fn manager_config(&self) -> crate::error::StoreResult<ManagerConfig> {
        let mode = self.mode_config();
        let mut cfg = ManagerConfig::from_fs_root(mode.fs_root);
        cfg.global_db = mode.global_db;
        cfg.default_tenant_db = mode.default_tenant_db;
        cfg.secrets = crate::crypto::SecretBox::from_env_optional()?;
        Ok(cfg)
    }
}
