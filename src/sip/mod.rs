//! SIP, the signalling half of a call. This first layer is the message itself:
//! framing, parsing and the typed header fields (RFC 3261 §7, §20, §25), checked
//! against the RFC 4475 torture messages and fuzzed. It does no I/O; transports,
//! transactions, dialogs and registration build on it.

pub mod header;
pub mod message;
pub mod text;
pub mod uri;

pub use header::{CSeq, NameAddr, Via};
pub use message::{parse_datagram, parse_stream, Contact, Header, Message, ParseError, StartLine};
pub use uri::{SipUri, Uri};
