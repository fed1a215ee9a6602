//! The Send Email action (`POST …/actions/standard/emailSimple`): one result per input,
//! emails recorded for tests, logged as `EmailMessage` activity, the daily single-email
//! limit, and faults by path.

use std::time::Duration;

use reqwest::StatusCode;
use ringside_sforg::{AfterCommit, Fault, FaultKind};
use serde_json::{json, Value};

use crate::support::{api, ids, Answer, Api};

const ACTION: &str = "/services/data/v62.0/actions/standard/emailSimple";

async fn send(api: &Api, inputs: Vec<Value>) -> Answer {
    api.post("/actions/standard/emailSimple", json!({"inputs": inputs})).await
}

fn note(to: &str, subject: &str) -> Value {
    json!({"emailAddresses": to, "emailSubject": subject, "emailBody": "Bonjour,\nvoici le devis.", "senderType": "CurrentUser"})
}

fn failure(code: &str, message: &str) -> Value {
    json!({"actionName": "emailSimple", "errors": [{"statusCode": code, "message": message, "fields": []}], "isSuccess": false, "outputValues": null})
}

fn success() -> Value {
    json!({"actionName": "emailSimple", "errors": null, "isSuccess": true, "outputValues": null})
}

#[tokio::test]
async fn a_logged_email_to_a_contact_about_an_opportunity_becomes_a_sent_email_message() {
    let api = api().await;
    let marie = api.org.fixed().marie_dubois.clone();
    let opportunity = api.org.fixed().marie_opportunity.clone();
    let mut input = note("achats@lumiere.example", "Devis casques 2027");
    input["logEmailOnSend"] = json!(true);
    input["recipientId"] = json!(marie);
    input["relatedRecordId"] = json!(opportunity);
    let r = send(&api, vec![input]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!([success()]), "emailSimple has no output values");
    assert_eq!(r.limit_info().as_deref(), Some("api-usage=1/15000"), "the action is one API call");

    let sent = api.org.sent_emails();
    assert_eq!(sent.len(), 1);
    let email = &sent[0];
    assert_eq!(email.to, ["achats@lumiere.example", "marie.dubois@lumiere.example"], "the recipient record's address joins the list");
    assert_eq!((email.subject.as_str(), email.body.as_str()), ("Devis casques 2027", "Bonjour,\nvoici le devis."));
    assert_eq!(email.recipient_id.as_deref(), Some(marie.as_str()));
    assert_eq!(email.related_record_id.as_deref(), Some(opportunity.as_str()));
    assert_eq!(email.at, api.org.now(), "sent at the org's (frozen) time");
    assert_eq!(api.org.single_email_usage(), 2, "two external recipients count against the limit");
    assert_eq!(api.org.single_email_limit(), 5000, "Salesforce's default");

    let logged = api
        .query(&format!(
            "SELECT Id, Subject, TextBody, ToAddress, Status, Incoming, RelatedToId FROM EmailMessage WHERE RelatedToId = '{opportunity}'"
        ))
        .await;
    assert_eq!(logged.status, StatusCode::OK, "EmailMessage is queryable: {}", logged.body);
    let records = &logged.body["records"];
    assert_eq!(ids(records), [email.email_message_id.clone().expect("the email was logged")]);
    let message = &records[0];
    assert_eq!(message["Subject"], "Devis casques 2027");
    assert_eq!(message["TextBody"], "Bonjour,\nvoici le devis.");
    assert_eq!(message["ToAddress"], "achats@lumiere.example; marie.dubois@lumiere.example");
    assert_eq!(message["Status"], "3", "Salesforce stores a sent email as status 3");
    assert_eq!(message["Incoming"], false);

    let relations = api
        .query(&format!(
            "SELECT RelationId, RelationType, RelationAddress, RelationObjectType FROM EmailMessageRelation WHERE EmailMessageId = '{}'",
            message["Id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(relations.body["totalSize"], 1, "one relation: the recipient record");
    let relation = &relations.body["records"][0];
    assert_eq!(relation["RelationId"], marie.as_str());
    assert_eq!(relation["RelationType"], "ToAddress");
    assert_eq!(relation["RelationAddress"], "marie.dubois@lumiere.example");
    assert_eq!(relation["RelationObjectType"], "Contact");
}

#[tokio::test]
async fn without_log_email_on_send_the_email_is_sent_but_not_logged() {
    let api = api().await;
    let mut input = note("a@example.com, b@example.org", "Relance");
    input["relatedRecordId"] = json!(api.org.fixed().marie_opportunity.clone());
    assert_eq!(send(&api, vec![input]).await.status, StatusCode::OK);
    assert_eq!(api.org.sent_emails()[0].to, ["a@example.com", "b@example.org"], "comma-separated addresses, trimmed");
    assert_eq!(api.org.sent_emails()[0].email_message_id, None);
    assert!(api.org.records("EmailMessage").is_empty(), "logEmailOnSend defaults to false");
}

#[tokio::test]
async fn one_failing_input_fails_alone_and_makes_the_answer_400() {
    let api = api().await;
    let r = send(
        &api,
        vec![note("un@example.com", "Un"), json!({"emailAddresses": "deux@example.com", "emailBody": "sans objet"}), note("trois@example.com", "Trois")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "any failed input makes the call a 400");
    assert_eq!(
        r.body,
        json!([success(), failure("REQUIRED_FIELD_MISSING", "Missing required input parameter: emailSubject"), success()]),
        "one result per input, in order, with the same shape either way"
    );
    let subjects: Vec<String> = api.org.sent_emails().into_iter().map(|e| e.subject).collect();
    assert_eq!(subjects, ["Un", "Trois"], "the inputs around the failed one were sent");
}

#[tokio::test]
async fn a_missing_subject_and_body_are_both_reported() {
    let api = api().await;
    let r = send(&api, vec![json!({"emailAddresses": "a@example.com", "emailSubject": "  "})]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let errors = &r.body[0]["errors"];
    assert_eq!(errors[0]["message"], "Missing required input parameter: emailSubject", "a blank subject is a missing one");
    assert_eq!(errors[1]["message"], "Missing required input parameter: emailBody");
    assert!(api.org.sent_emails().is_empty());
}

#[tokio::test]
async fn an_address_that_is_not_an_address_fails_the_input_and_sends_nothing() {
    let api = api().await;
    let r = send(&api, vec![note("ok@example.com, marie at lumiere", "Devis")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, json!([failure("INVALID_EMAIL_ADDRESS", "Email address is invalid: marie at lumiere")]));
    assert!(api.org.sent_emails().is_empty(), "not even to the good address");
    assert_eq!(api.org.single_email_usage(), 0);
}

#[tokio::test]
async fn recipient_and_related_records_must_exist_and_be_readable() {
    let api = api().await;
    let fixed = api.org.fixed().clone();
    let mut unknown = note("a@example.com", "x");
    unknown["relatedRecordId"] = json!("0065g0000099999AAA");
    let mut wrong_kind = note("a@example.com", "x");
    wrong_kind["recipientId"] = json!(fixed.acme_account);
    api.org.set_object_access("Lead", false);
    let mut hidden = note("a@example.com", "x");
    hidden["recipientId"] = json!(fixed.kenji_watanabe_lead);
    let r = send(&api, vec![unknown, wrong_kind, hidden]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for (n, result) in r.body.as_array().unwrap().iter().enumerate() {
        assert_eq!(result["errors"][0]["statusCode"], "INVALID_CROSS_REFERENCE_KEY", "input {n}: {result}");
    }
    assert!(r.body[1]["errors"][0]["message"].as_str().unwrap().contains("recipientId must be an existing Contact, Lead or User"));
    assert!(api.org.sent_emails().is_empty());
}

#[tokio::test]
async fn past_the_daily_single_email_limit_inputs_fail_until_the_next_utc_day() {
    let mut api = api().await;
    api.org.set_single_email_limit(3);
    let r = send(&api, vec![note("a@example.com, b@example.com", "Un"), note("c@example.com, d@example.com", "Deux")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body[0], success());
    assert_eq!(r.body[1]["errors"][0]["statusCode"], "SINGLE_EMAIL_LIMIT_EXCEEDED", "2 + 2 recipients pass a limit of 3");
    assert!(r.body[1]["errors"][0]["message"].as_str().unwrap().starts_with("Failed to send email"));
    assert_eq!(api.org.single_email_usage(), 2, "the refused email used nothing");
    assert_eq!(api.get("/limits").await.body["SingleEmail"], json!({"Max": 3, "Remaining": 1}), "as Salesforce's limits resource shows it");

    let to_a_user = json!({"recipientId": api.org.signed_in_user_id(), "emailSubject": "Note", "emailBody": "pour moi"});
    assert_eq!(send(&api, vec![to_a_user]).await.status, StatusCode::OK, "email to a User record does not count");
    assert_eq!(api.org.single_email_usage(), 2);

    api.org.advance_clock(Duration::from_secs(86_400));
    api.renew();
    assert_eq!(api.org.single_email_usage(), 0, "the count starts again at midnight UTC");
    assert_eq!(send(&api, vec![note("c@example.com, d@example.com", "Deux")]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_reset_after_the_send_leaves_exactly_one_sent_email() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset }).on("POST", ACTION));
    let mut input = note("achats@lumiere.example", "Devis");
    input["logEmailOnSend"] = json!(true);
    input["relatedRecordId"] = json!(api.org.fixed().marie_opportunity.clone());
    let lost = api.http.post(api.url("/actions/standard/emailSimple")).bearer_auth(&api.token).json(&json!({"inputs": [input]})).send().await;
    assert!(lost.is_err(), "the client never hears back");
    assert_eq!(api.org.sent_emails().len(), 1, "the email went out before the connection dropped");
    assert_eq!(api.org.records("EmailMessage").len(), 1, "and was logged");
    assert_eq!(api.org.requests()[0].status, None, "the log shows the reset");
    assert_eq!(api.org.api_usage().0, 1, "the lost call still counted");
}

#[tokio::test]
async fn a_refusing_fault_sends_nothing() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::UnableToLockRow).on("POST", ACTION));
    let r = send(&api, vec![note("a@example.com", "x")]).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "UNABLE_TO_LOCK_ROW"));
    assert!(api.org.sent_emails().is_empty());
}

#[tokio::test]
async fn a_body_without_an_inputs_array_is_refused_whole() {
    let api = api().await;
    let r = api.post("/actions/standard/emailSimple", note("a@example.com", "x")).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR"));
    let r = send(&api, vec![note("a@example.com", "x"), json!({"emailSubject": 7})]).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR"));
    assert_eq!(r.message(), "inputs[1].emailSubject must be a string");
    assert!(api.org.sent_emails().is_empty(), "a malformed call runs no input, not even the good one");
}

#[tokio::test]
async fn composite_does_not_serve_actions_so_the_subrequest_is_not_found() {
    let api = api().await;
    let sub = json!({"method": "POST", "url": ACTION, "referenceId": "mail", "body": {"inputs": [note("a@example.com", "x")]}});
    let r = api.post("/composite", json!({"compositeRequest": [sub]})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["compositeResponse"][0]["httpStatusCode"], 404, "Salesforce lists no actions among Composite's resources");
    assert!(api.org.sent_emails().is_empty());
}

#[tokio::test]
async fn sent_emails_and_the_limit_are_reachable_over_the_admin_api() {
    let api = api().await;
    let admin = |path: &str| format!("{}/__admin/{path}", api.org.base_url());
    let set = api.http.post(admin("settings")).json(&json!({"singleEmailLimit": 10})).send().await.unwrap();
    assert_eq!(set.json::<Value>().await.unwrap()["singleEmailLimit"], 10);
    send(&api, vec![note("a@example.com", "Devis")]).await;
    let listed: Value = api.http.get(admin("emails")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["to"], json!(["a@example.com"]));
    assert_eq!(listed[0]["subject"], "Devis");
    assert_eq!(listed[0]["at"], "2026-11-20T09:00:00.000+0000", "Salesforce's datetime format");
    let state: Value = api.http.get(admin("state")).send().await.unwrap().json().await.unwrap();
    assert_eq!((state["singleEmailUsage"].clone(), state["singleEmailLimit"].clone()), (json!(1), json!(10)));
    assert_eq!(api.http.delete(admin("emails")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(api.org.sent_emails().is_empty());
}
