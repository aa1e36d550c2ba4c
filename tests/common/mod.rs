//! Shared test helpers: the sample portal on loopback, crawls, reading bags.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use sharc_sample::{PortalOptions, RunningPortal};
use std::path::{Path, PathBuf};
use tokio::runtime::Runtime;

/// The repository's sample portal.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/long-an-stp")
}

/// The shipped mapping.
pub fn mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/tin-tuc-mo-rong.toml")
}

/// The sample portal served on 127.0.0.1 for the length of a test.
pub struct Portal {
    pub rt: Runtime,
    pub portal: Option<RunningPortal>,
}

impl Portal {
    pub fn start(opts: PortalOptions) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let portal = rt
            .block_on(RunningPortal::start(&sample_dir(), opts, 0))
            .unwrap();
        Self {
            rt,
            portal: Some(portal),
        }
    }

    pub fn url(&self) -> String {
        self.portal.as_ref().unwrap().base_url.to_string()
    }

    pub fn requests(&self) -> Vec<sharc_sample::RequestLog> {
        self.portal.as_ref().unwrap().requests()
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        if let Some(p) = self.portal.take() {
            self.rt.block_on(p.shutdown());
        }
    }
}

/// Runs the `sharc` binary.
pub fn sharc() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("sharc").unwrap();
    c.env_remove("SOURCE_DATE_EPOCH")
        .env_remove("SHARC_BAGGING_DATE")
        .env("NO_COLOR", "1");
    c
}

/// `sharc crawl <portal> --mapping <mapping> --out <out>`, ready for more arguments.
pub fn crawl_cmd(portal: &Portal, mapping: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = sharc();
    c.arg("crawl")
        .arg(portal.url())
        .arg("--mapping")
        .arg(mapping)
        .arg("--out")
        .arg(out);
    c
}

/// `sharc verify <bag>`, run.
pub fn verify(bag: &Path) -> assert_cmd::assert::Assert {
    sharc().arg("verify").arg(bag).assert()
}

/// The bag's crawl report.
pub fn report(bag: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(bag.join("data/crawl-report.json")).unwrap()).unwrap()
}

/// Every record of a bag, by item id.
pub fn records(bag: &Path) -> std::collections::BTreeMap<i64, Value> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(bag.join("data/records")).unwrap() {
        let p = e.unwrap().path();
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        out.insert(v["source"]["item_id"].as_i64().unwrap(), v);
    }
    out
}

/// The raw item JSON of the sample portal.
pub fn sample_item(id: i64) -> Value {
    let p = sample_dir().join(format!("lists/TinTucSuKien/items/{id:04}.json"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// sha256 of a file, hex.
pub fn sha256_file(p: &Path) -> String {
    sharc::fixity::of_bytes(&std::fs::read(p).unwrap()).sha256
}

/// Sends Ctrl-C (SIGINT) to a running `sharc` and waits for it; returns its exit code and
/// what it wrote on stderr.
pub fn interrupt(child: std::process::Child) -> (Option<i32>, String) {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -INT {pid}");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

/// Waits until the crawl's journal in `staging` holds at least `entries` entries, or the crawl
/// has ended; polls, so that the moment depends on the crawl's progress, not on the clock.
pub fn wait_for_journal(staging: &Path, entries: usize, child: &mut std::process::Child) {
    let journal = staging.join(sharc::bundle::journal::JOURNAL_NAME);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        // Entries only: the journal's first line is the crawl's identity, not a file.
        let lines = sharc::bundle::journal::read(&journal)
            .map(|j| j.entries.len())
            .unwrap_or(0);
        if lines >= entries || child.try_wait().unwrap().is_some() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the crawl journaled {lines} of {entries} entries in two minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
