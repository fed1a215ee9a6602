//! The call core's unit tests: both directions, hold, glare, transfer, session
//! timers, reliable provisionals.
use super::*;
use crate::media::sdp::PCMU;
use crate::secrets::Sensitive;

fn account() -> Account {
    Account { user: "alice".into(), auth_user: None, domain: "ringside.test".into(), password: Sensitive::new("s".into()), expires: 600 }
}

fn ids() -> Box<dyn FnMut() -> String + Send> {
    let mut n = 0;
    Box::new(move || {
        n += 1;
        format!("id{n}")
    })
}

fn agent() -> SdpAgent {
    SdpAgent::new("127.0.0.1".parse().unwrap(), 4_000, 1, &[PCMU])
}

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

fn invite(cseq: u32, body: &str, to_tag: Option<&str>, branch: &str) -> Message {
    let to = match to_tag {
        Some(t) => format!("<sip:alice@ringside.test>;tag={t}"),
        None => "<sip:alice@ringside.test>".into(),
    };
    let text = format!(
        "INVITE sip:alice@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\nRecord-Route: <sip:127.0.0.1:5060;lr>\r\nFrom: \"Bob\" <sip:bob@ringside.test>;tag=b1\r\nTo: {to}\r\nCall-ID: c1\r\nCSeq: {cseq} INVITE\r\nContact: <sip:bob@127.0.0.2:5070>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    super::super::parse_datagram(text.as_bytes()).unwrap()
}

fn request(method: &str, cseq: u32, branch: &str, extra: &str, body: &str) -> Message {
    let text = format!(
        "{method} sip:alice@127.0.0.1:5062 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\nFrom: \"Bob\" <sip:bob@ringside.test>;tag=b1\r\nTo: <sip:alice@ringside.test>;tag=id1\r\nCall-ID: c1\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    super::super::parse_datagram(text.as_bytes()).unwrap()
}

fn sent(out: &[CallOutput]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            CallOutput::Send(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect()
}

fn incoming() -> Call {
    let mut call = Call::incoming(account(), "127.0.0.1:5062".parse().unwrap(), &invite(1, OFFER, None, "z9hG4bKa"), agent(), ids(), Box::new(|| 0.5), 0);
    let s = sent(&call.ring(0));
    assert!(s[0].starts_with("SIP/2.0 180 Ringing\r\n"), "{}", s[0]);
    assert!(s[0].contains("To: <sip:alice@ringside.test>;tag=id1\r\n") && s[0].contains("Record-Route: <sip:127.0.0.1:5060;lr>"), "{}", s[0]);
    call
}

#[test]
fn an_answered_call_resends_its_200_until_the_ack_then_hangs_up_by_bye() {
    let mut call = incoming();
    let out = call.answer(10);
    let ok = &sent(&out)[0];
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n") && ok.contains("m=audio 4000 RTP/AVP 0 101"), "{ok}");
    assert!(out.iter().any(|o| matches!(o, CallOutput::Media(n) if n.remote == Some("127.0.0.2:5000".parse().unwrap()))));
    assert_eq!(call.state(), &CallState::Answered { held: false, remote_held: false });
    // Not ACKed: resent at T1, 2·T1…
    assert_eq!(call.next_wakeup(), Some(510));
    assert!(sent(&call.on_timer(510))[0].starts_with("SIP/2.0 200 OK"));
    assert_eq!(call.next_wakeup(), Some(1_510));
    call.on_message(600, &request("ACK", 1, "z9hG4bKack", "", ""));
    assert_eq!(call.next_wakeup(), None, "the ACK stops the resends");
    let out = call.hang_up(700);
    let bye = &sent(&out)[0];
    assert!(bye.starts_with("BYE sip:bob@127.0.0.2:5070 SIP/2.0\r\n"), "to the Contact: {bye}");
    assert!(bye.contains("Route: <sip:127.0.0.1:5060;lr>\r\n") && bye.contains("From: <sip:alice@ringside.test>;tag=id1\r\nTo: \"Bob\" <sip:bob@ringside.test>;tag=b1\r\n"), "{bye}");
    assert!(call.state().is_ended());
    assert!(!call.finished(), "the BYE is still resent until answered");
}

#[test]
fn a_caller_who_gives_up_gets_487_and_the_call_is_missed() {
    let mut call = incoming();
    let out = call.on_message(100, &request("CANCEL", 1, "z9hG4bKa", "", ""));
    let s = sent(&out);
    assert!(s[0].starts_with("SIP/2.0 200 OK") && s[0].contains("CSeq: 1 CANCEL"), "{}", s[0]);
    assert!(s[1].starts_with("SIP/2.0 487 Request Terminated") && s[1].contains("CSeq: 1 INVITE"), "{}", s[1]);
    assert_eq!(call.state(), &CallState::Ended { reason: "missed: the caller hung up".into(), code: Some(487) });
    // The 487 is resent until its ACK, then the call is finished.
    assert!(!call.finished());
    call.on_message(200, &request("ACK", 1, "z9hG4bKa", "", ""));
    assert!(call.finished());
}

#[test]
fn a_declined_call_answers_603_and_a_retransmitted_invite_gets_it_again() {
    let mut call = incoming();
    let out = call.decline(0, 603);
    assert!(sent(&out)[0].starts_with("SIP/2.0 603 Decline"));
    let again = call.on_message(100, &invite(1, OFFER, None, "z9hG4bKa"));
    assert!(sent(&again)[0].starts_with("SIP/2.0 603 Decline"));
    // Timer H: given up after 64·T1 without an ACK.
    let mut now = 0;
    while let Some(at) = call.next_wakeup() {
        now = at;
        call.on_timer(now);
    }
    assert_eq!(now, 32_000);
}

#[test]
fn hold_is_a_sendonly_reinvite_and_their_hold_is_answered_recvonly() {
    let mut call = incoming();
    call.answer(0);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    let out = call.hold(20, true);
    let reinvite = &sent(&out)[0];
    assert!(reinvite.starts_with("INVITE sip:bob@127.0.0.2:5070") && reinvite.contains("a=sendonly") && reinvite.contains("CSeq: 1 INVITE"), "{reinvite}");
    let answer = OFFER.replace("sendrecv", "recvonly");
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKid2\r\nFrom: <sip:alice@ringside.test>;tag=id1\r\nTo: <sip:bob@ringside.test>;tag=b1\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
        answer.len()
    );
    let out = call.on_message(30, &super::super::parse_datagram(ok.as_bytes()).unwrap());
    assert!(sent(&out)[0].starts_with("ACK "), "{:?}", sent(&out));
    assert_eq!(call.state(), &CallState::Answered { held: true, remote_held: false });
    // Now they hold us: a sendonly offer, answered inactive (we hold them too).
    let held = OFFER.replace("sendrecv", "sendonly");
    let out = call.on_message(40, &request("INVITE", 2, "z9hG4bKr", "Content-Type: application/sdp\r\n", &held));
    assert!(sent(&out)[0].contains("a=inactive"), "{:?}", sent(&out));
    assert_eq!(call.state(), &CallState::Answered { held: true, remote_held: true });
    // A hold of ours crossing theirs would be refused with 491: theirs is still
    // unACKed, so ours waits.
    assert!(call.hold(50, false).is_empty());
    call.on_message(60, &request("ACK", 2, "z9hG4bKr2", "", ""));
    let out = call.on_timer(250);
    assert!(sent(&out)[0].contains("a=sendrecv"), "the resume goes out after their exchange: {:?}", sent(&out));
}

#[test]
fn glare_retries_after_a_random_wait_and_a_refused_hold_is_a_notice() {
    let mut call = incoming();
    call.answer(0);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    call.hold(20, true);
    let response = |code: u16, reason: &str| {
        let text = format!("SIP/2.0 {code} {reason}\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKid2\r\nFrom: <sip:alice@ringside.test>;tag=id1\r\nTo: <sip:bob@ringside.test>;tag=b1\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
        super::super::parse_datagram(text.as_bytes()).unwrap()
    };
    let out = call.on_message(30, &response(491, "Request Pending"));
    assert!(sent(&out)[0].starts_with("ACK ") && sent(&out)[0].contains("branch=z9hG4bKid2"), "a non-2xx is ACKed on its branch");
    assert_eq!(call.next_wakeup(), Some(1_030), "the callee of the dialog waits 0–2 s (here 1 s)");
    let out = call.on_timer(1_030);
    let again = &sent(&out)[0];
    assert!(again.starts_with("INVITE ") && again.contains("CSeq: 2 INVITE"), "{again}");
    let text = "SIP/2.0 488 Not Acceptable Here\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKid3\r\nFrom: <sip:alice@ringside.test>;tag=id1\r\nTo: <sip:bob@ringside.test>;tag=b1\r\nCall-ID: c1\r\nCSeq: 2 INVITE\r\nContent-Length: 0\r\n\r\n";
    let out = call.on_message(1_100, &super::super::parse_datagram(text.as_bytes()).unwrap());
    assert!(out.iter().any(|o| matches!(o, CallOutput::Notice(n) if n.contains("refused to go on hold"))), "{out:?}");
    assert_eq!(call.state(), &CallState::Answered { held: false, remote_held: false });
}

#[test]
fn info_digits_are_read_and_a_refer_ends_the_call_when_its_notify_says_200() {
    let mut call = incoming();
    call.answer(0);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    let out = call.on_message(20, &request("INFO", 2, "z9hG4bKi", "Content-Type: application/dtmf-relay\r\n", "Signal=5\r\nDuration=160\r\n"));
    assert!(out.contains(&CallOutput::Dtmf('5')));
    assert_eq!(info_digit(Some("application/dtmf"), b"#"), Some('#'));
    assert_eq!(info_digit(Some("text/plain"), b"5"), None);
    let out = call.transfer(30, "sip:carol@ringside.test", None);
    let refer = &sent(&out)[0];
    assert!(refer.starts_with("REFER ") && refer.contains("Refer-To: <sip:carol@ringside.test>\r\n"), "{refer}");
    let notify = call.on_message(40, &request("NOTIFY", 3, "z9hG4bKn", "Event: refer\r\nSubscription-State: terminated\r\nContent-Type: message/sipfrag\r\n", "SIP/2.0 200 OK\r\n"));
    assert!(notify.contains(&CallOutput::Transfer(TransferProgress::Succeeded)));
    assert!(sent(&notify).iter().any(|m| m.starts_with("BYE ")));
    assert_eq!(call.state(), &CallState::Ended { reason: "transferred to sip:carol@ringside.test".into(), code: None });
    let bye = sent(&notify).into_iter().find(|m| m.starts_with("BYE ")).unwrap();
    let cseq = bye.lines().find(|l| l.starts_with("CSeq:")).unwrap().to_string();
    let branch = bye.lines().find_map(|l| l.split("branch=").nth(1)).unwrap().to_string();
    let ok = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={branch}\r\nFrom: <sip:alice@ringside.test>;tag=id1\r\nTo: \"Bob\" <sip:bob@ringside.test>;tag=b1\r\nCall-ID: c1\r\n{cseq}\r\nContent-Length: 0\r\n\r\n"
    );
    let after = call.on_message(45, &super::super::parse_datagram(ok.as_bytes()).unwrap());
    assert!(!after.iter().any(|o| matches!(o, CallOutput::State(_))), "the BYE's answer keeps the reason: {after:?}");
    assert_eq!(call.state(), &CallState::Ended { reason: "transferred to sip:carol@ringside.test".into(), code: None });
    // An attended transfer names the other call in Refer-To.
    let mut other = incoming();
    other.answer(0);
    let (id, to_tag, from_tag) = other.replaces_id().unwrap();
    assert_eq!((to_tag.as_str(), from_tag.as_str()), ("b1", "id1"), "as the far end sees the dialog");
    let mut call = incoming();
    call.answer(0);
    let out = call.transfer(50, "sip:carol@ringside.test", Some((&id, &to_tag, &from_tag)));
    assert!(sent(&out)[0].contains("Refer-To: <sip:carol@ringside.test?Replaces=c1%3Bto-tag%3Db1%3Bfrom-tag%3Did1>"), "{}", sent(&out)[0]);
}

#[test]
fn requests_after_the_end_and_out_of_order_get_errors() {
    let mut call = incoming();
    call.answer(0);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    let out = call.on_message(20, &request("INFO", 1, "z9hG4bKold", "", ""));
    assert!(sent(&out)[0].starts_with("SIP/2.0 500 "), "CSeq 1 was the INVITE's");
    let out = call.on_message(30, &request("SUBSCRIBE", 5, "z9hG4bKs", "", ""));
    assert!(sent(&out)[0].starts_with("SIP/2.0 405 ") && sent(&out)[0].contains("Allow: "));
    call.on_message(40, &request("BYE", 6, "z9hG4bKb", "", ""));
    assert_eq!(call.state(), &CallState::Ended { reason: "the other side hung up".into(), code: None });
    let out = call.on_message(50, &request("INFO", 7, "z9hG4bKi2", "", ""));
    assert!(sent(&out)[0].starts_with("SIP/2.0 481 "));
    assert!(call.finished());
}

fn ok_for(req: &str, extra: &str, body: &str) -> Message {
    let m = super::super::parse_datagram(req.as_bytes()).unwrap();
    let text = format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={}\r\nFrom: {}\r\nTo: {};tag=far\r\nCall-ID: {}\r\nCSeq: {} {}\r\nContact: <sip:bob@127.0.0.2:5070>\r\n{extra}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        m.via[0].branch().unwrap(),
        m.header("From").unwrap(),
        m.header("To").unwrap().split(";tag=").next().unwrap(),
        m.call_id,
        m.cseq.seq,
        m.cseq.method,
        body.len()
    );
    super::super::parse_datagram(text.as_bytes()).unwrap()
}

#[test]
fn a_session_timer_we_refresh_sends_a_reinvite_at_half_time_and_theirs_ends_a_silent_call() {
    let mut call = Call::outgoing(account(), "127.0.0.1:5062".parse().unwrap(), "sip:bob@ringside.test".into(), agent(), ids(), Box::new(|| 0.5));
    let ours = sent(&call.start(0))[0].clone();
    assert!(ours.contains("Supported: replaces, timer, 100rel\r\n"), "{ours}");
    call.on_message(100, &ok_for(&ours, "Session-Expires: 120;refresher=uac\r\n", OFFER));
    assert!(call.state().is_answered());
    assert_eq!(call.next_wakeup(), Some(60_100), "the refresher refreshes at half the interval");
    let out = call.on_timer(60_100);
    let refresh = &sent(&out)[0];
    assert!(refresh.starts_with("INVITE sip:bob@127.0.0.2:5070") && refresh.contains("Session-Expires: 120;refresher=uac"), "{refresh}");
    let out = call.on_message(60_200, &ok_for(refresh, "Session-Expires: 120;refresher=uac\r\n", OFFER));
    assert!(sent(&out)[0].starts_with("ACK "));
    assert_eq!(call.next_wakeup(), Some(120_200), "and again half an interval after the refresh");

    // As the callee, with the caller refreshing: nothing heard for the interval
    // minus a third (32 s at most) ends the call.
    let mut call = incoming();
    let mut with_timer = invite(1, OFFER, None, "z9hG4bKa");
    with_timer.headers.push(super::super::Header { name: "Session-Expires".into(), value: "90;refresher=uac".into() });
    with_timer.headers.push(super::super::Header { name: "Supported".into(), value: "timer".into() });
    call.server.as_mut().unwrap().request = with_timer;
    let ok = &sent(&call.answer(0))[0];
    assert!(ok.contains("Session-Expires: 90;refresher=uac\r\nRequire: timer\r\n"), "{ok}");
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    assert_eq!(call.next_wakeup(), Some(60_000), "90 s − 30 s");
    let out = call.on_timer(60_000);
    assert!(sent(&out)[0].starts_with("BYE "));
    assert!(matches!(call.state(), CallState::Ended { code: Some(408), .. }));
}

#[test]
fn reliable_ringing_is_pracked_once_and_an_unknown_required_extension_is_refused() {
    let mut call = Call::outgoing(account(), "127.0.0.1:5062".parse().unwrap(), "sip:bob@ringside.test".into(), agent(), ids(), Box::new(|| 0.5));
    let ours = sent(&call.start(0))[0].clone();
    let m = super::super::parse_datagram(ours.as_bytes()).unwrap();
    let ringing = format!(
        "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch={}\r\nFrom: {}\r\nTo: <sip:bob@ringside.test>;tag=far\r\nCall-ID: {}\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.2:5070>\r\nRequire: 100rel\r\nRSeq: 4\r\nContent-Length: 0\r\n\r\n",
        m.via[0].branch().unwrap(),
        m.header("From").unwrap(),
        m.call_id
    );
    let ringing = super::super::parse_datagram(ringing.as_bytes()).unwrap();
    let out = call.on_message(10, &ringing);
    let prack = sent(&out).into_iter().find(|m| m.starts_with("PRACK ")).expect("a PRACK");
    assert!(prack.starts_with("PRACK sip:bob@127.0.0.2:5070 ") && prack.contains("RAck: 4 1 INVITE\r\n") && prack.contains("To: <sip:bob@ringside.test>;tag=far"), "{prack}");
    assert!(sent(&call.on_message(20, &ringing)).is_empty(), "a retransmitted 180 is not PRACKed again");

    let mut needs = invite(1, OFFER, None, "z9hG4bKa");
    needs.headers.push(super::super::Header { name: "Require".into(), value: "precondition".into() });
    let mut call = Call::incoming(account(), "127.0.0.1:5062".parse().unwrap(), &needs, agent(), ids(), Box::new(|| 0.5), 0);
    let refusal = &sent(&call.ring(0))[0];
    assert!(refusal.starts_with("SIP/2.0 420 Bad Extension") && refusal.contains("Unsupported: precondition"), "{refusal}");
    assert!(matches!(call.state(), CallState::Ended { code: Some(420), .. }));
}

#[test]
fn behind_a_nat_the_contact_carries_the_public_address_and_the_via_the_socket() {
    let public = Some("203.0.113.9:40001".parse().unwrap());
    let mut call = Call::outgoing(account(), "127.0.0.1:5062".parse().unwrap(), "sip:bob@ringside.test".into(), agent(), ids(), Box::new(|| 0.5)).with_contact_address(public);
    let invite = sent(&call.start(0))[0].clone();
    assert!(invite.contains("Contact: <sip:alice@203.0.113.9:40001;transport=udp>"), "{invite}");
    assert!(invite.contains("Via: SIP/2.0/UDP 127.0.0.1:5062;"), "{invite}");
}

#[test]
fn a_refer_from_the_far_end_is_accepted_notified_and_ends_the_call_once_the_target_answers() {
    let mut call = incoming();
    call.answer(0);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    let refer = |cseq: u32, refer_to: &str| request("REFER", cseq, &format!("z9hG4bKr{cseq}"), &format!("Refer-To: {refer_to}\r\nReferred-By: <sip:bob@ringside.test>\r\n"), "");
    let out = call.on_message(20, &refer(2, "<sip:carol@ringside.test?Replaces=c9%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>"));
    let s = sent(&out);
    assert!(s[0].starts_with("SIP/2.0 202 Accepted") && s[0].contains("Contact: "), "{}", s[0]);
    assert!(s[1].starts_with("NOTIFY sip:bob@127.0.0.2:5070 SIP/2.0") && s[1].contains("Event: refer\r\n"), "{}", s[1]);
    assert!(s[1].contains("Subscription-State: active;expires=60\r\n") && s[1].contains("Content-Type: message/sipfrag;version=2.0") && s[1].ends_with("SIP/2.0 100 Trying\r\n"), "{}", s[1]);
    let referred = out.iter().find_map(|o| match o {
        CallOutput::Referred { target, headers } => Some((target.clone(), headers.clone())),
        _ => None,
    });
    let (target, headers) = referred.expect("the driver is asked to call the target");
    assert_eq!(target, "sip:carol@ringside.test");
    assert_eq!(headers, "Referred-By: <sip:bob@ringside.test>\r\nReplaces: c9;to-tag=t1;from-tag=f1\r\n");
    // A second REFER while this one runs waits its turn.
    assert!(sent(&call.on_message(25, &refer(3, "<sip:dave@ringside.test>")))[0].starts_with("SIP/2.0 491 "));

    let out = call.referral_result(30, 200, "OK");
    let s = sent(&out);
    assert_eq!(s.len(), 1, "the transferor hangs up (RFC 5589): {s:?}");
    assert!(s[0].starts_with("NOTIFY ") && s[0].contains("Subscription-State: terminated;reason=noresource") && s[0].ends_with("SIP/2.0 200 OK\r\n"), "{}", s[0]);
    let out = call.on_message(100, &request("BYE", 4, "z9hG4bKbye", "", ""));
    assert!(sent(&out)[0].starts_with("SIP/2.0 200 OK"));
    assert_eq!(call.state(), &CallState::Ended { reason: "transferred by the other side to sip:carol@ringside.test".into(), code: None });

    // A transferor that does not hang up is left after a few seconds.
    let mut call = incoming();
    call.answer(0);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    call.on_message(20, &refer(2, "<sip:carol@ringside.test>"));
    call.referral_result(30, 200, "OK");
    let at = call.next_wakeup().unwrap();
    assert!(at <= 30 + TRANSFEROR_BYE_WAIT_MS, "{at}");
    let out = call.on_timer(30 + TRANSFEROR_BYE_WAIT_MS);
    assert!(sent(&out).iter().any(|m| m.starts_with("BYE ")), "{out:?}");
    assert_eq!(call.state(), &CallState::Ended { reason: "transferred by the other side to sip:carol@ringside.test".into(), code: None });
}

#[test]
fn a_failed_referral_is_notified_and_the_call_goes_on_and_bad_refers_are_refused() {
    let mut call = incoming();
    let refer = |cseq: u32, refer_to: &str| request("REFER", cseq, &format!("z9hG4bKr{cseq}"), &format!("Refer-To: {refer_to}\r\n"), "");
    assert!(sent(&call.on_message(5, &refer(2, "<sip:carol@ringside.test>")))[0].starts_with("SIP/2.0 603 "), "not while it rings");
    call.answer(6);
    call.on_message(10, &request("ACK", 1, "z9hG4bKack", "", ""));
    for bad in ["<tel:+33123456789>", "<http://example.com/>", "nonsense"] {
        assert!(sent(&call.on_message(12, &refer(3, bad)))[0].starts_with("SIP/2.0 400 Bad Refer-To"), "{bad}");
    }
    let out = call.on_message(20, &refer(4, "sip:carol@ringside.test"));
    assert!(out.iter().any(|o| matches!(o, CallOutput::Referred { headers, .. } if headers.starts_with("Referred-By: \"Bob\" <sip:bob@ringside.test>"))), "without Referred-By, the far end is named: {out:?}");
    let out = call.referral_result(30, 486, "Busy Here");
    assert!(sent(&out)[0].ends_with("SIP/2.0 486 Busy Here\r\n"));
    assert!(out.iter().any(|o| matches!(o, CallOutput::Notice(n) if n.contains("this call goes on"))));
    assert!(call.state().is_answered());
    assert!(call.referral_result(40, 200, "OK").is_empty(), "one result per referral");
}

#[test]
fn refer_to_values_are_read_with_their_replaces() {
    assert_eq!(parse_refer_to("<sip:carol@pbx.example;transport=tcp>"), Some(("sip:carol@pbx.example;transport=tcp".into(), None)));
    assert_eq!(parse_refer_to("\"Carol\" <sips:carol@pbx.example?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2&Require=replaces>"), Some(("sips:carol@pbx.example".into(), Some("a@b;to-tag=1;from-tag=2".into()))));
    assert_eq!(parse_refer_to("<tel:+331234>"), None);
    assert_eq!(parse_refer_to("<sip:>"), None);
}
