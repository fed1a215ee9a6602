//! The user agent over UDP: one task owns the socket (connected to the registrar or
//! outbound proxy, so only it can reach us), runs the registration and routes each
//! message by Call-ID to the task of its call; one task per call owns the call's
//! signalling core, its media backend and its timers. Commands come in by channel;
//! every change goes out as a [`UaEvent`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::call::{Call, CallDirection, CallOutput, CallState, TransferProgress};
use super::registration::{Account, Output, Registration, RegistrationState};
use super::transaction::Transport;
use super::udp::{next_wait, token, STOP_GRACE};
use super::wire::{Wire, WireEvent};
use super::{Message, StartLine};
use crate::clock::Clock;
use crate::media::sdp::{SdpAgent, Security};
use crate::media::session::AudioMedia;
use crate::media::{MediaBackend, MediaStats};

mod calls;

use calls::{dial, new_request};

/// Calls at once for a rep: one talking and one waiting (call waiting); a third
/// caller hears busy.
pub const MAX_CALLS: usize = 2;

#[derive(Debug, Clone)]
pub struct UaConfig {
    pub account: Account,
    /// The registrar / outbound proxy every request goes through.
    pub server: SocketAddr,
    /// Register (to take calls) or only place calls.
    pub register: bool,
    /// Calls at once ([`MAX_CALLS`] for a rep; load tests take more).
    pub max_calls: usize,
    pub transport: Transport,
    /// How TLS checks the proxy (used with `Transport::Tls`).
    pub tls: super::wire::TlsOptions,
    /// Servers to move to, in order, when `server` cannot be reached, does not answer
    /// or answers 503 (RFC 3263 §4.3); the list wraps around.
    pub alternatives: Vec<super::locate::Target>,
    /// Codecs, SRTP and the sound of each call.
    pub media: crate::media::MediaConfig,
}

impl UaConfig {
    /// Over UDP, [`MAX_CALLS`] calls at once.
    pub fn new(account: Account, server: SocketAddr, register: bool) -> UaConfig {
        UaConfig { account, server, register, max_calls: MAX_CALLS, transport: Transport::Udp, tls: Default::default(), alternatives: vec![], media: Default::default() }
    }

    /// The first reachable of `targets` (RFC 3263's order), the rest as alternatives.
    pub fn with_targets(account: Account, targets: Vec<super::locate::Target>, register: bool) -> Option<UaConfig> {
        let first = targets.first()?.clone();
        let mut config = UaConfig::new(account, first.addr, register);
        config.transport = first.transport;
        config.tls.server_name = first.host.clone();
        config.alternatives = targets.into_iter().skip(1).collect();
        Some(config)
    }
}

/// One call as the UI and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CallInfo {
    pub id: u32,
    pub direction: CallDirection,
    /// The far end's URI.
    pub remote_uri: String,
    /// Its user part (the number, usually), unescaped.
    pub remote_user: String,
    /// The caller's display name, when the INVITE had one.
    pub remote_name: Option<String>,
    pub state: CallState,
    pub muted: bool,
    /// Unix milliseconds.
    #[specta(type = u32)]
    pub started_at: i64,
    #[specta(type = Option<u32>)]
    pub answered_at: Option<i64>,
    #[specta(type = Option<u32>)]
    pub ended_at: Option<i64>,
    pub media: MediaStats,
    /// The codec agreed for the audio (PCMU, PCMA).
    pub codec: Option<String>,
    /// From the datagram that answered the call to the `Answered` state, in µs.
    pub answer_latency_us: Option<u32>,
    pub sip_call_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum UaEvent {
    Call(CallInfo),
    Transfer { id: u32, progress: TransferProgress },
    Dtmf { id: u32, digit: char },
    Notice { id: u32, message: String },
    /// What the voicemail box holds (RFC 3842 NOTIFY).
    Voicemail(super::mwi::Voicemail),
}

/// A dialog as its far end names it: Call-ID, to-tag, from-tag (RFC 3891).
type ReplacesId = (String, String, String);

#[derive(Debug)]
enum CallCommand {
    Answer,
    Decline(u16),
    HangUp,
    Hold(bool),
    Mute(bool),
    Digits(String),
    Transfer { target: String, replaces: Option<ReplacesId> },
    /// The far end's URI and this dialog's Replaces identifiers.
    Describe(oneshot::Sender<(String, Option<ReplacesId>)>),
    /// How the call the far end referred this one to went (its final code).
    ReferralResult(u16, String),
}

/// A far end's REFER accepted by call `from`: the call to place.
struct Referral {
    from: u32,
    target: String,
    headers: String,
}

enum CallInput {
    Message(Box<Message>, Instant),
    Command(CallCommand),
}

enum Command {
    Dial { target: String, reply: oneshot::Sender<Result<u32, String>> },
    Call { id: u32, command: CallCommand, reply: oneshot::Sender<Result<(), String>> },
    AttendedTransfer { id: u32, other: u32, reply: oneshot::Sender<Result<(), String>> },
    SetDnd(bool),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UaError {
    #[error("the phone has stopped")]
    Stopped,
    #[error("{0}")]
    Refused(String),
}

/// The handle of a running user agent.
pub struct UserAgent {
    commands: mpsc::UnboundedSender<Command>,
    events: broadcast::Sender<UaEvent>,
    pub registration: watch::Receiver<RegistrationState>,
    pub local: SocketAddr,
    domain: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

struct Route {
    call_id: String,
    inbox: mpsc::UnboundedSender<CallInput>,
}

/// What the socket task shares with every call task.
#[derive(Clone)]
struct Shared {
    wire: mpsc::UnboundedSender<Vec<u8>>,
    transport: Transport,
    local: SocketAddr,
    /// Our address as the registrar sees it, when a NAT changes it.
    public: Option<SocketAddr>,
    account: Account,
    events: broadcast::Sender<UaEvent>,
    finished: mpsc::UnboundedSender<u32>,
    referrals: mpsc::UnboundedSender<Referral>,
    clock: Arc<dyn Clock>,
    media: crate::media::MediaConfig,
}

fn user_of(uri: &str) -> String {
    let rest = uri.split_once(':').map_or(uri, |(_, r)| r);
    let user = rest.split_once('@').map_or("", |(u, _)| u);
    let user = user.split(';').next().unwrap_or_default();
    percent_encoding::percent_decode_str(user).decode_utf8_lossy().into_owned()
}

impl UserAgent {
    /// Binds the socket and starts the user agent (and the registration, if asked).
    pub async fn start(config: UaConfig, clock: Arc<dyn Clock>) -> std::io::Result<UserAgent> {
        let mut tls = config.tls.clone();
        if tls.server_name.is_empty() {
            tls.server_name = config.account.domain.clone();
        }
        // The first target that can be reached (a refused connection, a bad certificate
        // moves on to the next); the error of the first when none can.
        let mut wire = super::wire::open(config.transport, config.server, &tls).await;
        let mut config = config;
        while wire.is_err() && !config.alternatives.is_empty() {
            let e = wire.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
            let next = config.alternatives.remove(0);
            tracing::warn!(%e, next = %next.addr, "server not reachable; trying the next");
            config.server = next.addr;
            config.transport = next.transport;
            tls.server_name = next.host.clone();
            wire = super::wire::open(next.transport, next.addr, &tls).await;
        }
        let wire = wire?;
        let local = wire.local;
        let (events, _) = broadcast::channel(256);
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (state_tx, registration) = watch::channel(RegistrationState::Unregistered);
        let (stop, stop_rx) = oneshot::channel();
        let (finished, finished_rx) = mpsc::unbounded_channel();
        let (referrals, referrals_rx) = mpsc::unbounded_channel();
        let domain = config.account.domain.clone();
        let shared = Shared { wire: wire.send.clone(), transport: wire.transport, local, public: None, account: config.account.clone(), events: events.clone(), finished, referrals, clock, media: config.media.clone() };
        let task = tokio::spawn(run(config, shared, wire, command_rx, state_tx, stop_rx, (finished_rx, referrals_rx)));
        Ok(UserAgent { commands, events, registration, local, domain, stop: Some(stop), task: Some(task) })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<UaEvent> {
        self.events.subscribe()
    }

    /// Places a call to `target` (a `sip:` URI, or a number/user at the account's domain).
    pub async fn dial(&self, target: &str) -> Result<u32, UaError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Dial { target: target.to_string(), reply }).map_err(|_| UaError::Stopped)?;
        rx.await.map_err(|_| UaError::Stopped)?.map_err(UaError::Refused)
    }

    async fn call_command(&self, id: u32, command: CallCommand) -> Result<(), UaError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::Call { id, command, reply }).map_err(|_| UaError::Stopped)?;
        rx.await.map_err(|_| UaError::Stopped)?.map_err(UaError::Refused)
    }

    pub async fn answer(&self, id: u32) -> Result<(), UaError> {
        self.call_command(id, CallCommand::Answer).await
    }

    /// 603 Decline, or 486 Busy Here with `busy`.
    pub async fn decline(&self, id: u32, busy: bool) -> Result<(), UaError> {
        self.call_command(id, CallCommand::Decline(if busy { 486 } else { 603 })).await
    }

    pub async fn hang_up(&self, id: u32) -> Result<(), UaError> {
        self.call_command(id, CallCommand::HangUp).await
    }

    pub async fn hold(&self, id: u32, on: bool) -> Result<(), UaError> {
        self.call_command(id, CallCommand::Hold(on)).await
    }

    pub async fn mute(&self, id: u32, on: bool) -> Result<(), UaError> {
        self.call_command(id, CallCommand::Mute(on)).await
    }

    /// Keypad digits (0-9 * # A-D): RFC 4733 events when the far end takes them, else INFO.
    pub async fn send_digits(&self, id: u32, digits: &str) -> Result<(), UaError> {
        if let Some(bad) = digits.chars().find(|c| crate::media::session::event_code(*c).is_none()) {
            return Err(UaError::Refused(format!("{bad:?} is not a keypad key (0-9, *, #, A-D)")));
        }
        self.call_command(id, CallCommand::Digits(digits.to_string())).await
    }

    /// Blind transfer of call `id` to `target`.
    pub async fn transfer(&self, id: u32, target: &str) -> Result<(), UaError> {
        let target = self.target_uri(target).map_err(UaError::Refused)?;
        self.call_command(id, CallCommand::Transfer { target, replaces: None }).await
    }

    /// Attended (consult) transfer: the far end of `id` replaces our call `other`.
    pub async fn transfer_to_call(&self, id: u32, other: u32) -> Result<(), UaError> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(Command::AttendedTransfer { id, other, reply }).map_err(|_| UaError::Stopped)?;
        rx.await.map_err(|_| UaError::Stopped)?.map_err(UaError::Refused)
    }

    /// Do not disturb: new calls are answered 486 Busy Here.
    pub fn set_dnd(&self, on: bool) {
        let _ = self.commands.send(Command::SetDnd(on));
    }

    fn target_uri(&self, target: &str) -> Result<String, String> {
        target_uri(target, &self.domain)
    }

    /// Hangs up every call, unregisters, and ends (a few seconds at most).
    pub async fn stop(mut self) -> RegistrationState {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(STOP_GRACE + Duration::from_secs(1), task).await;
        }
        let state = self.registration.borrow().clone();
        state
    }

    /// The registration alone, as a handle (the calls' side of the agent stays idle).
    pub fn into_registration(mut self) -> super::udp::RegistrationHandle {
        let (Some(stop), Some(task)) = (self.stop.take(), self.task.take()) else {
            unreachable!("a running user agent has its stop channel and task")
        };
        super::udp::RegistrationHandle::new(self.registration.clone(), self.local, stop, task)
    }

    /// Waits until the registration satisfies `done` (or `timeout` passes).
    pub async fn wait_registration(&mut self, timeout: Duration, done: impl Fn(&RegistrationState) -> bool) -> RegistrationState {
        let _ = tokio::time::timeout(timeout, self.registration.wait_for(|s| done(s))).await;
        self.registration.borrow().clone()
    }
}

impl Drop for UserAgent {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A dial target as a SIP URI: `sip:`/`sips:` URIs as given, else a user or number
/// (spaces, dots, dashes and brackets removed) at `domain`.
pub fn target_uri(target: &str, domain: &str) -> Result<String, String> {
    let t = target.trim();
    if t.is_empty() {
        return Err("enter a number or a SIP address".into());
    }
    if t.starts_with("sip:") || t.starts_with("sips:") {
        return match super::uri::parse(t) {
            Ok(_) => Ok(t.to_string()),
            Err(e) => Err(format!("{t} is not a SIP address: {e}")),
        };
    }
    // A number loses its separators; a user name (`john.doe`) is kept as typed.
    let user: String = if t.chars().any(|c| c.is_ascii_alphabetic()) { t.to_string() } else { t.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect() };
    if user.is_empty() || !user.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#' | '_' | '.' | '-')) {
        return Err(format!("{t} is not a number or a SIP user"));
    }
    if domain.is_empty() {
        return Err(format!("{t} needs a domain: write sip:{t}@example.com"));
    }
    let user = user.replace('#', "%23");
    Ok(format!("sip:{user}@{domain}"))
}

async fn run(
    config: UaConfig,
    mut shared: Shared,
    mut wire: Wire,
    mut commands: mpsc::UnboundedReceiver<Command>,
    state_tx: watch::Sender<RegistrationState>,
    mut stop_rx: oneshot::Receiver<()>,
    (mut finished_rx, mut referrals_rx): (mpsc::UnboundedReceiver<u32>, mpsc::UnboundedReceiver<Referral>),
) {
    let clock = shared.clock.clone();
    let account = config.account.clone();
    let new_registration = |local: SocketAddr, transport: Transport| Registration::new(account.clone(), local, Box::new(token), Box::new(rand::random::<f64>)).with_transport(transport);
    let mut reg = new_registration(shared.local, shared.transport);
    let new_subscription = |local: SocketAddr, transport: Transport| super::mwi::Subscription::new(account.clone(), local, transport, Box::new(token));
    let mut mwi = new_subscription(shared.local, shared.transport);
    let mut current_server = config.server;
    let mut tls_name = config.tls.server_name.clone();
    let mut config = config;
    // Voicemail is asked for once the PBX knows us (after the first registration).
    let mut mwi_started = false;
    let mut mwi_outputs: Vec<super::mwi::MwiOutput> = vec![];
    let mut routes: HashMap<u32, Route> = HashMap::new();
    let mut by_call_id: HashMap<String, u32> = HashMap::new();
    let mut next_id: u32 = 1;
    let mut dnd = false;
    let mut outputs = if config.register { reg.start(clock.now_ms()) } else { vec![] };
    let mut stopping_until: Option<tokio::time::Instant> = None;
    let mut commands_open = true;
    // NAT keepalive: an OPTIONS to the registrar every 25 s keeps the binding of a NAT
    // in between open for calls to reach us (UDP bindings often last 30 s).
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    // A server to move to (failover, or the same one from a new local address).
    let mut switch_to: Option<super::locate::Target> = None;
    // Over UDP, a new network (another Wi-Fi, a VPN) changes the address the registrar
    // must reach us at: checked every 10 s.
    let mut netcheck = tokio::time::interval_at(tokio::time::Instant::now() + NETCHECK, NETCHECK);
    loop {
        if let Some(target) = switch_to.take() {
            let mut options = config.tls.clone();
            options.server_name = target.host.clone();
            match super::wire::open(target.transport, target.addr, &options).await {
                Ok(w) => {
                    wire = w;
                    shared.local = wire.local;
                    shared.public = None;
                    shared.transport = wire.transport;
                    shared.wire = wire.send.clone();
                    // The same registrar from a new address: the old binding is removed
                    // with the first REGISTER; another registrar starts afresh.
                    reg = if target.addr == current_server { reg.moved_to(shared.local, shared.transport) } else { new_registration(shared.local, shared.transport) };
                    current_server = target.addr;
                    tls_name = target.host;
                    mwi = new_subscription(shared.local, shared.transport);
                    mwi_started = false;
                    if config.register {
                        outputs.extend(reg.start(clock.now_ms()));
                    }
                }
                Err(e) => tracing::warn!(%e, server = %target.addr, "the server cannot be reached"),
            }
        }
        for o in std::mem::take(&mut outputs) {
            match o {
                Output::Send(bytes) => {
                    let _ = wire.send.send(bytes);
                }
                Output::State(s) if matches!(s, RegistrationState::Retrying { .. }) && reg.should_fail_over() && !config.alternatives.is_empty() && stopping_until.is_none() && routes.is_empty() => {
                    // RFC 3263 §4.3: no answer or 503 — the next server, at once.
                    let next = config.alternatives.remove(0);
                    config.alternatives.push(super::locate::Target { transport: shared.transport, addr: current_server, host: tls_name.clone() });
                    tracing::warn!(from = %current_server, to = %next.addr, "registrar failed; moving to the next server");
                    switch_to = Some(next);
                    let _ = state_tx.send(s);
                }
                Output::State(s) => {
                    tracing::info!(state = ?s, "registration");
                    shared.public = reg.public_address();
                    if matches!(s, RegistrationState::Registered { .. }) && !mwi_started && stopping_until.is_none() {
                        mwi_started = true;
                        mwi_outputs = mwi.start(clock.now_ms());
                    }
                    let _ = state_tx.send(s);
                }
            }
        }
        for o in mwi_outputs.drain(..) {
            match o {
                super::mwi::MwiOutput::Send(bytes) => {
                    let _ = wire.send.send(bytes);
                }
                super::mwi::MwiOutput::Voicemail(vm) => {
                    let _ = shared.events.send(UaEvent::Voicemail(vm));
                }
            }
        }
        if let Some(until) = stopping_until {
            let unregistered = reg.next_wakeup().is_none() || matches!(reg.state(), RegistrationState::Unregistered | RegistrationState::Failed { .. });
            if (unregistered && routes.is_empty()) || tokio::time::Instant::now() >= until {
                break;
            }
        }
        let mwi_wait = mwi.next_wakeup().map(|at| Duration::from_millis((at - clock.now_ms()).max(0) as u64)).unwrap_or(Duration::from_secs(3_600));
        let wait = next_wait(&reg, clock.as_ref(), stopping_until).min(mwi_wait);
        tokio::select! {
            received = wire.events.recv() => match received {
                Some(WireEvent::Message(msg, at)) => {
                    if let Some(id) = by_call_id.get(&msg.call_id) {
                        if let Some(r) = routes.get(id) {
                            let _ = r.inbox.send(CallInput::Message(msg, at));
                        }
                    } else if msg.method() == Some("NOTIFY") && (msg.call_id == mwi.call_id() || msg.header("Event").is_some_and(|e| e.to_ascii_lowercase().starts_with("message-summary"))) {
                        let (code, vm) = mwi.on_notify(&msg);
                        let reason = match code { 200 => "OK", 489 => "Bad Event", _ => "Bad Request" };
                        let _ = wire.send.send(stateless(&msg, code, reason));
                        if let Some(vm) = vm {
                            tracing::info!(?vm, "voicemail");
                            let _ = shared.events.send(UaEvent::Voicemail(vm));
                        }
                    } else if msg.is_request() {
                        if stopping_until.is_none() {
                            if let Some((id, route)) = new_request(&shared, &msg, &mut next_id, dnd || routes.len() >= config.max_calls).await {
                                by_call_id.insert(route.call_id.clone(), id);
                                routes.insert(id, route);
                            }
                        }
                    } else if msg.call_id == mwi.call_id() {
                        mwi_outputs = mwi.on_response(clock.now_ms(), &msg);
                    } else {
                        outputs = reg.on_response(clock.now_ms(), &msg);
                    }
                }
                Some(WireEvent::Connected(local)) => {
                    // A new connection has a new address: register (and subscribe) afresh.
                    shared.local = local;
                    shared.public = None;
                    reg = reg.moved_to(local, shared.transport);
                    mwi = new_subscription(local, shared.transport);
                    mwi_started = false;
                    if config.register && stopping_until.is_none() {
                        outputs = reg.start(clock.now_ms());
                    }
                }
                Some(WireEvent::Lost(reason)) => {
                    if config.register {
                        let retry_at = (clock.now_ms() + 2_000).div_euclid(1_000);
                        let _ = state_tx.send(RegistrationState::Retrying { reason, retry_at });
                    }
                    if stopping_until.is_some() {
                        break;
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep(wait) => {
                outputs = reg.on_timer(clock.now_ms());
                mwi_outputs = mwi.on_timer(clock.now_ms());
            }
            _ = netcheck.tick(), if shared.transport == Transport::Udp && stopping_until.is_none() && routes.is_empty() => {
                if let Ok((_, local)) = super::udp::connected_socket(current_server).await {
                    if local.ip() != shared.local.ip() {
                        tracing::info!(from = %shared.local, to = %local, "the network changed: registering from the new address");
                        switch_to = Some(super::locate::Target { transport: shared.transport, addr: current_server, host: tls_name.clone() });
                    }
                }
            }
            _ = keepalive.tick(), if config.register && shared.transport == Transport::Udp && matches!(reg.state(), RegistrationState::Registered { .. }) => {
                let _ = wire.send.send(keepalive_options(&shared));
            }
            Some(r) = referrals_rx.recv() => {
                // The far end transfers call `r.from`: a new call to the target, whose
                // outcome goes back to it (one more call than the limit: the first ends
                // when the second is answered).
                let Some(original) = routes.get(&r.from).map(|o| o.inbox.clone()) else { continue };
                let refused = |code: u16, why: &str| {
                    let _ = original.send(CallInput::Command(CallCommand::ReferralResult(code, why.to_string())));
                };
                if stopping_until.is_some() {
                    refused(503, "Service Unavailable");
                } else if routes.len() > config.max_calls {
                    refused(486, "Busy Here");
                } else {
                    match calls::dial_referred(&shared, r.target.clone(), next_id, r.headers, original.clone()).await {
                        Ok(route) => {
                            tracing::info!(from = r.from, call = next_id, target = %r.target, "transferred by the far end: calling the target");
                            by_call_id.insert(route.call_id.clone(), next_id);
                            routes.insert(next_id, route);
                            next_id += 1;
                        }
                        Err(e) => {
                            tracing::warn!(%e, "no port for the referred call's media");
                            refused(500, "Server Internal Error");
                        }
                    }
                }
            }
            Some(id) = finished_rx.recv() => {
                if let Some(r) = routes.remove(&id) {
                    by_call_id.remove(&r.call_id);
                }
            }
            command = commands.recv(), if commands_open => match command {
                None => commands_open = false,
                Some(Command::SetDnd(on)) => dnd = on,
                Some(Command::Dial { target, reply }) => {
                    let result = if stopping_until.is_some() {
                        Err("the phone is stopping".to_string())
                    } else if routes.len() >= config.max_calls {
                        Err(format!("{} calls are already in progress: hang one up first", config.max_calls))
                    } else {
                        match target_uri(&target, &config.account.domain) {
                            Ok(uri) => match dial(&shared, uri, next_id).await {
                                Ok(route) => {
                                    let id = next_id;
                                    next_id += 1;
                                    by_call_id.insert(route.call_id.clone(), id);
                                    routes.insert(id, route);
                                    Ok(id)
                                }
                                Err(e) => Err(format!("no port for the call's media: {e}")),
                            },
                            Err(e) => Err(e),
                        }
                    };
                    let _ = reply.send(result);
                }
                Some(Command::Call { id, command, reply }) => {
                    let result = match routes.get(&id) {
                        Some(r) => r.inbox.send(CallInput::Command(command)).map_err(|_| "the call has ended".to_string()),
                        None => Err(format!("there is no call {id}")),
                    };
                    let _ = reply.send(result);
                }
                Some(Command::AttendedTransfer { id, other, reply }) => {
                    let result = async {
                        let (Some(a), Some(b)) = (routes.get(&id), routes.get(&other)) else {
                            return Err("both calls must be in progress".to_string());
                        };
                        let (tx, rx) = oneshot::channel();
                        b.inbox.send(CallInput::Command(CallCommand::Describe(tx))).map_err(|_| "the other call has ended".to_string())?;
                        let (uri, replaces) = rx.await.map_err(|_| "the other call has ended".to_string())?;
                        let replaces = replaces.ok_or("the other call is not answered yet")?;
                        a.inbox.send(CallInput::Command(CallCommand::Transfer { target: uri, replaces: Some(replaces) })).map_err(|_| "the call has ended".to_string())
                    }
                    .await;
                    let _ = reply.send(result);
                }
            },
            _ = &mut stop_rx, if stopping_until.is_none() => {
                stopping_until = Some(tokio::time::Instant::now() + STOP_GRACE);
                for r in routes.values() {
                    let _ = r.inbox.send(CallInput::Command(CallCommand::HangUp));
                }
                outputs = if config.register { reg.stop(clock.now_ms()) } else { vec![] };
                mwi_outputs = mwi.stop(clock.now_ms());
            }
        }
    }
    // The last ACK or un-REGISTER may still be queued: sent before the socket closes.
    drop(shared);
    wire.close().await;
}

const KEEPALIVE: Duration = Duration::from_secs(25);
const NETCHECK: Duration = Duration::from_secs(10);

/// An OPTIONS to the registrar's domain; its answer is not waited for (any answer, or
/// none, is fine: the point is the packet on the way out).
fn keepalive_options(shared: &Shared) -> Vec<u8> {
    let a = &shared.account;
    format!(
        "OPTIONS sip:{domain} SIP/2.0\r\nVia: SIP/2.0/{via} {local};branch=z9hG4bK{b};rport\r\nMax-Forwards: 70\r\nFrom: <sip:{user}@{domain}>;tag={t}\r\nTo: <sip:{domain}>\r\nCall-ID: {c}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        domain = a.domain,
        user = a.user,
        local = shared.local,
        via = shared.transport.via_name(),
        b = token(),
        t = token(),
        c = token()
    )
    .into_bytes()
}

/// A response without a transaction (OPTIONS probes, requests for unknown dialogs).
fn stateless(req: &Message, code: u16, reason: &str) -> Vec<u8> {
    let mut msg = format!("SIP/2.0 {code} {reason}\r\n");
    for h in &req.headers {
        let name = super::message::canonical_name(&h.name);
        if ["Via", "From", "To", "Call-ID", "CSeq"].iter().any(|n| n.eq_ignore_ascii_case(name)) {
            msg.push_str(&format!("{name}: {}\r\n", h.value));
        }
    }
    msg.push_str(&format!("Allow: {}\r\nContent-Length: 0\r\n\r\n", super::ALLOW));
    msg.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_targets_become_sip_uris() {
        assert_eq!(target_uri("sip:bob@ringside.test", "x").unwrap(), "sip:bob@ringside.test");
        assert_eq!(target_uri("+1 (415) 555-0100", "pbx.example").unwrap(), "sip:+14155550100@pbx.example");
        assert_eq!(target_uri("*97#", "pbx.example").unwrap(), "sip:*97%23@pbx.example");
        assert!(target_uri("bob smith!", "pbx.example").is_err());
        assert_eq!(target_uri("john.doe", "pbx.example").unwrap(), "sip:john.doe@pbx.example");
        assert!(target_uri("", "pbx.example").is_err());
        assert!(target_uri("sip:", "pbx.example").is_err());
        assert_eq!(user_of("sip:%2B33123@example.com;user=phone"), "+33123");
        assert_eq!(user_of("sip:example.com"), "");
    }
}
