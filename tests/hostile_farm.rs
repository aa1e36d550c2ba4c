//! The hostile farm as a whole: first a control (the farm without hostility is a portal sharc
//! archives cleanly, so the other tests fail for what they pin down and not for the farm),
//! then every hostility at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hostile;

use hostile::*;
use std::time::Duration;

#[test]
fn control_the_farm_without_hostility_is_archived_cleanly() {
    let farm = Farm::start(Plan::good(3));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &["--page-size", "2"], Duration::from_secs(60));
    ran.assert_code(0);
    assert_eq!(records(&out).keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
    assert_items_archived(&out, 1..=3);
    assert_eq!(farm.count("/items"), 2, "two pages of items");
    assert!(farm.other_requests().is_empty());
    assert_verifies(&out);

    let html_out = tmp.path().join("html");
    let ran = crawl(
        &farm,
        &html_out,
        &["--source", "html"],
        Duration::from_secs(60),
    );
    ran.assert_code(0);
    assert_eq!(
        records(&html_out).keys().copied().collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_items_archived(&html_out, 1..=3);
    assert_verifies(&html_out);
}

/// Every hostility of the farm at once (those that end a run on their own — bombs answering
/// the API, endless pages, credentials in the site URL — have their own tests).
#[test]
fn a_farm_with_every_hostility_ends_in_bounded_time_with_a_partial_bag_that_verifies() {
    const MAX_FILE: u64 = 10_000_000;
    let long = format!("/{}x.pdf", "a/".repeat(2100));
    let gzip_sent = bomb::gzip_repeated(b'%', 200_000_000);
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(6);
        plan.list_title = format!("{}\u{1b}]0;pwned\u{7}", portal::LIST_TITLE);
        let att = |id: i64, name: &str| format!("/Lists/TinTucSuKien/Attachments/{id}/{name}");
        let other = h.other_host();
        let absolute = format!("{other}/evil-absolute.pdf");
        let protocol_relative = format!(
            "//{}/evil-protocol-relative.pdf",
            other.trim_start_matches("http://")
        );
        plan.add_item(portal::item_with_attachments(
            10,
            &[("a.pdf", &absolute), ("p.pdf", &protocol_relative)],
        ));
        plan.add_item(portal::item_with_attachments(
            11,
            &[("h", "file:///etc/hostname")],
        ));
        plan.add_item(portal::item_with_attachments(
            12,
            &[("v.pdf", "/loop/vong.pdf")],
        ));
        plan.redirect_loop("/loop/vong.pdf", "/loop/lai.pdf");
        let moved = att(13, "moved.pdf");
        plan.add_item(portal::item_with_attachments(13, &[("moved.pdf", &moved)]));
        plan.at(
            &moved,
            Reply::Redirect(302, format!("{}/moved-elsewhere.pdf", h.other_port())),
        );
        let nen = att(14, "nen.pdf");
        plan.add_item(portal::item_with_attachments(14, &[("nen.pdf", &nen)]));
        plan.at(
            &nen,
            Reply::Raw {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "application/pdf".into()),
                    ("Content-Encoding".into(), "gzip".into()),
                ],
                body: gzip_sent.clone(),
            },
        );
        let cham = att(15, "cham.pdf");
        plan.add_item(portal::item_with_attachments(15, &[("cham.pdf", &cham)]));
        plan.at(
            &cham,
            Reply::Drip {
                every: Duration::from_secs(5),
                length: 100_000,
            },
        );
        let cut = att(16, "cut.pdf");
        plan.add_item(portal::item_with_attachments(16, &[("cut.pdf", &cut)]));
        plan.at(
            &cut,
            Reply::Truncated {
                announced: 100_000,
                body: b"%PDF-1.4 and then nothing".to_vec(),
            },
        );
        let reset = att(17, "reset.pdf");
        plan.add_item(portal::item_with_attachments(17, &[("reset.pdf", &reset)]));
        plan.at(&reset, Reply::Reset);
        let mut deep = portal::without_attachments(portal::good_item(18, ""));
        deep["N_x1ed9_i_x0020_dung"] =
            format!("{}sâu{}", "<div>".repeat(20_000), "</div>".repeat(20_000)).into();
        plan.add_item(deep);
        let mut by_query = portal::without_attachments(portal::good_item(19, ""));
        by_query["N_x1ed9_i_x0020_dung"] =
            "<p><img src=\"/img.ashx?id=1\"/><img src=\"/img.ashx?id=2\"/></p>".into();
        plan.add_item(by_query);
        plan.file("/img.ashx?id=1", b"image one".to_vec());
        plan.file("/img.ashx?id=2", b"image two".to_vec());
        plan.add_item(portal::item_with_attachments(
            20,
            &[("a", "/docs/a"), ("b.txt", "/docs/a/b.txt")],
        ));
        plan.file("/docs/a", b"the file a".to_vec());
        plan.file("/docs/a/b.txt", b"the file a/b.txt".to_vec());
        let gone = att(21, "gone.pdf");
        plan.add_item(portal::item_with_attachments(
            21,
            &[("\u{1b}[2Jgone.pdf\u{7}", &gone)],
        ));
        plan.at(
            &gone,
            Reply::sp_error(404, "\u{1b}[31mThe file is gone\u{7}"),
        );
        plan.add_item(portal::item_with_attachments(22, &[("x.pdf", &long)]));
        plan.file(&long, b"deep".to_vec());
        let mut no_id = portal::without_attachments(portal::good_item(23, ""));
        let m = no_id.as_object_mut().unwrap();
        m.remove("Id");
        m.remove("ID");
        plan.items.push(no_id);
        plan.items
            .push(portal::without_attachments(portal::good_item(-5, "")));
        plan.items
            .push(portal::without_attachments(portal::good_item(
                3,
                "bản sao: ",
            )));
        // The last page links back to page 1, already read.
        let pages = plan.items.len().div_ceil(2);
        let seen = portal::items_link(&h.url(), 2, 2);
        plan.next_link = Some(std::sync::Arc::new(move |page, own| {
            if page + 1 == pages {
                Some(seen.clone())
            } else {
                own
            }
        }));
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let max_file = MAX_FILE.to_string();
    let args = [
        "--page-size",
        "2",
        "--request-timeout",
        "3",
        "--max-wait",
        "5",
        "--max-file-size",
        &max_file,
    ];
    let ran = crawl(&farm, &out, &args, Duration::from_secs(240));

    assert_bounded(&ran, Duration::from_secs(180), "the whole hostile farm");
    assert_other_host_untouched(&farm, &ran);
    assert!(
        farm.count("/items") <= 13,
        "{} item pages",
        farm.count("/items")
    );
    for (what, bytes) in [("stderr", &ran.stderr), ("stdout", &ran.stdout)] {
        assert!(
            !bytes.iter().any(|b| *b == 0x1b || *b == 0x07),
            "{what} carries raw control characters: {}",
            ran.describe()
        );
    }
    ran.assert_code(4);

    assert_items_archived(&out, 1..=6);
    let recs = records(&out);
    let files = |id: i64, at: &str| -> Vec<Option<Vec<u8>>> {
        recs[&id]
            .pointer(at)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().map(|x| record_file(&out, &x["file"])).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        files(19, "/body/images"),
        [Some(b"image one".to_vec()), Some(b"image two".to_vec())]
    );
    assert_eq!(
        files(20, "/attachments"),
        [
            Some(b"the file a".to_vec()),
            Some(b"the file a/b.txt".to_vec())
        ]
    );

    let report = report(&out);
    let mut listed = vec![
        "evil-absolute.pdf",
        "evil-protocol-relative.pdf",
        "file:///etc/hostname",
        "/loop/vong.pdf",
        "13/moved.pdf",
        "cham.pdf",
        "cut.pdf",
        "reset.pdf",
        "gone.pdf",
    ];
    let nen_stored = recs
        .get(&14)
        .and_then(|r| record_file(&out, &r["attachments"][0]["file"]));
    match nen_stored {
        Some(bytes) => assert_eq!(bytes, gzip_sent, "nen.pdf stored, so stored as sent"),
        None => listed.push("nen.pdf"),
    }
    for needle in listed {
        let entries = report_entries(&report, needle);
        assert!(
            entries.len() == 1 && !entries[0].trim().is_empty(),
            "{needle} should be listed once with its reason, found {entries:?}"
        );
    }
    for id in [-5, 3] {
        assert!(
            !item_entries(&report, id).is_empty(),
            "item {id} (negative, duplicate) should be a listed failure"
        );
    }
    assert_payload_paths_within(&out, 200);
    assert_no_file_over(tmp.path(), MAX_FILE);
    assert_verifies(&out);
    keep_for_ci(&out);
}

/// Copies the bag to `$SHARC_KEEP_HOSTILE_BAG` when set, so `.ci/run` can hand it to
/// `bagit.py --validate` as a second, independent oracle.
fn keep_for_ci(bag: &std::path::Path) {
    let Some(dest) = std::env::var_os("SHARC_KEEP_HOSTILE_BAG") else {
        return;
    };
    let dest = std::path::PathBuf::from(dest);
    let _ = std::fs::remove_dir_all(&dest);
    for file in all_files(bag) {
        let rel = file.strip_prefix(bag).unwrap();
        let to = dest.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&file, &to).unwrap();
    }
}

#[test]
fn a_soap_fault_sent_with_200_stops_the_crawl_and_is_never_archived() {
    use hostile::portal::{CT_ID, LIST_ID, LIST_TITLE, fields};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let envelope = |inner: String| -> Vec<u8> {
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>{inner}</soap:Body></soap:Envelope>").into_bytes()
    };
    let fields: String = fields()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "<Field Name=\"{}\" DisplayName=\"{}\" Type=\"{}\"/>",
                f["InternalName"].as_str().unwrap(),
                f["Title"].as_str().unwrap(),
                f["TypeAsString"].as_str().unwrap()
            )
        })
        .collect();
    let answers = [
        envelope(format!("<GetListResponse><GetListResult><List ID=\"{{{LIST_ID}}}\" Title=\"{LIST_TITLE}\" ItemCount=\"1\"><Fields>{fields}</Fields><RegionalSettings><TimeZone>-420</TimeZone></RegionalSettings></List></GetListResult></GetListResponse>")),
        envelope(format!("<GetListContentTypesResponse><GetListContentTypesResult><ContentTypes><ContentType Name=\"Tin Tức Mở Rộng\" ID=\"{CT_ID}\"/></ContentTypes></GetListContentTypesResult></GetListContentTypesResponse>")),
        // GetListItems: a fault, sent with 200 as some proxies and broken farms do.
        envelope("<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Exception of type 'Microsoft.SharePoint.SoapServer.SoapServerException' was thrown.</faultstring><detail><errorstring>Cannot complete this action.</errorstring><errorcode>0x81020014</errorcode></detail></soap:Fault>".to_string()),
    ];
    let calls = AtomicUsize::new(0);
    let mut plan = Plan::good(1);
    plan.on(move |r| {
        (r.path == "/_vti_bin/Lists.asmx").then(|| {
            let n = calls.fetch_add(1, Ordering::SeqCst).min(2);
            Reply::Raw {
                status: 200,
                headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
                body: answers[n].clone(),
            }
        })
    });
    let farm = Farm::start(plan);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &["--source", "soap"], Duration::from_secs(60));
    ran.assert_code(1);
    assert!(
        ran.err()
            .contains("SOAP fault 0x81020014: Cannot complete this action."),
        "{}",
        ran.describe()
    );
    assert!(!out.exists(), "no bag");
    let staged = tmp.path().join("bag.sharc-partial/data/records");
    assert!(
        !staged.exists() || std::fs::read_dir(&staged).unwrap().next().is_none(),
        "no record was written from the fault"
    );
    assert_eq!(farm.count("/_vti_bin/Lists.asmx"), 3);
}
