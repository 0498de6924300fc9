//! The `hellojohn-store validate` and `schema export` commands, run as a real binary.

use std::process::Command;

use crate::support::{copy_tree, repo};
use hellojohn_store::adapters::fs::FileKind;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hellojohn-store"))
}

/// 1-based line of the first line of `text` containing `needle`, and the column where the
/// value after `key: ` starts.
fn locate(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).expect("needle in text")
}

#[test]
fn validate_exits_0_on_the_example_tree() {
    let out = bin().args(["validate"]).arg(repo("examples/data")).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn validate_exits_1_on_a_broken_copy_and_prints_every_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    copy_tree(&repo("examples/data"), &root);
    let clients_path = root.join("tenants/acme/clients.yaml");
    let clients = std::fs::read_to_string(&clients_path).expect("read");
    let broken = clients.replacen("type: public", "type: publik", 1).replacen(
        "- https://app.acme.example/callback",
        "- http://app.acme.example/callback",
        1,
    );
    std::fs::write(&clients_path, &broken).expect("write");
    let tenant_path = root.join("tenants/globex/tenant.yaml");
    let tenant = std::fs::read_to_string(&tenant_path).expect("read");
    let broken_tenant = tenant.replacen("slug: globex", "slug: globex-inc", 1);
    std::fs::write(&tenant_path, &broken_tenant).expect("write");

    let out = bin().arg("validate").arg(&root).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let c = clients_path.display();
    let t = tenant_path.display();
    let type_line = locate(&broken, "type: publik");
    let uri_line = locate(&broken, "- http://app.acme.example/callback");
    let slug_line = locate(&broken_tenant, "slug: globex-inc");
    let expected = [
        format!("{c}:{type_line}:9: /clients/1/type: \"publik\" is not one of \"public\", \"confidential\""),
        format!(
            "{c}:{uri_line}:5: /clients/1/redirect_uris/0: redirect URI \"http://app.acme.example/callback\" must use https"
        ),
        format!("{t}:{slug_line}:7: /slug: slug \"globex-inc\" does not match its folder name \"globex\""),
    ];
    for e in &expected {
        assert!(stdout.lines().any(|l| l.starts_with(e.as_str())), "missing {e:?} in:\n{stdout}");
    }
    assert_eq!(stdout.lines().count(), expected.len(), "{stdout}");
}

#[test]
fn validate_exits_2_on_usage_errors() {
    let missing = bin().args(["validate", "/definitely/not/here"]).output().expect("run");
    assert_eq!(missing.status.code(), Some(2));
    let no_arg = bin().arg("validate").output().expect("run");
    assert_eq!(no_arg.status.code(), Some(2));
    let bad_flag = bin().args(["validate", "--frobnicate", "x"]).output().expect("run");
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn schema_export_writes_the_committed_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bin().args(["schema", "export"]).arg(dir.path()).output().expect("run");
    assert_eq!(out.status.code(), Some(0));
    for kind in FileKind::ALL {
        let exported = std::fs::read_to_string(dir.path().join(kind.schema_file_name())).expect("exported");
        let committed = std::fs::read_to_string(repo("schemas").join(kind.schema_file_name()))
            .unwrap_or_else(|_| panic!("schemas/{} is missing: run `make schemas`", kind.schema_file_name()));
        assert_eq!(
            exported,
            committed,
            "schemas/{} drifted from the Rust types: run `hellojohn-store schema export schemas`",
            kind.schema_file_name()
        );
    }
}

const EXAMPLE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn validate_decrypt_checks_every_secret_opens_for_its_tenant_and_field() {
    let ok = bin()
        .args(["validate", "--decrypt"])
        .arg(repo("examples/data"))
        .env("HJ_SECRET_KEY", EXAMPLE_KEY)
        .output()
        .expect("run");
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));

    let no_key =
        bin().args(["validate", "--decrypt"]).arg(repo("examples/data")).env_remove("HJ_SECRET_KEY").output();
    assert_eq!(no_key.expect("run").status.code(), Some(2));

    // Move acme's DSN ciphertext into globex: the format is fine, so plain validation passes,
    // but it does not open as globex's DSN.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    copy_tree(&repo("examples/data"), &root);
    let acme = std::fs::read_to_string(root.join("tenants/acme/tenant.yaml")).expect("read");
    let dsn_line =
        acme.lines().find(|l| l.trim_start().starts_with("dsn: ")).expect("dsn line").trim().to_string();
    let globex_path = root.join("tenants/globex/tenant.yaml");
    let globex = std::fs::read_to_string(&globex_path).expect("read");
    let moved = globex.replacen(
        "settings:\n",
        &format!("settings:\n  user_db:\n    driver: postgres\n    {dsn_line}\n"),
        1,
    );
    std::fs::write(&globex_path, &moved).expect("write");
    let plain = bin().arg("validate").arg(&root).output().expect("run");
    assert_eq!(plain.status.code(), Some(0), "{}", String::from_utf8_lossy(&plain.stdout));
    let out = bin()
        .args(["validate", "--decrypt"])
        .arg(&root)
        .env("HJ_SECRET_KEY", EXAMPLE_KEY)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = locate(&moved, "dsn: enc:v1:");
    let expected = format!(
        "{}:{line}:10: /settings/user_db/dsn: does not decrypt as user_db.dsn of tenant globex",
        globex_path.display()
    );
    assert!(stdout.starts_with(&expected), "expected {expected:?}, got:\n{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

/// A copy of the example tree with `acme`'s `tenant.yaml` edited by `edit`; validate's exit
/// code and stdout.
fn validate_edited(edit: impl FnOnce(&std::path::Path)) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("data");
    copy_tree(&repo("examples/data"), &root);
    edit(&root.join("tenants/acme/tenant.yaml"));
    let out = bin().arg("validate").arg(&root).output().expect("run");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn replace_in(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{from:?} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

/// `namespace: public` put a tenant's tables beside the global control plane's; a schema
/// name the store refuses when it connects is refused when the file is read.
#[test]
fn a_system_namespace_or_a_malformed_own_schema_is_refused() {
    let (code, out) = validate_edited(|p| replace_in(p, "namespace: acme", "namespace: public"));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("/namespace") && out.contains("system schema"), "{out}");

    for bad in [
        "'acme\"; DROP TABLE users; --'",
        "pg_catalog",
        "information_schema",
        "'{tenant}_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
    ] {
        let (code, out) =
            validate_edited(|p| replace_in(p, "    schema: acme\n", &format!("    schema: {bad}\n")));
        assert_eq!(code, Some(1), "{bad}: {out}");
        assert!(
            out.contains("/settings/user_db/schema")
                && (out.contains("not a schema name") || out.contains("names the system schema")),
            "{bad}: {out}"
        );
    }
    // `{tenant}` is the tenant's namespace, as when the store connects: `pg{tenant}` with the
    // namespace `_catalog` names pg_catalog.
    let (code, out) = validate_edited(|p| {
        replace_in(p, "namespace: acme", "namespace: _catalog");
        replace_in(p, "    schema: acme\n", "    schema: 'pg{tenant}'\n");
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("/settings/user_db/schema") && out.contains("system schema \"pg_catalog\""),
        "{out}"
    );

    let (code, out) = validate_edited(|p| replace_in(p, "    schema: acme\n", "    schema: public\n"));
    assert_eq!(code, Some(0), "a dedicated database's public schema: {out}");
}

/// A byte-order mark is YAML (editors write one); a FIFO or a device in place of a file
/// is refused at once instead of hanging or filling memory.
#[test]
fn a_byte_order_mark_is_read_and_a_file_that_is_not_regular_is_refused() {
    let (code, out) = validate_edited(|p| {
        let text = std::fs::read_to_string(p).expect("read");
        std::fs::write(p, format!("\u{feff}{text}")).expect("write");
    });
    assert_eq!(code, Some(0), "{out}");

    let (code, out) = validate_edited(|p| {
        std::fs::remove_file(p).expect("rm");
        std::os::unix::fs::symlink("/dev/zero", p).expect("symlink");
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not a regular file"), "{out}");

    // Opening a FIFO blocks until a writer comes: it is refused before it is opened.
    let (code, out) = validate_edited(|p| {
        std::fs::remove_file(p).expect("rm");
        let status = Command::new("mkfifo").arg(p).status().expect("mkfifo");
        assert!(status.success());
    });
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("not a regular file"), "{out}");
}

/// File names, keys and values that carry terminal escapes are printed escaped: validate's
/// output cannot set the terminal's title or forge a line.
#[test]
fn control_characters_in_what_validate_prints_are_escaped() {
    let (code, out) =
        validate_edited(|p| replace_in(p, "settings:\n", "settings:\n  \"\\e]0;PWNED\\a\\nfake\": 1\n"));
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}]0;PWNED\\u{7}\\u{a}fake"), "{out}");
}
