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

use super::digest::{self, MultiHasher};
use super::hash_pool;
use super::info::{human_size, parse_bag_info, parse_oxum};
use super::manifest::{self, PathEncoding, escape_reason, split_lines};
use super::reader::{BagEntry, BagReader, DirReader, EntryKind};
use super::report::{Digests, Finding, FindingCode, VerifyReport};
use super::{BundleError, Result};
use std::collections::btree_map::Entry as MapEntry;
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

/// How a listed path was matched to a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resolved {
    /// Stored under exactly the listed name.
    Exact(String),
    /// Stored under a name equal to the listed one after NFC.
    Normalization(String),
    /// Stored under a name equal to the listed one ignoring case (and normalization).
    Case(String),
}

impl Resolved {
    /// The stored name.
    fn stored(&self) -> &str {
        match self {
            Self::Exact(s) | Self::Normalization(s) | Self::Case(s) => s,
        }
    }
}

/// Verifies the bag whose base directory is `path`.
pub fn verify_bag(path: &Path) -> Result<VerifyReport> {
    let mut reader = DirReader::new(path)?;
    verify_reader(&mut reader)
}

/// Verifies the bag behind any [`BagReader`].
pub fn verify_reader(reader: &mut dyn BagReader) -> Result<VerifyReport> {
    let entries = reader.list_entries().map_err(|e| BundleError::NotABag {
        path: reader.location(),
        reason: e.to_string(),
    })?;
    let mut verifier = Verifier::new(entries);
    let unreadable = verifier.add_container_findings(reader.container_findings());
    if unreadable {
        return Ok(verifier.into_report());
    }
    verifier.check_bagit_txt(reader);
    verifier.check_payload_dir();
    verifier.load_manifests(reader);
    verifier.check_bag_info(reader);
    verifier.check_fetch_txt(reader);
    verifier.check_completeness();
    verifier.check_tag_manifest_coverage();
    verifier.check_checksums(reader);
    verifier.check_name_conflicts();
    verifier.check_os_specific_files();
    Ok(verifier.into_report())
}

/// One manifest or tag manifest as read.
struct ManifestFile {
    /// File name in the bag root.
    name: String,
    /// Normalised algorithm name.
    algorithm: String,
    /// Listed path to lowercase hex digest; unsafe and duplicate lines left out.
    entries: BTreeMap<String, String>,
}

impl ManifestFile {
    /// Whether this build can recompute the manifest's checksums.
    fn checkable(&self) -> bool {
        digest::is_checked(&self.algorithm)
    }
}

/// State of one verification run.
struct Verifier {
    /// Regular files: path to size.
    files: BTreeMap<String, u64>,
    /// Directories.
    dirs: BTreeSet<String>,
    /// NFC form of each file path to the paths that have it.
    by_nfc: BTreeMap<String, Vec<String>>,
    /// Lowercase NFC form of each file path to the paths that have it.
    by_folded: BTreeMap<String, Vec<String>>,
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
    /// Indexes the listing and reports entries no bag should hold.
    fn new(entries: Vec<BagEntry>) -> Self {
        let mut verifier = Self {
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            by_nfc: BTreeMap::new(),
            by_folded: BTreeMap::new(),
            read_cache: BTreeMap::new(),
            oversized: BTreeSet::new(),
            pre_1_0: false,
            encoding: TagEncoding::Utf8,
            payload_manifests: Vec::new(),
            tag_manifests: Vec::new(),
            report: VerifyReport::default(),
        };
        for entry in entries {
            verifier.index(entry);
        }
        let payload = verifier.files.iter().filter(|(p, _)| is_payload(p));
        verifier.report.payload_files = payload.clone().count() as u64;
        verifier.report.payload_bytes = payload.map(|(_, size)| size).sum();
        verifier
    }

    /// Adds one listed entry to the index.
    fn index(&mut self, entry: BagEntry) {
        let BagEntry { path, kind, size } = entry;
        match kind {
            EntryKind::File => {
                let nfc: String = path.nfc().collect();
                let folded = nfc.to_lowercase();
                self.by_nfc.entry(nfc).or_default().push(path.clone());
                self.by_folded.entry(folded).or_default().push(path.clone());
                self.files.insert(path, size);
            }
            EntryKind::Dir => {
                self.dirs.insert(path);
            }
            EntryKind::Special => self.finding(Finding::at(
                FindingCode::SpecialFile,
                &path,
                "is a symbolic link or other special file; a bag holds only regular files",
            )),
            EntryKind::NonUtf8Name => self.finding(Finding::at(
                FindingCode::BadFileName,
                &path,
                "name is not valid UTF-8, so no manifest can list it",
            )),
            EntryKind::Unreadable => self.finding(Finding::at(
                FindingCode::UnreadableFile,
                &path,
                "directory could not be listed; check its permissions",
            )),
        }
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

    /// Reads a tag file once, caching it; `None` if absent or unreadable (reported).
    fn read_tag(&mut self, reader: &mut dyn BagReader, name: &str) -> Option<Vec<u8>> {
        if let Some(bytes) = self.read_cache.get(name) {
            return Some(bytes.clone());
        }
        let listed = *self.files.get(name)?;
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
                self.read_cache.insert(name.to_string(), bytes.clone());
                Some(bytes)
            }
            Err(e) => {
                self.finding(Finding::at(
                    FindingCode::UnreadableFile,
                    name,
                    format!("cannot be read: {e}"),
                ));
                None
            }
        }
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
            if !self.files.contains_key(name) {
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
        if !self.dirs.contains("data") {
            self.finding(Finding::bag(
                FindingCode::MissingPayloadDir,
                "there is no data/ directory; a bag keeps its payload there",
            ));
        }
    }

    /// Reads and parses every `manifest-*.txt` and `tagmanifest-*.txt` in the bag root.
    fn load_manifests(&mut self, reader: &mut dyn BagReader) {
        let root_files: Vec<String> = self
            .files
            .keys()
            .filter(|p| !p.contains('/') && p.ends_with(".txt"))
            .cloned()
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

    /// Parses one manifest, reporting each line that cannot be used.
    fn load_manifest(
        &mut self,
        reader: &mut dyn BagReader,
        name: &str,
        algorithm: String,
        is_tag: bool,
    ) -> Option<ManifestFile> {
        let text = self.read_tag_text(reader, name, FindingCode::BadManifestLine)?;
        let mut file = ManifestFile {
            name: name.to_string(),
            algorithm,
            entries: BTreeMap::new(),
        };
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
        let parsed = manifest::parse(&text, &file.algorithm, self.path_encoding());
        for problem in parsed.problems {
            let message = format!("line {}: {}", problem.line, problem.message);
            let finding = Finding::at(problem.code, name, message);
            if problem.warning {
                self.warning(finding);
            } else {
                self.finding(finding);
            }
        }
        for entry in parsed.entries {
            if let Some(finding) = entry_problem(name, &entry, is_tag) {
                self.finding(finding);
                continue;
            }
            match file.entries.entry(entry.path) {
                MapEntry::Vacant(slot) => {
                    slot.insert(entry.digest);
                }
                MapEntry::Occupied(slot) => {
                    let same = *slot.get() == entry.digest;
                    let finding = Finding::at(
                        FindingCode::DuplicateEntry,
                        slot.key(),
                        format!(
                            "is listed more than once in {name} (again on line {}{}); BagIt 1.0 lists each file exactly once",
                            entry.line,
                            if same {
                                ", same checksum"
                            } else {
                                ", with another checksum"
                            }
                        ),
                    );
                    if same {
                        self.finding_from_1_0(finding);
                    } else {
                        self.finding(finding);
                    }
                }
            }
        }
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
        if !self.files.contains_key(name) {
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

    /// The stored file a listed path names: exact, else the only one equal after NFC, else
    /// the only one equal ignoring case.
    fn resolve(&self, listed: &str) -> Option<Resolved> {
        if self.files.contains_key(listed) {
            return Some(Resolved::Exact(listed.to_string()));
        }
        let nfc: String = listed.nfc().collect();
        if let Some([only]) = self.by_nfc.get(&nfc).map(Vec::as_slice) {
            return Some(Resolved::Normalization(only.clone()));
        }
        match self.by_folded.get(&nfc.to_lowercase()).map(Vec::as_slice) {
            Some([only]) => Some(Resolved::Case(only.clone())),
            _ => None,
        }
    }

    /// Every listed file exists; every payload file is in every payload manifest.
    fn check_completeness(&mut self) {
        let mut listed_in: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut respelled: BTreeMap<String, Resolved> = BTreeMap::new();
        let mut twice: Vec<Finding> = Vec::new();
        let manifests = self.payload_manifests.iter().chain(&self.tag_manifests);
        for m in manifests {
            let mut spellings: BTreeMap<&str, &str> = BTreeMap::new();
            for listed in m.entries.keys() {
                match self.resolve(listed) {
                    Some(resolved) => {
                        let disk = resolved.stored().to_string();
                        if let Some(first) = spellings.get(disk.as_str()) {
                            twice.push(Finding::at(
                                FindingCode::DuplicateEntry,
                                listed,
                                format!(
                                    "names the same file as {first:?} in {}; each file is listed once",
                                    m.name
                                ),
                            ));
                        } else if let Some(stored) = self.files.get_key_value(&disk) {
                            spellings.insert(stored.0.as_str(), listed.as_str());
                        }
                        if !matches!(resolved, Resolved::Exact(_)) {
                            respelled.insert(listed.clone(), resolved);
                        }
                        listed_in.entry(disk).or_default().insert(m.name.clone());
                    }
                    None => missing
                        .entry(listed.clone())
                        .or_default()
                        .push(m.name.clone()),
                }
            }
        }
        for finding in twice {
            self.finding_from_1_0(finding);
        }
        for (listed, resolved) in respelled {
            let (code, disk, difference) = match &resolved {
                Resolved::Case(disk) => (FindingCode::CaseMismatch, disk, "case"),
                Resolved::Normalization(disk) | Resolved::Exact(disk) => (
                    FindingCode::NormalizationMismatch,
                    disk,
                    "Unicode normalization",
                ),
            };
            self.warning(Finding::at(
                code,
                &listed,
                format!("is stored as {disk:?}, which differs only by {difference}"),
            ));
        }
        for (listed, names) in missing {
            self.report_missing(&listed, &names);
        }
        self.check_payload_listed(&listed_in);
    }

    /// Reports a listed file that is not in the bag.
    fn report_missing(&mut self, listed: &str, manifests: &[String]) {
        let what = if self.dirs.contains(listed) {
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
    fn check_payload_listed(&mut self, listed_in: &BTreeMap<String, BTreeSet<String>>) {
        if self.payload_manifests.is_empty() {
            return;
        }
        let all: Vec<String> = self
            .payload_manifests
            .iter()
            .map(|m| m.name.clone())
            .collect();
        let payload: Vec<String> = self
            .files
            .keys()
            .filter(|p| is_payload(p))
            .cloned()
            .collect();
        let empty = BTreeSet::new();
        for path in payload {
            let present = listed_in.get(&path).unwrap_or(&empty);
            let absent: Vec<&str> = all
                .iter()
                .filter(|m| !present.contains(*m))
                .map(String::as_str)
                .collect();
            if absent.is_empty() {
                continue;
            }
            let in_none = absent.len() == all.len();
            let message = if in_none {
                "is not listed in any payload manifest".to_string()
            } else {
                format!(
                    "is not listed in {}; every payload manifest must list every payload file",
                    absent.join(", ")
                )
            };
            let finding = Finding::at(FindingCode::NotInManifest, &path, message);
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
                if !tag.entries.contains_key(&payload.name) {
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

    /// Recomputes every checksum, reading each file once.
    fn check_checksums(&mut self, reader: &mut dyn BagReader) {
        let mut expected: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        let manifests = self.payload_manifests.iter().chain(&self.tag_manifests);
        for m in manifests.filter(|m| m.checkable()) {
            for (listed, digest) in &m.entries {
                if let Some(resolved) = self.resolve(listed) {
                    let check = (m.name.clone(), m.algorithm.clone(), digest.clone());
                    let disk = resolved.stored().to_string();
                    expected.entry(disk).or_default().push(check);
                }
            }
        }
        let hasher = |checks: &[(String, String, String)]| {
            MultiHasher::new(checks.iter().map(|(_, algorithm, _)| algorithm.as_str()))
        };
        // Tag files already read are hashed from memory; every other file on all cores.
        let mut results = Vec::new();
        for (path, checks) in &expected {
            if let Some(bytes) = self.read_cache.get(path) {
                results.push((path.clone(), Ok(hasher(checks).of_bytes(bytes))));
            }
        }
        let jobs = expected
            .iter()
            .filter(|(path, _)| {
                !self.oversized.contains(*path) && !self.read_cache.contains_key(*path)
            })
            .map(|(path, checks)| hash_pool::Job {
                path: path.clone(),
                hasher: hasher(checks),
            });
        let mut found = Vec::new();
        let mut compare = |(path, result): hash_pool::Hashed| {
            let checks = expected.get(&path).map_or(&[][..], Vec::as_slice);
            found.extend(mismatches(&path, checks, result));
        };
        results.into_iter().for_each(&mut compare);
        hash_pool::hash_files(reader, jobs, &mut compare);
        found.sort_by(|a, b| a.path.cmp(&b.path));
        self.report.findings.extend(found);
    }

    /// Names equal after NFC are findings; names equal after case folding are warnings.
    fn check_name_conflicts(&mut self) {
        let names = self.files.keys().chain(&self.dirs);
        let mut by_nfc: BTreeMap<String, BTreeSet<&String>> = BTreeMap::new();
        for name in names {
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
        self.report.findings.extend(findings);
        self.report.warnings.extend(warnings);
    }

    /// Files that operating systems leave behind are warnings: they are rarely meant to be
    /// archived.
    fn check_os_specific_files(&mut self) {
        let found: Vec<String> = self
            .files
            .keys()
            .chain(&self.dirs)
            .filter(|path| {
                let name = path.rsplit('/').next().unwrap_or(path);
                let lower = name.to_lowercase();
                OS_SPECIFIC_NAMES.contains(&lower.as_str()) || name.starts_with("._")
            })
            .cloned()
            .collect();
        for path in found {
            self.warning(Finding::at(
                FindingCode::OsSpecificFile,
                &path,
                "is a file an operating system leaves behind (Finder, Explorer); it is probably not meant to be archived",
            ));
        }
    }

    /// The report, with the payload manifest entries gathered by path.
    fn into_report(self) -> VerifyReport {
        let mut report = self.report;
        for m in &self.payload_manifests {
            for (path, digest) in &m.entries {
                let digests: &mut Digests = report.manifest.entry(path.clone()).or_default();
                digests.insert(&m.algorithm, digest);
            }
        }
        report
    }
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
        let digests = report.manifest.get("data/a.txt").ok_or("no entry")?;
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
