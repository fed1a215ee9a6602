//! Meeting benchmarks for docs/BENCHMARKS.md. Run: `make bench-meetings`
//! (`cargo bench -p ringside --bench meetings` inside tests/scripts/with-session).
//!
//! 1. Our own time from "Start meeting" to the address handed to the opener (check,
//!    Jitsi room, meeting + queued Event in one SQLite transaction, the event), side
//!    by side with a call-log save (the same kind of one-transaction write) in the
//!    same run.
//! 2. Recording the Events of 2,000 meetings made offline, against the test org with
//!    100 ms added to every request: API calls and wall time.
//! 3. Meetings held elsewhere: listing 2,700 past meetings with their participants at
//!    the Zoom- and Webex-compatible test servers and matching every attendee to the
//!    test org — provider calls, Salesforce queries and wall time, Zoom and Webex side
//!    by side in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside::calllog::{CallLogInput, CallType, RecordRef};
use ringside::clock::{Clock as _, ManualClock};
use ringside::meetings::MeetingRequest;

#[path = "../support/bench_org.rs"]
mod bench_org;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_795_000_000_000))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn request(who: RecordRef, i: usize) -> MeetingRequest {
    MeetingRequest {
        agenda: format!("Renewal review {i}: prices, delivery dates and the demo."),
        duration_mins: 30,
        time_zone: "Europe/Paris".into(),
        invitees: vec!["achats@lumiere.example.fr".into()],
        who: Some(who),
        ..MeetingRequest::default()
    }
}

async fn click_to_link() {
    let dir = tempfile::tempdir().unwrap();
    let engine = bench_org::engine_in(dir.path(), "meet-start", clock());
    let who = RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Marie Dubois".into() };
    let n = 2_000;
    let mut ours = Vec::with_capacity(n);
    let mut logs = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let started = engine.start_meeting(&request(who.clone(), i)).await.unwrap();
        ours.push(t.elapsed());
        assert!(started.open_url.as_ref().is_some_and(|u| u.starts_with("https://")));
        let log = CallLogInput {
            number: "+33 1 23 45 67 89".into(),
            call_type: CallType::Outbound,
            started_at: 1_795_000_000,
            duration_secs: 60,
            subject: String::new(),
            notes: format!("Renewal review {i}: prices, delivery dates and the demo."),
            disposition: Some("Connected".into()),
            who: Some(who.clone()),
            what: None,
            custom: Default::default(),
        };
        let t = Instant::now();
        engine.save_call_log(None, &log, true).unwrap();
        logs.push(t.elapsed());
    }
    ours.sort();
    logs.sort();
    println!("### Start meeting: our time to the opener, {n} meetings (Jitsi, no network)\n");
    println!("| what | p50 | p99 | max |\n|---|---|---|---|");
    println!("| `start_meeting` (check, room, meeting + Event queued in one transaction) | {} | {} | {} |", ms(percentile(&ours, 0.5)), ms(percentile(&ours, 0.99)), ms(*ours.last().unwrap()));
    println!("| `save_call_log`, same run (log + outbox row in one transaction) | {} | {} | {} |", ms(percentile(&logs, 0.5)), ms(percentile(&logs, 0.99)), ms(*logs.last().unwrap()));
    println!("| **ratio (p99)** | | **{:.2}** | |\n", percentile(&ours, 0.99).as_secs_f64() / percentile(&logs, 0.99).as_secs_f64());
}

async fn offline_backlog() {
    let n = 2_000;
    let (org, engine, _dir) = bench_org::org_and_engine("meet-backlog", clock()).await;
    let who = RecordRef { object: "Contact".into(), id: org.fixed().marie_dubois.clone(), name: "Marie Dubois".into() };
    for i in 0..n {
        engine.start_meeting(&request(who.clone(), i)).await.unwrap();
    }
    bench_org::sign_in(&engine).await;
    org.set_latency(Duration::from_millis(100));
    org.clear_requests();
    let t = Instant::now();
    let report = engine.drain_outbox(true).await;
    let wall = t.elapsed();
    let events = org.records("Event").iter().filter(|e| e.get("Location").and_then(|l| l.as_str()).is_some_and(|l| l.contains("jit.si"))).count();
    println!("### Recording the Events of {n} meetings made offline, 100 ms added to every request\n");
    println!("| API calls | wall time | Events in the org |\n|---|---|---|");
    println!("| {} | {:.1} s | {events} |\n", org.requests().len(), wall.as_secs_f64());
    assert_eq!(report.events as usize, n);
    assert_eq!(events, n);
}

/// Four attendees a meeting: the host, a Contact by address, a person known by name
/// only, and a stranger.
fn attendees(i: i64) -> Vec<ringside_meetsrv::Attendee> {
    const KNOWN: [(&str, &str); 4] = [
        ("Marie Dubois", "marie.dubois@lumiere.example"),
        ("Priya Nair", "priya.nair@acme.example"),
        ("Jordan Ellis", "jordan.ellis@acme.example"),
        ("Oliver Bennett", "oliver.bennett@thames-analytics.example"),
    ];
    let (known, email) = KNOWN[i as usize % KNOWN.len()];
    let (by_name, _) = KNOWN[(i as usize + 1) % KNOWN.len()];
    let a = |name: &str, email: Option<String>| ringside_meetsrv::Attendee { name: name.into(), email };
    vec![
        a("Rita Rep", Some("rep@example.com".into())),
        a(known, Some(email.to_uppercase())),
        a(by_name, None),
        a(&format!("Guest {i}"), Some(format!("guest{i}@elsewhere.example"))),
    ]
}

async fn held_elsewhere() {
    let n: i64 = 2_700;
    println!("### Meetings held elsewhere: {n} past meetings, 4 attendees each, listed and matched\n");
    println!("| provider | meetings | provider API calls | Salesforce queries | wall time | per meeting |\n|---|---|---|---|---|---|");
    for provider in [ringside::meetings::Provider::Zoom, ringside::meetings::Provider::Webex] {
        let meet = ringside_meetsrv::spawn(ringside_meetsrv::Config::default()).await;
        let (org, engine, _dir) = bench_org::org_and_engine(&format!("held-{}", provider.as_str()), clock()).await;
        bench_org::sign_in(&engine).await;
        bench_org::connect_meetings(&engine, &meet, provider).await;
        let end = clock().now_ms() / 1_000;
        for i in 0..n {
            let at = end - 86_400 - i * 600;
            match provider {
                ringside::meetings::Provider::Zoom => {
                    meet.zoom_add_past(&format!("Review {i}"), at, 30, &attendees(i));
                }
                _ => {
                    meet.webex_add_past(&format!("Review {i}"), at, 30, &attendees(i), "rep@example.com");
                }
            }
        }
        meet.clear_requests();
        org.clear_requests();
        let t = Instant::now();
        let listing = engine.held_meetings(provider, end - 30 * 86_400, end).await.unwrap();
        let wall = t.elapsed();
        assert_eq!(listing.meetings.len(), n as usize);
        assert!(listing.meetings.iter().all(|e| e.proposed.is_some()), "every meeting has its person");
        println!(
            "| {} | {n} | {} | {} | {:.2} s | {:.2} ms |",
            provider.label(),
            meet.requests().len(),
            listing.salesforce_queries,
            wall.as_secs_f64(),
            wall.as_secs_f64() * 1e3 / n as f64
        );
    }
    println!();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(click_to_link());
    rt.block_on(offline_backlog());
    rt.block_on(held_elsewhere());
}
