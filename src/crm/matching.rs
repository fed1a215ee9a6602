//! Caller matching, the pure part: the SOSL that finds a number, the check that a
//! returned record really carries it, and the conversion of records to and from the
//! local index. The engine (`app::crm`) runs these against the store and Salesforce.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::client::Record;
use super::escape::{sosl_term, soql_string};
use super::phone::{self, PhoneNumberInfo};
use crate::layout::{Layout, SearchObject};
use crate::store::{IndexSource, IndexedRecord};

/// SOSL returns at most this many rows; more means the number is on too many records
/// to be one caller (a switchboard), and the rep is told.
pub const SEARCH_LIMIT: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PopField {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MatchedRecord {
    pub object: String,
    pub id: String,
    pub name: String,
    /// The phone field that carries the number.
    pub matched_field: String,
    pub fields: Vec<PopField>,
    /// Lightning URL of the record, when the instance is known.
    pub url: Option<String>,
    /// The Account the record belongs to (the record itself for an Account).
    pub account_id: Option<String>,
    /// IANA time zone of the person or company, when their address tells it; the UI
    /// shows their local time.
    pub time_zone: Option<String>,
    /// Confirmed by Salesforce in this lookup (not only remembered locally).
    pub confirmed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum MatchOutcome {
    None,
    One,
    Many,
}

/// Where the answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum MatchStage {
    /// The local index, before Salesforce answered.
    Local,
    /// Salesforce confirmed (the final answer).
    Live,
    /// Salesforce could not be asked; the local answer stands (see `problem`).
    LocalOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallerMatch {
    /// What was dialled or received, as given.
    pub dialled: String,
    /// The number as understood; `None` for a short internal extension.
    pub number: Option<PhoneNumberInfo>,
    pub internal: bool,
    pub outcome: MatchOutcome,
    pub stage: MatchStage,
    /// In the layout's priority order.
    pub records: Vec<MatchedRecord>,
    /// Why the answer may be incomplete (Salesforce unreachable, too many records…).
    pub problem: Option<String>,
    /// The call type whose layout was used, and what its pop does.
    pub call_type: crate::layout::CallType,
    pub pop: crate::layout::PopRules,
}

impl CallerMatch {
    pub fn new(
        dialled: &str,
        number: Option<PhoneNumberInfo>,
        internal: bool,
        stage: MatchStage,
        mut records: Vec<MatchedRecord>,
        layout: &Layout,
        problem: Option<String>,
    ) -> CallerMatch {
        records.sort_by(|a, b| {
            (layout.priority(&a.object), &a.name, &a.id).cmp(&(layout.priority(&b.object), &b.name, &b.id))
        });
        records.dedup_by(|a, b| a.object == b.object && a.id == b.id);
        let outcome = match records.len() {
            0 => MatchOutcome::None,
            1 => MatchOutcome::One,
            _ => MatchOutcome::Many,
        };
        let (call_type, pop) = (layout.call_type, layout.pop);
        CallerMatch { dialled: dialled.to_string(), number, internal, outcome, stage, records, problem, call_type, pop }
    }
}

/// A short internal extension ("2041"): digits only, no +, at most the layout's length.
pub fn is_extension(input: &str, layout: &Layout) -> bool {
    let trimmed = input.trim();
    !trimmed.is_empty()
        && trimmed.len() <= usize::from(layout.internal_extension_digits)
        && trimmed.chars().all(|c| c.is_ascii_digit())
}

/// Is this a colleague? Short extensions, or a number under one of the company's own
/// prefixes.
pub fn is_internal(input: &str, number: Option<&PhoneNumberInfo>, layout: &Layout) -> bool {
    is_extension(input, layout)
        || number.is_some_and(|n| layout.internal_prefixes.iter().any(|p| !p.is_empty() && n.e164.starts_with(p.as_str())))
}

/// `FIND {digits} IN PHONE FIELDS RETURNING Contact(Id, Name, … WHERE …), …`
pub fn build_sosl(layout: &Layout, number: &PhoneNumberInfo) -> String {
    let returning: Vec<String> = layout
        .search
        .iter()
        .map(|o| {
            let fields = layout.query_fields(o).join(", ");
            match &o.filter {
                Some(f) => format!("{}({fields} WHERE {f})", o.object),
                None => format!("{}({fields})", o.object),
            }
        })
        .collect();
    format!(
        "FIND {{{}}} IN PHONE FIELDS RETURNING {} LIMIT {SEARCH_LIMIT}",
        sosl_term(&number.national_number),
        returning.join(", ")
    )
}

/// `SELECT … FROM obj WHERE SystemModstamp > since …`: records changed since the
/// watermark, so records the search index does not list yet are known locally.
pub fn build_recent_soql(layout: &Layout, object: &SearchObject, since: &str, limit: usize) -> String {
    let mut fields = layout.query_fields(object);
    fields.push("SystemModstamp".into());
    let mut condition = format!("SystemModstamp > {since}");
    if let Some(f) = &object.filter {
        condition = format!("{condition} AND ({f})");
    }
    format!("SELECT {} FROM {} WHERE {condition} ORDER BY SystemModstamp ASC LIMIT {limit}", fields.join(", "), object.object)
}

/// `SELECT … FROM obj WHERE OwnerId = '005…' … ORDER BY SystemModstamp DESC LIMIT n`.
pub fn build_owned_soql(layout: &Layout, object: &SearchObject, user_id: &str, limit: usize) -> String {
    let mut condition = soql_equals("OwnerId", user_id);
    if let Some(f) = &object.filter {
        condition = format!("{condition} AND ({f})");
    }
    format!(
        "SELECT {} FROM {} WHERE {condition} ORDER BY SystemModstamp DESC LIMIT {limit}",
        layout.query_fields(object).join(", "),
        object.object
    )
}

/// A datetime literal for SOQL must be bare ISO 8601; anything else is refused rather
/// than quoted, because SOQL datetimes are not string literals.
pub fn is_soql_datetime(s: &str) -> bool {
    s.len() >= 20 && s.chars().all(|c| c.is_ascii_digit() || "-:.TZ+".contains(c))
}

/// The phone field of `record` that carries `number`, if any. A value is read in the
/// rep's region; when it does not parse as a valid number, its digits must end with
/// the number's national digits (at least 7), which is how "+33 (0)1 23…" or
/// "0033 1 23…" typed in any region still match — and nothing shorter does.
pub fn matching_field(record: &Record, object: &SearchObject, number: &PhoneNumberInfo, region: &str) -> Option<String> {
    let region = record_region(record, object, region);
    object.phone_fields.iter().find_map(|field| {
        let value = record.str(field)?;
        same_number(value, number, &region).then(|| field.clone())
    })
}

/// The region a record's nationally written numbers are read in: its country when it
/// has a recognisable one, else the rep's.
pub fn record_region(record: &Record, object: &SearchObject, default_region: &str) -> String {
    object
        .country_field
        .as_deref()
        .and_then(|f| record.str(f))
        .and_then(super::country::region_of)
        .unwrap_or_else(|| default_region.to_string())
}

/// Does the phone value `value` (read in `region`) hold `number`? A value that reads as
/// a valid number must be exactly that number; only a value that does not parse is
/// compared by its trailing digits.
pub fn same_number(value: &str, number: &PhoneNumberInfo, region: &str) -> bool {
    if let Ok(n) = phone::normalise(value, region) {
        return n.e164 == number.e164;
    }
    let nsn = number.national_number.as_str();
    let digits: String = value.split(['x', 'X', '#', ';']).next().unwrap_or("").chars().filter(char::is_ascii_digit).collect();
    if nsn.len() < 7 || !digits.ends_with(nsn) {
        return false;
    }
    // What may stand before the national digits: nothing, a trunk 0, or the country
    // code behind + / 00 / 011, with or without the "(0)" many people write after it.
    let head = &digits[..digits.len() - nsn.len()];
    let cc = &number.e164[1..number.e164.len() - nsn.len()];
    ["", "0"].contains(&head)
        || ["", "00", "011"].iter().any(|idd| head == format!("{idd}{cc}") || head == format!("{idd}{cc}0"))
}

/// The index entry for a record: every phone field that reads as a valid number.
pub fn to_indexed(record: &Record, object: &SearchObject, region: &str, source: IndexSource, now: i64) -> IndexedRecord {
    let region = record_region(record, object, region);
    let region = region.as_str();
    let numbers = object
        .phone_fields
        .iter()
        .filter_map(|f| {
            let value = record.str(f)?;
            phone::normalise(value, region).ok().map(|n| (n.e164, f.clone()))
        })
        .collect();
    let mut fields = Map::new();
    for f in &object.pop_fields {
        if let Some(v) = record.get(f) {
            fields.insert(f.clone(), v.clone());
        }
    }
    for f in object.phone_fields.iter().chain(&object.account_field).chain(&object.country_field).chain(&object.state_field) {
        if let Some(v) = record.get(f) {
            fields.insert(f.clone(), v.clone());
        }
    }
    IndexedRecord {
        object: object.object.clone(),
        record_id: record.id().to_string(),
        name: record.str(&object.name_field).unwrap_or("(no name)").to_string(),
        fields: Value::Object(fields),
        source,
        modstamp: record.str("SystemModstamp").map(str::to_string),
        seen_at: now,
        numbers,
    }
}

pub fn from_record(record: &Record, object: &SearchObject, matched_field: String, instance_url: Option<&str>) -> MatchedRecord {
    MatchedRecord {
        object: object.object.clone(),
        id: record.id().to_string(),
        name: record.str(&object.name_field).unwrap_or("(no name)").to_string(),
        matched_field,
        fields: object
            .pop_fields
            .iter()
            .filter_map(|f| record.get(f).map(|v| PopField { field: f.clone(), value: plain(v) }))
            .collect(),
        url: instance_url.map(|i| lightning_url(i, &object.object, record.id())),
        account_id: object.account_field.as_deref().and_then(|f| record.str(f)).map(str::to_string),
        time_zone: place_zone(object, |f| record.str(f)),
        confirmed: true,
    }
}

pub fn from_indexed(rec: &IndexedRecord, matched_field: String, layout: &Layout, instance_url: Option<&str>) -> MatchedRecord {
    let object = layout.search.iter().find(|o| o.object == rec.object);
    let get = |f: &str| rec.fields.get(f).and_then(Value::as_str);
    MatchedRecord {
        object: rec.object.clone(),
        id: rec.record_id.clone(),
        name: rec.name.clone(),
        matched_field,
        fields: object
            .map(|o| o.pop_fields.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|f| rec.fields.get(f).filter(|v| !v.is_null()).map(|v| PopField { field: f.clone(), value: plain(v) }))
            .collect(),
        url: instance_url.map(|i| lightning_url(i, &rec.object, &rec.record_id)),
        account_id: object
            .and_then(|o| o.account_field.as_deref())
            .and_then(|f| if f == "Id" { Some(rec.record_id.as_str()) } else { get(f) })
            .map(str::to_string),
        time_zone: object.and_then(|o| place_zone(o, get)),
        confirmed: false,
    }
}

/// A related list in the pop: how many open items, and the first few.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RelatedList {
    pub total: u32,
    pub top: Vec<RelatedItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RelatedItem {
    pub id: String,
    /// Opportunity name, or case number and subject.
    pub title: String,
    /// Stage and close date, or case status.
    pub detail: String,
    pub url: Option<String>,
}

/// What the pop adds under a single record: open opportunities on its Account and open
/// cases of the person (or Account). `None` where the object has none (Leads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallerDetails {
    pub object: String,
    pub id: String,
    pub open_opportunities: Option<RelatedList>,
    pub open_cases: Option<RelatedList>,
}

/// How many related items the pop lists.
pub const RELATED_TOP: usize = 3;

pub fn open_opportunities_soql(account_id: &str) -> String {
    format!(
        "SELECT Id, Name, StageName, CloseDate FROM Opportunity WHERE {} AND IsClosed = false ORDER BY CloseDate ASC LIMIT 200",
        soql_equals("AccountId", account_id)
    )
}

/// Open cases of a Contact (by `ContactId`) or of an Account (by `AccountId`).
pub fn open_cases_soql(object: &str, id: &str) -> Option<String> {
    let field = match object {
        "Contact" => "ContactId",
        "Account" => "AccountId",
        _ => return None,
    };
    Some(format!(
        "SELECT Id, CaseNumber, Subject, Status FROM Case WHERE {} AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 200",
        soql_equals(field, id)
    ))
}

pub fn related_list(total: u64, records: &[Record], instance: Option<&str>, item: impl Fn(&Record) -> (String, String)) -> RelatedList {
    RelatedList {
        total: u32::try_from(total).unwrap_or(u32::MAX),
        top: records
            .iter()
            .take(RELATED_TOP)
            .map(|r| {
                let (title, detail) = item(r);
                RelatedItem { id: r.id().to_string(), title, detail, url: instance.map(|i| lightning_url(i, r.object(), r.id())) }
            })
            .collect(),
    }
}

/// The object named in Salesforce's "sObject type 'Lead' is not supported" answer.
pub fn unsupported_object(message: &str) -> Option<String> {
    let start = message.find("sObject type '")? + "sObject type '".len();
    let end = message[start..].find('\'')? + start;
    Some(message[start..end].to_string()).filter(|o| super::escape::is_api_name(o))
}

/// The time zone from a record's country (and state) fields.
fn place_zone<'a>(object: &SearchObject, get: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    let region = super::country::region_of(get(object.country_field.as_deref()?)?)?;
    let state = object.state_field.as_deref().and_then(&get);
    super::country::time_zone(&region, state).map(str::to_string)
}

pub fn lightning_url(instance_url: &str, object: &str, id: &str) -> String {
    format!("{}/lightning/r/{object}/{id}/view", instance_url.trim_end_matches('/'))
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("Name").map(plain).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The fields a "Create Lead/Contact" writes: the number in the first phone field of
/// the object, a last name (required by Salesforce) and, for Leads, a company.
pub fn new_record_fields(object: &SearchObject, number: &PhoneNumberInfo, last_name: &str, company: Option<&str>) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("LastName".into(), Value::String(last_name.to_string()));
    if let Some(phone_field) = object.phone_fields.first() {
        fields.insert(phone_field.clone(), Value::String(number.international.clone()));
    }
    if object.object == "Lead" {
        fields.insert("Company".into(), Value::String(company.unwrap_or("Unknown").to_string()));
    }
    fields
}

/// For a query that looks a record up by a value (kept here so every SOQL literal in
/// matching goes through one escape).
pub fn soql_equals(field: &str, value: &str) -> String {
    format!("{field} = {}", soql_string(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> PhoneNumberInfo {
        phone::normalise("+33 1 23 45 67 89", "FR").unwrap()
    }

    #[test]
    fn the_sosl_searches_national_digits_in_every_layout_object() {
        let sosl = build_sosl(&Layout::default(), &paris());
        assert!(sosl.starts_with("FIND {123456789} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone"), "{sosl}");
        assert!(sosl.contains("Lead(") && sosl.contains("WHERE IsConverted = false)"), "{sosl}");
        assert!(sosl.ends_with("LIMIT 200"));
    }

    #[test]
    fn numbers_written_any_way_in_any_region_are_the_same_number() {
        let n = paris();
        for value in ["01 23 45 67 89", "+33 (0)1 23 45 67 89", "0033 1 23 45 67 89", "+33123456789"] {
            assert!(same_number(value, &n, "FR"), "{value} (FR rep)");
            assert!(same_number(value, &n, "US"), "{value} (US rep)");
        }
        for other in ["01 23 45 67 88", "+44 1 23 45 67 89", "9 01 23 45 67 89 12", "123456789 0"] {
            assert!(!same_number(other, &n, "FR"), "{other} is another number");
        }
    }

    #[test]
    fn a_nationally_written_number_is_read_in_the_records_country() {
        let layout = Layout::default();
        let lead = &layout.search[1];
        let kenji: Record = serde_json::from_str(
            r#"{"attributes":{"type":"Lead"},"Id":"00Q000000000001AAA","Name":"Kenji Watanabe","Phone":"03-1234-5678","Country":"Japan"}"#,
        )
        .unwrap();
        let tokyo = phone::normalise("+81 3-1234-5678", "FR").unwrap();
        let paris_lookalike = phone::normalise("+33 3 12 34 56 78", "FR").unwrap();
        assert_eq!(matching_field(&kenji, lead, &tokyo, "FR").as_deref(), Some("Phone"), "the Tokyo caller is Kenji");
        assert_eq!(matching_field(&kenji, lead, &paris_lookalike, "FR"), None, "a French number with the same digits is not");
        let indexed = to_indexed(&kenji, lead, "FR", IndexSource::Search, 0);
        assert_eq!(indexed.numbers, vec![("+81312345678".to_string(), "Phone".to_string())]);
    }

    #[test]
    fn short_extensions_and_company_prefixes_are_internal() {
        let mut layout = Layout::default();
        assert!(is_internal("2041", None, &layout));
        assert!(!is_internal("+33 1 23 45 67 89", Some(&paris()), &layout));
        layout.internal_prefixes = vec!["+33123".into()];
        assert!(is_internal("+33 1 23 45 67 89", Some(&paris()), &layout));
    }
}
