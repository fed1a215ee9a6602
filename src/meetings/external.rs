//! Meetings held outside Ringside (started in the Zoom or Webex client, or booked from
//! a calendar): listed by date range at the provider, their attendees matched to
//! Salesforce Contacts and Leads, and recorded as Events for the ones the rep picks.
//!
//! What must stay true: a listing that would pass [`MAX_LISTED`] meetings stops and asks
//! for a narrower range instead of spending the rep's API allowance; a meeting already
//! recorded (by Ringside or by an earlier import) is never recorded twice.

use serde::{Deserialize, Serialize};

use super::{Attendee, MeetingError, Provider};

/// The most meetings one listing returns; above it the rep narrows the range.
pub const MAX_LISTED: usize = 2_700;
/// The longest range one listing covers.
pub const MAX_RANGE_DAYS: i64 = 366;

/// One meeting held at a provider, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HeldMeeting {
    pub provider: Provider,
    /// The id of this occurrence (Zoom's meeting UUID, Webex's meeting instance id).
    pub meeting_id: String,
    /// Webex: the series this occurrence belongs to.
    #[serde(default)]
    pub series_id: Option<String>,
    /// The number people type to join, when there is one.
    pub number: Option<String>,
    pub topic: String,
    /// Unix seconds.
    #[specta(type = u32)]
    pub start_at: i64,
    pub minutes: u32,
    pub join_url: String,
    /// Who hosted it (an email address), when the provider says.
    pub host: Option<String>,
    /// Filled by [`super::MeetingService::attendees`].
    #[serde(default)]
    pub attendees: Vec<Attendee>,
}

/// Checks a listing range (unix seconds, `to` exclusive).
pub fn check_range(from: i64, to: i64) -> Result<(), MeetingError> {
    if to <= from {
        return Err(MeetingError::Invalid("The range ends before it starts: pick a start date before the end date.".into()));
    }
    if to - from > MAX_RANGE_DAYS * 86_400 {
        return Err(MeetingError::Invalid(format!("Meetings are listed for at most {MAX_RANGE_DAYS} days at a time: pick a shorter range.")));
    }
    Ok(())
}

/// The refusal when a listing passes [`MAX_LISTED`].
pub fn too_many(provider: Provider, from: i64, to: i64) -> MeetingError {
    let day = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d").to_string();
    MeetingError::Invalid(format!(
        "{} has more than {} meetings between {} and {}: pick a narrower range.",
        provider.label(),
        thousands(MAX_LISTED),
        day(from),
        day(to - 1)
    ))
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A person's first and last name from a display name (`Ana Lima`, `Lima, Ana`), for
/// the by-name match; `None` when it is not two parts or more.
pub fn split_name(display: &str) -> Option<(String, String)> {
    let display = display.trim();
    if let Some((last, first)) = display.split_once(',') {
        let (first, last) = (first.trim(), last.trim());
        return (!first.is_empty() && !last.is_empty()).then(|| (first.to_string(), last.to_string()));
    }
    let words: Vec<&str> = display.split_whitespace().collect();
    match words.as_slice() {
        [first, rest @ ..] if !rest.is_empty() => Some((first.to_string(), rest.join(" "))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_both_ways_and_single_words_do_not() {
        assert_eq!(split_name(" Ana  Lima "), Some(("Ana".into(), "Lima".into())));
        assert_eq!(split_name("Lima, Ana"), Some(("Ana".into(), "Lima".into())));
        assert_eq!(split_name("Jean Van der Berg"), Some(("Jean".into(), "Van der Berg".into())));
        assert_eq!(split_name("Ana"), None);
        assert_eq!(split_name(", Ana"), None);
    }

    #[test]
    fn ranges_are_checked_and_the_cap_is_named() {
        assert!(check_range(10, 10).is_err());
        assert!(check_range(0, 367 * 86_400).is_err());
        assert!(check_range(0, 86_400).is_ok());
        let e = too_many(Provider::Zoom, 1_800_000_000, 1_800_000_000 + 7 * 86_400).to_string();
        assert!(e.contains("more than 2,700") && e.contains("narrower"), "{e}");
    }
}
