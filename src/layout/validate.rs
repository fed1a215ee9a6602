//! Checking a layout document before anyone uses it: its size and encoding, its JSON,
//! the published schema, the rules a schema cannot say (no object twice, a picklist
//! default among its values…), and — with [`check_against_org`] — that every object and
//! field exists in the org and this user may use it. Every problem names the exact place
//! in the document (`calls.inbound.search[1].popFields[3]`) and how to fix it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::{CallType, LayoutDocument, SCHEMA_JSON};
use super::{CustomFieldKind, Dispositions};

/// A layout is kept in a Long Text Area of 131,072 characters in the org.
pub const MAX_CHARS: usize = 131_072;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LayoutProblem {
    /// Where in the document: `calls.inbound.search[0].object`; empty for the whole file.
    pub path: String,
    pub message: String,
    /// What to change.
    pub fix: String,
}

impl LayoutProblem {
    fn new(path: impl Into<String>, message: impl Into<String>, fix: impl Into<String>) -> LayoutProblem {
        LayoutProblem { path: path.into(), message: message.into(), fix: fix.into() }
    }
}

impl std::fmt::Display for LayoutProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.path.is_empty() { "(document)" } else { &self.path };
        write!(f, "{at}: {} — {}", self.message, self.fix)
    }
}

/// Reads and checks a document's bytes. Every problem found is returned, not only the
/// first, so an admin fixes a file in one pass.
pub fn parse(bytes: &[u8]) -> Result<LayoutDocument, Vec<LayoutProblem>> {
    if bytes.len() > MAX_CHARS * 4 {
        return Err(vec![too_large(bytes.len(), None)]);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let (line, column) = line_column(&bytes[..at]);
            return Err(vec![LayoutProblem::new(
                "",
                format!("the file is not UTF-8 text: byte {at} (line {line}, column {column}) is not valid UTF-8"),
                "save the file as UTF-8 (without a byte order mark)",
            )]);
        }
    };
    parse_str(text)
}

/// [`parse`] for text already known to be UTF-8.
pub fn parse_str(text: &str) -> Result<LayoutDocument, Vec<LayoutProblem>> {
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(vec![too_large(text.len(), Some(chars))]);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| {
        vec![LayoutProblem::new(
            "",
            format!("not valid JSON at line {}, column {}: {}", e.line(), e.column(), json_reason(&e)),
            "fix the JSON syntax there (a missing comma or quote is the usual cause)",
        )]
    })?;
    let mut problems = schema_problems(&value);
    if !problems.is_empty() {
        return Err(problems);
    }
    let doc: LayoutDocument = match serde_json::from_value(value) {
        Ok(d) => d,
        Err(e) => return Err(vec![LayoutProblem::new("", e.to_string(), "make the document follow assets/layout.schema.json")]),
    };
    problems.extend(rule_problems(&doc));
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(problems)
    }
}

fn too_large(bytes: usize, chars: Option<usize>) -> LayoutProblem {
    let size = if bytes >= 1 << 20 { format!("{:.1} MB", bytes as f64 / (1 << 20) as f64) } else { format!("{} KB", bytes.div_ceil(1024)) };
    let count = chars.map(|c| format!(" ({c} characters)")).unwrap_or_default();
    LayoutProblem::new(
        "",
        format!("the layout is {size}{count}; a layout holds at most {MAX_CHARS} characters (the org's Layout JSON field)"),
        "remove objects, fields or tabs the reps do not need",
    )
}

fn line_column(prefix: &[u8]) -> (usize, usize) {
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

fn json_reason(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).expect("the layout schema is JSON");
        jsonschema::validator_for(&schema).expect("the layout schema compiles")
    })
}

/// `/calls/inbound/search/0/popFields` → `calls.inbound.search[0].popFields`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The properties the schema allows at `instance_path`'s object, for "did you mean":
/// those of the built-in document at the same place, which has every property (the
/// optional ones as null). Empty lists there (custom fields, tabs) give no suggestion.
fn allowed_properties(instance_path: &str) -> Vec<String> {
    let builtin: Value = serde_json::from_str(super::document::DEFAULT_JSON).unwrap_or(Value::Null);
    let mut node = &builtin;
    for seg in instance_path.split('/').skip(1) {
        let next = if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            // Every element of a list has the same shape.
            node.as_array().and_then(|a| a.first())
        } else {
            node.get(seg)
        };
        match next {
            Some(n) => node = n,
            None => return vec![],
        }
    }
    node.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    let w = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&w, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn schema_problems(value: &Value) -> Vec<LayoutProblem> {
    use jsonschema::error::ValidationErrorKind as K;
    let mut out = Vec::new();
    for error in validator().iter_errors(value) {
        let pointer = error.instance_path().as_str().to_string();
        let path = dotted(&pointer);
        let problem = match error.kind() {
            K::AdditionalProperties { unexpected } => {
                let allowed = allowed_properties(&pointer);
                for name in unexpected {
                    let fix = match closest(name, &allowed) {
                        Some(c) => format!("remove it, or rename it to `{c}`"),
                        None if allowed.is_empty() => "remove it".to_string(),
                        None => format!("remove it; allowed here: {}", allowed.join(", ")),
                    };
                    out.push(LayoutProblem::new(join(&path, name), format!("unknown property `{name}`"), fix));
                }
                continue;
            }
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                LayoutProblem::new(join(&path, name), format!("`{name}` is missing"), format!("add `{name}` (`ringside layout default` shows every property)"))
            }
            K::Enum { options } => {
                let list: Vec<String> = options.as_array().map(|a| a.iter().map(|v| v.to_string()).collect()).unwrap_or_default();
                LayoutProblem::new(path, format!("{} is not one of the allowed values", error.instance()), format!("use one of {}", list.join(", ")))
            }
            K::Type { .. } => LayoutProblem::new(path, format!("wrong type: {}", error), "write the value with the type the schema gives"),
            _ => LayoutProblem::new(path, error.to_string(), "change the value to what the schema allows"),
        };
        out.push(problem);
    }
    // Internally tagged choices (`dispositions`) fail as "one of" with no detail; say it.
    for p in &mut out {
        if p.path.ends_with("dispositions") && p.message.contains("oneOf") {
            p.message = "dispositions must be {\"source\": \"list\", \"values\": […]} or {\"source\": \"picklist\", \"field\": \"…\"}".into();
            p.fix = "write one of the two forms".into();
        }
    }
    out
}

const API_NAME_HINT: &str = "use the API name (letters, digits and _; custom ones end in __c)";

fn is_api_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.contains("___")
}

fn is_field_path(s: &str) -> bool {
    !s.is_empty() && s.split('.').count() <= 5 && s.split('.').all(is_api_name)
}

/// Rules the schema cannot express.
fn rule_problems(doc: &LayoutDocument) -> Vec<LayoutProblem> {
    let mut out = Vec::new();
    for kind in CallType::ALL {
        let base = format!("calls.{}", kind.key());
        let calls = doc.calls.get(kind);
        if kind != CallType::Internal && calls.search.is_empty() {
            out.push(LayoutProblem::new(
                format!("{base}.search"),
                format!("no object is searched on {} calls, so no caller could ever be found", kind.key()),
                "list at least one object (Contact, Lead, Account…)",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, o) in calls.search.iter().enumerate() {
            let at = format!("{base}.search[{i}]");
            if !is_api_name(&o.object) {
                out.push(LayoutProblem::new(format!("{at}.object"), format!("`{}` is not an object API name", o.object), API_NAME_HINT));
            } else if !seen.insert(o.object.clone()) {
                out.push(LayoutProblem::new(format!("{at}.object"), format!("{} is listed twice", o.object), "keep one entry per object; its place is its priority"));
            }
            if o.phone_fields.is_empty() {
                out.push(LayoutProblem::new(format!("{at}.phoneFields"), "no phone field to compare the number with", "list the object's phone fields (Phone, MobilePhone…)"));
            }
            let lists = [("phoneFields", &o.phone_fields), ("popFields", &o.pop_fields)];
            for (name, list) in lists {
                for (j, f) in list.iter().enumerate() {
                    if !is_field_path(f) {
                        out.push(LayoutProblem::new(format!("{at}.{name}[{j}]"), format!("`{f}` is not a field API name"), API_NAME_HINT));
                    }
                }
            }
            if let Some(filter) = &o.filter {
                if filter.contains(';') || filter.to_ascii_uppercase().contains(" LIMIT ") {
                    out.push(LayoutProblem::new(format!("{at}.filter"), "the filter must be one SOQL condition", "write only the condition, e.g. IsConverted = false"));
                }
            }
        }
    }
    let log = &doc.call_log;
    match &log.dispositions {
        Dispositions::List { values } => {
            if values.is_empty() && log.disposition_required {
                out.push(LayoutProblem::new("callLog.dispositions.values", "a disposition is required but none is offered", "list the dispositions, or set dispositionRequired to false"));
            }
            let mut seen = BTreeSet::new();
            for (i, v) in values.iter().enumerate() {
                if !seen.insert(v.to_lowercase()) {
                    out.push(LayoutProblem::new(format!("callLog.dispositions.values[{i}]"), format!("\"{v}\" is listed twice"), "remove the repeat"));
                }
            }
        }
        Dispositions::Picklist { field } => {
            if !is_api_name(field) {
                out.push(LayoutProblem::new("callLog.dispositions.field", format!("`{field}` is not a field API name"), API_NAME_HINT));
            }
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, f) in log.fields.iter().enumerate() {
        let at = format!("callLog.fields[{i}]");
        if !is_api_name(&f.field) {
            out.push(LayoutProblem::new(format!("{at}.field"), format!("`{}` is not a Task field API name", f.field), API_NAME_HINT));
        }
        if let Some(first) = seen.insert(f.field.to_lowercase(), i) {
            out.push(LayoutProblem::new(format!("{at}.field"), format!("{} is already on the form at callLog.fields[{first}]", f.field), "keep one entry per field"));
        }
        if f.kind == CustomFieldKind::Picklist {
            if let Some(d) = &f.default {
                if !f.values.is_empty() && !f.values.contains(d) {
                    out.push(LayoutProblem::new(format!("{at}.default"), format!("the default \"{d}\" is not one of the field's values"), format!("use one of: {}", f.values.join(", "))));
                }
            }
        } else if !f.values.is_empty() {
            out.push(LayoutProblem::new(format!("{at}.values"), "only a picklist has values", "remove the values, or make the field a picklist"));
        }
        if written_by_mapping(doc).contains(&f.field.as_str()) {
            out.push(LayoutProblem::new(format!("{at}.field"), format!("{} is already written by callLog.mapping", f.field), "pick another Task field, or drop it from the mapping"));
        }
    }
    for (i, o) in log.related_objects.iter().enumerate() {
        if !is_api_name(o) {
            out.push(LayoutProblem::new(format!("callLog.relatedObjects[{i}]"), format!("`{o}` is not an object API name"), API_NAME_HINT));
        }
    }
    for (i, p) in doc.settings.internal_numbers.value.prefixes.iter().enumerate() {
        let digits = p.strip_prefix('+').unwrap_or(p);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            out.push(LayoutProblem::new(
                format!("settings.internalNumbers.value.prefixes[{i}]"),
                format!("\"{p}\" is not the start of a number"),
                "write digits, with + and the country code for outside lines (+33142)",
            ));
        }
    }
    let mut labels = BTreeSet::new();
    for (i, t) in doc.settings.more_info_tabs.value.iter().enumerate() {
        let at = format!("settings.moreInfoTabs.value[{i}]");
        if !labels.insert(t.label.to_lowercase()) {
            out.push(LayoutProblem::new(format!("{at}.label"), format!("another tab is already called \"{}\"", t.label), "give each tab its own label"));
        }
        if !is_api_name(&t.object) {
            out.push(LayoutProblem::new(format!("{at}.object"), format!("`{}` is not an object API name", t.object), API_NAME_HINT));
        }
        for (j, f) in t.fields.iter().enumerate() {
            if !is_field_path(f) {
                out.push(LayoutProblem::new(format!("{at}.fields[{j}]"), format!("`{f}` is not a field API name"), API_NAME_HINT));
            }
        }
    }
    out
}

fn written_by_mapping(doc: &LayoutDocument) -> Vec<&str> {
    let m = &doc.call_log.mapping;
    let mut out = vec![m.subject.as_str(), m.call_id.as_str()];
    out.extend([&m.notes, &m.call_type, &m.duration, &m.disposition, &m.activity_date].into_iter().flatten().map(String::as_str));
    out.extend([&m.subtype, &m.status].into_iter().flatten().map(|f| f.field.as_str()));
    out
}

// ---- against the org ---------------------------------------------------------------

/// What the org says about one object: its describe, or why there is none.
pub enum Described {
    Object(std::sync::Arc<Value>),
    /// Missing, or this user cannot read it.
    Unreadable,
}

/// One field of a describe, as the checks need it.
struct FieldFacts<'a> {
    kind: &'a str,
    createable: bool,
    filterable: bool,
    relationship: Option<(&'a str, Vec<&'a str>)>,
}

fn fields_of(describe: &Value) -> BTreeMap<String, FieldFacts<'_>> {
    let mut out = BTreeMap::new();
    for f in describe.get("fields").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = f.get("name").and_then(Value::as_str) else { continue };
        let rel = f.get("relationshipName").and_then(Value::as_str).map(|r| {
            let to = f.get("referenceTo").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            (r, to)
        });
        out.insert(
            name.to_lowercase(),
            FieldFacts {
                kind: f.get("type").and_then(Value::as_str).unwrap_or(""),
                createable: f.get("createable").and_then(Value::as_bool).unwrap_or(false),
                filterable: f.get("filterable").and_then(Value::as_bool).unwrap_or(false),
                relationship: rel,
            },
        );
    }
    out
}

/// Every object the document names (search, related-to, tabs, Task), for describing.
pub fn objects_named(doc: &LayoutDocument) -> BTreeSet<String> {
    let mut out = BTreeSet::from(["Task".to_string()]);
    for kind in CallType::ALL {
        out.extend(doc.calls.get(kind).search.iter().map(|o| o.object.clone()));
    }
    out.extend(doc.call_log.related_objects.iter().cloned());
    out.extend(doc.settings.more_info_tabs.value.iter().map(|t| t.object.clone()));
    out
}

/// Objects reached through dotted field paths (`Account.Name` on Contact → Account),
/// which need a describe of their own. `described` holds what is known so far.
pub fn parents_needed(doc: &LayoutDocument, described: &HashMap<String, Described>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut visit = |object: &str, path: &str| {
        let mut parts = path.split('.');
        let Some(first) = parts.next() else { return };
        if parts.next().is_none() {
            return;
        }
        if let Some(Described::Object(d)) = described.get(object) {
            for f in fields_of(d).values() {
                if let Some((rel, to)) = &f.relationship {
                    if rel.eq_ignore_ascii_case(first) {
                        out.extend(to.iter().filter(|t| !described.contains_key(**t)).map(|t| t.to_string()));
                    }
                }
            }
        }
    };
    for kind in CallType::ALL {
        for o in &doc.calls.get(kind).search {
            for f in &o.pop_fields {
                visit(&o.object, f);
            }
        }
    }
    for t in &doc.settings.more_info_tabs.value {
        for f in &t.fields {
            visit(&t.object, f);
        }
    }
    out
}

/// Checks every object and field the document names against the org's describes.
/// `described` must hold every object of [`objects_named`] and [`parents_needed`].
pub fn check_against_org(doc: &LayoutDocument, described: &HashMap<String, Described>) -> Vec<LayoutProblem> {
    let mut out = Vec::new();
    let facts: HashMap<&str, BTreeMap<String, FieldFacts>> = described
        .iter()
        .filter_map(|(k, d)| match d {
            Described::Object(v) => Some((k.as_str(), fields_of(v))),
            Described::Unreadable => None,
        })
        .collect();
    let unreadable = |object: &str, at: String, out: &mut Vec<LayoutProblem>| -> bool {
        if facts.contains_key(object) {
            return false;
        }
        out.push(LayoutProblem::new(
            at,
            format!("the object {object} does not exist in this org or this user cannot read it"),
            format!("check the API name, or give the reps read access to {object} (profile or permission set)"),
        ));
        true
    };
    // A plain or dotted field: exists, and each hop is a relationship.
    let resolve = |object: &str, path: &str| -> Result<String, String> {
        let mut current = object.to_string();
        let parts: Vec<&str> = path.split('.').collect();
        for (i, part) in parts.iter().enumerate() {
            let Some(fields) = facts.get(current.as_str()) else {
                return Err(format!("{current} cannot be read by this user"));
            };
            if i + 1 == parts.len() {
                return match fields.get(&part.to_lowercase()) {
                    Some(f) => Ok(f.kind.to_string()),
                    None => Err(format!("{current} has no field {part} this user can read")),
                };
            }
            let hop = fields.values().find_map(|f| f.relationship.as_ref().filter(|(r, _)| r.eq_ignore_ascii_case(part)).map(|(_, to)| to.clone()));
            match hop.and_then(|to| to.first().map(|t| t.to_string())) {
                Some(next) => current = next,
                None => return Err(format!("{current} has no relationship {part}")),
            }
        }
        Err("empty field".into())
    };
    for kind in CallType::ALL {
        for (i, o) in doc.calls.get(kind).search.iter().enumerate() {
            let at = format!("calls.{}.search[{i}]", kind.key());
            if unreadable(&o.object, format!("{at}.object"), &mut out) {
                continue;
            }
            for (j, f) in o.phone_fields.iter().enumerate() {
                match resolve(&o.object, f) {
                    Ok(t) if t == "phone" || t == "string" => {}
                    Ok(t) => out.push(LayoutProblem::new(format!("{at}.phoneFields[{j}]"), format!("{}.{f} is a {t} field, not a phone field", o.object), "list only phone fields here")),
                    Err(e) => out.push(LayoutProblem::new(format!("{at}.phoneFields[{j}]"), e, "fix the API name or remove it")),
                }
            }
            for (j, f) in o.pop_fields.iter().enumerate() {
                if let Err(e) = resolve(&o.object, f) {
                    out.push(LayoutProblem::new(format!("{at}.popFields[{j}]"), e, "fix the API name, give the reps access to the field, or remove it"));
                }
            }
            let named = [("nameField", Some(&o.name_field)), ("countryField", o.country_field.as_ref()), ("stateField", o.state_field.as_ref()), ("accountField", o.account_field.as_ref())];
            for (name, f) in named {
                if let Some(f) = f {
                    if let Err(e) = resolve(&o.object, f) {
                        out.push(LayoutProblem::new(format!("{at}.{name}"), e, "fix the API name or leave it out"));
                    }
                }
            }
        }
    }
    let log = &doc.call_log;
    for (i, o) in log.related_objects.iter().enumerate() {
        unreadable(o, format!("callLog.relatedObjects[{i}]"), &mut out);
    }
    if !unreadable("Task", "callLog.mapping".into(), &mut out) {
        let task = &facts["Task"];
        let m = &log.mapping;
        let mapped = [
            ("subject", Some(&m.subject)),
            ("notes", m.notes.as_ref()),
            ("callId", Some(&m.call_id)),
            ("callType", m.call_type.as_ref()),
            ("duration", m.duration.as_ref()),
            ("disposition", m.disposition.as_ref()),
            ("activityDate", m.activity_date.as_ref()),
            ("subtype", m.subtype.as_ref().map(|f| &f.field)),
            ("status", m.status.as_ref().map(|f| &f.field)),
        ];
        for (name, f) in mapped {
            let Some(f) = f else { continue };
            let at = if matches!(name, "subtype" | "status") { format!("callLog.mapping.{name}.field") } else { format!("callLog.mapping.{name}") };
            match task.get(&f.to_lowercase()) {
                None => out.push(LayoutProblem::new(at, format!("Task has no field {f} this user can read"), "fix the API name, or set it to null to leave that part out")),
                Some(facts) if !facts.createable => out.push(LayoutProblem::new(at, format!("Task.{f} cannot be written by this user"), "give the reps edit access to the field, or map another one")),
                Some(facts) if name == "callId" && !facts.filterable => out.push(LayoutProblem::new(at, format!("Task.{f} cannot be searched on, and the call id must be"), "map the call id to a text field (CallObject)")),
                _ => {}
            }
        }
        if let Dispositions::Picklist { field } = &log.dispositions {
            match task.get(&field.to_lowercase()) {
                Some(f) if f.kind == "picklist" || f.kind == "multipicklist" => {}
                Some(f) => out.push(LayoutProblem::new("callLog.dispositions.field", format!("Task.{field} is a {} field, not a picklist", f.kind), "name a picklist field, or list the dispositions")),
                None => out.push(LayoutProblem::new("callLog.dispositions.field", format!("Task has no field {field} this user can read"), "fix the API name")),
            }
        }
        for (i, f) in log.fields.iter().enumerate() {
            let at = format!("callLog.fields[{i}].field");
            match task.get(&f.field.to_lowercase()) {
                None => out.push(LayoutProblem::new(at, format!("Task has no field {} this user can read", f.field), "fix the API name, or create the field on Activity")),
                Some(facts) if !facts.createable => out.push(LayoutProblem::new(at, format!("Task.{} cannot be written by this user", f.field), "give the reps edit access to the field")),
                Some(facts) if f.kind == CustomFieldKind::Picklist && !matches!(facts.kind, "picklist" | "multipicklist") && f.values.is_empty() => out.push(LayoutProblem::new(
                    format!("callLog.fields[{i}].values"),
                    format!("Task.{} is a {} field, so it has no values to offer", f.field, facts.kind),
                    "list the values, or make the form field text",
                )),
                _ => {}
            }
        }
    }
    for (i, t) in doc.settings.more_info_tabs.value.iter().enumerate() {
        let at = format!("settings.moreInfoTabs.value[{i}]");
        if unreadable(&t.object, format!("{at}.object"), &mut out) {
            continue;
        }
        match resolve(&t.object, &t.account_field) {
            Ok(k) if k == "reference" => {}
            Ok(k) => out.push(LayoutProblem::new(format!("{at}.accountField"), format!("{}.{} is a {k} field, not a lookup to Account", t.object, t.account_field), "name the lookup to Account (AccountId)")),
            Err(e) => out.push(LayoutProblem::new(format!("{at}.accountField"), e, "name the lookup to Account (AccountId)")),
        }
        for (j, f) in t.fields.iter().enumerate() {
            if let Err(e) = resolve(&t.object, f) {
                out.push(LayoutProblem::new(format!("{at}.fields[{j}]"), e, "fix the API name or remove it"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::document::DEFAULT_JSON;

    fn with(edit: impl FnOnce(&mut Value)) -> Vec<LayoutProblem> {
        let mut v: Value = serde_json::from_str(DEFAULT_JSON).unwrap();
        edit(&mut v);
        parse(serde_json::to_string(&v).unwrap().as_bytes()).err().unwrap_or_default()
    }

    #[test]
    fn the_default_layout_is_valid() {
        assert!(parse(DEFAULT_JSON.as_bytes()).is_ok());
    }

    #[test]
    fn a_misspelt_property_is_named_with_its_path_and_the_right_spelling() {
        let problems = with(|v| {
            let o = v["calls"]["inbound"]["search"][1].as_object_mut().unwrap();
            let pop = o.remove("popFields").unwrap();
            o.insert("popFeilds".into(), pop);
        });
        assert!(problems.iter().any(|p| p.path == "calls.inbound.search[1].popFeilds" && p.fix.contains("`popFields`")), "{problems:#?}");
        assert!(problems.iter().any(|p| p.path == "calls.inbound.search[1].popFields" && p.message.contains("missing")), "{problems:#?}");
    }

    #[test]
    fn wrong_values_and_types_point_at_their_place() {
        let problems = with(|v| {
            v["calls"]["outbound"]["pop"]["on"] = "hangup".into();
            v["settings"]["autoSaveLogs"]["value"] = "yes".into();
            v["formatVersion"] = 2.into();
        });
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"calls.outbound.pop.on"), "{problems:#?}");
        assert!(paths.contains(&"settings.autoSaveLogs.value"), "{problems:#?}");
        assert!(paths.contains(&"formatVersion"), "{problems:#?}");
    }

    #[test]
    fn rules_beyond_the_schema_are_checked() {
        let problems = with(|v| {
            let contact = v["calls"]["inbound"]["search"][0].clone();
            v["calls"]["inbound"]["search"].as_array_mut().unwrap().push(contact);
            v["calls"]["outbound"]["search"] = Value::Array(vec![]);
            v["settings"]["internalNumbers"]["value"]["prefixes"] = serde_json::json!(["+33 1"]);
        });
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["calls.inbound.search[3].object", "calls.outbound.search", "settings.internalNumbers.value.prefixes[0]"], "{problems:#?}");
    }

    #[test]
    fn bytes_that_are_not_a_layout_are_refused_with_where_and_why() {
        let bad = parse(b"{\n  \"name\": \"caf\xe9\"\n}").unwrap_err();
        assert!(bad[0].message.contains("line 2, column 15"), "{bad:?}");
        let big = vec![b' '; 5 << 20];
        assert!(parse(&big).unwrap_err()[0].message.contains("5.0 MB"));
        let syntax = parse(b"{\"formatVersion\": 1,}").unwrap_err();
        assert!(syntax[0].message.starts_with("not valid JSON at line 1, column 21"), "{syntax:?}");
    }

    #[test]
    fn paths_read_like_the_document() {
        assert_eq!(dotted("/calls/inbound/search/0/popFields/2"), "calls.inbound.search[0].popFields[2]");
        assert_eq!(dotted(""), "");
    }
}
