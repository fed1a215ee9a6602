//! The admin layout against the test org: published as records of the shipped
//! `Ringside_Layout__c` object, followed by the rep's engine (user over profile over org
//! default), refused when broken with the last good one kept, and kept in SQLite for an
//! offline start.

use ringside::app::layouts::{LayoutStatus, PublishTarget, OBJECT};
use ringside::app::{Engine, EngineConfig, Event};
use ringside::layout::{CallType, RepSetting};
use ringside::settings::SystemLocale;
use ringside_sforg::{Fault, FaultKind};
use serde_json::{json, Value};

use crate::salesforce::signed_in;

fn default_doc() -> Value {
    serde_json::from_str(ringside::layout::document::DEFAULT_JSON).unwrap()
}

fn text(doc: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(doc).unwrap()
}

/// The default layout renamed, with Contact's pop fields and the dispositions changed.
fn inside_sales(pop_fields: &[&str]) -> Value {
    let mut doc = default_doc();
    doc["name"] = "Inside sales".into();
    doc["calls"]["inbound"]["search"][0]["popFields"] = json!(pop_fields);
    doc["callLog"]["dispositions"]["values"] = json!(["Interested", "Not interested", "Call back"]);
    doc
}

fn origin(status: &LayoutStatus) -> (String, u32) {
    let o = status.origin.as_ref().expect("a published layout is in force");
    (o.target.clone(), o.version)
}

fn layout_requests(rig: &crate::salesforce::Rig) -> Vec<String> {
    rig.org.requests().into_iter().map(|r| format!("{} {}", r.method, r.uri)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_layout_reaches_the_rep_applies_live_and_costs_one_query_when_unchanged() {
    let rig = signed_in("layout-live", |_| {}).await;
    let mut events = rig.engine.subscribe();
    let published = rig.engine.publish_layout(&text(&inside_sales(&["Title", "Email"])), &PublishTarget::Org).await.unwrap();
    assert_eq!((published.target.as_str(), published.version, published.created), ("org", 1, true));

    let status = rig.engine.refresh_layout().await.unwrap();
    assert_eq!(status.name, "Inside sales");
    assert_eq!(origin(&status), ("org".into(), 1));
    loop {
        if let Event::LayoutApplied { status } = events.recv().await.unwrap() {
            assert_eq!(status.name, "Inside sales");
            break;
        }
    }
    // The pop shows the new fields at once, and the form offers the new dispositions.
    let marie = rig.org.fixed().marie_dubois.clone();
    let m = rig.engine.match_number("+33 1 23 45 67 89").await.unwrap();
    let card = m.records.iter().find(|r| r.id == marie).expect("Marie Dubois matches");
    let shown: Vec<&str> = card.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(shown, ["Title", "Email"]);
    let form = rig.engine.call_log_form().await;
    assert_eq!(form.dispositions, ["Interested", "Not interested", "Call back"]);

    // Unchanged: one query without the body.
    rig.org.clear_requests();
    rig.engine.refresh_layout().await.unwrap();
    let seen = layout_requests(&rig);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("GET /services/data/v62.0/query") && !seen[0].contains("Body__c"), "{seen:?}");

    // A second version is read once, then costs one query again.
    rig.engine.publish_layout(&text(&inside_sales(&["Title", "Phone"])), &PublishTarget::Org).await.unwrap();
    rig.org.clear_requests();
    let status = rig.engine.refresh_layout().await.unwrap();
    assert_eq!(origin(&status), ("org".into(), 2));
    assert_eq!(rig.engine.layout_for(CallType::Inbound).search[0].pop_fields, ["Title", "Phone"]);
    assert!(layout_requests(&rig).iter().any(|r| r.contains("Body__c")), "the new body was read");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_layout_wins_over_the_profile_one_which_wins_over_the_org_default() {
    let rig = signed_in("layout-precedence", |_| {}).await;
    let me = rig.org.signed_in_user_id().to_string();
    let profile = rig.org.profile_id("Standard User").unwrap();
    let other = rig.org.profile_id("Sales User").unwrap();
    let publish = |name: &str| {
        let mut doc = default_doc();
        doc["name"] = name.into();
        text(&doc)
    };
    rig.engine.publish_layout(&publish("Everyone"), &PublishTarget::Org).await.unwrap();
    rig.engine.publish_layout(&publish("Sales profile"), &PublishTarget::Profile("Sales User".into())).await.unwrap();
    assert_eq!(rig.engine.refresh_layout().await.unwrap().name, "Everyone", "another profile's layout is not mine");

    let p = rig.engine.publish_layout(&publish("My profile"), &PublishTarget::Profile("Standard User".into())).await.unwrap();
    assert_eq!(p.target, format!("profile:{profile}"));
    assert_eq!(p.target_label, "profile Standard User");
    assert_eq!(rig.engine.refresh_layout().await.unwrap().name, "My profile");

    let u = rig.engine.publish_layout(&publish("Just me"), &PublishTarget::User(me.clone())).await.unwrap();
    assert_eq!(u.target, format!("user:{me}"));
    assert_eq!(rig.engine.refresh_layout().await.unwrap().name, "Just me");

    // The user's record goes: back to the profile's; then that goes too: the org's.
    rig.org.delete(OBJECT, &u.record_id);
    assert_eq!(rig.engine.refresh_layout().await.unwrap().name, "My profile");
    rig.org.delete(OBJECT, &p.record_id);
    assert_eq!(rig.engine.refresh_layout().await.unwrap().name, "Everyone");
    let records = rig.org.records(OBJECT);
    assert!(records.iter().any(|r| r["Target__c"] == format!("profile:{other}") && r["Scope__c"] == "Profile" && r["Profile_Id__c"] == other.as_str()));

    // Nothing assigned at all: the built-in layout again.
    for r in rig.org.records(OBJECT) {
        rig.org.delete(OBJECT, r["Id"].as_str().unwrap());
    }
    let status = rig.engine.refresh_layout().await.unwrap();
    assert_eq!((status.name.as_str(), status.origin.clone()), ("Ringside default", None));

    // Unknown targets are named.
    let e = rig.engine.publish_layout(&publish("x"), &PublishTarget::Profile("Nobody".into())).await.unwrap_err();
    assert!(e.message.contains("No profile is called \u{201c}Nobody\u{201d}"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_layouts_are_refused_with_where_and_why_and_the_good_one_stays() {
    let rig = signed_in("layout-broken", |_| {}).await;
    let good = rig.engine.publish_layout(&text(&inside_sales(&["Title", "Email"])), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();

    // Each broken body is written past the CLI's checks, as a careless integration could.
    let mut misspelt = inside_sales(&["Title"]);
    let lead = misspelt["calls"]["inbound"]["search"][1].as_object_mut().unwrap();
    let fields = lead.remove("popFields").unwrap();
    lead.insert("popFeilds".into(), fields);
    let mut unknown_object = inside_sales(&["Title"]);
    unknown_object["calls"]["outbound"]["search"][0]["object"] = "Invoice__c".into();
    let mut unknown_field = inside_sales(&["Title", "Shoe_Size__c"]);
    unknown_field["name"] = "Unknown field".into();
    let cases: Vec<(&str, String, &str)> = vec![
        ("schema", String::from_utf8(text(&misspelt)).unwrap(), "calls.inbound.search[1].popFeilds"),
        ("object", String::from_utf8(text(&unknown_object)).unwrap(), "calls.outbound.search[0].object"),
        ("field", String::from_utf8(text(&unknown_field)).unwrap(), "calls.inbound.search[0].popFields[1]"),
        ("size", format!("{{\"name\": \"{}\"}}", "x".repeat(5 << 20)), ""),
    ];
    for (what, body, path) in cases {
        rig.org.update(OBJECT, &good.record_id, json!({ "Body__c": "{}" })).ok();
        rig.org.delete(OBJECT, &good.record_id);
        let id = rig.org.insert_unchecked(OBJECT, json!({ "Name": what, "Target__c": "org", "Scope__c": "Org", "Version__c": 9, "Body__c": body })).unwrap();
        let mut events = rig.engine.subscribe();
        let status = rig.engine.refresh_layout().await.unwrap();
        assert_eq!(status.name, "Inside sales", "{what}: the good layout stays");
        let refused = status.refused.as_ref().unwrap_or_else(|| panic!("{what}: refused"));
        assert_eq!(refused.origin.record_id, id);
        assert!(refused.problems.iter().any(|p| p.path == path), "{what}: {:#?}", refused.problems);
        assert!(refused.problems.iter().all(|p| !p.message.is_empty() && !p.fix.is_empty()));
        assert!(matches!(events.try_recv(), Ok(Event::Notice { .. }) | Ok(Event::LayoutRefused { .. })), "{what}: the app says so");
        assert_eq!(rig.engine.layout_for(CallType::Inbound).search[0].pop_fields, ["Title", "Email"]);
        // The same broken record is not read again at the next poll.
        rig.org.clear_requests();
        rig.engine.refresh_layout().await.unwrap();
        assert_eq!(layout_requests(&rig).len(), 1, "{what}");
        rig.org.delete(OBJECT, &id);
    }

    // A body that is not UTF-8 on the wire: unreadable, refused.
    let id = rig.org.insert_unchecked(OBJECT, json!({ "Name": "bytes", "Target__c": "org", "Scope__c": "Org", "Version__c": 10, "Body__c": "{}" })).unwrap();
    let mut bytes = format!("{{\"attributes\":{{\"type\":\"{OBJECT}\"}},\"Id\":\"{id}\",\"Body__c\":\"{{\\\"name\\\": \\\"caf").into_bytes();
    bytes.extend_from_slice(b"\xe9\\\"}\"}");
    rig.org.inject(Fault::new(FaultKind::raw_json(200, bytes)).on("GET", &format!("/services/data/v62.0/sobjects/{OBJECT}/{id}")));
    let status = rig.engine.refresh_layout().await.unwrap();
    let refused = status.refused.expect("an unreadable body is refused");
    assert!(refused.problems[0].message.contains("could not be read"), "{:?}", refused.problems);
    assert_eq!(status.name, "Inside sales");

    // An object the rep cannot read, in an otherwise valid layout.
    rig.org.delete(OBJECT, &id);
    let mut with_cases = inside_sales(&["Title"]);
    with_cases["settings"]["moreInfoTabs"]["value"] = json!([{ "label": "Cases", "object": "Case", "accountField": "AccountId", "fields": ["CaseNumber", "Subject"] }]);
    rig.org.insert_unchecked(OBJECT, json!({ "Name": "cases", "Target__c": "org", "Scope__c": "Org", "Version__c": 11, "Body__c": String::from_utf8(text(&with_cases)).unwrap() })).unwrap();
    rig.org.set_object_access("Case", false);
    let status = rig.engine.refresh_layout().await.unwrap();
    let refused = status.refused.expect("a layout naming an unreadable object is refused");
    assert!(refused.problems.iter().any(|p| p.path == "settings.moreInfoTabs.value[0].object" && p.message.contains("cannot read")), "{:#?}", refused.problems);
    assert!(refused.problems.iter().any(|p| p.path == "callLog.relatedObjects[2]"), "{:#?}", refused.problems);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_checks_a_file_and_publish_refuses_a_broken_one() {
    let rig = signed_in("layout-publish-check", |_| {}).await;
    let mut doc = inside_sales(&["Title", "No_Such_Field__c"]);
    doc["calls"]["inbound"]["pop"]["on"] = "hangup".into();
    let e = rig.engine.publish_layout(&text(&doc), &PublishTarget::Org).await.unwrap_err();
    assert!(e.message.contains("calls.inbound.pop.on") && e.message.contains("not published"), "{}", e.message);
    assert!(rig.org.records(OBJECT).is_empty(), "nothing written");

    doc["calls"]["inbound"]["pop"]["on"] = "answer".into();
    let check = rig.engine.validate_layout(&text(&doc)).await.unwrap();
    assert!(check.checked_with_org);
    assert_eq!(check.problems.len(), 1, "{:#?}", check.problems);
    assert_eq!(check.problems[0].path, "calls.inbound.search[0].popFields[1]");

    // The CLI offline: exit status 1 and the path.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("layout.json");
    std::fs::write(&file, b"{\"formatVersion\": 1, \"name\": \"caf\xe9\"}").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringside"))
        .args(["--data-dir", dir.path().to_str().unwrap(), "layout", "validate", "--offline"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("not UTF-8") && stdout.contains("line 1, column"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reps_own_choices_survive_updates_locked_ones_win_and_an_offline_start_keeps_the_layout() {
    let rig = signed_in("layout-rep", |_| {}).await;
    let mut doc = inside_sales(&["Title", "Email"]);
    rig.engine.publish_layout(&text(&doc), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();
    rig.engine.set_rep_setting(RepSetting::AutoSaveLogs, Some(true)).unwrap();
    assert!(rig.engine.layout().call_log.auto_save);

    // A new version: the choice survives. Locked: the admin's value wins, and the rep
    // cannot change it; unlocked again: the rep's choice is back.
    doc["name"] = "Inside sales v2".into();
    rig.engine.publish_layout(&text(&doc), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();
    assert!(rig.engine.layout().call_log.auto_save);
    doc["settings"]["autoSaveLogs"] = json!({ "value": false, "locked": true });
    rig.engine.publish_layout(&text(&doc), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();
    assert!(!rig.engine.layout().call_log.auto_save);
    assert!(rig.engine.set_rep_setting(RepSetting::AutoSaveLogs, Some(true)).is_err());
    doc["settings"]["autoSaveLogs"] = json!({ "value": false, "locked": false });
    rig.engine.publish_layout(&text(&doc), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();
    assert!(rig.engine.layout().call_log.auto_save);

    // The next start has no network: the last good layout and the choice are there.
    let again = Engine::start(EngineConfig {
        data_dir: rig._dir.path().to_path_buf(),
        keyring_service: "ringside-test-layout-offline-nobody".into(),
        locale: SystemLocale::from_tag("fr_FR"),
        log_dir: None,
    });
    let status = again.layout_status();
    assert_eq!(status.name, "Inside sales v2");
    assert_eq!(origin(&status).1, 4);
    assert!(again.layout().call_log.auto_save);
    assert_eq!(again.layout_for(CallType::Inbound).search[0].pop_fields, ["Title", "Email"]);
    let e = again.refresh_layout().await.unwrap_err();
    assert!(e.message.contains("not connected"), "{}", e.message);
    assert_eq!(again.layout_status().problem.as_deref(), Some(e.message.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_more_info_tab_lists_the_records_of_the_callers_account() {
    let rig = signed_in("layout-tabs", |_| {}).await;
    let mut doc = default_doc();
    doc["settings"]["moreInfoTabs"]["value"] = json!([{ "label": "Deals", "object": "Opportunity", "accountField": "AccountId", "fields": ["Name", "StageName", "Amount"] }]);
    rig.engine.publish_layout(&text(&doc), &PublishTarget::Org).await.unwrap();
    rig.engine.refresh_layout().await.unwrap();
    let account = rig.org.fixed().lumiere_account.clone();
    let tab = rig.engine.more_info("Deals", &account).await.unwrap();
    assert_eq!(tab.columns, ["Name", "StageName", "Amount"]);
    let deal = tab.rows.iter().find(|r| r.id == rig.org.fixed().marie_opportunity).expect("the account's opportunity is listed");
    assert_eq!(deal.values[0], "Lumière SA – Renouvellement casques 2027");
    assert_eq!(deal.values[1], "Negotiation/Review");
    assert!(deal.url.as_deref().unwrap().ends_with(&format!("/lightning/r/Opportunity/{}/view", deal.id)));
    assert!(rig.engine.more_info("Nope", &account).await.unwrap_err().message.contains("no tab"));
}
