//! The migration command line: what `sea-orm-cli migrate <cmd> -d migration` runs, and
//! `cargo run -p migration -- <cmd>`. The arguments are sea-orm-migration's own (`-u` /
//! `DATABASE_URL`, `-s` / `DATABASE_SCHEMA`, `up`, `down`, `status`, …).
//!
//! `HJ_MIGRATOR=global` runs the control-plane migrator (global database); anything else,
//! or nothing, the data-plane one (tenant namespaces).
//!
//! One addition to sea-orm-migration's command line: on PostgreSQL, the schema named by
//! `-s` is created when it does not exist (sea-orm-migration only sets `search_path`, so
//! migrating a new tenant's schema failed). The name must pass
//! [`migration::is_valid_namespace`] (1 to 63 of `a-z`, `0-9`, `_`, `-`), checked before
//! anything is sent to the server: sea-orm writes it into `SET search_path` unescaped.

use clap::CommandFactory;
use sea_orm_migration::cli::{self, Cli};
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DbConn, DbErr, Statement,
};

#[tokio::main]
async fn main() {
    match std::env::var("HJ_MIGRATOR").as_deref() {
        Ok("global") => cli::run_cli_with_connection(migration::GlobalMigrator, connect).await,
        _ => cli::run_cli_with_connection(migration::Migrator, connect).await,
    }
}

/// Connects as `cli::run_cli` does, then, on PostgreSQL, creates the `-s` schema if it is
/// missing. Exits with a message (instead of sea-orm-migration's panic) when it cannot.
async fn connect(options: ConnectOptions) -> Result<DbConn, DbErr> {
    let schema = match requested_schema() {
        Ok(schema) => schema,
        Err(message) => fail(&message),
    };
    let db = match Database::connect(options).await {
        Ok(db) => db,
        Err(e) => fail(&format!("cannot connect to the database: {e}")),
    };
    if let Some(schema) = schema
        && db.get_database_backend() == DatabaseBackend::Postgres
        && let Err(e) = create_schema(&db, &schema).await
    {
        fail(&format!("cannot create schema {schema:?}: {e}"));
    }
    Ok(db)
}

/// The schema given with `-s` / `--database-schema` / `DATABASE_SCHEMA`, validated.
///
/// Read with sea-orm-migration's own argument definition ([`Cli`]), so every form it
/// accepts is understood alike; called from the connect callback, i.e. after it has loaded
/// `.env` and parsed the same arguments successfully.
fn requested_schema() -> Result<Option<String>, String> {
    let matches = Cli::command().try_get_matches().map_err(|e| format!("cannot read the arguments: {e}"))?;
    let schema = matches
        .try_get_one::<String>("database_schema")
        .map_err(|e| format!("cannot read the schema argument: {e}"))?;
    match schema {
        None => Ok(None),
        Some(name) if migration::is_valid_namespace(name) => Ok(Some(name.clone())),
        Some(name) => Err(format!("{name:?} is not a valid schema name (1 to 63 of a-z, 0-9, _ and -)")),
    }
}

/// `CREATE SCHEMA "<schema>"` unless it exists. Checked first, rather than `CREATE SCHEMA IF
/// NOT EXISTS` alone, so that a role allowed to use an existing schema but not to create
/// schemas can still migrate it.
async fn create_schema(db: &DbConn, schema: &str) -> Result<(), DbErr> {
    let exists = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT 1 FROM pg_namespace WHERE nspname = $1",
            [schema.into()],
        ))
        .await?
        .is_some();
    if !exists {
        // `schema` passed is_valid_namespace: no quote can close the identifier.
        db.execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).await?;
        println!("Created schema \"{schema}\"");
    }
    Ok(())
}

fn fail(message: &str) -> ! {
    eprintln!("migration: {message}");
    std::process::exit(1)
}
