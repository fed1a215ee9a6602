use std::time::Duration;

use reqwest::StatusCode;

use crate::support::api;

#[tokio::test]
async fn every_data_request_counts_in_the_limit_info_header() {
    let api = api().await;
    let first = api.get("/sobjects").await;
    assert_eq!(first.limit_info().as_deref(), Some("api-usage=1/15000"));
    let second = api.query("SELECT Id FROM Account LIMIT 1").await;
    assert_eq!(second.limit_info().as_deref(), Some("api-usage=2/15000"));
    let error = api.get("/sobjects/Nope/describe").await;
    assert_eq!(error.limit_info().as_deref(), Some("api-usage=3/15000"), "errors count too");
    let versions = api.http.get(format!("{}/services/data", api.org.base_url())).send().await.unwrap();
    assert!(versions.headers().get("Sforce-Limit-Info").is_none(), "the versions list does not count");
    let unauthenticated = api.http.get(api.url("/sobjects")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.org.api_usage(), (3, 15000));
}

#[tokio::test]
async fn past_the_daily_limit_requests_are_refused_until_usage_resets() {
    let mut api = api().await;
    api.org.set_api_limit(2);
    assert_eq!(api.get("/limits").await.status, StatusCode::OK);
    let last = api.get("/limits").await;
    assert_eq!(last.body["DailyApiRequests"], serde_json::json!({"Max": 2, "Remaining": 0}));
    let refused = api.get("/limits").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body, serde_json::json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]));
    assert_eq!(refused.limit_info().as_deref(), Some("api-usage=2/2"));
    api.org.reset_api_usage();
    assert_eq!(api.get("/limits").await.status, StatusCode::OK);
    api.get("/limits").await;
    api.org.advance_clock(Duration::from_secs(86_400));
    api.renew();
    assert_eq!(api.get("/limits").await.limit_info().as_deref(), Some("api-usage=1/2"), "a new day starts a new count");
}
