//! Payload names that every file system and every BagIt validator accepts.
//!
//! Server-supplied names carry Vietnamese diacritics, `%`, `#`, quotes, slashes and Windows
//! device names. BagIt validators disagree on how `%` is encoded in manifests, macOS and Linux
//! disagree on Unicode normalisation, and Windows rejects reserved names and differs on case.
//! So every payload segment is plain ASCII `[A-Za-z0-9._-]`, derived from the original so a
//! person still recognises it, unique case-insensitively within its directory, and the whole
//! path is checked by [`PayloadPath`] before anything is written. The original names belong in
//! a path map inside the payload, not in the file system.

use super::{BundleError, Result};
use std::collections::HashSet;
use std::fmt;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Longest segment [`portable_segment`] produces, in bytes (all of them ASCII).
pub const MAX_SEGMENT_BYTES: usize = 100;

/// Longest segment [`PayloadPath`] accepts, in bytes; the common file-system limit.
pub const MAX_PATH_SEGMENT_BYTES: usize = 255;

/// Longest suffix after the last `.` that is kept whole when a name is shortened.
const MAX_EXTENSION_BYTES: usize = 16;

/// Segment used when nothing recognisable is left of the original name.
const FALLBACK_NAME: &str = "file";

/// Derives a portable path segment from an original file or folder name.
///
/// Letters with diacritics fold to ASCII (`Quyết định` → `Quyet-dinh`, `Đ` → `D`), ASCII
/// letters, digits, `.`, `_` and `-` are kept, and every run of anything else becomes one
/// `-`. Leading and trailing `-` and `.` are trimmed, the result is at most
/// [`MAX_SEGMENT_BYTES`] long with its extension kept, Windows device names get a `_` after
/// their stem (`CON.txt` → `CON_.txt`), and an empty result becomes `file`. NFC and NFD
/// spellings of the same name give the same segment.
pub fn portable_segment(original: &str) -> String {
    let folded = fold_to_ascii(original);
    let trimmed = trim_edges(&folded);
    let bounded = trim_edges(&bound_length(trimmed, MAX_SEGMENT_BYTES)).to_string();
    let name = if bounded.is_empty() {
        FALLBACK_NAME.to_string()
    } else {
        bounded
    };
    avoid_reserved(name)
}

/// Whether `segment` may appear as one segment of a [`PayloadPath`].
pub fn is_portable_segment(segment: &str) -> bool {
    segment_problem(segment).is_none()
}

/// Decomposes, drops combining marks, spells the letters that do not decompose, and turns
/// everything else into single `-` separators.
fn fold_to_ascii(original: &str) -> String {
    let mut out = String::with_capacity(original.len());
    for c in original.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if c == '.' {
            push_dot(&mut out);
        } else if let Some(spelled) = spell_letter(c) {
            out.push_str(spelled);
        } else {
            push_separator(&mut out);
        }
    }
    out
}

/// ASCII spelling of Latin letters that have no canonical decomposition.
fn spell_letter(c: char) -> Option<&'static str> {
    let spelled = match c {
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'ß' => "ss",
        'æ' => "ae",
        'Æ' => "AE",
        'œ' => "oe",
        'Œ' => "OE",
        'ø' => "o",
        'Ø' => "O",
        'ł' => "l",
        'Ł' => "L",
        'þ' => "th",
        'Þ' => "Th",
        'ı' => "i",
        _ => return None,
    };
    Some(spelled)
}

/// Adds one `-`, unless the name is empty or already ends in a separator or a dot.
fn push_separator(out: &mut String) {
    if !(out.is_empty() || out.ends_with('-') || out.ends_with('.')) {
        out.push('-');
    }
}

/// Adds a `.`, dropping a `-` right before it (`report (final).pdf` → `report-final.pdf`).
fn push_dot(out: &mut String) {
    if out.ends_with('-') {
        out.pop();
    }
    out.push('.');
}

/// Strips the characters a segment must not start or end with.
fn trim_edges(name: &str) -> &str {
    name.trim_matches(|c| c == '-' || c == '.' || c == ' ')
}

/// Splits `name` into stem and extension, when it has a short extension after a stem.
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rfind('.') {
        Some(dot)
            if dot > 0 && dot + 1 < name.len() && name.len() - dot - 1 <= MAX_EXTENSION_BYTES =>
        {
            (&name[..dot], Some(&name[dot + 1..]))
        }
        _ => (name, None),
    }
}

/// Shortens an ASCII name to `max` bytes, shortening the stem and keeping the extension.
fn bound_length(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    match split_extension(name) {
        (stem, Some(ext)) => {
            let stem = trim_edges(&stem[..max - ext.len() - 1]);
            format!("{stem}.{ext}")
        }
        (whole, None) => whole[..max].to_string(),
    }
}

/// Appends `_` to the stem of a Windows device name (`nul.txt` → `nul_.txt`).
fn avoid_reserved(name: String) -> String {
    if !is_windows_reserved(&name) {
        return name;
    }
    let stem_len = name.find('.').unwrap_or(name.len());
    format!("{}_{}", &name[..stem_len], &name[stem_len..])
}

/// Whether Windows treats `name` as a device, with or without an extension.
fn is_windows_reserved(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    let numbered = stem.len() == 4
        && (stem.starts_with("COM") || stem.starts_with("LPT"))
        && stem.as_bytes()[3].is_ascii_digit();
    numbered || matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
}

/// Why `segment` is not portable, or `None` when it is.
fn segment_problem(segment: &str) -> Option<&'static str> {
    if segment.is_empty() {
        Some("has an empty segment")
    } else if segment == "." || segment == ".." {
        Some("has a . or .. segment")
    } else if segment.len() > MAX_PATH_SEGMENT_BYTES {
        Some("has a segment longer than 255 bytes")
    } else if !segment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Some("has characters other than ASCII letters, digits, '.', '_' and '-'")
    } else if segment.starts_with('-') {
        Some("has a segment starting with '-'")
    } else if segment.ends_with('.') {
        Some("has a segment ending with '.'")
    } else if is_windows_reserved(segment) {
        Some("has a Windows device name as a segment")
    } else {
        None
    }
}

/// Hands out portable names that are unique, ignoring case, within each directory.
///
/// The first name derived from an original is used as is; later ones that clash get `-2`,
/// `-3`, ... before the extension (`Bao-cao.pdf`, `bao-cao-2.pdf`).
///
/// It keeps a fingerprint of each name taken (8 bytes), not the name, so a crawl of a large
/// portal does not hold every file name: two names whose fingerprints agree only make the
/// later one take a suffix, and the fingerprint is the same from run to run, so a rerun
/// gives the same names.
#[derive(Debug, Default, Clone)]
pub struct NameAllocator {
    taken: HashSet<u64>,
}

impl NameAllocator {
    /// An allocator with no names taken.
    pub fn new() -> Self {
        Self::default()
    }

    /// A portable name for `original` inside `dir` that no earlier call returned for `dir`.
    pub fn allocate(&mut self, dir: &str, original: &str) -> String {
        let name = self.first_free(dir, &portable_segment(original), &[]);
        self.reserve(dir, &name);
        name
    }

    /// The first of `base`, then `alternatives`, then `base` with `-2`, `-3`, ... before its
    /// extension, that is free in `dir`. Nothing is taken: [`reserve`](Self::reserve) the
    /// name chosen.
    pub fn first_free(&self, dir: &str, base: &str, alternatives: &[String]) -> String {
        let dir = dir.to_lowercase();
        let free = |name: &str| !self.taken.contains(&name_fingerprint(&dir, name));
        if let Some(name) = std::iter::once(base)
            .chain(alternatives.iter().map(String::as_str))
            .find(|n| free(n))
        {
            return name.to_string();
        }
        (2u64..)
            .map(|counter| with_suffix(base, &counter.to_string()))
            .find(|n| free(n))
            .unwrap_or_else(|| base.to_string())
    }

    /// Marks a fixed name (such as `metadata`) as taken in `dir`; false if it already was.
    pub fn reserve(&mut self, dir: &str, name: &str) -> bool {
        self.taken
            .insert(name_fingerprint(&dir.to_lowercase(), name))
    }
}

/// The fingerprint of `name` (any case) in the lowercase directory `dir`: the same in every
/// run of this build.
fn name_fingerprint(dir: &str, name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    dir.hash(&mut h);
    name.to_lowercase().hash(&mut h);
    h.finish()
}

/// The portable name `base` with `-<suffix>` before its extension (`anh.jpg`, `id-1` →
/// `anh-id-1.jpg`), the stem shortened so the whole stays within [`MAX_SEGMENT_BYTES`].
/// `suffix` must be portable itself.
pub fn with_suffix(base: &str, suffix: &str) -> String {
    with_suffix_within(base, suffix, MAX_SEGMENT_BYTES)
}

/// [`with_suffix`], the whole within `max` bytes (the suffix and extension kept whole).
pub fn with_suffix_within(base: &str, suffix: &str, max: usize) -> String {
    let suffix = format!("-{suffix}");
    let (stem, ext) = split_extension(base);
    let ext_len = ext.map_or(0, |e| e.len() + 1);
    let room = max.saturating_sub(suffix.len() + ext_len);
    let stem = trim_edges(&stem[..stem.len().min(room)]);
    let stem = if stem.is_empty() { FALLBACK_NAME } else { stem };
    match ext {
        Some(ext) => format!("{stem}{suffix}.{ext}"),
        None => format!("{stem}{suffix}"),
    }
}

/// A checked relative path of a payload file, without the leading `data/`.
///
/// Segments are separated by `/` and each one is portable (see [`is_portable_segment`]), so
/// the path cannot leave `data/`, needs no percent-encoding in manifests and means the same
/// file on every file system. Ordering is bytewise, the order manifests are written in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PayloadPath(String);

impl PayloadPath {
    /// Checks `path` (such as `articles/2024/hello/article.json`) and wraps it.
    pub fn new(path: &str) -> Result<Self> {
        match path_problem(path) {
            None => Ok(Self(path.to_string())),
            Some(reason) => Err(BundleError::InvalidPayloadPath {
                path: path.to_string(),
                reason,
            }),
        }
    }

    /// Builds a path from segments, checking each one.
    pub fn from_segments<'a>(segments: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let joined: Vec<&str> = segments.into_iter().collect();
        Self::new(&joined.join("/"))
    }

    /// This path with one more segment appended.
    pub fn join(&self, segment: &str) -> Result<Self> {
        Self::new(&format!("{}/{segment}", self.0))
    }

    /// The path relative to `data/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The directory part, or `None` for a file directly in `data/`.
    pub fn parent(&self) -> Option<&str> {
        self.0.rfind('/').map(|slash| &self.0[..slash])
    }

    /// The path as written in manifests: `data/<path>`.
    pub fn manifest_path(&self) -> String {
        format!("data/{}", self.0)
    }
}

impl fmt::Display for PayloadPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PayloadPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for PayloadPath {
    type Error = BundleError;

    fn try_from(path: &str) -> Result<Self> {
        Self::new(path)
    }
}

/// Why `path` is not a valid payload path, or `None` when it is.
pub(crate) fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        Some("is empty")
    } else if path.starts_with('/') {
        Some("is absolute")
    } else if path.contains('\\') {
        Some("contains a backslash")
    } else if path.contains('%') {
        Some("contains '%'")
    } else if path.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        path.split('/').find_map(segment_problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn vietnamese_decision_name_folds_to_ascii() {
        assert_eq!(
            portable_segment("Quyết định số 42/QĐ-UBND.pdf"),
            "Quyet-dinh-so-42-QD-UBND.pdf"
        );
    }

    #[test]
    fn percent_quotes_and_hash_become_single_separators() {
        assert_eq!(
            portable_segment("Đề án 100% \"mới\" #2.docx"),
            "De-an-100-moi-2.docx"
        );
    }

    #[test]
    fn apostrophe_becomes_separator() {
        assert_eq!(portable_segment("I'm special.txt"), "I-m-special.txt");
    }

    #[test]
    fn nfd_input_gives_the_same_segment_as_nfc() {
        let nfc: String = "Báo cáo tổng kết năm 2023.xlsx".nfc().collect();
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(portable_segment(&nfc), portable_segment(&nfd));
        assert_eq!(portable_segment(&nfc), "Bao-cao-tong-ket-nam-2023.xlsx");
    }

    #[test]
    fn separators_next_to_the_extension_dot_are_dropped() {
        assert_eq!(portable_segment("report (final).pdf"), "report-final.pdf");
        assert_eq!(portable_segment("v1. final"), "v1.final");
    }

    #[test]
    fn edges_are_trimmed() {
        assert_eq!(portable_segment("  --.hidden.txt.. "), "hidden.txt");
        assert_eq!(portable_segment("-rf"), "rf");
    }

    #[test]
    fn dots_alone_never_survive() {
        assert_eq!(portable_segment("."), "file");
        assert_eq!(portable_segment(".."), "file");
        assert_eq!(portable_segment("../../etc/passwd"), "etc-passwd");
    }

    #[test]
    fn percent_encoded_traversal_is_flattened() {
        assert_eq!(portable_segment("%2e%2e%2f"), "2e-2e-2f");
        assert_eq!(portable_segment("..%2F..%2Fx"), "2F..2Fx");
    }

    #[test]
    fn slashes_and_control_characters_become_separators() {
        assert_eq!(portable_segment("a\\b/c\nd\te\u{7}f"), "a-b-c-d-e-f");
    }

    #[test]
    fn empty_and_symbol_only_names_become_file() {
        assert_eq!(portable_segment(""), "file");
        assert_eq!(portable_segment("###"), "file");
        assert_eq!(portable_segment("中文"), "file");
    }

    #[test]
    fn windows_device_names_get_a_suffix_on_the_stem() {
        assert_eq!(portable_segment("CON"), "CON_");
        assert_eq!(portable_segment("con.txt"), "con_.txt");
        assert_eq!(portable_segment("Nul.tar.gz"), "Nul_.tar.gz");
        assert_eq!(portable_segment("com1.doc"), "com1_.doc");
        assert_eq!(portable_segment("LPT9"), "LPT9_");
        assert_eq!(portable_segment("console.txt"), "console.txt");
        assert_eq!(portable_segment("COM10"), "COM10");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.pdf", "Nghị quyết ".repeat(30));
        let segment = portable_segment(&long);
        assert!(segment.len() <= MAX_SEGMENT_BYTES);
        assert!(segment.ends_with(".pdf"));
        assert!(segment.starts_with("Nghi-quyet-Nghi-quyet"));
        assert!(!segment.contains("-.pdf"));
    }

    #[test]
    fn long_names_without_extension_are_cut() {
        let segment = portable_segment(&"x".repeat(500));
        assert_eq!(segment.len(), MAX_SEGMENT_BYTES);
    }

    #[test]
    fn every_derived_segment_is_portable() {
        for name in [
            "Quyết định số 42/QĐ-UBND.pdf",
            "CON",
            "..",
            "",
            "%2e%2e%2f",
            "a b",
            &"é".repeat(300),
        ] {
            let segment = portable_segment(name);
            assert!(is_portable_segment(&segment), "{name:?} -> {segment:?}");
        }
    }

    #[test]
    fn allocator_separates_names_differing_only_by_case() {
        let mut names = NameAllocator::new();
        assert_eq!(names.allocate("docs", "Báo cáo.pdf"), "Bao-cao.pdf");
        assert_eq!(names.allocate("docs", "BAO CAO.pdf"), "BAO-CAO-2.pdf");
        assert_eq!(names.allocate("docs", "bao-cao.PDF"), "bao-cao-3.PDF");
        assert_eq!(names.allocate("other", "bao cao.pdf"), "bao-cao.pdf");
    }

    #[test]
    fn allocator_skips_counters_already_taken() {
        let mut names = NameAllocator::new();
        assert_eq!(names.allocate("", "a-2.txt"), "a-2.txt");
        assert_eq!(names.allocate("", "a.txt"), "a.txt");
        assert_eq!(names.allocate("", "A.txt"), "A-3.txt");
    }

    #[test]
    fn allocator_respects_reserved_names() {
        let mut names = NameAllocator::new();
        assert!(names.reserve("", "metadata"));
        assert!(!names.reserve("", "Metadata"));
        assert_eq!(names.allocate("", "Metadata"), "Metadata-2");
    }

    #[test]
    fn counters_keep_long_names_bounded() {
        let mut names = NameAllocator::new();
        let long = format!("{}.docx", "y".repeat(200));
        let first = names.allocate("", &long);
        let second = names.allocate("", &long);
        assert_eq!(first.len(), MAX_SEGMENT_BYTES);
        assert!(second.len() <= MAX_SEGMENT_BYTES);
        assert!(second.ends_with("-2.docx"));
    }

    #[test]
    fn payload_path_accepts_portable_paths() -> TestResult {
        let dir = PayloadPath::from_segments(["articles", "2024", "hello"])?;
        let path = dir.join("article.json")?;
        assert_eq!(path.as_str(), "articles/2024/hello/article.json");
        assert_eq!(
            path.manifest_path(),
            "data/articles/2024/hello/article.json"
        );
        assert_eq!(path.file_name(), "article.json");
        assert_eq!(path.parent(), Some("articles/2024/hello"));
        assert_eq!(PayloadPath::new("top.txt")?.parent(), None);
        assert!(PayloadPath::new(".keep").is_ok());
        Ok(())
    }

    #[test]
    fn payload_path_rejects_escapes_and_unportable_names() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "%2e%2e%2f",
            "100%.txt",
            "a\nb",
            "~/x",
            "C:/x",
            "a b",
            "Quyết.pdf",
            "con.txt",
            "-x",
            "x.",
        ] {
            let result = PayloadPath::new(bad);
            assert!(
                matches!(result, Err(BundleError::InvalidPayloadPath { .. })),
                "{bad:?}: {result:?}"
            );
        }
    }

    #[test]
    fn payload_path_error_names_the_path_and_a_fix() {
        let message = PayloadPath::new("../x")
            .map(|_| ())
            .err()
            .map(|e| e.to_string());
        let message = message.unwrap_or_default();
        assert!(message.contains("\"../x\""), "{message}");
        assert!(message.contains("portable_segment"), "{message}");
    }

    #[test]
    fn payload_paths_sort_bytewise() -> TestResult {
        let mut paths = ["b", "B", "a/b", "a-b"]
            .into_iter()
            .map(PayloadPath::new)
            .collect::<Result<Vec<_>>>()?;
        paths.sort();
        let sorted: Vec<&str> = paths.iter().map(PayloadPath::as_str).collect();
        assert_eq!(sorted, ["B", "a-b", "a/b", "b"]);
        Ok(())
    }
}
