//! Zoom- and Webex-compatible test servers for Ringside, on one port. The product talks
//! to them exactly as it talks to the real services — the same OAuth flow (authorization
//! code with PKCE; Zoom rotates refresh tokens, Webex does not), the same request and
//! response shapes, error bodies, paging (Zoom's `next_page_token`, Webex's `Link`
//! header) and 429 answers — and only the base URL differs. Tests steer them through
//! [`RunningServer`]: end a meeting with participants and a recording, delete one, add
//! meetings made elsewhere (one at a time or thousands for a benchmark), inject faults,
//! expire tokens, move the clock. See `README.md` in this crate for what is modelled.

// A handler's helpers fail with the answer itself, built once per request.
#![allow(clippy::result_large_err)]

mod state;
mod webex;
mod zoom;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use state::{Fault, FaultKind, LoggedRequest};
pub use webex::{WebexConfig, WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET};
pub use zoom::{Attendee, ZoomConfig, ZOOM_CLIENT_ID};

/// The servers' state, behind one lock.
pub(crate) struct Inner {
    /// Seconds added to the real clock.
    pub clock_offset: i64,
    pub faults: state::FaultBook,
    pub requests: Vec<LoggedRequest>,
    pub zoom: zoom::Zoom,
    pub webex: webex::Webex,
}

pub(crate) struct Server {
    pub base_url: String,
    inner: Mutex<Inner>,
}

impl Server {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    pub(crate) fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset
    }
}

pub(crate) type Shared = State<Arc<Server>>;

/// Letters and digits, `n` of them.
pub(crate) fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// How seeded meetings are spread: `n` of them from `first_start` to an hour before
/// `now`, each starting `step` seconds after the one before and lasting `minutes` (30,
/// shorter when they are packed closer than that).
pub(crate) fn seed_spacing(n: u32, first_start: i64, now: i64) -> (i64, u32) {
    let step = ((now - 3_600 - first_start) / i64::from(n.max(1))).max(60);
    (step, (step / 60).clamp(1, 30) as u32)
}

/// The attendees of seeded meeting `i`: the user (as host) and `each - 1` guests with
/// addresses of their own.
pub(crate) fn seed_attendees(i: u32, each: u32) -> Vec<Attendee> {
    (0..each)
        .map(|j| match j {
            0 => Attendee { name: "Rita Rep".into(), email: Some("rep@example.com".into()) },
            _ => Attendee { name: format!("Guest {}-{j}", i + 1), email: Some(format!("guest{}.{j}@example.com", i + 1)) },
        })
        .collect()
}

/// A running server. Dropping it stops it.
pub struct RunningServer {
    server: Arc<Server>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub zoom: ZoomConfig,
    pub webex: WebexConfig,
}

/// Starts the servers on `127.0.0.1` with a free port.
pub async fn spawn(config: Config) -> RunningServer {
    spawn_on(config, ([127, 0, 0, 1], 0).into()).await.expect("binding 127.0.0.1:0 must work on any test machine")
}

pub async fn spawn_on(config: Config, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let server = new_server(config, &format!("http://127.0.0.1:{}", addr.port()));
    let app = router(server.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(RunningServer { server, addr, task })
}

fn new_server(config: Config, base_url: &str) -> Arc<Server> {
    Arc::new(Server {
        inner: Mutex::new(Inner {
            clock_offset: 0,
            faults: state::FaultBook::default(),
            requests: Vec::new(),
            zoom: zoom::Zoom::new(config.zoom, base_url),
            webex: webex::Webex::new(config.webex, base_url),
        }),
        base_url: base_url.to_string(),
    })
}

fn router(server: Arc<Server>) -> Router {
    Router::new()
        .merge(zoom::routes(server.clone()))
        .merge(webex::routes(server.clone()))
        .route("/_admin/faults", post(admin_fault).delete(admin_clear_faults))
        .route("/_admin/requests", get(admin_requests))
        .route("/_admin/clock", post(admin_clock))
        .route("/_admin/zoom/seed-past", post(admin_zoom_seed))
        .fallback(unknown_path)
        .with_state(server)
}

/// Webex's error body under `/v1/`, Zoom's elsewhere.
async fn unknown_path(request: Request) -> Response {
    if is_webex(request.uri().path()) {
        webex::unknown_path()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({"code": 404, "message": "Not found."}))).into_response()
    }
}

fn is_webex(path: &str) -> bool {
    path.starts_with("/v1/")
}

/// Logs a provider API request and applies the first matching fault.
pub(crate) async fn log_and_fault(State(server): Shared, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let raw_path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    };
    let logged = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let fault = {
        let mut inner = server.lock();
        inner.requests.push(LoggedRequest { method: method.clone(), raw_path: raw_path.clone(), query, body: logged });
        inner.faults.take(&method, &raw_path)
    };
    if let Some(kind) = fault {
        return if is_webex(&raw_path) { webex::fault_response(kind) } else { zoom::fault_response(kind) };
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

async fn admin_fault(State(server): Shared, Json(fault): Json<Fault>) -> StatusCode {
    server.lock().faults.push(fault);
    StatusCode::NO_CONTENT
}

async fn admin_clear_faults(State(server): Shared) -> StatusCode {
    server.lock().faults.clear();
    StatusCode::NO_CONTENT
}

async fn admin_requests(State(server): Shared) -> Json<Vec<LoggedRequest>> {
    Json(server.lock().requests.clone())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockMove {
    advance_secs: i64,
}

async fn admin_clock(State(server): Shared, Json(m): Json<ClockMove>) -> StatusCode {
    server.lock().clock_offset += m.advance_secs;
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Seed {
    count: u32,
    start: i64,
    #[serde(default)]
    attendees_each: u32,
}

async fn admin_zoom_seed(State(server): Shared, Json(s): Json<Seed>) -> Json<Value> {
    let mut inner = server.lock();
    let now = inner.now();
    Json(json!({ "ids": inner.zoom.seed_past(s.count, s.start, s.attendees_each, now) }))
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`: Zoom's OAuth host (`https://zoom.us` for the real one),
    /// and with `/v1` Webex's API base (`https://webexapis.com/v1`).
    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn inject(&self, fault: Fault) {
        self.server.lock().faults.push(fault);
    }
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.server.lock().requests.clone()
    }
    pub fn clear_requests(&self) {
        self.server.lock().requests.clear();
    }
    pub fn advance_clock(&self, secs: i64) {
        self.server.lock().clock_offset += secs;
    }
    /// Tokens for the user without the browser flow: `(access, refresh)`.
    pub fn zoom_sign_in(&self) -> (String, String) {
        let mut inner = self.server.lock();
        let now = inner.now();
        inner.zoom.sign_in(now)
    }
    pub fn zoom_expire_tokens(&self) {
        self.server.lock().zoom.oauth.expire_all();
    }
    /// Every meeting the Zoom side holds now, in its `GET /meetings/{id}` form.
    pub fn zoom_meetings(&self) -> Vec<Value> {
        let inner = self.server.lock();
        inner.zoom.meetings.values().map(|m| m.to_json()).collect()
    }
    /// Ends meeting `id` as if it was held: started at `started_at` (unix seconds) for
    /// `minutes`, attended by `attendees`, with a cloud recording when `recorded`.
    pub fn zoom_end(&self, id: u64, started_at: i64, minutes: u32, attendees: &[Attendee], recorded: bool) -> bool {
        self.server.lock().zoom.end(id, started_at, minutes, attendees, recorded)
    }
    /// Deletes meeting `id` as the host would on zoom.us.
    pub fn zoom_delete(&self, id: u64) -> bool {
        self.server.lock().zoom.meetings.remove(&id).is_some()
    }
    /// A meeting made outside Ringside (in the Zoom client), already held.
    pub fn zoom_add_past(&self, topic: &str, started_at: i64, minutes: u32, attendees: &[Attendee]) -> u64 {
        self.server.lock().zoom.add_past(topic, started_at, minutes, attendees)
    }
    /// Meetings created today so far against the daily limit.
    pub fn zoom_creates_today(&self) -> u32 {
        self.server.lock().zoom.creates_today
    }
    /// `n` past meetings made outside Ringside, for a benchmark: spread from `first_start`
    /// (unix seconds) to an hour ago, each attended by `attendees_each` people (the user
    /// and guests). Their meeting ids, oldest first.
    pub fn zoom_seed_past(&self, n: u32, first_start: i64, attendees_each: u32) -> Vec<u64> {
        let mut inner = self.server.lock();
        let now = inner.now();
        inner.zoom.seed_past(n, first_start, attendees_each, now)
    }

    /// Webex tokens for the user, with every scope, without the browser flow:
    /// `(access, refresh)`.
    pub fn webex_sign_in(&self) -> (String, String) {
        let mut inner = self.server.lock();
        let now = inner.now();
        inner.webex.sign_in(now)
    }
    pub fn webex_expire_tokens(&self) {
        self.server.lock().webex.oauth.expire_all();
    }
    /// Every meeting series the Webex side holds now, in its `GET /v1/meetings/{id}`
    /// form, by start.
    pub fn webex_meetings(&self) -> Vec<Value> {
        let inner = self.server.lock();
        inner.webex.all_series_json(inner.now())
    }
    /// Every held (or in-progress) meeting instance, in its `GET /v1/meetings/{id}` form,
    /// by start.
    pub fn webex_instances(&self) -> Vec<Value> {
        self.server.lock().webex.all_instances_json()
    }
    /// Starts series `series_id` now, as the host opening the start link does: the series
    /// is `inProgress` and an in-progress instance exists. The instance id.
    pub fn webex_start(&self, series_id: &str) -> Option<String> {
        let mut inner = self.server.lock();
        let now = inner.now();
        inner.webex.start(series_id, now)
    }
    /// Holds series `series_id`: an ended instance that began at `started_at` (unix
    /// seconds) and lasted `minutes`, attended by `attendees` (someone listed twice joined
    /// twice: one participant with two devices), with a recording when `recorded`. The
    /// series is then `expired`, as Webex shows a one-off meeting after it was held.
    pub fn webex_end(&self, series_id: &str, started_at: i64, minutes: u32, attendees: &[Attendee], recorded: bool) -> bool {
        self.server.lock().webex.end(series_id, started_at, minutes, attendees, recorded).is_some()
    }
    /// Deletes series `id` as the host would on Webex (its held instances stay).
    pub fn webex_delete(&self, id: &str) -> bool {
        self.server.lock().webex.series.remove(id).is_some()
    }
    /// A meeting scheduled and held outside Ringside, hosted by `host_email` (the user's
    /// own address, `rep@example.com`, or someone else's): a series and its ended
    /// instance. The instance id (`{seriesId}_I_{n}`).
    pub fn webex_add_past(&self, title: &str, started_at: i64, minutes: u32, attendees: &[Attendee], host_email: &str) -> String {
        self.server.lock().webex.add_past(title, started_at, minutes, attendees, host_email)
    }
    /// As [`RunningServer::zoom_seed_past`], on the Webex side: instance ids, oldest first.
    pub fn webex_seed_past(&self, n: u32, first_start: i64, attendees_each: u32) -> Vec<String> {
        let mut inner = self.server.lock();
        let now = inner.now();
        inner.webex.seed_past(n, first_start, attendees_each, now)
    }
    /// Webex meetings created today so far (counted against `daily_create_limit`).
    pub fn webex_creates_today(&self) -> u32 {
        self.server.lock().webex.creates_today
    }
    /// Serves until the task is stopped (for the binary).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}
