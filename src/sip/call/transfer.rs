//! Transfers (RFC 3515, RFC 3891, RFC 5589) both ways: our REFER — blind, or attended
//! with the other call's `Replaces` — and the NOTIFYs that tell how it went; and the far
//! end's REFER that transfers us: accepted, notified while the user agent calls the
//! target, and our leg left once that call is answered.

use super::*;

/// A Refer-To value (`<sip:carol@pbx;transport=tcp?Replaces=…>` or a bare URI): the
/// SIP or SIPS target without its embedded headers, and the decoded Replaces header
/// when there is one. Other schemes (tel:, http:) are not called: `None`.
pub fn parse_refer_to(value: &str) -> Option<(String, Option<String>)> {
    let value = value.trim();
    let uri = match (value.find('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or_default().trim(),
    };
    let (target, headers) = uri.split_once('?').unwrap_or((uri, ""));
    let scheme = target.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
    if !(scheme == "sip" || scheme == "sips") {
        return None;
    }
    crate::sip::uri::parse(target).ok()?;
    let replaces = headers.split('&').find_map(|h| {
        let (name, v) = h.split_once('=')?;
        name.eq_ignore_ascii_case("replaces").then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    });
    Some((target.to_string(), replaces))
}

/// The status line of a `message/sipfrag` NOTIFY body.
pub(super) fn sipfrag_code(body: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?.strip_prefix("SIP/2.0 ")?;
    let (code, reason) = line.split_once(' ').unwrap_or((line, ""));
    Some((code.parse().ok()?, reason.trim().to_string()))
}

impl Call {
    /// Blind transfer: asks the far end to call `target` (REFER, RFC 3515). With
    /// `replaces` (the other call's Call-ID, to tag and from tag as seen from there), an
    /// attended transfer: the far end replaces that call with this one (RFC 3891).
    pub fn transfer(&mut self, now_ms: i64, target: &str, replaces: Option<(&str, &str, &str)>) -> Vec<CallOutput> {
        if !self.state.is_answered() || self.transfer.is_some() {
            return vec![];
        }
        let refer_to = match replaces {
            Some((call_id, to_tag, from_tag)) => {
                let escaped = crate::sip::uri::escape_header_value(&format!("{call_id};to-tag={to_tag};from-tag={from_tag}"));
                format!("<{target}?Replaces={escaped}>")
            }
            None => format!("<{target}>"),
        };
        self.transfer = Some(target.to_string());
        let extra = format!("Refer-To: {refer_to}\r\nReferred-By: <sip:{}@{}>\r\nContact: {}\r\n{}", self.account.user, self.account.domain, self.contact(), Self::user_agent());
        self.send_in_dialog(now_ms, "REFER", Purpose::Refer, &extra, None)
    }

    /// This dialog as the far end identifies it, for an attended transfer's Replaces
    /// (RFC 3891 §3: the to-tag is the recipient's local tag — our remote tag — and the
    /// from-tag its remote one — ours): (Call-ID, to-tag, from-tag).
    pub fn replaces_id(&self) -> Option<(String, String, String)> {
        Some((self.call_id.clone(), tag_of(&self.remote_party)?, tag_of(&self.local_party)?))
    }

    /// The far end transfers us (RFC 3515): accepted (202) in an answered call with a
    /// SIP target, then a NOTIFY of 100 Trying while we call the target.
    pub(super) fn on_refer(&mut self, now_ms: i64, msg: &Message) -> Vec<CallOutput> {
        if !self.state.is_answered() {
            return vec![CallOutput::Send(self.respond(msg, 603, "Decline", "", None))];
        }
        if self.referral.is_some() || self.transfer.is_some() {
            return vec![CallOutput::Send(self.respond(msg, 491, "Request Pending", "", None))];
        }
        let Some((target, replaces)) = msg.header("Refer-To").and_then(parse_refer_to) else {
            return vec![CallOutput::Send(self.respond(msg, 400, "Bad Refer-To", "", None))];
        };
        let referred_by = msg.header("Referred-By").map(str::to_string).unwrap_or_else(|| self.remote_party.split(';').next().unwrap_or_default().to_string());
        let mut headers = format!("Referred-By: {referred_by}\r\n");
        if let Some(r) = replaces {
            headers.push_str(&format!("Replaces: {r}\r\n"));
        }
        let contact = format!("Contact: {}\r\n", self.contact());
        let mut out = vec![CallOutput::Send(self.respond(msg, 202, "Accepted", &contact, None))];
        self.referral = Some(target.clone());
        out.extend(self.notify_referral(now_ms, 100, "Trying"));
        out.push(CallOutput::Referred { target, headers });
        out
    }

    pub(super) fn notify_referral(&mut self, now_ms: i64, code: u16, reason: &str) -> Vec<CallOutput> {
        let state = if code >= 200 { "terminated;reason=noresource" } else { "active;expires=60" };
        let extra = format!("Event: refer\r\nSubscription-State: {state}\r\nContact: {}\r\n{}", self.contact(), Self::user_agent());
        let body = format!("SIP/2.0 {code} {reason}\r\n");
        self.send_in_dialog(now_ms, "NOTIFY", Purpose::Notify, &extra, Some(("message/sipfrag;version=2.0", body.as_bytes())))
    }

    /// How the call the far end referred us to went: the final NOTIFY; on success this
    /// call has done its work and ends (BYE), on failure it goes on.
    pub fn referral_result(&mut self, now_ms: i64, code: u16, reason: &str) -> Vec<CallOutput> {
        let Some(target) = self.referral.take() else { return vec![] };
        if self.state.is_ended() {
            return vec![];
        }
        let mut out = self.notify_referral(now_ms, code, reason);
        if (200..300).contains(&code) {
            self.transferred_away = Some((target, now_ms + TRANSFEROR_BYE_WAIT_MS));
        } else {
            out.push(CallOutput::Notice(format!("The transfer to {target} failed ({code} {reason}); this call goes on.")));
        }
        out
    }

    pub(super) fn on_notify(&mut self, now_ms: i64, msg: &Message) -> Vec<CallOutput> {
        let ok = self.respond(msg, 200, "OK", "", None);
        let mut out = vec![CallOutput::Send(ok)];
        let is_refer = msg.header("Event").is_some_and(|e| e.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("refer"));
        if !is_refer || self.transfer.is_none() {
            return out;
        }
        match sipfrag_code(&msg.body) {
            Some((code, _)) if code < 200 => {}
            Some((code, _)) if code < 300 => {
                let target = self.transfer.take().unwrap_or_default();
                out.push(CallOutput::Transfer(TransferProgress::Succeeded));
                out.extend(self.bye(now_ms));
                out.extend(self.end(format!("transferred to {target}"), None));
            }
            Some((code, reason)) => {
                self.transfer = None;
                out.push(CallOutput::Transfer(TransferProgress::Failed { reason: format!("{code} {reason}") }));
            }
            None => {}
        }
        out
    }
}
