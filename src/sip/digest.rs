//! HTTP Digest for SIP (RFC 3261 §22.4, RFC 8760 / RFC 7616): reading a
//! `WWW-Authenticate` / `Proxy-Authenticate` challenge and answering it with MD5 or
//! SHA-256, with or without `qop=auth`. Pure: the caller passes the client nonce and
//! the nonce count, so answers are reproducible.

use md5::Md5;
use sha2::{Digest, Sha256};

use super::text::{split_commas, Cursor};
use crate::secrets::Sensitive;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A challenge from a registrar (401) or proxy (407).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The server offered `qop=auth`.
    pub qop_auth: bool,
    /// A new nonce for credentials that were right (`stale=true`): retry at once.
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("the server asks for {0} authentication, which Ringside does not speak (it answers Digest)")]
    Scheme(String),
    #[error("the server's Digest challenge uses algorithm {0}; Ringside answers MD5 and SHA-256")]
    Algorithm(String),
    #[error("the server's Digest challenge offers only qop {0}; Ringside answers qop=auth (or none)")]
    Qop(String),
    #[error("the server's Digest challenge is malformed: {0}")]
    Malformed(String),
}

/// `key=value` pairs of an auth header after its scheme (values may be quoted).
fn auth_params(s: &str) -> Result<Vec<(String, String)>, DigestError> {
    let mut out = Vec::new();
    for part in split_commas(s).ok_or_else(|| DigestError::Malformed("an unclosed quote".into()))? {
        if part.is_empty() {
            continue;
        }
        let mut c = Cursor::new(part);
        let key = c.token().ok_or_else(|| DigestError::Malformed(format!("\u{201c}{part}\u{201d}")))?;
        if !c.eat_sep('=') {
            return Err(DigestError::Malformed(format!("{key} has no value")));
        }
        let value = if c.peek() == Some('"') {
            c.quoted().ok_or_else(|| DigestError::Malformed(format!("{key}'s quotes are not closed")))?
        } else {
            c.rest().trim().to_string()
        };
        out.push((key.to_ascii_lowercase(), value));
    }
    Ok(out)
}

impl Challenge {
    /// Reads one `WWW-Authenticate` / `Proxy-Authenticate` value.
    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let value = value.trim();
        let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::Scheme(scheme.to_string()));
        }
        let params = auth_params(rest)?;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let algorithm = match get("algorithm").as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("MD5") => Algorithm::Md5,
            Some("SHA-256") => Algorithm::Sha256,
            Some(other) => return Err(DigestError::Algorithm(other.to_string())),
        };
        let qop_auth = match get("qop") {
            None => false,
            Some(q) => {
                let offered: Vec<String> = q.split(',').map(|s| s.trim().to_ascii_lowercase()).collect();
                if !offered.iter().any(|o| o == "auth") {
                    return Err(DigestError::Qop(q));
                }
                true
            }
        };
        Ok(Challenge {
            realm: get("realm").ok_or_else(|| DigestError::Malformed("no realm".into()))?,
            nonce: get("nonce").ok_or_else(|| DigestError::Malformed("no nonce".into()))?,
            opaque: get("opaque"),
            algorithm,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The `Authorization` / `Proxy-Authorization` value for one request.
    #[allow(clippy::too_many_arguments)]
    pub fn answer(
        &self,
        username: &str,
        password: &Sensitive<String>,
        method: &str,
        digest_uri: &str,
        cnonce: &str,
        nonce_count: u32,
    ) -> String {
        let a = self.algorithm;
        let ha1 = a.hash(&format!("{username}:{}:{}", self.realm, password.expose()));
        let ha2 = a.hash(&format!("{method}:{digest_uri}"));
        let nc = format!("{nonce_count:08x}");
        let response = if self.qop_auth {
            a.hash(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            a.hash(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut out = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
            q(username),
            q(&self.realm),
            q(&self.nonce),
            q(digest_uri),
            a.name()
        );
        if self.qop_auth {
            out.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{}\"", q(cnonce)));
        }
        if let Some(o) = &self.opaque {
            out.push_str(&format!(", opaque=\"{}\"", q(o)));
        }
        out
    }
}

/// A challenge being answered request after request: which header carries the
/// answer (`Proxy-Authorization` after a 407) and the nonce count so far.
#[derive(Debug, Clone)]
pub struct Answering {
    pub challenge: Challenge,
    pub proxy: bool,
    nonce_count: u32,
}

impl Answering {
    pub fn new(challenge: Challenge, proxy: bool) -> Answering {
        Answering { challenge, proxy, nonce_count: 0 }
    }

    /// The credentials header line (CRLF included) for the next request.
    pub fn header_line(&mut self, user: &str, password: &Sensitive<String>, method: &str, uri: &str, cnonce: &str) -> String {
        self.nonce_count += 1;
        let value = self.challenge.answer(user, password, method, uri, cnonce, self.nonce_count);
        format!("{}: {value}\r\n", if self.proxy { "Proxy-Authorization" } else { "Authorization" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Sensitive<String> {
        Sensitive::new(s.to_string())
    }

    /// RFC 2617 §3.5's worked example (MD5, qop=auth).
    #[test]
    fn rfc_2617_example_gives_its_response() {
        let c = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        let answer = c.answer("Mufasa", &pw("Circle Of Life"), "GET", "/dir/index.html", "0a4f113b", 1);
        assert!(answer.contains(r#"response="6629fae49393a05397450978507c4ef1""#), "{answer}");
        assert!(answer.contains("nc=00000001"));
    }

    /// RFC 7616 §3.9.1's example with SHA-256.
    #[test]
    fn rfc_7616_sha256_example_gives_its_response() {
        let c = Challenge::parse(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        )
        .unwrap();
        let answer = c.answer("Mufasa", &pw("Circle of Life"), "GET", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1);
        assert!(answer.contains(r#"response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1""#), "{answer}");
    }

    #[test]
    fn other_schemes_and_algorithms_are_named_not_guessed() {
        assert!(matches!(Challenge::parse("Basic realm=\"x\""), Err(DigestError::Scheme(_))));
        assert!(matches!(Challenge::parse("Digest realm=\"x\", nonce=\"y\", algorithm=SHA-512-256"), Err(DigestError::Algorithm(_))));
        assert!(matches!(Challenge::parse("Digest realm=\"x\", nonce=\"y\", qop=\"auth-int\""), Err(DigestError::Qop(_))));
        let c = Challenge::parse("Digest realm=\"ringside.test\", nonce=\"abc\", stale=TRUE").unwrap();
        assert!(c.stale && !c.qop_auth && c.algorithm == Algorithm::Md5);
    }
}
