//! What every sign-in Ringside does has in common: OAuth 2.0 authorization code with
//! PKCE (S256, RFC 7636) and a loopback redirect on 127.0.0.1 (RFC 8252). Salesforce
//! (`crm::oauth`), Zoom and Webex (`meetings::oauth`) each build their authorize URL
//! and token request on top of [`Loopback`].
//!
//! Written here rather than with the `oauth2` crate: each service's token answer has
//! its own extra fields (Salesforce's `instance_url`, Zoom's `api_url`), that crate
//! brings its own reqwest beside ours, and PKCE itself is a hash and a random string.
//! The browser is opened by the caller (the desktop shell's opener, or the rep for the
//! CLI); this module only waits for the redirect.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::Rng as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::secrets::Sensitive;

pub const CALLBACK_PATH: &str = "/oauth/callback";
/// How long the loopback listener waits for the rep to finish in the browser.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest redirect request read from the browser; a real one is a few hundred bytes.
const MAX_REDIRECT_REQUEST: usize = 16 * 1024;

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The S256 challenge for a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether an address typed in settings may carry a sign-in or an API call: https, or
/// plain http to this machine only (the test services in tests and demos).
pub fn is_secure_or_loopback(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

/// The redirect's answer: a code, or the reason the rep or the service gave for none.
#[derive(Debug)]
pub enum Redirect {
    Code(String),
    Refused { error: String, description: String },
}

/// A listener for one sign-in's redirect, with its PKCE verifier and `state`.
pub struct Loopback {
    listener: TcpListener,
    pub redirect_uri: String,
    pub state: String,
    verifier: Sensitive<String>,
    /// Named on the page the browser shows at the end ("connected to Zoom").
    service: String,
}

impl Loopback {
    /// Binds 127.0.0.1:`port` (0 picks a free one).
    pub async fn bind(port: u16, service: &str) -> Result<Loopback, String> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port} for the sign-in ({e})"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        Ok(Loopback {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
            state: random_token(24),
            verifier: Sensitive::new(random_token(48)),
            service: service.to_string(),
        })
    }

    pub fn challenge(&self) -> String {
        pkce_challenge(self.verifier.expose())
    }

    pub fn verifier(&self) -> &str {
        self.verifier.expose()
    }

    /// The token request's form for the code the redirect brought (RFC 7636 §4.5).
    pub fn code_exchange<'a>(&'a self, code: &'a str, client_id: &'a str) -> [(&'a str, &'a str); 5] {
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client_id),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", self.verifier()),
        ]
    }

    /// The authorize URL's common parameters, appended to `url`.
    pub fn authorize_url(&self, mut url: url::Url, client_id: &str, scope: Option<&str>) -> String {
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("code_challenge", &self.challenge())
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", &self.state);
            if let Some(scope) = scope {
                q.append_pair("scope", scope);
            }
        }
        url.into()
    }

    /// Waits (at most [`SIGN_IN_TIMEOUT`]) for the browser's redirect and answers it with
    /// a page the rep can close. Redirects that are not this sign-in's are ignored.
    pub async fn wait(&self) -> Result<Redirect, String> {
        tokio::time::timeout(SIGN_IN_TIMEOUT, self.wait_for_redirect())
            .await
            .map_err(|_| "no answer from the browser within 5 minutes".to_string())?
    }

    async fn wait_for_redirect(&self) -> Result<Redirect, String> {
        loop {
            let (mut stream, _) = self.listener.accept().await.map_err(|e| format!("loopback listener failed: {e}"))?;
            let request = read_request_head(&mut stream).await;
            let Some(target) = request.as_deref().and_then(request_target) else {
                let _ = respond(&mut stream, 400, "Bad request").await;
                continue;
            };
            let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else { continue };
            if url.path() != CALLBACK_PATH {
                // favicon.ico and the like.
                let _ = respond(&mut stream, 404, "Not found").await;
                continue;
            }
            let get = |k: &str| url.query_pairs().find(|(key, _)| key == k).map(|(_, v)| v.into_owned());
            if get("state").as_deref() != Some(self.state.as_str()) {
                // Not our sign-in (a stale tab, or a forged redirect): ignore it.
                let _ = respond(&mut stream, 400, "This sign-in link is not the one Ringside is waiting for.").await;
                continue;
            }
            if let Some(error) = get("error") {
                let _ = respond(&mut stream, 200, "Sign-in cancelled. You can close this tab.").await;
                return Ok(Redirect::Refused { error, description: get("error_description").unwrap_or_default() });
            }
            let Some(code) = get("code") else {
                let _ = respond(&mut stream, 400, "The answer carried no code.").await;
                continue;
            };
            let message = format!("Ringside is connected to {}. You can close this tab.", self.service);
            let _ = respond(&mut stream, 200, &message).await;
            return Ok(Redirect::Code(code));
        }
    }
}

async fn read_request_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while buf.len() < MAX_REDIRECT_REQUEST {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await.ok()?.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8(buf).ok()
}

/// The path and query of `GET /path?query HTTP/1.1`.
fn request_target(head: &str) -> Option<&str> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    (parts.next()? == "GET").then_some(())?;
    parts.next().filter(|t| t.starts_with('/'))
}

async fn respond(stream: &mut tokio::net::TcpStream, status: u16, message: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Ringside</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>Ringside</h1><p>{message}</p></body></html>"
    );
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_a_get_request_line_gives_a_target() {
        assert_eq!(request_target("GET /oauth/callback?code=x HTTP/1.1\r\nHost: a\r\n\r\n"), Some("/oauth/callback?code=x"));
        assert_eq!(request_target("POST /oauth/callback HTTP/1.1\r\n"), None);
        assert_eq!(request_target("garbage"), None);
    }

    #[test]
    fn plain_http_is_only_for_this_machine() {
        let ok = |u: &str| is_secure_or_loopback(&url::Url::parse(u).unwrap());
        assert!(ok("https://zoom.us") && ok("http://127.0.0.1:9") && ok("http://localhost/x"));
        assert!(!ok("http://zoom.us") && !ok("ftp://127.0.0.1"));
    }
}
