//! Cases of the `IdentityRepository`: social logins (upsert, also concurrent), the
//! verified-e-mail rule of linking (account takeover), linking, unlinking with the
//! last-identity rule, and claims.

use std::collections::BTreeSet;

use serde_json::json;

use super::support::{assert_conflict, assert_invalid, assert_link_required, assert_not_found, phc};
use crate::conformance::DataPlane;
use crate::error::StoreError;
use crate::model::{CreateUserInput, SocialIdentityInput, new_id};

fn login(provider: &str, provider_user_id: &str, email: Option<&str>) -> SocialIdentityInput {
    SocialIdentityInput {
        provider: provider.into(),
        provider_user_id: provider_user_id.into(),
        email: email.map(Into::into),
        email_verified: true,
        name: Some(format!("{provider} user")),
        picture: None,
        raw_claims: json!({"sub": provider_user_id}),
    }
}

/// A first social login creates the user and the identity; the next login of the same
/// identity updates it (claims, name) and reports no new user.
pub async fn identities_upsert_creates_user_then_updates_the_same_identity(store: &DataPlane) {
    let ids = store.identities();
    let (user_id, created) =
        ids.upsert(login("google", "g-1", Some("Mia@Example.com"))).await.expect("first login");
    assert!(created, "first login creates the user");
    let (user, password) = store.users().get_by_email("mia@example.com").await.expect("created user");
    assert_eq!(user.id, user_id);
    assert_eq!(user.email, "Mia@Example.com");
    assert!(user.email_verified, "verified by the provider");
    assert!(password.is_none(), "no password identity for a social user");
    let first = ids.get_by_provider("google", "g-1").await.expect("identity");
    assert_eq!(first.user_id, user_id);
    assert_eq!(first.raw_claims, json!({"sub": "g-1"}));

    let mut again = login("google", "g-1", Some("mia@example.com"));
    again.name = Some("Mia R.".into());
    again.raw_claims = json!({"sub": "g-1", "hd": "example.com"});
    let (same_user, created_again) = ids.upsert(again).await.expect("second login");
    assert_eq!(same_user, user_id);
    assert!(!created_again);
    let second = ids.get_by_provider("google", "g-1").await.expect("identity");
    assert_eq!(second.id, first.id, "same identity row");
    assert_eq!(second.name.as_deref(), Some("Mia R."));
    assert_eq!(second.raw_claims, json!({"sub": "g-1", "hd": "example.com"}));
    assert_eq!(second.created_at, first.created_at);
    assert!(second.updated_at >= first.updated_at);
    assert_eq!(ids.list_by_user(user_id).await.expect("list").len(), 1);
    assert_eq!(store.users().count(None).await.expect("count"), 1);
}

/// A social login whose e-mail matches an existing user in another letter case links to
/// that user instead of creating one, when the provider and the account both verified it.
pub async fn identities_upsert_links_to_the_user_with_the_same_email_in_any_case(store: &DataPlane) {
    let (ned, _) = store
        .users()
        .create(CreateUserInput::new("Ned@Example.com").password_hash(phc('n')).email_verified(true))
        .await
        .expect("create");
    let (user_id, created) =
        store.identities().upsert(login("github", "gh-7", Some("NED@example.COM"))).await.expect("upsert");
    assert_eq!(user_id, ned.id);
    assert!(!created);
    assert_eq!(store.users().count(None).await.expect("count"), 1);
    let (_, password) = store.users().get_by_email("ned@example.com").await.expect("ned");
    assert_eq!(password.and_then(|p| p.password_hash).as_deref(), Some(phc('n').as_str()), "password kept");
    let linked = store.identities().list_by_user(ned.id).await.expect("list");
    assert_eq!(linked.iter().map(|i| i.provider.as_str()).collect::<Vec<_>>(), vec!["github"]);
}

/// Account takeover through an unverified provider e-mail: a new identity whose provider
/// does not vouch for the e-mail of an existing (verified) account is not linked. The call
/// is `LinkRequired`, and nothing is created: no identity, no user, the account's identities
/// unchanged. The explicit `link` of the signed-in user still works afterwards, and from
/// then on the identity logs in.
pub async fn identities_upsert_refuses_to_link_an_unverified_provider_email(store: &DataPlane) {
    let users = store.users();
    let ids = store.identities();
    let (vic, _) = users
        .create(CreateUserInput::new("vic@example.com").password_hash(phc('v')).email_verified(true))
        .await
        .expect("verified account");
    ids.link(vic.id, login("github", "gh-vic", None)).await.expect("vic's own identity");
    let before = ids.list_by_user(vic.id).await.expect("list");

    let mut attacker = login("evil-idp", "e-1", Some("VIC@example.com"));
    attacker.email_verified = false;
    assert_link_required(ids.upsert(attacker.clone()).await, "unverified provider e-mail");
    assert_not_found(ids.get_by_provider("evil-idp", "e-1").await, "no identity created");
    assert_eq!(users.count(None).await.expect("count"), 1, "no user created");
    assert_eq!(ids.list_by_user(vic.id).await.expect("list"), before, "identities unchanged");
    let (still, _) = users.get_by_email("vic@example.com").await.expect("vic");
    assert_eq!(still, vic, "account unchanged");

    // Vic signs in and links the identity on purpose: allowed, and it logs in from then on.
    let linked = ids.link(vic.id, attacker.clone()).await.expect("explicit link after LinkRequired");
    assert_eq!(linked.user_id, vic.id);
    assert_eq!(ids.upsert(attacker).await.expect("login"), (vic.id, false));
}

/// The reverse takeover: someone pre-registers an account with the victim's e-mail and never
/// verifies it; the victim's later social sign-in (provider-verified) must not fall into that
/// account. `LinkRequired`, nothing created; and when neither side is verified, the same.
pub async fn identities_upsert_refuses_to_link_to_an_account_with_an_unverified_email(store: &DataPlane) {
    let users = store.users();
    let ids = store.identities();
    let (squatter, _) = users
        .create(CreateUserInput::new("wes@example.com").password_hash(phc('w')))
        .await
        .expect("unverified");
    assert!(!squatter.email_verified);
    assert_link_required(
        ids.upsert(login("google", "g-wes", Some("wes@example.com"))).await,
        "verified provider",
    );
    let mut neither = login("gitlab", "gl-wes", Some("Wes@Example.com"));
    neither.email_verified = false;
    assert_link_required(ids.upsert(neither).await, "neither side verified");
    assert_not_found(ids.get_by_provider("google", "g-wes").await, "no identity");
    assert_not_found(ids.get_by_provider("gitlab", "gl-wes").await, "no identity");
    assert!(ids.list_by_user(squatter.id).await.expect("list").is_empty());
    assert_eq!(users.count(None).await.expect("count"), 1, "no user created");

    // Once the account's owner verifies the e-mail, the verified sign-in links.
    users.set_email_verified(squatter.id, true).await.expect("verify");
    assert_eq!(
        ids.upsert(login("google", "g-wes", Some("wes@example.com"))).await.expect("now linked"),
        (squatter.id, false)
    );
}

/// An identity that exists logs in whatever the verification flags of this login and of the
/// account: the rule only guards the first link.
pub async fn identities_existing_identity_logs_in_whatever_the_verification_flags(store: &DataPlane) {
    let ids = store.identities();
    let mut first = login("apple", "ap-xia", Some("xia@example.com"));
    first.email_verified = false;
    let (xia, created) = ids.upsert(first.clone()).await.expect("no account with that e-mail: created");
    assert!(created);
    let (user, _) = store.users().get_by_email("xia@example.com").await.expect("xia");
    assert!(!user.email_verified, "the new user's verification comes from the provider");
    assert_eq!(ids.upsert(first.clone()).await.expect("login, unverified"), (xia, false));
    let mut verified = first.clone();
    verified.email_verified = true;
    assert_eq!(ids.upsert(verified).await.expect("login, verified"), (xia, false));
    store.users().set_email_verified(xia, false).await.expect("unverify");
    assert_eq!(ids.upsert(first).await.expect("login again"), (xia, false));
    assert_eq!(ids.list_by_user(xia).await.expect("list").len(), 1);
    assert_eq!(store.users().count(None).await.expect("count"), 1);
}

/// Provider user ids are compared byte for byte: ids differing only in letter case, in an
/// accent (or its NFC/NFD spelling) or in trailing spaces (MariaDB's PAD SPACE collations
/// would make `alice ` sign in as `alice`) are distinct identities of distinct users.
pub async fn identities_provider_user_ids_differing_in_case_or_accents_are_distinct(store: &DataPlane) {
    let ids = store.identities();
    let spellings = ["jose", "JOSE", "jos\u{e9}", "jose\u{301}", "jose ", "jose  "];
    let mut users = BTreeSet::new();
    for (i, pid) in spellings.iter().enumerate() {
        let (user, created) =
            ids.upsert(login("okta", pid, Some(&format!("p{i}@example.com")))).await.expect("upsert");
        assert!(created, "{pid:?} is a new identity");
        users.insert(user);
    }
    assert_eq!(users.len(), spellings.len());
    for (i, pid) in spellings.iter().enumerate() {
        let identity = ids.get_by_provider("okta", pid).await.expect("its own identity");
        assert_eq!(identity.provider_user_id, *pid);
        assert_eq!(identity.email.as_deref(), Some(format!("p{i}@example.com").as_str()));
    }
}

/// An upsert without provider, provider user id, or (for a new user) e-mail is refused,
/// and nothing is stored.
pub async fn identities_upsert_rejects_missing_provider_id_or_email(store: &DataPlane) {
    let ids = store.identities();
    assert_invalid(ids.upsert(login("", "x", Some("a@example.com"))).await, "empty provider");
    assert_invalid(ids.upsert(login("google", " ", Some("a@example.com"))).await, "empty provider user id");
    assert_invalid(ids.upsert(login("google", "g-9", None)).await, "no e-mail for a new user");
    assert_invalid(ids.upsert(login("google", "g-9", Some("not-an-email"))).await, "malformed e-mail");
    assert_eq!(store.users().count(None).await.expect("count"), 0);
    assert_not_found(ids.get_by_provider("google", "g-9").await, "refused identity");
}

/// Fifty concurrent first logins of one identity create exactly one user and one identity;
/// every call gets that user's id.
pub async fn identities_concurrent_upserts_of_one_identity_create_one_user(store: &DataPlane) {
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let ids = store.identities();
        tasks.push(tokio::spawn(
            async move { ids.upsert(login("apple", "a-1", Some("ona@example.com"))).await },
        ));
    }
    let mut user_ids = BTreeSet::new();
    let mut created = 0;
    for task in tasks {
        let (user_id, is_new) = task.await.expect("task").expect("upsert");
        user_ids.insert(user_id);
        created += usize::from(is_new);
    }
    assert_eq!(user_ids.len(), 1, "one user for every caller");
    assert_eq!(created, 1, "exactly one caller created it");
    assert_eq!(store.users().count(None).await.expect("count"), 1);
    let user_id = user_ids.into_iter().next().expect("user id");
    assert_eq!(store.identities().list_by_user(user_id).await.expect("list").len(), 1);
}

/// Fifty concurrent first logins of one identity whose e-mail belongs to a verified account
/// link exactly one identity to that account and create no user; fifty concurrent first
/// logins through an unverified provider e-mail all get `LinkRequired` and leave nothing.
pub async fn identities_concurrent_first_logins_link_once_or_not_at_all(store: &DataPlane) {
    let (yul, _) = store
        .users()
        .create(CreateUserInput::new("yul@example.com").email_verified(true))
        .await
        .expect("verified account");
    let mut linking = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..50 {
        let ids = store.identities();
        linking.push(tokio::spawn(async move {
            ids.upsert(login("google", "g-yul", Some("yul@example.com"))).await
        }));
        let ids = store.identities();
        let mut unverified = login("evil-idp", "e-yul", Some("YUL@example.com"));
        unverified.email_verified = false;
        refused.push(tokio::spawn(async move { ids.upsert(unverified).await }));
    }
    for task in linking {
        assert_eq!(task.await.expect("task").expect("upsert"), (yul.id, false));
    }
    for task in refused {
        assert_link_required(task.await.expect("task"), "unverified provider e-mail");
    }
    let linked = store.identities().list_by_user(yul.id).await.expect("list");
    assert_eq!(linked.iter().map(|i| i.provider.as_str()).collect::<Vec<_>>(), vec!["google"]);
    assert_not_found(store.identities().get_by_provider("evil-idp", "e-yul").await, "nothing linked");
    assert_eq!(store.users().count(None).await.expect("count"), 1);
}

/// `link` attaches an identity to a user (again: an update), is a `Conflict` when the
/// identity belongs to another user, and `NotFound` for an unknown user.
pub async fn identities_link_attaches_updates_and_refuses_another_users_identity(store: &DataPlane) {
    let users = store.users();
    let ids = store.identities();
    let (pia, _) = users.create(CreateUserInput::new("pia@example.com")).await.expect("pia");
    let (quin, _) = users.create(CreateUserInput::new("quin@example.com")).await.expect("quin");
    let linked = ids.link(pia.id, login("gitlab", "gl-1", Some("pia@work.com"))).await.expect("link");
    assert_eq!(linked.user_id, pia.id);
    assert_eq!(linked.provider, "gitlab");
    assert_eq!(linked.email.as_deref(), Some("pia@work.com"));
    assert_eq!(ids.list_by_user(pia.id).await.expect("list"), vec![linked.clone()]);

    assert_conflict(ids.link(quin.id, login("gitlab", "gl-1", None)).await, "another user's identity");
    assert!(ids.list_by_user(quin.id).await.expect("quin's list").is_empty());
    assert_eq!(ids.get_by_provider("gitlab", "gl-1").await.expect("still pia's").user_id, pia.id);

    let mut again = login("gitlab", "gl-1", Some("pia@new.com"));
    again.name = Some("Pia".into());
    let relinked = ids.link(pia.id, again).await.expect("link again");
    assert_eq!(relinked.id, linked.id);
    assert_eq!(relinked.name.as_deref(), Some("Pia"));
    assert_eq!(relinked.email.as_deref(), Some("pia@new.com"));

    assert_not_found(ids.link(new_id(), login("gitlab", "gl-2", None)).await, "unknown user");
    assert_not_found(ids.get_by_provider("gitlab", "gl-2").await, "not linked to anyone");
    // The same provider user id at another provider is another identity.
    ids.link(quin.id, login("bitbucket", "gl-1", None)).await.expect("other provider, same id");
}

/// `unlink` refuses to remove a user's only way to log in (`LastIdentity`) and leaves it;
/// with a second identity or a password it removes only the one asked for.
pub async fn identities_unlink_refuses_the_last_way_to_log_in(store: &DataPlane) {
    let ids = store.identities();
    let (rae, _) = ids.upsert(login("google", "g-rae", Some("rae@example.com"))).await.expect("social user");
    match ids.unlink(rae, "google").await {
        Err(StoreError::LastIdentity) => {}
        other => panic!("unlinking the only identity: expected LastIdentity, got {other:?}"),
    }
    assert_eq!(ids.list_by_user(rae).await.expect("kept").len(), 1);

    ids.link(rae, login("github", "gh-rae", None)).await.expect("second identity");
    ids.unlink(rae, "google").await.expect("unlink one of two");
    let left: Vec<_> = ids.list_by_user(rae).await.expect("list").into_iter().map(|i| i.provider).collect();
    assert_eq!(left, vec!["github".to_string()]);
    assert_not_found(ids.unlink(rae, "google").await, "already unlinked");
    assert_not_found(ids.unlink(rae, "twitter").await, "never linked");
    assert_not_found(ids.unlink(new_id(), "github").await, "unknown user");

    let (sam, _) = store
        .users()
        .create(CreateUserInput::new("sam@example.com").password_hash(phc('s')))
        .await
        .expect("password user");
    ids.link(sam.id, login("google", "g-sam", None)).await.expect("link");
    ids.unlink(sam.id, "google").await.expect("the password remains a way to log in");
    assert!(ids.list_by_user(sam.id).await.expect("list").is_empty());

    let (tia, _) = store.users().create(CreateUserInput::new("tia@example.com")).await.expect("no password");
    ids.link(tia.id, login("google", "g-tia", None)).await.expect("link");
    match ids.unlink(tia.id, "google").await {
        Err(StoreError::LastIdentity) => {}
        other => panic!("a password identity without a hash is no way to log in: got {other:?}"),
    }
}

/// `update_claims` replaces the claims of one identity and leaves the others; an unknown
/// identity is `NotFound`; unknown providers and users read as `NotFound` / empty.
pub async fn identities_update_claims_changes_only_that_identity(store: &DataPlane) {
    let ids = store.identities();
    let (uma, _) = ids.upsert(login("google", "g-uma", Some("uma@example.com"))).await.expect("uma");
    ids.link(uma, login("github", "gh-uma", None)).await.expect("second identity");
    let google = ids.get_by_provider("google", "g-uma").await.expect("google");
    let github = ids.get_by_provider("github", "gh-uma").await.expect("github");
    ids.update_claims(google.id, json!({"sub": "g-uma", "groups": ["a", "b"]})).await.expect("update claims");
    let google_after = ids.get_by_provider("google", "g-uma").await.expect("google again");
    assert_eq!(google_after.raw_claims, json!({"sub": "g-uma", "groups": ["a", "b"]}));
    assert_eq!(google_after.name, google.name, "other fields untouched");
    assert_eq!(ids.get_by_provider("github", "gh-uma").await.expect("github again"), github);
    assert_not_found(ids.update_claims(new_id(), json!({})).await, "unknown identity");
    assert_not_found(ids.get_by_provider("google", "nobody").await, "unknown provider user");
    assert_not_found(ids.get_by_provider("myspace", "g-uma").await, "unknown provider");
    assert!(ids.list_by_user(new_id()).await.expect("unknown user").is_empty());
}
