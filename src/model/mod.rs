//! Domain types shared by every backend: what the repositories take and return.
//!
//! Times are UTC ([`Timestamp`]); backends keep microsecond precision. Ids are UUID v7
//! ([`new_id`]) so they sort by creation time.

mod admin;
mod client;
mod consent;
mod email_token;
mod identity;
mod mfa;
mod rbac;
mod scope;
mod secret;
mod session;
mod tenant;
mod token;
mod user;

pub use admin::*;
pub use client::*;
pub use consent::*;
pub use email_token::*;
pub use identity::*;
pub use mfa::*;
pub use rbac::*;
pub use scope::*;
pub use secret::*;
pub use session::*;
pub use tenant::*;
pub use token::*;
pub use user::*;

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

/// `t` truncated to whole microseconds.
pub fn truncate_micros(t: Timestamp) -> Timestamp {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
