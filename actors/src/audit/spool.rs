//! The on-disk spool: a durable FIFO of encoded export requests waiting for the collector.
//!
//! Each batch is one file `<seq>-<records>.otlp` holding the exact protobuf bodies to POST (the
//! log records and their spans, laid out by `bundle.rs`), so a replay re-sends the bytes that
//! were first attempted. A file is written as `.tmp`, fsync'd,
//! renamed and the directory fsync'd: after [`Spool::append`] returns the batch survives a
//! crash of the process or the machine, and a half-written `.tmp` left by a crash is removed
//! on the next [`Spool::open`]. The sequence number in the name gives the replay order
//! (oldest first) across restarts.
//!
//! Invariants: one thread appends (the batcher) and one thread reads and removes (the
//! exporter); the in-memory index is the truth for the size bound, which counts every pending
//! file's bytes, reserved before the write so two appends can never overshoot it.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::error::AuditError;

const EXTENSION: &str = "otlp";
const REJECTED_DIR: &str = "rejected";

/// One spooled batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolEntry {
    /// Position in the replay order.
    pub seq: u64,
    /// Number of audit records inside.
    pub records: u64,
    /// Size of the file.
    pub bytes: u64,
    path: PathBuf,
}

/// What became of a batch handed to [`Spool::append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// On disk and fsync'd.
    Stored,
    /// Not written: it would have taken the spool past its bound.
    Full,
}

/// The spool directory and its index.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: VecDeque<SpoolEntry>,
    bytes: u64,
    records: u64,
    next_seq: u64,
}

// === impl Spool ===

impl Spool {
    /// Opens (creating if needed) the spool in `dir`, indexing what a previous run left there.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Spool, AuditError> {
        let io_err = |source| AuditError::Spool { path: dir.to_owned(), source };
        fs::create_dir_all(dir).map_err(io_err)?;
        let mut entries = Vec::new();
        for item in fs::read_dir(dir).map_err(io_err)? {
            let path = item.map_err(io_err)?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                // A write the previous run never finished: it was never acknowledged as spooled.
                fs::remove_file(&path).map_err(io_err)?;
            } else if let Some(entry) = parse_entry(&path) {
                entries.push(entry);
            }
        }
        entries.sort_by_key(|e| e.seq);
        let state = State {
            bytes: entries.iter().map(|e| e.bytes).sum(),
            records: entries.iter().map(|e| e.records).sum(),
            next_seq: entries.last().map_or(0, |e| e.seq + 1),
            entries: entries.into(),
        };
        Ok(Spool { dir: dir.to_owned(), max_bytes, state: Mutex::new(state) })
    }

    /// Durably stores one encoded batch of `records` records, unless that would pass the bound.
    pub fn append(&self, payload: &[u8], records: u64) -> Result<Appended, AuditError> {
        let len = payload.len() as u64;
        let seq = {
            let mut state = self.lock();
            if state.bytes.saturating_add(len) > self.max_bytes {
                return Ok(Appended::Full);
            }
            state.bytes += len;
            state.next_seq += 1;
            state.next_seq - 1
        };
        let path = self.dir.join(format!("{seq:020}-{records}.{EXTENSION}"));
        if let Err(source) = self.write_durably(&path, payload) {
            self.lock().bytes -= len;
            return Err(AuditError::Spool { path, source });
        }
        let mut state = self.lock();
        state.records += records;
        state.entries.push_back(SpoolEntry { seq, records, bytes: len, path });
        Ok(Appended::Stored)
    }

    /// The batch to send next, if any.
    pub fn oldest(&self) -> Option<SpoolEntry> {
        self.lock().entries.front().cloned()
    }

    /// The encoded body of `entry`.
    pub fn read(&self, entry: &SpoolEntry) -> io::Result<Vec<u8>> {
        fs::read(&entry.path)
    }

    /// Forgets `entry` once the collector has it.
    pub fn remove(&self, entry: &SpoolEntry) -> io::Result<()> {
        let result = match fs::remove_file(&entry.path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        };
        self.forget(entry);
        result
    }

    /// Moves `entry` to `rejected/` for an operator to inspect: the collector refused it for
    /// good (or it cannot be read), so replaying it would only block the batches behind it.
    pub fn reject(&self, entry: &SpoolEntry) -> io::Result<PathBuf> {
        let dir = self.dir.join(REJECTED_DIR);
        fs::create_dir_all(&dir)?;
        let target = dir.join(entry.path.file_name().unwrap_or_default());
        let result = fs::rename(&entry.path, &target);
        self.forget(entry);
        result.map(|()| target)
    }

    /// Records and bytes waiting on disk.
    pub fn pending(&self) -> (u64, u64) {
        let state = self.lock();
        (state.records, state.bytes)
    }

    /// Records in batches numbered `from` or later, and the number after the newest of them.
    ///
    /// That number comes from the index, not from the next sequence number: a batch being
    /// written right now already has its number but is not indexed yet, and must still be
    /// counted by the next call.
    pub fn records_from(&self, from: u64) -> (u64, u64) {
        let state = self.lock();
        let records = state.entries.iter().filter(|e| e.seq >= from).map(|e| e.records).sum();
        let next = state.entries.back().map_or(from, |newest| (newest.seq + 1).max(from));
        (records, next)
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn forget(&self, entry: &SpoolEntry) {
        let mut state = self.lock();
        if let Some(pos) = state.entries.iter().position(|e| e.seq == entry.seq) {
            state.entries.remove(pos);
            state.bytes -= entry.bytes;
            state.records -= entry.records;
        }
    }

    fn write_durably(&self, path: &Path, payload: &[u8]) -> io::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(payload)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        // The rename is only durable once the directory entry is.
        File::open(&self.dir)?.sync_all()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters updated without panicking paths; a poisoned lock still
        // holds a consistent index.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn parse_entry(path: &Path) -> Option<SpoolEntry> {
    if path.extension()? != EXTENSION {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let (seq, records) = stem.split_once('-')?;
    let bytes = fs::metadata(path).ok()?.len();
    Some(SpoolEntry {
        seq: seq.parse().ok()?,
        records: records.parse().ok()?,
        bytes,
        path: path.to_owned(),
    })
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;
