//! A signed-in client against a fresh org with a frozen clock.

use reqwest::{Client, StatusCode};
use ringside_sforg::{spawn, ClockStart, OffsetDateTime, OrgConfig, RunningOrg};
use serde_json::Value;

/// Every test org starts at this instant, so dates in queries are deterministic.
pub fn start() -> OffsetDateTime {
    time::macros::datetime!(2026-11-20 09:00:00 UTC)
}

pub fn config() -> OrgConfig {
    OrgConfig { clock: ClockStart::Fixed(start()), auto_approve: true, ..OrgConfig::default() }
}

pub struct Api {
    pub org: RunningOrg,
    pub http: Client,
    pub token: String,
}

pub async fn api() -> Api {
    api_with(config()).await
}

pub async fn api_with(config: OrgConfig) -> Api {
    let org = spawn(config).await;
    let token = org.sign_in().access_token;
    let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a plain HTTP client builds");
    Api { org, http, token }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The first error code of a Salesforce error array.
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.body[0]["message"].as_str().unwrap_or_default()
    }
    pub fn limit_info(&self) -> Option<String> {
        self.headers.get("Sforce-Limit-Info").and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("the org answers with a body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Answer { status, headers, body }
}

impl Api {
    /// A fresh session, after moving the clock past the token's lifetime.
    pub fn renew(&mut self) {
        self.token = self.org.sign_in().access_token;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.org.data_url())
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        answer(req.bearer_auth(&self.token).send().await.expect("the org is reachable")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn query(&self, soql: &str) -> Answer {
        self.send(self.http.get(self.url("/query")).query(&[("q", soql)])).await
    }

    pub async fn search(&self, sosl: &str) -> Answer {
        self.send(self.http.get(self.url("/search")).query(&[("q", sosl)])).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.http.delete(self.url(path))).await
    }
}

/// Ids of the records in a query or search answer.
pub fn ids(records: &Value) -> Vec<String> {
    records.as_array().into_iter().flatten().filter_map(|r| r["Id"].as_str().map(str::to_string)).collect()
}
