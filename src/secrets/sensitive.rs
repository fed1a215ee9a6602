//! `Sensitive<T>`: a value that prints as `<redacted>` and refuses to be serialized, so a
//! secret cannot leak through `{:?}`, a tracing field or a JSON response by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The secret itself, for the one place that must send it (an HTTP header, a digest).
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> serde::Serialize for Sensitive<T> {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refusing to serialize a secret (Sensitive<T>)"))
    }
}

#[cfg(test)]
mod tests {
    use super::Sensitive;

    #[test]
    fn a_secret_never_shows_in_debug_display_or_json() {
        let s = Sensitive::new("hunter2-token".to_string());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s}"), "<redacted>");
        assert!(serde_json::to_string(&s).is_err(), "serializing a secret must fail");
        assert_eq!(s.expose(), "hunter2-token", "the holder can still use it");
    }
}
