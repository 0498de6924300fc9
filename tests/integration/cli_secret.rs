//! `hellojohn-store secret seal`, run as a real binary: the ciphertext it prints, put into a
//! tenant's YAML by hand, is what the store opens (to the same plaintext, only for that tenant
//! and field); unknown fields and empty input are refused.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{copy_tree, repo};
use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::crypto::{SecretBox, fields};
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::{CreateUserInput, Secret};

/// The example tree's key (examples/README.md).
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs `secret seal --tenant <tenant> --field <field>` with `input` on stdin and `key` (if
/// any) in `HJ_SECRET_KEY`.
fn seal_with(key: Option<&str>, tenant: &str, field: &str, input: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hellojohn-store"));
    cmd.args(["secret", "seal", "--tenant", tenant, "--field", field])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match key {
        Some(k) => cmd.env("HJ_SECRET_KEY", k),
        None => cmd.env_remove("HJ_SECRET_KEY"),
    };
    let mut child = cmd.spawn().expect("run the CLI");
    // The CLI stops reading past its limit: a closed pipe is its answer, not a failure here.
    if let Err(e) = child.stdin.take().expect("stdin").write_all(input) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child.wait_with_output().expect("wait")
}

/// The ciphertext printed for `input`, asserting success.
fn seal(tenant: &str, field: &str, input: &str) -> String {
    let out = seal_with(Some(KEY), tenant, field, input.as_bytes());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let ct = stdout.strip_suffix('\n').expect("one line").to_string();
    assert!(ct.starts_with("enc:v1:") && !ct.contains('\n'), "{ct:?}");
    ct
}

/// Replaces the value of the first `<key>: enc:v1:…` line after `after` in `path`.
fn put(path: &Path, after: &str, key: &str, ciphertext: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    let start = text.find(after).expect("section");
    let at = start + text[start..].find(&format!("{key}: enc:v1:")).expect("secret line");
    let end = at + text[at..].find('\n').expect("end of line");
    let edited = format!("{}{key}: {ciphertext}{}", &text[..at], &text[end..]);
    std::fs::write(path, edited).expect("write");
}

fn validate_decrypting(root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hellojohn-store"))
        .args(["validate", "--decrypt"])
        .arg(root)
        .env("HJ_SECRET_KEY", KEY)
        .output()
        .expect("run validate")
}

#[tokio::test]
async fn a_sealed_smtp_password_opens_to_the_same_value_only_for_its_tenant_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    copy_tree(&repo("examples/data"), &root);
    let tenant_yaml = root.join("tenants/acme/tenant.yaml");
    let plain = "correct horse battery staple";
    let ct = seal("acme", "smtp.password", &format!("{plain}\n"));
    assert_ne!(ct, seal("acme", "smtp.password", plain), "a fresh nonce per seal");
    put(&tenant_yaml, "smtp:", "password", &ct);

    let key = SecretBox::from_base64(KEY).expect("key");
    let cp = FsControlPlane::new(&root, Some(key.clone()));
    let acme = cp.tenants().get_by_slug("acme").await.expect("the store loads the edited tenant");
    let stored = acme.settings.smtp.and_then(|s| s.password).expect("smtp password");
    assert_eq!(stored, Secret::Sealed(ct.clone()));
    assert_eq!(key.decrypt("acme", fields::SMTP_PASSWORD, &stored).expect("opens"), plain, "newline dropped");
    assert!(key.decrypt("globex", fields::SMTP_PASSWORD, &stored).is_err(), "bound to the tenant");
    assert!(key.decrypt("acme", fields::CACHE_PASSWORD, &stored).is_err(), "bound to the field");
    let out = validate_decrypting(&root);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    // Sealed for another tenant, or for another field of this one: the store's own check
    // (`validate --decrypt`) refuses it at that value.
    for (tenant, field) in [("globex", "smtp.password"), ("acme", "cache.password")] {
        put(&tenant_yaml, "smtp:", "password", &seal(tenant, field, plain));
        let out = validate_decrypting(&root);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{tenant} {field}: {stdout}");
        assert!(
            stdout.contains("/settings/smtp/password") && stdout.contains("does not decrypt"),
            "{tenant} {field}: {stdout}"
        );
    }
}

#[tokio::test]
async fn a_sealed_user_db_dsn_is_the_database_the_manager_opens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    copy_tree(&repo("examples/data"), &root);
    // globex has no own database and no Redis cache: give it one on a SQLite file.
    let db_file = dir.path().join("globex-own.db");
    let dsn = format!("sqlite://{}?mode=rwc", db_file.display());
    let ct = seal("globex", "user_db.dsn", &dsn);
    let tenant_yaml = root.join("tenants/globex/tenant.yaml");
    let text = std::fs::read_to_string(&tenant_yaml).expect("read");
    assert!(!text.contains("user_db:") && text.contains("\nsettings:\n"), "{text}");
    let edited = text.replacen(
        "\nsettings:\n",
        &format!("\nsettings:\n  user_db:\n    driver: sqlite\n    dsn: {ct}\n"),
        1,
    );
    std::fs::write(&tenant_yaml, edited).expect("write");

    let mut cfg = ManagerConfig::from_fs_root(&root);
    cfg.secrets = Some(SecretBox::from_base64(KEY).expect("key"));
    let mgr = Manager::new(cfg).await.expect("manager");
    let globex = mgr.for_tenant("globex").await.expect("globex");
    globex
        .users()
        .expect("a data plane")
        .create(CreateUserInput::new("ana@example.com"))
        .await
        .expect("user");
    assert!(db_file.is_file(), "the sealed DSN's database was opened and written");

    // The same DSN sealed for acme does not open as globex's.
    let foreign = seal("acme", "user_db.dsn", &dsn);
    put(&tenant_yaml, "user_db:", "dsn", &foreign);
    let mut cfg = ManagerConfig::from_fs_root(&root);
    cfg.secrets = Some(SecretBox::from_base64(KEY).expect("key"));
    let mgr = Manager::new(cfg).await.expect("manager");
    let Err(err) = mgr.for_tenant("globex").await else { panic!("a DSN sealed for acme opened as globex's") };
    let err = err.to_string();
    assert!(err.contains("does not decrypt"), "{err}");
}

#[test]
fn one_trailing_newline_is_dropped_and_no_more() {
    let key = SecretBox::from_base64(KEY).expect("key");
    for (input, value) in
        [("pw\n", "pw"), ("pw\r\n", "pw"), ("pw\n\n", "pw\n"), ("pw", "pw"), (" pw \n", " pw ")]
    {
        let ct = seal("acme", "cache.password", input);
        assert_eq!(key.decrypt_str("acme", fields::CACHE_PASSWORD, &ct).expect("opens"), value, "{input:?}");
    }
}

#[test]
fn unknown_fields_empty_input_bad_slugs_and_a_missing_key_are_refused() {
    for field in
        ["smtp.pasword", "settings.smtp.password", "password", "social_providers.Google.client_secret"]
    {
        let out = seal_with(Some(KEY), "acme", field, b"pw\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{field}: {stderr}");
        assert!(out.stdout.is_empty(), "{field}");
        for sealable in fields::SEALABLE {
            assert!(stderr.contains(sealable), "{field}: {stderr} lists {sealable}");
        }
    }
    for input in [&b""[..], b"\n", b"\r\n"] {
        let out = seal_with(Some(KEY), "acme", "smtp.password", input);
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("empty"), "{input:?}");
        assert!(out.stdout.is_empty());
    }
    let out = seal_with(Some(KEY), "acme", "smtp.password", b"\xff\xfe\n");
    assert_eq!(out.status.code(), Some(2), "not UTF-8");
    let out = seal_with(Some(KEY), "Acme/../x", "smtp.password", b"pw");
    assert_eq!(out.status.code(), Some(2), "bad slug");
    let out = seal_with(None, "acme", "smtp.password", b"pw");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HJ_SECRET_KEY"), "names the key variable");
    let out = seal_with(Some("c2hvcnQ="), "acme", "smtp.password", b"pw");
    assert_eq!(out.status.code(), Some(2), "a malformed key");
}

/// A secret longer than a TEXT column (a file piped in by mistake) is refused with exit 2
/// before it is read whole; the longest allowed one is sealed.
#[test]
fn a_secret_longer_than_a_text_column_is_refused() {
    let limit = hellojohn_store::model::MAX_TEXT_BYTES;
    let out = seal_with(Some(KEY), "acme", "smtp.password", "a".repeat(4 * limit).as_bytes());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
    assert!(out.stdout.is_empty());
    let longest =
        seal_with(Some(KEY), "acme", "smtp.password", format!("{}\n", "a".repeat(limit)).as_bytes());
    assert!(longest.status.success(), "{}", String::from_utf8_lossy(&longest.stderr));
}
