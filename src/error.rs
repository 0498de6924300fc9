//! The one public error type of the store.
//!
//! Every backend maps its driver errors (`DbErr`, MongoDB, I/O, YAML, …) into
//! [`StoreError`] inside its own adapter; no driver error type is part of the public API.

use std::fmt;

/// A boxed error used as the `source` of [`StoreError::Backend`] and [`StoreError::Unavailable`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used by every repository method.
pub type StoreResult<T> = Result<T, StoreError>;

/// One problem found in a control-plane file: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Path of the file, as given to the reader.
    pub file: String,
    /// 1-based line of the offending value (0 when unknown).
    pub line: usize,
    /// 1-based column of the offending value (0 when unknown).
    pub column: usize,
    /// JSON pointer of the offending value inside the document (`""` for the root).
    pub pointer: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    /// Control characters and bidirectional overrides in the file name, pointer or message
    /// (a hostile file or folder name, a key) are written as `\u{..}`, so printing a problem
    /// never drives the terminal or forges a line of a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            printable(&self.file),
            self.line,
            self.column,
            printable(pointer),
            printable(&self.message)
        )
    }
}

/// `text` with control characters (C0, DEL, C1), line and paragraph separators,
/// bidirectional and invisible formatting characters (zero-width, soft hyphen, byte-order
/// mark, tags) written as `\u{..}`: safe to print on a terminal or in a line-based log. A
/// backslash is left as it is, so a text holding `\u{1b}` literally reads as an escape.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let hostile = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{00ad}'
                    | '\u{061c}'
                    | '\u{200b}'..='\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{feff}'
                    | '\u{e0000}'..='\u{e007f}'
            )
    };
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Every error a store call can return.
///
/// Variants carry meaning, not driver codes: a unique violation is [`StoreError::Conflict`] on
/// every backend, a lost connection is [`StoreError::Unavailable`] on every backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist (in this tenant).
    #[error("{entity} not found: {key}")]
    NotFound {
        /// Kind of record (`"user"`, `"refresh_token"`, …).
        entity: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// The write would break a uniqueness rule (duplicate e-mail, token hash, slug, …).
    #[error("{entity} conflict: {message}")]
    Conflict {
        /// Kind of record.
        entity: &'static str,
        /// What collided.
        message: String,
    },
    /// The caller passed a value the store refuses (bad e-mail, slug, redirect URI, …).
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// Name of the offending field or argument.
        field: String,
        /// Why it was refused.
        message: String,
    },
    /// No tenant with that slug or id exists in the control plane.
    #[error("tenant not found: {tenant}")]
    TenantNotFound {
        /// The slug or id that was asked for.
        tenant: String,
    },
    /// The tenant has no data plane (no database configured for it).
    #[error("tenant {tenant} has no database")]
    NoDatabase {
        /// Slug of the tenant.
        tenant: String,
    },
    /// The backend cannot do this operation.
    #[error("{operation} is not supported by {backend}")]
    NotSupported {
        /// The operation that was asked for.
        operation: String,
        /// The backend that refused it.
        backend: String,
    },
    /// The token (refresh or e-mail) has expired.
    #[error("token expired")]
    TokenExpired,
    /// A refresh token that was already rotated or revoked was presented again; its whole
    /// family has been revoked.
    #[error("refresh token reused; its family has been revoked")]
    TokenReused,
    /// A social login (`IdentityRepository::upsert`) of a new identity whose e-mail belongs
    /// to an existing account, where the provider or the account (or both) has not verified
    /// that e-mail. Linking automatically would let whoever controls the unverified side take
    /// over the other account, so nothing was created or linked. The user must sign in to
    /// the existing account and link the identity explicitly (`IdentityRepository::link`).
    #[error(
        "an account with e-mail {email} exists; sign in to it and link the {provider} identity explicitly"
    )]
    LinkRequired {
        /// Provider of the identity that was not linked.
        provider: String,
        /// The e-mail the provider reported (as given).
        email: String,
    },
    /// Removing this identity would leave the user with no way to log in.
    #[error("cannot remove the last identity of a user")]
    LastIdentity,
    /// The backend cannot be reached right now (connection refused, pool timeout, server
    /// gone). Retryable.
    #[error("{backend} unavailable: {message}")]
    Unavailable {
        /// Backend name (`"postgres"`, `"fs"`, …).
        backend: String,
        /// What happened.
        message: String,
        /// The driver error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// One or more control-plane files are invalid. Every problem found is listed.
    #[error("invalid configuration: {}", format_problems(.problems))]
    InvalidConfig {
        /// Each problem, with file, line, column and JSON pointer.
        problems: Vec<ConfigProblem>,
    },
    /// Encryption or decryption of a secret failed (missing or wrong key, tampered data).
    #[error("crypto error: {message}")]
    Crypto {
        /// What failed.
        message: String,
    },
    /// Any other backend failure, with its source.
    #[error("{backend} error: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// Summary of the failure.
        message: String,
        /// The driver error.
        #[source]
        source: Option<BoxError>,
    },
}

/// A driver error whose text showed a secret, kept as its scrubbed text.
#[derive(Debug)]
struct ScrubbedError(String);

impl fmt::Display for ScrubbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScrubbedError {}

fn format_problems(problems: &[ConfigProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl StoreError {
    /// Whether retrying the same call later may succeed (the backend was unavailable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// Shorthand for [`StoreError::NotFound`].
    pub fn not_found(entity: &'static str, key: impl fmt::Display) -> Self {
        StoreError::NotFound { entity, key: key.to_string() }
    }

    /// Shorthand for [`StoreError::Conflict`].
    pub fn conflict(entity: &'static str, message: impl Into<String>) -> Self {
        StoreError::Conflict { entity, message: message.into() }
    }

    /// Shorthand for [`StoreError::InvalidInput`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::InvalidInput { field: field.into(), message: message.into() }
    }

    /// Shorthand for [`StoreError::Unavailable`] without a source.
    pub fn unavailable(backend: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Unavailable { backend: backend.into(), message: message.into(), source: None }
    }

    /// Shorthand for [`StoreError::Backend`] with a source.
    pub fn backend<E>(backend: impl Into<String>, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        StoreError::Backend {
            backend: backend.into(),
            message: source.to_string(),
            source: Some(Box::new(source)),
        }
    }

    /// Whether this is a [`StoreError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// This error with the secrets of `dsn` removed (see [`crate::mode::scrub_dsn`]) from
    /// its messages and its source: a source whose `Display` or `Debug` (at any depth of its
    /// chain) shows a secret is replaced by its scrubbed text. Every connect path calls it,
    /// since drivers quote a DSN they cannot parse whole.
    pub(crate) fn scrub_dsn(self, dsn: &str) -> StoreError {
        let scrub = |m: String| crate::mode::scrub_dsn(&m, dsn);
        let scrub_source = |source: Option<BoxError>| {
            source.map(|s| {
                let mut text = s.to_string();
                let mut next = s.source();
                while let Some(inner) = next {
                    text.push_str(": ");
                    text.push_str(&inner.to_string());
                    next = inner.source();
                }
                let debug = format!("{s:?}");
                let clean = scrub(text.clone());
                if clean == text && scrub(debug.clone()) == debug {
                    s
                } else {
                    Box::new(ScrubbedError(clean)) as BoxError
                }
            })
        };
        match self {
            StoreError::Unavailable { backend, message, source } => {
                StoreError::Unavailable { backend, message: scrub(message), source: scrub_source(source) }
            }
            StoreError::Backend { backend, message, source } => {
                StoreError::Backend { backend, message: scrub(message), source: scrub_source(source) }
            }
            StoreError::InvalidInput { field, message } => {
                StoreError::InvalidInput { field, message: scrub(message) }
            }
            StoreError::NotFound { entity, key } => StoreError::NotFound { entity, key: scrub(key) },
            StoreError::Conflict { entity, message } => {
                StoreError::Conflict { entity, message: scrub(message) }
            }
            StoreError::NotSupported { operation, backend } => {
                StoreError::NotSupported { operation: scrub(operation), backend }
            }
            other => other,
        }
    }

    /// Whether this is a [`StoreError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
}
