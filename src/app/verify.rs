//! `sharc verify`: the bag's own fixity and completeness, then sharc's records.
//!
//! BagIt checks come from [`crate::bundle::verify_reader`], over a bag directory or a zip
//! bundle read in place; on top, [`crate::record::check`] checks every record against the
//! record schema and the files it points to against the payload. What is printed, as lines
//! or as JSON, is [`crate::report::verify`]'s.

use super::Outcome;
use crate::bundle::{self, BagReader, DirReader, Finding, FindingCode};
use crate::capture;
use crate::error::Error;
use crate::record::check::verify_with_records;
use crate::record::schema::RecordValidator;
use crate::report::verify::{self as words, VerifyOutput};
use std::path::Path;

pub use crate::record::check::Verdict;

/// A reader for the bag at `path`: a directory, or a zip bundle read in place.
pub fn open_bag(path: &Path) -> Result<Box<dyn BagReader>, Error> {
    if path.is_file() {
        Ok(Box::new(bundle::ZipReader::new(path)?))
    } else {
        Ok(Box::new(DirReader::new(path)?))
    }
}

/// Checks the bag (directory or zip) at `path` without printing.
pub fn check(path: &Path) -> Result<Verdict, Error> {
    let mut reader = open_bag(path)?;
    let validator = RecordValidator::bundled()?;
    let mut verdict = verify_with_records(reader.as_mut(), &validator)?;
    check_capture(reader.as_mut(), &mut verdict);
    Ok(verdict)
}

/// Checks the capture (`data/capture/*.warc.gz`), when the bag has one: every record's
/// digests; each problem becomes a finding about its WARC file.
fn check_capture(reader: &mut dyn BagReader, verdict: &mut Verdict) {
    let Ok(entries) = reader.list_entries() else {
        return;
    };
    let mut warcs: Vec<String> = entries
        .into_iter()
        .filter(|e| e.kind == bundle::EntryKind::File)
        .map(|e| e.path)
        .filter(|p| {
            p.strip_prefix("data/capture/")
                .is_some_and(|n| !n.contains('/') && n.ends_with(".warc.gz"))
        })
        .collect();
    warcs.sort();
    for path in warcs {
        let problems = match reader.open(&path) {
            Ok(file) => capture::verify::check_warc(file),
            // The bag verifier already says a file cannot be read.
            Err(_) => continue,
        };
        for p in problems {
            let code = match p.kind {
                capture::verify::ProblemKind::Unreadable => FindingCode::WarcUnreadable,
                capture::verify::ProblemKind::DigestMismatch => FindingCode::WarcDigestMismatch,
            };
            verdict
                .bag
                .findings
                .push(Finding::at(code, &path, p.message));
        }
    }
}

/// Verifies the bag at `path`, printing each problem as a line; `Invalid` when there is any.
pub fn run(path: &Path) -> Result<Outcome, Error> {
    run_with(path, VerifyOutput::Lines)
}

/// Verifies the bag at `path`, printing what was found as `output` asks.
pub fn run_with(path: &Path, output: VerifyOutput) -> Result<Outcome, Error> {
    let v = check(path)?;
    match output {
        VerifyOutput::Lines => words::print_lines(path, &v),
        VerifyOutput::Json => words::print_json(path, &v),
    }
    Ok(if v.is_valid() {
        Outcome::Success
    } else {
        Outcome::Invalid
    })
}
