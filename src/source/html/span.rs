//! Finding an element's markup in the page exactly as the server sent it.
//!
//! An article body must be archived as served, not as a parser would re-serialise it
//! (attribute quoting, `<o:p>` tags, entity spellings and whitespace all change in a round
//! trip). The parsed tree does not remember source offsets, so the element is found again in
//! the source: its start tag is the k-th tag with the same name, `id` and `class` (counting in
//! the order the parser created elements, which is source order), and its end is the
//! matching end tag at the same nesting depth. The slice is accepted only if it yields the
//! same text as the parsed element; otherwise the caller falls back to re-serialising and
//! says so.

use crate::text::html::{find, find_ascii_ci};
use scraper::node::Node;
use scraper::{ElementRef, Html};
use std::ops::Range;

/// Elements without content or end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Elements whose content is raw text: tags inside them are not tags.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];

/// One tag as written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SourceTag {
    /// Lowercase.
    name: String,
    /// Offset of `<`.
    start: usize,
    /// Offset just after `>`.
    end: usize,
    /// `</name>`.
    closing: bool,
    id: Option<String>,
    class: Option<String>,
}

/// The byte range of `el`'s content (between its start and end tags) in `source`, the text
/// `doc` was parsed from; `None` when it cannot be located with certainty.
pub(crate) fn inner_span(source: &str, doc: &Html, el: ElementRef<'_>) -> Option<Range<usize>> {
    let name = el.value().name();
    let id = el.value().attr("id");
    let class = el.value().attr("class");
    let same = |n: &str, i: Option<&str>, c: Option<&str>| n == name && i == id && c == class;
    // How many elements like this one the parser created before it.
    let mut k = 0;
    let mut found = false;
    for node in doc.tree.nodes() {
        if node.id() == el.id() {
            found = true;
            break;
        }
        if let Node::Element(e) = node.value()
            && same(e.name(), e.attr("id"), e.attr("class"))
        {
            k += 1;
        }
    }
    if !found {
        return None;
    }
    let tags = scan(source);
    let (open_at, open) = tags
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.closing && same(&t.name, t.id.as_deref(), t.class.as_deref()))
        .nth(k)?;
    if VOID.contains(&name) {
        return Some(open.end..open.end);
    }
    let mut depth = 1usize;
    for t in &tags[open_at + 1..] {
        if t.name != name {
            continue;
        }
        if t.closing {
            depth -= 1;
            if depth == 0 {
                let range = open.end..t.start;
                return agrees(&source[range.clone()], el).then_some(range);
            }
        } else {
            depth += 1;
        }
    }
    None
}

/// Whether the slice reads the same as the parsed element.
fn agrees(slice: &str, el: ElementRef<'_>) -> bool {
    crate::text::html::to_text(slice) == crate::text::html::to_text(&el.inner_html())
}

/// Every start and end tag of `source`, skipping comments, doctypes and raw-text content.
fn scan(source: &str) -> Vec<SourceTag> {
    let b = source.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'<') {
        i += p;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = find(b, i + 4, b"-->").map_or(b.len(), |e| e + 3);
        } else if rest.len() > 1 && (rest[1] == b'!' || rest[1] == b'?') {
            i = find(b, i + 1, b">").map_or(b.len(), |e| e + 1);
        } else if rest.len() > 2 && rest[1] == b'/' && rest[2].is_ascii_alphabetic() {
            let (name, after) = tag_name(b, i + 2);
            let end = find(b, after, b">").map_or(b.len(), |e| e + 1);
            tags.push(SourceTag {
                name,
                start: i,
                end,
                closing: true,
                id: None,
                class: None,
            });
            i = end;
        } else if rest.len() > 1 && rest[1].is_ascii_alphabetic() {
            let tag = start_tag(source, i);
            i = tag.end;
            if RAW_TEXT.contains(&tag.name.as_str()) {
                let close = format!("</{}", tag.name);
                i = find_ascii_ci(b, i, close.as_bytes()).unwrap_or(b.len());
            }
            tags.push(tag);
        } else {
            i += 1;
        }
    }
    tags
}

fn tag_name(b: &[u8], from: usize) -> (String, usize) {
    let end = b[from..]
        .iter()
        .position(|c| c.is_ascii_whitespace() || *c == b'/' || *c == b'>')
        .map_or(b.len(), |p| from + p);
    (
        String::from_utf8_lossy(&b[from..end]).to_ascii_lowercase(),
        end,
    )
}

/// Parses the start tag at `at` (`<` followed by a letter), keeping `id` and `class`.
fn start_tag(source: &str, at: usize) -> SourceTag {
    let b = source.as_bytes();
    let (name, mut j) = tag_name(b, at + 1);
    let mut id = None;
    let mut class = None;
    let end = loop {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() {
            break b.len();
        }
        match b[j] {
            b'>' => break j + 1,
            b'/' => {
                j += 1;
                continue;
            }
            _ => {}
        }
        let name_start = j;
        while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        if j == name_start {
            j += 1;
            continue;
        }
        let attr = source[name_start..j].to_ascii_lowercase();
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value = String::new();
        if b.get(j) == Some(&b'=') {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => {
                    let close = b[j + 1..]
                        .iter()
                        .position(|&c| c == q)
                        .map_or(b.len(), |p| j + 1 + p);
                    value = source[j + 1..close].to_string();
                    j = (close + 1).min(b.len());
                }
                _ => {
                    let v_start = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    value = source[v_start..j].to_string();
                }
            }
        }
        // The parser keeps the first of repeated attributes.
        match attr.as_str() {
            "id" if id.is_none() => id = Some(decode_entities(&value)),
            "class" if class.is_none() => class = Some(decode_entities(&value)),
            _ => {}
        }
    };
    SourceTag {
        name,
        start: at,
        end,
        closing: false,
        id,
        class,
    }
}

/// The character references that appear in `id` and `class` values in practice.
fn decode_entities(v: &str) -> String {
    if !v.contains('&') {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let Some(semi) = rest.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Selector;

    fn slice(page: &str, css: &str) -> Option<String> {
        let doc = Html::parse_document(page);
        let el = doc.select(&Selector::parse(css).unwrap()).next().unwrap();
        inner_span(page, &doc, el).map(|r| page[r].to_string())
    }

    #[test]
    fn word_pasted_markup_comes_back_byte_for_byte() {
        let body = "<div class=ExternalClass1><P style='margin:6pt 0in'><SPAN lang=VI>Đối&nbsp;với<o:p></o:p></SPAN></P>\n<div><div>x</div></div><img src=/a.jpg></div>";
        let page = format!(
            "<!DOCTYPE html><html><head><title>t <div class=\"news-content\"></title><script>if (a<b) document.write('<div class=\"news-content\">')</script></head><body><!-- <div class=\"news-content\"> --><div id=ribbon><div class=\"news-content\">decoy</div></div><div class=\"news-content\" >{body}</div></body></html>"
        );
        let doc = Html::parse_document(&page);
        let sel = Selector::parse("div.news-content").unwrap();
        let second = doc.select(&sel).nth(1).unwrap();
        let r = inner_span(&page, &doc, second).unwrap();
        assert_eq!(&page[r], body);
        assert_ne!(second.inner_html(), body, "re-serialising would change it");
        assert_eq!(
            slice(&page, "#ribbon").unwrap(),
            "<div class=\"news-content\">decoy</div>"
        );
    }

    #[test]
    fn entities_in_class_values_and_repeated_attributes() {
        let page =
            "<body><p class=\"a&amp;b\" class=\"x\">one</p><p class='a&#38;b'>two &lt;3</p></body>";
        let doc = Html::parse_document(page);
        let sel = Selector::parse("p").unwrap();
        let second = doc.select(&sel).nth(1).unwrap();
        assert_eq!(&page[inner_span(page, &doc, second).unwrap()], "two &lt;3");
    }

    #[test]
    fn an_element_without_an_end_tag_is_not_guessed() {
        // The first <p> ends implicitly; the slice would swallow the second one.
        let page = "<body><div class=c><p class=x>one<p class=y>two</div></body>";
        assert_eq!(slice(page, "p.x"), None);
        assert_eq!(
            slice(page, "div.c").as_deref(),
            Some("<p class=x>one<p class=y>two")
        );
    }

    #[test]
    fn void_elements_have_empty_content() {
        assert_eq!(
            slice("<body><img class=i src=a.jpg></body>", "img.i").as_deref(),
            Some("")
        );
    }
}
