//! What a site says about itself before any list is read: its title, language and
//! SharePoint version, which JSON shapes its REST API speaks, and which lists it holds.
//!
//! `sharc inspect` shows these facts, and a crawl whose list title does not exist names the
//! lists the site does have. The REST source fills them ([`super::rest::RestSource::site_facts`],
//! [`super::rest::RestSource::lists`]); the words around them are the report's.

use super::{FieldDef, ItemQuery, ListSchema, RawItem};
use crate::sharepoint::{builtins, names, odata::Entity};
use crate::text::{clean_line, html::to_text, match_key, nfc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The site as its REST API describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SiteFacts {
    /// The site URL asked for, with a trailing slash.
    pub url: String,
    /// The web's title.
    pub title: Option<String>,
    /// The web's language (a Windows LCID: 1066 Vietnamese, 1033 English).
    pub language: Option<u32>,
    /// `UIVersion` of the web (15 for SharePoint 2013's look, 16 for later).
    pub ui_version: Option<u32>,
    /// The `MicrosoftSharePointTeamServices` header, e.g. `15.0.0.4701`.
    pub server_version: Option<String>,
    /// The JSON shapes the API answered (`verbose`, `minimalmetadata`, `nometadata`).
    pub json_shapes: Vec<String>,
}

/// One list of a site, as the lists collection shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListSummary {
    /// The list GUID, lowercase.
    pub id: String,
    /// The title.
    pub title: String,
    /// The root folder's server-relative URL (`/Lists/TinTucSuKien`).
    pub url: Option<String>,
    /// Items it holds.
    pub item_count: Option<u64>,
    /// `BaseTemplate`: 100 a generic list, 101 a document library, 850 a pages library, …
    pub base_template: Option<i64>,
    /// Versions are kept.
    pub versioning: Option<bool>,
    /// Items may have attachments.
    pub attachments: Option<bool>,
    /// The names of its content types, when the site listed them.
    pub content_types: Vec<String>,
}

impl ListSummary {
    /// Reads one entity of `/_api/web/lists` (with `RootFolder` and `ContentTypes` expanded
    /// when the farm did).
    pub fn from_entity(e: &Entity) -> Self {
        let p = &e.props;
        Self {
            id: text(p, "Id").unwrap_or_default().to_lowercase(),
            title: text(p, "Title").unwrap_or_default(),
            url: p
                .get("RootFolder")
                .and_then(|f| f.get("ServerRelativeUrl"))
                .and_then(Value::as_str)
                .map(str::to_string),
            item_count: p.get("ItemCount").and_then(Value::as_u64),
            base_template: p.get("BaseTemplate").and_then(Value::as_i64),
            versioning: p.get("EnableVersioning").and_then(Value::as_bool),
            attachments: p.get("EnableAttachments").and_then(Value::as_bool),
            content_types: match p.get("ContentTypes") {
                Some(Value::Array(cts)) => cts
                    .iter()
                    .filter_map(|c| c.get("Name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// Whether one of its content types is `name` (compared as a reader would).
    pub fn has_content_type(&self, name: &str) -> bool {
        let key = match_key(name);
        self.content_types.iter().any(|c| match_key(c) == key)
    }
}

impl SiteFacts {
    /// Reads `/_api/web`: title, language, UI version.
    pub fn read_web(&mut self, web: &Entity) {
        let p = &web.props;
        self.title = text(p, "Title");
        self.language = p
            .get("Language")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok());
        self.ui_version = p
            .get("UIVersion")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
    }
}

/// A list described in full, for `sharc inspect --list`: its schema, what each field's
/// internal name decodes to, and a sample value of each field from its first items.
#[derive(Debug, Clone, Default)]
pub struct ListDetail {
    /// The list, its fields and its content types (with their fields).
    pub schema: ListSchema,
    /// Internal name → the text it decodes to (`Ng_x00e0_y_x0020_xu_x1ea5_t_x002` →
    /// "Ngày xuất…"), NFC.
    pub decoded: BTreeMap<String, String>,
    /// Internal name → the first value the sample items hold, as short text.
    pub samples: BTreeMap<String, String>,
}

impl ListDetail {
    /// The detail of `schema`, with sample values from `items`.
    pub fn new(schema: ListSchema, items: &[RawItem]) -> Self {
        let decoded = schema
            .fields
            .iter()
            .map(|f| {
                (
                    f.internal_name.clone(),
                    nfc(&names::unescape(&f.internal_name)),
                )
            })
            .collect();
        let samples = schema
            .fields
            .iter()
            .filter_map(|f| {
                let text = items.iter().find_map(|i| sample_of(f, i))?;
                Some((f.internal_name.clone(), text))
            })
            .collect();
        Self {
            schema,
            decoded,
            samples,
        }
    }

    /// Whether a field is one of SharePoint's built-ins.
    pub fn is_built_in(f: &FieldDef) -> bool {
        f.from_base_type || builtins::by_internal_name(&f.internal_name).is_some()
    }
}

/// The query for sample items: the first `n`, with lookups and users expanded (at most 12,
/// SharePoint's lookup threshold).
pub fn sample_query(schema: &ListSchema, n: usize) -> ItemQuery {
    ItemQuery {
        expand: schema
            .fields
            .iter()
            .filter(|f| f.is_lookup_like() && !f.hidden)
            .map(|f| f.entity_property_name.clone())
            .take(12)
            .collect(),
        fields: Vec::new(),
        page_size: n,
    }
}

/// A field's value in one item as short text: HTML reduced to its text, lookups and users to
/// their titles, hyperlinks to their URL; `None` when the item has none.
fn sample_of(f: &FieldDef, item: &RawItem) -> Option<String> {
    let key = &f.entity_property_name;
    let v = item.props.get(key).filter(|v| !v.is_null()).or_else(|| {
        // A lookup not expanded still has its ids.
        f.is_lookup_like()
            .then(|| item.props.get(&format!("{key}Id")))
            .flatten()
    })?;
    let text = match v {
        Value::Null => return None,
        Value::String(s) if s.contains('<') => to_text(s),
        Value::String(s) => clean_line(s),
        Value::Array(a) => a
            .iter()
            .map(short)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        other => short(other),
    };
    let text = clean_line(&text);
    (!text.is_empty()).then_some(text)
}

fn short(v: &Value) -> String {
    match v {
        Value::Object(m) => ["Title", "Url", "Label", "LookupValue"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str))
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The lists `lists` names, those holding `content_type` first, for a message that says
/// which list to pick (`--list TITLE`); empty when no list is known.
pub fn lists_hint(lists: &[ListSummary], content_type: Option<&str>) -> String {
    if lists.is_empty() {
        return String::new();
    }
    const SHOWN: usize = 15;
    let mut ordered: Vec<&ListSummary> = lists.iter().collect();
    // A stable sort keeps the site's own order within each group.
    ordered.sort_by_key(|l| !content_type.is_some_and(|ct| l.has_content_type(ct)));
    let named: Vec<String> = ordered
        .iter()
        .take(SHOWN)
        .map(|l| {
            let mut s = format!("`{}`", l.title);
            let mut about = Vec::new();
            if let Some(n) = l.item_count {
                about.push(format!("{n} items"));
            }
            if let Some(ct) = content_type.filter(|ct| l.has_content_type(ct)) {
                about.push(format!("content type {ct}"));
            }
            if !about.is_empty() {
                s.push_str(&format!(" ({})", about.join(", ")));
            }
            s
        })
        .collect();
    let more = lists.len().saturating_sub(SHOWN);
    let tail = if more > 0 {
        format!(" and {more} more (sharc inspect lists them all)")
    } else {
        String::new()
    };
    format!("; the site has: {}{tail}", named.join(", "))
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    m.get(k).and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity(v: Value) -> Entity {
        let Value::Object(props) = v else {
            unreachable!("an object")
        };
        Entity {
            props,
            ..Default::default()
        }
    }

    #[test]
    fn a_list_entity_with_root_folder_and_content_types() {
        let l = ListSummary::from_entity(&entity(json!({
            "Id": "75B77F56-FC62-4C82-97BA-CF953D1A7ABD", "Title": "Tin tức", "ItemCount": 4362,
            "BaseTemplate": 100, "EnableVersioning": true, "EnableAttachments": true,
            "RootFolder": {"ServerRelativeUrl": "/So/soxaydung/Lists/TinTuc"},
            "ContentTypes": [{"Name": "Tin Tức Mở Rộng"}, {"Name": "Item"}]
        })));
        assert_eq!(l.id, "75b77f56-fc62-4c82-97ba-cf953d1a7abd");
        assert_eq!(l.url.as_deref(), Some("/So/soxaydung/Lists/TinTuc"));
        assert_eq!(l.item_count, Some(4362));
        assert!(l.has_content_type("tin tức mở rộng"));
        assert!(!l.has_content_type("Document"));
    }

    #[test]
    fn the_hint_names_lists_of_the_wanted_content_type_first() {
        let list = |title: &str, n: u64, cts: &[&str]| ListSummary {
            title: title.into(),
            item_count: Some(n),
            content_types: cts.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        };
        let lists = [
            list("Danh mục tin", 8, &["Item"]),
            list("Thông báo", 3, &["Item"]),
            list("Tin tức", 31, &["Tin Tức Mở Rộng", "Item"]),
        ];
        assert_eq!(
            lists_hint(&lists, Some("Tin Tức Mở Rộng")),
            "; the site has: `Tin tức` (31 items, content type Tin Tức Mở Rộng), `Danh mục tin` (8 items), `Thông báo` (3 items)"
        );
        assert_eq!(lists_hint(&[], Some("Tin Tức Mở Rộng")), "");
    }
}
