//! Resolving a mapping against a list's own fields.
//!
//! Display names are matched the way a person reads them (NFC, case and spacing ignored);
//! internal names exactly (or by their REST form with `OData_`). SharePoint's built-in fields
//! (`Author`, `Editor`, `Created`, …) are also found by any of their display names in any
//! language, since a portal in Vietnamese shows "Created By" as "Người tạo" but keeps its
//! internal name. Everything that does not resolve is reported at once, each with the closest
//! names the list does have — close in spelling and of a type the conversion can read —
//! before a single item is read.

use super::file::Mapping;
use super::spec::{Conversion, FieldSpec};
use super::{MappingError, MissingField};
use crate::record::NeutralField;
use crate::sharepoint::{builtins, names};
use crate::source::{FieldDef, ItemQuery, ListSchema};
use crate::text::{fold_key, match_key};
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

/// Why one `[fields]` entry does not bind to the list.
#[derive(Debug, Clone)]
pub enum BindProblem {
    /// The list has no such field.
    Missing(MissingField),
    /// The field exists, but the conversion cannot read its type.
    WrongType {
        /// The neutral field.
        neutral: NeutralField,
        /// The list's field.
        field: FieldDef,
        /// The conversion the mapping gives.
        conversion: Conversion,
        /// The conversions of the neutral field that can read this type.
        fitting: Vec<Conversion>,
    },
}

impl BindProblem {
    /// The neutral field of the entry.
    pub fn neutral(&self) -> NeutralField {
        match self {
            BindProblem::Missing(m) => m.neutral,
            BindProblem::WrongType { neutral, .. } => *neutral,
        }
    }
}

impl std::fmt::Display for BindProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindProblem::Missing(m) => f.write_str(&m.describe()),
            BindProblem::WrongType {
                neutral,
                field,
                conversion,
                fitting,
            } => {
                let t = &field.type_as_string;
                write!(
                    f,
                    "{neutral} = `{}` ({}) is a {t} field; conversion `{conversion}` cannot read it",
                    field.title, field.internal_name,
                )?;
                if fitting.is_empty() {
                    write!(
                        f,
                        " — no conversion of `{neutral}` reads a {t} field: map another field"
                    )
                } else {
                    let names: Vec<&str> = fitting.iter().map(|c| c.name()).collect();
                    write!(f, " — use as = \"{}\"", names.join("\" or \""))
                }
            }
        }
    }
}

/// A mapping held against a list: what binds, and what does not.
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// Neutral field → the list field and conversion, for the entries that bind.
    pub bound: BTreeMap<NeutralField, (FieldDef, Conversion)>,
    /// The entries that do not, in `[fields]` order.
    pub problems: Vec<BindProblem>,
}

/// Holds every `[fields]` entry of `mapping` against the list's fields.
pub fn bind(mapping: &Mapping, schema: &ListSchema) -> Binding {
    let mut binding = Binding::default();
    for (neutral, spec) in &mapping.fields {
        match find(schema, spec.field.as_deref(), spec.internal.as_deref()) {
            Some(f) if fits(spec.conversion, &f.type_as_string) => {
                binding.bound.insert(*neutral, (f.clone(), spec.conversion));
            }
            Some(f) => binding.problems.push(BindProblem::WrongType {
                neutral: *neutral,
                field: f.clone(),
                conversion: spec.conversion,
                fitting: Conversion::accepted_by(*neutral)
                    .iter()
                    .copied()
                    .filter(|c| fits(*c, &f.type_as_string))
                    .collect(),
            }),
            None => binding.problems.push(BindProblem::Missing(MissingField {
                neutral: *neutral,
                wanted: spec.describe(),
                closest: closest(schema, spec),
            })),
        }
    }
    binding
}

impl ResolvedMapping {
    /// Binds `mapping` to `schema`, or explains every field that does not fit.
    pub fn new(mapping: &Mapping, schema: &ListSchema) -> Result<Self, MappingError> {
        let list = schema.list.title.clone();
        let Binding { bound, problems } = bind(mapping, schema);
        let missing: Vec<MissingField> = problems
            .iter()
            .filter_map(|p| match p {
                BindProblem::Missing(m) => Some(m.clone()),
                BindProblem::WrongType { .. } => None,
            })
            .collect();
        if !missing.is_empty() {
            return Err(MappingError::MissingFields { list, missing });
        }
        if let Some(p) = problems.first() {
            return Err(MappingError::TypeMismatch {
                list,
                message: p.to_string(),
            });
        }
        let content_type = content_type(mapping, schema)?;
        Ok(Self {
            mapping: mapping.clone(),
            schema: schema.clone(),
            bound,
            content_type,
        })
    }

    /// What to expand when reading items: every lookup or user field a conversion reads.
    pub fn item_query(&self, page_size: usize) -> ItemQuery {
        expand_query(self.bound.values(), page_size)
    }
}

/// The items query for the fields among `bound`: their internal names, and the lookup and
/// user fields a conversion reads by title to expand.
pub fn expand_query<'a>(
    bound: impl Iterator<Item = &'a (FieldDef, Conversion)>,
    page_size: usize,
) -> ItemQuery {
    let bound: Vec<&(FieldDef, Conversion)> = bound.collect();
    let mut fields: Vec<String> = bound.iter().map(|(f, _)| f.internal_name.clone()).collect();
    fields.sort();
    fields.dedup();
    let mut expand: Vec<String> = bound
        .into_iter()
        .filter(|(f, c)| {
            f.is_lookup_like()
                && matches!(
                    c,
                    Conversion::Lookup | Conversion::User | Conversion::Text | Conversion::Choice
                )
        })
        .map(|(f, _)| f.entity_property_name.clone())
        .collect();
    expand.sort();
    expand.dedup();
    ItemQuery {
        expand,
        fields,
        page_size,
    }
}

/// The content type the mapping names, as the list has it: its id and name.
pub fn content_type(
    mapping: &Mapping,
    schema: &ListSchema,
) -> Result<Option<(String, String)>, MappingError> {
    let Some(wanted) = &mapping.list.content_type else {
        return Ok(None);
    };
    let key = match_key(wanted);
    let ct = schema
        .content_types
        .iter()
        .find(|c| match_key(&c.name) == key)
        .ok_or_else(|| MappingError::MissingContentType {
            list: schema.list.title.clone(),
            wanted: wanted.clone(),
            available: schema
                .content_types
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        })?;
    Ok(Some((ct.id.clone(), ct.name.clone())))
}

fn find<'a>(
    schema: &'a ListSchema,
    display: Option<&str>,
    internal: Option<&str>,
) -> Option<&'a FieldDef> {
    if let Some(internal) = internal {
        return by_internal(schema, internal);
    }
    let display = display?;
    let key = match_key(display);
    // Prefer a visible field when a hidden one shares the display name.
    let mut candidates = schema.fields.iter().filter(|f| match_key(&f.title) == key);
    match candidates.next() {
        Some(first) if first.hidden => candidates.find(|f| !f.hidden).or(Some(first)),
        Some(first) => Some(first),
        // A built-in field shown under another name: its internal name is the same everywhere.
        None => builtins::by_display_name(display, |a, b| match_key(a) == match_key(b))
            .and_then(|b| by_internal(schema, b.internal_name)),
    }
}

fn by_internal<'a>(schema: &'a ListSchema, internal: &str) -> Option<&'a FieldDef> {
    schema
        .fields
        .iter()
        .find(|f| f.internal_name == internal || f.entity_property_name == internal)
}

/// Whether conversion `c` can read a field of SharePoint type `t` (`TypeAsString`).
pub fn fits(c: Conversion, t: &str) -> bool {
    match c {
        Conversion::Lookup => matches!(t, "Lookup" | "LookupMulti"),
        Conversion::User => matches!(t, "User" | "UserMulti"),
        Conversion::Attachments => t == "Attachments",
        Conversion::Datetime => t == "DateTime",
        Conversion::ModerationStatus => matches!(t, "ModStat" | "Choice" | "Integer" | "Number"),
        Conversion::Multichoice => matches!(t, "MultiChoice" | "Choice"),
        _ => true,
    }
}

/// A field the list has that a name that missed may have meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// Its display name.
    pub title: String,
    /// Its internal name.
    pub internal_name: String,
    /// Its type (`TypeAsString`).
    pub type_as_string: String,
    /// Its internal name is what the name asked for would have been given when the column
    /// was created: the column was most likely renamed since.
    pub renamed: bool,
}

impl std::fmt::Display for Suggestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` ({}), {}",
            self.title, self.internal_name, self.type_as_string
        )?;
        if self.renamed {
            f.write_str(", renamed? its internal name is the one the name asked for would get")?;
        }
        Ok(())
    }
}

/// The three fields closest to what `spec` names: renamed columns first, then fields whose
/// type the conversion can read, each group by spelling (accents, case and spacing count
/// for little, internal names and their decoded form count too).
pub fn closest(schema: &ListSchema, spec: &FieldSpec) -> Vec<Suggestion> {
    let wanted = spec.name().unwrap_or("");
    let key = match_key(wanted);
    let folded = fold_key(wanted);
    let as_internal = [
        names::internal_name_for(wanted),
        names::internal_name_without_spaces(wanted),
    ];
    let mut scored: Vec<(bool, bool, usize, Suggestion)> = schema
        .fields
        .iter()
        .map(|f| {
            let title = match_key(&f.title);
            let decoded = match_key(&names::unescape(&f.internal_name));
            let contains = !key.is_empty()
                && !title.is_empty()
                && (title.contains(&key) || key.contains(&title));
            // The internal name the wanted name would get, on a field with another title: a
            // column renamed since (a typo of the title is just a typo, even when the cut at
            // 32 characters gives it the same internal name).
            let renamed = !wanted.is_empty()
                && spec.internal.is_none()
                && as_internal.contains(&f.internal_name)
                && edit_distance(&key, &title) > 2;
            let d = edit_distance(&key, &title)
                .min(edit_distance(&folded, &fold_key(&f.title)))
                .min(edit_distance(&key, &f.internal_name.to_lowercase()))
                .min(edit_distance(&key, decoded.trim_end_matches('…')))
                .min(if contains { 1 } else { usize::MAX })
                .min(if renamed { 0 } else { usize::MAX });
            let suggestion = Suggestion {
                title: f.title.clone(),
                internal_name: f.internal_name.clone(),
                type_as_string: f.type_as_string.clone(),
                renamed,
            };
            (
                !renamed,
                !fits(spec.conversion, &f.type_as_string),
                d,
                suggestion,
            )
        })
        .collect();
    let limit = (key.chars().count() / 2).max(3);
    scored.retain(|(_, _, d, _)| *d <= limit);
    // When some fields fit the conversion, the others are not worth naming.
    if scored.iter().any(|(_, wrong_type, _, _)| !wrong_type) {
        scored.retain(|(_, wrong_type, _, _)| !wrong_type);
    }
    scored.sort_by(|a, b| (a.0, a.1, a.2, &a.3.title).cmp(&(b.0, b.1, b.2, &b.3.title)));
    scored.dedup_by(|a, b| a.3 == b.3);
    scored.into_iter().take(3).map(|(_, _, _, s)| s).collect()
}

/// The Levenshtein distance of two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
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
                ..Default::default()
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

    fn vietnamese_site() -> ListSchema {
        let mut s = schema();
        s.list.title = "Tin tức".into();
        s.fields.extend([
            field("Đã tạo", "Created", "DateTime"),
            field("Đã sửa đổi", "Modified", "DateTime"),
            field("Người tạo", "Author", "User"),
            field("Người sửa", "Editor", "User"),
            field("Tệp đính kèm", "Attachments", "Attachments"),
        ]);
        s
    }

    #[test]
    fn built_in_fields_resolve_by_internal_name_whatever_the_site_language() {
        // A mapping written on an English-language site, read on a Vietnamese one.
        let m = mapping(
            "created_by = { field = \"Created By\", as = \"user\" }\nmodified_by = { field = \"Modified By\", as = \"user\" }\ncreated_at = { field = \"Created\", as = \"datetime\" }\nattachments = { field = \"Attachments\", as = \"attachments\" }\napproval_status = { field = \"Approval Status\", as = \"moderation_status\" }\n",
        );
        let r = ResolvedMapping::new(&m, &vietnamese_site()).unwrap();
        assert_eq!(r.bound[&NeutralField::CreatedBy].0.internal_name, "Author");
        assert_eq!(r.bound[&NeutralField::ModifiedBy].0.internal_name, "Editor");
        assert_eq!(r.bound[&NeutralField::CreatedAt].0.internal_name, "Created");
        // And the other way round, with the Vietnamese names typed in NFD.
        let nfd =
            |s: &str| -> String { unicode_normalization::UnicodeNormalization::nfd(s).collect() };
        let mut english = vietnamese_site();
        for f in &mut english.fields {
            if let Some(b) = crate::sharepoint::builtins::by_internal_name(&f.internal_name) {
                f.title = b.english.to_string();
            }
        }
        let m = mapping(&format!(
            "created_by = {{ field = \"{}\", as = \"user\" }}\nmodified_at = {{ field = \"{}\", as = \"datetime\" }}\n",
            nfd("Người tạo"),
            nfd("Đã sửa đổi")
        ));
        let r = ResolvedMapping::new(&m, &english).unwrap();
        assert_eq!(r.bound[&NeutralField::CreatedBy].0.title, "Created By");
        assert_eq!(r.bound[&NeutralField::ModifiedAt].0.title, "Modified");
    }

    #[test]
    fn a_display_name_of_a_custom_field_still_wins_over_a_built_in_alias() {
        let mut s = vietnamese_site();
        s.fields.push(field("Created", "NgayTaoBai", "DateTime"));
        let m = mapping("created_at = { field = \"Created\", as = \"datetime\" }\n");
        let r = ResolvedMapping::new(&m, &s).unwrap();
        assert_eq!(
            r.bound[&NeutralField::CreatedAt].0.internal_name,
            "NgayTaoBai"
        );
    }

    #[test]
    fn suggestions_weigh_the_type_the_conversion_reads() {
        let s = vietnamese_site();
        // "Người sữa" (a typo) as a user: the user fields, not the dates spelled alike.
        let m = mapping("modified_by = { field = \"Người sữa\", as = \"user\" }\n");
        let Err(MappingError::MissingFields { missing, .. }) = ResolvedMapping::new(&m, &s) else {
            panic!("a typo does not resolve")
        };
        let names: Vec<&str> = missing[0]
            .closest
            .iter()
            .map(|c| c.internal_name.as_str())
            .collect();
        assert_eq!(names.first(), Some(&"Editor"), "{names:?}");
        assert!(
            missing[0]
                .closest
                .iter()
                .all(|c| c.type_as_string == "User"),
            "{names:?}"
        );
        // Without accents, as typed on a keyboard without a Vietnamese layout.
        let m = mapping("published_at = { field = \"Ngay xuat ban\", as = \"datetime\" }\n");
        let Err(MappingError::MissingFields { missing, .. }) = ResolvedMapping::new(&m, &s) else {
            panic!("names are not matched without their accents")
        };
        assert_eq!(missing[0].closest[0].title, "Ngày xuất bản");
    }

    #[test]
    fn a_renamed_column_is_suggested_by_the_internal_name_it_kept() {
        let mut s = schema();
        s.fields[1].title = "Ngày phát hành".into();
        let m = mapping("published_at = { field = \"Ngày xuất bản\", as = \"datetime\" }\n");
        let msg = ResolvedMapping::new(&m, &s).unwrap_err().to_string();
        assert!(
            msg.contains("closest existing: `Ngày phát hành` (Ng_x00e0_y_x0020_xu_x1ea5_t_x002), DateTime, renamed?"),
            "{msg}"
        );
    }

    #[test]
    fn a_wrong_type_names_the_conversions_that_fit() {
        let m = mapping(
            "approval_status = { field = \"Tiêu đề\", as = \"moderation_status\" }\ncategories = { field = \"Tin nổi bật\", as = \"lookup\" }\n",
        );
        let b = bind(&m, &schema());
        assert_eq!(b.problems.len(), 2);
        let text: Vec<String> = b.problems.iter().map(|p| p.to_string()).collect();
        assert!(
            text.iter().any(|t| t.contains("categories = `Tin nổi bật`")
                && t.contains("Boolean field")
                && t.contains("\"text\"")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("approval_status") && t.contains("no conversion")),
            "{text:?}"
        );
    }
}
