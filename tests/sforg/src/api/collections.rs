//! sObject Collections (`/composite/sobjects`): create, update and delete up to 200
//! records in one call with or without `allOrNone`, and retrieve records of one object by
//! ids. Answers are arrays of SaveResults in request order, as Salesforce returns them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::records::{field_list, object_for, parse_object, record_json};
use super::sf_json;
use crate::access::Operation;
use crate::error::{ApiError, FieldError};
use crate::ids;
use crate::org::{Org, OrgState};
use crate::pipeline::Session;
use crate::schema::{self, ObjectDef};
use crate::store::Fields;
use crate::validate::{self, Mode};

/// Salesforce's cap on records per collection write.
const MAX_WRITE: usize = 200;
/// And on ids per collection read.
const MAX_READ: usize = 2000;

fn too_many() -> ApiError {
    ApiError::bad_request("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
}

fn rolled_back() -> FieldError {
    FieldError::new(
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "Record rolled back because not all records were valid and the request was using AllOrNone header",
        vec![],
    )
}

fn failure(id: Option<&str>, errors: &[FieldError]) -> Value {
    let mut v = json!({"success": false, "errors": errors.iter().map(FieldError::save_result_json).collect::<Vec<_>>()});
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    v
}

fn success(id: &str) -> Value {
    json!({"id": id, "success": true, "errors": []})
}

/// `{"allOrNone": bool, "records": [...]}`.
fn parse_batch(body: &[u8]) -> Result<(bool, Vec<Map<String, Value>>), ApiError> {
    let body = parse_object(body)?;
    let all_or_none = body.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let records = body
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::json_parse("Cannot deserialize instance of SObject[]: 'records' is missing"))?;
    if records.len() > MAX_WRITE {
        return Err(too_many());
    }
    let records = records.iter().map(|r| r.as_object().cloned().unwrap_or_default()).collect();
    Ok((all_or_none, records))
}

fn record_type(st: &OrgState, rec: &Map<String, Value>) -> Result<&'static ObjectDef, FieldError> {
    let Some(name) = rec.get("attributes").and_then(|a| a.get("type")).and_then(Value::as_str) else {
        return Err(FieldError::new("INVALID_TYPE", "Must send a concrete entity type.", vec![]));
    };
    schema::object(name)
        .filter(|d| st.accessible(d.name))
        .ok_or_else(|| FieldError::new("INVALID_TYPE", format!("sObject type '{name}' is not supported."), vec![]))
}

enum Prepared {
    Insert(&'static ObjectDef, Fields),
    Update(&'static ObjectDef, String, Fields),
}

fn prepare_insert(st: &OrgState, user_id: &str, rec: &Map<String, Value>) -> Result<Prepared, Vec<FieldError>> {
    let def = record_type(st, rec).map_err(|e| vec![e])?;
    if rec.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
        return Err(vec![FieldError::new("INVALID_FIELD", "cannot specify Id in an insert call", vec![])]);
    }
    st.may(def, Operation::Create, None, user_id).map_err(|e| vec![e])?;
    validate::check(def, rec, Mode::Insert, None, &st.store).map(|f| Prepared::Insert(def, f))
}

fn prepare_update(st: &OrgState, user_id: &str, rec: &Map<String, Value>) -> Result<Prepared, Vec<FieldError>> {
    let def = record_type(st, rec).map_err(|e| vec![e])?;
    let mut rec = rec.clone();
    let raw = rec.keys().find(|k| k.eq_ignore_ascii_case("Id")).cloned().and_then(|k| rec.remove(&k));
    let Some(raw) = raw.and_then(|v| v.as_str().map(str::to_string)) else {
        return Err(vec![FieldError::new("MISSING_ARGUMENT", "Id not specified in an update call", vec![])]);
    };
    let id = ids::normalize(&raw)
        .filter(|id| id.starts_with(def.key_prefix))
        .ok_or_else(|| vec![FieldError::new("MALFORMED_ID", format!("bad id {raw}"), vec![])])?;
    if st.store.is_deleted(&id) {
        return Err(vec![FieldError::new("ENTITY_IS_DELETED", "entity is deleted", vec![])]);
    }
    let Some(existing) = st.store.get(def.name, &id) else {
        return Err(vec![FieldError::new("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", vec![])]);
    };
    st.may(def, Operation::Edit, Some(existing), user_id).map_err(|e| vec![e])?;
    validate::check(def, &rec, Mode::Update, Some(&id), &st.store).map(|f| Prepared::Update(def, id, f))
}

fn raw_id(rec: &Map<String, Value>) -> Option<String> {
    rec.iter().find(|(k, _)| k.eq_ignore_ascii_case("Id")).and_then(|(_, v)| v.as_str()).and_then(ids::normalize)
}

/// Validates every record, then writes: all or none, or each valid one.
fn write(st: &mut OrgState, user_id: &str, records: &[Map<String, Value>], all_or_none: bool, mode: Mode) -> Value {
    let mut results = Vec::with_capacity(records.len());
    if all_or_none {
        let prepared: Vec<_> = records
            .iter()
            .map(|r| if mode == Mode::Insert { prepare_insert(st, user_id, r) } else { prepare_update(st, user_id, r) })
            .collect();
        if prepared.iter().any(Result::is_err) {
            for (rec, p) in records.iter().zip(&prepared) {
                let id = if mode == Mode::Update { raw_id(rec) } else { None };
                let errors = match p {
                    Err(errors) => errors.clone(),
                    Ok(_) => vec![rolled_back()],
                };
                results.push(failure(id.as_deref(), &errors));
            }
            return Value::Array(results);
        }
        for p in prepared.into_iter().flatten() {
            results.push(apply(st, user_id, p));
        }
        return Value::Array(results);
    }
    // Without allOrNone each record stands alone, in order.
    for rec in records {
        let p = if mode == Mode::Insert { prepare_insert(st, user_id, rec) } else { prepare_update(st, user_id, rec) };
        results.push(match p {
            Ok(p) => apply(st, user_id, p),
            Err(errors) => failure(if mode == Mode::Update { raw_id(rec) } else { None }.as_deref(), &errors),
        });
    }
    Value::Array(results)
}

fn apply(st: &mut OrgState, user_id: &str, p: Prepared) -> Value {
    let ctx = st.write_ctx(user_id);
    match p {
        Prepared::Insert(def, fields) => success(&st.store.insert(def, fields, &ctx)),
        Prepared::Update(def, id, fields) => {
            st.store.update(def, &id, fields, &ctx);
            success(&id)
        }
    }
}

pub(crate) async fn create(State(org): State<Arc<Org>>, Extension(s): Extension<Session>, body: Bytes) -> Response {
    let (all_or_none, records) = match parse_batch(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut st = org.lock();
    sf_json(StatusCode::OK, write(&mut st, &s.user_id, &records, all_or_none, Mode::Insert))
}

pub(crate) async fn update(State(org): State<Arc<Org>>, Extension(s): Extension<Session>, body: Bytes) -> Response {
    let (all_or_none, records) = match parse_batch(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut st = org.lock();
    sf_json(StatusCode::OK, write(&mut st, &s.user_id, &records, all_or_none, Mode::Update))
}

pub(crate) async fn delete(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let ids: Vec<&str> = params.get("ids").map(|s| s.split(',').filter(|i| !i.is_empty()).collect()).unwrap_or_default();
    if ids.len() > MAX_WRITE {
        return too_many().into_response();
    }
    let all_or_none = params.get("allOrNone").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut st = org.lock();
    let checked: Vec<Result<(&'static str, String), FieldError>> = ids
        .iter()
        .map(|raw| {
            let id = ids::normalize(raw).ok_or_else(|| FieldError::new("MALFORMED_ID", format!("malformed id {raw}"), vec![]))?;
            if st.store.is_deleted(&id) {
                return Err(FieldError::new("ENTITY_IS_DELETED", "entity is deleted", vec![]));
            }
            let (def, rec) = st
                .store
                .find(&id)
                .filter(|(def, _)| st.accessible(def.name))
                .ok_or_else(|| FieldError::new("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", vec![]))?;
            st.may(def, Operation::Delete, Some(rec), &s.user_id)?;
            Ok((def.name, id.clone()))
        })
        .collect();
    let any_failed = checked.iter().any(Result::is_err);
    let results: Vec<Value> = ids
        .iter()
        .zip(checked)
        .map(|(raw, c)| match c {
            Err(e) => failure(Some(raw), &[e]),
            Ok((_, id)) if all_or_none && any_failed => failure(Some(&id), &[rolled_back()]),
            Ok((object, id)) => {
                if st.store.delete(object, &id) {
                    success(&id)
                } else {
                    // The same id twice: the first delete won.
                    failure(Some(&id), &[FieldError::new("ENTITY_IS_DELETED", "entity is deleted", vec![])])
                }
            }
        })
        .collect();
    sf_json(StatusCode::OK, Value::Array(results))
}

fn retrieve_records(org: &Org, version: &str, object: &str, ids: &[String], fields: Option<&str>) -> Response {
    let st = org.lock();
    let result = (|| {
        let def = object_for(&st, object)?;
        let fields = fields.ok_or_else(|| ApiError::bad_request("MISSING_ARGUMENT", "fields is required"))?;
        let only = field_list(def, fields)?;
        if ids.len() > MAX_READ {
            return Err(ApiError::bad_request("EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 2000 records into this call"));
        }
        // Unknown, inaccessible or malformed ids come back as null, in place.
        let records: Vec<Value> = ids
            .iter()
            .map(|raw| {
                ids::normalize(raw)
                    .and_then(|id| st.store.get(def.name, &id))
                    .map_or(Value::Null, |rec| record_json(def, rec, version, Some(&only)))
            })
            .collect();
        Ok(Value::Array(records))
    })();
    match result {
        Ok(v) => sf_json(StatusCode::OK, v),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn retrieve(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let ids: Vec<String> =
        params.get("ids").map(|s| s.split(',').filter(|i| !i.is_empty()).map(str::to_string).collect()).unwrap_or_default();
    retrieve_records(&org, s.version, &object, &ids, params.get("fields").map(String::as_str))
}

pub(crate) async fn retrieve_post(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = match parse_object(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let strings = |k: &str| -> Vec<String> {
        body.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let ids = strings("ids");
    let fields = strings("fields").join(",");
    retrieve_records(&org, s.version, &object, &ids, (!fields.is_empty()).then_some(fields.as_str()))
}
