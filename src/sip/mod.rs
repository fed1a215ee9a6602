//! SIP, the signalling half of a call. Layers: the message (framing, parsing, typed
//! header fields — RFC 3261 §7, §20, §25 — checked against the RFC 4475 torture
//! messages and fuzzed), Digest authentication, the client transactions, registration
//! and the outgoing call; all without I/O. The drivers (`udp`, `tcp`) own a socket and
//! the timers, and feed those cores bytes and time.

pub mod digest;
pub mod call;
pub mod header;
pub mod locate;
pub mod message;
pub mod mwi;
pub mod registration;
pub mod tcp;
pub mod text;
pub mod transaction;
pub mod ua;
pub mod udp;
pub mod wire;
pub mod uri;

/// The methods Ringside's user agent accepts (the `Allow` header field).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY";

pub use header::{CSeq, NameAddr, Via};
pub use message::{parse_datagram, parse_stream, Contact, Header, Message, ParseError, StartLine};
pub use uri::{SipUri, Uri};
