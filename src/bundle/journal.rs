//! The staging journal: what a bag in progress already holds, durably.
//!
//! Every payload file added to a staged bag is appended to `sharc-journal.jsonl` in the
//! staging directory, after the file itself is synced, with its fixity and an opaque JSON key
//! the caller chooses (the URL a file came from, the item a record describes): the bag does
//! not read it, the caller gives it a type. A run that dies —
//! even by SIGKILL — leaves a journal whose every complete line names a complete file, so the
//! next run can keep those files and fetch only the rest. The journal never reaches the
//! finished bag.
//!
//! Files are claimed in batches ([`Journal::claim`], [`Journal::commit`]): the files of a
//! batch are synced together, then their lines are appended in one write and the journal is
//! synced once. Until then a file is in staging but not claimed, and a resumed run removes
//! it and fetches it again — so one sync of the journal serves many files, and the guarantee
//! stays: a line is written only after the file it names is on disk.
//!
//! Its first line is a header, also opaque JSON, saying which run the staged bag belongs to
//! (a crawl journals its site, list and mapping), so a run can refuse to resume another's.

use crate::fixity::Fixity;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The journal's file name inside the staging directory.
pub const JOURNAL_NAME: &str = "sharc-journal.jsonl";

/// One payload file recorded in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The payload path, relative to `data/`.
    pub path: String,
    /// Size and digests.
    #[serde(flatten)]
    pub fixity: Fixity,
    /// The caller's key; `null` when the caller gave none.
    #[serde(default)]
    pub key: serde_json::Value,
}

/// The journal's first line: whose staged bag this is.
#[derive(Debug, Serialize, Deserialize)]
struct HeaderLine {
    header: serde_json::Value,
}

/// What a journal holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JournalContents {
    /// The header, when the journal has one.
    pub header: Option<serde_json::Value>,
    /// Every complete entry, in order.
    pub entries: Vec<JournalEntry>,
}

/// Files claimed in one batch at most, before it is committed on its own.
const BATCH_FILES: usize = 512;

/// Bytes claimed in one batch at most, before it is committed on its own.
const BATCH_BYTES: u64 = 128 * 1024 * 1024;

/// Threads that sync the files of a batch: syncs issued together share the file system's
/// journal commits.
const SYNC_THREADS: usize = 8;

/// An open journal, appended to as files are added.
#[derive(Debug)]
pub struct Journal {
    file: File,
    /// Files claimed but not yet committed, with their lines.
    pending: Vec<(PathBuf, Vec<u8>)>,
    /// Their bytes.
    pending_bytes: u64,
}

/// A batch that could not be committed: which file, and what failed.
#[derive(Debug)]
pub struct CommitError {
    /// What was being done (`sync`, `write journal`).
    pub action: &'static str,
    /// The file it was done to.
    pub path: PathBuf,
    /// Why it failed.
    pub source: io::Error,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` for appending.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file,
            pending: Vec::new(),
            pending_bytes: 0,
        })
    }

    /// Replaces the journal at `path` with one of `header` and `entries`, in one step: the
    /// new journal is written beside it and renamed over it, so a run killed meanwhile
    /// leaves the old journal or the new one, never half of either. Open for appending.
    pub fn rewrite(
        path: &Path,
        header: &serde_json::Value,
        entries: &[JournalEntry],
    ) -> io::Result<Self> {
        let mut next = path.as_os_str().to_os_string();
        next.push(".new");
        let next = std::path::PathBuf::from(next);
        let mut text = line(&HeaderLine {
            header: header.clone(),
        })?;
        for e in entries {
            text.extend(line(e)?);
        }
        let mut file = File::create(&next)?;
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&next, path)?;
        Self::open(path)
    }

    /// Appends one entry and syncs it.
    pub fn append(&mut self, entry: &JournalEntry) -> io::Result<()> {
        self.file.write_all(&line(entry)?)?;
        self.file.sync_data()
    }

    /// Claims `file`, written completely, under `entry` in the current batch; its line is
    /// written when the batch is committed. Returns whether the batch is full and should be
    /// committed now.
    pub fn claim(&mut self, file: PathBuf, entry: &JournalEntry) -> io::Result<bool> {
        self.pending.push((file, line(entry)?));
        self.pending_bytes += entry.fixity.size;
        Ok(self.pending.len() >= BATCH_FILES || self.pending_bytes >= BATCH_BYTES)
    }

    /// Commits the batch: syncs every file claimed in it, then appends their lines in one
    /// write and syncs the journal. A file that is gone (replaced since, or moved away) is
    /// skipped: its line is written, and a resume checks it against the disk as always.
    pub fn commit(&mut self, journal_path: &Path) -> Result<(), CommitError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        sync_files(pending.iter().map(|(file, _)| file.as_path()).collect())?;
        let lines: Vec<u8> = pending.into_iter().flat_map(|(_, line)| line).collect();
        let failed = |source| CommitError {
            action: "write journal",
            path: journal_path.to_path_buf(),
            source,
        };
        self.file.write_all(&lines).map_err(failed)?;
        self.file.sync_data().map_err(failed)
    }
}

impl Drop for Journal {
    /// A run that stops (an error, Ctrl-C) keeps what its batch holds. A run killed outright
    /// loses only the batch, which the next run fetches again.
    fn drop(&mut self) {
        if let Err(e) = self.commit(Path::new(JOURNAL_NAME)) {
            tracing::warn!(
                "the last files added could not be journaled: {} {}: {}",
                e.action,
                e.path.display(),
                e.source
            );
        }
    }
}

/// Syncs `files` (or directories), several at a time.
pub(super) fn sync_files(files: Vec<&Path>) -> Result<(), CommitError> {
    let per_thread = files.len().div_ceil(SYNC_THREADS).max(16);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().try_for_each(|f| sync_file(f))))
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join().unwrap_or_else(|_| {
                Err(CommitError {
                    action: "sync",
                    path: PathBuf::new(),
                    source: io::Error::other("a sync thread panicked"),
                })
            })
        })
    })
}

/// Syncs one claimed file; one that is no longer there needs no sync.
fn sync_file(path: &Path) -> Result<(), CommitError> {
    match File::open(path).and_then(|f| f.sync_all()) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(CommitError {
            action: "sync",
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// `value` as one journal line.
fn line(value: &impl Serialize) -> io::Result<Vec<u8>> {
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    Ok(line)
}

/// Reads the header and every complete entry of the journal at `path`, in order. A torn
/// last line (a run killed while appending) is ignored.
pub fn read(path: &Path) -> io::Result<JournalContents> {
    let reader = BufReader::new(File::open(path)?);
    let mut contents = JournalContents::default();
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        if let Ok(entry) = serde_json::from_slice::<JournalEntry>(&line) {
            contents.entries.push(entry);
        } else if i == 0
            && let Ok(h) = serde_json::from_slice::<HeaderLine>(&line)
        {
            contents.header = Some(h.header);
        }
    }
    Ok(contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixity;

    #[test]
    fn entries_round_trip_and_a_torn_line_is_ignored() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(JOURNAL_NAME);
        let mut j = Journal::open(&path)?;
        let a = JournalEntry {
            path: "files/a.pdf".into(),
            fixity: fixity::of_bytes(b"a"),
            key: serde_json::json!({"file": "http://x/a.pdf"}),
        };
        let b = JournalEntry {
            path: "records/000001.json".into(),
            fixity: fixity::of_bytes(b"{}"),
            key: serde_json::Value::Null,
        };
        j.append(&a)?;
        j.append(&b)?;
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path)?;
        f.write_all(b"{\"path\":\"files/b.p")?;
        assert_eq!(
            read(&path)?,
            JournalContents {
                header: None,
                entries: vec![a.clone(), b.clone()]
            }
        );
        // A rewritten journal starts with its header, whatever was there.
        let header = serde_json::json!({"site": "http://127.0.0.1/"});
        let mut j = Journal::rewrite(&path, &header, std::slice::from_ref(&a))?;
        j.append(&b)?;
        assert_eq!(
            read(&path)?,
            JournalContents {
                header: Some(header),
                entries: vec![a, b]
            }
        );
        Ok(())
    }
}
