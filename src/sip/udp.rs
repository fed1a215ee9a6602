//! The UDP driver of a registration: one task owns the socket and the timers, feeds
//! datagrams and time to [`Registration`], sends what it returns, and publishes its
//! state on a watch channel. Malformed datagrams are logged and dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{oneshot, watch};

use super::registration::{Account, Output, Registration, RegistrationState};
use crate::clock::Clock;

/// A datagram larger than this is not SIP we can use (RFC 3261 §18.1.1 keeps UDP
/// requests under the path MTU; responses with many contacts can be larger).
const MAX_DATAGRAM: usize = 65_535;
/// How long unregistering may take before the task gives up and ends.
const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct RegistrationHandle {
    pub states: watch::Receiver<RegistrationState>,
    pub local: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RegistrationHandle {
    pub(super) fn new(
        states: watch::Receiver<RegistrationState>,
        local: SocketAddr,
        stop: oneshot::Sender<()>,
        task: tokio::task::JoinHandle<()>,
    ) -> RegistrationHandle {
        RegistrationHandle { states, local, stop: Some(stop), task }
    }

    /// Waits until the state satisfies `done` (or `timeout` passes) and returns it.
    pub async fn wait_for(&mut self, timeout: Duration, done: impl Fn(&RegistrationState) -> bool) -> RegistrationState {
        let _ = tokio::time::timeout(timeout, self.states.wait_for(|s| done(s))).await;
        self.states.borrow().clone()
    }

    /// Unregisters and ends the task; returns the last state.
    pub async fn stop(mut self) -> RegistrationState {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(STOP_GRACE + Duration::from_secs(1), &mut self.task).await;
        let state = self.states.borrow().clone();
        state
    }
}

/// A socket connected to `server`; connecting picks the interface that reaches it,
/// whose address is what the Via and Contact say.
async fn connected_socket(server: SocketAddr) -> std::io::Result<(UdpSocket, SocketAddr)> {
    let any: std::net::IpAddr = if server.is_ipv6() { std::net::Ipv6Addr::UNSPECIFIED.into() } else { std::net::Ipv4Addr::UNSPECIFIED.into() };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
    socket.connect(server).await?;
    let local = socket.local_addr()?;
    Ok((socket, local))
}

/// How long a registration driver may sleep: until the registration's next timer,
/// and no later than the end of an unregistration in progress.
pub(super) fn next_wait(reg: &Registration, clock: &dyn Clock, stopping_until: Option<tokio::time::Instant>) -> Duration {
    let wait = reg
        .next_wakeup()
        .map(|at| Duration::from_millis((at - clock.now_ms()).max(0) as u64))
        .unwrap_or(Duration::from_secs(3_600));
    match stopping_until {
        Some(until) => wait.min(until.saturating_duration_since(tokio::time::Instant::now())),
        None => wait,
    }
}

pub(super) fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Registers `account` with the registrar (or outbound proxy) at `server` over UDP.
pub async fn register(account: Account, server: SocketAddr, clock: Arc<dyn Clock>) -> std::io::Result<RegistrationHandle> {
    let (socket, local) = connected_socket(server).await?;
    let mut reg = Registration::new(account, local, Box::new(token), Box::new(rand::random::<f64>));
    let (state_tx, states) = watch::channel(RegistrationState::Unregistered);
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut outputs = reg.start(clock.now_ms());
        let mut stopping_until: Option<tokio::time::Instant> = None;
        loop {
            for o in outputs.drain(..) {
                match o {
                    Output::Send(bytes) => {
                        if let Err(e) = socket.send(&bytes).await {
                            tracing::warn!(%e, %server, "REGISTER not sent");
                        }
                    }
                    Output::State(s) => {
                        tracing::info!(state = ?s, "registration");
                        let _ = state_tx.send(s);
                    }
                }
            }
            if let Some(until) = stopping_until {
                if matches!(reg.state(), RegistrationState::Unregistered | RegistrationState::Failed { .. }) && reg.next_wakeup().is_none()
                    || tokio::time::Instant::now() >= until
                {
                    break;
                }
                if matches!(reg.state(), RegistrationState::Unregistered) {
                    break;
                }
            }
            let wait = next_wait(&reg, clock.as_ref(), stopping_until);
            tokio::select! {
                received = socket.recv(&mut buf) => match received {
                    Ok(n) => match super::parse_datagram(&buf[..n]) {
                        Ok(msg) => outputs = reg.on_response(clock.now_ms(), &msg),
                        Err(e) => tracing::warn!(%e, bytes = n, "malformed datagram from the registrar dropped"),
                    },
                    // ICMP port unreachable surfaces here on a connected socket; the
                    // transaction's timers decide what it means.
                    Err(e) => {
                        tracing::debug!(%e, "receive failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                _ = tokio::time::sleep(wait) => outputs = reg.on_timer(clock.now_ms()),
                _ = &mut stop_rx, if stopping_until.is_none() => {
                    stopping_until = Some(tokio::time::Instant::now() + STOP_GRACE);
                    outputs = reg.stop(clock.now_ms());
                    if outputs.is_empty() {
                        break;
                    }
                }
            }
        }
    });
    Ok(RegistrationHandle { states, local, stop: Some(stop_tx), task })
}

/// What a call did, for the CLI and the tests.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    pub states: Vec<super::call::CallState>,
    pub negotiated: Option<crate::media::sdp::Negotiated>,
    pub rtp_sent: u32,
    pub rtp_received: u32,
    pub rtp_dropped: u32,
    /// From the 200 OK to the `Answered` state, as the driver saw it.
    pub answer_latency_us: Option<u64>,
}

/// Places a call to `target` through the proxy at `server`, sends a tone once it is
/// answered, hangs up after `talk`, and reports. `give_up` bounds the whole call.
pub async fn call(
    account: Account,
    server: SocketAddr,
    target: String,
    talk: Duration,
    give_up: Duration,
    clock: Arc<dyn Clock>,
) -> std::io::Result<CallReport> {
    use super::call::{CallOutput, CallState, OutgoingCall};
    use crate::media::sdp::{self, Direction, Sdp, PCMA, PCMU};
    use crate::media::tone::{self, RtpCounters};
    use std::sync::atomic::Ordering;

    let (socket, local) = connected_socket(server).await?;
    let rtp = Arc::new(UdpSocket::bind(SocketAddr::new(local.ip(), 0)).await?);
    let rtp_port = rtp.local_addr()?.port();
    let offer = sdp::offer(local.ip(), rtp_port, rand::random::<u32>().into(), &[PCMU, PCMA], Direction::SendRecv);
    let mut call = OutgoingCall::new(account, local, target, offer.to_text().into_bytes(), Box::new(token));
    let counters = Arc::new(RtpCounters::default());
    let mut media: Option<tokio::task::JoinHandle<()>> = None;
    let mut report = CallReport { states: vec![], negotiated: None, rtp_sent: 0, rtp_received: 0, rtp_dropped: 0, answer_latency_us: None };
    let mut hang_up_at: Option<tokio::time::Instant> = None;
    let mut end_by = tokio::time::Instant::now() + give_up;
    let mut cancelling = false;
    let mut outputs = call.start(clock.now_ms());
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut received_at: Option<std::time::Instant> = None;
    loop {
        for o in outputs.drain(..) {
            match o {
                CallOutput::Send(bytes) => {
                    if let Err(e) = socket.send(&bytes).await {
                        tracing::warn!(%e, "SIP request not sent");
                    }
                }
                CallOutput::RemoteSdp(body) => match Sdp::parse(&body).map_err(|e| e.to_string()).and_then(|s| sdp::negotiate(&s, &[PCMU, PCMA])) {
                    Ok(n) => {
                        if let Some(remote) = n.remote {
                            media = Some(tokio::spawn(tone::run(rtp.clone(), remote, n.payload_type, counters.clone())));
                        }
                        report.negotiated = Some(n);
                    }
                    Err(e) => tracing::warn!(%e, "the answer's SDP is unusable; no media"),
                },
                CallOutput::State(s) => {
                    tracing::info!(state = ?s, "call");
                    if s == CallState::Answered {
                        report.answer_latency_us = received_at.map(|t| t.elapsed().as_micros() as u64);
                        hang_up_at = Some(tokio::time::Instant::now() + talk);
                    }
                    report.states.push(s);
                }
            }
        }
        if matches!(call.state(), CallState::Ended { .. }) {
            break;
        }
        let now = tokio::time::Instant::now();
        if now >= end_by {
            if cancelling {
                report.states.push(CallState::Ended { reason: "gave up waiting".into(), code: None });
                break;
            }
            // Not answered in time: cancel (or hang up) properly, then give it a few
            // seconds to end.
            cancelling = true;
            end_by = now + STOP_GRACE;
            outputs = call.hang_up(clock.now_ms());
            continue;
        }
        let timer = call
            .next_wakeup()
            .map(|at| Duration::from_millis((at - clock.now_ms()).max(0) as u64))
            .unwrap_or(Duration::from_secs(3_600))
            .min(end_by - now);
        let hang = hang_up_at.map(|t| t.saturating_duration_since(now));
        tokio::select! {
            got = socket.recv(&mut buf) => match got {
                Ok(n) => {
                    received_at = Some(std::time::Instant::now());
                    match super::parse_datagram(&buf[..n]) {
                        Ok(msg) => outputs = call.on_message(clock.now_ms(), &msg),
                        Err(e) => tracing::warn!(%e, "malformed SIP datagram dropped"),
                    }
                }
                Err(e) => {
                    tracing::debug!(%e, "receive failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = tokio::time::sleep(timer) => outputs = call.on_timer(clock.now_ms()),
            _ = tokio::time::sleep(hang.unwrap_or(Duration::from_secs(3_600))), if hang.is_some() => {
                hang_up_at = None;
                outputs = call.hang_up(clock.now_ms());
            }
        }
    }
    if let Some(m) = media {
        m.abort();
    }
    report.rtp_sent = counters.sent.load(Ordering::Relaxed);
    report.rtp_received = counters.received.load(Ordering::Relaxed);
    report.rtp_dropped = counters.dropped.load(Ordering::Relaxed);
    Ok(report)
}
