//! Secrets: the OS keyring behind a three-call API, and [`Sensitive`], the wrapper that
//! keeps a secret out of logs, debug output and serialized data.
//!
//! On Linux the keyring is the freedesktop Secret Service on the session D-Bus
//! (gnome-keyring, KWallet or KeePassXC); macOS uses the Keychain and Windows the
//! Credential Manager. There is deliberately no file fallback: when no keyring answers,
//! the caller gets [`SecretsError::Unavailable`] and must tell the user.

mod redact;
mod sensitive;

pub use redact::{remember_secret, scrub};
pub use sensitive::Sensitive;

/// Largest value written to one keyring item. Windows' Credential Manager caps a blob at
/// 2,560 bytes; larger secrets (long OAuth tokens) are split over numbered items.
const CHUNK_BYTES: usize = 2_000;
const CHUNK_MARKER: &str = "ringside-chunks:";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("The system keyring is not available ({reason}). Ringside keeps passwords and tokens only there: start your desktop's keyring (GNOME Keyring, KWallet or KeePassXC with Secret Service) and try again.")]
    Unavailable { reason: String },
    #[error("The system keyring is locked ({reason}). Unlock it (usually by logging in again) and try again.")]
    Locked { reason: String },
    #[error("The keyring holds an unreadable value for {account}; sign in again to replace it.")]
    Corrupt { account: String },
    #[error("The keyring refused the item for {account}: {reason}")]
    Refused { account: String, reason: String },
}

/// Access to the keyring under one service name (`ringside` in the app; tests use their
/// own so they never touch a rep's real secrets).
#[derive(Clone, Debug)]
pub struct Keyring {
    service: String,
}

impl Keyring {
    pub fn new(service: impl Into<String>) -> Keyring {
        Keyring { service: service.into() }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Asks the keyring for an item that does not exist: "no such item" proves a
    /// keyring answered; anything else is the reason none is usable.
    pub fn probe(&self) -> Result<(), SecretsError> {
        match self.entry("ringside-probe")?.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.classify("ringside-probe", e)),
        }
    }

    /// Writes, reads back and removes a throw-away item: proves the keyring is unlocked
    /// and writable, which [`probe`](Self::probe) cannot.
    pub fn check_write(&self) -> Result<(), SecretsError> {
        const ACCOUNT: &str = "ringside-write-check";
        let value = Sensitive::new("ringside write check".to_string());
        self.put(ACCOUNT, &value)?;
        let back = self.get(ACCOUNT)?;
        self.delete(ACCOUNT)?;
        match back {
            Some(v) if v == value => Ok(()),
            _ => Err(SecretsError::Corrupt { account: ACCOUNT.into() }),
        }
    }

    pub fn put(&self, account: &str, secret: &Sensitive<String>) -> Result<(), SecretsError> {
        let value = secret.expose();
        remember_secret(value);
        // Remove any previous chunks first so a shorter value never leaves stale parts.
        self.delete(account)?;
        if value.len() <= CHUNK_BYTES {
            return self.set_raw(account, value);
        }
        let parts = split_utf8(value, CHUNK_BYTES);
        for (i, part) in parts.iter().enumerate() {
            self.set_raw(&chunk_account(account, i), part)?;
        }
        self.set_raw(account, &format!("{CHUNK_MARKER}{}", parts.len()))
    }

    pub fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, SecretsError> {
        let Some(head) = self.get_raw(account)? else { return Ok(None) };
        let value = match head.strip_prefix(CHUNK_MARKER) {
            None => head,
            Some(count) => {
                let count: usize =
                    count.parse().map_err(|_| SecretsError::Corrupt { account: account.into() })?;
                let mut whole = String::new();
                for i in 0..count {
                    let part = self
                        .get_raw(&chunk_account(account, i))?
                        .ok_or_else(|| SecretsError::Corrupt { account: account.into() })?;
                    whole.push_str(&part);
                }
                whole
            }
        };
        remember_secret(&value);
        Ok(Some(Sensitive::new(value)))
    }

    /// Removes the item (and its chunks). Removing what is not there is not an error.
    pub fn delete(&self, account: &str) -> Result<(), SecretsError> {
        if let Some(head) = self.get_raw(account)? {
            if let Some(Ok(count)) = head.strip_prefix(CHUNK_MARKER).map(str::parse::<usize>) {
                for i in 0..count {
                    self.delete_raw(&chunk_account(account, i))?;
                }
            }
            self.delete_raw(account)?;
        }
        Ok(())
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretsError> {
        keyring::Entry::new(&self.service, account).map_err(|e| self.classify(account, e))
    }

    fn set_raw(&self, account: &str, value: &str) -> Result<(), SecretsError> {
        self.entry(account)?.set_password(value).map_err(|e| self.classify(account, e))
    }

    fn get_raw(&self, account: &str) -> Result<Option<String>, SecretsError> {
        match self.entry(account)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(keyring::Error::BadEncoding(_)) => Err(SecretsError::Corrupt { account: account.into() }),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn delete_raw(&self, account: &str) -> Result<(), SecretsError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.classify(account, e)),
        }
    }

    fn classify(&self, account: &str, e: keyring::Error) -> SecretsError {
        let reason = e.to_string();
        match e {
            keyring::Error::NoStorageAccess(_) if reason.to_lowercase().contains("lock") => {
                SecretsError::Locked { reason }
            }
            keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
                if reason.to_lowercase().contains("lock") {
                    SecretsError::Locked { reason }
                } else {
                    SecretsError::Unavailable { reason }
                }
            }
            _ => SecretsError::Refused { account: account.into(), reason },
        }
    }
}

fn chunk_account(account: &str, index: usize) -> String {
    format!("{account}#{index}")
}

/// Splits on character boundaries so each part is valid UTF-8 of at most `max` bytes.
fn split_utf8(s: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        parts.push(head);
        rest = tail;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_keeps_every_byte_and_never_cuts_a_character() {
        let s = "é".repeat(1_500) + "abc";
        let parts = split_utf8(&s, CHUNK_BYTES);
        assert!(parts.iter().all(|p| p.len() <= CHUNK_BYTES), "each part fits one keyring item");
        assert_eq!(parts.concat(), s, "joining the parts gives the secret back");
    }
}
