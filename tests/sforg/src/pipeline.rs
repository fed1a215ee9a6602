//! What happens to every request before and after its handler: added latency, the API
//! version check, bearer authentication and the daily API count (with the
//! `Sforce-Limit-Info` header) for `/services/data/v…`, injected faults, and the request
//! log. Handlers below it can assume a known version and a live session.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use rand::Rng;

use crate::error::ApiError;
use crate::faults::{AfterCommit, FaultKind};
use crate::oauth::bearer;
use crate::org::{LoggedRequest, Org, VERSIONS};
use crate::server::KillSwitch;

/// The authenticated caller of a data API request and the version it asked for.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub user_id: String,
    pub version: &'static str,
}

const MAINTENANCE_PAGE: &str = "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>\
<h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to maintenance \
downtime or capacity problems. Please try again later.</p></body></html>";

enum Outcome {
    Answer(Response),
    Reset,
}

/// `Some(Ok(version))` for `/services/data/vNN.N…`, `Some(Err(()))` for an unknown version
/// or any other path under `/services/data/`, `None` outside the data API.
fn data_version(path: &str) -> Option<Result<&'static str, ()>> {
    let rest = path.strip_prefix("/services/data/")?;
    if rest.is_empty() {
        return None;
    }
    let segment = rest.split('/').next().unwrap_or_default();
    Some(VERSIONS.iter().find(|(v, _)| segment.strip_prefix('v') == Some(*v)).map(|(v, _)| *v).ok_or(()))
}

pub(crate) async fn handle(State(org): State<Arc<Org>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__admin") {
        return next.run(req).await;
    }
    let latency = org.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let method = req.method().to_string();
    let uri = req.uri().path_and_query().map_or(path.clone(), |p| p.to_string());
    let kill = req.extensions().get::<Arc<KillSwitch>>().cloned();
    let outcome = process(&org, req, next, &method, &path).await;
    let status = match &outcome {
        Outcome::Answer(r) => Some(r.status().as_u16()),
        Outcome::Reset => None,
    };
    org.lock().log.push(LoggedRequest { method, uri, status });
    let answer_delay = org.lock().answer_delay;
    if !answer_delay.is_zero() {
        tokio::time::sleep(answer_delay).await;
    }
    match outcome {
        Outcome::Answer(r) => r,
        Outcome::Reset => {
            if let Some(kill) = kill {
                kill.trigger();
            }
            // The connection task drops this future when it closes the socket.
            std::future::pending().await
        }
    }
}

async fn process(org: &Org, mut req: Request, next: Next, method: &str, path: &str) -> Outcome {
    let mut limit_header = None;
    if let Some(version) = data_version(path) {
        let Ok(version) = version else { return Outcome::Answer(ApiError::not_found().into_response()) };
        let mut st = org.lock();
        let now = st.clock.now();
        let user = bearer(req.headers()).and_then(|t| st.tokens.session(t, now)).map(str::to_string);
        let Some(user_id) = user else { return Outcome::Answer(ApiError::invalid_session().into_response()) };
        let charged = st.usage.charge(now);
        let header = st.usage.header();
        drop(st);
        if charged.is_err() {
            return Outcome::Answer(with_limit(ApiError::request_limit_exceeded().into_response(), &header));
        }
        limit_header = Some(header);
        req.extensions_mut().insert(Session { user_id, version });
    }
    let fault = org.lock().faults.take(method, path);
    let resp = match fault {
        None => next.run(req).await,
        Some(FaultKind::ConnectionReset) => return Outcome::Reset,
        Some(FaultKind::CommitThenFail { after }) => {
            let _committed = next.run(req).await;
            match after {
                AfterCommit::UnknownException => unknown_exception(org).into_response(),
                AfterCommit::ConnectionReset => return Outcome::Reset,
            }
        }
        Some(FaultKind::ServiceUnavailable) => {
            // A proxy's page: no Salesforce headers at all.
            return Outcome::Answer((StatusCode::SERVICE_UNAVAILABLE, Html(MAINTENANCE_PAGE)).into_response());
        }
        Some(FaultKind::ExpiredSession) => ApiError::invalid_session().into_response(),
        Some(FaultKind::RequestLimitExceeded) => ApiError::request_limit_exceeded().into_response(),
        Some(FaultKind::UnableToLockRow) => ApiError::bad_request(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records",
        )
        .into_response(),
        Some(FaultKind::UnknownException) => unknown_exception(org).into_response(),
        Some(FaultKind::RawAnswer { status, content_type, body }) => raw_answer(status, &content_type, body),
    };
    Outcome::Answer(match limit_header {
        Some(h) => with_limit(resp, &h),
        None => resp,
    })
}

fn raw_answer(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, body).into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
    }
    resp
}

fn with_limit(mut resp: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert("Sforce-Limit-Info", v);
    }
    resp
}

fn unknown_exception(org: &Org) -> ApiError {
    let (a, b, c): (u32, u32, i32) = {
        let mut st = org.lock();
        (st.rng.gen_range(100_000_000..999_999_999), st.rng.gen_range(10_000..99_999), st.rng.gen())
    };
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "UNKNOWN_EXCEPTION",
        format!("An unexpected error occurred. Please include this ErrorId if you contact support: {a}-{b} ({c})"),
    )
}
