//! Limits on the values a caller passes to a data-plane call, checked in the model before any
//! I/O so that every backend refuses the same values with the same error.
//!
//! - Offsets and pages: an offset past [`MAX_OFFSET`] (or a page whose offset overflows) is
//!   past every row; a list returns an empty page without reading rows.
//! - Times: every backend stores instants between [`min_storable_time`] and
//!   [`max_storable_time`] (MySQL/MariaDB `DATETIME` holds years 1000 to 9999). A time that
//!   is only compared (the `now` of `purge_expired`) is clamped into that range; a time that
//!   is stored (`disable(until)`, a session's expiry, a trusted device's expiry, an expiry
//!   computed from a ttl) is refused with `InvalidInput` outside it.
//! - Strings: at most as many characters as their column holds (the `VARCHAR(n)` of the
//!   migrations; `TEXT` columns hold [`MAX_TEXT_BYTES`] bytes on MySQL) and no NUL character
//!   (PostgreSQL refuses NUL in `text` and in `jsonb` strings), also inside JSON values.

use crate::error::{StoreError, StoreResult};
use crate::model::Timestamp;

/// Largest row offset a list sends to its backend; larger offsets are past every row.
pub const MAX_OFFSET: u64 = 1 << 53;

/// Bytes a `TEXT` column holds on MySQL/MariaDB (user agents, pictures, reasons, secrets).
pub const MAX_TEXT_BYTES: usize = 65_535;

/// Bytes of a JSON value (metadata, custom fields, claims, scope and permission sets) once
/// serialized.
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// 1000-01-01T00:00:00Z in microseconds since the Unix epoch.
const MIN_STORABLE_MICROS: i64 = -30_610_224_000_000_000;
/// 9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch.
const MAX_STORABLE_MICROS: i64 = 253_402_300_799_999_999;

/// The earliest instant every backend stores: 1000-01-01T00:00:00Z.
pub fn min_storable_time() -> Timestamp {
    Timestamp::from_timestamp_micros(MIN_STORABLE_MICROS).unwrap_or(Timestamp::MIN_UTC)
}

/// The latest instant every backend stores: 9999-12-31T23:59:59.999999Z.
pub fn max_storable_time() -> Timestamp {
    Timestamp::from_timestamp_micros(MAX_STORABLE_MICROS).unwrap_or(Timestamp::MAX_UTC)
}

/// `t` moved into the storable range (for times that are only compared, never stored).
pub(crate) fn clamp_time(t: Timestamp) -> Timestamp {
    t.clamp(min_storable_time(), max_storable_time())
}

/// `InvalidInput` naming `field` when `t` is outside the storable range.
pub(crate) fn check_time(field: &str, t: Timestamp) -> StoreResult<()> {
    if t < min_storable_time() || t > max_storable_time() {
        return Err(StoreError::invalid(field, "must be between the years 1000 and 9999"));
    }
    Ok(())
}

/// [`check_time`] for an optional time.
pub(crate) fn check_time_opt(field: &str, t: Option<Timestamp>) -> StoreResult<()> {
    t.map_or(Ok(()), |t| check_time(field, t))
}

/// Length limits of the strings a caller passes, matching the migrations' columns.
pub(crate) mod len {
    /// E-mail columns (and the longest search term).
    pub const EMAIL: usize = 320;
    /// `VARCHAR(255)`: names, client ids, hashes, provider user ids, role names, actors.
    pub const NAME: usize = 255;
    /// Locale and language tags.
    pub const LOCALE: usize = 35;
    /// Identity provider names.
    pub const PROVIDER: usize = 64;
    /// IP addresses.
    pub const IP: usize = 64;
    /// Device types and e-mail token kinds.
    pub const SHORT: usize = 32;
    /// Browser, OS, country and city names.
    pub const PLACE: usize = 128;
    /// Country codes.
    pub const COUNTRY_CODE: usize = 8;
}

/// `InvalidInput` naming `field` when `value` holds a NUL or more than `max_chars` characters
/// (more than [`MAX_TEXT_BYTES`] bytes when `max_chars` is `usize::MAX`: a `TEXT` column).
pub(crate) fn check_text(field: &str, value: &str, max_chars: usize) -> StoreResult<()> {
    if value.contains('\0') {
        return Err(StoreError::invalid(field, "contains a NUL character"));
    }
    if max_chars == usize::MAX {
        if value.len() > MAX_TEXT_BYTES {
            return Err(StoreError::invalid(field, format!("is longer than {MAX_TEXT_BYTES} bytes")));
        }
    } else if value.len() > max_chars && value.chars().count() > max_chars {
        return Err(StoreError::invalid(field, format!("is longer than {max_chars} characters")));
    }
    Ok(())
}

/// The longest name, display name or short list item of a control-plane record (tenant,
/// client, scope), in characters.
pub(crate) const CONTROL_NAME: usize = 1024;

/// The longest description or URL of a control-plane record, in characters.
pub(crate) const CONTROL_DESCRIPTION: usize = 8192;

/// A `TEXT` column's limit for [`check_text`].
pub(crate) const TEXT: usize = usize::MAX;

/// [`check_text`] for an optional value.
pub(crate) fn check_text_opt(field: &str, value: Option<&str>, max_chars: usize) -> StoreResult<()> {
    value.map_or(Ok(()), |v| check_text(field, v, max_chars))
}

/// [`check_text`] for each of `values`.
pub(crate) fn check_texts<'a>(
    field: &str,
    values: impl IntoIterator<Item = &'a String>,
    max_chars: usize,
) -> StoreResult<()> {
    values.into_iter().try_for_each(|v| check_text(field, v, max_chars))
}

/// `InvalidInput` naming `field` when a key or string of `value` holds a NUL, or when it
/// serializes to more than [`MAX_JSON_BYTES`] bytes.
pub(crate) fn check_json(field: &str, value: &serde_json::Value) -> StoreResult<()> {
    fn has_nul(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(has_nul),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    if has_nul(value) {
        return Err(StoreError::invalid(field, "contains a NUL character"));
    }
    let size = serde_json::to_vec(value).map(|b| b.len()).unwrap_or(usize::MAX);
    if size > MAX_JSON_BYTES {
        return Err(StoreError::invalid(field, format!("is larger than {MAX_JSON_BYTES} bytes")));
    }
    Ok(())
}

/// [`check_json`] for an optional value.
pub(crate) fn check_json_opt(field: &str, value: Option<&serde_json::Value>) -> StoreResult<()> {
    value.map_or(Ok(()), |v| check_json(field, v))
}

/// The offset a list sends to its backend, or `None` when `offset` is past [`MAX_OFFSET`]
/// (the page is empty; nothing needs reading).
pub(crate) fn list_offset(offset: u64) -> Option<u64> {
    (offset <= MAX_OFFSET).then_some(offset)
}

/// `(limit, offset)` of a 1-based `page` (0 is 1) of `page_size` rows (0: the default,
/// capped), or `None` when the page starts past [`MAX_OFFSET`] or its offset overflows.
pub(crate) fn page_window(page: u64, page_size: u64) -> Option<(u64, u64)> {
    let size = super::page_size(page_size);
    let offset = page.max(1).checked_sub(1)?.checked_mul(size)?;
    list_offset(offset).map(|offset| (size, offset))
}

use crate::model::{
    CreateRefreshTokenInput, CreateSessionInput, CreateUserInput, RoleInput, SocialIdentityInput,
    UpdateUserInput,
};

/// The limits of a new user's fields (the e-mail and password hash have their own checks).
pub(crate) fn check_create_user(input: &CreateUserInput) -> StoreResult<()> {
    check_text_opt("name", input.name.as_deref(), len::NAME)?;
    check_text_opt("given_name", input.given_name.as_deref(), len::NAME)?;
    check_text_opt("family_name", input.family_name.as_deref(), len::NAME)?;
    check_text_opt("picture", input.picture.as_deref(), TEXT)?;
    check_text_opt("locale", input.locale.as_deref(), len::LOCALE)?;
    check_text_opt("language", input.language.as_deref(), len::LOCALE)?;
    check_json("metadata", &input.metadata)?;
    check_json("custom_fields", &input.custom_fields)?;
    check_text_opt("source_client_id", input.source_client_id.as_deref(), len::NAME)
}

/// The limits of a user update's fields.
pub(crate) fn check_update_user(input: &UpdateUserInput) -> StoreResult<()> {
    let set = |v: &Option<Option<String>>| v.as_ref().and_then(|v| v.as_deref()).map(str::to_owned);
    check_text_opt("name", set(&input.name).as_deref(), len::NAME)?;
    check_text_opt("given_name", set(&input.given_name).as_deref(), len::NAME)?;
    check_text_opt("family_name", set(&input.family_name).as_deref(), len::NAME)?;
    check_text_opt("picture", set(&input.picture).as_deref(), TEXT)?;
    check_text_opt("locale", set(&input.locale).as_deref(), len::LOCALE)?;
    check_text_opt("language", set(&input.language).as_deref(), len::LOCALE)?;
    check_json_opt("metadata", input.metadata.as_ref())?;
    check_json_opt("custom_fields", input.custom_fields.as_ref())
}

/// The limits of a social identity's fields (the e-mail has its own check).
pub(crate) fn check_social_identity(input: &SocialIdentityInput) -> StoreResult<()> {
    check_text("provider", &input.provider, len::PROVIDER)?;
    check_text("provider_user_id", &input.provider_user_id, len::NAME)?;
    check_text_opt("name", input.name.as_deref(), len::NAME)?;
    check_text_opt("picture", input.picture.as_deref(), TEXT)?;
    check_json("raw_claims", &input.raw_claims)
}

/// The limits of a new refresh token's fields.
pub(crate) fn check_refresh_token(input: &CreateRefreshTokenInput) -> StoreResult<()> {
    check_text("client_id", &input.client_id, len::NAME)?;
    check_text("token_hash", &input.token_hash, len::NAME)
}

/// The limits of a role's fields.
pub(crate) fn check_role(input: &RoleInput) -> StoreResult<()> {
    check_text("name", &input.name, len::NAME)?;
    check_text_opt("description", input.description.as_deref(), TEXT)?;
    check_texts("permissions", &input.permissions, len::NAME)?;
    check_text_opt("inherits_from", input.inherits_from.as_deref(), len::NAME)
}

/// The limits of a new session's fields, its expiry included.
pub(crate) fn check_session(input: &CreateSessionInput) -> StoreResult<()> {
    check_text("session_id_hash", &input.session_id_hash, len::NAME)?;
    check_time("expires_at", input.expires_at)?;
    check_text_opt("ip_address", input.ip_address.as_deref(), len::IP)?;
    check_text_opt("user_agent", input.user_agent.as_deref(), TEXT)?;
    check_text_opt("device_type", input.device_type.as_deref(), len::SHORT)?;
    check_text_opt("browser", input.browser.as_deref(), len::PLACE)?;
    check_text_opt("os", input.os.as_deref(), len::PLACE)?;
    check_text_opt("country_code", input.country_code.as_deref(), len::COUNTRY_CODE)?;
    check_text_opt("country", input.country.as_deref(), len::PLACE)?;
    check_text_opt("city", input.city.as_deref(), len::PLACE)
}

/// The limits of who acted and why (`disable`, `enable`, session revocations).
pub(crate) fn check_actor(by: &str, reason: Option<&str>) -> StoreResult<()> {
    check_text("by", by, len::NAME)?;
    check_text_opt("reason", reason, TEXT)
}

/// `InvalidInput` on `search` when a list's search term holds a NUL or is longer than any
/// column it matches (320 characters): engines cap pattern sizes (SQLite's `LIKE`, MongoDB's
/// regular expressions) and would fail otherwise.
pub(crate) fn check_search(search: Option<&str>) -> StoreResult<()> {
    check_text_opt("search", search, len::EMAIL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storable_range_is_mysql_datetime_range() {
        assert_eq!(min_storable_time().to_rfc3339(), "1000-01-01T00:00:00+00:00");
        assert_eq!(max_storable_time().to_rfc3339(), "9999-12-31T23:59:59.999999+00:00");
        assert_eq!(clamp_time(Timestamp::MAX_UTC), max_storable_time());
        assert_eq!(clamp_time(Timestamp::MIN_UTC), min_storable_time());
        assert!(check_time("t", Timestamp::MAX_UTC).is_err());
        assert!(check_time("t", crate::model::now()).is_ok());
    }

    #[test]
    fn pages_past_every_row_have_no_window() {
        assert_eq!(page_window(0, 0), Some((50, 0)));
        assert_eq!(page_window(3, 10), Some((10, 20)));
        for page in [u64::MAX, u64::MAX / 2, i64::MAX as u64 + 1] {
            assert_eq!(page_window(page, 200), None);
            assert_eq!(list_offset(page), None);
        }
        assert_eq!(list_offset(MAX_OFFSET), Some(MAX_OFFSET));
    }

    #[test]
    fn text_limits_count_characters_and_refuse_nul() {
        assert!(check_text("f", &"é".repeat(255), 255).is_ok());
        assert!(check_text("f", &"é".repeat(256), 255).is_err());
        assert!(check_text("f", "a\0b", 255).is_err());
        assert!(check_text("f", &"a".repeat(MAX_TEXT_BYTES), TEXT).is_ok());
        assert!(check_text("f", &"a".repeat(MAX_TEXT_BYTES + 1), TEXT).is_err());
        assert!(check_json("m", &serde_json::json!({"k\0": 1})).is_err());
        assert!(check_json("m", &serde_json::json!({"k": ["a\0"]})).is_err());
        assert!(check_json("m", &serde_json::json!({"k": ["a"]})).is_ok());
    }
}
