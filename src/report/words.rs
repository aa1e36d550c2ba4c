//! What the crawl report says about what a source noticed: facts in, sentences out.
//!
//! Sources hand over [`SourceFacts`]; every sentence a person reads about them in
//! `data/crawl-report.json` (and in the log) is written here, so wording changes in one
//! place and a source never formats prose.

use super::{CrawlReport, Failure, FailureCode, RefusedCode, RefusedUrl, SkipCode, Skipped};
use crate::source::facts::{
    Fallback, ItemFailure, ItemFailureKind, MalformedItem, Note, Refusal, Refused, RefusedItem,
    RefusedRequest, RequestRefusal, SourceFacts,
};

/// How many refused URLs a report note lists before it only counts.
const LISTED_URLS: usize = 10;

impl CrawlReport {
    /// Adds what a source learnt besides items: notes, items it could not see (skipped),
    /// requests for the list it did not make (refused) and items it could not read
    /// (failures).
    pub fn add_source_facts(&mut self, facts: SourceFacts) {
        if let Some(f) = &facts.fallback {
            self.notes.push(fallback(f));
        }
        if let Some(p) = &facts.pages {
            self.notes.push(format!(
                "read {} list page(s) and {} article page(s); only items the public list shows are archived — drafts, pending, rejected and unpublished items are not visible without signing in",
                p.list, p.article
            ));
        }
        // A list not read to its end may hold the ids it never showed on later pages.
        let unseen = if facts.refused_requests.is_empty() {
            SkipCode::NotPublic
        } else {
            SkipCode::NotRead
        };
        for run in &facts.unseen_items {
            let n = run.end().abs_diff(*run.start()).saturating_add(1);
            self.counts.items_skipped = self.counts.items_skipped.saturating_add(n);
            self.skipped.push(Skipped::run(unseen, run.clone()));
        }
        for rule in &facts.silent_rules {
            self.notes.push(format!(
                "[html.fields] {} found no value on any of {} article page(s); check its selector if the portal shows one",
                rule.label, rule.pages
            ));
        }
        self.notes.extend(facts.refused.iter().map(refused));
        self.notes.extend(facts.notes.iter().map(note));
        self.refused
            .extend(facts.refused_requests.iter().map(refused_request));
        self.refused
            .extend(facts.refused_items.iter().map(refused_item));
        self.failures.extend(facts.failures.iter().map(failure));
        self.counts.items_seen += facts.malformed.len() as u64;
        self.failures.extend(facts.malformed.iter().map(malformed));
    }
}

/// An item whose id is zero or negative, as a failure: it has no record.
pub fn bad_id(item_id: i64) -> Failure {
    Failure {
        code: FailureCode::ItemBadId,
        item_id: Some(item_id),
        url: None,
        error: format!(
            "item id {item_id} is not one SharePoint gives (item ids count up from 1); the item was not archived: check it on the portal"
        ),
    }
}

/// The second item with an id already met, as a failure: the first is archived.
pub fn duplicate_id(item_id: i64) -> Failure {
    Failure {
        code: FailureCode::ItemDuplicateId,
        item_id: Some(item_id),
        url: None,
        error: format!(
            "the list gave item {item_id} a second time; the first was archived and this one was not: compare the two on the portal"
        ),
    }
}

/// A list that yielded no item, in words, with where to look for each source.
pub fn empty_list(via: &str) -> String {
    let check = match via {
        "html" => {
            "check [html] links, link_pattern and item_id in the mapping against the list page's source"
        }
        _ => "check that the list holds items this identity may read, and the list's title",
    };
    format!("the list yielded no item, so nothing was archived: {check}")
}

/// A list entry without a usable id, as a failure.
fn malformed(m: &MalformedItem) -> Failure {
    let what = match &m.id {
        Some(id) => format!("has the id {id}, which is not a whole number"),
        None => "has no Id".to_string(),
    };
    let title = m
        .title
        .as_deref()
        .map(|t| format!(" (titled \"{t}\")"))
        .unwrap_or_default();
    Failure {
        code: FailureCode::ItemWithoutId,
        item_id: None,
        url: None,
        error: format!(
            "entry {} of the list page {}{title} {what}; it was not archived, the rest of the list was",
            m.position, m.page
        ),
    }
}

/// A request for the list a source did not make, with its code and reason.
fn refused_request(r: &RefusedRequest) -> RefusedUrl {
    let (code, reason) = match &r.why {
        RequestRefusal::Scope(s) => (
            RefusedCode::of(s),
            format!("a next link of the list, not followed: {s}; the list may go on there"),
        ),
        RequestRefusal::Robots => (
            RefusedCode::Robots,
            "the next page of the list, not read: robots.txt disallows it; the list may go on there (--ignore-robots only with the portal owner's leave)".to_string(),
        ),
        RequestRefusal::MaxPages(limit) => (
            RefusedCode::MaxPages,
            format!(
                "the next page of the list, not read: {limit} list page(s) were read (--max-pages); raise --max-pages to read on from here"
            ),
        ),
        RequestRefusal::RepeatedNextLink => (
            RefusedCode::RepeatedNextLink,
            "a next link back to a page of the list already read: paging stopped here, as following it would loop".to_string(),
        ),
        RequestRefusal::PageBound { bound, item_count } => (
            RefusedCode::PageLimit,
            format!(
                "paging stopped after {bound} pages{}, so that a farm cannot page on forever; the list may go on here",
                item_count
                    .map(|n| format!(" (twice what the {n} items the list reports need, plus ten)"))
                    .unwrap_or_default()
            ),
        ),
    };
    RefusedUrl {
        code,
        url: r.url.clone(),
        item_id: None,
        reason,
    }
}

/// An item the list showed whose page robots.txt disallows, as a refused URL.
fn refused_item(r: &RefusedItem) -> RefusedUrl {
    RefusedUrl {
        code: RefusedCode::Robots,
        url: r.url.clone(),
        item_id: Some(r.item_id),
        reason: "robots.txt disallows this article page, so the item was not archived (--ignore-robots only with the portal owner's leave)".into(),
    }
}

/// Links refused for one reason, in words: how many, and the first few.
fn refused(r: &Refused) -> String {
    let why = match r.reason {
        Refusal::Robots => "robots.txt disallows",
        Refusal::OffSite => "not on the portal's host, never fetched:",
    };
    let mut listed: Vec<&str> = r
        .urls
        .iter()
        .take(LISTED_URLS)
        .map(String::as_str)
        .collect();
    if r.urls.len() > LISTED_URLS {
        listed.push("…");
    }
    format!("{} link(s) {why} {}", r.urls.len(), listed.join(" "))
}

/// An item the source could not read, as a failure with its code.
fn failure(f: &ItemFailure) -> Failure {
    let code = match &f.kind {
        ItemFailureKind::Fetch(_) => FailureCode::ItemFetchFailed,
        ItemFailureKind::OffSite(_) => FailureCode::ItemOffSite,
        ItemFailureKind::Extract(_) => FailureCode::ItemExtractionFailed,
    };
    Failure {
        code,
        item_id: Some(f.item_id),
        url: None,
        error: f.to_string(),
    }
}

/// Why the source in use replaced the REST API, in words.
pub fn fallback(f: &Fallback) -> String {
    match f {
        Fallback::ApiClosed { status } => {
            format!("the REST API is closed (HTTP {status}); reading the public HTML pages instead")
        }
        Fallback::ListsAsmx { status } => format!(
            "the REST API answers HTTP {status}, as on SharePoint 2010, which has none; reading the list through Lists.asmx (SOAP) instead"
        ),
    }
}

/// One note, in words.
pub fn note(n: &Note) -> String {
    match n {
        Note::RobotsIgnored => "robots.txt was not read (--ignore-robots)".into(),
        Note::CrawlDelay(d) => format!(
            "robots.txt asks for {} ms between requests; every request to the portal was spaced by it",
            d.as_millis()
        ),
        Note::RowLimitLowered { from, to } => format!(
            "the list view threshold refused pages of {from} items; the list was read in pages of {to} (--page-size {to} asks for that at once)"
        ),
        Note::BadNextTemplate(t) => format!("next_template gives a bad URL: `{t}`"),
        Note::Undecodable { url, encoding } => {
            format!("{url}: some bytes are not valid {encoding}; they were replaced with U+FFFD")
        }
        Note::DerivedListId(id) => format!(
            "the list pages do not name the list's GUID; records use {id}, derived from the start page: set [html] list_id to the list's GUID to make record ids match a REST crawl"
        ),
        Note::Reserialised { url, what } => format!(
            "{url}: the markup of {what} could not be cut from the page exactly; it was re-serialised"
        ),
    }
}
