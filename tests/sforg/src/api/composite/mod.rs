//! Composite (`/composite`): up to 25 subrequests in one call, later ones reading earlier
//! answers through `@{referenceId.path}` (see `reference`), all or none of them kept.
//! Each subrequest goes through the same router as a top-level request, as the composite
//! request's user, so describe, access rules, validation and faults by path answer
//! exactly as they would alone; what a subrequest does not get is the pipeline's own
//! work — authentication, the API count, latency and a log entry — because the composite
//! is one call. It never nests a composite and never runs subrequests concurrently.

mod reference;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{HeaderName, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use self::reference::{percent_encode, Answers};
use super::records::parse_object;
use super::sf_json;
use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::org::{LoggedRequest, Org};
use crate::pipeline::{data_version, fault_effect, FaultEffect, Session, SubrequestLog, TransportFailure};
use crate::store::Snapshot;

/// Salesforce's caps: subrequests per call, and of those, queries and sObject
/// Collections ("Up to 5 of these subrequests can be sObject Collections or query
/// operations, including Query and QueryAll requests").
const MAX_SUBREQUESTS: usize = 25;
const MAX_QUERIES: usize = 5;
/// Case-sensitive, as documented.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/// Subrequests inherit these from the composite request and may not set them.
const INHERITED_HEADERS: [&str; 3] = ["Accept", "Authorization", "Content-Type"];
/// Response headers a subrequest's result shows (Content-Length never, as documented).
const RESULT_HEADERS: [&str; 3] = ["Location", "ETag", "Last-Modified"];
/// Resources a subrequest may name, after `/services/data/vXX.X/`.
const SUPPORTED: [&str; 4] = ["sobjects", "query", "queryAll", "composite/sobjects"];
const COUNTED_AS_QUERIES: [&str; 3] = ["query", "queryAll", "composite/sobjects"];
const ROLLED_BACK: &str = "The transaction was rolled back since another operation in the same transaction failed.";

/// `GET /composite`: the other composite resources. Only those this org serves are
/// listed, so following the list never leads to a 404.
pub(crate) async fn list(Extension(s): Extension<Session>) -> Response {
    sf_json(StatusCode::OK, json!({"sobjects": format!("/services/data/v{}/composite/sobjects", s.version)}))
}

/// `POST /composite`.
pub(crate) async fn run(State(org): State<Arc<Org>>, Extension(s): Extension<Session>, body: Bytes) -> Response {
    let plan = match parse(&body) {
        Ok(plan) => plan,
        Err(e) => return e.into_response(),
    };
    let router = super::subrequest_router(org.clone());
    let mut tx = Transaction { org, router, user_id: s.user_id, all_or_none: plan.all_or_none, snapshot: None, log: Vec::new() };
    let ended = tx.run(&plan.subrequests).await;
    let mut resp = match ended {
        Ended::Answered(answers) => {
            let results: Vec<Value> =
                answers.iter().zip(&plan.subrequests).map(|(a, sub)| a.to_json(&sub.reference_id)).collect();
            sf_json(StatusCode::OK, json!({"compositeResponse": results}))
        }
        Ended::ProxyPage(mut page) => {
            page.extensions_mut().insert(TransportFailure::ProxyPage);
            page
        }
        Ended::Reset => {
            let mut r = StatusCode::OK.into_response();
            r.extensions_mut().insert(TransportFailure::Reset);
            r
        }
    };
    resp.extensions_mut().insert(SubrequestLog(tx.log));
    resp
}

/// One subrequest as the composite request body gives it.
struct Subrequest {
    method: Method,
    url: String,
    reference_id: String,
    body: Option<Value>,
    headers: HeaderMap,
}

struct Plan {
    all_or_none: bool,
    subrequests: Vec<Subrequest>,
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::json_parse(message.into())
}

fn flag(body: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(malformed(format!("{name} must be true or false"))),
    }
}

/// Reads and checks the whole request before anything runs: a malformed body, too many
/// subrequests or a forbidden header refuses the composite as a whole (400).
fn parse(body: &[u8]) -> Result<Plan, ApiError> {
    let body = parse_object(body)?;
    let all_or_none = flag(&body, "allOrNone")?;
    // Accepted and ignored: subrequests always run one by one in their order, which is
    // what collation guarantees for dependent subrequests anyway.
    flag(&body, "collateSubrequests")?;
    let list = body
        .get("compositeRequest")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("compositeRequest is required: an array of subrequests"))?;
    if list.len() > MAX_SUBREQUESTS {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!("A composite request can have up to {MAX_SUBREQUESTS} subrequests; this one has {}.", list.len()),
        ));
    }
    let subrequests = list.iter().enumerate().map(|(i, v)| subrequest(i, v)).collect::<Result<Vec<_>, _>>()?;
    let queries = subrequests.iter().filter(|s| resource(&s.url).is_some_and(|r| under_any(r, &COUNTED_AS_QUERIES))).count();
    if queries > MAX_QUERIES {
        return Err(ApiError::bad_request(
            "LIMIT_EXCEEDED",
            format!(
                "Up to {MAX_QUERIES} subrequests of a composite request can be queries or sObject Collections; this one has {queries}."
            ),
        ));
    }
    for (i, sub) in subrequests.iter().enumerate() {
        if subrequests[..i].iter().any(|earlier| earlier.reference_id == sub.reference_id) {
            return Err(malformed(format!("Duplicate referenceId '{}': each subrequest needs its own", sub.reference_id)));
        }
    }
    Ok(Plan { all_or_none, subrequests })
}

fn subrequest(i: usize, value: &Value) -> Result<Subrequest, ApiError> {
    let at = format!("compositeRequest[{i}]");
    let obj = value.as_object().ok_or_else(|| malformed(format!("{at} must be an object")))?;
    let text = |key: &str| {
        obj.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| malformed(format!("{at}.{key} is required")))
    };
    let method = text("method")?;
    if !METHODS.contains(&method) {
        return Err(malformed(format!("{at}.method '{method}' is not one of {}", METHODS.join(", "))));
    }
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| malformed(format!("{at}.method is not a method")))?;
    let url = text("url")?.to_string();
    let reference_id = text("referenceId")?.to_string();
    let mut headers = HeaderMap::new();
    if let Some(given) = obj.get("httpHeaders").filter(|v| !v.is_null()) {
        let given = given.as_object().ok_or_else(|| malformed(format!("{at}.httpHeaders must be an object")))?;
        for (name, value) in given {
            if INHERITED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                return Err(ApiError::bad_request(
                    "INVALID_INPUT",
                    format!("{at}.httpHeaders sets {name}: subrequests inherit Accept, Authorization and Content-Type from the composite request"),
                ));
            }
            let value = value.as_str().ok_or_else(|| malformed(format!("{at}.httpHeaders.{name} must be a string")))?;
            let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
                return Err(malformed(format!("{at}.httpHeaders.{name} is not a valid HTTP header")));
            };
            headers.insert(name, value);
        }
    }
    Ok(Subrequest { method, url, reference_id, body: obj.get("body").cloned(), headers })
}

/// The resource a data API URL names after `/services/data/vXX.X/`, without the query.
fn resource(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let (_version, resource) = path.strip_prefix("/services/data/")?.split_once('/')?;
    Some(resource)
}

fn under_any(resource: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| resource.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// Salesforce: "The referenceIds must not contain anything besides letters, numbers, and
/// underscores", and must start with a letter or a number.
fn valid_reference_id(id: &str) -> bool {
    id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Percent-encodes what a URI may not carry raw (spaces, double quotes, braces…), as
/// Salesforce accepts subrequest URLs written that way.
fn uri_safe(url: &str) -> String {
    percent_encode(url, |b| reference::is_unreserved(b) || b":/?[]@!$&'()*+,;=%".contains(&b))
}

/// One subrequest's result.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: Map<String, Value>,
    body: Value,
}

impl Answer {
    fn failed(&self) -> bool {
        self.status >= 400
    }

    fn halted(message: impl Into<String>) -> Answer {
        Answer::from_error(ApiError::bad_request("PROCESSING_HALTED", message))
    }

    fn from_error(e: ApiError) -> Answer {
        Answer { status: e.status.as_u16(), headers: Map::new(), body: Value::Array(e.items) }
    }

    /// What the subrequest's handler (or fault) answered. A body that is not JSON (only
    /// a raw-answer fault makes one) is kept as a JSON string.
    async fn of(resp: Response) -> Answer {
        let status = resp.status().as_u16();
        let mut headers = Map::new();
        for name in RESULT_HEADERS {
            if let Some(v) = resp.headers().get(name).and_then(|v| v.to_str().ok()) {
                headers.insert(name.to_string(), Value::String(v.to_string()));
            }
        }
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap_or_default();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer { status, headers, body }
    }

    fn to_json(&self, reference_id: &str) -> Value {
        json!({"body": self.body, "httpHeaders": self.headers, "httpStatusCode": self.status, "referenceId": reference_id})
    }
}

/// A subrequest ready to go: references filled in, URL and version known.
struct Prepared {
    method: Method,
    uri: Uri,
    version: &'static str,
    body: Option<Value>,
    headers: HeaderMap,
}

/// How a composite request ended.
enum Ended {
    /// One result per subrequest, in order.
    Answered(Vec<Answer>),
    /// A subrequest met a proxy's page: so does the whole request.
    ProxyPage(Response),
    /// A subrequest met a connection reset: so does the whole request.
    Reset,
}

enum Dispatched {
    Answer(Answer),
    Ended(Ended, Committed),
}

/// Whether what the subrequests wrote stays when the request ends in a transport failure.
#[derive(PartialEq, Eq)]
enum Committed {
    Yes,
    No,
}

struct Transaction {
    org: Arc<Org>,
    router: Router,
    user_id: String,
    all_or_none: bool,
    /// The records before the first write, when they may have to be put back.
    snapshot: Option<Snapshot>,
    log: Vec<LoggedRequest>,
}

impl Transaction {
    async fn run(&mut self, subrequests: &[Subrequest]) -> Ended {
        let mut answers: Vec<Answer> = Vec::with_capacity(subrequests.len());
        let mut bodies = Answers::new();
        for sub in subrequests {
            let answer = match self.prepare(sub, &bodies) {
                Err(refused) => refused,
                Ok(prepared) => match self.dispatch(prepared).await {
                    Dispatched::Answer(a) => a,
                    Dispatched::Ended(ended, committed) => {
                        if committed == Committed::No {
                            self.roll_back();
                        }
                        return ended;
                    }
                },
            };
            if answer.failed() && self.all_or_none {
                self.roll_back();
                let failed = answers.len();
                let halted = (0..subrequests.len())
                    .map(|i| if i == failed { answer.clone() } else { Answer::halted(ROLLED_BACK) })
                    .collect();
                return Ended::Answered(halted);
            }
            if !answer.failed() {
                bodies.insert(sub.reference_id.clone(), answer.body.clone());
            }
            answers.push(answer);
        }
        Ended::Answered(answers)
    }

    /// Fills in references and checks the URL; `Err` is the subrequest's answer when it
    /// cannot run.
    fn prepare(&self, sub: &Subrequest, bodies: &Answers) -> Result<Prepared, Answer> {
        if !valid_reference_id(&sub.reference_id) {
            return Err(Answer::halted(format!(
                "Provided referenceId ('{}') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_').",
                sub.reference_id
            )));
        }
        let url = reference::in_url(&sub.url, bodies).map_err(|u| Answer::halted(u.message()))?;
        let body = sub.body.as_ref().map(|b| reference::in_body(b, bodies)).transpose().map_err(|u| Answer::halted(u.message()))?;
        let not_found = || Answer::from_error(ApiError::not_found());
        let uri: Uri = uri_safe(&url).parse().map_err(|_| not_found())?;
        let Some(Ok(version)) = data_version(uri.path()) else { return Err(not_found()) };
        if !resource(uri.path()).is_some_and(|r| under_any(r, &SUPPORTED)) {
            return Err(not_found());
        }
        Ok(Prepared { method: sub.method.clone(), uri, version, body, headers: sub.headers.clone() })
    }

    /// Runs one subrequest, or lets the fault waiting for its path answer instead.
    async fn dispatch(&mut self, p: Prepared) -> Dispatched {
        if p.method != Method::GET {
            self.prepare_rollback();
        }
        let (method, uri) = (p.method.to_string(), p.uri.to_string());
        let fault = self.org.lock().faults.take(&method, p.uri.path());
        let dispatched = match fault.map(|kind| fault_effect(&self.org, kind)) {
            None => Dispatched::Answer(Answer::of(self.call(p).await).await),
            Some(FaultEffect::Refuse(r)) => Dispatched::Answer(Answer::of(r).await),
            Some(FaultEffect::CommitThenRefuse(r)) => {
                let _committed = self.call(p).await;
                Dispatched::Answer(Answer::of(r).await)
            }
            Some(FaultEffect::ProxyPage(page)) => Dispatched::Ended(Ended::ProxyPage(page), Committed::No),
            Some(FaultEffect::Reset) => Dispatched::Ended(Ended::Reset, Committed::No),
            Some(FaultEffect::CommitThenReset) => {
                let _committed = self.call(p).await;
                Dispatched::Ended(Ended::Reset, Committed::Yes)
            }
        };
        let status = match &dispatched {
            Dispatched::Answer(a) => Some(a.status),
            Dispatched::Ended(Ended::ProxyPage(page), _) => Some(page.status().as_u16()),
            Dispatched::Ended(_, _) => None,
        };
        self.log.push(LoggedRequest { method, uri, status, subrequests: Vec::new() });
        dispatched
    }

    async fn call(&self, p: Prepared) -> Response {
        let bytes = p.body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut req = Request::new(Body::from(bytes));
        *req.method_mut() = p.method;
        *req.uri_mut() = p.uri;
        *req.headers_mut() = p.headers;
        req.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        req.extensions_mut().insert(Session { user_id: self.user_id.clone(), version: p.version });
        match self.router.clone().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }

    /// Before the first write: keeps a copy of the records if this request may have to
    /// put them back — with `allOrNone`, or when a fault that ends a request unanswered
    /// (a reset, a proxy's page) is waiting. Without either, nothing is copied.
    fn prepare_rollback(&mut self) {
        if self.snapshot.is_some() {
            return;
        }
        let st = self.org.lock();
        let transport_fault_waiting = st
            .faults
            .pending()
            .iter()
            .any(|f| matches!(f.kind, FaultKind::ConnectionReset | FaultKind::ServiceUnavailable));
        if self.all_or_none || transport_fault_waiting {
            self.snapshot = Some(st.store.snapshot());
        }
    }

    fn roll_back(&mut self) {
        if let Some(snapshot) = self.snapshot.take() {
            self.org.lock().store.restore(snapshot);
        }
    }
}
