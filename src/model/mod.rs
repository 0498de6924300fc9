//! Domain types shared by every backend: what the repositories take and return.
//!
//! Times are UTC ([`Timestamp`]); backends keep microsecond precision. Ids are UUID v7
//! ([`new_id`]) so they sort by creation time.

mod admin;
mod client;
mod consent;
mod email;
mod email_token;
mod identity;
pub(crate) mod limits;
mod mfa;
mod rbac;
pub(crate) mod rules;
mod scope;
mod secret;
mod session;
mod tenant;
mod token;
mod user;

pub use admin::*;
pub use client::*;
pub use consent::*;
pub use email::*;
pub use email_token::*;
pub use identity::*;
pub use limits::{MAX_JSON_BYTES, MAX_OFFSET, MAX_TEXT_BYTES, max_storable_time, min_storable_time};
pub use mfa::*;
pub use rbac::*;
pub(crate) use rules::Violation;
pub use scope::*;
pub use secret::*;
pub use session::*;
pub use tenant::*;
pub use token::*;
pub use user::*;

/// The shape of the URL fields of the control-plane files (`logo_url`, `favicon_url`,
/// `issuer_override`, a client's `reset_password_url`, a provider's `auth_url`, …), given in
/// the schemas beside `format: uri` so tools that do not check formats (check-jsonschema
/// without `rfc3987`) refuse the same values: an absolute `http` or `https` URL with a host
/// name or bracketed IP literal, an optional port, and path, query and fragment of RFC 3986
/// characters (non-ASCII percent-encoded), no userinfo, no whitespace.
pub const URL_PATTERN: &str = concat!(
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?",
    r"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?",
    r"(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?",
    r"(?:#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$",
);

/// The shape of a web origin (a client's `allowed_origins`): `http(s)://host[:port]`, no
/// path, as browsers send it in `Origin`.
pub const ORIGIN_PATTERN: &str =
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$";

/// A JSON-Schema `pattern` compiled once by the validator the store runs on its files, so a
/// check in code and the same `pattern` in a schema cannot disagree.
pub(crate) struct PatternCell(std::sync::OnceLock<Option<jsonschema::Validator>>);

impl PatternCell {
    pub(crate) const fn new() -> Self {
        PatternCell(std::sync::OnceLock::new())
    }
}

/// Whether `value` matches the JSON-Schema `pattern` (compiled into `cell` on first use; a
/// pattern that does not compile matches nothing).
pub(crate) fn matches_pattern(cell: &PatternCell, pattern: &str, value: &str) -> bool {
    let validator = cell.0.get_or_init(|| {
        jsonschema::validator_for(&serde_json::json!({ "type": "string", "pattern": pattern })).ok()
    });
    validator.as_ref().is_some_and(|v| v.is_valid(&serde_json::Value::String(value.to_string())))
}

/// A point in time, always UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// A new time-ordered id (UUID v7).
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// The current time truncated to microseconds, the precision every backend keeps.
pub fn now() -> Timestamp {
    truncate_micros(chrono::Utc::now())
}

/// `InvalidInput` unless `ttl` is positive (the input check of every backend's token and
/// session writes).
pub(crate) fn check_ttl(ttl: chrono::TimeDelta) -> crate::error::StoreResult<()> {
    if ttl <= chrono::TimeDelta::zero() {
        return Err(crate::error::StoreError::invalid("ttl", "must be positive"));
    }
    Ok(())
}

/// Page size of a list when the caller passes 0, on every backend.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page size of a list, on every backend (larger limits are capped).
pub const MAX_PAGE_SIZE: u64 = 200;
/// Rows a `purge_expired` deletes per batch when the caller passes 0, on every backend.
pub const DEFAULT_PURGE_BATCH: u64 = 1000;

/// Effective page size: 0 means [`DEFAULT_PAGE_SIZE`], larger than [`MAX_PAGE_SIZE`] is capped.
pub(crate) fn page_size(limit: u64) -> u64 {
    if limit == 0 { DEFAULT_PAGE_SIZE } else { limit.min(MAX_PAGE_SIZE) }
}

/// Largest rows a `purge_expired` deletes per batch, on every backend (larger are capped:
/// drivers bind a limit as a signed 64-bit integer, and one batch is one transaction).
pub const MAX_PURGE_BATCH: u64 = 10_000;

/// Effective purge batch: 0 means [`DEFAULT_PURGE_BATCH`], larger than [`MAX_PURGE_BATCH`]
/// is capped.
pub(crate) fn purge_batch(batch_size: u64) -> u64 {
    if batch_size == 0 { DEFAULT_PURGE_BATCH } else { batch_size.min(MAX_PURGE_BATCH) }
}

/// `InvalidInput` naming `field` when `value` is blank.
pub(crate) fn check_non_empty(field: &str, value: &str) -> crate::error::StoreResult<()> {
    if value.trim().is_empty() {
        return Err(crate::error::StoreError::invalid(field, "is empty"));
    }
    Ok(())
}

/// `now + ttl`, or `InvalidInput` on `ttl` when it overflows or ends past
/// [`max_storable_time`].
pub(crate) fn expiry(now: Timestamp, ttl: chrono::TimeDelta) -> crate::error::StoreResult<Timestamp> {
    now.checked_add_signed(ttl)
        .filter(|t| *t <= max_storable_time())
        .ok_or_else(|| crate::error::StoreError::invalid("ttl", "is too large"))
}

/// The input checks of `TokenRepository::rotate`, the same on every backend and made before
/// anything is read or written: `InvalidInput` on `new_hash` when it is blank or equal to
/// `old_hash` (rotating a token into itself would revoke it and leave no successor), and on
/// `ttl` when it is not positive or overflows the expiry.
pub(crate) fn check_rotation(
    old_hash: &str,
    new_hash: &str,
    ttl: chrono::TimeDelta,
    reuse_interval: chrono::TimeDelta,
) -> crate::error::StoreResult<()> {
    if reuse_interval < chrono::TimeDelta::zero()
        || reuse_interval > chrono::TimeDelta::seconds(MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS as i64)
    {
        return Err(crate::error::StoreError::invalid(
            "reuse_interval",
            format!("must be between 0 and {MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS} seconds"),
        ));
    }
    check_non_empty("new_hash", new_hash)?;
    limits::check_text("new_hash", new_hash, limits::len::NAME)?;
    if old_hash == new_hash {
        return Err(crate::error::StoreError::invalid("new_hash", "must differ from the old hash"));
    }
    check_ttl(ttl)?;
    expiry(now(), ttl).map(|_| ())
}

/// `t` truncated to whole microseconds.
pub fn truncate_micros(t: Timestamp) -> Timestamp {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
