//! `sharc verify`: the bag's own fixity and completeness, then sharc's records.
//!
//! BagIt checks come from [`crate::bundle::verify`]; on top, every record must be valid
//! against the record schema and every file it points to must be in the payload manifests
//! with the digests and size the record states.

use super::Outcome;
use crate::bundle::{self, Finding, FindingCode};
use crate::error::Error;
use crate::record::schema::RecordValidator;
use crate::record::{FileRef, Record};
use std::path::Path;

/// Verifies the bag at `path`, printing each finding; `Invalid` when there is any.
pub fn run(path: &Path) -> Result<Outcome, Error> {
    let mut report = bundle::verify_bag(path)?;
    let bag_findings = report.findings.len();
    check_records(path, &mut report)?;
    for w in &report.warnings {
        eprintln!("warning: {}", describe(w));
    }
    for f in &report.findings {
        eprintln!("invalid: {}", describe(f));
    }
    if report.findings.is_empty() {
        println!(
            "valid: {} ({} payload files, {} bytes)",
            path.display(),
            report.payload_files,
            report.payload_bytes
        );
        Ok(Outcome::Success)
    } else {
        println!(
            "INVALID: {}: {} problem(s) ({} in the bag, {} in the records)",
            path.display(),
            report.findings.len(),
            bag_findings,
            report.findings.len() - bag_findings
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
fn check_records(bag: &Path, report: &mut bundle::VerifyReport) -> Result<(), Error> {
    let dir = bag.join("data/records");
    if !dir.is_dir() {
        return Ok(());
    }
    let validator = RecordValidator::bundled().map_err(Error::Usage)?;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(crate::error::io(&dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for p in entries {
        let rel = format!("data/records/{}", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
        let finding = |message: String| Finding { code: FindingCode::InvalidRecord, path: Some(rel.clone()), message };
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) => {
                report.findings.push(finding(format!("cannot read the record: {e}")));
                continue;
            }
        };
        let value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                report.findings.push(finding(format!("not JSON: {e}")));
                continue;
            }
        };
        for v in validator.violations(&value) {
            report.findings.push(finding(format!("does not match the record schema: {v}")));
        }
        let Ok(record) = serde_json::from_value::<Record>(value) else {
            continue;
        };
        for file in record.files() {
            if let Some(problem) = check_file(bag, report, file) {
                report.findings.push(Finding { code: FindingCode::RecordFileMismatch, path: Some(rel.clone()), message: problem });
            }
        }
    }
    Ok(())
}

fn check_file(bag: &Path, report: &bundle::VerifyReport, file: &FileRef) -> Option<String> {
    let Some(digests) = report.manifest.get(&file.path) else {
        return Some(format!("points to {}, which is not in the payload manifests", file.path));
    };
    if digests.get("sha256").is_some_and(|d| !d.eq_ignore_ascii_case(&file.sha256))
        || digests.get("sha512").is_some_and(|d| !d.eq_ignore_ascii_case(&file.sha512))
    {
        return Some(format!("points to {} with digests that differ from the manifests", file.path));
    }
    match std::fs::metadata(bag.join(&file.path)) {
        Ok(m) if m.len() != file.size => Some(format!("says {} is {} bytes; it is {}", file.path, file.size, m.len())),
        Ok(_) => None,
        Err(_) => Some(format!("points to {}, which is missing", file.path)),
    }
}
