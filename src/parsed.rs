//! The parse cache: what the parsers gave for a file or a folder, kept by content so that a
//! module or a manifest copied into many workloads is parsed once (keys and what they depend
//! on: `workload::parser::cache`). Cold observations of fleets of copied code then cost in
//! proportion to their distinct content.
//!
//! Decisions:
//! - One file per entry, `<cache>/parsed/<name>.json`, `name` a SHA-256 of the parse format,
//!   the result format, Railyard's version and the parser's key: another version's entries
//!   are never read.
//! - An entry is its MAC line (`railyard-parsed <hmac>` with `RAILYARD_LEDGER_KEY`, else
//!   `railyard-parsed -`) then its JSON body, which holds its own key. The MAC covers the
//!   body's bytes as written. With the key set, an entry whose MAC does not verify (edited,
//!   or written without the key) is reported on stderr and parsed again, never used: the
//!   documented CI setup restores the cache from other runs.
//! - Written to a temporary file in the same folder and renamed into place; an unreadable,
//!   foreign or corrupt entry is ignored and rewritten. Deleting `<cache>/parsed` is safe.
//! - Evaluation and Terraform parsing run in child processes, but lookups and stores run in
//!   the observing process (before the children start, after they report): entries read
//!   from disk are also kept in memory for the run, so the other workloads of the run that
//!   share them pay no read. Entries written by this run are not kept (most are one
//!   workload's changed folder, never seen again).

use crate::workload::parser::{ParseStore, Stored};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Bumped when the meaning of a cached parse changes (and whenever a parser's output
/// changes: `results::FORMAT` is part of every name too).
pub const FORMAT: u32 = 1;
/// Bytes (of entries as stored) kept in memory during a run, at most.
const IN_MEMORY: usize = 256 << 20;
const MAGIC: &str = "railyard-parsed";
/// Entries failing verification reported one by one in a run; the rest in one line.
const MAX_WARNINGS: usize = 10;

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    key: String,
    stored: Stored,
}

/// `<cache dir>/parsed`.
pub struct ParsedCache {
    dir: PathBuf,
    key: Option<crate::seal::SealKey>,
    memory: Mutex<Memory>,
    /// Entries that failed verification in this run.
    refused: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
struct Memory {
    entries: HashMap<String, Arc<Stored>>,
    bytes: usize,
}

impl ParsedCache {
    pub fn new(dir: impl Into<PathBuf>) -> ParsedCache {
        ParsedCache {
            dir: dir.into(),
            key: None,
            memory: Mutex::new(Memory::default()),
            refused: Default::default(),
        }
    }

    /// Authenticates entries with `key` (see the module's decisions).
    pub fn with_key(mut self, key: Option<crate::seal::SealKey>) -> ParsedCache {
        self.key = key;
        self
    }

    fn name(key: &str) -> String {
        let mut h = Sha256::new();
        for f in [
            "parsed",
            &FORMAT.to_string(),
            &crate::results::FORMAT.to_string(),
            crate::results::ENGINE_VERSION,
            key,
        ] {
            h.update((f.len() as u64).to_le_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}.json", Self::name(key)))
    }

    /// The entry and its size on disk.
    fn read(&self, key: &str) -> Option<(Stored, usize)> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        let newline = bytes.iter().position(|b| *b == b'\n')?;
        let (head, body) = (std::str::from_utf8(&bytes[..newline]).ok()?, &bytes[newline + 1..]);
        let mac = head.strip_prefix(MAGIC)?.trim();
        if let Some(k) = &self.key {
            if !k.verify([body], mac) {
                // One line per entry, up to a few: a cache written without the key fails
                // for every file of the fleet.
                let n = self.refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n < MAX_WARNINGS {
                    eprintln!(
                        "warning: parse cache entry `{}` fails verification with {} (changed, or written without the key): parsing those files again",
                        path.display(),
                        crate::seal::KEY_ENV
                    );
                } else if n == MAX_WARNINGS {
                    eprintln!(
                        "warning: more parse cache entries fail verification (not listed): parsing those files again"
                    );
                }
                return None;
            }
        }
        let entry: Entry = serde_json::from_slice(body).ok()?;
        (entry.key == key).then_some((entry.stored, body.len()))
    }

    fn write(&self, key: &str, stored: &Stored) -> std::io::Result<()> {
        let body = serde_json::to_vec(&Entry {
            key: key.to_string(),
            stored: stored.clone(),
        })
        .map_err(std::io::Error::other)?;
        let mac = match &self.key {
            Some(k) => k.mac([body.as_slice()]),
            None => "-".to_string(),
        };
        std::fs::create_dir_all(&self.dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        tmp.write_all(format!("{MAGIC} {mac}\n").as_bytes())?;
        tmp.write_all(&body)?;
        tmp.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A panic elsewhere while holding the lock leaves a consistent map.
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ParseStore for ParsedCache {
    fn load(&self, key: &str) -> Option<Stored> {
        if let Some(hit) = self.memory().entries.get(key).cloned() {
            return Some((*hit).clone());
        }
        let (stored, size) = self.read(key)?;
        let mut memory = self.memory();
        if memory.bytes + size <= IN_MEMORY && !memory.entries.contains_key(key) {
            memory.bytes += size;
            memory.entries.insert(key.to_string(), Arc::new(stored.clone()));
        }
        Some(stored)
    }

    fn store(&self, key: &str, entry: &Stored) {
        if let Err(e) = self.write(key, entry) {
            eprintln!("warning: parse cache: cannot write `{}`: {e}", self.path(key).display());
        }
    }
}
