//! sObject Rows by External ID: `GET`, `PATCH` (upsert) and `DELETE` on
//! `/sobjects/{Obj}/{ExternalIdField}/{value}`, as Salesforce documents them. Upsert
//! creates when nothing matches (201, `created: true`), updates the one match (200,
//! `created: false`, API 46.0 and later), and answers 300 with the matches' URLs when the
//! value is on several records. A field that is not an external id is `NOT_FOUND`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::records::{field_list, object_for, parse_object, record_json, with_location};
use super::sf_json;
use crate::access::Operation;
use crate::error::ApiError;
use crate::org::{Org, OrgState};
use crate::pipeline::Session;
use crate::schema::{FieldDef, FieldType, ObjectDef};
use crate::validate::{self, Mode};

type ByExternalId = Path<(String, String, String, String)>;

fn no_such_field(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    )
}

/// The object and its external id field named in the path.
fn resolve(st: &OrgState, object: &str, field: &str) -> Result<(&'static ObjectDef, &'static FieldDef), ApiError> {
    let def = object_for(st, object)?;
    let field = def.external_id_field(field).ok_or_else(|| no_such_field(field))?;
    Ok((def, field))
}

/// Ids of the records whose external id equals `value`: exactly for a case-sensitive
/// field, ignoring case otherwise, numerically for a Number field.
fn matching(st: &OrgState, def: &ObjectDef, field: &FieldDef, value: &str) -> Vec<String> {
    let wanted_number = value.parse::<f64>().ok();
    st.store
        .table(def.name)
        .filter(|r| match r.get(field.name) {
            Some(Value::String(s)) if field.case_sensitive => s == value,
            Some(Value::String(s)) => s.to_lowercase() == value.to_lowercase(),
            Some(Value::Number(n)) if field.ty == FieldType::Double => n.as_f64().is_some() && n.as_f64() == wanted_number,
            _ => false,
        })
        .filter_map(|r| r.get("Id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// 300 Multiple Choices: the URLs of every matching record.
fn multiple_choices(def: &ObjectDef, version: &str, ids: &[String]) -> Response {
    let urls: Vec<Value> =
        ids.iter().map(|id| json!(format!("/services/data/v{version}/sobjects/{}/{id}", def.name))).collect();
    sf_json(StatusCode::MULTIPLE_CHOICES, Value::Array(urls))
}

pub(crate) async fn read(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object, field, value)): ByExternalId,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let st = org.lock();
    let result = (|| {
        let (def, field) = resolve(&st, &object, &field)?;
        let only = params.get("fields").map(|f| field_list(def, f)).transpose()?;
        let ids = matching(&st, def, field, &value);
        match ids.as_slice() {
            [] => Err(ApiError::not_found()),
            [id] => {
                let rec = st.store.get(def.name, id).ok_or_else(ApiError::not_found)?;
                Ok(sf_json(StatusCode::OK, record_json(def, rec, s.version, only.as_deref())))
            }
            _ => Ok(multiple_choices(def, s.version, &ids)),
        }
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn upsert(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object, field, value)): ByExternalId,
    Query(params): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let update_only = params.get("updateOnly").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut st = org.lock();
    let result = (|| {
        let (def, field) = resolve(&st, &object, &field)?;
        let mut input = parse_object(&body)?;
        // Salesforce: "Do not specify Id or an external ID field in the request body".
        if let Some(key) = input.keys().find(|k| k.eq_ignore_ascii_case("Id") || k.eq_ignore_ascii_case(field.name)) {
            return Err(ApiError::bad_request(
                "INVALID_FIELD",
                format!("{key} can't be in the request body of an upsert by {}: the URL gives it", field.name),
            ));
        }
        let ids = matching(&st, def, field, &value);
        match ids.as_slice() {
            [] if update_only => Err(ApiError::not_found()),
            [] => {
                st.may(def, Operation::Create, None, &s.user_id).map_err(|e| ApiError::from_field_errors(&[e]))?;
                let typed = if field.ty == FieldType::Double {
                    value.parse::<f64>().map(Value::from).unwrap_or_else(|_| Value::String(value.clone()))
                } else {
                    Value::String(value.clone())
                };
                input.insert(field.name.to_string(), typed);
                let fields = validate::check(def, &input, Mode::Insert, None, &st.store)
                    .map_err(|e| ApiError::from_field_errors(&e))?;
                let ctx = st.write_ctx(&s.user_id);
                let id = st.store.insert(def, fields, &ctx);
                let resp = sf_json(StatusCode::CREATED, json!({"id": id, "success": true, "errors": [], "created": true}));
                Ok(with_location(resp, def, s.version, &id))
            }
            [id] => {
                st.may(def, Operation::Edit, st.store.get(def.name, id), &s.user_id)
                    .map_err(|e| ApiError::from_field_errors(&[e]))?;
                let changes = validate::check(def, &input, Mode::Update, Some(id), &st.store)
                    .map_err(|e| ApiError::from_field_errors(&e))?;
                let ctx = st.write_ctx(&s.user_id);
                st.store.update(def, id, changes, &ctx);
                Ok(sf_json(StatusCode::OK, json!({"id": id, "success": true, "errors": [], "created": false})))
            }
            _ => Ok(multiple_choices(def, s.version, &ids)),
        }
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn delete(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, object, field, value)): ByExternalId,
) -> Response {
    let mut st = org.lock();
    let result = (|| {
        let (def, field) = resolve(&st, &object, &field)?;
        let ids = matching(&st, def, field, &value);
        match ids.as_slice() {
            [] => Err(ApiError::not_found()),
            [id] => {
                st.may(def, Operation::Delete, st.store.get(def.name, id), &s.user_id)
                    .map_err(|e| ApiError::from_field_errors(&[e]))?;
                st.store.delete(def.name, id);
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Ok(multiple_choices(def, s.version, &ids)),
        }
    })();
    result.unwrap_or_else(IntoResponse::into_response)
}
