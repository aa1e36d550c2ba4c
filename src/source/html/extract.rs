//! Reading a parsed page with a [`Layout`]'s rules: article links and the next page
//! on a list page, field values and attachments on an article page.
//!
//! Everything here is synchronous and works on one parsed document (scraper's `Html` is not
//! `Send`, so it never lives across an await). Values come out as the raw strings the
//! conversions in `mapping::convert` accept: text as the page shows it, inner HTML sliced from
//! the page source, dates already turned into RFC 3339 with the portal's offset, counts as
//! integers, lists as arrays of strings.

use super::layout::{Css, Extract, FieldRule, ItemId, Layout, Property, Role};
use super::span::inner_span;
use crate::source::RawAttachment;
use crate::source::facts::{ExtractError, ExtractProblem, Note};
use scraper::node::Node;
use scraper::{ElementRef, Html, Selector};
use serde_json::{Map, Value};
use url::Url;

/// A page parsed once, with the text it was parsed from.
pub(crate) struct Page<'a> {
    /// The source, as decoded.
    pub text: &'a str,
    /// The parsed document.
    pub doc: Html,
    /// The URL relative links resolve against (`<base href>` honoured).
    pub base: Url,
}

impl<'a> Page<'a> {
    /// Parses `text`, fetched from `url`.
    pub fn parse(text: &'a str, url: &Url) -> Self {
        let doc = Html::parse_document(text);
        let base = Selector::parse("base[href]")
            .ok()
            .and_then(|s| {
                doc.select(&s)
                    .next()
                    .and_then(|b| b.value().attr("href"))
                    .and_then(|h| url.join(h.trim()).ok())
            })
            .unwrap_or_else(|| url.clone());
        Self { text, doc, base }
    }

    /// The absolute URLs of the `href`s of elements matching `css`, in page order, without
    /// fragments; `javascript:`, `mailto:` and fragment-only links are left out.
    pub fn links(&self, css: &Css) -> Vec<Url> {
        self.doc
            .select(&css.selector)
            .filter_map(|el| el.value().attr("href"))
            .filter_map(|href| self.resolve(href))
            .collect()
    }

    fn resolve(&self, href: &str) -> Option<Url> {
        let href = href.trim();
        if href.is_empty() || href.starts_with('#') {
            return None;
        }
        let mut u = self.base.join(href).ok()?;
        if !matches!(u.scheme(), "http" | "https") {
            return None;
        }
        u.set_fragment(None);
        Some(u)
    }

    /// A list GUID the page names (`_spPageContextInfo.pageListId`, `ListId={…}` in links).
    pub fn list_id(&self) -> Option<String> {
        let re = regex::Regex::new(
            r#"(?i)(?:pageListId|ListId)["']?\s*[:=]\s*["']?(?:\{|%7B)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"#,
        )
        .ok()?;
        re.captures(self.text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_ascii_lowercase())
    }
}

/// The item id in an article URL, by the layout's rule.
pub(crate) fn item_id(rule: &ItemId, url: &Url) -> Option<i64> {
    let raw = match rule {
        ItemId::Param(name) => url
            .query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.into_owned())?,
        ItemId::Pattern(re) => re.captures(url.as_str())?.get(1)?.as_str().to_string(),
    };
    raw.trim().parse().ok().filter(|id| *id > 0)
}

/// What an article page yields.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    /// Values by property key.
    pub props: Map<String, Value>,
    /// Attachments with the URL each link gave, in page order.
    pub attachments: Vec<(RawAttachment, Url)>,
    /// Links to attachments on hosts sharc may not fetch.
    pub off_site: Vec<Url>,
    /// Things worth a line in the crawl report.
    pub notes: Vec<Note>,
}

/// What extraction needs besides the page.
pub(crate) struct Rules<'a> {
    /// The layout, with a rule for each property the pages show.
    pub layout: &'a Layout,
    /// Whether a host may be fetched.
    pub host_ok: &'a dyn Fn(&Url) -> bool,
}

/// Reads every property the layout has a rule for. An error names the property and the
/// value.
pub(crate) fn extract(page: &Page<'_>, rules: &Rules<'_>) -> Result<Extracted, ExtractError> {
    let mut out = Extracted::default();
    for p in &rules.layout.properties {
        let Some(rule) = &p.rule else {
            continue;
        };
        let elements = select(page, rule);
        if p.role == Role::Attachments {
            attachments(page, &elements, rules, &mut out);
            continue;
        }
        if let Some(v) = value(page, p, rule, &elements, rules, &mut out)? {
            out.props.insert(p.key.clone(), v);
        }
    }
    Ok(out)
}

/// One property's value from the elements its rule selected; `None` when there is none.
fn value(
    page: &Page<'_>,
    p: &Property,
    rule: &FieldRule,
    elements: &[ElementRef<'_>],
    rules: &Rules<'_>,
    out: &mut Extracted,
) -> Result<Option<Value>, ExtractError> {
    let what = || format!("{} ({})", p.label, rule.describe());
    let fail = |problem: ExtractProblem| ExtractError {
        label: p.label.clone(),
        rule: rule.describe(),
        problem,
    };
    let first = || elements.first().and_then(|el| raw_value(*el, rule));
    Ok(match rule.extract {
        Extract::List => {
            let items: Vec<Value> = elements
                .iter()
                .filter_map(|el| raw_value(*el, rule))
                .map(Value::String)
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Extract::Html => elements.first().map(|el| {
            Value::String(match inner_span(page.text, &page.doc, *el) {
                Some(r) => page.text[r].to_string(),
                None => {
                    out.notes.push(Note::Reserialised {
                        url: page.base.to_string(),
                        what: what(),
                    });
                    el.inner_html()
                }
            })
        }),
        Extract::Text => first().map(Value::String),
        Extract::Date => match first() {
            None => None,
            Some(s) => Some(Value::String(
                crate::text::vietnamese::parse_date(&s, &rules.layout.zone)
                    .map_err(|e| fail(e.into()))?
                    .rfc3339,
            )),
        },
        Extract::Count => match first() {
            None => None,
            Some(s) => Some(Value::from(
                crate::text::vietnamese::parse_count(&s)
                    .ok_or_else(|| fail(ExtractProblem::NoNumber(s.clone())))?,
            )),
        },
    })
}

/// The elements a rule reads: within the DispForm cell named by `form` (the cell itself when
/// there is no `select`), or anywhere on the page.
fn select<'p>(page: &'p Page<'_>, rule: &FieldRule) -> Vec<ElementRef<'p>> {
    match (&rule.form, &rule.select) {
        (Some(form), select) => form_cells(&page.doc, form)
            .into_iter()
            .flat_map(|cell| match select {
                Some(css) => cell
                    .select(&css.selector)
                    .filter(|el| el.id() != cell.id())
                    .collect::<Vec<_>>(),
                None => vec![cell],
            })
            .collect(),
        (None, Some(css)) => page.doc.select(&css.selector).collect(),
        (None, None) => Vec::new(),
    }
}

/// The DispForm value cells whose `<!-- FieldName="…" FieldInternalName="…" -->` comment names
/// `field` (display names compared as a reader would, internal names exactly).
fn form_cells<'p>(doc: &'p Html, field: &str) -> Vec<ElementRef<'p>> {
    let key = crate::text::match_key(field);
    doc.tree
        .nodes()
        .filter(|n| match n.value() {
            Node::Comment(c) => {
                comment_attr(c, "FieldName").is_some_and(|v| crate::text::match_key(v) == key)
                    || comment_attr(c, "FieldInternalName").is_some_and(|v| v == field)
            }
            _ => false,
        })
        .filter_map(|n| n.parent().and_then(ElementRef::wrap))
        .collect()
}

/// `name="value"` inside a comment.
pub(super) fn comment_attr<'c>(comment: &'c str, name: &str) -> Option<&'c str> {
    let mut from = 0;
    while let Some(p) = comment[from..].find(name) {
        let at = from + p;
        from = at + name.len();
        let before_ok = comment[..at]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        match comment[from..].strip_prefix("=\"") {
            Some(rest) if before_ok => return rest.find('"').map(|end| &rest[..end]),
            _ => continue,
        }
    }
    None
}

/// An element's text (or attribute), through the rule's regex; `None` when empty or not
/// matched.
fn raw_value(el: ElementRef<'_>, rule: &FieldRule) -> Option<String> {
    let raw = match &rule.attr {
        Some(a) => el.value().attr(a)?.to_string(),
        None => crate::text::html::element_text(el),
    };
    let v = match &rule.regex {
        None => raw,
        Some(re) => {
            let c = re.captures(&raw)?;
            c.get(1).or_else(|| c.get(0))?.as_str().to_string()
        }
    };
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Attachment links among (or inside) the selected elements, same-site ones only.
fn attachments(
    page: &Page<'_>,
    elements: &[ElementRef<'_>],
    rules: &Rules<'_>,
    out: &mut Extracted,
) {
    let Ok(anchor) = Selector::parse("a[href]") else {
        return;
    };
    let mut hrefs = Vec::new();
    for el in elements {
        match el.value().attr("href") {
            Some(h) => hrefs.push(h),
            None => hrefs.extend(el.select(&anchor).filter_map(|a| a.value().attr("href"))),
        }
    }
    for href in hrefs {
        let Some(url) = page.resolve(href) else {
            continue;
        };
        if !(rules.host_ok)(&url) {
            if !out.off_site.contains(&url) {
                out.off_site.push(url);
            }
            continue;
        }
        if out.attachments.iter().any(|(_, u)| *u == url) {
            continue;
        }
        let path = percent_encoding::percent_decode_str(url.path())
            .decode_utf8_lossy()
            .into_owned();
        let file_name = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        if file_name.is_empty() {
            continue;
        }
        out.attachments.push((
            RawAttachment {
                file_name,
                server_relative_url: path,
            },
            url,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const PAGE: &str = concat!(
        "<html><body><div id=\"s4-ribbonrow\">Manage Permissions</div>",
        "<div class=\"news-detail\"><div class=\"date-line\">Thứ 5, Ngày 05/01/2023, 10:00</div>",
        "<h1>\n  UBND tỉnh Long An chỉ đạo\n</h1>",
        "<div class=\"news-image\"><img src=\"/PublishingImages/a.jpg\" alt=\"x\"></div>",
        "<div class=\"news-content\"><P style='margin:6pt'>Đối&nbsp;với<o:p></o:p></P></div>",
        "<div class=\"news-attachments\"><a href=\"/Lists/TinTucSuKien/Attachments/1/K%E1%BA%BF%20ho%E1%BA%A1ch%20%233.docx\">Kế hoạch #3.docx</a>",
        "<a href=\"https://baolongan.vn/x.pdf\">x.pdf</a></div>",
        "<div class=\"news-views\">Lượt người xem:&nbsp;&nbsp; 1.234</div></div>",
        "<div style=\"display:none\"><table class=\"ms-formtable\">",
        "<tr><td class=\"ms-formbody\"><!-- FieldName=\"Phân loại\" FieldInternalName=\"Ph_x00e2_n_x0020_lo_x1ea1_i\" FieldType=\"SPFieldLookupMulti\" -->",
        "<a href=\"/Lists/DanhMucTin/DispForm.aspx?ID=1\">Tin tức - Sự kiện</a>; <a href=\"/Lists/DanhMucTin/DispForm.aspx?ID=6\">Cải cách hành chính</a></td></tr>",
        "<tr><td class=\"ms-formbody\"><!-- FieldName=\"Lịch sử\" FieldInternalName=\"LichSu\" FieldType=\"SPFieldNote\" -->",
        "<div>05/01/2023 09:40 - hantt: Tạo mới<br>05/01/2023 10:00 - minhtv: Đã ban hành</div></td></tr></table>",
        "<table><tr><td id=\"onetidinfoblock1\">Created  at 05/01/2023 9:40 SA&nbsp; by <a href=\"/_layouts/15/userdisp.aspx?ID=7\">Nguyễn Thị Thu Hà</a></td></tr></table>",
        "</div></body></html>"
    );

    fn run(page: &str) -> Result<Extracted, ExtractError> {
        let layout = crate::source::html::layout::sample();
        let host_ok = |u: &Url| u.host_str() == Some("127.0.0.1");
        let url =
            Url::parse("http://127.0.0.1:8080/Lists/TinTucSuKien/DispForm.aspx?ID=1").unwrap();
        let page = Page::parse(page, &url);
        extract(
            &page,
            &Rules {
                layout: &layout,
                host_ok: &host_ok,
            },
        )
    }

    #[test]
    fn every_kind_of_extraction() {
        let x = run(PAGE).unwrap();
        let p = &x.props;
        assert_eq!(p["Tiêu đề"], "UBND tỉnh Long An chỉ đạo");
        assert_eq!(p["Ngày xuất bản"], "2023-01-05T10:00:00+07:00");
        assert_eq!(
            p["Nội dung"], "<P style='margin:6pt'>Đối&nbsp;với<o:p></o:p></P>",
            "the markup exactly as served"
        );
        assert_eq!(p["Số lượt người đọc"], 1234);
        assert_eq!(
            p["Phân loại"],
            serde_json::json!(["Tin tức - Sự kiện", "Cải cách hành chính"])
        );
        assert_eq!(
            p["LichSu"],
            "05/01/2023 09:40 - hantt: Tạo mới\n05/01/2023 10:00 - minhtv: Đã ban hành"
        );
        assert_eq!(p["Hình ảnh"], "/PublishingImages/a.jpg");
        assert_eq!(p["Created"], "2023-01-05T09:40:00+07:00");
        assert_eq!(x.attachments.len(), 1);
        let (a, u) = &x.attachments[0];
        assert_eq!(a.file_name, "Kế hoạch #3.docx");
        assert_eq!(
            a.server_relative_url,
            "/Lists/TinTucSuKien/Attachments/1/Kế hoạch #3.docx"
        );
        assert!(
            u.as_str()
                .ends_with("K%E1%BA%BF%20ho%E1%BA%A1ch%20%233.docx")
        );
        assert_eq!(
            x.off_site.len(),
            1,
            "the off-site link is reported, not kept"
        );
        assert!(x.notes.is_empty(), "{:?}", x.notes);
    }

    #[test]
    fn a_weekday_that_contradicts_the_date_fails_the_item() {
        let page = PAGE.replace("Thứ 5, Ngày 05/01/2023", "Thứ 2, Ngày 05/01/2023");
        let e = run(&page).unwrap_err();
        assert_eq!(e.label, "published_at");
        assert!(
            matches!(
                e.problem,
                ExtractProblem::Date(crate::text::vietnamese::VnDateError::WeekdayMismatch { .. })
            ),
            "{e}"
        );
        let e = e.to_string();
        assert!(
            e.starts_with("published_at (`.news-detail .date-line`): "),
            "{e}"
        );
    }

    #[test]
    fn missing_elements_leave_fields_empty() {
        let x = run("<html><body><h1>Chỉ có tiêu đề</h1></body></html>").unwrap();
        assert!(x.props.is_empty(), "{:?}", x.props);
    }

    #[test]
    fn item_ids_by_parameter_or_pattern() {
        let u = Url::parse(
            "https://htpldn.moj.gov.vn/Pages/chi-tiet-tin.aspx?ItemId=233&l=Tuvanphapluat",
        )
        .unwrap();
        assert_eq!(item_id(&ItemId::Param("ItemID".into()), &u), Some(233));
        assert_eq!(item_id(&ItemId::Param("ID".into()), &u), None);
        let re = regex::Regex::new(r"/tin-(\d+)\.html$").unwrap();
        let u = Url::parse("https://x.gov.vn/tin-42.html").unwrap();
        assert_eq!(item_id(&ItemId::Pattern(re), &u), Some(42));
    }

    #[test]
    fn list_ids_from_page_context_or_links() {
        let url = Url::parse("http://p/").unwrap();
        let text = r#"<script>var _spPageContextInfo = {"pageListId":"{3DE2E36D-678F-459C-837A-2DB7C83AFD8B}"};</script>"#;
        assert_eq!(
            Page::parse(text, &url).list_id().as_deref(),
            Some("3de2e36d-678f-459c-837a-2db7c83afd8b")
        );
        let text = "<a href=\"/_layouts/15/listform.aspx?PageType=4&amp;ListId=%7B3de2e36d-678f-459c-837a-2db7c83afd8b%7D&amp;ID=1\">x</a>";
        assert!(Page::parse(text, &url).list_id().is_some());
        assert_eq!(Page::parse("<p>none</p>", &url).list_id(), None);
    }
}
