//! A log as a Salesforce Task: which field receives what, following the layout's
//! mapping. Pure; the outbox sends what this builds.

use chrono::TimeZone;
use serde_json::{Map, Value};

use super::model::CallLog;
use crate::layout::CallLogLayout;

/// Whether the Task is being created or updated: a few fields (`TaskSubtype`) can only
/// be set on creation, and an update must clear what the rep removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Insert,
    Update,
}

/// The day of the call in the rep's time zone (`ActivityDate` is a date without a
/// zone, shown as is to everyone).
pub fn activity_date<Z: TimeZone>(started_at: i64, zone: &Z) -> Option<String>
where
    Z::Offset: std::fmt::Display,
{
    let utc = chrono::DateTime::from_timestamp(started_at, 0)?;
    Some(utc.with_timezone(zone).format("%Y-%m-%d").to_string())
}

/// The Task fields for `log`. `activity_date` is the local date of the call.
pub fn task_fields(log: &CallLog, layout: &CallLogLayout, activity_date: Option<&str>, write: Write) -> Map<String, Value> {
    let m = &layout.mapping;
    let c = &log.content;
    let mut f = Map::new();
    let text = |s: &str| if s.is_empty() { Value::Null } else { Value::String(s.to_string()) };
    f.insert(m.subject.clone(), text(&c.subject));
    f.insert(m.call_id.clone(), Value::String(log.call_id.clone()));
    if let Some(field) = &m.notes {
        f.insert(field.clone(), text(&c.notes));
    }
    if let Some(field) = &m.call_type {
        f.insert(field.clone(), Value::String(c.call_type.salesforce_value().into()));
    }
    if let Some(field) = &m.duration {
        f.insert(field.clone(), Value::from(c.duration_secs));
    }
    if let Some(field) = &m.disposition {
        f.insert(field.clone(), c.disposition.as_deref().map(text).unwrap_or(Value::Null));
    }
    if let (Some(field), Some(date)) = (&m.activity_date, activity_date) {
        f.insert(field.clone(), Value::String(date.to_string()));
    }
    if let Some(status) = &m.status {
        f.insert(status.field.clone(), Value::String(status.value.clone()));
    }
    if write == Write::Insert {
        if let Some(subtype) = &m.subtype {
            f.insert(subtype.field.clone(), Value::String(subtype.value.clone()));
        }
    }
    let who = c.who.as_ref().map(|w| Value::String(w.id.clone()));
    let what = c.what.as_ref().map(|w| Value::String(w.id.clone()));
    match write {
        Write::Insert => {
            if let Some(v) = who {
                f.insert("WhoId".into(), v);
            }
            if let Some(v) = what {
                f.insert("WhatId".into(), v);
            }
        }
        Write::Update => {
            f.insert("WhoId".into(), who.unwrap_or(Value::Null));
            f.insert("WhatId".into(), what.unwrap_or(Value::Null));
        }
    }
    for field in &layout.fields {
        match c.custom.get(&field.field) {
            Some(v) => {
                f.insert(field.field.clone(), text(v));
            }
            None if write == Write::Update => {
                f.insert(field.field.clone(), Value::Null);
            }
            None => {}
        }
    }
    if write == Write::Insert {
        f.retain(|_, v| !v.is_null());
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calllog::{CallLogInput, CallType, RecordRef};

    fn log() -> CallLog {
        CallLog {
            id: 1,
            call_id: "rs-0123".into(),
            e164: Some("+33123456789".into()),
            content: CallLogInput {
                number: "01 23 45 67 89".into(),
                call_type: CallType::Inbound,
                started_at: 1_764_626_400, // 2025-12-01T22:00:00Z
                duration_secs: 125,
                subject: "Call with Marie".into(),
                notes: String::new(),
                disposition: Some("Connected".into()),
                who: Some(RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Marie".into() }),
                what: None,
                custom: Default::default(),
            },
            saved: true,
            revision: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn an_insert_writes_a_completed_call_task_and_leaves_empty_fields_out() {
        let f = task_fields(&log(), &CallLogLayout::default(), Some("2025-12-01"), Write::Insert);
        assert_eq!(f["TaskSubtype"], "Call");
        assert_eq!(f["Status"], "Completed");
        assert_eq!(f["CallType"], "Inbound");
        assert_eq!(f["CallDurationInSeconds"], 125);
        assert_eq!(f["CallObject"], "rs-0123");
        assert_eq!(f["WhoId"], "003000000000001AAA");
        assert!(!f.contains_key("Description") && !f.contains_key("WhatId"), "empty fields are not sent on insert: {f:?}");
    }

    #[test]
    fn an_update_clears_what_the_rep_removed_and_never_sends_the_subtype() {
        let f = task_fields(&log(), &CallLogLayout::default(), None, Write::Update);
        assert_eq!(f["WhatId"], Value::Null);
        assert_eq!(f["Description"], Value::Null);
        assert!(!f.contains_key("TaskSubtype"), "TaskSubtype is createable, not updateable");
    }

    #[test]
    fn the_activity_date_is_the_day_in_the_reps_zone() {
        let tokyo = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
        assert_eq!(activity_date(1_764_626_400, &tokyo).as_deref(), Some("2025-12-02"), "22:00 UTC is the next morning in Tokyo");
        assert_eq!(activity_date(1_764_626_400, &chrono::Utc).as_deref(), Some("2025-12-01"));
    }
}
