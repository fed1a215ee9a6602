//! Zoom- and Webex-compatible test servers for Ringside. The product talks to them
//! exactly as it talks to the real services — the same OAuth flow (authorization code
//! with PKCE, refresh-token rotation), the same request and response shapes, error
//! bodies, paging tokens and 429 answers — and only the base URL differs. Tests steer
//! them through [`RunningServer`]: end a meeting with participants and a recording,
//! delete one, add meetings made elsewhere, inject faults, expire tokens, move the
//! clock. See `README.md` in this crate for what is modelled.

mod state;
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
pub use zoom::{Attendee, ZoomConfig, ZOOM_CLIENT_ID};

/// The servers' state, behind one lock.
pub(crate) struct Inner {
    /// Seconds added to the real clock.
    pub clock_offset: i64,
    pub faults: state::FaultBook,
    pub requests: Vec<LoggedRequest>,
    pub zoom: zoom::Zoom,
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

/// A running server. Dropping it stops it.
pub struct RunningServer {
    server: Arc<Server>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub zoom: ZoomConfig,
}

/// Starts the servers on `127.0.0.1` with a free port.
pub async fn spawn(config: Config) -> RunningServer {
    spawn_on(config, ([127, 0, 0, 1], 0).into()).await.expect("binding 127.0.0.1:0 must work on any test machine")
}

pub async fn spawn_on(config: Config, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let base_url = format!("http://127.0.0.1:{}", addr.port());
    let server = Arc::new(Server {
        inner: Mutex::new(Inner {
            clock_offset: 0,
            faults: state::FaultBook::default(),
            requests: Vec::new(),
            zoom: zoom::Zoom::new(config.zoom, &base_url),
        }),
        base_url,
    });
    let app = router(server.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(RunningServer { server, addr, task })
}

fn router(server: Arc<Server>) -> Router {
    Router::new()
        .merge(zoom::routes(server.clone()))
        .route("/_admin/faults", post(admin_fault).delete(admin_clear_faults))
        .route("/_admin/requests", get(admin_requests))
        .route("/_admin/clock", post(admin_clock))
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(json!({"code": 404, "message": "Not found."}))) })
        .with_state(server)
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
        return zoom::fault_response(kind);
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

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`: Zoom's OAuth host (`https://zoom.us` for the real one).
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
    /// Serves until the task is stopped (for the binary).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}
