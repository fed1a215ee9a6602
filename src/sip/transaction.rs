//! The client non-INVITE transaction (RFC 3261 §17.1.2), without I/O: it says when
//! to (re)send the request and when the transaction is over, given the time and the
//! responses its driver feeds it. Over UDP the request is resent at T1, 2·T1, … up to
//! T2 until a response; Timer F (64·T1) ends it with a timeout. Over a reliable
//! transport nothing is resent.

/// How requests travel: over UDP the transaction layer resends; over a stream it
/// never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    /// SIP over WebSocket (RFC 7118), on TCP or on TLS (`Wss`).
    Ws,
    Wss,
}

impl Transport {
    /// As the Via header writes it.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// As a SIP URI's `transport=` parameter writes it.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            // RFC 7118 §5.2: one URI parameter for both; WSS is said by the Via.
            Transport::Ws | Transport::Wss => "ws",
        }
    }

    pub fn reliable(self) -> bool {
        self != Transport::Udp
    }
}

/// RFC 3261's default timer values (milliseconds).
pub const T1_MS: i64 = 500;
pub const T2_MS: i64 = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    /// Sent, no response yet.
    Trying,
    /// A provisional response came: still waiting, resending at T2.
    Proceeding,
    /// A final response came (or the timer ran out).
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOutcome {
    /// The final response's status code.
    Final(u16),
    /// Timer F fired: no final response in 64·T1.
    Timeout,
}

#[derive(Debug, Clone)]
pub struct ClientTransaction {
    pub branch: String,
    request: Vec<u8>,
    reliable: bool,
    state: TxState,
    interval: i64,
    next_send_at: Option<i64>,
    deadline: i64,
    outcome: Option<TxOutcome>,
}

impl ClientTransaction {
    /// A transaction whose request is sent now (the caller sends `request()` once).
    pub fn new(branch: String, request: Vec<u8>, reliable: bool, now_ms: i64) -> ClientTransaction {
        ClientTransaction {
            branch,
            request,
            reliable,
            state: TxState::Trying,
            interval: T1_MS,
            next_send_at: (!reliable).then_some(now_ms + T1_MS),
            deadline: now_ms + 64 * T1_MS,
            outcome: None,
        }
    }

    pub fn request(&self) -> &[u8] {
        &self.request
    }

    pub fn state(&self) -> TxState {
        self.state
    }

    pub fn outcome(&self) -> Option<&TxOutcome> {
        self.outcome.as_ref()
    }

    /// When the driver must call [`on_timer`](Self::on_timer) next.
    pub fn next_wakeup(&self) -> Option<i64> {
        if self.state == TxState::Done {
            return None;
        }
        Some(self.next_send_at.map_or(self.deadline, |n| n.min(self.deadline)))
    }

    /// Returns the bytes to resend, if a retransmission is due.
    pub fn on_timer(&mut self, now_ms: i64) -> Option<&[u8]> {
        if self.state == TxState::Done {
            return None;
        }
        if now_ms >= self.deadline {
            self.state = TxState::Done;
            self.outcome = Some(TxOutcome::Timeout);
            return None;
        }
        match self.next_send_at {
            Some(at) if now_ms >= at => {
                self.interval = match self.state {
                    TxState::Proceeding => T2_MS,
                    _ => (self.interval * 2).min(T2_MS),
                };
                self.next_send_at = Some(now_ms + self.interval);
                Some(&self.request)
            }
            _ => None,
        }
    }

    /// A response matched to this transaction (by the Via branch and CSeq method).
    pub fn on_response(&mut self, code: u16, now_ms: i64) {
        if self.state == TxState::Done {
            return;
        }
        if code < 200 {
            self.state = TxState::Proceeding;
            if !self.reliable {
                self.next_send_at = Some(now_ms + T2_MS);
            }
        } else {
            self.state = TxState::Done;
            self.outcome = Some(TxOutcome::Final(code));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_requests_are_resent_at_doubling_intervals_up_to_t2_then_time_out() {
        let mut tx = ClientTransaction::new("z9hG4bK1".into(), b"REGISTER".to_vec(), false, 0);
        let mut sent_at = Vec::new();
        let mut now = 0;
        while let Some(at) = tx.next_wakeup() {
            now = at;
            if tx.on_timer(now).is_some() {
                sent_at.push(now);
            }
        }
        assert_eq!(&sent_at[..5], &[500, 1_500, 3_500, 7_500, 11_500], "T1, then doubling, capped at T2 = 4 s");
        assert_eq!(now, 32_000, "Timer F = 64·T1");
        assert_eq!(tx.outcome(), Some(&TxOutcome::Timeout));
    }

    #[test]
    fn a_provisional_response_slows_resends_and_a_final_one_ends_it() {
        let mut tx = ClientTransaction::new("b".into(), vec![], false, 0);
        tx.on_response(100, 100);
        assert_eq!(tx.state(), TxState::Proceeding);
        assert_eq!(tx.next_wakeup(), Some(4_100), "after a 1xx, resend every T2");
        tx.on_response(200, 200);
        assert_eq!(tx.outcome(), Some(&TxOutcome::Final(200)));
        assert_eq!(tx.next_wakeup(), None);
    }

    #[test]
    fn reliable_transports_never_resend() {
        let mut tx = ClientTransaction::new("b".into(), vec![], true, 0);
        assert_eq!(tx.next_wakeup(), Some(32_000));
        assert!(tx.on_timer(10_000).is_none());
    }
}
