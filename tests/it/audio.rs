//! Call audio through the real testbed: baresip (behind Kamailio) answers with a
//! 440 Hz tone and records what it decodes; we send 1 kHz and keep what we decode.
//! Each side's sound is checked for its pitch and level (Goertzel), per codec and
//! with SDES-SRTP.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside::audio::io::{CallAudio, Recorder, Recording, Silence, ToneSource};
use ringside::audio::stream::AudioHub;
use ringside::audio::{AudioRole, DevicePreference};
use ringside::clock::SystemClock;
use ringside::media::analysis::{goertzel_level, longest_silence_ms};
use ringside::media::sdp::{Direction, Negotiated, ALL_CODECS};
use ringside::media::session::AudioMedia;
use ringside::media::MediaBackend;
use ringside::media::srtp::SrtpMode;
use ringside::media::MediaConfig;
use ringside::sip::ua::{CallInfo, UaConfig, UaEvent, UserAgent};

use crate::calls::baresip_env;
use crate::registration::{account, kamailio};

/// Our tone and baresip's.
const OURS: f32 = 1_000.0;
const THEIRS: f32 = 440.0;

struct Heard {
    call: CallInfo,
    ours: Recording,
    /// What baresip decoded from us: rate and samples (first channel).
    theirs: Option<(u32, Vec<i16>)>,
}

fn read_wav(path: &Path) -> (u32, Vec<i16>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let samples: Vec<i16> = r.samples::<i16>().step_by(spec.channels as usize).map(Result::unwrap).collect();
    (spec.sample_rate, samples)
}

/// One 3-second call to baresip offering only `codecs`, with its media encryption.
async fn tone_call(codecs: &str, mediaenc: Option<&str>, srtp: SrtpMode) -> Option<Heard> {
    tone_call_env(codecs, mediaenc, srtp, &[]).await
}

async fn tone_call_env(codecs: &str, mediaenc: Option<&str>, srtp: SrtpMode, extra: &[(&'static str, &str)]) -> Option<Heard> {
    let k = kamailio(&[])?;
    let record = tempfile::tempdir().unwrap();
    let mut env = vec![("TESTBED_CODECS", codecs.to_string()), ("TESTBED_RECORD_DIR", record.path().display().to_string())];
    if let Some(m) = mediaenc {
        env.push(("TESTBED_MEDIAENC", m.to_string()));
    }
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let bob = baresip_env("bob", "bob-secret", k.addr.port(), &env)?;
    let recorder = Recorder::new(10);
    let keep = recorder.clone();
    let mut config = UaConfig::new(account("alice", "alice-secret", 600), k.addr, false);
    config.media = MediaConfig {
        codecs: ALL_CODECS.to_vec(),
        srtp,
        // A steady tone is what noise suppression removes: off for tone checks.
        audio: Arc::new(move || CallAudio { source: Box::new(ToneSource::new(OURS, 0.3)), sink: Box::new(keep.clone()), voice_processing: false }),
    };
    let report = ringside::sip::udp::call_with(config, "sip:bob@ringside.test".into(), Duration::from_secs(3), Duration::from_secs(20), Arc::new(SystemClock)).await.unwrap();
    let call = report.call.expect("the call happened");
    // baresip closes its files when the call ends.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(bob);
    let dec = std::fs::read_dir(record.path()).unwrap().filter_map(Result::ok).map(|e| e.path()).find(|p| p.to_string_lossy().contains("dec"));
    Some(Heard { call, ours: recorder.recording(), theirs: dec.as_deref().map(read_wav) })
}

fn check(heard: &Heard, codec: &str) {
    let call = &heard.call;
    eprintln!("{codec}: {:?}", call.media);
    assert_eq!(call.codec.as_deref(), Some(codec), "{call:?}");
    // What we decoded: baresip's 440 Hz, steady, no gaps past the start.
    let rec = &heard.ours;
    assert!(rec.samples.len() as u32 >= rec.rate * 2, "at least 2 s played: {} samples at {}", rec.samples.len(), rec.rate);
    // From half a second after the far end's sound began (ICE and DTLS take a moment).
    let began = rec.samples.iter().position(|s| s.unsigned_abs() > 160).unwrap_or(0);
    let tail = &rec.samples[(began + rec.rate as usize / 2).min(rec.samples.len())..];
    assert!(tail.len() as u32 >= rec.rate, "{codec}: at least 1 s of the far end's sound");
    let tone = goertzel_level(tail, rec.rate, THEIRS);
    let other = goertzel_level(tail, rec.rate, OURS);
    assert!(tone > 0.02 && tone > other * 10.0, "{codec}: we hear 440 Hz at {tone} (1 kHz at {other})");
    assert!(longest_silence_ms(tail, rec.rate, 0.005) <= 20, "{codec}: our playout has no gaps");
    // What baresip decoded: our 1 kHz at about the level we sent (0.3).
    let (rate, samples) = heard.theirs.as_ref().expect("baresip recorded the call");
    assert!(samples.len() as u32 >= rate * 2, "baresip heard at least 2 s: {}", samples.len());
    let tail = &samples[*rate as usize / 2..];
    let level = goertzel_level(tail, *rate, OURS);
    assert!((0.15..0.45).contains(&level), "{codec}: baresip hears 1 kHz at {level}");
    assert!(goertzel_level(tail, *rate, THEIRS) < level / 10.0, "{codec}: and not its own tone");
    assert!(call.media.sent >= 100 && call.media.received >= 100, "{:?}", call.media);
    assert!(call.media.lost <= 2, "no loss on the loopback beyond a stray packet: {:?}", call.media);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_codec_carries_sound_both_ways_with_baresip() {
    for (offered, agreed) in [("opus/48000/2", "opus"), ("G722/16000/1", "G722"), ("PCMU", "PCMU"), ("PCMA", "PCMA")] {
        let Some(heard) = tone_call(offered, None, SrtpMode::Off).await else { return };
        check(&heard, agreed);
        assert!(!heard.call.media.srtp);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sdes_srtp_carries_sound_and_is_refused_when_only_one_side_insists() {
    // baresip insists on RTP/SAVP; we offer it when the account requires SRTP.
    let Some(heard) = tone_call("opus/48000/2", Some("srtp-mand"), SrtpMode::Required).await else { return };
    check(&heard, "opus");
    assert!(heard.call.media.srtp, "{:?}", heard.call.media);
    assert_eq!(heard.call.media.srtp_failures, 0);
    // Best effort on both sides: RTP/AVP with crypto lines, and the keys are taken.
    let Some(heard) = tone_call("PCMA", Some("srtp"), SrtpMode::Optional).await else { return };
    check(&heard, "PCMA");
    assert!(heard.call.media.srtp);
    // We insist, baresip cannot: the call is refused, not carried in the clear.
    let Some(heard) = tone_call("PCMU", None, SrtpMode::Required).await else { return };
    assert_eq!(heard.call.answered_at, None, "{:?}", heard.call);
    assert!(matches!(heard.call.state, ringside::sip::call::CallState::Ended { code: Some(c), .. } if c >= 400), "{:?}", heard.call.state);
    assert_eq!(heard.call.media.sent, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn dtls_srtp_keys_calls_with_baresip_and_with_a_second_user_agent() {
    // We offer UDP/TLS/RTP/SAVP with our fingerprint; baresip's dtls_srtp answers.
    let Some(heard) = tone_call("opus/48000/2", Some("dtls_srtp"), SrtpMode::Dtls).await else { return };
    check(&heard, "opus");
    assert!(heard.call.media.srtp, "{:?}", heard.call.media);
    assert_eq!(heard.call.media.srtp_failures, 0);
    // A plain far end: refused, not carried in the clear.
    let Some(heard) = tone_call("PCMU", None, SrtpMode::Dtls).await else { return };
    assert_eq!(heard.call.answered_at, None, "{:?}", heard.call);
    assert_eq!(heard.call.media.sent, 0);

    // baresip doing ICE as well: its connectivity checks reach our ICE-lite side, it
    // nominates our host candidate, and the DTLS-SRTP call carries sound.
    let Some(heard) = tone_call_env("opus/48000/2", Some("dtls_srtp"), SrtpMode::Dtls, &[("TESTBED_MEDIANAT", "ice")]).await else { return };
    check(&heard, "opus");
    assert!(heard.call.media.srtp && heard.call.media.ice_checks > 0, "{:?}", heard.call.media);

    // Two of our user agents: alice requires DTLS-SRTP, bob (encryption off) takes
    // the offer, answers with the active role and starts the handshake.
    let Some(k) = kamailio(&[]) else { return };
    let side = |user: &str, password: &str, srtp: SrtpMode, tone: f32| {
        let recorder = Recorder::new(10);
        let keep = recorder.clone();
        let mut config = UaConfig::new(account(user, password, 600), k.addr, true);
        config.media = MediaConfig { codecs: ALL_CODECS.to_vec(), srtp, audio: Arc::new(move || CallAudio { source: Box::new(ToneSource::new(tone, 0.3)), sink: Box::new(keep.clone()), voice_processing: false }) };
        (config, recorder)
    };
    let (bob_config, bob_heard) = side("bob", "bob-secret", SrtpMode::Off, THEIRS);
    let mut bob = UserAgent::start(bob_config, Arc::new(SystemClock)).await.unwrap();
    let state = bob.wait_registration(Duration::from_secs(10), |s| matches!(s, ringside::sip::registration::RegistrationState::Registered { .. })).await;
    assert!(matches!(state, ringside::sip::registration::RegistrationState::Registered { .. }), "{state:?}");
    let mut bob_events = bob.subscribe();
    let (alice_config, alice_heard) = side("alice", "alice-secret", SrtpMode::Dtls, OURS);
    let alice = UserAgent::start(alice_config, Arc::new(SystemClock)).await.unwrap();
    let mut alice_events = alice.subscribe();
    let id = alice.dial("sip:bob@ringside.test").await.unwrap();
    let ringing = crate::incoming::wait_call(&mut bob_events, Duration::from_secs(10), |c| c.state == ringside::sip::call::CallState::Incoming).await;
    bob.answer(ringing.id).await.unwrap();
    let _ = crate::incoming::wait_call(&mut alice_events, Duration::from_secs(10), |c| c.id == id && c.state.is_answered()).await;
    let keyed = crate::incoming::wait_call(&mut alice_events, Duration::from_secs(5), |c| c.id == id && c.media.srtp).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    alice.hang_up(id).await.unwrap();
    let _ = crate::incoming::wait_call(&mut bob_events, Duration::from_secs(10), |c| c.state.is_ended()).await;
    assert!(keyed.media.srtp && keyed.media.srtp_failures == 0, "{:?}", keyed.media);
    for (who, rec, want, not) in [("alice", alice_heard.recording(), THEIRS, OURS), ("bob", bob_heard.recording(), OURS, THEIRS)] {
        assert!(rec.samples.len() as u32 >= rec.rate * 2, "{who} played at least 2 s");
        let tail = &rec.samples[rec.samples.len() - rec.rate as usize..];
        let level = goertzel_level(tail, rec.rate, want);
        assert!(level > 0.1 && goertzel_level(tail, rec.rate, not) < level / 10.0, "{who} hears the other's tone through SRTP: {level}");
    }
    alice.stop().await;
    bob.stop().await;
}

/// A PulseAudio null sink made for one test, removed when dropped (if still there).
struct Sink {
    module: String,
}

impl Sink {
    fn load(name: &str, description: &str) -> Option<Sink> {
        Sink::load_at(name, description, 48_000)
    }

    fn load_at(name: &str, description: &str, rate: u32) -> Option<Sink> {
        let out = Command::new("pactl").args(["load-module", "module-null-sink", &format!("sink_name={name}"), &format!("rate={rate}"), &format!("sink_properties=device.description={description}")]).output().ok()?;
        out.status.success().then(|| Sink { module: String::from_utf8_lossy(&out.stdout).trim().to_string() })
    }

    fn unload(&self) {
        let _ = Command::new("pactl").args(["unload-module", &self.module]).status();
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = Command::new("pactl").args(["unload-module", &self.module]).stderr(Stdio::null()).status();
    }
}

/// Plays `freq` into `sink` for `seconds` (a rep talking into the microphone).
fn play_into(sink: &str, freq: f32, seconds: u32) -> std::process::Child {
    let mut child = Command::new("pacat").args(["--playback", "-d", sink, "--format=s16le", "--rate=48000", "--channels=1", "--raw", "--latency-msec=20"]).stdin(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let tone: Vec<u8> = ringside::media::analysis::sine(freq, 48_000, 48_000 * seconds as usize, 0.3).iter().flat_map(|s| s.to_le_bytes()).collect();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&tone);
    });
    child
}

/// Records what `source` hears (a sink's monitor: what we played to it), with the
/// time each 10 ms arrived.
fn record_from(source: &str) -> (std::process::Child, Arc<Mutex<Vec<i16>>>) {
    let mut child = Command::new("parec").args(["-d", source, "--format=s16le", "--rate=48000", "--channels=1", "--raw", "--latency-msec=20"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let kept = Arc::new(Mutex::new(Vec::new()));
    let k = kept.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 960];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut k = k.lock().unwrap();
            k.extend(buf[..n].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])));
        }
    });
    (child, kept)
}

/// How long `freq` is clearly there (in 100 ms windows) in a 48 kHz recording.
fn tone_ms(samples: &[i16], freq: f32) -> u32 {
    samples.chunks_exact(4_800).filter(|w| goertzel_level(w, 48_000, freq) > 0.1).count() as u32 * 100
}

#[tokio::test(flavor = "multi_thread")]
async fn call_sound_goes_through_the_sound_server_and_a_lost_speaker_falls_back_to_the_default() {
    if Command::new("pactl").arg("info").stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| !s.success()).unwrap_or(true) {
        eprintln!("skipped: no PulseAudio server (run under tests/scripts/with-session)");
        return;
    }
    let Some(k) = kamailio(&[]) else { return };
    let record = tempfile::tempdir().unwrap();
    // baresip sends 523 Hz here, so no other test's 440 Hz on the default sink counts.
    let env = [("TESTBED_CODECS", "opus/48000/2".to_string()), ("TESTBED_TONE", "523".to_string()), ("TESTBED_RECORD_DIR", record.path().display().to_string())];
    let Some(bob) = baresip_env("bob", "bob-secret", k.addr.port(), &env) else { return };
    let tag = format!("rs{}", std::process::id());
    let (headset_name, feed_name) = (format!("{tag}_headset"), format!("{tag}_micfeed"));
    // A headset that runs at 44.1 kHz: both directions are resampled.
    let headset = Sink::load_at(&headset_name, "Test-Headset", 44_100).expect("a null sink loads");
    let _feed = Sink::load_at(&feed_name, "Mic-Feed", 44_100).expect("a null sink loads");
    let mut talker = play_into(&feed_name, 700.0, 15);
    let (mut rec_headset, on_headset) = record_from(&format!("{headset_name}.monitor"));
    let (mut rec_default, on_default) = record_from("nullsink.monitor");

    let hub = AudioHub::new();
    hub.set_preference(AudioRole::Microphone, Some(DevicePreference { id: format!("pulseaudio:{feed_name}.monitor"), name: "Monitor of Mic-Feed".into() }));
    hub.set_preference(AudioRole::Speaker, Some(DevicePreference { id: format!("pulseaudio:{headset_name}"), name: "Test-Headset".into() }));
    let mut config = UaConfig::new(account("alice", "alice-secret", 600), k.addr, false);
    // The microphone feed is a steady tone, which noise suppression would remove.
    hub.set_voice_processing(false);
    let h = hub.clone();
    config.media = MediaConfig { audio: Arc::new(move || h.call_audio()), ..MediaConfig::tone() };
    let ua = UserAgent::start(config, Arc::new(SystemClock)).await.unwrap();
    let mut events = ua.subscribe();
    let id = ua.dial("sip:bob@ringside.test").await.unwrap();
    let mut notices = Vec::new();
    let mut last: Option<CallInfo> = None;
    let mut lost_at = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let mut phase = 0;
    loop {
        let wait = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + Duration::from_millis(200)));
        tokio::select! {
            e = events.recv() => match e {
                Ok(UaEvent::Call(info)) if info.id == id => {
                    let ended = info.state.is_ended();
                    last = Some(info);
                    if ended { break }
                }
                Ok(UaEvent::Notice { id: n, message }) if n == id => notices.push(message),
                _ => {}
            },
            _ = wait => {
                if last.as_ref().and_then(|c| c.answered_at).is_none() { continue }
                // A null sink starts a new stream only after its current block (up to
                // 2 s), and parec hands sound over in blocks: go by what was heard.
                if phase == 0 && tone_ms(&on_headset.lock().unwrap(), 523.0) >= 1_000 {
                    // The headset is unplugged mid-call.
                    headset.unload();
                    lost_at = Some(on_default.lock().unwrap().len());
                    phase = 1;
                } else if phase == 1 && notices.iter().any(|n| n.contains("speaker")) && tone_ms(&on_default.lock().unwrap()[lost_at.unwrap()..], 523.0) >= 1_500 {
                    ua.hang_up(id).await.unwrap();
                    phase = 2;
                }
                assert!(tokio::time::Instant::now() < deadline, "the call went on too long: {last:?}");
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    ua.stop().await;
    drop(bob);
    let _ = (talker.kill(), rec_headset.kill(), rec_default.kill());
    let call = last.unwrap();
    eprintln!("notices: {notices:?}\nmedia: {:?}", call.media);
    assert_eq!(call.state, ringside::sip::call::CallState::Ended { reason: "hung up".into(), code: None }, "the call survived the loss");
    // Before the loss, the headset played baresip's tone.
    let headset = on_headset.lock().unwrap().clone();
    assert!(headset.len() > 48_000 * 2, "{} samples on the headset", headset.len());

    let played = tone_ms(&headset, 523.0);
    assert!(played >= 1_000, "the headset played 523 Hz for {played} ms");
    // After it, the default device did, and the rep was told.
    let default = on_default.lock().unwrap().clone();
    let after = &default[lost_at.unwrap()..];
    let played = tone_ms(after, 523.0);
    assert!(played >= 1_500, "the default device took over: 523 Hz for {played} ms");
    assert!(notices.iter().any(|n| n.contains("speaker") && n.contains("Null-Output")), "{notices:?}");
    // What the rep said into the microphone reached baresip.
    let dec = std::fs::read_dir(record.path()).unwrap().filter_map(Result::ok).map(|e| e.path()).find(|p| p.to_string_lossy().contains("dec")).expect("baresip recorded");
    let (rate, samples) = read_wav(&dec);
    let heard = samples.chunks_exact(rate as usize / 10).filter(|w| goertzel_level(w, rate, 700.0) > 0.1).count() * 100;
    assert!(heard >= 1_500, "baresip heard the microphone's 700 Hz for {heard} ms");
}

/// Forwards RTP from `from` to `to` like a bad network: `loss` of the packets dropped,
/// each delayed 20 ms plus up to `jitter` (so packets overtake each other).
async fn impairing_relay(to: std::net::SocketAddr, loss: f64, jitter: Duration) -> std::net::SocketAddr {
    use rand::{Rng, SeedableRng};
    let socket = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4733);
        let mut buf = vec![0u8; 2_048];
        while let Ok((n, _)) = socket.recv_from(&mut buf).await {
            if rng.random_bool(loss) {
                continue;
            }
            let delay = Duration::from_millis(20) + jitter.mul_f64(rng.random::<f64>());
            let (packet, s) = (buf[..n].to_vec(), socket.clone());
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = s.send_to(&packet, to).await;
            });
        }
    });
    addr
}

fn negotiated(codec: &str, pt: u8, rate: u32, fmtp: Option<&str>, remote: std::net::SocketAddr, rtcp: std::net::SocketAddr) -> Negotiated {
    Negotiated { codec: codec.into(), payload_type: pt, rate, fmtp: fmtp.map(Into::into), telephone_event: Some(101), remote: Some(remote), remote_rtcp: Some(rtcp), rtcp_mux: false, direction: Direction::SendRecv, srtp: None, dtls: None, ice: None }
}

#[tokio::test(flavor = "multi_thread")]
async fn through_loss_jitter_and_reordering_the_sound_stays_continuous_and_the_loss_is_reported() {
    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    for (codec, pt, rate, fmtp) in [("opus", 111, 48_000, Some("useinbandfec=1")), ("PCMU", 0, 8_000, None)] {
        let heard = Recorder::new(10);
        let mut sender = AudioMedia::bind(ip, CallAudio { source: Box::new(ToneSource::new(OURS, 0.3)), sink: Box::new(Silence), voice_processing: false }).await.unwrap();
        let mut receiver = AudioMedia::bind(ip, CallAudio { source: Box::new(Silence), sink: Box::new(heard.clone()), voice_processing: false }).await.unwrap();
        let at = |port: u16| std::net::SocketAddr::new(ip, port);
        // 5 % loss and 40 ms of jitter towards the receiver; its reports come back clean.
        let relay = impairing_relay(at(receiver.port()), 0.05, Duration::from_millis(40)).await;
        sender.apply(&negotiated(codec, pt, rate, fmtp, relay, at(receiver.port() + 1)));
        receiver.apply(&negotiated(codec, pt, rate, fmtp, at(sender.port()), at(sender.port() + 1)));
        // Long enough for a report each way after the first (0.5–1.5 s, then 5 s).
        tokio::time::sleep(Duration::from_millis(7_500)).await;
        let (rx, tx) = (receiver.stats(), sender.stats());
        eprintln!("{codec}: receiver {rx:?}\n{codec}: sender {tx:?}");
        let rec = heard.recording();
        assert_eq!(rec.rate, rate);
        let tail = &rec.samples[rec.rate as usize..];
        // Every gap is filled: no silence longer than a frame, the tone throughout.
        let gap = longest_silence_ms(tail, rec.rate, 0.02);
        assert!(gap <= 20, "{codec}: a gap of {gap} ms");
        let level = goertzel_level(tail, rec.rate, OURS);
        assert!(level > 0.2, "{codec}: the tone at {level}");
        // The loss shows in the receiver's quality and, through RTCP, the sender's.
        assert!(rx.lost >= 5 && rx.concealed_ms >= 100, "{codec}: {rx:?}");
        assert!(rx.jitter_ms >= 5, "{codec}: jitter measured {rx:?}");
        assert!(rx.buffer_ms >= 40, "{codec}: the buffer grew for the jitter: {rx:?}");
        assert!(tx.far_loss_permille.is_some_and(|l| l > 10), "{codec}: the sender hears of the loss: {tx:?}");
        assert!(tx.rtt_ms.is_some(), "{codec}: and the round trip: {tx:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ringtone_plays_on_the_ringer_device_until_stopped() {
    if Command::new("pactl").arg("info").stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| !s.success()).unwrap_or(true) {
        eprintln!("skipped: no PulseAudio server (run under tests/scripts/with-session)");
        return;
    }
    let name = format!("rs{}_ringer", std::process::id());
    let _sink = Sink::load(&name, "Desk-Speaker").expect("a null sink loads");
    let (mut rec, heard) = record_from(&format!("{name}.monitor"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ringer = ringside::audio::tones::Ringer::start(Some(DevicePreference { id: format!("pulseaudio:{name}"), name: "Desk-Speaker".into() }));
    // A null sink starts playing a new stream only after its current block (up to
    // 2 s); a sound card starts at once.
    tokio::time::sleep(Duration::from_millis(3_600)).await;
    drop(ringer);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // parec hands its sound over in blocks: stop it politely so it flushes.
    let _ = Command::new("kill").args(["-INT", &rec.id().to_string()]).status();
    let _ = rec.wait();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let all = heard.lock().unwrap().clone();
    // 50 ms windows: sound for 0.8 s on, 0.2 s off, 0.8 s on (then 2.2 s off), and
    // both pitches of the warble.
    let windows: Vec<&[i16]> = all.chunks_exact(2_400).collect();
    let sounding = windows.iter().filter(|w| ringside::media::analysis::rms(w) > 0.1).count() * 50;
    assert!((1_000..=2_200).contains(&sounding), "the ringtone sounded for {sounding} ms of {} ms", windows.len() * 50);
    let peak = |f: f32| windows.iter().map(|w| goertzel_level(w, 48_000, f)).fold(0.0f32, f32::max);
    assert!(peak(1_000.0) > 0.2 && peak(1_250.0) > 0.2, "1000 Hz at {}, 1250 Hz at {}", peak(1_000.0), peak(1_250.0));
    let after = &all[all.len().saturating_sub(24_000)..];
    assert!(ringside::media::analysis::rms(after) < 0.001, "silent once stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_strangers_forgeries_and_codec_switches_are_dropped_or_adapted_never_fatal() {
    use ringside::media::srtp::{new_key, SdesKeys};
    let ip: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let heard = Recorder::new(10);
    let mut ours = AudioMedia::bind(ip, CallAudio { source: Box::new(Silence), sink: Box::new(heard.clone()), voice_processing: false }).await.unwrap();
    let far = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = std::net::SocketAddr::new(ip, ours.port());
    let mut n = negotiated("PCMU", 0, 8_000, None, far.local_addr().unwrap(), far.local_addr().unwrap());
    ours.apply(&n);
    let rtp = |pt: u8, seq: u16, payload: &[u8]| {
        let mut p = vec![0x80, pt, (seq >> 8) as u8, seq as u8, 0, 0, (seq as u32 * 160 >> 8) as u8, (seq as u32 * 160) as u8, 0, 0, 0, 7];
        p.extend_from_slice(payload);
        p
    };
    let tone = |f: f32| -> Vec<u8> { ringside::media::analysis::sine(f, 8_000, 160, 0.3).into_iter().map(ringside::media::codec::ulaw).collect() };
    let pcma = |f: f32| -> Vec<u8> { ringside::media::analysis::sine(f, 8_000, 160, 0.3).into_iter().map(ringside::media::codec::alaw).collect() };
    let mut seq = 1u16;
    // Garbage of every size, a header that claims more than it has, an absurd size.
    for junk in [vec![], vec![0x80], vec![0x80; 11], vec![0xFF; 200], vec![0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0xFF, 0xFF], vec![0x80; 1_900]] {
        far.send_to(&junk, to).await.unwrap();
    }
    // Good PCMU for a second, then the far end switches to PCMA (static type 8) with
    // no new offer, then to an unknown dynamic type.
    for _ in 0..50 {
        far.send_to(&rtp(0, seq, &tone(400.0)), to).await.unwrap();
        seq += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..50 {
        far.send_to(&rtp(8, seq, &pcma(900.0)), to).await.unwrap();
        seq += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    far.send_to(&rtp(117, seq, &[1, 2, 3]), to).await.unwrap();
    // A stranger on another address sends well-formed RTP.
    let stranger = tokio::net::UdpSocket::bind("127.0.0.2:0").await;
    if let Ok(s) = &stranger {
        s.send_to(&rtp(0, seq + 1, &tone(400.0)), to).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stats = ours.stats();
    eprintln!("{stats:?}");
    let rec = heard.recording();
    assert_eq!(rec.rate, 8_000);
    let tail = &rec.samples[rec.samples.len().saturating_sub(6_000)..];
    assert!(goertzel_level(tail, 8_000, 900.0) > 0.2, "the switch to PCMA was followed: {}", goertzel_level(tail, 8_000, 900.0));
    assert!(stats.dropped >= 6 + usize::from(stranger.is_ok()) as u32, "garbage, the unknown type and the stranger dropped: {stats:?}");
    assert_eq!(stats.received, 100);

    // SRTP: packets that fail authentication are counted and dropped; the call goes on.
    let (key, theirs) = (new_key(), new_key());
    n.srtp = Some(SdesKeys { suite: "AES_CM_128_HMAC_SHA1_80", tag: 1, local: key, remote: theirs });
    ours.apply(&n);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut forged = rtp(0, seq + 2, &tone(400.0));
    forged.extend_from_slice(&[0; 10]);
    for _ in 0..5 {
        far.send_to(&forged, to).await.unwrap();
    }
    let mut good = ringside::media::srtp::SrtpSession::new(&SdesKeys { suite: "AES_CM_128_HMAC_SHA1_80", tag: 1, local: theirs, remote: key }).unwrap();
    for i in 0..10 {
        far.send_to(&good.protect_rtp(&rtp(0, seq + 3 + i, &tone(400.0))).unwrap(), to).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = ours.stats();
    assert_eq!(after.srtp_failures, 5, "{after:?}");
    assert_eq!(after.received, 110, "the genuine SRTP packets were taken: {after:?}");
}
