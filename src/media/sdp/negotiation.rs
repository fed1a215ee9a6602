//! Offer/answer (RFC 3264) over parsed descriptions: the codecs we offer, the
//! security and ICE attributes that go with them, reading the far end's choice into
//! `Negotiated`, and `SdpAgent`, one call's side of the exchange.

use std::net::IpAddr;

use serde::Serialize;

use super::*;
use crate::media::srtp::{self, SdesKeys, SrtpMode};
use crate::media::{dtls, ice};

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
