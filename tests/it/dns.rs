//! RFC 3263 against a small DNS server of the test's own (UDP, on 127.0.0.1): SRV in
//! priority and weight order, NAPTR choosing the transport, and the user agent moving
//! on to the next server when one answers 503.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ringside::clock::SystemClock;
use ringside::sip::locate::{locate, resolver};
use ringside::sip::registration::RegistrationState;
use ringside::sip::transaction::Transport;
use ringside::sip::ua::{UaConfig, UserAgent};

use crate::registration::{account, kamailio};

/// One answer the server gives: (name, type, rdata bytes).
type Record = (String, u16, Vec<u8>);

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

fn srv(priority: u16, weight: u16, port: u16, target: &str) -> Vec<u8> {
    let mut r = Vec::new();
    for v in [priority, weight, port] {
        r.extend_from_slice(&v.to_be_bytes());
    }
    r.extend(encode_name(target));
    r
}

fn naptr(order: u16, preference: u16, service: &str, replacement: &str) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&order.to_be_bytes());
    r.extend_from_slice(&preference.to_be_bytes());
    for s in ["s", service, ""] {
        r.push(s.len() as u8);
        r.extend_from_slice(s.as_bytes());
    }
    r.extend(encode_name(replacement));
    r
}

/// Answers queries from `records` (case-insensitive names); NXDOMAIN otherwise.
async fn dns_server(records: Vec<Record>) -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let q = &buf[..n];
            if n < 12 {
                continue;
            }
            // The question: labels, then type and class.
            let mut i = 12;
            let mut labels = Vec::new();
            while i < n && q[i] != 0 {
                let len = q[i] as usize;
                labels.push(String::from_utf8_lossy(&q[i + 1..i + 1 + len]).to_ascii_lowercase());
                i += 1 + len;
            }
            let qname = labels.join(".");
            let question_end = i + 5;
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let answers: Vec<&Record> = records.iter().filter(|r| r.0.trim_end_matches('.').eq_ignore_ascii_case(&qname) && r.1 == qtype).collect();
            let mut out = Vec::new();
            out.extend_from_slice(&q[..2]);
            let rcode: u8 = if answers.is_empty() && !records.iter().any(|r| r.0.trim_end_matches('.').eq_ignore_ascii_case(&qname)) { 3 } else { 0 };
            out.extend_from_slice(&[0x81, 0x80 | rcode]);
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(&q[12..question_end]);
            for (_, t, rdata) in answers {
                out.extend_from_slice(&[0xC0, 12]);
                out.extend_from_slice(&t.to_be_bytes());
                out.extend_from_slice(&1u16.to_be_bytes());
                out.extend_from_slice(&60u32.to_be_bytes());
                out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
                out.extend_from_slice(rdata);
            }
            let _ = socket.send_to(&out, from).await;
        }
    });
    addr
}

const A: u16 = 1;
const SRV: u16 = 33;
const NAPTR: u16 = 35;

fn a(name: &str) -> Record {
    (name.into(), A, vec![127, 0, 0, 1])
}

/// A registrar that answers every REGISTER 503 (a PBX node being drained).
async fn always_503() -> u16 {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(req) = ringside::sip::parse_datagram(&buf[..n]) else { continue };
            let mut resp = "SIP/2.0 503 Service Unavailable\r\n".to_string();
            for h in &req.headers {
                if ["via", "from", "to", "call-id", "cseq"].contains(&h.name.to_ascii_lowercase().as_str()) {
                    resp.push_str(&format!("{}: {}\r\n", h.name, h.value));
                }
            }
            resp.push_str("Content-Length: 0\r\n\r\n");
            let _ = socket.send_to(resp.as_bytes(), from).await;
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn srv_and_naptr_order_the_servers_and_a_503_moves_the_registration_to_the_next() {
    let Some(k) = kamailio(&[]) else { return };
    let drained = always_503().await;
    let dns = dns_server(vec![
        (String::from("ringside.test"), NAPTR, naptr(10, 10, "SIPS+D2T", "_sips._tcp.ringside.test")),
        (String::from("ringside.test"), NAPTR, naptr(20, 10, "SIP+D2U", "_sip._udp.ringside.test")),
        (String::from("_sip._udp.ringside.test"), SRV, srv(10, 100, drained, "node1.ringside.test")),
        (String::from("_sip._udp.ringside.test"), SRV, srv(20, 100, k.addr.port(), "node2.ringside.test")),
        (String::from("_sip._tcp.ringside.test"), SRV, srv(10, 100, k.tcp.port(), "node2.ringside.test")),
        a("node1.ringside.test"),
        a("node2.ringside.test"),
        a("pbx.ringside.test"),
    ])
    .await;
    let r = resolver(Some(dns)).unwrap();
    // A bare domain over UDP: the SRV records, by priority.
    let targets = locate(&r, "ringside.test", Some(Transport::Udp)).await.unwrap();
    assert_eq!(targets.iter().map(|t| t.addr.port()).collect::<Vec<_>>(), [drained, k.addr.port()]);
    assert_eq!(targets[1].host, "node2.ringside.test");
    // An explicit port: no SRV, the host's address.
    let direct = locate(&r, "pbx.ringside.test:5070", Some(Transport::Udp)).await.unwrap();
    assert_eq!(direct.iter().map(|t| t.addr).collect::<Vec<_>>(), ["127.0.0.1:5070".parse::<SocketAddr>().unwrap()]);
    // Transport left to the PBX: NAPTR says TLS first (no SRV for it here), then UDP.
    let auto = locate(&r, "ringside.test", None).await.unwrap();
    assert_eq!(auto.iter().map(|t| t.transport).collect::<Vec<_>>(), [Transport::Udp, Transport::Udp]);
    assert!(locate(&r, "nowhere.test", Some(Transport::Udp)).await.is_err(), "an unknown domain is an error");

    // node1 answers 503: the registration moves to node2 (Kamailio) and succeeds.
    let config = UaConfig::with_targets(account("alice", "alice-secret", 600), targets, true).unwrap();
    let mut ua = UserAgent::start(config, Arc::new(SystemClock)).await.unwrap();
    let state = ua.wait_registration(Duration::from_secs(15), |s| matches!(s, RegistrationState::Registered { .. })).await;
    assert!(matches!(state, RegistrationState::Registered { .. }), "{state:?}");
    ua.stop().await;
}
