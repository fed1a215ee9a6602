//! The REST data API under `/services/data`: versions, resources, limits, sObjects,
//! query, search, composite, sObject collections and the Send Email action. Handlers stay thin: they read the `Session`
//! the pipeline attached, take the org lock briefly and call the engines.

mod actions;
mod collections;
mod composite;
mod describe;
mod external_id;
mod query;
mod records;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::org::{Org, VERSIONS};
use crate::pipeline::Session;

/// A JSON answer with Salesforce's content type.
pub(crate) fn sf_json(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    resp
}

pub(crate) fn routes() -> Router<Arc<Org>> {
    let v = "/services/data/{version}";
    Router::new()
        .route("/services/data", get(versions))
        .route("/services/data/", get(versions))
        .route(v, get(resources))
        .route(&format!("{v}/"), get(resources))
        .route(&format!("{v}/limits"), get(limits))
        .route(&format!("{v}/limits/"), get(limits))
        .route(&format!("{v}/sobjects"), get(records::describe_global))
        .route(&format!("{v}/sobjects/"), get(records::describe_global))
        .route(&format!("{v}/sobjects/{{object}}"), get(records::object_info).post(records::create))
        .route(&format!("{v}/sobjects/{{object}}/describe"), get(records::describe))
        .route(&format!("{v}/sobjects/{{object}}/describe/"), get(records::describe))
        .route(
            &format!("{v}/sobjects/{{object}}/{{id}}"),
            get(records::read).patch(records::update).delete(records::delete),
        )
        .route(
            &format!("{v}/sobjects/{{object}}/{{field}}/{{value}}"),
            get(external_id::read).patch(external_id::upsert).delete(external_id::delete),
        )
        .route(&format!("{v}/query"), get(query::query))
        .route(&format!("{v}/query/"), get(query::query))
        .route(&format!("{v}/query/{{locator}}"), get(query::query_more))
        .route(&format!("{v}/search"), get(query::search))
        .route(&format!("{v}/search/"), get(query::search))
        .route(&format!("{v}/actions/standard/emailSimple"), axum::routing::post(actions::email_simple))
        .route(&format!("{v}/composite"), get(composite::list).post(composite::run))
        .route(&format!("{v}/composite/"), get(composite::list).post(composite::run))
        .route(
            &format!("{v}/composite/sobjects"),
            axum::routing::post(collections::create).patch(collections::update).delete(collections::delete),
        )
        .route(
            &format!("{v}/composite/sobjects/{{object}}"),
            get(collections::retrieve).post(collections::retrieve_post),
        )
}

/// The data API alone, as composite subrequests reach it: the caller has already been
/// authenticated, counted and logged as the composite request.
pub(crate) fn subrequest_router(org: Arc<Org>) -> Router {
    routes()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(crate::MAX_REQUEST_BYTES))
        .with_state(org)
}

async fn versions(State(org): State<Arc<Org>>) -> Response {
    let _ = org;
    let list: Vec<Value> = VERSIONS
        .iter()
        .map(|(v, label)| json!({"label": label, "url": format!("/services/data/v{v}"), "version": v}))
        .collect();
    sf_json(StatusCode::OK, Value::Array(list))
}

async fn resources(Extension(s): Extension<Session>) -> Response {
    let base = format!("/services/data/v{}", s.version);
    let mut map = serde_json::Map::new();
    for r in ["limits", "query", "search", "sobjects", "composite"] {
        map.insert(r.into(), json!(format!("{base}/{r}")));
    }
    sf_json(StatusCode::OK, Value::Object(map))
}

async fn limits(State(org): State<Arc<Org>>) -> Response {
    let mut st = org.lock();
    let now = st.clock.now();
    st.outbox.roll(now);
    let (count, limit) = (st.usage.count, st.usage.limit);
    let (emails, email_limit) = (st.outbox.used, st.outbox.limit);
    sf_json(
        StatusCode::OK,
        json!({
            "DailyApiRequests": {"Max": limit, "Remaining": limit.saturating_sub(count)},
            "SingleEmail": {"Max": email_limit, "Remaining": email_limit.saturating_sub(emails)},
        }),
    )
}

/// Unknown resource under a version (after authentication, as Salesforce checks it first).
pub(crate) async fn not_found() -> Response {
    ApiError::not_found().into_response()
}

pub(crate) async fn method_not_allowed(method: Method) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("HTTP Method '{method}' not allowed."),
    )
    .into_response()
}
