//! One call's task: the media it needs, a call placed or a request that starts one,
//! and the loop that owns the call's signalling core, its media backend and its
//! timers, and publishes its `CallInfo`.

use super::*;

pub(super) async fn new_media(shared: &Shared) -> std::io::Result<(AudioMedia, SdpAgent)> {
    let config = &shared.media;
    let media = AudioMedia::bind(shared.local.ip(), (config.audio)()).await?;
    let security = Security { srtp: config.srtp, key: crate::media::srtp::new_key() };
    let agent = SdpAgent::new(shared.local.ip(), media.port(), rand::random::<u32>().into(), &config.codecs).with_security(security);
    Ok((media, agent))
}

pub(super) async fn dial(shared: &Shared, target: String, id: u32) -> std::io::Result<Route> {
    let (media, agent) = new_media(shared).await?;
    let mut call = Call::outgoing(shared.account.clone(), shared.local, target, agent, Box::new(token), Box::new(rand::random::<f64>)).with_transport(shared.transport).with_contact_address(shared.public);
    let outputs = call.start(shared.clock.now_ms());
    Ok(spawn_call(shared, id, call, Box::new(media), outputs, None, None))
}

/// The call a far end's REFER asks for: `headers` (Referred-By, Replaces) on the
/// INVITE, and its outcome reported to the referring call through `report_to`.
pub(super) async fn dial_referred(shared: &Shared, target: String, id: u32, headers: String, report_to: mpsc::UnboundedSender<CallInput>) -> std::io::Result<Route> {
    let (media, agent) = new_media(shared).await?;
    let mut call = Call::outgoing(shared.account.clone(), shared.local, target, agent, Box::new(token), Box::new(rand::random::<f64>))
        .with_transport(shared.transport)
        .with_contact_address(shared.public)
        .with_invite_headers(headers);
    let outputs = call.start(shared.clock.now_ms());
    Ok(spawn_call(shared, id, call, Box::new(media), outputs, None, Some(report_to)))
}

/// A request outside every known call: a new INVITE rings (or is refused busy); an
/// OPTIONS is answered; the rest are refused statelessly.
pub(super) async fn new_request(shared: &Shared, msg: &Message, next_id: &mut u32, busy: bool) -> Option<(u32, Route)> {
    let StartLine::Request { method, .. } = &msg.start else { return None };
    match method.as_str() {
        "INVITE" if msg.to.tag().is_none() => {
            let (media, agent) = match new_media(shared).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(%e, "no port for an incoming call's media");
                    let _ = shared.wire.send(stateless(msg, 503, "Service Unavailable"));
                    return None;
                }
            };
            let now = shared.clock.now_ms();
            let mut call = Call::incoming(shared.account.clone(), shared.local, msg, agent, Box::new(token), Box::new(rand::random::<f64>), now).with_transport(shared.transport).with_contact_address(shared.public);
            let mut outputs = call.ring(now);
            let remote_name = msg.from.display.clone().map(|d| d.trim_matches('"').to_string()).filter(|d| !d.is_empty());
            if busy {
                tracing::info!(from = %msg.from.uri, "busy: call refused");
                outputs = call.decline(now, 486);
            }
            let id = *next_id;
            *next_id += 1;
            Some((id, spawn_call(shared, id, call, Box::new(media), outputs, remote_name, None)))
        }
        "ACK" => None,
        "OPTIONS" => {
            let _ = shared.wire.send(stateless(msg, 200, "OK"));
            None
        }
        _ if msg.to.tag().is_some() => {
            let _ = shared.wire.send(stateless(msg, 481, "Call/Transaction Does Not Exist"));
            None
        }
        _ => {
            let _ = shared.wire.send(stateless(msg, 405, "Method Not Allowed"));
            None
        }
    }
}

pub(super) fn spawn_call(
    shared: &Shared,
    id: u32,
    call: Call,
    media: Box<dyn MediaBackend>,
    outputs: Vec<CallOutput>,
    remote_name: Option<String>,
    report_to: Option<mpsc::UnboundedSender<CallInput>>,
) -> Route {
    let (inbox, rx) = mpsc::unbounded_channel();
    let info = CallInfo {
        id,
        direction: call.direction(),
        remote_uri: call.remote_uri().to_string(),
        remote_user: user_of(call.remote_uri()),
        remote_name,
        state: call.state().clone(),
        muted: false,
        started_at: crate::clock::Clock::now_ms(shared.clock.as_ref()),
        answered_at: None,
        ended_at: None,
        media: MediaStats::default(),
        codec: None,
        answer_latency_us: None,
        sip_call_id: call.call_id().to_string(),
    };
    let route = Route { call_id: call.call_id().to_string(), inbox };
    tokio::spawn(run_call(shared.clone(), call, media, rx, info, outputs, report_to));
    route
}

pub(super) async fn run_call(
    shared: Shared,
    mut call: Call,
    mut media: Box<dyn MediaBackend>,
    mut inbox: mpsc::UnboundedReceiver<CallInput>,
    mut info: CallInfo,
    mut outputs: Vec<CallOutput>,
    mut report_to: Option<mpsc::UnboundedSender<CallInput>>,
) {
    let clock = shared.clock.clone();
    let _ = shared.events.send(UaEvent::Call(info.clone()));
    let mut cause: Option<Instant> = None;
    // Once a second: the media's quality for the UI's indicator, and what the rep
    // should hear about the sound (a device gone).
    let mut quality = tokio::time::interval(QUALITY_INTERVAL);
    quality.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        for o in std::mem::take(&mut outputs) {
            match o {
                CallOutput::Send(bytes) => {
                    if shared.wire.send(bytes).is_err() {
                        tracing::warn!(call = info.id, "SIP message not sent: the transport is gone");
                    }
                }
                CallOutput::Media(n) => {
                    media.apply(&n);
                    info.codec = Some(n.codec.clone());
                }
                CallOutput::State(s) => {
                    tracing::info!(call = info.id, state = ?s, "call");
                    media.set_ringback(s == CallState::Ringing && info.direction == CallDirection::Outgoing);
                    if s.is_answered() && info.answered_at.is_none() {
                        info.answered_at = Some(clock.now_ms());
                        info.answer_latency_us = cause.map(|t| t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    if s.is_ended() {
                        info.ended_at = Some(clock.now_ms());
                        info.media = media.stats();
                        // Silence at once: the media stops with the call, not with its
                        // last retransmission.
                        media = Box::new(Stopped(info.media));
                    }
                    // A call made for the far end's REFER tells the referring call how it went.
                    let result = match &s {
                        CallState::Answered { .. } => Some((200, "OK".to_string())),
                        CallState::Ended { reason, code } => Some((code.unwrap_or(487), reason.clone())),
                        _ => None,
                    };
                    if let Some((code, reason)) = result {
                        if let Some(to) = report_to.take() {
                            let _ = to.send(CallInput::Command(CallCommand::ReferralResult(code, reason)));
                        }
                    }
                    info.state = s;
                    let _ = shared.events.send(UaEvent::Call(info.clone()));
                }
                CallOutput::Dtmf(digit) => {
                    let _ = shared.events.send(UaEvent::Dtmf { id: info.id, digit });
                }
                CallOutput::Transfer(progress) => {
                    let _ = shared.events.send(UaEvent::Transfer { id: info.id, progress });
                }
                CallOutput::Referred { target, headers } => {
                    let message = format!("The other side is transferring you to {target}.");
                    tracing::info!(call = info.id, %target, "the far end transfers this call");
                    let _ = shared.events.send(UaEvent::Notice { id: info.id, message });
                    let _ = shared.referrals.send(Referral { from: info.id, target, headers });
                }
                CallOutput::Notice(message) => {
                    tracing::info!(call = info.id, %message, "call notice");
                    let _ = shared.events.send(UaEvent::Notice { id: info.id, message });
                }
            }
        }
        if call.finished() {
            break;
        }
        let wait = call.next_wakeup().map(|at| Duration::from_millis((at - clock.now_ms()).max(0) as u64)).unwrap_or(Duration::from_secs(3_600));
        tokio::select! {
            input = inbox.recv() => match input {
                None => {
                    // The user agent is gone: end the call as well as we can.
                    outputs = call.hang_up(clock.now_ms());
                    if outputs.is_empty() { break }
                }
                Some(CallInput::Message(msg, at)) => {
                    cause = Some(at);
                    outputs = call.on_message(clock.now_ms(), &msg);
                }
                Some(CallInput::Command(c)) => {
                    cause = None;
                    let now = clock.now_ms();
                    outputs = match c {
                        CallCommand::Answer => call.answer(now),
                        CallCommand::Decline(code) => call.decline(now, code),
                        CallCommand::HangUp => call.hang_up(now),
                        CallCommand::Hold(on) => call.hold(now, on),
                        CallCommand::Mute(on) => {
                            media.set_muted(on);
                            info.muted = on;
                            let _ = shared.events.send(UaEvent::Call(info.clone()));
                            vec![]
                        }
                        CallCommand::Digits(digits) => {
                            let mut out = Vec::new();
                            for d in digits.chars() {
                                if !media.send_dtmf(d) {
                                    out.extend(call.send_info_digit(now, d));
                                }
                            }
                            out
                        }
                        CallCommand::Transfer { target, replaces } => {
                            let r = replaces.as_ref().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()));
                            call.transfer(now, &target, r)
                        }
                        CallCommand::ReferralResult(code, reason) => call.referral_result(now, code, &reason),
                        CallCommand::Describe(reply) => {
                            let _ = reply.send((call.remote_uri().to_string(), call.replaces_id().filter(|_| call.state().is_answered())));
                            vec![]
                        }
                    };
                }
            },
            _ = tokio::time::sleep(wait) => outputs = call.on_timer(clock.now_ms()),
            _ = quality.tick() => {
                while let Some(message) = media.take_problem() {
                    let _ = shared.events.send(UaEvent::Notice { id: info.id, message });
                }
                let stats = media.stats();
                if info.state.is_answered() && stats != info.media {
                    info.media = stats;
                    let _ = shared.events.send(UaEvent::Call(info.clone()));
                }
            }
        }
    }
    let _ = shared.finished.send(info.id);
}

/// How often a live call's media quality is published.
const QUALITY_INTERVAL: Duration = Duration::from_secs(1);

/// The media of an ended call: its last counts, nothing sent.
struct Stopped(MediaStats);

impl MediaBackend for Stopped {
    fn port(&self) -> u16 {
        0
    }
    fn apply(&mut self, _: &crate::media::sdp::Negotiated) {}
    fn set_muted(&mut self, _: bool) {}
    fn send_dtmf(&mut self, _: char) -> bool {
        false
    }
    fn stats(&self) -> MediaStats {
        self.0
    }
}
