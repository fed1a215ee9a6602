//! What happens to every request before and after its handler: added latency, the API
//! version check, bearer authentication and the daily API count (with the
//! `Sforce-Limit-Info` header) for `/services/data/v…`, injected faults, and the request
//! log. Handlers below it can assume a known version and a live session. Composite
//! subrequests do not pass through here (the composite request did); they meet faults
//! through the same `fault_effect`, so a fault means the same thing inside a composite.

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

/// Set on a handler's answer when the request must end the way a transport failure
/// ends it rather than as a Salesforce answer: a composite request whose subrequest met
/// a reset or a proxy's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransportFailure {
    /// Close the connection without an answer.
    Reset,
    /// Send the answer as it is, without `Sforce-Limit-Info`: it is a proxy's page.
    ProxyPage,
}

/// Set on a composite request's answer: the subrequests it carried out, for the log.
#[derive(Debug, Clone, Default)]
pub(crate) struct SubrequestLog(pub Vec<LoggedRequest>);

/// What an injected fault does to the request it meets. Top-level requests and
/// composite subrequests share this, so a fault means the same thing in both.
pub(crate) enum FaultEffect {
    /// Not carried out; this Salesforce answer takes its place.
    Refuse(Response),
    /// Carried out, then answered with this error instead.
    CommitThenRefuse(Response),
    /// Not carried out; a proxy's page without any Salesforce headers.
    ProxyPage(Response),
    /// Not carried out; the connection is reset.
    Reset,
    /// Carried out, then the connection is reset.
    CommitThenReset,
}

pub(crate) fn fault_effect(org: &Org, kind: FaultKind) -> FaultEffect {
    match kind {
        FaultKind::ConnectionReset => FaultEffect::Reset,
        FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset } => FaultEffect::CommitThenReset,
        FaultKind::CommitThenFail { after: AfterCommit::UnknownException } => {
            FaultEffect::CommitThenRefuse(unknown_exception(org).into_response())
        }
        // A proxy's page: no Salesforce headers at all.
        FaultKind::ServiceUnavailable => {
            FaultEffect::ProxyPage((StatusCode::SERVICE_UNAVAILABLE, Html(MAINTENANCE_PAGE)).into_response())
        }
        FaultKind::ExpiredSession => FaultEffect::Refuse(ApiError::invalid_session().into_response()),
        FaultKind::RequestLimitExceeded => FaultEffect::Refuse(ApiError::request_limit_exceeded().into_response()),
        FaultKind::UnableToLockRow => FaultEffect::Refuse(
            ApiError::bad_request("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records")
                .into_response(),
        ),
        FaultKind::UnknownException => FaultEffect::Refuse(unknown_exception(org).into_response()),
        FaultKind::RawAnswer { status, content_type, body } => FaultEffect::Refuse(raw_answer(status, &content_type, body)),
    }
}

/// `Some(Ok(version))` for `/services/data/vNN.N…`, `Some(Err(()))` for an unknown version
/// or any other path under `/services/data/`, `None` outside the data API.
pub(crate) fn data_version(path: &str) -> Option<Result<&'static str, ()>> {
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
    let (outcome, subrequests) = process(&org, req, next, &method, &path).await;
    let status = match &outcome {
        Outcome::Answer(r) => Some(r.status().as_u16()),
        Outcome::Reset => None,
    };
    org.lock().log.push(LoggedRequest { method, uri, status, subrequests });
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

async fn process(org: &Org, mut req: Request, next: Next, method: &str, path: &str) -> (Outcome, Vec<LoggedRequest>) {
    let answer = |r: Response| (Outcome::Answer(r), Vec::new());
    let mut limit_header = None;
    if let Some(version) = data_version(path) {
        let Ok(version) = version else { return answer(ApiError::not_found().into_response()) };
        let mut st = org.lock();
        let now = st.clock.now();
        let user = bearer(req.headers()).and_then(|t| st.tokens.session(t, now)).map(str::to_string);
        let Some(user_id) = user else { return answer(ApiError::invalid_session().into_response()) };
        let charged = st.usage.charge(now);
        let header = st.usage.header();
        drop(st);
        if charged.is_err() {
            return answer(with_limit(ApiError::request_limit_exceeded().into_response(), &header));
        }
        limit_header = Some(header);
        req.extensions_mut().insert(Session { user_id, version });
    }
    let fault = org.lock().faults.take(method, path);
    let mut resp = match fault.map(|kind| fault_effect(org, kind)) {
        None => next.run(req).await,
        Some(FaultEffect::Refuse(r)) => r,
        Some(FaultEffect::CommitThenRefuse(r)) => {
            let _committed = next.run(req).await;
            r
        }
        Some(FaultEffect::ProxyPage(r)) => return answer(r),
        Some(FaultEffect::Reset) => return (Outcome::Reset, Vec::new()),
        Some(FaultEffect::CommitThenReset) => {
            let _committed = next.run(req).await;
            return (Outcome::Reset, Vec::new());
        }
    };
    let subrequests = resp.extensions_mut().remove::<SubrequestLog>().map(|l| l.0).unwrap_or_default();
    match resp.extensions().get::<TransportFailure>() {
        Some(TransportFailure::Reset) => return (Outcome::Reset, subrequests),
        Some(TransportFailure::ProxyPage) => return (Outcome::Answer(resp), subrequests),
        None => {}
    }
    let resp = match limit_header {
        Some(h) => with_limit(resp, &h),
        None => resp,
    };
    (Outcome::Answer(resp), subrequests)
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
