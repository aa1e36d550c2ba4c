//! Crawls against a farm that misbehaves on purpose: throttling, 503 bursts, connections
//! reset mid-body, truncated bodies, an item whose files always fail, a throttle that never
//! ends. The sample portal injects each fault on a deterministic schedule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, records, sample_item, sharc};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::{FaultPlan, PortalOptions, faults};
use std::time::{Duration, Instant};

fn faulty(plan: &str) -> Portal {
    Portal::start(PortalOptions {
        faults: FaultPlan::parse(plan).unwrap(),
        ..Default::default()
    })
}

fn crawl(portal: &Portal, out: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    crawl_cmd(portal, &mapping(), out)
        .args(["--page-size", "8"])
        .args(extra)
        .assert()
}

/// Files the sample portal holds for its items: attachments plus same-site images.
fn expected_attachments() -> usize {
    (1..=31)
        .map(|id| sample_item(id)["_attachments"].as_array().unwrap().len())
        .sum()
}

#[test]
fn transient_faults_are_retried_and_everything_is_archived() {
    let portal = faulty("throttle=4,reset=3,truncate=3,burst503=3:2,retry-after=1");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let done = crawl(&portal, &out, &[]).success();
    sharc().arg("verify").arg(&out).assert().success();
    // Each retry is announced at the default log level, so a wait never looks like a hang.
    let stderr = String::from_utf8_lossy(&done.get_output().stderr).into_owned();
    let announced = regex::Regex::new(
        r"retrying in \d+\.\d s: HTTP 503 Service Unavailable from http://127\.0\.0\.1:\d+/\S* \(attempt \d+ of 10\)",
    )
    .unwrap();
    assert!(announced.is_match(&stderr), "{stderr}");

    let log = portal.requests();
    let count = |s: u16| log.iter().filter(|r| r.status == s).count();
    let injected =
        count(429) + count(503) + count(faults::STATUS_RESET) + count(faults::STATUS_TRUNCATED);
    assert!(
        injected * 100 >= log.len() * 8,
        "about 10% of {} requests failed transiently ({injected})",
        log.len()
    );
    assert!(
        count(429) > 0
            && count(503) > 0
            && count(faults::STATUS_RESET) > 0
            && count(faults::STATUS_TRUNCATED) > 0,
        "{log:?}"
    );

    let all = records(&out);
    assert_eq!(all.len(), 31, "every item of the portal's list");
    let archived: usize = all
        .values()
        .map(|r| {
            r["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["file"].is_object())
                .count()
        })
        .sum();
    assert_eq!(archived, expected_attachments(), "every attachment");
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("data/crawl-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["complete"], true);
    assert_eq!(report["failures"], Value::Array(vec![]));
    let run: Value = serde_json::from_slice(
        &std::fs::read(sharc::bundle::crawl_bag::run_stats_path(&out)).unwrap(),
    )
    .unwrap();
    assert!(
        run["http"]["retries"].as_u64().unwrap() >= injected as u64,
        "{run}"
    );
}

#[test]
fn a_permanently_failing_item_gives_a_partial_bag_and_exit_4() {
    let portal = faulty("fail-item=12");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[])
        .code(4)
        .stderr(predicate::str::contains("item 12"));
    sharc().arg("verify").arg(&out).assert().success();

    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("data/crawl-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["complete"], false);
    let failed: Vec<i64> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["item_id"].as_i64().unwrap())
        .collect();
    assert!(
        !failed.is_empty() && failed.iter().all(|id| *id == 12),
        "{failed:?}"
    );
    assert!(
        report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] == "file-fetch-failed" && f["url"].is_string()),
        "{report}"
    );
    assert_eq!(report["counts"]["items_failed"], 1);

    let all = records(&out);
    assert_eq!(all.len(), 31);
    for (id, r) in &all {
        for a in r["attachments"].as_array().unwrap() {
            assert_eq!(a["file"].is_null(), *id == 12, "item {id}: {}", a["name"]);
        }
    }
    let info = std::fs::read_to_string(out.join("bag-info.txt")).unwrap();
    assert!(info.contains("Sharc-Crawl-Status: partial"), "{info}");
}

#[test]
fn fail_fast_stops_at_the_first_failure_and_keeps_the_staging_area() {
    let portal = faulty("fail-item=12");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &["--fail-fast"])
        .code(4)
        .stderr(predicate::str::contains("--fail-fast"))
        .stderr(predicate::str::contains("item 12"));
    assert!(!out.exists());
    assert!(sharc::bundle::staging_path(&out).unwrap().exists());
}

#[test]
fn a_throttle_that_never_ends_fails_cleanly_within_max_wait() {
    let portal = faulty("throttle-forever,retry-after=1");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let t = Instant::now();
    crawl(&portal, &out, &["--max-wait", "3"])
        .code(1)
        .stderr(predicate::str::contains("--max-wait"))
        .stderr(predicate::str::contains("429"));
    // --max-wait 3 against a default of 900 s: a minute leaves room for a loaded machine
    // and still shows that the limit, not the default, ended the wait.
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(!out.exists());
}
