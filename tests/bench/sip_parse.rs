//! SIP parser throughput for docs/BENCHMARKS.md, side by side with the `rsip` crate in
//! the same run. Run: `make bench-sip` (`cargo bench -p ringside --bench sip_parse`).
//!
//! Ringside's `parse_datagram` frames the message and parses Via, From, To, Call-ID,
//! CSeq, Contact, Route, Max-Forwards and Expires into types every time. `rsip` splits
//! headers and types them on request, so it is measured twice: parsing alone, and
//! parsing plus asking for the same typed headers a user agent reads on every message.

use std::hint::black_box;
use std::time::{Duration, Instant};

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@client.atlanta.example.com;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, PRACK, UPDATE\r\n\
Supported: replaces, timer, 100rel\r\n\
User-Agent: Ringside/0.1\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 151\r\n\
\r\n\
v=0\r\no=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9;received=192.0.2.101;rport=5060\r\n\
Record-Route: <sip:proxy.biloxi.example.com;lr>\r\n\
From: \"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:bob@client.biloxi.example.com>\r\n\
Content-Length: 0\r\n\
\r\n";

fn rate(n: u32, elapsed: Duration) -> f64 {
    f64::from(n) / elapsed.as_secs_f64()
}

fn measure(n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    rate(n, t.elapsed())
}

fn ours(msg: &[u8]) {
    let m = ringside::sip::parse_datagram(black_box(msg)).unwrap();
    black_box((&m.via[0], &m.from, &m.to, &m.cseq, &m.call_id, &m.contact));
}

fn rsip_only(msg: &[u8]) {
    let m = rsip::SipMessage::try_from(black_box(msg)).unwrap();
    black_box(m);
}

fn rsip_typed(msg: &[u8]) {
    use rsip::prelude::*;
    let m = rsip::SipMessage::try_from(black_box(msg)).unwrap();
    let via = m.via_header().unwrap().typed().unwrap();
    let from = m.from_header().unwrap().typed().unwrap();
    let to = m.to_header().unwrap().typed().unwrap();
    let cseq = m.cseq_header().unwrap().typed().unwrap();
    let call_id = m.call_id_header().unwrap().clone();
    let contact = m.contact_header().map(|c| c.typed().ok());
    let _ = black_box((via, from, to, cseq, call_id, contact));
}

fn main() {
    let n = 100_000;
    println!("| message | Ringside (parse + typed headers) | rsip 0.4 (parse) | rsip 0.4 (parse + same typed headers) | ratio vs rsip typed |");
    println!("|---|---|---|---|---|");
    for (name, msg) in [("INVITE with SDP (12 headers)", INVITE), ("200 OK (9 headers)", OK)] {
        let bytes = msg.as_bytes();
        let a = measure(n, || ours(bytes));
        let b = measure(n, || rsip_only(bytes));
        let c = measure(n, || rsip_typed(bytes));
        println!("| {name} | {:.0}/s | {:.0}/s | {:.0}/s | **{:.2}×** |", a, b, c, a / c);
    }
}
