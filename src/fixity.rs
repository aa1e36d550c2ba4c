//! Fixity: the sha256 and sha512 of a byte stream, computed in one pass.
//!
//! Every payload file in a bag is listed in both `manifest-sha256.txt` and
//! `manifest-sha512.txt`, and records repeat both digests. Downloads feed each chunk to a
//! [`FixityHasher`] as it arrives, so no file is read twice and none is held in memory.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use std::io::{self, Read};

/// Size and digests of one file, digests as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fixity {
    /// Number of bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// SHA-512, lowercase hex.
    pub sha512: String,
}

/// Computes size, sha256 and sha512 of everything written to it.
#[derive(Default, Clone)]
pub struct FixityHasher {
    size: u64,
    sha256: Sha256,
    sha512: Sha512,
}

impl FixityHasher {
    /// A hasher that has seen no bytes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        self.sha256.update(chunk);
        self.sha512.update(chunk);
    }

    /// Bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The final size and digests.
    pub fn finish(self) -> Fixity {
        Fixity {
            size: self.size,
            sha256: hex::encode(self.sha256.finalize()),
            sha512: hex::encode(self.sha512.finalize()),
        }
    }
}

/// Fixity of a byte slice.
pub fn of_bytes(bytes: &[u8]) -> Fixity {
    let mut h = FixityHasher::new();
    h.update(bytes);
    h.finish()
}

/// Fixity of everything a reader yields, read in 64 KiB chunks.
pub fn of_reader(mut r: impl Read) -> io::Result<Fixity> {
    let mut h = FixityHasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_abc() {
        let f = of_bytes(b"abc");
        assert_eq!(f.size, 3);
        assert_eq!(
            f.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(f.sha512.starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn reader_and_bytes_agree() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(of_reader(&data[..]).unwrap(), of_bytes(&data));
    }
}
