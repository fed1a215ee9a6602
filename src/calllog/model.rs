//! What a call log is: the rep's words about one call, who it was with and what it
//! concerns, and how far it has got on its way to Salesforce.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum CallType {
    Inbound,
    Outbound,
    Internal,
}

impl CallType {
    /// The value of Salesforce's `Task.CallType` picklist.
    pub fn salesforce_value(self) -> &'static str {
        match self {
            CallType::Inbound => "Inbound",
            CallType::Outbound => "Outbound",
            CallType::Internal => "Internal",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Inbound => "inbound",
            CallType::Outbound => "outbound",
            CallType::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<CallType> {
        match s.to_ascii_lowercase().as_str() {
            "inbound" | "in" => Some(CallType::Inbound),
            "outbound" | "out" => Some(CallType::Outbound),
            "internal" => Some(CallType::Internal),
            _ => None,
        }
    }
}

/// A Salesforce record a log points at, with the name shown for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecordRef {
    pub object: String,
    pub id: String,
    pub name: String,
}

/// What the rep fills in, from the form or the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallLogInput {
    /// The number as dialled or received.
    pub number: String,
    pub call_type: CallType,
    /// Unix seconds.
    #[specta(type = u32)]
    pub started_at: i64,
    pub duration_secs: u32,
    /// Empty: the layout's subject template is used.
    pub subject: String,
    pub notes: String,
    pub disposition: Option<String>,
    /// The Contact or Lead.
    pub who: Option<RecordRef>,
    /// The Account, Opportunity, Case… the call was about.
    pub what: Option<RecordRef>,
    /// Admin fields by Task API name.
    #[serde(default)]
    pub custom: BTreeMap<String, String>,
}

/// A log as kept locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallLog {
    /// Local id (the History row).
    #[specta(type = u32)]
    pub id: i64,
    /// Ringside's id for the call, written to the Task so a retry finds it.
    pub call_id: String,
    /// The number in E.164, when it could be read.
    pub e164: Option<String>,
    pub content: CallLogInput,
    /// Saved by the rep (or auto-saved); a draft is kept but not sent.
    pub saved: bool,
    /// Bumped by every save; the outbox pushes the latest.
    #[specta(type = u32)]
    pub revision: i64,
    #[specta(type = u32)]
    pub created_at: i64,
    #[specta(type = u32)]
    pub updated_at: i64,
}

/// How far a log has got on its way to Salesforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SyncState {
    /// Kept on this computer only: not saved yet (or what was filled does not pass the
    /// form's rules; `problems` says what is missing).
    Draft { problems: Vec<FieldProblem> },
    /// Waiting to be sent. `reason` says why the last try did not get through.
    Pending {
        attempts: u32,
        /// Unix seconds.
        #[specta(type = Option<u32>)]
        next_attempt_at: Option<i64>,
        reason: Option<String>,
    },
    /// Salesforce holds the latest version.
    Synced { task_id: String, url: Option<String> },
    /// Salesforce refused it; the rep fixes the log (or the org) and retries.
    Attention { reason: String, task_id: Option<String> },
}

/// One History row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub log: CallLog,
    pub sync: SyncState,
}

/// A rule of the form that the log breaks, named by form field (`subject`, `notes`,
/// `disposition`, `who`, `what`, `durationSecs`, `startedAt`, or a custom field's
/// API name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    pub fn new(field: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem { field: field.to_string(), message: message.into() }
    }
}

/// Counts for the badge on History and the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OutboxSummary {
    pub drafts: u32,
    pub pending: u32,
    pub attention: u32,
}

/// History search: every word must appear in the name, number, subject or notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    #[serde(default)]
    pub text: String,
    /// Unix seconds, inclusive.
    #[specta(type = Option<u32>)]
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    #[specta(type = Option<u32>)]
    pub until: Option<i64>,
    pub limit: Option<u32>,
}
