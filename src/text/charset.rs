//! Decoding a page by the charset it declares.
//!
//! Most portal pages are UTF-8, but older Vietnamese pages declare windows-1258, whose tones
//! are combining marks, and a few declare nothing at all. A page is decoded the way a browser
//! decodes it (the WHATWG order): a byte-order mark wins, then the `charset` of the
//! `Content-Type` header, then a `<meta charset>` or `<meta http-equiv="Content-Type">` near
//! the top of the page, then the fallback the caller names (UTF-8 unless the mapping says
//! otherwise). The result is the page's text code point for code point — windows-1258 gives
//! base letters followed by combining tones, which is not NFC — so derived text must still be
//! normalised like any other.

use encoding_rs::{Encoding, UTF_8};

/// How far into a page a `<meta>` charset declaration is looked for. Browsers stop at 1024
/// bytes; SharePoint master pages put scripts and styles first, so sharc looks further.
const META_SCAN_BYTES: usize = 8192;

/// A decoded page.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// Whether some bytes were malformed and replaced with U+FFFD.
    pub had_errors: bool,
}

/// The encoding a charset label names (`utf-8`, `windows-1258`, `cp1258`, …), WHATWG rules.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().trim_matches(['"', '\'']).as_bytes())
}

/// Decodes `bytes` by BOM, then the `Content-Type` header's charset, then a `<meta>`
/// declaration, then `fallback` (UTF-8 when `None`).
pub fn decode_page(
    bytes: &[u8],
    content_type: Option<&str>,
    fallback: Option<&'static Encoding>,
) -> Decoded {
    let declared = content_type
        .and_then(charset_from_content_type)
        .or_else(|| charset_from_meta(bytes))
        .or(fallback)
        .unwrap_or(UTF_8);
    // `decode` lets a byte-order mark override the declared encoding, as browsers do.
    let (text, encoding, had_errors) = declared.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        had_errors,
    }
}

/// The encoding named by `charset=` in a `Content-Type` value.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("charset") {
            encoding_for_label(value)
        } else {
            None
        }
    })
}

/// The encoding a `<meta charset="…">` or `<meta http-equiv="Content-Type"
/// content="…; charset=…">` near the top of the page declares. A declared UTF-16 means UTF-8,
/// as in browsers: a page that can be scanned as ASCII is not UTF-16.
pub fn charset_from_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(META_SCAN_BYTES)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(at) = find(&lower[from..], b"<meta") {
        let start = from + at + b"<meta".len();
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        if let Some(enc) = charset_in_tag(&lower[start..end]) {
            return Some(enc.output_encoding());
        }
        from = end;
    }
    None
}

/// `charset` followed by `=` and a label, anywhere in a lowercased `<meta …>` tag.
fn charset_in_tag(tag: &[u8]) -> Option<&'static Encoding> {
    let mut from = 0;
    while let Some(at) = find(&tag[from..], b"charset") {
        let mut i = from + at + b"charset".len();
        from = i;
        while tag.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if tag.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while tag
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
        {
            i += 1;
        }
        let label_end = tag[i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || b"-_:.".contains(b)))
            .map_or(tag.len(), |p| i + p);
        if let Some(enc) = Encoding::for_label(&tag[i..label_end]) {
            return Some(enc);
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{WINDOWS_1252, WINDOWS_1258};

    /// "Việt Nam, Hồ Chí Minh, Thủ Đức" as windows-1258 writes it: tones are combining
    /// marks after a base letter (`ệ` = `ê` + U+0323), so the decoded text is not NFC.
    fn cp1258_sample() -> Vec<u8> {
        let recomposed: String = [
            "Vi",
            "\u{ea}\u{323}",
            "t Nam, H",
            "\u{f4}\u{300}",
            " Ch",
            "i\u{301}",
            " Minh, Th",
            "u\u{309}",
            " \u{110}",
            "\u{1b0}\u{301}",
            "c",
        ]
        .concat();
        assert_eq!(
            crate::text::nfc(&recomposed),
            "Việt Nam, Hồ Chí Minh, Thủ Đức",
            "the fixture spells the words"
        );
        let (bytes, _, unmappable) = WINDOWS_1258.encode(&recomposed);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn a_windows_1258_page_declared_in_meta_decodes_to_the_right_nfc_text() {
        let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\"></head><body>".to_vec();
        page.extend(cp1258_sample());
        page.extend(b"</body></html>");
        let d = decode_page(&page, Some("text/html"), None);
        assert_eq!(d.encoding, WINDOWS_1258);
        assert!(!d.had_errors);
        assert!(!unicode_normalization::is_nfc(&d.text));
        assert!(
            crate::text::nfc(&d.text).contains("Việt Nam, Hồ Chí Minh, Thủ Đức"),
            "{}",
            d.text
        );
    }

    #[test]
    fn the_header_wins_over_meta_and_a_bom_wins_over_both() {
        let page = b"<meta charset=\"utf-8\">caf\xe9";
        let d = decode_page(page, Some("text/html; charset=ISO-8859-1"), None);
        assert_eq!(d.encoding, WINDOWS_1252);
        assert!(d.text.ends_with("café"));
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend("Tiêu đề".as_bytes());
        let d = decode_page(&bom, Some("text/html; charset=windows-1258"), None);
        assert_eq!(d.encoding, UTF_8);
        assert_eq!(d.text, "Tiêu đề");
    }

    #[test]
    fn undeclared_pages_use_the_fallback_then_utf8() {
        let utf8 = "Lượt người xem".as_bytes();
        assert_eq!(decode_page(utf8, None, None).text, "Lượt người xem");
        let d = decode_page(&cp1258_sample(), Some("text/html"), Some(WINDOWS_1258));
        assert_eq!(d.encoding, WINDOWS_1258);
        let d = decode_page(b"caf\xe9", None, None);
        assert!(d.had_errors, "latin-1 read as UTF-8 is malformed");
    }

    #[test]
    fn meta_forms_and_labels() {
        assert_eq!(
            charset_from_meta(b"<META CHARSET='cp1258'>"),
            Some(WINDOWS_1258)
        );
        assert_eq!(charset_from_meta(b"<meta charset=utf-16le>"), Some(UTF_8));
        assert_eq!(charset_from_meta(b"<meta name=\"x\" content=\"y\">"), None);
        assert_eq!(encoding_for_label(" \"Windows-1258\" "), Some(WINDOWS_1258));
        assert_eq!(encoding_for_label("tcvn3"), None);
        assert_eq!(
            charset_from_content_type("text/html;charset=\"windows-1258\""),
            Some(WINDOWS_1258)
        );
    }
}
