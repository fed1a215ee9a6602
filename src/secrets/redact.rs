//! Log redaction: every secret read from or written to the keyring is remembered here,
//! and the log writer replaces any occurrence of one with `<redacted>`. This catches a
//! secret that reached a log line by a path `Sensitive` could not guard (an error
//! message echoing a request, a URL with a token in it).

use std::borrow::Cow;
use std::sync::RwLock;

/// Secrets shorter than this are not scrubbed: replacing a 3-character "secret"
/// everywhere would mangle the log and protect nothing.
const MIN_SCRUB_LEN: usize = 6;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

pub fn remember_secret(secret: &str) {
    if secret.len() < MIN_SCRUB_LEN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    if !known.iter().any(|k| k == secret) {
        known.push(secret.to_string());
    }
}

/// Returns `text` with every remembered secret and every `Bearer …` token replaced.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), "<redacted>"));
        }
    }
    if out.contains("Bearer ") {
        out = Cow::Owned(scrub_bearer(&out));
    }
    out
}

fn scrub_bearer(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("Bearer ") {
        let (head, tail) = rest.split_at(at + "Bearer ".len());
        result.push_str(head);
        let token_len = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
            .unwrap_or(tail.len());
        if token_len > 0 {
            result.push_str("<redacted>");
        }
        rest = &tail[token_len..];
    }
    result.push_str(rest);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_secrets_and_bearer_tokens_are_scrubbed() {
        remember_secret("s3cr3t-refresh-token");
        let line = r#"refresh failed for s3cr3t-refresh-token; header "Authorization: Bearer 00Dxx!AQ0.abc" sent"#;
        let clean = scrub(line);
        assert!(!clean.contains("s3cr3t-refresh-token"), "remembered secret must go: {clean}");
        assert!(!clean.contains("00Dxx!AQ0.abc"), "bearer token must go: {clean}");
        assert!(clean.contains("refresh failed for <redacted>"), "the rest of the line stays: {clean}");
    }
}
