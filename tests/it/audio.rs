//! Call audio through the real testbed: baresip (behind Kamailio) answers with a
//! 440 Hz tone and records what it decodes; we send 1 kHz and keep what we decode.
//! Each side's sound is checked for its pitch and level (Goertzel), per codec and
//! with SDES-SRTP.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ringside::audio::io::{CallAudio, Recorder, Recording, ToneSource};
use ringside::clock::SystemClock;
use ringside::media::analysis::{goertzel_level, longest_silence_ms};
use ringside::media::sdp::ALL_CODECS;
use ringside::media::srtp::SrtpMode;
use ringside::media::MediaConfig;
use ringside::sip::ua::{CallInfo, UaConfig};

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
    let k = kamailio(&[])?;
    let record = tempfile::tempdir().unwrap();
    let mut env = vec![("TESTBED_CODECS", codecs.to_string()), ("TESTBED_RECORD_DIR", record.path().display().to_string())];
    if let Some(m) = mediaenc {
        env.push(("TESTBED_MEDIAENC", m.to_string()));
    }
    let bob = baresip_env("bob", "bob-secret", k.addr.port(), &env)?;
    let recorder = Recorder::new(10);
    let keep = recorder.clone();
    let mut config = UaConfig::new(account("alice", "alice-secret", 600), k.addr, false);
    config.media = MediaConfig {
        codecs: ALL_CODECS.to_vec(),
        srtp,
        audio: Arc::new(move || CallAudio { source: Box::new(ToneSource::new(OURS, 0.3)), sink: Box::new(keep.clone()) }),
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
    let tail = &rec.samples[rec.rate as usize / 2..];
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
    assert_eq!(call.media.lost, 0, "no loss on the loopback");
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
