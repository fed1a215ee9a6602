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
/// Event.Description is a 32,000-character long text area.
pub const MAX_DESCRIPTION: usize = 32_000;

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

/// When and how long it was: as held once the provider says so, else as planned.
pub fn span(m: &MeetingEntry) -> (i64, i64) {
    match &m.held {
        Some(h) => (h.actual_start, h.actual_start + i64::from(h.actual_minutes.max(1)) * 60),
        None => (m.start_at, m.start_at + i64::from(m.duration_mins) * 60),
    }
}

/// The Description: how it went (once known), then how to join, in plain text, as a
/// rep reads it in Salesforce.
pub fn description(m: &MeetingEntry) -> String {
    let mut lines = Vec::new();
    match (&m.status, &m.held) {
        (super::MeetingStatus::Deleted, _) => {
            lines.push(format!("Cancelled: this meeting was deleted in {}.", m.provider.label()));
            lines.push(String::new());
        }
        (_, Some(h)) => {
            let start = Utc.timestamp_opt(h.actual_start, 0).single().unwrap_or_default().format("%Y-%m-%d %H:%M UTC");
            let verdict = if super::was_held(h) { "Held" } else { "Not held (nobody joined besides the host)" };
            lines.push(format!("{verdict}: started {start}, {} min, {} attended.", h.actual_minutes, h.attendees.len()));
            for a in &h.attendees {
                lines.push(match &a.email {
                    Some(e) => format!("- {} <{e}>", a.name),
                    None => format!("- {}", a.name),
                });
            }
            for r in &h.recordings {
                lines.push(format!("Recording: {r}"));
            }
            lines.push(String::new());
        }
        _ => {}
    }
    lines.push(format!("{} meeting", m.provider.label()));
    lines.push(format!("Join: {}", m.join_url));
    if m.provider != super::Provider::Jitsi {
        lines.push(format!("Meeting ID: {}", m.number.as_deref().unwrap_or(&m.meeting_id)));
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

/// The fields of the Event for a meeting, for an insert or — with everything learnt
/// since — an update: writing them twice leaves the same Event.
///
/// Default mapping (documented in docs/ARCHITECTURE.md): the actual start and length
/// become StartDateTime/EndDateTime; status, attendees and recording links head the
/// Description; a meeting deleted at the provider gets "Cancelled: " before its Subject.
pub fn event_fields(m: &MeetingEntry) -> Map<String, Value> {
    let mut f = Map::new();
    let subject = match m.status {
        super::MeetingStatus::Deleted => format!("Cancelled: {}", m.topic),
        _ => m.topic.clone(),
    };
    let (start, end) = span(m);
    f.insert("Subject".into(), Value::String(clip(&subject, MAX_SUBJECT)));
    f.insert("StartDateTime".into(), Value::String(sf_datetime(start)));
    f.insert("EndDateTime".into(), Value::String(sf_datetime(end)));
    f.insert("Location".into(), Value::String(location(m)));
    f.insert("Description".into(), Value::String(clip(&description(m), MAX_DESCRIPTION)));
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
    use crate::meetings::Provider;

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
            ..MeetingEntry::default()
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
