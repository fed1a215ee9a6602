//! Runs against the real OS keyring (the test command starts gnome-keyring on a private
//! D-Bus session; see tests/scripts/with-session). Each test uses its own service name.

use ringside::secrets::{Keyring, SecretsError, Sensitive};

fn keyring(test: &str) -> Keyring {
    let k = Keyring::new(format!("ringside-test-{test}-{}", std::process::id()));
    if let Err(e) = k.probe() {
        panic!("{e}\nThe keyring tests need a Secret Service: run them with `make test` (tests/scripts/with-session).");
    }
    k
}

#[test]
fn a_secret_put_in_the_keyring_comes_back_and_can_be_deleted() {
    let k = keyring("roundtrip");
    let secret = Sensitive::new("p@ss wörd ✓ 123".to_string());
    k.put("sip:alice@example.com", &secret).expect("put");
    let back = k.get("sip:alice@example.com").expect("get").expect("present");
    assert_eq!(back.expose(), secret.expose());
    k.delete("sip:alice@example.com").expect("delete");
    assert!(k.get("sip:alice@example.com").expect("get after delete").is_none());
    k.delete("sip:alice@example.com").expect("deleting twice is not an error");
}

#[test]
fn a_token_larger_than_one_keyring_item_is_split_and_joined() {
    let k = keyring("chunks");
    let token: String = (0..9_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    k.put("salesforce", &Sensitive::new(token.clone())).unwrap();
    assert_eq!(k.get("salesforce").unwrap().unwrap().expose(), &token);
    // A shorter value replaces it completely (no stale chunk is read back).
    k.put("salesforce", &Sensitive::new("short-token".into())).unwrap();
    assert_eq!(k.get("salesforce").unwrap().unwrap().expose(), "short-token");
    k.delete("salesforce").unwrap();
    assert!(k.get("salesforce#0").unwrap().is_none(), "chunks are removed with the item");
}

#[test]
fn without_a_session_bus_the_keyring_is_reported_unavailable_not_replaced_by_a_file() {
    // A child process with no D-Bus address sees no Secret Service at all.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ringside"))
        .args(["--json", "keyring"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/ringside-bus")
        .env("RINGSIDE_DATA_DIR", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "no keyring must be an error");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("keyring is not available"), "clear message: {stdout}");
    let _ = SecretsError::Unavailable { reason: String::new() };
}
