//! Meetings held outside Ringside: listed at the Zoom- and Webex-compatible test
//! servers for a date range, attendees matched to the test org's Contacts and Leads
//! (by email, then by name), and the picked ones recorded as Events — once.

use ringside::app::held_meetings::{HeldChoice, MatchedBy};
use ringside::app::Engine;
use ringside::meetings::{MeetingStatus, Provider};
use ringside::settings::SettingChange;
use ringside_meetsrv::{Attendee, Config, RunningServer, ZOOM_CLIENT_ID};

use crate::salesforce::{browser, rig_with, Rig};

async fn zoom_rig(name: &str) -> (Rig, RunningServer) {
    let zoom = ringside_meetsrv::spawn(Config::default()).await;
    let rig = rig_with(&format!("held-{name}"), |_| {}, Engine::start).await;
    rig.engine.sign_in_to_salesforce(browser).await.expect("Salesforce sign-in");
    rig.engine.change_setting(&SettingChange::ZoomClientId(ZOOM_CLIENT_ID.into())).unwrap();
    rig.engine.change_setting(&SettingChange::ZoomOauthUrl(zoom.base_url().into())).unwrap();
    rig.engine.connect_meetings(Provider::Zoom, browser).await.expect("Zoom connects");
    (rig, zoom)
}

fn person(name: &str, email: Option<&str>) -> Attendee {
    Attendee { name: name.into(), email: email.map(str::to_string) }
}

#[tokio::test(flavor = "multi_thread")]
async fn zoom_meetings_held_elsewhere_are_matched_by_email_then_name_and_recorded_once() {
    let (rig, zoom) = zoom_rig("zoom").await;
    let now = chrono::Utc::now().timestamp();
    let two_days_ago = now - 2 * 86_400;
    zoom.zoom_add_past(
        "Lumière quarterly review",
        two_days_ago,
        42,
        &[
            person("Rita Rep", Some("rep@example.com")),
            person("Marie Dubois", Some("MARIE.DUBOIS@LUMIERE.EXAMPLE")),
            person("Priya Nair", None),
            person("Someone Unknown", Some("who@nowhere.example")),
        ],
    );
    zoom.zoom_add_past("Kenji catch-up", now - 3 * 86_400, 15, &[person("Rita Rep", Some("rep@example.com")), person("K. W.", Some("kenji.watanabe@sakura-trading.example"))]);
    zoom.zoom_add_past("Long ago", now - 40 * 86_400, 30, &[person("Jordan Ellis", Some("jordan.ellis@acme.example"))]);

    let listing = rig.engine.held_meetings(Provider::Zoom, now - 7 * 86_400, now).await.unwrap();
    assert_eq!(listing.meetings.len(), 2, "the one 40 days ago is outside the range");
    assert_eq!(listing.salesforce_queries, 4, "addresses in one query per object, then names in one per object");
    assert_eq!(listing.match_problem, None);
    let review = listing.meetings.iter().find(|e| e.meeting.topic == "Lumière quarterly review").unwrap();
    let f = rig.org.fixed();
    let by = |name: &str| review.people.iter().find(|p| p.attendee.name == name).unwrap();
    assert!(by("Rita Rep").is_host, "the host is the signed-in Zoom user");
    assert_eq!(by("Marie Dubois").by, Some(MatchedBy::Email), "addresses match whatever their case");
    assert_eq!(by("Marie Dubois").records[0].id, f.marie_dubois);
    assert_eq!(by("Priya Nair").by, Some(MatchedBy::Name), "no address: first and last name");
    assert_eq!(by("Someone Unknown").by, None);
    assert_eq!(review.proposed.as_ref().map(|r| r.id.as_str()), Some(f.marie_dubois.as_str()), "by email before by name");
    let kenji = listing.meetings.iter().find(|e| e.meeting.topic == "Kenji catch-up").unwrap();
    assert_eq!(kenji.proposed.as_ref().map(|r| r.object.as_str()), Some("Lead"), "Leads are matched too");

    let choices: Vec<HeldChoice> =
        listing.meetings.iter().map(|e| HeldChoice { meeting: e.meeting.clone(), who: e.proposed.clone(), what: None }).collect();
    let stored = rig.engine.record_held_meetings(&choices).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|m| m.imported && m.status == MeetingStatus::Ended));
    rig.engine.drain_outbox(false).await;
    let review_row = stored.iter().find(|m| m.topic == "Lumière quarterly review").unwrap();
    let event_id = match &rig.engine.meeting(review_row.id).await.unwrap().event {
        ringside::meetings::EventSync::Synced { event_id, .. } => event_id.clone(),
        other => panic!("not recorded: {other:?}"),
    };
    let event = rig.org.record(&event_id).unwrap();
    assert_eq!(event["WhoId"], f.marie_dubois.as_str());
    assert_eq!(event["StartDateTime"], ringside::meetings::event::sf_datetime(two_days_ago));
    let description = event["Description"].as_str().unwrap();
    assert!(description.starts_with("Held: started") && description.contains("42 min, 4 attended"), "{description}");

    // Picked again (or listed again): never a second Event.
    let events_before = rig.org.records("Event").len();
    assert!(rig.engine.record_held_meetings(&choices).await.unwrap().is_empty());
    let again = rig.engine.held_meetings(Provider::Zoom, now - 7 * 86_400, now).await.unwrap();
    assert!(again.meetings.iter().all(|e| e.recorded.is_some()), "both are shown as recorded");
    rig.engine.drain_outbox(true).await;
    assert_eq!(rig.org.records("Event").len(), events_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_range_with_too_many_meetings_asks_for_a_narrower_one_and_bad_ranges_are_refused() {
    let (rig, zoom) = zoom_rig("cap").await;
    let now = chrono::Utc::now().timestamp();
    for i in 0..2_701 {
        zoom.zoom_add_past(&format!("Standup {i}"), now - 86_400 - i * 60, 10, &[]);
    }
    let e = rig.engine.held_meetings(Provider::Zoom, now - 5 * 86_400, now).await.unwrap_err();
    assert!(e.message.contains("more than 2,700 meetings") && e.message.contains("narrower range"), "{}", e.message);
    let calls = zoom.requests().iter().filter(|r| r.raw_path.contains("/participants")).count();
    assert_eq!(calls, 0, "no attendee is asked about before the listing fits");
    let e = rig.engine.held_meetings(Provider::Zoom, now, now - 1).await.unwrap_err();
    assert!(e.message.contains("ends before it starts"), "{}", e.message);
    let e = rig.engine.held_meetings(Provider::Jitsi, now - 86_400, now).await.unwrap_err();
    assert!(e.message.contains("Jitsi Meet keeps no list"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_count_the_recorded_meetings_and_the_call_logs_and_write_csv() {
    use ringside::app::reports::{ReportKind, ReportStatus};
    use ringside::calllog::{CallLogInput, CallType};
    let (rig, zoom) = zoom_rig("reports").await;
    let now = chrono::Utc::now().timestamp();
    let guests = [person("Rita Rep", Some("rep@example.com")), person("Marie Dubois", Some("marie.dubois@lumiere.example"))];
    zoom.zoom_add_past("Held one", now - 86_400, 30, &guests);
    zoom.zoom_add_past("Nobody came", now - 2 * 86_400, 5, &guests[..1]);
    let listing = rig.engine.held_meetings(Provider::Zoom, now - 7 * 86_400, now).await.unwrap();
    let choices: Vec<HeldChoice> = listing.meetings.iter().map(|e| HeldChoice { meeting: e.meeting.clone(), who: e.proposed.clone(), what: None }).collect();
    rig.engine.record_held_meetings(&choices).await.unwrap();
    for (disposition, secs) in [(Some("Connected"), 95), (Some("Connected"), 30), (Some("=Left voicemail"), 20), (None, 0)] {
        let log = CallLogInput {
            number: "01 23 45 67 89".into(),
            call_type: CallType::Outbound,
            started_at: now - 3_600,
            duration_secs: secs,
            subject: String::new(),
            notes: String::new(),
            disposition: disposition.map(str::to_string),
            who: None,
            what: None,
            custom: Default::default(),
        };
        rig.engine.save_call_log(None, &log, false).unwrap();
    }

    let report = rig.engine.report(now - 7 * 86_400, now + 60).unwrap();
    let count = |s| report.meetings_by_status.iter().find(|c| c.status == s).map_or(0, |c| c.count);
    assert_eq!((count(ReportStatus::Held), count(ReportStatus::NotHeld), report.meetings), (1, 1, 2), "{report:?}");
    assert_eq!(report.meetings_by_host[0].host.as_deref(), Some("rep@example.com"));
    assert_eq!((report.calls, report.talk_secs), (4, 145));
    assert_eq!(report.calls_by_disposition[0].disposition, "Connected");
    assert_eq!((report.calls_by_disposition[0].calls, report.calls_by_disposition[0].talk_secs), (2, 125));

    let dir = tempfile::tempdir().unwrap();
    let path = rig.engine.save_report_csv(now - 7 * 86_400, now + 60, ReportKind::CallsByDisposition, Some(dir.path())).unwrap();
    let csv = std::fs::read_to_string(&path).unwrap();
    assert!(csv.starts_with("disposition,calls,talk_seconds\r\nConnected,2,125\r\n"), "{csv}");
    assert!(csv.contains("'=Left voicemail,1,20\r\n") && csv.contains("(none),1,0\r\n"), "a formula is defused: {csv}");
    assert!(path.file_name().unwrap().to_string_lossy().starts_with("ringside-calls-by-disposition-"));
    assert!(rig.engine.report(now, now - 1).unwrap_err().message.contains("ends before it starts"));
}
