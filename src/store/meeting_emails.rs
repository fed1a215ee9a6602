//! The `meeting_emails` table: one invitation email per meeting, queued in the same
//! transaction as the meeting, then leased (`sending`) before it is handed to
//! Salesforce so that it goes at most once.

use rusqlite::{params, OptionalExtension};
use rusqlite_migration::M;

use super::{Store, StoreError};
use crate::meetings::email::InvitationState;

pub(super) const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE meeting_emails (
        meeting_id  INTEGER PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
        recipients  TEXT NOT NULL,              -- JSON array of addresses
        subject     TEXT NOT NULL,
        body        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unsure')),
        reason      TEXT,
        updated_at  INTEGER NOT NULL            -- unix milliseconds
    ) STRICT;
    CREATE INDEX meeting_emails_pending ON meeting_emails (meeting_id) WHERE state = 'pending';",
)];

/// An email to hand to Salesforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEmail {
    pub meeting_id: i64,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub struct MeetingEmails<'s> {
    store: &'s mut Store,
}

impl Store {
    pub fn meeting_emails(&mut self) -> MeetingEmails<'_> {
        MeetingEmails { store: self }
    }
}

impl MeetingEmails<'_> {
    /// Waiting emails, oldest meeting first.
    pub fn pending(&mut self, limit: usize) -> Result<Vec<QueuedEmail>, StoreError> {
        let mut stmt = self
            .store
            .conn()
            .prepare("SELECT meeting_id, recipients, subject, body FROM meeting_emails WHERE state = 'pending' ORDER BY meeting_id LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| {
            let recipients: String = r.get(1)?;
            Ok(QueuedEmail { meeting_id: r.get(0)?, recipients: serde_json::from_str(&recipients).unwrap_or_default(), subject: r.get(2)?, body: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Takes a pending email for sending; false when another pass took it.
    pub fn lease(&mut self, meeting_id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.store.write(|tx| {
            tx.execute("UPDATE meeting_emails SET state = 'sending', updated_at = ?2 WHERE meeting_id = ?1 AND state = 'pending'", params![meeting_id, now_ms])
        })?;
        Ok(n == 1)
    }

    pub fn finish(&mut self, meeting_id: i64, state: InvitationState, reason: Option<&str>, now_ms: i64) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE meeting_emails SET state = ?2, reason = ?3, updated_at = ?4 WHERE meeting_id = ?1",
                params![meeting_id, state.as_str(), reason, now_ms],
            )
        })?;
        Ok(())
    }

    /// After a crash or a kill mid-send: an email left `sending` may have gone.
    pub fn recover_interrupted(&mut self, now_ms: i64) -> Result<usize, StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE meeting_emails SET state = 'unsure', reason = 'Ringside stopped while the email was being sent', updated_at = ?1 WHERE state = 'sending'",
                [now_ms],
            )
        })
    }

    /// The rep asks to send a refused or unsure email (again).
    pub fn resend(&mut self, meeting_id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let n = self.store.write(|tx| {
            tx.execute(
                "UPDATE meeting_emails SET state = 'pending', reason = NULL, updated_at = ?2 WHERE meeting_id = ?1 AND state IN ('failed', 'unsure')",
                params![meeting_id, now_ms],
            )
        })?;
        Ok(n == 1)
    }

    pub fn state(&mut self, meeting_id: i64) -> Result<Option<InvitationState>, StoreError> {
        Ok(self
            .store
            .conn()
            .query_row("SELECT state FROM meeting_emails WHERE meeting_id = ?1", [meeting_id], |r| r.get::<_, String>(0))
            .optional()?
            .map(|s| InvitationState::parse(&s)))
    }
}
