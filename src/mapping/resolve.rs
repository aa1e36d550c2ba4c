//! Resolving a mapping against a list's own fields.
//!
//! Display names are matched the way a person reads them (NFC, case and spacing ignored);
//! internal names exactly (or by their REST form with `OData_`). Everything that does not
//! resolve is reported at once, each with the closest names the list does have, before a
//! single item is read.

use super::file::Mapping;
use super::spec::Conversion;
use super::{MappingError, MissingField};
use crate::record::NeutralField;
use crate::source::{FieldDef, ItemQuery, ListSchema};
use crate::text::match_key;
use std::collections::BTreeMap;

/// A mapping bound to one list's fields.
#[derive(Debug, Clone)]
pub struct ResolvedMapping {
    /// The mapping.
    pub mapping: Mapping,
    /// The list's schema.
    pub schema: ListSchema,
    /// Neutral field → the list field and conversion.
    pub bound: BTreeMap<NeutralField, (FieldDef, Conversion)>,
    /// The content type id prefix items must have, when the mapping names a content type.
    pub content_type: Option<(String, String)>,
}

impl ResolvedMapping {
    /// Binds `mapping` to `schema`, or explains every field that does not fit.
    pub fn new(mapping: &Mapping, schema: &ListSchema) -> Result<Self, MappingError> {
        let list = schema.list.title.clone();
        let mut bound = BTreeMap::new();
        let mut missing = Vec::new();
        for (neutral, spec) in &mapping.fields {
            match find(schema, spec.field.as_deref(), spec.internal.as_deref()) {
                Some(f) => {
                    check_type(&list, *neutral, f, spec.conversion)?;
                    bound.insert(*neutral, (f.clone(), spec.conversion));
                }
                None => missing.push(MissingField {
                    neutral: neutral.name().to_string(),
                    wanted: spec.describe(),
                    closest: closest(
                        schema,
                        spec.field
                            .as_deref()
                            .or(spec.internal.as_deref())
                            .unwrap_or(""),
                    ),
                }),
            }
        }
        if !missing.is_empty() {
            return Err(MappingError::MissingFields { list, missing });
        }
        let content_type = match &mapping.list.content_type {
            None => None,
            Some(wanted) => {
                let key = match_key(wanted);
                let ct = schema
                    .content_types
                    .iter()
                    .find(|c| match_key(&c.name) == key)
                    .ok_or_else(|| MappingError::MissingContentType {
                        list: list.clone(),
                        wanted: wanted.clone(),
                        available: schema
                            .content_types
                            .iter()
                            .map(|c| c.name.clone())
                            .collect(),
                    })?;
                Some((ct.id.clone(), ct.name.clone()))
            }
        };
        Ok(Self {
            mapping: mapping.clone(),
            schema: schema.clone(),
            bound,
            content_type,
        })
    }

    /// What to expand when reading items: every lookup or user field a conversion reads.
    pub fn item_query(&self, page_size: usize) -> ItemQuery {
        let mut expand: Vec<String> = self
            .bound
            .values()
            .filter(|(f, c)| {
                f.is_lookup_like()
                    && matches!(
                        c,
                        Conversion::Lookup
                            | Conversion::User
                            | Conversion::Text
                            | Conversion::Choice
                    )
            })
            .map(|(f, _)| f.entity_property_name.clone())
            .collect();
        expand.sort();
        expand.dedup();
        ItemQuery { expand, page_size }
    }
}

fn find<'a>(
    schema: &'a ListSchema,
    display: Option<&str>,
    internal: Option<&str>,
) -> Option<&'a FieldDef> {
    if let Some(internal) = internal {
        return schema
            .fields
            .iter()
            .find(|f| f.internal_name == internal || f.entity_property_name == internal);
    }
    let key = match_key(display?);
    // Prefer a visible field when a hidden one shares the display name.
    let mut candidates = schema.fields.iter().filter(|f| match_key(&f.title) == key);
    let first = candidates.next()?;
    if first.hidden {
        return candidates.find(|f| !f.hidden).or(Some(first));
    }
    Some(first)
}

fn check_type(
    list: &str,
    neutral: NeutralField,
    f: &FieldDef,
    c: Conversion,
) -> Result<(), MappingError> {
    let t = f.type_as_string.as_str();
    let ok = match c {
        Conversion::Lookup => matches!(t, "Lookup" | "LookupMulti"),
        Conversion::User => matches!(t, "User" | "UserMulti"),
        Conversion::Attachments => t == "Attachments",
        Conversion::Datetime => t == "DateTime",
        Conversion::ModerationStatus => matches!(t, "ModStat" | "Choice" | "Integer" | "Number"),
        Conversion::Multichoice => matches!(t, "MultiChoice" | "Choice"),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(MappingError::TypeMismatch {
        list: list.to_string(),
        message: format!(
            "{} = `{}` ({}) is a {t} field; conversion `{}` needs another type — pick a conversion that fits {t}",
            neutral.name(),
            f.title,
            f.internal_name,
            c.name()
        ),
    })
}

/// The three field names closest to `wanted`, as `Display (InternalName)`.
fn closest(schema: &ListSchema, wanted: &str) -> Vec<String> {
    let key = match_key(wanted);
    let mut scored: Vec<(usize, String)> = schema
        .fields
        .iter()
        .map(|f| {
            let title = match_key(&f.title);
            let contains = !key.is_empty()
                && !title.is_empty()
                && (title.contains(&key) || key.contains(&title));
            let d = edit_distance(&key, &title)
                .min(edit_distance(&key, &f.internal_name.to_lowercase()))
                .min(if contains { 1 } else { usize::MAX });
            (d, format!("`{}` ({})", f.title, f.internal_name))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    let limit = (key.chars().count() / 2).max(3);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .take(3)
        .map(|(_, s)| s)
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{ContentTypeInfo, ListInfo};
    use std::path::Path;

    fn field(title: &str, internal: &str, t: &str) -> FieldDef {
        FieldDef {
            title: title.into(),
            internal_name: internal.into(),
            // SharePoint's REST name: `OData_` before a leading underscore.
            entity_property_name: match internal.starts_with('_') {
                true => format!("OData_{internal}"),
                false => internal.to_string(),
            },
            type_as_string: t.into(),
            ..Default::default()
        }
    }

    fn schema() -> ListSchema {
        ListSchema {
            list: ListInfo {
                id: "3de2".into(),
                title: "Tin tức sự kiện".into(),
                ..Default::default()
            },
            fields: vec![
                field("Tiêu đề", "Title", "Text"),
                field(
                    "Ngày xuất bản",
                    "Ng_x00e0_y_x0020_xu_x1ea5_t_x002",
                    "DateTime",
                ),
                field("Tin nổi bật", "Tin_x0020_n_x1ed5_i_x0020_b_x1ea", "Boolean"),
                field("Phân loại", "Ph_x00e2_n_x0020_lo_x1ea1_i", "LookupMulti"),
                field("Approval Status", "_ModerationStatus", "ModStat"),
            ],
            content_types: vec![ContentTypeInfo {
                id: "0x0100AB".into(),
                name: "Tin Tức Mở Rộng".into(),
            }],
        }
    }

    fn mapping(fields: &str) -> Mapping {
        Mapping::parse(&format!("[list]\ntitle = \"Tin tức sự kiện\"\ncontent_type = \"Tin tức mở rộng\"\n[fields]\n{fields}"), Path::new("m.toml")).unwrap()
    }

    #[test]
    fn display_names_resolve_through_escaped_and_cut_internal_names() {
        let nfd_title: String =
            unicode_normalization::UnicodeNormalization::nfd("Ngày xuất bản").collect();
        let m = mapping(&format!(
            "published_at = {{ field = \"{nfd_title}\", as = \"datetime\" }}\nfeatured = {{ field = \"tin nổi  bật\", as = \"boolean\" }}\napproval_status = {{ internal = \"OData__ModerationStatus\", as = \"moderation_status\" }}\ncategories = {{ field = \"Phân loại\", as = \"lookup\" }}\n"
        ));
        let r = ResolvedMapping::new(&m, &schema()).unwrap();
        assert_eq!(
            r.bound[&NeutralField::PublishedAt].0.entity_property_name,
            "Ng_x00e0_y_x0020_xu_x1ea5_t_x002"
        );
        assert_eq!(
            r.bound[&NeutralField::Featured].0.internal_name,
            "Tin_x0020_n_x1ed5_i_x0020_b_x1ea"
        );
        assert_eq!(
            r.bound[&NeutralField::ApprovalStatus]
                .0
                .entity_property_name,
            "OData__ModerationStatus"
        );
        assert_eq!(
            r.content_type.as_ref().map(|c| c.0.as_str()),
            Some("0x0100AB")
        );
        assert_eq!(
            r.item_query(100).expand,
            vec!["Ph_x00e2_n_x0020_lo_x1ea1_i".to_string()]
        );
    }

    #[test]
    fn missing_fields_list_the_closest_existing_names() {
        let m = mapping(
            "published_at = { field = \"Ngày xuất bảng\", as = \"datetime\" }\ntitle = { field = \"Tiêu đề\", as = \"text\" }\nfeatured = { field = \"Tin nổi\", as = \"boolean\" }\n",
        );
        let err = ResolvedMapping::new(&m, &schema()).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, MappingError::MissingFields { missing, .. } if missing.len() == 2),
            "{msg}"
        );
        assert!(
            msg.contains("`Ngày xuất bản` (Ng_x00e0_y_x0020_xu_x1ea5_t_x002)"),
            "{msg}"
        );
        assert!(msg.contains("`Tin nổi bật`"), "{msg}");
    }

    #[test]
    fn a_conversion_that_does_not_fit_the_field_type_is_refused() {
        let m = mapping("categories = { field = \"Tiêu đề\", as = \"lookup\" }\n");
        let msg = ResolvedMapping::new(&m, &schema()).unwrap_err().to_string();
        assert!(
            msg.contains("Text field") && msg.contains("lookup"),
            "{msg}"
        );
    }
}
