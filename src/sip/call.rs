//! One call's signalling, either way, without I/O (RFC 3261 §12–§17, RFC 3264 for
//! hold, RFC 3515 for transfer). Outgoing: the INVITE and its retransmissions (Timer
//! A/B over UDP), a 401/407 answered once per nonce, 3xx followed, the ACK of a failure
//! (same branch) and of a 2xx (new branch, along the route set), CANCEL before an
//! answer. Incoming: 180 Ringing, answer (200 with the SDP answer, resent until the
//! ACK), decline (486/603), the caller's CANCEL (487). In the dialog: BYE both ways,
//! hold and resume by re-INVITE (sendonly/inactive; 491 glare retried after the RFC's
//! random wait), the far end's re-INVITEs, DTMF by SIP INFO (RFC 4733 digits go
//! through the media backend), blind and attended transfer by REFER and its NOTIFYs.
//! The driver feeds it messages and time and carries out what it returns.

use std::net::SocketAddr;

use serde::Serialize;

use super::digest::{Answering, Challenge};
use super::message::{canonical_name, Contact, Message, StartLine};
use super::registration::Account;
use super::transaction::{ClientTransaction, Transport, TxOutcome, T1_MS, T2_MS};
use crate::media::sdp::{Direction, Negotiated, SdpAgent};

mod answering;
mod dialog;
mod transfer;

pub use transfer::parse_refer_to;

/// A call's state; `Ended` says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CallState {
    /// Our INVITE is on its way.
    Dialling,
    /// The proxy took it (100).
    Trying,
    /// The far end rings (180/183).
    Ringing,
    /// A call for us rings here.
    Incoming,
    /// Talking; `held`: we put the far end on hold; `remoteHeld`: they put us on hold.
    Answered { held: bool, remote_held: bool },
    Ended { reason: String, code: Option<u16> },
}

impl CallState {
    pub fn is_ended(&self) -> bool {
        matches!(self, CallState::Ended { .. })
    }

    pub fn is_answered(&self) -> bool {
        matches!(self, CallState::Answered { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum TransferProgress {
    /// The far end accepted the REFER (202) and is calling the target.
    Accepted,
    /// The target answered: our leg is being hung up.
    Succeeded,
    /// The transfer did not happen; the call goes on.
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutput {
    Send(Vec<u8>),
    State(CallState),
    /// The media to run from now on (after every offer/answer).
    Media(Negotiated),
    /// A keypad digit the far end sent by SIP INFO.
    Dtmf(char),
    Transfer(TransferProgress),
    /// Something the rep should know that does not change the state (a refused hold).
    Notice(String),
    /// The far end transfers us (it sent a REFER we accepted): call `target` with
    /// `headers` (Referred-By, and Replaces for an attended transfer) and report how
    /// that call went with [`Call::referral_result`].
    Referred { target: String, headers: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum CallDirection {
    Outgoing,
    Incoming,
}

/// What one of our in-dialog requests is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    Bye,
    Info,
    Refer,
    /// A re-INVITE putting the far end on hold (`true`) or taking it off.
    Hold(bool),
    /// A re-INVITE refreshing the session (RFC 4028), nothing else changed.
    Refresh,
    /// The PRACK of a reliable provisional response (RFC 3262).
    Prack,
    /// A NOTIFY of how the call the far end referred us to is going.
    Notify,
}

/// The extensions we support (the `Supported` header field; others in a `Require` → 420).
pub const SUPPORTED: &str = "replaces, timer, 100rel";

/// After a transfer the far end asked for succeeded, how long we wait for its BYE
/// before hanging up ourselves.
const TRANSFEROR_BYE_WAIT_MS: i64 = 4_000;

/// The smallest session interval we accept (RFC 4028 §4: Min-SE is at least 90 s).
const MIN_SE_SECS: u32 = 90;

/// RFC 4028 session timer of an answered call.
#[derive(Debug, Clone, Copy)]
struct SessionTimer {
    interval_secs: u32,
    /// We send the refreshes; else we expect them.
    we_refresh: bool,
    /// When to refresh (ours) or give up waiting (theirs).
    due_at: i64,
}

impl SessionTimer {
    /// From a `Session-Expires: 1800;refresher=uac` value; `we_are_uac` says which side
    /// `refresher=uac` means; no refresher named: `default_uac`.
    fn parse(value: &str, we_are_uac: bool, default_uac: bool, now_ms: i64) -> Option<SessionTimer> {
        let mut parts = value.split(';');
        let interval_secs: u32 = parts.next()?.trim().parse().ok()?;
        if interval_secs < MIN_SE_SECS {
            return None;
        }
        let refresher_uac = parts
            .find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim().eq_ignore_ascii_case("refresher").then(|| v.trim().eq_ignore_ascii_case("uac"))
            })
            .unwrap_or(default_uac);
        let we_refresh = refresher_uac == we_are_uac;
        let mut t = SessionTimer { interval_secs, we_refresh, due_at: 0 };
        t.restart(now_ms);
        Some(t)
    }

    /// Refresh at half the interval; without one from the far end, end the call a third
    /// of the interval (at most 32 s) before it lapses (RFC 4028 §10).
    fn restart(&mut self, now_ms: i64) {
        let i = i64::from(self.interval_secs) * 1_000;
        self.due_at = now_ms + if self.we_refresh { i / 2 } else { i - (i / 3).min(32_000) };
    }
}

/// Whether a header field's comma list names `token` (Require, Supported).
fn lists(msg: &Message, header: &str, token: &str) -> bool {
    msg.header_values(header).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
}

struct Pending {
    purpose: Purpose,
    cseq: u32,
    tx: ClientTransaction,
    /// A re-INVITE stops being resent after a provisional response.
    provisional: bool,
}

/// Our final response to an INVITE (the first or a re-INVITE), resent over UDP until
/// its ACK (RFC 3261 §13.3.1.4 for a 2xx, Timer G/H for the others).
struct ServerInvite {
    branch: String,
    cseq: u32,
    /// The INVITE, to answer it later (the first INVITE rings first).
    request: Message,
    last_response: Option<Vec<u8>>,
    final_code: Option<u16>,
    next_resend_at: Option<i64>,
    interval: i64,
    give_up_at: i64,
    /// A 2xx that carried our offer (the INVITE had none): the ACK carries the answer.
    offered: bool,
    /// A reliable 180 (the caller required 100rel) resent until its PRACK.
    reliable: Option<Reliable>,
}

struct Reliable {
    bytes: Vec<u8>,
    next_at: i64,
    interval: i64,
    give_up_at: i64,
}

pub struct Call {
    direction: CallDirection,
    account: Account,
    local: SocketAddr,
    contact_addr: Option<SocketAddr>,
    transport: Transport,
    call_id: String,
    /// Our From (as UAC) or To (as UAS) header value, with our tag.
    local_party: String,
    /// The other party's header value, with their tag once known.
    remote_party: String,
    /// Where the first INVITE goes (follows 3xx).
    request_uri: String,
    remote_target: String,
    route: Vec<String>,
    local_cseq: u32,
    remote_cseq: Option<u32>,
    sdp: SdpAgent,
    /// Our first offer (outgoing calls).
    offer: Vec<u8>,
    invite: Option<ClientTransaction>,
    invite_branch: String,
    /// The CSeq number of the INVITE in flight (its CANCEL carries the same one, even
    /// after a PRACK took the next number).
    invite_cseq: u32,
    challenge: Option<Answering>,
    sent_credentials: bool,
    redirects: u8,
    provisional: bool,
    cancel_pending: bool,
    /// Our CANCEL left: an answer that crosses it is taken only to be hung up.
    cancel_sent: bool,
    /// The ACK of the 2xx, by CSeq number, for a retransmitted 2xx.
    last_ack: Option<(u32, Vec<u8>)>,
    server: Option<ServerInvite>,
    /// Our answer to the far end's last request in the dialog (CSeq, method, bytes).
    last_answer: Option<(u32, String, Vec<u8>)>,
    pending: Vec<Pending>,
    /// A hold re-INVITE to send again after a 491 (RFC 3261 §14.1).
    retry_hold: Option<(i64, bool)>,
    session: Option<SessionTimer>,
    /// The highest RSeq we PRACKed (outgoing), so a retransmitted 18x is not PRACKed again.
    prack_rseq: Option<u32>,
    held: bool,
    remote_held: bool,
    transfer: Option<String>,
    /// The far end's REFER we are carrying out: the target we call.
    referral: Option<String>,
    /// Transferred away by the far end (the target answered): the target, and when we
    /// hang up ourselves if the transferor has not (RFC 5589: it is the transferor's
    /// BYE to send).
    transferred_away: Option<(String, i64)>,
    /// Extra header lines of our INVITE (a referred call's Referred-By and Replaces).
    invite_headers: String,
    state: CallState,
    ids: Box<dyn FnMut() -> String + Send>,
    random: Box<dyn FnMut() -> f64 + Send>,
}

fn reason_of(msg: &Message) -> String {
    match &msg.start {
        StartLine::Response { code, reason } => format!("{code} {reason}"),
        _ => String::new(),
    }
}

fn failure_reason(code: u16, msg: &Message) -> String {
    match code {
        486 | 600 => "busy".to_string(),
        487 => "cancelled".to_string(),
        404 | 604 => "no such number".to_string(),
        480 => "not available now".to_string(),
        603 => "declined".to_string(),
        _ => reason_of(msg),
    }
}

/// The digit of an INFO body (`application/dtmf-relay`: `Signal=5`; `application/dtmf`: `5`).
fn info_digit(content_type: Option<&str>, body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    let kind = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    let value = match kind.as_str() {
        "application/dtmf-relay" => text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim())
        })?,
        "application/dtmf" => text.trim(),
        _ => return None,
    };
    let c = value.chars().next()?.to_ascii_uppercase();
    ("0123456789*#ABCD".contains(c) && value.chars().count() == 1).then_some(c)
}

/// The tag of a From/To header value we wrote or copied.
fn tag_of(party: &str) -> Option<String> {
    party.split(';').find_map(|p| p.trim().strip_prefix("tag=").map(str::to_string))
}

impl Call {
    /// The parts every call starts with; the constructors set what differs.
    fn base(direction: CallDirection, account: Account, local: SocketAddr, call_id: String, sdp: SdpAgent, ids: Box<dyn FnMut() -> String + Send>, random: Box<dyn FnMut() -> f64 + Send>) -> Call {
        Call {
            direction,
            transport: Transport::Udp,
            contact_addr: None,
            local_party: String::new(),
            remote_party: String::new(),
            request_uri: String::new(),
            remote_target: String::new(),
            account,
            local,
            call_id,
            route: vec![],
            local_cseq: 0,
            remote_cseq: None,
            sdp,
            offer: vec![],
            invite: None,
            invite_branch: String::new(),
            invite_cseq: 0,
            challenge: None,
            sent_credentials: false,
            redirects: 0,
            provisional: false,
            cancel_pending: false,
            cancel_sent: false,
            last_ack: None,
            server: None,
            last_answer: None,
            pending: vec![],
            retry_hold: None,
            session: None,
            prack_rseq: None,
            held: false,
            remote_held: false,
            transfer: None,
            referral: None,
            transferred_away: None,
            invite_headers: String::new(),
            state: if direction == CallDirection::Outgoing { CallState::Dialling } else { CallState::Incoming },
            ids,
            random,
        }
    }

    /// A call we place to `target` (a SIP URI); nothing is sent before `start`.
    pub fn outgoing(
        account: Account,
        local: SocketAddr,
        target: String,
        mut sdp: SdpAgent,
        mut ids: Box<dyn FnMut() -> String + Send>,
        random: Box<dyn FnMut() -> f64 + Send>,
    ) -> Call {
        let offer = sdp.offer(Direction::SendRecv);
        let call_id = ids();
        let tag = ids();
        let local_party = format!("<sip:{}@{}>;tag={tag}", account.user, account.domain);
        let mut call = Call::base(CallDirection::Outgoing, account, local, call_id, sdp, ids, random);
        call.local_party = local_party;
        call.remote_party = format!("<{target}>");
        call.request_uri = target.clone();
        call.remote_target = target;
        call.offer = offer;
        call
    }

    /// Header lines our INVITE carries besides the usual ones (each ending in CRLF).
    pub fn with_invite_headers(mut self, headers: String) -> Call {
        self.invite_headers = headers;
        self
    }

    /// Over TCP: Via and Contact say so, and requests are not resent. (The messages
    /// built before this — an incoming call's 180 — are the driver's to send as they are.)
    pub fn with_transport(mut self, transport: Transport) -> Call {
        self.transport = transport;
        self
    }

    pub fn state(&self) -> &CallState {
        &self.state
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    pub fn direction(&self) -> CallDirection {
        self.direction
    }

    /// The other party's URI (the target we called, or the caller's From).
    pub fn remote_uri(&self) -> &str {
        &self.request_uri
    }

    /// Done: ended and nothing left to resend or absorb.
    pub fn finished(&self) -> bool {
        self.state.is_ended() && self.next_wakeup().is_none()
    }

    fn contact(&self) -> String {
        format!("<sip:{}@{};transport={}>", self.account.user, self.contact_addr.unwrap_or(self.local), self.transport.uri_param())
    }

    /// Behind a NAT: the address the registrar saw (RFC 3581) goes in our Contact, so
    /// the far end's requests in the dialog reach us; the Via keeps the socket's.
    pub fn with_contact_address(mut self, public: Option<SocketAddr>) -> Call {
        self.contact_addr = public;
        self
    }

    fn set(&mut self, state: CallState) -> Vec<CallOutput> {
        if self.state == state {
            return vec![];
        }
        self.state = state.clone();
        vec![CallOutput::State(state)]
    }

    fn end(&mut self, reason: impl Into<String>, code: Option<u16>) -> Vec<CallOutput> {
        self.retry_hold = None;
        self.set(CallState::Ended { reason: reason.into(), code })
    }

    fn answered_state(&self) -> CallState {
        CallState::Answered { held: self.held, remote_held: self.remote_held }
    }

    fn branch(&mut self) -> String {
        format!("z9hG4bK{}", (self.ids)())
    }

    fn user_agent() -> String {
        format!("User-Agent: Ringside/{}\r\n", env!("CARGO_PKG_VERSION"))
    }

    // ---- building messages ------------------------------------------------------

    /// A request: the first INVITE and what shares its transaction (CANCEL, the ACK of
    /// a failure) go to the request URI without a route; the rest follow the dialog.
    fn request(&self, method: &str, branch: &str, cseq: u32, in_dialog: bool, extra: &str, body: Option<(&str, &[u8])>) -> Vec<u8> {
        let target = if in_dialog { &self.remote_target } else { &self.request_uri };
        let mut msg = format!("{method} {target} SIP/2.0\r\nVia: SIP/2.0/{} {};branch={branch};rport\r\nMax-Forwards: 70\r\n", self.transport.via_name(), self.local);
        if in_dialog {
            for r in &self.route {
                msg.push_str(&format!("Route: {r}\r\n"));
            }
        }
        let to = if in_dialog { self.remote_party.clone() } else { format!("<{}>", self.request_uri) };
        msg.push_str(&format!("From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n", self.local_party, self.call_id));
        msg.push_str(extra);
        Self::finish(msg, body)
    }

    fn finish(mut msg: String, body: Option<(&str, &[u8])>) -> Vec<u8> {
        match body {
            Some((kind, bytes)) => {
                msg.push_str(&format!("Content-Type: {kind}\r\nContent-Length: {}\r\n\r\n", bytes.len()));
                let mut out = msg.into_bytes();
                out.extend_from_slice(bytes);
                out
            }
            None => {
                msg.push_str("Content-Length: 0\r\n\r\n");
                msg.into_bytes()
            }
        }
    }

    /// A response to `req`: its Via, From, Call-ID and CSeq, its To with our tag, and for
    /// an INVITE's 1xx/2xx our Contact and its Record-Route (RFC 3261 §8.2.6, §12.1.1).
    fn respond(&self, req: &Message, code: u16, reason: &str, extra: &str, body: Option<(&str, &[u8])>) -> Vec<u8> {
        let mut msg = format!("SIP/2.0 {code} {reason}\r\n");
        for h in &req.headers {
            let name = canonical_name(&h.name);
            if ["Via", "From", "Call-ID", "CSeq"].iter().any(|n| n.eq_ignore_ascii_case(name)) {
                msg.push_str(&format!("{name}: {}\r\n", h.value));
            } else if name.eq_ignore_ascii_case("To") {
                if req.to.tag().is_some() || code == 100 {
                    msg.push_str(&format!("To: {}\r\n", h.value));
                } else {
                    msg.push_str(&format!("To: {}\r\n", self.local_party));
                }
            } else if name.eq_ignore_ascii_case("Record-Route") && req.method() == Some("INVITE") && (101..300).contains(&code) {
                msg.push_str(&format!("Record-Route: {}\r\n", h.value));
            }
        }
        if req.method() == Some("INVITE") && (101..300).contains(&code) {
            msg.push_str(&format!("Contact: {}\r\n", self.contact()));
        }
        if code == 405 || (req.method() == Some("INVITE") && (200..300).contains(&code)) || req.method() == Some("OPTIONS") {
            msg.push_str(&format!("Allow: {}\r\n", super::ALLOW));
        }
        msg.push_str(&Self::user_agent());
        msg.push_str(extra);
        Self::finish(msg, body)
    }

    // ---- outgoing ---------------------------------------------------------------

    pub fn start(&mut self, now_ms: i64) -> Vec<CallOutput> {
        if self.direction == CallDirection::Outgoing && self.invite.is_none() && self.state == CallState::Dialling {
            return self.send_invite(now_ms);
        }
        vec![]
    }

    fn send_invite(&mut self, now_ms: i64) -> Vec<CallOutput> {
        self.local_cseq += 1;
        self.invite_cseq = self.local_cseq;
        self.invite_branch = self.branch();
        let mut extra = format!("Contact: {}\r\nAllow: {}\r\nSupported: {SUPPORTED}\r\n{}{}", self.contact(), super::ALLOW, Self::user_agent(), self.invite_headers);
        self.sent_credentials = self.challenge.is_some();
        if let Some(answering) = self.challenge.as_mut() {
            let cnonce = (self.ids)();
            let user = self.account.auth_user.as_deref().unwrap_or(&self.account.user);
            extra.push_str(&answering.header_line(user, &self.account.password, "INVITE", &self.request_uri, &cnonce));
        }
        let offer = self.offer.clone();
        let bytes = self.request("INVITE", &self.invite_branch, self.local_cseq, false, &extra, Some(("application/sdp", &offer)));
        self.invite = Some(ClientTransaction::new(self.invite_branch.clone(), bytes.clone(), self.transport.reliable(), now_ms));
        self.provisional = false;
        vec![CallOutput::Send(bytes)]
    }

    /// The ACK of a non-2xx final response: same branch and CSeq number, the To tag of
    /// the response (RFC 3261 §17.1.1.3).
    fn ack_failure(&self, msg: &Message, branch: &str, in_dialog: bool) -> Vec<u8> {
        let target = if in_dialog { &self.remote_target } else { &self.request_uri };
        let mut ack = format!("ACK {target} SIP/2.0\r\nVia: SIP/2.0/{} {};branch={branch};rport\r\nMax-Forwards: 70\r\n", self.transport.via_name(), self.local);
        if in_dialog {
            for r in &self.route {
                ack.push_str(&format!("Route: {r}\r\n"));
            }
        }
        ack.push_str(&format!(
            "From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} ACK\r\n",
            self.local_party,
            msg.header("To").unwrap_or_default(),
            self.call_id,
            msg.cseq.seq
        ));
        Self::finish(ack, None)
    }

    pub fn on_message(&mut self, now_ms: i64, msg: &Message) -> Vec<CallOutput> {
        if msg.call_id != self.call_id {
            return vec![];
        }
        match &msg.start {
            StartLine::Request { method, .. } => {
                let method = method.clone();
                self.on_request(now_ms, &method, msg)
            }
            StartLine::Response { code, .. } => self.on_response(now_ms, *code, msg),
        }
    }

    fn on_response(&mut self, now_ms: i64, code: u16, msg: &Message) -> Vec<CallOutput> {
        let branch = msg.via.first().and_then(|v| v.branch()).unwrap_or_default().to_string();
        if let Some(i) = self.pending.iter().position(|p| p.tx.branch == branch && p.cseq == msg.cseq.seq) {
            return self.on_pending_response(now_ms, i, code, msg);
        }
        if msg.cseq.method != "INVITE" {
            return vec![];
        }
        // A 2xx retransmitted after ours was ACKed: ACK it again (RFC 3261 §13.2.2.4).
        // One with another To tag is a second branch of a forked INVITE answering too:
        // that dialog is ACKed and ended at once.
        if (200..300).contains(&code) {
            if let Some((cseq, ack)) = &self.last_ack {
                if *cseq == msg.cseq.seq {
                    if msg.to.tag() == tag_of(&self.remote_party).as_deref() {
                        return vec![CallOutput::Send(ack.clone())];
                    }
                    return self.end_fork(msg);
                }
            }
        }
        if branch != self.invite_branch || self.invite.is_none() {
            return vec![];
        }
        if let Some(tx) = self.invite.as_mut() {
            tx.on_response(code, now_ms);
        }
        match code {
            100..=199 => {
                // A 100 is provisional too: from now on a CANCEL may be sent.
                self.provisional = true;
                let mut out = self.set(if code == 100 { CallState::Trying } else { CallState::Ringing });
                if code == 183 && !msg.body.is_empty() {
                    // Early media (ring-back tones, announcements) plays before the answer.
                    if let Ok(n) = self.sdp.accept_answer(&msg.body, Direction::SendRecv) {
                        out.push(CallOutput::Media(n));
                    }
                }
                if code > 100 && lists(msg, "Require", "100rel") {
                    out.extend(self.prack(now_ms, msg));
                }
                if self.cancel_pending {
                    out.extend(self.send_cancel());
                }
                out
            }
            200..=299 => {
                let out = self.answered(msg);
                if let Some(value) = msg.header("Session-Expires").or_else(|| msg.header("x")) {
                    // No refresher named in the answer: we (the UAC) refresh (RFC 4028 §7.2).
                    self.session = SessionTimer::parse(value, true, true, now_ms);
                }
                if self.state.is_ended() {
                    self.session = None;
                }
                out
            }
            300..=399 if !self.cancel_pending => {
                let ack = self.ack_failure(msg, &self.invite_branch.clone(), false);
                let mut out = vec![CallOutput::Send(ack)];
                let next = msg.contact.iter().find_map(|c| match c {
                    Contact::Addr(a) => Some(a.uri.to_string()),
                    Contact::Star(_) => None,
                });
                match next {
                    Some(uri) if self.redirects < 5 => {
                        self.redirects += 1;
                        tracing::info!(to = %uri, code, "call redirected");
                        self.request_uri = uri.clone();
                        self.remote_party = format!("<{uri}>");
                        self.remote_target = uri;
                        self.invite = None;
                        out.extend(self.send_invite(now_ms));
                    }
                    Some(_) => out.extend(self.end("redirected too many times", Some(code))),
                    None => out.extend(self.end(reason_of(msg), Some(code))),
                }
                out
            }
            401 | 407 if !self.cancel_pending => {
                let ack = self.ack_failure(msg, &self.invite_branch.clone(), false);
                let header = if code == 401 { "WWW-Authenticate" } else { "Proxy-Authenticate" };
                let challenge = msg.header_values(header).find_map(|v| Challenge::parse(v).ok());
                let mut out = vec![CallOutput::Send(ack)];
                match challenge {
                    Some(c) if !self.sent_credentials || c.stale => {
                        self.challenge = Some(Answering::new(c, code == 407));
                        out.extend(self.send_invite(now_ms));
                    }
                    Some(_) => out.extend(self.end("the proxy refused the SIP password for this call", Some(code))),
                    None => out.extend(self.end(reason_of(msg), Some(code))),
                }
                out
            }
            _ => {
                let ack = self.ack_failure(msg, &self.invite_branch.clone(), false);
                self.invite = None;
                let mut out = vec![CallOutput::Send(ack)];
                let reason = if self.cancel_pending { "cancelled".to_string() } else { failure_reason(code, msg) };
                out.extend(self.end(reason, Some(code)));
                out
            }
        }
    }

    /// ACK and BYE for a dialog of a forked INVITE we do not keep: built from its 2xx
    /// (its To tag, Contact and Record-Route), sent once.
    fn end_fork(&mut self, msg: &Message) -> Vec<CallOutput> {
        tracing::info!(tag = ?msg.to.tag(), "a second answer to a forked call: ended");
        let target = msg
            .contact
            .iter()
            .find_map(|c| match c {
                Contact::Addr(a) => Some(a.uri.to_string()),
                Contact::Star(_) => None,
            })
            .unwrap_or_else(|| self.request_uri.clone());
        let routes: String = msg.record_route.iter().rev().map(|r| format!("Route: <{}>\r\n", r.uri)).collect();
        let to = msg.header("To").unwrap_or_default().to_string();
        let mut out = Vec::new();
        for (method, cseq) in [("ACK", msg.cseq.seq), ("BYE", msg.cseq.seq + 1)] {
            let branch = self.branch();
            let text = format!(
                "{method} {target} SIP/2.0\r\nVia: SIP/2.0/{} {};branch={branch};rport\r\nMax-Forwards: 70\r\n{routes}From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n",
                self.transport.via_name(), self.local, self.local_party, self.call_id
            );
            out.push(CallOutput::Send(Self::finish(text, None)));
        }
        out
    }

    /// PRACK for a reliable provisional response (RFC 3262 §7.2), in its early dialog.
    fn prack(&mut self, now_ms: i64, msg: &Message) -> Vec<CallOutput> {
        let Some(rseq) = msg.header("RSeq").and_then(|v| v.trim().parse::<u32>().ok()) else { return vec![] };
        if self.prack_rseq.is_some_and(|r| rseq <= r) {
            return vec![];
        }
        self.prack_rseq = Some(rseq);
        self.remote_party = msg.header("To").unwrap_or_default().to_string();
        if let Some(uri) = msg.contact.iter().find_map(|c| match c {
            Contact::Addr(a) => Some(a.uri.to_string()),
            Contact::Star(_) => None,
        }) {
            self.remote_target = uri;
        }
        self.route = msg.record_route.iter().rev().map(|r| format!("<{}>", r.uri)).collect();
        let extra = format!("RAck: {rseq} {} INVITE\r\n{}", msg.cseq.seq, Self::user_agent());
        self.send_in_dialog(now_ms, "PRACK", Purpose::Prack, &extra, None)
    }

    fn answered(&mut self, msg: &Message) -> Vec<CallOutput> {
        self.invite = None;
        let remote_tag = msg.to.tag().unwrap_or_default().to_string();
        self.remote_party = format!("<{}>;tag={remote_tag}", self.request_uri);
        if let Some(uri) = msg.contact.iter().find_map(|c| match c {
            Contact::Addr(a) => Some(a.uri.to_string()),
            Contact::Star(_) => None,
        }) {
            self.remote_target = uri;
        }
        self.route = msg.record_route.iter().rev().map(|r| format!("<{}>", r.uri)).collect();
        let mut out = self.send_ack(msg.cseq.seq, None);
        if !msg.body.is_empty() {
            match self.sdp.accept_answer(&msg.body, Direction::SendRecv) {
                Ok(n) => out.push(CallOutput::Media(n)),
                Err(e) => {
                    tracing::warn!(%e, "the answer's SDP is unusable; hanging up");
                    out.extend(self.bye(0));
                    out.extend(self.end(format!("the far end's media cannot be used: {e}"), Some(488)));
                    return out;
                }
            }
        }
        if self.cancel_pending || self.cancel_sent {
            // Hung up before the answer came (or our CANCEL crossed it): the call is
            // answered only to end it.
            self.cancel_pending = false;
            out.extend(self.bye(0));
            out.extend(self.end("cancelled", None));
            return out;
        }
        let state = self.answered_state();
        out.extend(self.set(state));
        out
    }

    fn send_ack(&mut self, cseq: u32, body: Option<(&str, &[u8])>) -> Vec<CallOutput> {
        let branch = self.branch();
        let ack = self.request("ACK", &branch, cseq, true, "", body);
        self.last_ack = Some((cseq, ack.clone()));
        vec![CallOutput::Send(ack)]
    }

    fn send_cancel(&mut self) -> Vec<CallOutput> {
        self.cancel_pending = false;
        self.cancel_sent = true;
        let cancel = self.request("CANCEL", &self.invite_branch, self.invite_cseq, false, "", None);
        vec![CallOutput::Send(cancel)]
    }

    // ---- requests from the far end ----------------------------------------------

    fn on_request(&mut self, now_ms: i64, method: &str, msg: &Message) -> Vec<CallOutput> {
        let branch = msg.via.first().and_then(|v| v.branch()).unwrap_or_default().to_string();
        match method {
            "ACK" => return self.on_ack(msg),
            "CANCEL" => return self.on_cancel(msg, &branch),
            _ => {}
        }
        // A retransmitted INVITE: the last response again.
        if let Some(s) = &self.server {
            if method == "INVITE" && s.branch == branch && s.cseq == msg.cseq.seq {
                return s.last_response.clone().map(|r| vec![CallOutput::Send(r)]).unwrap_or_default();
            }
        }
        // A retransmitted request of the dialog: the same answer again.
        if let Some((cseq, m, response)) = &self.last_answer {
            if *cseq == msg.cseq.seq && m == method {
                return vec![CallOutput::Send(response.clone())];
            }
        }
        if self.state.is_ended() && method != "BYE" {
            return vec![CallOutput::Send(self.respond(msg, 481, "Call/Transaction Does Not Exist", "", None))];
        }
        if let Some(last) = self.remote_cseq {
            if msg.cseq.seq <= last {
                return vec![CallOutput::Send(self.respond(msg, 500, "CSeq Out of Order", "", None))];
            }
        }
        self.remote_cseq = Some(msg.cseq.seq);
        let out = self.dispatch(now_ms, method, msg, branch);
        if let Some(CallOutput::Send(response)) = out.first() {
            self.last_answer = Some((msg.cseq.seq, method.to_string(), response.clone()));
        }
        out
    }

    fn dispatch(&mut self, now_ms: i64, method: &str, msg: &Message, branch: String) -> Vec<CallOutput> {
        match method {
            "BYE" => {
                let ok = self.respond(msg, 200, "OK", "", None);
                let mut out = vec![CallOutput::Send(ok)];
                if self.state == CallState::Incoming {
                    // The caller ended the early dialog (RFC 3261 §15): the INVITE still
                    // gets its final response.
                    if let Some(invite) = self.server.as_ref().map(|s| s.request.clone()) {
                        out.extend(self.final_response(now_ms, &invite, 487, "Request Terminated", None, ""));
                    }
                    out.extend(self.end("missed: the caller hung up", Some(487)));
                    return out;
                }
                if !self.state.is_ended() {
                    self.pending.clear();
                    self.server = None;
                    let reason = match self.transferred_away.take() {
                        Some((target, _)) => format!("transferred by the other side to {target}"),
                        None => "the other side hung up".to_string(),
                    };
                    out.extend(self.end(reason, None));
                }
                out
            }
            "INVITE" => self.on_reinvite(now_ms, msg, branch),
            "INFO" => match info_digit(msg.content_type.as_deref(), &msg.body) {
                Some(d) => vec![CallOutput::Send(self.respond(msg, 200, "OK", "", None)), CallOutput::Dtmf(d)],
                None if msg.body.is_empty() => vec![CallOutput::Send(self.respond(msg, 200, "OK", "", None))],
                None => vec![CallOutput::Send(self.respond(msg, 415, "Unsupported Media Type", "Accept: application/dtmf-relay, application/dtmf\r\n", None))],
            },
            "NOTIFY" => self.on_notify(now_ms, msg),
            "OPTIONS" => vec![CallOutput::Send(self.respond(msg, 200, "OK", "Accept: application/sdp\r\n", None))],
            "PRACK" => {
                let acked = self.server.as_mut().and_then(|s| s.reliable.take()).is_some();
                let code = if acked { 200 } else { 481 };
                vec![CallOutput::Send(self.respond(msg, code, if acked { "OK" } else { "Call/Transaction Does Not Exist" }, "", None))]
            }
            "REFER" => self.on_refer(now_ms, msg),
            _ => vec![CallOutput::Send(self.respond(msg, 405, "Method Not Allowed", "", None))],
        }
    }

    // ---- time -------------------------------------------------------------------

    pub fn next_wakeup(&self) -> Option<i64> {
        let server = self.server.as_ref().and_then(|s| s.final_code.map(|_| s.next_resend_at.map_or(s.give_up_at, |n| n.min(s.give_up_at))));
        let reliable = self.server.as_ref().and_then(|s| s.reliable.as_ref()).map(|r| r.next_at.min(r.give_up_at));
        let session = self.session.filter(|_| self.state.is_answered()).map(|t| t.due_at);
        let leave = self.transferred_away.as_ref().filter(|_| !self.state.is_ended()).map(|(_, at)| *at);
        [self.invite.as_ref().and_then(ClientTransaction::next_wakeup), server, reliable, session, self.retry_hold.map(|(at, _)| at), leave]
            .into_iter()
            .chain(self.pending.iter().map(|p| p.tx.next_wakeup()))
            .flatten()
            .min()
    }

    pub fn on_timer(&mut self, now_ms: i64) -> Vec<CallOutput> {
        let mut out = Vec::new();
        if let Some((target, at)) = self.transferred_away.clone() {
            if now_ms >= at && !self.state.is_ended() {
                self.transferred_away = None;
                out.extend(self.bye(now_ms));
                out.extend(self.end(format!("transferred by the other side to {target}"), None));
            }
        }
        if let Some(tx) = self.invite.as_mut() {
            // Timer A applies until a provisional response.
            if let Some(bytes) = tx.on_timer(now_ms) {
                if !self.provisional {
                    out.push(CallOutput::Send(bytes.to_vec()));
                }
            }
            if tx.outcome() == Some(&TxOutcome::Timeout) {
                self.invite = None;
                let reason = if self.provisional { "no answer".to_string() } else { format!("no answer from the proxy in {} s", 64 * T1_MS / 1_000) };
                out.extend(self.end(reason, Some(408)));
            }
        }
        if let Some(s) = self.server.as_mut() {
            if s.final_code.is_some() {
                if now_ms >= s.give_up_at {
                    let two_xx = s.final_code.is_some_and(|c| (200..300).contains(&c));
                    self.server = None;
                    if two_xx && !self.state.is_ended() {
                        // RFC 3261 §13.3.1.4: no ACK for our 2xx: end the call.
                        out.extend(self.bye(now_ms));
                        out.extend(self.end("the caller's phone never confirmed the answer", Some(408)));
                    }
                } else if s.next_resend_at.is_some_and(|at| now_ms >= at) {
                    s.interval = (s.interval * 2).min(T2_MS);
                    s.next_resend_at = Some(now_ms + s.interval);
                    if let Some(r) = &s.last_response {
                        out.push(CallOutput::Send(r.clone()));
                    }
                }
            }
        }
        if let Some(s) = self.server.as_mut() {
            if let Some(r) = s.reliable.as_mut() {
                if now_ms >= r.give_up_at {
                    // Never PRACKed (RFC 3262 §3): stop resending; the call still rings.
                    s.reliable = None;
                } else if now_ms >= r.next_at {
                    r.interval = (r.interval * 2).min(T2_MS);
                    r.next_at = now_ms + r.interval;
                    out.push(CallOutput::Send(r.bytes.clone()));
                }
            }
        }
        if let Some(t) = self.session.filter(|t| self.state.is_answered() && now_ms >= t.due_at) {
            if t.we_refresh {
                if self.pending.iter().any(|p| matches!(p.purpose, Purpose::Hold(_) | Purpose::Refresh)) || self.server.is_some() {
                    // An offer/answer in progress refreshes the session anyway.
                    if let Some(t) = self.session.as_mut() {
                        t.due_at = now_ms + 1_000;
                    }
                } else {
                    if let Some(t) = self.session.as_mut() {
                        t.restart(now_ms);
                    }
                    let direction = if self.held { Direction::SendOnly } else { Direction::SendRecv };
                    let offer = self.sdp.offer(direction);
                    let extra = format!(
                        "Contact: {}\r\nSupported: {SUPPORTED}\r\nSession-Expires: {};refresher=uac\r\n{}",
                        self.contact(),
                        t.interval_secs,
                        Self::user_agent()
                    );
                    out.extend(self.send_in_dialog(now_ms, "INVITE", Purpose::Refresh, &extra, Some(("application/sdp", &offer))));
                }
            } else {
                self.session = None;
                out.extend(self.bye(now_ms));
                out.extend(self.end("the far end stopped refreshing the session (RFC 4028 timer expired)", Some(408)));
            }
        }
        if let Some((at, on)) = self.retry_hold {
            if now_ms >= at {
                self.retry_hold = None;
                out.extend(self.hold(now_ms, on));
            }
        }
        let mut i = 0;
        while i < self.pending.len() {
            let provisional = self.pending[i].provisional;
            let is_invite = matches!(self.pending[i].purpose, Purpose::Hold(_) | Purpose::Refresh);
            if let Some(bytes) = self.pending[i].tx.on_timer(now_ms) {
                if !(is_invite && provisional) {
                    out.push(CallOutput::Send(bytes.to_vec()));
                }
            }
            if self.pending[i].tx.outcome() == Some(&TxOutcome::Timeout) {
                let p = self.pending.remove(i);
                match p.purpose {
                    Purpose::Bye if self.state.is_ended() => {}
                    Purpose::Bye => out.extend(self.end("hung up (the other side did not confirm)", None)),
                    Purpose::Hold(_) | Purpose::Refresh => {
                        out.extend(self.bye(now_ms));
                        out.extend(self.end("the far end stopped answering", Some(408)));
                    }
                    Purpose::Prack | Purpose::Notify => {}
                    Purpose::Info => out.push(CallOutput::Notice("the far end did not confirm the keypad digit".into())),
                    Purpose::Refer => {
                        self.transfer = None;
                        out.push(CallOutput::Transfer(TransferProgress::Failed { reason: "the far end did not answer the transfer request".into() }));
                    }
                }
                continue;
            }
            i += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests;
