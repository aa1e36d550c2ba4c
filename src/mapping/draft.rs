//! Drafting a mapping file from a list's own fields.
//!
//! `sharc inspect --list … --draft-mapping FILE` writes a mapping that works unchanged: each
//! field of the list's content type is mapped to the neutral field it most likely means, by
//! what SharePoint fixes (the built-ins' internal names), by the names Vietnamese news
//! portals give their columns (Tiêu đề, Tóm tắt, Nội dung, Ngày xuất bản, …; with or without
//! accents, spaced or run together as in `NgayXuatBan`) and by the field's type, which must
//! suit a conversion of that neutral field. Every line says in a comment what was guessed and
//! why; the fields nothing was guessed for are listed at the end, kept raw in each record's
//! `extra`.

use super::resolve::fits;
use super::spec::Conversion;
use crate::record::NeutralField;
use crate::sharepoint::{builtins, names};
use crate::source::{ContentTypeInfo, FieldDef, ListSchema};
use crate::text::{fold_key, match_key};

/// What the draft is made from.
#[derive(Debug, Clone)]
pub struct DraftInput<'a> {
    /// The site URL.
    pub site: &'a str,
    /// The site's title, for `[bag] source_organization`.
    pub site_title: Option<&'a str>,
    /// The list, its fields and content types (with each content type's fields when known).
    pub schema: &'a ListSchema,
}

/// Why a field was taken for a neutral field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// A SharePoint built-in with a fixed internal name (`Author` is who created the item).
    BuiltIn,
    /// Its display or internal name is one news portals use for the neutral field.
    KnownName,
    /// The same name without its accents, or with its words run together.
    KnownNameLoosely,
    /// Its display name contains such a name.
    NameContains,
}

/// What a field was taken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    /// The neutral field it fills.
    pub neutral: NeutralField,
    /// The conversion that reads it.
    pub conversion: Conversion,
    /// Why it was taken.
    pub reason: Reason,
    /// The known name it matched (the English name of a built-in).
    pub known: &'static str,
}

/// One field of the list and what the draft makes of it.
#[derive(Debug, Clone)]
pub struct Guess {
    /// The list's field.
    pub field: FieldDef,
    /// What it fills, or `None` when it goes to `extra`.
    pub mapped: Option<Mapped>,
    /// Another field took the neutral field this one also looked like.
    pub outranked_by: Option<String>,
}

/// A drafted mapping: its text and the guesses behind it.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The mapping file, ready to write.
    pub text: String,
    /// The content type the draft reads, when the list has one worth naming.
    pub content_type: Option<String>,
    /// Every field considered, in the list's order.
    pub guesses: Vec<Guess>,
}

impl Draft {
    /// How many fields are mapped to neutral fields.
    pub fn mapped(&self) -> usize {
        self.guesses.iter().filter(|g| g.mapped.is_some()).count()
    }
}

/// Names news portals give each neutral field: display names as typed (matched ignoring
/// case, spacing and accents) and the ASCII internal names of portals provisioned in code.
const KNOWN_NAMES: &[(NeutralField, &[&str])] = &[
    (NeutralField::Title, &["Tiêu đề", "Tên bài viết", "Heading"]),
    (
        NeutralField::Summary,
        &[
            "Tóm tắt",
            "Mô tả ngắn",
            "Mô tả ngắn gọn bài viết",
            "Trích yếu",
            "Sapo",
            "Tóm tắt nội dung",
            "Mô tả",
            "ShortContent",
            "Description",
            "Summary",
        ],
    ),
    (
        NeutralField::Body,
        &[
            "Nội dung",
            "Nội dung bài viết",
            "Nội dung chi tiết",
            "Chi tiết",
            "PublishingPageContent",
            "Content",
            "Body",
        ],
    ),
    (
        NeutralField::PublishedAt,
        &[
            "Ngày xuất bản",
            "Ngày đăng",
            "Ngày đăng tin",
            "Ngày phát hành",
            "Ngày đưa tin",
            "ArticleStartDate",
            "ArticleStartDates",
            "PostedDate",
            "PublishDate",
            "Published",
        ],
    ),
    (
        NeutralField::Featured,
        &[
            "Tin nổi bật",
            "Tin tiêu biểu",
            "Nổi bật",
            "Tin hot",
            "FocusNews",
            "Featured",
        ],
    ),
    (
        NeutralField::Author,
        &[
            "Tác giả",
            "Người viết",
            "Bút danh",
            "Tác giả bài viết",
            "ArticleByLine",
            "Byline",
        ],
    ),
    (
        NeutralField::Categories,
        &[
            "Phân loại",
            "Chuyên mục",
            "Danh mục",
            "Nhóm tin",
            "Lĩnh vực",
            "CategoryName",
            "NewsGroup",
            "Category",
            "Categories",
        ],
    ),
    (
        NeutralField::ArticleType,
        &[
            "Loại bài viết",
            "Loại bài",
            "Loại tin",
            "Thể loại",
            "ArticleType",
        ],
    ),
    (
        NeutralField::Status,
        &["Trạng thái", "Tình trạng", "Trạng thái bài viết", "Status"],
    ),
    (
        NeutralField::ViewCount,
        &[
            "Số lượt người đọc",
            "Số lượt xem",
            "Lượt xem",
            "Số lần đọc",
            "Lượt đọc",
            "Số lượng xem",
            "Lượt người xem",
            "ViewsCount",
            "NewsCount",
            "ViewCount",
            "Views",
        ],
    ),
    (NeutralField::PageCount, &["Số trang", "PageCount"]),
    (NeutralField::ImageCount, &["Số ảnh", "ImageCount"]),
    (
        NeutralField::History,
        &["Lịch sử", "Lịch sử xử lý", "History"],
    ),
    (
        NeutralField::AlternateUrl,
        &[
            "Link thay thế nội dung",
            "Link thay thế",
            "Liên kết ngoài",
            "Đường dẫn ngoài",
            "URL (link ngoài)",
            "NewsUrl",
        ],
    ),
    (
        NeutralField::Image,
        &[
            "Hình ảnh",
            "Ảnh đại diện",
            "Hình đại diện",
            "Ảnh",
            "Ảnh trích dẫn",
            "PublishingPageImage",
            "Thumbnail",
            "ImageThumb",
            "Image",
        ],
    ),
    (
        NeutralField::ImageCaption,
        &[
            "Hình ảnh mô tả",
            "Mô tả ảnh",
            "Mô tả hình ảnh",
            "Chú thích ảnh",
            "Chú thích hình ảnh",
            "CommentForImage",
            "ImageCaption",
        ],
    ),
];

/// The neutral field each built-in fills.
const BUILT_IN: &[(&str, NeutralField)] = &[
    ("Title", NeutralField::Title),
    ("Created", NeutralField::CreatedAt),
    ("Modified", NeutralField::ModifiedAt),
    ("Author", NeutralField::CreatedBy),
    ("Editor", NeutralField::ModifiedBy),
    ("_ModerationStatus", NeutralField::ApprovalStatus),
    ("Attachments", NeutralField::Attachments),
];

/// Built-ins a record keeps in `source` or that say nothing about an item.
const SKIPPED_BUILT_INS: &[&str] = &[
    "ID",
    "ContentType",
    "ContentTypeId",
    "GUID",
    "_UIVersionString",
];

/// Drafts a mapping for the list in `input`.
pub fn draft(input: &DraftInput<'_>) -> Draft {
    let schema = input.schema;
    let content_type = main_content_type(&schema.content_types);
    let mut guesses: Vec<Guess> = considered(schema, content_type)
        .into_iter()
        .map(|f| Guess {
            mapped: guess(f),
            field: f.clone(),
            outranked_by: None,
        })
        .collect();
    settle_conflicts(&mut guesses);
    let text = write(input, content_type.map(|c| c.name.as_str()), &guesses);
    Draft {
        text,
        content_type: content_type.map(|c| c.name.clone()),
        guesses,
    }
}

/// The content type a news list's items are of: the one with the most fields, when there is
/// more than the generic "Item"/"Folder" kind.
fn main_content_type(cts: &[ContentTypeInfo]) -> Option<&ContentTypeInfo> {
    const GENERIC: &[&str] = &["item", "folder", "mục", "thư mục", "document", "tài liệu"];
    let specific: Vec<&ContentTypeInfo> = cts
        .iter()
        .filter(|c| !GENERIC.contains(&match_key(&c.name).as_str()))
        .collect();
    let pool = if specific.is_empty() {
        cts.iter().collect()
    } else {
        specific
    };
    // The first of those with the most fields (all have none when the source did not say).
    pool.into_iter().rev().max_by_key(|c| c.fields.len())
}

/// The fields worth a line: the content type's own (all of the list's when its fields are
/// not known) and the built-ins every item has, in the list's order; never hidden ones.
fn considered<'a>(schema: &'a ListSchema, ct: Option<&ContentTypeInfo>) -> Vec<&'a FieldDef> {
    let in_ct = |f: &FieldDef| {
        ct.is_none_or(|c| c.fields.is_empty() || c.fields.contains(&f.internal_name))
    };
    schema
        .fields
        .iter()
        .filter(|f| !f.hidden && !SKIPPED_BUILT_INS.contains(&f.internal_name.as_str()))
        .filter(|f| {
            BUILT_IN.iter().any(|(n, _)| *n == f.internal_name)
                || (in_ct(f) && !matches!(f.type_as_string.as_str(), "Computed" | "Counter"))
        })
        .collect()
}

/// Runs a name's words together and drops accents: "Ngày xuất bản" and `NgayXuatBan` meet.
fn loose(s: &str) -> String {
    fold_key(s)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Whether a known name matches a field, one way.
type NameTest<'a> = &'a dyn Fn(&str) -> bool;

/// What `f` most likely means, with a conversion of that neutral field that reads its type.
fn guess(f: &FieldDef) -> Option<Mapped> {
    let mapped = |neutral: NeutralField, reason, known| {
        conversion_for(neutral, f).map(|conversion| Mapped {
            neutral,
            conversion,
            reason,
            known,
        })
    };
    if let Some((_, neutral)) = BUILT_IN.iter().find(|(n, _)| *n == f.internal_name) {
        let known = builtins::by_internal_name(&f.internal_name).map_or("", |b| b.english);
        return mapped(*neutral, Reason::BuiltIn, known);
    }
    let title = match_key(&f.title);
    let decoded = names::unescape(&f.internal_name);
    let tries: [(Reason, NameTest<'_>); 3] = [
        (Reason::KnownName, &|k: &str| {
            match_key(k) == title || k == f.internal_name
        }),
        (Reason::KnownNameLoosely, &|k: &str| {
            let k = loose(k);
            k == loose(&f.title) || k == loose(&decoded)
        }),
        (Reason::NameContains, &|k: &str| {
            let k = match_key(k);
            k.chars().count() >= 4 && title.contains(&k)
        }),
    ];
    for (reason, matches) in tries {
        for (neutral, known) in KNOWN_NAMES {
            for k in *known {
                if matches(k)
                    && let Some(m) = mapped(*neutral, reason, k)
                {
                    return Some(m);
                }
            }
        }
    }
    None
}

/// The conversion of `neutral` that best reads a field of `f`'s type.
pub fn conversion_for(neutral: NeutralField, f: &FieldDef) -> Option<Conversion> {
    use Conversion as C;
    let preferred: &[Conversion] = match f.type_as_string.as_str() {
        "Note" if f.rich_text => &[C::Html, C::Text],
        "Note" | "Text" => &[C::Text, C::Html],
        "Choice" => &[C::Choice, C::Multichoice, C::Text],
        "MultiChoice" => &[C::Multichoice],
        "Lookup" | "LookupMulti" => &[C::Lookup, C::Text],
        "User" | "UserMulti" => &[C::User, C::Text],
        "DateTime" => &[C::Datetime],
        "Boolean" => &[C::Boolean],
        "Number" | "Integer" | "Currency" | "Counter" => &[C::Integer, C::Number],
        "URL" => &[C::Image, C::Url, C::Text],
        "ModStat" => &[C::ModerationStatus],
        "Attachments" => &[C::Attachments],
        "Image" => &[C::Image],
        "HTML" => &[C::Html],
        _ => &[],
    };
    let accepted = Conversion::accepted_by(neutral);
    preferred
        .iter()
        .copied()
        .find(|c| accepted.contains(c) && fits(*c, &f.type_as_string))
}

/// Each neutral field filled once: the strongest reason wins, the first field on a tie.
fn settle_conflicts(guesses: &mut [Guess]) {
    let winners: Vec<Option<usize>> = guesses
        .iter()
        .map(|g| {
            let neutral = g.mapped?.neutral;
            guesses
                .iter()
                .enumerate()
                .filter(|(_, o)| o.mapped.is_some_and(|m| m.neutral == neutral))
                .min_by_key(|(j, o)| (o.mapped.map(|m| m.reason), *j))
                .map(|(j, _)| j)
        })
        .collect();
    for (i, winner) in winners.into_iter().enumerate() {
        if let (Some(j), Some(m)) = (winner, guesses[i].mapped)
            && j != i
        {
            guesses[i].outranked_by =
                Some(format!("{} ({})", guesses[j].field.title, m.neutral.name()));
            guesses[i].mapped = None;
        }
    }
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn write(input: &DraftInput<'_>, content_type: Option<&str>, guesses: &[Guess]) -> String {
    let schema = input.schema;
    let mut out = String::new();
    out.push_str(&format!(
        "# Mapping drafted by `sharc inspect` from the list {} at {}.\n",
        quoted(&schema.list.title),
        input.site
    ));
    out.push_str(
        "# Each line says what was guessed and why: check them, then try it with\n\
         # `sharc mapping check FILE --site URL` and a crawl into a scratch directory.\n\
         # Built-in fields are named by their internal names, the same on every farm; the\n\
         # others by their display names, as the portal shows them.\n\n",
    );
    out.push_str("[list]\n");
    out.push_str(&format!("title = {}\n", quoted(&schema.list.title)));
    if let Some(ct) = content_type {
        out.push_str(&format!(
            "content_type = {}   # only items of this content type\n",
            quoted(ct)
        ));
    }
    out.push_str(
        "time_zone = \"Asia/Ho_Chi_Minh\"   # the portal's zone (not read from the site): change it if it is elsewhere\n",
    );
    if let Some(title) = input.site_title.filter(|t| !t.trim().is_empty()) {
        out.push_str("\n[bag]\n");
        out.push_str(&format!(
            "source_organization = {}   # the site's title\n",
            quoted(title)
        ));
    }
    out.push_str("\n[fields]\n");
    let mapped: Vec<(&Guess, Mapped)> = guesses
        .iter()
        .filter_map(|g| g.mapped.map(|m| (g, m)))
        .collect();
    let width = mapped
        .iter()
        .map(|(_, m)| m.neutral.name().len())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<(NeutralField, String, String)> = Vec::new();
    for (g, m) in &mapped {
        let Mapped {
            neutral,
            conversion,
            reason,
            known,
        } = *m;
        let f = &g.field;
        let shared_title = schema
            .fields
            .iter()
            .filter(|o| match_key(&o.title) == match_key(&f.title))
            .count()
            > 1;
        let source = if reason == Reason::BuiltIn || shared_title {
            format!("internal = {}", quoted(&f.internal_name))
        } else {
            format!("field = {}", quoted(&f.title))
        };
        let kind = match (f.type_as_string.as_str(), f.rich_text) {
            ("Note", true) => "Note, rich text".to_string(),
            ("Note", false) => "Note, plain text".to_string(),
            (t, _) => t.to_string(),
        };
        let about = format!("{} ({}, {kind})", quoted(&f.title), f.internal_name);
        let why = match reason {
            Reason::BuiltIn if known.is_empty() || known == f.title => {
                format!("built-in {}", f.internal_name)
            }
            Reason::BuiltIn => format!(
                "built-in {}, {} on an English site, {} here",
                f.internal_name,
                quoted(known),
                quoted(&f.title)
            ),
            Reason::KnownName => format!("{about}: a usual name for {neutral}"),
            Reason::KnownNameLoosely => {
                format!(
                    "{about}: reads as {}, a usual name for {neutral}",
                    quoted(known)
                )
            }
            Reason::NameContains => {
                format!(
                    "{about}: its name has {} in it, a name for {neutral}",
                    quoted(known)
                )
            }
        };
        let entry = format!(
            "{:width$} = {{ {source}, as = \"{conversion}\" }}",
            neutral.name()
        );
        lines.push((neutral, entry, why));
    }
    // In the record's own order, as the shipped mapping lists them; comments in one column.
    lines.sort_by_key(|(n, _, _)| *n);
    let column = lines
        .iter()
        .map(|(_, e, _)| e.chars().count())
        .max()
        .unwrap_or(0);
    for (_, entry, why) in lines {
        let pad = column - entry.chars().count();
        out.push_str(&format!("{entry}{}   # {why}\n", " ".repeat(pad)));
    }
    let rest: Vec<&Guess> = guesses.iter().filter(|g| g.mapped.is_none()).collect();
    if !rest.is_empty() {
        out.push_str(
            "\n# Not mapped: kept raw in each record's `extra` (under the REST name). Map one by\n\
             # adding a line above, e.g. `history = { field = \"…\", as = \"text\" }`.\n",
        );
        for g in rest {
            let f = &g.field;
            let note = match &g.outranked_by {
                Some(by) => format!(" — also looked like the field {by} took"),
                None => String::new(),
            };
            out.push_str(&format!(
                "#   {} ({}, {}){note}\n",
                quoted(&f.title),
                f.entity_property_name,
                f.type_as_string
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Mapping;
    use crate::source::ListInfo;
    use std::path::Path;

    fn field(title: &str, internal: &str, t: &str) -> FieldDef {
        FieldDef {
            title: title.into(),
            internal_name: internal.into(),
            entity_property_name: names::entity_property_name(internal),
            type_as_string: t.into(),
            ..Default::default()
        }
    }

    fn schema(fields: Vec<FieldDef>) -> ListSchema {
        let ct_fields = fields
            .iter()
            .filter(|f| {
                !BUILT_IN.iter().any(|(n, _)| *n == f.internal_name) || f.internal_name == "Title"
            })
            .map(|f| f.internal_name.clone())
            .collect();
        ListSchema {
            list: ListInfo {
                id: "3de2".into(),
                title: "Tin tức".into(),
                ..Default::default()
            },
            fields,
            content_types: vec![
                ContentTypeInfo {
                    id: "0x0100AB".into(),
                    name: "Tin Tức Mở Rộng".into(),
                    fields: ct_fields,
                },
                ContentTypeInfo {
                    id: "0x01".into(),
                    name: "Item".into(),
                    fields: vec!["Title".into()],
                },
            ],
        }
    }

    fn mapped(d: &Draft) -> Vec<(String, NeutralField, Conversion)> {
        d.guesses
            .iter()
            .filter_map(|g| {
                g.mapped
                    .map(|m| (g.field.title.clone(), m.neutral, m.conversion))
            })
            .collect()
    }

    fn draft_of(s: &ListSchema) -> Draft {
        draft(&DraftInput {
            site: "http://127.0.0.1:8765/",
            site_title: Some("Sở Tư pháp \"Long An\""),
            schema: s,
        })
    }

    #[test]
    fn vietnamese_names_built_ins_and_types_give_the_neutral_fields() {
        let mut body = field("Nội dung", "N_x1ed9_i_x0020_dung", "Note");
        body.rich_text = true;
        let s = schema(vec![
            field("Tiêu đề", "Title", "Text"),
            field("Tóm tắt", "T_x00f3_m_x0020_t_x1eaf_t", "Note"),
            body,
            field("Ngày đăng", "NgayDang", "DateTime"),
            field("Tin tieu bieu", "TinTieuBieu", "Boolean"),
            field("Chuyên mục", "ChuyenMuc", "LookupMulti"),
            field("Số lượt xem", "S_x1ed1_l_x01b0__x1ee3_txem", "Number"),
            field("Ghi chú", "GhiChu", "Note"),
            field("Người tạo", "Author", "User"),
            field("Đã sửa đổi", "Modified", "DateTime"),
            field("Trạng thái Phê duyệt", "_ModerationStatus", "ModStat"),
            field("ID", "ID", "Counter"),
        ]);
        let d = draft_of(&s);
        let m = mapped(&d);
        let has =
            |title: &str, n: NeutralField, c: Conversion| m.contains(&(title.to_string(), n, c));
        assert!(
            has("Tiêu đề", NeutralField::Title, Conversion::Text),
            "{m:?}"
        );
        assert!(
            has("Tóm tắt", NeutralField::Summary, Conversion::Text),
            "{m:?}"
        );
        assert!(
            has("Nội dung", NeutralField::Body, Conversion::Html),
            "{m:?}"
        );
        assert!(
            has("Ngày đăng", NeutralField::PublishedAt, Conversion::Datetime),
            "{m:?}"
        );
        assert!(
            has("Tin tieu bieu", NeutralField::Featured, Conversion::Boolean),
            "{m:?}"
        );
        assert!(
            has("Chuyên mục", NeutralField::Categories, Conversion::Lookup),
            "{m:?}"
        );
        assert!(
            has("Số lượt xem", NeutralField::ViewCount, Conversion::Integer),
            "{m:?}"
        );
        assert!(
            has("Người tạo", NeutralField::CreatedBy, Conversion::User),
            "{m:?}"
        );
        assert!(
            has("Đã sửa đổi", NeutralField::ModifiedAt, Conversion::Datetime),
            "{m:?}"
        );
        assert!(
            has(
                "Trạng thái Phê duyệt",
                NeutralField::ApprovalStatus,
                Conversion::ModerationStatus
            ),
            "{m:?}"
        );
        assert_eq!(m.len(), 10, "{m:?}");
        assert_eq!(d.content_type.as_deref(), Some("Tin Tức Mở Rộng"));
        // The draft parses as it is, names built-ins by internal name and says why.
        let parsed = Mapping::parse(&d.text, Path::new("draft.toml")).unwrap();
        assert_eq!(parsed.fields.len(), 10);
        assert_eq!(
            parsed.fields[&NeutralField::CreatedBy].internal.as_deref(),
            Some("Author")
        );
        assert_eq!(
            parsed.fields[&NeutralField::PublishedAt].field.as_deref(),
            Some("Ngày đăng")
        );
        assert_eq!(
            parsed.bag.source_organization.as_deref(),
            Some("Sở Tư pháp \"Long An\"")
        );
        assert!(d.text.contains("# Not mapped"), "{}", d.text);
        assert!(d.text.contains("\"Ghi chú\" (GhiChu, Note)"), "{}", d.text);
        assert!(
            d.text
                .contains("built-in Author, \"Created By\" on an English site, \"Người tạo\" here"),
            "{}",
            d.text
        );
        assert!(!d.text.contains("\"ID\""), "{}", d.text);
    }

    #[test]
    fn a_name_that_does_not_suit_the_type_is_not_taken() {
        // "Ngày xuất bản" as text: published_at needs a date, so it stays in extra.
        let s = schema(vec![field("Ngày xuất bản", "NgayXuatBan", "Text")]);
        let d = draft_of(&s);
        assert!(mapped(&d).is_empty(), "{:?}", mapped(&d));
    }

    #[test]
    fn one_field_per_neutral_field_the_stronger_reason_first() {
        let s = schema(vec![
            field("Ảnh", "Anh", "URL"),
            field("Hình ảnh", "HinhAnh", "URL"),
            field("Nội dung tóm tắt", "NoiDungTomTat", "Note"),
        ]);
        let d = draft_of(&s);
        let m = mapped(&d);
        assert!(
            m.contains(&("Ảnh".to_string(), NeutralField::Image, Conversion::Image)),
            "{m:?}"
        );
        let hinh = d
            .guesses
            .iter()
            .find(|g| g.field.title == "Hình ảnh")
            .unwrap();
        assert!(hinh.mapped.is_none() && hinh.outranked_by.is_some());
        // "Nội dung tóm tắt" contains both "Nội dung" and "Tóm tắt": the first known name wins.
        assert!(m.iter().any(|(t, _, _)| t == "Nội dung tóm tắt"), "{m:?}");
        assert!(
            d.text
                .contains("also looked like the field Ảnh (image) took"),
            "{}",
            d.text
        );
    }

    #[test]
    fn nfd_display_names_are_recognised() {
        let nfd =
            |s: &str| -> String { unicode_normalization::UnicodeNormalization::nfd(s).collect() };
        let s = schema(vec![
            field(&nfd("Ngày xuất bản"), "Ng_x00e0_y", "DateTime"),
            field(&nfd("Phân loại"), "PhanLoai", "Choice"),
        ]);
        let m = mapped(&draft_of(&s));
        assert!(
            m.iter()
                .any(|(_, n, c)| *n == NeutralField::PublishedAt && *c == Conversion::Datetime),
            "{m:?}"
        );
        assert!(
            m.iter()
                .any(|(_, n, c)| *n == NeutralField::Categories && *c == Conversion::Choice),
            "{m:?}"
        );
    }
}
