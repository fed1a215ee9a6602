//! The simplest real media a call can carry: a 440 Hz tone encoded as G.711 (PCMU or
//! PCMA) in 20 ms RTP packets, and a count of the RTP packets the far end sends. It
//! proves a call's media path end to end (addresses, ports, payload type) until the
//! audio engine (devices, codecs, jitter buffer, SRTP) takes its place.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

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
    !(sign | (exponent << 4) as i32 | mantissa) as u8
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
}

/// Sends the tone to `remote` every 20 ms and counts what arrives from it, until the
/// task is aborted.
pub async fn run(socket: Arc<UdpSocket>, remote: SocketAddr, payload_type: u8, counters: Arc<RtpCounters>) {
    let ssrc: u32 = rand::random();
    let mut seq: u16 = rand::random();
    let mut timestamp: u32 = rand::random();
    let mut phase = 0f64;
    let step = 2.0 * std::f64::consts::PI * 440.0 / 8_000.0;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut buf = vec![0u8; 2048];
    // One packet buffer for the whole call: nothing is allocated per packet.
    let mut packet = Vec::with_capacity(172);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                packet.clear();
                packet.extend_from_slice(&[0x80, payload_type & 0x7F]);
                packet.extend_from_slice(&seq.to_be_bytes());
                packet.extend_from_slice(&timestamp.to_be_bytes());
                packet.extend_from_slice(&ssrc.to_be_bytes());
                for _ in 0..160 {
                    let sample = (phase.sin() * 8_000.0) as i16;
                    phase = (phase + step) % (2.0 * std::f64::consts::PI);
                    packet.push(if payload_type == 8 { alaw(sample) } else { ulaw(sample) });
                }
                if socket.send_to(&packet, remote).await.is_ok() {
                    counters.sent.fetch_add(1, Ordering::Relaxed);
                }
                seq = seq.wrapping_add(1);
                timestamp = timestamp.wrapping_add(160);
            }
            got = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = got {
                    // RTP version 2, a header's worth of bytes, from the address the
                    // far end gave (its port may differ behind NAT; the IP may not).
                    let rtp = n >= 12 && buf[0] >> 6 == 2 && from.ip() == remote.ip();
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
