//! The broken-file corpus: each folder under `tests/fixtures/broken/` is a small control-plane
//! tree with one kind of defect, and `expected.txt` lists every problem validation must
//! report, as `path:line:column: /pointer: message fragment`. Every expected problem must be
//! found at exactly that place, and nothing else may be reported.

use std::path::{Path, PathBuf};

use hellojohn_store::adapters::fs::tree::validate_tree;

struct Expected {
    file: String,
    line: usize,
    column: usize,
    pointer: String,
    fragment: String,
}

/// The problems a fixture's `expected.txt` lists.
fn expected_of(dir: &std::path::Path) -> Vec<Expected> {
    std::fs::read_to_string(dir.join("expected.txt"))
        .expect("expected.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_expected)
        .collect()
}

fn parse_expected(line: &str) -> Expected {
    let (loc, rest) = line.split_once(": ").expect("path:line:col: …");
    let (pointer, fragment) = rest.split_once(": ").unwrap_or((rest, ""));
    let mut parts = loc.rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse().ok()).expect("column");
    let line_no = parts.next().and_then(|l| l.parse().ok()).expect("line");
    let file = parts.next().expect("file").to_string();
    Expected { file, line: line_no, column, pointer: pointer.to_string(), fragment: fragment.to_string() }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_broken_file_reports_its_problems_at_the_right_place() {
    let cases = cases();
    assert!(cases.len() >= 15, "the corpus must hold at least 15 broken trees, has {}", cases.len());
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let expected: Vec<Expected> = expected_of(dir);
        let problems = validate_tree(dir).expect("validate_tree");
        let prefix = format!("{}/", dir.display());
        let got: Vec<(String, usize, usize, String, String)> = problems
            .iter()
            .map(|p| {
                let pointer = if p.pointer.is_empty() { "/".to_string() } else { p.pointer.clone() };
                (p.file.trim_start_matches(&prefix).to_string(), p.line, p.column, pointer, p.message.clone())
            })
            .collect();
        let shown =
            got.iter().map(|g| format!("{}:{}:{}: {}: {}", g.0, g.1, g.2, g.3, g.4)).collect::<Vec<_>>();
        if got.len() != expected.len() {
            failures.push(format!(
                "{name}: expected {} problems, got {}:\n  {}",
                expected.len(),
                got.len(),
                shown.join("\n  ")
            ));
            continue;
        }
        for e in &expected {
            let found = got.iter().any(|g| {
                g.0 == e.file
                    && g.1 == e.line
                    && g.2 == e.column
                    && g.3 == e.pointer
                    && g.4.contains(&e.fragment)
            });
            if !found {
                failures.push(format!(
                    "{name}: missing {}:{}:{}: {}: …{}…\n  got:\n  {}",
                    e.file,
                    e.line,
                    e.column,
                    e.pointer,
                    e.fragment,
                    shown.join("\n  ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_example_tree_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let problems = validate_tree(&root).expect("validate_tree");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_example_secrets_open_with_the_documented_example_key() {
    use hellojohn_store::adapters::fs::FsControlPlane;
    use hellojohn_store::crypto::{SecretBox, fields};
    let key = SecretBox::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key");
    let cp =
        FsControlPlane::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data"), Some(key.clone()));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let acme = cp.tenants().get_by_slug("acme").await.expect("acme");
        let db = acme.settings.user_db.expect("user_db");
        let config = db.to_db_config("acme", &key).expect("dsn decrypts");
        assert!(config.dsn.starts_with("postgres://"));
        let smtp = acme.settings.smtp.and_then(|s| s.password).expect("smtp password");
        assert_eq!(key.decrypt("acme", fields::SMTP_PASSWORD, &smtp).expect("smtp"), "example-smtp-password");
        let secret =
            cp.clients("acme").expect("clients").decrypt_secret("acme-billing-api").await.expect("secret");
        assert_eq!(secret, "example-client-secret-acme-billing");
        let wrong = SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("key");
        assert!(wrong.decrypt("acme", fields::USER_DB_DSN, &db.dsn).is_err());
    });
}

/// What `validate` refuses in one file, the store refuses to load, at the same file, line,
/// column and pointer (not `1:1`): the typed values and their rules are checked on every
/// load, so a "valid" verdict means the store loads the tree.
#[test]
fn the_store_refuses_to_load_a_broken_file_at_the_place_validate_reports() {
    use hellojohn_store::StoreError;
    use hellojohn_store::adapters::fs::FsControlPlane;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let admin: uuid::Uuid = "0192f0c4-0000-7000-8000-0000000000a1".parse().expect("uuid");
    for (fixture, what) in [
        ("integer-overflow-u32", "tenants"),
        ("float-in-integer-field", "tenants"),
        ("integer-overflow-i64", "tenants"),
        ("duplicate-user-field-name", "tenants"),
        ("select-field-without-options", "tenants"),
        ("logo-url-not-a-url", "tenants"),
        ("confidential-client-without-secret", "clients"),
        ("public-client-with-client-credentials", "clients"),
        ("public-client-with-secret", "clients"),
        ("token-expires-before-created", "tokens"),
    ] {
        let dir = root.join(fixture);
        let expected: Vec<Expected> = expected_of(&dir);
        let cp = FsControlPlane::new(&dir, None);
        let err = runtime.block_on(async {
            match what {
                "tenants" => cp.tenants().list().await.map(|_| ()),
                "clients" => cp.clients("acme").expect("clients").list("").await.map(|_| ()),
                _ => cp.admin_refresh_tokens().list_by_admin(admin).await.map(|_| ()),
            }
        });
        let Err(StoreError::InvalidConfig { problems }) = err else {
            panic!("{fixture}: the store loaded it: {err:?}");
        };
        for e in &expected {
            assert!(
                problems.iter().any(|p| p.file == dir.join(&e.file).display().to_string()
                    && (p.line, p.column) == (e.line, e.column)
                    && p.pointer == e.pointer
                    && p.message.contains(&e.fragment)),
                "{fixture}: expected {}:{}:{}: {}: …{}…, the store said {problems:#?}",
                e.file,
                e.line,
                e.column,
                e.pointer,
                e.fragment
            );
        }
    }
}
