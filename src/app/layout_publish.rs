//! Publishing a layout for the org, a profile or a user, and reading one back: the
//! admin's side of the layouts in `layouts.rs` (the CLI and the Admin page call these).

use serde_json::{Map, Value};

use super::layouts::{assigned, object_missing, LayoutOrigin, PublishTarget, Published, PulledLayout, OBJECT};
use super::{AppError, Engine, ErrorCode};
use crate::crm::escape::soql_string;
use crate::crm::SalesforceError;

impl Engine {
    /// Whether this user may publish layouts (create and edit the object).
    pub async fn can_publish_layouts(&self) -> bool {
        if self.salesforce.connection().await.is_none() {
            return false;
        }
        match self.salesforce.describe(OBJECT).await {
            Ok(d) => d.get("createable").and_then(Value::as_bool) == Some(true) && d.get("updateable").and_then(Value::as_bool) == Some(true),
            Err(_) => false,
        }
    }

    async fn resolve_target(&self, target: &PublishTarget) -> Result<(String, String, Option<(&'static str, String)>), AppError> {
        let lookup = |object: &str, field: &str, value: &str| {
            let by = if crate::crm::escape::is_record_id(value) { "Id" } else { field };
            format!("SELECT Id, {field} FROM {object} WHERE {by} = {} LIMIT 2", soql_string(value))
        };
        match target {
            PublishTarget::Org => Ok(("org".into(), "the org default".into(), None)),
            PublishTarget::Profile(name) => {
                let rows = self.salesforce.query(&lookup("Profile", "Name", name), 2).await?;
                let r = rows.first().ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("No profile is called \u{201c}{name}\u{201d} in this org (profile names are case-sensitive).")))?;
                let label = r.str("Name").unwrap_or(name).to_string();
                Ok((format!("profile:{}", r.id()), format!("profile {label}"), Some(("Profile_Id__c", r.id().to_string()))))
            }
            PublishTarget::User(name) => {
                let rows = self.salesforce.query(&lookup("User", "Username", name), 2).await?;
                let r = rows.first().ok_or_else(|| AppError::new(ErrorCode::InvalidInput, format!("No user has the username \u{201c}{name}\u{201d} in this org.")))?;
                let label = r.str("Username").unwrap_or(name).to_string();
                Ok((format!("user:{}", r.id()), format!("user {label}"), Some(("User__c", r.id().to_string()))))
            }
        }
    }

    /// Publishes a document for `target`: checked first (schema, rules and this org),
    /// then written as that target's record with the next version number.
    pub async fn publish_layout(&self, bytes: &[u8], target: &PublishTarget) -> Result<Published, AppError> {
        let (check, doc) = self.check_document(bytes).await?;
        let Some(doc) = doc else {
            let n = check.problems.len();
            let list: String = check.problems.iter().map(|p| format!("\n  {p}")).collect();
            return Err(AppError::new(ErrorCode::InvalidInput, format!("The layout has {n} problem{} and was not published:{list}", if n == 1 { "" } else { "s" })));
        };
        if !check.checked_with_org {
            return Err(SalesforceError::NotConnected.into());
        }
        let (key, label, assignee) = self.resolve_target(target).await?;
        let current = self
            .salesforce
            .query(&format!("SELECT Id, Version__c FROM {OBJECT} WHERE Target__c = {}", soql_string(&key)), 1)
            .await
            .map_err(|e| {
                if object_missing(&e) {
                    AppError::new(ErrorCode::Salesforce, format!("This org has no {OBJECT} object you can write: deploy it from assets/salesforce and assign the Ringside_Layout_Admin permission set (docs/admin/layouts.md)."))
                } else {
                    e.into()
                }
            })?;
        let version = current.first().and_then(|r| r.get("Version__c")).and_then(Value::as_f64).unwrap_or(0.0) as u32 + 1;
        let mut fields = Map::new();
        fields.insert("Name".into(), doc.name.chars().take(80).collect::<String>().into());
        fields.insert("Version__c".into(), version.into());
        fields.insert("Body__c".into(), String::from_utf8_lossy(bytes).into_owned().into());
        let scope = match target {
            PublishTarget::Org => "Org",
            PublishTarget::Profile(_) => "Profile",
            PublishTarget::User(_) => "User",
        };
        fields.insert("Scope__c".into(), scope.into());
        if let Some((field, id)) = assignee {
            fields.insert(field.into(), id.into());
        }
        let (record_id, created) = self.salesforce.upsert(OBJECT, "Target__c", &key, &fields).await.map_err(|e| match e.api_code() {
            Some("INSUFFICIENT_ACCESS_OR_READONLY" | "INSUFFICIENT_ACCESS" | "NOT_FOUND" | "INVALID_TYPE") => AppError::new(
                ErrorCode::Salesforce,
                format!("Salesforce refused the write ({e}). Publishing needs the Ringside_Layout_Admin permission set."),
            ),
            _ => e.into(),
        })?;
        tracing::info!(%key, version, created, "layout published");
        // This app follows at once when the new layout is its rep's own.
        self.layout_wake.notify_one();
        Ok(Published { record_id, target: key, target_label: label, version, created })
    }

    /// Reads a published layout back: the one assigned to this user, or `target`'s.
    pub async fn pull_layout(&self, target: Option<&PublishTarget>) -> Result<PulledLayout, AppError> {
        let chosen = match target {
            None => self.assigned_record().await?,
            Some(t) => {
                let (key, label, _) = self.resolve_target(t).await?;
                let soql = format!("SELECT Id, Name, Version__c, Target__c, SystemModstamp FROM {OBJECT} WHERE Target__c = {}", soql_string(&key));
                let rows = self.salesforce.query(&soql, 1).await?;
                match rows.iter().find_map(assigned) {
                    Some(a) => Some(a),
                    None => return Err(AppError::new(ErrorCode::InvalidInput, format!("Nothing is published for {label}."))),
                }
            }
        };
        let Some(chosen) = chosen else {
            return Err(AppError::new(ErrorCode::InvalidInput, "No layout is published for you: the built-in layout is in force (`ringside layout default` prints it)."));
        };
        let record = self.salesforce.retrieve(OBJECT, &chosen.id, &["Body__c"]).await?;
        Ok(PulledLayout {
            origin: LayoutOrigin { record_id: chosen.id, target: chosen.target, version: chosen.version, modstamp: chosen.modstamp },
            name: chosen.name,
            text: record.str("Body__c").unwrap_or_default().to_string(),
        })
    }

}
