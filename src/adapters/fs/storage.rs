//! Disk primitives of the control plane: atomic file replacement and cross-process locks.
//!
//! A write goes to a temporary file in the same folder (mode 0600), is synced, renamed over
//! the target and the folder is synced: a crash leaves the old file or the new one. Writers
//! are serialised by `fs2` exclusive locks on files under `<root>/.locks/`, taken in a
//! blocking task, after an in-process async mutex per lock (so waiting tasks do not hold
//! blocking threads). Read-modify-write happens entirely under the lock.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fs2::FileExt;

use crate::error::{StoreError, StoreResult};

/// Maps an I/O error to a store error naming what was being done.
pub(crate) fn io_error(what: impl std::fmt::Display, e: std::io::Error) -> StoreError {
    StoreError::Backend { backend: "fs".into(), message: format!("{what}: {e}"), source: Some(Box::new(e)) }
}

#[cfg(unix)]
fn open_options_0600() -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.mode(0o600);
    o
}

#[cfg(not(unix))]
fn open_options_0600() -> OpenOptions {
    OpenOptions::new()
}

/// Syncs a folder so a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> StoreResult<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(format!("syncing {}", dir.display()), e))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Replaces `path` with `contents` atomically (temp file in the same folder, fsync, rename,
/// fsync of the folder). The file is created with mode 0600.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> StoreResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| StoreError::invalid("path", format!("{} has no folder", path.display())))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}-{:016x}", std::process::id(), rand::random::<u64>()));
    let result = (|| {
        let mut f = open_options_0600()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io_error(format!("creating {}", tmp.display()), e))?;
        f.write_all(contents).map_err(|e| io_error(format!("writing {}", tmp.display()), e))?;
        f.sync_all().map_err(|e| io_error(format!("syncing {}", tmp.display()), e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io_error(format!("renaming onto {}", path.display()), e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes temporary files that writers of `path` left behind when they died mid-write
/// (`.<name>.tmp-*`). Only call it while holding the lock that guards `path`: then no
/// live writer owns one of them.
pub(crate) fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Creates a folder (and parents) with mode 0700.
pub(crate) fn create_dir_private(dir: &Path) -> StoreResult<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io_error(format!("creating {}", dir.display()), e))
}

/// Reads a file to a string; `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> StoreResult<Option<String>> {
    use std::io::Read;
    let refused = |message: String| StoreError::InvalidConfig {
        problems: vec![crate::error::ConfigProblem {
            file: path.display().to_string(),
            line: 1,
            column: 1,
            pointer: String::new(),
            message,
        }],
    };
    // Only a regular file (a symlink to one is followed, as Kubernetes mounts configuration)
    // is opened: opening a FIFO blocks until a writer comes. The read is bounded, so a file
    // swapped for a device (`/dev/zero`) after this check is refused as too large.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(refused("not a regular file".into())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(format!("reading {}", path.display()), e)),
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(format!("reading {}", path.display()), e)),
    };
    // A UTF-8 byte-order mark (allowed by YAML, written by some editors) does not count
    // towards the limit.
    const BOM: &[u8] = "\u{feff}".as_bytes();
    let max = super::document::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    file.take((max + BOM.len() + 1) as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(format!("reading {}", path.display()), e))?;
    let bom = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    if bytes.len() - bom > max {
        return Err(refused(format!("file is larger than {max} bytes")));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| refused("file is not valid UTF-8".into()))?;
    text.drain(..bom);
    Ok(Some(text))
}

/// Named cross-process locks under one folder, with an in-process mutex per name.
#[derive(Debug, Default)]
pub(crate) struct Locks {
    dir: PathBuf,
    local: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A held lock: the in-process guard and the locked file. Dropping it releases both.
pub(crate) struct LockGuard {
    _file: File,
    _local: tokio::sync::OwnedMutexGuard<()>,
}

impl Locks {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Locks { dir, local: Mutex::new(HashMap::new()) }
    }

    /// Takes the lock `name` (e.g. `tenant-acme`, `tenants`, `admins`), waiting as long as
    /// another task or process holds it.
    pub(crate) async fn lock(&self, name: &str) -> StoreResult<LockGuard> {
        let local = {
            let mut map = self.local.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(name.to_string()).or_default().clone()
        };
        let local = local.lock_owned().await;
        let path = self.dir.join(format!("{name}.lock"));
        let dir = self.dir.clone();
        let file = tokio::task::spawn_blocking(move || -> StoreResult<File> {
            create_dir_private(&dir)?;
            let f = open_options_0600()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| io_error(format!("opening lock {}", path.display()), e))?;
            f.lock_exclusive().map_err(|e| io_error(format!("locking {}", path.display()), e))?;
            Ok(f)
        })
        .await
        .map_err(|e| StoreError::Backend {
            backend: "fs".into(),
            message: format!("lock task failed: {e}"),
            source: None,
        })??;
        Ok(LockGuard { _file: file, _local: local })
    }
}
