//! Reading and writing one control-plane file: YAML text → JSON value → JSON-Schema
//! validation → per-file rules → typed value (the deserialization a load does, and the
//! model's rules on it), with every problem located by file, line, column and JSON pointer.
//! A text that passes has a typed value the store loads. Writing renders YAML with the
//! `yaml-language-server` schema line and runs the same checks on the text before it may
//! reach the disk.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::positions::{Pos, Positions, escape_token};
use super::rules;
use super::schema::{AdminRefreshTokensFile, AdminsFile, ClientsFile, FileKind, LOWER_CASE_UUID, ScopesFile};
use crate::error::{ConfigProblem, StoreError, StoreResult};
use crate::model::{
    EMAIL_ADDRESS_PATTERN, ORIGIN_PATTERN, REDIRECT_URI_PATTERN, SECRET_PATTERN, Tenant, URL_PATTERN,
    Violation, redirect_uri_problem,
};

/// Largest control-plane file the store reads (hostile or runaway files are refused).
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// A file's text turned into JSON once it passed every check.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// The document as JSON.
    pub json: Value,
    /// The text it came from (positions are computed from it only when a problem needs one).
    pub text: String,
}

/// Collects problems of one file. Positions are mapped lazily: a valid file never pays for
/// them.
pub(crate) struct Report<'a> {
    pub file: &'a str,
    text: &'a str,
    positions: std::cell::OnceCell<Positions>,
    pub problems: Vec<ConfigProblem>,
}

impl<'a> Report<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Report { file, text, positions: std::cell::OnceCell::new(), problems: Vec::new() }
    }

    /// Where each value of the text is.
    pub fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| Positions::of(self.text))
    }

    fn push_at(&mut self, pos: Option<Pos>, pointer: &str, message: impl Into<String>) {
        let pos = pos.unwrap_or(Pos { line: 1, column: 1 });
        self.problems.push(ConfigProblem {
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    /// A problem with the value at `pointer`.
    pub fn value(&mut self, pointer: &str, message: impl Into<String>) {
        self.push_at(self.positions().value(pointer), pointer, message);
    }

    /// A problem with the key naming the value at `pointer`.
    pub fn key(&mut self, pointer: &str, message: impl Into<String>) {
        self.push_at(self.positions().key(pointer), pointer, message);
    }
}

fn problem(
    file: &str,
    line: usize,
    column: usize,
    pointer: &str,
    message: impl Into<String>,
) -> ConfigProblem {
    ConfigProblem {
        file: file.to_string(),
        line,
        column,
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

/// Parses and checks `text` as a file of `kind` (schema and per-file rules). `folder_slug`
/// is the name of the tenant folder the file is in, for the folder-equals-slug rule.
pub(crate) fn check_text(
    kind: FileKind,
    file: &str,
    text: &str,
    folder_slug: Option<&str>,
) -> Result<Parsed, Vec<ConfigProblem>> {
    if text.len() > MAX_FILE_BYTES {
        return Err(vec![problem(file, 1, 1, "", format!("file is larger than {MAX_FILE_BYTES} bytes"))]);
    }
    if let Some(found) = hostile_structure(text) {
        return Err(vec![problem(file, found.0, found.1, "", found.2)]);
    }
    let yaml: serde_yaml::Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            // serde_yaml gives no location for a repeated key: find it from the events.
            if let Some((pointer, pos)) = Positions::of(text).duplicate_keys().first() {
                let key =
                    pointer.rsplit('/').next().unwrap_or_default().replace("~1", "/").replace("~0", "~");
                return Err(vec![problem(
                    file,
                    pos.line,
                    pos.column,
                    pointer,
                    format!("duplicate key {key:?}"),
                )]);
            }
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
            let msg = e.to_string().replacen(&format!(" at line {line} column {column}"), "", 1);
            return Err(vec![problem(file, line, column, "", format!("YAML syntax error: {msg}"))]);
        }
    };
    let mut report = Report::new(file, text);
    let json = match to_json(&yaml, "", &mut report) {
        Some(j) => j,
        None => return Err(report.problems),
    };
    if !report.problems.is_empty() {
        return Err(report.problems);
    }
    schema_problems(kind, &json, &mut report);
    rules::check_file(kind, &json, folder_slug, &mut report);
    typed_problems(kind, &json, &mut report);
    if report.problems.is_empty() {
        Ok(Parsed { json, text: text.to_string() })
    } else {
        report.problems.sort_by_key(|a| (a.line, a.column));
        // A rule both the schema and `rules.rs` check is reported once, with one message.
        let mut unique: Vec<ConfigProblem> = Vec::with_capacity(report.problems.len());
        for problem in report.problems {
            if !unique.contains(&problem) {
                unique.push(problem);
            }
        }
        report.problems = unique;
        Err(report.problems)
    }
}

/// Deepest nesting of mappings and sequences (block or flow) a file may have: serde_yaml's
/// own recursion limit (128) comes only after its scanner went through the whole text, in
/// time quadratic in the flow nesting (a 256 KB file of `[` took minutes), and a block
/// nesting of 100,000 levels took 20 GB to report.
pub const MAX_NESTING: usize = 128;

/// What makes a text too costly to parse, found by one pass of `yaml-rust2`'s event parser
/// that stops at the first of: a nesting deeper than [`MAX_NESTING`], a YAML alias
/// (`*name`, which repeats its anchor's value as often as it is written: a few aliases of a
/// 3 MB string took gigabytes; the store never writes one, so a file with one is refused),
/// or text this parser cannot read (refused too: serde_yaml's parser accepts a few forms it
/// does not, such as U+2028 as a line break, and a check that stopped there would let
/// whatever follows through unchecked). Returns the line, column and message.
fn hostile_structure(text: &str) -> Option<(usize, usize, String)> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(next) => next,
            Err(e) => {
                let mark = e.marker();
                // yaml-rust2 has a recursion limit of its own, a little above ours.
                let message = if e.info().contains("recursion limit") {
                    format!("nesting deeper than {MAX_NESTING} levels")
                } else {
                    format!("YAML syntax error: {}", e.info())
                };
                return Some((mark.line(), mark.col() + 1, message));
            }
        };
        let at = (mark.line(), mark.col() + 1);
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((at.0, at.1, format!("nesting deeper than {MAX_NESTING} levels")));
                }
            }
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            Event::Alias(_) => {
                let message = "YAML aliases (*name) are not supported: write the value out";
                return Some((at.0, at.1, message.to_string()));
            }
            Event::StreamEnd => return None,
            _ => {}
        }
    }
}

/// The typed value of a file of `kind` whose JSON passed every check (`text` is the file's
/// text, to locate a problem).
///
/// Errors: `InvalidConfig` at the failing value's line and column when the JSON does not
/// fit the type ([`check_text`] already deserializes it, so only a caller that skipped it
/// gets here).
pub(crate) fn typed<T: DeserializeOwned>(file: &str, text: &str, json: &Value) -> StoreResult<T> {
    deserialize_located(json).map_err(|(pointer, message)| {
        let mut report = Report::new(file, text);
        report.value(&pointer, unloadable(&message));
        StoreError::InvalidConfig { problems: report.problems }
    })
}

/// The message of a value the typed deserialization refuses.
fn unloadable(serde_message: &str) -> String {
    format!("the store cannot load this value: {serde_message}")
}

/// The JSON pointer of a path `serde_path_to_error` recorded (up to its first unknown step).
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&escape_token(key));
            }
            Segment::Unknown => break,
        }
    }
    pointer
}

/// Deserializes `json` as `T`, as a load does; an error comes with the JSON pointer of the
/// value it failed at and serde's message.
fn deserialize_located<T: DeserializeOwned>(json: &Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(json).map_err(|e| (pointer_of(e.path()), e.inner().to_string()))
}

/// Builds the typed value of a file of `kind` from `json` — what the store loads — and runs
/// the model's rules on it ([`Violation`]s of clients, tenant settings, admin tokens).
/// serde stops at its first error: it is reported unless the schema or the rules already
/// reported a problem at that value, inside it or around it (the same defect, seen twice).
fn typed_problems(kind: FileKind, json: &Value, report: &mut Report<'_>) {
    fn under(prefix: &str, list: Vec<Vec<Violation>>) -> Vec<Violation> {
        list.into_iter()
            .enumerate()
            .flat_map(|(i, vs)| vs.into_iter().map(move |v| v.under(&format!("{prefix}/{i}"))))
            .collect()
    }
    let violations = match kind {
        FileKind::Tenant => build::<Tenant>(json, report).map(|t| t.violations()),
        FileKind::Clients => build::<ClientsFile>(json, report)
            .map(|f| under("/clients", f.clients.iter().map(|c| c.violations()).collect())),
        FileKind::Scopes => build::<ScopesFile>(json, report).map(|_| Vec::new()),
        FileKind::Admins => build::<AdminsFile>(json, report).map(|_| Vec::new()),
        FileKind::AdminRefreshTokens => build::<AdminRefreshTokensFile>(json, report)
            .map(|f| under("/refresh_tokens", f.refresh_tokens.iter().map(|t| t.violations()).collect())),
    };
    for v in violations.unwrap_or_default() {
        // The schema may have reported the same defect at the same value already (its
        // wording differs from the rule's): one problem per value.
        if !report.problems.iter().any(|p| p.pointer == v.pointer) {
            report.value(&v.pointer, v.message);
        }
    }
}

/// `json` as a `T`, or `None` with its error in `report` (see [`typed_problems`]).
fn build<T: DeserializeOwned>(json: &Value, report: &mut Report<'_>) -> Option<T> {
    match deserialize_located::<T>(json) {
        Ok(value) => Some(value),
        Err((pointer, message)) => {
            let related = |p: &str| {
                p == pointer
                    || pointer.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
                    || p.strip_prefix(pointer.as_str()).is_some_and(|rest| rest.starts_with('/'))
            };
            if !report.problems.iter().any(|p| related(&p.pointer)) {
                report.value(&pointer, unloadable(&message));
            }
            None
        }
    }
}

/// Renders `value` as the text of a file of `kind`: the schema line, then YAML that YAML 1.1
/// readers read alike (see `yaml.rs`). The text is checked like a read before it is returned.
///
/// Errors: `InvalidConfig` when the rendered text would not pass validation; `Backend` when
/// serialization fails (a plain-text secret refuses to serialize).
pub(crate) fn render<T: Serialize>(
    kind: FileKind,
    file: &str,
    value: &T,
    schema_ref: &str,
    folder_slug: Option<&str>,
) -> StoreResult<String> {
    let body = super::yaml::to_string(value).map_err(|e| StoreError::Backend {
        backend: "fs".into(),
        message: format!("serializing {file}: {e}"),
        source: None,
    })?;
    let text = format!("# yaml-language-server: $schema={schema_ref}\n{body}");
    check_text(kind, file, &text, folder_slug).map_err(|problems| StoreError::InvalidConfig { problems })?;
    Ok(text)
}

/// YAML → JSON, reporting what JSON cannot hold (tags, non-finite numbers, complex keys).
fn to_json(v: &serde_yaml::Value, pointer: &str, report: &mut Report<'_>) -> Option<Value> {
    use serde_yaml::Value as Y;
    Some(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                match n.as_f64().and_then(serde_json::Number::from_f64) {
                    Some(f) => Value::Number(f),
                    None => {
                        report.value(pointer, "non-finite numbers are not allowed");
                        Value::Null
                    }
                }
            }
        }
        Y::String(s) => {
            if s.contains('\0') {
                report.value(pointer, "NUL characters are not allowed (no database stores them)");
            }
            Value::String(s.clone())
        }
        Y::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, &format!("{pointer}/{i}"), report))
                .collect::<Option<Vec<_>>>()?,
        ),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, val) in map {
                let key = match k {
                    Y::String(s) => s.clone(),
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    _ => {
                        report.value(pointer, "mapping keys must be plain strings");
                        continue;
                    }
                };
                let child = format!("{pointer}/{}", escape_token(&key));
                let value = to_json(val, &child, report)?;
                if out.contains_key(&key) {
                    // `true` and "true", `1` and "1", `~` and "null": one key once read as text.
                    report.key(
                        &child,
                        format!("key {key:?} appears twice (once as text, once as another type)"),
                    );
                    continue;
                }
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            report.value(pointer, format!("YAML tags are not allowed (found {})", t.tag));
            Value::Null
        }
    })
}

/// Runs the JSON Schema of `kind` over `json`.
fn schema_problems(kind: FileKind, json: &Value, report: &mut Report<'_>) {
    let Some(validator) = kind.validator() else {
        report.value("", "internal error: the schema of this file does not compile");
        return;
    };
    for error in validator.iter_errors(json) {
        let pointer = error.instance_path().as_str().to_string();
        describe(&error, &pointer, json, report);
    }
}

fn describe(error: &jsonschema::ValidationError<'_>, pointer: &str, json: &Value, report: &mut Report<'_>) {
    use jsonschema::error::ValidationErrorKind as K;
    // A select field without options, in the words of the rule in `model/rules.rs`.
    let field_without_options = |field: &str, report: &mut Report<'_>| {
        let name = json.pointer(&format!("{field}/name")).and_then(Value::as_str).unwrap_or_default();
        report.value(&format!("{field}/type"), crate::model::rules::select_without_options(name));
    };
    match error.kind() {
        // The same messages as the rules in `model/rules.rs`, so each is reported once.
        K::Required { property }
            if property.as_str() == Some("secret") && pointer.starts_with("/clients/") =>
        {
            report.value(&format!("{pointer}/type"), crate::model::rules::CONFIDENTIAL_WITHOUT_SECRET);
        }
        K::Required { property }
            if property.as_str() == Some("options") && pointer.starts_with("/settings/user_fields/") =>
        {
            field_without_options(pointer, report);
        }
        K::MinItems { .. }
            if pointer.starts_with("/settings/user_fields/") && pointer.ends_with("/options") =>
        {
            field_without_options(pointer.trim_end_matches("/options"), report);
        }
        K::AdditionalProperties { unexpected } => {
            for key in unexpected {
                let child = format!("{pointer}/{}", escape_token(key));
                report.key(&child, format!("unknown key {key:?}"));
            }
        }
        K::Required { property } if property.as_str() == Some("issuer_override") => {
            report.value(&format!("{pointer}/issuer_mode"), "issuer_mode custom needs issuer_override");
        }
        K::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), |s| format!("{s:?}"));
            report.value(pointer, format!("missing required key {name}"));
        }
        K::Pattern { pattern } if pattern == EMAIL_ADDRESS_PATTERN => {
            let shown =
                error.instance().as_str().map_or_else(|| error.instance().to_string(), |s| format!("{s:?}"));
            report.value(
                pointer,
                format!("{shown} is not an e-mail address (local@domain.tld, no display name or quotes)"),
            );
        }
        // The same message as the rule in `rules.rs`, so the two are reported once.
        K::Pattern { pattern } if pattern == REDIRECT_URI_PATTERN => {
            let uri = error.instance().as_str().unwrap_or_default();
            let message = redirect_uri_problem(uri)
                .unwrap_or_else(|| format!("redirect URI {uri:?} has not the shape of one"));
            report.value(pointer, message);
        }
        // Every `format: uri` of the schemas has a `pattern` (URL_PATTERN, ORIGIN_PATTERN)
        // that accepts fewer values and says why in plain words: report that one only.
        K::Format { format } if format == "uri" => {}
        // Every `format: uuid` has the lower-case pattern, which accepts fewer values.
        K::Format { format } if format == "uuid" => {}
        K::Pattern { pattern } if pattern == LOWER_CASE_UUID => {
            report.value(pointer, format!("{} is not a UUID in lower case", error.instance()));
        }
        K::Pattern { pattern } if pattern == URL_PATTERN => {
            report.value(pointer, format!("{} is not an absolute http(s) URL", error.instance()));
        }
        K::Pattern { pattern } if pattern == ORIGIN_PATTERN => {
            report.value(
                pointer,
                format!("{} is not a web origin (http(s)://host[:port], no path)", error.instance()),
            );
        }
        K::FalseSchema if pointer.starts_with("/clients/") && pointer.ends_with("/secret") => {
            report.value(pointer, "a public client cannot have a secret");
        }
        K::Not { .. } if pointer.starts_with("/clients/") && pointer.contains("/grant_types/") => {
            report.value(pointer, "a public client cannot use client_credentials");
        }
        K::Pattern { pattern } if pattern == SECRET_PATTERN => {
            report.value(
                pointer,
                "plain-text secret: only ciphertext (enc:v1:…) is allowed here; write secrets through the store or encrypt them with HJ_SECRET_KEY",
            );
        }
        K::AnyOf { context } | K::OneOfNotValid { context } if one_of_constants(context).is_some() => {
            let allowed = one_of_constants(context).unwrap_or_default();
            report.value(pointer, format!("{} is not one of {}", error.instance(), allowed.join(", ")));
        }
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            // `Option<T>` becomes `anyOf [T, null]`: report why the value is not a T.
            let branches: Vec<&Vec<jsonschema::ValidationError<'static>>> = context
                .iter()
                .filter(|branch| {
                    !branch
                        .iter()
                        .any(|e| matches!(e.kind(), K::Type { kind } if format!("{kind:?}").contains("Null")))
                })
                .collect();
            if let [only] = branches.as_slice() {
                for e in only.iter() {
                    describe(e, e.instance_path().as_str(), json, report);
                }
            } else {
                report.value(pointer, error.to_string());
            }
        }
        _ => report.value(pointer, error.to_string()),
    }
}

/// When every branch of a `oneOf`/`anyOf` failed only on `const` (an enum written by
/// schemars as one `const` per variant), the allowed values.
fn one_of_constants(context: &[Vec<jsonschema::ValidationError<'static>>]) -> Option<Vec<String>> {
    use jsonschema::error::ValidationErrorKind as K;
    let mut allowed = Vec::new();
    for branch in context {
        let mut found = false;
        for e in branch {
            match e.kind() {
                K::Constant { expected_value } => {
                    allowed.push(expected_value.to_string());
                    found = true;
                }
                K::Enum { options } => {
                    if let Some(values) = options.as_array() {
                        allowed.extend(values.iter().map(ToString::to_string));
                    }
                    found = true;
                }
                K::Type { .. } => {}
                _ => return None,
            }
        }
        if !found {
            return None;
        }
    }
    (!allowed.is_empty()).then_some(allowed)
}
