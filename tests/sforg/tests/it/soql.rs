use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use ringside_sforg::OrgConfig;
use serde_json::json;

use crate::support::{api, api_with, config, ids};

#[tokio::test]
async fn a_hostile_value_inside_quotes_stays_a_value() {
    let api = api().await;
    let found = api.query(r"SELECT Id FROM Contact WHERE LastName = 'x\' OR LastName != \'y'").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["totalSize"], 0, "the escaped quotes keep the OR inside the string");

    let id = api.org.insert("Contact", json!({"LastName": r"O'Brien \ Sons"})).unwrap();
    let found = api.query(r"SELECT Id, LastName FROM Contact WHERE LastName = 'O\'Brien \\ Sons'").await;
    assert_eq!(ids(&found.body["records"]), vec![id]);
    assert_eq!(found.body["records"][0]["LastName"], r"O'Brien \ Sons");
}

#[tokio::test]
async fn parent_relationships_render_nested_and_null_when_absent() {
    let api = api().await;
    let f = api.org.fixed();
    let private = api.org.insert("Contact", json!({"LastName": "Sans Compte"})).unwrap();
    let q = format!(
        "SELECT Name, Account.Name, Owner.Name FROM Contact WHERE Id IN ('{}', '{private}') ORDER BY Name",
        f.marie_dubois
    );
    let found = api.query(&q).await;
    let rows = found.body["records"].as_array().unwrap();
    assert_eq!(rows[0]["Name"], "Marie Dubois");
    assert_eq!(rows[0]["Account"]["Name"], "Lumière SA");
    assert_eq!(rows[0]["Account"]["attributes"]["type"], "Account");
    assert_eq!(rows[0]["Owner"]["Name"], "Ada Rep");
    assert!(rows[1]["Account"].is_null(), "a contact without account has Account: null");
}

#[tokio::test]
async fn count_returns_only_the_total() {
    let api = api().await;
    let q = format!("SELECT COUNT() FROM Contact WHERE AccountId = '{}'", api.org.fixed().acme_account);
    let found = api.query(&q).await;
    assert_eq!(found.body, json!({"totalSize": 2, "done": true, "records": []}));
}

#[tokio::test]
async fn large_results_come_in_batches_behind_next_records_url() {
    let api = api_with(OrgConfig { query_batch_size: 300, ..config() }).await;
    let first = api.query("SELECT Id FROM Lead ORDER BY Id").await;
    let total = first.body["totalSize"].as_u64().unwrap() as usize;
    assert!(total > 900, "the fixture has about a thousand leads");
    assert_eq!(first.body["done"], false);
    let mut seen: Vec<String> = ids(&first.body["records"]);
    assert_eq!(seen.len(), 300);
    let mut next = first.body["nextRecordsUrl"].as_str().unwrap().to_string();
    assert!(next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-300"), "{next}");
    loop {
        let page = api.send(api.http.get(format!("{}{next}", api.org.base_url()))).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        seen.extend(ids(&page.body["records"]));
        if page.body["done"] == true {
            assert!(page.body.get("nextRecordsUrl").is_none());
            break;
        }
        next = page.body["nextRecordsUrl"].as_str().unwrap().to_string();
    }
    assert_eq!(seen.len(), total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), total, "no row twice across batches");
    let replay = api.send(api.http.get(format!("{}{next}", api.org.base_url()))).await;
    assert_eq!(replay.error_code(), "INVALID_QUERY_LOCATOR", "a finished cursor is gone");
}

#[tokio::test]
async fn the_query_options_header_sets_the_batch_size_within_salesforces_bounds() {
    let api = api().await;
    let req = api.http.get(api.url("/query")).query(&[("q", "SELECT Id FROM Lead")]).header("Sforce-Query-Options", "batchSize=50");
    let page = api.send(req).await;
    assert_eq!(page.body["records"].as_array().unwrap().len(), 200, "batch sizes below 200 are raised to 200");
}

#[tokio::test]
async fn syntax_errors_unknown_fields_and_unknown_objects_use_salesforces_codes() {
    let api = api().await;
    let bad = api.query("SELECT Id FRM Contact").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error_code(), "MALFORMED_QUERY");
    assert!(bad.message().contains("ERROR at Row:1:Column:11"), "{}", bad.message());

    let field = api.query("SELECT Id, Foo FROM Contact").await;
    assert_eq!(field.error_code(), "INVALID_FIELD");
    assert!(field.message().contains("No such column 'Foo' on entity 'Contact'"), "{}", field.message());
    assert!(field.message().starts_with("\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\n"), "{:?}", field.message());

    let object = api.query("SELECT Id FROM Foo").await;
    assert_eq!(object.error_code(), "INVALID_TYPE");
    assert!(object.message().contains("sObject type 'Foo' is not supported."));

    let mixed = api.query("SELECT Id FROM Lead WHERE Status = 'x' AND Company = 'y' OR LastName = 'z'").await;
    assert_eq!(mixed.error_code(), "MALFORMED_QUERY", "AND and OR need parentheses");

    let quoted_date = api.query("SELECT Id FROM Lead WHERE CreatedDate > '2026-01-01'").await;
    assert_eq!(quoted_date.error_code(), "INVALID_FIELD");
    assert!(quoted_date.message().contains("must be of type dateTime and should not be enclosed in quotes"));

    let bad_id = api.query("SELECT Id FROM Lead WHERE Id = 'nope'").await;
    assert_eq!(bad_id.error_code(), "INVALID_QUERY_FILTER_OPERATOR");

    let missing = api.send(api.http.get(api.url("/query"))).await;
    assert_eq!(missing.error_code(), "MALFORMED_QUERY");
}

#[tokio::test]
async fn a_hidden_object_is_an_invalid_type_in_soql() {
    let api = api().await;
    api.org.set_object_access("Lead", false);
    let found = api.query("SELECT Id FROM Lead").await;
    assert_eq!(found.error_code(), "INVALID_TYPE");
    api.org.set_object_access("Lead", true);
    assert_eq!(api.query("SELECT Id FROM Lead LIMIT 1").await.status, StatusCode::OK);
}

#[tokio::test]
async fn date_literals_follow_the_orgs_clock() {
    let mut api = api().await;
    let marie = api.org.fixed().marie_dubois.clone();
    let q = format!("SELECT Id, LastActivityDate FROM Contact WHERE Id = '{marie}' AND LastActivityDate = LAST_N_DAYS:7");
    let found = api.query(&q).await;
    assert_eq!(ids(&found.body["records"]), vec![marie.clone()], "the call logged three days ago counts");
    assert_eq!(found.body["records"][0]["LastActivityDate"], "2026-11-17");

    let fresh = api.org.insert("Task", json!({"Subject": "Call", "WhoId": marie, "Status": "Completed", "ActivityDate": "2026-11-20"})).unwrap();
    let today = api.query("SELECT Id FROM Task WHERE CreatedDate = TODAY").await;
    assert_eq!(ids(&today.body["records"]), vec![fresh.clone()]);
    let after = api.query("SELECT Id FROM Task WHERE CreatedDate > 2026-11-20T08:59:59Z").await;
    assert_eq!(ids(&after.body["records"]), vec![fresh]);
    let q = format!("SELECT LastActivityDate FROM Contact WHERE Id = '{marie}'");
    assert_eq!(api.query(&q).await.body["records"][0]["LastActivityDate"], "2026-11-20", "a completed task rolls up");

    api.org.advance_clock(Duration::from_secs(86_400));
    api.renew();
    assert_eq!(api.query("SELECT Id FROM Task WHERE CreatedDate = TODAY").await.body["totalSize"], 0);
    assert_eq!(api.query("SELECT Id FROM Task WHERE CreatedDate = YESTERDAY").await.body["totalSize"], 1);
}

#[tokio::test]
async fn order_by_with_nulls_last_limit_and_offset() {
    let api = api().await;
    for (last, title) in [("Zed", None), ("Amsel", Some("B")), ("Birke", Some("A"))] {
        api.org.insert("Contact", json!({"LastName": last, "Department": "Sorting", "Title": title})).unwrap();
    }
    let q = "SELECT LastName FROM Contact WHERE Department = 'Sorting' ORDER BY Title ASC NULLS LAST";
    let names: Vec<String> = api.query(q).await.body["records"].as_array().unwrap().iter().map(|r| r["LastName"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Birke", "Amsel", "Zed"]);
    let q = "SELECT LastName FROM Contact WHERE Department = 'Sorting' ORDER BY LastName DESC LIMIT 1 OFFSET 1";
    assert_eq!(api.query(q).await.body["records"][0]["LastName"], "Birke");
    let q = "SELECT LastName FROM Contact WHERE Department = 'Sorting' AND (Title = null OR Title LIKE 'a%')";
    assert_eq!(api.query(q).await.body["totalSize"], 2, "LIKE is case-insensitive; = null finds empty fields");
    let q = "SELECT LastName FROM Contact WHERE Department = 'Sorting' AND Title NOT IN ('A', 'B')";
    assert_eq!(api.query(q).await.body["totalSize"], 1);
}
