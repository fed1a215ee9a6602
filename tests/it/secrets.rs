//! Runs against the real OS keyring (the test command starts gnome-keyring on a private
//! D-Bus session; see tests/scripts/with-session). Each test uses its own service name.

use ringside::secrets::{Keyring, Sensitive};

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
}

#[test]
fn a_locked_keyring_is_named_as_locked_with_the_fix() {
    // Its own D-Bus session and gnome-keyring, so locking it cannot disturb the other
    // tests: unlock (creates the login keyring), lock it again, then try to write.
    let home = tempfile::tempdir().unwrap();
    let script = format!(
        "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; \
         dbus-send --session --dest=org.freedesktop.secrets --type=method_call --print-reply \
           /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock \
           array:objpath:/org/freedesktop/secrets/collection/login >/dev/null; \
         exec '{}' --data-dir '{}' keyring --write",
        env!("CARGO_BIN_EXE_ringside"),
        home.path().join("data").display()
    );
    let out = std::process::Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .env("XDG_DATA_HOME", home.path())
        .env_remove("DISPLAY")
        .output()
        .expect("dbus-run-session (package dbus) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a locked keyring must refuse the write");
    assert!(stderr.contains("keyring is locked"), "names the problem: {stderr}");
    assert!(stderr.contains("Unlock it"), "and the fix: {stderr}");
}
