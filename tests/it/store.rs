use ringside::store::{schema_version, Store, StoreError};

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

#[test]
fn a_new_database_is_created_in_wal_mode_at_the_latest_schema() {
    let dir = temp();
    let store = Store::open(&dir.path().join("r.db")).expect("opens");
    let mode: String = store.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "WAL lets the UI read while the outbox writes");
    let version: i64 = store.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version as usize, schema_version());
}

#[test]
fn settings_survive_closing_and_reopening() {
    let dir = temp();
    let path = dir.path().join("r.db");
    Store::open(&path).unwrap().settings().put("language", "\"fr\"").unwrap();
    let mut again = Store::open(&path).unwrap();
    assert_eq!(again.settings().get("language").unwrap().as_deref(), Some("\"fr\""));
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = temp();
    let path = dir.path().join("r.db");
    drop(Store::open(&path).unwrap());
    let newer = schema_version() as i64 + 5;
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", newer).unwrap();
    match Store::open(&path) {
        Err(e @ StoreError::NewerSchema { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("newer version of Ringside"), "says why: {msg}");
            assert!(msg.contains(&format!("schema {newer}")), "names the version found: {msg}");
        }
        Err(other) => panic!("expected NewerSchema, got {other}"),
        Ok(_) => panic!("a newer database must not be opened (it could be downgraded)"),
    }
    let still: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(still, newer, "the file must not be modified");
}

#[test]
fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = temp();
    let path = dir.path().join("r.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    assert!(matches!(Store::open(&path), Err(StoreError::Corrupt { .. })));
}

#[test]
fn a_writer_waits_for_another_connections_lock_instead_of_failing() {
    let dir = temp();
    let path = dir.path().join("r.db");
    let mut store = Store::open(&path).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO settings(key, value) VALUES ('held', '1');").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let releaser = std::thread::spawn(move || {
        rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
        other.execute_batch("COMMIT").unwrap();
    });
    tx.send(()).unwrap();
    store.settings().put("mine", "2").expect("the write goes through once the lock is released");
    releaser.join().unwrap();
    assert_eq!(store.settings().get("held").unwrap().as_deref(), Some("1"));
    assert_eq!(store.settings().get("mine").unwrap().as_deref(), Some("2"));
}
