//! The checks of a record inside a bag: valid against the record schema, and every file it
//! points to present in the payload with the size and digests it states.
//!
//! Records are examined while the bag verifier streams them for their checksums — a
//! [`BagReader`] in front of the real one keeps a copy of each record as it passes — so a
//! zip entry is decompressed once; only records no manifest lists are read again. A record
//! is read into memory, so one larger than [`MAX_RECORD_BYTES`] is a problem of its own and
//! is not kept: a bag that inflates a record to gigabytes cannot exhaust memory.

use super::schema::RecordValidator;
use super::{FileRef, Record};
use crate::bundle::{self, BagEntry, BagReader, BundleError, Finding, VerifyReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::PathBuf;

/// The largest record file examined: 16 MiB, far beyond any article a portal serves.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// A problem with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordProblem {
    /// What kind of problem, as a stable code.
    pub code: RecordProblemCode,
    /// The record file, relative to the bag.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The file the record points to, when the problem is with it: its payload path and
    /// sha256 (lowercase).
    #[serde(skip)]
    pub file: Option<(String, String)>,
}

/// What kind of problem a [`RecordProblem`] is. The kebab-case names are stable: scripts and
/// reports may rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordProblemCode {
    /// The record file cannot be read from the bag.
    RecordUnreadable,
    /// The record is not JSON.
    RecordNotJson,
    /// The record does not match the record schema.
    RecordSchemaViolation,
    /// A file the record points to is not in the payload manifests.
    RecordFileNotInManifest,
    /// A file the record points to has other digests in the manifests than the record says.
    RecordFileDigestMismatch,
    /// A file the record points to has another size than the record says.
    RecordFileSizeMismatch,
    /// A file the record points to is listed but not in the bag.
    RecordFileMissing,
    /// The record file is larger than [`MAX_RECORD_BYTES`]; it is not examined.
    RecordTooLarge,
}

impl RecordProblemCode {
    /// Every code, in declaration order.
    pub const ALL: [RecordProblemCode; 8] = [
        Self::RecordUnreadable,
        Self::RecordNotJson,
        Self::RecordSchemaViolation,
        Self::RecordFileNotInManifest,
        Self::RecordFileDigestMismatch,
        Self::RecordFileSizeMismatch,
        Self::RecordFileMissing,
        Self::RecordTooLarge,
    ];

    /// The stable name, such as `record-schema-violation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RecordUnreadable => "record-unreadable",
            Self::RecordNotJson => "record-not-json",
            Self::RecordSchemaViolation => "record-schema-violation",
            Self::RecordFileNotInManifest => "record-file-not-in-manifest",
            Self::RecordFileDigestMismatch => "record-file-digest-mismatch",
            Self::RecordFileSizeMismatch => "record-file-size-mismatch",
            Self::RecordFileMissing => "record-file-missing",
            Self::RecordTooLarge => "record-too-large",
        }
    }
}

impl std::fmt::Display for RecordProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything verifying a bag found: the BagIt layer and the record layer.
#[derive(Debug)]
pub struct Verdict {
    /// The BagIt layer.
    pub bag: VerifyReport,
    /// The record layer: every problem, by record.
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

/// Verifies the bag `reader` reads with the bag verifier, and checks every record in it on
/// the way.
pub fn verify_with_records(
    reader: &mut dyn BagReader,
    validator: &RecordValidator,
) -> Result<Verdict, BundleError> {
    verify_with_records_held(reader, validator, &BTreeMap::new())
}

/// [`verify_with_records`] for a bag whose records may point to files another bag holds
/// (an incremental backup bundle): `held_elsewhere` maps each such payload path to its
/// sha256, and a record pointing there with that digest is not a problem of this bag. Whether
/// the other bag really holds it is for the caller to check.
pub fn verify_with_records_held(
    reader: &mut dyn BagReader,
    validator: &RecordValidator,
    held_elsewhere: &BTreeMap<String, String>,
) -> Result<Verdict, BundleError> {
    let mut tap = RecordTap {
        inner: reader,
        validator,
        examined: BTreeMap::new(),
    };
    let bag = bundle::verify_reader(&mut tap)?;
    let (mut records, records_checked) = tap.finish(&bag);
    records.retain(|p| {
        !(p.code == RecordProblemCode::RecordFileNotInManifest
            && p.file
                .as_ref()
                .is_some_and(|(path, sha)| held_elsewhere.get(path) == Some(sha)))
    });
    Ok(Verdict {
        bag,
        records,
        records_checked,
    })
}

/// Whether a bag-relative path is a record: `data/records/<name>.json`.
fn is_record(path: &str) -> bool {
    path.strip_prefix("data/records/")
        .is_some_and(|name| !name.contains('/') && name.ends_with(".json"))
}

/// What one record said about itself: schema problems, and the files it points to.
#[derive(Debug, Default)]
struct Examined {
    problems: Vec<(RecordProblemCode, String)>,
    files: Vec<FileRef>,
}

/// Parses one record and checks it against the schema.
fn examine(validator: &RecordValidator, bytes: &[u8]) -> Examined {
    let mut out = Examined::default();
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("not a readable JSON record: {e}");
            out.problems
                .push((RecordProblemCode::RecordNotJson, message));
            return out;
        }
    };
    for v in validator.violations(&value) {
        let message = format!("does not match the record schema: {v}");
        out.problems
            .push((RecordProblemCode::RecordSchemaViolation, message));
    }
    if let Ok(record) = serde_json::from_value::<Record>(value) {
        out.files = record.files().cloned().collect();
    }
    out
}

/// A [`BagReader`] in front of the real one that examines each record as the bag verifier
/// streams it.
struct RecordTap<'a> {
    inner: &'a mut dyn BagReader,
    validator: &'a RecordValidator,
    examined: BTreeMap<String, Examined>,
}

impl RecordTap<'_> {
    /// Examines the records the verifier did not stream, then checks every record's files.
    fn finish(mut self, report: &VerifyReport) -> (Vec<RecordProblem>, usize) {
        let unread: Vec<(String, u64)> = report
            .payload
            .stored()
            .filter(|(p, _)| is_record(p) && !self.examined.contains_key(*p))
            .map(|(p, size)| (p.to_string(), size))
            .collect();
        for (path, listed) in unread {
            if listed > MAX_RECORD_BYTES {
                self.examined.insert(path, too_large(listed));
                continue;
            }
            let mut bytes = Vec::new();
            let read = self
                .inner
                .open(&path)
                .and_then(|r| r.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes));
            let examined = match read {
                Ok(n) if n as u64 > MAX_RECORD_BYTES => too_large(n as u64),
                Ok(_) => examine(self.validator, &bytes),
                Err(e) => Examined {
                    problems: vec![(
                        RecordProblemCode::RecordUnreadable,
                        format!("cannot be read: {e}"),
                    )],
                    files: Vec::new(),
                },
            };
            self.examined.insert(path, examined);
        }
        let mut problems = Vec::new();
        for (path, examined) in &self.examined {
            let mut problem = |code: RecordProblemCode, message: String, file: Option<&FileRef>| {
                problems.push(RecordProblem {
                    path: path.clone(),
                    code,
                    message,
                    file: file.map(|f| (f.path.clone(), f.sha256.to_ascii_lowercase())),
                })
            };
            for (code, message) in &examined.problems {
                problem(*code, message.clone(), None);
            }
            for file in &examined.files {
                if let Some((code, message)) = check_file(report, file) {
                    problem(code, message, Some(file));
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

    fn list_entries(&mut self, visit: &mut dyn FnMut(BagEntry)) -> io::Result<()> {
        self.inner.list_entries(visit)
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
            overflowed: None,
            path: path.to_string(),
            validator,
            examined,
        }))
    }

    fn container_findings(&mut self) -> Vec<Finding> {
        self.inner.container_findings()
    }
}

/// What a record too large to examine gets instead; `size` is what was seen of it.
fn too_large(size: u64) -> Examined {
    Examined {
        problems: vec![(
            RecordProblemCode::RecordTooLarge,
            format!(
                "is {size} bytes or more, larger than a record may be ({MAX_RECORD_BYTES} bytes); it was not examined"
            ),
        )],
        files: Vec::new(),
    }
}

/// Passes a record's bytes through, keeping a copy (at most [`MAX_RECORD_BYTES`]) to examine
/// once the stream ends.
struct Tee<'b> {
    inner: Box<dyn Read + 'b>,
    copy: Vec<u8>,
    /// Bytes seen, once there were more than a record may hold.
    overflowed: Option<u64>,
    path: String,
    validator: &'b RecordValidator,
    examined: &'b mut BTreeMap<String, Examined>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !buf.is_empty() && !self.examined.contains_key(&self.path) {
                let examined = match self.overflowed {
                    Some(size) => too_large(size),
                    None => examine(self.validator, &self.copy),
                };
                self.examined.insert(self.path.clone(), examined);
                self.copy = Vec::new();
            }
        } else if let Some(size) = &mut self.overflowed {
            *size += n as u64;
        } else if (self.copy.len() + n) as u64 > MAX_RECORD_BYTES {
            self.overflowed = Some((self.copy.len() + n) as u64);
            self.copy = Vec::new();
        } else {
            self.copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// Whether `file` is in the payload as the record says; the problem when not.
fn check_file(report: &VerifyReport, file: &FileRef) -> Option<(RecordProblemCode, String)> {
    use RecordProblemCode as C;
    let Some(digests) = report.payload.get(&file.path) else {
        let message = format!(
            "points to {}, which is not in the payload manifests",
            file.path
        );
        return Some((C::RecordFileNotInManifest, message));
    };
    if digests
        .get("sha256")
        .is_some_and(|d| !d.eq_ignore_ascii_case(&file.sha256))
        || digests
            .get("sha512")
            .is_some_and(|d| !d.eq_ignore_ascii_case(&file.sha512))
    {
        let message = format!(
            "points to {} with digests that differ from the manifests",
            file.path
        );
        return Some((C::RecordFileDigestMismatch, message));
    }
    match report.payload.size(&file.path) {
        Some(size) if size != file.size => Some((
            C::RecordFileSizeMismatch,
            format!("says {} is {} bytes; it is {size}", file.path, file.size),
        )),
        Some(_) => None,
        None => Some((
            C::RecordFileMissing,
            format!("points to {}, which is missing", file.path),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BagInfo, BagWriter, DirReader, PayloadPath};
    use serde_json::{Value, json};

    fn record(item_id: i64, file: Option<Value>) -> Value {
        let mut v = crate::record::sample_json(item_id);
        v["attachments"][0]["file"] = json!(file);
        v
    }

    #[test]
    fn each_kind_of_record_problem_has_its_code() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut w = BagWriter::create(&dir.path().join("bag"))?;
        let pdf = crate::fixity::of_bytes(b"%PDF-1.4");
        w.add_bytes(&PayloadPath::new("files/a.pdf")?, b"%PDF-1.4")?;
        let file = |path: &str, size: u64, sha256: &str| {
            json!({"path": path, "size": size, "sha256": sha256, "sha512": pdf.sha512,
                   "media_type": "application/pdf"})
        };
        let records = [
            record(1, Some(file("data/files/a.pdf", 8, &pdf.sha256))),
            record(2, Some(file("data/files/a.pdf", 9, &pdf.sha256))),
            record(3, Some(file("data/files/a.pdf", 8, &"0".repeat(64)))),
            record(4, Some(file("data/files/b.pdf", 8, &pdf.sha256))),
            json!({"title": 5}),
        ];
        for (i, r) in records.iter().enumerate() {
            let path = PayloadPath::new(&format!("records/{:06}.json", i + 1))?;
            w.add_bytes(&path, &serde_json::to_vec_pretty(r)?)?;
        }
        w.add_bytes(&PayloadPath::new("records/000006.json")?, b"{not json")?;
        let bag = w.finish(BagInfo::default())?;

        let validator = RecordValidator::bundled()?;
        let v = verify_with_records(&mut DirReader::new(&bag.path)?, &validator)?;
        assert!(v.bag.is_valid(), "{:?}", v.bag.findings);
        assert_eq!(v.records_checked, 6);
        let found: Vec<(&str, RecordProblemCode)> = v
            .records
            .iter()
            .map(|p| (p.path.as_str(), p.code))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        use RecordProblemCode as C;
        assert_eq!(
            found,
            [
                ("data/records/000002.json", C::RecordFileSizeMismatch),
                ("data/records/000003.json", C::RecordFileDigestMismatch),
                ("data/records/000004.json", C::RecordFileNotInManifest),
                ("data/records/000005.json", C::RecordSchemaViolation),
                ("data/records/000006.json", C::RecordNotJson),
            ]
        );
        Ok(())
    }

    #[test]
    fn a_record_too_large_to_examine_is_a_problem_of_its_own()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let mut w = BagWriter::create(&dir.path().join("bag"))?;
        let huge = vec![b' '; MAX_RECORD_BYTES as usize + 1];
        w.add_bytes(&PayloadPath::new("records/000001.json")?, &huge)?;
        let bag = w.finish(BagInfo::default())?;
        let validator = RecordValidator::bundled()?;
        let v = verify_with_records(&mut DirReader::new(&bag.path)?, &validator)?;
        assert!(v.bag.is_valid(), "{:?}", v.bag.findings);
        let found: Vec<(&str, RecordProblemCode)> = v
            .records
            .iter()
            .map(|p| (p.path.as_str(), p.code))
            .collect();
        assert_eq!(
            found,
            [(
                "data/records/000001.json",
                RecordProblemCode::RecordTooLarge
            )]
        );
        Ok(())
    }
}
