//! One mapping, many portals: the shipped mapping against another farm of the same content
//! type — a Vietnamese-language site whose built-in fields have Vietnamese names, whose news
//! list has another title and whose columns have other internal names. The real binary
//! against the real sample server on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, records, verify};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::{Farm, PortalOptions};
use std::collections::BTreeMap;
use std::path::Path;

fn vietnamese_farm() -> Portal {
    Portal::start(PortalOptions {
        farm: Farm::Vietnamese,
        ..Default::default()
    })
}

/// The records of a bag with what depends on the farm's port and list title made neutral:
/// the port in every URL and id, the list's title, and the instant of the run.
fn farm_neutral(bag: &Path, portal: &Portal) -> BTreeMap<i64, Value> {
    let port = url::Url::parse(&portal.url()).unwrap().port().unwrap();
    records(bag)
        .into_iter()
        .map(|(id, r)| {
            let text = r
                .to_string()
                .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
            let mut r: Value = serde_json::from_str(&text).unwrap();
            r["source"]["list"] = Value::Null;
            r["source"]["fetched_at"] = Value::Null;
            (id, r)
        })
        .collect()
}

#[test]
fn the_shipped_mapping_with_list_crawls_a_vietnamese_language_farm() {
    let tmp = tempfile::tempdir().unwrap();
    let vi = vietnamese_farm();
    let out = tmp.path().join("vi");
    crawl_cmd(&vi, &mapping(), &out)
        .args(["--list", "Tin tức", "--bagging-date", "2025-07-01"])
        .assert()
        .success();
    verify(&out).success();
    let got = records(&out);
    assert_eq!(got.len(), 31);
    let one = &got[&1];
    assert_eq!(one["source"]["list"], "Tin tức");
    // Built-ins found by internal name although the site calls them "Người tạo", "Đã tạo"…
    assert_eq!(one["created"]["by"], "Nguyễn Thị Thu Hà");
    assert_eq!(one["created"]["at"], "2023-01-05T09:40:00+07:00");
    assert_eq!(one["modified"]["by"], "Trần Văn Minh");
    assert_eq!(one["approval_status"], "approved");
    // …and custom fields by display name although their internal names differ.
    assert_eq!(one["published_at"], "2023-01-05T10:00:00+07:00");
    assert_eq!(one["author"], "P.PBGDPL.STPLA");
    assert_eq!(one["featured"], true);
    assert!(
        one["extra"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.contains("_x")),
        "{}",
        one["extra"]
    );

    // The same items from the Long An farm give the same records, but for the list's title.
    let long_an = Portal::start(PortalOptions::default());
    let out_la = tmp.path().join("long-an");
    crawl_cmd(&long_an, &mapping(), &out_la)
        .args(["--bagging-date", "2025-07-01"])
        .assert()
        .success();
    let (a, b) = (farm_neutral(&out, &vi), farm_neutral(&out_la, &long_an));
    assert_eq!(a.len(), b.len());
    for id in a.keys() {
        assert_eq!(a[id], b[id], "item {id}");
    }
}

#[test]
fn a_missing_list_is_reported_with_the_lists_the_site_has() {
    let tmp = tempfile::tempdir().unwrap();
    let vi = vietnamese_farm();
    let out = tmp.path().join("bag");
    crawl_cmd(&vi, &mapping(), &out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "list `Tin tức sự kiện` not found",
        ))
        .stderr(predicate::str::contains("--list TITLE"))
        .stderr(predicate::str::contains(
            "the site has: `Tin tức` (31 items, content type Tin Tức Mở Rộng), `Danh mục tin` (8 items)",
        ));
    assert!(!out.exists());
}

#[test]
fn a_mapping_naming_built_ins_in_english_still_finds_them_on_a_vietnamese_farm() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(mapping())
        .unwrap()
        .replace(r#"internal = "Author""#, r#"field = "Created By""#)
        .replace(r#"internal = "Editor""#, r#"field = "Modified By""#)
        .replace(r#"internal = "Created""#, r#"field = "Created""#)
        .replace(
            r#"internal = "_ModerationStatus""#,
            r#"field = "Approval Status""#,
        );
    assert!(text.contains(r#"field = "Created By""#));
    let english = tmp.path().join("english.toml");
    std::fs::write(&english, text).unwrap();
    let vi = vietnamese_farm();
    let out = tmp.path().join("bag");
    crawl_cmd(&vi, &english, &out)
        .args(["--list", "Tin tức"])
        .assert()
        .success();
    assert_eq!(records(&out)[&1]["created"]["by"], "Nguyễn Thị Thu Hà");
}
