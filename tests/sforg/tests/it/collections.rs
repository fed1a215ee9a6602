use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::api;

fn contact(last: &str) -> Value {
    json!({"attributes": {"type": "Contact"}, "LastName": last})
}

#[tokio::test]
async fn a_collection_create_answers_one_save_result_per_record_in_order() {
    let api = api().await;
    let r = api.post("/composite/sobjects", json!({"allOrNone": false, "records": [contact("Un"), contact(""), contact("Trois")]})).await;
    assert_eq!(r.status, StatusCode::OK, "partial failure is still a 200");
    let results = r.body.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[1]["success"], false);
    assert_eq!(results[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(results[1]["errors"][0]["fields"], json!(["LastName"]));
    assert_eq!(results[2]["success"], true);
    let id = results[2]["id"].as_str().unwrap();
    assert_eq!(api.org.record(id).unwrap()["LastName"], "Trois");
}

#[tokio::test]
async fn all_or_none_rolls_everything_back_when_one_record_fails() {
    let api = api().await;
    let before = api.org.records("Contact").len();
    let r = api.post("/composite/sobjects", json!({"allOrNone": true, "records": [contact("Un"), contact("")]})).await;
    let results = r.body.as_array().unwrap();
    assert_eq!(results[0]["success"], false);
    assert_eq!(results[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    assert_eq!(results[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(api.org.records("Contact").len(), before, "nothing was written");
}

#[tokio::test]
async fn more_than_200_records_are_refused_whole() {
    let api = api().await;
    let records: Vec<Value> = (0..201).map(|n| contact(&format!("C{n}"))).collect();
    let r = api.post("/composite/sobjects", json!({"records": records})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "EXCEEDED_ID_LIMIT");
    assert_eq!(r.message(), "record limit reached. cannot submit more than 200 records into this call");
    let records: Vec<Value> = (0..200).map(|n| contact(&format!("C{n}"))).collect();
    assert_eq!(api.post("/composite/sobjects", json!({"records": records})).await.status, StatusCode::OK, "200 is allowed");
}

#[tokio::test]
async fn a_collection_update_and_retrieve_round_trip() {
    let api = api().await;
    let f = api.org.fixed();
    let r = api
        .patch(
            "/composite/sobjects",
            json!({"records": [
                {"attributes": {"type": "Contact"}, "id": f.marie_dubois, "Title": "Directrice générale"},
                {"attributes": {"type": "Contact"}, "Title": "no id"}
            ]}),
        )
        .await;
    assert_eq!(r.body[0]["success"], true);
    assert_eq!(r.body[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    let path = format!("/composite/sobjects/Contact?ids={},0035g000000000zZZZ,garbage&fields=Id,Title", f.marie_dubois);
    let got = api.get(&path).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body[0]["Title"], "Directrice générale");
    assert!(got.body[1].is_null() && got.body[2].is_null(), "unknown ids come back as null in place");
    let bad_field = api.get(&format!("/composite/sobjects/Contact?ids={}&fields=Nope", f.marie_dubois)).await;
    assert_eq!(bad_field.error_code(), "INVALID_FIELD");
}

#[tokio::test]
async fn a_collection_delete_reports_each_id() {
    let api = api().await;
    let id = api.org.insert("Lead", json!({"LastName": "X", "Company": "Y"})).unwrap();
    let r = api.delete(&format!("/composite/sobjects?ids={id},{id}")).await;
    assert_eq!(r.body[0]["success"], true);
    assert_eq!(r.body[1]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
}
