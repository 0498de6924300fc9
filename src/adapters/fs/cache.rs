//! Validated documents, by content. Parsing a file and checking it against its schema and
//! rules is most of the cost of a control-plane read (a `clients.get` reads `tenant.yaml`,
//! `clients.yaml` and `scopes.yaml`), and the same unchanged text is checked again on every
//! call. This cache keeps the JSON of texts that passed every check, keyed by the text
//! itself (with the file's kind and the folder it sits in, the inputs of the per-file
//! rules), so:
//! - a file that changed has a new key: nothing stale can be served, whoever changed it
//!   (this process, another replica, an editor) and however fast;
//! - a text that failed is never stored: every read of a broken file reports its problems
//!   anew, with the same file, line, column and pointer;
//! - the file is still read on every call (from the page cache: microseconds), so the cache
//!   saves the parse and the checks, not the I/O.
//!
//! Bounded by an estimate of the bytes held (text plus JSON), evicted by moka's policy.

use std::sync::Arc;

use serde_json::Value;

use super::schema::FileKind;

/// Bytes of documents (text and JSON, estimated) the cache holds by default: the validated
/// files of about 13,000 tenants of the size `hellojohn-store bench` generates (two clients,
/// five scopes: 9.7 KB a tenant by this estimate). At 64 MiB a 10,000-tenant tree did not
/// fit and a second full load re-parsed most of it (1.3 s against 0.6 s).
pub const DEFAULT_DOCUMENT_CACHE_BYTES: u64 = 128 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    kind: FileKind,
    folder_slug: Option<Box<str>>,
    text: Arc<str>,
}

/// The cache; `None` inside when disabled (capacity 0).
#[derive(Clone)]
pub(crate) struct DocumentCache {
    inner: Option<moka::sync::Cache<Key, Arc<Value>>>,
}

impl DocumentCache {
    /// A cache holding about `bytes` of documents; 0 disables it.
    pub(crate) fn new(bytes: u64) -> Self {
        let inner = (bytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &Key, v: &Arc<Value>| {
                    u32::try_from(k.text.len() as u64 + json_bytes(v)).unwrap_or(u32::MAX)
                })
                .build()
        });
        DocumentCache { inner }
    }

    /// The validated JSON of `text`: from the cache when the same text (of the same kind, in
    /// the same folder) passed before, else from `check`, stored only when it succeeds.
    /// Concurrent callers missing on the same text run `check` once (moka's single-flight).
    ///
    /// Errors: those of `check` (never cached).
    pub(crate) fn get_or_check<E: Clone + Send + Sync + 'static>(
        &self,
        kind: FileKind,
        folder_slug: Option<&str>,
        text: &str,
        check: impl FnOnce() -> Result<Value, E>,
    ) -> Result<Arc<Value>, E> {
        let Some(cache) = &self.inner else {
            return check().map(Arc::new);
        };
        let key = Key { kind, folder_slug: folder_slug.map(Into::into), text: Arc::from(text) };
        cache.try_get_with(key, || check().map(Arc::new)).map_err(Arc::unwrap_or_clone)
    }

    /// Documents held now and their estimated bytes (after pending maintenance).
    pub(crate) fn usage(&self) -> (u64, u64) {
        self.inner.as_ref().map_or((0, 0), |c| {
            c.run_pending_tasks();
            (c.entry_count(), c.weighted_size())
        })
    }

    #[cfg(test)]
    fn len(&self) -> u64 {
        self.usage().0
    }
}

/// Heap and inline bytes of a JSON value, roughly (`Value` is 32 bytes; a map entry costs its
/// key and a share of a B-tree node).
fn json_bytes(v: &Value) -> u64 {
    const NODE: u64 = std::mem::size_of::<Value>() as u64;
    NODE + match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => s.len() as u64,
        Value::Array(a) => a.iter().map(json_bytes).sum::<u64>(),
        Value::Object(m) => m.iter().map(|(k, v)| 24 + 16 + k.len() as u64 + json_bytes(v)).sum::<u64>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get_or_check` with a check that counts its runs and returns `json`.
    fn through(
        cache: &DocumentCache,
        kind: FileKind,
        folder: Option<&str>,
        text: &str,
        json: Result<Value, String>,
        runs: &std::cell::Cell<u32>,
    ) -> Result<Arc<Value>, String> {
        cache.get_or_check(kind, folder, text, || {
            runs.set(runs.get() + 1);
            json
        })
    }

    #[test]
    fn a_hit_needs_the_same_text_kind_and_folder() {
        let cache = DocumentCache::new(1024 * 1024);
        let runs = std::cell::Cell::new(0);
        let json = serde_json::json!({"a": 1});
        let first = through(&cache, FileKind::Tenant, Some("acme"), "a: 1\n", Ok(json.clone()), &runs);
        assert_eq!(first.as_deref(), Ok(&json));
        let again = through(&cache, FileKind::Tenant, Some("acme"), "a: 1\n", Err("checked".into()), &runs);
        assert_eq!(again.as_deref(), Ok(&json), "a hit does not check again");
        assert_eq!(runs.get(), 1);
        for (kind, folder, text, what) in [
            (FileKind::Tenant, Some("acme"), "a: 2\n", "other text"),
            (FileKind::Tenant, Some("other"), "a: 1\n", "other folder"),
            (FileKind::Scopes, Some("acme"), "a: 1\n", "other kind"),
        ] {
            let miss = through(&cache, kind, folder, text, Err("checked".into()), &runs);
            assert_eq!(miss, Err("checked".to_string()), "{what}");
        }
        assert_eq!(runs.get(), 4);
        assert_eq!(cache.len(), 1, "failures are not stored");
    }

    #[test]
    fn capacity_zero_holds_nothing() {
        let cache = DocumentCache::new(0);
        let runs = std::cell::Cell::new(0);
        for _ in 0..2 {
            let json =
                through(&cache, FileKind::Tenant, None, "a: 1\n", Ok(serde_json::json!({"a": 1})), &runs);
            assert!(json.is_ok());
        }
        assert_eq!(runs.get(), 2, "every read checks");
    }

    #[test]
    fn the_bound_evicts() {
        let cache = DocumentCache::new(4 * 1024);
        let runs = std::cell::Cell::new(0);
        for i in 0..200 {
            let text = format!("name: tenant-{i:04}-{}\n", "x".repeat(100));
            let json = serde_json::json!({ "name": text });
            assert!(through(&cache, FileKind::Tenant, None, &text, Ok(json), &runs).is_ok());
        }
        let held = cache.len();
        assert!(held > 0 && held < 200, "held {held} of 200 documents in 4 KiB");
    }
}
