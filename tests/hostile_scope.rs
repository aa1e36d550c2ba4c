//! One scope policy: nothing off the portal is fetched, whatever the farm points at —
//! attachment URLs on other hosts, next links elsewhere or back to a page already read,
//! redirects to another port, other schemes — and no credential given in the site URL is
//! stored, printed or sent in clear. Each refusal is listed in the crawl report with its
//! reason; the good items are archived and the bag verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hostile;

use hostile::*;
use std::path::Path;
use std::time::Duration;

/// Items 1..=3 archived with their files, nothing from the other host anywhere in the bag.
fn assert_good_items_and_nothing_off_site(out: &Path) {
    assert_items_archived(out, 1..=3);
    for f in all_files(out) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(b"OFF-SITE".len()).any(|w| w == b"OFF-SITE"),
            "{} holds bytes or items from the other host",
            f.display()
        );
    }
}

#[test]
fn off_host_attachment_urls_are_refused_and_never_fetched() {
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(3);
        let absolute = format!("{}/evil-absolute.pdf", h.other_host());
        let protocol_relative = format!(
            "//{}/evil-protocol-relative.pdf",
            h.other_host().trim_start_matches("http://")
        );
        plan.add_item(portal::item_with_attachments(
            4,
            &[
                ("absolute.pdf", &absolute),
                ("protocol-relative.pdf", &protocol_relative),
            ],
        ));
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));

    assert_other_host_untouched(&farm, &ran);
    ran.assert_code(4);
    let report = report(&out);
    for needle in ["evil-absolute.pdf", "evil-protocol-relative.pdf"] {
        let entries = report_entries(&report, needle);
        assert!(
            !entries.is_empty() && entries.iter().all(|r| !r.trim().is_empty()),
            "{needle}: not listed as refused with a reason: {report:#}"
        );
    }
    assert_good_items_and_nothing_off_site(&out);
    assert_verifies(&out);
}

#[test]
fn a_picture_on_another_host_is_refused_listed_and_makes_the_bag_partial() {
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(3);
        let mut item = portal::good_item(4, "");
        item["H_x00ec_nh_x0020__x1ea3_nh"]["Url"] =
            format!("{}/anh-ngoai.jpg", h.other_host()).into();
        plan.add_item(item);
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));

    assert_other_host_untouched(&farm, &ran);
    ran.assert_code(4);
    assert!(ran.err().contains("anh-ngoai.jpg"), "{}", ran.describe());
    let report = report(&out);
    assert_eq!(report["complete"], false);
    let refused: Vec<&serde_json::Value> = report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["url"].as_str().unwrap().ends_with("/anh-ngoai.jpg"))
        .collect();
    assert_eq!(refused.len(), 1, "{report:#}");
    assert_eq!(refused[0]["code"], "off-site");
    assert_eq!(refused[0]["item_id"], 4);
    // The record keeps the reference as the portal wrote it.
    let recs = records(&out);
    assert!(
        recs[&4]["image"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/anh-ngoai.jpg")
    );
    assert!(recs[&4]["image"]["file"].is_null());
    assert_good_items_and_nothing_off_site(&out);
    assert_verifies(&out);
}

#[test]
fn a_next_link_to_another_host_is_not_followed() {
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(4);
        let elsewhere = format!(
            "{}/_api/web/lists(guid'{}')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d2&%24top=2",
            h.other_host(),
            portal::LIST_ID
        );
        plan.next_link = Some(std::sync::Arc::new(move |page, own| {
            if page == 0 {
                Some(elsewhere.clone())
            } else {
                own
            }
        }));
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &["--page-size", "2"], Duration::from_secs(60));

    assert_other_host_untouched(&farm, &ran);
    ran.assert_code(4);
    let recs = records(&out);
    assert!(
        recs.keys().all(|id| *id < 900),
        "items of the other host archived under this site: {:?}",
        recs.keys().collect::<Vec<_>>()
    );
    for id in 1..=2 {
        assert_good_item_archived(&out, &recs, id);
    }
    let report = report(&out);
    let port = farm.other_host().rsplit(':').next().unwrap().to_string();
    assert!(
        !report_mentions(&report, &format!("localhost:{port}")).is_empty(),
        "the refused next link is not in the report: {report:#}"
    );
    assert_verifies(&out);
}

#[test]
fn a_next_link_back_to_a_page_already_read_stops_paging() {
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(6);
        // Page 2 (0-based) links back to page 1, which page 0 already linked to.
        let seen = portal::items_link(&h.url(), 2, 2);
        plan.next_link = Some(std::sync::Arc::new(move |page, own| {
            if page == 2 { Some(seen.clone()) } else { own }
        }));
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &["--page-size", "2"], Duration::from_secs(30));

    let pages = farm.count("/items");
    ran.assert_ended_by_itself();
    assert!(
        pages <= 4,
        "{pages} item pages fetched for a list of 3 pages"
    );
    ran.assert_code(4);
    assert_items_archived(&out, 1..=6);
    let report = report(&out);
    assert!(
        !report_mentions(&report, "skiptoken").is_empty(),
        "the repeated next link is not in the report: {report:#}"
    );
    assert_verifies(&out);
}

#[test]
fn a_redirect_to_another_port_on_the_same_host_is_not_followed() {
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(3);
        let moved = "/Lists/TinTucSuKien/Attachments/4/moved.pdf";
        plan.add_item(portal::item_with_attachments(4, &[("moved.pdf", moved)]));
        plan.at(
            moved,
            Reply::Redirect(302, format!("{}/moved-elsewhere.pdf", h.other_port())),
        );
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));

    assert_other_host_untouched(&farm, &ran);
    ran.assert_code(4);
    let report = report(&out);
    assert!(
        !report_entries(&report, "moved.pdf").is_empty(),
        "the redirected attachment is not listed: {report:#}"
    );
    assert_good_items_and_nothing_off_site(&out);
    assert_verifies(&out);
}

#[test]
fn a_file_scheme_attachment_is_refused_at_once() {
    let farm = Farm::start_with(|_| {
        let mut plan = Plan::good(3);
        plan.add_item(portal::item_with_attachments(
            4,
            &[("hostname", "file:///etc/hostname")],
        ));
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(30));
    assert_bounded(
        &ran,
        Duration::from_secs(10),
        "a file:// URL is refused, not retried",
    );
    ran.assert_code(4);
    let report = report(&out);
    let entries = report_entries(&report, "file:///etc/hostname");
    assert_eq!(
        entries.len(),
        1,
        "file:///etc/hostname should be listed once, refused with its reason: {report:#}"
    );
    assert_good_items_and_nothing_off_site(&out);
    assert_verifies(&out);
}

#[test]
fn userinfo_in_the_site_url_is_never_stored_printed_or_sent_in_clear() {
    let farm = Farm::start(Plan::good(3));
    let site = format!("http://alice:s3cr3t@{}/", farm.host_port());
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let mut cmd = Sharc::crawl(&site, &out);
    cmd.timeout(Duration::from_secs(60));
    let ran = cmd.run();

    let basic: Vec<String> = farm
        .seen()
        .iter()
        .filter(|s| {
            s.header("authorization")
                .is_some_and(|v| v.to_ascii_lowercase().starts_with("basic"))
        })
        .map(|s| s.target.clone())
        .collect();
    assert!(
        basic.is_empty(),
        "the password went out as Basic auth over plain HTTP for {basic:?}"
    );
    for (what, bytes) in [("stdout", &ran.stdout), ("stderr", &ran.stderr)] {
        assert!(
            !String::from_utf8_lossy(bytes).contains("s3cr3t"),
            "the password is printed on {what}: {}",
            ran.describe()
        );
    }
    for f in all_files(tmp.path()) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains("s3cr3t") && !text.contains("alice:") && !text.contains("alice@"),
            "{} stores the site URL's userinfo",
            f.display()
        );
    }
    match ran.code {
        Some(2) => assert!(
            ran.err().to_ascii_lowercase().contains("auth"),
            "a refusal should point to the authentication options: {}",
            ran.describe()
        ),
        _ => {
            ran.assert_code(0);
            assert_items_archived(&out, 1..=3);
            assert_verifies(&out);
        }
    }
}

#[test]
fn an_https_to_http_redirect_is_not_followed() {
    let farm = Farm::start_with(|h| {
        let mut plan = Plan::good(3);
        let secure = "/Lists/TinTucSuKien/Attachments/4/secure.pdf";
        plan.add_item(portal::item_with_attachments(4, &[("secure.pdf", secure)]));
        // Same host, plain http: only the downgrade (and the port) make it off-scope.
        plan.at(
            secure,
            Reply::Redirect(302, format!("{}downgraded.pdf", h.url())),
        );
        plan.file("/downgraded.pdf", b"sent in clear".to_vec());
        plan
    });
    let tmp = tempfile::tempdir().unwrap();
    let front = tls::start(tmp.path(), farm.port());
    let site = format!("https://127.0.0.1:{}/", front.port);
    let out = tmp.path().join("bag");
    let mut cmd = Sharc::crawl(&site, &out);
    cmd.env("SSL_CERT_FILE", &front.ca)
        .args(["--allow-host", "127.0.0.1"])
        .timeout(Duration::from_secs(60));
    let ran = cmd.run();

    assert!(
        farm.count("secure.pdf") >= 1,
        "the portal was not crawled over https: {}",
        ran.describe()
    );
    assert_eq!(
        farm.count("downgraded.pdf"),
        0,
        "a redirect from https to http was followed: {}",
        ran.describe()
    );
    ran.assert_code(4);
    let report = report(&out);
    assert!(
        !report_entries(&report, "secure.pdf").is_empty(),
        "the downgraded attachment is not listed: {report:#}"
    );
    assert_good_items_and_nothing_off_site(&out);
    assert_verifies(&out);
}
