//! Call logs: the form's rules, the mapping of a log to a Salesforce Task, and the
//! outbox's decisions. Logs are kept in the store first (`store::CallLogs`); the
//! engine's outbox driver (`app::calllog`) pushes them. Nothing here does I/O.

pub mod form;
mod model;
pub mod outbox;
pub mod task;

pub use model::{CallLog, CallLogInput, CallType, FieldProblem, HistoryEntry, HistoryQuery, OutboxSummary, RecordRef, SyncState};
