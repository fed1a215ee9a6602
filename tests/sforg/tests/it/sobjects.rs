use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::api;

#[tokio::test]
async fn describe_lists_fields_with_types_lengths_picklists_and_record_types() {
    let api = api().await;
    let d = api.get("/sobjects/Lead/describe").await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.body["name"], "Lead");
    assert_eq!(d.body["keyPrefix"], "00Q");
    let field = |name: &str| d.body["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).cloned().unwrap();
    let status = field("Status");
    assert_eq!(status["type"], "picklist");
    assert_eq!(status["restrictedPicklist"], true);
    assert_eq!(status["defaultValue"], "Open - Not Contacted");
    assert!(status["picklistValues"].as_array().unwrap().iter().any(|v| v["value"] == "Working - Contacted" && v["active"] == true));
    assert_eq!(field("LastName")["nillable"], false);
    assert_eq!(field("Phone")["type"], "phone");
    assert_eq!(field("Phone")["length"], 40);
    assert_eq!(field("Name")["createable"], false);
    assert_eq!(d.body["recordTypeInfos"][0]["master"], true);
    let task = api.get("/sobjects/Task/describe").await;
    let who = task.body["fields"].as_array().unwrap().iter().find(|f| f["name"] == "WhoId").cloned().unwrap();
    assert_eq!(who["referenceTo"], json!(["Contact", "Lead"]));
    assert_eq!(who["relationshipName"], "Who");
}

#[tokio::test]
async fn creating_a_task_answers_201_and_fills_system_fields() {
    let api = api().await;
    let f = api.org.fixed();
    let created = api
        .post("/sobjects/Task", json!({"Subject": "Appel sortant", "WhoId": f.marie_dubois, "Status": "Completed", "TaskSubtype": "Call", "CallDurationInSeconds": 95}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["success"], true);
    assert_eq!(created.body["errors"], json!([]));
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("00T"));
    let task = api.get(&format!("/sobjects/Task/{id}")).await;
    assert_eq!(task.body["OwnerId"], f.signed_in_user.as_str(), "OwnerId defaults to the token's user");
    assert_eq!(task.body["CreatedDate"], "2026-11-20T09:00:00.000+0000");
    assert_eq!(task.body["SystemModstamp"], task.body["LastModifiedDate"]);
    assert_eq!(task.body["IsClosed"], true);
    assert_eq!(task.body["Priority"], "Normal", "defaulted picklists get their default");
    let only = api.get(&format!("/sobjects/Task/{}?fields=Subject,Status", &id[..15])).await;
    assert_eq!(only.body["Subject"], "Appel sortant", "15-character ids work too");
    assert!(only.body.get("Priority").is_none());
}

#[tokio::test]
async fn updates_answer_204_and_move_the_modstamp() {
    let api = api().await;
    let id = api.org.fixed().kenji_watanabe_lead.clone();
    api.org.advance_clock(Duration::from_secs(60));
    let updated = api.patch(&format!("/sobjects/Lead/{id}"), json!({"Status": "Closed - Not Converted"})).await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT);
    let lead = api.get(&format!("/sobjects/Lead/{id}")).await;
    assert_eq!(lead.body["Status"], "Closed - Not Converted");
    assert_eq!(lead.body["SystemModstamp"], "2026-11-20T09:01:00.000+0000");
}

#[tokio::test]
async fn validation_errors_name_the_field_and_the_rule() {
    let api = api().await;
    let missing = api.post("/sobjects/Contact", json!({"FirstName": "Sans"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.body,
        json!([{"message": "Required fields are missing: [LastName]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}])
    );
    let picklist = api.post("/sobjects/Lead", json!({"LastName": "X", "Company": "Y", "Status": "Hot maybe"})).await;
    assert_eq!(picklist.error_code(), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    assert_eq!(picklist.message(), "Lead Status: bad value for restricted picklist field: Hot maybe");
    assert_eq!(picklist.body[0]["fields"], json!(["Status"]));
    let long = api.post("/sobjects/Contact", json!({"LastName": "x".repeat(81)})).await;
    assert_eq!(long.error_code(), "STRING_TOO_LONG");
    assert!(long.message().ends_with("(max length=80)"));
    let unknown = api.post("/sobjects/Contact", json!({"LastName": "X", "Foo__c": 1})).await;
    assert_eq!(unknown.error_code(), "INVALID_FIELD");
    assert_eq!(unknown.message(), "No such column 'Foo__c' on sobject of type Contact");
    let read_only = api.post("/sobjects/Contact", json!({"LastName": "X", "Name": "X Y"})).await;
    assert_eq!(read_only.error_code(), "INVALID_FIELD_FOR_INSERT_UPDATE");
    let email = api.post("/sobjects/Contact", json!({"LastName": "X", "Email": "not an address"})).await;
    assert_eq!(email.error_code(), "INVALID_EMAIL_ADDRESS");
    let lookup = api.post("/sobjects/Contact", json!({"LastName": "X", "AccountId": api.org.fixed().marie_dubois})).await;
    assert_eq!(lookup.error_code(), "MALFORMED_ID", "a contact id is not an account id");
    let blank = api.patch(&format!("/sobjects/Contact/{}", api.org.fixed().marie_dubois), json!({"LastName": ""})).await;
    assert_eq!(blank.error_code(), "REQUIRED_FIELD_MISSING", "clearing a required field is refused");
    let not_json = api.send(api.http.post(api.url("/sobjects/Contact")).body("{oops")).await;
    assert_eq!(not_json.error_code(), "JSON_PARSER_ERROR");
}

#[tokio::test]
async fn missing_and_deleted_records_are_not_found() {
    let api = api().await;
    let id = api.org.insert("Contact", json!({"LastName": "Éphémère"})).unwrap();
    assert_eq!(api.delete(&format!("/sobjects/Contact/{id}")).await.status, StatusCode::NO_CONTENT);
    let again = api.delete(&format!("/sobjects/Contact/{id}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error_code(), "ENTITY_IS_DELETED");
    let garbage = api.get("/sobjects/Contact/not-an-id").await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    assert_eq!(garbage.error_code(), "NOT_FOUND");
    let wrong_type = api.get(&format!("/sobjects/Contact/{}", api.org.fixed().acme_account)).await;
    assert_eq!(wrong_type.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_hidden_object_disappears_from_the_sobject_resources() {
    let api = api().await;
    api.org.set_object_access("Lead", false);
    assert_eq!(api.get("/sobjects/Lead/describe").await.status, StatusCode::NOT_FOUND);
    let create = api.post("/sobjects/Lead", json!({"LastName": "X", "Company": "Y"})).await;
    assert_eq!(create.status, StatusCode::NOT_FOUND);
    let global = api.get("/sobjects").await;
    assert!(!global.body["sobjects"].as_array().unwrap().iter().any(|o| o["name"] == "Lead"));
}

#[tokio::test]
async fn users_cannot_be_created_through_the_api() {
    let api = api().await;
    let r = api.post("/sobjects/User", json!({"LastName": "X"})).await;
    assert_eq!(r.error_code(), "INVALID_TYPE_FOR_OPERATION");
}
