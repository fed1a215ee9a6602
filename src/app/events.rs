//! The one domain event enum. The desktop shell forwards each event to the webview as
//! `core-event`; the CLI prints them as JSON lines. Adding a variant is adding a fact
//! every front end can show.

use serde::Serialize;

use crate::app::links::DialTarget;
use crate::audio::AudioDevices;
use crate::settings::{Language, Settings};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Event {
    SettingsChanged { settings: Settings, language: Language },
    DevicesChanged { devices: AudioDevices },
    Notice { notice: Notice },
    /// A tel:/sip:/callto: link asked to dial: the dialer opens prefilled.
    DialRequested { target: DialTarget },
    /// A link could not be understood; nothing is dialled.
    LinkRejected { link: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum NoticeCode {
    KeyringUnavailable,
    StorageProblem,
    DataDirReadOnly,
    AudioProblem,
    DeviceFallback,
    LinkRejected,
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
