//! The `[html]` section of a mapping: how to read a portal from its public pages.
//!
//! Every vendor lays out its news pages differently (a Lạc Việt `TongQuat.aspx` list, a
//! Ministry of Justice `chi-tiet-tin.aspx?ItemID=` page, the built-in `DispForm.aspx`), so the
//! layout lives here, in the mapping, and the HTML source has none of it in code: where the
//! news list starts, how to find article links and the next list page, how to read an item id
//! from an article URL, and for each neutral field a CSS selector with an optional
//! extraction. Selectors and regular expressions are compiled when the mapping is loaded, so a
//! typo is reported with its line before anything is fetched.

use super::file::{Conversion, FieldSpec, NeutralField};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A validated `[html]` section.
#[derive(Debug, Clone)]
pub struct HtmlSpec {
    /// The news list's start page(s), relative to the site URL (or absolute on the same host).
    pub start: Vec<String>,
    /// Article links on a list page.
    pub links: Css,
    /// A regex every article URL (absolute, as found) must match.
    pub link_pattern: Option<Regex>,
    /// How to find the next list page.
    pub next: NextPage,
    /// When a chain of list pages ends.
    pub stop: StopRule,
    /// How to read an item id from an article URL.
    pub item_id: ItemId,
    /// The list GUID, for record ids; discovered from the pages when absent.
    pub list_id: Option<String>,
    /// Hosts besides the portal's own whose pages and files may be fetched.
    pub allow_hosts: Vec<String>,
    /// The charset of pages that declare none (UTF-8 when absent).
    pub charset: Option<&'static encoding_rs::Encoding>,
    /// Neutral field → where its value is on an article page.
    pub fields: BTreeMap<NeutralField, FieldRule>,
}

/// A compiled CSS selector with the text it was written as.
#[derive(Debug, Clone)]
pub struct Css {
    /// As written in the mapping.
    pub text: String,
    /// Compiled.
    pub selector: scraper::Selector,
}

/// How the next page of the news list is found.
#[derive(Debug, Clone)]
pub enum NextPage {
    /// Only the start pages are read.
    None,
    /// Follow the first link matching this selector.
    Link(Css),
    /// Build the URL from a template: `{n}` takes `first`, `first + 1`, …
    Template {
        /// Relative to the site URL, e.g. `Lists/TinTucSuKien/TongQuat.aspx?Page={n}`.
        template: String,
        /// The number of the page after the start page.
        first: u32,
    },
}

/// When a chain of list pages ends (besides running out of next pages and `--max-pages`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopRule {
    /// At a page that shows no article not seen before: catches lists that repeat their last
    /// page, or keep offering "next" past the end.
    #[default]
    NoNewLinks,
    /// Only when there is no next link: for lists that may show a page of already seen
    /// articles in the middle.
    NoNext,
}

/// How an item id is read from an article URL.
#[derive(Debug, Clone)]
pub enum ItemId {
    /// A query parameter, matched case-insensitively (`ID`, `ItemID`, `ItemId`, `nid`).
    Param(String),
    /// A regex over the absolute URL whose first group is the id.
    Pattern(Regex),
}

/// Where one neutral field's value is on an article page, and how to read it.
#[derive(Debug, Clone)]
pub struct FieldRule {
    /// Elements to read (within the form cell when `form` is given).
    pub select: Option<Css>,
    /// A field of the hidden DispForm table, by `FieldName` or `FieldInternalName` as its
    /// `<!-- FieldName="…" FieldInternalName="…" -->` comment names it.
    pub form: Option<String>,
    /// Read this attribute instead of the element's text.
    pub attr: Option<String>,
    /// Keep only this regex's first group (or whole match) of the text.
    pub regex: Option<Regex>,
    /// What to make of it.
    pub extract: Extract,
}

/// What a field rule extracts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extract {
    /// The first match's text (or attribute).
    #[default]
    Text,
    /// The first match's inner HTML exactly as served.
    Html,
    /// A Vietnamese date (day/month order, weekday checked), as RFC 3339 in the portal's zone.
    Date,
    /// An integer such as a view count ("Lượt người xem:   1.234").
    Count,
    /// Every match's text (or attribute), as a list.
    List,
}

impl Extract {
    fn name(self) -> &'static str {
        match self {
            Extract::Text => "text",
            Extract::Html => "html",
            Extract::Date => "date",
            Extract::Count => "count",
            Extract::List => "list",
        }
    }

    /// Whether a value of this kind can be converted by `c`.
    fn fits(self, c: Conversion) -> bool {
        use Conversion as C;
        match self {
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
    stop: Option<Spanned<StopRule>>,
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
    extract: Option<Extract>,
}

/// Validates and compiles; `text` is the mapping file, for line numbers in messages.
pub(super) fn compile(
    raw: RawHtml,
    text: &str,
    fields: &BTreeMap<NeutralField, FieldSpec>,
) -> Result<HtmlSpec, String> {
    let at = |span: std::ops::Range<usize>| format!("line {}", line_of(text, span.start));
    let start_span = raw.start.span();
    let start = match raw.start.into_inner() {
        StartPages::One(s) => vec![s],
        StartPages::Many(v) => v,
    };
    if start.is_empty() || start.iter().any(|s| s.trim().is_empty()) {
        return Err(format!(
            "{}: [html] start: give the news list's first page, e.g. start = [\"Lists/TinTucSuKien/TongQuat.aspx\"]",
            at(start_span)
        ));
    }
    let start: Vec<String> = start.into_iter().map(|s| s.trim().to_string()).collect();
    let links = css(&raw.links, "[html] links", &at)?;
    let link_pattern = raw
        .link_pattern
        .as_ref()
        .map(|p| regex(p, "[html] link_pattern", &at))
        .transpose()?;
    let next = match (&raw.next, &raw.next_template) {
        (Some(a), Some(_)) => {
            return Err(format!(
                "{}: [html] give either `next` (a selector for the next-page link) or `next_template`, not both",
                at(a.span())
            ));
        }
        (Some(sel), None) => NextPage::Link(css(sel, "[html] next", &at)?),
        (None, Some(t)) => {
            if !t.get_ref().contains("{n}") {
                return Err(format!(
                    "{}: [html] next_template `{}` has no `{{n}}` for the page number",
                    at(t.span()),
                    t.get_ref()
                ));
            }
            if start.len() != 1 {
                return Err(format!(
                    "{}: [html] next_template needs exactly one start page (the list's first page)",
                    at(start_span)
                ));
            }
            NextPage::Template {
                template: t.get_ref().trim().to_string(),
                first: raw.next_first.unwrap_or(2),
            }
        }
        (None, None) => NextPage::None,
    };
    let stop = match raw.stop {
        Some(s) if *s.get_ref() == StopRule::NoNext && !matches!(next, NextPage::Link(_)) => {
            return Err(format!(
                "{}: [html] stop = \"no-next\" needs `next` (a next-page link); a template has no last page of its own",
                at(s.span())
            ));
        }
        Some(s) => s.into_inner(),
        None => StopRule::default(),
    };
    let item_id = match (&raw.item_id, &raw.item_id_pattern) {
        (Some(p), Some(_)) => {
            return Err(format!(
                "{}: [html] give either `item_id` (a query parameter) or `item_id_pattern`, not both",
                at(p.span())
            ));
        }
        (Some(p), None) if p.get_ref().trim().is_empty() => {
            return Err(format!(
                "{}: [html] item_id is empty: name the query parameter that holds the item id (ID, ItemID, nid, …)",
                at(p.span())
            ));
        }
        (Some(p), None) => ItemId::Param(p.get_ref().trim().to_string()),
        (None, Some(p)) => {
            let re = regex(p, "[html] item_id_pattern", &at)?;
            if re.captures_len() < 2 {
                return Err(format!(
                    "{}: [html] item_id_pattern needs a group around the id, e.g. \"/tin-(\\\\d+)\\\\.html\"",
                    at(p.span())
                ));
            }
            ItemId::Pattern(re)
        }
        (None, None) => ItemId::Param("ID".into()),
    };
    let list_id = match &raw.list_id {
        None => None,
        Some(id) => {
            let clean = id
                .get_ref()
                .trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .to_ascii_lowercase();
            if clean.is_empty() || !clean.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                return Err(format!(
                    "{}: [html] list_id `{}` is not a list GUID (hex digits and dashes)",
                    at(id.span()),
                    id.get_ref()
                ));
            }
            Some(clean)
        }
    };
    let charset = match &raw.charset {
        None => None,
        Some(c) => Some(
            crate::text::charset::encoding_for_label(c.get_ref()).ok_or_else(|| {
                format!(
                    "{}: [html] charset `{}` is not a known encoding label (e.g. utf-8, windows-1258)",
                    at(c.span()),
                    c.get_ref()
                )
            })?,
        ),
    };
    let mut rules = BTreeMap::new();
    for (neutral, rule) in raw.fields {
        let span = neutral.span();
        let neutral = neutral.into_inner();
        let name = neutral.name();
        let Some(spec) = fields.get(&neutral) else {
            return Err(format!(
                "{}: [html.fields] {name} has no entry in [fields]: add one there too (the HTML source fills the same fields as REST), e.g. {name} = {{ field = \"…\", as = \"…\" }}",
                at(span)
            ));
        };
        let rule_span = rule.span();
        let rule = rule.into_inner();
        let what = format!("[html.fields] {name}");
        if rule.select.is_none() && rule.form.is_none() {
            return Err(format!(
                "{}: {what}: say where the value is with `select = \"<css>\"`, `form = \"<field name>\"` or both",
                at(rule_span)
            ));
        }
        let extract = rule.extract.unwrap_or_default();
        if neutral == NeutralField::Attachments {
            if rule.attr.is_some() || rule.regex.is_some() || rule.extract.is_some() {
                return Err(format!(
                    "{}: {what}: attachments are read from the links `select` matches; drop `attr`, `regex` and `extract`",
                    at(rule_span)
                ));
            }
        } else if !extract.fits(spec.conversion) {
            return Err(format!(
                "{}: {what}: extract = \"{}\" does not fit `as = \"{}\"` in [fields]",
                at(rule_span),
                extract.name(),
                super::file::conversion_name(spec.conversion)
            ));
        }
        if extract == Extract::Html && (rule.regex.is_some() || rule.attr.is_some()) {
            return Err(format!(
                "{}: {what}: extract = \"html\" keeps the markup exactly as served; drop `attr` and `regex`",
                at(rule_span)
            ));
        }
        rules.insert(
            neutral,
            FieldRule {
                select: rule
                    .select
                    .as_ref()
                    .map(|s| css(s, &what, &at))
                    .transpose()?,
                form: rule
                    .form
                    .map(|f| f.trim().to_string())
                    .filter(|f| !f.is_empty()),
                attr: rule
                    .attr
                    .map(|a| a.trim().to_ascii_lowercase())
                    .filter(|a| !a.is_empty()),
                regex: rule
                    .regex
                    .as_ref()
                    .map(|r| regex(r, &what, &at))
                    .transpose()?,
                extract,
            },
        );
    }
    Ok(HtmlSpec {
        start,
        links,
        link_pattern,
        next,
        stop,
        item_id,
        list_id,
        allow_hosts: raw
            .allow_hosts
            .into_iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        charset,
        fields: rules,
    })
}

fn css(
    s: &Spanned<String>,
    what: &str,
    at: &dyn Fn(std::ops::Range<usize>) -> String,
) -> Result<Css, String> {
    let text = s.get_ref().trim().to_string();
    let selector = scraper::Selector::parse(&text).map_err(|e| {
        format!(
            "{}: {what}: `{text}` is not a CSS selector: {e}",
            at(s.span())
        )
    })?;
    Ok(Css { text, selector })
}

fn regex(
    s: &Spanned<String>,
    what: &str,
    at: &dyn Fn(std::ops::Range<usize>) -> String,
) -> Result<Regex, String> {
    Regex::new(s.get_ref()).map_err(|e| {
        let first = e.to_string();
        let first = first.lines().last().unwrap_or("").trim().to_string();
        format!(
            "{}: {what}: `{}` is not a regular expression: {first}",
            at(s.span()),
            s.get_ref()
        )
    })
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
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
        assert!(matches!(h.next, super::NextPage::Link(_)));
        assert_eq!(h.stop, super::StopRule::NoNewLinks);
        assert!(matches!(&h.item_id, super::ItemId::Param(p) if p == "ID"));
        assert_eq!(
            h.list_id.as_deref(),
            Some("3de2e36d-678f-459c-837a-2db7c83afd8b")
        );
        assert_eq!(h.charset, Some(encoding_rs::WINDOWS_1258));
        assert_eq!(h.fields.len(), 4);
        assert_eq!(
            h.fields[&crate::mapping::NeutralField::Categories]
                .form
                .as_deref(),
            Some("Phân loại")
        );
    }

    #[test]
    fn a_template_with_its_first_page_number() {
        let m = parse("[html]\nstart = [\"Pages/tin-tuc.aspx?page=1\"]\nlinks = \"a.detail\"\nnext_template = \"Pages/tin-tuc.aspx?page={n}\"\nitem_id_pattern = 'ItemID=(\\d+)'\n").unwrap();
        let h = m.html.unwrap();
        assert!(
            matches!(&h.next, super::NextPage::Template { template, first: 2 } if template.ends_with("page={n}"))
        );
        assert!(matches!(h.item_id, super::ItemId::Pattern(_)));
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
}
