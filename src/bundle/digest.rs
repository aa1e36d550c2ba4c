//! Checksums for verifying bags made by any BagIt tool, in one pass per file.
//!
//! sharc writes only sha256 and sha512 manifests, but the bags it is asked to verify come from
//! everywhere: BagIt 0.97 bags from bagit-python and Bagger usually carry md5, some carry sha1
//! or sha224. A file listed in several manifests is still read once: [`MultiHasher`] feeds
//! every chunk to each algorithm the bag's manifests ask for.

use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};

/// Normalised names (RFC 8493 §2.4) of the algorithms whose manifests can be checked.
pub(crate) const CHECKED_ALGORITHMS: [&str; 6] =
    ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"];

/// Number of hex digits a digest of `algorithm` has, for the algorithms BagIt names.
pub(crate) fn digest_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "md5" => Some(32),
        "sha1" => Some(40),
        "sha224" => Some(56),
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    }
}

/// Every digest of one manifest, each in as few bytes as its algorithm needs: a manifest of
/// 100,000 sha512 lines holds 6.4 MB of digests, not 100,000 strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DigestStore {
    /// Raw bytes, `width` each, for an algorithm whose digest length is known.
    Bytes {
        /// Bytes of one digest.
        width: usize,
        /// The digests one after another.
        bytes: Vec<u8>,
    },
    /// Lowercase hex, for any other algorithm.
    Hex(Vec<String>),
}

impl DigestStore {
    /// An empty store for `algorithm` (normalised name).
    pub(crate) fn for_algorithm(algorithm: &str) -> Self {
        match digest_len(algorithm) {
            Some(hex) => Self::Bytes {
                width: hex / 2,
                bytes: Vec::new(),
            },
            None => Self::Hex(Vec::new()),
        }
    }

    /// Adds a lowercase hex digest; returns its slot.
    pub(crate) fn push(&mut self, hex_digest: &str) -> u32 {
        match self {
            Self::Bytes { width, bytes } => {
                let slot = bytes.len() / *width;
                let mut raw = vec![0u8; *width];
                if hex::decode_to_slice(hex_digest, &mut raw).is_err() {
                    // parse_line checked the length and the digits; never reached.
                    raw.fill(0);
                }
                bytes.extend_from_slice(&raw);
                slot as u32
            }
            Self::Hex(all) => {
                all.push(hex_digest.to_string());
                (all.len() - 1) as u32
            }
        }
    }

    /// The digest in `slot`, as lowercase hex.
    pub(crate) fn hex(&self, slot: u32) -> String {
        let slot = slot as usize;
        match self {
            Self::Bytes { width, bytes } => hex::encode(
                bytes
                    .get(slot * width..(slot + 1) * width)
                    .unwrap_or_default(),
            ),
            Self::Hex(all) => all.get(slot).cloned().unwrap_or_default(),
        }
    }

    /// Makes room for `n` more digests.
    pub(crate) fn reserve(&mut self, n: usize) {
        match self {
            Self::Bytes { width, bytes } => bytes.reserve(n.saturating_mul(*width)),
            Self::Hex(all) => all.reserve(n),
        }
    }

    /// Frees what was reserved beyond the digests held.
    pub(crate) fn shrink(&mut self) {
        match self {
            Self::Bytes { bytes, .. } => bytes.shrink_to_fit(),
            Self::Hex(all) => all.shrink_to_fit(),
        }
    }
}

/// Whether manifests of `algorithm` (normalised name) can be checked.
pub(crate) fn is_checked(algorithm: &str) -> bool {
    CHECKED_ALGORITHMS.contains(&algorithm)
}

/// One running hash.
enum Running {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Running {
    /// A fresh hash for a normalised algorithm name, `None` for one not in
    /// [`CHECKED_ALGORITHMS`].
    fn new(algorithm: &str) -> Option<Self> {
        Some(match algorithm {
            "md5" => Self::Md5(md5::Md5::new()),
            "sha1" => Self::Sha1(sha1::Sha1::new()),
            "sha224" => Self::Sha224(sha2::Sha224::new()),
            "sha256" => Self::Sha256(sha2::Sha256::new()),
            "sha384" => Self::Sha384(sha2::Sha384::new()),
            "sha512" => Self::Sha512(sha2::Sha512::new()),
            _ => return None,
        })
    }

    fn update(&mut self, chunk: &[u8]) {
        match self {
            Self::Md5(h) => h.update(chunk),
            Self::Sha1(h) => h.update(chunk),
            Self::Sha224(h) => h.update(chunk),
            Self::Sha256(h) => h.update(chunk),
            Self::Sha384(h) => h.update(chunk),
            Self::Sha512(h) => h.update(chunk),
        }
    }

    /// The digest as lowercase hex.
    fn finish(self) -> String {
        match self {
            Self::Md5(h) => hex::encode(h.finalize()),
            Self::Sha1(h) => hex::encode(h.finalize()),
            Self::Sha224(h) => hex::encode(h.finalize()),
            Self::Sha256(h) => hex::encode(h.finalize()),
            Self::Sha384(h) => hex::encode(h.finalize()),
            Self::Sha512(h) => hex::encode(h.finalize()),
        }
    }
}

/// Computes several digests of one byte stream at once.
pub(crate) struct MultiHasher {
    hashes: Vec<(String, Running)>,
}

impl MultiHasher {
    /// A hasher for each checkable algorithm in `algorithms`; others are skipped.
    pub(crate) fn new<'a>(algorithms: impl IntoIterator<Item = &'a str>) -> Self {
        let wanted: BTreeSet<&str> = algorithms.into_iter().collect();
        let hashes = wanted
            .into_iter()
            .filter_map(|a| Running::new(a).map(|h| (a.to_string(), h)))
            .collect();
        Self { hashes }
    }

    /// Feeds the next chunk to every hash.
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        for (_, h) in &mut self.hashes {
            h.update(chunk);
        }
    }

    /// Algorithm name to lowercase hex digest.
    pub(crate) fn finish(self) -> BTreeMap<String, String> {
        self.hashes
            .into_iter()
            .map(|(name, h)| (name, h.finish()))
            .collect()
    }

    /// Hashes a byte slice.
    pub(crate) fn of_bytes(mut self, bytes: &[u8]) -> BTreeMap<String, String> {
        self.update(bytes);
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digests_are_stored_as_bytes_and_read_back_as_hex() {
        let mut store = DigestStore::for_algorithm("sha256");
        let slot = store.push(SHA256_ABC);
        assert_eq!(store.hex(slot), SHA256_ABC);
        let mut other = DigestStore::for_algorithm("blake3");
        let slot = other.push("abc");
        assert_eq!(other.hex(slot), "abc");
    }

    #[test]
    fn known_digests_of_abc() {
        let digests = MultiHasher::new(CHECKED_ALGORITHMS).of_bytes(b"abc");
        let get = |a: &str| digests.get(a).map(String::as_str);
        assert_eq!(get("md5"), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(
            get("sha1"),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            get("sha224"),
            Some("23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
        );
        assert_eq!(
            get("sha256"),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert!(get("sha384").is_some_and(|d| d.starts_with("cb00753f45a35e8b")));
        assert!(get("sha512").is_some_and(|d| d.starts_with("ddaf35a193617aba")));
    }

    #[test]
    fn unknown_algorithms_are_skipped_and_chunks_agree_with_bytes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut chunked = MultiHasher::new(["sha256", "blake3"]);
        data.chunks(65_536).for_each(|c| chunked.update(c));
        let chunked = chunked.finish();
        assert_eq!(chunked, MultiHasher::new(["sha256"]).of_bytes(&data));
        assert_eq!(chunked.len(), 1);
        assert!(!is_checked("blake3"));
    }
}
