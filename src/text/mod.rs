//! Text as the portal serves it, and text derived from it.
//!
//! Raw values (HTML bodies, titles as typed) are kept byte for byte in records; everything
//! sharc derives from them — plain text, names, dates with an offset — is normalised here, in
//! one place, to NFC. Vietnamese portals mix NFC, NFD and the "precomposed vowel + combining
//! tone" form of Windows code page 1258, so derived text must never depend on which one a
//! page happened to use.

pub mod charset;
pub mod dates;
pub mod html;
pub mod vietnamese;

use unicode_normalization::UnicodeNormalization;

/// The NFC form of `s`.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// NFC, whitespace runs (including NBSP and zero-width spaces) folded to single spaces,
/// trimmed. For comparing and displaying short values such as titles and names.
pub fn clean_line(s: &str) -> String {
    fold_chars(s.nfc(), s.len())
}

/// Whitespace runs (including NBSP) folded to single spaces, zero-width spaces dropped,
/// trimmed — but the code points otherwise kept as they are (no normalisation), so a value
/// read from a page can still be compared with its NFC form.
pub fn fold_line(s: &str) -> String {
    fold_chars(s.chars(), s.len())
}

fn fold_chars(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pending_space = false;
    for ch in chars {
        if ch == '\u{200b}' || ch == '\u{feff}' {
            continue;
        }
        if ch.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(ch);
    }
    out
}

/// A key for matching names the way a person reads them: NFC, whitespace folded, lowercase.
pub fn match_key(s: &str) -> String {
    clean_line(s).to_lowercase()
}

/// [`match_key`] without diacritics (`đ` read as `d`): for suggesting a name typed without its
/// accents ("Ngay xuat ban" for "Ngày xuất bản"), never for matching one.
pub fn fold_key(s: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    match_key(s)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_and_nfc_titles_give_the_same_derived_text() {
        let nfc_title = "Hội nghị tổng kết công tác tư pháp";
        let nfd_title: String =
            unicode_normalization::UnicodeNormalization::nfd(nfc_title).collect();
        assert_ne!(nfc_title, nfd_title);
        assert_eq!(nfc(&nfd_title), nfc_title);
        assert_eq!(clean_line(&nfd_title), nfc_title);
    }

    #[test]
    fn clean_line_folds_nbsp_and_zero_width_space() {
        assert_eq!(
            clean_line("  Lượt\u{a0}người\u{200b} xem:\u{a0}\u{a0} 20 "),
            "Lượt người xem: 20"
        );
    }

    #[test]
    fn match_key_ignores_case_and_form() {
        assert_eq!(match_key("Số Trang"), match_key("số  trang"));
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Người tạo").collect();
        assert_eq!(match_key(&nfd), match_key("người tạo"));
    }

    #[test]
    fn fold_key_drops_accents_and_reads_d_bar_as_d() {
        assert_eq!(fold_key("Ngày xuất bản"), "ngay xuat ban");
        assert_eq!(fold_key("Đã sửa đổi"), "da sua doi");
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("Tiêu đề").collect();
        assert_eq!(fold_key(&nfd), "tieu de");
    }
}
