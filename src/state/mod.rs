//! The archive of a scheduled backup: a series of bundles in one directory, and what the
//! next run needs to know to fetch only what changed.
//!
//! A backup archive holds bundles named so that they sort by time (`names`), the state of the
//! portal as the last complete bundle left it (`sharc-state.json`: each item's version,
//! `Modified` and content hash and its files; each file's validators, size, digests and the
//! bundle that holds it), and a log of every run (`runs.jsonl`, [`runs`]). Each bundle's
//! `bag-info.txt` names its series and the bundle before it with the sha512 of that bundle's
//! tag manifest ([`chain`]), so a bundle removed, replaced, reordered or edited is noticed.
//!
//! The state is replaced in one step (written beside, synced, renamed over) and only after
//! the bundle it describes is in place, so it never claims a bundle that is not complete; a
//! run that dies leaves the state as it was, and the next run does the work again. The
//! archive is locked for a run with the same lock as a crawl's output (`bundle::lock`).

pub mod audit;
pub mod chain;
pub mod increment;
pub mod names;
pub mod runs;

use crate::fetch::Validators;
use crate::fixity::Fixity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use chain::ChainLink;
pub use increment::{Increment, Listing};
pub use names::{BundleKind, BundleName};
pub use runs::RunRecord;

/// The state file's name inside the archive.
pub const STATE_FILE: &str = "sharc-state.json";

/// The version of the state file's format.
pub const STATE_FORMAT: u32 = 1;

/// What the last complete bundle of an archive left: the portal as it was then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchiveState {
    /// The format of this file ([`STATE_FORMAT`]).
    pub format: u32,
    /// The site backed up.
    pub site: String,
    /// The list's GUID.
    pub list_id: String,
    /// The sha256 of the mapping file the series was made with.
    pub mapping_sha256: String,
    /// Every bundle of the archive, oldest first.
    pub bundles: Vec<BundleEntry>,
    /// Each item archived, by id.
    pub items: BTreeMap<i64, ItemState>,
    /// Each file archived, by URL.
    pub files: BTreeMap<String, FileState>,
}

/// One bundle of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleEntry {
    /// Its directory name inside the archive.
    pub name: String,
    /// Its place in the chain: series, sequence, the bundle before it.
    pub link: ChainLink,
    /// The sha512 of its `tagmanifest-sha512.txt`, as written.
    pub tagmanifest_sha512: String,
}

/// What the archive knows of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    /// SharePoint's version label (`OData__UIVersionString`), as last read.
    pub version: Option<String>,
    /// `Modified`, as last read (raw, UTC).
    pub modified: Option<String>,
    /// The content hash of its record ([`crate::record::content::content_hash`]); empty for
    /// an item of another content type, which has no record.
    pub hash: String,
    /// The bundle holding its latest record (empty when it has none).
    pub bundle: String,
    /// The URLs of its files.
    pub files: Vec<String>,
}

/// What the archive knows of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// Its payload path (`data/files/…`), the same in every bundle that holds a copy.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-512, hex.
    pub sha512: String,
    /// What the server said identifies this version.
    #[serde(default)]
    pub validators: Validators,
    /// The bundle holding this copy.
    pub bundle: String,
}

impl FileState {
    /// The file's fixity.
    pub fn fixity(&self) -> Fixity {
        Fixity {
            size: self.size,
            sha256: self.sha256.clone(),
            sha512: self.sha512.clone(),
        }
    }
}

/// Why the archive could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file of the archive could not be read or written.
    #[error("cannot {action} {}: {source}; check the archive directory, its permissions and free space", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The state file is not what sharc writes.
    #[error("{} is not a sharc state file ({message}); restore it from a copy, or move the archive aside and start a new one", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The archive holds another portal's backups.
    #[error("the archive {} holds backups of {archived}, not of {asked}: give another --archive for this site or list", archive.display())]
    OtherPortal {
        /// The archive.
        archive: PathBuf,
        /// The site and list it holds.
        archived: String,
        /// The site and list asked for.
        asked: String,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Io {
        action,
        path,
        source,
    }
}

impl ArchiveState {
    /// The state of the archive at `dir`: `None` when it has none yet (a new archive).
    pub fn load(dir: &Path) -> Result<Option<Self>, StateError> {
        let path = dir.join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", &path)(e)),
        };
        let state: ArchiveState =
            serde_json::from_slice(&bytes).map_err(|e| StateError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        if state.format != STATE_FORMAT {
            return Err(StateError::Corrupt {
                path,
                message: format!(
                    "format {} where this sharc reads {STATE_FORMAT}",
                    state.format
                ),
            });
        }
        Ok(Some(state))
    }

    /// Replaces the state of the archive at `dir` in one step: written beside, synced,
    /// renamed over the old one, the directory synced.
    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| StateError::Corrupt {
            path: dir.join(STATE_FILE),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        replace_file(dir, STATE_FILE, &bytes)
    }

    /// The last bundle, if any.
    pub fn last_bundle(&self) -> Option<&BundleEntry> {
        self.bundles.last()
    }

    /// Refuses a state made for another site or list.
    pub fn check_portal(&self, dir: &Path, site: &str, list_id: &str) -> Result<(), StateError> {
        if self.site == site && self.list_id.eq_ignore_ascii_case(list_id) {
            return Ok(());
        }
        Err(StateError::OtherPortal {
            archive: dir.to_path_buf(),
            archived: format!("{} (list {})", self.site, self.list_id),
            asked: format!("{site} (list {list_id})"),
        })
    }
}

/// Writes `bytes` to `dir/name` in one step: a temporary file beside it, synced, renamed over.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StateError> {
    let path = dir.join(name);
    let temp = dir.join(format!(".{name}.new"));
    let mut file = fs::File::create(&temp).map_err(io("write", &temp))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io("write", &temp))?;
    drop(file);
    fs::rename(&temp, &path).map_err(io("replace", &path))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_replaced_whole_and_read_back() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        assert_eq!(ArchiveState::load(dir.path())?, None);
        let mut state = ArchiveState {
            format: STATE_FORMAT,
            site: "http://127.0.0.1/".into(),
            list_id: "abc".into(),
            ..Default::default()
        };
        state.items.insert(
            7,
            ItemState {
                version: Some("3.0".into()),
                modified: Some("2023-01-05T03:00:00Z".into()),
                hash: "h".into(),
                bundle: "b".into(),
                files: vec![],
            },
        );
        state.save(dir.path())?;
        assert_eq!(ArchiveState::load(dir.path())?, Some(state.clone()));
        assert!(!dir.path().join(format!(".{STATE_FILE}.new")).exists());
        assert!(
            state
                .check_portal(dir.path(), "http://127.0.0.1/", "ABC")
                .is_ok()
        );
        let other = state.check_portal(dir.path(), "http://example.org/", "abc");
        assert!(matches!(other, Err(StateError::OtherPortal { .. })));

        fs::write(dir.path().join(STATE_FILE), "{not json")?;
        let e = ArchiveState::load(dir.path()).expect_err("a broken state is refused");
        assert!(e.to_string().contains(STATE_FILE), "{e}");
        Ok(())
    }
}
