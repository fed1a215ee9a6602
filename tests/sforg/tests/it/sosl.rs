use std::time::Duration;

use reqwest::StatusCode;
use ringside_sforg::OrgConfig;
use serde_json::json;

use crate::support::{api, api_with, config, ids};

#[tokio::test]
async fn a_phone_search_finds_the_number_however_it_was_typed() {
    let api = api().await;
    let typed = ["01 23 45 67 89", "+33 (0)1 23 45 67 89", "0033 1 23 45 67 89", "01.23.45.67.89"];
    let mut expected = vec![api.org.fixed().marie_dubois.clone()];
    for (n, phone) in typed.iter().enumerate() {
        let id = api.org.insert("Lead", json!({"LastName": format!("Format{n}"), "Company": "Formats", "Phone": phone})).unwrap();
        expected.push(id);
    }
    let found = api.search("FIND {123456789} IN PHONE FIELDS RETURNING Contact(Id, Name), Lead(Id, Name)").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let mut got = ids(&found.body["searchRecords"]);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "digits-only matching finds every formatting of 01 23 45 67 89");
    let first = &found.body["searchRecords"][0];
    assert!(first["attributes"]["url"].as_str().unwrap().starts_with("/services/data/v62.0/sobjects/"));
}

#[tokio::test]
async fn an_escaped_international_number_matches_the_same_digits() {
    let api = api().await;
    let found = api.search(r"FIND {\+33 1 23 45 67 89} IN PHONE FIELDS RETURNING Contact(Id)").await;
    assert_eq!(ids(&found.body["searchRecords"]), vec![api.org.fixed().marie_dubois.clone()]);
}

#[tokio::test]
async fn several_records_share_the_acme_main_line() {
    let api = api().await;
    let f = api.org.fixed();
    let found = api.search("FIND {4155551212} IN PHONE FIELDS RETURNING Account(Id, Name), Contact(Id, Name, Account.Name), Lead(Id)").await;
    let mut got = ids(&found.body["searchRecords"]);
    got.sort();
    let mut expected = vec![f.acme_account.clone(), f.acme_contacts[0].clone(), f.acme_contacts[1].clone()];
    expected.sort();
    assert_eq!(got, expected, "the account and both contacts answer on the main line");
    let types: Vec<&str> = found.body["searchRecords"].as_array().unwrap().iter().map(|r| r["attributes"]["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["Account", "Contact", "Contact"], "results come in RETURNING order");
}

#[tokio::test]
async fn the_same_number_on_a_contact_and_a_lead_finds_both() {
    let api = api().await;
    let f = api.org.fixed();
    let found = api.search("FIND {301234567} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)").await;
    assert_eq!(ids(&found.body["searchRecords"]), vec![f.hans_muller_contact.clone(), f.hans_mueller_lead.clone()]);
}

#[tokio::test]
async fn short_terms_must_match_the_whole_number() {
    let api = api().await;
    let found = api.search("FIND {4567} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(ids(&found.body["searchRecords"]).is_empty(), "fewer than 7 digits never match the end of a number");
}

#[tokio::test]
async fn unescaped_reserved_characters_are_a_malformed_search() {
    let api = api().await;
    let found = api.search("FIND {+33 1 23 45 67 89} IN PHONE FIELDS RETURNING Contact(Id)").await;
    assert_eq!(found.status, StatusCode::BAD_REQUEST);
    assert_eq!(found.error_code(), "MALFORMED_SEARCH");
    assert!(found.message().contains("line 1:6 mismatched character '+' expecting '}'"), "{}", found.message());
    assert!(found.message().contains("ERROR at Row:1:Column:6"), "{}", found.message());
    for bad in ["(415) 555-1212", "Jean-Pierre", "a:b", "x|y"] {
        let q = format!("FIND {{{bad}}} RETURNING Contact(Id)");
        assert_eq!(api.search(&q).await.error_code(), "MALFORMED_SEARCH", "{bad} needs escaping");
    }
    assert_eq!(api.search(r"FIND {\(415\) 555\-1212} IN PHONE FIELDS RETURNING Contact(Id)").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_one_character_term_is_refused() {
    let api = api().await;
    let found = api.search("FIND {a} RETURNING Contact(Id)").await;
    assert_eq!(found.error_code(), "INVALID_SEARCH");
}

#[tokio::test]
async fn records_written_within_the_index_delay_are_found_by_soql_and_id_but_not_sosl() {
    let api = api_with(OrgConfig { search_delay: Duration::from_secs(30), ..config() }).await;
    let created = api.post("/sobjects/Lead", json!({"LastName": "Nouveau", "Company": "Appel entrant", "Phone": "+33 1 99 00 77 66"})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_string();
    let sosl = "FIND {199007766} IN PHONE FIELDS RETURNING Lead(Id)";
    assert!(ids(&api.search(sosl).await.body["searchRecords"]).is_empty(), "the search index lags behind the write");
    let soql = api.query("SELECT Id FROM Lead WHERE Phone = '+33 1 99 00 77 66'").await;
    assert_eq!(ids(&soql.body["records"]), vec![id.clone()], "SOQL sees the record at once");
    assert_eq!(api.get(&format!("/sobjects/Lead/{id}")).await.status, StatusCode::OK);
    api.org.advance_clock(Duration::from_secs(31));
    assert_eq!(ids(&api.search(sosl).await.body["searchRecords"]), vec![id], "after the delay SOSL finds it");
}

#[tokio::test]
async fn sosl_never_returns_more_than_2000_rows() {
    let api = api().await;
    let found = api.search("FIND {example} IN EMAIL FIELDS RETURNING Contact(Id), Lead(Id)").await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body["searchRecords"].as_array().unwrap().len(), 2000, "over 2,000 matches are cut at 2,000");
}

#[tokio::test]
async fn per_object_where_order_and_limit_apply() {
    let api = api().await;
    let found = api
        .search("FIND {example} IN EMAIL FIELDS RETURNING Contact(Id, MailingCountry WHERE MailingCountry = 'France' ORDER BY Name LIMIT 3), Lead(Id LIMIT 2) LIMIT 4")
        .await;
    let rows = found.body["searchRecords"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "3 contacts, then the overall limit leaves room for 1 lead");
    assert!(rows[..3].iter().all(|r| r["MailingCountry"] == "France"));
    assert_eq!(rows[3]["attributes"]["type"], "Lead");
}

#[tokio::test]
async fn names_in_japanese_and_with_accents_are_found() {
    let api = api().await;
    let f = api.org.fixed();
    let found = api.search("FIND {佐藤} IN NAME FIELDS RETURNING Contact(Id, Name)").await;
    assert!(ids(&found.body["searchRecords"]).contains(&f.sato_yuko_contact));
    let found = api.search("FIND {Lumière} IN NAME FIELDS RETURNING Account(Id)").await;
    assert!(ids(&found.body["searchRecords"]).contains(&f.lumiere_account));
}

#[tokio::test]
async fn returning_an_object_the_user_cannot_see_is_an_invalid_type() {
    let api = api().await;
    api.org.set_object_access("Lead", false);
    let found = api.search("FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id), Lead(Id)").await;
    assert_eq!(found.status, StatusCode::BAD_REQUEST);
    assert_eq!(found.error_code(), "INVALID_TYPE");
    assert!(found.message().contains("sObject type 'Lead' is not supported."), "{}", found.message());
}
