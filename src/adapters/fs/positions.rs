//! Where each value of a YAML document is: a map from JSON pointer to line and column,
//! built from `yaml-rust2`'s marked events (serde_yaml keeps no spans). Used to point
//! schema and rule problems at the offending text.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Positions of the values (and mapping keys) of the first document of a YAML text.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
    duplicates: Vec<(String, Pos)>,
}

enum Frame {
    Map {
        ptr: String,
        key: Option<String>,
        first: bool,
    },
    Seq {
        ptr: String,
        index: usize,
    },
    /// A node we do not map (a complex mapping key); counts nested starts.
    Skip {
        depth: usize,
    },
}

/// Escapes one JSON-pointer reference token.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl Positions {
    /// Maps `src`. A text that does not parse yields the positions found before the error.
    pub fn of(src: &str) -> Positions {
        let mut out = Positions::default();
        let mut parser = Parser::new_from_str(src);
        let mut stack: Vec<Frame> = Vec::new();
        let mut started = false;
        while let Ok((event, mark)) = parser.next_token() {
            let pos = Pos { line: mark.line(), column: mark.col() + 1 };
            match event {
                Event::StreamEnd => break,
                Event::DocumentEnd if started => break,
                Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => {}
                Event::Scalar(..) | Event::Alias(_) | Event::MappingStart(..) | Event::SequenceStart(..) => {
                    started = true;
                    let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
                    // Inside a skipped node: only track depth.
                    if let Some(Frame::Skip { depth }) = stack.last_mut() {
                        if is_start {
                            *depth += 1;
                        }
                        continue;
                    }
                    // A mapping key?
                    if let Some(Frame::Map { ptr, key, first }) = stack.last_mut()
                        && key.is_none()
                    {
                        if *first {
                            // A block mapping's start mark is after its first key: point
                            // the mapping at that key instead.
                            *first = false;
                            out.values.insert(ptr.clone(), pos);
                        }
                        match &event {
                            Event::Scalar(k, ..) => {
                                let child = format!("{ptr}/{}", escape_token(k));
                                if out.keys.contains_key(&child) {
                                    out.duplicates.push((child.clone(), pos));
                                }
                                out.keys.insert(child, pos);
                                *key = Some(k.clone());
                            }
                            _ => {
                                *key = Some(String::new());
                                if is_start {
                                    stack.push(Frame::Skip { depth: 1 });
                                }
                            }
                        }
                        continue;
                    }
                    // A value: compute its pointer and advance the parent.
                    let ptr = match stack.last_mut() {
                        None => String::new(),
                        Some(Frame::Map { ptr, key, .. }) => {
                            let k = key.take().unwrap_or_default();
                            format!("{ptr}/{}", escape_token(&k))
                        }
                        Some(Frame::Seq { ptr, index }) => {
                            let p = format!("{ptr}/{index}");
                            *index += 1;
                            p
                        }
                        Some(Frame::Skip { .. }) => continue,
                    };
                    out.values.entry(ptr.clone()).or_insert(pos);
                    match event {
                        Event::MappingStart(..) => stack.push(Frame::Map { ptr, key: None, first: true }),
                        Event::SequenceStart(..) => stack.push(Frame::Seq { ptr, index: 0 }),
                        _ => {}
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if let Some(Frame::Skip { depth }) = stack.last_mut() {
                        *depth -= 1;
                        if *depth > 0 {
                            continue;
                        }
                    }
                    stack.pop();
                }
            }
        }
        out
    }

    /// Position of the value at `pointer`, or of its nearest mapped ancestor; `None` when
    /// nothing is mapped (empty text).
    pub fn value(&self, pointer: &str) -> Option<Pos> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.values.get(p) {
                return Some(*pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// Mapping keys that appear twice in one mapping: pointer and position of each repeat.
    pub fn duplicate_keys(&self) -> &[(String, Pos)] {
        &self.duplicates
    }

    /// Position of the mapping key naming the value at `pointer`, falling back to
    /// [`Positions::value`].
    pub fn key(&self, pointer: &str) -> Option<Pos> {
        self.keys.get(pointer).copied().or_else(|| self.value(pointer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_nested_values_and_keys() {
        let src = "# comment\nclients:\n  - id: abc\n    name: \"x\"\n    uris:\n      - https://a\n";
        let p = Positions::of(src);
        assert_eq!(p.value("/clients"), Some(Pos { line: 3, column: 3 }));
        assert_eq!(p.value("/clients/0/id"), Some(Pos { line: 3, column: 9 }));
        assert_eq!(p.key("/clients/0/name"), Some(Pos { line: 4, column: 5 }));
        assert_eq!(p.value("/clients/0/name"), Some(Pos { line: 4, column: 11 }));
        assert_eq!(p.value("/clients/0/uris/0"), Some(Pos { line: 6, column: 9 }));
        assert_eq!(p.value("/clients/0/missing"), Some(Pos { line: 3, column: 5 }));
    }

    #[test]
    fn flow_style_and_escapes() {
        let p = Positions::of("a/b: {x: [1, 2]}\n");
        assert_eq!(p.value("/a~1b/x/1"), Some(Pos { line: 1, column: 14 }));
    }
}
