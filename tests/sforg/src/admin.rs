//! `/__admin`: the test-control API over HTTP for manual runs and non-Rust tests. It is
//! not part of Salesforce's surface: no authentication, no API counting, no faults.
//!
//! | method | path | body / answer |
//! |---|---|---|
//! | GET | `/__admin/state` | settings, usage, pending faults, clock |
//! | POST | `/__admin/settings` | `{searchDelaySecs?, apiLimit?, singleEmailLimit?, rotateRefreshTokens?, latencyMs?, accessTokenTtlSecs?, queryBatchSize?}` |
//! | POST / GET / DELETE | `/__admin/faults` | a fault `{kind, after?, method?, pathPrefix?, trigger?: {times: n} \| {probability: p}}` / list / clear; `rawAnswer` takes `{status, contentType, bodyBase64}` |
//! | POST | `/__admin/tokens/expire` | expires every access token now |
//! | POST | `/__admin/sign-in` | tokens for the signed-in rep, without the browser |
//! | POST | `/__admin/api-usage/reset` | today's count back to 0 |
//! | POST | `/__admin/clock/advance` | `{secs}` |
//! | POST | `/__admin/access` | `{object, accessible}` or `{object, permissions: {read, create, edit, delete, viewAll?, modifyAll?}}` |
//! | GET / POST | `/__admin/records/{Object}` | all records / insert (body: the fields, validated as the API does) |
//! | POST | `/__admin/permission-sets/{name}` | the user's permissions on the objects the shipped set names become what it grants |
//! | POST | `/__admin/records/{Object}/unchecked` | insert without any validation (body: the fields) → `{id}` |
//! | GET | `/__admin/fixed` | ids of the fixed records: profiles, users, accounts… |
//! | GET | `/__admin/profiles/{name}` | `{id, name}` of the profile with that name |
//! | GET / DELETE | `/__admin/emails` | the emails the Send Email action sent, oldest first / forget them (today's single-email count stays) |
//! | GET / DELETE | `/__admin/requests` | the request log (a composite's entry lists the subrequests it ran in `subrequests`) / clear it |

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::access::ObjectPermissions;
use crate::control::Settings;
use crate::faults::Fault;
use crate::org::Org;

pub(crate) fn routes() -> Router<Arc<Org>> {
    Router::new()
        .route("/__admin/state", get(|State(org): State<Arc<Org>>| async move { Json(org.control_state()) }))
        .route("/__admin/settings", post(settings))
        .route("/__admin/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/__admin/tokens/expire", post(|State(org): State<Arc<Org>>| async move {
            org.expire_access_tokens();
            StatusCode::NO_CONTENT
        }))
        .route("/__admin/sign-in", post(|State(org): State<Arc<Org>>| async move { Json(org.sign_in()) }))
        .route("/__admin/api-usage/reset", post(|State(org): State<Arc<Org>>| async move {
            org.reset_api_usage();
            StatusCode::NO_CONTENT
        }))
        .route("/__admin/clock/advance", post(advance))
        .route("/__admin/access", post(access))
        .route("/__admin/records/{object}", get(records).post(insert))
        .route("/__admin/records/{object}/unchecked", post(insert_unchecked))
        .route("/__admin/fixed", get(|State(org): State<Arc<Org>>| async move { Json(org.fixed.clone()) }))
        .route("/__admin/profiles/{name}", get(profile))
        .route("/__admin/permission-sets/{name}", post(permission_set))
        .route("/__admin/emails", get(emails).delete(clear_emails))
        .route("/__admin/requests", get(requests).delete(clear_requests))
        .route("/__admin/leads/{id}/convert", post(convert_lead))
        .route("/__admin/validation-rules", post(validation_rules))
}

async fn convert_lead(State(org): State<Arc<Org>>, Path(id): Path<String>) -> Response {
    match org.convert_lead(&id) {
        Some((contact, account)) => Json(json!({"contactId": contact, "accountId": account})).into_response(),
        None => (StatusCode::NOT_FOUND, "No unconverted Lead with that id").into_response(),
    }
}

/// Replaces the org's validation rules with the posted list.
async fn validation_rules(State(org): State<Arc<Org>>, Json(rules): Json<Vec<crate::store::ValidationRule>>) -> StatusCode {
    org.set_validation_rules(rules);
    StatusCode::NO_CONTENT
}

async fn settings(State(org): State<Arc<Org>>, Json(s): Json<Settings>) -> Response {
    org.apply(&s);
    Json(org.control_state()).into_response()
}

async fn add_fault(State(org): State<Arc<Org>>, Json(f): Json<Fault>) -> Response {
    org.inject(f);
    (StatusCode::CREATED, Json(org.control_state().faults)).into_response()
}

async fn list_faults(State(org): State<Arc<Org>>) -> Response {
    Json(org.control_state().faults).into_response()
}

async fn clear_faults(State(org): State<Arc<Org>>) -> StatusCode {
    org.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Advance {
    secs: f64,
}

async fn advance(State(org): State<Arc<Org>>, Json(a): Json<Advance>) -> Response {
    org.advance_clock(Duration::from_secs_f64(a.secs.max(0.0)));
    Json(json!({"now": crate::clock::sf_datetime(org.now())})).into_response()
}

/// Either `accessible` (all or nothing) or the `permissions` themselves.
#[derive(Deserialize)]
struct Access {
    object: String,
    accessible: Option<bool>,
    permissions: Option<ObjectPermissions>,
}

async fn access(State(org): State<Arc<Org>>, Json(a): Json<Access>) -> Response {
    let permissions = match (a.permissions, a.accessible) {
        (Some(p), _) => p,
        (None, Some(true)) => ObjectPermissions::CRUD,
        (None, Some(false)) => ObjectPermissions::NONE,
        (None, None) => {
            return (StatusCode::BAD_REQUEST, "Send {object, accessible} or {object, permissions: {read, create, edit, delete}}")
                .into_response()
        }
    };
    if org.set_object_permissions(&a.object, permissions) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::NOT_FOUND, format!("No object named {}", a.object)).into_response()
    }
}

async fn permission_set(State(org): State<Arc<Org>>, Path(name): Path<String>) -> Response {
    match org.set_permissions_from(&name) {
        Some(()) => Json(org.control_state().object_permissions).into_response(),
        None => (StatusCode::NOT_FOUND, format!("No permission set named {name} in assets/salesforce")).into_response(),
    }
}

async fn insert_unchecked(
    State(org): State<Arc<Org>>,
    Path(object): Path<String>,
    Json(fields): Json<Map<String, Value>>,
) -> Response {
    match org.insert_unchecked(&object, &fields) {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(errors) => (StatusCode::BAD_REQUEST, Json(errors)).into_response(),
    }
}

async fn profile(State(org): State<Arc<Org>>, Path(name): Path<String>) -> Response {
    match org.profile_id(&name) {
        Some(id) => Json(json!({"id": id, "name": name})).into_response(),
        None => (StatusCode::NOT_FOUND, format!("No profile named {name}")).into_response(),
    }
}

async fn records(State(org): State<Arc<Org>>, Path(object): Path<String>) -> Response {
    Json(org.records(&object)).into_response()
}

async fn insert(State(org): State<Arc<Org>>, Path(object): Path<String>, Json(fields): Json<Map<String, Value>>) -> Response {
    match org.insert_record(&object, &fields) {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(errors) => (StatusCode::BAD_REQUEST, Json(errors)).into_response(),
    }
}

async fn emails(State(org): State<Arc<Org>>) -> Response {
    Json(org.sent_emails()).into_response()
}

async fn clear_emails(State(org): State<Arc<Org>>) -> StatusCode {
    org.clear_sent_emails();
    StatusCode::NO_CONTENT
}

async fn requests(State(org): State<Arc<Org>>) -> Response {
    Json(org.requests()).into_response()
}

async fn clear_requests(State(org): State<Arc<Org>>) -> StatusCode {
    org.clear_requests();
    StatusCode::NO_CONTENT
}
