//! The simplest real media a call can carry: a 440 Hz tone encoded as G.711 (PCMU or
//! PCMA) in 20 ms RTP packets, and a count of the RTP packets the far end sends. It
//! proves a call's media path end to end (addresses, ports, payload type) until the
//! audio engine (devices, codecs, jitter buffer, SRTP) takes its place.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

/// µ-law (G.711) of one linear 16-bit sample.
pub fn ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    let s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// A-law (G.711) of one linear 16-bit sample.
pub fn alaw(sample: i16) -> u8 {
    let mut s = i32::from(sample) >> 3;
    let sign = if s >= 0 { 0x80 } else {
        s = -s - 1;
        0
    };
    let s = s.min(0x0FFF);
    let code = if s < 32 {
        s >> 1
    } else {
        let exponent = 31 - (s as u32).leading_zeros() as i32 - 4;
        (exponent << 4) | ((s >> exponent) & 0x0F)
    };
    ((sign | code) ^ 0x55) as u8
}

/// RTP counters of one call.
#[derive(Debug, Default)]
pub struct RtpCounters {
    pub sent: AtomicU32,
    pub received: AtomicU32,
    /// Datagrams on the RTP port that were not RTP (or came from elsewhere).
    pub dropped: AtomicU32,
    /// RFC 4733 event packets sent (each digit is several).
    pub events_sent: AtomicU32,
}

/// What the stream does now; the call changes it with every offer/answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Control {
    remote: Option<SocketAddr>,
    payload_type: u8,
    telephone_event: Option<u8>,
    send: bool,
    muted: bool,
}

/// The tone backend of one call: a bound RTP socket and the task that sends the tone
/// (or silence when muted, nothing on hold) and counts what arrives.
pub struct ToneMedia {
    port: u16,
    control: watch::Sender<Control>,
    digits: mpsc::UnboundedSender<char>,
    counters: Arc<RtpCounters>,
    task: tokio::task::JoinHandle<()>,
}

impl ToneMedia {
    /// Binds an RTP port on `ip` (the address the SIP side advertises).
    pub async fn bind(ip: std::net::IpAddr) -> std::io::Result<ToneMedia> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let port = socket.local_addr()?.port();
        let (control, rx) = watch::channel(Control::default());
        let (digits, digits_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(RtpCounters::default());
        let task = tokio::spawn(run(socket, rx, digits_rx, counters.clone()));
        Ok(ToneMedia { port, control, digits, counters, task })
    }
}

impl Drop for ToneMedia {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl super::MediaBackend for ToneMedia {
    fn port(&self) -> u16 {
        self.port
    }

    fn apply(&mut self, n: &super::sdp::Negotiated) {
        self.control.send_modify(|c| {
            c.remote = n.remote;
            c.payload_type = n.payload_type;
            c.telephone_event = n.telephone_event;
            c.send = n.direction.sends();
        });
    }

    fn set_muted(&mut self, muted: bool) {
        self.control.send_modify(|c| c.muted = muted);
    }

    fn send_dtmf(&mut self, digit: char) -> bool {
        let c = *self.control.borrow();
        if c.telephone_event.is_none() || c.remote.is_none() || event_code(digit).is_none() {
            return false;
        }
        self.digits.send(digit).is_ok()
    }

    fn stats(&self) -> super::MediaStats {
        super::MediaStats {
            sent: self.counters.sent.load(Ordering::Relaxed),
            received: self.counters.received.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
            events_sent: self.counters.events_sent.load(Ordering::Relaxed),
        }
    }
}

/// The RFC 4733 event code of a keypad key.
pub fn event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(12 + (digit as u8 - b'A')),
        _ => None,
    }
}

/// A digit lasts 100 ms (5 packets) and its end is sent three times (RFC 4733 §2.5.1.4).
const EVENT_PACKETS: u16 = 5;
const END_REPEATS: u16 = 3;

fn rtp_header(packet: &mut Vec<u8>, marker: bool, payload_type: u8, seq: u16, timestamp: u32, ssrc: u32) {
    packet.clear();
    packet.extend_from_slice(&[0x80, (payload_type & 0x7F) | if marker { 0x80 } else { 0 }]);
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&timestamp.to_be_bytes());
    packet.extend_from_slice(&ssrc.to_be_bytes());
}

async fn run(socket: UdpSocket, mut control: watch::Receiver<Control>, mut digits: mpsc::UnboundedReceiver<char>, counters: Arc<RtpCounters>) {
    let ssrc: u32 = rand::random();
    let mut seq: u16 = rand::random();
    let mut timestamp: u32 = rand::random();
    let mut phase = 0f64;
    let step = 2.0 * std::f64::consts::PI * 440.0 / 8_000.0;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut buf = vec![0u8; 2048];
    // One packet buffer for the whole call: nothing is allocated per packet.
    let mut packet = Vec::with_capacity(172);
    let mut queued: std::collections::VecDeque<char> = Default::default();
    // The digit being sent: its code, start timestamp and packets sent so far.
    let mut event: Option<(u8, u32, u16)> = None;
    let mut first_audio = true;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let c = *control.borrow_and_update();
                let Some(remote) = c.remote.filter(|_| c.send) else {
                    event = None;
                    timestamp = timestamp.wrapping_add(160);
                    continue;
                };
                if event.is_none() {
                    if let (Some(d), Some(_)) = (queued.pop_front(), c.telephone_event) {
                        event = event_code(d).map(|code| (code, timestamp, 0));
                    }
                }
                if let (Some((code, start, n)), Some(te)) = (event, c.telephone_event) {
                    let end = n + 1 >= EVENT_PACKETS;
                    let duration = 160 * (n.min(EVENT_PACKETS - 1) + 1);
                    rtp_header(&mut packet, n == 0, te, seq, start, ssrc);
                    packet.extend_from_slice(&[code, if end { 0x80 } else { 0 } | 10]);
                    packet.extend_from_slice(&duration.to_be_bytes());
                    event = if n + 1 >= EVENT_PACKETS + END_REPEATS - 1 { None } else { Some((code, start, n + 1)) };
                    if socket.send_to(&packet, remote).await.is_ok() {
                        counters.events_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    seq = seq.wrapping_add(1);
                    timestamp = timestamp.wrapping_add(160);
                    continue;
                }
                rtp_header(&mut packet, first_audio, c.payload_type, seq, timestamp, ssrc);
                first_audio = false;
                for _ in 0..160 {
                    let sample = if c.muted { 0 } else { (phase.sin() * 8_000.0) as i16 };
                    phase = (phase + step) % (2.0 * std::f64::consts::PI);
                    packet.push(if c.payload_type == 8 { alaw(sample) } else { ulaw(sample) });
                }
                if socket.send_to(&packet, remote).await.is_ok() {
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                seq = seq.wrapping_add(1);
                timestamp = timestamp.wrapping_add(160);
            }
            Some(d) = digits.recv() => queued.push_back(d),
            changed = control.changed() => if changed.is_err() { break },
            got = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = got {
                    let remote = control.borrow().remote;
                    // RTP version 2, a header's worth of bytes, from the address the
                    // far end gave (its port may differ behind NAT; the IP may not).
                    let rtp = n >= 12 && buf[0] >> 6 == 2 && remote.is_some_and(|r| r.ip() == from.ip());
                    let counter = if rtp { &counters.received } else { &counters.dropped };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_matches_the_reference_values() {
        // ITU-T G.711 tables: silence and full scale.
        assert_eq!(ulaw(0), 0xFF);
        assert_eq!(ulaw(-1), 0x7F);
        assert_eq!(ulaw(32_767), 0x80);
        assert_eq!(ulaw(-32_768), 0x00);
        assert_eq!(alaw(0), 0xD5);
        assert_eq!(alaw(32_767), 0xAA);
        assert_eq!(alaw(-32_768), 0x2A);
    }
}
