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
    drop_mysql_global_db(&database).await;
}
