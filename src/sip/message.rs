//! SIP messages: framing (datagram or stream), the start line, header fields with
//! folding and compact names, the body by Content-Length, and the typed header fields
//! a user agent acts on. A message that cannot be trusted is refused with the reason
//! and the status a UAS should answer (400, 505…); nothing here panics on any input.

use serde::Serialize;

use super::header::{bounded_number, CSeq, NameAddr, Via};
use super::text::{is_token, is_word, split_commas};
use super::uri::{self, Uri};

/// Header sections larger than this are refused (a 64 KiB header is an attack, not a
/// PBX); bodies are bounded by the transport's own limit.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
const MAX_HEADERS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum StartLine {
    Request { method: String, uri: Uri },
    Response { code: u16, reason: String },
}

/// A header field as received: the name as written (trimmed), the value unfolded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", untagged)]
pub enum Contact {
    /// `Contact: *` (remove all bindings, in REGISTER).
    Star(Star),
    Addr(NameAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Star {
    #[serde(rename = "*")]
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<Header>,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub via: Vec<Via>,
    pub from: NameAddr,
    pub to: NameAddr,
    pub call_id: String,
    pub cseq: CSeq,
    pub max_forwards: Option<u8>,
    pub contact: Vec<Contact>,
    pub route: Vec<NameAddr>,
    pub record_route: Vec<NameAddr>,
    pub content_type: Option<String>,
    pub expires: Option<u32>,
}

impl Message {
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn code(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// Every value of a header (by full or compact name, case-insensitive).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let canonical = canonical_name(name);
        self.headers.iter().filter(move |h| canonical_name(&h.name).eq_ignore_ascii_case(canonical)).map(|h| h.value.as_str())
    }

    pub fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// Why a message was refused, and what a UAS should answer when it was a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
pub enum ParseError {
    /// A stream needs more bytes before a whole message is there.
    #[error("the message is not complete yet")]
    Incomplete,
    #[error("{reason}")]
    Malformed {
        reason: String,
        /// The status to answer a request with (400, 505…); `None` for a response,
        /// which is dropped.
        status: Option<u16>,
        /// Framing is lost: on a stream transport the connection must be closed.
        fatal_for_stream: bool,
    },
}

fn bad(reason: impl Into<String>) -> ParseError {
    ParseError::Malformed { reason: reason.into(), status: Some(400), fatal_for_stream: false }
}

/// Compact forms (RFC 3261 §7.3.3 and extensions) to their full names.
pub fn canonical_name(name: &str) -> &str {
    match name {
        "i" | "I" => "Call-ID",
        "m" | "M" => "Contact",
        "e" | "E" => "Content-Encoding",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "f" | "F" => "From",
        "s" | "S" => "Subject",
        "k" | "K" => "Supported",
        "t" | "T" => "To",
        "v" | "V" => "Via",
        "o" | "O" => "Event",
        "r" | "R" => "Refer-To",
        "b" | "B" => "Referred-By",
        "u" | "U" => "Allow-Events",
        "x" | "X" => "Session-Expires",
        "a" | "A" => "Accept-Contact",
        "j" | "J" => "Reject-Contact",
        "d" | "D" => "Request-Disposition",
        "y" | "Y" => "Identity",
        _ => name,
    }
}

/// One message from one UDP datagram. Bytes after the Content-Length are noise and
/// ignored (RFC 3261 §18.3); a body shorter than the Content-Length is an error.
pub fn parse_datagram(data: &[u8]) -> Result<Message, ParseError> {
    let data = skip_leading_crlf(data);
    // A datagram ends where it ends: one whose sender left out the blank line after
    // the header fields is read as header fields only.
    let (head, body_start) = match split_head(data) {
        Some(split) => split,
        None if data.len() <= MAX_HEADER_BYTES => (data.strip_suffix(b"\r\n").unwrap_or(data), data.len()),
        None => return Err(bad("the header fields exceed 32 KiB")),
    };
    let (start, headers) = parse_head(head)?;
    let length = content_length(&headers)?;
    let available = &data[body_start..];
    let body = match length {
        Some(n) if n > available.len() => {
            return Err(with_start(&start, format!("Content-Length says {n} bytes but the datagram carries {}", available.len()), false))
        }
        Some(n) => available[..n].to_vec(),
        None => available.to_vec(),
    };
    build(start, headers, body)
}

/// The first message of a stream (TCP, TLS) and how many bytes it took. A stream
/// message must have a Content-Length; `Incomplete` asks for more bytes.
pub fn parse_stream(data: &[u8]) -> Result<(Message, usize), ParseError> {
    let skipped = data.len() - skip_leading_crlf(data).len();
    let data = &data[skipped..];
    let Some((head, body_start)) = split_head(data) else {
        if data.len() > MAX_HEADER_BYTES {
            return Err(ParseError::Malformed { reason: "the header fields exceed 32 KiB".into(), status: Some(400), fatal_for_stream: true });
        }
        return Err(ParseError::Incomplete);
    };
    let (start, headers) = parse_head(head).map_err(fatal)?;
    let length = content_length(&headers).map_err(fatal)?.ok_or_else(|| {
        fatal(with_start(&start, "a message on a stream transport must carry Content-Length", true))
    })?;
    if data.len() < body_start + length {
        return Err(ParseError::Incomplete);
    }
    let body = data[body_start..body_start + length].to_vec();
    let message = build(start, headers, body)?;
    Ok((message, skipped + body_start + length))
}

/// How many bytes the first message of a stream takes, when its framing can be read
/// (start line, header fields, one Content-Length) even if its content is refused.
pub fn frame_length(data: &[u8]) -> Option<usize> {
    let skipped = data.len() - skip_leading_crlf(data).len();
    let rest = &data[skipped..];
    let (head, body_start) = split_head(rest)?;
    let (_, headers) = parse_head(head).ok()?;
    let length = content_length(&headers).ok()??;
    (rest.len() >= body_start + length).then_some(skipped + body_start + length)
}

fn fatal(e: ParseError) -> ParseError {
    match e {
        ParseError::Malformed { reason, status, .. } => ParseError::Malformed { reason, status, fatal_for_stream: true },
        other => other,
    }
}

fn with_start(start: &StartLine, reason: impl Into<String>, fatal_for_stream: bool) -> ParseError {
    let status = matches!(start, StartLine::Request { .. }).then_some(400);
    ParseError::Malformed { reason: reason.into(), status, fatal_for_stream }
}

fn skip_leading_crlf(mut data: &[u8]) -> &[u8] {
    while let Some(rest) = data.strip_prefix(b"\r\n").or_else(|| data.strip_prefix(b"\n")) {
        data = rest;
    }
    data
}

/// The header section (without the blank line) and where the body starts.
fn split_head(data: &[u8]) -> Option<(&[u8], usize)> {
    let limit = data.len().min(MAX_HEADER_BYTES + 4);
    let window = &data[..limit];
    let crlf = window.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, i + 4));
    let lf = window.windows(2).position(|w| w == b"\n\n").map(|i| (i, i + 2));
    let (end, body) = match (crlf, lf) {
        (Some(a), Some(b)) => if a.0 <= b.0 { a } else { b },
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => return None,
    };
    Some((&data[..end], body))
}

fn parse_head(head: &[u8]) -> Result<(StartLine, Vec<Header>), ParseError> {
    let text = std::str::from_utf8(head).map_err(|e| bad(format!("the header fields are not UTF-8 (byte {})", e.valid_up_to())))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let start = parse_start_line(first)?;
    let mut headers: Vec<Header> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let Some(last) = headers.last_mut() else {
                return Err(with_start(&start, "the first header line starts with whitespace", false));
            };
            let more = line.trim();
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(with_start(&start, format!("\u{201c}{}\u{201d} is not a header field (no colon)", clip(line)), false));
        };
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(with_start(&start, format!("\u{201c}{}\u{201d} is not a header name", clip(name)), false));
        }
        if headers.len() >= MAX_HEADERS {
            return Err(with_start(&start, format!("more than {MAX_HEADERS} header fields"), false));
        }
        headers.push(Header { name: name.to_string(), value: value.trim().to_string() });
    }
    Ok((start, headers))
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if line.starts_with("SIP/") || line.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let drop = |reason: String| ParseError::Malformed { reason, status: None, fatal_for_stream: true };
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err(drop(format!("the response is {version}, not SIP/2.0")));
        }
        let code_text = parts.next().unwrap_or_default();
        let code = (code_text.len() == 3 && code_text.chars().all(|c| c.is_ascii_digit()))
            .then(|| code_text.parse::<u16>().ok())
            .flatten()
            .filter(|c| (100..=699).contains(c))
            .ok_or_else(|| drop(format!("\u{201c}{code_text}\u{201d} is not a status code (100–699)")))?;
        let reason = parts.next().ok_or_else(|| drop("the status line has no space after the code".into()))?;
        if reason.chars().any(|c| c.is_control() && c != '\t') {
            return Err(drop("the reason phrase contains control characters".into()));
        }
        return Ok(StartLine::Response { code, reason: reason.to_string() });
    }
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad(format!(
            "the request line \u{201c}{}\u{201d} must be METHOD, URI and SIP/2.0 separated by single spaces",
            clip(line)
        )));
    }
    let (method, target, version) = (parts[0], parts[1], parts[2]);
    if !uri::is_method(method) {
        return Err(bad(format!("\u{201c}{}\u{201d} is not a method", clip(method))));
    }
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        let looks_like_sip = version.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));
        return Err(ParseError::Malformed {
            reason: format!("the request is {version}, not SIP/2.0"),
            status: Some(if looks_like_sip { 505 } else { 400 }),
            fatal_for_stream: false,
        });
    }
    let uri = uri::parse(target).map_err(|e| bad(format!("Request-URI: {e}")))?;
    if uri.as_sip().is_some_and(|s| !s.headers.is_empty()) {
        return Err(bad("the Request-URI carries ?headers, which a request line cannot"));
    }
    Ok(StartLine::Request { method: method.to_string(), uri })
}

fn content_length(headers: &[Header]) -> Result<Option<usize>, ParseError> {
    let mut found: Option<usize> = None;
    for h in headers.iter().filter(|h| canonical_name(&h.name).eq_ignore_ascii_case("Content-Length")) {
        let v = h.value.trim();
        if !v.chars().all(|c| c.is_ascii_digit()) || v.is_empty() {
            return Err(ParseError::Malformed {
                reason: format!("Content-Length \u{201c}{v}\u{201d} is not a length"),
                status: Some(400),
                fatal_for_stream: true,
            });
        }
        let n = v.parse::<usize>().map_err(|_| bad(format!("Content-Length {v} is too large")))?;
        if found.is_some() {
            return Err(ParseError::Malformed {
                reason: "the message has more than one Content-Length".into(),
                status: Some(400),
                fatal_for_stream: true,
            });
        }
        found = Some(n);
    }
    Ok(found)
}

fn single<'a>(start: &StartLine, headers: &'a [Header], name: &str) -> Result<Option<&'a str>, ParseError> {
    let mut values = headers.iter().filter(|h| canonical_name(&h.name).eq_ignore_ascii_case(name));
    let first = values.next().map(|h| h.value.as_str());
    if values.next().is_some() {
        return Err(with_start(start, format!("{name} appears more than once"), false));
    }
    Ok(first)
}

fn required<'a>(start: &StartLine, headers: &'a [Header], name: &str) -> Result<&'a str, ParseError> {
    single(start, headers, name)?.ok_or_else(|| with_start(start, format!("the message has no {name}"), false))
}

fn list<T>(
    start: &StartLine,
    headers: &[Header],
    name: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ParseError> {
    let mut out = Vec::new();
    for h in headers.iter().filter(|h| canonical_name(&h.name).eq_ignore_ascii_case(name)) {
        let parts = split_commas(&h.value).ok_or_else(|| with_start(start, format!("{name}: a quote or < is not closed"), false))?;
        for part in parts {
            if part.is_empty() {
                return Err(with_start(start, format!("{name} has an empty value (stray comma)"), false));
            }
            out.push(parse(part).map_err(|e| with_start(start, format!("{name}: {e}"), false))?);
        }
    }
    Ok(out)
}

fn build(start: StartLine, headers: Vec<Header>, body: Vec<u8>) -> Result<Message, ParseError> {
    let s = &start;
    let via = list(s, &headers, "Via", Via::parse)?;
    if via.is_empty() {
        return Err(with_start(s, "the message has no Via", false));
    }
    let from = NameAddr::parse(required(s, &headers, "From")?).map_err(|e| with_start(s, format!("From: {e}"), false))?;
    let to = NameAddr::parse(required(s, &headers, "To")?).map_err(|e| with_start(s, format!("To: {e}"), false))?;
    let call_id = required(s, &headers, "Call-ID")?.to_string();
    if !call_id.split('@').all(is_word) || call_id.matches('@').count() > 1 {
        return Err(with_start(s, format!("Call-ID \u{201c}{}\u{201d} is not word[@word]", clip(&call_id)), false));
    }
    let cseq = CSeq::parse(required(s, &headers, "CSeq")?).map_err(|e| with_start(s, e, false))?;
    if let StartLine::Request { method, .. } = s {
        if &cseq.method != method {
            return Err(bad(format!("the request is {method} but its CSeq says {}", cseq.method)));
        }
    }
    let max_forwards = single(s, &headers, "Max-Forwards")?
        .map(|v| bounded_number("Max-Forwards", v, 255).map(|n| n as u8))
        .transpose()
        .map_err(|e| with_start(s, e, false))?;
    let expires = single(s, &headers, "Expires")?
        .map(|v| bounded_number("Expires", v, u64::from(u32::MAX)).map(|n| n as u32))
        .transpose()
        .map_err(|e| with_start(s, e, false))?;
    let contact = list(s, &headers, "Contact", |v| {
        if v == "*" {
            return Ok(Contact::Star(Star::All));
        }
        let a = NameAddr::parse(v)?;
        if let Some(Some(e)) = a.param("expires") {
            bounded_number("expires", e, u64::from(u32::MAX))?;
        }
        Ok(Contact::Addr(a))
    })?;
    let route = list(s, &headers, "Route", NameAddr::parse)?;
    let record_route = list(s, &headers, "Record-Route", NameAddr::parse)?;
    let content_type = single(s, &headers, "Content-Type")?.map(str::to_string);
    if let Some(date) = single(s, &headers, "Date")? {
        if !date.trim_end().ends_with("GMT") {
            return Err(with_start(s, format!("Date \u{201c}{date}\u{201d} is not in GMT"), false));
        }
    }
    if let Some(v) = single(s, &headers, "Retry-After")? {
        let secs = v.split([';', '(']).next().unwrap_or_default();
        bounded_number("Retry-After", secs, u64::from(u32::MAX)).map_err(|e| with_start(s, e, false))?;
    }
    for warning in headers.iter().filter(|h| h.name.eq_ignore_ascii_case("Warning")) {
        for w in split_commas(&warning.value).unwrap_or_default() {
            let code = w.split_whitespace().next().unwrap_or_default();
            if code.len() != 3 || !code.chars().all(|c| c.is_ascii_digit()) {
                return Err(with_start(s, format!("Warning code \u{201c}{code}\u{201d} is not three digits"), false));
            }
        }
    }
    Ok(Message {
        start,
        headers,
        body,
        via,
        from,
        to,
        call_id,
        cseq,
        max_forwards,
        contact,
        route,
        record_route,
        content_type,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\nFrom: Alice <sip:alice@example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.1>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";

    #[test]
    fn a_plain_invite_parses_with_its_typed_headers() {
        let m = parse_datagram(INVITE.as_bytes()).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.via[0].branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(m.from.tag(), Some("1928301774"));
        assert_eq!(m.cseq.seq, 314_159);
        assert_eq!(m.body, b"v=0\n");
        assert_eq!(m.header("l"), Some("4"), "compact names find full ones and back");
    }

    #[test]
    fn streams_frame_by_content_length_and_ask_for_more() {
        let two = format!("{INVITE}{INVITE}");
        let (first, used) = parse_stream(two.as_bytes()).unwrap();
        assert_eq!(first.body, b"v=0\n");
        assert_eq!(used, INVITE.len());
        assert_eq!(parse_stream(&INVITE.as_bytes()[..INVITE.len() - 2]), Err(ParseError::Incomplete));
        assert_eq!(parse_stream(b"\r\n\r\n"), Err(ParseError::Incomplete), "keep-alive CRLFs alone are not a message");
    }

    #[test]
    fn a_refused_message_on_a_stream_can_be_skipped_when_its_framing_holds() {
        let no_via = INVITE.replace("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n", "");
        let both = format!("{no_via}{INVITE}");
        assert!(matches!(parse_stream(both.as_bytes()), Err(ParseError::Malformed { fatal_for_stream: false, .. })));
        let skip = frame_length(both.as_bytes()).expect("its Content-Length frames it");
        assert_eq!(skip, no_via.len());
        assert!(parse_stream(&both.as_bytes()[skip..]).is_ok(), "the next message is read");
    }

    #[test]
    fn truncated_input_never_panics_and_says_why() {
        for end in 0..INVITE.len() {
            let _ = parse_datagram(&INVITE.as_bytes()[..end]);
            let _ = parse_stream(&INVITE.as_bytes()[..end]);
        }
        let huge = format!("OPTIONS sip:a@b SIP/2.0\r\nX: {}\r\n\r\n", "a".repeat(64 * 1024));
        assert!(matches!(parse_datagram(huge.as_bytes()), Err(ParseError::Malformed { .. })));
        assert!(matches!(parse_stream(huge.as_bytes()), Err(ParseError::Malformed { fatal_for_stream: true, .. })));
    }
}
