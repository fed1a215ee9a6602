//! Reports: meetings by status, meetings by host and status, and calls by disposition
//! with their talk time, for a date range — what the Reports view charts and exports
//! as CSV. Counted from the local store, which holds every meeting and call log of
//! this rep (meetings held elsewhere count once recorded).
//!
//! A meeting's status for reporting: `scheduled`, `inProgress`, `held` (someone besides
//! the host joined), `notHeld`, `cancelled` (deleted at its provider), or `unknown`
//! (a Jitsi meeting past its planned end: Jitsi cannot be asked how it went).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AppError, Engine, ErrorCode};
use crate::meetings::{was_held, MeetingStatus, Provider};
use crate::store::reports::MeetingRow;

/// The longest range one report covers.
pub const MAX_RANGE_DAYS: i64 = 3 * 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ReportStatus {
    Scheduled,
    InProgress,
    Held,
    NotHeld,
    Cancelled,
    Unknown,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 6] =
        [ReportStatus::Held, ReportStatus::NotHeld, ReportStatus::Scheduled, ReportStatus::InProgress, ReportStatus::Cancelled, ReportStatus::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Scheduled => "scheduled",
            ReportStatus::InProgress => "inProgress",
            ReportStatus::Held => "held",
            ReportStatus::NotHeld => "notHeld",
            ReportStatus::Cancelled => "cancelled",
            ReportStatus::Unknown => "unknown",
        }
    }

    fn of(m: &MeetingRow, now: i64) -> ReportStatus {
        match m.status {
            MeetingStatus::Deleted => ReportStatus::Cancelled,
            MeetingStatus::Ended => match &m.held {
                Some(h) if was_held(h) => ReportStatus::Held,
                _ => ReportStatus::NotHeld,
            },
            _ if m.provider == Provider::Jitsi && m.start_at + i64::from(m.duration_mins) * 60 <= now => ReportStatus::Unknown,
            MeetingStatus::Started => ReportStatus::InProgress,
            MeetingStatus::Scheduled => ReportStatus::Scheduled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StatusCount {
    pub status: ReportStatus,
    pub count: u32,
}

/// One host's meetings by status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HostRow {
    /// The host's address; `None`: the rep's own meetings where the provider names no
    /// host (Jitsi).
    pub host: Option<String>,
    pub counts: Vec<StatusCount>,
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DispositionTotal {
    /// Empty: no disposition chosen.
    pub disposition: String,
    pub calls: u32,
    #[specta(type = u32)]
    pub talk_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[specta(type = u32)]
    pub from: i64,
    #[specta(type = u32)]
    pub to: i64,
    pub meetings_by_status: Vec<StatusCount>,
    pub meetings_by_host: Vec<HostRow>,
    pub meetings: u32,
    pub calls_by_disposition: Vec<DispositionTotal>,
    pub calls: u32,
    #[specta(type = u32)]
    pub talk_secs: u64,
}

/// Which table a CSV export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ReportKind {
    MeetingsByStatus,
    MeetingsByHost,
    CallsByDisposition,
}

impl ReportKind {
    pub fn parse(s: &str) -> Option<ReportKind> {
        match s {
            "meetings-by-status" | "meetingsByStatus" => Some(ReportKind::MeetingsByStatus),
            "meetings-by-host" | "meetingsByHost" | "meetings-by-user" => Some(ReportKind::MeetingsByHost),
            "calls-by-disposition" | "callsByDisposition" => Some(ReportKind::CallsByDisposition),
            _ => None,
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            ReportKind::MeetingsByStatus => "meetings-by-status",
            ReportKind::MeetingsByHost => "meetings-by-host",
            ReportKind::CallsByDisposition => "calls-by-disposition",
        }
    }
}

/// Counts the rows (pure, so it is tested without a store).
pub fn build(from: i64, to: i64, meetings: &[MeetingRow], calls: Vec<crate::store::reports::DispositionRow>, now: i64) -> Report {
    let mut by_status: BTreeMap<ReportStatus, u32> = BTreeMap::new();
    let mut by_host: BTreeMap<Option<String>, BTreeMap<ReportStatus, u32>> = BTreeMap::new();
    for m in meetings {
        let status = ReportStatus::of(m, now);
        *by_status.entry(status).or_default() += 1;
        let host = m.host.as_deref().map(|h| h.trim().to_lowercase()).filter(|h| !h.is_empty());
        *by_host.entry(host).or_default().entry(status).or_default() += 1;
    }
    let counts = |map: &BTreeMap<ReportStatus, u32>| -> Vec<StatusCount> {
        ReportStatus::ALL.iter().filter_map(|s| map.get(s).map(|&count| StatusCount { status: *s, count })).collect()
    };
    let mut meetings_by_host: Vec<HostRow> =
        by_host.iter().map(|(host, map)| HostRow { host: host.clone(), counts: counts(map), total: map.values().sum() }).collect();
    meetings_by_host.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.host.cmp(&b.host)));
    let calls_by_disposition: Vec<DispositionTotal> =
        calls.into_iter().map(|c| DispositionTotal { disposition: c.disposition, calls: c.calls, talk_secs: c.talk_secs }).collect();
    Report {
        from,
        to,
        meetings_by_status: counts(&by_status),
        meetings_by_host,
        meetings: meetings.len() as u32,
        calls: calls_by_disposition.iter().map(|c| c.calls).sum(),
        talk_secs: calls_by_disposition.iter().map(|c| c.talk_secs).sum(),
        calls_by_disposition,
    }
}

/// One CSV field: quoted when it must be, and a leading `= + - @` defused so a
/// spreadsheet never runs a subject or a name as a formula.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn row(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// One table of the report as CSV (RFC 4180: CRLF line ends, a header row).
pub fn csv(report: &Report, kind: ReportKind) -> String {
    let mut out = String::new();
    match kind {
        ReportKind::MeetingsByStatus => {
            out.push_str(&row(&["status".into(), "meetings".into()]));
            for c in &report.meetings_by_status {
                out.push_str(&row(&[c.status.as_str().into(), c.count.to_string()]));
            }
        }
        ReportKind::MeetingsByHost => {
            let mut header = vec!["host".to_string()];
            header.extend(ReportStatus::ALL.iter().map(|s| s.as_str().to_string()));
            header.push("total".into());
            out.push_str(&row(&header));
            for h in &report.meetings_by_host {
                let mut fields = vec![h.host.clone().unwrap_or_else(|| "(you)".into())];
                fields.extend(ReportStatus::ALL.iter().map(|s| h.counts.iter().find(|c| c.status == *s).map_or(0, |c| c.count).to_string()));
                fields.push(h.total.to_string());
                out.push_str(&row(&fields));
            }
        }
        ReportKind::CallsByDisposition => {
            out.push_str(&row(&["disposition".into(), "calls".into(), "talk_seconds".into()]));
            for c in &report.calls_by_disposition {
                let name = if c.disposition.is_empty() { "(none)".to_string() } else { c.disposition.clone() };
                out.push_str(&row(&[name, c.calls.to_string(), c.talk_secs.to_string()]));
            }
        }
    }
    out
}

impl Engine {
    /// The report for `[from, to)` (unix seconds).
    pub fn report(&self, from: i64, to: i64) -> Result<Report, AppError> {
        if to <= from {
            return Err(AppError::new(ErrorCode::InvalidInput, "The range ends before it starts: pick a start date before the end date."));
        }
        if to - from > MAX_RANGE_DAYS * 86_400 {
            return Err(AppError::new(ErrorCode::InvalidInput, "A report covers at most three years: pick a shorter range."));
        }
        let now = self.clock.now_secs();
        let state = self.lock();
        let rows = state.store.reports();
        let meetings = rows.meetings(from, to)?;
        let calls = rows.calls_by_disposition(from, to)?;
        Ok(build(from, to, &meetings, calls, now))
    }

    /// One table as CSV: a file name and its text.
    pub fn report_csv(&self, from: i64, to: i64, kind: ReportKind) -> Result<(String, String), AppError> {
        let report = self.report(from, to)?;
        let day = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d").to_string();
        Ok((format!("ringside-{}-{}-{}.csv", kind.file_stem(), day(from), day(to - 1)), csv(&report, kind)))
    }

    /// Writes one table as CSV into `dir` (default: Downloads, else the data folder's
    /// `reports/`) and returns the file's path.
    pub fn save_report_csv(&self, from: i64, to: i64, kind: ReportKind, dir: Option<&std::path::Path>) -> Result<std::path::PathBuf, AppError> {
        let (name, text) = self.report_csv(from, to, kind)?;
        let path = self.write_download(dir, "reports", &name, &text, "The report")?;
        tracing::info!(path = %path.display(), "report written");
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meetings::{Attendee, Held};
    use crate::store::reports::DispositionRow;

    fn meeting(provider: Provider, status: MeetingStatus, attended: usize, host: Option<&str>) -> MeetingRow {
        MeetingRow {
            provider,
            status,
            held: (status == MeetingStatus::Ended).then(|| Held {
                actual_start: 0,
                actual_minutes: 20,
                attendees: (0..attended).map(|i| Attendee { name: format!("P{i}"), email: None }).collect(),
                recordings: vec![],
            }),
            host: host.map(str::to_string),
            start_at: 1_000,
            duration_mins: 30,
        }
    }

    #[test]
    fn meetings_are_counted_by_status_and_by_host() {
        let rows = [
            meeting(Provider::Zoom, MeetingStatus::Ended, 3, Some("Rep@Acme.com")),
            meeting(Provider::Zoom, MeetingStatus::Ended, 1, Some("rep@acme.com")),
            meeting(Provider::Webex, MeetingStatus::Deleted, 0, Some("boss@acme.com")),
            meeting(Provider::Jitsi, MeetingStatus::Started, 0, None),
            meeting(Provider::Zoom, MeetingStatus::Scheduled, 0, Some("rep@acme.com")),
        ];
        let calls = vec![
            DispositionRow { disposition: "Connected".into(), calls: 3, talk_secs: 600 },
            DispositionRow { disposition: String::new(), calls: 1, talk_secs: 5 },
        ];
        let r = build(0, 10_000, &rows, calls, 5_000);
        let get = |s| r.meetings_by_status.iter().find(|c| c.status == s).map(|c| c.count);
        assert_eq!((get(ReportStatus::Held), get(ReportStatus::NotHeld), get(ReportStatus::Cancelled)), (Some(1), Some(1), Some(1)));
        assert_eq!((get(ReportStatus::Unknown), get(ReportStatus::Scheduled), get(ReportStatus::InProgress)), (Some(1), Some(1), None));
        assert_eq!(r.meetings_by_host[0].host.as_deref(), Some("rep@acme.com"), "addresses are one host whatever their case");
        assert_eq!(r.meetings_by_host[0].total, 3);
        assert_eq!((r.calls, r.talk_secs, r.meetings), (4, 605, 5));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let calls = vec![
            DispositionRow { disposition: "=HYPERLINK(\"x\")".into(), calls: 2, talk_secs: 61 },
            DispositionRow { disposition: "Left message, call back".into(), calls: 1, talk_secs: 0 },
            DispositionRow { disposition: String::new(), calls: 1, talk_secs: 3 },
        ];
        let r = build(0, 10, &[], calls, 0);
        let text = csv(&r, ReportKind::CallsByDisposition);
        assert_eq!(
            text,
            "disposition,calls,talk_seconds\r\n\"'=HYPERLINK(\"\"x\"\")\",2,61\r\n\"Left message, call back\",1,0\r\n(none),1,3\r\n"
        );
        let hosts = csv(&build(0, 10, &[meeting(Provider::Jitsi, MeetingStatus::Ended, 2, None)], vec![], 0), ReportKind::MeetingsByHost);
        assert_eq!(hosts.lines().nth(1), Some("(you),1,0,0,0,0,0,1"));
    }
}
