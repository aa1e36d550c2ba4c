//! BagIt (RFC 8493): portable payload names, the bag writer and the bag verifier.
//!
//! A bag is what an archivist receives and what outlives this tool, so this module keeps to
//! the parts of the BagIt rules that every validator agrees on: payload names are plain ASCII
//! that no file system rejects ([`names`]), a bag is staged beside its final place and renamed
//! there only when every manifest is written and synced ([`BagWriter`]), and [`verify_bag`]
//! checks a bag more strictly than bagit-python does, returning problems as a report rather
//! than as an error. A finished bag can be serialised as one deterministic zip ([`zip`]) and
//! verified in place ([`ZipReader`]) with the same checks. Nothing here knows about
//! SharePoint; callers hand over bytes and names.

pub mod crawl_bag;
mod digest;
mod hash_pool;
mod info;
pub mod journal;
mod listing;
pub mod lock;
mod manifest;
pub mod names;
mod paths;
pub mod profile;
mod reader;
mod report;
pub mod sort;
mod verify;
mod writer;
pub mod zip;
mod zip_reader;

pub use crawl_bag::CrawlDescription;
pub use info::{BagInfo, bag_info_elements, human_size};
pub use lock::StagingLock;
pub use names::{NameAllocator, PayloadPath, is_portable_segment, portable_segment};
pub use paths::{MAX_PAYLOAD_PATH, Origin, PathPlanner};
pub use reader::{BagEntry, BagReader, DirReader, EntryKind};
pub use report::{Digests, Finding, FindingCode, PayloadIndex, VerifyReport};
pub use sort::ExternalSort;
pub use verify::{MAX_TAG_FILE_BYTES, verify_bag, verify_reader};
pub use writer::{BagWriter, FinishedBag, PayloadSink, RUN_DIR, Staging, staging_path};
pub use zip_reader::ZipReader;

use std::io;
use std::path::PathBuf;

/// Errors from writing or opening a bag. Problems found *inside* a bag by [`verify_bag`] are
/// [`Finding`]s, not errors.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The output directory is already there; bags are never written over.
    #[error("output {} already exists; remove it or choose another --out", path.display())]
    OutputExists {
        /// The requested output directory.
        path: PathBuf,
    },

    /// The output path has no final component to name the bag after.
    #[error("output {} does not name a directory; pass a path such as ./my-bag", path.display())]
    BadOutputPath {
        /// The requested output directory.
        path: PathBuf,
    },

    /// Something other than a directory sits where the staging directory goes.
    #[error(
        "staging path {} exists and is not a directory; remove it and run again",
        path.display()
    )]
    StagingNotDir {
        /// The `<name>.sharc-partial` path.
        path: PathBuf,
    },

    /// Another run holds the lock of the staging directory: it is writing the same output.
    #[error(
        "another sharc run{} is writing this output: it holds the lock {}; wait for it to finish or stop it, or give this run another --out",
        pid.map(|p| format!(" (process {p})")).unwrap_or_default(),
        lock.display()
    )]
    Locked {
        /// The lock file.
        lock: PathBuf,
        /// The process id written in it, when there is one.
        pid: Option<u32>,
    },

    /// A symbolic link where sharc keeps its own files: it would lead writes and deletions
    /// outside the staging directory, so it is not followed.
    #[error(
        "{} is a symbolic link; sharc does not follow links in its staging directory, so that it never writes or deletes files elsewhere: remove the link (or the whole staging directory, to start afresh) and run again",
        path.display()
    )]
    StagingSymlink {
        /// The link.
        path: PathBuf,
    },

    /// A payload path that could escape `data/` or is not portable.
    #[error(
        "payload path {path:?} is not allowed: {reason}; derive each segment with bundle::portable_segment"
    )]
    InvalidPayloadPath {
        /// The rejected path, as given.
        path: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// A payload path already added, one differing from it only by case, or a file where a
    /// directory is (or the other way round).
    #[error(
        "payload path {path:?} clashes with {existing:?} already in the bag (names are compared ignoring case, and a file cannot stand where a directory is); allocate names with bundle::NameAllocator"
    )]
    PayloadClash {
        /// The path being added.
        path: String,
        /// The path already in the bag it clashes with.
        existing: String,
    },

    /// A file registered with [`BagWriter::add_file`] is not what its fixity says.
    #[error(
        "payload file {} has {actual} bytes but its fixity says {expected}; write it to BagWriter::data_path and hash what was written",
        path.display()
    )]
    StagedSizeMismatch {
        /// The staged file.
        path: PathBuf,
        /// Size from the caller's fixity.
        expected: u64,
        /// Size on disk.
        actual: u64,
    },

    /// An extra tag file whose name is reserved by BagIt or not portable.
    #[error(
        "tag file name {name:?} is not allowed: {reason}; use a plain name such as bagit-profile.json"
    )]
    InvalidTagFile {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// A `bag-info.txt` label that breaks the file's syntax or that the writer computes itself.
    #[error("bag-info label {label:?} is not allowed: {reason}; fix the label or drop the element")]
    InvalidBagInfo {
        /// The rejected label.
        label: String,
        /// Why it was rejected.
        reason: &'static str,
    },

    /// A zip output whose name cannot name the bag inside it.
    #[error(
        "zip output {} cannot be used: {reason}; pass a path such as ./stp-2025-07-01.zip",
        path.display()
    )]
    BadZipName {
        /// The requested output file.
        path: PathBuf,
        /// What is wrong with its name.
        reason: String,
    },

    /// The zip library refused to write or read back an archive.
    #[error("cannot {action} {}: {message}; check free space and run again", path.display())]
    Zip {
        /// What was being done ("write", "check", ...).
        action: &'static str,
        /// The archive.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// The path given to [`verify_bag`] is not a directory that can be read.
    #[error("cannot read bag {}: {reason}; pass the bag's base directory", path.display())]
    NotABag {
        /// The path given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file system operation failed.
    #[error("cannot {action} {}: {source}; check the path, its permissions and free space", path.display())]
    Io {
        /// What was being done, as a verb phrase ("write", "create directory", ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Result of bundle operations.
pub type Result<T, E = BundleError> = std::result::Result<T, E>;

/// Builds a closure that wraps an [`io::Error`] with the action and path that failed.
pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> BundleError {
    let path = path.into();
    move |source| BundleError::Io {
        action,
        path,
        source,
    }
}
