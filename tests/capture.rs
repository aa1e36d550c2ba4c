//! `--warc`: every HTTP exchange of a crawl kept as WARC records in the bag, with its index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, verify};
use sharc::capture::read::{self, Scanned};
use sharc_sample::{FaultPlan, PortalOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every record of every WARC file of a bag's capture, in order, with its file's name.
fn records(bag: &Path) -> Vec<(String, Scanned)> {
    let dir = bag.join("data/capture");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".warc.gz"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let end = read::scan(&dir.join(&name), |r| out.push((name.clone(), r.clone()))).unwrap();
        assert_eq!(end.broken, None, "{name}");
    }
    out
}

/// `METHOD path?query` of a request record, as its request line says.
fn request_line(r: &Scanned) -> String {
    let start = &r.http.as_ref().unwrap().start;
    let mut parts = start.split(' ');
    format!("{} {}", parts.next().unwrap(), parts.next().unwrap())
}

fn manifest(bag: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(bag.join("manifest-sha256.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (d, p) = l.split_once("  ").unwrap();
            (p.to_string(), d.to_string())
        })
        .collect()
}

#[test]
fn every_request_is_captured_once_with_its_answer_and_files_as_received() {
    // Throttling and dropped connections: the retries and error answers are exchanges too.
    let portal = Portal::start(PortalOptions {
        faults: FaultPlan::parse("throttle=10,reset=5,retry-after=0").unwrap(),
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    crawl_cmd(&portal, &mapping(), &bag)
        .args(["--warc", "--concurrency", "2"])
        .assert()
        .success();
    verify(&bag).success();

    let recs = records(&bag);
    let kinds: Vec<&str> = recs
        .iter()
        .map(|(_, r)| r.field("WARC-Type").unwrap())
        .collect();
    assert_eq!(kinds[0], "warcinfo");
    // Each request the portal received is in the capture once, with a response after it.
    let mut sent: Vec<String> = portal
        .requests()
        .iter()
        .map(|l| format!("{} {}", l.method, l.path_and_query))
        .collect();
    let mut captured: Vec<String> = recs
        .iter()
        .filter(|(_, r)| r.field("WARC-Type") == Some("request"))
        .map(|(_, r)| request_line(r))
        .collect();
    // A connection dropped mid-body still gave a response head, so it is captured (cut).
    sent.sort();
    captured.sort();
    assert_eq!(
        captured, sent,
        "requests the portal saw vs requests captured"
    );
    let statuses: Vec<&str> = recs
        .iter()
        .filter_map(|(_, r)| r.http.as_ref().and_then(|h| h.status()))
        .collect();
    assert!(
        statuses.contains(&"429"),
        "the throttling answers are captured"
    );
    for pair in recs.windows(2) {
        if pair[0].1.field("WARC-Type") == Some("request") {
            let (req, resp) = (&pair[0].1, &pair[1].1);
            assert_eq!(resp.field("WARC-Type"), Some("response"));
            assert_eq!(
                resp.field("WARC-Concurrent-To"),
                req.field("WARC-Record-ID"),
                "the response names its request"
            );
        }
    }

    // Every archived file is in the capture byte for byte: a complete response to its URL
    // whose payload digest is the file's sha256.
    let manifest = manifest(&bag);
    let payload_digests: Vec<String> = recs
        .iter()
        .filter(|(_, r)| {
            r.field("WARC-Type") == Some("response") && r.field("WARC-Truncated").is_none()
        })
        .map(|(_, r)| hex_of(&r.payload_sha256))
        .collect();
    let files: Vec<(&String, &String)> = manifest
        .iter()
        .filter(|(p, _)| p.starts_with("data/files/"))
        .collect();
    assert!(files.len() >= 20, "{} files", files.len());
    for (path, sha) in files {
        assert!(
            payload_digests.contains(sha),
            "{path} is not in the capture"
        );
    }
    // The index lists every response once.
    let index = std::fs::read_to_string(bag.join("data/capture/index.cdxj")).unwrap();
    let responses = kinds.iter().filter(|k| **k == "response").count();
    assert_eq!(index.lines().count(), responses);
}

fn hex_of(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_capture_rolls_over_at_its_size_and_each_file_opens_with_warcinfo() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let bag: PathBuf = tmp.path().join("bag");
    crawl_cmd(&portal, &mapping(), &bag)
        .args(["--warc", "--warc-file-size", "20000"])
        .assert()
        .success();
    let recs = records(&bag);
    let mut files: Vec<&String> = recs.iter().map(|(f, _)| f).collect();
    files.dedup();
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let first = recs.iter().find(|(n, _)| n == f).unwrap();
        assert_eq!(first.1.field("WARC-Type"), Some("warcinfo"), "{f}");
        assert_eq!(first.1.field("WARC-Filename"), Some(f.as_str()));
        // Each file but the last stops at the first record that reaches the size.
        let size = std::fs::metadata(bag.join("data/capture").join(f))
            .unwrap()
            .len();
        let last = recs.iter().rfind(|(n, _)| n == f).unwrap();
        assert_eq!(last.1.offset + last.1.length, size);
        assert!(last.1.offset < 20000, "{f}: a record began past the size");
    }
}
