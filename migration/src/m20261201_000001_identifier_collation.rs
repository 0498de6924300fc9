//! MySQL/MariaDB only: every identifier column of the data plane — a value compared for
//! equality or uniqueness — gets a binary NO PAD collation (`utf8mb4_nopad_bin` on MariaDB,
//! `utf8mb4_0900_bin` on MySQL 8; `utf8mb4_bin` where neither exists), so that it compares
//! bytes, trailing spaces included, like PostgreSQL and SQLite.
//!
//! The database default (`utf8mb4_general_ci`) compares case- and accent-insensitively, so
//! `jose@example.com` and `josé@example.com` were one account through `email_normalized`.
//! The library normalises e-mails itself (NFC, lowercase: `crate::model::normalize_email`
//! of hellojohn-store) and every engine must then compare bytes. Most identifier columns
//! were created `utf8mb4_bin` already (`common::cs_string`); this migration converts the
//! ones that were not (`users.email_normalized`, `email_tokens.kind`) and any other of the
//! list a database may have with another collation, on existing databases too. Only the
//! columns whose collation differs are altered (`ALTER TABLE … MODIFY`, type, nullability
//! and indexes kept). Converting to a stricter comparison cannot break a unique index.
//!
//! PostgreSQL and SQLite compare bytes already: a no-op there, and the entities (generated
//! from PostgreSQL) do not change. `down` is a no-op: going back to a case-insensitive
//! collation would merge accounts again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, column)` of every identifier column of the data plane.
pub(crate) const IDENTIFIER_COLUMNS: &[(&str, &str)] = &[
    ("users", "email_normalized"),
    ("users", "source_client_id"),
    ("identities", "provider"),
    ("identities", "provider_user_id"),
    ("refresh_tokens", "client_id"),
    ("refresh_tokens", "token_hash"),
    ("mfa_recovery_codes", "code_hash"),
    ("mfa_trusted_devices", "device_hash"),
    ("consents", "client_id"),
    ("roles", "name"),
    ("roles", "inherits_from"),
    ("sessions", "session_id_hash"),
    ("email_tokens", "kind"),
    ("email_tokens", "token_hash"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::MySql {
            return Ok(());
        }
        let db = manager.get_connection();
        let target = exact_collation(db).await?;
        for (table, column) in IDENTIFIER_COLUMNS {
            let found = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::MySql,
                    "SELECT CAST(COLUMN_TYPE AS CHAR) AS column_type, \
                     CAST(IS_NULLABLE AS CHAR) AS is_nullable, \
                     CAST(COLLATION_NAME AS CHAR) AS collation_name \
                     FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                    [(*table).into(), (*column).into()],
                ))
                .await?
                .ok_or_else(|| DbErr::Migration(format!("column {table}.{column} not found")))?;
            let column_type: String = found.try_get("", "column_type")?;
            let nullable: String = found.try_get("", "is_nullable")?;
            let collation: Option<String> = found.try_get("", "collation_name")?;
            if collation.as_deref() == Some(target.as_str()) {
                continue;
            }
            // `column_type` is what the server reports (`varchar(320)`), never caller input;
            // table and column names come from the list above.
            let null = if nullable == "YES" { "NULL" } else { "NOT NULL" };
            db.execute_unprepared(&format!(
                "ALTER TABLE `{table}` MODIFY `{column}` {column_type} \
                 CHARACTER SET utf8mb4 COLLATE {target} {null}"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // A no-op: see the module doc.
        Ok(())
    }
}

/// The binary collation that also compares trailing spaces: `utf8mb4_bin` is a PAD SPACE
/// collation (`'a' = 'a '`), so an identity `alice ` would sign in as `alice`. MariaDB
/// (10.2+) has `utf8mb4_nopad_bin`, MySQL 8 `utf8mb4_0900_bin`; a server with neither
/// (MySQL 5.7) keeps `utf8mb4_bin`.
async fn exact_collation(db: &SchemaManagerConnection<'_>) -> Result<String, DbErr> {
    for name in ["utf8mb4_nopad_bin", "utf8mb4_0900_bin"] {
        let found = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::MySql,
                "SELECT 1 AS found FROM information_schema.COLLATIONS WHERE COLLATION_NAME = ?",
                [name.into()],
            ))
            .await?;
        if found.is_some() {
            return Ok(name.to_string());
        }
    }
    Ok("utf8mb4_bin".to_string())
}
