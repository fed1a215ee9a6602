use std::time::{Duration, Instant};

use reqwest::StatusCode;
use ringside_sforg::{AfterCommit, Fault, FaultKind};
use serde_json::json;

use crate::support::api;

const TASKS: &str = "/services/data/v62.0/sobjects/Task";

fn task() -> serde_json::Value {
    json!({"Subject": "Appel", "Status": "Completed"})
}

#[tokio::test]
async fn an_expired_session_fault_answers_401_once() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::ExpiredSession).on("GET", "/services/data/v62.0/query"));
    let first = api.query("SELECT Id FROM Account LIMIT 1").await;
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    assert_eq!(first.error_code(), "INVALID_SESSION_ID");
    assert_eq!(api.query("SELECT Id FROM Account LIMIT 1").await.status, StatusCode::OK, "the fault was used up");
}

#[tokio::test]
async fn limit_lock_and_unknown_exception_faults_use_salesforces_bodies() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::RequestLimitExceeded).on("POST", TASKS));
    api.org.inject(Fault::new(FaultKind::UnableToLockRow).on("POST", TASKS));
    api.org.inject(Fault::new(FaultKind::UnknownException).on("POST", TASKS));
    let limit = api.post("/sobjects/Task", task()).await;
    assert_eq!((limit.status, limit.error_code()), (StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED"));
    assert_eq!(limit.message(), "TotalRequests Limit exceeded.");
    let lock = api.post("/sobjects/Task", task()).await;
    assert_eq!((lock.status, lock.error_code()), (StatusCode::BAD_REQUEST, "UNABLE_TO_LOCK_ROW"));
    let boom = api.post("/sobjects/Task", task()).await;
    assert_eq!((boom.status, boom.error_code()), (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION"));
    assert!(boom.message().contains("ErrorId"));
    assert!(api.org.records("Task").iter().all(|t| t["Subject"] != "Appel"), "refused writes wrote nothing");
}

#[tokio::test]
async fn a_maintenance_page_comes_back_as_html_503() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::ServiceUnavailable));
    let resp = api.http.get(api.url("/sobjects")).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(resp.text().await.unwrap().contains("Service Unavailable"));
}

#[tokio::test]
async fn a_connection_reset_gives_no_answer_at_all() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::ConnectionReset).on("GET", "/services/data"));
    let err = api.http.get(api.url("/sobjects")).bearer_auth(&api.token).send().await.expect_err("no response must arrive");
    assert!(!err.is_status(), "{err}");
    assert_eq!(api.get("/sobjects").await.status, StatusCode::OK, "the next connection works");
    let log = api.org.requests();
    assert_eq!(log[0].status, None, "the log records the reset");
}

#[tokio::test]
async fn commit_then_fail_writes_the_record_and_loses_the_answer() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::CommitThenFail { after: AfterCommit::UnknownException }).on("POST", TASKS));
    let r = api.post("/sobjects/Task", json!({"Subject": "Committed 1"})).await;
    assert_eq!(r.error_code(), "UNKNOWN_EXCEPTION");
    assert_eq!(api.org.records("Task").iter().filter(|t| t["Subject"] == "Committed 1").count(), 1, "the write happened anyway");

    api.org.inject(Fault::new(FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset }).on("POST", TASKS));
    let sent = api.http.post(api.url("/sobjects/Task")).bearer_auth(&api.token).json(&json!({"Subject": "Committed 2"})).send().await;
    assert!(sent.is_err(), "the client sees the connection drop");
    assert_eq!(api.org.records("Task").iter().filter(|t| t["Subject"] == "Committed 2").count(), 1);
}

#[tokio::test]
async fn counted_and_probabilistic_faults_fire_as_configured() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::UnknownException).on("GET", "/services/data/v62.0/sobjects").times(2));
    let statuses = [api.get("/sobjects").await.status, api.get("/sobjects").await.status, api.get("/sobjects").await.status];
    assert_eq!(statuses, [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK]);

    api.org.inject(Fault::new(FaultKind::UnknownException).on("GET", "/services/data/v62.0/limits").with_probability(1.0));
    for _ in 0..3 {
        assert_eq!(api.get("/limits").await.status, StatusCode::INTERNAL_SERVER_ERROR, "p = 1 always fires");
    }
    api.org.clear_faults();
    api.org.inject(Fault::new(FaultKind::UnknownException).with_probability(0.0));
    assert_eq!(api.get("/limits").await.status, StatusCode::OK, "p = 0 never fires");
}

#[tokio::test]
async fn faults_can_be_queued_over_the_admin_api() {
    let api = api().await;
    let url = format!("{}/__admin/faults", api.org.base_url());
    let body = json!({"kind": "unableToLockRow", "method": "PATCH", "pathPrefix": "/services/data/v62.0/sobjects/Lead", "trigger": {"times": 1}});
    assert_eq!(api.http.post(url).json(&body).send().await.unwrap().status(), StatusCode::CREATED);
    let id = api.org.fixed().kenji_watanabe_lead.clone();
    let r = api.patch(&format!("/sobjects/Lead/{id}"), json!({"Title": "Buyer"})).await;
    assert_eq!(r.error_code(), "UNABLE_TO_LOCK_ROW");
}

#[tokio::test]
async fn added_latency_delays_every_request() {
    let api = api().await;
    api.org.set_latency(Duration::from_millis(60));
    let t = Instant::now();
    api.get("/limits").await;
    assert!(t.elapsed() >= Duration::from_millis(60), "the answer cannot come before the latency");
}

#[tokio::test]
async fn a_raw_answer_fault_delivers_bytes_that_are_not_utf8() {
    let api = api().await;
    let mut body = br#"{"totalSize":1,"done":true,"records":[{"Body__c":"{\"title\":\""#.to_vec();
    body.extend_from_slice(&[0xC3, 0x28, 0xFF]);
    body.extend_from_slice(br#"\"}"}]}"#);
    api.org.inject(Fault::new(FaultKind::raw_json(200, body.clone())).on("GET", "/services/data/v62.0/query"));
    let resp = api.http.get(api.url("/query")).query(&[("q", "SELECT Body__c FROM Ringside_Layout__c")]).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json;charset=UTF-8");
    assert!(resp.headers().contains_key("Sforce-Limit-Info"), "a raw answer is still a counted API answer");
    let got = resp.bytes().await.unwrap();
    assert_eq!(got.as_ref(), body.as_slice(), "the bytes arrive exactly as injected");
    assert!(std::str::from_utf8(&got).is_err(), "and they are not UTF-8");
    assert_eq!(api.query("SELECT Id FROM Ringside_Layout__c").await.status, StatusCode::OK, "the fault was used up");
}
