//! Malformed and hostile YAML is refused quickly with a located problem, never a crash,
//! a hang or a path outside the root.

use std::time::{Duration, Instant};

use hellojohn_store::adapters::fs::FileKind;
use hellojohn_store::adapters::fs::tree::validate_text;

fn problems(text: &str) -> Vec<String> {
    let start = Instant::now();
    let problems = validate_text(FileKind::Clients, "clients.yaml", text);
    assert!(start.elapsed() < Duration::from_secs(5), "validation took {:?}", start.elapsed());
    problems.iter().map(ToString::to_string).collect()
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    let p = problems(&text);
    assert!(!p.is_empty(), "an alias bomb must not validate");
    assert!(p[0].contains("aliases"), "{p:?}");
}

/// A few aliases of one large string stayed within serde_yaml's event limit and took
/// gigabytes once expanded: any alias is refused before parsing, at its place.
#[test]
fn an_alias_of_a_large_value_is_refused_before_it_is_expanded() {
    let mut text = format!(
        "clients: []
x: &big \"{}\"\n",
        "a".repeat(3 * 1024 * 1024)
    );
    for i in 0..300 {
        text.push_str(&format!("y{i}: *big\n"));
    }
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("clients.yaml:3:") && p[0].contains("aliases (*name) are not supported"),
        "{p:?}"
    );
    // A `*` in a value is not an alias.
    let ok = problems("clients: []\n# https://*.example.com\n");
    assert!(ok.iter().all(|p| !p.contains("alias")), "{ok:?}");
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!("clients: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let p = problems(&text);
    assert!(!p.is_empty());
    assert!(p[0].starts_with("clients.yaml:1:"), "{p:?}");
    assert!(p[0].contains("more than 128 unclosed"), "{p:?}");
}

/// serde_yaml's scanner takes time quadratic in the flow nesting before its recursion limit
/// applies (128,000 `[` took minutes): the nesting is refused before the parser runs, so a
/// file of the largest size accepted, all `[` and `{`, fails at once (the 5 s bound of
/// `problems`).
#[test]
fn the_deepest_nesting_a_file_can_hold_is_refused_at_once() {
    let half = 2 * 1024 * 1024 - 16; // the largest file accepted is 4 MiB
    for open in ["[", "{a: "] {
        let text = format!("clients: {}", open.repeat(half / open.len()));
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("more than 128 unclosed"), "{p:?}");
    }
    // 128 levels are allowed by this check (and refused by the schema, not the parser).
    let text = format!("clients: {}{}\n", "[".repeat(100), "]".repeat(100));
    assert!(problems(&text).iter().all(|p| !p.contains("unclosed")));
}

/// `true` and "true" (or `1` and "1") are two YAML keys but one JSON key: the second one
/// silently replaced the first, hiding an invalid value from validate and every load.
#[test]
fn keys_that_become_one_json_key_are_refused() {
    let text = "clients: []\nmap:\n  true: 1\n  \"true\": 2\n";
    let p = problems(text);
    assert!(p.iter().any(|p| p.starts_with("clients.yaml:4:") && p.contains("appears twice")), "{p:?}");
}

/// No database stores a NUL character; a file with one was valid and then failed on import.
#[test]
fn a_nul_character_in_a_string_is_refused() {
    let p = problems("clients:\n- client_id: \"web\\0app\"\n");
    assert!(p.iter().any(|p| p.contains("NUL")), "{p:?}");
}

/// Ids are lower-case UUIDs: two spellings of one id passed the uniqueness checks (a sync
/// import then lost a tenant). The schema says so, so every standard tool refuses it too.
#[test]
fn an_upper_case_uuid_is_refused() {
    let file = |id: &str| format!("clients:\n- id: \"{id}\"\n  client_id: web\n");
    let at_id = |p: &Vec<String>| p.iter().any(|p| p.contains("/clients/0/id:"));
    let lower = problems(&file("0192f0c4-0000-7000-8000-00000000000a"));
    assert!(!at_id(&lower), "{lower:?}");
    let upper = problems(&file("0192F0C4-0000-7000-8000-00000000000A"));
    assert!(at_id(&upper), "{upper:?}");
}
