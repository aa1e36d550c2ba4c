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

/// Rewrites the gzip member of `record` in `warc` with one byte of its response body
/// flipped, keeping the gzip valid: a change only the record's digests can tell.
fn flip_body_byte(warc: &Path, record: &Scanned) {
    use std::io::{Read, Write};
    let bytes = std::fs::read(warc).unwrap();
    let (start, end) = (
        record.offset as usize,
        (record.offset + record.length) as usize,
    );
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&bytes[start..end])
        .read_to_end(&mut plain)
        .unwrap();
    // The last byte of the body, just before the record's closing CRLF CRLF.
    let at = plain.len() - 5;
    plain[at] ^= 0x01;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let member = gz.finish().unwrap();
    let mut out = bytes[..start].to_vec();
    out.extend_from_slice(&member);
    out.extend_from_slice(&bytes[end..]);
    std::fs::write(warc, out).unwrap();
}

#[test]
fn verify_names_the_record_and_the_warc_file_when_a_response_body_changed() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    crawl_cmd(&portal, &mapping(), &bag)
        .arg("--warc")
        .assert()
        .success();
    verify(&bag).success();
    let recs = records(&bag);
    let (file, victim) = recs
        .iter()
        .find(|(_, r)| {
            r.field("WARC-Type") == Some("response")
                && r.field("WARC-Target-URI")
                    .is_some_and(|u| u.ends_with(".pdf"))
        })
        .expect("a PDF's response");
    let id = victim.field("WARC-Record-ID").unwrap().to_string();
    let url = victim.field("WARC-Target-URI").unwrap().to_string();
    flip_body_byte(&bag.join("data/capture").join(file), victim);

    let out = verify(&bag).code(3);
    let said = String::from_utf8_lossy(&out.get_output().stdout).into_owned()
        + &String::from_utf8_lossy(&out.get_output().stderr);
    let line = said
        .lines()
        .find(|l| l.contains("warc-digest-mismatch"))
        .unwrap_or_else(|| panic!("no warc-digest-mismatch in:\n{said}"));
    assert!(line.contains(&format!("data/capture/{file}")), "{line}");
    assert!(line.contains(&id), "{line}");
    assert!(line.contains(&url), "{line}");
    // Only that record: the others still match their digests.
    assert_eq!(
        said.lines()
            .filter(|l| l.contains("warc-digest-mismatch"))
            .count(),
        2,
        "its block and its payload:\n{said}"
    );
}

#[test]
fn a_crawl_killed_mid_capture_and_resumed_keeps_each_exchange_once() {
    use std::process::{Command, Stdio};
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    let args: Vec<String> = vec![
        "crawl".into(),
        portal.url(),
        "--mapping".into(),
        mapping().to_string_lossy().into(),
        "--out".into(),
        bag.to_string_lossy().into(),
        "--page-size".into(),
        "4".into(),
        "--rate".into(),
        "40".into(),
        "--quiet".into(),
        "--warc".into(),
    ];
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("sharc"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = sharc::bundle::staging_path(&bag).unwrap();
    common::wait_for_journal(&staging, 25, &mut child);
    child.kill().unwrap(); // SIGKILL, wherever the capture is in its writes
    child.wait().unwrap();
    assert!(!bag.exists(), "killed before the end");
    common::sharc().args(&args).assert().success();
    verify(&bag).success();

    let recs = records(&bag);
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for l in portal.requests() {
        *sent
            .entry(format!("{} {}", l.method, l.path_and_query))
            .or_default() += 1;
    }
    let mut captured: BTreeMap<String, usize> = BTreeMap::new();
    for (_, r) in recs
        .iter()
        .filter(|(_, r)| r.field("WARC-Type") == Some("request"))
    {
        *captured.entry(request_line(r)).or_default() += 1;
    }
    // Every exchange captured was made, and is there once per time it was made; only those
    // in flight at the kill may be missing.
    for (req, n) in &captured {
        let made = sent.get(req).copied().unwrap_or(0);
        assert!(*n <= made, "{req}: captured {n} times, made {made}");
    }
    let made: usize = sent.values().sum();
    let missing = made - captured.values().sum::<usize>();
    assert!(
        missing <= 8,
        "{missing} of {made} exchanges lost at the kill"
    );
    // Resumed pages were asked for again: there are such repeats, each a real request.
    assert!(captured.values().any(|n| *n > 1), "the resume asked again");
    // Each request is followed by its response.
    for pair in recs.windows(2) {
        if pair[0].1.field("WARC-Type") == Some("request") {
            assert_eq!(pair[1].1.field("WARC-Type"), Some("response"));
        }
    }
    if let Some(warcio) = std::env::var_os("SHARC_WARCIO") {
        let dir = bag.join("data/capture");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
            .collect();
        files.sort();
        let out = Command::new(warcio)
            .arg("check")
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "warcio check: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("warcio check accepted the resumed capture");
    }
}
