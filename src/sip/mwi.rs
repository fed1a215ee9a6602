//! Message waiting (RFC 3842), without I/O: a SUBSCRIBE to the account's own address
//! for `message-summary` (401/407 answered once per nonce, refreshed at 85 % of the
//! granted time, retried after an hour when the PBX has no voicemail for us), and the
//! NOTIFYs it brings — or that a PBX sends unasked — read into [`Voicemail`].

use std::net::SocketAddr;

use serde::Serialize;

use super::digest::{Answering, Challenge};
use super::message::Message;
use super::registration::Account;
use super::transaction::{ClientTransaction, Transport, TxOutcome};

/// What the voicemail box holds, as the last NOTIFY said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    pub waiting: bool,
    /// New and old voice messages (`Voice-Message: 2/8`), when the PBX counts them.
    pub new_messages: u32,
    pub old_messages: u32,
}

/// Reads an `application/simple-message-summary` body (RFC 3842 §5.2).
pub fn parse_summary(body: &[u8]) -> Option<Voicemail> {
    let text = std::str::from_utf8(body).ok()?;
    let mut vm = Voicemail::default();
    let mut seen = false;
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "messages-waiting" => {
                seen = true;
                vm.waiting = value.eq_ignore_ascii_case("yes");
            }
            "voice-message" => {
                // `new/old` then an optional `(urgent-new/urgent-old)`.
                let counts = value.split_whitespace().next().unwrap_or_default();
                if let Some((n, o)) = counts.split_once('/') {
                    vm.new_messages = n.trim().parse().unwrap_or(0);
                    vm.old_messages = o.trim().parse().unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    seen.then_some(vm)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MwiOutput {
    Send(Vec<u8>),
    Voicemail(Voicemail),
}

const EXPIRES: u32 = 3_600;
/// A PBX that will not take the subscription is asked again this much later.
const RETRY_MS: i64 = 3_600_000;

pub struct Subscription {
    account: Account,
    local: SocketAddr,
    transport: Transport,
    call_id: String,
    from_tag: String,
    remote_tag: Option<String>,
    cseq: u32,
    tx: Option<ClientTransaction>,
    challenge: Option<Answering>,
    sent_credentials: bool,
    next_at: Option<i64>,
    stopping: bool,
    ids: Box<dyn FnMut() -> String + Send>,
}

impl Subscription {
    pub fn new(account: Account, local: SocketAddr, transport: Transport, mut ids: Box<dyn FnMut() -> String + Send>) -> Subscription {
        Subscription {
            call_id: ids(),
            from_tag: ids(),
            account,
            local,
            transport,
            remote_tag: None,
            cseq: 0,
            tx: None,
            challenge: None,
            sent_credentials: false,
            next_at: None,
            stopping: false,
            ids,
        }
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    pub fn start(&mut self, now_ms: i64) -> Vec<MwiOutput> {
        self.send(now_ms)
    }

    /// Ends the subscription (Expires: 0), when there is one.
    pub fn stop(&mut self, now_ms: i64) -> Vec<MwiOutput> {
        self.stopping = true;
        self.next_at = None;
        if self.remote_tag.is_none() {
            return vec![];
        }
        self.send(now_ms)
    }

    fn send(&mut self, now_ms: i64) -> Vec<MwiOutput> {
        self.cseq += 1;
        let branch = format!("z9hG4bK{}", (self.ids)());
        let a = &self.account;
        let aor = format!("sip:{}@{}", a.user, a.domain);
        let to = match &self.remote_tag {
            Some(t) => format!("<{aor}>;tag={t}"),
            None => format!("<{aor}>"),
        };
        let mut msg = format!(
            "SUBSCRIBE {aor} SIP/2.0\r\nVia: SIP/2.0/{via} {local};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: <{aor}>;tag={tag}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} SUBSCRIBE\r\nContact: <sip:{user}@{local};transport={param}>\r\nEvent: message-summary\r\nAccept: application/simple-message-summary\r\nExpires: {expires}\r\nUser-Agent: Ringside/{version}\r\n",
            via = self.transport.via_name(),
            local = self.local,
            tag = self.from_tag,
            call_id = self.call_id,
            cseq = self.cseq,
            user = a.user,
            param = self.transport.uri_param(),
            expires = if self.stopping { 0 } else { EXPIRES },
            version = env!("CARGO_PKG_VERSION"),
        );
        self.sent_credentials = self.challenge.is_some();
        if let Some(answering) = self.challenge.as_mut() {
            let cnonce = (self.ids)();
            let user = a.auth_user.as_deref().unwrap_or(&a.user);
            msg.push_str(&answering.header_line(user, &a.password, "SUBSCRIBE", &aor, &cnonce));
        }
        msg.push_str("Content-Length: 0\r\n\r\n");
        let bytes = msg.into_bytes();
        self.tx = Some(ClientTransaction::new(branch, bytes.clone(), self.transport.reliable(), now_ms));
        vec![MwiOutput::Send(bytes)]
    }

    /// A response to our SUBSCRIBE (others are ignored).
    pub fn on_response(&mut self, now_ms: i64, msg: &Message) -> Vec<MwiOutput> {
        let Some(code) = msg.code() else { return vec![] };
        let Some(tx) = self.tx.as_mut() else { return vec![] };
        if msg.via.first().and_then(|v| v.branch()) != Some(tx.branch.as_str()) || msg.cseq.method != "SUBSCRIBE" {
            return vec![];
        }
        tx.on_response(code, now_ms);
        if code < 200 {
            return vec![];
        }
        self.tx = None;
        match code {
            200..=299 => {
                self.sent_credentials = false;
                if self.stopping {
                    return vec![];
                }
                self.remote_tag = msg.to.tag().map(str::to_string).or(self.remote_tag.take());
                let granted = msg.expires.unwrap_or(EXPIRES).max(60);
                self.next_at = Some(now_ms + i64::from(granted) * 850);
                vec![]
            }
            401 | 407 => {
                let header = if code == 401 { "WWW-Authenticate" } else { "Proxy-Authenticate" };
                match msg.header_values(header).find_map(|v| Challenge::parse(v).ok()) {
                    Some(c) if !self.sent_credentials || c.stale => {
                        self.challenge = Some(Answering::new(c, code == 407));
                        self.send(now_ms)
                    }
                    _ => self.give_up(now_ms, code),
                }
            }
            481 => {
                // The PBX forgot the subscription: a new one.
                self.remote_tag = None;
                self.send(now_ms)
            }
            _ => self.give_up(now_ms, code),
        }
    }

    fn give_up(&mut self, now_ms: i64, code: u16) -> Vec<MwiOutput> {
        tracing::info!(code, "no voicemail subscription (the PBX declined it); asking again in an hour");
        self.remote_tag = None;
        self.challenge = None;
        if !self.stopping {
            self.next_at = Some(now_ms + RETRY_MS);
        }
        vec![]
    }

    /// A NOTIFY for `message-summary` (of this subscription or unasked): the answer to
    /// send and what the box holds.
    pub fn on_notify(&mut self, msg: &Message) -> (u16, Option<Voicemail>) {
        let event = msg.header("Event").unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if event != "message-summary" {
            return (489, None);
        }
        if msg.call_id == self.call_id {
            if self.remote_tag.is_none() {
                // The NOTIFY can come before the 200 of the SUBSCRIBE (RFC 6665 §4.1.2.4).
                self.remote_tag = msg.from.tag().map(str::to_string);
            }
            if msg.header("Subscription-State").is_some_and(|s| s.trim_start().to_ascii_lowercase().starts_with("terminated")) {
                self.remote_tag = None;
                if !self.stopping {
                    self.next_at = Some(0);
                }
            }
        }
        match parse_summary(&msg.body) {
            Some(vm) => (200, Some(vm)),
            None if msg.body.is_empty() => (200, None),
            None => (400, None),
        }
    }

    pub fn next_wakeup(&self) -> Option<i64> {
        [self.tx.as_ref().and_then(ClientTransaction::next_wakeup), self.next_at].into_iter().flatten().min()
    }

    pub fn on_timer(&mut self, now_ms: i64) -> Vec<MwiOutput> {
        let mut out = Vec::new();
        if let Some(tx) = self.tx.as_mut() {
            if let Some(bytes) = tx.on_timer(now_ms) {
                out.push(MwiOutput::Send(bytes.to_vec()));
            }
            if tx.outcome() == Some(&TxOutcome::Timeout) {
                self.tx = None;
                out.extend(self.give_up(now_ms, 408));
            }
        }
        if self.next_at.is_some_and(|at| now_ms >= at) && self.tx.is_none() {
            self.next_at = None;
            out.extend(self.send(now_ms));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_read_as_rfc_3842_writes_them() {
        let vm = parse_summary(b"Messages-Waiting: yes\r\nMessage-Account: sip:alice@vm.example.com\r\nVoice-Message: 2/8 (0/2)\r\n").unwrap();
        assert_eq!(vm, Voicemail { waiting: true, new_messages: 2, old_messages: 8 });
        assert_eq!(parse_summary(b"messages-waiting: no\r\n").unwrap(), Voicemail::default());
        assert_eq!(parse_summary(b"hello"), None);
    }
}
