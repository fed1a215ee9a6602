//! The Zoom side: OAuth on `/oauth/*` (public client with PKCE: no secret, refresh
//! tokens rotated on every use, `api_url` in the token answer) and the REST API v2 on
//! `/v2/*` with Zoom's field names, enums, error bodies (`{"code", "message"}`, code 124
//! for tokens, 300 for invalid fields, 3001 for an unknown meeting, 3301 for no
//! recording), `next_page_token` paging and the daily meeting-create limit.
//!
//! Meeting UUIDs follow Zoom's rule: one that begins with `/` or holds `//` must be
//! double-encoded in a path. The server decodes a path's UUID once; if that leaves a
//! leading `/` or a `//`, the client encoded it only once and — as at Zoom — the
//! meeting is not found. Every other meeting this server makes has
//! such a UUID, so a client that forgets the rule fails on the second meeting.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, RawPathParams, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::state::{FaultKind, OAuthBook, TokenCheck};
use crate::{random_id, Inner, Server, Shared};

/// The public client id tests and the sandbox use.
pub const ZOOM_CLIENT_ID: &str = "ringsideZoomPublic01";
const USER_ID: &str = "KDcuGIm1QgePTO8WbOqwIQ";
const USER_EMAIL: &str = "rep@example.com";
/// The user's personal meeting ID.
const PMI: u64 = 5_551_234_567;
const MAX_PAGE_SIZE: usize = 300;

#[derive(Debug, Clone)]
pub struct ZoomConfig {
    pub client_id: String,
    pub token_lifetime_secs: i64,
    /// Meeting creates a user may make per UTC day (Zoom's limit is 100).
    pub daily_create_limit: u32,
    /// Zone names Zoom's list does not hold (refused with code 300).
    pub unknown_zones: Vec<String>,
}

impl Default for ZoomConfig {
    fn default() -> Self {
        ZoomConfig {
            client_id: ZOOM_CLIENT_ID.into(),
            token_lifetime_secs: 3_599,
            daily_create_limit: 100,
            unknown_zones: vec!["America/Ciudad_Juarez".into(), "Pacific/Kanton".into()],
        }
    }
}

/// Someone who attended a held meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Meeting {
    id: u64,
    uuid: String,
    topic: String,
    kind: u8,
    start_time: i64,
    duration: u32,
    timezone: String,
    agenda: String,
    created_at: i64,
    password: String,
    settings: Value,
    status: &'static str,
    base_url: String,
}

impl Meeting {
    fn join_url(&self) -> String {
        format!("{}/j/{}?pwd={}", self.base_url, self.id, URL_SAFE_NO_PAD.encode(self.password.as_bytes()))
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "id": self.id,
            "host_id": USER_ID,
            "host_email": USER_EMAIL,
            "topic": self.topic,
            "type": self.kind,
            "status": self.status,
            "start_time": fmt_utc(self.start_time),
            "duration": self.duration,
            "timezone": self.timezone,
            "agenda": self.agenda,
            "created_at": fmt_utc(self.created_at),
            "start_url": format!("{}/s/{}?zak={}", self.base_url, self.id, random_id(40)),
            "join_url": self.join_url(),
            "password": self.password,
            "pre_schedule": false,
            "settings": self.settings,
        })
    }

    fn list_json(&self) -> Value {
        json!({
            "uuid": self.uuid, "id": self.id, "host_id": USER_ID, "topic": self.topic, "type": self.kind,
            "start_time": fmt_utc(self.start_time), "duration": self.duration, "timezone": self.timezone,
            "created_at": fmt_utc(self.created_at), "join_url": self.join_url(),
        })
    }
}

/// One held meeting instance.
#[derive(Debug, Clone)]
pub(crate) struct Past {
    id: u64,
    uuid: String,
    topic: String,
    kind: u8,
    start: i64,
    minutes: u32,
    attendees: Vec<Attendee>,
    recorded: bool,
}

pub(crate) struct Zoom {
    config: ZoomConfig,
    base_url: String,
    pub oauth: OAuthBook,
    pub meetings: BTreeMap<u64, Meeting>,
    past: HashMap<String, Past>,
    made: u64,
    pub creates_today: u32,
    creates_day: i64,
}

impl Zoom {
    pub(crate) fn new(config: ZoomConfig, base_url: &str) -> Zoom {
        Zoom {
            config,
            base_url: base_url.to_string(),
            oauth: OAuthBook::default(),
            meetings: BTreeMap::new(),
            past: HashMap::new(),
            made: 0,
            creates_today: 0,
            creates_day: 0,
        }
    }

    pub(crate) fn sign_in(&mut self, now: i64) -> (String, String) {
        self.oauth.issue(now, self.config.token_lifetime_secs)
    }

    /// A new meeting number and UUID; every other UUID needs double encoding.
    fn new_ids(&mut self) -> (u64, String) {
        self.made += 1;
        let mut rng = rand::rng();
        let id = 80_000_000_000 + rng.random_range(0..9_999_999_999u64);
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        let mut uuid = STANDARD.encode(bytes);
        if self.made.is_multiple_of(2) {
            uuid.replace_range(0..1, "/");
            uuid.replace_range(5..7, "//");
        }
        (id, uuid)
    }

    pub(crate) fn end(&mut self, id: u64, started_at: i64, minutes: u32, attendees: &[Attendee], recorded: bool) -> bool {
        let Some(m) = self.meetings.get_mut(&id) else { return false };
        m.status = "waiting";
        let past = Past {
            id,
            uuid: m.uuid.clone(),
            topic: m.topic.clone(),
            kind: m.kind,
            start: started_at,
            minutes,
            attendees: attendees.to_vec(),
            recorded,
        };
        // An instant meeting is gone once it ends; a scheduled one can be started again.
        if m.kind == 1 {
            self.meetings.remove(&id);
        }
        self.past.insert(past.uuid.clone(), past);
        true
    }

    pub(crate) fn add_past(&mut self, topic: &str, started_at: i64, minutes: u32, attendees: &[Attendee]) -> u64 {
        let (id, uuid) = self.new_ids();
        self.past.insert(
            uuid.clone(),
            Past { id, uuid, topic: topic.into(), kind: 2, start: started_at, minutes, attendees: attendees.to_vec(), recorded: false },
        );
        id
    }

    /// `n` held meetings for a benchmark (see [`crate::seed_spacing`]). Their ids.
    pub(crate) fn seed_past(&mut self, n: u32, first_start: i64, attendees_each: u32, now: i64) -> Vec<u64> {
        let (step, minutes) = crate::seed_spacing(n, first_start, now);
        (0..n)
            .map(|i| {
                let people = crate::seed_attendees(i, attendees_each);
                self.add_past(&format!("Customer call {}", i + 1), first_start + i64::from(i) * step, minutes, &people)
            })
            .collect()
    }
}

pub(crate) fn fmt_utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

fn invalid_field(field: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "code": 300, "message": "Validation Failed.", "errors": [{ "field": field, "message": message }] })),
    )
        .into_response()
}

pub(crate) fn fault_response(kind: FaultKind) -> Response {
    match kind {
        FaultKind::RateLimited { retry_after } => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            );
            let h = r.headers_mut();
            h.insert("x-ratelimit-category", "Medium".parse().unwrap());
            h.insert("x-ratelimit-type", "QPS".parse().unwrap());
            if let Some(s) = retry_after {
                h.insert(header::RETRY_AFTER, s.to_string().parse().unwrap());
            }
            r
        }
        FaultKind::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, 500, "Internal Error."),
        FaultKind::HtmlGateway => (
            StatusCode::BAD_GATEWAY,
            Html("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"),
        )
            .into_response(),
        FaultKind::ExpiredToken => error(StatusCode::UNAUTHORIZED, 124, "Access token is expired."),
    }
}

pub(crate) fn routes(server: Arc<Server>) -> Router<Arc<Server>> {
    let api = Router::new()
        .route("/v2/users/me", get(me))
        .route("/v2/users/me/meetings", post(create).get(list))
        .route("/v2/meetings/{id}", get(read).delete(delete).patch(update))
        .route("/v2/meetings/{uuid}/recordings", get(recordings))
        .route("/v2/past_meetings/{uuid}", get(past))
        .route("/v2/past_meetings/{uuid}/participants", get(participants))
        .layer(axum::middleware::from_fn_with_state(server.clone(), bearer))
        .layer(axum::middleware::from_fn_with_state(server, crate::log_and_fault));
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/s/{id}", get(host_start))
        .route("/j/{id}", get(join_page))
        .route("/_admin/zoom/meetings/{id}/end", post(admin_end))
        .route("/_admin/zoom/meetings/{id}", axum::routing::delete(admin_delete))
        .route("/_admin/zoom/expire-tokens", post(admin_expire))
        .merge(api)
}

// ---- OAuth ----

type Params = HashMap<String, String>;

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect();
    format!("{uri}{}{}", if uri.contains('?') { '&' } else { '?' }, q.join("&"))
}

fn is_loopback_redirect(uri: &str) -> bool {
    uri.starts_with("http://127.0.0.1:") || uri.starts_with("http://localhost:")
}

/// The consent step, approved at once (the user is always signed in to zoom.us here).
async fn authorize(State(server): Shared, Query(p): Query<Params>) -> Response {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let mut inner = server.lock();
    if get("client_id") != inner.zoom.config.client_id {
        return (StatusCode::BAD_REQUEST, Html("<h1>Invalid client_id: 4,700</h1>")).into_response();
    }
    let redirect_uri = get("redirect_uri");
    if !is_loopback_redirect(&redirect_uri) {
        return (StatusCode::BAD_REQUEST, Html("<h1>Invalid redirect: 4,700</h1>")).into_response();
    }
    let state = get("state");
    if get("response_type") != "code" || get("code_challenge_method") != "S256" || get("code_challenge").len() < 43 {
        let to = with_query(&redirect_uri, &[("error", "invalid_request"), ("state", &state)]);
        return (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
    }
    let code = random_id(32);
    let now = inner.now();
    inner.zoom.oauth.codes.insert(
        code.clone(),
        crate::state::Grant { client_id: get("client_id"), redirect_uri: redirect_uri.clone(), challenge: get("code_challenge"), issued_at: now },
    );
    let to = with_query(&redirect_uri, &[("code", &code), ("state", &state)]);
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

fn token_error(error: &str, reason: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "reason": reason, "error": error }))).into_response()
}

async fn token(State(server): Shared, headers: HeaderMap, Form(p): Form<Params>) -> Response {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    if headers.contains_key(header::AUTHORIZATION) {
        // A public client has no secret; Basic auth with one belongs to another app type.
        return token_error("invalid_client", "Invalid client_id or client_secret");
    }
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let zoom = &mut inner.zoom;
    if get("client_id") != zoom.config.client_id {
        return token_error("invalid_client", "Invalid client_id or client_secret");
    }
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some(grant) = zoom.oauth.codes.remove(&get("code")) else {
                return token_error("invalid_grant", "Invalid authorization code");
            };
            if now - grant.issued_at > 300 || grant.client_id != get("client_id") {
                return token_error("invalid_grant", "Invalid authorization code");
            }
            if grant.redirect_uri != get("redirect_uri") {
                return token_error("invalid_grant", "Redirect URI mismatch.");
            }
            if URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes())) != grant.challenge {
                return token_error("invalid_grant", "Invalid code_verifier");
            }
        }
        "refresh_token" => {
            if zoom.oauth.refresh.remove(&get("refresh_token")).is_none() {
                return token_error("invalid_grant", "Invalid Token!");
            }
        }
        other => return token_error("unsupported_grant_type", &format!("Unsupported grant type: {other}")),
    }
    let (access, refresh) = zoom.sign_in(now);
    Json(json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": zoom.config.token_lifetime_secs,
        "scope": "meeting:read meeting:write user:read recording:read",
        "api_url": zoom.base_url,
    }))
    .into_response()
}

async fn revoke(State(server): Shared, Query(q): Query<Params>, Form(f): Form<Params>) -> Response {
    let token = q.get("token").or(f.get("token")).cloned().unwrap_or_default();
    server.lock().zoom.oauth.revoke(&token);
    Json(json!({ "status": "success" })).into_response()
}

async fn bearer(State(server): Shared, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let check = {
        let inner = server.lock();
        inner.zoom.oauth.check(&token, inner.now())
    };
    match check {
        TokenCheck::Valid => next.run(request).await,
        TokenCheck::Expired => error(StatusCode::UNAUTHORIZED, 124, "Access token is expired."),
        TokenCheck::Invalid => error(StatusCode::UNAUTHORIZED, 124, "Invalid access token."),
    }
}

// ---- API ----

async fn me(State(server): Shared) -> Json<Value> {
    let _ = server;
    Json(json!({
        "id": USER_ID, "first_name": "Rita", "last_name": "Rep", "email": USER_EMAIL, "type": 2,
        "pmi": PMI, "timezone": "Europe/Paris", "account_id": "acct-ringside-test",
    }))
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    topic: Option<String>,
    #[serde(rename = "type", default = "two")]
    kind: u8,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    duration: Option<i64>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    agenda: Option<String>,
    #[serde(default)]
    settings: Option<Value>,
}

fn two() -> u8 {
    2
}

/// `2027-03-28T10:00:00Z` (UTC) or `2027-03-28T10:00:00` (in `zone`).
fn parse_start(text: &str, zone: chrono_tz::Tz) -> Option<i64> {
    if let Some(utc) = text.strip_suffix('Z') {
        return chrono::NaiveDateTime::parse_from_str(utc, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.and_utc().timestamp());
    }
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()?;
    local.and_local_timezone(zone).earliest().map(|t| t.timestamp())
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !e.contains(' ')
}

async fn create(State(server): Shared, body: Option<Json<Value>>) -> Response {
    let Some(Json(raw)) = body else {
        return error(StatusCode::BAD_REQUEST, 300, "Request Body should be a valid JSON object.");
    };
    let Ok(b) = serde_json::from_value::<CreateBody>(raw) else {
        return error(StatusCode::BAD_REQUEST, 300, "Request Body should be a valid JSON object.");
    };
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let zoom = &mut inner.zoom;
    let day = now.div_euclid(86_400);
    if zoom.creates_day != day {
        zoom.creates_day = day;
        zoom.creates_today = 0;
    }
    if zoom.creates_today >= zoom.config.daily_create_limit {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            429,
            &format!(
                "You have exceeded the daily rate limit ({}) of Create a meeting API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.",
                zoom.config.daily_create_limit
            ),
        );
        r.headers_mut().insert("x-ratelimit-type", "Daily-limit".parse().unwrap());
        return r;
    }
    if ![1, 2, 3, 8].contains(&b.kind) {
        return invalid_field("type", "Invalid field.");
    }
    let topic = b.topic.unwrap_or_else(|| "Zoom meeting".into());
    if topic.chars().count() > 200 {
        return invalid_field("topic", "Topic can be up to 200 characters.");
    }
    let agenda = b.agenda.unwrap_or_default();
    if agenda.chars().count() > 2_000 {
        return invalid_field("agenda", "Agenda can be up to 2000 characters.");
    }
    let timezone = b.timezone.unwrap_or_else(|| "Europe/Paris".into());
    let zone = match timezone.parse::<chrono_tz::Tz>() {
        Ok(z) if !zoom.config.unknown_zones.contains(&timezone) => z,
        _ => return invalid_field("timezone", &format!("Invalid timezone: {timezone}")),
    };
    let start_time = match (b.kind, b.start_time.as_deref()) {
        (1, _) => now,
        (_, Some(t)) => match parse_start(t, zone) {
            Some(s) => s,
            None => return invalid_field("start_time", "Invalid start_time."),
        },
        (_, None) => now,
    };
    let duration = match b.duration {
        None => 60,
        Some(d) if (1..=i64::from(u32::MAX)).contains(&d) => d as u32,
        Some(_) => return invalid_field("duration", "Invalid duration."),
    };
    let mut settings = json!({
        "host_video": false, "participant_video": false, "join_before_host": false, "jbh_time": 0,
        "waiting_room": true, "use_pmi": false, "mute_upon_entry": false, "approval_type": 2,
        "audio": "both", "auto_recording": "none", "meeting_invitees": [],
    });
    if let Some(Value::Object(given)) = b.settings {
        for (k, v) in given {
            settings[k] = v;
        }
    }
    if let Some(list) = settings["meeting_invitees"].as_array() {
        for i in list {
            let email = i["email"].as_str().unwrap_or_default();
            if !valid_email(email) {
                return invalid_field("settings.meeting_invitees.email", &format!("Invalid email: {email}"));
            }
        }
    }
    let use_pmi = settings["use_pmi"].as_bool().unwrap_or(false);
    let (mut id, uuid) = zoom.new_ids();
    if use_pmi && b.kind != 1 {
        id = PMI;
    }
    let meeting = Meeting {
        id,
        uuid,
        topic,
        kind: b.kind,
        start_time,
        duration,
        timezone,
        agenda,
        created_at: now,
        password: random_id(6),
        settings,
        status: if b.kind == 1 { "started" } else { "waiting" },
        base_url: zoom.base_url.clone(),
    };
    zoom.creates_today += 1;
    let answer = meeting.to_json();
    zoom.meetings.insert(id, meeting);
    (StatusCode::CREATED, Json(answer)).into_response()
}

fn page_size(p: &Params) -> Result<usize, Response> {
    match p.get("page_size").map(|s| s.parse::<usize>()) {
        None => Ok(30),
        Some(Ok(n)) if n >= 1 => Ok(n.min(MAX_PAGE_SIZE)),
        _ => Err(invalid_field("page_size", "Invalid field.")),
    }
}

/// `next_page_token` is an opaque string: here the offset, base64-wrapped.
fn page_start(p: &Params) -> Result<usize, Response> {
    match p.get("next_page_token").filter(|t| !t.is_empty()) {
        None => Ok(0),
        Some(t) => STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("off:").and_then(|n| n.parse().ok()))
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, 300, "The next page token is invalid or expired.")),
    }
}

fn next_token(start: usize, size: usize, total: usize) -> String {
    if start + size < total {
        STANDARD.encode(format!("off:{}", start + size))
    } else {
        String::new()
    }
}

fn day_bound(p: &Params, key: &str) -> Result<Option<i64>, Response> {
    match p.get(key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp()))
            .map_err(|_| invalid_field(key, "Invalid field.")),
    }
}

async fn list(State(server): Shared, Query(p): Query<Params>) -> Response {
    let (size, start) = match (page_size(&p), page_start(&p)) {
        (Ok(s), Ok(o)) => (s, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let (from, to) = match (day_bound(&p, "from"), day_bound(&p, "to")) {
        (Ok(f), Ok(t)) => (f, t.map(|t| t + 86_400)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let kind = p.get("type").map(String::as_str).unwrap_or("scheduled");
    let inner = server.lock();
    let now = inner.now();
    let within = |t: i64| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e);
    let mut rows: Vec<(i64, Value)> = match kind {
        "previous_meetings" => inner
            .zoom
            .past
            .values()
            .filter(|m| within(m.start))
            .map(|m| {
                (
                    m.start,
                    json!({
                        "uuid": m.uuid, "id": m.id, "host_id": USER_ID, "topic": m.topic, "type": m.kind,
                        "start_time": fmt_utc(m.start), "duration": m.minutes, "timezone": "UTC",
                        "created_at": fmt_utc(m.start), "join_url": format!("{}/j/{}", inner.zoom.base_url, m.id),
                    }),
                )
            })
            .collect(),
        "scheduled" | "upcoming" | "upcoming_meetings" | "live" => inner
            .zoom
            .meetings
            .values()
            .filter(|m| match kind {
                "live" => m.status == "started",
                "scheduled" => m.kind != 1,
                _ => m.start_time + i64::from(m.duration) * 60 >= now,
            })
            .filter(|m| within(m.start_time))
            .map(|m| (m.start_time, m.list_json()))
            .collect(),
        _ => return invalid_field("type", "Invalid field."),
    };
    rows.sort_by_key(|(t, _)| *t);
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(start).take(size).map(|(_, v)| v).collect();
    Json(json!({
        "page_size": size,
        "total_records": total,
        "next_page_token": next_token(start, size, total),
        "meetings": page,
    }))
    .into_response()
}

fn meeting_number(id: &str) -> Result<u64, Response> {
    id.parse::<u64>().map_err(|_| error(StatusCode::NOT_FOUND, 3001, &format!("Meeting does not exist: {id}.")))
}

async fn read(State(server): Shared, Path(id): Path<String>) -> Response {
    let n = match meeting_number(&id) {
        Ok(n) => n,
        Err(r) => return r,
    };
    match server.lock().zoom.meetings.get(&n) {
        Some(m) => Json(m.to_json()).into_response(),
        None => error(StatusCode::NOT_FOUND, 3001, &format!("Meeting does not exist: {id}.")),
    }
}

async fn update(State(server): Shared, Path(id): Path<String>, Json(b): Json<Value>) -> Response {
    let n = match meeting_number(&id) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let mut inner = server.lock();
    let Some(m) = inner.zoom.meetings.get_mut(&n) else {
        return error(StatusCode::NOT_FOUND, 3001, &format!("Meeting does not exist: {id}."));
    };
    if let Some(t) = b["topic"].as_str() {
        m.topic = t.to_string();
    }
    if let Some(d) = b["duration"].as_u64() {
        m.duration = d as u32;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete(State(server): Shared, Path(id): Path<String>) -> Response {
    let n = match meeting_number(&id) {
        Ok(n) => n,
        Err(r) => return r,
    };
    match server.lock().zoom.meetings.remove(&n) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, 3001, &format!("Meeting does not exist: {id}.")),
    }
}

/// The UUID in a path, by Zoom's rule (see the module comment); `None` when the client
/// encoded once a UUID that begins with `/` or holds `//`.
fn path_uuid(raw: &RawPathParams) -> Option<String> {
    // The router hands the segment over decoded once already.
    let (_, once) = raw.iter().find(|(k, _)| *k == "uuid")?;
    if once.contains('%') {
        return Some(percent_encoding::percent_decode_str(once).decode_utf8().ok()?.into_owned());
    }
    (!(once.starts_with('/') || once.contains("//"))).then(|| once.to_string())
}

fn find_past<'a>(inner: &'a Inner, raw: &RawPathParams) -> Result<&'a Past, Response> {
    let uuid = path_uuid(raw).unwrap_or_default();
    // A meeting number reads its latest instance.
    let found = inner.zoom.past.get(&uuid).or_else(|| {
        uuid.parse::<u64>().ok().and_then(|n| inner.zoom.past.values().filter(|p| p.id == n).max_by_key(|p| p.start))
    });
    found.ok_or_else(|| error(StatusCode::NOT_FOUND, 3001, "Meeting does not exist or has not ended yet."))
}

async fn past(State(server): Shared, raw: RawPathParams) -> Response {
    let inner = server.lock();
    let p = match find_past(&inner, &raw) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let end = p.start + i64::from(p.minutes) * 60;
    Json(json!({
        "uuid": p.uuid, "id": p.id, "host_id": USER_ID, "type": p.kind, "topic": p.topic,
        "user_name": "Rita Rep", "user_email": USER_EMAIL,
        "start_time": fmt_utc(p.start), "end_time": fmt_utc(end), "duration": p.minutes,
        "total_minutes": p.minutes * p.attendees.len().max(1) as u32, "participants_count": p.attendees.len(),
        "dept": "", "source": "Zoom",
    }))
    .into_response()
}

async fn participants(State(server): Shared, raw: RawPathParams, Query(q): Query<Params>) -> Response {
    let (size, start) = match (page_size(&q), page_start(&q)) {
        (Ok(s), Ok(o)) => (s, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let inner = server.lock();
    let p = match find_past(&inner, &raw) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let total = p.attendees.len();
    let rows: Vec<Value> = p
        .attendees
        .iter()
        .enumerate()
        .skip(start)
        .take(size)
        .map(|(i, a)| json!({ "id": format!("p{i:04}"), "name": a.name, "user_email": a.email.clone().unwrap_or_default() }))
        .collect();
    Json(json!({
        "page_count": total.div_ceil(size).max(1),
        "page_size": size,
        "total_records": total,
        "next_page_token": next_token(start, size, total),
        "participants": rows,
    }))
    .into_response()
}

async fn recordings(State(server): Shared, raw: RawPathParams) -> Response {
    let inner = server.lock();
    let p = match find_past(&inner, &raw) {
        Ok(p) if p.recorded => p,
        _ => return error(StatusCode::NOT_FOUND, 3301, "This recording does not exist."),
    };
    let base = &inner.zoom.base_url;
    let end = p.start + i64::from(p.minutes) * 60;
    Json(json!({
        "uuid": p.uuid, "id": p.id, "host_id": USER_ID, "topic": p.topic, "type": p.kind,
        "start_time": fmt_utc(p.start), "duration": p.minutes, "total_size": 52_428_800, "recording_count": 1,
        "share_url": format!("{base}/rec/share/{}", p.id),
        "recording_files": [{
            "id": format!("rf-{}", p.id), "meeting_id": p.uuid, "recording_start": fmt_utc(p.start),
            "recording_end": fmt_utc(end), "file_type": "MP4", "file_extension": "MP4", "file_size": 52_428_800,
            "play_url": format!("{base}/rec/play/{}", p.id), "download_url": format!("{base}/rec/download/{}", p.id),
            "status": "completed", "recording_type": "shared_screen_with_speaker_view",
        }],
    }))
    .into_response()
}

// ---- Pages a browser opens ----

async fn host_start(State(server): Shared, Path(id): Path<String>) -> Response {
    if let Ok(n) = id.parse::<u64>() {
        if let Some(m) = server.lock().zoom.meetings.get_mut(&n) {
            m.status = "started";
        }
    }
    Html(format!("<!doctype html><title>Zoom</title><h1>Starting meeting {id}</h1>")).into_response()
}

async fn join_page(Path(id): Path<String>) -> Html<String> {
    Html(format!("<!doctype html><title>Zoom</title><h1>Join meeting {id}</h1>"))
}

// ---- Admin ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndBody {
    #[serde(default)]
    started_at: Option<i64>,
    #[serde(default = "thirty")]
    minutes: u32,
    #[serde(default)]
    attendees: Vec<Attendee>,
    #[serde(default)]
    recorded: bool,
}

fn thirty() -> u32 {
    30
}

async fn admin_end(State(server): Shared, Path(id): Path<u64>, Json(b): Json<EndBody>) -> StatusCode {
    let mut inner = server.lock();
    let now = inner.now();
    let start = b.started_at.unwrap_or(now - i64::from(b.minutes) * 60);
    if inner.zoom.end(id, start, b.minutes, &b.attendees, b.recorded) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn admin_delete(State(server): Shared, Path(id): Path<u64>) -> StatusCode {
    match server.lock().zoom.meetings.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

async fn admin_expire(State(server): Shared) -> StatusCode {
    server.lock().zoom.oauth.expire_all();
    StatusCode::NO_CONTENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_start_is_read_in_its_zone_and_a_z_one_in_utc() {
        assert_eq!(parse_start("2027-03-28T10:00:00Z", chrono_tz::UTC), Some(1_806_228_000));
        assert_eq!(parse_start("2027-03-28T10:00:00", chrono_tz::Europe::Paris), Some(1_806_220_800));
        assert_eq!(parse_start("28/03/2027 10:00", chrono_tz::UTC), None);
    }

    #[test]
    fn every_other_uuid_needs_double_encoding() {
        let mut z = Zoom::new(ZoomConfig::default(), "http://x");
        let (_, a) = z.new_ids();
        let (_, b) = z.new_ids();
        assert!(b.starts_with('/') && b.contains("//"), "{b}");
        assert_ne!(a, b);
    }
}
