//! The SharePoint 2010 source: a list read through the SOAP web service `/_vti_bin/Lists.asmx`.
//!
//! SharePoint 2010 has no `/_api`. This source reads the list with `GetList` (fields, with
//! display name, internal name and type, and the list's regional settings),
//! `GetListContentTypes`, and `GetListItems` page by page: `rowLimit` items at a time (never
//! 0, "all", which meets the list view threshold on a large list), only the fields the mapping
//! reads plus what every item needs, in ID order, following `ListItemCollectionPositionNext`
//! to the end. A position already read, or the page bound, stops paging and is handed over
//! in the facts, as the REST source does with next links; a page refused by the list view
//! threshold is asked for again in smaller pages. Every value is turned into the shape REST's
//! nometadata JSON gives for the same item (`sharepoint::soap` knows the encodings), so the
//! mapping and everything after it cannot tell the two sources apart, except by `via`.
//! Dates arrive in UTC where the farm honours `DateInUtc`; otherwise they are server-local,
//! and the list's time-zone bias turns them to UTC. Attachment URLs arrive raw and absolute;
//! their path is percent-encoded like REST's `ServerRelativeUrl`, and
//! `GetAttachmentCollection` is asked when a farm gives only whether an item has any.
//!
//! Every call is a POST through the one client ([`Client::post`]): scope, pacing, retries
//! and bounds as for any page. A SOAP fault is an error, never an item.

use super::facts::{MalformedItem, RefusedRequest, RequestRefusal};
use super::{
    ContentTypeInfo, FieldDef, ItemQuery, ListInfo, ListSchema, ListSummary, Note, RawAttachment,
    RawItem, SourceError, SourceFacts, Via, facts::Fallback,
};
use crate::fetch::{Client, FetchError, Post, redact};
use crate::sharepoint::names::entity_property_name;
use crate::sharepoint::soap::{self, Call, FaultKind};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use url::Url;

/// Fields every item is read with, besides those the mapping names, when the list has them:
/// the id, what the record's `source` holds (GUID, content type, version), what REST's
/// `$select=*` gives that a record keeps (`owshiddenversion`, `FSObjType`), attachments and
/// the approval status.
const ALWAYS: [&str; 8] = [
    "ID",
    "GUID",
    "ContentTypeId",
    "_UIVersionString",
    "owshiddenversion",
    "FSObjType",
    "Attachments",
    "_ModerationStatus",
];

/// Reads one list through `Lists.asmx`.
pub struct SoapSource {
    client: Client,
    site: Url,
    endpoint: Url,
    list_title: String,
    /// What `probe` got for `GetList`, kept for `describe`.
    probed: Option<Result<Vec<u8>, SourceError>>,
    /// The list as `GetList` described it.
    list: Option<soap::ListSchema>,
    /// Fields by internal name.
    fields: BTreeMap<String, soap::FieldSchema>,
    /// Where the next page starts; `None` before the first and after the last.
    position: Option<String>,
    started: bool,
    finished: bool,
    /// Items per page, once the list view threshold made it smaller than asked.
    row_limit: Option<usize>,
    /// Positions read (the first page as the empty one).
    positions: HashSet<String>,
    refused: Vec<RefusedRequest>,
    malformed: Vec<MalformedItem>,
    notes: Vec<Note>,
    fallback: Option<Fallback>,
}

impl SoapSource {
    /// A source for the list titled `list_title` on the site at `site`.
    pub fn new(client: Client, site: &Url, list_title: &str) -> Result<Self, SourceError> {
        let mut site = site.clone();
        if !site.path().ends_with('/') {
            let p = format!("{}/", site.path());
            site.set_path(&p);
        }
        let endpoint = site
            .join(soap::LISTS_ASMX)
            .map_err(|_| SourceError::BadUrl(format!("{site}{}", soap::LISTS_ASMX)))?;
        Ok(Self {
            client,
            site,
            endpoint,
            list_title: list_title.to_string(),
            probed: None,
            list: None,
            fields: BTreeMap::new(),
            position: None,
            started: false,
            finished: false,
            row_limit: None,
            positions: HashSet::new(),
            refused: Vec::new(),
            malformed: Vec::new(),
            notes: Vec::new(),
            fallback: None,
        })
    }

    /// Says in the crawl report why this source was chosen.
    pub fn with_fallback(mut self, why: Fallback) -> Self {
        self.fallback = Some(why);
        self
    }

    /// Asks `Lists.asmx` for the list. The service answers when a SOAP envelope comes back,
    /// the list or a fault (a list that does not exist is reported by `describe`); otherwise
    /// [`SourceError::SoapClosed`].
    pub async fn probe(&mut self) -> Result<(), SourceError> {
        match self.call(&soap::get_list(&self.list_title)).await {
            Err(e @ (SourceError::SoapClosed { .. } | SourceError::Fetch(_))) => Err(e),
            answered => {
                self.probed = Some(answered);
                Ok(())
            }
        }
    }

    /// Sends one call and returns the answer's body; a fault, a status or an answer that is
    /// no SOAP envelope is an error.
    async fn call(&self, call: &Call) -> Result<Vec<u8>, SourceError> {
        let action = call.action();
        let headers = [("SOAPAction", action.as_str())];
        let post = Post {
            accept: "text/xml",
            content_type: soap::CONTENT_TYPE,
            headers: &headers,
            body: call.body.as_bytes(),
        };
        let url = || format!("{} ({})", redact(&self.endpoint), call.operation);
        match self.client.post(&self.endpoint, &post).await {
            Ok(body) => {
                if let Some(fault) = soap::parse_fault(&body.bytes) {
                    return Err(SourceError::SoapFault {
                        url: url(),
                        fault: Box::new(fault),
                    });
                }
                if !soap::is_envelope(&body.bytes) {
                    return Err(SourceError::SoapClosed {
                        url: redact(&self.endpoint),
                        status: 200,
                    });
                }
                Ok(body.bytes)
            }
            Err(FetchError::NotSignedIn { status, .. })
                if self.client.auth_method() == crate::fetch::AuthMethod::Anonymous =>
            {
                // Closed to anonymous readers; with credentials, a 401 is explained as such.
                Err(SourceError::SoapClosed {
                    url: redact(&self.endpoint),
                    status,
                })
            }
            Err(e) => {
                if let FetchError::Status { status, body, .. } = &e {
                    if let Some(fault) = soap::parse_fault(body) {
                        tracing::debug!("{}: HTTP {status} with a SOAP fault", url());
                        return Err(SourceError::SoapFault {
                            url: url(),
                            fault: Box::new(fault),
                        });
                    }
                    // No such service, or not for this identity; any other status is a
                    // failure of the service, explained as such, not a farm without one.
                    if matches!(status, 401 | 403 | 404 | 405 | 501) {
                        return Err(SourceError::SoapClosed {
                            url: redact(&self.endpoint),
                            status: *status,
                        });
                    }
                }
                Err(SourceError::Fetch(e))
            }
        }
    }

    fn protocol_error(&self, operation: &str, e: impl std::fmt::Display) -> SourceError {
        SourceError::Protocol {
            url: format!("{} ({operation})", redact(&self.endpoint)),
            message: e.to_string(),
        }
    }

    /// The site's lists that are not hidden (`GetListCollection`).
    pub async fn lists(&self) -> Result<Vec<ListSummary>, SourceError> {
        let body = self.call(&soap::get_list_collection()).await?;
        let lists = soap::parse_list_collection(&body)
            .map_err(|e| self.protocol_error("GetListCollection", e))?;
        Ok(lists
            .into_iter()
            .filter(|l| !l.hidden)
            .map(|l| ListSummary {
                id: l.id,
                title: l.title,
                url: l.root_folder,
                item_count: l.item_count,
                base_template: l.server_template,
                versioning: l.versioning,
                attachments: l.attachments,
                content_types: Vec::new(),
            })
            .collect())
    }

    async fn describe_list(&mut self) -> Result<ListSchema, SourceError> {
        let answer = match self.probed.take() {
            Some(a) => a,
            None => self.call(&soap::get_list(&self.list_title)).await,
        };
        let body = match answer {
            Ok(b) => b,
            Err(SourceError::SoapFault { fault, .. })
                if fault.kind() == FaultKind::ListNotFound =>
            {
                // Which lists there are, for the message; best effort.
                let lists = self.lists().await.unwrap_or_default();
                return Err(SourceError::ListNotFound {
                    site: self.site.to_string(),
                    title: self.list_title.clone(),
                    detail: Some(fault.summary()),
                    lists,
                    content_type: None,
                });
            }
            Err(e) => return Err(e),
        };
        let list = soap::parse_list(&body).map_err(|e| self.protocol_error("GetList", e))?;
        if list.id.is_empty() {
            return Err(self.protocol_error("GetList", "the list has no ID"));
        }
        let list_name = format!("{{{}}}", list.id);
        let body = self.call(&soap::get_list_content_types(&list_name)).await?;
        let content_types = soap::parse_content_types(&body)
            .map_err(|e| self.protocol_error("GetListContentTypes", e))?
            .into_iter()
            .map(|c| ContentTypeInfo {
                id: c.id,
                name: c.name,
                fields: Vec::new(),
            })
            .collect();
        let schema = ListSchema {
            list: ListInfo {
                id: list.id.clone(),
                title: if list.title.is_empty() {
                    self.list_title.clone()
                } else {
                    list.title.clone()
                },
                entity_type_name: None,
                item_count: list.item_count,
            },
            fields: list.fields.iter().map(field_def).collect(),
            content_types,
        };
        self.fields = list
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.clone()))
            .collect();
        self.list = Some(list);
        Ok(schema)
    }

    /// The fields to read: those of [`ALWAYS`] the list has, and those the mapping reads.
    fn view_fields(&self, query: &ItemQuery) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let always = ALWAYS
            .iter()
            .filter(|f| **f == "ID" || self.fields.contains_key(**f))
            .map(|f| f.to_string());
        for f in always.chain(query.fields.iter().cloned()) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    async fn next_items(&mut self, query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError> {
        if self.finished {
            return Ok(None);
        }
        let Some(list_id) = self.list.as_ref().map(|l| format!("{{{}}}", l.id)) else {
            return Err(SourceError::BadUrl(
                "items requested before the list was described".into(),
            ));
        };
        let position = if self.started {
            match self.position.take() {
                Some(p) => Some(p),
                None => {
                    self.finished = true;
                    return Ok(None);
                }
            }
        } else {
            self.started = true;
            None
        };
        self.positions.insert(position.clone().unwrap_or_default());
        let view_fields = self.view_fields(query);
        let asked = query.page_size.clamp(1, 5000);
        let body = loop {
            let row_limit = self.row_limit.unwrap_or(asked);
            let call = soap::get_list_items(&soap::ItemsRequest {
                list: &list_id,
                view_fields: &view_fields,
                row_limit,
                position: position.as_deref(),
            });
            match self.call(&call).await {
                Ok(body) => break body,
                Err(SourceError::SoapFault { fault, .. })
                    if fault.kind() == FaultKind::Threshold && row_limit > 1 =>
                {
                    let smaller = (row_limit / 2).max(1);
                    tracing::warn!(
                        "the list view threshold refused pages of {row_limit} items; asking for {smaller}"
                    );
                    self.row_limit = Some(smaller);
                    self.notes
                        .retain(|n| !matches!(n, Note::RowLimitLowered { .. }));
                    self.notes.push(Note::RowLimitLowered {
                        from: asked,
                        to: smaller,
                    });
                }
                Err(e) => return Err(e),
            }
        };
        let page = soap::parse_items(&body).map_err(|e| self.protocol_error("GetListItems", e))?;
        self.position = match page.next {
            Some(next) => self.next_position(next, query),
            None => None,
        };
        let where_read = match &position {
            Some(p) => format!(
                "{} (GetListItems, ListItemCollectionPositionNext={p})",
                redact(&self.endpoint)
            ),
            None => format!("{} (GetListItems, first page)", redact(&self.endpoint)),
        };
        let mut items = Vec::with_capacity(page.rows.len());
        for (i, row) in page.rows.into_iter().enumerate() {
            match self.item_from(row, &view_fields, query) {
                Ok(item) => items.push(item),
                Err((id, title)) => self.malformed.push(MalformedItem {
                    page: where_read.clone(),
                    position: i + 1,
                    id,
                    title,
                }),
            }
        }
        for item in &mut items {
            if item.attachments.is_empty()
                && item.props.get("Attachments") == Some(&Value::Bool(true))
            {
                item.attachments = self.attachment_collection(&list_id, item.id).await?;
            }
        }
        Ok(Some(items))
    }

    /// The position to read next, or `None` (noted) when it was read already or the page
    /// bound is reached.
    fn next_position(&mut self, next: String, query: &ItemQuery) -> Option<String> {
        let row_limit = self.row_limit.unwrap_or(query.page_size);
        let item_count = self.list.as_ref().and_then(|l| l.item_count);
        let bound = super::rest::page_bound(item_count, row_limit);
        let why = if self.positions.contains(&next) {
            RequestRefusal::RepeatedNextLink
        } else if self.positions.len() >= bound {
            RequestRefusal::PageBound { bound, item_count }
        } else {
            return Some(next);
        };
        self.refused.push(RefusedRequest {
            url: format!(
                "{} (GetListItems, ListItemCollectionPositionNext={next})",
                redact(&self.endpoint)
            ),
            why,
        });
        None
    }

    /// The attachments of an item whose row said only that it has some.
    async fn attachment_collection(
        &self,
        list_id: &str,
        item_id: i64,
    ) -> Result<Vec<RawAttachment>, SourceError> {
        let body = self
            .call(&soap::get_attachment_collection(list_id, item_id))
            .await?;
        let urls = soap::parse_attachments(&body)
            .map_err(|e| self.protocol_error("GetAttachmentCollection", e))?;
        Ok(urls.iter().filter_map(|u| raw_attachment(u)).collect())
    }

    /// The raw item of one row, in REST's nometadata shape, keeping the `wanted` fields only;
    /// the row's id and title back when it has no whole-number id.
    fn item_from(
        &self,
        row: Vec<(String, String)>,
        wanted: &[String],
        query: &ItemQuery,
    ) -> Result<RawItem, (Option<String>, Option<String>)> {
        let value = |name: &str| row.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let Some(id) = value("ID").and_then(|v| v.trim().parse::<i64>().ok()) else {
            return Err((
                value("ID").map(|v| Value::String(v.to_string()).to_string()),
                value("Title")
                    .filter(|t| !t.trim().is_empty())
                    .map(str::to_string),
            ));
        };
        let bias = self.list.as_ref().and_then(|l| l.time_zone_bias);
        let mut props = Map::new();
        let mut attachments = Vec::new();
        let mut etag = None;
        for (name, raw) in &row {
            // Farms add columns of their own (MetaInfo, PermMask, FileRef, …): only the
            // fields asked for become properties, as REST's would.
            if !wanted.contains(name) {
                continue;
            }
            match name.as_str() {
                "ID" => {
                    props.insert("Id".into(), Value::from(id));
                    props.insert("ID".into(), Value::from(id));
                    continue;
                }
                "FSObjType" => {
                    let v = soap::without_id_prefix(raw).trim();
                    props.insert(
                        "FileSystemObjectType".into(),
                        v.parse::<i64>()
                            .map(Value::from)
                            .unwrap_or_else(|_| Value::String(v.to_string())),
                    );
                    continue;
                }
                "owshiddenversion" => {
                    etag = Some(format!("\"{}\"", raw.trim()));
                }
                "Attachments" => {
                    if let soap::Attachments::Urls(urls) = soap::attachments(raw) {
                        attachments = urls.iter().filter_map(|u| raw_attachment(u)).collect();
                    }
                }
                _ => {}
            }
            let key = entity_property_name(name);
            let (type_name, mult) = self
                .fields
                .get(name)
                .map(|f| (f.type_name.as_str(), f.mult))
                .unwrap_or(("Text", false));
            let type_name = match name.as_str() {
                // Hidden system fields whose type a schema may leave out.
                "owshiddenversion" => "Integer",
                "GUID" => "Guid",
                _ => type_name,
            };
            let expand = query.expand.contains(&key);
            let v = soap::rest_value(type_name, mult, expand, raw, bias);
            if let Some(ids) = v.ids {
                props.insert(format!("{key}Id"), ids);
            }
            if let Some(value) = v.value {
                props.insert(key, value);
            }
        }
        Ok(RawItem {
            id,
            props,
            etag,
            attachments,
            url: self.item_page(id),
        })
    }

    /// The item's display form, where a person sees it: `<root folder>/DispForm.aspx?ID=n`.
    fn item_page(&self, id: i64) -> Option<String> {
        let root = self.list.as_ref()?.root_folder.as_deref()?;
        let mut u = super::absolute_file_url(&self.site, &format!("{root}/DispForm.aspx")).ok()?;
        u.set_query(Some(&format!("ID={id}")));
        Some(u.to_string())
    }
}

/// An attachment from the raw absolute URL SOAP gives: its path, as served, and its name.
fn raw_attachment(url: &str) -> Option<RawAttachment> {
    let path = soap::server_relative(url)?;
    let name = path.rsplit('/').next().filter(|n| !n.is_empty())?;
    Some(RawAttachment {
        file_name: name.to_string(),
        server_relative_url: path.to_string(),
    })
}

fn field_def(f: &soap::FieldSchema) -> FieldDef {
    FieldDef {
        title: f.display_name.clone(),
        internal_name: f.name.clone(),
        entity_property_name: entity_property_name(&f.name),
        type_as_string: f.type_name.clone(),
        allow_multiple: f.mult || f.type_name.ends_with("Multi"),
        hidden: f.hidden,
        required: f.required,
        read_only: f.read_only,
        from_base_type: f.from_base_type,
        choices: f.choices.clone(),
        rich_text: f.rich_text,
    }
}

impl super::Source for SoapSource {
    fn via(&self) -> Via {
        Via::Soap
    }

    fn site(&self) -> &Url {
        &self.site
    }

    fn protocol(&self) -> Option<String> {
        let version = self
            .list
            .as_ref()
            .and_then(|l| l.server_version.as_deref())
            .map(|v| format!(" (SharePoint {v})"))
            .unwrap_or_default();
        Some(format!("soap Lists.asmx{version}"))
    }

    async fn describe(&mut self) -> Result<ListSchema, SourceError> {
        self.describe_list().await
    }

    async fn next_page(&mut self, query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError> {
        self.next_items(query).await
    }

    fn file_url(&self, server_relative: &str) -> Option<Url> {
        super::absolute_file_url(&self.site, server_relative).ok()
    }

    fn facts(&mut self) -> SourceFacts {
        SourceFacts {
            fallback: self.fallback.take(),
            refused_requests: std::mem::take(&mut self.refused),
            malformed: std::mem::take(&mut self.malformed),
            notes: std::mem::take(&mut self.notes),
            ..SourceFacts::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(item_count: Option<u64>) -> SoapSource {
        let client = Client::new(&Default::default()).unwrap();
        let site = Url::parse("http://127.0.0.1:8080/").unwrap();
        let mut s = SoapSource::new(client, &site, "Tin tức").unwrap();
        s.list = Some(soap::ListSchema {
            id: "3de2e36d-678f-459c-837a-2db7c83afd8b".into(),
            item_count,
            ..Default::default()
        });
        s
    }

    fn query(page_size: usize) -> ItemQuery {
        ItemQuery {
            page_size,
            ..Default::default()
        }
    }

    #[test]
    fn a_repeated_position_stops_paging_and_is_reported() {
        let mut s = source(Some(31));
        s.positions.insert(String::new());
        s.positions.insert("Paged=TRUE&p_ID=10".into());
        assert_eq!(
            s.next_position("Paged=TRUE&p_ID=20".into(), &query(10)),
            Some("Paged=TRUE&p_ID=20".into())
        );
        assert_eq!(
            s.next_position("Paged=TRUE&p_ID=10".into(), &query(10)),
            None
        );
        assert_eq!(
            s.refused,
            vec![RefusedRequest {
                url: "http://127.0.0.1:8080/_vti_bin/Lists.asmx (GetListItems, ListItemCollectionPositionNext=Paged=TRUE&p_ID=10)".into(),
                why: RequestRefusal::RepeatedNextLink,
            }]
        );
    }

    #[test]
    fn paging_stops_at_the_page_bound() {
        // 3 items in pages of 1: at most 2 × 3 + 10 = 16 pages.
        let mut s = source(Some(3));
        for n in 0..16 {
            s.positions.insert(format!("Paged=TRUE&p_ID={n}"));
        }
        assert_eq!(
            s.next_position("Paged=TRUE&p_ID=99".into(), &query(1)),
            None
        );
        assert_eq!(
            s.refused[0].why,
            RequestRefusal::PageBound {
                bound: 16,
                item_count: Some(3)
            }
        );
    }

    #[test]
    fn rows_become_rest_items_with_only_the_fields_asked_for() {
        let mut s = source(Some(1));
        for (name, type_name, mult) in [
            ("Author", "User", false),
            ("Ph_x00e2_n_x0020_lo_x1ea1_i", "LookupMulti", true),
            ("_ModerationStatus", "ModStat", false),
            ("Created", "DateTime", false),
            ("FSObjType", "Lookup", false),
            ("owshiddenversion", "Integer", false),
        ] {
            s.fields.insert(
                name.into(),
                soap::FieldSchema {
                    name: name.into(),
                    type_name: type_name.into(),
                    mult,
                    ..Default::default()
                },
            );
        }
        if let Some(l) = s.list.as_mut() {
            l.time_zone_bias = Some(-420);
        }
        let q = ItemQuery {
            expand: vec!["Author".into(), "Ph_x00e2_n_x0020_lo_x1ea1_i".into()],
            fields: vec![
                "Author".into(),
                "Ph_x00e2_n_x0020_lo_x1ea1_i".into(),
                "Created".into(),
            ],
            page_size: 30,
        };
        let row = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let wanted = s.view_fields(&q);
        let item = s
            .item_from(
                row(&[
                    ("ID", "12"),
                    ("Author", "15;#Lê Ngọc Diễm"),
                    (
                        "Ph_x00e2_n_x0020_lo_x1ea1_i",
                        "5;#Văn bản mới;#6;#Cải cách hành chính",
                    ),
                    ("_ModerationStatus", "0"),
                    ("Created", "2022-10-05 08:50:00"),
                    ("FSObjType", "12;#0"),
                    ("owshiddenversion", "2"),
                    ("MetaInfo", "12;#"),
                    ("PermMask", "0x7fffffffffffffff"),
                ]),
                &wanted,
                &q,
            )
            .unwrap();
        assert_eq!(item.id, 12);
        assert_eq!(item.etag.as_deref(), Some("\"2\""));
        assert_eq!(
            Value::Object(item.props),
            serde_json::json!({
                "Id": 12, "ID": 12,
                "Author": {"Id": 15, "Title": "Lê Ngọc Diễm"}, "AuthorId": 15,
                "Ph_x00e2_n_x0020_lo_x1ea1_i": [{"Id": 5, "Title": "Văn bản mới"}, {"Id": 6, "Title": "Cải cách hành chính"}],
                "Ph_x00e2_n_x0020_lo_x1ea1_iId": [5, 6],
                "OData__ModerationStatus": 0,
                "Created": "2022-10-05T01:50:00Z",
                "FileSystemObjectType": 0,
                "owshiddenversion": 2,
            })
        );
        assert_eq!(
            s.item_from(row(&[("ID", "x"), ("Title", "Tin")]), &wanted, &q)
                .err(),
            Some((Some("\"x\"".into()), Some("Tin".into())))
        );
    }

    #[test]
    fn raw_attachment_urls_keep_their_name_and_path_as_served() {
        let a = raw_attachment(
            "http://sp2010:80/sites/stp/Lists/TinTuc/Attachments/15/Phụ lục #2 - 20% (Tháng 1).pdf",
        )
        .unwrap();
        assert_eq!(a.file_name, "Phụ lục #2 - 20% (Tháng 1).pdf");
        assert_eq!(
            a.server_relative_url,
            "/sites/stp/Lists/TinTuc/Attachments/15/Phụ lục #2 - 20% (Tháng 1).pdf"
        );
        let site = Url::parse("https://stp.longan.gov.vn/sites/stp/").unwrap();
        assert_eq!(
            super::super::absolute_file_url(&site, &a.server_relative_url)
                .unwrap()
                .as_str(),
            "https://stp.longan.gov.vn/sites/stp/Lists/TinTuc/Attachments/15/Ph%E1%BB%A5%20l%E1%BB%A5c%20%232%20-%2020%25%20(Th%C3%A1ng%201).pdf"
        );
        assert_eq!(raw_attachment("not a url"), None);
    }
}
