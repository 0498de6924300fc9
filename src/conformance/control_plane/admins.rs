use chrono::TimeDelta;

use crate::StoreError;
use crate::conformance::ControlPlane;
use crate::model::{Admin, AdminFilter, AdminInput, AdminType, AdminUpdate, new_id, now};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn input(email: &str, admin_type: AdminType) -> AdminInput {
    AdminInput {
        email: email.into(),
        password_hash: HASH.into(),
        name: Some("Ana".into()),
        admin_type,
        assigned_tenants: vec![],
        created_by: Some("setup".into()),
    }
}

async fn admin(cp: &ControlPlane, email: &str, admin_type: AdminType) -> Admin {
    cp.admins().create(input(email, admin_type)).await.expect("create admin")
}

/// A created admin is found by id and by e-mail in any letter case.
pub async fn admins_create_get_by_id_and_email_case_insensitive(cp: &ControlPlane) {
    let created = admin(cp, "Ana@Example.com", AdminType::Global).await;
    assert_eq!(cp.admins().get_by_id(created.id).await.expect("by id"), created);
    assert_eq!(cp.admins().get_by_email("ana@example.COM").await.expect("by email"), created);
    assert!(cp.admins().get_by_id(new_id()).await.expect_err("unknown").is_not_found());
    assert!(cp.admins().get_by_email("x@example.com").await.expect_err("unknown").is_not_found());
    let err = cp.admins().create(input("not-an-email", AdminType::Global)).await.expect_err("bad email");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
    let mut empty_hash = input("b@example.com", AdminType::Global);
    empty_hash.password_hash = String::new();
    let err = cp.admins().create(empty_hash).await.expect_err("empty hash");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
}

/// E-mails are unique, case-insensitively, on create and on update.
pub async fn admins_duplicate_email_is_conflict(cp: &ControlPlane) {
    admin(cp, "ana@example.com", AdminType::Global).await;
    let err = cp.admins().create(input("ANA@example.com", AdminType::Tenant)).await.expect_err("dup");
    assert!(err.is_conflict(), "{err}");
    let bob = admin(cp, "bob@example.com", AdminType::Tenant).await;
    let change = AdminUpdate { email: Some("Ana@Example.com".into()), ..Default::default() };
    let err = cp.admins().update(bob.id, change).await.expect_err("dup on update");
    assert!(err.is_conflict(), "{err}");
}

/// `update` writes only the `Some` fields; disable and enable set and clear `disabled_at`.
pub async fn admins_update_writes_only_given_fields(cp: &ControlPlane) {
    let created = admin(cp, "ana@example.com", AdminType::Tenant).await;
    let updated = cp
        .admins()
        .update(created.id, AdminUpdate { name: Some(Some("Ana María".into())), ..Default::default() })
        .await
        .expect("update");
    assert_eq!(updated.name.as_deref(), Some("Ana María"));
    assert_eq!(updated.email, created.email);
    assert_eq!(updated.password_hash, created.password_hash);
    assert_eq!(updated.admin_type, created.admin_type);
    assert_eq!(updated.created_at, created.created_at);
    let disabled = cp
        .admins()
        .update(created.id, AdminUpdate { disabled: Some(true), ..Default::default() })
        .await
        .expect("disable");
    assert!(disabled.disabled_at.is_some());
    assert_eq!(disabled.name.as_deref(), Some("Ana María"));
    let enabled = cp
        .admins()
        .update(created.id, AdminUpdate { disabled: Some(false), ..Default::default() })
        .await
        .expect("enable");
    assert!(enabled.disabled_at.is_none());
    assert_eq!(cp.admins().get_by_id(created.id).await.expect("get"), enabled);
    let err = cp.admins().update(new_id(), AdminUpdate::default()).await.expect_err("unknown");
    assert!(err.is_not_found(), "{err}");
}

/// `list` filters by type and disabled state and pages by e-mail.
pub async fn admins_list_filters_and_pages(cp: &ControlPlane) {
    admin(cp, "c@example.com", AdminType::Global).await;
    let b = admin(cp, "b@example.com", AdminType::Tenant).await;
    admin(cp, "a@example.com", AdminType::Tenant).await;
    cp.admins()
        .update(b.id, AdminUpdate { disabled: Some(true), ..Default::default() })
        .await
        .expect("disable");
    let emails = |v: Vec<Admin>| v.into_iter().map(|a| a.email).collect::<Vec<_>>();
    let all = cp.admins().list(&AdminFilter::default()).await.expect("all");
    assert_eq!(emails(all), ["a@example.com", "b@example.com", "c@example.com"]);
    let tenant = AdminFilter { admin_type: Some(AdminType::Tenant), ..Default::default() };
    assert_eq!(emails(cp.admins().list(&tenant).await.expect("tenant")), ["a@example.com", "b@example.com"]);
    let disabled = AdminFilter { disabled: Some(true), ..Default::default() };
    assert_eq!(emails(cp.admins().list(&disabled).await.expect("disabled")), ["b@example.com"]);
    let page = AdminFilter { limit: 1, offset: 1, ..Default::default() };
    assert_eq!(emails(cp.admins().list(&page).await.expect("page")), ["b@example.com"]);
}

/// Global admins reach every tenant, tenant admins their assigned ones, disabled admins none.
pub async fn admins_tenant_access_rules(cp: &ControlPlane) {
    let t1 = super::tenants::make_tenant(cp, "tenant-1").await.id;
    let t2 = super::tenants::make_tenant(cp, "tenant-2").await.id;
    let global = admin(cp, "root@example.com", AdminType::Global).await;
    let local = admin(cp, "local@example.com", AdminType::Tenant).await;
    let admins = cp.admins();
    assert!(admins.has_access_to_tenant(global.id, t1).await.expect("global"));
    assert!(!admins.has_access_to_tenant(local.id, t1).await.expect("unassigned"));
    admins.assign_tenants(local.id, &[t1]).await.expect("assign");
    assert!(admins.has_access_to_tenant(local.id, t1).await.expect("assigned"));
    assert!(!admins.has_access_to_tenant(local.id, t2).await.expect("other tenant"));
    assert_eq!(admins.get_by_id(local.id).await.expect("get").assigned_tenants, vec![t1]);
    admins.assign_tenants(local.id, &[t2]).await.expect("reassign");
    assert!(!admins.has_access_to_tenant(local.id, t1).await.expect("replaced"));
    admins
        .update(global.id, AdminUpdate { disabled: Some(true), ..Default::default() })
        .await
        .expect("disable");
    assert!(!admins.has_access_to_tenant(global.id, t1).await.expect("disabled"));
    assert!(admins.has_access_to_tenant(new_id(), t1).await.expect_err("unknown").is_not_found());
    assert!(admins.assign_tenants(new_id(), &[t1]).await.expect_err("unknown").is_not_found());
}

/// `touch_last_seen` records a time; unknown admins are `NotFound`.
pub async fn admins_touch_last_seen(cp: &ControlPlane) {
    let a = admin(cp, "ana@example.com", AdminType::Global).await;
    assert!(a.last_seen_at.is_none());
    let before = now();
    cp.admins().touch_last_seen(a.id).await.expect("touch");
    let seen = cp.admins().get_by_id(a.id).await.expect("get").last_seen_at.expect("seen");
    assert!(seen >= before);
    assert!(cp.admins().touch_last_seen(new_id()).await.expect_err("unknown").is_not_found());
}

/// Deleting an admin removes its refresh tokens, and only its own.
pub async fn admins_delete_removes_refresh_tokens(cp: &ControlPlane) {
    let a = admin(cp, "a@example.com", AdminType::Global).await;
    let b = admin(cp, "b@example.com", AdminType::Global).await;
    let tokens = cp.admin_refresh_tokens();
    let exp = now() + TimeDelta::hours(1);
    tokens.create(a.id, "aaaaaaaaaaaaaaaaaaaaaaaa", exp).await.expect("token a");
    tokens.create(b.id, "bbbbbbbbbbbbbbbbbbbbbbbb", exp).await.expect("token b");
    cp.admins().delete(a.id).await.expect("delete");
    assert!(cp.admins().get_by_id(a.id).await.expect_err("gone").is_not_found());
    assert!(tokens.list_by_admin(a.id).await.expect("list").is_empty());
    assert_eq!(tokens.list_by_admin(b.id).await.expect("list b").len(), 1);
    assert!(cp.admins().delete(a.id).await.expect_err("again").is_not_found());
}

/// Tokens: create, get by hash, list by admin oldest first, delete one, delete by admin.
pub async fn admin_refresh_tokens_create_get_list_delete(cp: &ControlPlane) {
    let a = admin(cp, "a@example.com", AdminType::Global).await;
    let tokens = cp.admin_refresh_tokens();
    let exp = now() + TimeDelta::hours(1);
    let t1 = tokens.create(a.id, "1111111111111111", exp).await.expect("t1");
    let t2 = tokens.create(a.id, "2222222222222222", exp).await.expect("t2");
    assert_eq!(t1.admin_id, a.id);
    assert_eq!(t1.expires_at, crate::model::truncate_micros(exp));
    assert_eq!(tokens.get_by_hash("1111111111111111").await.expect("get"), t1);
    assert_eq!(tokens.list_by_admin(a.id).await.expect("list"), vec![t1.clone(), t2.clone()]);
    let err = tokens.create(a.id, "1111111111111111", exp).await.expect_err("duplicate hash");
    assert!(err.is_conflict(), "{err}");
    tokens.delete("1111111111111111").await.expect("delete");
    assert!(tokens.get_by_hash("1111111111111111").await.expect_err("gone").is_not_found());
    assert!(tokens.delete("1111111111111111").await.expect_err("again").is_not_found());
    tokens.create(a.id, "3333333333333333", exp).await.expect("t3");
    assert_eq!(tokens.delete_by_admin(a.id).await.expect("delete_by_admin"), 2);
    assert!(tokens.list_by_admin(a.id).await.expect("list").is_empty());
}

/// A token for an unknown admin is `NotFound`.
pub async fn admin_refresh_tokens_unknown_admin_is_not_found(cp: &ControlPlane) {
    let err = cp
        .admin_refresh_tokens()
        .create(new_id(), "1111111111111111", now() + TimeDelta::hours(1))
        .await
        .expect_err("unknown admin");
    assert!(err.is_not_found(), "{err}");
}

/// `purge_expired` removes tokens that expired before `now` and counts them.
pub async fn admin_refresh_tokens_purge_expired(cp: &ControlPlane) {
    let a = admin(cp, "a@example.com", AdminType::Global).await;
    let tokens = cp.admin_refresh_tokens();
    // Tokens cannot expire before they are created: purge at a later `now` instead.
    let t = now() + TimeDelta::hours(3);
    tokens.create(a.id, "old1old1old1old1", t - TimeDelta::hours(2)).await.expect("old1");
    tokens.create(a.id, "old2old2old2old2", t - TimeDelta::minutes(1)).await.expect("old2");
    tokens.create(a.id, "newnewnewnewnewn", t + TimeDelta::hours(2)).await.expect("new");
    assert_eq!(tokens.purge_expired(t).await.expect("purge"), 2);
    let left: Vec<String> =
        tokens.list_by_admin(a.id).await.expect("list").into_iter().map(|t| t.token_hash).collect();
    assert_eq!(left, ["newnewnewnewnewn"]);
    assert_eq!(tokens.purge_expired(t).await.expect("purge again"), 0);
}

/// Admin lists with offsets and limits near `u64::MAX` are empty pages (never a panic), and
/// admin-token purges and creations at chrono's extreme times are `Ok` or `InvalidInput`,
/// never a panic or `Backend`.
pub async fn admins_extreme_offsets_and_times_never_panic(cp: &ControlPlane) {
    let a = admin(cp, "a@example.com", AdminType::Global).await;
    for n in [u64::MAX, u64::MAX / 2, i64::MAX as u64 + 1] {
        for limit in [0, 1, u64::MAX] {
            let page = cp.admins().list(&AdminFilter { offset: n, limit, ..Default::default() }).await;
            assert!(page.expect("list").is_empty(), "offset {n}, limit {limit}");
        }
    }
    let all = cp.admins().list(&AdminFilter { limit: u64::MAX, ..Default::default() }).await.expect("list");
    assert_eq!(all.len(), 1);
    let tokens = cp.admin_refresh_tokens();
    for (i, t) in [crate::model::Timestamp::MAX_UTC, crate::model::Timestamp::MIN_UTC].into_iter().enumerate()
    {
        match tokens.purge_expired(t).await {
            Ok(_) | Err(StoreError::InvalidInput { .. }) => {}
            Err(other) => panic!("purge at {t:?}: {other:?}"),
        }
        match tokens.create(a.id, &format!("extreme-{i}-0000000000"), t).await {
            Ok(_) | Err(StoreError::InvalidInput { .. }) => {}
            Err(other) => panic!("token expiring {t:?}: {other:?}"),
        }
    }
}

/// An admin is never assigned a tenant that does not exist: `create` and `assign_tenants`
/// with an unknown tenant id are `InvalidInput` naming `assigned_tenants` and change
/// nothing; deleting a tenant removes it from every admin it was assigned to.
pub async fn admins_are_assigned_existing_tenants_only(cp: &ControlPlane) {
    let acme = super::tenants::make_tenant(cp, "acme").await;
    let globex = super::tenants::make_tenant(cp, "globex").await;
    let mut unknown = input("local@example.com", AdminType::Tenant);
    unknown.assigned_tenants = vec![acme.id, new_id()];
    match cp.admins().create(unknown).await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "assigned_tenants"),
        other => panic!("create with an unknown tenant: {other:?}"),
    }
    assert!(cp.admins().list(&AdminFilter::default()).await.expect("list").is_empty(), "nothing created");
    let mut known = input("local@example.com", AdminType::Tenant);
    known.assigned_tenants = vec![acme.id, globex.id];
    let local = cp.admins().create(known).await.expect("create with known tenants");
    match cp.admins().assign_tenants(local.id, &[globex.id, new_id()]).await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "assigned_tenants"),
        other => panic!("assign an unknown tenant: {other:?}"),
    }
    let mut both = vec![acme.id, globex.id];
    both.sort();
    assert_eq!(cp.admins().get_by_id(local.id).await.expect("get").assigned_tenants, both, "unchanged");
    cp.tenants().delete("acme").await.expect("delete acme");
    let after = cp.admins().get_by_id(local.id).await.expect("get");
    assert_eq!(after.assigned_tenants, vec![globex.id], "the deleted tenant is no longer assigned");
    match cp.admins().assign_tenants(local.id, &[acme.id]).await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "assigned_tenants"),
        other => panic!("assign a deleted tenant: {other:?}"),
    }
}

/// An admin refresh token cannot expire before it is created: `InvalidInput` naming
/// `expires_at`, and nothing is stored.
pub async fn admin_refresh_tokens_cannot_expire_before_they_are_created(cp: &ControlPlane) {
    let a = admin(cp, "a@example.com", AdminType::Global).await;
    let tokens = cp.admin_refresh_tokens();
    match tokens.create(a.id, "pastpastpastpast", now() - TimeDelta::seconds(1)).await {
        Err(StoreError::InvalidInput { field, .. }) => assert_eq!(field, "expires_at"),
        other => panic!("a token expiring in the past: {other:?}"),
    }
    assert!(tokens.list_by_admin(a.id).await.expect("list").is_empty(), "nothing stored");
    tokens.create(a.id, "futurefuturefutu", now() + TimeDelta::minutes(5)).await.expect("future");
}
