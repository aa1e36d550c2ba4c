//! `sharc demo` and `sharc serve`: the bundled sample portal, served on loopback.

use super::Outcome;
use super::crawl::{self, CrawlConfig};
use crate::bundle::zip::BundleFormat;
use crate::error::{Error, io};
use crate::sample::{PortalOptions, RunningPortal};
use std::path::{Path, PathBuf};

/// Serves a sample portal until Ctrl-C.
pub async fn serve(dir: &Path, opts: PortalOptions, port: u16) -> Result<(), Error> {
    let portal = RunningPortal::start(&resolve_sample_dir(dir), opts, port).await?;
    println!("serving {} at {}", dir.display(), portal.base_url);
    println!(
        "try: sharc crawl {} --mapping mappings/tin-tuc-mo-rong.toml --out /tmp/stp-bag",
        portal.base_url
    );
    std::future::pending::<()>().await;
    Ok(())
}

/// What `sharc demo` does.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The sample portal directory.
    pub sample_dir: PathBuf,
    /// Where the bag goes (a directory, or a `.zip` when `format` is zip); replaced if there.
    pub out: PathBuf,
    /// A bag directory or a zip.
    pub format: BundleFormat,
    /// Port for the portal on 127.0.0.1; 0 picks a free one. Records carry the portal's URL,
    /// so two demo bags are byte-identical only when served on the same port.
    pub port: u16,
    /// `--bagging-date`.
    pub bagging_date: Option<String>,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<String>,
}

/// Serves the sample portal in-process, crawls it into `out` (replacing an old demo bag),
/// verifies the bag and prints where it is.
pub async fn run(demo: &DemoConfig) -> Result<Outcome, Error> {
    let dir = resolve_sample_dir(&demo.sample_dir);
    let portal = RunningPortal::start(&dir, PortalOptions::default(), demo.port).await?;
    let out = demo.out.as_path();
    match std::fs::symlink_metadata(out) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(out).map_err(io(out))?,
        Ok(_) => std::fs::remove_file(out).map_err(io(out))?,
        Err(_) => {}
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mapping = resolve_sample_dir(Path::new("mappings/tin-tuc-mo-rong.toml"));
    let mut cfg = CrawlConfig::new(portal.base_url.as_str(), mapping, out)?;
    cfg.format = demo.format;
    cfg.bagging_date = demo.bagging_date.clone();
    cfg.source_date_epoch = demo.source_date_epoch.clone();
    cfg.quiet = false;
    let summary = crawl::run(&cfg).await?;
    portal.shutdown().await;
    println!("crawled the sample portal: {}", summary.line());
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

/// A path relative to the working directory when it exists there, else relative to the
/// source tree sharc was built from (so `cargo run -- demo` works from any directory).
fn resolve_sample_dir(p: &Path) -> PathBuf {
    if p.exists() || p.is_absolute() {
        return p.to_path_buf();
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
    if built.exists() {
        built
    } else {
        p.to_path_buf()
    }
}
