//! MySQL/MariaDB statements with their values written in as literals, sent with the text
//! protocol (`COM_QUERY`) instead of being prepared.
//!
//! Every tenant's statements name its own database, so a server pool serving many tenants
//! sees as many statement texts as tenants × statements. Prepared and cached per connection
//! (sqlx's cache holds 100), round-robin over 1,000 tenants turned every call into a
//! prepare, an execute and a close: 234 calls/s against 16,600 on one tenant, with
//! hand-written sqlx doing no better (BENCHMARKS.md, "Round-robin over 1,000 tenants"). A
//! larger cache runs into the server's `max_prepared_stmt_count` (16,382 by default, for
//! every client together: two pools of ten connections caching ~1,000 texts each saw 44,850
//! of 128,000 calls fail). The text protocol keeps no state on the server, so the number of
//! tenants changes neither the cost of a call nor what the server holds. It costs the
//! server a parse per call: on one tenant, reads take 1.2–1.3× the hand-written prepared
//! statement (+55–70 µs here). A DSN that sets `statement-cache-capacity` chooses prepared statements instead
//! (a database with few tenants, a server whose `max_prepared_stmt_count` is sized for it).
//!
//! Values are written so that no setting of the session can change what they mean: strings,
//! JSON and bytes as hexadecimal literals (`_utf8mb4 X'…'`, `X'…'`), which hold any byte and
//! need no escaping (so `NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES` and the value's own quotes,
//! backslashes and `?` are all inert); numbers in decimal; times as quoted digits. A string
//! literal with an introducer is coercible, as a bound parameter is, so a comparison with a
//! column uses the column's collation (and its index). The placeholders are found by the
//! same lexer that names the namespace ([`placeholders`]), which skips string literals and
//! quoted identifiers whole. A statement longer than [`INLINE_MAX`] is prepared instead, and
//! a DSN whose `charset` is not utf8mb4 is refused (the literals are utf8mb4; the session's
//! character set decides how results come back).

use std::fmt::Write as _;

use sea_orm::DbErr;
use sea_orm::sea_query::{OptionEnum, Value};

use super::qualify::{Dialect, placeholders};

/// The longest statement sent as text (256 KiB). Hexadecimal doubles a value, so a statement
/// past this is sent prepared instead — unnamed, closed after it runs — and needs only the
/// room its values take: the largest rows the store accepts (two 1 MiB JSON documents)
/// would otherwise pass a 4 MiB `max_allowed_packet` (MySQL 5.7's default). Well below the
/// smallest default any MySQL or MariaDB has shipped (1 MiB), so a text statement fits every
/// server whose values fit.
pub(crate) const INLINE_MAX: usize = 256 << 10;

/// `sql` (MySQL dialect, `?` placeholders) with each placeholder replaced by the literal of
/// its value.
///
/// Errors: `DbErr::Custom` when the placeholders and the values do not pair up, for a value
/// with no literal form (a float that is not finite) and for a type the store never binds.
pub(crate) fn inline(sql: &str, values: &[Value]) -> Result<String, DbErr> {
    let at = placeholders(sql, Dialect::MySql).map_err(|e| DbErr::Custom(e.0))?;
    if at.len() != values.len() {
        return Err(DbErr::Custom(format!(
            "statement has {} placeholders for {} values",
            at.len(),
            values.len()
        )));
    }
    let mut out = String::with_capacity(sql.len() + values.len() * 24);
    let mut copied = 0;
    for (&pos, value) in at.iter().zip(values) {
        out.push_str(&sql[copied..pos]);
        literal(&mut out, value)?;
        copied = pos + 1;
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// Writes `bytes` as a hexadecimal literal, after `prefix` (`X` or `_utf8mb4 X`).
fn hex(out: &mut String, prefix: &str, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(prefix.len() + 2 + 2 * bytes.len());
    out.push_str(prefix);
    out.push('\'');
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out.push('\'');
}

fn text(out: &mut String, s: &str) {
    hex(out, "_utf8mb4 X", s.as_bytes());
}

/// Writes a value whose text is only digits, signs, `e`, `.`, `:` and spaces.
fn plain(out: &mut String, v: impl std::fmt::Display) {
    let _ = write!(out, "{v}");
}

/// Writes a date, time or date-time as a quoted literal (its text holds no quote).
fn quoted(out: &mut String, v: impl std::fmt::Display) {
    let _ = write!(out, "'{v}'");
}

/// The literal of one value (what sqlx would bind for it, as SeaORM's binding does).
fn literal(out: &mut String, value: &Value) -> Result<(), DbErr> {
    macro_rules! or_null {
        ($v:expr, |$x:ident| $body:expr) => {
            match $v {
                Some($x) => $body,
                None => out.push_str("NULL"),
            }
        };
    }
    match value {
        Value::Bool(v) => or_null!(v, |b| out.push(if *b { '1' } else { '0' })),
        Value::TinyInt(v) => or_null!(v, |x| plain(out, x)),
        Value::SmallInt(v) => or_null!(v, |x| plain(out, x)),
        Value::Int(v) => or_null!(v, |x| plain(out, x)),
        Value::BigInt(v) => or_null!(v, |x| plain(out, x)),
        Value::TinyUnsigned(v) => or_null!(v, |x| plain(out, x)),
        Value::SmallUnsigned(v) => or_null!(v, |x| plain(out, x)),
        Value::Unsigned(v) => or_null!(v, |x| plain(out, x)),
        Value::BigUnsigned(v) => or_null!(v, |x| plain(out, x)),
        Value::Float(v) => or_null!(v, |x| float(out, f64::from(*x))?),
        Value::Double(v) => or_null!(v, |x| float(out, *x)?),
        Value::String(v) => or_null!(v, |s| text(out, s)),
        Value::Char(v) => or_null!(v, |c| text(out, c.encode_utf8(&mut [0; 4]))),
        Value::Enum(v) => match v {
            OptionEnum::Some(e) => text(out, &e.value),
            OptionEnum::None(_) => out.push_str("NULL"),
        },
        Value::Bytes(v) => or_null!(v, |b| hex(out, "X", b)),
        Value::Json(v) => or_null!(v, |j| text(out, &j.to_string())),
        Value::ChronoDate(v) => or_null!(v, |d| quoted(out, d.format("%Y-%m-%d"))),
        Value::ChronoTime(v) => or_null!(v, |t| quoted(out, t.format("%H:%M:%S%.6f"))),
        Value::ChronoDateTime(v) => or_null!(v, |t| quoted(out, t.format(DATE_TIME))),
        Value::ChronoDateTimeUtc(v) => or_null!(v, |t| quoted(out, t.naive_utc().format(DATE_TIME))),
        Value::ChronoDateTimeLocal(v) => or_null!(v, |t| quoted(out, t.naive_utc().format(DATE_TIME))),
        Value::ChronoDateTimeWithTimeZone(v) => {
            or_null!(v, |t| quoted(out, t.naive_utc().format(DATE_TIME)))
        }
        Value::Uuid(v) => or_null!(v, |u| hex(out, "X", u.as_bytes())),
        #[allow(unreachable_patterns)]
        other => {
            return Err(DbErr::Custom(format!("a value the store never binds on MySQL: {other:?}")));
        }
    }
    Ok(())
}

/// A date-time as MySQL reads it (UTC; the session's time zone is UTC, as sqlx sets it).
const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S%.6f";

/// A finite float in exponent form (a `DOUBLE` literal, not a `DECIMAL`).
fn float(out: &mut String, x: f64) -> Result<(), DbErr> {
    if !x.is_finite() {
        return Err(DbErr::Custom(format!("{x} has no SQL literal")));
    }
    let _ = write!(out, "{x:e}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn values_become_literals_that_no_quote_or_setting_can_reopen() {
        let sql = "SELECT `a` FROM `t` WHERE `a` = ? AND `b` = '?' AND `c?` = ? AND `d` IN (?, ?, ?, ?)";
        let values = [
            Value::String(Some("x' OR 1=1 -- \\'\"`?".into())),
            Value::Uuid(Some(uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef))),
            Value::ChronoDateTimeUtc(Some(Utc.with_ymd_and_hms(2026, 12, 7, 23, 5, 1).unwrap())),
            Value::BigInt(Some(-42)),
            Value::Bool(Some(true)),
            Value::String(None),
        ];
        let out = inline(sql, &values).unwrap();
        assert_eq!(
            out,
            "SELECT `a` FROM `t` WHERE `a` = _utf8mb4 X'7827204F5220313D31202D2D205C2722603F' AND `b` = '?' AND `c?` = X'0123456789ABCDEF0123456789ABCDEF' AND `d` IN ('2026-12-07 23:05:01.000000', -42, 1, NULL)"
        );
        assert!(inline("SELECT ?", &[]).is_err(), "a placeholder without a value");
        assert!(inline("SELECT 1", &[Value::Int(Some(1))]).is_err(), "a value without a placeholder");
        assert!(inline("SELECT ? -- x", &[Value::Int(Some(1))]).is_err(), "a comment");
        assert!(inline("SELECT ?", &[Value::Double(Some(f64::NAN))]).is_err(), "NaN");
        assert_eq!(inline("SELECT ?", &[Value::Double(Some(1.5))]).unwrap(), "SELECT 1.5e0");
        assert_eq!(inline("SELECT ?", &[Value::String(Some(String::new()))]).unwrap(), "SELECT _utf8mb4 X''");
    }
}
