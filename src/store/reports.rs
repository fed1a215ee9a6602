//! The rows the Reports view counts: meetings and call logs in a date range. Read-only.

use rusqlite::params;

use super::{Store, StoreError};
use crate::meetings::{Held, MeetingStatus, Provider};

/// One meeting as the reports see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRow {
    pub provider: Provider,
    pub status: MeetingStatus,
    pub held: Option<Held>,
    pub host: Option<String>,
    pub start_at: i64,
    pub duration_mins: u32,
}

/// Calls of one disposition (empty: none chosen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositionRow {
    pub disposition: String,
    pub calls: u32,
    pub talk_secs: u64,
}

pub struct ReportRows<'s> {
    store: &'s Store,
}

impl Store {
    pub fn reports(&self) -> ReportRows<'_> {
        ReportRows { store: self }
    }
}

impl ReportRows<'_> {
    /// Meetings starting in `[from, to)` (unix seconds).
    pub fn meetings(&self, from: i64, to: i64) -> Result<Vec<MeetingRow>, StoreError> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT provider, status, held, host, start_at, duration_mins FROM meetings WHERE start_at >= ?1 AND start_at < ?2 ORDER BY start_at",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            let provider: String = r.get(0)?;
            let status: String = r.get(1)?;
            let held: Option<String> = r.get(2)?;
            Ok(MeetingRow {
                provider: Provider::parse(&provider).unwrap_or(Provider::Jitsi),
                status: MeetingStatus::parse(&status),
                held: held.and_then(|h| serde_json::from_str(&h).ok()),
                host: r.get(3)?,
                start_at: r.get(4)?,
                duration_mins: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls started in `[from, to)`, by disposition, most calls first.
    pub fn calls_by_disposition(&self, from: i64, to: i64) -> Result<Vec<DispositionRow>, StoreError> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT COALESCE(disposition, ''), COUNT(*), COALESCE(SUM(duration_secs), 0) FROM call_logs
             WHERE started_at >= ?1 AND started_at < ?2 GROUP BY 1 ORDER BY 2 DESC, 1",
        )?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(DispositionRow { disposition: r.get(0)?, calls: r.get(1)?, talk_secs: r.get::<_, i64>(2)?.max(0) as u64 })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
