//! `ringside meeting …`: start a meeting with a person, list meetings, send their
//! Events to Salesforce.

use clap::Subcommand;
use ringside::app::held_meetings::{HeldChoice, HeldEntry, MatchedBy};
use ringside::app::meetings::event_state_line;
use ringside::app::reports::ReportKind;
use ringside::app::{AppError, Engine, ErrorCode};
use ringside::calllog::RecordRef;
use ringside::meetings::{MeetingEntry, MeetingRequest, Provider};

use super::Printer;

#[derive(Subcommand)]
pub(super) enum MeetingAction {
    /// Start a meeting now (or at --at) with a person, record its Event in Salesforce,
    /// and print the address to open.
    Start {
        /// jitsi (no account needed), zoom or webex.
        #[arg(long, default_value = "jitsi")]
        provider: String,
        /// The person is this number's only match.
        #[arg(long, conflicts_with = "who")]
        number: Option<String>,
        /// The Contact or Lead: `Contact:003…[:Name]`.
        #[arg(long)]
        who: Option<String>,
        /// The related record: `Opportunity:006…[:Name]`.
        #[arg(long)]
        what: Option<String>,
        #[arg(long, default_value = "")]
        topic: String,
        #[arg(long, default_value = "")]
        agenda: String,
        /// Start, as unix seconds (default: now).
        #[arg(long, conflicts_with = "local")]
        at: Option<i64>,
        /// Start, as a date and time in --time-zone: "2027-03-28 10:00".
        #[arg(long)]
        local: Option<String>,
        /// Minutes (default 30).
        #[arg(long, default_value_t = 0)]
        duration: u32,
        /// IANA time zone (default: this computer's).
        #[arg(long, default_value = "")]
        time_zone: String,
        /// Another address to invite (repeatable).
        #[arg(long = "invite", value_name = "EMAIL")]
        invitees: Vec<String>,
        /// Store only; the next `meeting sync` (or the app) records the Event.
        #[arg(long)]
        no_sync: bool,
    },
    /// Meetings of the last and next --days days, newest first.
    List {
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    Show { id: i64 },
    /// Ask Zoom how past meetings went, then record every Event that waits or has
    /// news, now (call logs are sent too).
    Sync,
    /// Meetings held at Zoom or Webex in a date range (made outside Ringside too), each
    /// attendee matched to a Salesforce Contact or Lead; --record records some as Events.
    Held {
        /// zoom or webex.
        #[arg(long)]
        provider: String,
        /// First day, YYYY-MM-DD in this computer's time zone (default: 7 days ago).
        #[arg(long)]
        from: Option<String>,
        /// Last day, inclusive (default: today).
        #[arg(long)]
        to: Option<String>,
        /// Record these meetings (their numbers in the list, comma-separated, or
        /// "proposed": every one not recorded yet whose person was found) as Events.
        #[arg(long, value_delimiter = ',')]
        record: Vec<String>,
    },
    /// Keep the provider app's client secret (Webex integrations have one) in the
    /// keyring: read from standard input; empty input forgets it.
    ClientSecret { provider: String },
    /// Connect a provider account (zoom, webex): prints the sign-in address to open.
    Connect { provider: String },
    /// Forget a provider account (its grant is revoked).
    Disconnect { provider: String },
    /// The providers and whether each is connected.
    Providers,
    /// Send a refused Event again.
    Retry { id: i64 },
    /// Print the meeting's .ics invitation (or write it with --out FILE).
    Ics {
        id: i64,
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

fn parse_provider(value: &str) -> Result<Provider, AppError> {
    Provider::parse(value).ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{value}\u{201d}: the provider is jitsi, zoom or webex.")))
}

fn parse_ref(value: &str) -> Result<RecordRef, AppError> {
    let mut parts = value.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(object), Some(id), name) if !object.is_empty() && !id.is_empty() => Ok(RecordRef {
            object: object.to_string(),
            id: id.to_string(),
            name: name.unwrap_or_default().to_string(),
        }),
        _ => Err(AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{value}\u{201d}: write OBJECT:ID or OBJECT:ID:Name, e.g. Contact:003…:Ana Lima"))),
    }
}

pub(super) fn run(action: &MeetingAction, engine: &Engine, runtime: &tokio::runtime::Runtime, out: &Printer) -> Result<(), AppError> {
    match action {
        MeetingAction::Start { provider, number, who, what, topic, agenda, at, local, duration, time_zone, invitees, no_sync } => {
            let provider = parse_provider(provider)?;
            let mut who = who.as_deref().map(parse_ref).transpose()?;
            let mut what = what.as_deref().map(parse_ref).transpose()?;
            if let Some(number) = number {
                let matched = runtime.block_on(engine.match_number(number))?;
                let [only] = matched.records.as_slice() else {
                    return Err(AppError::new(
                        ErrorCode::InvalidInput,
                        format!("{number} matches {} records; name the person with --who.", matched.records.len()),
                    ));
                };
                let input = engine.new_call_log(number, ringside::calllog::CallType::Outbound, Some(only));
                who = input.who;
                what = what.or(input.what);
            }
            let request = MeetingRequest {
                provider,
                topic: topic.clone(),
                agenda: agenda.clone(),
                start_at: *at,
                local_start: local.clone(),
                duration_mins: *duration,
                time_zone: time_zone.clone(),
                invitees: invitees.clone(),
                who,
                what,
                ..MeetingRequest::default()
            };
            let started = runtime.block_on(engine.start_meeting(&request))?;
            let meeting = if *no_sync {
                started.meeting
            } else {
                runtime.block_on(engine.drain_outbox(false));
                runtime.block_on(engine.meeting(started.meeting.id))?
            };
            out.print(&serde_json::json!({ "meeting": meeting, "openUrl": started.open_url }), || {
                match (&started.open_url, &started.open_problem) {
                    (Some(url), _) => format!("{}\nOpen: {url}", meeting_text(&meeting)),
                    (None, Some(problem)) => format!("{}\n{problem}", meeting_text(&meeting)),
                    (None, None) => meeting_text(&meeting),
                }
            });
        }
        MeetingAction::List { days } => {
            let now = chrono::Utc::now().timestamp();
            let span = i64::from(*days) * 86_400;
            let list = runtime.block_on(engine.meetings(now - span, now + span, 500))?;
            out.print(&list, || if list.is_empty() { "No meetings.".into() } else { list.iter().map(meeting_line).collect::<Vec<_>>().join("\n") });
        }
        MeetingAction::Show { id } => {
            let m = runtime.block_on(engine.meeting(*id))?;
            out.print(&m, || meeting_text(&m));
        }
        MeetingAction::Sync => {
            let (checked, report) = runtime.block_on(engine.sync_meetings_now());
            out.print(&serde_json::json!({ "providers": checked, "salesforce": report }), || {
                let mut text = format!(
                    "Meetings checked: {}; with news: {}; not checked: {}.\nEvents recorded: {}; updated: {}; found already in Salesforce: {}; waiting: {}; needing attention: {} ({} requests).",
                    checked.checked, checked.changed, checked.failed, report.events, report.updated, report.adopted, report.retrying, report.parked, report.requests
                );
                if let Some(why) = &checked.stopped {
                    text.push_str(&format!("\nStopped early: {why}"));
                }
                text
            });
        }
        MeetingAction::Connect { provider } => {
            let provider = parse_provider(provider)?;
            let json = out.json;
            runtime.block_on(engine.connect_meetings(provider, |url| {
                if json {
                    println!("{}", serde_json::json!({ "open": url }));
                } else {
                    println!("Open this address in your browser to connect {}:\n{url}", provider.label());
                }
            }))?;
            out.print(&serde_json::json!({ "connected": provider }), || format!("{} is connected.", provider.label()));
        }
        MeetingAction::Held { provider, from, to, record } => {
            let provider = parse_provider(provider)?;
            let today = chrono::Local::now().date_naive();
            let from_day = local_day(from, today - chrono::Days::new(7))?;
            let to_day = local_day(to, today)?;
            let listing = runtime.block_on(engine.held_meetings(provider, start_of_day(from_day), start_of_day(to_day + chrono::Days::new(1))))?;
            let picked: Vec<HeldChoice> = if record.iter().any(|r| r == "proposed") {
                listing
                    .meetings
                    .iter()
                    .filter(|e| e.recorded.is_none() && e.proposed.is_some())
                    .map(|e| HeldChoice { meeting: e.meeting.clone(), who: e.proposed.clone(), what: None })
                    .collect()
            } else {
                record
                    .iter()
                    .map(|n| {
                        n.trim()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| i.checked_sub(1))
                            .and_then(|i| listing.meetings.get(i))
                            .map(|e| HeldChoice { meeting: e.meeting.clone(), who: e.proposed.clone(), what: None })
                            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{n}\u{201d} is not a number from the list.")))
                    })
                    .collect::<Result<_, _>>()?
            };
            let recorded = if picked.is_empty() {
                Vec::new()
            } else {
                let stored = runtime.block_on(engine.record_held_meetings(&picked))?;
                runtime.block_on(engine.drain_outbox(false));
                stored
            };
            out.print(&serde_json::json!({ "listing": listing, "recorded": recorded }), || {
                let mut lines: Vec<String> = listing.meetings.iter().enumerate().map(|(i, e)| held_line(i + 1, e)).collect();
                if lines.is_empty() {
                    lines.push(format!("No {} meetings were held between {from_day} and {to_day}.", provider.label()));
                }
                if let Some(p) = &listing.match_problem {
                    lines.push(format!("Attendees not matched: {p}"));
                }
                if !picked.is_empty() {
                    lines.push(format!("Recorded {} of {} picked (the others were recorded already).", recorded.len(), picked.len()));
                }
                lines.join("\n")
            });
        }
        MeetingAction::ClientSecret { provider } => {
            let provider = parse_provider(provider)?;
            let mut secret = String::new();
            std::io::stdin().read_line(&mut secret).map_err(|e| AppError::new(ErrorCode::Io, format!("standard input: {e}")))?;
            engine.set_meeting_client_secret(provider, &secret)?;
            let kept = !secret.trim().is_empty();
            out.print(&serde_json::json!({ "provider": provider, "kept": kept }), || {
                if kept { format!("{}'s client secret is kept in the keyring.", provider.label()) } else { format!("{}'s client secret is forgotten.", provider.label()) }
            });
        }
        MeetingAction::Disconnect { provider } => {
            let provider = parse_provider(provider)?;
            runtime.block_on(engine.disconnect_meetings(provider))?;
            out.print(&serde_json::json!({ "disconnected": provider }), || format!("{} is disconnected.", provider.label()));
        }
        MeetingAction::Providers => {
            let list = runtime.block_on(engine.meeting_providers());
            out.print(&list, || {
                list.iter()
                    .map(|p| {
                        let state = match (p.needs_account, p.configured, p.connected) {
                            (false, _, _) => "no account needed",
                            (true, false, _) => "not set up (no client ID)",
                            (true, true, false) => "not connected",
                            (true, true, true) => "connected",
                        };
                        format!("{:<10} {state}", p.provider.label())
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        MeetingAction::Ics { id, out: file } => {
            let (_, text) = runtime.block_on(engine.meeting_invitation(*id))?;
            match file {
                Some(path) => {
                    std::fs::write(path, &text).map_err(|e| AppError::new(ErrorCode::Io, format!("{}: {e}", path.display())))?;
                    out.print(&serde_json::json!({ "path": path }), || format!("Invitation written to {}", path.display()));
                }
                None => print!("{text}"),
            }
        }
        MeetingAction::Retry { id } => {
            engine.retry_meeting_event(*id)?;
            runtime.block_on(engine.drain_outbox(false));
            let m = runtime.block_on(engine.meeting(*id))?;
            out.print(&m, || meeting_text(&m));
        }
    }
    Ok(())
}

/// A day typed as YYYY-MM-DD, or `default`.
fn local_day(text: &Option<String>, default: chrono::NaiveDate) -> Result<chrono::NaiveDate, AppError> {
    match text {
        None => Ok(default),
        Some(t) => chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{t}\u{201d} is not a date: write 2026-11-30."))),
    }
}

/// Local midnight starting `d`, as unix seconds.
fn start_of_day(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(chrono::Local).earliest()).map(|t| t.timestamp()).unwrap_or_default()
}

/// `ringside report`.
pub(super) fn report(engine: &Engine, from: &Option<String>, to: &Option<String>, csv: Option<&str>, file: Option<&std::path::Path>, out: &Printer) -> Result<(), AppError> {
    let today = chrono::Local::now().date_naive();
    let (from_day, to_day) = (local_day(from, today - chrono::Days::new(30))?, local_day(to, today)?);
    let (from, to) = (start_of_day(from_day), start_of_day(to_day + chrono::Days::new(1)));
    if let Some(kind) = csv {
        let kind = ReportKind::parse(kind).ok_or_else(|| {
            AppError::new(ErrorCode::InvalidInput, format!("\u{201c}{kind}\u{201d}: the table is meetings-by-status, meetings-by-host or calls-by-disposition."))
        })?;
        let (_, text) = engine.report_csv(from, to, kind)?;
        return match file {
            Some(path) => {
                std::fs::write(path, &text).map_err(|e| AppError::new(ErrorCode::Io, format!("{}: {e}", path.display())))?;
                out.print(&serde_json::json!({ "path": path }), || format!("Report written to {}", path.display()));
                Ok(())
            }
            None => {
                print!("{text}");
                Ok(())
            }
        };
    }
    let r = engine.report(from, to)?;
    out.print(&r, || {
        let mut lines = vec![format!("{from_day} to {to_day}: {} meetings, {} calls, {} of talk.", r.meetings, r.calls, talk(r.talk_secs))];
        lines.push("Meetings by status:".into());
        lines.extend(r.meetings_by_status.iter().map(|c| format!("  {:<12} {}", c.status.as_str(), c.count)));
        lines.push("Meetings by host:".into());
        for h in &r.meetings_by_host {
            let counts = h.counts.iter().map(|c| format!("{} {}", c.count, c.status.as_str())).collect::<Vec<_>>().join(", ");
            lines.push(format!("  {:<28} {} ({counts})", h.host.as_deref().unwrap_or("(you)"), h.total));
        }
        lines.push("Calls by disposition:".into());
        for c in &r.calls_by_disposition {
            let name = if c.disposition.is_empty() { "(none)" } else { c.disposition.as_str() };
            lines.push(format!("  {name:<24} {:>4} calls  {}", c.calls, talk(c.talk_secs)));
        }
        lines.join("\n")
    });
    Ok(())
}

fn talk(secs: u64) -> String {
    format!("{}h {:02}m {:02}s", secs / 3600, secs / 60 % 60, secs % 60)
}

fn held_line(n: usize, e: &HeldEntry) -> String {
    let m = &e.meeting;
    let mut line = format!("{n:>4}. {}  {:>4} min  {}", when(m.start_at), m.minutes, m.topic);
    if let Some(id) = e.recorded {
        line.push_str(&format!("  [recorded: meeting {id}]"));
    } else if let Some(p) = &e.proposed {
        line.push_str(&format!("  [proposed: {} {}]", p.object, p.name));
    }
    for p in &e.people {
        let email = p.attendee.email.as_deref().map(|e| format!(" <{e}>")).unwrap_or_default();
        let found = match (p.is_host, p.by, p.records.as_slice()) {
            (true, _, _) => "host".to_string(),
            (_, None, _) | (_, _, []) => "not in Salesforce".to_string(),
            (_, Some(by), records) => {
                let how = if by == MatchedBy::Email { "by email" } else { "by name" };
                format!("{how}: {}", records.iter().map(|r| format!("{} {}", r.object, r.name)).collect::<Vec<_>>().join(", "))
            }
        };
        line.push_str(&format!("\n        {}{email} \u{2014} {found}", p.attendee.name));
    }
    line
}

fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn meeting_line(m: &MeetingEntry) -> String {
    let who = m.who.as_ref().map(|w| w.name.as_str()).unwrap_or("");
    format!("{:>5}  {}  {:<10} {:<24} {}  [{}]", m.id, when(m.start_at), m.provider.as_str(), who, m.topic, event_state_line(m))
}

fn meeting_text(m: &MeetingEntry) -> String {
    let mut s = format!(
        "Meeting {}: {}\n{} \u{2014} {}, {} min ({})\nJoin: {}",
        m.id,
        m.topic,
        m.provider.label(),
        when(m.start_at),
        m.duration_mins,
        m.time_zone,
        m.join_url
    );
    if let Some(w) = &m.who {
        s.push_str(&format!("\nWith: {} ({} {})", w.name, w.object, w.id));
    }
    if let Some(w) = &m.what {
        s.push_str(&format!("\nAbout: {} ({} {})", w.name, w.object, w.id));
    }
    if !m.invitees.is_empty() {
        s.push_str(&format!("\nInvitees: {}", m.invitees.join(", ")));
    }
    if let Some(n) = &m.number {
        s.push_str(&format!("\nMeeting ID: {n}"));
    }
    s.push_str(&format!("\nStatus: {}", m.status.as_str()));
    if let Some(h) = &m.held {
        s.push_str(&format!("\nHeld: started {}, {} min, {} attended", when(h.actual_start), h.actual_minutes, h.attendees.len()));
        for a in &h.attendees {
            s.push_str(&format!("\n  {}{}", a.name, a.email.as_deref().map(|e| format!(" <{e}>")).unwrap_or_default()));
        }
        for r in &h.recordings {
            s.push_str(&format!("\nRecording: {r}"));
        }
    }
    if let Some(p) = &m.check_problem {
        s.push_str(&format!("\nLast check failed: {p}"));
    }
    s.push_str(&format!("\n{}", event_state_line(m)));
    s
}
