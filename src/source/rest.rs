//! The SharePoint REST source (`/_api`, SharePoint 2013 and later).
//!
//! Reads a list by title: `/fields` to learn every field's entity property name, then
//! `/items` with `$expand=AttachmentFiles` and the lookups and users the mapping asks for,
//! following `__next` / `odata.nextLink` verbatim until it is absent — never `$skip`, which
//! SharePoint ignores for list items. A next link is followed only when it is in the crawl's
//! scope, leads to a page not read yet, and the page bound (twice the pages the list's
//! `ItemCount` needs, plus ten) is not reached; otherwise paging stops and the source says
//! why in its facts. The JSON shape is negotiated once: the smallest
//! (`nometadata`) first, falling back to `verbose` when a SharePoint 2013 farm without JSON
//! Light rejects it.

mod listing;

pub use listing::{LISTING_PAGE, ListedItem};

use super::facts::{MalformedItem, RefusedRequest, RequestRefusal};
use super::{
    ContentTypeInfo, FieldDef, ItemQuery, ListInfo, ListSchema, ListSummary, RawAttachment,
    RawItem, SiteFacts, SourceError, SourceFacts, Via,
};
use crate::fetch::{Client, FetchError, redact};
use crate::sharepoint::odata::{self, Entity, Shape};
use serde_json::Value;
use std::collections::HashSet;
use url::Url;

/// Item pages read at most when the list does not say how many items it holds.
pub const PAGE_BOUND_UNKNOWN: usize = 100_000;

/// Item pages read at most, whatever the list says it holds.
pub const PAGE_BOUND_MAX: usize = 1_000_000;

/// Which JSON shape to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeChoice {
    /// Try `nometadata`, fall back to `verbose` on 400/406/415.
    Auto,
    /// Always this one.
    Fixed(Shape),
}

/// Reads one list over REST.
pub struct RestSource {
    client: Client,
    site: Url,
    list_title: String,
    shape_choice: ShapeChoice,
    shape: Option<Shape>,
    list_id: Option<String>,
    next: Option<Url>,
    started: bool,
    /// Items the list says it holds.
    item_count: Option<u64>,
    /// Item pages read (their URLs).
    pages_read: HashSet<String>,
    /// Next links not followed.
    refused: Vec<RefusedRequest>,
    /// Entries of the pages read that had no usable id.
    malformed: Vec<MalformedItem>,
}

impl RestSource {
    /// A source for the list titled `list_title` on the site at `site`.
    pub fn new(client: Client, site: &Url, list_title: &str, shape: ShapeChoice) -> Self {
        let mut site = site.clone();
        if !site.path().ends_with('/') {
            let p = format!("{}/", site.path());
            site.set_path(&p);
        }
        Self {
            client,
            site,
            list_title: list_title.to_string(),
            shape_choice: shape,
            shape: match shape {
                ShapeChoice::Fixed(s) => Some(s),
                ShapeChoice::Auto => None,
            },
            list_id: None,
            next: None,
            started: false,
            item_count: None,
            pages_read: HashSet::new(),
            refused: Vec::new(),
            malformed: Vec::new(),
        }
    }

    /// The JSON shape in use, once negotiated.
    pub fn shape(&self) -> Option<Shape> {
        self.shape
    }

    fn api(&self, rest: &str) -> Result<Url, SourceError> {
        self.site
            .join(rest)
            .map_err(|_| SourceError::BadUrl(format!("{}{rest}", self.site)))
    }

    /// Probes `/_api/web`, settling the JSON shape. A closed API is [`SourceError::ApiClosed`].
    pub async fn probe(&mut self) -> Result<Shape, SourceError> {
        let url = self.api("_api/web")?;
        let first = self.shape.unwrap_or(Shape::NoMetadata);
        match self.client.get(&url, first.accept()).await {
            Ok(_) => {
                self.shape = Some(first);
                Ok(first)
            }
            Err(e)
                if self.shape_choice == ShapeChoice::Auto
                    && matches!(e.status(), Some(400 | 406 | 415)) =>
            {
                tracing::info!(
                    "{url} rejects {}: using odata=verbose (SharePoint 2013 without JSON Light)",
                    first.name()
                );
                self.client
                    .get(&url, Shape::Verbose.accept())
                    .await
                    .map_err(|e| closed_or(e, &url))?;
                self.shape = Some(Shape::Verbose);
                Ok(Shape::Verbose)
            }
            Err(e) => Err(closed_or(e, &url)),
        }
    }

    async fn get_entity(&mut self, url: &Url) -> Result<Entity, SourceError> {
        let shape = self.current_shape().await?;
        let body = self.client.get(url, shape.accept()).await?;
        odata::parse_entity(&body.bytes).map_err(|e| protocol(url, e))
    }

    async fn get_page(&mut self, url: &Url) -> Result<odata::Page, SourceError> {
        let shape = self.current_shape().await?;
        let body = self.client.get(url, shape.accept()).await?;
        odata::parse_page(&body.bytes).map_err(|e| protocol(url, e))
    }

    async fn current_shape(&mut self) -> Result<Shape, SourceError> {
        match self.shape {
            Some(s) => Ok(s),
            None => self.probe().await,
        }
    }

    /// Reads the list, its fields and its content types.
    async fn describe_list(&mut self) -> Result<ListSchema, SourceError> {
        let list_url = self.api(&format!(
            "_api/web/lists/getbytitle('{}')",
            self.list_title.replace('\'', "''")
        ))?;
        let list = match self.get_entity(&list_url).await {
            Ok(e) => e,
            Err(SourceError::Fetch(FetchError::Status {
                status: 404, body, ..
            })) => {
                let detail = crate::sharepoint::error_body::parse(&body)
                    .map(|e| e.summary())
                    .or_else(|| crate::fetch::status_hint(404).map(str::to_string));
                // Which lists there are, for the message; best effort.
                let lists = self.lists().await.unwrap_or_default();
                return Err(SourceError::ListNotFound {
                    site: self.site.to_string(),
                    title: self.list_title.clone(),
                    detail,
                    lists,
                    content_type: None,
                });
            }
            Err(e) => return Err(e),
        };
        let info = ListInfo {
            id: str_prop(&list.props, "Id")
                .unwrap_or_default()
                .to_lowercase(),
            title: str_prop(&list.props, "Title").unwrap_or_else(|| self.list_title.clone()),
            entity_type_name: str_prop(&list.props, "EntityTypeName"),
            item_count: list.props.get("ItemCount").and_then(Value::as_u64),
        };
        if info.id.is_empty() {
            return Err(protocol(&list_url, "the list has no Id"));
        }
        self.list_id = Some(info.id.clone());
        self.item_count = info.item_count;
        let base = format!("_api/web/lists(guid'{}')", info.id);
        let fields_url = self.api(&format!("{base}/fields"))?;
        let fields = self
            .get_page(&fields_url)
            .await?
            .entities
            .iter()
            .map(field_from)
            .collect();
        let ct_url = self.api(&format!("{base}/contenttypes"))?;
        let content_types = self
            .get_page(&ct_url)
            .await?
            .entities
            .iter()
            .map(content_type_from)
            .collect();
        Ok(ListSchema {
            list: info,
            fields,
            content_types,
        })
    }

    async fn next_items(&mut self, query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError> {
        let url = if !self.started {
            self.started = true;
            self.first_items_url(query)?
        } else {
            match self.next.take() {
                Some(u) => u,
                None => return Ok(None),
            }
        };
        self.pages_read.insert(url.to_string());
        let page = self.get_page(&url).await?;
        self.next = match page.next {
            Some(n) => self.next_link(&url, &n, query)?,
            None => None,
        };
        let mut items = Vec::with_capacity(page.entities.len());
        for (i, e) in page.entities.into_iter().enumerate() {
            match item_from(e) {
                Ok(item) => items.push(item),
                Err(props) => self.malformed.push(malformed(&props, &url, i + 1)),
            }
        }
        Ok(Some(items))
    }

    /// The next page to read after `page`, whose next link is `link`: `None` when the link
    /// is out of scope, leads to a page already read, or the page bound is reached (each
    /// noted for the facts).
    fn next_link(
        &mut self,
        page: &Url,
        link: &str,
        query: &ItemQuery,
    ) -> Result<Option<Url>, SourceError> {
        let next = Url::parse(link)
            .or_else(|_| page.join(link))
            .map_err(|_| protocol(page, format!("bad next link `{link}`")))?;
        let bound = page_bound(self.item_count, query.page_size);
        let why = if let Err(r) = self.client.scope().check(&next) {
            RequestRefusal::Scope(r)
        } else if self.pages_read.contains(next.as_str()) {
            RequestRefusal::RepeatedNextLink
        } else if self.pages_read.len() >= bound {
            RequestRefusal::PageBound {
                bound,
                item_count: self.item_count,
            }
        } else {
            return Ok(Some(next));
        };
        self.refused.push(RefusedRequest {
            url: redact(&next),
            why,
        });
        Ok(None)
    }

    fn first_items_url(&self, query: &ItemQuery) -> Result<Url, SourceError> {
        let (id, select, expand) = self.item_options(query)?;
        let top = query.page_size.clamp(1, 5000);
        self.api(&format!(
            "_api/web/lists(guid'{id}')/items?$select={select}&$expand={expand}&$top={top}"
        ))
    }

    /// The URL of one item, with the fields, lookups and attachments a page of items has.
    fn item_url(&self, item_id: i64, query: &ItemQuery) -> Result<Url, SourceError> {
        let (id, select, expand) = self.item_options(query)?;
        self.api(&format!(
            "_api/web/lists(guid'{id}')/items({item_id})?$select={select}&$expand={expand}"
        ))
    }

    /// The list id, `$select` and `$expand` of an item read.
    fn item_options(&self, query: &ItemQuery) -> Result<(&str, String, String), SourceError> {
        let id = self.list_id.as_deref().ok_or_else(|| {
            SourceError::BadUrl("items requested before the list was described".into())
        })?;
        let mut select = vec!["*".to_string(), "AttachmentFiles".to_string()];
        let mut expand = vec!["AttachmentFiles".to_string()];
        for name in &query.expand {
            select.push(format!("{name}/Id"));
            select.push(format!("{name}/Title"));
            expand.push(name.clone());
        }
        Ok((id, select.join(","), expand.join(",")))
    }

    /// The site: title, language, the `MicrosoftSharePointTeamServices` version, and which
    /// of the three JSON shapes `/_api/web` answers. Settles the shape as [`probe`] does.
    ///
    /// [`probe`]: RestSource::probe
    pub async fn site_facts(&mut self) -> Result<SiteFacts, SourceError> {
        let url = self.api("_api/web")?;
        let mut facts = SiteFacts {
            url: self.site.to_string(),
            ..Default::default()
        };
        let mut web = None;
        for shape in [Shape::NoMetadata, Shape::MinimalMetadata, Shape::Verbose] {
            match self.client.get(&url, shape.accept()).await {
                Ok(body) => {
                    facts.json_shapes.push(shape.name().to_string());
                    if facts.server_version.is_none() {
                        facts.server_version = body
                            .headers
                            .get("MicrosoftSharePointTeamServices")
                            .and_then(|v| v.to_str().ok())
                            .map(|v| v.trim().to_string());
                    }
                    if web.is_none() {
                        web =
                            Some(odata::parse_entity(&body.bytes).map_err(|e| protocol(&url, e))?);
                        if self.shape_choice == ShapeChoice::Auto {
                            self.shape = Some(shape);
                        }
                    }
                }
                Err(e) if matches!(e.status(), Some(400 | 406 | 415)) => {}
                Err(e) => return Err(closed_or(e, &url)),
            }
        }
        match &web {
            Some(web) => facts.read_web(web),
            None => {
                return Err(protocol(
                    &url,
                    "the REST API refused every JSON shape (verbose, minimalmetadata, nometadata)",
                ));
            }
        }
        Ok(facts)
    }

    /// The lists of the site that are not hidden, with their root folders and content types.
    pub async fn lists(&mut self) -> Result<Vec<ListSummary>, SourceError> {
        let mut url = self.api(
            "_api/web/lists?$select=Id,Title,ItemCount,BaseTemplate,EnableVersioning,EnableAttachments,RootFolder/ServerRelativeUrl,ContentTypes/Name&$expand=RootFolder,ContentTypes&$filter=Hidden eq false",
        )?;
        let mut lists = Vec::new();
        // The lists collection is not paged by SharePoint; the bound only guards a farm that
        // would link pages forever.
        for _ in 0..100 {
            let page = self.get_page(&url).await?;
            lists.extend(page.entities.iter().map(ListSummary::from_entity));
            match page.next {
                Some(n) => {
                    url = Url::parse(&n)
                        .or_else(|_| self.site.join(&n))
                        .map_err(|_| protocol(&url, format!("bad next link `{n}`")))?;
                }
                None => break,
            }
        }
        Ok(lists)
    }

    /// Fills in the fields of each content type of a described list
    /// (`/contenttypes('0x…')/fields`).
    pub async fn content_type_fields(
        &mut self,
        schema: &mut ListSchema,
    ) -> Result<(), SourceError> {
        let list_id = schema.list.id.clone();
        for ct in &mut schema.content_types {
            let url = self.api(&format!(
                "_api/web/lists(guid'{list_id}')/contenttypes('{}')/fields",
                ct.id.replace('\'', "''")
            ))?;
            ct.fields = self
                .get_page(&url)
                .await?
                .entities
                .iter()
                .filter_map(|e| str_prop(&e.props, "InternalName"))
                .collect();
        }
        Ok(())
    }

    /// The first `query.page_size` items of a described list, read as a crawl reads them,
    /// for sample values.
    pub async fn first_items(&mut self, query: &ItemQuery) -> Result<Vec<RawItem>, SourceError> {
        let url = self.first_items_url(query)?;
        let page = self.get_page(&url).await?;
        // Entries without a usable id give no sample values; the crawl reports them.
        Ok(page
            .entities
            .into_iter()
            .filter_map(|e| item_from(e).ok())
            .collect())
    }

    /// The absolute URL of a server-relative path as SharePoint reports it (decoded),
    /// percent-encoding each segment as UTF-8.
    pub fn absolute_file_url(&self, server_relative: &str) -> Result<Url, SourceError> {
        super::absolute_file_url(&self.site, server_relative)
    }
}

impl super::Source for RestSource {
    fn via(&self) -> Via {
        Via::Rest
    }

    fn site(&self) -> &Url {
        &self.site
    }

    fn protocol(&self) -> Option<String> {
        self.shape.map(|s| format!("odata={}", s.name()))
    }

    async fn describe(&mut self) -> Result<ListSchema, SourceError> {
        self.describe_list().await
    }

    async fn next_page(&mut self, query: &ItemQuery) -> Result<Option<Vec<RawItem>>, SourceError> {
        self.next_items(query).await
    }

    fn file_url(&self, server_relative: &str) -> Option<Url> {
        self.absolute_file_url(server_relative).ok()
    }

    fn facts(&mut self) -> SourceFacts {
        SourceFacts {
            refused_requests: std::mem::take(&mut self.refused),
            malformed: std::mem::take(&mut self.malformed),
            ..SourceFacts::default()
        }
    }
}

/// Item pages read at most: twice the pages the list's `ItemCount` needs at `page_size`
/// items a page, plus ten (items added while the crawl runs, servers that page smaller);
/// [`PAGE_BOUND_UNKNOWN`] when the list does not say, never more than [`PAGE_BOUND_MAX`].
pub fn page_bound(item_count: Option<u64>, page_size: usize) -> usize {
    let top = page_size.clamp(1, 5000) as u64;
    match item_count {
        Some(n) => {
            let pages = n.div_ceil(top).saturating_mul(2).saturating_add(10);
            usize::try_from(pages).map_or(PAGE_BOUND_MAX, |p| p.min(PAGE_BOUND_MAX))
        }
        None => PAGE_BOUND_UNKNOWN,
    }
}

/// A `401`, `403` or `404` of the probe as the API closed to an anonymous reader; credentials
/// refused are an error of their own, never a reason to read the public pages instead.
fn closed_or(e: FetchError, url: &Url) -> SourceError {
    match e.status() {
        _ if e.is_sign_in_lost() => SourceError::Fetch(e),
        Some(status @ (401 | 403 | 404)) => SourceError::ApiClosed {
            url: url.to_string(),
            status,
            sign_in: e.sign_in_hint(),
        },
        _ => SourceError::Fetch(e),
    }
}

fn protocol(url: &Url, e: impl std::fmt::Display) -> SourceError {
    SourceError::Protocol {
        url: url.to_string(),
        message: e.to_string(),
    }
}

fn str_prop(m: &serde_json::Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

fn field_from(e: &Entity) -> FieldDef {
    let p = &e.props;
    let internal_name = str_prop(p, "InternalName").unwrap_or_default();
    let type_as_string = str_prop(p, "TypeAsString").unwrap_or_default();
    FieldDef {
        title: str_prop(p, "Title").unwrap_or_default(),
        entity_property_name: str_prop(p, "EntityPropertyName")
            .unwrap_or_else(|| crate::sharepoint::names::entity_property_name(&internal_name)),
        internal_name,
        allow_multiple: p
            .get("AllowMultipleValues")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || type_as_string.ends_with("Multi"),
        type_as_string,
        hidden: flag(p, "Hidden"),
        required: flag(p, "Required"),
        read_only: flag(p, "ReadOnlyField"),
        from_base_type: flag(p, "FromBaseType"),
        choices: match p.get("Choices") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        },
        rich_text: flag(p, "RichText"),
    }
}

fn flag(m: &serde_json::Map<String, Value>, k: &str) -> bool {
    m.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn content_type_from(e: &Entity) -> ContentTypeInfo {
    let p = &e.props;
    let id = str_prop(p, "StringId")
        .or_else(|| {
            p.get("Id")
                .and_then(|v| v.get("StringValue"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    ContentTypeInfo {
        id,
        name: str_prop(p, "Name").unwrap_or_default(),
        fields: Vec::new(),
    }
}

/// The raw item of an entity; its properties back when it has no whole-number id.
fn item_from(e: Entity) -> Result<RawItem, serde_json::Map<String, Value>> {
    let mut props = e.props;
    let Some(id) = id_of(&props).and_then(Value::as_i64) else {
        return Err(props);
    };
    let attachments = match props.remove("AttachmentFiles") {
        Some(Value::Array(files)) => files
            .iter()
            .filter_map(|f| {
                Some(RawAttachment {
                    file_name: f.get("FileName")?.as_str()?.to_string(),
                    server_relative_url: f.get("ServerRelativeUrl")?.as_str()?.to_string(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(RawItem {
        id,
        props,
        etag: e.etag,
        attachments,
        url: None,
    })
}

/// The item id property, `Id` or `ID`.
fn id_of(props: &serde_json::Map<String, Value>) -> Option<&Value> {
    props.get("Id").or_else(|| props.get("ID"))
}

/// What to say about the `position`th entry of `page`, which has no usable id.
fn malformed(props: &serde_json::Map<String, Value>, page: &Url, position: usize) -> MalformedItem {
    MalformedItem {
        page: page.to_string(),
        position,
        id: id_of(props).filter(|v| !v.is_null()).map(Value::to_string),
        title: str_prop(props, "Title").filter(|t| !t.trim().is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_bound_follows_the_item_count() {
        assert_eq!(page_bound(Some(0), 100), 10);
        assert_eq!(page_bound(Some(250), 100), 16);
        assert_eq!(page_bound(Some(7), 2), 18);
        assert_eq!(page_bound(None, 100), PAGE_BOUND_UNKNOWN);
        assert_eq!(page_bound(Some(u64::MAX), 1), PAGE_BOUND_MAX);
    }

    #[test]
    fn file_urls_keep_utf8_and_encode_awkward_characters() {
        let client = Client::new(&Default::default()).unwrap();
        let site = Url::parse("http://127.0.0.1:8080/sites/stp").unwrap();
        let s = RestSource::new(client, &site, "Tin tức", ShapeChoice::Auto);
        let u = s
            .absolute_file_url("/sites/stp/Lists/TinTuc/Attachments/5/Kế hoạch #3 100% 'mới'.docx")
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:8080/sites/stp/Lists/TinTuc/Attachments/5/K%E1%BA%BF%20ho%E1%BA%A1ch%20%233%20100%25%20'm%E1%BB%9Bi'.docx"
        );
    }

    #[test]
    fn entries_without_a_whole_number_id_are_set_aside_with_what_finds_them() {
        let entity = |props: Value| Entity {
            props: props.as_object().cloned().unwrap(),
            etag: None,
            type_name: None,
            uri: None,
        };
        let page = Url::parse("http://127.0.0.1/_api/web/lists(guid'x')/items").unwrap();
        assert_eq!(
            item_from(entity(serde_json::json!({"ID": 4}))).unwrap().id,
            4
        );
        for (props, id) in [
            (serde_json::json!({"Title": "Tin"}), None),
            (serde_json::json!({"Id": null, "Title": " "}), None),
            (
                serde_json::json!({"Id": "7", "Title": "Tin"}),
                Some("\"7\""),
            ),
            (serde_json::json!({"Id": 1.5}), Some("1.5")),
        ] {
            let title = props["Title"].as_str().filter(|t| !t.trim().is_empty());
            let rest = item_from(entity(props.clone())).unwrap_err();
            assert_eq!(
                malformed(&rest, &page, 3),
                MalformedItem {
                    page: page.to_string(),
                    position: 3,
                    id: id.map(str::to_string),
                    title: title.map(str::to_string),
                },
                "{props}"
            );
        }
    }
}
