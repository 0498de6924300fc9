//! Crash safety: a writer process killed (SIGKILL) again and again in the middle of its
//! writes — clients, tenant creates and deletes, admins and admin refresh tokens — never
//! leaves a tree that fails to validate or to read, and what it leaves half-done is cleaned
//! up by the next writer.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::adapters::fs::tree::validate_tree_with_key;
use hellojohn_store::crypto::SecretBox;
use hellojohn_store::model::{AdminFilter, Tenant};
use rand::RngExt;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Kills that must have landed mid-write (leaving a temporary file or a dot-folder) for the
/// test to count: without them it proves nothing. Where a timed kill lands is chance (few
/// land mid-write on a busy machine, where the writer spends its time hashing client
/// secrets), so every other round kills the writer as soon as a new temporary file or
/// dot-folder appears instead; rounds go on past `MIN_ROUNDS` until enough kills landed
/// mid-write, up to `MAX_ROUNDS`; a shortfall there fails the test.
const MIN_KILLED_MID_WRITE: usize = 20;
/// Rounds always run.
const MIN_ROUNDS: usize = 40;
/// Rounds at most.
const MAX_ROUNDS: usize = 500;

fn key() -> SecretBox {
    SecretBox::from_base64(KEY).expect("key")
}

/// Paths (relative to `root`) of every dot-named entry except `.locks`: a writer's
/// temporary files (`.<file>.tmp-*`) and tenant folders in the making or unmaking
/// (`.creating-*`, `.deleting-*`). Readers and validate skip them all.
fn in_flight(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if dir == root && name == ".locks" {
                continue;
            }
            if name.starts_with('.') {
                out.insert(path.strip_prefix(root).expect("prefix").display().to_string());
            } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    out
}

/// Polls the tree until an in-flight entry not in `seen` appears (the writer is then in the
/// middle of a write) or `limit` passes.
fn wait_for_a_new_marker(root: &Path, seen: &BTreeSet<String>, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if in_flight(root).iter().any(|marker| !seen.contains(marker)) {
            return;
        }
        std::thread::yield_now();
    }
}

/// What was being written when a marker was left.
fn kind_of(marker: &str) -> &'static str {
    let name = marker.rsplit('/').next().unwrap_or(marker);
    if name.starts_with(".creating-") {
        "tenant create"
    } else if name.starts_with(".deleting-") {
        "tenant delete"
    } else if name.starts_with(".clients.yaml.tmp-") {
        "clients.yaml"
    } else if name.starts_with(".admins.yaml.tmp-") {
        "admins.yaml"
    } else if name.starts_with(".refresh_tokens.yaml.tmp-") {
        "refresh_tokens.yaml"
    } else {
        "other"
    }
}

/// Every file parses and passes the store's validation (schemas, rules across files, every
/// secret opens), and a control plane opened on the tree reads every tenant, client, scope,
/// admin and admin token. Returns the number of clients of `acme`.
fn check_tree(root: &Path, runtime: &tokio::runtime::Runtime, round: &str) -> usize {
    let problems = validate_tree_with_key(root, Some(&key())).expect("validate");
    assert!(problems.is_empty(), "{round}: {problems:#?}");
    runtime.block_on(async {
        let cp = FsControlPlane::new(root, Some(key()));
        let mut acme = 0;
        for tenant in cp.tenants().list().await.unwrap_or_else(|e| panic!("{round}: tenants: {e}")) {
            let clients = cp.clients(&tenant.slug).expect("clients").list("").await;
            let clients = clients.unwrap_or_else(|e| panic!("{round}: clients of {}: {e}", tenant.slug));
            cp.scopes(&tenant.slug)
                .expect("scopes")
                .list()
                .await
                .unwrap_or_else(|e| panic!("{round}: scopes of {}: {e}", tenant.slug));
            if tenant.slug == "acme" {
                acme = clients.len();
            }
        }
        let admins = cp.admins().list(&AdminFilter::default()).await;
        for admin in admins.unwrap_or_else(|e| panic!("{round}: admins: {e}")) {
            let tokens = cp.admin_refresh_tokens().list_by_admin(admin.id).await;
            tokens.unwrap_or_else(|e| panic!("{round}: tokens of {}: {e}", admin.email));
        }
        acme
    })
}

fn spawn_writer(root: &Path, prefix: &str, rounds: u64) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hellojohn-store"))
        .args(["__churn", &root.display().to_string(), "acme", prefix, &rounds.to_string()])
        .env("HJ_SECRET_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn writer")
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

#[test]
fn a_writer_killed_at_random_moments_never_leaves_a_broken_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        FsControlPlane::new(root, Some(key()))
            .tenants()
            .create(Tenant::new("acme", "Acme"))
            .await
            .expect("tenant")
    });
    let started = Instant::now();
    let mut rng = rand::rng();
    let mut seen = in_flight(root);
    let (mut rounds, mut killed_mid_write, mut max_clients) = (0, 0, 0);
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    while rounds < MIN_ROUNDS || (killed_mid_write < MIN_KILLED_MID_WRITE && rounds < MAX_ROUNDS) {
        let round = format!("round {rounds}");
        let mut child = spawn_writer(root, &format!("r{rounds}"), 0);
        // Kill it while it writes, not while the process starts.
        let mut ready = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut ready).expect("read the writer's stdout");
        assert_eq!(ready.trim(), "ready", "{round}: the writer did not start: {}", stderr_of(&mut child));
        if rounds % 2 == 0 {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..80)));
        } else {
            wait_for_a_new_marker(root, &seen, Duration::from_secs(5));
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("{round}: the writer stopped by itself ({status}): {}", stderr_of(&mut child));
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        drop(stdout);

        let now = in_flight(root);
        let new: Vec<&String> = now.difference(&seen).collect();
        if !new.is_empty() {
            killed_mid_write += 1;
            for marker in new {
                *by_kind.entry(kind_of(marker)).or_default() += 1;
            }
        }
        seen = now;
        max_clients = max_clients.max(check_tree(root, &runtime, &round));
        rounds += 1;
    }
    println!(
        "{rounds} kills in {:.1} s, {killed_mid_write} landed mid-write (left {by_kind:?}), \
         {max_clients} clients in acme at most",
        started.elapsed().as_secs_f64()
    );
    assert!(
        killed_mid_write >= MIN_KILLED_MID_WRITE,
        "only {killed_mid_write} of {rounds} kills landed mid-write: the test proved too little"
    );
    assert!(max_clients > 0, "the writer never got to write: the test proved nothing");

    // A writer that runs to the end after all that succeeds, and leaves nothing half-done:
    // each file's temporary files are removed under its lock, and tenant folders in the
    // making or unmaking under the tenants lock.
    let mut last = spawn_writer(root, "last", 2);
    let status = last.wait().expect("wait");
    assert!(status.success(), "the last writer failed: {}", stderr_of(&mut last));
    check_tree(root, &runtime, "after the last writer");
    let left = in_flight(root);
    assert!(left.is_empty(), "left behind after a complete write: {left:#?}");
}
