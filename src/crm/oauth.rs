//! Signing in to Salesforce: the authorization code flow with PKCE on a loopback
//! redirect (the common part is [`crate::oauth`]), token refresh and revocation.

use serde::Deserialize;

use super::error::SalesforceError;
use super::session::Session;
use crate::oauth::{Loopback, Redirect};

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
        if !crate::oauth::is_secure_or_loopback(&parsed) {
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
    loopback: Loopback,
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

impl SignIn {
    /// Binds the loopback listener (`port` 0 picks a free one) and builds the URL.
    pub async fn begin(login: LoginHost, client_id: &str, port: u16) -> Result<SignIn, SalesforceError> {
        if client_id.trim().is_empty() {
            return Err(SalesforceError::SignIn(
                "no consumer key is set; your Salesforce admin creates the connected app and gives you its key".into(),
            ));
        }
        let loopback = Loopback::bind(port, "Salesforce").await.map_err(SalesforceError::SignIn)?;
        let url = url::Url::parse(&format!("{}/services/oauth2/authorize", login.base_url()))
            .map_err(|e| SalesforceError::SignIn(e.to_string()))?;
        let authorize_url = loopback.authorize_url(url, client_id, Some("api refresh_token"));
        Ok(SignIn { authorize_url, login, client_id: client_id.to_string(), loopback })
    }

    /// Waits for the browser's redirect, answers it with a page the rep can close, and
    /// exchanges the code for tokens.
    pub async fn finish(self, http: &reqwest::Client) -> Result<Session, SalesforceError> {
        let code = match self.loopback.wait().await.map_err(SalesforceError::SignIn)? {
            Redirect::Code(code) => code,
            Redirect::Refused { error, description } => {
                return Err(SalesforceError::SignIn(format!("Salesforce answered {error}: {description}")))
            }
        };
        let params = self.loopback.code_exchange(&code, &self.client_id);
        let token = token_request(http, &self.login, &params).await?;
        Session::from_token(token, &self.login, &self.client_id)
    }
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
    fn login_hosts_are_understood_and_plain_http_is_refused_off_loopback() {
        assert_eq!(LoginHost::parse("sandbox").unwrap().base_url(), "https://test.salesforce.com");
        assert_eq!(LoginHost::parse("acme.my.salesforce.com").unwrap().base_url(), "https://acme.my.salesforce.com");
        assert!(LoginHost::parse("http://login.example.com").is_err());
        assert!(LoginHost::parse("http://127.0.0.1:8787").is_ok());
    }
}
