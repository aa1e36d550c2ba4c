//! Checking a capture in a bag: every record's block digest, every complete response's
//! payload digest, and that each WARC file reads to its end.
//!
//! The bag's manifests already say whether a WARC file changed; this says which record,
//! so an archivist learns which answer of the portal can no longer be trusted.

use super::read::{self, Scanned};
use super::warc::digest_field;
use std::io::Read;

/// What kind of problem a capture check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The file does not read as WARC records to its end (a damaged gzip member, a record
    /// cut short).
    Unreadable,
    /// A record's block or payload is not what its digest says.
    DigestMismatch,
}

/// One problem in a WARC file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// In words, naming the record.
    pub message: String,
}

/// Checks the WARC file read from `file`; `name` is used in messages.
pub fn check_warc(file: impl Read) -> Vec<Problem> {
    let mut problems = Vec::new();
    let end = read::scan_reader(file, |r| problems.extend(check_record(r)));
    match end {
        Ok(end) => {
            if let Some(why) = end.broken {
                problems.push(Problem {
                    kind: ProblemKind::Unreadable,
                    message: format!("{why}; nothing after it can be read"),
                });
            }
        }
        Err(e) => problems.push(Problem {
            kind: ProblemKind::Unreadable,
            message: format!("cannot be read: {e}"),
        }),
    }
    problems
}

/// The record as messages name it: its id, type, target and place.
pub fn describe(r: &Scanned) -> String {
    let id = r.field("WARC-Record-ID").unwrap_or("(no id)");
    let kind = r.field("WARC-Type").unwrap_or("record");
    match r.field("WARC-Target-URI") {
        Some(t) => format!("record {id} ({kind} for {t}, at byte {})", r.offset),
        None => format!("record {id} ({kind}, at byte {})", r.offset),
    }
}

fn check_record(r: &Scanned) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut compare = |field: &str, what: &str, actual: &[u8; 32]| {
        let Some(said) = r.field(field) else {
            return;
        };
        // Digests sharc does not write (another algorithm) are not judged.
        if !said.to_ascii_lowercase().starts_with("sha256:") {
            return;
        }
        let computed = digest_field(actual);
        if !said.eq_ignore_ascii_case(&computed) {
            out.push(Problem {
                kind: ProblemKind::DigestMismatch,
                message: format!(
                    "{}: the {what} does not match its digest: {field} says {said}, the bytes give {computed}",
                    describe(r)
                ),
            });
        }
    };
    compare("WARC-Block-Digest", "block", &r.block_sha256);
    if r.field("WARC-Truncated").is_none() {
        compare("WARC-Payload-Digest", "payload", &r.payload_sha256);
    }
    out
}
