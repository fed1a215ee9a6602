//! The engine's Salesforce side: signing in and out, and matching a caller's number —
//! the local index answers first (`CallerMatched` with stage `local`), the live search
//! confirms (`live`), and records created minutes ago still match because the index
//! knows them before Salesforce's search index does.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{AppError, Engine, ErrorCode, Event};
use crate::crm::matching::{self, CallerDetails, CallerMatch, MatchStage, MatchedRecord};
use crate::crm::phone::{self, PhoneNumberInfo};
use crate::crm::{ApiUsage, Backoff, Connection, LoginHost, Record, Salesforce, SalesforceError};
use crate::layout::{CallType, Layout};
use crate::store::IndexSource;

/// At most one "recently modified records" sync per this interval: it costs one query
/// per searched object, and only runs when the live search found nobody.
const RECENT_SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// On the first sync, look back this far (Salesforce's search index usually catches up
/// within minutes).
const RECENT_LOOKBACK_SECS: i64 = 3_600;
const RECENT_SYNC_LIMIT: usize = 2_000;
/// Records the rep owns read into the index per object, most recently changed first.
pub const OWNED_LIMIT: usize = 2_000;
/// How long the open opportunities and cases of a record are reused.
pub const DETAILS_TTL: Duration = Duration::from_secs(600);

/// What the live search found, and whether Salesforce's row limit cut it short.
struct LiveAnswer {
    records: Vec<MatchedRecord>,
    truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceStatus {
    pub connection: Option<Connection>,
    pub api_usage: Option<ApiUsage>,
    pub login: String,
    pub client_id_set: bool,
}

impl From<SalesforceError> for AppError {
    fn from(e: SalesforceError) -> Self {
        let code = match &e {
            SalesforceError::NotConnected | SalesforceError::SignedOut { .. } | SalesforceError::SessionRejected => {
                ErrorCode::SignedOut
            }
            SalesforceError::Secrets(_) => ErrorCode::Keyring,
            e if e.is_transient() => ErrorCode::Unavailable,
            SalesforceError::LimitExceeded { .. } => ErrorCode::Unavailable,
            _ => ErrorCode::Salesforce,
        };
        AppError::new(code, e.to_string())
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `2026-11-21T08:00:00Z` for a unix time, without a date crate: civil-from-days.
fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3_600, rem % 3_600 / 60, rem % 60)
}

impl Engine {
    pub fn salesforce(&self) -> &Arc<Salesforce> {
        &self.salesforce
    }

    pub fn layout(&self) -> Layout {
        self.lock().layout.clone()
    }

    /// Puts a layout in force at once (searches, pop, the call-log form). The admin
    /// layout pull will call this with a validated document.
    pub fn apply_layout(&self, layout: Layout) {
        self.lock().layout = layout;
        tracing::info!("layout applied");
    }

    pub async fn salesforce_status(&self) -> SalesforceStatus {
        let settings = self.settings();
        SalesforceStatus {
            connection: self.salesforce.connection().await,
            api_usage: self.salesforce.api_usage(),
            login: settings.salesforce_login,
            client_id_set: !settings.salesforce_client_id.is_empty(),
        }
    }

    /// Runs the whole sign-in: `open` receives the URL to show in the browser, then
    /// this waits (up to 5 minutes) for the redirect.
    pub async fn sign_in_to_salesforce(&self, open: impl FnOnce(&str)) -> Result<Connection, AppError> {
        let settings = self.settings();
        let login = LoginHost::parse(&settings.salesforce_login)?;
        let sign_in = self
            .salesforce
            .begin_sign_in(login, &settings.salesforce_client_id, settings.salesforce_callback_port)
            .await?;
        open(&sign_in.authorize_url);
        let result = self.salesforce.finish_sign_in(sign_in).await;
        self.emit(Event::SalesforceChanged { status: self.salesforce_status().await });
        if result.is_ok() {
            // Logs that waited for a session go now, and the rep's layout is fetched.
            self.wake_outbox();
            self.layout_wake.notify_one();
        }
        Ok(result?)
    }

    pub async fn sign_out_of_salesforce(&self) -> Result<(), AppError> {
        let result = self.salesforce.sign_out().await;
        self.emit(Event::SalesforceChanged { status: self.salesforce_status().await });
        if let Err(e) = &result {
            tracing::warn!(%e, "revocation failed; signed out locally");
        }
        Ok(result?)
    }

    /// Who is calling from `input`? Emits `CallerMatched` for the local answer (when
    /// the index knows the number) and again for the final one, which it returns.
    /// Who an incoming number belongs to (the inbound layout).
    pub async fn match_number(&self, input: &str) -> Result<CallerMatch, AppError> {
        self.match_number_as(input, CallType::Inbound).await
    }

    /// Who a number belongs to, searched as `kind` calls are: a colleague's number uses
    /// the internal layout whatever `kind` says.
    pub async fn match_number_as(&self, input: &str, kind: CallType) -> Result<CallerMatch, AppError> {
        let region = self.lock().settings.default_region.clone();
        let mut layout = self.layout_for(kind);
        let colleague = matching::is_extension(input, &layout)
            || phone::normalise(input, &region).ok().is_some_and(|n| matching::is_internal(input, Some(&n), &layout));
        if colleague && kind != CallType::Internal {
            layout = self.layout_for(CallType::Internal);
        }
        if matching::is_extension(input, &layout) {
            let m = CallerMatch::new(input, None, true, MatchStage::Live, vec![], &layout, None);
            self.emit(Event::CallerMatched { caller_match: m.clone() });
            return Ok(m);
        }
        let number = phone::normalise(input, &region)?;
        if matching::is_internal(input, Some(&number), &layout) && layout.search.is_empty() {
            let m = CallerMatch::new(input, Some(number), true, MatchStage::Live, vec![], &layout, None);
            self.emit(Event::CallerMatched { caller_match: m.clone() });
            return Ok(m);
        }
        let instance = self.salesforce.connection().await.map(|c| c.instance_url);
        let local = self.local_matches(&number, &layout, instance.as_deref())?;
        if !local.is_empty() {
            let m = CallerMatch::new(input, Some(number.clone()), colleague, MatchStage::Local, local.clone(), &layout, None);
            self.emit(Event::CallerMatched { caller_match: m });
        }
        let result = match self.live_matches(&number, &layout, &region, instance.as_deref()).await {
            Ok(live) => {
                let problem = live.truncated.then(|| {
                    format!(
                        "This number is on more than {} records (a switchboard or a shared line?); only the first {} Salesforce returned were checked.",
                        matching::SEARCH_LIMIT,
                        matching::SEARCH_LIMIT
                    )
                });
                let mut records = live.records;
                // Keep local records the search could not have seen yet (created here,
                // or synced as recently modified); forget older ones it no longer finds.
                for l in local {
                    if records.iter().any(|r| r.id == l.id) {
                        continue;
                    }
                    if self.is_recent(&l) {
                        records.push(l);
                    } else {
                        let mut state = self.lock();
                        state.store.match_index().unlink(&number.e164, &l.object, &l.id)?;
                    }
                }
                if records.is_empty() {
                    records = self.sync_recent_and_lookup(&number, &layout, &region, instance.as_deref()).await;
                }
                CallerMatch::new(input, Some(number), colleague, MatchStage::Live, records, &layout, problem)
            }
            // Salesforce cannot answer now (or the rep is signed out but the index knows
            // the number): the local answer stands, with the reason.
            Err(e)
                if e.is_transient()
                    || matches!(e, SalesforceError::LimitExceeded { .. })
                    || (!local.is_empty() && matches!(e, SalesforceError::NotConnected | SalesforceError::SignedOut { .. })) =>
            {
                CallerMatch::new(input, Some(number), colleague, MatchStage::LocalOnly, local, &layout, Some(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(outcome = ?result.outcome, stage = ?result.stage, records = result.records.len(), "caller matched");
        self.emit(Event::CallerMatched { caller_match: result.clone() });
        Ok(result)
    }

    fn local_matches(&self, number: &PhoneNumberInfo, layout: &Layout, instance: Option<&str>) -> Result<Vec<MatchedRecord>, AppError> {
        let mut state = self.lock();
        let found = state.store.match_index().lookup(&number.e164)?;
        Ok(found
            .iter()
            .filter(|(r, _)| layout.priority(&r.object) != usize::MAX)
            .map(|(r, field)| matching::from_indexed(r, field.clone(), layout, instance))
            .collect())
    }

    fn is_recent(&self, record: &MatchedRecord) -> bool {
        let mut state = self.lock();
        let found = state.store.match_index().lookup_record(&record.object, &record.id).ok().flatten();
        found.is_some_and(|r| matches!(r.source, IndexSource::Created | IndexSource::Sync) && now_secs() - r.seen_at < RECENT_LOOKBACK_SECS)
    }

    async fn live_matches(
        &self,
        number: &PhoneNumberInfo,
        layout: &Layout,
        region: &str,
        instance: Option<&str>,
    ) -> Result<LiveAnswer, SalesforceError> {
        // An object the rep cannot read makes Salesforce refuse the whole search
        // (INVALID_TYPE); search the others and say which one was left out.
        let mut searched = layout.clone();
        searched.search.retain(|o| !self.lock().hidden_objects.contains(&o.object));
        loop {
            if searched.search.is_empty() {
                return Ok(LiveAnswer { records: vec![], truncated: false });
            }
            let sosl = matching::build_sosl(&searched, number);
            match Backoff::INTERACTIVE.run(|| self.salesforce.search(&sosl)).await {
                Ok(records) => {
                    let truncated = records.len() >= matching::SEARCH_LIMIT;
                    let matched = self.confirm_and_index(&records, number, &searched, region, instance, IndexSource::Search);
                    return Ok(LiveAnswer { records: matched, truncated });
                }
                Err(e) if e.api_code() == Some("INVALID_TYPE") => {
                    let Some(object) = matching::unsupported_object(&e.to_string()).filter(|o| searched.search.iter().any(|s| &s.object == o)) else {
                        return Err(e);
                    };
                    tracing::warn!(%object, "object not accessible to the rep; searching without it");
                    searched.search.retain(|o| o.object != object);
                    self.lock().hidden_objects.insert(object.clone());
                    self.add_notice(super::Notice::new(
                        super::NoticeCode::SalesforceAccess,
                        format!("Your Salesforce user cannot read {object} records, so callers are not searched among them. Ask your Salesforce admin for access if you need them."),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Keeps the records that really carry `number` and remembers them in the index.
    fn confirm_and_index(
        &self,
        records: &[Record],
        number: &PhoneNumberInfo,
        layout: &Layout,
        region: &str,
        instance: Option<&str>,
        source: IndexSource,
    ) -> Vec<MatchedRecord> {
        let now = now_secs();
        let mut matched = Vec::new();
        let mut indexed = Vec::new();
        for record in records {
            let Some(object) = layout.search.iter().find(|o| o.object == record.object()) else { continue };
            indexed.push(matching::to_indexed(record, object, region, source, now));
            if let Some(field) = matching::matching_field(record, object, number, region) {
                matched.push(matching::from_record(record, object, field, instance));
            }
        }
        if let Err(e) = self.lock().store.match_index().upsert(&indexed) {
            tracing::warn!(%e, "match index not updated");
        }
        matched
    }

    /// Reads records modified since the last sync into the index, then looks again.
    async fn sync_recent_and_lookup(
        &self,
        number: &PhoneNumberInfo,
        layout: &Layout,
        region: &str,
        instance: Option<&str>,
    ) -> Vec<MatchedRecord> {
        let due = {
            let mut state = self.lock();
            let due = state.last_recent_sync.is_none_or(|t| t.elapsed() >= RECENT_SYNC_INTERVAL);
            if due {
                state.last_recent_sync = Some(Instant::now());
            }
            due
        };
        if !due {
            return vec![];
        }
        let mut matched = Vec::new();
        for object in &layout.search {
            let since = self
                .lock()
                .store
                .match_index()
                .watermark(&object.object)
                .ok()
                .flatten()
                .filter(|w| matching::is_soql_datetime(w))
                .unwrap_or_else(|| iso8601(now_secs() - RECENT_LOOKBACK_SECS));
            let soql = matching::build_recent_soql(layout, object, &since, RECENT_SYNC_LIMIT);
            match self.salesforce.query(&soql, RECENT_SYNC_LIMIT).await {
                Ok(records) => {
                    matched.extend(self.confirm_and_index(&records, number, layout, region, instance, IndexSource::Sync));
                    if let Some(last) = records.iter().filter_map(|r| r.str("SystemModstamp")).max() {
                        let _ = self.lock().store.match_index().set_watermark(&object.object, &normalise_modstamp(last));
                    }
                }
                Err(e) => tracing::warn!(object = %object.object, %e, "recent records not synced"),
            }
        }
        matched
    }

    /// Open opportunities and cases for a record the pop shows. Two queries at most,
    /// and only for a record the rep is looking at; answers are kept for
    /// [`DETAILS_TTL`] so a repeat call costs nothing.
    pub async fn caller_details(&self, object: &str, id: &str, account_id: Option<&str>) -> Result<CallerDetails, AppError> {
        use crate::crm::escape::is_record_id;
        if !is_record_id(id) || account_id.is_some_and(|a| !is_record_id(a)) {
            return Err(AppError::new(ErrorCode::InvalidInput, "Not a Salesforce record."));
        }
        let key = (object.to_string(), id.to_string());
        if let Some((at, details)) = self.lock().details_cache.get(&key) {
            if at.elapsed() < DETAILS_TTL {
                return Ok(details.clone());
            }
        }
        let instance = self.salesforce.connection().await.map(|c| c.instance_url);
        let instance = instance.as_deref();
        let open_opportunities = match account_id {
            Some(account) => {
                let (total, records) = self.salesforce.query_first_page(&matching::open_opportunities_soql(account)).await?;
                Some(matching::related_list(total, &records, instance, |r| {
                    let stage = r.str("StageName").unwrap_or("");
                    let close = r.str("CloseDate").unwrap_or("");
                    (r.str("Name").unwrap_or("").to_string(), format!("{stage} · {close}"))
                }))
            }
            None => None,
        };
        let open_cases = match matching::open_cases_soql(object, id) {
            Some(soql) => {
                let (total, records) = self.salesforce.query_first_page(&soql).await?;
                Some(matching::related_list(total, &records, instance, |r| {
                    let title = format!("{} {}", r.str("CaseNumber").unwrap_or(""), r.str("Subject").unwrap_or(""));
                    (title.trim().to_string(), r.str("Status").unwrap_or("").to_string())
                }))
            }
            None => None,
        };
        let details = CallerDetails { object: object.to_string(), id: id.to_string(), open_opportunities, open_cases };
        self.lock().details_cache.insert(key, (Instant::now(), details.clone()));
        Ok(details)
    }

    /// The Lightning URL of a record in the signed-in org; the id and object are checked
    /// so the URL can only ever point at the org's own record pages.
    pub async fn record_url(&self, object: &str, id: &str) -> Result<String, AppError> {
        if !crate::crm::escape::is_api_name(object) || object.contains('.') || !crate::crm::escape::is_record_id(id) {
            return Err(AppError::new(ErrorCode::InvalidInput, "Not a Salesforce record."));
        }
        let instance = self.salesforce.connection().await.ok_or(SalesforceError::NotConnected)?.instance_url;
        Ok(matching::lightning_url(&instance, object, id))
    }

    /// Reads the records the rep owns into the local index, so the first call from one
    /// of them pops at once. One query per searched object (up to [`OWNED_LIMIT`] most
    /// recently changed records each); run after sign-in and at start, in the
    /// background. Returns how many records were indexed.
    pub async fn prefill_owned_records(&self) -> Result<usize, AppError> {
        let Some(connection) = self.salesforce.connection().await else { return Ok(0) };
        if !crate::crm::escape::is_record_id(&connection.user_id) {
            return Ok(0);
        }
        let (region, layout) = {
            let state = self.lock();
            (state.settings.default_region.clone(), state.layout.clone())
        };
        let now = now_secs();
        let mut total = 0;
        for object in &layout.search {
            if self.lock().hidden_objects.contains(&object.object) {
                continue;
            }
            let soql = matching::build_owned_soql(&layout, object, &connection.user_id, OWNED_LIMIT);
            let records = match self.salesforce.query(&soql, OWNED_LIMIT).await {
                Ok(records) => records,
                Err(e) if e.api_code() == Some("INVALID_TYPE") => continue,
                Err(e) => return Err(e.into()),
            };
            let indexed: Vec<_> = records
                .iter()
                .map(|r| matching::to_indexed(r, object, &region, IndexSource::Owned, now))
                .filter(|r| !r.numbers.is_empty())
                .collect();
            total += indexed.len();
            self.lock().store.match_index().upsert(&indexed)?;
        }
        tracing::info!(records = total, "owned records indexed");
        Ok(total)
    }

    /// Creates a Lead or Contact for an unknown caller and indexes it at once, so the
    /// next call from the number matches it even before Salesforce's search does.
    pub async fn create_caller_record(
        &self,
        object: &str,
        number_e164: &str,
        last_name: &str,
        company: Option<&str>,
    ) -> Result<MatchedRecord, AppError> {
        let (region, layout) = {
            let state = self.lock();
            (state.settings.default_region.clone(), state.layout.clone())
        };
        let search_object = layout
            .search
            .iter()
            .find(|o| o.object == object && matches!(o.object.as_str(), "Lead" | "Contact"))
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("Ringside creates Leads and Contacts, not \u{201c}{object}\u{201d}.")))?;
        if last_name.trim().is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "A last name is needed to create the record."));
        }
        let number = phone::normalise(number_e164, &region)?;
        let fields = matching::new_record_fields(search_object, &number, last_name.trim(), company);
        let id = self.salesforce.create(object, &fields).await?;
        let mut record_map = fields.clone();
        record_map.insert("attributes".into(), serde_json::json!({ "type": object }));
        record_map.insert("Id".into(), serde_json::Value::String(id.clone()));
        record_map.insert("Name".into(), serde_json::Value::String(last_name.trim().to_string()));
        let record = Record(record_map);
        let indexed = matching::to_indexed(&record, search_object, &region, IndexSource::Created, now_secs());
        self.lock().store.match_index().upsert(std::slice::from_ref(&indexed))?;
        let instance = self.salesforce.connection().await.map(|c| c.instance_url);
        let field = search_object.phone_fields.first().cloned().unwrap_or_default();
        tracing::info!(object, id = %id, "caller record created");
        Ok(matching::from_record(&record, search_object, field, instance.as_deref()))
    }
}

/// Salesforce writes `2026-11-21T08:00:00.000+0000`; SOQL wants `…Z` or `+00:00`.
fn normalise_modstamp(s: &str) -> String {
    match s.strip_suffix("+0000") {
        Some(head) => format!("{head}Z"),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_print_as_soql_datetimes() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_219_200), "2026-11-21T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z", "leap day");
        assert!(matching::is_soql_datetime(&iso8601(1_795_248_608)));
        assert_eq!(normalise_modstamp("2026-11-21T08:00:00.000+0000"), "2026-11-21T08:00:00.000Z");
    }
}
