//! `--mets`: the bag described in `data/mets.xml`, METS with PREMIS 3.0. CI validates it
//! against the METS schema and reads it back with metsrw (`.ci/check_mets.py`); these tests
//! check what it says against the bag.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, records, verify};
use sharc::record::mets::{MetsFixity, read_fixity};
use sharc_sample::PortalOptions;
use std::collections::BTreeMap;
use std::path::Path;

fn manifest(bag: &Path, algorithm: &str) -> BTreeMap<String, String> {
    std::fs::read_to_string(bag.join(format!("manifest-{algorithm}.txt")))
        .unwrap()
        .lines()
        .map(|l| {
            let (d, p) = l.split_once("  ").unwrap();
            (p.to_string(), d.to_string())
        })
        .collect()
}

fn objects(bag: &Path) -> Vec<MetsFixity> {
    let mut out = Vec::new();
    let xml = std::fs::read(bag.join("data/mets.xml")).unwrap();
    read_fixity(xml.as_slice(), |o| out.push(o)).unwrap();
    out
}

#[test]
fn mets_lists_every_payload_file_with_the_manifests_fixity_and_groups_each_item() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    crawl_cmd(&portal, &mapping(), &bag)
        .args(["--mets", "--warc"])
        .assert()
        .success();
    verify(&bag).success();

    let (sha256, sha512) = (manifest(&bag, "sha256"), manifest(&bag, "sha512"));
    let objs = objects(&bag);
    let mut listed: Vec<&str> = objs.iter().map(|o| o.path.as_str()).collect();
    listed.sort();
    let expected: Vec<&str> = sha256
        .keys()
        .map(String::as_str)
        .filter(|p| *p != "data/mets.xml")
        .collect();
    assert_eq!(listed, expected, "one PREMIS object per payload file");
    for o in &objs {
        let fixity: BTreeMap<&str, &str> = o
            .fixity
            .iter()
            .map(|(a, d)| (a.as_str(), d.as_str()))
            .collect();
        assert_eq!(fixity["sha256"], sha256[&o.path], "{}", o.path);
        assert_eq!(fixity["sha512"], sha512[&o.path], "{}", o.path);
    }
    assert!(listed.iter().any(|p| p.starts_with("data/capture/")));

    let xml = std::fs::read_to_string(bag.join("data/mets.xml")).unwrap();
    let recs = records(&bag);
    for id in recs.keys() {
        assert!(
            xml.contains(&format!(r#"LABEL="item {id}" ADMID="amdSec_item_{id}""#)),
            "item {id} has its division and its capture event"
        );
    }
    // A Vietnamese attachment name became a portable payload name: said, in PREMIS.
    assert!(xml.contains("<premis:eventType>filename change</premis:eventType>"));
    assert!(xml.contains("<premis:originalName>Quyết định 42-QĐ-UBND.pdf</premis:originalName>"));
    assert!(xml.contains("<premis:agentVersion>"));
}

#[test]
fn verify_names_a_file_whose_mets_fixity_differs_from_the_manifests() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    crawl_cmd(&portal, &mapping(), &bag)
        .arg("--mets")
        .assert()
        .success();
    let victim = objects(&bag)
        .into_iter()
        .find(|o| o.path.ends_with(".pdf"))
        .unwrap();
    let digest = &victim.fixity[0].1;
    let mets = bag.join("data/mets.xml");
    let xml = std::fs::read_to_string(&mets).unwrap();
    let changed = xml.replacen(
        &format!("<premis:messageDigest>{digest}</premis:messageDigest>"),
        &format!(
            "<premis:messageDigest>{}</premis:messageDigest>",
            "0".repeat(64)
        ),
        1,
    );
    assert_ne!(changed, xml);
    std::fs::write(&mets, changed).unwrap();
    let out = verify(&bag).code(3);
    let said = String::from_utf8_lossy(&out.get_output().stdout).into_owned()
        + &String::from_utf8_lossy(&out.get_output().stderr);
    let line = said
        .lines()
        .find(|l| l.contains("mets-fixity-mismatch"))
        .unwrap_or_else(|| panic!("no mets-fixity-mismatch in:\n{said}"));
    assert!(line.contains(&victim.path), "{line}");
}
