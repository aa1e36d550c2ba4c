//! Plain text and image references derived from article HTML.
//!
//! The body is archived exactly as served; the text here is a derived convenience for
//! search and import, built by walking the parsed DOM: block elements end lines, runs of
//! whitespace and NBSP collapse, script and style vanish, and the result is NFC. The walk
//! keeps its place in the tree itself instead of recursing, so no nesting depth a server
//! sends can overflow the stack, and fragments are parsed with their nesting bounded
//! ([`MAX_PARSE_DEPTH`]), so no depth can make parsing take minutes.

use scraper::{ElementRef, Html, Node, Selector};

/// Elements after which a line ends in the derived text.
const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
];

/// Elements whose content is never text.
const SKIPPED_ELEMENTS: &[&str] = &["script", "style", "noscript", "template", "head"];

/// Elements nested deeper than this are not given to the parser as elements (their text
/// is kept): browsers' parsers stop nesting at 512 too. The HTML parser checks the stack of
/// open elements on every tag, so its time grows with the square of the depth; 200,000
/// nested `<div>`s would take it tens of minutes.
pub const MAX_PARSE_DEPTH: usize = 512;

/// Elements that never have content, so never nest.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements whose end tag is often left out; not counted as nesting, so a list of unclosed
/// `<li>`s or `<p>`s never looks deep.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody", "tfoot",
    "colgroup", "caption", "rt", "rp",
];

/// Elements whose content is raw text, not markup.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "noembed", "noframes",
];

/// Parses an HTML fragment, with elements nested deeper than [`MAX_PARSE_DEPTH`] flattened
/// (their tags left out, their text kept) so that parsing stays linear whatever a server
/// sends. Markup within the bound parses exactly as it is.
pub fn parse_fragment(html: &str) -> Html {
    Html::parse_fragment(&bounded_depth(html))
}

/// `html` without the start and end tags of elements nested deeper than
/// [`MAX_PARSE_DEPTH`]; borrowed as it is when there are none. A linear scan, tolerant of
/// anything: comments, quoted `>` in attributes, raw-text elements, stray end tags.
fn bounded_depth(html: &str) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let mut cut: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut depth, mut dropped) = (0usize, 0usize);
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|&c| c == b'<').map(|p| p + i) {
        let rest = &b[at..];
        if rest.starts_with(b"<!--") {
            i = find(b, at + 4, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_at = at + 1 + usize::from(closing);
        if !b.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            i = at + 1;
            continue;
        }
        let name_end = b[name_at..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map_or(b.len(), |p| p + name_at);
        let name = html[name_at..name_end].to_ascii_lowercase();
        let end = tag_end(b, name_end);
        // Raw-text elements hold no elements, so they are left whole at any depth.
        let counted = ![VOID_ELEMENTS, OPTIONAL_END, RAW_TEXT]
            .iter()
            .any(|names| names.contains(&name.as_str()));
        if closing {
            if counted && dropped > 0 {
                dropped -= 1;
                cut.push(at..end);
            } else if counted {
                depth = depth.saturating_sub(1);
            }
        } else if counted && !b[..end].ends_with(b"/>") {
            if depth >= MAX_PARSE_DEPTH {
                dropped += 1;
                cut.push(at..end);
            } else {
                depth += 1;
            }
        }
        i = end;
        if !closing && RAW_TEXT.contains(&name.as_str()) {
            let close = format!("</{name}");
            i = find_ascii_ci(b, i, close.as_bytes()).unwrap_or(b.len());
        }
    }
    if cut.is_empty() {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for r in cut {
        out.push_str(&html[from..r.start]);
        from = r.end;
    }
    out.push_str(&html[from..]);
    std::borrow::Cow::Owned(out)
}

/// Where a tag whose name ends at `from` ends: after its `>`, quoted values passed over.
fn tag_end(b: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate().skip(from) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'>') => return i + 1,
            (None, _) => {}
        }
    }
    b.len()
}

/// The first `needle` in `b` at or after `from`.
pub(crate) fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Like [`find`], ignoring ASCII case.
pub(crate) fn find_ascii_ci(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// The readable text of an HTML fragment: one line per block, NFC, trimmed.
pub fn to_text(html: &str) -> String {
    let doc = parse_fragment(html);
    let mut raw = String::new();
    walk(doc.root_element(), &mut raw);
    raw.lines()
        .map(super::clean_line)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Appends the text below `el` to `out`, in document order. The walk keeps its own stack
/// of nodes still to visit (and of elements to close) instead of recursing, so a body
/// nested 200,000 elements deep costs heap, not stack.
fn walk(el: ElementRef<'_>, out: &mut String) {
    // (node, whether it is being closed: its children are done).
    let mut stack: Vec<_> = el.children().rev().map(|c| (c, false)).collect();
    while let Some((node, closing)) = stack.pop() {
        match node.value() {
            Node::Element(e) if closing => {
                let name = e.name();
                if BLOCK_ELEMENTS.contains(&name) {
                    out.push('\n');
                } else if name == "td" || name == "th" {
                    out.push(' ');
                }
            }
            Node::Element(e) if !SKIPPED_ELEMENTS.contains(&e.name()) => {
                stack.push((node, true));
                stack.extend(node.children().rev().map(|c| (c, false)));
            }
            Node::Text(t) => out.push_str(&t.replace('\n', " ")),
            _ => {}
        }
    }
}

/// The readable text of one element of a parsed page: one line per block, whitespace folded,
/// trimmed, but not normalised (see [`super::fold_line`]); conversions make it NFC.
pub fn element_text(el: ElementRef<'_>) -> String {
    let mut raw = String::new();
    walk(el, &mut raw);
    raw.lines()
        .map(super::fold_line)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `src` of every `<img>` in an HTML fragment, in document order, as written.
pub fn image_sources(html: &str) -> Vec<String> {
    let doc = parse_fragment(html);
    let Ok(sel) = Selector::parse("img[src]") else {
        return Vec::new();
    };
    doc.select(&sel)
        .filter_map(|img| img.value().attr("src"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && !s.starts_with("data:"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_pasted_html_becomes_lines_of_nfc_text() {
        let html = "<div class=\"ExternalClassF87A\"><p style=\"margin:6pt 0in\"><span>Đối với&nbsp;Thủ trưởng</span><span> các cơ quan</span></p>\
                    <p><span>-&nbsp;Tiếp tục\u{200b} quán triệt</span></p><script>var x=1;</script></div>";
        assert_eq!(
            to_text(html),
            "Đối với Thủ trưởng các cơ quan\n- Tiếp tục quán triệt"
        );
    }

    #[test]
    fn nfd_body_gives_nfc_text() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Nội dung").collect();
        assert_eq!(to_text(&format!("<p>{nfd}</p>")), "Nội dung");
    }

    #[test]
    fn element_text_keeps_code_points_and_breaks_lines() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Lịch sử").collect();
        let doc = Html::parse_fragment(&format!(
            "<table><tr><td>\n  <div>{nfd}:&nbsp; a<br>b</div><!-- FieldName=\"x\" -->\n</td></tr></table>"
        ));
        let td = doc.select(&Selector::parse("td").unwrap()).next().unwrap();
        assert_eq!(element_text(td), format!("{nfd}: a\nb"));
    }

    #[test]
    fn deeply_nested_markup_is_walked_without_recursion() {
        // Deep enough to overflow a test thread's 2 MiB stack in a recursive walk, shallow
        // enough for the parser's depth-quadratic checks to stay quick.
        const DEPTH: usize = 5_000;
        let html = format!(
            "{}sâu<script>x</script>{}",
            "<div>".repeat(DEPTH),
            "</div>".repeat(DEPTH)
        );
        // Parsed without the depth bound, as whole pages are, so the tree really is deep.
        let doc = Html::parse_fragment(&html);
        assert_eq!(element_text(doc.root_element()), "sâu");
    }

    #[test]
    fn nesting_past_the_bound_is_flattened_and_its_text_and_images_kept() {
        let depth = MAX_PARSE_DEPTH * 4;
        let html = format!(
            "<p>{}sâu <img src=\"/a.png\"><!-- </div> --><script>if (a<b) {{}}</script><b title='>'>đậm</b>{}</p><p>sau</p>",
            "<div class=\"x>\">".repeat(depth),
            "</div>".repeat(depth)
        );
        let flat = bounded_depth(&html);
        assert_eq!(flat.matches("<div").count(), MAX_PARSE_DEPTH);
        assert_eq!(
            flat.matches("</div>").count(),
            MAX_PARSE_DEPTH + 1,
            "the comment's stays"
        );
        assert_eq!(to_text(&html), "sâu đậm\nsau");
        assert_eq!(image_sources(&html), ["/a.png"]);
    }

    #[test]
    fn markup_within_the_bound_is_parsed_as_it_is() {
        let html = "<ul><li>a<li>b</ul><p>x<p>y<div><span>z</span></div></p><br/><img src=x>";
        assert!(matches!(bounded_depth(html), std::borrow::Cow::Borrowed(_)));
        let deep = format!(
            "{}t{}",
            "<span>".repeat(MAX_PARSE_DEPTH),
            "</span>".repeat(MAX_PARSE_DEPTH)
        );
        assert!(matches!(
            bounded_depth(&deep),
            std::borrow::Cow::Borrowed(_)
        ));
        let unclosed = "<li>x".repeat(MAX_PARSE_DEPTH * 2);
        assert!(matches!(
            bounded_depth(&unclosed),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn image_sources_in_order() {
        let html = r#"<p><img src="/PublishingImages/a.jpg" alt="a"><IMG SRC='https://baolongan.vn/b.jpg'><img src="data:image/png;base64,AA"></p>"#;
        assert_eq!(
            image_sources(html),
            vec!["/PublishingImages/a.jpg", "https://baolongan.vn/b.jpg"]
        );
    }
}
