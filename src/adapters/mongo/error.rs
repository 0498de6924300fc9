//! The one place where `mongodb::error::Error` becomes [`StoreError`].
//!
//! - Duplicate key (server code 11000, whatever the error's shape: write error, command
//!   error, bulk insert) → `Conflict`. The code is matched, not the code name: the test
//!   server leaves the name empty.
//! - Server selection, I/O, a cleared connection pool, DNS and a shut-down client →
//!   `Unavailable` (retryable).
//! - Everything else → `Backend`, with the driver error as its source.

use mongodb::error::{Error, ErrorKind, WriteFailure};

use crate::error::StoreError;

/// Backend name used in errors.
pub(crate) const BACKEND: &str = "mongodb";

/// Server code of a duplicate key.
pub(crate) const DUPLICATE_KEY: i32 = 11000;
/// Server code of a write conflict between transactions.
const WRITE_CONFLICT: i32 = 112;

/// The server codes carried by `e` (and its sources).
fn codes(e: &Error) -> Vec<i32> {
    let mut out = Vec::new();
    let mut current = Some(e);
    while let Some(err) = current {
        match err.kind.as_ref() {
            ErrorKind::Command(c) => out.push(c.code),
            ErrorKind::Write(WriteFailure::WriteError(w)) => out.push(w.code),
            ErrorKind::Write(WriteFailure::WriteConcernError(w)) => out.push(w.code),
            ErrorKind::InsertMany(m) => {
                out.extend(m.write_errors.iter().flatten().map(|w| w.code));
                out.extend(m.write_concern_error.iter().map(|w| w.code));
            }
            _ => {}
        }
        current = std::error::Error::source(err).and_then(|s| s.downcast_ref::<Error>());
    }
    out
}

/// Whether `e` is a duplicate-key error.
pub(crate) fn is_duplicate_key(e: &Error) -> bool {
    codes(e).contains(&DUPLICATE_KEY)
}

/// Whether `e` means the transaction can be run again from the start.
pub(crate) fn is_transient_transaction_error(e: &Error) -> bool {
    e.contains_label(mongodb::error::TRANSIENT_TRANSACTION_ERROR) || codes(e).contains(&WRITE_CONFLICT)
}

/// Whether the server could not be reached.
pub(crate) fn is_unavailable(e: &Error) -> bool {
    matches!(
        e.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. }
            | ErrorKind::Shutdown
    )
}

/// Maps a driver error met while working on `entity` records.
pub(crate) fn map(entity: &'static str, e: Error) -> StoreError {
    if is_duplicate_key(&e) {
        return StoreError::conflict(entity, duplicate_message(&e));
    }
    if is_unavailable(&e) {
        return StoreError::Unavailable {
            backend: BACKEND.to_string(),
            message: e.kind.to_string(),
            source: Some(Box::new(e)),
        };
    }
    let message = e.kind.to_string();
    StoreError::Backend { backend: BACKEND.to_string(), message, source: Some(Box::new(e)) }
}

/// The server's description of the duplicate key (`index: … dup key: …`), without the
/// key's value (it may be a hash or an e-mail).
fn duplicate_message(e: &Error) -> String {
    let text = e.kind.to_string();
    match text.find("index: ") {
        Some(start) => {
            let rest = &text[start + "index: ".len()..];
            let index = rest.split_whitespace().next().unwrap_or("?");
            format!("duplicate key on index {index}")
        }
        None => "duplicate key".to_string(),
    }
}

/// A closure mapping driver errors for `entity`, for `map_err`.
pub(crate) fn on(entity: &'static str) -> impl Fn(Error) -> StoreError {
    move |e| map(entity, e)
}

/// `StoreError::Backend` for a document that does not decode (a corrupt or foreign record).
pub(crate) fn corrupt(entity: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        backend: BACKEND.to_string(),
        message: format!("{entity} document does not decode: {detail}"),
        source: None,
    }
}
