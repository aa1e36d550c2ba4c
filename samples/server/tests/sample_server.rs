//! The sample portal server answers like a SharePoint farm: shapes, paging, expansion,
//! attachments with awkward names, errors, closed API modes. Each test builds a small portal
//! in a temporary directory; the last one crawls `samples/long-an-stp`, from its directory and
//! from the copy compiled into the crate.

// Tests may fail loudly on their own fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sharc_sample::{ApiAccess, Portal, PortalOptions, RunningPortal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LIST_ID: &str = "3de2e36d-678f-459c-837a-2db7c83afd8b";
const CATEGORY_LIST_ID: &str = "6e4a0c1b-1111-4c22-9a33-0123456789ab";
const VERBOSE: &str = "application/json;odata=verbose";
const MINIMAL: &str = "application/json;odata=minimalmetadata";
const NOMETA: &str = "application/json;odata=nometadata";

/// Path segment encoding as browsers and reqwest do it (everything but unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Attachments of item 5: (FileName, stored name, bytes).
const ATTACHMENTS: [(&str, &str, &str); 5] = [
    ("Kế hoạch #3.docx", "a1.docx", "docx bytes"),
    ("100% hoàn thành.pdf", "a2.pdf", "%PDF-1.4 fake"),
    ("O'Brien's note.txt", "a3.txt", "note"),
    ("Đề án số 1.pdf", "a4.pdf", "%PDF-1.4 another"),
    ("a b.txt", "a5.txt", "spaces"),
];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A portal with a 12-item news list, a hidden category list and an empty `O'Brien` list.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let portal = json!({
        "site": {"title": "Cổng thử nghiệm", "server_relative_url": "/",
                 "web_id": "b1a2c3d4-0000-4000-8000-000000000001",
                 "time_zone": "Asia/Ho_Chi_Minh", "version": "15.0.0.4701"},
        "lists": [
            {"id": LIST_ID, "title": "Tin tức sự kiện", "url_name": "TinTucSuKien",
             "entity_type_name": "TinTucSuKienList", "base_template": 100, "hidden": false,
             "content_types": [{"id": "0x0100AA11", "name": "Tin Tức Mở Rộng", "description": "Bài viết"}]},
            {"id": CATEGORY_LIST_ID, "title": "Danh mục", "url_name": "DanhMuc",
             "base_template": 100, "hidden": true},
            {"id": "0b0b0b0b-2222-4c22-9a33-0123456789ab", "title": "O'Brien",
             "url_name": "OBrien", "base_template": 100, "hidden": false}
        ],
        "users": [
            {"Id": 7, "Title": "Nguyễn Thị Thu Hà", "Name": "i:0#.w|stp\\hantt", "EMail": "hantt@example.gov.vn"},
            {"Id": 9, "Title": "Trần Văn Bình", "Name": "i:0#.w|stp\\binhtv", "EMail": "binhtv@example.gov.vn"}
        ]
    });
    write(&root.join("portal.json"), &portal.to_string());
    let fields = json!([
        {"Id": "fa564e0f-0c70-4ab9-b863-0177e6ddd247", "Title": "Tiêu đề", "InternalName": "Title",
         "StaticName": "Title", "EntityPropertyName": "Title", "TypeAsString": "Text", "FieldTypeKind": 2,
         "Hidden": false, "ReadOnlyField": false, "Required": true, "Group": "", "Description": ""},
        {"Id": "0f6a1c2e-0000-4000-8000-000000000002", "Title": "Danh mục", "InternalName": "Danh_x0020_m_x1ee5_c",
         "StaticName": "Danh_x0020_m_x1ee5_c", "EntityPropertyName": "Danh_x0020_m_x1ee5_c",
         "TypeAsString": "LookupMulti", "FieldTypeKind": 7, "AllowMultipleValues": true,
         "LookupList": format!("{{{CATEGORY_LIST_ID}}}"), "LookupField": "Title",
         "Hidden": false, "ReadOnlyField": false, "Required": false, "Group": "", "Description": ""},
        {"Id": "0f6a1c2e-0000-4000-8000-000000000003", "Title": "Thẻ", "InternalName": "Tags",
         "EntityPropertyName": "Tags", "TypeAsString": "MultiChoice", "FieldTypeKind": 15,
         "Choices": ["A", "B", "C"], "Hidden": false, "ReadOnlyField": false, "Required": false},
        {"Id": "0f6a1c2e-0000-4000-8000-000000000004", "Title": "Liên kết", "InternalName": "Link",
         "EntityPropertyName": "Link", "TypeAsString": "URL", "FieldTypeKind": 11,
         "Hidden": false, "ReadOnlyField": false, "Required": false},
        {"Id": "1df5e554-ec7e-46a6-901d-d85a3881cb18", "Title": "Người tạo", "InternalName": "Author",
         "EntityPropertyName": "Author", "TypeAsString": "User", "FieldTypeKind": 20,
         "Hidden": false, "ReadOnlyField": true, "Required": false},
        {"Id": "d31655d1-1d5b-4511-95a1-7a09e9b75bf2", "Title": "Người sửa", "InternalName": "Editor",
         "EntityPropertyName": "Editor", "TypeAsString": "User", "FieldTypeKind": 20,
         "Hidden": false, "ReadOnlyField": true, "Required": false},
        {"Id": "0f6a1c2e-0000-4000-8000-000000000005", "Title": "Trạng thái", "InternalName": "_Status",
         "TypeAsString": "Choice", "FieldTypeKind": 6, "Choices": ["Mới", "Cũ"],
         "Hidden": false, "ReadOnlyField": false, "Required": false}
    ]);
    write(
        &root.join("lists/TinTucSuKien/fields.json"),
        &fields.to_string(),
    );
    for id in 1..=12 {
        let mut item = json!({
            "FileSystemObjectType": 0, "Id": id, "ID": id,
            "ContentTypeId": "0x0100AA1100FF", "Title": format!("Tin số {id}"),
            "Danh_x0020_m_x1ee5_cId": [1, 2], "Tags": ["A", "C"],
            "Link": {"Description": "Chi tiết", "Url": format!("{{{{site}}}}/Trang/ChiTiet.aspx?nid={id}")},
            "OData__Status": "Mới",
            "Modified": format!("2023-01-{id:02}T03:00:00Z"), "Created": format!("2023-01-{id:02}T02:55:00Z"),
            "AuthorId": 7, "EditorId": 9, "OData__UIVersionString": "2.0", "owshiddenversion": id + 1,
            "Attachments": id == 5, "GUID": format!("00000000-0000-4000-8000-{id:012}")
        });
        if id == 5 {
            let atts: Vec<Value> = ATTACHMENTS
                .iter()
                .map(|(name, stored, _)| {
                    json!({"FileName": name, "stored": format!("files/Lists/TinTucSuKien/Attachments/5/{stored}")})
                })
                .collect();
            item["_attachments"] = Value::Array(atts);
        }
        write(
            &root.join(format!("lists/TinTucSuKien/items/{id:04}.json")),
            &item.to_string(),
        );
    }
    for (_, stored, bytes) in ATTACHMENTS {
        write(
            &root.join(format!("files/Lists/TinTucSuKien/Attachments/5/{stored}")),
            bytes,
        );
    }
    write(&root.join("files/PublishingImages/logo.png"), "PNGDATA");
    write(
        &root.join("lists/DanhMuc/fields.json"),
        &json!([{"Title": "Tiêu đề", "InternalName": "Title", "TypeAsString": "Text"}]).to_string(),
    );
    for (id, title) in [(1, "Pháp luật"), (2, "Hành chính")] {
        write(
            &root.join(format!("lists/DanhMuc/items/{id:04}.json")),
            &json!({"Id": id, "ID": id, "Title": title, "GUID": format!("10000000-0000-4000-8000-{id:012}")}).to_string(),
        );
    }
    write(&root.join("lists/OBrien/fields.json"), "[]");
    dir
}

async fn start(dir: &Path, opts: PortalOptions) -> RunningPortal {
    RunningPortal::start(dir, opts, 0).await.unwrap()
}

thread_local! {
    /// One client per test thread (each test has its own runtime and connection pool).
    static CLIENT: reqwest::Client = reqwest::Client::new();
}

fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

async fn get(portal: &RunningPortal, path: &str, accept: Option<&str>) -> reqwest::Response {
    let url = format!("{}{}", portal.base_url, path.trim_start_matches('/'));
    let mut request = client().get(url);
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    request.send().await.unwrap()
}

async fn get_json(portal: &RunningPortal, path: &str, accept: &str) -> (u16, Value) {
    let response = get(portal, path, Some(accept)).await;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    (status, value)
}

async fn json_of(response: reqwest::Response) -> Value {
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Raw HTTP, so that `..` reaches the server unnormalised.
async fn raw_get(portal: &RunningPortal, target: &str) -> (String, String) {
    let port = portal.base_url.port().unwrap();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status_line = answer.lines().next().unwrap_or_default().to_owned();
    (status_line, answer)
}

const NEWS: &str = "_api/web/lists/getbytitle('Tin%20t%E1%BB%A9c%20s%E1%BB%B1%20ki%E1%BB%87n')";

#[tokio::test]
async fn items_come_in_the_three_shapes() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let origin = portal.base_url.as_str().trim_end_matches('/').to_owned();

    let response = get(&portal, &format!("{NEWS}/items?$top=2"), Some(VERBOSE)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "application/json;odata=verbose;charset=utf-8"
    );
    assert_eq!(
        header(&response, "MicrosoftSharePointTeamServices"),
        "15.0.0.4701"
    );
    assert_eq!(header(&response, "X-SharePointHealthScore"), "0");
    assert!(!header(&response, "SPRequestGuid").is_empty());
    assert_eq!(
        header(&response, "SPRequestGuid"),
        header(&response, "request-id")
    );
    let body = json_of(response).await;
    let first = &body["d"]["results"][0];
    assert_eq!(
        first["__metadata"],
        json!({
            "id": format!("Web/Lists(guid'{LIST_ID}')/Items(1)"),
            "uri": format!("{origin}/_api/Web/Lists(guid'{LIST_ID}')/Items(1)"),
            "etag": "\"2\"",
            "type": "SP.Data.TinTucSuKienListItem"
        })
    );
    assert_eq!(
        first["AttachmentFiles"]["__deferred"]["uri"],
        format!("{origin}/_api/Web/Lists(guid'{LIST_ID}')/Items(1)/AttachmentFiles")
    );
    assert!(first["ContentType"]["__deferred"].is_object());
    assert_eq!(
        first["Tags"],
        json!({"__metadata": {"type": "Collection(Edm.String)"}, "results": ["A", "C"]})
    );
    assert_eq!(
        first["Danh_x0020_m_x1ee5_cId"],
        json!({"__metadata": {"type": "Collection(Edm.Int32)"}, "results": [1, 2]})
    );
    assert_eq!(
        first["Link"],
        json!({"__metadata": {"type": "SP.FieldUrlValue"}, "Description": "Chi tiết",
               "Url": format!("{origin}/Trang/ChiTiet.aspx?nid=1")})
    );
    assert_eq!(first["AuthorId"], 7);
    assert!(
        first.get("Author").is_none(),
        "lookups appear as <Name>Id only"
    );
    assert!(body["d"]["__next"].is_string());

    let response = get(&portal, &format!("{NEWS}/items?$top=2"), Some(MINIMAL)).await;
    assert_eq!(
        header(&response, "content-type"),
        "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
    );
    let body = json_of(response).await;
    assert_eq!(
        body["odata.metadata"],
        format!("{origin}/_api/$metadata#SP.ListData.TinTucSuKienListItems")
    );
    let first = &body["value"][0];
    assert_eq!(first["odata.type"], "SP.Data.TinTucSuKienListItem");
    assert_eq!(first["odata.id"], "00000000-0000-4000-8000-000000000001");
    assert_eq!(first["odata.etag"], "\"2\"");
    assert_eq!(
        first["odata.editLink"],
        format!("Web/Lists(guid'{LIST_ID}')/Items(1)")
    );
    assert_eq!(first["Tags"], json!(["A", "C"]));
    assert!(body["odata.nextLink"].is_string());

    // Plain application/json is minimalmetadata on a farm with JSON Light.
    let (_, plain) = get_json(&portal, &format!("{NEWS}/items?$top=2"), "application/json").await;
    assert_eq!(plain, body);

    let (status, body) = get_json(&portal, &format!("{NEWS}/items?$top=2"), NOMETA).await;
    assert_eq!(status, 200);
    let first = body["value"][0].as_object().unwrap();
    assert!(
        first
            .keys()
            .all(|k| !k.starts_with("odata.") && k != "__metadata")
    );
    assert_eq!(first["Danh_x0020_m_x1ee5_cId"], json!([1, 2]));
    assert_eq!(first["OData__Status"], "Mới");
    assert!(body["odata.nextLink"].is_string());
    assert!(body.get("odata.metadata").is_none());

    // A single item.
    let (_, item) = get_json(&portal, &format!("{NEWS}/items(3)"), VERBOSE).await;
    assert_eq!(item["d"]["Title"], "Tin số 3");
    assert_eq!(item["d"]["__metadata"]["etag"], "\"4\"");
    let (_, item) = get_json(&portal, &format!("{NEWS}/items(3)"), MINIMAL).await;
    assert_eq!(
        item["odata.metadata"],
        format!("{origin}/_api/$metadata#SP.ListData.TinTucSuKienListItems/@Element")
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn a_verbose_only_farm_rejects_json_light() {
    let dir = fixture();
    let opts = PortalOptions {
        json_light: false,
        ..Default::default()
    };
    let portal = start(dir.path(), opts).await;
    let expected = json!({"error": {"code": "-1, Microsoft.SharePoint.Client.ClientServiceException",
        "message": {"lang": "en-US", "value": "The HTTP header ACCEPT is missing or its value is invalid."}}});
    for accept in [MINIMAL, NOMETA, "application/json"] {
        let (status, body) = get_json(&portal, &format!("{NEWS}/items"), accept).await;
        assert_eq!(status, 406, "{accept}");
        assert_eq!(body, expected, "{accept}");
    }
    let (status, body) = get_json(&portal, &format!("{NEWS}/items?$top=1"), VERBOSE).await;
    assert_eq!(status, 200);
    assert_eq!(body["d"]["results"][0]["Id"], 1);
    // No JSON in Accept at all: an XML error.
    let response = get(&portal, "_api/web", None).await;
    assert_eq!(response.status(), 406);
    assert!(header(&response, "content-type").starts_with("application/xml"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("<m:code>-1, Microsoft.SharePoint.Client.ClientServiceException</m:code>")
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn paging_follows_next_links_and_ignores_skip() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let origin = portal.base_url.as_str().trim_end_matches('/').to_owned();

    let (_, page) = get_json(&portal, &format!("{NEWS}/items?$top=5"), NOMETA).await;
    assert_eq!(
        page["odata.nextLink"],
        format!(
            "{origin}/_api/web/lists(guid%27{LIST_ID}%27)/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d5&%24top=5"
        )
    );

    // $skip is ignored, echoed, and the other options are re-encoded in lowercase hex.
    let first = format!("{NEWS}/items?$select=Id,Title,Author/Title&$expand=Author&$skip=4&$top=5");
    for accept in [VERBOSE, NOMETA] {
        let mut url = format!("{}{first}", portal.base_url);
        let mut ids = Vec::new();
        let mut pages = 0;
        loop {
            let response = client()
                .get(&url)
                .header("Accept", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{url}");
            let body = json_of(response).await;
            let (results, next) = if accept == VERBOSE {
                (&body["d"]["results"], body["d"].get("__next"))
            } else {
                (&body["value"], body.get("odata.nextLink"))
            };
            for item in results.as_array().unwrap() {
                ids.push(item["Id"].as_i64().unwrap());
                assert_eq!(item["Author"]["Title"], "Nguyễn Thị Thu Hà");
            }
            pages += 1;
            let Some(next) = next else { break };
            let next = next.as_str().unwrap().to_owned();
            if pages == 1 {
                assert_eq!(
                    next,
                    format!(
                        "{origin}/_api/web/lists(guid%27{LIST_ID}%27)/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d5\
                         &%24select=Id%2cTitle%2cAuthor%2fTitle&%24expand=Author&%24skip=4&%24top=5"
                    )
                );
            }
            assert!(!next.contains("getbytitle"));
            url = next;
        }
        assert_eq!(pages, 3, "{accept}");
        assert_eq!(ids, (1..=12).collect::<Vec<_>>(), "{accept}");
    }
    // The last page has no next key at all.
    let (_, last) = get_json(
        &portal,
        &format!("{NEWS}/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d10&$top=5"),
        VERBOSE,
    )
    .await;
    assert_eq!(last["d"]["results"].as_array().unwrap().len(), 2);
    assert!(last["d"].as_object().unwrap().get("__next").is_none());
    // The default page is 100 items, and $top above 5000 is refused.
    let (_, all) = get_json(&portal, &format!("{NEWS}/items"), NOMETA).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 12);
    assert!(all.get("odata.nextLink").is_none());
    let (status, body) = get_json(&portal, &format!("{NEWS}/items?$top=5001"), NOMETA).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["odata.error"]["code"],
        "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn users_and_multi_lookups_expand() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let query = "items(2)?$select=Title,Author/Title,Author/EMail,Danh_x0020_m_x1ee5_c/Title\
                 &$expand=Author,Danh_x0020_m_x1ee5_c";
    let (status, body) = get_json(&portal, &format!("{NEWS}/{query}"), VERBOSE).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["d"];
    assert_eq!(d["Author"]["__metadata"]["type"], "SP.Data.UserInfoItem");
    assert_eq!(d["Author"]["Title"], "Nguyễn Thị Thu Hà");
    assert_eq!(d["Author"]["EMail"], "hantt@example.gov.vn");
    assert!(d["Author"].get("Name").is_none());
    let cats = d["Danh_x0020_m_x1ee5_c"]["results"].as_array().unwrap();
    assert_eq!(cats.len(), 2);
    assert_eq!(cats[0]["__metadata"]["type"], "SP.Data.DanhMucListItem");
    assert_eq!(cats[1]["Title"], "Hành chính");
    assert!(d.get("AuthorId").is_none(), "only selected fields");

    let (_, body) = get_json(&portal, &format!("{NEWS}/{query}"), NOMETA).await;
    assert_eq!(
        body,
        json!({
            "Danh_x0020_m_x1ee5_c": [{"Title": "Pháp luật"}, {"Title": "Hành chính"}],
            "Author": {"Title": "Nguyễn Thị Thu Hà", "EMail": "hantt@example.gov.vn"},
            "Title": "Tin số 2"
        })
    );
    // Expanded without a projection: the user in full, a lookup as Id and Title.
    let (_, body) = get_json(
        &portal,
        &format!("{NEWS}/items(2)?$expand=Editor,Danh_x0020_m_x1ee5_c"),
        NOMETA,
    )
    .await;
    assert_eq!(
        body["Editor"],
        json!({"Id": 9, "Title": "Trần Văn Bình", "Name": "i:0#.w|stp\\binhtv", "EMail": "binhtv@example.gov.vn"})
    );
    assert_eq!(
        body["Danh_x0020_m_x1ee5_c"][0],
        json!({"Id": 1, "Title": "Pháp luật"})
    );
    // Selecting a lookup without expanding it, and an unknown field, are bad queries.
    let (status, body) = get_json(
        &portal,
        &format!("{NEWS}/items?$select=Author/Title"),
        NOMETA,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["odata.error"]["message"]["value"]
            .as_str()
            .unwrap()
            .contains("$expand query string must contains Author")
    );
    let (status, body) = get_json(&portal, &format!("{NEWS}/items?$select=Nope"), NOMETA).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"odata.error": {"code": "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
            "message": {"lang": "en-US", "value": "The field or property 'Nope' does not exist."}}})
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn attachments_with_awkward_names_download_by_encoded_path() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let (_, body) = get_json(&portal, &format!("{NEWS}/items(5)/AttachmentFiles"), NOMETA).await;
    let files = body["value"].as_array().unwrap();
    assert_eq!(files.len(), ATTACHMENTS.len());
    for ((name, _, bytes), file) in ATTACHMENTS.iter().zip(files) {
        assert_eq!(file["FileName"], *name);
        let url = file["ServerRelativeUrl"].as_str().unwrap();
        assert_eq!(url, format!("/Lists/TinTucSuKien/Attachments/5/{name}"));
        let encoded: Vec<String> = url
            .split('/')
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        let response = get(&portal, &encoded.join("/"), None).await;
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(header(&response, "content-length"), bytes.len().to_string());
        assert!(header(&response, "etag").starts_with("\"{"));
        assert!(header(&response, "last-modified").ends_with("GMT"));
        assert_eq!(response.text().await.unwrap(), *bytes);
    }
    assert_eq!(
        portal.hits("/Lists/TinTucSuKien/Attachments/5/K%E1%BA%BF%20ho%E1%BA%A1ch%20%233.docx"),
        1
    );
    let response = get(
        &portal,
        "Lists/TinTucSuKien/Attachments/5/K%E1%BA%BF%20ho%E1%BA%A1ch%20%233.docx",
        None,
    )
    .await;
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    // A wrong name is a 404 page.
    let response = get(&portal, "Lists/TinTucSuKien/Attachments/5/K.docx", None).await;
    assert_eq!(response.status(), 404);

    // Expanded in verbose, each attachment is an SP.Attachment.
    let (_, body) = get_json(
        &portal,
        &format!("{NEWS}/items(5)?$select=AttachmentFiles&$expand=AttachmentFiles"),
        VERBOSE,
    )
    .await;
    let results = body["d"]["AttachmentFiles"]["results"].as_array().unwrap();
    assert_eq!(results[2]["FileName"], "O'Brien's note.txt");
    assert_eq!(results[2]["__metadata"]["type"], "SP.Attachment");

    // GetFileByServerRelativeUrl: a doubled quote works; `#` and `%` are not found (2013).
    let path = "_api/web/GetFileByServerRelativeUrl('/Lists/TinTucSuKien/Attachments/5/O''Brien''s%20note.txt')/$value";
    let response = get(&portal, path, None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "note");
    let path = "_api/web/GetFileByServerRelativeUrl('/Lists/TinTucSuKien/Attachments/5/K%E1%BA%BF%20ho%E1%BA%A1ch%20%233.docx')/$value";
    let (status, body) = get_json(&portal, path, VERBOSE).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["code"],
        "-2130575338, Microsoft.SharePoint.SPException"
    );
    let (_, meta) = get_json(
        &portal,
        "_api/web/GetFileByServerRelativeUrl('/Lists/TinTucSuKien/Attachments/5/a%20b.txt')",
        NOMETA,
    )
    .await;
    assert_eq!(meta["Length"], "6");
    assert_eq!(meta["Name"], "a b.txt");
    // AttachmentFiles('name')/$value.
    let response = get(
        &portal,
        &format!("{NEWS}/items(5)/AttachmentFiles('%C4%90%E1%BB%81%20%C3%A1n%20s%E1%BB%91%201.pdf')/$value"),
        Some(VERBOSE),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "%PDF-1.4 another");
    portal.shutdown().await;
}

#[tokio::test]
async fn a_missing_list_is_an_error_in_every_shape() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let origin = portal.base_url.as_str().trim_end_matches('/').to_owned();
    let path = "_api/web/lists/getbytitle('Kh%C3%B4ng%20c%C3%B3')/items";
    let inner = json!({"code": "-1, System.ArgumentException",
        "message": {"lang": "en-US", "value": format!("List 'Không có' does not exist at site with URL '{origin}'.")}});
    let (status, body) = get_json(&portal, path, VERBOSE).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({ "error": inner }));
    for accept in [MINIMAL, NOMETA] {
        let (status, body) = get_json(&portal, path, accept).await;
        assert_eq!(status, 404);
        assert_eq!(body, json!({ "odata.error": inner }));
    }
    let response = get(&portal, path, Some("application/atom+xml")).await;
    assert_eq!(response.status(), 406);

    let (status, body) = get_json(
        &portal,
        "_api/web/lists(guid'00000000-0000-0000-0000-000000000000')",
        NOMETA,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body["odata.error"]["code"],
        "-2130246362, System.ArgumentException"
    );
    let (status, body) = get_json(&portal, &format!("{NEWS}/items(99)"), VERBOSE).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["error"]["message"]["value"],
        "Item does not exist. It may have been deleted by another user."
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn list_addressing_quotes_aliases_and_case() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    for path in [
        "_api/web/lists/getbytitle('O''Brien')".to_owned(),
        "_api/web/lists/getbytitle(%27O%27%27Brien%27)".to_owned(),
        "_API/Web/Lists/GetByTitle('o''brien')".to_owned(),
        "_api/web/lists/getByTitle(@t)?@t='O''Brien'".to_owned(),
        "_api/web/lists(guid'0B0B0B0B-2222-4c22-9a33-0123456789ab')".to_owned(),
        "_api/lists(guid'0b0b0b0b-2222-4c22-9a33-0123456789ab')".to_owned(),
    ] {
        let (status, body) = get_json(&portal, &path, NOMETA).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["Title"], "O'Brien", "{path}");
    }
    let (status, body) = get_json(
        &portal,
        "_api/web/lists/getByTitle(@t)/items?@t='Tin%20t%E1%BB%A9c%20s%E1%BB%B1%20ki%E1%BB%87n'&$top=1",
        NOMETA,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["value"][0]["Id"], 1);
    assert!(
        !body["odata.nextLink"].as_str().unwrap().contains("%40t"),
        "aliases are not echoed"
    );
    // Empty list: no items, no next link.
    let (_, body) = get_json(
        &portal,
        "_api/web/lists/getbytitle('O''Brien')/items",
        VERBOSE,
    )
    .await;
    assert_eq!(body, json!({"d": {"results": []}}));
    portal.shutdown().await;
}

#[tokio::test]
async fn web_lists_fields_and_content_types() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let (_, web) = get_json(&portal, "_api/web", NOMETA).await;
    assert_eq!(web["Title"], "Cổng thử nghiệm");
    assert_eq!(web["Language"], 1066);
    assert_eq!(web["ServerRelativeUrl"], "/");
    assert_eq!(web["Url"], portal.base_url.as_str().trim_end_matches('/'));

    let (_, lists) = get_json(
        &portal,
        "_api/web/lists?$filter=Hidden%20eq%20false",
        NOMETA,
    )
    .await;
    let titles: Vec<&str> = lists["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["Title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Tin tức sự kiện", "O'Brien"]);
    let (_, lists) = get_json(
        &portal,
        "_api/web/lists?$select=Id,Title,ItemCount,RootFolder/ServerRelativeUrl&$expand=RootFolder",
        NOMETA,
    )
    .await;
    assert_eq!(lists["value"].as_array().unwrap().len(), 3);
    assert_eq!(
        lists["value"][0],
        json!({"RootFolder": {"ServerRelativeUrl": "/Lists/TinTucSuKien"},
               "Id": LIST_ID, "ItemCount": 12, "Title": "Tin tức sự kiện"})
    );
    let (_, list) = get_json(&portal, NEWS, VERBOSE).await;
    assert_eq!(list["d"]["__metadata"]["type"], "SP.List");
    assert_eq!(
        list["d"]["ListItemEntityTypeFullName"],
        "SP.Data.TinTucSuKienListItem"
    );

    let (_, fields) = get_json(&portal, &format!("{NEWS}/fields"), VERBOSE).await;
    let tags = &fields["d"]["results"][2];
    assert_eq!(tags["__metadata"]["type"], "SP.FieldMultiChoice");
    assert_eq!(
        tags["Choices"],
        json!({"__metadata": {"type": "Collection(Edm.String)"}, "results": ["A", "B", "C"]})
    );
    assert_eq!(
        fields["d"]["results"][1]["__metadata"]["type"],
        "SP.FieldLookup"
    );
    let (_, field) = get_json(
        &portal,
        &format!("{NEWS}/fields/getbyinternalnameortitle('Tr%E1%BA%A1ng%20th%C3%A1i')"),
        NOMETA,
    )
    .await;
    assert_eq!(field["InternalName"], "_Status");
    assert_eq!(field["EntityPropertyName"], "OData__Status");
    let (status, _) = get_json(
        &portal,
        &format!("{NEWS}/fields/getbyinternalnameortitle('Nope')"),
        NOMETA,
    )
    .await;
    assert_eq!(status, 404);

    let (_, cts) = get_json(&portal, &format!("{NEWS}/contenttypes"), NOMETA).await;
    assert_eq!(
        cts["value"][0],
        json!({"Description": "Bài viết", "Group": "Custom Content Types", "Hidden": false,
               "Id": {"StringValue": "0x0100AA11"}, "Name": "Tin Tức Mở Rộng", "ReadOnly": false,
               "Sealed": false, "StringId": "0x0100AA11"})
    );
    let (_, cts) = get_json(&portal, &format!("{NEWS}/contenttypes"), VERBOSE).await;
    assert_eq!(
        cts["d"]["results"][0]["Id"],
        json!({"__metadata": {"type": "SP.ContentTypeId"}, "StringValue": "0x0100AA11"})
    );
    let (_, item) = get_json(
        &portal,
        &format!("{NEWS}/items(1)?$select=Title,ContentType/Name&$expand=ContentType"),
        NOMETA,
    )
    .await;
    assert_eq!(item["ContentType"], json!({"Name": "Tin Tức Mở Rộng"}));
    portal.shutdown().await;
}

#[tokio::test]
async fn path_traversal_is_refused_and_images_are_served() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let response = get(&portal, "PublishingImages/logo.png", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(response.text().await.unwrap(), "PNGDATA");
    for target in [
        "/../portal.json",
        "/PublishingImages/../../portal.json",
        "/PublishingImages/..%2f..%2fportal.json",
        "/%2e%2e/portal.json",
        "/PublishingImages/%2E%2E/%2E%2E/portal.json",
        "/Lists/TinTucSuKien/Attachments/5/..%5c..%5cportal.json",
    ] {
        let (status, answer) = raw_get(&portal, target).await;
        assert!(status.contains(" 400 "), "{target}: {status}");
        assert!(!answer.contains("Cổng thử nghiệm"), "{target}");
    }
    let (status, _) = raw_get(&portal, "/nothing/here.html").await;
    assert!(status.contains(" 404 "), "{status}");
    portal.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_are_bad_requests_not_panics() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    for path in [
        "_api/web/lists/getbytitle('x",
        "_api/web/lists/getbytitle('a'b')",
        "_api/web/lists/getbytitle(@missing)",
        &format!("{NEWS}/items(abc)"),
        &format!("{NEWS}/items(1"),
        &format!("{NEWS}/items?$top=-1"),
        &format!("{NEWS}/items?$skiptoken=garbage"),
        &format!("{NEWS}/whatever"),
        &format!("_api/web/lists(guid'{LIST_ID}')/items(1)/nope"),
        "_api/web/%FF",
    ] {
        let (status, body) = get_json(&portal, path, NOMETA).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["odata.error"]["code"].is_string(), "{path}");
    }
    let (status, _) = get_json(&portal, "_api/nothing", NOMETA).await;
    assert_eq!(status, 404);
    let response = client()
        .post(format!("{}_api/web", portal.base_url))
        .header("Accept", VERBOSE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    portal.shutdown().await;
}

/// `POST /_api/contextinfo`, which clients such as Office365-REST-Python-Client call before
/// their first request to get a form digest, answers without a digest of its own.
#[tokio::test]
async fn contextinfo_hands_out_a_form_digest_in_every_shape() {
    let dir = fixture();
    let portal = start(dir.path(), PortalOptions::default()).await;
    let site = portal.base_url.as_str().trim_end_matches('/').to_owned();
    let post = |accept: &'static str| {
        client()
            .post(format!("{}_api/contextInfo", portal.base_url))
            .header("Accept", accept)
            .send()
    };
    let verbose = json_of(post(VERBOSE).await.unwrap()).await;
    let info = &verbose["d"]["GetContextWebInformation"];
    assert_eq!(info["__metadata"]["type"], "SP.ContextWebInformation");
    assert_eq!(info["FormDigestTimeoutSeconds"], 1800);
    assert_eq!(info["LibraryVersion"], "15.0.4701.1000");
    assert_eq!(info["WebFullUrl"], site.as_str());
    assert_eq!(
        info["SupportedSchemaVersions"],
        json!({"__metadata": {"type": "Collection(Edm.String)"}, "results": ["14.0.0.0", "15.0.0.0"]})
    );
    let digest = info["FormDigestValue"].as_str().unwrap();
    let (hex, issued) = digest.split_once(',').unwrap();
    assert!(hex.starts_with("0x") && hex.len() > 2, "{digest}");
    assert!(issued.ends_with(" -0000"), "{digest}");

    let response = post(NOMETA).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").contains("odata=nometadata"));
    let light = json_of(response).await;
    assert_eq!(light["FormDigestValue"], digest);
    assert_eq!(
        light["SupportedSchemaVersions"],
        json!(["14.0.0.0", "15.0.0.0"])
    );
    assert!(light.get("__metadata").is_none() && light.get("odata.metadata").is_none());
    let minimal = json_of(post(MINIMAL).await.unwrap()).await;
    assert_eq!(
        minimal["odata.metadata"],
        format!("{site}/_api/$metadata#SP.ContextWebInformation").as_str()
    );
    assert_eq!(minimal["WebFullUrl"], site.as_str());

    // The digest opens no other POST: the sample is read-only.
    let response = client()
        .post(format!("{}{NEWS}/items", portal.base_url))
        .header("Accept", VERBOSE)
        .header("X-RequestDigest", digest)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    portal.shutdown().await;

    // A 2013 farm without JSON Light answers it in verbose only.
    let opts = PortalOptions {
        json_light: false,
        ..Default::default()
    };
    let portal = start(dir.path(), opts).await;
    let response = client()
        .post(format!("{}_api/contextinfo", portal.base_url))
        .header("Accept", NOMETA)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
    portal.shutdown().await;
}

#[tokio::test]
async fn closed_api_modes_still_serve_files() {
    let dir = fixture();
    let portal = start(
        dir.path(),
        PortalOptions {
            api: ApiAccess::Unauthorized401,
            ..Default::default()
        },
    )
    .await;
    let response = get(&portal, "_api/web", Some(VERBOSE)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "www-authenticate"), "NTLM");
    assert_eq!(response.text().await.unwrap(), "401 UNAUTHORIZED");
    let response = get(&portal, "PublishingImages/logo.png", None).await;
    assert_eq!(response.status(), 200);
    portal.shutdown().await;

    let portal = start(
        dir.path(),
        PortalOptions {
            api: ApiAccess::Forbidden403,
            ..Default::default()
        },
    )
    .await;
    let (status, body) = get_json(&portal, &format!("{NEWS}/items"), VERBOSE).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"error": {"code": "-2147024891, System.UnauthorizedAccessException",
            "message": {"lang": "en-US", "value": "Access denied. You do not have permission to perform this action or access this resource."}}})
    );
    let response = get(&portal, "Lists/TinTucSuKien/Attachments/5/a%20b.txt", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(portal.hits("/_api/"), 1);
    let log = portal.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, 403);
    assert_eq!(log[1].method, "GET");
    portal.shutdown().await;
}

#[tokio::test]
async fn broken_samples_name_the_file_at_fault() {
    let dir = fixture();
    let item = dir.path().join("lists/TinTucSuKien/items/0003.json");
    std::fs::write(&item, r#"{"Id": 4, "Title": "x"}"#).unwrap();
    let err = Portal::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("0003.json"), "{err}");

    let dir = fixture();
    std::fs::remove_file(
        dir.path()
            .join("files/Lists/TinTucSuKien/Attachments/5/a3.txt"),
    )
    .unwrap();
    let err = RunningPortal::start(dir.path(), PortalOptions::default(), 0)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("a3.txt"), "{err}");

    let dir = fixture();
    let item = dir.path().join("lists/TinTucSuKien/items/0005.json");
    let text = std::fs::read_to_string(&item).unwrap().replace(
        "files/Lists/TinTucSuKien/Attachments/5/a1.docx",
        "../portal.json",
    );
    std::fs::write(&item, text).unwrap();
    let err = Portal::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("0005.json") && err.contains(".."), "{err}");
}

/// Walks a portal the way sharc does (every list, every page, every attachment and every
/// image an item points to) and returns each downloaded file's path with its bytes.
async fn download_everything(portal: &RunningPortal) -> BTreeMap<String, (String, Vec<u8>)> {
    let (status, lists) = get_json(portal, "_api/web/lists", NOMETA).await;
    assert_eq!(status, 200);
    let mut downloads = BTreeMap::new();
    let mut download = async |path: String| {
        let response = get(portal, &path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let content_type = header(&response, "content-type");
        let bytes = response.bytes().await.unwrap().to_vec();
        downloads.insert(path, (content_type, bytes));
    };
    for list in lists["value"].as_array().unwrap() {
        let id = list["Id"].as_str().unwrap();
        let count = list["ItemCount"].as_u64().unwrap();
        let mut url = format!(
            "{}_api/web/lists(guid'{id}')/items?$top=3&$expand=AttachmentFiles&$select=*,AttachmentFiles",
            portal.base_url
        );
        let mut seen = 0;
        loop {
            let response = client()
                .get(&url)
                .header("Accept", VERBOSE)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{url}");
            let body = json_of(response).await;
            for item in body["d"]["results"].as_array().unwrap() {
                seen += 1;
                for att in item["AttachmentFiles"]["results"].as_array().unwrap() {
                    let path = att["ServerRelativeUrl"].as_str().unwrap();
                    let encoded: Vec<String> = path
                        .split('/')
                        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
                        .collect();
                    download(encoded.join("/")).await;
                }
            }
            match body["d"].get("__next") {
                Some(next) => url = next.as_str().unwrap().to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, count, "{}", list["Title"]);
        let (status, _) = get_json(
            portal,
            &format!("_api/web/lists(guid'{id}')/fields"),
            VERBOSE,
        )
        .await;
        assert_eq!(status, 200);
    }
    // `{{site}}` is replaced in every value, and the images it points to are served.
    let origin = portal.base_url.as_str().trim_end_matches('/').to_owned();
    for list in lists["value"].as_array().unwrap() {
        let id = list["Id"].as_str().unwrap();
        let path = format!("_api/web/lists(guid'{id}')/items?$top=5000");
        let text = get(portal, &path, Some(NOMETA)).await.text().await.unwrap();
        assert!(!text.contains("{{site}}"));
        let body: Value = serde_json::from_str(&text).unwrap();
        for item in body["value"].as_array().unwrap() {
            for value in item.as_object().unwrap().values() {
                let Some(url) = value.get("Url").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(path) = url.strip_prefix(&format!("{origin}/PublishingImages/")) {
                    download(format!("PublishingImages/{path}")).await;
                }
            }
        }
    }
    downloads
}

/// The committed sample, served from its directory and from the copy compiled into the
/// crate: both crawl completely and serve the same files, byte for byte.
#[tokio::test]
async fn the_long_an_sample_is_served_alike_from_its_directory_and_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../long-an-stp");
    let from_dir = start(&dir, PortalOptions::default()).await;
    let built_in = RunningPortal::start_built_in(PortalOptions::default(), 0)
        .await
        .unwrap();
    let (a, b) = (
        download_everything(&from_dir).await,
        download_everything(&built_in).await,
    );
    assert!(a.len() > 20, "only {} files reached", a.len());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, (content_type, bytes)) in &a {
        let (other_type, other_bytes) = &b[path];
        assert_eq!(content_type, other_type, "{path}");
        assert!(bytes == other_bytes, "{path}: the built-in copy differs");
        assert!(!bytes.is_empty(), "{path}");
    }
    // Every stored file, by its path under files/, has the bytes on disk from both.
    let files = dir.join("files");
    for file in walk(&files) {
        let rel = file.strip_prefix(&files).unwrap().to_str().unwrap();
        let path: Vec<String> = rel
            .split('/')
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        let on_disk = std::fs::read(&file).unwrap();
        for portal in [&from_dir, &built_in] {
            let response = get(portal, &path.join("/"), None).await;
            assert_eq!(response.status(), 200, "{rel}");
            assert!(response.bytes().await.unwrap() == on_disk, "{rel}");
        }
    }
    from_dir.shutdown().await;
    built_in.shutdown().await;
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `serve --items-with-files`: a grown portal serves its new items' own files, generated at the sizes it
/// announces, and the request log lists every request as it is answered.
#[tokio::test]
async fn a_grown_portal_serves_generated_files_and_logs_each_request() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.log");
    let opts = PortalOptions {
        request_log: Some(log.clone()),
        ..Default::default()
    };
    let portal = Portal::built_in().unwrap().grown(100);
    let running = RunningPortal::serve(portal, opts, 0).await.unwrap();
    let base = running.base_url.as_str().trim_end_matches('/').to_owned();
    let client = reqwest::Client::new();
    let body = client
        .get(format!(
            "{base}/_api/web/lists/getbytitle('Tin%20t%E1%BB%A9c%20s%E1%BB%B1%20ki%E1%BB%87n')/items?$top=5000&$expand=AttachmentFiles"
        ))
        .header("Accept", NOMETA)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let items: Value = serde_json::from_slice(&body).unwrap();
    let items = items["value"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    // Item 43 is a copy of item 12 (two attachments) with its own files.
    let copy = items.iter().find(|i| i["Id"] == 43).unwrap();
    let files = copy["AttachmentFiles"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    let mut sizes = Vec::new();
    for f in files {
        let url = format!("{base}{}", f["ServerRelativeUrl"].as_str().unwrap());
        assert!(url.contains("/Attachments/43/"), "{url}");
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        let announced = response.content_length().unwrap();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len() as u64, announced);
        assert!(announced >= 8 * 1024, "{url}: {announced} bytes");
        sizes.push(announced);
    }
    // Item 33 copies item 2's image, at a path of its own.
    let image = items.iter().find(|i| i["Id"] == 33).unwrap()["H_x00ec_nh_x0020__x1ea3_nh"]["Url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(image.contains("/PublishingImages/_grown/33/"), "{image}");
    let response = client.get(&image).send().await.unwrap();
    assert_eq!(response.status(), 200, "{image}");
    assert!(response.bytes().await.unwrap().len() >= 20 * 1024);
    running.shutdown().await;

    let logged = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = logged.lines().collect();
    assert_eq!(lines.len(), 4, "{logged}");
    assert!(
        lines[0].starts_with("GET 200 /_api/web/lists/getbytitle("),
        "{logged}"
    );
    assert!(
        lines[1].starts_with("GET 200 /Lists/TinTucSuKien/Attachments/43/"),
        "{logged}"
    );
    assert!(
        lines[3].starts_with("GET 200 /PublishingImages/_grown/33/"),
        "{logged}"
    );
}
