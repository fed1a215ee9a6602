//! The admin layout on the engine's side: the rep's app follows the layout assigned to
//! the rep in the org (user over profile over org default), checked and kept as the last
//! good one in SQLite; admins validate, publish and pull layouts (the CLI and the Admin
//! page call the same methods).
//!
//! Polling costs one small query when nothing changed: the records assigned to the rep,
//! without their bodies. A body is read only when the chosen record's `SystemModstamp`
//! differs from the one in force (or from the one last refused).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AppError, Engine, ErrorCode, Event, Notice, NoticeCode};
use crate::crm::escape::soql_string;
use crate::crm::client::{SubRequest, SubResponse};
use crate::crm::{Record, SalesforceError};
use crate::layout::document::CallType;
use crate::layout::validate::{self, Described, LayoutProblem};
use crate::layout::{Layout, LayoutDocument, RepOverrides, RepSetting, RepSettingState};
use crate::store::layouts::{Slot, StoredLayout};

/// The custom object shipped in `assets/salesforce/`.
pub const OBJECT: &str = "Ringside_Layout__c";
/// How often a running app asks whether its layout changed.
pub const POLL_INTERVAL: Duration = Duration::from_secs(15 * 60);
const OVERRIDES_KEY: &str = "layout.overrides";

/// Where the layout in force came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LayoutOrigin {
    pub record_id: String,
    /// `org`, `profile:<id>` or `user:<id>`.
    pub target: String,
    pub version: u32,
    pub modstamp: String,
}

/// A layout the app would not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LayoutRefusal {
    pub origin: LayoutOrigin,
    pub problems: Vec<LayoutProblem>,
    /// Unix seconds.
    pub at: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LayoutStatus {
    pub name: String,
    /// None: the built-in layout.
    pub origin: Option<LayoutOrigin>,
    /// Unix seconds of the last check with the org that got an answer.
    pub checked_at: Option<u32>,
    /// The newest layout the org offered and the app refused (the one in force stays).
    pub refused: Option<LayoutRefusal>,
    /// Why the last check did not get an answer (offline, signed out, object missing).
    pub problem: Option<String>,
    /// The on/off settings, locked or the rep's.
    pub rep_settings: Vec<RepSettingState>,
    /// The layout in force per call type.
    #[serde(flatten)]
    pub layouts: LayoutPreview,
}

/// Where a layout is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum PublishTarget {
    /// Everyone without a profile or user layout.
    Org,
    /// A profile, by name (`Sales User`) or id.
    Profile(String),
    /// A user, by username (`ada@example.com`) or id.
    User(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub record_id: String,
    pub target: String,
    /// "the org default", "profile Sales User", "user ada@example.com".
    pub target_label: String,
    pub version: u32,
    pub created: bool,
}

/// A published layout as read back from the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PulledLayout {
    pub origin: LayoutOrigin,
    pub name: String,
    /// The body exactly as stored.
    pub text: String,
}

/// A document checked for the Admin page or the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LayoutCheck {
    pub problems: Vec<LayoutProblem>,
    /// Whether the org was asked (signed in); schema problems stop before it.
    pub checked_with_org: bool,
    /// The layout reps would get, per call type, when there is no problem.
    pub preview: Option<LayoutPreview>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LayoutPreview {
    pub inbound: Layout,
    pub outbound: Layout,
    pub internal: Layout,
}

impl LayoutPreview {
    fn of(doc: &LayoutDocument, rep: &RepOverrides) -> LayoutPreview {
        LayoutPreview {
            inbound: doc.effective(rep, CallType::Inbound),
            outbound: doc.effective(rep, CallType::Outbound),
            internal: doc.effective(rep, CallType::Internal),
        }
    }
}

/// One line of a diff between two documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DiffLine {
    /// `same`, `added` or `removed`.
    pub kind: String,
    pub text: String,
}

/// What is kept in the engine's state.
pub(super) struct LayoutInForce {
    pub doc: LayoutDocument,
    pub origin: Option<LayoutOrigin>,
    pub overrides: RepOverrides,
    pub refused: Option<LayoutRefusal>,
    pub checked_at: Option<u32>,
    pub problem: Option<String>,
    /// The rep's profile id, read once per session.
    pub profile_id: Option<(String, String)>,
}

impl LayoutInForce {
    /// The last good layout from the store (or the built-in one) and the rep's choices.
    pub fn load(store: &mut crate::store::Store) -> LayoutInForce {
        let overrides = store
            .settings()
            .get(OVERRIDES_KEY)
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let stored = store.layouts().get(Slot::Applied).ok().flatten();
        // It passed every check when it was applied: reading it back needs no schema.
        let (doc, origin) = match stored.as_ref().map(|s| (s, serde_json::from_str::<LayoutDocument>(&s.body))) {
            Some((s, Ok(doc))) => (doc, Some(origin_of(s))),
            Some((_, Err(e))) => {
                // Written by an older version that read it differently: start from the
                // built-in layout; the next check fetches the org's again.
                tracing::warn!(%e, "the stored layout no longer reads; using the built-in one");
                (LayoutDocument::builtin(), None)
            }
            None => (LayoutDocument::builtin(), None),
        };
        let refused = store.layouts().get(Slot::Refused).ok().flatten().map(|s| LayoutRefusal {
            origin: origin_of(&s),
            problems: serde_json::from_str(&s.body).unwrap_or_default(),
            at: (s.at_ms / 1000) as u32,
        });
        LayoutInForce { doc, origin, overrides, refused, checked_at: None, problem: None, profile_id: None }
    }

    fn status(&self) -> LayoutStatus {
        LayoutStatus {
            name: self.doc.name.clone(),
            origin: self.origin.clone(),
            checked_at: self.checked_at,
            refused: self.refused.clone(),
            problem: self.problem.clone(),
            rep_settings: self.doc.rep_settings(&self.overrides),
            layouts: LayoutPreview::of(&self.doc, &self.overrides),
        }
    }
}

fn origin_of(s: &StoredLayout) -> LayoutOrigin {
    LayoutOrigin { record_id: s.record_id.clone(), target: s.target.clone(), version: s.version, modstamp: s.modstamp.clone() }
}

impl LayoutOrigin {
    /// The row kept for this record: the document (applied) or its problems (refused).
    fn stored(&self, body: String, at_ms: i64) -> StoredLayout {
        StoredLayout { record_id: self.record_id.clone(), target: self.target.clone(), version: self.version, modstamp: self.modstamp.clone(), body, at_ms }
    }
}

/// One row of the assignment query.
pub(super) struct Assigned {
    pub id: String,
    pub target: String,
    pub version: u32,
    pub modstamp: String,
    pub name: String,
}

pub(super) fn assigned(r: &Record) -> Option<Assigned> {
    Some(Assigned {
        id: r.id().to_string(),
        target: r.str("Target__c")?.to_string(),
        version: r.get("Version__c").and_then(Value::as_f64).unwrap_or(0.0) as u32,
        modstamp: r.str("SystemModstamp").unwrap_or_default().to_string(),
        name: r.str("Name").unwrap_or_default().to_string(),
    })
}

/// The object is not in the org (not deployed) or the user may not read it.
pub(super) fn object_missing(e: &SalesforceError) -> bool {
    matches!(e.api_code(), Some("INVALID_TYPE" | "NOT_FOUND"))
}

fn precedence(target: &str) -> u8 {
    match target.split(':').next() {
        Some("user") => 0,
        Some("profile") => 1,
        _ => 2,
    }
}

impl Engine {
    /// The layout in force for `kind` calls.
    pub fn layout_for(&self, kind: CallType) -> Layout {
        let state = self.lock();
        if kind == CallType::Inbound {
            return state.layout.clone();
        }
        state.layout_in_force.doc.effective(&state.layout_in_force.overrides, kind)
    }

    pub fn layout_status(&self) -> LayoutStatus {
        self.lock().layout_in_force.status()
    }

    /// The document in force, as an admin would write it.
    pub fn layout_document(&self) -> String {
        self.lock().layout_in_force.doc.to_pretty()
    }

    /// Recomputes the effective layout after the document or the rep's choices changed,
    /// and tells the front ends.
    fn layout_changed(&self, event: fn(LayoutStatus) -> Event) {
        let status = {
            let mut state = self.lock();
            let lf = &state.layout_in_force;
            let inbound = lf.doc.effective(&lf.overrides, CallType::Inbound);
            state.layout = inbound;
            state.layout_in_force.status()
        };
        self.emit(event(status));
    }

    /// The rep's own value for an unlocked on/off setting (None: back to the admin's).
    pub fn set_rep_setting(&self, setting: RepSetting, value: Option<bool>) -> Result<LayoutStatus, AppError> {
        {
            let mut state = self.lock();
            if setting.admin(&state.layout_in_force.doc.settings).locked && value.is_some() {
                return Err(AppError::new(ErrorCode::InvalidInput, "Your admin locked this setting in the layout."));
            }
            state.layout_in_force.overrides.set(setting, value);
            let json = serde_json::to_string(&state.layout_in_force.overrides).expect("overrides serialize");
            state.store.settings().put(OVERRIDES_KEY, &json)?;
        }
        self.layout_changed(|status| Event::LayoutApplied { status });
        Ok(self.layout_status())
    }

    /// Asks the org which layout is assigned to this rep and applies it when it changed
    /// and passes every check. Never loses the layout in force: an unreachable org, a
    /// missing object or a bad document leave it as it is.
    pub async fn refresh_layout(&self) -> Result<LayoutStatus, AppError> {
        let result = self.check_assigned_layout().await;
        let now = self.clock.now_secs() as u32;
        match &result {
            Ok(()) => {
                let mut state = self.lock();
                state.layout_in_force.checked_at = Some(now);
                state.layout_in_force.problem = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "layout check did not complete");
                self.lock().layout_in_force.problem = Some(e.message.clone());
            }
        }
        let status = self.layout_status();
        if result.is_err() {
            self.emit(Event::LayoutApplied { status: status.clone() });
        }
        result.map(|_| status)
    }

    /// The layout record assigned to this rep, by precedence: one query, or — the first
    /// time in a session — one Composite call that also reads the rep's profile.
    pub(super) async fn assigned_record(&self) -> Result<Option<Assigned>, AppError> {
        let conn = self.salesforce.connection().await.ok_or_else(|| AppError::from(SalesforceError::NotConnected))?;
        let user = conn.user_id.clone();
        let cached = self.lock().layout_in_force.profile_id.clone().filter(|(u, _)| *u == user).map(|(_, p)| p);
        let assignment = |profile: &str| {
            format!(
                "SELECT Id, Name, Version__c, Target__c, SystemModstamp FROM {OBJECT} WHERE Target__c IN ({}, {}, 'org')",
                soql_string(&format!("user:{user}")),
                // Inside a Composite call the profile is a reference to the first answer.
                if profile.starts_with("@{") { format!("'profile:{profile}'") } else { soql_string(&format!("profile:{profile}")) }
            )
        };
        let rows = match cached {
            Some(profile) => self.salesforce.query(&assignment(&profile), 10).await,
            None => {
                let requests = [
                    SubRequest {
                        reference_id: "me".into(),
                        method: "GET",
                        path: "query".into(),
                        query: Some(format!("SELECT ProfileId FROM User WHERE Id = {}", soql_string(&user))),
                    },
                    SubRequest { reference_id: "layouts".into(), method: "GET", path: "query".into(), query: Some(assignment("@{me.records[0].ProfileId}")) },
                ];
                let mut answers = self.salesforce.composite(&requests).await?.into_iter();
                let me = answers.next().map(SubResponse::into_result).transpose()?;
                let profile = me.as_ref().and_then(|v| v.pointer("/records/0/ProfileId")).and_then(Value::as_str).unwrap_or_default().to_string();
                self.lock().layout_in_force.profile_id = Some((user.clone(), profile));
                match answers.next() {
                    Some(a) => a.into_result().and_then(|v| {
                        serde_json::from_value::<Vec<Record>>(v.get("records").cloned().unwrap_or(Value::Array(vec![])))
                            .map_err(|e| SalesforceError::BadResponse(format!("layout query: {e}")))
                    }),
                    None => Err(SalesforceError::BadResponse("the composite answer lacks the layout query".into())),
                }
            }
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) if object_missing(&e) => {
                return Err(AppError::new(
                    ErrorCode::Salesforce,
                    format!("This org has no {OBJECT} object this user can read, so no layout can be published to you; the layout in force stays. An admin deploys it from assets/salesforce (docs/admin/layouts.md)."),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let mut found: Vec<Assigned> = rows.iter().filter_map(assigned).collect();
        found.sort_by_key(|a| precedence(&a.target));
        Ok(found.into_iter().next())
    }

    async fn check_assigned_layout(&self) -> Result<(), AppError> {
        let Some(chosen) = self.assigned_record().await? else {
            // Nothing assigned any more: back to the built-in layout.
            let had = self.lock().layout_in_force.origin.is_some();
            if had {
                {
                    let mut state = self.lock();
                    state.store.layouts().clear(Slot::Applied)?;
                    state.layout_in_force.doc = LayoutDocument::builtin();
                    state.layout_in_force.origin = None;
                }
                tracing::info!("no layout is assigned any more; the built-in layout applies");
                self.layout_changed(|status| Event::LayoutApplied { status });
            }
            return Ok(());
        };
        let origin = LayoutOrigin { record_id: chosen.id.clone(), target: chosen.target.clone(), version: chosen.version, modstamp: chosen.modstamp.clone() };
        {
            let state = self.lock();
            let lf = &state.layout_in_force;
            if lf.origin.as_ref() == Some(&origin) || lf.refused.as_ref().map(|r| &r.origin) == Some(&origin) {
                return Ok(());
            }
        }
        tracing::info!(target = %chosen.target, version = chosen.version, name = %chosen.name, "a new layout is assigned; reading it");
        let body = match self.salesforce.retrieve(OBJECT, &chosen.id, &["Body__c"]).await {
            Ok(r) => Ok(r.str("Body__c").unwrap_or_default().to_string()),
            Err(SalesforceError::BadResponse(why)) => Err(vec![LayoutProblem {
                path: String::new(),
                message: format!("the layout record could not be read: {why}"),
                fix: "publish the layout again with `ringside layout publish` or the Admin page".into(),
            }]),
            Err(e) => return Err(e.into()),
        };
        let checked = match body {
            Ok(text) => match validate::parse_str(&text) {
                Ok(doc) => match self.check_with_org(&doc, true).await? {
                    problems if problems.is_empty() => Ok((doc, text)),
                    problems => Err(problems),
                },
                Err(problems) => Err(problems),
            },
            Err(problems) => Err(problems),
        };
        let now_ms = self.clock.now_ms();
        match checked {
            Ok((doc, text)) => {
                {
                    let mut state = self.lock();
                    state.store.layouts().put(Slot::Applied, &origin.stored(text, now_ms))?;
                    state.store.layouts().clear(Slot::Refused)?;
                    state.layout_in_force.doc = doc;
                    state.layout_in_force.origin = Some(origin.clone());
                    state.layout_in_force.refused = None;
                    // An earlier refusal is over: its notice goes with it.
                    state.notices.retain(|n| n.code != NoticeCode::LayoutRefused);
                }
                tracing::info!(target = %origin.target, version = origin.version, "layout applied");
                self.layout_changed(|status| Event::LayoutApplied { status });
            }
            Err(problems) => {
                for p in &problems {
                    tracing::warn!(path = %p.path, message = %p.message, "layout refused");
                }
                let refusal = LayoutRefusal { origin: origin.clone(), problems: problems.clone(), at: (now_ms / 1000) as u32 };
                {
                    let mut state = self.lock();
                    let problems_json = serde_json::to_string(&problems).expect("problems serialize");
                    state.store.layouts().put(Slot::Refused, &origin.stored(problems_json, now_ms))?;
                    state.layout_in_force.refused = Some(refusal);
                }
                let name = self.lock().layout_in_force.doc.name.clone();
                self.add_notice(Notice::new(
                    NoticeCode::LayoutRefused,
                    format!(
                        "The layout published for you (version {}) has {} problem{} and was not applied; \u{201c}{name}\u{201d} stays in force. First: {}",
                        origin.version,
                        problems.len(),
                        if problems.len() == 1 { "" } else { "s" },
                        problems[0]
                    ),
                ));
                let status = self.layout_status();
                self.emit(Event::LayoutRefused { status });
            }
        }
        Ok(())
    }

    /// The describes the org check needs (cached per session by the client). With
    /// `current_access`, the user's access is read as it is now — the global describe and
    /// every describe not yet read, in Composite calls (one, usually) — so access taken
    /// away since sign-in is seen without spending a request per object.
    async fn check_with_org(&self, doc: &LayoutDocument, current_access: bool) -> Result<Vec<LayoutProblem>, AppError> {
        let mut described: HashMap<String, Described> = HashMap::new();
        let mut wanted: Vec<String> = validate::objects_named(doc).into_iter().collect();
        if current_access {
            // Owner.Name and CreatedBy.Name reach User from almost every object.
            wanted.push("User".into());
            let mut readable = None;
            for round in 0..3 {
                let missing: Vec<String> = wanted.drain(..).filter(|o| !described.contains_key(o) && crate::crm::escape::is_api_name(o)).collect();
                let mut requests: Vec<SubRequest> = Vec::new();
                if round == 0 {
                    requests.push(SubRequest { reference_id: "global".into(), method: "GET", path: "sobjects".into(), query: None });
                }
                let mut cached = Vec::new();
                for object in missing {
                    match self.salesforce.cached_describe(&object) {
                        Some(d) => cached.push((object, d)),
                        None => requests.push(SubRequest { reference_id: format!("d_{object}"), method: "GET", path: format!("sobjects/{object}/describe"), query: None }),
                    }
                }
                for chunk in requests.chunks(25) {
                    for answer in self.salesforce.composite(chunk).await? {
                        let reference = answer.reference_id.clone();
                        match answer.into_result() {
                            Ok(body) if reference == "global" => {
                                let names: std::collections::BTreeSet<String> = body
                                    .get("sobjects")
                                    .and_then(Value::as_array)
                                    .into_iter()
                                    .flatten()
                                    .filter(|o| o.get("queryable").and_then(Value::as_bool) == Some(true))
                                    .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_string))
                                    .collect();
                                readable = Some(names);
                            }
                            Ok(body) => {
                                let object = reference.trim_start_matches("d_").to_string();
                                let d = self.salesforce.remember_describe(&object, body);
                                described.insert(object, Described::Object(d));
                            }
                            Err(e) if object_missing(&e) || matches!(e, SalesforceError::BadResponse(_)) => {
                                described.insert(reference.trim_start_matches("d_").to_string(), Described::Unreadable);
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                for (object, d) in cached {
                    let now_readable = readable.as_ref().is_none_or(|r| r.contains(&object));
                    described.insert(object, if now_readable { Described::Object(d) } else { Described::Unreadable });
                }
                wanted = validate::parents_needed(doc, &described).into_iter().collect();
                if wanted.is_empty() {
                    break;
                }
            }
            return Ok(validate::check_against_org(doc, &described));
        }
        for _round in 0..3 {
            for object in wanted.drain(..) {
                if described.contains_key(&object) {
                    continue;
                }
                let d = match self.salesforce.describe(&object).await {
                    Ok(d) => Described::Object(d),
                    Err(e) if object_missing(&e) => Described::Unreadable,
                    Err(SalesforceError::BadResponse(_)) => Described::Unreadable,
                    Err(e) => return Err(e.into()),
                };
                described.insert(object, d);
            }
            wanted = validate::parents_needed(doc, &described).into_iter().collect();
            if wanted.is_empty() {
                break;
            }
        }
        Ok(validate::check_against_org(doc, &described))
    }

    /// Checks a document: always against the schema and the rules, and against the org
    /// when signed in.
    pub async fn validate_layout(&self, bytes: &[u8]) -> Result<LayoutCheck, AppError> {
        Ok(self.check_document(bytes).await?.0)
    }

    /// [`validate_layout`], with the document when it passed every check.
    pub(super) async fn check_document(&self, bytes: &[u8]) -> Result<(LayoutCheck, Option<LayoutDocument>), AppError> {
        let doc = match validate::parse(bytes) {
            Ok(doc) => doc,
            Err(problems) => return Ok((LayoutCheck { problems, checked_with_org: false, preview: None }, None)),
        };
        let signed_in = self.salesforce.connection().await.is_some();
        let problems = if signed_in { self.check_with_org(&doc, false).await? } else { vec![] };
        let preview = problems.is_empty().then(|| LayoutPreview::of(&doc, &self.lock().layout_in_force.overrides));
        let valid = problems.is_empty().then_some(doc);
        Ok((LayoutCheck { problems, checked_with_org: signed_in, preview }, valid))
    }

    /// Keeps the layout current while the app runs: at once, then every `interval`,
    /// and right after a sign-in. A check that fails is tried again at the next tick;
    /// the layout in force stays meanwhile.
    pub async fn follow_layout(self: Arc<Self>, interval: Duration) {
        loop {
            if self.salesforce.connection().await.is_some() {
                let _ = self.refresh_layout().await;
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = self.layout_wake.notified() => {}
            }
        }
    }

    /// The poll interval: 15 minutes, or `RINGSIDE_LAYOUT_POLL_SECS` (tests, support).
    pub fn layout_poll_interval() -> Duration {
        std::env::var("RINGSIDE_LAYOUT_POLL_SECS").ok().and_then(|s| s.parse().ok()).map(Duration::from_secs).unwrap_or(POLL_INTERVAL)
    }
}

/// A line diff of two documents (the published one and the edited one), for the
/// Admin page's review before publishing.
pub fn diff_layouts(old: &str, new: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .map(|c| DiffLine {
            kind: match c.tag() {
                similar::ChangeTag::Equal => "same",
                similar::ChangeTag::Insert => "added",
                similar::ChangeTag::Delete => "removed",
            }
            .to_string(),
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_marks_changed_lines_only() {
        let d = diff_layouts("a\nb\nc\n", "a\nB\nc\n");
        let kinds: Vec<&str> = d.iter().map(|l| l.kind.as_str()).collect();
        assert_eq!(kinds, ["same", "removed", "added", "same"]);
        assert_eq!(d[2].text, "B");
    }

    #[test]
    fn a_user_layout_wins_over_a_profile_one_which_wins_over_the_org_default() {
        let mut targets = vec!["org", "profile:00e000000000001AAA", "user:005000000000001AAA"];
        targets.sort_by_key(|t| precedence(t));
        assert_eq!(targets, ["user:005000000000001AAA", "profile:00e000000000001AAA", "org"]);
    }
}
