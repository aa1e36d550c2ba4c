//! `sharc serve` and `sharc demo` (binary only): start the sample portal from the
//! `sharc-sample` crate and hand its URL to the library, which knows portals only by URL.

use crate::Stop;
use sharc::app::{self, Outcome};
use sharc::bundle::zip::BundleFormat;
use sharc_sample::{PortalOptions, RunningPortal};
use std::path::{Path, PathBuf};

/// The mapping the demo crawls with: `mappings/tin-tuc-mo-rong.toml`, compiled in so the demo
/// runs wherever the binary is.
const DEMO_MAPPING: &str = include_str!("../mappings/tin-tuc-mo-rong.toml");

/// Its name in messages.
const DEMO_MAPPING_NAME: &str = "mappings/tin-tuc-mo-rong.toml";

/// What `sharc serve` serves.
#[derive(Debug)]
pub struct Serve {
    /// A portal directory; `None` serves the built-in Long An sample.
    pub dir: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Grow the news list to this many items with files of their own (`--items-with-files`).
    pub items_with_files: Option<usize>,
    /// The farm's behaviour switches.
    pub options: PortalOptions,
}

/// What `sharc demo` crawls and where the bag goes.
#[derive(Debug)]
pub struct Demo {
    /// A portal directory; `None` crawls the built-in Long An sample.
    pub dir: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one); records carry the portal's URL, so two demo
    /// bags are byte-identical only when served on the same port.
    pub port: u16,
    /// Where the bag goes; replaced if it exists.
    pub out: PathBuf,
    /// A bag directory or a zip.
    pub format: BundleFormat,
    /// `--bagging-date`.
    pub bagging_date: Option<String>,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<String>,
    /// `--warc`.
    pub warc: bool,
    /// `--mets`.
    pub mets: bool,
}

/// Serves a sample portal until Ctrl-C.
pub async fn serve(serve: Serve) -> Result<(), Stop> {
    let portal = match serve.items_with_files {
        None => start(serve.dir.as_deref(), serve.options, serve.port).await?,
        Some(items) => {
            let loaded = match serve.dir.as_deref() {
                Some(dir) => sharc_sample::Portal::load(dir)?,
                None => sharc_sample::Portal::built_in()?,
            };
            RunningPortal::serve(loaded.grown(items), serve.options, serve.port).await?
        }
    };
    let grown = serve
        .items_with_files
        .map(|n| format!(", grown to {n} items"))
        .unwrap_or_default();
    println!(
        "serving {}{grown} at {}",
        describe(serve.dir.as_deref()),
        portal.base_url
    );
    println!(
        "try: sharc crawl {} --mapping {DEMO_MAPPING_NAME} --out /tmp/stp-bag",
        portal.base_url
    );
    std::future::pending::<()>().await;
    Ok(())
}

/// Serves the sample portal in-process, crawls it with the shipped mapping, verifies the bag.
pub async fn demo(demo: Demo) -> Result<Outcome, Stop> {
    // With a pinned date the portal's clock is pinned too: a capture holds its Date headers.
    let frozen_at = demo
        .bagging_date
        .as_deref()
        .and_then(|d| format!("{d}T00:00:00Z").parse::<jiff::Timestamp>().ok())
        .and_then(|t| u64::try_from(t.as_second()).ok())
        .map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
    let options = PortalOptions {
        frozen_at,
        ..PortalOptions::default()
    };
    let portal = start(demo.dir.as_deref(), options, demo.port).await?;
    let config = app::demo::DemoConfig {
        site: portal.base_url.to_string(),
        mapping: PathBuf::from(DEMO_MAPPING_NAME),
        mapping_text: DEMO_MAPPING.to_owned(),
        out: demo.out,
        format: demo.format,
        bagging_date: demo.bagging_date,
        source_date_epoch: demo.source_date_epoch,
        warc: demo.warc,
        mets: demo.mets,
    };
    let outcome = app::demo::run(&config).await;
    portal.shutdown().await;
    Ok(outcome?)
}

async fn start(
    dir: Option<&Path>,
    options: PortalOptions,
    port: u16,
) -> Result<RunningPortal, Stop> {
    Ok(match dir {
        Some(dir) => RunningPortal::start(dir, options, port).await?,
        None => RunningPortal::start_built_in(options, port).await?,
    })
}

fn describe(dir: Option<&Path>) -> String {
    match dir {
        Some(dir) => dir.display().to_string(),
        None => "the built-in Long An sample".to_owned(),
    }
}
