//! Meetings and the outbox of their Salesforce Events. A meeting row is written with
//! its Event queued in the same transaction; the Event's state (queued, sent without
//! an answer, recorded, refused) lives beside it, as a call log's does beside the log.

use rusqlite::{params, OptionalExtension, Row};
use rusqlite_migration::M;

use super::{Store, StoreError};
use crate::calllog::RecordRef;
use crate::meetings::{EventSync, Held, MeetingEntry, MeetingStatus, Provider};

pub(super) const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE meetings (
        id              INTEGER PRIMARY KEY,
        provider        TEXT NOT NULL,          -- jitsi | zoom | webex
        meeting_id      TEXT NOT NULL,          -- the provider's id
        topic           TEXT NOT NULL,
        agenda          TEXT NOT NULL,
        join_url        TEXT NOT NULL,
        passcode        TEXT,
        start_at        INTEGER NOT NULL,       -- unix seconds
        duration_mins   INTEGER NOT NULL,
        time_zone       TEXT NOT NULL,
        instant         INTEGER NOT NULL,
        invitees        TEXT NOT NULL DEFAULT '[]', -- JSON array of addresses
        who_object      TEXT, who_id TEXT, who_name TEXT,
        what_object     TEXT, what_id TEXT, what_name TEXT,
        created_at      INTEGER NOT NULL,       -- unix milliseconds
        -- The Event's outbox.
        event_id        TEXT,
        uncertain       INTEGER NOT NULL DEFAULT 0, -- an insert was sent, its answer not read
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0, -- unix milliseconds
        last_error      TEXT,
        parked          INTEGER NOT NULL DEFAULT 0, -- refused: waits for the rep
        UNIQUE (provider, meeting_id)
    ) STRICT;
    CREATE INDEX meetings_by_start ON meetings (start_at);
    CREATE INDEX meetings_event_due ON meetings (next_attempt_at) WHERE event_id IS NULL AND parked = 0;",
)];

/// How the meeting went, read back from its provider, and an Event to update with it.
pub(super) const SYNC_MIGRATIONS: &[M<'static>] = &[M::up(
    "ALTER TABLE meetings ADD COLUMN number TEXT;                      -- Zoom's meeting ID (meeting_id holds its UUID)
    ALTER TABLE meetings ADD COLUMN status TEXT NOT NULL DEFAULT 'scheduled'; -- scheduled | started | ended | deleted
    ALTER TABLE meetings ADD COLUMN held TEXT;                         -- JSON: actual start, minutes, attendees, recordings
    ALTER TABLE meetings ADD COLUMN checked_at INTEGER NOT NULL DEFAULT 0; -- unix seconds of the last look at the provider
    ALTER TABLE meetings ADD COLUMN check_error TEXT;
    ALTER TABLE meetings ADD COLUMN event_stale INTEGER NOT NULL DEFAULT 0; -- the recorded Event lacks what was learnt since
    CREATE INDEX meetings_event_stale ON meetings (next_attempt_at) WHERE event_stale = 1 AND parked = 0;",
)];

/// Who hosted a meeting, and whether it was made in Ringside or held elsewhere and
/// recorded afterwards.
pub(super) const HOST_MIGRATIONS: &[M<'static>] = &[M::up(
    "ALTER TABLE meetings ADD COLUMN host TEXT;                        -- the host's address, when the provider says
    ALTER TABLE meetings ADD COLUMN imported INTEGER NOT NULL DEFAULT 0; -- held outside Ringside, recorded afterwards
    ALTER TABLE meetings ADD COLUMN series_id TEXT;                   -- Webex: the series an occurrence belongs to",
)];

/// The Event outbox state of one meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOutbox {
    pub event_id: Option<String>,
    /// Recorded, but what the provider said since is not on it yet: an update is due.
    pub stale: bool,
    pub uncertain: bool,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub parked: bool,
}

const COLUMNS: &str = "id, provider, meeting_id, topic, agenda, join_url, passcode, start_at, duration_mins, time_zone,
    instant, invitees, who_object, who_id, who_name, what_object, what_id, what_name,
    event_id, uncertain, attempts, next_attempt_at, last_error, parked, number, status, held, check_error, event_stale,
    host, imported, series_id, (SELECT json_object('state', e.state, 'recipients', json(e.recipients), 'reason', e.reason)
       FROM meeting_emails e WHERE e.meeting_id = meetings.id)";

/// Rows whose Event is waiting: not recorded yet, or recorded and out of date.
const WAITING: &str = "(event_id IS NULL OR event_stale = 1) AND parked = 0";

fn record_ref(object: Option<String>, id: Option<String>, name: Option<String>) -> Option<RecordRef> {
    Some(RecordRef { object: object?, id: id?, name: name.unwrap_or_default() })
}

fn read(r: &Row<'_>, event_url: &dyn Fn(&str) -> Option<String>) -> rusqlite::Result<(MeetingEntry, EventOutbox)> {
    let provider: String = r.get(1)?;
    let invitees: String = r.get(11)?;
    let outbox = EventOutbox {
        event_id: r.get(18)?,
        uncertain: r.get::<_, i64>(19)? != 0,
        attempts: r.get(20)?,
        next_attempt_at: r.get(21)?,
        last_error: r.get(22)?,
        parked: r.get::<_, i64>(23)? != 0,
        stale: r.get::<_, i64>(28)? != 0,
    };
    let held: Option<String> = r.get(26)?;
    let event = match (&outbox.event_id, outbox.parked) {
        (Some(id), false) => EventSync::Synced { event_id: id.clone(), url: event_url(id) },
        (_, true) => EventSync::Attention {
            reason: outbox.last_error.clone().unwrap_or_else(|| "Salesforce refused the meeting's Event.".into()),
        },
        (None, false) => EventSync::Pending {
            reason: outbox.last_error.clone(),
            next_attempt_at: (outbox.attempts > 0).then_some(outbox.next_attempt_at.div_euclid(1_000)),
        },
    };
    Ok((
        MeetingEntry {
            id: r.get(0)?,
            provider: Provider::parse(&provider).unwrap_or(Provider::Jitsi),
            meeting_id: r.get(2)?,
            topic: r.get(3)?,
            agenda: r.get(4)?,
            join_url: r.get(5)?,
            passcode: r.get(6)?,
            start_at: r.get(7)?,
            duration_mins: r.get(8)?,
            time_zone: r.get(9)?,
            instant: r.get::<_, i64>(10)? != 0,
            invitees: serde_json::from_str(&invitees).unwrap_or_default(),
            who: record_ref(r.get(12)?, r.get(13)?, r.get(14)?),
            what: record_ref(r.get(15)?, r.get(16)?, r.get(17)?),
            event,
            number: r.get(24)?,
            status: MeetingStatus::parse(&r.get::<_, String>(25)?),
            held: held.and_then(|h| serde_json::from_str(&h).ok()),
            check_problem: r.get(27)?,
            invitation: r.get::<_, Option<String>>(32)?.and_then(|j| serde_json::from_str(&j).ok()),
            host: r.get(29)?,
            imported: r.get::<_, i64>(30)? != 0,
            series_id: r.get(31)?,
        },
        outbox,
    ))
}

fn no_url(_: &str) -> Option<String> {
    None
}

pub struct Meetings<'s> {
    store: &'s mut Store,
}

impl<'s> Meetings<'s> {
    pub(super) fn new(store: &'s mut Store) -> Self {
        Meetings { store }
    }

    /// Writes a meeting with its Event queued, due now, and returns its id. The entry's
    /// `id` and `event` are the store's to give, so they are not read. With `email`
    /// (subject, body), its invitation to `m.invitees` is queued in the same transaction.
    pub fn insert(&mut self, m: &MeetingEntry, email: Option<(&str, &str)>, now_ms: i64) -> Result<i64, StoreError> {
        let invitees = serde_json::to_string(&m.invitees).unwrap_or_else(|_| "[]".into());
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO meetings (provider, meeting_id, topic, agenda, join_url, passcode, start_at, duration_mins,
                    time_zone, instant, invitees, who_object, who_id, who_name, what_object, what_id, what_name,
                    created_at, next_attempt_at, number, status, held, host, imported, series_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                params![
                    m.provider.as_str(),
                    m.meeting_id,
                    m.topic,
                    m.agenda,
                    m.join_url,
                    m.passcode,
                    m.start_at,
                    m.duration_mins,
                    m.time_zone,
                    m.instant,
                    invitees,
                    m.who.as_ref().map(|r| &r.object),
                    m.who.as_ref().map(|r| &r.id),
                    m.who.as_ref().map(|r| &r.name),
                    m.what.as_ref().map(|r| &r.object),
                    m.what.as_ref().map(|r| &r.id),
                    m.what.as_ref().map(|r| &r.name),
                    now_ms,
                    m.number,
                    m.status.as_str(),
                    m.held.as_ref().and_then(|h| serde_json::to_string(h).ok()),
                    m.host,
                    m.imported,
                    m.series_id,
                ],
            )?;
            let id = tx.last_insert_rowid();
            if let Some((subject, body)) = email {
                tx.execute(
                    "INSERT INTO meeting_emails (meeting_id, recipients, subject, body, state, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
                    params![id, invitees, subject, body, now_ms],
                )?;
            }
            Ok(id)
        })
    }

    /// Of `ids` (occurrence or series ids at `provider`), those already stored: id →
    /// the stored meeting's id.
    pub fn stored_ids(&mut self, provider: Provider, ids: &[&str]) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let mut found = std::collections::HashMap::new();
        let conn = self.store.conn();
        let mut stmt = conn.prepare_cached("SELECT id FROM meetings WHERE provider = ?1 AND (meeting_id = ?2 OR series_id = ?2)")?;
        for id in ids {
            if let Some(local) = stmt.query_row(params![provider.as_str(), id], |r| r.get::<_, i64>(0)).optional()? {
                found.insert(id.to_string(), local);
            }
        }
        Ok(found)
    }

    pub fn get(&mut self, id: i64, event_url: &dyn Fn(&str) -> Option<String>) -> Result<Option<MeetingEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM meetings WHERE id = ?1");
        Ok(self.store.conn().query_row(&sql, [id], |r| read(r, event_url)).optional()?.map(|(m, _)| m))
    }

    /// Meetings starting in `[from, to)` (unix seconds), newest first.
    pub fn list(&mut self, from: i64, to: i64, limit: u32, event_url: &dyn Fn(&str) -> Option<String>) -> Result<Vec<MeetingEntry>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM meetings WHERE start_at >= ?1 AND start_at < ?2 ORDER BY start_at DESC, id DESC LIMIT ?3");
        let mut stmt = self.store.conn().prepare(&sql)?;
        let rows = stmt.query_map(params![from, to, limit], |r| read(r, event_url))?;
        Ok(rows.map(|r| r.map(|(m, _)| m)).collect::<Result<_, _>>()?)
    }

    /// Events waiting to be sent: due ones (every waiting one with `force`), oldest first.
    pub fn due(&mut self, now_ms: i64, force: bool, limit: usize) -> Result<Vec<(MeetingEntry, EventOutbox)>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM meetings WHERE {WAITING} AND (?2 OR next_attempt_at <= ?1)
             ORDER BY next_attempt_at, id LIMIT ?3"
        );
        let mut stmt = self.store.conn().prepare(&sql)?;
        let rows = stmt.query_map(params![now_ms, force, limit as i64], |r| read(r, &no_url))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next waiting Event is due, if one waits.
    pub fn next_due_at(&mut self) -> Result<Option<i64>, StoreError> {
        Ok(self.store.conn().query_row(&format!("SELECT min(next_attempt_at) FROM meetings WHERE {WAITING}"), [], |r| r.get(0))?)
    }

    pub fn mark_uncertain(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for id in ids {
                tx.execute("UPDATE meetings SET uncertain = 1 WHERE id = ?1", [id])?;
            }
            Ok(())
        })
    }

    pub fn clear_uncertain(&mut self, ids: &[i64]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for id in ids {
                tx.execute("UPDATE meetings SET uncertain = 0 WHERE id = ?1", [id])?;
            }
            Ok(())
        })
    }

    /// The Events Salesforce now holds, by meeting.
    pub fn record_events(&mut self, done: &[(i64, String)]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for (id, event_id) in done {
                tx.execute(
                    "UPDATE meetings SET event_id = ?2, uncertain = 0, last_error = NULL, parked = 0, attempts = 0 WHERE id = ?1",
                    params![id, event_id],
                )?;
            }
            Ok(())
        })
    }

    /// The Events updated with what was learnt. An Event that went stale again while
    /// the update was in flight (`seen` is the `held` text that was sent) stays due.
    pub fn record_updates(&mut self, done: &[(i64, Option<String>, MeetingStatus)]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for (id, held, status) in done {
                tx.execute(
                    "UPDATE meetings SET event_stale = 0, last_error = NULL, attempts = 0
                     WHERE id = ?1 AND held IS ?2 AND status = ?3",
                    params![id, held, status.as_str()],
                )?;
            }
            Ok(())
        })
    }

    /// Meetings to ask their provider about at `now` (unix seconds), of `providers`,
    /// not deleted, and not ended more than a day ago (recordings take a while to
    /// appear): with `force` all of them; else started ones hourly — and at once just
    /// past their planned end — and future ones daily (to notice one deleted at the
    /// provider).
    pub fn to_check(&mut self, providers: &[Provider], now: i64, force: bool, limit: usize) -> Result<Vec<MeetingEntry>, StoreError> {
        let list = providers.iter().map(|p| format!("'{}'", p.as_str())).collect::<Vec<_>>().join(",");
        if list.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM meetings
             WHERE provider IN ({list}) AND status != 'deleted'
               AND (status != 'ended' OR checked_at < start_at + duration_mins * 60 + 86400)
               AND (?2
                    OR (start_at > ?1 AND (checked_at = 0 OR checked_at <= ?1 - 86400))
                    OR (start_at <= ?1 AND (checked_at = 0 OR checked_at <= ?1 - 3600
                        OR (status != 'ended' AND checked_at < start_at + duration_mins * 60 AND ?1 >= start_at + duration_mins * 60))))
             ORDER BY checked_at, id LIMIT ?3"
        );
        let mut stmt = self.store.conn().prepare(&sql)?;
        let rows = stmt.query_map(params![now, force, limit as i64], |r| read(r, &no_url))?;
        Ok(rows.map(|r| r.map(|(m, _)| m)).collect::<Result<_, _>>()?)
    }

    /// What the provider said of meeting `id` at `now` (unix seconds). When it differs
    /// from what was known, the Event is due for an update (`now_ms`). True if it changed.
    pub fn record_check(&mut self, id: i64, status: MeetingStatus, held: Option<&Held>, now: i64, now_ms: i64) -> Result<bool, StoreError> {
        let held = held.map(|h| serde_json::to_string(h).unwrap_or_default());
        self.store.write(|tx| {
            let changed = tx.execute(
                // The Event shows how it went and whether it was cancelled; a meeting
                // merely starting changes nothing on it.
                "UPDATE meetings SET
                    event_stale = CASE WHEN held IS NOT ?3 OR (?2 = 'deleted') != (status = 'deleted') THEN 1 ELSE event_stale END,
                    next_attempt_at = CASE WHEN held IS NOT ?3 OR (?2 = 'deleted') != (status = 'deleted') THEN ?4 ELSE next_attempt_at END,
                    status = ?2, held = ?3
                 WHERE id = ?1 AND (status != ?2 OR held IS NOT ?3)",
                params![id, status.as_str(), held, now_ms],
            )?;
            tx.execute("UPDATE meetings SET checked_at = ?2, check_error = NULL WHERE id = ?1", params![id, now])?;
            Ok(changed > 0)
        })
    }

    pub fn record_check_failure(&mut self, id: i64, now: i64, reason: &str) -> Result<(), StoreError> {
        self.store.write(|tx| tx.execute("UPDATE meetings SET checked_at = ?2, check_error = ?3 WHERE id = ?1", params![id, now, reason]))?;
        Ok(())
    }

    pub fn record_failure(&mut self, id: i64, next_attempt_at: i64, reason: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE meetings SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, next_attempt_at, reason],
            )
        })?;
        Ok(())
    }

    pub fn park(&mut self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute("UPDATE meetings SET parked = 1, attempts = attempts + 1, last_error = ?2 WHERE id = ?1", params![id, reason])
        })?;
        Ok(())
    }

    /// "Retry" on a refused Event, or everything waiting after signing in: due now.
    /// False when the meeting's Event is already recorded (or the meeting is unknown).
    pub fn retry(&mut self, id: Option<i64>, now_ms: i64) -> Result<bool, StoreError> {
        let changed = self.store.write(|tx| match id {
            Some(id) => tx.execute(
                "UPDATE meetings SET parked = 0, next_attempt_at = ?2 WHERE id = ?1 AND (event_id IS NULL OR event_stale = 1 OR parked = 1)",
                params![id, now_ms],
            ),
            None => tx.execute(&format!("UPDATE meetings SET next_attempt_at = ?1 WHERE {WAITING}"), [now_ms]),
        })?;
        Ok(changed > 0)
    }
}

impl Store {
    pub fn meetings(&mut self) -> Meetings<'_> {
        Meetings::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(id: &str) -> MeetingEntry {
        MeetingEntry {
            id: 0,
            provider: Provider::Jitsi,
            meeting_id: id.into(),
            topic: "Meeting with Ana".into(),
            agenda: String::new(),
            join_url: format!("https://meet.jit.si/{id}"),
            passcode: None,
            start_at: 1_000,
            duration_mins: 30,
            time_zone: "UTC".into(),
            instant: true,
            invitees: vec!["a@b.co".into()],
            who: Some(RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Ana".into() }),
            what: None,
            event: EventSync::Pending { reason: None, next_attempt_at: None },
            number: None,
            status: MeetingStatus::Scheduled,
            held: None,
            check_problem: None,
            invitation: None,
            host: None,
            imported: false,
            series_id: None,
        }
    }

    #[test]
    fn a_meeting_recorded_afterwards_keeps_its_host_and_is_found_by_its_series() {
        let mut store = Store::in_memory().unwrap();
        let mut m = store.meetings();
        let mut held = meeting("SERIES_I_1");
        held.provider = Provider::Webex;
        held.status = MeetingStatus::Ended;
        held.host = Some("rep@example.com".into());
        held.imported = true;
        held.series_id = Some("SERIES".into());
        held.held = Some(Held { actual_start: 1_000, actual_minutes: 12, attendees: vec![], recordings: vec![] });
        let id = m.insert(&held, None, 5).unwrap();
        let back = m.get(id, &no_url).unwrap().unwrap();
        assert_eq!((back.host.as_deref(), back.imported, back.series_id.as_deref()), (Some("rep@example.com"), true, Some("SERIES")));
        assert_eq!(back.held.unwrap().actual_minutes, 12, "how it went is stored with it");
        let found = m.stored_ids(Provider::Webex, &["SERIES", "SERIES_I_1", "OTHER"]).unwrap();
        assert_eq!((found.get("SERIES"), found.get("SERIES_I_1"), found.get("OTHER")), (Some(&id), Some(&id), None));
        assert!(m.stored_ids(Provider::Zoom, &["SERIES"]).unwrap().is_empty(), "per provider");
    }

    #[test]
    fn a_meeting_is_queued_until_its_event_is_recorded() {
        let mut store = Store::in_memory().unwrap();
        let mut m = store.meetings();
        let id = m.insert(&meeting("A"), None, 5).unwrap();
        assert!(m.insert(&meeting("A"), None, 5).is_err(), "the same provider meeting twice");
        assert!(m.to_check(&[Provider::Zoom], 10_000, true, 10).unwrap().is_empty(), "a Jitsi meeting is never asked about");
        let due = m.due(5, false, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].0.invitees, ["a@b.co"]);
        m.record_failure(id, 100, "offline").unwrap();
        assert!(m.due(50, false, 10).unwrap().is_empty());
        assert_eq!(m.next_due_at().unwrap(), Some(100));
        m.record_events(&[(id, "00U000000000001AAA".into())]).unwrap();
        assert!(m.due(1_000, true, 10).unwrap().is_empty());
        let shown = m.get(id, &|e| Some(format!("u/{e}"))).unwrap().unwrap();
        assert_eq!(shown.event, EventSync::Synced { event_id: "00U000000000001AAA".into(), url: Some("u/00U000000000001AAA".into()) });
        assert!(!m.retry(Some(id), 0).unwrap());
        assert_eq!(m.list(0, 2_000, 10, &no_url).unwrap().len(), 1);
    }

    #[test]
    fn what_the_provider_says_makes_the_recorded_event_due_once() {
        let mut store = Store::in_memory().unwrap();
        let mut m = store.meetings();
        let mut zoom = meeting("uuid==");
        zoom.provider = Provider::Zoom;
        zoom.number = Some("81234567890".into());
        let id = m.insert(&zoom, None, 5).unwrap();
        m.record_events(&[(id, "00U000000000001AAA".into())]).unwrap();
        // Due at its planned end (1,000 + 30 min), then hourly.
        assert!(m.to_check(&[Provider::Zoom], 1_500, false, 10).unwrap().len() == 1, "never checked yet");
        assert!(!m.record_check(id, MeetingStatus::Scheduled, None, 1_500, 1_500_000).unwrap(), "nothing new");
        assert!(m.to_check(&[Provider::Zoom], 2_000, false, 10).unwrap().is_empty());
        assert_eq!(m.to_check(&[Provider::Zoom], 2_800, false, 10).unwrap().len(), 1, "its planned end passed");
        let held = Held { actual_start: 1_100, actual_minutes: 25, attendees: vec![], recordings: vec![] };
        assert!(m.record_check(id, MeetingStatus::Ended, Some(&held), 2_800, 2_800_000).unwrap());
        let due = m.due(2_800_000, false, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert!(due[0].1.stale && due[0].0.held.as_ref() == Some(&held));
        assert!(!m.record_check(id, MeetingStatus::Ended, Some(&held), 6_500, 6_500_000).unwrap(), "the same again changes nothing");
        let sent = serde_json::to_string(&held).unwrap();
        m.record_updates(&[(id, Some(sent), MeetingStatus::Ended)]).unwrap();
        assert!(m.due(9_999_999, true, 10).unwrap().is_empty());
        assert_eq!(m.get(id, &no_url).unwrap().unwrap().number.as_deref(), Some("81234567890"));

        // A future meeting: looked at once a day.
        let mut later = meeting("later==");
        later.provider = Provider::Zoom;
        later.start_at = 1_000_000;
        let later = m.insert(&later, None, 5).unwrap();
        let due = |m: &mut Meetings<'_>, now| m.to_check(&[Provider::Zoom], now, false, 10).unwrap().iter().any(|x| x.id == later);
        assert!(due(&mut m, 10_000), "never looked at");
        m.record_check(later, MeetingStatus::Scheduled, None, 10_000, 10_000_000).unwrap();
        assert!(!due(&mut m, 20_000));
        assert!(due(&mut m, 10_000 + 86_400));
    }
}
