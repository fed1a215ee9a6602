//! DTLS-SRTP (RFC 5763/5764): the SRTP keys come from a DTLS handshake on the media
//! port instead of the SDP. The SDP carries our certificate's fingerprint and who
//! starts the handshake (`a=setup`); the certificate itself is self-signed, so the
//! fingerprint, which came through the signalling, is the whole check.
//!
//! The handshake runs in the call's media task (`rtc-dtls`, sans-IO): datagrams whose
//! first byte is 20–63 are DTLS (RFC 7983), the rest RTP/RTCP. Until it completes
//! nothing is sent and nothing received is played; then the keys are exported
//! ("EXTRACTOR-dtls_srtp") and the call's SRTP starts as with SDES.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::BytesMut;
use rtc_dtls::config::{ClientAuthType, ConfigBuilder, ExtendedMasterSecretType};
use rtc_dtls::crypto::Certificate;
use rtc_dtls::endpoint::{Endpoint, EndpointEvent};
use rtc_dtls::extension::extension_use_srtp::SrtpProtectionProfile;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::srtp::SdesKeys;

const KEY: usize = 16;
const SALT: usize = 14;

/// Our certificate for the process's calls and its SHA-256 fingerprint.
pub struct Identity {
    certificate: Certificate,
    /// `AB:CD:…`, as `a=fingerprint:sha-256` carries it.
    pub fingerprint: String,
}

/// Made on first use (a P-256 key: milliseconds) and kept, as browsers keep theirs
/// for a session.
pub fn identity() -> Result<&'static Identity, String> {
    static ID: OnceLock<Result<Identity, String>> = OnceLock::new();
    ID.get_or_init(|| {
        let provider = provider();
        let certificate = Certificate::generate_self_signed(vec!["ringside".to_string()], provider.crypto()).map_err(|e| e.to_string())?;
        let der = certificate.certificate.first().ok_or("no certificate was made")?;
        Ok(Identity { fingerprint: hex_colons(&Sha256::digest(der.as_ref())), certificate })
    })
    .as_ref()
    .map_err(|e| format!("no DTLS certificate: {e}"))
}

fn provider() -> Arc<dyn rtc_crypto::RTCCryptoProvider> {
    Arc::new(rtc_crypto::providers::AwsLcRsProvider::new())
}

fn hex_colons(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The far end's `a=fingerprint` value (`sha-256 AB:CD:…`), if it is one we check.
pub fn parse_fingerprint(value: &str) -> Option<Vec<u8>> {
    let (alg, hex) = value.trim().split_once(' ')?;
    if !alg.eq_ignore_ascii_case("sha-256") {
        return None;
    }
    let bytes: Option<Vec<u8>> = hex.trim().split(':').map(|h| u8::from_str_radix(h, 16).ok()).collect();
    bytes.filter(|b| b.len() == 32)
}

/// Who does what in this call's handshake, from the SDP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DtlsSetup {
    /// We send the ClientHello (`a=setup:active` on our side).
    pub client: bool,
    /// The far end's certificate must hash to this (SHA-256).
    #[serde(skip)]
    pub fingerprint: Vec<u8>,
}

/// Our role in an answer to the far end's `a=setup` (RFC 5763 §5: the answerer takes
/// "active" unless the offerer is active itself).
pub fn answer_role(offer_setup: Option<&str>) -> bool {
    !matches!(offer_setup.map(str::trim), Some(s) if s.eq_ignore_ascii_case("active"))
}

/// Our role after offering `actpass`: the answer says "active" (they start) or
/// "passive" (we start).
pub fn offer_role(answer_setup: Option<&str>) -> bool {
    !matches!(answer_setup.map(str::trim), Some(s) if s.eq_ignore_ascii_case("active"))
}

/// A DTLS datagram (RFC 7983 demultiplexing), not RTP or RTCP.
pub fn is_dtls(first_byte: u8) -> bool {
    (20..=63).contains(&first_byte)
}

/// One call's handshake.
pub struct DtlsTransport {
    endpoint: Endpoint,
    remote: SocketAddr,
    setup: DtlsSetup,
    done: bool,
}

impl DtlsTransport {
    /// Prepares the handshake with `remote`; as the client, the first flight is queued.
    pub fn new(setup: &DtlsSetup, local: SocketAddr, remote: SocketAddr) -> Result<DtlsTransport, String> {
        let id = identity()?;
        let config = ConfigBuilder::default()
            .with_crypto_provider(provider())
            .with_certificates(vec![id.certificate.clone()])
            .with_srtp_protection_profiles(vec![SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80, SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_32])
            .with_extended_master_secret(ExtendedMasterSecretType::Request)
            // Self-signed on both sides: the fingerprint from the SDP is checked instead.
            .with_insecure_skip_verify(true)
            .with_client_auth(ClientAuthType::RequireAnyClientCert)
            .build(setup.client, Some(remote))
            .map_err(|e| e.to_string())?;
        let config = Arc::new(config);
        let mut endpoint = Endpoint::new(local, rtc_shared::TransportProtocol::UDP, (!setup.client).then(|| config.clone()));
        if setup.client {
            endpoint.connect(Instant::now(), remote, config, None).map_err(|e| e.to_string())?;
        }
        Ok(DtlsTransport { endpoint, remote, setup: setup.clone(), done: false })
    }

    pub fn setup(&self) -> &DtlsSetup {
        &self.setup
    }

    pub fn remote(&self) -> SocketAddr {
        self.remote
    }

    /// A DTLS datagram from the far end; the SRTP keys once the handshake is done and
    /// the far end's certificate matches its fingerprint.
    pub fn on_datagram(&mut self, data: &[u8]) -> Result<Option<SdesKeys>, String> {
        let events = self.endpoint.read(Instant::now(), self.remote, None, BytesMut::from(data)).map_err(|e| e.to_string())?;
        for event in events {
            if let EndpointEvent::HandshakeComplete = event {
                if !self.done {
                    self.done = true;
                    return self.keys().map(Some);
                }
            }
        }
        Ok(None)
    }

    /// Retransmits a flight that went unanswered.
    pub fn on_tick(&mut self) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let now = Instant::now();
        if self.endpoint.poll_timeout(&self.remote).is_some_and(|t| now >= t) {
            self.endpoint.handle_timeout(self.remote, now).map_err(|e| format!("the secure media handshake got no answer ({e})"))?;
        }
        Ok(())
    }

    /// The next datagram to send to the far end.
    pub fn take_transmit(&mut self) -> Option<BytesMut> {
        self.endpoint.poll_transmit().map(|m| m.message)
    }

    fn keys(&self) -> Result<SdesKeys, String> {
        let state = self.endpoint.get_connection_state(self.remote).ok_or("the secure media handshake was lost")?;
        let cert = state.peer_certificates.first().ok_or("the far end sent no certificate")?;
        if Sha256::digest(cert).as_slice() != self.setup.fingerprint.as_slice() {
            return Err("the far end's certificate does not match the fingerprint it announced".into());
        }
        let suite = match state.srtp_protection_profile() {
            SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_32 => "AES_CM_128_HMAC_SHA1_32",
            other => return Err(format!("the far end chose an SRTP profile this call cannot use ({other:?})")),
        };
        let material = state.export_keying_material("EXTRACTOR-dtls_srtp", &[], 2 * (KEY + SALT)).map_err(|e| e.to_string())?;
        let m: &[u8] = material.as_ref();
        // client key | server key | client salt | server salt (RFC 5764 §4.2).
        let part = |key: usize, salt: usize| {
            let mut k = [0u8; KEY + SALT];
            k[..KEY].copy_from_slice(&m[key..key + KEY]);
            k[KEY..].copy_from_slice(&m[salt..salt + SALT]);
            k
        };
        let client = part(0, 2 * KEY);
        let server = part(KEY, 2 * KEY + SALT);
        let (local, remote) = if self.setup.client { (client, server) } else { (server, client) };
        Ok(SdesKeys { suite, tag: 0, local, remote })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_and_roles_read_as_rfc_5763_says() {
        let id = identity().unwrap();
        assert_eq!(parse_fingerprint(&format!("sha-256 {}", id.fingerprint)).map(|b| b.len()), Some(32));
        assert_eq!(parse_fingerprint("SHA-1 AB:CD"), None, "only SHA-256 is checked");
        assert_eq!(parse_fingerprint("sha-256 ZZ:00"), None);
        assert!(answer_role(Some("actpass")) && answer_role(Some("passive")) && answer_role(None));
        assert!(!answer_role(Some("active")));
        assert!(offer_role(Some("passive")) && !offer_role(Some("active")));
        assert!(is_dtls(22) && !is_dtls(0x80) && !is_dtls(0));
    }

    #[test]
    fn offers_and_answers_carry_the_fingerprint_and_the_roles() {
        use crate::media::sdp::{Direction, SdpAgent, Security, PCMU};
        use crate::media::srtp::SrtpMode;
        let ip = "127.0.0.1".parse().unwrap();
        let mut alice = SdpAgent::new(ip, 40_000, 1, &[PCMU]).with_security(Security { srtp: SrtpMode::Dtls, key: [0; 30] });
        let offer = alice.offer(Direction::SendRecv);
        let text = String::from_utf8(offer.clone()).unwrap();
        assert!(text.contains("m=audio 40000 UDP/TLS/RTP/SAVP ") && text.contains("a=setup:actpass") && text.contains("a=fingerprint:sha-256 "), "{text}");
        assert!(!text.contains("a=crypto"));
        let mut bob = SdpAgent::new(ip, 40_010, 2, &[PCMU]);
        let (answer, n) = bob.answer(&offer, Direction::SendRecv).unwrap();
        assert!(n.dtls.as_ref().unwrap().client, "the answerer starts the handshake");
        assert!(n.srtp.is_none());
        let answer_text = String::from_utf8_lossy(&answer).to_string();
        assert!(answer_text.contains("UDP/TLS/RTP/SAVP") && answer_text.contains("a=setup:active") && answer_text.contains("a=fingerprint:sha-256 "), "{answer_text}");
        let back = alice.accept_answer(&answer, Direction::SendRecv).unwrap();
        assert!(!back.dtls.unwrap().client, "the offerer waits for the ClientHello");
        // No fingerprint, or an answer in the clear: refused with the reason.
        let stripped = text.lines().filter(|l| !l.starts_with("a=fingerprint")).collect::<Vec<_>>().join("\r\n") + "\r\n";
        assert!(bob.answer(stripped.as_bytes(), Direction::SendRecv).unwrap_err().contains("no fingerprint"));
        let plain = SdpAgent::new(ip, 40_020, 3, &[PCMU]).offer(Direction::SendRecv);
        let (plain_answer, _) = SdpAgent::new(ip, 40_030, 4, &[PCMU]).answer(&plain, Direction::SendRecv).unwrap();
        assert!(alice.accept_answer(&plain_answer, Direction::SendRecv).unwrap_err().contains("without DTLS-SRTP"));
        assert!(alice.answer(&plain, Direction::SendRecv).is_err(), "a plain offer to an account that requires DTLS-SRTP");
    }

    #[test]
    fn two_ends_agree_on_keys_and_a_wrong_fingerprint_is_refused() {
        let fp = parse_fingerprint(&format!("sha-256 {}", identity().unwrap().fingerprint)).unwrap();
        let (a_addr, b_addr): (SocketAddr, SocketAddr) = ("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:40002".parse().unwrap());
        let run = |server_expects: Vec<u8>| {
            let mut a = DtlsTransport::new(&DtlsSetup { client: true, fingerprint: fp.clone() }, a_addr, b_addr).unwrap();
            let mut b = DtlsTransport::new(&DtlsSetup { client: false, fingerprint: server_expects }, b_addr, a_addr).unwrap();
            let (mut ka, mut kb) = (None, None);
            for _ in 0..20 {
                while let Some(p) = a.take_transmit() {
                    match b.on_datagram(&p) {
                        Ok(Some(k)) => kb = Some(Ok(k)),
                        Ok(None) => {}
                        Err(e) => kb = Some(Err(e)),
                    }
                }
                while let Some(p) = b.take_transmit() {
                    if let Ok(Some(k)) = a.on_datagram(&p) {
                        ka = Some(k);
                    }
                }
            }
            (ka, kb)
        };
        let (ka, kb) = run(fp.clone());
        let (ka, kb) = (ka.expect("the client has keys"), kb.expect("the server has keys").unwrap());
        assert_eq!(ka.local, kb.remote);
        assert_eq!(ka.remote, kb.local);
        assert_ne!(ka.local, ka.remote);
        let (_, kb) = run(vec![0; 32]);
        assert!(kb.expect("the server finished").unwrap_err().contains("does not match"));
    }
}
