//! The call-log form's rules: what the layout requires, what Salesforce will accept
//! (lengths and picklist values from the Task describe, when known), and the clean-up
//! of text typed or pasted into it. Pure: the engine supplies the layout, the describe
//! and the time.

use serde::Serialize;
use serde_json::Value;

use super::model::{CallLogInput, FieldProblem};
use crate::crm::escape::is_record_id;
use crate::layout::{CallLogLayout, CustomFieldKind, Dispositions};

/// Lengths Salesforce gives the standard Task fields, for when no describe is at hand
/// (offline): Subject 255, Comments 32,000, Call Result 255.
const DEFAULT_TEXT_LENGTH: usize = 255;
const DEFAULT_NOTES_LENGTH: usize = 32_000;
const MAX_DURATION_SECS: u32 = 24 * 3_600;
/// A start time later than this is a typing mistake, not a call.
const FUTURE_SLACK_SECS: i64 = 24 * 3_600;
/// 2000-01-01: older is a typing mistake (and keeps times positive everywhere).
const EARLIEST_START_SECS: i64 = 946_684_800;

/// What the Task describe says about one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct FieldFacts {
    pub name: String,
    pub label: String,
    /// Characters (0: no limit given).
    pub length: u32,
    /// Active picklist values, in the org's order.
    pub picklist: Vec<String>,
    pub restricted: bool,
    pub createable: bool,
}

/// The Task fields the org has, as its describe lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TaskFacts {
    pub fields: Vec<FieldFacts>,
}

impl TaskFacts {
    pub fn from_describe(describe: &Value) -> TaskFacts {
        let fields = describe
            .get("fields")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|f| {
                        Some(FieldFacts {
                            name: f.get("name")?.as_str()?.to_string(),
                            label: f.get("label").and_then(Value::as_str).unwrap_or_default().to_string(),
                            length: f.get("length").and_then(Value::as_u64).unwrap_or(0) as u32,
                            picklist: f
                                .get("picklistValues")
                                .and_then(Value::as_array)
                                .map(|vs| {
                                    vs.iter()
                                        .filter(|v| v.get("active").and_then(Value::as_bool).unwrap_or(true))
                                        .filter_map(|v| v.get("value").and_then(Value::as_str).map(String::from))
                                        .collect()
                                })
                                .unwrap_or_default(),
                            restricted: f.get("restrictedPicklist").and_then(Value::as_bool).unwrap_or(false),
                            createable: f.get("createable").and_then(Value::as_bool).unwrap_or(true),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        TaskFacts { fields }
    }

    pub fn field(&self, name: &str) -> Option<&FieldFacts> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// What the form offers, for the UI to draw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct FormSpec {
    pub layout: CallLogLayout,
    /// The disposition choices in force (from the list, or the picklist's describe).
    pub dispositions: Vec<String>,
    /// Choices of each custom picklist, by field.
    pub picklists: Vec<(String, Vec<String>)>,
    /// Where the choices came from when Salesforce could not be asked.
    pub problem: Option<String>,
}

pub fn form_spec(layout: &CallLogLayout, facts: Option<&TaskFacts>, problem: Option<String>) -> FormSpec {
    let picklists = layout
        .fields
        .iter()
        .filter(|f| f.kind == CustomFieldKind::Picklist)
        .map(|f| (f.field.clone(), picklist_values(&f.values, &f.field, facts)))
        .collect();
    FormSpec { layout: layout.clone(), dispositions: dispositions(layout, facts), picklists, problem }
}

/// The disposition choices: the layout's list, or the active values of the picklist
/// it names (empty when that describe is not at hand).
pub fn dispositions(layout: &CallLogLayout, facts: Option<&TaskFacts>) -> Vec<String> {
    match &layout.dispositions {
        Dispositions::List { values } => values.clone(),
        Dispositions::Picklist { field } => picklist_values(&[], field, facts),
    }
}

fn picklist_values(listed: &[String], field: &str, facts: Option<&TaskFacts>) -> Vec<String> {
    if !listed.is_empty() {
        return listed.to_vec();
    }
    facts.and_then(|f| f.field(field)).map(|f| f.picklist.clone()).unwrap_or_default()
}

/// Text as Salesforce should receive it: line ends as `\n`, no control characters
/// other than tab and newline (they break exports and some integrations).
pub fn clean_text(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

fn one_line(s: &str) -> String {
    clean_text(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Salesforce measures text in UTF-16 units (an emoji counts twice).
pub fn salesforce_length(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The subject when the rep leaves it empty.
pub fn default_subject(layout: &CallLogLayout, input: &CallLogInput) -> String {
    let number = input.number.trim();
    let template = match &input.who {
        Some(_) => &layout.subject_template,
        None => &layout.subject_template_no_person,
    };
    let kind = match input.call_type {
        super::CallType::Inbound => "inbound",
        super::CallType::Outbound => "outbound",
        super::CallType::Internal => "internal",
    };
    let name = input.who.as_ref().map(|w| w.name.as_str()).unwrap_or(number);
    one_line(&template.replace("{name}", name).replace("{number}", number).replace("{type}", kind))
}

/// Cleans `input` and lists every rule it breaks. An empty list means it can be sent.
pub fn check(input: &CallLogInput, layout: &CallLogLayout, facts: Option<&TaskFacts>, now_secs: i64) -> (CallLogInput, Vec<FieldProblem>) {
    let mut out = input.clone();
    out.subject = one_line(&input.subject);
    if out.subject.is_empty() {
        out.subject = default_subject(layout, input);
    }
    out.notes = clean_text(&input.notes);
    out.number = one_line(&input.number);
    out.disposition = input.disposition.as_deref().map(one_line).filter(|d| !d.is_empty());
    for value in out.custom.values_mut() {
        *value = clean_text(value);
    }
    out.custom.retain(|_, v| !v.trim().is_empty());

    let mut problems = Vec::new();
    let limit = |field: Option<&str>, fallback: usize| {
        field.and_then(|f| facts.and_then(|t| t.field(f))).map(|f| f.length as usize).filter(|l| *l > 0).unwrap_or(fallback)
    };
    let too_long = |form_field: &str, what: &str, value: &str, max: usize, problems: &mut Vec<FieldProblem>| {
        let len = salesforce_length(value);
        if len > max {
            problems.push(FieldProblem::new(
                form_field,
                format!("{what} is {len} characters long; Salesforce keeps at most {max}. Shorten it by {}.", len - max),
            ));
        }
    };
    let m = &layout.mapping;
    too_long("subject", "The subject", &out.subject, limit(Some(&m.subject), DEFAULT_TEXT_LENGTH), &mut problems);
    if m.notes.is_some() {
        too_long("notes", "The notes", &out.notes, limit(m.notes.as_deref(), DEFAULT_NOTES_LENGTH), &mut problems);
    }

    let choices = dispositions(layout, facts);
    match &out.disposition {
        None if layout.disposition_required => problems.push(FieldProblem::new("disposition", "Choose how the call went.")),
        Some(d) if !choices.is_empty() && !choices.iter().any(|c| c == d) => problems.push(FieldProblem::new(
            "disposition",
            format!("\u{201c}{d}\u{201d} is not one of the dispositions your admin set up; choose one from the list."),
        )),
        Some(d) => too_long("disposition", "The disposition", d, limit(m.disposition.as_deref(), DEFAULT_TEXT_LENGTH), &mut problems),
        None => {}
    }

    if let Some(who) = &out.who {
        if !matches!(who.object.as_str(), "Contact" | "Lead") || !is_record_id(&who.id) {
            problems.push(FieldProblem::new("who", "A call is logged on a Contact or a Lead; pick one from the search."));
        }
    }
    if let Some(what) = &out.what {
        if !layout.related_objects.iter().any(|o| o == &what.object) || !is_record_id(&what.id) {
            problems.push(FieldProblem::new(
                "what",
                format!("Calls can be related to {} records only; pick one from the search.", layout.related_objects.join(", ")),
            ));
        } else if out.who.as_ref().is_some_and(|w| w.object == "Lead") {
            problems.push(FieldProblem::new(
                "what",
                "Salesforce does not relate a Lead's call to another record. Remove the related-to record, or log the call on a Contact.",
            ));
        }
    }

    if out.duration_secs > MAX_DURATION_SECS {
        problems.push(FieldProblem::new("durationSecs", "A call longer than 24 hours? Check the duration."));
    }
    if out.started_at < EARLIEST_START_SECS {
        problems.push(FieldProblem::new("startedAt", "The start time is before the year 2000; check the date."));
    } else if out.started_at > now_secs + FUTURE_SLACK_SECS {
        problems.push(FieldProblem::new("startedAt", "The start time is in the future; check the date."));
    }

    for field in &layout.fields {
        let value = out.custom.get(&field.field).cloned();
        match value {
            None if field.required => problems.push(FieldProblem::new(&field.field, format!("{} is required.", field.label))),
            None => {}
            Some(v) => {
                if field.kind == CustomFieldKind::Picklist {
                    let values = picklist_values(&field.values, &field.field, facts);
                    if !values.is_empty() && !values.contains(&v) {
                        problems.push(FieldProblem::new(&field.field, format!("\u{201c}{v}\u{201d} is not a choice of {}.", field.label)));
                    }
                }
                let fallback = if field.kind == CustomFieldKind::Textarea { DEFAULT_NOTES_LENGTH } else { DEFAULT_TEXT_LENGTH };
                too_long(&field.field, &field.label, &v, limit(Some(&field.field), fallback), &mut problems);
            }
        }
    }
    // Values for fields the layout does not have are not sent.
    out.custom.retain(|k, _| layout.fields.iter().any(|f| &f.field == k));
    (out, problems)
}

/// Fills a new log with the layout's defaults (custom field defaults).
pub fn apply_defaults(input: &mut CallLogInput, layout: &CallLogLayout) {
    for field in &layout.fields {
        if let Some(default) = &field.default {
            input.custom.entry(field.field.clone()).or_insert_with(|| default.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calllog::{CallType, RecordRef};

    fn input() -> CallLogInput {
        CallLogInput {
            number: "+33 1 23 45 67 89".into(),
            call_type: CallType::Outbound,
            started_at: 1_795_000_000,
            duration_secs: 65,
            subject: String::new(),
            notes: "first line\r\nsecond\u{0007} line".into(),
            disposition: Some("Connected".into()),
            who: Some(RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Marie Dubois".into() }),
            what: None,
            custom: Default::default(),
        }
    }

    #[test]
    fn an_empty_subject_takes_the_template_and_control_characters_are_dropped() {
        let (out, problems) = check(&input(), &CallLogLayout::default(), None, 1_795_000_000);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(out.subject, "Call with Marie Dubois");
        assert_eq!(out.notes, "first line\nsecond line", "CRLF becomes LF and BEL is dropped");
    }

    #[test]
    fn notes_over_the_limit_are_counted_as_salesforce_counts() {
        let mut i = input();
        i.notes = "😀".repeat(16_001);
        let (_, problems) = check(&i, &CallLogLayout::default(), None, 1_795_000_000);
        assert_eq!(problems.len(), 1, "16,001 emoji are 32,002 UTF-16 units: over 32,000");
        assert_eq!(problems[0].field, "notes");
        assert!(problems[0].message.contains("Shorten it by 2"), "{}", problems[0].message);
    }

    #[test]
    fn start_times_before_2000_or_a_day_ahead_are_typing_mistakes() {
        let mut i = input();
        i.started_at = 1_000;
        assert_eq!(check(&i, &CallLogLayout::default(), None, 1_795_000_000).1[0].field, "startedAt");
        i.started_at = 1_795_000_000 + 2 * 86_400;
        assert_eq!(check(&i, &CallLogLayout::default(), None, 1_795_000_000).1[0].field, "startedAt");
    }

    #[test]
    fn a_lead_cannot_have_a_related_record() {
        let mut i = input();
        i.who = Some(RecordRef { object: "Lead".into(), id: "00Q000000000001AAA".into(), name: "Kenji".into() });
        i.what = Some(RecordRef { object: "Account".into(), id: "001000000000001AAA".into(), name: "Acme".into() });
        let (_, problems) = check(&i, &CallLogLayout::default(), None, 1_795_000_000);
        assert_eq!(problems.iter().map(|p| p.field.as_str()).collect::<Vec<_>>(), ["what"]);
    }

    #[test]
    fn dispositions_outside_the_list_and_missing_required_fields_are_named() {
        let mut layout = CallLogLayout::default();
        layout.disposition_required = true;
        layout.fields.push(crate::layout::CustomField {
            field: "Reason__c".into(),
            label: "Reason".into(),
            kind: CustomFieldKind::Picklist,
            required: true,
            default: None,
            values: vec!["Billing".into(), "Support".into()],
        });
        let mut i = input();
        i.disposition = Some("Sold a yacht".into());
        let (_, problems) = check(&i, &layout, None, 1_795_000_000);
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["disposition", "Reason__c"]);
        i.disposition = None;
        i.custom.insert("Reason__c".into(), "Refund".into());
        let (_, problems) = check(&i, &layout, None, 1_795_000_000);
        assert_eq!(problems.len(), 2, "disposition required and Refund not a choice: {problems:?}");
    }
}
