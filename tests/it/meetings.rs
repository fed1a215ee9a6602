//! Meetings against the test org: a meeting with a person becomes exactly one Event on
//! them, through lost answers, refusals and time offline; a request that breaks a rule
//! creates nothing anywhere.

use std::sync::Arc;

use ringside::app::{Engine, EngineConfig, ErrorCode};
use ringside::calllog::outbox::RetryPolicy;
use ringside::calllog::RecordRef;
use ringside::clock::ManualClock;
use ringside::meetings::{EventSync, MeetingRequest};
use ringside::settings::SettingChange;
use ringside_sforg::{AfterCommit, Fault, FaultKind, ValidationRule};
use serde_json::Value;

use crate::salesforce::{browser, rig_with, Rig};

const START_MS: i64 = 1_795_000_000_000;
const COLLECTIONS: &str = "/services/data/v62.0/composite/sobjects";

async fn rig(name: &str, sign_in: bool) -> (Rig, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START_MS));
    let c = clock.clone();
    let rig = rig_with(name, |_| {}, move |config: EngineConfig| Engine::start_with(config, c, RetryPolicy::default())).await;
    if sign_in {
        rig.engine.sign_in_to_salesforce(browser).await.expect("sign-in completes");
    }
    (rig, clock)
}

fn with_marie(rig: &Rig) -> MeetingRequest {
    let f = rig.org.fixed();
    MeetingRequest {
        agenda: "Quote for the Lyon site".into(),
        duration_mins: 45,
        time_zone: "Europe/Paris".into(),
        invitees: vec!["achats@lumiere.example.fr".into()],
        who: Some(RecordRef { object: "Contact".into(), id: f.marie_dubois.clone(), name: "Marie Dubois".into() }),
        what: Some(RecordRef { object: "Opportunity".into(), id: f.marie_opportunity.clone(), name: "Lumière renewal".into() }),
        ..MeetingRequest::default()
    }
}

fn events_at(rig: &Rig, location: &str) -> Vec<Value> {
    rig.org.records("Event").into_iter().filter(|e| e.get("Location").and_then(Value::as_str) == Some(location)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instant_jitsi_meeting_becomes_one_event_on_the_contact_and_its_opportunity() {
    let (rig, _clock) = rig("meet-one", true).await;
    let started = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap();
    let m = &started.meeting;
    assert!(m.join_url.starts_with("https://meet.jit.si/MeetingWithMarieDubois-"), "{}", m.join_url);
    assert_eq!(started.open_url.as_deref(), Some(m.join_url.as_str()), "Jitsi's host opens the room itself");
    assert!(matches!(m.event, EventSync::Pending { reason: None, .. }), "stored first, sent by the outbox: {:?}", m.event);

    let report = rig.engine.drain_outbox(false).await;
    assert_eq!((report.events, report.requests), (1, 1), "{report:?}");
    let events = events_at(&rig, &m.join_url);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["Subject"], "Meeting with Marie Dubois");
    assert_eq!(e["WhoId"], rig.org.fixed().marie_dubois.as_str());
    assert_eq!(e["WhatId"], rig.org.fixed().marie_opportunity.as_str());
    assert_eq!(e["StartDateTime"], "2026-11-18T11:06:40.000+0000", "the engine's clock, in UTC");
    assert_eq!(e["EndDateTime"], "2026-11-18T11:51:40.000+0000", "45 minutes later");
    let description = e["Description"].as_str().unwrap();
    assert!(description.contains(&format!("Join: {}", m.join_url)) && description.contains("Quote for the Lyon site"), "{description}");
    assert!(description.contains("achats@lumiere.example.fr"), "{description}");

    let shown = rig.engine.meeting(m.id).await.unwrap();
    match shown.event {
        EventSync::Synced { event_id, url } => {
            assert_eq!(event_id, e["Id"].as_str().unwrap());
            assert_eq!(url.unwrap(), format!("{}/lightning/r/Event/{event_id}/view", rig.org.base_url()));
        }
        other => panic!("{other:?}"),
    }
    let again = rig.engine.drain_outbox(false).await;
    assert_eq!(again.requests, 0, "nothing left to send: {again:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_is_found_again_and_never_makes_a_second_event() {
    for after in [AfterCommit::ConnectionReset, AfterCommit::UnknownException] {
        let (rig, clock) = rig("meet-lost", true).await;
        rig.org.inject(Fault::new(FaultKind::CommitThenFail { after }).on("POST", COLLECTIONS));
        let m = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap().meeting;
        let first = rig.engine.drain_outbox(false).await;
        assert_eq!((first.events, first.retrying), (0, 1), "the answer was lost: {first:?}");
        assert_eq!(events_at(&rig, &m.join_url).len(), 1, "but the Event was written");
        clock.advance(60_000);
        let second = rig.engine.drain_outbox(false).await;
        assert_eq!(second.adopted, 1, "{second:?}");
        assert_eq!(events_at(&rig, &m.join_url).len(), 1, "found by its Location, not inserted again ({after:?})");
        assert!(matches!(rig.engine.meeting(m.id).await.unwrap().event, EventSync::Synced { .. }));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_breaks_a_rule_creates_nothing_anywhere() {
    let (rig, _clock) = rig("meet-bad", true).await;
    let cases: Vec<(&str, Box<dyn Fn(&mut MeetingRequest)>)> = vec![
        ("not an email address", Box::new(|r| r.invitees.push("achats@lumiere".into()))),
        ("in the past", Box::new(|r| r.start_at = Some(START_MS / 1_000 - 3_600))),
        ("1 minute to 24 hours", Box::new(|r| r.duration_mins = 10 * 24 * 60)),
        ("not a time zone", Box::new(|r| r.time_zone = "Europe/Lyon".into())),
        ("cannot be the meeting's who", Box::new(|r| r.who = Some(RecordRef { object: "User".into(), id: "005000000000001AAA".into(), name: "x".into() }))),
    ];
    rig.org.clear_requests();
    for (expected, change) in cases {
        let mut request = with_marie(&rig);
        change(&mut request);
        let e = rig.engine.start_meeting(&request).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains(expected), "{expected}: {}", e.message);
    }
    assert!(rig.engine.meetings(0, i64::MAX, 100).await.unwrap().is_empty());
    rig.engine.drain_outbox(false).await;
    assert!(rig.org.records("Event").iter().all(|e| e.get("Location").and_then(Value::as_str).is_none_or(|l| !l.contains("jit.si"))));
    assert!(rig.org.requests().iter().all(|r| !r.uri.contains("composite")), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_meeting_started_offline_records_its_event_after_sign_in() {
    let (rig, _clock) = rig("meet-offline", false).await;
    let m = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap().meeting;
    let report = rig.engine.drain_outbox(false).await;
    assert_eq!(report.retrying, 1, "{report:?}");
    match rig.engine.meeting(m.id).await.unwrap().event {
        EventSync::Pending { reason: Some(e), .. } => assert!(e.contains("Salesforce"), "{e}"),
        other => panic!("{other:?}"),
    }
    rig.engine.sign_in_to_salesforce(browser).await.unwrap();
    rig.engine.wake_outbox();
    let after = rig.engine.drain_outbox(false).await;
    assert_eq!(after.events, 1, "{after:?}");
    assert_eq!(events_at(&rig, &m.join_url).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_the_org_refuses_waits_for_the_rep_and_retry_sends_it() {
    let (rig, _clock) = rig("meet-refused", true).await;
    rig.org.set_validation_rules(vec![ValidationRule {
        object: "Event".into(),
        field: "Subject".into(),
        contains: "embargo".into(),
        message: "No meetings during the embargo".into(),
    }]);
    let mut request = with_marie(&rig);
    request.topic = "Embargo briefing".into();
    let m = rig.engine.start_meeting(&request).await.unwrap().meeting;
    let report = rig.engine.drain_outbox(false).await;
    assert_eq!(report.parked, 1, "{report:?}");
    match rig.engine.meeting(m.id).await.unwrap().event {
        EventSync::Attention { reason } => assert!(reason.contains("No meetings during the embargo"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(rig.engine.drain_outbox(true).await.requests, 0, "a refused Event is not sent again by itself");
    rig.org.set_validation_rules(vec![]);
    rig.engine.retry_meeting_event(m.id).unwrap();
    assert_eq!(rig.engine.drain_outbox(false).await.events, 1);
    assert_eq!(events_at(&rig, &m.join_url).len(), 1);
    let e = rig.engine.retry_meeting_event(m.id).unwrap_err();
    assert!(e.message.contains("already"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_jitsi_server_is_a_setting_and_must_be_https() {
    let (rig, _clock) = rig("meet-server", false).await;
    let e = rig.engine.change_setting(&SettingChange::JitsiServer("http://meet.example.com".into())).unwrap_err();
    assert!(e.message.contains("https"), "{}", e.message);
    rig.engine.change_setting(&SettingChange::JitsiServer("meet.example.com/".into())).unwrap();
    let m = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap().meeting;
    assert!(m.join_url.starts_with("https://meet.example.com/MeetingWithMarieDubois-"), "{}", m.join_url);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_meeting_scheduled_in_new_york_across_the_dst_change_lands_at_the_right_instants() {
    let (rig, _clock) = rig("meet-dst", true).await;
    let mut ids = Vec::new();
    // The US changes on 14 March 2027: the day before is EST (-5), the day after EDT (-4).
    for (local, utc) in [("2027-03-13 10:00", "2027-03-13T15:00:00.000+0000"), ("2027-03-15 10:00", "2027-03-15T14:00:00.000+0000")] {
        let mut request = with_marie(&rig);
        request.time_zone = "America/New_York".into();
        request.local_start = Some(local.into());
        let m = rig.engine.start_meeting(&request).await.unwrap().meeting;
        assert!(!m.instant);
        ids.push((m, utc));
    }
    rig.engine.drain_outbox(false).await;
    for (m, utc) in &ids {
        let events = events_at(&rig, &m.join_url);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["StartDateTime"], *utc);
        let (name, ics) = rig.engine.meeting_invitation(m.id).await.unwrap();
        let ics = ics.replace("\r\n ", "");
        assert!(name.ends_with(".ics"));
        assert!(ics.contains("DTSTART;TZID=America/New_York:202703") && ics.contains("T100000"), "{ics}");
        assert!(ics.contains("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:achats@lumiere.example.fr"));
    }
    let mut skipped = with_marie(&rig);
    skipped.time_zone = "America/New_York".into();
    skipped.local_start = Some("2027-03-14 02:30".into());
    let e = rig.engine.start_meeting(&skipped).await.unwrap_err();
    assert!(e.message.contains("does not exist in America/New_York") && e.message.contains("03:00"), "{}", e.message);
    assert_eq!(rig.engine.meetings(0, i64::MAX, 10).await.unwrap().len(), 2, "the skipped hour made nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_email_on_launch_the_join_details_go_once_through_salesforce_and_are_logged() {
    use ringside::app::layouts::PublishTarget;
    use ringside::meetings::email::InvitationState;
    let (rig, _clock) = rig("meet-email", true).await;
    let mut doc: Value = serde_json::from_str(ringside::layout::document::DEFAULT_JSON).unwrap();
    doc["settings"]["emailAttendeesOnLaunch"] = serde_json::json!({ "value": true, "locked": true });
    rig.engine.publish_layout(&serde_json::to_vec(&doc).unwrap(), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();

    let started = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap();
    let m = &started.meeting;
    assert_eq!(m.invitation.as_ref().map(|i| i.state), Some(InvitationState::Pending), "queued with the meeting");
    rig.engine.drain_outbox(false).await;
    let sent = rig.org.sent_emails();
    assert_eq!(sent.len(), 1);
    // The invitees, and the person herself through her record (logged on her).
    assert_eq!(sent[0].to, ["achats@lumiere.example.fr", "marie.dubois@lumiere.example"]);
    assert_eq!(sent[0].recipient_id.as_deref(), Some(rig.org.fixed().marie_dubois.as_str()));
    assert!(sent[0].body.contains(&m.join_url), "{}", sent[0].body);
    assert_eq!(sent[0].related_record_id.as_deref(), Some(rig.org.fixed().marie_opportunity.as_str()));
    let logged: Vec<Value> = rig.org.records("EmailMessage").into_iter().filter(|e| e["Subject"] == sent[0].subject.as_str()).collect();
    assert_eq!(logged.len(), 1, "logged as activity");
    assert_eq!(rig.engine.meeting(m.id).await.unwrap().invitation.unwrap().state, InvitationState::Sent);
    rig.engine.drain_outbox(true).await;
    assert_eq!(rig.org.sent_emails().len(), 1, "sent once");

    // The answer is lost after Salesforce sent it: "may have been sent", never resent.
    rig.org.inject(Fault::new(FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset }).on("POST", "/services/data/v62.0/actions/standard/emailSimple"));
    let second = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap().meeting;
    rig.engine.drain_outbox(false).await;
    rig.engine.drain_outbox(true).await;
    assert_eq!(rig.org.sent_emails().len(), 2);
    let inv = rig.engine.meeting(second.id).await.unwrap().invitation.unwrap();
    assert_eq!(inv.state, InvitationState::Unsure);
    assert!(inv.reason.unwrap().contains("may have been sent"));

    // Refused (the org's daily single-email allowance is spent): nothing sent, the reason
    // shown, and "Send again" sends it once the allowance is back.
    rig.org.set_single_email_limit(rig.org.single_email_usage());
    let third = rig.engine.start_meeting(&with_marie(&rig)).await.unwrap().meeting;
    rig.engine.drain_outbox(false).await;
    let inv = rig.engine.meeting(third.id).await.unwrap().invitation.unwrap();
    assert_eq!(inv.state, InvitationState::Failed);
    assert!(inv.reason.as_deref().unwrap().contains("refused"), "{inv:?}");
    assert_eq!(rig.org.sent_emails().len(), 2);
    rig.org.set_single_email_limit(5_000);
    let again = rig.engine.resend_invitation(third.id).await.unwrap();
    assert_eq!(again.invitation.unwrap().state, InvitationState::Sent);
    assert_eq!(rig.org.sent_emails().len(), 3);

    // A scheduled meeting is not "launched": no email.
    let mut later = with_marie(&rig);
    later.local_start = Some("2027-03-28 10:00".into());
    let scheduled = rig.engine.start_meeting(&later).await.unwrap().meeting;
    assert!(scheduled.invitation.is_none());
}
