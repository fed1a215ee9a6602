//! ICE-lite (RFC 8445 §2.5): enough ICE for a peer that insists on connectivity
//! checks (WebRTC platforms, a PBX with ICE on) to reach us. We announce our host
//! candidates with `a=ice-lite`, answer the far end's STUN Binding requests on the
//! media ports (short-term credentials, RFC 8489), and send media to the address of
//! the pair it nominated (`USE-CANDIDATE`). We never send checks ourselves, so the
//! full agent on the other side does the work; behind a NAT with no host route this
//! is not enough (that needs full ICE with STUN/TURN servers, not done).

use std::net::SocketAddr;

use rand::distr::{Alphanumeric, SampleString};
use rtc_stun::attributes::{ATTR_USERNAME, ATTR_USE_CANDIDATE};
use rtc_stun::fingerprint::FINGERPRINT;
use rtc_stun::integrity::MessageIntegrity;
use rtc_stun::message::{Message, Setter, BINDING_REQUEST, BINDING_SUCCESS};
use rtc_stun::xoraddr::XorMappedAddress;
use serde::Serialize;

/// Our ICE user fragment and password for one call (RFC 8445 §5.3: at least 4 and 22
/// characters of ice-chars).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCredentials {
    pub ufrag: String,
    pub pwd: String,
}

impl IceCredentials {
    pub fn new() -> IceCredentials {
        let mut rng = rand::rng();
        IceCredentials { ufrag: Alphanumeric.sample_string(&mut rng, 8), pwd: Alphanumeric.sample_string(&mut rng, 24) }
    }
}

impl Default for IceCredentials {
    fn default() -> Self {
        IceCredentials::new()
    }
}

/// The far end's side, from its SDP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteIce {
    pub ufrag: String,
    #[serde(skip)]
    pub pwd: String,
}

/// STUN, not RTP/RTCP/DTLS (RFC 7983: first byte 0–3).
pub fn is_stun(first_byte: u8) -> bool {
    first_byte < 4
}

/// Our media attributes: credentials and a host candidate per component (RTP, and
/// RTCP unless multiplexed).
pub fn attributes(creds: &IceCredentials, address: std::net::IpAddr, rtp_port: u16, rtcp_port: Option<u16>) -> Vec<(String, Option<String>)> {
    let mut out = vec![("ice-ufrag".to_string(), Some(creds.ufrag.clone())), ("ice-pwd".to_string(), Some(creds.pwd.clone()))];
    // Priority for a host candidate (RFC 8445 §5.1.2.1): type preference 126, local
    // preference 65535, component 1 or 2.
    let priority = |component: u32| (126u32 << 24) | (65_535 << 8) | (256 - component);
    out.push(("candidate".into(), Some(format!("1 1 UDP {} {address} {rtp_port} typ host", priority(1)))));
    if let Some(p) = rtcp_port {
        out.push(("candidate".into(), Some(format!("1 2 UDP {} {address} {p} typ host", priority(2)))));
    }
    out
}

/// What a STUN packet on a media port asks of us.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// A valid check: send `response` back to where it came from; `nominated` when it
    /// carries USE-CANDIDATE (media goes there from now on).
    Answer { response: Vec<u8>, nominated: bool },
    /// Not for us (wrong user, bad integrity, not a request): dropped.
    Refused(String),
}

/// Answers the far end's Binding request from `from`.
pub fn answer(packet: &[u8], from: SocketAddr, ours: &IceCredentials) -> Check {
    let mut m = Message::new();
    if let Err(e) = m.unmarshal_binary(packet) {
        return Check::Refused(format!("not STUN: {e}"));
    }
    if m.typ != BINDING_REQUEST {
        return Check::Refused(format!("not a binding request: {}", m.typ));
    }
    let user = match m.get(ATTR_USERNAME) {
        Ok(u) => String::from_utf8_lossy(&u).to_string(),
        Err(_) => return Check::Refused("no USERNAME".into()),
    };
    // USERNAME is "our ufrag:their ufrag" on checks sent to us.
    if user.split(':').next() != Some(ours.ufrag.as_str()) {
        return Check::Refused(format!("for another user ({user})"));
    }
    let provider = rtc_crypto::providers::AwsLcRsProvider::new();
    let crypto = rtc_crypto::RTCCryptoProvider::crypto(&provider);
    if let Err(e) = MessageIntegrity::check(&mut m, ours.pwd.as_bytes(), crypto) {
        return Check::Refused(format!("bad integrity: {e}"));
    }
    let nominated = m.contains(ATTR_USE_CANDIDATE);
    let mut reply = Message::new();
    let integrity = MessageIntegrity::new_short_term_integrity_with_provider(ours.pwd.clone(), crypto);
    let mapped = XorMappedAddress { ip: from.ip(), port: from.port() };
    let setters: Vec<Box<dyn Setter>> = vec![Box::new(m.clone()), Box::new(BINDING_SUCCESS), Box::new(mapped), Box::new(integrity), Box::new(FINGERPRINT)];
    match reply.build(&setters) {
        Ok(()) => Check::Answer { response: reply.raw, nominated },
        Err(e) => Check::Refused(format!("no answer could be built: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc_stun::message::TransactionId;
    use rtc_stun::textattrs::TextAttribute;

    fn request(user: &str, pwd: &str, nominate: bool) -> Vec<u8> {
        let provider = rtc_crypto::providers::AwsLcRsProvider::new();
        let crypto = rtc_crypto::RTCCryptoProvider::crypto(&provider);
        let mut m = Message::new();
        let mut setters: Vec<Box<dyn Setter>> = vec![Box::new(BINDING_REQUEST), Box::new(TransactionId::new()), Box::new(TextAttribute::new(ATTR_USERNAME, user.into()))];
        if nominate {
            setters.push(Box::new(rtc_stun::attributes::RawAttribute { typ: ATTR_USE_CANDIDATE, length: 0, value: vec![] }));
        }
        setters.push(Box::new(MessageIntegrity::new_short_term_integrity_with_provider(pwd.into(), crypto)));
        setters.push(Box::new(FINGERPRINT));
        m.build(&setters).unwrap();
        m.raw
    }

    #[test]
    fn checks_with_our_credentials_are_answered_and_others_refused() {
        let ours = IceCredentials::new();
        assert!(ours.ufrag.len() == 8 && ours.pwd.len() == 24);
        let from: SocketAddr = "192.0.2.9:5004".parse().unwrap();
        let good = request(&format!("{}:theirs", ours.ufrag), &ours.pwd, true);
        assert!(is_stun(good[0]));
        let Check::Answer { response, nominated } = answer(&good, from, &ours) else { panic!("answered") };
        assert!(nominated);
        let mut r = Message::new();
        r.unmarshal_binary(&response).unwrap();
        assert_eq!(r.typ, BINDING_SUCCESS);
        let mut mapped = XorMappedAddress { ip: "0.0.0.0".parse().unwrap(), port: 0 };
        mapped.get_from_as(&r, rtc_stun::attributes::ATTR_XORMAPPED_ADDRESS).unwrap();
        assert_eq!(SocketAddr::new(mapped.ip, mapped.port), from, "the far end learns how it reached us");
        assert!(matches!(answer(&request(&format!("{}:theirs", ours.ufrag), &ours.pwd, false), from, &ours), Check::Answer { nominated: false, .. }));
        assert!(matches!(answer(&request("someone:else", &ours.pwd, true), from, &ours), Check::Refused(_)));
        assert!(matches!(answer(&request(&format!("{}:theirs", ours.ufrag), "wrong-password-1234567890", true), from, &ours), Check::Refused(_)));
        assert!(matches!(answer(&[0, 1, 0, 0, 1, 2], from, &ours), Check::Refused(_)));
        let attrs = attributes(&ours, "192.0.2.1".parse().unwrap(), 40_000, Some(40_001));
        assert!(attrs.iter().any(|(n, v)| n == "candidate" && v.as_deref() == Some("1 1 UDP 2130706431 192.0.2.1 40000 typ host")));
    }
}
