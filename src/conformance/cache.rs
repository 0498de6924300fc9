//! Cache conformance cases: each is a `pub async fn(&CacheFixture)` and is listed once in
//! [`cache_cases!`](crate::cache_cases). `a` and `b` are the caches of two tenants sharing
//! one backend.

use std::sync::Arc;
use std::time::Duration;

use crate::repository::Cache;

/// Two tenants' caches on the same backend (same Redis server, or two moka instances).
pub struct CacheFixture {
    /// Tenant A's cache.
    pub a: Arc<dyn Cache>,
    /// Tenant B's cache.
    pub b: Arc<dyn Cache>,
    /// Caches of further tenants on the same backend, each made with one of
    /// [`HOSTILE_PREFIXES`] as its tenant-given key prefix where the backend has one (Redis's
    /// `cache.prefix`). Only [`cache_tenant_prefixes_never_reach_other_tenants`] uses them.
    pub hostile: Vec<Arc<dyn Cache>>,
}

/// Tenant-given key prefixes that would reach other tenants' keys if the namespace were
/// `{prefix}{tenant}:` or a `SCAN MATCH` pattern were not escaped.
pub const HOSTILE_PREFIXES: [&str; 8] = ["", "*", "acme:", "hj:", "?", "[a-z]*", "\\", "hj:t:*"];

/// `set`, `get`, `exists` and `delete` of one key; other keys are untouched.
pub async fn cache_set_get_exists_delete(fx: &CacheFixture) {
    let c = &fx.a;
    c.set("k1", b"v1", None).await.expect("set k1");
    c.set("k2", b"v2", None).await.expect("set k2");
    assert_eq!(c.get("k1").await.expect("get").as_deref(), Some(&b"v1"[..]));
    assert!(c.exists("k1").await.expect("exists"));
    assert!(c.delete("k1").await.expect("delete"));
    assert!(!c.delete("k1").await.expect("delete again"));
    assert_eq!(c.get("k1").await.expect("get deleted"), None);
    assert!(!c.exists("k1").await.expect("exists deleted"));
    assert_eq!(c.get("k2").await.expect("k2 untouched").as_deref(), Some(&b"v2"[..]));
}

/// A value set with a ttl is gone once the ttl has passed; one without stays.
pub async fn cache_entries_expire_after_their_ttl(fx: &CacheFixture) {
    let c = &fx.a;
    c.set("short", b"x", Some(Duration::from_millis(150))).await.expect("set short");
    c.set("long", b"y", None).await.expect("set long");
    assert!(c.exists("short").await.expect("exists"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(c.get("short").await.expect("get expired"), None);
    assert_eq!(c.get("long").await.expect("get long").as_deref(), Some(&b"y"[..]));
}

/// `get_many`, `set_many` and `delete_many` keep the order and count what they touched.
pub async fn cache_many_operations_keep_order_and_counts(fx: &CacheFixture) {
    let c = &fx.a;
    let entries: Vec<(String, Vec<u8>)> = (0..5).map(|i| (format!("m{i}"), vec![i as u8])).collect();
    c.set_many(&entries, Some(Duration::from_secs(60))).await.expect("set_many");
    let keys: Vec<String> = vec!["m3".into(), "missing".into(), "m0".into()];
    let got = c.get_many(&keys).await.expect("get_many");
    assert_eq!(got, vec![Some(vec![3]), None, Some(vec![0])]);
    let removed = c.delete_many(&["m1".into(), "m2".into(), "nope".into()]).await.expect("delete_many");
    assert_eq!(removed, 2);
    assert!(c.exists("m4").await.expect("m4 remains"));
}

/// `delete_by_prefix` removes exactly the keys with the prefix, glob characters included.
pub async fn cache_delete_by_prefix_removes_only_that_prefix(fx: &CacheFixture) {
    let c = &fx.a;
    for key in ["sess:1", "sess:2", "sess*x", "session", "other"] {
        c.set(key, b"1", None).await.expect("set");
    }
    assert_eq!(c.delete_by_prefix("sess:").await.expect("delete_by_prefix"), 2);
    for (key, present) in
        [("sess:1", false), ("sess:2", false), ("sess*x", true), ("session", true), ("other", true)]
    {
        assert_eq!(c.exists(key).await.expect("exists"), present, "{key}");
    }
    assert_eq!(c.delete_by_prefix("sess*").await.expect("literal star"), 1);
    assert!(c.exists("session").await.expect("session survives a literal '*' prefix"));
}

/// Of 20 concurrent `take`s of one key exactly one gets the value.
pub async fn cache_take_is_atomic_under_concurrency(fx: &CacheFixture) {
    fx.a.set("code", b"123456", None).await.expect("set");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let c = fx.a.clone();
        tasks.push(tokio::spawn(async move { c.take("code").await.expect("take") }));
    }
    let mut winners = 0;
    for t in tasks {
        if let Some(v) = t.await.expect("join") {
            assert_eq!(v, b"123456");
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert!(!fx.a.exists("code").await.expect("gone"));
}

/// Of 20 concurrent `set_if_absent`s of one key exactly one stores its value.
pub async fn cache_set_if_absent_is_a_lock(fx: &CacheFixture) {
    let mut tasks = Vec::new();
    for i in 0..20u8 {
        let c = fx.a.clone();
        tasks.push(tokio::spawn(async move { (i, c.set_if_absent("lock", &[i], None).await.expect("nx")) }));
    }
    let mut winner = None;
    for t in tasks {
        let (i, won) = t.await.expect("join");
        if won {
            assert!(winner.replace(i).is_none(), "two winners");
        }
    }
    let winner = winner.expect("one winner");
    assert_eq!(fx.a.get("lock").await.expect("get").as_deref(), Some(&[winner][..]));
    assert!(!fx.a.set_if_absent("lock", b"x", None).await.expect("held"));
}

/// What tenant A writes, tenant B cannot read, check, delete, take or delete by prefix,
/// even with the same key; B's own key of that name and its deletion leave A's alone. (The
/// isolation suite runs this on the caches the manager gives two tenants.)
pub async fn cache_tenants_never_see_each_others_keys(fx: &CacheFixture) {
    fx.a.set("same", b"from-a", None).await.expect("a set");
    assert_eq!(fx.b.get("same").await.expect("b get"), None);
    assert_eq!(fx.b.get_many(&["same".to_string()]).await.expect("b get_many"), vec![None]);
    assert!(!fx.b.exists("same").await.expect("b exists"));
    assert!(!fx.b.delete("same").await.expect("b delete"));
    assert_eq!(fx.b.delete_many(&["same".to_string()]).await.expect("b delete_many"), 0);
    assert_eq!(fx.b.take("same").await.expect("b take"), None);
    assert_eq!(fx.b.delete_by_prefix("").await.expect("b delete all"), 0);
    assert!(fx.a.exists("same").await.expect("a exists"), "A's key survived B's deletes");
    assert!(fx.b.set_if_absent("same", b"from-b", None).await.expect("b nx"));
    assert_eq!(fx.a.get("same").await.expect("a get").as_deref(), Some(&b"from-a"[..]));
    assert_eq!(fx.b.get("same").await.expect("b get").as_deref(), Some(&b"from-b"[..]));
    assert!(fx.b.delete("same").await.expect("b deletes its own"));
    assert_eq!(fx.a.get("same").await.expect("a get after").as_deref(), Some(&b"from-a"[..]));
}

/// Tenants whose own key prefix is one of [`HOSTILE_PREFIXES`] reach none of tenant A's
/// keys (glob characters in them included) by any call: reads, deletes, `take`,
/// `delete_by_prefix` with glob characters or nothing, and their `stats` count none of them.
pub async fn cache_tenant_prefixes_never_reach_other_tenants(fx: &CacheFixture) {
    assert!(!fx.hostile.is_empty(), "the fixture makes hostile tenants");
    let keys = ["k", "*", "acme:k", "sess:1", "[x]", "?", "\\"];
    let owned: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    for key in keys {
        fx.a.set(key, b"a", None).await.expect("a set");
    }
    for (i, other) in fx.hostile.iter().enumerate() {
        for prefix in ["", "*", "?", "[", "\\", "acme:", "hj:", "sess"] {
            let removed = other.delete_by_prefix(prefix).await.expect("delete_by_prefix");
            assert_eq!(removed, 0, "hostile tenant {i}: delete_by_prefix({prefix:?})");
        }
        for key in keys {
            assert_eq!(other.get(key).await.expect("get"), None, "hostile tenant {i} reads {key:?}");
            assert!(!other.exists(key).await.expect("exists"), "hostile tenant {i} sees {key:?}");
            assert!(!other.delete(key).await.expect("delete"), "hostile tenant {i} deletes {key:?}");
            assert_eq!(other.take(key).await.expect("take"), None, "hostile tenant {i} takes {key:?}");
        }
        assert_eq!(other.delete_many(&owned).await.expect("delete_many"), 0, "hostile tenant {i}");
        assert_eq!(other.get_many(&owned).await.expect("get_many"), vec![None; keys.len()]);
        assert_eq!(other.stats().await.expect("stats").entries, 0, "hostile tenant {i} counts A's keys");
    }
    for key in keys {
        assert_eq!(fx.a.get(key).await.expect("a get").as_deref(), Some(&b"a"[..]), "A's {key:?} survived");
    }
    assert_eq!(fx.a.delete_by_prefix("").await.expect("a empties itself"), keys.len() as u64);
}

/// `ping` answers and `stats` counts hits and misses.
pub async fn cache_ping_and_stats_count_hits_and_misses(fx: &CacheFixture) {
    fx.a.ping().await.expect("ping");
    let before = fx.a.stats().await.expect("stats");
    fx.a.set("s", b"1", None).await.expect("set");
    fx.a.get("s").await.expect("hit");
    fx.a.get("absent").await.expect("miss");
    let after = fx.a.stats().await.expect("stats");
    assert_eq!(after.hits, before.hits + 1);
    assert_eq!(after.misses, before.misses + 1);
    assert!(after.entries >= 1);
    assert!(!after.backend.is_empty());
}

/// The one list of cache cases. Calls `$crate::$callback!($($arg,)? case, case, …)`.
#[macro_export]
macro_rules! cache_cases {
    ($cb:ident $(, $arg:path)?) => {
        $crate::$cb! {$($arg,)?
            cache_set_get_exists_delete,
            cache_entries_expire_after_their_ttl,
            cache_many_operations_keep_order_and_counts,
            cache_delete_by_prefix_removes_only_that_prefix,
            cache_take_is_atomic_under_concurrency,
            cache_set_if_absent_is_a_lock,
            cache_tenants_never_see_each_others_keys,
            cache_tenant_prefixes_never_reach_other_tenants,
            cache_ping_and_stats_count_hits_and_misses,
        }
    };
}

/// Expands to one `#[tokio::test]` per cache case, each building its two caches with
/// `$fixture().await` (an `async fn() -> CacheFixture`).
#[macro_export]
macro_rules! cache_conformance {
    ($fixture:path) => {
        $crate::cache_cases!(__cache_test, $fixture);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cache_test {
    ($fixture:path, $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture().await;
                $crate::conformance::cache::$case(&fixture).await;
            }
        )*
    };
}
