//! The org: its configuration and the one piece of mutable state every request and the
//! test handle share — records, tokens, faults, API usage, sent emails, settings, query
//! cursors, request log — behind a single mutex, so nobody ever sees half an update.
//! Locks are held briefly and never across an await.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::access::ObjectPermissions;
use crate::clock::{Clock, ClockStart};
use crate::faults::FaultBook;
use crate::fixture::{self, FixedRecords};
use crate::outbox::Outbox;
use crate::store::{Store, WriteCtx};
use crate::tokens::TokenBook;

/// API versions this org serves, oldest first, with their release names.
pub(crate) const VERSIONS: &[(&str, &str)] = &[
    ("58.0", "Summer '23"),
    ("59.0", "Winter '24"),
    ("60.0", "Spring '24"),
    ("61.0", "Summer '24"),
    ("62.0", "Winter '25"),
];
/// The version the handle's helpers and the docs use.
pub const API_VERSION: &str = "62.0";

/// How the org behaves. `OrgConfig::default()` is a seeded org with the fixture, a real
/// consent page, no search delay and Salesforce's default limits.
#[derive(Debug, Clone)]
pub struct OrgConfig {
    /// Seeds the fixture, tokens and probabilistic faults.
    pub seed: u64,
    /// Load the ~3,000 fixture records (users are always there).
    pub fixture: bool,
    /// Skip the consent page: `GET /services/oauth2/authorize` redirects at once.
    pub auto_approve: bool,
    /// The connected app's consumer key.
    pub client_id: String,
    /// The connected app's consumer secret: signs token responses; clients may omit it.
    pub client_secret: String,
    /// Callback URLs of the connected app; `redirect_uri` must equal one exactly.
    pub redirect_uris: Vec<String>,
    /// Refuse authorization requests without a PKCE `code_challenge`.
    pub require_pkce: bool,
    /// Session timeout: access tokens die this long after issue (Salesforce's default is 2 h).
    pub access_token_ttl: Duration,
    /// Issue a new refresh token on every refresh and invalidate the old one.
    pub rotate_refresh_tokens: bool,
    /// Records written less than this long ago are not found by SOSL.
    pub search_delay: Duration,
    /// Daily API requests allowed (`Sforce-Limit-Info: api-usage=N/limit`).
    pub api_limit: u64,
    /// Recipients the Send Email action may reach per day (Salesforce: 5,000).
    pub single_email_limit: u64,
    /// Records per query batch before `nextRecordsUrl` (Salesforce: 2,000).
    pub query_batch_size: usize,
    pub clock: ClockStart,
    /// Added to every request (benchmarks).
    pub latency: Duration,
}

impl Default for OrgConfig {
    fn default() -> Self {
        OrgConfig {
            seed: 42,
            fixture: true,
            auto_approve: false,
            client_id: "3MVG9RingsideSandboxConsumerKey".into(),
            client_secret: "RingsideSandboxConsumerSecret".into(),
            redirect_uris: vec!["http://localhost:8765/oauth/callback".into(), "http://127.0.0.1:8765/oauth/callback".into()],
            require_pkce: true,
            access_token_ttl: Duration::from_secs(2 * 60 * 60),
            rotate_refresh_tokens: false,
            search_delay: Duration::ZERO,
            api_limit: 15_000,
            single_email_limit: crate::outbox::DEFAULT_SINGLE_EMAIL_LIMIT,
            query_batch_size: 2000,
            clock: ClockStart::System,
            latency: Duration::ZERO,
        }
    }
}

/// One request as the org saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query string.
    pub uri: String,
    /// `None` when the connection was reset instead of answered.
    pub status: Option<u16>,
    /// For a composite request (`POST …/composite`): the subrequests it carried out, in
    /// order, with their URLs after references were filled in and their own status.
    /// Subrequests that never ran (refused for a reference, halted by `allOrNone`, past a
    /// limit) are not here. Empty for every other request. The log itself holds one entry
    /// per HTTP request, so a composite counts once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subrequests: Vec<LoggedRequest>,
}

#[derive(Debug)]
pub(crate) struct Usage {
    pub count: u64,
    pub limit: u64,
    day: Date,
}

impl Usage {
    /// Counts one request against today's allowance; `Err` when it is used up.
    pub(crate) fn charge(&mut self, now: OffsetDateTime) -> Result<(), ()> {
        self.roll(now);
        if self.count >= self.limit {
            return Err(());
        }
        self.count += 1;
        Ok(())
    }
    pub(crate) fn roll(&mut self, now: OffsetDateTime) {
        if now.date() != self.day {
            self.day = now.date();
            self.count = 0;
        }
    }
    pub(crate) fn header(&self) -> String {
        format!("api-usage={}/{}", self.count, self.limit)
    }
}

/// A query's remaining rows, kept until fetched or expired.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub records: Vec<Value>,
    pub total_size: usize,
    pub expires_at: OffsetDateTime,
}

pub(crate) struct OrgState {
    pub clock: Clock,
    pub store: Store,
    pub tokens: TokenBook,
    pub faults: FaultBook,
    pub usage: Usage,
    /// Emails sent and the daily single-email allowance.
    pub outbox: Outbox,
    pub rng: ChaCha8Rng,
    pub search_delay: Duration,
    pub latency: Duration,
    /// Held between carrying out a request and answering it: the window in which a
    /// client that dies has written without knowing it.
    pub answer_delay: Duration,
    pub query_batch_size: usize,
    /// Objects whose permissions differ from the default (`ObjectPermissions::CRUD`).
    pub object_permissions: HashMap<&'static str, ObjectPermissions>,
    pub cursors: HashMap<String, Cursor>,
    pub log: Vec<LoggedRequest>,
}

impl OrgState {
    pub(crate) fn write_ctx(&self, user_id: &str) -> WriteCtx {
        WriteCtx { now: self.clock.now(), user_id: user_id.to_string(), search_delay: self.search_delay }
    }
}

/// Everything the server shares between requests.
pub(crate) struct Org {
    state: Mutex<OrgState>,
    pub config: OrgConfig,
    pub base_url: String,
    pub org_id: String,
    pub fixed: FixedRecords,
}

impl Org {
    pub(crate) fn new(config: OrgConfig, base_url: String) -> Org {
        let clock = Clock::new(config.clock);
        let mut store = Store::default();
        let org_id = store.ids.next("00D");
        let fixed = fixture::seed(&mut store, config.seed, config.fixture, clock.now());
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        let fault_rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(1));
        let now = clock.now();
        let state = OrgState {
            tokens: TokenBook::new(&org_id, config.access_token_ttl, config.rotate_refresh_tokens),
            faults: FaultBook::new(fault_rng),
            usage: Usage { count: 0, limit: config.api_limit, day: now.date() },
            outbox: Outbox::new(config.single_email_limit, now),
            rng,
            search_delay: config.search_delay,
            latency: config.latency,
            answer_delay: Duration::ZERO,
            query_batch_size: config.query_batch_size,
            object_permissions: HashMap::new(),
            cursors: HashMap::new(),
            log: Vec::new(),
            clock,
            store,
        };
        Org { state: Mutex::new(state), config, base_url, org_id, fixed }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, OrgState> {
        // A panic elsewhere must not take the whole test org down with it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn identity_url(&self, user_id: &str) -> String {
        format!("{}/id/{}/{}", self.base_url, self.org_id, user_id)
    }
}
