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
//!
//! An archive may hold hundreds of thousands of entries, so the central directory is read
//! as a stream and never held: each entry is kept as a fixed-size record (where its local
//! header is, its sizes, CRC and method, a fingerprint of its name), and a name is confirmed
//! against the entry's local header when it is opened. Names are held only where a finding
//! needs them: the few that share a fingerprint with another.

use super::listing::Fingerprints;
use super::manifest::{escape_reason, refuse_escape};
use super::reader::{BagEntry, BagReader, EntryKind};
use super::report::{Finding, FindingCode};
use super::{BundleError, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;

/// General purpose flag bit 0: the entry is encrypted.
const FLAG_ENCRYPTED: u16 = 0x0001;

/// General purpose flag bit 3: sizes and CRC follow the data in a data descriptor.
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;

/// General purpose flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 0x0800;

/// Bytes of the fixed part of a central directory header.
const CENTRAL_HEADER: usize = 46;

/// Bytes of the fixed part of a local file header.
const LOCAL_HEADER: usize = 30;

/// Buffer of the archive reader: one read brings a small entry's header and data together.
const BUFFER: usize = 128 * 1024;

/// Where the central directory is, from the end records.
#[derive(Debug, Clone, Copy)]
struct Directory {
    offset: u64,
    size: u64,
    entries: u64,
}

/// One central directory entry as it streams past.
#[derive(Debug)]
struct Central {
    name: String,
    ascii: bool,
    flags: u16,
    method: u16,
    crc: u32,
    packed: u64,
    size: u64,
    header: u64,
    dir: bool,
    symlink: bool,
}

/// What is kept of each entry to open it: 36 bytes, whatever its name. The fingerprint is
/// short: two names that share it only cost a local header read more to tell apart.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct Slot {
    fingerprint: u32,
    header: u64,
    packed: u64,
    size: u64,
    crc: u32,
    method: u16,
    flags: u16,
}

/// A bag serialised as a zip whose single top-level directory is the bag.
pub struct ZipReader {
    path: PathBuf,
    file: Option<Window>,
    directory: Option<Directory>,
    /// Every entry, sorted by name fingerprint then archive order.
    slots: Vec<Slot>,
    fingerprints: Fingerprints,
    /// Name of the top-level directory, empty when the bag sits at the archive root.
    top: String,
    /// Findings not handed to the verifier yet.
    findings: Vec<Finding>,
}

impl std::fmt::Debug for ZipReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipReader")
            .field("path", &self.path)
            .field("top", &self.top)
            .field("entries", &self.slots.len())
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
        let mut reader = Self {
            path: path.to_path_buf(),
            file: None,
            directory: None,
            slots: Vec::new(),
            fingerprints: Fingerprints::new(),
            top: String::new(),
            findings: Vec::new(),
        };
        // Only the outer file's own end record counts: searching back from the end, a zip
        // cut short would otherwise be read by the end record of a zip stored inside it (an
        // .xlsx, a .docx) and taken for that.
        match end_record(&file, meta.len()) {
            Ok(directory) => {
                reader.directory = Some(directory);
                reader.file = Some(Window::new(file));
            }
            Err(finding) => reader.findings.push(finding),
        }
        Ok(reader)
    }

    /// The name of the archive's top-level directory, known after listing.
    pub fn top_dir(&self) -> &str {
        &self.top
    }

    /// Streams the central directory, calling `each` with every entry in archive order.
    fn each_central(&mut self, mut each: impl FnMut(Central)) -> io::Result<()> {
        let (Some(file), Some(dir)) = (self.file.as_mut(), self.directory) else {
            return Ok(());
        };
        let mut stream = BufReader::with_capacity(
            BUFFER,
            Span {
                window: file,
                pos: dir.offset,
                end: dir.offset.saturating_add(dir.size),
            },
        );
        let mut count = 0u64;
        let mut fixed = [0u8; CENTRAL_HEADER];
        loop {
            match stream.read(&mut fixed[..1])? {
                0 => break,
                _ => stream.read_exact(&mut fixed[1..])?,
            }
            if !fixed.starts_with(b"PK\x01\x02") {
                return Err(bad_zip(format!(
                    "central directory entry {} does not start with its signature",
                    count + 1
                )));
            }
            let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
            let u32_at =
                |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
            let mut variable =
                vec![
                    0u8;
                    usize::from(u16_at(28)) + usize::from(u16_at(30)) + usize::from(u16_at(32))
                ];
            stream.read_exact(&mut variable)?;
            let (raw, rest) = variable.split_at(usize::from(u16_at(28)));
            let extra = &rest[..usize::from(u16_at(30))];
            let mut size = u64::from(u32_at(24));
            let mut packed = u64::from(u32_at(20));
            let mut header = u64::from(u32_at(42));
            zip64_values(extra, &mut [&mut size, &mut packed, &mut header]);
            let external = u32_at(38);
            let unix = u16_at(4) >> 8 == 3;
            let name = decode_name(raw);
            count += 1;
            each(Central {
                dir: name.ends_with('/'),
                name,
                ascii: raw.is_ascii(),
                flags: u16_at(8),
                method: u16_at(10),
                crc: u32_at(16),
                packed,
                size,
                header,
                symlink: unix && (external >> 16) & 0o120000 == 0o120000,
            });
        }
        if count != dir.entries {
            return Err(bad_zip(format!(
                "its central directory holds {count} entries where its end record says {}",
                dir.entries
            )));
        }
        Ok(())
    }

    /// First pass: keeps each entry's slot, and what choosing the top-level directory and
    /// checking names needs.
    fn first_pass(&mut self) -> io::Result<FirstPass> {
        let mut pass = FirstPass::default();
        let mut slots = Vec::new();
        let fingerprints = self.fingerprints.clone();
        self.each_central(|e| {
            let index = slots.len() as u32;
            let fingerprint = fingerprints.of(e.name.as_bytes());
            slots.push(Slot {
                fingerprint: fingerprint as u32,
                header: e.header,
                packed: e.packed,
                size: e.size,
                crc: e.crc,
                method: e.method,
                flags: e.flags,
            });
            pass.by_name.push((fingerprint, index));
            pass.by_fold.push((fingerprints.of(fold(&e.name).as_bytes()), index));
            pass.root_bagit |= e.name == "bagit.txt";
            if pass.with_bagit.is_none()
                && let Some(t) = e.name.strip_suffix("/bagit.txt")
                && !t.is_empty()
                && !t.contains('/')
            {
                pass.with_bagit = Some(t.to_string());
            }
            let first = e.name.split('/').next().unwrap_or_default();
            match pass.firsts.get_mut(first) {
                Some(n) => *n += 1,
                None => {
                    pass.firsts.insert(first.to_string(), 1);
                }
            }
            if !e.ascii && e.flags & FLAG_UTF8 == 0 {
                pass.portability.push(Finding::at(
                    FindingCode::ZipPortability,
                    &e.name,
                    "has a non-ASCII name without the UTF-8 flag; many tools decode it as CP437",
                ));
            }
            if e.flags & FLAG_DATA_DESCRIPTOR != 0 {
                pass.portability.push(Finding::at(
                    FindingCode::ZipPortability,
                    &e.name,
                    "uses a data descriptor; Java's ZipInputStream and other streaming readers may reject it",
                ));
            }
        })?;
        slots.sort_by_key(|s| (s.fingerprint, s.header));
        self.slots = slots;
        Ok(pass)
    }

    /// Picks the top-level directory and reports entries that do not belong to it.
    fn choose_top(&mut self, pass: &FirstPass) {
        if !pass.root_bagit && pass.with_bagit.is_none() {
            self.findings.push(Finding::bag(
                FindingCode::ZipNotABag,
                "this zip holds no bag: there is no bagit.txt at its root or in a top-level directory (a bag's zip holds one directory with bagit.txt, the manifests and data/); check that this is the file sharc wrote",
            ));
        }
        if pass.root_bagit {
            self.top = String::new();
            self.findings.push(Finding::bag(
                FindingCode::ZipEntryOutsideBag,
                "the bag's files are at the archive root; a serialized bag unpacks into one directory named after the archive (zip it from the bag's parent directory)",
            ));
            return;
        }
        let stem = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.strip_suffix(".zip").unwrap_or(n).to_string())
            .unwrap_or_default();
        let firsts = &pass.firsts;
        self.top = if firsts.len() == 1 {
            firsts.keys().next().cloned().unwrap_or_default()
        } else if firsts.contains_key(stem.as_str()) {
            stem.clone()
        } else if let Some(t) = &pass.with_bagit {
            t.clone()
        } else {
            firsts
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(t, _)| t.clone())
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

    /// The slots whose name has `name`'s fingerprint, in archive order.
    fn candidates(&self, name: &str) -> &[Slot] {
        let fingerprint = self.fingerprints.of(name.as_bytes()) as u32;
        let start = self
            .slots
            .partition_point(|s| { s.fingerprint } < fingerprint);
        let end = self
            .slots
            .partition_point(|s| { s.fingerprint } <= fingerprint);
        &self.slots[start..end]
    }

    /// Reads the local header of `slot`; returns the name it gives and where the data starts,
    /// with a finding when it disagrees with the central directory.
    fn local_header(&mut self, slot: &Slot) -> io::Result<(String, u64, Option<String>)> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the archive cannot be read"))?;
        let mut at = Span {
            window: file,
            pos: slot.header,
            end: u64::MAX,
        };
        let mut fixed = [0u8; LOCAL_HEADER];
        at.read_exact(&mut fixed)?;
        if !fixed.starts_with(b"PK\x03\x04") {
            return Err(bad_zip(format!(
                "no local header where the central directory says one is (byte {})",
                { slot.header }
            )));
        }
        let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
        let u32_at =
            |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
        let (name_len, extra_len) = (usize::from(u16_at(26)), usize::from(u16_at(28)));
        let mut variable = vec![0u8; name_len + extra_len];
        at.read_exact(&mut variable)?;
        let (raw, extra) = variable.split_at(name_len);
        let name = decode_name(raw);
        let mut size = u64::from(u32_at(22));
        let mut packed = u64::from(u32_at(18));
        zip64_values(extra, &mut [&mut size, &mut packed]);
        let mut differs = Vec::new();
        if u16_at(8) != slot.method {
            differs.push("compression method");
        }
        if u16_at(6) & FLAG_ENCRYPTED != slot.flags & FLAG_ENCRYPTED {
            differs.push("encryption");
        }
        if slot.flags & FLAG_DATA_DESCRIPTOR == 0
            && (u32_at(14) != slot.crc || size != slot.size || packed != slot.packed)
        {
            differs.push("CRC-32 or sizes");
        }
        let mismatch = (!differs.is_empty()).then(|| differs.join(" and "));
        let data = slot.header + (LOCAL_HEADER + name_len + extra_len) as u64;
        Ok((name, data, mismatch))
    }

    /// Reports entries whose data overlap another's or the central directory: an archive
    /// that unpacks differently in different tools.
    fn check_layout(&mut self) {
        let mut spans: Vec<(u64, u64)> = self
            .slots
            .iter()
            .map(|s| {
                (
                    s.header,
                    s.header.saturating_add(LOCAL_HEADER as u64 + s.packed),
                )
            })
            .collect();
        spans.sort_unstable();
        let directory = self.directory.map_or(u64::MAX, |d| d.offset);
        let overlap = spans.windows(2).any(|w| w[0].1 > w[1].0)
            || spans.last().is_some_and(|last| last.1 > directory);
        if overlap {
            self.findings.push(Finding::bag(
                FindingCode::ZipHeaderMismatch,
                "the archive's local headers disagree with its central directory: entries overlap one another",
            ));
        }
    }

    /// Reports local headers that disagree with the central directory (`what`, of `name`).
    fn header_mismatch(&mut self, name: &str, what: &str) {
        self.findings.push(Finding::bag(
            FindingCode::ZipHeaderMismatch,
            format!(
                "the archive's local headers disagree with its central directory: the local header of {name:?} differs in its {what}"
            ),
        ));
    }
}

/// What the first pass over the central directory gathers.
#[derive(Debug, Default)]
struct FirstPass {
    /// Name fingerprint and entry number, for duplicates.
    by_name: Vec<(u64, u32)>,
    /// Fingerprint of the case-folded NFC name and entry number, for clashes.
    by_fold: Vec<(u64, u32)>,
    root_bagit: bool,
    with_bagit: Option<String>,
    /// First path segment to the number of entries under it.
    firsts: BTreeMap<String, usize>,
    portability: Vec<Finding>,
}

impl FirstPass {
    /// Entry numbers whose fingerprint (of name, or of folded name) another entry shares:
    /// the only names worth holding to compare.
    fn suspects(&mut self) -> BTreeSet<u32> {
        let mut out = BTreeSet::new();
        for list in [&mut self.by_name, &mut self.by_fold] {
            list.sort_unstable();
            for pair in list.windows(2) {
                if pair[0].0 == pair[1].0 {
                    out.insert(pair[0].1);
                    out.insert(pair[1].1);
                }
            }
            *list = Vec::new();
        }
        out
    }
}

/// The name with case folded, in NFC, without a trailing `/`.
fn fold(name: &str) -> String {
    name.trim_end_matches('/')
        .nfc()
        .collect::<String>()
        .to_lowercase()
}

/// Reports names that appear twice, and names that collide ignoring case or normalization,
/// among the `names` that share a fingerprint with another.
fn name_findings(names: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for name in names {
        *seen.entry(name.as_str()).or_default() += 1;
    }
    for (name, count) in seen.iter().filter(|(_, n)| **n > 1) {
        findings.push(Finding::at(
            FindingCode::ZipDuplicateEntry,
            name,
            format!("appears {count} times in the archive; unpacking keeps only one of them"),
        ));
    }
    let mut folded: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for name in seen.keys() {
        folded.entry(fold(name)).or_default().insert(name);
    }
    for names in folded.values().filter(|n| n.len() > 1) {
        let mut names = names.iter();
        let Some(first) = names.next() else { continue };
        let others: Vec<String> = names.map(|n| format!("{n:?}")).collect();
        findings.push(Finding::at(
            FindingCode::ZipNameClash,
            first,
            format!(
                "differs from {} only by case or Unicode normalization; unpacking on Windows or macOS keeps only one",
                others.join(", ")
            ),
        ));
    }
    findings
}

/// The bag-relative path of an entry, or `None` (with a finding) when it does not belong
/// to the bag.
fn bag_path(top: &str, name: &str, findings: &mut Vec<Finding>) -> Option<String> {
    let mut outside = |message: String| {
        findings.push(Finding::at(FindingCode::ZipEntryOutsideBag, name, message));
    };
    if let Some(reason) = escape_reason(name) {
        outside(format!(
            "entry name {reason}; unpacking it could write outside the bag's directory"
        ));
        return None;
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    if trimmed.split('/').any(|s| s.is_empty() || s == ".") {
        outside(
            "entry name has an empty or '.' segment; name entries without ./ or //".to_string(),
        );
        return None;
    }
    if top.is_empty() {
        return Some(trimmed.to_string());
    }
    if trimmed == top {
        return Some(String::new());
    }
    match trimmed.strip_prefix(top).and_then(|r| r.strip_prefix('/')) {
        Some(rest) => Some(rest.to_string()),
        None => {
            outside(format!(
                "entry is not inside the top-level directory {:?}; a serialized bag holds exactly one directory",
                top
            ));
            None
        }
    }
}

/// Replaces each value that is all ones (in its 32-bit field) by the next one of the Zip64
/// extra field, in the order the format gives them (size, compressed size, offset).
fn zip64_values(extra: &[u8], values: &mut [&mut u64]) {
    let mut rest = extra;
    while rest.len() >= 4 {
        let id = u16::from_le_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        let Some(body) = rest.get(4..4 + len) else {
            return;
        };
        if id == 0x0001 {
            let mut at = 0;
            for value in values.iter_mut() {
                if **value == u64::from(u32::MAX)
                    && let Some(b) = body.get(at..at + 8)
                {
                    **value = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
                    at += 8;
                }
            }
            return;
        }
        rest = &rest[4 + len..];
    }
}

/// The upper half of code page 437, the encoding of zip names without the UTF-8 flag.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}";

/// A name as UTF-8 when it is, else as CP437.
fn decode_name(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(name) => name.to_string(),
        Err(_) => raw
            .iter()
            .map(|&b| match b {
                0..=0x7F => char::from(b),
                _ => CP437_HIGH
                    .chars()
                    .nth(usize::from(b - 0x80))
                    .unwrap_or('\u{FFFD}'),
            })
            .collect(),
    }
}

/// An `InvalidData` error about the archive's structure.
fn bad_zip(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The end of central directory record of the file itself: it must end the file (after its
/// comment). A file without one is a zip cut short, or no zip at all; either is a finding
/// that says which.
fn end_record(file: &File, len: u64) -> std::result::Result<Directory, Finding> {
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
                let entries = u16::from_le_bytes([tail[start + 10], tail[start + 11]]);
                let comment = u16::from_le_bytes([tail[start + 20], tail[start + 21]]) as usize;
                let (cd_size, cd_offset) = (field(start + 12), field(start + 16));
                let at = len - tail_len + start as u64;
                if start + RECORD as usize + comment != tail.len() {
                    continue;
                }
                // The record of a zip stored inside this one points at a central directory
                // relative to where that zip begins, not to just before itself.
                if let Some(directory) = zip64_end(file, at) {
                    return Ok(directory);
                }
                if cd_offset != u32::MAX && u64::from(cd_offset) + u64::from(cd_size) == at {
                    return Ok(Directory {
                        offset: u64::from(cd_offset),
                        size: u64::from(cd_size),
                        entries: u64::from(entries),
                    });
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

/// The central directory a Zip64 end record of this file gives, when one stands before its
/// classic end record at `at`: its locator just before `at` points at a Zip64 record whose
/// central directory ends where that record begins. Writers that count more than 65,535
/// entries put these 76 bytes between the central directory and the classic record while
/// its 32-bit fields may still hold the real size and offset.
fn zip64_end(file: &File, at: u64) -> Option<Directory> {
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
        return None;
    }
    let record_at = u64_at(&locator, 8);
    let mut record = [0u8; RECORD];
    if record_at.saturating_add(RECORD as u64) > at - LOCATOR
        || !read_at(record_at, &mut record)
        || !record.starts_with(b"PK\x06\x06")
    {
        return None;
    }
    let (entries, size, offset) = (
        u64_at(&record, 32),
        u64_at(&record, 40),
        u64_at(&record, 48),
    );
    (offset.checked_add(size) == Some(record_at)).then_some(Directory {
        offset,
        size,
        entries,
    })
}

/// The finding for an archive that cannot be read at all.
fn unreadable(e: &io::Error) -> Finding {
    Finding::bag(
        FindingCode::ZipUnreadable,
        format!(
            "cannot be read as a zip ({e}); it may be truncated or damaged: copy it again from a good source"
        ),
    )
}

/// The archive, read at any offset through one buffer with positioned reads: entries
/// opened one after another in archive order cost one read for many small ones, and no
/// seek.
struct Window {
    file: File,
    buf: Vec<u8>,
    /// Offset of the buffer's first byte in the file.
    start: u64,
    /// Bytes of the buffer that hold file data.
    len: usize,
}

impl Window {
    fn new(file: File) -> Self {
        Self {
            file,
            buf: vec![0; BUFFER],
            start: 0,
            len: 0,
        }
    }

    /// Reads from offset `pos` into `out`; 0 at the end of the file.
    fn read_at(&mut self, pos: u64, out: &mut [u8]) -> io::Result<usize> {
        let buffered = pos >= self.start && pos < self.start + self.len as u64;
        if !buffered {
            if out.len() >= self.buf.len() {
                return read_at(&self.file, out, pos);
            }
            self.len = read_at(&self.file, &mut self.buf, pos)?;
            self.start = pos;
        }
        let at = (pos - self.start) as usize;
        let n = out.len().min(self.len.saturating_sub(at));
        out[..n].copy_from_slice(&self.buf[at..at + n]);
        Ok(n)
    }
}

/// One positioned read of `file`.
#[cfg(unix)]
fn read_at(file: &File, out: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, out, pos)
}

/// One positioned read of `file`.
#[cfg(windows)]
fn read_at(file: &File, out: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, out, pos)
}

/// Bytes `pos..end` of the archive, as a stream.
struct Span<'a> {
    window: &'a mut Window,
    pos: u64,
    end: u64,
}

impl Read for Span<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.window.read_at(self.pos, &mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// An entry's data as it is read: inflated when deflated, checked against its size and
/// CRC-32 at its end.
struct EntryData<R> {
    inner: R,
    crc: crc32fast::Hasher,
    expected_crc: u32,
    expected_size: u64,
    read: u64,
}

impl<R: Read> Read for EntryData<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.crc.update(&buf[..n]);
        if self.read > self.expected_size {
            return Err(bad_zip(format!(
                "the entry holds more than the {} bytes the central directory gives",
                self.expected_size
            )));
        }
        if n == 0 && !buf.is_empty() {
            if self.read != self.expected_size {
                return Err(bad_zip(format!(
                    "the entry ends after {} of its {} bytes; the archive is damaged",
                    self.read, self.expected_size
                )));
            }
            let crc = self.crc.clone().finalize();
            if crc != self.expected_crc {
                return Err(bad_zip(format!(
                    "the entry's CRC-32 is {crc:08x} where the archive gives {:08x}; the archive is damaged",
                    self.expected_crc
                )));
            }
        }
        Ok(n)
    }
}

impl BagReader for ZipReader {
    fn location(&self) -> PathBuf {
        self.path.clone()
    }

    fn list_entries(&mut self, visit: &mut dyn FnMut(BagEntry)) -> io::Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        let mut pass = match self.first_pass() {
            Ok(pass) => pass,
            Err(e) => {
                self.file = None;
                self.slots = Vec::new();
                self.findings.push(unreadable(&e));
                return Ok(());
            }
        };
        self.choose_top(&pass);
        let suspects = pass.suspects();
        let mut suspect_names = Vec::new();
        let mut outside = Vec::new();
        let mut index = 0u32;
        let mut last_parent = String::new();
        let mut entries = Vec::new();
        let top = self.top.clone();
        // The second pass streams the directory again, so names are never all held.
        let second = self.each_central(|e| {
            if suspects.contains(&index) {
                suspect_names.push(e.name.clone());
            }
            index += 1;
            let Some(path) = bag_path(&top, &e.name, &mut outside) else {
                return;
            };
            if path.is_empty() {
                return;
            }
            let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
            if parent != last_parent {
                let mut ancestor = parent;
                loop {
                    entries.push(BagEntry {
                        path: ancestor.to_string(),
                        kind: EntryKind::Dir,
                        size: 0,
                    });
                    match ancestor.rsplit_once('/') {
                        Some((up, _)) => ancestor = up,
                        None => break,
                    }
                }
                last_parent = parent.to_string();
            }
            let kind = if e.dir {
                EntryKind::Dir
            } else if e.symlink {
                EntryKind::Special
            } else {
                EntryKind::File
            };
            let size = if kind == EntryKind::File { e.size } else { 0 };
            entries.push(BagEntry { path, kind, size });
            for entry in entries.drain(..) {
                if !entry.path.is_empty() {
                    visit(entry);
                }
            }
        });
        if let Err(e) = second {
            self.file = None;
            self.slots = Vec::new();
            self.findings.push(unreadable(&e));
            return Ok(());
        }
        let duplicates = suspect_names.len() != suspect_names.iter().collect::<BTreeSet<_>>().len();
        self.findings.extend(name_findings(&suspect_names));
        self.findings.append(&mut pass.portability);
        self.findings.extend(outside);
        if !duplicates {
            self.check_layout();
        }
        Ok(())
    }

    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        refuse_escape(path)?;
        let name = if self.top.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.top)
        };
        let candidates: Vec<Slot> = self.candidates(&name).to_vec();
        let mut found = None;
        for slot in &candidates {
            let (local, data, mismatch) = self.local_header(slot)?;
            if local != name && candidates.len() > 1 {
                continue;
            }
            if local != name {
                self.header_mismatch(&name, "name");
            } else if let Some(what) = mismatch {
                self.header_mismatch(&name, &what);
            }
            found = Some((*slot, data));
            break;
        }
        let Some((slot, data)) = found else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name:?} is not in the archive"),
            ));
        };
        if slot.flags & FLAG_ENCRYPTED != 0 {
            return Err(io::Error::other(
                "the entry is encrypted; bags must be readable without a password",
            ));
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the archive cannot be read"))?;
        let stored = Span {
            window: file,
            pos: data,
            end: data.saturating_add(slot.packed),
        };
        let inner: Box<dyn Read + '_> = match slot.method {
            0 => Box::new(stored),
            8 => Box::new(flate2::read::DeflateDecoder::new(stored)),
            m => {
                return Err(io::Error::other(format!(
                    "the entry is compressed with method {m}; sharc reads stored and deflated entries only"
                )));
            }
        };
        Ok(Box::new(EntryData {
            inner,
            crc: crc32fast::Hasher::new(),
            expected_crc: slot.crc,
            expected_size: slot.size,
            read: 0,
        }))
    }

    fn container_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings)
    }
}
