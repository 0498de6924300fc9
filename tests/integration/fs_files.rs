//! What the file-system control plane leaves on disk: schema lines, permissions, no plain
//! text, and validation of hand-edited files on read.

use std::path::Path;

use hellojohn_store::StoreError;
use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::crypto::SecretBox;
use hellojohn_store::model::{ClientInput, ClientType, ScopeInput, Secret, Tenant, TenantDbSettings};

fn key() -> SecretBox {
    SecretBox::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key")
}

async fn seeded(root: &Path) -> FsControlPlane {
    let cp = FsControlPlane::new(root, Some(key()));
    let mut t = Tenant::new("acme", "Acme");
    t.settings.user_db = Some(TenantDbSettings {
        driver: "postgres".into(),
        dsn: Secret::plain("postgres://u:dsn-pw@h/db"),
        schema: None,
    });
    cp.tenants().create(t).await.expect("tenant");
    cp.scopes("acme").expect("scopes").create(ScopeInput::new("billing", "Billing")).await.expect("scope");
    let mut c = ClientInput::new("backend", "Backend");
    c.client_type = Some(ClientType::Confidential);
    c.secret = Some("client-pw-123".into());
    c.scopes = vec!["openid".into(), "billing".into()];
    cp.clients("acme").expect("clients").create(c).await.expect("client");
    cp
}

#[tokio::test]
async fn written_files_carry_the_schema_line_are_private_and_hold_no_plain_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    seeded(dir.path()).await;
    for (file, schema) in [
        ("tenants/acme/tenant.yaml", "../../schemas/tenant.schema.json"),
        ("tenants/acme/clients.yaml", "../../schemas/clients.schema.json"),
        ("tenants/acme/scopes.yaml", "../../schemas/scopes.schema.json"),
    ] {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).expect("read");
        let first = text.lines().next().unwrap_or_default();
        assert_eq!(first, format!("# yaml-language-server: $schema={schema}"), "{file}");
        assert!(!text.contains("dsn-pw") && !text.contains("client-pw-123"), "{file} holds plain text");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file}");
        }
    }
}

#[tokio::test]
async fn a_plain_secret_cannot_be_written_without_a_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = FsControlPlane::new(dir.path(), None);
    let mut t = Tenant::new("acme", "Acme");
    t.settings.user_db = Some(TenantDbSettings {
        driver: "postgres".into(),
        dsn: Secret::plain("postgres://x"),
        schema: None,
    });
    let err = cp.tenants().create(t).await.expect_err("no key");
    assert!(matches!(err, StoreError::Crypto { .. }), "{err}");
    assert!(err.to_string().contains("HJ_SECRET_KEY"), "{err}");
    assert!(!dir.path().join("tenants/acme").exists(), "nothing was written");

    // Reading works without the key; decrypting does not.
    seeded(dir.path()).await;
    let keyless = FsControlPlane::new(dir.path(), None);
    let clients = keyless.clients("acme").expect("clients");
    assert!(clients.get("backend").await.expect("get").secret.is_some_and(|s| s.is_sealed()));
    let err = clients.decrypt_secret("backend").await.expect_err("no key");
    assert!(matches!(err, StoreError::Crypto { .. }), "{err}");
    // With the key but wrong tenant binding: a copied ciphertext does not open.
    let err = FsControlPlane::new(
        dir.path(),
        Some(SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("k")),
    )
    .clients("acme")
    .expect("clients")
    .decrypt_secret("backend")
    .await
    .expect_err("wrong key");
    assert!(matches!(err, StoreError::Crypto { .. }), "{err}");
}

#[tokio::test]
async fn a_hand_edited_file_is_invalid_config_with_its_position_on_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = seeded(dir.path()).await;
    // Remove the `billing` scope by hand: the client that uses it now breaks a rule across files.
    let scopes_path = dir.path().join("tenants/acme/scopes.yaml");
    let scopes = std::fs::read_to_string(&scopes_path).expect("read");
    std::fs::write(&scopes_path, scopes.replace("name: billing", "name: billing-v2")).expect("write");
    let err = cp.clients("acme").expect("clients").list("").await.expect_err("invalid");
    let StoreError::InvalidConfig { problems } = err else { panic!("expected InvalidConfig, got {err}") };
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    let clients_text = std::fs::read_to_string(dir.path().join("tenants/acme/clients.yaml")).expect("read");
    let line = clients_text.lines().position(|l| l.trim() == "- billing").expect("line") + 1;
    assert_eq!((p.line, p.column, p.pointer.as_str()), (line, 5, "/clients/0/scopes/1"), "{p}");
    assert!(p.message.contains("\"billing\" does not exist"), "{p}");

    // A typo'd key in tenant.yaml: every read of the tenant names it.
    let tenant_path = dir.path().join("tenants/acme/tenant.yaml");
    let tenant = std::fs::read_to_string(&tenant_path).expect("read");
    std::fs::write(&tenant_path, tenant.replace("name: Acme", "name: Acme\nnmae: typo")).expect("write");
    let err = cp.tenants().get_by_slug("acme").await.expect_err("invalid");
    let StoreError::InvalidConfig { problems } = err else { panic!("expected InvalidConfig") };
    assert_eq!(problems[0].pointer, "/nmae");
    assert_eq!(problems[0].message, "unknown key \"nmae\"");
    // And writes refuse to build on a broken file.
    let err = cp.tenants().update(Tenant::new("acme", "Acme 2")).await.expect_err("invalid");
    assert!(matches!(err, StoreError::InvalidConfig { .. }), "{err}");
}

#[tokio::test]
async fn reads_follow_every_edit_at_once_and_report_a_broken_file_every_time() {
    // Validated documents are cached by content: an edit of the same length within the same
    // clock tick must still be seen, and a broken file must never be served from the cache.
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = seeded(dir.path()).await;
    let tenants = cp.tenants();
    assert_eq!(tenants.get_by_slug("acme").await.expect("get").name, "Acme");
    let path = dir.path().join("tenants/acme/tenant.yaml");
    let original = std::fs::read_to_string(&path).expect("read");
    for name in ["Acmf", "Acme", "Acmg"] {
        std::fs::write(&path, original.replace("name: Acme", &format!("name: {name}"))).expect("write");
        assert_eq!(tenants.get_by_slug("acme").await.expect("get").name, name);
    }
    std::fs::write(&path, original.replace("name: Acme", "name: Acme\nnmae: typo")).expect("write");
    for _ in 0..2 {
        let err = cp.clients("acme").expect("clients").list("").await.expect_err("broken tenant.yaml");
        let StoreError::InvalidConfig { problems } = err else { panic!("expected InvalidConfig, got {err}") };
        assert_eq!(problems[0].pointer, "/nmae", "{problems:?}");
    }
    std::fs::write(&path, &original).expect("restore");
    assert_eq!(cp.clients("acme").expect("clients").list("").await.expect("list").len(), 1);
    assert_eq!(tenants.get_by_slug("acme").await.expect("get").name, "Acme");
}

#[tokio::test]
async fn the_slug_is_never_a_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inner = dir.path().join("root");
    let cp = FsControlPlane::new(&inner, Some(key()));
    for slug in ["../escape", "..", "a/../../b", "/abs"] {
        assert!(matches!(
            cp.tenants().create(Tenant::new(slug, "x")).await,
            Err(StoreError::InvalidInput { .. })
        ));
        assert!(matches!(cp.tenants().delete(slug).await, Err(StoreError::InvalidInput { .. })));
    }
    assert!(!dir.path().join("escape").exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "nothing was created");
}

#[cfg(feature = "bench")]
#[tokio::test]
async fn a_large_tree_lists_in_slug_order_and_reports_the_first_broken_tenant() {
    // From 512 tenant folders on, the list reads on several threads: same order, same error.
    let dir = tempfile::tempdir().expect("tempdir");
    hellojohn_store::bench::control::generate(dir.path(), 700).expect("tree");
    let cp = FsControlPlane::new(dir.path(), None);
    let slugs: Vec<String> = cp.tenants().list().await.expect("list").into_iter().map(|t| t.slug).collect();
    let expected: Vec<String> = (0..700).map(|i| format!("bench-{i:05}")).collect();
    assert_eq!(slugs, expected);
    for broken in ["bench-00650", "bench-00100"] {
        let path = dir.path().join("tenants").join(broken).join("tenant.yaml");
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("language: en", "language: en\nlangauge: typo")).expect("write");
    }
    let err = cp.tenants().list().await.expect_err("broken tenants");
    let StoreError::InvalidConfig { problems } = err else { panic!("expected InvalidConfig, got {err}") };
    assert!(problems[0].file.contains("bench-00100"), "{problems:?}");
    assert_eq!(problems[0].pointer, "/langauge");
}
