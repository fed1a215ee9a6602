//! The error shape every caller outside the core sees: a closed set of codes the UI can
//! act on, and a sentence for the rep. Module errors convert into it here, once.

use serde::Serialize;

use crate::app::links::LinkError;
use crate::crm::phone::PhoneError;
use crate::secrets::SecretsError;
use crate::settings::SettingsError;
use crate::store::StoreError;

/// Grows only when the UI needs to act differently on a new kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    InvalidInput,
    InvalidNumber,
    Storage,
    Keyring,
    Audio,
    Io,
    /// Not connected to Salesforce, or signed out: the UI offers to sign in.
    SignedOut,
    /// Salesforce refused or failed the request in a way retrying will not fix.
    Salesforce,
    /// Salesforce cannot be reached now (network, maintenance, API allowance).
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into() }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::new(ErrorCode::Storage, e.to_string())
    }
}

impl From<SecretsError> for AppError {
    fn from(e: SecretsError) -> Self {
        AppError::new(ErrorCode::Keyring, e.to_string())
    }
}

impl From<SettingsError> for AppError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Store(s) => s.into(),
            other => AppError::new(ErrorCode::InvalidInput, other.to_string()),
        }
    }
}

impl From<PhoneError> for AppError {
    fn from(e: PhoneError) -> Self {
        AppError::new(ErrorCode::InvalidNumber, e.to_string())
    }
}

impl From<LinkError> for AppError {
    fn from(e: LinkError) -> Self {
        AppError::new(ErrorCode::InvalidNumber, e.to_string())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::new(ErrorCode::Io, e.to_string())
    }
}
