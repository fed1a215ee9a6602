//! `/sobjects`: describeGlobal, object info, describe, and single-record create, read,
//! update and delete with Salesforce's status codes (201/200/204, 400 with field errors,
//! 400 INSUFFICIENT_ACCESS_OR_READONLY, 404 NOT_FOUND, 404 ENTITY_IS_DELETED). Access by
//! external id lives in `external_id`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::{describe, sf_json};
use crate::access::Operation;
use crate::error::ApiError;
use crate::ids;
use crate::org::{Org, OrgState};
use crate::pipeline::Session;
use crate::schema::{self, ObjectDef};
use crate::soql::attributes;
use crate::store::Fields;
use crate::validate::{self, Mode};

/// The object named in a path, if it exists and the user may see it.
pub(crate) fn object_for(st: &OrgState, name: &str) -> Result<&'static ObjectDef, ApiError> {
    schema::object(name).filter(|d| st.accessible(d.name)).ok_or_else(ApiError::not_found)
}

pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(ApiError::json_parse(format!(
            "Cannot deserialize instance of SObject from {} token",
            if other.is_array() { "START_ARRAY" } else { "VALUE" }
        ))),
        Err(e) => Err(ApiError::json_parse(format!("Unexpected character: {e}"))),
    }
}

/// A record as the REST API prints it, optionally limited to some fields.
pub(crate) fn record_json(def: &ObjectDef, rec: &Fields, version: &str, only: Option<&[&str]>) -> Value {
    let id = rec.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert("attributes".into(), attributes(def.name, def.name, id, version));
    for (k, v) in rec {
        if only.is_none_or(|o| o.contains(&k.as_str())) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// A created record's answer carries its URL in `Location`, as Salesforce's does (and a
/// composite subrequest's `httpHeaders` show it).
pub(crate) fn with_location(mut resp: Response, def: &ObjectDef, version: &str, id: &str) -> Response {
    let url = format!("/services/data/v{version}/sobjects/{}/{id}", def.name);
    if let Ok(v) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Canonical names of a `fields=a,b` list, or INVALID_FIELD.
pub(crate) fn field_list(def: &ObjectDef, list: &str) -> Result<Vec<&'static str>, ApiError> {
    list.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            def.field(f).map(|d| d.name).ok_or_else(|| {
                ApiError::bad_request(
                    "INVALID_FIELD",
                    format!(
                        "No such column '{f}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                        def.name
                    ),
                )
            })
        })
        .collect()
}

/// Resolves a record id from a path: NOT_FOUND shapes as Salesforce answers them.
fn record_id(st: &OrgState, def: &ObjectDef, raw: &str) -> Result<String, ApiError> {
    let Some(id) = ids::normalize(raw) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {raw}"),
        ));
    };
    if st.store.is_deleted(&id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "ENTITY_IS_DELETED", "entity is deleted"));
    }
    if !id.starts_with(def.key_prefix) || st.store.get(def.name, &id).is_none() {
        return Err(ApiError::not_found());
    }
    Ok(id)
}

pub(crate) async fn describe_global(State(org): State<Arc<Org>>, Extension(s): Extension<Session>) -> Response {
    let st = org.lock();
    let objects: Vec<Value> =
        schema::objects()
            .iter()
            .filter(|d| st.accessible(d.name))
            .map(|d| describe::basic(d, s.version, st.permissions(d.name)))
            .collect();
    sf_json(StatusCode::OK, json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects}))
}

pub(crate) async fn object_info(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object)): Path<(String, String)>,
) -> Response {
    let st = org.lock();
    match object_for(&st, &object) {
        Ok(def) => sf_json(
            StatusCode::OK,
            json!({"objectDescribe": describe::basic(def, s.version, st.permissions(def.name)), "recentItems": []}),
        ),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn describe(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object)): Path<(String, String)>,
) -> Response {
    let st = org.lock();
    match object_for(&st, &object) {
        Ok(def) => sf_json(StatusCode::OK, describe::full(def, s.version, st.permissions(def.name))),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn create(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut st = org.lock();
    let result = (|| {
        let def = object_for(&st, &object)?;
        if !def.createable {
            return Err(ApiError::bad_request(
                "INVALID_TYPE_FOR_OPERATION",
                format!("entity type cannot be inserted: {}", def.name),
            ));
        }
        st.may(def, Operation::Create, None, &s.user_id).map_err(|e| ApiError::from_field_errors(&[e]))?;
        let input = parse_object(&body)?;
        let fields =
            validate::check(def, &input, Mode::Insert, None, &st.store).map_err(|e| ApiError::from_field_errors(&e))?;
        let ctx = st.write_ctx(&s.user_id);
        Ok((def, st.store.insert(def, fields, &ctx)))
    })();
    match result {
        Ok((def, id)) => {
            let resp = sf_json(StatusCode::CREATED, json!({"id": id, "success": true, "errors": []}));
            with_location(resp, def, s.version, &id)
        }
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn read(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object, id)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let st = org.lock();
    let result = (|| {
        let def = object_for(&st, &object)?;
        let only = params.get("fields").map(|f| field_list(def, f)).transpose()?;
        let id = record_id(&st, def, &id)?;
        let rec = st.store.get(def.name, &id).ok_or_else(ApiError::not_found)?;
        Ok::<_, ApiError>(record_json(def, rec, s.version, only.as_deref()))
    })();
    match result {
        Ok(v) => sf_json(StatusCode::OK, v),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn update(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let mut st = org.lock();
    let result = (|| {
        let def = object_for(&st, &object)?;
        let id = record_id(&st, def, &id)?;
        st.may(def, Operation::Edit, st.store.get(def.name, &id), &s.user_id).map_err(|e| ApiError::from_field_errors(&[e]))?;
        let input = parse_object(&body)?;
        let changes = validate::check(def, &input, Mode::Update, Some(&id), &st.store)
            .map_err(|e| ApiError::from_field_errors(&e))?;
        let ctx = st.write_ctx(&s.user_id);
        st.store.update(def, &id, changes, &ctx);
        Ok::<_, ApiError>(())
    })();
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn delete(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object, id)): Path<(String, String, String)>,
) -> Response {
    let mut st = org.lock();
    let result = (|| {
        let def = object_for(&st, &object)?;
        let id = record_id(&st, def, &id)?;
        st.may(def, Operation::Delete, st.store.get(def.name, &id), &s.user_id)
            .map_err(|e| ApiError::from_field_errors(&[e]))?;
        st.store.delete(def.name, &id);
        Ok::<_, ApiError>(())
    })();
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}
