//! The admin layout in force: which Salesforce objects a caller is searched in, by
//! which phone fields, in what priority, and what the pop shows. This is the built-in
//! default; publishing and pulling an admin's document replaces the value, not the
//! code that reads it.

mod call_log;
pub mod document;
pub mod validate;

use serde::{Deserialize, Serialize};

pub use call_log::{CallLogLayout, CustomField, CustomFieldKind, Dispositions, FixedValue, TaskMapping};
pub use document::{CallType, LayoutDocument, MeetingDefaults, MoreInfoTab, PopRules, RepOverrides, RepSetting, RepSettingState};

/// One object searched for callers, in priority order within [`Layout::search`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchObject {
    /// API name: `Contact`, `Lead`, `Account`, or a custom object.
    pub object: String,
    /// Phone fields compared with the caller's number.
    pub phone_fields: Vec<String>,
    /// The record's display name field (`Name` for the standard objects).
    pub name_field: String,
    /// Fields the pop shows, in order (dotted parent paths allowed: `Account.Name`).
    pub pop_fields: Vec<String>,
    /// The record's country: numbers written without a country code on the record are
    /// read in that country.
    pub country_field: Option<String>,
    /// The record's state or province, for its time zone in multi-zone countries.
    pub state_field: Option<String>,
    /// The field holding the record's Account id (`AccountId`; `Id` on Account itself),
    /// for the open opportunities and cases shown in the pop.
    pub account_field: Option<String>,
    /// Extra SOQL condition (e.g. unconverted Leads only). Written by the admin, never
    /// built from caller input.
    pub filter: Option<String>,
}

/// The layout in force for one kind of call: the admin's document with the rep's own
/// choices applied ([`LayoutDocument::effective`]). Built-in: `assets/layouts/default.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// The document's name.
    pub name: String,
    pub call_type: CallType,
    pub search: Vec<SearchObject>,
    pub pop: PopRules,
    /// Numbers (E.164 prefixes or short extensions) that mean a colleague is calling.
    pub internal_prefixes: Vec<String>,
    /// Extensions up to this many digits are internal.
    pub internal_extension_digits: u8,
    pub ignore_internal_calls: bool,
    pub call_log: CallLogLayout,
    pub meetings: MeetingDefaults,
    pub more_info_tabs: Vec<MoreInfoTab>,
}

impl Default for Layout {
    /// The built-in layout for inbound calls.
    fn default() -> Layout {
        LayoutDocument::builtin().effective(&RepOverrides::default(), CallType::Inbound)
    }
}

impl Layout {
    /// The fields to ask Salesforce for, per object: id, name, phones and pop fields.
    pub fn query_fields(&self, object: &SearchObject) -> Vec<String> {
        let mut out = vec!["Id".to_string(), object.name_field.clone()];
        for f in object.phone_fields.iter().chain(&object.pop_fields).chain(&object.country_field).chain(&object.state_field).chain(&object.account_field) {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }

    /// Priority of an object (0 = first); unknown objects go last.
    pub fn priority(&self, object: &str) -> usize {
        self.search.iter().position(|s| s.object == object).unwrap_or(usize::MAX)
    }
}
