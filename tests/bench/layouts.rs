//! Layout benchmarks for docs/BENCHMARKS.md. Run: `make bench-layouts`
//! (`cargo bench -p ringside --bench layouts` inside tests/scripts/with-session).
//!
//! 1. Checking a document (size, UTF-8, JSON, the published schema, the rules): the
//!    built-in layout and a large one (200 call-log fields, every object with 20 pop
//!    fields, 10 "more info" tabs), side by side with serde alone reading the same text
//!    into the same types (no schema, no rules) — the floor.
//! 2. The org check of the large layout, describes read fresh and then cached.
//! 3. A new layout published → `LayoutApplied` in a rep's engine, against the test org
//!    with 0 and 100 ms added to every request: wall time and requests.
//! 4. A working day (10 h, 40 checks) and a whole day (24 h, 96 checks) of polling every
//!    15 minutes from sign-in, with one new version half-way: API requests spent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside::app::layouts::{PublishTarget, OBJECT};
use ringside::app::Event;
use ringside::clock::ManualClock;
use ringside::layout::document::{LayoutDocument, DEFAULT_JSON};
use ringside::layout::validate;
use serde_json::{json, Value};

#[path = "../support/bench_org.rs"]
mod bench_org;
use bench_org::{org_and_engine, sign_in};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// The large layout: 200 custom call-log fields, 20 pop fields per object, 10 tabs.
fn large() -> String {
    let mut doc: Value = serde_json::from_str(DEFAULT_JSON).unwrap();
    doc["name"] = "Large".into();
    let fields: Vec<Value> = (0..200)
        .map(|i| match i % 3 {
            0 => json!({ "field": format!("Text_{i}__c"), "label": format!("Text {i}"), "kind": "text", "required": false, "default": null, "values": [] }),
            1 => json!({ "field": format!("Notes_{i}__c"), "label": format!("Notes {i}"), "kind": "textarea", "required": i % 7 == 0, "default": null, "values": [] }),
            _ => json!({ "field": format!("Pick_{i}__c"), "label": format!("Pick {i}"), "kind": "picklist", "required": false, "default": "A", "values": ["A", "B", "C", "D"] }),
        })
        .collect();
    doc["callLog"]["fields"] = Value::Array(fields);
    let contact_fields = ["Title", "Email", "Department", "MailingCity", "MailingCountry", "Owner.Name", "Account.Name", "Account.Industry", "LastActivityDate", "Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone", "FirstName", "LastName", "Salutation", "MailingState", "Account.BillingCountry", "Account.Phone"];
    for kind in ["inbound", "outbound"] {
        doc["calls"][kind]["search"][0]["popFields"] = json!(contact_fields);
    }
    let tabs: Vec<Value> = (0..10).map(|i| json!({ "label": format!("Tab {i}"), "object": "Opportunity", "accountField": "AccountId", "fields": ["Name", "StageName", "Amount", "CloseDate"] })).collect();
    doc["settings"]["moreInfoTabs"]["value"] = Value::Array(tabs);
    serde_json::to_string_pretty(&doc).unwrap()
}

fn time_checks(label: &str, text: &str) {
    let n = 2_000;
    let mut ours = Vec::with_capacity(n);
    let mut floor = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = validate::parse(text.as_bytes());
        ours.push(t.elapsed());
        std::hint::black_box(&r);
        let t = Instant::now();
        let d: Result<LayoutDocument, _> = serde_json::from_str(text);
        floor.push(t.elapsed());
        std::hint::black_box(&d);
    }
    ours.sort();
    floor.sort();
    println!(
        "check {label} ({} KB): p50 {} p99 {} | serde alone p50 {} p99 {} | ratio p50 {:.1}",
        text.len() / 1024,
        ms(percentile(&ours, 0.5)),
        ms(percentile(&ours, 0.99)),
        ms(percentile(&floor, 0.5)),
        ms(percentile(&floor, 0.99)),
        percentile(&ours, 0.5).as_secs_f64() / percentile(&floor, 0.5).as_secs_f64()
    );
}

async fn publish_to_applied(latency: Duration) {
    let clock = Arc::new(ManualClock::new(1_795_000_000_000));
    let (org, engine, _dir) = org_and_engine("layout-apply", clock).await;
    sign_in(&engine).await;
    engine.publish_layout(DEFAULT_JSON.as_bytes(), &PublishTarget::Org).await.unwrap();
    engine.refresh_layout().await.unwrap();
    org.set_latency(latency);
    let mut times = Vec::new();
    let mut requests = 0;
    for i in 0..10 {
        let mut doc: Value = serde_json::from_str(&large()).unwrap();
        doc["name"] = format!("Version {i}").into();
        // The test org has no Text_N__c fields: a large layout without them.
        doc["callLog"]["fields"] = json!([]);
        engine.publish_layout(serde_json::to_string(&doc).unwrap().as_bytes(), &PublishTarget::Org).await.unwrap();
        let mut events = engine.subscribe();
        org.clear_requests();
        let t = Instant::now();
        engine.refresh_layout().await.unwrap();
        loop {
            if let Ok(Event::LayoutApplied { status }) = events.recv().await {
                assert_eq!(status.name, format!("Version {i}"));
                break;
            }
        }
        times.push(t.elapsed());
        requests = org.requests().len();
    }
    times.sort();
    println!(
        "new layout → LayoutApplied, {} ms added per request: p50 {} max {} ({requests} requests: the assignment query, the body, one Composite call for access and describes)",
        latency.as_millis(),
        ms(percentile(&times, 0.5)),
        ms(*times.last().unwrap())
    );
}

async fn a_day_of_polling(ticks: usize) {
    let clock = Arc::new(ManualClock::new(1_795_000_000_000));
    let (org, engine, _dir) = org_and_engine("layout-day", clock).await;
    sign_in(&engine).await;
    // The admin publishes from another computer: the rep's app starts with nothing read.
    let id = org
        .insert(OBJECT, json!({ "Name": "Morning", "Target__c": "org", "Scope__c": "Org", "Version__c": 1, "Body__c": DEFAULT_JSON }))
        .unwrap();
    let mut rep_requests = 0;
    for tick in 0..ticks {
        if tick == ticks / 2 {
            let mut doc: Value = serde_json::from_str(DEFAULT_JSON).unwrap();
            doc["name"] = "Half-way".into();
            org.update(OBJECT, &id, json!({ "Version__c": 2, "Body__c": serde_json::to_string(&doc).unwrap() })).unwrap();
        }
        org.clear_requests();
        engine.refresh_layout().await.unwrap();
        rep_requests += org.requests().len();
    }
    assert_eq!(engine.layout_status().name, "Half-way");
    println!(
        "{} h of polling ({ticks} checks, one every 15 minutes, from sign-in, one new version half-way): {rep_requests} API requests by the rep's app",
        ticks / 4
    );
}

fn main() {
    let default = DEFAULT_JSON.to_string();
    let large = large();
    time_checks("default", &default);
    time_checks("large, 200 fields", &large);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        publish_to_applied(Duration::ZERO).await;
        publish_to_applied(Duration::from_millis(100)).await;
        a_day_of_polling(40).await;
        a_day_of_polling(96).await;
    });
}
