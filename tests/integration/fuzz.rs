//! Fuzzing with proptest (stable Rust; cargo-fuzz would need nightly): the control-plane YAML
//! parser and validators, and the model's pure validators, on arbitrary and mutated input.
//! Each target is bounded by a case count and a deadline (cases after it pass unexamined),
//! so a run stays well under a minute on two cores. A failing input proptest finds is
//! written to `proptest-regressions/`; the crashes found so far are kept below as explicit
//! tests.

use std::time::{Duration, Instant};

use crate::support::{copy_tree, repo};
use hellojohn_store::StoreError;
use hellojohn_store::adapters::fs::tree::validate_text;
use hellojohn_store::adapters::fs::{FileKind, FsControlPlane, validate_slug};
use hellojohn_store::manager::namespace_name;
use hellojohn_store::model::{
    AdminFilter, normalize_email, redirect_uri_problem, validate_client_id, validate_email,
    validate_redirect_uri,
};
use hellojohn_store::password::verify_password;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// How long one target may take before the remaining cases pass unexamined.
const BUDGET: Duration = Duration::from_secs(20);

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..Config::default()
    })
}

/// Runs `test` on `cases` values of `strategy`, or until [`BUDGET`] is spent.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let deadline = Instant::now() + BUDGET;
    let mut runner = runner(cases);
    let result = runner.run(&strategy, |value| if Instant::now() > deadline { Ok(()) } else { test(value) });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// The example files and their kinds.
fn examples() -> Vec<(FileKind, String)> {
    [
        (FileKind::Tenant, "examples/data/tenants/acme/tenant.yaml"),
        (FileKind::Clients, "examples/data/tenants/acme/clients.yaml"),
        (FileKind::Scopes, "examples/data/tenants/acme/scopes.yaml"),
        (FileKind::Tenant, "examples/data/tenants/globex/tenant.yaml"),
        (FileKind::Clients, "examples/data/tenants/globex/clients.yaml"),
        (FileKind::Admins, "examples/data/admins/admins.yaml"),
        (FileKind::AdminRefreshTokens, "examples/data/admins/refresh_tokens.yaml"),
    ]
    .into_iter()
    .map(|(kind, path)| (kind, std::fs::read_to_string(repo(path)).expect("example file")))
    .collect()
}

fn kind() -> impl Strategy<Value = FileKind> {
    prop::sample::select(FileKind::ALL.to_vec())
}

/// YAML-ish text: fragments YAML parsers trip on, mixed with arbitrary characters.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("\n".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("  ".to_string()),
        Just("&a ".to_string()),
        Just("*a".to_string()),
        Just("<<: *a\n".to_string()),
        Just("!!binary ".to_string()),
        Just("!tag ".to_string()),
        Just("? ".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("|\n".to_string()),
        Just(">-\n".to_string()),
        Just("---\n".to_string()),
        Just("...\n".to_string()),
        Just(".inf".to_string()),
        Just(".nan".to_string()),
        Just("1e999".to_string()),
        Just("-0x8000000000000000".to_string()),
        Just("clients".to_string()),
        Just("slug".to_string()),
        Just("\u{feff}".to_string()),
        Just("\t".to_string()),
        Just("\0".to_string()),
        any::<char>().prop_map(String::from),
        "[a-z_]{1,12}",
    ];
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

/// A mutation of an example text: bytes replaced, inserted, deleted or duplicated.
#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, String),
    Insert(prop::sample::Index, String),
    Delete(prop::sample::Index, usize),
    Duplicate(prop::sample::Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop_oneof!["[ -~]{0,8}", yamlish().prop_map(|s| s.chars().take(16).collect())];
    prop_oneof![
        (any::<prop::sample::Index>(), text.clone()).prop_map(|(i, s)| Edit::Replace(i, s)),
        (any::<prop::sample::Index>(), text).prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<prop::sample::Index>(), 0usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<prop::sample::Index>(), 0usize..200).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let at = |i: &prop::sample::Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
        match e {
            Edit::Replace(i, s) => {
                let start = at(i, chars.len()).min(chars.len());
                let end = (start + s.chars().count()).min(chars.len());
                chars.splice(start..end, s.chars());
            }
            Edit::Insert(i, s) => {
                let start = at(i, chars.len()).min(chars.len());
                chars.splice(start..start, s.chars());
            }
            Edit::Delete(i, n) => {
                let start = at(i, chars.len()).min(chars.len());
                let end = (start + n).min(chars.len());
                chars.drain(start..end);
            }
            Edit::Duplicate(i, n) => {
                let start = at(i, chars.len()).min(chars.len());
                let end = (start + n).min(chars.len());
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, copy);
            }
        }
    }
    chars.into_iter().collect()
}

/// A structured mutation of a parsed example: the value at a path replaced by another.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("enc:v1:AAAA")),
        Just(json!("https://evil.example/#x")),
        Just(json!("../../etc/passwd")),
        Just(json!("00000000-0000-0000-0000-000000000000")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn mutate_json(
    node: &mut serde_json::Value,
    path: &[prop::sample::Index],
    new: serde_json::Value,
    delete: bool,
) {
    use serde_json::Value;
    let Some((i, rest)) = path.split_first() else {
        *node = new;
        return;
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(i.index(map.len())).cloned().unwrap_or_default();
            if !rest.is_empty() {
                if let Some(child) = map.get_mut(&key) {
                    mutate_json(child, rest, new, delete);
                }
            } else if delete {
                map.remove(&key);
            } else {
                map.insert(key, new);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let at = i.index(items.len());
            if !rest.is_empty() {
                mutate_json(&mut items[at], rest, new, delete);
            } else if delete {
                items.remove(at);
            } else {
                items[at] = new;
            }
        }
        _ => *node = new,
    }
}

#[test]
fn fuzz_yaml_validator_never_panics_on_arbitrary_text() {
    let strategy = (
        kind(),
        prop_oneof![
            yamlish(),
            ".{0,200}",
            prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        ],
    );
    fuzz("arbitrary text", 3000, strategy, |(kind, text)| {
        let _ = validate_text(kind, "fuzz.yaml", &text);
        Ok(())
    });
}

#[test]
fn fuzz_yaml_validator_never_panics_on_mutated_examples() {
    let examples = examples();
    for (kind, text) in &examples {
        assert!(validate_text(*kind, "example.yaml", text).is_empty(), "the example files are valid");
    }
    let strategy = (prop::sample::select(examples), prop::collection::vec(edit(), 1..6));
    fuzz("mutated examples", 1500, strategy, |((kind, text), edits)| {
        let mutated = apply(&text, &edits);
        let _ = validate_text(kind, "fuzz.yaml", &mutated);
        Ok(())
    });
}

#[test]
fn fuzz_yaml_validator_never_panics_on_structurally_mutated_examples() {
    let examples: Vec<(FileKind, serde_json::Value)> =
        examples().into_iter().map(|(k, t)| (k, serde_yaml::from_str(&t).expect("example parses"))).collect();
    let strategy = (
        prop::sample::select(examples),
        prop::collection::vec(any::<prop::sample::Index>(), 1..5),
        json_value(),
        any::<bool>(),
    );
    fuzz("structured mutations", 1500, strategy, |((kind, mut doc), path, new, delete)| {
        mutate_json(&mut doc, &path, new, delete);
        let text = serde_yaml::to_string(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let _ = validate_text(kind, "fuzz.yaml", &text);
        Ok(())
    });
}

/// Panics unless `result` is `Ok` or `InvalidConfig`.
fn ok_or_invalid_config<T>(result: Result<T, StoreError>, what: &str) -> Result<(), TestCaseError> {
    match result {
        Ok(_) | Err(StoreError::InvalidConfig { .. }) => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("{what}: expected Ok or InvalidConfig, got {e:?}"))),
    }
}

#[test]
fn fuzz_fs_store_reads_of_mutated_files_are_ok_or_invalid_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    copy_tree(&repo("examples/data"), &root);
    let files = [
        "tenants/acme/tenant.yaml",
        "tenants/acme/clients.yaml",
        "tenants/acme/scopes.yaml",
        "admins/admins.yaml",
        "admins/refresh_tokens.yaml",
    ];
    let originals: Vec<(String, String)> =
        files.iter().map(|f| (f.to_string(), std::fs::read_to_string(root.join(f)).expect("read"))).collect();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let strategy = (prop::sample::select(originals.clone()), prop::collection::vec(edit(), 1..5));
    fuzz("FS store reads", 400, strategy, |((file, text), edits)| {
        let path = root.join(&file);
        std::fs::write(&path, apply(&text, &edits)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let cp = FsControlPlane::new(&root, None);
        let outcome = rt.block_on(async {
            ok_or_invalid_config(cp.tenants().get_by_slug("acme").await, "tenants.get_by_slug")?;
            ok_or_invalid_config(cp.tenants().list().await, "tenants.list")?;
            if let Ok(clients) = cp.clients("acme") {
                ok_or_invalid_config(clients.list("").await, "clients.list")?;
            }
            if let Ok(scopes) = cp.scopes("acme") {
                ok_or_invalid_config(scopes.list().await, "scopes.list")?;
            }
            ok_or_invalid_config(cp.admins().list(&AdminFilter::default()).await, "admins.list")?;
            ok_or_invalid_config(
                cp.admin_refresh_tokens().list_by_admin(uuid::Uuid::nil()).await,
                "admin_refresh_tokens.list_by_admin",
            )
        });
        std::fs::write(&path, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        outcome
    });
}

#[test]
fn fuzz_slug_and_client_id_validators_match_their_patterns() {
    let slug = prop_oneof!["[a-z0-9][a-z0-9-]{0,62}", ".{0,70}", "[a-z0-9_.-]{0,70}"];
    fuzz("slugs", 3000, slug, |slug| {
        let valid = validate_slug(&slug).is_ok();
        let mut bytes = slug.bytes();
        let expected = slug.len() <= 63
            && bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        prop_assert_eq!(valid, expected, "validate_slug({:?})", slug);
        if valid {
            let namespace = namespace_name(&slug);
            prop_assert!(migration::is_valid_namespace(&namespace), "{slug:?} → {namespace:?}");
            prop_assert!(!namespace.contains(['/', '.', '"', '`', '\\']), "{namespace:?}");
        }
        Ok(())
    });
    let client_id = prop_oneof!["[A-Za-z0-9._-]{3,128}", ".{0,140}", "[A-Za-z0-9._/ -]{0,140}"];
    fuzz("client ids", 3000, client_id, |id| {
        let expected = (3..=128).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        prop_assert_eq!(validate_client_id(&id).is_ok(), expected, "validate_client_id({:?})", id);
        Ok(())
    });
}

#[test]
fn fuzz_redirect_uri_validator_never_accepts_what_it_must_refuse() {
    let scheme = prop::sample::select(vec![
        "https",
        "http",
        "HTTPS",
        "javascript",
        "data",
        "file",
        "vbscript",
        "com.example.app",
        "app",
        "",
    ]);
    let sep = prop::sample::select(vec!["://", ":/", ":", ":///", "//"]);
    let host = prop_oneof![
        prop::sample::select(vec![
            "localhost",
            "127.0.0.1",
            "[::1]",
            "example.com",
            "user:pw@example.com",
            "@example.com",
            "localhost.evil.example",
            "",
        ])
        .prop_map(String::from),
        "[a-z0-9.:@\\[\\]%-]{0,20}",
    ];
    let rest = prop_oneof![
        prop::sample::select(vec!["", "/cb", "/cb?x=1", "/cb#f", "/c b"]).prop_map(String::from),
        ".{0,20}",
    ];
    let uri =
        prop_oneof![(scheme, sep, host, rest).prop_map(|(s, p, h, r)| format!("{s}{p}{h}{r}")), ".{0,60}",];
    fuzz("redirect URIs", 4000, uri, |uri| {
        let accepted = redirect_uri_problem(&uri).is_none();
        prop_assert_eq!(accepted, validate_redirect_uri(&uri).is_ok());
        if accepted {
            prop_assert!(!uri.contains('#'), "fragment accepted: {uri:?}");
            prop_assert!(!uri.chars().any(|c| c.is_whitespace() || c.is_control()), "{uri:?}");
            let url = url::Url::parse(&uri).map_err(|e| TestCaseError::fail(format!("{uri:?}: {e}")))?;
            prop_assert!(url.username().is_empty() && url.password().is_none(), "userinfo accepted: {uri:?}");
            let scheme = url.scheme();
            prop_assert!(
                !["javascript", "data", "file", "vbscript"].contains(&scheme),
                "dangerous scheme accepted: {uri:?}"
            );
            if scheme == "http" {
                let host = url.host_str().unwrap_or_default();
                prop_assert!(
                    host == "localhost" || host.starts_with("127.") || host == "[::1]",
                    "non-loopback http accepted: {uri:?}"
                );
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_email_validator_and_normalizer_never_panic() {
    let email = prop_oneof!["[a-zA-Z0-9.+_-]{1,20}@[a-zA-Z0-9.-]{1,20}", ".{0,80}", "\\PC{0,40}@\\PC{0,40}"];
    fuzz("e-mails", 3000, email, |email| {
        let normalized = normalize_email(&email);
        prop_assert_eq!(normalize_email(&normalized), normalized.clone(), "normalisation is idempotent");
        if let Ok((trimmed, norm)) = validate_email(&email) {
            prop_assert_eq!(norm, normalize_email(&trimmed));
        }
        Ok(())
    });
}

#[test]
fn fuzz_check_password_never_panics_on_arbitrary_hashes() {
    // Cheap parameters only: a well-formed hash with a huge cost (argon2 `m=4194304`, bcrypt
    // cost 31) is a denial of service of its own, the concern of the password-hash limits,
    // not something to run here.
    let b64 = "[A-Za-z0-9+/]{0,40}";
    let hash = prop_oneof![
        ".{0,80}",
        (b64, b64).prop_map(|(s, h)| format!("$argon2id$v=19$m=8,t=1,p=1${s}${h}")),
        ("[a-z0-9=,$]{0,30}", b64).prop_map(|(p, h)| format!("$argon2id${p}${h}")),
        (prop_oneof![Just("2a"), Just("2b"), Just("2y"), Just("2x")], "[./A-Za-z0-9]{0,60}")
            .prop_map(|(v, h)| format!("${v}$04${h}")),
        Just(String::new()),
    ];
    fuzz("password hashes", 1500, (hash, ".{0,40}"), |(hash, password)| {
        let _ = verify_password(Some(&hash), &password);
        prop_assert!(!verify_password(None, &password));
        Ok(())
    });
}

/// Hostile texts tried by hand beside the fuzzers (deep block nesting, deep flow nesting in a
/// file with a problem — so that the position map is built —, a megabyte key, NUL bytes, tags,
/// huge numbers, CRLF line ends): each is refused with problems, none panics.
#[test]
fn hostile_control_plane_texts_are_problems_not_panics() {
    let deep_block: String = (0..5000).map(|d| format!("{}a:\n", " ".repeat(d))).collect();
    let deep_flow_with_problem = format!("clients: 1\nx: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let texts = [
        deep_block,
        deep_flow_with_problem,
        format!("{}: 1\n", "k".repeat(1 << 20)),
        "clients:\n- client_id: a\0b\n".to_string(),
        "clients: !!python/object:os.system [ls]\n".to_string(),
        "clients:\n- access_token_ttl_secs: 1e400\n".to_string(),
        "clients:\n- access_token_ttl_secs: -99999999999999999999999\n".to_string(),
        "clients:\r\n- client_id: web\r\n  name: x\r\n  redirect_uris: [\"javascript:alert(1)\"]\r\n"
            .to_string(),
        "\u{feff}\u{feff}clients: []\n".to_string(),
    ];
    for text in &texts {
        for kind in FileKind::ALL {
            let problems = validate_text(kind, "hostile.yaml", text);
            assert!(
                !problems.is_empty(),
                "{kind:?} accepted {:?}",
                text.chars().take(60).collect::<String>()
            );
        }
    }
}
