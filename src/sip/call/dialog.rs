//! Our requests in an established dialog (RFC 3261 §12.2.1): BYE, hold and resume by
//! re-INVITE (with the glare retry of §14.1), session refreshes (RFC 4028), keypad
//! digits by INFO, PRACK, and what their answers and time-outs mean for the call.

use super::*;

impl Call {
    pub(super) fn send_in_dialog(&mut self, now_ms: i64, method: &str, purpose: Purpose, extra: &str, body: Option<(&str, &[u8])>) -> Vec<CallOutput> {
        self.local_cseq += 1;
        let branch = self.branch();
        let bytes = self.request(method, &branch, self.local_cseq, true, extra, body);
        self.pending.push(Pending { purpose, cseq: self.local_cseq, tx: ClientTransaction::new(branch, bytes.clone(), self.transport.reliable(), now_ms), provisional: false });
        vec![CallOutput::Send(bytes)]
    }

    pub(super) fn bye(&mut self, now_ms: i64) -> Vec<CallOutput> {
        if self.pending.iter().any(|p| p.purpose == Purpose::Bye) {
            return vec![];
        }
        // Nothing else of ours matters once we say goodbye.
        self.pending.clear();
        self.retry_hold = None;
        let ua = Self::user_agent();
        self.send_in_dialog(now_ms, "BYE", Purpose::Bye, &ua, None)
    }

    /// Ends the call: BYE once answered, CANCEL while it rings (or as soon as it
    /// may), 486 for a call ringing here (use `decline` for 603).
    pub fn hang_up(&mut self, now_ms: i64) -> Vec<CallOutput> {
        match (&self.state, self.direction) {
            (CallState::Ended { .. }, _) => vec![],
            (CallState::Answered { .. }, _) => {
                let mut out = self.bye(now_ms);
                out.extend(self.end("hung up", None));
                out
            }
            (CallState::Incoming, _) => self.decline(now_ms, 486),
            (_, CallDirection::Outgoing) if self.provisional => self.send_cancel(),
            _ => {
                // RFC 3261 §9.1: no CANCEL before a provisional response.
                self.cancel_pending = true;
                vec![]
            }
        }
    }

    /// Puts the far end on hold (re-INVITE with sendonly, inactive when they hold us
    /// too) or takes it off. Ignored unless talking; a refusal leaves things as they were.
    pub fn hold(&mut self, now_ms: i64, on: bool) -> Vec<CallOutput> {
        if !self.state.is_answered() || self.pending.iter().any(|p| matches!(p.purpose, Purpose::Hold(_) | Purpose::Refresh | Purpose::Bye)) {
            return vec![];
        }
        if self.server.is_some() {
            // An exchange the far end started is still open: ours follows it.
            self.retry_hold = Some((now_ms + 200, on));
            return vec![];
        }
        if self.held == on {
            return vec![];
        }
        self.retry_hold = None;
        let direction = if on { Direction::SendOnly } else { Direction::SendRecv };
        let offer = self.sdp.offer(direction);
        let extra = format!("Contact: {}\r\nAllow: {}\r\n{}", self.contact(), crate::sip::ALLOW, Self::user_agent());
        self.send_in_dialog(now_ms, "INVITE", Purpose::Hold(on), &extra, Some(("application/sdp", &offer)))
    }

    /// A keypad digit by SIP INFO (when the media cannot carry RFC 4733 events).
    pub fn send_info_digit(&mut self, now_ms: i64, digit: char) -> Vec<CallOutput> {
        if !self.state.is_answered() {
            return vec![];
        }
        let body = format!("Signal={digit}\r\nDuration=160\r\n");
        let ua = Self::user_agent();
        self.send_in_dialog(now_ms, "INFO", Purpose::Info, &ua, Some(("application/dtmf-relay", body.as_bytes())))
    }

    pub(super) fn on_pending_response(&mut self, now_ms: i64, i: usize, code: u16, msg: &Message) -> Vec<CallOutput> {
        self.pending[i].tx.on_response(code, now_ms);
        if code < 200 {
            self.pending[i].provisional = true;
            return vec![];
        }
        let p = self.pending.remove(i);
        match p.purpose {
            // Ended already (transferred, the far end gone): the reason stays.
            Purpose::Bye if self.state.is_ended() => vec![],
            Purpose::Bye => self.end("hung up", None),
            Purpose::Info if code >= 300 => vec![CallOutput::Notice(format!("the far end did not take the keypad digit ({})", reason_of(msg)))],
            Purpose::Info => vec![],
            Purpose::Refer if code >= 300 => {
                self.transfer = None;
                vec![CallOutput::Transfer(TransferProgress::Failed { reason: reason_of(msg) })]
            }
            Purpose::Refer => vec![CallOutput::Transfer(TransferProgress::Accepted)],
            // The referrer learns how its transfer went; its answer changes nothing here.
            Purpose::Prack | Purpose::Notify => vec![],
            Purpose::Refresh if (200..300).contains(&code) => {
                let out = self.send_ack(p.cseq, None);
                if let Some(value) = msg.header("Session-Expires").or_else(|| msg.header("x")) {
                    // We sent this refresh: uac is us.
                    self.session = SessionTimer::parse(value, true, true, now_ms);
                } else if let Some(t) = self.session.as_mut() {
                    t.restart(now_ms);
                }
                out
            }
            Purpose::Refresh => {
                let branch = p.tx.branch.clone();
                let mut out = vec![CallOutput::Send(self.ack_failure(msg, &branch, true))];
                match code {
                    491 => {
                        if let Some(t) = self.session.as_mut() {
                            t.due_at = now_ms + 2_000;
                        }
                    }
                    _ => {
                        // RFC 4028 §10: a refresh the far end refuses ends the session.
                        out.extend(self.bye(now_ms));
                        out.extend(self.end(format!("the session could not be refreshed ({})", reason_of(msg)), Some(code)));
                    }
                }
                out
            }
            Purpose::Hold(on) => {
                if (200..300).contains(&code) {
                    let mut out = self.send_ack(p.cseq, None);
                    let direction = if on { Direction::SendOnly } else { Direction::SendRecv };
                    match self.sdp.accept_answer(&msg.body, direction) {
                        Ok(n) => out.push(CallOutput::Media(n)),
                        Err(e) => tracing::warn!(%e, "the re-INVITE's answer is unusable; media unchanged"),
                    }
                    self.held = on;
                    let state = self.answered_state();
                    out.extend(self.set(state));
                    return out;
                }
                let branch = p.tx.branch.clone();
                let mut out = vec![CallOutput::Send(self.ack_failure(msg, &branch, true))];
                match code {
                    491 => {
                        // Glare: the Call-ID's owner waits 2.1–4 s, the other 0–2 s.
                        let wait = match self.direction {
                            CallDirection::Outgoing => 2_100.0 + (self.random)() * 1_900.0,
                            CallDirection::Incoming => (self.random)() * 2_000.0,
                        };
                        self.retry_hold = Some((now_ms + wait as i64, on));
                    }
                    408 | 481 => {
                        out.extend(self.bye(now_ms));
                        out.extend(self.end("the far end lost the call", Some(code)));
                    }
                    _ => out.push(CallOutput::Notice(format!(
                        "the far end refused to {} ({})",
                        if on { "go on hold" } else { "come off hold" },
                        reason_of(msg)
                    ))),
                }
                out
            }
        }
    }
}
