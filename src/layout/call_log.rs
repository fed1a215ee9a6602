//! The call-log part of the admin layout: what the form asks, which dispositions it
//! offers, what a log may be related to, and which Task fields receive each value.
//! The built-in default writes a standard Salesforce call Task.

use serde::{Deserialize, Serialize};

/// Where the disposition choices come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(tag = "source", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Dispositions {
    /// A fixed list written in the layout.
    List { values: Vec<String> },
    /// The active values of a Task picklist field, read from its describe.
    Picklist { field: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CustomFieldKind {
    Text,
    Textarea,
    Picklist,
}

/// An admin field on the form, written to a Task field of the same API name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomField {
    /// Task API name (`Call_Reason__c`).
    pub field: String,
    pub label: String,
    pub kind: CustomFieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    /// Picklist choices; empty means "the field's active values from its describe".
    #[serde(default)]
    pub values: Vec<String>,
}

/// Which Task field receives each part of a log. `None` leaves that part out of the
/// Task (an org without the field, or an admin who does not want it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskMapping {
    pub subject: String,
    pub notes: Option<String>,
    /// The idempotency key: Ringside's call id. Must be filterable in SOQL.
    pub call_id: String,
    pub call_type: Option<String>,
    pub duration: Option<String>,
    pub disposition: Option<String>,
    pub activity_date: Option<String>,
    /// `TaskSubtype` = `Call` makes Salesforce show the Task as a logged call.
    pub subtype: Option<FixedValue>,
    /// `Status` = `Completed`: a logged call is done, not a to-do.
    pub status: Option<FixedValue>,
}

/// A Task field that always receives the same value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixedValue {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallLogLayout {
    /// `{name}` is the person's name, `{number}` the number as shown, `{type}` the
    /// call type word; used when the rep leaves the subject empty.
    pub subject_template: String,
    /// Used when nobody is attached to the log.
    pub subject_template_no_person: String,
    pub dispositions: Dispositions,
    pub disposition_required: bool,
    /// Objects a log may be related to (the Task's What), in the order offered.
    pub related_objects: Vec<String>,
    /// The rep may pick another Contact/Lead than the matched one.
    pub person_editable: bool,
    /// When a call ends, its log is saved with what is filled, without a click.
    pub auto_save: bool,
    pub fields: Vec<CustomField>,
    pub mapping: TaskMapping,
}

impl Default for CallLogLayout {
    /// The built-in layout's form (`assets/layouts/default.json`).
    fn default() -> Self {
        super::Layout::default().call_log
    }
}

impl CallLogLayout {
    /// Every Task field the mapping and the custom fields write.
    pub fn written_fields(&self) -> Vec<&str> {
        let m = &self.mapping;
        let mut out: Vec<&str> = vec![m.subject.as_str(), m.call_id.as_str()];
        out.extend([&m.notes, &m.call_type, &m.duration, &m.disposition, &m.activity_date].into_iter().flatten().map(String::as_str));
        out.extend([&m.subtype, &m.status].into_iter().flatten().map(|f| f.field.as_str()));
        out.extend(self.fields.iter().map(|f| f.field.as_str()));
        out
    }
}
