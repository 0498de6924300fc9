//! A running manager on the FS control plane follows what other writers do to the tree: a
//! second `FsControlPlane` on the same root, `rm`/`mv` in another process, a hand edit.
//! Every check polls with a deadline (the watcher announces within about a second); none
//! asserts how fast.

use std::future::Future;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hellojohn_store::adapters::fs::{FsControlPlane, FsWatch};
use hellojohn_store::crypto::{SecretBox, fields};
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::{ClientInput, CreateUserInput, Secret, Tenant, TenantDbSettings};
use hellojohn_store::{DbConfig, StoreError};

const DEADLINE: Duration = Duration::from_secs(5);

fn key() -> SecretBox {
    SecretBox::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("key")
}

/// A manager on the FS tree `root` following it with `watch`; tenants without a database
/// of their own get a SQLite file beside the tree.
async fn manager(root: &Path, watch: FsWatch) -> Manager {
    let cp = FsControlPlane::new(root, Some(key())).with_watch(watch);
    let template = format!("sqlite://{}/{{tenant}}.db?mode=rwc", root.display());
    Manager::new(
        ManagerConfig::from_fs_root(root)
            .secrets(key())
            .control_plane(Arc::new(cp))
            .default_tenant_db(DbConfig::new("sqlite", template)),
    )
    .await
    .expect("manager")
}

/// Another writer of the same tree, as the CLI or `sync export` in another process is.
fn other_writer(root: &Path) -> FsControlPlane {
    FsControlPlane::new(root, Some(key())).with_watch(FsWatch::Off)
}

/// Polls `check` until it holds, failing after [`DEADLINE`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < DEADLINE, "not within {DEADLINE:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn is_gone(mgr: &Manager, slug: &str) -> bool {
    matches!(mgr.for_tenant(slug).await, Err(StoreError::TenantNotFound { .. }))
}

/// Creates the tenants as another writer would, before the manager (and its watcher) exist,
/// so the only announcements the manager gets are those of what the test does next.
async fn seed(root: &Path, slugs: &[&str]) {
    let other = other_writer(root);
    for slug in slugs {
        other.tenants().create(Tenant::new(*slug, slug.to_uppercase())).await.expect("create");
    }
}

/// Resolves the tenants, so the manager holds their accesses.
async fn cache(mgr: &Manager, slugs: &[&str]) {
    for slug in slugs {
        mgr.for_tenant(slug).await.expect("resolve");
    }
    let cached = mgr.stats().await.cached_tenants;
    assert_eq!(cached, slugs.len() as u64, "every tenant is cached before the other writer acts");
}

fn run(cmd: &mut Command) {
    let status = cmd.status().expect("run");
    assert!(status.success(), "{cmd:?}: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_watcher_a_deleted_tenant_is_served_from_the_cache() {
    // The baseline the watcher fixes: the cache alone never rereads the tree.
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), &["acme"]).await;
    let mgr = manager(dir.path(), FsWatch::Off).await;
    cache(&mgr, &["acme"]).await;
    other_writer(dir.path()).tenants().delete("acme").await.expect("delete");
    assert!(mgr.for_tenant("acme").await.is_ok(), "served from the cache without a watcher");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_deleted_by_another_writer_stops_resolving() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), &["acme", "globex"]).await;
    let mgr = manager(dir.path(), FsWatch::Auto).await;
    cache(&mgr, &["acme", "globex"]).await;
    other_writer(dir.path()).tenants().delete("acme").await.expect("delete");
    eventually("acme, deleted by another control plane, gives TenantNotFound", || is_gone(&mgr, "acme"))
        .await;
    // A folder removed by another process (`rm -rf`, a `git pull` deleting it).
    run(Command::new("rm").arg("-rf").arg(dir.path().join("tenants/globex")));
    eventually("globex, removed by rm -rf, gives TenantNotFound", || is_gone(&mgr, "globex")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_polling_watcher_sees_a_deleted_tenant_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), &["acme"]).await;
    let mgr = manager(dir.path(), FsWatch::Poll).await;
    cache(&mgr, &["acme"]).await;
    run(Command::new("rm").arg("-rf").arg(dir.path().join("tenants/acme")));
    eventually("acme, removed under a polling watcher, gives TenantNotFound", || is_gone(&mgr, "acme")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_file_replaced_by_rename_is_read_again() {
    // What `git pull` or an editor's safe save does: write a new file, rename it over.
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), &["acme"]).await;
    let mgr = manager(dir.path(), FsWatch::Auto).await;
    cache(&mgr, &["acme"]).await;
    let file = dir.path().join("tenants/acme/tenant.yaml");
    let text = std::fs::read_to_string(&file).expect("read");
    assert!(text.contains("name: ACME\n"), "{text}");
    let staged = dir.path().join("staged-tenant.yaml");
    std::fs::write(&staged, text.replace("name: ACME\n", "name: Acme Renamed\n")).expect("stage");
    run(Command::new("mv").arg(&staged).arg(&file));
    eventually("the renamed-over tenant.yaml is served", || async {
        mgr.for_tenant("acme").await.is_ok_and(|a| a.tenant().name == "Acme Renamed")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_user_db_takes_effect_on_the_next_access() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("tree");
    let db = |name: &str| format!("sqlite://{}/{name}.db?mode=rwc", dir.path().display());
    let own =
        |dsn: String| TenantDbSettings { driver: "sqlite".into(), dsn: Secret::plain(dsn), schema: None };
    let mut tenant = Tenant::new("acme", "Acme");
    tenant.settings.user_db = Some(own(db("a")));
    other_writer(&root).tenants().create(tenant).await.expect("create");
    let mgr = manager(&root, FsWatch::Auto).await;
    let access = mgr.for_tenant("acme").await.expect("resolve");
    access.users().expect("users").create(CreateUserInput::new("ana@example.com")).await.expect("ana in A");

    let other = other_writer(&root);
    let mut settings = other.tenants().get_by_slug("acme").await.expect("get").settings;
    settings.user_db = Some(own(db("b")));
    other.tenants().update_settings("acme", settings).await.expect("switch to B");
    let dsn_of = |a: &hellojohn_store::manager::TenantDataAccess| {
        a.settings().user_db.as_ref().and_then(|u| key().decrypt("acme", fields::USER_DB_DSN, &u.dsn).ok())
    };
    eventually("the access carries database B", || async {
        mgr.for_tenant("acme").await.is_ok_and(|a| dsn_of(&a) == Some(db("b")))
    })
    .await;
    let access = mgr.for_tenant("acme").await.expect("resolve");
    access.users().expect("users").create(CreateUserInput::new("ben@example.com")).await.expect("ben");

    // Read both files through managers of their own.
    for (file, has, lacks) in [("a", "ana", "ben"), ("b", "ben", "ana")] {
        let check_root = dir.path().join(format!("check-{file}"));
        let check = manager(&check_root, FsWatch::Off).await;
        let mut t = Tenant::new("acme", "Acme");
        t.settings.user_db = Some(own(db(file)));
        check.config().tenants().create(t).await.expect("create");
        let users = check.for_tenant("acme").await.expect("resolve").users().expect("users");
        users
            .get_by_email(&format!("{has}@example.com"))
            .await
            .unwrap_or_else(|e| panic!("{has} in {file}: {e}"));
        let missing = users.get_by_email(&format!("{lacks}@example.com")).await;
        assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{lacks} not in {file}: {missing:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_clients_file_is_served_fresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), &["acme"]).await;
    let mgr = manager(dir.path(), FsWatch::Auto).await;
    cache(&mgr, &["acme"]).await;
    let other = other_writer(dir.path());
    other.clients("acme").expect("clients").create(ClientInput::new("web-app", "Web")).await.expect("create");
    eventually("the new client is served", || async {
        let access = mgr.for_tenant("acme").await.expect("resolve");
        access.clients().get("web-app").await.is_ok_and(|c| c.name == "Web")
    })
    .await;
    other
        .clients("acme")
        .expect("clients")
        .update(ClientInput::new("web-app", "Web 2"))
        .await
        .expect("update");
    eventually("the edited client is served", || async {
        let access = mgr.for_tenant("acme").await.expect("resolve");
        access.clients().get("web-app").await.is_ok_and(|c| c.name == "Web 2")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_hand_edit_neither_stops_the_watcher_nor_the_manager() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path(), &["acme", "globex"]).await;
    let mgr = manager(dir.path(), FsWatch::Auto).await;
    cache(&mgr, &["acme", "globex"]).await;
    let file = dir.path().join("tenants/acme/tenant.yaml");
    let good = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, "id: [unclosed\nslug: acme\n").expect("hand edit");
    eventually("the broken acme is reported, not served from the cache", || async {
        matches!(mgr.for_tenant("acme").await, Err(StoreError::InvalidConfig { .. }))
    })
    .await;
    assert!(mgr.for_tenant("globex").await.is_ok(), "other tenants still resolve");
    std::fs::write(&file, good).expect("repair");
    eventually("the repaired acme resolves", || async { mgr.for_tenant("acme").await.is_ok() }).await;
    run(Command::new("rm").arg("-rf").arg(dir.path().join("tenants/globex")));
    eventually("the watcher still runs: globex's removal is seen", || is_gone(&mgr, "globex")).await;
}

/// Threads of the watcher: notify's event loop and the store's folding thread.
#[cfg(target_os = "linux")]
fn watcher_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("notify-rs") || name.starts_with("hj-fs-watch"))
        .count()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_manager_stops_its_watcher() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(watcher_threads(), 0);
    seed(dir.path(), &["acme"]).await;
    let mgr = manager(dir.path(), FsWatch::Auto).await;
    cache(&mgr, &["acme"]).await;
    let access = mgr.for_tenant("acme").await.expect("resolve");
    assert!(watcher_threads() >= 2, "one event thread and one folding thread run");
    drop(access);
    drop(mgr);
    eventually("no watcher thread is left", || async { watcher_threads() == 0 }).await;
}
