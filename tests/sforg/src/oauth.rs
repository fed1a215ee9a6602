//! The OAuth 2.0 endpoints: the web server flow with PKCE (`authorize` consent page and
//! redirect, `token` for the code and refresh grants), `revoke`, `userinfo` and the
//! identity URL. Answers and errors mirror Salesforce's; token bookkeeping is in `tokens`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::org::{Org, API_VERSION};
use crate::tokens::{Issued, OAuthError, INVALID_CLIENT};

type Params = HashMap<String, String>;

fn oauth_error(e: OAuthError) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": e.error, "error_description": e.description}))).into_response()
}

/// Salesforce answers authorization with 302 Found.
fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_string())]).into_response()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    format!("{redirect_uri}{sep}{}", q.join("&"))
}

/// An error shown on Salesforce's own page: used when the redirect URI cannot be trusted.
fn error_page(error: &str, description: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>OAuth Error</h1>\
         <p>We can't authorize you because of an OAuth error. For more information, contact your Salesforce administrator.</p>\
         <p>{}: {}</p></body></html>",
        escape_html(error),
        escape_html(description)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

/// Checks an authorization request. `Err` is the response to send instead.
#[allow(clippy::result_large_err)] // the error is the answer itself, built once per request
fn check_authorize(org: &Org, p: &Params) -> Result<String, Response> {
    let client_id = p.get("client_id").map(String::as_str).unwrap_or_default();
    if client_id != org.config.client_id {
        return Err(error_page("invalid_client_id", "client identifier invalid"));
    }
    let redirect_uri = p.get("redirect_uri").cloned().unwrap_or_default();
    if !org.config.redirect_uris.contains(&redirect_uri) {
        return Err(error_page("redirect_uri_mismatch", "redirect_uri must match configuration"));
    }
    let state = p.get("state").cloned().unwrap_or_default();
    let fail = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if !state.is_empty() {
            pairs.push(("state", state.as_str()));
        }
        found(&with_query(&redirect_uri, &pairs))
    };
    if p.get("response_type").map(String::as_str) != Some("code") {
        return Err(fail("unsupported_response_type", "response type not supported"));
    }
    match (p.get("code_challenge"), p.get("code_challenge_method").map(String::as_str)) {
        (None, _) if org.config.require_pkce => return Err(fail("invalid_request", "missing required code challenge")),
        (Some(_), Some(m)) if m != "S256" => return Err(fail("invalid_request", "invalid code challenge method")),
        _ => {}
    }
    Ok(redirect_uri)
}

fn approve(org: &Org, p: &Params, redirect_uri: &str) -> Response {
    let user_id = org.fixed.signed_in_user.clone();
    let scope = p.get("scope").cloned().unwrap_or_else(|| "api refresh_token".into());
    let code = {
        let mut st = org.lock();
        let now = st.clock.now();
        let st = &mut *st;
        st.tokens.issue_code(
            &mut st.rng,
            now,
            &org.config.client_id,
            redirect_uri,
            p.get("code_challenge").map(String::as_str),
            &user_id,
            &scope,
        )
    };
    let mut pairs = vec![("code", code.as_str())];
    if let Some(state) = p.get("state") {
        pairs.push(("state", state));
    }
    found(&with_query(redirect_uri, &pairs))
}

pub(crate) async fn authorize_page(State(org): State<Arc<Org>>, Query(p): Query<Params>) -> Response {
    let redirect_uri = match check_authorize(&org, &p) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if org.config.auto_approve {
        return approve(&org, &p, &redirect_uri);
    }
    let user_name = org.lock().store.get("User", &org.fixed.signed_in_user)
        .and_then(|u| u.get("Name").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let hidden: String = p
        .iter()
        .filter(|(k, _)| k.as_str() != "decision")
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape_html(k), escape_html(v)))
        .collect();
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Allow Access?</title></head><body>\
         <h1>Allow Access?</h1><p>Allow Ringside to access the sandbox org as {}?</p>\
         <form method=\"post\" action=\"/services/oauth2/authorize\">{hidden}\
         <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form></body></html>",
        escape_html(&user_name)
    );
    Html(body).into_response()
}

pub(crate) async fn authorize_decision(State(org): State<Arc<Org>>, Form(p): Form<Params>) -> Response {
    let redirect_uri = match check_authorize(&org, &p) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if p.get("decision").map(String::as_str) == Some("allow") {
        return approve(&org, &p, &redirect_uri);
    }
    let mut pairs = vec![("error", "access_denied"), ("error_description", "end-user denied authorization")];
    if let Some(state) = p.get("state") {
        pairs.push(("state", state));
    }
    found(&with_query(&redirect_uri, &pairs))
}

fn token_response(org: &Org, issued: &Issued) -> Response {
    let id = org.identity_url(&issued.user_id);
    let issued_at = (issued.issued_at.unix_timestamp_nanos() / 1_000_000).to_string();
    // Salesforce signs id + issued_at with the consumer secret (HMAC-SHA256, base64).
    let mut mac = Hmac::<Sha256>::new_from_slice(org.config.client_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{id}{issued_at}").as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    let mut body = json!({
        "access_token": issued.access_token,
        "signature": signature,
        "scope": issued.scope,
        "instance_url": org.base_url,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let Some(refresh) = &issued.refresh_token {
        body["refresh_token"] = json!(refresh);
    }
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache,must-revalidate,max-age=0,no-store,private"));
    resp
}

pub(crate) async fn token(State(org): State<Arc<Org>>, Form(p): Form<Params>) -> Response {
    let get = |k: &str| p.get(k).map(String::as_str);
    let client_id = get("client_id").unwrap_or_default();
    if client_id != org.config.client_id {
        return oauth_error(INVALID_CLIENT);
    }
    if get("client_secret").is_some_and(|s| s != org.config.client_secret) {
        return oauth_error(OAuthError { error: "invalid_client", description: "invalid client credentials" });
    }
    let result = {
        let mut st = org.lock();
        let now = st.clock.now();
        let st = &mut *st;
        match get("grant_type") {
            Some("authorization_code") => st.tokens.redeem_code(
                &mut st.rng,
                now,
                get("code").unwrap_or_default(),
                client_id,
                get("redirect_uri").unwrap_or_default(),
                get("code_verifier"),
            ),
            Some("refresh_token") => st.tokens.refresh(&mut st.rng, now, get("refresh_token").unwrap_or_default(), client_id),
            _ => Err(OAuthError { error: "unsupported_grant_type", description: "grant type not supported" }),
        }
    };
    match result {
        Ok(issued) => token_response(&org, &issued),
        Err(e) => oauth_error(e),
    }
}

fn revoke_token(org: &Org, p: &Params) -> Response {
    let token = p.get("token").map(String::as_str).unwrap_or_default();
    if org.lock().tokens.revoke(token) {
        StatusCode::OK.into_response()
    } else {
        oauth_error(OAuthError { error: "invalid_token", description: "invalid token" })
    }
}

pub(crate) async fn revoke(State(org): State<Arc<Org>>, Form(p): Form<Params>) -> Response {
    revoke_token(&org, &p)
}

pub(crate) async fn revoke_get(State(org): State<Arc<Org>>, Query(p): Query<Params>) -> Response {
    revoke_token(&org, &p)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth")).then(|| token.trim())
}

/// The signed-in user's record for the identity endpoints; 403 as Salesforce's identity
/// service answers a missing or dead token.
#[allow(clippy::result_large_err)] // the error is the answer itself
fn identity_user(org: &Org, headers: &HeaderMap) -> Result<serde_json::Map<String, Value>, Response> {
    let Some(token) = bearer(headers) else {
        return Err((StatusCode::FORBIDDEN, "Missing_OAuth_Token").into_response());
    };
    let st = org.lock();
    let now = st.clock.now();
    let user = st
        .tokens
        .session(token, now)
        .and_then(|uid| st.store.get("User", uid))
        .cloned()
        .ok_or_else(|| (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response())?;
    Ok(user)
}

fn urls(org: &Org, user_id: &str) -> Value {
    let data = format!("{}/services/data/v{{version}}", org.base_url);
    json!({
        "rest": format!("{data}/"),
        "sobjects": format!("{data}/sobjects/"),
        "search": format!("{data}/search/"),
        "query": format!("{data}/query/"),
        "profile": format!("{}/{user_id}", org.base_url),
    })
}

pub(crate) async fn userinfo(State(org): State<Arc<Org>>, headers: HeaderMap) -> Response {
    let user = match identity_user(&org, &headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let s = |k: &str| user.get(k).cloned().unwrap_or(Value::Null);
    let id = user.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    Json(json!({
        "sub": org.identity_url(&id),
        "user_id": id,
        "organization_id": org.org_id,
        "preferred_username": s("Username"),
        "nickname": s("Alias"),
        "name": s("Name"),
        "email": s("Email"),
        "email_verified": true,
        "given_name": s("FirstName"),
        "family_name": s("LastName"),
        "zoneinfo": s("TimeZoneSidKey"),
        "language": s("LanguageLocaleKey"),
        "locale": s("LanguageLocaleKey"),
        "active": s("IsActive"),
        "user_type": "STANDARD",
        "urls": urls(&org, &id),
        "updated_at": s("LastModifiedDate"),
    }))
    .into_response()
}

pub(crate) async fn identity(
    State(org): State<Arc<Org>>,
    Path((org_id, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let user = match identity_user(&org, &headers) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let id = user.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    if org_id != org.org_id || user_id != id {
        return (StatusCode::FORBIDDEN, "Bad_Id").into_response();
    }
    let s = |k: &str| user.get(k).cloned().unwrap_or(Value::Null);
    Json(json!({
        "id": org.identity_url(&id),
        "asserted_user": true,
        "user_id": id,
        "organization_id": org.org_id,
        "username": s("Username"),
        "nick_name": s("Alias"),
        "display_name": s("Name"),
        "email": s("Email"),
        "email_verified": true,
        "first_name": s("FirstName"),
        "last_name": s("LastName"),
        "timezone": s("TimeZoneSidKey"),
        "active": s("IsActive"),
        "user_type": "STANDARD",
        "language": s("LanguageLocaleKey"),
        "locale": s("LanguageLocaleKey"),
        "urls": urls(&org, &id),
        "last_modified_date": s("LastModifiedDate"),
        "api_version": API_VERSION,
    }))
    .into_response()
}
