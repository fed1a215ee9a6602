use std::path::Path;

use ringside::app::{DialTarget, Engine, EngineConfig, ErrorCode, Event, NoticeCode};
use ringside::audio::{AudioDevice, AudioRole, DeviceList};
use ringside::settings::{Language, LanguageSetting, SettingChange, SystemLocale};

fn config(dir: &Path, locale: &str) -> EngineConfig {
    EngineConfig {
        data_dir: dir.to_path_buf(),
        keyring_service: format!("ringside-test-engine-{}", std::process::id()),
        locale: SystemLocale::from_tag(locale),
        log_dir: Some(dir.join("logs")),
    }
}

fn device(id: &str, name: &str, is_default: bool) -> AudioDevice {
    AudioDevice { id: id.into(), name: name.into(), is_default }
}

fn devices_with_headset(headset: bool) -> DeviceList {
    let mut outputs = vec![device("pulseaudio:builtin", "Built-in Audio", true)];
    let mut inputs = vec![device("pulseaudio:builtin.mic", "Built-in Mic", true)];
    if headset {
        outputs.push(device("pulseaudio:jabra", "Jabra Evolve «75» 🎧", false));
        inputs.push(device("pulseaudio:jabra.mic", "Jabra Evolve «75» 🎧 Mic", false));
    }
    DeviceList { host: "PulseAudio".into(), inputs, outputs, problem: None }
}

#[test]
fn the_language_follows_the_system_until_the_rep_picks_one_and_the_pick_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(config(dir.path(), "ja_JP.UTF-8"));
    assert_eq!(engine.status().language, Language::Ja, "system locale decides by default");
    assert_eq!(engine.status().settings.default_region, "JP", "region comes from the locale too");
    let mut events = engine.subscribe();
    engine.change_setting(&SettingChange::Language(LanguageSetting::Fr)).unwrap();
    match events.try_recv() {
        Ok(Event::SettingsChanged { language, .. }) => assert_eq!(language, Language::Fr),
        other => panic!("a settings change is announced, got {other:?}"),
    }
    drop(engine);
    let again = Engine::start(config(dir.path(), "ja_JP.UTF-8"));
    assert_eq!(again.status().language, Language::Fr, "the rep's choice beats the system locale");
}

#[test]
fn a_consumer_key_can_be_set_and_cleared_but_not_set_to_junk() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(config(dir.path(), "fr_FR"));
    engine.change_setting(&SettingChange::SalesforceClientId(" 3MVG9abc.DEF_123 ".into())).unwrap();
    assert_eq!(engine.settings().salesforce_client_id, "3MVG9abc.DEF_123", "trimmed");
    let err = engine.change_setting(&SettingChange::SalesforceClientId("key with spaces & quotes'".into())).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("App Manager"), "says where the key comes from: {}", err.message);
    engine.change_setting(&SettingChange::SalesforceClientId(String::new())).unwrap();
    assert_eq!(engine.settings().salesforce_client_id, "", "an empty value clears the key");
}

#[test]
fn a_bad_region_is_refused_and_the_old_one_kept() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(config(dir.path(), "fr_FR"));
    let err = engine.change_setting(&SettingChange::DefaultRegion("Atlantis".into())).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("two-letter country code"), "{}", err.message);
    assert_eq!(engine.settings().default_region, "FR");
}

#[test]
fn a_picked_headset_is_remembered_and_an_absent_one_falls_back_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(config(dir.path(), "en_US"));
    let present = engine
        .select_audio_device_in(devices_with_headset(true), AudioRole::Speaker, Some("pulseaudio:jabra"))
        .expect("the headset is plugged in");
    let speaker = present.role(AudioRole::Speaker).unwrap();
    assert_eq!(speaker.active_id.as_deref(), Some("pulseaudio:jabra"), "the headset is used while plugged in");

    drop(engine);
    let engine = Engine::start(config(dir.path(), "en_US"));
    let mut events = engine.subscribe();
    let absent = engine.apply_device_list(devices_with_headset(false));
    let speaker = absent.role(AudioRole::Speaker).unwrap();
    assert!(speaker.fallback);
    assert_eq!(speaker.active_id.as_deref(), Some("pulseaudio:builtin"));
    let notice = engine.status().notices.into_iter().find(|n| n.code == NoticeCode::DeviceFallback).expect("a fallback notice");
    assert!(notice.message.contains("Jabra Evolve «75» 🎧"), "names the missing device: {}", notice.message);
    assert!(notice.message.contains("Built-in Audio"), "names the device used instead: {}", notice.message);
    let mut saw_notice_event = false;
    while let Ok(ev) = events.try_recv() {
        if let Event::Notice { notice } = &ev {
            saw_notice_event |= notice.code == NoticeCode::DeviceFallback;
            assert!(ev.desktop_notification().is_some(), "a missing headset deserves a desktop notification");
        }
    }
    assert!(saw_notice_event, "the fallback is announced as an event");
}

#[test]
fn a_damaged_database_is_set_aside_and_the_app_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ringside.db"), b"this is not sqlite at all, just some bytes that fill a page".repeat(200)).unwrap();
    let engine = Engine::start(config(dir.path(), "en_US"));
    let notice = engine.status().notices.into_iter().find(|n| n.code == NoticeCode::StorageProblem).expect("storage notice");
    assert!(notice.message.contains("damaged"), "{}", notice.message);
    let aside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("ringside.db.damaged-")).collect();
    assert_eq!(aside.len(), 1, "the damaged file is kept for support, not deleted");
    engine.change_setting(&SettingChange::DefaultRegion("DE".into())).expect("the fresh database works");
}

#[test]
fn a_newer_database_leaves_the_app_running_in_memory_and_untouched_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    drop(ringside::store::Store::open(&dir.path().join("ringside.db")).unwrap());
    rusqlite::Connection::open(dir.path().join("ringside.db")).unwrap().pragma_update(None, "user_version", 999).unwrap();
    let engine = Engine::start(config(dir.path(), "en_US"));
    let notices = engine.status().notices;
    assert!(notices.iter().any(|n| n.message.contains("newer version")), "{notices:?}");
    assert!(notices.iter().any(|n| n.message.contains("will not be kept")), "{notices:?}");
    engine.change_setting(&SettingChange::DefaultRegion("DE".into())).expect("settings still work in memory");
}

#[test]
fn a_data_folder_that_cannot_be_created_is_reported_and_the_app_still_starts() {
    // A folder under a regular file can never be created, whoever runs the test (root
    // ignores permission bits, so a 0500 folder would not do).
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let engine = Engine::start(config(&blocker.join("ringside"), "en_US"));
    let notices = engine.status().notices;
    let notice = notices.iter().find(|n| n.code == NoticeCode::DataDirReadOnly).expect("a data folder notice");
    assert!(notice.message.contains("cannot be written"), "{}", notice.message);
    engine.change_setting(&SettingChange::Language(LanguageSetting::Ja)).expect("settings work in memory");
}

#[test]
fn a_link_that_opened_the_app_waits_for_the_ui_and_junk_is_rejected_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(config(dir.path(), "fr_FR"));
    let mut events = engine.subscribe();
    let args = vec!["--some-flag".to_string(), "tel:+33 1 23 45 67 89".to_string()];
    engine.open_link_from_args(&args).expect("a link argument").expect("a valid link");
    match events.try_recv() {
        Ok(Event::DialRequested { target: DialTarget::Phone { e164, display, .. } }) => {
            assert_eq!(e164, "+33123456789");
            assert_eq!(display, "+33 1 23 45 67 89");
        }
        other => panic!("expected DialRequested, got {other:?}"),
    }
    assert!(engine.take_pending_dial().is_some(), "the UI can collect the link after it starts");
    assert!(engine.take_pending_dial().is_none(), "and only once");

    assert!(engine.open_link("tel:not-a-number\u{0007}").is_err());
    match events.try_recv() {
        Ok(Event::LinkRejected { link, reason }) => {
            assert!(!link.contains('\u{0007}'), "control characters are not echoed");
            assert!(!reason.is_empty());
        }
        other => panic!("expected LinkRejected, got {other:?}"),
    }
    assert!(engine.take_pending_dial().is_none(), "a rejected link dials nothing");
}

#[test]
fn the_support_bundle_holds_logs_and_settings_but_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::start(config(dir.path(), "en_US"));
    engine.change_setting(&SettingChange::DefaultRegion("GB".into())).unwrap();
    let secret = "refresh-token-5f0e1d2c3b4a";
    ringside::secrets::remember_secret(secret);
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    std::fs::write(dir.path().join("logs/ringside.2026-11-20.log"), format!("INFO token refreshed with {secret}\nINFO Authorization: Bearer 00D!abc\n")).unwrap();
    let bundle = engine.write_diagnostics(Some(&dir.path().join("out"))).unwrap();
    let file = std::fs::File::open(&bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut names = Vec::new();
    let mut all = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        names.push(entry.path().unwrap().display().to_string());
        std::io::Read::read_to_string(&mut entry, &mut all).unwrap();
    }
    for expected in ["versions.txt", "settings.json", "devices.json", "notices.json", "logs/ringside.2026-11-20.log"] {
        assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
    }
    assert!(all.contains("\"GB\""), "settings are included");
    assert!(!all.contains(secret), "a remembered secret never leaves in a bundle");
    assert!(!all.contains("00D!abc"), "bearer tokens are scrubbed");
}
