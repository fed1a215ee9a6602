//! Webex meetings against the Webex-compatible test server (`tests/meetsrv`) and the
//! test org: connect with PKCE (with and without the integration's client secret),
//! create with the host's start link, record the Event, write how it went back once
//! the occurrence ended, follow `Link` paging, and say clearly why nothing was created.

use ringside::app::held_meetings::HeldChoice;
use ringside::app::{Engine, ErrorCode};
use ringside::calllog::RecordRef;
use ringside::meetings::{EventSync, MeetingRequest, MeetingStatus, Provider};
use ringside::settings::SettingChange;
use ringside_meetsrv::{Attendee, Config, Fault, FaultKind, RunningServer, WebexConfig, WEBEX_CLIENT_ID, WEBEX_CLIENT_SECRET};
use serde_json::Value;

use crate::salesforce::{browser, rig_with, Rig};

async fn webex_rig(name: &str, secret: Option<&str>) -> (Rig, RunningServer) {
    let webex = ringside_meetsrv::spawn(Config::default()).await;
    let rig = rig_with(&format!("webex-{name}"), |_| {}, Engine::start).await;
    rig.engine.sign_in_to_salesforce(browser).await.expect("Salesforce sign-in");
    rig.engine.change_setting(&SettingChange::WebexClientId(WEBEX_CLIENT_ID.into())).unwrap();
    rig.engine.change_setting(&SettingChange::WebexUrl(webex.base_url().into())).unwrap();
    if let Some(s) = secret {
        rig.engine.set_meeting_client_secret(Provider::Webex, s).unwrap();
    }
    rig.engine.connect_meetings(Provider::Webex, browser).await.expect("Webex connects");
    (rig, webex)
}

fn with_marie(rig: &Rig, local_start: Option<&str>, zone: &str) -> MeetingRequest {
    let f = rig.org.fixed();
    MeetingRequest {
        provider: Provider::Webex,
        agenda: "Quote for the Lyon site".into(),
        time_zone: zone.into(),
        local_start: local_start.map(str::to_string),
        duration_mins: 45,
        invitees: vec!["achats@lumiere.example.fr".into()],
        who: Some(RecordRef { object: "Contact".into(), id: f.marie_dubois.clone(), name: "Marie Dubois".into() }),
        what: Some(RecordRef { object: "Opportunity".into(), id: f.marie_opportunity.clone(), name: "Lumière renewal".into() }),
        ..MeetingRequest::default()
    }
}

fn event_id(e: &EventSync) -> String {
    match e {
        EventSync::Synced { event_id, .. } => event_id.clone(),
        other => panic!("the Event is not recorded: {other:?}"),
    }
}

fn people() -> Vec<Attendee> {
    vec![
        Attendee { name: "Rita Rep".into(), email: Some("rep@example.com".into()) },
        Attendee { name: "Marie Dubois".into(), email: Some("marie.dubois@lumiere.example".into()) },
        Attendee { name: "Dial-in caller".into(), email: None },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webex_meeting_is_created_recorded_and_written_back_once_its_occurrence_ended() {
    let (rig, webex) = webex_rig("held", Some(WEBEX_CLIENT_SECRET)).await;
    let token = webex.requests().into_iter().find(|r| r.raw_path == "/v1/access_token").expect("the code exchange");
    assert!(token.query.is_empty());
    let stored = rig.engine.keyring().get("meetings-webex").unwrap().expect("tokens in the keyring").expose().clone();
    assert!(stored.contains("access_token"));

    let started = rig.engine.start_meeting(&with_marie(&rig, None, "Europe/Paris")).await.unwrap();
    let m = &started.meeting;
    assert!(m.join_url.starts_with(&format!("{}/webex/m/", webex.base_url())), "{}", m.join_url);
    let open = started.open_url.expect("an instant meeting opens");
    assert!(open.contains("/webex/start/"), "the host's start link: {open}");
    let shown = serde_json::to_string(&rig.engine.meeting(m.id).await.unwrap()).unwrap();
    assert!(!shown.contains(&open), "the start link is never stored");
    assert_eq!(m.host.as_deref(), Some("rep@example.com"));
    let create = webex.requests().into_iter().find(|r| r.method == "POST" && r.raw_path == "/v1/meetings").unwrap();
    assert_eq!(create.body["timezone"], "Europe/Paris");
    assert_eq!(create.body["sendEmail"], false, "an instant meeting's invitees hear from the rep, not twice");
    assert_eq!(create.body["invitees"][0]["email"], "achats@lumiere.example.fr");

    rig.engine.drain_outbox(false).await;
    let id = event_id(&rig.engine.meeting(m.id).await.unwrap().event);
    assert_eq!(rig.org.record(&id).unwrap()["Location"], m.join_url.as_str());

    let began = chrono::Utc::now().timestamp() - 50 * 60;
    assert!(webex.webex_end(&m.meeting_id, began, 44, &people(), true));
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!((report.checked, report.changed, report.failed), (1, 1, 0), "{report:?}");
    let after = rig.engine.meeting(m.id).await.unwrap();
    assert_eq!(after.status, MeetingStatus::Ended);
    let held = after.held.unwrap();
    assert_eq!((held.actual_minutes, held.attendees.len(), held.recordings.len()), (44, 3, 1), "{held:?}");
    rig.engine.drain_outbox(false).await;
    let e = rig.org.record(&id).unwrap();
    let description = e["Description"].as_str().unwrap();
    assert!(description.starts_with("Held: started") && description.contains("44 min, 3 attended"), "{description}");
    assert!(description.contains("Recording: "), "{description}");
    assert_eq!(rig.engine.sync_meetings(true).await.changed, 0, "idempotent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_meeting_scheduled_across_a_dst_change_keeps_its_wall_clock_and_a_deleted_one_marks_its_event() {
    let (rig, webex) = webex_rig("dst", None).await;
    // New York moves its clocks on 14 March 2027; the rep is in Paris (a fortnight later).
    let scheduled = rig.engine.start_meeting(&with_marie(&rig, Some("2027-03-15 09:30"), "America/New_York")).await.unwrap();
    assert_eq!(scheduled.open_url, None, "a scheduled meeting is not opened now");
    let create = webex.requests().into_iter().find(|r| r.method == "POST" && r.raw_path == "/v1/meetings").unwrap();
    assert_eq!(create.body["start"], "2027-03-15T09:30:00-04:00", "EDT, after the change");
    assert_eq!(create.body["end"], "2027-03-15T10:15:00-04:00");
    assert_eq!(create.body["sendEmail"], true, "Webex invites to a scheduled meeting");
    let skipped = rig.engine.start_meeting(&with_marie(&rig, Some("2027-03-14 02:30"), "America/New_York")).await.unwrap_err();
    assert!(skipped.message.contains("does not exist in America/New_York"), "{}", skipped.message);
    rig.engine.drain_outbox(false).await;
    assert!(webex.webex_delete(&scheduled.meeting.meeting_id));
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!((report.checked, report.changed), (1, 1), "{report:?}");
    let m = rig.engine.meeting(scheduled.meeting.id).await.unwrap();
    assert_eq!(m.status, MeetingStatus::Deleted);
    rig.engine.drain_outbox(false).await;
    let e = rig.org.record(&event_id(&m.event)).unwrap();
    assert!(e["Subject"].as_str().unwrap().starts_with("Cancelled: "), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_and_rate_limits_create_nothing_and_a_wrong_secret_does_not_connect() {
    let (rig, webex) = webex_rig("refusals", None).await;
    let mut short = with_marie(&rig, None, "Europe/Paris");
    short.duration_mins = 5;
    let e = rig.engine.start_meeting(&short).await.unwrap_err();
    assert!(e.message.contains("at least 10 minutes"), "{}", e.message);
    let mut long_topic = with_marie(&rig, None, "Europe/Paris");
    long_topic.topic = "x".repeat(150);
    assert!(rig.engine.start_meeting(&long_topic).await.unwrap_err().message.contains("at most 128"));
    assert!(webex.requests().iter().all(|r| r.method != "POST" || r.raw_path != "/v1/meetings"), "nothing sent to Webex");

    webex.inject(Fault::new(FaultKind::RateLimited { retry_after: Some(30) }).on("POST", "/v1/meetings"));
    let e = rig.engine.start_meeting(&with_marie(&rig, None, "Europe/Paris")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unavailable);
    assert!(e.message.contains("Webex asks to slow down"), "{}", e.message);
    webex.inject(Fault::new(FaultKind::HtmlGateway).on("POST", "/v1/meetings"));
    assert!(rig.engine.start_meeting(&with_marie(&rig, None, "Europe/Paris")).await.unwrap_err().message.contains("HTTP 502"));
    assert!(rig.engine.meetings(0, i64::MAX, 10).await.unwrap().is_empty(), "no meeting stored for a refused create");

    // Expired tokens are renewed once, with Webex's refresh token kept as it is.
    webex.webex_expire_tokens();
    rig.engine.start_meeting(&with_marie(&rig, None, "Europe/Paris")).await.expect("renewed and retried");

    rig.engine.disconnect_meetings(Provider::Webex).await.unwrap();
    rig.engine.set_meeting_client_secret(Provider::Webex, "not-the-secret").unwrap();
    let e = rig.engine.connect_meetings(Provider::Webex, browser).await.unwrap_err();
    assert!(e.message.contains("Webex") && !e.message.contains("not-the-secret"), "{}", e.message);
    let e = rig.engine.set_meeting_client_secret(Provider::Webex, "two words").unwrap_err();
    assert!(e.message.contains("not a Webex client secret"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn webex_meetings_held_elsewhere_are_listed_across_link_pages_and_recorded_once() {
    let (rig, webex) = webex_rig("elsewhere", None).await;
    let now = chrono::Utc::now().timestamp();
    for i in 0..230 {
        let a = [Attendee { name: "Rita Rep".into(), email: Some("rep@example.com".into()) }];
        webex.webex_add_past(&format!("Standup {i}"), now - 86_400 - i * 600, 15, &a, "rep@example.com");
    }
    let marie = webex.webex_add_past("Lumière review", now - 3 * 3_600, 30, &people(), "rep@example.com");
    let listing = rig.engine.held_meetings(Provider::Webex, now - 7 * 86_400, now).await.unwrap();
    assert_eq!(listing.meetings.len(), 231);
    let pages = webex.requests().iter().filter(|r| r.method == "GET" && r.raw_path == "/v1/meetings").count();
    assert_eq!(pages, 3, "100 a page, followed by the Link header");
    let review = listing.meetings.iter().find(|e| e.meeting.meeting_id == marie).unwrap();
    assert_eq!(review.proposed.as_ref().map(|r| r.id.as_str()), Some(rig.org.fixed().marie_dubois.as_str()));
    assert!(review.people.iter().find(|p| p.attendee.name == "Rita Rep").unwrap().is_host);
    let choice = HeldChoice { meeting: review.meeting.clone(), who: review.proposed.clone(), what: None };
    assert_eq!(rig.engine.record_held_meetings(&[choice.clone()]).await.unwrap().len(), 1);
    assert!(rig.engine.record_held_meetings(&[choice]).await.unwrap().is_empty(), "never twice");
    rig.engine.drain_outbox(false).await;
    // The recorded occurrence is read again by its own id (late recordings), not as a series.
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!(report.failed, 0, "{report:?}");
    let m = &rig.engine.meetings(0, i64::MAX, 10).await.unwrap()[0];
    assert_eq!(m.status, MeetingStatus::Ended);
    let e: Value = rig.org.record(&event_id(&m.event)).unwrap();
    assert_eq!(e["WhoId"], rig.org.fixed().marie_dubois.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_integration_with_one_registered_redirect_uri_is_reached_on_the_fixed_callback_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let registered = format!("http://127.0.0.1:{port}/oauth/callback");
    let webex = ringside_meetsrv::spawn(Config { webex: WebexConfig { redirect_uris: vec![registered.clone()], ..WebexConfig::default() }, ..Config::default() }).await;
    let rig = rig_with("webex-port", |_| {}, Engine::start).await;
    for change in [
        SettingChange::WebexClientId(WEBEX_CLIENT_ID.into()),
        SettingChange::WebexUrl(webex.base_url().into()),
        SettingChange::MeetingsCallbackPort(port),
    ] {
        rig.engine.change_setting(&change).unwrap();
    }
    rig.engine.connect_meetings(Provider::Webex, browser).await.expect("the registered redirect URI is the one sent");
    // The server takes only the registered URI, so connecting proves it was the one sent.
    assert!(rig.engine.meeting_providers().await.iter().any(|p| p.provider == Provider::Webex && p.connected));
}
