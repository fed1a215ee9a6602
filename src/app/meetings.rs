//! The engine's meetings side: starting a meeting with the person in front of the rep,
//! the Meetings list, and the outbox of their Salesforce Events (drained with the call
//! logs', by the same worker and on the same wake-ups).
//!
//! What must stay true: nothing is created when a request breaks a rule; a created
//! meeting is stored with its Event queued in one transaction; an Event insert is
//! marked uncertain before it is sent and looked up by its Location before any new
//! insert, so a lost answer never makes a second Event.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{AppError, DrainReport, Engine, ErrorCode, Event};
use crate::calllog::outbox::{self, Step, Verdict, BATCH};
use crate::crm::escape::soql_string;
use crate::crm::{matching, SalesforceError};
use crate::meetings::{self, event, jitsi, webex, zoom, MeetingEntry, MeetingError, MeetingProblem, MeetingRequest, MeetingService as _, MeetingStatus, Provider, RemoteState};
use crate::store::EventOutbox;

/// A meeting just made: the row as stored, and the address the host opens now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StartedMeeting {
    pub meeting: MeetingEntry,
    /// For an instant meeting, what the browser opens now (for a provider with a host
    /// link, that link, which is not kept); `None` for a scheduled one, which is opened
    /// when it is time (Meetings → Join).
    pub open_url: Option<String>,
    /// Set by a front end whose browser would not open `open_url` (the meeting and its
    /// Event exist all the same).
    pub open_problem: Option<String>,
}

/// A wall-clock start read in a zone, for the schedule form to show beside the rep's
/// own time before anything is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MeetingTime {
    /// Unix seconds, when the time exists in the zone.
    #[specta(type = Option<u32>)]
    pub start_at: Option<i64>,
    /// Why it cannot be used (no such time, unknown zone), or a note (it happens twice).
    pub problem: Option<String>,
    pub note: Option<String>,
    /// The rep's zone, for the "your time" line.
    pub rep_zone: String,
}

/// Reads `local` (`2027-03-28T10:00`) in `zone`.
pub fn meeting_time(local: &str, zone: &str) -> MeetingTime {
    let rep_zone = rep_time_zone();
    let fail = |problem: String| MeetingTime { start_at: None, problem: Some(problem), note: None, rep_zone: rep_zone.clone() };
    let Ok(tz) = zone.trim().parse::<chrono_tz::Tz>() else {
        return fail(format!("\u{201c}{zone}\u{201d} is not a time zone name; pick one such as Europe/Paris or America/New_York."));
    };
    let Some(at) = meetings::schedule::parse_local(local) else {
        return fail(format!("\u{201c}{local}\u{201d} is not a date and time."));
    };
    match meetings::schedule::resolve(at, tz) {
        meetings::schedule::Resolved::Exact(t) => MeetingTime { start_at: Some(t), problem: None, note: None, rep_zone },
        meetings::schedule::Resolved::Twice { first, .. } => MeetingTime {
            start_at: Some(first),
            problem: None,
            note: Some(format!("{} happens twice in {} (the clocks go back); the first is used.", at.format("%H:%M"), tz.name())),
            rep_zone,
        },
        meetings::schedule::Resolved::Skipped { next } => fail(format!(
            "{} does not exist in {}: the clocks go forward then. The first time after it is {}.",
            at.format("%Y-%m-%d %H:%M"),
            tz.name(),
            next.format("%H:%M")
        )),
    }
}

/// The rep's own time zone, as an IANA name (UTC when the system does not say).
pub fn rep_time_zone() -> String {
    std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_string())
        .filter(|tz| tz.parse::<chrono_tz::Tz>().is_ok())
        .or_else(|| iana_time_zone::get_timezone().ok().filter(|tz| tz.parse::<chrono_tz::Tz>().is_ok()))
        .unwrap_or_else(|| "UTC".to_string())
}

/// Only a web page is ever handed to the browser: https, or http on this machine.
fn openable(url: &str) -> Result<&str, AppError> {
    if url::Url::parse(url).is_ok_and(|u| crate::oauth::is_secure_or_loopback(&u)) {
        Ok(url)
    } else {
        Err(AppError::new(ErrorCode::InvalidInput, "Only web meeting addresses are opened."))
    }
}

impl From<MeetingError> for AppError {
    fn from(e: MeetingError) -> Self {
        let code = match &e {
            MeetingError::RateLimited { .. } | MeetingError::Unavailable { .. } => ErrorCode::Unavailable,
            MeetingError::Provider(_) => ErrorCode::Internal,
            _ => ErrorCode::InvalidInput,
        };
        AppError::new(code, crate::secrets::scrub(&e.to_string()).into_owned())
    }
}

/// A meeting provider as Settings shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    pub provider: Provider,
    /// Needs an account (Jitsi does not).
    pub needs_account: bool,
    /// The admin gave the app's client ID.
    pub configured: bool,
    pub connected: bool,
}

/// What one pass over the providers found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MeetingSyncReport {
    /// Meetings asked about.
    pub checked: u32,
    /// Of those, meetings with news (their Events are updated by the outbox).
    pub changed: u32,
    pub failed: u32,
    /// Why the pass stopped early (a rate limit, a sign-out), if it did.
    pub stopped: Option<String>,
}

fn problems_error(problems: &[MeetingProblem]) -> AppError {
    let text = problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join(" ");
    AppError::new(ErrorCode::InvalidInput, format!("The meeting was not created. {text}"))
}

impl Engine {
    fn event_url(&self) -> impl Fn(&str) -> Option<String> {
        let instance = self.lock().instance_url.clone();
        move |id: &str| instance.as_deref().map(|i| matching::lightning_url(i, "Event", id))
    }

    /// The request the pop's "Start meeting" sends for `record`: an instant meeting on
    /// the default provider with the person (a Contact or Lead) and what it is about
    /// (an Account itself, or a Contact's Account) — the same people a call log with
    /// this record would name — and the person's email (when the pop shows one that is
    /// an address) as the invitee.
    pub fn new_meeting_request(&self, record: Option<&matching::MatchedRecord>) -> MeetingRequest {
        let log = self.new_call_log("", crate::calllog::CallType::Outbound, record);
        let email = record
            .filter(|r| matches!(r.object.as_str(), "Contact" | "Lead"))
            .and_then(|r| r.fields.iter().find(|f| f.field == "Email"))
            .map(|f| f.value.trim().to_string())
            .filter(|e| meetings::email_problem(e).is_none());
        MeetingRequest { invitees: email.into_iter().collect(), who: log.who, what: log.what, ..MeetingRequest::default() }
    }

    /// Creates the meeting at its provider, stores it with its Event queued, and wakes
    /// the outbox. The caller opens `open_url`.
    pub async fn start_meeting(&self, request: &MeetingRequest) -> Result<StartedMeeting, AppError> {
        let now_ms = self.clock.now_ms();
        // Options the rep did not set come from the layout; a locked one is the layout's.
        let (defaults, jbh_locked, pmi_locked) = {
            let state = self.lock();
            let s = &state.layout_in_force.doc.settings;
            (state.layout.meetings, s.join_before_host.locked, s.use_pmi.locked)
        };
        let mut request = request.clone();
        let pick = |asked: Option<bool>, default: bool, locked: bool| Some(if locked { default } else { asked.unwrap_or(default) });
        request.join_before_host = pick(request.join_before_host, defaults.join_before_host, jbh_locked);
        request.use_pmi = pick(request.use_pmi, defaults.use_pmi, pmi_locked);
        let request = &request;
        let checked = meetings::check(request, now_ms.div_euclid(1_000), &rep_time_zone()).map_err(|p| problems_error(&p))?;
        let now = now_ms.div_euclid(1_000);
        let created = match checked.provider {
            Provider::Jitsi => {
                let server = jitsi::server_url(&self.settings().jitsi_server).map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
                jitsi::Jitsi { server }.create(&checked, now).await
            }
            Provider::Zoom => zoom::Zoom(&self.zoom).create(&checked, now).await,
            Provider::Webex => webex::Webex(&self.webex).create(&checked, now).await,
        }
        .map_err(|e| {
            tracing::warn!(provider = checked.provider.as_str(), %e, "meeting not created");
            AppError::from(e)
        })?;
        let row = MeetingEntry {
            id: 0,
            provider: checked.provider,
            meeting_id: created.meeting_id.clone(),
            topic: checked.topic.clone(),
            agenda: checked.agenda.clone(),
            join_url: created.join_url.clone(),
            passcode: created.passcode.clone(),
            start_at: checked.start_at,
            duration_mins: checked.duration_mins,
            time_zone: checked.time_zone.name().to_string(),
            instant: checked.instant,
            invitees: checked.invitees.clone(),
            who: checked.who.clone(),
            what: checked.what.clone(),
            event: meetings::EventSync::Pending { reason: None, next_attempt_at: None },
            number: created.number.clone(),
            status: if checked.instant { MeetingStatus::Started } else { MeetingStatus::Scheduled },
            held: None,
            check_problem: None,
            invitation: None,
            host: created.host.clone(),
            imported: false,
            series_id: None,
        };
        // The layout may ask for the join details to be emailed when a meeting starts.
        let email_on_launch = checked.instant && self.layout().meetings.email_attendees_on_launch && !row.invitees.is_empty();
        let email = email_on_launch.then(|| meetings::email::invitation_text(&row));
        let id = self.lock().store.meetings().insert(&row, email.as_ref().map(|(s, b)| (s.as_str(), b.as_str())), now_ms)?;
        let meeting = self.meeting_now(id)?;
        tracing::info!(meeting = id, provider = checked.provider.as_str(), instant = checked.instant, "meeting created");
        self.emit(Event::MeetingChanged { meeting: meeting.clone() });
        self.outbox_wake.notify_one();
        // A start link that is not a web page is not opened; the meeting stays (its
        // provider holds it already) and the rep sees why.
        let (open_url, open_problem) = match (checked.instant, openable(&created.start_url)) {
            (false, _) => (None, None),
            (true, Ok(url)) => (Some(url.to_string()), None),
            (true, Err(e)) => (None, Some(e.message)),
        };
        Ok(StartedMeeting { meeting, open_url, open_problem })
    }

    /// Every provider and whether it can be used now.
    pub async fn meeting_providers(&self) -> Vec<ProviderStatus> {
        let settings = self.settings();
        vec![
            ProviderStatus { provider: Provider::Jitsi, needs_account: false, configured: true, connected: true },
            ProviderStatus {
                provider: Provider::Zoom,
                needs_account: true,
                configured: !settings.zoom_client_id.is_empty(),
                connected: self.zoom.is_connected().await,
            },
            ProviderStatus {
                provider: Provider::Webex,
                needs_account: true,
                configured: !settings.webex_client_id.is_empty(),
                connected: self.webex.is_connected().await,
            },
        ]
    }

    /// Connects a provider account: `open` shows the provider's sign-in page; this
    /// returns once the browser came back to Ringside (or after 5 minutes).
    pub async fn connect_meetings(&self, provider: Provider, open: impl FnOnce(&str)) -> Result<(), AppError> {
        let settings = self.settings();
        let (client, endpoints, client_id) = match provider {
            Provider::Zoom => (&self.zoom, meetings::account::Endpoints::zoom(&settings.zoom_oauth_url), settings.zoom_client_id.clone()),
            Provider::Webex => (&self.webex, meetings::account::Endpoints::webex(&settings.webex_url), settings.webex_client_id.clone()),
            other => {
                return Err(AppError::new(ErrorCode::InvalidInput, format!("{} has no account to connect in this version.", other.label())))
            }
        };
        let secret = meetings::account::client_secret(&self.keyring, provider)?;
        let flow = meetings::account::Connect::begin(provider, &client_id, secret, endpoints, settings.meetings_callback_port).await?;
        open(&flow.authorize_url);
        let account = flow.finish(client.http(), &self.keyring, self.clock.now_secs()).await?;
        client.adopt(account).await;
        tracing::info!(provider = provider.as_str(), "meeting provider connected");
        Ok(())
    }

    /// Keeps the provider app's client secret in the keyring (empty forgets it).
    pub fn set_meeting_client_secret(&self, provider: Provider, secret: &str) -> Result<(), AppError> {
        Ok(meetings::account::set_client_secret(&self.keyring, provider, secret)?)
    }

    pub async fn disconnect_meetings(&self, provider: Provider) -> Result<(), AppError> {
        match provider {
            Provider::Zoom => Ok(self.zoom.disconnect().await?),
            Provider::Webex => Ok(self.webex.disconnect().await?),
            Provider::Jitsi => Ok(()),
        }
    }

    /// Asks the providers how due meetings went (every started one with `force`, as
    /// "Sync now" does) and queues an Event update for each with news. A rate limit or
    /// a sign-out ends the pass; the rest wait for the next one.
    pub async fn sync_meetings(&self, force: bool) -> MeetingSyncReport {
        let mut report = MeetingSyncReport::default();
        let now = self.clock.now_secs();
        let mut providers = Vec::new();
        if self.zoom.is_connected().await {
            providers.push(Provider::Zoom);
        }
        if self.webex.is_connected().await {
            providers.push(Provider::Webex);
        }
        let due = match self.lock().store.meetings().to_check(&providers, now, force, 5_000) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(%e, "meetings to check unreadable");
                return report;
            }
        };
        for m in due {
            let answer = match m.provider {
                Provider::Zoom => zoom::Zoom(&self.zoom).check(&m, now).await,
                Provider::Webex => webex::Webex(&self.webex).check(&m, now).await,
                Provider::Jitsi => Ok(None),
            };
            report.checked += 1;
            let now_ms = self.clock.now_ms();
            let result = match answer {
                Ok(Some(state)) => {
                    let (status, held) = match state {
                        RemoteState::Scheduled => (MeetingStatus::Scheduled, None),
                        RemoteState::Started => (MeetingStatus::Started, None),
                        RemoteState::Ended(h) => (MeetingStatus::Ended, Some(h)),
                        RemoteState::Deleted => (MeetingStatus::Deleted, m.held.clone()),
                    };
                    self.lock().store.meetings().record_check(m.id, status, held.as_ref(), now, now_ms).map(Some)
                }
                Ok(None) => Ok(None),
                Err(e) => {
                    report.failed += 1;
                    let stop = matches!(e, MeetingError::RateLimited { .. } | MeetingError::SignedOut { .. } | MeetingError::NotConnected { .. });
                    let reason = crate::secrets::scrub(&e.to_string()).into_owned();
                    tracing::warn!(meeting = m.id, provider = m.provider.as_str(), %reason, "meeting not checked");
                    let _ = self.lock().store.meetings().record_check_failure(m.id, now, &reason);
                    if let Ok(now) = self.meeting_now(m.id) {
                        self.emit(Event::MeetingChanged { meeting: now });
                    }
                    if stop {
                        report.stopped = Some(reason);
                        break;
                    }
                    continue;
                }
            };
            match result {
                Ok(Some(true)) => {
                    report.changed += 1;
                    tracing::info!(meeting = m.id, "meeting news from its provider; Event update queued");
                    if let Ok(now) = self.meeting_now(m.id) {
                        self.emit(Event::MeetingChanged { meeting: now });
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::error!(%e, "meeting check not recorded"),
            }
        }
        if report.changed > 0 {
            self.outbox_wake.notify_one();
        }
        report
    }

    /// "Sync now": every meeting asked about, then every waiting Event sent.
    pub async fn sync_meetings_now(&self) -> (MeetingSyncReport, DrainReport) {
        let checked = self.sync_meetings(true).await;
        (checked, self.drain_outbox(true).await)
    }

    pub(super) fn meeting_now(&self, id: i64) -> Result<MeetingEntry, AppError> {
        let url = self.event_url();
        self.lock()
            .store
            .meetings()
            .get(id, &url)?
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, "This meeting no longer exists."))
    }

    /// The address "Join" opens for a stored meeting.
    pub async fn meeting_join_url(&self, id: i64) -> Result<String, AppError> {
        let m = self.meeting(id).await?;
        Ok(openable(&m.join_url)?.to_string())
    }

    pub async fn meeting(&self, id: i64) -> Result<MeetingEntry, AppError> {
        self.refresh_instance_url().await;
        self.meeting_now(id)
    }

    /// Meetings starting in `[from, to)` (unix seconds), newest first.
    pub async fn meetings(&self, from: i64, to: i64, limit: u32) -> Result<Vec<MeetingEntry>, AppError> {
        self.refresh_instance_url().await;
        let url = self.event_url();
        Ok(self.lock().store.meetings().list(from, to, limit.min(1_000), &url)?)
    }

    /// The meeting's `.ics` invitation: a file name and its text.
    pub async fn meeting_invitation(&self, id: i64) -> Result<(String, String), AppError> {
        let m = self.meeting(id).await?;
        Ok((meetings::ics::file_name(&m), meetings::ics::invitation(&m, None, self.clock.now_secs())))
    }

    /// Writes the invitation into `dir` (default: the rep's Downloads folder, else the
    /// data folder's `invitations/`) and returns the file's path.
    pub async fn save_meeting_invitation(&self, id: i64, dir: Option<&std::path::Path>) -> Result<std::path::PathBuf, AppError> {
        let (name, text) = self.meeting_invitation(id).await?;
        let path = self.write_download(dir, "invitations", &name, &text, "The invitation")?;
        tracing::info!(meeting = id, path = %path.display(), "invitation written");
        Ok(path)
    }

    /// Writes a file the rep asked for into `dir`, by default the Downloads folder (else
    /// the data folder's `fallback`), and returns its path.
    pub(super) fn write_download(&self, dir: Option<&std::path::Path>, fallback: &str, name: &str, text: &str, what: &str) -> Result<std::path::PathBuf, AppError> {
        let dir = match dir {
            Some(d) => d.to_path_buf(),
            None => directories::UserDirs::new()
                .and_then(|u| u.download_dir().map(|d| d.to_path_buf()))
                .filter(|d| d.is_dir())
                .unwrap_or_else(|| self.data_dir().join(fallback)),
        };
        let path = dir.join(name);
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(&path, text))
            .map_err(|e| AppError::new(ErrorCode::Io, format!("{what} could not be written to {}: {e}", path.display())))?;
        Ok(path)
    }

    /// "Retry" on a meeting whose Event Salesforce refused: it is sent again now.
    pub fn retry_meeting_event(&self, id: i64) -> Result<MeetingEntry, AppError> {
        let now = self.clock.now_ms();
        if !self.lock().store.meetings().retry(Some(id), now)? {
            return Err(AppError::new(ErrorCode::InvalidInput, "This meeting's Event is already in Salesforce."));
        }
        self.outbox_wake.notify_one();
        self.meeting_now(id)
    }

    pub(super) fn meetings_next_due_at(&self) -> Option<i64> {
        self.lock().store.meetings().next_due_at().ok().flatten()
    }

    pub(super) fn wake_meeting_events(&self, now_ms: i64) {
        if let Err(e) = self.lock().store.meetings().retry(None, now_ms) {
            tracing::warn!(%e, "meeting events not woken");
        }
    }

    /// Sends every due Event (every waiting one with `force`), 200 per request.
    pub(super) async fn drain_meeting_events(&self, force: bool, report: &mut DrainReport) {
        let mut attempted: HashSet<i64> = HashSet::new();
        loop {
            let now = self.clock.now_ms();
            let due = match self.lock().store.meetings().due(now, force, BATCH * 2) {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(%e, "meeting outbox unreadable");
                    return;
                }
            };
            let due: Vec<_> = due.into_iter().filter(|(m, _)| !attempted.contains(&m.id)).take(BATCH).collect();
            if due.is_empty() {
                return;
            }
            attempted.extend(due.iter().map(|(m, _)| m.id));
            self.drain_events_round(due, report).await;
        }
    }

    async fn drain_events_round(&self, due: Vec<(MeetingEntry, EventOutbox)>, report: &mut DrainReport) {
        // Recorded Events with news go by update; the rest are inserts.
        let mut settled: HashSet<i64> = due.iter().filter(|(_, o)| o.event_id.is_some()).map(|(m, _)| m.id).collect();
        self.update_events(&due, report).await;
        // 1. Inserts sent without an answer: does Salesforce hold their Event already?
        let uncertain: Vec<&(MeetingEntry, EventOutbox)> = due.iter().filter(|(_, o)| o.uncertain && o.event_id.is_none()).collect();
        if !uncertain.is_empty() {
            let locations: Vec<String> = uncertain.iter().map(|(m, _)| event::location(m)).collect();
            let list = locations.iter().map(|l| soql_string(l)).collect::<Vec<_>>().join(", ");
            let soql = format!("SELECT Id, Location FROM Event WHERE Location IN ({list}) ORDER BY CreatedDate");
            report.requests += 1;
            match self.salesforce.query(&soql, BATCH * 2).await {
                Ok(found) => {
                    let mut by_location: HashMap<&str, &str> = HashMap::new();
                    for r in &found {
                        if let Some(l) = r.str("Location") {
                            by_location.entry(l).or_insert(r.id());
                        }
                    }
                    let mut adopted = Vec::new();
                    let mut not_found = Vec::new();
                    for ((m, _), location) in uncertain.iter().zip(&locations) {
                        match by_location.get(location.as_str()) {
                            Some(id) => {
                                tracing::info!(meeting = m.id, event = %id, "uncertain Event insert had reached Salesforce; adopted");
                                adopted.push((m.id, id.to_string()));
                                settled.insert(m.id);
                            }
                            None => not_found.push(m.id),
                        }
                    }
                    report.adopted += adopted.len() as u32;
                    let mut state = self.lock();
                    let mut store = state.store.meetings();
                    if let Err(e) = store.record_events(&adopted).and_then(|_| store.clear_uncertain(&not_found)) {
                        tracing::error!(%e, "adopted Events not recorded");
                    }
                }
                Err(e) => {
                    for (m, o) in &uncertain {
                        self.apply_event_verdict(m, o, &outbox::request_failed(&e), report);
                        settled.insert(m.id);
                    }
                }
            }
        }
        // 2. One collection insert for the rest.
        let sending: Vec<&(MeetingEntry, EventOutbox)> = due.iter().filter(|(m, _)| !settled.contains(&m.id)).collect();
        if !sending.is_empty() {
            let ids: Vec<i64> = sending.iter().map(|(m, _)| m.id).collect();
            if let Err(e) = self.lock().store.meetings().mark_uncertain(&ids) {
                tracing::error!(%e, "meeting outbox not writable; nothing sent");
                return;
            }
            let records: Vec<_> = sending
                .iter()
                .map(|(m, _)| {
                    let mut f = event::event_fields(m);
                    f.insert("attributes".into(), serde_json::json!({ "type": "Event" }));
                    f
                })
                .collect();
            report.requests += 1;
            match self.salesforce.create_collection(&records, false).await {
                Ok(results) if results.len() == sending.len() => {
                    let mut done = Vec::new();
                    for ((m, o), result) in sending.iter().zip(results) {
                        match (result.success, result.id) {
                            (true, Some(id)) => done.push((m.id, id)),
                            _ => {
                                let verdict = event::event_refused(&result.errors, m);
                                if !matches!(verdict, Verdict::Retry { .. } | Verdict::RetryMuchLater { .. }) {
                                    let _ = self.lock().store.meetings().clear_uncertain(&[m.id]);
                                }
                                self.apply_event_verdict(m, o, &verdict, report);
                            }
                        }
                    }
                    report.events += done.len() as u32;
                    if let Err(e) = self.lock().store.meetings().record_events(&done) {
                        // The Events exist; the rows stay uncertain and are adopted next time.
                        tracing::error!(%e, "recorded Events not written");
                    }
                }
                Ok(results) => {
                    let verdict = Verdict::Retry {
                        reason: format!("Salesforce answered {} results for {} Events; they will be checked and sent again.", results.len(), sending.len()),
                    };
                    for (m, o) in &sending {
                        self.apply_event_verdict(m, o, &verdict, report);
                    }
                }
                Err(e) => {
                    tracing::warn!(%e, events = sending.len(), "meeting Event request failed");
                    let verdict = match &e {
                        SalesforceError::Refused { errors, .. } => event::event_refused(errors, &sending[0].0),
                        other => outbox::request_failed(other),
                    };
                    for (m, o) in &sending {
                        self.apply_event_verdict(m, o, &verdict, report);
                    }
                }
            }
        }
        for (m, _) in &due {
            if let Ok(now) = self.meeting_now(m.id) {
                if now.event != m.event {
                    self.emit(Event::MeetingChanged { meeting: now });
                }
            }
        }
    }

    /// 3. One collection update for the recorded Events that lack what was learnt since.
    async fn update_events(&self, due: &[(MeetingEntry, EventOutbox)], report: &mut DrainReport) {
        let updating: Vec<&(MeetingEntry, EventOutbox)> = due.iter().filter(|(_, o)| o.event_id.is_some()).collect();
        if updating.is_empty() {
            return;
        }
        let records: Vec<_> = updating
            .iter()
            .map(|(m, o)| {
                let mut f = event::event_fields(m);
                // The person and the record it is about were set at insert; an update
                // carries only what the provider told.
                f.remove("WhoId");
                f.remove("WhatId");
                f.insert("attributes".into(), serde_json::json!({ "type": "Event" }));
                f.insert("Id".into(), serde_json::Value::String(o.event_id.clone().unwrap_or_default()));
                f
            })
            .collect();
        report.requests += 1;
        match self.salesforce.update_collection(&records, false).await {
            Ok(results) if results.len() == updating.len() => {
                let mut done = Vec::new();
                for ((m, o), result) in updating.iter().zip(results) {
                    if result.success {
                        let held = m.held.as_ref().map(|h| serde_json::to_string(h).unwrap_or_default());
                        done.push((m.id, held, m.status));
                    } else {
                        self.apply_event_verdict(m, o, &event::event_refused(&result.errors, m), report);
                    }
                }
                report.updated += done.len() as u32;
                if let Err(e) = self.lock().store.meetings().record_updates(&done) {
                    tracing::error!(%e, "updated Events not recorded; they will be written again");
                }
            }
            Ok(_) => {
                let verdict = Verdict::Retry { reason: "Salesforce answered a different number of results; the Events will be updated again.".into() };
                for (m, o) in &updating {
                    self.apply_event_verdict(m, o, &verdict, report);
                }
            }
            Err(e) => {
                let verdict = match &e {
                    SalesforceError::Refused { errors, .. } => event::event_refused(errors, &updating[0].0),
                    other => outbox::request_failed(other),
                };
                for (m, o) in &updating {
                    self.apply_event_verdict(m, o, &verdict, report);
                }
            }
        }
    }

    fn apply_event_verdict(&self, m: &MeetingEntry, o: &EventOutbox, verdict: &Verdict, report: &mut DrainReport) {
        let step = self.retry_policy.step(verdict, self.clock.now_ms(), o.attempts, rand::random()).unwrap_or(Step::Park {
            reason: "Salesforce refused the meeting's Event; check its person and related record, then retry.".into(),
        });
        let mut state = self.lock();
        let mut store = state.store.meetings();
        let result = match step {
            Step::Later { at_ms, reason } => {
                report.retrying += 1;
                store.record_failure(m.id, at_ms, &reason)
            }
            Step::Park { reason } => {
                report.parked += 1;
                tracing::warn!(meeting = m.id, %reason, "meeting Event refused by Salesforce; waiting for the rep");
                store.park(m.id, &reason)
            }
        };
        if let Err(e) = result {
            tracing::error!(%e, "meeting outbox state not recorded");
        }
    }
}

/// What the CLI and the UI show for the Event's state, in one line.
pub fn event_state_line(entry: &MeetingEntry) -> String {
    match &entry.event {
        meetings::EventSync::Synced { event_id, .. } => format!("Event {event_id}"),
        meetings::EventSync::Pending { reason: None, .. } => "Event queued".to_string(),
        meetings::EventSync::Pending { reason: Some(e), .. } => format!("Event waiting: {e}"),
        meetings::EventSync::Attention { reason } => format!("Event needs attention: {reason}"),
    }
}
