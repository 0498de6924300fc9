//! Following what other writers do to `<root>/tenants`: the CLI in another process, `sync
//! export`, a hand edit, a `git pull`.
//!
//! One [`TreeWatcher`] per control plane (started by its first `subscribe()`) watches the
//! folder recursively with `notify`: inotify on Linux (one watch per folder, so 10,000
//! tenants take about 10,000 of the user's `fs.inotify.max_user_watches`), or, when inotify
//! cannot be set up or its watch limit is reached, `notify`'s polling watcher comparing
//! modification times and contents every [`POLL_INTERVAL`] (logged once). Each event path is mapped to
//! the tenant slug of its first component under `tenants/` (validated; the store's own
//! temporary files and mere reads are ignored). A thread of its own folds the slugs of one
//! burst ([`DEBOUNCE`] from its first event) into one [`ControlPlaneChange`]: a folder
//! whose `tenant.yaml` is gone is `removed`, any other `changed`.
//!
//! Dropping the [`TreeWatcher`] (with the last clone of its control plane) stops it: the
//! watcher and its event thread go with it, the folding thread ends when its channel
//! closes, and with it the broadcast sender, so subscribers see `Closed`.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::broadcast;

use crate::error::{StoreError, StoreResult};
use crate::repository::ControlPlaneChange;

/// How long after the first event of a burst its tenants are announced.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How often the polling watcher compares modification times.
pub const POLL_INTERVAL: Duration = Duration::from_millis(1000);

/// How an [`FsControlPlane`](super::FsControlPlane) follows changes other writers make to
/// its tree (see [`FsControlPlane::with_watch`](super::FsControlPlane::with_watch)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FsWatch {
    /// The platform's file events (inotify on Linux); polling when they cannot be set up
    /// or the watch limit is reached. The default.
    #[default]
    Auto,
    /// Polling modification times and contents every [`POLL_INTERVAL`] (for trees on
    /// network file systems, whose remote writes raise no local events).
    Poll,
    /// Not at all: a manager then sees another writer's change only after its idle timeout
    /// or a restart.
    Off,
}

/// A running watcher of `<root>/tenants`; stops when dropped.
pub(crate) struct TreeWatcher {
    _state: Arc<State>,
}

struct State {
    dir: PathBuf,
    tx: mpsc::Sender<Msg>,
    watcher: Mutex<Option<Backend>>,
}

enum Backend {
    Native(#[allow(dead_code)] RecommendedWatcher),
    Poll(#[allow(dead_code)] PollWatcher),
}

enum Msg {
    Slug(String),
    /// Events were lost (inotify queue overflow): every tenant folder present or seen
    /// before is announced.
    Rescan,
    /// The inotify watch limit was reached: switch to polling.
    Limit(notify::Error),
}

fn watch_err(e: notify::Error) -> StoreError {
    StoreError::backend("fs", e)
}

impl TreeWatcher {
    /// Watches `dir` (created when missing) and announces its tenants' changes on `changes`.
    ///
    /// Errors: `Backend` when the folder cannot be created or neither watcher can watch it.
    pub(crate) fn start(
        dir: PathBuf,
        mode: FsWatch,
        changes: broadcast::Sender<ControlPlaneChange>,
    ) -> StoreResult<Self> {
        super::storage::create_dir_private(&dir)?;
        let (tx, rx) = mpsc::channel();
        let state = Arc::new(State { dir: dir.clone(), tx, watcher: Mutex::new(None) });
        let backend = match mode {
            FsWatch::Poll => Backend::Poll(poll(&state)?),
            _ => match native(&state) {
                Ok(w) => Backend::Native(w),
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e,
                        "cannot watch the control-plane tree for changes; polling it every {POLL_INTERVAL:?}");
                    Backend::Poll(poll(&state)?)
                }
            },
        };
        *state.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(backend);
        let weak = Arc::downgrade(&state);
        let known = tenant_folders(&dir).into_iter().collect();
        std::thread::Builder::new()
            .name("hj-fs-watch".into())
            .spawn(move || fold(dir, known, rx, weak, changes))
            .map_err(|e| crate::adapters::fs::storage::io_error("starting the control-plane watcher", e))?;
        Ok(TreeWatcher { _state: state })
    }
}

fn native(state: &State) -> Result<RecommendedWatcher, notify::Error> {
    let mut w = RecommendedWatcher::new(handler(state), notify::Config::default())?;
    w.watch(&state.dir, RecursiveMode::Recursive)?;
    Ok(w)
}

fn poll(state: &State) -> StoreResult<PollWatcher> {
    // Contents, not only modification times: notify keeps those in whole seconds, so an
    // edit in the second of the previous scan would otherwise never be seen.
    let config = notify::Config::default().with_poll_interval(POLL_INTERVAL).with_compare_contents(true);
    let mut w = PollWatcher::new(handler(state), config).map_err(watch_err)?;
    w.watch(&state.dir, RecursiveMode::Recursive).map_err(watch_err)?;
    Ok(w)
}

/// The event handler of a watcher of `state.dir`: relevant events become slugs on the
/// folding thread's channel. Holds a sender only, so the state it came from can drop.
fn handler(state: &State) -> impl notify::EventHandler {
    let tx = state.tx.clone();
    let dir = state.dir.clone();
    move |event: notify::Result<Event>| match event {
        Ok(event) => {
            if event.need_rescan() {
                let _ = tx.send(Msg::Rescan);
            }
            if !changes_content(&event.kind) {
                return;
            }
            for path in &event.paths {
                if let Some(slug) = slug_of(&dir, path) {
                    let _ = tx.send(Msg::Slug(slug));
                }
            }
        }
        Err(e) if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) => {
            let _ = tx.send(Msg::Limit(e));
        }
        Err(e) => tracing::warn!(error = %e, "control-plane watcher"),
    }
}

/// Whether an event can mean changed content: opens, reads and closes after reading cannot.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
        _ => true,
    }
}

/// The tenant slug of a path under `dir`: its first component, when it is a valid slug and
/// the path is not one of the store's temporary files (`.{name}.tmp-…`).
fn slug_of(dir: &Path, path: &Path) -> Option<String> {
    let rest = path.strip_prefix(dir).ok()?;
    let Some(Component::Normal(first)) = rest.components().next() else { return None };
    let slug = first.to_str()?;
    super::validate_slug(slug).ok()?;
    let temp =
        path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"));
    (!temp).then(|| slug.to_string())
}

/// The folding thread: gathers the slugs of one burst and announces them. Ends when every
/// sender is gone (the watcher was dropped).
/// `known` holds the tenant folders seen so far, so that after lost events a folder gone
/// meanwhile is announced as removed too.
fn fold(
    dir: PathBuf,
    mut known: BTreeSet<String>,
    rx: mpsc::Receiver<Msg>,
    state: Weak<State>,
    changes: broadcast::Sender<ControlPlaneChange>,
) {
    let mut limit_logged = false;
    loop {
        let Ok(first) = rx.recv() else { return };
        let deadline = Instant::now() + DEBOUNCE;
        let mut slugs = BTreeSet::new();
        let mut rescan = false;
        let mut limit = None;
        let mut take = |msg: Msg| match msg {
            Msg::Slug(s) => {
                slugs.insert(s);
            }
            Msg::Rescan => rescan = true,
            Msg::Limit(e) => limit = Some(e),
        };
        take(first);
        let mut open = true;
        while open {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(msg) => take(msg),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
        }
        if let Some(e) = limit
            && open
            && fall_back_to_polling(&state, &e, &mut limit_logged)
        {
            // Folders added while the watch limit was hit were never watched.
            rescan = true;
        }
        if rescan {
            slugs.extend(tenant_folders(&dir));
            slugs.extend(known.iter().cloned());
        }
        announce(&dir, slugs, &mut known, &changes);
        if !open {
            return;
        }
    }
}

fn fall_back_to_polling(state: &Weak<State>, e: &notify::Error, logged: &mut bool) -> bool {
    let Some(state) = state.upgrade() else { return false };
    let mut watcher = state.watcher.lock().unwrap_or_else(|p| p.into_inner());
    if !matches!(*watcher, Some(Backend::Native(_))) {
        return false;
    }
    match poll(&state) {
        Ok(p) => {
            if !*logged {
                tracing::warn!(dir = %state.dir.display(), error = %e,
                    "inotify watch limit reached (fs.inotify.max_user_watches); polling the control-plane tree every {POLL_INTERVAL:?}");
                *logged = true;
            }
            *watcher = Some(Backend::Poll(p));
            true
        }
        Err(err) => {
            tracing::warn!(dir = %state.dir.display(), error = %err, "cannot poll the control-plane tree");
            false
        }
    }
}

fn tenant_folders(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| super::validate_slug(name).is_ok())
        .collect()
}

fn announce(
    dir: &Path,
    slugs: BTreeSet<String>,
    known: &mut BTreeSet<String>,
    changes: &broadcast::Sender<ControlPlaneChange>,
) {
    let mut change = ControlPlaneChange::default();
    for slug in slugs {
        if dir.join(&slug).join("tenant.yaml").exists() {
            known.insert(slug.clone());
            change.changed.push(slug);
        } else {
            known.remove(&slug);
            change.removed.push(slug);
        }
    }
    if !(change.changed.is_empty() && change.removed.is_empty()) {
        tracing::debug!(changed = ?change.changed, removed = ?change.removed, "control-plane tree changed");
        // No receiver is no error: nobody caches anything yet.
        let _ = changes.send(change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_the_first_component_and_skip_temp_files() {
        let dir = Path::new("/r/tenants");
        assert_eq!(slug_of(dir, Path::new("/r/tenants/acme/tenant.yaml")).as_deref(), Some("acme"));
        assert_eq!(slug_of(dir, Path::new("/r/tenants/acme")).as_deref(), Some("acme"));
        assert_eq!(slug_of(dir, Path::new("/r/tenants/acme/.clients.yaml.tmp-1-00ff")), None);
        assert_eq!(slug_of(dir, Path::new("/r/tenants/Bad_Slug/tenant.yaml")), None);
        assert_eq!(slug_of(dir, Path::new("/r/tenants/.git/index")), None);
        assert_eq!(slug_of(dir, Path::new("/r/tenants")), None);
        assert_eq!(slug_of(dir, Path::new("/r/admins/admins.yaml")), None);
    }

    /// The inotify watch limit reached (as notify reports it) switches the watcher to polling,
    /// which rescans every folder and then sees a removal.
    #[tokio::test]
    async fn hitting_the_watch_limit_falls_back_to_polling() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("tenants");
        for slug in ["acme", "gone"] {
            std::fs::create_dir_all(dir.join(slug)).expect("mkdir");
            std::fs::write(dir.join(slug).join("tenant.yaml"), "x").expect("write");
        }
        let (tx, mut rx) = broadcast::channel(16);
        let watcher = TreeWatcher::start(dir.clone(), FsWatch::Auto, tx).expect("start");
        let state = &watcher._state;
        let is_native = matches!(*state.watcher.lock().expect("lock"), Some(Backend::Native(_)));
        assert!(is_native, "inotify first");

        // Lost events: "gone" is removed while nothing watches; a rescan still reports it.
        *state.watcher.lock().expect("lock") = None;
        // (notify's event thread closes the inotify descriptor after the drop, not in it.)
        tokio::time::sleep(Duration::from_millis(300)).await;
        std::fs::remove_dir_all(dir.join("gone")).expect("rm");
        state.tx.send(Msg::Rescan).expect("send");
        let rescan =
            tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("rescan").expect("recv");
        assert_eq!((rescan.changed, rescan.removed), (vec!["acme".to_string()], vec!["gone".to_string()]));

        *state.watcher.lock().expect("lock") = Some(Backend::Native(native(state).expect("inotify")));
        let limit = notify::Error::new(notify::ErrorKind::MaxFilesWatch);
        watcher._state.tx.send(Msg::Limit(limit)).expect("send");
        let rescan =
            tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("rescan").expect("recv");
        assert_eq!(rescan.changed, ["acme"], "every folder is announced after the switch");
        let polling = matches!(*watcher._state.watcher.lock().expect("lock"), Some(Backend::Poll(_)));
        assert!(polling, "polling after the limit");
        std::fs::remove_dir_all(dir.join("acme")).expect("rm");
        let removed =
            tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("removal").expect("recv");
        assert_eq!(removed.removed, ["acme"]);
        drop(watcher);
        let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("closed");
        assert!(matches!(closed, Err(broadcast::error::RecvError::Closed)), "{closed:?}");
    }

    #[test]
    fn reads_are_not_changes() {
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(changes_content(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(changes_content(&EventKind::Modify(notify::event::ModifyKind::Any)));
        assert!(changes_content(&EventKind::Remove(notify::event::RemoveKind::Any)));
    }
}
