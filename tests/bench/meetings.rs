//! Meeting benchmarks for docs/BENCHMARKS.md. Run: `make bench-meetings`
//! (`cargo bench -p ringside --bench meetings` inside tests/scripts/with-session).
//!
//! 1. Our own time from "Start meeting" to the address handed to the opener (check,
//!    Jitsi room, meeting + queued Event in one SQLite transaction, the event), side
//!    by side with a call-log save (the same kind of one-transaction write) in the
//!    same run.
//! 2. Recording the Events of 2,000 meetings made offline, against the test org with
//!    100 ms added to every request: API calls and wall time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside::calllog::{CallLogInput, CallType, RecordRef};
use ringside::clock::ManualClock;
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

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(click_to_link());
    rt.block_on(offline_backlog());
}
