//! Timestamps between the domain ([`Timestamp`], UTC) and the columns (`DateTimeWithTimeZone`
//! in the generated entities). Every value written is UTC and truncated to microseconds, the
//! precision every engine keeps; every value read is converted back to UTC.

use chrono::Utc;
use sea_orm::prelude::DateTimeWithTimeZone;

use crate::model::{Timestamp, truncate_micros};

/// The column value for `t`: UTC (offset `+00:00`), whole microseconds.
///
/// On SQLite the value is stored as RFC 3339 text; since every value has the same offset,
/// text order is time order and comparisons in SQL stay correct.
pub(crate) fn to_db(t: Timestamp) -> DateTimeWithTimeZone {
    truncate_micros(t).fixed_offset()
}

/// [`to_db`] for an optional value.
pub(crate) fn to_db_opt(t: Option<Timestamp>) -> Option<DateTimeWithTimeZone> {
    t.map(to_db)
}

/// The domain value of a column value, in UTC.
pub(crate) fn from_db(t: DateTimeWithTimeZone) -> Timestamp {
    t.with_timezone(&Utc)
}

/// [`from_db`] for an optional value.
pub(crate) fn from_db_opt(t: Option<DateTimeWithTimeZone>) -> Option<Timestamp> {
    t.map(from_db)
}

/// Now, as a column value.
pub(crate) fn now_db() -> DateTimeWithTimeZone {
    to_db(crate::model::now())
}
