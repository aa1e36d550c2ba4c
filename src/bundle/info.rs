//! `bag-info.txt` and the caller's extra tag files: writing them, and reading bag-info back.
//!
//! The writer fills in what it can count itself (Payload-Oxum, Bag-Size); everything else
//! comes from the caller, so the same payload and the same [`BagInfo`] give the same bytes.
//! The verifier parses `bag-info.txt` with the same rules the writer follows.

use super::manifest::split_lines;
use super::names::path_problem;
use super::{BundleError, Result};
use jiff::civil::Date;
use std::collections::HashSet;
use std::fmt::Write as _;

/// Labels the writer computes or that must not repeat; extra elements may not use them.
const COMPUTED_LABELS: [&str; 3] = ["Payload-Oxum", "Bag-Size", "Bagging-Date"];

/// Tag file names BagIt gives a meaning to; extra tag files may not use them.
const RESERVED_TAG_FILES: [&str; 3] = ["bagit.txt", "bag-info.txt", "fetch.txt"];

/// What goes into `bag-info.txt`, plus extra tag files, for [`super::BagWriter::finish`].
///
/// Elements are written in this fixed order: Source-Organization, External-Description,
/// External-Identifier, Bagging-Date, Payload-Oxum and Bag-Size (both computed), the
/// [`extra`](Self::extra) elements in the order given, then Bag-Software-Agent. Unset fields
/// are left out. A value with line breaks is folded onto indented continuation lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BagInfo {
    /// Organisation transferring the content (`Source-Organization`).
    pub source_organization: Option<String>,
    /// What the bag holds and where it came from (`External-Description`).
    pub external_description: Option<String>,
    /// The sender's identifier for the bag, such as a URN (`External-Identifier`).
    pub external_identifier: Option<String>,
    /// Day the bag was made (`Bagging-Date`, `YYYY-MM-DD`); given by the caller's clock.
    pub bagging_date: Option<Date>,
    /// Program that made the bag, such as `sharc/0.1.0` (`Bag-Software-Agent`).
    pub software_agent: Option<String>,
    /// Further `(label, value)` elements, kept in order (Contact-Email, Bag-Count, ...).
    pub extra: Vec<(String, String)>,
    /// Extra tag files as `(name relative to the bag root, bytes)`, such as a profile JSON.
    /// They are listed in the tag manifests.
    pub tag_files: Vec<(String, Vec<u8>)>,
}

impl BagInfo {
    /// Checks extra labels and tag file names before anything is written.
    pub(crate) fn validate(&self) -> Result<()> {
        for (label, _) in &self.extra {
            check_label(label)?;
        }
        let mut seen = HashSet::new();
        for (name, _) in &self.tag_files {
            check_tag_file_name(name)?;
            if !seen.insert(name.to_lowercase()) {
                return Err(BundleError::InvalidTagFile {
                    name: name.clone(),
                    reason: "is given twice (names are compared ignoring case)",
                });
            }
        }
        Ok(())
    }

    /// The text of `bag-info.txt` for a payload of `bytes` in `files` files.
    pub(crate) fn render(&self, (bytes, files): (u64, u64)) -> String {
        let mut out = String::new();
        let mut element = |label: &str, value: &str| push_element(&mut out, label, value);
        if let Some(v) = &self.source_organization {
            element("Source-Organization", v);
        }
        if let Some(v) = &self.external_description {
            element("External-Description", v);
        }
        if let Some(v) = &self.external_identifier {
            element("External-Identifier", v);
        }
        if let Some(date) = self.bagging_date {
            element("Bagging-Date", &date.strftime("%Y-%m-%d").to_string());
        }
        element("Payload-Oxum", &format!("{bytes}.{files}"));
        element("Bag-Size", &human_size(bytes));
        for (label, value) in &self.extra {
            element(label, value);
        }
        if let Some(v) = &self.software_agent {
            element("Bag-Software-Agent", v);
        }
        out
    }
}

/// Appends `label: value`, folding line breaks in the value onto indented lines.
fn push_element(out: &mut String, label: &str, value: &str) {
    let mut lines = value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let _ = write!(out, "{label}: {}", lines.next().unwrap_or(""));
    for line in lines {
        let _ = write!(out, "\n  {line}");
    }
    out.push('\n');
}

/// Rejects labels that would break `bag-info.txt` or repeat a computed element.
fn check_label(label: &str) -> Result<()> {
    let reason = if label.is_empty() {
        Some("is empty")
    } else if label.contains(':') || label.chars().any(char::is_control) {
        Some("contains ':' or a control character")
    } else if label.trim() != label {
        Some("starts or ends with whitespace")
    } else if COMPUTED_LABELS
        .iter()
        .any(|computed| computed.eq_ignore_ascii_case(label))
    {
        Some("is set by the bag writer (use BagInfo::bagging_date for the date)")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(BundleError::InvalidBagInfo {
            label: label.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Rejects tag file names that are not portable or that BagIt reserves.
fn check_tag_file_name(name: &str) -> Result<()> {
    let lower = name.to_ascii_lowercase();
    let reserved = RESERVED_TAG_FILES.contains(&lower.as_str())
        || lower.starts_with("manifest-")
        || lower.starts_with("tagmanifest-");
    let reason = if let Some(problem) = path_problem(name) {
        Some(problem)
    } else if reserved {
        Some("is a name BagIt reserves")
    } else if lower == "data" || lower.starts_with("data/") {
        Some("is inside data/, which holds the payload")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(BundleError::InvalidTagFile {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A size for people, in binary units with one decimal: `512 bytes`, `7.7 KB`, `1.5 GB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The elements of a `bag-info.txt` text, `(label, value)` in file order (continuation lines
/// joined with a space; lines that break the syntax left out).
pub fn bag_info_elements(text: &str) -> Vec<(String, String)> {
    parse_bag_info(text).elements
}

/// What [`parse_bag_info`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedBagInfo {
    /// `(label, value)` in file order, continuations joined with a space.
    pub elements: Vec<(String, String)>,
    /// Lines that break the syntax.
    pub problems: Vec<String>,
    /// Lines read despite a deviation other tools accept (whitespace before the colon).
    pub warnings: Vec<String>,
}

/// Elements of `bag-info.txt`, syntax problems and tolerated deviations.
pub(crate) fn parse_bag_info(text: &str) -> ParsedBagInfo {
    let mut elements: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (index, line) in split_lines(text).into_iter().enumerate() {
        let line_no = index + 1;
        if line.starts_with([' ', '\t']) {
            match elements.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => problems.push(format!("line {line_no}: continuation before any element")),
            }
            continue;
        }
        match parse_element(line) {
            Ok((element, warning)) => {
                elements.push(element);
                if let Some(warning) = warning {
                    warnings.push(format!("line {line_no}: {warning}"));
                }
            }
            Err(problem) => problems.push(format!("line {line_no}: {problem}")),
        }
    }
    ParsedBagInfo {
        elements,
        problems,
        warnings,
    }
}

/// Parses `label ":" WSP value`. Whitespace between label and colon is tolerated with a
/// warning, as the BagIt conformance suite expects.
#[allow(clippy::type_complexity)]
fn parse_element(line: &str) -> Result<((String, String), Option<&'static str>), &'static str> {
    let (label, rest) = line.split_once(':').ok_or("expected `Label: value`")?;
    let trimmed = label.trim_end_matches([' ', '\t']);
    if trimmed.is_empty() || trimmed.trim() != trimmed {
        return Err("label is empty or starts with whitespace");
    }
    let warning = (trimmed.len() != label.len())
        .then_some("whitespace between the label and the colon; read without it");
    let value = rest
        .strip_prefix([' ', '\t'])
        .ok_or("expected a space or tab after the colon")?;
    Ok(((trimmed.to_string(), value.to_string()), warning))
}

/// `<bytes>.<files>` as numbers.
pub(crate) fn parse_oxum(value: &str) -> Option<(u64, u64)> {
    let (bytes, files) = value.trim().split_once('.')?;
    let number = |s: &str| {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse::<u64>().ok()
        } else {
            None
        }
    };
    Some((number(bytes)?, number(files)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn sample() -> Result<BagInfo, jiff::Error> {
        Ok(BagInfo {
            source_organization: Some("Sở Thông tin và Truyền thông".into()),
            external_description: Some("Intranet news\nitems and attachments".into()),
            external_identifier: Some("urn:sharc:example.org:sites/news".into()),
            bagging_date: Some(Date::new(2024, 6, 1)?),
            software_agent: Some("sharc/0.1.0".into()),
            extra: vec![
                ("Contact-Email".into(), "archives@example.org".into()),
                ("Bag-Count".into(), "1 of 1".into()),
            ],
            tag_files: Vec::new(),
        })
    }

    #[test]
    fn renders_in_fixed_order_with_folded_values() -> TestResult {
        let text = sample()?.render((7929, 6));
        assert_eq!(
            text,
            "Source-Organization: Sở Thông tin và Truyền thông\n\
             External-Description: Intranet news\n  items and attachments\n\
             External-Identifier: urn:sharc:example.org:sites/news\n\
             Bagging-Date: 2024-06-01\n\
             Payload-Oxum: 7929.6\n\
             Bag-Size: 7.7 KB\n\
             Contact-Email: archives@example.org\n\
             Bag-Count: 1 of 1\n\
             Bag-Software-Agent: sharc/0.1.0\n"
        );
        Ok(())
    }

    #[test]
    fn empty_info_still_has_computed_elements() {
        assert_eq!(
            BagInfo::default().render((0, 0)),
            "Payload-Oxum: 0.0\nBag-Size: 0 bytes\n"
        );
    }

    #[test]
    fn crlf_and_blank_lines_in_values_fold_cleanly() {
        let mut out = String::new();
        push_element(&mut out, "Note", "a\r\n\r\nb \n");
        assert_eq!(out, "Note: a\n  b\n");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1.0 KB");
        assert_eq!(human_size(7929), "7.7 KB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024 / 2), "1.5 GB");
    }

    #[test]
    fn computed_and_malformed_labels_are_rejected() {
        for label in [
            "Payload-Oxum",
            "bag-size",
            "Bagging-Date",
            "",
            "A:B",
            " X",
            "X\n",
        ] {
            let info = BagInfo {
                extra: vec![(label.into(), "v".into())],
                ..BagInfo::default()
            };
            assert!(
                matches!(info.validate(), Err(BundleError::InvalidBagInfo { .. })),
                "{label:?}"
            );
        }
    }

    #[test]
    fn reserved_and_unsafe_tag_file_names_are_rejected() {
        for name in [
            "bagit.txt",
            "Bag-Info.txt",
            "manifest-md5.txt",
            "tagmanifest-sha256.txt",
            "fetch.txt",
            "data/x.json",
            "../x.json",
            "/x.json",
            "a b.json",
        ] {
            let info = BagInfo {
                tag_files: vec![(name.into(), Vec::new())],
                ..BagInfo::default()
            };
            assert!(
                matches!(info.validate(), Err(BundleError::InvalidTagFile { .. })),
                "{name:?}"
            );
        }
    }

    #[test]
    fn duplicate_tag_files_are_rejected() {
        let info = BagInfo {
            tag_files: vec![
                ("profile.json".into(), Vec::new()),
                ("Profile.json".into(), Vec::new()),
            ],
            ..BagInfo::default()
        };
        assert!(info.validate().is_err());
    }

    #[test]
    fn plain_tag_files_are_accepted() -> TestResult {
        let info = BagInfo {
            tag_files: vec![
                ("bagit-profile.json".into(), Vec::new()),
                ("signatures/archiver.pub".into(), Vec::new()),
            ],
            ..sample()?
        };
        info.validate()?;
        Ok(())
    }

    #[test]
    fn bag_info_syntax() {
        let parsed = parse_bag_info("A: 1\nLong: first\n  second\nEmpty: \nTab:\tx\n");
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(
            parsed.elements[1],
            ("Long".to_string(), "first second".to_string())
        );
        let parsed = parse_bag_info("  early\nNoColon\n : x\nA:x\n\nB: y\nSpaced  : z\n");
        let lines: Vec<&str> = parsed
            .problems
            .iter()
            .filter_map(|p| p.split(':').next())
            .collect();
        assert_eq!(lines, ["line 1", "line 2", "line 3", "line 4", "line 5"]);
        assert_eq!(parsed.warnings.len(), 1);
        assert_eq!(
            parsed.elements.last(),
            Some(&("Spaced".to_string(), "z".to_string()))
        );
    }

    #[test]
    fn oxum_values() {
        assert_eq!(parse_oxum("7929.6"), Some((7929, 6)));
        assert_eq!(parse_oxum("1.2.3"), None);
        assert_eq!(parse_oxum("-1.2"), None);
        assert_eq!(parse_oxum("12"), None);
    }
}
