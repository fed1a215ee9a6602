//! Checks a record write against the object's describe before it reaches the store:
//! unknown and read-only fields, JSON types, lengths, number ranges, restricted picklists,
//! e-mail addresses, lookups, required fields, unique fields. Errors use Salesforce's
//! codes and messages. It never writes.

use serde_json::{Map, Value};

use crate::clock::{parse_date, parse_datetime, sf_datetime};
use crate::error::FieldError;
use crate::ids;
use crate::schema::{self, FieldType, ObjectDef};
use crate::store::{Fields, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Insert,
    Update,
}

/// Salesforce quotes a too-long value in STRING_TOO_LONG; past this many characters the
/// test org cuts the quote and ends it with `...` (see the README's *Not pinned down*).
const QUOTED_VALUE_MAX: usize = 1000;

/// Returns the fields under their canonical names with values normalised
/// (`""` → null, 15 → 18-character ids, datetimes in Salesforce's format, numbers rounded
/// to the field's scale). `record` is the id of the record an update changes, which its
/// own unique values do not collide with.
pub(crate) fn check(
    def: &ObjectDef,
    input: &Map<String, Value>,
    mode: Mode,
    record: Option<&str>,
    store: &Store,
) -> Result<Fields, Vec<FieldError>> {
    let mut out = Map::new();
    let mut read_only = Vec::new();
    for (key, value) in input {
        if key == "attributes" {
            continue;
        }
        let Some(field) = def.field(key) else {
            return Err(vec![FieldError::new(
                "INVALID_FIELD",
                format!("No such column '{key}' on sobject of type {}", def.name),
                vec![],
            )]);
        };
        let allowed = match mode {
            Mode::Insert => field.createable,
            Mode::Update => field.updateable,
        };
        if !allowed {
            read_only.push(field.name.to_string());
            continue;
        }
        out.insert(field.name.to_string(), value.clone());
    }
    if !read_only.is_empty() {
        return Err(vec![FieldError::new(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            format!(
                "Unable to create/update fields: {}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                read_only.join(", ")
            ),
            read_only,
        )]);
    }

    let mut errors = Vec::new();
    for (name, value) in out.iter_mut() {
        let Some(field) = def.field(name) else { continue };
        match normalize(field, value, store) {
            Ok(v) => *value = v,
            Err(Rejection::Json(message)) => {
                return Err(vec![FieldError::new("JSON_PARSER_ERROR", message, vec![])]);
            }
            Err(Rejection::Field(e)) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for rule in store.validation_rules.iter().filter(|r| r.object.eq_ignore_ascii_case(def.name)) {
        let hit = out
            .get(&rule.field)
            .and_then(Value::as_str)
            .is_some_and(|v| v.to_lowercase().contains(&rule.contains.to_lowercase()));
        if hit {
            return Err(vec![FieldError::new("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message.clone(), vec![rule.field.clone()])]);
        }
    }

    if def.name == "Event" && mode == Mode::Insert {
        fill_event_end(&mut out);
    }
    let missing: Vec<String> = def
        .fields
        .iter()
        .filter(|f| f.is_required_on_create())
        .filter(|f| match mode {
            Mode::Insert => out.get(f.name).is_none_or(Value::is_null),
            Mode::Update => out.get(f.name).is_some_and(Value::is_null),
        })
        .map(|f| f.name.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(vec![FieldError::new(
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{}]", missing.join(", ")),
            missing,
        )]);
    }
    unique(def, &out, record, store).map_err(|e| vec![e])?;
    Ok(out)
}

/// `DUPLICATE_VALUE` when a unique field's new value is already on another record
/// (compared case-sensitively only where the field is case-sensitive).
pub(crate) fn unique(def: &ObjectDef, fields: &Fields, record: Option<&str>, store: &Store) -> Result<(), FieldError> {
    for field in def.fields.iter().filter(|f| f.unique && f.custom) {
        let Some(value) = fields.get(field.name).filter(|v| !v.is_null()) else { continue };
        let same = |other: &Value| match (value.as_str(), other.as_str()) {
            (Some(a), Some(b)) if !field.case_sensitive => a.to_lowercase() == b.to_lowercase(),
            _ => value == other,
        };
        let holder = store.table(def.name).find(|r| {
            let id = r.get("Id").and_then(Value::as_str);
            id != record && r.get(field.name).is_some_and(same)
        });
        if let Some(other) = holder {
            let id = other.get("Id").and_then(Value::as_str).unwrap_or_default();
            return Err(FieldError::new(
                "DUPLICATE_VALUE",
                format!("duplicate value found: {} duplicates value on record with id: {id}", field.name),
                vec![],
            ));
        }
    }
    Ok(())
}

/// A value as STRING_TOO_LONG quotes it.
fn quoted(s: &str) -> String {
    match s.char_indices().nth(QUOTED_VALUE_MAX) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.to_string(),
    }
}

enum Rejection {
    /// The body could not be read as this type at all (Salesforce's JSON_PARSER_ERROR).
    Json(String),
    Field(FieldError),
}

fn normalize(field: &schema::FieldDef, value: &Value, store: &Store) -> Result<Value, Rejection> {
    let fields = vec![field.name.to_string()];
    let wrong_type = |expected: &str| {
        let (token, shown) = match value {
            Value::String(s) => ("VALUE_STRING", s.clone()),
            Value::Bool(b) => (if *b { "VALUE_TRUE" } else { "VALUE_FALSE" }, b.to_string()),
            Value::Number(n) => ("VALUE_NUMBER_INT", n.to_string()),
            Value::Array(_) => ("START_ARRAY", "[".into()),
            Value::Object(_) => ("START_OBJECT", "{".into()),
            Value::Null => ("VALUE_NULL", "null".into()),
        };
        Rejection::Json(format!(
            "Cannot deserialize instance of {expected} from {token} value {shown} or request may be missing a required field"
        ))
    };
    if value.is_null() || value.as_str() == Some("") {
        return Ok(Value::Null);
    }
    match field.ty {
        FieldType::Boolean => value.as_bool().map(Value::Bool).ok_or_else(|| wrong_type("boolean")),
        FieldType::Int => value
            .as_i64()
            .or_else(|| value.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .map(Value::from)
            .ok_or_else(|| wrong_type("int")),
        FieldType::Currency | FieldType::Percent => {
            value.as_f64().map(Value::from).ok_or_else(|| wrong_type("double"))
        }
        FieldType::Double => {
            let n = value.as_f64().ok_or_else(|| wrong_type("double"))?;
            let factor = 10f64.powi(field.scale as i32);
            let rounded = (n * factor).round() / factor;
            // Precision counts all digits: precision − scale of them before the point.
            if rounded.abs() >= 10f64.powi((field.precision - field.scale) as i32) {
                return Err(Rejection::Field(FieldError::new(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    format!("{}: value outside of valid range on numeric field: {n}", field.label),
                    fields,
                )));
            }
            Ok(Value::from(rounded))
        }
        FieldType::Date => {
            let s = value.as_str().ok_or_else(|| wrong_type("date"))?;
            parse_date(s).map(|_| value.clone()).ok_or_else(|| wrong_type("date"))
        }
        FieldType::DateTime => {
            let s = value.as_str().ok_or_else(|| wrong_type("datetime"))?;
            parse_datetime(s).map(|t| Value::String(sf_datetime(t))).ok_or_else(|| wrong_type("datetime"))
        }
        FieldType::Reference | FieldType::Id => {
            let s = value.as_str().ok_or_else(|| wrong_type("reference"))?;
            let id = ids::normalize(s)
                .filter(|id| field.reference_to.iter().any(|t| schema::object(t).is_some_and(|o| id.starts_with(o.key_prefix))))
                .ok_or_else(|| {
                    Rejection::Field(FieldError::new(
                        "MALFORMED_ID",
                        format!("{}: id value of incorrect type: {s}", field.label),
                        fields.clone(),
                    ))
                })?;
            match store.find(&id) {
                None => {
                    return Err(Rejection::Field(FieldError::new(
                        "INVALID_CROSS_REFERENCE_KEY",
                        "invalid cross reference id",
                        fields,
                    )))
                }
                // Salesforce refuses new references to a converted Lead.
                Some((def, lead)) if def.name == "Lead" && lead.get("IsConverted") == Some(&Value::Bool(true)) => {
                    return Err(Rejection::Field(FieldError::new(
                        "CANNOT_UPDATE_CONVERTED_LEAD",
                        "cannot reference converted lead",
                        fields,
                    )))
                }
                Some(_) => {}
            }
            Ok(Value::String(id))
        }
        _ => {
            let s = match value {
                Value::String(s) => s.clone(),
                // Salesforce coerces numbers and booleans into text fields.
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(wrong_type("string")),
            };
            let len = s.chars().count();
            if field.length > 0 && len > field.length as usize {
                return Err(Rejection::Field(FieldError::new(
                    "STRING_TOO_LONG",
                    format!("{}: data value too large: {} (max length={})", field.label, quoted(&s), field.length),
                    fields,
                )));
            }
            if field.ty == FieldType::Picklist && field.restricted && !field.picklist.contains(&s.as_str()) {
                return Err(Rejection::Field(FieldError::new(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    format!("{}: bad value for restricted picklist field: {s}", field.label),
                    fields,
                )));
            }
            if field.ty == FieldType::Email && !plausible_email(&s) {
                return Err(Rejection::Field(FieldError::new(
                    "INVALID_EMAIL_ADDRESS",
                    format!("{}: invalid email address: {s}", field.label),
                    fields,
                )));
            }
            Ok(Value::String(s))
        }
    }
}

pub(crate) fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// An event given a start and a duration gets its end computed, as Salesforce does.
fn fill_event_end(out: &mut Fields) {
    if out.get("EndDateTime").is_some_and(|v| !v.is_null()) {
        return;
    }
    let start = out.get("StartDateTime").and_then(Value::as_str).and_then(parse_datetime);
    let minutes = out.get("DurationInMinutes").and_then(Value::as_i64);
    if let (Some(start), Some(minutes)) = (start, minutes) {
        let end = start + time::Duration::minutes(minutes);
        out.insert("EndDateTime".into(), Value::String(sf_datetime(end)));
    }
}
