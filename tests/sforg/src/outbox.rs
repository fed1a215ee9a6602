//! The emails the org has sent and its daily single-email allowance. The Send Email
//! action (`api::actions`) charges the allowance and records each email here; tests read
//! the record instead of a mail server. It never delivers anything and never writes
//! records: logging an email as activity is the action's business.

use serde::{Serialize, Serializer};
use time::{Date, OffsetDateTime};

/// An email the org sent, as the test handle and `GET /__admin/emails` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentEmail {
    /// Every To address: `emailAddresses`, `emailAddressesArray`, then the recipient
    /// record's address, without duplicates.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    /// The From address (the signed-in user's, or the org-wide address given).
    pub from: String,
    pub subject: String,
    pub body: String,
    /// `sendRichBody`: the body is HTML.
    pub rich_body: bool,
    pub recipient_id: Option<String>,
    pub related_record_id: Option<String>,
    /// The `EmailMessage` it was logged as, when `logEmailOnSend` logged it.
    pub email_message_id: Option<String>,
    #[serde(serialize_with = "salesforce_datetime")]
    pub at: OffsetDateTime,
}

fn salesforce_datetime<S: Serializer>(at: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::clock::sf_datetime(*at))
}

/// Salesforce's default daily single-email allowance of a licensed org (recipients, not
/// messages).
pub(crate) const DEFAULT_SINGLE_EMAIL_LIMIT: u64 = 5_000;

/// The sent emails, oldest first, and today's use of the allowance. The allowance counts
/// recipients and starts again at midnight UTC on the org clock ("based on GMT").
#[derive(Debug)]
pub(crate) struct Outbox {
    sent: Vec<SentEmail>,
    pub used: u64,
    pub limit: u64,
    day: Date,
}

impl Outbox {
    pub(crate) fn new(limit: u64, now: OffsetDateTime) -> Self {
        Outbox { sent: Vec::new(), used: 0, limit, day: now.date() }
    }

    /// A new day starts a new count.
    pub(crate) fn roll(&mut self, now: OffsetDateTime) {
        if now.date() != self.day {
            self.day = now.date();
            self.used = 0;
        }
    }

    /// Whether `recipients` more fit in today's allowance.
    pub(crate) fn has_room_for(&mut self, recipients: u64, now: OffsetDateTime) -> bool {
        self.roll(now);
        self.used.saturating_add(recipients) <= self.limit
    }

    /// Records a sent email and charges its counted recipients. The caller checked
    /// `has_room_for` under the same lock.
    pub(crate) fn record(&mut self, email: SentEmail, counted_recipients: u64) {
        self.roll(email.at);
        self.used = self.used.saturating_add(counted_recipients);
        self.sent.push(email);
    }

    pub(crate) fn sent(&self) -> &[SentEmail] {
        &self.sent
    }

    /// Forgets the sent emails; today's count stays, as sending them used it.
    pub(crate) fn clear(&mut self) {
        self.sent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn email(at: OffsetDateTime) -> SentEmail {
        SentEmail {
            to: vec!["a@example.com".into()],
            cc: vec![],
            bcc: vec![],
            from: "ada@example.com".into(),
            subject: "s".into(),
            body: "b".into(),
            rich_body: false,
            recipient_id: None,
            related_record_id: None,
            email_message_id: None,
            at,
        }
    }

    #[test]
    fn the_allowance_counts_recipients_and_starts_again_the_next_utc_day() {
        let start = time::macros::datetime!(2026-11-20 23:00:00 UTC);
        let mut outbox = Outbox::new(3, start);
        assert!(outbox.has_room_for(3, start), "three recipients fit a limit of three");
        outbox.record(email(start), 2);
        assert!(!outbox.has_room_for(2, start), "two more would make four");
        assert!(outbox.has_room_for(1, start));
        let tomorrow = start + Duration::from_secs(3600);
        assert!(outbox.has_room_for(3, tomorrow), "midnight UTC resets the count");
        assert_eq!(outbox.used, 0);
        assert_eq!(outbox.sent().len(), 1, "the record of sent emails is not a daily count");
    }
}
