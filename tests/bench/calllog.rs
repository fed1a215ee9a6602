//! Call-log benchmarks for docs/BENCHMARKS.md. Run: `make bench-calllog`
//! (`cargo bench -p ringside --bench calllog` inside tests/scripts/with-session).
//!
//! 1. Local save latency (log + outbox row in one SQLite transaction, WAL, file on
//!    disk), side by side with a bare one-row INSERT transaction on the same disk.
//! 2. Draining a 10,000-log backlog against the test org with 100 ms added to every
//!    request: API calls and wall time; then the worst case, where every insert's
//!    answer was lost and each log must be looked up by call id first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside::calllog::{CallLogInput, CallType, RecordRef};
use ringside::clock::ManualClock;
use ringside_sforg::{AfterCommit, Fault, FaultKind, Trigger};

#[path = "../support/bench_org.rs"]
mod bench_org;
use bench_org::engine_in;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn input(i: usize, who: Option<RecordRef>) -> CallLogInput {
    CallLogInput {
        number: "+33 1 23 45 67 89".into(),
        call_type: CallType::Outbound,
        started_at: 1_795_000_000,
        duration_secs: (i % 900) as u32,
        subject: String::new(),
        // A typical note: a few sentences.
        notes: format!("Call {i}: discussed the renewal, wants a quote for 40 headsets by Friday. Follow up with pricing and the demo date. {}", "—".repeat(20)),
        disposition: Some("Connected".into()),
        who,
        what: None,
        custom: Default::default(),
    }
}

fn local_save() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), "save", Arc::new(ManualClock::new(1_795_000_000_000)));
    let n = 5_000;
    let mut ours = Vec::with_capacity(n);
    for i in 0..n {
        let log = input(i, Some(RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Marie Dubois".into() }));
        let t = Instant::now();
        let outcome = engine.save_call_log(None, &log, true).unwrap();
        ours.push(t.elapsed());
        assert!(outcome.problems.is_empty());
    }
    ours.sort();

    // The floor: one row, one IMMEDIATE transaction, same pragmas, same disk.
    let raw_path = dir.path().join("raw.db");
    let conn = rusqlite::Connection::open(&raw_path).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL);").unwrap();
    let mut conn = conn;
    let mut raw = Vec::with_capacity(n);
    for i in 0..n {
        let body = input(i, None).notes;
        let t = Instant::now();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
        tx.execute("INSERT INTO t (body) VALUES (?1)", [body]).unwrap();
        tx.commit().unwrap();
        raw.push(t.elapsed());
    }
    raw.sort();
    println!("### Local save, {n} logs\n");
    println!("| what | p50 | p99 | max |\n|---|---|---|---|");
    println!("| `save_call_log` (validate, log + outbox row, one transaction) | {} | {} | {} |", ms(percentile(&ours, 0.5)), ms(percentile(&ours, 0.99)), ms(*ours.last().unwrap()));
    println!("| bare one-row INSERT transaction | {} | {} | {} |", ms(percentile(&raw, 0.5)), ms(percentile(&raw, 0.99)), ms(*raw.last().unwrap()));
    println!("| **ratio (p99)** | | **{:.1}** | |\n", percentile(&ours, 0.99).as_secs_f64() / percentile(&raw, 0.99).as_secs_f64());
}

async fn signed_in(name: &str, clock: Arc<ManualClock>) -> (ringside_sforg::RunningOrg, ringside::app::Engine, tempfile::TempDir) {
    let (org, engine, dir) = bench_org::org_and_engine(name, clock).await;
    bench_org::sign_in(&engine).await;
    (org, engine, dir)
}

async fn backlog() {
    let n = 10_000;
    let latency = Duration::from_millis(100);
    println!("### Draining a backlog of {n} logs, 100 ms added to every request\n");
    println!("| case | API calls | of which look-ups | wall time | Tasks in the org |\n|---|---|---|---|---|");

    // Fresh backlog (offline for a day, then back).
    let clock = Arc::new(ManualClock::new(1_795_000_000_000));
    let (org, engine, _dir) = signed_in("drain", clock.clone()).await;
    let who = RecordRef { object: "Contact".into(), id: org.fixed().marie_dubois.clone(), name: "Marie Dubois".into() };
    for i in 0..n {
        engine.save_call_log(None, &input(i, Some(who.clone())), true).unwrap();
    }
    org.set_latency(latency);
    org.clear_requests();
    let t = Instant::now();
    let report = engine.drain_outbox(false).await;
    let wall = t.elapsed();
    let requests = org.requests();
    let tasks = org.records("Task").iter().filter(|t| t.get("CallObject").is_some_and(|v| !v.is_null())).count();
    let lookups = requests.iter().filter(|r| r.uri.contains("/query")).count();
    println!("| fresh backlog | {} | {lookups} | {:.1} s | {tasks} |", requests.len(), wall.as_secs_f64());
    assert_eq!(report.inserted as usize, n);
    assert_eq!(tasks, n);

    // Worst case: every insert reached Salesforce but no answer came back.
    let clock = Arc::new(ManualClock::new(1_795_000_000_000));
    let (org, engine, _dir) = signed_in("drain-lost", clock.clone()).await;
    let who = RecordRef { object: "Contact".into(), id: org.fixed().marie_dubois.clone(), name: "Marie Dubois".into() };
    for i in 0..n {
        engine.save_call_log(None, &input(i, Some(who.clone())), true).unwrap();
    }
    org.inject(Fault {
        trigger: Trigger::Probability(1.0),
        ..Fault::new(FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset }).on("POST", "/services/data/v62.0/composite/sobjects")
    });
    engine.drain_outbox(false).await;
    org.clear_faults();
    clock.advance(3_600_000);
    org.set_latency(latency);
    org.clear_requests();
    let t = Instant::now();
    let mut adopted = 0;
    loop {
        let r = engine.drain_outbox(false).await;
        adopted += r.adopted;
        if engine.outbox_summary().unwrap().pending == 0 {
            break;
        }
        clock.advance(3_600_000);
    }
    let wall = t.elapsed();
    let requests = org.requests();
    let tasks = org.records("Task").iter().filter(|t| t.get("CallObject").is_some_and(|v| !v.is_null())).count();
    let lookups = requests.iter().filter(|r| r.uri.contains("/query")).count();
    println!("| every answer lost: look up, adopt, update | {} | {lookups} | {:.1} s | {tasks} |", requests.len(), wall.as_secs_f64());
    assert_eq!(adopted as usize, n);
    assert_eq!(tasks, n, "no doubles");

    // The naive way, for scale: one create per log, sampled on 50 logs.
    let sample = 50;
    let clock = Arc::new(ManualClock::new(1_795_000_000_000));
    let (org, engine, _dir) = signed_in("naive", clock).await;
    org.set_latency(latency);
    let t = Instant::now();
    for i in 0..sample {
        let mut f = serde_json::Map::new();
        f.insert("Subject".into(), format!("naive {i}").into());
        engine.salesforce().create("Task", &f).await.unwrap();
    }
    let per = t.elapsed() / sample as u32;
    println!("| one create per log (50 sampled, extrapolated) | {n} | 0 | {:.0} s | |\n", per.as_secs_f64() * n as f64);
}

/// `cargo bench --bench calllog [-- save|drain]`: both parts by default.
fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|a| a == "save" || a == "drain");
    if only.as_deref() != Some("drain") {
        local_save();
    }
    if only.as_deref() != Some("save") {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(backlog());
    }
}
