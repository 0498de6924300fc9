//! Cases of the `TokenRepository`: issue, look-up, rotation with reuse detection (also
//! under 50 concurrent rotations), the reuse interval, revocation, listing, stats and purge
//! (which keeps the rotated tokens of live families).

use chrono::{TimeDelta, Utc};
use uuid::Uuid;

use super::support::{assert_conflict, assert_invalid, assert_not_found, assert_token_expired, via_offset};
use crate::conformance::DataPlane;
use crate::error::{StoreError, StoreResult};
use crate::model::{CreateRefreshTokenInput, CreateUserInput, TokenFilter, TokenStatus, new_id, now};

async fn user(store: &DataPlane, email: &str) -> Uuid {
    store.users().create(CreateUserInput::new(email)).await.expect("create user").0.id
}

async fn issue(store: &DataPlane, user_id: Uuid, client: &str, hash: &str, ttl: TimeDelta) -> Uuid {
    store
        .tokens()
        .create(CreateRefreshTokenInput { user_id, client_id: client.into(), token_hash: hash.into(), ttl })
        .await
        .expect("create token")
}

#[track_caller]
fn assert_reused<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::TokenReused) => {}
        other => panic!("{what}: expected TokenReused, got {other:?}"),
    }
}

/// A created token is found by hash and by id with every field: owner e-mail, client,
/// a new family, no rotation, not revoked, `expires_at - issued_at == ttl` to the
/// microsecond.
pub async fn tokens_create_then_get_by_hash_and_id(store: &DataPlane) {
    let ana = user(store, "Ana@Example.com").await;
    let ttl = TimeDelta::days(30) + TimeDelta::microseconds(123_457);
    let id = issue(store, ana, "web", "hash-1", ttl).await;
    let other = issue(store, ana, "web", "hash-2", ttl).await;
    let token = store.tokens().get_by_hash("hash-1").await.expect("get_by_hash");
    assert_eq!(token.id, id);
    assert_eq!(token.user_id, ana);
    assert_eq!(token.user_email.as_deref(), Some("Ana@Example.com"));
    assert_eq!(token.client_id, "web");
    assert_eq!(token.token_hash, "hash-1");
    assert_eq!(token.rotated_from, None);
    assert_eq!(token.revoked_at, None);
    assert_eq!(token.expires_at - token.issued_at, ttl);
    assert_eq!(token.status_at(now()), TokenStatus::Active);
    assert_eq!(store.tokens().get_by_id(id).await.expect("get_by_id"), token);
    let second = store.tokens().get_by_id(other).await.expect("second");
    assert_ne!(second.family_id, token.family_id, "each login starts a family");
    assert_not_found(store.tokens().get_by_hash("nope").await, "unknown hash");
    assert_not_found(store.tokens().get_by_id(new_id()).await, "unknown id");
}

/// An expiry in 2040 (past 2038) round-trips, with microseconds.
pub async fn tokens_expiry_in_2040_round_trips(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let target = chrono::TimeZone::with_ymd_and_hms(&Utc, 2040, 6, 1, 12, 34, 56).single().expect("2040")
        + TimeDelta::microseconds(789_012);
    let ttl = target - now();
    issue(store, ana, "web", "far", ttl).await;
    let token = store.tokens().get_by_hash("far").await.expect("get");
    assert_eq!(token.expires_at - token.issued_at, ttl, "exact lifetime");
    assert_eq!(chrono::Datelike::year(&token.expires_at), 2040);
    assert_eq!(token.status_at(now()), TokenStatus::Active);
}

/// `create` refuses an unknown user (`NotFound`), a stored hash (`Conflict`), and empty
/// hash or client or a non-positive ttl (`InvalidInput`); nothing is stored by a refusal.
pub async fn tokens_create_refuses_unknown_user_duplicate_hash_and_bad_input(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let tokens = store.tokens();
    let input = |user_id, client: &str, hash: &str, ttl| CreateRefreshTokenInput {
        user_id,
        client_id: client.into(),
        token_hash: hash.into(),
        ttl,
    };
    let hour = TimeDelta::hours(1);
    assert_not_found(tokens.create(input(new_id(), "web", "h-ghost", hour)).await, "unknown user");
    let first = tokens.create(input(ana, "web", "h-1", hour)).await.expect("first");
    assert_conflict(tokens.create(input(ana, "mobile", "h-1", hour)).await, "same hash");
    assert_invalid(tokens.create(input(ana, "web", "", hour)).await, "empty hash");
    assert_invalid(tokens.create(input(ana, "", "h-2", hour)).await, "empty client");
    assert_invalid(tokens.create(input(ana, "web", "h-3", TimeDelta::zero())).await, "zero ttl");
    assert_invalid(tokens.create(input(ana, "web", "h-4", -hour)).await, "negative ttl");
    assert_eq!(tokens.count(&TokenFilter::default()).await.expect("count"), 1);
    let kept = tokens.get_by_hash("h-1").await.expect("first kept");
    assert_eq!((kept.id, kept.client_id.as_str()), (first, "web"));
}

/// Rotation revokes the old token and issues the new one in the same family, pointing back
/// at the old one; another token of the same user is untouched.
pub async fn tokens_rotate_issues_the_next_token_of_the_family(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let old_id = issue(store, ana, "web", "r-1", TimeDelta::hours(1)).await;
    issue(store, ana, "web", "other", TimeDelta::hours(1)).await;
    let old = store.tokens().get_by_id(old_id).await.expect("old");
    let other_before = store.tokens().get_by_hash("other").await.expect("other");

    let ttl = TimeDelta::days(7);
    let new = store.tokens().rotate("r-1", "r-2", ttl).await.expect("rotate");
    assert_eq!(new.token_hash, "r-2");
    assert_eq!(new.family_id, old.family_id);
    assert_eq!(new.rotated_from, Some(old.id));
    assert_eq!(new.user_id, ana);
    assert_eq!(new.client_id, "web");
    assert_eq!(new.user_email.as_deref(), Some("ana@example.com"));
    assert_eq!(new.revoked_at, None);
    assert_eq!(new.expires_at - new.issued_at, ttl);
    assert_eq!(store.tokens().get_by_hash("r-2").await.expect("reread new"), new);
    let old_after = store.tokens().get_by_id(old_id).await.expect("old after");
    assert!(old_after.revoked_at.is_some(), "old token revoked");
    assert_eq!(old_after.expires_at, old.expires_at, "old expiry untouched");
    assert_eq!(store.tokens().get_by_hash("other").await.expect("other after"), other_before);
}

/// Presenting a token that was already rotated is reuse: `TokenReused`, and every token of
/// its family is revoked — but not a token of another family.
pub async fn tokens_reusing_a_rotated_token_revokes_the_whole_family(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    issue(store, ana, "web", "f-1", TimeDelta::hours(1)).await;
    issue(store, ana, "web", "g-1", TimeDelta::hours(1)).await;
    store.tokens().rotate("f-1", "f-2", TimeDelta::hours(1)).await.expect("rotate 1");
    store.tokens().rotate("f-2", "f-3", TimeDelta::hours(1)).await.expect("rotate 2");
    assert!(store.tokens().get_by_hash("f-3").await.expect("f-3").revoked_at.is_none());

    assert_reused(store.tokens().rotate("f-1", "f-x", TimeDelta::hours(1)).await, "reusing f-1");
    assert!(store.tokens().get_by_hash("f-3").await.expect("f-3").revoked_at.is_some(), "family revoked");
    assert_not_found(store.tokens().get_by_hash("f-x").await, "no token issued on reuse");
    assert_reused(store.tokens().rotate("f-3", "f-y", TimeDelta::hours(1)).await, "revoked by reuse");
    assert!(
        store.tokens().get_by_hash("g-1").await.expect("g-1").revoked_at.is_none(),
        "other family untouched"
    );

    // A token revoked explicitly is reuse too.
    let g = store.tokens().get_by_hash("g-1").await.expect("g-1");
    store.tokens().revoke(g.id).await.expect("revoke g-1");
    assert_reused(store.tokens().rotate("g-1", "g-2", TimeDelta::hours(1)).await, "revoked token");
}

/// Rotating an expired token is `TokenExpired` and revokes nothing; an unknown token is
/// `NotFound`.
pub async fn tokens_rotating_an_expired_or_unknown_token_fails(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    issue(store, ana, "web", "short", TimeDelta::milliseconds(20)).await;
    issue(store, ana, "web", "long", TimeDelta::hours(1)).await;
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert_token_expired(store.tokens().rotate("short", "short-2", TimeDelta::hours(1)).await, "expired");
    let short = store.tokens().get_by_hash("short").await.expect("short");
    assert_eq!(short.revoked_at, None, "an expired token is not revoked");
    assert_eq!(short.status_at(now()), TokenStatus::Expired);
    assert_not_found(store.tokens().get_by_hash("short-2").await, "nothing issued");
    assert_not_found(store.tokens().rotate("ghost", "ghost-2", TimeDelta::hours(1)).await, "unknown");
    assert!(store.tokens().get_by_hash("long").await.expect("long").revoked_at.is_none());
}

/// Rotating to a hash that is already stored is a `Conflict` and leaves the old token
/// active, so the caller can rotate it again.
pub async fn tokens_rotate_to_a_stored_hash_is_a_conflict_and_keeps_the_old_token(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    issue(store, ana, "web", "c-1", TimeDelta::hours(1)).await;
    issue(store, ana, "web", "c-taken", TimeDelta::hours(1)).await;
    assert_conflict(store.tokens().rotate("c-1", "c-taken", TimeDelta::hours(1)).await, "stored new hash");
    assert!(
        store.tokens().get_by_hash("c-1").await.expect("c-1").revoked_at.is_none(),
        "old token still active"
    );
    assert!(store.tokens().get_by_hash("c-taken").await.expect("c-taken").revoked_at.is_none());
    store.tokens().rotate("c-1", "c-2", TimeDelta::hours(1)).await.expect("rotate with a fresh hash");
}

/// `rotate` refuses a blank new hash, one equal to the old hash, and a zero, negative or
/// overflowing ttl with `InvalidInput` before anything is written: the old token is exactly
/// as it was, nothing is issued, and it still rotates afterwards.
pub async fn tokens_rotate_refuses_bad_input_and_changes_nothing(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    issue(store, ana, "web", "i-1", TimeDelta::hours(1)).await;
    let tokens = store.tokens();
    let before = tokens.get_by_hash("i-1").await.expect("before");
    let hour = TimeDelta::hours(1);
    assert_invalid(tokens.rotate("i-1", "", hour).await, "empty new hash");
    assert_invalid(tokens.rotate("i-1", "  ", hour).await, "blank new hash");
    assert_invalid(tokens.rotate("i-1", "i-1", hour).await, "new hash equal to the old one");
    assert_invalid(tokens.rotate("i-1", "i-2", TimeDelta::zero()).await, "zero ttl");
    assert_invalid(tokens.rotate("i-1", "i-2", -hour).await, "negative ttl");
    assert_invalid(tokens.rotate("i-1", "i-2", TimeDelta::MAX).await, "overflowing ttl");
    assert_eq!(tokens.get_by_hash("i-1").await.expect("after"), before, "old token unchanged");
    assert_eq!(tokens.count(&TokenFilter::default()).await.expect("count"), 1, "nothing issued");
    let next = tokens.rotate("i-1", "i-2", hour).await.expect("old token still rotates");
    assert_eq!(next.rotated_from, Some(before.id));
}

/// Fifty concurrent rotations of one token (callers released together by a barrier, like a
/// client's retries or two browser tabs): exactly one succeeds, every other one is
/// `Conflict`, exactly one new token exists, and it stays active — nothing of the family
/// but the old token is revoked, and the winner's token rotates again. A replay of the old
/// token after the race (interval 0) is then reuse.
pub async fn tokens_fifty_concurrent_rotations_have_one_winner_and_conflicts_only(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    issue(store, ana, "web", "hot", TimeDelta::hours(1)).await;
    let callers = 50;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(callers));
    // The callers are futures of one task (`join_all`), released by the barrier and then
    // polled once each before any of them is polled again: every caller has started (taken
    // its start time, sent its first statement) before any database answer is handled —
    // released together, as the contract means by concurrent. The database sees fifty
    // transactions in flight. (As tasks on the worker threads of a loaded machine, a caller
    // whose worker is descheduled can start after the winner committed, and is then rightly
    // a replay.)
    let calls = (0..callers).map(|i| {
        let (tokens, barrier) = (store.tokens(), barrier.clone());
        async move {
            barrier.wait().await;
            tokens.rotate("hot", &format!("hot-{i}"), TimeDelta::hours(1)).await
        }
    });
    // Unconstrained: tokio's cooperative budget, shared by the fifty, must not cut a pass short.
    let results = tokio::task::unconstrained(futures_util::future::join_all(calls)).await;
    let (mut winners, mut conflicts) = (Vec::new(), 0);
    for result in results {
        match result {
            Ok(token) => winners.push(token),
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(other) => panic!("a losing rotation must be Conflict, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert_eq!(conflicts, callers - 1, "every other one is Conflict");
    let winner = winners.remove(0);
    let family = TokenFilter { user_id: Some(ana), ..Default::default() };
    assert_eq!(
        store.tokens().count(&family).await.expect("count"),
        2,
        "the old token and exactly one new one"
    );
    let revoked = TokenFilter { status: Some(TokenStatus::Revoked), ..family.clone() };
    let revoked = store.tokens().list(&revoked).await.expect("revoked");
    assert_eq!(
        revoked.iter().map(|t| t.token_hash.as_str()).collect::<Vec<_>>(),
        vec!["hot"],
        "only the old token"
    );
    let old = store.tokens().get_by_hash("hot").await.expect("old");
    assert_eq!(winner.rotated_from, Some(old.id));
    let kept = store.tokens().get_by_hash(&winner.token_hash).await.expect("winner's token");
    assert_eq!(kept.revoked_at, None, "the winner's token stays active");
    let next =
        store.tokens().rotate(&winner.token_hash, "hot-next", TimeDelta::hours(1)).await.expect("rotates");
    assert_eq!(next.rotated_from, Some(winner.id));

    assert_reused(
        store.tokens().rotate("hot", "hot-late", TimeDelta::hours(1)).await,
        "replay after the race",
    );
    let next = store.tokens().get_by_hash("hot-next").await.expect("hot-next");
    assert!(next.revoked_at.is_some(), "the replay revoked the family");
}

/// Presenting the just-rotated token again within the reuse interval returns the same
/// successor (`Ok`, same id and hash, whatever new hash was given) and writes nothing: the
/// successor stays active, no token is issued. Once the successor is rotated (or revoked)
/// the same replay is reuse and revokes the family.
pub async fn tokens_replay_within_the_reuse_interval_returns_the_same_successor(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let tokens = store.tokens();
    let (hour, interval) = (TimeDelta::hours(1), TimeDelta::seconds(300));
    issue(store, ana, "web", "w-1", hour).await;
    let successor = tokens.rotate_with_reuse_interval("w-1", "w-2", hour, interval).await.expect("rotate");
    for retry in ["w-2", "w-other"] {
        let again = tokens.rotate_with_reuse_interval("w-1", retry, hour, interval).await.expect("replay");
        assert_eq!(again, successor, "the same successor, unchanged");
    }
    assert_not_found(tokens.get_by_hash("w-other").await, "nothing issued by a replay");
    assert_eq!(tokens.get_by_hash("w-2").await.expect("w-2").revoked_at, None, "successor still active");
    assert_eq!(tokens.count(&TokenFilter::default()).await.expect("count"), 2);

    // Interval 0 (the default) is off: the same replay would be reuse (see the next token).
    issue(store, ana, "web", "z-1", hour).await;
    tokens.rotate("z-1", "z-2", hour).await.expect("rotate z");
    assert_reused(
        tokens.rotate_with_reuse_interval("z-1", "z-2", hour, TimeDelta::zero()).await,
        "interval 0",
    );
    assert!(tokens.get_by_hash("z-2").await.expect("z-2").revoked_at.is_some(), "family revoked");

    // The successor rotated on: the replay is reuse, whatever the interval.
    tokens.rotate_with_reuse_interval("w-2", "w-3", hour, interval).await.expect("rotate w-2");
    assert_reused(tokens.rotate_with_reuse_interval("w-1", "w-2", hour, interval).await, "successor rotated");
    assert!(tokens.get_by_hash("w-3").await.expect("w-3").revoked_at.is_some(), "family revoked");

    // The successor revoked: reuse too.
    issue(store, ana, "web", "x-1", hour).await;
    let x2 = tokens.rotate_with_reuse_interval("x-1", "x-2", hour, interval).await.expect("rotate x");
    tokens.revoke(x2.id).await.expect("revoke x-2");
    assert_reused(tokens.rotate_with_reuse_interval("x-1", "x-3", hour, interval).await, "successor revoked");
    assert_not_found(tokens.get_by_hash("x-3").await, "nothing issued");
}

/// A replay after the reuse interval (1 s here) is reuse: `TokenReused`, the family revoked.
/// A reuse interval below 0 or above the maximum is `InvalidInput`, and changes nothing.
pub async fn tokens_replay_after_the_reuse_interval_is_reuse(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let tokens = store.tokens();
    let (hour, interval) = (TimeDelta::hours(1), TimeDelta::seconds(1));
    issue(store, ana, "web", "e-1", hour).await;
    let too_long = TimeDelta::seconds(crate::model::MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECS as i64 + 1);
    assert_invalid(
        tokens.rotate_with_reuse_interval("e-1", "e-2", hour, too_long).await,
        "interval too long",
    );
    assert_invalid(
        tokens.rotate_with_reuse_interval("e-1", "e-2", hour, -interval).await,
        "negative interval",
    );
    assert_eq!(tokens.get_by_hash("e-1").await.expect("e-1").revoked_at, None, "nothing changed");
    let successor = tokens.rotate_with_reuse_interval("e-1", "e-2", hour, interval).await.expect("rotate");
    let rotated_at = tokens.get_by_hash("e-1").await.expect("e-1").revoked_at.expect("rotated");
    // Past the interval by the wall clock the store compares with.
    while now() - rotated_at <= interval {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_reused(
        tokens.rotate_with_reuse_interval("e-1", "e-2", hour, interval).await,
        "after the interval",
    );
    let successor = tokens.get_by_id(successor.id).await.expect("e-2");
    assert!(successor.revoked_at.is_some(), "family revoked");
}

/// `revoke` revokes one token (idempotently) and no other; an unknown id is `NotFound`.
pub async fn tokens_revoke_one_leaves_the_others(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let one = issue(store, ana, "web", "v-1", TimeDelta::hours(1)).await;
    let two = issue(store, ana, "web", "v-2", TimeDelta::hours(1)).await;
    store.tokens().revoke(one).await.expect("revoke");
    let revoked = store.tokens().get_by_id(one).await.expect("one");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.status_at(now()), TokenStatus::Revoked);
    assert!(store.tokens().get_by_id(two).await.expect("two").revoked_at.is_none(), "token 2 untouched");
    store.tokens().revoke(one).await.expect("revoke again");
    assert_eq!(
        store.tokens().get_by_id(one).await.expect("one again").revoked_at,
        revoked.revoked_at,
        "first revocation kept"
    );
    assert_not_found(store.tokens().revoke(new_id()).await, "unknown token");
}

/// The bulk revocations count and revoke only active tokens of their scope.
pub async fn tokens_bulk_revocations_count_only_active_tokens_in_scope(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let hour = TimeDelta::hours(1);
    issue(store, ana, "web", "a-web-1", hour).await;
    issue(store, ana, "web", "a-web-2", hour).await;
    issue(store, ana, "mobile", "a-mob", hour).await;
    issue(store, bob, "web", "b-web", hour).await;
    issue(store, bob, "cli", "b-cli", hour).await;
    let tokens = store.tokens();
    assert_eq!(tokens.revoke_all_by_user(ana, Some("web")).await.expect("ana web"), 2);
    assert!(tokens.get_by_hash("a-mob").await.expect("a-mob").revoked_at.is_none(), "other client kept");
    assert!(tokens.get_by_hash("b-web").await.expect("b-web").revoked_at.is_none(), "other user kept");
    assert_eq!(tokens.revoke_all_by_user(ana, Some("web")).await.expect("again"), 0);
    assert_eq!(tokens.revoke_all_by_client("web").await.expect("client web"), 1);
    assert!(tokens.get_by_hash("b-cli").await.expect("b-cli").revoked_at.is_none());
    assert_eq!(tokens.revoke_all_by_user(bob, None).await.expect("bob all"), 1);
    assert_eq!(tokens.revoke_all().await.expect("all"), 1, "only ana's mobile token was left");
    assert_eq!(tokens.revoke_all().await.expect("all again"), 0);
    assert_eq!(
        tokens
            .count(&TokenFilter { status: Some(TokenStatus::Revoked), ..Default::default() })
            .await
            .expect("count"),
        5
    );
}

/// `list` filters by user, client, status and owner e-mail (case-insensitively), newest
/// first, paged; `count` agrees and ignores paging.
pub async fn tokens_list_and_count_filter_and_page(store: &DataPlane) {
    let ana = user(store, "Ana@Alpha.com").await;
    let bob = user(store, "bob@beta.com").await;
    let hour = TimeDelta::hours(1);
    let mut ana_ids = Vec::new();
    for i in 0..3 {
        ana_ids.push(issue(store, ana, "web", &format!("l-a-{i}"), hour).await);
    }
    issue(store, ana, "mobile", "l-a-mob", hour).await;
    let bob_web = issue(store, bob, "web", "l-b-web", hour).await;
    issue(store, bob, "web", "l-b-short", TimeDelta::milliseconds(10)).await;
    store.tokens().revoke(bob_web).await.expect("revoke");
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    let tokens = store.tokens();
    let filter = |user_id, client: Option<&str>, status, search: Option<&str>| TokenFilter {
        user_id,
        client_id: client.map(Into::into),
        status,
        search: search.map(Into::into),
        page: 0,
        page_size: 0,
    };

    let ana_web = tokens.list(&filter(Some(ana), Some("web"), None, None)).await.expect("ana web");
    let mut newest_first = ana_ids.clone();
    newest_first.reverse();
    assert_eq!(ana_web.iter().map(|t| t.id).collect::<Vec<_>>(), newest_first);
    assert!(ana_web.iter().all(|t| t.user_email.as_deref() == Some("Ana@Alpha.com")));
    let page2 = tokens
        .list(&TokenFilter { page: 2, page_size: 2, ..filter(Some(ana), Some("web"), None, None) })
        .await
        .expect("page 2");
    assert_eq!(page2.iter().map(|t| t.id).collect::<Vec<_>>(), vec![ana_ids[0]]);
    assert_eq!(
        tokens
            .count(&TokenFilter { page: 2, page_size: 2, ..filter(Some(ana), None, None, None) })
            .await
            .expect("count"),
        4
    );

    assert_eq!(tokens.count(&filter(None, None, Some(TokenStatus::Active), None)).await.expect("active"), 4);
    assert_eq!(
        tokens.count(&filter(None, None, Some(TokenStatus::Revoked), None)).await.expect("revoked"),
        1
    );
    let expired = tokens.list(&filter(None, None, Some(TokenStatus::Expired), None)).await.expect("expired");
    assert_eq!(expired.iter().map(|t| t.token_hash.as_str()).collect::<Vec<_>>(), vec!["l-b-short"]);
    assert_eq!(tokens.count(&filter(None, None, None, Some("ALPHA"))).await.expect("by e-mail"), 4);
    assert_eq!(tokens.count(&filter(None, Some("web"), None, Some("beta"))).await.expect("bob web"), 2);
    assert_eq!(tokens.count(&filter(None, None, None, Some("nobody"))).await.expect("nobody"), 0);
    assert_eq!(tokens.count(&TokenFilter::default()).await.expect("all"), 6);
}

/// `stats` counts active tokens (in total and per client), today's issues and revocations,
/// and the mean lifetime of active tokens.
pub async fn tokens_stats_count_active_issued_and_revoked_today(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let day = now().date_naive();
    let empty = store.tokens().stats().await.expect("empty stats");
    assert_eq!((empty.total_active, empty.issued_today, empty.revoked_today), (0, 0, 0));
    assert_eq!(empty.avg_lifetime_hours, 0.0);
    issue(store, ana, "web", "s-1", TimeDelta::hours(2)).await;
    issue(store, ana, "web", "s-2", TimeDelta::hours(4)).await;
    let gone = issue(store, ana, "cli", "s-3", TimeDelta::hours(8)).await;
    store.tokens().revoke(gone).await.expect("revoke");
    let stats = store.tokens().stats().await.expect("stats");
    assert_eq!(stats.total_active, 2);
    assert_eq!(stats.revoked_today, 1);
    if now().date_naive() == day {
        assert_eq!(stats.issued_today, 3, "issued since midnight UTC");
    }
    assert!(
        (stats.avg_lifetime_hours - 3.0).abs() < 1e-6,
        "mean of 2 h and 4 h, got {}",
        stats.avg_lifetime_hours
    );
    assert_eq!(stats.by_client.get("web"), Some(&2));
    assert_eq!(stats.by_client.get("cli"), None, "revoked tokens are not active");
}

/// Purge before expiry deletes nothing; after expiry it deletes exactly the expired tokens
/// and those revoked more than a day earlier (each of its own, dead, family), in batches,
/// whatever the offset of the `now` it is given.
pub async fn tokens_purge_deletes_exactly_the_expired_whatever_the_offset(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let start = now();
    for i in 0..3 {
        issue(store, ana, "web", &format!("p-hour-{i}"), TimeDelta::hours(1)).await;
    }
    issue(store, ana, "web", "p-day", TimeDelta::days(1)).await;
    let revoked = issue(store, ana, "web", "p-revoked", TimeDelta::days(30)).await;
    issue(store, ana, "web", "p-month", TimeDelta::days(30)).await;
    store.tokens().revoke(revoked).await.expect("revoke");
    let tokens = store.tokens();

    assert_eq!(tokens.purge_expired(via_offset(start, 5 * 3600 + 1800), 2).await.expect("purge now"), 0);
    assert_eq!(
        tokens.count(&TokenFilter::default()).await.expect("count"),
        6,
        "nothing deleted before expiry"
    );

    // 90 minutes later, expressed at -03:00: the three one-hour tokens, two at a time.
    let later = via_offset(start + TimeDelta::minutes(90), -3 * 3600);
    assert_eq!(tokens.purge_expired(later, 2).await.expect("purge later"), 3);
    for i in 0..3 {
        assert_not_found(tokens.get_by_hash(&format!("p-hour-{i}")).await, "expired token purged");
    }
    assert!(tokens.get_by_hash("p-day").await.is_ok(), "the day token is not expired yet");
    assert!(tokens.get_by_hash("p-revoked").await.is_ok(), "revoked less than a day ago");

    // Two days later, at +09:00: the day token expired, the revocation is over a day old.
    let much_later = via_offset(start + TimeDelta::days(2), 9 * 3600);
    assert_eq!(tokens.purge_expired(much_later, 1).await.expect("purge much later"), 2);
    assert_not_found(tokens.get_by_hash("p-day").await, "day token purged");
    assert_not_found(tokens.get_by_hash("p-revoked").await, "old revocation purged");
    assert!(
        tokens.get_by_hash("p-month").await.expect("month token").revoked_at.is_none(),
        "active token kept"
    );
    assert_eq!(tokens.purge_expired(much_later, 1).await.expect("purge again"), 0);
}

/// Purge keeps a rotated token while its family has a live token: rotated A → B, a purge at
/// a `now` past A's expiry and revocation grace but before B's expiry keeps A, so a replay
/// of A is still `TokenReused` and revokes B. Once every token of a family is dead
/// (revoked past the grace, or expired), purge deletes them all.
pub async fn tokens_purge_keeps_rotated_tokens_of_live_families(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let tokens = store.tokens();
    let start = now();
    issue(store, ana, "web", "k-a", TimeDelta::hours(1)).await;
    tokens.rotate("k-a", "k-b", TimeDelta::days(30)).await.expect("rotate k-a");
    issue(store, ana, "web", "m-a", TimeDelta::hours(1)).await;
    tokens.rotate("m-a", "m-b", TimeDelta::hours(2)).await.expect("rotate m-a");
    tokens.rotate("m-b", "m-c", TimeDelta::hours(3)).await.expect("rotate m-b");

    // Ten days on: k-a expired and was revoked nine days before, but k-b lives; the m
    // family is wholly expired and revoked.
    let later = via_offset(start + TimeDelta::days(10), 2 * 3600);
    assert_eq!(tokens.purge_expired(later, 1).await.expect("purge"), 3, "the dead family only");
    for hash in ["m-a", "m-b", "m-c"] {
        assert_not_found(tokens.get_by_hash(hash).await, "dead family purged");
    }
    assert!(tokens.get_by_hash("k-a").await.expect("k-a kept").revoked_at.is_some());
    assert_reused(tokens.rotate("k-a", "k-x", TimeDelta::hours(1)).await, "replay of the kept token");
    assert!(tokens.get_by_hash("k-b").await.expect("k-b").revoked_at.is_some(), "replay revoked k-b");

    // The family is now dead: revoked within the day, kept until the grace is over.
    assert_eq!(tokens.purge_expired(now(), 0).await.expect("purge now"), 0, "grace not over");
    assert_eq!(tokens.purge_expired(start + TimeDelta::days(2), 0).await.expect("purge"), 2, "both gone");
    assert_eq!(tokens.count(&TokenFilter::default()).await.expect("count"), 0);
}

/// Rounds of each race below: enough to have hit the PostgreSQL READ COMMITTED gap (5% and
/// 14% of rounds before the fix), few enough to stay quick on every engine.
const RACE_ROUNDS: usize = 60;

/// `rotate` racing `revoke_all_by_user` (two tasks released together), round after round:
/// once both returned, no token of the user is active — the rotation either lost or its
/// successor was revoked (a revocation that returns after a rotation committed revokes the
/// successor; one that ran first makes the rotation lose).
pub async fn tokens_rotation_racing_revoke_all_by_user_leaves_nothing_active(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let active = TokenFilter { user_id: Some(ana), status: Some(TokenStatus::Active), ..Default::default() };
    for i in 0..RACE_ROUNDS {
        let (old, new) = (format!("race-{i}"), format!("race-{i}-next"));
        issue(store, ana, "web", &old, TimeDelta::hours(1)).await;
        let tokens = store.tokens();
        let rotation = tokio::spawn(async move { tokens.rotate(&old, &new, TimeDelta::hours(1)).await });
        let tokens = store.tokens();
        let revocation = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tokens.revoke_all_by_user(ana, None).await
        });
        let rotated = rotation.await.expect("rotation task");
        revocation.await.expect("revocation task").expect("revoke_all_by_user");
        if let Ok(successor) = &rotated {
            let successor = store.tokens().get_by_id(successor.id).await.expect("successor");
            assert!(successor.revoked_at.is_some(), "round {i}: the successor survived the revocation");
        }
        assert_eq!(store.tokens().count(&active).await.expect("count"), 0, "round {i}: a token is active");
    }
}

/// A legitimate rotation of T1 racing a replay of its rotated parent T0 (reuse, which
/// revokes the family), round after round: the replay is `TokenReused`, and once both
/// returned no token of the family is active — the rotation lost, or its successor T2 was
/// revoked with the family.
pub async fn tokens_rotation_racing_a_replay_of_its_parent_leaves_the_family_revoked(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let active = TokenFilter { user_id: Some(ana), status: Some(TokenStatus::Active), ..Default::default() };
    for i in 0..RACE_ROUNDS {
        let (t0, t1, t2) = (format!("r{i}-0"), format!("r{i}-1"), format!("r{i}-2"));
        issue(store, ana, "web", &t0, TimeDelta::hours(1)).await;
        store.tokens().rotate(&t0, &t1, TimeDelta::hours(1)).await.expect("rotate T0");
        // The replay must start after T0's rotation committed (else it may be a concurrent
        // loser, `Conflict`): a pause, not a timing assertion.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let tokens = store.tokens();
        let rotation = tokio::spawn(async move { tokens.rotate(&t1, &t2, TimeDelta::hours(1)).await });
        let tokens = store.tokens();
        let replay = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tokens.rotate(&t0, &format!("{t0}-replayed"), TimeDelta::hours(1)).await
        });
        let rotated = rotation.await.expect("rotation task");
        assert_reused(replay.await.expect("replay task"), "a replay of the rotated T0");
        if let Ok(successor) = &rotated {
            let successor = store.tokens().get_by_id(successor.id).await.expect("successor");
            assert!(successor.revoked_at.is_some(), "round {i}: T2 survived the family revocation");
        }
        assert_eq!(store.tokens().count(&active).await.expect("count"), 0, "round {i}: a token is active");
    }
}

/// Every `purge_expired` (refresh tokens, sessions, e-mail tokens, trusted devices) takes
/// `batch_size` `u64::MAX` (capped to `MAX_PURGE_BATCH`, no driver overflow) and deletes
/// exactly the expired rows.
pub async fn purge_expired_with_batch_size_u64_max_is_capped_on_every_repository(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let t0 = now();
    let later = t0 + TimeDelta::hours(2);
    issue(store, ana, "web", "purge-soon", TimeDelta::hours(1)).await;
    issue(store, ana, "web", "purge-later", TimeDelta::hours(5)).await;
    let sessions = store.sessions();
    sessions
        .create(crate::model::CreateSessionInput::new(ana, "soon", t0 + TimeDelta::hours(1)))
        .await
        .expect("session soon");
    sessions
        .create(crate::model::CreateSessionInput::new(ana, "later", t0 + TimeDelta::hours(5)))
        .await
        .expect("session later");
    let email = store.email_tokens();
    let kind = crate::model::EmailTokenKind::Verification;
    email.create(kind, ana, "e-soon", "ana@example.com", TimeDelta::hours(1)).await.expect("email soon");
    email.create(kind, ana, "e-later", "ana@example.com", TimeDelta::hours(5)).await.expect("email later");
    let mfa = store.mfa();
    mfa.add_trusted_device(ana, "d-soon", t0 + TimeDelta::hours(1)).await.expect("device soon");
    mfa.add_trusted_device(ana, "d-later", t0 + TimeDelta::hours(5)).await.expect("device later");

    assert_eq!(store.tokens().purge_expired(later, u64::MAX).await.expect("tokens"), 1, "refresh tokens");
    assert_eq!(sessions.purge_expired(later, u64::MAX).await.expect("sessions"), 1, "sessions");
    assert_eq!(email.purge_expired(later, u64::MAX).await.expect("email tokens"), 1, "email tokens");
    assert_eq!(mfa.purge_expired(later, u64::MAX).await.expect("mfa"), 1, "trusted devices");
    assert!(store.tokens().get_by_hash("purge-later").await.is_ok(), "the live refresh token stays");
    assert!(mfa.is_trusted_device(ana, "d-later").await.expect("trusted"), "the live device stays");
}

/// Bulk revocations of a busy client are not starved by new logins: while three tasks keep
/// issuing tokens for the client, each `revoke_all_by_client` succeeds (tokens issued after
/// the call began are not its business), and every token issued before it began is revoked.
pub async fn tokens_revoke_all_by_client_succeeds_while_logins_continue(store: &DataPlane) {
    let ana = user(store, "ana@example.com").await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut logins = Vec::new();
    for task in 0..3 {
        let tokens = store.tokens();
        let done = done.clone();
        logins.push(tokio::spawn(async move {
            let mut n = 0u32;
            while !done.load(std::sync::atomic::Ordering::Relaxed) && n < 400 {
                let input = CreateRefreshTokenInput {
                    user_id: ana,
                    client_id: "web".into(),
                    token_hash: format!("busy-{task}-{n}"),
                    ttl: TimeDelta::hours(1),
                };
                tokens.create(input).await.expect("login");
                n += 1;
            }
        }));
    }
    for round in 0..10 {
        let before = issue(store, ana, "web", &format!("before-{round}"), TimeDelta::hours(1)).await;
        store.tokens().revoke_all_by_client("web").await.unwrap_or_else(|e| panic!("round {round}: {e}"));
        let token = store.tokens().get_by_id(before).await.expect("token issued before");
        assert!(token.revoked_at.is_some(), "round {round}: a token issued before the call survived");
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for login in logins {
        login.await.expect("login task");
    }
}
