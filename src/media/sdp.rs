//! SDP (RFC 8866) as calls use it: parsing a session description into its origin,
//! connection, media sections, formats and attributes; writing one back; and the
//! offer/answer choice of codec (RFC 3264). Unknown lines are kept, never fatal;
//! what a call cannot work without (an audio port, an address) is an error that
//! names the line.

use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use super::{dtls, ice};
use super::srtp::{self, SdesKeys, SrtpMode};

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

/// A codec this side can use: name, clock rate and channels as SDP writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    pub name: &'static str,
    pub rate: u32,
    /// The static payload type, when the codec has one.
    pub static_pt: Option<u8>,
    /// `/2` in the rtpmap (Opus is always written as stereo, RFC 7587 §7).
    pub channels: Option<u8>,
    /// Our `a=fmtp` parameters for it.
    pub fmtp: Option<&'static str>,
}

/// Opus with in-band FEC asked for; DTX is left to the far end's choice.
pub const OPUS: Codec = Codec { name: "opus", rate: 48_000, static_pt: None, channels: Some(2), fmtp: Some("minptime=10;useinbandfec=1") };
pub const G722: Codec = Codec { name: "G722", rate: 8_000, static_pt: Some(9), channels: None, fmtp: None };
pub const PCMU: Codec = Codec { name: "PCMU", rate: 8_000, static_pt: Some(0), channels: None, fmtp: None };
pub const PCMA: Codec = Codec { name: "PCMA", rate: 8_000, static_pt: Some(8), channels: None, fmtp: None };
/// Every codec, in our order of preference: Opus, then G.722, then G.711.
pub const ALL_CODECS: [Codec; 4] = [OPUS, G722, PCMU, PCMA];

impl Codec {
    fn rtpmap(&self, pt: u8) -> String {
        match self.channels {
            Some(ch) => format!("{pt} {}/{}/{ch}", self.name, self.rate),
            None => format!("{pt} {}/{}", self.name, self.rate),
        }
    }
}

/// How the call's media is secured, and our SDES master key (the same for the whole
/// call; a re-INVITE offers it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Security {
    pub srtp: SrtpMode,
    pub key: [u8; 30],
}

impl Default for Security {
    fn default() -> Self {
        Security { srtp: SrtpMode::Off, key: srtp::new_key() }
    }
}

/// An audio offer from `address:port` with `codecs` in our order, plus
/// telephone-event (RFC 4733) on payload type 101.
pub fn offer(address: IpAddr, port: u16, session_id: u64, codecs: &[Codec], direction: Direction) -> Sdp {
    offer_secured(address, port, session_id, codecs, direction, &Security { srtp: SrtpMode::Off, key: [0; 30] }, None)
}

fn offer_secured(address: IpAddr, port: u16, session_id: u64, codecs: &[Codec], direction: Direction, security: &Security, ice_creds: Option<&ice::IceCredentials>) -> Sdp {
    let mut formats: Vec<String> = Vec::new();
    let mut attributes = Vec::new();
    let mut dynamic = 96u8;
    let mut fmtps = Vec::new();
    for c in codecs {
        let pt = c.static_pt.unwrap_or_else(|| {
            dynamic += 1;
            dynamic - 1
        });
        formats.push(pt.to_string());
        attributes.push(("rtpmap".to_string(), Some(c.rtpmap(pt))));
        if let Some(f) = c.fmtp {
            fmtps.push(("fmtp".to_string(), Some(format!("{pt} {f}"))));
        }
    }
    attributes.extend(fmtps);
    formats.push("101".into());
    attributes.push(("rtpmap".into(), Some("101 telephone-event/8000".into())));
    attributes.push(("fmtp".into(), Some("101 0-16".into())));
    attributes.push(("ptime".into(), Some("20".into())));
    attributes.push(("rtcp".into(), Some(port.wrapping_add(1).to_string())));
    attributes.push(("rtcp-mux".into(), None));
    match security.srtp {
        SrtpMode::Off => {}
        SrtpMode::Optional | SrtpMode::Required => attributes.extend(srtp::offer_lines(&security.key).into_iter().map(|l| ("crypto".to_string(), Some(l)))),
        SrtpMode::Dtls => {
            if let Ok(id) = dtls::identity() {
                attributes.push(("fingerprint".into(), Some(format!("sha-256 {}", id.fingerprint))));
            }
            attributes.push(("setup".into(), Some("actpass".into())));
        }
    }
    if let Some(creds) = ice_creds {
        attributes.extend(ice::attributes(creds, address, port, Some(port.wrapping_add(1))));
    }
    attributes.push((direction.attr().to_string(), None));
    let proto = match security.srtp {
        SrtpMode::Off | SrtpMode::Optional => "RTP/AVP",
        SrtpMode::Required => "RTP/SAVP",
        SrtpMode::Dtls => "UDP/TLS/RTP/SAVP",
    };
    Sdp {
        origin: Origin { username: "ringside".into(), session_id: session_id.to_string(), version: session_id, address: address.to_string() },
        session_name: "Ringside call".into(),
        connection: Some(address),
        attributes: if ice_creds.is_some() { vec![("ice-lite".into(), None)] } else { vec![] },
        media: vec![Media { kind: "audio".into(), port, proto: proto.into(), formats, connection: None, attributes, other: vec![] }],
        other: vec!["t=0 0".into()],
    }
}

/// What both sides agreed on for audio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Negotiated {
    pub codec: String,
    pub payload_type: u8,
    pub rate: u32,
    /// The far end's `a=fmtp` for the codec (Opus: useinbandfec, usedtx…).
    pub fmtp: Option<String>,
    /// RFC 4733 events, when the other side takes them.
    pub telephone_event: Option<u8>,
    pub remote: Option<std::net::SocketAddr>,
    /// Where RTCP goes: `a=rtcp`, else the RTP port + 1; the RTP address with rtcp-mux.
    pub remote_rtcp: Option<std::net::SocketAddr>,
    pub rtcp_mux: bool,
    pub direction: Direction,
    /// SDES keys when the media is SRTP.
    pub srtp: Option<SdesKeys>,
    /// The handshake to run when the media is DTLS-SRTP (keys come from it).
    pub dtls: Option<dtls::DtlsSetup>,
    /// ICE-lite: our credentials and the far end's, when it does ICE.
    pub ice: Option<IceSetup>,
}

/// Both sides' ICE credentials for one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IceSetup {
    #[serde(skip)]
    pub ours: ice::IceCredentials,
    pub remote: ice::RemoteIce,
}

/// The far end's ICE credentials (media level, else session level).
fn remote_ice(remote: &Sdp, media: &Media) -> Option<ice::RemoteIce> {
    let ufrag = media_or_session(remote, media, "ice-ufrag")?.trim().to_string();
    let pwd = media_or_session(remote, media, "ice-pwd")?.trim().to_string();
    Some(ice::RemoteIce { ufrag, pwd })
}

/// Picks the codec of `remote` (an offer or an answer) that we support, in the remote's
/// order of preference (RFC 3264 §6.1), and where to send. Keys are left to the caller.
pub fn negotiate(remote: &Sdp, supported: &[Codec]) -> Result<Negotiated, String> {
    let audio = remote.audio().ok_or("the other side offers no audio")?;
    match audio.proto.as_str() {
        "RTP/AVP" | "RTP/AVPF" | "RTP/SAVP" | "RTP/SAVPF" => {}
        "UDP/TLS/RTP/SAVP" | "UDP/TLS/RTP/SAVPF" => {}
        p if p.contains("TLS") => return Err(format!("the other side wants DTLS-SRTP over {p}, which this call cannot use")),
        p => return Err(format!("the other side wants {p} media, which this call cannot use")),
    }
    let mut chosen = None;
    let mut telephone_event = None;
    for pt in &audio.formats {
        let Some((name, rate)) = audio.rtpmap(pt) else { continue };
        let Ok(pt_num) = pt.parse::<u8>() else { continue };
        if name.eq_ignore_ascii_case("telephone-event") && rate == 8_000 {
            telephone_event.get_or_insert(pt_num);
            continue;
        }
        if chosen.is_none() && supported.iter().any(|c| c.name.eq_ignore_ascii_case(&name) && c.rate == rate) {
            chosen = Some((name, pt_num, rate));
        }
    }
    let (codec, payload_type, rate) = chosen.ok_or_else(|| {
        format!("no common codec: the other side offers {}", audio.formats.iter().filter_map(|pt| audio.rtpmap(pt).map(|(n, _)| n)).collect::<Vec<_>>().join(", "))
    })?;
    let fmtp = audio.attributes.iter().filter(|(n, _)| n.eq_ignore_ascii_case("fmtp")).filter_map(|(_, v)| v.as_deref()).find_map(|v| v.split_once(' ').filter(|(p, _)| *p == payload_type.to_string()).map(|(_, f)| f.trim().to_string()));
    let ip = remote.address_of(audio);
    let remote_addr = ip.map(|ip| std::net::SocketAddr::new(ip, audio.port));
    let rtcp_mux = audio.attribute("rtcp-mux").is_some();
    // a=rtcp:PORT [IN IP4 addr] (RFC 3605).
    let rtcp_port = audio.attribute("rtcp").flatten().and_then(|v| v.split_whitespace().next()?.parse::<u16>().ok());
    let remote_rtcp = ip.map(|ip| std::net::SocketAddr::new(ip, if rtcp_mux { audio.port } else { rtcp_port.unwrap_or(audio.port.wrapping_add(1)) }));
    Ok(Negotiated { codec, payload_type, rate, fmtp, telephone_event, remote: remote_addr, remote_rtcp, rtcp_mux, direction: audio.direction(remote), srtp: None, dtls: None, ice: None })
}

/// An attribute of the media, else of the session (where some put `a=fingerprint`
/// and `a=setup`).
fn media_or_session<'a>(remote: &'a Sdp, media: &'a Media, name: &str) -> Option<&'a str> {
    media.attribute(name).flatten().or_else(|| remote.attributes.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_deref()))
}

/// The far end's DTLS fingerprint when its profile is DTLS-SRTP.
fn dtls_fingerprint(remote: &Sdp, media: &Media) -> Result<Option<Vec<u8>>, String> {
    if !media.proto.contains("TLS") {
        return Ok(None);
    }
    let value = media_or_session(remote, media, "fingerprint");
    match value.map(dtls::parse_fingerprint) {
        Some(Some(fp)) => Ok(Some(fp)),
        Some(None) => Err("the other side's DTLS fingerprint is not a SHA-256 one this call can check".into()),
        None => Err("the other side wants DTLS-SRTP but sent no fingerprint".into()),
    }
}

/// The far end's crypto lines we can use, in its order.
fn crypto_offers(media: &Media) -> Vec<(u32, &'static str, [u8; 30])> {
    media.attributes.iter().filter(|(n, _)| n.eq_ignore_ascii_case("crypto")).filter_map(|(_, v)| v.as_deref().and_then(srtp::parse_line)).collect()
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

/// One call's side of the offer/answer exchange (RFC 3264): our address, RTP port and
/// codecs, the session id and a version that goes up with every new description.
#[derive(Debug, Clone)]
pub struct SdpAgent {
    address: IpAddr,
    port: u16,
    session_id: u64,
    version: u64,
    codecs: Vec<Codec>,
    security: Security,
    /// Our ICE-lite credentials, the same for the whole call.
    ice: ice::IceCredentials,
}

impl SdpAgent {
    pub fn new(address: IpAddr, port: u16, session_id: u64, codecs: &[Codec]) -> SdpAgent {
        SdpAgent { address, port, session_id, version: session_id, codecs: codecs.to_vec(), security: Security::default(), ice: ice::IceCredentials::new() }
    }

    /// What SRTP this side offers and insists on.
    pub fn with_security(mut self, security: Security) -> SdpAgent {
        self.security = security;
        self
    }

    pub fn codecs(&self) -> &[Codec] {
        &self.codecs
    }

    /// A new offer; `direction` is what we want (sendonly puts the other side on hold).
    pub fn offer(&mut self, direction: Direction) -> Vec<u8> {
        let mut sdp = offer_secured(self.address, self.port, self.session_id, &self.codecs, direction, &self.security, Some(&self.ice));
        sdp.origin.version = self.version;
        self.version += 1;
        sdp.to_text().into_bytes()
    }

    /// Answers `remote_offer`: the offerer's first codec we support, its telephone-event
    /// payload type, and a direction that is both what the offer allows and what we
    /// want (`ours`). Err → 488 Not Acceptable Here, with the reason.
    pub fn answer(&mut self, remote_offer: &[u8], ours: Direction) -> Result<(Vec<u8>, Negotiated), String> {
        let remote = Sdp::parse(remote_offer).map_err(|e| e.to_string())?;
        let mut n = negotiate(&remote, &self.codecs)?;
        let audio = remote.audio().ok_or("the other side offers no audio")?;
        let secure_profile = audio.proto.contains("SAVP");
        let offered = crypto_offers(audio);
        let fingerprint = dtls_fingerprint(&remote, audio)?;
        let ours_fingerprint = match &fingerprint {
            Some(_) => Some(dtls::identity()?.fingerprint.clone()),
            None => None,
        };
        n.dtls = fingerprint.map(|fingerprint| dtls::DtlsSetup { client: dtls::answer_role(media_or_session(&remote, audio, "setup")), fingerprint });
        n.srtp = match offered.first() {
            _ if n.dtls.is_some() => None,
            Some(&(tag, suite, remote_key)) => Some(SdesKeys { suite, tag, local: self.security.key, remote: remote_key }),
            None if secure_profile => return Err("the other side wants SRTP with no crypto suite this call supports".into()),
            None if self.security.srtp.insists() => return Err("this account requires encrypted media (SRTP) and the other side offers plain RTP".into()),
            None => None,
        };
        let allowed = n.direction.answer();
        let direction = Direction::from_flags(allowed.sends() && ours.sends(), allowed.receives() && ours.receives());
        let codec = self.codecs.iter().find(|c| c.name.eq_ignore_ascii_case(&n.codec) && c.rate == n.rate).copied();
        let mut formats = vec![n.payload_type.to_string()];
        let mut attributes = vec![("rtpmap".to_string(), Some(codec.map(|c| c.rtpmap(n.payload_type)).unwrap_or_else(|| format!("{} {}/{}", n.payload_type, n.codec, n.rate))))];
        if let Some(f) = codec.and_then(|c| c.fmtp) {
            attributes.push(("fmtp".into(), Some(format!("{} {f}", n.payload_type))));
        }
        if let Some(te) = n.telephone_event {
            formats.push(te.to_string());
            attributes.push(("rtpmap".into(), Some(format!("{te} telephone-event/8000"))));
            attributes.push(("fmtp".into(), Some(format!("{te} 0-16"))));
        }
        attributes.push(("ptime".into(), Some("20".into())));
        if n.rtcp_mux {
            attributes.push(("rtcp-mux".into(), None));
        } else {
            attributes.push(("rtcp".into(), Some(self.port.wrapping_add(1).to_string())));
        }
        if let Some(keys) = &n.srtp {
            attributes.push(("crypto".into(), Some(srtp::answer_line(keys))));
        }
        n.ice = remote_ice(&remote, audio).map(|r| IceSetup { ours: self.ice.clone(), remote: r });
        if n.ice.is_some() {
            attributes.extend(ice::attributes(&self.ice, self.address, self.port, (!n.rtcp_mux).then(|| self.port.wrapping_add(1))));
        }
        if let (Some(setup), Some(fp)) = (&n.dtls, ours_fingerprint) {
            attributes.push(("fingerprint".into(), Some(format!("sha-256 {fp}"))));
            attributes.push(("setup".into(), Some(if setup.client { "active" } else { "passive" }.into())));
        }
        attributes.push((direction.attr().to_string(), None));
        let answer = Sdp {
            origin: Origin { username: "ringside".into(), session_id: self.session_id.to_string(), version: self.version, address: self.address.to_string() },
            session_name: "Ringside call".into(),
            connection: Some(self.address),
            attributes: if n.ice.is_some() { vec![("ice-lite".into(), None)] } else { vec![] },
            media: vec![Media { kind: "audio".into(), port: self.port, proto: audio.proto.clone(), formats, connection: None, attributes, other: vec![] }],
            other: vec!["t=0 0".into()],
        };
        self.version += 1;
        // What we do from now on: our direction, with the far end's address.
        n.direction = direction;
        Ok((answer.to_text().into_bytes(), n))
    }

    /// Reads the answer to our offer: the codec, where to send, and how the answer's
    /// direction limits ours (an answer of recvonly to our sendrecv: we send only).
    pub fn accept_answer(&self, remote_answer: &[u8], ours: Direction) -> Result<Negotiated, String> {
        let remote = Sdp::parse(remote_answer).map_err(|e| e.to_string())?;
        let mut n = negotiate(&remote, &self.codecs)?;
        let audio = remote.audio().ok_or("the other side answers with no audio")?;
        let theirs = n.direction;
        n.direction = Direction::from_flags(ours.sends() && theirs.receives(), ours.receives() && theirs.sends());
        n.ice = remote_ice(&remote, audio).map(|r| IceSetup { ours: self.ice.clone(), remote: r });
        if self.security.srtp == SrtpMode::Dtls {
            let fingerprint = dtls_fingerprint(&remote, audio)?.ok_or("the other side answered without DTLS-SRTP, which this account requires")?;
            n.dtls = Some(dtls::DtlsSetup { client: dtls::offer_role(media_or_session(&remote, audio, "setup")), fingerprint });
            return Ok(n);
        }
        let chosen = crypto_offers(audio).into_iter().find(|(tag, suite, _)| matches!(self.security.srtp, SrtpMode::Optional | SrtpMode::Required) && srtp::offer_lines(&self.security.key).iter().any(|l| l.starts_with(&format!("{tag} {suite} "))));
        n.srtp = match chosen {
            Some((tag, suite, remote_key)) => Some(SdesKeys { suite, tag, local: self.security.key, remote: remote_key }),
            None if self.security.srtp == SrtpMode::Required => return Err("the other side answered without SRTP, which this account requires".into()),
            None => None,
        };
        Ok(n)
    }
}

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
