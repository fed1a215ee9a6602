//! RTCP (RFC 3550 §6) bookkeeping of one stream: what we received (loss, jitter,
//! the extended highest sequence number), what we sent (for sender reports), and the
//! round-trip time from the far end's reports. Packets themselves are built and
//! parsed with `rtc-rtcp`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rtc_rtcp::reception_report::ReceptionReport;
use rtc_rtcp::sender_report::SenderReport;
use rtc_rtcp::receiver_report::ReceiverReport;

/// Seconds between reports (RFC 3550's minimum for a two-party session).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// The 64-bit NTP time of `t`.
pub fn ntp_time(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() + 2_208_988_800;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP time (LSR and DLSR are in these units: 1/65536 s).
fn mid32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// What we know of the stream the far end sends us.
#[derive(Debug, Clone)]
pub struct Reception {
    ssrc: Option<u32>,
    base_seq: u16,
    max_seq: u16,
    cycles: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Relative transit time of the previous packet, in timestamp units.
    transit: Option<i64>,
    /// Interarrival jitter, in timestamp units (RFC 3550 A.8).
    jitter: f64,
    rate: u32,
    start: Instant,
    /// The middle bits of the far end's last SR and when it arrived.
    last_sr: Option<(u32, Instant)>,
    /// Loss over the last report interval, 0–255 (RFC 3550's fraction).
    last_fraction: u8,
}

impl Reception {
    pub fn new(rate: u32) -> Reception {
        Reception { ssrc: None, base_seq: 0, max_seq: 0, cycles: 0, received: 0, expected_prior: 0, received_prior: 0, transit: None, jitter: 0.0, rate, start: Instant::now(), last_sr: None, last_fraction: 0 }
    }

    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// A codec with another clock took over: jitter restarts in the new units.
    pub fn set_rate(&mut self, rate: u32) {
        if rate != self.rate {
            self.rate = rate;
            self.transit = None;
            self.jitter = 0.0;
        }
    }

    /// One RTP packet arrived `at`.
    pub fn on_rtp(&mut self, ssrc: u32, seq: u16, timestamp: u32, at: Instant) {
        if self.ssrc != Some(ssrc) {
            // A new source (or the first): counting starts again.
            *self = Reception { ssrc: Some(ssrc), base_seq: seq, max_seq: seq.wrapping_sub(1), last_sr: self.last_sr, ..Reception::new(self.rate) };
            self.start = at;
        }
        let delta = seq.wrapping_sub(self.max_seq);
        if delta < 0x8000 {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
        }
        self.received += 1;
        let arrival = (at.duration_since(self.start).as_secs_f64() * f64::from(self.rate)) as i64;
        let transit = arrival - i64::from(timestamp);
        if let Some(prev) = self.transit {
            let d = (transit - prev).abs() as f64;
            // Gaps of DTX or a codec switch are not jitter.
            if d < f64::from(self.rate) {
                self.jitter += (d - self.jitter) / 16.0;
            }
        }
        self.transit = Some(transit);
    }

    /// The far end's sender report arrived.
    pub fn on_sender_report(&mut self, ntp_time: u64, at: Instant) {
        self.last_sr = Some((mid32(ntp_time), at));
    }

    fn extended_max(&self) -> u32 {
        self.cycles + u32::from(self.max_seq)
    }

    fn expected(&self) -> u32 {
        self.extended_max().wrapping_sub(u32::from(self.base_seq)).wrapping_add(1)
    }

    /// Packets never received, over the whole call.
    pub fn lost(&self) -> u32 {
        if self.ssrc.is_none() {
            return 0;
        }
        self.expected().saturating_sub(self.received)
    }

    pub fn received(&self) -> u32 {
        self.received
    }

    pub fn jitter_ms(&self) -> f32 {
        (self.jitter * 1_000.0 / f64::from(self.rate)) as f32
    }

    /// Loss over the last report interval, in per mille.
    pub fn recent_loss_permille(&self) -> u32 {
        u32::from(self.last_fraction) * 1_000 / 256
    }

    /// The reception report block for our next RTCP packet.
    pub fn report(&mut self, now: Instant) -> Option<ReceptionReport> {
        let ssrc = self.ssrc?;
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        self.last_fraction = if expected_interval == 0 { 0 } else { ((lost_interval << 8) / expected_interval).min(255) as u8 };
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, (now.duration_since(at).as_secs_f64() * 65_536.0) as u32),
            None => (0, 0),
        };
        Some(ReceptionReport {
            ssrc,
            fraction_lost: self.last_fraction,
            total_lost: self.lost().min(0x7F_FFFF),
            last_sequence_number: self.extended_max(),
            jitter: self.jitter as u32,
            last_sender_report: lsr,
            delay: dlsr,
        })
    }
}

/// What we sent, for sender reports, and what the far end says of it.
#[derive(Debug, Clone, Default)]
pub struct Transmission {
    pub ssrc: u32,
    pub packets: u32,
    pub octets: u32,
    pub last_timestamp: u32,
    /// The far end's view of our stream.
    pub far_loss_permille: Option<u32>,
    pub far_jitter_ms: Option<u32>,
    pub rtt_ms: Option<u32>,
}

impl Transmission {
    pub fn on_sent(&mut self, payload_len: usize, timestamp: u32) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.last_timestamp = timestamp;
    }

    /// A report block about our SSRC arrived at `now` (wall clock); `rate` is our RTP clock.
    pub fn on_report(&mut self, r: &ReceptionReport, now: SystemTime, rate: u32) {
        if r.ssrc != self.ssrc {
            return;
        }
        self.far_loss_permille = Some(u32::from(r.fraction_lost) * 1_000 / 256);
        self.far_jitter_ms = Some((u64::from(r.jitter) * 1_000 / u64::from(rate.max(1))) as u32);
        if r.last_sender_report != 0 {
            let rtt = mid32(ntp_time(now)).wrapping_sub(r.last_sender_report).wrapping_sub(r.delay);
            // Ignore nonsense (clocks stepping): more than a minute is not a round trip.
            if rtt < 60 * 65_536 {
                self.rtt_ms = Some((u64::from(rtt) * 1_000 / 65_536) as u32);
            }
        }
    }
}

/// Our compound RTCP packet: a sender report when we have sent, else a receiver
/// report, each with the reception block when we have received.
pub fn build_report(tx: &Transmission, rx: &mut Reception, now: Instant, wall: SystemTime, sending: bool) -> Vec<u8> {
    use rtc_shared::marshal::Marshal;
    let reports: Vec<ReceptionReport> = rx.report(now).into_iter().collect();
    let bytes = if sending && tx.packets > 0 {
        SenderReport { ssrc: tx.ssrc, ntp_time: ntp_time(wall), rtp_time: tx.last_timestamp, packet_count: tx.packets, octet_count: tx.octets, reports, profile_extensions: Default::default() }.marshal()
    } else {
        ReceiverReport { ssrc: tx.ssrc, reports, profile_extensions: Default::default() }.marshal()
    };
    bytes.map(|b| b.to_vec()).unwrap_or_default()
}

/// Reads a compound RTCP packet from the far end into our records. Err: not RTCP.
pub fn read_packet(bytes: &[u8], tx: &mut Transmission, rx: &mut Reception, now: Instant, wall: SystemTime, rate: u32) -> Result<(), String> {
    let mut buf = bytes;
    let packets = rtc_rtcp::packet::unmarshal(&mut buf).map_err(|e| e.to_string())?;
    for p in packets {
        let any = p.as_any();
        if let Some(sr) = any.downcast_ref::<SenderReport>() {
            rx.on_sender_report(sr.ntp_time, now);
            for r in &sr.reports {
                tx.on_report(r, wall, rate);
            }
        } else if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
            for r in &rr.reports {
                tx.on_report(r, wall, rate);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_jitter_and_round_trip_from_reports() {
        let t0 = Instant::now();
        let mut rx = Reception::new(8_000);
        // 100 packets, every tenth lost, sequence numbers wrapping, 20 ms apart with
        // arrival ±2 ms (16 timestamp units) of jitter.
        let mut n = 0;
        for i in 0..100u32 {
            if i % 10 == 3 {
                continue;
            }
            let wobble = if i % 2 == 0 { 2 } else { 0 };
            let at = t0 + Duration::from_millis(u64::from(i) * 20 + wobble);
            rx.on_rtp(7, 65_500u16.wrapping_add(i as u16), 1_000 + i * 160, at);
            n += 1;
        }
        assert_eq!(rx.received(), n);
        assert_eq!(rx.lost(), 10);
        assert!((1.0..3.0).contains(&rx.jitter_ms()), "{}", rx.jitter_ms());
        let report = rx.report(t0 + Duration::from_secs(2)).unwrap();
        assert_eq!(report.last_sequence_number, (1 << 16) + u32::from(65_500u16.wrapping_add(99)));
        assert_eq!(report.total_lost, 10);
        assert_eq!(rx.recent_loss_permille(), 97, "25/256 of the interval");

        // Our SR went out at wall time w; the far end held it 250 ms and answered; it
        // comes back 100 ms after that → 100 ms of round trip.
        let w = SystemTime::now();
        let mut tx = Transmission { ssrc: 99, ..Default::default() };
        let block = ReceptionReport { ssrc: 99, fraction_lost: 128, last_sender_report: mid32(ntp_time(w)), delay: 65_536 / 4, ..Default::default() };
        tx.on_report(&block, w + Duration::from_millis(350), 8_000);
        assert_eq!(tx.far_loss_permille, Some(500));
        assert!((99..=101).contains(&tx.rtt_ms.unwrap()), "{:?}", tx.rtt_ms);

        // The packets we build read back.
        tx.on_sent(160, 1234);
        let bytes = build_report(&tx, &mut rx, t0, w, true);
        let mut other_tx = Transmission { ssrc: 7, ..Default::default() };
        let mut other_rx = Reception::new(8_000);
        read_packet(&bytes, &mut other_tx, &mut other_rx, t0, w, 8_000).unwrap();
        assert_eq!(other_tx.far_loss_permille, Some(0), "no loss in the interval since the last report");
        assert!(read_packet(b"not rtcp at all", &mut other_tx, &mut other_rx, t0, w, 8_000).is_err());
    }
}
