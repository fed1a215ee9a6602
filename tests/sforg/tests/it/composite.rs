//! The Composite resource (`POST …/composite`): subrequests that read each other's
//! answers, one API call for all of them, all or none.

use reqwest::StatusCode;
use ringside_sforg::{AfterCommit, Fault, FaultKind};
use serde_json::{json, Value};

use crate::support::{api, Answer, Api};

const V: &str = "/services/data/v62.0";
const ROLLED_BACK: &str = "The transaction was rolled back since another operation in the same transaction failed.";

fn get(url: &str, reference_id: &str) -> Value {
    json!({"method": "GET", "url": format!("{V}{url}"), "referenceId": reference_id})
}

fn post(url: &str, reference_id: &str, body: Value) -> Value {
    json!({"method": "POST", "url": format!("{V}{url}"), "referenceId": reference_id, "body": body})
}

async fn composite(api: &Api, subrequests: Vec<Value>) -> Answer {
    api.post("/composite", json!({"compositeRequest": subrequests})).await
}

/// The results, after checking the composite itself answered 200.
fn results(r: &Answer) -> &Vec<Value> {
    assert_eq!(r.status, StatusCode::OK, "a composite answers 200 whatever its subrequests do: {}", r.body);
    r.body["compositeResponse"].as_array().expect("compositeResponse is an array")
}

fn halted(message: &str) -> Value {
    json!([{"errorCode": "PROCESSING_HALTED", "message": message}])
}

#[tokio::test]
async fn a_query_then_references_into_its_records_chain_reads_and_a_write() {
    let api = api().await;
    let me = api.org.signed_in_user_id().to_string();
    let profile = api.org.profile_id("Standard User").unwrap();
    let r = composite(
        &api,
        vec![
            // Written with raw spaces and quotes, as Salesforce accepts subrequest URLs.
            get(&format!("/query?q=SELECT Id, ProfileId FROM User WHERE Id = '{me}'"), "refUser"),
            get("/sobjects/Profile/@{refUser.records[0].ProfileId}?fields=Name", "refProfile"),
            post(
                "/sobjects/Task",
                "refNew",
                json!({"Subject": "Call about @{refProfile.Name}", "OwnerId": "@{refUser.records[0].Id}", "Status": "Completed"}),
            ),
            get("/sobjects/Task/@{refNew.id}?fields=Subject,OwnerId", "refRead"),
        ],
    )
    .await;
    let results = results(&r);
    assert_eq!(results.len(), 4, "one result per subrequest");
    assert_eq!(results[0]["referenceId"], "refUser");
    assert_eq!(results[0]["httpStatusCode"], 200);
    assert_eq!(results[0]["body"]["records"][0]["ProfileId"], profile.as_str());
    assert_eq!(results[1]["body"]["Name"], "Standard User", "the URL took the profile id from the query's first record");
    assert_eq!(results[1]["httpHeaders"], json!({}));

    let id = results[2]["body"]["id"].as_str().expect("the task was created").to_string();
    assert_eq!(results[2]["httpStatusCode"], 201);
    assert_eq!(results[2]["body"], json!({"id": id, "success": true, "errors": []}));
    assert_eq!(results[2]["httpHeaders"], json!({"Location": format!("{V}/sobjects/Task/{id}")}));
    assert_eq!(results[3]["body"]["Subject"], "Call about Standard User", "a reference inside a longer string is spliced in");
    assert_eq!(results[3]["body"]["OwnerId"], me.as_str());
    assert_eq!(api.org.record(&id).unwrap()["Subject"], "Call about Standard User");

    let log = api.org.requests();
    assert_eq!(log.len(), 1, "the log holds HTTP requests: the composite once");
    assert_eq!((log[0].method.as_str(), log[0].uri.as_str()), ("POST", "/services/data/v62.0/composite"));
    let subs: Vec<String> = log[0].subrequests.iter().map(|s| format!("{} {} {:?}", s.method, s.uri, s.status)).collect();
    assert_eq!(subs[1], format!("GET {V}/sobjects/Profile/{profile}?fields=Name Some(200)"), "logged with the reference filled in");
    assert_eq!(subs[2], format!("POST {V}/sobjects/Task Some(201)"));
    assert_eq!(subs.len(), 4);
}

#[tokio::test]
async fn describes_of_several_objects_in_one_composite_count_as_one_api_call() {
    let api = api().await;
    let objects = ["Account", "Contact", "Lead", "Task", "Ringside_Layout__c"];
    let r = composite(&api, objects.iter().map(|o| get(&format!("/sobjects/{o}/describe"), &format!("describe{}", o.replace("__c", "")))).collect()).await;
    let names: Vec<&str> = results(&r).iter().map(|d| d["body"]["name"].as_str().unwrap_or_default()).collect();
    assert_eq!(names, objects, "each describe answered, in request order");
    assert_eq!(r.limit_info().as_deref(), Some("api-usage=1/15000"), "the whole composite is one call");
    assert_eq!(r.headers.get_all("Sforce-Limit-Info").iter().count(), 1, "and carries the header once");
    assert_eq!(api.org.api_usage(), (1, 15000));
    let log = api.org.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].subrequests.len(), objects.len(), "each describe ran");
    assert_eq!(api.get("/limits").await.limit_info().as_deref(), Some("api-usage=2/15000"));
}

#[tokio::test]
async fn a_hidden_object_fails_its_own_subrequest_with_not_found_and_the_others_answer() {
    let api = api().await;
    api.org.set_object_access("Lead", false);
    let r = composite(&api, vec![get("/sobjects/Account/describe", "a"), get("/sobjects/Lead/describe", "l"), get("/sobjects/Contact/describe", "c")]).await;
    let results = results(&r);
    assert_eq!(results[1]["httpStatusCode"], 404);
    assert_eq!(results[1]["body"], json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]));
    assert_eq!((results[0]["httpStatusCode"].clone(), results[0]["body"]["name"].clone()), (json!(200), json!("Account")));
    assert_eq!(results[2]["body"]["name"], "Contact", "without allOrNone a failure does not stop the others");
}

#[tokio::test]
async fn all_or_none_rolls_back_earlier_writes_and_halts_every_other_subrequest() {
    let api = api().await;
    let before = api.org.records("Contact").len();
    let r = api
        .post(
            "/composite",
            json!({"allOrNone": true, "collateSubrequests": false, "compositeRequest": [
                post("/sobjects/Contact", "first", json!({"LastName": "Kept?"})),
                post("/sobjects/Contact", "second", json!({"FirstName": "No last name"})),
                post("/sobjects/Contact", "third", json!({"LastName": "Never run"})),
            ]}),
        )
        .await;
    let results = results(&r);
    assert_eq!((results[0]["httpStatusCode"].clone(), results[0]["body"].clone()), (json!(400), halted(ROLLED_BACK)), "a success before the failure is rolled back");
    assert_eq!(results[1]["httpStatusCode"], 400);
    assert_eq!(results[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING", "the failure keeps its own error");
    assert_eq!(results[2]["body"], halted(ROLLED_BACK));
    assert_eq!(api.org.records("Contact").len(), before, "nothing was written");
    assert!(api.org.records("Contact").iter().all(|c| c["LastName"] != "Kept?"));
    let log = api.org.requests();
    assert_eq!(log[0].subrequests.len(), 2, "the third subrequest never ran");

    let later = api.post("/sobjects/Contact", json!({"LastName": "After"})).await;
    assert_eq!(later.status, StatusCode::CREATED, "the org writes normally after a rollback");
}

#[tokio::test]
async fn without_all_or_none_a_failure_stops_only_the_subrequests_that_depend_on_it() {
    let api = api().await;
    let r = composite(
        &api,
        vec![
            post("/sobjects/Contact", "refBad", json!({"FirstName": "No last name"})),
            get("/sobjects/Contact/@{refBad.id}", "refDependent"),
            post("/sobjects/Contact", "refGood", json!({"LastName": "Independent"})),
        ],
    )
    .await;
    let results = results(&r);
    assert_eq!(results[0]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(results[1]["httpStatusCode"], 400);
    assert_eq!(results[1]["body"], halted("Invalid reference specified. No value for refBad.id found in refBad"));
    assert_eq!(results[2]["httpStatusCode"], 201, "a subrequest that does not depend on the failure runs");
    let id = results[2]["body"]["id"].as_str().unwrap();
    assert_eq!(api.org.record(id).unwrap()["LastName"], "Independent", "and its write stays");
}

#[tokio::test]
async fn a_reference_to_a_missing_field_or_an_unknown_subrequest_fails_that_subrequest() {
    let api = api().await;
    let me = api.org.signed_in_user_id().to_string();
    let r = composite(
        &api,
        vec![
            get(&format!("/query?q=SELECT+Id+FROM+User+WHERE+Id='{me}'"), "refUser"),
            get("/sobjects/User/@{refUser.records[0].ProfileId}", "refMissing"),
            post("/sobjects/Task", "refUnknown", json!({"Subject": "x", "OwnerId": "@{refNobody.id}"})),
            get("/sobjects/User/@{refUser.records[0].Id}?fields=Name", "refFine"),
        ],
    )
    .await;
    let results = results(&r);
    assert_eq!(
        results[1]["body"],
        halted("Invalid reference specified. No value for refUser.records[0].ProfileId found in refUser"),
        "ProfileId was not selected, so the record has no such field"
    );
    assert_eq!(results[2]["body"], halted("Invalid reference specified. No value for refNobody.id found in refNobody"));
    assert_eq!(results[3]["body"]["Name"], "Ada Rep");
    assert_eq!(api.org.requests()[0].subrequests.len(), 2, "subrequests refused for a reference never ran");
}

#[tokio::test]
async fn more_than_25_subrequests_or_more_than_5_queries_are_refused_whole() {
    let api = api().await;
    let before = api.org.records("Contact").len();
    let mut too_many: Vec<Value> = (0..25).map(|n| get("/sobjects/Account/describe", &format!("d{n}"))).collect();
    too_many.insert(0, post("/sobjects/Contact", "write", json!({"LastName": "Not with 26"})));
    let r = composite(&api, too_many).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.error_code(), "LIMIT_EXCEEDED");
    assert_eq!(api.org.records("Contact").len(), before, "a refused composite runs nothing");
    let exactly: Vec<Value> = (0..25).map(|n| get("/sobjects/Account/describe", &format!("d{n}"))).collect();
    assert_eq!(results(&composite(&api, exactly).await).len(), 25, "25 is allowed");

    let query = |n: usize| get("/query?q=SELECT+Id+FROM+Account+LIMIT+1", &format!("q{n}"));
    let r = composite(&api, (0..6).map(query).collect()).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED"), "six queries: {}", r.body);
    let mut five = vec![get("/composite/sobjects/Account?ids=001000000000000AAA&fields=Id", "collection")];
    five.extend((0..4).map(query));
    five.push(get("/sobjects/Account/describe", "notAQuery"));
    assert_eq!(results(&composite(&api, five.clone()).await).len(), 6, "four queries and a collection make five");
    five.push(query(9));
    assert_eq!(composite(&api, five).await.error_code(), "LIMIT_EXCEEDED", "collections count with queries");
    assert!(api.org.requests().iter().all(|r| r.status != Some(400) || r.subrequests.is_empty()), "refused composites log no subrequests");
}

#[tokio::test]
async fn a_fault_on_a_subrequest_path_fails_that_subrequest_and_one_on_composite_fails_the_whole() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::UnknownException).on("GET", &format!("{V}/sobjects/Contact/describe")));
    let r = composite(&api, vec![get("/sobjects/Account/describe", "a"), get("/sobjects/Contact/describe", "c")]).await;
    let results = results(&r);
    assert_eq!(results[1]["httpStatusCode"], 500);
    assert_eq!(results[1]["body"][0]["errorCode"], "UNKNOWN_EXCEPTION");
    assert_eq!(results[0]["httpStatusCode"], 200);
    assert_eq!(api.get("/sobjects/Contact/describe").await.status, StatusCode::OK, "the fault was used up inside the composite");

    api.org.inject(Fault::new(FaultKind::UnknownException).on("POST", &format!("{V}/composite")));
    let whole = composite(&api, vec![post("/sobjects/Contact", "c", json!({"LastName": "Faulted"}))]).await;
    assert_eq!((whole.status, whole.error_code()), (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION"));
    assert!(api.org.records("Contact").iter().all(|c| c["LastName"] != "Faulted"), "the composite was not carried out");
}

#[tokio::test]
async fn a_reset_met_inside_a_composite_resets_the_connection_and_keeps_nothing() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::ConnectionReset).on("POST", &format!("{V}/sobjects/Task")));
    let body = json!({"compositeRequest": [
        post("/sobjects/Contact", "c", json!({"LastName": "Before the reset"})),
        post("/sobjects/Task", "t", json!({"Subject": "Reset here"})),
    ]});
    let err = api.http.post(api.url("/composite")).bearer_auth(&api.token).json(&body).send().await.expect_err("no answer must arrive");
    assert!(!err.is_status(), "{err}");
    assert!(api.org.records("Contact").iter().all(|c| c["LastName"] != "Before the reset"), "the composite is undone as if never received");
    let log = api.org.requests();
    assert_eq!(log[0].status, None, "the log records the reset");
    assert_eq!(log[0].subrequests.iter().map(|s| s.status).collect::<Vec<_>>(), vec![Some(201), None]);
}

#[tokio::test]
async fn subrequest_headers_reach_the_resource_but_inherited_ones_are_refused() {
    let api = api().await;
    api.org.set_query_batch_size(2000);
    let with_batch = json!({"method": "GET", "url": format!("{V}/query?q=SELECT+Id+FROM+Account"), "referenceId": "q",
        "httpHeaders": {"Sforce-Query-Options": "batchSize=200"}});
    let r = composite(&api, vec![with_batch]).await;
    let page = &results(&r)[0]["body"];
    assert_eq!(page["records"].as_array().map(Vec::len), Some(200), "the batch size header applied");
    assert!(page["nextRecordsUrl"].as_str().is_some_and(|u| u.starts_with("/services/data/v62.0/query/01g")));

    let content_type = json!({"method": "GET", "url": format!("{V}/sobjects"), "referenceId": "s", "httpHeaders": {"content-type": "text/plain"}});
    let refused = composite(&api, vec![content_type]).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::BAD_REQUEST, "INVALID_INPUT"));
}

#[tokio::test]
async fn an_illegal_reference_id_or_an_unsupported_resource_fails_only_its_subrequest() {
    let api = api().await;
    let r = composite(
        &api,
        vec![get("/sobjects/Account/describe", "ref-1"), get("/limits", "limits"), get("/sobjects/Account/describe", "ok_1")],
    )
    .await;
    let results = results(&r);
    assert_eq!(
        results[0]["body"],
        halted("Provided referenceId ('ref-1') must start with a letter or a number, and it can contain only letters, numbers and underscores ('_').")
    );
    assert_eq!(results[1]["httpStatusCode"], 404, "limits is not a composite resource");
    assert_eq!(results[2]["httpStatusCode"], 200);
}

#[tokio::test]
async fn a_get_on_composite_lists_the_composite_resources_served() {
    let api = api().await;
    let r = api.get("/composite").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"sobjects": "/services/data/v62.0/composite/sobjects"}));
    let bad = api.post("/composite", json!({"allOrNone": true})).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR"), "compositeRequest is required");
}

#[tokio::test]
async fn a_proxy_page_inside_a_composite_answers_for_it_whole_and_a_commit_then_reset_keeps_the_writes() {
    let api = api().await;
    api.org.inject(Fault::new(FaultKind::ServiceUnavailable).on("GET", &format!("{V}/sobjects/Account/describe")));
    let page = composite(&api, vec![post("/sobjects/Contact", "c", json!({"LastName": "Behind a proxy"})), get("/sobjects/Account/describe", "d")]).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.as_str().is_some_and(|html| html.contains("Service Unavailable")), "the proxy's HTML page: {}", page.body);
    assert_eq!(page.limit_info(), None, "a proxy's page carries no Salesforce headers");
    assert!(api.org.records("Contact").iter().all(|c| c["LastName"] != "Behind a proxy"), "nothing of the composite stays");

    api.org.inject(Fault::new(FaultKind::CommitThenFail { after: AfterCommit::ConnectionReset }).on("POST", &format!("{V}/sobjects/Task")));
    let body = json!({"compositeRequest": [
        post("/sobjects/Contact", "c", json!({"LastName": "Committed"})),
        post("/sobjects/Task", "t", json!({"Subject": "Committed too"})),
        post("/sobjects/Contact", "after", json!({"LastName": "Never reached"})),
    ]});
    let err = api.http.post(api.url("/composite")).bearer_auth(&api.token).json(&body).send().await.expect_err("the answer is lost");
    assert!(!err.is_status(), "{err}");
    assert!(api.org.records("Contact").iter().any(|c| c["LastName"] == "Committed"), "what ran before the reset stays written");
    assert!(api.org.records("Task").iter().any(|t| t["Subject"] == "Committed too"), "and so does the subrequest that met it");
    assert!(api.org.records("Contact").iter().all(|c| c["LastName"] != "Never reached"), "the rest never ran");
}
