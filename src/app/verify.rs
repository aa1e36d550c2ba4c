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
use crate::record::check::verify_with_records_held;
use crate::record::schema::RecordValidator;
use crate::report::verify::{self as words, ArchiveVerdict, VerifyOutput};
use crate::state::audit::{BundleFacts, ChainFinding};
use crate::state::increment::REFERENCES;
use crate::state::names::BundleName;
use crate::state::{ArchiveState, ChainLink};
use std::collections::BTreeMap;
use std::fs;
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

/// Checks the bag (directory or zip) at `path` without printing. The records of an
/// incremental backup bundle may point to files it lists in `data/references.json` as held
/// by earlier bundles (whether they are is [`check_archive`]'s to say).
pub fn check(path: &Path) -> Result<Verdict, Error> {
    let mut reader = open_bag(path)?;
    let validator = RecordValidator::bundled()?;
    let held = references(path)
        .into_iter()
        .map(|r| (r.path, r.sha256.to_ascii_lowercase()))
        .collect();
    let mut verdict = verify_with_records_held(reader.as_mut(), &validator, &held)?;
    check_capture(reader.as_mut(), &mut verdict);
    check_mets(reader.as_mut(), &mut verdict);
    Ok(verdict)
}

/// Checks `data/mets.xml`, when the bag has one: the PREMIS fixity of every file equals the
/// manifests, and both list the same files (the METS document itself aside).
fn check_mets(reader: &mut dyn BagReader, verdict: &mut Verdict) {
    const METS: &str = "data/mets.xml";
    if !verdict.bag.payload.contains_key(METS) {
        return;
    }
    let Ok(file) = reader.open(METS) else {
        return;
    };
    let manifest = &verdict.bag.payload;
    let mut findings = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let read = crate::record::mets::read_fixity(std::io::BufReader::new(file), |obj| {
        let listed = manifest.get(&obj.path);
        for (algorithm, digest) in &obj.fixity {
            let said = listed
                .as_ref()
                .and_then(|d| d.get(&algorithm.to_ascii_lowercase()));
            if said.is_none_or(|s| !s.eq_ignore_ascii_case(digest)) {
                findings.push(Finding::at(
                    FindingCode::MetsFixityMismatch,
                    METS,
                    format!(
                        "{}: PREMIS gives {algorithm} {digest}, the manifests {}",
                        obj.path,
                        said.unwrap_or("nothing")
                    ),
                ));
            }
        }
        seen.insert(obj.path);
    });
    if let Err(e) = read {
        findings.push(Finding::at(FindingCode::MetsUnreadable, METS, e));
    }
    for path in manifest.keys() {
        if path != METS && !seen.contains(path) {
            findings.push(Finding::at(
                FindingCode::MetsFixityMismatch,
                METS,
                format!("{path} is in the manifests but has no PREMIS object in the METS document"),
            ));
        }
    }
    verdict.bag.findings.extend(findings);
}

/// Checks the capture (`data/capture/*.warc.gz`), when the bag has one: every record's
/// digests; each problem becomes a finding about its WARC file.
fn check_capture(reader: &mut dyn BagReader, verdict: &mut Verdict) {
    let warcs: Vec<String> = verdict
        .bag
        .payload
        .stored()
        .map(|(p, _)| p)
        .filter(|p| {
            p.strip_prefix("data/capture/")
                .is_some_and(|n| !n.contains('/') && n.ends_with(".warc.gz"))
        })
        .map(str::to_string)
        .collect();
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

/// A file an incremental bundle's records point to in an earlier bundle.
#[derive(Debug, serde::Deserialize)]
struct HeldElsewhere {
    path: String,
    bundle: String,
    sha256: String,
}

/// What `data/references.json` of the bag directory at `path` lists (nothing when absent or
/// unreadable: the records then point to files the bag lacks, and verify says so).
fn references(path: &Path) -> Vec<HeldElsewhere> {
    fs::read(path.join("data").join(REFERENCES))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Checks a backup archive without printing: every bundle as a bag, the files its records
/// point to in earlier bundles, and the chain between them and the state.
pub fn check_archive(dir: &Path) -> Result<ArchiveVerdict, Error> {
    let state = ArchiveState::load(dir)?;
    let mut names: Vec<String> = Vec::new();
    for entry in fs::read_dir(dir).map_err(crate::error::io(dir))? {
        let entry = entry.map_err(crate::error::io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if BundleName::parse(&name).is_some() && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    let mut bundles = Vec::new();
    let mut facts = Vec::new();
    let mut manifests: BTreeMap<String, String> = BTreeMap::new();
    for name in &names {
        let path = dir.join(name);
        bundles.push((name.clone(), check(&path)?));
        let info = fs::read_to_string(path.join("bag-info.txt")).unwrap_or_default();
        let tags = fs::read(path.join("tagmanifest-sha512.txt")).ok();
        facts.push(BundleFacts {
            name: name.clone(),
            link: ChainLink::from_elements(&crate::bundle::bag_info_elements(&info)),
            tagmanifest_sha512: tags.map(|b| crate::state::chain::tagmanifest_digest(&b)),
        });
        let manifest = fs::read_to_string(path.join("manifest-sha256.txt")).unwrap_or_default();
        manifests.insert(name.clone(), manifest.to_ascii_lowercase());
    }
    let mut chain = crate::state::audit::audit(state.as_ref(), &facts);
    for name in &names {
        for r in references(&dir.join(name)) {
            let line = format!(
                "{}  {}",
                r.sha256.to_ascii_lowercase(),
                r.path.to_ascii_lowercase()
            );
            let held = manifests
                .get(&r.bundle)
                .is_some_and(|m| m.lines().any(|l| l.trim_end() == line));
            if !held {
                chain.push(ChainFinding {
                    bundle: name.clone(),
                    message: format!(
                        "its records point to {} in {}, which does not hold that file with that sha256",
                        r.path, r.bundle
                    ),
                });
            }
        }
    }
    Ok(ArchiveVerdict { bundles, chain })
}

/// Verifies the backup archive `dir`, printing what was found; `Invalid` when any bundle is
/// invalid or the chain is broken.
pub fn run_archive(dir: &Path, output: VerifyOutput) -> Result<Outcome, Error> {
    let a = check_archive(dir)?;
    match output {
        VerifyOutput::Lines => words::print_archive_lines(dir, &a),
        VerifyOutput::Json => words::print_archive_json(dir, &a),
    }
    Ok(verdict(a.is_valid()))
}

fn verdict(valid: bool) -> Outcome {
    if valid {
        Outcome::Success
    } else {
        Outcome::Invalid
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
    Ok(verdict(v.is_valid()))
}
