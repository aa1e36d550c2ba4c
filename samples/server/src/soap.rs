//! SharePoint 2010's SOAP web services, for the farm's 2010 mode ([`Sp2010`]).
//!
//! A SharePoint 2010 farm has no `/_api` (it answers 404); its lists are read through
//! `/_vti_bin/Lists.asmx`. This module answers `GetList`, `GetListItems` (ViewFields,
//! `rowLimit` with the default view's 30 when omitted, `ListItemCollectionPositionNext`
//! paging, `DateInUtc`, `IncludeAttachmentUrls`, the list view threshold),
//! `GetListCollection`, `GetListContentTypes` and `GetAttachmentCollection`, plus minimal
//! `Views.asmx` (`GetViewCollection`) and `Sites.asmx` (`GetUpdatedFormDigest`) answers, in
//! the 2010 shapes: `ows_` attributes, empty fields omitted, `id;#value` lookups and users,
//! `;#a;#b;#` choices, `1`/`0` booleans, numbers with fifteen significant digits,
//! `url, description` hyperlinks, `{GUID}`s, server-local dates in a farm whose time zone is
//! UTC+07:00 (UTC only when [`Sp2010::honour_date_in_utc`] says the farm honours
//! `DateInUtc`), raw attachment URLs (spaces, `#`, `%` and Vietnamese letters as they are),
//! and the system columns a farm adds whatever was asked (`MetaInfo`, `PermMask`, `FileRef`, …).
//! Faults are SOAP faults with HTTP 500, as `SoapServerException` gives them.
//!
//! Item values come from the same REST-shaped data the `/_api` routes serve, so a crawl over
//! SOAP and one over REST can be compared field by field.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value;

use super::api::{FORM_DIGEST, item_content_type, substitute};
use super::body::{Response, text_response};
use super::data::{Field, FieldKind, Item, List};
use super::render::xml_escape as esc;
use super::state::{ApiAccess, Shared};

/// How the farm behaves in its SharePoint 2010 mode (`PortalOptions::sp2010`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sp2010 {
    /// Whether `GetListItems` honours `<DateInUtc>TRUE</DateInUtc>`. When it does not (the
    /// default), dates are server-local: `2022-10-05 08:50:00` in the farm's UTC+07:00.
    pub honour_date_in_utc: bool,
    /// Whether `<IncludeAttachmentUrls>TRUE</IncludeAttachmentUrls>` gives the attachments'
    /// URLs in `ows_Attachments` (the default); otherwise it says only `1` or `0`, and a
    /// client asks `GetAttachmentCollection`.
    pub attachment_urls: bool,
    /// Rows per page when `rowLimit` is omitted: the default view's page size, 30.
    pub default_row_limit: usize,
    /// The list view threshold: a query for more rows at once than this (`rowLimit`, or
    /// `rowLimit` 0 on a longer list) is refused with the threshold fault (SharePoint: 5000).
    pub view_threshold: usize,
}

impl Default for Sp2010 {
    fn default() -> Self {
        Sp2010 {
            honour_date_in_utc: false,
            attachment_urls: true,
            default_row_limit: 30,
            view_threshold: 5000,
        }
    }
}

/// The version a 2010 farm sends in `MicrosoftSharePointTeamServices`.
pub const VERSION: &str = "14.0.0.7015";

/// The farm's time-zone bias in minutes (UTC = local + bias): UTC+07:00.
const BIAS_MINUTES: i32 = -420;

const NAMESPACE: &str = "http://schemas.microsoft.com/sharepoint/soap/";

/// The web services the 2010 mode answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// `Lists.asmx`.
    Lists,
    /// `Views.asmx`.
    Views,
    /// `Sites.asmx`.
    Sites,
}

/// The service at `path` (`<web>/_vti_bin/Lists.asmx`, any case), if it is one.
pub(crate) fn service(web_path: &str, path: &str) -> Option<Service> {
    let rest = path.get(web_path.len()..)?;
    if !path[..web_path.len()].eq_ignore_ascii_case(web_path) {
        return None;
    }
    match rest.to_ascii_lowercase().as_str() {
        "/_vti_bin/lists.asmx" => Some(Service::Lists),
        "/_vti_bin/views.asmx" => Some(Service::Views),
        "/_vti_bin/sites.asmx" => Some(Service::Sites),
        _ => None,
    }
}

/// A parsed SOAP request: the operation and its parameters.
#[derive(Debug, Default)]
struct Request {
    operation: String,
    /// The text of each parameter element (`listName`, `rowLimit`, …).
    params: HashMap<String, String>,
    /// `FieldRef/@Name` inside `ViewFields`.
    view_fields: Vec<String>,
    /// The text of each `QueryOptions` child (`DateInUtc`, …).
    options: HashMap<String, String>,
    /// `Paging/@ListItemCollectionPositionNext`.
    position: Option<String>,
}

/// Reads the envelope: the first element inside `Body` is the operation.
fn parse_request(body: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the request is not UTF-8".to_owned())?;
    let mut reader = Reader::from_str(text);
    let mut req = Request::default();
    let mut stack: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = e.local_name().as_ref().to_owned();
            let attr = |wanted: &str| {
                e.attributes().flatten().find_map(|a| {
                    (a.key.local_name().as_ref() == wanted)
                        .then(|| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                        .flatten()
                        .map(|v| v.into_owned())
                })
            };
            let in_body = stack.last().is_some_and(|p| p == "Body");
            if in_body && req.operation.is_empty() {
                req.operation = name.clone();
            }
            if name == "FieldRef" && stack.iter().any(|p| p == "ViewFields") {
                req.view_fields.extend(attr("Name"));
            }
            if name == "Paging" {
                req.position = attr("ListItemCollectionPositionNext");
            }
            if !empty {
                stack.push(name);
            }
            continue;
        }
        match event {
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => push_text(&mut req, &stack, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r.xml10_content())
                        .unwrap_or("")
                        .to_owned(),
                };
                push_text(&mut req, &stack, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if req.operation.is_empty() {
        return Err("no operation in the SOAP body".to_owned());
    }
    Ok(req)
}

fn push_text(req: &mut Request, stack: &[String], text: &str) {
    let Some(name) = stack.last() else { return };
    let parent = stack.len().checked_sub(2).map(|i| stack[i].as_str());
    if parent == Some(req.operation.as_str()) {
        req.params.entry(name.clone()).or_default().push_str(text);
    } else if parent == Some("QueryOptions") {
        req.options.entry(name.clone()).or_default().push_str(text);
    }
}

/// Answers one request to a web service of the 2010 mode.
pub(crate) fn handle(
    shared: &Shared,
    service: Service,
    method: &hyper::Method,
    action: Option<&str>,
    body: &[u8],
) -> Response {
    if method == hyper::Method::GET || method == hyper::Method::HEAD {
        return description_page(service);
    }
    if method != hyper::Method::POST {
        return super::files::html_status(hyper::StatusCode::METHOD_NOT_ALLOWED);
    }
    let req = match parse_request(body) {
        Ok(r) => r,
        Err(e) => {
            return client_fault(format!("Server was unable to read request. ---> {e}")).response();
        }
    };
    // The SOAPAction header, when sent, must name the operation in the body.
    if let Some(action) = action {
        let action = action.trim().trim_matches('"');
        if action != format!("{NAMESPACE}{}", req.operation) {
            return client_fault(format!(
                "Server did not recognize the value of HTTP Header SOAPAction: {action}."
            ))
            .response();
        }
    }
    if shared.opts.api == ApiAccess::Forbidden403 {
        return server_fault(
            "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
            "0x80070005",
        )
        .response();
    }
    let result = match (service, req.operation.as_str()) {
        (Service::Lists, "GetList") => with_list(shared, &req, |l| get_list(shared, l)),
        (Service::Lists, "GetListItems") => {
            with_list(shared, &req, |l| get_list_items(shared, l, &req))
        }
        (Service::Lists, "GetListCollection") => Ok(get_list_collection(shared)),
        (Service::Lists, "GetListContentTypes") => with_list(shared, &req, get_content_types),
        (Service::Lists, "GetAttachmentCollection") => {
            with_list(shared, &req, |l| get_attachments(shared, l, &req))
        }
        (Service::Views, "GetViewCollection") => {
            with_list(shared, &req, |l| Ok(get_views(shared, l)))
        }
        (Service::Sites, "GetUpdatedFormDigest") => Ok(envelope(
            "GetUpdatedFormDigest",
            &format!("<GetUpdatedFormDigestResult>{FORM_DIGEST}</GetUpdatedFormDigestResult>"),
        )),
        (_, other) => Err(client_fault(format!(
            "Server did not recognize the value of HTTP Header SOAPAction: {NAMESPACE}{other}."
        ))),
    };
    match result {
        Ok(xml) => text_response(200, "text/xml; charset=utf-8", xml),
        Err(fault) => fault.response(),
    }
}

/// Runs `answer` for the list named by `listName` (title or GUID), or answers the fault of a
/// list that does not exist.
fn with_list<'a>(
    shared: &'a Shared,
    req: &Request,
    answer: impl FnOnce(&'a List) -> Result<String, Fault>,
) -> Result<String, Fault> {
    let name = req.params.get("listName").map(|s| s.trim()).unwrap_or("");
    let list = shared
        .portal
        .list_by_id(name)
        .or_else(|| shared.portal.list_by_title(name));
    match list {
        Some(list) => answer(list),
        None => Err(server_fault(
            "List does not exist.\n\nThe page you selected contains a list that does not exist.  It may have been deleted by another user.",
            "0x82000006",
        )),
    }
}

fn envelope(operation: &str, result: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body><{operation}Response xmlns=\"{NAMESPACE}\">{result}</{operation}Response></soap:Body></soap:Envelope>"
    )
}

/// A SOAP fault to answer with HTTP 500.
struct Fault {
    code: &'static str,
    string: String,
    /// `errorstring` and `errorcode`.
    detail: Option<(String, &'static str)>,
}

/// A `SoapServerException` fault.
fn server_fault(error_string: &str, error_code: &'static str) -> Fault {
    Fault {
        code: "soap:Server",
        string:
            "Exception of type 'Microsoft.SharePoint.SoapServer.SoapServerException' was thrown."
                .to_owned(),
        detail: Some((error_string.to_owned(), error_code)),
    }
}

/// A request the service could not read.
fn client_fault(string: String) -> Fault {
    Fault {
        code: "soap:Client",
        string,
        detail: None,
    }
}

impl Fault {
    fn response(&self) -> Response {
        let detail = self
            .detail
            .as_ref()
            .map(|(s, c)| {
                format!(
                    "<detail><errorstring xmlns=\"{NAMESPACE}\">{}</errorstring><errorcode xmlns=\"{NAMESPACE}\">{c}</errorcode></detail>",
                    esc(s)
                )
            })
            .unwrap_or_default();
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body><soap:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring>{detail}</soap:Fault></soap:Body></soap:Envelope>",
            self.code,
            esc(&self.string)
        );
        text_response(500, "text/xml; charset=utf-8", body)
    }
}

fn description_page(service: Service) -> Response {
    let name = match service {
        Service::Lists => "Lists",
        Service::Views => "Views",
        Service::Sites => "Sites",
    };
    text_response(
        200,
        "text/html; charset=utf-8",
        format!(
            "<html><head><title>{name} Web Service</title></head><body><h1>{name}</h1><p>The following operations are supported. For a formal definition, please review the Service Description.</p></body></html>"
        ),
    )
}

fn braced(guid: &str) -> String {
    format!("{{{}}}", guid.to_ascii_uppercase())
}

fn bool_attr(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn list_attrs(shared: &Shared, list: &List) -> String {
    let root = format!("{}/{}", shared.web_path, list.root_folder());
    format!(
        "ID=\"{}\" Title=\"{}\" Description=\"{}\" DefaultViewUrl=\"{}\" Name=\"{}\" BaseType=\"{}\" ServerTemplate=\"{}\" ItemCount=\"{}\" RootFolder=\"{}\" WebFullUrl=\"{}\" WebId=\"{}\" EnableAttachments=\"True\" EnableModeration=\"True\" EnableVersioning=\"True\" Hidden=\"{}\" MaxItemsPerThrottledOperation=\"{}\"",
        braced(&list.id),
        esc(&list.def.title),
        esc(&list.def.description),
        esc(&format!("{root}/AllItems.aspx")),
        braced(&list.id),
        list.base_type(),
        list.def.base_template,
        list.items.len(),
        esc(&root),
        esc(if shared.web_path.is_empty() {
            "/"
        } else {
            &shared.web_path
        }),
        shared.portal.site.web_id,
        bool_attr(list.def.hidden),
        shared.opts.sp2010.unwrap_or_default().view_threshold,
    )
}

/// Columns every 2010 list has besides those `fields.json` names: hidden system fields.
const SYSTEM_FIELDS: [(&str, &str, &str); 7] = [
    ("owshiddenversion", "Integer", "owshiddenversion"),
    ("_UIVersion", "Integer", "UI Version"),
    ("FSObjType", "Lookup", "Item Type"),
    ("FileRef", "Lookup", "URL Path"),
    ("UniqueId", "Lookup", "Unique Id"),
    ("MetaInfo", "Lookup", "Property Bag"),
    ("_Level", "Integer", "Level"),
];

fn field_xml(f: &Field) -> String {
    let flag = |k: &str| f.raw.get(k).and_then(Value::as_bool).unwrap_or(false);
    let upper = |b: bool| if b { "TRUE" } else { "FALSE" };
    let mult = matches!(
        f.kind(),
        FieldKind::Lookup { multi: true } | FieldKind::User { multi: true }
    );
    let mut attrs = format!(
        "ID=\"{}\" Type=\"{}\" Name=\"{}\" StaticName=\"{}\" DisplayName=\"{}\" Hidden=\"{}\" ReadOnly=\"{}\" Required=\"{}\" FromBaseType=\"{}\"",
        braced(&f.id),
        esc(&f.type_as_string),
        esc(&f.internal_name),
        esc(&f.internal_name),
        esc(&f.title),
        upper(flag("Hidden")),
        upper(flag("ReadOnlyField")),
        upper(flag("Required")),
        upper(flag("FromBaseType")),
    );
    if mult {
        attrs.push_str(" Mult=\"TRUE\"");
    }
    if flag("RichText") {
        attrs.push_str(" RichText=\"TRUE\"");
    }
    if let Some(list) = f.raw.get("LookupList").and_then(Value::as_str) {
        attrs.push_str(&format!(" List=\"{}\"", esc(list)));
    }
    let choices: Vec<String> = f
        .raw
        .get("Choices")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|c| format!("<CHOICE>{}</CHOICE>", esc(c)))
                .collect()
        })
        .unwrap_or_default();
    if choices.is_empty() {
        format!("<Field {attrs}/>")
    } else {
        format!(
            "<Field {attrs}><CHOICES>{}</CHOICES></Field>",
            choices.concat()
        )
    }
}

fn get_list(shared: &Shared, list: &List) -> Result<String, Fault> {
    let mut fields: String = list.fields.iter().map(field_xml).collect();
    for (name, type_name, display) in SYSTEM_FIELDS {
        if !list.fields.iter().any(|f| f.internal_name == name) {
            fields.push_str(&format!(
                "<Field Type=\"{type_name}\" Name=\"{name}\" StaticName=\"{name}\" DisplayName=\"{display}\" Hidden=\"TRUE\" ReadOnly=\"TRUE\" FromBaseType=\"TRUE\"/>"
            ));
        }
    }
    let language = shared.portal.site.language;
    Ok(envelope(
        "GetList",
        &format!(
            "<GetListResult><List {}><Fields>{fields}</Fields><RegionalSettings><Language>{language}</Language><Locale>{language}</Locale><AdvanceHijri>0</AdvanceHijri><CalendarType>1</CalendarType><Time24>True</Time24><TimeZone>{BIAS_MINUTES}</TimeZone><SortOrder>2070</SortOrder><Presence>True</Presence></RegionalSettings><ServerSettings><ServerVersion>14.0.7015.1000</ServerVersion><RecycleBinEnabled>True</RecycleBinEnabled><ServerRelativeUrl>{}</ServerRelativeUrl></ServerSettings></List></GetListResult>",
            list_attrs(shared, list),
            esc(if shared.web_path.is_empty() {
                "/"
            } else {
                &shared.web_path
            })
        ),
    ))
}

fn get_list_collection(shared: &Shared) -> String {
    let lists: String = shared
        .portal
        .lists
        .iter()
        .map(|l| format!("<List {}/>", list_attrs(shared, l)))
        .collect();
    envelope(
        "GetListCollection",
        &format!("<GetListCollectionResult><Lists>{lists}</Lists></GetListCollectionResult>"),
    )
}

fn get_content_types(list: &List) -> Result<String, Fault> {
    let order = list
        .def
        .content_types
        .first()
        .map(|c| c.id.as_str())
        .unwrap_or("");
    let cts: String = list
        .def
        .content_types
        .iter()
        .map(|c| {
            format!(
                "<ContentType Name=\"{}\" ID=\"{}\" Description=\"{}\" Scope=\"\" Version=\"0\"/>",
                esc(&c.name),
                esc(&c.id),
                esc(&c.description)
            )
        })
        .collect();
    Ok(envelope(
        "GetListContentTypes",
        &format!(
            "<GetListContentTypesResult><ContentTypes ContentTypeOrder=\"{}\">{cts}</ContentTypes></GetListContentTypesResult>",
            esc(order)
        ),
    ))
}

fn get_views(shared: &Shared, list: &List) -> String {
    let root = format!("{}/{}", shared.web_path, list.root_folder());
    envelope(
        "GetViewCollection",
        &format!(
            "<GetViewCollectionResult><Views><View Name=\"{}\" DefaultView=\"TRUE\" MobileView=\"TRUE\" Type=\"HTML\" DisplayName=\"All Items\" Url=\"{}\" Level=\"1\" BaseViewID=\"1\" ContentTypeID=\"0x\" ImageUrl=\"/_layouts/images/generic.png\"/></Views></GetViewCollectionResult>",
            braced(&super::files::guid_from(&(list.id.as_str(), "AllItems"))),
            esc(&format!("{root}/AllItems.aspx"))
        ),
    )
}

/// The raw, unencoded absolute URLs of an item's attachments, as 2010 writes them.
fn attachment_urls(shared: &Shared, list: &List, item: &Item) -> Vec<String> {
    item.attachments
        .iter()
        .map(|a| {
            format!(
                "{}{}/{}/Attachments/{}/{}",
                shared.origin,
                shared.web_path,
                list.root_folder(),
                item.id,
                a.file_name
            )
        })
        .collect()
}

fn get_attachments(shared: &Shared, list: &List, req: &Request) -> Result<String, Fault> {
    let item = req
        .params
        .get("listItemID")
        .and_then(|id| id.trim().parse::<i64>().ok())
        .and_then(|id| list.items.get(&id))
        .ok_or_else(|| {
            server_fault(
                "Item does not exist. It may have been deleted by another user.",
                "0x81020016",
            )
        })?;
    let urls: String = attachment_urls(shared, list, item)
        .iter()
        .map(|u| format!("<Attachment>{}</Attachment>", esc(u)))
        .collect();
    Ok(envelope(
        "GetAttachmentCollection",
        &format!(
            "<GetAttachmentCollectionResult><Attachments>{urls}</Attachments></GetAttachmentCollectionResult>"
        ),
    ))
}

fn get_list_items(shared: &Shared, list: &List, req: &Request) -> Result<String, Fault> {
    let opts = shared.opts.sp2010.unwrap_or_default();
    let row_limit = match req.params.get("rowLimit").map(|s| s.trim()) {
        None | Some("") => opts.default_row_limit,
        Some(n) => n.parse::<usize>().map_err(|_| {
            server_fault(
                &format!("Input string was not in a correct format: rowLimit '{n}'."),
                "0x82000000",
            )
        })?,
    };
    let after = match &req.position {
        Some(p) => p
            .split('&')
            .find_map(|kv| kv.strip_prefix("p_ID="))
            .and_then(|id| id.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                server_fault(
                    &format!("The ListItemCollectionPositionNext value '{p}' is not valid."),
                    "0x82000000",
                )
            })?,
        None => 0,
    };
    let remaining = list.items.range(after.saturating_add(1)..).count();
    let rows_asked = if row_limit == 0 { remaining } else { row_limit };
    if rows_asked > opts.view_threshold {
        return Err(server_fault(
            "The attempted operation is prohibited because it exceeds the list view threshold enforced by the administrator.",
            "0x80070024",
        ));
    }
    let utc = opts.honour_date_in_utc
        && req
            .options
            .get("DateInUtc")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let urls = opts.attachment_urls
        && req
            .options
            .get("IncludeAttachmentUrls")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let wanted: Vec<&Field> = if req.view_fields.is_empty() {
        list.fields.iter().collect()
    } else {
        list.fields
            .iter()
            .filter(|f| req.view_fields.contains(&f.internal_name))
            .collect()
    };
    let page: Vec<&Item> = list
        .items
        .range(after.saturating_add(1)..)
        .map(|(_, i)| i)
        .take(rows_asked)
        .collect();
    let next = match page.last() {
        Some(last) if page.len() < remaining => format!(
            " ListItemCollectionPositionNext=\"{}\"",
            esc(&format!("Paged=TRUE&p_ID={}", last.id))
        ),
        _ => String::new(),
    };
    let rows: String = page
        .iter()
        .map(|item| row(shared, list, item, &wanted, &req.view_fields, utc, urls))
        .collect();
    Ok(envelope(
        "GetListItems",
        &format!(
            "<GetListItemsResult><listitems xmlns:s='uuid:BDC6E3F0-6DA3-11d1-A2A3-00AA00C14882' xmlns:dt='uuid:C2F41010-65B3-11d1-A29F-00AA00C14882' xmlns:rs='urn:schemas-microsoft-com:rowset' xmlns:z='#RowsetSchema'>\n<rs:data ItemCount=\"{}\"{next}>\n{rows}</rs:data>\n</listitems></GetListItemsResult>",
            page.len()
        ),
    ))
}

/// One `z:row`: the wanted fields that have a value, then the system columns a farm always
/// adds.
fn row(
    shared: &Shared,
    list: &List,
    item: &Item,
    wanted: &[&Field],
    view_fields: &[String],
    utc: bool,
    urls: bool,
) -> String {
    let mut attrs: Vec<(String, String)> = Vec::new();
    for f in wanted {
        if let Some(v) = value(shared, list, item, f, utc, urls) {
            attrs.push((f.internal_name.clone(), v));
        }
    }
    let asked = |name: &str| view_fields.iter().any(|f| f == name);
    let id = item.id;
    let guid = item
        .values
        .get("GUID")
        .and_then(Value::as_str)
        .unwrap_or("");
    let dir = format!(
        "{}/{}",
        shared.web_path.trim_start_matches('/'),
        list.root_folder()
    );
    let dir = dir.trim_start_matches('/');
    let version = item
        .values
        .get("OData__UIVersionString")
        .and_then(Value::as_str)
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| {
            Some(major.parse::<i64>().ok()? * 512 + minor.parse::<i64>().ok()?)
        })
        .unwrap_or(512);
    let mut system = vec![
        ("ID", id.to_string()),
        ("owshiddenversion", item.version().to_string()),
        ("FSObjType", format!("{id};#0")),
        ("FileRef", format!("{id};#{dir}/{id}_.000")),
        (
            "UniqueId",
            format!(
                "{id};#{}",
                braced(&super::files::guid_from(&(list.id.as_str(), id)))
            ),
        ),
        ("MetaInfo", format!("{id};#")),
        ("_Level", "1".to_owned()),
        ("PermMask", "0x7fffffffffffffff".to_owned()),
    ];
    if asked("_UIVersion") {
        system.push(("_UIVersion", version.to_string()));
    }
    if asked("GUID") && !guid.is_empty() && !attrs.iter().any(|(k, _)| k == "GUID") {
        system.push(("GUID", braced(guid)));
    }
    for (name, v) in system {
        if !attrs.iter().any(|(k, _)| k == name) {
            attrs.push((name.to_owned(), v));
        }
    }
    let body: String = attrs
        .iter()
        .map(|(k, v)| format!(" ows_{k}=\"{}\"", esc(v)))
        .collect();
    format!("<z:row{body} />\n")
}

/// A field's value as 2010 writes it; `None` for an empty value, which 2010 omits.
fn value(
    shared: &Shared,
    list: &List,
    item: &Item,
    f: &Field,
    utc: bool,
    urls: bool,
) -> Option<String> {
    let key = &f.entity_property_name;
    match f.kind() {
        FieldKind::Lookup { .. } | FieldKind::User { .. } => {
            let ids: Vec<i64> = match item.values.get(&format!("{key}Id"))? {
                Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
                v => v.as_i64().into_iter().collect(),
            };
            let pairs: Vec<String> = ids
                .iter()
                .map(|id| format!("{id};#{}", semis(&lookup_title(shared, f, *id))))
                .collect();
            (!pairs.is_empty()).then(|| pairs.join(";#"))
        }
        _ if f.type_as_string == "Attachments" => Some(if item.attachments.is_empty() {
            "0".to_owned()
        } else if urls {
            format!(";#{};#", attachment_urls(shared, list, item).join(";#"))
        } else {
            "1".to_owned()
        }),
        _ if f.internal_name == "ContentType" => {
            item_content_type(list, item).map(|c| c.name.clone())
        }
        _ => {
            let v = substitute(item.values.get(key)?, &shared.origin);
            match (f.type_as_string.as_str(), v) {
                (_, Value::Null) => None,
                (_, Value::String(s)) if s.is_empty() => None,
                ("DateTime", Value::String(s)) => Some(date(&s, utc)),
                ("Guid", Value::String(s)) => Some(braced(&s)),
                ("MultiChoice", Value::Array(a)) if a.is_empty() => None,
                ("MultiChoice", Value::Array(a)) => Some(format!(
                    ";#{};#",
                    a.iter()
                        .map(|c| semis(c.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(";#")
                )),
                ("URL", Value::Object(m)) => {
                    let url = m.get("Url").and_then(Value::as_str).unwrap_or("");
                    let url = url.replace(',', ",,");
                    match m.get("Description").and_then(Value::as_str) {
                        Some(d) if !d.is_empty() => Some(format!("{url}, {d}")),
                        _ => Some(url),
                    }
                }
                (_, Value::Bool(b)) => Some(if b { "1" } else { "0" }.to_owned()),
                ("Number" | "Currency", Value::Number(n)) => n.as_f64().map(number),
                (_, Value::Number(n)) => Some(n.to_string()),
                (_, Value::String(s)) => Some(s),
                (_, other) => Some(other.to_string()),
            }
        }
    }
}

/// `;` inside a `;#`-joined part is written `;;`.
fn semis(s: &str) -> String {
    s.replace(';', ";;")
}

fn lookup_title(shared: &Shared, f: &Field, id: i64) -> String {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_owned();
    if matches!(f.kind(), FieldKind::User { .. }) {
        return text(shared.portal.user(id).and_then(|u| u.props.get("Title")));
    }
    let target = f
        .lookup_list()
        .and_then(|l| shared.portal.list_by_id(&l))
        .and_then(|l| l.items.get(&id));
    text(target.and_then(|i| i.values.get(&f.lookup_field())))
}

/// A stored UTC instant as 2010 writes it: ISO with `Z` when `DateInUtc` is honoured,
/// server-local `yyyy-MM-dd HH:mm:ss` (UTC+07:00) otherwise.
fn date(stored: &str, utc: bool) -> String {
    let Ok(ts) = stored.parse::<jiff::Timestamp>() else {
        return stored.to_owned();
    };
    if utc {
        return ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    let offset =
        jiff::tz::Offset::from_seconds(-BIAS_MINUTES * 60).unwrap_or(jiff::tz::Offset::UTC);
    offset
        .to_datetime(ts)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A number with fifteen significant digits, as 2010 writes it (`5.00000000000000`,
/// `356.000000000000`).
fn number(f: f64) -> String {
    let int_digits = if f.abs() < 1.0 {
        1
    } else {
        f.abs().log10().floor() as i32 + 1
    };
    let decimals = (15 - int_digits).max(0) as usize;
    format!("{f:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_fifteen_significant_digits() {
        assert_eq!(number(5.0), "5.00000000000000");
        assert_eq!(number(356.0), "356.000000000000");
        assert_eq!(number(2017.0), "2017.00000000000");
        assert_eq!(number(0.5), "0.50000000000000");
    }

    #[test]
    fn dates_are_server_local_unless_utc_is_honoured() {
        assert_eq!(date("2022-10-05T01:50:00Z", false), "2022-10-05 08:50:00");
        assert_eq!(date("2022-12-31T17:00:00Z", false), "2023-01-01 00:00:00");
        assert_eq!(date("2022-10-05T01:50:00Z", true), "2022-10-05T01:50:00Z");
    }

    #[test]
    fn requests_give_their_operation_parameters_and_options() {
        let body = br#"<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetListItems xmlns="http://schemas.microsoft.com/sharepoint/soap/"><listName>Tin t&#7913;c</listName><rowLimit>5</rowLimit><viewFields><ViewFields><FieldRef Name="ID"/><FieldRef Name="Title"/></ViewFields></viewFields><queryOptions><QueryOptions><DateInUtc>TRUE</DateInUtc><Paging ListItemCollectionPositionNext="Paged=TRUE&amp;p_ID=5"/></QueryOptions></queryOptions></GetListItems></soap:Body></soap:Envelope>"#;
        let req = parse_request(body).unwrap_or_default();
        assert_eq!(req.operation, "GetListItems");
        assert_eq!(
            req.params.get("listName").map(String::as_str),
            Some("Tin tức")
        );
        assert_eq!(req.params.get("rowLimit").map(String::as_str), Some("5"));
        assert_eq!(req.view_fields, ["ID", "Title"]);
        assert_eq!(
            req.options.get("DateInUtc").map(String::as_str),
            Some("TRUE")
        );
        assert_eq!(req.position.as_deref(), Some("Paged=TRUE&p_ID=5"));
    }
}
