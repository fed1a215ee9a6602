//! SOQL: the `query` resource's engine. `run` parses, checks against the schema and the
//! user's object access, and returns every matching row rendered; paging into batches and
//! query locators belong to the HTTP layer (`api::query`).

mod eval;
mod lex;
mod parse;

pub(crate) use eval::{attributes, compile, compile_order, invalid_type, matches, render, resolve, sort, Env, Pred, Resolved, Shape, Sort};
pub(crate) use lex::{lex, Tok};
pub(crate) use parse::{parse_query, ParseError, Parser, Path, SelectItem};

use serde_json::{json, Value};

use crate::error::{quoted_error, ApiError};
use crate::schema;

/// Salesforce refuses OFFSET beyond this.
const MAX_OFFSET: usize = 2000;

pub(crate) struct QueryRows {
    pub total_size: usize,
    pub records: Vec<Value>,
}

pub(crate) fn malformed(statement: &str, e: &ParseError) -> ApiError {
    ApiError::bad_request("MALFORMED_QUERY", quoted_error(statement, e.pos + 1, &e.message))
}

pub(crate) fn run(env: &Env, accessible: &dyn Fn(&str) -> bool) -> Result<QueryRows, ApiError> {
    let q = parse_query(env.statement).map_err(|e| malformed(env.statement, &e))?;
    let def = schema::object(&q.from)
        .filter(|d| accessible(d.name))
        .ok_or_else(|| invalid_type(env, &q.from, q.from_pos))?;

    let mut shape = Shape::default();
    let mut count_all = false;
    let mut count_field = None;
    for item in &q.select {
        match item {
            SelectItem::CountAll => count_all = true,
            SelectItem::Count(path) => count_field = Some(resolve(env, def, path)?),
            SelectItem::Field(path) => {
                let r = resolve(env, def, path)?;
                if shape.contains_path(&r) {
                    return Err(env.error(
                        "MALFORMED_QUERY",
                        path.pos,
                        &format!("duplicate field selected: {}", path.parts.join(".")),
                    ));
                }
                shape.add(&r);
            }
        }
    }
    if (count_all || count_field.is_some()) && q.select.len() > 1 {
        return Err(env.error("MALFORMED_QUERY", q.from_pos, "unexpected token: 'FROM'"));
    }
    if q.offset.is_some_and(|o| o > MAX_OFFSET) {
        return Err(ApiError::bad_request("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000"));
    }
    let pred = q.filter.as_ref().map(|c| compile(env, def, c)).transpose()?;
    let order = compile_order(env, def, &q.order)?;

    let mut rows: Vec<_> =
        env.store.table(def.name).filter(|r| pred.as_ref().is_none_or(|p| matches(env.store, r, p))).collect();
    sort(env.store, &mut rows, &order);
    let rows: Vec<_> = rows.into_iter().skip(q.offset.unwrap_or(0)).take(q.limit.unwrap_or(usize::MAX)).collect();

    if count_all {
        return Ok(QueryRows { total_size: rows.len(), records: Vec::new() });
    }
    if let Some(field) = count_field {
        let mut shape = Shape::default();
        shape.add(&field);
        let n = rows
            .iter()
            .filter(|r| {
                let v = render(env, def, r, &shape, false);
                !first_leaf(&v).is_null()
            })
            .count();
        let record = json!({"attributes": {"type": "AggregateResult"}, "expr0": n});
        return Ok(QueryRows { total_size: 1, records: vec![record] });
    }
    let records = rows.iter().map(|r| render(env, def, r, &shape, false)).collect();
    Ok(QueryRows { total_size: rows.len(), records })
}

/// The one selected value of a rendered single-path record (for COUNT(field)).
fn first_leaf(v: &Value) -> &Value {
    match v {
        Value::Object(m) => m
            .iter()
            .find(|(k, _)| k.as_str() != "attributes")
            .map_or(&Value::Null, |(_, v)| if v.is_object() { first_leaf(v) } else { v }),
        other => other,
    }
}
