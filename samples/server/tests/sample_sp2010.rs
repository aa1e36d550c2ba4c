//! The sample portal's SharePoint 2010 mode as a SOAP client sees it on the wire: no `/_api`,
//! `Lists.asmx` answering in the 2010 shapes (`ows_` attributes, `;#` encodings, server-local
//! dates, empty fields left out, raw attachment URLs), its paging and its faults.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharc_sample::{PortalOptions, RunningPortal, Sp2010};

const NS: &str = "http://schemas.microsoft.com/sharepoint/soap/";

async fn start(opts: Sp2010) -> RunningPortal {
    RunningPortal::start_built_in(
        PortalOptions {
            sp2010: Some(opts),
            ..Default::default()
        },
        0,
    )
    .await
    .unwrap()
}

/// Calls `operation` of `service` with these parameters; the status and the body.
async fn call(
    portal: &RunningPortal,
    service: &str,
    operation: &str,
    params: &str,
) -> (u16, String) {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><{operation} xmlns=\"{NS}\">{params}</{operation}></soap:Body></soap:Envelope>"
    );
    let r = reqwest::Client::new()
        .post(format!("{}_vti_bin/{service}", portal.base_url))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", format!("{NS}{operation}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The `z:row` of item `id` in a GetListItems answer.
fn row(body: &str, id: i64) -> &str {
    body.split("<z:row")
        .map(|r| r.split("/>").next().unwrap_or(""))
        .find(|r| r.contains(&format!(" ows_ID=\"{id}\"")))
        .unwrap_or_else(|| panic!("row {id} in {body}"))
}

#[tokio::test]
async fn a_2010_farm_has_no_rest_api_and_says_it_is_version_14() {
    let portal = start(Sp2010::default()).await;
    let r = reqwest::get(format!("{}_api/web", portal.base_url))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let version = r.headers()["MicrosoftSharePointTeamServices"]
        .to_str()
        .unwrap();
    assert!(version.starts_with("14.0.0."), "{version}");
    // A GET of the service shows its description page, as ASMX does.
    let page = reqwest::get(format!("{}_vti_bin/Lists.asmx", portal.base_url))
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
}

#[tokio::test]
async fn list_items_come_in_the_2010_encodings() {
    let portal = start(Sp2010::default()).await;
    let (status, body) = call(
        &portal,
        "Lists.asmx",
        "GetListItems",
        "<listName>Tin tức sự kiện</listName><queryOptions><QueryOptions><DateInUtc>TRUE</DateInUtc><IncludeAttachmentUrls>TRUE</IncludeAttachmentUrls></QueryOptions></queryOptions>",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // rowLimit omitted: the default view's 30 rows, and where the next page starts.
    assert_eq!(body.matches("<z:row ").count(), 30);
    assert!(
        body.contains("ListItemCollectionPositionNext=\"Paged=TRUE&amp;p_ID=30\""),
        "{body}"
    );
    let r12 = row(&body, 12);
    for expected in [
        // DateInUtc not honoured by this farm: server-local time, UTC+07:00.
        "ows_Created=\"2022-10-05 08:50:00\"",
        "ows_Ng_x00e0_y_x0020_xu_x1ea5_t_x002=\"2022-10-05 09:30:00\"",
        "ows_Author=\"15;#Lê Ngọc Diễm\"",
        "ows_Ph_x00e2_n_x0020_lo_x1ea1_i=\"5;#Văn bản mới;#6;#Cải cách hành chính;#7;#Hành chính tư pháp\"",
        "ows_Tin_x0020_n_x1ed5_i_x0020_b_x1ea=\"0\"",
        "ows_S_x1ed1__x0020_Trang=\"1.00000000000000\"",
        "ows_S_x1ed1__x0020_l_x01b0__x1ee3_t_=\"356.000000000000\"",
        "ows_GUID=\"{3E23BC87-520A-4403-A882-2D2107E92A8A}\"",
        "ows__ModerationStatus=\"0\"",
        "ows_LichSu=\"05/10/2022 08:50 - diemln: Tạo mới&#10;05/10/2022 09:30 - minhtv: Đã ban hành\"",
        "ows_FSObjType=\"12;#0\"",
        "ows_MetaInfo=\"12;#\"",
    ] {
        assert!(r12.contains(expected), "{expected} in {r12}");
    }
    // Empty fields are left out.
    assert!(!r12.contains("ows_H_x00ec_nh_x0020__x1ea3_nh="), "{r12}");
    // Attachment URLs as served by 2010: absolute and raw.
    let r15 = row(&body, 15);
    let base = portal.base_url.as_str().trim_end_matches('/');
    assert!(
        r15.contains(&format!(
            "ows_Attachments=\";#{base}/Lists/TinTucSuKien/Attachments/15/Kế hoạch #3 năm 2023.docx;#{base}/Lists/TinTucSuKien/Attachments/15/Phụ lục #2 - tăng 20% hồ sơ.pdf;#\""
        )),
        "{r15}"
    );
    let page2 = call(
        &portal,
        "Lists.asmx",
        "GetListItems",
        "<listName>Tin tức sự kiện</listName><rowLimit>30</rowLimit><queryOptions><QueryOptions><Paging ListItemCollectionPositionNext=\"Paged=TRUE&amp;p_ID=30\"/></QueryOptions></queryOptions>",
    )
    .await
    .1;
    assert_eq!(page2.matches("<z:row ").count(), 1, "{page2}");
    assert!(
        !page2.contains("ListItemCollectionPositionNext"),
        "the last page"
    );
}

#[tokio::test]
async fn dates_are_utc_only_where_the_farm_honours_date_in_utc() {
    let portal = start(Sp2010 {
        honour_date_in_utc: true,
        ..Default::default()
    })
    .await;
    let ask = |utc: &str| {
        format!(
            "<listName>Tin tức sự kiện</listName><rowLimit>12</rowLimit><viewFields><ViewFields><FieldRef Name=\"Created\"/></ViewFields></viewFields><queryOptions><QueryOptions><DateInUtc>{utc}</DateInUtc></QueryOptions></queryOptions>"
        )
    };
    let utc = call(&portal, "Lists.asmx", "GetListItems", &ask("TRUE"))
        .await
        .1;
    assert!(
        row(&utc, 12).contains("ows_Created=\"2022-10-05T01:50:00Z\""),
        "{utc}"
    );
    // Only the fields asked for, and the system columns every row has.
    assert!(!row(&utc, 12).contains("ows_Title="), "{utc}");
    let local = call(&portal, "Lists.asmx", "GetListItems", &ask("FALSE"))
        .await
        .1;
    assert!(
        row(&local, 12).contains("ows_Created=\"2022-10-05 08:50:00\""),
        "{local}"
    );
}

#[tokio::test]
async fn the_list_and_the_site_describe_themselves() {
    let portal = start(Sp2010::default()).await;
    let (status, list) = call(
        &portal,
        "Lists.asmx",
        "GetList",
        "<listName>{3DE2E36D-678F-459C-837A-2DB7C83AFD8B}</listName>",
    )
    .await;
    assert_eq!(status, 200, "{list}");
    for expected in [
        "Title=\"Tin tức sự kiện\"",
        "ItemCount=\"31\"",
        "RootFolder=\"/Lists/TinTucSuKien\"",
        "Name=\"Ng_x00e0_y_x0020_xu_x1ea5_t_x002\" StaticName=\"Ng_x00e0_y_x0020_xu_x1ea5_t_x002\" DisplayName=\"Ngày xuất bản\"",
        "Type=\"LookupMulti\" Name=\"Ph_x00e2_n_x0020_lo_x1ea1_i\"",
        "<CHOICE>0;#Approved</CHOICE>",
        "<TimeZone>-420</TimeZone>",
        "Name=\"owshiddenversion\"",
    ] {
        assert!(list.contains(expected), "{expected} in {list}");
    }
    let lists = call(&portal, "Lists.asmx", "GetListCollection", "").await.1;
    assert!(
        lists.contains("Title=\"Danh mục tin\"") && lists.contains("Title=\"Tin tức sự kiện\"")
    );
    let cts = call(
        &portal,
        "Lists.asmx",
        "GetListContentTypes",
        "<listName>Tin tức sự kiện</listName><contentTypeId></contentTypeId>",
    )
    .await
    .1;
    assert!(
        cts.contains("<ContentType Name=\"Tin Tức Mở Rộng\" ID=\"0x01006E47"),
        "{cts}"
    );
    let files = call(
        &portal,
        "Lists.asmx",
        "GetAttachmentCollection",
        "<listName>Tin tức sự kiện</listName><listItemID>15</listItemID>",
    )
    .await
    .1;
    assert_eq!(files.matches("<Attachment>").count(), 2, "{files}");
    let (status, views) = call(
        &portal,
        "Views.asmx",
        "GetViewCollection",
        "<listName>Tin tức sự kiện</listName>",
    )
    .await;
    assert!(
        status == 200 && views.contains("DisplayName=\"All Items\""),
        "{views}"
    );
    let (status, digest) = call(&portal, "Sites.asmx", "GetUpdatedFormDigest", "").await;
    assert!(
        status == 200 && digest.contains("<GetUpdatedFormDigestResult>"),
        "{digest}"
    );
}

#[tokio::test]
async fn faults_come_as_sharepoint_2010_sends_them() {
    let portal = start(Sp2010 {
        view_threshold: 10,
        ..Default::default()
    })
    .await;
    let (status, missing) = call(
        &portal,
        "Lists.asmx",
        "GetList",
        "<listName>Không có</listName>",
    )
    .await;
    assert_eq!(status, 500);
    assert!(
        missing.contains("<faultcode>soap:Server</faultcode>")
            && missing.contains("List does not exist.")
            && missing.contains(">0x82000006</errorcode>"),
        "{missing}"
    );
    // rowLimit 0 means every row: over the threshold on this list.
    let (status, throttled) = call(
        &portal,
        "Lists.asmx",
        "GetListItems",
        "<listName>Tin tức sự kiện</listName><rowLimit>0</rowLimit>",
    )
    .await;
    assert_eq!(status, 500);
    assert!(throttled.contains(">0x80070024</errorcode>"), "{throttled}");
    let (status, ok) = call(
        &portal,
        "Lists.asmx",
        "GetListItems",
        "<listName>Tin tức sự kiện</listName><rowLimit>10</rowLimit>",
    )
    .await;
    assert_eq!((status, ok.matches("<z:row ").count()), (200, 10));
    let (status, item) = call(
        &portal,
        "Lists.asmx",
        "GetAttachmentCollection",
        "<listName>Tin tức sự kiện</listName><listItemID>999</listItemID>",
    )
    .await;
    assert!(
        status == 500 && item.contains(">0x81020016</errorcode>"),
        "{item}"
    );
    let (status, unknown) = call(
        &portal,
        "Lists.asmx",
        "DeleteList",
        "<listName>Tin tức sự kiện</listName>",
    )
    .await;
    assert!(
        status == 500 && unknown.contains("soap:Client"),
        "{unknown}"
    );
}
