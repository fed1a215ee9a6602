//! Zoom meetings against the Zoom-compatible test server (`tests/meetsrv`) and the test
//! org: connect with PKCE, create, record the Event, and after the meeting write how it
//! went onto that same Event — through expired tokens, rate limits, refusals, outages
//! and a meeting deleted at Zoom.

use ringside::app::{Engine, ErrorCode};
use ringside::calllog::RecordRef;
use ringside::meetings::{EventSync, MeetingRequest, MeetingStatus, Provider};
use ringside::settings::SettingChange;
use ringside_meetsrv::{Attendee, Config, Fault, FaultKind, RunningServer, ZoomConfig, ZOOM_CLIENT_ID};
use serde_json::Value;

use crate::salesforce::{browser, rig_with, Rig};

struct ZoomRig {
    rig: Rig,
    zoom: RunningServer,
}

async fn zoom_rig(name: &str, config: ZoomConfig, connect: bool) -> ZoomRig {
    let zoom = ringside_meetsrv::spawn(Config { zoom: config, ..Config::default() }).await;
    let rig = rig_with(&format!("zoom-{name}"), |_| {}, Engine::start).await;
    rig.engine.sign_in_to_salesforce(browser).await.expect("Salesforce sign-in");
    rig.engine.change_setting(&SettingChange::ZoomClientId(ZOOM_CLIENT_ID.into())).unwrap();
    rig.engine.change_setting(&SettingChange::ZoomOauthUrl(zoom.base_url().into())).unwrap();
    if connect {
        rig.engine.connect_meetings(Provider::Zoom, browser).await.expect("Zoom connects with PKCE");
    }
    ZoomRig { rig, zoom }
}

fn with_marie(rig: &Rig, instant: bool) -> MeetingRequest {
    let f = rig.org.fixed();
    MeetingRequest {
        provider: Provider::Zoom,
        agenda: "Quote for the Lyon site".into(),
        time_zone: "Europe/Paris".into(),
        local_start: (!instant).then(|| "2027-03-28 10:00".into()),
        duration_mins: 45,
        invitees: vec!["achats@lumiere.example.fr".into()],
        who: Some(RecordRef { object: "Contact".into(), id: f.marie_dubois.clone(), name: "Marie Dubois".into() }),
        what: Some(RecordRef { object: "Opportunity".into(), id: f.marie_opportunity.clone(), name: "Lumière renewal".into() }),
        ..MeetingRequest::default()
    }
}

fn event(rig: &Rig, id: &str) -> Value {
    rig.org.record(id).expect("the Event exists")
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
        Attendee { name: "Marie Dubois".into(), email: Some("marie.dubois@lumiere.example.fr".into()) },
        Attendee { name: "Marie Dubois".into(), email: Some("MARIE.DUBOIS@lumiere.example.fr".into()) },
        Attendee { name: "Phone user".into(), email: None },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zoom_meeting_is_created_recorded_and_written_back_once_it_was_held() {
    let ZoomRig { rig, zoom } = zoom_rig("held", ZoomConfig::default(), true).await;
    let started = rig.engine.start_meeting(&with_marie(&rig, true)).await.unwrap();
    let m = &started.meeting;
    let number: u64 = m.number.as_deref().expect("Zoom's meeting ID").parse().unwrap();
    assert!(m.join_url.starts_with(&format!("{}/j/{number}", zoom.base_url())), "{}", m.join_url);
    let open = started.open_url.expect("an instant meeting opens");
    assert!(open.contains("/s/") && open.contains("zak="), "the host's start link: {open}");
    let stored = serde_json::to_string(&rig.engine.meeting(m.id).await.unwrap()).unwrap();
    assert!(!stored.contains("zak="), "the start link carries the host's key and is never stored");

    let create = zoom.requests().into_iter().find(|r| r.method == "POST").expect("a create request");
    assert_eq!(create.raw_path, "/v2/users/me/meetings");
    assert_eq!(create.body["type"], 1, "instant");
    assert_eq!(create.body["timezone"], "Europe/Paris");
    assert_eq!(create.body["settings"]["waiting_room"], true);
    assert_eq!(create.body["settings"]["join_before_host"], false);
    assert_eq!(create.body["settings"]["meeting_invitees"][0]["email"], "achats@lumiere.example.fr");

    rig.engine.drain_outbox(false).await;
    let id = event_id(&rig.engine.meeting(m.id).await.unwrap().event);
    let planned = event(&rig, &id);
    assert_eq!(planned["Location"], m.join_url.as_str());
    assert!(planned["Description"].as_str().unwrap().contains(&format!("Meeting ID: {number}")));

    // While it runs nothing changes on the Event.
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!((report.checked, report.changed), (1, 0), "{report:?}");

    let began = chrono::Utc::now().timestamp() - 40 * 60;
    assert!(zoom.zoom_end(number, began, 37, &people(), true));
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!((report.checked, report.changed, report.failed), (1, 1, 0), "{report:?}");
    let shown = rig.engine.meeting(m.id).await.unwrap();
    assert_eq!(shown.status, MeetingStatus::Ended);
    let held = shown.held.clone().unwrap();
    assert_eq!((held.actual_start, held.actual_minutes), (began, 37));
    assert_eq!(held.attendees.len(), 3, "a participant who joined twice counts once: {:?}", held.attendees);
    assert_eq!(held.recordings, [format!("{}/rec/share/{number}", zoom.base_url())]);

    let drained = rig.engine.drain_outbox(false).await;
    assert_eq!((drained.updated, drained.requests), (1, 1), "one collection update: {drained:?}");
    let after = event(&rig, &id);
    assert_eq!(rig.org.records("Event").len(), planned_count(&rig, &m.join_url), "the same Event, updated, not a second one");
    assert_eq!(after["StartDateTime"], ringside::meetings::event::sf_datetime(began), "the actual start");
    assert_eq!(after["EndDateTime"], ringside::meetings::event::sf_datetime(began + 37 * 60));
    let description = after["Description"].as_str().unwrap();
    assert!(description.starts_with("Held: started") && description.contains("37 min, 3 attended"), "{description}");
    assert!(description.contains("- Marie Dubois <marie.dubois@lumiere.example.fr>") && description.contains("- Phone user"), "{description}");
    assert!(description.contains(&format!("Recording: {}/rec/share/{number}", zoom.base_url())), "{description}");
    assert_eq!(after["WhoId"], rig.org.fixed().marie_dubois.as_str(), "the person stays");

    // Idempotent: asking again finds nothing new and sends nothing.
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!((report.checked, report.changed), (1, 0), "{report:?}");
    assert_eq!(rig.engine.drain_outbox(true).await.requests, 0);
}

fn planned_count(rig: &Rig, location: &str) -> usize {
    let same = rig.org.records("Event").iter().filter(|e| e["Location"].as_str() == Some(location)).count();
    assert_eq!(same, 1, "exactly one Event at the meeting's address");
    rig.org.records("Event").len()
}

#[tokio::test(flavor = "multi_thread")]
async fn uuids_with_slashes_are_double_encoded_and_a_deleted_meeting_marks_its_event() {
    let ZoomRig { rig, zoom } = zoom_rig("uuids", ZoomConfig::default(), true).await;
    // The server gives every other meeting a UUID that begins with "/" and holds "//".
    let first = rig.engine.start_meeting(&with_marie(&rig, false)).await.unwrap().meeting;
    let second = rig.engine.start_meeting(&with_marie(&rig, false)).await.unwrap().meeting;
    assert!(second.meeting_id.starts_with('/') && second.meeting_id.contains("//"), "{}", second.meeting_id);
    let create = zoom.requests().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(create.body["type"], 2, "scheduled");
    assert_eq!(create.body["start_time"], "2027-03-28T08:00:00Z", "10:00 in Paris after the clocks went forward");
    rig.engine.drain_outbox(false).await;

    // Both start in 2027: the background pass looks at them once a day; "Sync now" at once.
    let first_look = rig.engine.sync_meetings(false).await;
    assert_eq!((first_look.checked, first_look.changed, first_look.failed), (2, 0, 0), "{first_look:?}");
    assert_eq!(rig.engine.sync_meetings(false).await.checked, 0, "not started, and looked at less than a day ago");
    let began = chrono::Utc::now().timestamp() - 3_600;
    assert!(zoom.zoom_end(second.number.as_deref().unwrap().parse().unwrap(), began, 20, &people()[..2], false));
    assert!(zoom.zoom_delete(first.number.as_deref().unwrap().parse().unwrap()));
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!((report.checked, report.changed, report.failed), (2, 2, 0), "{report:?}");
    let held = rig.engine.meeting(second.id).await.unwrap();
    assert_eq!(held.status, MeetingStatus::Ended, "found by its double-encoded UUID");
    let path = zoom.requests().into_iter().map(|r| r.raw_path).find(|p| p.contains("/participants")).unwrap();
    assert!(path.contains("%252F%252F"), "{path}");
    let deleted = rig.engine.meeting(first.id).await.unwrap();
    assert_eq!(deleted.status, MeetingStatus::Deleted);

    rig.engine.drain_outbox(false).await;
    let e = event(&rig, &event_id(&deleted.event));
    assert!(e["Subject"].as_str().unwrap().starts_with("Cancelled: "), "{e}");
    assert!(e["Description"].as_str().unwrap().starts_with("Cancelled: this meeting was deleted in Zoom."));
    let e2 = event(&rig, &event_id(&held.event));
    assert!(e2["Description"].as_str().unwrap().starts_with("Held: started"), "two attended: held");
    // A deleted meeting is not asked about again.
    assert_eq!(rig.engine.sync_meetings(true).await.checked, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_renewed_once_and_a_refused_refresh_signs_zoom_out() {
    let ZoomRig { rig, zoom } = zoom_rig("tokens", ZoomConfig::default(), true).await;
    let keyring_item = |rig: &Rig| rig.engine.keyring().get("meetings-zoom").unwrap().map(|s| s.expose().clone());
    let before = keyring_item(&rig).expect("the tokens are in the keyring");
    zoom.zoom_expire_tokens();
    rig.engine.start_meeting(&with_marie(&rig, true)).await.expect("renewed and retried");
    let after = keyring_item(&rig).unwrap();
    assert_ne!(before, after, "the rotated refresh token replaced the spent one");
    let refreshes = zoom.requests().iter().filter(|r| r.raw_path.starts_with("/v2/")).count();
    assert_eq!(refreshes, 2, "the refused call and its one retry");

    // Another sign-in elsewhere spent the refresh token: Zoom is signed out, clearly.
    zoom.zoom_expire_tokens();
    let (_, _) = zoom.zoom_sign_in();
    let stored: Value = serde_json::from_str(&after).unwrap();
    let refresh = stored["refresh_token"].as_str().unwrap().to_string();
    reqwest::Client::new()
        .post(format!("{}/oauth/token", zoom.base_url()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("client_id", ZOOM_CLIENT_ID)])
        .send()
        .await
        .unwrap();
    let e = rig.engine.start_meeting(&with_marie(&rig, true)).await.unwrap_err();
    assert!(e.message.contains("Zoom signed Ringside out") && e.message.contains("connect it again"), "{}", e.message);
    assert!(!e.message.contains(&refresh));
    assert_eq!(keyring_item(&rig), None, "the dead tokens are forgotten");
    assert_eq!(rig.engine.meetings(0, i64::MAX, 10).await.unwrap().len(), 1, "only the first meeting exists");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_rate_limits_and_outages_create_nothing_and_say_why() {
    let config = ZoomConfig { daily_create_limit: 1, ..ZoomConfig::default() };
    let ZoomRig { rig, zoom } = zoom_rig("refusals", config, false).await;
    let e = rig.engine.start_meeting(&with_marie(&rig, true)).await.unwrap_err();
    assert!(e.message.contains("Zoom is not connected"), "{}", e.message);
    rig.engine.connect_meetings(Provider::Zoom, browser).await.unwrap();

    let mut odd_zone = with_marie(&rig, true);
    odd_zone.time_zone = "America/Ciudad_Juarez".into();
    let e = rig.engine.start_meeting(&odd_zone).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert!(e.message.contains("Zoom refused the meeting") && e.message.contains("timezone"), "{}", e.message);

    zoom.inject(Fault::new(FaultKind::RateLimited { retry_after: Some(2) }).on("POST", "/v2/users/me/meetings"));
    let e = rig.engine.start_meeting(&with_marie(&rig, true)).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unavailable);
    assert!(e.message.contains("Zoom asks to slow down"), "{}", e.message);

    zoom.inject(Fault::new(FaultKind::HtmlGateway).on("POST", "/v2/users/me/meetings"));
    let e = rig.engine.start_meeting(&with_marie(&rig, true)).await.unwrap_err();
    assert!(e.message.contains("HTTP 502"), "{}", e.message);

    let events_before = rig.org.records("Event").len();
    rig.engine.start_meeting(&with_marie(&rig, true)).await.expect("the day's one create");
    let e = rig.engine.start_meeting(&with_marie(&rig, true)).await.unwrap_err();
    assert!(e.message.contains("daily rate limit"), "{}", e.message);
    assert_eq!(zoom.zoom_creates_today(), 1);

    assert_eq!(rig.engine.meetings(0, i64::MAX, 10).await.unwrap().len(), 1, "no meeting stored for a refused create");
    rig.engine.drain_outbox(false).await;
    assert_eq!(rig.org.records("Event").len(), events_before + 1, "and no Event without its meeting");

    // A rate limit while syncing ends the pass and is shown on the meeting.
    let only = &rig.engine.meetings(0, i64::MAX, 10).await.unwrap()[0];
    zoom.inject(Fault::new(FaultKind::RateLimited { retry_after: None }).on("GET", "/v2/past_meetings"));
    let report = rig.engine.sync_meetings(true).await;
    assert_eq!(report.failed, 1);
    assert!(report.stopped.as_deref().unwrap_or("").contains("slow down"), "{report:?}");
    let shown = rig.engine.meeting(only.id).await.unwrap();
    assert!(shown.check_problem.unwrap().contains("slow down"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_layouts_meeting_defaults_apply_and_a_locked_one_wins_over_the_request() {
    use ringside::app::layouts::PublishTarget;
    let ZoomRig { rig, zoom } = zoom_rig("layout-defaults", ZoomConfig::default(), true).await;
    let mut doc: Value = serde_json::from_str(ringside::layout::document::DEFAULT_JSON).unwrap();
    doc["settings"]["joinBeforeHost"] = serde_json::json!({ "value": true, "locked": true });
    doc["settings"]["usePmi"] = serde_json::json!({ "value": true, "locked": false });
    rig.engine.publish_layout(&serde_json::to_vec(&doc).unwrap(), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();

    // Scheduled, nothing asked: both from the layout. Asked otherwise: the locked one
    // stays the layout's, the unlocked one is the rep's.
    let mut request = with_marie(&rig, false);
    rig.engine.start_meeting(&request).await.unwrap();
    request.join_before_host = Some(false);
    request.use_pmi = Some(false);
    rig.engine.start_meeting(&request).await.unwrap();
    let creates: Vec<Value> = zoom.requests().into_iter().filter(|r| r.method == "POST" && r.raw_path.ends_with("/meetings")).map(|r| r.body).collect();
    assert_eq!(creates.len(), 2);
    assert_eq!((creates[0]["settings"]["join_before_host"].clone(), creates[0]["settings"]["use_pmi"].clone()), (Value::Bool(true), Value::Bool(true)));
    assert_eq!((creates[1]["settings"]["join_before_host"].clone(), creates[1]["settings"]["use_pmi"].clone()), (Value::Bool(true), Value::Bool(false)));
}
