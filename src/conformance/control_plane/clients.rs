use super::tenants::make_tenant;
use crate::StoreError;
use crate::conformance::ControlPlane;
use crate::crypto::fields;
use crate::model::{ClientInput, ClientType, GrantType, ScopeInput};

fn web_app() -> ClientInput {
    let mut c = ClientInput::new("web-app", "Web App");
    c.redirect_uris = vec!["https://app.example.com/callback".into(), "http://localhost:3000/cb".into()];
    c.scopes = vec!["openid".into(), "email".into()];
    c.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    c.description = Some("The web front end".into());
    c.require_email_verification = true;
    c.access_token_ttl_secs = Some(900);
    c
}

/// A created client is found by id and listed; a deleted one is gone.
pub async fn clients_create_get_list_delete(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    let created = clients.create(web_app()).await.expect("create");
    assert_eq!(created.client_type, ClientType::Public);
    assert_eq!(clients.get("web-app").await.expect("get"), created);
    clients.create(ClientInput::new("cli", "Command line")).await.expect("create cli");
    let ids: Vec<String> = clients.list("").await.expect("list").into_iter().map(|c| c.client_id).collect();
    assert_eq!(ids, ["cli", "web-app"]);
    let found: Vec<String> =
        clients.list("WEB").await.expect("search").into_iter().map(|c| c.client_id).collect();
    assert_eq!(found, ["web-app"]);
    clients.delete("web-app").await.expect("delete");
    assert!(clients.get("web-app").await.expect_err("gone").is_not_found());
    assert_eq!(clients.list("").await.expect("list").len(), 1);
}

/// A second client with the same `client_id` is a conflict.
pub async fn clients_duplicate_client_id_is_conflict(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    clients.create(web_app()).await.expect("create");
    let err = clients.create(ClientInput::new("web-app", "Again")).await.expect_err("duplicate");
    assert!(err.is_conflict(), "{err}");
    assert_eq!(clients.get("web-app").await.expect("get").name, "Web App");
}

/// Unknown clients: `NotFound` for get, update, delete and decrypt_secret.
pub async fn clients_unknown_is_not_found(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    assert!(clients.get("nope-1").await.expect_err("get").is_not_found());
    assert!(clients.update(ClientInput::new("nope-1", "x")).await.expect_err("update").is_not_found());
    assert!(clients.delete("nope-1").await.expect_err("delete").is_not_found());
    assert!(clients.decrypt_secret("nope-1").await.expect_err("secret").is_not_found());
    clients.create(ClientInput::new("public-1", "x")).await.expect("create");
    assert!(clients.decrypt_secret("public-1").await.expect_err("no secret").is_not_found());
}

/// `update` replaces the given fields, keeps id and creation time, and keeps the secret
/// when none is given.
pub async fn clients_update_keeps_untouched_fields_and_secret(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    let mut input = web_app();
    input.client_type = Some(ClientType::Confidential);
    input.secret = Some("s3cret".into());
    let created = clients.create(input.clone()).await.expect("create");
    input.name = "Renamed".into();
    input.secret = None;
    let updated = clients.update(input).await.expect("update");
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(updated.name, "Renamed");
    assert_eq!(updated.redirect_uris, created.redirect_uris);
    assert_eq!(updated.grant_types, created.grant_types);
    assert_eq!(updated.secret, created.secret, "the secret is kept");
    assert_eq!(clients.decrypt_secret("web-app").await.expect("secret"), "s3cret");
    assert_eq!(clients.get("web-app").await.expect("get"), updated);

    // No type given: the type (and so the secret) stays.
    let mut untyped = web_app();
    untyped.client_type = None;
    let kept = clients.update(untyped).await.expect("update without type");
    assert_eq!(kept.client_type, ClientType::Confidential);
    assert_eq!(clients.decrypt_secret("web-app").await.expect("secret kept"), "s3cret");

    // Made public: the secret goes.
    let mut public = web_app();
    public.client_type = Some(ClientType::Public);
    let public = clients.update(public).await.expect("make public");
    assert!(public.secret.is_none());
}

/// Bad client ids and redirect URIs are refused before anything is written.
pub async fn clients_bad_client_id_or_redirect_uri_is_invalid_input(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    for bad in ["ab", "../x", "a b c", "web/app", ""] {
        let err = clients.create(ClientInput::new(bad, "x")).await.expect_err(bad);
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{bad:?}: {err}");
    }
    for uri in [
        "http://app.example.com/cb",
        "https://app.example.com/cb#frag",
        "/relative/cb",
        "app.example.com/cb",
        "ftp://files.example.com/",
    ] {
        let mut c = ClientInput::new("web-app", "x");
        c.redirect_uris = vec![uri.into()];
        let err = clients.create(c).await.expect_err(uri);
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{uri:?}: {err}");
    }
    for ok in [
        "https://app.example.com/cb?x=1",
        "http://127.0.0.1:8080/cb",
        "http://[::1]/cb",
        "http://localhost/cb",
    ] {
        assert!(crate::model::validate_redirect_uri(ok).is_ok(), "{ok}");
    }
    assert!(clients.list("").await.expect("list").is_empty());
}

/// Redirect URIs refused by RFC 8252 and the OAuth 2.0 Security BCP.
pub const REFUSED_REDIRECT_URIS: &[&str] = &[
    "javascript:alert(1)",
    "JavaScript://example.com/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "https://app.example.com/cb#frag",
    "com.example.app:/cb#x",
    "https://user:pw@app.example.com/cb",
    "https://user@app.example.com/cb",
    "https://@app.example.com/cb",
    "/relative/cb",
    "//app.example.com/cb",
    "app.example.com/cb",
    "https://app.example.com/c b",
    " https://app.example.com/cb",
    "https://app.example.com/cb\n",
    "https://app.example.com/\u{0}cb",
    "http://app.example.com/cb",
    "http://localhost.evil.example/cb",
    "http://127.0.0.1.nip.io/cb",
    "http://[::2]/cb",
    "ftp://files.example.com/",
    "myapp:/cb",
    "com..example:/cb",
    "com.example.app:",
    "https:///cb",
    "",
];

/// Redirect URIs RFC 8252 and the OAuth 2.0 Security BCP accept.
pub const ACCEPTED_REDIRECT_URIS: &[&str] = &[
    "https://app.example.com/cb",
    "https://app.example.com:8443/cb?x=1",
    "http://127.0.0.1/cb",
    "http://127.0.0.1:51004/oauth2redirect",
    "http://[::1]:8080/cb",
    "http://localhost/cb",
    "http://LOCALHOST:3000/cb",
    "com.example.app:/oauth2redirect",
    "com.example.app:/oauth2redirect/example-provider",
    "com.example.app://callback",
    "io.hellojohn.mobile-app:/cb",
];

/// Every refused redirect URI (and post-logout URI) is `InvalidInput` and nothing is stored;
/// every accepted one — https, loopback http on any port, private-use schemes of native apps
/// (`com.example.app:/oauth2redirect`) — is stored as given.
pub async fn clients_redirect_uris_follow_rfc_8252_and_the_security_bcp(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    for uri in REFUSED_REDIRECT_URIS {
        for post_logout in [false, true] {
            let mut c = ClientInput::new("native-app", "x");
            if post_logout {
                c.post_logout_uris = vec![(*uri).into()];
            } else {
                c.redirect_uris = vec![(*uri).into()];
            }
            let err = clients.create(c).await.expect_err(uri);
            assert!(matches!(err, StoreError::InvalidInput { .. }), "{uri:?}: {err}");
        }
    }
    assert!(clients.list("").await.expect("list").is_empty(), "no refused client was stored");
    for (i, uri) in ACCEPTED_REDIRECT_URIS.iter().enumerate() {
        let mut c = ClientInput::new(format!("native-{i}"), "x");
        c.redirect_uris = vec![(*uri).into()];
        c.post_logout_uris = vec![(*uri).into()];
        clients.create(c).await.unwrap_or_else(|e| panic!("{uri:?}: {e}"));
        let stored = clients.get(&format!("native-{i}")).await.expect("get");
        assert_eq!(
            (stored.redirect_uris, stored.post_logout_uris),
            (vec![uri.to_string()], vec![uri.to_string()])
        );
    }
}

/// A client may only list scopes that exist in its tenant.
pub async fn clients_unknown_scope_is_invalid_input(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    let mut c = ClientInput::new("web-app", "x");
    c.scopes = vec!["openid".into(), "billing".into()];
    let err = clients.create(c.clone()).await.expect_err("unknown scope");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
    cp.scopes("acme").create(ScopeInput::new("billing", "Billing")).await.expect("scope");
    let created = clients.create(c).await.expect("create");
    assert!(created.is_scope_allowed("billing"));
    assert!(!created.is_scope_allowed("admin"));
}

/// A confidential client's secret is sealed at rest and `decrypt_secret` returns it.
pub async fn clients_secret_is_sealed_and_decrypts(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    let mut c = web_app();
    c.client_type = Some(ClientType::Confidential);
    c.secret = Some("top-secret-value".into());
    let created = clients.create(c).await.expect("create");
    let secret = created.secret.clone().expect("secret");
    assert!(secret.is_sealed());
    assert!(!format!("{created:?}").contains("top-secret-value"));
    assert!(!secret.ciphertext().unwrap_or_default().contains("top-secret-value"));
    assert_eq!(clients.decrypt_secret("web-app").await.expect("decrypt"), "top-secret-value");
    let field = fields::client_secret("web-app");
    assert_eq!(cp.secrets().decrypt("acme", &field, &secret).expect("box"), "top-secret-value");
    assert!(cp.secrets().decrypt("acme", &fields::client_secret("other"), &secret).is_err());
}

/// A public client cannot have a secret.
pub async fn clients_public_client_cannot_have_a_secret(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let mut c = ClientInput::new("spa", "SPA");
    c.secret = Some("nope".into());
    let err = cp.clients("acme").create(c).await.expect_err("public with secret");
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
}

/// Clients of tenant A are not visible, updatable or deletable through tenant B.
pub async fn clients_of_one_tenant_are_invisible_to_another(cp: &ControlPlane) {
    make_tenant(cp, "tenant-a").await;
    make_tenant(cp, "tenant-b").await;
    cp.clients("tenant-a").create(web_app()).await.expect("create");
    let b = cp.clients("tenant-b");
    assert!(b.get("web-app").await.expect_err("get").is_not_found());
    assert!(b.list("").await.expect("list").is_empty());
    assert!(b.delete("web-app").await.expect_err("delete").is_not_found());
    assert!(b.update(web_app()).await.expect_err("update").is_not_found());
    assert!(cp.clients("tenant-a").get("web-app").await.is_ok());
}

/// Clients of a tenant that does not exist: `TenantNotFound`.
pub async fn clients_of_unknown_tenant_is_tenant_not_found(cp: &ControlPlane) {
    let err = cp.clients("ghost").create(ClientInput::new("web-app", "x")).await.expect_err("create");
    assert!(matches!(err, StoreError::TenantNotFound { .. }), "{err}");
    let err = cp.clients("ghost").list("").await.expect_err("list");
    assert!(matches!(err, StoreError::TenantNotFound { .. }), "{err}");
}

/// The field an `InvalidInput` names, or a panic naming what was expected.
fn invalid_field<T: std::fmt::Debug>(result: crate::StoreResult<T>, what: &str) -> String {
    match result {
        Err(StoreError::InvalidInput { field, .. }) => field,
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    }
}

/// A confidential client needs a secret: a create without one, or an update making a
/// secret-less client confidential, is `InvalidInput` naming `secret`, and nothing changes.
pub async fn clients_confidential_client_needs_a_secret(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    let mut c = web_app();
    c.client_type = Some(ClientType::Confidential);
    assert_eq!(invalid_field(clients.create(c.clone()).await, "confidential without a secret"), "secret");
    assert!(clients.list("").await.expect("list").is_empty(), "nothing was created");
    let public = clients.create(web_app()).await.expect("public");
    assert_eq!(
        invalid_field(clients.update(c.clone()).await, "made confidential without a secret"),
        "secret"
    );
    assert_eq!(clients.get("web-app").await.expect("get"), public, "unchanged");
    c.secret = Some("s3cret".into());
    let confidential = clients.update(c).await.expect("made confidential with a secret");
    assert_eq!(confidential.client_type, ClientType::Confidential);
    assert!(confidential.secret.is_some());
}

/// A public client cannot use `client_credentials` (it has no secret to authenticate
/// with): `InvalidInput` naming `grant_types` on create and on update; a confidential
/// client may.
pub async fn clients_public_client_cannot_use_client_credentials(cp: &ControlPlane) {
    make_tenant(cp, "acme").await;
    let clients = cp.clients("acme");
    let mut c = web_app();
    c.grant_types.push(GrantType::ClientCredentials);
    assert_eq!(
        invalid_field(clients.create(c.clone()).await, "public with client_credentials"),
        "grant_types"
    );
    let created = clients.create(web_app()).await.expect("public");
    assert_eq!(invalid_field(clients.update(c.clone()).await, "update adding it"), "grant_types");
    assert_eq!(clients.get("web-app").await.expect("get"), created, "unchanged");
    c.client_type = Some(ClientType::Confidential);
    c.secret = Some("s3cret".into());
    let updated = clients.update(c).await.expect("confidential with client_credentials");
    assert!(updated.grant_types.contains(&GrantType::ClientCredentials));
    let mut back = web_app();
    back.client_type = Some(ClientType::Public);
    back.grant_types = updated.grant_types.clone();
    assert_eq!(invalid_field(clients.update(back).await, "made public keeping it"), "grant_types");
}
