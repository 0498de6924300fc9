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
    assert!(p[0].contains("nesting deeper than 128"), "{p:?}");
}

/// serde_yaml's scanner takes time quadratic in the flow nesting before its recursion limit
/// applies (128,000 `[` took minutes), and a block nesting of 100,000 levels took 20 GB to
/// report: nesting is refused past 128 levels before serde_yaml runs, in every style, so a
/// file of the largest size accepted fails at once (the 5 s bound of `problems`).
#[test]
fn the_deepest_nesting_a_file_can_hold_is_refused_at_once() {
    let half = 2 * 1024 * 1024 - 16; // the largest file accepted is 4 MiB
    let block = format!("clients:\n{}x\n", "- ".repeat(half / 2));
    // Closing brackets in strings do not hide the real nesting.
    let hidden = format!("clients: {}", "[[[[\"]]]]\",".repeat(half / 10));
    for text in [
        format!("clients: {}", "[".repeat(half)),
        format!("clients: {}", "{a: ".repeat(half / 4)),
        block,
        hidden,
    ] {
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("nesting deeper than 128"), "{p:?}");
    }
    // Brackets in strings are text: 200 clients each holding an unclosed `[` are no nesting.
    let mut many = String::from("clients:\n");
    for i in 0..200 {
        many.push_str(&format!("- client_id: c{i}\n  name: \"Section [1 of the handbook\"\n"));
    }
    assert!(problems(&many).iter().all(|p| !p.contains("nesting")), "{:?}", problems(&many));
}

/// The alias check does not stop where its parser disagrees with serde_yaml's: U+2028 is a
/// line break to serde_yaml and not to the checking parser, and the file is refused rather
/// than expanded unchecked.
#[test]
fn an_alias_after_text_only_one_parser_reads_is_still_refused() {
    let text = "clients: []\nname: &n Acme\u{2028}x: y\nother: *n\n";
    let p = problems(text);
    assert!(!p.is_empty(), "must not validate");
    assert!(p.iter().all(|p| !p.contains("/clients")), "{p:?}");
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
