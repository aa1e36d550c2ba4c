//! The sample portal, loaded into memory from its directory or from the built-in copy.
//!
//! The server answers from these types only, so every consistency check lives here: a list
//! whose directory is missing, an item without an `Id`, two items with the same `Id`, or an
//! attachment whose bytes are not under the portal directory are reported when the portal is
//! loaded, with the file that is wrong, instead of surfacing later as a confusing HTTP answer.
//! Item values are kept as the raw JSON maps found on disk (keyed by `EntityPropertyName`, the
//! nometadata shape); the server turns them into the other shapes. Attachment bytes stay where
//! they are (on disk, or compiled in) and are streamed when requested.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::SampleError;
use super::tree::{Content, Miss, Tree};

/// The whole sample portal: the site, its lists with fields and items, and its users.
#[derive(Debug, Clone)]
pub struct Portal {
    /// Where the portal's files are.
    pub(crate) tree: Tree,
    /// The site (web) itself.
    pub site: SiteDef,
    /// The lists, in the order of `portal.json`.
    pub lists: Vec<List>,
    /// The site users that user fields point to.
    pub users: Vec<User>,
    /// Whether items were added by [`Portal::grown`]: their images are generated.
    pub(crate) grown: bool,
    /// The largest file generated for a grown item, in bytes.
    pub(crate) grown_max_file: u64,
}

/// The `site` object of `portal.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SiteDef {
    /// The web title.
    pub title: String,
    /// The web's server-relative URL, `/` for a root site.
    #[serde(default = "default_server_relative_url")]
    pub server_relative_url: String,
    /// The web id (a GUID without braces).
    pub web_id: String,
    /// The site's time zone (IANA name); informational.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The farm version sent in `MicrosoftSharePointTeamServices`.
    #[serde(default = "default_version")]
    pub version: String,
    /// The web language (LCID); 1066 is Vietnamese.
    #[serde(default = "default_language")]
    pub language: u32,
    /// The web description.
    #[serde(default)]
    pub description: String,
}

fn default_server_relative_url() -> String {
    "/".to_owned()
}

fn default_version() -> String {
    "15.0.0.4701".to_owned()
}

fn default_language() -> u32 {
    1066
}

/// One entry of `lists` in `portal.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListDef {
    /// The list id (a GUID without braces).
    pub id: String,
    /// The list title (display name).
    pub title: String,
    /// The URL name: `Lists/<url_name>` for lists, `<url_name>` for libraries.
    pub url_name: String,
    /// `EntityTypeName`; derived from `url_name` when absent.
    #[serde(default)]
    pub entity_type_name: Option<String>,
    /// `BaseTemplate` (100 generic list, 101 document library, ...).
    #[serde(default = "default_base_template")]
    pub base_template: i64,
    /// Whether the list is hidden (`Hidden eq false` filters it out).
    #[serde(default)]
    pub hidden: bool,
    /// The list description.
    #[serde(default)]
    pub description: String,
    /// The list's content types.
    #[serde(default)]
    pub content_types: Vec<ContentTypeDef>,
}

fn default_base_template() -> i64 {
    100
}

/// One content type of a list in `portal.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ContentTypeDef {
    /// The content type id, `0x...`.
    pub id: String,
    /// The content type name.
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: String,
    /// The group; `Custom Content Types` when absent.
    #[serde(default)]
    pub group: Option<String>,
    /// Whether the content type is hidden.
    #[serde(default)]
    pub hidden: bool,
    /// The internal names of its fields, in order (`/contenttypes('…')/fields`); every field
    /// of the list when absent.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct PortalFile {
    site: SiteDef,
    #[serde(default)]
    lists: Vec<ListDef>,
    #[serde(default)]
    users: Vec<Map<String, Value>>,
}

/// A site user, as `$expand` of a user field shows it (`Id`, `Title`, `Name`, `EMail`, ...).
#[derive(Debug, Clone)]
pub struct User {
    /// The user id that user fields (`AuthorId`, ...) hold.
    pub id: i64,
    /// All properties from `portal.json`, `Id` included.
    pub props: Map<String, Value>,
}

/// A list with its fields and items.
#[derive(Debug, Clone)]
pub struct List {
    /// The definition from `portal.json`.
    pub def: ListDef,
    /// The list id in lowercase, without braces, for comparisons.
    pub id: String,
    /// `EntityTypeName` (given, or derived from the URL name).
    pub entity_type_name: String,
    /// The fields from `fields.json`, in file order.
    pub fields: Vec<Field>,
    /// The items by id, in id order.
    pub items: BTreeMap<i64, Item>,
}

impl List {
    /// `BaseType`: 1 for document libraries and their kin, 0 for lists.
    pub fn base_type(&self) -> i64 {
        if matches!(self.def.base_template, 101 | 109 | 119 | 850 | 851) {
            1
        } else {
            0
        }
    }

    /// The root folder's path relative to the web: `Lists/<url>` or `<url>` for libraries.
    pub fn root_folder(&self) -> String {
        if self.base_type() == 1 {
            self.def.url_name.clone()
        } else {
            format!("Lists/{}", self.def.url_name)
        }
    }

    /// The field with this `EntityPropertyName`.
    pub fn field_by_property(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.entity_property_name == name)
    }
}

/// One field of `fields.json`.
#[derive(Debug, Clone)]
pub struct Field {
    /// `InternalName`.
    pub internal_name: String,
    /// `EntityPropertyName`: the key of the field's value in items.
    pub entity_property_name: String,
    /// `Title`, the display name.
    pub title: String,
    /// `TypeAsString` (`Text`, `Lookup`, `UserMulti`, ...).
    pub type_as_string: String,
    /// `Id` in lowercase without braces (empty when the file has none).
    pub id: String,
    /// The field object exactly as in the file.
    pub raw: Map<String, Value>,
}

/// What a field's values look like, as far as the server needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A lookup: values are `<Name>Id`, expandable into the target list's items.
    Lookup {
        /// Whether several values are allowed.
        multi: bool,
    },
    /// A person or group: values are `<Name>Id`, expandable into users.
    User {
        /// Whether several values are allowed.
        multi: bool,
    },
    /// Several choices: an array of strings.
    MultiChoice,
    /// A hyperlink: `{Description, Url}`.
    Url,
    /// A managed metadata value or values.
    Taxonomy {
        /// Whether several values are allowed.
        multi: bool,
    },
    /// Anything else: the value is served as stored.
    Plain,
}

impl Field {
    /// The kind of values this field holds.
    pub fn kind(&self) -> FieldKind {
        let multi = self
            .raw
            .get("AllowMultipleValues")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match self.type_as_string.as_str() {
            "Lookup" => FieldKind::Lookup { multi },
            "LookupMulti" => FieldKind::Lookup { multi: true },
            "User" => FieldKind::User { multi },
            "UserMulti" => FieldKind::User { multi: true },
            "MultiChoice" => FieldKind::MultiChoice,
            "URL" => FieldKind::Url,
            "TaxonomyFieldType" => FieldKind::Taxonomy { multi: false },
            "TaxonomyFieldTypeMulti" => FieldKind::Taxonomy { multi: true },
            _ => FieldKind::Plain,
        }
    }

    /// The lookup target list id (lowercase, no braces), for lookup fields.
    pub fn lookup_list(&self) -> Option<String> {
        self.raw
            .get("LookupList")
            .and_then(Value::as_str)
            .map(normalize_guid)
    }

    /// The lookup target field (`Title` when not given).
    pub fn lookup_field(&self) -> String {
        self.raw
            .get("LookupField")
            .and_then(Value::as_str)
            .unwrap_or("Title")
            .to_owned()
    }
}

/// One list item from `items/NNNN.json`.
#[derive(Debug, Clone)]
pub struct Item {
    /// The item id.
    pub id: i64,
    /// The values keyed by `EntityPropertyName`, `_attachments` removed.
    pub values: Map<String, Value>,
    /// The keys of `values` in file order, which is the order the server writes them in.
    pub order: Vec<String>,
    /// The attachments, in file order.
    pub attachments: Vec<Attachment>,
    /// The file the item was read from.
    pub source: PathBuf,
}

impl Item {
    /// The item version (`owshiddenversion`), 1 when not stored.
    pub fn version(&self) -> i64 {
        self.values
            .get("owshiddenversion")
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }

    /// The attachment with exactly this file name.
    pub fn attachment(&self, file_name: &str) -> Option<&Attachment> {
        self.attachments.iter().find(|a| a.file_name == file_name)
    }
}

/// One attachment of an item.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// `FileName` as SharePoint shows it (any characters but `/` and `\`).
    pub file_name: String,
    /// Where the bytes are: `stored`, relative to the portal directory.
    pub stored: String,
    /// Bytes generated when served instead (an item of a grown portal).
    pub(crate) synthetic: Option<Content>,
}

#[derive(Debug, Deserialize)]
struct AttachmentDef {
    #[serde(rename = "FileName")]
    file_name: String,
    stored: String,
}

/// Lowercases a GUID and strips braces, so ids compare as SharePoint compares them.
pub fn normalize_guid(s: &str) -> String {
    s.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_ascii_lowercase()
}

/// Derives `EntityTypeName` from a list URL name the way SharePoint does: `_` becomes
/// `_x005f_`, a space `_x0020_`, the first letter is upper-cased and lists (not libraries)
/// get the suffix `List`.
pub fn derive_entity_type_name(url_name: &str, base_template: i64) -> String {
    let mut out = String::new();
    for c in url_name.chars() {
        match c {
            '_' => out.push_str("_x005f_"),
            ' ' => out.push_str("_x0020_"),
            c => out.push(c),
        }
    }
    let mut chars = out.chars();
    let mut name = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    if !matches!(base_template, 101 | 109 | 119 | 850 | 851) {
        name.push_str("List");
    }
    name
}

impl Portal {
    /// Reads `portal.json`, every list's `fields.json` and `items/*.json` under `dir`.
    ///
    /// Fails with the first file that is missing, malformed or inconsistent.
    pub fn load(dir: &Path) -> Result<Portal, SampleError> {
        Portal::from_tree(Tree::Dir(dir.to_path_buf()))
    }

    /// The Long An sample (`samples/long-an-stp`) compiled into this crate, so it can be
    /// served from any directory and by an installed binary.
    pub fn built_in() -> Result<Portal, SampleError> {
        Portal::from_tree(Tree::BuiltIn)
    }

    fn from_tree(tree: Tree) -> Result<Portal, SampleError> {
        let file: PortalFile = read_json(&tree, "portal.json")?;
        let portal_path = tree.name("portal.json");
        let users = load_users(&portal_path, file.users)?;
        let mut lists = Vec::with_capacity(file.lists.len());
        let mut seen_ids = HashSet::new();
        let mut seen_titles = HashSet::new();
        let mut seen_urls = HashSet::new();
        for def in file.lists {
            let id = normalize_guid(&def.id);
            if id.is_empty() {
                return Err(SampleError::invalid(
                    &portal_path,
                    format!("list '{}' has an empty id; give it a GUID", def.title),
                ));
            }
            if !seen_ids.insert(id.clone()) {
                return Err(SampleError::invalid(
                    &portal_path,
                    format!("two lists have the id {id}; list ids must be unique"),
                ));
            }
            if !seen_titles.insert(def.title.to_lowercase()) {
                return Err(SampleError::invalid(
                    &portal_path,
                    format!(
                        "two lists are titled '{}'; titles must be unique",
                        def.title
                    ),
                ));
            }
            if !is_plain_name(&def.url_name) || !seen_urls.insert(def.url_name.to_lowercase()) {
                return Err(SampleError::invalid(
                    &portal_path,
                    format!(
                        "list '{}' has the url_name '{}', which is empty, repeated or not a \
                         single path segment",
                        def.title, def.url_name
                    ),
                ));
            }
            let list_dir = format!("lists/{}", def.url_name);
            let fields = load_fields(&tree, &format!("{list_dir}/fields.json"))?;
            for ct in &def.content_types {
                let unknown = ct
                    .fields
                    .iter()
                    .flatten()
                    .find(|name| !fields.iter().any(|f| &f.internal_name == *name));
                if let Some(name) = unknown {
                    return Err(SampleError::invalid(
                        &portal_path,
                        format!(
                            "content type '{}' of list '{}' names the field '{name}', which is \
                             not in {list_dir}/fields.json",
                            ct.name, def.title
                        ),
                    ));
                }
            }
            let items = load_items(&tree, &format!("{list_dir}/items"))?;
            let entity_type_name = def
                .entity_type_name
                .clone()
                .unwrap_or_else(|| derive_entity_type_name(&def.url_name, def.base_template));
            lists.push(List {
                def,
                id,
                entity_type_name,
                fields,
                items,
            });
        }
        Ok(Portal {
            tree,
            site: file.site,
            lists,
            users,
            grown: false,
            grown_max_file: crate::grow::MAX_FILE,
        })
    }

    /// The list with this id (any case, braces allowed).
    pub fn list_by_id(&self, id: &str) -> Option<&List> {
        let id = normalize_guid(id);
        self.lists.iter().find(|l| l.id == id)
    }

    /// The list with this title, compared case-insensitively as SharePoint does.
    pub fn list_by_title(&self, title: &str) -> Option<&List> {
        let wanted = title.to_lowercase();
        self.lists
            .iter()
            .find(|l| l.def.title.to_lowercase() == wanted)
    }

    /// The list whose URL name is this one (case-insensitive).
    pub fn list_by_url_name(&self, url_name: &str) -> Option<&List> {
        self.lists
            .iter()
            .find(|l| l.def.url_name.eq_ignore_ascii_case(url_name))
    }

    /// The user with this id.
    pub fn user(&self, id: i64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(tree: &Tree, rel: &str) -> Result<T, SampleError> {
    let bytes = tree.read(rel).map_err(|source| SampleError::Read {
        path: tree.name(rel),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| SampleError::Json {
        path: tree.name(rel),
        source,
    })
}

fn load_users(path: &Path, raw: Vec<Map<String, Value>>) -> Result<Vec<User>, SampleError> {
    let mut users = Vec::with_capacity(raw.len());
    let mut seen = HashSet::new();
    for (n, props) in raw.into_iter().enumerate() {
        let Some(id) = props.get("Id").and_then(Value::as_i64) else {
            return Err(SampleError::invalid(
                path,
                format!("user #{} has no integer \"Id\"", n + 1),
            ));
        };
        if !seen.insert(id) {
            return Err(SampleError::invalid(
                path,
                format!("two users have the Id {id}; user ids must be unique"),
            ));
        }
        users.push(User { id, props });
    }
    Ok(users)
}

fn load_fields(tree: &Tree, rel: &str) -> Result<Vec<Field>, SampleError> {
    let raw: Vec<Map<String, Value>> = read_json(tree, rel)?;
    let path = &tree.name(rel);
    let mut fields = Vec::with_capacity(raw.len());
    let mut seen = HashSet::new();
    for (n, raw) in raw.into_iter().enumerate() {
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        let Some(internal_name) = text("InternalName") else {
            return Err(SampleError::invalid(
                path,
                format!("field #{} has no string \"InternalName\"", n + 1),
            ));
        };
        let Some(type_as_string) = text("TypeAsString") else {
            return Err(SampleError::invalid(
                path,
                format!("field '{internal_name}' has no string \"TypeAsString\""),
            ));
        };
        let entity_property_name = text("EntityPropertyName").unwrap_or_else(|| {
            if internal_name.starts_with('_') {
                format!("OData_{internal_name}")
            } else {
                internal_name.clone()
            }
        });
        if !seen.insert(internal_name.clone()) {
            return Err(SampleError::invalid(
                path,
                format!("two fields have the InternalName '{internal_name}'"),
            ));
        }
        fields.push(Field {
            title: text("Title").unwrap_or_else(|| internal_name.clone()),
            id: text("Id").map(|s| normalize_guid(&s)).unwrap_or_default(),
            internal_name,
            entity_property_name,
            type_as_string,
            raw,
        });
    }
    Ok(fields)
}

fn load_items(tree: &Tree, items_dir: &str) -> Result<BTreeMap<i64, Item>, SampleError> {
    let mut items = BTreeMap::new();
    let paths = match tree.json_files(items_dir) {
        Ok(paths) => paths,
        // A list without an items directory is an empty list.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(items),
        Err(source) => {
            return Err(SampleError::Read {
                path: tree.name(items_dir),
                source,
            });
        }
    };
    for rel in paths {
        let item = load_item(tree, &rel)?;
        if let Some(previous) = items.get(&item.id) {
            let previous: &Item = previous;
            return Err(SampleError::invalid(
                tree.name(&rel),
                format!(
                    "Id {} is also used by {}; item ids must be unique",
                    item.id,
                    previous.source.display()
                ),
            ));
        }
        items.insert(item.id, item);
    }
    Ok(items)
}

fn load_item(tree: &Tree, rel: &str) -> Result<Item, SampleError> {
    let OrderedObject(pairs) = read_json(tree, rel)?;
    let path = &tree.name(rel);
    let order: Vec<String> = pairs
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| k != "_attachments")
        .collect();
    let mut values: Map<String, Value> = pairs.into_iter().collect();
    let id_of = |key: &str| values.get(key).and_then(Value::as_i64);
    let id = match (id_of("Id"), id_of("ID")) {
        (Some(a), Some(b)) if a != b => {
            return Err(SampleError::invalid(
                path,
                format!("\"Id\" is {a} but \"ID\" is {b}; they must be equal"),
            ));
        }
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => {
            return Err(SampleError::invalid(
                path,
                "the item has no integer \"Id\" (or \"ID\")",
            ));
        }
    };
    if id < 1 {
        return Err(SampleError::invalid(
            path,
            format!("the item Id {id} must be 1 or more"),
        ));
    }
    let stem_id = path
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<i64>().ok());
    if let Some(stem_id) = stem_id
        && stem_id != id
    {
        return Err(SampleError::invalid(
            path,
            format!("the file name says item {stem_id} but \"Id\" is {id}; rename the file"),
        ));
    }
    let attachments = match values.remove("_attachments") {
        None | Some(Value::Null) => Vec::new(),
        Some(raw) => {
            let defs: Vec<AttachmentDef> =
                serde_json::from_value(raw).map_err(|source| SampleError::Json {
                    path: path.to_path_buf(),
                    source,
                })?;
            let mut out = Vec::with_capacity(defs.len());
            for def in defs {
                out.push(check_attachment(tree, path, def)?);
                let last = out.len() - 1;
                if out[..last]
                    .iter()
                    .any(|a| a.file_name == out[last].file_name)
                {
                    return Err(SampleError::invalid(
                        path,
                        format!(
                            "two attachments are named '{}'; names must be unique per item",
                            out[last].file_name
                        ),
                    ));
                }
            }
            out
        }
    };
    Ok(Item {
        id,
        values,
        order,
        attachments,
        source: path.to_path_buf(),
    })
}

fn check_attachment(
    tree: &Tree,
    item_path: &Path,
    def: AttachmentDef,
) -> Result<Attachment, SampleError> {
    if def.file_name.is_empty() || def.file_name.contains(['/', '\\']) {
        return Err(SampleError::invalid(
            item_path,
            format!(
                "the attachment FileName '{}' is empty or contains a slash",
                def.file_name
            ),
        ));
    }
    let refused = |why: &str| {
        SampleError::invalid(
            item_path,
            format!(
                "the attachment '{}' has stored = '{}', {why}; it must be a relative path to a \
                 file inside the portal directory, without '..'",
                def.file_name, def.stored
            ),
        )
    };
    if def.stored.trim_matches('/').is_empty() {
        return Err(refused("which is empty"));
    }
    match tree.file("", &def.stored) {
        Ok(_) => Ok(Attachment {
            file_name: def.file_name,
            stored: def.stored,
            synthetic: None,
        }),
        Err(Miss::Unreadable(source)) => Err(SampleError::Read {
            path: tree.name(&def.stored),
            source,
        }),
        Err(miss) => Err(refused(&miss.to_string())),
    }
}

/// A JSON object read with its keys in file order (serde_json's `Map` sorts them).
struct OrderedObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedObject;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedObject, A::Error> {
                let mut pairs: Vec<(String, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if pairs.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!(
                            "the key \"{key}\" appears twice"
                        )));
                    }
                    pairs.push((key, value));
                }
                Ok(OrderedObject(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Whether a URL name is one plain path segment.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_type_names_follow_sharepoint() {
        assert_eq!(
            derive_entity_type_name("TinTucSuKien", 100),
            "TinTucSuKienList"
        );
        assert_eq!(
            derive_entity_type_name("my_list x", 100),
            "My_x005f_list_x0020_xList"
        );
        assert_eq!(
            derive_entity_type_name("Shared Documents", 101),
            "Shared_x0020_Documents"
        );
    }

    #[test]
    fn guids_compare_without_braces_or_case() {
        assert_eq!(normalize_guid("{3DE2E36D-678F}"), "3de2e36d-678f");
    }

    #[test]
    fn a_missing_portal_json_names_the_file() {
        let dir = std::env::temp_dir().join("sharc-sample-no-such-portal");
        let err = Portal::load(&dir).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("portal.json")));
    }
}
