//! What can go wrong talking to Salesforce, in terms a caller acts on: sign in again,
//! wait and retry, fix the data, or give up. Salesforce's own error bodies
//! (`[{"message","errorCode","fields"}]`) are parsed into [`ApiError`]s.

use serde::{Deserialize, Serialize};

use crate::secrets::SecretsError;

/// One entry of Salesforce's error array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub message: String,
    #[serde(rename = "errorCode", alias = "statusCode")]
    pub error_code: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SalesforceError {
    #[error("Ringside is not connected to Salesforce: connect from Settings → Salesforce.")]
    NotConnected,
    #[error("Salesforce signed you out ({reason}): sign in again from Settings → Salesforce.")]
    SignedOut { reason: String },
    #[error("Salesforce refused the session even after renewing it; sign in again from Settings → Salesforce.")]
    SessionRejected,
    #[error("The org has used up its daily API allowance ({message}). Ringside keeps your work and sends it when the allowance resets.")]
    LimitExceeded { message: String },
    #[error("Salesforce is busy updating this record (UNABLE_TO_LOCK_ROW); it will be tried again.")]
    RecordLocked,
    #[error("Salesforce is unavailable (HTTP {status}); it will be tried again.")]
    Unavailable { status: u16 },
    #[error("Salesforce answered with a web page instead of data (HTTP {status}: \u{201c}{title}\u{201d}). This usually means maintenance or a proxy in the way; it will be tried again.")]
    NotJson { status: u16, title: String },
    #[error("Salesforce refused the request: {}", describe(.errors))]
    Refused { status: u16, errors: Vec<ApiError> },
    #[error("Salesforce cannot be reached ({0}). Check the network connection.")]
    Network(String),
    #[error("Salesforce did not answer in time.")]
    Timeout,
    #[error("Salesforce sent an answer Ringside does not understand: {0}")]
    BadResponse(String),
    #[error("The sign-in did not complete: {0}")]
    SignIn(String),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

fn describe(errors: &[ApiError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.fields.is_empty() {
                format!("{} ({})", e.message, e.error_code)
            } else {
                format!("{} ({}; fields: {})", e.message, e.error_code, e.fields.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl SalesforceError {
    /// Worth trying again later with the same request.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SalesforceError::RecordLocked
                | SalesforceError::Unavailable { .. }
                | SalesforceError::NotJson { .. }
                | SalesforceError::Network(_)
                | SalesforceError::Timeout
        )
    }

    /// The first Salesforce error code, when Salesforce gave one.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            SalesforceError::Refused { errors, .. } => errors.first().map(|e| e.error_code.as_str()),
            SalesforceError::RecordLocked => Some("UNABLE_TO_LOCK_ROW"),
            SalesforceError::LimitExceeded { .. } => Some("REQUEST_LIMIT_EXCEEDED"),
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(e: reqwest::Error) -> SalesforceError {
        if e.is_timeout() {
            SalesforceError::Timeout
        } else {
            // The URL may carry a token in a query (it never should, but a log line
            // must not be the place to find out): keep only the error kind.
            SalesforceError::Network(e.without_url().to_string())
        }
    }
}

/// Turns a non-success answer into an error. `body` is read in full by the caller.
pub(crate) fn classify(status: u16, content_type: Option<&str>, body: &[u8]) -> SalesforceError {
    let looks_json = content_type.is_some_and(|c| c.contains("json"))
        || body.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b == b'[' || *b == b'{');
    if looks_json {
        if let Ok(errors) = serde_json::from_slice::<Vec<ApiError>>(body) {
            let code = errors.first().map(|e| e.error_code.as_str()).unwrap_or("");
            return match code {
                "REQUEST_LIMIT_EXCEEDED" => SalesforceError::LimitExceeded {
                    message: errors.first().map(|e| e.message.clone()).unwrap_or_default(),
                },
                "UNABLE_TO_LOCK_ROW" => SalesforceError::RecordLocked,
                _ if status >= 500 => SalesforceError::Unavailable { status },
                _ => SalesforceError::Refused { status, errors },
            };
        }
        if status >= 500 {
            return SalesforceError::Unavailable { status };
        }
        let text = String::from_utf8_lossy(body);
        return SalesforceError::BadResponse(format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()));
    }
    SalesforceError::NotJson { status, title: html_title(body) }
}

/// The `<title>` of an HTML page, or its first words, to name the page in a message.
fn html_title(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let title = lower
        .find("<title>")
        .and_then(|start| lower[start..].find("</title>").map(|end| &text[start + 7..start + end]))
        .unwrap_or(&text);
    let clean: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
    clean.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_error_arrays_become_typed_errors() {
        let body = br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        let e = classify(401, Some("application/json"), body);
        assert_eq!(e.api_code(), Some("INVALID_SESSION_ID"));
        let locked = classify(400, Some("application/json;charset=UTF-8"), br#"[{"message":"unable to obtain exclusive access to this record","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]"#);
        assert!(matches!(locked, SalesforceError::RecordLocked) && locked.is_transient());
        let limit = classify(403, None, br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#);
        assert!(matches!(limit, SalesforceError::LimitExceeded { .. }));
        assert!(!limit.is_transient(), "a daily limit is not fixed by retrying now");
    }

    #[test]
    fn an_html_maintenance_page_is_named_by_its_title() {
        let page = b"<html><head><title>Service  Unavailable</title></head><body>Down for maintenance</body></html>";
        match classify(503, Some("text/html"), page) {
            e @ SalesforceError::NotJson { .. } => {
                assert!(e.to_string().contains("Service Unavailable"), "{e}");
                assert!(e.is_transient());
            }
            other => panic!("expected NotJson, got {other:?}"),
        }
    }
}
