//! The call-log form's searches: the Contacts and Leads a log can be about, and the
//! records it can be related to (the person's own open ones first).

use serde::Serialize;

use super::{AppError, Engine};
use crate::calllog::RecordRef;
use crate::crm::escape::{is_api_name, is_record_id, soql_string, sosl_term};
use crate::crm::matching;

/// A record the log can point at, offered by the form's searches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecordChoice {
    pub record: RecordRef,
    /// A second line: the account, stage, status…
    pub detail: String,
    /// One of the person's own open records (offered first).
    pub related: bool,
}

impl Engine {
    /// Contacts and Leads for the form's person search (name, at least two letters).
    pub async fn search_people(&self, term: &str) -> Result<Vec<RecordChoice>, AppError> {
        let term = term.trim();
        if term.chars().count() < 2 {
            return Ok(vec![]);
        }
        let sosl = format!(
            "FIND {{{}*}} IN NAME FIELDS RETURNING Contact(Id, Name, Account.Name ORDER BY Name LIMIT 10), Lead(Id, Name, Company WHERE IsConverted = false ORDER BY Name LIMIT 10)",
            sosl_term(term)
        );
        let records = self.salesforce.search(&sosl).await?;
        Ok(records
            .iter()
            .map(|r| RecordChoice {
                record: RecordRef { object: r.object().to_string(), id: r.id().to_string(), name: r.str("Name").unwrap_or_default().to_string() },
                detail: r.str("Account.Name").or_else(|| r.str("Company")).unwrap_or_default().to_string(),
                related: false,
            })
            .collect())
    }

    /// Records a log can be related to: without a term, the person's own open records
    /// (their Account, its open Opportunities, their open Cases); with one, a name
    /// search over the objects the layout allows.
    pub async fn search_related(&self, who: Option<&RecordRef>, term: &str) -> Result<Vec<RecordChoice>, AppError> {
        let allowed = self.layout().call_log.related_objects;
        let term = term.trim();
        if term.is_empty() {
            let Some(who) = who.filter(|w| w.object == "Contact" && is_record_id(&w.id)) else { return Ok(vec![]) };
            let soql = format!("SELECT Id, AccountId, Account.Name FROM Contact WHERE Id = {}", soql_string(&who.id));
            let contact = self.salesforce.query(&soql, 1).await?.into_iter().next();
            let mut out = Vec::new();
            let account_id = contact.as_ref().and_then(|c| c.str("AccountId")).filter(|id| is_record_id(id)).map(String::from);
            if let Some(account) = &account_id {
                if allowed.iter().any(|o| o == "Account") {
                    let name = contact.as_ref().and_then(|c| c.str("Account.Name")).unwrap_or_default().to_string();
                    out.push(RecordChoice { record: RecordRef { object: "Account".into(), id: account.clone(), name }, detail: String::new(), related: true });
                }
                if allowed.iter().any(|o| o == "Opportunity") {
                    for r in self.salesforce.query(&matching::open_opportunities_soql(account), 20).await? {
                        out.push(RecordChoice {
                            record: RecordRef { object: "Opportunity".into(), id: r.id().to_string(), name: r.str("Name").unwrap_or_default().to_string() },
                            detail: r.str("StageName").unwrap_or_default().to_string(),
                            related: true,
                        });
                    }
                }
            }
            if allowed.iter().any(|o| o == "Case") {
                if let Some(soql) = matching::open_cases_soql("Contact", &who.id) {
                    for r in self.salesforce.query(&soql, 20).await? {
                        let title = format!("{} {}", r.str("CaseNumber").unwrap_or(""), r.str("Subject").unwrap_or(""));
                        out.push(RecordChoice {
                            record: RecordRef { object: "Case".into(), id: r.id().to_string(), name: title.trim().to_string() },
                            detail: r.str("Status").unwrap_or_default().to_string(),
                            related: true,
                        });
                    }
                }
            }
            return Ok(out);
        }
        if term.chars().count() < 2 || allowed.is_empty() {
            return Ok(vec![]);
        }
        let returning: Vec<String> = allowed
            .iter()
            .filter(|o| is_api_name(o) && !o.contains('.'))
            .map(|o| match o.as_str() {
                "Case" => "Case(Id, CaseNumber, Subject, Status LIMIT 10)".to_string(),
                "Opportunity" => "Opportunity(Id, Name, StageName LIMIT 10)".to_string(),
                other => format!("{other}(Id, Name LIMIT 10)"),
            })
            .collect();
        let sosl = format!("FIND {{{}*}} IN NAME FIELDS RETURNING {}", sosl_term(term), returning.join(", "));
        let records = self.salesforce.search(&sosl).await?;
        Ok(records
            .iter()
            .map(|r| {
                let name = match r.object() {
                    "Case" => format!("{} {}", r.str("CaseNumber").unwrap_or(""), r.str("Subject").unwrap_or("")).trim().to_string(),
                    _ => r.str("Name").unwrap_or_default().to_string(),
                };
                RecordChoice {
                    record: RecordRef { object: r.object().to_string(), id: r.id().to_string(), name },
                    detail: r.str("StageName").or_else(|| r.str("Status")).unwrap_or_default().to_string(),
                    related: false,
                }
            })
            .collect())
    }
}
