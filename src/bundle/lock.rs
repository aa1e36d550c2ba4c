//! The run lock: one run at a time owns a staging directory.
//!
//! Two crawls into the same `--out` would write the same staging directory and journal, and
//! the bag that one of them renames into place could hold half of each. So a run takes an
//! exclusive lock on `sharc.lock` inside the staging directory before it reads or writes
//! anything there, and keeps it until the bag is in place. The lock is the operating
//! system's (`flock` on Unix, `LockFileEx` on Windows): it vanishes with the process that
//! held it, however that process ended, so a lock left by a run that was killed is simply
//! taken over. The file holds the owner's process id, only so the refusal can name it.

use super::{BundleError, Result, io_err};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the staging directory.
pub const LOCK_NAME: &str = "sharc.lock";

/// An exclusive lock on a staging directory, held until dropped or released.
#[derive(Debug)]
pub struct StagingLock {
    file: File,
    path: PathBuf,
}

impl StagingLock {
    /// Locks the directory `dir`, creating it when it is missing. Fails with
    /// [`BundleError::Locked`] at once (it never waits) when another process holds it, and
    /// refuses a `dir` or lock file that is a symbolic link.
    pub fn acquire(dir: &Path) -> Result<Self> {
        match fs::symlink_metadata(dir) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(BundleError::StagingSymlink {
                    path: dir.to_path_buf(),
                });
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(BundleError::StagingNotDir {
                    path: dir.to_path_buf(),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
            }
            Err(e) => return Err(io_err("inspect", dir)(e)),
        }
        let path = dir.join(LOCK_NAME);
        if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(BundleError::StagingSymlink { path });
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open the lock file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = owner(&mut file);
                return Err(BundleError::Locked { lock: path, pid });
            }
            Err(TryLockError::Error(e)) => return Err(io_err("lock", &path)(e)),
        }
        let mine = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(mine.as_bytes()))
            .and_then(|()| file.sync_data())
            .map_err(io_err("write the lock file", &path))?;
        Ok(Self { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Follows the lock file to `dir`, where its directory was renamed (the lock stays held:
    /// it belongs to the open file, not to its name).
    pub(crate) fn moved_to(&mut self, dir: &Path) {
        self.path = dir.join(LOCK_NAME);
    }

    /// Removes the lock file, then lets the lock go.
    pub fn release(self) {
        let _ = fs::remove_file(&self.path);
        drop(self.file);
    }
}

/// The process id written in a lock file, when there is a readable one.
fn owner(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    Read::by_ref(file).take(64).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn a_second_lock_is_refused_at_once_naming_the_owner() -> TestResult {
        let dir = tempfile::tempdir()?;
        let staging = dir.path().join("bag.sharc-partial");
        let held = StagingLock::acquire(&staging)?;
        assert_eq!(
            fs::read_to_string(held.path())?,
            format!("{}\n", std::process::id())
        );
        // Another open file description, as another process has: refused, not waiting.
        match StagingLock::acquire(&staging) {
            Err(BundleError::Locked { lock, pid }) => {
                assert_eq!(lock, staging.join(LOCK_NAME));
                assert_eq!(pid, Some(std::process::id()));
                let message = BundleError::Locked { lock, pid }.to_string();
                assert!(
                    message.contains("lock") && message.contains(&std::process::id().to_string()),
                    "{message}"
                );
            }
            other => panic!("want Locked, got {other:?}"),
        }
        drop(held);
        let again = StagingLock::acquire(&staging)?;
        again.release();
        assert!(!staging.join(LOCK_NAME).exists());
        Ok(())
    }

    #[test]
    fn a_lock_file_left_behind_is_taken_over() -> TestResult {
        let dir = tempfile::tempdir()?;
        fs::write(dir.path().join(LOCK_NAME), "999999999\n")?;
        let lock = StagingLock::acquire(dir.path())?;
        assert_eq!(
            fs::read_to_string(lock.path())?.trim(),
            std::process::id().to_string()
        );
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_are_refused_and_what_they_point_to_left_alone() -> TestResult {
        let dir = tempfile::tempdir()?;
        let victim = dir.path().join("victim.txt");
        fs::write(&victim, "precious")?;
        let staging = dir.path().join("s");
        fs::create_dir(&staging)?;
        std::os::unix::fs::symlink(&victim, staging.join(LOCK_NAME))?;
        assert!(matches!(
            StagingLock::acquire(&staging),
            Err(BundleError::StagingSymlink { .. })
        ));
        let linked = dir.path().join("linked");
        std::os::unix::fs::symlink(dir.path(), &linked)?;
        assert!(matches!(
            StagingLock::acquire(&linked),
            Err(BundleError::StagingSymlink { .. })
        ));
        assert_eq!(fs::read_to_string(&victim)?, "precious");
        Ok(())
    }
}
