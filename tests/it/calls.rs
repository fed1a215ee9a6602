//! Calls through the real testbed: Kamailio as the proxy (it challenges our INVITE
//! with 407) and baresip as the far-end phone (auto-answer, a 440 Hz tone).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ringside::clock::SystemClock;
use ringside::sip::call::CallState;

use crate::registration::{account, kamailio, Daemon};


/// A UDP port whose next one is free too (baresip takes SIP_PORT+1 for TLS).
fn free_port_pair() -> u16 {
    loop {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < 60_000 && std::net::UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// baresip registered as `user` through the proxy; waits for its 200 OK.
pub(crate) fn baresip(user: &str, password: &str, proxy_port: u16) -> Option<Daemon> {
    baresip_with(user, password, proxy_port, None)
}

/// The same, taking commands on `ctrl` (baresip's ctrl_tcp) when given.
pub(crate) fn baresip_with(user: &str, password: &str, proxy_port: u16, ctrl: Option<u16>) -> Option<Daemon> {
    baresip_env(user, password, proxy_port, &[("TESTBED_CTRL_PORT", ctrl.map(|p| p.to_string()).unwrap_or_default())])
}

/// The same with more of the start script's settings (`TESTBED_CODECS`…).
pub(crate) fn baresip_env(user: &str, password: &str, proxy_port: u16, env: &[(&str, String)]) -> Option<Daemon> {
    if Command::new("baresip").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        eprintln!("skipped: baresip is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/baresip/start"))
        .args([user, password, &proxy_port.to_string(), &free_port_pair().to_string()])
        .env("TESTBED_DIR", dir.path())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the testbed script runs");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if std::env::var_os("BARESIP_DEBUG").is_some() { eprintln!("baresip: {line}"); }
            if line.contains("200 OK") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("baresip registers with Kamailio");
    Some(Daemon::new(child, dir))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_to_the_far_end_phone_is_answered_carries_rtp_both_ways_and_hangs_up() {
    let Some(k) = kamailio(&[]) else { return };
    let Some(_bob) = baresip("bob", "bob-secret", k.addr.port()) else { return };
    let report = ringside::sip::udp::call(
        account("alice", "alice-secret", 600),
        k.addr,
        "sip:bob@ringside.test".into(),
        Duration::from_secs(2),
        Duration::from_secs(20),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    eprintln!("call report: {}", serde_json::to_string(&report).unwrap());
    assert!(report.states.iter().any(CallState::is_answered), "baresip auto-answers: {:?}", report.states);
    assert_eq!(report.states.last(), Some(&CallState::Ended { reason: "hung up".into(), code: None }));
    let call = report.call.as_ref().unwrap();
    assert!(matches!(call.codec.as_deref(), Some("PCMU" | "PCMA")), "the 200 OK carried an SDP answer: {call:?}");
    assert!(call.media.sent >= 80, "2 s of 20 ms packets went out: {}", call.media.sent);
    assert!(call.media.received >= 50, "baresip's tone came back: {} packets", call.media.received);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_to_nobody_ends_with_the_reason_after_the_proxy_challenge() {
    let Some(k) = kamailio(&[]) else { return };
    let report = ringside::sip::udp::call(
        account("alice", "alice-secret", 600),
        k.addr,
        "sip:nobody@ringside.test".into(),
        Duration::from_secs(1),
        Duration::from_secs(10),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    assert_eq!(report.states.last(), Some(&CallState::Ended { reason: "no such number".into(), code: Some(404) }), "{:?}", report.states);
    let wrong = ringside::sip::udp::call(
        account("alice", "wrong", 600),
        k.addr,
        "sip:bob@ringside.test".into(),
        Duration::from_secs(1),
        Duration::from_secs(10),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    match wrong.states.last() {
        Some(CallState::Ended { reason, code: Some(407) }) => assert!(reason.contains("password"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// SIPp running `scenario` once on `port` of 127.0.0.1, with `args` (the address to
/// call, keys…). SIPP_DEBUG_DIR keeps its message and error logs for a failing test.
pub(crate) fn spawn_sipp(scenario: &str, port: u16, args: &[&str]) -> Option<Daemon> {
    if Command::new("sipp").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        eprintln!("skipped: sipp is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = std::env::var("SIPP_DEBUG_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| dir.path().to_path_buf());
    let child = Command::new("sipp")
        .args(args)
        .args(["-sf", &format!("{}/tests/testbed/sipp/{scenario}", env!("CARGO_MANIFEST_DIR"))])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1", "-nostdin", "-timeout", "30s", "-trace_err", "-trace_msg"])
        .current_dir(&work)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp starts");
    Some(Daemon::in_folder(child, dir, work))
}

/// SIPp running `scenario` once as the far end on a free port of 127.0.0.1.
fn sipp(scenario: &str) -> Option<(Daemon, std::net::SocketAddr)> {
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let daemon = spawn_sipp(scenario, port, &[])?;
    // SIPp binds at once; give it a moment to open the socket.
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for _ in 0..50 {
        if std::net::UdpSocket::bind(addr).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((daemon, addr))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_phone_ends_the_call_as_busy_and_the_486_is_acked() {
    let Some((mut sipp, addr)) = sipp("busy.xml") else { return };
    let report = ringside::sip::udp::call(
        account("alice", "unused", 600),
        addr,
        format!("sip:service@{addr}"),
        Duration::from_secs(1),
        Duration::from_secs(10),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    assert_eq!(
        report.states,
        vec![CallState::Trying, CallState::Ringing, CallState::Ended { reason: "busy".into(), code: Some(486) }],
    );
    sipp.assert_passed(Duration::from_secs(5), "SIPp got the ACK of its 486");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_nobody_answers_rings_back_and_is_cancelled_when_the_caller_gives_up() {
    let Some((mut sipp, addr)) = sipp("ring-forever.xml") else { return };
    let heard = ringside::audio::io::Recorder::new(5);
    let keep = heard.clone();
    let mut config = ringside::sip::ua::UaConfig::new(account("alice", "unused", 600), addr, false);
    config.media.audio = Arc::new(move || ringside::audio::io::CallAudio { source: Box::new(ringside::audio::io::Silence), sink: Box::new(keep.clone()), voice_processing: false });
    let report = ringside::sip::udp::call_with(config, format!("sip:service@{addr}"), Duration::from_secs(1), Duration::from_secs(2), Arc::new(SystemClock)).await.unwrap();
    // While it rang (a 180 with no early media), the caller heard the ringback tone.
    let rec = heard.recording();
    assert_eq!(rec.rate, 8_000);
    let level = |f: f32| ringside::media::analysis::goertzel_level(&rec.samples[800..], 8_000, f);
    assert!(rec.samples.len() >= 6_000 && level(440.0) > 0.1 && level(480.0) > 0.1, "ringback: {} samples, 440 Hz at {}", rec.samples.len(), level(440.0));
    assert_eq!(
        report.states.last(),
        Some(&CallState::Ended { reason: "cancelled".into(), code: Some(487) }),
        "CANCEL, then 487 ACKed: {:?}",
        report.states
    );
    // SIPp ends with status 0 only when its whole scenario (CANCEL, 200, 487, ACK) ran.
    let status = sipp.wait_for_exit(Duration::from_secs(5));
    assert_eq!(status, Some(0), "the far end saw the whole CANCEL exchange");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_that_crosses_our_cancel_is_acked_and_hung_up() {
    let Some((mut sipp, addr)) = sipp("cancel-crossing.xml") else { return };
    let config = ringside::sip::ua::UaConfig::new(account("alice", "unused", 600), addr, false);
    let report = ringside::sip::udp::call_with(config, format!("sip:service@{addr}"), Duration::from_secs(1), Duration::from_secs(2), Arc::new(SystemClock)).await.unwrap();
    assert!(!report.states.iter().any(CallState::is_answered), "never shown as answered: {:?}", report.states);
    assert_eq!(report.states.last(), Some(&CallState::Ended { reason: "cancelled".into(), code: None }), "{:?}", report.states);
    sipp.assert_passed(Duration::from_secs(5), "the crossing 200 OK was ACKed, then our BYE");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirected_call_follows_the_contact_of_the_302() {
    let Some((mut sipp, addr)) = sipp("redirect.xml") else { return };
    let report = ringside::sip::udp::call(account("alice", "unused", 600), addr, format!("sip:service@{addr}"), Duration::from_millis(300), Duration::from_secs(10), Arc::new(SystemClock))
        .await
        .unwrap();
    assert!(report.states.iter().any(CallState::is_answered), "{:?}", report.states);
    assert!(report.call.unwrap().remote_uri.starts_with("sip:service@"), "the call keeps the number the rep dialled");
    sipp.assert_passed(Duration::from_secs(5), "the 302 was ACKed and the second INVITE went to carol");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_is_answered_with_credentials_the_far_end_checks() {
    let Some((mut sipp, addr)) = sipp("challenge.xml") else { return };
    let report = ringside::sip::udp::call(account("alice", "alice-secret", 600), addr, format!("sip:service@{addr}"), Duration::from_millis(300), Duration::from_secs(10), Arc::new(SystemClock))
        .await
        .unwrap();
    assert!(report.states.iter().any(CallState::is_answered), "SIPp verified our Digest response (else 403): {:?}", report.states);
    sipp.assert_passed(Duration::from_secs(5), "SIPp ran its scenario to the end");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_answer_to_a_forked_call_is_acked_and_ended_and_the_first_kept() {
    let Some((mut sipp, addr)) = sipp("forked.xml") else { return };
    let report = ringside::sip::udp::call(account("alice", "unused", 600), addr, format!("sip:service@{addr}"), Duration::from_secs(1), Duration::from_secs(10), Arc::new(SystemClock))
        .await
        .unwrap();
    assert_eq!(report.states.iter().filter(|s| s.is_answered()).count(), 1, "one answered call: {:?}", report.states);
    assert_eq!(report.states.last(), Some(&CallState::Ended { reason: "hung up".into(), code: None }));
    sipp.assert_passed(Duration::from_secs(5), "BYE to the second phone at once, to the first after the talk");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ringing_that_requires_100rel_is_pracked_before_the_answer() {
    let Some((mut sipp, addr)) = sipp("prack.xml") else { return };
    let report = ringside::sip::udp::call(account("alice", "unused", 600), addr, format!("sip:service@{addr}"), Duration::from_millis(300), Duration::from_secs(10), Arc::new(SystemClock))
        .await
        .unwrap();
    assert!(report.states.contains(&CallState::Ringing) && report.states.iter().any(CallState::is_answered), "{:?}", report.states);
    sipp.assert_passed(Duration::from_secs(5), "our INVITE said Supported: 100rel and the PRACK's RAck named RSeq 7");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hold_refused_with_491_is_retried_after_the_rfc_wait_and_then_holds() {
    use ringside::sip::ua::{UaConfig, UaEvent, UserAgent};
    let Some((mut sipp, addr)) = sipp("glare.xml") else { return };
    let ua = UserAgent::start(UaConfig::new(account("alice", "unused", 600), addr, false), Arc::new(SystemClock)).await.unwrap();
    let events = ua.subscribe();
    let id = ua.dial(&format!("sip:service@{addr}")).await.unwrap();
    // Each wait reads from a receiver made before the change it waits for.
    let until = |mut events: tokio::sync::broadcast::Receiver<UaEvent>, done: fn(&CallState) -> bool, secs: u64| {
        async move {
            tokio::time::timeout(Duration::from_secs(secs), async {
                loop {
                    if let Ok(UaEvent::Call(c)) = events.recv().await {
                        if done(&c.state) {
                            return std::time::Instant::now();
                        }
                    }
                }
            })
            .await
            .expect("the call got there")
        }
    };
    let before_hold = events.resubscribe();
    until(events, CallState::is_answered, 10).await;
    let asked = std::time::Instant::now();
    let held = until(before_hold, |s| matches!(s, CallState::Answered { held: true, .. }), 6);
    ua.hold(id, true).await.unwrap();
    let at = held.await;
    let waited = at - asked;
    assert!(waited >= Duration::from_millis(2_000) && waited < Duration::from_millis(4_500), "the Call-ID's owner waits 2.1–4 s: {waited:?}");
    ua.hang_up(id).await.unwrap();
    sipp.assert_passed(Duration::from_secs(5), "491, ACK, the retry answered, BYE");
}
