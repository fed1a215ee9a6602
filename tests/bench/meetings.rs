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

use ringside::app::{Engine, EngineConfig};
use ringside::calllog::outbox::RetryPolicy;
use ringside::calllog::{CallLogInput, CallType, RecordRef};
use ringside::clock::ManualClock;
use ringside::meetings::{MeetingRequest, Provider};
use ringside::settings::{SettingChange, SystemLocale};
use ringside_sforg::OrgConfig;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn engine_in(dir: &std::path::Path, name: &str) -> Engine {
    Engine::start_with(
        EngineConfig {
            data_dir: dir.to_path_buf(),
            keyring_service: format!("ringside-bench-{name}-{}", std::process::id()),
            locale: SystemLocale::from_tag("fr_FR"),
            log_dir: None,
        },
        Arc::new(ManualClock::new(1_795_000_000_000)),
        RetryPolicy::default(),
    )
}

fn request(who: RecordRef, i: usize) -> MeetingRequest {
    MeetingRequest {
        provider: Provider::Jitsi,
        topic: String::new(),
        agenda: format!("Renewal review {i}: prices, delivery dates and the demo."),
        start_at: None,
        local_start: None,
        duration_mins: 30,
        time_zone: "Europe/Paris".into(),
        invitees: vec!["achats@lumiere.example.fr".into()],
        who: Some(who),
        what: None,
    }
}

async fn click_to_link() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), "meet-start");
    let who = RecordRef { object: "Contact".into(), id: "003000000000001AAA".into(), name: "Marie Dubois".into() };
    let n = 2_000;
    let mut ours = Vec::with_capacity(n);
    let mut logs = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let started = engine.start_meeting(&request(who.clone(), i)).await.unwrap();
        ours.push(t.elapsed());
        assert!(started.open_url.starts_with("https://"));
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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = OrgConfig { auto_approve: true, ..OrgConfig::default() };
    config.redirect_uris = vec![format!("http://127.0.0.1:{port}/oauth/callback")];
    let org = ringside_sforg::spawn(config).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path(), "meet-backlog");
    for change in [
        SettingChange::SalesforceLogin(org.base_url().to_string()),
        SettingChange::SalesforceClientId(org.client_id().to_string()),
        SettingChange::SalesforceCallbackPort(port),
    ] {
        engine.change_setting(&change).unwrap();
    }
    let who = RecordRef { object: "Contact".into(), id: org.fixed().marie_dubois.clone(), name: "Marie Dubois".into() };
    for i in 0..n {
        engine.start_meeting(&request(who.clone(), i)).await.unwrap();
    }
    engine
        .sign_in_to_salesforce(|url| {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        })
        .await
        .unwrap();
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
