//! Errors that stop a command, and the exit codes every outcome maps to.
//!
//! Per-item failures and verification findings are not errors: a crawl finishes and reports
//! them, `verify` lists them. An [`Error`] is what stops a command outright; [`Error::exit_code`]
//! is the one place where causes become exit codes.

use std::path::PathBuf;

/// The published exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: success.
    Success = 0,
    /// 1: operational error (network, I/O, auth).
    Operational = 1,
    /// 2: usage or configuration error.
    Usage = 2,
    /// 3: verify found the bundle invalid.
    Invalid = 3,
    /// 4: finished, but some items failed (listed).
    Partial = 4,
    /// 130: interrupted.
    Interrupted = 130,
}

/// What stopped a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments (or environment variables standing in for them), and nothing else.
    #[error("{0}")]
    Usage(String),
    /// `--out` names something that exists: a bag is never written over.
    #[error("{} already exists: choose another --out, or remove it if it is an old bag you no longer need", .0.display())]
    OutputExists(PathBuf),
    /// `--draft-mapping` names a file that exists: a mapping is never written over.
    #[error("{} already exists: choose another --draft-mapping file, or remove it if you no longer need it", .0.display())]
    DraftExists(PathBuf),
    /// Reading the public pages was asked for, but the mapping does not describe them.
    #[error("{}: reading the public pages needs an [html] section that describes them (README: Portals without REST)", .0.display())]
    NoHtmlLayout(PathBuf),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// A mapping file that cannot be used.
    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
    /// A mapping file with mistakes, every one of them, each on its own line with its place.
    #[error("{} has {} problem(s); fix them and run again (`sharc mapping check` checks the file alone):\n{}", path.display(), lines.len(), lines.join("\n"))]
    MappingProblems {
        /// The mapping file.
        path: PathBuf,
        /// One line per problem: `FILE:LINE:COLUMN: message (code)`.
        lines: Vec<String>,
    },
    /// The source could not read the list.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// A request failed for good.
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    /// Writing or reading a bag failed.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    /// The files step could not add to the bag.
    #[error(transparent)]
    Files(#[from] crate::files::FilesError),
    /// `--out` holds the unfinished bag of another crawl.
    #[error(transparent)]
    OtherCrawl(#[from] crate::files::OtherCrawl),
    /// The record schema built into sharc cannot be used.
    #[error(transparent)]
    Schema(#[from] crate::record::schema::SchemaError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The site URL answers 404: the site is not at that path.
    #[error(
        "{0} answers HTTP 404 (not found) for the site itself: check the site's path in the URL — the address of its home page, such as https://stp.longan.gov.vn/ or https://portal.example.vn/sites/stp/"
    )]
    SiteNotFound(String),
    /// `verify` was given what an interrupted crawl left, not a finished bag.
    #[error("{} is an unfinished crawl, not a bag: run the same crawl command again to resume it; the bag appears without the .sharc-partial suffix when it is complete", .0.display())]
    UnfinishedCrawl(PathBuf),
    /// The backup archive could not be read or written, or holds another portal.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// Another backup run holds the archive's lock.
    #[error(
        "another sharc backup{} is running into the archive {}: it holds the lock {}; this run stopped without touching the archive (when no backup is running, the lock is stale and the next run takes it over by itself)",
        pid.map(|p| format!(" (process {p})")).unwrap_or_default(),
        archive.display(),
        lock.display()
    )]
    ArchiveLocked {
        /// The archive.
        archive: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The process holding it, when known.
        pid: Option<u32>,
    },
    /// `sharc backup` reads lists over REST only.
    #[error(
        "{site}: {why}; `sharc backup` reads lists over the REST API only, so it cannot back this portal up incrementally: archive it with `sharc crawl` (which also reads the public pages and SharePoint 2010's web services) into a new --out each time"
    )]
    BackupNeedsRest {
        /// The site.
        site: String,
        /// What the REST API answered.
        why: String,
    },
    /// `sharc restore --at` names no bundle of the archive.
    #[error("{0}")]
    NoSuchBundle(String),
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// The portal refused the crawl's credentials part-way (a token or cookie expired): the
    /// crawl stops rather than archive what a signed-out reader gets.
    #[error("{cause}; the crawl stopped so that no sign-in page is archived as content; what was complete is kept in {}: sign in again (a fresh token or cookie) and run the same command to resume", staging.display())]
    SignInLost {
        /// What the portal answered, explained.
        cause: String,
        /// The staging directory kept for a resume.
        staging: PathBuf,
    },
    /// `--fail-fast` stopped the crawl at its first failure.
    #[error("stopped at the first failure (--fail-fast): {failure}; the unfinished bag is kept in {}: run the same command again to resume", staging.display())]
    FailFast {
        /// The failure.
        failure: String,
        /// The staging directory kept for a resume.
        staging: PathBuf,
    },
}

impl Error {
    /// The exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        use crate::source::SourceError;
        match self {
            Error::Usage(_)
            | Error::Mapping(_)
            | Error::MappingProblems { .. }
            | Error::OutputExists(_)
            | Error::OtherCrawl(_)
            | Error::DraftExists(_)
            | Error::NoHtmlLayout(_)
            | Error::BackupNeedsRest { .. }
            | Error::NoSuchBundle(_)
            | Error::State(crate::state::StateError::OtherPortal { .. }) => ExitCode::Usage,
            Error::Source(
                SourceError::ListNotFound { .. }
                | SourceError::BadUrl(_)
                | SourceError::NoArticleLinks { .. },
            ) => ExitCode::Usage,
            Error::Interrupted => ExitCode::Interrupted,
            Error::UnfinishedCrawl(_) => ExitCode::Invalid,
            Error::FailFast { .. } => ExitCode::Partial,
            _ => ExitCode::Operational,
        }
    }
}

/// Shorthand for I/O errors that name their file.
pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
