//! Calls to us and call control, through the real testbed: the user agent registers
//! alice with Kamailio; SIPp scenarios (tests/testbed/sipp/call-us*.xml) call her
//! through the proxy; baresip is the far-end phone for hold and keypad digits.

use std::sync::Arc;
use std::time::Duration;

use ringside::clock::SystemClock;
use ringside::sip::call::{CallDirection, CallState, TransferProgress};
use ringside::sip::registration::RegistrationState;
use ringside::sip::ua::{CallInfo, UaConfig, UaEvent, UserAgent};
use tokio::sync::broadcast;

use crate::baresip_ctl::BaresipCtl;
use crate::registration::{account, free_tcp_port, kamailio, Daemon, Kamailio};

pub(crate) async fn registered(k: &Kamailio, user: &str, password: &str) -> UserAgent {
    let mut ua = UserAgent::start(UaConfig::new(account(user, password, 600), k.addr, true), Arc::new(SystemClock)).await.unwrap();
    let state = ua.wait_registration(Duration::from_secs(10), |s| matches!(s, RegistrationState::Registered { .. })).await;
    assert!(matches!(state, RegistrationState::Registered { .. }), "{state:?}");
    ua
}

/// SIPp calling `service` through the proxy once with `scenario`, from +1 415 555 0123.
fn sipp_calls(scenario: &str, k: &Kamailio, service: &str) -> Option<Daemon> {
    sipp_calls_from(scenario, k, service, "+14155550123")
}

pub(crate) fn sipp_calls_from(scenario: &str, k: &Kamailio, service: &str, caller: &str) -> Option<Daemon> {
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = k.addr.to_string();
    crate::calls::spawn_sipp(scenario, port, &[proxy.as_str(), "-key", "caller", caller, "-d", "1000", "-s", service])
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
    sipp.assert_passed(Duration::from_secs(10), "SIPp saw 200, sent ACK and BYE, got the 200 for its BYE");
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
    sipp.assert_passed(Duration::from_secs(10), "200 for the CANCEL, 487 for the INVITE");

    // A caller requiring reliable ringing: 180 with RSeq, resent until its PRACK.
    let Some(mut sipp) = sipp_calls("call-us-100rel.xml", &k, "alice") else { return };
    let ringing = wait_call(&mut events, Duration::from_secs(10), |c| c.state == CallState::Incoming).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ua.answer(ringing.id).await.unwrap();
    wait_call(&mut events, Duration::from_secs(10), |c| c.id == ringing.id && c.state.is_ended()).await;
    sipp.assert_passed(Duration::from_secs(10), "PRACK answered 200, then the call");

    // A caller who ends the early dialog with BYE: 200, then 487 for the INVITE.
    let Some(mut sipp) = sipp_calls("call-us-early-bye.xml", &k, "alice") else { return };
    let ended = wait_call(&mut events, Duration::from_secs(10), |c| c.state.is_ended()).await;
    assert_eq!(ended.state, CallState::Ended { reason: "missed: the caller hung up".into(), code: Some(487) });
    sipp.assert_passed(Duration::from_secs(10), "200 for the BYE, 487 for the INVITE");

    ua.set_dnd(true);
    let Some(mut sipp) = sipp_calls("call-us-busy.xml", &k, "alice") else { return };
    let refused = wait_call(&mut events, Duration::from_secs(10), |c| c.state.is_ended()).await;
    assert_eq!(refused.state, CallState::Ended { reason: "busy".into(), code: Some(486) });
    sipp.assert_passed(Duration::from_secs(10), "the caller heard 486 and ACKed it");
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
    sipp.assert_passed(Duration::from_secs(10), "SIPp got REFER (202), NOTIFY answered, and our BYE");
    ua.stop().await;
}


#[tokio::test(flavor = "multi_thread")]
async fn the_far_end_phone_calls_us_we_hold_resume_send_digits_and_it_hangs_up() {
    let Some(k) = kamailio(&[]) else { return };
    let ctrl = free_tcp_port();
    let Some(_bob) = crate::calls::baresip_with("bob", "bob-secret", k.addr.port(), Some(ctrl)) else { return };
    let mut bob = BaresipCtl::connect(ctrl);
    let ua = registered(&k, "alice", "alice-secret").await;
    let mut events = ua.subscribe();
    bob.command("dial", "sip:alice@ringside.test");
    let ringing = wait_call(&mut events, Duration::from_secs(10), |c| c.state == CallState::Incoming).await;
    assert_eq!(ringing.remote_user, "bob");
    ua.answer(ringing.id).await.unwrap();
    wait_call(&mut events, Duration::from_secs(5), |c| c.state.is_answered()).await;
    assert!(bob.event("CALL_ESTABLISHED", Duration::from_secs(5)).is_some(), "baresip took our 200 OK");

    ua.hold(ringing.id, true).await.unwrap();
    let held = wait_call(&mut events, Duration::from_secs(5), |c| matches!(c.state, CallState::Answered { held: true, .. })).await;
    assert_eq!(held.state, CallState::Answered { held: true, remote_held: false }, "baresip answered our sendonly offer");
    ua.hold(ringing.id, false).await.unwrap();
    wait_call(&mut events, Duration::from_secs(5), |c| matches!(c.state, CallState::Answered { held: false, .. })).await;

    // Digits as RFC 4733 events (baresip offered telephone-event): baresip reports each.
    ua.send_digits(ringing.id, "1#").await.unwrap();
    assert_eq!(bob.event("CALL_DTMF_START", Duration::from_secs(5)).as_deref(), Some("1"));
    assert_eq!(bob.event("CALL_DTMF_START", Duration::from_secs(5)).as_deref(), Some("#"));

    tokio::time::sleep(Duration::from_millis(1_500)).await;
    bob.command("hangup", "");
    let ended = wait_call(&mut events, Duration::from_secs(5), |c| c.state.is_ended()).await;
    assert_eq!(ended.state, CallState::Ended { reason: "the other side hung up".into(), code: None });
    assert!(ended.media.received >= 50, "baresip's tone reached us: {}", ended.media.received);
    assert!(ended.media.events_sent >= 14, "two digits of 7 event packets each: {}", ended.media.events_sent);
    ua.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_engine_places_and_takes_calls_and_every_call_leaves_a_history_entry() {
    use ringside::app::{Engine, EngineConfig, Event};
    use ringside::calllog::{CallType, HistoryQuery};
    use ringside::settings::{SettingChange, SystemLocale};
    let Some(k) = kamailio(&[]) else { return };
    let Some(_bob) = crate::calls::baresip_with("bob", "bob-secret", k.addr.port(), None) else { return };
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::start(EngineConfig {
        data_dir: dir.path().to_path_buf(),
        keyring_service: format!("ringside-test-calls-{}", std::process::id()),
        locale: SystemLocale::from_tag("en_US"),
        log_dir: None,
    }));
    for change in [SettingChange::SipUser("alice".into()), SettingChange::SipDomain("ringside.test".into()), SettingChange::SipProxy(k.addr.to_string())] {
        engine.change_setting(&change).unwrap();
    }
    engine.set_sip_password("alice-secret").unwrap();
    let mut events = engine.subscribe();
    engine.start_phone().await;
    let next_call = async |events: &mut broadcast::Receiver<Event>, done: &dyn Fn(&CallInfo) -> bool| {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Ok(Event::CallChanged { call }) = events.recv().await {
                    if done(&call) {
                        return call;
                    }
                }
            }
        })
        .await
        .expect("the call changed as expected")
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        while !matches!(engine.registration(), RegistrationState::Registered { .. }) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();

    // Out: to baresip (auto-answer) by its SIP user name; talk a second; hang up.
    let placed = engine.dial("bob").await.unwrap();
    let answered = next_call(&mut events, &|c| c.id == placed.id && c.state.is_answered()).await;
    assert_eq!(engine.status().calls.len(), 1, "the call is in the status");
    assert_eq!(answered.direction, CallDirection::Outgoing);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    engine.hang_up(placed.id).await.unwrap();
    next_call(&mut events, &|c| c.id == placed.id && c.state.is_ended()).await;

    // In: SIPp calls; the engine answers; the caller hangs up.
    let Some(mut sipp) = sipp_calls("call-us.xml", &k, "alice") else { return };
    let ringing = next_call(&mut events, &|c| c.state == CallState::Incoming).await;
    engine.answer_call(ringing.id).await.unwrap();
    next_call(&mut events, &|c| c.id == ringing.id && c.state.is_ended()).await;
    sipp.assert_passed(Duration::from_secs(10), "SIPp ran its scenario to the end");

    // Do not disturb: refused busy, still in History.
    engine.set_do_not_disturb(true).await;
    assert!(engine.status().do_not_disturb);
    let Some(mut sipp) = sipp_calls("call-us-busy.xml", &k, "alice") else { return };
    next_call(&mut events, &|c| c.state.is_ended()).await;
    sipp.assert_passed(Duration::from_secs(10), "SIPp ran its scenario to the end");
    assert!(engine.status().calls.is_empty(), "ended calls leave the status");

    let history = engine.history(&HistoryQuery::default()).await.unwrap();
    let rows: Vec<(CallType, String, u32)> = history.iter().map(|e| (e.log.content.call_type, e.log.content.number.clone(), e.log.content.duration_secs)).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!((rows[2].0, rows[2].1.as_str()), (CallType::Outbound, "bob"));
    assert!(rows[2].2 >= 1, "a second of talk: {rows:?}");
    assert_eq!((rows[1].0, rows[1].1.as_str()), (CallType::Inbound, "+14155550123"));
    assert_eq!((rows[0].0, rows[0].2), (CallType::Inbound, 0), "the refused call is there, unanswered");
    engine.stop_phone().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_from_a_contacts_number_pops_her_record_and_her_log_names_her() {
    use ringside::app::Event;
    use ringside::calllog::HistoryQuery;
    use ringside::crm::matching::MatchOutcome;
    use ringside::settings::SettingChange;
    let Some(k) = kamailio(&[]) else { return };
    let rig = crate::salesforce::signed_in("incoming-pop", |_| {}).await;
    let engine = Arc::new(rig.engine);
    for change in [SettingChange::SipUser("alice".into()), SettingChange::SipDomain("ringside.test".into()), SettingChange::SipProxy(k.addr.to_string())] {
        engine.change_setting(&change).unwrap();
    }
    engine.set_sip_password("alice-secret").unwrap();
    let mut events = engine.subscribe();
    engine.start_phone().await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while !matches!(engine.registration(), RegistrationState::Registered { .. }) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    // Marie Dubois's office number in the test org, as a French PBX sends it.
    let Some(mut sipp) = sipp_calls_from("call-us.xml", &k, "alice", "+33123456789") else { return };
    let (mut ringing, mut popped) = (None, None);
    tokio::time::timeout(Duration::from_secs(10), async {
        while ringing.is_none() || popped.is_none() {
            match events.recv().await {
                Ok(Event::CallChanged { call }) if call.state == CallState::Incoming => ringing = Some(call),
                Ok(Event::CallerMatched { caller_match }) if caller_match.outcome == MatchOutcome::One => popped = Some(caller_match),
                _ => {}
            }
        }
    })
    .await
    .expect("the call rings and its caller is matched");
    let (ringing, popped) = (ringing.unwrap(), popped.unwrap());
    assert_eq!(popped.records[0].name, "Marie Dubois");
    engine.answer_call(ringing.id).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(Event::CallChanged { call }) = events.recv().await {
                if call.id == ringing.id && call.state.is_ended() {
                    return;
                }
            }
        }
    })
    .await
    .unwrap();
    sipp.assert_passed(Duration::from_secs(10), "SIPp ran its scenario to the end");
    let history = engine.history(&HistoryQuery::default()).await.unwrap();
    let who = history[0].log.content.who.as_ref().expect("the log names the matched contact");
    assert_eq!((who.object.as_str(), who.name.as_str()), ("Contact", "Marie Dubois"));
    engine.stop_phone().await;
}


/// Over the transport of `config`: registers alice, calls bob (baresip, auto-answer)
/// and hears his tone, hangs up; then takes a call from SIPp (through Kamailio over
/// UDP, reaching us on our connection); then unregisters.
async fn calls_both_ways(config: UaConfig, k: &Kamailio) {
    let label = format!("{:?}", config.transport);
    let mut ua = UserAgent::start(config, Arc::new(SystemClock)).await.unwrap();
    let state = ua.wait_registration(Duration::from_secs(10), |s| matches!(s, RegistrationState::Registered { .. })).await;
    assert!(matches!(state, RegistrationState::Registered { .. }), "{label}: {state:?}");
    let mut events = ua.subscribe();
    let id = ua.dial("bob").await.unwrap();
    let answered = wait_call(&mut events, Duration::from_secs(10), |c| c.id == id && c.state.is_answered()).await;
    assert!(matches!(answered.codec.as_deref(), Some("PCMU" | "PCMA")), "{label}: {answered:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    ua.hang_up(id).await.unwrap();
    let ended = wait_call(&mut events, Duration::from_secs(10), |c| c.id == id && c.state.is_ended()).await;
    assert!(ended.media.received > 0, "{label}: baresip's tone came back");
    let Some(mut sipp) = sipp_calls("call-us.xml", k, "alice") else { return };
    let ringing = wait_call(&mut events, Duration::from_secs(10), |c| c.state == CallState::Incoming).await;
    ua.answer(ringing.id).await.unwrap();
    wait_call(&mut events, Duration::from_secs(10), |c| c.id == ringing.id && c.state.is_ended()).await;
    sipp.assert_passed(Duration::from_secs(10), "{label}: Kamailio reached us on our connection");
    assert!(matches!(ua.stop().await, RegistrationState::Unregistered), "{label}");
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_go_both_ways_over_tcp() {
    let Some(k) = kamailio(&[]) else { return };
    let Some(_bob) = crate::calls::baresip_with("bob", "bob-secret", k.addr.port(), None) else { return };
    let mut config = UaConfig::new(account("alice", "alice-secret", 600), k.tcp, true);
    config.transport = ringside::sip::transaction::Transport::Tcp;
    calls_both_ways(config, &k).await;
}

/// Kamailio with a TLS listener too.
fn kamailio_tls() -> Option<Kamailio> {
    let port = free_tcp_port().to_string();
    kamailio(&[("TESTBED_TLS_PORT", port.as_str())])
}

fn tls_config(k: &Kamailio, trust_testbed_ca: bool) -> UaConfig {
    let (addr, ca) = k.tls.clone().unwrap();
    let mut config = UaConfig::new(account("alice", "alice-secret", 600), addr, true);
    config.transport = ringside::sip::transaction::Transport::Tls;
    config.tls.server_name = "127.0.0.1".into();
    if trust_testbed_ca {
        config.tls.extra_ca_pem = Some(std::fs::read(ca).unwrap());
    }
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn over_tls_the_proxy_certificate_is_checked_and_calls_go_both_ways() {
    let Some(k) = kamailio_tls() else { return };
    // The testbed's CA is nobody's root: the certificate is refused, and says why.
    let refused = UserAgent::start(tls_config(&k, false), Arc::new(SystemClock)).await.err().expect("an unknown CA is refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    let mut wrong_name = tls_config(&k, true);
    wrong_name.tls.server_name = "pbx.example.com".into();
    let refused = UserAgent::start(wrong_name, Arc::new(SystemClock)).await.err().expect("a certificate for another name is refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");

    let Some(_bob) = crate::calls::baresip_with("bob", "bob-secret", k.addr.port(), None) else { return };
    calls_both_ways(tls_config(&k, true), &k).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_voicemail_server_says_messages_wait_and_the_agent_reports_the_counts() {
    use ringside::sip::mwi::Voicemail;
    let Some(k) = kamailio(&[]) else { return };
    let ua = registered(&k, "alice", "alice-secret").await;
    let mut events = ua.subscribe();
    let Some(mut sipp) = sipp_calls("notify-mwi.xml", &k, "alice") else { return };
    let vm = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(UaEvent::Voicemail(vm)) = events.recv().await {
                return vm;
            }
        }
    })
    .await
    .expect("the NOTIFY is read");
    assert_eq!(vm, Voicemail { waiting: true, new_messages: 2, old_messages: 8 });
    sipp.assert_passed(Duration::from_secs(10), "the NOTIFY got its 200");
    ua.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn over_websocket_and_secure_websocket_calls_go_both_ways() {
    use ringside::sip::transaction::Transport;
    let tls_port = free_tcp_port().to_string();
    let Some(k) = kamailio(&[("TESTBED_TLS_PORT", tls_port.as_str()), ("TESTBED_WS", "1")]) else { return };
    let Some(_bob) = crate::calls::baresip_with("bob", "bob-secret", k.addr.port(), None) else { return };
    let (tls_addr, ca) = k.tls.clone().unwrap();
    for (transport, server) in [(Transport::Ws, k.tcp), (Transport::Wss, tls_addr)] {
        let mut config = UaConfig::new(account("alice", "alice-secret", 600), server, true);
        config.transport = transport;
        config.tls.server_name = "127.0.0.1".into();
        config.tls.extra_ca_pem = Some(std::fs::read(&ca).unwrap());
        calls_both_ways(config, &k).await;
    }
}
