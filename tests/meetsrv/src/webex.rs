//! The Webex side, on `/v1/*` as at `https://webexapis.com/v1`: OAuth for an integration
//! (`/v1/authorize`, `/v1/access_token`: authorization code with PKCE S256 and a loopback
//! redirect; a refresh answers a new access token and the *same* refresh token, as Webex
//! does not rotate them) and the REST API with Webex's camelCase fields, its three kinds
//! of meeting object (series, scheduled meeting, held instance) and their states, its
//! error body (`{"message", "errors": [{"description"}], "trackingId"}`), RFC 5988 `Link`
//! paging (`max` ≤ 100) and `Retry-After` on every 429.
//!
//! A meeting made here is a series with one occurrence (no recurrence). It is held — by a
//! test through [`crate::RunningServer::webex_end`], or by opening its start link — as an
//! instance `{seriesId}_I_{n}`; participants and recordings are read with that id. Its
//! one scheduled occurrence is `{seriesId}_{start as YYYYMMDDTHHMMSSZ}`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono_tz::Tz;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng as _;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::state::{FaultKind, Grant, OAuthBook, TokenCheck};
use crate::zoom::{fmt_utc, Attendee};
use crate::{random_id, Inner, Server, Shared};

/// The integration's client id tests and the sandbox use.
pub const WEBEX_CLIENT_ID: &str = "C0ringsideWebexIntegration01";
/// The integration's client secret. Sending it is optional (see the README); when sent it
/// must be this one.
pub const WEBEX_CLIENT_SECRET: &str = "ringsideWebexSecret7f3a9c1e5b2d";
const USER_EMAIL: &str = "rep@example.com";
const USER_FIRST: &str = "Rita";
const USER_LAST: &str = "Rep";
const USER_ZONE: &str = "Europe/Paris";
const SITE_URL: &str = "ringside-test.webex.com";
const ORG_UUID: &str = "6f1c0a52-3d3e-4b43-9a8e-0b7c2f1d9e41";
/// What [`crate::RunningServer::webex_sign_in`] grants.
const ALL_SCOPES: &str =
    "spark:people_read meeting:schedules_read meeting:schedules_write meeting:participants_read meeting:recordings_read";
const DEFAULT_MAX: usize = 10;
const MAX_MAX: usize = 100;
const WEEK: i64 = 7 * 86_400;
const UNAUTHORIZED: &str = "The request requires a valid access token set in the Authorization request header.";
const NOT_FOUND: &str = "The requested resource could not be found.";

#[derive(Debug, Clone)]
pub struct WebexConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Redirect URIs registered on the integration, matched exactly; when empty, any
    /// loopback URI (`http://127.0.0.1:…`, `http://localhost:…`, `http://[::1]:…`) is taken.
    pub redirect_uris: Vec<String>,
    /// Access-token lifetime (Webex: 14 days).
    pub token_lifetime_secs: i64,
    /// Refresh-token lifetime (Webex: 90 days).
    pub refresh_lifetime_secs: i64,
    /// Meetings the user may create per UTC day; `None` for no limit.
    pub daily_create_limit: Option<u32>,
}

impl Default for WebexConfig {
    fn default() -> Self {
        WebexConfig {
            client_id: WEBEX_CLIENT_ID.into(),
            client_secret: WEBEX_CLIENT_SECRET.into(),
            redirect_uris: Vec::new(),
            token_lifetime_secs: 1_209_600,
            refresh_lifetime_secs: 7_776_000,
            daily_create_limit: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Host {
    id: String,
    name: String,
    email: String,
}

impl Host {
    fn user() -> Host {
        Host { id: person_id(USER_EMAIL), name: format!("{USER_FIRST} {USER_LAST}"), email: USER_EMAIL.into() }
    }
}

#[derive(Debug, Clone)]
struct Invitee {
    email: String,
    co_host: bool,
}

/// A meeting series (here always one occurrence).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    id: String,
    number: String,
    title: String,
    agenda: String,
    password: String,
    phone_password: String,
    host_key: String,
    timezone: String,
    zone: Tz,
    start: i64,
    end: i64,
    host: Host,
    invitees: Vec<Invitee>,
    join_before_host: bool,
    join_before_host_minutes: u32,
    auto_record: bool,
    /// The instance being held now.
    live: Option<String>,
    /// How many times it was held.
    held: u32,
}

impl Series {
    /// `inProgress` while held, `expired` once its only occurrence was held or its end
    /// has passed, `active` before.
    fn state(&self, now: i64) -> &'static str {
        if self.live.is_some() {
            "inProgress"
        } else if self.held > 0 || now >= self.end {
            "expired"
        } else {
            "active"
        }
    }

    fn scheduled_state(&self, now: i64) -> &'static str {
        if self.live.is_some() {
            "inProgress"
        } else if self.held > 0 {
            "ended"
        } else if now >= self.end {
            "missed"
        } else if now >= self.start - 15 * 60 {
            "ready"
        } else {
            "scheduled"
        }
    }

    fn scheduled_id(&self) -> String {
        format!("{}_{}", self.id, compact_utc(self.start))
    }
}

/// A held (or being held) meeting. It outlives its series' deletion, as history does.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    id: String,
    series_id: String,
    scheduled_id: String,
    number: String,
    title: String,
    agenda: String,
    password: String,
    timezone: String,
    zone: Tz,
    start: i64,
    /// `None` while in progress.
    end: Option<i64>,
    host: Host,
    invitees: Vec<Invitee>,
    attendees: Vec<Attendee>,
    recording: Option<String>,
    auto_record: bool,
}

enum Found<'a> {
    Series(&'a Series),
    Scheduled(&'a Series),
    Instance(&'a Instance),
}

pub(crate) struct Webex {
    config: WebexConfig,
    base_url: String,
    pub oauth: OAuthBook,
    /// Scope granted to each code, access token and refresh token.
    scopes: HashMap<String, String>,
    pub series: HashMap<String, Series>,
    pub instances: HashMap<String, Instance>,
    numbers: HashSet<String>,
    /// Host start-link credentials: token → (series id, expiry).
    start_tokens: HashMap<String, (String, i64)>,
    pub creates_today: u32,
    creates_day: i64,
}

impl Webex {
    pub(crate) fn new(config: WebexConfig, base_url: &str) -> Webex {
        Webex {
            config,
            base_url: base_url.to_string(),
            oauth: OAuthBook::default(),
            scopes: HashMap::new(),
            series: HashMap::new(),
            instances: HashMap::new(),
            numbers: HashSet::new(),
            start_tokens: HashMap::new(),
            creates_today: 0,
            creates_day: 0,
        }
    }

    fn issue(&mut self, now: i64, scope: &str) -> (String, String) {
        let access = self.oauth.issue_access(now, self.config.token_lifetime_secs);
        let refresh = self.oauth.issue_refresh(now + self.config.refresh_lifetime_secs);
        self.scopes.insert(access.clone(), scope.to_string());
        self.scopes.insert(refresh.clone(), scope.to_string());
        (access, refresh)
    }

    /// Tokens with every scope, without the browser flow.
    pub(crate) fn sign_in(&mut self, now: i64) -> (String, String) {
        self.issue(now, ALL_SCOPES)
    }

    /// A new series id (32 hex digits) and an unused 11-digit meeting number.
    fn new_series_ids(&mut self) -> (String, String) {
        let mut rng = rand::rng();
        let id = hex(&rng.random::<[u8; 16]>());
        loop {
            let number = format!("2{:010}", rng.random_range(5_000_000_000u64..10_000_000_000));
            if self.numbers.insert(number.clone()) {
                return (id, number);
            }
        }
    }

    fn new_instance_id(&self, series_id: &str) -> String {
        let mut rng = rand::rng();
        loop {
            let id = format!("{series_id}_I_{}", rng.random_range(100_000_000_000_000_000u64..1_000_000_000_000_000_000));
            if !self.instances.contains_key(&id) {
                return id;
            }
        }
    }

    fn web_link(&self, series_id: &str) -> String {
        format!("{}/webex/m/{series_id}", self.base_url)
    }

    fn find(&self, id: &str) -> Option<Found<'_>> {
        if let Some(i) = self.instances.get(id) {
            return Some(Found::Instance(i));
        }
        if let Some(s) = self.series.get(id) {
            return Some(Found::Series(s));
        }
        let (series_id, rest) = id.split_once('_')?;
        let s = self.series.get(series_id)?;
        (!rest.starts_with("I_") && s.scheduled_id() == id).then_some(Found::Scheduled(s))
    }

    /// The series a series, scheduled-meeting or instance id belongs to.
    fn series_of(&self, id: &str) -> Option<&Series> {
        match self.find(id)? {
            Found::Series(s) | Found::Scheduled(s) => Some(s),
            Found::Instance(i) => self.series.get(&i.series_id),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_series(
        &mut self,
        title: &str,
        agenda: &str,
        timezone: &str,
        zone: Tz,
        start: i64,
        end: i64,
        host: Host,
        password: Option<String>,
    ) -> String {
        let (id, number) = self.new_series_ids();
        let mut rng = rand::rng();
        let password = password
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| format!("{}{}", random_id(6), rng.random_range(10..100)));
        let series = Series {
            id: id.clone(),
            number,
            title: title.into(),
            agenda: agenda.into(),
            phone_password: format!("{:08}", rng.random_range(0..100_000_000u32)),
            password,
            host_key: format!("{:06}", rng.random_range(0..1_000_000u32)),
            timezone: timezone.into(),
            zone,
            start,
            end,
            host,
            invitees: Vec::new(),
            join_before_host: false,
            join_before_host_minutes: 0,
            auto_record: false,
            live: None,
            held: 0,
        };
        self.series.insert(id.clone(), series);
        id
    }

    fn new_instance(&self, s: &Series, id: String, start: i64) -> Instance {
        Instance {
            id,
            series_id: s.id.clone(),
            scheduled_id: s.scheduled_id(),
            number: s.number.clone(),
            title: s.title.clone(),
            agenda: s.agenda.clone(),
            password: s.password.clone(),
            timezone: s.timezone.clone(),
            zone: s.zone,
            start,
            end: None,
            host: s.host.clone(),
            invitees: s.invitees.clone(),
            attendees: Vec::new(),
            recording: None,
            auto_record: s.auto_record,
        }
    }

    /// Starts series `series_id` at `now` (the host opened the start link): the series is
    /// `inProgress` and an in-progress instance exists. Its id, or `None` when unknown.
    pub(crate) fn start(&mut self, series_id: &str, now: i64) -> Option<String> {
        let s = self.series.get(series_id)?;
        if let Some(live) = &s.live {
            return Some(live.clone());
        }
        let id = self.new_instance_id(series_id);
        let instance = self.new_instance(s, id.clone(), now);
        self.instances.insert(id.clone(), instance);
        self.series.get_mut(series_id)?.live = Some(id.clone());
        Some(id)
    }

    /// Holds series `series_id`: an ended instance that began at `started_at` and lasted
    /// `minutes`, attended by `attendees` (a person listed twice joined twice), recorded
    /// when `recorded`. Finishes the in-progress instance if the series was started.
    pub(crate) fn end(&mut self, series_id: &str, started_at: i64, minutes: u32, attendees: &[Attendee], recorded: bool) -> Option<String> {
        let s = self.series.get(series_id)?;
        let mut instance = match &s.live {
            Some(live) => self.instances.remove(live)?,
            None => self.new_instance(s, self.new_instance_id(series_id), started_at),
        };
        instance.start = started_at;
        instance.end = Some(started_at + i64::from(minutes) * 60);
        instance.attendees = attendees.to_vec();
        instance.recording = recorded.then(|| hex(&rand::rng().random::<[u8; 16]>()));
        let id = instance.id.clone();
        self.instances.insert(id.clone(), instance);
        let s = self.series.get_mut(series_id)?;
        s.live = None;
        s.held += 1;
        Some(id)
    }

    /// A meeting scheduled and held outside Ringside, hosted by `host_email`: a series and
    /// its ended instance. Answers the instance id.
    pub(crate) fn add_past(&mut self, title: &str, started_at: i64, minutes: u32, attendees: &[Attendee], host_email: &str) -> String {
        let host = if host_email.is_empty() || host_email.eq_ignore_ascii_case(USER_EMAIL) {
            Host::user()
        } else {
            let name = attendees
                .iter()
                .find(|a| a.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(host_email)))
                .map(|a| a.name.clone())
                .unwrap_or_else(|| host_email.split('@').next().unwrap_or(host_email).to_string());
            Host { id: person_id(host_email), name, email: host_email.to_string() }
        };
        let end = started_at + i64::from(minutes) * 60;
        let zone: Tz = USER_ZONE.parse().unwrap_or(chrono_tz::UTC);
        let series_id = self.add_series(title, "", USER_ZONE, zone, started_at, end, host, None);
        self.end(&series_id, started_at, minutes, attendees, false).unwrap_or_default()
    }

    /// `n` held meetings for a benchmark (see [`crate::seed_spacing`]). Instance ids.
    pub(crate) fn seed_past(&mut self, n: u32, first_start: i64, attendees_each: u32, now: i64) -> Vec<String> {
        let (step, minutes) = crate::seed_spacing(n, first_start, now);
        (0..n)
            .map(|i| {
                let people = crate::seed_attendees(i, attendees_each);
                self.add_past(&format!("Customer call {}", i + 1), first_start + i64::from(i) * step, minutes, &people, USER_EMAIL)
            })
            .collect()
    }

    // ---- JSON ----

    fn common_json(&self, series_id: &str, number: &str, host: &Host, zone_name: &str) -> Value {
        json!({
            "meetingNumber": number,
            "timezone": zone_name,
            "hostUserId": host.id,
            "hostDisplayName": host.name,
            "hostEmail": host.email,
            "siteUrl": SITE_URL,
            "webLink": self.web_link(series_id),
            "sipAddress": format!("{number}@{SITE_URL}"),
            "dialInIpAddress": "192.0.2.68",
            "scheduledType": "meeting",
            "telephony": {
                "accessCode": number,
                "callInNumbers": [{ "label": "Call-in toll number (US/Canada)", "callInNumber": "+1-555-010-0002", "tollType": "toll" }],
            },
        })
    }

    pub(crate) fn series_json(&self, s: &Series, shown: Option<Tz>, now: i64) -> Value {
        let zone = shown.unwrap_or(s.zone);
        let mut v = self.common_json(&s.id, &s.number, &s.host, &s.timezone);
        merge(
            &mut v,
            json!({
                "id": s.id,
                "title": s.title,
                "agenda": s.agenda,
                "password": s.password,
                "phoneAndVideoSystemPassword": s.phone_password,
                "meetingType": "meetingSeries",
                "state": s.state(now),
                "start": fmt_zoned(s.start, zone),
                "end": fmt_zoned(s.end, zone),
                "hostKey": s.host_key,
                "enabledAutoRecordMeeting": s.auto_record,
                "allowAnyUserToBeCoHost": false,
                "enabledJoinBeforeHost": s.join_before_host,
                "enableConnectAudioBeforeHost": false,
                "joinBeforeHostMinutes": s.join_before_host_minutes,
                "excludePassword": false,
                "publicMeeting": false,
                "reminderTime": 10,
                "sessionTypeId": 3,
                "enabledWebcastView": false,
                "enableAutomaticLock": false,
            }),
        );
        v
    }

    fn scheduled_json(&self, s: &Series, shown: Option<Tz>, now: i64) -> Value {
        let mut v = self.series_json(s, shown, now);
        merge(
            &mut v,
            json!({
                "id": s.scheduled_id(),
                "meetingSeriesId": s.id,
                "meetingType": "scheduledMeeting",
                "state": s.scheduled_state(now),
                "isModified": false,
            }),
        );
        v
    }

    pub(crate) fn instance_json(&self, i: &Instance, shown: Option<Tz>) -> Value {
        let zone = shown.unwrap_or(i.zone);
        let mut v = self.common_json(&i.series_id, &i.number, &i.host, &i.timezone);
        merge(
            &mut v,
            json!({
                "id": i.id,
                "meetingSeriesId": i.series_id,
                "scheduledMeetingId": i.scheduled_id,
                "title": i.title,
                "agenda": i.agenda,
                "password": i.password,
                "meetingType": "meeting",
                "state": if i.end.is_some() { "ended" } else { "inProgress" },
                "start": fmt_zoned(i.start, zone),
                "enabledAutoRecordMeeting": i.auto_record,
                "hasChat": false,
                "hasRecording": i.recording.is_some(),
                "hasTranscription": false,
                "hasClosedCaption": false,
                "hasPolls": false,
                "hasQA": false,
            }),
        );
        if let Some(end) = i.end {
            v["end"] = json!(fmt_zoned(end, zone));
        }
        v
    }

    fn recording_json(&self, i: &Instance, rec: &str) -> Value {
        let end = i.end.unwrap_or(i.start);
        let secs = end - i.start;
        json!({
            "id": rec,
            "meetingId": i.id,
            "scheduledMeetingId": i.scheduled_id,
            "meetingSeriesId": i.series_id,
            "topic": i.title,
            "createTime": fmt_utc(end + 120),
            "timeRecorded": fmt_utc(i.start),
            "siteUrl": SITE_URL,
            "hostEmail": i.host.email,
            "downloadUrl": format!("{}/webex/recordings/{rec}/download", self.base_url),
            "playbackUrl": format!("{}/webex/recordings/{rec}/playback", self.base_url),
            "password": "",
            "format": "MP4",
            "serviceType": "MeetingCenter",
            "durationSeconds": secs,
            "sizeBytes": secs * 60_000,
            "shareToMe": false,
            "status": "available",
        })
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

// ---- Participants ----

/// One person at a held meeting: every join of theirs is a device.
#[derive(Debug)]
struct Person<'a> {
    key: String,
    name: &'a str,
    email: Option<&'a str>,
    joins: Vec<(i64, i64)>,
}

/// The attendees of `i` as Webex lists them: one row per person (same email, or same
/// name for someone without one), each time they joined a device. A person listed `c`
/// times joined `c` times, in turn, over the meeting's span.
fn people(i: &Instance) -> Vec<Person<'_>> {
    let start = i.start;
    let span = i.end.unwrap_or(start) - start;
    let key = |a: &Attendee| match &a.email {
        Some(e) if !e.is_empty() => e.to_ascii_lowercase(),
        _ => format!("name:{}", a.name.to_lowercase()),
    };
    let mut count: HashMap<String, i64> = HashMap::new();
    for a in &i.attendees {
        *count.entry(key(a)).or_default() += 1;
    }
    let mut out: Vec<Person> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for a in &i.attendees {
        let k = key(a);
        let times = count[&k];
        let at = *index.entry(k.clone()).or_insert_with(|| {
            out.push(Person { key: k.clone(), name: &a.name, email: a.email.as_deref().filter(|e| !e.is_empty()), joins: Vec::new() });
            out.len() - 1
        });
        let n = out[at].joins.len() as i64;
        let joined = start + span * n / times;
        let left = if n + 1 < times { (start + span * (n + 1) / times - 60).max(joined) } else { start + span };
        out[at].joins.push((joined, left));
    }
    out
}

fn participant_json(i: &Instance, p: &Person) -> Value {
    let joined = p.joins.first().map_or(i.start, |j| j.0);
    let left = p.joins.iter().map(|j| j.1).max().unwrap_or(joined);
    let host = p.email.is_some_and(|e| e.eq_ignore_ascii_case(&i.host.email));
    let invited = p.email.and_then(|e| i.invitees.iter().find(|v| v.email.eq_ignore_ascii_case(e)));
    let devices: Vec<Value> = p
        .joins
        .iter()
        .enumerate()
        .map(|(n, (j, l))| {
            let device = ["mac", "iphone", "windows"][n % 3];
            json!({
                "correlationId": uuid_of(&format!("{}|{}|{n}", i.id, p.key)),
                "deviceType": device,
                "audioType": "voip",
                "joinedTime": fmt_utc_ms(*j),
                "leftTime": fmt_utc_ms(*l),
                "durationSecond": l - j,
            })
        })
        .collect();
    let mut v = json!({
        "id": format!("{}_{}", i.id, uuid_of(&p.key)),
        "orgId": STANDARD_NO_PAD.encode(format!("ciscospark://us/ORGANIZATION/{ORG_UUID}")),
        "host": host,
        "coHost": invited.is_some_and(|v| v.co_host),
        "spaceModerator": false,
        "displayName": p.name,
        "invitee": invited.is_some(),
        "muted": false,
        "video": "off",
        "state": "end",
        "joinedTime": fmt_utc_ms(joined),
        "leftTime": fmt_utc_ms(left),
        "siteUrl": SITE_URL,
        "meetingId": i.id,
        "hostEmail": i.host.email,
        "meetingStartTime": fmt_utc_ms(i.start),
        "devices": devices,
    });
    if let Some(e) = p.email {
        v["email"] = json!(e);
    }
    v
}

// ---- Formats ----

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A UUID-shaped name derived from `seed`.
fn uuid_of(seed: &str) -> String {
    let h = hex(&Sha256::digest(seed.as_bytes())[..16]);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Webex's person id: base64 of `ciscospark://us/PEOPLE/{uuid}`, unpadded.
fn person_id(email: &str) -> String {
    STANDARD_NO_PAD.encode(format!("ciscospark://us/PEOPLE/{}", uuid_of(&email.to_ascii_lowercase())))
}

fn is_utc(zone: Tz) -> bool {
    matches!(zone.name(), "UTC" | "Etc/UTC")
}

/// `2027-03-28T10:00:00+02:00` in `zone` (`…Z` when the zone is UTC).
pub(crate) fn fmt_zoned(t: i64, zone: Tz) -> String {
    if is_utc(zone) {
        return fmt_utc(t);
    }
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().with_timezone(&zone).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn fmt_utc_ms(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

fn compact_utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y%m%dT%H%M%SZ").to_string()
}

/// An ISO 8601 date and time: with `Z` or an offset it is that instant; without, it is
/// read in `zone` (a date alone is its midnight there).
pub(crate) fn parse_time(text: &str, zone: Tz) -> Option<i64> {
    let t = text.trim();
    let t = match t.strip_suffix(['Z', 'z']) {
        Some(rest) => format!("{rest}+00:00"),
        None => t.to_string(),
    };
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(&t) {
        return Some(d.timestamp());
    }
    for f in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(d) = chrono::DateTime::parse_from_str(&t, f) {
            return Some(d.timestamp());
        }
    }
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(&t, f).ok())
        .or_else(|| chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    local.and_local_timezone(zone).earliest().map(|d| d.timestamp())
}

/// The zone a `timezone` request header asks times to be shown in.
fn shown_zone(headers: &HeaderMap) -> Option<Tz> {
    headers.get("timezone").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !e.contains(char::is_whitespace)
}

fn tracking_id() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex(&b).to_ascii_uppercase();
    format!("ROUTER_{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn error_body(message: &str) -> (String, Value) {
    let id = tracking_id();
    (id.clone(), json!({ "message": message, "errors": [{ "description": message }], "trackingId": id }))
}

/// Webex's error answer: `{"message", "errors": [{"description"}], "trackingId"}`, with
/// the tracking id in a `trackingid` header too.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let (id, body) = error_body(message);
    (status, [("trackingid", id)], Json(body)).into_response()
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, NOT_FOUND)
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, UNAUTHORIZED)
}

fn too_many(retry_after: u64) -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests have been sent in a given amount of time. Retry after the number of seconds given in the Retry-After header.",
    );
    r.headers_mut().insert(header::RETRY_AFTER, retry_after.to_string().parse().unwrap());
    r
}

pub(crate) fn fault_response(kind: FaultKind) -> Response {
    match kind {
        // Webex always says when to retry.
        FaultKind::RateLimited { retry_after } => too_many(retry_after.unwrap_or(1)),
        FaultKind::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, "An unexpected error occurred. Retry the request later."),
        FaultKind::HtmlGateway => (
            StatusCode::BAD_GATEWAY,
            Html("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"),
        )
            .into_response(),
        FaultKind::ExpiredToken => unauthorized(),
    }
}

/// The answer for a `/v1/…` path no route serves.
pub(crate) fn unknown_path() -> Response {
    not_found()
}

pub(crate) fn routes(server: Arc<Server>) -> Router<Arc<Server>> {
    let api = Router::new()
        .route("/v1/people/me", get(me))
        .route("/v1/meetings", post(create).get(list))
        .route("/v1/meetings/join", post(join))
        .route("/v1/meetings/{id}", get(read).delete(delete))
        .route("/v1/meetingParticipants", get(participants))
        .route("/v1/recordings", get(recordings))
        .layer(axum::middleware::from_fn_with_state(server.clone(), bearer));
    let logged = Router::new()
        .route("/v1/access_token", post(access_token))
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(server, crate::log_and_fault));
    Router::new()
        .route("/v1/authorize", get(authorize))
        .route("/webex/m/{id}", get(meeting_page))
        .route("/webex/start/{id}", get(start_page))
        .route("/webex/join/{id}", get(join_page))
        .route("/webex/recordings/{id}/{what}", get(recording_page))
        .route("/_admin/webex/sign-in", post(admin_sign_in))
        .route("/_admin/webex/expire-tokens", post(admin_expire))
        .route("/_admin/webex/meetings", get(admin_meetings))
        .route("/_admin/webex/instances", get(admin_instances))
        .route("/_admin/webex/meetings/{id}", axum::routing::delete(admin_delete))
        .route("/_admin/webex/meetings/{id}/start", post(admin_start))
        .route("/_admin/webex/meetings/{id}/end", post(admin_end))
        .route("/_admin/webex/past", post(admin_past))
        .route("/_admin/webex/seed-past", post(admin_seed))
        .route("/_admin/webex/creates-today", get(admin_creates_today))
        .merge(logged)
}

// ---- OAuth ----

type Params = HashMap<String, String>;

/// Query-string values: unreserved characters kept, everything else percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE))).collect();
    format!("{uri}{}{}", if uri.contains('?') { '&' } else { '?' }, q.join("&"))
}

fn is_loopback(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// PKCE S256: the verifier (43 to 128 unreserved characters) hashes to the challenge.
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

fn oauth_page(status: StatusCode, text: &str) -> Response {
    (status, Html(format!("<!doctype html><title>Webex</title><h1>Something went wrong</h1><p>{text}</p>"))).into_response()
}

/// The consent step, approved at once (the user is always signed in here).
async fn authorize(State(server): Shared, Query(p): Query<Params>) -> Response {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let webex = &mut inner.webex;
    // An unknown client or redirect URI is never redirected to.
    if get("client_id") != webex.config.client_id {
        return oauth_page(StatusCode::BAD_REQUEST, "The client_id is invalid.");
    }
    let redirect_uri = get("redirect_uri");
    let registered = webex.config.redirect_uris.is_empty() || webex.config.redirect_uris.contains(&redirect_uri);
    if !is_loopback(&redirect_uri) || !registered {
        return oauth_page(StatusCode::BAD_REQUEST, "The redirect_uri does not match a redirect URI registered for this integration.");
    }
    let state = get("state");
    let refuse = |error: &str, description: &str| {
        let to = with_query(&redirect_uri, &[("error", error), ("error_description", description), ("state", &state)]);
        (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
    };
    if get("response_type") != "code" {
        return refuse("unsupported_response_type", "response_type must be code");
    }
    let challenge = get("code_challenge");
    if get("code_challenge_method") != "S256" || !(43..=128).contains(&challenge.len()) {
        return refuse("invalid_request", "code_challenge with code_challenge_method S256 is required");
    }
    let scope = get("scope").split_whitespace().collect::<Vec<_>>().join(" ");
    if scope.is_empty() {
        return refuse("invalid_scope", "scope is required");
    }
    let code = random_id(40);
    webex.oauth.codes.insert(
        code.clone(),
        Grant { client_id: get("client_id"), redirect_uri: redirect_uri.clone(), challenge, issued_at: now },
    );
    webex.scopes.insert(code.clone(), scope);
    let to = with_query(&redirect_uri, &[("code", &code), ("state", &state)]);
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

/// An OAuth error in both the OAuth form (`error`, `error_description`) and Webex's.
fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let (id, mut body) = error_body(description);
    body["error"] = json!(error);
    body["error_description"] = json!(description);
    (status, [("trackingid", id)], Json(body)).into_response()
}

/// Client credentials from HTTP Basic, if sent that way.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let text = String::from_utf8(STANDARD.decode(v.trim()).ok()?).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

async fn access_token(State(server): Shared, headers: HeaderMap, Form(p): Form<Params>) -> Response {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let (client_id, secret) = match basic_credentials(&headers) {
        Some((id, secret)) => (id, Some(secret)),
        None => (get("client_id"), p.get("client_secret").cloned()),
    };
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let webex = &mut inner.webex;
    if client_id != webex.config.client_id {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "The client_id is not valid.");
    }
    // A desktop app cannot keep a secret: when it sends none, PKCE alone proves the code
    // is its own. A secret that is sent must be the right one.
    if secret.is_some_and(|s| !s.is_empty() && s != webex.config.client_secret) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", "The client_secret does not match the client_id.");
    }
    let lifetime = webex.config.token_lifetime_secs;
    let (access, refresh, refresh_left, scope) = match get("grant_type").as_str() {
        "authorization_code" => {
            let code = get("code");
            let Some(grant) = webex.oauth.codes.remove(&code) else {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The authorization code is invalid or was already used.");
            };
            let scope = webex.scopes.remove(&code).unwrap_or_default();
            if now - grant.issued_at > 300 {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The authorization code has expired.");
            }
            if grant.client_id != client_id {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The authorization code was issued to another client.");
            }
            if grant.redirect_uri != get("redirect_uri") {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The redirect_uri does not match the authorization request's.");
            }
            if !pkce_matches(&get("code_verifier"), &grant.challenge) {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The code_verifier does not match the code_challenge.");
            }
            let (access, refresh) = webex.issue(now, &scope);
            (access, refresh, webex.config.refresh_lifetime_secs, scope)
        }
        "refresh_token" => {
            let token = get("refresh_token");
            let Some(&expires_at) = webex.oauth.refresh.get(&token) else {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The refresh token is invalid.");
            };
            if expires_at <= now {
                return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "The refresh token has expired.");
            }
            let scope = webex.scopes.get(&token).cloned().unwrap_or_default();
            let access = webex.oauth.issue_access(now, lifetime);
            webex.scopes.insert(access.clone(), scope.clone());
            // Not rotated: the same refresh token, with what is left of its life.
            (access, token, expires_at - now, scope)
        }
        "" => return token_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required."),
        other => return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("Unsupported grant_type: {other}")),
    };
    Json(json!({
        "access_token": access,
        "expires_in": lifetime,
        "refresh_token": refresh,
        "refresh_token_expires_in": refresh_left,
        "token_type": "Bearer",
        "scope": scope,
    }))
    .into_response()
}

/// The scope a call needs (none for `/v1/people/me`).
fn required_scope(method: &Method, path: &str) -> Option<&'static str> {
    if path.starts_with("/v1/meetingParticipants") {
        Some("meeting:participants_read")
    } else if path.starts_with("/v1/recordings") {
        Some("meeting:recordings_read")
    } else if path == "/v1/meetings/join" || (path.starts_with("/v1/meetings") && method == Method::GET) {
        Some("meeting:schedules_read")
    } else if path.starts_with("/v1/meetings") {
        Some("meeting:schedules_write")
    } else {
        None
    }
}

async fn bearer(State(server): Shared, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .unwrap_or_default()
        .trim()
        .to_string();
    let verdict = {
        let inner = server.lock();
        match inner.webex.oauth.check(&token, inner.now()) {
            TokenCheck::Valid => match required_scope(request.method(), request.uri().path()) {
                Some(need) if !inner.webex.scopes.get(&token).is_some_and(|s| s.split(' ').any(|g| g == need)) => Err(error(
                    StatusCode::FORBIDDEN,
                    "The server understood the request, but refused to fulfill it because the access token is missing required scopes.",
                )),
                _ => Ok(()),
            },
            TokenCheck::Expired | TokenCheck::Invalid => Err(unauthorized()),
        }
    };
    match verdict {
        Ok(()) => next.run(request).await,
        Err(r) => r,
    }
}

// ---- API ----

async fn me() -> Json<Value> {
    Json(json!({
        "id": person_id(USER_EMAIL),
        "emails": [USER_EMAIL],
        "phoneNumbers": [],
        "displayName": format!("{USER_FIRST} {USER_LAST}"),
        "nickName": USER_FIRST,
        "firstName": USER_FIRST,
        "lastName": USER_LAST,
        "orgId": STANDARD_NO_PAD.encode(format!("ciscospark://us/ORGANIZATION/{ORG_UUID}")),
        "created": "2024-01-15T09:00:00.000Z",
        "timeZone": USER_ZONE,
        "type": "person",
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteeBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    co_host: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    title: Option<String>,
    agenda: Option<String>,
    start: Option<String>,
    end: Option<String>,
    timezone: Option<String>,
    recurrence: Option<String>,
    #[serde(default)]
    invitees: Vec<InviteeBody>,
    #[serde(default)]
    enabled_join_before_host: bool,
    join_before_host_minutes: Option<u32>,
    #[serde(default)]
    enabled_auto_record_meeting: bool,
    password: Option<String>,
}

fn json_object(body: &Bytes) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad_request("The request body is not a valid JSON object.")),
    }
}

async fn create(State(server): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let raw = match json_object(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let b = match serde_json::from_value::<CreateBody>(raw) {
        Ok(b) => b,
        Err(e) => return bad_request(&format!("The request body is not valid: {e}.")),
    };
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let webex = &mut inner.webex;
    let day = now.div_euclid(86_400);
    if webex.creates_day != day {
        webex.creates_day = day;
        webex.creates_today = 0;
    }
    if webex.config.daily_create_limit.is_some_and(|limit| webex.creates_today >= limit) {
        return too_many(((day + 1) * 86_400 - now) as u64);
    }
    let title = b.title.unwrap_or_default();
    if title.trim().is_empty() {
        return bad_request("title is required.");
    }
    if title.chars().count() > 128 {
        return bad_request("The title can be a maximum of 128 characters long.");
    }
    let agenda = b.agenda.unwrap_or_default();
    if agenda.chars().count() > 1_300 {
        return bad_request("The agenda can be a maximum of 1300 characters long.");
    }
    if b.recurrence.as_deref().is_some_and(|r| !r.is_empty()) {
        return bad_request("Recurring meetings are not supported by this server.");
    }
    let timezone = b.timezone.filter(|t| !t.is_empty()).unwrap_or_else(|| "UTC".into());
    let Ok(zone) = timezone.parse::<Tz>() else {
        return bad_request(&format!("Invalid timezone: {timezone}."));
    };
    let (Some(start_text), Some(end_text)) = (b.start, b.end) else {
        return bad_request("start and end are required.");
    };
    let Some(start) = parse_time(&start_text, zone) else {
        return bad_request(&format!("Invalid start: {start_text}. Give an ISO 8601 date and time."));
    };
    let Some(end) = parse_time(&end_text, zone) else {
        return bad_request(&format!("Invalid end: {end_text}. Give an ISO 8601 date and time."));
    };
    // Accurate to the minute: seconds are dropped, and a start in the current minute (or,
    // leniently, the five before it) moves to the next one.
    let (start, end) = (start - start.rem_euclid(60), end - end.rem_euclid(60));
    if start < now - 300 {
        return bad_request("The start time must be later than the current time.");
    }
    if end <= start {
        return bad_request("The end time must be later than the start time.");
    }
    if end - start < 600 {
        return bad_request("The duration between start and end cannot be shorter than 10 minutes.");
    }
    if end - start > 86_400 {
        return bad_request("The duration between start and end cannot be longer than 24 hours.");
    }
    let this_minute = now - now.rem_euclid(60);
    let start = if start <= this_minute { this_minute + 60 } else { start };
    let end = end.max(start + 600);
    for i in &b.invitees {
        if !valid_email(&i.email) {
            return bad_request(&format!("Invalid invitee email: {}.", i.email));
        }
    }
    let jbh_minutes = b.join_before_host_minutes.unwrap_or(0);
    if ![0, 5, 10, 15].contains(&jbh_minutes) {
        return bad_request("joinBeforeHostMinutes must be 0, 5, 10 or 15.");
    }
    let id = webex.add_series(&title, &agenda, &timezone, zone, start, end, Host::user(), b.password);
    let Some(s) = webex.series.get_mut(&id) else { return not_found() };
    s.invitees = b.invitees.into_iter().map(|i| Invitee { email: i.email, co_host: i.co_host }).collect();
    s.join_before_host = b.enabled_join_before_host;
    s.join_before_host_minutes = if b.enabled_join_before_host { jbh_minutes } else { 0 };
    s.auto_record = b.enabled_auto_record_meeting;
    webex.creates_today += 1;
    let s = &webex.series[&id];
    Json(webex.series_json(s, shown_zone(&headers), now)).into_response()
}

async fn read(State(server): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let inner = server.lock();
    let now = inner.now();
    let shown = shown_zone(&headers);
    match inner.webex.find(&id) {
        Some(Found::Series(s)) => Json(inner.webex.series_json(s, shown, now)).into_response(),
        Some(Found::Scheduled(s)) => Json(inner.webex.scheduled_json(s, shown, now)).into_response(),
        Some(Found::Instance(i)) => Json(inner.webex.instance_json(i, shown)).into_response(),
        None => not_found(),
    }
}

async fn delete(State(server): Shared, Path(id): Path<String>) -> Response {
    let mut inner = server.lock();
    let series_id = match inner.webex.find(&id) {
        Some(Found::Series(s) | Found::Scheduled(s)) => s.id.clone(),
        Some(Found::Instance(_)) => return bad_request("An ended or in-progress meeting instance cannot be deleted."),
        None => return not_found(),
    };
    inner.webex.series.remove(&series_id);
    StatusCode::NO_CONTENT.into_response()
}

async fn join(State(server): Shared, body: Bytes) -> Response {
    let b = match json_object(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let text = |k: &str| match &b[k] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let minutes = b["expirationMinutes"].as_i64().unwrap_or(15);
    if !(1..=1_440).contains(&minutes) {
        return bad_request("expirationMinutes must be between 1 and 1440.");
    }
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let webex = &mut inner.webex;
    let found = if let Some(id) = text("meetingId") {
        webex.series_of(&id)
    } else if let Some(n) = text("meetingNumber") {
        webex.series.values().find(|s| s.number == n)
    } else if let Some(link) = text("webLink") {
        webex.series.values().find(|s| webex.web_link(&s.id) == link)
    } else {
        return bad_request("One of meetingId, meetingNumber or webLink is required.");
    };
    let Some(s) = found else { return not_found() };
    let (series_id, is_host) = (s.id.clone(), s.host.email.eq_ignore_ascii_case(USER_EMAIL));
    let expires = now + minutes * 60;
    let join_link = format!("{}/webex/join/{series_id}?t={}", webex.base_url, random_id(24));
    let mut answer = json!({ "joinLink": join_link, "expiration": fmt_utc(expires) });
    if is_host {
        let token = random_id(64);
        webex.start_tokens.insert(token.clone(), (series_id.clone(), expires));
        answer["startLink"] = json!(format!("{}/webex/start/{series_id}?st={token}", webex.base_url));
    }
    // Webex's default for joinDirectly is true: it redirects to the join link.
    if b["joinDirectly"].as_bool().unwrap_or(true) {
        return (StatusCode::FOUND, [(header::LOCATION, join_link)]).into_response();
    }
    Json(answer).into_response()
}

// ---- Paging ----

struct Paging {
    max: usize,
    /// The last row of the previous page: its sort time and id.
    after: Option<(i64, String)>,
}

fn paging(p: &Params) -> Result<Paging, Response> {
    let max = match p.get("max") {
        None => DEFAULT_MAX,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_MAX).contains(&n) => n,
            _ => return Err(bad_request(&format!("max must be a number from 1 to {MAX_MAX}."))),
        },
    };
    let after = match p.get("cursor") {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| bad_request("The cursor is invalid."))?),
    };
    Ok(Paging { max, after })
}

fn encode_cursor(t: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{t}|{id}"))
}

fn decode_cursor(c: &str) -> Option<(i64, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    let (t, id) = text.split_once('|')?;
    Some((t.parse().ok()?, id.to_string()))
}

/// Rows sorted by (time, id), the page after the cursor, and the next cursor when more follow.
fn page<T>(mut rows: Vec<(i64, String, T)>, paging: &Paging) -> (Vec<T>, Option<String>) {
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let from = match &paging.after {
        None => 0,
        Some((t, id)) => rows.partition_point(|r| (r.0, r.1.as_str()) <= (*t, id.as_str())),
    };
    let more = rows.len() - from > paging.max;
    let taken: Vec<(i64, String, T)> = rows.into_iter().skip(from).take(paging.max).collect();
    let next = more.then(|| taken.last().map(|(t, id, _)| encode_cursor(*t, id))).flatten();
    (taken.into_iter().map(|(_, _, v)| v).collect(), next)
}

/// `{"items": [...]}`, with `Link: <…&cursor=…>; rel="next"` when another page follows.
/// The link repeats the request's parameters (`params`, sorted) with the cursor.
fn items(base: &str, path: &str, mut params: BTreeMap<String, String>, items: Vec<Value>, next: Option<String>) -> Response {
    let body = Json(json!({ "items": items }));
    let Some(cursor) = next else { return body.into_response() };
    params.remove("cursor");
    params.insert("cursor".into(), cursor);
    let query: Vec<String> =
        params.iter().map(|(k, v)| format!("{}={}", utf8_percent_encode(k, QUERY_VALUE), utf8_percent_encode(v, QUERY_VALUE))).collect();
    let link = format!("<{base}{path}?{}>; rel=\"next\"", query.join("&"));
    ([(header::LINK, link)], body).into_response()
}

fn forbidden_host_email() -> Response {
    error(StatusCode::FORBIDDEN, "hostEmail can only be used with admin-level scopes.")
}

/// `from`/`to` of a list, with Webex's defaults: a week back from `to` (or from now) for
/// held meetings, a week on from `from` (or from now) otherwise.
fn window(p: &Params, kind: &str, now: i64) -> Result<(i64, i64), Response> {
    let at = |k: &str| -> Result<Option<i64>, Response> {
        match p.get(k).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => parse_time(s, chrono_tz::UTC).map(Some).ok_or_else(|| bad_request(&format!("Invalid {k}: {s}. Give an ISO 8601 date and time."))),
        }
    };
    let (from, to) = match (at("from")?, at("to")?) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, f + WEEK),
        (None, Some(t)) => (t - WEEK, t),
        (None, None) if kind == "meeting" => (now - WEEK, now),
        (None, None) => (now, now + WEEK),
    };
    if from > to {
        return Err(bad_request("from cannot be after to."));
    }
    Ok((from, to))
}

enum Row<'a> {
    Series(&'a Series),
    Scheduled(&'a Series),
    Instance(&'a Instance),
}

const STATES: [&str; 8] = ["active", "scheduled", "ready", "lobby", "inProgress", "ended", "missed", "expired"];

async fn list(State(server): Shared, headers: HeaderMap, Query(p): Query<Params>) -> Response {
    let paging = match paging(&p) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if p.get("hostEmail").is_some_and(|h| !h.is_empty() && !h.eq_ignore_ascii_case(USER_EMAIL)) {
        return forbidden_host_email();
    }
    let inner = server.lock();
    let now = inner.now();
    let webex = &inner.webex;
    let shown = shown_zone(&headers);
    let mut link_params: BTreeMap<String, String> = p.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    link_params.insert("max".into(), paging.max.to_string());
    let series_id = p.get("meetingSeriesId").filter(|s| !s.is_empty());
    let mut rows: Vec<(i64, String, Row)> = Vec::new();
    if let Some(n) = p.get("meetingNumber").filter(|s| !s.is_empty()) {
        rows.extend(webex.series.values().filter(|s| &s.number == n).map(|s| (s.start, s.id.clone(), Row::Series(s))));
    } else if let Some(link) = p.get("webLink").filter(|s| !s.is_empty()) {
        rows.extend(webex.series.values().filter(|s| &webex.web_link(&s.id) == link).map(|s| (s.start, s.scheduled_id(), Row::Scheduled(s))));
    } else {
        let kind = p.get("meetingType").map(String::as_str).unwrap_or(if series_id.is_some() { "scheduledMeeting" } else { "meetingSeries" });
        if !["meetingSeries", "scheduledMeeting", "meeting"].contains(&kind) {
            return bad_request(&format!("Invalid meetingType: {kind}."));
        }
        let state = p.get("state").filter(|s| !s.is_empty());
        if state.is_some_and(|s| !STATES.contains(&s.as_str())) {
            return bad_request(&format!("Invalid state: {}.", state.cloned().unwrap_or_default()));
        }
        let (from, to) = match window(&p, kind, now) {
            Ok(w) => w,
            Err(r) => return r,
        };
        link_params.insert("from".into(), fmt_utc(from));
        link_params.insert("to".into(), fmt_utc(to));
        let of_series = |id: &str| series_id.is_none_or(|s| s == id);
        let in_state = |st: &str| state.is_none_or(|s| s == st);
        match kind {
            "meetingSeries" => rows.extend(
                webex
                    .series
                    .values()
                    .filter(|s| s.start < to && s.end > from && of_series(&s.id) && in_state(s.state(now)))
                    .map(|s| (s.start, s.id.clone(), Row::Series(s))),
            ),
            "scheduledMeeting" => rows.extend(
                webex
                    .series
                    .values()
                    .filter(|s| s.start < to && s.end > from && of_series(&s.id) && in_state(s.scheduled_state(now)))
                    .map(|s| (s.start, s.scheduled_id(), Row::Scheduled(s))),
            ),
            _ => rows.extend(
                webex
                    .instances
                    .values()
                    .filter(|i| i.start >= from && i.start < to && of_series(&i.series_id))
                    .filter(|i| in_state(if i.end.is_some() { "ended" } else { "inProgress" }))
                    .map(|i| (i.start, i.id.clone(), Row::Instance(i))),
            ),
        }
    }
    let (rows, next) = page(rows, &paging);
    let shown_rows = rows
        .into_iter()
        .map(|r| match r {
            Row::Series(s) => webex.series_json(s, shown, now),
            Row::Scheduled(s) => webex.scheduled_json(s, shown, now),
            Row::Instance(i) => webex.instance_json(i, shown),
        })
        .collect();
    items(&webex.base_url, "/v1/meetings", link_params, shown_rows, next)
}

async fn participants(State(server): Shared, Query(p): Query<Params>) -> Response {
    let paging = match paging(&p) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if p.get("hostEmail").is_some_and(|h| !h.is_empty() && !h.eq_ignore_ascii_case(USER_EMAIL)) {
        return forbidden_host_email();
    }
    let Some(id) = p.get("meetingId").filter(|s| !s.is_empty()) else {
        return bad_request("meetingId is required.");
    };
    let inner = server.lock();
    let webex = &inner.webex;
    let i = match webex.find(id) {
        Some(Found::Instance(i)) => i,
        Some(Found::Series(_) | Found::Scheduled(_)) => {
            return bad_request("meetingId must be the ID of an ended or in-progress meeting instance, not of a meeting series or scheduled meeting.")
        }
        None => return not_found(),
    };
    if !i.host.email.eq_ignore_ascii_case(USER_EMAIL) {
        return error(StatusCode::FORBIDDEN, "Only the meeting host or an administrator can list the meeting's participants.");
    }
    let people = people(i);
    // By first join, then in the order they came.
    let rows: Vec<(i64, String, &Person)> = people.iter().enumerate().map(|(n, p)| (p.joins[0].0, format!("{n:06}"), p)).collect();
    let (rows, next) = page(rows, &paging);
    let mut link_params: BTreeMap<String, String> = p.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    link_params.insert("max".into(), paging.max.to_string());
    let shown_rows = rows.into_iter().map(|person| participant_json(i, person)).collect();
    items(&webex.base_url, "/v1/meetingParticipants", link_params, shown_rows, next)
}

async fn recordings(State(server): Shared, Query(p): Query<Params>) -> Response {
    let paging = match paging(&p) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if p.get("hostEmail").is_some_and(|h| !h.is_empty() && !h.eq_ignore_ascii_case(USER_EMAIL)) {
        return forbidden_host_email();
    }
    let inner = server.lock();
    let now = inner.now();
    let webex = &inner.webex;
    let mut link_params: BTreeMap<String, String> = p.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    link_params.insert("max".into(), paging.max.to_string());
    let recorded = webex.instances.values().filter_map(|i| i.recording.as_deref().map(|r| (i, r)));
    let rows: Vec<(i64, String, (&Instance, &str))> = match p.get("meetingId").filter(|s| !s.is_empty()) {
        // A meeting's recordings, whenever it was held.
        Some(id) => {
            if webex.find(id).is_none() && !webex.instances.values().any(|i| &i.series_id == id || &i.scheduled_id == id) {
                return not_found();
            }
            recorded
                .filter(|(i, _)| &i.id == id || &i.series_id == id || &i.scheduled_id == id)
                .map(|(i, r)| (i.start, r.to_string(), (i, r)))
                .collect()
        }
        None => {
            let (from, to) = match window(&p, "meeting", now) {
                Ok(w) => w,
                Err(r) => return r,
            };
            link_params.insert("from".into(), fmt_utc(from));
            link_params.insert("to".into(), fmt_utc(to));
            recorded.filter(|(i, _)| i.start >= from && i.start < to).map(|(i, r)| (i.start, r.to_string(), (i, r))).collect()
        }
    };
    let (rows, next) = page(rows, &paging);
    let shown_rows = rows.into_iter().map(|(i, r)| webex.recording_json(i, r)).collect();
    items(&webex.base_url, "/v1/recordings", link_params, shown_rows, next)
}

// ---- Pages a browser opens ----

fn page_html(heading: &str) -> Html<String> {
    Html(format!("<!doctype html><title>Webex</title><h1>{heading}</h1>"))
}

async fn meeting_page(State(server): Shared, Path(id): Path<String>) -> Response {
    match server.lock().webex.series.get(&id) {
        Some(s) => page_html(&format!("Join {} ({})", html_escape(&s.title), s.number)).into_response(),
        None => (StatusCode::NOT_FOUND, page_html("This meeting does not exist or has been deleted")).into_response(),
    }
}

/// The host's start link: its credential must be live; the meeting is then in progress.
async fn start_page(State(server): Shared, Path(id): Path<String>, Query(q): Query<Params>) -> Response {
    let mut guard = server.lock();
    let inner: &mut Inner = &mut guard;
    let now = inner.now();
    let webex = &mut inner.webex;
    let token = q.get("st").cloned().unwrap_or_default();
    match webex.start_tokens.get(&token) {
        Some((series, expires)) if *series == id && *expires > now => {}
        _ => return (StatusCode::FORBIDDEN, page_html("This start link is invalid or has expired")).into_response(),
    }
    match webex.start(&id, now) {
        Some(_) => page_html(&format!("Starting meeting {id}")).into_response(),
        None => (StatusCode::NOT_FOUND, page_html("This meeting does not exist or has been deleted")).into_response(),
    }
}

async fn join_page(Path(id): Path<String>) -> Html<String> {
    page_html(&format!("Joining meeting {}", html_escape(&id)))
}

async fn recording_page(Path((id, what)): Path<(String, String)>) -> Response {
    match what.as_str() {
        "playback" => page_html(&format!("Recording {}", html_escape(&id))).into_response(),
        "download" => ([(header::CONTENT_TYPE, "video/mp4")], Bytes::from_static(b"\0\0\0\x18ftypmp42")).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PastBody {
    title: String,
    #[serde(default)]
    started_at: Option<i64>,
    #[serde(default = "thirty")]
    minutes: u32,
    #[serde(default)]
    attendees: Vec<Attendee>,
    #[serde(default)]
    host_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeedBody {
    count: u32,
    start: i64,
    #[serde(default)]
    attendees_each: u32,
}

async fn admin_sign_in(State(server): Shared) -> Json<Value> {
    let mut inner = server.lock();
    let now = inner.now();
    let (access, refresh) = inner.webex.sign_in(now);
    Json(json!({ "accessToken": access, "refreshToken": refresh }))
}

async fn admin_expire(State(server): Shared) -> StatusCode {
    server.lock().webex.oauth.expire_all();
    StatusCode::NO_CONTENT
}

async fn admin_meetings(State(server): Shared) -> Json<Vec<Value>> {
    let inner = server.lock();
    Json(inner.webex.all_series_json(inner.now()))
}

async fn admin_instances(State(server): Shared) -> Json<Vec<Value>> {
    Json(server.lock().webex.all_instances_json())
}

async fn admin_delete(State(server): Shared, Path(id): Path<String>) -> StatusCode {
    match server.lock().webex.series.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::NOT_FOUND,
    }
}

async fn admin_start(State(server): Shared, Path(id): Path<String>) -> Response {
    let mut inner = server.lock();
    let now = inner.now();
    match inner.webex.start(&id, now) {
        Some(instance) => Json(json!({ "id": instance })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn admin_end(State(server): Shared, Path(id): Path<String>, Json(b): Json<EndBody>) -> Response {
    let mut inner = server.lock();
    let now = inner.now();
    let start = b.started_at.unwrap_or(now - i64::from(b.minutes) * 60);
    match inner.webex.end(&id, start, b.minutes, &b.attendees, b.recorded) {
        Some(instance) => Json(json!({ "id": instance })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn admin_past(State(server): Shared, Json(b): Json<PastBody>) -> Json<Value> {
    let mut inner = server.lock();
    let now = inner.now();
    let start = b.started_at.unwrap_or(now - i64::from(b.minutes) * 60);
    let id = inner.webex.add_past(&b.title, start, b.minutes, &b.attendees, b.host_email.as_deref().unwrap_or(USER_EMAIL));
    let series = id.split("_I_").next().unwrap_or_default().to_string();
    Json(json!({ "id": id, "meetingSeriesId": series }))
}

async fn admin_seed(State(server): Shared, Json(b): Json<SeedBody>) -> Json<Value> {
    let mut inner = server.lock();
    let now = inner.now();
    Json(json!({ "ids": inner.webex.seed_past(b.count, b.start, b.attendees_each, now) }))
}

async fn admin_creates_today(State(server): Shared) -> Json<Value> {
    Json(json!({ "createsToday": server.lock().webex.creates_today }))
}

impl Webex {
    /// Every series, in its `GET /v1/meetings/{id}` form, by start.
    pub(crate) fn all_series_json(&self, now: i64) -> Vec<Value> {
        let mut all: Vec<&Series> = self.series.values().collect();
        all.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        all.into_iter().map(|s| self.series_json(s, None, now)).collect()
    }

    /// Every held or in-progress instance, in its `GET /v1/meetings/{id}` form, by start.
    pub(crate) fn all_instances_json(&self) -> Vec<Value> {
        let mut all: Vec<&Instance> = self.instances.values().collect();
        all.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        all.into_iter().map(|i| self.instance_json(i, None)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    fn paris() -> Tz {
        chrono_tz::Europe::Paris
    }

    #[test]
    fn pkce_takes_the_verifier_that_hashes_to_the_challenge_only() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", challenge));
        assert!(!pkce_matches(challenge, challenge), "the challenge itself is no verifier");
        assert!(!pkce_matches("short", challenge));
    }

    #[test]
    fn a_local_start_is_read_in_its_zone_and_one_with_an_offset_as_given() {
        assert_eq!(parse_time("2027-03-28T10:00:00", paris()), Some(1_806_220_800));
        assert_eq!(parse_time("2027-03-28T10:00", paris()), Some(1_806_220_800));
        assert_eq!(parse_time("2027-03-28T08:00:00Z", paris()), Some(1_806_220_800));
        assert_eq!(parse_time("2027-03-28T10:00:00+02:00", chrono_tz::UTC), Some(1_806_220_800));
        assert_eq!(parse_time("2027-03-28T10:00:00.000+0200", chrono_tz::UTC), Some(1_806_220_800));
        assert_eq!(parse_time("2027-03-28", chrono_tz::UTC), Some(1_806_192_000));
        // 02:30 does not exist in Paris that night (summer time begins).
        assert_eq!(parse_time("2027-03-28T02:30:00", paris()), None);
        assert_eq!(parse_time("28/03/2027 10:00", paris()), None);
        assert_eq!(fmt_zoned(1_806_220_800, paris()), "2027-03-28T10:00:00+02:00");
        assert_eq!(fmt_zoned(1_806_220_800, chrono_tz::UTC), "2027-03-28T08:00:00Z");
    }

    #[test]
    fn instances_are_numbered_under_their_series_and_found_by_every_kind_of_id() {
        let mut w = Webex::new(WebexConfig::default(), "http://x");
        let start = 1_806_220_800;
        let series = w.add_series("Quote", "", "Europe/Paris", paris(), start, start + 3_600, Host::user(), None);
        assert_eq!(series.len(), 32);
        assert!(series.bytes().all(|b| b.is_ascii_hexdigit()));
        let first = w.end(&series, start, 45, &[], false).unwrap();
        let second = w.end(&series, start + 7_200, 10, &[], false).unwrap();
        for id in [&first, &second] {
            let n = id.strip_prefix(&format!("{series}_I_")).expect("instance id under its series");
            assert!(n.len() == 18 && n.bytes().all(|b| b.is_ascii_digit()), "{id}");
        }
        assert_ne!(first, second);
        assert!(matches!(w.find(&first), Some(Found::Instance(_))));
        assert!(matches!(w.find(&series), Some(Found::Series(s)) if s.state(start) == "expired"));
        let scheduled = format!("{series}_20270328T080000Z");
        assert!(matches!(w.find(&scheduled), Some(Found::Scheduled(_))));
        assert!(w.find(&format!("{series}_20270328T090000Z")).is_none());
        let v = w.instance_json(&w.instances[&first], None);
        assert_eq!(v["meetingSeriesId"], json!(series));
        assert_eq!(v["meetingType"], "meeting");
        assert_eq!(v["state"], "ended");
        assert_eq!(v["start"], "2027-03-28T10:00:00+02:00");
        assert_eq!(v["end"], "2027-03-28T10:45:00+02:00");
    }

    #[test]
    fn a_person_who_joined_twice_is_one_participant_with_two_devices() {
        let mut w = Webex::new(WebexConfig::default(), "http://x");
        let start = 1_806_220_800;
        let ana = Attendee { name: "Ana".into(), email: Some("ana@example.com".into()) };
        let ana_again = Attendee { name: "Ana L.".into(), email: Some("ANA@example.com".into()) };
        let guest = Attendee { name: "Phone guest".into(), email: None };
        let id = w.add_past("Review", start, 60, &[ana.clone(), guest.clone(), ana_again, guest], USER_EMAIL);
        let i = &w.instances[&id];
        let people = people(i);
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].joins, vec![(start, start + 1_740), (start + 1_800, start + 3_600)]);
        let v = participant_json(i, &people[0]);
        assert_eq!(v["email"], "ana@example.com");
        assert_eq!(v["devices"].as_array().unwrap().len(), 2);
        assert_eq!(v["joinedTime"], "2027-03-28T08:00:00.000Z");
        assert_eq!(v["leftTime"], "2027-03-28T09:00:00.000Z");
        assert_eq!(v["meetingId"], json!(id));
        let g = participant_json(i, &people[1]);
        assert!(g.get("email").is_none());
        assert_eq!(g["devices"].as_array().unwrap().len(), 2);
    }

    // ---- Over HTTP, through the router ----

    struct Call {
        status: StatusCode,
        headers: HeaderMap,
        body: Value,
    }

    async fn call(app: &Router, method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Call {
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        let res = app.clone().oneshot(req.unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24).await.unwrap();
        Call { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    async fn form(app: &Router, uri: &str, pairs: &[(&str, &str)]) -> Call {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE))).collect();
        let req = axum::http::Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        Call { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    fn app() -> (Arc<Server>, Router) {
        let server = crate::new_server(crate::Config::default(), "http://127.0.0.1:9");
        (server.clone(), crate::router(server))
    }

    fn query_of(location: &str) -> Params {
        let q = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
            .collect()
    }

    #[tokio::test]
    async fn the_code_flow_needs_the_verifier_and_a_refresh_keeps_its_refresh_token() {
        let (_, app) = app();
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let redirect = "http://127.0.0.1:53682/callback";
        let authorize = |method: &str| {
            format!(
                "/v1/authorize?client_id={WEBEX_CLIENT_ID}&response_type=code&redirect_uri={}&scope=meeting%3Aschedules_read%20spark%3Apeople_read&state=s1&code_challenge={challenge}&code_challenge_method={method}",
                utf8_percent_encode(redirect, QUERY_VALUE)
            )
        };
        let plain = call(&app, "GET", &authorize("plain"), None, None).await;
        assert_eq!(plain.status, StatusCode::FOUND);
        assert_eq!(query_of(plain.headers[header::LOCATION].to_str().unwrap())["error"], "invalid_request");
        let outside = call(&app, "GET", &authorize("S256").replace("127.0.0.1", "example.com"), None, None).await;
        assert_eq!(outside.status, StatusCode::BAD_REQUEST);

        let ok = call(&app, "GET", &authorize("S256"), None, None).await;
        let location = ok.headers[header::LOCATION].to_str().unwrap().to_string();
        assert!(location.starts_with(redirect), "{location}");
        let q = query_of(&location);
        assert_eq!(q["state"], "s1");
        let code = q["code"].clone();
        let exchange = |verifier: &'static str, code: String, secret: Option<&'static str>| {
            let app = app.clone();
            async move {
                let mut pairs = vec![
                    ("grant_type", "authorization_code"),
                    ("client_id", WEBEX_CLIENT_ID),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ];
                if let Some(s) = secret {
                    pairs.push(("client_secret", s));
                }
                form(&app, "/v1/access_token", &pairs).await
            }
        };
        let wrong_secret = exchange(verifier, code.clone(), Some("nope")).await;
        assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_secret.body["error"], "invalid_client");
        let wrong = exchange("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", code.clone(), None).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        assert_eq!(wrong.body["error"], "invalid_grant");
        assert!(wrong.body["trackingId"].as_str().unwrap().starts_with("ROUTER_"));

        // The code was spent by the failed attempt; a new one with no secret, PKCE alone.
        let again = call(&app, "GET", &authorize("S256"), None, None).await;
        let code = query_of(again.headers[header::LOCATION].to_str().unwrap())["code"].clone();
        let tokens = exchange(verifier, code.clone(), None).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
        assert_eq!(tokens.body["expires_in"], 1_209_600);
        assert_eq!(tokens.body["refresh_token_expires_in"], 7_776_000);
        assert_eq!(tokens.body["token_type"], "Bearer");
        assert_eq!(exchange(verifier, code, None).await.body["error"], "invalid_grant", "codes are single-use");

        let access = tokens.body["access_token"].as_str().unwrap().to_string();
        let refresh = tokens.body["refresh_token"].as_str().unwrap().to_string();
        assert_eq!(call(&app, "GET", "/v1/people/me", Some(&access), None).await.body["emails"][0], USER_EMAIL);
        let forbidden = call(&app, "GET", "/v1/meetingParticipants?meetingId=x", Some(&access), None).await;
        assert_eq!(forbidden.status, StatusCode::FORBIDDEN, "participants need meeting:participants_read");

        let refreshed = form(
            &app,
            "/v1/access_token",
            &[("grant_type", "refresh_token"), ("client_id", WEBEX_CLIENT_ID), ("client_secret", WEBEX_CLIENT_SECRET), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        assert_eq!(refreshed.body["refresh_token"], json!(refresh), "Webex does not rotate refresh tokens");
        assert_ne!(refreshed.body["access_token"], json!(access));
    }

    #[tokio::test]
    async fn a_meeting_is_created_in_its_zone_and_refused_with_webex_errors() {
        let (server, app) = app();
        let (token, _) = {
            let mut inner = server.lock();
            let now = inner.now();
            inner.webex.sign_in(now)
        };
        let created = call(
            &app,
            "POST",
            "/v1/meetings",
            Some(&token),
            Some(json!({
                "title": "Quote for the Lyon site", "start": "2099-06-15T10:00:00", "end": "2099-06-15T10:45:00",
                "timezone": "Europe/Paris", "invitees": [{ "email": "achats@lumiere.example.fr", "coHost": false }],
                "enabledJoinBeforeHost": true, "joinBeforeHostMinutes": 5,
            })),
        )
        .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        let m = &created.body;
        assert_eq!(m["start"], "2099-06-15T10:00:00+02:00");
        assert_eq!(m["end"], "2099-06-15T10:45:00+02:00");
        assert_eq!(m["meetingType"], "meetingSeries");
        assert_eq!(m["state"], "active");
        let id = m["id"].as_str().unwrap();
        assert_eq!(m["webLink"], json!(format!("http://127.0.0.1:9/webex/m/{id}")));
        assert!(m["meetingNumber"].as_str().unwrap().len() == 11);
        assert!(!m["password"].as_str().unwrap().is_empty());

        let past = call(
            &app,
            "POST",
            "/v1/meetings",
            Some(&token),
            Some(json!({ "title": "Late", "start": "2020-01-01T10:00:00Z", "end": "2020-01-01T11:00:00Z" })),
        )
        .await;
        assert_eq!(past.status, StatusCode::BAD_REQUEST);
        assert_eq!(past.body["message"], "The start time must be later than the current time.");
        assert_eq!(past.body["errors"][0]["description"], past.body["message"]);
        let long = json!({ "title": "Marathon", "start": "2099-01-01T00:00:00Z", "end": "2099-01-02T00:01:00Z" });
        assert_eq!(call(&app, "POST", "/v1/meetings", Some(&token), Some(long)).await.status, StatusCode::BAD_REQUEST);
        let zone = json!({ "title": "Where", "start": "2099-01-01T10:00:00", "end": "2099-01-01T11:00:00", "timezone": "Mars/Olympus" });
        assert_eq!(call(&app, "POST", "/v1/meetings", Some(&token), Some(zone)).await.status, StatusCode::BAD_REQUEST);

        // Join: the default redirects; joinDirectly false answers the links.
        let redirect = call(&app, "POST", "/v1/meetings/join", Some(&token), Some(json!({ "meetingId": id }))).await;
        assert_eq!(redirect.status, StatusCode::FOUND);
        let links = call(&app, "POST", "/v1/meetings/join", Some(&token), Some(json!({ "meetingId": id, "joinDirectly": false }))).await;
        let start = links.body["startLink"].as_str().unwrap().replace("http://127.0.0.1:9", "");
        assert!(start.contains("?st="));
        assert_eq!(call(&app, "GET", &start, None, None).await.status, StatusCode::OK);
        assert_eq!(call(&app, "GET", &format!("/v1/meetings/{id}"), Some(&token), None).await.body["state"], "inProgress");

        assert_eq!(call(&app, "DELETE", &format!("/v1/meetings/{id}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
        let gone = call(&app, "GET", &format!("/v1/meetings/{id}"), Some(&token), None).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(gone.body["message"], NOT_FOUND);
        assert_eq!(call(&app, "GET", "/v1/people/me", Some("unknown"), None).await.body["message"], UNAUTHORIZED);
    }

    #[tokio::test]
    async fn held_meetings_page_by_link_header_and_participants_need_an_instance_id() {
        let (server, app) = app();
        let (token, now) = {
            let mut inner = server.lock();
            let now = inner.now();
            (inner.webex.sign_in(now).0, now)
        };
        let ids = {
            let mut inner = server.lock();
            inner.webex.seed_past(25, now - 5 * 86_400, 3, now)
        };
        let mut seen = Vec::new();
        let mut uri = "/v1/meetings?meetingType=meeting&max=10".to_string();
        let mut pages = 0;
        loop {
            let r = call(&app, "GET", &uri, Some(&token), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            pages += 1;
            seen.extend(r.body["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()));
            let Some(link) = r.headers.get(header::LINK) else { break };
            let link = link.to_str().unwrap();
            assert!(link.ends_with(">; rel=\"next\""), "{link}");
            uri = link.trim_start_matches("<http://127.0.0.1:9").split_once('>').unwrap().0.to_string();
            assert!(uri.contains("cursor=") && uri.contains("from=") && uri.contains("max=10"), "{uri}");
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ids, "every held meeting once, by start");
        assert_eq!(call(&app, "GET", "/v1/meetings?meetingType=meeting&max=101", Some(&token), None).await.status, StatusCode::BAD_REQUEST);

        let instance = &ids[0];
        let series = instance.split("_I_").next().unwrap();
        let by_series = call(&app, "GET", &format!("/v1/meetingParticipants?meetingId={series}"), Some(&token), None).await;
        assert_eq!(by_series.status, StatusCode::BAD_REQUEST);
        let unknown = call(&app, "GET", "/v1/meetingParticipants?meetingId=0123_I_4", Some(&token), None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        let first = call(&app, "GET", &format!("/v1/meetingParticipants?meetingId={instance}&max=2"), Some(&token), None).await;
        assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
        assert_eq!(first.body["items"][0]["host"], true);
        let next = first.headers[header::LINK].to_str().unwrap();
        let next = next.trim_start_matches("<http://127.0.0.1:9").split_once('>').unwrap().0.to_string();
        let second = call(&app, "GET", &next, Some(&token), None).await;
        assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
        assert!(second.headers.get(header::LINK).is_none());

        let none = call(&app, "GET", &format!("/v1/recordings?meetingId={instance}"), Some(&token), None).await;
        assert_eq!(none.body, json!({ "items": [] }));
        let recorded = {
            let mut inner = server.lock();
            let id = inner.webex.add_series("Demo", "", "UTC", chrono_tz::UTC, now - 3_600, now - 1_800, Host::user(), None);
            inner.webex.end(&id, now - 3_600, 30, &[], true).unwrap()
        };
        let recs = call(&app, "GET", &format!("/v1/recordings?meetingId={recorded}"), Some(&token), None).await;
        assert_eq!(recs.body["items"][0]["meetingId"], json!(recorded));
        assert_eq!(recs.body["items"][0]["durationSeconds"], 1_800);
        assert_eq!(recs.body["items"][0]["format"], "MP4");
    }

    #[tokio::test]
    async fn webex_paths_fail_with_webex_bodies_and_a_retry_after() {
        let (server, app) = app();
        let token = {
            let mut inner = server.lock();
            let now = inner.now();
            inner.webex.sign_in(now).0
        };
        server.lock().faults.push(crate::Fault::new(FaultKind::RateLimited { retry_after: None }).on("GET", "/v1/meetings"));
        let r = call(&app, "GET", "/v1/meetings", Some(&token), None).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers[header::RETRY_AFTER], "1");
        assert!(r.body["trackingId"].is_string());
        assert_eq!(call(&app, "GET", "/v1/meetings", Some(&token), None).await.status, StatusCode::OK);
        assert_eq!(call(&app, "GET", "/v1/nothing-here", Some(&token), None).await.body["message"], NOT_FOUND);
    }
}
