//! What an incremental backup asks of a portal of 5,000 items after 1% of them changed,
//! counted at the sample portal: at most 1.1 × (changed items + their files + listing pages).
//! The figure is printed (`cargo test --test backup_requests -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, mapping, records, sharc};
use sharc_sample::PortalOptions;
use std::collections::BTreeSet;
use std::path::Path;

/// Items in the portal; `SHARC_BACKUP_ITEMS` measures another size.
fn items() -> usize {
    std::env::var("SHARC_BACKUP_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5000)
}

fn backup(portal: &Portal, archive: &Path) {
    sharc()
        .args(["backup", &portal.url(), "--concurrency", "8", "--archive"])
        .arg(archive)
        .arg("--mapping")
        .arg(mapping())
        .assert()
        .success();
}

#[test]
fn an_incremental_run_after_a_one_percent_change_asks_for_little_more_than_the_change() {
    let n = items();
    let portal = Portal::start(PortalOptions {
        items: Some(n),
        ..Default::default()
    });
    // The requests are what is measured, not the disk: a memory file system when there is
    // one keeps the 5,000-record full bundle quick to write.
    let shm = Path::new("/dev/shm");
    let tmp = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let archive = tmp.path().join("archive");
    backup(&portal, &archive);

    let edited = portal.portal.as_ref().unwrap().edit_every(100);
    assert_eq!(edited.len(), n.div_ceil(100));
    let before = portal.requests().len();
    backup(&portal, &archive);
    let asked = &portal.requests()[before..];

    let mut bundles: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    bundles.sort();
    let inc = bundles.last().unwrap();
    let changed = records(inc);
    assert_eq!(
        changed.keys().copied().collect::<BTreeSet<_>>(),
        edited.iter().copied().collect::<BTreeSet<_>>()
    );
    // Their files: every distinct file URL each changed record points to.
    let files: usize = changed
        .values()
        .map(|r| {
            let mut urls = BTreeSet::new();
            urls.extend(r["image"]["url"].as_str());
            for a in r["attachments"].as_array().unwrap() {
                urls.extend(a["url"].as_str());
            }
            for i in r["body"]["images"].as_array().into_iter().flatten() {
                urls.extend(i["url"].as_str());
            }
            urls.len()
        })
        .sum();
    let listing_pages = asked
        .iter()
        .filter(|r| r.path_and_query.contains("Modified,OData__UIVersionString"))
        .count();
    let work = changed.len() + files + listing_pages;
    let bound = work as f64 * 1.1;
    println!(
        "backup requests after a 1% change of {n} items: {} requests for {} changed items, {files} of their files, {listing_pages} listing page(s) = {work}; bound 1.1 × {work} = {bound:.1}",
        asked.len(),
        changed.len()
    );
    assert!(
        asked.len() as f64 <= bound,
        "{} requests, more than {bound:.1}: {:#?}",
        asked.len(),
        asked.iter().map(|r| &r.path_and_query).collect::<Vec<_>>()
    );
}
