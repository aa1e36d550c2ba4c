//! `sharc inspect` against the sample portal on 127.0.0.1: what a person and a script see of
//! the site, its lists and one list; a drafted mapping that crawls to the same records as the
//! shipped one; what the public pages tell when the REST API is closed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, sample_item, sharc};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::{ApiAccess, Farm, PortalOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn inspect_json(portal: &Portal, args: &[&str]) -> Value {
    let out = sharc()
        .arg("inspect")
        .arg(portal.url())
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn field<'a>(list: &'a Value, internal: &str) -> &'a Value {
    list["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["internal_name"] == internal)
        .unwrap_or_else(|| panic!("no field {internal}"))
}

#[test]
fn inspect_names_the_site_its_version_and_its_lists() {
    let portal = Portal::start(PortalOptions::default());
    sharc()
        .arg("inspect")
        .arg(portal.url())
        .assert()
        .success()
        .stdout(predicate::str::contains("Title       Sở Tư pháp tỉnh Long An"))
        .stdout(predicate::str::contains(
            "SharePoint  SharePoint 2013 (MicrosoftSharePointTeamServices: 15.0.0.4701)",
        ))
        .stdout(predicate::str::contains(
            "REST API    open; JSON shapes answered: nometadata, minimalmetadata, verbose",
        ))
        .stdout(predicate::str::is_match(r"Tin tức sự kiện\s+31\s+100 list\s+yes\s+yes\s+/Lists/TinTucSuKien\s+Tin Tức Mở Rộng, Item").unwrap());
    let v = inspect_json(&portal, &[]);
    assert_eq!(v["site"]["title"], "Sở Tư pháp tỉnh Long An");
    assert_eq!(v["site"]["language"], 1033);
    assert_eq!(v["site"]["server_version"], "15.0.0.4701");
    assert_eq!(v["site"]["sharepoint"], "SharePoint 2013");
    assert_eq!(v["site"]["rest_api"], "open");
    assert_eq!(
        v["site"]["json_shapes"],
        serde_json::json!(["nometadata", "minimalmetadata", "verbose"])
    );
    let lists = v["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0]["title"], "Tin tức sự kiện");
    assert_eq!(lists[0]["item_count"], 31);
    assert_eq!(lists[0]["url"], "/Lists/TinTucSuKien");
    assert_eq!(lists[0]["versioning"], true);
    assert_eq!(v["list"], Value::Null);
    assert_eq!(v["html"], Value::Null);
}

#[test]
fn inspect_list_shows_each_field_by_every_name_with_a_sample() {
    let portal = Portal::start(PortalOptions::default());
    let v = inspect_json(&portal, &["--list", "Tin tức sự kiện"]);
    let list = &v["list"];
    assert_eq!(list["title"], "Tin tức sự kiện");
    assert_eq!(list["content_types"][0]["name"], "Tin Tức Mở Rộng");
    let date = field(list, "Ng_x00e0_y_x0020_xu_x1ea5_t_x002");
    assert_eq!(date["title"], "Ngày xuất bản");
    assert_eq!(date["decoded_name"], "Ngày xuất…");
    assert_eq!(date["type"], "DateTime");
    assert_eq!(
        date["content_types"],
        serde_json::json!(["Tin Tức Mở Rộng"])
    );
    assert_eq!(
        date["sample"],
        sample_item(1)["Ng_x00e0_y_x0020_xu_x1ea5_t_x002"]
    );
    let status = field(list, "_ModerationStatus");
    assert_eq!(status["entity_property_name"], "OData__ModerationStatus");
    assert_eq!(status["built_in"], true);
    assert_eq!(status["choices"][0], "0;#Approved");
    // Lookups and users are sampled by title, not by id.
    assert_eq!(field(list, "Author")["sample"], "Nguyễn Thị Thu Hà");
    assert!(
        field(list, "Ph_x00e2_n_x0020_lo_x1ea1_i")["sample"]
            .as_str()
            .unwrap()
            .contains("Tin tức - Sự kiện")
    );
    assert_eq!(field(list, "Title")["required"], true);
    // Hidden fields are in the JSON, not in the table.
    assert_eq!(field(list, "GUID")["hidden"], true);
    sharc()
        .args(["inspect", &portal.url(), "--list", "Tin tức sự kiện"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(and 2 hidden, listed by --json)"))
        .stdout(
            predicate::str::is_match(
                r"Ngày xuất bản\s+Ng_x00e0_y_x0020_xu_x1ea5_t_x002\s+Ngày xuất…\s+=\s+DateTime",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("GUID").not());
}

#[test]
fn inspect_decodes_the_other_farms_internal_names() {
    let portal = Portal::start(PortalOptions {
        farm: Farm::Vietnamese,
        ..Default::default()
    });
    let v = inspect_json(&portal, &["--list", "Tin tức"]);
    let image = field(&v["list"], "_x1ea2_nh_x0020__x0111__x1ea1_i_");
    assert_eq!(image["title"], "Hình ảnh");
    assert_eq!(
        image["decoded_name"], "Ảnh đại…",
        "created as Ảnh đại diện, renamed"
    );
    assert_eq!(
        image["entity_property_name"],
        "OData__x1ea2_nh_x0020__x0111__x1ea1_i_"
    );
    assert_eq!(
        field(&v["list"], "T_x00E1_cgi_x1EA3_")["decoded_name"],
        "Tácgiả"
    );
    assert_eq!(field(&v["list"], "Author")["title"], "Người tạo");
    assert_eq!(v["site"]["language_name"], "Vietnamese");
}

/// Every record file of a bag, by name, as bytes.
fn record_files(bag: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(bag.join("data/records"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Drafts a mapping of `list` on `portal`, then crawls it and the shipped mapping (with
/// `extra` arguments) from the same server, with the same pinned bagging date: every record
/// file must be the same, byte for byte.
fn draft_crawls_like_the_shipped_mapping(portal: &Portal, list: &str, extra: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let draft = tmp.path().join("m.toml");
    sharc()
        .args(["inspect", &portal.url(), "--list", list, "--draft-mapping"])
        .arg(&draft)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Draft mapping written to {}: 22 field(s) mapped, 0 left",
            draft.display()
        )));
    let text = std::fs::read_to_string(&draft).unwrap();
    assert!(
        text.contains("created_by      = { internal = \"Author\", as = \"user\" }"),
        "{text}"
    );
    let (a, b) = (tmp.path().join("drafted"), tmp.path().join("shipped"));
    crawl_cmd(portal, &draft, &a)
        .args(["--bagging-date", "2025-07-01"])
        .assert()
        .success();
    crawl_cmd(portal, &mapping(), &b)
        .args(["--bagging-date", "2025-07-01"])
        .args(extra)
        .assert()
        .success();
    let (ra, rb) = (record_files(&a), record_files(&b));
    assert_eq!(ra.len(), 31);
    assert_eq!(ra.keys().collect::<Vec<_>>(), rb.keys().collect::<Vec<_>>());
    for (name, bytes) in &ra {
        assert!(
            *bytes == rb[name],
            "{name} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&rb[name])
        );
    }
}

#[test]
fn a_drafted_mapping_crawls_to_the_records_of_the_shipped_one() {
    let portal = Portal::start(PortalOptions::default());
    draft_crawls_like_the_shipped_mapping(&portal, "Tin tức sự kiện", &[]);
}

#[test]
fn a_mapping_drafted_on_the_vietnamese_farm_crawls_like_the_shipped_one_with_list() {
    let portal = Portal::start(PortalOptions {
        farm: Farm::Vietnamese,
        ..Default::default()
    });
    draft_crawls_like_the_shipped_mapping(&portal, "Tin tức", &["--list", "Tin tức"]);
}

#[test]
fn draft_mapping_never_writes_over_a_file_and_needs_a_list() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let existing = tmp.path().join("m.toml");
    std::fs::write(&existing, "keep me").unwrap();
    sharc()
        .args([
            "inspect",
            &portal.url(),
            "--list",
            "Tin tức sự kiện",
            "--draft-mapping",
        ])
        .arg(&existing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    sharc()
        .args(["inspect", &portal.url(), "--draft-mapping"])
        .arg(tmp.path().join("new.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--draft-mapping needs --list"));
    assert!(!tmp.path().join("new.toml").exists());
}

#[test]
fn inspect_of_a_list_that_does_not_exist_names_the_lists_there_are() {
    let portal = Portal::start(PortalOptions::default());
    sharc()
        .args(["inspect", &portal.url(), "--list", "Tin tức"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("list `Tin tức` not found"))
        .stderr(predicate::str::contains(
            "the site has: `Tin tức sự kiện` (31 items), `Danh mục tin` (8 items)",
        ));
}

#[test]
fn inspect_of_a_portal_without_rest_reads_an_article_page() {
    let portal = Portal::start(PortalOptions {
        api: ApiAccess::Forbidden403,
        ..Default::default()
    });
    let v = inspect_json(&portal, &[]);
    assert_eq!(v["site"]["rest_api"], "closed");
    assert_eq!(v["site"]["rest_status"], 403);
    let html = &v["html"];
    let article = html["article"].as_str().unwrap();
    assert!(
        article.contains("/Lists/TinTucSuKien/DispForm.aspx?ID="),
        "{article}"
    );
    let id: i64 = article.rsplit('=').next().unwrap().parse().unwrap();
    let item = sample_item(id);
    let forms = html["form_fields"].as_array().unwrap();
    assert!(forms.iter().any(|f| f["name"] == "Ngày xuất bản"
        && f["internal_name"] == "Ng_x00e0_y_x0020_xu_x1ea5_t_x002"
        && f["field_type"] == "SPFieldDateTime"));
    let candidate = |part: &str| -> (String, String) {
        let c = html["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["part"] == part)
            .unwrap_or_else(|| panic!("no {part} candidate: {html}"));
        (
            c["selector"].as_str().unwrap().to_string(),
            c["text"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        candidate("title"),
        (
            ".news-detail .news-title".to_string(),
            item["Title"].as_str().unwrap().to_string()
        )
    );
    assert_eq!(candidate("date").0, ".news-detail .date-line");
    assert_eq!(candidate("body").0, ".news-detail .news-content");
    assert_eq!(candidate("view_count").0, ".news-detail .news-views");
    assert!(candidate("view_count").1.starts_with("Lượt người xem: "));
    // The person's view says the same, and how to go on.
    sharc()
        .args(["inspect", &portal.url()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "REST API    closed to this identity (HTTP 403",
        ))
        .stdout(predicate::str::contains("`form = \"…\"` rules"))
        .stdout(predicate::str::is_match(r"body\s+\.news-detail \.news-content").unwrap());
    // A given article is read instead of looking for one; robots.txt is read first.
    let given = format!("{}Lists/TinTucSuKien/DispForm.aspx?ID=1", portal.url());
    let v = inspect_json(&portal, &["--article", &given]);
    assert_eq!(v["html"]["article"], given);
    assert!(
        portal
            .requests()
            .iter()
            .any(|r| r.path_and_query == "/robots.txt")
    );
}

#[test]
fn inspect_of_a_site_that_does_not_answer_is_an_operational_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    sharc()
        .args([
            "inspect",
            &format!("http://127.0.0.1:{port}/"),
            "--max-wait",
            "2",
        ])
        .env("SHARC_LOG", "off")
        .assert()
        .code(1);
}

#[test]
fn inspect_of_a_verbose_only_farm_says_so_and_still_reads_the_list() {
    let portal = Portal::start(PortalOptions {
        json_light: false,
        ..Default::default()
    });
    let v = inspect_json(&portal, &["--list", "Tin tức sự kiện"]);
    assert_eq!(v["site"]["json_shapes"], serde_json::json!(["verbose"]));
    assert_eq!(
        v["lists"][0]["content_types"],
        serde_json::json!(["Tin Tức Mở Rộng", "Item"])
    );
    assert_eq!(
        v["list"]["content_types"][0]["fields"]
            .as_array()
            .unwrap()
            .len(),
        17
    );
    assert_eq!(field(&v["list"], "Editor")["sample"], "Trần Văn Minh");
    assert_eq!(
        field(&v["list"], "Lo_x1ea1_i_x0020_b_x00e0_i_x0020")["choices"][0],
        "Tin"
    );
}

#[test]
fn a_closed_portal_without_a_home_page_is_told_to_name_an_article() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("portal.json"),
        r#"{"site": {"title": "Trống", "server_relative_url": "/", "web_id": "b1a2c3d4-0000-4000-8000-000000000001"},
            "lists": [{"id": "0b0b0b0b-2222-4c22-9a33-0123456789ab", "title": "Trống", "url_name": "Trong"}]}"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("lists/Trong")).unwrap();
    std::fs::write(dir.path().join("lists/Trong/fields.json"), "[]").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let opts = PortalOptions {
        api: ApiAccess::Unauthorized401,
        ..Default::default()
    };
    let portal = rt
        .block_on(sharc_sample::RunningPortal::start(dir.path(), opts, 0))
        .unwrap();
    let out = sharc()
        .args(["inspect", portal.base_url.as_str(), "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["site"]["rest_status"], 401);
    assert_eq!(v["html"]["article"], Value::Null);
    let why = v["html"]["no_article"].as_str().unwrap();
    assert!(
        why.contains("HTTP 404") && why.contains("--article URL"),
        "{why}"
    );
    rt.block_on(portal.shutdown());
}
