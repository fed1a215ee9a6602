//! The `ringside` binary as a script would use it.

use std::process::Command;

fn ringside(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ringside"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LANG", "fr_FR.UTF-8")
        .output()
        .expect("run ringside");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn settings_set_then_get_round_trips_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = ringside(dir.path(), &["settings", "set", "language", "ja"]);
    assert!(ok, "{err}");
    let (ok, out, _) = ringside(dir.path(), &["--json", "settings", "get"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(v["language"], "ja");
    assert_eq!(v["defaultRegion"], "FR", "default region from LANG=fr_FR");
}

#[test]
fn a_bad_setting_exits_non_zero_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = ringside(dir.path(), &["settings", "set", "language", "klingon"]);
    assert!(!ok);
    assert!(err.contains("system, en, fr or ja"), "{err}");
    let (ok, out, _) = ringside(dir.path(), &["--json", "settings", "set", "colour", "blue"]);
    assert!(!ok);
    let v: serde_json::Value = serde_json::from_str(&out).expect("errors are JSON too");
    assert_eq!(v["error"]["code"], "invalidInput");
}

#[test]
fn devices_lists_what_the_sound_server_offers() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = ringside(dir.path(), &["--json", "devices"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let roles = v["roles"].as_array().expect("roles");
    assert_eq!(roles.len(), 3, "microphone, speaker, ringer");
    if std::env::var_os("RINGSIDE_SESSION_DIR").is_some() {
        // Under tests/scripts/with-session a PulseAudio null sink is running.
        let outputs = v["outputs"].as_array().unwrap();
        assert!(outputs.iter().any(|d| d["id"] == "pulseaudio:nullsink"), "the null sink is listed: {out}");
        let (ok, out, err) = ringside(dir.path(), &["--json", "devices", "select", "speaker", "pulseaudio:nullsink"]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["roles"][1]["preferredId"], "pulseaudio:nullsink");
    }
}

#[test]
fn selecting_a_device_that_is_not_there_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = ringside(dir.path(), &["devices", "select", "microphone", "pulseaudio:unplugged-headset"]);
    assert!(!ok);
    assert!(err.contains("not connected"), "{err}");
}

#[test]
fn diagnostics_writes_a_bundle_and_prints_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("bundle");
    let (ok, out, err) = ringside(dir.path(), &["--json", "diagnostics", "--out", out_dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let path = v["bundle"].as_str().unwrap();
    assert!(std::path::Path::new(path).exists());
    assert!(path.ends_with(".tar.gz"));
}

#[test]
fn number_explains_how_a_number_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = ringside(dir.path(), &["--json", "number", "01 23 45 67 89", "--region", "FR"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["e164"], "+33123456789");
    let (ok, _, err) = ringside(dir.path(), &["number", "😀😀😀"]);
    assert!(!ok);
    assert!(err.contains("not part of a phone number"), "{err}");
}

#[test]
fn a_meeting_started_from_the_cli_prints_its_room_and_waits_for_salesforce() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = ringside(
        dir.path(),
        &["--json", "meeting", "start", "--who", "Contact:003000000000001AAA:Ana Lima", "--invite", "bob@example.com", "--time-zone", "Asia/Tokyo", "--no-sync"],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let url = v["openUrl"].as_str().unwrap();
    assert!(url.starts_with("https://meet.jit.si/MeetingWithAnaLima-"), "{url}");
    assert_eq!(v["meeting"]["joinUrl"], url);
    assert_eq!(v["meeting"]["timeZone"], "Asia/Tokyo");
    assert_eq!(v["meeting"]["event"]["state"], "pending");

    // Not signed in: the Event waits, with the reason, and the meeting is listed.
    let (ok, out, _) = ringside(dir.path(), &["meeting", "sync"]);
    assert!(ok);
    assert!(out.contains("waiting: 1"), "{out}");
    let (ok, out, _) = ringside(dir.path(), &["meeting", "list"]);
    assert!(ok);
    assert!(out.contains("Meeting with Ana Lima") && out.contains("Event waiting"), "{out}");

    let (ok, _, err) = ringside(dir.path(), &["meeting", "start", "--invite", "bob@example", "--duration", "0"]);
    assert!(!ok);
    assert!(err.contains("\u{201c}bob@example\u{201d} is not an email address"), "{err}");
    let (_, out, _) = ringside(dir.path(), &["--json", "meeting", "list"]);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "the refused one made nothing");
    let id = list[0]["id"].to_string();
    let (ok, ics, err) = ringside(dir.path(), &["meeting", "ics", &id]);
    assert!(ok, "{err}");
    let unfolded = ics.replace("\r\n ", "");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && unfolded.contains("DTSTART;TZID=Asia/Tokyo:") && unfolded.contains("mailto:bob@example.com"), "{ics}");
}
