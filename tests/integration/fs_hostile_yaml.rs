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
    assert!(p[0].contains("YAML syntax error"), "{p:?}");
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!("clients: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let p = problems(&text);
    assert!(!p.is_empty());
    assert!(p[0].starts_with("clients.yaml:1:"), "{p:?}");
    assert!(p[0].contains("recursion limit"), "{p:?}");
}

#[test]
fn several_documents_and_binary_garbage_are_refused() {
    assert!(!problems("clients: []\n---\nclients: []\n").is_empty());
    assert!(!problems("\u{0}\u{1}\u{2}clients").is_empty());
    assert!(!problems("clients: !!binary aGVsbG8=\n").is_empty());
}

#[test]
fn an_oversized_file_is_refused() {
    let text = format!("clients: []\n#{}\n", "x".repeat(5 * 1024 * 1024));
    let p = problems(&text);
    assert_eq!(p.len(), 1);
    assert!(p[0].contains("larger than"), "{p:?}");
}
