//! Reading a zipped bag in place, without unpacking it.
//!
//! A zip bundle is checked by the same verifier as a directory: [`ZipReader`] lists the bag
//! from the central directory and opens each entry as a stream, so every file is decompressed
//! once and nothing is written to disk. On top of the bag's own checks it reports what is
//! wrong with the archive itself, since that decides whether the bag survives being unpacked
//! elsewhere: entries outside the single top-level directory or with names that could escape
//! it, duplicate names, names that collide on Windows or macOS (case, Unicode
//! normalization), local headers that disagree with the central directory, and an archive
//! that is truncated or not a zip at all.

use super::manifest::{escape_reason, refuse_escape};
use super::reader::{BagEntry, BagReader, EntryKind};
use super::report::{Finding, FindingCode};
use super::{BundleError, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;
use zip::ZipArchive;
use zip::read::Config;
use zip::unstable::read::ZipIterable;

/// General purpose flag bit 3: sizes and CRC follow the data in a data descriptor.
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;

/// General purpose flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 0x0800;

/// One central directory entry as listed.
#[derive(Debug, Clone)]
struct RawEntry {
    name: String,
    ascii: bool,
    flags: u16,
    size: u64,
    dir: bool,
    symlink: bool,
}

/// A bag serialised as a zip whose single top-level directory is the bag.
pub struct ZipReader {
    path: PathBuf,
    archive: Option<ZipArchive<BufReader<File>>>,
    /// Name of the top-level directory, empty when the bag sits at the archive root.
    top: String,
    findings: Vec<Finding>,
}

impl std::fmt::Debug for ZipReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipReader")
            .field("path", &self.path)
            .field("top", &self.top)
            .field("readable", &self.archive.is_some())
            .finish()
    }
}

impl ZipReader {
    /// A reader for the zip at `path`. A file that is not a readable zip is not an error
    /// here: it becomes a `zip-unreadable` finding when the bag is verified.
    pub fn new(path: &Path) -> Result<Self> {
        let not_a_bag = |reason: String| BundleError::NotABag {
            path: path.to_path_buf(),
            reason,
        };
        let file = File::open(path).map_err(|e| not_a_bag(e.to_string()))?;
        let meta = file.metadata().map_err(|e| not_a_bag(e.to_string()))?;
        if !meta.is_file() {
            return Err(not_a_bag("it is not a file".to_string()));
        }
        let mut findings = Vec::new();
        // Only the outer file's own end record counts: searching back from the end, a zip
        // cut short would otherwise be read by the end record of a zip stored inside it (an
        // .xlsx, a .docx) and taken for that.
        if let Err(finding) = check_end_record(&file, meta.len()) {
            return Ok(Self {
                path: path.to_path_buf(),
                archive: None,
                top: String::new(),
                findings: vec![finding],
            });
        }
        let archive = match ZipArchive::new(BufReader::new(file)) {
            Ok(archive) => Some(archive),
            Err(e) => {
                findings.push(unreadable(&e));
                None
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            archive,
            top: String::new(),
            findings,
        })
    }

    /// The name of the archive's top-level directory, known after listing.
    pub fn top_dir(&self) -> &str {
        &self.top
    }

    /// Every central directory entry, duplicates included, in archive order.
    fn raw_entries(&self) -> std::result::Result<Vec<RawEntry>, zip::result::ZipError> {
        let file = File::open(&self.path)?;
        let mut iterable = ZipIterable::try_new(BufReader::new(file), Config::default())?;
        let mut out = Vec::new();
        for entry in iterable.files()? {
            let entry = entry?;
            let raw = entry.name_raw();
            out.push(RawEntry {
                name: entry.name()?.into_owned(),
                ascii: raw.is_ascii(),
                flags: entry.flags().as_u16(),
                size: entry.size(),
                dir: entry.is_dir(),
                symlink: entry.is_symlink(),
            });
        }
        Ok(out)
    }

    /// Picks the top-level directory and reports entries that do not belong to it.
    fn choose_top(&mut self, raw: &[RawEntry]) {
        let has_bagit = raw.iter().any(|e| {
            e.name == "bagit.txt"
                || e.name
                    .strip_suffix("/bagit.txt")
                    .is_some_and(|t| !t.is_empty() && !t.contains('/'))
        });
        if !has_bagit {
            self.findings.push(Finding::bag(
                FindingCode::ZipNotABag,
                "this zip holds no bag: there is no bagit.txt at its root or in a top-level directory (a bag's zip holds one directory with bagit.txt, the manifests and data/); check that this is the file sharc wrote",
            ));
        }
        if raw.iter().any(|e| e.name == "bagit.txt") {
            self.top = String::new();
            self.findings.push(Finding::bag(
                FindingCode::ZipEntryOutsideBag,
                "the bag's files are at the archive root; a serialized bag unpacks into one directory named after the archive (zip it from the bag's parent directory)",
            ));
            return;
        }
        let mut firsts: BTreeMap<&str, usize> = BTreeMap::new();
        for e in raw {
            let first = e.name.split('/').next().unwrap_or_default();
            *firsts.entry(first).or_default() += 1;
        }
        let stem = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.strip_suffix(".zip").unwrap_or(n).to_string())
            .unwrap_or_default();
        let with_bagit = raw
            .iter()
            .filter_map(|e| e.name.strip_suffix("/bagit.txt"))
            .find(|t| !t.is_empty() && !t.contains('/'));
        self.top = if firsts.len() == 1 {
            firsts
                .keys()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default()
        } else if firsts.contains_key(stem.as_str()) {
            stem.clone()
        } else if let Some(t) = with_bagit {
            t.to_string()
        } else {
            firsts
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(t, _)| t.to_string())
                .unwrap_or_default()
        };
        if !self.top.is_empty()
            && self.top.nfc().collect::<String>() != stem.nfc().collect::<String>()
        {
            self.findings.push(Finding::bag(
                FindingCode::ZipTopDirName,
                format!(
                    "the top-level directory is {:?} but the archive is named {:?}; by convention a bag's archive is named after it",
                    self.top,
                    self.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
                ),
            ));
        }
    }

    /// The bag-relative path of an entry, or `None` (with a finding) when it does not belong
    /// to the bag.
    fn bag_path(&mut self, name: &str) -> Option<String> {
        let outside = |message: String| Finding::at(FindingCode::ZipEntryOutsideBag, name, message);
        if let Some(reason) = escape_reason(name) {
            self.findings.push(outside(format!(
                "entry name {reason}; unpacking it could write outside the bag's directory"
            )));
            return None;
        }
        let trimmed = name.strip_suffix('/').unwrap_or(name);
        if trimmed.split('/').any(|s| s.is_empty() || s == ".") {
            self.findings.push(outside(
                "entry name has an empty or '.' segment; name entries without ./ or //".to_string(),
            ));
            return None;
        }
        if self.top.is_empty() {
            return Some(trimmed.to_string());
        }
        if trimmed == self.top {
            return Some(String::new());
        }
        match trimmed.strip_prefix(&format!("{}/", self.top)) {
            Some(rest) => Some(rest.to_string()),
            None => {
                self.findings.push(outside(format!(
                    "entry is not inside the top-level directory {:?}; a serialized bag holds exactly one directory",
                    self.top
                )));
                None
            }
        }
    }

    /// Reports names that appear twice, and names that collide ignoring case or normalization.
    fn check_names(&mut self, raw: &[RawEntry]) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for e in raw {
            *seen.entry(e.name.as_str()).or_default() += 1;
        }
        for (name, count) in seen.iter().filter(|(_, n)| **n > 1) {
            self.findings.push(Finding::at(
                FindingCode::ZipDuplicateEntry,
                name,
                format!("appears {count} times in the archive; unpacking keeps only one of them"),
            ));
        }
        let mut folded: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
        for name in seen.keys() {
            let key: String = name
                .trim_end_matches('/')
                .nfc()
                .collect::<String>()
                .to_lowercase();
            folded.entry(key).or_default().insert(name);
        }
        for names in folded.values().filter(|n| n.len() > 1) {
            let mut names = names.iter();
            let Some(first) = names.next() else { continue };
            let others: Vec<String> = names.map(|n| format!("{n:?}")).collect();
            self.findings.push(Finding::at(
                FindingCode::ZipNameClash,
                first,
                format!(
                    "differs from {} only by case or Unicode normalization; unpacking on Windows or macOS keeps only one",
                    others.join(", ")
                ),
            ));
        }
        for e in raw {
            if !e.ascii && e.flags & FLAG_UTF8 == 0 {
                self.findings.push(Finding::at(
                    FindingCode::ZipPortability,
                    &e.name,
                    "has a non-ASCII name without the UTF-8 flag; many tools decode it as CP437",
                ));
            }
            if e.flags & FLAG_DATA_DESCRIPTOR != 0 {
                self.findings.push(Finding::at(
                    FindingCode::ZipPortability,
                    &e.name,
                    "uses a data descriptor; Java's ZipInputStream and other streaming readers may reject it",
                ));
            }
        }
        let duplicates = seen.values().any(|n| *n > 1);
        if let (false, Some(archive)) = (duplicates, self.archive.as_mut())
            && let Err(e) = archive.validate_header_consistency()
        {
            self.findings.push(Finding::bag(
                FindingCode::ZipHeaderMismatch,
                format!("the archive's local headers disagree with its central directory: {e}"),
            ));
        }
    }
}

/// The end of central directory record of the file itself: it must end the file (after its
/// comment). A file without one is a zip cut short, or no zip at all; either is a finding
/// that says which.
fn check_end_record(file: &File, len: u64) -> std::result::Result<(), Finding> {
    use std::io::{Seek, SeekFrom};
    const RECORD: u64 = 22;
    const MAX_COMMENT: u64 = 65535;
    let tail_len = len.min(RECORD + MAX_COMMENT);
    let mut tail = vec![0u8; tail_len as usize];
    let mut f = file;
    let read = f
        .seek(SeekFrom::Start(len - tail_len))
        .and_then(|_| f.read_exact(&mut tail));
    let mut head = [0u8; 4];
    let starts_as_zip = f
        .seek(SeekFrom::Start(0))
        .and_then(|_| f.read_exact(&mut head))
        .is_ok()
        && head == *b"PK\x03\x04";
    if read.is_ok() {
        for start in (0..tail.len().saturating_sub(RECORD as usize - 1)).rev() {
            if tail[start..].starts_with(b"PK\x05\x06") {
                let field = |at: usize| {
                    u32::from_le_bytes([tail[at], tail[at + 1], tail[at + 2], tail[at + 3]])
                };
                let comment = u16::from_le_bytes([tail[start + 20], tail[start + 21]]) as usize;
                let (cd_size, cd_offset) = (field(start + 12), field(start + 16));
                let at = len - tail_len + start as u64;
                // The record of a zip stored inside this one points at a central directory
                // relative to where that zip begins, not to just before itself.
                let own = cd_offset == u32::MAX
                    || u64::from(cd_offset) + u64::from(cd_size) == at
                    || zip64_end_is_own(file, at);
                if start + RECORD as usize + comment == tail.len() && own {
                    return Ok(());
                }
            }
        }
    }
    Err(Finding::bag(
        FindingCode::ZipUnreadable,
        if starts_as_zip {
            format!(
                "the zip ends at byte {len}; its central directory is missing: the file was cut short (an interrupted copy or download); copy it again from a good source"
            )
        } else {
            "this file is not a zip (it does not start as one); give the bag's directory, or the .zip sharc wrote".to_string()
        },
    ))
}

/// Whether a Zip64 end record of this file stands before its classic end record at `at`:
/// its locator just before `at` points at a Zip64 record whose central directory ends where
/// that record begins. Writers that count more than 65,535 entries put these 76 bytes between
/// the central directory and the classic record while its 32-bit fields still hold the real
/// size and offset.
fn zip64_end_is_own(file: &File, at: u64) -> bool {
    use std::io::{Seek, SeekFrom};
    const LOCATOR: u64 = 20;
    const RECORD: usize = 56;
    let mut f = file;
    let mut read_at = |pos: u64, buf: &mut [u8]| {
        f.seek(SeekFrom::Start(pos))
            .and_then(|_| f.read_exact(buf))
            .is_ok()
    };
    let u64_at = |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
    let mut locator = [0u8; LOCATOR as usize];
    if at < LOCATOR || !read_at(at - LOCATOR, &mut locator) || !locator.starts_with(b"PK\x06\x07") {
        return false;
    }
    let record_at = u64_at(&locator, 8);
    let mut record = [0u8; RECORD];
    if record_at.saturating_add(RECORD as u64) > at - LOCATOR
        || !read_at(record_at, &mut record)
        || !record.starts_with(b"PK\x06\x06")
    {
        return false;
    }
    let (cd_size, cd_offset) = (u64_at(&record, 40), u64_at(&record, 48));
    cd_offset.checked_add(cd_size) == Some(record_at)
}

/// The finding for an archive that cannot be read at all.
fn unreadable(e: &zip::result::ZipError) -> Finding {
    Finding::bag(
        FindingCode::ZipUnreadable,
        format!(
            "cannot be read as a zip ({e}); it may be truncated or damaged: copy it again from a good source"
        ),
    )
}

impl BagReader for ZipReader {
    fn location(&self) -> PathBuf {
        self.path.clone()
    }

    fn list_entries(&mut self) -> io::Result<Vec<BagEntry>> {
        if self.archive.is_none() {
            return Ok(Vec::new());
        }
        let raw = match self.raw_entries() {
            Ok(raw) => raw,
            Err(e) => {
                self.archive = None;
                self.findings.push(unreadable(&e));
                return Ok(Vec::new());
            }
        };
        self.choose_top(&raw);
        self.check_names(&raw);
        let mut files: BTreeMap<String, BagEntry> = BTreeMap::new();
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for e in &raw {
            let Some(path) = self.bag_path(&e.name) else {
                continue;
            };
            if path.is_empty() {
                continue;
            }
            let mut parent = path.as_str();
            while let Some(at) = parent.rfind('/') {
                parent = &parent[..at];
                dirs.insert(parent.to_string());
            }
            if e.dir {
                dirs.insert(path);
                continue;
            }
            let kind = if e.symlink {
                EntryKind::Special
            } else {
                EntryKind::File
            };
            let size = if kind == EntryKind::File { e.size } else { 0 };
            files
                .entry(path.clone())
                .or_insert(BagEntry { path, kind, size });
        }
        let mut out: Vec<BagEntry> = dirs
            .into_iter()
            .filter(|d| !files.contains_key(d))
            .map(|path| BagEntry {
                path,
                kind: EntryKind::Dir,
                size: 0,
            })
            .collect();
        out.extend(files.into_values());
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        refuse_escape(path)?;
        let name = if self.top.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.top)
        };
        let archive = self
            .archive
            .as_mut()
            .ok_or_else(|| io::Error::other("the archive cannot be read"))?;
        let file = archive.by_name(&name).map_err(io::Error::other)?;
        if file.encrypted() {
            return Err(io::Error::other(
                "the entry is encrypted; bags must be readable without a password",
            ));
        }
        Ok(Box::new(file))
    }

    fn container_findings(&self) -> Vec<Finding> {
        self.findings.clone()
    }
}
