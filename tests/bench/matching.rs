//! Caller-match benchmarks for docs/BENCHMARKS.md. Run: `make bench-match`
//! (`cargo bench -p ringside --bench matching` inside tests/scripts/with-session).
//!
//! 1. Local index lookup at 10k, 100k and 1M numbers: p50/p99, disk per number.
//! 2. Number → CallerMatched against the test org with 150 ms injected latency: the
//!    local-index answer and the live answer.
//! 3. Normalisation throughput: rlibphonenumber (ours) vs the phonenumber crate.
//! 4. API calls per looked-up number in steady state.

use std::time::{Duration, Instant};

use ringside::app::{Engine, EngineConfig, Event};
use ringside::crm::matching::MatchStage;
use ringside::settings::{SettingChange, SystemLocale};
use ringside::store::{IndexSource, IndexedRecord, Store};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    }
}

/// A deterministic stream of distinct French-looking E.164 numbers.
fn number(i: u64) -> String {
    format!("+336{:08}", (i * 7_919) % 100_000_000)
}

fn index_lookup(n: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let mut store = Store::open(&path).unwrap();
    let start = Instant::now();
    let batch = 10_000;
    for chunk in 0..n.div_ceil(batch) {
        let records: Vec<IndexedRecord> = (chunk * batch..((chunk + 1) * batch).min(n))
            .map(|i| IndexedRecord {
                object: "Contact".into(),
                record_id: format!("003{i:015}"),
                name: format!("Contact {i}"),
                fields: serde_json::json!({ "Title": "Buyer", "Account.Name": "Account" }),
                source: IndexSource::Search,
                modstamp: None,
                seen_at: 0,
                numbers: vec![(number(i), "Phone".into())],
            })
            .collect();
        store.match_index().upsert(&records).unwrap();
    }
    let fill = start.elapsed();
    store.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    let bytes = std::fs::metadata(&path).unwrap().len();
    let index = store.match_index();
    let mut times = Vec::with_capacity(20_000);
    let mut seed = 12_345u64;
    for _ in 0..20_000 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let i = (seed >> 33) % n;
        let e164 = number(i);
        let t = Instant::now();
        let found = index.lookup(&e164).unwrap();
        times.push(t.elapsed());
        assert_eq!(found.len(), 1, "every looked-up number is in the index");
    }
    times.sort();
    println!(
        "| {n} | {} | {} | {:.0} B | {:.1} s |",
        fmt(percentile(&times, 0.5)),
        fmt(percentile(&times, 0.99)),
        bytes as f64 / n as f64,
        fill.as_secs_f64()
    );
}

const TYPED: &[(&str, &str)] = &[
    ("01 23 45 67 89", "FR"),
    ("+33 (0)1 23 45 67 89", "FR"),
    ("0033 6 12 34 56 78", "FR"),
    ("(415) 555-1212", "US"),
    ("+1 650-253-0000 ext. 1234", "US"),
    ("03-1234-5678", "JP"),
    ("+81 3 6555 0123", "JP"),
    ("020 7946 0018", "GB"),
    ("+49 30 1234567", "DE"),
    ("1-800-FLOWERS", "US"),
];

fn normalisation() {
    let rounds = 2_000;
    let t = Instant::now();
    let mut ok = 0;
    for _ in 0..rounds {
        for (n, r) in TYPED {
            ok += usize::from(ringside::crm::phone::normalise(n, r).is_ok());
        }
    }
    let ours = t.elapsed();
    let t = Instant::now();
    let mut ok_other = 0;
    for _ in 0..rounds {
        for (n, r) in TYPED {
            let region = r.parse::<phonenumber::country::Id>().ok();
            if let Ok(p) = phonenumber::parse(region, n) {
                ok_other += usize::from(phonenumber::is_valid(&p));
                let _ = p.format().mode(phonenumber::Mode::E164).to_string();
            }
        }
    }
    let other = t.elapsed();
    let count = (rounds * TYPED.len()) as f64;
    println!("| rlibphonenumber (Ringside's `normalise`, with our checks) | {:.0} numbers/s | {ok} valid |", count / ours.as_secs_f64());
    println!("| phonenumber 0.3 (parse + is_valid + E.164) | {:.0} numbers/s | {ok_other} valid |", count / other.as_secs_f64());
    println!("ratio ours/phonenumber throughput: {:.2}", other.as_secs_f64() / ours.as_secs_f64());
}

async fn live_latency() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = ringside_sforg::OrgConfig { auto_approve: true, ..Default::default() };
    config.redirect_uris = vec![format!("http://127.0.0.1:{port}/oauth/callback")];
    let org = ringside_sforg::spawn(config).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(EngineConfig {
        data_dir: dir.path().to_path_buf(),
        keyring_service: format!("ringside-bench-{}", std::process::id()),
        locale: SystemLocale::from_tag("fr_FR"),
        log_dir: None,
    });
    for c in [
        SettingChange::SalesforceLogin(org.base_url().into()),
        SettingChange::SalesforceClientId(org.client_id().into()),
        SettingChange::SalesforceCallbackPort(port),
    ] {
        engine.change_setting(&c).unwrap();
    }
    engine
        .sign_in_to_salesforce(|url| {
            let url = url.to_string();
            tokio::spawn(async move { reqwest::get(url).await.map(|_| ()) });
        })
        .await
        .unwrap();
    let known = ["01 23 45 67 89", "+1 415 555 1212", "+81 3-1234-5678", "+49 30 1234567", "+44 20 7946 0018"];
    for n in known {
        engine.match_number(n).await.unwrap();
    }
    org.set_latency(Duration::from_millis(150));
    org.clear_requests();
    let rounds = 10;
    let mut local = Vec::new();
    let mut live = Vec::new();
    for _ in 0..rounds {
        for n in known {
            let mut events = engine.subscribe();
            let t = Instant::now();
            let lookup = engine.match_number(n);
            tokio::pin!(lookup);
            let mut local_at = None;
            let result = loop {
                tokio::select! {
                    r = &mut lookup => break r.unwrap(),
                    Ok(Event::CallerMatched { caller_match }) = events.recv(), if local_at.is_none() => {
                        if caller_match.stage == MatchStage::Local { local_at = Some(t.elapsed()); }
                    }
                }
            };
            let total = t.elapsed();
            while let Ok(ev) = events.try_recv() {
                if let Event::CallerMatched { caller_match } = ev {
                    if caller_match.stage == MatchStage::Local && local_at.is_none() {
                        local_at = Some(total);
                    }
                }
            }
            assert_eq!(result.stage, MatchStage::Live);
            local.push(local_at.expect("a local answer for a known number"));
            live.push(total);
        }
    }
    local.sort();
    live.sort();
    let lookups = (rounds * known.len()) as f64;
    println!("| local-index answer (CallerMatched local) | {} | {} |", fmt(percentile(&local, 0.5)), fmt(percentile(&local, 0.99)));
    println!("| live answer (one SOSL round trip of ≥150 ms) | {} | {} |", fmt(percentile(&live, 0.5)), fmt(percentile(&live, 0.99)));
    println!("| live answer minus the 150 ms round trip | {} | {} |", fmt(percentile(&live, 0.5).saturating_sub(Duration::from_millis(150))), fmt(percentile(&live, 0.99).saturating_sub(Duration::from_millis(150))));
    println!("API calls per looked-up number (steady state, {} lookups): {:.2}", lookups, org.requests().len() as f64 / lookups);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("## Local index lookup\n| numbers | p50 | p99 | disk per number | fill time |\n|---|---|---|---|---|");
    for n in [10_000, 100_000, 1_000_000] {
        index_lookup(n);
    }
    println!("\n## Normalisation throughput ({} typed numbers × 2,000)\n| crate | throughput | |\n|---|---|---|", TYPED.len());
    normalisation();
    println!("\n## Number → CallerMatched, test org with 150 ms latency\n| path | p50 | p99 |\n|---|---|---|");
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(live_latency());
}
