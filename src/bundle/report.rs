//! The outcome of verifying a bag: findings with stable codes, and the manifests as read.
//!
//! Reports are data, not errors: callers print them, turn them into exit codes, or write
//! them as JSON beside the bag, and the codes stay the same from release to release.

use crate::fixity::Fixity;
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
}

impl FindingCode {
    /// Every code, in declaration order.
    pub const ALL: [FindingCode; 37] = [
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
    pub(crate) fn at(code: FindingCode, path: &str, message: impl Into<String>) -> Self {
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Problems that make the bag invalid.
    pub findings: Vec<Finding>,
    /// Things worth knowing that do not make the bag invalid.
    pub warnings: Vec<Finding>,
    /// Number of files under `data/`.
    pub payload_files: u64,
    /// Total bytes of the files under `data/`.
    pub payload_bytes: u64,
    /// Payload manifest entries as listed (`data/...` path to digests). Only as trustworthy as
    /// the bag: check [`is_valid`](Self::is_valid) first.
    pub manifest: BTreeMap<String, Digests>,
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
