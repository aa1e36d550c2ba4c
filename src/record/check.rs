//! The checks of a record inside a bag: valid against the record schema, and every file it
//! points to present in the payload with the size and digests it states.
//!
//! Records are examined while the bag verifier streams them for their checksums — a
//! [`BagReader`] in front of the real one keeps a copy of each record as it passes — so a
//! zip entry is decompressed once; only records no manifest lists are read again.

use super::schema::RecordValidator;
use super::{FileRef, Record};
use crate::bundle::{self, BagEntry, BagReader, BundleError, EntryKind, Finding, VerifyReport};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::PathBuf;

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

/// What the record checks found.
#[derive(Debug, Default)]
pub struct RecordChecks {
    /// Every problem, by record.
    pub problems: Vec<RecordProblem>,
    /// Records checked.
    pub checked: usize,
}

/// Verifies the bag `reader` reads with the bag verifier, and checks every record in it on
/// the way.
pub fn verify_with_records(
    reader: &mut dyn BagReader,
    validator: &RecordValidator,
) -> Result<(VerifyReport, RecordChecks), BundleError> {
    let mut tap = RecordTap {
        inner: reader,
        validator,
        sizes: BTreeMap::new(),
        examined: BTreeMap::new(),
    };
    let bag = bundle::verify_reader(&mut tap)?;
    let (problems, checked) = tap.finish(&bag);
    Ok((bag, RecordChecks { problems, checked }))
}

/// Whether a bag-relative path is a record: `data/records/<name>.json`.
fn is_record(path: &str) -> bool {
    path.strip_prefix("data/records/")
        .is_some_and(|name| !name.contains('/') && name.ends_with(".json"))
}

/// What one record said about itself: schema problems, and the files it points to.
#[derive(Debug, Default)]
struct Examined {
    problems: Vec<(&'static str, String)>,
    files: Vec<FileRef>,
}

/// Parses one record and checks it against the schema.
fn examine(validator: &RecordValidator, bytes: &[u8]) -> Examined {
    let mut out = Examined::default();
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("not a readable JSON record: {e}");
            out.problems.push(("invalid-record", message));
            return out;
        }
    };
    for v in validator.violations(&value) {
        let message = format!("does not match the record schema: {v}");
        out.problems.push(("invalid-record", message));
    }
    if let Ok(record) = serde_json::from_value::<Record>(value) {
        out.files = record.files().cloned().collect();
    }
    out
}

/// A [`BagReader`] in front of the real one that examines each record as the bag verifier
/// streams it, and remembers every file's size from the listing.
struct RecordTap<'a> {
    inner: &'a mut dyn BagReader,
    validator: &'a RecordValidator,
    sizes: BTreeMap<String, u64>,
    examined: BTreeMap<String, Examined>,
}

impl RecordTap<'_> {
    /// Examines the records the verifier did not stream, then checks every record's files.
    fn finish(mut self, report: &VerifyReport) -> (Vec<RecordProblem>, usize) {
        let unread: Vec<String> = self
            .sizes
            .keys()
            .filter(|p| is_record(p) && !self.examined.contains_key(*p))
            .cloned()
            .collect();
        for path in unread {
            let mut bytes = Vec::new();
            let read = self
                .inner
                .open(&path)
                .and_then(|mut r| r.read_to_end(&mut bytes));
            let examined = match read {
                Ok(_) => examine(self.validator, &bytes),
                Err(e) => Examined {
                    problems: vec![("invalid-record", format!("cannot be read: {e}"))],
                    files: Vec::new(),
                },
            };
            self.examined.insert(path, examined);
        }
        let mut problems = Vec::new();
        for (path, examined) in &self.examined {
            let mut problem = |code: &'static str, message: String| {
                problems.push(RecordProblem {
                    path: path.clone(),
                    code,
                    message,
                })
            };
            for (code, message) in &examined.problems {
                problem(code, message.clone());
            }
            for file in &examined.files {
                if let Some(message) = check_file(report, &self.sizes, file) {
                    problem("record-file-mismatch", message);
                }
            }
        }
        (problems, self.examined.len())
    }
}

impl BagReader for RecordTap<'_> {
    fn location(&self) -> PathBuf {
        self.inner.location()
    }

    fn list_entries(&mut self) -> io::Result<Vec<BagEntry>> {
        let entries = self.inner.list_entries()?;
        self.sizes = entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| (e.path.clone(), e.size))
            .collect();
        Ok(entries)
    }

    fn open(&mut self, path: &str) -> io::Result<Box<dyn Read + '_>> {
        let Self {
            inner,
            validator,
            examined,
            ..
        } = self;
        let reader = inner.open(path)?;
        if !is_record(path) || examined.contains_key(path) {
            return Ok(reader);
        }
        Ok(Box::new(Tee {
            inner: reader,
            copy: Vec::new(),
            path: path.to_string(),
            validator,
            examined,
        }))
    }

    fn container_findings(&self) -> Vec<Finding> {
        self.inner.container_findings()
    }
}

/// Passes a record's bytes through, keeping a copy to examine once the stream ends.
struct Tee<'b> {
    inner: Box<dyn Read + 'b>,
    copy: Vec<u8>,
    path: String,
    validator: &'b RecordValidator,
    examined: &'b mut BTreeMap<String, Examined>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() && !self.examined.contains_key(&self.path) {
                let examined = examine(self.validator, &self.copy);
                self.examined.insert(self.path.clone(), examined);
                self.copy = Vec::new();
            }
        } else {
            self.copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

fn check_file(
    report: &VerifyReport,
    sizes: &BTreeMap<String, u64>,
    file: &FileRef,
) -> Option<String> {
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
    match sizes.get(&file.path) {
        Some(&size) if size != file.size => Some(format!(
            "says {} is {} bytes; it is {size}",
            file.path, file.size
        )),
        Some(_) => None,
        None => Some(format!("points to {}, which is missing", file.path)),
    }
}
