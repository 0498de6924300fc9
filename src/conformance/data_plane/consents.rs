//! Cases of [`ConsentRepository`](crate::repository::ConsentRepository): upsert as a set of
//! scopes, soft revocation, listings, and upserts that race.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::support::{assert_invalid, assert_not_found, new_user};
use crate::conformance::DataPlane;

fn scopes(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// An upserted consent is read back with its scopes, unrevoked.
pub async fn consents_upsert_then_get_returns_granted_scopes(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    let created = consents.upsert(ana, "web", &scopes(&["openid", "profile"])).await.expect("upsert");
    assert_eq!(created.user_id, ana);
    assert_eq!(created.client_id, "web");
    assert_eq!(created.scopes, scopes(&["openid", "profile"]));
    assert_eq!(created.revoked_at, None);
    assert!(created.granted_at <= created.updated_at);
    assert_eq!(consents.get(ana, "web").await.expect("get"), created);
}

/// Upserting again replaces the scopes, keeps id and grant time, and leaves the consent
/// of another client.
pub async fn consents_upsert_again_replaces_scopes_and_keeps_grant_time(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    let first = consents.upsert(ana, "web", &scopes(&["openid", "email"])).await.expect("upsert web");
    let mobile = consents.upsert(ana, "mobile", &scopes(&["openid"])).await.expect("upsert mobile");
    let second = consents.upsert(ana, "web", &scopes(&["openid", "profile"])).await.expect("upsert again");
    assert_eq!(second.id, first.id);
    assert_eq!(second.granted_at, first.granted_at);
    assert!(second.updated_at >= first.updated_at);
    assert_eq!(second.scopes, scopes(&["openid", "profile"]), "scopes replaced, not merged");
    assert_eq!(consents.get(ana, "web").await.expect("get web"), second);
    assert_eq!(consents.get(ana, "mobile").await.expect("get mobile"), mobile);
}

/// Scopes are a set: order and duplicates in the caller's list do not matter, and the same
/// set read back compares equal.
pub async fn consents_scopes_are_an_order_free_set(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    let given: BTreeSet<String> =
        ["profile", "openid", "profile", "email", "openid"].iter().map(|s| s.to_string()).collect();
    let stored = consents.upsert(ana, "web", &given).await.expect("upsert");
    assert_eq!(stored.scopes, scopes(&["email", "openid", "profile"]));
    let reversed: BTreeSet<String> =
        ["email", "profile", "openid"].iter().rev().map(|s| s.to_string()).collect();
    let again = consents.upsert(ana, "web", &reversed).await.expect("upsert same set");
    assert_eq!(again.scopes, stored.scopes);
    assert_eq!(consents.get(ana, "web").await.expect("get").scopes, scopes(&["openid", "email", "profile"]));
}

/// Revoking is a soft delete: the consent is still readable with `revoked_at`, drops out of
/// active listings, and other consents stay active.
pub async fn consents_revoke_is_a_soft_delete(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    consents.upsert(ana, "web", &scopes(&["openid"])).await.expect("upsert web");
    consents.upsert(ana, "cli", &scopes(&["openid"])).await.expect("upsert cli");
    consents.revoke(ana, "web").await.expect("revoke");
    let web = consents.get(ana, "web").await.expect("revoked consent still readable");
    assert!(web.revoked_at.is_some());
    assert_eq!(web.scopes, scopes(&["openid"]));
    let active: Vec<String> =
        consents.list_by_user(ana, true).await.expect("active").into_iter().map(|c| c.client_id).collect();
    assert_eq!(active, vec!["cli".to_string()]);
    assert_eq!(consents.list_by_user(ana, false).await.expect("all").len(), 2);
    assert_eq!(consents.get(ana, "cli").await.expect("cli").revoked_at, None);
}

/// Upserting a revoked consent clears `revoked_at` and grants the new scopes.
pub async fn consents_upsert_after_revoke_reactivates_the_consent(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    let first = consents.upsert(ana, "web", &scopes(&["openid"])).await.expect("upsert");
    consents.revoke(ana, "web").await.expect("revoke");
    let again = consents.upsert(ana, "web", &scopes(&["openid", "email"])).await.expect("re-grant");
    assert_eq!(again.id, first.id);
    assert_eq!(again.revoked_at, None);
    assert_eq!(again.scopes, scopes(&["openid", "email"]));
    assert_eq!(consents.list_by_user(ana, true).await.expect("active").len(), 1);
}

/// Reading or revoking a consent that does not exist is `NotFound`; upserting for an
/// unknown user is `NotFound`; an empty client id is `InvalidInput`. None of them writes.
pub async fn consents_missing_consent_user_or_client_id_are_refused(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    consents.upsert(ana, "web", &scopes(&["openid"])).await.expect("upsert");
    assert_not_found(consents.get(ana, "other").await, "get of another client");
    assert_not_found(consents.get(Uuid::now_v7(), "web").await, "get of an unknown user");
    assert_not_found(consents.revoke(ana, "other").await, "revoke of a missing consent");
    assert_not_found(consents.upsert(Uuid::now_v7(), "web", &scopes(&["openid"])).await, "unknown user");
    assert_invalid(consents.upsert(ana, "", &scopes(&["openid"])).await, "empty client id");
    let all = consents.list_by_user(ana, false).await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].revoked_at, None);
    assert_eq!(consents.list_all(10, 0, false).await.expect("list_all").1, 1);
}

/// A user's consents are listed oldest first, and only that user's.
pub async fn consents_list_by_user_is_oldest_first_and_per_user(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    for client in ["zeta", "alpha", "mid"] {
        consents.upsert(ana, client, &scopes(&["openid"])).await.expect("upsert ana");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    consents.upsert(bob, "alpha", &scopes(&["openid"])).await.expect("upsert bob");
    let listed: Vec<String> =
        consents.list_by_user(ana, false).await.expect("list").into_iter().map(|c| c.client_id).collect();
    assert_eq!(listed, vec!["zeta", "alpha", "mid"]);
    assert!(consents.list_by_user(Uuid::now_v7(), false).await.expect("unknown user").is_empty());
}

/// Listing all consents pages with limit and offset and reports the total matching count,
/// with or without revoked ones.
pub async fn consents_list_all_pages_and_counts(store: &DataPlane) {
    let consents = store.consents();
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    for client in ["c1", "c2", "c3"] {
        consents.upsert(ana, client, &scopes(&["openid"])).await.expect("upsert ana");
        consents.upsert(bob, client, &scopes(&["openid"])).await.expect("upsert bob");
    }
    consents.revoke(bob, "c2").await.expect("revoke");

    let (first, total) = consents.list_all(4, 0, false).await.expect("page 1");
    assert_eq!(total, 6);
    assert_eq!(first.len(), 4);
    let (rest, total_again) = consents.list_all(4, 4, false).await.expect("page 2");
    assert_eq!(total_again, 6);
    assert_eq!(rest.len(), 2);
    let mut ids: Vec<Uuid> = first.iter().chain(rest.iter()).map(|c| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "pages do not overlap");

    let (active, active_total) = consents.list_all(10, 0, true).await.expect("active");
    assert_eq!(active_total, 5);
    assert_eq!(active.len(), 5);
    assert!(active.iter().all(|c| c.revoked_at.is_none()));
}

/// A hundred tasks upserting consents of one user for a hundred different clients at once:
/// all hundred are stored.
pub async fn consents_upserted_by_100_concurrent_tasks_for_different_clients_all_persist(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let consents = store.consents();
            tokio::spawn(async move {
                consents.upsert(ana, &format!("client-{i:03}"), &scopes(&["openid", "profile"])).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked").expect("upsert");
    }
    let all = store.consents().list_by_user(ana, true).await.expect("list");
    let clients: BTreeSet<String> = all.iter().map(|c| c.client_id.clone()).collect();
    assert_eq!(all.len(), 100);
    assert_eq!(clients.len(), 100);
    assert_eq!(store.consents().list_all(200, 0, false).await.expect("list_all").1, 100);
}

/// Twenty tasks upserting the same (user, client) at once all succeed and leave exactly
/// one consent holding one of the written scope sets.
pub async fn consents_concurrent_upserts_of_one_client_leave_one_consent(store: &DataPlane) {
    let ana = new_user(store, "ana@example.com").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let consents = store.consents();
            tokio::spawn(
                async move { consents.upsert(ana, "web", &scopes(&["openid", &format!("s{i}")])).await },
            )
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked").expect("concurrent upsert of the same client");
    }
    let all = store.consents().list_by_user(ana, false).await.expect("list");
    assert_eq!(all.len(), 1, "one consent per (user, client)");
    assert_eq!(all[0].scopes.len(), 2);
    assert!(all[0].scopes.contains("openid"));
}
