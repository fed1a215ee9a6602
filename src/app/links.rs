//! `tel:`, `sip:` and `callto:` links (and whatever a rep pastes into the dialer) turned
//! into something to dial, or a reason it cannot be.

use serde::Serialize;

use crate::crm::phone::{self, PhoneError};

/// Links longer than this are not phone links, whatever they claim.
const MAX_LINK_BYTES: usize = 2_048;
const MAX_SIP_URI_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum DialTarget {
    Phone { e164: String, display: String, extension: Option<String>, region: Option<String> },
    Sip { uri: String, display: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("The link is too long to be a phone link ({bytes} bytes).")]
    TooLong { bytes: usize },
    #[error("The link is not valid text (bad %-escape).")]
    BadEscape,
    #[error("\"{scheme}:\" links are not phone links; Ringside opens tel:, sip:, sips: and callto: links.")]
    UnsupportedScheme { scheme: String },
    #[error("The SIP address \"{uri}\" is malformed: {reason}.")]
    BadSipUri { uri: String, reason: &'static str },
    #[error("The callto: link names \"{name}\", which is a user name, not a number or SIP address.")]
    NotDialable { name: String },
    #[error(transparent)]
    Number(#[from] PhoneError),
}

/// True for an argument the OS may hand the program when a link is clicked.
pub fn is_dial_link(arg: &str) -> bool {
    split_scheme(arg).is_some_and(|(scheme, _)| matches!(scheme.as_str(), "tel" | "sip" | "sips" | "callto"))
}

/// Reads a link or typed input. `default_region` reads numbers without country code.
pub fn parse_dial_input(input: &str, default_region: &str) -> Result<DialTarget, LinkError> {
    let input = input.trim();
    if input.len() > MAX_LINK_BYTES {
        return Err(LinkError::TooLong { bytes: input.len() });
    }
    let Some((scheme, rest)) = split_scheme(input) else {
        return phone_target(input, default_region);
    };
    match scheme.as_str() {
        "tel" => {
            let decoded = percent_decode(rest)?;
            // RFC 3966 parameters other than ext (phone-context, isub) do not change
            // what is dialled from a desktop.
            let (number, params) = decoded.split_once(';').unwrap_or((&decoded, ""));
            let ext = params
                .split(';')
                .find_map(|p| p.strip_prefix("ext=").or_else(|| p.strip_prefix("EXT=")));
            let typed = match ext {
                Some(x) => format!("{number} ext. {x}"),
                None => number.to_string(),
            };
            phone_target(&typed, default_region)
        }
        "callto" => {
            let decoded = percent_decode(rest.trim_start_matches("//"))?;
            if let Some((inner, tail)) = split_scheme(&decoded) {
                if inner == "sip" || inner == "sips" {
                    return sip_target(&format!("{inner}:{tail}"));
                }
            }
            match phone_target(&decoded, default_region) {
                Ok(t) => Ok(t),
                Err(LinkError::Number(PhoneError::BadCharacters { .. } | PhoneError::NotANumber { .. }))
                    if decoded.chars().any(|c| c.is_ascii_alphabetic()) =>
                {
                    Err(LinkError::NotDialable { name: decoded })
                }
                Err(e) => Err(e),
            }
        }
        "sip" | "sips" => sip_target(input),
        other => Err(LinkError::UnsupportedScheme { scheme: other.to_string() }),
    }
}

/// `scheme:rest` when `input` starts with a URI scheme. A number such as "+33:1" or a
/// vanity number is not mistaken for one: schemes start with a letter and are short.
fn split_scheme(input: &str) -> Option<(String, &str)> {
    let (scheme, rest) = input.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme.len() <= 16
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then(|| (scheme.to_ascii_lowercase(), rest))
}

fn phone_target(input: &str, default_region: &str) -> Result<DialTarget, LinkError> {
    let n = phone::normalise(input, default_region)?;
    Ok(DialTarget::Phone {
        display: n.international,
        e164: n.e164,
        extension: n.extension,
        region: n.region,
    })
}

fn sip_target(uri: &str) -> Result<DialTarget, LinkError> {
    let bad = |reason| LinkError::BadSipUri { uri: uri.chars().take(80).collect(), reason };
    if uri.len() > MAX_SIP_URI_BYTES {
        return Err(bad("it is too long"));
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == '"') {
        return Err(bad("it contains spaces, quotes or control characters"));
    }
    let (scheme, rest) = uri.split_once(':').ok_or_else(|| bad("it has no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    let addr = rest.split([';', '?']).next().unwrap_or("");
    let (user, host) = match addr.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, addr),
    };
    let host_name = host.split(':').next().unwrap_or("");
    let host_ok = !host_name.is_empty()
        && (host_name.starts_with('[')
            || host_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok {
        return Err(bad("it has no valid host"));
    }
    if user == Some("") {
        return Err(bad("the user part is empty"));
    }
    let display = match user {
        Some(u) => percent_decode(u)?,
        None => host_name.to_string(),
    };
    Ok(DialTarget::Sip { uri: format!("{scheme}:{rest}"), display })
}

fn percent_decode(s: &str) -> Result<String, LinkError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| LinkError::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(t: &DialTarget) -> &str {
        match t {
            DialTarget::Phone { e164, .. } => e164,
            other => panic!("expected a phone target, got {other:?}"),
        }
    }

    #[test]
    fn tel_links_in_their_many_spellings_dial_one_number() {
        for link in [
            "tel:+33 1 23 45 67 89",
            "tel:+33%201%2023%2045%2067%2089",
            "TEL:+33-1-23-45-67-89",
            "tel:0123456789",
            "callto:+33123456789",
            "callto://+33123456789",
        ] {
            let t = parse_dial_input(link, "FR").unwrap_or_else(|e| panic!("{link}: {e}"));
            assert_eq!(e164(&t), "+33123456789", "{link}");
        }
    }

    #[test]
    fn a_tel_extension_is_kept() {
        let t = parse_dial_input("tel:+1-650-253-0000;ext=42", "US").unwrap();
        assert!(matches!(t, DialTarget::Phone { ref extension, .. } if extension.as_deref() == Some("42")));
    }

    #[test]
    fn sip_links_keep_their_uri() {
        let t = parse_dial_input("sip:alice@pbx.example.com;transport=tcp", "FR").unwrap();
        assert_eq!(
            t,
            DialTarget::Sip { uri: "sip:alice@pbx.example.com;transport=tcp".into(), display: "alice".into() }
        );
    }

    #[test]
    fn junk_links_are_refused_with_a_reason() {
        assert!(matches!(parse_dial_input("tel:hello", "FR"), Err(LinkError::Number(_))));
        assert!(matches!(parse_dial_input("javascript:alert(1)", "FR"), Err(LinkError::UnsupportedScheme { .. })));
        assert!(matches!(parse_dial_input("tel:%ff%fe", "FR"), Err(LinkError::BadEscape)));
        assert!(matches!(parse_dial_input("sip:@", "FR"), Err(LinkError::BadSipUri { .. })));
        assert!(matches!(parse_dial_input("sip:bob@ho st", "FR"), Err(LinkError::BadSipUri { .. })));
        assert!(matches!(parse_dial_input("callto:some.skype.name", "FR"), Err(LinkError::NotDialable { .. })));
        let long = format!("tel:{}", "1".repeat(5000));
        assert!(matches!(parse_dial_input(&long, "FR"), Err(LinkError::TooLong { .. })));
    }
}
