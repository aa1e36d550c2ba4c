//! SharePoint's built-in list fields: fixed internal names, display names that vary by
//! language.
//!
//! Every list has `Author`, `Editor`, `Created`, `Modified`, `ID`, `_ModerationStatus`,
//! `Attachments`, `ContentType`: the internal names are the same on every farm, but the names
//! a person sees depend on the site's language — "Created By" on an English site,
//! "Người tạo" on a Vietnamese one. A mapping written against one portal names them as that
//! portal showed them; this table lets the other names find the same field.

/// One built-in field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinField {
    /// The internal name, the same on every farm (`Author`).
    pub internal_name: &'static str,
    /// `TypeAsString` (`User`, `DateTime`, …).
    pub type_as_string: &'static str,
    /// The display name on an English-language site ("Created By").
    pub english: &'static str,
    /// Display names on a Vietnamese-language site ("Người tạo"); the language packs of
    /// different releases word a few of them differently.
    pub vietnamese: &'static [&'static str],
}

impl BuiltinField {
    /// Every display name the field is known by, English first.
    pub fn display_names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.english).chain(self.vietnamese.iter().copied())
    }
}

/// The built-in fields a news list carries, in the order a list's `/fields` shows them.
pub const BUILTIN_FIELDS: &[BuiltinField] = &[
    BuiltinField {
        internal_name: "Title",
        type_as_string: "Text",
        english: "Title",
        vietnamese: &["Tiêu đề"],
    },
    BuiltinField {
        internal_name: "ID",
        type_as_string: "Counter",
        english: "ID",
        vietnamese: &[],
    },
    BuiltinField {
        internal_name: "ContentType",
        type_as_string: "Computed",
        english: "Content Type",
        vietnamese: &["Loại Nội dung"],
    },
    BuiltinField {
        internal_name: "ContentTypeId",
        type_as_string: "ContentTypeId",
        english: "Content Type ID",
        vietnamese: &["ID Loại Nội dung"],
    },
    BuiltinField {
        internal_name: "Created",
        type_as_string: "DateTime",
        english: "Created",
        vietnamese: &["Đã tạo", "Ngày tạo"],
    },
    BuiltinField {
        internal_name: "Modified",
        type_as_string: "DateTime",
        english: "Modified",
        vietnamese: &["Đã sửa đổi", "Ngày sửa đổi"],
    },
    BuiltinField {
        internal_name: "Author",
        type_as_string: "User",
        english: "Created By",
        vietnamese: &["Người tạo"],
    },
    BuiltinField {
        internal_name: "Editor",
        type_as_string: "User",
        english: "Modified By",
        vietnamese: &["Người sửa", "Người sửa đổi"],
    },
    BuiltinField {
        internal_name: "_ModerationStatus",
        type_as_string: "ModStat",
        english: "Approval Status",
        vietnamese: &["Trạng thái Phê duyệt"],
    },
    BuiltinField {
        internal_name: "_ModerationComments",
        type_as_string: "Note",
        english: "Approver Comments",
        vietnamese: &["Chú thích của Người phê duyệt"],
    },
    BuiltinField {
        internal_name: "Attachments",
        type_as_string: "Attachments",
        english: "Attachments",
        vietnamese: &["Tệp đính kèm"],
    },
    BuiltinField {
        internal_name: "_UIVersionString",
        type_as_string: "Text",
        english: "Version",
        vietnamese: &["Phiên bản"],
    },
    BuiltinField {
        internal_name: "GUID",
        type_as_string: "Guid",
        english: "GUID",
        vietnamese: &[],
    },
];

/// The built-in field with this internal name (or its REST form with `OData_`).
pub fn by_internal_name(name: &str) -> Option<&'static BuiltinField> {
    let name = name.strip_prefix("OData_").unwrap_or(name);
    BUILTIN_FIELDS.iter().find(|b| b.internal_name == name)
}

/// The built-in fields known by a display name for which `same(known, name)` holds; the
/// caller says how names compare (case, spacing, Unicode form).
pub fn by_display_name(
    name: &str,
    same: impl Fn(&str, &str) -> bool,
) -> Option<&'static BuiltinField> {
    BUILTIN_FIELDS
        .iter()
        .find(|b| b.display_names().any(|d| same(d, name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_by_is_author_in_english_and_in_vietnamese() {
        let exact = |a: &str, b: &str| a == b;
        assert_eq!(
            by_display_name("Created By", exact).map(|b| b.internal_name),
            Some("Author")
        );
        assert_eq!(
            by_display_name("Người tạo", exact).map(|b| b.internal_name),
            Some("Author")
        );
        assert_eq!(
            by_display_name("Người sửa", exact).map(|b| b.internal_name),
            Some("Editor")
        );
        assert_eq!(
            by_display_name("Đã sửa đổi", exact).map(|b| b.internal_name),
            Some("Modified")
        );
        assert_eq!(by_display_name("Ngày xuất bản", exact), None);
    }

    #[test]
    fn internal_names_are_found_in_their_rest_form_too() {
        assert_eq!(
            by_internal_name("OData__ModerationStatus").map(|b| b.english),
            Some("Approval Status")
        );
        assert_eq!(
            by_internal_name("Editor").map(|b| b.english),
            Some("Modified By")
        );
        assert_eq!(by_internal_name("Ng_x00e0_y_x0020_xu_x1ea5_t_x002"), None);
    }
}
