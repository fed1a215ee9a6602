//! Jitsi Meet: no account and no API. A meeting is a room on a server, and the room
//! exists once someone opens its address, so "creating" one is choosing a name nobody
//! can guess: a readable part from the topic and 128 random bits.

use super::{CreatedMeeting, MeetingError};

pub const PUBLIC_SERVER: &str = "https://meet.jit.si";
/// Letters of the readable part of a room name, at most.
const READABLE_CHARS: usize = 32;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Checks a server address as typed in Settings and returns it normalised
/// (`https://host[:port][/path]`, no trailing slash). Plain `http` only for loopback
/// addresses: a meeting room's name is its only key, and must not cross a network in
/// clear text.
pub fn server_url(value: &str) -> Result<String, MeetingError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(PUBLIC_SERVER.to_string());
    }
    let with_scheme = if v.contains("://") { v.to_string() } else { format!("https://{v}") };
    let url = url::Url::parse(&with_scheme)
        .map_err(|_| MeetingError::Invalid(format!("\u{201c}{value}\u{201d} is not a server address (such as meet.example.com).")))?;
    if !crate::oauth::is_secure_or_loopback(&url) {
        return Err(MeetingError::Invalid(format!("\u{201c}{value}\u{201d}: a Jitsi server is reached over https.")));
    }
    let host = url.host_str().unwrap_or("");
    if host.is_empty() || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(MeetingError::Invalid(format!("\u{201c}{value}\u{201d} is not a server address (such as meet.example.com).")));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The readable part of a room name: the topic's letters and digits as CamelCase words
/// (accents dropped to their base letter where it is plain ASCII, other scripts left
/// out), so the room reads like the meeting in the browser's address bar.
fn readable(topic: &str) -> String {
    let mut out = String::new();
    for word in topic.split(|c: char| !c.is_alphanumeric()) {
        let mut chars = word.chars().filter_map(ascii_base).peekable();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
        if out.len() >= READABLE_CHARS {
            break;
        }
    }
    out.truncate(READABLE_CHARS);
    out
}

fn ascii_base(c: char) -> Option<char> {
    if c.is_ascii_alphanumeric() {
        return Some(c);
    }
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        _ => return None,
    };
    Some(base)
}

/// 128 random bits as 26 lower-case base-32 letters.
fn random_part(bits: u128) -> String {
    (0..26).map(|i| BASE32[((bits >> (i * 5)) & 31) as usize] as char).collect()
}

/// A new room for `topic` on `server` (already checked with [`server_url`]).
pub fn create(server: &str, topic: &str) -> CreatedMeeting {
    room(server, topic, rand::random::<u128>())
}

fn room(server: &str, topic: &str, bits: u128) -> CreatedMeeting {
    let readable = readable(topic);
    let name = if readable.is_empty() { format!("Ringside-{}", random_part(bits)) } else { format!("{readable}-{}", random_part(bits)) };
    let url = format!("{server}/{name}");
    CreatedMeeting { meeting_id: name, number: None, join_url: url.clone(), start_url: url, passcode: None, host: None }
}

/// Jitsi behind the providers' trait: creating is naming a room; there is nobody to ask
/// how it went.
pub struct Jitsi {
    /// The server, as [`server_url`] returns it.
    pub server: String,
}

impl super::MeetingService for Jitsi {
    async fn create(&self, request: &super::CheckedRequest, _now: i64) -> Result<CreatedMeeting, MeetingError> {
        Ok(create(&self.server, &request.topic))
    }

    async fn check(&self, _meeting: &super::MeetingEntry, _now: i64) -> Result<Option<super::RemoteState>, MeetingError> {
        Ok(None)
    }

    async fn held(&self, _from: i64, _to: i64, _now: i64) -> Result<Vec<super::external::HeldMeeting>, MeetingError> {
        Err(MeetingError::Invalid("Jitsi Meet keeps no list of meetings: only Zoom and Webex meetings can be looked up.".into()))
    }

    async fn attendees(&self, _meeting: &super::external::HeldMeeting, _now: i64) -> Result<Vec<super::Attendee>, MeetingError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_read_like_the_topic_and_cannot_be_guessed() {
        let m = room(PUBLIC_SERVER, "Meeting with Zoë O'Brien — Q3 renewal", u128::MAX);
        // 128 bits are 25 letters of 5 bits and one of 3.
        assert_eq!(m.meeting_id, format!("MeetingWithZoeOBrienQ3Renewal-{}h", "7".repeat(25)));
        assert_eq!(m.join_url, format!("https://meet.jit.si/{}", m.meeting_id));
        assert_eq!(m.start_url, m.join_url);
        let a = create(PUBLIC_SERVER, "x");
        let b = create(PUBLIC_SERVER, "x");
        assert_ne!(a.join_url, b.join_url);
        assert_eq!(room(PUBLIC_SERVER, "田中様と打ち合わせ", 0).meeting_id, format!("Ringside-{}", "a".repeat(26)));
    }

    #[test]
    fn server_addresses_are_normalised_or_refused() {
        assert_eq!(server_url("").unwrap(), PUBLIC_SERVER);
        assert_eq!(server_url("meet.example.com/").unwrap(), "https://meet.example.com");
        assert_eq!(server_url("https://example.com/jitsi/").unwrap(), "https://example.com/jitsi");
        assert_eq!(server_url("http://127.0.0.1:8443").unwrap(), "http://127.0.0.1:8443");
        for bad in ["http://meet.example.com", "ftp://meet.example.com", "https://", "https://a.com/?x=1", "https://u@a.com"] {
            assert!(server_url(bad).is_err(), "{bad} accepted");
        }
    }
}
