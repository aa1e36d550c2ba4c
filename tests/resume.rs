//! Interrupted crawls: killed at moments spread over the crawl (SIGKILL) or stopped with
//! Ctrl-C (SIGINT), then resumed with the same command. The moments follow the crawl's own
//! progress (entries in its journal), not a clock, so a loaded machine does not move them.
//! The resumed bag must verify and be the same bag as a crawl that was never interrupted —
//! payload and tag manifests, bag-info and every tag file; no half-written bag may ever
//! appear under the `--out` name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, interrupt, mapping, sharc, wait_for_journal};
use sharc_sample::PortalOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const DATE: &str = "2025-07-01";

fn crawl_args(portal: &Portal, out: &Path) -> Vec<String> {
    vec![
        "crawl".into(),
        portal.url(),
        "--mapping".into(),
        mapping().to_string_lossy().into(),
        "--out".into(),
        out.to_string_lossy().into(),
        "--bagging-date".into(),
        DATE.into(),
        "--page-size".into(),
        "4".into(),
        "--rate".into(),
        "40".into(),
        "--quiet".into(),
    ]
}

fn spawn(args: &[String]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("sharc"))
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn payload_manifest(bag: &Path) -> String {
    std::fs::read_to_string(bag.join("manifest-sha512.txt")).unwrap()
}

/// The payload manifest, then every tag file but it (bag-info, tag manifests, profile), by
/// name: equal for two bags when they are the same bag.
fn whole_bag(bag: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(bag)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn staging(out: &Path) -> PathBuf {
    sharc::bundle::staging_path(out).unwrap()
}

/// Runs the same command until it succeeds (at most a few times); returns its stderr.
fn resume_until_done(args: &[String], out: &Path) -> String {
    let mut all = String::new();
    for _ in 0..3 {
        if out.exists() {
            break;
        }
        let output = Command::new(assert_cmd::cargo::cargo_bin("sharc"))
            .args(args)
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap();
        all.push_str(&String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "resume failed: {all}");
    }
    all
}

#[test]
fn crawls_killed_at_random_moments_resume_to_the_same_bag() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();

    let reference = tmp.path().join("reference");
    let status = Command::new(assert_cmd::cargo::cargo_bin("sharc"))
        .args(crawl_args(&portal, &reference))
        .status()
        .unwrap();
    assert!(status.success());
    let expected = payload_manifest(&reference);
    let expected_bag = whole_bag(&reference);
    // One journal entry per record and per downloaded file; what else the manifest lists
    // (report, schema, path map) is written at the end.
    let entries = expected
        .lines()
        .filter(|l| l.contains(" data/records/") || l.contains(" data/files/"))
        .count();
    assert!(entries > 20, "{expected}");

    let mut resumed = 0;
    for (i, fraction) in [0.05, 0.3, 0.5, 0.7, 0.9].iter().enumerate() {
        let out = tmp.path().join(format!("bag-{i}"));
        let args = crawl_args(&portal, &out);
        let mut child = spawn(&args);
        // Kill once this share of the crawl is journaled: wherever it is in its writes then.
        wait_for_journal(
            &staging(&out),
            (entries as f64 * fraction).ceil() as usize,
            &mut child,
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if out.exists() {
            // It had finished: then it must be whole.
            assert!(!staging(&out).exists());
        } else {
            assert!(
                staging(&out).exists(),
                "kill {i}: what was fetched is kept for the resume"
            );
            let stderr = resume_until_done(&args, &out);
            if stderr.contains("resuming") {
                resumed += 1;
            }
        }
        sharc().arg("verify").arg(&out).assert().success();
        assert_eq!(
            payload_manifest(&out),
            expected,
            "kill {i}: same payload as an uninterrupted crawl"
        );
        assert_eq!(
            whole_bag(&out),
            expected_bag,
            "kill {i}: the same bag as an uninterrupted crawl, tag files included"
        );
        assert!(!staging(&out).exists());
    }
    assert!(
        resumed >= 4,
        "the kills land mid-crawl and are resumed ({resumed} of 5)"
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let mut args = crawl_args(&portal, &out);
    // Slow enough that the interrupt lands mid-crawl.
    let rate = args.iter().position(|a| a == "--rate").unwrap() + 1;
    args[rate] = "10".into();
    let mut child = spawn(&args);
    // Interrupt once something is journaled, so there is something to resume.
    wait_for_journal(&staging(&out), 1, &mut child);
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("start over") && stderr.matches("interrupted").count() == 1,
        "one message, and it says to resume: {stderr}"
    );
    assert!(!out.exists());
    assert!(staging(&out).exists());
    let stderr = resume_until_done(&args, &out);
    assert!(stderr.contains("resuming"), "{stderr}");
    sharc().arg("verify").arg(&out).assert().success();
}

#[test]
fn ctrl_c_on_a_zip_crawl_names_the_directory_it_keeps() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag.zip");
    let mut args = crawl_args(&portal, &out);
    let rate = args.iter().position(|a| a == "--rate").unwrap() + 1;
    args[rate] = "10".into();
    let mut child = spawn(&args);
    let staged = sharc::bundle::staging_path(&sharc::bundle::zip::work_dir(&out)).unwrap();
    wait_for_journal(&staged, 1, &mut child);
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    let kept = stderr
        .split("kept in ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no directory named: {stderr}"));
    assert_eq!(Path::new(kept), staged, "{stderr}");
    assert!(!out.exists());
    let stderr = resume_until_done(&args, &out);
    assert!(stderr.contains("resuming"), "{stderr}");
    sharc().arg("verify").arg(&out).assert().success();
}
