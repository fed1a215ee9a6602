//! The invitation emails of meetings: handed once to Salesforce's `emailSimple` action
//! by the outbox worker, or again at the rep's word (see `meetings::email`).

use super::{AppError, DrainReport, Engine, ErrorCode, Event};
use crate::calllog::outbox::BATCH;
use crate::crm::SalesforceError;
use crate::meetings::{self, MeetingEntry};

impl Engine {
    /// Hands the waiting invitation emails to Salesforce's `emailSimple` action, each
    /// leased first so it goes at most once: a lost answer leaves it "unsure", never
    /// resent by itself.
    pub(super) async fn drain_meeting_emails(&self, report: &mut DrainReport) {
        let pending = match self.lock().store.meeting_emails().pending(BATCH) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(%e, "invitation emails unreadable");
                return;
            }
        };
        for email in pending {
            if self.salesforce.connection().await.is_none() {
                return;
            }
            let now = self.clock.now_ms();
            if !self.lock().store.meeting_emails().lease(email.meeting_id, now).unwrap_or(false) {
                continue;
            }
            let meeting = self.meeting_now(email.meeting_id).ok();
            let mut input = serde_json::json!({
                "emailAddresses": email.recipients.join(","),
                "emailSubject": email.subject,
                "emailBody": email.body,
                "senderType": "CurrentUser",
                "logEmailOnSend": true,
            });
            if let Some(who) = meeting.as_ref().and_then(|m| m.who.as_ref()) {
                input["recipientId"] = who.id.clone().into();
            }
            if let Some(what) = meeting.as_ref().and_then(|m| m.what.as_ref()) {
                input["relatedRecordId"] = what.id.clone().into();
            }
            report.requests += 1;
            use meetings::email::InvitationState as S;
            let (state, reason) = match self.salesforce.invoke_standard_action("emailSimple", &[input]).await {
                Ok(results) => match results.first() {
                    Some(r) if r.is_success => (S::Sent, None),
                    Some(r) => (S::Failed, Some(format!("Salesforce refused the email: {}", r.problem()))),
                    None => (S::Unsure, Some("Salesforce answered without a result for the email".to_string())),
                },
                // Never reached Salesforce as a request it carried out: try again later.
                Err(e @ (SalesforceError::NotConnected | SalesforceError::SignedOut { .. } | SalesforceError::SessionRejected)) => {
                    (S::Pending, Some(e.to_string()))
                }
                Err(e @ (SalesforceError::Refused { .. } | SalesforceError::LimitExceeded { .. })) => (S::Failed, Some(e.to_string())),
                // The request left; whether the email went is not known.
                Err(e) => (S::Unsure, Some(format!("{e} The email may have been sent."))),
            };
            tracing::info!(meeting = email.meeting_id, state = state.as_str(), "invitation email");
            let now = self.clock.now_ms();
            if let Err(e) = self.lock().store.meeting_emails().finish(email.meeting_id, state, reason.as_deref(), now) {
                tracing::error!(%e, "invitation email state not kept");
            }
            if let Ok(m) = self.meeting_now(email.meeting_id) {
                self.emit(Event::MeetingChanged { meeting: m });
            }
            if state == S::Pending {
                return;
            }
        }
    }

    /// The rep sends a refused or unsure invitation email again.
    pub async fn resend_invitation(&self, id: i64) -> Result<MeetingEntry, AppError> {
        let now = self.clock.now_ms();
        if !self.lock().store.meeting_emails().resend(id, now)? {
            return Err(AppError::new(ErrorCode::InvalidInput, "This meeting has no invitation email waiting for you."));
        }
        let mut report = DrainReport::default();
        self.drain_meeting_emails(&mut report).await;
        self.meeting_now(id)
    }

}
