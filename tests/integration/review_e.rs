//! Review of the shared server pools (issue 13), attacked from outside: connection counts of
//! many tenants on one server, provisioning that is cancelled, raced or outdated, a record
//! that says ready over a dropped schema, PgBouncer next to the direct port, and DSN
//! passwords in provisioning errors. Each test prints what it observed.
#![cfg(all(feature = "postgres", feature = "mysql", feature = "sqlite"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hellojohn_store::crypto::SecretBox;
use hellojohn_store::manager::{Manager, ManagerConfig};
use hellojohn_store::model::{CreateUserInput, ProvisioningState, Secret, Tenant, TenantDbSettings};
use hellojohn_store::{DbConfig, StoreError};
use sea_orm::sqlx;
use sea_orm::sqlx::Row as _;
use uuid::Uuid;

const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const BOUNCER: &str = "postgres://postgres@127.0.0.1:6432/test?pgbouncer=true";
const MY: &str = "mysql://root@127.0.0.1:3306/test";

fn run_tag() -> String {
    Uuid::new_v4().simple().to_string()[..10].to_string()
}

async fn pg() -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(PG).await.expect("direct pg")
}

async fn my() -> sqlx::MySqlPool {
    sqlx::mysql::MySqlPoolOptions::new().max_connections(2).connect(MY).await.expect("direct mysql")
}

async fn drop_pg_schemas(prefix: &str) {
    let pool = pg().await;
    let rows = sqlx::query("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_all(&pool)
        .await
        .expect("list schemas");
    for row in rows {
        let name: String = row.get(0);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")))
            .execute(&pool)
            .await
            .expect("drop schema");
    }
}

async fn drop_my_databases(prefix: &str) {
    let pool = my().await;
    let rows = sqlx::query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?")
        .bind(format!("{prefix}%"))
        .fetch_all(&pool)
        .await
        .expect("list databases");
    for row in rows {
        let name: String = row.get(0);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
            .execute(&pool)
            .await
            .expect("drop database");
    }
}

fn key() -> SecretBox {
    SecretBox::from_base64(&SecretBox::generate_key_base64()).expect("key")
}

/// Creates `n` tenants `t0..tn` (16 at a time); returns how many were recorded ready.
async fn create_many(manager: &Manager, n: usize) -> usize {
    let ready = Arc::new(AtomicU64::new(0));
    let mut slugs: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
    while !slugs.is_empty() {
        let batch: Vec<String> = slugs.drain(..slugs.len().min(16)).collect();
        let mut tasks = Vec::new();
        for slug in batch {
            let m = manager.clone();
            let ready = ready.clone();
            tasks.push(tokio::spawn(async move {
                let t = m.config().tenants().create(Tenant::new(&slug, &slug)).await.expect("create");
                match t.provisioning {
                    Some(p) if p.state == ProvisioningState::Ready => {
                        ready.fetch_add(1, Ordering::Relaxed);
                    }
                    other => println!("{slug}: provisioning {other:?}"),
                }
            }));
        }
        for t in tasks {
            t.await.expect("join");
        }
    }
    ready.load(Ordering::Relaxed) as usize
}

/// Uses every tenant at once (one user each); returns the failed calls (printing the first).
async fn use_all(manager: &Manager, n: usize, round: &str) -> u64 {
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..n {
        let m = manager.clone();
        let failed = failed.clone();
        let round = round.to_string();
        tasks.push(tokio::spawn(async move {
            let result = async {
                let access = m.for_tenant(&format!("t{i}")).await?;
                let users = access.users()?;
                let email = format!("{round}{i}@example.com");
                users.create(CreateUserInput::new(&email)).await?;
                users.get_by_email(&email).await?;
                Ok::<_, StoreError>(())
            }
            .await;
            if let Err(e) = result
                && failed.fetch_add(1, Ordering::Relaxed) < 3
            {
                println!("t{i}: {e}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    failed.load(Ordering::Relaxed)
}

/// 300 tenants on one PostgreSQL server with the default settings, used all at once: the
/// server connections (pg_stat_activity, by application_name) stay within the pool size.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_pg_300_tenants_on_default_settings_stay_within_the_server_pool() {
    let run = run_tag();
    let app = format!("hjrev{run}");
    let dir = tempfile::tempdir().expect("dir");
    let template = DbConfig::new("postgres", format!("{PG}?application_name={app}"))
        .with_schema(format!("hjrv{run}_{{tenant}}"));
    let manager = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template))
        .await
        .expect("manager");
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, peak, app) = (done.clone(), peak.clone(), app.clone());
        tokio::spawn(async move {
            let pool = pg().await;
            while !done.load(Ordering::Relaxed) {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1")
                        .bind(&app)
                        .fetch_one(&pool)
                        .await
                        .expect("count");
                peak.fetch_max(n as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let ready = create_many(&manager, 300).await;
    let peak_create = peak.load(Ordering::Relaxed);
    let failed = use_all(&manager, 300, "a").await;
    done.store(true, Ordering::Relaxed);
    sampler.await.expect("sampler");
    let stats = manager.stats().await;
    println!(
        "pg: ready {ready}/300, failed calls {failed}, peak server connections during create {peak_create}, overall {}, servers open {}",
        peak.load(Ordering::Relaxed),
        stats.pool.open
    );
    manager.close().await;
    drop_pg_schemas(&format!("hjrv{run}_")).await;
    assert_eq!(ready, 300);
    assert_eq!(failed, 0);
    assert!(peak.load(Ordering::Relaxed) <= 10, "peak {} > pool size 10", peak.load(Ordering::Relaxed));
}

fn open_files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|it| {
            it.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .filter(|p| p.starts_with(dir))
                .count()
        })
        .unwrap_or(0)
}

/// 300 SQLite files with the default `max_open_servers` (100): open files stay bounded and
/// tenants whose file was closed (evicted) still read what they wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_sqlite_300_files_open_files_bounded_and_evicted_tenants_work() {
    let dir = tempfile::tempdir().expect("dir");
    let data = tempfile::tempdir().expect("data");
    let template =
        DbConfig::new("sqlite", format!("sqlite://{}/{{tenant}}.db?mode=rwc", data.path().display()));
    let manager = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template))
        .await
        .expect("manager");
    let ready = create_many(&manager, 300).await;
    let after_create = open_files_under(data.path());
    let failed = use_all(&manager, 300, "a").await;
    let after_use = open_files_under(data.path());
    let stats = manager.stats().await;
    // The first tenants' files were evicted long ago: read back what they wrote.
    let mut reread_failed = 0;
    for i in 0..20 {
        let result = async {
            let access = manager.for_tenant(&format!("t{i}")).await?;
            access.users()?.get_by_email(&format!("a{i}@example.com")).await
        }
        .await;
        if let Err(e) = result {
            reread_failed += 1;
            println!("t{i} re-read: {e}");
        }
    }
    println!(
        "sqlite: ready {ready}/300, failed {failed}, open files under the data dir after create {after_create}, after use {after_use}, servers open {} (closed since start {}), re-read failures {reread_failed}",
        stats.pool.open, stats.pool.closed
    );
    manager.close().await;
    assert_eq!(ready, 300);
    assert_eq!(failed, 0);
    assert_eq!(reread_failed, 0);
    assert!(stats.pool.open <= 100);
}

/// A provisioning cancelled at every point (a growing timeout) is never recorded ready on a
/// half-migrated schema, and a complete provisioning afterwards succeeds (PostgreSQL: one
/// transaction; MariaDB: DDL is not transactional).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_cancelled_provisioning_leaves_nothing_recorded_ready_and_can_be_retried() {
    for driver in ["postgres", "mysql"] {
        let run = run_tag();
        let dir = tempfile::tempdir().expect("dir");
        let template = if driver == "postgres" {
            DbConfig::new("postgres", PG).with_schema(format!("hjrc{run}_{{tenant}}"))
        } else {
            DbConfig::new("mysql", format!("mysql://root@127.0.0.1:3306/hjrc{run}_{{tenant}}"))
        };
        let manager = Manager::new(
            ManagerConfig::from_fs_root(dir.path())
                .default_tenant_db(template)
                .server_pool(1, Duration::from_secs(30)),
        )
        .await
        .expect("manager");
        let mut cancelled = 0;
        let mut micros = 200;
        let mut outcome = None;
        for attempt in 0..60 {
            let slug = format!("c{attempt}");
            // Created without provisioning: a tenant file written first, then provisioning cancelled.
            let tenants = manager.config().tenants();
            let create = tenants.create(Tenant::new(&slug, &slug));
            match tokio::time::timeout(Duration::from_micros(micros), create).await {
                Ok(r) => {
                    let t = r.expect("create");
                    outcome = Some((attempt, t.provisioning.map(|p| p.state)));
                    break;
                }
                Err(_) => {
                    cancelled += 1;
                    micros = micros * 3 / 2;
                }
            }
            // What did the cancelled create leave? If the tenant exists, its record must not
            // say ready unless the namespace is complete; then provision it fully and use it.
            if let Ok(t) = manager.config().tenants().get_by_slug(&slug).await {
                let state = t.provisioning.as_ref().map(|p| p.state);
                let again = manager.provision_tenant(&slug).await;
                let used = async {
                    let access = manager.for_tenant(&slug).await?;
                    access.users()?.create(CreateUserInput::new("x@example.com")).await
                }
                .await;
                println!(
                    "{driver} attempt {attempt} ({micros}us): record after cancel {state:?}; provision_tenant {:?}; use {:?}",
                    again.as_ref().map(|p| p.state),
                    used.as_ref().map(|_| ())
                );
                assert!(again.is_ok(), "{driver}: retry after a cancelled provisioning: {again:?}");
                assert!(used.is_ok(), "{driver}: use after retry: {used:?}");
            }
        }
        println!("{driver}: {cancelled} cancelled creates, then {outcome:?}");
        manager.close().await;
        if driver == "postgres" {
            drop_pg_schemas(&format!("hjrc{run}_")).await;
        } else {
            drop_my_databases(&format!("hjrc{run}_")).await;
        }
    }
}

/// Two replicas (two managers, one FS root) provisioning one namespace at once, twenty
/// times after the schema was dropped by hand: every call succeeds and the migration history
/// holds each migration once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_two_replicas_provision_one_namespace_at_once() {
    for driver in ["postgres", "mysql"] {
        let run = run_tag();
        let dir = tempfile::tempdir().expect("dir");
        let (template, ns) = if driver == "postgres" {
            (
                DbConfig::new("postgres", PG).with_schema(format!("hjrr{run}_{{tenant}}")),
                format!("hjrr{run}_"),
            )
        } else {
            (
                DbConfig::new("mysql", format!("mysql://root@127.0.0.1:3306/hjrr{run}_{{tenant}}")),
                format!("hjrr{run}_"),
            )
        };
        let a = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template.clone()))
            .await
            .expect("a");
        let b = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template))
            .await
            .expect("b");
        let t = a.config().tenants().create(Tenant::new("race", "Race")).await.expect("create");
        let namespace = format!("{ns}{}", t.effective_namespace());
        let mut failures = Vec::new();
        for round in 0..20 {
            if driver == "postgres" {
                drop_pg_schemas(&namespace).await;
            } else {
                drop_my_databases(&namespace).await;
            }
            a.pool().close_all().await;
            b.pool().close_all().await;
            let (ra, rb) = tokio::join!(a.provision_tenant("race"), b.provision_tenant("race"));
            for r in [ra, rb] {
                if let Err(e) = r {
                    failures.push(format!("round {round}: {e}"));
                }
            }
        }
        let history: i64 = if driver == "postgres" {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM \"{namespace}\".seaql_migrations"
            )))
            .fetch_one(&pg().await)
            .await
            .expect("history")
        } else {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM `{namespace}`.seaql_migrations"
            )))
            .fetch_one(&my().await)
            .await
            .expect("history")
        };
        println!(
            "{driver}: {} failures of 40 concurrent provisionings; history rows {history}; first: {:?}",
            failures.len(),
            failures.first()
        );
        a.close().await;
        b.close().await;
        if driver == "postgres" {
            drop_pg_schemas(&ns).await;
        } else {
            drop_my_databases(&ns).await;
        }
        assert!(failures.is_empty(), "{driver}: {failures:?}");
    }
}

/// A tenant recorded ready whose schema was dropped by hand: what the user sees, on a new
/// manager (replica restart) with `migrate_on_open` on (the default).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_ready_record_over_a_dropped_schema() {
    let run = run_tag();
    let dir = tempfile::tempdir().expect("dir");
    let template = DbConfig::new("postgres", PG).with_schema(format!("hjrd{run}_{{tenant}}"));
    let a = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template.clone()))
        .await
        .expect("a");
    let t = a.config().tenants().create(Tenant::new("gone", "Gone")).await.expect("create");
    println!("record: {:?}", t.provisioning);
    a.close().await;
    drop_pg_schemas(&format!("hjrd{run}_")).await;
    let b =
        Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template)).await.expect("b");
    let used = match b.for_tenant("gone").await {
        Ok(access) => {
            access.users().expect("users").create(CreateUserInput::new("u@example.com")).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    println!("for_tenant + users.create: {used:?}");
    let retried = b.provision_tenant("gone").await;
    let after = b
        .for_tenant("gone")
        .await
        .expect("access")
        .users()
        .expect("users")
        .create(CreateUserInput::new("u@example.com"))
        .await
        .map(|_| ());
    println!("provision_tenant: {:?}; then users.create: {after:?}", retried.map(|p| p.state));
    b.close().await;
    drop_pg_schemas(&format!("hjrd{run}_")).await;
    assert!(after.is_ok());
    match used {
        Err(StoreError::Backend { .. })
        | Err(StoreError::Unavailable { .. })
        | Err(StoreError::NotFound { .. }) => {}
        other => panic!("unexpected outcome on a dropped schema: {other:?}"),
    }
}

/// A tenant's own `user_db` naming another tenant's schema through the direct port of the
/// PostgreSQL server whose PgBouncer the template uses: one database, two ports.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_own_db_on_the_direct_port_cannot_name_a_pgbouncer_tenants_schema() {
    let run = run_tag();
    let dir = tempfile::tempdir().expect("dir");
    let secrets = key();
    let template = DbConfig::new("postgres", BOUNCER).with_schema(format!("hjrb{run}_{{tenant}}"));
    let m =
        Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template).secrets(secrets))
            .await
            .expect("manager");
    let victim = m.config().tenants().create(Tenant::new("victim", "Victim")).await.expect("victim");
    m.for_tenant("victim")
        .await
        .expect("access")
        .users()
        .expect("users")
        .create(CreateUserInput::new("secret@victim.example"))
        .await
        .expect("seed");
    let schema = format!("hjrb{run}_{}", victim.effective_namespace());
    let mut mallory = Tenant::new("mallory", "Mallory");
    mallory.settings.user_db = Some(TenantDbSettings {
        driver: "postgres".into(),
        dsn: Secret::plain(PG.to_string()),
        schema: Some(schema.clone()),
    });
    let created = m.config().tenants().create(mallory).await.map(|t| t.slug).map_err(|e| e.to_string());
    let read: Result<String, String> = match &created {
        Ok(_) => match m.for_tenant("mallory").await {
            Ok(access) => access
                .users()
                .expect("users")
                .get_by_email("secret@victim.example")
                .await
                .map(|u| u.0.email)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.clone()),
    };
    println!("mallory create: {created:?}; mallory reads the victim's user: {read:?}");
    m.close().await;
    drop_pg_schemas(&format!("hjrb{run}_")).await;
    assert!(read.is_err(), "mallory read the victim's user through the direct port: {read:?}");
}

/// Twenty tenants created (and provisioned) at once through PgBouncer, then used at once,
/// next to one tenant on the direct port of the same server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_pgbouncer_twenty_tenants_provisioned_at_once() {
    let run = run_tag();
    let dir = tempfile::tempdir().expect("dir");
    let template = DbConfig::new("postgres", BOUNCER).with_schema(format!("hjrp{run}_{{tenant}}"));
    let m = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template))
        .await
        .expect("manager");
    let mut tasks = Vec::new();
    for i in 0..20 {
        let m = m.clone();
        tasks.push(tokio::spawn(async move {
            m.config().tenants().create(Tenant::new(format!("t{i}"), "T")).await
        }));
    }
    let mut not_ready = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let t = t.await.expect("join").expect("create");
        if t.provisioning.as_ref().map(|p| p.state) != Some(ProvisioningState::Ready) {
            not_ready.push(format!("t{i}: {:?}", t.provisioning));
        }
    }
    let failed = use_all(&m, 20, "p").await;
    println!("pgbouncer: not ready {} of 20 {:?}; failed calls {failed}", not_ready.len(), not_ready.first());
    m.close().await;
    drop_pg_schemas(&format!("hjrp{run}_")).await;
    assert!(not_ready.is_empty());
    assert_eq!(failed, 0);
}

/// A provisioning that fails (server down) with a password holding `@`, `#` and `%`: the
/// recorded error and the returned error show none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_failed_provisioning_records_no_password() {
    for (driver, dsn) in [
        ("postgres", "postgres://postgres:zulu%40xr%23ay%25q@127.0.0.1:1/test?pgbouncer=true".to_string()),
        ("postgres", "postgres://postgres:zulu%40xr%23ay%25q@127.0.0.1:1/test".to_string()),
        ("mysql", "mysql://root:zulu%40xr%23ay%25q@127.0.0.1:1/hj_{tenant}".to_string()),
        ("mysql", "mysql://root:zulu%40xr%23ay%25q@127.0.0.1:3306/hj_{tenant}".to_string()),
        ("postgres", "postgres://nouser:zulu%40xr%23ay%25q@127.0.0.1:5432/test".to_string()),
    ] {
        let dir = tempfile::tempdir().expect("dir");
        let mut template = DbConfig::new(driver, dsn.clone());
        if driver == "postgres" {
            template = template.with_schema("hj_{tenant}");
        }
        let m = Manager::new(
            ManagerConfig::from_fs_root(dir.path())
                .default_tenant_db(template)
                .server_pool(2, Duration::from_secs(2)),
        )
        .await
        .expect("manager");
        let t = m.config().tenants().create(Tenant::new("down", "Down")).await.expect("create");
        let recorded = format!("{:?}", t.provisioning);
        let retried = m.provision_tenant("down").await;
        let used = match m.for_tenant("down").await {
            Ok(a) => a.users().map(|_| ()),
            Err(e) => Err(e),
        };
        let file = std::fs::read_dir(dir.path()).map(|_| walk(dir.path())).unwrap_or_default();
        println!(
            "{driver} {}: recorded {recorded}; retry {retried:?}; use {used:?}",
            hellojohn_store::mode::redact_dsn(&dsn)
        );
        for text in [recorded, format!("{retried:?}"), format!("{used:?}"), file] {
            for word in ["zulu", "ay%25q", "ay#q"] {
                assert!(!text.contains(word), "{driver}: shows {word:?}: {text}");
            }
        }
        m.close().await;
    }
}

fn walk(dir: &std::path::Path) -> String {
    let mut out = String::new();
    if let Ok(it) = std::fs::read_dir(dir) {
        for e in it.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.push_str(&walk(&p));
            } else if let Ok(s) = std::fs::read_to_string(&p) {
                out.push_str(&s);
            }
        }
    }
    out
}

fn files_with(dir: &std::path::Path, needle: &str, out: &mut Vec<std::path::PathBuf>) {
    if let Ok(it) = std::fs::read_dir(dir) {
        for e in it.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_with(&p, needle, out);
            } else if std::fs::read_to_string(&p).is_ok_and(|s| s.contains(needle)) {
                out.push(p);
            }
        }
    }
}

/// A tenant recorded ready at an older schema version is migrated again on open
/// (`migrate_on_open`, the default): its schema is dropped by hand and the record's version
/// edited to an older one; a new manager's first call works.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_an_outdated_schema_version_is_migrated_again_on_open() {
    let run = run_tag();
    let dir = tempfile::tempdir().expect("dir");
    let template = DbConfig::new("postgres", PG).with_schema(format!("hjro{run}_{{tenant}}"));
    let a = Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template.clone()))
        .await
        .expect("a");
    let t = a.config().tenants().create(Tenant::new("old", "Old")).await.expect("create");
    let version = t.provisioning.and_then(|p| p.schema_version).expect("recorded version");
    a.close().await;
    drop_pg_schemas(&format!("hjro{run}_")).await;
    let mut files = Vec::new();
    files_with(dir.path(), &version, &mut files);
    assert_eq!(files.len(), 1, "one tenant file records the version: {files:?}");
    let text = std::fs::read_to_string(&files[0]).expect("read");
    std::fs::write(&files[0], text.replace(&version, "m20200101_000001_old")).expect("write");
    let b =
        Manager::new(ManagerConfig::from_fs_root(dir.path()).default_tenant_db(template)).await.expect("b");
    let used = match b.for_tenant("old").await {
        Ok(access) => {
            access.users().expect("users").create(CreateUserInput::new("u@example.com")).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    println!("outdated version on open: {used:?}");
    b.close().await;
    drop_pg_schemas(&format!("hjro{run}_")).await;
    assert!(used.is_ok(), "{used:?}");
}

/// A tenant created while its database server is down (a cut proxy) is recorded failed;
/// once the server is back, `provision_tenant` makes it ready and usable, on PostgreSQL and
/// MariaDB.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn review_a_tenant_created_while_the_server_is_down_is_provisioned_after() {
    for (driver, target) in [("postgres", "127.0.0.1:5432"), ("mysql", "127.0.0.1:3306")] {
        let run = run_tag();
        let proxy = crate::support::Proxy::start(target.to_string()).await;
        proxy.cut();
        let dir = tempfile::tempdir().expect("dir");
        let template = if driver == "postgres" {
            DbConfig::new("postgres", format!("postgres://postgres@127.0.0.1:{}/test", proxy.port))
                .with_schema(format!("hjrw{run}_{{tenant}}"))
        } else {
            DbConfig::new("mysql", format!("mysql://root@127.0.0.1:{}/hjrw{run}_{{tenant}}", proxy.port))
        };
        let m = Manager::new(
            ManagerConfig::from_fs_root(dir.path())
                .default_tenant_db(template)
                .server_pool(4, Duration::from_secs(2)),
        )
        .await
        .expect("manager");
        let t = m.config().tenants().create(Tenant::new("late", "Late")).await.expect("create");
        let while_down = t.provisioning.as_ref().map(|p| (p.state, p.error.clone()));
        let used_down = match m.for_tenant("late").await {
            Ok(a) => match a.users() {
                Ok(users) => users.get_by_email("x@example.com").await.map(|_| ()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        proxy.restore();
        let after = m.provision_tenant("late").await;
        let used = match m.for_tenant("late").await {
            Ok(a) => {
                a.users().expect("users").create(CreateUserInput::new("x@example.com")).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        println!(
            "{driver}: record while down {while_down:?}; use while down {used_down:?}; provision after {:?}; use after {used:?}",
            after.as_ref().map(|p| p.state)
        );
        m.close().await;
        if driver == "postgres" {
            drop_pg_schemas(&format!("hjrw{run}_")).await;
        } else {
            drop_my_databases(&format!("hjrw{run}_")).await;
        }
        assert_eq!(while_down.map(|w| w.0), Some(ProvisioningState::Failed));
        assert!(after.is_ok(), "{driver}: {after:?}");
        assert!(used.is_ok(), "{driver}: {used:?}");
    }
}
