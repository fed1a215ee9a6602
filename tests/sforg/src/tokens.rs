//! The OAuth book: authorization codes (single use, 15 minutes, bound to client,
//! redirect URI and PKCE challenge), access tokens (expire after the session timeout,
//! revocable, all expirable at once) and refresh tokens (valid until revoked; rotated on
//! use when rotation is on). Pure logic over the org's clock and RNG; no HTTP here.

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::ids::random_base62;

/// Salesforce authorization codes are valid for 15 minutes.
const CODE_TTL: Duration = Duration::from_secs(15 * 60);

/// An OAuth error as the token endpoint returns it: `{"error","error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub error: &'static str,
    pub description: &'static str,
}

const fn oauth_error(error: &'static str, description: &'static str) -> OAuthError {
    OAuthError { error, description }
}

pub(crate) const EXPIRED_TOKEN: OAuthError = oauth_error("invalid_grant", "expired access/refresh token");
pub(crate) const INVALID_CLIENT: OAuthError = oauth_error("invalid_client_id", "client identifier invalid");
pub(crate) const REDIRECT_MISMATCH: OAuthError = oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration");
const INVALID_CODE: OAuthError = oauth_error("invalid_grant", "invalid authorization code");
const EXPIRED_CODE: OAuthError = oauth_error("invalid_grant", "expired authorization code");
const INVALID_VERIFIER: OAuthError = oauth_error("invalid_grant", "invalid code verifier");

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    user_id: String,
    scope: String,
    expires_at: OffsetDateTime,
    used: bool,
}

#[derive(Debug, Clone)]
struct Access {
    user_id: String,
    refresh: Option<String>,
    expires_at: OffsetDateTime,
    revoked: bool,
}

#[derive(Debug, Clone)]
struct Refresh {
    user_id: String,
    client_id: String,
    scope: String,
    revoked: bool,
}

/// Tokens handed out by a grant.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub user_id: String,
    pub scope: String,
    pub issued_at: OffsetDateTime,
}

#[derive(Debug)]
pub(crate) struct TokenBook {
    org_id: String,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    pub rotate_refresh_tokens: bool,
    pub access_ttl: Duration,
}

/// `base64url(sha256(verifier))`, the S256 transformation of RFC 7636.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Scopes that let a client get a refresh token.
fn grants_refresh(scope: &str) -> bool {
    scope.split_whitespace().any(|s| matches!(s, "refresh_token" | "offline_access" | "full"))
}

impl TokenBook {
    pub(crate) fn new(org_id: &str, access_ttl: Duration, rotate_refresh_tokens: bool) -> Self {
        TokenBook {
            org_id: org_id.to_string(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            rotate_refresh_tokens,
            access_ttl,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn issue_code(
        &mut self,
        rng: &mut impl Rng,
        now: OffsetDateTime,
        client_id: &str,
        redirect_uri: &str,
        challenge: Option<&str>,
        user_id: &str,
        scope: &str,
    ) -> String {
        // Real codes are base64 and end in "==", which must be URL-decoded by the client.
        let code = format!("aPrx{}==", random_base62(rng, 56));
        self.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.into(),
                redirect_uri: redirect_uri.into(),
                challenge: challenge.map(str::to_string),
                user_id: user_id.into(),
                scope: scope.into(),
                expires_at: now + CODE_TTL,
                used: false,
            },
        );
        code
    }

    pub(crate) fn redeem_code(
        &mut self,
        rng: &mut impl Rng,
        now: OffsetDateTime,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<Issued, OAuthError> {
        let entry = self.codes.get_mut(code).ok_or(INVALID_CODE)?;
        if entry.client_id != client_id {
            return Err(INVALID_CLIENT);
        }
        if entry.redirect_uri != redirect_uri {
            return Err(REDIRECT_MISMATCH);
        }
        if entry.used || entry.expires_at <= now {
            return Err(EXPIRED_CODE);
        }
        if let Some(challenge) = &entry.challenge {
            if verifier.is_none_or(|v| s256(v) != *challenge) {
                return Err(INVALID_VERIFIER);
            }
        }
        entry.used = true;
        let (user_id, scope, client) = (entry.user_id.clone(), entry.scope.clone(), entry.client_id.clone());
        let refresh = grants_refresh(&scope).then(|| self.new_refresh(rng, &user_id, &client, &scope));
        Ok(self.new_access(rng, now, &user_id, refresh, &scope))
    }

    pub(crate) fn refresh(
        &mut self,
        rng: &mut impl Rng,
        now: OffsetDateTime,
        token: &str,
        client_id: &str,
    ) -> Result<Issued, OAuthError> {
        let entry = self.refresh.get(token).filter(|r| !r.revoked).ok_or(EXPIRED_TOKEN)?;
        if entry.client_id != client_id {
            return Err(INVALID_CLIENT);
        }
        let (user_id, scope) = (entry.user_id.clone(), entry.scope.clone());
        let mut refresh_token = Some(token.to_string());
        if self.rotate_refresh_tokens {
            // The old refresh token dies; its access tokens live on until they expire.
            if let Some(old) = self.refresh.get_mut(token) {
                old.revoked = true;
            }
            refresh_token = Some(self.new_refresh(rng, &user_id, client_id, &scope));
        }
        let mut issued = self.new_access(rng, now, &user_id, refresh_token, &scope);
        if !self.rotate_refresh_tokens {
            issued.refresh_token = None;
        }
        Ok(issued)
    }

    /// Signs the user in without the browser dance (for tests of other layers).
    pub(crate) fn sign_in(&mut self, rng: &mut impl Rng, now: OffsetDateTime, user_id: &str, client_id: &str) -> Issued {
        let scope = "api refresh_token";
        let refresh = self.new_refresh(rng, user_id, client_id, scope);
        self.new_access(rng, now, user_id, Some(refresh), scope)
    }

    /// Revokes an access token, or a refresh token and every access token issued from it.
    pub(crate) fn revoke(&mut self, token: &str) -> bool {
        if let Some(a) = self.access.get_mut(token) {
            a.revoked = true;
            return true;
        }
        if let Some(r) = self.refresh.get_mut(token) {
            r.revoked = true;
            for a in self.access.values_mut().filter(|a| a.refresh.as_deref() == Some(token)) {
                a.revoked = true;
            }
            return true;
        }
        false
    }

    /// The user behind a live access token.
    pub(crate) fn session(&self, token: &str, now: OffsetDateTime) -> Option<&str> {
        self.access.get(token).filter(|a| !a.revoked && a.expires_at > now).map(|a| a.user_id.as_str())
    }

    pub(crate) fn expire_all_access_tokens(&mut self, now: OffsetDateTime) {
        for a in self.access.values_mut() {
            a.expires_at = a.expires_at.min(now);
        }
    }

    fn new_refresh(&mut self, rng: &mut impl Rng, user_id: &str, client_id: &str, scope: &str) -> String {
        let token = format!("5Aep861{}", random_base62(rng, 80));
        self.refresh.insert(
            token.clone(),
            Refresh { user_id: user_id.into(), client_id: client_id.into(), scope: scope.into(), revoked: false },
        );
        token
    }

    fn new_access(&mut self, rng: &mut impl Rng, now: OffsetDateTime, user_id: &str, refresh: Option<String>, scope: &str) -> Issued {
        // Salesforce access tokens start with the 15-character org id and '!'.
        let token = format!("{}!AQ{}", &self.org_id[..15], random_base62(rng, 96));
        self.access.insert(
            token.clone(),
            Access { user_id: user_id.into(), refresh: refresh.clone(), expires_at: now + self.access_ttl, revoked: false },
        );
        Issued { access_token: token, refresh_token: refresh, user_id: user_id.into(), scope: scope.into(), issued_at: now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn revoking_a_refresh_token_kills_the_access_tokens_issued_from_it() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut book = TokenBook::new("00D5g0000000001AAA", Duration::from_secs(7200), false);
        let issued = book.sign_in(&mut rng, now, "005x", "client");
        let refresh = issued.refresh_token.clone().unwrap();
        let second = book.refresh(&mut rng, now, &refresh, "client").unwrap();
        assert!(book.revoke(&refresh));
        assert_eq!(book.session(&issued.access_token, now), None);
        assert_eq!(book.session(&second.access_token, now), None, "tokens from a refresh die with it");
        assert_eq!(book.refresh(&mut rng, now, &refresh, "client").unwrap_err(), EXPIRED_TOKEN);
    }
}
