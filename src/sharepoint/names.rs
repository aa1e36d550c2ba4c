//! Internal field names: SharePoint's `_xHHHH_` escaping, the 32-character cut, `OData_`.
//!
//! A display name such as "Ngày xuất bản" becomes the internal name
//! `Ng_x00e0_y_x0020_xu_x1ea5_t_x002` (escaped, then cut at 32 characters even inside an
//! escape), and REST exposes names that start with `_` as `OData_` + name. The display name
//! cannot be recovered from a cut name, so sharc resolves fields through `/fields` and uses
//! these functions only to explain and to suggest. Inside `FieldValuesAsText`, `FieldValuesAsHtml`
//! and item versions every `_` of a name is written once more as `_x005f_` ([`undouble`]).

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

/// The internal name a column gets from SharePoint Online's modern UI, which drops the spaces
/// before escaping: "Ngày xuất bản" becomes `Ng_x00e0_yxu_x1ea5_tb_x1ea3_n`.
pub fn internal_name_without_spaces(display: &str) -> String {
    let compact: String = display.chars().filter(|c| !c.is_whitespace()).collect();
    internal_name_for(&compact)
}

/// Whether `name` (an internal name, or its REST form) is as long as SharePoint lets a list
/// column's internal name be, so that the display name it came from may have been longer.
pub fn may_be_cut(name: &str) -> bool {
    name.strip_prefix("OData_").unwrap_or(name).chars().count() == 32
}

/// Undoes the second escaping of `FieldValuesAsText`/`FieldValuesAsHtml` keys and item
/// versions, where every `_` of the name is written `_x005f_`:
/// `OData__x005f_ModerationStatus` becomes `OData__ModerationStatus`.
pub fn undouble(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(at) = rest.find('_') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match tail.get(..7) {
            Some(esc) if esc.eq_ignore_ascii_case("_x005f_") => {
                out.push('_');
                rest = &tail[7..];
            }
            _ => {
                out.push('_');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The REST (entity property) name of an internal name: `OData_` + name when it starts with `_`.
pub fn entity_property_name(internal: &str) -> String {
    if internal.starts_with('_') {
        format!("OData_{internal}")
    } else {
        internal.to_string()
    }
}

/// Decodes `_xHHHH_` escapes (hex in either case), pairing UTF-16 surrogates, drops the
/// `OData_` prefix of a REST name, and shows a dangling partial escape at the end of a cut
/// name (`_x1ea`, or a lone `_` at the 32nd character) as `…`. The text is decoded as it was
/// typed, in whatever Unicode form; the caller normalises it for display.
pub fn unescape(name: &str) -> String {
    let name = name.strip_prefix("OData_").unwrap_or(name);
    let cut = may_be_cut(name);
    let bytes = name.as_bytes();
    let mut units: Vec<u16> = Vec::new();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' && bytes.get(i + 1) == Some(&b'x') {
            if let Some(hex) = name.get(i + 2..i + 6)
                && bytes.get(i + 6) == Some(&b'_')
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
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
        if cut && bytes[i] == b'_' && i + 1 == bytes.len() {
            flush(&mut units, &mut out);
            out.push('…');
            break;
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

    #[test]
    fn escaped_names_decode_with_either_hex_case() {
        assert_eq!(unescape("S_x1ed1__x0020_Trang"), "Số Trang");
        assert_eq!(unescape("S_X1ED1__x0020_Trang"), "S_X1ED1_ Trang");
        assert_eq!(unescape("S_x1ED1__x0020_Trang"), "Số Trang");
        assert_eq!(
            unescape("Link_x0020_thay_x0020_th_x1ebf__"),
            "Link thay thế…"
        );
        // Not an escape: kept as written.
        assert_eq!(unescape("a_x+123_b"), "a_x+123_b");
        assert_eq!(unescape("a_xzzzz_b"), "a_xzzzz_b");
        // A character outside the BMP is two escaped UTF-16 units.
        assert_eq!(escape("𝄞"), "_xd834__xdd1e_");
        assert_eq!(unescape("_xd834__xdd1e_"), "𝄞");
    }

    #[test]
    fn a_name_cut_at_32_inside_an_escape_ends_in_an_ellipsis() {
        for display in [
            "Tin nổi bật",
            "Ngày xuất bản",
            "Số lượt người đọc",
            "Ảnh đại diện",
            "Cơ quan ban hành",
            "Mô tả ảnh",
        ] {
            let internal = internal_name_for(display);
            assert_eq!(internal.len(), 32, "{display}: {internal}");
            let shown = unescape(&internal);
            assert!(shown.ends_with('…'), "{display}: {internal} → {shown}");
            let stem = shown.trim_end_matches('…');
            assert!(display.starts_with(stem), "{display}: {internal} → {shown}");
        }
        // `_x0020` without its closing `_`: cut one character short of a whole escape.
        assert_eq!(
            unescape("Reason_x0020_for_x0020_not_x0020"),
            "Reason for not…"
        );
        // The lone `_` that begins `_x0020_` at the 32nd character.
        assert_eq!(
            internal_name_for("Ảnh đại diện"),
            "_x1ea2_nh_x0020__x0111__x1ea1_i_"
        );
        assert_eq!(unescape("_x1ea2_nh_x0020__x0111__x1ea1_i_"), "Ảnh đại…");
        // A shorter name ending in `_` is not cut.
        assert_eq!(unescape("Ghi_"), "Ghi_");
    }

    #[test]
    fn odata_prefixed_names_decode_to_the_internal_name() {
        let internal = internal_name_for("Ảnh đại diện");
        let rest = entity_property_name(&internal);
        assert_eq!(rest, "OData__x1ea2_nh_x0020__x0111__x1ea1_i_");
        assert_eq!(unescape(&rest), unescape(&internal));
        assert_eq!(unescape("OData__UIVersionString"), "_UIVersionString");
        assert!(may_be_cut(&rest) && may_be_cut(&internal));
        assert!(!may_be_cut("OData__ModerationStatus"));
    }

    #[test]
    fn doubled_underscores_of_field_values_as_text_are_undone() {
        assert_eq!(
            undouble("OData__x005f_ModerationStatus"),
            "OData__ModerationStatus"
        );
        assert_eq!(undouble("Fran_x005f_x00e7_x005f_ais"), "Fran_x00e7_ais");
        assert_eq!(
            unescape(&undouble("Fran_x005f_x00e7_x005f_ais")),
            "Français"
        );
        assert_eq!(
            undouble("Ng_x005F_x00e0_x005F_y_x005f_x0020_x005f_xu"),
            "Ng_x00e0_y_x0020_xu"
        );
        assert_eq!(undouble("Title"), "Title");
        assert_eq!(undouble("a_b_"), "a_b_");
    }

    #[test]
    fn nfd_display_names_escape_to_other_internal_names() {
        use unicode_normalization::UnicodeNormalization;
        let nfc = "Tin nổi bật";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        // The combining marks are escaped one by one, so the name differs from the NFC one…
        assert_eq!(internal_name_for(&nfd), "Tin_x0020_no_x0302__x0309_i_x002");
        assert_ne!(internal_name_for(&nfd), internal_name_for(nfc));
        // …and decodes back to the NFD text, equal to the NFC name once normalised.
        let shown = unescape(&escape(&nfd));
        assert_eq!(shown, nfd);
        assert_eq!(shown.nfc().collect::<String>(), nfc);
        let cut: String = unescape(&internal_name_for(&nfd)).nfc().collect();
        assert_eq!(cut, "Tin nổi…");
    }

    #[test]
    fn the_modern_ui_drops_spaces_before_escaping() {
        assert_eq!(
            internal_name_without_spaces("Ngày xuất bản"),
            "Ng_x00e0_yxu_x1ea5_tb_x1ea3_n"
        );
        assert_eq!(
            internal_name_without_spaces("Lịch sử"),
            "L_x1ecb_chs_x1eed_"
        );
        assert_eq!(
            internal_name_without_spaces("Số lượt người đọc"),
            "S_x1ed1_l_x01b0__x1ee3_tng_x01b0"
        );
    }
}
