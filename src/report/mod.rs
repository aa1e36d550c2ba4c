//! What a run tells its user: progress while it works, a summary line, a crawl report.
//!
//! On a terminal the crawl shows a progress bar; under cron (no terminal) it prints plain
//! lines instead, so logs stay readable. The machine-readable [`CrawlReport`] goes into the
//! bag as `data/crawl-report.json` and lists every failure with its cause and every URL
//! refused by the crawl's scope or paging bounds; what sources noticed arrives as facts and
//! is put into words here ([`words`]). So do what `verify` found ([`verify`]), what
//! `inspect` learnt of a portal ([`inspect`]) and what `mapping check` found in a mapping
//! ([`mapping_check`]).

pub mod inspect;
pub mod mapping_check;
pub mod terminal;
pub mod verify;
pub mod words;

use crate::fetch::Refusal;
pub use terminal::safe;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Duration;

/// Progress of a crawl.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar on a terminal (stderr), plain lines otherwise; nothing at all when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} {elapsed_precise} {pos}/{len} items  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar }
    }

    /// The list holds about `n` items.
    pub fn set_total(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.set_length(n);
        }
    }

    /// One more item done; `msg` describes the totals so far.
    pub fn item_done(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(msg.to_string());
        }
    }

    /// A page finished: a plain line when there is no bar.
    pub fn page_done(&self, line: &str) {
        if self.bar.is_none() {
            tracing::info!("{line}");
        }
    }

    /// A message above the bar (or a log line).
    pub fn note(&self, line: &str) {
        let line = safe(line);
        match &self.bar {
            Some(b) => b.println(line.as_ref()),
            None => tracing::info!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The crawl report written into the bag as `data/crawl-report.json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrawlReport {
    /// sharc's version.
    pub sharc_version: String,
    /// The site crawled.
    pub site: String,
    /// The list.
    pub list: String,
    /// How items were read (`rest` or `html`).
    pub via: String,
    /// How the source talked to the portal (e.g. `odata=nometadata`).
    pub protocol: Option<String>,
    /// Whether every item and file was archived.
    pub complete: bool,
    /// Counts.
    pub counts: Counts,
    /// What the source noticed besides items (a fallback from REST, links refused by
    /// robots.txt or as off-site, list limits reached), one sentence each.
    pub notes: Vec<String>,
    /// Items not archived on purpose, with the reason.
    pub skipped: Vec<Skipped>,
    /// Items and files that failed, with the cause.
    pub failures: Vec<Failure>,
    /// URLs never fetched because they were out of scope, or paging would have looped or
    /// passed its bound: the bag may lack what they held.
    pub refused: Vec<RefusedUrl>,
}

/// Counts of a crawl.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Items the list returned.
    pub items_seen: u64,
    /// Records written.
    pub items_archived: u64,
    /// Items skipped (other content types, items the public pages do not show).
    pub items_skipped: u64,
    /// Items that failed (no record, or a record with missing files).
    pub items_failed: u64,
    /// Files archived (attachments and images).
    pub files: u64,
    /// Bytes of archived files.
    pub file_bytes: u64,
    /// Pages of items read.
    pub pages: u64,
}

impl Counts {
    /// What is in the bag so far, for progress: `12 records, 30 files, 1.2 MB`.
    pub fn totals(&self) -> String {
        format!(
            "{} records, {} files, {}",
            self.items_archived,
            self.files,
            crate::bundle::human_size(self.file_bytes)
        )
    }

    /// The line logged after each page of `items` items.
    pub fn page_line(&self, items: usize) -> String {
        format!("page {}: {items} items; {}", self.pages, self.totals())
    }
}

impl CrawlReport {
    /// The one line a finished crawl prints: items, files, bytes, failures, refused URLs,
    /// time, the bag.
    /// Each count says what it counts: items, the attachments and images fetched, and every
    /// payload file of the bag (records, files, schema, path map and this report).
    pub fn summary_line(
        &self,
        elapsed: Duration,
        bag: &std::path::Path,
        payload_files: u64,
    ) -> String {
        let c = &self.counts;
        let refused = match self.refused.len() {
            0 => String::new(),
            n => format!(", {n} refused"),
        };
        let status = if self.complete { "complete" } else { "partial" };
        format!(
            "{} items archived; {} attachments and images, {}; {payload_files} payload files in the bag; {} failures{refused}; {status}, {:.1}s -> {}",
            c.items_archived,
            c.files,
            crate::bundle::human_size(c.file_bytes),
            self.failures.len(),
            elapsed.as_secs_f64(),
            bag.display()
        )
    }

    /// Whether anything failed or was refused: the bag is then partial.
    pub fn is_partial(&self) -> bool {
        !self.failures.is_empty() || !self.refused.is_empty()
    }
}

/// An item not archived on purpose, or a run of consecutive ones.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Why, as a stable code.
    pub code: SkipCode,
    /// The item ID (the first of the run).
    pub item_id: i64,
    /// The last item ID of a run of consecutive ones skipped alike; absent for one item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_item_id: Option<i64>,
    /// Why, in words.
    pub reason: String,
}

impl Skipped {
    /// An item skipped for `code`, with the reason in words.
    pub fn new(code: SkipCode, item_id: i64) -> Self {
        Self::run(code, item_id..=item_id)
    }

    /// The items `ids`, consecutive, skipped for `code`: one entry however many they are.
    pub fn run(code: SkipCode, ids: std::ops::RangeInclusive<i64>) -> Self {
        let reason = match code {
            SkipCode::OtherContentType => "another content type",
            SkipCode::NotPublic => "not on the public list pages (not public, or deleted)",
            SkipCode::NotRead => {
                "not on the list pages read; the list was not read to its end (see `refused`), so these may be on the pages not read, or not public"
            }
        };
        let (first, last) = (*ids.start(), *ids.end());
        Self {
            code,
            item_id: first,
            last_item_id: (last != first).then_some(last),
            reason: reason.into(),
        }
    }
}

/// Why an item was skipped. The kebab-case names are stable: scripts may rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipCode {
    /// The item is of another content type than the mapping's.
    OtherContentType,
    /// The public list pages never showed the item (not public, or deleted).
    NotPublic,
    /// The item was not on the list pages read, and the list was not read to its end.
    NotRead,
}

/// What kind of failure a [`Failure`] is. The kebab-case names are stable: scripts may
/// rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureCode {
    /// A field's value could not be converted; the item has no record.
    ItemMappingFailed,
    /// The item's page could not be fetched (HTML source).
    ItemFetchFailed,
    /// The item's page redirected off the portal and was not archived (HTML source).
    ItemOffSite,
    /// A value on the item's page could not be read (HTML source).
    ItemExtractionFailed,
    /// An attachment or image could not be downloaded; the record lacks that file.
    FileFetchFailed,
    /// An entry of a list page has no item id, or one that is not a whole number; it has no
    /// record.
    ItemWithoutId,
    /// The item's id is zero or negative, which no SharePoint item has; it has no record.
    ItemBadId,
    /// The list gave this item id a second time; the first was archived, this one was not.
    ItemDuplicateId,
    /// The file system refused the payload name an attachment or image was given; the
    /// record lacks that file.
    FileUnnamable,
    /// The list yielded no item at all: nothing to archive.
    ListEmpty,
}

impl FailureCode {
    /// Every code, in declaration order.
    pub const ALL: [FailureCode; 10] = [
        Self::ItemMappingFailed,
        Self::ItemFetchFailed,
        Self::ItemOffSite,
        Self::ItemExtractionFailed,
        Self::FileFetchFailed,
        Self::ItemWithoutId,
        Self::ItemBadId,
        Self::ItemDuplicateId,
        Self::FileUnnamable,
        Self::ListEmpty,
    ];

    /// The stable name, such as `file-fetch-failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ItemMappingFailed => "item-mapping-failed",
            Self::ItemFetchFailed => "item-fetch-failed",
            Self::ItemOffSite => "item-off-site",
            Self::ItemExtractionFailed => "item-extraction-failed",
            Self::FileFetchFailed => "file-fetch-failed",
            Self::ItemWithoutId => "item-without-id",
            Self::ItemBadId => "item-bad-id",
            Self::ItemDuplicateId => "item-duplicate-id",
            Self::FileUnnamable => "file-unnamable",
            Self::ListEmpty => "list-empty",
        }
    }
}

impl SkipCode {
    /// Every code, in declaration order.
    pub const ALL: [SkipCode; 3] = [Self::OtherContentType, Self::NotPublic, Self::NotRead];

    /// The stable name, such as `not-public`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OtherContentType => "other-content-type",
            Self::NotPublic => "not-public",
            Self::NotRead => "not-read",
        }
    }
}

/// Something that failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// What kind of failure, as a stable code.
    pub code: FailureCode,
    /// The item, when the failure belongs to one.
    pub item_id: Option<i64>,
    /// The URL, when a request failed.
    pub url: Option<String>,
    /// What went wrong.
    pub error: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(id) = self.item_id {
            write!(f, "item {id}: ")?;
        }
        if let Some(u) = &self.url
            && !self.error.contains(u.as_str())
        {
            write!(f, "{u}: ")?;
        }
        write!(f, "{}", self.error)
    }
}

/// A URL never fetched, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedUrl {
    /// Why, as a stable code.
    pub code: RefusedCode,
    /// The URL as given (without user name or password).
    pub url: String,
    /// The item that wanted it, when one did.
    pub item_id: Option<i64>,
    /// Why, in words.
    pub reason: String,
}

impl RefusedUrl {
    /// An item's file the client refused: `url` itself, or where it redirected
    /// (`redirected_to`).
    pub fn file(item_id: i64, url: &str, redirected_to: Option<&str>, refusal: &Refusal) -> Self {
        let reason = match redirected_to {
            Some(to) => format!("redirected to {to}: {refusal}"),
            None => refusal.to_string(),
        };
        Self {
            code: RefusedCode::of(refusal),
            url: url.to_string(),
            item_id: Some(item_id),
            reason,
        }
    }
}

impl std::fmt::Display for RefusedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(id) = self.item_id {
            write!(f, "item {id}: ")?;
        }
        write!(f, "{}: {}", self.url, self.reason)
    }
}

/// Why a URL was refused. The kebab-case names are stable: scripts may rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusedCode {
    /// Not on the portal's origin nor on an allowed host (another host, or another port).
    OffSite,
    /// Not `http` or `https`.
    BadScheme,
    /// Plain `http` from a portal read over `https`, or a redirect from `https` to `http`.
    Downgrade,
    /// The URL carries a user name or password.
    Userinfo,
    /// A next link back to a page already read: paging stopped there.
    RepeatedNextLink,
    /// The page bound was reached: paging stopped there.
    PageLimit,
    /// robots.txt disallows it: an article page (its item is not archived) or a list page.
    Robots,
    /// HTML source: `--max-pages` was reached; the list goes on at this page.
    MaxPages,
}

impl RefusedCode {
    /// Every code, in declaration order.
    pub const ALL: [RefusedCode; 8] = [
        Self::OffSite,
        Self::BadScheme,
        Self::Downgrade,
        Self::Userinfo,
        Self::RepeatedNextLink,
        Self::PageLimit,
        Self::Robots,
        Self::MaxPages,
    ];

    /// The stable name, such as `off-site`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OffSite => "off-site",
            Self::BadScheme => "bad-scheme",
            Self::Downgrade => "downgrade",
            Self::Userinfo => "userinfo",
            Self::RepeatedNextLink => "repeated-next-link",
            Self::PageLimit => "page-limit",
            Self::Robots => "robots",
            Self::MaxPages => "max-pages",
        }
    }

    /// The code of a scope refusal.
    pub fn of(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::OffSite { .. } => Self::OffSite,
            Refusal::BadScheme { .. } => Self::BadScheme,
            Refusal::Downgrade => Self::Downgrade,
            Refusal::Userinfo => Self::Userinfo,
        }
    }
}
