//! Cases of [`MfaRepository`](crate::repository::MfaRepository): TOTP enrolment, recovery
//! codes (single use, also under concurrency) and trusted devices (expiry and purge).

use chrono::TimeDelta;
use uuid::Uuid;

use super::support::{assert_invalid, assert_not_found, minutes_from_now, new_user, via_offset};
use crate::conformance::DataPlane;

fn hashes(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

/// A new TOTP enrolment is returned unconfirmed and unused, with its secret, and belongs
/// to its user only.
pub async fn mfa_totp_upsert_then_get_returns_unconfirmed_enrolment(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.upsert_totp(ana, "enc:secret-1").await.expect("upsert_totp");
    let totp = mfa.get_totp(ana).await.expect("get_totp");
    assert_eq!(totp.user_id, ana);
    assert_eq!(totp.secret_encrypted, "enc:secret-1");
    assert_eq!(totp.confirmed_at, None);
    assert_eq!(totp.last_used_at, None);
    assert!(totp.created_at <= totp.updated_at);
    assert_not_found(mfa.get_totp(bob).await, "get_totp of a user without TOTP");
}

/// Upserting again replaces the secret and leaves the enrolment unconfirmed; another
/// user's confirmed enrolment is untouched.
pub async fn mfa_totp_upsert_again_replaces_secret_and_requires_new_confirmation(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.upsert_totp(ana, "enc:old").await.expect("upsert ana");
    mfa.confirm_totp(ana).await.expect("confirm ana");
    mfa.upsert_totp(bob, "enc:bob").await.expect("upsert bob");
    mfa.confirm_totp(bob).await.expect("confirm bob");
    let bob_before = mfa.get_totp(bob).await.expect("get bob");

    mfa.upsert_totp(ana, "enc:new").await.expect("upsert ana again");
    let ana_totp = mfa.get_totp(ana).await.expect("get ana");
    assert_eq!(ana_totp.secret_encrypted, "enc:new");
    assert_eq!(ana_totp.confirmed_at, None, "a new secret must be confirmed again");
    assert_eq!(mfa.get_totp(bob).await.expect("get bob again"), bob_before);
}

/// Confirming sets `confirmed_at` on that user's enrolment only and keeps the secret.
pub async fn mfa_totp_confirm_sets_confirmed_at_for_that_user_only(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.upsert_totp(ana, "enc:ana").await.expect("upsert ana");
    mfa.upsert_totp(bob, "enc:bob").await.expect("upsert bob");
    let before = crate::model::now();
    mfa.confirm_totp(ana).await.expect("confirm");
    let ana_totp = mfa.get_totp(ana).await.expect("get ana");
    let confirmed = ana_totp.confirmed_at.expect("confirmed_at set");
    assert!(confirmed >= before - TimeDelta::seconds(5), "confirmed_at is the time of the call");
    assert_eq!(ana_totp.secret_encrypted, "enc:ana");
    let bob_totp = mfa.get_totp(bob).await.expect("get bob");
    assert_eq!(bob_totp.confirmed_at, None);
}

/// Touching records `last_used_at` and leaves the secret and the confirmation as they were.
pub async fn mfa_totp_touch_records_last_use_and_keeps_confirmation(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    mfa.upsert_totp(ana, "enc:ana").await.expect("upsert");
    mfa.confirm_totp(ana).await.expect("confirm");
    let confirmed = mfa.get_totp(ana).await.expect("get").confirmed_at;
    mfa.touch_totp(ana).await.expect("touch");
    let totp = mfa.get_totp(ana).await.expect("get after touch");
    assert!(totp.last_used_at.is_some(), "touch sets last_used_at");
    assert_eq!(totp.confirmed_at, confirmed);
    assert_eq!(totp.secret_encrypted, "enc:ana");
}

/// Confirming, reading or touching the TOTP of a user without one is `NotFound`, and
/// enrolling an unknown user is `NotFound` too.
pub async fn mfa_totp_calls_without_enrolment_are_not_found(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    assert_not_found(mfa.confirm_totp(ana).await, "confirm_totp");
    assert_not_found(mfa.get_totp(ana).await, "get_totp");
    assert_not_found(mfa.touch_totp(ana).await, "touch_totp");
    assert_not_found(mfa.upsert_totp(Uuid::now_v7(), "enc:x").await, "upsert_totp of an unknown user");
    assert_not_found(mfa.get_totp(ana).await, "the failed calls created nothing");
}

/// Disabling removes the enrolment, is idempotent, and leaves other users' enrolments.
pub async fn mfa_totp_disable_removes_enrolment_idempotently(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.upsert_totp(ana, "enc:ana").await.expect("upsert ana");
    mfa.upsert_totp(bob, "enc:bob").await.expect("upsert bob");
    mfa.disable_totp(ana).await.expect("disable");
    assert_not_found(mfa.get_totp(ana).await, "get after disable");
    mfa.disable_totp(ana).await.expect("disable again is fine");
    assert_eq!(mfa.get_totp(bob).await.expect("bob keeps TOTP").secret_encrypted, "enc:bob");
}

/// A recovery code works once, then answers `false`; an unknown code is `false`; the same
/// hash of another user is a different code.
pub async fn mfa_recovery_code_is_true_once_then_false(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.set_recovery_codes(ana, &hashes(&["h1", "h2", "h3"])).await.expect("set ana");
    mfa.set_recovery_codes(bob, &hashes(&["h1"])).await.expect("set bob");

    assert!(mfa.use_recovery_code(ana, "h1").await.expect("first use"));
    assert!(!mfa.use_recovery_code(ana, "h1").await.expect("second use"));
    assert!(!mfa.use_recovery_code(ana, "nope").await.expect("unknown code"));
    assert!(mfa.use_recovery_code(ana, "h2").await.expect("another code still works"));
    assert!(mfa.use_recovery_code(bob, "h1").await.expect("bob's own h1 is unused"));
    assert!(!mfa.use_recovery_code(Uuid::now_v7(), "h3").await.expect("unknown user"));
    assert!(mfa.use_recovery_code(ana, "h3").await.expect("h3 untouched by the unknown user"));
}

/// Setting recovery codes replaces every earlier code of the user, used or not, and leaves
/// other users' codes.
pub async fn mfa_recovery_codes_set_replaces_all_earlier_codes(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.set_recovery_codes(ana, &hashes(&["old1", "old2"])).await.expect("set old");
    mfa.set_recovery_codes(bob, &hashes(&["old1"])).await.expect("set bob");
    assert!(mfa.use_recovery_code(ana, "old1").await.expect("use old1"));
    mfa.set_recovery_codes(ana, &hashes(&["new1", "old1"])).await.expect("set new");
    assert!(!mfa.use_recovery_code(ana, "old2").await.expect("old2 is gone"));
    assert!(mfa.use_recovery_code(ana, "old1").await.expect("re-issued old1 is fresh"));
    assert!(mfa.use_recovery_code(ana, "new1").await.expect("new1 works"));
    assert!(mfa.use_recovery_code(bob, "old1").await.expect("bob's code untouched"));
}

/// Setting codes for an unknown user is `NotFound`; an empty hash is `InvalidInput` and
/// leaves the earlier codes in place.
pub async fn mfa_recovery_codes_set_rejects_unknown_user_and_empty_hash(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    assert_not_found(mfa.set_recovery_codes(Uuid::now_v7(), &hashes(&["x"])).await, "unknown user");
    mfa.set_recovery_codes(ana, &hashes(&["keep"])).await.expect("set");
    assert_invalid(mfa.set_recovery_codes(ana, &hashes(&["fresh", ""])).await, "empty hash");
    assert!(!mfa.use_recovery_code(ana, "fresh").await.expect("nothing of the refused set was stored"));
    assert!(mfa.use_recovery_code(ana, "keep").await.expect("earlier code kept"));
}

/// Deleting recovery codes removes all of the user's codes, is idempotent, and leaves
/// other users' codes.
pub async fn mfa_recovery_codes_delete_removes_all_idempotently(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.set_recovery_codes(ana, &hashes(&["a1", "a2"])).await.expect("set ana");
    mfa.set_recovery_codes(bob, &hashes(&["b1"])).await.expect("set bob");
    mfa.delete_recovery_codes(ana).await.expect("delete");
    mfa.delete_recovery_codes(ana).await.expect("delete again");
    assert!(!mfa.use_recovery_code(ana, "a1").await.expect("a1 gone"));
    assert!(!mfa.use_recovery_code(ana, "a2").await.expect("a2 gone"));
    assert!(mfa.use_recovery_code(bob, "b1").await.expect("bob keeps b1"));
}

/// Fifty tasks using the same recovery code at once: exactly one gets `true`.
pub async fn mfa_recovery_code_used_by_50_concurrent_tasks_is_true_exactly_once(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    store.mfa().set_recovery_codes(ana, &hashes(&["race", "other"])).await.expect("set");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let mfa = store.mfa();
            tokio::spawn(async move { mfa.use_recovery_code(ana, "race").await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        if task.await.expect("task panicked").expect("use_recovery_code") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one concurrent use succeeds");
    assert!(store.mfa().use_recovery_code(ana, "other").await.expect("other code untouched"));
}

/// A trusted device is trusted until it expires, per user and per device; a blank device hash
/// is `InvalidInput`.
pub async fn mfa_trusted_device_is_trusted_until_it_expires(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    mfa.add_trusted_device(ana, "laptop", minutes_from_now(60)).await.expect("add laptop");
    mfa.add_trusted_device(ana, "old-phone", minutes_from_now(-1)).await.expect("add expired");
    assert!(mfa.is_trusted_device(ana, "laptop").await.expect("laptop"));
    assert!(!mfa.is_trusted_device(ana, "old-phone").await.expect("expired device"));
    assert!(!mfa.is_trusted_device(ana, "unknown").await.expect("unknown device"));
    assert!(!mfa.is_trusted_device(bob, "laptop").await.expect("bob's laptop is not ana's"));
    assert_invalid(mfa.add_trusted_device(ana, " ", minutes_from_now(60)).await, "blank device hash");
    assert!(!mfa.is_trusted_device(ana, " ").await.expect("a refused device is not stored"));
}

/// Adding a known device again sets its new expiry, in both directions.
pub async fn mfa_trusted_device_added_again_takes_the_new_expiry(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    mfa.add_trusted_device(ana, "laptop", minutes_from_now(-5)).await.expect("add expired");
    mfa.add_trusted_device(ana, "tablet", minutes_from_now(60)).await.expect("add tablet");
    mfa.add_trusted_device(ana, "laptop", minutes_from_now(60)).await.expect("renew");
    assert!(mfa.is_trusted_device(ana, "laptop").await.expect("renewed device"));
    mfa.add_trusted_device(ana, "laptop", minutes_from_now(-5)).await.expect("shorten");
    assert!(!mfa.is_trusted_device(ana, "laptop").await.expect("shortened device"));
    assert!(mfa.is_trusted_device(ana, "tablet").await.expect("other device untouched"));
    assert_not_found(
        mfa.add_trusted_device(Uuid::now_v7(), "x", minutes_from_now(60)).await,
        "add_trusted_device of an unknown user",
    );
}

/// Purging trusted devices deletes nothing before they expire and exactly the expired ones
/// after, in batches, whatever the UTC offset the caller's `now` was built at.
pub async fn mfa_trusted_device_purge_deletes_exactly_the_expired_whatever_the_offset(store: &DataPlane) {
    let mfa = store.mfa();
    let ana = new_user(store, "ana@example.com").await;
    let t0 = crate::model::now();
    for (i, minutes) in [10, 20, 30, 40, 50].into_iter().enumerate() {
        let expires = t0 + TimeDelta::minutes(minutes);
        mfa.add_trusted_device(ana, &format!("soon-{i}"), expires).await.expect("add soon");
    }
    mfa.add_trusted_device(ana, "later", t0 + TimeDelta::hours(5)).await.expect("add later");

    let before_any = via_offset(t0 + TimeDelta::minutes(5), 5 * 3600 + 1800);
    assert_eq!(mfa.purge_expired(before_any, 2).await.expect("purge early"), 0);
    assert!(mfa.is_trusted_device(ana, "soon-0").await.expect("still trusted"));

    let after_soon = via_offset(t0 + TimeDelta::hours(1), -8 * 3600);
    assert_eq!(mfa.purge_expired(after_soon, 2).await.expect("purge"), 5, "all five, two at a time");
    assert_eq!(mfa.purge_expired(after_soon, 2).await.expect("purge again"), 0);
    assert!(!mfa.is_trusted_device(ana, "soon-0").await.expect("purged"));
    assert!(mfa.is_trusted_device(ana, "later").await.expect("unexpired device kept"));
}

/// Ten tasks replacing one user's recovery codes at once all succeed, and exactly one of
/// their sets is left, complete: replacements never interleave.
pub async fn mfa_recovery_codes_replaced_concurrently_leave_one_complete_set(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let mfa = store.mfa();
            tokio::spawn(async move {
                mfa.set_recovery_codes(ana, &[format!("set{i}-a"), format!("set{i}-b")]).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked").expect("concurrent set_recovery_codes");
    }
    let mfa = store.mfa();
    let mut complete = 0;
    for i in 0..10 {
        let a = mfa.use_recovery_code(ana, &format!("set{i}-a")).await.expect("use a");
        let b = mfa.use_recovery_code(ana, &format!("set{i}-b")).await.expect("use b");
        assert_eq!(a, b, "set {i} is either whole or absent");
        if a {
            complete += 1;
        }
    }
    assert_eq!(complete, 1, "exactly one set survives");
}
