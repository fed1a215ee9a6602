//! The answering side of a call (RFC 3261 §13.3, §14.2): a call for us, its ringing
//! (reliable with 100rel, or 420), answer and decline with their final responses
//! resent until the ACK, the caller's CANCEL, and the far end's re-INVITEs.

use std::net::SocketAddr;

use super::*;

impl Call {
    /// A call for us: `invite` is the INVITE that arrived. Nothing is sent before `ring`.
    pub fn incoming(
        account: Account,
        local: SocketAddr,
        invite: &Message,
        sdp: SdpAgent,
        mut ids: Box<dyn FnMut() -> String + Send>,
        random: Box<dyn FnMut() -> f64 + Send>,
        now_ms: i64,
    ) -> Call {
        let tag = ids();
        let to = invite.header("To").unwrap_or_default().to_string();
        let mut call = Call::base(CallDirection::Incoming, account, local, invite.call_id.clone(), sdp, ids, random);
        call.local_party = if invite.to.tag().is_some() { to } else { format!("{to};tag={tag}") };
        call.remote_party = invite.header("From").unwrap_or_default().to_string();
        call.request_uri = invite.from.uri.to_string();
        call.remote_target = invite
            .contact
            .iter()
            .find_map(|c| match c {
                Contact::Addr(a) => Some(a.uri.to_string()),
                Contact::Star(_) => None,
            })
            .unwrap_or_else(|| invite.from.uri.to_string());
        call.route = invite.record_route.iter().map(|r| format!("<{}>", r.uri)).collect();
        call.remote_cseq = Some(invite.cseq.seq);
        call.server = Some(ServerInvite {
            branch: invite.via.first().and_then(|v| v.branch()).unwrap_or_default().to_string(),
            cseq: invite.cseq.seq,
            request: invite.clone(),
            last_response: None,
            final_code: None,
            next_resend_at: None,
            interval: T1_MS,
            give_up_at: now_ms + 64 * T1_MS,
            offered: false,
            reliable: None,
        });
        call
    }

    /// Rings: 180 Ringing (reliable when the caller requires 100rel) — or 420 when the
    /// INVITE requires an extension we do not support.
    pub fn ring(&mut self, now_ms: i64) -> Vec<CallOutput> {
        let Some(invite) = self.server.as_ref().map(|s| s.request.clone()) else { return vec![] };
        let invite = &invite;
        let call = self;
        let unsupported: Vec<String> = invite
            .header_values("Require")
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && !SUPPORTED.split(", ").any(|o| o.eq_ignore_ascii_case(t)))
            .collect();
        if !unsupported.is_empty() {
            let mut out = call.final_response(now_ms, invite, 420, "Bad Extension", None, &format!("Unsupported: {}\r\n", unsupported.join(", ")));
            out.extend(call.end(format!("the caller requires what Ringside does not support: {}", unsupported.join(", ")), Some(420)));
            return out;
        }
        let reliable = lists(invite, "Require", "100rel");
        let extra = if reliable { "Require: 100rel\r\nRSeq: 1\r\n" } else { "" };
        let ringing = call.respond(invite, 180, "Ringing", extra, None);
        if let Some(s) = call.server.as_mut() {
            s.last_response = Some(ringing.clone());
            if reliable {
                s.reliable = Some(Reliable { bytes: ringing.clone(), next_at: now_ms + T1_MS, interval: T1_MS, give_up_at: now_ms + 64 * T1_MS });
            }
        }
        vec![CallOutput::Send(ringing), CallOutput::State(CallState::Incoming)]
    }

    pub(super) fn on_reinvite(&mut self, now_ms: i64, msg: &Message, branch: String) -> Vec<CallOutput> {
        if !self.state.is_answered() {
            return vec![CallOutput::Send(self.respond(msg, 481, "Call/Transaction Does Not Exist", "", None))];
        }
        if self.pending.iter().any(|p| matches!(p.purpose, Purpose::Hold(_) | Purpose::Refresh)) {
            return vec![CallOutput::Send(self.respond(msg, 491, "Request Pending", "", None))];
        }
        if self.server.is_some() {
            return vec![CallOutput::Send(self.respond(msg, 500, "Server Internal Error", "Retry-After: 1\r\n", None))];
        }
        if let Some(uri) = msg.contact.iter().find_map(|c| match c {
            Contact::Addr(a) => Some(a.uri.to_string()),
            Contact::Star(_) => None,
        }) {
            self.remote_target = uri;
        }
        let ours = if self.held { Direction::SendOnly } else { Direction::SendRecv };
        let mut out = Vec::new();
        // Any re-INVITE refreshes the session (RFC 4028 §10); one naming a new interval
        // or refresher is followed, and echoed in our 200.
        let mut timer_extra = String::new();
        if let Some(value) = msg.header("Session-Expires").or_else(|| msg.header("x")) {
            // In their re-INVITE, uac means them (the sender of this request).
            self.session = SessionTimer::parse(value, false, true, now_ms).or(self.session);
            if let Some(t) = self.session {
                timer_extra = format!("Session-Expires: {};refresher={}\r\nRequire: timer\r\n", t.interval_secs, if t.we_refresh { "uas" } else { "uac" });
            }
        } else if let Some(t) = self.session.as_mut() {
            t.restart(now_ms);
        }
        let (response, offered) = if msg.body.is_empty() {
            // No offer: ours goes in the 200, their answer in the ACK.
            let offer = self.sdp.offer(ours);
            (self.respond(msg, 200, "OK", &timer_extra, Some(("application/sdp", &offer))), true)
        } else {
            match self.sdp.answer(&msg.body, ours) {
                Ok((answer, n)) => {
                    // Their offer's direction says whether they hold us.
                    self.remote_held = !n.direction.receives() || !Self::offer_sends(&msg.body);
                    out.push(CallOutput::Media(n));
                    (self.respond(msg, 200, "OK", &timer_extra, Some(("application/sdp", &answer))), false)
                }
                Err(e) => {
                    let refusal = self.respond(msg, 488, "Not Acceptable Here", &format!("Warning: 304 ringside \"{}\"\r\n", e.replace('"', "'")), None);
                    return vec![CallOutput::Send(refusal)];
                }
            }
        };
        self.server = Some(ServerInvite {
            branch,
            cseq: msg.cseq.seq,
            request: msg.clone(),
            last_response: Some(response.clone()),
            final_code: Some(200),
            next_resend_at: Some(now_ms + T1_MS),
            interval: T1_MS,
            give_up_at: now_ms + 64 * T1_MS,
            offered,
            reliable: None,
        });
        out.insert(0, CallOutput::Send(response));
        let state = self.answered_state();
        out.extend(self.set(state));
        out
    }

    /// Whether an offer's audio is sent by the offerer (sendrecv/sendonly).
    fn offer_sends(body: &[u8]) -> bool {
        crate::media::sdp::Sdp::parse(body).ok().and_then(|s| s.audio().map(|m| m.direction(&s).sends())).unwrap_or(true)
    }

    pub(super) fn on_ack(&mut self, msg: &Message) -> Vec<CallOutput> {
        let Some(s) = self.server.as_ref() else { return vec![] };
        if s.cseq != msg.cseq.seq || s.final_code.is_none() {
            return vec![];
        }
        let offered = s.offered && s.final_code.is_some_and(|c| (200..300).contains(&c));
        self.server = None;
        let mut out = Vec::new();
        if offered && !msg.body.is_empty() {
            let ours = if self.held { Direction::SendOnly } else { Direction::SendRecv };
            match self.sdp.accept_answer(&msg.body, ours) {
                Ok(n) => {
                    self.remote_held = !Self::offer_sends(&msg.body);
                    out.push(CallOutput::Media(n));
                    let state = self.answered_state();
                    out.extend(self.set(state));
                }
                Err(e) => tracing::warn!(%e, "the SDP in the ACK is unusable"),
            }
        }
        out
    }

    pub(super) fn on_cancel(&mut self, msg: &Message, branch: &str) -> Vec<CallOutput> {
        let Some(s) = self.server.as_ref().filter(|s| s.branch == branch) else {
            return vec![CallOutput::Send(self.respond(msg, 481, "Call/Transaction Does Not Exist", "", None))];
        };
        let mut out = vec![CallOutput::Send(self.respond(msg, 200, "OK", "", None))];
        if s.final_code.is_none() && self.state == CallState::Incoming {
            let invite = s.request.clone();
            out.extend(self.final_response(0, &invite, 487, "Request Terminated", None, ""));
            out.extend(self.end("missed: the caller hung up", Some(487)));
        }
        out
    }

    /// Sends a final response to the ringing INVITE and keeps resending it until ACKed.
    pub(super) fn final_response(&mut self, now_ms: i64, invite: &Message, code: u16, reason: &str, body: Option<(&str, &[u8])>, extra: &str) -> Vec<CallOutput> {
        let response = self.respond(invite, code, reason, extra, body);
        if let Some(s) = self.server.as_mut() {
            s.last_response = Some(response.clone());
            s.final_code = Some(code);
            s.interval = T1_MS;
            s.next_resend_at = Some(now_ms + T1_MS);
            s.give_up_at = now_ms + 64 * T1_MS;
            s.reliable = None;
        }
        vec![CallOutput::Send(response)]
    }

    /// The session timer of an INVITE we answer (as UAS): its `Session-Expires` (raised
    /// to our Min-SE), the refresher it names, else the caller when it supports timers,
    /// else us. Returns the header fields for the 2xx.
    fn accept_session_timer(&mut self, invite: &Message, now_ms: i64) -> String {
        let Some(value) = invite.header("Session-Expires").or_else(|| invite.header("x")) else {
            return String::new();
        };
        let uac_supports = lists(invite, "Supported", "timer") || lists(invite, "Require", "timer");
        let interval = value.split(';').next().and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(1_800).max(MIN_SE_SECS);
        let named = value.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("refresher").then(|| v.trim().to_ascii_lowercase())
        });
        let refresher = match named.as_deref() {
            Some("uac") if uac_supports => "uac",
            Some("uas") => "uas",
            _ if uac_supports => "uac",
            _ => "uas",
        };
        let header = format!("{interval};refresher={refresher}");
        self.session = SessionTimer::parse(&header, false, false, now_ms);
        let mut extra = format!("Session-Expires: {header}\r\n");
        if uac_supports {
            extra.push_str("Require: timer\r\n");
        }
        extra
    }

    /// Answers a call ringing here: 200 with our SDP answer (or offer, when the INVITE
    /// had none).
    pub fn answer(&mut self, now_ms: i64) -> Vec<CallOutput> {
        if self.state != CallState::Incoming {
            return vec![];
        }
        let Some(invite) = self.server.as_ref().map(|s| s.request.clone()) else { return vec![] };
        let mut out = Vec::new();
        // RFC 4028: the caller asked for a session timer (or supports one): agree.
        let timer_extra = self.accept_session_timer(&invite, now_ms);
        if invite.body.is_empty() {
            let offer = self.sdp.offer(Direction::SendRecv);
            out.extend(self.final_response(now_ms, &invite, 200, "OK", Some(("application/sdp", &offer)), &timer_extra));
            if let Some(s) = self.server.as_mut() {
                s.offered = true;
            }
        } else {
            match self.sdp.answer(&invite.body, Direction::SendRecv) {
                Ok((answer, n)) => {
                    out.extend(self.final_response(now_ms, &invite, 200, "OK", Some(("application/sdp", &answer)), &timer_extra));
                    out.push(CallOutput::Media(n));
                }
                Err(e) => {
                    out.extend(self.final_response(now_ms, &invite, 488, "Not Acceptable Here", None, ""));
                    out.extend(self.end(format!("the caller's media cannot be used: {e}"), Some(488)));
                    return out;
                }
            }
        }
        let state = self.answered_state();
        out.extend(self.set(state));
        out
    }

    /// Refuses a call ringing here: 486 Busy Here (busy, do not disturb) or 603 Decline.
    pub fn decline(&mut self, now_ms: i64, code: u16) -> Vec<CallOutput> {
        if self.state != CallState::Incoming {
            return vec![];
        }
        let Some(invite) = self.server.as_ref().map(|s| s.request.clone()) else { return vec![] };
        let reason = if code == 603 { "Decline" } else { "Busy Here" };
        let mut out = self.final_response(now_ms, &invite, code, reason, None, "");
        out.extend(self.end(if code == 603 { "declined" } else { "busy" }, Some(code)));
        out
    }
}
