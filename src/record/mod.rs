//! The neutral record: one news item, independent of the portal it came from.
//!
//! A [`Record`] is what another system imports: plain fields with neutral names, the
//! article HTML exactly as served beside text derived from it, instants with the portal's
//! offset, and for every file (attachment, image) its payload path and fixity in the bag.
//! The JSON Schema in `schema/record.schema.json` describes it and ships inside every bag.

pub mod check;
pub mod content;
pub mod field;
pub mod schema;
pub mod slots;

pub use field::NeutralField;
pub use slots::{FileSlot, WantedFile};

use crate::fixity::Fixity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The schema identifier every record names.
pub const SCHEMA_ID: &str = "https://sharc.dev/schema/record/1.0/record.schema.json";
/// The record format version.
pub const SCHEMA_VERSION: &str = "1.0";

/// One archived list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The schema this record follows.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The record format version.
    pub schema_version: String,
    /// Stable identifier: `urn:sharc:<site host>:<list id>:<item id>`.
    pub id: String,
    /// Where and how the item was read.
    pub source: SourceInfo,
    /// Title, NFC.
    pub title: Option<String>,
    /// Summary (sapo), NFC.
    pub summary: Option<String>,
    /// The article body.
    pub body: Option<Body>,
    /// Publication instant, RFC 3339 with the portal's offset.
    pub published_at: Option<String>,
    /// Shown as featured news.
    pub featured: Option<bool>,
    /// By-line.
    pub author: Option<String>,
    /// Categories, in the portal's order.
    pub categories: Vec<String>,
    /// Article type (Tin, Bài, Tin ảnh, …).
    pub article_type: Option<String>,
    /// Editorial status as the portal names it.
    pub status: Option<String>,
    /// SharePoint's content approval state.
    pub approval_status: Option<ApprovalStatus>,
    /// Views counted by the portal at fetch time (volatile: never part of change detection).
    pub view_count: Option<i64>,
    /// Pages (for royalty reports).
    pub page_count: Option<i64>,
    /// Photos (for royalty reports).
    pub image_count: Option<i64>,
    /// Editorial history notes, NFC.
    pub history: Option<String>,
    /// A URL that replaces the article content.
    pub alternate_url: Option<String>,
    /// The article's image.
    pub image: Option<Image>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Creation.
    pub created: Option<Stamp>,
    /// Last modification.
    pub modified: Option<Stamp>,
    /// Fields the mapping does not name, raw, by entity property name.
    pub extra: BTreeMap<String, Value>,
}

/// Provenance of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// Site URL.
    pub site: String,
    /// List title.
    pub list: String,
    /// List GUID.
    pub list_id: String,
    /// Item ID.
    pub item_id: i64,
    /// Item GUID.
    pub guid: Option<String>,
    /// The URL the item was read from.
    pub url: String,
    /// Content type name.
    pub content_type: Option<String>,
    /// Content type id (`0x0100…`).
    pub content_type_id: Option<String>,
    /// How it was read: `rest` or `html`.
    pub via: String,
    /// SharePoint's version label (`3.0`).
    pub version: Option<String>,
    /// The item etag.
    pub etag: Option<String>,
    /// When the run read it (the run's bagging instant when pinned).
    pub fetched_at: String,
}

/// Article body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// HTML exactly as served.
    pub html: String,
    /// Text derived from the HTML, NFC.
    pub text: String,
    /// Same-site images the HTML references, in document order, with their archived copies.
    pub images: Vec<BodyImage>,
}

/// An image referenced by the body HTML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyImage {
    /// The `src` as written in the HTML.
    pub src: String,
    /// The absolute URL it was fetched from.
    pub url: String,
    /// The archived copy; absent when the download failed.
    pub file: Option<FileRef>,
}

/// Content approval states (`_ModerationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    /// 0.
    Approved,
    /// 1.
    Rejected,
    /// 2.
    Pending,
    /// 3.
    Draft,
    /// 4.
    Scheduled,
}

/// The article's image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// The URL as served.
    pub url: String,
    /// Caption.
    pub caption: Option<String>,
    /// The archived copy; absent when the image is off-site or failed.
    pub file: Option<FileRef>,
}

/// An attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The file name as SharePoint reports it.
    pub name: String,
    /// The absolute URL it was fetched from.
    pub url: String,
    /// The archived copy; absent when the download failed.
    pub file: Option<FileRef>,
}

/// A file inside the bag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Path inside the bag (`data/files/…`).
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-512, hex.
    pub sha512: String,
    /// Media type.
    pub media_type: String,
}

impl FileRef {
    /// A file reference from a payload path and its fixity.
    pub fn new(path: String, fixity: &Fixity, media_type: &str) -> Self {
        Self {
            path,
            size: fixity.size,
            sha256: fixity.sha256.clone(),
            sha512: fixity.sha512.clone(),
            media_type: media_type.to_string(),
        }
    }
}

/// When and by whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// RFC 3339 with the portal's offset.
    pub at: Option<String>,
    /// Display name of the person.
    pub by: Option<String>,
}

impl Record {
    /// The record as pretty JSON with a trailing newline: stable field order, sorted `extra`,
    /// UTF-8 text as it is (Vietnamese stays readable in a pager; only the control characters
    /// JSON requires are escaped), so the same record always gives the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Every file this record points to.
    pub fn files(&self) -> impl Iterator<Item = &FileRef> {
        self.image
            .iter()
            .filter_map(|i| i.file.as_ref())
            .chain(self.attachments.iter().filter_map(|a| a.file.as_ref()))
            .chain(
                self.body
                    .iter()
                    .flat_map(|b| b.images.iter().filter_map(|i| i.file.as_ref())),
            )
    }
}

/// Media type by file extension, for records and the zip writer.
pub fn media_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "tif" | "tiff" => "image/tiff",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "htm" | "html" => "text/html",
        "xml" => "text/xml",
        "json" => "application/json",
        "zip" => "application/zip",
        "rar" => "application/vnd.rar",
        "7z" => "application/x-7z-compressed",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// A small valid record as JSON, for tests: item `item_id`, one attachment without a file.
#[cfg(test)]
pub(crate) fn sample_json(item_id: i64) -> Value {
    serde_json::json!({
        "$schema": SCHEMA_ID, "schema_version": SCHEMA_VERSION,
        "id": format!("urn:sharc:127.0.0.1:3de2e36d-678f-459c-837a-2db7c83afd8b:{item_id}"),
        "source": {"site": "http://127.0.0.1/", "list": "Tin tức sự kiện",
                   "list_id": "3de2e36d-678f-459c-837a-2db7c83afd8b", "item_id": item_id,
                   "guid": null, "url": "http://127.0.0.1/x", "content_type": null,
                   "content_type_id": null, "via": "rest", "version": null, "etag": null,
                   "fetched_at": "2025-07-01T00:00:00+07:00"},
        "title": "Sở Tư pháp tỉnh Long An", "summary": null, "body": null, "published_at": null,
        "featured": null, "author": null, "categories": [], "article_type": null,
        "status": null, "approval_status": null, "view_count": null, "page_count": null,
        "image_count": null, "history": null, "alternate_url": null, "image": null,
        "attachments": [{"name": "Kế hoạch.pdf", "url": "http://127.0.0.1/a.pdf", "file": null}],
        "created": null, "modified": null, "extra": {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_readable_utf8_and_the_same_bytes_every_time() {
        let mut v = sample_json(1);
        v["extra"] = serde_json::json!({"Zeta": "Đồng Tháp", "Alpha": "tab\there\u{1}"});
        let record: Record = serde_json::from_value(v).unwrap();
        let bytes = record.to_json();
        assert_eq!(bytes, record.clone().to_json());
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(
            text.contains("\"title\": \"Sở Tư pháp tỉnh Long An\""),
            "{text}"
        );
        assert!(text.contains("\"name\": \"Kế hoạch.pdf\""), "{text}");
        // Only what JSON must escape is escaped.
        assert_eq!(text.matches("\\u").count(), 1, "{text}");
        assert!(text.contains("tab\\there\\u0001"), "{text}");
        assert!(
            text.find("\"Alpha\"") < text.find("\"Zeta\""),
            "extra is sorted"
        );
        assert!(
            text.starts_with("{\n  \"$schema\""),
            "pretty, in field order"
        );
        assert!(text.ends_with("}\n"));
    }
}
