//! The Salesforce REST client: one HTTP client, the session, and the calls Ringside
//! makes (SOSL search, SOQL query with paging, describe, sObject create/read/update,
//! sObject Collections). It renews an expired session once per request, records the
//! org's API usage from `Sforce-Limit-Info`, and turns every failure into a
//! [`SalesforceError`]. Retrying later is the caller's choice ([`Backoff`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::{classify, SalesforceError};
use super::oauth::{self, LoginHost, SignIn};
use super::session::Session;
use crate::secrets::Keyring;

/// The one place the REST API version is chosen.
pub const API_VERSION: &str = "v62.0";
/// sObject Collections take at most 200 records per request.
pub const COLLECTION_LIMIT: usize = 200;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A record as Salesforce returns it: `attributes.type`, `Id` and the asked fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Record(pub Map<String, Value>);

impl Record {
    pub fn object(&self) -> &str {
        self.0.get("attributes").and_then(|a| a.get("type")).and_then(Value::as_str).unwrap_or("")
    }
    pub fn id(&self) -> &str {
        self.0.get("Id").and_then(Value::as_str).unwrap_or("")
    }
    /// A field, following dotted parent paths (`Account.Name`).
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut value = self.0.get(parts.next()?)?;
        for p in parts {
            value = value.get(p)?;
        }
        (!value.is_null()).then_some(value)
    }
    pub fn str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }
}

#[derive(Debug, Deserialize)]
struct QueryPage {
    #[serde(rename = "totalSize")]
    total_size: u64,
    done: bool,
    #[serde(rename = "nextRecordsUrl")]
    next_records_url: Option<String>,
    records: Vec<Record>,
}

#[derive(Debug, Deserialize)]
struct SearchAnswer {
    #[serde(rename = "searchRecords", default)]
    search_records: Vec<Record>,
}

/// One line of a Collections answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SaveResult {
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<super::error::ApiError>,
}

/// One result of an invocable action.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    #[serde(default)]
    pub action_name: Option<String>,
    #[serde(default)]
    pub is_success: bool,
    #[serde(default)]
    pub errors: Option<Vec<ActionError>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionError {
    #[serde(default)]
    pub status_code: Option<String>,
    #[serde(default)]
    pub message: String,
}

impl ActionResult {
    /// The errors in one sentence (`message (CODE)`, joined).
    pub fn problem(&self) -> String {
        let list: Vec<String> = self
            .errors
            .iter()
            .flatten()
            .map(|e| match &e.status_code {
                Some(code) => format!("{} ({code})", e.message),
                None => e.message.clone(),
            })
            .collect();
        if list.is_empty() {
            "Salesforce did not say why".into()
        } else {
            list.join("; ")
        }
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(status: u16, path: &str, bytes: &[u8]) -> Result<T, SalesforceError> {
    let bytes: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| {
        let looks_html = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
        if looks_html {
            classify(status, Some("text/html"), bytes)
        } else {
            SalesforceError::BadResponse(format!("{path}: {e}"))
        }
    })
}

/// One request inside a Composite call (`/composite`): all of them together count as
/// one call toward the org's API limit.
#[derive(Debug, Clone)]
pub struct SubRequest {
    pub reference_id: String,
    /// GET, POST, PATCH or DELETE.
    pub method: &'static str,
    /// Relative to `/services/data/vXX.X/` (`sobjects/Task/describe`). A query's SOQL
    /// goes in `query` so it is encoded here; `@{ref.path}` references stay literal.
    pub path: String,
    pub query: Option<String>,
}

/// One answer inside a Composite answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubResponse {
    pub reference_id: String,
    pub http_status_code: u16,
    #[serde(default)]
    pub body: Value,
}

impl SubResponse {
    /// The answer as a result: the body, or the error Salesforce gave for it.
    pub fn into_result(self) -> Result<Value, SalesforceError> {
        if (200..300).contains(&self.http_status_code) {
            Ok(self.body)
        } else {
            let bytes = serde_json::to_vec(&self.body).unwrap_or_default();
            Err(classify(self.http_status_code, Some("application/json"), &bytes))
        }
    }
}

/// Encodes SOQL for a URL query string, leaving `@{…}` references as they are.
fn encode_soql(soql: &str) -> String {
    let mut out = String::new();
    let mut rest = soql;
    while let Some(start) = rest.find("@{") {
        let end = rest[start..].find('}').map(|e| start + e + 1).unwrap_or(rest.len());
        out.push_str(&percent_encoding::utf8_percent_encode(&rest[..start], percent_encoding::NON_ALPHANUMERIC).to_string());
        out.push_str(&rest[start..end]);
        rest = &rest[end..];
    }
    out.push_str(&percent_encoding::utf8_percent_encode(rest, percent_encoding::NON_ALPHANUMERIC).to_string());
    out
}

/// The org's API usage as of the last answer (`Sforce-Limit-Info: api-usage=N/M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ApiUsage {
    pub used: u32,
    pub max: u32,
}

/// Who is signed in, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub instance_url: String,
    pub user_id: String,
    pub org_id: String,
}

pub struct Salesforce {
    http: reqwest::Client,
    keyring: Keyring,
    /// The one session; held across a refresh so concurrent requests renew it once.
    session: tokio::sync::Mutex<Option<Session>>,
    /// `used << 32 | max`, zero until the first answer.
    usage: AtomicU64,
    describes: Mutex<HashMap<String, Arc<Value>>>,
}

impl Salesforce {
    pub fn new(keyring: Keyring) -> Result<Salesforce, SalesforceError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("Ringside/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(SalesforceError::from_reqwest)?;
        let session = Session::load(&keyring).unwrap_or_else(|e| {
            tracing::warn!(%e, "saved Salesforce session unusable");
            None
        });
        Ok(Salesforce {
            http,
            keyring,
            session: tokio::sync::Mutex::new(session),
            usage: AtomicU64::new(0),
            describes: Mutex::new(HashMap::new()),
        })
    }

    pub async fn connection(&self) -> Option<Connection> {
        self.session.lock().await.as_ref().map(|s| Connection {
            instance_url: s.instance_url.clone(),
            user_id: s.user_id.clone(),
            org_id: s.org_id.clone(),
        })
    }

    pub fn api_usage(&self) -> Option<ApiUsage> {
        let packed = self.usage.load(Ordering::Relaxed);
        (packed != 0).then(|| ApiUsage { used: (packed >> 32) as u32, max: packed as u32 })
    }

    pub async fn begin_sign_in(&self, login: LoginHost, client_id: &str, port: u16) -> Result<SignIn, SalesforceError> {
        SignIn::begin(login, client_id, port).await
    }

    /// Completes a sign-in and keeps the session (in the keyring first, so a crash
    /// right after does not lose it).
    pub async fn finish_sign_in(&self, sign_in: SignIn) -> Result<Connection, SalesforceError> {
        let session = sign_in.finish(&self.http).await?;
        session.save(&self.keyring)?;
        tracing::info!(instance = %session.instance_url, user = %session.user_id, "signed in to Salesforce");
        *self.session.lock().await = Some(session);
        self.describes.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(self.connection().await.ok_or(SalesforceError::NotConnected)?)
    }

    /// Revokes the grant at Salesforce and forgets the tokens. The local sign-out
    /// happens even when Salesforce cannot be reached; the error is returned after.
    pub async fn sign_out(&self) -> Result<(), SalesforceError> {
        let session = self.session.lock().await.take();
        Session::forget(&self.keyring)?;
        let Some(session) = session else { return Ok(()) };
        let token = session.refresh_token.as_ref().unwrap_or(&session.access_token);
        oauth::revoke(&self.http, &session.login, token.expose()).await
    }

    // ---- REST calls ------------------------------------------------------------

    pub async fn search(&self, sosl: &str) -> Result<Vec<Record>, SalesforceError> {
        let answer: SearchAnswer = self.call(Method::GET, "search", &[("q", sosl)], None).await?;
        Ok(answer.search_records)
    }

    /// Runs a query and follows `nextRecordsUrl` until done or `max_records` reached.
    pub async fn query(&self, soql: &str, max_records: usize) -> Result<Vec<Record>, SalesforceError> {
        let mut page: QueryPage = self.call(Method::GET, "query", &[("q", soql)], None).await?;
        let mut records = std::mem::take(&mut page.records);
        tracing::debug!(total = page.total_size, "query");
        while !page.done && records.len() < max_records {
            let Some(next) = page.next_records_url.take() else { break };
            page = self.call_url(Method::GET, &next, &[], None).await?;
            records.append(&mut page.records);
        }
        records.truncate(max_records);
        Ok(records)
    }

    /// The first page of a query and the total number of rows it matches (Salesforce
    /// counts them all in `totalSize`, whatever the page holds).
    pub async fn query_first_page(&self, soql: &str) -> Result<(u64, Vec<Record>), SalesforceError> {
        let page: QueryPage = self.call(Method::GET, "query", &[("q", soql)], None).await?;
        Ok((page.total_size, page.records))
    }

    /// The object's describe, cached for the life of the session.
    pub async fn describe(&self, object: &str) -> Result<Arc<Value>, SalesforceError> {
        check_name(object)?;
        if let Some(d) = self.describes.lock().unwrap_or_else(|p| p.into_inner()).get(object) {
            return Ok(d.clone());
        }
        let value: Value = self.call(Method::GET, &format!("sobjects/{object}/describe"), &[], None).await?;
        let value = Arc::new(value);
        self.describes.lock().unwrap_or_else(|p| p.into_inner()).insert(object.to_string(), value.clone());
        Ok(value)
    }

    /// Several requests in one Composite call (at most 25, at most 5 queries), counted
    /// as one call toward the org's API limit. Each answer keeps its own status.
    pub async fn composite(&self, requests: &[SubRequest]) -> Result<Vec<SubResponse>, SalesforceError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            composite_response: Vec<SubResponse>,
        }
        let list: Vec<Value> = requests
            .iter()
            .map(|r| {
                let mut url = format!("/services/data/{API_VERSION}/{}", r.path);
                if let Some(q) = &r.query {
                    url.push_str("?q=");
                    url.push_str(&encode_soql(q));
                }
                serde_json::json!({ "method": r.method, "url": url, "referenceId": r.reference_id })
            })
            .collect();
        let body = serde_json::json!({ "allOrNone": false, "compositeRequest": list });
        let answer: Answer = self.call(Method::POST, "composite", &[], Some(&body)).await?;
        Ok(answer.composite_response)
    }

    /// Keeps a describe read some other way (inside a Composite call) for the session.
    pub fn remember_describe(&self, object: &str, describe: Value) -> Arc<Value> {
        let value = Arc::new(describe);
        self.describes.lock().unwrap_or_else(|p| p.into_inner()).insert(object.to_string(), value.clone());
        value
    }

    /// The describe this session already read, without asking Salesforce.
    pub fn cached_describe(&self, object: &str) -> Option<Arc<Value>> {
        self.describes.lock().unwrap_or_else(|p| p.into_inner()).get(object).cloned()
    }

    pub async fn create(&self, object: &str, fields: &Map<String, Value>) -> Result<String, SalesforceError> {
        check_name(object)?;
        let answer: SaveResult =
            self.call(Method::POST, &format!("sobjects/{object}"), &[], Some(&Value::Object(fields.clone()))).await?;
        answer.id.filter(|_| answer.success).ok_or_else(|| SalesforceError::Refused { status: 400, errors: answer.errors })
    }

    pub async fn retrieve(&self, object: &str, id: &str, fields: &[&str]) -> Result<Record, SalesforceError> {
        check_name(object)?;
        check_id(id)?;
        let list = fields.join(",");
        let query: Vec<(&str, &str)> = if fields.is_empty() { vec![] } else { vec![("fields", list.as_str())] };
        self.call(Method::GET, &format!("sobjects/{object}/{id}"), &query, None).await
    }

    /// Creates or updates the record whose external id `field` is `value` (one record
    /// per value). Returns its id and whether it was created.
    pub async fn upsert(&self, object: &str, field: &str, value: &str, fields: &Map<String, Value>) -> Result<(String, bool), SalesforceError> {
        check_name(object)?;
        check_name(field)?;
        #[derive(Deserialize)]
        struct Upserted {
            id: String,
            #[serde(default)]
            created: bool,
        }
        let key = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string();
        let answer: Upserted = self.call(Method::PATCH, &format!("sobjects/{object}/{field}/{key}"), &[], Some(&Value::Object(fields.clone()))).await?;
        Ok((answer.id, answer.created))
    }

    pub async fn update(&self, object: &str, id: &str, fields: &Map<String, Value>) -> Result<(), SalesforceError> {
        check_name(object)?;
        check_id(id)?;
        let _: Value =
            self.call(Method::PATCH, &format!("sobjects/{object}/{id}"), &[], Some(&Value::Object(fields.clone()))).await?;
        Ok(())
    }

    /// Creates up to [`COLLECTION_LIMIT`] records in one request; each record carries
    /// `attributes.type`. Results come back in the same order.
    pub async fn create_collection(&self, records: &[Map<String, Value>], all_or_none: bool) -> Result<Vec<SaveResult>, SalesforceError> {
        self.collection(Method::POST, records, all_or_none).await
    }

    pub async fn update_collection(&self, records: &[Map<String, Value>], all_or_none: bool) -> Result<Vec<SaveResult>, SalesforceError> {
        self.collection(Method::PATCH, records, all_or_none).await
    }

    async fn collection(&self, method: Method, records: &[Map<String, Value>], all_or_none: bool) -> Result<Vec<SaveResult>, SalesforceError> {
        if records.len() > COLLECTION_LIMIT {
            return Err(SalesforceError::BadResponse(format!(
                "{} records given; a collection takes at most {COLLECTION_LIMIT}",
                records.len()
            )));
        }
        let body = serde_json::json!({ "allOrNone": all_or_none, "records": records });
        self.call(method, "composite/sobjects", &[], Some(&body)).await
    }

    // ---- transport -------------------------------------------------------------

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, SalesforceError> {
        self.call_url(method, &format!("/services/data/{API_VERSION}/{path}"), query, body).await
    }

    /// `path` is relative to the instance (`/services/data/...`), as `nextRecordsUrl` is.
    async fn call_url<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, SalesforceError> {
        let (status, content_type, bytes) = self.send(method, path, query, body).await?;
        if (200..300).contains(&status) {
            return parse_json(status, path, &bytes);
        }
        Err(classify(status, content_type.as_deref(), &bytes))
    }

    /// One request with the session, renewed once when Salesforce says it expired.
    /// Answers every other status as it came (status, content type, body).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Option<String>, bytes::Bytes), SalesforceError> {
        if !path.starts_with("/services/") {
            return Err(SalesforceError::BadResponse(format!("refusing to follow {path}")));
        }
        let mut renewed = false;
        loop {
            let session = self.session.lock().await.clone().ok_or(SalesforceError::NotConnected)?;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", session.instance_url))
                .bearer_auth(session.access_token.expose())
                .header(reqwest::header::ACCEPT, "application/json");
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            let response = request.send().await.map_err(SalesforceError::from_reqwest)?;
            self.record_usage(response.headers());
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = response.bytes().await.map_err(SalesforceError::from_reqwest)?;
            if !(200..300).contains(&status) {
                let error = classify(status, content_type.as_deref(), &bytes);
                if error.api_code() == Some("INVALID_SESSION_ID") || status == 401 {
                    if renewed {
                        return Err(SalesforceError::SessionRejected);
                    }
                    self.renew(&session).await?;
                    renewed = true;
                    continue;
                }
            }
            return Ok((status, content_type, bytes));
        }
    }

    /// Runs a standard invocable action (`emailSimple`…) with one input per element.
    /// Salesforce answers one result per input — with HTTP 400 when an input failed —
    /// so both are read as results; other failures are errors.
    pub async fn invoke_standard_action(&self, action: &str, inputs: &[Value]) -> Result<Vec<ActionResult>, SalesforceError> {
        check_name(action)?;
        let path = format!("/services/data/{API_VERSION}/actions/standard/{action}");
        let body = serde_json::json!({ "inputs": inputs });
        let (status, content_type, bytes) = self.send(Method::POST, &path, &[], Some(&body)).await?;
        if (200..300).contains(&status) {
            return parse_json(status, &path, &bytes);
        }
        if status == 400 {
            if let Ok(results) = serde_json::from_slice::<Vec<ActionResult>>(&bytes) {
                if results.iter().any(|r| r.action_name.is_some()) {
                    return Ok(results);
                }
            }
        }
        Err(classify(status, content_type.as_deref(), &bytes))
    }

    /// Gets a new access token with the refresh token, unless another request already
    /// did since `stale` was read. `invalid_grant` signs the rep out.
    async fn renew(&self, stale: &Session) -> Result<(), SalesforceError> {
        let mut guard = self.session.lock().await;
        let Some(current) = guard.as_ref() else { return Err(SalesforceError::NotConnected) };
        if current.access_token != stale.access_token {
            return Ok(());
        }
        let Some(refresh) = current.refresh_token.clone() else {
            return Err(SalesforceError::SignedOut { reason: "the session expired and no refresh token was granted".into() });
        };
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose().as_str()),
            ("client_id", current.client_id.as_str()),
        ];
        match oauth::token_request(&self.http, &current.login, &params).await {
            Ok(token) => {
                let renewed = current.renewed(token);
                renewed.save(&self.keyring)?;
                tracing::info!("Salesforce session renewed");
                *guard = Some(renewed);
                Ok(())
            }
            Err(e @ SalesforceError::SignedOut { .. }) => {
                tracing::warn!(%e, "refresh token refused; signing out");
                *guard = None;
                let _ = Session::forget(&self.keyring);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn record_usage(&self, headers: &reqwest::header::HeaderMap) {
        let Some(info) = headers.get("Sforce-Limit-Info").and_then(|v| v.to_str().ok()) else { return };
        if let Some(usage) = parse_limit_info(info) {
            self.usage.store((u64::from(usage.used) << 32) | u64::from(usage.max), Ordering::Relaxed);
        }
    }
}

/// `api-usage=18/15000` (other entries may follow, comma-separated).
pub fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    let usage = value.split(',').map(str::trim).find_map(|p| p.strip_prefix("api-usage="))?;
    let (used, max) = usage.split_once('/')?;
    Some(ApiUsage { used: used.trim().parse().ok()?, max: max.trim().parse().ok()? })
}

fn check_name(name: &str) -> Result<(), SalesforceError> {
    if super::escape::is_api_name(name) && !name.contains('.') {
        Ok(())
    } else {
        Err(SalesforceError::BadResponse(format!("\u{201c}{name}\u{201d} is not an object name")))
    }
}

fn check_id(id: &str) -> Result<(), SalesforceError> {
    if super::escape::is_record_id(id) {
        Ok(())
    } else {
        Err(SalesforceError::BadResponse(format!("\u{201c}{id}\u{201d} is not a record id")))
    }
}

/// Retry with exponential backoff and full jitter, for transient failures only.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// For a rep waiting on screen: one quick second try.
    pub const INTERACTIVE: Backoff = Backoff { attempts: 2, base: Duration::from_millis(200), max: Duration::from_millis(400) };

    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1 << attempt.min(16)).min(self.max);
        Duration::from_millis(rand::random_range(0..=exp.as_millis() as u64))
    }

    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, SalesforceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SalesforceError>>,
    {
        let mut attempt = 0;
        loop {
            match op().await {
                Err(e) if e.is_transient() && attempt + 1 < self.attempts => {
                    tracing::debug!(%e, attempt, "transient Salesforce error; retrying");
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod composite_tests {
    #[test]
    fn soql_in_a_composite_url_is_encoded_but_references_stay() {
        assert_eq!(
            super::encode_soql("SELECT Id FROM X WHERE P = '@{refUser.records[0].ProfileId}'"),
            "SELECT%20Id%20FROM%20X%20WHERE%20P%20%3D%20%27@{refUser.records[0].ProfileId}%27"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info_is_read() {
        assert_eq!(parse_limit_info("api-usage=18/15000"), Some(ApiUsage { used: 18, max: 15000 }));
        assert_eq!(parse_limit_info("per-app-api-usage=2/250(appName=x), api-usage=7/100"), Some(ApiUsage { used: 7, max: 100 }));
        assert_eq!(parse_limit_info("garbage"), None);
    }

    #[test]
    fn records_follow_parent_paths() {
        let r: Record = serde_json::from_str(r#"{"attributes":{"type":"Contact"},"Id":"003000000000001AAA","Account":{"Name":"Acme"},"Title":null}"#).unwrap();
        assert_eq!(r.object(), "Contact");
        assert_eq!(r.str("Account.Name"), Some("Acme"));
        assert_eq!(r.get("Title"), None, "null is absent");
    }
}
