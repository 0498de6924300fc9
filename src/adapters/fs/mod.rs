//! The file-system control plane: tenants, clients, scopes, admins and admin refresh
//! tokens as YAML files under one root, always available in every mode.
//!
//! ```text
//! <root>/tenants/<slug>/tenant.yaml     Tenant (settings, branding, encrypted secrets)
//! <root>/tenants/<slug>/clients.yaml    ClientsFile
//! <root>/tenants/<slug>/scopes.yaml     ScopesFile
//! <root>/admins/admins.yaml             AdminsFile
//! <root>/admins/refresh_tokens.yaml     AdminRefreshTokensFile
//! <root>/schemas/<kind>.schema.json     the JSON Schemas the files' `$schema` lines name
//! <root>/deleted/<id>.yaml            DeletedTenant: a deleted tenant's namespace, until purged
//! <root>/.locks/                        lock files (not data)
//! ```
//!
//! Every read parses the file, validates it against its JSON Schema and the per-file
//! rules, and fails with [`StoreError::InvalidConfig`] naming file, line, column and JSON
//! pointer of every problem. Every write validates the new text first, then replaces the
//! file atomically under a cross-process lock (see `storage.rs`). Slugs and client ids are
//! validated before they are used in a path. Secrets are sealed with a
//! [`SecretBox`] before they are written; without a key, writing a plain secret fails.
//!
//! Every file starts with a `# yaml-language-server: $schema=` line pointing at
//! `<root>/schemas/`. Before its first write an [`FsControlPlane`] writes there the schemas
//! that are missing or differ (see [`write_schemas`]), so an editor opening a tree the store
//! made finds them; a `schemas` that is a symbolic link is left alone.
//!
//! Other writers (the CLI in another process, `sync export`, a hand edit, a `git pull`) are
//! followed: the first `subscribe()` (the `Manager` calls it) starts one watcher of
//! `<root>/tenants` (inotify, or polling when that cannot be had; see `watch.rs` and
//! [`FsControlPlane::with_watch`]) that announces which tenants changed or were removed.
//!
//! This module owns the files under the root and nothing else; it never touches a database.

pub(crate) mod admin;
mod cache;
mod client;
pub(crate) mod document;
pub use document::{MAX_FILE_BYTES, MAX_NESTING};
mod positions;
mod rules;
pub mod schema;
mod scope;
pub(crate) mod storage;
pub(crate) mod tenant;
pub mod tree;
mod watch;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use admin::{FsAdminRefreshTokenRepository, FsAdminRepository};
pub use cache::DEFAULT_DOCUMENT_CACHE_BYTES;
pub use client::FsClientRepository;
pub use positions::{Pos, Positions};
pub use schema::FileKind;
pub use scope::FsScopeRepository;
pub use tenant::FsTenantRepository;
pub use watch::{DEBOUNCE as WATCH_DEBOUNCE, FsWatch, POLL_INTERVAL as WATCH_POLL_INTERVAL};

use crate::crypto::SecretBox;
use crate::error::{StoreError, StoreResult};
use crate::repository::{
    AdminRefreshTokenRepository, AdminRepository, ClientRepository, ControlPlaneChange, ControlPlaneStore,
    ScopeRepository, TenantRepository,
};

/// Checks a tenant slug (`^[a-z0-9][a-z0-9-]{0,62}$`) before it is used as a folder name.
///
/// Errors: `InvalidInput` (so `../etc` never becomes a path).
pub fn validate_slug(slug: &str) -> StoreResult<()> {
    let mut bytes = slug.bytes();
    let ok = slug.len() <= 63
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid("slug", format!("{slug:?} does not match {}", crate::model::SLUG_PATTERN)))
    }
}

struct Inner {
    root: PathBuf,
    secrets: Option<SecretBox>,
    locks: storage::Locks,
    documents: cache::DocumentCache,
    /// Set once `<root>/schemas/` has been brought up to date by this control plane.
    schemas_written: AtomicBool,
    /// How other writers' changes are followed, and the watcher once `subscribe` started it.
    follow: Mutex<Follow>,
}

struct Follow {
    mode: FsWatch,
    running: Option<(tokio::sync::broadcast::Sender<ControlPlaneChange>, watch::TreeWatcher)>,
}

/// The control plane over a folder of YAML files. Cheap to clone; hands out the
/// repositories. See the module documentation for the layout and guarantees.
#[derive(Clone)]
pub struct FsControlPlane {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FsControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsControlPlane")
            .field("root", &self.inner.root)
            .field("secrets", &self.inner.secrets.as_ref().map(|_| "<key>"))
            .finish()
    }
}

impl FsControlPlane {
    /// The control plane under `root`, with `secrets` to seal and open secrets (without
    /// one, reading ciphertext works but decrypting or writing a plain secret is a `Crypto`
    /// error). The root need not exist yet. Validated documents are cached by content (see
    /// [`FsControlPlane::with_document_cache`]) up to [`DEFAULT_DOCUMENT_CACHE_BYTES`].
    pub fn new(root: impl Into<PathBuf>, secrets: Option<SecretBox>) -> Self {
        FsControlPlane::with_document_cache(root, secrets, DEFAULT_DOCUMENT_CACHE_BYTES)
    }

    /// As [`FsControlPlane::new`], with a cache of validated documents holding about `bytes`
    /// (text and JSON, estimated); 0 turns it off. The cache is keyed by each file's text, so
    /// a changed file is always parsed and checked again and a broken one always reports its
    /// problems; what it saves is parsing and checking the same text twice (a `clients.get`
    /// reads three files).
    pub fn with_document_cache(root: impl Into<PathBuf>, secrets: Option<SecretBox>, bytes: u64) -> Self {
        let root = root.into();
        FsControlPlane {
            inner: Arc::new(Inner {
                locks: storage::Locks::new(root.join(".locks")),
                root,
                secrets,
                documents: cache::DocumentCache::new(bytes),
                schemas_written: AtomicBool::new(false),
                follow: Mutex::new(Follow { mode: FsWatch::default(), running: None }),
            }),
        }
    }

    /// The control plane under `root` with the key from `HJ_SECRET_KEY`, if it is set.
    ///
    /// Errors: `Crypto` when the variable is set but malformed.
    pub fn from_env(root: impl Into<PathBuf>) -> StoreResult<Self> {
        Ok(FsControlPlane::new(root, SecretBox::from_env_optional()?))
    }

    /// How this control plane (and its clones) follows the changes other writers (another
    /// process, a hand edit, a `git pull`) make to `<root>/tenants`, once
    /// [`ControlPlaneStore::subscribe`] is first called (by `Manager::new`); [`FsWatch::Auto`]
    /// by default. Set it before that call; afterwards it has no effect.
    pub fn with_watch(self, mode: FsWatch) -> Self {
        self.inner.follow.lock().unwrap_or_else(|p| p.into_inner()).mode = mode;
        self
    }

    /// Starts the watcher of `<root>/tenants` (creating the folder) on the first call and
    /// hands out a receiver of its announcements; `None` with [`FsWatch::Off`] or when no
    /// watcher could be started (logged).
    fn follow_changes(&self) -> Option<tokio::sync::broadcast::Receiver<ControlPlaneChange>> {
        let mut follow = self.inner.follow.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((tx, _)) = &follow.running {
            return Some(tx.subscribe());
        }
        if follow.mode == FsWatch::Off {
            return None;
        }
        let (tx, rx) = tokio::sync::broadcast::channel(256);
        match watch::TreeWatcher::start(self.tenants_dir(), follow.mode, tx.clone()) {
            Ok(watcher) => {
                follow.running = Some((tx, watcher));
                Some(rx)
            }
            Err(e) => {
                tracing::warn!(root = %self.inner.root.display(), error = %e,
                    "cannot follow changes to the control-plane tree; cached tenants go stale until they idle out");
                None
            }
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Documents in the cache of validated documents and their estimated bytes (text and
    /// JSON), for monitoring its size against [`FsControlPlane::with_document_cache`]'s bound.
    pub fn document_cache_usage(&self) -> (u64, u64) {
        self.inner.documents.usage()
    }

    /// The secret box, when a key is configured.
    pub fn secrets(&self) -> Option<&SecretBox> {
        self.inner.secrets.as_ref()
    }

    /// The tenant repository.
    pub fn tenants(&self) -> Arc<dyn TenantRepository> {
        Arc::new(FsTenantRepository::new(self.clone()))
    }

    /// The client repository of the tenant `slug`.
    ///
    /// Errors: `InvalidInput` for a malformed slug.
    pub fn clients(&self, slug: &str) -> StoreResult<Arc<dyn ClientRepository>> {
        validate_slug(slug)?;
        Ok(Arc::new(FsClientRepository::new(self.clone(), slug)))
    }

    /// The scope repository of the tenant `slug`.
    ///
    /// Errors: `InvalidInput` for a malformed slug.
    pub fn scopes(&self, slug: &str) -> StoreResult<Arc<dyn ScopeRepository>> {
        validate_slug(slug)?;
        Ok(Arc::new(FsScopeRepository::new(self.clone(), slug)))
    }

    /// The admin repository.
    pub fn admins(&self) -> Arc<dyn AdminRepository> {
        Arc::new(FsAdminRepository::new(self.clone()))
    }

    /// The admin refresh-token repository.
    pub fn admin_refresh_tokens(&self) -> Arc<dyn AdminRefreshTokenRepository> {
        Arc::new(FsAdminRefreshTokenRepository::new(self.clone()))
    }

    // ---- layout -------------------------------------------------------------------------

    pub(crate) fn tenants_dir(&self) -> PathBuf {
        self.inner.root.join("tenants")
    }

    /// The folder of a tenant whose slug has been validated.
    pub(crate) fn tenant_dir(&self, slug: &str) -> StoreResult<PathBuf> {
        validate_slug(slug)?;
        Ok(self.tenants_dir().join(slug))
    }

    pub(crate) fn admins_dir(&self) -> PathBuf {
        self.inner.root.join("admins")
    }

    /// The `$schema` reference written at the top of a file of `kind`: a relative path to
    /// `<root>/schemas/`, where the store writes them (see [`write_schemas`]).
    pub(crate) fn schema_ref(kind: FileKind) -> String {
        let up = match kind {
            FileKind::Tenant | FileKind::Clients | FileKind::Scopes => "../../",
            FileKind::Admins | FileKind::AdminRefreshTokens => "../",
        };
        format!("{up}schemas/{}", kind.schema_file_name())
    }

    /// Takes the write lock `name`. The first time, brings `<root>/schemas/` up to date
    /// first, so whatever this control plane writes names schemas that exist.
    pub(crate) async fn lock(&self, name: &str) -> StoreResult<storage::LockGuard> {
        self.ensure_schemas().await;
        self.inner.locks.lock(name).await
    }

    /// Writes the missing or outdated schemas under `<root>/schemas/` once per control
    /// plane, under the `schemas` lock (never held while another lock is taken). A failure
    /// is logged and retried before the next write, never returned: the schemas serve
    /// editors, and a data write must not fail for them.
    async fn ensure_schemas(&self) {
        if self.inner.schemas_written.load(Ordering::Acquire) {
            return;
        }
        let result = async {
            let _guard = self.inner.locks.lock("schemas").await?;
            if !self.inner.schemas_written.load(Ordering::Acquire) {
                write_schemas(&self.inner.root)?;
            }
            StoreResult::Ok(())
        }
        .await;
        match result {
            Ok(()) => self.inner.schemas_written.store(true, Ordering::Release),
            Err(e) => tracing::warn!(root = %self.inner.root.display(), error = %e,
                "could not write the JSON Schemas the control-plane files point at"),
        }
    }

    // ---- typed file access --------------------------------------------------------------

    /// Reads and validates a file; `Ok(None)` when it does not exist.
    pub(crate) fn load<T: DeserializeOwned>(
        &self,
        kind: FileKind,
        path: &Path,
        folder_slug: Option<&str>,
    ) -> StoreResult<Option<T>> {
        match storage::read_optional(path)? {
            None => Ok(None),
            Some(text) => {
                let file = path.display().to_string();
                let json = self
                    .check(kind, &file, &text, folder_slug)
                    .map_err(|problems| StoreError::InvalidConfig { problems })?;
                document::typed(&file, &text, &json).map(Some)
            }
        }
    }

    /// Parses and checks `text` as a file of `kind` (schema and per-file rules), or returns
    /// the JSON of the same text checked before. Problems are never cached.
    pub(crate) fn check(
        &self,
        kind: FileKind,
        file: &str,
        text: &str,
        folder_slug: Option<&str>,
    ) -> Result<Arc<serde_json::Value>, Vec<crate::error::ConfigProblem>> {
        self.inner.documents.get_or_check(kind, folder_slug, text, || {
            document::check_text(kind, file, text, folder_slug).map(|p| p.json)
        })
    }

    /// Validates and atomically writes a file. Callers hold the lock guarding `path`, so
    /// temporary files of writers that died mid-write are removed first.
    ///
    /// Errors: `InvalidInput` when the new content would not validate.
    pub(crate) fn store<T: Serialize>(
        &self,
        kind: FileKind,
        path: &Path,
        value: &T,
        folder_slug: Option<&str>,
    ) -> StoreResult<()> {
        let text = render_for_write(kind, path, value, folder_slug)?;
        storage::remove_stale_temps(path);
        storage::write_atomic(path, text.as_bytes())
    }
}

/// Brings `<root>/schemas/` up to date: writes each kind's JSON Schema (the text
/// `hellojohn-store schema export` writes) when its file is missing or differs, atomically,
/// after removing temporary files of writers that died writing one. Returns the paths
/// written (none when every schema is already there).
///
/// A `schemas` folder or schema file that is a symbolic link is never written through nor
/// replaced (`examples/data/schemas` links to the repository's `schemas/`): when its content
/// differs it is only logged. Call it while holding the `schemas` lock, or when nothing
/// else writes the tree (`sync export`).
///
/// Errors: `Backend` for I/O.
pub fn write_schemas(root: &Path) -> StoreResult<Vec<PathBuf>> {
    let dir = root.join("schemas");
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let dir_is_link = is_link(&dir);
    if !dir_is_link {
        storage::create_dir_private(&dir)?;
    }
    let mut written = Vec::new();
    for kind in FileKind::ALL {
        let path = dir.join(kind.schema_file_name());
        if !dir_is_link {
            storage::remove_stale_temps(&path);
        }
        let text = kind.schema_text();
        if std::fs::read(&path).is_ok_and(|current| current == text.as_bytes()) {
            continue;
        }
        if dir_is_link || is_link(&path) {
            tracing::warn!(path = %path.display(),
                "schema is missing or differs behind a symbolic link; left as it is");
            continue;
        }
        storage::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// Renders a file for writing; validation problems become `InvalidInput`.
pub(crate) fn render_for_write<T: Serialize>(
    kind: FileKind,
    path: &Path,
    value: &T,
    folder_slug: Option<&str>,
) -> StoreResult<String> {
    document::render(kind, &path.display().to_string(), value, &FsControlPlane::schema_ref(kind), folder_slug)
        .map_err(|e| match e {
            StoreError::InvalidConfig { problems } => {
                let field = problems.first().map(|p| p.pointer.clone()).unwrap_or_default();
                let message = problems
                    .iter()
                    .map(|p| {
                        format!("{}: {}", if p.pointer.is_empty() { "/" } else { &p.pointer }, p.message)
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                StoreError::InvalidInput { field, message }
            }
            other => other,
        })
}

impl ControlPlaneStore for FsControlPlane {
    fn backend(&self) -> &str {
        "fs"
    }
    fn tenants(&self) -> StoreResult<Arc<dyn TenantRepository>> {
        Ok(FsControlPlane::tenants(self))
    }
    fn clients(&self, slug: &str) -> StoreResult<Arc<dyn ClientRepository>> {
        FsControlPlane::clients(self, slug)
    }
    fn scopes(&self, slug: &str) -> StoreResult<Arc<dyn ScopeRepository>> {
        FsControlPlane::scopes(self, slug)
    }
    fn admins(&self) -> StoreResult<Arc<dyn AdminRepository>> {
        Ok(FsControlPlane::admins(self))
    }
    fn admin_refresh_tokens(&self) -> StoreResult<Arc<dyn AdminRefreshTokenRepository>> {
        Ok(FsControlPlane::admin_refresh_tokens(self))
    }
    /// Announces the tenants whose folder under `<root>/tenants` anyone changed (this
    /// process or another): see [`FsControlPlane::with_watch`] and `watch.rs`.
    fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<ControlPlaneChange>> {
        self.follow_changes()
    }
}
