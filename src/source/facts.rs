//! What a source learnt besides items, as values: the crawl report words them.
//!
//! A source notices things a person adapting a crawl needs to know — how many pages it read,
//! which links it refused and why, which items the public pages never showed, which rules of
//! a page layout never matched — and items it could not read at all. It hands them over once,
//! after the last page, as a [`SourceFacts`]; it never writes sentences into the report.

use crate::fetch::{FetchError, Refusal as ScopeRefusal};
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::time::Duration;

/// Everything a source hands over after the last page.
#[derive(Debug, Default)]
pub struct SourceFacts {
    /// Why this source was read instead of the REST API.
    pub fallback: Option<Fallback>,
    /// Pages read, for a source that reads pages.
    pub pages: Option<PagesRead>,
    /// Item ids below the highest one seen that the list never showed (nor failed): items
    /// the public cannot see, or deleted ones. Runs of consecutive ids, lowest first.
    pub unseen_items: Vec<RangeInclusive<i64>>,
    /// Rules that found no value on any article page that was read.
    pub silent_rules: Vec<SilentRule>,
    /// Links found but never fetched, by reason.
    pub refused: Vec<Refused>,
    /// Items the list showed whose pages robots.txt disallows: never read, not archived.
    pub refused_items: Vec<RefusedItem>,
    /// Requests for the list itself the source did not make — a next link out of scope or
    /// disallowed by robots.txt, back to a page already read, past the page bound or past
    /// `--max-pages` — so the list may be incomplete.
    pub refused_requests: Vec<RefusedRequest>,
    /// Other things noticed, in the order they were.
    pub notes: Vec<Note>,
    /// Items the source saw but could not read.
    pub failures: Vec<ItemFailure>,
    /// Entries of a list page that are not items sharc can name: no id, or an id that is
    /// not a whole number.
    pub malformed: Vec<MalformedItem>,
}

/// An entry of a list page without a usable item id: it cannot be archived (records and
/// resumes are keyed by the id), and it does not stop the crawl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedItem {
    /// The page it was on.
    pub page: String,
    /// Its place on the page, from 1.
    pub position: usize,
    /// The id as the page gave it (JSON), when it gave one.
    pub id: Option<String>,
    /// Its title, when it has one, to help find it on the portal.
    pub title: Option<String>,
}

/// Why the REST API was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// `/_api` answered this status (401, 403 or 404).
    ApiClosed {
        /// The HTTP status.
        status: u16,
    },
    /// `/_api` answered this status (404: SharePoint 2010 has no REST API) and `Lists.asmx`
    /// answered, so the list is read through it.
    ListsAsmx {
        /// The HTTP status of `/_api/web`.
        status: u16,
    },
}

/// Pages a page-reading source fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagesRead {
    /// News-list pages.
    pub list: usize,
    /// Article pages.
    pub article: usize,
}

/// A rule that never matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentRule {
    /// The property it reads, as the layout names it.
    pub label: String,
    /// Article pages read (and none had a value).
    pub pages: usize,
}

/// Links refused for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Why.
    pub reason: Refusal,
    /// The links, sorted.
    pub urls: BTreeSet<String>,
}

/// Why a link was not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// robots.txt disallows it.
    Robots,
    /// It is not on the portal's host (nor an allowed one).
    OffSite,
}

/// An item the list showed whose page was not fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedItem {
    /// The item id.
    pub item_id: i64,
    /// Its page, as the list linked it.
    pub url: String,
}

/// A request for the list that a source did not make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRequest {
    /// The URL, without user name or password.
    pub url: String,
    /// Why.
    pub why: RequestRefusal,
}

/// Why a source did not make a request for the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestRefusal {
    /// The URL is out of the crawl's scope.
    Scope(ScopeRefusal),
    /// A next link to a page already read: followed, the list would loop.
    RepeatedNextLink,
    /// robots.txt disallows the next list page.
    Robots,
    /// `--max-pages` list pages were read with this one still to read.
    MaxPages(usize),
    /// The page bound was reached with a next link still to follow.
    PageBound {
        /// Pages read, the bound.
        bound: usize,
        /// The items the list says it holds, when it says.
        item_count: Option<u64>,
    },
}

/// Something a source noticed that is not an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// robots.txt was not read (`--ignore-robots`).
    RobotsIgnored,
    /// robots.txt asks for a delay between requests; every request to the portal was
    /// spaced by it.
    CrawlDelay(Duration),
    /// The next-page template gives a URL that does not parse.
    BadNextTemplate(String),
    /// A page had bytes that are not valid in its charset; they were replaced.
    Undecodable {
        /// The page.
        url: String,
        /// The charset it was decoded as.
        encoding: &'static str,
    },
    /// The pages do not name the list's GUID; records use this one, derived from the start
    /// page.
    DerivedListId(String),
    /// The list view threshold refused pages of `from` items; the list was read in pages of
    /// `to`.
    RowLimitLowered {
        /// The items per page refused.
        from: usize,
        /// The items per page the list was read in.
        to: usize,
    },
    /// An element's markup could not be cut from the page exactly and was re-serialised.
    Reserialised {
        /// The page.
        url: String,
        /// The property and rule, e.g. `body (`.news-content`)`.
        what: String,
    },
}

/// An item a source saw but could not read.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct ItemFailure {
    /// The item id.
    pub item_id: i64,
    /// What went wrong.
    pub kind: ItemFailureKind,
}

/// Why an item could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ItemFailureKind {
    /// Its page could not be fetched.
    #[error("{}", super::explain(.0))]
    Fetch(FetchError),
    /// Its page redirected out of the crawl's scope (off the portal, or to plain http): the
    /// redirect was not followed.
    #[error("{0}; not archived")]
    OffSite(FetchError),
    /// A value on its page could not be read.
    #[error(transparent)]
    Extract(ExtractError),
}

/// A value on an article page that could not be read, naming the property and its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{label} ({rule}): {problem}")]
pub struct ExtractError {
    /// The property, as the layout names it (e.g. `published_at`).
    pub label: String,
    /// Where its rule looks, e.g. `` `.date-line` ``.
    pub rule: String,
    /// What was wrong with the text found.
    pub problem: ExtractProblem,
}

/// What was wrong with an extracted text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractProblem {
    /// Not a date, or one whose printed weekday contradicts it.
    #[error(transparent)]
    Date(#[from] crate::text::vietnamese::VnDateError),
    /// No number in the text.
    #[error("no number in `{0}`")]
    NoNumber(String),
}
