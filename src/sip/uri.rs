//! URIs as SIP carries them (RFC 3261 §19.1, §25.1): `sip:`/`sips:` with user,
//! password, host, port, parameters and headers; `tel:` (RFC 3966); and any other
//! scheme, kept whole so a user agent can answer 416 instead of failing to parse.
//! Escapes (`%41`) are kept as written: comparing and unescaping are separate steps,
//! never done twice.

use serde::Serialize;

use super::text::is_token_char;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scheme", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Uri {
    Sip(SipUri),
    Tel { number: String, params: Vec<(String, Option<String>)> },
    /// An absolute URI of another scheme (`mailto:`, `http:`, `soap.beep:`…).
    Other { name: String, rest: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SipUri {
    pub secure: bool,
    /// As written, escapes included.
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
    /// `?name=value&…` headers, as written.
    pub headers: Vec<(String, String)>,
}

/// Escapes a value for a URI's `?name=value` headers (RFC 3261 §25.1 `hvalue`).
pub fn escape_header_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl SipUri {
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
    }
}

impl Uri {
    pub fn scheme(&self) -> &str {
        match self {
            Uri::Sip(s) if s.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel { .. } => "tel",
            Uri::Other { name, .. } => name,
        }
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params = |f: &mut std::fmt::Formatter<'_>, ps: &[(String, Option<String>)]| -> std::fmt::Result {
            for (n, v) in ps {
                match v {
                    Some(v) => write!(f, ";{n}={v}")?,
                    None => write!(f, ";{n}")?,
                }
            }
            Ok(())
        };
        match self {
            Uri::Sip(s) => {
                write!(f, "{}:", if s.secure { "sips" } else { "sip" })?;
                if let Some(u) = &s.user {
                    write!(f, "{u}")?;
                    if let Some(p) = &s.password {
                        write!(f, ":{p}")?;
                    }
                    write!(f, "@")?;
                }
                write!(f, "{}", s.host)?;
                if let Some(p) = s.port {
                    write!(f, ":{p}")?;
                }
                params(f, &s.params)?;
                for (i, (n, v)) in s.headers.iter().enumerate() {
                    write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
                }
                Ok(())
            }
            Uri::Tel { number, params: ps } => {
                write!(f, "tel:{number}")?;
                params(f, ps)
            }
            Uri::Other { name, rest } => write!(f, "{name}:{rest}"),
        }
    }
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '!' | '~' | '*' | '\'' | '(' | ')')
}

/// Every `%` starts a two-digit hex escape.
fn escapes_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn chars_ok(s: &str, extra: &[char]) -> bool {
    s.chars().all(|c| is_unreserved(c) || c == '%' || extra.contains(&c)) && escapes_ok(s)
}

fn host_ok(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.strip_suffix(']').is_some_and(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'));
    }
    !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn uri_params(s: &str, allowed: &[char]) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    for p in s.split(';') {
        if p.is_empty() {
            return Err("a URI has an empty parameter".into());
        }
        let (n, v) = match p.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        };
        if n.is_empty() || !chars_ok(n, allowed) || v.is_some_and(|v| v.is_empty() || !chars_ok(v, allowed)) {
            return Err(format!("the URI parameter \u{201c}{p}\u{201d} has characters a URI cannot carry"));
        }
        out.push((n.to_string(), v.map(String::from)));
    }
    Ok(out)
}

/// Parses one URI. It must be the whole of `s`: no spaces, no angle brackets.
pub fn parse(s: &str) -> Result<Uri, String> {
    if s.is_empty() {
        return Err("the URI is empty".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"')) {
        return Err(format!("the URI \u{201c}{s}\u{201d} contains spaces, quotes or angle brackets"));
    }
    let (scheme, rest) = s.split_once(':').ok_or_else(|| format!("\u{201c}{s}\u{201d} has no scheme (sip:, tel:…)"))?;
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("\u{201c}{scheme}\u{201d} is not a URI scheme"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "sip" | "sips" => parse_sip(scheme.eq_ignore_ascii_case("sips"), rest).map(Uri::Sip),
        "tel" => {
            let mut parts = rest.splitn(2, ';');
            let number = parts.next().unwrap_or_default();
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, '+' | '-' | '.' | '(' | ')' | '*' | '#')) {
                return Err(format!("\u{201c}{number}\u{201d} is not a telephone number"));
            }
            let params = match parts.next() {
                Some(p) => uri_params(p, &['[', ']', '/', ':', '&', '+', '$'])?,
                None => vec![],
            };
            Ok(Uri::Tel { number: number.to_string(), params })
        }
        _ => {
            if rest.is_empty() {
                return Err(format!("the {scheme}: URI is empty"));
            }
            Ok(Uri::Other { name: scheme.to_string(), rest: rest.to_string() })
        }
    }
}

fn parse_sip(secure: bool, s: &str) -> Result<SipUri, String> {
    let (userinfo, after) = match s.find('@') {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(ui) => {
            // The password follows the first ':' (user parts cannot hold one unescaped).
            let (u, p) = match ui.find(':') {
                Some(i) => (&ui[..i], Some(&ui[i + 1..])),
                None => (ui, None),
            };
            if u.is_empty() || !chars_ok(u, &['&', '=', '+', '$', ',', ';', '?', '/']) {
                return Err(format!("the user part \u{201c}{u}\u{201d} has characters a SIP URI cannot carry"));
            }
            if let Some(p) = p {
                if !chars_ok(p, &['&', '=', '+', '$', ',']) {
                    return Err("the password part of the URI has characters a SIP URI cannot carry".into());
                }
            }
            (Some(u.to_string()), p.map(String::from))
        }
    };
    let (before_headers, headers) = match after.split_once('?') {
        Some((b, h)) => (b, Some(h)),
        None => (after, None),
    };
    let (hostport, params) = match before_headers.split_once(';') {
        Some((hp, p)) => (hp, Some(p)),
        None => (before_headers, None),
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => {
                let port = &hostport[end + 1..];
                (&hostport[..=end], port.strip_prefix(':'))
            }
            None => return Err("an IPv6 host is not closed with ]".into()),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if !host_ok(host) {
        return Err(format!("\u{201c}{host}\u{201d} is not a host name or address"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().map_err(|_| format!("\u{201c}{p}\u{201d} is not a port"))?),
    };
    let params = match params {
        Some(p) => uri_params(p, &['[', ']', '/', ':', '&', '+', '$'])?,
        None => vec![],
    };
    let headers = match headers {
        None => vec![],
        Some(h) => h
            .split('&')
            .map(|kv| {
                let (n, v) = kv.split_once('=').unwrap_or((kv, ""));
                let ok = |x: &str| chars_ok(x, &['[', ']', '/', '?', ':', '+', '$']);
                if n.is_empty() || !ok(n) || !ok(v) {
                    Err(format!("the URI header \u{201c}{kv}\u{201d} is malformed"))
                } else {
                    Ok((n.to_string(), v.to_string()))
                }
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(SipUri { secure, user, password, host: host.to_string(), port, params, headers })
}

/// A method name: a token (`%` is an ordinary character there, not an escape).
pub fn is_method(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uris_keep_user_params_and_headers_as_written() {
        let u = parse("sip:alice%41:secret@[2001:db8::1]:5070;transport=tcp;lr?Subject=hi&Priority=urgent").unwrap();
        let s = u.as_sip().unwrap();
        assert_eq!(s.user.as_deref(), Some("alice%41"), "escapes are not undone here");
        assert_eq!(s.password.as_deref(), Some("secret"));
        assert_eq!(s.host, "[2001:db8::1]");
        assert_eq!(s.port, Some(5070));
        assert_eq!(s.param("TRANSPORT"), Some(Some("tcp")));
        assert_eq!(s.param("lr"), Some(None));
        assert_eq!(s.headers.len(), 2);
    }

    #[test]
    fn unknown_schemes_parse_so_the_ua_can_answer_416() {
        assert_eq!(parse("soap.beep://192.0.2.103:3002").unwrap().scheme(), "soap.beep");
        assert!(matches!(parse("tel:+1-972-555-2222;phone-context=x").unwrap(), Uri::Tel { .. }));
    }

    #[test]
    fn spaces_brackets_and_bad_escapes_are_refused() {
        for bad in ["<sip:a@b>", "sip:a b@c", "sip:user@", "sip:%zz@host", "sip:a@host:99999", "nocolon", "sip:a@b;;x"] {
            assert!(parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
