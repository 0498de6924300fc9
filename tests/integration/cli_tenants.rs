//! The operator commands on a real tree and real databases: `tenant create`, `tenants list`,
//! `migrate --all` (exit 1 naming the tenant whose database fails) and `status` (a ping per
//! tenant, the control-plane version on a global database).

use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs the CLI on the FS root `root`, with the default tenant database on SQLite files
/// beside it.
fn cli(root: &Path, args: &[&str]) -> Output {
    let dsn = format!("sqlite://{}/{{tenant}}.db?mode=rwc", root.display());
    Command::new(env!("CARGO_BIN_EXE_hellojohn-store"))
        .args(args)
        .env("HJ_FS_ROOT", root)
        .env("HJ_TENANT_DB_DRIVER", "sqlite")
        .env("HJ_TENANT_DB_DSN", dsn)
        .env("HJ_SECRET_KEY", KEY)
        .env_remove("HJ_GLOBAL_DB_DRIVER")
        .env_remove("HJ_GLOBAL_DB_DSN")
        .env_remove("HJ_TENANT_DB_SCHEMA")
        .output()
        .expect("run the CLI")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn create_list_migrate_and_status_on_sqlite_then_a_tenant_whose_database_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for slug in ["acme", "globex"] {
        let out = cli(root, &["tenant", "create", slug]);
        assert!(out.status.success(), "create {slug}: {:?}", text(&out));
    }
    let (listed, _) = text(&cli(root, &["tenants", "list"]));
    assert!(
        listed.contains("acme") && listed.contains("globex") && listed.contains("2 tenant(s)"),
        "{listed}"
    );

    let out = cli(root, &["migrate", "--all"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("migrated 2 tenant(s), skipped 0 without a database, 0 failed"), "{stdout}");
    assert!(root.join("acme.db").is_file() && root.join("globex.db").is_file(), "one database per tenant");

    let out = cli(root, &["status"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("fs_tenant_db") && stdout.contains("tenants: 2"), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains("sqlite") && l.contains(" ok ")).count(), 2, "{stdout}");

    // A tenant on its own database that does not answer (nothing listens on port 1).
    let out = cli(root, &["tenant", "create", "broken", "--db", "postgres://postgres@127.0.0.1:1/none"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("created tenant broken"), "{stdout}");
    assert!(stderr.contains("tenant created, but its database could not be prepared"), "{stderr}");
    let stored = std::fs::read_to_string(root.join("tenants/broken/tenant.yaml")).expect("tenant.yaml");
    assert!(stored.contains("enc:v1:") && !stored.contains("127.0.0.1:1"), "the DSN is stored sealed");

    let out = cli(root, &["migrate", "--all"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("migrated 2 tenant(s), skipped 0 without a database, 1 failed"), "{stdout}");
    assert!(stderr.contains("broken:"), "the failing tenant is named: {stderr}");

    let out = cli(root, &["status"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let line = stdout.lines().find(|l| l.starts_with("broken")).expect("a line for broken");
    assert!(line.contains("down"), "{line}");
}

#[test]
fn a_bad_slug_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cli(dir.path(), &["tenant", "create", "../etc"]);
    assert!(!out.status.success());
    assert!(text(&out).1.contains("slug"), "{:?}", text(&out));
    let tenants = dir.path().join("tenants");
    assert!(!tenants.exists() || std::fs::read_dir(&tenants).expect("dir").count() == 0, "nothing written");
}

#[test]
fn delete_list_deleted_and_purge_with_a_dry_run_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    assert!(cli(root, &["tenant", "create", "acme"]).status.success());
    assert!(root.join("acme.db").is_file());
    let out = cli(root, &["tenant", "delete", "acme"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let (listed, _) = text(&cli(root, &["tenants", "list", "--deleted"]));
    assert!(listed.contains("acme") && listed.contains("1 deleted tenant(s) not purged"), "{listed}");

    // Younger than the retention: kept.
    let (kept, _) = text(&cli(root, &["tenant", "purge", "--older-than", "30d"]));
    assert!(kept.contains("0 purged, 0 failed, 1 younger than the retention kept"), "{kept}");
    let out = cli(root, &["tenant", "purge", "--older-than", "0s", "--dry-run"]);
    let (dry, _) = text(&out);
    assert!(out.status.success() && dry.contains("would drop namespace acme"), "{dry}");
    assert!(root.join("acme.db").is_file(), "a dry run drops nothing");

    let out = cli(root, &["tenant", "purge", "--older-than", "0s"]);
    let (done, err) = text(&out);
    assert!(out.status.success(), "{done}{err}");
    assert!(done.contains("acme") && done.contains("1 purged, 0 failed"), "{done}");
    assert!(!root.join("acme.db").exists(), "the purged file is gone");
    let (listed, _) = text(&cli(root, &["tenants", "list", "--deleted"]));
    assert!(listed.contains("0 deleted tenant(s) not purged"), "{listed}");

    let out = cli(root, &["tenant", "purge", "--older-than", "soon"]);
    assert_eq!(out.status.code(), Some(2), "a bad retention is a usage error: {:?}", text(&out));
}
