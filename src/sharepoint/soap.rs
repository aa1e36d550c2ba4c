//! SharePoint 2010's SOAP web service for lists, `/_vti_bin/Lists.asmx`.
//!
//! SharePoint 2010 farms have no `/_api`; every one of them answers `Lists.asmx`, the
//! interface migration tools use. This module knows its envelopes and nothing else: it builds
//! the request bodies (`GetList`, `GetListItems` with its `QueryOptions` and paging position,
//! `GetListCollection`, `GetListContentTypes`, `GetAttachmentCollection`), parses their
//! answers and SOAP faults, and decodes the 2010 value encodings — `ows_` attributes, `id;#value`
//! lookups and users, `;#a;#b;#` choices, `1`/`0` booleans, `5.00000000000000` numbers,
//! `url, description` hyperlinks, server-local dates, `{GUID}`s — into the values REST's
//! nometadata JSON gives for the same item, so that nothing above the source knows SOAP.
//!
//! Answers are read as a stream of XML events (quick-xml): no tree is built, nesting is
//! bounded, and only the predefined entities and character references are expanded (no DTD,
//! no external entity is ever resolved).

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::{Map, Value, json};

/// The path of the lists web service below a site.
pub const LISTS_ASMX: &str = "_vti_bin/Lists.asmx";

/// The namespace of SharePoint's SOAP services, also the prefix of every `SOAPAction`.
pub const NAMESPACE: &str = "http://schemas.microsoft.com/sharepoint/soap/";

/// The `Content-Type` of a SOAP 1.1 request.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The `errorcode` of a list that does not exist.
pub const LIST_NOT_FOUND: &str = "0x82000006";
/// The `errorcode` of a query over the list view threshold (`SPQueryThrottledException`,
/// HRESULT -2147024860).
pub const THRESHOLD: &str = "0x80070024";
/// The `errorcode` of access denied (`E_ACCESSDENIED`).
pub const ACCESS_DENIED: &str = "0x80070005";

/// Elements nested deeper than this end the parse: no SharePoint answer comes close.
const MAX_DEPTH: usize = 64;

/// A call to `Lists.asmx`: its `SOAPAction` and its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The operation, e.g. `GetListItems`.
    pub operation: &'static str,
    /// The whole SOAP envelope.
    pub body: String,
}

impl Call {
    /// The `SOAPAction` header value.
    pub fn action(&self) -> String {
        format!("{NAMESPACE}{}", self.operation)
    }

    fn new(operation: &'static str, params: &str) -> Self {
        Call {
            operation,
            body: format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
                 <soap:Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
                 xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\
                 <soap:Body><{operation} xmlns=\"{NAMESPACE}\">{params}</{operation}></soap:Body>\
                 </soap:Envelope>"
            ),
        }
    }
}

/// `GetList`: the list's properties, fields and regional settings.
pub fn get_list(list: &str) -> Call {
    Call::new("GetList", &element("listName", list))
}

/// `GetListCollection`: the site's lists.
pub fn get_list_collection() -> Call {
    Call::new("GetListCollection", "")
}

/// `GetListContentTypes`: the list's content types.
pub fn get_list_content_types(list: &str) -> Call {
    Call::new(
        "GetListContentTypes",
        &format!(
            "{}{}",
            element("listName", list),
            element("contentTypeId", "")
        ),
    )
}

/// `GetAttachmentCollection`: the URLs of one item's attachments.
pub fn get_attachment_collection(list: &str, item_id: i64) -> Call {
    Call::new(
        "GetAttachmentCollection",
        &format!(
            "{}{}",
            element("listName", list),
            element("listItemID", &item_id.to_string())
        ),
    )
}

/// One page of `GetListItems`.
#[derive(Debug, Clone, Copy)]
pub struct ItemsRequest<'a> {
    /// The list, by GUID or title.
    pub list: &'a str,
    /// The internal names of the fields to read (`ViewFields`).
    pub view_fields: &'a [String],
    /// Items per page (`rowLimit`); never 0, which means "all" and meets the list view
    /// threshold on a large list.
    pub row_limit: usize,
    /// `ListItemCollectionPositionNext` of the page before, for every page but the first.
    pub position: Option<&'a str>,
}

/// `GetListItems` for one page: the given fields only (`IncludeMandatoryColumns` off), in ID
/// order (an explicit query, so no filter of the default view applies, over the one column
/// that is always indexed), items of every folder, dates in UTC, attachment URLs inline.
pub fn get_list_items(req: &ItemsRequest<'_>) -> Call {
    let fields: String = req
        .view_fields
        .iter()
        .map(|f| format!("<FieldRef Name=\"{}\"/>", escape(f)))
        .collect();
    let paging = req
        .position
        .map(|p| format!("<Paging ListItemCollectionPositionNext=\"{}\"/>", escape(p)))
        .unwrap_or_default();
    let params = format!(
        "{}<viewName></viewName>\
         <query><Query><OrderBy><FieldRef Name=\"ID\" Ascending=\"TRUE\"/></OrderBy></Query></query>\
         <viewFields><ViewFields>{fields}</ViewFields></viewFields>\
         <rowLimit>{}</rowLimit>\
         <queryOptions><QueryOptions>\
         <IncludeMandatoryColumns>FALSE</IncludeMandatoryColumns>\
         <DateInUtc>TRUE</DateInUtc>\
         <IncludeAttachmentUrls>TRUE</IncludeAttachmentUrls>\
         <ViewAttributes Scope=\"RecursiveAll\"/>{paging}\
         </QueryOptions></queryOptions>",
        element("listName", req.list),
        req.row_limit.max(1)
    );
    Call::new("GetListItems", &params)
}

fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// Escapes text for an XML element or a double-quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    /// Not well-formed XML, or not UTF-8.
    #[error("the answer is not well-formed XML: {0}")]
    Xml(String),
    /// Well-formed, but not the answer asked for.
    #[error("the answer is not a {operation} response{}", found.as_deref().map(|f| format!(" (found <{f}>)")).unwrap_or_default())]
    Unexpected {
        /// The operation asked for.
        operation: &'static str,
        /// The first element found in the SOAP body, when there was one.
        found: Option<String>,
    },
}

/// A SOAP fault: SharePoint's `SoapServerException` with its `errorstring` and `errorcode`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    /// `faultcode`, e.g. `soap:Server`.
    pub code: String,
    /// `faultstring`, usually `Exception of type '…SoapServerException' was thrown.`
    pub string: String,
    /// `detail/errorstring`: what SharePoint says went wrong.
    pub error_string: Option<String>,
    /// `detail/errorcode`, e.g. `0x82000006`.
    pub error_code: Option<String>,
}

/// What a fault means for a reader of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The list does not exist.
    ListNotFound,
    /// The query meets the list view threshold: ask for fewer items at once.
    Threshold,
    /// The identity may not read it.
    AccessDenied,
    /// Anything else.
    Other,
}

impl Fault {
    /// What the fault means, from its error code or, lacking one, its words.
    pub fn kind(&self) -> FaultKind {
        let code = self
            .error_code
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        let words = format!(
            "{} {}",
            self.string,
            self.error_string.as_deref().unwrap_or("")
        )
        .to_ascii_lowercase();
        if code == LIST_NOT_FOUND || words.contains("list does not exist") {
            FaultKind::ListNotFound
        } else if code == THRESHOLD
            || words.contains("list view threshold")
            || words.contains("spquerythrottledexception")
        {
            FaultKind::Threshold
        } else if code == ACCESS_DENIED
            || words.contains("access denied")
            || words.contains("access is denied")
        {
            FaultKind::AccessDenied
        } else {
            FaultKind::Other
        }
    }

    /// What a user is shown: the error string (or the fault string) and the code.
    pub fn summary(&self) -> String {
        let text = self
            .error_string
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&self.string);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        match &self.error_code {
            Some(code) => format!("SOAP fault {code}: {text}"),
            None => format!("SOAP fault {}: {text}", self.code),
        }
    }
}

/// The fault in `body`, when it is a SOAP envelope carrying one.
pub fn parse_fault(body: &[u8]) -> Option<Fault> {
    let mut fault = None::<Fault>;
    walk(body, &mut |path, ev| {
        let Some(f) = fault.as_mut() else {
            if let Ev::Open(_) = ev
                && path.last().map(String::as_str) == Some("Fault")
                && path.iter().any(|p| p == "Body")
            {
                fault = Some(Fault::default());
            }
            return;
        };
        if let Ev::Text(t) = ev {
            let slot = match path.last().map(String::as_str) {
                Some("faultcode") => &mut f.code,
                Some("faultstring") => &mut f.string,
                Some("errorstring") => f.error_string.get_or_insert_with(String::new),
                Some("errorcode") => f.error_code.get_or_insert_with(String::new),
                _ => return,
            };
            slot.push_str(&t);
        }
    })
    .ok()?;
    fault.map(|mut f| {
        f.code = f.code.trim().to_string();
        f.error_code = f.error_code.map(|c| c.trim().to_ascii_lowercase());
        f
    })
}

/// Whether `body` is a SOAP envelope (an answer or a fault) rather than, say, an HTML page.
pub fn is_envelope(body: &[u8]) -> bool {
    let mut root = None::<bool>;
    let _ = walk(body, &mut |path, ev| {
        if root.is_none()
            && let Ev::Open(_) = ev
        {
            root = Some(path.len() == 1 && path[0] == "Envelope");
        }
    });
    root.unwrap_or(false)
}

/// One field of a list as `GetList` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSchema {
    /// `Name`: the internal name, the `ows_` attribute's suffix.
    pub name: String,
    /// `DisplayName`.
    pub display_name: String,
    /// `Type`: Text, Note, DateTime, Lookup, LookupMulti, User, UserMulti, URL, …
    pub type_name: String,
    /// `Mult="TRUE"`: several values.
    pub mult: bool,
    /// `Hidden="TRUE"`.
    pub hidden: bool,
    /// `ReadOnly="TRUE"`.
    pub read_only: bool,
    /// `Required="TRUE"`.
    pub required: bool,
    /// `FromBaseType="TRUE"`.
    pub from_base_type: bool,
    /// `RichText="TRUE"`.
    pub rich_text: bool,
    /// `CHOICES/CHOICE`.
    pub choices: Vec<String>,
}

/// A list as `GetList` (or, without fields, `GetListCollection`) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSchema {
    /// `ID`, lowercase, without braces.
    pub id: String,
    /// `Title`.
    pub title: String,
    /// `ItemCount`.
    pub item_count: Option<u64>,
    /// `ServerTemplate`: 100 a generic list, 101 a document library, …
    pub server_template: Option<i64>,
    /// `Hidden="True"`.
    pub hidden: bool,
    /// `EnableVersioning`.
    pub versioning: Option<bool>,
    /// `EnableAttachments`.
    pub attachments: Option<bool>,
    /// `RootFolder` (`/Lists/TinTucSuKien`), when given.
    pub root_folder: Option<String>,
    /// `Fields/Field`, in order (`GetList` only).
    pub fields: Vec<FieldSchema>,
    /// `RegionalSettings/TimeZone`: the bias in minutes, UTC = local time + bias (−420 for
    /// UTC+07:00); daylight saving time is not in it.
    pub time_zone_bias: Option<i32>,
    /// `RegionalSettings/Locale` (an LCID).
    pub locale: Option<u32>,
    /// `ServerSettings/ServerVersion`, e.g. `14.0.7015.1000`.
    pub server_version: Option<String>,
}

/// Parses a `GetList` answer.
pub fn parse_list(body: &[u8]) -> Result<ListSchema, SoapError> {
    let mut list = None::<ListSchema>;
    let mut field = None::<FieldSchema>;
    walk(body, &mut |path, ev| {
        let name = path.last().map(String::as_str).unwrap_or("");
        let parent = path
            .len()
            .checked_sub(2)
            .map(|i| path[i].as_str())
            .unwrap_or("");
        match ev {
            Ev::Open(attrs) if name == "List" && parent == "GetListResult" => {
                list = Some(list_from(&attrs));
            }
            Ev::Open(attrs) if name == "Field" && parent == "Fields" => {
                field = Some(field_from(&attrs));
            }
            Ev::Close if name == "Field" && parent == "Fields" => {
                if let (Some(l), Some(f)) = (list.as_mut(), field.take()) {
                    l.fields.push(f);
                }
            }
            Ev::Text(t) if name == "CHOICE" => {
                if let Some(f) = field.as_mut() {
                    f.choices.push(t);
                }
            }
            Ev::Text(t) if parent == "RegionalSettings" || parent == "ServerSettings" => {
                let Some(l) = list.as_mut() else { return };
                let t = t.trim();
                match name {
                    "TimeZone" => l.time_zone_bias = t.parse().ok(),
                    "Locale" => l.locale = t.parse().ok(),
                    "ServerVersion" => l.server_version = Some(t.to_string()),
                    _ => {}
                }
            }
            _ => {}
        }
    })?;
    list.ok_or_else(|| unexpected(body, "GetList"))
}

/// Parses a `GetListCollection` answer: the site's lists, hidden ones included.
pub fn parse_list_collection(body: &[u8]) -> Result<Vec<ListSchema>, SoapError> {
    let mut lists = Vec::new();
    let mut seen = false;
    walk(body, &mut |path, ev| {
        let name = path.last().map(String::as_str).unwrap_or("");
        if let Ev::Open(attrs) = ev {
            if name == "GetListCollectionResult" {
                seen = true;
            } else if name == "List" && path.iter().any(|p| p == "Lists") {
                lists.push(list_from(&attrs));
            }
        }
    })?;
    if seen {
        Ok(lists)
    } else {
        Err(unexpected(body, "GetListCollection"))
    }
}

/// A content type of a list, as `GetListContentTypes` names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentType {
    /// `ID`, `0x0100…`.
    pub id: String,
    /// `Name`.
    pub name: String,
}

/// Parses a `GetListContentTypes` answer.
pub fn parse_content_types(body: &[u8]) -> Result<Vec<ContentType>, SoapError> {
    let mut out = Vec::new();
    let mut seen = false;
    walk(body, &mut |path, ev| {
        let name = path.last().map(String::as_str).unwrap_or("");
        if let Ev::Open(attrs) = ev {
            if name == "ContentTypes" {
                seen = true;
            } else if name == "ContentType" && seen {
                out.push(ContentType {
                    id: attr(&attrs, "ID").unwrap_or_default(),
                    name: attr(&attrs, "Name").unwrap_or_default(),
                });
            }
        }
    })?;
    if seen {
        Ok(out)
    } else {
        Err(unexpected(body, "GetListContentTypes"))
    }
}

/// Parses a `GetAttachmentCollection` answer: the attachments' URLs, as served (absolute, not
/// percent-encoded).
pub fn parse_attachments(body: &[u8]) -> Result<Vec<String>, SoapError> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = false;
    walk(body, &mut |path, ev| {
        let name = path.last().map(String::as_str).unwrap_or("");
        match ev {
            Ev::Open(_) if name == "Attachments" => seen = true,
            Ev::Open(_) if name == "Attachment" => out.push(String::new()),
            Ev::Text(t) if name == "Attachment" => {
                if let Some(last) = out.last_mut() {
                    last.push_str(&t);
                }
            }
            _ => {}
        }
    })?;
    if !seen {
        return Err(unexpected(body, "GetAttachmentCollection"));
    }
    Ok(out
        .into_iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect())
}

/// One page of `GetListItems`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemsPage {
    /// Each `z:row`: its `ows_` attributes without the prefix, in order. Empty fields are
    /// absent, as SharePoint omits them.
    pub rows: Vec<Vec<(String, String)>>,
    /// `ListItemCollectionPositionNext`: where the next page starts; absent on the last.
    pub next: Option<String>,
}

/// Parses a `GetListItems` answer.
pub fn parse_items(body: &[u8]) -> Result<ItemsPage, SoapError> {
    let mut page = ItemsPage::default();
    let mut seen = false;
    walk(body, &mut |path, ev| {
        let name = path.last().map(String::as_str).unwrap_or("");
        let Ev::Open(attrs) = ev else { return };
        if name == "data" && path.iter().any(|p| p == "listitems") {
            seen = true;
            page.next = attr(&attrs, "ListItemCollectionPositionNext").filter(|p| !p.is_empty());
        } else if name == "row" && seen {
            page.rows.push(
                attrs
                    .into_iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix("ows_")?.to_string(), v)))
                    .collect(),
            );
        }
    })?;
    if seen {
        Ok(page)
    } else {
        Err(unexpected(body, "GetListItems"))
    }
}

fn list_from(attrs: &[(String, String)]) -> ListSchema {
    ListSchema {
        id: attr(attrs, "ID").map(|g| guid(&g)).unwrap_or_default(),
        title: attr(attrs, "Title").unwrap_or_default(),
        item_count: attr(attrs, "ItemCount").and_then(|n| n.trim().parse().ok()),
        server_template: attr(attrs, "ServerTemplate").and_then(|n| n.trim().parse().ok()),
        hidden: flag(attrs, "Hidden"),
        versioning: attr(attrs, "EnableVersioning").map(|v| v.eq_ignore_ascii_case("true")),
        attachments: attr(attrs, "EnableAttachments").map(|v| v.eq_ignore_ascii_case("true")),
        root_folder: attr(attrs, "RootFolder").filter(|r| !r.is_empty()),
        ..ListSchema::default()
    }
}

fn field_from(attrs: &[(String, String)]) -> FieldSchema {
    FieldSchema {
        name: attr(attrs, "Name").unwrap_or_default(),
        display_name: attr(attrs, "DisplayName").unwrap_or_default(),
        type_name: attr(attrs, "Type").unwrap_or_default(),
        mult: flag(attrs, "Mult"),
        hidden: flag(attrs, "Hidden"),
        read_only: flag(attrs, "ReadOnly"),
        required: flag(attrs, "Required"),
        from_base_type: flag(attrs, "FromBaseType"),
        rich_text: flag(attrs, "RichText"),
        choices: Vec::new(),
    }
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn flag(attrs: &[(String, String)], name: &str) -> bool {
    attr(attrs, name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn unexpected(body: &[u8], operation: &'static str) -> SoapError {
    let mut found = None;
    let _ = walk(body, &mut |path, ev| {
        if found.is_none()
            && let Ev::Open(_) = ev
            && path.len() >= 2
            && path[path.len() - 2] == "Body"
        {
            found = path.last().cloned();
        }
    });
    SoapError::Unexpected { operation, found }
}

/// What the walk reports for the element at the end of the path.
enum Ev {
    /// An element opened, with its attributes (local names, values unescaped); `xmlns`
    /// declarations left out.
    Open(Vec<(String, String)>),
    /// Text inside it (a piece; several may come).
    Text(String),
    /// It closed.
    Close,
}

/// Streams `body` as XML, calling `visit` with the path of local element names.
fn walk(body: &[u8], visit: &mut dyn FnMut(&[String], Ev)) -> Result<(), SoapError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| SoapError::Xml(format!("not UTF-8 ({e})")))?
        .trim_start_matches('\u{feff}');
    let mut reader = Reader::from_str(text);
    let xml = |e: &dyn std::fmt::Display| SoapError::Xml(e.to_string());
    let mut path: Vec<String> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| xml(&e))? {
            Event::Start(e) => {
                let attrs = attributes(&e)?;
                if path.len() >= MAX_DEPTH {
                    return Err(SoapError::Xml(format!(
                        "elements nested deeper than {MAX_DEPTH} levels"
                    )));
                }
                path.push(e.local_name().as_ref().to_string());
                visit(&path, Ev::Open(attrs));
            }
            Event::Empty(e) => {
                let attrs = attributes(&e)?;
                path.push(e.local_name().as_ref().to_string());
                visit(&path, Ev::Open(attrs));
                visit(&path, Ev::Close);
                path.pop();
            }
            Event::End(_) => {
                visit(&path, Ev::Close);
                path.pop();
            }
            Event::Text(t) => visit(&path, Ev::Text(t.xml10_content().into_owned())),
            Event::CData(t) => visit(&path, Ev::Text(t.xml10_content().into_owned())),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| xml(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.xml10_content();
                        quick_xml::escape::resolve_xml_entity(&name)
                            .ok_or_else(|| SoapError::Xml(format!("an unknown entity `&{name};`")))?
                            .to_string()
                    }
                };
                visit(&path, Ev::Text(resolved));
            }
            Event::Eof => return Ok(()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::DocType(_) => {
                return Err(SoapError::Xml("a DOCTYPE, which no SOAP answer has".into()));
            }
        }
    }
}

fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, SoapError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| SoapError::Xml(e.to_string()))?;
        let key = a.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| SoapError::Xml(e.to_string()))?;
        out.push((a.key.local_name().as_ref().to_string(), value.into_owned()));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

/// A `{GUID}` as REST writes it: lowercase, without braces.
pub fn guid(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_ascii_lowercase()
}

/// Splits a `;#`-joined value, where `;;` stands for a `;` inside a part.
pub fn split_values(raw: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            (';', Some(';')) => {
                chars.next();
                if let Some(last) = parts.last_mut() {
                    last.push(';');
                }
            }
            (';', Some('#')) => {
                chars.next();
                parts.push(String::new());
            }
            (c, _) => {
                if let Some(last) = parts.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    parts
}

/// `id;#value` pairs of a lookup or user value (`5;#Tin tức;#6;#Sự kiện`); `None` when an id
/// is not a whole number.
pub fn lookup_values(raw: &str) -> Option<Vec<(i64, String)>> {
    if raw.trim().is_empty() {
        return Some(Vec::new());
    }
    let parts = split_values(raw);
    let mut out = Vec::with_capacity(parts.len() / 2);
    let mut it = parts.into_iter();
    while let Some(id) = it.next() {
        let id: i64 = id.trim().parse().ok()?;
        out.push((id, it.next().unwrap_or_default()));
    }
    Some(out)
}

/// The choices of a multi-choice value (`;#A;#B;#`).
pub fn multichoice(raw: &str) -> Vec<String> {
    split_values(raw)
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect()
}

/// A file-system field's value without its `id;#` prefix (`6;#0` → `0`).
pub fn without_id_prefix(raw: &str) -> &str {
    match raw.split_once(";#") {
        Some((id, rest)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => raw,
    }
}

/// A boolean: `1`/`0` (or `TRUE`/`FALSE`).
pub fn boolean(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "-1" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// A number as SOAP writes it (`5.00000000000000`).
pub fn number(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A hyperlink `url, description`: commas inside the URL are doubled; the description may be
/// absent.
pub fn url_value(raw: &str) -> (String, Option<String>) {
    let mut url = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == ',' {
            match chars.peek() {
                Some((_, ',')) => {
                    chars.next();
                    url.push(',');
                    continue;
                }
                Some((_, ' ')) => return (url, Some(raw[i + 2..].to_string())),
                _ => {}
            }
        }
        url.push(c);
    }
    (url, None)
}

/// A date as SOAP writes it, as REST's UTC `YYYY-MM-DDTHH:MM:SSZ`: `2022-10-05T01:50:00Z`
/// (`DateInUtc` honoured) as it is, server-local `2022-10-05 08:50:00` turned to UTC with the
/// list's time-zone bias (minutes, UTC = local + bias). `None` when it is neither, or local
/// without a bias to convert it with.
pub fn datetime(raw: &str, bias_minutes: Option<i32>) -> Option<String> {
    let v = raw.trim();
    let utc = |ts: jiff::Timestamp| ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    if v.ends_with(['Z', 'z']) || v.get(19..).is_some_and(|t| t.starts_with(['+', '-'])) {
        return v.parse::<jiff::Timestamp>().ok().map(utc);
    }
    let local: jiff::civil::DateTime = v.replacen(' ', "T", 1).parse().ok()?;
    let offset = jiff::tz::Offset::from_seconds(-bias_minutes? * 60).ok()?;
    offset.to_timestamp(local).ok().map(utc)
}

/// The attachments a row's `ows_Attachments` shows: their URLs (with
/// `IncludeAttachmentUrls`, `;#url;#url;#`), or only whether there are any (`1`, `0`, a
/// count) when the farm did not include them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachments {
    /// The URLs, as served (absolute, not percent-encoded).
    Urls(Vec<String>),
    /// Whether the item has attachments, without their URLs.
    Flag(bool),
}

/// Reads `ows_Attachments`.
pub fn attachments(raw: &str) -> Attachments {
    let t = raw.trim();
    if let Ok(n) = t.parse::<i64>() {
        return Attachments::Flag(n != 0);
    }
    if let Some(b) = boolean(t) {
        return Attachments::Flag(b);
    }
    Attachments::Urls(
        split_values(t)
            .into_iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect(),
    )
}

/// The server-relative path of an absolute URL as SOAP gives it, raw: everything after the
/// authority, kept as served (`#`, `%`, spaces and letters are not URL syntax here).
pub fn server_relative(raw_url: &str) -> Option<&str> {
    let rest = raw_url.trim().split_once("://").map(|(_, r)| r)?;
    let slash = rest.find('/')?;
    Some(&rest[slash..])
}

/// One value of a row in REST's nometadata form: the value under the field's REST name, and
/// for lookups and users also the ids under `<Name>Id`.
#[derive(Debug, Clone, PartialEq)]
pub struct RestValue {
    /// The value, or `None` when REST gives only the ids (a lookup not expanded).
    pub value: Option<Value>,
    /// `<Name>Id` of a lookup or user.
    pub ids: Option<Value>,
}

/// A field's value in REST's nometadata shape, given its `GetList` type. `expand`: a lookup or
/// user asked for with its titles (REST's `$expand`), giving `{Id, Title}` objects beside the
/// ids. A value that does not read as its type is passed on as the text served, so that the
/// mapping names it when it cannot convert it.
pub fn rest_value(
    type_name: &str,
    mult: bool,
    expand: bool,
    raw: &str,
    bias_minutes: Option<i32>,
) -> RestValue {
    let plain = |v: Value| RestValue {
        value: Some(v),
        ids: None,
    };
    let text = || Value::String(raw.to_string());
    match type_name {
        "Lookup" | "LookupMulti" | "User" | "UserMulti" => {
            let multi = mult || type_name.ends_with("Multi");
            let Some(pairs) = lookup_values(raw) else {
                return plain(text());
            };
            let object = |(id, title): &(i64, String)| json!({"Id": id, "Title": title});
            let (value, ids) = if multi {
                (
                    Value::Array(pairs.iter().map(object).collect()),
                    Value::Array(pairs.iter().map(|(id, _)| json!(id)).collect()),
                )
            } else {
                match pairs.first() {
                    Some(p) => (object(p), json!(p.0)),
                    None => (Value::Null, Value::Null),
                }
            };
            RestValue {
                value: expand.then_some(value),
                ids: Some(ids),
            }
        }
        "Boolean" | "AllDayEvent" => plain(boolean(raw).map(Value::Bool).unwrap_or_else(text)),
        "Number" | "Currency" => plain(number(raw).map(|f| json!(f)).unwrap_or_else(text)),
        "Integer" | "Counter" | "ModStat" => plain(
            without_id_prefix(raw)
                .trim()
                .parse::<i64>()
                .map(|n| json!(n))
                .unwrap_or_else(|_| text()),
        ),
        "DateTime" => plain(
            datetime(without_id_prefix(raw), bias_minutes)
                .map(Value::String)
                .unwrap_or_else(text),
        ),
        "MultiChoice" => plain(Value::Array(
            multichoice(raw).into_iter().map(Value::String).collect(),
        )),
        "URL" => {
            let (url, description) = url_value(raw);
            let mut m = Map::new();
            m.insert(
                "Description".into(),
                description.map(Value::String).unwrap_or(Value::Null),
            );
            m.insert("Url".into(), Value::String(url));
            plain(Value::Object(m))
        }
        "Guid" => plain(Value::String(guid(raw))),
        "Attachments" => plain(Value::Bool(match attachments(raw) {
            Attachments::Urls(u) => !u.is_empty(),
            Attachments::Flag(b) => b,
        })),
        "Calculated" => plain(calculated(raw, bias_minutes)),
        _ => plain(text()),
    }
}

/// A calculated value, `type;#value` (`float;#12.5`, `datetime;#2009-08-25 14:24:48`).
fn calculated(raw: &str, bias_minutes: Option<i32>) -> Value {
    let Some((kind, v)) = raw.split_once(";#") else {
        return Value::String(raw.to_string());
    };
    match kind {
        "float" => number(v).map(|f| json!(f)),
        "boolean" => boolean(v).map(Value::Bool),
        "datetime" => datetime(v, bias_minutes).map(Value::String),
        _ => Some(Value::String(v.to_string())),
    }
    .unwrap_or_else(|| Value::String(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(inner: &str) -> Vec<u8> {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>{inner}</soap:Body></soap:Envelope>"
        )
        .into_bytes()
    }

    #[test]
    fn a_list_items_request_names_its_fields_page_and_options() {
        let fields = vec!["ID".to_string(), "T_x00f3_m & t".to_string()];
        let call = get_list_items(&ItemsRequest {
            list: "Tin tức <sự kiện>",
            view_fields: &fields,
            row_limit: 0,
            position: Some("Paged=TRUE&p_ID=5"),
        });
        assert_eq!(
            call.action(),
            "http://schemas.microsoft.com/sharepoint/soap/GetListItems"
        );
        for part in [
            "<listName>Tin tức &lt;sự kiện&gt;</listName>",
            "<FieldRef Name=\"ID\"/><FieldRef Name=\"T_x00f3_m &amp; t\"/>",
            "<rowLimit>1</rowLimit>",
            "<IncludeMandatoryColumns>FALSE</IncludeMandatoryColumns>",
            "<DateInUtc>TRUE</DateInUtc>",
            "<IncludeAttachmentUrls>TRUE</IncludeAttachmentUrls>",
            "<Paging ListItemCollectionPositionNext=\"Paged=TRUE&amp;p_ID=5\"/>",
            "<OrderBy><FieldRef Name=\"ID\" Ascending=\"TRUE\"/></OrderBy>",
        ] {
            assert!(call.body.contains(part), "{part} in {}", call.body);
        }
        assert!(is_envelope(call.body.as_bytes()));
    }

    #[test]
    fn faults_are_read_and_told_apart() {
        let fault = |code: &str, text: &str| {
            envelope(&format!(
                "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Exception of type 'Microsoft.SharePoint.SoapServer.SoapServerException' was thrown.</faultstring><detail><errorstring xmlns=\"http://schemas.microsoft.com/sharepoint/soap/\">{text}</errorstring><errorcode xmlns=\"http://schemas.microsoft.com/sharepoint/soap/\">{code}</errorcode></detail></soap:Fault>"
            ))
        };
        let f = parse_fault(&fault(
            "0x82000006",
            "List does not exist.\n\nThe page you selected contains a list that does not exist.",
        ))
        .unwrap();
        assert_eq!(f.kind(), FaultKind::ListNotFound);
        assert_eq!(
            f.summary(),
            "SOAP fault 0x82000006: List does not exist. The page you selected contains a list that does not exist."
        );
        let t = parse_fault(&fault("0x80070024", "The attempted operation is prohibited because it exceeds the list view threshold enforced by the administrator.")).unwrap();
        assert_eq!(t.kind(), FaultKind::Threshold);
        let a = parse_fault(&fault(
            "0x80070005",
            "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
        ))
        .unwrap();
        assert_eq!(a.kind(), FaultKind::AccessDenied);
        assert_eq!(
            parse_fault(&fault(
                "0x82000000",
                "Element &lt;Query&gt; of parameter query is missing or invalid."
            ))
            .unwrap()
            .kind(),
            FaultKind::Other
        );
        assert!(parse_fault(&envelope("<GetListResponse/>")).is_none());
        assert!(parse_fault(b"<html><body>Error</body></html>").is_none());
        assert!(!is_envelope(b"<html><body>Error</body></html>"));
    }

    #[test]
    fn get_list_gives_fields_choices_and_the_time_zone() {
        let body = envelope(
            "<GetListResponse xmlns=\"http://schemas.microsoft.com/sharepoint/soap/\"><GetListResult>\
             <List ID=\"{3DE2E36D-678F-459C-837A-2DB7C83AFD8B}\" Title=\"Tin tức sự kiện\" ItemCount=\"31\" ServerTemplate=\"100\" RootFolder=\"/Lists/TinTucSuKien\" EnableAttachments=\"True\">\
             <Fields><Field Type=\"ModStat\" Name=\"_ModerationStatus\" DisplayName=\"Approval Status\" ReadOnly=\"TRUE\" FromBaseType=\"TRUE\"><CHOICES><CHOICE>0;#Approved</CHOICE><CHOICE>1;#Rejected</CHOICE></CHOICES><Default>0</Default></Field>\
             <Field Type=\"LookupMulti\" Mult=\"TRUE\" Name=\"Ph_x00e2_n_x0020_lo_x1ea1_i\" DisplayName=\"Phân loại\"/></Fields>\
             <RegionalSettings><Language>1066</Language><Locale>1066</Locale><TimeZone>-420</TimeZone></RegionalSettings>\
             <ServerSettings><ServerVersion>14.0.7015.1000</ServerVersion></ServerSettings></List></GetListResult></GetListResponse>",
        );
        let list = parse_list(&body).unwrap();
        assert_eq!(list.id, "3de2e36d-678f-459c-837a-2db7c83afd8b");
        assert_eq!(list.title, "Tin tức sự kiện");
        assert_eq!(list.item_count, Some(31));
        assert_eq!(list.time_zone_bias, Some(-420));
        assert_eq!(list.server_version.as_deref(), Some("14.0.7015.1000"));
        assert_eq!(list.fields.len(), 2);
        assert_eq!(list.fields[0].choices, ["0;#Approved", "1;#Rejected"]);
        assert!(list.fields[0].read_only && list.fields[0].from_base_type);
        assert!(list.fields[1].mult);
        assert_eq!(list.fields[1].display_name, "Phân loại");
        assert_eq!(
            parse_list(&envelope("<GetListCollectionResponse/>")),
            Err(SoapError::Unexpected {
                operation: "GetList",
                found: Some("GetListCollectionResponse".into())
            })
        );
    }

    #[test]
    fn rows_keep_their_attributes_unescaped_and_the_next_position() {
        let body = envelope(
            "<GetListItemsResponse><GetListItemsResult><listitems xmlns:rs=\"urn:schemas-microsoft-com:rowset\" xmlns:z=\"#RowsetSchema\">\
             <rs:data ItemCount=\"2\" ListItemCollectionPositionNext=\"Paged=TRUE&amp;p_ID=2\">\
             <z:row ows_ID=\"1\" ows_LichSu=\"a&#10;b &amp; &lt;c&gt;\" ows_Title=\"Tin &quot;1&quot;\"/>\
             <z:row ows_ID=\"2\"/></rs:data></listitems></GetListItemsResult></GetListItemsResponse>",
        );
        let page = parse_items(&body).unwrap();
        assert_eq!(page.next.as_deref(), Some("Paged=TRUE&p_ID=2"));
        assert_eq!(
            page.rows[0],
            vec![
                ("ID".to_string(), "1".to_string()),
                ("LichSu".to_string(), "a\nb & <c>".to_string()),
                ("Title".to_string(), "Tin \"1\"".to_string()),
            ]
        );
        assert_eq!(page.rows.len(), 2);
        let last = envelope(
            "<GetListItemsResponse><GetListItemsResult><listitems><rs:data xmlns:rs=\"r\" ItemCount=\"0\"></rs:data></listitems></GetListItemsResult></GetListItemsResponse>",
        );
        assert_eq!(parse_items(&last).unwrap(), ItemsPage::default());
    }

    #[test]
    fn hostile_xml_is_refused_not_expanded() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>";
        assert!(parse_items(bomb).is_err());
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(
            parse_items(deep.as_bytes()),
            Err(SoapError::Xml(_))
        ));
        assert!(parse_items(b"\xff\xfe<a/>").is_err());
    }

    #[test]
    fn lookups_and_users_become_rest_objects_and_ids() {
        assert_eq!(
            rest_value("User", false, true, "15;#Lê Ngọc Diễm", None),
            RestValue {
                value: Some(json!({"Id": 15, "Title": "Lê Ngọc Diễm"})),
                ids: Some(json!(15)),
            }
        );
        assert_eq!(
            rest_value(
                "LookupMulti",
                true,
                true,
                "5;#Văn bản mới;#6;#Cải cách;;#hành chính",
                None
            ),
            RestValue {
                value: Some(
                    json!([{"Id": 5, "Title": "Văn bản mới"}, {"Id": 6, "Title": "Cải cách;#hành chính"}])
                ),
                ids: Some(json!([5, 6])),
            }
        );
        assert_eq!(
            rest_value("Lookup", false, false, "3;#Thông báo", None),
            RestValue {
                value: None,
                ids: Some(json!(3))
            }
        );
        // Not a lookup value: passed on for the mapping to name.
        assert_eq!(
            rest_value("Lookup", false, true, "Thông báo", None).value,
            Some(json!("Thông báo"))
        );
    }

    #[test]
    fn choices_booleans_numbers_and_guids() {
        let v = |t: &str, raw: &str| rest_value(t, false, false, raw, None).value.unwrap();
        assert_eq!(v("MultiChoice", ";#Tin;#Ảnh;#"), json!(["Tin", "Ảnh"]));
        assert_eq!(v("Boolean", "1"), json!(true));
        assert_eq!(v("Boolean", "0"), json!(false));
        assert_eq!(v("Number", "5.00000000000000"), json!(5.0));
        assert_eq!(v("Number", "356.000000000000"), json!(356.0));
        assert_eq!(v("Integer", "2"), json!(2));
        assert_eq!(v("ModStat", "0"), json!(0));
        assert_eq!(v("Counter", "12"), json!(12));
        assert_eq!(
            v("Guid", "{3E23BC87-520A-4403-A882-2D2107E92A8A}"),
            json!("3e23bc87-520a-4403-a882-2d2107e92a8a")
        );
        assert_eq!(v("Calculated", "float;#600.000000000000"), json!(600.0));
        assert_eq!(v("Number", "nhiều"), json!("nhiều"));
        assert_eq!(without_id_prefix("6;#0"), "0");
    }

    #[test]
    fn hyperlinks_split_at_the_first_single_comma() {
        assert_eq!(
            url_value("https://baolongan.vn/a,,b?x=1, Báo Long An, số 5"),
            (
                "https://baolongan.vn/a,b?x=1".to_string(),
                Some("Báo Long An, số 5".to_string())
            )
        );
        assert_eq!(url_value("http://x/a.jpg"), ("http://x/a.jpg".into(), None));
        assert_eq!(
            rest_value("URL", false, false, "http://x/a.jpg, Hội nghị", None).value,
            Some(json!({"Description": "Hội nghị", "Url": "http://x/a.jpg"}))
        );
    }

    #[test]
    fn dates_become_utc_whether_or_not_the_farm_honours_date_in_utc() {
        assert_eq!(
            datetime("2022-10-05T01:50:00Z", Some(-420)).as_deref(),
            Some("2022-10-05T01:50:00Z")
        );
        assert_eq!(
            datetime("2022-10-05 08:50:00", Some(-420)).as_deref(),
            Some("2022-10-05T01:50:00Z")
        );
        // Local midnight in UTC+7 is the previous day in UTC.
        assert_eq!(
            datetime("2023-01-01 00:00:00", Some(-420)).as_deref(),
            Some("2022-12-31T17:00:00Z")
        );
        assert_eq!(
            datetime("2022-10-05 08:50:00", Some(480)).as_deref(),
            Some("2022-10-05T16:50:00Z")
        );
        assert_eq!(datetime("2022-10-05 08:50:00", None), None);
        assert_eq!(datetime("hôm qua", Some(0)), None);
        assert_eq!(
            rest_value("DateTime", false, false, "2022-10-05 08:50:00", Some(-420)).value,
            Some(json!("2022-10-05T01:50:00Z"))
        );
    }

    #[test]
    fn attachment_urls_arrive_raw_and_keep_their_awkward_characters() {
        let raw = ";#http://127.0.0.1:8080/Lists/TinTuc/Attachments/15/Kế hoạch #3 năm 2023.docx;#http://127.0.0.1:8080/Lists/TinTuc/Attachments/15/Tăng 15% hồ sơ.xlsx;#";
        let Attachments::Urls(urls) = attachments(raw) else {
            panic!("urls")
        };
        assert_eq!(
            urls.iter()
                .map(|u| server_relative(u).unwrap())
                .collect::<Vec<_>>(),
            [
                "/Lists/TinTuc/Attachments/15/Kế hoạch #3 năm 2023.docx",
                "/Lists/TinTuc/Attachments/15/Tăng 15% hồ sơ.xlsx"
            ]
        );
        assert_eq!(attachments("1"), Attachments::Flag(true));
        assert_eq!(attachments("0"), Attachments::Flag(false));
        assert_eq!(attachments(""), Attachments::Urls(vec![]));
        assert_eq!(
            rest_value("Attachments", false, false, raw, None).value,
            Some(json!(true))
        );
        let collection = envelope(
            "<GetAttachmentCollectionResponse><GetAttachmentCollectionResult><Attachments><Attachment>http://h/Lists/T/Attachments/1/a &amp; b.pdf</Attachment></Attachments></GetAttachmentCollectionResult></GetAttachmentCollectionResponse>",
        );
        assert_eq!(
            parse_attachments(&collection).unwrap(),
            ["http://h/Lists/T/Attachments/1/a & b.pdf"]
        );
    }

    #[test]
    fn list_collections_and_content_types() {
        let lists = envelope(
            "<GetListCollectionResponse><GetListCollectionResult><Lists><List ID=\"{5ACD06D2-FCDA-4A46-AC65-299B2A6439DD}\" Title=\"Danh mục tin\" ItemCount=\"8\" Hidden=\"False\"/><List ID=\"{1}\" Title=\"Master Page Gallery\" Hidden=\"True\"/></Lists></GetListCollectionResult></GetListCollectionResponse>",
        );
        let lists = parse_list_collection(&lists).unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].title, "Danh mục tin");
        assert!(!lists[0].hidden && lists[1].hidden);
        let cts = envelope(
            "<GetListContentTypesResponse><GetListContentTypesResult><ContentTypes ContentTypeOrder=\"0x0100\"><ContentType Name=\"Tin Tức Mở Rộng\" ID=\"0x0100AB\"/><ContentType Name=\"Folder\" ID=\"0x0120\"/></ContentTypes></GetListContentTypesResult></GetListContentTypesResponse>",
        );
        assert_eq!(
            parse_content_types(&cts).unwrap(),
            vec![
                ContentType {
                    id: "0x0100AB".into(),
                    name: "Tin Tức Mở Rộng".into()
                },
                ContentType {
                    id: "0x0120".into(),
                    name: "Folder".into()
                }
            ]
        );
    }
}
