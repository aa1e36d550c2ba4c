//! `sharc crawl`: a list, read through a source, mapped to records, into a bag.
//!
//! The phases, each a function below: `prepare` (mapping, clock, client), choosing the
//! source (REST when it answers, the public HTML pages when the API is closed), binding the
//! mapping to the list's fields (every naming error surfaces here, before anything is
//! downloaded), resuming what an interrupted run left, the page loop (`archive_page`: map
//! items, fetch their files concurrently with fixity computed on the way, write records),
//! and `finish` (schema, path map, crawl report, bag-info, rename into place).

use super::Outcome;
use super::clock::RunClock;
use crate::bundle::{self, BagInfo, BagWriter, PathPlanner, PayloadPath};
use crate::error::Error;
use crate::fetch::{Client, FetchOptions};
use crate::fixity::Fixity;
use crate::mapping::{ItemContext, MappedItem, Mapping, ResolvedMapping, WantedFile, WantedKind};
use crate::record::{self, FileRef};
use crate::report::{CrawlReport, Failure, Progress, Skipped};
use crate::sharepoint::Shape;
use crate::source::html::{HtmlOptions, HtmlSource};
use crate::source::rest::{RestSource, ShapeChoice};
use crate::source::{RawItem, Source, SourceError};
use crate::text::dates::PortalZone;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use url::Url;

/// Everything `sharc crawl` needs, validated.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// The site URL.
    pub site: Url,
    /// The mapping file.
    pub mapping: PathBuf,
    /// The mapping file's text when it is not read from `mapping` (the demo's mapping is
    /// compiled into the binary); `mapping` then only names it in messages.
    pub mapping_text: Option<String>,
    /// Where the bag goes.
    pub out: PathBuf,
    /// A bag directory, or a zip (`--format zip`, or an `--out` ending in `.zip`).
    pub format: bundle::zip::BundleFormat,
    /// Which source to read from.
    pub source: SourceKind,
    /// JSON shape.
    pub shape: ShapeChoice,
    /// Items per page.
    pub page_size: usize,
    /// HTTP behaviour.
    pub fetch: FetchOptions,
    /// `--bagging-date`.
    pub bagging_date: Option<String>,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: Option<String>,
    /// Extra hosts whose files are archived.
    pub allowed_hosts: Vec<String>,
    /// No progress output.
    pub quiet: bool,
    /// Stop at the first item or file that fails instead of finishing with the rest.
    pub fail_fast: bool,
    /// HTML source: fetch what robots.txt disallows (only with the portal owner's leave).
    pub ignore_robots: bool,
    /// HTML source: list pages read at most.
    pub max_pages: usize,
}

impl CrawlConfig {
    /// A configuration with defaults for everything but the essentials.
    pub fn new(
        site: &str,
        mapping: impl Into<PathBuf>,
        out: impl Into<PathBuf>,
    ) -> Result<Self, Error> {
        let out: PathBuf = out.into();
        Ok(Self {
            site: parse_site_url(site)?,
            mapping: mapping.into(),
            mapping_text: None,
            format: bundle::zip::BundleFormat::for_out(&out),
            out,
            source: SourceKind::Auto,
            shape: ShapeChoice::Auto,
            page_size: 100,
            fetch: FetchOptions::default(),
            bagging_date: None,
            source_date_epoch: None,
            allowed_hosts: Vec::new(),
            quiet: true,
            fail_fast: false,
            ignore_robots: false,
            max_pages: 1000,
        })
    }

    /// The directory the bag is written to: `out` itself, or for a zip a work directory
    /// beside it that is zipped into `out` at the end.
    pub fn bag_dir(&self) -> PathBuf {
        match self.format {
            bundle::zip::BundleFormat::Dir => self.out.clone(),
            bundle::zip::BundleFormat::Zip => bundle::zip::work_dir(&self.out),
        }
    }
}

/// Which source adapter reads the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// REST when it answers; the public HTML pages when the API is closed (401/403/404) and
    /// the mapping has an `[html]` section.
    Auto,
    /// SharePoint REST only.
    Rest,
    /// The public HTML pages only; `/_api` is never asked.
    Html,
}

/// Parses a site URL, adding the trailing slash that joins need.
pub fn parse_site_url(site: &str) -> Result<Url, Error> {
    let mut u = Url::parse(site).map_err(|e| {
        Error::Usage(format!(
            "site URL `{site}`: {e}; give it with its scheme, e.g. https://stp.longan.gov.vn/"
        ))
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::Usage(format!(
            "site URL `{site}`: only http and https are supported"
        )));
    }
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// What a finished crawl reports.
#[derive(Debug, Clone)]
pub struct CrawlSummary {
    /// Where the bag is.
    pub bag: PathBuf,
    /// The crawl report (also inside the bag).
    pub report: CrawlReport,
    /// Wall time.
    pub elapsed: std::time::Duration,
    /// Success, or partial when something failed.
    pub outcome: Outcome,
}

impl CrawlSummary {
    /// The one-line summary printed at the end.
    pub fn line(&self) -> String {
        let c = &self.report.counts;
        format!(
            "{} items, {} files, {}, {} failures, {:.1}s -> {}",
            c.items_archived,
            c.files,
            bundle::human_size(c.file_bytes),
            self.report.failures.len(),
            self.elapsed.as_secs_f64(),
            self.bag.display()
        )
    }
}

/// What every crawl starts from, whichever source it reads.
struct Setup {
    mapping: Mapping,
    zone: PortalZone,
    clock: RunClock,
    client: Client,
    started: Instant,
}

/// Runs a crawl.
pub async fn run(cfg: &CrawlConfig) -> Result<CrawlSummary, Error> {
    let setup = prepare(cfg)?;
    if cfg.source == SourceKind::Html {
        return crawl_html(cfg, setup, None).await;
    }
    let mut rest = RestSource::new(
        setup.client.clone(),
        &cfg.site,
        &setup.mapping.list.title,
        cfg.shape,
    );
    match (cfg.source, rest.probe().await) {
        (_, Ok(shape)) => {
            if shape == Shape::Verbose {
                tracing::info!("the portal answers odata=verbose only");
            }
            crawl_with(cfg, setup, rest).await
        }
        (SourceKind::Auto, Err(SourceError::ApiClosed { status, .. }))
            if setup.mapping.html.is_some() =>
        {
            let why = format!(
                "the REST API is closed (HTTP {status}); reading the public HTML pages instead"
            );
            tracing::warn!("{why}");
            crawl_html(cfg, setup, Some(why)).await
        }
        (SourceKind::Auto, Err(e @ SourceError::ApiClosed { .. })) => {
            tracing::warn!(
                "{} has no [html] section, so sharc cannot read the public pages instead (README: Portals without REST)",
                cfg.mapping.display()
            );
            Err(Error::Source(e))
        }
        (_, Err(e)) => Err(e.into()),
    }
}

/// Crawls through the public HTML pages; `fallback` says why REST was not used.
async fn crawl_html(
    cfg: &CrawlConfig,
    setup: Setup,
    fallback: Option<String>,
) -> Result<CrawlSummary, Error> {
    let Some(html) = &setup.mapping.html else {
        return Err(Error::Usage(format!(
            "{}: reading the public pages needs an [html] section that describes them (README: Portals without REST)",
            cfg.mapping.display()
        )));
    };
    // Hosts the mapping allows are archived from like those given with --allow-host.
    let mut cfg = cfg.clone();
    cfg.allowed_hosts.extend(html.allow_hosts.iter().cloned());
    let opts = HtmlOptions {
        ignore_robots: cfg.ignore_robots,
        max_pages: cfg.max_pages,
        allowed_hosts: cfg.allowed_hosts.clone(),
        concurrency: cfg.fetch.concurrency,
    };
    let mut source = HtmlSource::new(setup.client.clone(), &cfg.site, &setup.mapping, opts)?;
    if let Some(why) = fallback {
        source = source.with_fallback_reason(why);
    }
    crawl_with(&cfg, setup, source).await
}

async fn crawl_with<S: Source>(
    cfg: &CrawlConfig,
    setup: Setup,
    mut source: S,
) -> Result<CrawlSummary, Error> {
    let Setup {
        mapping,
        zone,
        clock,
        client,
        started,
    } = setup;
    let mapping = &mapping;
    let progress = Progress::new(cfg.quiet);
    let schema = source.describe().await?;
    let resolved = ResolvedMapping::new(mapping, &schema)?;
    if cfg.format == bundle::zip::BundleFormat::Zip {
        bundle::zip::clear_stale_work_dir(&cfg.out)?;
    }
    let (writer, kept) = BagWriter::resume(&cfg.bag_dir())?;
    let mut crawl = Crawl {
        cfg,
        fetched_at: clock.stamp(&zone),
        zone,
        clock,
        client,
        writer,
        paths: PathPlanner::new("files"),
        files: BTreeMap::new(),
        done: Default::default(),
        report: CrawlReport {
            sharc_version: env!("CARGO_PKG_VERSION").into(),
            site: cfg.site.to_string(),
            list: resolved.schema.list.title.clone(),
            via: source.via().as_str().into(),
            protocol: source.protocol(),
            ..Default::default()
        },
        progress,
    };
    crawl.restore(kept)?;
    crawl
        .progress
        .set_total(resolved.schema.list.item_count.unwrap_or(0));
    let query = resolved.item_query(cfg.page_size);
    while let Some(items) = source.next_page(&query).await? {
        crawl.archive_page(&resolved, &source, items).await?;
    }
    source.annotate(&mut crawl.report);
    crawl.progress.finish();
    crawl.finish(mapping, &resolved, started)
}

fn prepare(cfg: &CrawlConfig) -> Result<Setup, Error> {
    let started = Instant::now();
    let mapping = match &cfg.mapping_text {
        Some(text) => Mapping::parse(text, &cfg.mapping)?,
        None => Mapping::load(&cfg.mapping)?,
    };
    let zone = PortalZone::new(&mapping.list.time_zone).map_err(|e| Error::Usage(e.to_string()))?;
    let clock = RunClock::from_options(
        cfg.bagging_date.as_deref(),
        cfg.source_date_epoch.as_deref(),
        &zone,
    )?;
    if cfg.out.exists() {
        return Err(Error::Usage(format!(
            "{} already exists: choose another --out, or remove it if it is an old bag you no longer need",
            cfg.out.display()
        )));
    }
    let mut fetch = cfg.fetch.clone();
    fetch
        .redirect_hosts
        .extend(cfg.allowed_hosts.iter().cloned());
    if let Some(html) = &mapping.html {
        fetch
            .redirect_hosts
            .extend(html.allow_hosts.iter().cloned());
    }
    let client = Client::new(&fetch)?;
    Ok(Setup {
        mapping,
        zone,
        clock,
        client,
        started,
    })
}

/// The state of a crawl in progress.
struct Crawl<'a> {
    cfg: &'a CrawlConfig,
    zone: PortalZone,
    clock: RunClock,
    fetched_at: String,
    client: Client,
    writer: BagWriter,
    paths: PathPlanner,
    /// Every file fetched so far: URL → payload path and fixity (or the failure).
    files: BTreeMap<String, Result<(String, Fixity), String>>,
    /// Items whose complete record is already in the bag (from an interrupted run).
    done: std::collections::BTreeSet<i64>,
    report: CrawlReport,
    progress: Progress,
}

/// One download to run.
struct Job {
    url: Url,
    server_path: String,
    payload: PayloadPath,
    dest: PathBuf,
}

/// Journal keys: what each payload file of a staged bag stands for.
const FILE_KEY: &str = "file";
const RECORD_KEY: &str = "record";

impl Crawl<'_> {
    /// Takes over what an interrupted run left in staging: its files (no need to fetch them
    /// again, and their payload names stay as they were) and its complete records.
    fn restore(&mut self, kept: Vec<bundle::journal::JournalEntry>) -> Result<(), Error> {
        if kept.is_empty() {
            return Ok(());
        }
        let mut files = 0;
        for e in kept {
            let mut parts = e.key.split('\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(FILE_KEY), Some(url), Some(server_path)) => {
                    self.paths.assign(server_path, &e.path);
                    self.report.counts.files += 1;
                    self.report.counts.file_bytes += e.fixity.size;
                    self.files
                        .insert(url.to_string(), Ok((format!("data/{}", e.path), e.fixity)));
                    files += 1;
                }
                (Some(RECORD_KEY), Some(id), None) => {
                    if let Ok(id) = id.parse() {
                        self.done.insert(id);
                    }
                }
                _ => {}
            }
        }
        let staging = bundle::staging_path(&self.cfg.out)?;
        tracing::warn!(
            "resuming the unfinished bag in {}: {} records and {files} files already there",
            staging.display(),
            self.done.len()
        );
        Ok(())
    }

    async fn archive_page<S: Source>(
        &mut self,
        resolved: &ResolvedMapping,
        source: &S,
        items: Vec<RawItem>,
    ) -> Result<(), Error> {
        self.report.counts.pages += 1;
        let n_items = items.len();
        let file_url = |p: &str| source.file_url(p);
        let zone = self.zone.clone();
        let fetched_at = self.fetched_at.clone();
        let allowed_hosts = self.cfg.allowed_hosts.clone();
        let ctx = ItemContext {
            site: source.site(),
            zone: &zone,
            fetched_at: &fetched_at,
            via: source.via(),
            file_url: &file_url,
            allowed_hosts: &allowed_hosts,
        };
        let mut mapped: Vec<MappedItem> = Vec::new();
        for item in &items {
            self.report.counts.items_seen += 1;
            if !resolved.wants(item) {
                self.report.counts.items_skipped += 1;
                self.report.skipped.push(Skipped {
                    item_id: item.id,
                    reason: "another content type".into(),
                });
                self.progress.item_done(&self.totals());
                continue;
            }
            if self.done.contains(&item.id) {
                self.report.counts.items_archived += 1;
                self.progress.item_done(&self.totals());
                continue;
            }
            match resolved.apply(item, &ctx) {
                Ok(m) => mapped.push(m),
                Err(e) => {
                    self.fail(Some(item.id), None, e)?;
                    self.progress.item_done(&self.totals());
                }
            }
        }
        self.fetch_files(mapped.iter().flat_map(|m| m.wanted.iter()))
            .await?;
        for m in mapped {
            self.write_record(m)?;
            self.progress.item_done(&self.totals());
        }
        self.progress.page_done(&format!(
            "page {}: {n_items} items; {}",
            self.report.counts.pages,
            self.totals()
        ));
        Ok(())
    }

    fn totals(&self) -> String {
        let c = &self.report.counts;
        format!(
            "{} records, {} files, {}",
            c.items_archived,
            c.files,
            bundle::human_size(c.file_bytes)
        )
    }

    fn fail(
        &mut self,
        item_id: Option<i64>,
        url: Option<String>,
        error: String,
    ) -> Result<(), Error> {
        let f = Failure {
            item_id,
            url,
            error,
        };
        if self.cfg.fail_fast {
            let staging = bundle::staging_path(&self.cfg.out)?;
            return Err(Error::FailFast {
                failure: f.to_string(),
                staging,
            });
        }
        self.progress.note(&format!("failed: {f}"));
        self.report.failures.push(f);
        Ok(())
    }

    /// Fetches every wanted file not fetched yet, concurrently, into the staging bag.
    async fn fetch_files<'w>(
        &mut self,
        wanted: impl Iterator<Item = &'w WantedFile>,
    ) -> Result<(), Error> {
        let mut jobs = Vec::new();
        for w in wanted {
            let key = w.url.to_string();
            if self.files.contains_key(&key) || jobs.iter().any(|j: &Job| j.url == w.url) {
                continue;
            }
            let payload = self.paths.plan(&w.path)?;
            let dest = self.writer.data_path(&payload)?;
            jobs.push(Job {
                url: w.url.clone(),
                server_path: w.path.clone(),
                payload,
                dest,
            });
        }
        let client = self.client.clone();
        let limit = self.cfg.fetch.concurrency.max(1) * 2;
        let mut results = futures::stream::iter(jobs)
            .map(|job| {
                let client = client.clone();
                async move {
                    let r = client.download(&job.url, &job.dest).await;
                    (job, r)
                }
            })
            .buffer_unordered(limit);
        while let Some((job, result)) = results.next().await {
            let key = job.url.to_string();
            match result {
                Ok(fixity) => {
                    self.report.counts.files += 1;
                    self.report.counts.file_bytes += fixity.size;
                    let journal_key = format!("{FILE_KEY}\t{}\t{}", job.url, job.server_path);
                    self.writer
                        .add_file_keyed(&job.payload, fixity.clone(), &journal_key)?;
                    self.files
                        .insert(key, Ok((format!("data/{}", job.payload.as_str()), fixity)));
                }
                Err(e @ crate::fetch::FetchError::Io { .. }) => return Err(e.into()),
                Err(e) => {
                    self.files.insert(key, Err(e.to_string()));
                }
            }
        }
        Ok(())
    }

    /// Fills in the record's files and writes it; a missing file makes the item a failure.
    fn write_record(&mut self, m: MappedItem) -> Result<(), Error> {
        let MappedItem { mut record, wanted } = m;
        let item_id = record.source.item_id;
        let mut failed = false;
        for w in &wanted {
            match self.files.get(w.url.as_str()) {
                Some(Ok((path, fixity))) => {
                    let media = record::media_type_for(path);
                    let file = Some(FileRef::new(path.clone(), fixity, media));
                    match w.kind {
                        WantedKind::Attachment(i) => {
                            if let Some(a) = record.attachments.get_mut(i) {
                                a.file = file;
                            }
                        }
                        WantedKind::Image => {
                            if let Some(img) = record.image.as_mut() {
                                img.file = file;
                            }
                        }
                        WantedKind::BodyImage(i) => {
                            if let Some(img) =
                                record.body.as_mut().and_then(|b| b.images.get_mut(i))
                            {
                                img.file = file;
                            }
                        }
                    }
                }
                Some(Err(e)) => {
                    failed = true;
                    let e = e.clone();
                    self.fail(Some(item_id), Some(w.url.to_string()), e)?;
                }
                None => {}
            }
        }
        let path = PayloadPath::new(&format!("records/{item_id:06}.json"))?;
        // A record with a missing file is not journaled as done: a resumed run retries it.
        let key = if failed {
            String::new()
        } else {
            format!("{RECORD_KEY}\t{item_id}")
        };
        self.writer
            .add_bytes_keyed(&path, &record.to_json(), &key)?;
        self.report.counts.items_archived += 1;
        if failed {
            self.report.counts.items_failed += 1;
        }
        Ok(())
    }

    /// The run's statistics, a tag file outside the payload: requests and retries vary with
    /// the network, and times with the clock, so they stay out of what the payload means.
    /// With a pinned clock the times are left out, so reruns give identical bytes.
    fn run_stats(&self, started: Instant) -> Vec<u8> {
        let mut v = serde_json::json!({
            "sharc_version": env!("CARGO_PKG_VERSION"),
            "http": self.client.stats(),
        });
        if !self.clock.pinned {
            v["started_at"] = self.clock.stamp(&self.zone).into();
            v["finished_at"] = self.zone.format(jiff::Timestamp::now()).into();
            v["seconds"] = (started.elapsed().as_millis() as f64 / 1000.0).into();
        }
        let mut bytes = serde_json::to_vec_pretty(&v).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    fn finish(
        mut self,
        mapping: &Mapping,
        resolved: &ResolvedMapping,
        started: Instant,
    ) -> Result<CrawlSummary, Error> {
        self.report.counts.items_failed += self
            .report
            .failures
            .iter()
            .filter(|f| f.url.is_none())
            .count() as u64;
        self.report.complete = self.report.failures.is_empty();
        self.writer.add_bytes(
            &PayloadPath::new("schema/record.schema.json")?,
            record::schema::SCHEMA_JSON.as_bytes(),
        )?;
        let mut tsv = String::from("original_url\tpayload_path\n");
        for (url, r) in &self.files {
            if let Ok((path, _)) = r {
                tsv.push_str(&format!("{url}\t{path}\n"));
            }
        }
        self.writer
            .add_bytes(&PayloadPath::new("path-map.tsv")?, tsv.as_bytes())?;
        let mut report_json = serde_json::to_vec_pretty(&self.report).unwrap_or_default();
        report_json.push(b'\n');
        self.writer
            .add_bytes(&PayloadPath::new("crawl-report.json")?, &report_json)?;

        let host = crate::mapping::apply::host_key(&self.cfg.site);
        let date = self.clock.date(&self.zone);
        let mut info = BagInfo {
            source_organization: Some(
                mapping
                    .bag
                    .source_organization
                    .clone()
                    .unwrap_or_else(|| host.clone()),
            ),
            external_identifier: Some(format!(
                "urn:sharc:{host}:{}:{date}",
                resolved.schema.list.id
            )),
            external_description: mapping.bag.external_description.clone(),
            bagging_date: date.parse().ok(),
            software_agent: Some(format!("sharc/{}", env!("CARGO_PKG_VERSION"))),
            ..Default::default()
        };
        if let Some(c) = &mapping.bag.contact_name {
            info.extra.push(("Contact-Name".into(), c.clone()));
        }
        if let Some(c) = &mapping.bag.contact_email {
            info.extra.push(("Contact-Email".into(), c.clone()));
        }
        info.extra
            .push(("Source-URL".into(), self.cfg.site.to_string()));
        let status = if self.report.complete {
            "complete".to_string()
        } else {
            format!(
                "partial: {} failure(s), listed in data/crawl-report.json",
                self.report.failures.len()
            )
        };
        info.extra.push(("Sharc-Crawl-Status".into(), status));
        info.tag_files
            .push(("sharc-run.json".into(), self.run_stats(started)));
        info.extra.push((
            "BagIt-Profile-Identifier".into(),
            bundle::profile::PROFILE_IDENTIFIER.into(),
        ));
        info.tag_files.push((
            bundle::profile::PROFILE_TAG_FILE.into(),
            bundle::profile::PROFILE_JSON.into(),
        ));
        let zip_date = info.bagging_date.unwrap_or_default();
        let mut finished = self.writer.finish(info)?;
        if self.cfg.format == bundle::zip::BundleFormat::Zip {
            bundle::zip::replace_dir_with_zip(&finished.path, &self.cfg.out, zip_date)?;
            finished.path = self.cfg.out.clone();
        }
        let outcome = if self.report.complete {
            Outcome::Success
        } else {
            Outcome::Partial
        };
        Ok(CrawlSummary {
            bag: finished.path,
            report: self.report,
            elapsed: started.elapsed(),
            outcome,
        })
    }
}
