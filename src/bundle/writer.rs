//! Writing a bag: stage beside the output, then rename it into place.
//!
//! Payload files go into `<parent>/<name>.sharc-partial/data/` as they arrive. Only
//! [`BagWriter::finish`] writes the tag files, syncs everything and renames the staging
//! directory to the output path, so a directory at the output path is always a complete bag
//! and an interrupted run leaves nothing there. One run at a time owns the staging
//! directory ([`super::lock`]); what it finds there it walks without following links.

use super::info::{BagInfo, human_size};
use super::journal::{self, JOURNAL_NAME, Journal, JournalContents, JournalEntry};
use super::lock::{LOCK_NAME, StagingLock};
use super::manifest;
use super::names::PayloadPath;
use super::sort::ExternalSort;
use super::{BundleError, Result, io_err};
use crate::fixity::{self, Fixity};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The exact bytes of `bagit.txt`.
const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// Suffix of the staging directory's name, next to the output directory.
const STAGING_SUFFIX: &str = ".sharc-partial";

/// The directory in staging that downloads are written to before they join the payload.
const TEMP_DIR: &str = "tmp";

/// A directory in staging for what a run writes beside the bag before it joins the payload
/// (a capture of the HTTP exchanges, written from the first request on, before the run knows
/// whether it resumes): kept when the staging starts afresh, so a capture that began before
/// that decision survives it, and removed when the bag is finished, so nothing of it reaches
/// the bag that was not moved into the payload.
pub const RUN_DIR: &str = "run";

/// Builds one bag in a staging directory and moves it into place when finished.
///
/// The staging directory is `<parent>/<name>.sharc-partial/` for an output `<parent>/<name>`.
/// Dropping the writer without calling [`finish`](Self::finish) leaves it there, with a
/// journal of every file it holds: [`resume`](Self::resume) picks it up again, while
/// [`create`](Self::create) clears it (and logs a warning). While it exists it holds the
/// staging directory's lock ([`StagingLock`]): no other run can write there.
///
/// Its memory does not grow with the bag's files beyond a fingerprint of each path: the
/// journal on disk is the list of payload files, and the manifests are sorted from it when
/// the bag is finished, in bounded memory ([`ExternalSort`]).
#[derive(Debug)]
pub struct BagWriter {
    out: PathBuf,
    staging: PathBuf,
    clashes: ClashIndex,
    journal: Journal,
    /// Temporary files handed out so far.
    temps: u64,
    /// This run's hold on the staging directory.
    lock: StagingLock,
}

/// What fills a package's payload: a place to stream a download to, and a way to add it —
/// or a small file's bytes — with its fixity, journaled under the caller's key for a resume.
///
/// The bag writer is one; another package format (an OCFL object, say) can be another, and
/// whatever fetches files and writes records works with either.
pub trait PayloadSink {
    /// A fresh temporary file path for one download: in staging but outside the payload,
    /// returned by no other call, so no two downloads ever write the same file.
    fn temp_file(&mut self) -> Result<PathBuf>;

    /// Moves the file written at `from` (a [`temp_file`](Self::temp_file)) into the payload
    /// as `path`, with the fixity computed while writing it, journaled under `key` (`&()`
    /// for none).
    fn move_file_keyed(
        &mut self,
        path: &PayloadPath,
        from: &Path,
        fixity: Fixity,
        key: &impl Serialize,
    ) -> Result<()>;

    /// Writes `bytes` as payload file `path`, journaled under `key` (`&()` for none).
    fn add_bytes_keyed(
        &mut self,
        path: &PayloadPath,
        bytes: &[u8],
        key: &impl Serialize,
    ) -> Result<Fixity>;

    /// Makes everything added so far durable and journaled: files are added in batches, and
    /// a run killed before a batch is committed fetches that batch again.
    fn commit(&mut self) -> Result<()> {
        Ok(())
    }
}

impl PayloadSink for BagWriter {
    fn temp_file(&mut self) -> Result<PathBuf> {
        BagWriter::temp_file(self)
    }

    fn move_file_keyed(
        &mut self,
        path: &PayloadPath,
        from: &Path,
        fixity: Fixity,
        key: &impl Serialize,
    ) -> Result<()> {
        BagWriter::move_file_keyed(self, path, from, fixity, key)
    }

    fn add_bytes_keyed(
        &mut self,
        path: &PayloadPath,
        bytes: &[u8],
        key: &impl Serialize,
    ) -> Result<Fixity> {
        BagWriter::add_bytes_keyed(self, path, bytes, key)
    }

    fn commit(&mut self) -> Result<()> {
        BagWriter::commit(self)
    }
}

/// A bag that is complete and in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedBag {
    /// The bag's base directory (the requested output).
    pub path: PathBuf,
    /// Payload-Oxum: total payload bytes and number of payload files.
    pub payload_oxum: (u64, u64),
    /// Bag-Size as written in `bag-info.txt`, such as `7.7 KB`.
    pub bag_size: String,
}

/// The staging directory of one output, locked for this run: what an earlier run left there
/// is known ([`header`](Self::header)) but not touched until the run decides to start
/// afresh ([`fresh`](Self::fresh)) or continue it ([`resume`](Self::resume)).
///
/// Dropped unused, it lets the lock go, and removes the directory if locking created it.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    /// Held until the staging is opened for writing (or dropped).
    lock: Option<StagingLock>,
    /// Whether the directory was made by this run's locking.
    created: bool,
    /// The journal an earlier run left, if it left one.
    journal: Option<JournalContents>,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take()
            && self.created
        {
            lock.release();
            // Only an empty directory is removed: nothing of anyone's can go.
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

impl Staging {
    /// The staging directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The header the earlier run journaled: whose bag this is.
    pub fn header(&self) -> Option<&serde_json::Value> {
        self.journal.as_ref()?.header.as_ref()
    }

    /// Whether the earlier run journaled any file.
    pub fn has_files(&self) -> bool {
        self.journal.as_ref().is_some_and(|j| !j.entries.is_empty())
    }

    /// Starts the bag afresh: whatever an earlier run left is removed (with a warning), and
    /// the journal starts with `header`.
    pub fn fresh(self, header: &serde_json::Value) -> Result<BagWriter> {
        clear_except_lock(&self.dir)?;
        BagWriter::open(self, header, ClashIndex::default(), &[])
    }

    /// Continues the bag an earlier run left, keeping every journaled file whose bytes still
    /// match its recorded fixity and removing everything else (partial downloads, files
    /// written after the last journal line); the journal is rewritten with `header` and what
    /// was kept. Returns the kept entries, last entry per path, in journal order; an empty
    /// list when there was nothing to resume. Symbolic links are never followed: one at
    /// `data/` is refused, one below it is removed (the link, not what it points to).
    pub fn resume(mut self, header: &serde_json::Value) -> Result<(BagWriter, Vec<JournalEntry>)> {
        let Some(contents) = self.journal.take() else {
            return Ok((self.fresh(header)?, Vec::new()));
        };
        let data = self.dir.join("data");
        real_dir(&data)?;
        let mut last: BTreeMap<String, JournalEntry> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for e in contents.entries {
            if !last.contains_key(&e.path) {
                order.push(e.path.clone());
            }
            last.insert(e.path.clone(), e);
        }
        let (mut clashes, mut kept) = (ClashIndex::default(), Vec::new());
        for path in order {
            let Some(entry) = last.remove(&path) else {
                continue;
            };
            let Ok(p) = PayloadPath::new(&entry.path) else {
                continue;
            };
            let intact = plain_file(&data, &p)
                .and_then(|f| File::open(f).ok())
                .and_then(|f| fixity::of_reader(f).ok())
                .is_some_and(|actual| actual == entry.fixity);
            if intact && clashes.check(&data, &p).is_ok() {
                clashes.insert(&p);
                kept.push(entry);
            }
        }
        remove_unjournaled(&data, &clashes)?;
        let writer = BagWriter::open(self, header, clashes, &kept)?;
        Ok((writer, kept))
    }
}

impl BagWriter {
    /// Locks the staging directory of a bag that will appear at `out`, for this run: see
    /// [`Staging`]. Fails if `out` exists, if another run holds the lock
    /// ([`BundleError::Locked`]), or if the staging directory is a symbolic link.
    pub fn lock(out: &Path) -> Result<Staging> {
        if fs::symlink_metadata(out).is_ok() {
            return Err(BundleError::OutputExists {
                path: out.to_path_buf(),
            });
        }
        let dir = staging_path(out)?;
        let created = fs::symlink_metadata(&dir).is_err();
        let lock = Some(StagingLock::acquire(&dir)?);
        let journal_path = dir.join(JOURNAL_NAME);
        let journal = match fs::symlink_metadata(&journal_path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(BundleError::StagingSymlink { path: journal_path });
            }
            Ok(_) => {
                Some(journal::read(&journal_path).map_err(io_err("read journal", &journal_path))?)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err("inspect", &journal_path)(e)),
        };
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            lock,
            created,
            journal,
        })
    }

    /// Starts a bag that will appear at `out` when finished.
    ///
    /// Fails if `out` exists or another run is writing it. A stale `<name>.sharc-partial`
    /// directory from a run that did not finish is cleared first.
    pub fn create(out: &Path) -> Result<Self> {
        Self::lock(out)?.fresh(&serde_json::Value::Null)
    }

    /// Continues the bag an earlier run left in staging ([`Staging::resume`]), whoever's it
    /// is; a crawl checks [`Staging::header`] first.
    ///
    /// Fails if `out` exists or another run is writing it, like [`create`](Self::create).
    pub fn resume(out: &Path) -> Result<(Self, Vec<JournalEntry>)> {
        Self::lock(out)?.resume(&serde_json::Value::Null)
    }

    /// The writer for `staging`, holding the `kept` files (`clashes` knows their paths)
    /// already: a fresh `data/` and `tmp/`, and a journal of `header` and `kept`.
    fn open(
        mut staging: Staging,
        header: &serde_json::Value,
        clashes: ClashIndex,
        kept: &[JournalEntry],
    ) -> Result<Self> {
        let (out, dir) = (staging.out.clone(), staging.dir.clone());
        let lock = staging.lock.take().ok_or_else(|| BundleError::Io {
            action: "lock",
            path: dir.clone(),
            source: io::Error::other("the staging directory is no longer locked"),
        })?;
        remove_entry(&dir.join(TEMP_DIR))?;
        let data = dir.join("data");
        fs::create_dir_all(&data).map_err(io_err("create directory", &data))?;
        let journal_path = dir.join(JOURNAL_NAME);
        let journal = Journal::rewrite(&journal_path, header, kept)
            .map_err(io_err("write journal", &journal_path))?;
        Ok(Self {
            out,
            staging: dir,
            clashes,
            journal,
            temps: 0,
            lock,
        })
    }

    /// Every payload file added so far with its fixity, in manifest order (a file added
    /// twice as it was added last), read back from the journal and sorted in bounded memory.
    pub fn payload(&mut self) -> Result<impl Iterator<Item = Result<(PayloadPath, Fixity)>>> {
        self.commit()?;
        let journal_path = self.staging.join(JOURNAL_NAME);
        let sorted = sorted_payload(&journal_path, &self.staging.join(TEMP_DIR))
            .map_err(io_err("sort the payload list", &journal_path))?;
        Ok(sorted.map(move |r| r.map_err(io_err("sort the payload list", &journal_path))))
    }

    /// The staging directory the bag is built in.
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }

    /// Where the file for `path` goes in staging; its parent directories are created.
    ///
    /// Callers that stream a download write it here while hashing, then call
    /// [`add_file`](Self::add_file).
    pub fn data_path(&self, path: &PayloadPath) -> Result<PathBuf> {
        let mut file = self.staging.join("data");
        file.extend(path.segments());
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        Ok(file)
    }

    /// Writes `bytes` as payload file `path` and returns its fixity.
    pub fn add_bytes(&mut self, path: &PayloadPath, bytes: &[u8]) -> Result<Fixity> {
        self.add_bytes_keyed(path, bytes, &())
    }

    /// [`add_bytes`](Self::add_bytes), journaled under `key` for a later
    /// [`resume`](Self::resume). Adding a path again replaces it.
    pub fn add_bytes_keyed(
        &mut self,
        path: &PayloadPath,
        bytes: &[u8],
        key: &impl Serialize,
    ) -> Result<Fixity> {
        self.check_new(path)?;
        let file = self.data_path(path)?;
        File::create(&file)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(io_err("write", &file))?;
        let fixity = fixity::of_bytes(bytes);
        self.record(path, file, fixity.clone(), key)?;
        Ok(fixity)
    }

    /// Registers a payload file the caller already wrote to [`data_path`](Self::data_path),
    /// with the fixity computed while writing it. The file is synced to disk with its batch
    /// ([`commit`](Self::commit)).
    pub fn add_file(&mut self, path: &PayloadPath, fixity: Fixity) -> Result<()> {
        self.add_file_keyed(path, fixity, &())
    }

    /// A fresh temporary file path for one download, in `tmp/` inside staging: outside the
    /// payload, never handed out twice, cleared when a run starts or resumes.
    pub fn temp_file(&mut self) -> Result<PathBuf> {
        let dir = self.staging.join(TEMP_DIR);
        fs::create_dir_all(&dir).map_err(io_err("create directory", &dir))?;
        self.temps += 1;
        Ok(dir.join(format!("{}.download", self.temps)))
    }

    /// Moves `from`, a file written to a [`temp_file`](Self::temp_file), into the payload as
    /// `path` and adds it as [`add_file_keyed`](Self::add_file_keyed) does.
    pub fn move_file_keyed(
        &mut self,
        path: &PayloadPath,
        from: &Path,
        fixity: Fixity,
        key: &impl Serialize,
    ) -> Result<()> {
        self.check_new(path)?;
        let file = self.data_path(path)?;
        fs::rename(from, &file).map_err(io_err("move a download to", &file))?;
        self.add_file_keyed(path, fixity, key)
    }

    /// [`add_file`](Self::add_file), journaled under `key` for a later
    /// [`resume`](Self::resume). Adding a path again replaces it.
    pub fn add_file_keyed(
        &mut self,
        path: &PayloadPath,
        fixity: Fixity,
        key: &impl Serialize,
    ) -> Result<()> {
        self.check_new(path)?;
        let file = self.data_path(path)?;
        let actual = fs::metadata(&file)
            .map_err(io_err("inspect staged file", &file))?
            .len();
        if actual != fixity.size {
            return Err(BundleError::StagedSizeMismatch {
                path: file,
                expected: fixity.size,
                actual,
            });
        }
        self.record(path, file, fixity, key)
    }

    /// Clash check, skipped when the path itself is being replaced.
    fn check_new(&self, path: &PayloadPath) -> Result<()> {
        if self.clashes.contains(path) {
            return Ok(());
        }
        self.clashes.check(&self.staging.join("data"), path)
    }

    /// Registers a file (written at `file`) and claims it in the journal's batch, committing
    /// the batch when it is full; `key` is kept as JSON (`()` journals `null`).
    fn record(
        &mut self,
        path: &PayloadPath,
        file: PathBuf,
        fixity: Fixity,
        key: &impl Serialize,
    ) -> Result<()> {
        let entry = JournalEntry {
            path: path.as_str().to_string(),
            fixity,
            key: serde_json::to_value(key).unwrap_or_default(),
        };
        self.register(path);
        let journal_path = self.staging.join(JOURNAL_NAME);
        let full = self
            .journal
            .claim(file, &entry)
            .map_err(io_err("write journal", &journal_path))?;
        if full {
            self.commit()?;
        }
        Ok(())
    }

    /// Syncs the files added since the last commit and journals them, with one sync of the
    /// journal: until then a run killed outright fetches them again.
    pub fn commit(&mut self) -> Result<()> {
        let journal_path = self.staging.join(JOURNAL_NAME);
        self.journal
            .commit(&journal_path)
            .map_err(|e| BundleError::Io {
                action: e.action,
                path: e.path,
                source: e.source,
            })
    }

    /// Whether payload file `path` has been added.
    pub fn contains(&self, path: &PayloadPath) -> bool {
        self.clashes.contains(path)
    }

    /// Writes the tag files, syncs the bag, renames it to the output path and lets the lock
    /// go.
    pub fn finish(self, info: BagInfo) -> Result<FinishedBag> {
        let (finished, lock) = self.finish_locked(info)?;
        lock.release();
        Ok(finished)
    }

    /// [`finish`](Self::finish), still holding the lock: its file, `sharc.lock`, is in the
    /// finished bag until [`StagingLock::release`]. A run that has more to do with the bag
    /// (zip it) keeps another run from taking it away meanwhile.
    pub fn finish_locked(mut self, info: BagInfo) -> Result<(FinishedBag, StagingLock)> {
        info.validate()?;
        self.commit()?;
        remove_entry(&self.staging.join(RUN_DIR))?;
        // The journal lists the payload: it goes only once the manifests are written.
        let payload = self.write_payload_manifests()?;
        remove_entry(&self.staging.join(TEMP_DIR))?;
        let journal_path = self.staging.join(JOURNAL_NAME);
        fs::remove_file(&journal_path).map_err(io_err("remove journal", &journal_path))?;
        let oxum = payload.oxum;
        let mut tag_files: Vec<(String, Vec<u8>)> = vec![
            ("bagit.txt".into(), BAGIT_TXT.into()),
            ("bag-info.txt".into(), info.render(oxum).into_bytes()),
        ];
        tag_files.extend(info.tag_files);
        for (name, bytes) in &tag_files {
            self.write_tag_file(name, bytes)?;
        }
        let mut fixities: BTreeMap<String, Fixity> = tag_files
            .iter()
            .map(|(name, bytes)| (name.clone(), fixity::of_bytes(bytes)))
            .collect();
        fixities.extend(payload.manifests);
        self.write_tag_manifests(&fixities)?;
        self.sync_tag_dirs(tag_files.iter().map(|(name, _)| name.as_str()))?;
        self.move_into_place()?;
        let mut lock = self.lock;
        lock.moved_to(&self.out);
        let finished = FinishedBag {
            path: self.out,
            payload_oxum: oxum,
            bag_size: human_size(oxum.0),
        };
        Ok((finished, lock))
    }

    /// Records an added payload file.
    fn register(&mut self, path: &PayloadPath) {
        self.clashes.insert(path);
    }

    /// Writes both payload manifests from the journal, sorted by path, and syncs every
    /// directory that holds a payload file; returns the Payload-Oxum and each manifest's
    /// fixity.
    fn write_payload_manifests(&mut self) -> Result<PayloadManifests> {
        let journal_path = self.staging.join(JOURNAL_NAME);
        let sorted = sorted_payload(&journal_path, &self.staging.join(TEMP_DIR))
            .map_err(io_err("sort the payload list", &journal_path))?;
        let mut sha256 = ManifestFile::create(&self.staging, "manifest-sha256.txt")?;
        let mut sha512 = ManifestFile::create(&self.staging, "manifest-sha512.txt")?;
        let mut dirs = DirSyncer::new(&self.staging);
        let (mut bytes, mut files) = (0u64, 0u64);
        for entry in sorted {
            let (path, fixity) = entry.map_err(io_err("sort the payload list", &journal_path))?;
            let listed = path.manifest_path();
            sha256.line(&fixity.sha256, &listed)?;
            sha512.line(&fixity.sha512, &listed)?;
            dirs.file(&listed)?;
            bytes += fixity.size;
            files += 1;
        }
        dirs.finish()?;
        Ok(PayloadManifests {
            oxum: (bytes, files),
            manifests: vec![sha256.finish()?, sha512.finish()?],
        })
    }

    /// Writes both tag manifests over the tag files' `fixities`, sorted by name.
    fn write_tag_manifests(&self, fixities: &BTreeMap<String, Fixity>) -> Result<()> {
        let sha256 = manifest::render(
            fixities
                .iter()
                .map(|(n, f)| (f.sha256.as_str(), n.as_str())),
        );
        let sha512 = manifest::render(
            fixities
                .iter()
                .map(|(n, f)| (f.sha512.as_str(), n.as_str())),
        );
        self.write_tag_file("tagmanifest-sha256.txt", sha256.as_bytes())?;
        self.write_tag_file("tagmanifest-sha512.txt", sha512.as_bytes())
    }

    /// Writes one tag file (name relative to the bag root) and syncs it.
    fn write_tag_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut file = self.staging.clone();
        file.extend(name.split('/'));
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        write_synced(&file, bytes).map_err(io_err("write", &file))
    }

    /// Syncs the bag's root, `data/`, and every directory that holds a tag file (those that
    /// hold payload files are synced as the manifests are written).
    fn sync_tag_dirs<'a>(&self, tag_files: impl Iterator<Item = &'a str>) -> Result<()> {
        let mut dirs = DirSyncer::new(&self.staging);
        dirs.dir("")?;
        dirs.dir("data")?;
        for name in tag_files {
            dirs.file(name)?;
        }
        dirs.finish()
    }

    /// Renames the staging directory to the output path and syncs the parent directory.
    fn move_into_place(&self) -> Result<()> {
        if fs::symlink_metadata(&self.out).is_ok() {
            return Err(BundleError::OutputExists {
                path: self.out.clone(),
            });
        }
        fs::rename(&self.staging, &self.out).map_err(io_err("rename staging to", &self.out))?;
        let parent = parent_dir(&self.out);
        sync_dir(parent).map_err(io_err("sync directory", parent))
    }
}

/// `<parent>/<name>.sharc-partial` for an output `<parent>/<name>`: where an unfinished bag
/// is staged.
pub fn staging_path(out: &Path) -> Result<PathBuf> {
    let name = out.file_name().ok_or_else(|| BundleError::BadOutputPath {
        path: out.to_path_buf(),
    })?;
    let mut staged = name.to_os_string();
    staged.push(STAGING_SUFFIX);
    Ok(out.with_file_name(staged))
}

/// Empties a staging directory of everything but its lock (with a warning when an earlier
/// run left something), links removed rather than followed.
fn clear_except_lock(dir: &Path) -> Result<()> {
    let mut warned = false;
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        if entry.file_name() == LOCK_NAME || entry.file_name() == RUN_DIR {
            continue;
        }
        if !warned {
            tracing::warn!(
                path = %dir.display(),
                "removing an unfinished bag left by an earlier run"
            );
            warned = true;
        }
        remove_entry(&entry.path())?;
    }
    Ok(())
}

/// Fails unless `path` is a directory itself (not a link to one); creates it when missing.
fn real_dir(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(BundleError::StagingSymlink {
            path: path.to_path_buf(),
        }),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(BundleError::StagingNotDir {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(path).map_err(io_err("create directory", path))
        }
        Err(e) => Err(io_err("inspect", path)(e)),
    }
}

/// The file `path` names below `data`, when every directory on the way is a directory and
/// the file a regular file: no link anywhere on the way.
fn plain_file(data: &Path, path: &PayloadPath) -> Option<PathBuf> {
    let mut file = data.to_path_buf();
    let mut segments = path.segments().peekable();
    while let Some(segment) = segments.next() {
        file.push(segment);
        let meta = fs::symlink_metadata(&file).ok()?;
        let fits = if segments.peek().is_some() {
            meta.is_dir()
        } else {
            meta.is_file()
        };
        if !fits {
            return None;
        }
    }
    Some(file)
}

/// Deletes everything under `data` that `payload` does not hold, walking the tree without
/// following links (a link is removed itself).
fn remove_unjournaled(data: &Path, payload: &ClashIndex) -> Result<()> {
    let mut stack = vec![data.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(io_err("list", &dir))?;
        for entry in entries {
            let entry = entry.map_err(io_err("list", &dir))?;
            let path = entry.path();
            if entry
                .file_type()
                .map_err(io_err("inspect", &path))?
                .is_dir()
            {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(data)
                .ok()
                .and_then(|r| r.to_str())
                .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"));
            let known = rel
                .and_then(|r| PayloadPath::new(&r).ok())
                .is_some_and(|p| payload.contains(&p));
            if !known {
                fs::remove_file(&path).map_err(io_err("remove unfinished file", &path))?;
            }
        }
    }
    Ok(())
}

/// Removes whatever is at `path` — a directory tree, a file, a symbolic link (never what it
/// points to) — if anything is.
fn remove_entry(path: &Path) -> Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    removed.map_err(io_err("remove", path))
}

/// The directory containing `path`, `.` for a bare name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates or truncates `path`, writes `bytes` and syncs the file.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Syncs a directory's entries, where the platform allows it.
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(path)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// What writing the payload manifests found: the Payload-Oxum, and each manifest's name and
/// fixity for the tag manifests.
struct PayloadManifests {
    oxum: (u64, u64),
    manifests: Vec<(String, Fixity)>,
}

/// A manifest written line by line, hashed as it is written.
struct ManifestFile {
    name: String,
    path: PathBuf,
    out: BufWriter<File>,
    hasher: fixity::FixityHasher,
}

impl ManifestFile {
    fn create(staging: &Path, name: &str) -> Result<Self> {
        let path = staging.join(name);
        let file = File::create(&path).map_err(io_err("write", &path))?;
        Ok(Self {
            name: name.to_string(),
            out: BufWriter::new(file),
            path,
            hasher: fixity::FixityHasher::new(),
        })
    }

    fn line(&mut self, digest: &str, listed: &str) -> Result<()> {
        let line = manifest::render([(digest, listed)]);
        self.hasher.update(line.as_bytes());
        self.out
            .write_all(line.as_bytes())
            .map_err(io_err("write", &self.path))
    }

    /// Flushes and syncs the file; its name and fixity.
    fn finish(self) -> Result<(String, Fixity)> {
        let path = self.path;
        let file = self
            .out
            .into_inner()
            .map_err(|e| io_err("write", &path)(e.into_error()))?;
        file.sync_all().map_err(io_err("write", &path))?;
        Ok((self.name, self.hasher.finish()))
    }
}

/// Directories of the staged bag to sync, met in sorted order (so each once), synced in
/// batches several at a time.
struct DirSyncer {
    staging: PathBuf,
    /// The directories of the last file met, outermost first.
    last: Vec<String>,
    batch: Vec<PathBuf>,
}

/// Directories synced together.
const DIR_BATCH: usize = 256;

impl DirSyncer {
    fn new(staging: &Path) -> Self {
        Self {
            staging: staging.to_path_buf(),
            last: Vec::new(),
            batch: Vec::new(),
        }
    }

    /// Notes the directories of `file` (relative to the bag root, `/`-separated) that the
    /// file met before it did not share.
    fn file(&mut self, file: &str) -> Result<()> {
        let dirs: Vec<&str> = file.match_indices('/').map(|(at, _)| &file[..at]).collect();
        let shared = dirs
            .iter()
            .zip(&self.last)
            .take_while(|(a, b)| **a == b.as_str())
            .count();
        for dir in &dirs[shared..] {
            self.dir(dir)?;
        }
        self.last = dirs.iter().map(|d| d.to_string()).collect();
        Ok(())
    }

    /// Notes one directory (relative to the bag root; `""` for the root).
    fn dir(&mut self, dir: &str) -> Result<()> {
        let mut path = self.staging.clone();
        path.extend(dir.split('/').filter(|s| !s.is_empty()));
        self.batch.push(path);
        if self.batch.len() >= DIR_BATCH {
            self.sync()?;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.batch);
        if cfg!(unix) {
            journal::sync_files(batch.iter().map(PathBuf::as_path).collect()).map_err(|e| {
                BundleError::Io {
                    action: "sync directory",
                    path: e.path,
                    source: e.source,
                }
            })?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.sync()
    }
}

/// Every payload file the journal at `journal` lists, sorted by path, the last entry of each
/// path only; run files of the sort go to `tmp`.
fn sorted_payload(
    journal: &Path,
    tmp: &Path,
) -> io::Result<impl Iterator<Item = io::Result<(PayloadPath, Fixity)>> + use<>> {
    let mut sort = ExternalSort::new(tmp, "payload");
    let reader = BufReader::new(File::open(journal)?);
    for (seq, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        // The header, or a torn line: not an entry.
        let Ok(entry) = serde_json::from_slice::<JournalEntry>(&line) else {
            continue;
        };
        if PayloadPath::new(&entry.path).is_err() {
            continue;
        }
        sort.push(sort_record(&entry.path, seq as u64, &entry.fixity))?;
    }
    Ok(LastPerPath {
        sorted: sort.finish()?,
        held: None,
    })
}

/// A payload file as a sort record: the path, a NUL (which no path holds, so a path sorts
/// before any longer one it begins), the journal line's number (so the last entry of a path
/// sorts last), then the fixity.
fn sort_record(path: &str, seq: u64, fixity: &Fixity) -> Vec<u8> {
    let mut r = Vec::with_capacity(path.len() + 17 + fixity.sha256.len() + fixity.sha512.len() + 1);
    r.extend_from_slice(path.as_bytes());
    r.push(0);
    r.extend_from_slice(&seq.to_be_bytes());
    r.extend_from_slice(&fixity.size.to_be_bytes());
    r.extend_from_slice(fixity.sha256.as_bytes());
    r.push(b' ');
    r.extend_from_slice(fixity.sha512.as_bytes());
    r
}

/// A [`sort_record`] read back.
fn from_sort_record(r: &[u8]) -> io::Result<(PayloadPath, Fixity)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "a damaged payload sort record");
    let nul = r.iter().position(|&b| b == 0).ok_or_else(bad)?;
    let path = std::str::from_utf8(&r[..nul]).map_err(|_| bad())?;
    let path = PayloadPath::new(path).map_err(|_| bad())?;
    let rest = r.get(nul + 9..).ok_or_else(bad)?;
    let size = rest.get(..8).ok_or_else(bad)?;
    let size = u64::from_be_bytes(size.try_into().map_err(|_| bad())?);
    let digests = std::str::from_utf8(&rest[8..]).map_err(|_| bad())?;
    let (sha256, sha512) = digests.split_once(' ').ok_or_else(bad)?;
    let fixity = Fixity {
        size,
        sha256: sha256.to_string(),
        sha512: sha512.to_string(),
    };
    Ok((path, fixity))
}

/// The path of a [`sort_record`].
fn record_path(r: &[u8]) -> &[u8] {
    let nul = r.iter().position(|&b| b == 0).unwrap_or(r.len());
    &r[..nul]
}

/// Sorted payload records, the last of each path only.
struct LastPerPath {
    sorted: super::sort::Sorted,
    held: Option<Vec<u8>>,
}

impl Iterator for LastPerPath {
    type Item = io::Result<(PayloadPath, Fixity)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let next = match self.sorted.next().transpose() {
                Ok(next) => next,
                Err(e) => return Some(Err(e)),
            };
            match (self.held.take(), next) {
                (None, None) => return None,
                (None, Some(n)) => self.held = Some(n),
                (Some(h), None) => return Some(from_sort_record(&h)),
                (Some(h), Some(n)) if record_path(&h) == record_path(&n) => self.held = Some(n),
                (Some(h), Some(n)) => {
                    self.held = Some(n);
                    return Some(from_sort_record(&h));
                }
            }
        }
    }
}

/// Payload paths and directories seen so far, to refuse names that collide on
/// case-insensitive file systems or put a file where a directory is.
///
/// It keeps fingerprints, not names, so its memory stays small however many files the bag
/// holds: a fingerprint of each lowercase path with one of the path itself. A lowercase
/// fingerprint met again is a clash only if the staged directory shows one ([`on_disk_clash`]),
/// so two names whose fingerprints happen to agree are not refused.
#[derive(Debug, Default)]
struct ClashIndex {
    /// Keys chosen at random for this run: names from the portal cannot be made to collide.
    hasher: std::hash::RandomState,
    /// Files: fingerprint of the lowercase path → fingerprint of the path.
    files: HashMap<u64, u64>,
    /// Directories, the same way.
    dirs: HashMap<u64, u64>,
}

impl ClashIndex {
    fn fingerprint(&self, text: &str) -> u64 {
        let mut h = std::hash::BuildHasher::build_hasher(&self.hasher);
        text.hash(&mut h);
        h.finish()
    }

    /// Whether `path` itself was added.
    fn contains(&self, path: &PayloadPath) -> bool {
        let actual = path.as_str();
        let lower = self.fingerprint(&actual.to_ascii_lowercase());
        self.files.get(&lower) == Some(&self.fingerprint(actual))
    }

    /// Fails if `path` cannot be added next to what is already there, as the staged `data`
    /// directory shows it.
    fn check(&self, data: &Path, path: &PayloadPath) -> Result<()> {
        if !self.may_clash(path) {
            return Ok(());
        }
        match on_disk_clash(data, path) {
            Some(existing) => Err(BundleError::PayloadClash {
                path: path.as_str().to_string(),
                existing,
            }),
            None => Ok(()),
        }
    }

    /// Whether the fingerprints say `path` may clash with a file or directory added.
    fn may_clash(&self, path: &PayloadPath) -> bool {
        let actual = path.as_str();
        let lower = actual.to_ascii_lowercase();
        let whole = self.fingerprint(&lower);
        if self.files.contains_key(&whole) || self.dirs.contains_key(&whole) {
            return true;
        }
        actual.match_indices('/').any(|(at, _)| {
            let dir_lower = self.fingerprint(&lower[..at]);
            self.files.contains_key(&dir_lower)
                || self
                    .dirs
                    .get(&dir_lower)
                    .is_some_and(|&d| d != self.fingerprint(&actual[..at]))
        })
    }

    /// Records `path` and its directories.
    fn insert(&mut self, path: &PayloadPath) {
        let actual = path.as_str();
        let lower = actual.to_ascii_lowercase();
        for (at, _) in actual.match_indices('/') {
            let dir = self.fingerprint(&actual[..at]);
            let dir_lower = self.fingerprint(&lower[..at]);
            self.dirs.entry(dir_lower).or_insert(dir);
        }
        let (whole, actual) = (self.fingerprint(&lower), self.fingerprint(actual));
        self.files.insert(whole, actual);
    }
}

/// The file or directory in the staged `data` directory that `path` would clash with: a
/// name that differs from one of its segments only by case, a file where it needs a
/// directory, or a directory where its file would be. Links are not followed.
fn on_disk_clash(data: &Path, path: &PayloadPath) -> Option<String> {
    let segments: Vec<&str> = path.segments().collect();
    let mut dir = data.to_path_buf();
    let mut existing = String::new();
    for (i, segment) in segments.iter().enumerate() {
        let lower = segment.to_ascii_lowercase();
        let (mut same, mut other) = (None, None);
        for entry in fs::read_dir(&dir).ok()?.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name == *segment {
                same = entry.file_type().ok();
            } else if name.to_ascii_lowercase() == lower {
                other = Some(name.to_string());
            }
        }
        if !existing.is_empty() {
            existing.push('/');
        }
        if let Some(other) = other {
            existing.push_str(&other);
            return Some(existing);
        }
        existing.push_str(segment);
        let is_dir = same?.is_dir();
        let last = i + 1 == segments.len();
        if is_dir == last {
            return Some(existing);
        }
        dir.push(segment);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn p(path: &str) -> Result<PayloadPath> {
        PayloadPath::new(path)
    }

    fn read(path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }

    #[test]
    fn writes_a_complete_bag_and_removes_staging() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        assert_eq!(writer.staging_dir(), dir.path().join("bag.sharc-partial"));
        writer.add_bytes(&p("b/two.txt")?, b"two")?;
        let abc = writer.add_bytes(&p("a.txt")?, b"abc")?;
        assert_eq!(abc, fixity::of_bytes(b"abc"));
        assert!(writer.contains(&p("a.txt")?));
        assert!(!out.exists());
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.path, out);
        assert_eq!(finished.payload_oxum, (6, 2));
        assert!(!dir.path().join("bag.sharc-partial").exists());
        assert_eq!(read(&out.join("bagit.txt"))?, BAGIT_TXT);
        let sha256 = read(&out.join("manifest-sha256.txt"))?;
        let two = fixity::of_bytes(b"two");
        assert_eq!(
            sha256,
            format!(
                "{}  data/a.txt\n{}  data/b/two.txt\n",
                abc.sha256, two.sha256
            )
        );
        let tags = read(&out.join("tagmanifest-sha512.txt"))?;
        let names: Vec<&str> = tags.lines().filter_map(|l| l.split("  ").nth(1)).collect();
        assert_eq!(
            names,
            [
                "bag-info.txt",
                "bagit.txt",
                "manifest-sha256.txt",
                "manifest-sha512.txt"
            ]
        );
        Ok(())
    }

    #[test]
    fn streamed_files_are_registered_with_their_fixity() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        let path = p("files/report.pdf")?;
        fs::write(writer.data_path(&path)?, b"%PDF-1.7")?;
        writer.add_file(&path, fixity::of_bytes(b"%PDF-1.7"))?;
        let other = p("files/short.pdf")?;
        fs::write(writer.data_path(&other)?, b"abc")?;
        let wrong = writer.add_file(&other, fixity::of_bytes(b"abcd"));
        assert!(matches!(wrong, Err(BundleError::StagedSizeMismatch { .. })));
        let missing = writer.add_file(&p("files/none.pdf")?, fixity::of_bytes(b""));
        assert!(matches!(missing, Err(BundleError::Io { .. })));
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (8, 1));
        Ok(())
    }

    #[test]
    fn each_download_gets_its_own_temporary_file_outside_the_payload() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        let (a, b) = (writer.temp_file()?, writer.temp_file()?);
        assert_ne!(a, b);
        for t in [&a, &b] {
            assert!(
                !t.starts_with(writer.staging_dir().join("data")),
                "{}",
                t.display()
            );
        }
        fs::write(&a, b"%PDF")?;
        writer.move_file_keyed(&p("files/a.pdf")?, &a, fixity::of_bytes(b"%PDF"), &())?;
        assert!(!a.exists());
        fs::write(&b, b"never added")?;
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (4, 1));
        assert!(
            !out.join(TEMP_DIR).exists(),
            "no temporary file reaches the bag"
        );
        Ok(())
    }

    #[test]
    fn refuses_an_existing_output() -> TestResult {
        let dir = tempfile::tempdir()?;
        let result = BagWriter::create(dir.path());
        assert!(matches!(result, Err(BundleError::OutputExists { .. })));
        let message = result.map(|_| ()).err().map(|e| e.to_string());
        assert!(message.unwrap_or_default().contains("--out"));
        Ok(())
    }

    #[test]
    fn clears_a_stale_staging_directory() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let stale = dir.path().join("bag.sharc-partial/data/old.txt");
        fs::create_dir_all(stale.parent().ok_or("no parent")?)?;
        fs::write(&stale, b"old")?;
        let writer = BagWriter::create(&out)?;
        assert!(!stale.exists());
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (0, 0));
        assert!(out.join("data").is_dir());
        Ok(())
    }

    #[test]
    fn refuses_a_staging_path_that_is_a_file() -> TestResult {
        let dir = tempfile::tempdir()?;
        fs::write(dir.path().join("bag.sharc-partial"), b"")?;
        let result = BagWriter::create(&dir.path().join("bag"));
        assert!(matches!(result, Err(BundleError::StagingNotDir { .. })));
        Ok(())
    }

    #[test]
    fn refuses_outputs_without_a_name() -> TestResult {
        let dir = tempfile::tempdir()?;
        let result = BagWriter::create(&dir.path().join("missing/.."));
        assert!(matches!(result, Err(BundleError::BadOutputPath { .. })));
        Ok(())
    }

    #[test]
    fn refuses_case_clashes_and_file_directory_clashes() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut writer = BagWriter::create(&dir.path().join("bag"))?;
        writer.add_bytes(&p("Docs/a.txt")?, b"a")?;
        for clash in ["docs/A.TXT", "docs/b.txt", "Docs/a.txt/x", "Docs"] {
            let result = writer.add_bytes(&p(clash)?, b"x");
            assert!(
                matches!(result, Err(BundleError::PayloadClash { .. })),
                "{clash}: {result:?}"
            );
        }
        writer.add_bytes(&p("Docs/b.txt")?, b"b")?;
        // The same path again replaces the file (a retried record).
        let again = writer.add_bytes(&p("Docs/a.txt")?, b"a2")?;
        assert_eq!(again.size, 2);
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (3, 2));
        Ok(())
    }

    #[test]
    fn resume_keeps_journaled_files_and_drops_the_rest() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        writer.add_bytes_keyed(&p("records/1.json")?, b"{}", &("record", 1))?;
        let streamed = p("files/a.pdf")?;
        fs::write(writer.data_path(&streamed)?, b"%PDF")?;
        writer.add_file_keyed(&streamed, fixity::of_bytes(b"%PDF"), &"file u")?;
        // A download in flight and a file written but never journaled, then the run dies.
        fs::write(writer.data_path(&p("files/b.pdf.part")?)?, b"half")?;
        fs::write(writer.data_path(&p("records/2.json")?)?, b"{")?;
        drop(writer);
        // A journaled file damaged on disk is not kept either.
        let mut writer = BagWriter::create(&dir.path().join("other"))?;
        writer.add_bytes_keyed(&p("x.txt")?, b"x", &"k")?;
        drop(writer);
        fs::write(dir.path().join("other.sharc-partial/data/x.txt"), b"y")?;

        let (writer, kept) = BagWriter::resume(&out)?;
        let keys: Vec<&serde_json::Value> = kept.iter().map(|e| &e.key).collect();
        assert_eq!(
            keys,
            [
                &serde_json::json!(["record", 1]),
                &serde_json::json!("file u")
            ]
        );
        assert!(!writer.staging_dir().join("data/files/b.pdf.part").exists());
        assert!(!writer.staging_dir().join("data/records/2.json").exists());
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (6, 2));
        assert!(
            !out.join(super::JOURNAL_NAME).exists(),
            "the journal never reaches the bag"
        );

        let (_, kept) = BagWriter::resume(&dir.path().join("other"))?;
        assert!(kept.is_empty());
        Ok(())
    }

    #[test]
    fn one_writer_at_a_time_owns_an_output() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let first = BagWriter::create(&out)?;
        assert!(matches!(
            BagWriter::resume(&out),
            Err(BundleError::Locked { .. })
        ));
        assert!(matches!(
            BagWriter::create(&out),
            Err(BundleError::Locked { .. })
        ));
        drop(first);
        let (second, _) = BagWriter::resume(&out)?;
        let (finished, lock) = second.finish_locked(BagInfo::default())?;
        assert!(
            finished.path.join(super::LOCK_NAME).exists(),
            "held until released"
        );
        lock.release();
        assert!(!out.join(super::LOCK_NAME).exists());
        Ok(())
    }

    #[test]
    fn the_header_of_the_run_that_left_a_bag_is_known_before_anything_is_touched() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let header = serde_json::json!({"site": "http://a/"});
        let mut writer = BagWriter::lock(&out)?.fresh(&header)?;
        writer.add_bytes_keyed(&p("a.txt")?, b"a", &"k")?;
        drop(writer);
        let staging = BagWriter::lock(&out)?;
        assert_eq!(staging.header(), Some(&header));
        assert!(staging.has_files());
        let other = serde_json::json!({"site": "http://b/"});
        let (writer, kept) = staging.resume(&other)?;
        assert_eq!(kept.len(), 1);
        drop(writer);
        assert_eq!(BagWriter::lock(&out)?.header(), Some(&other));
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn resume_follows_no_link_and_deletes_nothing_outside_staging() -> TestResult {
        let dir = tempfile::tempdir()?;
        let victim = dir.path().join("victim");
        fs::create_dir_all(victim.join("files"))?;
        fs::write(victim.join("files/a.pdf"), b"%PDF")?;
        fs::write(victim.join("precious.txt"), b"keep")?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        let streamed = p("files/a.pdf")?;
        fs::write(writer.data_path(&streamed)?, b"%PDF")?;
        writer.add_file_keyed(&streamed, fixity::of_bytes(b"%PDF"), &"u")?;
        let staging = writer.staging_dir().to_path_buf();
        drop(writer);

        // A link below data/: removed itself, never followed, and what it held not kept.
        fs::remove_dir_all(staging.join("data/files"))?;
        std::os::unix::fs::symlink(victim.join("files"), staging.join("data/files"))?;
        std::os::unix::fs::symlink(&victim, staging.join("data/elsewhere"))?;
        let (writer, kept) = BagWriter::resume(&out)?;
        assert!(kept.is_empty(), "a file reached through a link is not kept");
        assert!(fs::symlink_metadata(staging.join("data/files")).is_err());
        assert!(fs::symlink_metadata(staging.join("data/elsewhere")).is_err());
        drop(writer);

        // data/ itself a link: refused.
        fs::remove_dir_all(staging.join("data"))?;
        std::os::unix::fs::symlink(&victim, staging.join("data"))?;
        let header = serde_json::Value::Null;
        fs::write(
            staging.join(JOURNAL_NAME),
            format!("{}\n", serde_json::json!({"header": header})),
        )?;
        let mut journal = Journal::open(&staging.join(JOURNAL_NAME))?;
        journal.append(&JournalEntry {
            path: "files/a.pdf".into(),
            fixity: fixity::of_bytes(b"%PDF"),
            key: serde_json::Value::Null,
        })?;
        assert!(matches!(
            BagWriter::resume(&out),
            Err(BundleError::StagingSymlink { .. })
        ));
        assert_eq!(fs::read(victim.join("files/a.pdf"))?, b"%PDF");
        assert_eq!(fs::read(victim.join("precious.txt"))?, b"keep");
        Ok(())
    }

    #[test]
    fn bad_extra_labels_fail_before_anything_is_moved() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let writer = BagWriter::create(&out)?;
        let info = BagInfo {
            extra: vec![("Payload-Oxum".into(), "1.1".into())],
            ..BagInfo::default()
        };
        assert!(writer.finish(info).is_err());
        assert!(!out.exists());
        Ok(())
    }

    #[test]
    fn extra_tag_files_are_written_and_listed() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let writer = BagWriter::create(&out)?;
        let info = BagInfo {
            tag_files: vec![
                ("bagit-profile.json".into(), b"{}\n".to_vec()),
                ("signatures/archiver.pub".into(), b"key\n".to_vec()),
            ],
            ..BagInfo::default()
        };
        writer.finish(info)?;
        assert_eq!(read(&out.join("bagit-profile.json"))?, "{}\n");
        let tags = read(&out.join("tagmanifest-sha256.txt"))?;
        assert!(tags.contains("  bagit-profile.json\n"));
        assert!(tags.contains("  signatures/archiver.pub\n"));
        assert!(!tags.contains("tagmanifest"));
        Ok(())
    }

    #[test]
    fn same_input_gives_identical_tag_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let info = BagInfo {
            source_organization: Some("Example".into()),
            bagging_date: Some(jiff::civil::Date::new(2024, 6, 1)?),
            ..BagInfo::default()
        };
        let mut bags = Vec::new();
        for (name, order) in [("one", ["x/b.txt", "a.txt"]), ("two", ["a.txt", "x/b.txt"])] {
            let mut writer = BagWriter::create(&dir.path().join(name))?;
            for path in order {
                writer.add_bytes(&p(path)?, path.as_bytes())?;
            }
            bags.push(writer.finish(info.clone())?.path);
        }
        for tag in [
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt",
        ] {
            assert_eq!(
                fs::read(bags[0].join(tag))?,
                fs::read(bags[1].join(tag))?,
                "{tag}"
            );
        }
        Ok(())
    }
}
