//! The one place where `DbErr` becomes [`StoreError`].
//!
//! - unique violations (`DbErr::sql_err()`) → `Conflict` of the entity being written;
//! - foreign-key violations → `NotFound` of the parent (the user, usually) when the caller
//!   says which parent, else `NotFound` of the entity;
//! - `RecordNotFound` → `NotFound`;
//! - connection and pool failures (`Conn`, `ConnectionAcquire`, I/O, TLS, protocol, pool
//!   timeouts, a closed pool) → `Unavailable` (retryable);
//! - a value the engine cannot hold (PostgreSQL SQLSTATE class 22 — too long, out of range,
//!   invalid byte sequence or NUL, bad datetime —; MySQL 1406 data too long, 1264 out of
//!   range, 1366 incorrect string value, 1292 incorrect datetime; an encode error of the
//!   driver) → `InvalidInput`: the model's limits refuse these values first, this is the
//!   belt to their braces;
//! - everything else → `Backend`, with the `DbErr` as its source.
//!
//! [`is_retryable_db_err`] recognises serialization failures and deadlocks that
//! [`retry`](super::retry) runs again.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr, SqlErr};

use crate::error::StoreError;

/// Which record a failed statement was about, for the error it becomes.
#[derive(Debug, Clone)]
pub(crate) struct ErrCtx {
    /// Driver name (`postgres`, `mysql`, `sqlite`).
    pub backend: &'static str,
    /// Kind of record being read or written (`"user"`, `"refresh_token"`, …).
    pub entity: &'static str,
    /// The parent a foreign-key violation refers to, with its key.
    pub parent: Option<(&'static str, String)>,
}

impl ErrCtx {
    /// A context without a parent.
    pub(crate) fn new(backend: &'static str, entity: &'static str) -> Self {
        ErrCtx { backend, entity, parent: None }
    }

    /// Names the parent a foreign-key violation means is missing.
    pub(crate) fn parent(mut self, entity: &'static str, key: impl ToString) -> Self {
        self.parent = Some((entity, key.to_string()));
        self
    }

    /// Maps `err`.
    pub(crate) fn map(&self, err: DbErr) -> StoreError {
        map_db_err(self, err)
    }
}

/// Maps a `DbErr` to the public error; see the module documentation.
pub(crate) fn map_db_err(ctx: &ErrCtx, err: DbErr) -> StoreError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            return StoreError::Conflict { entity: ctx.entity, message: redact(&message) };
        }
        Some(SqlErr::ForeignKeyConstraintViolation(message)) => {
            return match &ctx.parent {
                Some((entity, key)) => StoreError::NotFound { entity, key: key.clone() },
                None => StoreError::NotFound { entity: ctx.entity, key: redact(&message) },
            };
        }
        _ => {}
    }
    if let Some(message) = value_refused(&err) {
        return StoreError::invalid(ctx.entity, message);
    }
    match &err {
        DbErr::RecordNotFound(key) => StoreError::NotFound { entity: ctx.entity, key: key.clone() },
        // An update by primary key that matched no row: the row went away meanwhile.
        DbErr::RecordNotUpdated => {
            StoreError::NotFound { entity: ctx.entity, key: "(deleted concurrently)".into() }
        }
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => unavailable(ctx.backend, err),
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))
            if is_connection_error(e) =>
        {
            unavailable(ctx.backend, err)
        }
        _ => StoreError::Backend {
            backend: ctx.backend.to_string(),
            message: err.to_string(),
            source: Some(Box::new(err)),
        },
    }
}

fn unavailable(backend: &str, err: DbErr) -> StoreError {
    StoreError::Unavailable {
        backend: backend.to_string(),
        message: err.to_string(),
        source: Some(Box::new(err)),
    }
}

/// Constraint messages can quote the offending value (MySQL: `Duplicate entry '<token
/// hash>' for key '…'`): drop the value, keep the first line, cut it short.
fn redact(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    let line = match (line.strip_prefix("Duplicate entry '"), line.rfind("' for key ")) {
        (Some(_), Some(at)) => format!("Duplicate entry for key {}", &line[at + "' for key ".len()..]),
        _ => line.to_string(),
    };
    line.chars().take(200).collect()
}

fn is_connection_error(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    matches!(
        e,
        Error::Io(_)
            | Error::Tls(_)
            | Error::Protocol(_)
            | Error::PoolTimedOut
            | Error::PoolClosed
            | Error::WorkerCrashed
    )
}

/// Why the engine refused a value of the statement, when that is what `err` says (see the
/// module documentation); the message names no value.
fn value_refused(err: &DbErr) -> Option<&'static str> {
    if let DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) = err
        && matches!(e.deref(), sea_orm::sqlx::Error::Encode(_))
    {
        return Some("value cannot be stored");
    }
    match database_code(err)? {
        DbCode::SqlState(state) if state.starts_with("22") => Some(match state.as_str() {
            "22001" => "value too long",
            "22003" => "value out of range",
            "22007" | "22008" => "time out of range",
            "22021" | "22P05" => "invalid character (NUL or bad byte sequence)",
            _ => "value refused by the database",
        }),
        DbCode::MySql(1406) => Some("value too long"),
        DbCode::MySql(1264) => Some("value out of range"),
        DbCode::MySql(1366) => Some("invalid character"),
        DbCode::MySql(1292) => Some("time out of range"),
        _ => None,
    }
}

/// The database error code of `err`, when it came from the server: SQLSTATE on PostgreSQL,
/// the error number on MySQL, the extended result code on SQLite.
fn database_code(err: &DbErr) -> Option<DbCode> {
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db) = e.deref() else {
        return None;
    };
    #[cfg(feature = "mysql")]
    if let Some(my) = db.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>() {
        return Some(DbCode::MySql(my.number()));
    }
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
        return db.code().and_then(|c| c.parse::<i32>().ok()).map(DbCode::Sqlite);
    }
    db.code().map(|c| DbCode::SqlState(c.into_owned()))
}

enum DbCode {
    SqlState(String),
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    MySql(u16),
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite(i32),
}

/// Whether running the transaction again may succeed: serialization failures and deadlocks
/// (PostgreSQL 40001/40P01; MySQL 1213 deadlock, 1205 lock wait timeout; SQLite
/// `SQLITE_BUSY`/`SQLITE_LOCKED` and their extended codes, e.g. 517 `BUSY_SNAPSHOT`).
pub(crate) fn is_retryable_db_err(err: &DbErr) -> bool {
    match database_code(err) {
        Some(DbCode::SqlState(state)) => state == "40001" || state == "40P01",
        Some(DbCode::MySql(number)) => number == 1213 || number == 1205,
        Some(DbCode::Sqlite(code)) => matches!(code & 0xff, 5 | 6),
        None => false,
    }
}

/// Whether `err` is a [`StoreError`] made from a `DbErr` that [`is_retryable_db_err`].
pub(crate) fn is_retryable(err: &StoreError) -> bool {
    match err {
        StoreError::Backend { source: Some(source), .. }
        | StoreError::Unavailable { source: Some(source), .. } => {
            source.downcast_ref::<DbErr>().is_some_and(is_retryable_db_err)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn duplicate_values_are_not_repeated_in_messages() {
        assert_eq!(
            redact("Duplicate entry 'secret-hash' for key 'uq_refresh_tokens_token_hash'"),
            "Duplicate entry for key 'uq_refresh_tokens_token_hash'"
        );
        assert_eq!(
            redact("UNIQUE constraint failed: refresh_tokens.token_hash"),
            "UNIQUE constraint failed: refresh_tokens.token_hash"
        );
    }
}
