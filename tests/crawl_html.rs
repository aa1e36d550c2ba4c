//! End-to-end crawls of the sample portal through its public HTML pages: the real binary
//! against the real server on 127.0.0.1 with `/_api` closed, bags on disk, `sharc verify` as
//! the judge, and a REST crawl of the same portal as the reference.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Portal, crawl_cmd, mapping, records, report, sample_dir, sample_item, sha256_file, sharc,
    verify,
};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::{ApiAccess, PortalOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Items of the sample list the public cannot see: 4 is "Ngừng xuất bản", 27 rejected,
/// 29 a draft, 31 pending.
const NOT_PUBLIC: [i64; 4] = [4, 27, 29, 31];

const LIST_PAGE: &str = "/Lists/TinTucSuKien/TongQuat.aspx";

fn crawl(
    portal: &Portal,
    mapping: &Path,
    out: &Path,
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    crawl_cmd(portal, mapping, out).args(extra).assert()
}

fn closed(api: ApiAccess) -> PortalOptions {
    PortalOptions {
        api,
        ..Default::default()
    }
}

/// The shipped mapping with `edit` applied, written next to the bag.
fn mapping_variant(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = edit(std::fs::read_to_string(mapping()).unwrap());
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A careless mapping: every link of a list entry is taken for an article, and an id is read
/// from `ID=` or from a news-site slug (`-a158204.html`). Only robots.txt and the host check
/// stand between it and the `/_layouts/` by-lines and the off-site source links.
fn careless_mapping(dir: &Path) -> PathBuf {
    mapping_variant(dir, "careless.toml", |t| {
        t.replace(
            "links = \".news-list a.news-link\"",
            "links = \".news-list a[href]\"",
        )
        .replace("link_pattern = 'DispForm\\.aspx\\?ID=\\d+'\n", "")
        .replace("item_id = \"ID\"", "item_id_pattern = '(?:ID=|-a)(\\d+)'")
    })
}

fn list_page_requests(portal: &Portal) -> Vec<String> {
    portal
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .filter(|p| p.starts_with(LIST_PAGE))
        .collect()
}

#[test]
fn auto_falls_back_to_the_html_pages_when_the_api_is_closed_and_the_bag_verifies() {
    for (api, status) in [
        (ApiAccess::Forbidden403, 403),
        (ApiAccess::Unauthorized401, 401),
    ] {
        let portal = Portal::start(closed(api));
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("bag");
        crawl(&portal, &mapping(), &out, &[])
            .success()
            .stderr(predicate::str::contains(format!(
                "the REST API is closed (HTTP {status}); reading the public HTML pages instead"
            )));
        verify(&out)
            .success()
            .stdout(predicate::str::contains("valid"));
        let all = records(&out);
        assert_eq!(all.len(), 31 - NOT_PUBLIC.len());
        for (id, r) in &all {
            assert_eq!(r["source"]["via"], "html", "item {id}");
            assert_eq!(
                r["source"]["url"],
                format!("{}Lists/TinTucSuKien/DispForm.aspx?ID={id}", portal.url())
            );
        }
        let rep = report(&out);
        assert_eq!(rep["via"], "html");
        assert_eq!(rep["complete"], true);
        assert!(
            rep["notes"][0]
                .as_str()
                .unwrap()
                .contains(&format!("HTTP {status}")),
            "{}",
            rep["notes"]
        );
    }
}

#[test]
fn a_mapping_without_html_cannot_fall_back_and_says_so() {
    let portal = Portal::start(closed(ApiAccess::Forbidden403));
    let tmp = tempfile::tempdir().unwrap();
    let rest_only = mapping_variant(tmp.path(), "rest-only.toml", |t| {
        t[..t.find("\n[html]").unwrap()].to_string()
    });
    let out = tmp.path().join("bag");
    crawl(&portal, &rest_only, &out, &[])
        .code(1)
        .stderr(predicate::str::contains("HTTP 403"))
        .stderr(predicate::str::contains("no [html] section"));
    assert!(!out.exists());
    crawl(&portal, &rest_only, &out, &["--source", "html"])
        .code(2)
        .stderr(predicate::str::contains("[html] section"));
}

#[test]
fn pagination_reads_every_list_page_once_and_stops_at_the_last() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &mapping(), &out, &["--source", "html"]).success();
    // 27 public items, 10 a page: three pages, and no request for a fourth.
    assert_eq!(
        list_page_requests(&portal),
        vec![
            LIST_PAGE.to_string(),
            format!("{LIST_PAGE}?Page=2"),
            format!("{LIST_PAGE}?Page=3"),
        ]
    );
    let log: Vec<String> = portal
        .requests()
        .into_iter()
        .map(|r| r.path_and_query)
        .collect();
    assert!(
        log.iter().all(|p| !p.to_lowercase().starts_with("/_api")),
        "--source html never asks the API"
    );
    assert!(
        log.iter()
            .all(|p| !p.contains("Calendar.aspx") && !p.contains("SortField")),
        "neither the calendar nor sorted permutations of the list are followed"
    );
    let mut unique = BTreeSet::new();
    for p in &log {
        assert!(unique.insert(p), "{p} fetched twice");
    }
    let ids: Vec<i64> = records(&out).keys().copied().collect();
    let expected: Vec<i64> = (1..=31).filter(|i| !NOT_PUBLIC.contains(i)).collect();
    assert_eq!(ids, expected);
    assert_eq!(report(&out)["counts"]["pages"], 3);
}

#[test]
fn robots_txt_is_obeyed_and_ignore_robots_overrides_it() {
    let tmp = tempfile::tempdir().unwrap();
    let careless = careless_mapping(tmp.path());

    let portal = Portal::start(PortalOptions::default());
    let out = tmp.path().join("obeyed");
    crawl(&portal, &careless, &out, &["--source", "html"]).success();
    let log = portal.requests();
    // The site itself is looked at first (is it there at all?), then robots.txt, before
    // any page of the list.
    assert_eq!(log[0].path_and_query, "/");
    assert_eq!(
        log[1].path_and_query, "/robots.txt",
        "robots.txt is read before any page of the list"
    );
    assert!(
        log.iter()
            .all(|r| !r.path_and_query.starts_with("/_layouts/")),
        "/_layouts/ is disallowed: {log:#?}"
    );
    assert_eq!(records(&out).len(), 31 - NOT_PUBLIC.len());
    let notes = report(&out)["notes"].to_string();
    assert!(
        notes.contains("robots.txt disallows") && notes.contains("/_layouts/15/userdisp.aspx?ID="),
        "{notes}"
    );
    drop(portal);

    let portal = Portal::start(PortalOptions::default());
    let out = tmp.path().join("ignored");
    // The by-line links are not articles: they fail, and the crawl says so (exit 4).
    crawl(
        &portal,
        &careless,
        &out,
        &["--source", "html", "--ignore-robots"],
    )
    .code(4)
    .stderr(predicate::str::contains("userdisp.aspx"));
    let failures = report(&out)["failures"].clone();
    assert!(
        failures
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["code"] == "item-fetch-failed"),
        "{failures}"
    );
    let log = portal.requests();
    assert!(log.iter().all(|r| r.path_and_query != "/robots.txt"));
    assert!(
        log.iter().any(|r| r
            .path_and_query
            .starts_with("/_layouts/15/userdisp.aspx?ID=")),
        "{log:#?}"
    );
}

/// A TCP listener standing in for every host but 127.0.0.1: the crawler is pointed at it as
/// its HTTP(S) proxy, so any request for an off-site URL would arrive here.
struct OffSiteTrap {
    addr: String,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl OffSiteTrap {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (Arc::clone(&hits), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok(_) => {
                        h.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        Self { addr, hits, stop }
    }
}

impl Drop for OffSiteTrap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn an_off_site_link_is_never_fetched() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let careless = careless_mapping(tmp.path());
    let trap = OffSiteTrap::start();
    let out = tmp.path().join("bag");
    let mut cmd = sharc();
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &trap.addr);
    }
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .arg("crawl")
        .arg(portal.url())
        .arg("--mapping")
        .arg(&careless)
        .arg("--out")
        .arg(&out)
        .args(["--source", "html", "--max-wait", "2"]);
    let done = cmd.assert();
    assert_eq!(
        trap.hits.load(Ordering::Relaxed),
        0,
        "no request left 127.0.0.1"
    );
    done.success();
    let off_site = "https://baolongan.vn/tuyen-truyen-phap-luat-ve-phong-chong-ma-tuy-cho-hoc-sinh-sinh-vien-a158204.html";
    let rep = report(&out);
    assert!(
        rep["notes"].to_string().contains(off_site),
        "the refused link is reported: {}",
        rep["notes"]
    );
    // Item 18 links it as its source: recorded, not fetched.
    let all = records(&out);
    assert_eq!(all[&18]["alternate_url"], off_site);
    assert!(!all.contains_key(&158204));
}

#[test]
fn a_windows_1258_page_is_decoded_to_the_right_nfc_text() {
    let portal = Portal::start(PortalOptions::default());
    assert_eq!(PortalOptions::default().html_windows_1258_item, Some(3));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &mapping(), &out, &["--source", "html"]).success();
    let r = &records(&out)[&3];
    let raw = sample_item(3);
    let nfc = |s: &str| -> String { unicode_normalization::UnicodeNormalization::nfc(s).collect() };
    assert_eq!(r["title"], nfc(raw["Title"].as_str().unwrap()).trim());
    assert_eq!(
        r["summary"],
        nfc(raw["T_x00f3_m_x0020_t_x1eaf_t"].as_str().unwrap()).trim()
    );
    let stored_body = raw["N_x1ed9_i_x0020_dung"].as_str().unwrap();
    let html = r["body"]["html"].as_str().unwrap();
    // As served: windows-1258 spells tones as combining marks, so the page is not NFC …
    assert!(!unicode_normalization::is_nfc(html));
    assert_eq!(nfc(html), stored_body);
    // … while everything derived from it is.
    assert_eq!(r["body"]["text"], sharc::text::html::to_text(stored_body));
    assert!(unicode_normalization::is_nfc(
        r["body"]["text"].as_str().unwrap()
    ));
    assert_eq!(r["published_at"], "2021-05-20T14:30:00+07:00");
    // The raw, decomposed title stays beside the derived one.
    let kept = r["extra"]["Tiêu đề"].as_str().unwrap();
    assert!(!unicode_normalization::is_nfc(kept));
    assert_eq!(nfc(kept), nfc(raw["Title"].as_str().unwrap()));
}

#[test]
fn max_pages_bounds_an_endless_list() {
    let opts = PortalOptions {
        html_endless_paging: true,
        ..Default::default()
    };
    let tmp = tempfile::tempdir().unwrap();

    // The list rule alone: the first page past the end shows nothing new, and the list ends.
    let portal = Portal::start(opts.clone());
    let out = tmp.path().join("rule");
    crawl(&portal, &mapping(), &out, &["--source", "html"]).success();
    assert_eq!(list_page_requests(&portal).len(), 4);
    assert_eq!(records(&out).len(), 27);
    drop(portal);

    // A mapping that trusts the "next" link: only --max-pages ends it.
    let trusting = mapping_variant(tmp.path(), "trusting.toml", |t| {
        t.replace("item_id = \"ID\"", "item_id = \"ID\"\nstop = \"no-next\"")
    });
    let portal = Portal::start(opts);
    let out = tmp.path().join("bounded");
    // Cut off by --max-pages, the list is not known to be complete: the bag says so.
    crawl(
        &portal,
        &trusting,
        &out,
        &["--source", "html", "--max-pages", "7"],
    )
    .code(4)
    .stderr(predicate::str::contains("--max-pages"))
    .stderr(predicate::str::contains("Page=8"));
    let pages = list_page_requests(&portal);
    assert_eq!(pages.len(), 7, "{pages:#?}");
    assert_eq!(pages[6], format!("{LIST_PAGE}?Page=7"));
    assert_eq!(records(&out).len(), 27);
    let rep = report(&out);
    assert_eq!(rep["complete"], false);
    let refused = rep["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["code"], "max-pages");
    assert!(refused[0]["url"].as_str().unwrap().ends_with("Page=8"));
    assert!(bag_info(&out).contains("Sharc-Crawl-Status: partial"));
    verify(&out).success();
}

/// `bag-info.txt` of a bag.
fn bag_info(bag: &Path) -> String {
    std::fs::read_to_string(bag.join("bag-info.txt")).unwrap()
}

/// The article ids one page of the public news list links to, as the portal serves it.
fn ids_on_list_page(portal: &Portal, page: u32) -> Vec<i64> {
    let url = format!(
        "{}{}?Page={page}",
        portal.url().trim_end_matches('/'),
        LIST_PAGE
    );
    let html = portal
        .rt
        .block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    let link =
        regex::Regex::new(r#"class="news-link" href="[^"]*DispForm\.aspx\?ID=(\d+)""#).unwrap();
    link.captures_iter(&html)
        .map(|c| c[1].parse().unwrap())
        .collect()
}

#[test]
fn a_list_page_whose_articles_robots_txt_refuses_does_not_end_the_list() {
    let probe = Portal::start(PortalOptions::default());
    let page_2 = ids_on_list_page(&probe, 2);
    drop(probe);
    assert_eq!(page_2.len(), 10, "{page_2:?}");
    let portal = Portal::start(PortalOptions {
        html_robots_disallow: page_2
            .iter()
            .map(|id| format!("/Lists/TinTucSuKien/DispForm.aspx?ID={id}$"))
            .collect(),
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &mapping(), &out, &["--source", "html"])
        .code(4)
        .stderr(predicate::str::contains(
            "robots.txt disallows this article page",
        ));
    // Page 2 shows only refused articles, and page 3 is read all the same.
    assert_eq!(list_page_requests(&portal).len(), 3);
    let archived: BTreeSet<i64> = records(&out).keys().copied().collect();
    let expected: BTreeSet<i64> = (1..=31)
        .filter(|i| !NOT_PUBLIC.contains(i) && !page_2.contains(i))
        .collect();
    assert_eq!(archived, expected);
    let rep = report(&out);
    assert_eq!(rep["complete"], false);
    let mut refused: Vec<i64> = rep["refused"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|r| assert_eq!(r["code"], "robots", "{r}"))
        .map(|r| r["item_id"].as_i64().unwrap())
        .collect();
    refused.sort();
    let mut wanted = page_2.clone();
    wanted.sort();
    assert_eq!(refused, wanted);
    // The refused items are not taken for items the public cannot see.
    for s in rep["skipped"].as_array().unwrap() {
        let first = s["item_id"].as_i64().unwrap();
        let last = s["last_item_id"].as_i64().unwrap_or(first);
        assert!(page_2.iter().all(|id| *id < first || *id > last), "{s}");
    }
    assert!(bag_info(&out).contains("Sharc-Crawl-Status: partial"));
    verify(&out).success();
}

#[test]
fn crawl_delay_is_honoured() {
    let portal = Portal::start(PortalOptions {
        html_crawl_delay: Some(0.25),
        html_page_size: 3,
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let started = std::time::Instant::now();
    crawl(
        &portal,
        &mapping(),
        &out,
        &["--source", "html", "--max-pages", "1"],
    )
    .code(4);
    // One list page and three articles after it, a quarter of a second apart.
    assert!(started.elapsed() >= std::time::Duration::from_millis(750));
    assert_eq!(records(&out).len(), 3);
    // The ids the one page read did not show may be on the pages not read: not called
    // "not public".
    let skipped = report(&out)["skipped"].as_array().unwrap().clone();
    assert!(!skipped.is_empty());
    assert!(
        skipped.iter().all(|s| s["code"] == "not-read"),
        "{skipped:?}"
    );
    assert!(
        report(&out)["notes"]
            .to_string()
            .contains("robots.txt asks for 250 ms"),
        "{}",
        report(&out)["notes"]
    );
}

#[test]
fn the_view_count_changes_on_every_fetch_but_never_the_fingerprint() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    crawl(&portal, &mapping(), &a, &["--source", "html"]).success();
    crawl(&portal, &mapping(), &b, &["--source", "html"]).success();
    let (a, b) = (records(&a), records(&b));
    for (id, ra) in &a {
        let rb = &b[id];
        let stored = sample_item(*id)["S_x1ed1__x0020_l_x01b0__x1ee3_t_"]
            .as_f64()
            .unwrap() as i64;
        assert_eq!(ra["view_count"], stored + 1, "item {id}: the first view");
        assert_eq!(rb["view_count"], stored + 2, "item {id}: the second view");
        assert_eq!(ra["source"]["etag"], rb["source"]["etag"], "item {id}");
        assert!(
            ra["source"]["etag"]
                .as_str()
                .unwrap()
                .starts_with("\"html:")
        );
    }
}

/// What a record says about one item that both sources can see, files by their sha256.
fn visible_fields(r: &Value) -> BTreeMap<&'static str, Value> {
    let files = |v: &Value| -> Value {
        Value::Array(
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| {
                            serde_json::json!([x.get("name").or(x.get("src")), x["file"]["sha256"]])
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let mut m = BTreeMap::new();
    m.insert("id", r["id"].clone());
    for k in [
        "title",
        "summary",
        "published_at",
        "author",
        "categories",
        "featured",
        "article_type",
        "status",
        "approval_status",
        "page_count",
        "image_count",
        "history",
        "alternate_url",
        "created",
        "modified",
    ] {
        m.insert(k, r[k].clone());
    }
    m.insert("body.text", r["body"]["text"].clone());
    m.insert("body.images", files(&r["body"]["images"]));
    m.insert("attachments", files(&r["attachments"]));
    m.insert(
        "image",
        serde_json::json!([
            r["image"]["url"],
            r["image"]["caption"],
            r["image"]["file"]["sha256"]
        ]),
    );
    m
}

#[test]
fn rest_and_html_agree_on_every_field_the_pages_show() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let (rest_bag, html_bag) = (tmp.path().join("rest"), tmp.path().join("html"));
    crawl(&portal, &mapping(), &rest_bag, &["--source", "rest"]).success();
    crawl(&portal, &mapping(), &html_bag, &["--source", "html"]).success();
    verify(&html_bag).success();
    let (rest, html) = (records(&rest_bag), records(&html_bag));

    // Items the public cannot see are in the REST crawl only …
    let only_rest: Vec<i64> = rest
        .keys()
        .filter(|id| !html.contains_key(id))
        .copied()
        .collect();
    assert_eq!(only_rest, NOT_PUBLIC);
    for id in NOT_PUBLIC {
        let r = &rest[&id];
        assert!(
            r["approval_status"] != "approved" || r["status"] != "Đã ban hành",
            "item {id} is not public: {} / {}",
            r["approval_status"],
            r["status"]
        );
    }
    assert!(html.keys().all(|id| rest.contains_key(id)));
    // … and the HTML crawl report says which ids its list never showed.
    let rep = report(&html_bag);
    let skipped: Vec<i64> = rep["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["item_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        skipped,
        vec![4, 27, 29],
        "31 is above every id the list shows"
    );
    assert!(
        rep["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["code"] == "not-public"),
        "{rep}"
    );
    assert!(rep["notes"].to_string().contains("drafts, pending"));

    for (id, h) in &html {
        let r = &rest[id];
        assert_eq!(visible_fields(h), visible_fields(r), "item {id}");
        assert!(
            h["view_count"].as_i64() > r["view_count"].as_i64(),
            "item {id}: the page counted its own view"
        );
        let (hb, rb) = (h["body"]["html"].as_str(), r["body"]["html"].as_str());
        if *id == 3 {
            // Served in windows-1258: the same text with tones as combining marks.
            let nfc: String =
                unicode_normalization::UnicodeNormalization::nfc(hb.unwrap()).collect();
            assert_eq!(Some(nfc.as_str()), rb);
        } else {
            assert_eq!(hb, rb, "item {id}: the body exactly as served");
        }
    }
    // Attachment bytes are the sample's own.
    for a in html[&12]["attachments"].as_array().unwrap() {
        let stored = sample_item(12)["_attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["FileName"] == a["name"])
            .map(|x| sample_dir().join(x["stored"].as_str().unwrap()))
            .unwrap();
        assert_eq!(a["file"]["sha256"], sha256_file(&stored));
    }
}

/// The `[html]` examples in the README parse: the excerpt of the shipped mapping with the
/// shipped `[list]` and `[fields]`, the worked example on its own.
#[test]
fn the_readme_html_examples_parse() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("## Portals without REST").unwrap()..];
    let blocks: Vec<&str> = section
        .split("```toml\n")
        .skip(1)
        .map(|b| &b[..b.find("```").unwrap()])
        .collect();
    assert_eq!(blocks.len(), 2, "the format and the worked example");
    let shipped = std::fs::read_to_string(mapping()).unwrap();
    let head = &shipped[..shipped.find("\n[html]").unwrap()];
    let excerpt = format!("{head}\n{}", blocks[0]);
    let m = sharc::mapping::Mapping::parse(&excerpt, Path::new("README.md")).unwrap();
    assert!(m.html.is_some());
    let m = sharc::mapping::Mapping::parse(blocks[1], Path::new("README.md")).unwrap();
    let h = m.html.unwrap();
    assert!(matches!(h.item_id, sharc::source::html::ItemId::Param(ref p) if p == "ItemID"));
}

#[test]
fn selectors_that_fit_nothing_are_reported() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let typo = mapping_variant(tmp.path(), "typo.toml", |t| {
        t.replace(".news-detail h1.news-title", ".news-detail h2.news-title")
    });
    let out = tmp.path().join("typo");
    crawl(
        &portal,
        &typo,
        &out,
        &["--source", "html", "--max-pages", "1"],
    )
    .code(4);
    let notes = report(&out)["notes"].to_string();
    assert!(
        notes.contains("[html.fields] title found no value on any of 10 article page(s)"),
        "{notes}"
    );
    assert!(records(&out).values().all(|r| r["title"].is_null()));

    let no_links = mapping_variant(tmp.path(), "no-links.toml", |t| {
        t.replace(".news-list a.news-link", ".tin-tuc a.tieu-de")
    });
    let out = tmp.path().join("no-links");
    // A rule that matches nothing on the first list page is an error naming the page, not
    // an empty "complete" bag.
    crawl(&portal, &no_links, &out, &["--source", "html"])
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}{}: no link on the first list page matches [html] links `.tin-tuc a.tieu-de`",
            portal.url().trim_end_matches('/'),
            LIST_PAGE
        )));
    assert!(!out.exists());
}

#[test]
fn a_list_that_yields_no_item_is_not_a_complete_bag() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    // Links are found, but none is an article the pattern accepts.
    let nothing = mapping_variant(tmp.path(), "nothing.toml", |t| {
        t.replace(
            "link_pattern = 'DispForm\\.aspx\\?ID=\\d+'",
            "link_pattern = 'NoSuchPage\\.aspx'",
        )
    });
    assert_ne!(
        std::fs::read_to_string(&nothing).unwrap(),
        std::fs::read_to_string(mapping()).unwrap()
    );
    let out = tmp.path().join("bag");
    crawl(&portal, &nothing, &out, &["--source", "html"])
        .code(1)
        .stderr(predicate::str::contains("the list yielded no item"));
    let rep = report(&out);
    assert_eq!(rep["complete"], false);
    assert_eq!(rep["failures"][0]["code"], "list-empty");
    assert!(bag_info(&out).contains("Sharc-Crawl-Status: partial"));
}
