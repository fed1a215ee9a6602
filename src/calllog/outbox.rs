//! The outbox's decisions, without I/O: how long to wait after a failure, and what an
//! answer from Salesforce means for an entry (done, try again later, wait for the rep,
//! or follow a converted Lead). The engine's driver (`app::calllog`) sends the requests
//! and records these verdicts in the store.

use std::time::Duration;

use crate::crm::{ApiError, SalesforceError};

/// Entries read per drain round; collections take 200 records per request.
pub const BATCH: usize = 200;

/// Retry timing. `base` doubles per attempt up to `max`; each wait is drawn between
/// half and all of that ("equal jitter"), so a thousand reps coming back online do not
/// retry in step, and no entry retries in a tight loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    /// After the org's daily API allowance ran out.
    pub limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base: Duration::from_secs(2), max: Duration::from_secs(15 * 60), limit_wait: Duration::from_secs(30 * 60) }
    }
}

impl RetryPolicy {
    /// When to try again after `attempts` failures (the failure now included).
    /// `random` is uniform in [0, 1).
    pub fn next_attempt_at(&self, now_ms: i64, attempts: u32, random: f64) -> i64 {
        let ceiling = self.base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20)).min(self.max).as_millis() as f64;
        now_ms + (ceiling / 2.0 + ceiling / 2.0 * random.clamp(0.0, 1.0)) as i64
    }
}

/// What the store records for a verdict any outbox handles the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Try again at `at_ms` (unix milliseconds); `reason` is shown meanwhile.
    Later { at_ms: i64, reason: String },
    /// Wait for the rep.
    Park { reason: String },
}

impl RetryPolicy {
    /// The step for `verdict` after `attempts` earlier failures; `None` for the verdicts
    /// only the caller knows how to follow (a converted Lead, a deleted Task).
    pub fn step(&self, verdict: &Verdict, now_ms: i64, attempts: u32, random: f64) -> Option<Step> {
        match verdict {
            Verdict::Retry { reason } => Some(Step::Later { at_ms: self.next_attempt_at(now_ms, attempts + 1, random), reason: reason.clone() }),
            Verdict::RetryMuchLater { reason } => Some(Step::Later { at_ms: now_ms + self.limit_wait.as_millis() as i64, reason: reason.clone() }),
            // Signing in wakes the outbox; until then, a slow check.
            Verdict::WaitForSignIn { reason } => Some(Step::Later { at_ms: now_ms + self.max.as_millis() as i64, reason: reason.clone() }),
            Verdict::Park { reason } => Some(Step::Park { reason: reason.clone() }),
            Verdict::ConvertedLead | Verdict::TaskDeleted => None,
        }
    }
}

/// What one answer means for one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Time fixes it: try again after a backoff.
    Retry { reason: String },
    /// The org's allowance is used up: try again much later.
    RetryMuchLater { reason: String },
    /// Nothing can be sent until the rep signs in again.
    WaitForSignIn { reason: String },
    /// Salesforce refused the content: the rep must change the log (or the org).
    Park { reason: String },
    /// The log's Lead was converted: move the log to the Contact it became.
    ConvertedLead,
    /// Updating a Task someone deleted in Salesforce: the next save creates a new one.
    TaskDeleted,
}

/// A failed request (nothing in it got through, or we cannot know).
pub fn request_failed(e: &SalesforceError) -> Verdict {
    let reason = e.to_string();
    match e {
        SalesforceError::NotConnected | SalesforceError::SignedOut { .. } | SalesforceError::SessionRejected => {
            Verdict::WaitForSignIn { reason }
        }
        SalesforceError::LimitExceeded { .. } => Verdict::RetryMuchLater { reason },
        SalesforceError::Refused { errors, .. } => record_refused(errors, "", false),
        // A keyring that is locked now may open later; an odd answer may be a proxy.
        _ => Verdict::Retry { reason },
    }
}

/// Salesforce's messages for one record, joined.
pub fn messages(errors: &[ApiError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ")
}

/// The refusals time fixes, whatever the record (`what` names it in the message): no
/// reason given, a busy org, the day's allowance used up.
pub fn transient(errors: &[ApiError], what: &str) -> Option<Verdict> {
    let Some(first) = errors.first() else {
        return Some(Verdict::Retry { reason: format!("Salesforce refused {what} without saying why; it will be tried again.") });
    };
    match first.error_code.as_str() {
        "UNABLE_TO_LOCK_ROW" | "UNKNOWN_EXCEPTION" | "SERVER_UNAVAILABLE" => {
            Some(Verdict::Retry { reason: format!("Salesforce was busy ({}); it will be tried again.", first.error_code) })
        }
        "REQUEST_LIMIT_EXCEEDED" => Some(Verdict::RetryMuchLater { reason: messages(errors) }),
        _ => None,
    }
}

/// One record of a collection was refused. `what_name` names the related record in the
/// message; `updating` tells a deleted Task from a deleted related record.
pub fn record_refused(errors: &[ApiError], what_name: &str, updating: bool) -> Verdict {
    if let Some(v) = transient(errors, "the log") {
        return v;
    }
    let first = &errors[0];
    let message = messages(errors);
    let on_field = |name: &str| errors.iter().any(|e| e.fields.iter().any(|f| f == name));
    match first.error_code.as_str() {
        "CANNOT_UPDATE_CONVERTED_LEAD" => Verdict::ConvertedLead,
        "ENTITY_IS_DELETED" if updating && !on_field("WhatId") && !on_field("WhoId") => Verdict::TaskDeleted,
        "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" if on_field("WhatId") || (!on_field("WhoId") && !what_name.is_empty()) => {
            Verdict::Park {
                reason: format!(
                    "The related record \u{201c}{what_name}\u{201d} no longer exists in Salesforce (deleted or merged). Pick another related-to record and save again."
                ),
            }
        }
        "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" => Verdict::Park {
            reason: "The Contact or Lead of this log no longer exists in Salesforce (deleted or merged). Pick the person again and save.".into(),
        },
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" => Verdict::Park {
            reason: format!("Salesforce does not accept a value of this log: {message}. Choose another value and save again, or ask your admin to add it."),
        },
        "FIELD_CUSTOM_VALIDATION_EXCEPTION" => Verdict::Park {
            reason: format!("A validation rule of your org refused this log: {message}. Change the log and save again."),
        },
        "INVALID_FIELD" | "INVALID_FIELD_FOR_INSERT_UPDATE" | "INVALID_TYPE" | "INSUFFICIENT_ACCESS_OR_READONLY"
        | "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY" => Verdict::Park {
            reason: format!("Salesforce refused the log because of your org's setup: {message} ({}). Ask your Salesforce admin; then retry.", first.error_code),
        },
        code => Verdict::Park { reason: format!("Salesforce refused this log: {message} ({code}). Change it and save again.") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, fields: &[&str]) -> Vec<ApiError> {
        vec![ApiError { message: "m".into(), error_code: code.into(), fields: fields.iter().map(|s| s.to_string()).collect() }]
    }

    #[test]
    fn backoff_doubles_stays_jittered_and_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_attempt_at(0, 1, 0.0), 1_000, "first retry waits between 1 and 2 s");
        assert_eq!(p.next_attempt_at(0, 1, 1.0), 2_000);
        assert_eq!(p.next_attempt_at(0, 3, 0.0), 4_000);
        assert_eq!(p.next_attempt_at(0, 40, 1.0), 900_000, "never more than the cap");
    }

    #[test]
    fn salesforce_answers_map_to_what_the_rep_must_do() {
        assert!(matches!(record_refused(&err("UNABLE_TO_LOCK_ROW", &[]), "", false), Verdict::Retry { .. }));
        assert!(matches!(record_refused(&err("FIELD_CUSTOM_VALIDATION_EXCEPTION", &[]), "", false), Verdict::Park { .. }));
        assert_eq!(record_refused(&err("CANNOT_UPDATE_CONVERTED_LEAD", &["WhoId"]), "", false), Verdict::ConvertedLead);
        assert_eq!(record_refused(&err("ENTITY_IS_DELETED", &[]), "", true), Verdict::TaskDeleted);
        match record_refused(&err("INVALID_CROSS_REFERENCE_KEY", &["WhatId"]), "Acme", false) {
            Verdict::Park { reason } => assert!(reason.contains("Acme"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(request_failed(&SalesforceError::NotConnected), Verdict::WaitForSignIn { .. }));
        assert!(matches!(request_failed(&SalesforceError::Timeout), Verdict::Retry { .. }));
    }
}
