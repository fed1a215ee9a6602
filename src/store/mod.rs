//! The local SQLite database: the source of truth for everything Ringside keeps.
//!
//! Owns the connection, the migration list (each table family keeps its own migrations
//! next to its queries, in its own file) and the busy-retry policy. It never talks to
//! the network and never stores a secret: those live in the OS keyring.

mod call_logs;
pub mod layouts;
pub mod meeting_emails;
mod match_index;
pub mod reports;
mod meetings;
mod settings;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode as SqliteCode, OpenFlags};
use rusqlite_migration::{MigrationDefinitionError, Migrations, M};

pub use call_logs::{sync_state, CallLogs, OutboxRow};
pub use match_index::{IndexSource, IndexedRecord, MatchIndex};
pub use meetings::{EventOutbox, Meetings};
pub use settings::SettingsTable;

/// How long one statement waits for another connection's lock before SQLite gives up
/// with `SQLITE_BUSY`. Writers are short, so a few seconds means "something is stuck".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Extra attempts for a write transaction that still meets `SQLITE_BUSY` (WAL can
/// refuse an upgrade from read to write immediately, without calling the busy handler).
const BUSY_RETRIES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The database {path} was written by a newer version of Ringside (schema {found}, this version knows up to {supported}). Update Ringside; the file was left untouched.")]
    NewerSchema { path: PathBuf, found: usize, supported: usize },
    #[error("The database {path} is damaged or is not a Ringside database ({reason}).")]
    Corrupt { path: PathBuf, reason: String },
    #[error("The database {path} cannot be written ({reason}). Check that the folder is writable and the disk is not full.")]
    ReadOnly { path: PathBuf, reason: String },
    #[error("The database stayed busy (locked by another Ringside process?) after {attempts} attempts.")]
    Busy { attempts: u32 },
    #[error("Database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("Database migration failed: {0}")]
    Migration(String),
}

/// One open database. Not `Sync`: the engine keeps it behind its single state lock.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

/// The schema history, in the order it was written. Each family's first list creates
/// its tables; a later change to any family is a new list appended at the end here
/// (never a step added to an earlier list, which would renumber every step after it).
fn history() -> [&'static [M<'static>]; 8] {
    [settings::MIGRATIONS, match_index::MIGRATIONS, call_logs::MIGRATIONS, meetings::MIGRATIONS, meetings::SYNC_MIGRATIONS, layouts::MIGRATIONS, meeting_emails::MIGRATIONS, meetings::HOST_MIGRATIONS]
}

fn migrations() -> Migrations<'static> {
    Migrations::new(history().iter().flat_map(|list| list.iter().cloned()).collect())
}

/// Highest schema version this build knows.
pub fn schema_version() -> usize {
    history().iter().map(|list| list.len()).sum()
}

impl Store {
    /// Opens (creating if needed) the database file, switches it to WAL and brings the
    /// schema up to date. A file from a newer version is refused, never downgraded.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| classify(path, e))?;
        let mut store = Store { conn, path: Some(path.to_path_buf()) };
        store.prepare().map_err(|e| match e {
            StoreError::Sqlite(inner) => classify(path, inner),
            other => other,
        })?;
        Ok(store)
    }

    /// A private database in memory: used when the data folder cannot hold one, so the
    /// app still starts (and says that nothing will be kept).
    pub fn in_memory() -> Result<Store, StoreError> {
        let mut store = Store { conn: Connection::open_in_memory()?, path: None };
        store.prepare()?;
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn prepare(&mut self) -> Result<(), StoreError> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // Reading the schema first turns "not a database" into an error here, before
        // any pragma silently succeeds on garbage.
        self.conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
        if self.path.is_some() {
            let mode: String = self.conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(mode, "SQLite refused WAL mode");
            }
        }
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let found: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let found = usize::try_from(found).unwrap_or(0);
        let supported = schema_version();
        match migrations().to_latest(&mut self.conn) {
            Ok(()) => Ok(()),
            Err(rusqlite_migration::Error::MigrationDefinition(
                MigrationDefinitionError::DatabaseTooFarAhead,
            )) => Err(StoreError::NewerSchema {
                path: self.path.clone().unwrap_or_default(),
                found,
                supported,
            }),
            Err(rusqlite_migration::Error::RusqliteError { err, .. }) => Err(StoreError::Sqlite(err)),
            Err(other) => Err(StoreError::Migration(other.to_string())),
        }
    }

    /// Runs `work` in one IMMEDIATE transaction, retrying the whole transaction when
    /// SQLite reports the database busy. `work` must therefore be free of side effects
    /// outside the transaction.
    pub fn write<T>(
        &mut self,
        mut work: impl FnMut(&rusqlite::Transaction<'_>) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = (|| {
                let tx = self
                    .conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let value = work(&tx)?;
                tx.commit()?;
                Ok(value)
            })();
            match result {
                Err(e) if is_busy(&e) && attempt <= BUSY_RETRIES => {
                    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
                }
                Err(e) if is_busy(&e) => return Err(StoreError::Busy { attempts: attempt }),
                Err(e) => {
                    return Err(match &self.path {
                        Some(p) => classify(p, e),
                        None => StoreError::Sqlite(e),
                    })
                }
                Ok(v) => return Ok(v),
            }
        }
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn settings(&mut self) -> SettingsTable<'_> {
        SettingsTable::new(self)
    }

    pub fn match_index(&mut self) -> MatchIndex<'_> {
        MatchIndex::new(self)
    }

    pub fn call_logs(&mut self) -> CallLogs<'_> {
        CallLogs::new(self)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked))
}

fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(SqliteCode::NotADatabase | SqliteCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
        Some(SqliteCode::ReadOnly | SqliteCode::CannotOpen | SqliteCode::PermissionDenied) => {
            StoreError::ReadOnly { path: path.to_path_buf(), reason: e.to_string() }
        }
        Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked) => StoreError::Busy { attempts: 1 },
        _ => StoreError::Sqlite(e),
    }
}
