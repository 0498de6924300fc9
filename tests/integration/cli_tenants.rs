//! The operator commands on a real tree and real databases: `tenant create`, `tenants list`,
//! `tenant provision` (failure recorded, then ready once the database is reachable),
//! `migrate --all [--jobs N]` (exit 1 naming the tenant whose database fails) and `status` (a
//! ping and the provisioning state per tenant, the server pools, the control-plane version on
//! a global database).

use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs the CLI on the FS root `root`, with the default tenant database on SQLite files
/// beside it.
fn cli(root: &Path, args: &[&str]) -> Output {
    let dsn = format!("sqlite://{}/{{tenant}}.db?mode=rwc", root.display());
    cli_on(root, &dsn, args)
}

/// Runs the CLI on the FS root `root` with the default tenant database template `dsn` (SQLite).
fn cli_on(root: &Path, dsn: &str, args: &[&str]) -> Output {
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

/// The `provisioning:` block of a tenant's file.
fn provisioning_of(root: &Path, slug: &str) -> String {
    let stored =
        std::fs::read_to_string(root.join(format!("tenants/{slug}/tenant.yaml"))).expect("tenant.yaml");
    let at = stored.find("provisioning:").unwrap_or_else(|| panic!("no provisioning recorded: {stored}"));
    stored[at..]
        .lines()
        .take_while(|l| l.starts_with("provisioning:") || l.starts_with("  "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn tenant_provision_records_ready_and_failed_and_a_failed_tenant_is_retried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();

    // The default template: created and provisioned; `tenant provision` again is ready too.
    let out = cli(root, &["tenant", "create", "acme"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("database of acme ready (schema version m"), "{stdout}");
    let out = cli(root, &["tenant", "provision", "acme"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("database of acme ready (schema version m"), "{stdout}");
    let recorded = provisioning_of(root, "acme");
    assert!(recorded.contains("state: ready") && recorded.contains("schema_version: m"), "{recorded}");
    assert!(root.join("acme.db").is_file());

    // A template the database cannot be made at (a folder that is a file): create says so,
    // with the retry hint, and records `failed`; `tenant provision` fails the same way.
    std::fs::write(root.join("not-a-dir"), b"").expect("write a file");
    let unreachable = format!("sqlite://{}/not-a-dir/{{tenant}}.db?mode=rwc", root.display());
    let out = cli_on(root, &unreachable, &["tenant", "create", "late"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("created tenant late"), "{stdout}");
    assert!(
        stderr.contains("could not be prepared")
            && stderr.contains("retry with: hellojohn-store tenant provision late"),
        "{stderr}"
    );
    let recorded = provisioning_of(root, "late");
    assert!(recorded.contains("state: failed") && recorded.contains("error:"), "{recorded}");
    let out = cli_on(root, &unreachable, &["tenant", "provision", "late"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the database of late could not be prepared") && stderr.contains("sqlite"),
        "{stderr}"
    );
    assert!(!stdout.contains("ready"), "{stdout}");

    // `tenants list` and `status` show the state.
    let (listed, _) = text(&cli_on(root, &unreachable, &["tenants", "list"]));
    let line = |text: &str, slug: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{slug} ")))
            .unwrap_or_else(|| panic!("{slug}: {text}"))
            .to_string()
    };
    assert!(listed.contains("provisioning"), "{listed}");
    assert!(line(&listed, "acme").contains(" ready "), "{listed}");
    assert!(line(&listed, "late").contains(" failed "), "{listed}");
    assert!(listed.contains("1 whose database could not be prepared"), "{listed}");
    let out = cli_on(root, &unreachable, &["status"]);
    let (status, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "late is down: {status}");
    assert!(line(&status, "late").contains(" failed "), "{status}");
    assert!(status.contains("provisioning failed at"), "the recorded error is shown: {status}");

    // Pointed somewhere reachable, the retry succeeds and is recorded.
    let out = cli(root, &["tenant", "provision", "late"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("database of late ready (schema version m"), "{stdout}");
    let recorded = provisioning_of(root, "late");
    assert!(recorded.contains("state: ready") && !recorded.contains("error:"), "{recorded}");
    assert!(root.join("late.db").is_file());
    let (listed, _) = text(&cli(root, &["tenants", "list"]));
    assert!(line(&listed, "late").contains(" ready "), "{listed}");

    // An unknown tenant is an error, not a success.
    let out = cli(root, &["tenant", "provision", "nobody"]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert!(text(&out).1.contains("nobody"), "{:?}", text(&out));
}

#[test]
fn tenant_provision_of_a_tenant_whose_own_database_does_not_answer_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // Nothing listens on port 1.
    let out = cli(root, &["tenant", "create", "broken", "--db", "postgres://postgres@127.0.0.1:1/x"]);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    let out = cli(root, &["tenant", "provision", "broken"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the database of broken could not be prepared") && stderr.contains("unavailable"),
        "{stderr}"
    );
    assert!(!stderr.contains("127.0.0.1:1"), "no DSN in the message: {stderr}");
    assert!(provisioning_of(root, "broken").contains("state: failed"));
}

#[test]
fn migrate_all_in_parallel_then_status_shows_the_server_pools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let slugs: Vec<String> = (0..10).map(|i| format!("t{i:02}")).collect();
    for slug in &slugs {
        let out = cli(root, &["tenant", "create", slug]);
        assert!(out.status.success(), "create {slug}: {:?}", text(&out));
    }

    let out = cli(root, &["migrate", "--all", "--jobs", "4"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("migrated 10 tenant(s), skipped 0 without a database, 0 failed"), "{stdout}");
    // Not a terminal: the progress bar draws nothing.
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}') && !stderr.contains('\r'),
        "{stdout:?}{stderr:?}"
    );
    assert_eq!(stdout.lines().count(), 1, "the summary only: {stdout}");
    for slug in &slugs {
        assert!(root.join(format!("{slug}.db")).is_file(), "{slug}");
        assert!(provisioning_of(root, slug).contains("state: ready"), "{slug}");
    }
    let out = cli(root, &["migrate", "--all", "--jobs", "0"]);
    assert_eq!(out.status.code(), Some(2), "--jobs 0 is a usage error: {:?}", text(&out));

    let out = cli(root, &["status"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("tenants: 10"), "{stdout}");
    for slug in &slugs {
        let line = stdout.lines().find(|l| l.starts_with(&format!("{slug} "))).expect("a line per tenant");
        assert!(line.contains("sqlite") && line.contains(" ready ") && line.contains(" ok "), "{line}");
    }
    // One pool per SQLite file, each with the one tenant that pinged it.
    assert!(stdout.contains("server pools: 10 open"), "{stdout}");
    assert!(
        stdout.contains("size/max") && stdout.contains("waiting") && stdout.contains("tenants"),
        "{stdout}"
    );
    let pools: Vec<&str> = stdout.lines().filter(|l| l.starts_with("sqlite ") && l.contains(".db")).collect();
    assert_eq!(pools.len(), 10, "{stdout}");
    for slug in &slugs {
        let pool = pools.iter().find(|l| l.contains(&format!("/{slug}.db"))).expect("the tenant's pool");
        let columns: Vec<&str> = pool.split_whitespace().collect();
        assert_eq!(columns[5], "1", "one tenant on {pool}");
        assert_eq!(columns[4], "0", "nobody waiting on {pool}");
    }
}

/// A tenant name is free text from a file: `tenants list` prints its control characters
/// escaped, so a name cannot clear the screen or forge a row of the listing.
#[test]
fn tenants_list_escapes_control_characters_in_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let out = cli(root, &["tenant", "create", "acme"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let file = root.join("tenants/acme/tenant.yaml");
    let yaml = std::fs::read_to_string(&file).expect("read");
    let at = yaml.find("\nname: ").expect("name line") + 1;
    let end = at + yaml[at..].find('\n').expect("end");
    let hostile = "name: \"\\e[2J\\e]0;PWNED\\aEvil\\nglobex fake-row\"";
    std::fs::write(&file, format!("{}{hostile}{}", &yaml[..at], &yaml[end..])).expect("write");
    let (listed, stderr) = text(&cli(root, &["tenants", "list"]));
    assert!(listed.contains("1 tenant(s)"), "{listed}{stderr}");
    assert!(!listed.contains('\u{1b}') && !listed.contains('\u{7}'), "{listed:?}");
    assert!(listed.contains("\\u{1b}[2J\\u{1b}]0;PWNED\\u{7}Evil\\u{a}globex fake-row"), "{listed}");
    assert!(!listed.lines().any(|l| l.starts_with("globex")), "{listed}");
}
