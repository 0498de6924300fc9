//! Crash safety: a writer process killed (SIGKILL) again and again in the middle of its
//! writes never leaves a control-plane file that fails to parse or validate.

use std::process::{Command, Stdio};
use std::time::Duration;

use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::adapters::fs::tree::validate_tree;
use hellojohn_store::crypto::SecretBox;
use hellojohn_store::model::Tenant;
use rand::Rng;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn a_writer_killed_at_random_moments_never_leaves_a_broken_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let cp = FsControlPlane::new(dir.path(), Some(SecretBox::from_base64(KEY).expect("key")));
    runtime.block_on(async { cp.tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant") });
    let mut rng = rand::thread_rng();
    let rounds = 40;
    let mut seen_clients = 0;
    let mut killed_mid_write = 0;
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hellojohn-store"))
            .args(["__write-clients", &dir.path().display().to_string(), "acme", &format!("r{round}"), "0"])
            .env("HJ_SECRET_KEY", KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        std::thread::sleep(Duration::from_millis(rng.gen_range(15..120)));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let in_flight = std::fs::read_dir(dir.path().join("tenants/acme"))
            .expect("dir")
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".clients.yaml.tmp-"));
        killed_mid_write += usize::from(in_flight);
        let problems = validate_tree(dir.path()).expect("validate");
        assert!(problems.is_empty(), "round {round}: {problems:#?}");
        let clients =
            runtime.block_on(async { cp.clients("acme").expect("clients").list("").await.expect("list") });
        seen_clients = seen_clients.max(clients.len());
    }
    assert!(seen_clients > 0, "the writer never got to write: the test proved nothing");
    println!(
        "{rounds} kills, {killed_mid_write} left a temporary file (killed mid-write), {seen_clients} clients at most"
    );
    // Leftovers are only dot-named temporary files, which readers ignore and the next
    // writer removes: at most the one of the last killed writer is left.
    let mut temps = 0;
    for entry in std::fs::read_dir(dir.path().join("tenants/acme")).expect("dir") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if name.starts_with(".clients.yaml.tmp-") {
            temps += 1;
            continue;
        }
        assert!(["tenant.yaml", "clients.yaml", "scopes.yaml"].contains(&name.as_str()), "unexpected {name}");
    }
    assert!(temps <= 1, "{temps} temporary files were not cleaned up");
}
