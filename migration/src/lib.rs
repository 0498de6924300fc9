//! The one migration set of the hellojohn-store data plane, for PostgreSQL, MySQL/MariaDB
//! and SQLite. Files are named `mYYYYMMDD_HHMMSS_<what>.rs`; `entity/` is generated from a
//! PostgreSQL database migrated by this crate.
//!
//! Portability: the schema builder only; ids are `uuid`; lists are JSON; timestamps are
//! `timestamp with time zone` on PostgreSQL and `DATETIME(6)` on MySQL/MariaDB (see
//! `common::ts`); e-mail uniqueness is case-insensitive through a normalised column (NFC, lowercased by the
//! library), and every identifier column compares bytes on every engine (`utf8mb4_bin` on
//! MySQL/MariaDB).

pub use sea_orm_migration::prelude::*;

/// Whether `name` may be used as a schema or database name: 1 to 63 of `[a-z0-9_-]`.
/// Every name interpolated into SQL (by the library's `connect.rs` and by this crate's
/// command line) passes this check first, and is quoted as well.
pub fn is_valid_namespace(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

mod common;
mod m20261127_000001_users;
mod m20261127_000002_identities;
mod m20261127_000003_refresh_tokens;
mod m20261127_000004_mfa;
mod m20261127_000005_consents;
mod m20261127_000006_rbac;
mod m20261127_000007_sessions;
mod m20261127_000008_email_tokens;
mod m20261127_100001_control_plane;
mod m20261201_000001_identifier_collation;

/// Every migration of the data plane, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_users::Migration),
            Box::new(m20261127_000002_identities::Migration),
            Box::new(m20261127_000003_refresh_tokens::Migration),
            Box::new(m20261127_000004_mfa::Migration),
            Box::new(m20261127_000005_consents::Migration),
            Box::new(m20261127_000006_rbac::Migration),
            Box::new(m20261127_000007_sessions::Migration),
            Box::new(m20261127_000008_email_tokens::Migration),
            Box::new(m20261201_000001_identifier_collation::Migration),
        ]
    }
}

/// The control plane in the global database (modes `fs_global_db` and `full_db`): tenants,
/// clients, scopes, admins, admin refresh tokens and the `cp_version` row. A migrator of its
/// own, with its own history table (`seaql_migrations_global`), so that tenant namespaces
/// (migrated by [`Migrator`]) never get control-plane tables.
pub struct GlobalMigrator;

#[async_trait::async_trait]
impl MigratorTrait for GlobalMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261127_100001_control_plane::Migration)]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("seaql_migrations_global").into_iden()
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_namespace;

    #[test]
    fn namespaces_are_validated() {
        assert!(is_valid_namespace("hj_t_0123abc"));
        assert!(is_valid_namespace("acme-corp"));
        assert!(!is_valid_namespace(""));
        assert!(!is_valid_namespace("Acme"));
        assert!(!is_valid_namespace("a\"; drop schema public; --"));
        assert!(!is_valid_namespace("a,b"));
        assert!(!is_valid_namespace(&"a".repeat(64)));
    }
}
