//! Signing in to Salesforce: OAuth 2.0 authorization code with PKCE (S256) and a
//! loopback redirect on 127.0.0.1 (RFC 8252), token refresh and revocation.
//!
//! Written here rather than with the `oauth2` crate: Salesforce's token answer carries
//! `instance_url` and `id`, which that crate would need custom extra-field types for,
//! and it brings its own reqwest 0.12 beside ours; PKCE itself is a hash and a random
//! string. The browser is opened by the caller (the desktop shell's opener, or the
//! rep for the CLI); this module only builds the URL and waits for the redirect.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::Rng as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::error::SalesforceError;
use super::session::Session;
use crate::secrets::Sensitive;

const CALLBACK_PATH: &str = "/oauth/callback";
/// How long the loopback listener waits for the rep to finish in the browser.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);
/// Largest redirect request read from the browser; a real one is a few hundred bytes.
const MAX_REDIRECT_REQUEST: usize = 16 * 1024;

/// Where the rep signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginHost {
    Production,
    Sandbox,
    /// A My Domain (`acme.my.salesforce.com`) or any https login URL; `http` only for
    /// loopback addresses (the sandbox org in tests and demos).
    Custom(String),
}

impl LoginHost {
    pub fn parse(value: &str) -> Result<LoginHost, SalesforceError> {
        match value.trim() {
            "" | "production" | "login" => return Ok(LoginHost::Production),
            "sandbox" | "test" => return Ok(LoginHost::Sandbox),
            _ => {}
        }
        let v = value.trim().trim_end_matches('/');
        let url = if v.contains("://") { v.to_string() } else { format!("https://{v}") };
        let parsed = url::Url::parse(&url)
            .map_err(|_| SalesforceError::SignIn(format!("\u{201c}{value}\u{201d} is not a login address")))?;
        let host = parsed.host_str().unwrap_or("");
        let loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(SalesforceError::SignIn("a Salesforce login address must use https".into()));
        }
        Ok(LoginHost::Custom(url))
    }

    pub fn base_url(&self) -> String {
        match self {
            LoginHost::Production => "https://login.salesforce.com".into(),
            LoginHost::Sandbox => "https://test.salesforce.com".into(),
            LoginHost::Custom(url) => url.clone(),
        }
    }
}

/// A sign-in in progress: open `authorize_url` in the browser, then [`SignIn::finish`].
pub struct SignIn {
    pub authorize_url: String,
    login: LoginHost,
    client_id: String,
    redirect_uri: String,
    state: String,
    verifier: Sensitive<String>,
    listener: TcpListener,
}

/// Salesforce's token endpoint answer (fields Ringside uses).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub instance_url: String,
    pub id: String,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The S256 challenge for a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl SignIn {
    /// Binds the loopback listener (`port` 0 picks a free one) and builds the URL.
    pub async fn begin(login: LoginHost, client_id: &str, port: u16) -> Result<SignIn, SalesforceError> {
        if client_id.trim().is_empty() {
            return Err(SalesforceError::SignIn(
                "no consumer key is set; your Salesforce admin creates the connected app and gives you its key".into(),
            ));
        }
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| SalesforceError::SignIn(format!("cannot listen on 127.0.0.1:{port} for the sign-in ({e})")))?;
        let port = listener.local_addr().map_err(|e| SalesforceError::SignIn(e.to_string()))?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
        let verifier = Sensitive::new(random_token(48));
        let state = random_token(24);
        let mut url = url::Url::parse(&format!("{}/services/oauth2/authorize", login.base_url()))
            .map_err(|e| SalesforceError::SignIn(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("code_challenge", &pkce_challenge(verifier.expose()))
            .append_pair("code_challenge_method", "S256")
            .append_pair("scope", "api refresh_token")
            .append_pair("state", &state);
        Ok(SignIn {
            authorize_url: url.into(),
            login,
            client_id: client_id.to_string(),
            redirect_uri,
            state,
            verifier,
            listener,
        })
    }

    /// Waits for the browser's redirect, answers it with a page the rep can close, and
    /// exchanges the code for tokens.
    pub async fn finish(self, http: &reqwest::Client) -> Result<Session, SalesforceError> {
        let code = tokio::time::timeout(SIGN_IN_TIMEOUT, self.wait_for_code())
            .await
            .map_err(|_| SalesforceError::SignIn("no answer from the browser within 5 minutes".into()))??;
        let params = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", self.verifier.expose().as_str()),
        ];
        let token = token_request(http, &self.login, &params).await?;
        Session::from_token(token, &self.login, &self.client_id)
    }

    async fn wait_for_code(&self) -> Result<String, SalesforceError> {
        loop {
            let (mut stream, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| SalesforceError::SignIn(format!("loopback listener failed: {e}")))?;
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
                let description = get("error_description").unwrap_or_default();
                let _ = respond(&mut stream, 200, "Sign-in cancelled. You can close this tab.").await;
                return Err(SalesforceError::SignIn(format!("Salesforce answered {error}: {description}")));
            }
            let Some(code) = get("code") else {
                let _ = respond(&mut stream, 400, "The answer carried no code.").await;
                continue;
            };
            let _ = respond(&mut stream, 200, "Ringside is connected to Salesforce. You can close this tab.").await;
            return Ok(code);
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

/// POSTs to the token endpoint; OAuth errors become typed errors (`invalid_grant` means
/// the refresh token is gone: the rep must sign in again).
pub(crate) async fn token_request(
    http: &reqwest::Client,
    login: &LoginHost,
    params: &[(&str, &str)],
) -> Result<TokenResponse, SalesforceError> {
    let response = http
        .post(format!("{}/services/oauth2/token", login.base_url()))
        .form(params)
        .send()
        .await
        .map_err(SalesforceError::from_reqwest)?;
    let status = response.status().as_u16();
    let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = response.bytes().await.map_err(SalesforceError::from_reqwest)?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body).map_err(|e| SalesforceError::BadResponse(format!("token answer: {e}")));
    }
    if let Ok(err) = serde_json::from_slice::<OAuthErrorBody>(&body) {
        return Err(match err.error.as_str() {
            "invalid_grant" => SalesforceError::SignedOut { reason: err.error_description },
            _ => SalesforceError::SignIn(format!("{}: {}", err.error, err.error_description)),
        });
    }
    Err(super::error::classify(status, content_type.as_deref(), &body))
}

/// Revokes a token (the refresh token revokes the whole grant). Salesforce answers 200
/// for an already revoked token, so revoking twice is fine.
pub(crate) async fn revoke(http: &reqwest::Client, login: &LoginHost, token: &str) -> Result<(), SalesforceError> {
    let response = http
        .post(format!("{}/services/oauth2/revoke", login.base_url()))
        .form(&[("token", token)])
        .send()
        .await
        .map_err(SalesforceError::from_reqwest)?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = response.bytes().await.map_err(SalesforceError::from_reqwest)?;
    Err(super::error::classify(status, content_type.as_deref(), &body))
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
    fn login_hosts_are_understood_and_plain_http_is_refused_off_loopback() {
        assert_eq!(LoginHost::parse("sandbox").unwrap().base_url(), "https://test.salesforce.com");
        assert_eq!(LoginHost::parse("acme.my.salesforce.com").unwrap().base_url(), "https://acme.my.salesforce.com");
        assert!(LoginHost::parse("http://login.example.com").is_err());
        assert!(LoginHost::parse("http://127.0.0.1:8787").is_ok());
    }

    #[test]
    fn only_a_get_request_line_gives_a_target() {
        assert_eq!(request_target("GET /oauth/callback?code=x HTTP/1.1\r\nHost: a\r\n\r\n"), Some("/oauth/callback?code=x"));
        assert_eq!(request_target("POST /oauth/callback HTTP/1.1\r\n"), None);
        assert_eq!(request_target("garbage"), None);
    }
}
