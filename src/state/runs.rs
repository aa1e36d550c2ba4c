//! The run log, `runs.jsonl`: one JSON line per backup run, a run that found no change
//! included, so a scheduler's history can be read from the archive itself.

use super::StateError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// The run log's name inside the archive.
pub const RUNS_FILE: &str = "runs.jsonl";

/// One run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// When the run started (RFC 3339, the portal's offset).
    pub started_at: String,
    /// `bundle` (a bundle was written), `no-change`, or `failed`.
    pub outcome: String,
    /// The bundle written, if any.
    pub bundle: Option<String>,
    /// Items new since the last bundle.
    pub items_added: u64,
    /// Items changed since the last bundle.
    pub items_changed: u64,
    /// Items deleted on the portal since the last bundle.
    pub items_deleted: u64,
    /// Items saved again on the portal without a change to their content.
    pub items_unchanged: u64,
    /// Files downloaded.
    pub files_fetched: u64,
    /// Files that had not changed, referenced in an earlier bundle.
    pub files_referenced: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// The exit code.
    pub exit_code: u8,
    /// Why the run failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunRecord {
    /// Appends the run to the archive's log and syncs it.
    pub fn append(&self, archive: &Path) -> Result<(), StateError> {
        let path = archive.join(RUNS_FILE);
        let io = |source| StateError::Io {
            action: "append to",
            path: path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(self).map_err(|e| io(std::io::Error::other(e)))?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(io)
    }

    /// Every run logged in the archive, oldest first (lines that do not read are skipped).
    pub fn read_all(archive: &Path) -> Vec<RunRecord> {
        std::fs::read_to_string(archive.join(RUNS_FILE))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
