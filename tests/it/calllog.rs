//! Call logs against the test org: saved locally first, pushed as Tasks, never lost and
//! never doubled — through lost answers, refusals, converted Leads, random faults on
//! every request, and a process killed while it pushes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ringside::app::{Engine, EngineConfig};
use ringside::calllog::outbox::RetryPolicy;
use ringside::calllog::{CallLogInput, CallType, HistoryQuery, RecordRef, SyncState};
use ringside::clock::ManualClock;
use ringside_sforg::{AfterCommit, Fault, FaultKind, Trigger, ValidationRule};
use serde_json::Value;

use crate::salesforce::{browser, rig_with, Rig};

const START_MS: i64 = 1_795_000_000_000;

/// A signed-in rig whose engine runs on a manual clock, so backoffs pass instantly.
async fn signed_in(name: &str) -> (Rig, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START_MS));
    let c = clock.clone();
    let rig = rig_with(name, |_| {}, move |config: EngineConfig| Engine::start_with(config, c, RetryPolicy::default())).await;
    rig.engine.sign_in_to_salesforce(browser).await.expect("sign-in completes");
    (rig, clock)
}

fn marie(rig: &Rig) -> RecordRef {
    RecordRef { object: "Contact".into(), id: rig.org.fixed().marie_dubois.clone(), name: "Marie Dubois".into() }
}

fn log_for(who: Option<RecordRef>, notes: &str) -> CallLogInput {
    CallLogInput {
        number: "01 23 45 67 89".into(),
        call_type: CallType::Outbound,
        started_at: START_MS / 1_000,
        duration_secs: 95,
        subject: String::new(),
        notes: notes.into(),
        disposition: Some("Connected".into()),
        who,
        what: None,
        custom: Default::default(),
    }
}

/// Tasks in the org by call id (`CallObject`), each with how many there are.
fn tasks_by_call(rig: &Rig) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for t in rig.org.records("Task") {
        if let Some(call) = t.get("CallObject").and_then(Value::as_str) {
            out.entry(call.to_string()).or_default().push(t.clone());
        }
    }
    out
}

/// Drains until nothing is pending, moving the clock past every backoff.
async fn drain_fully(rig: &Rig, clock: &ManualClock) {
    for _ in 0..200 {
        rig.engine.drain_outbox(false).await;
        if rig.engine.outbox_summary().unwrap().pending == 0 {
            return;
        }
        clock.advance(31 * 60 * 1_000);
    }
    panic!("the outbox did not drain: {:?}", rig.engine.outbox_summary());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_log_becomes_one_completed_call_task_on_the_contact() {
    let (rig, clock) = signed_in("log-one").await;
    let saved = rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), "Wants a quote"), true).unwrap();
    assert!(saved.problems.is_empty(), "{:?}", saved.problems);
    assert!(matches!(saved.entry.sync, SyncState::Pending { .. }), "saved locally, not sent yet: {:?}", saved.entry.sync);
    drain_fully(&rig, &clock).await;

    let tasks = tasks_by_call(&rig);
    let task = &tasks[&saved.entry.log.call_id];
    assert_eq!(task.len(), 1);
    let t = &task[0];
    assert_eq!(t["Subject"], "Call with Marie Dubois", "the layout's subject template");
    assert_eq!(t["WhoId"], rig.org.fixed().marie_dubois.as_str());
    assert_eq!(t["TaskSubtype"], "Call");
    assert_eq!(t["Status"], "Completed");
    assert_eq!(t["CallType"], "Outbound");
    assert_eq!(t["CallDurationInSeconds"], 95);
    assert_eq!(t["CallDisposition"], "Connected");
    assert_eq!(t["Description"], "Wants a quote");
    let entry = rig.engine.call_log(saved.entry.log.id).await.unwrap();
    match entry.sync {
        SyncState::Synced { task_id, url } => {
            assert_eq!(t["Id"], task_id.as_str());
            assert!(url.unwrap().ends_with(&format!("/lightning/r/Task/{task_id}/view")));
        }
        other => panic!("expected synced, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn editing_a_synced_log_updates_the_same_task() {
    let (rig, clock) = signed_in("log-edit").await;
    let saved = rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), "first"), true).unwrap();
    drain_fully(&rig, &clock).await;
    let mut edited = saved.entry.log.content.clone();
    edited.notes = "second thoughts".into();
    edited.disposition = Some("Meeting booked".into());
    rig.engine.save_call_log(Some(saved.entry.log.id), &edited, true).unwrap();
    drain_fully(&rig, &clock).await;
    let tasks = tasks_by_call(&rig);
    let task = &tasks[&saved.entry.log.call_id];
    assert_eq!(task.len(), 1, "an edit never creates a second Task");
    assert_eq!(task[0]["Description"], "second thoughts");
    assert_eq!(task[0]["CallDisposition"], "Meeting booked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_after_the_insert_is_found_by_call_id_not_inserted_again() {
    let (rig, clock) = signed_in("log-lost").await;
    rig.org.inject(
        Fault::new(FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset }).on("POST", "/services/data/v62.0/composite/sobjects"),
    );
    let saved = rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), "lost answer"), true).unwrap();
    let first = rig.engine.drain_outbox(false).await;
    assert_eq!(first.inserted, 0, "the answer was lost");
    assert_eq!(tasks_by_call(&rig)[&saved.entry.log.call_id].len(), 1, "yet Salesforce created the Task");
    clock.advance(60_000);
    let second = rig.engine.drain_outbox(false).await;
    assert_eq!(second.adopted, 1, "the look-up by call id found it: {second:?}");
    drain_fully(&rig, &clock).await;
    assert_eq!(tasks_by_call(&rig)[&saved.entry.log.call_id].len(), 1, "still exactly one Task");
    assert!(matches!(rig.engine.call_log(saved.entry.log.id).await.unwrap().sync, SyncState::Synced { .. }));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_validation_rule_parks_the_log_with_its_message_and_an_edit_sends_it() {
    let (rig, clock) = signed_in("log-rule").await;
    rig.org.set_validation_rules(vec![ValidationRule {
        object: "Task".into(),
        field: "Description".into(),
        contains: "card number".into(),
        message: "Never write card numbers in activities".into(),
    }]);
    let saved = rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), "card number 4111"), true).unwrap();
    rig.engine.drain_outbox(false).await;
    let entry = rig.engine.call_log(saved.entry.log.id).await.unwrap();
    match &entry.sync {
        SyncState::Attention { reason, .. } => assert!(reason.contains("Never write card numbers"), "{reason}"),
        other => panic!("expected attention, got {other:?}"),
    }
    assert_eq!(rig.engine.outbox_summary().unwrap().attention, 1);
    assert!(!tasks_by_call(&rig).contains_key(&saved.entry.log.call_id));
    let mut fixed = entry.log.content.clone();
    fixed.notes = "paid by transfer".into();
    rig.engine.save_call_log(Some(entry.log.id), &fixed, true).unwrap();
    drain_fully(&rig, &clock).await;
    assert_eq!(tasks_by_call(&rig)[&saved.entry.log.call_id][0]["Description"], "paid by transfer");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_related_record_parks_the_log_naming_the_record() {
    let (rig, _clock) = signed_in("log-deleted").await;
    let opp = rig.org.insert("Opportunity", serde_json::json!({"Name": "Doomed deal", "StageName": "Prospecting", "CloseDate": "2027-01-31"})).unwrap();
    let mut input = log_for(Some(marie(&rig)), "");
    input.what = Some(RecordRef { object: "Opportunity".into(), id: opp.clone(), name: "Doomed deal".into() });
    let saved = rig.engine.save_call_log(None, &input, true).unwrap();
    assert!(rig.org.delete("Opportunity", &opp));
    rig.engine.drain_outbox(false).await;
    match rig.engine.call_log(saved.entry.log.id).await.unwrap().sync {
        SyncState::Attention { reason, .. } => assert!(reason.contains("Doomed deal"), "{reason}"),
        other => panic!("expected attention, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_on_a_lead_converted_meanwhile_lands_on_the_contact_it_became() {
    let (rig, clock) = signed_in("log-converted").await;
    let lead = rig.org.fixed().kenji_watanabe_lead.clone();
    let input = log_for(Some(RecordRef { object: "Lead".into(), id: lead.clone(), name: "Kenji Watanabe".into() }), "before conversion");
    let saved = rig.engine.save_call_log(None, &input, true).unwrap();
    let (contact, account) = rig.org.convert_lead(&lead).expect("the Lead converts");
    drain_fully(&rig, &clock).await;
    let tasks = tasks_by_call(&rig);
    let task = &tasks[&saved.entry.log.call_id];
    assert_eq!(task.len(), 1);
    assert_eq!(task[0]["WhoId"], contact.as_str());
    assert_eq!(task[0]["WhatId"], account.as_str(), "the converted Account, since the log had no related record");
    let entry = rig.engine.call_log(saved.entry.log.id).await.unwrap();
    assert_eq!(entry.log.content.who.unwrap().object, "Contact", "the local log follows the conversion too");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_text_is_cleaned_and_oversized_notes_are_kept_as_a_draft() {
    let (rig, clock) = signed_in("log-text").await;
    let huge = "x".repeat(100_000);
    let saved = rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), &huge), true).unwrap();
    assert_eq!(saved.problems.len(), 1);
    assert_eq!(saved.problems[0].field, "notes");
    assert!(saved.problems[0].message.contains("32000") || saved.problems[0].message.contains("32,000") || saved.problems[0].message.contains("at most"));
    assert!(matches!(saved.entry.sync, SyncState::Draft { .. }), "kept, not sent");
    let kept = rig.engine.call_log(saved.entry.log.id).await.unwrap();
    assert_eq!(kept.log.content.notes.len(), 100_000, "nothing the rep typed is lost");

    let mut fixed = kept.log.content.clone();
    fixed.notes = "ligne 1\r\nligne 2 \u{0000}\u{001b}[31m😀 — 予約".into();
    let ok = rig.engine.save_call_log(Some(kept.log.id), &fixed, true).unwrap();
    assert!(ok.problems.is_empty(), "{:?}", ok.problems);
    drain_fully(&rig, &clock).await;
    let task = &tasks_by_call(&rig)[&saved.entry.log.call_id][0];
    assert_eq!(task["Description"], "ligne 1\nligne 2 [31m😀 — 予約", "control characters dropped, emoji and Japanese kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn history_finds_logs_by_name_number_and_words() {
    let (rig, _clock) = signed_in("log-history").await;
    rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), "pricing for 50% off"), false).unwrap();
    let mut other = log_for(None, "wrong number");
    other.number = "+81 3-1234-5678".into();
    rig.engine.save_call_log(None, &other, false).unwrap();
    let find = |text: &str| {
        let q = HistoryQuery { text: text.into(), ..HistoryQuery::default() };
        let engine = &rig.engine;
        async move { engine.history(&q).await.unwrap().len() }
    };
    assert_eq!(find("marie").await, 1);
    assert_eq!(find("+8131234").await, 1, "by E.164 digits");
    assert_eq!(find("50%").await, 1, "LIKE wildcards are matched literally");
    assert_eq!(find("_").await, 0);
    assert_eq!(find("").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_goes_out_in_collections_of_two_hundred() {
    let (rig, clock) = signed_in("log-batch").await;
    rig.org.clear_requests();
    for i in 0..450 {
        rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), &format!("call {i}")), true).unwrap();
    }
    drain_fully(&rig, &clock).await;
    let writes = rig.org.requests().iter().filter(|r| r.uri.contains("composite/sobjects")).count();
    assert_eq!(writes, 3, "450 inserts = 3 collection requests");
    assert_eq!(tasks_by_call(&rig).len(), 450);
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_logs_saved_and_edited_under_random_faults_end_as_exactly_one_task_each() {
    let (rig, clock) = signed_in("log-chaos").await;
    let collections = "/services/data/v62.0/composite/sobjects";
    // Lost answers after the write, where doubles would come from, most often.
    for after in [AfterCommit::ConnectionReset, AfterCommit::UnknownException] {
        rig.org.inject(Fault { trigger: Trigger::Probability(0.15), ..Fault::new(FaultKind::CommitThenFail { after }).on("POST", collections) });
        rig.org.inject(Fault { trigger: Trigger::Probability(0.1), ..Fault::new(FaultKind::CommitThenFail { after }).on("PATCH", collections) });
    }
    for kind in [
        FaultKind::ConnectionReset,
        FaultKind::UnableToLockRow,
        FaultKind::ServiceUnavailable,
        FaultKind::UnknownException,
        FaultKind::ExpiredSession,
        FaultKind::RequestLimitExceeded,
    ] {
        rig.org.inject(Fault { trigger: Trigger::Probability(0.06), ..Fault::new(kind) });
    }
    let mut totals = ringside::app::DrainReport::default();
    let mut add = |r: ringside::app::DrainReport| {
        totals.adopted += r.adopted;
        totals.retrying += r.retrying;
        totals.requests += r.requests;
    };
    let mut ids = Vec::new();
    for i in 0..500u32 {
        let mut input = log_for(Some(marie(&rig)), &format!("note {i}"));
        input.duration_secs = i;
        let saved = rig.engine.save_call_log(None, &input, true).unwrap();
        ids.push(saved.entry.log.id);
        // Every third log is edited, some while their insert is still uncertain.
        if i % 3 == 0 && i >= 3 {
            let target = ids[(i as usize) / 2];
            let mut content = rig.engine.call_log(target).await.unwrap().log.content;
            content.notes.push_str(" (edited)");
            content.disposition = Some("Left voicemail".into());
            rig.engine.save_call_log(Some(target), &content, true).unwrap();
        }
        if i % 8 == 7 {
            add(rig.engine.drain_outbox(false).await);
            clock.advance(20_000);
        }
    }
    rig.org.clear_faults();
    for _ in 0..100 {
        add(rig.engine.drain_outbox(false).await);
        if rig.engine.outbox_summary().unwrap().pending == 0 {
            break;
        }
        clock.advance(31 * 60 * 1_000);
    }
    assert_eq!(rig.engine.outbox_summary().unwrap().pending, 0, "the healed org takes everything");
    assert!(totals.adopted > 0, "the run must have lost answers after commits, or it proves nothing: {totals:?}");
    assert!(totals.retrying > 20, "faults must have fired often: {totals:?}");

    let tasks = tasks_by_call(&rig);
    assert_eq!(tasks.len(), 500, "one call id per log");
    for id in ids {
        let entry = rig.engine.call_log(id).await.unwrap();
        let found = &tasks[&entry.log.call_id];
        assert_eq!(found.len(), 1, "log {id} has {} Tasks", found.len());
        let t = &found[0];
        let c = &entry.log.content;
        assert_eq!(t["Description"], c.notes.as_str(), "log {id}: the latest notes");
        assert_eq!(t["CallDisposition"], c.disposition.as_deref().unwrap(), "log {id}");
        assert_eq!(t["CallDurationInSeconds"], c.duration_secs, "log {id}");
        assert_eq!(t["Subject"], c.subject.as_str(), "log {id}");
        assert_eq!(t["WhoId"], c.who.as_ref().unwrap().id.as_str());
        assert!(matches!(entry.sync, SyncState::Synced { .. }), "log {id}: {:?}", entry.sync);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_survive_the_process_being_killed_while_it_pushes() {
    use std::process::{Command, Stdio};
    let (rig, _clock) = signed_in("log-kill").await;
    let mut call_ids = Vec::new();
    for i in 0..600 {
        let saved = rig.engine.save_call_log(None, &log_for(Some(marie(&rig)), &format!("kill {i}")), true).unwrap();
        call_ids.push(saved.entry.log.call_id);
    }
    // Every answer is held back after the write is done: a kill then leaves Tasks in
    // Salesforce that the killed process never heard of.
    rig.org.set_answer_delay(Duration::from_millis(300));
    let service = rig.engine.keyring().service().to_string();
    let data = rig._dir.path().to_path_buf();
    let sync = || {
        Command::new(env!("CARGO_BIN_EXE_ringside"))
            .arg("--data-dir")
            .arg(&data)
            .args(["--json", "log", "sync"])
            .env("RINGSIDE_KEYRING_SERVICE", &service)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ringside starts")
    };
    let writes = |rig: &Rig| rig.org.requests().iter().filter(|r| r.uri.contains("composite/sobjects")).count();
    let mut killed_after_write = 0;
    for round in 0..6 {
        let before = writes(&rig);
        let mut child = sync();
        // Wait for the org to carry out a write of this process, then kill it before
        // the answer arrives (every other round: at once; else a little later).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while writes(&rig) == before && std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(2));
        }
        if round % 2 == 1 {
            std::thread::sleep(Duration::from_millis(120));
        }
        if child.try_wait().unwrap().is_none() && writes(&rig) > before {
            killed_after_write += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(killed_after_write >= 4, "kills must land between a write and its answer ({killed_after_write})");
    rig.org.set_answer_delay(Duration::ZERO);
    let mut adopted = 0;
    let mut finished = false;
    for _ in 0..5 {
        let out = sync().wait_with_output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        adopted += v["report"]["adopted"].as_u64().unwrap_or(0);
        if v["summary"]["pending"] == 0 {
            finished = true;
            break;
        }
    }
    assert!(finished, "the outbox drains after the kills");
    assert!(adopted > 0, "Tasks written before a kill are found by call id");
    let tasks = tasks_by_call(&rig);
    for call in &call_ids {
        assert_eq!(tasks.get(call).map(Vec::len), Some(1), "call {call}: exactly one Task after kills");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_form_offers_the_persons_open_records_and_finds_people_by_name() {
    let (rig, _clock) = signed_in("log-related").await;
    let fixed = rig.org.fixed().clone();
    let open = rig.engine.search_related(Some(&marie(&rig)), "").await.unwrap();
    let ids: Vec<&str> = open.iter().map(|c| c.record.id.as_str()).collect();
    assert!(ids.contains(&fixed.lumiere_account.as_str()), "her Account: {open:?}");
    assert!(ids.contains(&fixed.marie_opportunity.as_str()), "her open Opportunity: {open:?}");
    assert!(ids.contains(&fixed.marie_case.as_str()), "her open Case: {open:?}");
    assert!(open.iter().all(|c| c.related));
    let people = rig.engine.search_people("Dubo").await.unwrap();
    assert!(people.iter().any(|p| p.record.id == fixed.marie_dubois), "{people:?}");
    let hostile = rig.engine.search_people("Dubois} RETURNING User(Id").await.unwrap();
    assert!(hostile.iter().all(|p| matches!(p.record.object.as_str(), "Contact" | "Lead")), "the term cannot change the search");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ended_call_makes_one_draft_and_auto_save_sends_it() {
    let (rig, clock) = signed_in("log-ended").await;
    let marie = ringside::crm::matching::MatchedRecord {
        object: "Contact".into(),
        id: rig.org.fixed().marie_dubois.clone(),
        name: "Marie Dubois".into(),
        matched_field: "Phone".into(),
        fields: vec![],
        url: None,
        account_id: None,
        time_zone: None,
        confirmed: true,
    };
    let call = ringside::app::EndedCall {
        call_key: "a84b4c76e66710@pbx.example.com".into(),
        number: "+33 1 23 45 67 89".into(),
        call_type: CallType::Inbound,
        started_at: START_MS / 1_000,
        duration_secs: 42,
        who: Some(marie),
    };
    let first = rig.engine.log_ended_call(&call).unwrap();
    let again = rig.engine.log_ended_call(&call).unwrap();
    assert_eq!(first.entry.log.id, again.entry.log.id, "one call, one log, however often it is reported");
    assert!(matches!(first.entry.sync, SyncState::Draft { .. }), "the default layout does not auto-save");
    assert_eq!(first.entry.log.content.duration_secs, 42);

    let mut layout = rig.engine.layout();
    layout.call_log.auto_save = true;
    rig.engine.apply_layout(layout);
    let other = ringside::app::EndedCall { call_key: "second-call@pbx".into(), ..call };
    let saved = rig.engine.log_ended_call(&other).unwrap();
    assert!(matches!(saved.entry.sync, SyncState::Pending { .. }), "auto-save queues it: {:?}", saved.entry.sync);
    drain_fully(&rig, &clock).await;
    assert_eq!(tasks_by_call(&rig)[&saved.entry.log.call_id][0]["CallType"], "Inbound");
}
