//! `sharc verify`: the bag's own fixity and completeness, then sharc's records.
//!
//! BagIt checks come from [`crate::bundle::verify_bag`]; on top, every record must be valid
//! against the record schema and every file it points to must be in the payload manifests
//! with the digests and size the record states.

use super::Outcome;
use crate::bundle::{self, Finding, VerifyReport};
use crate::error::Error;
use crate::record::schema::RecordValidator;
use crate::record::{FileRef, Record};
use std::path::Path;

/// A problem with one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    /// The record file, relative to the bag.
    pub path: String,
    /// Stable name: `invalid-record` or `record-file-mismatch`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

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

/// Checks the bag at `path` without printing.
pub fn check(path: &Path) -> Result<Verdict, Error> {
    let bag = bundle::verify_bag(path)?;
    let (records, records_checked) = check_records(path, &bag)?;
    Ok(Verdict {
        bag,
        records,
        records_checked,
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

/// Record-level checks over `data/records/*.json`.
fn check_records(bag: &Path, report: &VerifyReport) -> Result<(Vec<RecordProblem>, usize), Error> {
    let dir = bag.join("data/records");
    if !dir.is_dir() {
        return Ok((Vec::new(), 0));
    }
    let validator = RecordValidator::bundled().map_err(Error::Usage)?;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(crate::error::io(&dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    let mut problems = Vec::new();
    for p in &entries {
        let rel = format!(
            "data/records/{}",
            p.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let mut problem = |code: &'static str, message: String| {
            problems.push(RecordProblem {
                path: rel.clone(),
                code,
                message,
            })
        };
        let value: serde_json::Value = match std::fs::read(p)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                problem("invalid-record", format!("not a readable JSON record: {e}"));
                continue;
            }
        };
        for v in validator.violations(&value) {
            problem(
                "invalid-record",
                format!("does not match the record schema: {v}"),
            );
        }
        let Ok(record) = serde_json::from_value::<Record>(value) else {
            continue;
        };
        for file in record.files() {
            if let Some(message) = check_file(bag, report, file) {
                problem("record-file-mismatch", message);
            }
        }
    }
    Ok((problems, entries.len()))
}

fn check_file(bag: &Path, report: &VerifyReport, file: &FileRef) -> Option<String> {
    let Some(digests) = report.manifest.get(&file.path) else {
        return Some(format!(
            "points to {}, which is not in the payload manifests",
            file.path
        ));
    };
    if digests
        .get("sha256")
        .is_some_and(|d| !d.eq_ignore_ascii_case(&file.sha256))
        || digests
            .get("sha512")
            .is_some_and(|d| !d.eq_ignore_ascii_case(&file.sha512))
    {
        return Some(format!(
            "points to {} with digests that differ from the manifests",
            file.path
        ));
    }
    match std::fs::metadata(bag.join(&file.path)) {
        Ok(m) if m.len() != file.size => Some(format!(
            "says {} is {} bytes; it is {}",
            file.path,
            file.size,
            m.len()
        )),
        Ok(_) => None,
        Err(_) => Some(format!("points to {}, which is missing", file.path)),
    }
}
