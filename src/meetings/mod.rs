//! Meetings with the person in front of the rep: what a meeting request is, the rules
//! it must pass before anything is created, and the providers that create it (Jitsi
//! needs no account; Zoom and Webex come behind the same [`Provider`] choice).
//!
//! What must stay true: a request that breaks a rule creates nothing anywhere; a
//! meeting that was created is written to the store together with its Salesforce
//! Event in one transaction, so there is never an Event without a meeting, nor a
//! meeting without its Event queued. A host's start link can carry a credential: it is
//! handed to the opener and never stored.

pub mod account;
pub mod email;
pub mod event;
pub mod ics;
pub mod jitsi;
pub mod external;
pub mod schedule;
pub mod webex;
pub mod zoom;

use serde::{Deserialize, Serialize};

use crate::calllog::RecordRef;

/// Shortest and longest meeting Ringside schedules.
pub const MIN_DURATION_MINS: u32 = 1;
pub const MAX_DURATION_MINS: u32 = 24 * 60;
/// What an instant meeting books in the calendar, unless the rep says otherwise.
pub const DEFAULT_DURATION_MINS: u32 = 30;
pub const MAX_TOPIC_CHARS: usize = 200;
pub const MAX_AGENDA_CHARS: usize = 2_000;
pub const MAX_INVITEES: usize = 100;
/// A scheduled start this far in the past is taken as "now" (the rep took a minute to
/// click); earlier than that is refused.
pub const PAST_GRACE_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum Provider {
    /// Needs no account: the default, so a new rep can meet before connecting anything.
    #[default]
    Jitsi,
    Zoom,
    Webex,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Jitsi => "jitsi",
            Provider::Zoom => "zoom",
            Provider::Webex => "webex",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::Jitsi => "Jitsi Meet",
            Provider::Zoom => "Zoom",
            Provider::Webex => "Webex",
        }
    }

    pub fn parse(value: &str) -> Option<Provider> {
        match value.trim().to_ascii_lowercase().as_str() {
            "jitsi" => Some(Provider::Jitsi),
            "zoom" => Some(Provider::Zoom),
            "webex" => Some(Provider::Webex),
            _ => None,
        }
    }
}

/// A meeting the rep asks for: instant when neither `start_at` nor `local_start` is
/// given. The default is an instant Jitsi meeting with every other default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MeetingRequest {
    pub provider: Provider,
    /// Empty: "Meeting with" the person (or "Ringside meeting").
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub agenda: String,
    /// Unix seconds; `None` (and no `local_start`) starts it now.
    #[serde(default)]
    #[specta(type = Option<u32>)]
    pub start_at: Option<i64>,
    /// Or the start as a wall-clock time in `time_zone` (`2027-03-28T10:00`), which is
    /// how a rep schedules; a time the clocks skip is refused, one they repeat is the
    /// first of the two.
    #[serde(default)]
    pub local_start: Option<String>,
    /// 0: the default length.
    #[serde(default)]
    pub duration_mins: u32,
    /// IANA name of the time zone the meeting is set in; empty: the rep's.
    #[serde(default)]
    pub time_zone: String,
    /// Addresses invited besides the person's own.
    #[serde(default)]
    pub invitees: Vec<String>,
    /// The Contact or Lead the meeting is with (the Event's Who).
    #[serde(default)]
    pub who: Option<RecordRef>,
    /// The Account, Opportunity or Case it is about (the Event's What).
    #[serde(default)]
    pub what: Option<RecordRef>,
    /// Zoom and Webex options; `None` takes the default.
    #[serde(default)]
    pub join_before_host: Option<bool>,
    #[serde(default)]
    pub waiting_room: Option<bool>,
    /// Hold a scheduled Zoom meeting on the rep's personal meeting ID.
    #[serde(default)]
    pub use_pmi: Option<bool>,
}

/// The provider options of a checked request, defaults filled in: attendees wait for
/// the host in a waiting room, and each meeting gets its own ID (a personal meeting ID
/// is the same room every time, which a rep opts into).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingOptions {
    pub join_before_host: bool,
    pub waiting_room: bool,
    pub use_pmi: bool,
}

/// One rule a request breaks, on one of its fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MeetingProblem {
    /// `topic`, `agenda`, `startAt`, `durationMins`, `timeZone`, `invitees`, `who`.
    pub field: String,
    pub message: String,
}

fn problem(field: &str, message: impl Into<String>) -> MeetingProblem {
    MeetingProblem { field: field.to_string(), message: message.into() }
}

/// A request with every default filled in and every rule checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRequest {
    pub provider: Provider,
    pub topic: String,
    pub agenda: String,
    pub start_at: i64,
    pub instant: bool,
    pub duration_mins: u32,
    pub time_zone: chrono_tz::Tz,
    pub invitees: Vec<String>,
    pub who: Option<RecordRef>,
    pub what: Option<RecordRef>,
    pub options: MeetingOptions,
}

/// Fills the defaults (`rep_zone` is the rep's IANA zone) and checks every rule; all
/// the problems are returned at once, so the form can mark each field.
pub fn check(request: &MeetingRequest, now_secs: i64, rep_zone: &str) -> Result<CheckedRequest, Vec<MeetingProblem>> {
    let mut problems = Vec::new();
    let topic = match request.topic.trim() {
        "" => match &request.who {
            Some(who) if !who.name.trim().is_empty() => format!("Meeting with {}", who.name.trim()),
            _ => "Ringside meeting".to_string(),
        },
        t => t.to_string(),
    };
    if topic.chars().count() > MAX_TOPIC_CHARS {
        problems.push(problem("topic", format!("The topic is longer than {MAX_TOPIC_CHARS} characters; shorten it.")));
    }
    let agenda = request.agenda.trim().to_string();
    // Webex takes shorter titles and agendas than the others.
    let (max_topic, max_agenda) = match request.provider {
        Provider::Webex => (webex::MAX_TITLE_CHARS, webex::MAX_AGENDA_CHARS),
        _ => (MAX_TOPIC_CHARS, MAX_AGENDA_CHARS),
    };
    if max_topic < MAX_TOPIC_CHARS && topic.chars().count() > max_topic {
        problems.push(problem("topic", format!("Webex takes topics of at most {max_topic} characters; shorten it.")));
    }
    if agenda.chars().count() > max_agenda {
        problems.push(problem("agenda", format!("The agenda is longer than {max_agenda} characters; shorten it.")));
    }
    let duration_mins = if request.duration_mins == 0 { DEFAULT_DURATION_MINS } else { request.duration_mins };
    if !(MIN_DURATION_MINS..=MAX_DURATION_MINS).contains(&duration_mins) {
        problems.push(problem(
            "durationMins",
            format!("A meeting lasts from 1 minute to 24 hours; {duration_mins} minutes is outside that."),
        ));
    }
    if request.provider == Provider::Webex && duration_mins < webex::MIN_DURATION_MINS {
        problems.push(problem("durationMins", format!("A Webex meeting lasts at least {} minutes.", webex::MIN_DURATION_MINS)));
    }
    let zone_name = match request.time_zone.trim() {
        "" => rep_zone,
        z => z,
    };
    let zone = zone_name.parse::<chrono_tz::Tz>();
    if zone.is_err() {
        problems.push(problem("timeZone", format!("\u{201c}{zone_name}\u{201d} is not a time zone name; pick one such as Europe/Paris or America/New_York.")));
    }
    let time_zone = zone.clone().unwrap_or(chrono_tz::UTC);
    let local_start = request.local_start.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let start = match (request.start_at, local_start) {
        (Some(_), Some(_)) => {
            problems.push(problem("startAt", "Give the start either as an instant or as a local time, not both."));
            None
        }
        (Some(at), None) => Some(at),
        (None, Some(text)) => match (schedule::parse_local(text), &zone) {
            (None, _) => {
                problems.push(problem("startAt", format!("\u{201c}{text}\u{201d} is not a date and time (write 2027-03-28 10:00).")));
                None
            }
            (Some(_), Err(_)) => None,
            (Some(local), Ok(z)) => match schedule::resolve(local, *z) {
                schedule::Resolved::Exact(at) | schedule::Resolved::Twice { first: at, .. } => Some(at),
                schedule::Resolved::Skipped { next } => {
                    problems.push(problem(
                        "startAt",
                        format!(
                            "{} does not exist in {}: the clocks go forward then. The first time after it is {}.",
                            local.format("%Y-%m-%d %H:%M"),
                            z.name(),
                            next.format("%H:%M")
                        ),
                    ));
                    None
                }
            },
        },
        (None, None) => None,
    };
    let (start_at, instant) = match start {
        None if request.start_at.is_none() && local_start.is_none() => (now_secs, true),
        None => (now_secs, false),
        Some(at) if at < now_secs - PAST_GRACE_SECS => {
            problems.push(problem("startAt", "The start time is in the past; pick a time from now on, or start the meeting now."));
            (at, false)
        }
        Some(at) => (at.max(now_secs), false),
    };
    let mut invitees: Vec<String> = Vec::new();
    for raw in &request.invitees {
        let address = raw.trim();
        if address.is_empty() {
            continue;
        }
        match email_problem(address) {
            Some(why) => problems.push(problem("invitees", format!("\u{201c}{address}\u{201d} is not an email address: {why}."))),
            None => {
                if !invitees.iter().any(|a| a.eq_ignore_ascii_case(address)) {
                    invitees.push(address.to_string());
                }
            }
        }
    }
    if invitees.len() > MAX_INVITEES {
        problems.push(problem("invitees", format!("At most {MAX_INVITEES} people can be invited from Ringside.")));
    }
    for (field, record, allowed) in [
        ("who", &request.who, &["Contact", "Lead"][..]),
        ("what", &request.what, &["Account", "Opportunity", "Case"][..]),
    ] {
        if let Some(r) = record {
            if !crate::crm::escape::is_record_id(&r.id) || !(allowed.contains(&r.object.as_str()) || r.object.ends_with("__c")) {
                problems.push(problem(field, format!("{} {} cannot be the meeting's {field}.", r.object, r.id)));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CheckedRequest {
        provider: request.provider,
        topic,
        agenda,
        start_at,
        instant,
        duration_mins,
        time_zone,
        invitees,
        who: request.who.clone(),
        what: request.what.clone(),
        options: MeetingOptions {
            join_before_host: request.join_before_host.unwrap_or(false),
            waiting_room: request.waiting_room.unwrap_or(true),
            use_pmi: request.use_pmi.unwrap_or(false),
        },
    })
}

/// Why `address` is not an address a meeting invitation can go to, if it is not.
///
/// Deliberately narrower than RFC 5322 (no quoted local parts, no IP-literal domains,
/// no dotless hosts): the providers' invitee lists and mail servers refuse those, and
/// a typo such as `ana@acme` or `ana.acme.com` must be caught here, before a meeting
/// exists.
pub fn email_problem(address: &str) -> Option<&'static str> {
    if address.len() > 254 {
        return Some("it is too long");
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Some("it has no @");
    };
    if local.is_empty() || local.len() > 64 {
        return Some("the part before @ is empty or too long");
    }
    let local_ok = local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return Some("the part before @ has characters addresses cannot have");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Some("the domain after @ has no dot");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
    };
    if !labels.iter().all(|l| label_ok(l)) {
        return Some("the domain after @ is not a host name");
    }
    if labels.last().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit())) {
        return Some("the domain after @ is not a host name");
    }
    None
}

/// What every provider does: make a meeting, and say afterwards how it went.
#[allow(async_fn_in_trait)] // used with concrete types only, never as `dyn`
pub trait MeetingService {
    /// Creates the meeting at the provider; nothing is stored yet.
    async fn create(&self, request: &CheckedRequest, now: i64) -> Result<CreatedMeeting, MeetingError>;
    /// How the meeting stands now; `None` when the provider cannot be asked (Jitsi).
    async fn check(&self, meeting: &MeetingEntry, now: i64) -> Result<Option<RemoteState>, MeetingError>;
    /// The meetings held between `from` and `to` (unix seconds), attendees not filled.
    async fn held(&self, from: i64, to: i64, now: i64) -> Result<Vec<external::HeldMeeting>, MeetingError>;
    /// Who attended one of them.
    async fn attendees(&self, meeting: &external::HeldMeeting, now: i64) -> Result<Vec<Attendee>, MeetingError>;
}

/// A meeting the provider made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedMeeting {
    /// The provider's own unique id (Zoom's meeting UUID, Webex's id, Jitsi's room name).
    pub meeting_id: String,
    /// The number people type to join (Zoom's meeting ID), when there is one.
    pub number: Option<String>,
    /// What attendees open.
    pub join_url: String,
    /// What the host opens to start it; may hold a credential, so it is never stored.
    pub start_url: String,
    pub passcode: Option<String>,
    /// The host's address, when the provider says.
    pub host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    #[error("{0}")]
    Invalid(String),
    #[error("{provider} is not connected: connect it in Settings \u{2192} Meetings, or pick another provider.")]
    NotConnected { provider: &'static str },
    #[error("{provider} is not set up: your admin gives you the {provider} app's client ID for Settings \u{2192} Meetings.")]
    NotConfigured { provider: &'static str },
    #[error("{provider} signed Ringside out ({reason}): connect it again in Settings \u{2192} Meetings.")]
    SignedOut { provider: &'static str, reason: String },
    #[error("{provider} asks to slow down ({message}).")]
    RateLimited { provider: &'static str, message: String, retry_at: Option<i64> },
    #[error("{message}.")]
    Unavailable { provider: &'static str, message: String },
    #[error("{provider} refused the meeting: {message}")]
    Refused { provider: &'static str, message: String },
    #[error("{0}")]
    Provider(String),
}

/// Someone who attended a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub name: String,
    pub email: Option<String>,
}

/// How a meeting went, as its provider reports it afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    /// Unix seconds.
    #[specta(type = u32)]
    pub actual_start: i64,
    pub actual_minutes: u32,
    pub attendees: Vec<Attendee>,
    /// Links to its recordings.
    pub recordings: Vec<String>,
}

/// Where a meeting stands at its provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum MeetingStatus {
    /// Not started yet (or, for a provider Ringside cannot ask, unknown).
    #[default]
    Scheduled,
    Started,
    /// It took place: see `held`.
    Ended,
    /// Deleted at the provider; the Event is kept and marked.
    Deleted,
}

impl MeetingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingStatus::Scheduled => "scheduled",
            MeetingStatus::Started => "started",
            MeetingStatus::Ended => "ended",
            MeetingStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> MeetingStatus {
        match s {
            "started" => MeetingStatus::Started,
            "ended" => MeetingStatus::Ended,
            "deleted" => MeetingStatus::Deleted,
            _ => MeetingStatus::Scheduled,
        }
    }
}

/// What a provider says of a meeting when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteState {
    Scheduled,
    Started,
    Ended(Held),
    Deleted,
}

/// Adds someone who joined unless already listed: the same email (any case), or — for
/// people without one — the same name. A nameless, addressless entry is dropped.
pub fn add_attendee(out: &mut Vec<Attendee>, name: &str, email: Option<&str>) {
    let name = name.trim().to_string();
    let email = email.map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
    let seen = out.iter().any(|a| match (&a.email, &email) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        (None, None) => a.name == name,
        _ => false,
    });
    if !seen && !(name.is_empty() && email.is_none()) {
        out.push(Attendee { name, email });
    }
}

/// A meeting counts as held when someone besides the host joined.
pub fn was_held(held: &Held) -> bool {
    held.attendees.len() >= 2
}

/// Where the meeting's Event stands in Salesforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum EventSync {
    /// Queued; `reason` says why the last attempt failed, if one did, and
    /// `next_attempt_at` (unix seconds) when it is tried again.
    Pending {
        reason: Option<String>,
        #[specta(type = Option<u32>)]
        next_attempt_at: Option<i64>,
    },
    /// Salesforce refused it: the rep must act (`reason` says how).
    Attention { reason: String },
    Synced { event_id: String, url: Option<String> },
}

impl Default for EventSync {
    fn default() -> Self {
        EventSync::Pending { reason: None, next_attempt_at: None }
    }
}

/// A meeting as the Meetings view and the CLI show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MeetingEntry {
    #[specta(type = u32)]
    pub id: i64,
    pub provider: Provider,
    pub meeting_id: String,
    pub topic: String,
    pub agenda: String,
    pub join_url: String,
    pub passcode: Option<String>,
    #[specta(type = u32)]
    pub start_at: i64,
    pub duration_mins: u32,
    pub time_zone: String,
    pub instant: bool,
    pub invitees: Vec<String>,
    pub who: Option<RecordRef>,
    pub what: Option<RecordRef>,
    pub event: EventSync,
    /// The number people type to join (Zoom's meeting ID), when there is one.
    pub number: Option<String>,
    pub status: MeetingStatus,
    /// How it went, once the provider says it ended.
    pub held: Option<Held>,
    /// Why the last look at the provider failed, if it did.
    pub check_problem: Option<String>,
    /// The join details emailed to the invitees, when the layout asks for it.
    #[serde(default)]
    pub invitation: Option<email::Invitation>,
    /// The host's address, when the provider says.
    #[serde(default)]
    pub host: Option<String>,
    /// Held outside Ringside and recorded afterwards.
    #[serde(default)]
    pub imported: bool,
    /// Webex: the series a recorded occurrence belongs to (kept so it is not recorded
    /// twice).
    #[serde(skip)]
    pub series_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> MeetingRequest {
        MeetingRequest {
            who: Some(RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Ana Lima".into() }),
            ..MeetingRequest::default()
        }
    }

    #[test]
    fn an_instant_meeting_gets_its_defaults() {
        let c = check(&request(), 1_000_000, "Europe/Paris").unwrap();
        assert_eq!(c.topic, "Meeting with Ana Lima");
        assert_eq!((c.start_at, c.instant, c.duration_mins), (1_000_000, true, DEFAULT_DURATION_MINS));
        assert_eq!(c.time_zone, chrono_tz::Europe::Paris);
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let mut r = request();
        r.start_at = Some(1_000_000 - 3_600);
        r.duration_mins = 10 * 24 * 60;
        r.time_zone = "Mars/Olympus".into();
        r.invitees = vec!["ana@acme".into(), " ".into(), "bob@example.com".into()];
        let problems = check(&r, 1_000_000, "UTC").unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["durationMins", "timeZone", "startAt", "invitees"], "{problems:?}");
    }

    #[test]
    fn a_start_a_minute_ago_is_now_and_duplicate_invitees_go_once() {
        let mut r = request();
        r.start_at = Some(1_000_000 - 60);
        r.invitees = vec!["Bob@Example.com".into(), "bob@example.com".into()];
        let c = check(&r, 1_000_000, "UTC").unwrap();
        assert_eq!((c.start_at, c.instant), (1_000_000, false));
        assert_eq!(c.invitees, ["Bob@Example.com"]);
    }

    #[test]
    fn a_local_start_is_read_in_the_meetings_zone_and_a_skipped_hour_is_refused() {
        let mut r = request();
        r.time_zone = "Europe/Paris".into();
        r.local_start = Some("2027-03-28 10:00".into());
        let c = check(&r, 1_800_000_000, "UTC").unwrap();
        assert_eq!((c.start_at, c.instant), (1_806_220_800, false));
        r.local_start = Some("2027-03-28 02:30".into());
        let p = check(&r, 1_800_000_000, "UTC").unwrap_err();
        assert!(p[0].message.contains("does not exist in Europe/Paris") && p[0].message.contains("03:00"), "{p:?}");
        r.local_start = Some("2027-10-31 02:30".into());
        assert_eq!(check(&r, 1_800_000_000, "UTC").unwrap().start_at, 1_824_942_600, "the first 02:30, at +02:00");
        r.start_at = Some(1_806_220_800);
        assert_eq!(check(&r, 1_800_000_000, "UTC").unwrap_err()[0].field, "startAt");
    }

    #[test]
    fn addresses_that_are_not_addresses_are_named() {
        for bad in ["ana", "ana@acme", "@acme.com", "ana@@acme.com", "ana@acme..com", "a b@acme.com", "ana@-acme.com", "ana@1.2.3.4", ".ana@acme.com"] {
            assert!(email_problem(bad).is_some(), "{bad} accepted");
        }
        for good in ["ana@acme.com", "ana.lima+sales@mail.acme.co.jp", "o'brien@example.ie", "zoë@exemple.fr"] {
            assert_eq!(email_problem(good), None, "{good} refused");
        }
    }

    #[test]
    fn the_who_must_be_a_person_and_the_what_a_record() {
        let mut r = request();
        r.who = Some(RecordRef { object: "Account".into(), id: "001000000000001AAA".into(), name: "Acme".into() });
        r.what = Some(RecordRef { object: "Opportunity".into(), id: "not an id".into(), name: "Deal".into() });
        let problems = check(&r, 0, "UTC").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
