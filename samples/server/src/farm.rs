//! Other farms of the same content type, made from the Long An sample.
//!
//! A mapping written against one portal meets others that differ in ways the content type
//! does not fix: the site's language names SharePoint's built-in fields ("Người tạo" for
//! "Created By"), the news list has another title, and the columns were created through
//! another UI, so their internal names are escaped and cut differently. [`Farm::Vietnamese`]
//! serves the same items with all three differences, so that sharc's resolution by display
//! name, by fixed built-in internal name and `--list` can be tested against a real server.

use serde_json::{Map, Value};

use super::data::{List, Portal};

/// Which farm the sample portal answers as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Farm {
    /// The Long An portal as sampled: an English-language farm (built-in fields "Created By",
    /// "Modified", "Approval Status"), the list "Tin tức sự kiện", columns created in the
    /// classic UI (`Ng_x00e0_y_x0020_xu_x1ea5_t_x002`).
    #[default]
    LongAn,
    /// Another provincial portal of the same content type on a Vietnamese-language farm: the
    /// built-in fields show Vietnamese names ("Người tạo", "Người sửa", "Đã tạo",
    /// "Đã sửa đổi", "Trạng thái Phê duyệt", "Tệp đính kèm"), the news list is titled
    /// "Tin tức", and the custom columns have other internal names: most were created in
    /// the modern UI, which drops spaces before escaping (`Ng_x00e0_yxu_x1ea5_tb_x1ea3_n`),
    /// "Hình ảnh" was created as "Ảnh đại diện" and renamed (`_x1ea2_nh_x0020__x0111__x1ea1_i_`,
    /// REST name `OData__x1ea2_nh_x0020__x0111__x1ea1_i_`), one has upper-case escapes, one an
    /// ASCII name of its own. The items, users, files and list GUIDs are the Long An ones.
    Vietnamese,
}

/// The Vietnamese display names of built-in fields, by internal name.
const VIETNAMESE_BUILTINS: &[(&str, &str)] = &[
    ("ContentType", "Loại Nội dung"),
    ("ContentTypeId", "ID Loại Nội dung"),
    ("Created", "Đã tạo"),
    ("Modified", "Đã sửa đổi"),
    ("Author", "Người tạo"),
    ("Editor", "Người sửa"),
    ("_ModerationStatus", "Trạng thái Phê duyệt"),
    ("Attachments", "Tệp đính kèm"),
    ("_UIVersionString", "Phiên bản"),
];

/// The news list's custom columns on the Vietnamese farm: Long An internal name → this farm's.
const VIETNAMESE_COLUMNS: &[(&str, &str)] = &[
    (
        "H_x00ec_nh_x0020__x1ea3_nh",
        "_x1ea2_nh_x0020__x0111__x1ea1_i_",
    ),
    (
        "H_x00ec_nh_x0020__x1ea3_nh_x0020",
        "H_x00ec_nh_x1ea3_nhm_x00f4_t_x1e",
    ),
    ("T_x00f3_m_x0020_t_x1eaf_t", "T_x00f3_mt_x1eaf_t"),
    ("N_x1ed9_i_x0020_dung", "N_x1ed9_idung"),
    (
        "Link_x0020_thay_x0020_th_x1ebf__",
        "Linkthayth_x1ebf_n_x1ed9_idung",
    ),
    (
        "Ng_x00e0_y_x0020_xu_x1ea5_t_x002",
        "Ng_x00e0_yxu_x1ea5_tb_x1ea3_n",
    ),
    ("Tin_x0020_n_x1ed5_i_x0020_b_x1ea", "Tinn_x1ed5_ib_x1ead_t"),
    ("T_x00e1_c_x0020_gi_x1ea3_", "T_x00E1_cgi_x1EA3_"),
    ("Ph_x00e2_n_x0020_lo_x1ea1_i", "Ph_x00e2_nlo_x1ea1_i"),
    (
        "Lo_x1ea1_i_x0020_b_x00e0_i_x0020",
        "Lo_x1ea1_ib_x00e0_ivi_x1ebf_t",
    ),
    ("S_x1ed1__x0020_Trang", "S_x1ed1_Trang"),
    ("S_x1ed1__x0020__x1ea2_nh", "S_x1ed1__x1ea2_nh"),
    ("Tr_x1ea1_ng_x0020_th_x00e1_i", "Tr_x1ea1_ngth_x00e1_i"),
    ("LichSu", "LichSuBaiViet"),
    (
        "S_x1ed1__x0020_l_x01b0__x1ee3_t_",
        "S_x1ed1_l_x01b0__x1ee3_tng_x01b0",
    ),
];

/// The news list's URL name and its title on the Vietnamese farm.
const NEWS_LIST: (&str, &str) = ("TinTucSuKien", "Tin tức");

impl Farm {
    /// The portal as this farm serves it.
    pub fn apply(self, portal: Portal) -> Portal {
        match self {
            Farm::LongAn => portal,
            Farm::Vietnamese => vietnamese(portal),
        }
    }
}

fn vietnamese(mut portal: Portal) -> Portal {
    portal.site.title = "Sở Tư pháp (cổng tiếng Việt)".to_owned();
    portal.site.language = 1066;
    for list in &mut portal.lists {
        if list.def.url_name.eq_ignore_ascii_case(NEWS_LIST.0) {
            list.def.title = NEWS_LIST.1.to_owned();
            rename_columns(list);
        }
        for field in &mut list.fields {
            if let Some((_, title)) = VIETNAMESE_BUILTINS
                .iter()
                .find(|(internal, _)| *internal == field.internal_name)
            {
                field.title = (*title).to_owned();
                field.raw.insert("Title".to_owned(), Value::from(*title));
            }
        }
    }
    portal
}

/// REST's name for an internal name: `OData_` before a leading `_`.
fn rest_name(internal: &str) -> String {
    if internal.starts_with('_') {
        format!("OData_{internal}")
    } else {
        internal.to_owned()
    }
}

fn rename_columns(list: &mut List) {
    for (old, new) in VIETNAMESE_COLUMNS {
        let Some(field) = list.fields.iter_mut().find(|f| f.internal_name == *old) else {
            continue;
        };
        let (old_key, new_key) = (field.entity_property_name.clone(), rest_name(new));
        field.internal_name = (*new).to_owned();
        field.entity_property_name = new_key.clone();
        for k in ["InternalName", "StaticName"] {
            field.raw.insert(k.to_owned(), Value::from(*new));
        }
        field.raw.insert(
            "EntityPropertyName".to_owned(),
            Value::from(new_key.clone()),
        );
        for ct in &mut list.def.content_types {
            for name in ct.fields.iter_mut().flatten() {
                if name == old {
                    *name = (*new).to_owned();
                }
            }
        }
        for item in list.items.values_mut() {
            for suffix in ["", "Id", "StringId"] {
                let (from, to) = (format!("{old_key}{suffix}"), format!("{new_key}{suffix}"));
                rename_key(&mut item.values, &from, &to);
                for k in &mut item.order {
                    if *k == from {
                        k.clone_from(&to);
                    }
                }
            }
        }
    }
}

fn rename_key(values: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = values.remove(from) {
        values.insert(to.to_owned(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_internal_names_are_as_long_as_sharepoint_allows() {
        for (_, new) in VIETNAMESE_COLUMNS {
            assert!(new.len() <= 32, "{new}");
        }
    }

    #[test]
    fn the_vietnamese_farm_renames_fields_keys_and_the_list() {
        let Ok(portal) = Portal::built_in() else {
            panic!("the built-in sample loads")
        };
        let farm = Farm::Vietnamese.apply(portal);
        let Some(list) = farm.list_by_title("Tin tức") else {
            panic!("the news list is titled Tin tức")
        };
        let author = list.fields.iter().find(|f| f.internal_name == "Author");
        assert_eq!(author.map(|f| f.title.as_str()), Some("Người tạo"));
        let image = list.fields.iter().find(|f| f.title == "Hình ảnh");
        assert_eq!(
            image.map(|f| f.entity_property_name.as_str()),
            Some("OData__x1ea2_nh_x0020__x0111__x1ea1_i_")
        );
        let Some(item) = list.items.get(&1) else {
            panic!("item 1")
        };
        assert!(item.values.contains_key("Ph_x00e2_nlo_x1ea1_iId"));
        assert!(!item.values.contains_key("Ph_x00e2_n_x0020_lo_x1ea1_iId"));
        assert!(item.values.contains_key("Ng_x00e0_yxu_x1ea5_tb_x1ea3_n"));
        assert!(item.order.iter().any(|k| k == "LichSuBaiViet"));
    }
}
