//! The engine's call-log side: saving a log (one local transaction, before anything
//! else), History, and the outbox driver that pushes logs to Salesforce as Tasks.
//!
//! What must stay true: a save never waits on the network; an insert is marked
//! *uncertain* in the store before it is sent, and an uncertain entry is looked up by
//! its call id before any new insert, so a lost answer, a timeout or a crash between
//! send and record never makes a second Task; a log's Task is updated, never
//! re-created, once its id is known.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{AppError, Engine, ErrorCode, Event};
use crate::calllog::form::{self, FormSpec, TaskFacts};
use crate::calllog::outbox::{self, Step, Verdict, BATCH};
use crate::calllog::task::{self, Write};
use crate::calllog::{CallLog, CallLogInput, CallType, FieldProblem, HistoryEntry, HistoryQuery, OutboxSummary, RecordRef, SyncState};
use crate::crm::escape::{is_record_id, soql_string};
use crate::crm::matching::{self, MatchedRecord};
use crate::crm::phone;
use crate::crm::SalesforceError;
use crate::store::OutboxRow;

/// What a save did: the History row as it is now, and the rules the log breaks (empty
/// when it was queued for Salesforce).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SaveOutcome {
    pub entry: HistoryEntry,
    pub problems: Vec<FieldProblem>,
}

/// What one drain did, for the CLI and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DrainReport {
    pub inserted: u32,
    pub updated: u32,
    /// Tasks found by call id after an uncertain insert, and kept.
    pub adopted: u32,
    pub retrying: u32,
    pub parked: u32,
    /// Meeting Events recorded.
    pub events: u32,
    /// Requests sent to Salesforce.
    pub requests: u32,
}

/// A call that has ended, as the call engine reports it: what the draft is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedCall {
    /// The call's own identity (the SIP Call-ID and tags): reporting the same call
    /// twice finds the same log.
    pub call_key: String,
    pub number: String,
    pub call_type: CallType,
    pub started_at: i64,
    pub duration_secs: u32,
    /// The caller's match, when there was exactly one (or the rep picked one).
    pub who: Option<MatchedRecord>,
}

fn new_call_id() -> String {
    format!("rs-{:032x}", rand::random::<u128>())
}

/// The call id of an ended call: stable for its key, the same shape as a new one.
fn call_id_for(call_key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(call_key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("rs-{hex}")
}

/// A SOQL `IN (...)` list of quoted values.
fn soql_in(values: &[&str]) -> String {
    values.iter().map(|v| soql_string(v)).collect::<Vec<_>>().join(", ")
}

impl Engine {
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The Task describe, when this session has read it; saving never waits for it.
    fn cached_task_facts(&self) -> Option<TaskFacts> {
        self.salesforce.cached_describe("Task").map(|d| TaskFacts::from_describe(&d))
    }

    /// The form as the layout and the org define it. Reads the Task describe once per
    /// session (for lengths and picklists); without Salesforce the layout's own lists
    /// are used, and `problem` says so.
    pub async fn call_log_form(&self) -> FormSpec {
        let layout = self.layout().call_log;
        match self.salesforce.describe("Task").await {
            Ok(d) => form::form_spec(&layout, Some(&TaskFacts::from_describe(&d)), None),
            Err(e) => form::form_spec(&layout, None, Some(e.to_string())),
        }
    }

    /// A new log for `number`, as the form opens it: the matched person, now, the
    /// layout's defaults.
    pub fn new_call_log(&self, number: &str, call_type: CallType, who: Option<&MatchedRecord>) -> CallLogInput {
        let layout = self.layout().call_log;
        let mut input = CallLogInput {
            number: number.to_string(),
            call_type,
            started_at: self.clock.now_secs(),
            duration_secs: 0,
            subject: String::new(),
            notes: String::new(),
            disposition: None,
            who: who
                .filter(|r| matches!(r.object.as_str(), "Contact" | "Lead"))
                .map(|r| RecordRef { object: r.object.clone(), id: r.id.clone(), name: r.name.clone() }),
            what: who
                .filter(|r| r.object == "Account")
                .map(|r| RecordRef { object: r.object.clone(), id: r.id.clone(), name: r.name.clone() })
                .or_else(|| {
                    who.filter(|r| r.object == "Contact")
                        .and_then(|r| r.account_id.clone().map(|id| (id, r)))
                        .and_then(|(id, r)| {
                            let name = r.fields.iter().find(|f| f.field == "Account.Name")?.value.clone();
                            Some(RecordRef { object: "Account".into(), id, name })
                        })
                }),
            custom: Default::default(),
        };
        form::apply_defaults(&mut input, &layout);
        input
    }

    /// Saves a log: new when `id` is `None`. With `save`, a log that passes the form's
    /// rules is queued for Salesforce; one that does not is kept as a draft and the
    /// problems are returned. A log already saved is never turned back into a draft:
    /// an edit that breaks the rules is refused whole and the saved version stays.
    pub fn save_call_log(&self, id: Option<i64>, input: &CallLogInput, save: bool) -> Result<SaveOutcome, AppError> {
        self.write_log(id, None, input, save)
    }

    fn write_log(&self, id: Option<i64>, call_id: Option<&str>, input: &CallLogInput, save: bool) -> Result<SaveOutcome, AppError> {
        let layout = self.layout().call_log;
        let facts = self.cached_task_facts();
        let now_ms = self.now_ms();
        let (clean, problems) = form::check(input, &layout, facts.as_ref(), now_ms.div_euclid(1_000));
        let region = self.settings().default_region;
        let e164 = phone::normalise(&clean.number, &region).ok().map(|n| n.e164);
        let log_id = {
            let mut state = self.lock();
            let mut logs = state.store.call_logs();
            let existing = match id {
                Some(id) => Some(logs.get(id)?.ok_or_else(|| AppError::new(ErrorCode::InvalidInput, "This call log no longer exists."))?),
                None => None,
            };
            let was_saved = existing.as_ref().is_some_and(|(l, _, _)| l.saved);
            if was_saved && !problems.is_empty() {
                None
            } else {
                let queue = (save || was_saved) && problems.is_empty();
                let call_id = existing
                    .as_ref()
                    .map(|(l, _, _)| l.call_id.clone())
                    .or_else(|| call_id.map(String::from))
                    .unwrap_or_else(new_call_id);
                let problems_json = serde_json::to_string(&problems).unwrap_or_else(|_| "[]".into());
                Some(logs.write(id, &call_id, e164.as_deref(), &clean, queue, &problems_json, now_ms.div_euclid(1_000), now_ms)?)
            }
        };
        let shown_id = log_id.or(id).ok_or_else(|| AppError::new(ErrorCode::Internal, "The log was not written."))?;
        let entry = self.history_entry_now(shown_id)?;
        tracing::info!(log = shown_id, state = ?std::mem::discriminant(&entry.sync), problems = problems.len(), "call log saved");
        if log_id.is_some() {
            self.emit(Event::CallLogSaved { entry: entry.clone() });
            self.emit_outbox_summary();
            if matches!(entry.sync, SyncState::Pending { .. }) {
                self.outbox_wake.notify_one();
            }
        }
        Ok(SaveOutcome { entry, problems })
    }

    /// Makes the log of a call that ended: a draft for the rep to complete, or — when
    /// the layout auto-saves — saved at once with what is known (kept as a draft if
    /// that breaks a rule of the form). Reporting the same call again changes nothing.
    pub fn log_ended_call(&self, call: &EndedCall) -> Result<SaveOutcome, AppError> {
        let call_id = call_id_for(&call.call_key);
        let existing = self.lock().store.call_logs().by_call_id(&call_id)?;
        if let Some(id) = existing {
            return Ok(SaveOutcome { entry: self.history_entry_now(id)?, problems: vec![] });
        }
        let layout = self.layout().call_log;
        let mut input = self.new_call_log(&call.number, call.call_type, call.who.as_ref());
        input.started_at = call.started_at;
        input.duration_secs = call.duration_secs;
        self.write_log(None, Some(&call_id), &input, layout.auto_save)
    }

    fn task_url(&self) -> impl Fn(&str) -> Option<String> {
        let instance = self.lock().instance_url.clone();
        move |id: &str| instance.as_deref().map(|i| matching::lightning_url(i, "Task", id))
    }

    fn history_entry_now(&self, id: i64) -> Result<HistoryEntry, AppError> {
        let url = self.task_url();
        let mut state = self.lock();
        let (log, problems, outbox) = state
            .store
            .call_logs()
            .get(id)?
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, "This call log no longer exists."))?;
        let sync = crate::store::sync_state(&problems, outbox.as_ref(), &url);
        Ok(HistoryEntry { log, sync })
    }

    pub async fn call_log(&self, id: i64) -> Result<HistoryEntry, AppError> {
        self.refresh_instance_url().await;
        self.history_entry_now(id)
    }

    /// History, newest first, filtered by words and dates.
    pub async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEntry>, AppError> {
        self.refresh_instance_url().await;
        let url = self.task_url();
        let mut state = self.lock();
        Ok(state.store.call_logs().list(query, &url)?)
    }

    pub(super) async fn refresh_instance_url(&self) {
        let instance = self.salesforce.connection().await.map(|c| c.instance_url);
        self.lock().instance_url = instance;
    }

    pub fn outbox_summary(&self) -> Result<OutboxSummary, AppError> {
        Ok(self.lock().store.call_logs().summary()?)
    }

    fn emit_outbox_summary(&self) {
        match self.outbox_summary() {
            Ok(summary) => self.emit(Event::OutboxChanged { summary }),
            Err(e) => tracing::warn!(%e, "outbox summary unreadable"),
        }
    }

    /// "Retry" on a log that needs attention (or is waiting): it is due now.
    pub fn retry_call_log(&self, id: i64) -> Result<HistoryEntry, AppError> {
        let now = self.now_ms();
        if !self.lock().store.call_logs().retry(id, now)? {
            return Err(AppError::new(ErrorCode::InvalidInput, "Only saved logs are sent to Salesforce; save this one first."));
        }
        self.outbox_wake.notify_one();
        self.emit_outbox_summary();
        self.history_entry_now(id)
    }

    /// Everything waiting is due now (signed in again, "Sync now").
    pub fn wake_outbox(&self) {
        let now = self.now_ms();
        if let Err(e) = self.lock().store.call_logs().wake_all(now) {
            tracing::warn!(%e, "outbox not woken");
        }
        self.wake_meeting_events(now);
        self.outbox_wake.notify_one();
    }

    /// Runs the outbox for the life of the app: asks the meeting providers about due
    /// meetings, drains what is due, then sleeps until the next entry is due or
    /// something is saved (at most 15 minutes). Cancel-safe: dropping the future
    /// loses nothing, since every step is recorded in the store before the next.
    pub async fn run_outbox(&self) {
        loop {
            // Meetings past their end, and hourly after: how did they go?
            let synced = self.sync_meetings(false).await;
            if synced.checked > 0 {
                tracing::info!(?synced, "meeting providers checked");
            }
            let report = self.drain_outbox(false).await;
            if report.requests > 0 {
                tracing::info!(?report, "outbox drained");
            }
            let logs_next = self.lock().store.call_logs().next_due_at().ok().flatten();
            let next = match (logs_next, self.meetings_next_due_at()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let wait = match next {
                Some(at) => Duration::from_millis((at - self.now_ms()).clamp(50, 15 * 60 * 1_000) as u64),
                None => Duration::from_secs(15 * 60),
            };
            let _ = tokio::time::timeout(wait, self.outbox_wake.notified()).await;
        }
    }

    /// Pushes every due entry (every waiting one with `force`) until none is left that
    /// this pass can send. Each round takes up to 200 entries: one look-up query for the
    /// uncertain ones, one collection insert, one collection update.
    pub async fn drain_outbox(&self, force: bool) -> DrainReport {
        let mut report = DrainReport::default();
        let mut attempted: std::collections::HashSet<i64> = Default::default();
        loop {
            let now = self.now_ms();
            let due = match self.lock().store.call_logs().due(now, force, BATCH * 4) {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(%e, "outbox unreadable");
                    break;
                }
            };
            // Within one pass an entry is tried once; what failed waits for its backoff.
            let due: Vec<_> = due.into_iter().filter(|(l, _)| !attempted.contains(&l.id)).take(BATCH).collect();
            if due.is_empty() {
                break;
            }
            attempted.extend(due.iter().map(|(l, _)| l.id));
            self.drain_round(due, &mut report).await;
            self.emit_outbox_summary();
        }
        self.drain_meeting_events(force, &mut report).await;
        self.drain_meeting_emails(&mut report).await;
        report
    }

    async fn drain_round(&self, due: Vec<(CallLog, OutboxRow)>, report: &mut DrainReport) {
        let layout = self.layout().call_log;
        // 1. Uncertain inserts: does Salesforce already hold a Task with the call id?
        let uncertain: Vec<&(CallLog, OutboxRow)> = due.iter().filter(|(_, o)| o.uncertain && o.task_id.is_none()).collect();
        let mut skip: std::collections::HashSet<i64> = Default::default();
        if !uncertain.is_empty() {
            let ids: Vec<&str> = uncertain.iter().map(|(l, _)| l.call_id.as_str()).collect();
            let soql = format!(
                "SELECT Id, {field} FROM Task WHERE {field} IN ({}) ORDER BY CreatedDate",
                soql_in(&ids),
                field = layout.mapping.call_id
            );
            report.requests += 1;
            match self.salesforce.query(&soql, BATCH * 2).await {
                Ok(found) => {
                    let mut by_call: HashMap<&str, &str> = HashMap::new();
                    for r in &found {
                        // The oldest Task of a call id is its Task.
                        if let Some(call) = r.str(&layout.mapping.call_id) {
                            by_call.entry(call).or_insert(r.id());
                        }
                    }
                    let mut not_found = Vec::new();
                    for (log, _) in &uncertain {
                        match by_call.get(log.call_id.as_str()) {
                            Some(task_id) => {
                                report.adopted += 1;
                                tracing::info!(log = log.id, task = %task_id, "uncertain insert had reached Salesforce; Task adopted");
                                let _ = self.lock().store.call_logs().adopt(log.id, task_id);
                                skip.insert(log.id);
                            }
                            None => not_found.push(log.id),
                        }
                    }
                    let _ = self.lock().store.call_logs().clear_uncertain(&not_found);
                }
                Err(e) => {
                    let verdict = outbox::request_failed(&e);
                    for (log, o) in &uncertain {
                        self.apply_verdict(log, o, &verdict, report);
                        skip.insert(log.id);
                    }
                }
            }
        }
        // Adopted entries are re-read: they go out as updates in the next round.
        let zone = chrono::Local;
        let mut inserts: Vec<(&CallLog, &OutboxRow, Map<String, Value>)> = Vec::new();
        let mut updates: Vec<(&CallLog, &OutboxRow, Map<String, Value>)> = Vec::new();
        for (log, o) in due.iter().filter(|(l, _)| !skip.contains(&l.id)) {
            let date = task::activity_date(log.content.started_at, &zone);
            match &o.task_id {
                None => {
                    let mut f = task::task_fields(log, &layout, date.as_deref(), Write::Insert);
                    f.insert("attributes".into(), serde_json::json!({ "type": "Task" }));
                    inserts.push((log, o, f));
                }
                Some(id) => {
                    let mut f = task::task_fields(log, &layout, date.as_deref(), Write::Update);
                    f.insert("attributes".into(), serde_json::json!({ "type": "Task" }));
                    f.insert("Id".into(), Value::String(id.clone()));
                    updates.push((log, o, f));
                }
            }
        }
        if !inserts.is_empty() {
            let ids: Vec<i64> = inserts.iter().map(|(l, _, _)| l.id).collect();
            if let Err(e) = self.lock().store.call_logs().mark_uncertain(&ids) {
                tracing::error!(%e, "outbox not writable; nothing sent");
                return;
            }
            let records: Vec<Map<String, Value>> = inserts.iter().map(|(_, _, f)| f.clone()).collect();
            report.requests += 1;
            let answer = self.salesforce.create_collection(&records, false).await;
            self.apply_results(&inserts, answer, Write::Insert, report).await;
        }
        if !updates.is_empty() {
            let records: Vec<Map<String, Value>> = updates.iter().map(|(_, _, f)| f.clone()).collect();
            report.requests += 1;
            let answer = self.salesforce.update_collection(&records, false).await;
            self.apply_results(&updates, answer, Write::Update, report).await;
        }
    }

    async fn apply_results(
        &self,
        sent: &[(&CallLog, &OutboxRow, Map<String, Value>)],
        answer: Result<Vec<crate::crm::client::SaveResult>, SalesforceError>,
        write: Write,
        report: &mut DrainReport,
    ) {
        let results = match answer {
            Ok(results) if results.len() == sent.len() => results,
            Ok(results) => {
                let verdict = Verdict::Retry {
                    reason: format!("Salesforce answered {} results for {} logs; they will be checked and sent again.", results.len(), sent.len()),
                };
                for (log, o, _) in sent {
                    self.apply_verdict(log, o, &verdict, report);
                }
                return;
            }
            Err(e) => {
                let verdict = outbox::request_failed(&e);
                tracing::warn!(%e, entries = sent.len(), "outbox request failed");
                for (log, o, _) in sent {
                    self.apply_verdict(log, o, &verdict, report);
                }
                return;
            }
        };
        let mut done = Vec::new();
        for ((log, o, _), result) in sent.iter().zip(results) {
            match (result.success, result.id.or_else(|| o.task_id.clone())) {
                (true, Some(id)) => {
                    match write {
                        Write::Insert => report.inserted += 1,
                        Write::Update => report.updated += 1,
                    }
                    done.push((log.id, log.revision, id));
                }
                _ => {
                    let what = log.content.what.as_ref().map(|w| w.name.as_str()).unwrap_or("");
                    let verdict = outbox::record_refused(&result.errors, what, write == Write::Update);
                    if write == Write::Insert && !matches!(verdict, Verdict::Retry { .. } | Verdict::RetryMuchLater { .. }) {
                        // A refused insert made no Task: nothing to look up next time.
                        let _ = self.lock().store.call_logs().clear_uncertain(&[log.id]);
                    }
                    match verdict {
                        Verdict::ConvertedLead => self.follow_converted_lead(log, o, report).await,
                        v => self.apply_verdict(log, o, &v, report),
                    }
                }
            }
        }
        if let Err(e) = self.lock().store.call_logs().record_pushed(&done) {
            // The Tasks exist; the entries stay uncertain and are adopted next time.
            tracing::error!(%e, "pushed logs not recorded");
        }
    }

    fn apply_verdict(&self, log: &CallLog, o: &OutboxRow, verdict: &Verdict, report: &mut DrainReport) {
        let step = self.retry_policy.step(verdict, self.now_ms(), o.attempts, rand::random());
        let mut logs_state = self.lock();
        let mut logs = logs_state.store.call_logs();
        let result = match (verdict, step) {
            (_, Some(Step::Later { at_ms, reason })) => {
                report.retrying += 1;
                logs.record_failure(&[(log.id, at_ms, reason)])
            }
            (_, Some(Step::Park { reason })) => {
                report.parked += 1;
                tracing::warn!(log = log.id, %reason, "call log refused by Salesforce; waiting for the rep");
                logs.park(log.id, &reason)
            }
            (Verdict::TaskDeleted, None) => {
                report.parked += 1;
                logs.forget_task(log.id, "The Task of this call was deleted in Salesforce. Retry creates it again.")
            }
            (_, None) => {
                report.parked += 1;
                logs.park(log.id, "The Lead of this log was converted. Pick the Contact it became and save again.")
            }
        };
        if let Err(e) = result {
            tracing::error!(%e, "outbox state not recorded");
        }
    }

    /// The log's Lead was converted: the log moves to the Contact it became (and the
    /// converted Account, when the log had no related record), and is sent again.
    async fn follow_converted_lead(&self, log: &CallLog, o: &OutboxRow, report: &mut DrainReport) {
        let Some(lead) = log.content.who.as_ref().filter(|w| w.object == "Lead" && is_record_id(&w.id)) else {
            return self.apply_verdict(log, o, &Verdict::ConvertedLead, report);
        };
        let soql = format!(
            "SELECT Id, ConvertedContactId, ConvertedContact.Name, ConvertedAccountId, ConvertedAccount.Name FROM Lead WHERE Id = {}",
            soql_string(&lead.id)
        );
        report.requests += 1;
        let found = match self.salesforce.query(&soql, 1).await {
            Ok(records) => records.into_iter().next(),
            Err(e) => return self.apply_verdict(log, o, &outbox::request_failed(&e), report),
        };
        let Some((record, contact_id)) = found.and_then(|r| r.str("ConvertedContactId").map(String::from).map(|id| (r, id))) else {
            return self.apply_verdict(log, o, &Verdict::ConvertedLead, report);
        };
        let mut content = log.content.clone();
        content.who = Some(RecordRef {
            object: "Contact".into(),
            name: record.str("ConvertedContact.Name").unwrap_or(&lead.name).to_string(),
            id: contact_id,
        });
        if content.what.is_none() {
            content.what = record.str("ConvertedAccountId").map(|id| RecordRef {
                object: "Account".into(),
                id: id.to_string(),
                name: record.str("ConvertedAccount.Name").unwrap_or_default().to_string(),
            });
        }
        tracing::info!(log = log.id, "Lead was converted; log moved to its Contact");
        let now = self.now_ms();
        let result = self.lock().store.call_logs().write(
            Some(log.id),
            &log.call_id,
            log.e164.as_deref(),
            &content,
            true,
            "[]",
            now.div_euclid(1_000),
            now,
        );
        if let Err(e) = result {
            tracing::error!(%e, "converted Lead not recorded on the log");
        }
        report.retrying += 1;
    }
}
