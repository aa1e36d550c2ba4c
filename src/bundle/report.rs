//! The outcome of verifying a bag: findings with stable codes, and the manifests as read.
//!
//! Reports are data, not errors: callers print them, turn them into exit codes, or write
//! them as JSON beside the bag, and the codes stay the same from release to release.

use super::digest::DigestStore;
use super::listing::Listing;
use crate::fixity::Fixity;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// What kind of problem a [`Finding`] is. The kebab-case names are stable: scripts and
/// reports may rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingCode {
    /// `bagit.txt` is missing, has a BOM, or is not the two required lines.
    BadBagitTxt,
    /// Tag files declare an encoding other than UTF-8.
    UnsupportedEncoding,
    /// There is no `data/` directory.
    MissingPayloadDir,
    /// There is no payload manifest.
    MissingManifest,
    /// A manifest uses an algorithm this build cannot compute.
    UnsupportedAlgorithm,
    /// A manifest line is not `checksum whitespace path`, or its path is badly encoded.
    BadManifestLine,
    /// A tag file starts with a byte order mark.
    BomInTagFile,
    /// A manifest lists the same path twice.
    DuplicateEntry,
    /// A manifest path could reach outside the bag, or outside `data/` for payload.
    PathOutsideBag,
    /// A file listed in a manifest is not in the bag.
    MissingFile,
    /// A payload file is missing from one or more payload manifests.
    NotInManifest,
    /// A file's checksum differs from its manifest.
    ChecksumMismatch,
    /// A file or directory could not be read.
    UnreadableFile,
    /// A tag manifest lists a payload file or a tag manifest.
    BadTagManifestEntry,
    /// A tag manifest does not list a payload manifest.
    NotInTagManifest,
    /// `bag-info.txt` has a malformed line or element.
    BadBagInfo,
    /// Payload-Oxum does not match the payload.
    OxumMismatch,
    /// Two names differ only by Unicode normalization.
    NormalizationConflict,
    /// A manifest spells a name in a different Unicode normalization than the file system.
    NormalizationMismatch,
    /// Two names differ only by case.
    CaseConflict,
    /// A symbolic link, device or other non-regular file.
    SpecialFile,
    /// A file name that is not valid UTF-8.
    BadFileName,
    /// A manifest path has md5sum's `*` binary-mode marker.
    BinaryModeMarker,
    /// The bag has a `fetch.txt`, whose files are not fetched.
    FetchTxtPresent,
    /// A `fetch.txt` line is not `url length path`, or its path is unsafe.
    BadFetchLine,
    /// A manifest path starts with `./`; it is read without it.
    LeadingDotSlash,
    /// A manifest spells a name in a different case than the bag stores it.
    CaseMismatch,
    /// A file an operating system leaves behind (`.DS_Store`, `Thumbs.db`, ...).
    OsSpecificFile,
    /// The zip archive cannot be read: truncated, or not a zip at all.
    ZipUnreadable,
    /// A zip entry is not inside the archive's single top-level directory, or its name could
    /// escape the directory it is unpacked into.
    ZipEntryOutsideBag,
    /// Two zip entries have the same name.
    ZipDuplicateEntry,
    /// Two zip entries differ only by case or Unicode normalization, so unpacking on Windows
    /// or macOS keeps only one of them.
    ZipNameClash,
    /// The zip's top-level directory is not named after the archive.
    ZipTopDirName,
    /// A zip entry some readers mishandle (a data descriptor, a non-ASCII name without the
    /// UTF-8 flag).
    ZipPortability,
    /// A zip's local headers disagree with its central directory, or hide entries it does
    /// not list.
    ZipHeaderMismatch,
    /// A readable zip with no `bagit.txt` at its root or in its top-level directory: not a
    /// bag.
    ZipNotABag,
    /// A tag file (`bag-info.txt`, a manifest, a tag manifest, `fetch.txt`) is larger than
    /// [`MAX_TAG_FILE_BYTES`](super::MAX_TAG_FILE_BYTES); it is not read.
    TagFileTooLarge,
    /// A WARC file of the capture (`data/capture/`) does not read as WARC records to its
    /// end.
    WarcUnreadable,
    /// A record of the capture is not what its `WARC-Block-Digest` or
    /// `WARC-Payload-Digest` says.
    WarcDigestMismatch,
    /// `data/mets.xml` cannot be read as XML.
    MetsUnreadable,
    /// The PREMIS fixity `data/mets.xml` gives a file differs from the manifests, or the
    /// METS document and the manifests do not list the same files.
    MetsFixityMismatch,
}

impl FindingCode {
    /// Every code, in declaration order.
    pub const ALL: [FindingCode; 41] = [
        Self::BadBagitTxt,
        Self::UnsupportedEncoding,
        Self::MissingPayloadDir,
        Self::MissingManifest,
        Self::UnsupportedAlgorithm,
        Self::BadManifestLine,
        Self::BomInTagFile,
        Self::DuplicateEntry,
        Self::PathOutsideBag,
        Self::MissingFile,
        Self::NotInManifest,
        Self::ChecksumMismatch,
        Self::UnreadableFile,
        Self::BadTagManifestEntry,
        Self::NotInTagManifest,
        Self::BadBagInfo,
        Self::OxumMismatch,
        Self::NormalizationConflict,
        Self::NormalizationMismatch,
        Self::CaseConflict,
        Self::SpecialFile,
        Self::BadFileName,
        Self::BinaryModeMarker,
        Self::FetchTxtPresent,
        Self::BadFetchLine,
        Self::LeadingDotSlash,
        Self::CaseMismatch,
        Self::OsSpecificFile,
        Self::ZipUnreadable,
        Self::ZipEntryOutsideBag,
        Self::ZipDuplicateEntry,
        Self::ZipNameClash,
        Self::ZipTopDirName,
        Self::ZipPortability,
        Self::ZipHeaderMismatch,
        Self::TagFileTooLarge,
        Self::ZipNotABag,
        Self::WarcUnreadable,
        Self::WarcDigestMismatch,
        Self::MetsUnreadable,
        Self::MetsFixityMismatch,
    ];

    /// The stable kebab-case name, such as `checksum-mismatch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadBagitTxt => "bad-bagit-txt",
            Self::UnsupportedEncoding => "unsupported-encoding",
            Self::MissingPayloadDir => "missing-payload-dir",
            Self::MissingManifest => "missing-manifest",
            Self::UnsupportedAlgorithm => "unsupported-algorithm",
            Self::BadManifestLine => "bad-manifest-line",
            Self::BomInTagFile => "bom-in-tag-file",
            Self::DuplicateEntry => "duplicate-entry",
            Self::PathOutsideBag => "path-outside-bag",
            Self::MissingFile => "missing-file",
            Self::NotInManifest => "not-in-manifest",
            Self::ChecksumMismatch => "checksum-mismatch",
            Self::UnreadableFile => "unreadable-file",
            Self::BadTagManifestEntry => "bad-tag-manifest-entry",
            Self::NotInTagManifest => "not-in-tag-manifest",
            Self::BadBagInfo => "bad-bag-info",
            Self::OxumMismatch => "oxum-mismatch",
            Self::NormalizationConflict => "normalization-conflict",
            Self::NormalizationMismatch => "normalization-mismatch",
            Self::CaseConflict => "case-conflict",
            Self::SpecialFile => "special-file",
            Self::BadFileName => "bad-file-name",
            Self::BinaryModeMarker => "binary-mode-marker",
            Self::FetchTxtPresent => "fetch-txt-present",
            Self::BadFetchLine => "bad-fetch-line",
            Self::LeadingDotSlash => "leading-dot-slash",
            Self::CaseMismatch => "case-mismatch",
            Self::OsSpecificFile => "os-specific-file",
            Self::ZipUnreadable => "zip-unreadable",
            Self::ZipEntryOutsideBag => "zip-entry-outside-bag",
            Self::ZipDuplicateEntry => "zip-duplicate-entry",
            Self::ZipNameClash => "zip-name-clash",
            Self::ZipTopDirName => "zip-top-dir-name",
            Self::ZipPortability => "zip-portability",
            Self::ZipHeaderMismatch => "zip-header-mismatch",
            Self::ZipNotABag => "zip-not-a-bag",
            Self::TagFileTooLarge => "tag-file-too-large",
            Self::WarcUnreadable => "warc-unreadable",
            Self::WarcDigestMismatch => "warc-digest-mismatch",
            Self::MetsUnreadable => "mets-unreadable",
            Self::MetsFixityMismatch => "mets-fixity-mismatch",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One problem found in a bag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of problem.
    pub code: FindingCode,
    /// The file it concerns, relative to the bag root, when there is one.
    pub path: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl Finding {
    /// A finding about `path`.
    pub fn at(code: FindingCode, path: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            path: Some(path.to_string()),
            message: message.into(),
        }
    }

    /// A finding about the bag as a whole.
    pub(crate) fn bag(code: FindingCode, message: impl Into<String>) -> Self {
        Self {
            code,
            path: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} {path}: {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

/// The digests a bag's payload manifests give one file, by normalised algorithm name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Digests(BTreeMap<String, String>);

impl Digests {
    /// The lowercase hex digest for `algorithm` (`sha256`, `sha512`, ...), if listed.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.0.get(algorithm).map(String::as_str)
    }

    /// The SHA-256 digest, if listed.
    pub fn sha256(&self) -> Option<&str> {
        self.get("sha256")
    }

    /// The SHA-512 digest, if listed.
    pub fn sha512(&self) -> Option<&str> {
        self.get("sha512")
    }

    /// Records the digest one manifest gives.
    pub(crate) fn insert(&mut self, algorithm: &str, digest: &str) {
        self.0.insert(algorithm.to_string(), digest.to_string());
    }

    /// `(algorithm, hex digest)` pairs, sorted by algorithm.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(a, d)| (a.as_str(), d.as_str()))
    }

    /// True when at least one of sha256 and sha512 is listed and every one listed equals
    /// `fixity`'s.
    pub fn agrees_with(&self, fixity: &Fixity) -> bool {
        let pairs = [
            (self.sha256(), fixity.sha256.as_str()),
            (self.sha512(), fixity.sha512.as_str()),
        ];
        let listed: Vec<(&str, &str)> = pairs
            .into_iter()
            .filter_map(|(listed, actual)| listed.map(|l| (l, actual)))
            .collect();
        !listed.is_empty() && listed.iter().all(|(l, a)| l == a)
    }
}

/// The outcome of verifying a bag.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Problems that make the bag invalid.
    pub findings: Vec<Finding>,
    /// Things worth knowing that do not make the bag invalid.
    pub warnings: Vec<Finding>,
    /// Number of files under `data/`.
    pub payload_files: u64,
    /// Total bytes of the files under `data/`.
    pub payload_bytes: u64,
    /// The payload files as stored and the payload manifest entries as listed, by
    /// `data/...` path. Only as trustworthy as the bag: check [`is_valid`](Self::is_valid)
    /// first.
    pub payload: PayloadIndex,
}

/// Marks a path a payload manifest does not list.
pub(crate) const UNLISTED: u32 = u32::MAX;

/// The digests one payload manifest gives: a slot for each stored entry of the listing and
/// for each path listed but not stored under that name.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// Normalised algorithm name.
    pub algorithm: String,
    /// Digest slot of each listing entry, [`UNLISTED`] when the manifest does not list it.
    pub stored: Vec<u32>,
    /// Digest slot of each of the index's other paths.
    pub others: Vec<u32>,
    /// The digests.
    pub digests: DigestStore,
}

/// The payload of a verified bag by path: each stored file's size and what each payload
/// manifest gives it. It is the verifier's own listing and manifests, handed over: every
/// name in one buffer, a digest in its raw bytes, so a bag of any size can be looked up
/// after it was verified without a copy of either.
#[derive(Debug, Clone, Default)]
pub struct PayloadIndex {
    listing: Listing,
    /// Paths listed but not stored under that name, sorted.
    others: Vec<String>,
    columns: Vec<Column>,
}

impl PayloadIndex {
    /// The index of a bag whose entries are `listing`, whose payload manifests listed
    /// `others` beside them, and gave `columns`.
    pub(crate) fn new(mut listing: Listing, others: Vec<String>, columns: Vec<Column>) -> Self {
        listing.forget_folded();
        Self {
            listing,
            others,
            columns,
        }
    }

    /// Where `path` is: a stored payload entry, or one of the other paths.
    fn locate(&self, path: &str) -> Option<Place> {
        if is_payload(path)
            && let Some(i) = self.listing.file(path)
        {
            return Some(Place::Stored(i));
        }
        self.others
            .binary_search_by(|o| o.as_str().cmp(path))
            .ok()
            .map(Place::Other)
    }

    fn slot(column: &Column, place: Place) -> u32 {
        match place {
            Place::Stored(i) => column.stored.get(i).copied().unwrap_or(UNLISTED),
            Place::Other(i) => column.others.get(i).copied().unwrap_or(UNLISTED),
        }
    }

    fn listed(&self, place: Place) -> bool {
        self.columns
            .iter()
            .any(|c| Self::slot(c, place) != UNLISTED)
    }

    /// The digests the payload manifests give `path`, when one lists it.
    pub fn get(&self, path: &str) -> Option<Digests> {
        let place = self.locate(path).filter(|&p| self.listed(p))?;
        let mut digests = Digests::default();
        for c in &self.columns {
            let slot = Self::slot(c, place);
            if slot != UNLISTED {
                digests.insert(&c.algorithm, &c.digests.hex(slot));
            }
        }
        Some(digests)
    }

    /// Whether a payload manifest lists `path`.
    pub fn contains_key(&self, path: &str) -> bool {
        self.locate(path).is_some_and(|p| self.listed(p))
    }

    /// Every path a payload manifest lists, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let stored = self
            .listing
            .files()
            .filter(|&i| is_payload(self.listing.name(i)) && self.listed(Place::Stored(i)))
            .map(|i| self.listing.name(i));
        let others = (0..self.others.len())
            .filter(|&i| self.listed(Place::Other(i)))
            .map(|i| self.others[i].as_str());
        let mut keys: Vec<&str> = stored.chain(others).collect();
        keys.sort_unstable();
        keys
    }

    /// The size of the payload file stored at `path`.
    pub fn size(&self, path: &str) -> Option<u64> {
        match self.locate(path)? {
            Place::Stored(i) => Some(self.listing.size(i)),
            Place::Other(_) => None,
        }
    }

    /// Every stored payload file and its size, sorted by path.
    pub fn stored(&self) -> impl Iterator<Item = (&str, u64)> {
        self.listing
            .files()
            .map(|i| (self.listing.name(i), self.listing.size(i)))
            .filter(|(name, _)| is_payload(name))
    }
}

/// Where a path of a [`PayloadIndex`] is.
#[derive(Debug, Clone, Copy)]
enum Place {
    Stored(usize),
    Other(usize),
}

/// Whether a bag-relative path is a payload file.
pub(crate) fn is_payload(path: &str) -> bool {
    path.starts_with("data/")
}

impl Serialize for PayloadIndex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for path in self.keys() {
            map.serialize_entry(path, &self.get(path))?;
        }
        map.end()
    }
}

impl VerifyReport {
    /// True when the bag is complete and every checksum verified.
    pub fn is_valid(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether some finding has `code`.
    pub fn has(&self, code: FindingCode) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn codes_are_unique_kebab_case() {
        let names: BTreeSet<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), FindingCode::ALL.len());
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }

    #[test]
    fn findings_serialize_with_stable_codes() -> TestResult {
        let finding = Finding::at(FindingCode::ChecksumMismatch, "data/a.txt", "differs");
        let json = serde_json::to_string(&finding)?;
        assert_eq!(
            json,
            r#"{"code":"checksum-mismatch","path":"data/a.txt","message":"differs"}"#
        );
        assert_eq!(finding.to_string(), "checksum-mismatch data/a.txt: differs");
        Ok(())
    }

    #[test]
    fn digests_agree_only_when_every_listed_one_matches() {
        let fixity = crate::fixity::of_bytes(b"abc");
        let mut digests = Digests::default();
        assert!(!digests.agrees_with(&fixity));
        digests.insert("sha256", &fixity.sha256);
        assert!(digests.agrees_with(&fixity));
        digests.insert("sha512", &"0".repeat(128));
        assert!(!digests.agrees_with(&fixity));
    }
}
