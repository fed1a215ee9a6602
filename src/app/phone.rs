//! The engine's phone: the SIP account's user agent, started from the settings and the
//! password in the keyring, restarted on request, stopped (calls hung up, unregistered)
//! on exit. Its registration and every call are part of the status; every change is an
//! event. A ringing call looks its caller up in Salesforce; every call that ends
//! leaves a History entry (a draft log, or saved at once when the layout auto-saves).

use std::sync::Arc;

use super::calllog::EndedCall;
use super::{AppError, Engine, ErrorCode, Event};
use crate::calllog::CallType;
use crate::crm::matching::{self, CallerMatch, MatchOutcome};
use crate::secrets::Sensitive;
use crate::sip::call::{CallDirection, CallState};
use crate::sip::registration::{Account, RegistrationState};
use crate::sip::ua::{CallInfo, UaConfig, UaError, UaEvent, UserAgent};

/// The keyring item that holds a SIP account's password.
pub fn password_item(user: &str, domain: &str) -> String {
    format!("sip:{user}@{domain}")
}

/// The running phone: the user agent (over UDP or TCP). An enum so that other kinds of
/// phone (a WebRTC gateway) have their place.
pub(crate) enum Phone {
    Agent(UserAgent),
}

/// What the engine keeps of a call in progress beyond its SIP state.
#[derive(Debug, Clone)]
pub(crate) struct CallExtra {
    pub info: CallInfo,
    /// The caller's (or callee's) match, when it named exactly one record.
    pub who: Option<matching::MatchedRecord>,
    pub internal: bool,
    /// Digits to send once the call is answered (a number's extension).
    pub extension: Option<String>,
}

impl From<UaError> for AppError {
    fn from(e: UaError) -> AppError {
        match e {
            UaError::Stopped => AppError::new(ErrorCode::Unavailable, "The phone is not running: check Settings → Phone."),
            UaError::Refused(m) => AppError::new(ErrorCode::InvalidInput, m),
        }
    }
}

impl Engine {
    pub fn registration(&self) -> RegistrationState {
        self.lock().registration.clone()
    }

    fn set_registration(&self, state: RegistrationState) {
        {
            let mut s = self.lock();
            if s.registration == state {
                return;
            }
            s.registration = state.clone();
        }
        self.emit(Event::RegistrationChanged { state });
    }

    /// Keeps the SIP password in the keyring (never anywhere else).
    pub fn set_sip_password(&self, password: &str) -> Result<(), AppError> {
        let settings = self.settings();
        if settings.sip_user.is_empty() || settings.sip_domain.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "Enter the SIP user and domain first."));
        }
        if password.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidInput, "Enter the SIP password."));
        }
        self.keyring.put(&password_item(&settings.sip_user, &settings.sip_domain), &Sensitive::new(password.to_string()))?;
        tracing::info!("SIP password stored in the keyring");
        Ok(())
    }

    /// (Re)starts the phone from the settings in force. Not set up → stays
    /// unregistered; no password or an unknown proxy → `Failed` with what to do.
    pub async fn start_phone(self: &Arc<Self>) -> RegistrationState {
        self.stop_phone().await;
        let settings = self.settings();
        if settings.sip_user.is_empty() || settings.sip_domain.is_empty() || settings.sip_proxy.is_empty() {
            self.set_registration(RegistrationState::Unregistered);
            return self.registration();
        }
        let item = password_item(&settings.sip_user, &settings.sip_domain);
        let password = match self.keyring.get(&item) {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.set_registration(RegistrationState::Failed { reason: format!("No SIP password for {item}: enter it in Settings → Phone.") });
                return self.registration();
            }
            Err(e) => {
                self.set_registration(RegistrationState::Failed { reason: e.to_string() });
                return self.registration();
            }
        };
        let account = Account {
            user: settings.sip_user.clone(),
            auth_user: None,
            domain: settings.sip_domain.clone(),
            password: Sensitive::new(password.expose().clone()),
            expires: 600,
        };
        use crate::sip::transaction::Transport;
        let transport = match settings.sip_transport.as_str() {
            "tcp" => Transport::Tcp,
            "tls" => Transport::Tls,
            "ws" => Transport::Ws,
            "wss" => Transport::Wss,
            _ => Transport::Udp,
        };
        // RFC 3263: a bare domain is looked up by SRV, host:port by A/AAAA; every
        // target found is a server to move on to.
        let located = match crate::sip::locate::resolver(None) {
            Ok(r) => crate::sip::locate::locate(&r, &settings.sip_proxy, Some(transport)).await,
            Err(e) => Err(e),
        };
        let targets = match located {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(%e, proxy = %settings.sip_proxy, "proxy not resolved");
                self.set_registration(RegistrationState::Failed { reason: format!("{e}: check the registrar in Settings → Phone.") });
                return self.registration();
            }
        };
        let Some(mut config) = UaConfig::with_targets(account, targets, true) else {
            self.set_registration(RegistrationState::Failed { reason: format!("{} has no address: check the registrar in Settings → Phone.", settings.sip_proxy) });
            return self.registration();
        };
        if matches!(config.transport, Transport::Tls | Transport::Ws | Transport::Wss) && !settings.sip_tls_ca.is_empty() {
            match std::fs::read(&settings.sip_tls_ca) {
                Ok(pem) => config.tls.extra_ca_pem = Some(pem),
                Err(e) => {
                    self.set_registration(RegistrationState::Failed { reason: format!("The CA file {} cannot be read ({e}): check Settings → Phone.", settings.sip_tls_ca) });
                    return self.registration();
                }
            }
        }
        let hub = self.audio.clone();
        config.media = crate::media::MediaConfig { codecs: crate::media::sdp::ALL_CODECS.to_vec(), srtp: settings.sip_srtp, audio: std::sync::Arc::new(move || hub.call_audio()) };
        let started = UserAgent::start(config, self.clock.clone()).await.map(Phone::Agent);
        let phone = match started {
            Ok(p) => p,
            Err(e) => {
                self.set_registration(RegistrationState::Failed { reason: format!("{} cannot be reached over {}: {e}", settings.sip_proxy, settings.sip_transport.to_uppercase()) });
                return self.registration();
            }
        };
        let Phone::Agent(ua) = &phone;
        let mut states = ua.registration.clone();
        {
            ua.set_dnd(self.lock().do_not_disturb);
            let mut events = ua.subscribe();
            let engine = Arc::clone(self);
            tokio::spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(e) => engine.on_ua_event(e).await,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => tracing::warn!(n, "call events missed"),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
        }
        *self.phone.lock().await = Some(phone);
        // Registering from now on; the agent's own first state (unregistered, before
        // its first REGISTER) is not news.
        self.set_registration(RegistrationState::Registering);
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let state = states.borrow_and_update().clone();
                if !(first && state == RegistrationState::Unregistered) {
                    engine.set_registration(state);
                }
                first = false;
                if states.changed().await.is_err() {
                    break;
                }
            }
        });
        self.registration()
    }

    /// Hangs up, unregisters (waiting a few seconds at most) and forgets the phone.
    pub async fn stop_phone(&self) {
        let phone = self.phone.lock().await.take();
        let last = match phone {
            Some(Phone::Agent(ua)) => Some(ua.stop().await),
            None => None,
        };
        if let Some(last) = last {
            tracing::info!(state = ?last, "phone stopped");
            self.set_registration(RegistrationState::Unregistered);
        }
    }

    async fn on_ua_event(self: &Arc<Self>, event: UaEvent) {
        match event {
            UaEvent::Call(info) => self.on_call_changed(info).await,
            UaEvent::Transfer { id, progress } => self.emit(Event::TransferChanged { id, progress }),
            UaEvent::Notice { id, message } => self.emit(Event::CallProblem { id, message }),
            UaEvent::Dtmf { id, digit } => tracing::info!(call = id, %digit, "digit from the far end"),
            UaEvent::Voicemail(voicemail) => {
                let changed = {
                    let mut s = self.lock();
                    let changed = s.voicemail != Some(voicemail);
                    s.voicemail = Some(voicemail);
                    changed
                };
                if changed {
                    self.emit(Event::VoicemailChanged { voicemail });
                }
            }
        }
    }

    async fn on_call_changed(self: &Arc<Self>, info: CallInfo) {
        let (first, send_extension) = {
            let mut s = self.lock();
            let first = !s.calls.contains_key(&info.id);
            let extra = s.calls.entry(info.id).or_insert_with(|| CallExtra { info: info.clone(), who: None, internal: false, extension: None });
            let answered_now = !extra.info.state.is_answered() && info.state.is_answered() && extra.info.answered_at.is_none();
            extra.info = info.clone();
            let extension = if answered_now { extra.extension.take() } else { None };
            // The ringtone plays while any call rings here, on the ringer device.
            let ringing = s.calls.values().any(|c| c.info.state == CallState::Incoming);
            if !ringing {
                s.ringer = None;
            } else if s.ringer.is_none() {
                s.ringer = Some(crate::audio::tones::Ringer::start(self.audio.preference(crate::audio::AudioRole::Ringer)));
            }
            (first, extension)
        };
        if info.state.is_ended() {
            // The History entry first: whoever hears of the end finds it there.
            let extra = self.lock().calls.remove(&info.id);
            if let Some(extra) = extra {
                self.log_call(&extra);
            }
        }
        self.emit(Event::CallChanged { call: info.clone() });
        if first && info.direction == CallDirection::Incoming && info.state == CallState::Incoming && !info.remote_user.is_empty() {
            // The pop: the caller's record, from the index at once, then confirmed live.
            let engine = Arc::clone(self);
            let (id, number) = (info.id, info.remote_user.clone());
            tokio::spawn(async move {
                match engine.match_number(&number).await {
                    Ok(m) => engine.remember_match(id, &m),
                    Err(e) => tracing::info!(%e, "no caller match for an incoming call"),
                }
            });
        }
        if let Some(digits) = send_extension {
            let engine = Arc::clone(self);
            tokio::spawn(async move {
                // Let the far end's greeting start before the extension's digits.
                tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
                if let Err(e) = engine.send_digits(info.id, &digits).await {
                    tracing::info!(%e, "extension not sent");
                }
            });
        }
    }

    pub(crate) fn remember_match(&self, id: u32, m: &CallerMatch) {
        let mut s = self.lock();
        if let Some(c) = s.calls.get_mut(&id) {
            c.internal = m.internal;
            c.who = (m.outcome == MatchOutcome::One).then(|| m.records.first().cloned()).flatten();
        }
    }

    /// The History entry of an ended call (missed and refused calls too).
    fn log_call(&self, extra: &CallExtra) {
        let info = &extra.info;
        let call_type = match (extra.internal, info.direction) {
            (true, _) => CallType::Internal,
            (false, CallDirection::Incoming) => CallType::Inbound,
            (false, CallDirection::Outgoing) => CallType::Outbound,
        };
        let duration_ms = match (info.answered_at, info.ended_at) {
            (Some(a), Some(e)) => (e - a).max(0),
            _ => 0,
        };
        let ended = EndedCall {
            call_key: info.sip_call_id.clone(),
            number: if info.remote_user.is_empty() { info.remote_uri.clone() } else { info.remote_user.clone() },
            call_type,
            started_at: info.started_at / 1_000,
            duration_secs: ((duration_ms + 500) / 1_000) as u32,
            who: extra.who.clone(),
        };
        if let Err(e) = self.log_ended_call(&ended) {
            tracing::warn!(%e, "the ended call's log could not be written");
        }
    }

    pub fn calls(&self) -> Vec<CallInfo> {
        self.lock().calls.values().map(|c| c.info.clone()).collect()
    }

    async fn with_agent<T>(&self, f: impl AsyncFnOnce(&UserAgent) -> Result<T, UaError>) -> Result<T, AppError> {
        let phone = self.phone.lock().await;
        match phone.as_ref() {
            Some(Phone::Agent(ua)) => Ok(f(ua).await?),
            None => match self.registration() {
                // The phone could not start (a refused certificate, an unknown host): say why.
                RegistrationState::Failed { reason } => Err(AppError::new(ErrorCode::Unavailable, reason)),
                _ => Err(AppError::new(ErrorCode::Unavailable, "The phone is not set up: enter the SIP account in Settings → Phone.")),
            },
        }
    }

    /// What to dial for what the rep typed: (target, extension to send once answered,
    /// internal). An internal extension and a SIP user name (`bob`) go to the account's
    /// domain as typed; numbers are read in the rep's region and dialled in E.164.
    fn dial_target(&self, input: &str) -> Result<(String, Option<String>, bool), AppError> {
        let (region, layout) = {
            let s = self.lock();
            (s.settings.default_region.clone(), s.layout.clone())
        };
        if matching::is_extension(input, &layout) {
            return Ok((input.trim().to_string(), None, true));
        }
        match super::links::parse_dial_input(input, &region) {
            Ok(super::links::DialTarget::Phone { e164, extension, .. }) => Ok((e164, extension, false)),
            Ok(super::links::DialTarget::Sip { uri, .. }) => Ok((uri, None, false)),
            Err(e) => {
                let t = input.trim();
                let user_name = t.chars().any(|c| c.is_ascii_alphabetic()) && t.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
                if user_name { Ok((t.to_string(), None, false)) } else { Err(e.into()) }
            }
        }
    }

    /// Places a call: a number (read in the rep's region), an internal extension, or a
    /// `sip:` address. A number's extension is sent as digits once answered.
    pub async fn dial(self: &Arc<Self>, input: &str) -> Result<CallInfo, AppError> {
        let (target, extension, internal) = self.dial_target(input)?;
        self.hold_others(None).await?;
        let id = self.with_agent(async |ua| ua.dial(&target).await).await?;
        let info = {
            let mut s = self.lock();
            let extra = s.calls.entry(id).or_insert_with(|| CallExtra {
                info: CallInfo {
                    id,
                    direction: CallDirection::Outgoing,
                    remote_uri: target.clone(),
                    remote_user: target.clone(),
                    remote_name: None,
                    state: CallState::Dialling,
                    muted: false,
                    started_at: self.clock.now_ms(),
                    answered_at: None,
                    ended_at: None,
                    media: Default::default(),
                    codec: None,
                    answer_latency_us: None,
                    sip_call_id: String::new(),
                },
                who: None,
                internal,
                extension: None,
            });
            extra.extension = extension;
            extra.internal = internal;
            extra.info.clone()
        };
        if !internal {
            let engine = Arc::clone(self);
            let number = input.to_string();
            tokio::spawn(async move {
                if let Ok(m) = engine.match_number_as(&number, crate::layout::CallType::Outbound).await {
                    engine.remember_match(id, &m);
                }
            });
        }
        Ok(info)
    }

    /// Puts every talking call but `except` on hold (a second call, a swap).
    async fn hold_others(&self, except: Option<u32>) -> Result<(), AppError> {
        let others: Vec<u32> = self
            .lock()
            .calls
            .values()
            .filter(|c| Some(c.info.id) != except && matches!(c.info.state, CallState::Answered { held: false, .. }))
            .map(|c| c.info.id)
            .collect();
        for other in others {
            self.with_agent(async |ua| ua.hold(other, true).await).await?;
        }
        Ok(())
    }

    /// Answers a ringing call; a call in progress goes on hold first.
    pub async fn answer_call(&self, id: u32) -> Result<(), AppError> {
        self.hold_others(Some(id)).await?;
        self.with_agent(async |ua| ua.answer(id).await).await
    }

    /// Refuses a ringing call: 603 Decline, or 486 Busy Here with `busy`.
    pub async fn decline_call(&self, id: u32, busy: bool) -> Result<(), AppError> {
        self.with_agent(async |ua| ua.decline(id, busy).await).await
    }

    pub async fn hang_up(&self, id: u32) -> Result<(), AppError> {
        self.with_agent(async |ua| ua.hang_up(id).await).await
    }

    pub async fn hold_call(&self, id: u32, on: bool) -> Result<(), AppError> {
        if !on {
            // Taking one call off hold puts the other talking call on hold (swap).
            self.hold_others(Some(id)).await?;
        }
        self.with_agent(async |ua| ua.hold(id, on).await).await
    }

    pub async fn mute_call(&self, id: u32, on: bool) -> Result<(), AppError> {
        self.with_agent(async |ua| ua.mute(id, on).await).await
    }

    pub async fn send_digits(&self, id: u32, digits: &str) -> Result<(), AppError> {
        self.with_agent(async |ua| ua.send_digits(id, digits).await).await
    }

    /// Blind transfer of call `id` to a number, extension or SIP address.
    pub async fn transfer_call(&self, id: u32, target: &str) -> Result<(), AppError> {
        let (target, _, _) = self.dial_target(target)?;
        self.with_agent(async |ua| ua.transfer(id, &target).await).await
    }

    /// Attended transfer: connects the far end of `id` with the far end of `other`
    /// (the consultation call) and leaves both.
    pub async fn transfer_to_call(&self, id: u32, other: u32) -> Result<(), AppError> {
        self.with_agent(async |ua| ua.transfer_to_call(id, other).await).await
    }

    /// Do not disturb: new calls get 486 Busy Here (and leave a History entry).
    pub async fn set_do_not_disturb(&self, on: bool) {
        self.lock().do_not_disturb = on;
        if let Some(Phone::Agent(ua)) = self.phone.lock().await.as_ref() {
            ua.set_dnd(on);
        }
        self.emit(Event::DoNotDisturbChanged { on });
    }
}
