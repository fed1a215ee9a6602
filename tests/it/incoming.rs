//! Calls to us and call control, through the real testbed: the user agent registers
//! alice with Kamailio; SIPp scenarios (tests/testbed/sipp/call-us*.xml) call her
//! through the proxy; baresip is the far-end phone for hold and keypad digits.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ringside::clock::SystemClock;
use ringside::sip::call::{CallDirection, CallState, TransferProgress};
use ringside::sip::registration::RegistrationState;
use ringside::sip::ua::{CallInfo, UaConfig, UaEvent, UserAgent};
use tokio::sync::broadcast;

use crate::registration::{account, kamailio, Daemon, Kamailio};

pub(crate) async fn registered(k: &Kamailio, user: &str, password: &str) -> UserAgent {
    let mut ua = UserAgent::start(UaConfig { account: account(user, password, 600), server: k.addr, register: true }, Arc::new(SystemClock)).await.unwrap();
    let state = ua.wait_registration(Duration::from_secs(10), |s| matches!(s, RegistrationState::Registered { .. })).await;
    assert!(matches!(state, RegistrationState::Registered { .. }), "{state:?}");
    ua
}

/// SIPp calling `service` through the proxy once with `scenario`.
fn sipp_calls(scenario: &str, k: &Kamailio, service: &str) -> Option<Daemon> {
    if Command::new("sipp").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        eprintln!("skipped: sipp is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("sipp")
        .arg(k.addr.to_string())
        .args(["-sf", &format!("{}/tests/testbed/sipp/{scenario}", env!("CARGO_MANIFEST_DIR"))])
        .args(["-s", service, "-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1", "-nostdin", "-timeout", "30s", "-trace_err", "-trace_msg"])
        .current_dir(std::env::var("SIPP_DEBUG_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| dir.path().to_path_buf()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp starts");
    Some(Daemon::new(child, dir))
}

/// The next update of a call that satisfies `done`.
pub(crate) async fn wait_call(events: &mut broadcast::Receiver<UaEvent>, timeout: Duration, done: impl Fn(&CallInfo) -> bool) -> CallInfo {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(UaEvent::Call(info))) if done(&info) => return info,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("events ended: {e}"),
            Err(_) => panic!("no such call update within {timeout:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_to_the_rep_rings_with_the_callers_name_is_answered_and_the_caller_hangs_up() {
    let Some(k) = kamailio(&[]) else { return };
    let ua = registered(&k, "alice", "alice-secret").await;
    let mut events = ua.subscribe();
    let Some(mut sipp) = sipp_calls("call-us.xml", &k, "alice") else { return };
    let ringing = wait_call(&mut events, Duration::from_secs(10), |c| c.state == CallState::Incoming).await;
    assert_eq!(ringing.direction, CallDirection::Incoming);
    assert_eq!(ringing.remote_user, "+14155550123", "the number comes from the caller's From");
    assert_eq!(ringing.remote_name.as_deref(), Some("Carol Caller"));
    ua.answer(ringing.id).await.unwrap();
    let answered = wait_call(&mut events, Duration::from_secs(5), |c| c.state.is_answered()).await;
    assert_eq!(answered.codec.as_deref(), Some("PCMU"));
    let ended = wait_call(&mut events, Duration::from_secs(10), |c| c.state.is_ended()).await;
    assert_eq!(ended.state, CallState::Ended { reason: "the other side hung up".into(), code: None });
    assert!(ended.media.sent >= 30, "the tone went to SIPp's media port for a second: {}", ended.media.sent);
    assert_eq!(sipp.wait_for_exit(Duration::from_secs(10)), Some(0), "SIPp saw 200, sent ACK and BYE, got the 200 for its BYE");
    assert!(matches!(ua.stop().await, RegistrationState::Unregistered));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_who_hangs_up_first_leaves_a_missed_call_and_do_not_disturb_answers_busy() {
    let Some(k) = kamailio(&[]) else { return };
    let ua = registered(&k, "alice", "alice-secret").await;
    let mut events = ua.subscribe();
    let Some(mut sipp) = sipp_calls("call-us-cancel.xml", &k, "alice") else { return };
    wait_call(&mut events, Duration::from_secs(10), |c| c.state == CallState::Incoming).await;
    let ended = wait_call(&mut events, Duration::from_secs(10), |c| c.state.is_ended()).await;
    assert_eq!(ended.state, CallState::Ended { reason: "missed: the caller hung up".into(), code: Some(487) });
    assert_eq!(ended.answered_at, None);
    assert_eq!(sipp.wait_for_exit(Duration::from_secs(10)), Some(0), "200 for the CANCEL, 487 for the INVITE");

    ua.set_dnd(true);
    let Some(mut sipp) = sipp_calls("call-us-busy.xml", &k, "alice") else { return };
    let refused = wait_call(&mut events, Duration::from_secs(10), |c| c.state.is_ended()).await;
    assert_eq!(refused.state, CallState::Ended { reason: "busy".into(), code: Some(486) });
    assert_eq!(sipp.wait_for_exit(Duration::from_secs(10)), Some(0), "the caller heard 486 and ACKed it");
    ua.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blind_transfer_hands_the_caller_over_and_ends_our_leg() {
    let Some(k) = kamailio(&[]) else { return };
    let ua = registered(&k, "alice", "alice-secret").await;
    let mut events = ua.subscribe();
    let Some(mut sipp) = sipp_calls("call-us-transfer.xml", &k, "alice") else { return };
    let ringing = wait_call(&mut events, Duration::from_secs(10), |c| c.state == CallState::Incoming).await;
    ua.answer(ringing.id).await.unwrap();
    wait_call(&mut events, Duration::from_secs(5), |c| c.state.is_answered()).await;
    ua.transfer(ringing.id, "bob").await.unwrap();
    let mut progress = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ended = loop {
        match tokio::time::timeout_at(deadline, events.recv()).await.expect("the transfer ends the call").unwrap() {
            UaEvent::Transfer { progress: p, .. } => progress.push(p),
            UaEvent::Call(c) if c.state.is_ended() => break c,
            _ => {}
        }
    };
    assert_eq!(progress, vec![TransferProgress::Accepted, TransferProgress::Succeeded]);
    assert_eq!(ended.state, CallState::Ended { reason: "transferred to sip:bob@ringside.test".into(), code: None });
    assert_eq!(sipp.wait_for_exit(Duration::from_secs(10)), Some(0), "SIPp got REFER (202), NOTIFY answered, and our BYE");
    ua.stop().await;
}
