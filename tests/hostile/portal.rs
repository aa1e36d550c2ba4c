//! A minimal SharePoint portal, as the shipped mapping (`mappings/tin-tuc-mo-rong.toml`)
//! needs it: the list "Tin tức sự kiện" with the fields and content type "Tin Tức Mở Rộng",
//! items in nometadata JSON, attachments and images, and the public list and article pages
//! the mapping's `[html]` section reads.

use serde_json::{Value, json};

/// The list's GUID.
pub const LIST_ID: &str = "3de2e36d-678f-459c-837a-2db7c83afd8b";
/// The content type "Tin Tức Mở Rộng".
pub const CT_ID: &str = "0x01006E47E7B937284B3B8725BBD974E8FC9B00CC6518B4E49E405B9034D6947D7D5C5E";
/// The list's title.
pub const LIST_TITLE: &str = "Tin tức sự kiện";

/// (display name, internal name, TypeAsString, FieldTypeKind) of every field the mapping names.
const FIELDS: &[(&str, &str, &str, u32)] = &[
    ("Tiêu đề", "Title", "Text", 2),
    ("Hình ảnh", "H_x00ec_nh_x0020__x1ea3_nh", "URL", 11),
    (
        "Hình ảnh mô tả",
        "H_x00ec_nh_x0020__x1ea3_nh_x0020",
        "Text",
        2,
    ),
    ("Tóm tắt", "T_x00f3_m_x0020_t_x1eaf_t", "Note", 3),
    ("Nội dung", "N_x1ed9_i_x0020_dung", "Note", 3),
    (
        "Link thay thế nội dung",
        "Link_x0020_thay_x0020_th_x1ebf__",
        "URL",
        11,
    ),
    (
        "Ngày xuất bản",
        "Ng_x00e0_y_x0020_xu_x1ea5_t_x002",
        "DateTime",
        4,
    ),
    (
        "Tin nổi bật",
        "Tin_x0020_n_x1ed5_i_x0020_b_x1ea",
        "Boolean",
        8,
    ),
    ("Tác giả", "T_x00e1_c_x0020_gi_x1ea3_", "Text", 2),
    ("Phân loại", "Ph_x00e2_n_x0020_lo_x1ea1_i", "LookupMulti", 7),
    (
        "Loại bài viết",
        "Lo_x1ea1_i_x0020_b_x00e0_i_x0020",
        "Choice",
        6,
    ),
    ("Số Trang", "S_x1ed1__x0020_Trang", "Number", 9),
    ("Số Ảnh", "S_x1ed1__x0020__x1ea2_nh", "Number", 9),
    ("Trạng thái", "Tr_x1ea1_ng_x0020_th_x00e1_i", "Choice", 6),
    ("Lịch sử", "LichSu", "Note", 3),
    (
        "Số lượt người đọc",
        "S_x1ed1__x0020_l_x01b0__x1ee3_t_",
        "Number",
        9,
    ),
    ("Approval Status", "_ModerationStatus", "ModStat", 23),
    ("Attachments", "Attachments", "Attachments", 19),
    ("ID", "ID", "Counter", 5),
    ("Content Type ID", "ContentTypeId", "ContentTypeId", 25),
    ("Created", "Created", "DateTime", 4),
    ("Modified", "Modified", "DateTime", 4),
    ("Created By", "Author", "User", 20),
    ("Modified By", "Editor", "User", 20),
];

/// `/_api/web`.
pub fn web(base: &str) -> Value {
    json!({
        "Id": "3269646b-18e8-41be-8ff6-de4010a6291c",
        "Title": "Sở Tư pháp tỉnh Long An",
        "ServerRelativeUrl": "/",
        "Url": base.trim_end_matches('/'),
        "Language": 1066,
        "UIVersion": 15
    })
}

/// `/_api/web/lists/getbytitle('…')`.
pub fn list(title: &str, item_count: usize) -> Value {
    json!({
        "Id": LIST_ID,
        "Title": title,
        "EntityTypeName": "TinTucSuKienList",
        "ItemCount": item_count,
        "BaseTemplate": 100,
        "Hidden": false
    })
}

/// `…/fields`.
pub fn fields() -> Value {
    let value: Vec<Value> = FIELDS
        .iter()
        .map(|(title, internal, t, kind)| {
            let entity = if *internal == "_ModerationStatus" {
                "OData__ModerationStatus".to_string()
            } else {
                internal.to_string()
            };
            json!({
                "Title": title,
                "InternalName": internal,
                "StaticName": internal,
                "EntityPropertyName": entity,
                "TypeAsString": t,
                "FieldTypeKind": kind,
                "Hidden": *internal == "ContentTypeId",
                "AllowMultipleValues": *t == "LookupMulti",
            })
        })
        .collect();
    json!({ "value": value })
}

/// `…/contenttypes`.
pub fn content_types() -> Value {
    json!({ "value": [
        { "StringId": CT_ID, "Id": { "StringValue": CT_ID }, "Name": "Tin Tức Mở Rộng" },
        { "StringId": "0x0100D96883CEAE04419791B2E208D33219A4",
          "Id": { "StringValue": "0x0100D96883CEAE04419791B2E208D33219A4" }, "Name": "Item" }
    ]})
}

/// The server-relative URL of item `id`'s attachment.
pub fn attachment_path(id: i64) -> String {
    format!("/Lists/TinTucSuKien/Attachments/{id}/bao-cao-{id}.pdf")
}

/// The server-relative URL of item `id`'s picture.
pub fn image_path(id: i64) -> String {
    format!("/PublishingImages/2024/anh-{id}.jpg")
}

/// The server-relative URL of the picture inside item `id`'s body.
pub fn body_image_path(id: i64) -> String {
    format!("/PublishingImages/2024/noi-dung-{id}.png")
}

/// The bytes the portal serves for one of a good item's files.
pub fn file_bytes(path: &str) -> Vec<u8> {
    format!("%sharc-hostile-farm file {path}\n").into_bytes()
}

/// A good item: every mapped field, one attachment, a picture and a body picture, all on the
/// portal. `prefix` goes before the title, so items of two farms can be told apart.
pub fn good_item(id: i64, prefix: &str) -> Value {
    json!({
        "FileSystemObjectType": 0,
        "Id": id,
        "ID": id,
        "GUID": format!("00000000-0000-4000-8000-{id:012}"),
        "ContentTypeId": CT_ID,
        "Title": format!("{prefix}Tin số {id}: hội nghị triển khai nhiệm vụ"),
        "H_x00ec_nh_x0020__x1ea3_nh": { "Description": format!("Ảnh {id}"), "Url": image_path(id) },
        "H_x00ec_nh_x0020__x1ea3_nh_x0020": format!("Ảnh {id}"),
        "T_x00f3_m_x0020_t_x1eaf_t": format!("Tóm tắt tin {id}."),
        "N_x1ed9_i_x0020_dung": format!(
            "<div class=\"ExternalClassA\"><p>Nội dung tin {id}.</p><p><img src=\"{}\" alt=\"\"/></p></div>",
            body_image_path(id)
        ),
        "Link_x0020_thay_x0020_th_x1ebf__": null,
        "Ng_x00e0_y_x0020_xu_x1ea5_t_x002": "2024-03-04T01:00:00Z",
        "Tin_x0020_n_x1ed5_i_x0020_b_x1ea": false,
        "T_x00e1_c_x0020_gi_x1ea3_": "VP.STPLA",
        "Ph_x00e2_n_x0020_lo_x1ea1_i": [{ "Id": 1, "Title": "Tin hoạt động" }],
        "Ph_x00e2_n_x0020_lo_x1ea1_iId": [1],
        "Lo_x1ea1_i_x0020_b_x00e0_i_x0020": "Tin",
        "S_x1ed1__x0020_Trang": 1.0,
        "S_x1ed1__x0020__x1ea2_nh": 1.0,
        "Tr_x1ea1_ng_x0020_th_x00e1_i": "Đã ban hành",
        "LichSu": "04/03/2024 08:00 - tungvt: Tạo mới",
        "S_x1ed1__x0020_l_x01b0__x1ee3_t_": 12.0,
        "OData__ModerationStatus": 0,
        "Created": "2024-03-04T01:00:00Z",
        "Modified": "2024-03-04T01:00:00Z",
        "AuthorId": 7,
        "Author": { "Id": 7, "Title": "Nguyễn Thị Thu Hà" },
        "EditorId": 7,
        "Editor": { "Id": 7, "Title": "Nguyễn Thị Thu Hà" },
        "OData__UIVersionString": "1.0",
        "Attachments": true,
        "AttachmentFiles": [
            { "FileName": format!("bao-cao-{id}.pdf"), "ServerRelativeUrl": attachment_path(id) }
        ]
    })
}

/// The files a good item points to, server-relative.
pub fn good_item_files(id: i64) -> Vec<String> {
    vec![attachment_path(id), image_path(id), body_image_path(id)]
}

/// A good item whose attachments are `files` (name, server-relative URL as served).
pub fn item_with_attachments(id: i64, files: &[(&str, &str)]) -> Value {
    let mut v = good_item(id, "");
    v["AttachmentFiles"] = files
        .iter()
        .map(|(name, url)| json!({ "FileName": name, "ServerRelativeUrl": url }))
        .collect();
    v
}

/// `item` with no attachment.
pub fn without_attachments(mut item: Value) -> Value {
    item["AttachmentFiles"] = Value::Array(vec![]);
    item
}

/// The farm's own link to the items page starting at position `p_id`, `top` items long, as
/// SharePoint spells next links.
pub fn items_link(base: &str, p_id: usize, top: usize) -> String {
    format!(
        "{base}_api/web/lists(guid%27{LIST_ID}%27)/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d{p_id}&%24top={top}"
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The public news list page: one link per href, in `.news-list a.news-link`.
pub fn list_page(hrefs: &[String]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tin tức sự kiện</title></head><body>\n<div class=\"news-list\">\n",
    );
    for h in hrefs {
        out.push_str(&format!(
            "<div class=\"news-item\"><a class=\"news-link\" href=\"{}\">Tin</a></div>\n",
            esc(h)
        ));
    }
    out.push_str("</div>\n<div class=\"paging\">Trang: <span class=\"current\">1</span></div>\n</body></html>\n");
    out
}

/// An article page (the portal's DispForm.aspx) showing `item`.
pub fn article_page(item: &Value) -> String {
    let s = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tin</title></head><body>\n<div class=\"news-detail\">\n",
    );
    out.push_str(&format!(
        "<h1 class=\"news-title\">{}</h1>\n",
        esc(&s("Title"))
    ));
    out.push_str(&format!(
        "<div class=\"news-summary\">{}</div>\n",
        esc(&s("T_x00f3_m_x0020_t_x1eaf_t"))
    ));
    if let Some(url) = item
        .pointer("/H_x00ec_nh_x0020__x1ea3_nh/Url")
        .and_then(Value::as_str)
    {
        out.push_str(&format!(
            "<div class=\"news-image\"><img src=\"{}\" alt=\"\"/><div class=\"comment\">{}</div></div>\n",
            esc(url),
            esc(&s("H_x00ec_nh_x0020__x1ea3_nh_x0020"))
        ));
    }
    out.push_str(&format!(
        "<div class=\"news-content\">{}</div>\n",
        s("N_x1ed9_i_x0020_dung")
    ));
    if let Some(files) = item.get("AttachmentFiles").and_then(Value::as_array) {
        out.push_str("<div class=\"news-attachments\">");
        for f in files {
            let url = f
                .get("ServerRelativeUrl")
                .and_then(Value::as_str)
                .unwrap_or("");
            let name = f.get("FileName").and_then(Value::as_str).unwrap_or("");
            out.push_str(&format!("<a href=\"{}\">{}</a>", esc(url), esc(name)));
        }
        out.push_str("</div>\n");
    }
    out.push_str(&format!(
        "<div class=\"news-author\">{}</div>\n<div class=\"news-views\">Lượt người xem:&nbsp;&nbsp; 12</div>\n</div>\n</body></html>\n",
        esc(&s("T_x00e1_c_x0020_gi_x1ea3_"))
    ));
    out
}
