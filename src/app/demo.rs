//! `sharc demo` and `sharc serve`: the bundled sample portal, served on loopback.

use super::Outcome;
use super::crawl::{self, CrawlConfig};
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

/// Serves the sample portal in-process, crawls it into `out` (replacing an old demo bag),
/// verifies the bag and prints where it is.
pub async fn run(sample_dir: &Path, out: &Path) -> Result<Outcome, Error> {
    let dir = resolve_sample_dir(sample_dir);
    let portal = RunningPortal::start(&dir, PortalOptions::default(), 0).await?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(io(out))?;
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mapping = resolve_sample_dir(Path::new("mappings/tin-tuc-mo-rong.toml"));
    let mut cfg = CrawlConfig::new(portal.base_url.as_str(), mapping, out)?;
    cfg.quiet = false;
    let summary = crawl::run(&cfg).await?;
    portal.shutdown().await;
    println!("crawled the sample portal: {}", summary.line());
    let verdict = super::verify::run(&summary.bag)?;
    println!("bag: {}", summary.bag.display());
    println!(
        "check it yourself: sharc verify {}   (or: bagit.py --validate {})",
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
