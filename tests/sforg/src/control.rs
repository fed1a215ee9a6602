//! Test control: the operations behind both the Rust handle (`RunningOrg`) and the
//! `/__admin` HTTP API — faults, clock, token expiry, rotation, search delay, API and
//! single-email limits, object permissions, direct record access, sent emails and the
//! request log. Writes made here go
//! through the same validation and store as API writes, as the signed-in rep (but ignore
//! her object permissions) — except `insert_unchecked`, which stores what it is given as
//! an integration writing past the API would.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::access::ObjectPermissions;
use crate::error::FieldError;
use crate::faults::Fault;
use crate::org::{LoggedRequest, Org};
use crate::outbox::SentEmail;
use crate::schema;
use crate::validate::{self, Mode};

/// Why a direct write was refused: the same code, message and fields the API would give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl From<FieldError> for RecordError {
    fn from(e: FieldError) -> Self {
        RecordError { code: e.code.to_string(), message: e.message, fields: e.fields }
    }
}

/// Tokens of a signed-in session, as a token response would carry them.
#[derive(Debug, Clone, Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub instance_url: String,
}

/// Settings changed at run time; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub search_delay_secs: Option<f64>,
    pub api_limit: Option<u64>,
    /// Recipients the Send Email action may reach per day.
    pub single_email_limit: Option<u64>,
    pub rotate_refresh_tokens: Option<bool>,
    pub latency_ms: Option<u64>,
    /// Delay between carrying out a request and answering it.
    pub answer_delay_ms: Option<u64>,
    pub access_token_ttl_secs: Option<u64>,
    pub query_batch_size: Option<usize>,
}

/// A snapshot of the control state, for `GET /__admin/state`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlState {
    pub now: String,
    pub api_usage: u64,
    pub api_limit: u64,
    /// Recipients emailed today, and the daily limit.
    pub single_email_usage: u64,
    pub single_email_limit: u64,
    pub search_delay_secs: f64,
    pub rotate_refresh_tokens: bool,
    pub latency_ms: u64,
    pub query_batch_size: usize,
    /// Objects the user cannot read.
    pub hidden_objects: Vec<String>,
    /// Objects whose permissions differ from the default (read, create, edit, delete).
    pub object_permissions: BTreeMap<String, ObjectPermissions>,
    pub faults: Vec<Fault>,
}

fn unknown_object(object: &str) -> Vec<RecordError> {
    vec![RecordError {
        code: "NOT_FOUND".into(),
        message: format!("sObject type '{object}' is not supported."),
        fields: vec![],
    }]
}

impl Org {
    pub(crate) fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    pub(crate) fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub(crate) fn apply(&self, s: &Settings) {
        let mut st = self.lock();
        if let Some(secs) = s.search_delay_secs {
            st.search_delay = Duration::from_secs_f64(secs.max(0.0));
        }
        if let Some(limit) = s.api_limit {
            st.usage.limit = limit;
        }
        if let Some(limit) = s.single_email_limit {
            st.outbox.limit = limit;
        }
        if let Some(on) = s.rotate_refresh_tokens {
            st.tokens.rotate_refresh_tokens = on;
        }
        if let Some(ms) = s.latency_ms {
            st.latency = Duration::from_millis(ms);
        }
        if let Some(ms) = s.answer_delay_ms {
            st.answer_delay = Duration::from_millis(ms);
        }
        if let Some(secs) = s.access_token_ttl_secs {
            st.tokens.access_ttl = Duration::from_secs(secs);
        }
        if let Some(n) = s.query_batch_size {
            st.query_batch_size = n.max(1);
        }
    }

    pub(crate) fn control_state(&self) -> ControlState {
        let mut st = self.lock();
        let now = st.clock.now();
        st.outbox.roll(now);
        ControlState {
            now: crate::clock::sf_datetime(st.clock.now()),
            api_usage: st.usage.count,
            api_limit: st.usage.limit,
            single_email_usage: st.outbox.used,
            single_email_limit: st.outbox.limit,
            search_delay_secs: st.search_delay.as_secs_f64(),
            rotate_refresh_tokens: st.tokens.rotate_refresh_tokens,
            latency_ms: st.latency.as_millis() as u64,
            query_batch_size: st.query_batch_size,
            hidden_objects: {
                let mut hidden: Vec<String> =
                    st.object_permissions.iter().filter(|(_, p)| !p.read).map(|(o, _)| o.to_string()).collect();
                hidden.sort();
                hidden
            },
            object_permissions: st.object_permissions.iter().map(|(o, p)| (o.to_string(), *p)).collect(),
            faults: st.faults.pending().to_vec(),
        }
    }

    pub(crate) fn expire_access_tokens(&self) {
        let mut st = self.lock();
        let now = st.clock.now();
        st.tokens.expire_all_access_tokens(now);
    }

    pub(crate) fn reset_api_usage(&self) {
        self.lock().usage.count = 0;
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        let mut st = self.lock();
        st.clock.advance(by);
        let now = st.clock.now();
        st.usage.roll(now);
        st.outbox.roll(now);
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.lock().clock.now()
    }

    /// Gives the user these permissions on an object, as her profile and permission sets
    /// would; `false` when there is no such object.
    pub(crate) fn set_object_permissions(&self, object: &str, permissions: ObjectPermissions) -> bool {
        let Some(def) = schema::object(object) else { return false };
        let permissions = permissions.normalized();
        let mut st = self.lock();
        if permissions == ObjectPermissions::CRUD {
            st.object_permissions.remove(def.name);
        } else {
            st.object_permissions.insert(def.name, permissions);
        }
        true
    }

    /// Sets the user's permissions on every object a shipped permission set names to
    /// what it grants. `None` when no set has that name or it names an unknown object.
    pub(crate) fn set_permissions_from(&self, permission_set: &str) -> Option<()> {
        let grants = crate::metadata::permission_set(permission_set)?;
        if grants.iter().any(|(object, _)| schema::object(object).is_none()) {
            return None;
        }
        for (object, permissions) in grants {
            self.set_object_permissions(&object, permissions);
        }
        Some(())
    }

    /// The id of the profile with this name (case-insensitive), as `SELECT Id FROM Profile
    /// WHERE Name = …` would find it.
    pub(crate) fn profile_id(&self, name: &str) -> Option<String> {
        let st = self.lock();
        let found = st.store.table("Profile").find(|p| p.get("Name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)));
        found.and_then(|p| p.get("Id")).and_then(Value::as_str).map(str::to_string)
    }

    pub(crate) fn sign_in(&self) -> Tokens {
        let mut st = self.lock();
        let now = st.clock.now();
        let st = &mut *st;
        let issued = st.tokens.sign_in(&mut st.rng, now, &self.fixed.signed_in_user, &self.config.client_id);
        Tokens {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token.unwrap_or_default(),
            instance_url: self.base_url.clone(),
        }
    }

    pub(crate) fn records(&self, object: &str) -> Vec<Value> {
        let st = self.lock();
        let name = schema::object(object).map_or("", |d| d.name);
        st.store.table(name).map(|f| Value::Object(f.clone())).collect()
    }

    pub(crate) fn record(&self, id: &str) -> Option<Value> {
        let id = crate::ids::normalize(id)?;
        self.lock().store.find(&id).map(|(_, f)| Value::Object(f.clone()))
    }

    pub(crate) fn insert_record(&self, object: &str, fields: &Map<String, Value>) -> Result<String, Vec<RecordError>> {
        let def = schema::object(object).ok_or_else(|| unknown_object(object))?;
        let mut st = self.lock();
        let checked = validate::check(def, fields, Mode::Insert, None, &st.store)
            .map_err(|e| e.into_iter().map(RecordError::from).collect::<Vec<_>>())?;
        let ctx = st.write_ctx(&self.fixed.signed_in_user);
        Ok(st.store.insert(def, checked, &ctx))
    }

    pub(crate) fn update_record(&self, object: &str, id: &str, fields: &Map<String, Value>) -> Result<(), Vec<RecordError>> {
        let def = schema::object(object).ok_or_else(|| unknown_object(object))?;
        let mut st = self.lock();
        let id = crate::ids::normalize(id).unwrap_or_default();
        let checked = validate::check(def, fields, Mode::Update, Some(&id), &st.store)
            .map_err(|e| e.into_iter().map(RecordError::from).collect::<Vec<_>>())?;
        let ctx = st.write_ctx(&self.fixed.signed_in_user);
        if st.store.update(def, &id, checked, &ctx) {
            Ok(())
        } else {
            Err(vec![RecordError { code: "NOT_FOUND".into(), message: "The requested resource does not exist".into(), fields: vec![] }])
        }
    }

    /// Stores a record without any validation — no types, lengths, picklists, lookups,
    /// required or unique fields — as an integration writing past the API could leave it:
    /// oversized text, duplicate external ids. Field names are matched case-insensitively;
    /// unknown ones are refused. System fields not given are filled as for any insert.
    pub(crate) fn insert_unchecked(&self, object: &str, fields: &Map<String, Value>) -> Result<String, Vec<RecordError>> {
        let def = schema::object(object).ok_or_else(|| unknown_object(object))?;
        let mut canonical = Map::new();
        for (key, value) in fields {
            let refused = |message: String| vec![RecordError { code: "INVALID_FIELD".into(), message, fields: vec![] }];
            let Some(field) = def.field(key) else {
                return Err(refused(format!("No such column '{key}' on sobject of type {}", def.name)));
            };
            if field.name == "Id" {
                return Err(refused("cannot specify Id in an insert call".into()));
            }
            canonical.insert(field.name.to_string(), value.clone());
        }
        let mut st = self.lock();
        let ctx = st.write_ctx(&self.fixed.signed_in_user);
        Ok(st.store.insert(def, canonical, &ctx))
    }

    pub(crate) fn delete_record(&self, object: &str, id: &str) -> bool {
        let name = schema::object(object).map_or("", |d| d.name);
        let id = crate::ids::normalize(id).unwrap_or_default();
        self.lock().store.delete(name, &id)
    }

    pub(crate) fn set_validation_rules(&self, rules: Vec<crate::store::ValidationRule>) {
        self.lock().store.validation_rules = rules;
    }

    /// Converts a Lead as Salesforce's Convert button does (without an Opportunity): an
    /// Account from the Company, a Contact from the person, the Lead marked converted
    /// and read-only, and the Lead's activities moved to the Contact and Account.
    /// Returns `(contact id, account id)`.
    pub(crate) fn convert_lead(&self, lead_id: &str) -> Option<(String, String)> {
        let lead_id = crate::ids::normalize(lead_id)?;
        let mut st = self.lock();
        let lead = st.store.get("Lead", &lead_id)?.clone();
        if lead.get("IsConverted") == Some(&Value::Bool(true)) {
            return None;
        }
        let ctx = st.write_ctx(&self.fixed.signed_in_user);
        let pick = |names: &[(&str, &str)]| -> Map<String, Value> {
            names.iter().filter_map(|(from, to)| lead.get(*from).filter(|v| !v.is_null()).map(|v| (to.to_string(), v.clone()))).collect()
        };
        let mut account = pick(&[("Company", "Name"), ("Phone", "Phone"), ("Country", "BillingCountry"), ("State", "BillingState")]);
        account.entry("Name").or_insert(Value::String("Unknown".into()));
        let account_id = st.store.insert(schema::object("Account")?, account, &ctx);
        let mut contact = pick(&[
            ("FirstName", "FirstName"),
            ("LastName", "LastName"),
            ("Title", "Title"),
            ("Email", "Email"),
            ("Phone", "Phone"),
            ("MobilePhone", "MobilePhone"),
            ("Country", "MailingCountry"),
            ("State", "MailingState"),
        ]);
        contact.insert("AccountId".into(), Value::String(account_id.clone()));
        let contact_id = st.store.insert(schema::object("Contact")?, contact, &ctx);
        for (field, value) in [
            ("IsConverted", Value::Bool(true)),
            ("ConvertedContactId", Value::String(contact_id.clone())),
            ("ConvertedAccountId", Value::String(account_id.clone())),
            ("Status", Value::String("Closed - Converted".into())),
        ] {
            st.store.set_field("Lead", &lead_id, field, value);
        }
        for object in ["Task", "Event"] {
            let moved: Vec<(String, bool)> = st
                .store
                .table(object)
                .filter(|r| r.get("WhoId").and_then(Value::as_str) == Some(lead_id.as_str()))
                .map(|r| (r.get("Id").and_then(Value::as_str).unwrap_or_default().to_string(), r.get("WhatId").is_none_or(Value::is_null)))
                .collect();
            for (id, no_what) in moved {
                st.store.set_field(object, &id, "WhoId", Value::String(contact_id.clone()));
                if no_what {
                    st.store.set_field(object, &id, "WhatId", Value::String(account_id.clone()));
                }
            }
        }
        Some((contact_id, account_id))
    }

    pub(crate) fn sent_emails(&self) -> Vec<SentEmail> {
        self.lock().outbox.sent().to_vec()
    }

    pub(crate) fn clear_sent_emails(&self) {
        self.lock().outbox.clear();
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub(crate) fn clear_requests(&self) {
        self.lock().log.clear();
    }
}
