//! Zoom: meetings for the signed-in user (`me`) through the REST API v2 — create
//! instant (type 1) and scheduled (type 2) meetings, and after the fact read how the
//! meeting went: the past meeting's details, its participants (paged with
//! `next_page_token`) and its cloud recordings.
//!
//! Zoom's UUID rule: a meeting UUID that begins with `/` or holds `//` must be encoded
//! twice in a path; [`uuid_path`] does it.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use reqwest::Method;
use serde_json::{json, Value};

use super::account::{ApiFailure, Client};
use super::external::{self, HeldMeeting};
use super::{Attendee, CheckedRequest, CreatedMeeting, Held, MeetingEntry, MeetingError, RemoteState};

/// Largest page Zoom serves.
pub const PAGE_SIZE: usize = 300;

/// A meeting UUID as a path segment, by Zoom's rule.
pub fn uuid_path(uuid: &str) -> String {
    let once = utf8_percent_encode(uuid, NON_ALPHANUMERIC).to_string();
    if uuid.starts_with('/') || uuid.contains("//") {
        utf8_percent_encode(&once, NON_ALPHANUMERIC).to_string()
    } else {
        once
    }
}

fn fmt_utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_utc(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp())
}

/// What Zoom's refusal of a request says, for the rep.
fn refused(f: &ApiFailure) -> MeetingError {
    let message = f.body["message"].as_str().unwrap_or("the request was refused");
    let fields: Vec<String> = f.body["errors"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    let detail = if fields.is_empty() { message.to_string() } else { format!("{message} {}", fields.join("; ")) };
    MeetingError::Refused { provider: "Zoom", message: detail }
}

fn is_missing(f: &ApiFailure) -> bool {
    f.status == 404 || matches!(f.body["code"].as_u64(), Some(3001 | 3301))
}

/// The create body for a checked request.
pub fn create_body(r: &CheckedRequest) -> Value {
    let invitees: Vec<Value> = r.invitees.iter().map(|e| json!({ "email": e })).collect();
    let mut body = json!({
        "topic": r.topic,
        "type": if r.instant { 1 } else { 2 },
        "duration": r.duration_mins,
        "timezone": r.time_zone.name(),
        "agenda": r.agenda,
        "settings": {
            "join_before_host": r.options.join_before_host,
            "waiting_room": r.options.waiting_room,
            "use_pmi": r.options.use_pmi && !r.instant,
            "meeting_invitees": invitees,
        },
    });
    if !r.instant {
        body["start_time"] = Value::String(fmt_utc(r.start_at));
    }
    body
}

pub async fn create(client: &Client, r: &CheckedRequest, now: i64) -> Result<CreatedMeeting, MeetingError> {
    let answer = client.call(Method::POST, "/v2/users/me/meetings", &[], Some(&create_body(r)), now).await?;
    let v = answer.map_err(|f| refused(&f))?;
    let uuid = v["uuid"].as_str().unwrap_or_default();
    let number = v["id"].as_u64().map(|n| n.to_string()).or_else(|| v["id"].as_str().map(str::to_string));
    let (Some(number), Some(join), Some(start)) = (number, v["join_url"].as_str(), v["start_url"].as_str()) else {
        return Err(MeetingError::Unavailable { provider: "Zoom", message: "Zoom's answer had no meeting id or links".into() });
    };
    crate::secrets::remember_secret(start);
    Ok(CreatedMeeting {
        meeting_id: if uuid.is_empty() { number.clone() } else { uuid.to_string() },
        number: Some(number),
        join_url: join.to_string(),
        start_url: start.to_string(),
        passcode: v["password"].as_str().filter(|p| !p.is_empty()).map(str::to_string),
        host: v["host_email"].as_str().map(str::to_string),
    })
}

/// How the meeting stands at Zoom now.
pub async fn check(client: &Client, m: &MeetingEntry, now: i64) -> Result<RemoteState, MeetingError> {
    let uuid = uuid_path(&m.meeting_id);
    match client.call(Method::GET, &format!("/v2/past_meetings/{uuid}"), &[], None, now).await? {
        Ok(past) => {
            let actual_start = past["start_time"].as_str().and_then(parse_utc).unwrap_or(m.start_at);
            let actual_minutes = past["duration"].as_u64().unwrap_or(0) as u32;
            let attendees = participants(client, &uuid, now).await?;
            let recordings = recordings(client, &uuid, now).await?;
            return Ok(RemoteState::Ended(Held { actual_start, actual_minutes, attendees, recordings }));
        }
        Err(f) if is_missing(&f) => {}
        Err(f) => return Err(refused(&f)),
    }
    let number = m.number.as_deref().unwrap_or(&m.meeting_id);
    match client.call(Method::GET, &format!("/v2/meetings/{}", utf8_percent_encode(number, NON_ALPHANUMERIC)), &[], None, now).await? {
        Ok(v) => Ok(match v["status"].as_str() {
            Some("started") => RemoteState::Started,
            _ => RemoteState::Scheduled,
        }),
        Err(f) if is_missing(&f) => Ok(RemoteState::Deleted),
        Err(f) => Err(refused(&f)),
    }
}

/// Everyone who joined, once each (a participant who rejoined is listed by Zoom once per
/// join), by email when they have one, else by name.
async fn participants(client: &Client, uuid: &str, now: i64) -> Result<Vec<Attendee>, MeetingError> {
    let mut out: Vec<Attendee> = Vec::new();
    let mut token = String::new();
    loop {
        let mut query = vec![("page_size", PAGE_SIZE.to_string())];
        if !token.is_empty() {
            query.push(("next_page_token", token.clone()));
        }
        let page = client.call(Method::GET, &format!("/v2/past_meetings/{uuid}/participants"), &query, None, now).await?.map_err(|f| refused(&f))?;
        for p in page["participants"].as_array().into_iter().flatten() {
            super::add_attendee(&mut out, p["name"].as_str().unwrap_or_default(), p["user_email"].as_str());
        }
        token = page["next_page_token"].as_str().unwrap_or_default().to_string();
        if token.is_empty() {
            return Ok(out);
        }
    }
}

async fn recordings(client: &Client, uuid: &str, now: i64) -> Result<Vec<String>, MeetingError> {
    match client.call(Method::GET, &format!("/v2/meetings/{uuid}/recordings"), &[], None, now).await? {
        Ok(v) => Ok(v["share_url"]
            .as_str()
            .map(|s| vec![s.to_string()])
            .filter(|l| !l.is_empty())
            .or_else(|| {
                v["recording_files"]
                    .as_array()
                    .map(|files| files.iter().filter_map(|f| f["play_url"].as_str().map(str::to_string)).collect())
            })
            .unwrap_or_default()),
        Err(f) if is_missing(&f) => Ok(Vec::new()),
        Err(f) => Err(refused(&f)),
    }
}

/// The meetings held between `from` and `to`: Zoom lists previous meetings by whole
/// days (UTC), so the list is asked for the days covering the range and trimmed to it.
pub async fn held(client: &Client, from: i64, to: i64, now: i64) -> Result<Vec<HeldMeeting>, MeetingError> {
    external::check_range(from, to)?;
    // The list names the host by id only; the signed-in user is who hosted them.
    let me = client.call(Method::GET, "/v2/users/me", &[], None, now).await?.map_err(|f| refused(&f))?;
    let host = me["email"].as_str().map(str::to_string);
    let day = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d").to_string();
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let mut query = vec![
            ("type", "previous_meetings".to_string()),
            ("from", day(from)),
            ("to", day(to - 1)),
            ("page_size", PAGE_SIZE.to_string()),
        ];
        if !token.is_empty() {
            query.push(("next_page_token", token.clone()));
        }
        let page = client.call(Method::GET, "/v2/users/me/meetings", &query, None, now).await?.map_err(|f| refused(&f))?;
        if page["total_records"].as_u64().is_some_and(|n| n as usize > external::MAX_LISTED) {
            return Err(external::too_many(super::Provider::Zoom, from, to));
        }
        for m in page["meetings"].as_array().into_iter().flatten() {
            let Some(start) = m["start_time"].as_str().and_then(parse_utc) else { continue };
            if start < from || start >= to {
                continue;
            }
            out.push(HeldMeeting {
                provider: super::Provider::Zoom,
                meeting_id: m["uuid"].as_str().unwrap_or_default().to_string(),
                series_id: None,
                number: m["id"].as_u64().map(|n| n.to_string()),
                topic: m["topic"].as_str().unwrap_or_default().to_string(),
                start_at: start,
                minutes: m["duration"].as_u64().unwrap_or(0) as u32,
                join_url: m["join_url"].as_str().unwrap_or_default().to_string(),
                host: m["host_email"].as_str().map(str::to_string).or_else(|| host.clone()),
                attendees: Vec::new(),
            });
            if out.len() > external::MAX_LISTED {
                return Err(external::too_many(super::Provider::Zoom, from, to));
            }
        }
        token = page["next_page_token"].as_str().unwrap_or_default().to_string();
        if token.is_empty() {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_with_slashes_is_encoded_twice() {
        assert_eq!(uuid_path("4444AAAiAAAAAiAiAiiAii=="), "4444AAAiAAAAAiAiAiiAii%3D%3D");
        assert_eq!(uuid_path("/ajXp112QmuoKj4854875=="), "%252FajXp112QmuoKj4854875%253D%253D");
        assert_eq!(uuid_path("ab//cd+e=="), "ab%252F%252Fcd%252Be%253D%253D");
    }
}

/// Zoom behind the providers' trait.
pub struct Zoom<'c>(pub &'c Client);

impl super::MeetingService for Zoom<'_> {
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
        participants(self.0, &uuid_path(&meeting.meeting_id), now).await
    }
}
