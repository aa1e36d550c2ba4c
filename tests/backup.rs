//! Scheduled backups of the sample portal: the real binary against the real server on
//! 127.0.0.1, the portal changed between runs by the server's own deterministic change, and
//! every bundle, restore and archive judged by `sharc verify` and by fresh crawls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, records, sharc, verify};
use predicates::prelude::*;
use serde_json::Value;
use sharc_sample::PortalOptions;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every run of a test is pinned to one instant, so that a restore and a crawl stamp their
/// records alike and reruns give the same bytes.
const EPOCH: &str = "1764680400";

fn backup(portal: &Portal, archive: &Path) -> assert_cmd::Command {
    let mut c = sharc();
    c.env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("backup")
        .arg(portal.url())
        .arg("--mapping")
        .arg(mapping())
        .arg("--archive")
        .arg(archive);
    c
}

fn crawl(portal: &Portal, out: &Path) {
    crawl_cmd(portal, &mapping(), out)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .arg("-q")
        .assert()
        .success();
}

fn restore(archive: &Path, at: Option<&str>, out: &Path) {
    let mut c = sharc();
    c.arg("restore").arg(archive).arg("--out").arg(out);
    if let Some(at) = at {
        c.arg("--at").arg(at);
    }
    c.assert().success();
}

/// The bundle directories of an archive, in name order.
fn bundles(archive: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The payload manifest of a bag, `path → sha256`, without the crawl report (which counts
/// what the run that wrote it did).
fn payload(bag: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(bag.join("manifest-sha256.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .filter(|(_, p)| *p != "data/crawl-report.json")
        .map(|(d, p)| (p.to_string(), d.to_string()))
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn runs(archive: &Path) -> Vec<Value> {
    fs::read_to_string(archive.join("runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The file paths the records of `bag` point to, with their sha256.
fn record_files(bag: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for r in records(bag).values() {
        let mut slots: Vec<&Value> = vec![&r["image"]["file"]];
        slots.extend(
            r["attachments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| &a["file"]),
        );
        if let Some(images) = r["body"]["images"].as_array() {
            slots.extend(images.iter().map(|i| &i["file"]));
        }
        for f in slots.into_iter().filter(|f| f.is_object()) {
            out.insert(
                f["path"].as_str().unwrap().to_string(),
                f["sha256"].as_str().unwrap().to_string(),
            );
        }
    }
    out
}

fn portal_with_changes() -> Portal {
    Portal::start(PortalOptions {
        allow_changes: true,
        ..Default::default()
    })
}

#[test]
fn a_change_gives_a_bundle_of_exactly_it_and_restores_equal_fresh_crawls() {
    let portal = portal_with_changes();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");

    // Run 1: a full bundle, equal to a crawl of the portal as it is. Not on a terminal, a
    // run that goes well says nothing at all.
    backup(&portal, &archive)
        .assert()
        .success()
        .stdout("")
        .stderr("");
    let before = tmp.path().join("crawl-before");
    crawl(&portal, &before);
    let first = bundles(&archive);
    assert_eq!(first.len(), 1);
    assert!(
        first[0].to_string_lossy().ends_with("-0001-full"),
        "{first:?}"
    );
    verify(&first[0]).success();

    // The portal changes: items edited, added, deleted, an attachment replaced.
    let change = portal.portal.as_ref().unwrap().change().unwrap();
    assert!(change.replaced.is_some() && !change.added.is_empty());
    let after = tmp.path().join("crawl-after");
    crawl(&portal, &after);

    // Run 2: an incremental bundle of exactly the changed items, their new files and the
    // tombstones; a valid bag on its own.
    backup(&portal, &archive).assert().success();
    let second = bundles(&archive);
    assert_eq!(second.len(), 2);
    let inc = &second[1];
    assert!(
        inc.to_string_lossy().ends_with("-0002-incremental"),
        "{inc:?}"
    );
    verify(inc).success();
    let written: BTreeSet<i64> = records(inc).keys().copied().collect();
    let replaced = change.replaced.clone().unwrap().0;
    let expected: BTreeSet<i64> = change
        .edited
        .iter()
        .chain(&change.added)
        .copied()
        .chain([replaced])
        .collect();
    assert_eq!(written, expected, "records in the incremental bundle");
    let tombstones: Vec<i64> = json(&inc.join("data/deletions.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["item_id"].as_i64().unwrap())
        .collect();
    assert_eq!(tombstones, change.deleted);
    // Its files are the new ones: those of the added items and the replacement; every other
    // file its records point to is referenced in the full bundle with the same digest.
    let in_bundle: BTreeSet<String> = payload(inc)
        .into_keys()
        .filter(|p| p.starts_with("data/files/"))
        .collect();
    let full_files = payload(&first[0]);
    let references = json(&inc.join("data/references.json"));
    let referenced: BTreeSet<String> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            assert_eq!(r["bundle"], first[0].file_name().unwrap().to_str().unwrap());
            assert_eq!(
                full_files.get(path),
                r["sha256"].as_str().map(str::to_string).as_ref()
            );
            path.to_string()
        })
        .collect();
    for (path, sha) in record_files(inc) {
        assert!(
            in_bundle.contains(&path) != referenced.contains(&path),
            "{path} is either in the bundle or referenced"
        );
        if in_bundle.contains(&path) {
            assert_ne!(
                full_files.get(&path),
                Some(&sha),
                "{path} was copied although unchanged"
            );
        }
    }
    let after_records = records(&after);
    for path in &in_bundle {
        let owner = after_records
            .values()
            .find(|r| r.to_string().contains(path.as_str()));
        let id = owner.unwrap()["source"]["item_id"].as_i64().unwrap();
        assert!(
            change.added.contains(&id) || id == replaced,
            "{path} (item {id}) is new or replaced"
        );
    }
    assert!(!in_bundle.is_empty());

    // Run 3: nothing changed, no bundle, the run logged.
    backup(&portal, &archive).assert().success();
    assert_eq!(bundles(&archive).len(), 2);
    let log = runs(&archive);
    assert_eq!(log.len(), 3);
    assert_eq!(log[2]["outcome"], "no-change");
    assert_eq!(log[1]["items_deleted"], change.deleted.len() as u64);

    // Restores at each run equal fresh crawls of the portal as it was then.
    let r1 = tmp.path().join("restore-1");
    restore(
        &archive,
        Some(first[0].file_name().unwrap().to_str().unwrap()),
        &r1,
    );
    assert_eq!(payload(&r1), payload(&before));
    let r2 = tmp.path().join("restore-2");
    restore(&archive, None, &r2);
    assert_eq!(payload(&r2), payload(&after));
    verify(&r2).success();
    // By date: the last run that day (UTC) is the incremental one.
    let by_date = tmp.path().join("restore-by-date");
    restore(&archive, Some("2025-12-02"), &by_date);
    assert_eq!(payload(&by_date), payload(&after));
    for (at, code) in [("2025-12-01", 2), ("yesterday", 2)] {
        sharc()
            .args(["restore", "--at", at, "--out"])
            .arg(tmp.path().join(at))
            .arg(&archive)
            .assert()
            .code(code)
            .stderr(predicate::str::contains(
                first[0].file_name().unwrap().to_str().unwrap(),
            ));
    }

    sharc()
        .arg("verify")
        .arg(&archive)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 bundles"));
}

#[test]
fn full_every_starts_a_new_series_and_old_series_can_be_pruned() {
    let portal = portal_with_changes();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    let every_two = |p: &Portal| {
        let mut c = backup(p, &archive);
        c.args(["--full-every", "2"]);
        c.assert().success();
    };
    every_two(&portal);
    portal.portal.as_ref().unwrap().change().unwrap();
    every_two(&portal);
    portal.portal.as_ref().unwrap().edit_every(10);
    every_two(&portal);
    let names: Vec<String> = bundles(&archive)
        .iter()
        .map(|b| b.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[0].ends_with("-full") && names[1].ends_with("-incremental"));
    assert!(names[2].ends_with("-0003-full"), "{names:?}");
    let series = |n: &str| -> String {
        let info = fs::read_to_string(archive.join(n).join("bag-info.txt")).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("Bag-Group-Identifier: "))
            .unwrap()
            .to_string()
    };
    assert_eq!(series(&names[0]), series(&names[1]));
    assert_ne!(series(&names[1]), series(&names[2]));
    sharc().arg("verify").arg(&archive).assert().success();
    // Pruning the first series leaves an archive that verifies and restores.
    for n in &names[..2] {
        fs::remove_dir_all(archive.join(n)).unwrap();
    }
    sharc().arg("verify").arg(&archive).assert().success();
    let restored = tmp.path().join("restored");
    restore(&archive, None, &restored);
    let now = tmp.path().join("crawl-now");
    crawl(&portal, &now);
    assert_eq!(payload(&restored), payload(&now));
}

#[test]
fn a_view_count_alone_is_no_change() {
    let portal = portal_with_changes();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    backup(&portal, &archive).assert().success();
    // Every item saved again with one more view: new versions, the same content.
    portal.portal.as_ref().unwrap().count_views();
    backup(&portal, &archive).assert().success();
    assert_eq!(bundles(&archive).len(), 1, "no bundle for views alone");
    let log = runs(&archive);
    assert_eq!(log[1]["outcome"], "no-change");
    assert_eq!(log[1]["items_unchanged"], 31);
    // The state took the new versions: the next run reads no item at all.
    let before = portal.requests().len();
    backup(&portal, &archive).assert().success();
    let asked: Vec<String> = portal.requests()[before..]
        .iter()
        .map(|r| r.path_and_query.clone())
        .collect();
    assert!(
        !asked.iter().any(|p| p.contains("/items(")),
        "no item read again: {asked:?}"
    );
    // The narrow listing: four columns, ordered by ID only, never filtered.
    let listing: Vec<&String> = asked.iter().filter(|p| p.contains("/items?")).collect();
    assert_eq!(listing.len(), 1, "{asked:?}");
    assert!(listing[0].contains("$select=ID,Modified,OData__UIVersionString,Attachments"));
    assert!(listing[0].contains("$orderby=ID"));
    assert!(!listing[0].contains("$filter"));
}

#[test]
fn verify_names_the_bundle_tampered_with_removed_or_reordered() {
    let portal = portal_with_changes();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    backup(&portal, &archive).assert().success();
    portal.portal.as_ref().unwrap().change().unwrap();
    backup(&portal, &archive).assert().success();
    let names: Vec<String> = bundles(&archive)
        .iter()
        .map(|b| b.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2);
    sharc().arg("verify").arg(&archive).assert().success();

    let copy = |name: &str| {
        let to = tmp.path().join(name);
        copy_dir(&archive, &to);
        to
    };

    // Edited: a record of the full bundle changed, its manifests left alone.
    let edited = copy("edited");
    let record = bundles(&edited)[0].join("data/records/000003.json");
    let text = fs::read_to_string(&record).unwrap();
    let edited_text = text.replacen("\"title\": \"", "\"title\": \"Đã sửa: ", 1);
    assert_ne!(text, edited_text);
    fs::write(&record, edited_text).unwrap();
    verify(&edited)
        .code(3)
        .stdout(predicate::str::contains(&names[0]));

    // Replaced: the full bundle's bag-info rewritten with its tag manifest made to match.
    let replaced = copy("replaced");
    let full = bundles(&replaced)[0].clone();
    let info = fs::read_to_string(full.join("bag-info.txt"))
        .unwrap()
        .replace("Sở Tư pháp", "Sở Tư Pháp");
    fs::write(full.join("bag-info.txt"), &info).unwrap();
    rewrite_tagmanifests(&full);
    sharc().arg("verify").arg(&full).assert().success();
    verify(&replaced)
        .code(3)
        .stderr(predicate::str::contains(format!(
            "{}: changed after it was written",
            names[0]
        )));

    // Removed: the incremental bundle gone.
    let removed = copy("removed");
    fs::remove_dir_all(removed.join(&names[1])).unwrap();
    verify(&removed)
        .code(3)
        .stderr(predicate::str::contains(format!(
            "{}: recorded in sharc-state.json but not in the archive",
            names[1]
        )));

    // Reordered: the two bundles' names swapped.
    let reordered = copy("reordered");
    let (a, b) = (reordered.join(&names[0]), reordered.join(&names[1]));
    let swap = reordered.join("swap");
    fs::rename(&a, &swap).unwrap();
    fs::rename(&b, &a).unwrap();
    fs::rename(&swap, &b).unwrap();
    verify(&reordered)
        .code(3)
        .stderr(predicate::str::contains(format!("invalid: {}", names[0])));
}

#[test]
fn a_second_backup_at_once_is_refused_and_a_stale_lock_taken_over() {
    let portal = portal_with_changes();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    // Another run holds the archive (this process, through its own open of the lock file).
    let held = sharc::bundle::StagingLock::acquire(&archive).unwrap();
    backup(&portal, &archive)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("another sharc backup"))
        .stderr(predicate::str::contains(std::process::id().to_string()));
    assert!(
        bundles(&archive).is_empty(),
        "the refused run wrote nothing"
    );
    drop(held);
    // A lock file left by a run that was killed: taken over.
    fs::write(archive.join("sharc.lock"), "4194303\n").unwrap();
    backup(&portal, &archive).assert().success();
    assert_eq!(bundles(&archive).len(), 1);
    assert!(!archive.join("sharc.lock").exists());
}

#[test]
fn a_backup_killed_at_any_moment_and_run_again_ends_with_the_same_archive() {
    let portal = portal_with_changes();
    let tmp = tempfile::tempdir().unwrap();
    // The uninterrupted series: a full run, the change, an incremental run.
    let clean = tmp.path().join("clean");
    backup(&portal, &clean).assert().success();
    let full_state = fs::read(clean.join("sharc-state.json")).unwrap();
    portal.portal.as_ref().unwrap().change().unwrap();
    backup(&portal, &clean).assert().success();

    // Killed runs, at moments spread over a run slowed to a few requests a second.
    for (n, wait_ms) in [150u64, 600, 1200, 2500].into_iter().enumerate() {
        let archive = tmp.path().join(format!("killed-{n}"));
        // The full bundle as the clean series has it, then the incremental run killed.
        copy_dir(&clean, &archive);
        let inc = bundles(&archive)[1].clone();
        fs::remove_dir_all(&inc).unwrap();
        fs::write(archive.join("sharc-state.json"), &full_state).unwrap();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sharc"))
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .args(["backup", &portal.url(), "--rate", "8", "--archive"])
            .arg(&archive)
            .arg("--mapping")
            .arg(mapping())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever was left, the state claims no incomplete bundle.
        let state = json(&archive.join("sharc-state.json"));
        for b in state["bundles"].as_array().unwrap() {
            let dir = archive.join(b["name"].as_str().unwrap());
            verify(&dir).success();
        }
        backup(&portal, &archive).assert().success();
        assert_eq!(
            fs::read(archive.join("sharc-state.json")).unwrap(),
            fs::read(clean.join("sharc-state.json")).unwrap(),
            "killed after {wait_ms} ms: the state"
        );
        let names = |a: &Path| -> Vec<_> {
            bundles(a)
                .iter()
                .map(|b| b.file_name().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&archive), names(&clean), "killed after {wait_ms} ms");
        for (a, b) in bundles(&archive).iter().zip(bundles(&clean)) {
            assert_eq!(
                fs::read(a.join("tagmanifest-sha512.txt")).unwrap(),
                fs::read(b.join("tagmanifest-sha512.txt")).unwrap(),
                "killed after {wait_ms} ms: {a:?}"
            );
        }
    }
}

#[test]
fn an_html_only_portal_is_refused_with_what_to_do_instead() {
    let portal = Portal::start(PortalOptions {
        api: sharc_sample::ApiAccess::Forbidden403,
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("archive");
    backup(&portal, &archive)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("REST API only"))
        .stderr(predicate::str::contains("sharc crawl"));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Recomputes a bag's tag manifests after a tag file was edited, as a forger would.
fn rewrite_tagmanifests(bag: &Path) {
    for (alg, name) in [
        ("sha256", "tagmanifest-sha256.txt"),
        ("sha512", "tagmanifest-sha512.txt"),
    ] {
        let old = fs::read_to_string(bag.join(name)).unwrap();
        let mut out = String::new();
        for line in old.lines() {
            let (_, path) = line.split_once("  ").unwrap();
            let f = sharc::fixity::of_bytes(&fs::read(bag.join(path)).unwrap());
            let digest = if alg == "sha256" { f.sha256 } else { f.sha512 };
            out.push_str(&format!("{digest}  {path}\n"));
        }
        fs::write(bag.join(name), out).unwrap();
    }
}
