//! Where a portal's files are: a directory on disk, or the Long An sample compiled into this
//! crate.
//!
//! The loader ([`crate::data`]) and the file routes read through a [`Tree`] only, so the
//! built-in portal answers byte for byte as its directory does, and a `sharc` binary copied
//! anywhere (or installed with `cargo install`) can still serve it. Paths are relative and
//! `/`-separated; a `.` or `..` segment is refused before anything is looked up, and on disk
//! the path must also resolve, symbolic links followed, inside the directory it is looked up
//! in.

use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Every file of `samples/long-an-stp`, as `(relative path, bytes)` sorted by path; written by
/// the build script.
static LONG_AN_STP: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/long_an_stp.rs"));

/// How the built-in sample is named in messages.
const BUILT_IN_NAME: &str = "(built-in) long-an-stp";

/// A portal's files.
#[derive(Debug, Clone)]
pub(crate) enum Tree {
    /// A portal directory on disk, as given.
    Dir(PathBuf),
    /// The Long An sample compiled into the crate.
    BuiltIn,
}

/// A file found in a [`Tree`].
#[derive(Debug, Clone)]
pub(crate) struct Blob {
    /// Its size in bytes.
    pub len: u64,
    /// When it last changed, when the tree knows (the built-in sample does not).
    pub modified: Option<SystemTime>,
    /// Where its bytes are.
    pub content: Content,
}

/// Where a file's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A file on disk (its resolved path), streamed when served.
    Disk(PathBuf),
    /// Bytes compiled into the crate.
    Memory(&'static [u8]),
    /// `len` bytes generated when served, the same for the same `seed` (a grown portal).
    Synthetic {
        /// What picks the bytes.
        seed: u64,
        /// How many.
        len: u64,
    },
}

/// Why a path gave no file.
#[derive(Debug)]
pub(crate) enum Miss {
    /// Nothing readable is there.
    Unreadable(io::Error),
    /// The path leaves the directory it was looked up in.
    Outside,
    /// Something is there, but not a file (a directory, a device).
    NotAFile,
}

impl Tree {
    /// The path of `rel` as messages show it.
    pub fn name(&self, rel: &str) -> PathBuf {
        match self {
            Tree::Dir(root) => root.join(rel),
            Tree::BuiltIn => Path::new(BUILT_IN_NAME).join(rel),
        }
    }

    /// The whole content of the file at `rel`.
    pub fn read(&self, rel: &str) -> io::Result<Cow<'static, [u8]>> {
        match self {
            Tree::Dir(root) => std::fs::read(root.join(rel)).map(Cow::Owned),
            Tree::BuiltIn => built_in(rel).map(Cow::Borrowed).ok_or_else(not_found),
        }
    }

    /// The `*.json` files directly in the directory `rel`, as relative paths in name order;
    /// a `NotFound` error when there is no such directory.
    pub fn json_files(&self, rel: &str) -> io::Result<Vec<String>> {
        let mut found = Vec::new();
        match self {
            Tree::Dir(root) => {
                for entry in std::fs::read_dir(root.join(rel))? {
                    let name = entry?.file_name();
                    // A name that is not UTF-8 cannot be an item file (`NNNN.json`).
                    if let Some(name) = name.to_str().filter(|n| n.ends_with(".json")) {
                        found.push(format!("{rel}/{name}"));
                    }
                }
            }
            Tree::BuiltIn => {
                let prefix = format!("{rel}/");
                let mut any = false;
                for (path, _) in LONG_AN_STP {
                    let Some(name) = path.strip_prefix(&prefix) else {
                        continue;
                    };
                    any = true;
                    if !name.contains('/') && name.ends_with(".json") {
                        found.push((*path).to_owned());
                    }
                }
                if !any {
                    return Err(not_found());
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// The file at `rel`, which must lie inside the directory `within` (`""`: the whole tree).
    pub fn file(&self, within: &str, rel: &str) -> Result<Blob, Miss> {
        let segments = plain_segments(rel).ok_or(Miss::Outside)?;
        let inside = plain_segments(within).ok_or(Miss::Outside)?;
        if !segments.starts_with(&inside) {
            return Err(Miss::Outside);
        }
        match self {
            Tree::Dir(root) => {
                let base = inside.iter().fold(root.clone(), |p, s| p.join(s));
                let path = segments.iter().fold(root.clone(), |p, s| p.join(s));
                let base = std::fs::canonicalize(&base).map_err(Miss::Unreadable)?;
                let resolved = std::fs::canonicalize(&path).map_err(Miss::Unreadable)?;
                if !resolved.starts_with(&base) {
                    return Err(Miss::Outside);
                }
                let meta = std::fs::metadata(&resolved).map_err(Miss::Unreadable)?;
                if !meta.is_file() {
                    return Err(Miss::NotAFile);
                }
                Ok(Blob {
                    len: meta.len(),
                    modified: meta.modified().ok(),
                    content: Content::Disk(resolved),
                })
            }
            Tree::BuiltIn => {
                let key = segments.join("/");
                if LONG_AN_STP
                    .iter()
                    .any(|(path, _)| path.starts_with(&format!("{key}/")))
                {
                    return Err(Miss::NotAFile);
                }
                let bytes = built_in(&key).ok_or_else(|| Miss::Unreadable(not_found()))?;
                Ok(Blob {
                    len: bytes.len() as u64,
                    modified: None,
                    content: Content::Memory(bytes),
                })
            }
        }
    }
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Unreadable(e) => write!(f, "{e}"),
            Miss::Outside => f.write_str("it leaves the portal directory"),
            Miss::NotAFile => f.write_str("it is not a file"),
        }
    }
}

/// The segments of a relative path, empty ones dropped; `None` when one is `.` or `..` or
/// holds a backslash or NUL, or the path is absolute.
fn plain_segments(rel: &str) -> Option<Vec<&str>> {
    if rel.starts_with('/') {
        return None;
    }
    let segments: Vec<&str> = rel.split('/').filter(|s| !s.is_empty()).collect();
    let plain = segments
        .iter()
        .all(|s| *s != "." && *s != ".." && !s.contains(['\\', '\0']));
    plain.then_some(segments)
}

fn built_in(rel: &str) -> Option<&'static [u8]> {
    LONG_AN_STP
        .binary_search_by(|(path, _)| (*path).cmp(rel))
        .ok()
        .map(|i| LONG_AN_STP[i].1)
}

fn not_found() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "no such file in the built-in sample",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_sample_is_sorted_and_complete() {
        assert!(LONG_AN_STP.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(built_in("portal.json").is_some());
        assert!(
            !Tree::BuiltIn
                .json_files("lists/TinTucSuKien/items")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn paths_that_leave_the_tree_are_refused_before_lookup() {
        for rel in [
            "../portal.json",
            "files/../portal.json",
            "/etc/passwd",
            "a\\b",
            "./x",
        ] {
            assert!(
                matches!(Tree::BuiltIn.file("", rel), Err(Miss::Outside)),
                "{rel}"
            );
        }
        assert!(matches!(
            Tree::BuiltIn.file("files", "portal.json"),
            Err(Miss::Outside)
        ));
        assert!(matches!(
            Tree::BuiltIn.file("", "files"),
            Err(Miss::NotAFile)
        ));
        assert!(matches!(
            Tree::BuiltIn.file("", "nothing.json"),
            Err(Miss::Unreadable(_))
        ));
    }
}
