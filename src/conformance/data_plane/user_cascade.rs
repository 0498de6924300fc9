//! The case proving that deleting a user removes its MFA, consents, role assignments,
//! sessions and e-mail tokens, and nobody else's.

use std::collections::BTreeSet;

use chrono::TimeDelta;

use super::support::{assert_not_found, minutes_from_now, new_user};
use crate::conformance::DataPlane;
use crate::model::{CreateSessionInput, EmailTokenKind, RoleInput};

async fn give_everything(store: &DataPlane, user: uuid::Uuid, tag: &str) {
    let mfa = store.mfa();
    mfa.upsert_totp(user, &format!("enc:{tag}")).await.expect("totp");
    mfa.set_recovery_codes(user, &[format!("rc-{tag}")]).await.expect("recovery codes");
    mfa.add_trusted_device(user, &format!("dev-{tag}"), minutes_from_now(60)).await.expect("device");
    let scopes: BTreeSet<String> = ["openid".to_string()].into();
    store.consents().upsert(user, "web", &scopes).await.expect("consent");
    store.rbac().assign_role(user, "member").await.expect("role");
    store
        .sessions()
        .create(CreateSessionInput::new(user, format!("sess-{tag}"), minutes_from_now(60)))
        .await
        .expect("session");
    store
        .email_tokens()
        .create(
            EmailTokenKind::Verification,
            user,
            &format!("et-{tag}"),
            "x@example.com",
            TimeDelta::hours(1),
        )
        .await
        .expect("email token");
}

/// Deleting a user removes its TOTP, recovery codes, trusted devices, consents, role
/// assignments, sessions and e-mail tokens, and leaves another user's intact.
pub async fn users_delete_cascades_to_mfa_consents_roles_and_sessions(store: &DataPlane) {
    store.rbac().create_role(RoleInput::new("member", ["read"])).await.expect("role");
    let ana = new_user(store, "ana@example.com").await;
    let bob = new_user(store, "bob@example.com").await;
    give_everything(store, ana, "ana").await;
    give_everything(store, bob, "bob").await;

    store.users().delete(ana).await.expect("delete ana");

    let mfa = store.mfa();
    assert_not_found(mfa.get_totp(ana).await, "ana's TOTP");
    assert!(!mfa.use_recovery_code(ana, "rc-ana").await.expect("ana's recovery code"));
    assert!(!mfa.is_trusted_device(ana, "dev-ana").await.expect("ana's device"));
    assert_not_found(store.consents().get(ana, "web").await, "ana's consent");
    assert!(store.consents().list_by_user(ana, false).await.expect("ana's consents").is_empty());
    assert!(store.rbac().get_user_roles(ana).await.expect("ana's roles").is_empty());
    assert_eq!(store.rbac().role_user_count("member").await.expect("holders"), 1);
    assert_not_found(store.sessions().get("sess-ana").await, "ana's session");
    assert_not_found(
        store.email_tokens().consume(EmailTokenKind::Verification, "et-ana").await,
        "ana's token",
    );

    assert_eq!(mfa.get_totp(bob).await.expect("bob's TOTP").secret_encrypted, "enc:bob");
    assert!(mfa.use_recovery_code(bob, "rc-bob").await.expect("bob's recovery code"));
    assert!(mfa.is_trusted_device(bob, "dev-bob").await.expect("bob's device"));
    assert!(store.consents().get(bob, "web").await.expect("bob's consent").revoked_at.is_none());
    assert_eq!(store.rbac().get_user_roles(bob).await.expect("bob's roles"), vec!["member".to_string()]);
    assert_eq!(store.sessions().get("sess-bob").await.expect("bob's session").user_id, bob);
    store.email_tokens().consume(EmailTokenKind::Verification, "et-bob").await.expect("bob's token");
    assert_eq!(store.consents().list_all(10, 0, false).await.expect("all consents").1, 1);
}
