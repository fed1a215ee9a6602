//! The header fields a user agent acts on, parsed into types: name-addr (From, To,
//! Contact, Route, Record-Route), Via, CSeq. Everything else stays text in
//! [`super::Header`] until someone needs it.

use serde::Serialize;

use super::text::{self, Cursor};
use super::uri::{self, Uri};

pub type Params = Vec<(String, Option<String>)>;

fn param<'a>(params: &'a Params, name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
}

/// `"Display" <uri>;params` or `uri;params` (From, To, Contact, Route…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`…), not the URI's.
    pub params: Params,
}

impl NameAddr {
    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag").flatten()
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        param(&self.params, name)
    }

    /// One name-addr or addr-spec, the whole of `s`.
    pub fn parse(s: &str) -> Result<NameAddr, String> {
        let mut c = Cursor::new(s.trim());
        let display = if c.peek() == Some('"') {
            let d = c.quoted().ok_or("a display name's quotes are not closed")?;
            c.skip_ws();
            Some(d)
        } else {
            // Display names without quotes are tokens separated by spaces; a comma or
            // other separator means the value is broken (RFC 4475 §3.1.2.15).
            let before = c.rest();
            match before.find('<') {
                Some(lt) => {
                    let words = before[..lt].trim();
                    if !words.is_empty() {
                        if !words.split_whitespace().all(text::is_token) {
                            return Err(format!("the display name \u{201c}{words}\u{201d} must be quoted"));
                        }
                        c.pos += lt;
                        Some(words.to_string())
                    } else {
                        c.pos += lt;
                        None
                    }
                }
                None => None,
            }
        };
        let uri;
        if c.peek() == Some('<') {
            let inner = &c.rest()[1..];
            let end = inner.find('>').ok_or("a URI's < is not closed with >")?;
            let raw = &inner[..end];
            if raw.starts_with([' ', '\t']) || raw.ends_with([' ', '\t']) {
                return Err(format!("spaces inside <{raw}>"));
            }
            uri = uri::parse(raw)?;
            c.pos += end + 2;
        } else {
            if display.is_some() {
                return Err("a display name must be followed by <URI>".into());
            }
            // addr-spec: the URI ends at the first ';' (the rest are header parameters)
            // and cannot carry '?' headers or commas (RFC 3261 §20).
            let rest = c.rest();
            let end = rest.find([';', ' ', '\t']).unwrap_or(rest.len());
            let raw = &rest[..end];
            if raw.contains(['?', ',']) {
                return Err(format!("\u{201c}{raw}\u{201d} has ? or , and must be written in <>"));
            }
            uri = uri::parse(raw)?;
            c.pos += end;
        }
        let params = text::params(&mut c)?;
        Ok(NameAddr { display, uri, params })
    }
}

/// One Via value: `SIP/2.0/UDP host:port;branch=…;received=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Via {
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch").flatten()
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        param(&self.params, name)
    }

    pub fn parse(s: &str) -> Result<Via, String> {
        let mut c = Cursor::new(s.trim());
        let name = c.token().ok_or("a Via does not start with SIP/2.0")?;
        let ok_version = c.eat_sep('/') && c.token().is_some_and(|v| v == "2.0") && c.eat_sep('/');
        if !name.eq_ignore_ascii_case("SIP") || !ok_version {
            return Err(format!("a Via names protocol \u{201c}{s}\u{201d}, not SIP/2.0/…"));
        }
        let transport = c.token().ok_or("a Via has no transport")?.to_ascii_uppercase();
        c.skip_ws();
        let start = c.pos;
        while c.peek().is_some_and(|ch| !matches!(ch, ';' | ' ' | '\t')) {
            c.pos += ch_len(c.peek());
        }
        let sent_by = &c.s[start..c.pos];
        let (host, port) = split_host_port(sent_by)?;
        let params = text::params(&mut c)?;
        Ok(Via { transport, host, port, params })
    }
}

fn ch_len(c: Option<char>) -> usize {
    c.map_or(1, char::len_utf8)
}

/// `host[:port]` with IPv6 references in brackets.
pub fn split_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']').ok_or("an IPv6 address is not closed with ]")?;
        (&s[..=end], s[end + 1..].strip_prefix(':'))
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host_ok = if host.starts_with('[') {
        host.len() > 2 && host[1..host.len() - 1].chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    if !host_ok {
        return Err(format!("\u{201c}{s}\u{201d} is not a host"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(p.trim().parse::<u16>().map_err(|_| format!("\u{201c}{p}\u{201d} is not a port"))?),
    };
    Ok((host.to_string(), port))
}

/// `CSeq: 4711 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CSeq {
    pub seq: u32,
    pub method: String,
}

impl CSeq {
    pub fn parse(s: &str) -> Result<CSeq, String> {
        let mut parts = s.split_whitespace();
        let (Some(n), Some(m), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("CSeq \u{201c}{s}\u{201d} is not a number and a method"));
        };
        let seq = n
            .parse::<u32>()
            .map_err(|_| format!("CSeq number {n} is not a 32-bit number (at most 4294967295)"))?;
        if !uri::is_method(m) {
            return Err(format!("CSeq method \u{201c}{m}\u{201d} is not a token"));
        }
        Ok(CSeq { seq, method: m.to_string() })
    }
}

/// A decimal header value of at most `max` (Max-Forwards 255, Expires 2^32-1).
pub fn bounded_number(name: &str, s: &str, max: u64) -> Result<u64, String> {
    let v = s.trim();
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{name} \u{201c}{v}\u{201d} is not a number"));
    }
    v.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| format!("{name} {v} is larger than {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#).unwrap();
        assert_eq!(a.display.as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.tag(), Some("98asjd8"));
        let b = NameAddr::parse("sip:user@example.com;unknownparam").unwrap();
        assert_eq!(b.param("unknownparam"), Some(None), "an addr-spec's ;params belong to the header");
        assert!(b.uri.as_sip().unwrap().params.is_empty());
        let c = NameAddr::parse(r#""caller"<sip:caller@example.com>;tag=323"#).unwrap();
        assert_eq!(c.display.as_deref(), Some("caller"), "no space before < is accepted");
        assert!(NameAddr::parse("Bell, Alexander <sip:a@b>").is_err());
        assert!(NameAddr::parse(r#""Watson" < sip:t@example.org >"#).is_err());
        assert!(NameAddr::parse(r#""Mr. J. User <sip:j@example.com>"#).is_err());
    }

    #[test]
    fn via_with_whitespace_everywhere_the_grammar_allows() {
        let v = Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ;\n  branch  =   z9hG4bK9ikj8".replace('\n', "").as_str()).unwrap();
        assert_eq!(v.transport, "TCP");
        assert_eq!(v.host, "spindle.example.com");
        assert_eq!(v.branch(), Some("z9hG4bK9ikj8"));
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert_eq!(Via::parse("SIP/2.0/UDP [2001:db8::9]:5070;rport").unwrap().port, Some(5070));
    }

    #[test]
    fn cseq_and_scalars_refuse_overlarge_values() {
        assert_eq!(CSeq::parse("0009 INVITE").unwrap().seq, 9);
        assert!(CSeq::parse("36893488147419103232 INVITE").is_err());
        assert_eq!(bounded_number("Max-Forwards", "0068", 255).unwrap(), 68);
        assert!(bounded_number("Max-Forwards", "300", 255).is_err());
    }
}
