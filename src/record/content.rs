//! The content hash of a record: what tells an item that changed from one that was only
//! saved again.
//!
//! SharePoint gives an item a new version and `Modified` whenever anything saves it, a view
//! counter included. The hash covers what the record says about the item and leaves out
//! what describes the read (when, which version, which etag), the last modification
//! stamp, the archived copies of its files (their paths and digests are the bag's, not the
//! item's), and the fields the mapping marks volatile.

use super::{NeutralField, Record};
use serde_json::Value;

/// Raw SharePoint properties that every save changes, whatever it changed: left out of the
/// hash when the mapping leaves them in `extra`.
const SAVE_STAMPS: &[&str] = &[
    "owshiddenversion",
    "OData__UIVersionString",
    "OData__UIVersion",
    "Modified",
    "Editor",
    "EditorId",
    "EditorStringId",
];

/// The hex sha256 of `record`'s content, without the parts that move when nothing changed.
pub fn content_hash(record: &Record, volatile: &[NeutralField]) -> String {
    let mut v = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Some(source) = v.get_mut("source").and_then(Value::as_object_mut) {
        for key in ["fetched_at", "version", "etag"] {
            source.remove(key);
        }
    }
    if let Some(extra) = v.get_mut("extra").and_then(Value::as_object_mut) {
        for key in SAVE_STAMPS {
            extra.remove(*key);
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.remove("modified");
        for field in volatile {
            obj.remove(record_key(*field));
        }
    }
    strip_files(&mut v);
    // serde_json's maps are sorted, so the same content gives the same bytes.
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    crate::fixity::of_bytes(&bytes).sha256
}

/// The record key a neutral field fills.
fn record_key(field: NeutralField) -> &'static str {
    match field {
        NeutralField::CreatedAt | NeutralField::CreatedBy => "created",
        NeutralField::ModifiedAt | NeutralField::ModifiedBy => "modified",
        NeutralField::ImageCaption => "image",
        other => other.name(),
    }
}

/// Removes every archived copy (`file`) from the value.
fn strip_files(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("file");
            map.values_mut().for_each(strip_files);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_files),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(views: i64, version: &str) -> Record {
        let mut v = crate::record::sample_json(7);
        v["view_count"] = views.into();
        v["source"]["version"] = version.into();
        serde_json::from_value(v).expect("a valid record")
    }

    #[test]
    fn a_volatile_field_or_a_new_version_alone_is_no_change() {
        let before = record(20, "3.0");
        let after = record(21, "4.0");
        let volatile = [NeutralField::ViewCount];
        assert_eq!(
            content_hash(&before, &volatile),
            content_hash(&after, &volatile)
        );
        assert_ne!(content_hash(&before, &[]), content_hash(&after, &[]));
        let mut edited = after.clone();
        edited.title = Some("Một tiêu đề khác".into());
        assert_ne!(
            content_hash(&before, &volatile),
            content_hash(&edited, &volatile)
        );
    }
}
