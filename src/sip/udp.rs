//! UDP helpers and two small drivers over the user agent: `register` (a registration
//! with its state on a watch channel) and `call` (one call, for the CLI and the tests).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{broadcast, oneshot, watch};

use super::call::CallState;

use super::registration::{Account, Registration, RegistrationState};
use crate::clock::Clock;

/// How long unregistering may take before the task gives up and ends.
pub(super) const STOP_GRACE: Duration = Duration::from_secs(5);

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
pub(super) async fn connected_socket(server: SocketAddr) -> std::io::Result<(UdpSocket, SocketAddr)> {
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
    let ua = super::ua::UserAgent::start(super::ua::UaConfig::new(account, server, true), clock).await?;
    Ok(ua.into_registration())
}

/// What a call did, for the CLI and the tests.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    pub states: Vec<CallState>,
    /// The call as it ended: codec, media counts, times.
    pub call: Option<super::ua::CallInfo>,
}

/// Places a call to `target` through the proxy at `server` (without registering),
/// sends a tone once it is answered, hangs up after `talk`, and reports. `give_up`
/// bounds the wait for an answer: the call is then cancelled.
pub async fn call(account: Account, server: SocketAddr, target: String, talk: Duration, give_up: Duration, clock: Arc<dyn Clock>) -> std::io::Result<CallReport> {
    call_with(super::ua::UaConfig::new(account, server, false), target, talk, give_up, clock).await
}

/// The same with a user agent configured by the caller (media, transport…).
pub async fn call_with(config: super::ua::UaConfig, target: String, talk: Duration, give_up: Duration, clock: Arc<dyn Clock>) -> std::io::Result<CallReport> {
    use super::ua::{UaEvent, UserAgent};
    let ua = UserAgent::start(config, clock).await?;
    let mut events = ua.subscribe();
    let id = ua.dial(&target).await.map_err(std::io::Error::other)?;
    let mut report = CallReport { states: vec![], call: None };
    let mut deadline = tokio::time::Instant::now() + give_up;
    let mut hang_up_at: Option<tokio::time::Instant> = None;
    let mut cancelling = false;
    loop {
        let until = hang_up_at.map_or(deadline, |h| h.min(deadline));
        tokio::select! {
            event = events.recv() => match event {
                Ok(UaEvent::Call(info)) if info.id == id => {
                    if report.states.last() != Some(&info.state) && info.state != CallState::Dialling {
                        report.states.push(info.state.clone());
                    }
                    if info.state.is_answered() && hang_up_at.is_none() && !cancelling {
                        hang_up_at = Some(tokio::time::Instant::now() + talk);
                    }
                    let ended = info.state.is_ended();
                    report.call = Some(info);
                    if ended {
                        break;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tokio::time::sleep_until(until) => {
                if hang_up_at.is_some_and(|h| h <= tokio::time::Instant::now()) {
                    hang_up_at = None;
                    deadline = tokio::time::Instant::now() + STOP_GRACE;
                    cancelling = true;
                    let _ = ua.hang_up(id).await;
                } else if cancelling {
                    report.states.push(CallState::Ended { reason: "gave up waiting".into(), code: None });
                    break;
                } else {
                    // Not answered in time: cancel properly, then give it a few seconds.
                    cancelling = true;
                    deadline = tokio::time::Instant::now() + STOP_GRACE;
                    let _ = ua.hang_up(id).await;
                }
            }
        }
    }
    ua.stop().await;
    Ok(report)
}
