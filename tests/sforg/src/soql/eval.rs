//! SOQL meaning: resolves field paths against the schema (INVALID_FIELD / INVALID_TYPE
//! errors pointing at the column), type-checks filter values as Salesforce does, then
//! filters, sorts and renders records with nested parent relationships. SOSL's
//! RETURNING clauses use the same functions. Reads the store; never writes it.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};
use time::{Date, Duration, OffsetDateTime, Time};

use super::lex::unescape_plain;
use super::parse::{CmpOp, Cond, Lit, OrderItem, Path, RelDate};
use crate::clock::{parse_date, parse_datetime};
use crate::error::{quoted_error, ApiError};
use crate::ids;
use crate::schema::{self, FieldDef, FieldType, ObjectDef};
use crate::store::{Fields, Store};

/// Fields a polymorphic relationship (Who, What) can be asked for: the "Name" entity.
const NAME_ENTITY_FIELDS: &[&str] = &["Id", "Name", "Type", "FirstName", "LastName", "Email", "Phone", "Title", "Alias"];

pub(crate) struct Env<'a> {
    pub statement: &'a str,
    pub store: &'a Store,
    pub now: OffsetDateTime,
    pub version: &'a str,
}

impl Env<'_> {
    pub(crate) fn error(&self, code: &str, pos: usize, text: &str) -> ApiError {
        ApiError::bad_request(code, quoted_error(self.statement, pos + 1, text))
    }
}

pub(crate) fn invalid_type(env: &Env, name: &str, pos: usize) -> ApiError {
    env.error(
        "INVALID_TYPE",
        pos,
        &format!(
            "sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

#[derive(Debug, Clone)]
enum Hop {
    Fixed { fk: &'static str, rel: &'static str },
    Poly { fk: &'static str, rel: &'static str },
}

#[derive(Debug, Clone)]
enum Leaf {
    Field(&'static FieldDef),
    NameEntity(&'static str),
}

#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    hops: Vec<Hop>,
    leaf: Leaf,
}

impl Resolved {
    fn ty(&self) -> FieldType {
        match self.leaf {
            Leaf::Field(f) => f.ty,
            Leaf::NameEntity("Id") => FieldType::Id,
            Leaf::NameEntity(_) => FieldType::String,
        }
    }
    /// Unique case-sensitive fields compare with case, in `=` and LIKE alike.
    fn case_sensitive(&self) -> bool {
        matches!(self.leaf, Leaf::Field(f) if f.case_sensitive)
    }
    fn leaf_name(&self) -> &'static str {
        match self.leaf {
            Leaf::Field(f) => f.name,
            Leaf::NameEntity(n) => n,
        }
    }
}

pub(crate) fn resolve(env: &Env, def: &'static ObjectDef, path: &Path) -> Result<Resolved, ApiError> {
    let mut cur = def;
    let mut hops = Vec::new();
    let (leaf_name, rels) = path.parts.split_last().expect("a path has at least one part");
    for (i, rel_name) in rels.iter().enumerate() {
        let Some(fk) = cur.relationship(rel_name) else {
            return Err(env.error(
                "INVALID_FIELD",
                path.pos,
                &format!(
                    "Didn't understand relationship '{rel_name}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                ),
            ));
        };
        let rel = fk.relationship_name.unwrap_or(fk.name);
        if fk.reference_to.len() > 1 {
            let leaf = NAME_ENTITY_FIELDS.iter().find(|n| n.eq_ignore_ascii_case(leaf_name));
            return match (leaf, i + 1 == rels.len()) {
                (Some(leaf), true) => {
                    hops.push(Hop::Poly { fk: fk.name, rel });
                    Ok(Resolved { hops, leaf: Leaf::NameEntity(leaf) })
                }
                _ => Err(no_such_column(env, path.pos, leaf_name, "Name")),
            };
        }
        let target = schema::object(fk.reference_to[0]).expect("schema references known objects");
        hops.push(Hop::Fixed { fk: fk.name, rel });
        cur = target;
    }
    match cur.field(leaf_name) {
        Some(f) => Ok(Resolved { hops, leaf: Leaf::Field(f) }),
        None => Err(no_such_column(env, path.pos, leaf_name, cur.name)),
    }
}

fn no_such_column(env: &Env, pos: usize, field: &str, entity: &str) -> ApiError {
    env.error(
        "INVALID_FIELD",
        pos,
        &format!(
            "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

/// The value at the end of a path, following lookups through the store.
fn value_at(store: &Store, rec: &Fields, r: &Resolved) -> Value {
    let mut cur = rec;
    let mut cur_def: Option<&'static ObjectDef> = None;
    for hop in &r.hops {
        let fk = match hop {
            Hop::Fixed { fk, .. } | Hop::Poly { fk, .. } => fk,
        };
        let Some((def, target)) = cur.get(*fk).and_then(Value::as_str).and_then(|id| store.find(id)) else {
            return Value::Null;
        };
        cur = target;
        cur_def = Some(def);
    }
    match (&r.leaf, cur_def) {
        (Leaf::Field(f), _) => cur.get(f.name).cloned().unwrap_or(Value::Null),
        (Leaf::NameEntity("Type"), Some(def)) => Value::String(def.name.to_string()),
        (Leaf::NameEntity("Name"), Some(def)) => cur.get(def.name_field_name()).cloned().unwrap_or(Value::Null),
        (Leaf::NameEntity(n), _) => cur.get(*n).cloned().unwrap_or(Value::Null),
    }
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub(crate) enum Key {
    Text(String),
    Num(f64),
    Bool(bool),
    Date(Date),
    DateTime(OffsetDateTime),
}

fn key_of(path: &Resolved, v: &Value) -> Option<Key> {
    match (path.ty(), v) {
        (_, Value::Null) => None,
        (FieldType::Id | FieldType::Reference, Value::String(s)) => Some(Key::Text(s.clone())),
        (FieldType::Date, Value::String(s)) => parse_date(s).map(Key::Date),
        (FieldType::DateTime, Value::String(s)) => parse_datetime(s).map(Key::DateTime),
        (_, Value::String(s)) if path.case_sensitive() => Some(Key::Text(s.clone())),
        (_, Value::String(s)) => Some(Key::Text(s.to_lowercase())),
        (_, Value::Number(n)) => n.as_f64().map(Key::Num),
        (_, Value::Bool(b)) => Some(Key::Bool(*b)),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Null,
    Key(Key),
    /// Half-open range of a date literal: `[lo, hi)`.
    Range(Key, Key),
    Like(Vec<LikeTok>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LikeTok {
    Any,
    One,
    Char(char),
}

#[derive(Debug, Clone)]
pub(crate) enum Pred {
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    Cmp { path: Resolved, op: CmpOp, value: Bound },
    In { path: Resolved, negated: bool, values: Vec<Bound> },
}

pub(crate) fn compile(env: &Env, def: &'static ObjectDef, cond: &Cond) -> Result<Pred, ApiError> {
    Ok(match cond {
        Cond::And(parts) => Pred::And(parts.iter().map(|c| compile(env, def, c)).collect::<Result<_, _>>()?),
        Cond::Or(parts) => Pred::Or(parts.iter().map(|c| compile(env, def, c)).collect::<Result<_, _>>()?),
        Cond::Not(inner) => Pred::Not(Box::new(compile(env, def, inner)?)),
        Cond::Cmp { path, op, value, value_pos } => {
            let resolved = filterable(env, def, path)?;
            let value = bind(env, &resolved, *op, value, *value_pos)?;
            Pred::Cmp { path: resolved, op: *op, value }
        }
        Cond::In { path, negated, values, value_pos } => {
            let resolved = filterable(env, def, path)?;
            let values =
                values.iter().map(|v| bind(env, &resolved, CmpOp::Eq, v, *value_pos)).collect::<Result<_, _>>()?;
            Pred::In { path: resolved, negated: *negated, values }
        }
    })
}

fn filterable(env: &Env, def: &'static ObjectDef, path: &Path) -> Result<Resolved, ApiError> {
    let r = resolve(env, def, path)?;
    if let Leaf::Field(f) = r.leaf {
        if !f.filterable() {
            return Err(env.error(
                "INVALID_FIELD",
                path.pos,
                &format!("field '{}' can not be filtered in a query call", f.name),
            ));
        }
    }
    Ok(r)
}

/// Checks a literal against the field's type, with Salesforce's messages.
fn bind(env: &Env, r: &Resolved, op: CmpOp, lit: &Lit, pos: usize) -> Result<Bound, ApiError> {
    let ty = r.ty();
    let field = r.leaf_name();
    let wrong = |kind: &str, quoted: bool| {
        let how = if quoted { "should be enclosed in quotes" } else { "should not be enclosed in quotes" };
        env.error(
            "INVALID_FIELD",
            pos,
            &format!("value of filter criterion for field '{field}' must be of type {kind} and {how}"),
        )
    };
    if matches!(lit, Lit::Null) {
        return Ok(Bound::Null);
    }
    let day = |d: Date| match ty {
        FieldType::DateTime => Key::DateTime(d.with_time(Time::MIDNIGHT).assume_utc()),
        _ => Key::Date(d),
    };
    match ty {
        FieldType::Date | FieldType::DateTime => {
            let kind = if ty == FieldType::Date { "date" } else { "dateTime" };
            let today = env.now.date();
            let range = |from: Date, days: i64| Bound::Range(day(from), day(from + Duration::days(days)));
            match lit {
                Lit::Date(d) if ty == FieldType::Date => Ok(Bound::Key(Key::Date(*d))),
                Lit::DateTime(t) if ty == FieldType::DateTime => Ok(Bound::Key(Key::DateTime(*t))),
                Lit::Rel(rel) => Ok(match rel {
                    RelDate::Today => range(today, 1),
                    RelDate::Yesterday => range(today - Duration::days(1), 1),
                    RelDate::Tomorrow => range(today + Duration::days(1), 1),
                    RelDate::LastNDays(n) => range(today - Duration::days(*n), n + 1),
                    RelDate::NextNDays(n) => range(today, n + 1),
                }),
                _ => Err(wrong(kind, false)),
            }
        }
        FieldType::Boolean => match lit {
            Lit::Bool(b) => Ok(Bound::Key(Key::Bool(*b))),
            _ => Err(wrong("boolean", false)),
        },
        t if t.is_number() => match lit {
            Lit::Num(n) => Ok(Bound::Key(Key::Num(*n))),
            _ => Err(wrong(if t == FieldType::Int { "integer" } else { "double" }, false)),
        },
        FieldType::Id | FieldType::Reference => match lit {
            Lit::Str(s) if op == CmpOp::Like => Ok(Bound::Like(like_pattern(s))),
            Lit::Str(s) => ids::normalize(s).map(|id| Bound::Key(Key::Text(id))).ok_or_else(|| {
                env.error("INVALID_QUERY_FILTER_OPERATOR", pos, &format!("invalid ID field: {s}"))
            }),
            _ => Err(wrong("id", true)),
        },
        _ => match lit {
            Lit::Str(s) if r.case_sensitive() && op == CmpOp::Like => Ok(Bound::Like(like_pattern(s))),
            Lit::Str(s) if r.case_sensitive() => Ok(Bound::Key(Key::Text(unescape_plain(s)))),
            Lit::Str(s) if op == CmpOp::Like => Ok(Bound::Like(like_pattern(&s.to_lowercase()))),
            Lit::Str(s) => Ok(Bound::Key(Key::Text(unescape_plain(s).to_lowercase()))),
            _ => Err(wrong("string", true)),
        },
    }
}

fn like_pattern(s: &str) -> Vec<LikeTok> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => LikeTok::Any,
            '_' => LikeTok::One,
            '\\' => LikeTok::Char(chars.next().unwrap_or('\\')),
            c => LikeTok::Char(c),
        });
    }
    out
}

fn like_match(pat: &[LikeTok], text: &[char]) -> bool {
    match pat.split_first() {
        None => text.is_empty(),
        Some((LikeTok::Any, rest)) => (0..=text.len()).any(|i| like_match(rest, &text[i..])),
        Some((LikeTok::One, rest)) => !text.is_empty() && like_match(rest, &text[1..]),
        Some((LikeTok::Char(c), rest)) => text.first() == Some(c) && like_match(rest, &text[1..]),
    }
}

fn compare(v: Option<&Key>, op: CmpOp, bound: &Bound) -> bool {
    match (bound, v) {
        (Bound::Null, v) => match op {
            CmpOp::Eq => v.is_none(),
            CmpOp::Ne => v.is_some(),
            _ => false,
        },
        // In SOQL, `!=` a value is true for records where the field is null.
        (_, None) => op == CmpOp::Ne,
        // Text keys are already folded to lower case unless the field is case-sensitive.
        (Bound::Like(p), Some(Key::Text(t))) => {
            let chars: Vec<char> = t.chars().collect();
            like_match(p, &chars)
        }
        (Bound::Like(_), Some(_)) => false,
        (Bound::Key(k), Some(v)) => {
            let ord = v.partial_cmp(k);
            match op {
                CmpOp::Eq | CmpOp::Like => ord == Some(Ordering::Equal),
                CmpOp::Ne => ord != Some(Ordering::Equal),
                CmpOp::Lt => ord == Some(Ordering::Less),
                CmpOp::Gt => ord == Some(Ordering::Greater),
                CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        (Bound::Range(lo, hi), Some(v)) => {
            let inside = v >= lo && v < hi;
            match op {
                CmpOp::Eq | CmpOp::Like => inside,
                CmpOp::Ne => !inside,
                CmpOp::Lt => v < lo,
                CmpOp::Le => v < hi,
                CmpOp::Gt => v >= hi,
                CmpOp::Ge => v >= lo,
            }
        }
    }
}

pub(crate) fn matches(store: &Store, rec: &Fields, pred: &Pred) -> bool {
    match pred {
        Pred::And(ps) => ps.iter().all(|p| matches(store, rec, p)),
        Pred::Or(ps) => ps.iter().any(|p| matches(store, rec, p)),
        Pred::Not(p) => !matches(store, rec, p),
        Pred::Cmp { path, op, value } => {
            let v = value_at(store, rec, path);
            compare(key_of(path, &v).as_ref(), *op, value)
        }
        Pred::In { path, negated, values } => {
            let v = value_at(store, rec, path);
            let key = key_of(path, &v);
            let hit = values.iter().any(|b| compare(key.as_ref(), CmpOp::Eq, b));
            hit != *negated
        }
    }
}

pub(crate) struct Sort {
    items: Vec<(Resolved, bool, bool)>,
}

pub(crate) fn compile_order(env: &Env, def: &'static ObjectDef, order: &[OrderItem]) -> Result<Sort, ApiError> {
    let items = order
        .iter()
        .map(|o| {
            let r = resolve(env, def, &o.path)?;
            if let Leaf::Field(f) = r.leaf {
                if !f.sortable() {
                    return Err(env.error(
                        "INVALID_FIELD",
                        o.path.pos,
                        &format!("field '{}' can not be sorted in a query call", f.name),
                    ));
                }
            }
            Ok((r, o.desc, o.nulls_last))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Sort { items })
}

pub(crate) fn sort(store: &Store, rows: &mut [&Fields], sort: &Sort) {
    if sort.items.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for (path, desc, nulls_last) in &sort.items {
            let ka = key_of(path, &value_at(store, a, path));
            let kb = key_of(path, &value_at(store, b, path));
            let ord = match (ka, kb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => if *nulls_last { Ordering::Greater } else { Ordering::Less },
                (Some(_), None) => if *nulls_last { Ordering::Less } else { Ordering::Greater },
                (Some(x), Some(y)) => {
                    let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                    if *desc { o.reverse() } else { o }
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

/// What to print of each record: its own fields, then parent relationships.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    fields: Vec<&'static str>,
    parents: Vec<(&'static str, &'static str, Shape)>,
}

impl Shape {
    pub(crate) fn add(&mut self, r: &Resolved) {
        let mut node = self;
        for hop in &r.hops {
            let (fk, rel) = match hop {
                Hop::Fixed { fk, rel, .. } | Hop::Poly { fk, rel } => (*fk, *rel),
            };
            let idx = match node.parents.iter().position(|(name, _, _)| *name == rel) {
                Some(i) => i,
                None => {
                    node.parents.push((rel, fk, Shape::default()));
                    node.parents.len() - 1
                }
            };
            node = &mut node.parents[idx].2;
        }
        let leaf = r.leaf_name();
        if !node.fields.contains(&leaf) {
            node.fields.push(leaf);
        }
    }

    pub(crate) fn contains_path(&self, r: &Resolved) -> bool {
        let mut node = self;
        for hop in &r.hops {
            let rel = match hop {
                Hop::Fixed { rel, .. } | Hop::Poly { rel, .. } => *rel,
            };
            match node.parents.iter().find(|(name, _, _)| *name == rel) {
                Some((_, _, child)) => node = child,
                None => return false,
            }
        }
        node.fields.contains(&r.leaf_name())
    }
}

pub(crate) fn attributes(type_name: &str, object: &str, id: &str, version: &str) -> Value {
    json!({"type": type_name, "url": format!("/services/data/v{version}/sobjects/{object}/{id}")})
}

/// Renders a record as the REST API prints it: `attributes` first, then the fields.
pub(crate) fn render(env: &Env, def: &ObjectDef, rec: &Fields, shape: &Shape, polymorphic: bool) -> Value {
    let id = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    let type_name = if polymorphic { "Name" } else { def.name };
    out.insert("attributes".into(), attributes(type_name, def.name, id, env.version));
    for f in &shape.fields {
        let v = match (*f, polymorphic) {
            ("Type", true) => Value::String(def.name.into()),
            ("Name", true) => rec.get(def.name_field_name()).cloned().unwrap_or(Value::Null),
            _ => rec.get(*f).cloned().unwrap_or(Value::Null),
        };
        out.insert((*f).to_string(), v);
    }
    for (rel, fk, child) in &shape.parents {
        let target = rec.get(*fk).and_then(Value::as_str).and_then(|id| env.store.find(id));
        let poly = def.field(fk).is_some_and(|f| f.reference_to.len() > 1);
        let v = target.map_or(Value::Null, |(tdef, trec)| render(env, tdef, trec, child, poly));
        out.insert((*rel).to_string(), v);
    }
    Value::Object(out)
}
