//! The one domain event enum. The desktop shell forwards each event to the webview as
//! `core-event`; the CLI prints them as JSON lines. Adding a variant is adding a fact
//! every front end can show.

use serde::Serialize;

use crate::app::links::DialTarget;
use crate::audio::AudioDevices;
use crate::settings::{Language, Settings};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[serde(rename = "DomainEvent")]
pub enum Event {
    SettingsChanged { settings: Settings, language: Language },
    DevicesChanged { devices: AudioDevices },
    Notice { notice: Notice },
    /// A tel:/sip:/callto: link asked to dial: the dialer opens prefilled.
    DialRequested { target: DialTarget },
    /// A link could not be understood; nothing is dialled.
    LinkRejected { link: String, reason: String },
    /// Who a number belongs to: first from the local index, then confirmed live.
    CallerMatched { caller_match: crate::crm::matching::CallerMatch },
    /// Signed in or out of Salesforce, or the API usage changed.
    SalesforceChanged { status: crate::app::SalesforceStatus },
    /// A call log was saved (or kept as a draft); `entry` is its History row now.
    CallLogSaved { entry: crate::calllog::HistoryEntry },
    /// The outbox moved: how many logs wait, and how many need the rep.
    OutboxChanged { summary: crate::calllog::OutboxSummary },
    /// The SIP account's registration state changed.
    RegistrationChanged { state: crate::sip::registration::RegistrationState },
    /// A call started, rang, was answered, held, muted or ended (then `call.state` is
    /// `ended` and the call leaves `AppStatus.calls`).
    CallChanged { call: crate::sip::ua::CallInfo },
    /// "Test my audio" progressed: the microphone's level while recording, then playing.
    AudioCheckChanged { check: crate::audio::check::AudioCheck },
    /// How a transfer of call `id` goes.
    TransferChanged {
        id: u32,
        progress: crate::sip::call::TransferProgress,
    },
    /// Something about call `id` the rep should know (a refused hold, a digit not sent).
    CallProblem { id: u32, message: String },
    /// Do not disturb was switched on or off.
    DoNotDisturbChanged { on: bool },
    /// The voicemail box changed (the PBX's message-waiting NOTIFY).
    VoicemailChanged { voicemail: crate::sip::mwi::Voicemail },
    /// A meeting was created, or its Salesforce Event moved (queued, recorded, refused).
    MeetingChanged { meeting: crate::meetings::MeetingEntry },
    /// A layout was put in force (published, changed back, or a rep's own setting), or
    /// a check with the org did not complete (`status.problem`).
    LayoutApplied { status: crate::app::layouts::LayoutStatus },
    /// The org offered a layout that failed its checks; the one in force stays.
    LayoutRefused { status: crate::app::layouts::LayoutStatus },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum NoticeCode {
    KeyringUnavailable,
    StorageProblem,
    DataDirReadOnly,
    AudioProblem,
    DeviceFallback,
    /// A published layout failed its checks and was not applied.
    LayoutRefused,
    /// Salesforce refuses the rep access to an object the layout searches.
    SalesforceAccess,
}

/// Something the rep should know that is not an answer to what they just did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub code: NoticeCode,
    pub message: String,
}

impl Notice {
    pub fn new(code: NoticeCode, message: impl Into<String>) -> Notice {
        Notice { code, message: message.into() }
    }
}

/// A desktop notification the shell should raise for an event, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopNotification {
    pub title: &'static str,
    pub body: String,
}

impl Event {
    /// Events that bring the main window to the front (a clicked phone link).
    pub fn raises_window(&self) -> bool {
        match self {
            Event::DialRequested { .. } => true,
            Event::CallChanged { call } => call.state == crate::sip::call::CallState::Incoming,
            _ => false,
        }
    }

    /// Events worth interrupting the rep for, even when the window is hidden.
    pub fn desktop_notification(&self) -> Option<DesktopNotification> {
        match self {
            Event::Notice { notice } => match notice.code {
                NoticeCode::DeviceFallback => Some(DesktopNotification { title: "Audio device missing", body: notice.message.clone() }),
                NoticeCode::KeyringUnavailable => Some(DesktopNotification { title: "Keyring unavailable", body: notice.message.clone() }),
                _ => None,
            },
            Event::CallChanged { call } if call.state == crate::sip::call::CallState::Incoming => Some(DesktopNotification {
                title: "Incoming call",
                body: match &call.remote_name {
                    Some(name) => format!("{name} ({})", call.remote_user),
                    None => call.remote_user.clone(),
                },
            }),
            _ => None,
        }
    }
}
