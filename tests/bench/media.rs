//! Call audio benchmarks for docs/BENCHMARKS.md. Run: `make bench-media`
//! (`cargo bench -p ringside --bench media`; the call part needs kamailio and baresip).
//!
//! 1. Cost per frame, in this process: Opus, G.722 and G.711 encode and decode of
//!    20 ms, voice processing (AEC3 + NS + AGC2) of 10 ms at 16 and 48 kHz, SRTP
//!    protect + unprotect of a packet, jitter buffer insert + pop.
//! 2. A call's CPU and memory, side by side with baresip on the same testbed: baresip
//!    "bob" answers through Kamailio; our user agent calls it for BENCH_CALL_SECONDS
//!    (default 60) with Opus, then PCMU; then baresip "carol" makes the same calls.
//!    Both sides send a generated tone and play what they hear into the sound server
//!    (a PulseAudio null sink under tests/scripts/with-session, in real time).
//!    Ours is this process's CPU time (getrusage) during the call; carol's is read
//!    from /proc.
//! 3. Memory over BENCH_CALLS (default 100) consecutive short calls: the heap after
//!    every call, back to where it started or not.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringside::clock::SystemClock;
use ringside::media::codec::{CodecKind, Decoder, Encoder, OpusOptions};
use ringside::media::sdp::{OPUS, PCMU};
use ringside::secrets::Sensitive;
use ringside::sip::registration::Account;
use ringside::sip::ua::{UaConfig, UaEvent, UserAgent};

#[path = "../support/bench_common.rs"]
mod bench_common;
use bench_common::{free_port, live_kib};

#[global_allocator]
static ALLOCATOR: bench_common::Counting = bench_common::Counting;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// µs per call of `f`, median of 5 runs of `n`.
fn per_call(n: usize, mut f: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}

fn frame_costs() {
    println!("## Cost per frame (median of 5 runs)\n");
    println!("| step | µs per frame | share of one core in a call |");
    println!("|---|---:|---:|");
    for kind in [CodecKind::Opus, CodecKind::G722, CodecKind::Pcmu] {
        let pcm = ringside::media::analysis::sine(440.0, kind.audio_rate(), kind.frame_samples(), 0.3);
        let mut enc = Encoder::new(kind, OpusOptions { fec: true, dtx: false }).unwrap();
        let mut dec = Decoder::new(kind).unwrap();
        let mut payload = Vec::with_capacity(1_500);
        let mut out = vec![0i16; kind.frame_samples()];
        let e = per_call(500, || {
            payload.clear();
            enc.encode(&pcm, &mut payload).unwrap();
        });
        let d = per_call(500, || {
            dec.decode(&payload, &mut out).unwrap();
        });
        println!("| {} encode 20 ms | {e:.1} | {:.2} % |", kind.name(), e / 200.0);
        println!("| {} decode 20 ms | {d:.1} | {:.2} % |", kind.name(), d / 200.0);
    }
    for rate in [16_000u32, 48_000] {
        let mut vp = ringside::audio::dsp::VoiceProcessor::new(rate, rate).unwrap();
        let chunk = (rate / 100) as usize;
        let far = ringside::media::analysis::sine(300.0, rate, chunk, 0.2);
        let mut mic = ringside::media::analysis::sine(500.0, rate, chunk, 0.2);
        // Warm up past its start-up.
        for _ in 0..200 {
            vp.render(&far);
            vp.capture(&mut mic);
        }
        let c = per_call(300, || {
            vp.render(&far);
            vp.capture(&mut mic);
        });
        println!("| voice processing 10 ms at {} kHz (render + capture) | {c:.1} | {:.2} % |", rate / 1_000, c / 100.0);
    }
    let keys = ringside::media::srtp::SdesKeys { suite: "AES_CM_128_HMAC_SHA1_80", tag: 1, local: [1; 30], remote: [1; 30] };
    let mut a = ringside::media::srtp::SrtpSession::new(&keys).unwrap();
    let mut b = ringside::media::srtp::SrtpSession::new(&keys).unwrap();
    let mut packet = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    packet.extend_from_slice(&[0xD5; 160]);
    let mut seq = 0u16;
    let s = per_call(2_000, || {
        seq = seq.wrapping_add(1);
        packet[2..4].copy_from_slice(&seq.to_be_bytes());
        let p = a.protect_rtp(&packet).unwrap();
        b.unprotect_rtp(&p).unwrap();
    });
    println!("| SRTP protect + unprotect (172 B) | {s:.1} | {:.2} % |", s / 200.0);
    let mut jb = ringside::media::jitter::JitterBuffer::new();
    let payload = [0u8; 160];
    let mut seq = 0u16;
    let j = per_call(10_000, || {
        seq = seq.wrapping_add(1);
        jb.insert(seq, 0, &payload);
        let _ = jb.pop();
    });
    println!("| jitter buffer insert + pop | {j:.2} | {:.3} % |", j / 200.0);
    let cpu0 = own_cpu_s();
    let t = Instant::now();
    for _ in 0..5 {
        let _ = ringside::audio::enumerate();
    }
    println!("| listing the audio devices (not per frame) | {:.0} wall, {:.0} CPU | — |", t.elapsed().as_secs_f64() * 1e6 / 5.0, (own_cpu_s() - cpu0) * 1e6 / 5.0);
    println!();
}

/// A testbed process and the folder its configuration lives in (removed with it).
struct Daemon(Child, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn kamailio() -> Option<(Daemon, SocketAddr)> {
    if Command::new("kamailio").arg("-v").stdout(Stdio::null()).status().is_err() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let (udp, tcp) = (free_port(), free_port());
    let child = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/kamailio/start"))
        .args([udp.to_string(), tcp.to_string()])
        .env("TESTBED_DIR", dir.path())
        .env("TESTBED_USERS", "alice:alice-secret bob:bob-secret carol:carol-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(1_500));
    Some((Daemon(child, dir), format!("127.0.0.1:{udp}").parse().unwrap()))
}

/// baresip registered as `user`, offering `codec`; waits until it registered.
fn baresip(user: &str, proxy: SocketAddr, codec: &str, ctrl: Option<u16>) -> Option<Daemon> {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/baresip/start"))
        .args([user, &format!("{user}-secret"), &proxy.port().to_string(), &free_port().to_string()])
        .env("TESTBED_DIR", dir.path())
        .env("TESTBED_CODECS", codec)
        .env("TESTBED_CTRL_PORT", ctrl.map(|p| p.to_string()).unwrap_or_default())
        .env("TESTBED_PLAYER", "alsa,default")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.contains("200 OK") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10)).ok()?;
    Some(Daemon(child, dir))
}

fn own_cpu_s() -> f64 {
    let mut usage = std::mem::MaybeUninit::<Rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    unsafe { getrusage(0, usage.as_mut_ptr()) };
    let u = unsafe { usage.assume_init() };
    u.utime.secs as f64 + u.utime.micros as f64 / 1e6 + u.stime.secs as f64 + u.stime.micros as f64 / 1e6
}

#[repr(C)]
struct Timeval {
    secs: i64,
    micros: i64,
}

#[repr(C)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    rest: [i64; 14],
}

unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

/// CPU seconds of process `pid` and its threads, from /proc.
fn proc_cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// CPU seconds of each of this process's threads.
fn thread_cpu() -> std::collections::BTreeMap<String, (String, f64)> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let tid = e.file_name().to_string_lossy().to_string();
        let name = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default().trim().to_string();
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0) + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
        out.insert(tid, (name, ticks / 100.0));
    }
    out
}

fn proc_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())).unwrap_or(0)
}

async fn our_call(proxy: SocketAddr, codecs: Vec<ringside::media::sdp::Codec>, seconds: u64, voice_processing: bool) -> (f64, i64, i64, u32) {
    let mut config = UaConfig::new(Account { user: "alice".into(), auth_user: None, domain: "ringside.test".into(), password: Sensitive::new("alice-secret".into()), expires: 600 }, proxy, false);
    config.media.codecs = codecs;
    // A tone like baresip's ausine; what we hear goes to the sound server.
    let hub = ringside::audio::stream::AudioHub::new();
    hub.set_voice_processing(voice_processing);
    config.media.audio = Arc::new(move || {
        let mut audio = hub.call_audio();
        audio.source = Box::new(ringside::audio::io::ToneSource::new(1_000.0, 0.3));
        audio
    });
    let ua = UserAgent::start(config, Arc::new(SystemClock)).await.unwrap();
    let mut events = ua.subscribe();
    let before_heap = live_kib();
    let id = ua.dial("sip:bob@ringside.test").await.unwrap();
    loop {
        if let Ok(UaEvent::Call(c)) = events.recv().await {
            if c.id == id && c.state.is_answered() {
                break;
            }
        }
    }
    let cpu0 = own_cpu_s();
    let threads0 = thread_cpu();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let cpu = own_cpu_s() - cpu0;
    if std::env::var_os("BENCH_THREADS").is_some() {
        let threads = thread_cpu();
        for (tid, (name, t)) in &threads {
            let before = threads0.get(tid).map_or(0.0, |x| x.1);
            if t - before > 0.01 {
                eprintln!("thread {tid} {name}: {:.2} s", t - before);
            }
        }
    }
    let during = live_kib();
    ua.hang_up(id).await.unwrap();
    let received = loop {
        if let Ok(UaEvent::Call(c)) = events.recv().await {
            if c.id == id && c.state.is_ended() {
                break c.media.received;
            }
        }
    };
    ua.stop().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    (cpu, during - before_heap, live_kib() - before_heap, received)
}

fn baresip_call(carol: &Daemon, ctrl: u16, seconds: u64) -> (f64, u64) {
    let mut ctl = BaresipCtl::connect(ctrl);
    ctl.command("dial", "sip:bob@ringside.test");
    ctl.event("CALL_ESTABLISHED", Duration::from_secs(10)).expect("carol's call is established");
    let pid = carol.0.id();
    let cpu0 = proc_cpu_s(pid);
    std::thread::sleep(Duration::from_secs(seconds));
    let cpu = proc_cpu_s(pid) - cpu0;
    let rss = proc_rss_kib(pid);
    ctl.command("hangup", "");
    ctl.event("CALL_CLOSED", Duration::from_secs(10));
    (cpu, rss)
}

#[path = "../support/baresip_ctl.rs"]
mod baresip_ctl;
use baresip_ctl::BaresipCtl;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    frame_costs();
    let seconds = env_u64("BENCH_CALL_SECONDS", 60);
    let Some((_k, proxy)) = kamailio() else {
        println!("kamailio is not installed: the call part is left out");
        return;
    };
    println!("## A {seconds} s call, side by side with baresip\n");
    println!("| codec | ours: CPU | baresip: CPU | ratio | ours: heap during / after hang-up | packets received |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (codec, ours_codecs, baresip_codec, processing) in [("Opus", vec![OPUS], "opus/48000/2", false), ("PCMU", vec![PCMU], "PCMU", false), ("Opus, ours with voice processing", vec![OPUS], "opus/48000/2", true)] {
        let Some(_bob) = baresip("bob", proxy, baresip_codec, None) else {
            println!("baresip is not installed: the call part is left out");
            return;
        };
        let (cpu, during, after, received) = our_call(proxy, ours_codecs, seconds, processing).await;
        let ctrl = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let carol = baresip("carol", proxy, baresip_codec, Some(ctrl)).expect("carol registers");
        let (b_cpu, b_rss) = tokio::task::spawn_blocking(move || {
            let r = baresip_call(&carol, ctrl, seconds);
            drop(carol);
            r
        })
        .await
        .unwrap();
        let pct = |c: f64| c / seconds as f64 * 100.0;
        println!(
            "| {codec} | {:.2} % of a core | {:.2} % of a core | {:.2}× | {during} KiB / {after} KiB | {received} |",
            pct(cpu),
            pct(b_cpu),
            cpu / b_cpu.max(1e-9)
        );
        eprintln!("(baresip carol's resident memory during its call: {b_rss} KiB)");
    }
    println!();
    let calls = env_u64("BENCH_CALLS", 100);
    let Some(_bob) = baresip("bob", proxy, "PCMU", None) else { return };
    let start = live_kib();
    let mut after = Vec::new();
    for _ in 0..calls {
        let (_, _, left, _) = our_call(proxy, vec![PCMU], 1, true).await;
        after.push(left);
    }
    println!("## {calls} consecutive 1 s calls\n");
    println!("Heap left after each call, relative to before it (KiB): first {}, median {}, last {}, max {}; process heap before {start} KiB, after {} KiB.\n", after[0], { let mut s = after.clone(); s.sort(); s[s.len() / 2] }, after[after.len() - 1], after.iter().max().unwrap(), live_kib());
}
