use super::tenants::make_tenant;
use crate::StoreError;
use crate::conformance::ControlPlane;
use crate::model::{ClientInput, SYSTEM_SCOPES, ScopeInput};

/// The system scopes are listed for every tenant, marked as system.
pub async fn scopes_system_scopes_always_exist(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let scopes = cp.scopes("acme").list().await.expect("list");
    for name in SYSTEM_SCOPES {
        let s = scopes.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(s.system, "{name} is a system scope");
    }
    let names: Vec<&str> = scopes.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "listed by name");
    assert!(cp.scopes("acme").get_by_name("openid").await.expect("openid").system);
}

/// System scopes cannot be deleted (nor created again).
pub async fn scopes_system_scopes_cannot_be_deleted(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    for name in SYSTEM_SCOPES {
        let err = cp.scopes("acme").delete(name).await.expect_err(name);
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{name}: {err}");
        let err = cp.scopes("acme").create(ScopeInput::new(name, "again")).await.expect_err(name);
        assert!(err.is_conflict(), "{name}: {err}");
    }
    assert_eq!(cp.scopes("acme").list().await.expect("list").len(), SYSTEM_SCOPES.len());
}

/// Custom scopes: create, get, update (name immutable, other fields replaced), delete.
pub async fn scopes_create_get_update_delete(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let scopes = cp.scopes("acme");
    let mut input = ScopeInput::new("billing:read", "Read invoices");
    input.claims = vec!["plan".into()];
    input.depends_on = vec!["openid".into()];
    let created = scopes.create(input.clone()).await.expect("create");
    assert!(!created.system);
    assert_eq!(scopes.get_by_name("billing:read").await.expect("get"), created);
    input.description = Some("Read all invoices".into());
    input.display_name = Some("Invoices".into());
    let updated = scopes.update(input).await.expect("update");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(updated.claims, created.claims);
    assert_eq!(updated.display_name.as_deref(), Some("Invoices"));
    assert!(scopes.update(ScopeInput::new("nope", "x")).await.expect_err("update").is_not_found());
    scopes.delete("billing:read").await.expect("delete");
    assert!(scopes.get_by_name("billing:read").await.expect_err("gone").is_not_found());
    assert!(scopes.delete("billing:read").await.expect_err("again").is_not_found());
    let err = scopes.create(ScopeInput::new("bad scope", "x")).await.expect_err("bad name");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
}

/// A second scope with the same name is a conflict.
pub async fn scopes_duplicate_name_is_conflict(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    cp.scopes("acme").create(ScopeInput::new("billing", "a")).await.expect("create");
    let err = cp.scopes("acme").create(ScopeInput::new("billing", "b")).await.expect_err("dup");
    assert!(err.is_conflict(), "{err}");
}

/// `upsert` creates a missing scope, then updates it in place.
pub async fn scopes_upsert_creates_then_updates(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let scopes = cp.scopes("acme");
    let first = scopes.upsert(ScopeInput::new("reports", "v1")).await.expect("upsert 1");
    let second = scopes.upsert(ScopeInput::new("reports", "v2")).await.expect("upsert 2");
    assert_eq!(first.id, second.id);
    assert_eq!(second.description.as_deref(), Some("v2"));
    assert_eq!(scopes.list().await.expect("list").iter().filter(|s| s.name == "reports").count(), 1);
}

/// A scope a client uses cannot be deleted until the client lets go of it.
pub async fn scopes_in_use_by_a_client_cannot_be_deleted(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    cp.scopes("acme").create(ScopeInput::new("billing", "Billing")).await.expect("scope");
    let mut c = ClientInput::new("web-app", "Web");
    c.scopes = vec!["billing".into()];
    cp.clients("acme").create(c.clone()).await.expect("client");
    let err = cp.scopes("acme").delete("billing").await.expect_err("in use");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
    c.scopes.clear();
    cp.clients("acme").update(c).await.expect("update client");
    cp.scopes("acme").delete("billing").await.expect("delete");
}
