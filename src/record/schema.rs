//! The record JSON Schema, shipped in every bag and used by `verify`.

use serde_json::Value;

/// The schema text, byte for byte as kept in `schema/record.schema.json`.
pub const SCHEMA_JSON: &str = include_str!("../../schema/record.schema.json");

/// Where the schema sits inside a bag.
pub const BAG_PATH: &str = "data/schema/record.schema.json";

/// A schema that cannot be used to check records.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("the schema is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not a schema the validator can compile.
    #[error("the schema does not compile: {0}")]
    DoesNotCompile(String),
}

/// A compiled validator for records.
pub struct RecordValidator {
    inner: jsonschema::Validator,
}

impl RecordValidator {
    /// Compiles the bundled schema.
    pub fn bundled() -> Result<Self, SchemaError> {
        Self::from_text(SCHEMA_JSON)
    }

    /// Compiles a schema given as text (for example the copy inside a bag).
    pub fn from_text(text: &str) -> Result<Self, SchemaError> {
        let schema: Value =
            serde_json::from_str(text).map_err(|e| SchemaError::NotJson(e.to_string()))?;
        let inner = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| SchemaError::DoesNotCompile(e.to_string()))?;
        Ok(Self { inner })
    }

    /// Every violation in `record`, as `"<json pointer>: <message>"`; empty when valid.
    pub fn violations(&self, record: &Value) -> Vec<String> {
        self.inner
            .iter_errors(record)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{}: {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "$schema": crate::record::SCHEMA_ID, "schema_version": "1.0",
            "id": "urn:sharc:stp.longan.gov.vn:3de2e36d-678f-459c-837a-2db7c83afd8b:1",
            "source": {"site": "https://stp.longan.gov.vn/", "list": "Tin tức sự kiện", "list_id": "3de2e36d-678f-459c-837a-2db7c83afd8b",
                       "item_id": 1, "guid": null, "url": "https://stp.longan.gov.vn/_api/web/lists(guid'3de2e36d')/items", "content_type": null,
                       "content_type_id": null, "via": "rest", "version": "3.0", "etag": "\"3\"", "fetched_at": "2023-01-05T10:00:00+07:00"},
            "title": "Tin", "summary": null, "body": null, "published_at": "2023-01-05T10:00:00+07:00", "featured": true,
            "author": null, "categories": [], "article_type": null, "status": null, "approval_status": "approved",
            "view_count": 20, "page_count": null, "image_count": null, "history": null, "alternate_url": null,
            "image": null, "attachments": [], "created": null, "modified": null, "extra": {}
        })
    }

    #[test]
    fn a_minimal_record_is_valid() {
        let v = RecordValidator::bundled().unwrap();
        assert_eq!(v.violations(&minimal()), Vec::<String>::new());
    }

    #[test]
    fn wrong_types_and_unknown_keys_are_named() {
        let v = RecordValidator::bundled().unwrap();
        let mut r = minimal();
        r["view_count"] = json!(20.5);
        r["surprise"] = json!(1);
        r["published_at"] = json!("05/01/2023");
        let errs = v.violations(&r);
        assert!(
            errs.iter().any(|e| e.starts_with("/view_count")),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.contains("surprise")), "{errs:?}");
        assert!(
            errs.iter().any(|e| e.starts_with("/published_at")),
            "{errs:?}"
        );
    }
}
