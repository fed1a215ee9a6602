//! Any bytes, as a UDP datagram and as the start of a TCP stream: the parser answers
//! with a message or an error, never a panic, and a stream never claims more bytes
//! than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ringside::sip::parse_datagram(data) {
        // What the CLI and the logs do with a message must not panic either.
        let _ = serde_json::to_string(&message);
        for via in &message.via {
            let _ = via.branch();
        }
    }
    if let Ok((_, used)) = ringside::sip::parse_stream(data) {
        assert!(used <= data.len());
    }
});
