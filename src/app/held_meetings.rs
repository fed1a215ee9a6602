//! Meetings held outside Ringside: listed at Zoom or Webex for a date range, each
//! attendee matched to a Salesforce Contact or Lead — by email first, then by first and
//! last name — and, for the meetings the rep picks, recorded as Events through the
//! outbox like any meeting Ringside made.
//!
//! What must stay true: matching asks Salesforce a handful of queries for the whole
//! listing (100 addresses or 40 names a query), never one per attendee; a meeting
//! already stored is shown as recorded and never recorded twice.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{AppError, Engine, ErrorCode, Event};
use crate::calllog::RecordRef;
use crate::crm::escape::{is_record_id, soql_string};
use crate::meetings::external::{split_name, HeldMeeting};
use crate::meetings::{webex, zoom, Attendee, Held, MeetingEntry, MeetingService as _, MeetingStatus, Provider};

/// Addresses per `Email IN (…)` query, and name pairs per query.
const EMAILS_PER_QUERY: usize = 100;
const NAMES_PER_QUERY: usize = 40;

/// How a person was found in Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum MatchedBy {
    Email,
    Name,
}

/// One attendee and the Contacts and Leads that are them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PersonMatch {
    pub attendee: Attendee,
    /// The host (the rep, or whoever hosted it): not proposed as the Event's person.
    pub is_host: bool,
    pub records: Vec<RecordRef>,
    pub by: Option<MatchedBy>,
}

/// One held meeting as the "Meetings held elsewhere" list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HeldEntry {
    pub meeting: HeldMeeting,
    /// Already stored (made in Ringside, or recorded before): the stored meeting's id.
    #[specta(type = Option<u32>)]
    pub recorded: Option<i64>,
    pub people: Vec<PersonMatch>,
    /// The Event's person Ringside proposes: the first attendee with exactly one
    /// record, by email before by name.
    pub proposed: Option<RecordRef>,
}

/// A listing, and what it cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HeldListing {
    pub meetings: Vec<HeldEntry>,
    /// Salesforce queries spent on matching.
    pub salesforce_queries: u32,
    /// Set when Salesforce could not be asked: the meetings are listed unmatched.
    pub match_problem: Option<String>,
}

/// One meeting the rep picked to record.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HeldChoice {
    pub meeting: HeldMeeting,
    /// The Contact or Lead the Event is with.
    pub who: Option<RecordRef>,
    /// The Account, Opportunity or Case it was about.
    #[serde(default)]
    pub what: Option<RecordRef>,
}

fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Engine {
    fn provider_client(&self, provider: Provider) -> Result<&crate::meetings::account::Client, AppError> {
        match provider {
            Provider::Zoom => Ok(&self.zoom),
            Provider::Webex => Ok(&self.webex),
            Provider::Jitsi => Err(AppError::new(ErrorCode::InvalidInput, "Jitsi Meet keeps no list of meetings: only Zoom and Webex meetings can be looked up.")),
        }
    }

    /// Meetings held at `provider` in `[from, to)` (unix seconds), with their attendees
    /// matched to Salesforce.
    pub async fn held_meetings(&self, provider: Provider, from: i64, to: i64) -> Result<HeldListing, AppError> {
        let client = self.provider_client(provider)?;
        let now = self.clock.now_secs();
        let mut meetings = match provider {
            Provider::Zoom => zoom::Zoom(client).held(from, to, now).await,
            _ => webex::Webex(client).held(from, to, now).await,
        }?;
        for m in meetings.iter_mut() {
            m.attendees = match provider {
                Provider::Zoom => zoom::Zoom(client).attendees(m, now).await,
                _ => webex::Webex(client).attendees(m, now).await,
            }?;
        }
        tracing::info!(provider = provider.as_str(), meetings = meetings.len(), "held meetings listed");
        let ids: Vec<&str> = meetings.iter().flat_map(|m| std::iter::once(m.meeting_id.as_str()).chain(m.series_id.as_deref())).collect();
        let stored = self.lock().store.meetings().stored_ids(provider, &ids)?;
        let mut listing = HeldListing::default();
        let matches = match self.match_people(&meetings, &mut listing.salesforce_queries).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%e, "held meetings not matched");
                listing.match_problem = Some(crate::secrets::scrub(&e.to_string()).into_owned());
                People::default()
            }
        };
        listing.meetings = meetings
            .into_iter()
            .map(|meeting| {
                let recorded = stored.get(&meeting.meeting_id).or_else(|| meeting.series_id.as_ref().and_then(|s| stored.get(s))).copied();
                let host = meeting.host.as_deref().map(key);
                let people: Vec<PersonMatch> = meeting
                    .attendees
                    .iter()
                    .map(|a| {
                        let is_host = a.email.as_deref().map(key).is_some_and(|e| Some(&e) == host.as_ref());
                        let (records, by) = matches.find(a);
                        PersonMatch { attendee: a.clone(), is_host, records, by }
                    })
                    .collect();
                let proposed = [MatchedBy::Email, MatchedBy::Name].iter().find_map(|want| {
                    people.iter().find(|p| !p.is_host && p.by == Some(*want) && p.records.len() == 1).map(|p| p.records[0].clone())
                });
                HeldEntry { meeting, recorded, people, proposed }
            })
            .collect();
        Ok(listing)
    }

    /// Looks every attendee up: addresses first, then the names of those whose address
    /// found nobody (or who had none).
    async fn match_people(&self, meetings: &[HeldMeeting], queries: &mut u32) -> Result<People, AppError> {
        let mut people = People::default();
        let mut emails: Vec<String> = meetings.iter().flat_map(|m| m.attendees.iter()).filter_map(|a| a.email.as_deref().map(key)).collect();
        emails.sort();
        emails.dedup();
        if emails.is_empty() && meetings.iter().all(|m| m.attendees.is_empty()) {
            return Ok(people);
        }
        let sf = self.salesforce.clone();
        for chunk in emails.chunks(EMAILS_PER_QUERY) {
            let list = chunk.iter().map(|e| soql_string(e)).collect::<Vec<_>>().join(", ");
            for (object, filter) in [("Contact", ""), ("Lead", " AND IsConverted = false")] {
                let soql = format!("SELECT Id, Name, Email FROM {object} WHERE Email IN ({list}){filter} LIMIT 2000");
                *queries += 1;
                for r in sf.query(&soql, 2_000).await.map_err(AppError::from)? {
                    if let Some(email) = r.str("Email") {
                        people.by_email.entry(key(email)).or_default().push(record_ref(object, &r));
                    }
                }
            }
        }
        let mut names: Vec<(String, String)> = meetings
            .iter()
            .flat_map(|m| m.attendees.iter())
            .filter(|a| a.email.as_deref().is_none_or(|e| !people.by_email.contains_key(&key(e))))
            .filter_map(|a| split_name(&a.name))
            .map(|(f, l)| (f.to_lowercase(), l.to_lowercase()))
            .collect();
        names.sort();
        names.dedup();
        for chunk in names.chunks(NAMES_PER_QUERY) {
            let cond = chunk
                .iter()
                .map(|(f, l)| format!("(FirstName = {} AND LastName = {})", soql_string(f), soql_string(l)))
                .collect::<Vec<_>>()
                .join(" OR ");
            for (object, filter) in [("Contact", ""), ("Lead", " AND IsConverted = false")] {
                let soql = format!("SELECT Id, Name, FirstName, LastName FROM {object} WHERE ({cond}){filter} LIMIT 2000");
                *queries += 1;
                for r in sf.query(&soql, 2_000).await.map_err(AppError::from)? {
                    let (Some(f), Some(l)) = (r.str("FirstName"), r.str("LastName")) else { continue };
                    people.by_name.entry((f.to_lowercase(), l.to_lowercase())).or_default().push(record_ref(object, &r));
                }
            }
        }
        Ok(people)
    }

    /// Records the picked meetings: each is stored as held, with its Event queued. A
    /// meeting already stored is skipped. Returns the meetings stored now.
    pub async fn record_held_meetings(&self, choices: &[HeldChoice]) -> Result<Vec<MeetingEntry>, AppError> {
        for c in choices {
            for (field, record, allowed) in [("person", &c.who, &["Contact", "Lead"][..]), ("related record", &c.what, &["Account", "Opportunity", "Case"][..])] {
                if let Some(r) = record {
                    if !is_record_id(&r.id) || !(allowed.contains(&r.object.as_str()) || r.object.ends_with("__c")) {
                        return Err(AppError::new(ErrorCode::InvalidInput, format!("{} {} cannot be the meeting's {field}.", r.object, r.id)));
                    }
                }
            }
            if c.meeting.provider == Provider::Jitsi || c.meeting.meeting_id.trim().is_empty() {
                return Err(AppError::new(ErrorCode::InvalidInput, "Only Zoom and Webex meetings held elsewhere can be recorded."));
            }
        }
        let now_ms = self.clock.now_ms();
        let mut stored = Vec::new();
        for c in choices {
            let m = &c.meeting;
            let ids: Vec<&str> = std::iter::once(m.meeting_id.as_str()).chain(m.series_id.as_deref()).collect();
            if !self.lock().store.meetings().stored_ids(m.provider, &ids)?.is_empty() {
                continue;
            }
            let row = MeetingEntry {
                provider: m.provider,
                meeting_id: m.meeting_id.clone(),
                topic: if m.topic.trim().is_empty() { format!("{} meeting", m.provider.label()) } else { m.topic.chars().take(crate::meetings::MAX_TOPIC_CHARS).collect() },
                join_url: m.join_url.clone(),
                start_at: m.start_at,
                duration_mins: m.minutes.max(1),
                time_zone: "UTC".into(),
                who: c.who.clone(),
                what: c.what.clone(),
                number: m.number.clone(),
                status: MeetingStatus::Ended,
                held: Some(Held { actual_start: m.start_at, actual_minutes: m.minutes, attendees: m.attendees.clone(), recordings: Vec::new() }),
                host: m.host.clone(),
                imported: true,
                series_id: m.series_id.clone(),
                ..MeetingEntry::default()
            };
            let id = self.lock().store.meetings().insert(&row, None, now_ms)?;
            let entry = self.meeting_now(id)?;
            self.emit(Event::MeetingChanged { meeting: entry.clone() });
            stored.push(entry);
        }
        tracing::info!(picked = choices.len(), recorded = stored.len(), "held meetings recorded");
        if !stored.is_empty() {
            self.outbox_wake.notify_one();
        }
        Ok(stored)
    }
}

fn record_ref(object: &str, r: &crate::crm::Record) -> RecordRef {
    RecordRef { object: object.to_string(), id: r.id().to_string(), name: r.str("Name").unwrap_or_default().to_string() }
}

/// Salesforce's people by address and by name.
#[derive(Default)]
struct People {
    by_email: HashMap<String, Vec<RecordRef>>,
    by_name: HashMap<(String, String), Vec<RecordRef>>,
}

impl People {
    fn find(&self, a: &Attendee) -> (Vec<RecordRef>, Option<MatchedBy>) {
        if let Some(found) = a.email.as_deref().and_then(|e| self.by_email.get(&key(e))) {
            return (found.clone(), Some(MatchedBy::Email));
        }
        match split_name(&a.name).and_then(|(f, l)| self.by_name.get(&(f.to_lowercase(), l.to_lowercase()))) {
            Some(found) => (found.clone(), Some(MatchedBy::Name)),
            None => (Vec::new(), None),
        }
    }
}
