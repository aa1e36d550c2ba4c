//! Reading a bag's files without caring where they are stored.
//!
//! The verifier only needs a listing and a way to open one file, so it works through
//! [`BagReader`]. [`DirReader`] reads a bag directory and [`super::ZipReader`] a zipped one;
//! both get the same checks, and a container can add findings of its own.

use super::manifest::refuse_escape;
use super::report::Finding;
use super::{BundleError, Result};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What a listed path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, device, socket or pipe: nothing a bag should hold.
    Special,
    /// A name that is not valid UTF-8; the path is shown lossily.
    NonUtf8Name,
    /// A directory whose contents could not be listed.
    Unreadable,
}

/// One entry of a bag listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagEntry {
    /// Path relative to the bag root, `/`-separated, such as `data/a/b.pdf`.
    pub path: String,
    /// What the entry is.
    pub kind: EntryKind,
    /// Size in bytes for files, 0 otherwise.
    pub size: u64,
}

/// Read access to one bag, wherever it is stored.
pub trait BagReader {
    /// Where the bag is, for messages (a directory or archive path).
    fn location(&self) -> PathBuf;

    /// Calls `visit` with every entry under the bag root, directories included, in any
    /// order; a directory may come more than once. Nothing is gathered, so a bag of any size
    /// lists in the same memory. An error means the bag cannot be listed at all.
    fn list_entries(&mut self, visit: &mut dyn FnMut(BagEntry)) -> io::Result<()>;

    /// Opens a file that [`list_entries`](Self::list_entries) reported as [`EntryKind::File`].
    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + '_>>;

    /// Problems with the container itself (a zip's structure) found since the last call:
    /// after [`list_entries`](Self::list_entries), and again once every file was read. A
    /// directory has none.
    fn container_findings(&mut self) -> Vec<Finding> {
        Vec::new()
    }
}

/// A bag stored as a directory tree.
#[derive(Debug, Clone)]
pub struct DirReader {
    root: PathBuf,
}

impl DirReader {
    /// A reader for the bag whose base directory is `root`.
    pub fn new(root: &Path) -> Result<Self> {
        let not_a_bag = |reason: String| BundleError::NotABag {
            path: root.to_path_buf(),
            reason,
        };
        let meta = fs::metadata(root).map_err(|e| not_a_bag(e.to_string()))?;
        if !meta.is_dir() {
            return Err(not_a_bag("it is not a directory".to_string()));
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Lists `dir` (relative `prefix`) to `out`, descending into subdirectories.
    fn walk(&self, dir: &Path, prefix: &str, out: &mut dyn FnMut(BagEntry)) -> io::Result<()> {
        for item in fs::read_dir(dir)? {
            let item = item?;
            let Some(name) = item.file_name().to_str().map(str::to_string) else {
                out(BagEntry {
                    path: format!("{prefix}{}", item.file_name().to_string_lossy()),
                    kind: EntryKind::NonUtf8Name,
                    size: 0,
                });
                continue;
            };
            let path = format!("{prefix}{name}");
            let file_type = item.file_type()?;
            if file_type.is_dir() {
                out(entry(&path, EntryKind::Dir, 0));
                if self.walk(&item.path(), &format!("{path}/"), out).is_err() {
                    out(entry(&path, EntryKind::Unreadable, 0));
                }
            } else if file_type.is_file() {
                let size = item.metadata()?.len();
                out(entry(&path, EntryKind::File, size));
            } else {
                out(entry(&path, EntryKind::Special, 0));
            }
        }
        Ok(())
    }
}

/// Shorthand for building an entry.
fn entry(path: &str, kind: EntryKind, size: u64) -> BagEntry {
    BagEntry {
        path: path.to_string(),
        kind,
        size,
    }
}

impl BagReader for DirReader {
    fn location(&self) -> PathBuf {
        self.root.clone()
    }

    fn list_entries(&mut self, visit: &mut dyn FnMut(BagEntry)) -> io::Result<()> {
        self.walk(&self.root, "", visit)
    }

    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        refuse_escape(path)?;
        Ok(Box::new(File::open(self.root.join(path))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn lists_files_and_directories() -> TestResult {
        let dir = tempfile::tempdir()?;
        fs::create_dir_all(dir.path().join("data/sub"))?;
        fs::write(dir.path().join("data/sub/a.txt"), b"abc")?;
        fs::write(dir.path().join("bagit.txt"), b"x")?;
        let mut entries = Vec::new();
        DirReader::new(dir.path())?.list_entries(&mut |e| entries.push(e))?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let listed: Vec<(&str, EntryKind, u64)> = entries
            .iter()
            .map(|e| (e.path.as_str(), e.kind, e.size))
            .collect();
        assert_eq!(
            listed,
            [
                ("bagit.txt", EntryKind::File, 1),
                ("data", EntryKind::Dir, 0),
                ("data/sub", EntryKind::Dir, 0),
                ("data/sub/a.txt", EntryKind::File, 3),
            ]
        );
        Ok(())
    }

    #[test]
    fn refuses_to_open_outside_the_root() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut reader = DirReader::new(dir.path())?;
        assert!(reader.open("../secret").is_err());
        assert!(reader.open("/etc/passwd").is_err());
        Ok(())
    }

    #[test]
    fn a_missing_root_is_not_a_bag() {
        let result = DirReader::new(Path::new("/nonexistent/sharc-bag"));
        assert!(matches!(result, Err(BundleError::NotABag { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_special() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link"))?;
        let mut entries = Vec::new();
        DirReader::new(dir.path())?.list_entries(&mut |e| entries.push(e))?;
        assert_eq!(entries[0].kind, EntryKind::Special);
        Ok(())
    }
}
