//! End-to-end crawls of the sample portal over REST: the real binary against the real server
//! on 127.0.0.1, bags on disk, `sharc verify` as the judge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, records, sample_dir, sample_item, sha256_file, verify};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::PortalOptions;
use std::path::Path;

fn crawl(portal: &Portal, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    crawl_cmd(portal, &mapping(), out).args(extra).assert()
}

/// Records with the fields that legitimately differ between runs or shapes blanked.
fn comparable(mut r: Value) -> Value {
    r["source"]["fetched_at"] = Value::Null;
    r["source"]["etag"] = Value::Null;
    r
}

#[test]
fn every_json_shape_gives_the_same_records_and_a_valid_bag() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let mut bags = Vec::new();
    for shape in ["nometadata", "minimalmetadata", "verbose"] {
        let out = tmp.path().join(shape);
        crawl(&portal, &out, &["--odata", shape, "--page-size", "7"]).success();
        verify(&out)
            .success()
            .stdout(predicate::str::contains("valid"));
        bags.push(records(&out));
    }
    assert_eq!(
        bags[0].len(),
        31,
        "every item of the sample list is archived"
    );
    for id in bags[0].keys() {
        let a = comparable(bags[0][id].clone());
        assert_eq!(
            a,
            comparable(bags[1][id].clone()),
            "item {id}: nometadata vs minimalmetadata"
        );
        assert_eq!(
            a,
            comparable(bags[2][id].clone()),
            "item {id}: nometadata vs verbose"
        );
    }
    // Verbose and minimal metadata carry the item etag; it is the item's version counter.
    assert_eq!(
        bags[2][&1]["source"]["etag"],
        Value::String(format!("\"{}\"", sample_item(1)["owshiddenversion"]))
    );
}

#[test]
fn a_verbose_only_farm_is_crawled_in_verbose() {
    let portal = Portal::start(PortalOptions {
        json_light: false,
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    verify(&out).success();
    assert_eq!(records(&out).len(), 31);
    let log = portal.requests();
    assert!(
        log.iter().any(|r| r.status == 406),
        "the first, non-verbose request was refused: {log:?}"
    );
    let items: Vec<_> = log
        .iter()
        .filter(|r| r.path_and_query.contains("/items"))
        .collect();
    assert!(
        !items.is_empty() && items.iter().all(|r| r.status == 200),
        "{items:?}"
    );
}

#[test]
fn paging_follows_next_links_and_never_skips() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &["--page-size", "5"]).success();
    let item_requests: Vec<String> = portal
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|p| p.to_lowercase().contains("/items?"))
        .collect();
    assert_eq!(
        item_requests.len(),
        7,
        "31 items in pages of 5: {item_requests:#?}"
    );
    assert!(
        item_requests
            .iter()
            .skip(1)
            .all(|p| p.contains("%24skiptoken=Paged%3dTRUE%26p_ID%3d")),
        "{item_requests:#?}"
    );
    assert!(
        item_requests
            .iter()
            .all(|p| !p.to_lowercase().contains("skip=")),
        "$skip is never used"
    );
    let ids: Vec<i64> = records(&out).keys().copied().collect();
    assert_eq!(ids, (1..=31).collect::<Vec<_>>());
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("data/crawl-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["counts"]["pages"], 7);
    assert_eq!(report["complete"], true);
}

#[test]
fn the_seed_article_maps_every_field() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    // Written as UTF-8 a person can read in a pager: no \uXXXX escapes for Vietnamese.
    let bytes = std::fs::read(out.join("data/records/000001.json")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("\"title\": \"UBND tỉnh Long An chỉ đạo"),
        "{text}"
    );
    assert!(!text.contains("\\u"), "{text}");
    let all = records(&out);
    let r = &all[&1];
    let raw = sample_item(1);
    assert_eq!(
        r["title"],
        "UBND tỉnh Long An chỉ đạo chấn chỉnh kỷ luật, kỷ cương hành chính, nâng cao tinh thần, trách nhiệm và ý thức trong thực thi công vụ"
    );
    // datetime: REST gives UTC; the record carries +07:00 (Thứ 5, 05/01/2023 10:00 on the page).
    assert_eq!(r["published_at"], "2023-01-05T10:00:00+07:00");
    // integer from 20.0; boolean; text; lookup (multi, expanded); choice; moderation status.
    assert_eq!(r["view_count"], 20);
    assert_eq!(r["featured"], true);
    assert_eq!(r["author"], "P.PBGDPL.STPLA");
    assert!(
        r["categories"].as_array().is_some_and(|c| !c.is_empty()),
        "{}",
        r["categories"]
    );
    assert_eq!(r["approval_status"], "approved");
    assert_eq!(r["source"]["content_type"], "Tin Tức Mở Rộng");
    assert_eq!(r["source"]["via"], "rest");
    assert!(
        r["id"]
            .as_str()
            .unwrap()
            .starts_with("urn:sharc:127.0.0.1:")
    );
    // html kept exactly as served; text derived.
    let body_field = raw
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("N_x1ed9_i"))
        .unwrap()
        .1;
    assert_eq!(&r["body"]["html"], body_field);
    let text = r["body"]["text"].as_str().unwrap();
    assert!(
        text.contains("Đối với Thủ trưởng các cơ quan, đơn vị"),
        "{text}"
    );
    assert!(!text.contains('<') && !text.contains("&nbsp;"));
    // user (expanded), created/modified with the offset.
    assert!(r["created"]["by"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(r["modified"]["at"].as_str().unwrap().ends_with("+07:00"));
    // fields the mapping does not name stay raw in extra.
    assert!(
        r["extra"].get("owshiddenversion").is_some(),
        "{}",
        r["extra"]
    );
    // every record: integers are integers, instants carry +07:00, approval states are named.
    for (id, rec) in &all {
        for k in ["view_count", "page_count", "image_count"] {
            assert!(
                rec[k].is_null() || rec[k].is_i64(),
                "item {id}: {k} = {}",
                rec[k]
            );
        }
        assert!(
            rec["published_at"].is_null()
                || rec["published_at"].as_str().unwrap().ends_with("+07:00")
        );
    }
    let states: std::collections::BTreeSet<_> = all
        .values()
        .map(|r| r["approval_status"].as_str().unwrap_or("").to_string())
        .collect();
    for s in ["approved", "draft", "pending"] {
        assert!(states.contains(s), "{states:?}");
    }
}

#[test]
fn nfd_titles_become_nfc_and_raw_values_are_kept() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    let all = records(&out);
    let mut nfd_seen = 0;
    for id in 1..=31 {
        let raw_title = sample_item(id)["Title"].as_str().unwrap().to_string();
        let nfc: String =
            unicode_normalization::UnicodeNormalization::nfc(raw_title.as_str()).collect();
        let title = all[&id]["title"].as_str().unwrap();
        assert!(unicode_normalization::is_nfc(title), "item {id}");
        assert_eq!(title, nfc.trim());
        if raw_title != nfc {
            nfd_seen += 1;
            assert_eq!(
                all[&id]["extra"]["Title"],
                Value::String(raw_title),
                "item {id}: raw title kept"
            );
        }
    }
    assert!(nfd_seen >= 3, "the sample has NFD titles");
}

#[test]
fn attachments_with_awkward_names_are_archived_under_portable_names() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    let all = records(&out);
    let mut names_seen = Vec::new();
    for id in 1..=31 {
        let raw = sample_item(id);
        for a in raw["_attachments"].as_array().unwrap() {
            let name = a["FileName"].as_str().unwrap();
            let stored = sample_dir().join(a["stored"].as_str().unwrap());
            let rec = all[&id]["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == name)
                .unwrap_or_else(|| panic!("item {id}: {name} in the record"));
            let file = &rec["file"];
            let path = file["path"].as_str().unwrap();
            assert!(path.starts_with("data/files/"), "{path}");
            assert!(
                path.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b)),
                "portable: {path}"
            );
            assert_eq!(file["sha256"], sha256_file(&stored), "item {id}: {name}");
            assert_eq!(sha256_file(&out.join(path)), sha256_file(&stored));
            names_seen.push(name.to_string());
        }
    }
    for special in ["#", "%", "'", "Đ", " ", ".."] {
        assert!(
            names_seen.iter().any(|n| n.contains(special)),
            "the sample has a name with {special:?}: {names_seen:?}"
        );
    }
    // Names that differ only by case get distinct payload paths.
    let paths: Vec<String> = all
        .values()
        .flat_map(|r| {
            r["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["file"]["path"].as_str().unwrap().to_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    let unique: std::collections::BTreeSet<_> = paths.iter().collect();
    assert_eq!(
        unique.len(),
        paths.len(),
        "payload paths unique ignoring case"
    );
    // The path map lists every original URL.
    let tsv = std::fs::read_to_string(out.join("data/path-map.tsv")).unwrap();
    assert!(tsv.lines().count() > names_seen.len());
}

#[test]
fn a_hostile_attachment_name_stays_inside_data() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    let hostile = records(&out)
        .values()
        .flat_map(|r| r["attachments"].as_array().unwrap().clone())
        .find(|a| a["name"].as_str().unwrap().contains(".."))
        .expect("the sample has a hostile name");
    let path = hostile["file"]["path"].as_str().unwrap();
    assert!(path.starts_with("data/files/"), "{path}");
    assert!(
        path.split('/')
            .all(|seg| seg != ".." && seg != "." && !seg.is_empty()),
        "{path}"
    );
    assert!(!path.contains('%') && !path.contains('\\'), "{path}");
    assert!(out.join(path).is_file());
    // Nothing was written outside the bag but the run's statistics beside it.
    let mut siblings: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    siblings.sort();
    assert_eq!(siblings, ["bag", "bag.sharc-run.json"]);
}

#[test]
fn off_site_images_are_recorded_but_never_fetched() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    let all = records(&out);
    let body_images: Vec<&Value> = all
        .values()
        .flat_map(|r| r["body"]["images"].as_array().into_iter().flatten())
        .collect();
    assert!(!body_images.is_empty());
    assert!(
        body_images
            .iter()
            .all(|i| i["file"]["path"].as_str().is_some()),
        "same-site body images archived"
    );
    assert!(
        body_images
            .iter()
            .all(|i| !i["url"].as_str().unwrap().contains("baolongan.vn"))
    );
    let html_with_offsite = all
        .values()
        .filter(|r| {
            r["body"]["html"]
                .as_str()
                .is_some_and(|h| h.contains("baolongan.vn"))
        })
        .count();
    assert!(html_with_offsite >= 1);
    let images: Vec<&Value> = all
        .values()
        .filter(|r| !r["image"].is_null())
        .map(|r| &r["image"])
        .collect();
    assert!(
        images.len() >= 5 && images.iter().all(|i| i["file"]["sha256"].is_string()),
        "{images:?}"
    );
}

#[test]
fn verify_catches_a_flipped_byte_a_removed_file_and_an_added_file() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("bag");
    crawl(&portal, &good, &[]).success();
    verify(&good).success();

    let copy = |name: &str| {
        let dst = tmp.path().join(name);
        copy_dir(&good, &dst);
        dst
    };
    let victim = "data/files/Lists/TinTucSuKien/Attachments/12";
    let first_file = |bag: &Path| {
        let dir = bag.join(victim);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files[0].clone()
    };

    let flipped = copy("flipped");
    let f = first_file(&flipped);
    let mut bytes = std::fs::read(&f).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&f, bytes).unwrap();
    let name = f
        .strip_prefix(&flipped)
        .unwrap()
        .to_string_lossy()
        .to_string();
    verify(&flipped)
        .code(3)
        .stderr(predicate::str::contains(name.clone()));

    let removed = copy("removed");
    std::fs::remove_file(first_file(&removed)).unwrap();
    verify(&removed)
        .code(3)
        .stderr(predicate::str::contains(name));

    let added = copy("added");
    std::fs::write(added.join("data/files/extra.txt"), b"not in any manifest").unwrap();
    verify(&added)
        .code(3)
        .stderr(predicate::str::contains("data/files/extra.txt"));
}

#[test]
fn a_mapping_naming_a_missing_field_stops_before_any_download() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(mapping())
        .unwrap()
        .replace("\"Ngày xuất bản\"", "\"Ngày xuất bảng\"");
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    let out = tmp.path().join("bag");
    crawl_cmd(&portal, &bad, &out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Ngày xuất bảng"))
        .stderr(predicate::str::contains(
            "`Ngày xuất bản` (Ng_x00e0_y_x0020_xu_x1ea5_t_x002)",
        ));
    assert!(!out.exists());
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );
    assert!(
        portal
            .requests()
            .iter()
            .all(|r| !r.path_and_query.contains("/items")
                && !r.path_and_query.contains("Attachments"))
    );
}

#[test]
fn an_existing_out_directory_is_never_overwritten() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("precious.txt"), b"keep me").unwrap();
    crawl(&portal, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read(out.join("precious.txt")).unwrap(), b"keep me");
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}
