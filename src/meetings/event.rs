//! A meeting as a Salesforce Event: the fields written, and what Salesforce's refusal
//! of one means for the rep.
//!
//! The join address is the Event's Location: it is what a rep clicks in Salesforce,
//! and, being unique per meeting, it is also how an insert whose answer was lost is
//! found again (Location is filterable; the Description is not).

use chrono::{TimeZone as _, Utc};
use serde_json::{Map, Value};

use super::MeetingEntry;
use crate::calllog::outbox::{self, Verdict};
use crate::crm::ApiError;

/// Longest Location and Subject Salesforce's Event takes.
pub const MAX_LOCATION: usize = 255;
pub const MAX_SUBJECT: usize = 255;

/// An instant in Salesforce's dateTime form (`2026-12-02T15:00:00.000+0000`).
pub fn sf_datetime(unix_secs: i64) -> String {
    Utc.timestamp_opt(unix_secs, 0)
        .single()
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars - 1).collect();
    out.push('\u{2026}');
    out
}

/// What the Event's Location holds: the join address, or — for an address too long for
/// the field — the provider and meeting id (the address is then in the Description).
pub fn location(m: &MeetingEntry) -> String {
    if m.join_url.len() <= MAX_LOCATION {
        m.join_url.clone()
    } else {
        clip(&format!("{} meeting {}", m.provider.label(), m.meeting_id), MAX_LOCATION)
    }
}

/// The Description: how to join, in plain text, as a rep reads it in Salesforce.
pub fn description(m: &MeetingEntry) -> String {
    let mut lines = vec![format!("{} meeting", m.provider.label()), format!("Join: {}", m.join_url)];
    if m.provider != super::Provider::Jitsi {
        lines.push(format!("Meeting ID: {}", m.meeting_id));
    }
    if let Some(code) = &m.passcode {
        lines.push(format!("Passcode: {code}"));
    }
    lines.push(format!("Time zone: {}", m.time_zone));
    if !m.invitees.is_empty() {
        lines.push(format!("Invitees: {}", m.invitees.join(", ")));
    }
    if !m.agenda.is_empty() {
        lines.push(String::new());
        lines.push(m.agenda.clone());
    }
    lines.join("\n")
}

/// The fields of the Event for a meeting, for an insert.
pub fn event_fields(m: &MeetingEntry) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("Subject".into(), Value::String(clip(&m.topic, MAX_SUBJECT)));
    f.insert("StartDateTime".into(), Value::String(sf_datetime(m.start_at)));
    f.insert("EndDateTime".into(), Value::String(sf_datetime(m.start_at + i64::from(m.duration_mins) * 60)));
    f.insert("Location".into(), Value::String(location(m)));
    f.insert("Description".into(), Value::String(description(m)));
    if let Some(who) = &m.who {
        f.insert("WhoId".into(), Value::String(who.id.clone()));
    }
    if let Some(what) = &m.what {
        f.insert("WhatId".into(), Value::String(what.id.clone()));
    }
    f
}

/// One Event of a collection was refused: what the rep must do.
pub fn event_refused(errors: &[ApiError], m: &MeetingEntry) -> Verdict {
    if let Some(v) = outbox::transient(errors, "the meeting's Event") {
        return v;
    }
    let first = &errors[0];
    let message = outbox::messages(errors);
    let on = |name: &str| errors.iter().any(|e| e.fields.iter().any(|f| f == name));
    match first.error_code.as_str() {
        "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" if on("WhatId") => Verdict::Park {
            reason: format!(
                "The related record \u{201c}{}\u{201d} of this meeting no longer exists in Salesforce. The meeting is kept; retry after picking another record, or record the Event by hand.",
                m.what.as_ref().map(|w| w.name.as_str()).unwrap_or("?")
            ),
        },
        "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" | "CANNOT_UPDATE_CONVERTED_LEAD" => Verdict::Park {
            reason: format!(
                "The person of this meeting (\u{201c}{}\u{201d}) no longer exists in Salesforce as they were (deleted, merged or converted). The meeting is kept; its Event was not recorded.",
                m.who.as_ref().map(|w| w.name.as_str()).unwrap_or("?")
            ),
        },
        "FIELD_CUSTOM_VALIDATION_EXCEPTION" => Verdict::Park {
            reason: format!("A validation rule of your org refused the meeting's Event: {message}. Ask your Salesforce admin, then retry."),
        },
        code => Verdict::Park { reason: format!("Salesforce refused the meeting's Event: {message} ({code}). Ask your Salesforce admin, then retry.") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calllog::RecordRef;
    use crate::meetings::{EventSync, Provider};

    fn meeting(url: &str) -> MeetingEntry {
        MeetingEntry {
            id: 1,
            provider: Provider::Zoom,
            meeting_id: "85746065432".into(),
            topic: "Meeting with Ana Lima".into(),
            agenda: "Renewal".into(),
            join_url: url.into(),
            passcode: Some("x1y2".into()),
            start_at: 1_796_220_000,
            duration_mins: 45,
            time_zone: "Europe/Paris".into(),
            instant: true,
            invitees: vec!["bob@example.com".into()],
            who: Some(RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Ana Lima".into() }),
            what: None,
            event: EventSync::Pending { reason: None, next_attempt_at: None },
        }
    }

    #[test]
    fn the_event_holds_the_times_the_link_and_how_to_join() {
        let m = meeting("https://zoom.example/j/85746065432?pwd=abc");
        let f = event_fields(&m);
        assert_eq!(f["StartDateTime"], "2026-12-02T14:00:00.000+0000");
        assert_eq!(f["EndDateTime"], "2026-12-02T14:45:00.000+0000");
        assert_eq!(f["Location"], m.join_url.as_str());
        assert_eq!(f["WhoId"], "003000000000001AAA");
        assert!(f.get("WhatId").is_none());
        let d = f["Description"].as_str().unwrap();
        for part in ["Zoom meeting", "Join: https://zoom.example/j/", "Meeting ID: 85746065432", "Passcode: x1y2", "Invitees: bob@example.com", "Renewal"] {
            assert!(d.contains(part), "{part} missing from {d}");
        }
    }

    #[test]
    fn a_join_address_too_long_for_location_goes_to_the_description() {
        let long = format!("https://zoom.example/j/1?pwd={}", "a".repeat(300));
        let m = meeting(&long);
        assert_eq!(location(&m), "Zoom meeting 85746065432");
        assert!(description(&m).contains(&long));
    }
}
