//! The page layout the HTML source reads: where a portal's news list starts, how to find
//! article links and the next list page, how to read an item id from an article URL, and
//! where each property of an item is on its article page.
//!
//! Every vendor lays out its news pages differently (a Lạc Việt `TongQuat.aspx` list, a
//! Ministry of Justice `chi-tiet-tin.aspx?ItemID=` page, the built-in `DispForm.aspx`), so the
//! layout is data, not code: the source owns this type and reads pages with it, and whoever
//! describes a portal (the mapping file's `[html]` section) compiles into it. Selectors and
//! regular expressions are compiled before a layout exists, so a typo never reaches a crawl.

use crate::text::dates::PortalZone;
use regex::Regex;

/// How one list is shown on a portal's public pages.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The list title as the portal shows it (records name it).
    pub list_title: String,
    /// The content type items are taken to be (pages do not show content type ids).
    pub content_type: Option<String>,
    /// The zone the pages show dates in.
    pub zone: PortalZone,
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
    /// The properties an item has, in the order the list's schema gives them.
    pub properties: Vec<Property>,
}

/// A compiled CSS selector with the text it was written as.
#[derive(Debug, Clone)]
pub struct Css {
    /// As written.
    pub text: String,
    /// Compiled.
    pub selector: scraper::Selector,
}

impl Css {
    /// Compiles `text` (trimmed); the error says, in sharc's words, what is wrong with it.
    /// A bracket or quote left open is refused, though CSS parsers close it silently: a
    /// selector cut short would match something else than was meant, or nothing.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim().to_string();
        unclosed(&text)?;
        let selector = scraper::Selector::parse(&text).map_err(|e| selector_reason(&e))?;
        Ok(Self { text, selector })
    }
}

/// The first bracket or quote `text` opens and never closes, in words.
fn unclosed(text: &str) -> Result<(), String> {
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut quote: Option<(char, usize)> = None;
    let mut escaped = false;
    for (i, c) in text.chars().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        if let Some((q, _)) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some((c, i + 1)),
            '[' | '(' => open.push((c, i + 1)),
            ']' | ')' => {
                let want = if c == ']' { '[' } else { '(' };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    _ => return Err(format!("the `{c}` at character {} closes nothing", i + 1)),
                }
            }
            _ => {}
        }
    }
    if let Some((q, at)) = quote {
        return Err(format!(
            "the quote {q} at character {at} is never closed; end the value with {q}"
        ));
    }
    if let Some((o, at)) = open.pop() {
        let close = if o == '[' { ']' } else { ')' };
        return Err(format!(
            "the `{o}` at character {at} is never closed; close it with `{close}`"
        ));
    }
    Ok(())
}

/// What the CSS parser's error means, in words a person adapting a mapping can act on.
fn selector_reason(e: &scraper::error::SelectorErrorKind) -> String {
    // The parser's kinds are nested enums of two crates; their names are stable enough to
    // tell the common mistakes apart, and anything else gets the general advice.
    let kind = format!("{e:?}");
    let has = |name: &str| kind.contains(name);
    let why = if has("ClassNeedsIdent") {
        "a `.` must be followed by a class name, e.g. `.news-link`"
    } else if has("EmptySelector") {
        "there is no selector, or an empty one between commas"
    } else if has("DanglingCombinator") {
        "a combinator (`>`, `+`, `~`) has nothing after it"
    } else if has("Attr") {
        "an attribute test must be written [name], [name=value] or [name*=\"value\"]"
    } else if has("PseudoClass") || has("PseudoElement") || has("NoIdentForPseudo") {
        "a `:` pseudo-class that sharc does not support; use classes, ids, attributes, `>` and :first-child, :nth-child(n) or :not(…)"
    } else if has("EndOfLine") {
        "it ends where more was expected (after a `.`, `#`, `>` or `:`, say)"
    } else {
        "a character that cannot stand there"
    };
    format!("{why} (a CSS selector, as in a browser's developer tools: `.news-list a.news-link`)")
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

/// When a chain of list pages ends (besides running out of next pages and the page limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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

/// One property of an item: its key in the raw item, how the list schema describes it, and
/// where its value is on an article page.
#[derive(Debug, Clone)]
pub struct Property {
    /// The key in [`RawItem::props`](crate::source::RawItem::props).
    pub key: String,
    /// How messages name it (the neutral field it feeds, e.g. `published_at`).
    pub label: String,
    /// The field type the list schema gives it (`TypeAsString`: Text, DateTime, …).
    pub field_type: String,
    /// Whether the schema says it holds several values.
    pub allow_multiple: bool,
    /// What the value is to the source.
    pub role: Role,
    /// Where it is on an article page; `None` leaves it empty in items read from pages.
    pub rule: Option<FieldRule>,
}

/// What a property's value is to the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A value.
    Value,
    /// A value that changes on every page view (a view counter): kept, but left out of the
    /// item's fingerprint.
    Volatile,
    /// The links the rule finds are the item's attachments.
    Attachments,
}

/// Where one property's value is on an article page, and how to read it.
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
    /// The name a layout description uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Extract::Text => "text",
            Extract::Html => "html",
            Extract::Date => "date",
            Extract::Count => "count",
            Extract::List => "list",
        }
    }
}

impl FieldRule {
    /// How messages name where the rule looks: `form `…`, `css``.
    pub fn describe(&self) -> String {
        let mut w = String::new();
        if let Some(f) = &self.form {
            w.push_str(&format!("form `{f}`"));
            if self.select.is_some() {
                w.push_str(", ");
            }
        }
        if let Some(s) = &self.select {
            w.push_str(&format!("`{}`", s.text));
        }
        w
    }
}

/// A property read by `rule` (a CSS selector, or a DispForm field when it starts with
/// `form:`), with an optional attribute, regex and extraction.
#[cfg(test)]
fn prop(label: &str, key: &str, role: Role, rule: &str, extract: Extract) -> Property {
    let (form, select) = match rule.strip_prefix("form:") {
        Some(rest) => match rest.split_once(' ') {
            Some((f, css)) => (Some(f.replace('_', " ")), Some(css)),
            None => (Some(rest.replace('_', " ")), None),
        },
        None => (None, Some(rule)),
    };
    Property {
        key: key.into(),
        label: label.into(),
        field_type: "Text".into(),
        allow_multiple: false,
        role,
        rule: Some(FieldRule {
            select: select.map(|s| Css::parse(s).unwrap()),
            form,
            attr: None,
            regex: None,
            extract,
        }),
    }
}

/// The layout of the sample portal's article pages, built by hand.
#[cfg(test)]
pub(crate) fn sample() -> Layout {
    let v = Role::Value;
    let mut image = prop("image", "Hình ảnh", v, ".news-image img", Extract::Text);
    image.rule.as_mut().unwrap().attr = Some("src".into());
    let mut created = prop(
        "created_at",
        "Created",
        v,
        "#onetidinfoblock1",
        Extract::Date,
    );
    created.rule.as_mut().unwrap().regex = Some(regex::Regex::new(r"at\s+(.+?)\s+by").unwrap());
    Layout {
        list_title: "Tin tức sự kiện".into(),
        content_type: None,
        zone: PortalZone::vietnam(),
        start: vec!["Lists/TinTucSuKien/TongQuat.aspx".into()],
        links: Css::parse(".news-list a.title").unwrap(),
        link_pattern: None,
        next: NextPage::None,
        stop: StopRule::NoNewLinks,
        item_id: ItemId::Param("ID".into()),
        list_id: None,
        allow_hosts: Vec::new(),
        charset: None,
        properties: vec![
            prop("title", "Tiêu đề", v, ".news-detail h1", Extract::Text),
            prop(
                "body",
                "Nội dung",
                v,
                ".news-detail .news-content",
                Extract::Html,
            ),
            prop(
                "published_at",
                "Ngày xuất bản",
                v,
                ".news-detail .date-line",
                Extract::Date,
            ),
            prop(
                "categories",
                "Phân loại",
                v,
                "form:Phân_loại a",
                Extract::List,
            ),
            prop(
                "view_count",
                "Số lượt người đọc",
                Role::Volatile,
                ".news-views",
                Extract::Count,
            ),
            prop("history", "LichSu", v, "form:LichSu", Extract::Text),
            image,
            prop(
                "attachments",
                "Attachments",
                Role::Attachments,
                ".news-attachments",
                Extract::Text,
            ),
            created,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::Css;

    fn reason(text: &str) -> String {
        Css::parse(text).err().unwrap_or_default()
    }

    #[test]
    fn an_unclosed_bracket_or_quote_is_refused_with_where_it_opens() {
        assert_eq!(
            reason(".news-list a[news-link"),
            "the `[` at character 13 is never closed; close it with `]`"
        );
        assert!(reason("a[href*='/Attachments/]").contains("quote ' at character 9"));
        assert!(reason("a:not(.x").contains("`(` at character 6"));
        assert!(reason("a.x]").contains("closes nothing"));
        assert!(Css::parse(".news-list a[href*='(']").is_ok());
    }

    #[test]
    fn parser_errors_are_worded_without_the_parsers_names() {
        for (bad, words) in [
            (".news-list .!x", "a `.` must be followed by a class name"),
            (".news-list .", "it ends where more was expected"),
            ("a >", "has nothing after it"),
            ("a:frobnicate", "pseudo-class"),
        ] {
            let r = reason(bad);
            assert!(r.contains(words), "{bad}: {r}");
            assert!(
                !r.contains("Ident") && !r.contains("report this"),
                "{bad}: {r}"
            );
        }
    }
}
