//! Crawl throughput and memory against a synthetic portal on loopback.
//!
//! Builds portals of growing size from the bundled sample (its 31 items repeated under new
//! ids, each with its attachments at its own URL), serves each on 127.0.0.1, crawls it with
//! the release binary and reports wall time, items and files per second, and the crawler's
//! peak resident memory (VmHWM). Memory should stay flat as the list grows: items are
//! processed a page at a time and files are streamed to disk.
//!
//! Run with `cargo bench --bench crawl` (add `-- 310 3100 9300` to choose sizes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use sharc_sample::{PortalOptions, RunningPortal};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![310, 1550, 4650]
    } else {
        sizes
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:>7} {:>7} {:>9} {:>10} {:>10} {:>12}",
        "items", "files", "seconds", "items/s", "MB/s", "peak RSS"
    );
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let portal_dir = synthetic_portal(dir.path(), n);
        let portal = rt
            .block_on(RunningPortal::start(
                &portal_dir,
                PortalOptions::default(),
                0,
            ))
            .unwrap();
        let out = dir.path().join("bag");
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sharc"))
            .args(["crawl", portal.base_url.as_str(), "--mapping"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/tin-tuc-mo-rong.toml"))
            .arg("--out")
            .arg(&out)
            .args(["--concurrency", "8", "--quiet", "--source", "rest"])
            .spawn()
            .unwrap();
        let status_file = format!("/proc/{}/status", child.id());
        let mut peak_kib = 0u64;
        let status = loop {
            if let Ok(text) = std::fs::read_to_string(&status_file) {
                peak_kib = peak_kib.max(vm_hwm(&text));
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let secs = started.elapsed().as_secs_f64();
        assert!(status.success(), "crawl of {n} items failed");
        let report: Value =
            serde_json::from_slice(&std::fs::read(out.join("data/crawl-report.json")).unwrap())
                .unwrap();
        let files = report["counts"]["files"].as_u64().unwrap();
        let bytes = report["counts"]["file_bytes"].as_u64().unwrap();
        println!(
            "{:>7} {:>7} {:>9.2} {:>10.0} {:>10.2} {:>9} KiB",
            report["counts"]["items_archived"],
            files,
            secs,
            n as f64 / secs,
            bytes as f64 / 1e6 / secs,
            peak_kib
        );
        rt.block_on(portal.shutdown());
    }
}

fn vm_hwm(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The sample portal with its news items repeated up to `n` items.
fn synthetic_portal(root: &Path, n: usize) -> PathBuf {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/long-an-stp");
    let dst = root.join("portal");
    copy_dir(&sample, &dst);
    let items_dir = dst.join("lists/TinTucSuKien/items");
    let templates: Vec<Value> = (1..=31)
        .map(|i| {
            serde_json::from_slice(&std::fs::read(items_dir.join(format!("{i:04}.json"))).unwrap())
                .unwrap()
        })
        .collect();
    for id in 32..=n {
        let mut item = templates[(id - 1) % templates.len()].clone();
        item["Id"] = id.into();
        item["ID"] = id.into();
        item["GUID"] = format!("00000000-0000-4000-8000-{id:012}").into();
        std::fs::write(
            items_dir.join(format!("{id:04}.json")),
            serde_json::to_vec(&item).unwrap(),
        )
        .unwrap();
    }
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}
