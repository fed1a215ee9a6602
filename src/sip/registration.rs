//! One SIP registration, without I/O (RFC 3261 §10): builds the REGISTER requests,
//! answers a 401/407 challenge once per nonce, honours 423 Min-Expires, refreshes
//! before the binding expires, backs off with jitter after failures, and unregisters
//! on request. The driver (`super::udp`) feeds it responses and time and sends what it
//! returns; the state it reports is what the UI shows.

use std::net::SocketAddr;

use serde::Serialize;

use super::digest::{Answering, Challenge};
use super::message::{Contact, Message};
use super::transaction::{ClientTransaction, Transport, TxOutcome};
use crate::secrets::Sensitive;

/// Backoff after a failure: 2 s doubling to 5 minutes, equal jitter.
const RETRY_BASE_MS: i64 = 2_000;
const RETRY_MAX_MS: i64 = 300_000;

#[derive(Debug, Clone)]
pub struct Account {
    /// `alice` of `sip:alice@example.com`.
    pub user: String,
    /// The authentication user, when the PBX wants another one.
    pub auth_user: Option<String>,
    pub domain: String,
    pub password: Sensitive<String>,
    /// Seconds asked for.
    pub expires: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum RegistrationState {
    Unregistered,
    Registering,
    /// Registered until `expires_at` (unix seconds); refreshed before.
    Registered {
        expires_secs: u32,
        #[specta(type = u32)]
        expires_at: i64,
    },
    /// The last try failed; the next one is at `retry_at` (unix seconds).
    Retrying {
        reason: String,
        #[specta(type = u32)]
        retry_at: i64,
    },
    /// The registrar refused the credentials: retrying will not help until they change.
    Failed { reason: String },
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Send(Vec<u8>),
    State(RegistrationState),
}

pub struct Registration {
    account: Account,
    local: SocketAddr,
    /// Our address as the registrar sees it (`received`/`rport` of its answer, RFC
    /// 3581), when that differs from the socket's: a NAT is in between.
    public: Option<SocketAddr>,
    transport: Transport,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// The challenge answered in the request in flight.
    challenge: Option<Answering>,
    /// A challenge already answered once.
    answered_nonce: Option<String>,
    /// The request in flight carried credentials: a new challenge that is not `stale`
    /// means they were refused (RFC 3261 §22.2), whatever its nonce.
    sent_credentials: bool,
    tx: Option<ClientTransaction>,
    expires_asked: u32,
    unregistering: bool,
    state: RegistrationState,
    next_action_at: Option<i64>,
    failures: u32,
    /// The status of the last failed try (408 for no answer), for the user agent to
    /// decide whether to try the next server (RFC 3263 §4.3).
    last_failure: Option<u16>,
    /// A binding of ours the registrar may still hold at an address we left (another
    /// network, the private side of a NAT): removed (`expires=0`) with the next
    /// REGISTER, so calls are not forked to a dead address until it lapses.
    stale_contact: Option<String>,
    /// Uniform in [0, 1): the jitter source, passed in.
    random: Box<dyn FnMut() -> f64 + Send>,
    ids: Box<dyn FnMut() -> String + Send>,
}

impl Registration {
    /// `ids` makes branch, tag and Call-ID tokens; `random` draws the jitter.
    pub fn new(
        account: Account,
        local: SocketAddr,
        mut ids: Box<dyn FnMut() -> String + Send>,
        random: Box<dyn FnMut() -> f64 + Send>,
    ) -> Registration {
        Registration {
            call_id: ids(),
            from_tag: ids(),
            expires_asked: account.expires,
            account,
            local,
            public: None,
            transport: Transport::Udp,
            cseq: 0,
            challenge: None,
            answered_nonce: None,
            sent_credentials: false,
            tx: None,
            unregistering: false,
            state: RegistrationState::Unregistered,
            next_action_at: None,
            failures: 0,
            last_failure: None,
            stale_contact: None,
            random,
            ids,
        }
    }

    /// The same registration from a new local address (the network changed, the
    /// connection was made again): the same Call-ID and CSeq series (RFC 3261 §10.2:
    /// one per boot), and the binding at the old address removed by the first REGISTER.
    pub fn moved_to(self, local: SocketAddr, transport: Transport) -> Registration {
        let stale = match self.state {
            RegistrationState::Registered { .. } => Some(self.contact_uri()),
            _ => self.stale_contact.clone(),
        }
        .filter(|old| {
            let new = format!("sip:{}@{local};transport={}", self.account.user, transport.uri_param());
            !old.eq_ignore_ascii_case(&new)
        });
        Registration {
            local,
            public: None,
            transport,
            challenge: None,
            answered_nonce: None,
            sent_credentials: false,
            tx: None,
            unregistering: false,
            state: RegistrationState::Unregistered,
            next_action_at: None,
            failures: 0,
            last_failure: None,
            stale_contact: stale,
            ..self
        }
    }

    /// Over TCP: Via and Contact say so, and nothing is resent.
    pub fn with_transport(mut self, transport: Transport) -> Registration {
        self.transport = transport;
        self
    }

    pub fn state(&self) -> &RegistrationState {
        &self.state
    }

    pub fn next_wakeup(&self) -> Option<i64> {
        let tx = self.tx.as_ref().and_then(ClientTransaction::next_wakeup);
        match (tx, self.next_action_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn start(&mut self, now_ms: i64) -> Vec<Output> {
        self.unregistering = false;
        self.send_register(now_ms, vec![Output::State(RegistrationState::Registering)])
    }

    /// Removes the binding (Expires: 0); the state ends `Unregistered`.
    pub fn stop(&mut self, now_ms: i64) -> Vec<Output> {
        self.unregistering = true;
        self.next_action_at = None;
        if matches!(self.state, RegistrationState::Unregistered | RegistrationState::Failed { .. }) && self.tx.is_none() {
            return vec![];
        }
        self.send_register(now_ms, vec![])
    }

    fn contact_uri(&self) -> String {
        format!("sip:{}@{};transport={}", self.account.user, self.public.unwrap_or(self.local), self.transport.uri_param())
    }

    /// Whether the last try failed in a way another server may not (no answer, 503):
    /// RFC 3263 §4.3's reasons to move to the next target.
    pub fn should_fail_over(&self) -> bool {
        matches!(self.last_failure, Some(408) | Some(503))
    }

    /// Our address as the registrar sees it (behind a NAT), once it told us.
    pub fn public_address(&self) -> Option<SocketAddr> {
        self.public
    }

    fn send_register(&mut self, now_ms: i64, mut out: Vec<Output>) -> Vec<Output> {
        self.cseq += 1;
        let branch = format!("z9hG4bK{}", (self.ids)());
        let expires = if self.unregistering { 0 } else { self.expires_asked };
        let a = &self.account;
        let request_uri = format!("sip:{}", a.domain);
        let aor = format!("sip:{}@{}", a.user, a.domain);
        let mut msg = format!(
            "REGISTER {request_uri} SIP/2.0\r\n\
             Via: SIP/2.0/{via} {local};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <{aor}>;tag={tag}\r\n\
             To: <{aor}>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             Contact: <{contact}>;expires={expires}\r\n\
             Expires: {expires}\r\n\
             Allow: {allow}\r\n\
             User-Agent: Ringside/{version}\r\n",
            allow = super::ALLOW,
            local = self.local,
            via = self.transport.via_name(),
            tag = self.from_tag,
            call_id = self.call_id,
            cseq = self.cseq,
            contact = self.contact_uri(),
            version = env!("CARGO_PKG_VERSION"),
        );
        self.sent_credentials = self.challenge.is_some();
        if let Some(answering) = self.challenge.as_mut() {
            let cnonce = (self.ids)();
            let user = a.auth_user.as_deref().unwrap_or(&a.user);
            msg.push_str(&answering.header_line(user, &a.password, "REGISTER", &request_uri, &cnonce));
        }
        if let Some(stale) = self.stale_contact.as_ref().filter(|_| !self.unregistering) {
            msg.push_str(&format!("Contact: <{stale}>;expires=0\r\n"));
        }
        msg.push_str("Content-Length: 0\r\n\r\n");
        let bytes = msg.into_bytes();
        self.tx = Some(ClientTransaction::new(branch, bytes.clone(), self.transport.reliable(), now_ms));
        out.push(Output::Send(bytes));
        out
    }

    /// A response from the registrar; others (wrong branch) are ignored.
    pub fn on_response(&mut self, now_ms: i64, msg: &Message) -> Vec<Output> {
        let Some(code) = msg.code() else { return vec![] };
        let Some(tx) = self.tx.as_mut() else { return vec![] };
        if msg.via.first().and_then(|v| v.branch()) != Some(tx.branch.as_str()) || msg.cseq.method != "REGISTER" {
            return vec![];
        }
        tx.on_response(code, now_ms);
        if code < 200 {
            return vec![];
        }
        self.tx = None;
        self.last_failure = (code >= 300).then_some(code);
        match code {
            200..=299 => self.registered(now_ms, msg),
            401 | 407 => {
                let header = if code == 401 { "WWW-Authenticate" } else { "Proxy-Authenticate" };
                let parsed = msg.header_values(header).find_map(|v| Challenge::parse(v).ok());
                let Some(challenge) = parsed else {
                    let why = msg
                        .header_values(header)
                        .map(|v| Challenge::parse(v).err().map(|e| e.to_string()).unwrap_or_default())
                        .next()
                        .unwrap_or_else(|| format!("the registrar answered {code} without a challenge"));
                    return self.fail(why);
                };
                if self.sent_credentials && !challenge.stale {
                    return self.fail(format!(
                        "the registrar refused the password for {}@{} (realm {}): check the SIP password in Settings → Phone",
                        self.account.auth_user.as_deref().unwrap_or(&self.account.user),
                        self.account.domain,
                        challenge.realm
                    ));
                }
                let same_nonce = self.answered_nonce.as_deref() == Some(challenge.nonce.as_str());
                self.answered_nonce = Some(challenge.nonce.clone());
                if !same_nonce || self.challenge.is_none() {
                    self.challenge = Some(Answering::new(challenge, code == 407));
                }
                self.send_register(now_ms, vec![])
            }
            423 => {
                let min = msg.header("Min-Expires").and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if min > self.expires_asked => {
                        self.expires_asked = min;
                        self.send_register(now_ms, vec![])
                    }
                    _ => self.retry(now_ms, "the registrar wants a longer registration but did not say how long (423)".into()),
                }
            }
            403 => self.fail(format!(
                "the registrar forbids {}@{} to register (403 {})",
                self.account.user,
                self.account.domain,
                reason_phrase(msg)
            )),
            _ => {
                let retry_after = msg.header("Retry-After").and_then(|v| v.split([';', ' ']).next()?.parse::<i64>().ok());
                let reason = format!("the registrar answered {code} {}", reason_phrase(msg));
                match retry_after {
                    Some(secs) => self.retry_at(now_ms + secs.clamp(1, 3_600) * 1_000, reason),
                    None => self.retry(now_ms, reason),
                }
            }
        }
    }

    fn registered(&mut self, now_ms: i64, msg: &Message) -> Vec<Output> {
        self.failures = 0;
        if self.unregistering {
            self.next_action_at = None;
            return self.set(RegistrationState::Unregistered);
        }
        // RFC 3581: the registrar says where our REGISTER came from. Behind a NAT that
        // is not our socket's address, and calls for us must go there: register again
        // with it (once; the binding of the private address lapses on its own).
        if let Some(via) = msg.via.first() {
            let seen_ip = via.param("received").flatten().and_then(|r| r.parse::<std::net::IpAddr>().ok());
            let seen_port = via.param("rport").flatten().and_then(|p| p.parse::<u16>().ok());
            let current = self.public.unwrap_or(self.local);
            let seen = SocketAddr::new(seen_ip.unwrap_or(current.ip()), seen_port.unwrap_or(current.port()));
            if seen != current && self.public.is_none() && !self.transport.reliable() {
                tracing::info!(%seen, local = %self.local, "behind a NAT: registering the address the registrar sees");
                self.stale_contact = Some(self.contact_uri());
                self.public = Some(seen);
                return self.send_register(now_ms, vec![]);
            }
        }
        if let Some(stale) = self.stale_contact.take() {
            tracing::info!(%stale, "the binding at the old address is removed");
        }
        // The granted time is our contact's expires, else the Expires header.
        let ours = self.contact_uri();
        let mine = msg.contact.iter().find_map(|c| match c {
            Contact::Addr(a) if a.uri.to_string().eq_ignore_ascii_case(&ours) => a.param("expires").flatten().and_then(|e| e.parse::<u32>().ok()),
            _ => None,
        });
        let expires = mine.or(msg.expires).unwrap_or(self.expires_asked);
        if expires == 0 {
            return self.retry(now_ms, "the registrar accepted the registration but kept no binding".into());
        }
        // Refresh well before the end: at 85 % of the time, at least 5 s early.
        let lead = (i64::from(expires) * 150).max(5_000).min(i64::from(expires) * 500);
        self.next_action_at = Some(now_ms + i64::from(expires) * 1_000 - lead);
        self.set(RegistrationState::Registered { expires_secs: expires, expires_at: (now_ms + i64::from(expires) * 1_000).div_euclid(1_000) })
    }

    fn set(&mut self, state: RegistrationState) -> Vec<Output> {
        if self.state == state {
            return vec![];
        }
        self.state = state.clone();
        vec![Output::State(state)]
    }

    fn fail(&mut self, reason: String) -> Vec<Output> {
        self.challenge = None;
        self.answered_nonce = None;
        if self.unregistering {
            return self.set(RegistrationState::Unregistered);
        }
        // Credentials may be fixed on the server: try again, slowly.
        self.next_action_at = None;
        self.set(RegistrationState::Failed { reason })
    }

    fn retry(&mut self, now_ms: i64, reason: String) -> Vec<Output> {
        self.failures += 1;
        let ceiling = (RETRY_BASE_MS << self.failures.saturating_sub(1).min(12)).min(RETRY_MAX_MS) as f64;
        let wait = (ceiling / 2.0 + ceiling / 2.0 * (self.random)()) as i64;
        self.retry_at(now_ms + wait, reason)
    }

    fn retry_at(&mut self, at: i64, reason: String) -> Vec<Output> {
        if self.unregistering {
            self.next_action_at = None;
            return self.set(RegistrationState::Unregistered);
        }
        self.challenge = None;
        self.next_action_at = Some(at);
        self.set(RegistrationState::Retrying { reason, retry_at: at.div_euclid(1_000) })
    }

    pub fn on_timer(&mut self, now_ms: i64) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(tx) = self.tx.as_mut() {
            if let Some(bytes) = tx.on_timer(now_ms) {
                out.push(Output::Send(bytes.to_vec()));
            }
            if tx.outcome() == Some(&TxOutcome::Timeout) {
                self.tx = None;
                self.last_failure = Some(408);
                out.extend(self.retry(now_ms, format!("the registrar {} did not answer", self.account.domain)));
            }
        }
        if self.next_action_at.is_some_and(|at| now_ms >= at) && self.tx.is_none() {
            self.next_action_at = None;
            if matches!(self.state, RegistrationState::Registered { .. }) {
                // A refresh keeps the current challenge (the nonce may still be good).
                out.extend(self.send_register(now_ms, vec![]));
            } else {
                self.challenge = None;
                out.extend(self.send_register(now_ms, vec![Output::State(RegistrationState::Registering)]));
                self.state = RegistrationState::Registering;
            }
        }
        out
    }
}

fn reason_phrase(msg: &Message) -> &str {
    match &msg.start {
        super::message::StartLine::Response { reason, .. } => reason,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse_datagram;

    fn reg() -> Registration {
        let mut n = 0;
        Registration::new(
            Account {
                user: "alice".into(),
                auth_user: None,
                domain: "ringside.test".into(),
                password: Sensitive::new("secret".into()),
                expires: 600,
            },
            "127.0.0.1:5099".parse().unwrap(),
            Box::new(move || {
                n += 1;
                format!("id{n}")
            }),
            Box::new(|| 0.0),
        )
    }

    fn sent(out: &[Output]) -> Message {
        let bytes = out.iter().find_map(|o| if let Output::Send(b) = o { Some(b.clone()) } else { None }).expect("a request is sent");
        parse_datagram(&bytes).expect("our REGISTER parses with our own parser")
    }

    fn answer(req: &Message, status: &str, extra: &str) -> Message {
        let text = format!(
            "SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch={};rport=5099\r\nFrom: <sip:alice@ringside.test>;tag=id2\r\nTo: <sip:alice@ringside.test>;tag=srv\r\nCall-ID: {}\r\nCSeq: {} REGISTER\r\n{extra}Content-Length: 0\r\n\r\n",
            req.via[0].branch().unwrap(),
            req.call_id,
            req.cseq.seq
        );
        parse_datagram(text.as_bytes()).unwrap()
    }

    #[test]
    fn a_challenge_is_answered_once_and_the_granted_expiry_is_kept() {
        let mut r = reg();
        let first = sent(&r.start(0));
        assert_eq!(first.expires, Some(600));
        let again = sent(&r.on_response(10, &answer(&first, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"ringside.test\", nonce=\"n1\", qop=\"auth\"\r\n")));
        assert_eq!(again.cseq.seq, first.cseq.seq + 1, "a new CSeq for the authenticated try");
        assert!(again.header("Authorization").unwrap().contains("nc=00000001"));
        let out = r.on_response(20, &answer(&again, "200 OK", "Contact: <sip:alice@127.0.0.1:5099;transport=udp>;expires=300\r\n"));
        assert_eq!(out, vec![Output::State(RegistrationState::Registered { expires_secs: 300, expires_at: 300 })]);
        assert_eq!(r.next_wakeup(), Some(20 + 255_000), "refreshed at 85 % of the granted 300 s");
    }

    #[test]
    fn a_second_challenge_for_the_same_nonce_means_a_wrong_password() {
        let mut r = reg();
        let first = sent(&r.start(0));
        let challenge = "WWW-Authenticate: Digest realm=\"ringside.test\", nonce=\"n1\"\r\n";
        let second = sent(&r.on_response(1, &answer(&first, "401 Unauthorized", challenge)));
        let out = r.on_response(2, &answer(&second, "401 Unauthorized", challenge));
        assert!(matches!(&out[..], [Output::State(RegistrationState::Failed { reason })] if reason.contains("password")), "{out:?}");
    }

    #[test]
    fn a_fresh_challenge_after_our_credentials_also_means_a_wrong_password() {
        let mut r = reg();
        let first = sent(&r.start(0));
        let second = sent(&r.on_response(1, &answer(&first, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n")));
        let out = r.on_response(2, &answer(&second, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\"\r\n"));
        assert!(matches!(&out[..], [Output::State(RegistrationState::Failed { .. })]), "no loop of REGISTERs with new nonces: {out:?}");
        let mut r = reg();
        let first = sent(&r.start(0));
        let second = sent(&r.on_response(1, &answer(&first, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n")));
        let third = r.on_response(2, &answer(&second, "401 Unauthorized", "WWW-Authenticate: Digest realm=\"r\", nonce=\"n2\", stale=true\r\n"));
        assert!(matches!(&third[..], [Output::Send(_)]), "stale=true: the same password with the new nonce");
    }

    #[test]
    fn interval_too_brief_is_retried_with_the_registrars_minimum() {
        let mut r = reg();
        let first = sent(&r.start(0));
        let retried = sent(&r.on_response(1, &answer(&first, "423 Interval Too Brief", "Min-Expires: 1800\r\n")));
        assert_eq!(retried.expires, Some(1800));
    }

    #[test]
    fn a_registrar_that_fails_or_never_answers_is_retried_with_growing_waits() {
        let mut r = reg();
        let first = sent(&r.start(0));
        let out = r.on_response(1, &answer(&first, "500 Server Internal Error", ""));
        assert!(matches!(&out[..], [Output::State(RegistrationState::Retrying { retry_at: 1, .. })]), "{out:?}");
        assert_eq!(r.next_wakeup(), Some(1_001), "the first retry waits 1–2 s (jitter 0 here)");
        // The retry goes out, and this time nothing answers: Timer F, then a longer wait.
        let mut now = 1_001;
        let mut states = vec![];
        for _ in 0..40 {
            let Some(at) = r.next_wakeup() else { break };
            now = at;
            for o in r.on_timer(now) {
                if let Output::State(s) = o {
                    states.push(s);
                }
            }
            if matches!(states.last(), Some(RegistrationState::Retrying { .. })) {
                break;
            }
        }
        match states.last() {
            Some(RegistrationState::Retrying { reason, retry_at }) => {
                assert!(reason.contains("did not answer"));
                assert_eq!(r.next_wakeup(), Some(now + 2_000), "the second failure waits 2–4 s (jitter 0 here)");
                assert_eq!(*retry_at, (now + 2_000) / 1_000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stopping_removes_the_binding() {
        let mut r = reg();
        let first = sent(&r.start(0));
        r.on_response(1, &answer(&first, "200 OK", "Expires: 600\r\n"));
        let bye = sent(&r.stop(2));
        assert_eq!(bye.expires, Some(0));
        let out = r.on_response(3, &answer(&bye, "200 OK", ""));
        assert_eq!(out, vec![Output::State(RegistrationState::Unregistered)]);
    }

    #[test]
    fn behind_a_nat_the_address_the_registrar_saw_is_registered() {
        let mut r = reg();
        let first = sent(&r.start(0));
        let text = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch={};received=203.0.113.9;rport=40001\r\nFrom: <sip:alice@ringside.test>;tag=id2\r\nTo: <sip:alice@ringside.test>;tag=srv\r\nCall-ID: {}\r\nCSeq: {} REGISTER\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
            first.via[0].branch().unwrap(),
            first.call_id,
            first.cseq.seq
        );
        let again = sent(&r.on_response(10, &parse_datagram(text.as_bytes()).unwrap()));
        let contact = again.header("Contact").unwrap();
        assert!(contact.contains("sip:alice@203.0.113.9:40001;transport=udp"), "{contact}");
        assert_eq!(r.public_address(), Some("203.0.113.9:40001".parse().unwrap()));
        let contacts: Vec<&str> = again.header_values("Contact").collect();
        assert!(contacts.iter().any(|c| c.contains("sip:alice@127.0.0.1:5099;transport=udp>;expires=0")), "the private binding goes: {contacts:?}");
    }

    #[test]
    fn a_registration_moved_to_a_new_address_removes_the_old_binding_once() {
        let mut r = reg();
        let first = sent(&r.start(0));
        r.on_response(10, &answer(&first, "200 OK", "Contact: <sip:alice@127.0.0.1:5099;transport=udp>;expires=600\r\n"));
        assert!(matches!(r.state(), RegistrationState::Registered { .. }));
        let mut moved = r.moved_to("127.0.0.2:6000".parse().unwrap(), Transport::Udp);
        let again = sent(&moved.start(20));
        assert_eq!(again.call_id, first.call_id, "one Call-ID for the boot");
        assert!(again.cseq.seq > first.cseq.seq);
        let contacts: Vec<&str> = again.header_values("Contact").collect();
        assert_eq!(contacts, ["<sip:alice@127.0.0.2:6000;transport=udp>;expires=600", "<sip:alice@127.0.0.1:5099;transport=udp>;expires=0"]);
        let ok = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.2:6000;branch={};rport=6000\r\nFrom: <sip:alice@ringside.test>;tag=id2\r\nTo: <sip:alice@ringside.test>;tag=srv\r\nCall-ID: {}\r\nCSeq: {} REGISTER\r\nContact: <sip:alice@127.0.0.2:6000;transport=udp>;expires=600\r\nContent-Length: 0\r\n\r\n",
            again.via[0].branch().unwrap(),
            again.call_id,
            again.cseq.seq
        );
        assert!(moved.on_response(30, &parse_datagram(ok.as_bytes()).unwrap()).iter().all(|o| !matches!(o, Output::Send(_))));
        let refresh = sent(&moved.on_timer(600_000));
        assert_eq!(refresh.header_values("Contact").count(), 1, "removed once, not asked again");
        // Moved before it ever registered: nothing to remove.
        let mut fresh = reg().moved_to("127.0.0.2:6000".parse().unwrap(), Transport::Udp);
        assert_eq!(sent(&fresh.start(0)).header_values("Contact").count(), 1);
    }
}
