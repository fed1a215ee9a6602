//! The org's records: one table per object, keyed by 18-character id, in creation order.
//! It fills system fields (audit dates, owner, derived Name/IsClosed…), keeps the search
//! index lagging behind writes by the configured delay, and rolls activity dates up.
//! It trusts its input: field validation happens before (see `validate`).
//!
//! Tables and records are shared copy-on-write (`Arc`), so a `Snapshot` costs next to
//! nothing and a write after one copies only the table and record it touches: a
//! transaction (a composite request with `allOrNone`) can be put back cheaply.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::clock::{parse_date, parse_datetime, sf_date, sf_datetime};
use crate::ids::IdGen;
use crate::schema::{self, DeleteConstraint, FieldType, ObjectDef};

pub(crate) type Fields = Map<String, Value>;

#[derive(Debug, Clone)]
pub(crate) struct StoredRecord {
    pub fields: Fields,
    /// What SOSL sees: the record as it was when the index last caught up.
    indexed: Option<Fields>,
    /// The write the index has not caught up with yet, and when it will.
    pending: Option<(OffsetDateTime, Fields)>,
}

/// Who writes, and when: the audit fields come from here.
#[derive(Debug, Clone)]
pub(crate) struct WriteCtx {
    pub now: OffsetDateTime,
    pub user_id: String,
    pub search_delay: Duration,
}

/// One object's records by id. Records are shared with snapshots until written.
type Table = BTreeMap<String, Arc<StoredRecord>>;

#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Tables are shared with snapshots until written.
    tables: BTreeMap<&'static str, Arc<Table>>,
    pub(crate) ids: IdGen,
    case_numbers: u64,
    /// Ids of deleted records (the recycle bin), for ENTITY_IS_DELETED answers.
    deleted: HashSet<String>,
    /// The admin's validation rules, checked on every write.
    pub(crate) validation_rules: Vec<ValidationRule>,
}

/// A validation rule as an admin would write one, reduced to what tests need: a write
/// whose `field` contains `contains` (case-insensitive) is refused with `message`
/// (`FIELD_CUSTOM_VALIDATION_EXCEPTION`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationRule {
    pub object: String,
    pub field: String,
    pub contains: String,
    pub message: String,
}

/// The records as they were at one moment, to put back when a transaction fails.
#[derive(Debug)]
pub(crate) struct Snapshot {
    tables: BTreeMap<&'static str, Arc<Table>>,
    deleted: HashSet<String>,
}

impl Store {
    /// Every record (and the recycle bin) as it is now. Cheap: tables are shared until
    /// the next write copies the one it touches.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot { tables: self.tables.clone(), deleted: self.deleted.clone() }
    }

    /// Puts the records back as they were at `snapshot`. Ids and case numbers handed out
    /// since stay used, as Salesforce does not reuse them after a rollback either; the
    /// validation rules are the admin's and stay as they are.
    pub(crate) fn restore(&mut self, snapshot: Snapshot) {
        self.tables = snapshot.tables;
        self.deleted = snapshot.deleted;
    }

    /// A record to write, copied first if a snapshot still shares it (or its table).
    fn record_mut(&mut self, object: &str, id: &str) -> Option<&mut StoredRecord> {
        let table = self.tables.get_mut(object)?;
        if !table.contains_key(id) {
            return None;
        }
        Arc::make_mut(table).get_mut(id).map(Arc::make_mut)
    }

    pub(crate) fn table(&self, object: &str) -> impl Iterator<Item = &Fields> {
        self.tables.get(object).into_iter().flat_map(|t| t.values().map(|r| &r.fields))
    }

    pub(crate) fn get(&self, object: &str, id: &str) -> Option<&Fields> {
        self.tables.get(object)?.get(id).map(|r| &r.fields)
    }

    /// Finds a record by id alone, through its key prefix.
    pub(crate) fn find(&self, id: &str) -> Option<(&'static ObjectDef, &Fields)> {
        let def = schema::object_for_id(id)?;
        self.get(def.name, id).map(|f| (def, f))
    }

    /// Records as the search index sees them: (current fields, indexed fields), only for
    /// records the index has caught up with at `now`.
    pub(crate) fn searchable(&mut self, object: &str, now: OffsetDateTime) -> Vec<(&Fields, &Fields)> {
        let due = |rec: &StoredRecord| rec.pending.as_ref().is_some_and(|(at, _)| *at <= now);
        let Some(table) = self.tables.get_mut(object) else { return Vec::new() };
        if table.values().any(|r| due(r)) {
            for rec in Arc::make_mut(table).values_mut().filter(|r| due(r)) {
                let rec = Arc::make_mut(rec);
                rec.indexed = rec.pending.take().map(|(_, f)| f);
            }
        }
        table.values().filter_map(|r| r.indexed.as_ref().map(|i| (&r.fields, i))).collect()
    }

    /// Inserts validated fields (canonical names). Returns the new id.
    pub(crate) fn insert(&mut self, def: &'static ObjectDef, mut fields: Fields, ctx: &WriteCtx) -> String {
        let id = self.ids.next(def.key_prefix);
        let now = Value::String(sf_datetime(ctx.now));
        for f in &def.fields {
            let missing = fields.get(f.name).is_none_or(Value::is_null);
            if !missing {
                continue;
            }
            let value = match f.name {
                "Id" => Value::String(id.clone()),
                "CreatedDate" | "LastModifiedDate" | "SystemModstamp" => now.clone(),
                "CreatedById" | "LastModifiedById" | "OwnerId" => Value::String(ctx.user_id.clone()),
                // A custom object's record without a name is named after its id.
                "Name" if def.custom => Value::String(id.clone()),
                "CaseNumber" => {
                    self.case_numbers += 1;
                    Value::String(format!("{:08}", 1000 + self.case_numbers))
                }
                _ if f.ty == FieldType::Boolean => Value::Bool(f.name == "IsActive"),
                _ => f.default_value.map_or(Value::Null, |v| Value::String(v.to_string())),
            };
            fields.insert(f.name.to_string(), value);
        }
        derive(def, &mut fields);
        let rec = StoredRecord { fields: ordered(def, fields), indexed: None, pending: None };
        let table = self.tables.entry(def.name).or_default();
        Arc::make_mut(table).insert(id.clone(), Arc::new(rec));
        self.reindex(def.name, &id, ctx);
        self.roll_up_activity(def, &id);
        id
    }

    /// Applies validated changes. `false` when the record does not exist.
    pub(crate) fn update(&mut self, def: &'static ObjectDef, id: &str, changes: Fields, ctx: &WriteCtx) -> bool {
        let Some(rec) = self.record_mut(def.name, id) else { return false };
        for (k, v) in changes {
            rec.fields.insert(k, v);
        }
        let now = Value::String(sf_datetime(ctx.now));
        rec.fields.insert("LastModifiedDate".into(), now.clone());
        rec.fields.insert("SystemModstamp".into(), now);
        rec.fields.insert("LastModifiedById".into(), Value::String(ctx.user_id.clone()));
        derive(def, &mut rec.fields);
        self.reindex(def.name, id, ctx);
        self.roll_up_activity(def, id);
        true
    }

    /// Sets one field without audit changes (fixture set-up only).
    pub(crate) fn set_field(&mut self, object: &str, id: &str, field: &str, value: Value) {
        if let Some(rec) = self.record_mut(object, id) {
            rec.fields.insert(field.to_string(), value.clone());
            if let Some(indexed) = rec.indexed.as_mut() {
                indexed.insert(field.to_string(), value);
            }
        }
    }

    pub(crate) fn delete(&mut self, object: &str, id: &str) -> bool {
        let table = self.tables.get_mut(object).filter(|t| t.contains_key(id));
        let removed = table.is_some_and(|t| Arc::make_mut(t).remove(id).is_some());
        if removed {
            self.deleted.insert(id.to_string());
            self.clear_lookups_to(object, id);
        }
        removed
    }

    /// Lookups declared `SetNull` lose their value when the record they point to goes.
    fn clear_lookups_to(&mut self, object: &str, id: &str) {
        for child in schema::objects() {
            for f in child.fields.iter().filter(|f| f.delete_constraint == Some(DeleteConstraint::SetNull)) {
                if !f.reference_to.contains(&object) {
                    continue;
                }
                let pointing: Vec<String> = self
                    .tables
                    .get(child.name)
                    .into_iter()
                    .flat_map(|t| t.iter())
                    .filter(|(_, rec)| rec.fields.get(f.name).and_then(Value::as_str) == Some(id))
                    .map(|(child_id, _)| child_id.clone())
                    .collect();
                for child_id in pointing {
                    if let Some(rec) = self.record_mut(child.name, &child_id) {
                        rec.fields.insert(f.name.to_string(), Value::Null);
                    }
                }
            }
        }
    }

    pub(crate) fn is_deleted(&self, id: &str) -> bool {
        self.deleted.contains(id)
    }

    /// Puts a record into the index now (fixture data) or after the delay (API writes).
    fn reindex(&mut self, object: &str, id: &str, ctx: &WriteCtx) {
        let Some(rec) = self.record_mut(object, id) else { return };
        if ctx.search_delay.is_zero() {
            rec.indexed = Some(rec.fields.clone());
            rec.pending = None;
        } else {
            rec.pending = Some((ctx.now + ctx.search_delay, rec.fields.clone()));
        }
    }

    /// Salesforce keeps `LastActivityDate` on the records a closed task or an event is
    /// about (Who, What, and the Who's account): the latest activity date wins.
    fn roll_up_activity(&mut self, def: &ObjectDef, id: &str) {
        if def.name != "Task" && def.name != "Event" {
            return;
        }
        let Some(activity) = self.get(def.name, id).cloned() else { return };
        let day = if def.name == "Task" {
            if activity.get("IsClosed") != Some(&Value::Bool(true)) {
                return;
            }
            activity
                .get("ActivityDate")
                .and_then(Value::as_str)
                .and_then(parse_date)
                .or_else(|| activity.get("LastModifiedDate").and_then(Value::as_str).and_then(parse_datetime).map(|t| t.date()))
        } else {
            activity.get("StartDateTime").and_then(Value::as_str).and_then(parse_datetime).map(|t| t.date())
        };
        let Some(day) = day else { return };
        let mut targets: Vec<String> = ["WhoId", "WhatId"]
            .iter()
            .filter_map(|f| activity.get(*f).and_then(Value::as_str).map(str::to_string))
            .collect();
        if let Some(account) = targets
            .first()
            .and_then(|who| self.find(who))
            .and_then(|(_, f)| f.get("AccountId").and_then(Value::as_str).map(str::to_string))
        {
            targets.push(account);
        }
        for target in targets {
            let Some(def) = schema::object_for_id(&target) else { continue };
            if def.field("LastActivityDate").is_none() {
                continue;
            }
            if let Some(rec) = self.record_mut(def.name, &target) {
                let current = rec.fields.get("LastActivityDate").and_then(Value::as_str).and_then(parse_date);
                if current.is_none_or(|c| c < day) {
                    rec.fields.insert("LastActivityDate".into(), Value::String(sf_date(day)));
                }
            }
        }
    }
}

/// Fields Salesforce computes from others.
fn derive(def: &ObjectDef, f: &mut Fields) {
    let s = |f: &Fields, k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
    match def.name {
        "Contact" | "Lead" | "User" => {
            let name = [s(f, "FirstName"), s(f, "LastName")].into_iter().flatten().collect::<Vec<_>>().join(" ");
            f.insert("Name".into(), Value::String(name));
        }
        "Opportunity" => {
            let stage = s(f, "StageName").unwrap_or_default();
            f.insert("IsClosed".into(), Value::Bool(stage.starts_with("Closed")));
            f.insert("IsWon".into(), Value::Bool(stage == "Closed Won"));
        }
        "Case" => {
            let closed = s(f, "Status").as_deref() == Some("Closed");
            let was_closed = f.get("IsClosed") == Some(&Value::Bool(true));
            f.insert("IsClosed".into(), Value::Bool(closed));
            if closed && !was_closed {
                let at = f.get("LastModifiedDate").cloned().unwrap_or(Value::Null);
                f.insert("ClosedDate".into(), at);
            } else if !closed {
                f.insert("ClosedDate".into(), Value::Null);
            }
        }
        "Task" => {
            let closed = s(f, "Status").as_deref() == Some("Completed");
            f.insert("IsClosed".into(), Value::Bool(closed));
        }
        "EmailMessageRelation" => {
            let object = s(f, "RelationId").as_deref().and_then(schema::object_for_id).map(|d| d.name);
            f.insert("RelationObjectType".into(), object.map_or(Value::Null, |o| Value::String(o.into())));
        }
        "Event" => {
            let start = s(f, "StartDateTime").as_deref().and_then(parse_datetime);
            let end = s(f, "EndDateTime").as_deref().and_then(parse_datetime);
            if let (Some(start), Some(end)) = (start, end) {
                let minutes = (end - start).whole_minutes();
                f.insert("DurationInMinutes".into(), Value::from(minutes));
            }
        }
        _ => {}
    }
}

/// Keeps fields in describe order, so records print like Salesforce's.
fn ordered(def: &ObjectDef, mut fields: Fields) -> Fields {
    let mut out = Map::new();
    for f in &def.fields {
        out.insert(f.name.to_string(), fields.remove(f.name).unwrap_or(Value::Null));
    }
    out
}
