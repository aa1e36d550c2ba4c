//! Verifying a bag strictly against RFC 8493.
//!
//! A bag is only worth keeping if a later reader can prove it unchanged, so the verifier is
//! stricter than bagit-python where that tool is lenient: `bagit.txt` must be exact, every
//! payload file must be in *every* payload manifest, `%` in manifest paths must be encoded,
//! and every checksum in every manifest is recomputed. Problems inside the bag are
//! [`Finding`]s in a [`VerifyReport`]; only a bag that cannot be listed at all is an error.
//! Files are read through [`BagReader`], each one once, whatever number of manifests list it.
//!
//! Where the Library of Congress conformance suite calls a deviation a warning, it is one
//! here too: md5sum's `*` marker, a leading `./`, whitespace before a bag-info colon, a file
//! listed twice in different case or normalization, files an operating system leaves behind.
//! Bags older than BagIt 1.0 are read by their own rules: literal manifest paths, each
//! payload file in at least one manifest, tag files in the encoding `bagit.txt` declares.
//!
//! A bag under verification is as untrusted as a server: tag files are read into memory, so
//! one larger than [`MAX_TAG_FILE_BYTES`] (a zip entry that inflates to gigabytes, say) is a
//! finding and is never read; payload files are only ever streamed.

use super::digest::{self, DigestStore, MultiHasher};
use super::hash_pool;
use super::info::{human_size, parse_bag_info, parse_oxum};
use super::listing::{Listing, ListingBuilder, Match};
use super::manifest::{self, PathEncoding, escape_reason, split_lines};
use super::reader::{BagEntry, BagReader, DirReader, EntryKind};
use super::report::{Column, Finding, FindingCode, PayloadIndex, UNLISTED, VerifyReport};
use super::{BundleError, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use unicode_normalization::UnicodeNormalization;

/// The largest tag file the verifier reads: 32 MiB, a manifest of some 150,000 files.
pub const MAX_TAG_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Byte order mark, forbidden at the start of UTF-8 tag files.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// BagIt versions whose layout this verifier knows.
const KNOWN_VERSIONS: [&str; 6] = ["1.0", "0.97", "0.96", "0.95", "0.94", "0.93"];

/// File names operating systems leave behind, compared ignoring case.
const OS_SPECIFIC_NAMES: [&str; 8] = [
    ".ds_store",
    "thumbs.db",
    "ehthumbs.db",
    "desktop.ini",
    ".spotlight-v100",
    ".trashes",
    ".fseventsd",
    ".directory",
];

/// Container findings that do not make a bag invalid.
const CONTAINER_WARNINGS: [FindingCode; 2] =
    [FindingCode::ZipTopDirName, FindingCode::ZipPortability];

/// Character encodings tag files may be declared in and that this verifier decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagEncoding {
    Utf8,
    Latin1,
    Utf16,
    Utf16Le,
    Utf16Be,
}

impl TagEncoding {
    /// The encoding a `Tag-File-Character-Encoding` value names, if supported.
    fn from_label(label: &str) -> Option<Self> {
        let normal: String = label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match normal.as_str() {
            "utf8" | "usascii" | "ascii" => Some(Self::Utf8),
            "iso88591" | "latin1" | "l1" => Some(Self::Latin1),
            "utf16" => Some(Self::Utf16),
            "utf16le" => Some(Self::Utf16Le),
            "utf16be" => Some(Self::Utf16Be),
            _ => None,
        }
    }

    /// Decodes a tag file that is not UTF-8; UTF-16 without a byte order mark is big-endian.
    fn decode_other(self, bytes: &[u8]) -> std::result::Result<String, String> {
        let units = |bytes: &[u8], big: bool| -> std::result::Result<Vec<u16>, String> {
            if !bytes.len().is_multiple_of(2) {
                return Err("has an odd number of bytes for UTF-16".to_string());
            }
            Ok(bytes
                .chunks_exact(2)
                .map(|p| {
                    let pair = [p[0], p[1]];
                    if big {
                        u16::from_be_bytes(pair)
                    } else {
                        u16::from_le_bytes(pair)
                    }
                })
                .collect())
        };
        let utf16 = |units: Vec<u16>| String::from_utf16(&units).map_err(|e| e.to_string());
        match self {
            Self::Utf8 => String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string()),
            Self::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            Self::Utf16 => match bytes {
                [0xFF, 0xFE, rest @ ..] => utf16(units(rest, false)?),
                [0xFE, 0xFF, rest @ ..] => utf16(units(rest, true)?),
                _ => utf16(units(bytes, true)?),
            },
            Self::Utf16Le => utf16(units(
                bytes.strip_prefix(&[0xFF, 0xFE]).unwrap_or(bytes),
                false,
            )?),
            Self::Utf16Be => utf16(units(
                bytes.strip_prefix(&[0xFE, 0xFF]).unwrap_or(bytes),
                true,
            )?),
        }
    }
}

/// Tag files this size or smaller are kept once read, to hash them without reading again;
/// larger ones (manifests of big bags) are read again when hashed.
const CACHED_TAG_FILE_BYTES: usize = 1024 * 1024;

/// Verifies the bag whose base directory is `path`.
pub fn verify_bag(path: &Path) -> Result<VerifyReport> {
    let mut reader = DirReader::new(path)?;
    verify_reader(&mut reader)
}

/// Verifies the bag behind any [`BagReader`].
pub fn verify_reader(reader: &mut dyn BagReader) -> Result<VerifyReport> {
    let mut listing = ListingBuilder::default();
    let mut odd = Vec::new();
    let mut held = true;
    let listed = reader.list_entries(&mut |entry| match entry.kind {
        EntryKind::File => held &= listing.push(&entry.path, false, entry.size),
        EntryKind::Dir => held &= listing.push(&entry.path, true, 0),
        _ => odd.push(entry),
    });
    let not_a_bag = |reason: String| BundleError::NotABag {
        path: reader.location(),
        reason,
    };
    listed.map_err(|e| not_a_bag(e.to_string()))?;
    if !held {
        return Err(not_a_bag(
            "its names add up to more than 4 GiB, more than sharc holds to verify a bag".into(),
        ));
    }
    let mut verifier = Verifier::new(listing.finish(), odd);
    let unreadable = verifier.add_container_findings(reader.container_findings());
    if unreadable {
        return Ok(verifier.into_report());
    }
    let conflicts = verifier.name_conflicts();
    verifier.check_bagit_txt(reader);
    verifier.check_payload_dir();
    verifier.load_manifests(reader);
    verifier.check_bag_info(reader);
    verifier.check_fetch_txt(reader);
    verifier.check_completeness();
    verifier.check_tag_manifest_coverage();
    verifier.check_checksums(reader);
    verifier.add_container_findings(reader.container_findings());
    verifier.report.findings.extend(conflicts.0);
    verifier.report.warnings.extend(conflicts.1);
    verifier.check_os_specific_files();
    Ok(verifier.into_report())
}

/// A manifest line that names a file by another spelling than the stored one, or names no
/// stored file.
struct Respelled {
    /// The path as listed.
    listed: String,
    /// The stored file it names and how, if any.
    resolved: Option<(usize, Match)>,
    /// Its digest.
    slot: u32,
}

/// One manifest or tag manifest as read, held compactly: a digest and a listing entry
/// number a line.
struct ManifestFile {
    /// File name in the bag root.
    name: String,
    /// Normalised algorithm name.
    algorithm: String,
    /// The digests of its usable lines.
    digests: DigestStore,
    /// Lines naming a stored file exactly, by listing entry.
    exact: ExactSlots,
    /// Other usable lines, by listed path.
    others: Vec<Respelled>,
    /// Stored files named by another spelling: (listing entry, digest slot), sorted.
    respelled: Vec<(u32, u32)>,
}

impl ManifestFile {
    /// Whether this build can recompute the manifest's checksums.
    fn checkable(&self) -> bool {
        digest::is_checked(&self.algorithm)
    }

    /// The digest slots of the lines that name stored file `entry`, in any spelling.
    fn slots_of(&self, entry: usize) -> impl Iterator<Item = u32> + '_ {
        self.exact
            .get(entry)
            .into_iter()
            .chain(slots_in(&self.respelled, entry))
    }

    /// Whether a line names stored file `entry`.
    fn lists(&self, entry: usize) -> bool {
        self.slots_of(entry).next().is_some()
    }

    /// Whether a line lists `path` as spelled, stored or not.
    fn lists_path(&self, listing: &Listing, path: &str) -> bool {
        listing
            .file(path)
            .is_some_and(|i| self.exact.get(i).is_some())
            || self.others.iter().any(|o| o.listed == path)
    }
}

/// The digest slot of each listing entry a manifest names exactly.
enum ExactSlots {
    /// A slot for every listing entry, [`UNLISTED`] for those not named: a payload
    /// manifest, which names nearly every file.
    Dense(Vec<u32>),
    /// `(entry, slot)` pairs, sorted: a tag manifest, which names a few.
    Sparse(Vec<(u32, u32)>),
}

impl ExactSlots {
    /// The slot of the line naming `entry`.
    fn get(&self, entry: usize) -> Option<u32> {
        match self {
            Self::Dense(slots) => slots.get(entry).copied().filter(|&s| s != UNLISTED),
            Self::Sparse(pairs) => slots_in(pairs, entry).next(),
        }
    }
}

/// The digest slots `list` (sorted `(entry, slot)` pairs) holds for `entry`.
fn slots_in(list: &[(u32, u32)], entry: usize) -> impl Iterator<Item = u32> + '_ {
    let start = list.partition_point(|p| (p.0 as usize) < entry);
    list[start..]
        .iter()
        .take_while(move |p| p.0 as usize == entry)
        .map(|p| p.1)
}

/// A manifest while its lines are read: what a line adds, and the findings about lines, in
/// the order the lines come.
struct ManifestLoad<'a> {
    listing: &'a Listing,
    file: ManifestFile,
    is_tag: bool,
    encoding: PathEncoding,
    /// For each listing entry, the slot of the exact line naming it.
    first_exact: Vec<u32>,
    /// For each other spelling, the slot of its first line.
    first_other: BTreeMap<String, u32>,
    problems: Vec<manifest::LineProblem>,
    line_findings: Vec<(Finding, bool)>,
}

impl ManifestLoad<'_> {
    /// Adds line `line_no`.
    fn line(&mut self, line: &str, line_no: usize) {
        let file = &mut self.file;
        let Some(entry) = manifest::parse_one(
            line,
            line_no,
            &file.algorithm,
            self.encoding,
            &mut self.problems,
        ) else {
            return;
        };
        if let Some(finding) = entry_problem(&file.name, &entry, self.is_tag) {
            self.line_findings.push((finding, true));
            return;
        }
        let resolved = self.listing.resolve(&entry.path);
        let first = match resolved {
            Some((i, Match::Exact)) => Some(self.first_exact[i]).filter(|&s| s != UNLISTED),
            _ => self.first_other.get(&entry.path).copied(),
        };
        if let Some(first) = first {
            let same = file.digests.hex(first) == entry.digest;
            let finding = Finding::at(
                FindingCode::DuplicateEntry,
                &entry.path,
                format!(
                    "is listed more than once in {} (again on line {}{}); BagIt 1.0 lists each file exactly once",
                    file.name,
                    entry.line,
                    if same {
                        ", same checksum"
                    } else {
                        ", with another checksum"
                    }
                ),
            );
            self.line_findings.push((finding, !same));
            return;
        }
        let slot = file.digests.push(&entry.digest);
        match resolved {
            Some((i, Match::Exact)) => {
                self.first_exact[i] = slot;
            }
            _ => {
                self.first_other.insert(entry.path.clone(), slot);
                if let Some((i, _)) = resolved {
                    file.respelled.push((i as u32, slot));
                }
                file.others.push(Respelled {
                    listed: entry.path,
                    resolved,
                    slot,
                });
            }
        }
    }
}

/// State of one verification run.
struct Verifier {
    /// Every file and directory.
    listing: Listing,
    /// Tag files already read, kept to hash them without reading again.
    read_cache: BTreeMap<String, Vec<u8>>,
    /// Tag files too large to read (reported once, never hashed).
    oversized: BTreeSet<String>,
    /// The bag declares a BagIt version before 1.0: each payload file needs to be in one
    /// manifest only, and manifest paths are not percent-encoded.
    pre_1_0: bool,
    /// The encoding `bagit.txt` declares for the other tag files.
    encoding: TagEncoding,
    payload_manifests: Vec<ManifestFile>,
    tag_manifests: Vec<ManifestFile>,
    report: VerifyReport,
}

impl Verifier {
    /// Takes the listing, and reports entries no bag should hold.
    fn new(listing: Listing, mut odd: Vec<BagEntry>) -> Self {
        let mut verifier = Self {
            listing,
            read_cache: BTreeMap::new(),
            oversized: BTreeSet::new(),
            pre_1_0: false,
            encoding: TagEncoding::Utf8,
            payload_manifests: Vec::new(),
            tag_manifests: Vec::new(),
            report: VerifyReport::default(),
        };
        odd.sort_by(|a, b| a.path.cmp(&b.path));
        for BagEntry { path, kind, .. } in odd {
            let (code, message) = match kind {
                EntryKind::NonUtf8Name => (
                    FindingCode::BadFileName,
                    "name is not valid UTF-8, so no manifest can list it",
                ),
                EntryKind::Unreadable => (
                    FindingCode::UnreadableFile,
                    "directory could not be listed; check its permissions",
                ),
                _ => (
                    FindingCode::SpecialFile,
                    "is a symbolic link or other special file; a bag holds only regular files",
                ),
            };
            verifier.finding(Finding::at(code, &path, message));
        }
        let listing = &verifier.listing;
        for i in listing.files().filter(|&i| is_payload(listing.name(i))) {
            verifier.report.payload_files += 1;
            verifier.report.payload_bytes += listing.size(i);
        }
        verifier
    }

    fn finding(&mut self, finding: Finding) {
        self.report.findings.push(finding);
    }

    fn warning(&mut self, warning: Finding) {
        self.report.warnings.push(warning);
    }

    /// A finding for 1.0 bags, a warning for older ones.
    fn finding_from_1_0(&mut self, finding: Finding) {
        if self.pre_1_0 {
            self.warning(finding);
        } else {
            self.finding(finding);
        }
    }

    /// Adds what the reader found about its container; true if the container could not be
    /// read at all, so there is nothing more to check.
    fn add_container_findings(&mut self, found: Vec<Finding>) -> bool {
        let mut unreadable = false;
        for f in found {
            unreadable |= f.code == FindingCode::ZipUnreadable;
            if CONTAINER_WARNINGS.contains(&f.code) {
                self.warning(f);
            } else {
                self.finding(f);
            }
        }
        unreadable
    }

    /// How manifest and fetch paths are spelled in this bag.
    fn path_encoding(&self) -> PathEncoding {
        if self.pre_1_0 {
            PathEncoding::Literal
        } else {
            PathEncoding::Rfc8493
        }
    }

    /// Reads a tag file once, caching it when small; `None` if absent or unreadable
    /// (reported).
    fn read_tag(&mut self, reader: &mut dyn BagReader, name: &str) -> Option<Vec<u8>> {
        if let Some(bytes) = self.read_cache.get(name) {
            return Some(bytes.clone());
        }
        let listed = self.listing.size(self.listing.file(name)?);
        if self.oversized.contains(name) {
            return None;
        }
        if listed > MAX_TAG_FILE_BYTES {
            self.too_large(name, listed);
            return None;
        }
        let mut bytes = Vec::new();
        let read = reader
            .open(name)
            .and_then(|r| r.take(MAX_TAG_FILE_BYTES + 1).read_to_end(&mut bytes));
        match read {
            Ok(n) if n as u64 > MAX_TAG_FILE_BYTES => {
                self.too_large(name, n as u64);
                None
            }
            Ok(_) => {
                if bytes.len() <= CACHED_TAG_FILE_BYTES {
                    self.read_cache.insert(name.to_string(), bytes.clone());
                }
                Some(bytes)
            }
            Err(e) => {
                self.unreadable(name, &e);
                None
            }
        }
    }

    /// Reports a file that cannot be read.
    fn unreadable(&mut self, name: &str, e: &std::io::Error) {
        self.finding(Finding::at(
            FindingCode::UnreadableFile,
            name,
            format!("cannot be read: {e}"),
        ));
    }

    /// Reports a tag file too large to read; it is neither read nor hashed.
    fn too_large(&mut self, name: &str, size: u64) {
        self.oversized.insert(name.to_string());
        self.finding(Finding::at(
            FindingCode::TagFileTooLarge,
            name,
            format!(
                "is {}, more than a tag file may be ({}); it was not read. A tag file this large is not one a bag tool wrote: check where the bag came from",
                if size > MAX_TAG_FILE_BYTES { format!("over {size} bytes") } else { format!("{size} bytes") },
                human_size(MAX_TAG_FILE_BYTES)
            ),
        ));
    }

    /// Reads a tag file as UTF-8 text, reporting a BOM and invalid UTF-8.
    fn read_tag_text(
        &mut self,
        reader: &mut dyn BagReader,
        name: &str,
        invalid: FindingCode,
    ) -> Option<String> {
        let bytes = self.read_tag(reader, name)?;
        if self.encoding != TagEncoding::Utf8 {
            return match self.encoding.decode_other(&bytes) {
                Ok(text) => Some(text),
                Err(e) => {
                    let message = format!("cannot be decoded as {:?}: {e}", self.encoding);
                    self.finding(Finding::at(invalid, name, message));
                    None
                }
            };
        }
        let body = match bytes.strip_prefix(BOM) {
            Some(body) => {
                self.finding(Finding::at(
                    FindingCode::BomInTagFile,
                    name,
                    "starts with a byte order mark; UTF-8 tag files must not (RFC 8493 §2.3)",
                ));
                body
            }
            None => &bytes[..],
        };
        match std::str::from_utf8(body) {
            Ok(text) => Some(text.to_string()),
            Err(e) => {
                self.finding(Finding::at(
                    invalid,
                    name,
                    format!("is not valid UTF-8: {e}"),
                ));
                None
            }
        }
    }

    /// `bagit.txt`: exactly the version line and the encoding line, no BOM.
    fn check_bagit_txt(&mut self, reader: &mut dyn BagReader) {
        let name = "bagit.txt";
        let bad = |message: String| Finding::at(FindingCode::BadBagitTxt, name, message);
        let Some(bytes) = self.read_tag(reader, name) else {
            if self.listing.file(name).is_none() {
                self.finding(bad("is missing; every bag starts with bagit.txt".into()));
            }
            return;
        };
        if bytes.starts_with(BOM) {
            self.finding(bad(
                "starts with a byte order mark, which RFC 8493 forbids".into()
            ));
            return;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            self.finding(bad("is not valid UTF-8".into()));
            return;
        };
        for problem in bagit_txt_problems(text) {
            self.finding(bad(problem));
        }
        if !text.ends_with(['\n', '\r']) {
            self.warning(bad("last line has no line ending".into()));
        }
        let encoding = split_lines(text)
            .get(1)
            .and_then(|l| l.strip_prefix("Tag-File-Character-Encoding: "))
            .map(str::to_string);
        if let Some(label) = encoding {
            match TagEncoding::from_label(&label) {
                Some(encoding) => self.encoding = encoding,
                None => self.finding(Finding::at(
                    FindingCode::UnsupportedEncoding,
                    name,
                    format!(
                        "tag files are declared {label}; sharc reads UTF-8, ISO-8859-1 and UTF-16"
                    ),
                )),
            }
        }
        self.pre_1_0 = split_lines(text)
            .first()
            .and_then(|l| l.strip_prefix("BagIt-Version: "))
            .is_some_and(|v| v != "1.0" && KNOWN_VERSIONS.contains(&v));
    }

    /// There must be a `data/` directory.
    fn check_payload_dir(&mut self) {
        if !self.listing.has_dir("data") {
            self.finding(Finding::bag(
                FindingCode::MissingPayloadDir,
                "there is no data/ directory; a bag keeps its payload there",
            ));
        }
    }

    /// Reads and parses every `manifest-*.txt` and `tagmanifest-*.txt` in the bag root.
    fn load_manifests(&mut self, reader: &mut dyn BagReader) {
        let listing = &self.listing;
        let root_files: Vec<String> = listing
            .files()
            .map(|i| listing.name(i))
            .filter(|p| !p.contains('/') && p.ends_with(".txt"))
            .map(str::to_string)
            .collect();
        for name in root_files {
            let stem = &name[..name.len() - ".txt".len()];
            if let Some(alg) = stem.strip_prefix("manifest-") {
                let alg = manifest::normalize_algorithm(alg);
                if let Some(m) = self.load_manifest(reader, &name, alg, false) {
                    self.payload_manifests.push(m);
                }
            } else if let Some(alg) = stem.strip_prefix("tagmanifest-") {
                let alg = manifest::normalize_algorithm(alg);
                if let Some(m) = self.load_manifest(reader, &name, alg, true) {
                    self.tag_manifests.push(m);
                }
            }
        }
        if self.payload_manifests.is_empty() {
            self.finding(Finding::bag(
                FindingCode::MissingManifest,
                "there is no payload manifest (manifest-<algorithm>.txt); a bag needs at least one",
            ));
        }
    }

    /// Parses one manifest, line by line as it streams, reporting each line that cannot be
    /// used.
    fn load_manifest(
        &mut self,
        reader: &mut dyn BagReader,
        name: &str,
        algorithm: String,
        is_tag: bool,
    ) -> Option<ManifestFile> {
        let listed = self.listing.size(self.listing.file(name)?);
        if listed > MAX_TAG_FILE_BYTES {
            self.too_large(name, listed);
            return None;
        }
        let text = match self.encoding {
            TagEncoding::Utf8 => None,
            _ => Some(self.read_tag_text(reader, name, FindingCode::BadManifestLine)?),
        };
        let encoding = self.path_encoding();
        let mut load = ManifestLoad::new(&self.listing, name, algorithm, is_tag, encoding);
        if !is_tag {
            load.file
                .digests
                .reserve(self.report.payload_files as usize);
        }
        let bom = match text {
            Some(text) => {
                for (index, line) in split_lines(&text).into_iter().enumerate() {
                    load.line(line, index + 1);
                }
                false
            }
            None => match stream_manifest(reader, name, &mut load) {
                Ok(bom) => bom,
                Err(failure) => {
                    drop(load);
                    match failure {
                        StreamFailure::TooLarge(size) => self.too_large(name, size),
                        StreamFailure::NotUtf8(message) => {
                            self.finding(Finding::at(FindingCode::BadManifestLine, name, message))
                        }
                        StreamFailure::Unreadable(e) => self.unreadable(name, &e),
                    }
                    return None;
                }
            },
        };
        let ManifestLoad {
            file,
            first_exact,
            problems,
            line_findings,
            ..
        } = load;
        if bom {
            self.finding(Finding::at(
                FindingCode::BomInTagFile,
                name,
                "starts with a byte order mark; UTF-8 tag files must not (RFC 8493 §2.3)",
            ));
        }
        if !file.checkable() {
            self.finding(Finding::at(
                FindingCode::UnsupportedAlgorithm,
                name,
                format!(
                    "uses {}, which sharc cannot compute (it checks {}); check this manifest with bagit.py",
                    file.algorithm,
                    digest::CHECKED_ALGORITHMS.join(", ")
                ),
            ));
        }
        for problem in problems {
            let message = format!("line {}: {}", problem.line, problem.message);
            let finding = Finding::at(problem.code, name, message);
            if problem.warning {
                self.warning(finding);
            } else {
                self.finding(finding);
            }
        }
        for (finding, always) in line_findings {
            if always {
                self.finding(finding);
            } else {
                self.finding_from_1_0(finding);
            }
        }
        let mut file = file;
        file.exact = if is_tag {
            let pairs = first_exact
                .iter()
                .enumerate()
                .filter(|(_, s)| **s != UNLISTED)
                .map(|(i, s)| (i as u32, *s))
                .collect();
            ExactSlots::Sparse(pairs)
        } else {
            ExactSlots::Dense(first_exact)
        };
        file.respelled.sort_unstable();
        file.others.sort_by(|a, b| a.listed.cmp(&b.listed));
        file.digests.shrink();
        Some(file)
    }

    /// `bag-info.txt`: syntax, and Payload-Oxum against the payload.
    fn check_bag_info(&mut self, reader: &mut dyn BagReader) {
        let name = "bag-info.txt";
        let Some(text) = self.read_tag_text(reader, name, FindingCode::BadBagInfo) else {
            return;
        };
        let parsed = parse_bag_info(&text);
        for problem in parsed.problems {
            self.finding(Finding::at(FindingCode::BadBagInfo, name, problem));
        }
        for warning in parsed.warnings {
            self.warning(Finding::at(FindingCode::BadBagInfo, name, warning));
        }
        let elements = parsed.elements;
        let oxums: Vec<&str> = elements
            .iter()
            .filter(|(label, _)| label.eq_ignore_ascii_case("Payload-Oxum"))
            .map(|(_, value)| value.as_str())
            .collect();
        if oxums.len() > 1 {
            self.finding(Finding::at(
                FindingCode::BadBagInfo,
                name,
                format!(
                    "Payload-Oxum appears {} times; it must appear at most once",
                    oxums.len()
                ),
            ));
        }
        let Some(oxum) = oxums.first() else { return };
        let finding = match parse_oxum(oxum) {
            None => Finding::at(
                FindingCode::BadBagInfo,
                name,
                format!("Payload-Oxum {oxum:?} is not <bytes>.<files>"),
            ),
            Some(declared)
                if declared != (self.report.payload_bytes, self.report.payload_files) =>
            {
                Finding::at(
                    FindingCode::OxumMismatch,
                    name,
                    format!(
                        "Payload-Oxum says {}.{} but data/ holds {} bytes in {} files",
                        declared.0,
                        declared.1,
                        self.report.payload_bytes,
                        self.report.payload_files
                    ),
                )
            }
            Some(_) => return,
        };
        self.finding(finding);
    }

    /// `fetch.txt` is legal but its files are never fetched here; its paths must still stay
    /// inside `data/`.
    fn check_fetch_txt(&mut self, reader: &mut dyn BagReader) {
        let name = "fetch.txt";
        if self.listing.file(name).is_none() {
            return;
        }
        self.warning(Finding::at(
            FindingCode::FetchTxtPresent,
            name,
            "lists files to fetch; sharc does not fetch them, so absent ones are reported missing",
        ));
        let Some(text) = self.read_tag_text(reader, name, FindingCode::BadFetchLine) else {
            return;
        };
        let encoding = self.path_encoding();
        for (index, line) in split_lines(&text).into_iter().enumerate() {
            let line_no = index + 1;
            let bad = |message: String| {
                Finding::at(
                    FindingCode::BadFetchLine,
                    name,
                    format!("line {line_no}: {message}"),
                )
            };
            let mut fields = line.splitn(3, [' ', '\t']);
            let (Some(url), Some(length), Some(raw_path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                self.finding(bad("expected `url length path`".to_string()));
                continue;
            };
            let raw_path = raw_path.trim_start_matches([' ', '\t']);
            if url.is_empty() || !url.contains(':') {
                self.finding(bad(format!("{url:?} is not an absolute URL")));
            }
            if length != "-" && !length.bytes().all(|b| b.is_ascii_digit()) {
                self.finding(bad(format!("length {length:?} is not a number or '-'")));
            }
            let path = match encoding.decode(raw_path) {
                Ok(path) => path,
                Err(e) => {
                    self.finding(bad(e));
                    continue;
                }
            };
            if let Some(reason) = escape_reason(&path) {
                self.finding(Finding::at(
                    FindingCode::PathOutsideBag,
                    &path,
                    format!("fetch.txt line {line_no} lists a path that {reason}"),
                ));
            } else if !is_payload(&path) {
                self.finding(Finding::at(
                    FindingCode::PathOutsideBag,
                    &path,
                    format!("fetch.txt line {line_no} lists a file outside data/; it may list payload only"),
                ));
            }
        }
    }

    /// Every listed file exists; every payload file is in every payload manifest.
    fn check_completeness(&mut self) {
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut respelled: BTreeMap<String, (Match, usize)> = BTreeMap::new();
        let mut twice: Vec<Finding> = Vec::new();
        let listing = &self.listing;
        for m in self.payload_manifests.iter().chain(&self.tag_manifests) {
            // Spellings of each stored file that another spelling also names.
            let mut spellings: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
            for other in &m.others {
                let Some((i, how)) = other.resolved else {
                    missing
                        .entry(other.listed.clone())
                        .or_default()
                        .push(m.name.clone());
                    continue;
                };
                respelled.insert(other.listed.clone(), (how, i));
                let names = spellings.entry(i).or_default();
                names.insert(&other.listed);
                if m.exact.get(i).is_some() {
                    names.insert(listing.name(i));
                }
            }
            let mut found: Vec<(&str, Finding)> = Vec::new();
            for names in spellings.values().filter(|n| n.len() > 1) {
                let mut names = names.iter();
                let Some(first) = names.next() else { continue };
                for listed in names {
                    let finding = Finding::at(
                        FindingCode::DuplicateEntry,
                        listed,
                        format!(
                            "names the same file as {first:?} in {}; each file is listed once",
                            m.name
                        ),
                    );
                    found.push((listed, finding));
                }
            }
            found.sort_by(|a, b| a.0.cmp(b.0));
            twice.extend(found.into_iter().map(|(_, f)| f));
        }
        for finding in twice {
            self.finding_from_1_0(finding);
        }
        for (listed, (how, disk)) in respelled {
            let (code, difference) = match how {
                Match::Case => (FindingCode::CaseMismatch, "case"),
                Match::Normalization | Match::Exact => {
                    (FindingCode::NormalizationMismatch, "Unicode normalization")
                }
            };
            let disk = self.listing.name(disk).to_string();
            self.warning(Finding::at(
                code,
                &listed,
                format!("is stored as {disk:?}, which differs only by {difference}"),
            ));
        }
        for (listed, names) in missing {
            self.report_missing(&listed, &names);
        }
        self.check_payload_listed();
    }

    /// Reports a listed file that is not in the bag.
    fn report_missing(&mut self, listed: &str, manifests: &[String]) {
        let what = if self.listing.has_dir(listed) {
            "is a directory; manifests list files only"
        } else {
            "is not in the bag"
        };
        self.finding(Finding::at(
            FindingCode::MissingFile,
            listed,
            format!("is listed in {} but {what}", manifests.join(", ")),
        ));
    }

    /// Every file under `data/` must be in every payload manifest.
    fn check_payload_listed(&mut self) {
        if self.payload_manifests.is_empty() {
            return;
        }
        let mut found = Vec::new();
        let listing = &self.listing;
        for i in listing.files() {
            let path = listing.name(i);
            if !is_payload(path) {
                continue;
            }
            let absent: Vec<&str> = self
                .payload_manifests
                .iter()
                .filter(|m| !m.lists(i))
                .map(|m| m.name.as_str())
                .collect();
            if absent.is_empty() {
                continue;
            }
            let in_none = absent.len() == self.payload_manifests.len();
            let message = if in_none {
                "is not listed in any payload manifest".to_string()
            } else {
                format!(
                    "is not listed in {}; every payload manifest must list every payload file",
                    absent.join(", ")
                )
            };
            found.push((
                Finding::at(FindingCode::NotInManifest, path, message),
                in_none,
            ));
        }
        for (finding, in_none) in found {
            if in_none {
                self.finding(finding);
            } else {
                self.finding_from_1_0(finding);
            }
        }
    }

    /// Each tag manifest must list every payload manifest.
    fn check_tag_manifest_coverage(&mut self) {
        let mut findings = Vec::new();
        for tag in &self.tag_manifests {
            for payload in &self.payload_manifests {
                if !tag.lists_path(&self.listing, &payload.name) {
                    findings.push(Finding::at(
                        FindingCode::NotInTagManifest,
                        &payload.name,
                        format!(
                            "is not listed in {}, which must list every payload manifest",
                            tag.name
                        ),
                    ));
                }
            }
        }
        self.report.findings.extend(findings);
    }

    /// What the manifests say of stored file `entry`: (manifest, algorithm, digest) for each
    /// line that names it, in manifests this build can check.
    fn checks_of(&self, entry: usize) -> Vec<(String, String, String)> {
        let manifests = self.payload_manifests.iter().chain(&self.tag_manifests);
        let mut checks = Vec::new();
        for m in manifests.filter(|m| m.checkable()) {
            for slot in m.slots_of(entry) {
                checks.push((m.name.clone(), m.algorithm.clone(), m.digests.hex(slot)));
            }
        }
        checks
    }

    /// Recomputes every checksum, reading each file once.
    fn check_checksums(&mut self, reader: &mut dyn BagReader) {
        let hasher = |checks: &[(String, String, String)]| {
            MultiHasher::new(checks.iter().map(|(_, algorithm, _)| algorithm.as_str()))
        };
        let mut found = Vec::new();
        // Tag files already read are hashed from memory; every other file on all cores.
        for (path, bytes) in &self.read_cache {
            let Some(i) = self.listing.file(path) else {
                continue;
            };
            let checks = self.checks_of(i);
            if !checks.is_empty() {
                found.extend(mismatches(
                    path,
                    &checks,
                    Ok(hasher(&checks).of_bytes(bytes)),
                ));
            }
        }
        let jobs = self
            .listing
            .files()
            .filter(|&i| {
                let path = self.listing.name(i);
                !self.oversized.contains(path) && !self.read_cache.contains_key(path)
            })
            .filter_map(|i| {
                let checks = self.checks_of(i);
                (!checks.is_empty()).then(|| hash_pool::Job {
                    id: i,
                    path: self.listing.name(i).to_string(),
                    hasher: hasher(&checks),
                })
            });
        hash_pool::hash_files(reader, jobs, |(i, path, result)| {
            found.extend(mismatches(&path, &self.checks_of(i), result));
        });
        found.sort_by(|a, b| a.path.cmp(&b.path));
        self.report.findings.extend(found);
    }

    /// Names equal after NFC are findings; names equal after case folding are warnings:
    /// `(findings, warnings)`, found before the manifests are read so that the index it
    /// takes is gone by then.
    fn name_conflicts(&self) -> (Vec<Finding>, Vec<Finding>) {
        let names: Vec<String> = self
            .listing
            .clashing()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut by_nfc: BTreeMap<String, BTreeSet<&String>> = BTreeMap::new();
        for name in &names {
            by_nfc.entry(name.nfc().collect()).or_default().insert(name);
        }
        let mut by_case: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for nfc in by_nfc.keys() {
            by_case.entry(nfc.to_lowercase()).or_default().push(nfc);
        }
        let mut findings = Vec::new();
        for spellings in by_nfc.values().filter(|s| s.len() > 1) {
            findings.push(conflict(
                FindingCode::NormalizationConflict,
                spellings.iter().copied(),
                "Unicode normalization",
            ));
        }
        let mut warnings = Vec::new();
        for spellings in by_case.values().filter(|s| s.len() > 1) {
            warnings.push(conflict(
                FindingCode::CaseConflict,
                spellings.iter().copied(),
                "case",
            ));
        }
        (findings, warnings)
    }

    /// Files that operating systems leave behind are warnings: they are rarely meant to be
    /// archived.
    fn check_os_specific_files(&mut self) {
        let listing = &self.listing;
        let found: Vec<String> = (0..listing.len())
            .map(|i| listing.name(i))
            .filter(|path| {
                let name = path.rsplit('/').next().unwrap_or(path);
                let lower = name.to_lowercase();
                OS_SPECIFIC_NAMES.contains(&lower.as_str()) || name.starts_with("._")
            })
            .map(str::to_string)
            .collect();
        for path in found {
            self.warning(Finding::at(
                FindingCode::OsSpecificFile,
                &path,
                "is a file an operating system leaves behind (Finder, Explorer); it is probably not meant to be archived",
            ));
        }
    }

    /// The report, with the listing and the payload manifests handed over as its index.
    fn into_report(self) -> VerifyReport {
        let Self {
            listing,
            payload_manifests,
            mut report,
            ..
        } = self;
        let mut others: Vec<String> = payload_manifests
            .iter()
            .flat_map(|m| m.others.iter().map(|o| o.listed.clone()))
            .collect();
        others.sort_unstable();
        others.dedup();
        let columns = payload_manifests
            .into_iter()
            .map(|m| {
                let mut other_slots = vec![UNLISTED; others.len()];
                for o in &m.others {
                    if let Ok(at) = others.binary_search(&o.listed) {
                        other_slots[at] = o.slot;
                    }
                }
                let stored = match m.exact {
                    ExactSlots::Dense(slots) => slots,
                    ExactSlots::Sparse(pairs) => {
                        let mut slots = vec![UNLISTED; listing.len()];
                        for (i, slot) in pairs {
                            slots[i as usize] = slot;
                        }
                        slots
                    }
                };
                Column {
                    algorithm: m.algorithm,
                    stored,
                    others: other_slots,
                    digests: m.digests,
                }
            })
            .collect();
        report.payload = PayloadIndex::new(listing, others, columns);
        report
    }
}

/// Why a manifest could not be read as it streamed.
enum StreamFailure {
    TooLarge(u64),
    NotUtf8(String),
    Unreadable(std::io::Error),
}

impl<'a> ManifestLoad<'a> {
    /// Starts reading manifest `name` of `algorithm`.
    fn new(
        listing: &'a Listing,
        name: &str,
        algorithm: String,
        is_tag: bool,
        encoding: PathEncoding,
    ) -> Self {
        Self {
            listing,
            file: ManifestFile {
                name: name.to_string(),
                digests: DigestStore::for_algorithm(&algorithm),
                algorithm,
                exact: ExactSlots::Sparse(Vec::new()),
                others: Vec::new(),
                respelled: Vec::new(),
            },
            is_tag,
            encoding,
            first_exact: vec![UNLISTED; listing.len()],
            first_other: BTreeMap::new(),
            problems: Vec::new(),
            line_findings: Vec::new(),
        }
    }
}

/// Streams a UTF-8 manifest into `load`, line by line; true when it starts with a BOM.
fn stream_manifest(
    reader: &mut dyn BagReader,
    name: &str,
    load: &mut ManifestLoad<'_>,
) -> std::result::Result<bool, StreamFailure> {
    let mut line_no = 0;
    let mut bytes = 0u64;
    let mut bom = false;
    let mut not_utf8 = None;
    let file = reader.open(name).map_err(StreamFailure::Unreadable)?;
    manifest::for_each_line(file.take(MAX_TAG_FILE_BYTES + 1), |raw| {
        line_no += 1;
        bytes += raw.len() as u64 + 1;
        let raw = match raw.strip_prefix(BOM) {
            Some(rest) if line_no == 1 => {
                bom = true;
                rest
            }
            _ => raw,
        };
        match std::str::from_utf8(raw) {
            Ok(text) => {
                load.line(text, line_no);
                Ok(())
            }
            Err(e) => {
                not_utf8 = Some(format!("is not valid UTF-8: line {line_no}: {e}"));
                Err(std::io::Error::from(std::io::ErrorKind::InvalidData))
            }
        }
    })
    .map_err(|e| match not_utf8.take() {
        Some(message) => StreamFailure::NotUtf8(message),
        None => StreamFailure::Unreadable(e),
    })?;
    if bytes > MAX_TAG_FILE_BYTES {
        return Err(StreamFailure::TooLarge(bytes));
    }
    Ok(bom)
}

/// What is wrong with one file's checksums: it could not be read, or a digest differs from
/// what a manifest says.
fn mismatches(
    path: &str,
    checks: &[(String, String, String)],
    result: std::io::Result<hash_pool::Digests>,
) -> Vec<Finding> {
    let digests = match result {
        Ok(digests) => digests,
        Err(e) => {
            let message = format!("cannot be read to check its checksum: {e}");
            return vec![Finding::at(FindingCode::UnreadableFile, path, message)];
        }
    };
    checks
        .iter()
        .filter_map(|(manifest, algorithm, digest)| {
            let actual = digests.get(algorithm).map_or("", String::as_str);
            (actual != digest).then(|| {
                Finding::at(
                    FindingCode::ChecksumMismatch,
                    path,
                    format!("{algorithm} is {actual} but {manifest} says {digest}"),
                )
            })
        })
        .collect()
}

/// Whether a bag-relative path is a payload file.
fn is_payload(path: &str) -> bool {
    path.starts_with("data/")
}

/// A finding for names that differ only by `difference`.
fn conflict<'a>(
    code: FindingCode,
    spellings: impl IntoIterator<Item = &'a String>,
    difference: &str,
) -> Finding {
    let spellings: Vec<&String> = spellings.into_iter().collect();
    let others: Vec<String> = spellings[1..].iter().map(|s| format!("{s:?}")).collect();
    Finding::at(
        code,
        spellings[0],
        format!("differs from {} only by {difference}", others.join(", ")),
    )
}

/// A finding for a manifest entry whose path is unsafe or belongs in another manifest.
fn entry_problem(manifest: &str, entry: &manifest::Entry, is_tag: bool) -> Option<Finding> {
    let path = &entry.path;
    let line = entry.line;
    let at = |code, message: String| Some(Finding::at(code, path, message));
    if let Some(reason) = escape_reason(path) {
        return at(
            FindingCode::PathOutsideBag,
            format!("{manifest} line {line} lists a path that {reason}"),
        );
    }
    if path
        .split('/')
        .any(|segment| segment.is_empty() || segment == ".")
    {
        return at(
            FindingCode::BadManifestLine,
            format!(
                "{manifest} line {line} lists a path with an empty or '.' segment; write it without ./ or //"
            ),
        );
    }
    if !is_tag && !is_payload(path) {
        return at(
            FindingCode::PathOutsideBag,
            format!(
                "{manifest} line {line} lists a file outside data/; payload manifests list payload only"
            ),
        );
    }
    if is_tag && is_payload(path) {
        return at(
            FindingCode::BadTagManifestEntry,
            format!("{manifest} line {line} lists a payload file; tag manifests must not"),
        );
    }
    if is_tag && !path.contains('/') && path.starts_with("tagmanifest-") {
        return at(
            FindingCode::BadTagManifestEntry,
            format!("{manifest} line {line} lists a tag manifest; tag manifests must not"),
        );
    }
    None
}

/// What is wrong with the text of `bagit.txt`, one message per problem.
fn bagit_txt_problems(text: &str) -> Vec<String> {
    let lines = split_lines(text);
    let mut problems = Vec::new();
    if lines.len() != 2 {
        problems.push(format!(
            "has {} lines; it must have exactly two",
            lines.len()
        ));
    }
    match lines
        .first()
        .and_then(|l| l.strip_prefix("BagIt-Version: "))
    {
        Some(version) if KNOWN_VERSIONS.contains(&version) => {}
        Some(version) if is_version_number(version) => problems.push(format!(
            "version {version} is not supported; expected 1.0 or 0.97"
        )),
        _ => problems.push("first line must be exactly `BagIt-Version: <M.N>`".to_string()),
    }
    match lines
        .get(1)
        .and_then(|l| l.strip_prefix("Tag-File-Character-Encoding: "))
    {
        Some(encoding) if !encoding.is_empty() && encoding.trim() == encoding => {}
        _ => problems.push(
            "second line must be exactly `Tag-File-Character-Encoding: <encoding>`".to_string(),
        ),
    }
    problems
}

/// `1*DIGIT "." 1*DIGIT`.
fn is_version_number(version: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    version
        .split_once('.')
        .is_some_and(|(major, minor)| digits(major) && digits(minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BagInfo, BagWriter, PayloadPath};
    use crate::fixity;
    use std::fs;
    use std::path::PathBuf;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    /// A fresh valid bag with two payload files, and the temp dir holding it.
    fn sample_bag() -> std::result::Result<(tempfile::TempDir, PathBuf), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let mut writer = BagWriter::create(&dir.path().join("bag"))?;
        writer.add_bytes(&PayloadPath::new("a.txt")?, b"abc")?;
        writer.add_bytes(&PayloadPath::new("sub/b.txt")?, b"hello")?;
        let bag = writer.finish(BagInfo::default())?.path;
        Ok((dir, bag))
    }

    fn codes(findings: &[Finding]) -> Vec<FindingCode> {
        findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_tag_file_too_large_is_a_finding_and_never_read_or_hashed() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let huge = vec![b'a'; MAX_TAG_FILE_BYTES as usize + 1];
        fs::write(bag.join("bag-info.txt"), &huge)?;
        let report = verify_bag(&bag)?;
        let found: Vec<(FindingCode, Option<&str>)> = report
            .findings
            .iter()
            .map(|f| (f.code, f.path.as_deref()))
            .collect();
        assert_eq!(
            found,
            [(FindingCode::TagFileTooLarge, Some("bag-info.txt"))],
            "no checksum finding: an oversized tag file is not hashed either"
        );
        Ok(())
    }

    #[test]
    fn a_written_bag_is_valid() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let report = verify_bag(&bag)?;
        assert!(report.is_valid(), "{:?}", report.findings);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!((report.payload_bytes, report.payload_files), (8, 2));
        let digests = report.payload.get("data/a.txt").ok_or("no entry")?;
        assert!(digests.agrees_with(&fixity::of_bytes(b"abc")));
        assert!(!digests.agrees_with(&fixity::of_bytes(b"abd")));
        assert_eq!(digests.iter().count(), 2);
        Ok(())
    }

    #[test]
    fn bagit_txt_must_be_exact() {
        let ok = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
        assert!(bagit_txt_problems(ok).is_empty());
        assert!(
            bagit_txt_problems("BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8")
                .is_empty()
        );
        for bad in [
            "BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
            "BagIt-Version: 1.0\n",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n\n",
            "BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n",
            "BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n",
            "Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
            "BagIt-Version: 1.0\nTag-File-Character-Encoding:\n",
        ] {
            assert!(!bagit_txt_problems(bad).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn unsafe_manifest_paths_are_findings_and_never_opened() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let zeros = "0".repeat(64);
        let extra = format!(
            "{zeros}  data/../../etc/passwd\n{zeros}  /etc/passwd\n{zeros}  bagit.txt\n{zeros}  data//a.txt\n{zeros}  ./data/a.txt\n"
        );
        let manifest = bag.join("manifest-sha256.txt");
        let mut text = fs::read_to_string(&manifest)?;
        text.push_str(&extra);
        fs::write(&manifest, text)?;
        let report = verify_bag(&bag)?;
        let outside = report
            .findings
            .iter()
            .filter(|f| f.code == FindingCode::PathOutsideBag);
        assert_eq!(outside.count(), 3, "{:?}", report.findings);
        assert!(report.has(FindingCode::BadManifestLine));
        assert!(!report.has(FindingCode::MissingFile));
        // `./data/a.txt` is read as data/a.txt, which the manifest already lists.
        assert!(report.has(FindingCode::DuplicateEntry));
        assert!(
            codes(&report.warnings).contains(&FindingCode::LeadingDotSlash),
            "{:?}",
            report.warnings
        );
        Ok(())
    }

    #[test]
    fn tag_manifest_listing_payload_is_a_finding() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let tags = bag.join("tagmanifest-sha256.txt");
        let mut text = fs::read_to_string(&tags)?;
        text.push_str(&format!(
            "{}  data/a.txt\n",
            fixity::of_bytes(b"abc").sha256
        ));
        fs::write(&tags, text)?;
        let report = verify_bag(&bag)?;
        assert_eq!(codes(&report.findings), [FindingCode::BadTagManifestEntry]);
        Ok(())
    }

    #[test]
    fn tag_manifest_must_list_payload_manifests() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let tags = bag.join("tagmanifest-sha512.txt");
        let text = fs::read_to_string(&tags)?;
        let kept: String = text
            .lines()
            .filter(|l| !l.ends_with("manifest-sha256.txt"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(&tags, kept)?;
        let report = verify_bag(&bag)?;
        assert_eq!(codes(&report.findings), [FindingCode::NotInTagManifest]);
        Ok(())
    }

    #[test]
    fn unknown_algorithm_is_unsupported_but_still_checked_for_completeness() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let zeros = "0".repeat(64);
        fs::write(
            bag.join("manifest-blake3.txt"),
            format!("{zeros}  data/a.txt\n{zeros}  data/gone.txt\n"),
        )?;
        let report = verify_bag(&bag)?;
        let found = codes(&report.findings);
        assert!(
            found.contains(&FindingCode::UnsupportedAlgorithm),
            "{found:?}"
        );
        assert!(found.contains(&FindingCode::MissingFile), "{found:?}");
        assert!(found.contains(&FindingCode::NotInManifest), "{found:?}");
        assert!(!found.contains(&FindingCode::ChecksumMismatch), "{found:?}");
        Ok(())
    }

    #[test]
    fn duplicate_and_percent_lines_are_findings() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        let manifest = bag.join("manifest-sha256.txt");
        let text = fs::read_to_string(&manifest)?;
        let first = text.lines().next().ok_or("empty manifest")?.to_string();
        fs::write(
            &manifest,
            format!("{text}{first}\n{}  data/100%.txt\n", "0".repeat(64)),
        )?;
        let report = verify_bag(&bag)?;
        let found = codes(&report.findings);
        assert!(found.contains(&FindingCode::DuplicateEntry), "{found:?}");
        assert!(found.contains(&FindingCode::BadManifestLine), "{found:?}");
        Ok(())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn nfd_file_listed_as_nfc_is_a_warning_and_both_spellings_a_finding() -> TestResult {
        let dir = tempfile::tempdir()?;
        let bag = dir.path().join("bag");
        fs::create_dir_all(bag.join("data"))?;
        fs::write(
            bag.join("bagit.txt"),
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        )?;
        let nfc = "data/Quyết.txt";
        let nfd: String = nfc.nfd().collect();
        fs::write(bag.join(&nfd), b"abc")?;
        let digest = fixity::of_bytes(b"abc").sha256;
        fs::write(
            bag.join("manifest-sha256.txt"),
            format!("{digest}  {nfc}\n"),
        )?;
        let report = verify_bag(&bag)?;
        assert!(report.is_valid(), "{:?}", report.findings);
        assert_eq!(
            codes(&report.warnings),
            [FindingCode::NormalizationMismatch]
        );

        fs::write(bag.join(nfc), b"abc")?;
        let report = verify_bag(&bag)?;
        assert!(
            report.has(FindingCode::NormalizationConflict),
            "{:?}",
            report.findings
        );
        Ok(())
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn case_only_differences_are_warnings() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut writer = BagWriter::create(&dir.path().join("bag"))?;
        writer.add_bytes(&PayloadPath::new("a.txt")?, b"1")?;
        let bag = writer.finish(BagInfo::default())?.path;
        fs::write(bag.join("data/A.txt"), b"2")?;
        let digest = fixity::of_bytes(b"2");
        for (alg, hex) in [("sha256", &digest.sha256), ("sha512", &digest.sha512)] {
            let manifest = bag.join(format!("manifest-{alg}.txt"));
            let text = fs::read_to_string(&manifest)?;
            fs::write(&manifest, format!("{hex}  data/A.txt\n{text}"))?;
        }
        let report = verify_bag(&bag)?;
        assert!(report.has(FindingCode::OxumMismatch));
        assert_eq!(codes(&report.warnings), [FindingCode::CaseConflict]);
        Ok(())
    }

    #[test]
    fn bagit_097_needs_each_payload_file_in_one_manifest_only() -> TestResult {
        let (_dir, bag) = sample_bag()?;
        fs::write(
            bag.join("bagit.txt"),
            "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
        )?;
        fs::remove_file(bag.join("tagmanifest-sha256.txt"))?;
        fs::remove_file(bag.join("tagmanifest-sha512.txt"))?;
        let digest = fixity::of_bytes(b"abc").sha512;
        fs::write(
            bag.join("manifest-sha512.txt"),
            format!("{digest}  data/a.txt\n"),
        )?;
        fs::write(bag.join("fetch.txt"), "")?;
        let report = verify_bag(&bag)?;
        assert!(report.is_valid(), "{:?}", report.findings);
        assert_eq!(
            codes(&report.warnings),
            [FindingCode::FetchTxtPresent, FindingCode::NotInManifest]
        );
        Ok(())
    }

    #[test]
    fn a_missing_bag_is_an_error() {
        assert!(verify_bag(Path::new("/nonexistent/sharc-bag")).is_err());
    }

    #[test]
    fn an_empty_directory_reports_every_missing_piece() -> TestResult {
        let dir = tempfile::tempdir()?;
        let report = verify_bag(dir.path())?;
        assert_eq!(
            codes(&report.findings),
            [
                FindingCode::BadBagitTxt,
                FindingCode::MissingPayloadDir,
                FindingCode::MissingManifest
            ]
        );
        Ok(())
    }
}
