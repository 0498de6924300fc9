//! Cases of the model's limits (`model::limits`): offsets and pages past every row,
//! times at the edges of chrono's range, over-long and NUL-bearing strings — the same answer
//! on every backend, never a panic and never `Backend`.

use std::collections::BTreeSet;

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::json;

use super::support::{assert_invalid, minutes_from_now, new_user};
use crate::conformance::DataPlane;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    CreateRefreshTokenInput, CreateSessionInput, CreateUserInput, EmailTokenKind, RoleInput, SessionFilter,
    SocialIdentityInput, Timestamp, TokenFilter, UpdateUserInput, UserFilter,
};

/// Offsets and pages no list may panic on.
const HUGE: [u64; 4] = [u64::MAX, u64::MAX / 2, i64::MAX as u64 + 1, i64::MAX as u64];

/// Instants outside what MySQL's `DATETIME` holds, and chrono's own limits.
fn extreme_times() -> Vec<Timestamp> {
    vec![
        Timestamp::MAX_UTC,
        Timestamp::MIN_UTC,
        Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).single().expect("year 10000"),
        Utc.with_ymd_and_hms(999, 12, 31, 23, 59, 59).single().expect("year 999"),
        Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).single().expect("year -1"),
    ]
}

/// Panics unless `result` is `Ok` or `InvalidInput`.
#[track_caller]
fn assert_ok_or_invalid<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Ok(_) | Err(StoreError::InvalidInput { .. }) => {}
        Err(other) => panic!("{what}: expected Ok or InvalidInput, got {other:?}"),
    }
}

/// A list whose offset or page lies past every row is an empty page (totals still count the
/// rows), on every paged list.
pub async fn limits_lists_past_the_last_possible_row_are_empty(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    let token = CreateRefreshTokenInput {
        user_id: ana,
        client_id: "web".into(),
        token_hash: "rt-1".into(),
        ttl: TimeDelta::hours(1),
    };
    store.tokens().create(token).await.expect("token");
    store
        .sessions()
        .create(CreateSessionInput::new(ana, "sess-1", minutes_from_now(60)))
        .await
        .expect("session");
    store.consents().upsert(ana, "web", &BTreeSet::from(["openid".to_string()])).await.expect("consent");
    for n in HUGE {
        for limit in [0, 1, 200, u64::MAX] {
            let users = store.users().list(&UserFilter { limit, offset: n, search: None }).await;
            assert!(users.expect("users.list").is_empty(), "users.list offset {n}");
            let (consents, total) =
                store.consents().list_all(limit, n, false).await.expect("consents.list_all");
            assert!(consents.is_empty(), "consents.list_all offset {n}");
            assert_eq!(total, 1, "consents.list_all total at offset {n}");
            let filter = TokenFilter { page: n, page_size: limit, ..Default::default() };
            assert!(store.tokens().list(&filter).await.expect("tokens.list").is_empty(), "tokens page {n}");
            assert_eq!(store.tokens().count(&filter).await.expect("tokens.count"), 1);
            let filter = SessionFilter { page: n, page_size: limit, ..Default::default() };
            let (sessions, total) = store.sessions().list(&filter).await.expect("sessions.list");
            assert!(sessions.is_empty(), "sessions page {n}");
            assert_eq!(total, 1, "sessions.list total at page {n}");
        }
    }
    // The first page is still served.
    let first = store.users().list(&UserFilter { limit: u64::MAX, offset: 0, search: None }).await;
    assert_eq!(first.expect("first page").len(), 1);
}

/// `purge_expired` with `now` at chrono's limits or outside what every engine stores is `Ok`
/// (the time is clamped: everything stored is before the latest and after the earliest), and
/// a purge at the latest time deletes what expired.
pub async fn limits_purges_at_extreme_times_are_ok_and_never_backend(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    for t in extreme_times() {
        let what = format!("purge at {t:?}");
        assert_ok_or_invalid(store.tokens().purge_expired(t, 0).await, &format!("tokens {what}"));
        assert_ok_or_invalid(store.mfa().purge_expired(t, 0).await, &format!("mfa {what}"));
        assert_ok_or_invalid(store.sessions().purge_expired(t, 0).await, &format!("sessions {what}"));
        assert_ok_or_invalid(store.email_tokens().purge_expired(t, 0).await, &format!("email {what}"));
    }
    store
        .sessions()
        .create(CreateSessionInput::new(ana, "sess-1", minutes_from_now(60)))
        .await
        .expect("session");
    let purged = store.sessions().purge_expired(Timestamp::MAX_UTC, 0).await.expect("purge at MAX_UTC");
    assert_eq!(purged, 1, "a purge at the end of time deletes the session that expires in an hour");
}

/// Every caller-given time that would be stored outside years 1000–9999 (or a ttl whose
/// expiry lands there) is `InvalidInput` on every engine, and nothing is stored.
pub async fn limits_stored_times_outside_the_storable_range_are_invalid_input(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    for t in extreme_times() {
        let what = format!("{t:?}");
        assert_invalid(
            store.users().disable(ana, "admin", None, Some(t)).await,
            &format!("disable until {what}"),
        );
        assert_invalid(
            store.mfa().add_trusted_device(ana, "dev-1", t).await,
            &format!("trusted device until {what}"),
        );
        assert_invalid(
            store.sessions().create(CreateSessionInput::new(ana, "sess-x", t)).await,
            &format!("session expiring {what}"),
        );
    }
    store
        .sessions()
        .create(CreateSessionInput::new(ana, "sess-1", minutes_from_now(60)))
        .await
        .expect("session");
    assert_invalid(store.sessions().touch("sess-1", Timestamp::MAX_UTC).await, "touch at MAX_UTC");
    for ttl in [TimeDelta::MAX, TimeDelta::days(365 * 9000)] {
        let input =
            CreateRefreshTokenInput { user_id: ana, client_id: "web".into(), token_hash: "rt-x".into(), ttl };
        assert_invalid(store.tokens().create(input).await, &format!("token ttl {ttl:?}"));
        let email = store.email_tokens();
        let created = email.create(EmailTokenKind::Verification, ana, "et-x", "ana@example.com", ttl).await;
        assert_invalid(created, &format!("e-mail token ttl {ttl:?}"));
    }
    let user = store.users().get_by_id(ana).await.expect("user");
    assert_eq!(user.disabled_at, None, "no refused disable was stored");
    assert!(!store.mfa().is_trusted_device(ana, "dev-1").await.expect("trusted?"));
    assert!(store.sessions().get("sess-x").await.is_err(), "no refused session was stored");
    assert!(store.tokens().get_by_hash("rt-x").await.is_err(), "no refused token was stored");
    let session = store.sessions().get("sess-1").await.expect("session");
    assert!(session.last_activity < minutes_from_now(1), "the refused touch changed nothing");
}

/// Strings the engines would refuse or truncate: one character past the column, far past it,
/// and a NUL (PostgreSQL refuses NUL in text and JSON).
fn hostile(max_chars: usize) -> Vec<String> {
    vec!["é".repeat(max_chars + 1), "x".repeat(70_000), "a\0b".to_string()]
}

/// Every data-plane write refuses an over-long or NUL-bearing string (and a JSON value with a
/// NUL) with `InvalidInput` before it writes, the same on every engine; nothing is stored.
pub async fn limits_overlong_and_nul_strings_are_invalid_input_on_every_write(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    let users = store.users();
    for bad in hostile(255) {
        let short = bad.chars().take(300).collect::<String>();
        let what = |f: &str| format!("{f} = {:?}…", short.chars().take(8).collect::<String>());
        assert_invalid(
            users.create(CreateUserInput::new("bob@example.com").name(bad.clone())).await,
            &what("name"),
        );
        assert_invalid(
            users.create(CreateUserInput::new("bob@example.com").source_client_id(bad.clone())).await,
            &what("source_client_id"),
        );
        let update = UpdateUserInput { given_name: Some(Some(bad.clone())), ..Default::default() };
        assert_invalid(users.update(ana, update).await, &what("update given_name"));
        assert_invalid(users.disable(ana, &bad, None, None).await, &what("disable by"));
        assert_invalid(users.enable(ana, &bad).await, &what("enable by"));

        let social = |provider: &str, id: &str| SocialIdentityInput {
            provider: provider.into(),
            provider_user_id: id.into(),
            email: Some("carol@example.com".into()),
            email_verified: true,
            name: None,
            picture: None,
            raw_claims: json!({}),
        };
        assert_invalid(store.identities().upsert(social("google", &bad)).await, &what("provider_user_id"));
        assert_invalid(store.identities().link(ana, social(&bad, "g-1")).await, &what("provider"));

        let token = |client_id: &str, hash: &str| CreateRefreshTokenInput {
            user_id: ana,
            client_id: client_id.into(),
            token_hash: hash.into(),
            ttl: TimeDelta::hours(1),
        };
        assert_invalid(store.tokens().create(token(&bad, "rt-1")).await, &what("token client_id"));
        assert_invalid(store.tokens().create(token("web", &bad)).await, &what("token hash"));

        let mfa = store.mfa();
        assert_invalid(mfa.set_recovery_codes(ana, std::slice::from_ref(&bad)).await, &what("recovery code"));
        assert_invalid(mfa.add_trusted_device(ana, &bad, minutes_from_now(60)).await, &what("device hash"));

        let consents = store.consents();
        let scopes = BTreeSet::from(["openid".to_string()]);
        assert_invalid(consents.upsert(ana, &bad, &scopes).await, &what("consent client_id"));
        assert_invalid(consents.upsert(ana, "web", &BTreeSet::from([bad.clone()])).await, &what("scope"));

        let rbac = store.rbac();
        assert_invalid(rbac.create_role(RoleInput::new(bad.clone(), ["read"])).await, &what("role name"));
        assert_invalid(rbac.create_role(RoleInput::new("viewer", [bad.clone()])).await, &what("permission"));

        let sessions = store.sessions();
        let session = CreateSessionInput {
            browser: Some(bad.clone()),
            ..CreateSessionInput::new(ana, "s-1", minutes_from_now(60))
        };
        assert_invalid(sessions.create(session).await, &what("session browser"));
        assert_invalid(
            sessions.create(CreateSessionInput::new(ana, bad.clone(), minutes_from_now(60))).await,
            &what("session hash"),
        );
        assert_invalid(sessions.revoke_all_by_user(ana, &bad, None).await, &what("revoke by"));

        let email = store.email_tokens();
        let created =
            email.create(EmailTokenKind::PasswordReset, ana, &bad, "ana@example.com", TimeDelta::hours(1));
        assert_invalid(created.await, &what("e-mail token hash"));
    }
    // TEXT columns: longer than MySQL's 65,535 bytes, or a NUL.
    for bad in ["x".repeat(70_000), "a\0b".to_string()] {
        let what = |f: &str| format!("{f} ({} bytes)", bad.len());
        let input = CreateUserInput { picture: Some(bad.clone()), ..CreateUserInput::new("bob@example.com") };
        assert_invalid(users.create(input).await, &what("picture"));
        assert_invalid(users.disable(ana, "admin", Some(&bad), None).await, &what("disable reason"));
        assert_invalid(store.mfa().upsert_totp(ana, &bad).await, &what("totp secret"));
        let session = CreateSessionInput {
            user_agent: Some(bad.clone()),
            ..CreateSessionInput::new(ana, "s-1", minutes_from_now(60))
        };
        assert_invalid(store.sessions().create(session).await, &what("user agent"));
        let role = RoleInput { description: Some(bad.clone()), ..RoleInput::new("viewer", ["read"]) };
        assert_invalid(store.rbac().create_role(role).await, &what("role description"));
    }
    // Short columns.
    let session = CreateSessionInput {
        country_code: Some("ARGENTINA".into()),
        ..CreateSessionInput::new(ana, "s-1", minutes_from_now(60))
    };
    assert_invalid(store.sessions().create(session).await, "country code of 9 characters");
    let input = CreateUserInput { locale: Some("x".repeat(36)), ..CreateUserInput::new("bob@example.com") };
    assert_invalid(users.create(input).await, "locale of 36 characters");
    // JSON: a NUL in a key or in a string, at any depth.
    for metadata in [json!({"k\u{0}": 1}), json!({"k": {"deep": ["a\u{0}"]}})] {
        let input = CreateUserInput::new("bob@example.com").metadata(metadata.clone());
        assert_invalid(users.create(input).await, "metadata with a NUL");
        let update = UpdateUserInput { custom_fields: Some(metadata.clone()), ..Default::default() };
        assert_invalid(users.update(ana, update).await, "custom fields with a NUL");
    }
    // Nothing was stored.
    assert!(users.get_by_email("bob@example.com").await.is_err(), "no refused user was stored");
    let user = users.get_by_id(ana).await.expect("ana");
    assert_eq!((user.given_name, user.disabled_at), (None, None));
    assert!(store.identities().list_by_user(ana).await.expect("identities").is_empty());
    assert_eq!(store.tokens().count(&TokenFilter::default()).await.expect("tokens"), 0);
    assert!(store.consents().list_by_user(ana, false).await.expect("consents").is_empty());
    assert!(store.rbac().list_roles().await.expect("roles").iter().all(|r| r.name != "viewer"));
    assert_eq!(store.sessions().list(&SessionFilter::default()).await.expect("sessions").1, 0);
    assert!(store.mfa().get_totp(ana).await.is_err(), "no refused TOTP secret was stored");
    assert!(!store.mfa().use_recovery_code(ana, "a\0b").await.unwrap_or(false));
}

/// Lookups by a NUL-bearing or over-long key (which the engines may refuse: PostgreSQL
/// rejects NUL in text parameters) find nothing — `NotFound`, `false`, or `InvalidInput` —
/// and are never `Backend`, on every engine.
pub async fn limits_lookups_by_hostile_keys_are_not_found_or_invalid_never_backend(store: &DataPlane) {
    #[track_caller]
    fn check<T: std::fmt::Debug>(result: StoreResult<T>, what: &str) {
        match result {
            Ok(_) | Err(StoreError::NotFound { .. }) | Err(StoreError::InvalidInput { .. }) => {}
            Err(other) => panic!("{what}: expected NotFound or InvalidInput, got {other:?}"),
        }
    }
    let ana = new_user(store, "ana@example.com").await;
    for key in ["a\0b".to_string(), "\0".to_string(), "é".repeat(300), "x".repeat(70_000)] {
        let what = |f: &str| format!("{f}({} chars)", key.chars().count());
        check(store.tokens().get_by_hash(&key).await, &what("tokens.get_by_hash"));
        check(store.tokens().revoke_all_by_client(&key).await, &what("tokens.revoke_all_by_client"));
        check(store.sessions().get(&key).await, &what("sessions.get"));
        check(store.identities().get_by_provider(&key, &key).await, &what("identities.get_by_provider"));
        check(store.identities().unlink(ana, &key).await, &what("identities.unlink"));
        check(store.rbac().get_role(&key).await, &what("rbac.get_role"));
        check(store.rbac().assign_role(ana, &key).await, &what("rbac.assign_role"));
        check(store.consents().get(ana, &key).await, &what("consents.get"));
        check(store.consents().revoke(ana, &key).await, &what("consents.revoke"));
        check(store.email_tokens().consume(EmailTokenKind::Verification, &key).await, &what("email.consume"));
        check(store.mfa().is_trusted_device(ana, &key).await, &what("mfa.is_trusted_device"));
        check(store.mfa().use_recovery_code(ana, &key).await, &what("mfa.use_recovery_code"));
        let filter =
            TokenFilter { client_id: Some(key.clone()), search: Some(key.clone()), ..Default::default() };
        check(store.tokens().list(&filter).await, &what("tokens.list"));
        let filter = SessionFilter { search: Some(key.clone()), ..Default::default() };
        check(store.sessions().list(&filter).await, &what("sessions.list"));
        let filter = UserFilter { search: Some(key.clone()), ..Default::default() };
        check(store.users().list(&filter).await, &what("users.list"));
        check(store.users().count(Some(&key)).await, &what("users.count"));
        let filter = TokenFilter { search: Some(key.clone()), ..Default::default() };
        check(store.tokens().count(&filter).await, &what("tokens.count"));
    }
}

/// The largest user the limits allow — metadata and custom fields each exactly
/// [`MAX_JSON_BYTES`](crate::model::limits::MAX_JSON_BYTES) of four-byte characters, a name of
/// 255 of them, a picture URL of [`MAX_TEXT_BYTES`](crate::model::limits::MAX_TEXT_BYTES) — is
/// created, read back unchanged
/// and updated to the same size, on every backend (a statement far past what MySQL's text
/// protocol sends, which then goes prepared).
pub async fn limits_the_largest_user_the_limits_allow_round_trips(store: &DataPlane) {
    use crate::model::limits::{MAX_JSON_BYTES, MAX_TEXT_BYTES};
    // {"k":"😀…"}: 8 bytes of syntax, 4 per emoji; padded with ASCII to the exact limit.
    let doc = |fill: char| {
        let emoji = (MAX_JSON_BYTES - 8) / 4;
        let pad = MAX_JSON_BYTES - 8 - 4 * emoji;
        let mut s: String = std::iter::repeat_n('😀', emoji).collect();
        s.extend(std::iter::repeat_n(fill, pad));
        json!({ "k": s })
    };
    let (metadata, custom) = (doc('a'), doc('b'));
    assert_eq!(serde_json::to_vec(&metadata).map(|b| b.len()).ok(), Some(MAX_JSON_BYTES));
    let users = store.users();
    let mut input = CreateUserInput::new("largest@example.com");
    input.name = Some("😀".repeat(255));
    let picture = format!("https://example.com/{}", "a".repeat(MAX_TEXT_BYTES - 20));
    input.picture = Some(picture.clone());
    input.metadata = metadata.clone();
    input.custom_fields = custom.clone();
    let (user, _) = users.create(input).await.expect("the largest user the limits allow");
    let back = users.get_by_id(user.id).await.expect("read back");
    assert_eq!(back.metadata, metadata, "metadata changed on the way");
    assert_eq!(back.custom_fields, custom, "custom fields changed on the way");
    assert_eq!(back.name.as_deref().map(|n| n.chars().count()), Some(255), "name changed on the way");
    assert_eq!(back.picture.as_deref(), Some(picture.as_str()), "picture changed on the way");
    let update =
        UpdateUserInput { metadata: Some(doc('c')), custom_fields: Some(doc('d')), ..Default::default() };
    let updated = users.update(user.id, update).await.expect("update to the same size");
    assert_eq!(updated.metadata, doc('c'));
    let back = users.get_by_id(user.id).await.expect("read back after the update");
    assert_eq!(back.custom_fields, doc('d'), "custom fields changed on the update");
}
