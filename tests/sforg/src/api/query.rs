//! `query` and `search`: runs SOQL/SOSL and pages query results. A result larger than the
//! batch size is cut into batches; the rest waits under a query locator
//! (`/query/01g…-2000`) for 15 minutes after its last use, as Salesforce keeps cursors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::sf_json;
use crate::error::ApiError;
use crate::ids::random_base62;
use crate::org::{Cursor, Org, OrgState};
use crate::pipeline::Session;
use crate::soql::{self, Env};
use crate::sosl;

const CURSOR_IDLE: Duration = Duration::from_secs(15 * 60);
/// Salesforce honours `Sforce-Query-Options: batchSize=n` between these bounds.
const MIN_BATCH: usize = 200;
const MAX_BATCH: usize = 2000;

fn batch_size(st: &OrgState, headers: &HeaderMap) -> usize {
    headers
        .get("Sforce-Query-Options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| p.trim().strip_prefix("batchSize=")))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .map_or(st.query_batch_size, |n| n.clamp(MIN_BATCH, MAX_BATCH))
        .max(1)
}

/// One page of results, parking the rest under a locator when there is more.
fn page(st: &mut OrgState, version: &str, mut records: Vec<Value>, total_size: usize, offset: usize, batch: usize, locator: Option<String>) -> Value {
    if records.len() <= batch {
        if let Some(l) = locator {
            st.cursors.remove(&l);
        }
        return json!({"totalSize": total_size, "done": true, "records": records});
    }
    let rest = records.split_off(batch);
    let locator = locator.unwrap_or_else(|| format!("01g{}", random_base62(&mut st.rng, 12)));
    let next = offset + batch;
    let expires_at = st.clock.now() + CURSOR_IDLE;
    st.cursors.insert(locator.clone(), Cursor { records: rest, total_size, expires_at });
    json!({
        "totalSize": total_size,
        "done": false,
        "nextRecordsUrl": format!("/services/data/v{version}/query/{locator}-{next}"),
        "records": records,
    })
}

pub(crate) async fn query(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(q) = params.get("q") else {
        return ApiError::bad_request("MALFORMED_QUERY", "A query string has to be specified").into_response();
    };
    let mut st = org.lock();
    let batch = batch_size(&st, &headers);
    let now = st.clock.now();
    let rows = {
        let env = Env { statement: q, store: &st.store, now, version: s.version };
        soql::run(&env, &|o| st.accessible(o))
    };
    match rows {
        Ok(rows) => {
            let body = page(&mut st, s.version, rows.records, rows.total_size, 0, batch, None);
            sf_json(StatusCode::OK, body)
        }
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn query_more(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Path((_, locator)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let invalid = || ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator").into_response();
    let Some((id, offset)) = locator.rsplit_once('-') else { return invalid() };
    let Ok(offset) = offset.parse::<usize>() else { return invalid() };
    let mut st = org.lock();
    let now = st.clock.now();
    let batch = batch_size(&st, &headers);
    let Some(cursor) = st.cursors.remove(id).filter(|c| c.expires_at > now) else { return invalid() };
    // The cursor holds the rows after the last batch served; a locator for another
    // offset would be a replay, which Salesforce also refuses.
    let served = cursor.total_size - cursor.records.len();
    if offset != served {
        st.cursors.insert(id.to_string(), cursor);
        return invalid();
    }
    let body = page(&mut st, s.version, cursor.records, cursor.total_size, offset, batch, Some(id.to_string()));
    sf_json(StatusCode::OK, body)
}

pub(crate) async fn search(
    State(org): State<Arc<Org>>,
    Extension(s): Extension<Session>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(q) = params.get("q") else {
        return ApiError::bad_request("MALFORMED_SEARCH", "No search term found. The search term must be enclosed in braces.")
            .into_response();
    };
    let mut st = org.lock();
    let now = st.clock.now();
    let readable: Vec<&'static str> =
        crate::schema::objects().iter().filter(|d| st.accessible(d.name)).map(|d| d.name).collect();
    let accessible = |o: &str| readable.iter().any(|r| r.eq_ignore_ascii_case(o));
    match sosl::search(q, &mut st.store, now, s.version, &accessible) {
        Ok(body) => sf_json(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}
