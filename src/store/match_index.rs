//! The local match index: Salesforce records Ringside has seen (found by a search,
//! created from the app, or synced as recently modified), keyed by every E.164 number
//! on them. It answers "who is calling" before Salesforce does, and knows records that
//! Salesforce's search index does not list yet.

use rusqlite::{params, OptionalExtension};
use rusqlite_migration::M;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

pub(super) const MIGRATIONS: &[M<'static>] = &[M::up(
    "CREATE TABLE match_records (
        object     TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        name       TEXT NOT NULL,
        fields     TEXT NOT NULL,            -- JSON: the pop fields as last seen
        source     TEXT NOT NULL,            -- search | created | sync | owned
        modstamp   TEXT,                     -- Salesforce SystemModstamp when known
        seen_at    INTEGER NOT NULL,         -- unix seconds, last confirmed
        PRIMARY KEY (object, record_id)
    ) STRICT;
    CREATE TABLE match_numbers (
        e164       TEXT NOT NULL,
        object     TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        field      TEXT NOT NULL,
        PRIMARY KEY (e164, object, record_id, field),
        FOREIGN KEY (object, record_id) REFERENCES match_records (object, record_id) ON DELETE CASCADE
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX match_numbers_by_record ON match_numbers (object, record_id);
    CREATE TABLE match_watermarks (
        object     TEXT PRIMARY KEY NOT NULL,
        modstamp   TEXT NOT NULL
    ) STRICT;",
)];

/// How a record came into the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum IndexSource {
    /// Returned (and confirmed) by a live search.
    Search,
    /// Created from Ringside.
    Created,
    /// Recently modified, read by the watermark query.
    Sync,
    /// Owned by the rep, read after sign-in.
    Owned,
}

impl IndexSource {
    fn as_str(self) -> &'static str {
        match self {
            IndexSource::Search => "search",
            IndexSource::Created => "created",
            IndexSource::Sync => "sync",
            IndexSource::Owned => "owned",
        }
    }
    fn parse(s: &str) -> IndexSource {
        match s {
            "created" => IndexSource::Created,
            "sync" => IndexSource::Sync,
            "owned" => IndexSource::Owned,
            _ => IndexSource::Search,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexedRecord {
    pub object: String,
    pub record_id: String,
    pub name: String,
    pub fields: serde_json::Value,
    pub source: IndexSource,
    pub modstamp: Option<String>,
    pub seen_at: i64,
    /// (E.164, field name) pairs on the record.
    pub numbers: Vec<(String, String)>,
}

pub struct MatchIndex<'s> {
    store: &'s mut Store,
}

impl<'s> MatchIndex<'s> {
    pub(super) fn new(store: &'s mut Store) -> Self {
        MatchIndex { store }
    }

    /// Records carrying `e164`, each with the field it is on.
    pub fn lookup(&self, e164: &str) -> Result<Vec<(IndexedRecord, String)>, StoreError> {
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT r.object, r.record_id, r.name, r.fields, r.source, r.modstamp, r.seen_at, n.field
             FROM match_numbers n JOIN match_records r USING (object, record_id)
             WHERE n.e164 = ?1",
        )?;
        let rows = stmt.query_map([e164], |r| {
            let fields: String = r.get(3)?;
            let source: String = r.get(4)?;
            Ok((
                IndexedRecord {
                    object: r.get(0)?,
                    record_id: r.get(1)?,
                    name: r.get(2)?,
                    fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::Null),
                    source: IndexSource::parse(&source),
                    modstamp: r.get(5)?,
                    seen_at: r.get(6)?,
                    numbers: vec![],
                },
                r.get::<_, String>(7)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn lookup_record(&self, object: &str, record_id: &str) -> Result<Option<IndexedRecord>, StoreError> {
        Ok(self
            .store
            .conn()
            .query_row(
                "SELECT name, fields, source, modstamp, seen_at FROM match_records WHERE object = ?1 AND record_id = ?2",
                params![object, record_id],
                |r| {
                    let fields: String = r.get(1)?;
                    let source: String = r.get(2)?;
                    Ok(IndexedRecord {
                        object: object.to_string(),
                        record_id: record_id.to_string(),
                        name: r.get(0)?,
                        fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::Null),
                        source: IndexSource::parse(&source),
                        modstamp: r.get(3)?,
                        seen_at: r.get(4)?,
                        numbers: vec![],
                    })
                },
            )
            .optional()?)
    }

    /// Inserts or replaces records with their numbers, in one transaction.
    pub fn upsert(&mut self, records: &[IndexedRecord]) -> Result<(), StoreError> {
        self.store.write(|tx| {
            for rec in records {
                tx.execute(
                    "INSERT INTO match_records (object, record_id, name, fields, source, modstamp, seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (object, record_id) DO UPDATE SET
                       name = excluded.name, fields = excluded.fields, seen_at = excluded.seen_at,
                       modstamp = coalesce(excluded.modstamp, match_records.modstamp),
                       -- a record the rep created stays 'created' until a search confirms it
                       source = CASE WHEN excluded.source = 'search' THEN 'search' ELSE match_records.source END",
                    params![
                        rec.object,
                        rec.record_id,
                        rec.name,
                        rec.fields.to_string(),
                        rec.source.as_str(),
                        rec.modstamp,
                        rec.seen_at
                    ],
                )?;
                tx.execute("DELETE FROM match_numbers WHERE object = ?1 AND record_id = ?2", params![rec.object, rec.record_id])?;
                for (e164, field) in &rec.numbers {
                    tx.execute(
                        "INSERT OR IGNORE INTO match_numbers (e164, object, record_id, field) VALUES (?1, ?2, ?3, ?4)",
                        params![e164, rec.object, rec.record_id, field],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Forgets that `e164` belongs to a record (the live search says it no longer does).
    pub fn unlink(&mut self, e164: &str, object: &str, record_id: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "DELETE FROM match_numbers WHERE e164 = ?1 AND object = ?2 AND record_id = ?3",
                params![e164, object, record_id],
            )
        })?;
        Ok(())
    }

    pub fn watermark(&self, object: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .store
            .conn()
            .query_row("SELECT modstamp FROM match_watermarks WHERE object = ?1", [object], |r| r.get(0))
            .optional()?)
    }

    pub fn set_watermark(&mut self, object: &str, modstamp: &str) -> Result<(), StoreError> {
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO match_watermarks (object, modstamp) VALUES (?1, ?2)
                 ON CONFLICT (object) DO UPDATE SET modstamp = excluded.modstamp",
                params![object, modstamp],
            )
        })?;
        Ok(())
    }

    pub fn count_numbers(&self) -> Result<i64, StoreError> {
        Ok(self.store.conn().query_row("SELECT count(*) FROM match_numbers", [], |r| r.get(0))?)
    }
}
