//! A connected meeting provider account (Zoom now; Webex the same way): its OAuth
//! sign-in (authorization code with PKCE on a loopback redirect, no client secret),
//! its tokens — only in the OS keyring, one item per provider, rewritten whole when a
//! refresh rotates them — and the authenticated JSON calls every provider module makes.
//!
//! What must stay true: a token never reaches a log, a file or an error message; an
//! expired access token is renewed once and the call retried, and a refused refresh
//! signs the provider out with the reason instead of retrying forever; a rate limit,
//! an outage or an HTML page where JSON was expected is a typed error, never a panic.

use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MeetingError, Provider};
use crate::oauth::{Loopback, Redirect};
use crate::secrets::{Keyring, Sensitive};

/// Renew an access token this long before it expires.
const RENEW_MARGIN_SECS: i64 = 120;
const TIMEOUT: Duration = Duration::from_secs(20);

fn keyring_account(provider: Provider) -> String {
    format!("meetings-{}", provider.as_str())
}

fn secret_account(provider: Provider) -> String {
    format!("meetings-{}-client-secret", provider.as_str())
}

/// The provider app's client secret, when the admin handed one out (Webex integrations
/// have one; Zoom's public clients do not). Kept in the keyring only.
pub fn client_secret(keyring: &Keyring, provider: Provider) -> Result<Option<Sensitive<String>>, MeetingError> {
    let secret = keyring.get(&secret_account(provider)).map_err(|e| MeetingError::Provider(e.to_string()))?;
    if let Some(s) = &secret {
        crate::secrets::remember_secret(s.expose());
    }
    Ok(secret)
}

/// Keeps (or, when empty, forgets) the provider app's client secret.
pub fn set_client_secret(keyring: &Keyring, provider: Provider, secret: &str) -> Result<(), MeetingError> {
    let secret = secret.trim();
    if secret.is_empty() {
        return keyring.delete(&secret_account(provider)).map_err(|e| MeetingError::Provider(e.to_string()));
    }
    if secret.len() > 512 || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(MeetingError::Invalid(format!("That is not a {} client secret: paste it as the integration page shows it.", provider.label())));
    }
    crate::secrets::remember_secret(secret);
    keyring.put(&secret_account(provider), &Sensitive::new(secret.to_string())).map_err(|e| MeetingError::Provider(e.to_string()))
}

/// Where a provider's sign-in and API live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize: String,
    pub token: String,
    pub revoke: Option<String>,
    /// Used when the token answer names no API address.
    pub api: String,
    pub scope: Option<String>,
}

impl Endpoints {
    /// Zoom: sign-in on `oauth_url` (`https://zoom.us`), API at the token's `api_url`.
    pub fn zoom(oauth_url: &str) -> Endpoints {
        let base = oauth_url.trim_end_matches('/');
        Endpoints {
            authorize: format!("{base}/oauth/authorize"),
            token: format!("{base}/oauth/token"),
            revoke: Some(format!("{base}/oauth/revoke")),
            api: "https://api.zoom.us".into(),
            scope: None,
        }
    }

    /// Webex: sign-in and API both on `base` (`https://webexapis.com`). Webex has no
    /// revocation endpoint for integrations: the rep removes the grant in Webex's
    /// settings; disconnecting forgets the tokens.
    pub fn webex(base: &str) -> Endpoints {
        let base = base.trim_end_matches('/');
        Endpoints {
            authorize: format!("{base}/v1/authorize"),
            token: format!("{base}/v1/access_token"),
            revoke: None,
            api: base.to_string(),
            scope: Some("spark:people_read meeting:schedules_read meeting:schedules_write meeting:participants_read meeting:recordings_read".into()),
        }
    }
}

#[derive(Clone)]
pub struct Account {
    pub provider: Provider,
    pub client_id: String,
    pub endpoints_token: String,
    pub endpoints_revoke: Option<String>,
    pub api_url: String,
    client_secret: Option<Sensitive<String>>,
    access: Sensitive<String>,
    refresh: Option<Sensitive<String>>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The keyring form; never logged (no `Debug`).
#[derive(Serialize, Deserialize)]
struct Stored {
    client_id: String,
    token_url: String,
    revoke_url: Option<String>,
    api_url: String,
    #[serde(default)]
    client_secret: Option<String>,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: i64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    /// Zoom names the API host of the user's region here.
    #[serde(default)]
    api_url: Option<String>,
}

impl Account {
    pub fn save(&self, keyring: &Keyring) -> Result<(), MeetingError> {
        let stored = Stored {
            client_id: self.client_id.clone(),
            token_url: self.endpoints_token.clone(),
            revoke_url: self.endpoints_revoke.clone(),
            api_url: self.api_url.clone(),
            client_secret: self.client_secret.as_ref().map(|c| c.expose().clone()),
            access_token: self.access.expose().clone(),
            refresh_token: self.refresh.as_ref().map(|r| r.expose().clone()),
            expires_at: self.expires_at,
        };
        let json = serde_json::to_string(&stored).map_err(|e| MeetingError::Provider(e.to_string()))?;
        keyring.put(&keyring_account(self.provider), &Sensitive::new(json)).map_err(|e| MeetingError::Provider(e.to_string()))
    }

    pub fn load(keyring: &Keyring, provider: Provider) -> Result<Option<Account>, MeetingError> {
        let Some(json) = keyring.get(&keyring_account(provider)).map_err(|e| MeetingError::Provider(e.to_string()))? else {
            return Ok(None);
        };
        let Ok(s) = serde_json::from_str::<Stored>(json.expose()) else {
            return Err(MeetingError::SignedOut { provider: provider.label(), reason: "the saved sign-in could not be read".into() });
        };
        crate::secrets::remember_secret(&s.access_token);
        if let Some(c) = &s.client_secret {
            crate::secrets::remember_secret(c);
        }
        if let Some(r) = &s.refresh_token {
            crate::secrets::remember_secret(r);
        }
        Ok(Some(Account {
            provider,
            client_id: s.client_id,
            endpoints_token: s.token_url,
            endpoints_revoke: s.revoke_url,
            api_url: s.api_url,
            client_secret: s.client_secret.map(Sensitive::new),
            access: Sensitive::new(s.access_token),
            refresh: s.refresh_token.map(Sensitive::new),
            expires_at: s.expires_at,
        }))
    }

    pub fn forget(keyring: &Keyring, provider: Provider) -> Result<(), MeetingError> {
        keyring.delete(&keyring_account(provider)).map_err(|e| MeetingError::Provider(e.to_string()))
    }

    fn from_answer(
        provider: Provider,
        client: (&str, Option<&Sensitive<String>>),
        endpoints: (&str, Option<&str>, &str),
        t: TokenAnswer,
        now: i64,
        old_refresh: Option<&Sensitive<String>>,
    ) -> Account {
        let (client_id, client_secret) = client;
        crate::secrets::remember_secret(&t.access_token);
        if let Some(r) = &t.refresh_token {
            crate::secrets::remember_secret(r);
        }
        Account {
            provider,
            client_id: client_id.to_string(),
            endpoints_token: endpoints.0.to_string(),
            endpoints_revoke: endpoints.1.map(str::to_string),
            api_url: t.api_url.unwrap_or_else(|| endpoints.2.to_string()).trim_end_matches('/').to_string(),
            client_secret: client_secret.cloned(),
            access: Sensitive::new(t.access_token),
            refresh: t.refresh_token.map(Sensitive::new).or_else(|| old_refresh.cloned()),
            expires_at: now + t.expires_in.unwrap_or(3_600),
        }
    }
}

/// A connection in progress: open `authorize_url` in the browser, then `finish`.
pub struct Connect {
    pub authorize_url: String,
    provider: Provider,
    client_id: String,
    endpoints: Endpoints,
    client_secret: Option<Sensitive<String>>,
    loopback: Loopback,
}

impl Connect {
    /// `client_secret`: the app's secret when it has one (sent with the code and each
    /// refresh, besides the PKCE verifier).
    pub async fn begin(provider: Provider, client_id: &str, client_secret: Option<Sensitive<String>>, endpoints: Endpoints, port: u16) -> Result<Connect, MeetingError> {
        if client_id.trim().is_empty() {
            return Err(MeetingError::NotConfigured { provider: provider.label() });
        }
        let loopback = Loopback::bind(port, provider.label()).await.map_err(MeetingError::Provider)?;
        let url = url::Url::parse(&endpoints.authorize).map_err(|e| MeetingError::Provider(e.to_string()))?;
        if !crate::oauth::is_secure_or_loopback(&url) {
            return Err(MeetingError::Invalid(format!("{}: a sign-in address must use https.", endpoints.authorize)));
        }
        let authorize_url = loopback.authorize_url(url, client_id, endpoints.scope.as_deref());
        Ok(Connect { authorize_url, provider, client_id: client_id.to_string(), endpoints, client_secret, loopback })
    }

    /// Waits for the redirect, exchanges the code and keeps the tokens in the keyring.
    pub async fn finish(self, http: &reqwest::Client, keyring: &Keyring, now: i64) -> Result<Account, MeetingError> {
        let label = self.provider.label();
        let code = match self.loopback.wait().await.map_err(MeetingError::Provider)? {
            Redirect::Code(c) => c,
            Redirect::Refused { error, description } => {
                return Err(MeetingError::SignedOut { provider: label, reason: format!("{label} answered {error} {description}").trim().to_string() })
            }
        };
        let mut params = self.loopback.code_exchange(&code, &self.client_id).to_vec();
        if let Some(secret) = &self.client_secret {
            params.push(("client_secret", secret.expose().as_str()));
        }
        let answer = token_request(http, self.provider, &self.endpoints.token, &params).await?;
        let account = Account::from_answer(
            self.provider,
            (&self.client_id, self.client_secret.as_ref()),
            (&self.endpoints.token, self.endpoints.revoke.as_deref(), &self.endpoints.api),
            answer,
            now,
            None,
        );
        account.save(keyring)?;
        Ok(account)
    }
}

async fn token_request(http: &reqwest::Client, provider: Provider, url: &str, params: &[(&str, &str)]) -> Result<TokenAnswer, MeetingError> {
    let label = provider.label();
    let response = http.post(url).form(params).timeout(TIMEOUT).send().await.map_err(|e| unreachable(label, &e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| unreachable(label, &e))?;
    if (200..300).contains(&status) {
        return serde_json::from_slice(&body)
            .map_err(|_| MeetingError::Unavailable { provider: label, message: format!("{label}'s sign-in answered something that is not a token") });
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let error = v["error"].as_str().unwrap_or_default();
    let reason = v["reason"].as_str().or(v["error_description"].as_str()).unwrap_or(error);
    match (status, error) {
        (400 | 401, "invalid_grant" | "invalid_client" | "invalid_token") => {
            Err(MeetingError::SignedOut { provider: label, reason: format!("{label} refused the sign-in ({reason})") })
        }
        (s, _) if s >= 500 || v.is_null() => Err(MeetingError::Unavailable { provider: label, message: format!("{label}'s sign-in answered HTTP {s}") }),
        _ => Err(MeetingError::SignedOut { provider: label, reason: format!("{label} refused the sign-in ({reason})") }),
    }
}

fn unreachable(label: &'static str, e: &reqwest::Error) -> MeetingError {
    let what = if e.is_timeout() { "did not answer in time" } else { "cannot be reached" };
    MeetingError::Unavailable { provider: label, message: format!("{label} {what}; check the network and try again") }
}

/// An API answer that is not a success, as the provider module needs it to decide.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: u16,
    /// Zoom's numeric `code`, or a Webex error's first message; the body as JSON.
    pub body: Value,
}

/// When a 429 says to come back: `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: i64) -> Option<i64> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Some(now + secs.max(0));
    }
    chrono::DateTime::parse_from_rfc2822(v)
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(v))
        .ok()
        .map(|t| t.timestamp())
}

/// A provider's API, signed in. One instance per provider for the life of the app.
pub struct Client {
    pub provider: Provider,
    http: reqwest::Client,
    keyring: Keyring,
    account: tokio::sync::Mutex<Option<Account>>,
}

impl Client {
    pub fn new(provider: Provider, http: reqwest::Client, keyring: Keyring) -> Client {
        Client { provider, http, keyring, account: tokio::sync::Mutex::new(None) }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The account signed in, read from the keyring the first time.
    async fn current(&self) -> Result<Account, MeetingError> {
        let mut slot = self.account.lock().await;
        if slot.is_none() {
            *slot = Account::load(&self.keyring, self.provider)?;
        }
        slot.clone().ok_or(MeetingError::NotConnected { provider: self.provider.label() })
    }

    pub async fn is_connected(&self) -> bool {
        self.current().await.is_ok()
    }

    pub async fn adopt(&self, account: Account) {
        *self.account.lock().await = Some(account);
    }

    /// Revokes the grant (best effort) and forgets the tokens.
    pub async fn disconnect(&self) -> Result<(), MeetingError> {
        let account = self.account.lock().await.take().or(Account::load(&self.keyring, self.provider).ok().flatten());
        if let Some(a) = account {
            if let Some(url) = &a.endpoints_revoke {
                let token = a.refresh.as_ref().unwrap_or(&a.access);
                let sent = self.http.post(url).query(&[("token", token.expose().as_str())]).timeout(TIMEOUT).send().await;
                if let Err(e) = sent {
                    tracing::warn!(provider = self.provider.as_str(), error = %crate::secrets::scrub(&e.to_string()), "revoking the grant failed; tokens forgotten anyway");
                }
            }
        }
        Account::forget(&self.keyring, self.provider)
    }

    /// Renews the access token unless another call just did (`stale` is the token the
    /// caller saw refused). A refused refresh forgets the account.
    async fn renew(&self, stale: &Account, now: i64) -> Result<Account, MeetingError> {
        let mut slot = self.account.lock().await;
        if let Some(current) = slot.as_ref() {
            if current.access.expose() != stale.access.expose() {
                return Ok(current.clone());
            }
        }
        let label = self.provider.label();
        let Some(refresh) = stale.refresh.clone() else {
            return Err(MeetingError::SignedOut { provider: label, reason: "the sign-in expired".into() });
        };
        let mut params = vec![("grant_type", "refresh_token"), ("refresh_token", refresh.expose().as_str()), ("client_id", stale.client_id.as_str())];
        if let Some(secret) = &stale.client_secret {
            params.push(("client_secret", secret.expose().as_str()));
        }
        match token_request(&self.http, self.provider, &stale.endpoints_token, &params).await {
            Ok(answer) => {
                let renewed = Account::from_answer(
                    self.provider,
                    (&stale.client_id, stale.client_secret.as_ref()),
                    (&stale.endpoints_token, stale.endpoints_revoke.as_deref(), &stale.api_url),
                    answer,
                    now,
                    stale.refresh.as_ref(),
                );
                // The old refresh token is spent (rotation): keep the new one before anything else.
                renewed.save(&self.keyring)?;
                *slot = Some(renewed.clone());
                Ok(renewed)
            }
            Err(e @ MeetingError::SignedOut { .. }) => {
                tracing::warn!(provider = self.provider.as_str(), "refresh refused; the provider is signed out");
                *slot = None;
                let _ = Account::forget(&self.keyring, self.provider);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// One JSON call on the API (`path` starts with `/`, relative to the account's API
    /// address). `Ok(Err(failure))` is an answer the provider module interprets (404 of
    /// a meeting, a 400 naming a field); transport trouble, 429, 5xx and non-JSON pages
    /// are `Err`.
    pub async fn call(&self, method: Method, path: &str, query: &[(&str, String)], body: Option<&Value>, now: i64) -> Result<Result<Value, ApiFailure>, MeetingError> {
        Ok(self.call_page(method, path, query, body, now).await?.map(|(v, _)| v))
    }

    /// As [`Client::call`], with the next page's address when the answer names one in an
    /// RFC 8288 `Link: <…>; rel="next"` header (Webex's paging). `path` may be such an
    /// address; it must be on the account's API host, so the token never goes elsewhere.
    pub async fn call_page(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        now: i64,
    ) -> Result<Result<(Value, Option<String>), ApiFailure>, MeetingError> {
        let label = self.provider.label();
        let mut account = self.current().await?;
        if account.expires_at - RENEW_MARGIN_SECS <= now {
            account = self.renew(&account, now).await?;
        }
        let mut renewed = false;
        loop {
            let url = if path.starts_with('/') {
                format!("{}{path}", account.api_url)
            } else if path.strip_prefix(account.api_url.as_str()).is_some_and(|rest| rest.starts_with('/')) {
                path.to_string()
            } else {
                return Err(MeetingError::Unavailable { provider: label, message: format!("{label}'s next page is on another address; the listing stopped there") });
            };
            let mut request = self
                .http
                .request(method.clone(), url)
                .bearer_auth(account.access.expose())
                .timeout(TIMEOUT);
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(b) = body {
                request = request.json(b);
            }
            let response = request.send().await.map_err(|e| unreachable(label, &e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let is_json = headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.contains("json"));
            let bytes = response.bytes().await.map_err(|e| unreachable(label, &e))?;
            if status == 204 {
                return Ok(Ok((Value::Null, None)));
            }
            let json: Option<Value> = if is_json { serde_json::from_slice(&bytes).ok() } else { None };
            match (status, json) {
                (200..=299, Some(v)) => return Ok(Ok((v, next_link(&headers)))),
                (200..=299, None) => {
                    return Err(MeetingError::Unavailable { provider: label, message: format!("{label} answered a page that is not JSON; try again later") })
                }
                (401, _) if !renewed => {
                    renewed = true;
                    account = self.renew(&account, now).await?;
                }
                (401, _) => return Err(MeetingError::SignedOut { provider: label, reason: "the token was refused after renewing it".into() }),
                (429, v) => {
                    let message = v.as_ref().and_then(|v| v["message"].as_str()).unwrap_or("too many requests").to_string();
                    let retry_at = retry_after(&headers, now).or_else(|| daily_reset(&message, now));
                    return Err(MeetingError::RateLimited { provider: label, message, retry_at });
                }
                (s, _) if s >= 500 => {
                    return Err(MeetingError::Unavailable { provider: label, message: format!("{label} answered HTTP {s}; try again later") })
                }
                (s, Some(v)) => return Ok(Err(ApiFailure { status: s, body: v })),
                (s, None) => {
                    return Err(MeetingError::Unavailable { provider: label, message: format!("{label} answered HTTP {s} with a page that is not JSON") })
                }
            }
        }
    }
}

/// The `rel="next"` target of a `Link` header, if there is one.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get_all(reqwest::header::LINK).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .any(|(k, v)| k.trim().eq_ignore_ascii_case("rel") && v.trim().trim_matches('"').split_whitespace().any(|r| r.eq_ignore_ascii_case("next")))
            .then(|| target.to_string())
    })
}

/// Zoom's daily limits name no `Retry-After`; they reset at 00:00 UTC.
fn daily_reset(message: &str, now: i64) -> Option<i64> {
    message.contains("daily").then(|| (now.div_euclid(86_400) + 1) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h, 100), Some(107));
        h.insert(reqwest::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h, 0), Some(1_445_412_480));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h, 0), None);
        assert_eq!(daily_reset("You have exceeded the daily rate limit", 86_400 + 5), Some(2 * 86_400));
    }
}
