//! The `settings` table: one row per setting key, the value as JSON text.
//!
//! Knows nothing of what a setting means; `crate::settings` gives the keys their types.

use rusqlite::{params, OptionalExtension};
use rusqlite_migration::M;

use super::{Store, StoreError};

pub(super) const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE settings (
        key        TEXT PRIMARY KEY NOT NULL,
        value      TEXT NOT NULL,
        updated_at INTEGER NOT NULL DEFAULT (unixepoch())
    ) STRICT;",
)];

pub struct SettingsTable<'s> {
    store: &'s mut Store,
}

impl<'s> SettingsTable<'s> {
    pub(super) fn new(store: &'s mut Store) -> Self {
        SettingsTable { store }
    }

    pub fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .conn()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn all(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self.store.conn().prepare("SELECT key, value FROM settings ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn put(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = unixepoch()",
                params![key, value],
            )
        })?;
        Ok(())
    }

    pub fn delete(&mut self, key: &str) -> Result<(), StoreError> {
        self.store.write(|tx| tx.execute("DELETE FROM settings WHERE key = ?1", [key]))?;
        Ok(())
    }
}
