//! Webex: meetings for the signed-in user through the Webex REST API — create a
//! meeting (Webex has no "instant" kind: an instant meeting is one that starts now),
//! get the host's start link, and afterwards read how it went: the ended occurrence
//! ("meeting instance") of the series, its participants and its recordings. Lists
//! are paged with RFC 8288 `Link: <…>; rel="next"` headers.
//!
//! Webex's invitation emails go out for scheduled meetings (`sendEmail`); an instant
//! meeting's invitees hear from the rep (the layout's email on launch), so they are
//! not emailed twice.

use chrono::TimeZone as _;
use reqwest::Method;
use serde_json::{json, Value};

use super::account::{ApiFailure, Client};
use super::external::{self, HeldMeeting};
use super::{Attendee, CheckedRequest, CreatedMeeting, Held, MeetingEntry, MeetingError, Provider, RemoteState};

/// Largest page Webex serves.
pub const PAGE_MAX: usize = 100;
/// Longest title and agenda Webex takes.
pub const MAX_TITLE_CHARS: usize = 128;
pub const MAX_AGENDA_CHARS: usize = 1_300;
/// Shortest meeting Webex schedules.
pub const MIN_DURATION_MINS: u32 = 10;

/// An instant in `zone`, as Webex writes it (`2027-03-28T10:00:00+02:00`).
pub fn fmt_in_zone(t: i64, zone: chrono_tz::Tz) -> String {
    zone.timestamp_opt(t, 0).single().map(|d| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default()
}

fn fmt_utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

/// What Webex's refusal says, for the rep: its `message` and each error's description.
fn refused(f: &ApiFailure) -> MeetingError {
    let message = f.body["message"].as_str().unwrap_or("the request was refused").trim().to_string();
    let details: Vec<&str> = f.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["description"].as_str())
        .filter(|d| !d.is_empty() && *d != message)
        .collect();
    let detail = if details.is_empty() { message } else { format!("{message} ({})", details.join("; ")) };
    MeetingError::Refused { provider: "Webex", message: detail }
}

fn is_missing(f: &ApiFailure) -> bool {
    f.status == 404
}

/// The create body for a checked request.
pub fn create_body(r: &CheckedRequest) -> Value {
    let invitees: Vec<Value> = r.invitees.iter().map(|e| json!({ "email": e })).collect();
    let end = r.start_at + i64::from(r.duration_mins) * 60;
    let mut body = json!({
        "title": r.topic,
        "start": fmt_in_zone(r.start_at, r.time_zone),
        "end": fmt_in_zone(end, r.time_zone),
        "timezone": r.time_zone.name(),
        "enabledJoinBeforeHost": r.options.join_before_host,
        "joinBeforeHostMinutes": if r.options.join_before_host { 5 } else { 0 },
        "sendEmail": !r.instant,
    });
    if !r.agenda.is_empty() {
        body["agenda"] = Value::String(r.agenda.clone());
    }
    if !invitees.is_empty() {
        body["invitees"] = Value::Array(invitees);
    }
    body
}

pub async fn create(client: &Client, r: &CheckedRequest, now: i64) -> Result<CreatedMeeting, MeetingError> {
    let v = client.call(Method::POST, "/v1/meetings", &[], Some(&create_body(r)), now).await?.map_err(|f| refused(&f))?;
    let (Some(id), Some(web_link)) = (v["id"].as_str(), v["webLink"].as_str()) else {
        return Err(MeetingError::Unavailable { provider: "Webex", message: "Webex's answer had no meeting id or link".into() });
    };
    // The host's start link signs the host straight in; when Webex will not give one,
    // the meeting page does the same after the host signs in.
    let start_url = match client.call(Method::POST, "/v1/meetings/join", &[], Some(&json!({ "meetingId": id, "joinDirectly": false })), now).await {
        Ok(Ok(j)) => j["startLink"].as_str().map(str::to_string),
        Ok(Err(f)) => {
            tracing::warn!(status = f.status, "Webex gave no start link; the meeting page is opened instead");
            None
        }
        Err(e) => {
            tracing::warn!(%e, "Webex gave no start link; the meeting page is opened instead");
            None
        }
    }
    .unwrap_or_else(|| web_link.to_string());
    crate::secrets::remember_secret(&start_url);
    Ok(CreatedMeeting {
        meeting_id: id.to_string(),
        number: v["meetingNumber"].as_str().map(str::to_string).or_else(|| v["meetingNumber"].as_u64().map(|n| n.to_string())),
        join_url: web_link.to_string(),
        start_url,
        passcode: v["password"].as_str().filter(|p| !p.is_empty()).map(str::to_string),
        host: v["hostEmail"].as_str().map(str::to_string),
    })
}

/// Every item of a paged list, following `Link` headers; stops with the cap's refusal
/// past `cap` items.
async fn all_items(client: &Client, path: &str, query: &[(&str, String)], now: i64, cap: Option<(usize, MeetingError)>) -> Result<Vec<Value>, MeetingError> {
    let mut items = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let (page, link) = match &next {
            None => client.call_page(Method::GET, path, query, None, now).await?,
            Some(url) => client.call_page(Method::GET, url, &[], None, now).await?,
        }
        .map_err(|f| refused(&f))?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        if let Some((max, e)) = &cap {
            if items.len() > *max {
                return Err(e.clone());
            }
        }
        match link {
            Some(l) if next.as_deref() != Some(l.as_str()) => next = Some(l),
            _ => return Ok(items),
        }
    }
}

/// Everyone who joined an ended occurrence, once each.
async fn participants(client: &Client, instance_id: &str, now: i64) -> Result<Vec<Attendee>, MeetingError> {
    let query = [("meetingId", instance_id.to_string()), ("max", PAGE_MAX.to_string())];
    let mut out = Vec::new();
    for p in all_items(client, "/v1/meetingParticipants", &query, now, None).await? {
        super::add_attendee(&mut out, p["displayName"].as_str().unwrap_or_default(), p["email"].as_str());
    }
    Ok(out)
}

async fn recordings(client: &Client, instance_id: &str, now: i64) -> Result<Vec<String>, MeetingError> {
    let query = [("meetingId", instance_id.to_string()), ("max", PAGE_MAX.to_string())];
    match client.call(Method::GET, "/v1/recordings", &query, None, now).await? {
        Ok(v) => Ok(v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["playbackUrl"].as_str().or(r["downloadUrl"].as_str()).map(str::to_string))
            .collect()),
        Err(f) if is_missing(&f) => Ok(Vec::new()),
        Err(f) => Err(refused(&f)),
    }
}

/// How the meeting stands at Webex now: its occurrences first (one that ended is how
/// it went; one in progress means started), then the series itself (gone: deleted).
pub async fn check(client: &Client, m: &MeetingEntry, now: i64) -> Result<RemoteState, MeetingError> {
    if m.series_id.is_some() {
        return check_occurrence(client, m, now).await;
    }
    let query = [
        ("meetingSeriesId", m.meeting_id.clone()),
        ("meetingType", "meeting".to_string()),
        // A meeting may be started early (the host opens it days before): look back a week.
        ("from", fmt_utc(m.start_at.min(now) - 7 * 86_400)),
        ("to", fmt_utc(now.max(m.start_at) + 86_400)),
        ("max", PAGE_MAX.to_string()),
    ];
    let instances = match client.call(Method::GET, "/v1/meetings", &query, None, now).await? {
        Ok(v) => v["items"].as_array().cloned().unwrap_or_default(),
        Err(f) if is_missing(&f) => Vec::new(),
        Err(f) => return Err(refused(&f)),
    };
    if let Some(ended) = instances.iter().find(|i| i["state"].as_str() == Some("ended")) {
        let id = ended["id"].as_str().unwrap_or_default();
        let start = ended["start"].as_str().and_then(parse_time).unwrap_or(m.start_at);
        let end = ended["end"].as_str().and_then(parse_time).unwrap_or(start);
        let attendees = participants(client, id, now).await?;
        let recordings = recordings(client, id, now).await?;
        let actual_minutes = u32::try_from((end - start).max(0).div_euclid(60)).unwrap_or(u32::MAX);
        return Ok(RemoteState::Ended(Held { actual_start: start, actual_minutes, attendees, recordings }));
    }
    if instances.iter().any(|i| i["state"].as_str() == Some("inProgress")) {
        return Ok(RemoteState::Started);
    }
    let path = format!("/v1/meetings/{}", percent_encoding::utf8_percent_encode(&m.meeting_id, percent_encoding::NON_ALPHANUMERIC));
    match client.call(Method::GET, &path, &[], None, now).await? {
        Ok(v) => Ok(match v["state"].as_str() {
            Some("inProgress") => RemoteState::Started,
            _ => RemoteState::Scheduled,
        }),
        Err(f) if is_missing(&f) => Ok(RemoteState::Deleted),
        Err(f) => Err(refused(&f)),
    }
}

/// An occurrence recorded after the fact (its id is an instance's): read again for
/// late recordings and participants.
async fn check_occurrence(client: &Client, m: &MeetingEntry, now: i64) -> Result<RemoteState, MeetingError> {
    let path = format!("/v1/meetings/{}", percent_encoding::utf8_percent_encode(&m.meeting_id, percent_encoding::NON_ALPHANUMERIC));
    let v = match client.call(Method::GET, &path, &[], None, now).await? {
        Ok(v) => v,
        Err(f) if is_missing(&f) => return Ok(RemoteState::Deleted),
        Err(f) => return Err(refused(&f)),
    };
    if v["state"].as_str() != Some("ended") {
        return Ok(RemoteState::Started);
    }
    let start = v["start"].as_str().and_then(parse_time).unwrap_or(m.start_at);
    let end = v["end"].as_str().and_then(parse_time).unwrap_or(start);
    let attendees = participants(client, &m.meeting_id, now).await?;
    let recordings = recordings(client, &m.meeting_id, now).await?;
    let actual_minutes = u32::try_from((end - start).max(0).div_euclid(60)).unwrap_or(u32::MAX);
    Ok(RemoteState::Ended(Held { actual_start: start, actual_minutes, attendees, recordings }))
}

/// The occurrences that ended between `from` and `to` (unix seconds).
pub async fn held(client: &Client, from: i64, to: i64, now: i64) -> Result<Vec<HeldMeeting>, MeetingError> {
    external::check_range(from, to)?;
    let query = [
        ("meetingType", "meeting".to_string()),
        ("state", "ended".to_string()),
        ("from", fmt_utc(from)),
        ("to", fmt_utc(to)),
        ("max", PAGE_MAX.to_string()),
    ];
    let cap = (external::MAX_LISTED, external::too_many(Provider::Webex, from, to));
    let items = all_items(client, "/v1/meetings", &query, now, Some(cap)).await?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let id = i["id"].as_str()?;
            let start = i["start"].as_str().and_then(parse_time)?;
            let end = i["end"].as_str().and_then(parse_time).unwrap_or(start);
            Some(HeldMeeting {
                provider: Provider::Webex,
                meeting_id: id.to_string(),
                series_id: i["meetingSeriesId"].as_str().map(str::to_string),
                number: i["meetingNumber"].as_str().map(str::to_string),
                topic: i["title"].as_str().unwrap_or_default().to_string(),
                start_at: start,
                minutes: u32::try_from((end - start).max(0).div_euclid(60)).unwrap_or(0),
                join_url: i["webLink"].as_str().unwrap_or_default().to_string(),
                host: i["hostEmail"].as_str().map(str::to_string),
                attendees: Vec::new(),
            })
        })
        .collect())
}

/// Webex behind the providers' trait.
pub struct Webex<'c>(pub &'c Client);

impl super::MeetingService for Webex<'_> {
    async fn create(&self, request: &CheckedRequest, now: i64) -> Result<CreatedMeeting, MeetingError> {
        create(self.0, request, now).await
    }

    async fn check(&self, meeting: &MeetingEntry, now: i64) -> Result<Option<RemoteState>, MeetingError> {
        check(self.0, meeting, now).await.map(Some)
    }

    async fn held(&self, from: i64, to: i64, now: i64) -> Result<Vec<HeldMeeting>, MeetingError> {
        held(self.0, from, to, now).await
    }

    async fn attendees(&self, meeting: &HeldMeeting, now: i64) -> Result<Vec<Attendee>, MeetingError> {
        participants(self.0, &meeting.meeting_id, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::{check as check_request, MeetingRequest, Provider};

    #[test]
    fn a_scheduled_meeting_is_sent_in_its_own_zone_with_the_offset() {
        let request = MeetingRequest {
            provider: Provider::Webex,
            topic: "Renewal".into(),
            time_zone: "Europe/Paris".into(),
            local_start: Some("2027-03-28 10:00".into()),
            duration_mins: 45,
            invitees: vec!["ana@example.com".into()],
            join_before_host: Some(true),
            ..MeetingRequest::default()
        };
        let checked = check_request(&request, 1_800_000_000, "UTC").unwrap();
        let body = create_body(&checked);
        assert_eq!(body["start"], "2027-03-28T10:00:00+02:00");
        assert_eq!(body["end"], "2027-03-28T10:45:00+02:00");
        assert_eq!(body["timezone"], "Europe/Paris");
        assert_eq!((body["enabledJoinBeforeHost"].as_bool(), body["joinBeforeHostMinutes"].as_u64()), (Some(true), Some(5)));
        assert_eq!(body["invitees"][0]["email"], "ana@example.com");
        assert_eq!(body["sendEmail"], true);
    }

    #[test]
    fn a_refusal_names_the_message_and_its_details() {
        let f = ApiFailure {
            status: 400,
            body: json!({"message": "Invalid timezone.", "errors": [{"description": "Invalid timezone."}, {"description": "timezone: Mars/Olympus"}], "trackingId": "X"}),
        };
        assert_eq!(refused(&f).to_string(), "Webex refused the meeting: Invalid timezone. (timezone: Mars/Olympus)");
    }
}
