//! The stable codes of crawl failures and verify findings: each one is documented in the
//! README, and each is written as the name the README gives it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharc::bundle::FindingCode;
use sharc::mapping::check::ProblemCode;
use sharc::record::check::RecordProblemCode;
use sharc::report::{FailureCode, RefusedCode, SkipCode};

/// The README's "Failure and finding codes" section.
fn readme_section() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("## Failure and finding codes")
        .expect("the README has a section on codes");
    let rest = &readme[start + 3..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// Every code, with the name it serialises to in JSON.
fn every_code() -> Vec<(&'static str, String)> {
    let json = |v: serde_json::Value| v.as_str().unwrap().to_string();
    let mut all = Vec::new();
    for c in FailureCode::ALL {
        all.push((c.as_str(), json(serde_json::to_value(c).unwrap())));
    }
    for c in SkipCode::ALL {
        all.push((c.as_str(), json(serde_json::to_value(c).unwrap())));
    }
    for c in RefusedCode::ALL {
        all.push((c.as_str(), json(serde_json::to_value(c).unwrap())));
    }
    for c in RecordProblemCode::ALL {
        all.push((c.as_str(), json(serde_json::to_value(c).unwrap())));
    }
    for c in FindingCode::ALL {
        all.push((c.as_str(), json(serde_json::to_value(c).unwrap())));
    }
    for c in ProblemCode::ALL {
        all.push((c.as_str(), json(serde_json::to_value(c).unwrap())));
    }
    all
}

#[test]
fn every_code_is_listed_in_the_readme() {
    let section = readme_section();
    let missing: Vec<&str> = every_code()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !section.contains(&format!("| `{name}` |")))
        .collect();
    assert!(missing.is_empty(), "not in the README's table: {missing:?}");
}

#[test]
fn the_readme_lists_no_code_that_does_not_exist() {
    let known: Vec<&str> = every_code().into_iter().map(|(name, _)| name).collect();
    let section = readme_section();
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let unknown: Vec<&&str> = listed.iter().filter(|c| !known.contains(c)).collect();
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(listed.len(), known.len(), "each code once");
}

#[test]
fn codes_are_written_in_json_as_the_readme_names_them() {
    for (name, json) in every_code() {
        assert_eq!(name, json);
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{name}"
        );
    }
}

/// A small valid bag with one payload file, written with the library.
fn small_bag(dir: &std::path::Path) -> std::path::PathBuf {
    use sharc::bundle::{BagInfo, BagWriter, PayloadPath};
    let mut w = BagWriter::create(&dir.join("bag")).unwrap();
    w.add_bytes(&PayloadPath::new("files/a.txt").unwrap(), b"Long An")
        .unwrap();
    w.finish(BagInfo::default()).unwrap().path
}

fn verify_json(bag: &std::path::Path) -> (Option<i32>, serde_json::Value) {
    let out = assert_cmd::Command::cargo_bin("sharc")
        .unwrap()
        .arg("verify")
        .arg("--json")
        .arg(bag)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    });
    (out.status.code(), doc)
}

#[test]
fn verify_json_gives_every_finding_with_its_code() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = small_bag(tmp.path());
    let (code, doc) = verify_json(&bag);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["payload_files"], 1);
    assert_eq!(doc["findings"], serde_json::json!([]));

    std::fs::write(bag.join("data/files/a.txt"), b"Long Am").unwrap();
    std::fs::write(bag.join("data/files/extra.txt"), b"not listed").unwrap();
    let (code, doc) = verify_json(&bag);
    assert_eq!(code, Some(3), "{doc}");
    assert_eq!(doc["valid"], false);
    let findings: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
                f["layer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (code, path) in [
        ("checksum-mismatch", "data/files/a.txt"),
        ("not-in-manifest", "data/files/extra.txt"),
    ] {
        assert!(
            findings
                .iter()
                .any(|(c, p, l)| c == code && p == path && l == "bag"),
            "{code} {path}: {findings:?}"
        );
    }
}
