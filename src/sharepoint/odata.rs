//! The three JSON shapes of SharePoint REST, reduced to one.
//!
//! `odata=verbose` wraps everything in `{"d":…}`, gives each entity `__metadata`, defers
//! navigation properties and wraps collections in `{"results":[…]}`; JSON Light
//! (`minimalmetadata`) puts `odata.*` annotations beside the properties; `nometadata` gives
//! bare objects and arrays. [`parse_page`] and [`parse_entity`] accept all three and return
//! the nometadata form plus the few annotations sharc keeps (etag, type, next link).

use serde_json::{Map, Value};

/// Which JSON shape to ask a farm for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `application/json;odata=verbose`: the only shape SharePoint 2013 without JSON Light speaks.
    Verbose,
    /// `application/json;odata=minimalmetadata`.
    MinimalMetadata,
    /// `application/json;odata=nometadata`: smallest payloads.
    NoMetadata,
}

impl Shape {
    /// The `Accept` header value for this shape.
    pub fn accept(self) -> &'static str {
        match self {
            Shape::Verbose => "application/json;odata=verbose",
            Shape::MinimalMetadata => "application/json;odata=minimalmetadata",
            Shape::NoMetadata => "application/json;odata=nometadata",
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Verbose => "verbose",
            Shape::MinimalMetadata => "minimalmetadata",
            Shape::NoMetadata => "nometadata",
        }
    }
}

/// One entity with its annotations taken out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entity {
    /// The properties, in nometadata form.
    pub props: Map<String, Value>,
    /// `__metadata.etag` or `odata.etag`, e.g. `"3"` with its quotes.
    pub etag: Option<String>,
    /// `__metadata.type` or `odata.type`, e.g. `SP.Data.TinTucSuKienListItem`.
    pub type_name: Option<String>,
    /// `__metadata.uri` or `odata.editLink`: where the entity lives.
    pub uri: Option<String>,
}

/// One page of a collection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The entities of this page.
    pub entities: Vec<Entity>,
    /// `__next` or `odata.nextLink`, verbatim; absent on the last page.
    pub next: Option<String>,
}

/// A body that is not a SharePoint JSON payload.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    /// Not JSON at all.
    #[error("the response is not JSON ({0})")]
    NotJson(#[from] serde_json::Error),
    /// JSON, but not an OData collection or entity.
    #[error("the response is JSON but not an OData {0}")]
    Unexpected(&'static str),
}

/// Parses a collection response in any shape.
pub fn parse_page(body: &[u8]) -> Result<Page, ShapeError> {
    let v: Value = serde_json::from_slice(body)?;
    let Value::Object(mut top) = v else {
        return Err(ShapeError::Unexpected("collection"));
    };
    let (items, next) = if let Some(Value::Object(mut d)) = top.remove("d") {
        let next = d.remove("__next");
        match d.remove("results") {
            Some(Value::Array(a)) => (a, next),
            _ => return Err(ShapeError::Unexpected("collection")),
        }
    } else {
        let next = top
            .remove("odata.nextLink")
            .or_else(|| top.remove("@odata.nextLink"));
        match top.remove("value") {
            Some(Value::Array(a)) => (a, next),
            _ => return Err(ShapeError::Unexpected("collection")),
        }
    };
    let entities = items
        .into_iter()
        .map(|item| match item {
            Value::Object(m) => Ok(entity_from(m)),
            _ => Err(ShapeError::Unexpected("collection")),
        })
        .collect::<Result<_, _>>()?;
    Ok(Page {
        entities,
        next: next.and_then(|n| n.as_str().map(str::to_string)),
    })
}

/// Parses a single-entity response in any shape.
pub fn parse_entity(body: &[u8]) -> Result<Entity, ShapeError> {
    let v: Value = serde_json::from_slice(body)?;
    let Value::Object(mut top) = v else {
        return Err(ShapeError::Unexpected("entity"));
    };
    if let Some(Value::Object(d)) = top.remove("d") {
        return Ok(entity_from(d));
    }
    Ok(entity_from(top))
}

fn entity_from(mut m: Map<String, Value>) -> Entity {
    let mut e = Entity::default();
    if let Some(Value::Object(meta)) = m.remove("__metadata") {
        e.etag = meta.get("etag").and_then(Value::as_str).map(str::to_string);
        e.type_name = meta.get("type").and_then(Value::as_str).map(str::to_string);
        e.uri = meta.get("uri").and_then(Value::as_str).map(str::to_string);
    }
    let take =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    e.etag = e
        .etag
        .or_else(|| take(&m, "odata.etag"))
        .or_else(|| take(&m, "@odata.etag"));
    e.type_name = e
        .type_name
        .or_else(|| take(&m, "odata.type"))
        .or_else(|| take(&m, "@odata.type"));
    e.uri = e
        .uri
        .or_else(|| take(&m, "odata.editLink"))
        .or_else(|| take(&m, "@odata.editLink"));
    e.props = normalize_object(m);
    e
}

/// Strips annotations and deferred links and unwraps `{"results":[…]}` collections,
/// recursively, leaving the nometadata form.
pub fn normalize_object(m: Map<String, Value>) -> Map<String, Value> {
    m.into_iter()
        .filter(|(k, _)| !is_annotation(k))
        .filter_map(|(k, v)| normalize_value(v).map(|v| (k, v)))
        .collect()
}

fn is_annotation(key: &str) -> bool {
    key == "__metadata"
        || key.starts_with("odata.")
        || key.starts_with("@odata.")
        || key.contains("@odata.")
}

fn normalize_value(v: Value) -> Option<Value> {
    match v {
        Value::Object(mut m) => {
            if m.contains_key("__deferred") {
                return None;
            }
            if matches!(m.get("results"), Some(Value::Array(_)))
                && m.keys().all(|k| k == "results" || k == "__metadata")
            {
                let Some(Value::Array(a)) = m.remove("results") else {
                    return None;
                };
                return Some(Value::Array(
                    a.into_iter().filter_map(normalize_value).collect(),
                ));
            }
            Some(Value::Object(normalize_object(m)))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(normalize_value).collect(),
        )),
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verbose_page_with_next_and_collections() {
        let body = json!({"d":{"results":[{
            "__metadata":{"id":"Web/Lists(guid'6e4a')/Items(12)","uri":"http://portal/_api/Web/Lists(guid'6e4a')/Items(12)","etag":"\"3\"","type":"SP.Data.TinTucListItem"},
            "AttachmentFiles":{"__deferred":{"uri":"…/Items(12)/AttachmentFiles"}},
            "Cats":{"__metadata":{"type":"Collection(Edm.Int32)"},"results":[1,2]},
            "Author":{"__metadata":{"id":"x","type":"SP.Data.UserInfoItem"},"Id":7,"Title":"Hà"},
            "Id":12,"Title":"Tin"}],
            "__next":"http://portal/_api/Web/Lists(guid'6e4a')/Items?%24skiptoken=Paged%3dTRUE%26p_ID%3d12&%24top=100"}});
        let page = parse_page(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            page.next.as_deref(),
            Some(
                "http://portal/_api/Web/Lists(guid'6e4a')/Items?%24skiptoken=Paged%3dTRUE%26p_ID%3d12&%24top=100"
            )
        );
        let e = &page.entities[0];
        assert_eq!(e.etag.as_deref(), Some("\"3\""));
        assert_eq!(e.type_name.as_deref(), Some("SP.Data.TinTucListItem"));
        assert_eq!(
            Value::Object(e.props.clone()),
            json!({"Cats":[1,2],"Author":{"Id":7,"Title":"Hà"},"Id":12,"Title":"Tin"})
        );
    }

    #[test]
    fn minimal_and_nometadata_pages_agree() {
        let minimal = json!({"odata.metadata":"m","value":[{"odata.type":"SP.Data.XListItem","odata.id":"g","odata.etag":"\"2\"","odata.editLink":"Web/Lists(guid'b8')/Items(1)",
            "AttachmentFiles@odata.navigationLinkUrl":"Web/Lists(guid'b8')/Items(1)/AttachmentFiles","AttachmentFiles":[{"FileName":"a b.pdf"}],"Id":1}],
            "odata.nextLink":"http://x/_api/web/lists(guid%27b8%27)/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d1"});
        let nometa = json!({"value":[{"AttachmentFiles":[{"FileName":"a b.pdf"}],"Id":1}],
            "odata.nextLink":"http://x/_api/web/lists(guid%27b8%27)/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d1"});
        let a = parse_page(minimal.to_string().as_bytes()).unwrap();
        let b = parse_page(nometa.to_string().as_bytes()).unwrap();
        assert_eq!(a.entities[0].props, b.entities[0].props);
        assert_eq!(a.next, b.next);
        assert_eq!(a.entities[0].etag.as_deref(), Some("\"2\""));
        assert_eq!(b.entities[0].etag, None);
    }

    #[test]
    fn last_page_has_no_next_and_bad_bodies_are_errors() {
        let p = parse_page(br#"{"value":[]}"#).unwrap();
        assert!(p.next.is_none() && p.entities.is_empty());
        assert!(parse_page(b"<html>").is_err());
        assert!(parse_page(br#"{"d":{"Title":"x"}}"#).is_err());
        let e = parse_entity(r#"{"d":{"__metadata":{"type":"SP.Web"},"Title":"Sở"}}"#.as_bytes())
            .unwrap();
        assert_eq!(e.props.get("Title"), Some(&json!("Sở")));
    }
}
