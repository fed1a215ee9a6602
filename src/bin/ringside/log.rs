//! `ringside log …`: call logs from a terminal — write, edit, list, send.

use std::path::PathBuf;

use clap::Subcommand;
use ringside::app::{AppError, Engine, ErrorCode};
use ringside::calllog::{CallLogInput, CallType, HistoryEntry, HistoryQuery, RecordRef, SyncState};

use super::Printer;

#[derive(Subcommand)]
pub(super) enum LogAction {
    /// Write a log and send it (the person is the number's match when there is one).
    Create {
        #[command(flatten)]
        fields: LogFields,
        /// Keep it as a draft: not sent until saved.
        #[arg(long)]
        draft: bool,
        /// Save only; the next `log sync` (or the app) sends it.
        #[arg(long)]
        no_sync: bool,
    },
    /// Change a log (only the options given); a saved log updates the same Task.
    Edit {
        id: i64,
        #[command(flatten)]
        fields: LogFields,
        #[arg(long)]
        no_sync: bool,
    },
    /// History, newest first.
    List {
        /// Words to find in the name, number, subject, notes or disposition.
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    Show { id: i64 },
    /// Send every log that waits, now, and say what is left.
    Sync,
    /// Send a log that needs attention again.
    Retry { id: i64 },
}

#[derive(clap::Args)]
pub(super) struct LogFields {
    #[arg(long)]
    number: Option<String>,
    /// inbound, outbound or internal
    #[arg(long = "type")]
    call_type: Option<String>,
    #[arg(long)]
    subject: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// Read the notes from this file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    notes_file: Option<PathBuf>,
    #[arg(long)]
    disposition: Option<String>,
    /// Call length in seconds.
    #[arg(long)]
    duration: Option<u32>,
    /// Start, as unix seconds (default: now).
    #[arg(long)]
    started_at: Option<i64>,
    /// The Contact or Lead: `Contact:003…` (`none` removes it).
    #[arg(long)]
    who: Option<String>,
    /// The related record: `Opportunity:006…` (`none` removes it).
    #[arg(long)]
    what: Option<String>,
    /// An admin field: `Reason__c=Billing` (repeatable).
    #[arg(long = "field", value_name = "NAME=VALUE")]
    custom: Vec<String>,
}

pub(super) fn run(action: &LogAction, engine: &Engine, runtime: &tokio::runtime::Runtime, out: &Printer) -> Result<(), AppError> {
    match action {
        LogAction::Create { fields, draft, no_sync } => {
            let number = fields.number.clone().ok_or_else(|| AppError::new(ErrorCode::InvalidInput, "Give the call's number with --number."))?;
            let call_type = match &fields.call_type {
                Some(t) => parse_call_type(t)?,
                None => CallType::Outbound,
            };
            // The person is the number's only match, when Salesforce (or the index) knows it.
            let matched = if fields.who.is_none() { runtime.block_on(engine.match_number(&number)).ok() } else { None };
            let only = matched.as_ref().filter(|m| m.records.len() == 1).map(|m| &m.records[0]);
            let mut input = engine.new_call_log(&number, call_type, only);
            apply_fields(&mut input, fields)?;
            let outcome = engine.save_call_log(None, &input, !draft)?;
            finish_save(engine, runtime, out, outcome, *no_sync || *draft)?;
        }
        LogAction::Edit { id, fields, no_sync } => {
            let mut input = runtime.block_on(engine.call_log(*id))?.log.content;
            apply_fields(&mut input, fields)?;
            let outcome = engine.save_call_log(Some(*id), &input, true)?;
            finish_save(engine, runtime, out, outcome, *no_sync)?;
        }
        LogAction::List { search, limit } => {
            let query = HistoryQuery { text: search.clone(), limit: Some(*limit), ..HistoryQuery::default() };
            let entries = runtime.block_on(engine.history(&query))?;
            out.print(&entries, || entries.iter().map(entry_line).collect::<Vec<_>>().join("\n"));
        }
        LogAction::Show { id } => {
            let entry = runtime.block_on(engine.call_log(*id))?;
            out.print(&entry, || entry_text(&entry));
        }
        LogAction::Sync => {
            let report = runtime.block_on(engine.drain_outbox(true));
            let summary = engine.outbox_summary()?;
            out.print(&serde_json::json!({ "report": report, "summary": summary }), || {
                format!(
                    "Sent: {} new, {} updated, {} found already in Salesforce ({} requests).\nWaiting: {}; needing attention: {}; drafts: {}.",
                    report.inserted, report.updated, report.adopted, report.requests, summary.pending, summary.attention, summary.drafts
                )
            });
        }
        LogAction::Retry { id } => {
            engine.retry_call_log(*id)?;
            runtime.block_on(engine.drain_outbox(false));
            let entry = runtime.block_on(engine.call_log(*id))?;
            out.print(&entry, || entry_text(&entry));
        }
    }
    Ok(())
}

fn finish_save(
    engine: &Engine,
    runtime: &tokio::runtime::Runtime,
    out: &Printer,
    outcome: ringside::app::SaveOutcome,
    no_sync: bool,
) -> Result<(), AppError> {
    let id = outcome.entry.log.id;
    let entry = if no_sync || !outcome.problems.is_empty() {
        outcome.entry
    } else {
        runtime.block_on(engine.drain_outbox(false));
        runtime.block_on(engine.call_log(id))?
    };
    out.print(&serde_json::json!({ "entry": entry, "problems": outcome.problems }), || {
        let mut s = entry_text(&entry);
        for p in &outcome.problems {
            s.push_str(&format!("\n{}: {}", p.field, p.message));
        }
        s
    });
    if outcome.problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::InvalidInput, format!("Log {id} kept as a draft: fix the fields above and run `ringside log edit {id}`.")))
    }
}

fn parse_call_type(t: &str) -> Result<CallType, AppError> {
    CallType::parse(t).ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{t}\u{201d}: the call type is inbound, outbound or internal.")))
}

fn parse_ref(value: &str) -> Result<Option<RecordRef>, AppError> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let (object, id) = value
        .split_once(':')
        .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{value}\u{201d}: write OBJECT:ID, e.g. Contact:003…")))?;
    Ok(Some(RecordRef { object: object.to_string(), id: id.to_string(), name: id.to_string() }))
}

fn apply_fields(input: &mut CallLogInput, f: &LogFields) -> Result<(), AppError> {
    if let Some(n) = &f.number {
        input.number = n.clone();
    }
    if let Some(t) = &f.call_type {
        input.call_type = parse_call_type(t)?;
    }
    if let Some(s) = &f.subject {
        input.subject = s.clone();
    }
    if let Some(n) = &f.notes {
        input.notes = n.clone();
    }
    if let Some(path) = &f.notes_file {
        input.notes = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(path).map_err(|e| AppError::new(ErrorCode::Io, format!("{}: {e}", path.display())))?
        };
    }
    if let Some(d) = &f.disposition {
        input.disposition = Some(d.clone()).filter(|d| !d.is_empty());
    }
    if let Some(d) = f.duration {
        input.duration_secs = d;
    }
    if let Some(t) = f.started_at {
        input.started_at = t;
    }
    if let Some(w) = &f.who {
        input.who = parse_ref(w)?;
    }
    if let Some(w) = &f.what {
        input.what = parse_ref(w)?;
    }
    for kv in &f.custom {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{kv}\u{201d}: write NAME=VALUE")))?;
        input.custom.insert(k.to_string(), v.to_string());
    }
    Ok(())
}

fn sync_text(sync: &SyncState) -> String {
    match sync {
        SyncState::Draft { problems } if problems.is_empty() => "draft".into(),
        SyncState::Draft { problems } => format!("draft ({} to fix)", problems.len()),
        SyncState::Pending { reason: None, .. } => "waiting to be sent".into(),
        SyncState::Pending { reason: Some(r), attempts, .. } => format!("waiting ({attempts} tries): {r}"),
        SyncState::Synced { task_id, .. } => format!("in Salesforce as Task {task_id}"),
        SyncState::Attention { reason, .. } => format!("needs attention: {reason}"),
    }
}

fn entry_line(e: &HistoryEntry) -> String {
    let c = &e.log.content;
    let who = c.who.as_ref().map(|w| w.name.as_str()).unwrap_or(c.number.as_str());
    format!("{:>5}  {}  {:<8} {:<24} {}  [{}]", e.log.id, c.started_at, c.call_type.as_str(), who, c.subject, sync_text(&e.sync))
}

fn entry_text(e: &HistoryEntry) -> String {
    let c = &e.log.content;
    let mut s = format!("Log {} (call {})\n", e.log.id, e.log.call_id);
    s.push_str(&format!("  number       {}\n  type         {}\n  subject      {}\n", c.number, c.call_type.as_str(), c.subject));
    if let Some(w) = &c.who {
        s.push_str(&format!("  person       {} {} ({})\n", w.object, w.name, w.id));
    }
    if let Some(w) = &c.what {
        s.push_str(&format!("  related to   {} {} ({})\n", w.object, w.name, w.id));
    }
    s.push_str(&format!("  disposition  {}\n  duration     {} s\n", c.disposition.as_deref().unwrap_or("-"), c.duration_secs));
    s.push_str(&format!("  state        {}", sync_text(&e.sync)));
    s
}

