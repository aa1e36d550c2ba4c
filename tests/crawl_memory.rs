//! A crawl's memory stays flat in the portal's size: a crawl of many more items, each with
//! its own attachments and images, peaks at about the same resident memory as a small one.
//! What a crawl must remember of every file (its payload path, its URL, its fixity for the
//! manifests) is kept on disk in staging, or as a fingerprint of a few bytes.
//!
//! The peak is the child's `VmHWM`, read from `/proc` while it runs (Linux only). `bench/run`
//! measures the same at 1,000 and 20,000 items with a release build.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{mapping, sample_dir};
use sharc_sample::{Portal, PortalOptions, RunningPortal};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The largest file the grown portal serves: many items with files of their own, cheaply.
const MAX_FILE: u64 = 2048;

/// The peak resident memory (KiB) of `sharc crawl` over a portal grown to `items` items with
/// files of their own; the crawl must succeed.
fn crawl_peak_kib(items: usize) -> u64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let grown = Portal::load(&sample_dir())
        .unwrap()
        .grown_with_max_file(items, MAX_FILE);
    let portal = rt
        .block_on(RunningPortal::serve(grown, PortalOptions::default(), 0))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bag");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("sharc"))
        .arg("--quiet")
        .arg("crawl")
        .arg(portal.base_url.to_string())
        .arg("--mapping")
        .arg(mapping())
        .arg("--out")
        .arg(&out)
        .args(["--concurrency", "4"])
        .env_remove("SOURCE_DATE_EPOCH")
        // What the crawl holds, not how many per-thread heaps the C library spreads it over
        // (their number depends on the machine's cores and on timing).
        .env("MALLOC_ARENA_MAX", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut peak = 0;
    let status = loop {
        // VmHWM is the peak so far: read until the last moment the process is there.
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the crawl of {items} items took over 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "crawl of {items} items: {status}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = std::fs::read_to_string(out.join("manifest-sha256.txt")).unwrap();
    assert!(
        manifest.lines().count() > items,
        "every item and its files are in the bag"
    );
    rt.block_on(portal.shutdown());
    assert!(peak > 0, "the crawl's memory could not be read from /proc");
    peak
}

/// `VmHWM:` of a `/proc/<pid>/status`, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_crawl_of_six_times_the_items_peaks_at_about_the_same_memory() {
    let (small, large) = (300, 1800);
    let small_kib = crawl_peak_kib(small);
    let large_kib = crawl_peak_kib(large);
    let per_item = large_kib.saturating_sub(small_kib) as f64 * 1024.0 / (large - small) as f64;
    eprintln!(
        "{small} items: {small_kib} KiB; {large} items: {large_kib} KiB; {per_item:.0} bytes per item"
    );
    // A crawl that held each file's path, URL and digests for the whole run grew by about
    // 5 KB per item here; what is left (fingerprints, allocator slack) is well under 1.5 KB.
    assert!(
        per_item < 1536.0,
        "peak memory grew by {per_item:.0} bytes per item: {small} items peaked at {small_kib} KiB, {large} items at {large_kib} KiB"
    );
}
