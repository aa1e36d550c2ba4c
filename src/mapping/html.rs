//! The `[html]` section of a mapping: how to read a portal from its public pages.
//!
//! The section is compiled into the HTML source's own [`Layout`]: where the news list starts,
//! how to find article links and the next list page, how to read an item id from an article
//! URL, and for each neutral field a CSS selector with an optional extraction, tied to the
//! `[fields]` entry that names and converts it. Selectors and regular expressions are
//! compiled when the mapping is loaded, so a typo is reported with its line before anything
//! is fetched.

use super::spec::{Conversion, FieldSpec, ListSpec};
use crate::record::NeutralField;
use crate::source::html::{
    Css, Extract, FieldRule, ItemId, Layout, NextPage, Property, Role, StopRule,
};
use crate::text::dates::PortalZone;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// A mistake in the `[html]` section, with the line it is on.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct HtmlSectionError {
    /// The 1-based line of the mapping file.
    pub line: usize,
    /// What is wrong and how to fix it.
    pub problem: HtmlProblem,
}

/// What is wrong with an `[html]` key.
#[derive(Debug, thiserror::Error)]
pub enum HtmlProblem {
    /// `start` is empty or has an empty entry.
    #[error(
        "[html] start: give the news list's first page, e.g. start = [\"Lists/TinTucSuKien/TongQuat.aspx\"]"
    )]
    NoStartPage,
    /// A selector that does not parse.
    #[error("{key}: `{text}` is not a CSS selector: {reason}")]
    BadSelector {
        /// The key, e.g. `[html] links`.
        key: String,
        /// The selector as written.
        text: String,
        /// The parser's reason.
        reason: String,
    },
    /// A regular expression that does not compile.
    #[error("{key}: `{text}` is not a regular expression: {reason}")]
    BadRegex {
        /// The key, e.g. `[html] link_pattern`.
        key: String,
        /// The expression as written.
        text: String,
        /// The compiler's reason.
        reason: String,
    },
    /// Both `next` and `next_template`.
    #[error(
        "[html] give either `next` (a selector for the next-page link) or `next_template`, not both"
    )]
    NextTwice,
    /// A template without `{n}`.
    #[error("[html] next_template `{0}` has no `{{n}}` for the page number")]
    TemplateWithoutNumber(String),
    /// A template with other than one start page.
    #[error("[html] next_template needs exactly one start page (the list's first page)")]
    TemplateNeedsOneStart,
    /// `stop = "no-next"` without a next link.
    #[error(
        "[html] stop = \"no-next\" needs `next` (a next-page link); a template has no last page of its own"
    )]
    NoNextWithoutLink,
    /// Both `item_id` and `item_id_pattern`.
    #[error("[html] give either `item_id` (a query parameter) or `item_id_pattern`, not both")]
    ItemIdTwice,
    /// An empty `item_id`.
    #[error(
        "[html] item_id is empty: name the query parameter that holds the item id (ID, ItemID, nid, …)"
    )]
    EmptyItemId,
    /// An `item_id_pattern` without a group.
    #[error("[html] item_id_pattern needs a group around the id, e.g. \"/tin-(\\\\d+)\\\\.html\"")]
    ItemIdWithoutGroup,
    /// A `list_id` that is not a GUID.
    #[error("[html] list_id `{0}` is not a list GUID (hex digits and dashes)")]
    BadListId(String),
    /// A charset label nobody knows.
    #[error("[html] charset `{0}` is not a known encoding label (e.g. utf-8, windows-1258)")]
    UnknownCharset(String),
    /// An `[html.fields]` rule for a field `[fields]` does not name.
    #[error(
        "[html.fields] {field} has no entry in [fields]: add one there too (the HTML source fills the same fields as REST), e.g. {field} = {{ field = \"…\", as = \"…\" }}"
    )]
    RuleWithoutField {
        /// The field.
        field: NeutralField,
    },
    /// A rule that says nowhere to look.
    #[error(
        "[html.fields] {field}: say where the value is with `select = \"<css>\"`, `form = \"<field name>\"` or both"
    )]
    RuleWithoutPlace {
        /// The field.
        field: NeutralField,
    },
    /// An attachments rule with an extraction.
    #[error(
        "[html.fields] {field}: attachments are read from the links `select` matches; drop `attr`, `regex` and `extract`"
    )]
    AttachmentsExtracted {
        /// The field.
        field: NeutralField,
    },
    /// An extraction the field's conversion cannot read.
    #[error(
        "[html.fields] {field}: extract = \"{}\" does not fit `as = \"{conversion}\"` in [fields]",
        extract.name()
    )]
    ExtractDoesNotFit {
        /// The field.
        field: NeutralField,
        /// The extraction asked for.
        extract: Extract,
        /// The conversion `[fields]` gives the field.
        conversion: Conversion,
    },
    /// `extract = "html"` with `attr` or `regex`.
    #[error(
        "[html.fields] {field}: extract = \"html\" keeps the markup exactly as served; drop `attr` and `regex`"
    )]
    HtmlReshaped {
        /// The field.
        field: NeutralField,
    },
}

/// The `[html]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHtml {
    start: Spanned<StartPages>,
    links: Spanned<String>,
    link_pattern: Option<Spanned<String>>,
    next: Option<Spanned<String>>,
    next_template: Option<Spanned<String>>,
    next_first: Option<u32>,
    stop: Option<Spanned<RawStop>>,
    item_id: Option<Spanned<String>>,
    item_id_pattern: Option<Spanned<String>>,
    list_id: Option<Spanned<String>>,
    #[serde(default)]
    allow_hosts: Vec<String>,
    charset: Option<Spanned<String>>,
    #[serde(default)]
    fields: BTreeMap<Spanned<NeutralField>, Spanned<RawFieldRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StartPages {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldRule {
    select: Option<Spanned<String>>,
    form: Option<String>,
    attr: Option<String>,
    regex: Option<Spanned<String>>,
    extract: Option<RawExtract>,
}

/// `stop` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawStop {
    NoNewLinks,
    NoNext,
}

/// `extract` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawExtract {
    Text,
    Html,
    Date,
    Count,
    List,
}

impl From<RawExtract> for Extract {
    fn from(e: RawExtract) -> Self {
        match e {
            RawExtract::Text => Extract::Text,
            RawExtract::Html => Extract::Html,
            RawExtract::Date => Extract::Date,
            RawExtract::Count => Extract::Count,
            RawExtract::List => Extract::List,
        }
    }
}

/// What the `[html]` section is compiled against: the rest of the mapping.
pub(super) struct Context<'a> {
    /// The mapping file's text, for line numbers.
    pub text: &'a str,
    /// `[list]`.
    pub list: &'a ListSpec,
    /// The `[list]` time zone.
    pub zone: &'a PortalZone,
    /// `[fields]`.
    pub fields: &'a BTreeMap<NeutralField, FieldSpec>,
}

impl Context<'_> {
    fn error(&self, span: Range<usize>, problem: HtmlProblem) -> HtmlSectionError {
        HtmlSectionError {
            line: line_of(self.text, span.start),
            problem,
        }
    }

    fn css(&self, s: &Spanned<String>, key: &str) -> Result<Css, HtmlSectionError> {
        Css::parse(s.get_ref()).map_err(|reason| {
            let text = s.get_ref().trim().to_string();
            let key = key.to_string();
            self.error(s.span(), HtmlProblem::BadSelector { key, text, reason })
        })
    }

    fn regex(&self, s: &Spanned<String>, key: &str) -> Result<Regex, HtmlSectionError> {
        Regex::new(s.get_ref()).map_err(|e| {
            let reason = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            let problem = HtmlProblem::BadRegex {
                key: key.to_string(),
                text: s.get_ref().clone(),
                reason,
            };
            self.error(s.span(), problem)
        })
    }
}

/// Validates and compiles the section into the HTML source's layout.
pub(super) fn compile(raw: RawHtml, cx: &Context<'_>) -> Result<Layout, HtmlSectionError> {
    let start_span = raw.start.span();
    let start = start_pages(raw.start.get_ref())
        .ok_or_else(|| cx.error(start_span.clone(), HtmlProblem::NoStartPage))?;
    let links = cx.css(&raw.links, "[html] links")?;
    let link_pattern = raw
        .link_pattern
        .as_ref()
        .map(|p| cx.regex(p, "[html] link_pattern"))
        .transpose()?;
    let next = next_page(&raw, start.len(), start_span, cx)?;
    let stop = stop_rule(raw.stop.as_ref(), &next, cx)?;
    let item_id = item_id(&raw, cx)?;
    let list_id = raw.list_id.as_ref().map(|id| list_id(id, cx)).transpose()?;
    let charset = raw.charset.as_ref().map(|c| charset(c, cx)).transpose()?;
    Ok(Layout {
        list_title: cx.list.title.clone(),
        content_type: cx.list.content_type.clone(),
        zone: cx.zone.clone(),
        allow_hosts: raw
            .allow_hosts
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        properties: properties(raw.fields, cx)?,
        start,
        links,
        link_pattern,
        next,
        stop,
        item_id,
        list_id,
        charset,
    })
}

fn start_pages(start: &StartPages) -> Option<Vec<String>> {
    let start = match start {
        StartPages::One(s) => std::slice::from_ref(s),
        StartPages::Many(v) => v.as_slice(),
    };
    if start.is_empty() || start.iter().any(|s| s.trim().is_empty()) {
        return None;
    }
    Some(start.iter().map(|s| s.trim().to_string()).collect())
}

fn next_page(
    raw: &RawHtml,
    starts: usize,
    start_span: Range<usize>,
    cx: &Context<'_>,
) -> Result<NextPage, HtmlSectionError> {
    match (&raw.next, &raw.next_template) {
        (Some(a), Some(_)) => Err(cx.error(a.span(), HtmlProblem::NextTwice)),
        (Some(sel), None) => Ok(NextPage::Link(cx.css(sel, "[html] next")?)),
        (None, Some(t)) if !t.get_ref().contains("{n}") => Err(cx.error(
            t.span(),
            HtmlProblem::TemplateWithoutNumber(t.get_ref().clone()),
        )),
        (None, Some(_)) if starts != 1 => {
            Err(cx.error(start_span, HtmlProblem::TemplateNeedsOneStart))
        }
        (None, Some(t)) => Ok(NextPage::Template {
            template: t.get_ref().trim().to_string(),
            first: raw.next_first.unwrap_or(2),
        }),
        (None, None) => Ok(NextPage::None),
    }
}

fn stop_rule(
    stop: Option<&Spanned<RawStop>>,
    next: &NextPage,
    cx: &Context<'_>,
) -> Result<StopRule, HtmlSectionError> {
    match stop.map(|s| (*s.get_ref(), s.span())) {
        None | Some((RawStop::NoNewLinks, _)) => Ok(StopRule::NoNewLinks),
        Some((RawStop::NoNext, _)) if matches!(next, NextPage::Link(_)) => Ok(StopRule::NoNext),
        Some((RawStop::NoNext, span)) => Err(cx.error(span, HtmlProblem::NoNextWithoutLink)),
    }
}

fn item_id(raw: &RawHtml, cx: &Context<'_>) -> Result<ItemId, HtmlSectionError> {
    match (&raw.item_id, &raw.item_id_pattern) {
        (Some(p), Some(_)) => Err(cx.error(p.span(), HtmlProblem::ItemIdTwice)),
        (Some(p), None) if p.get_ref().trim().is_empty() => {
            Err(cx.error(p.span(), HtmlProblem::EmptyItemId))
        }
        (Some(p), None) => Ok(ItemId::Param(p.get_ref().trim().to_string())),
        (None, Some(p)) => {
            let re = cx.regex(p, "[html] item_id_pattern")?;
            if re.captures_len() < 2 {
                return Err(cx.error(p.span(), HtmlProblem::ItemIdWithoutGroup));
            }
            Ok(ItemId::Pattern(re))
        }
        (None, None) => Ok(ItemId::Param("ID".into())),
    }
}

fn list_id(id: &Spanned<String>, cx: &Context<'_>) -> Result<String, HtmlSectionError> {
    let clean = id
        .get_ref()
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_ascii_lowercase();
    if clean.is_empty() || !clean.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(cx.error(id.span(), HtmlProblem::BadListId(id.get_ref().clone())));
    }
    Ok(clean)
}

fn charset(
    label: &Spanned<String>,
    cx: &Context<'_>,
) -> Result<&'static encoding_rs::Encoding, HtmlSectionError> {
    crate::text::charset::encoding_for_label(label.get_ref()).ok_or_else(|| {
        cx.error(
            label.span(),
            HtmlProblem::UnknownCharset(label.get_ref().clone()),
        )
    })
}

/// Every `[fields]` entry as a property of the layout, with its `[html.fields]` rule.
fn properties(
    raw: BTreeMap<Spanned<NeutralField>, Spanned<RawFieldRule>>,
    cx: &Context<'_>,
) -> Result<Vec<Property>, HtmlSectionError> {
    let mut rules = BTreeMap::new();
    for (field, rule) in raw {
        let span = field.span();
        let field = field.into_inner();
        let Some(spec) = cx.fields.get(&field) else {
            return Err(cx.error(span, HtmlProblem::RuleWithoutField { field }));
        };
        rules.insert(field, field_rule(field, spec.conversion, rule, cx)?);
    }
    let mut properties = Vec::new();
    for (field, spec) in cx.fields {
        let Some(key) = spec.name() else { continue };
        let (field_type, allow_multiple) = spec.conversion.field_type();
        properties.push(Property {
            key: key.to_string(),
            label: field.name().to_string(),
            field_type: field_type.to_string(),
            allow_multiple,
            role: match field {
                NeutralField::Attachments => Role::Attachments,
                NeutralField::ViewCount => Role::Volatile,
                _ => Role::Value,
            },
            rule: rules.remove(field),
        });
    }
    Ok(properties)
}

fn field_rule(
    field: NeutralField,
    conversion: Conversion,
    rule: Spanned<RawFieldRule>,
    cx: &Context<'_>,
) -> Result<FieldRule, HtmlSectionError> {
    let span = rule.span();
    let rule = rule.into_inner();
    let fail = |problem| Err(cx.error(span.clone(), problem));
    if rule.select.is_none() && rule.form.is_none() {
        return fail(HtmlProblem::RuleWithoutPlace { field });
    }
    let extract = rule.extract.map(Extract::from).unwrap_or_default();
    let reshaped = rule.attr.is_some() || rule.regex.is_some();
    if field == NeutralField::Attachments {
        if reshaped || rule.extract.is_some() {
            return fail(HtmlProblem::AttachmentsExtracted { field });
        }
    } else if !fits(extract, conversion) {
        return fail(HtmlProblem::ExtractDoesNotFit {
            field,
            extract,
            conversion,
        });
    }
    if extract == Extract::Html && reshaped {
        return fail(HtmlProblem::HtmlReshaped { field });
    }
    let key = format!("[html.fields] {}", field.name());
    Ok(FieldRule {
        select: rule.select.as_ref().map(|s| cx.css(s, &key)).transpose()?,
        form: rule
            .form
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty()),
        attr: rule
            .attr
            .map(|a| a.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty()),
        regex: rule.regex.as_ref().map(|r| cx.regex(r, &key)).transpose()?,
        extract,
    })
}

/// Whether a value extracted as `e` can be converted by `c`.
fn fits(e: Extract, c: Conversion) -> bool {
    use Conversion as C;
    match e {
        Extract::Text => c != C::Attachments,
        Extract::Html => matches!(c, C::Html | C::Image),
        Extract::Date => c == C::Datetime,
        Extract::Count => matches!(c, C::Integer | C::Number),
        Extract::List => matches!(
            c,
            C::Lookup | C::Multichoice | C::Choice | C::Text | C::User
        ),
    }
}

/// The 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |t| t.bytes().filter(|b| *b == b'\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use crate::mapping::{Mapping, MappingError};
    use std::path::Path;

    const HEAD: &str = "[list]\ntitle = \"Tin tức sự kiện\"\n[fields]\ntitle = { field = \"Tiêu đề\", as = \"text\" }\npublished_at = { field = \"Ngày xuất bản\", as = \"datetime\" }\nbody = { field = \"Nội dung\", as = \"html\" }\ncategories = { field = \"Phân loại\", as = \"lookup\" }\n";

    fn parse(html: &str) -> Result<Mapping, MappingError> {
        Mapping::parse(&format!("{HEAD}{html}"), Path::new("m.toml"))
    }

    fn err(html: &str) -> String {
        parse(html).unwrap_err().to_string()
    }

    #[test]
    fn a_complete_section_compiles() {
        let m = parse(
            "[html]\nstart = \"Lists/TinTucSuKien/TongQuat.aspx\"\nlinks = \".news-list a.news-link\"\nlink_pattern = 'DispForm\\.aspx\\?ID=\\d+'\nnext = \".paging a.next\"\nitem_id = \"ID\"\nlist_id = \"{3DE2E36D-678F-459C-837A-2DB7C83AFD8B}\"\ncharset = \"windows-1258\"\n[html.fields]\ntitle = { select = \"h1\" }\npublished_at = { select = \".date-line\", extract = \"date\" }\nbody = { select = \".news-content\", extract = \"html\" }\ncategories = { form = \"Phân loại\", select = \"a\", extract = \"list\" }\n",
        )
        .unwrap();
        let h = m.html.unwrap();
        assert_eq!(h.start, vec!["Lists/TinTucSuKien/TongQuat.aspx"]);
        assert!(matches!(h.next, crate::source::html::NextPage::Link(_)));
        assert_eq!(h.stop, crate::source::html::StopRule::NoNewLinks);
        assert!(matches!(&h.item_id, crate::source::html::ItemId::Param(p) if p == "ID"));
        assert_eq!(
            h.list_id.as_deref(),
            Some("3de2e36d-678f-459c-837a-2db7c83afd8b")
        );
        assert_eq!(h.charset, Some(encoding_rs::WINDOWS_1258));
        let ruled: Vec<&str> = h
            .properties
            .iter()
            .filter(|p| p.rule.is_some())
            .map(|p| p.label.as_str())
            .collect();
        assert_eq!(ruled, ["title", "body", "published_at", "categories"]);
        let categories = h
            .properties
            .iter()
            .find(|p| p.label == "categories")
            .unwrap();
        assert_eq!(categories.key, "Phân loại");
        assert_eq!(categories.field_type, "LookupMulti");
        assert_eq!(
            categories.rule.as_ref().unwrap().form.as_deref(),
            Some("Phân loại")
        );
    }

    #[test]
    fn a_template_with_its_first_page_number() {
        let m = parse("[html]\nstart = [\"Pages/tin-tuc.aspx?page=1\"]\nlinks = \"a.detail\"\nnext_template = \"Pages/tin-tuc.aspx?page={n}\"\nitem_id_pattern = 'ItemID=(\\d+)'\n").unwrap();
        let h = m.html.unwrap();
        assert!(
            matches!(&h.next, crate::source::html::NextPage::Template { template, first: 2 } if template.ends_with("page={n}"))
        );
        assert!(matches!(h.item_id, crate::source::html::ItemId::Pattern(_)));
    }

    #[test]
    fn mistakes_are_reported_with_their_line() {
        let e = err("[html]\nstart = \"x\"\nlinks = \"a ! b\"\n");
        assert!(
            e.contains("line 10") && e.contains("not a CSS selector"),
            "{e}"
        );
        let e = err(
            "[html]\nstart = \"x\"\nlinks = \"a\"\n[html.fields]\ntitle = { select = \"h1\", regex = \"(\" }\n",
        );
        assert!(
            e.contains("line 12") && e.contains("regular expression"),
            "{e}"
        );
        let e = err(
            "[html]\nstart = \"x\"\nlinks = \"a\"\n[html.fields]\nsummary = { select = \"p\" }\n",
        );
        assert!(
            e.contains("line 12") && e.contains("summary has no entry in [fields]"),
            "{e}"
        );
        let e =
            err("[html]\nstart = \"x\"\nlinks = \"a\"\nnext = \"a\"\nnext_template = \"?p={n}\"\n");
        assert!(e.contains("line 11") && e.contains("not both"), "{e}");
        let e = err("[html]\nstart = \"x\"\nlinks = \"a\"\nnext_template = \"?p=2\"\n");
        assert!(e.contains("{n}"), "{e}");
        let e = err("[html]\nstart = \"x\"\nlinks = \"a\"\nstop = \"no-next\"\n");
        assert!(e.contains("no-next"), "{e}");
        let e = err("[html]\nstart = \"x\"\nlinks = \"a\"\nitem_id_pattern = 'ID=\\d+'\n");
        assert!(e.contains("group"), "{e}");
        let e = err("[html]\nstart = \"x\"\nlinks = \"a\"\ncharset = \"tcvn3\"\n");
        assert!(e.contains("line 11") && e.contains("tcvn3"), "{e}");
    }

    #[test]
    fn extractions_must_fit_the_conversion() {
        let e = err(
            "[html]\nstart = \"x\"\nlinks = \"a\"\n[html.fields]\npublished_at = { select = \".d\", extract = \"count\" }\n",
        );
        assert!(
            e.contains("line 12") && e.contains("\"count\"") && e.contains("datetime"),
            "{e}"
        );
        let e = err(
            "[html]\nstart = \"x\"\nlinks = \"a\"\n[html.fields]\ntitle = { attr = \"alt\" }\n",
        );
        assert!(e.contains("select"), "{e}");
        let e = err(
            "[html]\nstart = \"x\"\nlinks = \"a\"\n[html.fields]\nbody = { select = \".c\", extract = \"html\", regex = \"x\" }\n",
        );
        assert!(e.contains("exactly as served"), "{e}");
    }

    #[test]
    fn unknown_keys_in_html_are_errors_with_the_line() {
        let e = err("[html]\nstart = \"x\"\nlinks = \"a\"\nnxet = \"a.next\"\n");
        assert!(e.contains("line 11") && e.contains("nxet"), "{e}");
        let e = err(
            "[html]\nstart = \"x\"\nlinks = \"a\"\n[html.fields]\ntitle = { selector = \"h1\" }\n",
        );
        assert!(e.contains("line 12") && e.contains("selector"), "{e}");
    }

    #[test]
    fn the_pages_schema_binds_every_field_of_the_shipped_mapping() {
        use crate::mapping::ResolvedMapping;
        use crate::record::NeutralField;
        let m = Mapping::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/mappings/tin-tuc-mo-rong.toml"
        )))
        .unwrap();
        let layout = m.html.clone().unwrap();
        let id = "3de2e36d-678f-459c-837a-2db7c83afd8b".to_string();
        let schema = crate::source::html::schema_of(&layout, id);
        let resolved = ResolvedMapping::new(&m, &schema).unwrap();
        assert_eq!(resolved.bound.len(), m.fields.len());
        assert_eq!(
            resolved.bound[&NeutralField::PublishedAt]
                .0
                .entity_property_name,
            "Ngày xuất bản"
        );
    }
}
