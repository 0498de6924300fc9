//! Helpers shared by the data-plane cases: making users, expressing instants at a UTC
//! offset, and asserting error kinds. Nothing here is a case.

use chrono::{FixedOffset, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use crate::conformance::DataPlane;
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateUserInput, Timestamp};

/// A well-formed argon2id PHC string within every limit (m = 19 MiB, t = 2, p = 1), told
/// apart from others by `tag` (a base64 character). It matches no password.
pub(crate) fn phc(tag: char) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${tag}GFzaGhhc2hoYXNoaGFzaA")
}

/// A well-formed bcrypt hash of cost 10, told apart by `tag` (a bcrypt base64 character).
pub(crate) fn bcrypt_hash(tag: char) -> String {
    format!("$2b$10${tag}{}", "a".repeat(52))
}

/// Creates a user with `email` and returns its id.
pub(crate) async fn new_user(store: &DataPlane, email: &str) -> Uuid {
    let (user, _) = store.users().create(CreateUserInput::new(email)).await.expect("create user");
    user.id
}

/// The instant `t`, built the way a caller in another time zone would: from the wall-clock
/// reading at `offset_secs` east of UTC, then converted to UTC. Panics if the conversion
/// does not land on `t` again.
pub(crate) fn via_offset(t: Timestamp, offset_secs: i32) -> Timestamp {
    let offset = FixedOffset::east_opt(offset_secs).expect("valid offset");
    let wall_clock = t.naive_utc() + TimeDelta::seconds(i64::from(offset_secs));
    let local = offset.from_local_datetime(&wall_clock).single().expect("unambiguous local time");
    let utc = local.with_timezone(&Utc);
    assert_eq!(utc, t, "offset conversion must keep the instant");
    utc
}

/// A time `minutes` from now (negative: in the past), at microsecond precision.
pub(crate) fn minutes_from_now(minutes: i64) -> Timestamp {
    crate::model::now() + TimeDelta::minutes(minutes)
}

/// Panics unless `result` is `NotFound`.
#[track_caller]
pub(crate) fn assert_not_found<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// Panics unless `result` is `Conflict`.
#[track_caller]
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict { .. }) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

/// Panics unless `result` is `InvalidInput`.
#[track_caller]
pub(crate) fn assert_invalid<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::InvalidInput { .. }) => {}
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    }
}

/// Panics unless `result` is `LinkRequired`.
#[track_caller]
pub(crate) fn assert_link_required<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::LinkRequired { .. }) => {}
        other => panic!("{what}: expected LinkRequired, got {other:?}"),
    }
}

/// Panics unless `result` is `TokenExpired`.
#[track_caller]
pub(crate) fn assert_token_expired<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::TokenExpired) => {}
        other => panic!("{what}: expected TokenExpired, got {other:?}"),
    }
}
