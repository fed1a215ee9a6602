//! The media of one call: an RTP and an RTCP socket, the codec in each direction,
//! SRTP when negotiated, the jitter buffer, and RTCP reports — one task, paced by a
//! 20 ms tick. Each tick reads a frame from the call's audio source and sends it (or
//! a keypad event), and plays one frame from the jitter buffer to the audio sink.
//! Sources and sinks never block (the sound card's threads sit behind rings), so
//! neither side of the sound ever waits on the network, nor the network on a device.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rtc_shared::marshal::{Marshal, MarshalSize, Unmarshal};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use super::codec::{CodecKind, Decoder, Encoder, OpusOptions};
use super::jitter::{Insert, JitterBuffer, Playout};
use super::rtcp::{self, Reception, Transmission};
use super::sdp::Negotiated;
use super::dtls::DtlsTransport;
use super::srtp::{SdesKeys, SrtpSession};
use crate::audio::io::CallAudio;

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
/// The largest datagram read; anything bigger is not audio.
const MAX_DATAGRAM: usize = 2_048;

/// Counters the call's task reads while the media task runs.
#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU32,
    received: AtomicU32,
    dropped: AtomicU32,
    events_sent: AtomicU32,
    lost: AtomicU32,
    late: AtomicU32,
    concealed: AtomicU32,
    jitter_us: AtomicU32,
    rtt_ms: AtomicU32,
    loss_permille: AtomicU32,
    far_loss_permille: AtomicU32,
    srtp_failures: AtomicU32,
    ice_checks: AtomicU32,
    buffer_ms: AtomicU32,
    mic_level: AtomicU32,
    speaker_level: AtomicU32,
    speaker_gaps_ms: AtomicU32,
    srtp: AtomicU32,
}

const NONE: u32 = u32::MAX;

/// What the stream does now; the call changes it with every offer/answer.
#[derive(Debug, Clone, Default)]
struct Control {
    negotiated: Option<Negotiated>,
    muted: bool,
    ringback: bool,
}

/// The real media backend of one call.
pub struct AudioMedia {
    port: u16,
    control: watch::Sender<Control>,
    digits: mpsc::UnboundedSender<char>,
    counters: Arc<Counters>,
    problems: Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl AudioMedia {
    /// Binds an RTP port (even) and the RTCP port after it on `ip`, the address the
    /// SIP side advertises.
    pub async fn bind(ip: IpAddr, audio: CallAudio) -> std::io::Result<AudioMedia> {
        let (rtp, rtcp) = bind_pair(ip).await?;
        let port = rtp.local_addr()?.port();
        let (control, rx) = watch::channel(Control::default());
        let (digits, digits_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters { rtt_ms: NONE.into(), far_loss_permille: NONE.into(), ..Default::default() });
        let problems = Arc::new(std::sync::Mutex::new(Vec::new()));
        let task = tokio::spawn(run(Sockets { rtp, rtcp }, rx, digits_rx, counters.clone(), problems.clone(), audio));
        Ok(AudioMedia { port, control, digits, counters, problems, task })
    }
}

async fn bind_pair(ip: IpAddr) -> std::io::Result<(UdpSocket, UdpSocket)> {
    let mut last = None;
    for _ in 0..20 {
        let rtp = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let port = rtp.local_addr()?.port();
        if port % 2 == 1 || port == u16::MAX {
            continue;
        }
        match UdpSocket::bind(SocketAddr::new(ip, port + 1)).await {
            Ok(rtcp) => return Ok((rtp, rtcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free pair of RTP/RTCP ports")))
}

impl Drop for AudioMedia {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl super::MediaBackend for AudioMedia {
    fn port(&self) -> u16 {
        self.port
    }

    fn apply(&mut self, n: &Negotiated) {
        self.control.send_modify(|c| c.negotiated = Some(n.clone()));
    }

    fn set_muted(&mut self, muted: bool) {
        self.control.send_modify(|c| c.muted = muted);
    }

    fn set_ringback(&mut self, on: bool) {
        self.control.send_modify(|c| c.ringback = on);
    }

    fn send_dtmf(&mut self, digit: char) -> bool {
        let c = self.control.borrow();
        let usable = c.negotiated.as_ref().is_some_and(|n| n.telephone_event.is_some() && n.remote.is_some());
        if !usable || event_code(digit).is_none() {
            return false;
        }
        self.digits.send(digit).is_ok()
    }

    fn stats(&self) -> super::MediaStats {
        let c = &self.counters;
        let get = |a: &AtomicU32| a.load(Ordering::Relaxed);
        let opt = |a: &AtomicU32| Some(get(a)).filter(|v| *v != NONE);
        super::MediaStats {
            sent: get(&c.sent),
            received: get(&c.received),
            dropped: get(&c.dropped),
            events_sent: get(&c.events_sent),
            lost: get(&c.lost),
            late: get(&c.late),
            concealed_ms: get(&c.concealed) * super::codec::FRAME_MS,
            jitter_ms: get(&c.jitter_us) / 1_000,
            rtt_ms: opt(&c.rtt_ms),
            loss_permille: get(&c.loss_permille),
            far_loss_permille: opt(&c.far_loss_permille),
            srtp: get(&c.srtp) == 1,
            srtp_failures: get(&c.srtp_failures),
            ice_checks: get(&c.ice_checks),
            buffer_ms: get(&c.buffer_ms),
            mic_level: get(&c.mic_level) as u8,
            speaker_level: get(&c.speaker_level) as u8,
            speaker_gaps_ms: get(&c.speaker_gaps_ms),
        }
    }

    fn take_problem(&mut self) -> Option<String> {
        self.problems.lock().ok().and_then(|mut p| (!p.is_empty()).then(|| p.remove(0)))
    }
}

struct Sockets {
    rtp: UdpSocket,
    rtcp: UdpSocket,
}

/// The codec state of one direction, rebuilt when the codec changes.
struct Codecs {
    kind: CodecKind,
    payload_type: u8,
    encoder: Encoder,
    decoder: Decoder,
    /// The codec and decoder of the packets arriving, when the far end switched.
    receiving: Option<(u8, CodecKind, Decoder)>,
    dtx: bool,
}

impl Codecs {
    fn new(n: &Negotiated) -> Option<Codecs> {
        let kind = CodecKind::from_rtpmap(&n.codec, n.rate)?;
        let fmtp = n.fmtp.as_deref().unwrap_or("");
        let flag = |name: &str| fmtp.split(';').any(|p| p.trim().eq_ignore_ascii_case(&format!("{name}=1")));
        let options = OpusOptions { fec: flag("useinbandfec"), dtx: flag("usedtx") };
        let encoder = Encoder::new(kind, options).map_err(|e| tracing::warn!(%e, "no encoder")).ok()?;
        let decoder = Decoder::new(kind).map_err(|e| tracing::warn!(%e, "no decoder")).ok()?;
        Some(Codecs { kind, payload_type: n.payload_type, encoder, decoder, receiving: None, dtx: options.dtx && kind == CodecKind::Opus })
    }
}

/// The static payload types a far end may switch to without a new offer.
fn static_codec(pt: u8) -> Option<CodecKind> {
    match pt {
        0 => Some(CodecKind::Pcmu),
        8 => Some(CodecKind::Pcma),
        9 => Some(CodecKind::G722),
        _ => None,
    }
}

fn level(frame: &[i16]) -> u32 {
    (super::analysis::rms(frame) * 100.0 * 2.0).min(100.0) as u32
}

struct Stream {
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    first: bool,
    /// The digit being sent: its code, start timestamp and packets sent so far.
    event: Option<(u8, u32, u16)>,
    queued: std::collections::VecDeque<char>,
}

#[allow(clippy::too_many_lines)]
async fn run(sockets: Sockets, mut control: watch::Receiver<Control>, mut digits: mpsc::UnboundedReceiver<char>, counters: Arc<Counters>, problems: Arc<std::sync::Mutex<Vec<String>>>, audio: CallAudio) {
    let CallAudio { mut source, mut sink, voice_processing } = audio;
    let mut out = Stream { ssrc: rand::random(), seq: rand::random(), timestamp: rand::random(), first: true, event: None, queued: Default::default() };
    let mut tick = tokio::time::interval(Duration::from_millis(u64::from(super::codec::FRAME_MS)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    // The first report soon, at a random point, then every interval (RFC 3550 §6.2
    // randomises so two ends do not report in lockstep).
    let first = Duration::from_millis(500 + rand::random::<u64>() % 1_000);
    let mut report_tick = tokio::time::interval_at(tokio::time::Instant::now() + first, rtcp::REPORT_INTERVAL);
    let mut rtp_buf = vec![0u8; MAX_DATAGRAM];
    let mut rtcp_buf = vec![0u8; MAX_DATAGRAM];
    // Buffers for the whole call: frames, payloads and packets are not allocated per tick.
    let mut pcm = vec![0i16; 960];
    let mut played = vec![0i16; 960];
    let mut payload = Vec::with_capacity(1_500);
    let mut packet = vec![0u8; 1_600];
    let mut codecs: Option<Codecs> = None;
    let mut srtp: Option<(SdesKeys, SrtpSession)> = None;
    // The DTLS-SRTP handshake, when the media is keyed that way; `srtp` follows it.
    let mut dtls: Option<DtlsTransport> = None;
    let local = sockets.rtp.local_addr().ok();
    // A DTLS datagram that came before the answer was applied (the far end starts its
    // handshake as soon as it answers): replayed when the handshake is set up.
    let mut early_dtls: Option<(Vec<u8>, SocketAddr)> = None;
    // ICE-lite: the address of the pair the far end nominated, where media goes.
    let mut nominated: Option<SocketAddr> = None;
    let mut jitter = JitterBuffer::new();
    let mut rx = Reception::new(8_000);
    let mut tx = Transmission { ssrc: out.ssrc, ..Default::default() };
    let mut current = Control::default();
    let mut ticks: u64 = 0;
    let mut ringback = crate::audio::tones::Looped::new(crate::audio::tones::ringback());
    let mut last_rtp: Option<Instant> = None;
    let mut tone = [0i16; 160];
    let mut processor: Option<crate::audio::dsp::VoiceProcessor> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                ticks += 1;
                // Ringback while the far end rings and sends nothing of its own.
                let early_media = last_rtp.is_some_and(|t| t.elapsed() < Duration::from_millis(300));
                let ringing_here = current.ringback && !early_media;
                if ringing_here {
                    ringback.fill(8_000, &mut tone);
                    sink.write(8_000, &tone);
                } else {
                    ringback.rewind();
                }
                let Some(n) = current.negotiated.as_ref() else {
                    // Nothing agreed yet: keep the devices drained.
                    source.read(8_000, &mut pcm[..160]);
                    continue;
                };
                let Some(c) = codecs.as_mut() else { continue };
                let frame = c.kind.frame_samples();
                let rate = c.kind.audio_rate();
                // The microphone is always read, so its buffer never backs up; when
                // muted, its samples are replaced here and never reach the encoder.
                source.read(rate, &mut pcm[..frame]);
                // Voice processing follows the codec's rate and the playout's.
                let (play_kind, play_rate) = c.receiving.as_ref().map(|r| (r.1, r.1.audio_rate())).unwrap_or((c.kind, rate));
                if voice_processing && processor.as_ref().is_none_or(|p| p.rates() != (rate, play_rate)) {
                    processor = crate::audio::dsp::VoiceProcessor::new(rate, play_rate);
                }
                if let Some(p) = processor.as_mut() {
                    p.capture(&mut pcm[..frame]);
                }
                if current.muted {
                    pcm[..frame].fill(0);
                }
                counters.mic_level.store(level(&pcm[..frame]), Ordering::Relaxed);
                if let Some(p) = source.take_problem() { note(&problems, p) }
                if let Some(t) = dtls.as_mut() {
                    if let Err(e) = t.on_tick() {
                        note(&problems, e);
                        dtls = None;
                    }
                    flush_dtls(dtls.as_mut(), &sockets.rtp, nominated.or(n.remote)).await;
                }
                // With DTLS-SRTP nothing leaves before the keys are there.
                let keyed = n.dtls.is_none() || srtp.is_some();
                if let Some(remote) = nominated.or(n.remote).filter(|_| n.direction.sends() && keyed) {
                    send_frame(&sockets.rtp, remote, n, c, &mut out, &pcm[..frame], &mut payload, &mut packet, srtp.as_mut().map(|s| &mut s.1), &counters, &mut tx).await;
                } else {
                    out.event = None;
                    out.timestamp = out.timestamp.wrapping_add(c.kind.frame_ticks());
                }
                // Playout.
                let pf = play_kind.frame_samples();
                let decoder = match c.receiving.as_mut() { Some(r) => &mut r.2, None => &mut c.decoder };
                let heard = n.direction.receives();
                match jitter.pop() {
                    Playout::Packet { payload, .. } => {
                        if let Err(e) = decoder.decode(payload, &mut played[..pf]) {
                            tracing::debug!(%e, "undecodable payload");
                            let _ = decoder.conceal(None, &mut played[..pf]);
                            counters.concealed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Playout::Lost { next } => {
                        let _ = decoder.conceal(next, &mut played[..pf]);
                        counters.concealed.fetch_add(1, Ordering::Relaxed);
                    }
                    Playout::Underrun if heard && rx.received() > 0 => {
                        let _ = decoder.conceal(None, &mut played[..pf]);
                        if !c.dtx {
                            counters.concealed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Playout::Underrun | Playout::Waiting => played[..pf].fill(0),
                }
                if !ringing_here {
                    if let Some(p) = processor.as_mut() {
                        p.render(&played[..pf]);
                    }
                    sink.write(play_rate, &played[..pf]);
                }
                counters.speaker_level.store(level(&played[..pf]), Ordering::Relaxed);
                if let Some(p) = sink.take_problem() { note(&problems, p) }
                counters.speaker_gaps_ms.store(sink.gaps_ms(), Ordering::Relaxed);
                if ticks % 50 == 0 {
                    jitter.set_jitter_ms(rx.jitter_ms());
                    publish(&counters, &jitter, &rx, &tx);
                }
            }
            _ = report_tick.tick() => {
                let Some(n) = current.negotiated.as_ref() else { continue };
                let Some(to) = (if n.rtcp_mux { nominated.or(n.remote_rtcp) } else { n.remote_rtcp }) else { continue };
                if n.dtls.is_some() && (srtp.is_none() || !n.rtcp_mux) { continue }
                let report = rtcp::build_report(&tx, &mut rx, Instant::now(), SystemTime::now(), n.direction.sends());
                if report.is_empty() { continue }
                let bytes = match srtp.as_mut() {
                    Some((_, s)) => match s.protect_rtcp(&report) { Ok(b) => b, Err(_) => continue },
                    None => report,
                };
                let socket = if n.rtcp_mux { &sockets.rtp } else { &sockets.rtcp };
                let _ = socket.send_to(&bytes, to).await;
                publish(&counters, &jitter, &rx, &tx);
            }
            Some(d) = digits.recv() => out.queued.push_back(d),
            changed = control.changed() => {
                if changed.is_err() { break }
                let next = control.borrow_and_update().clone();
                if let Some(n) = &next.negotiated {
                    let codec_changed = codecs.as_ref().is_none_or(|c| c.payload_type != n.payload_type || CodecKind::from_rtpmap(&n.codec, n.rate) != Some(c.kind));
                    if codec_changed {
                        codecs = Codecs::new(n);
                        if codecs.is_none() {
                            note(&problems, format!("the agreed codec {} cannot be used", n.codec));
                        }
                        if let Some(c) = &codecs { rx.set_rate(c.kind.rtp_rate()) }
                    }
                    match (&n.dtls, n.remote, local) {
                        (Some(setup), Some(remote), Some(local)) => {
                            // A re-INVITE that moves the address (ICE's updated default candidate)
                            // keeps the association; new roles or a new certificate restart it.
                            if dtls.as_ref().is_none_or(|t| t.setup() != setup) {
                                srtp = None;
                                counters.srtp.store(0, Ordering::Relaxed);
                                dtls = match DtlsTransport::new(setup, local, remote) {
                                    Ok(t) => Some(t),
                                    Err(e) => { note(&problems, format!("Secure media could not start: {e}")); None }
                                };
                                if let (Some(t), Some((early, from))) = (dtls.as_mut(), early_dtls.take()) {
                                    if from.ip() == remote.ip() {
                                        let _ = t.on_datagram(&early);
                                    }
                                }
                                flush_dtls(dtls.as_mut(), &sockets.rtp, nominated.or(n.remote)).await;
                            }
                        }
                        (Some(_), _, _) => {}
                        (None, _, _) => dtls = None,
                    }
                    if n.ice.as_ref().map(|i| &i.remote) != current.negotiated.as_ref().and_then(|c| c.ice.as_ref()).map(|i| &i.remote) {
                        nominated = None;
                    }
                    let keys_changed = n.dtls.is_none() && srtp.as_ref().map(|s| &s.0) != n.srtp.as_ref();
                    if keys_changed {
                        srtp = n.srtp.clone().and_then(|k| start_srtp(k, &problems));
                        counters.srtp.store(u32::from(srtp.is_some()), Ordering::Relaxed);
                    }
                }
                current = next;
            }
            got = sockets.rtp.recv_from(&mut rtp_buf) => {
                let Ok((len, from)) = got else { continue };
                let at = Instant::now();
                if dtls.is_none() && len > 0 && super::dtls::is_dtls(rtp_buf[0]) && current.negotiated.as_ref().is_none_or(|n| n.dtls.is_some()) {
                    early_dtls = Some((rtp_buf[..len].to_vec(), from));
                    continue;
                }
                let Some(n) = current.negotiated.as_ref() else { counters.dropped.fetch_add(1, Ordering::Relaxed); continue };
                // ICE checks prove themselves (integrity), from whatever address.
                if let Some(ice) = n.ice.as_ref().filter(|_| len > 0 && super::ice::is_stun(rtp_buf[0])) {
                    answer_check(&sockets.rtp, &rtp_buf[..len], from, &ice.ours, &counters, Some(&mut nominated)).await;
                    continue;
                }
                // From the address the far end gave (its port may differ behind a NAT;
                // the IP may not), or the one its ICE nominated.
                if (n.remote.is_none_or(|r| r.ip() != from.ip()) && nominated != Some(from)) || len == 0 {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if let Some(t) = dtls.as_mut().filter(|_| super::dtls::is_dtls(rtp_buf[0])) {
                    match t.on_datagram(&rtp_buf[..len]) {
                        Ok(Some(keys)) => {
                            srtp = start_srtp(keys, &problems);
                            counters.srtp.store(u32::from(srtp.is_some()), Ordering::Relaxed);
                            tracing::info!(keyed = srtp.is_some(), "DTLS-SRTP handshake done");
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "DTLS-SRTP handshake failed");
                            note(&problems, format!("The secure media handshake failed: {e}"));
                            dtls = None;
                        }
                    }
                    flush_dtls(dtls.as_mut(), &sockets.rtp, nominated.or(n.remote)).await;
                    continue;
                }
                if (n.dtls.is_some() && srtp.is_none()) || len < 12 || rtp_buf[0] >> 6 != 2 {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                // RTCP multiplexed on the RTP port (RFC 5761: packet types 192–223).
                if (192..=223).contains(&rtp_buf[1]) {
                    read_rtcp(&rtp_buf[..len], srtp.as_mut().map(|s| &mut s.1), &mut tx, &mut rx, at, codecs.as_ref().map_or(8_000, |c| c.kind.rtp_rate()), &counters);
                    continue;
                }
                let clear;
                let bytes: &[u8] = match srtp.as_mut() {
                    Some((_, s)) => match s.unprotect_rtp(&rtp_buf[..len]) {
                        Ok(b) => { clear = b; &clear }
                        Err(_) => { counters.srtp_failures.fetch_add(1, Ordering::Relaxed); continue }
                    },
                    None => &rtp_buf[..len],
                };
                let mut reader = bytes;
                let Ok(header) = rtc_rtp::header::Header::unmarshal(&mut reader) else {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let mut body = &bytes[header.marshal_size().min(bytes.len())..];
                if header.padding {
                    let pad = body.last().copied().unwrap_or(0) as usize;
                    if pad == 0 || pad > body.len() { counters.dropped.fetch_add(1, Ordering::Relaxed); continue }
                    body = &body[..body.len() - pad];
                }
                let Some(c) = codecs.as_mut() else { continue };
                let pt = header.payload_type;
                if Some(pt) == n.telephone_event || pt == 13 {
                    // Keypad events and comfort noise: counted as media, not played.
                    counters.received.fetch_add(1, Ordering::Relaxed);
                    rx.on_rtp(header.ssrc, header.sequence_number, header.timestamp, at);
                    continue;
                }
                if pt != c.payload_type {
                    // The far end switched codec mid-call without an offer.
                    let switched = c.receiving.as_ref().is_some_and(|r| r.0 == pt);
                    if !switched {
                        match static_codec(pt).and_then(|k| Decoder::new(k).ok().map(|d| (k, d))) {
                            Some((k, d)) => {
                                tracing::info!(payload_type = pt, codec = k.name(), "the far end switched codec");
                                c.receiving = Some((pt, k, d));
                            }
                            None => { counters.dropped.fetch_add(1, Ordering::Relaxed); continue }
                        }
                    }
                } else if c.receiving.is_some() {
                    c.receiving = None;
                }
                match jitter.insert(header.sequence_number, pt, body) {
                    Insert::Accepted => {
                        last_rtp = Some(at);
                        counters.received.fetch_add(1, Ordering::Relaxed);
                        rx.on_rtp(header.ssrc, header.sequence_number, header.timestamp, at);
                    }
                    Insert::Late | Insert::Duplicate => {
                        // It arrived (RFC 3550 counts it as received), too late to play.
                        counters.late.fetch_add(1, Ordering::Relaxed);
                        rx.on_rtp(header.ssrc, header.sequence_number, header.timestamp, at);
                    }
                    Insert::Oversized => { counters.dropped.fetch_add(1, Ordering::Relaxed); }
                }
            }
            got = sockets.rtcp.recv_from(&mut rtcp_buf) => {
                let Ok((len, from)) = got else { continue };
                if let Some(ice) = current.negotiated.as_ref().and_then(|n| n.ice.as_ref()).filter(|_| len > 0 && super::ice::is_stun(rtcp_buf[0])) {
                    answer_check(&sockets.rtcp, &rtcp_buf[..len], from, &ice.ours, &counters, None).await;
                    continue;
                }
                let expected = current.negotiated.as_ref().and_then(|n| n.remote).map(|r| r.ip());
                if expected != Some(from.ip()) {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                read_rtcp(&rtcp_buf[..len], srtp.as_mut().map(|s| &mut s.1), &mut tx, &mut rx, Instant::now(), codecs.as_ref().map_or(8_000, |c| c.kind.rtp_rate()), &counters);
            }
        }
    }
}

/// A problem for the rep (and the log).
fn note(problems: &std::sync::Mutex<Vec<String>>, p: String) {
    tracing::warn!(problem = %p, "call audio");
    if let Ok(mut list) = problems.lock() {
        list.push(p);
    }
}

/// SRTP contexts from keys (SDES or DTLS); a failure is told to the rep.
fn start_srtp(keys: SdesKeys, problems: &std::sync::Mutex<Vec<String>>) -> Option<(SdesKeys, SrtpSession)> {
    match SrtpSession::new(&keys) {
        Ok(s) => Some((keys, s)),
        Err(e) => {
            note(problems, format!("SRTP could not start: {e}"));
            None
        }
    }
}

/// Answers an ICE check on a media port; a nomination on the RTP port moves where
/// media goes.
async fn answer_check(socket: &UdpSocket, packet: &[u8], from: SocketAddr, ours: &super::ice::IceCredentials, counters: &Counters, nominated: Option<&mut Option<SocketAddr>>) {
    match super::ice::answer(packet, from, ours) {
        super::ice::Check::Answer { response, nominated: nominates } => {
            let _ = socket.send_to(&response, from).await;
            counters.ice_checks.fetch_add(1, Ordering::Relaxed);
            if let Some(n) = nominated.filter(|n| nominates && **n != Some(from)) {
                tracing::info!(%from, "ICE: the far end nominated this pair");
                *n = Some(from);
            }
        }
        super::ice::Check::Refused(why) => {
            tracing::debug!(%why, "STUN packet dropped");
            counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sends what the DTLS handshake queued to `to` (the pair ICE nominated, else the
/// far end's media address).
async fn flush_dtls(t: Option<&mut DtlsTransport>, socket: &UdpSocket, to: Option<SocketAddr>) {
    let Some(t) = t else { return };
    let to = to.unwrap_or(t.remote());
    while let Some(p) = t.take_transmit() {
        let _ = socket.send_to(&p, to).await;
    }
}

fn publish(counters: &Counters, jitter: &JitterBuffer, rx: &Reception, tx: &Transmission) {
    counters.lost.store(rx.lost(), Ordering::Relaxed);
    counters.jitter_us.store((rx.jitter_ms() * 1_000.0) as u32, Ordering::Relaxed);
    counters.loss_permille.store(rx.recent_loss_permille(), Ordering::Relaxed);
    counters.buffer_ms.store(jitter.target() * super::codec::FRAME_MS, Ordering::Relaxed);
    counters.rtt_ms.store(tx.rtt_ms.unwrap_or(NONE), Ordering::Relaxed);
    counters.far_loss_permille.store(tx.far_loss_permille.unwrap_or(NONE), Ordering::Relaxed);
    let _ = jitter.stats;
}

fn read_rtcp(bytes: &[u8], srtp: Option<&mut SrtpSession>, tx: &mut Transmission, rx: &mut Reception, at: Instant, rate: u32, counters: &Counters) {
    let clear;
    let bytes = match srtp {
        Some(s) => match s.unprotect_rtcp(bytes) {
            Ok(b) => {
                clear = b;
                &clear[..]
            }
            Err(e) => {
                // Not media: some far ends send short plain RTCP (keepalive APP
                // packets) beside SRTCP. Dropped; only RTP failures count as SRTP's.
                tracing::debug!(%e, len = bytes.len(), "RTCP that is not valid SRTCP dropped");
                counters.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
        },
        None => bytes,
    };
    if let Err(e) = rtcp::read_packet(bytes, tx, rx, at, SystemTime::now(), rate) {
        tracing::debug!(%e, "unreadable RTCP");
        counters.dropped.fetch_add(1, Ordering::Relaxed);
    }
}

#[allow(clippy::too_many_arguments)]
async fn send_frame(socket: &UdpSocket, remote: SocketAddr, n: &Negotiated, c: &mut Codecs, out: &mut Stream, pcm: &[i16], payload: &mut Vec<u8>, packet: &mut [u8], srtp: Option<&mut SrtpSession>, counters: &Counters, tx: &mut Transmission) {
    let ticks = c.kind.frame_ticks();
    if out.event.is_none() {
        if let (Some(d), Some(_)) = (out.queued.front().copied(), n.telephone_event) {
            out.queued.pop_front();
            out.event = event_code(d).map(|code| (code, out.timestamp, 0));
        }
    }
    payload.clear();
    let (pt, marker, timestamp, is_event) = match (out.event, n.telephone_event) {
        (Some((code, start, k)), Some(te)) => {
            let end = k + 1 >= EVENT_PACKETS;
            // Event durations are in the RTP clock of the audio (RFC 4733 §2.5.1.2).
            let duration = (ticks * u32::from(k.min(EVENT_PACKETS - 1) + 1)).min(0xFFFF) as u16;
            payload.extend_from_slice(&[code, if end { 0x80 } else { 0 } | 10]);
            payload.extend_from_slice(&duration.to_be_bytes());
            out.event = if k + 1 >= EVENT_PACKETS + END_REPEATS - 1 { None } else { Some((code, start, k + 1)) };
            (te, k == 0, start, true)
        }
        _ => {
            if let Err(e) = c.encoder.encode(pcm, payload) {
                tracing::warn!(%e, "encoding failed");
                return;
            }
            // Opus DTX: a packet of one or two bytes means silence; send nothing.
            if c.dtx && payload.len() <= 2 {
                out.timestamp = out.timestamp.wrapping_add(ticks);
                out.first = true;
                return;
            }
            let marker = out.first;
            out.first = false;
            (c.payload_type, marker, out.timestamp, false)
        }
    };
    let header = rtc_rtp::header::Header { version: 2, marker, payload_type: pt, sequence_number: out.seq, timestamp, ssrc: out.ssrc, ..Default::default() };
    let Ok(h) = header.marshal_to(packet) else { return };
    let len = h + payload.len();
    if len > packet.len() {
        return;
    }
    packet[h..len].copy_from_slice(payload);
    let sent = match srtp {
        Some(s) => match s.protect_rtp(&packet[..len]) {
            Ok(b) => socket.send_to(&b, remote).await,
            Err(e) => {
                tracing::warn!(%e, "SRTP protect failed");
                return;
            }
        },
        None => socket.send_to(&packet[..len], remote).await,
    };
    if sent.is_ok() {
        let counter = if is_event { &counters.events_sent } else { &counters.sent };
        counter.fetch_add(1, Ordering::Relaxed);
        tx.on_sent(payload.len(), timestamp);
    }
    out.seq = out.seq.wrapping_add(1);
    out.timestamp = out.timestamp.wrapping_add(ticks);
}
