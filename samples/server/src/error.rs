//! Errors of the sample portal: loading a portal directory and starting the server.
//!
//! A broken sample must stop `sharc serve` and the tests with a message that names the file
//! and says what to fix, so every variant carries the path (or the address) it is about.

use std::path::PathBuf;

/// Why a sample portal could not be loaded or served.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// A file or directory of the portal could not be read.
    #[error("cannot read {path}: {source}; check that the sample portal directory is complete")]
    Read {
        /// The file or directory that failed.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A JSON file does not parse into the expected shape.
    #[error("{path} is not valid: {source}; fix it to match samples/README.md")]
    Json {
        /// The file that failed to parse.
        path: PathBuf,
        /// The parser's reason, with line and column.
        source: serde_json::Error,
    },
    /// A file parses but its content is inconsistent.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file whose content is wrong.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The request log could not be created.
    #[error("cannot write the request log {path}: {source}; give a path in a writable directory")]
    RequestLog {
        /// The log file asked for.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}; pass another port, or 0 for any free port")]
    Bind {
        /// The address that was asked for.
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
}

impl SampleError {
    /// Shorthand for [`SampleError::Invalid`].
    pub(crate) fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        SampleError::Invalid {
            path: path.into(),
            problem: problem.into(),
        }
    }
}
