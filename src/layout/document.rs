//! The layout document an admin writes and publishes: one JSON value, versioned by
//! `formatVersion`, described by the JSON Schema in `assets/layout.schema.json` (made
//! from these types, so the schema and the reader cannot disagree). The built-in default
//! is `assets/layouts/default.json`.
//!
//! A document is turned into the [`Layout`] the rest of the core reads with
//! [`LayoutDocument::effective`]: per call type, with the rep's own choices applied to
//! the settings the admin left unlocked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CallLogLayout, CustomField, Dispositions, Layout, SearchObject, TaskMapping};

/// The document format this version reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The built-in layout, in force until an admin publishes one.
pub const DEFAULT_JSON: &str = include_str!("../../assets/layouts/default.json");

/// The published JSON Schema of the document.
pub const SCHEMA_JSON: &str = include_str!("../../assets/layout.schema.json");

/// The whole layout: what the call screen shows per call type, the call-log form, and
/// the settings, each locked by the admin or left to the rep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "Ringside layout")]
pub struct LayoutDocument {
    /// Editors use it to find this schema; Ringside ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The document format: 1.
    #[schemars(range(min = 1, max = 1))]
    pub format_version: u32,
    /// Shown to reps ("Layout: Inside sales") and in the org's list of layouts.
    #[schemars(length(min = 1, max = 80))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    pub calls: CallTypes,
    pub call_log: CallLogSection,
    pub settings: LayoutSettings,
}

/// Which kind of call a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", rename = "LayoutCallType")]
pub enum CallType {
    Inbound,
    Outbound,
    /// A colleague: a number matching `settings.internalNumbers`.
    Internal,
}

impl CallType {
    pub const ALL: [CallType; 3] = [CallType::Inbound, CallType::Outbound, CallType::Internal];

    pub fn key(self) -> &'static str {
        match self {
            CallType::Inbound => "inbound",
            CallType::Outbound => "outbound",
            CallType::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallTypes {
    pub inbound: CallTypeLayout,
    pub outbound: CallTypeLayout,
    pub internal: CallTypeLayout,
}

impl CallTypes {
    pub fn get(&self, kind: CallType) -> &CallTypeLayout {
        match kind {
            CallType::Inbound => &self.inbound,
            CallType::Outbound => &self.outbound,
            CallType::Internal => &self.internal,
        }
    }
}

/// What happens for one kind of call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallTypeLayout {
    /// Objects searched for the other party's number, first = highest priority. On
    /// outbound calls the objects' `phoneFields` are also the numbers offered to call.
    #[schemars(length(max = 10))]
    pub search: Vec<SearchObject>,
    pub pop: PopRules,
}

/// When the pop shows and what it does with none, one or many records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PopRules {
    /// When the pop shows.
    pub on: PopOn,
    pub on_none: OnNone,
    pub on_one: OnOne,
    pub on_many: OnMany,
    /// With one record (or the one chosen), open it in Salesforce in the browser too.
    pub open_in_salesforce: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum PopOn {
    // As soon as the call rings (inbound) or is dialled (outbound).
    Ring,
    // Once the call is answered.
    Answer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum OnNone {
    // Only the number (and its country and local time).
    ShowNumber,
    // The number with "Create Lead" / "Create Contact".
    OfferCreate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum OnOne {
    // The record's card.
    Pop,
    // The record's card with the call-log form already open.
    PopAndLog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum OnMany {
    // A chooser listing every record in the objects' priority.
    Chooser,
    // The first record in priority; the others one click away.
    FirstByPriority,
}

/// The call-log form and how a log becomes a Task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallLogSection {
    /// `{name}`, `{number}` and `{type}` are filled in; used when the rep leaves the
    /// subject empty.
    #[schemars(length(min = 1, max = 255))]
    pub subject_template: String,
    /// The subject when nobody is attached to the log.
    #[schemars(length(min = 1, max = 255))]
    pub subject_template_no_person: String,
    pub dispositions: Dispositions,
    pub disposition_required: bool,
    /// Objects a log may be related to (the Task's What), in the order offered.
    #[schemars(length(max = 10))]
    pub related_objects: Vec<String>,
    /// The admin's own fields on the form, in order, each written to the Task field of
    /// the same API name.
    #[schemars(length(max = 200))]
    pub fields: Vec<CustomField>,
    pub mapping: TaskMapping,
}

/// One setting: the admin's value, and whether the rep may change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setting<T> {
    pub value: T,
    /// Locked: every rep gets `value`. Unlocked: `value` is the default a rep may change.
    #[serde(default)]
    pub locked: bool,
}

impl<T: Clone> Setting<T> {
    /// The value in force: the admin's when locked, else the rep's choice if any.
    fn with(&self, rep: &Option<T>) -> T {
        match rep {
            Some(v) if !self.locked => v.clone(),
            _ => self.value.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LayoutSettings {
    /// When a call ends its log is saved with what is filled, without a click.
    pub auto_save_logs: Setting<bool>,
    /// Calls with colleagues leave no call log and no pop.
    pub ignore_internal_calls: Setting<bool>,
    pub internal_numbers: Setting<InternalNumbers>,
    /// The rep may attach another Contact/Lead to a log than the one matched.
    pub editable_person: Setting<bool>,
    /// When an instant meeting starts, the invitees get the join details by email.
    pub email_attendees_on_launch: Setting<bool>,
    /// Zoom meetings use the host's personal meeting ID.
    pub use_pmi: Setting<bool>,
    /// Attendees may join before the host.
    pub join_before_host: Setting<bool>,
    /// Extra tabs on the pop: records of another object linked to the caller's account.
    pub more_info_tabs: Setting<Vec<MoreInfoTab>>,
}

/// Which numbers are colleagues'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InternalNumbers {
    /// Number starts (E.164, `+3314…`) that are the company's own lines.
    #[schemars(length(max = 100))]
    pub prefixes: Vec<String>,
    /// Numbers of at most this many digits are extensions (0 = none).
    #[schemars(range(max = 10))]
    pub extension_digits: u8,
}

/// A "more info" tab: records of `object` whose `accountField` is the caller's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, specta::Type)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoreInfoTab {
    #[schemars(length(min = 1, max = 40))]
    pub label: String,
    pub object: String,
    /// The field of `object` that holds the Account id (`AccountId`).
    pub account_field: String,
    /// Columns shown, in order.
    #[schemars(length(min = 1, max = 10))]
    pub fields: Vec<String>,
}

/// The rep's own values for settings the admin left unlocked. Kept on this computer;
/// they survive every layout update, and a locked setting ignores them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RepOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_save_logs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_internal_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable_person: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_attendees_on_launch: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_pmi: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_before_host: Option<bool>,
}

/// The on/off settings a rep can be offered, by their document names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum RepSetting {
    AutoSaveLogs,
    IgnoreInternalCalls,
    EditablePerson,
    EmailAttendeesOnLaunch,
    UsePmi,
    JoinBeforeHost,
}

impl RepSetting {
    pub const ALL: [RepSetting; 6] = [
        RepSetting::AutoSaveLogs,
        RepSetting::IgnoreInternalCalls,
        RepSetting::EditablePerson,
        RepSetting::EmailAttendeesOnLaunch,
        RepSetting::UsePmi,
        RepSetting::JoinBeforeHost,
    ];

    fn slot(self, o: &mut RepOverrides) -> &mut Option<bool> {
        match self {
            RepSetting::AutoSaveLogs => &mut o.auto_save_logs,
            RepSetting::IgnoreInternalCalls => &mut o.ignore_internal_calls,
            RepSetting::EditablePerson => &mut o.editable_person,
            RepSetting::EmailAttendeesOnLaunch => &mut o.email_attendees_on_launch,
            RepSetting::UsePmi => &mut o.use_pmi,
            RepSetting::JoinBeforeHost => &mut o.join_before_host,
        }
    }

    pub fn admin(self, s: &LayoutSettings) -> &Setting<bool> {
        match self {
            RepSetting::AutoSaveLogs => &s.auto_save_logs,
            RepSetting::IgnoreInternalCalls => &s.ignore_internal_calls,
            RepSetting::EditablePerson => &s.editable_person,
            RepSetting::EmailAttendeesOnLaunch => &s.email_attendees_on_launch,
            RepSetting::UsePmi => &s.use_pmi,
            RepSetting::JoinBeforeHost => &s.join_before_host,
        }
    }
}

impl RepOverrides {
    pub fn get(&self, setting: RepSetting) -> Option<bool> {
        match setting {
            RepSetting::AutoSaveLogs => self.auto_save_logs,
            RepSetting::IgnoreInternalCalls => self.ignore_internal_calls,
            RepSetting::EditablePerson => self.editable_person,
            RepSetting::EmailAttendeesOnLaunch => self.email_attendees_on_launch,
            RepSetting::UsePmi => self.use_pmi,
            RepSetting::JoinBeforeHost => self.join_before_host,
        }
    }

    pub fn set(&mut self, setting: RepSetting, value: Option<bool>) {
        *setting.slot(self) = value;
    }
}

/// One on/off setting as a rep sees it in Settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RepSettingState {
    pub setting: RepSetting,
    /// In force now.
    pub value: bool,
    /// The admin's value (the default when unlocked).
    pub admin_value: bool,
    pub locked: bool,
    /// The rep changed it (and it is not locked).
    pub overridden: bool,
}

/// The meeting defaults the layout gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MeetingDefaults {
    pub email_attendees_on_launch: bool,
    pub use_pmi: bool,
    pub join_before_host: bool,
}

impl LayoutDocument {
    /// The built-in layout.
    pub fn builtin() -> LayoutDocument {
        serde_json::from_str(DEFAULT_JSON).expect("assets/layouts/default.json is a valid layout")
    }

    /// The layout in force for `kind` calls, with the rep's unlocked choices applied.
    pub fn effective(&self, rep: &RepOverrides, kind: CallType) -> Layout {
        let s = &self.settings;
        let calls = self.calls.get(kind);
        let internal = &s.internal_numbers.value;
        let log = &self.call_log;
        Layout {
            name: self.name.clone(),
            call_type: kind,
            search: calls.search.clone(),
            pop: calls.pop,
            internal_prefixes: internal.prefixes.clone(),
            internal_extension_digits: internal.extension_digits,
            ignore_internal_calls: s.ignore_internal_calls.with(&rep.ignore_internal_calls),
            call_log: CallLogLayout {
                subject_template: log.subject_template.clone(),
                subject_template_no_person: log.subject_template_no_person.clone(),
                dispositions: log.dispositions.clone(),
                disposition_required: log.disposition_required,
                related_objects: log.related_objects.clone(),
                person_editable: s.editable_person.with(&rep.editable_person),
                auto_save: s.auto_save_logs.with(&rep.auto_save_logs),
                fields: log.fields.clone(),
                mapping: log.mapping.clone(),
            },
            meetings: MeetingDefaults {
                email_attendees_on_launch: s.email_attendees_on_launch.with(&rep.email_attendees_on_launch),
                use_pmi: s.use_pmi.with(&rep.use_pmi),
                join_before_host: s.join_before_host.with(&rep.join_before_host),
            },
            more_info_tabs: s.more_info_tabs.value.clone(),
        }
    }

    /// The rep-facing state of every on/off setting.
    pub fn rep_settings(&self, rep: &RepOverrides) -> Vec<RepSettingState> {
        RepSetting::ALL
            .iter()
            .map(|&setting| {
                let admin = setting.admin(&self.settings);
                let mine = rep.get(setting).filter(|_| !admin.locked);
                RepSettingState {
                    setting,
                    value: mine.unwrap_or(admin.value),
                    admin_value: admin.value,
                    locked: admin.locked,
                    overridden: mine.is_some(),
                }
            })
            .collect()
    }

    /// The document as published: two-space indented JSON with a final newline.
    pub fn to_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a layout serializes");
        s.push('\n');
        s
    }
}

/// The JSON Schema of [`LayoutDocument`], as published in `assets/layout.schema.json`.
pub fn generated_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<LayoutDocument>();
    let mut value = serde_json::to_value(&schema).expect("the schema serializes");
    if let Some(map) = value.as_object_mut() {
        map.insert("$id".into(), serde_json::Value::String("https://ringside.app/schemas/layout-1.json".into()));
    }
    let mut s = serde_json::to_string_pretty(&value).expect("the schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_schema_is_the_one_the_types_make() {
        let generated = generated_schema();
        if std::env::var_os("RINGSIDE_WRITE_SCHEMA").is_some() {
            std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/layout.schema.json"), &generated).unwrap();
            return;
        }
        assert!(
            SCHEMA_JSON == generated,
            "assets/layout.schema.json is out of date: run RINGSIDE_WRITE_SCHEMA=1 cargo test -p ringside --lib layout"
        );
    }

    #[test]
    fn the_default_document_is_the_built_in_layout() {
        let doc = LayoutDocument::builtin();
        assert_eq!(doc.format_version, FORMAT_VERSION);
        assert_eq!(doc.effective(&RepOverrides::default(), CallType::Inbound), Layout::default());
        assert_eq!(doc.to_pretty(), DEFAULT_JSON, "default.json is written as Ringside writes layouts");
    }

    #[test]
    fn a_locked_setting_ignores_the_reps_choice_and_an_unlocked_one_takes_it() {
        let mut doc = LayoutDocument::builtin();
        doc.settings.auto_save_logs = Setting { value: false, locked: false };
        doc.settings.ignore_internal_calls = Setting { value: true, locked: true };
        let mut rep = RepOverrides::default();
        rep.set(RepSetting::AutoSaveLogs, Some(true));
        rep.set(RepSetting::IgnoreInternalCalls, Some(false));
        let layout = doc.effective(&rep, CallType::Inbound);
        assert!(layout.call_log.auto_save);
        assert!(layout.ignore_internal_calls);
        let states = doc.rep_settings(&rep);
        let ignore = states.iter().find(|s| s.setting == RepSetting::IgnoreInternalCalls).unwrap();
        assert!(ignore.locked && ignore.value && !ignore.overridden);
    }
}
