//! What the servers hold: the clock, OAuth grants and tokens, the injected faults and
//! the request log. Each provider's own data (meetings, participants, recordings) sits
//! beside it in its module's struct, under the same lock.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request as the server saw it (admin calls excluded), for tests to inspect.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    /// The path exactly as sent, still percent-encoded (so double encoding shows).
    pub raw_path: String,
    pub query: String,
    pub body: Value,
}

/// What goes wrong on a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum FaultKind {
    /// 429 with the provider's rate-limit body; `retry_after` seconds in a
    /// `Retry-After` header when set.
    RateLimited {
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// 500 with the provider's JSON error body.
    ServerError,
    /// 502 with an HTML page, as a proxy in front of the API answers.
    HtmlGateway,
    /// 401 as for an expired access token (the client must refresh and retry).
    ExpiredToken,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches paths starting with this.
    #[serde(default)]
    pub path_prefix: String,
    /// How many matching requests it fires on.
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(kind: FaultKind) -> Fault {
        Fault { kind, method: None, path_prefix: String::new(), times: 1 }
    }
    pub fn on(mut self, method: &str, path_prefix: &str) -> Fault {
        self.method = Some(method.to_ascii_uppercase());
        self.path_prefix = path_prefix.to_string();
        self
    }
    pub fn times(mut self, n: u32) -> Fault {
        self.times = n;
        self
    }
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub issued_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub expires_at: i64,
}

/// OAuth state of one provider: one user, one client.
#[derive(Debug, Default)]
pub(crate) struct OAuthBook {
    pub codes: HashMap<String, Grant>,
    pub access: HashMap<String, Access>,
    /// Live refresh tokens and when each expires (unix seconds). Zoom replaces the one
    /// used on every refresh (rotation); Webex keeps it until it expires.
    pub refresh: HashMap<String, i64>,
}

pub(crate) enum TokenCheck {
    Valid,
    Expired,
    Invalid,
}

impl OAuthBook {
    pub fn check(&self, token: &str, now: i64) -> TokenCheck {
        match self.access.get(token) {
            Some(a) if a.expires_at > now => TokenCheck::Valid,
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Invalid,
        }
    }

    /// A new access and refresh token pair, the access token valid `lifetime` seconds
    /// and the refresh token until it is spent or revoked.
    pub fn issue(&mut self, now: i64, lifetime: i64) -> (String, String) {
        (self.issue_access(now, lifetime), self.issue_refresh(i64::MAX))
    }

    /// A new access token alone, valid `lifetime` seconds.
    pub fn issue_access(&mut self, now: i64, lifetime: i64) -> String {
        let access = crate::random_id(32);
        self.access.insert(access.clone(), Access { expires_at: now + lifetime });
        access
    }

    /// A new refresh token, valid until `expires_at`.
    pub fn issue_refresh(&mut self, expires_at: i64) -> String {
        let refresh = crate::random_id(32);
        self.refresh.insert(refresh.clone(), expires_at);
        refresh
    }

    pub fn expire_all(&mut self) {
        for a in self.access.values_mut() {
            a.expires_at = i64::MIN;
        }
    }

    pub fn revoke(&mut self, token: &str) {
        self.access.remove(token);
        self.refresh.remove(token);
    }
}

#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    rules: Vec<Fault>,
}

impl FaultBook {
    pub fn push(&mut self, f: Fault) {
        if f.times > 0 {
            self.rules.push(f);
        }
    }
    pub fn clear(&mut self) {
        self.rules.clear();
    }
    /// The fault this request meets, if any (counted down, in queue order).
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let i = self.rules.iter().position(|f| {
            f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && path.starts_with(&f.path_prefix)
        })?;
        let kind = self.rules[i].kind;
        self.rules[i].times -= 1;
        if self.rules[i].times == 0 {
            self.rules.remove(i);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_fire_as_many_times_as_asked_on_matching_requests_only() {
        let mut book = FaultBook::default();
        book.push(Fault::new(FaultKind::ServerError).on("POST", "/v2/users").times(2));
        assert_eq!(book.take("GET", "/v2/users/me/meetings"), None);
        assert!(book.take("post", "/v2/users/me/meetings").is_some());
        assert!(book.take("POST", "/v2/users/me/meetings").is_some());
        assert_eq!(book.take("POST", "/v2/users/me/meetings"), None);
    }

    #[test]
    fn a_refreshed_or_expired_token_is_told_apart_from_an_unknown_one() {
        let mut book = OAuthBook::default();
        let (a, _) = book.issue(100, 60);
        assert!(matches!(book.check(&a, 120), TokenCheck::Valid));
        assert!(matches!(book.check(&a, 200), TokenCheck::Expired));
        assert!(matches!(book.check("nope", 120), TokenCheck::Invalid));
    }
}
