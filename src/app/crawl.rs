//! `sharc crawl`: a list, read through a source, mapped to records, into a bag.
//!
//! The phases, each a function below: `prepare` (mapping, clock, client, and the lock on the
//! output, so a second run into the same `--out` stops before it fetches anything), choosing
//! the source (REST when it answers, `Lists.asmx` on SharePoint 2010, the public HTML pages
//! when the API is closed), binding
//! the mapping to the list's fields (every naming error surfaces here, before anything is
//! downloaded), resuming what an interrupted run of the same crawl left (another crawl's is
//! refused), the page loop (`start_page`: map items, start fetching their files concurrently
//! with fixity computed on the way; `archive_page`: add the files to the bag, write records,
//! while the next page is read and its files download), and `finish` (schema, path map, crawl
//! report, bag-info, rename into place).

use super::Outcome;
use super::clock::RunClock;
use crate::bundle::{self, BagWriter, CrawlDescription, PayloadPath, Staging};
use crate::capture::{self, Capture};
use crate::error::Error;
use crate::fetch::{AllowedHost, Client, FetchError, FetchOptions, Scope};
use crate::files::{self, FileError, Files, KnownFile, RunIdentity};
use crate::mapping::{ItemContext, MappedItem, Mapping, ResolvedMapping};
use crate::record;
use crate::report::{
    CrawlReport, Failure, FailureCode, Progress, RefusedUrl, SkipCode, Skipped, words,
};
use crate::sharepoint::Shape;
use crate::source::facts::Fallback;
use crate::source::html::{HtmlOptions, HtmlSource};
use crate::source::rest::{RestSource, ShapeChoice};
use crate::source::soap::SoapSource;
use crate::source::{IdSet, RawItem, Source, SourceError};
use crate::state::Increment;
use crate::state::increment::{DELETIONS, ItemFile, REFERENCES};
use crate::text::dates::PortalZone;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use url::Url;

/// Everything `sharc crawl` needs, validated.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// The site URL.
    pub site: Url,
    /// The mapping file.
    pub mapping: PathBuf,
    /// The list to read instead of the mapping's `[list] title` (`--list`).
    pub list_title: Option<String>,
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
    /// Hosts besides the site's own whose pages and files may be fetched (`--allow-host`).
    pub allowed_hosts: Vec<AllowedHost>,
    /// No progress output.
    pub quiet: bool,
    /// Stop at the first item or file that fails instead of finishing with the rest.
    pub fail_fast: bool,
    /// HTML source: fetch what robots.txt disallows (only with the portal owner's leave).
    pub ignore_robots: bool,
    /// HTML source: list pages read at most.
    pub max_pages: usize,
    /// Keep every HTTP exchange as WARC records in `data/capture/` (`--warc`; the mapping's
    /// `[bag] warc` also turns it on).
    pub warc: bool,
    /// The size at which a WARC file is closed and the next begun (`--warc-file-size`).
    pub warc_file_size: u64,
    /// The command line as given, for the capture's `warcinfo` (secrets are removed there).
    pub command_line: Vec<String>,
    /// Describe the bag in `data/mets.xml` (`--mets`; the mapping's `[bag] mets` also turns
    /// it on).
    pub mets: bool,
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
            list_title: None,
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
            warc: false,
            warc_file_size: crate::capture::FILE_SIZE,
            command_line: Vec::new(),
            mets: false,
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
    /// REST when it answers; `Lists.asmx` when `/_api` answers 404 (SharePoint 2010) and the
    /// SOAP service answers; the public HTML pages when neither does (401/403/404) and the
    /// mapping has an `[html]` section.
    Auto,
    /// SharePoint REST only.
    Rest,
    /// The public HTML pages only; `/_api` is never asked.
    Html,
    /// SharePoint 2010's SOAP web service (`/_vti_bin/Lists.asmx`) only.
    Soap,
}

/// Parses a site URL, adding the trailing slash that joins need. A URL with a user name or
/// password is refused: sharc does not send passwords, least of all over plain HTTP, and
/// never prints or stores them.
pub fn parse_site_url(site: &str) -> Result<Url, Error> {
    let mut u = Url::parse(site).map_err(|e| {
        Error::Usage(format!(
            "site URL `{}`: {e}; give it with its scheme, e.g. https://stp.longan.gov.vn/",
            redact_userinfo(site)
        ))
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::Usage(format!(
            "site URL `{}`: only http and https are supported",
            crate::fetch::redact(&u)
        )));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::Usage(format!(
            "site URL `{}` carries a user name or password: sharc takes no password in a URL or on the command line: give the URL without `user:password@` and sign in with the authentication options (--auth, the password in an environment variable or a file; README: Authentication)",
            crate::fetch::redact(&u)
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

/// `site` with anything between `://` and an `@` in its authority blanked, for a URL too
/// broken to parse.
fn redact_userinfo(site: &str) -> String {
    let Some((scheme, rest)) = site.split_once("://") else {
        return site.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
        None => site.to_string(),
    }
}

/// What to tell the user when Ctrl-C stopped a crawl: how to resume it.
pub fn interrupted(cfg: &CrawlConfig) -> String {
    let staging = bundle::staging_path(&cfg.bag_dir()).ok();
    match staging.filter(|s| s.exists()) {
        Some(s) => format!(
            "what was complete is kept in {}; run the same command again to resume",
            s.display()
        ),
        None => "nothing was kept yet; run the same command again to resume".into(),
    }
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
    /// Payload files in the bag: records, attachments and images, and the crawl's own files.
    pub payload_files: u64,
    /// Success, or partial when something failed.
    pub outcome: Outcome,
    /// A backup run's changes, handed back with the state they leave.
    pub increment: Option<Increment>,
    /// Whether a bag was written: a backup run that found nothing changed writes none.
    pub written: bool,
    /// Files not fetched again because an earlier bundle of a backup holds them unchanged.
    pub files_referenced: u64,
}

impl CrawlSummary {
    /// The one-line summary printed at the end.
    pub fn line(&self) -> String {
        self.report
            .summary_line(self.elapsed, &self.bag, self.payload_files)
    }
}

/// What every crawl starts from before its output is locked.
pub(crate) struct Opened {
    pub(crate) mapping: Mapping,
    /// The mapping file's text, whose hash is part of the run's identity.
    pub(crate) mapping_text: String,
    pub(crate) zone: PortalZone,
    pub(crate) clock: RunClock,
    pub(crate) client: Client,
    started: Instant,
}

/// What every crawl starts from, whichever source it reads.
pub(crate) struct Setup {
    mapping: Mapping,
    /// The mapping file's text, whose hash is part of the run's identity.
    mapping_text: String,
    /// The staging directory, locked for this run.
    staging: Staging,
    zone: PortalZone,
    clock: RunClock,
    client: Client,
    /// The capture of every exchange, with `--warc`.
    capture: Option<Capture>,
    started: Instant,
}

/// Runs a crawl.
pub async fn run(cfg: &CrawlConfig) -> Result<CrawlSummary, Error> {
    let setup = prepare(cfg)?;
    probe(&setup.client, &cfg.site).await?;
    let content_type = setup.mapping.list.content_type.clone();
    run_with(cfg, setup)
        .await
        .map_err(|e| with_content_type(e, content_type))
}

/// A list that is not found is reported with the lists the site has, those holding the
/// mapping's content type first.
pub fn with_content_type(mut e: Error, wanted: Option<String>) -> Error {
    if let Error::Source(SourceError::ListNotFound { content_type, .. }) = &mut e
        && content_type.is_none()
    {
        *content_type = wanted;
    }
    e
}

async fn run_with(cfg: &CrawlConfig, setup: Setup) -> Result<CrawlSummary, Error> {
    match cfg.source {
        SourceKind::Html => return crawl_html(cfg, setup, None).await,
        SourceKind::Soap => {
            let mut soap =
                SoapSource::new(setup.client.clone(), &cfg.site, &setup.mapping.list.title)?;
            soap.probe().await?;
            return crawl_with(cfg, setup, soap).await;
        }
        SourceKind::Auto | SourceKind::Rest => {}
    }
    let mut rest = RestSource::new(
        setup.client.clone(),
        &cfg.site,
        &setup.mapping.list.title,
        cfg.shape,
    );
    let probed = rest.probe().await;
    // SharePoint 2010 has no /_api at all: its lists answer over SOAP.
    if cfg.source == SourceKind::Auto
        && matches!(probed, Err(SourceError::ApiClosed { status: 404, .. }))
        && let Some(soap) = soap_answers(cfg, &setup).await?
    {
        let why = Fallback::ListsAsmx { status: 404 };
        tracing::warn!("{}", crate::report::words::fallback(&why));
        return crawl_with(cfg, setup, soap.with_fallback(why)).await;
    }
    match (cfg.source, probed) {
        (_, Ok(shape)) => {
            if shape == Shape::Verbose {
                tracing::info!("the portal answers odata=verbose only");
            }
            crawl_with(cfg, setup, rest).await
        }
        (SourceKind::Auto, Err(SourceError::ApiClosed { status, .. }))
            if setup.mapping.html.is_some() =>
        {
            let why = Fallback::ApiClosed { status };
            tracing::warn!("{}", crate::report::words::fallback(&why));
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

/// The SOAP source when `Lists.asmx` answers (SharePoint 2010), `None` when it does not.
async fn soap_answers(cfg: &CrawlConfig, setup: &Setup) -> Result<Option<SoapSource>, Error> {
    let mut soap = SoapSource::new(setup.client.clone(), &cfg.site, &setup.mapping.list.title)?;
    match soap.probe().await {
        Ok(()) => Ok(Some(soap)),
        Err(e @ SourceError::SoapClosed { .. }) => {
            tracing::warn!("{e}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Crawls through the public HTML pages; `fallback` says why REST was not used.
async fn crawl_html(
    cfg: &CrawlConfig,
    setup: Setup,
    fallback: Option<Fallback>,
) -> Result<CrawlSummary, Error> {
    let Some(html) = &setup.mapping.html else {
        return Err(Error::NoHtmlLayout(cfg.mapping.clone()));
    };
    let opts = HtmlOptions {
        ignore_robots: cfg.ignore_robots,
        max_pages: cfg.max_pages,
        concurrency: cfg.fetch.concurrency,
        read_ahead: setup.capture.is_none(),
    };
    let mut source = HtmlSource::new(setup.client.clone(), &cfg.site, html, opts)?;
    if let Some(why) = fallback {
        source = source.with_fallback(why);
    }
    crawl_with(cfg, setup, source).await
}

async fn crawl_with<S: Source>(
    cfg: &CrawlConfig,
    setup: Setup,
    source: S,
) -> Result<CrawlSummary, Error> {
    crawl_source(cfg, setup, source, None).await
}

/// Crawls `source` with `setup`; a backup run hands over its `increment`, which decides
/// which records go into the bag and is handed back in the summary.
pub(crate) async fn crawl_source<S: Source>(
    cfg: &CrawlConfig,
    setup: Setup,
    mut source: S,
    increment: Option<Increment>,
) -> Result<CrawlSummary, Error> {
    let Setup {
        mapping,
        mapping_text,
        staging,
        zone,
        clock,
        client,
        capture,
        started,
    } = setup;
    let mapping = &mapping;
    let progress = Progress::new(cfg.quiet);
    let schema = source.describe().await?;
    let resolved = ResolvedMapping::new(mapping, &schema)?;
    // Resume only what this crawl left: the same site, list and mapping.
    let identity = RunIdentity::new(&cfg.site, &resolved.schema.list.id, &mapping_text);
    identity.check(staging.dir(), staging.header(), staging.has_files())?;
    let (writer, kept) = staging.resume(&identity.header())?;
    let mut crawl = Crawl {
        increment,
        cfg,
        fetched_at: clock.stamp(&zone),
        zone,
        clock,
        files: Files::new(client.clone(), cfg.fetch.concurrency, &cfg.site),
        client,
        capture,
        writer,
        done: BTreeSet::new(),
        ids: IdSet::new(),
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
    crawl.resume(&kept)?;
    crawl.know_earlier_files();
    crawl
        .progress
        .set_total(resolved.schema.list.item_count.unwrap_or(0));
    let query = resolved.item_query(cfg.page_size);
    // A capture keeps its records in the order the exchanges happen: reading ahead would make
    // that order, and so the bag, differ from run to run.
    let read_ahead = crawl.capture.is_none();
    // The page whose files are downloading.
    let mut downloading: Option<Page> = None;
    let mut next = source.next_page(&query).await;
    loop {
        let started = match next {
            Ok(Some(items)) => crawl.start_page(&resolved, &source, &items).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e.into()),
        };
        let page = match started {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) => {
                // What was fetched goes into the bag before the crawl stops.
                if let Some(last) = downloading.take() {
                    crawl
                        .archive_page(last)
                        .await
                        .map_err(|e| crawl.sign_in_lost(e))?;
                }
                return Err(crawl.sign_in_lost(e));
            }
        };
        if !read_ahead {
            crawl
                .archive_page(page)
                .await
                .map_err(|e| crawl.sign_in_lost(e))?;
            next = source.next_page(&query).await;
            continue;
        }
        // This page's files download while the last page goes into the bag and the next
        // page is read.
        let last = downloading.replace(page);
        let archive_last = async {
            match last {
                Some(last) => crawl.archive_page(last).await,
                None => Ok(()),
            }
        };
        let (archived, read) = tokio::join!(archive_last, source.next_page(&query));
        archived.map_err(|e| crawl.sign_in_lost(e))?;
        next = read;
    }
    if let Some(last) = downloading.take() {
        crawl
            .archive_page(last)
            .await
            .map_err(|e| crawl.sign_in_lost(e))?;
    }
    crawl.report.add_source_facts(source.facts());
    crawl.progress.finish();
    crawl.finish(mapping, &resolved, started)
}

/// Opens and locks the output; with `--warc`, every exchange from here on is captured
/// (a crawl's client has made none yet).
fn prepare(cfg: &CrawlConfig) -> Result<Setup, Error> {
    let mut setup = open(cfg)?.lock(cfg)?;
    setup.capture = open_capture(
        cfg,
        &setup.mapping,
        &setup.mapping_text,
        &setup.staging,
        &setup.clock,
        &setup.zone,
    )?;
    if let Some(c) = &setup.capture {
        setup.client = setup.client.clone().with_observer(Arc::new(c.clone()));
    }
    Ok(setup)
}

/// Reads the mapping, sets the clock and builds the client; nothing is locked or written.
pub(crate) fn open(cfg: &CrawlConfig) -> Result<Opened, Error> {
    let started = Instant::now();
    let mapping_text = match &cfg.mapping_text {
        Some(text) => text.clone(),
        None => Mapping::read(&cfg.mapping)?,
    };
    let mut mapping = load_mapping(&mapping_text, &cfg.mapping)?;
    if let Some(title) = &cfg.list_title {
        mapping = mapping.with_list_title(title);
    }
    let zone = mapping.zone.clone();
    let clock = RunClock::from_options(
        cfg.bagging_date.as_deref(),
        cfg.source_date_epoch.as_deref(),
        &zone,
    )?;
    let mut fetch = cfg.fetch.clone();
    fetch.scope = scope(cfg, &mapping)?;
    let client = Client::new(&fetch)?;
    Ok(Opened {
        mapping,
        mapping_text,
        zone,
        clock,
        client,
        started,
    })
}

impl Opened {
    /// Locks the output `cfg.out` for this run: a second run stops here, before anything
    /// is fetched.
    pub(crate) fn lock(self, cfg: &CrawlConfig) -> Result<Setup, Error> {
        if cfg.out.exists() {
            return Err(Error::OutputExists(cfg.out.clone()));
        }
        if cfg.format == bundle::zip::BundleFormat::Zip {
            bundle::zip::clear_stale_work_dir(&cfg.out)?;
        }
        let staging = BagWriter::lock(&cfg.bag_dir())?;
        Ok(Setup {
            mapping: self.mapping,
            mapping_text: self.mapping_text,
            staging,
            zone: self.zone,
            clock: self.clock,
            client: self.client,
            capture: None,
            started: self.started,
        })
    }
}

/// How long the first look at the site may take before the crawl goes on regardless.
const PROBE_WITHIN: std::time::Duration = std::time::Duration::from_secs(4);

/// One look at the site before the crawl settles in to retry for minutes: a site that cannot
/// be reached as its URL gives it (nothing on the port, an unknown host, https to a plain
/// HTTP port) or that is not there (404) stops the run at once, saying what to check.
///
/// A crawl that signs in skips it: a sign-in (NTLM's above all) belongs to the connection
/// and the requests that follow, and its first request is the crawl's own.
pub(crate) async fn probe(client: &Client, site: &Url) -> Result<(), Error> {
    if client.auth_method() != crate::fetch::AuthMethod::Anonymous {
        return Ok(());
    }
    match client.probe(site, PROBE_WITHIN).await {
        Err(FetchError::Status {
            status: 404, url, ..
        }) => Err(Error::SiteNotFound(url)),
        Err(e @ FetchError::Unreachable { .. }) => Err(e.into()),
        _ => Ok(()),
    }
}

/// The mapping, or every problem it has at once, each with its line and column.
fn load_mapping(text: &str, path: &std::path::Path) -> Result<Mapping, Error> {
    let checked = crate::mapping::check::check_text(text, path);
    match checked.mapping {
        Some(m) if checked.problems.is_empty() => Ok(m),
        _ => Err(Error::MappingProblems {
            path: path.to_path_buf(),
            lines: checked
                .problems
                .iter()
                .map(|p| {
                    crate::report::mapping_check::problem_line(
                        path,
                        p.line,
                        p.column,
                        p.code.as_str(),
                        &p.message,
                    )
                })
                .collect(),
        }),
    }
}

/// The capture of every exchange, when `--warc` or the mapping's `[bag] warc` asks for it,
/// continuing what an interrupted run of the crawl captured. A run resumed with the other
/// choice is refused: its capture would miss the exchanges of the first run, or the first
/// run's would have no place in the bag.
fn open_capture(
    cfg: &CrawlConfig,
    mapping: &Mapping,
    mapping_text: &str,
    staging: &Staging,
    clock: &RunClock,
    zone: &PortalZone,
) -> Result<Option<Capture>, Error> {
    let wanted = cfg.warc || mapping.bag.warc;
    let dir = staging
        .dir()
        .join(bundle::RUN_DIR)
        .join(capture::PAYLOAD_DIR);
    let kept = dir.exists();
    match (wanted, kept, staging.has_files()) {
        (false, true, _) => {
            return Err(Error::Usage(format!(
                "the interrupted crawl in {} kept a capture of its exchanges: resume it with --warc, as it was started",
                staging.dir().display()
            )));
        }
        (true, false, true) => {
            return Err(Error::Usage(format!(
                "the interrupted crawl in {} was started without --warc: resume it without --warc, or remove that directory to start afresh with a capture",
                staging.dir().display()
            )));
        }
        (false, false, _) => return Ok(None),
        (true, _, _) => {}
    }
    let info = capture::CaptureInfo {
        command_line: capture::command_line(&cfg.command_line),
        mapping_sha256: crate::fixity::of_bytes(mapping_text.as_bytes()).sha256,
        bagging_date: clock.date(zone),
    };
    let utc = clock.instant.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let pinned = clock.pinned.then(|| utc.clone());
    Ok(Some(Capture::open(
        &dir,
        cfg.warc_file_size,
        &info,
        &utc,
        pinned,
    )?))
}

/// What the crawl may fetch: the site's origin, the hosts `--allow-host` names and those the
/// mapping's `[html] allow_hosts` names.
fn scope(cfg: &CrawlConfig, mapping: &Mapping) -> Result<Scope, Error> {
    let mut allowed = cfg.allowed_hosts.clone();
    for h in mapping.html.iter().flat_map(|h| h.allow_hosts.iter()) {
        let host = AllowedHost::parse(h).map_err(|e| {
            Error::Usage(format!(
                "{}: [html] allow_hosts: {e}",
                cfg.mapping.display()
            ))
        })?;
        allowed.push(host);
    }
    Ok(Scope::new(&cfg.site, &allowed))
}

/// A page of items mapped, its files downloading.
struct Page {
    mapped: Vec<MappedItem>,
    /// Items the page held, mapped or not.
    items: usize,
    files: files::InFlight,
}

/// The state of a crawl in progress.
struct Crawl<'a> {
    /// A backup run's changes (none for a crawl).
    increment: Option<Increment>,
    cfg: &'a CrawlConfig,
    zone: PortalZone,
    clock: RunClock,
    fetched_at: String,
    client: Client,
    capture: Option<Capture>,
    writer: BagWriter,
    files: Files,
    /// Items whose complete record is already in the bag (from an interrupted run).
    done: BTreeSet<i64>,
    /// Item ids met so far in this run, to tell a duplicate.
    ids: IdSet,
    report: CrawlReport,
    progress: Progress,
}

impl Crawl<'_> {
    /// Takes over what an interrupted run left in staging.
    fn resume(&mut self, kept: &[bundle::journal::JournalEntry]) -> Result<(), Error> {
        if kept.is_empty() {
            return Ok(());
        }
        let resumed = self.files.resume(kept);
        self.done = resumed.records;
        self.count_files();
        tracing::warn!(
            "resuming the unfinished bag in {}: {} records and {} files already there",
            self.writer.staging_dir().display(),
            self.done.len(),
            resumed.files
        );
        Ok(())
    }

    /// Hands the files step the files earlier bundles of a backup hold.
    fn know_earlier_files(&mut self) {
        let Some(inc) = &self.increment else { return };
        let known = inc.known_files().map(|(url, f)| {
            let file = KnownFile {
                path: f.path.clone(),
                fixity: f.fixity(),
                validators: f.validators.clone(),
                bundle: f.bundle.clone(),
            };
            (url.clone(), file)
        });
        self.files.know(known);
    }

    /// Copies the files step's counts into the report.
    fn count_files(&mut self) {
        let c = self.files.counts();
        self.report.counts.files = c.files;
        self.report.counts.file_bytes = c.bytes;
    }

    /// Maps one page of items and starts downloading the files their records want.
    fn start_page<S: Source>(
        &mut self,
        resolved: &ResolvedMapping,
        source: &S,
        items: &[RawItem],
    ) -> Result<Page, Error> {
        let mapped = self.map_page(resolved, source, items)?;
        let files = self.files.start(
            &mut self.writer,
            mapped.iter().flat_map(|m| m.wanted.iter()),
        )?;
        Ok(Page {
            mapped,
            items: items.len(),
            files,
        })
    }

    /// Archives one page [`start_page`](Self::start_page) began: adds its files to the bag
    /// as their downloads finish, writes its records.
    async fn archive_page(&mut self, page: Page) -> Result<(), Error> {
        let Page {
            mapped,
            items,
            files,
        } = page;
        self.report.counts.pages += 1;
        self.files.finish(&mut self.writer, files).await?;
        self.count_files();
        for m in mapped {
            self.write_record(m)?;
            self.progress.item_done(&self.report.counts.totals());
        }
        // One sync of the journal for the page's files and records.
        self.writer.commit()?;
        self.progress
            .page_done(&self.report.counts.page_line(items));
        if let Some(e) = self.capture.as_ref().and_then(Capture::failure) {
            return Err(e.into());
        }
        Ok(())
    }

    /// Maps the items of one page that still need a record; the others are counted as
    /// skipped, already archived, or failed.
    fn map_page<S: Source>(
        &mut self,
        resolved: &ResolvedMapping,
        source: &S,
        items: &[RawItem],
    ) -> Result<Vec<MappedItem>, Error> {
        let file_url = |p: &str| source.file_url(p);
        let (zone, fetched_at) = (self.zone.clone(), self.fetched_at.clone());
        let scope = self.client.scope().clone();
        let in_scope = |u: &Url| scope.check(u).is_ok();
        let ctx = ItemContext {
            site: source.site(),
            zone: &zone,
            fetched_at: &fetched_at,
            via: source.via(),
            file_url: &file_url,
            in_scope: &in_scope,
        };
        let mut mapped: Vec<MappedItem> = Vec::new();
        for item in items {
            self.report.counts.items_seen += 1;
            if item.id <= 0 {
                self.fail(words::bad_id(item.id))?;
            } else if !self.ids.insert(item.id) {
                self.fail(words::duplicate_id(item.id))?;
            } else if !resolved.wants(item) {
                if let Some(inc) = &mut self.increment {
                    inc.skip(item);
                }
                self.report.counts.items_skipped += 1;
                self.report
                    .skipped
                    .push(Skipped::new(SkipCode::OtherContentType, item.id));
            } else if self.done.contains(&item.id) {
                self.report.counts.items_archived += 1;
            } else {
                match resolved.apply(item, &ctx) {
                    Ok(m) => {
                        if let Some(inc) = &mut self.increment {
                            inc.read(item, &m.record);
                        }
                        mapped.push(m);
                        continue;
                    }
                    Err(e) => self.fail(Failure {
                        code: FailureCode::ItemMappingFailed,
                        item_id: Some(item.id),
                        url: None,
                        error: e.to_string(),
                    })?,
                }
            }
            self.progress.item_done(&self.report.counts.totals());
        }
        Ok(mapped)
    }

    /// A sign-in refused part-way as [`Error::SignInLost`], naming the staging directory that
    /// a run with fresh credentials resumes; other errors as they are.
    fn sign_in_lost(&self, e: Error) -> Error {
        let lost = match &e {
            Error::Fetch(f) | Error::Source(SourceError::Fetch(f)) => f.is_sign_in_lost(),
            _ => false,
        };
        if !lost {
            return e;
        }
        Error::SignInLost {
            cause: e.to_string(),
            staging: self.writer.staging_dir().to_path_buf(),
        }
    }

    /// Reports a failure, or with `--fail-fast` stops the crawl at it. Failures are printed
    /// once, after the crawl, with those the source reports at its end.
    fn fail(&mut self, f: Failure) -> Result<(), Error> {
        self.stop_if_fail_fast(&f)?;
        self.report.failures.push(f);
        Ok(())
    }

    /// Reports a URL refused, or with `--fail-fast` stops the crawl at it.
    fn refuse(&mut self, r: RefusedUrl) -> Result<(), Error> {
        self.stop_if_fail_fast(&r)?;
        self.report.refused.push(r);
        Ok(())
    }

    fn stop_if_fail_fast(&self, what: &dyn std::fmt::Display) -> Result<(), Error> {
        if self.cfg.fail_fast {
            return Err(Error::FailFast {
                failure: what.to_string(),
                staging: self.writer.staging_dir().to_path_buf(),
            });
        }
        Ok(())
    }

    /// Fills in the record's files and writes it; a missing file (failed, or refused by the
    /// scope) makes the item a failure.
    fn write_record(&mut self, m: MappedItem) -> Result<(), Error> {
        let MappedItem { mut record, wanted } = m;
        let item_id = record.source.item_id;
        let failures = self.files.attach(&mut record, &wanted);
        for f in &failures {
            match &*f.error {
                FileError::Fetch(FetchError::Refused {
                    url,
                    redirected_to,
                    refusal,
                }) => self.refuse(RefusedUrl::file(
                    item_id,
                    url,
                    redirected_to.as_deref(),
                    refusal,
                ))?,
                FileError::Fetch(e) if e.is_sign_in_lost() => {
                    return Err(Error::SignInLost {
                        cause: e.to_string(),
                        staging: self.writer.staging_dir().to_path_buf(),
                    });
                }
                FileError::Fetch(e) => self.fail(Failure {
                    code: FailureCode::FileFetchFailed,
                    item_id: Some(item_id),
                    url: Some(f.url.clone()),
                    error: crate::source::explain(e),
                })?,
                e @ FileError::Unnamable { .. } => self.fail(Failure {
                    code: FailureCode::FileUnnamable,
                    item_id: Some(item_id),
                    url: Some(f.url.clone()),
                    error: e.to_string(),
                })?,
            }
        }
        if !self.keep_record(&record, &wanted, failures.is_empty()) {
            return Ok(());
        }
        // A record with a missing file is not journaled as done: a resumed run retries it.
        files::store_record(&mut self.writer, &record, failures.is_empty())?;
        self.report.counts.items_archived += 1;
        if !failures.is_empty() {
            self.report.counts.items_failed += 1;
        }
        Ok(())
    }

    /// Whether the record goes into the bag: always for a crawl; for a backup, when the item
    /// is new or changed (the increment decides, and keeps the state).
    fn keep_record(
        &mut self,
        record: &record::Record,
        wanted: &[record::WantedFile],
        complete: bool,
    ) -> bool {
        let Some(inc) = &mut self.increment else {
            return true;
        };
        let files: Vec<ItemFile> = wanted
            .iter()
            .filter_map(|w| {
                let k = self.files.kept(w.url.as_str())?;
                Some(ItemFile {
                    url: w.url.to_string(),
                    path: k.path.clone(),
                    fixity: k.fixity.clone(),
                    validators: k.validators.clone(),
                    held_by: k.held_by.clone(),
                })
            })
            .collect();
        inc.settle(record, &files, complete)
    }

    /// The run's statistics, written beside the bag, not in it: requests and retries vary
    /// with the network and with each attempt of a resumed crawl, and times with the clock,
    /// so they stay out of what the bag means. With a pinned clock the times are left out.
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

    /// Counts the items that failed outright, and whether the crawl is complete: a list that
    /// yielded no item at all is not.
    fn settle(&mut self) {
        if self.report.counts.items_seen == 0 {
            self.report.failures.push(Failure {
                code: FailureCode::ListEmpty,
                item_id: None,
                url: Some(crate::fetch::redact(&self.cfg.site)),
                error: words::empty_list(&self.report.via),
            });
        }
        self.report.counts.items_failed += self
            .report
            .failures
            .iter()
            .filter(|f| f.url.is_none())
            .count() as u64;
        self.report.complete = !self.report.is_partial();
    }

    /// Moves the capture's WARC files into the payload (`capture/`) and adds their index.
    fn write_capture(&mut self) -> Result<(), Error> {
        let Some(capture) = self.capture.take() else {
            return Ok(());
        };
        let files = capture.close()?;
        let index = capture::index::build(&files).map_err(crate::error::io(
            self.writer.staging_dir().join(bundle::RUN_DIR),
        ))?;
        for file in &files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = PayloadPath::new(&format!("{}/{name}", capture::PAYLOAD_DIR))?;
            let fixity = std::fs::File::open(file)
                .and_then(crate::fixity::of_reader)
                .map_err(crate::error::io(file))?;
            self.writer.move_file_keyed(&path, file, fixity, &())?;
        }
        self.writer
            .add_bytes(&PayloadPath::new(capture::INDEX_PATH)?, &index)?;
        Ok(())
    }

    /// `data/mets.xml`: every payload file so far, the items, the crawl's events.
    fn write_mets(&mut self, resolved: &ResolvedMapping) -> Result<(), Error> {
        let host = crate::mapping::apply::host_key(&self.cfg.site);
        let date = self.clock.date(&self.zone);
        let objid = format!("urn:sharc:{host}:{}:{date}", resolved.schema.list.id);
        let label = self
            .cfg
            .out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let payload: std::collections::BTreeMap<String, crate::fixity::Fixity> = self
            .writer
            .payload()
            .iter()
            .map(|(p, f)| (p.as_str().to_string(), f.clone()))
            .collect();
        let path_map: Vec<(String, String)> = self
            .files
            .path_map()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect();
        let mut failures: Vec<record::mets::MetsFailure> = self
            .report
            .failures
            .iter()
            .map(|f| record::mets::MetsFailure {
                code: f.code.as_str().to_string(),
                item_id: f.item_id,
                url: f.url.clone(),
                message: f.error.clone(),
            })
            .collect();
        failures.extend(
            self.report
                .refused
                .iter()
                .map(|r| record::mets::MetsFailure {
                    code: r.code.as_str().to_string(),
                    item_id: r.item_id,
                    url: Some(r.url.clone()),
                    message: r.reason.clone(),
                }),
        );
        let created = self.clock.stamp(&self.zone);
        let data_dir = self.writer.staging_dir().join("data");
        let input = record::mets::MetsInput {
            objid: &objid,
            label: &label,
            created: &created,
            site: self.cfg.site.as_str(),
            payload: &payload,
            data_dir: &data_dir,
            path_map: &path_map,
            failures: &failures,
        };
        let temp = self.writer.temp_file()?;
        let written = std::fs::File::create(&temp).and_then(|f| {
            let mut out = std::io::BufWriter::new(f);
            record::mets::write_mets(&input, &mut out)?;
            std::io::Write::flush(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        });
        written.map_err(crate::error::io(&temp))?;
        let fixity = std::fs::File::open(&temp)
            .and_then(crate::fixity::of_reader)
            .map_err(crate::error::io(&temp))?;
        self.writer.move_file_keyed(
            &PayloadPath::new(record::mets::METS_PATH)?,
            &temp,
            fixity,
            &(),
        )?;
        Ok(())
    }

    /// The payload files besides records and files: the record schema, the path map and
    /// the crawl report.
    fn write_payload_extras(&mut self) -> Result<(), Error> {
        self.writer.add_bytes(
            &PayloadPath::new("schema/record.schema.json")?,
            record::schema::SCHEMA_JSON.as_bytes(),
        )?;
        let tsv = match &self.increment {
            // Every file of the portal as the bundle leaves it, wherever the copy is.
            Some(inc) => bundle::crawl_bag::path_map(
                inc.path_map().iter().map(|(u, p)| (u.as_str(), p.as_str())),
            ),
            None => bundle::crawl_bag::path_map(self.files.path_map()),
        };
        self.writer
            .add_bytes(&PayloadPath::new(bundle::crawl_bag::PATH_MAP)?, &tsv)?;
        if let Some(inc) = &self.increment
            && inc.kind == crate::state::BundleKind::Incremental
        {
            self.writer
                .add_bytes(&PayloadPath::new(DELETIONS)?, &inc.deletions_json())?;
            self.writer
                .add_bytes(&PayloadPath::new(REFERENCES)?, &inc.references_json())?;
        }
        let mut report_json = serde_json::to_vec_pretty(&self.report).unwrap_or_default();
        report_json.push(b'\n');
        self.writer.add_bytes(
            &PayloadPath::new(bundle::crawl_bag::CRAWL_REPORT)?,
            &report_json,
        )?;
        Ok(())
    }

    /// What the bag says about itself in `bag-info.txt`.
    fn describe(&self, mapping: &Mapping, resolved: &ResolvedMapping) -> CrawlDescription {
        let host = crate::mapping::apply::host_key(&self.cfg.site);
        let date = self.clock.date(&self.zone);
        let bag = &mapping.bag;
        CrawlDescription {
            source_organization: bag.source_organization.clone().unwrap_or(host.clone()),
            external_identifier: format!("urn:sharc:{host}:{}:{date}", resolved.schema.list.id),
            external_description: bag.external_description.clone(),
            contact_name: bag.contact_name.clone(),
            contact_email: bag.contact_email.clone(),
            source_url: self.cfg.site.to_string(),
            bagging_date: date.parse().ok(),
            failures: self.report.failures.len() + self.report.refused.len(),
        }
    }

    fn finish(
        mut self,
        mapping: &Mapping,
        resolved: &ResolvedMapping,
        started: Instant,
    ) -> Result<CrawlSummary, Error> {
        self.settle();
        if self.increment.as_ref().is_some_and(Increment::is_empty) {
            return self.abandon(started);
        }
        self.write_capture()?;
        self.write_payload_extras()?;
        if self.cfg.mets || mapping.bag.mets {
            self.write_mets(resolved)?;
        }
        let mut info = self.describe(mapping, resolved).bag_info();
        if let Some(inc) = &self.increment {
            info.extra.extend(inc.link.elements());
        }
        let stats = self.run_stats(started);
        let zip_date = info.bagging_date.unwrap_or_default();
        // The lock is kept while the bag is zipped, so no other run clears it meanwhile.
        let (mut finished, lock) = self.writer.finish_locked(info)?;
        if self.cfg.format == bundle::zip::BundleFormat::Zip {
            bundle::zip::replace_dir_with_zip(&finished.path, &self.cfg.out, zip_date)?;
            finished.path = self.cfg.out.clone();
        }
        lock.release();
        let stats_path = bundle::crawl_bag::run_stats_path(&self.cfg.out);
        std::fs::write(&stats_path, stats).map_err(crate::error::io(stats_path))?;
        let outcome = if self.report.complete {
            Outcome::Success
        } else if self.report.counts.items_archived == 0 {
            Outcome::NothingArchived
        } else {
            Outcome::Partial
        };
        Ok(CrawlSummary {
            bag: finished.path,
            report: self.report,
            elapsed: started.elapsed(),
            payload_files: finished.payload_oxum.1,
            outcome,
            files_referenced: self.files.counts().referenced,
            increment: self.increment,
            written: true,
        })
    }

    /// A backup run whose items were only saved again: no bag, the staging removed.
    fn abandon(self, started: Instant) -> Result<CrawlSummary, Error> {
        let staging = self.writer.staging_dir().to_path_buf();
        drop(self.writer);
        std::fs::remove_dir_all(&staging).map_err(crate::error::io(&staging))?;
        let outcome = if self.report.complete {
            Outcome::Success
        } else {
            Outcome::Partial
        };
        Ok(CrawlSummary {
            bag: staging,
            report: self.report,
            elapsed: started.elapsed(),
            payload_files: 0,
            outcome,
            files_referenced: self.files.counts().referenced,
            increment: self.increment,
            written: false,
        })
    }
}
