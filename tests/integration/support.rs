//! Helpers shared by the integration modules: the MongoDB test server's URL and a TCP proxy
//! that the fault tests cut and restore under a live pool.
#![allow(dead_code)] // which helpers a build uses depends on its cargo features

use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// MongoDB test server used when `HJ_TEST_MONGO_URL` is not set (`scripts/mongo-service.sh`).
pub const DEFAULT_MONGO_URL: &str = "mongodb://127.0.0.1:27017/?directConnection=true";

/// `HJ_TEST_MONGO_URL`, else [`DEFAULT_MONGO_URL`].
pub fn mongo_url() -> String {
    std::env::var("HJ_TEST_MONGO_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_MONGO_URL.into())
}

/// Forwards 127.0.0.1:<port> to `target` while up; when cut, drops every open connection
/// and closes new ones at once.
pub struct Proxy {
    /// The local port to connect to instead of the target.
    pub port: u16,
    up: watch::Sender<bool>,
}

impl Proxy {
    /// Starts forwarding to `target` (`host:port`).
    pub async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let (up, _) = watch::channel(true);
        let state = up.subscribe();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { return };
                let mut state = state.clone();
                if !*state.borrow() {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// `path` inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Copies the regular files and folders of `from` into `to` (symbolic links, such as a
/// tree's `schemas` link, would dangle in the copy and are skipped).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        let file_type = entry.file_type().expect("file type");
        if file_type.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if file_type.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
