//! SDP (RFC 8866) as calls use it: parsing a session description into its origin,
//! connection, media sections, formats and attributes; writing one back. The
//! offer/answer (RFC 3264) is in `sdp/negotiation.rs`. Unknown lines are kept, never fatal;
//! what a call cannot work without (an audio port, an address) is an error that
//! names the line.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

/// Largest description accepted: SDP for one audio call is a few hundred bytes.
pub const MAX_SDP_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sdp {
    pub origin: Origin,
    pub session_name: String,
    pub connection: Option<IpAddr>,
    /// Session-level `a=` lines (name, value).
    pub attributes: Vec<(String, Option<String>)>,
    pub media: Vec<Media>,
    /// Lines kept as they were (b=, t=, i=…), for writing back.
    pub other: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub version: u64,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// `audio`, `video`…
    pub kind: String,
    /// 0 = the stream is refused or removed.
    pub port: u16,
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`…
    pub proto: String,
    /// Payload types, in the sender's order of preference.
    pub formats: Vec<String>,
    pub connection: Option<IpAddr>,
    pub attributes: Vec<(String, Option<String>)>,
    pub other: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// What an answerer says to this offered direction (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("the session description is empty")]
    Empty,
    #[error("the session description is larger than 64 KiB")]
    TooLarge,
    #[error("the session description is not UTF-8")]
    NotText,
    #[error("SDP line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("the session description has no {0} line")]
    Missing(&'static str),
}

fn attr<'a>(list: &'a [(String, Option<String>)], name: &str) -> Option<Option<&'a str>> {
    list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
}

impl Media {
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        attr(&self.attributes, name)
    }

    /// `a=rtpmap:PT name/rate[/channels]` for a payload type, or the static one.
    pub fn rtpmap(&self, pt: &str) -> Option<(String, u32)> {
        for (n, v) in &self.attributes {
            if !n.eq_ignore_ascii_case("rtpmap") {
                continue;
            }
            let Some(v) = v else { continue };
            let (p, rest) = v.split_once(' ')?;
            if p == pt {
                let mut parts = rest.trim().split('/');
                let name = parts.next()?.to_string();
                let rate = parts.next()?.parse().ok()?;
                return Some((name, rate));
            }
        }
        match pt {
            "0" => Some(("PCMU".into(), 8_000)),
            "8" => Some(("PCMA".into(), 8_000)),
            "9" => Some(("G722".into(), 8_000)),
            _ => None,
        }
    }

    /// The media section's direction attribute, else the session's, else sendrecv.
    pub fn direction(&self, session: &Sdp) -> Direction {
        let find = |list: &[(String, Option<String>)]| {
            list.iter().find_map(|(n, _)| match n.as_str() {
                "sendrecv" => Some(Direction::SendRecv),
                "sendonly" => Some(Direction::SendOnly),
                "recvonly" => Some(Direction::RecvOnly),
                "inactive" => Some(Direction::Inactive),
                _ => None,
            })
        };
        find(&self.attributes).or_else(|| find(&session.attributes)).unwrap_or(Direction::SendRecv)
    }
}

fn parse_addr(value: &str, line: usize) -> Result<IpAddr, SdpError> {
    // c=IN IP4 192.0.2.1[/ttl]
    let mut parts = value.split_whitespace();
    let (Some("IN"), Some(kind), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SdpError::Line { line, reason: format!("c={value} is not \u{201c}IN IP4|IP6 address\u{201d}") });
    };
    let addr = addr.split('/').next().unwrap_or_default();
    let ip: IpAddr = addr.parse().map_err(|_| SdpError::Line { line, reason: format!("{addr} is not an IP address (host names are not supported here)") })?;
    if (kind == "IP4") != ip.is_ipv4() {
        return Err(SdpError::Line { line, reason: format!("{addr} is not an {kind} address") });
    }
    Ok(ip)
}

fn parse_attr(value: &str) -> (String, Option<String>) {
    match value.split_once(':') {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => (value.to_string(), None),
    }
}

impl Sdp {
    pub fn parse(body: &[u8]) -> Result<Sdp, SdpError> {
        if body.len() > MAX_SDP_BYTES {
            return Err(SdpError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| SdpError::NotText)?;
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate().filter(|(_, l)| !l.is_empty());
        let Some((_, first)) = lines.next() else { return Err(SdpError::Empty) };
        if first != "v=0" {
            return Err(SdpError::Line { line: 1, reason: format!("the first line must be v=0, not \u{201c}{}\u{201d}", first.chars().take(40).collect::<String>()) });
        }
        let mut origin = None;
        let mut session_name = None;
        let mut sdp = Sdp {
            origin: Origin { username: String::new(), session_id: String::new(), version: 0, address: String::new() },
            session_name: String::new(),
            connection: None,
            attributes: vec![],
            media: vec![],
            other: vec![],
        };
        for (i, line) in lines {
            let n = i + 1;
            let bytes = line.as_bytes();
            if bytes.len() < 2 || bytes[1] != b'=' || !bytes[0].is_ascii_lowercase() {
                return Err(SdpError::Line { line: n, reason: format!("\u{201c}{}\u{201d} is not type=value", line.chars().take(40).collect::<String>()) });
            }
            let (kind, value) = (bytes[0] as char, &line[2..]);
            match kind {
                'o' => {
                    let p: Vec<&str> = value.split_whitespace().collect();
                    if p.len() != 6 {
                        return Err(SdpError::Line { line: n, reason: "o= needs six fields".into() });
                    }
                    let version = p[2].parse().map_err(|_| SdpError::Line { line: n, reason: format!("session version {} is not a number", p[2]) })?;
                    origin = Some(Origin { username: p[0].into(), session_id: p[1].into(), version, address: p[5].into() });
                }
                's' => session_name = Some(value.to_string()),
                'c' => {
                    let ip = parse_addr(value, n)?;
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = Some(ip),
                        None => sdp.connection = Some(ip),
                    }
                }
                'm' => {
                    let p: Vec<&str> = value.split_whitespace().collect();
                    if p.len() < 3 {
                        return Err(SdpError::Line { line: n, reason: "m= needs media, port, protocol and formats".into() });
                    }
                    let port_text = p[1].split('/').next().unwrap_or_default();
                    let port = port_text.parse().map_err(|_| SdpError::Line { line: n, reason: format!("port {} is not a number 0–65535", p[1]) })?;
                    sdp.media.push(Media {
                        kind: p[0].into(),
                        port,
                        proto: p[2].into(),
                        formats: p[3..].iter().map(|s| s.to_string()).collect(),
                        connection: None,
                        attributes: vec![],
                        other: vec![],
                    });
                }
                'a' => {
                    let a = parse_attr(value);
                    match sdp.media.last_mut() {
                        Some(m) => m.attributes.push(a),
                        None => sdp.attributes.push(a),
                    }
                }
                _ => match sdp.media.last_mut() {
                    Some(m) => m.other.push(line.to_string()),
                    None => sdp.other.push(line.to_string()),
                },
            }
        }
        sdp.origin = origin.ok_or(SdpError::Missing("o="))?;
        sdp.session_name = session_name.ok_or(SdpError::Missing("s="))?;
        Ok(sdp)
    }

    /// The first audio section that is not refused.
    pub fn audio(&self) -> Option<&Media> {
        self.media.iter().find(|m| m.kind == "audio" && m.port != 0)
    }

    /// Where to send a media section's RTP.
    pub fn address_of(&self, media: &Media) -> Option<IpAddr> {
        media.connection.or(self.connection)
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let ip = |a: &IpAddr| if a.is_ipv4() { format!("IN IP4 {a}") } else { format!("IN IP6 {a}") };
        let _ = write!(s, "v=0\r\no={} {} {} IN {} {}\r\ns={}\r\n", self.origin.username, self.origin.session_id, self.origin.version, if self.origin.address.contains(':') { "IP6" } else { "IP4" }, self.origin.address, self.session_name);
        if let Some(c) = &self.connection {
            let _ = write!(s, "c={}\r\n", ip(c));
        }
        for o in &self.other {
            let _ = write!(s, "{o}\r\n");
        }
        if !self.other.iter().any(|o| o.starts_with("t=")) {
            s.push_str("t=0 0\r\n");
        }
        let attrs = |s: &mut String, list: &[(String, Option<String>)]| {
            for (n, v) in list {
                match v {
                    Some(v) => {
                        let _ = write!(s, "a={n}:{v}\r\n");
                    }
                    None => {
                        let _ = write!(s, "a={n}\r\n");
                    }
                }
            }
        };
        attrs(&mut s, &self.attributes);
        for m in &self.media {
            let _ = write!(s, "m={} {} {} {}\r\n", m.kind, m.port, m.proto, m.formats.join(" "));
            if let Some(c) = &m.connection {
                let _ = write!(s, "c={}\r\n", ip(c));
            }
            for o in &m.other {
                let _ = write!(s, "{o}\r\n");
            }
            attrs(&mut s, &m.attributes);
        }
        s
    }
}

impl Direction {
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn from_flags(send: bool, receive: bool) -> Direction {
        match (send, receive) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }
}

mod negotiation;
pub use negotiation::*;

#[cfg(test)]
mod tests {
    use super::*;

    const BARESIP: &str = "v=0\r\no=- 1234 5678 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 10000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n";

    #[test]
    fn the_remote_order_decides_and_telephone_events_are_found() {
        let sdp = Sdp::parse(BARESIP.as_bytes()).unwrap();
        let n = negotiate(&sdp, &[PCMU, PCMA]).unwrap();
        assert_eq!((n.codec.as_str(), n.payload_type), ("PCMA", 8), "the offerer prefers PCMA");
        assert_eq!(n.telephone_event, Some(101));
        assert_eq!(n.remote, Some("127.0.0.1:10000".parse().unwrap()));
        assert_eq!(n.direction, Direction::SendRecv);
    }

    #[test]
    fn an_offer_round_trips_through_text() {
        let o = offer("192.0.2.7".parse().unwrap(), 40_000, 42, &[PCMU, PCMA], Direction::SendRecv);
        let again = Sdp::parse(o.to_text().as_bytes()).unwrap();
        assert_eq!(again.audio().unwrap().formats, ["0", "8", "101"]);
        assert_eq!(again.audio().unwrap().port, 40_000);
        assert_eq!(again.connection, Some("192.0.2.7".parse().unwrap()));
    }

    #[test]
    fn broken_descriptions_name_the_line() {
        assert!(matches!(Sdp::parse(b"o=x"), Err(SdpError::Line { line: 1, .. })));
        assert!(matches!(Sdp::parse(b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 99999 RTP/AVP 0\r\n"), Err(SdpError::Line { line: 4, .. })));
        assert!(matches!(Sdp::parse(b"v=0\r\ns=-\r\n"), Err(SdpError::Missing("o="))));
        let no_common = Sdp::parse(BARESIP.replace("8 0 101", "18 101").as_bytes()).unwrap();
        assert!(negotiate(&no_common, &[PCMU]).unwrap_err().contains("no common codec"));
    }

    #[test]
    fn answers_follow_the_offer_and_our_hold() {
        let mut agent = SdpAgent::new("127.0.0.1".parse().unwrap(), 4_000, 7, &[PCMU, PCMA]);
        let (body, n) = agent.answer(BARESIP.as_bytes(), Direction::SendRecv).unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("m=audio 4000 RTP/AVP 8 101\r\n"), "{text}");
        assert!(text.contains("a=sendrecv"), "{text}");
        assert_eq!(n.direction, Direction::SendRecv);
        // They put us on hold (sendonly): we answer recvonly; both holding: inactive.
        let held = BARESIP.replace("a=sendrecv", "a=sendonly");
        let (body, n) = agent.answer(held.as_bytes(), Direction::SendRecv).unwrap();
        assert!(String::from_utf8(body).unwrap().contains("a=recvonly"));
        assert_eq!(n.direction, Direction::RecvOnly);
        let (body, _) = agent.answer(held.as_bytes(), Direction::SendOnly).unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("a=inactive"), "{text}");
        assert!(text.contains("o=ringside 7 9 IN IP4"), "the version went up with each answer: {text}");
        let offer = String::from_utf8(agent.offer(Direction::SendOnly)).unwrap();
        assert!(offer.contains("o=ringside 7 10 ") && offer.contains("a=sendonly"), "{offer}");
        // Our hold offer answered recvonly: we send, we do not receive.
        let answer = BARESIP.replace("a=sendrecv", "a=recvonly");
        assert_eq!(agent.accept_answer(answer.as_bytes(), Direction::SendOnly).unwrap().direction, Direction::SendOnly);
        assert!(agent.answer(b"v=0\r\n", Direction::SendRecv).is_err());
    }
}
