//! End-to-end crawls of the sample portal's SharePoint 2010 mode: no `/_api`, the list read
//! through `Lists.asmx`. The real binary against the real server on 127.0.0.1; a REST crawl of
//! the same data is the oracle for every record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    Portal, crawl_cmd, mapping, records, report, sample_dir, sample_item, sha256_file, verify,
};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::{ApiAccess, PortalOptions, Sp2010};
use std::collections::BTreeMap;
use std::path::Path;

fn sp2010(opts: Sp2010) -> PortalOptions {
    PortalOptions {
        sp2010: Some(opts),
        ..Default::default()
    }
}

fn crawl(portal: &Portal, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    crawl_cmd(portal, &mapping(), out).args(extra).assert()
}

/// Records with what legitimately differs between a SOAP and a REST crawl blanked: how the
/// item was read (`via`), the URL it was read from, when, and the port in URLs.
fn comparable(mut r: Value, port_of: &str) -> Value {
    r["source"]["via"] = Value::Null;
    r["source"]["url"] = Value::Null;
    r["source"]["fetched_at"] = Value::Null;
    let text = serde_json::to_string(&r)
        .unwrap()
        .replace(port_of, "PORTAL");
    serde_json::from_str(&text).unwrap()
}

/// The REST crawl of the same data, verbose (which carries the item etag SOAP also gives).
fn rest_records() -> (BTreeMap<i64, Value>, String) {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rest");
    crawl(&portal, &out, &["--odata", "verbose"]).success();
    (records(&out), host(&portal))
}

fn host(portal: &Portal) -> String {
    portal
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Crawls a 2010 farm with these options and the shipped mapping (`--source auto`), checks
/// the bag, and compares every record with a REST crawl's, field by field.
fn crawl_2010_like_rest(opts: Sp2010, extra: &[&str]) -> (Portal, tempfile::TempDir) {
    let portal = Portal::start(sp2010(opts));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("soap");
    crawl(&portal, &out, extra).success();
    verify(&out)
        .success()
        .stdout(predicate::str::contains("valid"));
    let soap = records(&out);
    let (rest, rest_host) = rest_records();
    assert_eq!(soap.len(), 31, "every item of the sample list is archived");
    assert_eq!(
        soap.keys().collect::<Vec<_>>(),
        rest.keys().collect::<Vec<_>>()
    );
    for (id, r) in &soap {
        assert_eq!(r["source"]["via"], "soap", "item {id}");
        assert_eq!(
            r["source"]["url"],
            format!("{}Lists/TinTucSuKien/DispForm.aspx?ID={id}", portal.url()),
            "item {id}: the display form, where a person sees the item"
        );
        assert_eq!(
            comparable(r.clone(), &host(&portal)),
            comparable(rest[id].clone(), &rest_host),
            "item {id}: SOAP and REST records differ"
        );
    }
    (portal, tmp)
}

#[test]
fn a_2010_farm_is_crawled_over_soap_into_the_records_rest_gives() {
    // Server-local dates (the farm does not honour DateInUtc), several pages.
    let (portal, tmp) = crawl_2010_like_rest(Sp2010::default(), &["--page-size", "7"]);
    let out = tmp.path().join("soap");
    let r = report(&out);
    assert_eq!(r["via"], "soap");
    assert_eq!(r["complete"], true);
    assert_eq!(r["counts"]["pages"], 5, "31 items in pages of 7");
    assert!(
        r["notes"][0]
            .as_str()
            .unwrap()
            .contains("reading the list through Lists.asmx"),
        "{r}"
    );
    let log = portal.requests();
    let api: Vec<_> = log
        .iter()
        .filter(|l| l.path_and_query.starts_with("/_api"))
        .collect();
    assert!(
        !api.is_empty() && api.iter().all(|l| l.status == 404),
        "{api:?}"
    );
    let soap: Vec<_> = log
        .iter()
        .filter(|l| l.path_and_query == "/_vti_bin/Lists.asmx")
        .collect();
    // GetList, GetListContentTypes, five pages of GetListItems.
    assert_eq!(soap.len(), 7, "{soap:?}");
    assert!(
        soap.iter().all(|l| l.method == "POST" && l.status == 200),
        "{soap:?}"
    );
    // Local midnight in UTC+07:00 is the day before in UTC: converted back exactly.
    let recs = records(&out);
    assert_eq!(
        recs[&12]["published_at"],
        "2022-10-05T09:30:00+07:00",
        "{}",
        sample_item(12)["Ng_x00e0_y_x0020_xu_x1ea5_t_x002"]
    );
}

#[test]
fn a_farm_that_honours_date_in_utc_gives_the_same_records() {
    crawl_2010_like_rest(
        Sp2010 {
            honour_date_in_utc: true,
            ..Default::default()
        },
        &[],
    );
}

#[test]
fn attachments_are_asked_for_when_rows_do_not_carry_their_urls() {
    let (portal, _tmp) = crawl_2010_like_rest(
        Sp2010 {
            attachment_urls: false,
            ..Default::default()
        },
        &["--source", "soap"],
    );
    let items_with_files = (1..=31)
        .filter(|id| {
            !sample_item(*id)["_attachments"]
                .as_array()
                .unwrap()
                .is_empty()
        })
        .count();
    let soap_calls = portal
        .requests()
        .iter()
        .filter(|l| l.path_and_query == "/_vti_bin/Lists.asmx")
        .count();
    // GetList, GetListContentTypes, one page (31 of 100), one GetAttachmentCollection each.
    assert_eq!(soap_calls, 3 + items_with_files);
    assert!(
        portal
            .requests()
            .iter()
            .all(|l| !l.path_and_query.starts_with("/_api")),
        "--source soap never asks /_api"
    );
}

#[test]
fn attachment_names_with_hash_percent_and_spaces_are_fetched_by_their_encoded_urls() {
    let portal = Portal::start(sp2010(Sp2010::default()));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    let rec = &records(&out)[&15];
    let raw = sample_item(15);
    let wanted = raw["_attachments"].as_array().unwrap();
    let got = rec["attachments"].as_array().unwrap();
    assert_eq!(got.len(), wanted.len());
    let mut specials = String::new();
    for (a, w) in got.iter().zip(wanted) {
        let name = w["FileName"].as_str().unwrap();
        specials.push_str(name);
        assert_eq!(a["name"], name);
        let stored = sample_dir().join(w["stored"].as_str().unwrap());
        assert_eq!(a["file"]["sha256"], sha256_file(&stored), "{name}");
        let url = a["url"].as_str().unwrap();
        assert!(
            !url.contains(' ') && !url.contains('#') && url.is_ascii(),
            "percent-encoded: {url}"
        );
        let path = url.trim_start_matches(&portal.url()).to_string();
        assert!(
            portal
                .requests()
                .iter()
                .any(|l| l.path_and_query == format!("/{path}") && l.status == 200),
            "{url} was fetched"
        );
    }
    for c in ['#', '%', ' '] {
        assert!(specials.contains(c), "item 15 has a name with {c:?}");
    }
    assert!(
        got.iter().any(|a| a["url"]
            .as_str()
            .unwrap()
            .contains("%20%232%20-%20t%C4%83ng%2020%25%20")),
        "{got:?}"
    );
}

#[test]
fn the_list_view_threshold_makes_pages_smaller_until_they_pass() {
    let portal = Portal::start(sp2010(Sp2010 {
        view_threshold: 10,
        ..Default::default()
    }));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &["--page-size", "25"]).success();
    verify(&out).success();
    assert_eq!(records(&out).len(), 31);
    let r = report(&out);
    let notes = r["notes"].to_string();
    assert!(
        notes.contains("refused pages of 25 items") && notes.contains("read in pages of 6"),
        "{notes}"
    );
    assert_eq!(r["counts"]["pages"], 6, "31 items in pages of 6");
    let refused = portal
        .requests()
        .iter()
        .filter(|l| l.path_and_query == "/_vti_bin/Lists.asmx" && l.status == 500)
        .count();
    assert_eq!(refused, 2, "pages of 25 and of 12 were refused, once each");
}

#[test]
fn a_list_that_does_not_exist_is_named_with_the_lists_there_are() {
    let portal = Portal::start(sp2010(Sp2010::default()));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &["--list", "Tin tức cũ"])
        .code(2)
        .stderr(
            predicate::str::contains("list `Tin tức cũ` not found")
                .and(predicate::str::contains("0x82000006"))
                .and(predicate::str::contains("`Danh mục tin` (8 items)"))
                .and(predicate::str::contains("`Tin tức sự kiện` (31 items")),
        );
    assert!(!out.exists(), "no bag for a list that does not exist");
}

#[test]
fn access_denied_by_a_fault_exits_1_and_archives_nothing() {
    let portal = Portal::start(PortalOptions {
        api: ApiAccess::Forbidden403,
        ..sp2010(Sp2010::default())
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).code(1).stderr(
        predicate::str::contains("SOAP fault 0x80070005")
            .and(predicate::str::contains("access denied")),
    );
    assert!(!out.exists());
}

#[test]
fn a_2010_farm_closed_to_soap_falls_back_to_the_public_pages() {
    let portal = Portal::start(PortalOptions {
        api: ApiAccess::Unauthorized401,
        ..sp2010(Sp2010::default())
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &[]).success();
    assert_eq!(report(&out)["via"], "html");
    // And --source soap says what is wrong instead.
    crawl(&portal, &tmp.path().join("soap"), &["--source", "soap"])
        .code(1)
        .stderr(predicate::str::contains(
            "does not answer as SharePoint's Lists.asmx (HTTP 401",
        ));
}

#[test]
fn soap_calls_are_retried_through_throttling() {
    let portal = Portal::start(PortalOptions {
        faults: sharc_sample::FaultPlan::parse("throttle=30,retry-after=0").unwrap(),
        ..sp2010(Sp2010::default())
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&portal, &out, &["--page-size", "10"]).success();
    assert_eq!(records(&out).len(), 31);
    assert!(
        portal
            .requests()
            .iter()
            .any(|l| l.path_and_query == "/_vti_bin/Lists.asmx" && l.status == 429),
        "some SOAP calls were throttled and retried"
    );
}

#[test]
fn display_names_resolve_through_get_list_on_a_vietnamese_farm_too() {
    let farm = sharc_sample::Farm::Vietnamese;
    let soap_portal = Portal::start(PortalOptions {
        farm,
        ..sp2010(Sp2010::default())
    });
    let rest_portal = Portal::start(PortalOptions {
        farm,
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let (soap, rest) = (tmp.path().join("soap"), tmp.path().join("rest"));
    crawl(&soap_portal, &soap, &["--list", "Tin tức"]).success();
    crawl(
        &rest_portal,
        &rest,
        &["--list", "Tin tức", "--odata", "verbose"],
    )
    .success();
    let (soap, rest) = (records(&soap), records(&rest));
    assert_eq!(soap.len(), 31);
    for (id, r) in &soap {
        assert_eq!(
            comparable(r.clone(), &host(&soap_portal)),
            comparable(rest[id].clone(), &host(&rest_portal)),
            "item {id}"
        );
    }
}
