//! The Salesforce connection and the caller match against the test org
//! (`tests/sforg`), which the product talks to exactly as to Salesforce.

use std::time::Duration;

use ringside::app::{Engine, EngineConfig, ErrorCode, Event};
use ringside::crm::matching::{MatchOutcome, MatchStage};
use ringside::settings::{SettingChange, SystemLocale};
use ringside_sforg::{Fault, FaultKind, OrgConfig, RunningOrg};

pub(crate) struct Rig {
    pub org: RunningOrg,
    pub engine: Engine,
    pub _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An org, and an engine configured for it (region FR, the org's consumer key, a
/// callback port the org's connected app lists).
async fn rig(name: &str, tweak: impl FnOnce(&mut OrgConfig)) -> Rig {
    rig_with(name, tweak, Engine::start).await
}

/// [`rig`] with the engine started by `start` (a manual clock, a fast retry policy).
pub(crate) async fn rig_with(name: &str, tweak: impl FnOnce(&mut OrgConfig), start: impl FnOnce(EngineConfig) -> Engine) -> Rig {
    let port = free_port();
    let mut config = OrgConfig { auto_approve: true, ..OrgConfig::default() };
    config.redirect_uris = vec![format!("http://127.0.0.1:{port}/oauth/callback")];
    tweak(&mut config);
    let org = ringside_sforg::spawn(config).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = start(EngineConfig {
        data_dir: dir.path().to_path_buf(),
        keyring_service: format!("ringside-test-sf-{name}-{}", std::process::id()),
        locale: SystemLocale::from_tag("fr_FR"),
        log_dir: None,
    });
    for change in [
        SettingChange::SalesforceLogin(org.base_url().to_string()),
        SettingChange::SalesforceClientId(org.client_id().to_string()),
        SettingChange::SalesforceCallbackPort(port),
    ] {
        engine.change_setting(&change).unwrap();
    }
    Rig { org, engine, _dir: dir }
}

/// The browser's part of the sign-in: follow the authorize URL (the org approves at
/// once and redirects to Ringside's loopback listener).
pub(crate) fn browser(url: &str) {
    let url = url.to_string();
    tokio::spawn(async move {
        let _ = reqwest::get(url).await;
    });
}

pub(crate) async fn signed_in(name: &str, tweak: impl FnOnce(&mut OrgConfig)) -> Rig {
    let rig = rig(name, tweak).await;
    rig.engine.sign_in_to_salesforce(browser).await.expect("sign-in with PKCE completes");
    rig
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_with_pkce_keeps_the_session_in_the_keyring_only() {
    let rig = rig("signin", |_| {}).await;
    let connection = rig.engine.sign_in_to_salesforce(browser).await.unwrap();
    assert_eq!(connection.instance_url, rig.org.base_url(), "instance_url comes from the token answer");
    assert_eq!(connection.org_id, rig.org.org_id());
    let saved = ringside::crm::session::Session::load(rig.engine.keyring()).unwrap().expect("session in the keyring");
    assert_eq!(saved.user_id, connection.user_id);
    let db = std::fs::read(rig._dir.path().join("ringside.db")).unwrap();
    let token = saved.access_token.expose().as_bytes();
    assert!(!db.windows(token.len()).any(|w| w == token), "the access token never reaches the database");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_is_found_whatever_way_the_number_is_written() {
    let rig = signed_in("format", |_| {}).await;
    let marie = rig.org.fixed().marie_dubois.clone();
    for typed in ["01 23 45 67 89", "+33 1 23 45 67 89", "0033123456789", "+33 (0)1 23 45 67 89"] {
        let m = rig.engine.match_number(typed).await.unwrap();
        assert_eq!(m.outcome, MatchOutcome::One, "{typed}: {:?}", m.records);
        assert_eq!(m.records[0].id, marie, "{typed}");
        assert_eq!(m.records[0].name, "Marie Dubois");
        let field = |name: &str| m.records[0].fields.iter().find(|f| f.field == name).map(|f| f.value.clone());
        assert_eq!(field("Account.Name").as_deref(), Some("Lumière SA"), "the pop shows her account");
        assert!(field("LastActivityDate").is_some(), "and her last activity (a call three days ago)");
        assert_eq!(m.records[0].time_zone.as_deref(), Some("Europe/Paris"), "her local time can be shown");
        assert!(m.records[0].url.as_deref().unwrap().ends_with(&format!("/lightning/r/Contact/{marie}/view")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_main_line_offers_every_record_in_layout_priority() {
    let rig = signed_in("many", |_| {}).await;
    let m = rig.engine.match_number("+1 415-555-1212").await.unwrap();
    assert_eq!(m.outcome, MatchOutcome::Many);
    let objects: Vec<&str> = m.records.iter().map(|r| r.object.as_str()).collect();
    assert_eq!(objects, ["Contact", "Contact", "Account"], "Contacts before Accounts, as the layout orders them");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_index_answers_first_and_a_repeat_lookup_costs_one_api_call() {
    let rig = signed_in("local", |_| {}).await;
    rig.engine.match_number("01 23 45 67 89").await.unwrap();
    let mut events = rig.engine.subscribe();
    rig.org.clear_requests();
    let m = rig.engine.match_number("01 23 45 67 89").await.unwrap();
    let stages: Vec<MatchStage> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            Event::CallerMatched { caller_match } => Some(caller_match.stage),
            _ => None,
        })
        .collect();
    assert_eq!(stages, [MatchStage::Local, MatchStage::Live], "the pop appears from the index, then is confirmed");
    assert_eq!(m.outcome, MatchOutcome::One);
    assert_eq!(rig.org.requests().len(), 1, "steady state: one search per looked-up number");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lead_created_for_an_unknown_caller_matches_at_once_and_is_never_created_twice() {
    let rig = signed_in("create", |c| c.search_delay = Duration::from_secs(600)).await;
    let unknown = "+33 6 12 34 56 78";
    let first = rig.engine.match_number(unknown).await.unwrap();
    assert_eq!(first.outcome, MatchOutcome::None);
    let e164 = first.number.as_ref().unwrap().e164.clone();
    let lead = rig.engine.create_caller_record("Lead", &e164, "Nouveau", Some("Client inconnu")).await.unwrap();
    // Salesforce's search index will not list the Lead for ten minutes; the rep calls back now.
    let again = rig.engine.match_number(unknown).await.unwrap();
    assert_eq!(again.outcome, MatchOutcome::One, "the new Lead matches on the repeat call: {again:?}");
    assert_eq!(again.records[0].id, lead.id);
    let leads = rig.org.records("Lead").into_iter().filter(|l| l["LastName"] == "Nouveau").count();
    assert_eq!(leads, 1, "no duplicate Lead");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_created_elsewhere_minutes_ago_is_found_before_the_search_index_lists_it() {
    let rig = signed_in("recent", |c| c.search_delay = Duration::from_secs(600)).await;
    let id = rig
        .org
        .insert("Contact", serde_json::json!({ "LastName": "Récent", "FirstName": "Paul", "MobilePhone": "06 98 76 54 32" }))
        .unwrap();
    let m = rig.engine.match_number("+33 6 98 76 54 32").await.unwrap();
    assert_eq!(m.outcome, MatchOutcome::One, "{m:?}");
    assert_eq!(m.records[0].id, id);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_session_is_renewed_once_and_a_rotated_refresh_token_is_kept() {
    let rig = signed_in("refresh", |c| c.rotate_refresh_tokens = true).await;
    let before = ringside::crm::session::Session::load(rig.engine.keyring()).unwrap().unwrap();
    rig.org.expire_access_tokens();
    let m = rig.engine.match_number("01 23 45 67 89").await.expect("renewed transparently");
    assert_eq!(m.outcome, MatchOutcome::One);
    let after = ringside::crm::session::Session::load(rig.engine.keyring()).unwrap().unwrap();
    assert_ne!(before.refresh_token, after.refresh_token, "the rotated refresh token replaced the old one");
    rig.org.expire_access_tokens();
    rig.engine.match_number("01 23 45 67 89").await.expect("the new refresh token works");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_grant_signs_the_rep_out_with_the_reason() {
    let rig = signed_in("revoked", |_| {}).await;
    let session = ringside::crm::session::Session::load(rig.engine.keyring()).unwrap().unwrap();
    reqwest::Client::new()
        .post(format!("{}/services/oauth2/revoke", rig.org.base_url()))
        .form(&[("token", session.refresh_token.unwrap().expose().as_str())])
        .send()
        .await
        .unwrap();
    let err = rig.engine.match_number("+49 30 9876543").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::SignedOut, "{}", err.message);
    assert!(err.message.contains("sign in again"), "{}", err.message);
    assert!(rig.engine.salesforce_status().await.connection.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_out_revokes_the_grant_and_forgets_the_tokens() {
    let rig = signed_in("signout", |_| {}).await;
    let session = ringside::crm::session::Session::load(rig.engine.keyring()).unwrap().unwrap();
    rig.engine.sign_out_of_salesforce().await.unwrap();
    assert!(ringside::crm::session::Session::load(rig.engine.keyring()).unwrap().is_none());
    let refresh = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", rig.org.base_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", rig.org.client_id()),
            ("refresh_token", session.refresh_token.unwrap().expose().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status().as_u16(), 400, "the revoked refresh token is refused by the org");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_maintenance_page_keeps_the_local_answer_and_says_why() {
    let rig = signed_in("html", |_| {}).await;
    rig.engine.match_number("01 23 45 67 89").await.unwrap();
    rig.org.inject(Fault::new(FaultKind::ServiceUnavailable).on("GET", "/services/data").times(5));
    let m = rig.engine.match_number("01 23 45 67 89").await.unwrap();
    assert_eq!(m.stage, MatchStage::LocalOnly);
    assert_eq!(m.outcome, MatchOutcome::One, "the remembered record still pops");
    assert!(m.problem.as_deref().unwrap_or("").contains("web page instead of data"), "{:?}", m.problem);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transient_error_is_retried_once_for_a_rep_who_is_waiting() {
    let rig = signed_in("lock", |_| {}).await;
    rig.org.inject(Fault::new(FaultKind::ServiceUnavailable).on("GET", "/services/data").times(1));
    let m = rig.engine.match_number("01 23 45 67 89").await.unwrap();
    assert_eq!(m.stage, MatchStage::Live, "the second try answered");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_search_term_is_searched_as_text_not_as_syntax() {
    let rig = signed_in("hostile", |_| {}).await;
    let hostile = "x} IN ALL FIELDS RETURNING User(Id, Username) LIMIT 200 //";
    let sosl = format!("FIND {{{}}} IN ALL FIELDS RETURNING Contact(Id)", ringside::crm::escape::sosl_term(hostile));
    let found = rig.engine.salesforce().search(&sosl).await.expect("an escaped term is valid SOSL");
    assert!(found.iter().all(|r| r.object() == "Contact"), "no User record can be returned: {found:?}");
    let soql = format!(
        "SELECT Id FROM Contact WHERE {}",
        ringside::crm::matching::soql_equals("LastName", "x' OR LastName != 'y")
    );
    let rows = rig.engine.salesforce().query(&soql, 10).await.expect("an escaped literal is valid SOQL");
    assert!(rows.is_empty(), "the quote stays inside the literal, so nothing matches: {rows:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_connection_the_match_says_to_sign_in() {
    let rig = rig("nosession", |_| {}).await;
    let err = rig.engine.match_number("01 23 45 67 89").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::SignedOut);
    let colleague = rig.engine.match_number("2041").await.expect("an extension needs no Salesforce");
    assert!(colleague.internal && colleague.number.is_none() && colleague.records.is_empty());
    let junk = rig.engine.match_number("😀 call me").await.unwrap_err();
    assert_eq!(junk.code, ErrorCode::InvalidNumber, "junk is refused before any request");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_org_where_leads_are_hidden_still_matches_contacts_and_says_what_was_left_out() {
    let rig = signed_in("hidden", |_| {}).await;
    rig.org.set_object_access("Lead", false);
    let m = rig.engine.match_number("+49 30 1234567").await.expect("the search goes on without Leads");
    let objects: Vec<&str> = m.records.iter().map(|r| r.object.as_str()).collect();
    assert_eq!(objects, ["Contact"], "Hans Müller the Contact; the Lead Hans Mueller cannot be read");
    let notice = rig.engine.status().notices.into_iter().find(|n| n.message.contains("cannot read Lead")).expect("a notice");
    assert!(notice.message.contains("admin"), "{}", notice.message);
    rig.org.clear_requests();
    rig.engine.match_number("01 23 45 67 89").await.unwrap();
    assert_eq!(rig.org.requests().len(), 1, "later searches leave Lead out at once, no failing request first");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_on_more_records_than_one_search_returns_is_flagged() {
    let rig = signed_in("switchboard", |c| c.fixture = false).await;
    for i in 0..210 {
        rig.org
            .insert("Contact", serde_json::json!({ "LastName": format!("Standard {i:03}"), "Phone": "+33 1 40 00 00 00" }))
            .unwrap();
    }
    let m = rig.engine.match_number("01 40 00 00 00").await.unwrap();
    assert_eq!(m.outcome, MatchOutcome::Many);
    assert!(m.problem.as_deref().unwrap_or("").contains("more than 200 records"), "{:?}", m.problem);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pop_lists_open_opportunities_and_cases_and_a_repeat_costs_nothing() {
    let rig = signed_in("details", |_| {}).await;
    let m = rig.engine.match_number("01 23 45 67 89").await.unwrap();
    let marie = &m.records[0];
    assert_eq!(marie.account_id.as_deref(), Some(rig.org.fixed().lumiere_account.as_str()));
    rig.org.clear_requests();
    let details = rig.engine.caller_details(&marie.object, &marie.id, marie.account_id.as_deref()).await.unwrap();
    let opps = details.open_opportunities.expect("a Contact with an Account has opportunities listed");
    assert!(opps.top.iter().any(|o| o.id == rig.org.fixed().marie_opportunity), "{opps:?}");
    assert!(opps.top.len() <= 3 && opps.total as usize >= opps.top.len());
    let cases = details.open_cases.expect("a Contact has cases listed");
    assert!(cases.top.iter().any(|c| c.id == rig.org.fixed().marie_case && c.detail == "Working"), "{cases:?}");
    assert_eq!(rig.org.requests().len(), 2, "two queries");
    rig.engine.caller_details(&marie.object, &marie.id, marie.account_id.as_deref()).await.unwrap();
    assert_eq!(rig.org.requests().len(), 2, "the second time comes from the cache");
    let lead = rig.engine.match_number("+81 3-1234-5678").await.unwrap();
    let kenji = rig.engine.caller_details("Lead", &lead.records[0].id, None).await.unwrap();
    assert!(kenji.open_opportunities.is_none() && kenji.open_cases.is_none(), "Leads have neither");
    let hostile = rig.engine.caller_details("Contact", "003' OR Id != '", None).await.unwrap_err();
    assert_eq!(hostile.code, ErrorCode::InvalidInput);
}

#[tokio::test(flavor = "multi_thread")]
async fn records_the_rep_owns_pop_from_the_index_on_the_very_first_call() {
    let rig = signed_in("owned", |_| {}).await;
    let indexed = rig.engine.prefill_owned_records().await.unwrap();
    assert!(indexed > 0, "Ada Rep owns records with phone numbers");
    let mut events = rig.engine.subscribe();
    let m = rig.engine.match_number("+49 30 1234567").await.unwrap();
    let first = std::iter::from_fn(|| events.try_recv().ok()).find_map(|e| match e {
        Event::CallerMatched { caller_match } => Some(caller_match.stage),
        _ => None,
    });
    assert_eq!(first, Some(MatchStage::Local), "never looked up before, yet known locally");
    assert_eq!(m.stage, MatchStage::Live);
    assert!(m.records.iter().any(|r| r.id == rig.org.fixed().hans_muller_contact));
}
