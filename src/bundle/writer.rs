//! Writing a bag: stage beside the output, then rename it into place.
//!
//! Payload files go into `<parent>/<name>.sharc-partial/data/` as they arrive. Only
//! [`BagWriter::finish`] writes the tag files, syncs everything and renames the staging
//! directory to the output path, so a directory at the output path is always a complete bag
//! and an interrupted run leaves nothing there.

use super::info::{BagInfo, human_size};
use super::manifest;
use super::names::PayloadPath;
use super::{BundleError, Result, io_err};
use crate::fixity::{self, Fixity};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The exact bytes of `bagit.txt`.
const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// Suffix of the staging directory's name, next to the output directory.
const STAGING_SUFFIX: &str = ".sharc-partial";

/// Builds one bag in a staging directory and moves it into place when finished.
///
/// The staging directory is `<parent>/<name>.sharc-partial/` for an output `<parent>/<name>`.
/// Dropping the writer without calling [`finish`](Self::finish) leaves it there. A later
/// [`create`](Self::create) for the same output clears a leftover staging directory (and
/// logs a warning); its stable name keeps the door open for resuming from it instead.
#[derive(Debug)]
pub struct BagWriter {
    out: PathBuf,
    staging: PathBuf,
    payload: BTreeMap<PayloadPath, Fixity>,
    clashes: ClashIndex,
}

/// A bag that is complete and in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedBag {
    /// The bag's base directory (the requested output).
    pub path: PathBuf,
    /// Payload-Oxum: total payload bytes and number of payload files.
    pub payload_oxum: (u64, u64),
    /// Bag-Size as written in `bag-info.txt`, such as `7.7 KB`.
    pub bag_size: String,
    /// Every payload file with its fixity, in manifest order.
    pub payload: BTreeMap<PayloadPath, Fixity>,
}

impl BagWriter {
    /// Starts a bag that will appear at `out` when finished.
    ///
    /// Fails if `out` exists. A stale `<name>.sharc-partial` directory from a run that did
    /// not finish is removed first.
    pub fn create(out: &Path) -> Result<Self> {
        if fs::symlink_metadata(out).is_ok() {
            return Err(BundleError::OutputExists {
                path: out.to_path_buf(),
            });
        }
        let staging = staging_path(out)?;
        clear_stale_staging(&staging)?;
        let data = staging.join("data");
        fs::create_dir_all(&data).map_err(io_err("create directory", &data))?;
        Ok(Self {
            out: out.to_path_buf(),
            staging,
            payload: BTreeMap::new(),
            clashes: ClashIndex::default(),
        })
    }

    /// The staging directory the bag is built in.
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }

    /// Where the file for `path` goes in staging; its parent directories are created.
    ///
    /// Callers that stream a download write it here while hashing, then call
    /// [`add_file`](Self::add_file).
    pub fn data_path(&self, path: &PayloadPath) -> Result<PathBuf> {
        let mut file = self.staging.join("data");
        file.extend(path.segments());
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        Ok(file)
    }

    /// Writes `bytes` as payload file `path` and returns its fixity.
    pub fn add_bytes(&mut self, path: &PayloadPath, bytes: &[u8]) -> Result<Fixity> {
        self.clashes.check(path)?;
        let file = self.data_path(path)?;
        write_synced(&file, bytes).map_err(io_err("write", &file))?;
        let fixity = fixity::of_bytes(bytes);
        self.register(path, fixity.clone());
        Ok(fixity)
    }

    /// Registers a payload file the caller already wrote to [`data_path`](Self::data_path),
    /// with the fixity computed while writing it. The file is synced to disk.
    pub fn add_file(&mut self, path: &PayloadPath, fixity: Fixity) -> Result<()> {
        self.clashes.check(path)?;
        let file = self.data_path(path)?;
        let actual = fs::metadata(&file)
            .map_err(io_err("inspect staged file", &file))?
            .len();
        if actual != fixity.size {
            return Err(BundleError::StagedSizeMismatch {
                path: file,
                expected: fixity.size,
                actual,
            });
        }
        sync_file(&file).map_err(io_err("sync", &file))?;
        self.register(path, fixity);
        Ok(())
    }

    /// Whether payload file `path` has been added.
    pub fn contains(&self, path: &PayloadPath) -> bool {
        self.payload.contains_key(path)
    }

    /// Writes the tag files, syncs the bag and renames it to the output path.
    pub fn finish(self, info: BagInfo) -> Result<FinishedBag> {
        info.validate()?;
        let oxum = self.payload_oxum();
        let mut tag_files: Vec<(String, Vec<u8>)> = vec![
            ("bagit.txt".into(), BAGIT_TXT.into()),
            ("bag-info.txt".into(), info.render(oxum).into_bytes()),
            ("manifest-sha256.txt".into(), self.manifest(|f| &f.sha256)),
            ("manifest-sha512.txt".into(), self.manifest(|f| &f.sha512)),
        ];
        tag_files.extend(info.tag_files);
        for (name, bytes) in &tag_files {
            self.write_tag_file(name, bytes)?;
        }
        self.write_tag_manifests(&tag_files)?;
        self.sync_dirs(tag_files.iter().map(|(name, _)| name.as_str()))?;
        self.move_into_place()?;
        Ok(FinishedBag {
            path: self.out,
            payload_oxum: oxum,
            bag_size: human_size(oxum.0),
            payload: self.payload,
        })
    }

    /// Records an added payload file.
    fn register(&mut self, path: &PayloadPath, fixity: Fixity) {
        self.clashes.insert(path);
        self.payload.insert(path.clone(), fixity);
    }

    /// Total payload bytes and file count.
    fn payload_oxum(&self) -> (u64, u64) {
        let bytes = self.payload.values().map(|f| f.size).sum();
        (bytes, self.payload.len() as u64)
    }

    /// A payload manifest, one line per file, sorted by path.
    fn manifest(&self, digest: impl Fn(&Fixity) -> &String) -> Vec<u8> {
        let lines: Vec<(&str, String)> = self
            .payload
            .iter()
            .map(|(path, fixity)| (digest(fixity).as_str(), path.manifest_path()))
            .collect();
        manifest::render(lines.iter().map(|(d, p)| (*d, p.as_str()))).into_bytes()
    }

    /// Writes both tag manifests over `tag_files`, sorted by name.
    fn write_tag_manifests(&self, tag_files: &[(String, Vec<u8>)]) -> Result<()> {
        let fixities: BTreeMap<&str, Fixity> = tag_files
            .iter()
            .map(|(name, bytes)| (name.as_str(), fixity::of_bytes(bytes)))
            .collect();
        let sha256 = manifest::render(fixities.iter().map(|(n, f)| (f.sha256.as_str(), *n)));
        let sha512 = manifest::render(fixities.iter().map(|(n, f)| (f.sha512.as_str(), *n)));
        self.write_tag_file("tagmanifest-sha256.txt", sha256.as_bytes())?;
        self.write_tag_file("tagmanifest-sha512.txt", sha512.as_bytes())
    }

    /// Writes one tag file (name relative to the bag root) and syncs it.
    fn write_tag_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut file = self.staging.clone();
        file.extend(name.split('/'));
        if let Some(parent) = file.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        write_synced(&file, bytes).map_err(io_err("write", &file))
    }

    /// Syncs every directory that holds a payload or tag file, deepest first.
    fn sync_dirs<'a>(&self, tag_files: impl Iterator<Item = &'a str>) -> Result<()> {
        let mut dirs = BTreeSet::from([String::new(), "data".to_string()]);
        let payload = self.payload.keys().map(PayloadPath::manifest_path);
        for file in payload.chain(tag_files.map(str::to_string)) {
            let mut dir = file.as_str();
            while let Some(slash) = dir.rfind('/') {
                dir = &dir[..slash];
                dirs.insert(dir.to_string());
            }
        }
        for dir in dirs.iter().rev() {
            let mut path = self.staging.clone();
            path.extend(dir.split('/').filter(|s| !s.is_empty()));
            sync_dir(&path).map_err(io_err("sync directory", &path))?;
        }
        Ok(())
    }

    /// Renames the staging directory to the output path and syncs the parent directory.
    fn move_into_place(&self) -> Result<()> {
        if fs::symlink_metadata(&self.out).is_ok() {
            return Err(BundleError::OutputExists {
                path: self.out.clone(),
            });
        }
        fs::rename(&self.staging, &self.out).map_err(io_err("rename staging to", &self.out))?;
        let parent = parent_dir(&self.out);
        sync_dir(parent).map_err(io_err("sync directory", parent))
    }
}

/// `<parent>/<name>.sharc-partial` for an output `<parent>/<name>`.
fn staging_path(out: &Path) -> Result<PathBuf> {
    let name = out.file_name().ok_or_else(|| BundleError::BadOutputPath {
        path: out.to_path_buf(),
    })?;
    let mut staged = name.to_os_string();
    staged.push(STAGING_SUFFIX);
    Ok(out.with_file_name(staged))
}

/// Removes a staging directory left by a run that did not finish.
fn clear_stale_staging(staging: &Path) -> Result<()> {
    match fs::symlink_metadata(staging) {
        Ok(meta) if meta.is_dir() => {
            tracing::warn!(
                path = %staging.display(),
                "removing an unfinished bag left by an earlier run"
            );
            fs::remove_dir_all(staging).map_err(io_err("remove stale staging directory", staging))
        }
        Ok(_) => Err(BundleError::StagingNotDir {
            path: staging.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("inspect", staging)(e)),
    }
}

/// The directory containing `path`, `.` for a bare name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Creates or truncates `path`, writes `bytes` and syncs the file.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Syncs a file someone else wrote.
fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Syncs a directory's entries, where the platform allows it.
fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(path)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Payload paths and directories seen so far, by lowercase form, to refuse names that
/// collide on case-insensitive file systems or put a file where a directory is.
#[derive(Debug, Default)]
struct ClashIndex {
    files: HashMap<String, String>,
    dirs: HashMap<String, String>,
}

impl ClashIndex {
    /// Fails if `path` cannot be added next to what is already there.
    fn check(&self, path: &PayloadPath) -> Result<()> {
        let actual = path.as_str();
        let lower = actual.to_ascii_lowercase();
        let clash = |existing: &String| BundleError::PayloadClash {
            path: actual.to_string(),
            existing: existing.clone(),
        };
        if let Some(existing) = self.files.get(&lower).or_else(|| self.dirs.get(&lower)) {
            return Err(clash(existing));
        }
        for (at, _) in actual.match_indices('/') {
            let dir = &actual[..at];
            let dir_lower = &lower[..at];
            if let Some(existing) = self.files.get(dir_lower) {
                return Err(clash(existing));
            }
            if let Some(existing) = self.dirs.get(dir_lower).filter(|d| *d != dir) {
                return Err(clash(existing));
            }
        }
        Ok(())
    }

    /// Records `path` and its directories.
    fn insert(&mut self, path: &PayloadPath) {
        let actual = path.as_str();
        for (at, _) in actual.match_indices('/') {
            let dir = &actual[..at];
            self.dirs
                .entry(dir.to_ascii_lowercase())
                .or_insert_with(|| dir.to_string());
        }
        self.files
            .insert(actual.to_ascii_lowercase(), actual.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn p(path: &str) -> Result<PayloadPath> {
        PayloadPath::new(path)
    }

    fn read(path: &Path) -> io::Result<String> {
        fs::read_to_string(path)
    }

    #[test]
    fn writes_a_complete_bag_and_removes_staging() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        assert_eq!(writer.staging_dir(), dir.path().join("bag.sharc-partial"));
        writer.add_bytes(&p("b/two.txt")?, b"two")?;
        let abc = writer.add_bytes(&p("a.txt")?, b"abc")?;
        assert_eq!(abc, fixity::of_bytes(b"abc"));
        assert!(writer.contains(&p("a.txt")?));
        assert!(!out.exists());
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.path, out);
        assert_eq!(finished.payload_oxum, (6, 2));
        assert!(!dir.path().join("bag.sharc-partial").exists());
        assert_eq!(read(&out.join("bagit.txt"))?, BAGIT_TXT);
        let sha256 = read(&out.join("manifest-sha256.txt"))?;
        let two = fixity::of_bytes(b"two");
        assert_eq!(
            sha256,
            format!(
                "{}  data/a.txt\n{}  data/b/two.txt\n",
                abc.sha256, two.sha256
            )
        );
        let tags = read(&out.join("tagmanifest-sha512.txt"))?;
        let names: Vec<&str> = tags.lines().filter_map(|l| l.split("  ").nth(1)).collect();
        assert_eq!(
            names,
            [
                "bag-info.txt",
                "bagit.txt",
                "manifest-sha256.txt",
                "manifest-sha512.txt"
            ]
        );
        Ok(())
    }

    #[test]
    fn streamed_files_are_registered_with_their_fixity() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let mut writer = BagWriter::create(&out)?;
        let path = p("files/report.pdf")?;
        fs::write(writer.data_path(&path)?, b"%PDF-1.7")?;
        writer.add_file(&path, fixity::of_bytes(b"%PDF-1.7"))?;
        let other = p("files/short.pdf")?;
        fs::write(writer.data_path(&other)?, b"abc")?;
        let wrong = writer.add_file(&other, fixity::of_bytes(b"abcd"));
        assert!(matches!(wrong, Err(BundleError::StagedSizeMismatch { .. })));
        let missing = writer.add_file(&p("files/none.pdf")?, fixity::of_bytes(b""));
        assert!(matches!(missing, Err(BundleError::Io { .. })));
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (8, 1));
        Ok(())
    }

    #[test]
    fn refuses_an_existing_output() -> TestResult {
        let dir = tempfile::tempdir()?;
        let result = BagWriter::create(dir.path());
        assert!(matches!(result, Err(BundleError::OutputExists { .. })));
        let message = result.map(|_| ()).err().map(|e| e.to_string());
        assert!(message.unwrap_or_default().contains("--out"));
        Ok(())
    }

    #[test]
    fn clears_a_stale_staging_directory() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let stale = dir.path().join("bag.sharc-partial/data/old.txt");
        fs::create_dir_all(stale.parent().ok_or("no parent")?)?;
        fs::write(&stale, b"old")?;
        let writer = BagWriter::create(&out)?;
        assert!(!stale.exists());
        let finished = writer.finish(BagInfo::default())?;
        assert_eq!(finished.payload_oxum, (0, 0));
        assert!(out.join("data").is_dir());
        Ok(())
    }

    #[test]
    fn refuses_a_staging_path_that_is_a_file() -> TestResult {
        let dir = tempfile::tempdir()?;
        fs::write(dir.path().join("bag.sharc-partial"), b"")?;
        let result = BagWriter::create(&dir.path().join("bag"));
        assert!(matches!(result, Err(BundleError::StagingNotDir { .. })));
        Ok(())
    }

    #[test]
    fn refuses_outputs_without_a_name() -> TestResult {
        let dir = tempfile::tempdir()?;
        let result = BagWriter::create(&dir.path().join("missing/.."));
        assert!(matches!(result, Err(BundleError::BadOutputPath { .. })));
        Ok(())
    }

    #[test]
    fn refuses_case_clashes_and_file_directory_clashes() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut writer = BagWriter::create(&dir.path().join("bag"))?;
        writer.add_bytes(&p("Docs/a.txt")?, b"a")?;
        for clash in [
            "Docs/a.txt",
            "docs/A.TXT",
            "docs/b.txt",
            "Docs/a.txt/x",
            "Docs",
        ] {
            let result = writer.add_bytes(&p(clash)?, b"x");
            assert!(
                matches!(result, Err(BundleError::PayloadClash { .. })),
                "{clash}: {result:?}"
            );
        }
        writer.add_bytes(&p("Docs/b.txt")?, b"b")?;
        Ok(())
    }

    #[test]
    fn bad_extra_labels_fail_before_anything_is_moved() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let writer = BagWriter::create(&out)?;
        let info = BagInfo {
            extra: vec![("Payload-Oxum".into(), "1.1".into())],
            ..BagInfo::default()
        };
        assert!(writer.finish(info).is_err());
        assert!(!out.exists());
        Ok(())
    }

    #[test]
    fn extra_tag_files_are_written_and_listed() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("bag");
        let writer = BagWriter::create(&out)?;
        let info = BagInfo {
            tag_files: vec![
                ("bagit-profile.json".into(), b"{}\n".to_vec()),
                ("signatures/archiver.pub".into(), b"key\n".to_vec()),
            ],
            ..BagInfo::default()
        };
        writer.finish(info)?;
        assert_eq!(read(&out.join("bagit-profile.json"))?, "{}\n");
        let tags = read(&out.join("tagmanifest-sha256.txt"))?;
        assert!(tags.contains("  bagit-profile.json\n"));
        assert!(tags.contains("  signatures/archiver.pub\n"));
        assert!(!tags.contains("tagmanifest"));
        Ok(())
    }

    #[test]
    fn same_input_gives_identical_tag_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let info = BagInfo {
            source_organization: Some("Example".into()),
            bagging_date: Some(jiff::civil::Date::new(2024, 6, 1)?),
            ..BagInfo::default()
        };
        let mut bags = Vec::new();
        for (name, order) in [("one", ["x/b.txt", "a.txt"]), ("two", ["a.txt", "x/b.txt"])] {
            let mut writer = BagWriter::create(&dir.path().join(name))?;
            for path in order {
                writer.add_bytes(&p(path)?, path.as_bytes())?;
            }
            bags.push(writer.finish(info.clone())?.path);
        }
        for tag in [
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt",
        ] {
            assert_eq!(
                fs::read(bags[0].join(tag))?,
                fs::read(bags[1].join(tag))?,
                "{tag}"
            );
        }
        Ok(())
    }
}
