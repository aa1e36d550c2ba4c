//! The HTML source: a portal read through the pages a citizen sees.
//!
//! Most public government portals answer anonymous readers with HTML only: `/_api` gives 401
//! or 403 and what is left is a paged news list and one page per article. This source walks
//! that list the way the mapping's `[html]` section describes it — start pages, article
//! links, the next page — reads each article page once, and yields the same [`RawItem`]s as
//! the REST source, keyed by the field names the mapping's `[fields]` already uses, so the
//! mapping, the records and the bag are the same whichever way the items came.
//!
//! Manners: only links in the crawl's scope (the client's [`Scope`](crate::fetch::Scope): the
//! portal's own origin and the hosts the mapping or `--allow-host` allow) are followed, the
//! others noted; robots.txt is obeyed and its `Crawl-delay` handed to the client, which spaces
//! every request to the portal by it, unless `--ignore-robots`; no page is fetched twice; list
//! pages are bounded by the list rules and `--max-pages`, so a calendar or an endless "next"
//! link cannot keep the crawl going; requests go through the same [`Client`] (pacing,
//! retries, bounds) as everything else.
//!
//! Items the public pages do not show (drafts, pending, unpublished) cannot be read this
//! way; the crawl report says which item ids were missing from the list.

mod extract;
pub mod hints;
pub mod layout;
mod robots;
mod span;

pub use layout::{Css, Extract, FieldRule, ItemId, Layout, NextPage, Property, Role, StopRule};

use super::facts::{
    Fallback, ItemFailure, ItemFailureKind, Note, PagesRead, Refusal, Refused, RefusedItem,
    RefusedRequest, RequestRefusal, SilentRule, SourceFacts,
};
use super::ids::IdSet;
use super::{
    ContentTypeInfo, FieldDef, ItemQuery, ListInfo, ListSchema, RawItem, SourceError, Via,
};
use crate::fetch::{Body, Client, FetchError, redact};
use extract::{Page, Rules};
use futures::StreamExt;
use robots::Robots;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::RangeInclusive;
use url::Url;

/// What `Accept` says when asking for a page.
const ACCEPT_HTML: &str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5";

/// Limits and switches of an HTML crawl.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// Fetch what robots.txt disallows (only with the portal owner's leave).
    pub ignore_robots: bool,
    /// List pages read at most, over all start pages.
    pub max_pages: usize,
    /// Article pages asked for at once (the client still spaces them by any crawl delay).
    pub concurrency: usize,
    /// Read the next list page while the articles of this one are read (off for a capture,
    /// whose order must repeat from run to run, and at a concurrency of 1).
    pub read_ahead: bool,
}

impl Default for HtmlOptions {
    fn default() -> Self {
        Self {
            ignore_robots: false,
            max_pages: 1000,
            concurrency: 4,
            read_ahead: true,
        }
    }
}

/// Reads one news list through its public pages.
pub struct HtmlSource {
    client: Client,
    site: Url,
    layout: Layout,
    opts: HtmlOptions,
    robots: Option<Robots>,
    fallback: Option<Fallback>,
    /// Start pages not begun yet.
    starts: VecDeque<Url>,
    /// The next list page of the current chain, with the template number of the one after.
    next_list: Option<(Url, u32)>,
    /// The first list page, read by `describe`.
    first: Option<(Url, String)>,
    /// The next list page, being read while the articles of the last one are.
    ahead: Option<(Url, tokio::task::JoinHandle<Result<Body, FetchError>>)>,
    list_pages: usize,
    article_pages: usize,
    /// Every URL fetched (fragment dropped).
    fetched: HashSet<String>,
    /// Item ids already read.
    seen: IdSet,
    /// Decoded server-relative path of each attachment → its URL as the page gave it.
    files: HashMap<String, Url>,
    notes: Vec<Note>,
    failures: Vec<ItemFailure>,
    refused_robots: BTreeSet<String>,
    refused_off_site: BTreeSet<String>,
    /// Article links robots.txt disallows, by item id: items the list showed but that were
    /// never read.
    refused_items: BTreeMap<i64, String>,
    /// List pages not read: disallowed, off-site, or past `--max-pages`.
    refused_requests: Vec<RefusedRequest>,
    /// Indexes of the layout's properties whose rule found a value on some article page.
    found: BTreeSet<usize>,
}

impl HtmlSource {
    /// A source for the list `layout` describes on the site at `site`.
    pub fn new(
        client: Client,
        site: &Url,
        layout: &Layout,
        opts: HtmlOptions,
    ) -> Result<Self, SourceError> {
        let mut site = site.clone();
        if !site.path().ends_with('/') {
            let p = format!("{}/", site.path());
            site.set_path(&p);
        }
        let starts = layout
            .start
            .iter()
            .map(|s| {
                site.join(s)
                    .map_err(|_| SourceError::BadUrl(format!("{site}{s}")))
            })
            .collect::<Result<VecDeque<_>, _>>()?;
        let missing: Vec<&str> = layout
            .properties
            .iter()
            .filter(|p| p.rule.is_none())
            .map(|p| p.label.as_str())
            .collect();
        if !missing.is_empty() {
            tracing::info!(
                "no [html.fields] rule for {}: these fields stay empty in records read from pages",
                missing.join(", ")
            );
        }
        Ok(Self {
            client,
            site,
            layout: layout.clone(),
            opts,
            robots: None,
            fallback: None,
            starts,
            next_list: None,
            first: None,
            ahead: None,
            list_pages: 0,
            article_pages: 0,
            fetched: HashSet::new(),
            seen: IdSet::new(),
            files: HashMap::new(),
            notes: Vec::new(),
            failures: Vec::new(),
            refused_robots: BTreeSet::new(),
            refused_off_site: BTreeSet::new(),
            refused_items: BTreeMap::new(),
            refused_requests: Vec::new(),
            found: BTreeSet::new(),
        })
    }

    /// Records why this source is used instead of REST, for the report.
    pub fn with_fallback(mut self, why: Fallback) -> Self {
        self.fallback = Some(why);
        self
    }

    /// Whether `url` is in the crawl's scope.
    fn on_site(&self, url: &Url) -> bool {
        self.client.scope().check(url).is_ok()
    }

    fn robots_allow(&self, url: &Url) -> bool {
        self.robots.as_ref().is_none_or(|r| r.allowed(url))
    }

    /// GETs one page, once.
    async fn get(&mut self, url: &Url) -> Result<Body, FetchError> {
        self.fetched.insert(url.to_string());
        self.client.get(url, ACCEPT_HTML).await
    }

    /// Decodes a page by its declared charset.
    fn decode(&mut self, body: &Body) -> String {
        let content_type = body
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let d = crate::text::charset::decode_page(&body.bytes, content_type, self.layout.charset);
        if d.had_errors {
            self.notes.push(Note::Undecodable {
                url: body.url.to_string(),
                encoding: d.encoding.name(),
            });
        }
        d.text
    }

    /// The next list page to read: the rest of the current chain, then the next start page.
    fn next_list_url(&mut self) -> Result<Option<(Url, u32)>, SourceError> {
        if let Some(next) = self.next_list.take() {
            return Ok(Some(next));
        }
        let Some(url) = self.starts.pop_front() else {
            return Ok(None);
        };
        if !self.on_site(&url) {
            return Err(SourceError::Protocol {
                url: url.to_string(),
                message: format!(
                    "the start page is not on {}: start pages must be on the portal's host (or one in [html] allow_hosts / --allow-host)",
                    self.site
                ),
            });
        }
        if !self.robots_allow(&url) {
            return Err(SourceError::Protocol {
                url: url.to_string(),
                message: format!(
                    "robots.txt ({}) disallows this start page; choose another start page, or pass --ignore-robots if the portal's owner allows it",
                    self.robots
                        .as_ref()
                        .map(|r| r.url.to_string())
                        .unwrap_or_default()
                ),
            });
        }
        let first = match &self.layout.next {
            NextPage::Template { first, .. } => *first,
            _ => 2,
        };
        Ok(Some((url, first)))
    }

    /// Reads the first list page ahead of time (it names the list's GUID).
    async fn read_first_page(&mut self) -> Result<(), SourceError> {
        if let Some((url, n)) = self.next_list_url()? {
            let body = match self.get(&url).await {
                Ok(b) => b,
                Err(FetchError::Status { status: 404, .. }) => {
                    return Err(SourceError::Protocol {
                        url: url.to_string(),
                        message: "the news list's start page is not there (HTTP 404): check [html] start in the mapping".into(),
                    });
                }
                Err(e) => return Err(e.into()),
            };
            let text = self.decode(&body);
            self.list_pages += 1;
            self.first = Some((url.clone(), text));
            self.next_list = Some((url, n));
        }
        Ok(())
    }

    /// The list GUID: from the mapping, from the first list page, or derived from its URL.
    fn list_id(&mut self) -> String {
        if let Some(id) = &self.layout.list_id {
            return id.clone();
        }
        if let Some((url, text)) = &self.first
            && let Some(id) = Page::parse(text, url).list_id()
        {
            return id;
        }
        let start = self.layout.start.first().cloned().unwrap_or_default();
        let digest = crate::fixity::of_bytes(format!("{}{start}", self.site).as_bytes()).sha256;
        let id = format!(
            "{}-{}-{}-{}-{}",
            &digest[0..8],
            &digest[8..12],
            &digest[12..16],
            &digest[16..20],
            &digest[20..32]
        );
        self.notes.push(Note::DerivedListId(id.clone()));
        id
    }

    /// The list as the layout describes it, with its GUID from the layout or the first page
    /// (or derived from its URL).
    fn schema(&mut self) -> ListSchema {
        let id = self.list_id();
        schema_of(&self.layout, id)
    }

    /// Reads one list page and the article pages it links to.
    async fn read_list_page(&mut self, url: Url, n: u32) -> Result<Vec<RawItem>, SourceError> {
        let text = match self.first.take() {
            Some((first_url, text)) if first_url == url => text,
            _ => {
                self.list_pages += 1;
                let body = match self.ahead.take() {
                    Some((ahead, task)) if ahead == url => {
                        self.fetched.insert(url.to_string());
                        task.await.map_err(|e| FetchError::Io {
                            path: std::path::PathBuf::new(),
                            source: std::io::Error::other(e),
                        })??
                    }
                    _ => self.get(&url).await?,
                };
                self.decode(&body)
            }
        };
        let (candidates, next_link) = {
            let page = Page::parse(&text, &url);
            let next_link = match &self.layout.next {
                NextPage::Link(css) => page.links(css).into_iter().next(),
                _ => None,
            };
            (page.links(&self.layout.links), next_link)
        };
        if candidates.is_empty() && self.list_pages == 1 {
            return Err(SourceError::NoArticleLinks {
                url: redact(&url),
                selector: self.layout.links.text.clone(),
            });
        }
        let (articles, refused) = self.articles(candidates);
        tracing::debug!(%url, articles = articles.len(), refused, "list page");
        // Articles robots.txt refused are still the list going on: only a page with nothing
        // new at all ends it.
        self.plan_next(&url, n, next_link, articles.is_empty() && refused == 0);
        self.read_ahead();
        let bodies = self.fetch_articles(&articles).await;
        let mut items = Vec::new();
        for ((id, url), result) in articles.into_iter().zip(bodies) {
            match result {
                Ok(body) => match self.item(id, &url, &body) {
                    Ok(item) => items.push(item),
                    Err(kind) => self.fail(id, kind),
                },
                Err(e) => self.fail(id, article_failure(e)),
            }
        }
        Ok(items)
    }

    /// The article links worth reading: on the site, matching the pattern, with an item id,
    /// allowed by robots.txt, not read before; and how many new ones robots.txt refused.
    fn articles(&mut self, candidates: Vec<Url>) -> (Vec<(i64, Url)>, usize) {
        let mut refused = 0;
        let mut out: Vec<(i64, Url)> = Vec::new();
        for url in candidates {
            if !self.on_site(&url) {
                self.refused_off_site.insert(redact(&url));
                continue;
            }
            if let Some(p) = &self.layout.link_pattern
                && !p.is_match(url.as_str())
            {
                continue;
            }
            let Some(id) = extract::item_id(&self.layout.item_id, &url) else {
                continue;
            };
            if !self.robots_allow(&url) {
                if !self.seen.contains(id) && !self.refused_items.contains_key(&id) {
                    refused += 1;
                    self.refused_items.insert(id, redact(&url));
                }
                continue;
            }
            if self.seen.contains(id)
                || self.fetched.contains(url.as_str())
                || out.iter().any(|(i, _)| *i == id)
            {
                continue;
            }
            out.push((id, url));
        }
        (out, refused)
    }

    /// Decides the chain's next list page after reading `url`.
    fn plan_next(&mut self, url: &Url, n: u32, next_link: Option<Url>, nothing_new: bool) {
        if nothing_new && self.layout.stop == StopRule::NoNewLinks {
            tracing::debug!(%url, "no new articles: the list ends here");
            return;
        }
        let next = match &self.layout.next {
            NextPage::None => None,
            NextPage::Link(_) => next_link,
            NextPage::Template { template, .. } => {
                let t = template.replace("{n}", &n.to_string());
                match self.site.join(&t) {
                    Ok(u) => Some(u),
                    Err(_) => {
                        self.notes.push(Note::BadNextTemplate(t));
                        None
                    }
                }
            }
        };
        let Some(next) = next else {
            return;
        };
        if next == *url || self.fetched.contains(next.as_str()) {
            return;
        }
        if let Err(refusal) = self.client.scope().check(&next) {
            self.refused_requests.push(RefusedRequest {
                url: redact(&next),
                why: RequestRefusal::Scope(refusal),
            });
            return;
        }
        if !self.robots_allow(&next) {
            self.refused_requests.push(RefusedRequest {
                url: redact(&next),
                why: RequestRefusal::Robots,
            });
            return;
        }
        self.next_list = Some((next, n.saturating_add(1)));
    }

    /// Starts reading the chain's next list page, when there is one `--max-pages` allows.
    fn read_ahead(&mut self) {
        let Some((next, _)) = &self.next_list else {
            return;
        };
        if !self.opts.read_ahead
            || self.opts.concurrency < 2
            || self.list_pages >= self.opts.max_pages
        {
            return;
        }
        let (client, url) = (self.client.clone(), next.clone());
        let task = tokio::spawn(async move { client.get(&url, ACCEPT_HTML).await });
        self.ahead = Some((next.clone(), task));
    }

    /// Fetches article pages, a few at once (the client spaces them by any crawl delay).
    /// Results come back in the order asked.
    async fn fetch_articles(&mut self, articles: &[(i64, Url)]) -> Vec<Result<Body, FetchError>> {
        for (id, url) in articles {
            self.seen.insert(*id);
            self.fetched.insert(url.to_string());
        }
        self.article_pages += articles.len();
        let client = self.client.clone();
        futures::stream::iter(articles.iter().map(|(_, u)| u.clone()))
            .map(|u| {
                let client = client.clone();
                async move { client.get(&u, ACCEPT_HTML).await }
            })
            .buffered(self.opts.concurrency.max(1))
            .collect()
            .await
    }

    /// Turns an article page into a raw item.
    fn item(&mut self, id: i64, url: &Url, body: &Body) -> Result<RawItem, ItemFailureKind> {
        let text = self.decode(body);
        let scope = self.client.scope().clone();
        let host_ok = move |u: &Url| scope.check(u).is_ok();
        let x = {
            let page = Page::parse(&text, &body.url);
            extract::extract(
                &page,
                &Rules {
                    layout: &self.layout,
                    host_ok: &host_ok,
                },
            )
            .map_err(ItemFailureKind::Extract)?
        };
        self.notes.extend(x.notes);
        for (i, p) in self.layout.properties.iter().enumerate() {
            let found = match p.role {
                Role::Attachments => !x.attachments.is_empty(),
                Role::Value | Role::Volatile => x.props.contains_key(&p.key),
            };
            if found {
                self.found.insert(i);
            }
        }
        for u in x.off_site {
            self.refused_off_site.insert(redact(&u));
        }
        let mut attachments = Vec::with_capacity(x.attachments.len());
        for (a, u) in x.attachments {
            self.files.insert(a.server_relative_url.clone(), u);
            attachments.push(a);
        }
        let etag = self.fingerprint(&x.props, &attachments);
        Ok(RawItem {
            id,
            props: x.props,
            etag: Some(etag),
            attachments,
            url: Some(url.to_string()),
        })
    }

    /// A fingerprint of what the page says about the item — the view count left out, since
    /// every fetch changes it — so that change detection never depends on the counter.
    fn fingerprint(
        &self,
        props: &serde_json::Map<String, Value>,
        attachments: &[super::RawAttachment],
    ) -> String {
        let volatile: Vec<&str> = self
            .layout
            .properties
            .iter()
            .filter(|p| p.role == Role::Volatile)
            .map(|p| p.key.as_str())
            .collect();
        let stable: serde_json::Map<String, Value> = props
            .iter()
            .filter(|(k, _)| !volatile.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let files: Vec<&str> = attachments
            .iter()
            .map(|a| a.server_relative_url.as_str())
            .collect();
        let bytes = serde_json::to_vec(&(stable, files)).unwrap_or_default();
        let sha = crate::fixity::of_bytes(&bytes).sha256;
        format!("\"html:{}\"", &sha[..16])
    }

    fn fail(&mut self, item_id: i64, kind: ItemFailureKind) {
        tracing::debug!("item {item_id}: {kind}");
        self.failures.push(ItemFailure { item_id, kind });
    }

    /// Item ids below the highest one seen that the list never showed and that did not fail:
    /// SharePoint item ids count up from 1, so these are items the public cannot see (or
    /// deleted ones).
    /// Kept as ranges, so a link to `ID=2147483647` costs one range, not two billion ids.
    fn unseen_items(&self) -> Vec<RangeInclusive<i64>> {
        let Some(max) = self.seen.max() else {
            return Vec::new();
        };
        let mut known = self.seen.clone();
        for f in self.failures.iter().filter(|f| f.item_id < max) {
            known.insert(f.item_id);
        }
        for id in self.refused_items.keys().filter(|id| **id < max) {
            known.insert(*id);
        }
        known.gaps_from(1)
    }

    /// Rules that never found anything — most often a selector that does not fit the
    /// portal's markup — among the article pages actually read.
    fn silent_rules(&self) -> Vec<SilentRule> {
        let pages = self.article_pages - self.failures.len().min(self.article_pages);
        if pages == 0 {
            return Vec::new();
        }
        self.layout
            .properties
            .iter()
            .enumerate()
            .filter(|(i, p)| p.rule.is_some() && !self.found.contains(i))
            .map(|(_, p)| SilentRule {
                label: p.label.clone(),
                pages,
            })
            .collect()
    }
}

/// Why an article page could not be read: a redirect out of scope is the item leaving the
/// portal; anything else a failed fetch.
fn article_failure(e: FetchError) -> ItemFailureKind {
    match e {
        e @ FetchError::Refused {
            redirected_to: Some(_),
            ..
        } => ItemFailureKind::OffSite(e),
        e => ItemFailureKind::Fetch(e),
    }
}

/// The list as `layout` describes it: one field per property, typed as the layout says,
/// the layout's content type taken as given (pages do not show content type ids).
pub fn schema_of(layout: &Layout, list_id: String) -> ListSchema {
    let mut fields: Vec<FieldDef> = Vec::new();
    for p in &layout.properties {
        if fields.iter().any(|f| f.entity_property_name == p.key) {
            continue;
        }
        fields.push(FieldDef {
            title: p.key.clone(),
            internal_name: p.key.clone(),
            entity_property_name: p.key.clone(),
            type_as_string: p.field_type.clone(),
            allow_multiple: p.allow_multiple,
            ..Default::default()
        });
    }
    ListSchema {
        list: ListInfo {
            id: list_id,
            title: layout.list_title.clone(),
            entity_type_name: None,
            item_count: None,
        },
        fields,
        content_types: layout
            .content_type
            .iter()
            .map(|name| ContentTypeInfo {
                name: name.clone(),
                ..Default::default()
            })
            .collect(),
    }
}

impl super::Source for HtmlSource {
    fn via(&self) -> Via {
        Via::Html
    }

    fn site(&self) -> &Url {
        &self.site
    }

    fn protocol(&self) -> Option<String> {
        Some(match &self.fallback {
            Some(_) => "html pages (REST API closed)".into(),
            None => "html pages".into(),
        })
    }

    async fn describe(&mut self) -> Result<ListSchema, SourceError> {
        let robots_url = self
            .site
            .join("/robots.txt")
            .map_err(|_| SourceError::BadUrl(self.site.to_string()))?;
        let robots = if self.opts.ignore_robots {
            self.notes.push(Note::RobotsIgnored);
            Robots::allow_all(robots_url)
        } else {
            self.fetched.insert(robots_url.to_string());
            Robots::fetch(&self.client, &self.site).await?
        };
        if let Some(d) = robots.delay {
            self.client.set_crawl_delay(&self.site, d);
            self.notes.push(Note::CrawlDelay(d));
        }
        self.robots = Some(robots);
        self.read_first_page().await?;
        Ok(self.schema())
    }

    async fn next_page(&mut self, _query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError> {
        let Some((url, n)) = self.next_list_url()? else {
            return Ok(None);
        };
        let already_read = self.first.as_ref().is_some_and(|(u, _)| *u == url);
        if !already_read && self.list_pages >= self.opts.max_pages {
            self.refused_requests.push(RefusedRequest {
                url: redact(&url),
                why: RequestRefusal::MaxPages(self.opts.max_pages),
            });
            self.starts.clear();
            return Ok(None);
        }
        self.read_list_page(url, n).await.map(Some)
    }

    fn file_url(&self, server_relative: &str) -> Option<Url> {
        self.files.get(server_relative).cloned()
    }

    fn facts(&mut self) -> SourceFacts {
        let unseen_items = self.unseen_items();
        // A disallowed link to an item read through another link is no item lost: it is
        // noted with the other disallowed links.
        let (read_anyway, refused_items): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.refused_items)
                .into_iter()
                .partition(|(id, _)| self.seen.contains(*id));
        self.refused_robots
            .extend(read_anyway.into_iter().map(|(_, url)| url));
        let refused = [
            (Refusal::Robots, std::mem::take(&mut self.refused_robots)),
            (Refusal::OffSite, std::mem::take(&mut self.refused_off_site)),
        ]
        .into_iter()
        .filter(|(_, urls)| !urls.is_empty())
        .map(|(reason, urls)| Refused { reason, urls })
        .collect();
        SourceFacts {
            fallback: self.fallback,
            pages: Some(PagesRead {
                list: self.list_pages,
                article: self.article_pages,
            }),
            unseen_items,
            silent_rules: self.silent_rules(),
            refused,
            refused_items: refused_items
                .into_iter()
                .map(|(item_id, url)| RefusedItem { item_id, url })
                .collect(),
            refused_requests: std::mem::take(&mut self.refused_requests),
            notes: std::mem::take(&mut self.notes),
            failures: std::mem::take(&mut self.failures),
            malformed: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_guid_on_the_pages_the_list_id_is_derived_stably_and_said() {
        let source = || {
            let client = Client::new(&Default::default()).unwrap();
            let site = Url::parse("http://127.0.0.1:8080/sites/stp").unwrap();
            HtmlSource::new(client, &site, &layout::sample(), HtmlOptions::default()).unwrap()
        };
        let mut first = source();
        let id = first.schema().list.id;
        assert_eq!(id.len(), 36);
        assert_eq!(source().schema().list.id, id);
        let facts = super::super::Source::facts(&mut first);
        assert!(facts.notes.contains(&Note::DerivedListId(id)), "{facts:?}");
    }
}
