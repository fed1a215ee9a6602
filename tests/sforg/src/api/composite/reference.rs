//! References between composite subrequests: `@{refId.path}` in a later subrequest's URL
//! or body stands for a value of an earlier subrequest's answer. The path walks the
//! answer's JSON with `.field` and `[index]` (`@{refUser.records[0].ProfileId}`,
//! `@{refNew.id}`), case-sensitively, as JavaScript would. Only scalars are values:
//! strings, numbers and booleans. This module fills references in from answers already
//! given; it never runs a subrequest.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

/// A reference with no value: its subrequest is unknown, failed, or its answer has
/// nothing scalar at the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unresolved {
    /// What stood between `@{` and `}`.
    pub expression: String,
    /// The referenceId it names.
    pub reference_id: String,
}

impl Unresolved {
    /// Salesforce's wording (`PROCESSING_HALTED`).
    pub(crate) fn message(&self) -> String {
        format!("Invalid reference specified. No value for {} found in {}", self.expression, self.reference_id)
    }
}

/// The bodies of the subrequests that succeeded so far, by referenceId. A failed
/// subrequest is not here, so a reference to it has no value.
pub(crate) type Answers = HashMap<String, Value>;

enum Step<'a> {
    Field(&'a str),
    Index(usize),
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `refId` and its steps, or `None` when the text is not a reference expression.
fn parse(expression: &str) -> Option<(&str, Vec<Step<'_>>)> {
    let end = expression.find(['.', '[']).unwrap_or(expression.len());
    let (id, mut rest) = expression.split_at(end);
    if id.is_empty() || !id.chars().all(is_word) {
        return None;
    }
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() {
                return None;
            }
            steps.push(Step::Field(name));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let (digits, tail) = after.split_once(']')?;
            steps.push(Step::Index(digits.parse().ok()?));
            rest = tail;
        } else {
            return None;
        }
    }
    Some((id, steps))
}

/// The scalar value an expression stands for.
fn value_of(expression: &str, answers: &Answers) -> Result<Value, Unresolved> {
    let unresolved = |id: &str| Unresolved { expression: expression.to_string(), reference_id: id.to_string() };
    let Some((id, steps)) = parse(expression) else {
        let id = expression.split(['.', '[']).next().unwrap_or_default();
        return Err(unresolved(id));
    };
    let mut at = answers.get(id).ok_or_else(|| unresolved(id))?;
    for step in steps {
        at = match step {
            Step::Field(name) => at.as_object().and_then(|o| o.get(name)),
            Step::Index(i) => at.as_array().and_then(|a| a.get(i)),
        }
        .ok_or_else(|| unresolved(id))?;
    }
    match at {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(at.clone()),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(unresolved(id)),
    }
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Each `@{…}` in `text` with the range it covers and the expression inside.
fn occurrences(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text[from..].find("@{").map(|i| from + i) {
        let Some(len) = text[start + 2..].find('}') else { break };
        let end = start + 2 + len + 1;
        out.push((start..end, &text[start + 2..end - 1]));
        from = end;
    }
    out
}

/// Replaces every reference in `text`, each value passed through `encode`.
fn fill(text: &str, answers: &Answers, encode: impl Fn(&str) -> String) -> Result<String, Unresolved> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, expression) in occurrences(text) {
        out.push_str(&text[last..range.start]);
        out.push_str(&encode(&as_text(&value_of(expression, answers)?)));
        last = range.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// A subrequest URL with its references filled in, each value percent-encoded so that
/// an id, a name with spaces or a quote lands in the path or query string intact.
pub(crate) fn in_url(url: &str, answers: &Answers) -> Result<String, Unresolved> {
    fill(url, answers, |v| percent_encode(v, is_unreserved))
}

/// A subrequest body with the references in its string values filled in. A string that
/// is one reference and nothing else takes the value with its JSON type (a number stays
/// a number); references inside longer strings are spliced in as text.
pub(crate) fn in_body(body: &Value, answers: &Answers) -> Result<Value, Unresolved> {
    Ok(match body {
        Value::String(s) => match occurrences(s).as_slice() {
            [(range, expression)] if *range == (0..s.len()) => value_of(expression, answers)?,
            [] => body.clone(),
            _ => Value::String(fill(s, answers, str::to_string)?),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| in_body(v, answers)).collect::<Result<_, _>>()?),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), in_body(v, answers)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// RFC 3986 unreserved characters: never encoded.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `%XX` for every byte `keep` refuses.
pub(crate) fn percent_encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answers() -> Answers {
        let mut a = Answers::new();
        a.insert("refUser".into(), json!({"totalSize": 1, "records": [{"Id": "0055g0000000001AAA", "ProfileId": "00e5g0000000002AAA", "Name": "Ada Rep", "IsActive": true}]}));
        a.insert("refNew".into(), json!({"id": "00T5g0000000001AAA", "success": true, "errors": []}));
        a
    }

    #[test]
    fn a_path_walks_fields_and_indexes_of_an_earlier_answer() {
        let url = in_url("/services/data/v62.0/sobjects/Profile/@{refUser.records[0].ProfileId}", &answers()).unwrap();
        assert_eq!(url, "/services/data/v62.0/sobjects/Profile/00e5g0000000002AAA");
        assert_eq!(in_url("/x/@{refNew.id}?fields=Id", &answers()).unwrap(), "/x/00T5g0000000001AAA?fields=Id");
    }

    #[test]
    fn values_in_a_url_are_percent_encoded() {
        let url = in_url("/query?q=SELECT+Id+FROM+User+WHERE+Name='@{refUser.records[0].Name}'", &answers()).unwrap();
        assert_eq!(url, "/query?q=SELECT+Id+FROM+User+WHERE+Name='Ada%20Rep'");
    }

    #[test]
    fn a_whole_string_reference_keeps_its_json_type_and_a_partial_one_becomes_text() {
        let body = json!({"WhoId": "@{refUser.records[0].Id}", "Active": "@{refUser.records[0].IsActive}", "Subject": "Call @{refUser.records[0].Name}", "n": 3});
        let filled = in_body(&body, &answers()).unwrap();
        assert_eq!(filled, json!({"WhoId": "0055g0000000001AAA", "Active": true, "Subject": "Call Ada Rep", "n": 3}));
    }

    #[test]
    fn a_missing_field_an_unknown_reference_and_a_non_scalar_have_no_value() {
        let missing = in_url("/x/@{refUser.records[0].Nope}", &answers()).unwrap_err();
        assert_eq!(missing.message(), "Invalid reference specified. No value for refUser.records[0].Nope found in refUser");
        let unknown = in_body(&json!({"a": "@{refGone.id}"}), &answers()).unwrap_err();
        assert_eq!(unknown.reference_id, "refGone");
        assert!(in_url("/x/@{refUser.records}", &answers()).is_err(), "an array is not a value");
        assert!(in_url("/x/@{refUser.records[1].Id}", &answers()).is_err(), "past the end");
        assert!(in_url("/x/@{refUser..Id}", &answers()).is_err(), "a malformed path is not silently kept");
    }

    #[test]
    fn text_without_references_is_left_alone() {
        assert_eq!(in_url("/x/{not-a-ref}/@", &answers()).unwrap(), "/x/{not-a-ref}/@");
        assert_eq!(in_body(&json!("plain"), &answers()).unwrap(), json!("plain"));
    }
}
