//! The signed-in Salesforce session: instance URL, user and org, and the tokens, which
//! live only in the OS keyring (one item, written in one call, so a rotated refresh
//! token replaces the old one atomically).

use serde::{Deserialize, Serialize};

use super::error::SalesforceError;
use super::oauth::{LoginHost, TokenResponse};
use crate::secrets::{Keyring, Sensitive};

/// Keyring account holding the session.
pub const KEYRING_ACCOUNT: &str = "salesforce";

#[derive(Clone, Debug)]
pub struct Session {
    pub instance_url: String,
    pub login: LoginHost,
    pub client_id: String,
    pub user_id: String,
    pub org_id: String,
    pub access_token: Sensitive<String>,
    pub refresh_token: Option<Sensitive<String>>,
}

/// The keyring form. Plain strings on purpose: this struct exists only between
/// `Session` and the keyring, and is never logged (no `Debug`).
#[derive(Serialize, Deserialize)]
struct Stored {
    instance_url: String,
    login_url: String,
    client_id: String,
    user_id: String,
    org_id: String,
    access_token: String,
    refresh_token: Option<String>,
}

impl Session {
    pub(crate) fn from_token(token: TokenResponse, login: &LoginHost, client_id: &str) -> Result<Session, SalesforceError> {
        // The identity URL ends in /id/<orgId>/<userId>.
        let mut parts = token.id.rsplit('/');
        let user_id = parts.next().unwrap_or_default().to_string();
        let org_id = parts.next().unwrap_or_default().to_string();
        if user_id.is_empty() || org_id.is_empty() {
            return Err(SalesforceError::BadResponse(format!("identity URL without org and user: {}", token.id)));
        }
        crate::secrets::remember_secret(&token.access_token);
        if let Some(r) = &token.refresh_token {
            crate::secrets::remember_secret(r);
        }
        Ok(Session {
            instance_url: token.instance_url.trim_end_matches('/').to_string(),
            login: login.clone(),
            client_id: client_id.to_string(),
            user_id,
            org_id,
            access_token: Sensitive::new(token.access_token),
            refresh_token: token.refresh_token.map(Sensitive::new),
        })
    }

    /// A refreshed access token (and, with rotation, a new refresh token).
    pub(crate) fn renewed(&self, token: TokenResponse) -> Session {
        crate::secrets::remember_secret(&token.access_token);
        if let Some(r) = &token.refresh_token {
            crate::secrets::remember_secret(r);
        }
        Session {
            instance_url: token.instance_url.trim_end_matches('/').to_string(),
            access_token: Sensitive::new(token.access_token),
            refresh_token: token.refresh_token.map(Sensitive::new).or_else(|| self.refresh_token.clone()),
            ..self.clone()
        }
    }

    pub fn save(&self, keyring: &Keyring) -> Result<(), SalesforceError> {
        let stored = Stored {
            instance_url: self.instance_url.clone(),
            login_url: self.login.base_url(),
            client_id: self.client_id.clone(),
            user_id: self.user_id.clone(),
            org_id: self.org_id.clone(),
            access_token: self.access_token.expose().clone(),
            refresh_token: self.refresh_token.as_ref().map(|t| t.expose().clone()),
        };
        let json = serde_json::to_string(&stored).map_err(|e| SalesforceError::BadResponse(e.to_string()))?;
        keyring.put(KEYRING_ACCOUNT, &Sensitive::new(json))?;
        Ok(())
    }

    pub fn load(keyring: &Keyring) -> Result<Option<Session>, SalesforceError> {
        let Some(json) = keyring.get(KEYRING_ACCOUNT)? else { return Ok(None) };
        let stored: Stored = serde_json::from_str(json.expose()).map_err(|_| {
            SalesforceError::SignedOut { reason: "the saved sign-in could not be read".into() }
        })?;
        crate::secrets::remember_secret(&stored.access_token);
        if let Some(r) = &stored.refresh_token {
            crate::secrets::remember_secret(r);
        }
        Ok(Some(Session {
            instance_url: stored.instance_url,
            login: LoginHost::parse(&stored.login_url)?,
            client_id: stored.client_id,
            user_id: stored.user_id,
            org_id: stored.org_id,
            access_token: Sensitive::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Sensitive::new),
        }))
    }

    pub fn forget(keyring: &Keyring) -> Result<(), SalesforceError> {
        Ok(keyring.delete(KEYRING_ACCOUNT)?)
    }
}
