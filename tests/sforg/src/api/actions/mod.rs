//! Invocable actions (`POST /actions/standard/{action}`): the envelope every action
//! shares — `{"inputs": [ {…}, … ]}` in, one `{actionName, errors, isSuccess,
//! outputValues}` per input out, in order — and the status of the whole call. Only Send
//! Email (`emailSimple`, see `email_simple`) is served. Each input succeeds or fails on
//! its own, and a failed input changes nothing; a body that is not of this shape refuses
//! the whole call before any input runs.

mod email_simple;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};

use super::records::parse_object;
use super::sf_json;
use crate::error::{ApiError, FieldError};
use crate::org::Org;
use crate::pipeline::Session;

/// `POST /actions/standard/emailSimple`.
pub(crate) async fn email_simple(State(org): State<Arc<Org>>, Extension(s): Extension<Session>, body: Bytes) -> Response {
    let inputs = match inputs(&body).and_then(|list| email_simple::read_all(&list)) {
        Ok(inputs) => inputs,
        Err(e) => return e.into_response(),
    };
    // One lock for the whole call: the allowance is charged and the emails recorded
    // together, so no other request sees half of it.
    let results: Vec<_> = {
        let mut st = org.lock();
        inputs.iter().map(|input| email_simple::send(&mut st, &s.user_id, input)).collect()
    };
    answer(email_simple::NAME, &results)
}

/// The `inputs` list: the top-level key must be `inputs`, an array of objects.
fn inputs(body: &[u8]) -> Result<Vec<Map<String, Value>>, ApiError> {
    let body = parse_object(body)?;
    let list = body
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::json_parse("inputs is required: an array with one object per invocation"))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| v.as_object().cloned().ok_or_else(|| ApiError::json_parse(format!("inputs[{i}] must be an object"))))
        .collect()
}

/// One result per input. 200 when every input succeeded; when any failed, 400 with the
/// same list, as real answers show (see the README's *Not pinned down*).
fn answer(action: &str, results: &[Result<(), Vec<FieldError>>]) -> Response {
    let body: Vec<Value> = results
        .iter()
        .map(|r| match r {
            Ok(()) => json!({"actionName": action, "errors": null, "isSuccess": true, "outputValues": null}),
            Err(errors) => json!({
                "actionName": action,
                "errors": errors.iter().map(FieldError::save_result_json).collect::<Vec<_>>(),
                "isSuccess": false,
                "outputValues": null,
            }),
        })
        .collect();
    let status = if results.iter().all(Result::is_ok) { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    sf_json(status, Value::Array(body))
}
