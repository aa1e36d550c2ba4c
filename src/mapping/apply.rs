//! Turning one raw item into a record and the list of files it needs.
//!
//! The record comes out complete except for the `file` of each attachment and image:
//! [`MappedItem::wanted`] lists those files (same-site only), and the crawl fills each `file`
//! in once its bytes are on disk with their fixity.

use super::convert::{ConvertError, Neutral, convert};
use super::resolve::ResolvedMapping;
use super::spec::Conversion;
use crate::record::{
    self, Attachment, Body, BodyImage, FileSlot, Image, NeutralField, Record, SourceInfo, Stamp,
    WantedFile,
};
use crate::source::{RawItem, Via};
use crate::text::dates::PortalZone;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// What a mapping needs to know about the run and the site.
pub struct ItemContext<'a> {
    /// The site URL (trailing slash).
    pub site: &'a Url,
    /// The portal's zone.
    pub zone: &'a PortalZone,
    /// When the run read the item.
    pub fetched_at: &'a str,
    /// How the item was read.
    pub via: Via,
    /// Builds the absolute URL of a server-relative path as SharePoint reports it (decoded).
    pub file_url: &'a dyn Fn(&str) -> Option<Url>,
    /// Whether a URL is in the crawl's scope (the site's origin and the hosts allowed
    /// besides); references out of it are recorded but never fetched.
    pub in_scope: &'a dyn Fn(&Url) -> bool,
}

/// A record and the files to fetch for it.
#[derive(Debug, Clone)]
pub struct MappedItem {
    /// The record, `file`s still empty.
    pub record: Record,
    /// Files to fetch.
    pub wanted: Vec<WantedFile>,
}

/// An item whose value for one field did not convert.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `{title}` ({field}, {conversion}): {source}")]
pub struct MapError {
    /// The portal field's display name.
    pub title: String,
    /// The neutral field it fills.
    pub field: NeutralField,
    /// The conversion that failed.
    pub conversion: Conversion,
    /// Why, with the value found.
    pub source: ConvertError,
}

/// Keys that feed `source` rather than `extra`.
const SOURCE_KEYS: &[&str] = &[
    "Id",
    "ID",
    "GUID",
    "ContentTypeId",
    "OData__UIVersionString",
];

impl ResolvedMapping {
    /// Whether the item is of the mapping's content type (always, when none is named).
    pub fn wants(&self, item: &RawItem) -> bool {
        match (
            &self.content_type,
            item.props.get("ContentTypeId").and_then(Value::as_str),
        ) {
            (None, _) => true,
            (Some((prefix, _)), Some(id)) => id
                .to_ascii_lowercase()
                .starts_with(&prefix.to_ascii_lowercase()),
            (Some(_), None) => true,
        }
    }

    /// Maps one item. An error names the field and the value that did not convert.
    pub fn apply(&self, item: &RawItem, ctx: &ItemContext<'_>) -> Result<MappedItem, MapError> {
        let (mut values, extra) = self.convert_all(item, ctx)?;
        let mut wanted = Vec::new();
        let body = self.body(values.take(NeutralField::Body), ctx, &mut wanted);
        let caption = as_text(values.take(NeutralField::ImageCaption));
        let image = self.image(values.take(NeutralField::Image), caption, ctx, &mut wanted);
        let attachments = self.attachments(item, ctx, &mut wanted);
        let mut take = |f: NeutralField| values.take(f);
        let record = Record {
            schema: record::SCHEMA_ID.into(),
            schema_version: record::SCHEMA_VERSION.into(),
            id: format!(
                "urn:sharc:{}:{}:{}",
                host_key(ctx.site),
                self.schema.list.id,
                item.id
            ),
            source: self.source_info(item, ctx),
            title: as_text(take(NeutralField::Title)),
            summary: as_text(take(NeutralField::Summary)),
            body,
            published_at: as_instant(take(NeutralField::PublishedAt)),
            featured: match take(NeutralField::Featured) {
                Neutral::Bool(b) => Some(b),
                _ => None,
            },
            author: as_text(take(NeutralField::Author)),
            categories: match take(NeutralField::Categories) {
                Neutral::List(l) => l,
                Neutral::Text(t) => vec![t],
                _ => vec![],
            },
            article_type: as_text(take(NeutralField::ArticleType)),
            status: as_text(take(NeutralField::Status)),
            approval_status: match take(NeutralField::ApprovalStatus) {
                Neutral::Approval(a) => Some(a),
                _ => None,
            },
            view_count: as_int(take(NeutralField::ViewCount)),
            page_count: as_int(take(NeutralField::PageCount)),
            image_count: as_int(take(NeutralField::ImageCount)),
            history: as_text(take(NeutralField::History)),
            alternate_url: match take(NeutralField::AlternateUrl) {
                Neutral::Link { url, .. } | Neutral::Text(url) => Some(url),
                _ => None,
            },
            image,
            attachments,
            created: stamp(take(NeutralField::CreatedAt), take(NeutralField::CreatedBy)),
            modified: stamp(
                take(NeutralField::ModifiedAt),
                take(NeutralField::ModifiedBy),
            ),
            extra,
        };
        Ok(MappedItem { record, wanted })
    }

    /// Converts every bound field of `item`; what no field reads goes to `extra`, raw.
    fn convert_all(
        &self,
        item: &RawItem,
        ctx: &ItemContext<'_>,
    ) -> Result<(Values, BTreeMap<String, Value>), MapError> {
        let mut values = Values::default();
        let mut used_keys: BTreeSet<String> = SOURCE_KEYS.iter().map(|s| s.to_string()).collect();
        for (neutral, (field, conversion)) in &self.bound {
            let key = &field.entity_property_name;
            used_keys.insert(key.clone());
            if field.is_lookup_like() {
                used_keys.insert(format!("{key}Id"));
                used_keys.insert(format!("{key}StringId"));
            }
            let raw = item.props.get(key);
            let v = convert(*conversion, raw, ctx.zone).map_err(|source| MapError {
                title: field.title.clone(),
                field: *neutral,
                conversion: *conversion,
                source,
            })?;
            if let (Some(Value::String(s)), Neutral::Text(t)) = (raw, &v)
                && s.trim() != t
                && matches!(conversion, Conversion::Text | Conversion::Choice)
                && crate::text::nfc(s.trim()) == *t
            {
                // The value was not NFC as served: keep the raw bytes beside the derived text.
                used_keys.remove(key);
            }
            values.0.insert(*neutral, v);
        }
        let extra = item
            .props
            .iter()
            .filter(|(k, _)| !used_keys.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok((values, extra))
    }

    /// The body, with the same-site images its HTML references wanted.
    fn body(
        &self,
        value: Neutral,
        ctx: &ItemContext<'_>,
        wanted: &mut Vec<WantedFile>,
    ) -> Option<Body> {
        match value {
            Neutral::Html { html, text } => Some(self.body_with_images(html, text, ctx, wanted)),
            Neutral::Text(t) => Some(Body {
                html: t.clone(),
                text: t,
                images: vec![],
            }),
            _ => None,
        }
    }

    /// The article's image, always wanted: one out of the crawl's scope is refused by the
    /// files step and listed as such, so the bag says it lacks it.
    fn image(
        &self,
        value: Neutral,
        caption: Option<String>,
        ctx: &ItemContext<'_>,
        wanted: &mut Vec<WantedFile>,
    ) -> Option<Image> {
        let Neutral::Link { url, description } = value else {
            return None;
        };
        if let Some((abs, path)) = resolve(&url, ctx) {
            wanted.push(WantedFile {
                slot: FileSlot::Image,
                url: abs,
                path,
            });
        }
        Some(Image {
            url,
            caption: caption.or(description),
            file: None,
        })
    }

    /// The item's attachments, each wanted, when the mapping reads them.
    fn attachments(
        &self,
        item: &RawItem,
        ctx: &ItemContext<'_>,
        wanted: &mut Vec<WantedFile>,
    ) -> Vec<Attachment> {
        if !self.bound.contains_key(&NeutralField::Attachments) {
            return Vec::new();
        }
        item.attachments
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let url = (ctx.file_url)(&a.server_relative_url)?;
                wanted.push(WantedFile {
                    slot: FileSlot::Attachment(i),
                    url: url.clone(),
                    path: a.server_relative_url.clone(),
                });
                Some(Attachment {
                    name: a.file_name.clone(),
                    url: url.to_string(),
                    file: None,
                })
            })
            .collect()
    }

    /// Where and how the item was read.
    fn source_info(&self, item: &RawItem, ctx: &ItemContext<'_>) -> SourceInfo {
        let prop = |k: &str| {
            item.props
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let content_type_id = prop("ContentTypeId");
        SourceInfo {
            site: ctx.site.to_string(),
            list: self.schema.list.title.clone(),
            list_id: self.schema.list.id.clone(),
            item_id: item.id,
            guid: prop("GUID"),
            url: item.url.clone().unwrap_or_else(|| {
                format!(
                    "{}_api/web/lists(guid'{}')/items({})",
                    ctx.site, self.schema.list.id, item.id
                )
            }),
            content_type: content_type_id
                .as_deref()
                .and_then(|id| self.content_type_name(id)),
            content_type_id,
            via: ctx.via.as_str().into(),
            version: prop("OData__UIVersionString"),
            etag: item.etag.clone(),
            fetched_at: ctx.fetched_at.into(),
        }
    }

    fn body_with_images(
        &self,
        html: String,
        text: String,
        ctx: &ItemContext<'_>,
        wanted: &mut Vec<WantedFile>,
    ) -> Body {
        let mut images = Vec::new();
        let mut seen = BTreeSet::new();
        for src in crate::text::html::image_sources(&html) {
            let Some((abs, path)) = self.same_site(&src, ctx) else {
                continue;
            };
            if !seen.insert(abs.to_string()) {
                continue;
            }
            wanted.push(WantedFile {
                slot: FileSlot::BodyImage(images.len()),
                url: abs.clone(),
                path,
            });
            images.push(BodyImage {
                src,
                url: abs.to_string(),
                file: None,
            });
        }
        Body { html, text, images }
    }

    /// The absolute URL and decoded path of `reference` when it is in the crawl's scope;
    /// `None` for references out of it, which are never fetched.
    fn same_site(&self, reference: &str, ctx: &ItemContext<'_>) -> Option<(Url, String)> {
        resolve(reference, ctx).filter(|(abs, _)| (ctx.in_scope)(abs))
    }

    fn content_type_name(&self, item_ct: &str) -> Option<String> {
        let lower = item_ct.to_ascii_lowercase();
        self.schema
            .content_types
            .iter()
            .filter(|c| !c.id.is_empty() && lower.starts_with(&c.id.to_ascii_lowercase()))
            .max_by_key(|c| c.id.len())
            .map(|c| c.name.clone())
    }
}

/// Converted values by neutral field, each taken once.
#[derive(Default)]
struct Values(BTreeMap<NeutralField, Neutral>);

impl Values {
    /// The value of `f`, or `Null` when the mapping has none.
    fn take(&mut self, f: NeutralField) -> Neutral {
        self.0.remove(&f).unwrap_or(Neutral::Null)
    }
}

/// The absolute URL and decoded path of `reference`, wherever it points.
fn resolve(reference: &str, ctx: &ItemContext<'_>) -> Option<(Url, String)> {
    let abs = ctx.site.join(reference.trim()).ok()?;
    let path = percent_encoding::percent_decode_str(abs.path())
        .decode_utf8_lossy()
        .into_owned();
    Some((abs, path))
}

/// `host` or `host:port` of a URL, as used in record ids.
pub fn host_key(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "localhost".into(),
    }
}

fn as_text(v: Neutral) -> Option<String> {
    match v {
        Neutral::Text(t) => Some(t),
        Neutral::List(l) => Some(l.join(", ")),
        Neutral::Html { text, .. } => Some(text),
        Neutral::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn as_int(v: Neutral) -> Option<i64> {
    match v {
        Neutral::Int(i) => Some(i),
        Neutral::Float(f) if f.fract() == 0.0 => Some(f as i64),
        _ => None,
    }
}

fn as_instant(v: Neutral) -> Option<String> {
    match v {
        Neutral::Instant(s) => Some(s),
        _ => None,
    }
}

fn stamp(at: Neutral, by: Neutral) -> Option<Stamp> {
    let at = as_instant(at);
    let by = as_text(by);
    (at.is_some() || by.is_some()).then_some(Stamp { at, by })
}
