//! Internal field names: SharePoint's `_xHHHH_` escaping, the 32-character cut, `OData_`.
//!
//! A display name such as "Ngày xuất bản" becomes the internal name
//! `Ng_x00e0_y_x0020_xu_x1ea5_t_x002` (escaped, then cut at 32 characters even inside an
//! escape), and REST exposes names that start with `_` as `OData_` + name. The display name
//! cannot be recovered from a cut name, so sharc resolves fields through `/fields` and uses
//! these functions only to explain and to suggest.

/// The escaped form of a display name, before any cut: every UTF-16 code unit outside
/// `[A-Za-z0-9_]` becomes `_xhhhh_`.
pub fn escape(display: &str) -> String {
    let mut out = String::new();
    for ch in display.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            out.push(ch);
        } else {
            let mut units = [0u16; 2];
            for u in ch.encode_utf16(&mut units) {
                out.push_str(&format!("_x{u:04x}_"));
            }
        }
    }
    out
}

/// The internal name a list column created in the UI gets: escaped, cut at 32 characters.
pub fn internal_name_for(display: &str) -> String {
    escape(display).chars().take(32).collect()
}

/// The REST (entity property) name of an internal name: `OData_` + name when it starts with `_`.
pub fn entity_property_name(internal: &str) -> String {
    if internal.starts_with('_') {
        format!("OData_{internal}")
    } else {
        internal.to_string()
    }
}

/// Decodes `_xHHHH_` escapes (hex in either case), pairing UTF-16 surrogates, and keeps a
/// dangling partial escape at the end of a cut name as `…`.
pub fn unescape(name: &str) -> String {
    let name = name.strip_prefix("OData_").unwrap_or(name);
    let bytes = name.as_bytes();
    let mut units: Vec<u16> = Vec::new();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' && bytes.get(i + 1) == Some(&b'x') {
            if let Some(hex) = name.get(i + 2..i + 6)
                && bytes.get(i + 6) == Some(&b'_')
                && let Ok(u) = u16::from_str_radix(hex, 16)
            {
                units.push(u);
                i += 7;
                continue;
            }
            if is_partial_escape(&name[i..]) {
                flush(&mut units, &mut out);
                out.push('…');
                break;
            }
        }
        flush(&mut units, &mut out);
        // Safe: we only step over ASCII bytes here or whole chars below.
        let ch = name[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
    flush(&mut units, &mut out);
    out
}

fn is_partial_escape(rest: &str) -> bool {
    rest.len() < 7 && rest[2..].chars().all(|c| c.is_ascii_hexdigit())
}

fn flush(units: &mut Vec<u16>, out: &mut String) {
    if !units.is_empty() {
        out.extend(char::decode_utf16(units.drain(..)).map(|r| r.unwrap_or('\u{fffd}')));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_display_names_escape_and_cut_like_sharepoint() {
        assert_eq!(
            internal_name_for("Tin nổi bật"),
            "Tin_x0020_n_x1ed5_i_x0020_b_x1ea"
        );
        assert_eq!(
            internal_name_for("Ngày xuất bản"),
            "Ng_x00e0_y_x0020_xu_x1ea5_t_x002"
        );
        assert_eq!(internal_name_for("Tóm tắt"), "T_x00f3_m_x0020_t_x1eaf_t");
        assert_eq!(
            internal_name_for("Số lượt người đọc"),
            "S_x1ed1__x0020_l_x01b0__x1ee3_t_"
        );
        assert_eq!(
            internal_name_for("Reason for not using Sharepoint"),
            "Reason_x0020_for_x0020_not_x0020"
        );
    }

    #[test]
    fn odata_prefix_for_leading_underscore() {
        assert_eq!(
            entity_property_name("_ModerationStatus"),
            "OData__ModerationStatus"
        );
        assert_eq!(entity_property_name("Title"), "Title");
    }

    #[test]
    fn unescape_round_trips_and_tolerates_cut_escapes() {
        assert_eq!(unescape("T_x00f3_m_x0020_t_x1eaf_t"), "Tóm tắt");
        assert_eq!(unescape("List2_x003A_Title"), "List2:Title");
        assert_eq!(unescape("Tin_x0020_n_x1ed5_i_x0020_b_x1ea"), "Tin nổi b…");
        assert_eq!(unescape("Ng_x00e0_y_x0020_xu_x1ea5_t_x002"), "Ngày xuất…");
        assert_eq!(unescape("OData__ModerationStatus"), "_ModerationStatus");
        assert_eq!(unescape("LichSu"), "LichSu");
    }
}
