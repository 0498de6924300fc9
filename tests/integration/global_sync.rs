//! `sync import` then `sync export` of `examples/data` through a global database
//! reproduces the tree (secrets stay `enc:v1:` sealed); the CLI does the same on MariaDB.
#![cfg(all(feature = "postgres", feature = "mysql"))]

use std::path::{Path, PathBuf};
use std::process::Command;

use hellojohn_store::adapters::fs::tree::validate_tree;
use hellojohn_store::adapters::global::sync::{export_tree, import_tree};
use hellojohn_store::conformance::global::{
    drop_mysql_global_db, drop_postgres_global_db, fresh_mysql_global_db, fresh_postgres_global_db,
    open_global, random_key,
};

fn example_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data")
}

fn yaml_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path.strip_prefix(root).expect("prefix").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).expect("read")).expect("yaml")
}

/// Every YAML file of `a` is in `b` with the same content (as YAML values), and no more.
fn assert_same_tree(a: &Path, b: &Path) {
    assert_eq!(yaml_files(a), yaml_files(b), "same files");
    for rel in yaml_files(a) {
        assert_eq!(yaml(&a.join(&rel)), yaml(&b.join(&rel)), "{} differs", rel.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_then_export_reproduces_the_tree_on_postgres() {
    let (db, schema) = fresh_postgres_global_db().await;
    let cp = open_global(&db, &random_key()).await;
    let report = import_tree(&cp, &example_root(), None).await.expect("import");
    println!("{report}");
    assert_eq!(report.tenants.added, 2);
    assert!(report.clients.added > 0 && report.admins.added > 0);
    assert_eq!(report.tenants.removed + report.tenants.updated, 0);

    let out = tempfile::tempdir().expect("tempdir");
    export_tree(&cp, out.path()).await.expect("export");
    assert!(validate_tree(out.path()).expect("validate").is_empty(), "the export validates");
    assert_same_tree(&example_root(), out.path());
    for rel in yaml_files(&example_root()) {
        let original = std::fs::read_to_string(example_root().join(&rel)).expect("read");
        let exported = std::fs::read_to_string(out.path().join(&rel)).expect("read");
        assert_eq!(
            original.matches("enc:v1:").count(),
            exported.matches("enc:v1:").count(),
            "{}",
            rel.display()
        );
    }

    // Importing the export again changes nothing.
    let again = import_tree(&cp, out.path(), None).await.expect("import again");
    assert!(again.is_empty(), "{again}");
    drop(cp);
    drop_postgres_global_db(&schema).await;
}

/// Copies every file of `from` into `to` (symlinks followed).
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_reports_each_change_and_a_broken_tree_changes_nothing() {
    use hellojohn_store::repository::ControlPlaneStore;
    let (db, schema) = fresh_postgres_global_db().await;
    let cp = open_global(&db, &random_key()).await;
    import_tree(&cp, &example_root(), None).await.expect("import");

    // An edited copy: one tenant gone, one client renamed.
    let edited = tempfile::tempdir().expect("tempdir");
    copy_tree(&example_root(), edited.path());
    let globex_clients = yaml(&edited.path().join("tenants/globex/clients.yaml"));
    let globex_clients = globex_clients["clients"].as_sequence().expect("clients").len() as u64;
    std::fs::remove_dir_all(edited.path().join("tenants/globex")).expect("remove globex");
    let clients = edited.path().join("tenants/acme/clients.yaml");
    let text = std::fs::read_to_string(&clients).expect("read");
    std::fs::write(&clients, text.replacen("name: Billing API", "name: Billing API v2", 1)).expect("write");
    let report = import_tree(&cp, edited.path(), None).await.expect("import the edit");
    assert_eq!((report.tenants.added, report.tenants.updated, report.tenants.removed), (0, 0, 1), "{report}");
    assert_eq!(report.clients.updated, 1, "{report}");
    assert_eq!(report.clients.removed, globex_clients, "the removed tenant's clients go with it: {report}");
    assert_eq!(report.clients.added, 0, "{report}");

    // A broken copy (an unknown key in a tenant file) is refused before anything is written.
    let version = cp.version();
    let before = tempfile::tempdir().expect("tempdir");
    export_tree(&cp, before.path()).await.expect("export before");
    let broken = tempfile::tempdir().expect("tempdir");
    copy_tree(edited.path(), broken.path());
    let tenant = broken.path().join("tenants/acme/tenant.yaml");
    let text = std::fs::read_to_string(&tenant).expect("read");
    std::fs::write(&tenant, format!("{text}colour: purple\n")).expect("write");
    std::fs::remove_file(broken.path().join("admins/admins.yaml")).expect("a removal the import would make");
    let err = import_tree(&cp, broken.path(), None).await.expect_err("broken tree refused");
    assert!(err.to_string().contains("tenant.yaml"), "the error names the file: {err}");
    assert_eq!(cp.version(), version, "no write reached the database");
    let after = tempfile::tempdir().expect("tempdir");
    export_tree(&cp, after.path()).await.expect("export after");
    assert_same_tree(before.path(), after.path());
    drop(cp);
    drop_postgres_global_db(&schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_sync_import_and_export_on_mariadb() {
    let (db, database) = fresh_mysql_global_db().await;
    let bin = env!("CARGO_BIN_EXE_hellojohn-store");
    let run = |args: &[&str]| {
        let output = Command::new(bin)
            .args(args)
            .env("HJ_GLOBAL_DB_DRIVER", "mysql")
            .env("HJ_GLOBAL_DB_DSN", &db.dsn)
            .env_remove("HJ_SECRET_KEY")
            .output()
            .expect("run the CLI");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{args:?}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
        stdout
    };
    let root = example_root();
    let imported = run(&["sync", "import", root.to_str().expect("utf-8")]);
    println!("{imported}");
    assert!(imported.contains("tenants               2 added, 0 updated, 0 removed"), "{imported}");
    let out = tempfile::tempdir().expect("tempdir");
    let exported = run(&["sync", "export", out.path().to_str().expect("utf-8")]);
    println!("{exported}");
    assert_same_tree(&root, out.path());
    let again = run(&["sync", "import", out.path().to_str().expect("utf-8")]);
    assert!(again.contains("(no changes)"), "{again}");
    // `status` names the mode and the version this replica reads (its exit code depends on
    // the example tenants' own databases, which this test does not start).
    let status = Command::new(bin)
        .arg("status")
        .env("HJ_GLOBAL_DB_DRIVER", "mysql")
        .env("HJ_GLOBAL_DB_DSN", &db.dsn)
        .env_remove("HJ_SECRET_KEY")
        .output()
        .expect("run status");
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("fs_global_db"), "{stdout}");
    assert!(stdout.contains("control plane: global database, version "), "{stdout}");
    drop_mysql_global_db(&database).await;
}
