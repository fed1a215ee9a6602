//! The `call_logs` and `outbox` tables: every log the rep writes, and for each saved one
//! where it stands on its way to Salesforce. A save is one transaction over both, so a
//! log is never saved without being queued, nor queued without its content.
//!
//! The outbox keeps state, not a list of operations: one row per log with the revision
//! to push and the revision Salesforce has. Edits in any order therefore end with the
//! latest revision in Salesforce, and a log has at most one Task (`task_id`).

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Row};
use rusqlite_migration::M;

use super::{Store, StoreError};
use crate::calllog::{CallLog, CallLogInput, CallType, HistoryEntry, HistoryQuery, OutboxSummary, RecordRef, SyncState};

pub(super) const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE call_logs (
        id            INTEGER PRIMARY KEY,
        call_id       TEXT NOT NULL UNIQUE,
        number        TEXT NOT NULL,
        e164          TEXT,
        call_type     TEXT NOT NULL,          -- inbound | outbound | internal
        started_at    INTEGER NOT NULL,       -- unix seconds
        duration_secs INTEGER NOT NULL,
        subject       TEXT NOT NULL,
        notes         TEXT NOT NULL,
        disposition   TEXT,
        who_object    TEXT, who_id TEXT, who_name TEXT,
        what_object   TEXT, what_id TEXT, what_name TEXT,
        custom        TEXT NOT NULL DEFAULT '{}', -- JSON object: Task field -> value
        saved         INTEGER NOT NULL DEFAULT 0,
        problems      TEXT NOT NULL DEFAULT '[]', -- JSON: why a draft cannot be saved
        revision      INTEGER NOT NULL DEFAULT 1,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX call_logs_by_start ON call_logs (started_at);
    CREATE TABLE outbox (
        log_id          INTEGER PRIMARY KEY REFERENCES call_logs (id) ON DELETE CASCADE,
        revision        INTEGER NOT NULL,      -- the revision to push
        pushed_revision INTEGER NOT NULL DEFAULT 0,
        task_id         TEXT,
        uncertain       INTEGER NOT NULL DEFAULT 0, -- an insert was sent, its answer not read
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0, -- unix milliseconds
        last_error      TEXT,
        parked          INTEGER NOT NULL DEFAULT 0  -- refused: waits for the rep
    ) STRICT;
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE parked = 0;
    -- The counts on History's badge, read after every save: index-only, whatever the size.
    CREATE INDEX call_logs_drafts ON call_logs (id) WHERE saved = 0;
    CREATE INDEX outbox_waiting ON outbox (log_id) WHERE parked = 0 AND (task_id IS NULL OR pushed_revision < revision);
    CREATE INDEX outbox_parked ON outbox (log_id) WHERE parked = 1;",
)];

/// A log's outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub log_id: i64,
    pub revision: i64,
    pub pushed_revision: i64,
    pub task_id: Option<String>,
    pub uncertain: bool,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub parked: bool,
}

impl OutboxRow {
    pub fn is_done(&self) -> bool {
        self.task_id.is_some() && self.pushed_revision >= self.revision
    }
}

const LOG_COLUMNS: &str = "l.id, l.call_id, l.number, l.e164, l.call_type, l.started_at, l.duration_secs, l.subject, l.notes,
    l.disposition, l.who_object, l.who_id, l.who_name, l.what_object, l.what_id, l.what_name, l.custom, l.saved,
    l.revision, l.created_at, l.updated_at, l.problems";
const OUTBOX_COLUMNS: &str = "o.log_id, o.revision, o.pushed_revision, o.task_id, o.uncertain, o.attempts, o.next_attempt_at,
    o.last_error, o.parked";

fn record_ref(object: Option<String>, id: Option<String>, name: Option<String>) -> Option<RecordRef> {
    Some(RecordRef { object: object?, id: id?, name: name.unwrap_or_default() })
}

fn read_log(r: &Row<'_>) -> rusqlite::Result<(CallLog, String)> {
    let call_type: String = r.get(4)?;
    let custom: String = r.get(16)?;
    Ok((
        CallLog {
            id: r.get(0)?,
            call_id: r.get(1)?,
            e164: r.get(3)?,
            content: CallLogInput {
                number: r.get(2)?,
                call_type: CallType::parse(&call_type).unwrap_or(CallType::Outbound),
                started_at: r.get(5)?,
                duration_secs: r.get(6)?,
                subject: r.get(7)?,
                notes: r.get(8)?,
                disposition: r.get(9)?,
                who: record_ref(r.get(10)?, r.get(11)?, r.get(12)?),
                what: record_ref(r.get(13)?, r.get(14)?, r.get(15)?),
                custom: serde_json::from_str::<BTreeMap<String, String>>(&custom).unwrap_or_default(),
            },
            saved: r.get::<_, i64>(17)? != 0,
            revision: r.get(18)?,
            created_at: r.get(19)?,
            updated_at: r.get(20)?,
        },
        r.get(21)?,
    ))
}

fn read_outbox(r: &Row<'_>, at: usize) -> rusqlite::Result<Option<OutboxRow>> {
    let Some(log_id) = r.get::<_, Option<i64>>(at)? else { return Ok(None) };
    Ok(Some(OutboxRow {
        log_id,
        revision: r.get(at + 1)?,
        pushed_revision: r.get(at + 2)?,
        task_id: r.get(at + 3)?,
        uncertain: r.get::<_, i64>(at + 4)? != 0,
        attempts: r.get(at + 5)?,
        next_attempt_at: r.get(at + 6)?,
        last_error: r.get(at + 7)?,
        parked: r.get::<_, i64>(at + 8)? != 0,
    }))
}

/// The sync state a log's rows describe. `task_url` builds the link to a Task.
pub fn sync_state(problems_json: &str, outbox: Option<&OutboxRow>, task_url: &dyn Fn(&str) -> Option<String>) -> SyncState {
    match outbox {
        None => SyncState::Draft { problems: serde_json::from_str(problems_json).unwrap_or_default() },
        Some(o) if o.parked => SyncState::Attention {
            reason: o.last_error.clone().unwrap_or_else(|| "Salesforce refused this log.".into()),
            task_id: o.task_id.clone(),
        },
        Some(o) if o.is_done() => {
            let id = o.task_id.clone().unwrap_or_default();
            SyncState::Synced { url: task_url(&id), task_id: id }
        }
        Some(o) => SyncState::Pending {
            attempts: o.attempts,
            next_attempt_at: (o.attempts > 0).then_some(o.next_attempt_at.div_euclid(1_000)),
            reason: o.last_error.clone(),
        },
    }
}

pub struct CallLogs<'s> {
    store: &'s mut Store,
}

impl<'s> CallLogs<'s> {
    pub(super) fn new(store: &'s mut Store) -> Self {
        CallLogs { store }
    }

    /// Writes a log (new when `id` is `None`) in one transaction. `saved` queues the
    /// new revision for Salesforce; otherwise the log stays a draft with `problems`.
    /// A saved log cannot go back to being a draft. Returns the local id.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        id: Option<i64>,
        call_id: &str,
        e164: Option<&str>,
        content: &CallLogInput,
        saved: bool,
        problems_json: &str,
        now_secs: i64,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let custom = serde_json::to_string(&content.custom).unwrap_or_else(|_| "{}".into());
        let (who_o, who_i, who_n) = split_ref(content.who.as_ref());
        let (what_o, what_i, what_n) = split_ref(content.what.as_ref());
        self.store.write(|tx| {
            let log_id = match id {
                None => {
                    tx.prepare_cached(
                        "INSERT INTO call_logs (call_id, number, e164, call_type, started_at, duration_secs, subject, notes,
                           disposition, who_object, who_id, who_name, what_object, what_id, what_name, custom, saved,
                           problems, revision, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 1, ?19, ?19)",
                    )?
                    .execute(params![
                            call_id, content.number, e164, content.call_type.as_str(), content.started_at,
                            content.duration_secs, content.subject, content.notes, content.disposition,
                            who_o, who_i, who_n, what_o, what_i, what_n, custom, saved, problems_json, now_secs
                        ])?;
                    tx.last_insert_rowid()
                }
                Some(id) => {
                    tx.execute(
                        "UPDATE call_logs SET number = ?2, e164 = ?3, call_type = ?4, started_at = ?5, duration_secs = ?6,
                           subject = ?7, notes = ?8, disposition = ?9, who_object = ?10, who_id = ?11, who_name = ?12,
                           what_object = ?13, what_id = ?14, what_name = ?15, custom = ?16, saved = max(saved, ?17),
                           problems = ?18, revision = revision + 1, updated_at = ?19
                         WHERE id = ?1",
                        params![
                            id, content.number, e164, content.call_type.as_str(), content.started_at,
                            content.duration_secs, content.subject, content.notes, content.disposition,
                            who_o, who_i, who_n, what_o, what_i, what_n, custom, saved, problems_json, now_secs
                        ],
                    )?;
                    id
                }
            };
            if saved {
                let revision: i64 =
                    tx.prepare_cached("SELECT revision FROM call_logs WHERE id = ?1")?.query_row([log_id], |r| r.get(0))?;
                tx.prepare_cached(
                    "INSERT INTO outbox (log_id, revision, next_attempt_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (log_id) DO UPDATE SET revision = excluded.revision, attempts = 0,
                       next_attempt_at = excluded.next_attempt_at, last_error = NULL, parked = 0",
                )?
                .execute(params![log_id, revision, now_ms])?;
            }
            Ok(log_id)
        })
    }

    pub fn get(&self, id: i64) -> Result<Option<(CallLog, String, Option<OutboxRow>)>, StoreError> {
        let sql = format!("SELECT {LOG_COLUMNS}, {OUTBOX_COLUMNS} FROM call_logs l LEFT JOIN outbox o ON o.log_id = l.id WHERE l.id = ?1");
        Ok(self
            .store
            .conn()
            .prepare_cached(&sql)?
            .query_row([id], |r| {
                let (log, problems) = read_log(r)?;
                Ok((log, problems, read_outbox(r, 22)?))
            })
            .optional()?)
    }

    pub fn by_call_id(&self, call_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.store.conn().query_row("SELECT id FROM call_logs WHERE call_id = ?1", [call_id], |r| r.get(0)).optional()?)
    }

    /// History, newest call first.
    pub fn list(&self, query: &HistoryQuery, task_url: &dyn Fn(&str) -> Option<String>) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut sql = format!(
            "SELECT {LOG_COLUMNS}, {OUTBOX_COLUMNS} FROM call_logs l LEFT JOIN outbox o ON o.log_id = l.id
             WHERE l.started_at >= ?1 AND l.started_at < ?2"
        );
        let words: Vec<String> = query.text.split_whitespace().take(8).map(like_pattern).collect();
        for i in 0..words.len() {
            let p = i + 4;
            sql.push_str(&format!(
                " AND (l.number LIKE ?{p} ESCAPE '\\' OR ifnull(l.e164, '') LIKE ?{p} ESCAPE '\\'
                   OR ifnull(l.who_name, '') LIKE ?{p} ESCAPE '\\' OR ifnull(l.what_name, '') LIKE ?{p} ESCAPE '\\'
                   OR l.subject LIKE ?{p} ESCAPE '\\' OR l.notes LIKE ?{p} ESCAPE '\\'
                   OR ifnull(l.disposition, '') LIKE ?{p} ESCAPE '\\')"
            ));
        }
        sql.push_str(" ORDER BY l.started_at DESC, l.id DESC LIMIT ?3");
        let mut stmt = self.store.conn().prepare(&sql)?;
        let mut values: Vec<rusqlite::types::Value> = vec![
            query.from.unwrap_or(i64::MIN).into(),
            query.until.unwrap_or(i64::MAX).into(),
            i64::from(query.limit.unwrap_or(200).min(2_000)).into(),
        ];
        values.extend(words.into_iter().map(rusqlite::types::Value::from));
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            let (log, problems) = read_log(r)?;
            let outbox = read_outbox(r, 22)?;
            let sync = sync_state(&problems, outbox.as_ref(), task_url);
            Ok(HistoryEntry { log, sync })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Saved logs whose latest revision Salesforce does not have, oldest first; only
    /// those due at `now_ms` unless `force`. Refused (parked) ones wait for the rep.
    pub fn due(&self, now_ms: i64, force: bool, limit: usize) -> Result<Vec<(CallLog, OutboxRow)>, StoreError> {
        let sql = format!(
            "SELECT {LOG_COLUMNS}, {OUTBOX_COLUMNS} FROM outbox o JOIN call_logs l ON l.id = o.log_id
             WHERE o.parked = 0 AND (o.task_id IS NULL OR o.pushed_revision < o.revision)
               AND (?1 OR o.next_attempt_at <= ?2)
             ORDER BY o.log_id LIMIT ?3"
        );
        let mut stmt = self.store.conn().prepare(&sql)?;
        let rows = stmt.query_map(params![force, now_ms, limit as i64], |r| {
            let (log, _) = read_log(r)?;
            // An inner join: the outbox columns are always there.
            Ok((log, read_outbox(r, 22)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next entry waiting on a backoff is due (unix ms).
    pub fn next_due_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.store.conn().query_row(
            "SELECT min(next_attempt_at) FROM outbox WHERE parked = 0 AND (task_id IS NULL OR pushed_revision < revision)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Before an insert is sent: its answer may never be read, so the next attempt
    /// must first look for the Task by call id.
    pub fn mark_uncertain(&mut self, log_ids: &[i64]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for id in log_ids {
                tx.execute("UPDATE outbox SET uncertain = 1 WHERE log_id = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// Salesforce holds `revision` of the log as Task `task_id`.
    pub fn record_pushed(&mut self, done: &[(i64, i64, String)]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for (log_id, revision, task_id) in done {
                tx.execute(
                    "UPDATE outbox SET task_id = ?3, pushed_revision = max(pushed_revision, ?2), uncertain = 0,
                       attempts = 0, last_error = NULL
                     WHERE log_id = ?1",
                    params![log_id, revision, task_id],
                )?;
            }
            Ok(())
        })
    }

    /// A Task found by its call id after an uncertain insert: it is this log's Task.
    /// Its content may be an older revision, so the latest is pushed as an update.
    pub fn adopt(&mut self, log_id: i64, task_id: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE outbox SET task_id = ?2, uncertain = 0, pushed_revision = min(pushed_revision, revision - 1)
                 WHERE log_id = ?1",
                params![log_id, task_id],
            )
        })?;
        Ok(())
    }

    /// The look-up found no Task: the uncertain insert never happened.
    pub fn clear_uncertain(&mut self, log_ids: &[i64]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for id in log_ids {
                tx.execute("UPDATE outbox SET uncertain = 0 WHERE log_id = ?1 AND task_id IS NULL", [id])?;
            }
            Ok(())
        })
    }

    /// A try failed in a way that time may fix: try again at `next_attempt_at`.
    pub fn record_failure(&mut self, failures: &[(i64, i64, String)]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for (log_id, next_attempt_at, reason) in failures {
                tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE log_id = ?1",
                    params![log_id, next_attempt_at, reason],
                )?;
            }
            Ok(())
        })
    }

    /// Salesforce refused the log as it is: it waits until the rep edits or retries it.
    pub fn park(&mut self, log_id: i64, reason: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE outbox SET parked = 1, attempts = attempts + 1, last_error = ?2 WHERE log_id = ?1",
                params![log_id, reason],
            )
        })?;
        Ok(())
    }

    /// The log's Task is gone from Salesforce: forget it, and wait for the rep's retry,
    /// which creates a new one.
    pub fn forget_task(&mut self, log_id: i64, reason: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE outbox SET task_id = NULL, pushed_revision = 0, uncertain = 0, parked = 1, last_error = ?2
                 WHERE log_id = ?1",
                params![log_id, reason],
            )
        })?;
        Ok(())
    }

    /// "Retry" on a log: due now, whatever happened before.
    pub fn retry(&mut self, log_id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.store.write(|tx| {
            tx.execute(
                "UPDATE outbox SET parked = 0, attempts = 0, next_attempt_at = ?2 WHERE log_id = ?1",
                params![log_id, now_ms],
            )
        })?;
        Ok(n > 0)
    }

    /// Every waiting entry due now (signed in again, network back, "Sync now").
    pub fn wake_all(&mut self, now_ms: i64) -> Result<(), StoreError> {
        self.store.write(|tx| tx.execute("UPDATE outbox SET next_attempt_at = min(next_attempt_at, ?1) WHERE parked = 0", [now_ms]))?;
        Ok(())
    }

    pub fn summary(&self) -> Result<OutboxSummary, StoreError> {
        Ok(self.store.conn().prepare_cached(
            "SELECT
               (SELECT count(*) FROM call_logs WHERE saved = 0),
               (SELECT count(*) FROM outbox WHERE parked = 0 AND (task_id IS NULL OR pushed_revision < revision)),
               (SELECT count(*) FROM outbox WHERE parked = 1)",
        )?
        .query_row([], |r| Ok(OutboxSummary { drafts: r.get(0)?, pending: r.get(1)?, attention: r.get(2)? }))?)
    }
}

fn split_ref(r: Option<&RecordRef>) -> (Option<&str>, Option<&str>, Option<&str>) {
    match r {
        Some(r) => (Some(r.object.as_str()), Some(r.id.as_str()), Some(r.name.as_str())),
        None => (None, None, None),
    }
}

/// `%word%` with LIKE's own wildcards escaped.
fn like_pattern(word: &str) -> String {
    let mut out = String::from("%");
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
