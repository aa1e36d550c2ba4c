//! Source adapters: where raw list items come from.
//!
//! A source reads one SharePoint list and yields its items as [`RawItem`]s: property values
//! keyed by the names the portal uses, plus attachment references, with no interpretation.
//! The REST adapter ([`rest`]) is the first; the SOAP adapter ([`soap`]) reads SharePoint 2010
//! farms, which have no REST API, through `Lists.asmx`, giving the same raw items REST would;
//! the HTML adapter ([`html`]) reads portals whose API is closed through their public pages.

pub mod chosen;
pub mod discover;
pub mod facts;
pub mod html;
pub mod ids;
pub mod rest;
pub mod soap;

pub use discover::{ListDetail, ListSummary, SiteFacts};
pub use facts::{ItemFailure, ItemFailureKind, Note, SourceFacts};
pub use ids::IdSet;
pub use rest::ListedItem;

use crate::fetch::FetchError;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value};

/// Characters percent-encoded in a path segment built from a decoded server-relative URL.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');

/// The absolute URL on `site` of a server-relative path as SharePoint reports it, decoded
/// (REST's `ServerRelativeUrl`, SOAP's raw attachment URLs): each segment percent-encoded as
/// UTF-8, `#`, `%`, `?` and spaces included.
pub fn absolute_file_url(site: &url::Url, server_relative: &str) -> Result<url::Url, SourceError> {
    let encoded: String = server_relative
        .split('/')
        .map(|seg| utf8_percent_encode(seg, PATH_SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/");
    let mut u = site.clone();
    u.set_query(None);
    u.join(&encoded)
        .map_err(|_| SourceError::BadUrl(server_relative.to_string()))
}

/// A list as the portal describes it.
#[derive(Debug, Clone, Default)]
pub struct ListInfo {
    /// The list GUID, lowercase, no braces.
    pub id: String,
    /// The list title.
    pub title: String,
    /// `EntityTypeName`, e.g. `TinTucSuKienList`.
    pub entity_type_name: Option<String>,
    /// Items the list says it holds.
    pub item_count: Option<u64>,
}

/// One field (column) of a list.
#[derive(Debug, Clone, Default)]
pub struct FieldDef {
    /// The display name.
    pub title: String,
    /// The internal name.
    pub internal_name: String,
    /// The key of the field's value in item payloads.
    pub entity_property_name: String,
    /// `TypeAsString`: Text, Note, DateTime, Lookup, LookupMulti, User, URL, …
    pub type_as_string: String,
    /// Whether the field allows several values (lookups and users).
    pub allow_multiple: bool,
    /// Hidden from forms.
    pub hidden: bool,
    /// A value is required.
    pub required: bool,
    /// Computed or set by SharePoint, never typed in (`Created`, `Author`, …).
    pub read_only: bool,
    /// Comes with the list's base type (a built-in field) rather than added to it.
    pub from_base_type: bool,
    /// The values a Choice, MultiChoice or ModStat field offers, as `/fields` lists them.
    pub choices: Vec<String>,
    /// A multi-line (Note) field that holds rich HTML rather than plain text.
    pub rich_text: bool,
}

impl FieldDef {
    /// Lookups and users: values arrive as `<Name>Id` unless expanded.
    pub fn is_lookup_like(&self) -> bool {
        matches!(
            self.type_as_string.as_str(),
            "Lookup" | "LookupMulti" | "User" | "UserMulti"
        )
    }
}

/// A content type of a list.
#[derive(Debug, Clone, Default)]
pub struct ContentTypeInfo {
    /// `0x0100…`.
    pub id: String,
    /// The name, e.g. "Tin Tức Mở Rộng".
    pub name: String,
    /// The internal names of the fields the content type has, in its order; empty when the
    /// source does not know them.
    pub fields: Vec<String>,
}

/// Everything a mapping needs to know about a list before reading items.
#[derive(Debug, Clone, Default)]
pub struct ListSchema {
    /// The list.
    pub list: ListInfo,
    /// Its fields.
    pub fields: Vec<FieldDef>,
    /// Its content types.
    pub content_types: Vec<ContentTypeInfo>,
}

/// What to ask for when reading items: the lookups and users to expand.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// Entity property names of lookup and user fields to expand with their `Id` and `Title`.
    pub expand: Vec<String>,
    /// Internal names of the fields the mapping reads. A source that asks for fields by name
    /// (SOAP's `ViewFields`) reads these and what every item needs (id, version, content
    /// type, attachments); one that reads every field (REST's `$select=*`) ignores it.
    pub fields: Vec<String>,
    /// Items per page (`$top`).
    pub page_size: usize,
}

/// A list item exactly as the portal gave it.
#[derive(Debug, Clone, Default)]
pub struct RawItem {
    /// The item ID.
    pub id: i64,
    /// Property values by entity property name, in nometadata form.
    pub props: Map<String, Value>,
    /// The item's etag, e.g. `"3"`.
    pub etag: Option<String>,
    /// Attachments, with server-relative URLs as served.
    pub attachments: Vec<RawAttachment>,
    /// The page the item was read from, when it is not the REST item URL (HTML source).
    pub url: Option<String>,
}

/// One attachment of an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAttachment {
    /// The file name as SharePoint reports it.
    pub file_name: String,
    /// The server-relative URL, not percent-encoded (e.g. `/Lists/X/Attachments/5/a b#.pdf`).
    pub server_relative_url: String,
}

/// How items were read, recorded in each record's `source.via`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// SharePoint REST (`/_api`).
    Rest,
    /// The portal's public HTML pages.
    Html,
    /// SharePoint 2010's SOAP web service, `/_vti_bin/Lists.asmx`.
    Soap,
}

impl Via {
    /// The name used in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Rest => "rest",
            Via::Html => "html",
            Via::Soap => "soap",
        }
    }
}

/// A source of raw list items. The crawl drives any source the same way: [`describe`]
/// once, then [`next_page`] until it returns `None`.
///
/// [`describe`]: Source::describe
/// [`next_page`]: Source::next_page
#[allow(async_fn_in_trait)]
pub trait Source {
    /// How this source reads items.
    fn via(&self) -> Via;

    /// The site URL, with a trailing slash.
    fn site(&self) -> &url::Url;

    /// A short description of how the source talks to the portal, for the crawl report
    /// (e.g. the JSON shape in use).
    fn protocol(&self) -> Option<String>;

    /// The list, its fields and content types.
    async fn describe(&mut self) -> Result<ListSchema, SourceError>;

    /// The next page of items, or `None` after the last one.
    async fn next_page(&mut self, query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError>;

    /// The absolute URL of a server-relative path as the portal reports it (decoded).
    fn file_url(&self, server_relative: &str) -> Option<url::Url>;

    /// What the source learnt besides items — pages read, links refused, items it could not
    /// see or read, notes — for the crawl report to word. Called once, after the last page.
    fn facts(&mut self) -> SourceFacts {
        SourceFacts::default()
    }
}

/// A failed request in words: the fetch error, with SharePoint's own error code and message
/// when the response body is a SharePoint error.
pub fn explain(e: &FetchError) -> String {
    let FetchError::Status { url, status, body } = e else {
        return e.to_string();
    };
    match crate::sharepoint::error_body::parse(body) {
        Some(sp) => format!("{url}: HTTP {status} ({})", sp.summary()),
        None => e.to_string(),
    }
}

/// Why a source could not read the list.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The REST API does not answer this identity (401/403) or does not exist (404).
    #[error(
        "the REST API at {url} is closed to this identity (HTTP {status}); {}",
        sign_in.as_deref().unwrap_or("the portal may allow only its public HTML pages")
    )]
    ApiClosed {
        /// The URL probed.
        url: String,
        /// The status.
        status: u16,
        /// What the portal asks of a reader who wants more, when it asked to sign in.
        sign_in: Option<String>,
    },
    /// `Lists.asmx` does not answer as a SOAP service (a status, or a page that is no SOAP
    /// envelope).
    #[error("{url} does not answer as SharePoint's Lists.asmx (HTTP {status}{}): the farm has no SharePoint 2010 web services open to this identity; try --source rest or --source html", crate::fetch::status_hint(*status).map(|h| format!(", {h}")).unwrap_or_default())]
    SoapClosed {
        /// The service URL.
        url: String,
        /// The HTTP status of its answer.
        status: u16,
    },
    /// `Lists.asmx` answered with a SOAP fault (never archived as content).
    #[error("{url}: {}{}", fault.summary(), soap_hint(fault))]
    SoapFault {
        /// The service URL, and the operation called.
        url: String,
        /// The fault.
        fault: Box<crate::sharepoint::soap::Fault>,
    },
    /// The list named in the mapping does not exist.
    #[error("list `{title}` not found at {site}: check `[list] title` in the mapping, or name the list with --list TITLE (list titles are matched as the portal shows them){}{}", detail.as_deref().map(|d| format!("; the server said: {d}")).unwrap_or_default(), discover::lists_hint(lists, content_type.as_deref()))]
    ListNotFound {
        /// The site URL.
        site: String,
        /// The title asked for.
        title: String,
        /// The server's message.
        detail: Option<String>,
        /// The lists the site has (not hidden), when they could be read.
        lists: Vec<ListSummary>,
        /// The content type the mapping reads, so that lists holding it are named first.
        content_type: Option<String>,
    },
    /// A response was not what SharePoint sends.
    #[error("{url}: {message}")]
    Protocol {
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The first list page has no link the mapping's article-link rule matches: the rule
    /// does not fit the portal, and a crawl would archive nothing.
    #[error(
        "{url}: no link on the first list page matches [html] links `{selector}`; open the page source (Ctrl+U in a browser), find the element around one article link and fix the selector in the mapping"
    )]
    NoArticleLinks {
        /// The list page.
        url: String,
        /// The rule, as written.
        selector: String,
    },
    /// The request failed.
    #[error("{}", explain(.0))]
    Fetch(#[from] FetchError),
    /// A URL could not be built.
    #[error(
        "invalid URL `{0}`: give the site URL with its scheme, e.g. https://stp.longan.gov.vn/"
    )]
    BadUrl(String),
}

/// What to do about a SOAP fault, when there is something to say.
fn soap_hint(fault: &crate::sharepoint::soap::Fault) -> &'static str {
    use crate::sharepoint::soap::FaultKind;
    match fault.kind() {
        FaultKind::AccessDenied => " (access denied: this identity may not read the list)",
        FaultKind::Threshold => {
            " (the list view threshold: even one item a page was refused; ask the farm's administrator)"
        }
        FaultKind::ListNotFound | FaultKind::Other => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &[u8]) -> FetchError {
        FetchError::Status {
            url: "http://127.0.0.1/_api/web".into(),
            status: code,
            body: body.to_vec(),
        }
    }

    #[test]
    fn a_sharepoint_error_body_is_explained_with_its_code_and_message() {
        let body = br#"{"odata.error":{"code":"-2147024891, System.UnauthorizedAccessException","message":{"lang":"en-US","value":"Access denied."}}}"#;
        assert_eq!(
            explain(&status(403, body)),
            "http://127.0.0.1/_api/web: HTTP 403 (-2147024891, System.UnauthorizedAccessException: Access denied.)"
        );
        // Another body: the fetch layer's own words, with its hint.
        assert_eq!(
            explain(&status(403, b"<html>Forbidden</html>")),
            "http://127.0.0.1/_api/web: HTTP 403 (access denied: this identity may not read it)"
        );
        let e = SourceError::Fetch(status(500, br#"{"error":{"code":"-1, System.X"}}"#));
        assert_eq!(
            e.to_string(),
            "http://127.0.0.1/_api/web: HTTP 500 (-1, System.X)"
        );
    }
}
