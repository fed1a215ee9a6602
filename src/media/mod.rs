//! Media for calls: SDP (parsing, writing, the offer/answer exchange), the codecs,
//! RTP/RTCP/SRTP and the jitter buffer, and the backend a call drives.

pub mod analysis;
pub mod codec;
pub mod dtls;
pub mod ice;
pub mod jitter;
pub mod rtcp;
pub mod sdp;
pub mod session;
pub mod srtp;

use std::sync::Arc;

use crate::audio::io::{AudioProvider, CallAudio, Silence, ToneSource};

/// Counts and quality of one call's media, as the UI's quality indicator shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MediaStats {
    pub sent: u32,
    pub received: u32,
    /// Datagrams on the media ports that were not usable RTP (garbage, from elsewhere).
    pub dropped: u32,
    pub events_sent: u32,
    /// Packets the far end sent that never came.
    pub lost: u32,
    /// Packets that came after their time to play (or twice).
    pub late: u32,
    /// Sound made up for missing packets.
    pub concealed_ms: u32,
    pub jitter_ms: u32,
    /// From RTCP, once the far end has reported on our stream.
    pub rtt_ms: Option<u32>,
    /// Loss of what we receive over the last report interval, ‰.
    pub loss_permille: u32,
    /// Loss of what we send, as the far end reports it, ‰.
    pub far_loss_permille: Option<u32>,
    pub srtp: bool,
    /// Packets that failed SRTP authentication (dropped).
    pub srtp_failures: u32,
    /// ICE connectivity checks from the far end that were answered.
    pub ice_checks: u32,
    /// The jitter buffer's target delay.
    pub buffer_ms: u32,
    /// 0–100, for level meters.
    pub mic_level: u8,
    pub speaker_level: u8,
    /// Silence the speaker played because the call's sound was not ready in time (a
    /// local cause, unlike loss), ms since the call started.
    pub speaker_gaps_ms: u32,
}

/// What a call needs of its media: a port to offer, the negotiated stream to apply
/// (again after every re-INVITE), mute, and RFC 4733 digits. Dropping it stops it.
pub trait MediaBackend: Send {
    fn port(&self) -> u16;
    fn apply(&mut self, negotiated: &sdp::Negotiated);
    fn set_muted(&mut self, muted: bool);
    /// Sends a keypad digit in the RTP stream; false when the far end did not offer
    /// telephone-event (the call then uses SIP INFO).
    fn send_dtmf(&mut self, digit: char) -> bool;
    fn stats(&self) -> MediaStats;
    /// While our call rings at the far end: play the ringback tone locally until the
    /// far end's own sound (early media) arrives.
    fn set_ringback(&mut self, _on: bool) {}
    /// Something the rep should know about the sound (a device gone), once.
    fn take_problem(&mut self) -> Option<String> {
        None
    }
}

/// How calls get their media: the codecs in our order, SRTP, and the sound of each call.
#[derive(Clone)]
pub struct MediaConfig {
    pub codecs: Vec<sdp::Codec>,
    pub srtp: srtp::SrtpMode,
    pub audio: AudioProvider,
}

impl MediaConfig {
    /// A headless call: a 440 Hz tone out, what comes back counted and dropped (no
    /// voice processing: a tone is not a voice).
    pub fn tone() -> MediaConfig {
        MediaConfig { codecs: sdp::ALL_CODECS.to_vec(), srtp: srtp::SrtpMode::Off, audio: Arc::new(|| CallAudio { source: Box::new(ToneSource::new(440.0, 0.25)), sink: Box::new(Silence), voice_processing: false }) }
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig::tone()
    }
}

impl std::fmt::Debug for MediaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaConfig").field("codecs", &self.codecs.iter().map(|c| c.name).collect::<Vec<_>>()).field("srtp", &self.srtp).finish()
    }
}
