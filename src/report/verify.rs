//! What `sharc verify` prints: a line per problem for a person, or one JSON document for a
//! script, every problem with its stable code. Names and messages come from the bag being
//! verified, so lines pass through [`safe`] on their way to the terminal.

use super::safe;
use crate::bundle::Finding;
use crate::record::check::Verdict;
use serde::Serialize;
use std::path::Path;

/// How `verify` prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutput {
    /// Warnings and problems on stderr, one line each; a summary line on stdout.
    Lines,
    /// One JSON document on stdout (`--json`).
    Json,
}

/// Prints each warning and problem on stderr and the verdict on stdout.
pub fn print_lines(path: &Path, v: &Verdict) {
    for w in &v.bag.warnings {
        eprintln!("warning: {}", safe(&describe(w)));
    }
    for f in &v.bag.findings {
        eprintln!("invalid: {}", safe(&describe(f)));
    }
    for p in &v.records {
        let line = format!("{}: {} ({})", p.path, p.message, p.code);
        eprintln!("invalid: {}", safe(&line));
    }
    if v.is_valid() {
        println!(
            "valid: {} ({} payload files in the bag, {} bytes, {} records)",
            safe(&path.display().to_string()),
            v.bag.payload_files,
            v.bag.payload_bytes,
            v.records_checked
        );
    } else {
        println!(
            "INVALID: {}: {} problem(s) in the bag, {} in the records",
            safe(&path.display().to_string()),
            v.bag.findings.len(),
            v.records.len()
        );
    }
}

fn describe(f: &Finding) -> String {
    match &f.path {
        Some(p) => format!("{p}: {} ({})", f.message, f.code.as_str()),
        None => format!("{} ({})", f.message, f.code.as_str()),
    }
}

/// The verdict as the JSON document `--json` prints.
#[derive(Debug, Serialize)]
pub struct JsonVerdict<'a> {
    /// The bag checked, as given.
    pub bag: String,
    /// No problem at either layer.
    pub valid: bool,
    /// Payload files.
    pub payload_files: u64,
    /// Payload bytes.
    pub payload_bytes: u64,
    /// Records checked.
    pub records_checked: usize,
    /// Every problem and warning, bag layer first.
    pub findings: Vec<JsonFinding<'a>>,
}

/// One problem or warning.
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    /// `error` (the bag is invalid) or `warning` (it is not).
    pub severity: &'static str,
    /// `bag` (BagIt) or `record` (sharc's records).
    pub layer: &'static str,
    /// The stable code.
    pub code: &'static str,
    /// The file, relative to the bag, when there is one.
    pub path: Option<&'a str>,
    /// What is wrong, in words.
    pub message: &'a str,
}

impl<'a> JsonVerdict<'a> {
    /// The document for `v`, the verdict on the bag at `path`.
    pub fn new(path: &Path, v: &'a Verdict) -> Self {
        let bag = |severity, f: &'a Finding| JsonFinding {
            severity,
            layer: "bag",
            code: f.code.as_str(),
            path: f.path.as_deref(),
            message: &f.message,
        };
        let mut findings: Vec<JsonFinding<'a>> =
            v.bag.findings.iter().map(|f| bag("error", f)).collect();
        findings.extend(v.bag.warnings.iter().map(|f| bag("warning", f)));
        findings.extend(v.records.iter().map(|p| JsonFinding {
            severity: "error",
            layer: "record",
            code: p.code.as_str(),
            path: Some(&p.path),
            message: &p.message,
        }));
        Self {
            bag: path.display().to_string(),
            valid: v.is_valid(),
            payload_files: v.bag.payload_files,
            payload_bytes: v.bag.payload_bytes,
            records_checked: v.records_checked,
            findings,
        }
    }
}

/// Prints the verdict as one pretty JSON document on stdout.
pub fn print_json(path: &Path, v: &Verdict) {
    let doc = JsonVerdict::new(path, v);
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}

/// What `verify` found in a backup archive: each bundle's own verdict, and the chain.
#[derive(Debug)]
pub struct ArchiveVerdict {
    /// Each bundle found, in name order, with its verdict.
    pub bundles: Vec<(String, Verdict)>,
    /// Problems of the chain and of references between bundles, each naming its bundle.
    pub chain: Vec<crate::state::audit::ChainFinding>,
}

impl ArchiveVerdict {
    /// Every bundle valid and the chain whole.
    pub fn is_valid(&self) -> bool {
        self.chain.is_empty() && self.bundles.iter().all(|(_, v)| v.is_valid())
    }
}

/// Prints the archive's verdict: a line per bundle and per problem, then the verdict.
pub fn print_archive_lines(path: &Path, a: &ArchiveVerdict) {
    for (name, v) in &a.bundles {
        for f in &v.bag.findings {
            eprintln!("invalid: {name}: {}", safe(&describe(f)));
        }
        for p in &v.records {
            let line = format!("{name}: {}: {} ({})", p.path, p.message, p.code);
            eprintln!("invalid: {}", safe(&line));
        }
    }
    for f in &a.chain {
        eprintln!("invalid: {}: {}", safe(&f.bundle), safe(&f.message));
    }
    let shown = path.display().to_string();
    let archive = safe(&shown);
    if a.is_valid() {
        println!(
            "valid: {archive} ({} bundles, chain whole)",
            a.bundles.len()
        );
    } else {
        let bad: Vec<&str> = a
            .bundles
            .iter()
            .filter(|(_, v)| !v.is_valid())
            .map(|(n, _)| n.as_str())
            .chain(a.chain.iter().map(|f| f.bundle.as_str()))
            .collect();
        let mut bad = bad;
        bad.sort_unstable();
        bad.dedup();
        println!("INVALID: {archive}: problems in {}", safe(&bad.join(", ")));
    }
}

/// Prints the archive's verdict as one JSON document.
pub fn print_archive_json(path: &Path, a: &ArchiveVerdict) {
    let bundles: Vec<serde_json::Value> = a
        .bundles
        .iter()
        .map(|(name, v)| {
            let doc = JsonVerdict::new(&path.join(name), v);
            serde_json::to_value(doc).unwrap_or_default()
        })
        .collect();
    let doc = serde_json::json!({
        "archive": path.display().to_string(),
        "valid": a.is_valid(),
        "bundles": bundles,
        "chain": a.chain,
    });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}
