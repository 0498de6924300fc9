//! Cases of [`SessionRepository`](crate::repository::SessionRepository): creation, activity,
//! revocation, filtered listings, purge and stats.

use chrono::TimeDelta;
use uuid::Uuid;

use super::support::{assert_conflict, assert_not_found, minutes_from_now, new_user, via_offset};
use crate::conformance::DataPlane;
use crate::model::{CreateSessionInput, SessionFilter, SessionStatus};

fn full_input(user_id: Uuid, hash: &str) -> CreateSessionInput {
    CreateSessionInput {
        ip_address: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
        device_type: Some("desktop".into()),
        browser: Some("Firefox".into()),
        os: Some("Linux".into()),
        country_code: Some("AR".into()),
        country: Some("Argentina".into()),
        city: Some("Córdoba".into()),
        ..CreateSessionInput::new(user_id, hash, minutes_from_now(60))
    }
}

fn hashes_of(sessions: &[crate::model::Session]) -> Vec<String> {
    sessions.iter().map(|s| s.session_id_hash.clone()).collect()
}

/// A created session is read back by its hash with every field, active and unrevoked.
pub async fn sessions_create_then_get_returns_every_field(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let input = full_input(ana, "sess-1");
    let created = sessions.create(input.clone()).await.expect("create");
    assert_eq!(created.user_id, ana);
    assert_eq!(created.session_id_hash, "sess-1");
    assert_eq!(created.ip_address, input.ip_address);
    assert_eq!(created.user_agent, input.user_agent);
    assert_eq!(created.device_type, input.device_type);
    assert_eq!(created.browser, input.browser);
    assert_eq!(created.os, input.os);
    assert_eq!(created.country_code, input.country_code);
    assert_eq!(created.country, input.country);
    assert_eq!(created.city, input.city);
    assert_eq!(created.expires_at, input.expires_at);
    assert_eq!(created.last_activity, created.created_at);
    assert_eq!(created.revoked_at, None);
    assert_eq!(created.revoked_by, None);
    assert_eq!(created.revoke_reason, None);
    assert_eq!(sessions.get("sess-1").await.expect("get"), created);
}

/// Creating a session with a known hash is `Conflict`, for an unknown user `NotFound`;
/// the existing session is unchanged.
pub async fn sessions_create_rejects_known_hash_and_unknown_user(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    let original = sessions.create(full_input(ana, "dup")).await.expect("create");
    assert_conflict(sessions.create(CreateSessionInput::new(bob, "dup", minutes_from_now(5))).await, "dup");
    assert_not_found(
        sessions.create(CreateSessionInput::new(Uuid::now_v7(), "orphan", minutes_from_now(5))).await,
        "unknown user",
    );
    assert_eq!(sessions.get("dup").await.expect("get"), original);
    assert_not_found(sessions.get("orphan").await, "refused session not stored");
}

/// Reading, touching or revoking an unknown hash is `NotFound`.
pub async fn sessions_calls_on_unknown_hash_are_not_found(store: &DataPlane) {
    let sessions = store.sessions();
    assert_not_found(sessions.get("ghost").await, "get");
    assert_not_found(sessions.touch("ghost", crate::model::now()).await, "touch");
    assert_not_found(sessions.revoke("ghost", "admin", None).await, "revoke");
}

/// Touching records the activity time on that session only.
pub async fn sessions_touch_records_activity_on_that_session_only(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let s1 = sessions.create(full_input(ana, "s1")).await.expect("s1");
    let s2 = sessions.create(full_input(ana, "s2")).await.expect("s2");
    let at = via_offset(minutes_from_now(3), -3 * 3600);
    sessions.touch("s1", at).await.expect("touch");
    let after = sessions.get("s1").await.expect("get s1");
    assert_eq!(after.last_activity, at);
    assert_eq!(after.created_at, s1.created_at);
    assert_eq!(after.expires_at, s1.expires_at);
    assert_eq!(sessions.get("s2").await.expect("get s2"), s2);
}

/// Revoking records who, why and when; a second revocation keeps the first one; other
/// sessions stay active.
pub async fn sessions_revoke_records_who_and_why_and_keeps_the_first_revocation(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    sessions.create(full_input(ana, "s1")).await.expect("s1");
    let s2 = sessions.create(full_input(ana, "s2")).await.expect("s2");
    sessions.revoke("s1", "admin@example.com", Some("stolen laptop")).await.expect("revoke");
    let revoked = sessions.get("s1").await.expect("get");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(revoked.revoked_by.as_deref(), Some("admin@example.com"));
    assert_eq!(revoked.revoke_reason.as_deref(), Some("stolen laptop"));
    sessions.revoke("s1", "someone-else", None).await.expect("revoke again");
    assert_eq!(sessions.get("s1").await.expect("get again"), revoked);
    assert_eq!(sessions.get("s2").await.expect("s2"), s2);
}

/// Revoking all of a user's sessions revokes only that user's active ones and says how
/// many; already revoked or expired sessions are left as they were.
pub async fn sessions_revoke_all_by_user_revokes_only_that_users_active_sessions(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    sessions.create(full_input(ana, "a1")).await.expect("a1");
    sessions.create(full_input(ana, "a2")).await.expect("a2");
    sessions.create(full_input(ana, "a3")).await.expect("a3");
    sessions.revoke("a3", "user", Some("logout")).await.expect("revoke a3");
    let a3 = sessions.get("a3").await.expect("a3");
    let expired =
        sessions.create(CreateSessionInput::new(ana, "a4", minutes_from_now(-5))).await.expect("a4");
    let b1 = sessions.create(full_input(bob, "b1")).await.expect("b1");

    assert_eq!(sessions.revoke_all_by_user(ana, "admin", Some("reset")).await.expect("revoke all"), 2);
    for hash in ["a1", "a2"] {
        let s = sessions.get(hash).await.expect("get");
        assert!(s.revoked_at.is_some(), "{hash} revoked");
        assert_eq!(s.revoked_by.as_deref(), Some("admin"));
        assert_eq!(s.revoke_reason.as_deref(), Some("reset"));
    }
    assert_eq!(sessions.get("a3").await.expect("a3"), a3, "earlier revocation kept");
    assert_eq!(sessions.get("a4").await.expect("a4"), expired, "expired session left alone");
    assert_eq!(sessions.get("b1").await.expect("b1"), b1);
    assert_eq!(sessions.revoke_all_by_user(ana, "admin", None).await.expect("again"), 0);
}

/// Revoking every session of the tenant revokes each active one once.
pub async fn sessions_revoke_all_revokes_every_active_session_once(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    sessions.create(full_input(ana, "a1")).await.expect("a1");
    sessions.create(full_input(bob, "b1")).await.expect("b1");
    sessions.create(full_input(bob, "b2")).await.expect("b2");
    sessions.revoke("b2", "bob", None).await.expect("revoke b2");
    let b2 = sessions.get("b2").await.expect("b2");
    assert_eq!(sessions.revoke_all("security", Some("incident")).await.expect("revoke all"), 2);
    assert_eq!(sessions.revoke_all("security", Some("incident")).await.expect("again"), 0);
    assert_eq!(sessions.get("a1").await.expect("a1").revoked_by.as_deref(), Some("security"));
    assert_eq!(sessions.get("b2").await.expect("b2 again"), b2);
}

/// Listing filters by user, device type, status and search text, orders by most recent
/// activity, pages, and reports the total matching count.
pub async fn sessions_list_filters_orders_and_pages(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    sessions.create(full_input(ana, "a-desktop")).await.expect("a-desktop");
    let mut phone = full_input(ana, "a-phone");
    phone.device_type = Some("mobile".into());
    phone.browser = Some("Safari".into());
    phone.os = Some("iOS".into());
    phone.city = Some("Rosario".into());
    sessions.create(phone).await.expect("a-phone");
    sessions
        .create(CreateSessionInput::new(ana, "a-expired", minutes_from_now(-1)))
        .await
        .expect("a-expired");
    sessions.create(full_input(bob, "b-desktop")).await.expect("b-desktop");
    sessions.create(full_input(bob, "b-revoked")).await.expect("b-revoked");
    sessions.revoke("b-revoked", "bob", None).await.expect("revoke");

    let base = minutes_from_now(0);
    for (i, hash) in ["a-expired", "b-revoked", "a-phone", "b-desktop", "a-desktop"].iter().enumerate() {
        sessions.touch(hash, base + TimeDelta::seconds(i as i64)).await.expect("touch");
    }

    let (all, total) = sessions.list(&SessionFilter::default()).await.expect("all");
    assert_eq!(total, 5);
    assert_eq!(hashes_of(&all), vec!["a-desktop", "b-desktop", "a-phone", "b-revoked", "a-expired"]);

    let (ana_only, ana_total) =
        sessions.list(&SessionFilter { user_id: Some(ana), ..Default::default() }).await.expect("ana");
    assert_eq!(ana_total, 3);
    assert_eq!(hashes_of(&ana_only), vec!["a-desktop", "a-phone", "a-expired"]);

    let (mobile, _) = sessions
        .list(&SessionFilter { device_type: Some("mobile".into()), ..Default::default() })
        .await
        .expect("mobile");
    assert_eq!(hashes_of(&mobile), vec!["a-phone"]);

    let status = |s| SessionFilter { status: Some(s), ..Default::default() };
    let (active, active_total) = sessions.list(&status(SessionStatus::Active)).await.expect("active");
    assert_eq!(active_total, 3);
    assert_eq!(hashes_of(&active), vec!["a-desktop", "b-desktop", "a-phone"]);
    let (expired, _) = sessions.list(&status(SessionStatus::Expired)).await.expect("expired");
    assert_eq!(hashes_of(&expired), vec!["a-expired"]);
    let (revoked, _) = sessions.list(&status(SessionStatus::Revoked)).await.expect("revoked");
    assert_eq!(hashes_of(&revoked), vec!["b-revoked"]);

    let search = |s: &str| SessionFilter { search: Some(s.into()), ..Default::default() };
    assert_eq!(hashes_of(&sessions.list(&search("safari")).await.expect("browser").0), vec!["a-phone"]);
    assert_eq!(hashes_of(&sessions.list(&search("ROSARIO")).await.expect("city").0), vec!["a-phone"]);
    assert_eq!(sessions.list(&search("203.0.113")).await.expect("ip").1, 4);
    assert_eq!(sessions.list(&search("no such thing")).await.expect("none").1, 0);

    let page = |page, page_size| SessionFilter { page, page_size, ..Default::default() };
    let (p1, t1) = sessions.list(&page(1, 2)).await.expect("page 1");
    let (p0, _) = sessions.list(&page(0, 2)).await.expect("page 0 is page 1");
    let (p3, t3) = sessions.list(&page(3, 2)).await.expect("page 3");
    assert_eq!((t1, t3), (5, 5));
    assert_eq!(hashes_of(&p1), vec!["a-desktop", "b-desktop"]);
    assert_eq!(p0, p1);
    assert_eq!(hashes_of(&p3), vec!["a-expired"]);
}

/// Purging sessions deletes nothing before they expire and exactly the expired ones after,
/// in batches, whatever the UTC offset the caller's `now` was built at.
pub async fn sessions_purge_deletes_exactly_the_expired_whatever_the_offset(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let t0 = crate::model::now();
    for i in 0..5 {
        let input = CreateSessionInput::new(ana, format!("soon-{i}"), t0 + TimeDelta::minutes(10 + i));
        sessions.create(input).await.expect("create soon");
    }
    sessions.revoke("soon-4", "ana", None).await.expect("revoked ones are purged too once expired");
    let later = sessions
        .create(CreateSessionInput::new(ana, "later", t0 + TimeDelta::hours(5)))
        .await
        .expect("later");

    let early = via_offset(t0 + TimeDelta::minutes(5), 9 * 3600);
    assert_eq!(sessions.purge_expired(early, 2).await.expect("purge early"), 0);
    assert_eq!(sessions.list(&SessionFilter::default()).await.expect("list").1, 6);

    let after = via_offset(t0 + TimeDelta::hours(1), -(4 * 3600 + 1800));
    assert_eq!(sessions.purge_expired(after, 2).await.expect("purge"), 5);
    assert_eq!(sessions.purge_expired(after, 2).await.expect("purge again"), 0);
    assert_not_found(sessions.get("soon-0").await, "purged session");
    assert_eq!(sessions.get("later").await.expect("kept"), later);
}

/// Stats count active sessions per device and country, and sessions created today.
pub async fn sessions_stats_count_active_sessions_by_device_and_country(store: &DataPlane) {
    let sessions = store.sessions();
    let ana = new_user(store, "ana@example.com").await;
    let day = crate::model::now().date_naive();
    sessions.create(full_input(ana, "d1")).await.expect("d1");
    sessions.create(full_input(ana, "d2")).await.expect("d2");
    let mut phone = full_input(ana, "m1");
    phone.device_type = Some("mobile".into());
    phone.country_code = Some("UY".into());
    sessions.create(phone).await.expect("m1");
    sessions.create(CreateSessionInput::new(ana, "bare", minutes_from_now(60))).await.expect("bare");
    sessions.create(full_input(ana, "gone")).await.expect("gone");
    sessions.revoke("gone", "ana", None).await.expect("revoke");
    sessions.create(CreateSessionInput::new(ana, "old", minutes_from_now(-1))).await.expect("old");

    let stats = sessions.stats().await.expect("stats");
    assert_eq!(stats.total_active, 4);
    assert_eq!(stats.by_device.get("desktop"), Some(&2));
    assert_eq!(stats.by_device.get("mobile"), Some(&1));
    assert_eq!(stats.by_device.get("unknown"), Some(&1));
    assert_eq!(stats.by_device.values().sum::<u64>(), 4);
    assert_eq!(stats.by_country.get("AR"), Some(&2));
    assert_eq!(stats.by_country.get("UY"), Some(&1));
    assert_eq!(stats.by_country.get("unknown"), Some(&1));
    if crate::model::now().date_naive() == day {
        assert_eq!(stats.total_today, 6, "every session created since midnight UTC");
    }
}
