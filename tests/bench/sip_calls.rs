//! Call signalling benchmarks for docs/BENCHMARKS.md. Run: `make bench-calls`
//! (`cargo bench -p ringside --bench sip_calls`; needs baresip and sipp).
//!
//! 1. Latency, side by side with baresip in the same run: from asking for a call to
//!    its INVITE arriving at a proxy socket, and from the proxy sending 200 OK to the
//!    `answered` event reaching a subscriber (ours: the engine's broadcast channel;
//!    baresip's: its ctrl_tcp event). The proxy is this program's own UDP socket.
//! 2. Load: SIPp calls our user agent (auto-answer) at increasing rates (BENCH_RATES,
//!    default 25,50,100,200), each for BENCH_SECONDS (default 60) with one second of
//!    talk per call; the highest rate with no failed call is reported.
//! 3. Leak check: 1,000 calls at BENCH_LEAK_RATE (default 100/s), then 10,000 more
//!    (BENCH_LEAK_CALLS); the process's memory after each.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside::clock::SystemClock;
use ringside::secrets::Sensitive;
use ringside::sip::registration::Account;
use ringside::sip::ua::{UaConfig, UaEvent, UserAgent};
use tokio::net::UdpSocket;

#[path = "../support/bench_common.rs"]
mod bench_common;
use bench_common::{free_port, live_kib};

#[global_allocator]
static ALLOCATOR: bench_common::Counting = bench_common::Counting;

fn account() -> Account {
    Account { user: "bench".into(), auth_user: None, domain: "bench.test".into(), password: Sensitive::new("unused".into()), expires: 600 }
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// The proxy's answer to a request: its Via, From, Call-ID, CSeq, and To with a tag.
fn answer(request: &str, status: &str, extra: &str, body: &str) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request.split("\r\n").take_while(|l| !l.is_empty()).skip(1) {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        match name.as_str() {
            "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => out.push_str(&format!("{line}\r\n")),
            "to" | "t" => {
                if line.contains("tag=") {
                    out.push_str(&format!("{line}\r\n"));
                } else {
                    out.push_str(&format!("{line};tag=proxy1\r\n"));
                }
            }
            _ => {}
        }
    }
    out.push_str(extra);
    if body.is_empty() {
        out.push_str("Content-Length: 0\r\n\r\n");
    } else {
        out.push_str(&format!("Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    }
    out.into_bytes()
}

fn sdp(port: u16) -> String {
    format!("v=0\r\no=proxy 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n")
}

async fn recv_request(srv: &UdpSocket, method: &str) -> (String, SocketAddr, Instant) {
    let mut buf = vec![0u8; 65_535];
    loop {
        let (n, from) = srv.recv_from(&mut buf).await.unwrap();
        let at = Instant::now();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with(&format!("{method} ")) {
            return (text, from, at);
        }
        // Whatever else comes (REGISTER, ACK, BYE): keep the peer content.
        if text.starts_with("REGISTER ") || text.starts_with("BYE ") {
            srv.send_to(&answer(&text, "200 OK", "Expires: 600\r\n", ""), from).await.unwrap();
        }
    }
}

struct Latency {
    dial_us: Vec<f64>,
    /// 200 OK sent → its ACK on the wire (the same point for both user agents).
    ack_us: Vec<f64>,
    /// 200 OK sent → the `answered` event at a subscriber (ours only: baresip's ctrl_tcp
    /// events pass a TCP connection with Nagle's algorithm on its side).
    answer_us: Vec<f64>,
}

async fn ours(n: usize) -> Latency {
    let srv = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let ua = UserAgent::start(UaConfig::new(account(), srv.local_addr().unwrap(), false), Arc::new(SystemClock)).await.unwrap();
    let mut events = ua.subscribe();
    let mut out = Latency { dial_us: vec![], ack_us: vec![], answer_us: vec![] };
    for _ in 0..n {
        let t0 = Instant::now();
        let id = ua.dial("sip:far@bench.test").await.unwrap();
        let (invite, from, at) = recv_request(&srv, "INVITE").await;
        out.dial_us.push((at - t0).as_secs_f64() * 1e6);
        let ok = answer(&invite, "200 OK", &format!("Contact: <sip:far@{}>\r\n", srv.local_addr().unwrap()), &sdp(sink.local_addr().unwrap().port()));
        let t2 = Instant::now();
        srv.send_to(&ok, from).await.unwrap();
        let (_, _, acked) = recv_request(&srv, "ACK").await;
        out.ack_us.push((acked - t2).as_secs_f64() * 1e6);
        loop {
            if let Ok(UaEvent::Call(c)) = events.recv().await {
                if c.id == id && c.state.is_answered() {
                    out.answer_us.push(t2.elapsed().as_secs_f64() * 1e6);
                    break;
                }
            }
        }
        ua.hang_up(id).await.unwrap();
        let (bye, from, _) = recv_request(&srv, "BYE").await;
        srv.send_to(&answer(&bye, "200 OK", "", ""), from).await.unwrap();
        loop {
            if let Ok(UaEvent::Call(c)) = events.recv().await {
                if c.id == id && c.state.is_ended() {
                    break;
                }
            }
        }
    }
    ua.stop().await;
    out
}

#[path = "../support/baresip_ctl.rs"]
mod baresip_ctl;
use baresip_ctl::BaresipCtl;

async fn baresip(n: usize) -> Option<Latency> {
    if Command::new("baresip").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        eprintln!("baresip is not installed: its side is left out");
        return None;
    }
    let srv = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sink = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctrl = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/baresip/start"))
        .args(["bench", "unused", &srv.local_addr().unwrap().port().to_string(), &free_port().to_string()])
        .env("TESTBED_DIR", dir.path())
        .env("TESTBED_DOMAIN", "bench.test")
        .env("TESTBED_CTRL_PORT", ctrl.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ctl = BaresipCtl::connect(ctrl);
    let mut out = Latency { dial_us: vec![], ack_us: vec![], answer_us: vec![] };
    for _ in 0..n {
        let t0 = Instant::now();
        ctl.command("dial", "sip:far@bench.test");
        let (invite, from, at) = recv_request(&srv, "INVITE").await;
        out.dial_us.push((at - t0).as_secs_f64() * 1e6);
        let contact = format!("Contact: <sip:far@{}>\r\n", srv.local_addr().unwrap());
        let ok = answer(&invite, "200 OK", &contact, &sdp(sink.local_addr().unwrap().port()));
        let t2 = Instant::now();
        srv.send_to(&ok, from).await.unwrap();
        let (_, _, acked) = recv_request(&srv, "ACK").await;
        out.ack_us.push((acked - t2).as_secs_f64() * 1e6);
        ctl.event("CALL_ESTABLISHED", Duration::from_secs(10)).expect("baresip established the call");
        ctl.command("hangup", "");
        let (bye, from, _) = recv_request(&srv, "BYE").await;
        srv.send_to(&answer(&bye, "200 OK", "", ""), from).await.unwrap();
        ctl.event("CALL_CLOSED", Duration::from_secs(10)).expect("baresip closed the call");
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    Some(out)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// What one SIPp run left: calls ended here, heap in use and RSS once they settled.
struct Phase {
    ended: u32,
    heap_kib: i64,
    rss_kib: u64,
}

/// SIPp calling one user agent (auto-answer) once per phase, `(rate, seconds)` each;
/// stops at the first phase with a failed call.
async fn load(phases: &[(u32, u32)]) -> Vec<Result<Phase, String>> {
    let sipp_port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server: SocketAddr = format!("127.0.0.1:{sipp_port}").parse().unwrap();
    let mut config = UaConfig::new(account(), server, false);
    config.max_calls = 100_000;
    let ua = Arc::new(UserAgent::start(config, Arc::new(SystemClock)).await.unwrap());
    let mut events = ua.subscribe();
    let answering = ua.clone();
    let ended = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ended_count = ended.clone();
    let auto = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(UaEvent::Call(c)) if c.state == ringside::sip::call::CallState::Incoming => {
                    let _ = answering.answer(c.id).await;
                }
                Ok(UaEvent::Call(c)) if c.state.is_ended() => {
                    ended_count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => eprintln!("events lagged by {n}"),
                Err(_) => break,
            }
        }
    });
    let mut results = Vec::new();
    for &(rate, seconds) in phases {
        let calls = rate * seconds;
        let before = ended.load(std::sync::atomic::Ordering::Relaxed);
        let dir = tempfile::tempdir().unwrap();
        let status = tokio::task::spawn_blocking({
            let target = ua.local.to_string();
            let dir = dir.path().to_path_buf();
            move || {
                Command::new("sipp")
                    .arg(&target)
                    .args(["-sf", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/sipp/call-us.xml")])
                    .args(["-s", "bench", "-key", "caller", "+14155550123", "-d", "1000", "-i", "127.0.0.1", "-p", &sipp_port.to_string()])
                    .args(["-r", &rate.to_string(), "-m", &calls.to_string(), "-nostdin", "-timeout", &format!("{}s", seconds + 60), "-trace_stat", "-fd", "5"])
                    .current_dir(dir)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
            }
        })
        .await
        .unwrap();
        // Let the last BYEs and retransmission timers settle.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let done = ended.load(std::sync::atomic::Ordering::Relaxed) - before;
        let result = match status {
            Ok(s) if s.code() == Some(0) => Ok(Phase { ended: done, heap_kib: live_kib(), rss_kib: rss_kib() }),
            Ok(s) => Err(format!("SIPp exit status {:?} ({done} of {calls} calls ended here)", s.code())),
            Err(e) => Err(format!("sipp: {e}")),
        };
        let failed = result.is_err();
        results.push(result);
        if failed {
            break;
        }
    }
    auto.abort();
    if let Ok(ua) = Arc::try_unwrap(ua) {
        ua.stop().await;
    }
    results
}

fn summary(label: &str, l: &mut Latency) -> (f64, f64) {
    let (d50, d99) = (percentile(&mut l.dial_us, 0.5), percentile(&mut l.dial_us, 0.99));
    let (k50, k99) = (percentile(&mut l.ack_us, 0.5), percentile(&mut l.ack_us, 0.99));
    println!("{label:<10} dial → INVITE p50 {d50:>6.0} µs p99 {d99:>6.0} µs | 200 OK → ACK p50 {k50:>6.0} µs p99 {k99:>6.0} µs");
    if !l.answer_us.is_empty() {
        let (a50, a99) = (percentile(&mut l.answer_us, 0.5), percentile(&mut l.answer_us, 0.99));
        println!("{label:<10} 200 OK → answered event p50 {a50:>6.0} µs p99 {a99:>6.0} µs");
    }
    (d50, k50)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    println!("latency: {n} calls each, proxy = a socket of this process, 127.0.0.1");
    let mut mine = ours(n).await;
    let (d, a) = summary("Ringside", &mut mine);
    if let Some(mut theirs) = baresip(n).await {
        let (bd, ba) = summary("baresip", &mut theirs);
        println!("ratio (baresip / Ringside, p50): dial → INVITE {:.1}×, 200 OK → ACK {:.1}×", bd / d, ba / a);
    }
    if Command::new("sipp").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        println!("sipp is not installed: the load run is left out");
        return;
    }
    let seconds: u32 = std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let rates: Vec<u32> = std::env::var("BENCH_RATES").ok().map(|v| v.split(',').filter_map(|r| r.parse().ok()).collect()).unwrap_or_else(|| vec![25, 50, 100, 200]);
    let mut best = None;
    for rate in rates {
        let started = Instant::now();
        match load(&[(rate, seconds)]).await.pop() {
            Some(Ok(p)) => {
                println!("load: {rate} calls/s for {seconds} s: no failed call ({} calls ended here, {:.0} s)", p.ended, started.elapsed().as_secs_f64());
                best = Some(rate);
            }
            Some(Err(e)) => {
                println!("load: {rate} calls/s: {e}");
                break;
            }
            None => break,
        }
    }
    println!("highest rate with no failed call: {} calls/s", best.map(|b| b.to_string()).unwrap_or("none".into()));
    // Leak check: one user agent, 1,000 calls to warm up, then 10,000 more at the same
    // rate; heap in use (and RSS) after each, once the calls have ended.
    let leak_rate: u32 = std::env::var("BENCH_LEAK_RATE").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let leak_calls: u32 = std::env::var("BENCH_LEAK_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let idle = (live_kib(), rss_kib());
    let phases = load(&[(leak_rate, 1_000 / leak_rate), (leak_rate, leak_calls / leak_rate)]).await;
    match (phases.first(), phases.get(1)) {
        (Some(Ok(w)), Some(Ok(a))) => println!(
            "leak check at {leak_rate} calls/s: heap in use {} KiB before, {} KiB after {} calls, {} KiB after {} more (RSS {} → {} → {} KiB)",
            idle.0, w.heap_kib, w.ended, a.heap_kib, a.ended, idle.1, w.rss_kib, a.rss_kib
        ),
        other => println!("leak check failed: {:?}", other.0.map(|r| r.as_ref().err()).or(other.1.map(|r| r.as_ref().err()))),
    }
}
