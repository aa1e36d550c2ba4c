//! What a client discovers on the built-in sample: the lists collection with root folders and
//! content types, each content type's fields, the farm's version header, the home page — and
//! the Vietnamese-language farm made from the same items, with other list, field and column
//! names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use sharc_sample::{Farm, PortalOptions, RunningPortal};

const NOMETA: &str = "application/json;odata=nometadata";
const VERBOSE: &str = "application/json;odata=verbose";
const NEWS_ID: &str = "3de2e36d-678f-459c-837a-2db7c83afd8b";
const CT_NEWS: &str = "0x01006E47E7B937284B3B8725BBD974E8FC9B00CC6518B4E49E405B9034D6947D7D5C5E";

async fn get(
    portal: &RunningPortal,
    path: &str,
    accept: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let url = format!("{}{}", portal.base_url, path.trim_start_matches('/'));
    let r = reqwest::Client::new()
        .get(url)
        .header("Accept", accept)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

async fn json(portal: &RunningPortal, path: &str, accept: &str) -> Value {
    let (status, _, body) = get(portal, path, accept).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn farm(farm: Farm) -> PortalOptions {
    PortalOptions {
        farm,
        ..Default::default()
    }
}

const LISTS: &str = "_api/web/lists?$select=Id,Title,ItemCount,BaseTemplate,EnableVersioning,EnableAttachments,RootFolder/ServerRelativeUrl,ContentTypes/Name&$expand=RootFolder,ContentTypes&$filter=Hidden%20eq%20false";

#[tokio::test]
async fn the_lists_collection_shows_root_folders_and_content_types() {
    let portal = RunningPortal::start_built_in(PortalOptions::default(), 0)
        .await
        .unwrap();
    let lists = json(&portal, LISTS, NOMETA).await;
    assert_eq!(
        lists["value"][0],
        json!({"BaseTemplate": 100, "EnableAttachments": true, "EnableVersioning": true,
               "Id": NEWS_ID, "ItemCount": 31, "Title": "Tin tức sự kiện",
               "RootFolder": {"ServerRelativeUrl": "/Lists/TinTucSuKien"},
               "ContentTypes": [{"Name": "Tin Tức Mở Rộng"}, {"Name": "Item"}]})
    );
    assert_eq!(lists["value"][1]["Title"], "Danh mục tin");
    // Verbose wraps the expanded collection in `results`.
    let verbose = json(&portal, LISTS, VERBOSE).await;
    assert_eq!(
        verbose["d"]["results"][0]["ContentTypes"]["results"][0]["Name"],
        "Tin Tức Mở Rộng"
    );
    // The farm says which SharePoint it is on every answer.
    let (_, headers, _) = get(&portal, "_api/web", NOMETA).await;
    assert_eq!(headers["microsoftsharepointteamservices"], "15.0.0.4701");
    let web = json(&portal, "_api/web", NOMETA).await;
    assert_eq!(web["Language"], 1033);
    portal.shutdown().await;
}

#[tokio::test]
async fn a_content_type_lists_its_own_fields() {
    let portal = RunningPortal::start_built_in(PortalOptions::default(), 0)
        .await
        .unwrap();
    let path = |ct: &str| format!("_api/web/lists(guid'{NEWS_ID}')/contenttypes('{ct}')/fields");
    let news = json(&portal, &path(CT_NEWS), NOMETA).await;
    let names: Vec<&str> = news["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["InternalName"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 17, "{names:?}");
    assert!(names.contains(&"Ng_x00e0_y_x0020_xu_x1ea5_t_x002") && names.contains(&"Title"));
    assert!(
        !names.contains(&"Author"),
        "list-level fields are not the content type's"
    );
    let item = json(
        &portal,
        &path("0x0100D96883CEAE04419791B2E208D33219A4"),
        NOMETA,
    )
    .await;
    assert_eq!(item["value"].as_array().unwrap().len(), 2);
    let (status, _, _) = get(&portal, &path("0x0100FFFF"), NOMETA).await;
    assert_eq!(status, 404);
    portal.shutdown().await;
}

#[tokio::test]
async fn the_home_page_links_the_newest_public_articles() {
    let portal = RunningPortal::start_built_in(PortalOptions::default(), 0)
        .await
        .unwrap();
    let (status, _, page) = get(&portal, "/", "text/html").await;
    assert_eq!(status, 200);
    assert_eq!(
        page.matches("/Lists/TinTucSuKien/DispForm.aspx?ID=")
            .count(),
        5,
        "{page}"
    );
    assert!(page.contains("/Lists/TinTucSuKien/TongQuat.aspx"));
    portal.shutdown().await;
}

#[tokio::test]
async fn the_vietnamese_farm_serves_the_same_items_under_other_names() {
    let vi = RunningPortal::start_built_in(farm(Farm::Vietnamese), 0)
        .await
        .unwrap();
    let lists = json(&vi, LISTS, NOMETA).await;
    assert_eq!(lists["value"][0]["Title"], "Tin tức");
    let web = json(&vi, "_api/web", NOMETA).await;
    assert_eq!(web["Language"], 1066);
    let (status, _, _) = get(
        &vi,
        "_api/web/lists/getbytitle('Tin%20t%E1%BB%A9c%20s%E1%BB%B1%20ki%E1%BB%87n')",
        NOMETA,
    )
    .await;
    assert_eq!(status, 404, "the Long An title is not there");
    let news = format!("_api/web/lists(guid'{NEWS_ID}')");
    let fields = json(&vi, &format!("{news}/fields"), NOMETA).await;
    let by_internal = |name: &str| -> Value {
        fields["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["InternalName"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_internal("Author")["Title"], "Người tạo");
    assert_eq!(by_internal("Editor")["Title"], "Người sửa");
    assert_eq!(by_internal("Created")["Title"], "Đã tạo");
    assert_eq!(by_internal("Modified")["Title"], "Đã sửa đổi");
    assert_eq!(
        by_internal("_ModerationStatus")["Title"],
        "Trạng thái Phê duyệt"
    );
    let image = by_internal("_x1ea2_nh_x0020__x0111__x1ea1_i_");
    assert_eq!(image["Title"], "Hình ảnh");
    assert_eq!(
        image["EntityPropertyName"],
        "OData__x1ea2_nh_x0020__x0111__x1ea1_i_"
    );
    assert_eq!(by_internal("Ng_x00e0_y_x0020_xu_x1ea5_t_x002"), Value::Null);

    // The same item, its values under this farm's names, lookups expanded as before.
    let item = json(
        &vi,
        &format!("{news}/items(1)?$select=*,Ph_x00e2_nlo_x1ea1_i/Title,Author/Title&$expand=Ph_x00e2_nlo_x1ea1_i,Author"),
        NOMETA,
    )
    .await;
    assert_eq!(
        item["Ng_x00e0_yxu_x1ea5_tb_x1ea3_n"],
        "2023-01-05T03:00:00Z"
    );
    assert_eq!(item["T_x00E1_cgi_x1EA3_"], "P.PBGDPL.STPLA");
    assert_eq!(item["Author"]["Title"], "Nguyễn Thị Thu Hà");
    assert_eq!(item["Ph_x00e2_nlo_x1ea1_i"].as_array().unwrap().len(), 2);
    assert!(item.get("Ng_x00e0_y_x0020_xu_x1ea5_t_x002").is_none());

    // The display form shows this farm's names in its comments.
    let (status, _, page) = get(&vi, "/Lists/TinTucSuKien/DispForm.aspx?ID=1", "text/html").await;
    assert_eq!(status, 200);
    assert!(page.contains("FieldInternalName=\"Ng_x00e0_yxu_x1ea5_tb_x1ea3_n\""));
    assert!(page.contains("FieldName=\"Trạng thái Phê duyệt\""));
    vi.shutdown().await;
}
