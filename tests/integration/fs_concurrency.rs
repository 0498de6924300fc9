//! No lost writes: concurrent client creations in one tenant, from many tasks of one
//! process and from two processes, all end up in `clients.yaml`.

use std::collections::BTreeSet;
use std::process::Command;

use hellojohn_store::adapters::fs::FsControlPlane;
use hellojohn_store::adapters::fs::tree::validate_tree;
use hellojohn_store::crypto::SecretBox;
use hellojohn_store::model::{ClientInput, ClientType, Tenant};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn control_plane(root: &std::path::Path) -> FsControlPlane {
    FsControlPlane::new(root, Some(SecretBox::from_base64(KEY).expect("key")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_tasks_times_fifty_creations_end_with_400_clients() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = control_plane(dir.path());
    shared.tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant");
    let mut tasks = Vec::new();
    for task in 0..8 {
        // Half the tasks share one store; the others open their own, as separate services
        // would, so both the in-process mutex and the file lock are exercised.
        let cp = if task % 2 == 0 { shared.clone() } else { control_plane(dir.path()) };
        tasks.push(tokio::spawn(async move {
            let clients = cp.clients("acme").expect("clients");
            for i in 0..50 {
                let mut input =
                    ClientInput::new(format!("task{task}-client{i}"), format!("Client {task}/{i}"));
                input.redirect_uris = vec![format!("https://t{task}.example.com/cb/{i}")];
                if i % 5 == 0 {
                    input.client_type = Some(ClientType::Confidential);
                    input.secret = Some(format!("secret-{task}-{i}"));
                }
                clients.create(input).await.expect("create");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let clients = shared.clients("acme").expect("clients");
    let all = clients.list("").await.expect("list");
    assert_eq!(all.len(), 400);
    let ids: BTreeSet<String> = all.iter().map(|c| c.client_id.clone()).collect();
    assert_eq!(ids.len(), 400);
    assert_eq!(clients.decrypt_secret("task3-client45").await.expect("secret"), "secret-3-45");
    assert!(validate_tree(dir.path()).expect("validate").is_empty());
}

#[test]
fn two_processes_creating_clients_in_one_tenant_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        control_plane(dir.path()).tenants().create(Tenant::new("acme", "Acme")).await.expect("tenant");
    });
    // The same 8 × 50 as in one process, split over two processes of 4 tasks each.
    let (tasks, per_task) = (4, 50);
    let spawn = |prefix: &str| {
        Command::new(env!("CARGO_BIN_EXE_hellojohn-store"))
            .args([
                "__write-clients",
                &dir.path().display().to_string(),
                "acme",
                prefix,
                &per_task.to_string(),
            ])
            .args(["--tasks", &tasks.to_string()])
            .env("HJ_SECRET_KEY", KEY)
            .spawn()
            .expect("spawn writer")
    };
    let mut a = spawn("proc-a");
    let mut b = spawn("proc-b");
    assert!(a.wait().expect("wait a").success(), "writer a failed");
    assert!(b.wait().expect("wait b").success(), "writer b failed");
    let clients = runtime.block_on(async {
        control_plane(dir.path()).clients("acme").expect("clients").list("").await.expect("list")
    });
    let ids: BTreeSet<String> = clients.into_iter().map(|c| c.client_id).collect();
    for prefix in ["proc-a", "proc-b"] {
        for task in 0..tasks {
            for i in 0..per_task {
                assert!(ids.contains(&format!("{prefix}-t{task}-{i}")), "{prefix}-t{task}-{i} was lost");
            }
        }
    }
    assert_eq!(ids.len(), 400);
    assert!(validate_tree(dir.path()).expect("validate").is_empty());
}
