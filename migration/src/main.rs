use sea_orm_migration::prelude::*;

/// `HJ_MIGRATOR=global` runs the control-plane migrator (global database); anything else,
/// or nothing, the data-plane one (tenant namespaces).
#[tokio::main]
async fn main() {
    match std::env::var("HJ_MIGRATOR").as_deref() {
        Ok("global") => cli::run_cli(migration::GlobalMigrator).await,
        _ => cli::run_cli(migration::Migrator).await,
    }
}
