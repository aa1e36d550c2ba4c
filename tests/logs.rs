//! What a crawl says while it works and when it ends, read the way a terminal-less cron job
//! reads it: each failure once, the summary last; `-v` one line per request; third-party
//! debug output only when `SHARC_LOG` asks for it; `--log-format json` the same events as
//! JSON lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, mapping, sharc};
use serde_json::Value;
use sharc_sample::{FaultPlan, PortalOptions};
use std::path::Path;

/// A portal whose item 12 has attachments that always fail (HTTP 500).
fn failing_portal() -> Portal {
    Portal::start(PortalOptions {
        faults: FaultPlan::parse("fail-item=12").unwrap(),
        ..Default::default()
    })
}

/// Runs a crawl with stdout and stderr in one stream, as cron mails them; returns the exit
/// code and the lines.
fn crawl_merged(portal: &Portal, out: &Path, extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let sharc_bin = assert_cmd::cargo::cargo_bin("sharc");
    let mut args = vec![
        "crawl".to_string(),
        portal.url(),
        "--mapping".into(),
        mapping().to_string_lossy().into_owned(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!("'{}' {} 2>&1", sharc_bin.display(), quoted.join(" "));
    let output = std::process::Command::new("sh")
        .args(["-c", &script])
        .env_remove("SHARC_LOG")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (
        output.status.code(),
        text.lines().map(str::to_string).collect(),
    )
}

#[test]
fn without_a_terminal_each_failure_is_printed_once_and_the_summary_last() {
    let portal = failing_portal();
    let tmp = tempfile::tempdir().unwrap();
    let (code, lines) = crawl_merged(&portal, &tmp.path().join("bag"), &[]);
    assert_eq!(code, Some(4), "{lines:#?}");
    let failed: Vec<&String> = lines.iter().filter(|l| l.contains("item 12:")).collect();
    assert!(!failed.is_empty(), "{lines:#?}");
    let mut unique = failed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        failed.len(),
        "a failure printed twice: {failed:#?}"
    );
    // One line per page of the list, and the summary last, saying what it counts.
    assert!(lines.iter().any(|l| l.contains("page 1:")), "{lines:#?}");
    let last = lines.last().unwrap();
    assert!(
        last.contains("items archived; ")
            && last.contains(" attachments and images, ")
            && last.contains(" payload files in the bag; ")
            && last.contains("partial"),
        "{last}"
    );
}

#[test]
fn verbose_logs_each_request_and_nothing_of_other_crates() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let (code, lines) = crawl_merged(
        &portal,
        &tmp.path().join("bag"),
        &[
            "--source",
            "html",
            "--max-pages",
            "1",
            "-vv",
            "--log-format",
            "json",
        ],
    );
    assert_eq!(code, Some(4), "{lines:#?}");
    let events: Vec<Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events.len() > 10, "{lines:#?}");
    for e in &events {
        let target = e["target"].as_str().unwrap();
        assert!(
            target.starts_with("sharc"),
            "a third-party event at -vv: {e}"
        );
    }
    let requests: Vec<&str> = events
        .iter()
        .filter_map(|e| e["fields"]["message"].as_str())
        .filter(|m| m.starts_with("GET "))
        .collect();
    assert!(
        requests
            .iter()
            .any(|m| m.contains("/robots.txt 200 ") && m.ends_with(" ms")),
        "{requests:#?}"
    );
    assert!(
        requests.len() >= 11,
        "the list page and its ten articles: {requests:#?}"
    );
}

#[test]
fn json_log_lines_parse_and_carry_the_failures_and_the_summary() {
    let portal = failing_portal();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let run = sharc()
        .arg("crawl")
        .arg(portal.url())
        .arg("--mapping")
        .arg(mapping())
        .arg("--out")
        .arg(&out)
        .args(["--log-format", "json"])
        .env_remove("SHARC_LOG")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let events: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let failures: Vec<&Value> = events
        .iter()
        .filter(|e| e["fields"]["code"] == "file-fetch-failed")
        .collect();
    assert!(!failures.is_empty(), "{stderr}");
    assert!(
        failures.iter().all(|e| e["fields"]["item_id"] == 12),
        "{stderr}"
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["fields"]["complete"], false, "{summary}");
    assert!(
        summary["fields"]["payload_files"].as_u64().unwrap() > 30,
        "{summary}"
    );
    // Stdout keeps the one summary line for scripts.
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}
