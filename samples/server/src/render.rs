//! The answer side of SharePoint's OData dialect: one neutral entity model rendered in the
//! three JSON shapes (verbose, minimalmetadata, nometadata), `$select` / `$expand`
//! projection, and error bodies.
//!
//! Lists, fields, content types, items and attachments are all built as an [`Entity`] with
//! plain properties and navigation properties, then projected and rendered by the same code,
//! so the three shapes cannot drift apart per resource. Output is an ordered tree ([`Node`])
//! because SharePoint writes `__metadata` / `odata.*` first and clients reading by eye (and
//! golden tests) expect that order.

use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

use super::odata::{Format, Query, split_list};

/// An ordered JSON tree.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// Any JSON value, written as is.
    Json(Value),
    /// An object whose keys keep their order.
    Obj(Vec<(String, Node)>),
    /// An array.
    Arr(Vec<Node>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Json(v) => v.serialize(serializer),
            Node::Obj(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Node::Arr(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}

impl Node {
    /// Serialises the tree.
    pub fn to_json(&self) -> String {
        // Serialising a tree of strings, numbers and maps with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A property value with the type information verbose needs.
#[derive(Debug, Clone)]
pub(crate) enum Prop {
    /// A value written the same in every shape.
    Plain(Value),
    /// A complex value (`SP.FieldUrlValue`, ...): verbose adds `__metadata.type`.
    Complex {
        /// `SP.FieldUrlValue`, `SP.ContentTypeId`, ...
        type_name: String,
        /// The members, in output order.
        fields: Vec<(String, Prop)>,
    },
    /// A collection: verbose wraps it in `{"__metadata":{"type":…},"results":[…]}`.
    Collection {
        /// `Collection(Edm.String)`, `Collection(Edm.Int32)`, ...
        type_name: String,
        /// The elements.
        items: Vec<Prop>,
    },
}

impl Prop {
    /// A plain value; arrays of strings or integers become typed collections.
    pub fn infer(value: Value) -> Prop {
        match value {
            Value::Array(items) => {
                let elem = if items.iter().all(Value::is_i64) && !items.is_empty() {
                    "Edm.Int32"
                } else {
                    "Edm.String"
                };
                Prop::Collection {
                    type_name: format!("Collection({elem})"),
                    items: items.into_iter().map(Prop::infer).collect(),
                }
            }
            other => Prop::Plain(other),
        }
    }

    fn render(&self, format: Format) -> Node {
        match self {
            Prop::Plain(v) => Node::Json(v.clone()),
            Prop::Complex { type_name, fields } => {
                let mut out = Vec::with_capacity(fields.len() + 1);
                if format == Format::Verbose {
                    out.push(("__metadata".to_owned(), type_only(type_name)));
                }
                for (k, v) in fields {
                    out.push((k.clone(), v.render(format)));
                }
                Node::Obj(out)
            }
            Prop::Collection { type_name, items } => {
                let items = Node::Arr(items.iter().map(|p| p.render(format)).collect());
                if format == Format::Verbose {
                    Node::Obj(vec![
                        ("__metadata".to_owned(), type_only(type_name)),
                        ("results".to_owned(), items),
                    ])
                } else {
                    items
                }
            }
        }
    }
}

fn type_only(type_name: &str) -> Node {
    Node::Json(json!({ "type": type_name }))
}

/// Metadata of an entity, as each shape shows it.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// Verbose `__metadata.id`.
    pub id: String,
    /// Verbose `__metadata.uri` (absolute), when the entity has one.
    pub uri: Option<String>,
    /// `etag` / `odata.etag`.
    pub etag: Option<String>,
    /// `__metadata.type` / `odata.type`.
    pub type_name: String,
    /// Minimal `odata.id`.
    pub odata_id: String,
    /// Minimal `odata.editLink` (relative to `_api/`).
    pub edit_link: Option<String>,
}

/// Which error message an unknown property name gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// List items: "The field or property 'X' does not exist."
    Item,
    /// Everything else: "The property 'X' does not exist on type 'SP.List'. …"
    Object,
}

/// A navigation property (`AttachmentFiles`, `Author`, `RootFolder`, ...).
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    /// The absolute URI for verbose `__deferred`.
    pub uri: String,
    /// The relative link for minimal `…@odata.navigationLinkUrl`.
    pub edit_link: String,
    /// Lookup and user fields cannot be selected without `$expand`.
    pub requires_expand: bool,
    /// Whether verbose lists it as `__deferred` when it is not expanded.
    pub deferred: bool,
    /// The expanded value, filled only for names in `$expand`.
    pub value: Option<NavValue>,
}

/// An expanded navigation property.
#[derive(Debug, Clone)]
pub(crate) enum NavValue {
    /// A single entity (or null when the target is gone).
    One(Option<Box<Entity>>),
    /// A collection.
    Many(Vec<Entity>),
}

/// An entity ready to be projected and rendered.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    /// `__metadata` / `odata.*`.
    pub meta: Meta,
    /// Which message an unknown property gets.
    pub kind: Kind,
    /// Plain properties, in output order.
    pub props: Vec<(String, Prop)>,
    /// Navigation properties, in output order.
    pub navs: Vec<(String, Nav)>,
    /// Properties shown when the entity is expanded without a projection (`None` = all).
    pub default_props: Option<Vec<String>>,
}

/// An error a request deserves: HTTP status, SharePoint error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// SharePoint's `code`, e.g. `-1, System.ArgumentException`.
    pub code: &'static str,
    /// The `message.value`.
    pub message: String,
}

/// `-1, Microsoft.SharePoint.Client.InvalidClientQueryException`.
pub(crate) const INVALID_QUERY: &str =
    "-1, Microsoft.SharePoint.Client.InvalidClientQueryException";

impl ApiError {
    /// A 400 with `InvalidClientQueryException`.
    pub fn bad_query(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            code: INVALID_QUERY,
            message: message.into(),
        }
    }

    fn unknown(kind: Kind, type_name: &str, name: &str) -> ApiError {
        match kind {
            Kind::Item => {
                ApiError::bad_query(format!("The field or property '{name}' does not exist."))
            }
            Kind::Object => ApiError::bad_query(format!(
                "The property '{name}' does not exist on type '{type_name}'. Make sure to only \
                 use property names that are defined by the type."
            )),
        }
    }
}

/// The parsed `$select` and `$expand` options.
#[derive(Debug, Clone, Default)]
pub(crate) struct Projection {
    /// `$select` names without a slash; `None` when there is no `$select`.
    select: Option<Vec<String>>,
    /// `Nav/Prop` projections, by navigation property.
    sub: BTreeMap<String, Vec<String>>,
    /// `$expand` names (first path part).
    expand: Vec<String>,
}

impl Projection {
    /// Reads `$select` and `$expand` from the query.
    pub fn from_query(query: &Query) -> Projection {
        let mut projection = Projection::default();
        if let Some(select) = query.option("$select") {
            let mut plain = Vec::new();
            for name in split_list(select) {
                match name.split_once('/') {
                    Some((nav, prop)) => projection
                        .sub
                        .entry(nav.to_owned())
                        .or_default()
                        .push(prop.to_owned()),
                    None => plain.push(name),
                }
            }
            projection.select = Some(plain);
        }
        if let Some(expand) = query.option("$expand") {
            for name in split_list(expand) {
                let first = name.split('/').next().unwrap_or_default().to_owned();
                if !projection.expand.contains(&first) {
                    projection.expand.push(first);
                }
            }
        }
        projection
    }

    /// The plain names in `$select` (no `*`, no `Nav/Prop`).
    pub fn selected(&self) -> impl Iterator<Item = &str> {
        self.select
            .iter()
            .flatten()
            .map(String::as_str)
            .filter(|s| *s != "*")
    }

    /// Whether `name` is in `$expand`.
    pub fn expands(&self, name: &str) -> bool {
        self.expand.iter().any(|e| e == name)
    }

    /// Checks `$select`/`$expand` against an entity and keeps what they ask for.
    pub fn apply(&self, mut entity: Entity) -> Result<Entity, ApiError> {
        let (kind, type_name) = (entity.kind, entity.meta.type_name.clone());
        for name in &self.expand {
            if !entity.navs.iter().any(|(n, _)| n == name) {
                return Err(ApiError::unknown(kind, &type_name, name));
            }
        }
        for (nav, props) in &self.sub {
            let Some((_, n)) = entity.navs.iter().find(|(n, _)| n == nav) else {
                return Err(ApiError::unknown(kind, &type_name, nav));
            };
            if n.value.is_none() {
                return Err(not_expanded(&format!("{nav}/{}", props.join(",")), nav));
            }
        }
        let Some(select) = &self.select else {
            // No $select: every property, expanded navigation properties in full.
            for (name, nav) in &mut entity.navs {
                project_nav(nav, self.sub.get(name.as_str()))?;
            }
            return Ok(entity);
        };
        let all = select.iter().any(|s| s == "*");
        for name in select.iter().filter(|s| s.as_str() != "*") {
            let is_prop = entity.props.iter().any(|(n, _)| n == name);
            match entity.navs.iter().find(|(n, _)| n == name) {
                Some((_, nav)) if nav.requires_expand && nav.value.is_none() => {
                    return Err(not_expanded(name, name));
                }
                Some(_) => {}
                None if is_prop => {}
                None => return Err(ApiError::unknown(kind, &type_name, name)),
            }
        }
        if !all {
            entity.props.retain(|(n, _)| select.contains(n));
        }
        let mut kept = Vec::new();
        for (name, mut nav) in std::mem::take(&mut entity.navs) {
            let sub = self.sub.get(name.as_str());
            if select.contains(&name) || sub.is_some() {
                project_nav(&mut nav, sub)?;
                kept.push((name, nav));
            }
        }
        entity.navs = kept;
        Ok(entity)
    }
}

fn not_expanded(field: &str, nav: &str) -> ApiError {
    ApiError::bad_query(format!(
        "The query to field '{field}' is not valid. The $select query string must specify the \
         target fields and the $expand query string must contains {nav}."
    ))
}

/// Restricts an expanded navigation value to the projected properties.
fn project_nav(nav: &mut Nav, sub: Option<&Vec<String>>) -> Result<(), ApiError> {
    let restrict = |e: &mut Entity| -> Result<(), ApiError> {
        match sub {
            Some(names) if !names.iter().any(|n| n == "*") => {
                for name in names {
                    if !e.props.iter().any(|(n, _)| n == name) {
                        return Err(ApiError::unknown(e.kind, &e.meta.type_name, name));
                    }
                }
                e.props.retain(|(n, _)| names.contains(n));
            }
            Some(_) => {}
            None => {
                if let Some(defaults) = &e.default_props {
                    e.props.retain(|(n, _)| defaults.contains(n));
                }
            }
        }
        // Nested navigation properties are never expanded here.
        e.navs.clear();
        Ok(())
    };
    match &mut nav.value {
        None => {}
        Some(NavValue::One(Some(e))) => restrict(e)?,
        Some(NavValue::One(None)) => {}
        Some(NavValue::Many(list)) => {
            for e in list {
                restrict(e)?;
            }
        }
    }
    Ok(())
}

impl Entity {
    /// Renders the entity (already projected) in one shape.
    pub fn render(&self, format: Format) -> Node {
        let mut out = Vec::new();
        match format {
            Format::Verbose => {
                let mut meta = vec![("id".to_owned(), Node::Json(json!(self.meta.id)))];
                if let Some(uri) = &self.meta.uri {
                    meta.push(("uri".to_owned(), Node::Json(json!(uri))));
                }
                if let Some(etag) = &self.meta.etag {
                    meta.push(("etag".to_owned(), Node::Json(json!(etag))));
                }
                meta.push(("type".to_owned(), Node::Json(json!(self.meta.type_name))));
                out.push(("__metadata".to_owned(), Node::Obj(meta)));
                for (name, nav) in &self.navs {
                    match &nav.value {
                        Some(value) => out.push((name.clone(), render_nav(value, format))),
                        None if nav.deferred && !self.props.iter().any(|(n, _)| n == name) => out
                            .push((
                                name.clone(),
                                Node::Json(json!({ "__deferred": { "uri": nav.uri } })),
                            )),
                        None => {}
                    }
                }
            }
            Format::Minimal => {
                out.push((
                    "odata.type".to_owned(),
                    Node::Json(json!(self.meta.type_name)),
                ));
                out.push(("odata.id".to_owned(), Node::Json(json!(self.meta.odata_id))));
                if let Some(etag) = &self.meta.etag {
                    out.push(("odata.etag".to_owned(), Node::Json(json!(etag))));
                }
                if let Some(link) = &self.meta.edit_link {
                    out.push(("odata.editLink".to_owned(), Node::Json(json!(link))));
                }
                for (name, nav) in &self.navs {
                    if let Some(value) = &nav.value {
                        out.push((
                            format!("{name}@odata.navigationLinkUrl"),
                            Node::Json(json!(nav.edit_link)),
                        ));
                        out.push((name.clone(), render_nav(value, format)));
                    }
                }
            }
            Format::NoMetadata => {
                for (name, nav) in &self.navs {
                    if let Some(value) = &nav.value {
                        out.push((name.clone(), render_nav(value, format)));
                    }
                }
            }
        }
        for (name, prop) in &self.props {
            out.push((name.clone(), prop.render(format)));
        }
        Node::Obj(out)
    }
}

fn render_nav(value: &NavValue, format: Format) -> Node {
    match value {
        NavValue::One(None) => Node::Json(Value::Null),
        NavValue::One(Some(e)) => e.render(format),
        NavValue::Many(list) => {
            let items = Node::Arr(list.iter().map(|e| e.render(format)).collect());
            if format == Format::Verbose {
                Node::Obj(vec![("results".to_owned(), items)])
            } else {
                items
            }
        }
    }
}

/// A collection answer: `{"d":{"results":…,"__next":…}}` or `{"odata.metadata":…,"value":…}`.
/// `next` is left out entirely on the last page.
pub(crate) fn collection(
    format: Format,
    metadata: &str,
    entities: &[Entity],
    next: Option<String>,
) -> Node {
    let items = Node::Arr(entities.iter().map(|e| e.render(format)).collect());
    let next = next.map(|n| Node::Json(json!(n)));
    match format {
        Format::Verbose => {
            let mut d = vec![("results".to_owned(), items)];
            if let Some(next) = next {
                d.push(("__next".to_owned(), next));
            }
            Node::Obj(vec![("d".to_owned(), Node::Obj(d))])
        }
        Format::Minimal => {
            let mut out = vec![
                ("odata.metadata".to_owned(), Node::Json(json!(metadata))),
                ("value".to_owned(), items),
            ];
            if let Some(next) = next {
                out.push(("odata.nextLink".to_owned(), next));
            }
            Node::Obj(out)
        }
        Format::NoMetadata => {
            let mut out = Vec::new();
            if let Some(next) = next {
                out.push(("odata.nextLink".to_owned(), next));
            }
            out.push(("value".to_owned(), items));
            Node::Obj(out)
        }
    }
}

/// A single-entity answer: `{"d":{…}}`, `{"odata.metadata":"…/@Element",…}` or the bare entity.
pub(crate) fn single(format: Format, metadata: &str, entity: &Entity) -> Node {
    let rendered = entity.render(format);
    match (format, rendered) {
        (Format::Verbose, node) => Node::Obj(vec![("d".to_owned(), node)]),
        (Format::Minimal, Node::Obj(mut entries)) => {
            entries.insert(
                0,
                (
                    "odata.metadata".to_owned(),
                    Node::Json(json!(format!("{metadata}/@Element"))),
                ),
            );
            Node::Obj(entries)
        }
        (_, node) => node,
    }
}

/// The value a service operation returns (`GetContextWebInformation`, ...): verbose wraps it
/// in `{"d":{"<operation>":…}}`, minimalmetadata puts `odata.metadata` first, nometadata
/// gives the value alone.
pub(crate) fn function_result(
    format: Format,
    metadata: &str,
    operation: &str,
    value: &Prop,
) -> Node {
    match (format, value.render(format)) {
        (Format::Verbose, node) => Node::Obj(vec![(
            "d".to_owned(),
            Node::Obj(vec![(operation.to_owned(), node)]),
        )]),
        (Format::Minimal, Node::Obj(mut entries)) => {
            entries.insert(
                0,
                ("odata.metadata".to_owned(), Node::Json(json!(metadata))),
            );
            Node::Obj(entries)
        }
        (_, node) => node,
    }
}

/// How an error body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    /// `{"error":{…}}`.
    Verbose,
    /// `{"odata.error":{…}}` (minimalmetadata and nometadata).
    Light(Format),
    /// `<m:error>` XML, for requests without a JSON `Accept`.
    Xml,
}

/// The `Content-Type` and body of an error in one shape.
pub(crate) fn error_body(shape: ErrorShape, code: &str, message: &str) -> (&'static str, String) {
    let inner = json!({ "code": code, "message": { "lang": "en-US", "value": message } });
    match shape {
        ErrorShape::Verbose => (
            Format::Verbose.content_type(),
            json!({ "error": inner }).to_string(),
        ),
        ErrorShape::Light(format) => (
            format.content_type(),
            json!({ "odata.error": inner }).to_string(),
        ),
        ErrorShape::Xml => (
            "application/xml;charset=utf-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><m:error \
                 xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\">\
                 <m:code>{}</m:code><m:message xml:lang=\"en-US\">{}</m:message></m:error>",
                xml_escape(code),
                xml_escape(message)
            ),
        ),
    }
}

/// Escapes text for XML element content and attributes; line breaks and tabs as character
/// references, so that attribute values keep them.
pub(crate) fn xml_escape(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entity() -> Entity {
        Entity {
            meta: Meta {
                id: "Web/Lists(guid'x')/Items(1)".into(),
                uri: Some("http://h/_api/Web/Lists(guid'x')/Items(1)".into()),
                etag: Some("\"2\"".into()),
                type_name: "SP.Data.XListItem".into(),
                odata_id: "g".into(),
                edit_link: Some("Web/Lists(guid'x')/Items(1)".into()),
            },
            kind: Kind::Item,
            props: vec![
                ("Id".into(), Prop::Plain(json!(1))),
                ("Tags".into(), Prop::infer(json!(["a", "b"]))),
            ],
            navs: vec![(
                "AttachmentFiles".into(),
                Nav {
                    uri: "http://h/a".into(),
                    edit_link: "a".into(),
                    requires_expand: false,
                    deferred: true,
                    value: None,
                },
            )],
            default_props: None,
        }
    }

    #[test]
    fn verbose_wraps_collections_and_defers_navigation() {
        let got = entity().render(Format::Verbose).to_json();
        assert!(got.starts_with("{\"__metadata\":{\"id\":"), "{got}");
        assert!(got.contains("\"AttachmentFiles\":{\"__deferred\":{\"uri\":\"http://h/a\"}}"));
        assert!(got.contains(
            "\"Tags\":{\"__metadata\":{\"type\":\"Collection(Edm.String)\"},\"results\":[\"a\",\"b\"]}"
        ));
    }

    #[test]
    fn nometadata_is_bare() {
        let got = entity().render(Format::NoMetadata).to_json();
        assert_eq!(got, "{\"Id\":1,\"Tags\":[\"a\",\"b\"]}");
    }

    #[test]
    fn select_of_unknown_field_is_a_bad_query() {
        let q = Query::parse(Some("$select=Id,Nope"));
        let err = Projection::from_query(&q).apply(entity()).err();
        assert_eq!(
            err.map(|e| (e.status, e.message)),
            Some((
                400,
                "The field or property 'Nope' does not exist.".to_owned()
            ))
        );
    }

    #[test]
    fn errors_in_xml_are_escaped() {
        let (ct, body) = error_body(ErrorShape::Xml, "-1, X", "a <b> & 'c'");
        assert!(ct.starts_with("application/xml"));
        assert!(body.contains("a &lt;b&gt; &amp; &apos;c&apos;"));
    }
}
