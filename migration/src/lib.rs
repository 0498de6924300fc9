//! The one migration set of the hellojohn-store data plane, for PostgreSQL, MySQL/MariaDB
//! and SQLite. Files are named `mYYYYMMDD_HHMMSS_<what>.rs`; `entity/` is generated from a
//! PostgreSQL database migrated by this crate.

pub use sea_orm_migration::prelude::*;

/// Every migration of the data plane, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![]
    }
}
