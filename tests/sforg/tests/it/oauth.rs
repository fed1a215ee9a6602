use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use ringside_sforg::{spawn, OrgConfig};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{api_with, config, Api};

const VERIFIER: &str = "a-long-random-verifier-with-enough-entropy-0123456789abcdef";
const REDIRECT: &str = "http://127.0.0.1:8765/oauth/callback";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

async fn authorize(api: &Api, extra: &[(&str, &str)]) -> reqwest::Response {
    let ch = challenge(VERIFIER);
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", api.org.client_id()),
        ("redirect_uri", REDIRECT),
        ("code_challenge", ch.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "xyz-42"),
    ];
    params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    params.extend_from_slice(extra);
    let params: Vec<(&str, &str)> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let url = format!("{}/services/oauth2/authorize", api.org.base_url());
    api.http.get(url).query(&params).send().await.expect("authorize answers")
}

async fn code(api: &Api) -> String {
    let resp = authorize(api, &[]).await;
    assert_eq!(resp.status(), StatusCode::FOUND, "auto-approve redirects at once");
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let q = query_of(&location);
    assert!(location.starts_with(REDIRECT), "the redirect goes to the registered callback: {location}");
    assert_eq!(q["state"], "xyz-42", "state comes back unchanged");
    q["code"].clone()
}

async fn token(api: &Api, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let url = format!("{}/services/oauth2/token", api.org.base_url());
    let resp = api.http.post(url).form(form).send().await.expect("token answers");
    (resp.status(), resp.json().await.expect("token answers JSON"))
}

async fn redeem(api: &Api, code: &str, verifier: &str) -> (StatusCode, Value) {
    token(
        api,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", api.org.client_id()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(api: &Api, refresh_token: &str) -> (StatusCode, Value) {
    token(api, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", api.org.client_id())]).await
}

async fn data_status(api: &Api, access_token: &str) -> (StatusCode, Value) {
    let resp = api.http.get(api.url("/sobjects")).bearer_auth(access_token).send().await.unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_pkce_web_server_flow_yields_tokens_that_open_the_data_api() {
    let api = api_with(config()).await;
    let code = code(&api).await;
    assert!(code.ends_with("=="), "codes look like Salesforce's base64 codes and must be URL-decoded");
    let (status, body) = redeem(&api, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let base = api.org.base_url();
    assert_eq!(body["instance_url"], base, "instance_url is the server's own base URL");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["id"], format!("{base}/id/{}/{}", api.org.org_id(), api.org.fixed().signed_in_user));
    assert!(body["issued_at"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()), "issued_at is milliseconds as a string");
    assert!(body["signature"].is_string() && body["scope"].is_string());
    let access = body["access_token"].as_str().unwrap();
    assert!(access.starts_with(&api.org.org_id()[..15]), "access tokens start with the org id like Salesforce's");
    assert!(body["refresh_token"].is_string(), "the code grant hands out a refresh token");
    assert_eq!(data_status(&api, access).await.0, StatusCode::OK);

    let info: Value = api
        .http
        .get(format!("{base}/services/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "Ada Rep");
    assert_eq!(info["organization_id"], api.org.org_id());
    assert_eq!(info["user_id"], api.org.fixed().signed_in_user);
}

#[tokio::test]
async fn the_consent_page_asks_first_and_deny_sends_access_denied_back() {
    let api = api_with(OrgConfig { auto_approve: false, ..config() }).await;
    let page = authorize(&api, &[]).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Allow Ringside to access the sandbox org as Ada Rep?"), "{html}");

    let url = format!("{}/services/oauth2/authorize", api.org.base_url());
    let ch = challenge(VERIFIER);
    let form = |decision: &'static str| {
        vec![
            ("response_type", "code".to_string()),
            ("client_id", api.org.client_id().to_string()),
            ("redirect_uri", REDIRECT.to_string()),
            ("code_challenge", ch.clone()),
            ("code_challenge_method", "S256".to_string()),
            ("state", "s1".to_string()),
            ("decision", decision.to_string()),
        ]
    };
    let denied = api.http.post(&url).form(&form("deny")).send().await.unwrap();
    assert_eq!(denied.status(), StatusCode::FOUND);
    let q = query_of(denied.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s1");

    let allowed = api.http.post(&url).form(&form("allow")).send().await.unwrap();
    let q = query_of(allowed.headers()["location"].to_str().unwrap());
    assert_eq!(redeem(&api, &q["code"], VERIFIER).await.0, StatusCode::OK, "allowing gives a code that redeems");
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused() {
    let api = api_with(config()).await;
    let code = code(&api).await;
    let (status, body) = redeem(&api, &code, "not-the-verifier").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "invalid code verifier");
}

#[tokio::test]
async fn an_authorization_code_works_only_once() {
    let api = api_with(config()).await;
    let code = code(&api).await;
    assert_eq!(redeem(&api, &code, VERIFIER).await.0, StatusCode::OK);
    let (status, body) = redeem(&api, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a used code must not give a second session");
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn an_authorization_code_expires_after_fifteen_minutes() {
    let api = api_with(config()).await;
    let code = code(&api).await;
    api.org.advance_clock(Duration::from_secs(15 * 60 + 1));
    let (status, body) = redeem(&api, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_description"], "expired authorization code");
}

#[tokio::test]
async fn authorization_requests_that_cannot_be_trusted_are_refused() {
    let api = api_with(config()).await;
    let wrong_redirect = authorize(&api, &[("redirect_uri", "http://evil.example/cb")]).await;
    assert_eq!(wrong_redirect.status(), StatusCode::BAD_REQUEST, "an unregistered callback is never redirected to");
    assert!(wrong_redirect.text().await.unwrap().contains("redirect_uri_mismatch"));

    let wrong_client = authorize(&api, &[("client_id", "someone-else")]).await;
    assert_eq!(wrong_client.status(), StatusCode::BAD_REQUEST);

    let no_pkce = authorize(&api, &[("code_challenge", ""), ("code_challenge_method", "")]).await;
    let q = query_of(no_pkce.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request", "PKCE is required by the connected app");
}

#[tokio::test]
async fn refresh_without_rotation_returns_a_new_access_token_only() {
    let api = api_with(config()).await;
    let (_, body) = redeem(&api, &code(&api).await, VERIFIER).await;
    let refresh_token = body["refresh_token"].as_str().unwrap().to_string();
    let (status, body) = refresh(&api, &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh_token").is_none(), "without rotation Salesforce sends no refresh token back");
    assert_eq!(data_status(&api, body["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
    assert_eq!(refresh(&api, &refresh_token).await.0, StatusCode::OK, "the refresh token stays valid");
}

#[tokio::test]
async fn refresh_with_rotation_replaces_the_refresh_token() {
    let api = api_with(OrgConfig { rotate_refresh_tokens: true, ..config() }).await;
    let (_, body) = redeem(&api, &code(&api).await, VERIFIER).await;
    let first = body["refresh_token"].as_str().unwrap().to_string();
    let (status, body) = refresh(&api, &first).await;
    assert_eq!(status, StatusCode::OK);
    let second = body["refresh_token"].as_str().expect("rotation hands out a new refresh token").to_string();
    assert_ne!(first, second);
    let (status, body) = refresh(&api, &first).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the old refresh token is spent");
    assert_eq!(body["error_description"], "expired access/refresh token");
    assert_eq!(refresh(&api, &second).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_access_token_gets_invalid_session_id_until_refreshed() {
    let api = api_with(config()).await;
    let (_, body) = redeem(&api, &code(&api).await, VERIFIER).await;
    let access = body["access_token"].as_str().unwrap().to_string();
    api.org.advance_clock(Duration::from_secs(2 * 3600 + 1));
    let (status, err) = data_status(&api, &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session timeout is two hours");
    assert_eq!(err, serde_json::json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]));
    let (_, fresh) = refresh(&api, body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(data_status(&api, fresh["access_token"].as_str().unwrap()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn expiring_every_access_token_from_the_handle_forces_a_refresh() {
    let api = api_with(config()).await;
    assert_eq!(data_status(&api, &api.token).await.0, StatusCode::OK);
    api.org.expire_access_tokens();
    assert_eq!(data_status(&api, &api.token).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_access_tokens() {
    let api = api_with(config()).await;
    let (_, body) = redeem(&api, &code(&api).await, VERIFIER).await;
    let access = body["access_token"].as_str().unwrap();
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let url = format!("{}/services/oauth2/revoke", api.org.base_url());
    let revoked = api.http.post(&url).form(&[("token", refresh_token)]).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(data_status(&api, access).await.0, StatusCode::UNAUTHORIZED, "access tokens die with their refresh token");
    assert_eq!(refresh(&api, refresh_token).await.1["error"], "invalid_grant");
    let again = api.http.post(&url).form(&[("token", "no-such-token")]).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn revoking_an_access_token_leaves_its_refresh_token_usable() {
    let api = api_with(config()).await;
    let (_, body) = redeem(&api, &code(&api).await, VERIFIER).await;
    let url = format!("{}/services/oauth2/revoke", api.org.base_url());
    api.http.post(&url).form(&[("token", body["access_token"].as_str().unwrap())]).send().await.unwrap();
    assert_eq!(data_status(&api, body["access_token"].as_str().unwrap()).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&api, body["refresh_token"].as_str().unwrap()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_client_id_or_grant_type_is_refused_like_salesforce() {
    let api = api_with(config()).await;
    let (status, body) = token(&api, &[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "nope")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_client_id");
    let (_, body) = token(&api, &[("grant_type", "password"), ("client_id", api.org.client_id())]).await;
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn versions_are_listed_without_a_token_and_unknown_versions_are_not_found() {
    let org = spawn(config()).await;
    let http = reqwest::Client::new();
    let list: Value = http.get(format!("{}/services/data", org.base_url())).send().await.unwrap().json().await.unwrap();
    let versions: Vec<&str> = list.as_array().unwrap().iter().map(|v| v["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["58.0", "59.0", "60.0", "61.0", "62.0"]);
    assert_eq!(list[4]["url"], "/services/data/v62.0");

    let token = org.sign_in().access_token;
    let resp = http.get(format!("{}/services/data/v12.0/sobjects", org.base_url())).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, serde_json::json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]));
}
