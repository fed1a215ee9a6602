//! The join details emailed to the invitees when an instant meeting starts (the layout's
//! "email attendees on launch"), through Salesforce's `emailSimple` action so the email
//! is logged on the person as activity. At most once: an email whose answer was lost is
//! never sent again by itself — the rep sees "may have been sent" and decides.

use serde::{Deserialize, Serialize};

use super::MeetingEntry;

/// Where an invitation email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum InvitationState {
    /// Waiting to go (offline, signed out): sent when Salesforce answers.
    Pending,
    /// Handed to Salesforce right now.
    Sending,
    Sent,
    /// Salesforce refused it (`reason` says why); nothing was sent.
    Failed,
    /// Sent, but the answer was lost: it may have gone. Never resent by itself.
    Unsure,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Sending => "sending",
            InvitationState::Sent => "sent",
            InvitationState::Failed => "failed",
            InvitationState::Unsure => "unsure",
        }
    }

    pub fn parse(s: &str) -> InvitationState {
        match s {
            "sending" => InvitationState::Sending,
            "sent" => InvitationState::Sent,
            "failed" => InvitationState::Failed,
            "unsure" => InvitationState::Unsure,
            _ => InvitationState::Pending,
        }
    }
}

/// A meeting's invitation email, as the rep sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    pub state: InvitationState,
    pub recipients: Vec<String>,
    pub reason: Option<String>,
}

/// The subject and plain-text body of the invitation for `m`.
pub fn invitation_text(m: &MeetingEntry) -> (String, String) {
    let subject = format!("Join: {}", m.topic);
    let mut body = format!("{}\n\nJoin: {}\n", m.topic, m.join_url);
    if let Some(number) = &m.number {
        body.push_str(&format!("Meeting ID: {number}\n"));
    }
    if let Some(passcode) = &m.passcode {
        body.push_str(&format!("Passcode: {passcode}\n"));
    }
    if !m.agenda.is_empty() {
        body.push_str(&format!("\n{}\n", m.agenda));
    }
    (subject, body)
}
