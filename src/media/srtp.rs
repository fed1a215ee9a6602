//! Secure RTP with keys exchanged in SDP (SDES, RFC 4568): the `a=crypto` lines we
//! offer and accept, and the SRTP/SRTCP contexts (`rtc-srtp`) built from them.
//!
//! What we offer follows the account (`SrtpMode`); what we accept follows the offer:
//! an offer of RTP/SAVP gets SRTP or a refusal, an RTP/AVP offer that carries crypto
//! lines gets SRTP when we allow it, a plain offer gets plain RTP unless the account
//! requires SRTP.

use std::fmt;

use base64::Engine as _;
use rtc_srtp::context::Context;
use rtc_srtp::protection_profile::ProtectionProfile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum SrtpMode {
    /// Plain RTP offered; SRTP still accepted when the far end asks for it.
    #[default]
    Off,
    /// RTP/AVP offered with crypto lines: SRTP when the far end takes it, else plain.
    Optional,
    /// RTP/SAVP only: a call without SRTP is refused.
    Required,
    /// UDP/TLS/RTP/SAVP offered, keys from a DTLS handshake (`dtls.rs`); an answer
    /// without it is refused. Offers of SDES are still answered.
    Dtls,
}

impl SrtpMode {
    /// A plain RTP offer is refused.
    pub fn insists(self) -> bool {
        matches!(self, SrtpMode::Required | SrtpMode::Dtls)
    }
}

impl std::str::FromStr for SrtpMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" | "" => Ok(SrtpMode::Off),
            "optional" => Ok(SrtpMode::Optional),
            "required" => Ok(SrtpMode::Required),
            "dtls" => Ok(SrtpMode::Dtls),
            _ => Err(format!("\"{s}\" is not an SRTP mode; use off, optional, required or dtls")),
        }
    }
}

/// The crypto suites we take, best first (RFC 4568 §6.2).
const SUITES: [(&str, ProtectionProfile); 2] = [
    ("AES_CM_128_HMAC_SHA1_80", ProtectionProfile::Aes128CmHmacSha1_80),
    ("AES_CM_128_HMAC_SHA1_32", ProtectionProfile::Aes128CmHmacSha1_32),
];

const KEY_LEN: usize = 16;
const SALT_LEN: usize = 14;

/// The keys of one SRTP session: the suite, ours and the far end's.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKeys {
    pub suite: &'static str,
    pub tag: u32,
    pub local: [u8; KEY_LEN + SALT_LEN],
    pub remote: [u8; KEY_LEN + SALT_LEN],
}

impl fmt::Debug for SdesKeys {
    // Keys never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SdesKeys({}, tag {})", self.suite, self.tag)
    }
}

impl serde::Serialize for SdesKeys {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.suite)
    }
}

/// A fresh master key and salt.
pub fn new_key() -> [u8; KEY_LEN + SALT_LEN] {
    let mut k = [0u8; KEY_LEN + SALT_LEN];
    rand::Rng::fill(&mut rand::rng(), &mut k[..]);
    k
}

fn inline(key: &[u8]) -> String {
    format!("inline:{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// Our `a=crypto` values for an offer: every suite, the same master key.
pub fn offer_lines(key: &[u8; KEY_LEN + SALT_LEN]) -> Vec<String> {
    SUITES.iter().enumerate().map(|(i, (name, _))| format!("{} {name} {}", i + 1, inline(key))).collect()
}

/// The answer's `a=crypto` value for the suite chosen.
pub fn answer_line(keys: &SdesKeys) -> String {
    format!("{} {} {}", keys.tag, keys.suite, inline(&keys.local))
}

/// One `a=crypto` value: tag, suite we support, and its key. None: a suite we do not
/// take, session parameters we do not honour, or a malformed key.
pub fn parse_line(value: &str) -> Option<(u32, &'static str, [u8; KEY_LEN + SALT_LEN])> {
    let mut parts = value.split_whitespace();
    let tag: u32 = parts.next()?.parse().ok()?;
    let suite = parts.next()?;
    let (name, _) = SUITES.iter().find(|(n, _)| n.eq_ignore_ascii_case(suite))?;
    let key_params = parts.next()?;
    // Session parameters (KDR, UNENCRYPTED_SRTP…) change the protection: not taken.
    if parts.next().is_some() {
        return None;
    }
    // inline:<key||salt>[|lifetime][|MKI:length]; one key, no MKI.
    let b64 = key_params.strip_prefix("inline:")?.split('|').collect::<Vec<_>>();
    if b64.len() > 2 || b64.get(1).is_some_and(|p| p.contains(':')) || key_params.contains(';') {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64[0]).ok()?;
    let key: [u8; KEY_LEN + SALT_LEN] = bytes.try_into().ok()?;
    Some((tag, name, key))
}

fn profile(suite: &str) -> ProtectionProfile {
    SUITES.iter().find(|(n, _)| *n == suite).map(|(_, p)| *p).unwrap_or_default()
}

/// SRTP and SRTCP in both directions.
pub struct SrtpSession {
    tx: Context,
    rx: Context,
}

#[derive(Debug)]
pub struct SrtpError(pub String);

impl fmt::Display for SrtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl SrtpSession {
    pub fn new(keys: &SdesKeys) -> Result<SrtpSession, SrtpError> {
        let provider = rtc_crypto::providers::AwsLcRsProvider::new();
        let crypto = rtc_crypto::RTCCryptoProvider::crypto(&provider);
        let p = profile(keys.suite);
        let make = |k: &[u8; KEY_LEN + SALT_LEN], replay: bool| {
            Context::new(
                &k[..KEY_LEN],
                &k[KEY_LEN..],
                p,
                replay.then(|| rtc_srtp::option::srtp_replay_protection(128)),
                replay.then(|| rtc_srtp::option::srtcp_replay_protection(128)),
                crypto,
            )
            .map_err(|e| SrtpError(e.to_string()))
        };
        Ok(SrtpSession { tx: make(&keys.local, false)?, rx: make(&keys.remote, true)? })
    }

    pub fn protect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.tx.encrypt_rtp(packet).map(|b| b.to_vec()).map_err(|e| SrtpError(e.to_string()))
    }

    /// Err: the packet failed authentication (or is a replay): drop it.
    pub fn unprotect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.rx.decrypt_rtp(packet).map(|b| b.to_vec()).map_err(|e| SrtpError(e.to_string()))
    }

    pub fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.tx.encrypt_rtcp(packet).map(|b| b.to_vec()).map_err(|e| SrtpError(e.to_string()))
    }

    pub fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        self.rx.decrypt_rtcp(packet).map(|b| b.to_vec()).map_err(|e| SrtpError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crypto_lines_round_trip_and_odd_ones_are_refused() {
        let key = new_key();
        let lines = offer_lines(&key);
        assert_eq!(lines.len(), 2);
        let (tag, suite, k) = parse_line(&lines[0]).unwrap();
        assert_eq!((tag, suite, k), (1, "AES_CM_128_HMAC_SHA1_80", key));
        assert_eq!(parse_line(&lines[1]).unwrap().1, "AES_CM_128_HMAC_SHA1_32");
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        assert!(parse_line(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{b64}|2^20")).is_some(), "a lifetime is fine");
        assert!(parse_line(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{b64}|2^20|1:4")).is_none(), "MKI is not taken");
        assert!(parse_line(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{b64} UNENCRYPTED_SRTP")).is_none());
        assert!(parse_line(&format!("1 F8_128_HMAC_SHA1_80 inline:{b64}")).is_none());
        assert!(parse_line("1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=").is_none(), "a short key");
        assert!(parse_line("x").is_none());
    }

    #[test]
    fn both_sides_protect_and_a_tampered_packet_fails() {
        let (a, b) = (new_key(), new_key());
        let ours = SdesKeys { suite: "AES_CM_128_HMAC_SHA1_80", tag: 1, local: a, remote: b };
        let theirs = SdesKeys { suite: "AES_CM_128_HMAC_SHA1_80", tag: 1, local: b, remote: a };
        let (mut x, mut y) = (SrtpSession::new(&ours).unwrap(), SrtpSession::new(&theirs).unwrap());
        let mut rtp = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42];
        rtp.extend_from_slice(&[0xD5; 160]);
        let protected = x.protect_rtp(&rtp).unwrap();
        assert_eq!(protected.len(), rtp.len() + 10, "an 80-bit tag");
        assert_ne!(&protected[12..172], &rtp[12..]);
        assert_eq!(y.unprotect_rtp(&protected).unwrap(), rtp);
        assert!(y.unprotect_rtp(&protected).is_err(), "a replay is refused");
        let mut tampered = x.protect_rtp(&{
            let mut r = rtp.clone();
            r[3] = 2;
            r
        })
        .unwrap();
        tampered[20] ^= 1;
        assert!(y.unprotect_rtp(&tampered).is_err());
    }
}
