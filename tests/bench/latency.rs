//! Client-added audio latency for docs/BENCHMARKS.md. Run: `make bench-media` (its
//! second part) or `tests/scripts/with-session cargo bench -p ringside --bench latency`.
//!
//! A rig on the sound server plays a 1 kHz burst every second into a null sink whose
//! monitor is our microphone. Our media engine, with default settings (Opus, voice
//! processing on, the devices through the sound server), sends it to a reflector on
//! 127.0.0.1, which notes when the burst's first packet arrived (decoding it) and sends
//! every packet straight back; what we play goes into a second null sink, whose monitor
//! the rig records.
//!
//! - capture to wire: burst played → its packet at the reflector;
//! - wire to playout: packet back at us → burst heard on the speaker sink.
//!
//! The rig's times are corrected by the sound server's own latency figures; the same
//! rig looped straight (one sink into its own monitor) shows what error is left, and
//! is subtracted. BENCH_BURSTS (default 12) sets how many bursts are timed.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libpulse_binding::def::BufferAttr;
use libpulse_binding::sample::{Format, Spec};
use libpulse_binding::stream::Direction;
use libpulse_simple_binding::Simple;
use ringside::audio::{AudioRole, DevicePreference};
use ringside::media::codec::{CodecKind, Decoder};
use ringside::media::sdp::{Direction as MediaDirection, Negotiated};
use ringside::media::MediaBackend;

const RATE: u32 = 48_000;
/// The rig's chunk: 5 ms.
const CHUNK: usize = 240;
/// The burst: 60 ms of 1 kHz every second.
const BURST: usize = 2_880;
const PERIOD: usize = 48_000;
/// A burst starts where the level rises above this after at least 300 ms under QUIET.
const LOUD: f32 = 0.05;
const QUIET: f32 = 0.01;

struct Sink(String);

impl Sink {
    fn load(name: &str) -> Sink {
        let out = Command::new("pactl").args(["load-module", "module-null-sink", &format!("sink_name={name}"), "rate=48000"]).output().expect("pactl");
        assert!(out.status.success(), "a null sink for the rig: {}", String::from_utf8_lossy(&out.stderr));
        Sink(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = Command::new("pactl").args(["unload-module", &self.0]).status();
    }
}

fn spec() -> Spec {
    Spec { format: Format::FLOAT32NE, rate: RATE, channels: 1 }
}

/// Plays a burst every second into `sink` for `bursts` seconds; returns when each
/// burst's first sample was played, by the server's latency figure.
fn play_bursts(sink: &str, bursts: usize, epoch: Instant) -> Vec<f64> {
    let attr = BufferAttr { maxlength: u32::MAX, tlength: (CHUNK * 4 * 4) as u32, prebuf: u32::MAX, minreq: (CHUNK * 4) as u32, fragsize: u32::MAX };
    let simple = Simple::new(None, "ringside-bench", Direction::Playback, Some(sink), "rig", &spec(), None, Some(&attr)).expect("the rig plays");
    let mut played = Vec::new();
    let mut buf = [0u8; CHUNK * 4];
    let total = (bursts + 1) * PERIOD;
    let mut n = 0usize;
    while n < total {
        let mut onset = None;
        for (i, b) in buf.chunks_exact_mut(4).enumerate() {
            let k = n + i;
            let in_period = k % PERIOD;
            let s = if k >= PERIOD && in_period < BURST { 0.5 * (2.0 * std::f32::consts::PI * 1_000.0 * in_period as f32 / RATE as f32).sin() } else { 0.0 };
            if k >= PERIOD && in_period == 0 {
                onset = Some(i);
            }
            b.copy_from_slice(&s.to_ne_bytes());
        }
        simple.write(&buf).expect("the rig writes");
        n += CHUNK;
        if let Some(i) = onset {
            let latency = simple.get_latency().map(|l| l.0 as f64 / 1e6).unwrap_or(0.0);
            let now = epoch.elapsed().as_secs_f64();
            played.push(now + latency - (CHUNK - i) as f64 / f64::from(RATE));
        }
    }
    let _ = simple.drain();
    played
}

/// Records `source` for `seconds`; returns when each burst was heard.
fn hear_bursts(source: &str, seconds: f64, epoch: Instant) -> Vec<f64> {
    let attr = BufferAttr { maxlength: u32::MAX, tlength: u32::MAX, prebuf: u32::MAX, minreq: u32::MAX, fragsize: (CHUNK * 4) as u32 };
    let simple = Simple::new(None, "ringside-bench", Direction::Record, Some(source), "rig", &spec(), None, Some(&attr)).expect("the rig records");
    let mut heard = Vec::new();
    let mut buf = [0u8; CHUNK * 4];
    let mut onset = Onset::default();
    while epoch.elapsed().as_secs_f64() < seconds {
        simple.read(&mut buf).expect("the rig reads");
        let latency = simple.get_latency().map(|l| l.0 as f64 / 1e6).unwrap_or(0.0);
        let now = epoch.elapsed().as_secs_f64();
        for (i, b) in buf.chunks_exact(4).enumerate() {
            if onset.starts(f32::from_ne_bytes([b[0], b[1], b[2], b[3]])) {
                heard.push(now - latency - (CHUNK - i) as f64 / f64::from(RATE));
            }
        }
    }
    heard
}

/// Finds where a burst starts: the first loud sample after 300 ms of quiet.
#[derive(Default)]
struct Onset {
    quiet: usize,
    armed: bool,
}

impl Onset {
    fn starts(&mut self, sample: f32) -> bool {
        let s = sample.abs();
        if self.armed && s > LOUD {
            self.armed = false;
            self.quiet = 0;
            return true;
        }
        self.quiet = if s < QUIET { self.quiet + 1 } else { 0 };
        if self.quiet >= RATE as usize * 3 / 10 {
            self.armed = true;
        }
        false
    }
}

/// For each heard burst, the delay since the burst played just before it (the rig's
/// own error can make it slightly negative).
fn delays(played: &[f64], heard: &[f64]) -> Vec<f64> {
    heard.iter().filter_map(|&h| played.iter().rev().find(|&&p| h - p > -0.05 && h - p < 0.5).map(|&p| (h - p) * 1e3)).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The range of `v`, less `offset`.
fn spread(v: &[f64], offset: f64) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min) - offset;
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - offset;
    format!("{lo:.1}–{hi:.1}")
}

/// The rig alone: a sink into its own monitor.
fn baseline(bursts: usize) -> Vec<f64> {
    let _sink = Sink::load("rig_loop");
    let epoch = Instant::now();
    let seconds = (bursts + 2) as f64;
    let rec = std::thread::spawn(move || hear_bursts("rig_loop.monitor", seconds, epoch));
    std::thread::sleep(Duration::from_millis(300));
    let played = play_bursts("rig_loop", bursts, epoch);
    let heard = rec.join().unwrap();
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!("rig: played {played:?}\nheard {heard:?}");
    }
    delays(&played, &heard)
}

/// Sends back every packet; notes when each burst first shows in what it decodes.
async fn reflector(socket: tokio::net::UdpSocket, epoch: Instant, arrivals: Arc<Mutex<Vec<f64>>>) {
    let mut decoder = Decoder::new(CodecKind::Opus).unwrap();
    let mut pcm = vec![0i16; CodecKind::Opus.frame_samples()];
    let mut buf = [0u8; 1_500];
    let mut onset = Onset::default();
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let at = epoch.elapsed().as_secs_f64();
        let _ = socket.send_to(&buf[..n], from).await;
        if n < 12 {
            continue;
        }
        let start = 12 + usize::from(buf[0] & 0x0f) * 4;
        if buf[1] & 0x7f != 111 || n <= start {
            continue;
        }
        let Ok(got) = decoder.decode(&buf[start..n], &mut pcm) else { continue };
        // Every sample goes through the detector, which keeps its state.
        let mut hit = false;
        for &s in &pcm[..got] {
            hit |= onset.starts(f32::from(s) / 32_768.0);
        }
        if hit {
            arrivals.lock().unwrap().push(at);
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if Command::new("pactl").arg("info").output().map(|o| !o.status.success()).unwrap_or(true) {
        println!("no sound server: run under tests/scripts/with-session");
        return;
    }
    let bursts = std::env::var("BENCH_BURSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(12usize);
    let rig = tokio::task::spawn_blocking(move || baseline(bursts)).await.unwrap();

    let _mic = Sink::load("lat_mic");
    let _spk = Sink::load("lat_spk");
    let hub = ringside::audio::stream::AudioHub::new();
    hub.set_preference(AudioRole::Microphone, Some(DevicePreference { id: "pulseaudio:lat_mic.monitor".into(), name: "Monitor of lat_mic".into() }));
    hub.set_preference(AudioRole::Speaker, Some(DevicePreference { id: "pulseaudio:lat_spk".into(), name: "lat_spk".into() }));
    let epoch = Instant::now();
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let remote = socket.local_addr().unwrap();
    let rtcp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(reflector(socket, epoch, arrivals.clone()));
    let mut media = ringside::media::session::AudioMedia::bind("127.0.0.1".parse().unwrap(), hub.call_audio()).await.unwrap();
    let ours: SocketAddr = format!("127.0.0.1:{}", media.port()).parse().unwrap();
    media.apply(&Negotiated {
        codec: "opus".into(),
        payload_type: 111,
        rate: 48_000,
        fmtp: Some("useinbandfec=1".into()),
        telephone_event: None,
        remote: Some(remote),
        remote_rtcp: Some(rtcp.local_addr().unwrap()),
        rtcp_mux: false,
        direction: MediaDirection::SendRecv,
        srtp: None,
        dtls: None,
        ice: None,
    });
    // The devices open and the jitter buffer settles before the first burst.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seconds = epoch.elapsed().as_secs_f64() + (bursts + 2) as f64;
    let rec = std::thread::spawn(move || hear_bursts("lat_spk.monitor", seconds, epoch));
    let play = std::thread::spawn(move || play_bursts("lat_mic", bursts, epoch));
    let mut buffer_ms = Vec::new();
    while !play.is_finished() {
        tokio::time::sleep(Duration::from_millis(250)).await;
        buffer_ms.push(f64::from(media.stats().buffer_ms));
    }
    let played = play.join().unwrap();
    let heard = tokio::task::spawn_blocking(move || rec.join().unwrap()).await.unwrap();
    let stats = media.stats();
    drop(media);
    let _ = ours;
    let arrivals = arrivals.lock().unwrap().clone();
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!("played {played:?}\narrivals {arrivals:?}\nheard {heard:?}");
    }
    let capture = delays(&played, &arrivals);
    let playout = delays(&arrivals, &heard);
    let total = delays(&played, &heard);
    let rig_ms = median(rig.clone());
    println!("## Client-added latency ({bursts} bursts, Opus, default settings)\n");
    println!("| path | median ms | range ms | bursts |");
    println!("|---|---:|---:|---:|");
    println!("| the rig alone (sink → its monitor), subtracted below | {rig_ms:.1} | {} | {} |", spread(&rig, 0.0), rig.len());
    println!("| capture → wire (at the reflector) | {:.1} | {} | {} |", median(capture.clone()) - rig_ms / 2.0, spread(&capture, rig_ms / 2.0), capture.len());
    println!("| wire → playout (heard on the speaker sink) | {:.1} | {} | {} |", median(playout.clone()) - rig_ms / 2.0, spread(&playout, rig_ms / 2.0), playout.len());
    println!("| both ways, mic to speaker | {:.1} | {} | {} |", median(total.clone()) - rig_ms, spread(&total, rig_ms), total.len());
    println!();
    println!("Jitter buffer during the run: median {:.0} ms; packets sent {}, received {}, concealed {} ms.\n", median(buffer_ms), stats.sent, stats.received, stats.concealed_ms);
}
