//! `sharc verify`: the bag's own fixity and completeness, then sharc's records.
//!
//! BagIt checks come from [`crate::bundle::verify_reader`], over a bag directory or a zip
//! bundle read in place; on top, [`crate::record::check`] checks every record against the
//! record schema and the files it points to against the payload. What is printed, as lines
//! or as JSON, is [`crate::report::verify`]'s.

use super::Outcome;
use crate::bundle::{self, BagReader, DirReader};
use crate::error::Error;
use crate::record::check::verify_with_records;
use crate::record::schema::RecordValidator;
use crate::report::verify::{self as words, VerifyOutput};
use std::path::Path;

pub use crate::record::check::Verdict;

/// A reader for the bag at `path`: a directory, or a zip bundle read in place. What a crawl
/// left unfinished (its staging directory, or a zip still being written) is not a bag yet,
/// and is named as such.
pub fn open_bag(path: &Path) -> Result<Box<dyn BagReader>, Error> {
    let staged = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(".sharc-partial"));
    if staged || path.join(bundle::journal::JOURNAL_NAME).is_file() {
        return Err(Error::UnfinishedCrawl(path.to_path_buf()));
    }
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
    Ok(verify_with_records(reader.as_mut(), &validator)?)
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
