//! An outgoing call's signalling, without I/O (RFC 3261 §13, §17.1.1): the INVITE and
//! its retransmissions (Timer A/B over UDP), a 401/407 answered once per nonce, the
//! ACK of a failure (same branch) and of a 2xx (new branch, along the route set), the
//! dialog the 2xx creates, BYE (ours or theirs) and CANCEL before an answer. The
//! driver feeds it datagrams and time and sends what it returns.

use std::net::SocketAddr;

use serde::Serialize;

use super::digest::{Answering, Challenge};
use super::message::{Contact, Message, StartLine};
use super::registration::Account;
use super::transaction::{ClientTransaction, TxOutcome, T1_MS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum CallState {
    Dialling,
    Trying,
    Ringing,
    Answered,
    Ended { reason: String, code: Option<u16> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutput {
    Send(Vec<u8>),
    State(CallState),
    /// The answer's session description (the 2xx body), for the media backend.
    RemoteSdp(Vec<u8>),
}

/// The dialog a 2xx created.
#[derive(Debug, Clone)]
struct Dialog {
    remote_tag: String,
    remote_target: String,
    /// Record-Route, reversed (the order a UAC uses).
    route: Vec<String>,
    cseq: u32,
}

pub struct OutgoingCall {
    account: Account,
    local: SocketAddr,
    target: String,
    call_id: String,
    from_tag: String,
    cseq: u32,
    offer: Vec<u8>,
    invite: Option<ClientTransaction>,
    invite_branch: String,
    challenge: Option<Answering>,
    /// The INVITE in flight carried credentials (a new, non-stale challenge = refused).
    sent_credentials: bool,
    dialog: Option<Dialog>,
    bye: Option<ClientTransaction>,
    last_ack: Option<Vec<u8>>,
    provisional: bool,
    cancel_pending: bool,
    state: CallState,
    ids: Box<dyn FnMut() -> String + Send>,
}

fn reason_of(msg: &Message) -> String {
    match &msg.start {
        StartLine::Response { code, reason } => format!("{code} {reason}"),
        _ => String::new(),
    }
}

impl OutgoingCall {
    pub fn new(account: Account, local: SocketAddr, target: String, offer: Vec<u8>, mut ids: Box<dyn FnMut() -> String + Send>) -> Self {
        OutgoingCall {
            call_id: ids(),
            from_tag: ids(),
            account,
            local,
            target,
            cseq: 0,
            offer,
            invite: None,
            invite_branch: String::new(),
            challenge: None,
            sent_credentials: false,
            dialog: None,
            bye: None,
            last_ack: None,
            provisional: false,
            cancel_pending: false,
            state: CallState::Dialling,
            ids,
        }
    }

    pub fn state(&self) -> &CallState {
        &self.state
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    fn aor(&self) -> String {
        format!("sip:{}@{}", self.account.user, self.account.domain)
    }

    fn contact(&self) -> String {
        format!("<sip:{}@{};transport=udp>", self.account.user, self.local)
    }

    /// The first lines of a request outside the dialog (INVITE, its CANCEL, the ACK
    /// of a failure): they share the INVITE's Call-ID, tags and CSeq number.
    fn head(&self, method: &str, branch: &str, to: &str) -> String {
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <{aor}>;tag={tag}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n",
            target = self.target,
            local = self.local,
            aor = self.aor(),
            tag = self.from_tag,
            call_id = self.call_id,
            cseq = self.cseq,
        )
    }

    fn set(&mut self, state: CallState) -> Vec<CallOutput> {
        if self.state == state {
            return vec![];
        }
        self.state = state.clone();
        vec![CallOutput::State(state)]
    }

    pub fn start(&mut self, now_ms: i64) -> Vec<CallOutput> {
        self.send_invite(now_ms)
    }

    fn send_invite(&mut self, now_ms: i64) -> Vec<CallOutput> {
        self.cseq += 1;
        self.invite_branch = format!("z9hG4bK{}", (self.ids)());
        let mut msg = self.head("INVITE", &self.invite_branch, &format!("<{}>", self.target));
        msg.push_str(&format!(
            "Contact: {}\r\nAllow: {}\r\nUser-Agent: Ringside/{}\r\nContent-Type: application/sdp\r\n",
            self.contact(),
            super::ALLOW,
            env!("CARGO_PKG_VERSION")
        ));
        self.sent_credentials = self.challenge.is_some();
        if let Some(answering) = self.challenge.as_mut() {
            let cnonce = (self.ids)();
            let user = self.account.auth_user.as_deref().unwrap_or(&self.account.user);
            msg.push_str(&answering.header_line(user, &self.account.password, "INVITE", &self.target, &cnonce));
        }
        msg.push_str(&format!("Content-Length: {}\r\n\r\n", self.offer.len()));
        let mut bytes = msg.into_bytes();
        bytes.extend_from_slice(&self.offer);
        self.invite = Some(ClientTransaction::new(self.invite_branch.clone(), bytes.clone(), false, now_ms));
        self.provisional = false;
        vec![CallOutput::Send(bytes)]
    }

    /// The ACK of a non-2xx final response: same branch and CSeq number, the To tag
    /// of the response (RFC 3261 §17.1.1.3).
    fn ack_failure(&self, msg: &Message) -> Vec<u8> {
        let mut ack = self.head("ACK", &self.invite_branch, msg.header("To").unwrap_or_default());
        ack.push_str("Content-Length: 0\r\n\r\n");
        ack.into_bytes()
    }

    /// A request inside the dialog (ACK for the 2xx, BYE), along the route set.
    fn in_dialog(&mut self, d: &Dialog, method: &str, cseq: u32) -> (String, Vec<u8>) {
        let branch = format!("z9hG4bK{}", (self.ids)());
        let mut msg = format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch={branch};rport\r\nMax-Forwards: 70\r\n",
            target = d.remote_target,
            local = self.local,
        );
        for r in &d.route {
            msg.push_str(&format!("Route: {r}\r\n"));
        }
        msg.push_str(&format!(
            "From: <{aor}>;tag={tag}\r\nTo: <{to}>;tag={rtag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nUser-Agent: Ringside/{version}\r\nContent-Length: 0\r\n\r\n",
            aor = self.aor(),
            tag = self.from_tag,
            to = self.target,
            rtag = d.remote_tag,
            call_id = self.call_id,
            version = env!("CARGO_PKG_VERSION"),
        ));
        (branch, msg.into_bytes())
    }

    pub fn on_message(&mut self, now_ms: i64, msg: &Message) -> Vec<CallOutput> {
        if msg.call_id != self.call_id {
            return vec![];
        }
        match &msg.start {
            StartLine::Request { method, .. } => self.on_request(method.clone(), msg),
            StartLine::Response { code, .. } => self.on_response(now_ms, *code, msg),
        }
    }

    fn on_request(&mut self, method: String, msg: &Message) -> Vec<CallOutput> {
        // Only BYE (and OPTIONS) are answered here; the rest of in-dialog requests
        // (re-INVITE, REFER, INFO) arrive with the call-control work.
        let code = match method.as_str() {
            "BYE" => 200,
            "OPTIONS" => 200,
            _ => 501,
        };
        let mut response = format!("SIP/2.0 {code} {}\r\n", if code == 200 { "OK" } else { "Not Implemented" });
        for h in &msg.headers {
            let name = super::message::canonical_name(&h.name);
            if ["Via", "From", "To", "Call-ID", "CSeq"].iter().any(|n| n.eq_ignore_ascii_case(name)) {
                response.push_str(&format!("{}: {}\r\n", h.name, h.value));
            }
        }
        response.push_str("Content-Length: 0\r\n\r\n");
        let mut out = vec![CallOutput::Send(response.into_bytes())];
        if method == "BYE" {
            self.bye = None;
            out.extend(self.set(CallState::Ended { reason: "the other side hung up".into(), code: None }));
        }
        out
    }

    fn on_response(&mut self, now_ms: i64, code: u16, msg: &Message) -> Vec<CallOutput> {
        let branch = msg.via.first().and_then(|v| v.branch()).unwrap_or_default();
        if msg.cseq.method == "BYE" {
            if let Some(tx) = self.bye.as_mut().filter(|t| t.branch == branch) {
                tx.on_response(code, now_ms);
                if code >= 200 {
                    self.bye = None;
                    return self.set(CallState::Ended { reason: "hung up".into(), code: None });
                }
            }
            return vec![];
        }
        if msg.cseq.method != "INVITE" {
            return vec![];
        }
        // A 2xx retransmitted after ours was ACKed: ACK it again (RFC 3261 §13.2.2.4).
        if (200..300).contains(&code) && self.dialog.is_some() {
            return self.last_ack.clone().map(|a| vec![CallOutput::Send(a)]).unwrap_or_default();
        }
        if branch != self.invite_branch {
            return vec![];
        }
        if let Some(tx) = self.invite.as_mut() {
            tx.on_response(code, now_ms);
        }
        match code {
            100 => {
                // A 100 is provisional too: from now on a CANCEL may be sent.
                self.provisional = true;
                let mut out = self.set(CallState::Trying);
                if self.cancel_pending {
                    out.extend(self.send_cancel(now_ms));
                }
                out
            }
            101..=199 => {
                self.provisional = true;
                let mut out = self.set(CallState::Ringing);
                if self.cancel_pending {
                    out.extend(self.send_cancel(now_ms));
                }
                out
            }
            200..=299 => self.answered(msg),
            401 | 407 if self.cancel_pending => {
                let ack = self.ack_failure(msg);
                let mut out = vec![CallOutput::Send(ack)];
                out.extend(self.set(CallState::Ended { reason: "cancelled".into(), code: Some(487) }));
                out
            }
            401 | 407 => {
                let ack = self.ack_failure(msg);
                let header = if code == 401 { "WWW-Authenticate" } else { "Proxy-Authenticate" };
                let challenge = msg.header_values(header).find_map(|v| Challenge::parse(v).ok());
                let mut out = vec![CallOutput::Send(ack)];
                match challenge {
                    Some(c) if !self.sent_credentials || c.stale => {
                        self.challenge = Some(Answering::new(c, code == 407));
                        out.extend(self.send_invite(now_ms));
                    }
                    Some(_) => out.extend(self.set(CallState::Ended {
                        reason: "the proxy refused the SIP password for this call".into(),
                        code: Some(code),
                    })),
                    None => out.extend(self.set(CallState::Ended { reason: reason_of(msg), code: Some(code) })),
                }
                out
            }
            _ => {
                let ack = self.ack_failure(msg);
                self.invite = None;
                let mut out = vec![CallOutput::Send(ack)];
                let reason = match code {
                    486 | 600 => "busy".to_string(),
                    487 => "cancelled".to_string(),
                    404 | 604 => "no such number".to_string(),
                    480 => "not available now".to_string(),
                    603 => "declined".to_string(),
                    _ => reason_of(msg),
                };
                out.extend(self.set(CallState::Ended { reason, code: Some(code) }));
                out
            }
        }
    }

    fn answered(&mut self, msg: &Message) -> Vec<CallOutput> {
        self.invite = None;
        let remote_tag = msg.to.tag().unwrap_or_default().to_string();
        let remote_target = msg
            .contact
            .iter()
            .find_map(|c| match c {
                Contact::Addr(a) => Some(a.uri.to_string()),
                Contact::Star(_) => None,
            })
            .unwrap_or_else(|| self.target.clone());
        let route: Vec<String> = msg.record_route.iter().rev().map(|r| format!("<{}>", r.uri)).collect();
        let dialog = Dialog { remote_tag, remote_target, route, cseq: self.cseq };
        let (_, ack) = self.in_dialog(&dialog, "ACK", self.cseq);
        self.dialog = Some(dialog);
        self.last_ack = Some(ack.clone());
        let mut out = vec![CallOutput::Send(ack)];
        if !msg.body.is_empty() {
            out.push(CallOutput::RemoteSdp(msg.body.clone()));
        }
        if self.cancel_pending {
            out.extend(self.hang_up_answered(0));
            return out;
        }
        out.extend(self.set(CallState::Answered));
        out
    }

    fn send_cancel(&mut self, _now_ms: i64) -> Vec<CallOutput> {
        self.cancel_pending = false;
        let mut cancel = self.head("CANCEL", &self.invite_branch, &format!("<{}>", self.target));
        cancel.push_str("Content-Length: 0\r\n\r\n");
        vec![CallOutput::Send(cancel.into_bytes())]
    }

    fn hang_up_answered(&mut self, now_ms: i64) -> Vec<CallOutput> {
        let Some(mut d) = self.dialog.take() else { return vec![] };
        d.cseq += 1;
        let cseq = d.cseq;
        let (branch, bye) = self.in_dialog(&d, "BYE", cseq);
        self.dialog = Some(d);
        self.bye = Some(ClientTransaction::new(branch, bye.clone(), false, now_ms));
        vec![CallOutput::Send(bye)]
    }

    /// Ends the call: BYE once answered, CANCEL while it rings (or as soon as it does).
    pub fn hang_up(&mut self, now_ms: i64) -> Vec<CallOutput> {
        match self.state {
            CallState::Answered => self.hang_up_answered(now_ms),
            CallState::Ended { .. } => vec![],
            _ if self.provisional => self.send_cancel(now_ms),
            _ => {
                // RFC 3261 §9.1: no CANCEL before a provisional response.
                self.cancel_pending = true;
                vec![]
            }
        }
    }

    pub fn next_wakeup(&self) -> Option<i64> {
        [self.invite.as_ref(), self.bye.as_ref()].into_iter().flatten().filter_map(ClientTransaction::next_wakeup).min()
    }

    pub fn on_timer(&mut self, now_ms: i64) -> Vec<CallOutput> {
        let mut out = Vec::new();
        if let Some(tx) = self.invite.as_mut() {
            // Timer A applies until a provisional response (Proceeding resends nothing
            // for an INVITE: the proxy's 100 stops them).
            if let Some(bytes) = tx.on_timer(now_ms) {
                if !self.provisional && self.state != CallState::Trying {
                    out.push(CallOutput::Send(bytes.to_vec()));
                }
            }
            if tx.outcome() == Some(&TxOutcome::Timeout) {
                self.invite = None;
                out.extend(self.set(CallState::Ended { reason: format!("no answer from the proxy in {} s", 64 * T1_MS / 1_000), code: Some(408) }));
            }
        }
        if let Some(tx) = self.bye.as_mut() {
            if let Some(bytes) = tx.on_timer(now_ms) {
                out.push(CallOutput::Send(bytes.to_vec()));
            }
            if tx.outcome() == Some(&TxOutcome::Timeout) {
                self.bye = None;
                out.extend(self.set(CallState::Ended { reason: "hung up (the other side did not confirm)".into(), code: None }));
            }
        }
        out
    }
}
