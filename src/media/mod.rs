//! Media for calls. So far: SDP parsing, writing and the offer/answer codec choice.
//! RTP, codecs and devices come with the call-audio work.

pub mod sdp;
pub mod tone;
