//! `sharc verify`: the bag's own fixity and completeness, then sharc's records.
//!
//! BagIt checks come from [`crate::bundle::verify_reader`], over a bag directory or a zip
//! bundle read in place; on top, [`crate::record::check`] checks every record against the
//! record schema and the files it points to against the payload.

use super::Outcome;
use crate::bundle::{self, BagReader, DirReader, Finding, VerifyReport};
use crate::error::Error;
use crate::record::check::{RecordProblem, verify_with_records};
use crate::record::schema::RecordValidator;
use std::path::Path;

/// Everything `verify` found.
#[derive(Debug)]
pub struct Verdict {
    /// The BagIt layer.
    pub bag: VerifyReport,
    /// The record layer.
    pub records: Vec<RecordProblem>,
    /// Records checked.
    pub records_checked: usize,
}

impl Verdict {
    /// No problem at either layer.
    pub fn is_valid(&self) -> bool {
        self.bag.is_valid() && self.records.is_empty()
    }
}

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
    let validator = RecordValidator::bundled().map_err(Error::Usage)?;
    let (bag, records) = verify_with_records(reader.as_mut(), &validator)?;
    Ok(Verdict {
        bag,
        records: records.problems,
        records_checked: records.checked,
    })
}

/// Verifies the bag at `path`, printing each problem; `Invalid` when there is any.
pub fn run(path: &Path) -> Result<Outcome, Error> {
    let v = check(path)?;
    for w in &v.bag.warnings {
        eprintln!("warning: {}", describe(w));
    }
    for f in &v.bag.findings {
        eprintln!("invalid: {}", describe(f));
    }
    for p in &v.records {
        eprintln!("invalid: {}: {} ({})", p.path, p.message, p.code);
    }
    if v.is_valid() {
        println!(
            "valid: {} ({} payload files, {} bytes, {} records)",
            path.display(),
            v.bag.payload_files,
            v.bag.payload_bytes,
            v.records_checked
        );
        Ok(Outcome::Success)
    } else {
        println!(
            "INVALID: {}: {} problem(s) in the bag, {} in the records",
            path.display(),
            v.bag.findings.len(),
            v.records.len()
        );
        Ok(Outcome::Invalid)
    }
}

fn describe(f: &Finding) -> String {
    match &f.path {
        Some(p) => format!("{p}: {} ({})", f.message, f.code.as_str()),
        None => format!("{} ({})", f.message, f.code.as_str()),
    }
}
