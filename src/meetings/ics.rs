//! The `.ics` invitation of a meeting (RFC 5545): one VEVENT set in the meeting's time
//! zone, with a VTIMEZONE that carries that zone's offsets for the meeting's year, so
//! every calendar shows the right time whatever its own zone database says.
//!
//! Written here: the iCalendar crates either parse only or leave VTIMEZONE to the
//! caller, and the writing itself is escaping and line folding; the zone's
//! transitions come from chrono-tz (`schedule::transitions`).

use chrono::{Datelike as _, NaiveDateTime, TimeZone as _};
use chrono_tz::Tz;

use super::schedule::{self, format_offset};
use super::MeetingEntry;

const PRODID: &str = "-//Ringside//Meetings//EN";

/// TEXT values: backslash, semicolon and comma escaped, newlines as `\n`.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets (never inside a UTF-8 character), CRLF ended.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn utc(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().format("%Y%m%dT%H%M%SZ").to_string()
}

/// The zone's observances over the meeting's year: the one in force on 1 January, then
/// one per change of offset.
fn vtimezone(out: &mut String, zone: Tz, start: i64) {
    let year = schedule::local_time(zone, start).year();
    let from = zone.with_ymd_and_hms(year, 1, 1, 0, 0, 0).earliest().map(|t| t.timestamp()).unwrap_or(start - 366 * 86_400);
    let to = zone.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).earliest().map(|t| t.timestamp()).unwrap_or(start + 366 * 86_400);
    let transitions = schedule::transitions(zone, from, to);
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{}", zone.name()));
    let first_offset = transitions.first().map(|t| t.from).unwrap_or_else(|| schedule::offset_secs(zone, from));
    let first_is_daylight = transitions.first().is_some_and(|t| t.to < t.from);
    let observance = |out: &mut String, daylight: bool, at_local: NaiveDateTime, from: i32, to: i32, name: &str| {
        let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
        line(out, &format!("BEGIN:{kind}"));
        line(out, &format!("DTSTART:{}", local(at_local)));
        line(out, &format!("TZOFFSETFROM:{}", format_offset(from)));
        line(out, &format!("TZOFFSETTO:{}", format_offset(to)));
        line(out, &format!("TZNAME:{}", text(name)));
        line(out, &format!("END:{kind}"));
    };
    observance(out, first_is_daylight, schedule::local_time(zone, from), first_offset, first_offset, &schedule::abbreviation(zone, from));
    for t in &transitions {
        // DTSTART of an observance is the local time just before the change, as the
        // clocks showed it (in the offset being left).
        let before = chrono::DateTime::from_timestamp(t.at + i64::from(t.from), 0).unwrap_or_default().naive_utc();
        observance(out, t.to > t.from, before, t.from, t.to, &t.name);
    }
    line(out, "END:VTIMEZONE");
}

/// The invitation for `m`, stamped `now` (unix seconds). Attendees are the meeting's
/// invitees; `organizer` is the rep's address when known.
pub fn invitation(m: &MeetingEntry, organizer: Option<&str>, now: i64) -> String {
    let zone: Tz = m.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let end = m.start_at + i64::from(m.duration_mins) * 60;
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:{PRODID}"));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:REQUEST");
    vtimezone(&mut out, zone, m.start_at);
    line(&mut out, "BEGIN:VEVENT");
    line(&mut out, &format!("UID:{}-{}@ringside", m.provider.as_str(), text(&m.meeting_id)));
    line(&mut out, &format!("DTSTAMP:{}", utc(now)));
    line(&mut out, &format!("DTSTART;TZID={}:{}", zone.name(), local(schedule::local_time(zone, m.start_at))));
    line(&mut out, &format!("DTEND;TZID={}:{}", zone.name(), local(schedule::local_time(zone, end))));
    line(&mut out, &format!("SUMMARY:{}", text(&m.topic)));
    line(&mut out, &format!("LOCATION:{}", text(&m.join_url)));
    line(&mut out, &format!("URL:{}", m.join_url));
    line(&mut out, &format!("DESCRIPTION:{}", text(&super::event::description(m))));
    if let Some(address) = organizer {
        line(&mut out, &format!("ORGANIZER:mailto:{address}"));
    }
    for address in &m.invitees {
        line(&mut out, &format!("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{address}"));
    }
    line(&mut out, "STATUS:CONFIRMED");
    line(&mut out, "SEQUENCE:0");
    line(&mut out, "END:VEVENT");
    line(&mut out, "END:VCALENDAR");
    out
}

/// A file name for the invitation: the topic's letters, `.ics`.
pub fn file_name(m: &MeetingEntry) -> String {
    let stem: String = m.topic.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).take(60).collect();
    let stem = stem.trim_matches('_');
    format!("{}.ics", if stem.is_empty() { "meeting" } else { stem })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::Provider;

    fn meeting() -> MeetingEntry {
        MeetingEntry {
            id: 9,
            provider: Provider::Jitsi,
            meeting_id: "RenewalReview-abc".into(),
            topic: "Renewal review; Q3, 2027".into(),
            agenda: "Prices\nDelivery".into(),
            join_url: "https://meet.jit.si/RenewalReview-abc".into(),
            passcode: None,
            // 2027-03-29 09:00 in New York (EDT, -04:00), after the US change of 14 March.
            start_at: 1_806_325_200,
            duration_mins: 45,
            time_zone: "America/New_York".into(),
            instant: false,
            invitees: vec!["ana@acme.example".into(), "bob@acme.example".into()],
            who: None,
            what: None,
            ..MeetingEntry::default()
        }
    }

    #[test]
    fn the_invitation_is_set_in_the_meetings_zone_with_its_rules() {
        let ics = invitation(&meeting(), Some("rep@example.com"), 1_800_000_000);
        assert!(ics.ends_with("END:VCALENDAR\r\n") && !ics.replace("\r\n", "").contains('\n'), "CRLF lines only");
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "folded: {l}");
        }
        let unfolded = ics.replace("\r\n ", "");
        for part in [
            "DTSTART;TZID=America/New_York:20270329T090000",
            "DTEND;TZID=America/New_York:20270329T094500",
            "SUMMARY:Renewal review\\; Q3\\, 2027",
            "TZID:America/New_York",
            "BEGIN:DAYLIGHT\r\nDTSTART:20270314T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT",
            "BEGIN:STANDARD\r\nDTSTART:20271107T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST",
            "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@acme.example",
            "ORGANIZER:mailto:rep@example.com",
            "LOCATION:https://meet.jit.si/RenewalReview-abc",
            "Prices\\nDelivery",
            "UID:jitsi-RenewalReview-abc@ringside",
        ] {
            assert!(unfolded.contains(part), "{part} missing from\n{unfolded}");
        }
        assert_eq!(file_name(&meeting()), "Renewal_review__Q3__2027.ics");
    }

    #[test]
    fn a_zone_without_changes_has_one_observance_and_long_text_folds_on_characters() {
        let mut m = meeting();
        m.time_zone = "Asia/Tokyo".into();
        m.topic = "打ち合わせ".repeat(10);
        let ics = invitation(&m, None, 0);
        let unfolded = ics.replace("\r\n ", "");
        assert_eq!(unfolded.matches("BEGIN:STANDARD").count(), 1);
        assert!(!unfolded.contains("BEGIN:DAYLIGHT"));
        assert!(unfolded.contains("TZOFFSETTO:+0900") && unfolded.contains("DTSTART;TZID=Asia/Tokyo:20270329T220000"));
        assert!(unfolded.contains(&format!("SUMMARY:{}", m.topic)));
        assert!(!unfolded.contains("ORGANIZER"));
    }
}
