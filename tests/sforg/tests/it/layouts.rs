//! The shipped custom object `Ringside_Layout__c`, served as Salesforce serves it once
//! the metadata in `assets/salesforce` is deployed.

use std::time::Duration;

use reqwest::StatusCode;
use ringside_sforg::ObjectPermissions;
use serde_json::{json, Value};

use crate::support::{api, ids, Api};

const LAYOUTS: &str = "/sobjects/Ringside_Layout__c";

fn by_target(target: &str) -> String {
    format!("{LAYOUTS}/Target__c/{target}")
}

fn field<'a>(describe: &'a Value, name: &str) -> &'a Value {
    describe["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no field {name}"))
}

async fn publish(api: &Api, target: &str, fields: Value) -> String {
    let r = api.patch(&by_target(target), fields).await;
    assert!(r.status.is_success(), "{}: {}", r.status, r.body);
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_upsert_by_target_creates_the_layout_then_updates_the_same_record() {
    let api = api().await;
    let created = api.patch(&by_target("org"), json!({"Scope__c": "Org", "Version__c": 1, "Body__c": "{\"v\":1}"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body, json!({"id": id, "success": true, "errors": [], "created": true}));

    api.org.advance_clock(Duration::from_secs(60));
    let updated = api.patch(&by_target("org"), json!({"Version__c": 2, "Body__c": "{\"v\":2}"})).await;
    assert_eq!(updated.status, StatusCode::OK, "a match is updated, with a body since API 46.0");
    assert_eq!(updated.body, json!({"id": id, "success": true, "errors": [], "created": false}));

    let rec = api.get(&format!("{LAYOUTS}/{id}")).await;
    assert_eq!(rec.body["Version__c"], 2.0);
    assert_eq!(rec.body["Body__c"], "{\"v\":2}");
    assert_eq!(rec.body["Target__c"], "org", "the URL's value was stored on create");
    assert_eq!(rec.body["Scope__c"], "Org", "fields the update left out keep their value");
    assert_eq!(rec.body["LastModifiedDate"], "2026-11-20T09:01:00.000+0000");
    assert_eq!(api.org.records("Ringside_Layout__c").len(), 1, "one record per target");
}

#[tokio::test]
async fn a_layout_round_trips_every_field_and_the_audit_fields() {
    let api = api().await;
    let me = api.org.signed_in_user_id().to_string();
    let profile = api.org.profile_id("Standard User").unwrap();
    let created = api
        .post(LAYOUTS, json!({
            "Name": "Reps", "Scope__c": "Profile", "Profile_Id__c": profile, "Version__c": 7,
            "Body__c": "{\"panels\":[\"calls\",\"notes\"]}", "Target__c": format!("profile:{profile}"),
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert!(id.starts_with("a00"), "custom objects get an a0x key prefix: {id}");

    let fields = "Name,Scope__c,Profile_Id__c,User__c,Version__c,Body__c,Target__c,OwnerId,CreatedDate,LastModifiedDate,SystemModstamp,LastModifiedById";
    let rec = api.get(&format!("{LAYOUTS}/{id}?fields={fields}")).await;
    assert_eq!(rec.status, StatusCode::OK, "{}", rec.body);
    assert_eq!(rec.body["Version__c"], json!(7.0), "a Number(18,0) travels as a JSON double");
    assert_eq!(rec.body["Profile_Id__c"], profile.as_str());
    assert!(rec.body["User__c"].is_null());
    assert_eq!(rec.body["OwnerId"], me.as_str());
    assert_eq!(rec.body["LastModifiedById"], me.as_str());
    assert_eq!(rec.body["CreatedDate"], "2026-11-20T09:00:00.000+0000");
    assert_eq!(rec.body["SystemModstamp"], rec.body["LastModifiedDate"]);
    assert!(rec.body.get("IsDeleted").is_none(), "?fields= limits the answer");

    let by_target = api.get(&by_target(&format!("profile:{profile}"))).await;
    assert_eq!(by_target.body["Id"], id, "a record can be read by its external id");

    let unnamed = api.post(LAYOUTS, json!({"Scope__c": "Org"})).await;
    let unnamed_id = unnamed.body["id"].as_str().unwrap();
    assert_eq!(api.org.record(unnamed_id).unwrap()["Name"], unnamed_id, "without a Name, the id is the name");
    let rounded = api.patch(&format!("{LAYOUTS}/{unnamed_id}"), json!({"Version__c": 2.6})).await;
    assert_eq!(rounded.status, StatusCode::NO_CONTENT);
    assert_eq!(api.org.record(unnamed_id).unwrap()["Version__c"], 3.0, "scale 0 rounds");

    assert_eq!(api.delete(&format!("{LAYOUTS}/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.get(&format!("{LAYOUTS}/{id}")).await.error_code(), "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn the_org_profile_and_user_layouts_come_back_from_one_or_query() {
    let api = api().await;
    let me = api.org.signed_in_user_id().to_string();
    let profile = api.org.profile_id("Standard User").unwrap();
    let other_profile = api.org.profile_id("Sales User").unwrap();
    let org = publish(&api, "org", json!({"Scope__c": "Org", "Version__c": 1})).await;
    let mine = publish(&api, &format!("profile:{profile}"), json!({"Scope__c": "Profile", "Profile_Id__c": profile})).await;
    let personal = publish(&api, &format!("user:{me}"), json!({"Scope__c": "User", "User__c": me})).await;
    publish(&api, &format!("profile:{other_profile}"), json!({"Scope__c": "Profile", "Profile_Id__c": other_profile})).await;
    publish(&api, &format!("user:{}", api.org.fixed().colleague_user), json!({"Scope__c": "User", "User__c": api.org.fixed().colleague_user})).await;

    let q = format!(
        "SELECT Id, Scope__c, Version__c, Body__c, User__r.Name, SystemModstamp FROM Ringside_Layout__c \
         WHERE Scope__c = 'Org' OR User__c = '{me}' OR Profile_Id__c = '{profile}' ORDER BY Scope__c"
    );
    let found = api.query(&q).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(ids(&found.body["records"]), vec![org, mine, personal], "the three layouts that apply to Ada, no others");
    let rows = found.body["records"].as_array().unwrap();
    assert_eq!(rows[2]["User__r"]["Name"], "Ada Rep", "the lookup's parent relationship is User__r");
    assert!(rows[0]["User__r"].is_null());
    assert_eq!(rows[0]["attributes"]["type"], "Ringside_Layout__c");
}

#[tokio::test]
async fn the_long_text_body_can_be_selected_but_not_filtered_or_sorted() {
    let api = api().await;
    publish(&api, "org", json!({"Body__c": "{}"})).await;
    let filtered = api.query("SELECT Id FROM Ringside_Layout__c WHERE Body__c = '{}'").await;
    assert_eq!(filtered.status, StatusCode::BAD_REQUEST);
    assert_eq!(filtered.error_code(), "INVALID_FIELD");
    assert!(filtered.message().ends_with("field 'Body__c' can not be filtered in a query call"), "{}", filtered.message());
    let like = api.query("SELECT Id FROM Ringside_Layout__c WHERE Body__c LIKE '%panels%'").await;
    assert_eq!(like.error_code(), "INVALID_FIELD", "LIKE is a filter too");
    let sorted = api.query("SELECT Id FROM Ringside_Layout__c ORDER BY Body__c").await;
    assert!(sorted.message().ends_with("field 'Body__c' can not be sorted in a query call"), "{}", sorted.message());
    let selected = api.query("SELECT Body__c FROM Ringside_Layout__c").await;
    assert_eq!(selected.body["records"][0]["Body__c"], "{}");
}

#[tokio::test]
async fn a_body_over_131072_characters_is_refused_with_string_too_long() {
    let api = api().await;
    let at_limit = "é".repeat(131_072);
    assert_eq!(api.patch(&by_target("org"), json!({"Body__c": at_limit})).await.status, StatusCode::CREATED, "the limit counts characters, not bytes");
    let over = format!("{{\"x\":\"{}\"}}", "a".repeat(131_070));
    let r = api.patch(&by_target("org"), json!({"Body__c": over})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "STRING_TOO_LONG");
    assert_eq!(r.body[0]["fields"], json!(["Body__c"]));
    let message = r.message();
    assert!(message.starts_with("Layout JSON: data value too large: {\"x\":\"aaa"), "{}", &message[..60]);
    assert!(message.ends_with("... (max length=131072)"), "the quoted value is cut: {}", &message[message.len() - 40..]);
    assert!(message.len() < 2_000, "the message does not carry the whole value");
    assert_eq!(api.org.records("Ringside_Layout__c")[0]["Body__c"].as_str().unwrap().chars().count(), 131_072, "nothing was written");

    let huge = "b".repeat(5 * 1024 * 1024);
    let r = api.post(LAYOUTS, json!({"Body__c": huge})).await;
    assert_eq!(r.error_code(), "STRING_TOO_LONG", "a 5 MB body reaches validation, not a transport limit");
}

#[tokio::test]
async fn a_5_mb_body_planted_past_validation_is_served_whole() {
    let api = api().await;
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let id = api.org.insert_unchecked("Ringside_Layout__c", json!({"target__c": "org", "Body__c": huge, "Version__c": 9})).unwrap();
    let by_id = api.get(&format!("{LAYOUTS}/{id}")).await;
    assert_eq!(by_id.body["Body__c"].as_str().map(str::len), Some(huge.len()));
    let queried = api.query("SELECT Body__c, Version__c FROM Ringside_Layout__c WHERE Target__c = 'org'").await;
    assert_eq!(queried.body["records"][0]["Body__c"].as_str().map(str::len), Some(huge.len()));
    assert_eq!(queried.body["records"][0]["Version__c"], 9, "unchecked values are stored as given");
    let refused = api.org.insert_unchecked("Ringside_Layout__c", json!({"Nope__c": 1})).unwrap_err();
    assert_eq!(refused[0].code, "INVALID_FIELD", "only unknown fields are refused");
}

#[tokio::test]
async fn target_is_unique_and_case_sensitive() {
    let api = api().await;
    let org = publish(&api, "org", json!({})).await;
    let upper = api.patch(&by_target("ORG"), json!({})).await;
    assert_eq!(upper.status, StatusCode::CREATED, "ORG is another target than org");
    let exact = api.query("SELECT Id FROM Ringside_Layout__c WHERE Target__c = 'org'").await;
    assert_eq!(ids(&exact.body["records"]), vec![org.clone()], "= is case-sensitive on a unique case-sensitive field");

    let dup = api.post(LAYOUTS, json!({"Target__c": "org"})).await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST);
    assert_eq!(dup.error_code(), "DUPLICATE_VALUE");
    assert_eq!(dup.message(), format!("duplicate value found: Target__c duplicates value on record with id: {org}"));
    let same = api.patch(&format!("{LAYOUTS}/{org}"), json!({"Target__c": "org"})).await;
    assert_eq!(same.status, StatusCode::NO_CONTENT, "a record does not collide with itself");
}

#[tokio::test]
async fn upserts_refuse_other_fields_duplicates_and_a_key_in_the_body() {
    let api = api().await;
    let not_external = api.patch(&format!("{LAYOUTS}/Profile_Id__c/x"), json!({})).await;
    assert_eq!(not_external.status, StatusCode::NOT_FOUND);
    assert_eq!(not_external.body, json!([{"errorCode": "NOT_FOUND", "message": "Provided external ID field does not exist or is not accessible: Profile_Id__c"}]));

    let in_body = api.patch(&by_target("org"), json!({"Target__c": "org"})).await;
    assert_eq!((in_body.status, in_body.error_code()), (StatusCode::BAD_REQUEST, "INVALID_FIELD"));

    let update_only = api.send(api.http.patch(api.url(&by_target("org"))).query(&[("updateOnly", "true")]).json(&json!({}))).await;
    assert_eq!(update_only.status, StatusCode::NOT_FOUND, "updateOnly never creates");

    // Only writes past validation can leave two records with one key.
    let a = api.org.insert_unchecked("Ringside_Layout__c", json!({"Target__c": "org"})).unwrap();
    let b = api.org.insert_unchecked("Ringside_Layout__c", json!({"Target__c": "org"})).unwrap();
    let several = api.patch(&by_target("org"), json!({"Version__c": 2})).await;
    assert_eq!(several.status, StatusCode::MULTIPLE_CHOICES);
    let url = |id: &str| format!("/services/data/v62.0/sobjects/Ringside_Layout__c/{id}");
    assert_eq!(several.body, json!([url(&a), url(&b)]));
    assert!(api.org.records("Ringside_Layout__c").iter().all(|r| r["Version__c"].is_null()), "300 writes nothing");
}

#[tokio::test]
async fn describe_shows_the_custom_object_with_salesforces_field_types() {
    let api = api().await;
    let d = api.get(&format!("{LAYOUTS}/describe")).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!((d.body["label"].as_str(), d.body["labelPlural"].as_str()), (Some("Ringside Layout"), Some("Ringside Layouts")));
    assert_eq!(d.body["custom"], true);
    assert_eq!([&d.body["createable"], &d.body["updateable"], &d.body["deletable"], &d.body["queryable"]], [true, true, true, true]);
    let version = field(&d.body, "Version__c");
    assert_eq!((&version["type"], &version["precision"], &version["scale"], &version["custom"]), (&json!("double"), &json!(18), &json!(0), &json!(true)));
    let body = field(&d.body, "Body__c");
    assert_eq!(body["type"], "textarea");
    assert_eq!(body["length"], 131_072);
    assert_eq!(body["extraTypeInfo"], "plaintextarea");
    assert_eq!((&body["filterable"], &body["sortable"], &body["label"]), (&json!(false), &json!(false), &json!("Layout JSON")));
    let scope = field(&d.body, "Scope__c");
    assert_eq!(scope["restrictedPicklist"], true);
    let values: Vec<&str> = scope["picklistValues"].as_array().unwrap().iter().map(|v| v["value"].as_str().unwrap()).collect();
    assert_eq!(values, ["Org", "Profile", "User"]);
    let user = field(&d.body, "User__c");
    assert_eq!((&user["referenceTo"], &user["relationshipName"]), (&json!(["User"]), &json!("User__r")));
    let target = field(&d.body, "Target__c");
    assert_eq!([&target["externalId"], &target["unique"], &target["caseSensitive"], &target["idLookup"]], [true, true, true, true]);
    assert_eq!(field(&d.body, "Name")["label"], "Layout Name");
    for standard in ["Id", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp"] {
        assert_eq!(field(&d.body, standard)["custom"], false, "{standard} is a standard field of every custom object");
    }
    let users = api.get("/sobjects/User/describe").await;
    let children = users.body["childRelationships"].as_array().unwrap();
    assert!(children.iter().any(|c| c["relationshipName"] == "Ringside_Layouts__r" && c["field"] == "User__c"), "{children:?}");
}

#[tokio::test]
async fn a_reader_sees_layouts_but_every_write_is_refused() {
    let api = api().await;
    let org = publish(&api, "org", json!({"Version__c": 1})).await;
    api.org.set_permissions_from("Ringside_Layout_Reader");

    let d = api.get(&format!("{LAYOUTS}/describe")).await;
    assert_eq!([&d.body["createable"], &d.body["updateable"], &d.body["deletable"]], [false, false, false]);
    assert_eq!(d.body["queryable"], true);
    let global = api.get("/sobjects").await;
    let listed = global.body["sobjects"].as_array().unwrap().iter().find(|o| o["name"] == "Ringside_Layout__c").cloned().unwrap();
    assert_eq!(listed["createable"], false, "describeGlobal agrees");

    let refusals = [
        api.post(LAYOUTS, json!({"Target__c": "user:x"})).await,
        api.patch(&format!("{LAYOUTS}/{org}"), json!({"Version__c": 2})).await,
        api.patch(&by_target("org"), json!({"Version__c": 2})).await,
        api.patch(&by_target("new"), json!({})).await,
        api.delete(&format!("{LAYOUTS}/{org}")).await,
    ];
    for r in &refusals {
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "INSUFFICIENT_ACCESS_OR_READONLY"), "{}", r.body);
    }
    let batch = api.post("/composite/sobjects", json!({"records": [{"attributes": {"type": "Ringside_Layout__c"}, "Name": "x"}]})).await;
    assert_eq!(batch.body[0]["errors"][0]["statusCode"], "INSUFFICIENT_ACCESS_OR_READONLY");
    let read = api.query("SELECT Version__c FROM Ringside_Layout__c").await;
    assert_eq!(read.body["records"][0]["Version__c"], 1.0, "reading still works");
    assert_eq!(api.org.records("Ringside_Layout__c").len(), 1, "nothing was written");

    api.org.set_object_permissions("Ringside_Layout__c", ObjectPermissions::NONE);
    assert_eq!(api.get(&format!("{LAYOUTS}/describe")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.patch(&by_target("org"), json!({})).await.status, StatusCode::NOT_FOUND, "a hidden object has no resources");
    assert_eq!(api.query("SELECT Id FROM Ringside_Layout__c").await.error_code(), "INVALID_TYPE");

    api.org.set_permissions_from("Ringside_Layout_Admin");
    assert_eq!(api.patch(&by_target("org"), json!({"Version__c": 2})).await.status, StatusCode::OK, "admins publish again");
}

#[tokio::test]
async fn under_public_read_only_sharing_only_the_owner_or_modify_all_changes_a_layout() {
    let api = api().await;
    let bruno = api.org.fixed().manager_user.clone();
    let his = api.org.insert_unchecked("Ringside_Layout__c", json!({"Target__c": "org", "OwnerId": bruno})).unwrap();
    let r = api.patch(&by_target("org"), json!({"Version__c": 2})).await;
    assert_eq!(r.error_code(), "INSUFFICIENT_ACCESS_OR_READONLY", "Edit on the object is not enough for someone else's record");
    assert_eq!(api.get(&format!("{LAYOUTS}/{his}")).await.status, StatusCode::OK, "but everyone reads it");
    api.org.set_object_permissions("Ringside_Layout__c", ObjectPermissions { modify_all: true, ..ObjectPermissions::CRUD });
    assert_eq!(api.patch(&by_target("org"), json!({"Version__c": 2})).await.status, StatusCode::OK, "Modify All overrides ownership");
}

#[tokio::test]
async fn the_signed_in_users_profile_is_reachable_through_the_profile_relationship() {
    let api = api().await;
    let me = api.org.signed_in_user_id().to_string();
    let r = api.query(&format!("SELECT ProfileId, Profile.Name FROM User WHERE Id = '{me}'")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let row = &r.body["records"][0];
    assert_eq!(row["ProfileId"], api.org.profile_id("Standard User").unwrap().as_str());
    assert_eq!(row["Profile"]["Name"], "Standard User");
    assert_eq!(row["Profile"]["attributes"]["type"], "Profile");
    let profiles = api.query("SELECT Id, Name FROM Profile ORDER BY Name").await;
    let names: Vec<&str> = profiles.body["records"].as_array().unwrap().iter().map(|p| p["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sales User", "Standard User", "System Administrator"]);
    let f = api.org.fixed();
    assert_eq!(api.org.profile_id("system administrator").as_deref(), Some(f.system_administrator_profile.as_str()));
    assert!(f.system_administrator_profile.starts_with("00e"));
}

#[tokio::test]
async fn the_admin_api_plants_records_sets_permissions_and_names_profiles() {
    let api = api().await;
    let admin = |path: &str| format!("{}/__admin{path}", api.org.base_url());
    let planted = api.http.post(admin("/records/Ringside_Layout__c/unchecked")).json(&json!({"Target__c": "org", "Scope__c": "Nobody"})).send().await.unwrap();
    assert_eq!(planted.status(), StatusCode::CREATED);
    let id = planted.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(api.org.record(&id).unwrap()["Scope__c"], "Nobody", "no picklist check past validation");

    let read_only = json!({"object": "Ringside_Layout__c", "permissions": {"read": true, "create": false, "edit": false, "delete": false}});
    assert_eq!(api.http.post(admin("/access")).json(&read_only).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(api.get(&format!("{LAYOUTS}/describe")).await.body["createable"], false);
    let admin_set = api.http.post(admin("/permission-sets/Ringside_Layout_Admin")).send().await.unwrap();
    assert_eq!(admin_set.status(), StatusCode::OK);
    assert_eq!(api.get(&format!("{LAYOUTS}/describe")).await.body["createable"], true);

    let profile: Value = api.http.get(admin("/profiles/Standard%20User")).send().await.unwrap().json().await.unwrap();
    assert_eq!(profile["id"], api.org.profile_id("Standard User").unwrap().as_str());
    let fixed: Value = api.http.get(admin("/fixed")).send().await.unwrap().json().await.unwrap();
    assert_eq!(fixed["signedInUser"], api.org.signed_in_user_id());
    assert_eq!(fixed["standardUserProfile"], profile["id"]);
}
