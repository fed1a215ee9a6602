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

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Registers `account` with the registrar (or outbound proxy) at `server` over UDP.
pub async fn register(account: Account, server: SocketAddr, clock: Arc<dyn Clock>) -> std::io::Result<RegistrationHandle> {
    let bind: SocketAddr = if server.is_ipv6() { "[::]:0".parse().expect("address") } else { "0.0.0.0:0".parse().expect("address") };
    let socket = UdpSocket::bind(bind).await?;
    // Connecting picks the interface that reaches the server: that is our Contact.
    socket.connect(server).await?;
    let local = socket.local_addr()?;
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
            let wait = reg
                .next_wakeup()
                .map(|at| Duration::from_millis((at - clock.now_ms()).max(0) as u64))
                .unwrap_or(Duration::from_secs(3_600));
            let wait = match stopping_until {
                Some(until) => wait.min(until.saturating_duration_since(tokio::time::Instant::now())),
                None => wait,
            };
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
