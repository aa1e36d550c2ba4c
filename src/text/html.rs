//! Plain text and image references derived from article HTML.
//!
//! The body is archived exactly as served; the text here is a derived convenience for
//! search and import, built by walking the parsed DOM: block elements end lines, runs of
//! whitespace and NBSP collapse, script and style vanish, and the result is NFC.

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

/// The readable text of an HTML fragment: one line per block, NFC, trimmed.
pub fn to_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut raw = String::new();
    walk(doc.root_element(), &mut raw);
    raw.lines()
        .map(super::clean_line)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn walk(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => out.push_str(&t.replace('\n', " ")),
            Node::Element(e) => {
                let name = e.name();
                if SKIPPED_ELEMENTS.contains(&name) {
                    continue;
                }
                if let Some(child_el) = ElementRef::wrap(child) {
                    walk(child_el, out);
                }
                if BLOCK_ELEMENTS.contains(&name) {
                    out.push('\n');
                } else if name == "td" || name == "th" {
                    out.push(' ');
                }
            }
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
    let doc = Html::parse_fragment(html);
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
    fn image_sources_in_order() {
        let html = r#"<p><img src="/PublishingImages/a.jpg" alt="a"><IMG SRC='https://baolongan.vn/b.jpg'><img src="data:image/png;base64,AA"></p>"#;
        assert_eq!(
            image_sources(html),
            vec!["/PublishingImages/a.jpg", "https://baolongan.vn/b.jpg"]
        );
    }
}
