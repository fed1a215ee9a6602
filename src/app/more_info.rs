//! The pop's "more info" tabs: the records of an object the layout names whose account
//! field is the caller's account.

use serde::Serialize;
use serde_json::Value;

use super::{AppError, Engine, ErrorCode};
use crate::crm::escape::soql_string;

/// One "more info" tab of the pop, filled for a caller's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MoreInfo {
    pub label: String,
    pub object: String,
    /// Column headings: the tab's field API names, in order.
    pub columns: Vec<String>,
    pub rows: Vec<MoreInfoRow>,
    /// Records on the account beyond the rows shown.
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MoreInfoRow {
    pub id: String,
    pub values: Vec<String>,
    pub url: Option<String>,
}

/// Rows a "more info" tab shows.
const MORE_INFO_ROWS: usize = 20;

impl Engine {
    /// The records a "more info" tab of the layout lists for an account, newest first.
    pub async fn more_info(&self, label: &str, account_id: &str) -> Result<MoreInfo, AppError> {
        if !crate::crm::escape::is_record_id(account_id) {
            return Err(AppError::new(ErrorCode::InvalidInput, "Not a Salesforce record."));
        }
        let tab = self
            .layout()
            .more_info_tabs
            .into_iter()
            .find(|t| t.label == label)
            .ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("The layout has no tab \u{201c}{label}\u{201d}.")))?;
        // Names come from a checked layout; checked again here as they go into SOQL.
        let names_ok = crate::crm::escape::is_api_name(&tab.object)
            && crate::crm::escape::is_api_name(&tab.account_field)
            && tab.fields.iter().all(|f| f.split('.').all(crate::crm::escape::is_api_name));
        if !names_ok {
            return Err(AppError::new(ErrorCode::InvalidInput, "The tab names a field that is not an API name."));
        }
        let mut select = vec!["Id".to_string()];
        select.extend(tab.fields.iter().filter(|f| !f.eq_ignore_ascii_case("Id")).cloned());
        let soql = format!(
            "SELECT {} FROM {} WHERE {} = {} ORDER BY LastModifiedDate DESC LIMIT {MORE_INFO_ROWS}",
            select.join(", "),
            tab.object,
            tab.account_field,
            soql_string(account_id)
        );
        let (total, records) = self.salesforce.query_first_page(&soql).await?;
        let instance = self.salesforce.connection().await.map(|c| c.instance_url);
        let rows = records
            .iter()
            .map(|r| MoreInfoRow {
                id: r.id().to_string(),
                values: tab
                    .fields
                    .iter()
                    .map(|f| match r.get(f) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    })
                    .collect(),
                url: instance.as_deref().map(|i| crate::crm::matching::lightning_url(i, &tab.object, r.id())),
            })
            .collect();
        Ok(MoreInfo { label: tab.label, object: tab.object, columns: tab.fields, rows, total: total as u32 })
    }

}
