//! Error bodies as Salesforce writes them. The REST API answers errors with a JSON array
//! of `{"message","errorCode"[,"fields"]}`; DML results inside collections use
//! `{"statusCode","message","fields"}`. Codes and messages are copied from real
//! responses, because the product is judged on how it handles exactly these.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// One error of a record write: the shape shared by single-record and collection calls.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl FieldError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>, fields: Vec<String>) -> Self {
        FieldError { code, message: message.into(), fields }
    }

    /// `{"statusCode","message","fields"}` as in a collection's SaveResult.
    pub(crate) fn save_result_json(&self) -> Value {
        json!({"statusCode": self.code, "message": self.message, "fields": self.fields})
    }
}

/// An error response of the REST API.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub items: Vec<Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, items: vec![json!({"message": message.into(), "errorCode": code})] }
    }

    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource does not exist")
    }

    pub(crate) fn invalid_session() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub(crate) fn request_limit_exceeded() -> Self {
        Self::new(StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    }

    pub(crate) fn json_parse(detail: impl std::fmt::Display) -> Self {
        Self::bad_request("JSON_PARSER_ERROR", format!("{detail}"))
    }

    /// A record write refused as a whole (single-record POST/PATCH): Salesforce answers 400
    /// with every error of the record, each carrying its `fields`.
    pub(crate) fn from_field_errors(errors: &[FieldError]) -> Self {
        let items = errors
            .iter()
            .map(|e| {
                let mut v = json!({"message": e.message, "errorCode": e.code});
                if !e.fields.is_empty() || e.code == "REQUIRED_FIELD_MISSING" {
                    v["fields"] = json!(e.fields);
                }
                v
            })
            .collect();
        ApiError { status: StatusCode::BAD_REQUEST, items }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(Value::Array(self.items))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Token"));
        }
        resp
    }
}

/// Salesforce's query and search errors quote the statement and point at the column:
/// `\nSELECT Foo FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column …`.
/// `column` is 1-based; the caret sits under it.
pub(crate) fn quoted_error(statement: &str, column: usize, text: &str) -> String {
    let line = statement.replace(['\n', '\r'], " ");
    format!("\n{line}\n{}^\nERROR at Row:1:Column:{column}\n{text}", " ".repeat(column.saturating_sub(1)))
}
