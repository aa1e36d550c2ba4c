//! The files a crawl kept, by URL, on disk: every URL met is remembered for the whole run
//! (a file is fetched once, and every record that points to it is filled from it) without
//! the run's memory growing with the portal.
//!
//! Each kept file is one JSON line in a file in staging; memory holds a fingerprint of each
//! URL with where its line starts, and the files of the page in progress. A fingerprint met
//! again is confirmed against the line on disk, so two URLs whose fingerprints agree are
//! still told apart.

use super::KeptFile;
use crate::bundle::ExternalSort;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Kept files by URL, their details on disk.
pub(super) struct KeptIndex<S = RandomState> {
    /// Keys chosen at random for this run: URLs from the portal cannot be made to collide.
    hasher: S,
    /// URL fingerprint → where its line starts.
    at: HashMap<u64, u64>,
    /// URLs whose fingerprint an earlier URL has, with where their line starts.
    collided: HashMap<String, u64>,
    path: PathBuf,
    file: File,
    /// Where the next line goes.
    end: u64,
    /// The files kept since [`start_page`](Self::start_page): the page in progress reads
    /// its own files from memory.
    recent: HashMap<String, KeptFile>,
}

impl KeptIndex {
    /// An empty index whose lines go to `path` (created, or emptied).
    pub(super) fn create(path: &Path) -> io::Result<Self> {
        Self::with_hasher(path, RandomState::new())
    }
}

impl<S: BuildHasher> KeptIndex<S> {
    /// [`KeptIndex::create`], fingerprinting with `hasher`.
    fn with_hasher(path: &Path, hasher: S) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Self {
            hasher,
            at: HashMap::new(),
            collided: HashMap::new(),
            path: path.to_path_buf(),
            file,
            end: 0,
            recent: HashMap::new(),
        })
    }

    /// Where the lines are.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Forgets the files held in memory: they are read from disk when asked for again.
    pub(super) fn start_page(&mut self) {
        self.recent = HashMap::new();
    }

    /// Remembers `kept` for `url`.
    pub(super) fn insert(&mut self, url: String, kept: KeptFile) -> io::Result<()> {
        let mut line = serde_json::to_vec(&(&url, &kept)).map_err(io::Error::other)?;
        line.push(b'\n');
        let offset = self.end;
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(&line)?;
        self.end += line.len() as u64;
        let fingerprint = self.hasher.hash_one(&url);
        match self.at.get(&fingerprint) {
            Some(&earlier) if self.read_at(earlier)?.0 != url => {
                self.collided.insert(url.clone(), offset);
            }
            _ => {
                self.at.insert(fingerprint, offset);
            }
        }
        self.recent.insert(url, kept);
        Ok(())
    }

    /// The file kept for `url`, if one was.
    pub(super) fn get(&self, url: &str) -> io::Result<Option<KeptFile>> {
        if let Some(kept) = self.recent.get(url) {
            return Ok(Some(kept.clone()));
        }
        let offset = match self.collided.get(url) {
            Some(&offset) => offset,
            None => match self.at.get(&self.hasher.hash_one(url)) {
                Some(&offset) => offset,
                None => return Ok(None),
            },
        };
        let (found, kept) = self.read_at(offset)?;
        Ok((found == url).then_some(kept))
    }

    /// The line that starts at `offset`.
    fn read_at(&self, offset: u64) -> io::Result<(String, KeptFile)> {
        let mut file = &self.file;
        file.seek(SeekFrom::Start(offset))?;
        let mut line = Vec::new();
        BufReader::new(file).read_until(b'\n', &mut line)?;
        serde_json::from_slice(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Every URL kept with its file's payload path (`data/…`), sorted by URL in bounded
    /// memory; the sort's run files go beside `scratch`, a path no one else uses.
    pub(super) fn path_map(
        &self,
        scratch: &Path,
    ) -> io::Result<impl Iterator<Item = io::Result<(String, String)>> + use<S>> {
        let dir = scratch.parent().unwrap_or(Path::new("."));
        let name = scratch
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut sort = ExternalSort::new(dir, &name);
        let reader = BufReader::new(File::open(&self.path)?);
        for line in reader.split(b'\n') {
            let (url, kept): (String, KeptFile) = serde_json::from_slice(&line?)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            // A URL holds no NUL: it sorts before any longer URL it begins.
            let mut record = url.into_bytes();
            record.push(0);
            record.extend_from_slice(kept.path.as_bytes());
            sort.push(record)?;
        }
        Ok(sort.finish()?.map(|record| {
            let record = record?;
            let text = String::from_utf8(record)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let (url, path) = text.split_once('\0').unwrap_or((&text, ""));
            Ok((url.to_string(), path.to_string()))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn kept(path: &str) -> KeptFile {
        KeptFile::here(path.to_string(), crate::fixity::of_bytes(path.as_bytes()))
    }

    #[test]
    fn files_of_earlier_pages_are_read_back_from_disk() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut index = KeptIndex::create(&dir.path().join("kept"))?;
        index.insert("http://h/b.pdf".into(), kept("data/files/b.pdf"))?;
        index.insert("http://h/a.pdf".into(), kept("data/files/a.pdf"))?;
        index.start_page();
        assert!(index.recent.is_empty());
        assert_eq!(index.get("http://h/a.pdf")?, Some(kept("data/files/a.pdf")));
        assert_eq!(index.get("http://h/c.pdf")?, None);
        let map: Vec<(String, String)> = index
            .path_map(&dir.path().join("scratch"))?
            .collect::<io::Result<_>>()?;
        assert_eq!(
            map,
            [
                ("http://h/a.pdf".to_string(), "data/files/a.pdf".to_string()),
                ("http://h/b.pdf".to_string(), "data/files/b.pdf".to_string()),
            ]
        );
        Ok(())
    }

    /// A fingerprint that is the same for every URL.
    #[derive(Default)]
    struct Constant;

    impl std::hash::Hasher for Constant {
        fn finish(&self) -> u64 {
            7
        }

        fn write(&mut self, _: &[u8]) {}
    }

    #[test]
    fn urls_whose_fingerprints_agree_are_told_apart() -> TestResult {
        let dir = tempfile::tempdir()?;
        let hasher = std::hash::BuildHasherDefault::<Constant>::default();
        let mut index = KeptIndex::with_hasher(&dir.path().join("kept"), hasher)?;
        let urls = ["http://h/a.pdf", "http://h/b.pdf", "http://h/c.pdf"];
        for url in urls {
            index.insert(url.into(), kept(&format!("data/{url}")))?;
        }
        index.start_page();
        for url in urls {
            assert_eq!(index.get(url)?, Some(kept(&format!("data/{url}"))), "{url}");
        }
        assert_eq!(index.get("http://h/d.pdf")?, None);
        Ok(())
    }
}
