//! Serialising a finished bag directory as one zip that opens anywhere and rebuilds
//! byte for byte.
//!
//! The archive holds exactly one top-level directory named after the archive
//! (`stp-2025-07-01.zip` → `stp-2025-07-01/`), the BagIt serialization convention. Entries are
//! sorted by their full name bytes, directories included, and carry nothing that depends on
//! when or where the bag was zipped: one fixed timestamp (the bag's Bagging-Date at 00:00),
//! mode 0644 for files and 0755 for directories, no extra fields that hold times, the UTF-8
//! flag on every non-ASCII name. Already-compressed media are stored, everything else is
//! deflated, so the same bag and the same build of sharc give the same bytes.
//!
//! The writer seeks back to fill in each local header, so there are no data descriptors
//! (Java's `ZipInputStream` rejects stored entries with one), and Zip64 records appear only
//! when an entry or the archive needs them. Each file is streamed through a fixed buffer:
//! memory does not grow with the bag. The zip is written to `<out>.sharc-partial` and renamed
//! into place when complete, so a file at the output path is always a whole archive.

use super::lock::{LOCK_NAME, StagingLock};
use super::{BundleError, Result, io_err};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use unicode_normalization::UnicodeNormalization;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Suffix of the file the archive is written to before it is renamed into place.
const PARTIAL_SUFFIX: &str = ".sharc-partial";

/// Entries at least this large get Zip64 sizes: 4 GiB less room for DEFLATE's worst-case
/// growth, so an entry can never outgrow a 32-bit size field halfway through.
const LARGE_FILE_BYTES: u64 = 0xFFFF_FFFF - 16 * 1024 * 1024;

/// Extensions of formats that are already compressed; their entries are stored as is.
const STORED_EXTENSIONS: [&str; 38] = [
    "jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "jp2", "pdf", "docx", "xlsx", "pptx",
    "odt", "ods", "odp", "epub", "zip", "jar", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar",
    "wacz", "mp3", "mp4", "m4a", "m4v", "mov", "avi", "mkv", "webm", "ogg", "opus", "flac",
    "woff2",
];

/// How a bag is delivered: as a directory, or serialised as one zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    /// A bag directory.
    Dir,
    /// A zip holding the bag directory.
    Zip,
}

impl BundleFormat {
    /// The format an output path implies: a name ending in `.zip` means a zip.
    pub fn for_out(out: &Path) -> Self {
        let is_zip = out
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".zip"));
        if is_zip { Self::Zip } else { Self::Dir }
    }
}

/// Where a bag meant for the zip `out` is built as a directory first: `<out>.sharc-bag`.
/// The bag writer stages it beside that (`<out>.sharc-bag.sharc-partial`), so an
/// interrupted crawl resumes as it does for a directory bag.
pub fn work_dir(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(".sharc-bag");
    PathBuf::from(name)
}

/// Removes a finished bag directory that an earlier run left at [`work_dir`] without
/// zipping it. A run that is zipping it still holds its lock: then this fails with
/// [`BundleError::Locked`] and leaves it alone.
pub fn clear_stale_work_dir(out: &Path) -> Result<()> {
    let dir = work_dir(out);
    match fs::symlink_metadata(&dir) {
        Ok(meta) if meta.is_dir() => {
            let _held = match fs::symlink_metadata(dir.join(LOCK_NAME)) {
                Ok(_) => Some(StagingLock::acquire(&dir)?),
                Err(_) => None,
            };
            tracing::warn!(path = %dir.display(), "removing a bag directory an earlier run did not zip");
            fs::remove_dir_all(&dir).map_err(io_err("remove stale bag directory", &dir))
        }
        Ok(_) => Err(BundleError::StagingNotDir { path: dir }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("inspect", &dir)(e)),
    }
}

/// Zips the finished bag directory `bag_dir` into `out` with [`write_zip`], then removes the
/// directory.
pub fn replace_dir_with_zip(
    bag_dir: &Path,
    out: &Path,
    date: jiff::civil::Date,
) -> Result<ZipSummary> {
    let summary = write_zip(bag_dir, out, date)?;
    fs::remove_dir_all(bag_dir).map_err(io_err("remove zipped bag directory", bag_dir))?;
    Ok(summary)
}

/// What [`write_zip`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipSummary {
    /// The archive.
    pub path: PathBuf,
    /// The top-level directory inside it.
    pub bag_name: String,
    /// Number of entries, directories included.
    pub entries: u64,
    /// Size of the archive in bytes.
    pub bytes: u64,
}

/// Whether an entry with this name is stored rather than deflated.
pub fn is_stored(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            let ext = ext.to_ascii_lowercase();
            STORED_EXTENSIONS.contains(&ext.as_str())
        }
        _ => false,
    }
}

/// The bag name an output such as `out/stp-2025-07-01.zip` gives (`stp-2025-07-01`, NFC),
/// checked to be a directory name Windows, macOS and Linux all accept.
pub fn bag_name_for(out: &Path) -> Result<String> {
    let bad = |reason: &str| BundleError::BadZipName {
        path: out.to_path_buf(),
        reason: reason.to_string(),
    };
    let file = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| bad("it has no UTF-8 file name"))?;
    let stem = file
        .strip_suffix(".zip")
        .ok_or_else(|| bad("its name does not end in .zip"))?;
    let name: String = stem.nfc().collect();
    if let Some(reason) = windows_problem(&name) {
        return Err(bad(reason));
    }
    Ok(name)
}

/// Why Windows would refuse `name` as a directory name, if it would.
fn windows_problem(name: &str) -> Option<&'static str> {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if name.is_empty() {
        Some("the bag name before .zip is empty")
    } else if name.len() > 200 {
        Some("the bag name is longer than 200 bytes")
    } else if name.chars().any(|c| {
        c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*')
    }) {
        Some("the bag name has a character Windows forbids (< > : \" / \\ | ? * or a control)")
    } else if name.ends_with(['.', ' ']) || name.starts_with(['-', ' ', '.']) {
        Some("the bag name starts with '-', '.' or a space, or ends with '.' or a space")
    } else if device {
        Some("the bag name is a Windows device name")
    } else {
        None
    }
}

/// The DOS timestamp every entry carries: `date` at 00:00:00, kept within the years a zip
/// can express (1980–2107).
pub fn entry_time(date: jiff::civil::Date) -> DateTime {
    let year = date.year().clamp(1980, 2107) as u16;
    DateTime::from_date_and_time(year, date.month() as u8, date.day() as u8, 0, 0, 0)
        .unwrap_or_else(|_| DateTime::default_for_write())
}

/// One entry to write: its name inside the archive and, for files, where it is on disk.
struct Planned {
    name: String,
    source: Option<(PathBuf, u64)>,
}

/// Writes the finished bag directory `bag_dir` as the zip `out`, every entry stamped with
/// `date` at 00:00. Fails if `out` exists; a stale `<out>.sharc-partial` is replaced.
pub fn write_zip(bag_dir: &Path, out: &Path, date: jiff::civil::Date) -> Result<ZipSummary> {
    let bag_name = bag_name_for(out)?;
    if fs::symlink_metadata(out).is_ok() {
        return Err(BundleError::OutputExists {
            path: out.to_path_buf(),
        });
    }
    let mut plan = vec![Planned {
        name: format!("{bag_name}/"),
        source: None,
    }];
    collect(bag_dir, &format!("{bag_name}/"), &mut plan)?;
    // The run lock, held by the crawl that is zipping the bag: not part of it.
    let lock = format!("{bag_name}/{LOCK_NAME}");
    plan.retain(|p| p.name != lock);
    plan.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));

    let partial = partial_path(out);
    match fs::remove_file(&partial) {
        Ok(()) => {
            tracing::warn!(path = %partial.display(), "replacing an unfinished zip left by an earlier run")
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("remove stale partial zip", &partial)(e)),
    }
    let file = File::create(&partial).map_err(io_err("create", &partial))?;
    let time = entry_time(date);
    let zip_err = |action: &'static str| {
        let path = partial.clone();
        move |e: zip::result::ZipError| BundleError::Zip {
            action,
            path,
            message: e.to_string(),
        }
    };
    let mut zip = ZipWriter::new(file);
    let mut buf = vec![0u8; 64 * 1024];
    for entry in &plan {
        let base = SimpleFileOptions::default().last_modified_time(time);
        match &entry.source {
            None => zip
                .add_directory(entry.name.as_str(), base.unix_permissions(0o755))
                .map_err(zip_err("write"))?,
            Some((path, size)) => {
                let method = if is_stored(&entry.name) || *size == 0 {
                    CompressionMethod::Stored
                } else {
                    CompressionMethod::Deflated
                };
                let options = base
                    .unix_permissions(0o644)
                    .compression_method(method)
                    .large_file(*size >= LARGE_FILE_BYTES);
                zip.start_file(entry.name.as_str(), options)
                    .map_err(zip_err("write"))?;
                copy_file(path, &mut zip, &mut buf)?;
            }
        }
    }
    let file = zip.finish().map_err(zip_err("finish"))?;
    file.sync_all().map_err(io_err("sync", &partial))?;
    let bytes = file.metadata().map_err(io_err("inspect", &partial))?.len();
    drop(file);
    check_no_data_descriptors(&partial)?;
    fs::rename(&partial, out).map_err(io_err("rename partial zip to", out))?;
    sync_parent(out)?;
    Ok(ZipSummary {
        path: out.to_path_buf(),
        bag_name,
        entries: plan.len() as u64,
        bytes,
    })
}

/// `<out>.sharc-partial`.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(PARTIAL_SUFFIX);
    PathBuf::from(name)
}

/// Adds every directory and file under `dir` to `plan`, names prefixed with `prefix`.
fn collect(dir: &Path, prefix: &str, plan: &mut Vec<Planned>) -> Result<()> {
    for item in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let item = item.map_err(io_err("list", dir))?;
        let path = item.path();
        let name = item.file_name();
        let Some(name) = name.to_str() else {
            return Err(BundleError::NotABag {
                path,
                reason: "a file name is not UTF-8, so no manifest can list it".to_string(),
            });
        };
        let name: String = name.nfc().collect();
        let kind = item.file_type().map_err(io_err("inspect", &path))?;
        if kind.is_dir() {
            let dir_name = format!("{prefix}{name}/");
            plan.push(Planned {
                name: dir_name.clone(),
                source: None,
            });
            collect(&path, &dir_name, plan)?;
        } else if kind.is_file() {
            let size = item.metadata().map_err(io_err("inspect", &path))?.len();
            plan.push(Planned {
                name: format!("{prefix}{name}"),
                source: Some((path, size)),
            });
        } else {
            return Err(BundleError::NotABag {
                path,
                reason: "it holds a symbolic link or special file; a bag holds regular files only"
                    .to_string(),
            });
        }
    }
    Ok(())
}

/// Streams one file into the entry being written.
fn copy_file(path: &Path, zip: &mut ZipWriter<File>, buf: &mut [u8]) -> Result<()> {
    let mut source = BufReader::new(File::open(path).map_err(io_err("read", path))?);
    loop {
        let n = source.read(buf).map_err(io_err("read", path))?;
        if n == 0 {
            return Ok(());
        }
        zip.write_all(&buf[..n])
            .map_err(io_err("write zip entry for", path))?;
    }
}

/// Refuses an archive whose central directory marks any entry as using a data descriptor.
fn check_no_data_descriptors(path: &Path) -> Result<()> {
    let file = File::open(path).map_err(io_err("read", path))?;
    let archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| BundleError::Zip {
        action: "read back",
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let metadata = archive.metadata();
    for index in 0..metadata.len() {
        let flags = metadata
            .entry(index)
            .map(|e| e.flags().as_u16())
            .map_err(|e| BundleError::Zip {
                action: "read back",
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        if flags & 0x0008 != 0 {
            return Err(BundleError::Zip {
                action: "check",
                path: path.to_path_buf(),
                message: format!("entry {index} was written with a data descriptor"),
            });
        }
    }
    Ok(())
}

/// Syncs the directory holding `path`, where the platform allows it.
fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync directory", parent))
    }
    #[cfg(not(unix))]
    {
        let _ = parent;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BagInfo, BagWriter, PayloadPath, ZipReader, verify_reader};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn bag(dir: &Path) -> std::result::Result<PathBuf, Box<dyn std::error::Error>> {
        let mut writer = BagWriter::create(&dir.join("bag"))?;
        writer.add_bytes(&PayloadPath::new("records/000001.json")?, b"{\"a\":1}\n")?;
        writer.add_bytes(&PayloadPath::new("files/photo.JPG")?, b"\xFF\xD8\xFFjpeg")?;
        writer.add_bytes(&PayloadPath::new("files/empty.txt")?, b"")?;
        Ok(writer.finish(BagInfo::default())?.path)
    }

    #[test]
    fn compression_follows_the_extension() {
        assert!(is_stored("bag/data/a.JPG"));
        assert!(is_stored("bag/data/report.docx"));
        assert!(!is_stored("bag/data/record.json"));
        assert!(!is_stored("bag/data/.gz"));
        assert!(!is_stored("bag/bagit.txt"));
    }

    #[test]
    fn bag_names_come_from_the_zip_name() -> TestResult {
        assert_eq!(bag_name_for(Path::new("out/stp-2025.zip"))?, "stp-2025");
        let nfd: String = "Tin tức.zip".nfd().collect();
        assert_eq!(bag_name_for(Path::new(&nfd))?, "Tin tức");
        for bad in [
            "out/x.tar",
            "out/.zip",
            "out/CON.zip",
            "out/a:b.zip",
            "out/x..zip",
        ] {
            assert!(bag_name_for(Path::new(bad)).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn entry_times_are_fixed_and_clamped() -> TestResult {
        let t = entry_time(jiff::civil::Date::new(2025, 7, 1)?);
        assert_eq!((t.year(), t.month(), t.day(), t.hour()), (2025, 7, 1, 0));
        assert_eq!(entry_time(jiff::civil::Date::new(1970, 1, 1)?).year(), 1980);
        Ok(())
    }

    #[test]
    fn a_zipped_bag_verifies_in_place_and_rebuilds_byte_for_byte() -> TestResult {
        let dir = tempfile::tempdir()?;
        let bag = bag(dir.path())?;
        let date = jiff::civil::Date::new(2025, 7, 1)?;
        let one = dir.path().join("one/stp.zip");
        let two = dir.path().join("two/stp.zip");
        fs::create_dir_all(dir.path().join("one"))?;
        fs::create_dir_all(dir.path().join("two"))?;
        let summary = write_zip(&bag, &one, date)?;
        write_zip(&bag, &two, date)?;
        assert_eq!(fs::read(&one)?, fs::read(&two)?);
        assert_eq!(summary.bag_name, "stp");
        assert!(!partial_path(&one).exists());
        assert!(matches!(
            write_zip(&bag, &one, date),
            Err(BundleError::OutputExists { .. })
        ));

        let mut reader = ZipReader::new(&one)?;
        let report = verify_reader(&mut reader)?;
        assert!(report.is_valid(), "{:?}", report.findings);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!(report.payload_files, 3);
        assert_eq!(reader.top_dir(), "stp");

        let mut archive = zip::ZipArchive::new(File::open(&one)?)?;
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.map(|n| n.into_owned()))
            .collect::<std::result::Result<_, _>>()?;
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(names.iter().all(|n| n.starts_with("stp/")));
        let photo = archive.by_name("stp/data/files/photo.JPG")?;
        assert_eq!(photo.compression(), CompressionMethod::Stored);
        drop(photo);
        let record = archive.by_name("stp/data/records/000001.json")?;
        assert_eq!(record.compression(), CompressionMethod::Deflated);
        assert_eq!(record.unix_mode(), Some(0o100644));
        Ok(())
    }

    #[test]
    fn a_bag_still_being_zipped_is_neither_cleared_nor_given_its_lock() -> TestResult {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("stp.zip");
        let mut writer = BagWriter::create(&work_dir(&out))?;
        writer.add_bytes(&PayloadPath::new("a.txt")?, b"a")?;
        let (finished, lock) = writer.finish_locked(BagInfo::default())?;
        // Another run meanwhile: the bag directory is not stale, it is being zipped.
        assert!(matches!(
            clear_stale_work_dir(&out),
            Err(BundleError::Locked { .. })
        ));
        assert!(finished.path.join("bagit.txt").exists());
        replace_dir_with_zip(&finished.path, &out, jiff::civil::Date::new(2025, 7, 1)?)?;
        lock.release();
        let mut archive = zip::ZipArchive::new(File::open(&out)?)?;
        assert!(
            archive.by_name(&format!("stp/{LOCK_NAME}")).is_err(),
            "the lock is not zipped"
        );
        // One left by a run that died before zipping is cleared.
        let mut writer = BagWriter::create(&work_dir(&dir.path().join("x.zip")))?;
        writer.add_bytes(&PayloadPath::new("a.txt")?, b"a")?;
        let (finished, lock) = writer.finish_locked(BagInfo::default())?;
        drop(lock);
        clear_stale_work_dir(&dir.path().join("x.zip"))?;
        assert!(!finished.path.exists());
        Ok(())
    }
}
