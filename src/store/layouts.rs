//! The `layouts` table: the last good layout (the one in force, so the app starts with
//! it offline) and the last one refused (so an unchanged broken layout is not fetched
//! again every poll). One row per slot.

use rusqlite::{params, OptionalExtension};
use rusqlite_migration::M;

use super::{Store, StoreError};

pub(super) const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE layouts (
        slot        TEXT PRIMARY KEY NOT NULL CHECK (slot IN ('applied', 'refused')),
        record_id   TEXT NOT NULL,
        target      TEXT NOT NULL,
        version     INTEGER NOT NULL,
        modstamp    TEXT NOT NULL,
        -- applied: the document; refused: the problems as a JSON list
        body        TEXT NOT NULL,
        at_ms       INTEGER NOT NULL
    ) STRICT;",
)];

/// A layout record as the org had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLayout {
    pub record_id: String,
    /// `org`, `profile:<id>` or `user:<id>`.
    pub target: String,
    pub version: u32,
    /// The record's SystemModstamp: a change means a new body.
    pub modstamp: String,
    pub body: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Applied,
    Refused,
}

impl Slot {
    fn key(self) -> &'static str {
        match self {
            Slot::Applied => "applied",
            Slot::Refused => "refused",
        }
    }
}

pub struct Layouts<'s> {
    store: &'s mut Store,
}

impl Store {
    pub fn layouts(&mut self) -> Layouts<'_> {
        Layouts { store: self }
    }
}

impl Layouts<'_> {
    pub fn get(&self, slot: Slot) -> Result<Option<StoredLayout>, StoreError> {
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT record_id, target, version, modstamp, body, at_ms FROM layouts WHERE slot = ?1",
                [slot.key()],
                |r| {
                    Ok(StoredLayout {
                        record_id: r.get(0)?,
                        target: r.get(1)?,
                        version: r.get(2)?,
                        modstamp: r.get(3)?,
                        body: r.get(4)?,
                        at_ms: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn put(&mut self, slot: Slot, l: &StoredLayout) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO layouts (slot, record_id, target, version, modstamp, body, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(slot) DO UPDATE SET record_id = excluded.record_id, target = excluded.target,
                   version = excluded.version, modstamp = excluded.modstamp, body = excluded.body, at_ms = excluded.at_ms",
                params![slot.key(), l.record_id, l.target, l.version, l.modstamp, l.body, l.at_ms],
            )
        })?;
        Ok(())
    }

    pub fn clear(&mut self, slot: Slot) -> Result<(), StoreError> {
        self.store.write(|tx| tx.execute("DELETE FROM layouts WHERE slot = ?1", [slot.key()]))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_survives_and_each_slot_holds_one() {
        let mut store = Store::in_memory().unwrap();
        let mut l = StoredLayout { record_id: "a0X000000000001AAA".into(), target: "org".into(), version: 1, modstamp: "2026-12-01T10:00:00.000+0000".into(), body: "{}".into(), at_ms: 5 };
        store.layouts().put(Slot::Applied, &l).unwrap();
        l.version = 2;
        store.layouts().put(Slot::Applied, &l).unwrap();
        assert_eq!(store.layouts().get(Slot::Applied).unwrap().unwrap().version, 2);
        assert_eq!(store.layouts().get(Slot::Refused).unwrap(), None);
        store.layouts().clear(Slot::Applied).unwrap();
        assert_eq!(store.layouts().get(Slot::Applied).unwrap(), None);
    }
}
