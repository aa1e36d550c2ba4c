//! Text from the farm made safe to print.
//!
//! Server error messages, list titles, file names and the manifests of a bag being verified
//! are untrusted: an escape sequence in any of them, printed raw, can clear a terminal,
//! rewrite its title or hide a line. Everything sharc prints to stdout or stderr that may
//! hold such text goes through [`safe`], which spells control characters out instead.

use std::borrow::Cow;

/// `text` with every control character spelled out: C0 controls (ESC and BEL among them)
/// and DEL as `\x1b`, C1 controls (such as the one-byte CSI, U+009B) as `\u{9b}`. Newlines
/// and tabs stay, so messages that sharc itself breaks into lines keep their shape.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Whether `c` must not reach a terminal raw.
fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_spelled_out() {
        assert_eq!(
            safe("\u{1b}[2J\u{1b}]0;owned\u{7}gone.pdf"),
            "\\x1b[2J\\x1b]0;owned\\x07gone.pdf"
        );
        assert_eq!(safe("a\u{9b}31mb\u{7f}\r"), "a\\u{9b}31mb\\x7f\\x0d");
    }

    #[test]
    fn ordinary_text_is_borrowed_as_it_is() {
        let text = "Tin tức mới\n\tbáo cáo.pdf";
        assert!(matches!(safe(text), Cow::Borrowed(t) if t == text));
    }
}
