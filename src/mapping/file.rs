//! The mapping file format (TOML) and its validation.

use super::MappingError;
use super::html::Context;
use super::spec::{BagSpec, Conversion, FieldSpec, ListSpec};
use crate::record::NeutralField;
use crate::source::html::Layout;
use crate::text::dates::PortalZone;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A parsed, validated mapping file.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Where it was read from.
    pub path: PathBuf,
    /// The `[list]` section.
    pub list: ListSpec,
    /// The portal's time zone, from `[list] time_zone`.
    pub zone: PortalZone,
    /// The `[bag]` section.
    pub bag: BagSpec,
    /// `[fields]`: neutral field → source field and conversion.
    pub fields: BTreeMap<NeutralField, FieldSpec>,
    /// `[html]`, compiled: how to read the portal from its public pages, when its REST API
    /// is closed.
    pub html: Option<Layout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    list: ListSpec,
    #[serde(default)]
    bag: BagSpec,
    fields: BTreeMap<NeutralField, FieldSpec>,
    html: Option<super::html::RawHtml>,
}

impl Mapping {
    /// The fields marked `volatile`: values that move without the item changing.
    pub fn volatile_fields(&self) -> Vec<NeutralField> {
        self.fields
            .iter()
            .filter(|(_, spec)| spec.volatile)
            .map(|(field, _)| *field)
            .collect()
    }

    /// Reads and validates a mapping file.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        Self::parse(&Self::read(path)?, path)
    }

    /// The text of the mapping file at `path`, not parsed yet.
    pub fn read(path: &Path) -> Result<String, MappingError> {
        std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Parses and validates mapping text; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, MappingError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| MappingError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |message: String| MappingError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let zone = PortalZone::new(&raw.list.time_zone)
            .map_err(|e| invalid(format!("[list] time_zone: {e}")))?;
        if raw.list.title.trim().is_empty() {
            return Err(invalid(
                "[list] title is empty: give the list title as the portal shows it".into(),
            ));
        }
        for (neutral, spec) in &raw.fields {
            if let Some(problem) = field_problem(*neutral, spec) {
                return Err(invalid(problem));
            }
        }
        let cx = Context {
            text,
            list: &raw.list,
            zone: &zone,
            fields: &raw.fields,
        };
        let html = raw
            .html
            .map(|h| super::html::compile(h, &cx))
            .transpose()
            .map_err(|source| MappingError::Html {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            list: raw.list,
            zone,
            bag: raw.bag,
            fields: raw.fields,
            html,
        })
    }
}

impl Mapping {
    /// The same mapping reading the list titled `title` instead of `[list] title`
    /// (`--list`): portals of one content type name their news list differently.
    pub fn with_list_title(mut self, title: &str) -> Self {
        self.list.title = title.to_string();
        if let Some(html) = &mut self.html {
            html.list_title = title.to_string();
        }
        self
    }
}

/// What is wrong with one `[fields]` entry, if anything: it must name its source one way,
/// with a conversion that can fill the field.
fn field_problem(neutral: NeutralField, spec: &FieldSpec) -> Option<String> {
    match (&spec.field, &spec.internal) {
        (Some(_), Some(_)) => {
            return Some(format!(
                "[fields] {neutral}: give either `field` or `internal`, not both"
            ));
        }
        (None, None) => {
            return Some(format!(
                "[fields] {neutral}: name the source with `field = \"<display name>\"` or `internal = \"<InternalName>\"`"
            ));
        }
        _ => {}
    }
    let accepted = Conversion::accepted_by(neutral);
    if !accepted.contains(&spec.conversion) {
        let names: Vec<&str> = accepted.iter().map(|c| c.name()).collect();
        return Some(format!(
            "[fields] {neutral}: conversion `{}` cannot fill this field; use one of: {}",
            spec.conversion,
            names.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Mapping, MappingError> {
        Mapping::parse(text, Path::new("m.toml"))
    }

    #[test]
    fn the_shipped_mapping_parses() {
        let m = Mapping::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mappings/tin-tuc-mo-rong.toml"
        )))
        .unwrap();
        assert_eq!(m.list.title, "Tin tức sự kiện");
        assert_eq!(
            m.fields[&NeutralField::PublishedAt].field.as_deref(),
            Some("Ngày xuất bản")
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_the_line() {
        let err = parse("[list]\ntitle = \"Tin\"\n\n[fields]\ntitle = { field = \"Tiêu đề\", as = \"text\" }\ntitel = { field = \"x\", as = \"text\" }\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 6"), "{msg}");
        assert!(msg.contains("titel"), "{msg}");

        let err = parse("[list]\ntitle = \"Tin\"\ncolour = 1\n[fields]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("colour"), "{err}");
    }

    #[test]
    fn conversions_must_fit_the_field() {
        let err = parse("[list]\ntitle = \"Tin\"\n[fields]\nview_count = { field = \"Số lượt người đọc\", as = \"boolean\" }\n").unwrap_err().to_string();
        assert!(
            err.contains("view_count") && err.contains("integer"),
            "{err}"
        );
        let err = parse("[list]\ntitle = \"Tin\"\n[fields]\ntitle = { as = \"text\" }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("field = "), "{err}");
        let err = parse("[list]\ntitle = \"Tin\"\ntime_zone = \"Mars\"\n[fields]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("time_zone"), "{err}");
    }
}
