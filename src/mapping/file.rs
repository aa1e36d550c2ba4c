//! The mapping file format (TOML) and its validation.

use super::MappingError;
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
    /// The `[bag]` section.
    pub bag: BagSpec,
    /// `[fields]`: neutral field → source field and conversion.
    pub fields: BTreeMap<NeutralField, FieldSpec>,
    /// `[html]`: how to read the portal from its public pages, when its REST API is closed.
    pub html: Option<super::html::HtmlSpec>,
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

/// Which list to read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListSpec {
    /// The list title as the portal shows it.
    pub title: String,
    /// Only items of this content type are archived (by name).
    pub content_type: Option<String>,
    /// The portal's time zone: an IANA name or `+HH:MM`.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
}

fn default_time_zone() -> String {
    "Asia/Ho_Chi_Minh".into()
}

/// Values for `bag-info.txt`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BagSpec {
    /// Source-Organization.
    pub source_organization: Option<String>,
    /// External-Description.
    pub external_description: Option<String>,
    /// Contact-Name.
    pub contact_name: Option<String>,
    /// Contact-Email.
    pub contact_email: Option<String>,
}

/// A neutral record field a mapping can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum NeutralField {
    Title,
    Summary,
    Body,
    PublishedAt,
    Featured,
    Author,
    Categories,
    ArticleType,
    Status,
    ApprovalStatus,
    ViewCount,
    PageCount,
    ImageCount,
    History,
    AlternateUrl,
    Image,
    ImageCaption,
    Attachments,
    CreatedAt,
    CreatedBy,
    ModifiedAt,
    ModifiedBy,
}

impl NeutralField {
    /// The name used in mapping files.
    pub fn name(self) -> &'static str {
        use NeutralField::*;
        match self {
            Title => "title",
            Summary => "summary",
            Body => "body",
            PublishedAt => "published_at",
            Featured => "featured",
            Author => "author",
            Categories => "categories",
            ArticleType => "article_type",
            Status => "status",
            ApprovalStatus => "approval_status",
            ViewCount => "view_count",
            PageCount => "page_count",
            ImageCount => "image_count",
            History => "history",
            AlternateUrl => "alternate_url",
            Image => "image",
            ImageCaption => "image_caption",
            Attachments => "attachments",
            CreatedAt => "created_at",
            CreatedBy => "created_by",
            ModifiedAt => "modified_at",
            ModifiedBy => "modified_by",
        }
    }

    /// The conversions that can fill this field.
    pub fn accepts(self) -> &'static [Conversion] {
        use Conversion as C;
        use NeutralField::*;
        match self {
            Title | Summary | Author | History | ImageCaption => {
                &[C::Text, C::Html, C::Choice, C::Lookup, C::User]
            }
            ArticleType | Status => &[C::Choice, C::Text, C::Lookup],
            Body => &[C::Html, C::Text],
            PublishedAt | CreatedAt | ModifiedAt => &[C::Datetime],
            Featured => &[C::Boolean],
            Categories => &[C::Lookup, C::Multichoice, C::Choice, C::Text],
            ApprovalStatus => &[C::ModerationStatus],
            ViewCount | PageCount | ImageCount => &[C::Integer, C::Number],
            AlternateUrl => &[C::Url, C::Text],
            Image => &[C::Image, C::Url],
            Attachments => &[C::Attachments],
            CreatedBy | ModifiedBy => &[C::User, C::Text],
        }
    }
}

/// Where a neutral field's value comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The display name as the portal shows it.
    pub field: Option<String>,
    /// The internal name, when the display name is ambiguous or unknown.
    pub internal: Option<String>,
    /// How to read the value.
    #[serde(rename = "as")]
    pub conversion: Conversion,
}

impl FieldSpec {
    /// How the mapping names the field, for messages.
    pub fn describe(&self) -> String {
        match (&self.field, &self.internal) {
            (Some(f), _) => f.clone(),
            (None, Some(i)) => format!("internal `{i}`"),
            (None, None) => "(nothing)".into(),
        }
    }
}

/// How a raw SharePoint value becomes a neutral value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    /// A string, NFC.
    Text,
    /// HTML kept as served, with NFC text derived from it.
    Html,
    /// An integer; `20.0` is accepted, `20.5` is not.
    Integer,
    /// A number.
    Number,
    /// `true`/`false` (also `1`/`0`, `Yes`/`No`).
    Boolean,
    /// A SharePoint instant, written with the portal's offset.
    Datetime,
    /// Lookup titles (expanded), single or multi.
    Lookup,
    /// A person's display name (expanded).
    User,
    /// A hyperlink field `{Url, Description}` or a plain URL.
    Url,
    /// An image: a picture hyperlink, a publishing `<img>` or a URL; the file is archived.
    Image,
    /// A choice value.
    Choice,
    /// Several choice values.
    Multichoice,
    /// `_ModerationStatus`: approved, rejected, pending, draft, scheduled.
    ModerationStatus,
    /// The item's attachments; the files are archived.
    Attachments,
}

impl Mapping {
    /// Reads and validates a mapping file.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
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
        crate::text::dates::PortalZone::new(&raw.list.time_zone)
            .map_err(|e| invalid(format!("[list] time_zone: {e}")))?;
        if raw.list.title.trim().is_empty() {
            return Err(invalid(
                "[list] title is empty: give the list title as the portal shows it".into(),
            ));
        }
        for (neutral, spec) in &raw.fields {
            match (&spec.field, &spec.internal) {
                (Some(_), Some(_)) => {
                    return Err(invalid(format!(
                        "[fields] {}: give either `field` or `internal`, not both",
                        neutral.name()
                    )));
                }
                (None, None) => {
                    return Err(invalid(format!(
                        "[fields] {}: name the source with `field = \"<display name>\"` or `internal = \"<InternalName>\"`",
                        neutral.name()
                    )));
                }
                _ => {}
            }
            if !neutral.accepts().contains(&spec.conversion) {
                let names: Vec<String> = neutral
                    .accepts()
                    .iter()
                    .map(|c| format!("{c:?}").to_lowercase())
                    .collect();
                return Err(invalid(format!(
                    "[fields] {}: conversion `{}` cannot fill this field; use one of: {}",
                    neutral.name(),
                    conversion_name(spec.conversion),
                    names
                        .iter()
                        .map(|n| conversion_name_from_debug(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let html = raw
            .html
            .map(|h| super::html::compile(h, text, &raw.fields))
            .transpose()
            .map_err(invalid)?;
        Ok(Self {
            path: path.to_path_buf(),
            list: raw.list,
            bag: raw.bag,
            fields: raw.fields,
            html,
        })
    }
}

/// The name of a conversion as written in mapping files.
pub fn conversion_name(c: Conversion) -> String {
    conversion_name_from_debug(&format!("{c:?}").to_lowercase())
}

fn conversion_name_from_debug(lower: &str) -> String {
    if lower == "moderationstatus" {
        "moderation_status".into()
    } else {
        lower.to_string()
    }
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
