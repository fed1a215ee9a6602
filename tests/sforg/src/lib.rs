//! A Salesforce-compatible test org for Ringside. The product talks to it exactly as it
//! talks to Salesforce — OAuth web server flow with PKCE, the REST data API (SOQL, SOSL,
//! sObjects, collections, composite, the Send Email action), the same error bodies and
//! status codes — and tests steer it through [`RunningOrg`]: inject faults, move the
//! clock, expire tokens, read and write records directly, read the emails it sent. See `README.md` in this crate for what is modelled and how.

mod access;
mod admin;
mod api;
mod clock;
mod control;
mod error;
mod faults;
mod fixture;
mod ids;
mod metadata;
mod oauth;
mod org;
mod outbox;
mod pipeline;
mod schema;
mod server;
mod soql;
mod sosl;
mod store;
mod tokens;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use access::ObjectPermissions;
pub use clock::ClockStart;
pub use control::{ControlState, RecordError, Settings, Tokens};
pub use faults::{AfterCommit, Fault, FaultKind, Trigger};
pub use fixture::FixedRecords;
pub use org::{LoggedRequest, OrgConfig, API_VERSION};
pub use outbox::SentEmail;
pub use store::ValidationRule;
pub use time::OffsetDateTime;

use org::Org;

/// A running org. Dropping it stops the server and closes its connections.
pub struct RunningOrg {
    org: Arc<Org>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

/// Starts an org on `127.0.0.1` with a free port.
pub async fn spawn(config: OrgConfig) -> RunningOrg {
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    spawn_on(config, addr).await.expect("binding 127.0.0.1:0 must work on any test machine")
}

/// Starts an org on a given address (the `sforg` binary uses a fixed port).
pub async fn spawn_on(config: OrgConfig, addr: SocketAddr) -> std::io::Result<RunningOrg> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    let org = Arc::new(Org::new(config, format!("http://{host}:{}", addr.port())));
    let task = tokio::spawn(server::run(listener, router(org.clone())));
    Ok(RunningOrg { org, addr, task })
}

/// Largest request body the org reads. Far above what a valid write can be, so an
/// oversized field value reaches validation and gets Salesforce's `STRING_TOO_LONG`
/// instead of a transport error (axum's default is 2 MB).
pub(crate) const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

fn router(org: Arc<Org>) -> Router {
    Router::new()
        .route("/services/oauth2/authorize", get(oauth::authorize_page).post(oauth::authorize_decision))
        .route("/services/oauth2/token", post(oauth::token))
        .route("/services/oauth2/revoke", post(oauth::revoke).get(oauth::revoke_get))
        .route("/services/oauth2/userinfo", get(oauth::userinfo).post(oauth::userinfo))
        .route("/id/{org_id}/{user_id}", get(oauth::identity))
        .merge(api::routes())
        .merge(admin::routes())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .layer(axum::middleware::from_fn_with_state(org.clone(), pipeline::handle))
        .with_state(org)
}

impl Drop for RunningOrg {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RunningOrg {
    /// `http://127.0.0.1:PORT`: the login URL and, after sign-in, the `instance_url`.
    pub fn base_url(&self) -> &str {
        &self.org.base_url
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT/services/data/v62.0`.
    pub fn data_url(&self) -> String {
        format!("{}/services/data/v{API_VERSION}", self.org.base_url)
    }
    pub fn org_id(&self) -> &str {
        &self.org.org_id
    }
    pub fn client_id(&self) -> &str {
        &self.org.config.client_id
    }
    /// Ids of the fixed fixture records (see the `fixture` module for what they are).
    pub fn fixed(&self) -> &FixedRecords {
        &self.org.fixed
    }
    /// Tokens for the signed-in rep without the browser flow.
    pub fn sign_in(&self) -> Tokens {
        self.org.sign_in()
    }
    pub fn inject(&self, fault: Fault) {
        self.org.inject(fault);
    }
    pub fn clear_faults(&self) {
        self.org.clear_faults();
    }
    /// Adds this much real time to every request (for benchmarks).
    pub fn set_latency(&self, latency: Duration) {
        self.org.apply(&Settings { latency_ms: Some(latency.as_millis() as u64), ..Settings::default() });
    }
    /// Holds every answer this long after the request was carried out.
    pub fn set_answer_delay(&self, delay: Duration) {
        self.org.apply(&Settings { answer_delay_ms: Some(delay.as_millis() as u64), ..Settings::default() });
    }
    pub fn expire_access_tokens(&self) {
        self.org.expire_access_tokens();
    }
    pub fn set_refresh_token_rotation(&self, on: bool) {
        self.org.apply(&Settings { rotate_refresh_tokens: Some(on), ..Settings::default() });
    }
    pub fn set_search_delay(&self, delay: Duration) {
        self.org.apply(&Settings { search_delay_secs: Some(delay.as_secs_f64()), ..Settings::default() });
    }
    pub fn set_api_limit(&self, limit: u64) {
        self.org.apply(&Settings { api_limit: Some(limit), ..Settings::default() });
    }
    pub fn set_query_batch_size(&self, n: usize) {
        self.org.apply(&Settings { query_batch_size: Some(n), ..Settings::default() });
    }
    pub fn reset_api_usage(&self) {
        self.org.reset_api_usage();
    }
    /// `(used today, daily limit)`.
    pub fn api_usage(&self) -> (u64, u64) {
        let s = self.org.control_state();
        (s.api_usage, s.api_limit)
    }
    /// Recipients the Send Email action may reach per day from now on (counted today
    /// already stay counted). Past it, an input fails with `SINGLE_EMAIL_LIMIT_EXCEEDED`.
    pub fn set_single_email_limit(&self, limit: u64) {
        self.org.apply(&Settings { single_email_limit: Some(limit), ..Settings::default() });
    }
    /// Recipients emailed today: what counts against the single-email limit (`/limits`
    /// reports `SingleEmail` as `Max` and `Remaining`).
    pub fn single_email_usage(&self) -> u64 {
        self.org.control_state().single_email_usage
    }
    pub fn single_email_limit(&self) -> u64 {
        self.org.control_state().single_email_limit
    }
    /// Every email the Send Email action sent, oldest first.
    pub fn sent_emails(&self) -> Vec<SentEmail> {
        self.org.sent_emails()
    }
    /// Forgets the sent emails (today's single-email count stays).
    pub fn clear_sent_emails(&self) {
        self.org.clear_sent_emails();
    }
    /// Moves the org's clock forward: token expiry, search delay, `TODAY`, code expiry.
    pub fn advance_clock(&self, by: Duration) {
        self.org.advance_clock(by);
    }
    pub fn now(&self) -> OffsetDateTime {
        self.org.now()
    }
    /// Hides an object from the user (`false`) or gives her full access again (`true`:
    /// read, create, edit, delete), as profile access would.
    pub fn set_object_access(&self, object: &str, accessible: bool) {
        let permissions = if accessible { ObjectPermissions::CRUD } else { ObjectPermissions::NONE };
        self.set_object_permissions(object, permissions);
    }
    /// Gives the signed-in user these permissions on an object (every object starts with
    /// `ObjectPermissions::CRUD`). `ObjectPermissions::READ_ONLY` is what the shipped
    /// `Ringside_Layout_Reader` permission set grants on `Ringside_Layout__c`; describe's
    /// `createable`/`updateable`/`deletable`/`queryable` follow, and refused writes answer
    /// `INSUFFICIENT_ACCESS_OR_READONLY`. Salesforce's dependencies apply: nothing without
    /// `read`, `delete` needs `edit`, `modify_all` implies everything.
    pub fn set_object_permissions(&self, object: &str, permissions: ObjectPermissions) {
        assert!(self.org.set_object_permissions(object, permissions), "no object named {object} in the test org");
    }
    /// Gives the signed-in user exactly what a permission set shipped in
    /// `assets/salesforce` grants on the objects it names, as if it were her only grant
    /// for them: `set_permissions_from("Ringside_Layout_Reader")` makes her a rep who reads
    /// layouts, `…("Ringside_Layout_Admin")` an admin who publishes them.
    pub fn set_permissions_from(&self, permission_set: &str) {
        assert!(
            self.org.set_permissions_from(permission_set).is_some(),
            "no permission set named {permission_set} in assets/salesforce/force-app/main/default/permissionsets"
        );
    }
    /// The id of the profile with this name ("System Administrator", "Standard User",
    /// "Sales User" are always there).
    pub fn profile_id(&self, name: &str) -> Option<String> {
        self.org.profile_id(name)
    }
    /// The signed-in rep's user id (Ada Rep, profile "Standard User").
    pub fn signed_in_user_id(&self) -> &str {
        &self.org.fixed.signed_in_user
    }
    /// Every record of an object, fields by canonical name.
    pub fn records(&self, object: &str) -> Vec<Value> {
        self.org.records(object)
    }
    pub fn record(&self, id: &str) -> Option<Value> {
        self.org.record(id)
    }
    /// Creates a record as the signed-in rep, validated like an API write (`fields` is a
    /// JSON object). The search delay applies.
    pub fn insert(&self, object: &str, fields: Value) -> Result<String, Vec<RecordError>> {
        self.org.insert_record(object, &as_map(fields))
    }
    /// Stores a record bypassing all validation, as an integration writing past the API
    /// could leave it (a 5 MB `Body__c`, a duplicate external id, a value outside a
    /// restricted picklist). Only unknown field names and `Id` are refused; system fields
    /// are filled as for any insert (owner: the signed-in rep, unless `OwnerId` is given).
    pub fn insert_unchecked(&self, object: &str, fields: Value) -> Result<String, Vec<RecordError>> {
        self.org.insert_unchecked(object, &as_map(fields))
    }
    pub fn update(&self, object: &str, id: &str, fields: Value) -> Result<(), Vec<RecordError>> {
        self.org.update_record(object, id, &as_map(fields))
    }
    pub fn delete(&self, object: &str, id: &str) -> bool {
        self.org.delete_record(object, id)
    }
    /// Converts a Lead (Account + Contact, activities moved); `(contact id, account id)`.
    pub fn convert_lead(&self, lead_id: &str) -> Option<(String, String)> {
        self.org.convert_lead(lead_id)
    }
    /// Replaces the org's validation rules.
    pub fn set_validation_rules(&self, rules: Vec<ValidationRule>) {
        self.org.set_validation_rules(rules);
    }
    /// Requests seen so far, oldest first (admin calls excluded).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.org.requests()
    }
    pub fn clear_requests(&self) {
        self.org.clear_requests();
    }
    /// Serves until the task is stopped (for the binary).
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
