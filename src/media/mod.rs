//! Media for calls: SDP (parsing, writing, the offer/answer exchange) and the backend
//! a call drives. The tone backend is the simple real one until the audio engine.

pub mod sdp;
pub mod tone;

/// Counts of one call's media.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MediaStats {
    pub sent: u32,
    pub received: u32,
    pub dropped: u32,
    pub events_sent: u32,
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
}
