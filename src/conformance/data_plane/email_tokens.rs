//! Cases of [`EmailTokenRepository`](crate::repository::EmailTokenRepository): single use
//! (also under concurrency), expiry, kinds, refused input and purge.

use std::time::Duration;

use chrono::TimeDelta;
use uuid::Uuid;

use super::support::{
    assert_conflict, assert_invalid, assert_not_found, assert_token_expired, new_user, via_offset,
};
use crate::conformance::DataPlane;
use crate::model::EmailTokenKind::{PasswordReset, Verification};

/// A created token is consumed once and comes back with its fields and `used_at` set.
pub async fn email_tokens_create_then_consume_returns_the_token(store: &DataPlane) {
    let tokens = store.email_tokens();
    let ana = new_user(store, "ana@example.com").await;
    let before = crate::model::now();
    let id = tokens
        .create(Verification, ana, "tok-1", "ana@example.com", TimeDelta::hours(1))
        .await
        .expect("create");
    let token = tokens.consume(Verification, "tok-1").await.expect("consume");
    assert_eq!(token.id, id);
    assert_eq!(token.kind, Verification);
    assert_eq!(token.user_id, ana);
    assert_eq!(token.token_hash, "tok-1");
    assert_eq!(token.sent_to, "ana@example.com");
    assert!(token.created_at >= before - TimeDelta::seconds(5));
    assert_eq!(token.expires_at, token.created_at + TimeDelta::hours(1));
    let used = token.used_at.expect("used_at set");
    assert!(used >= token.created_at);
}

/// A consumed token cannot be consumed again (`NotFound`); another token of the same user
/// is still good.
pub async fn email_tokens_consume_is_single_use(store: &DataPlane) {
    let tokens = store.email_tokens();
    let ana = new_user(store, "ana@example.com").await;
    tokens
        .create(PasswordReset, ana, "once", "ana@example.com", TimeDelta::hours(1))
        .await
        .expect("create once");
    tokens
        .create(PasswordReset, ana, "other", "ana@example.com", TimeDelta::hours(1))
        .await
        .expect("create other");
    tokens.consume(PasswordReset, "once").await.expect("first consume");
    assert_not_found(tokens.consume(PasswordReset, "once").await, "second consume");
    assert_eq!(tokens.consume(PasswordReset, "other").await.expect("other token").token_hash, "other");
}

/// Twenty callers consuming the same token at once: exactly one gets it, the others get
/// `NotFound`.
pub async fn email_tokens_consumed_by_20_concurrent_callers_succeed_exactly_once(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    store
        .email_tokens()
        .create(Verification, ana, "race", "ana@example.com", TimeDelta::hours(1))
        .await
        .expect("create");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let tokens = store.email_tokens();
            tokio::spawn(async move { tokens.consume(Verification, "race").await })
        })
        .collect();
    let (mut wins, mut not_found) = (0, 0);
    for task in tasks {
        match task.await.expect("task panicked") {
            Ok(token) => {
                assert_eq!(token.token_hash, "race");
                wins += 1;
            }
            Err(e) if e.is_not_found() => not_found += 1,
            Err(e) => panic!("unexpected error from a concurrent consume: {e:?}"),
        }
    }
    assert_eq!((wins, not_found), (1, 19));
}

/// An expired token is `TokenExpired`, stays expired on a second try, and does not affect a
/// live token.
pub async fn email_tokens_expired_token_is_token_expired(store: &DataPlane) {
    let tokens = store.email_tokens();
    let ana = new_user(store, "ana@example.com").await;
    tokens
        .create(Verification, ana, "short", "ana@example.com", TimeDelta::milliseconds(1))
        .await
        .expect("short");
    tokens.create(Verification, ana, "long", "ana@example.com", TimeDelta::hours(1)).await.expect("long");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_token_expired(tokens.consume(Verification, "short").await, "expired token");
    assert_token_expired(tokens.consume(Verification, "short").await, "expired token, second try");
    tokens.consume(Verification, "long").await.expect("live token");
}

/// Consuming with the wrong kind or an unknown hash is `NotFound` and leaves the token
/// consumable with its own kind.
pub async fn email_tokens_consume_of_other_kind_or_unknown_hash_is_not_found(store: &DataPlane) {
    let tokens = store.email_tokens();
    let ana = new_user(store, "ana@example.com").await;
    tokens
        .create(Verification, ana, "verify-me", "ana@example.com", TimeDelta::hours(1))
        .await
        .expect("create");
    assert_not_found(tokens.consume(PasswordReset, "verify-me").await, "other kind");
    assert_not_found(tokens.consume(Verification, "unknown").await, "unknown hash");
    tokens.consume(Verification, "verify-me").await.expect("still consumable with its kind");
}

/// Creating a token for an unknown user is `NotFound`, with a known hash `Conflict`, with an
/// empty hash or a non-positive ttl `InvalidInput`; the existing token is unaffected.
pub async fn email_tokens_create_rejects_unknown_user_known_hash_and_bad_input(store: &DataPlane) {
    let tokens = store.email_tokens();
    let ana = new_user(store, "ana@example.com").await;
    let hour = TimeDelta::hours(1);
    tokens.create(Verification, ana, "taken", "ana@example.com", hour).await.expect("create");
    assert_not_found(
        tokens.create(Verification, Uuid::now_v7(), "x1", "x@example.com", hour).await,
        "unknown user",
    );
    assert_conflict(tokens.create(PasswordReset, ana, "taken", "ana@example.com", hour).await, "known hash");
    assert_invalid(tokens.create(Verification, ana, "", "ana@example.com", hour).await, "empty hash");
    assert_invalid(
        tokens.create(Verification, ana, "zero", "ana@example.com", TimeDelta::zero()).await,
        "zero ttl",
    );
    assert_invalid(
        tokens.create(Verification, ana, "neg", "ana@example.com", TimeDelta::minutes(-5)).await,
        "negative ttl",
    );
    assert_not_found(tokens.consume(Verification, "zero").await, "refused token not stored");
    assert_eq!(tokens.consume(Verification, "taken").await.expect("original").kind, Verification);
}

/// Purging e-mail tokens deletes nothing before they expire and exactly the expired ones
/// after, in batches, whatever the UTC offset the caller's `now` was built at.
pub async fn email_tokens_purge_deletes_exactly_the_expired_whatever_the_offset(store: &DataPlane) {
    let tokens = store.email_tokens();
    let ana = new_user(store, "ana@example.com").await;
    let t0 = crate::model::now();
    for i in 0..5 {
        let ttl = TimeDelta::minutes(10 + i);
        tokens.create(Verification, ana, &format!("soon-{i}"), "ana@example.com", ttl).await.expect("soon");
    }
    tokens.create(PasswordReset, ana, "later", "ana@example.com", TimeDelta::hours(5)).await.expect("later");

    let early = via_offset(t0 + TimeDelta::minutes(5), 14 * 3600);
    assert_eq!(tokens.purge_expired(early, 2).await.expect("purge early"), 0);
    tokens.consume(Verification, "soon-0").await.expect("not purged early");

    let after = via_offset(t0 + TimeDelta::hours(1), -11 * 3600);
    assert_eq!(tokens.purge_expired(after, 2).await.expect("purge"), 5, "used or not, expired ones go");
    assert_eq!(tokens.purge_expired(after, 2).await.expect("purge again"), 0);
    assert_not_found(tokens.consume(Verification, "soon-1").await, "purged token");
    tokens.consume(PasswordReset, "later").await.expect("unexpired token kept");
}
