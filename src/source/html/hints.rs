//! What the public pages say about a portal whose REST API is closed.
//!
//! Writing an `[html]` section starts with one article page: which element holds the title,
//! the date, the body, the view counter, and whether SharePoint's hidden display form is
//! still there with its `<!-- FieldName="…" FieldInternalName="…" -->` comments (the internal
//! names the API would have told). [`page_hints`] finds an article from the home page (or
//! takes the one given), reads it politely (robots.txt first), and [`read_article`] proposes
//! a selector for each part with the text it matched, each selector checked to select that
//! very element.

use super::ACCEPT_HTML;
use super::extract::comment_attr;
use super::layout::Css;
use super::robots::Robots;
use crate::fetch::{Body, Client};
use crate::source::{SourceError, explain};
use crate::text::clean_line;
use crate::text::dates::PortalZone;
use crate::text::html::element_text;
use crate::text::vietnamese::{parse_count, parse_date};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use serde::Serialize;
use std::sync::LazyLock;
use url::Url;

/// A part of an article page a selector is proposed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PagePart {
    /// The article's title.
    Title,
    /// A printed date.
    Date,
    /// The article body.
    Body,
    /// The view counter.
    ViewCount,
}

/// A selector proposed for a part of the article, with the text it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// Which part.
    pub part: PagePart,
    /// A CSS selector whose first match is the element.
    pub selector: String,
    /// The element's text, as a reader sees it (shortened by the report).
    pub text: String,
}

/// One field of the hidden display form, from its `FieldName` comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormField {
    /// `FieldName`: the display name.
    pub name: String,
    /// `FieldInternalName`.
    pub internal_name: String,
    /// `FieldType`, e.g. `SPFieldDateTime`.
    pub field_type: Option<String>,
}

/// What the public pages showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PageHints {
    /// The page an article link was looked for on (the home page), when one was.
    pub home: Option<String>,
    /// The article page read, when one was found and allowed.
    pub article: Option<String>,
    /// Why no article was read, when none was.
    pub no_article: Option<String>,
    /// The display form's fields, in page order.
    pub form_fields: Vec<FormField>,
    /// Proposed selectors, by part.
    pub candidates: Vec<Candidate>,
}

/// Links that look like one article of a news list: SharePoint's display form, the
/// `?ItemID=`/`?nid=` pages of vendor modules, `chi-tiet` pages.
static ARTICLE_LINK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(dispform\.aspx\?(?:[^#]*&)?id=\d+|[?&](?:itemid|nid|newsid|articleid)=\d+|chi-tiet[^/]*\.aspx\?[^#]*\d)",
    )
    .ok()
});

/// Words a view counter is printed with.
static VIEWS_LABEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(lượt\s+(người\s+)?(xem|đọc)|số\s+lần\s+(xem|đọc)|lượt\s+truy\s+cập|\bviews?\b)",
    )
    .ok()
});

/// Reads an article of the portal at `site` — `article` when given, else the first article
/// link of the home page — and proposes selectors. robots.txt is obeyed unless
/// `ignore_robots`.
pub async fn page_hints(
    client: &Client,
    site: &Url,
    article: Option<&Url>,
    ignore_robots: bool,
) -> Result<PageHints, SourceError> {
    let robots = if ignore_robots {
        Robots::allow_all(site.clone())
    } else {
        Robots::fetch(client, site).await?
    };
    let mut hints = PageHints::default();
    let article = match article {
        Some(a) => Some(a.clone()),
        None => {
            hints.home = Some(site.to_string());
            if !robots.allowed(site) {
                hints.no_article = Some(format!(
                    "robots.txt ({}) disallows the home page; give an article with --article URL",
                    robots.url
                ));
                return Ok(hints);
            }
            let body = match client.get(site, ACCEPT_HTML).await {
                Ok(body) => body,
                Err(e) if e.status().is_some() => {
                    hints.no_article = Some(format!(
                        "the home page could not be read ({}); give an article with --article URL",
                        explain(&e)
                    ));
                    return Ok(hints);
                }
                Err(e) => return Err(e.into()),
            };
            let page = decode(&body);
            let found = article_links(&page, site)
                .into_iter()
                .find(|u| robots.allowed(u));
            if found.is_none() {
                hints.no_article = Some(
                    "no link on the home page looks like an article (DispForm.aspx?ID=, ?ItemID=, ?nid=); give one with --article URL".into(),
                );
            }
            found
        }
    };
    let Some(article) = article else {
        return Ok(hints);
    };
    if !robots.allowed(&article) {
        hints.no_article = Some(format!(
            "robots.txt ({}) disallows {article}; pass --ignore-robots only with the portal owner's leave",
            robots.url
        ));
        return Ok(hints);
    }
    if let Some(delay) = robots.delay {
        tokio::time::sleep(delay).await;
    }
    let body = client.get(&article, ACCEPT_HTML).await?;
    let page = decode(&body);
    let (form_fields, candidates) = read_article(&page);
    hints.article = Some(article.to_string());
    hints.form_fields = form_fields;
    hints.candidates = candidates;
    Ok(hints)
}

fn decode(body: &Body) -> String {
    let content_type = body
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    crate::text::charset::decode_page(&body.bytes, content_type, None).text
}

/// The same-host links of `page` (read at `base`) that look like articles, in page order.
pub fn article_links(page: &str, base: &Url) -> Vec<Url> {
    let (Some(re), Ok(a)) = (ARTICLE_LINK.as_ref(), Selector::parse("a[href]")) else {
        return Vec::new();
    };
    let doc = Html::parse_document(page);
    let mut out: Vec<Url> = Vec::new();
    for el in doc.select(&a) {
        let Some(u) = el.value().attr("href").and_then(|h| base.join(h).ok()) else {
            continue;
        };
        if u.host_str() == base.host_str()
            && u.port() == base.port()
            && re.is_match(u.as_str())
            && !out.contains(&u)
        {
            out.push(u);
        }
    }
    out
}

/// The display form's fields and a selector for each part of the article in `page`.
pub fn read_article(page: &str) -> (Vec<FormField>, Vec<Candidate>) {
    let doc = Html::parse_document(page);
    let form_fields = doc
        .tree
        .nodes()
        .filter_map(|n| match n.value() {
            Node::Comment(c) => Some(FormField {
                name: comment_attr(c, "FieldName")?.to_string(),
                internal_name: comment_attr(c, "FieldInternalName")?.to_string(),
                field_type: comment_attr(c, "FieldType").map(str::to_string),
            }),
            _ => None,
        })
        .collect();
    let visible: Vec<ElementRef<'_>> = doc
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|el| !hidden(*el))
        .collect();
    let mut candidates = Vec::new();
    let mut propose = |part, el: ElementRef<'_>, limit: usize| {
        let taken = candidates
            .iter()
            .filter(|c: &&Candidate| c.part == part)
            .count();
        if taken >= limit {
            return;
        }
        if let Some(selector) = selector_for(&doc, el) {
            let text = clean_line(&element_text(el));
            if !candidates
                .iter()
                .any(|c: &Candidate| c.selector == selector)
            {
                candidates.push(Candidate {
                    part,
                    selector,
                    text,
                });
            }
        }
    };
    for el in visible.iter().filter(|el| el.value().name() == "h1") {
        propose(PagePart::Title, *el, 2);
    }
    let zone = PortalZone::new("Asia/Ho_Chi_Minh").ok();
    for el in &visible {
        let text = element_text(*el);
        if text.chars().count() > 60 || text.is_empty() {
            continue;
        }
        let no_child_says_it = |test: &dyn Fn(&str) -> bool| {
            !el.children()
                .filter_map(ElementRef::wrap)
                .any(|c| test(&element_text(c)))
        };
        let is_date = |t: &str| zone.as_ref().is_some_and(|z| parse_date(t, z).is_ok());
        if is_date(&text) && no_child_says_it(&is_date) {
            propose(PagePart::Date, *el, 2);
        }
        let is_views = |t: &str| {
            VIEWS_LABEL
                .as_ref()
                .is_some_and(|re| re.is_match(&clean_line(t)))
                && parse_count(t).is_some()
        };
        if is_views(&text) && no_child_says_it(&is_views) {
            propose(PagePart::ViewCount, *el, 1);
        }
    }
    if let Some(body) = body_element(&visible) {
        propose(PagePart::Body, body, 1);
    }
    candidates.sort_by_key(|c| c.part as u8);
    (form_fields, candidates)
}

/// Inside something a reader does not see (`display:none`, `hidden`), or not content.
fn hidden(el: ElementRef<'_>) -> bool {
    let hides = |e: ElementRef<'_>| {
        matches!(e.value().name(), "script" | "style" | "head" | "noscript")
            || e.value().attr("hidden").is_some()
            || e.value().attr("style").is_some_and(|s| {
                s.chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase()
                    .contains("display:none")
            })
    };
    hides(el) || el.ancestors().filter_map(ElementRef::wrap).any(hides)
}

/// A block of running text: a `p`, or a `div`/`li`/`blockquote` without blocks inside, of a
/// sentence or more (40 characters: not a date line or a counter), not mostly link text (lists of other articles are links).
fn is_paragraph(el: ElementRef<'_>) -> bool {
    const BLOCKS: &[&str] = &["div", "p", "ul", "ol", "li", "table", "section", "article"];
    let name = el.value().name();
    if !matches!(name, "p" | "div" | "li" | "blockquote") {
        return false;
    }
    if name != "p"
        && el
            .descendants()
            .skip(1)
            .filter_map(ElementRef::wrap)
            .any(|d| BLOCKS.contains(&d.value().name()))
    {
        return false;
    }
    let text = element_text(el).chars().count();
    let links: usize = el
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|d| d.value().name() == "a")
        .map(|a| element_text(a).chars().count())
        .sum();
    text >= 40 && links * 2 < text
}

/// The element holding the body: most running text, little else; the outermost of equals.
fn body_element<'a>(visible: &[ElementRef<'a>]) -> Option<ElementRef<'a>> {
    let paragraphs: Vec<ElementRef<'a>> = visible
        .iter()
        .copied()
        .filter(|el| is_paragraph(*el))
        .collect();
    let scored: Vec<(i64, ElementRef<'a>)> = visible
        .iter()
        .filter(|el| {
            matches!(
                el.value().name(),
                "div" | "article" | "section" | "td" | "main"
            )
        })
        .filter_map(|el| {
            let inside: usize = paragraphs
                .iter()
                .filter(|p| p.ancestors().any(|a| a.id() == el.id()))
                .map(|p| element_text(*p).chars().count())
                .sum();
            let all = element_text(*el).chars().count();
            // Running text counts for the element, anything else (titles, dates, menus, a
            // summary's neighbours) three times against it: a container of the body and its
            // surroundings loses to the body's own.
            let other = all.saturating_sub(inside);
            (inside > 0).then(|| (inside as i64 - 3 * other as i64, *el))
        })
        .collect();
    let best = scored.iter().map(|(s, _)| *s).max()?;
    // Among equals (a wrapper and what it wraps) the outermost, the first in page order.
    scored
        .into_iter()
        .find(|(s, _)| *s == best && best > 0)
        .map(|(_, el)| el)
}

/// A selector for `el` whose first match in `doc` is `el`: its tag with its id or classes,
/// after the nearest ancestor that has some; `None` when no such selector is found.
fn selector_for(doc: &Html, el: ElementRef<'_>) -> Option<String> {
    let own = simple(el);
    let mut tries = vec![own.clone()];
    if let Some(anc) = el
        .ancestors()
        .filter_map(ElementRef::wrap)
        .filter(|a| !matches!(a.value().name(), "html" | "body"))
        .find(|a| simple(*a).contains(['.', '#']))
    {
        tries.insert(0, format!("{} {own}", simple(anc)));
    }
    tries.into_iter().find(|s| {
        Css::parse(s)
            .ok()
            .and_then(|css| doc.select(&css.selector).next())
            .is_some_and(|first| first.id() == el.id())
    })
}

/// `tag#id` for a hand-written id, else `tag.class…`, else the tag. Ids that ASP.NET
/// generates (`ctl00_…`) change from page to page and are left out.
fn simple(el: ElementRef<'_>) -> String {
    let tag = el.value().name();
    let ident = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if let Some(id) = el.value().id()
        && ident(id)
        && !id.starts_with("ctl")
    {
        return format!("{tag}#{id}");
    }
    let classes: Vec<&str> = el
        .value()
        .classes()
        .filter(|c| ident(c) && !c.starts_with("ExternalClass"))
        .collect();
    if classes.is_empty() {
        tag.to_string()
    } else {
        format!(".{}", classes.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = r#"<html><head><title>Tin</title></head><body>
<div class="header"><a href="/">Trang chủ</a></div>
<div class="news-detail" id="ctl00_ctl50_g_3de2e36d">
<div class="date-line">Thứ 5, Ngày 05/01/2023, 10:00</div>
<h1 class="news-title">UBND tỉnh chỉ đạo chấn chỉnh kỷ luật</h1>
<div class="news-summary">Thời gian qua, việc chấp hành kỷ luật đã có chuyển biến.</div>
<div class="news-content"><div class="ExternalClassF87A"><p>Đoạn một của bài viết, khá dài để là nội dung chính của trang.</p><p>Đoạn hai cũng dài như vậy, thêm vài chữ nữa cho đủ.</p></div></div>
<div class="news-views">Lượt người xem:&nbsp;&nbsp; 1.234</div>
</div>
<div class="other-news"><ul><li><a href="DispForm.aspx?ID=2">Tin khác</a> <span>(04/01/2023)</span></li></ul></div>
<div style="display:none"><table class="ms-formtable"><tr><td class="ms-formbody">
<!-- FieldName="Ngày xuất bản"
     FieldInternalName="Ng_x00e0_y_x0020_xu_x1ea5_t_x002"
     FieldType="SPFieldDateTime"
   -->
05/01/2023 10:00 SA</td></tr><tr><td class="ms-formbody"><!-- FieldName="Tiêu đề" FieldInternalName="Title" FieldType="SPFieldText" --><h1>x</h1></td></tr></table></div>
</body></html>"#;

    #[test]
    fn an_article_page_gives_selectors_for_its_parts_and_its_form_fields() {
        let (form, candidates) = read_article(ARTICLE);
        assert_eq!(
            form,
            [
                FormField {
                    name: "Ngày xuất bản".into(),
                    internal_name: "Ng_x00e0_y_x0020_xu_x1ea5_t_x002".into(),
                    field_type: Some("SPFieldDateTime".into()),
                },
                FormField {
                    name: "Tiêu đề".into(),
                    internal_name: "Title".into(),
                    field_type: Some("SPFieldText".into()),
                },
            ]
        );
        let pick = |part| -> Vec<(&str, &str)> {
            candidates
                .iter()
                .filter(|c| c.part == part)
                .map(|c| (c.selector.as_str(), c.text.as_str()))
                .collect()
        };
        assert_eq!(
            pick(PagePart::Title),
            [(
                ".news-detail .news-title",
                "UBND tỉnh chỉ đạo chấn chỉnh kỷ luật"
            )]
        );
        assert_eq!(
            pick(PagePart::Date)[0],
            (".news-detail .date-line", "Thứ 5, Ngày 05/01/2023, 10:00")
        );
        assert_eq!(pick(PagePart::Body)[0].0, ".news-detail .news-content");
        assert_eq!(
            pick(PagePart::ViewCount),
            [(".news-detail .news-views", "Lượt người xem: 1.234")]
        );
        // Nothing is proposed from the hidden form.
        assert!(
            candidates.iter().all(|c| !c.selector.contains("ms-form")),
            "{candidates:?}"
        );
    }

    #[test]
    fn article_links_are_found_on_a_home_page() {
        let base = Url::parse("http://127.0.0.1:8765/").unwrap();
        let home = r#"<a href="/Lists/TinTuc/TongQuat.aspx">Tin</a>
<a href="/Lists/TinTuc/DispForm.aspx?ID=31">Mới</a>
<a href="https://other.example/Lists/X/DispForm.aspx?ID=1">Nơi khác</a>
<a href="/Pages/chi-tiet-tin.aspx?ItemID=233&amp;l=Tuvanphapluat">Vendor</a>"#;
        let links: Vec<String> = article_links(home, &base)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            links,
            [
                "http://127.0.0.1:8765/Lists/TinTuc/DispForm.aspx?ID=31",
                "http://127.0.0.1:8765/Pages/chi-tiet-tin.aspx?ItemID=233&l=Tuvanphapluat",
            ]
        );
    }
}
