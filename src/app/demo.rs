//! `sharc demo`: crawl a portal that is already answering, verify the bag, say where it is.
//!
//! The binary starts the sample portal and passes its URL and the shipped mapping here; the
//! library knows the portal only by its URL, like any other.

use super::Outcome;
use super::crawl::{self, CrawlConfig};
use crate::bundle::zip::BundleFormat;
use crate::error::{Error, io};
use std::path::{Path, PathBuf};

/// What `sharc demo` does.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The running portal's URL, e.g. `http://127.0.0.1:8765/`.
    pub site: String,
    /// The mapping file's name, used in messages.
    pub mapping: PathBuf,
    /// The mapping file's text (the demo's mapping is compiled into the binary).
    pub mapping_text: String,
    /// Where the bag goes (a directory, or a `.zip` when `format` is zip); replaced if there.
    pub out: PathBuf,
    /// A bag directory or a zip.
    pub format: BundleFormat,
    /// `--bagging-date`.
    pub bagging_date: Option<String>,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<String>,
    /// Capture every exchange (`--warc`).
    pub warc: bool,
    /// Write `data/mets.xml` (`--mets`).
    pub mets: bool,
}

/// Crawls `demo.site` into `demo.out` (replacing an old demo bag), verifies the bag and
/// prints where it is and how to check it independently.
pub async fn run(demo: &DemoConfig) -> Result<Outcome, Error> {
    let out = demo.out.as_path();
    let mut cfg = CrawlConfig::new(&demo.site, &demo.mapping, out)?;
    cfg.mapping_text = Some(demo.mapping_text.clone());
    cfg.format = demo.format;
    // A demo always starts afresh: an old demo bag goes, and so does what an interrupted demo
    // left (its portal may have had another port, so it is not resumed).
    let staging = crate::bundle::staging_path(&cfg.bag_dir())?;
    for old in [out, cfg.bag_dir().as_path(), staging.as_path()] {
        remove(old)?;
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    cfg.bagging_date = demo.bagging_date.clone();
    cfg.source_date_epoch = demo.source_date_epoch.clone();
    cfg.quiet = false;
    cfg.warc = demo.warc;
    cfg.mets = demo.mets;
    if demo.warc {
        // The demo's own words, not its arguments (which name the output): two demos of the
        // same date give the same capture, and with requests one at a time the same order.
        cfg.command_line = vec!["sharc".into(), "demo".into(), "--warc".into()];
        cfg.fetch.concurrency = 1;
    }
    let summary = crawl::run(&cfg).await?;
    println!("crawled {}: {}", cfg.site, summary.line());
    let verdict = super::verify::run(&summary.bag)?;
    println!("bag: {}", summary.bag.display());
    let other = match demo.format {
        BundleFormat::Dir => "bagit.py --validate",
        BundleFormat::Zip => "bdbag --validate full",
    };
    println!(
        "check it yourself: sharc verify {}   (or: {other} {})",
        summary.bag.display(),
        summary.bag.display()
    );
    Ok(match (verdict, summary.outcome) {
        (Outcome::Success, o) => o,
        (v, _) => v,
    })
}

/// Removes a file or directory tree, if there is one.
fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).map_err(io(path)),
        Ok(_) => std::fs::remove_file(path).map_err(io(path)),
        Err(_) => Ok(()),
    }
}
