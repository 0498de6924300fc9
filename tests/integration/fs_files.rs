//! What the file-system control plane leaves on disk: schema lines, permissions, no plain
//! text, and validation of hand-edited files on read.

use std::path::Path;

use hellojohn_store::StoreError;
use hellojohn_store::adapters::fs::tree::validate_tree;
use hellojohn_store::adapters::fs::{FileKind, FsControlPlane, write_schemas};
use hellojohn_store::crypto::SecretBox;
use hellojohn_store::model::{
    AdminInput, AdminType, ClientInput, ClientType, ScopeInput, Secret, Tenant, TenantDbSettings, now,
};

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

/// The target of the `$schema` line of the YAML file `path`, resolved from its folder.
fn schema_target(path: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(path).expect("read");
    let first = text.lines().next().unwrap_or_default();
    let target = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("{}: no $schema line: {first}", path.display()));
    path.parent().expect("folder").join(target)
}

#[tokio::test]
async fn every_schema_line_of_a_fresh_tree_names_a_schema_the_store_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    let cp = FsControlPlane::new(&root, Some(key()));
    cp.tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant");
    let admin = cp
        .admins()
        .create(AdminInput {
            email: "ana@example.com".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            name: None,
            admin_type: AdminType::Global,
            assigned_tenants: vec![],
            created_by: None,
        })
        .await
        .expect("admin");
    cp.admin_refresh_tokens()
        .create(admin.id, "0123456789abcdef0123", now() + chrono::TimeDelta::hours(1))
        .await
        .expect("token");
    let files = [
        "tenants/acme/tenant.yaml",
        "tenants/acme/clients.yaml",
        "tenants/acme/scopes.yaml",
        "admins/admins.yaml",
        "admins/refresh_tokens.yaml",
    ];
    for file in files {
        let target = schema_target(&root.join(file));
        let text = std::fs::read_to_string(&target)
            .unwrap_or_else(|e| panic!("{file} names {}, which cannot be read: {e}", target.display()));
        let json: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
        assert!(json.get("$schema").is_some() && json.get("title").is_some(), "{}", target.display());
    }
    // The very text `hellojohn-store schema export` writes, and only the five of them.
    for kind in FileKind::ALL {
        let path = root.join("schemas").join(kind.schema_file_name());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), kind.schema_text(), "{}", path.display());
    }
    assert_eq!(std::fs::read_dir(root.join("schemas")).expect("dir").count(), FileKind::ALL.len());
    assert!(validate_tree(&root).expect("validate").is_empty(), "schemas/ is no problem for validate");
}

#[tokio::test]
async fn schemas_are_written_once_per_control_plane_when_missing_or_different() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = FsControlPlane::new(dir.path(), Some(key()));
    cp.tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant");
    let tenant_schema = dir.path().join("schemas").join(FileKind::Tenant.schema_file_name());
    let clients_schema = dir.path().join("schemas").join(FileKind::Clients.schema_file_name());
    std::fs::remove_file(&tenant_schema).expect("remove");
    std::fs::write(&clients_schema, "{\"title\": \"an older schema\"}\n").expect("write");
    // The same control plane does not look again: later writes cost nothing.
    cp.tenants().create(Tenant::new("globex", "Globex")).await.expect("tenant");
    assert!(!tenant_schema.exists());
    // A new one (the next process) repairs both before its first write.
    let cp = FsControlPlane::new(dir.path(), Some(key()));
    cp.tenants().list().await.expect("reads write nothing");
    assert!(!tenant_schema.exists());
    cp.tenants().delete("globex").await.expect("delete");
    assert_eq!(std::fs::read_to_string(&tenant_schema).expect("read"), FileKind::Tenant.schema_text());
    assert_eq!(std::fs::read_to_string(&clients_schema).expect("read"), FileKind::Clients.schema_text());
    // Up to date: nothing to write.
    assert!(write_schemas(dir.path()).expect("write_schemas").is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn a_schemas_symlink_is_never_written_through() {
    // Like examples/data/schemas -> ../../schemas: the store reads through the link but never
    // writes into the folder it points at, even when a schema there differs or is missing.
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = dir.path().join("shared-schemas");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::write(shared.join(FileKind::Tenant.schema_file_name()), "{}\n").expect("write");
    let root = dir.path().join("data");
    std::fs::create_dir(&root).expect("mkdir");
    std::os::unix::fs::symlink("../shared-schemas", root.join("schemas")).expect("symlink");
    let cp = FsControlPlane::new(&root, Some(key()));
    cp.tenants().create(Tenant::new("acme", "Acme")).await.expect("a write still succeeds");
    assert!(std::fs::symlink_metadata(root.join("schemas")).expect("meta").file_type().is_symlink());
    let names: Vec<_> =
        std::fs::read_dir(&shared).expect("dir").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names.len(), 1, "nothing was written through the link: {names:?}");
    assert_eq!(
        std::fs::read_to_string(shared.join(FileKind::Tenant.schema_file_name())).expect("read"),
        "{}\n"
    );

    // The same link to up-to-date schemas (the repository's schemas/) is simply used.
    write_schemas(dir.path().join("up-to-date").as_path()).expect("write");
    std::fs::remove_file(root.join("schemas")).expect("unlink");
    std::os::unix::fs::symlink("../up-to-date/schemas", root.join("schemas")).expect("symlink");
    assert!(write_schemas(&root).expect("write_schemas").is_empty());
    let target = schema_target(&root.join("tenants/acme/tenant.yaml"));
    assert_eq!(std::fs::read_to_string(target).expect("read"), FileKind::Tenant.schema_text());
}

#[tokio::test]
async fn what_a_dead_tenant_create_or_delete_left_is_ignored_then_removed_under_the_tenants_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cp = seeded(dir.path()).await;
    let tenants_dir = dir.path().join("tenants");
    // As a SIGKILL leaves them: a deleted tenant's folder renamed aside with its sealed
    // secrets still in it, and a half-built one with a temporary file.
    let leftovers = |tag: &str| {
        let deleting = tenants_dir.join(format!(".deleting-gone{tag}-0123456789abcdef"));
        std::fs::create_dir(&deleting).expect("mkdir");
        for file in ["tenant.yaml", "clients.yaml"] {
            std::fs::copy(tenants_dir.join("acme").join(file), deleting.join(file)).expect("copy");
        }
        let creating = tenants_dir.join(format!(".creating-half{tag}-00000000deadbeef"));
        std::fs::create_dir(&creating).expect("mkdir");
        std::fs::write(creating.join(".tenant.yaml.tmp-1-00000000000000ff"), "id: ").expect("write");
        [deleting, creating]
    };
    let first = leftovers("1");
    assert!(std::fs::read_to_string(first[0].join("tenant.yaml")).expect("read").contains("enc:v1:"));
    // A link named like one is not the store's: it is neither followed nor removed.
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).expect("mkdir");
    std::fs::write(outside.join("keep.txt"), "keep").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, tenants_dir.join(".deleting-link-0000000000000001")).expect("link");

    // Readers and validate never see them.
    let slugs = |list: Vec<Tenant>| list.into_iter().map(|t| t.slug).collect::<Vec<_>>();
    assert_eq!(slugs(cp.tenants().list().await.expect("list")), ["acme"]);
    assert!(validate_tree(dir.path()).expect("validate").is_empty());
    // Other writes leave them (they do not hold the tenants lock)...
    cp.scopes("acme").expect("scopes").create(ScopeInput::new("audit", "Audit")).await.expect("scope");
    assert!(first.iter().all(|p| p.exists()));
    // ...the next tenant create removes them, holding the lock every create and delete holds.
    cp.tenants().create(Tenant::new("globex", "Globex")).await.expect("create");
    for p in &first {
        assert!(!p.exists(), "{} was left", p.display());
    }
    assert_eq!(slugs(cp.tenants().list().await.expect("list")), ["acme", "globex"]);
    // And so does the next delete, from another control plane (another process).
    let second = leftovers("2");
    FsControlPlane::new(dir.path(), Some(key())).tenants().delete("globex").await.expect("delete");
    for p in &second {
        assert!(!p.exists(), "{} was left", p.display());
    }
    assert_eq!(slugs(cp.tenants().list().await.expect("list")), ["acme"]);
    assert!(validate_tree(dir.path()).expect("validate").is_empty());
    assert_eq!(std::fs::read_to_string(outside.join("keep.txt")).expect("read"), "keep");
    let mut names: Vec<String> = std::fs::read_dir(&tenants_dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: &[&str] = if cfg!(unix) { &[".deleting-link-0000000000000001", "acme"] } else { &["acme"] };
    assert_eq!(names, expected);
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
