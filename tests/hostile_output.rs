//! What sharc writes and prints, against a farm that serves awkward names and bad items, and
//! against users who run two crawls at once or resume the wrong one: payload names that
//! cannot collide or grow past 200 characters, one bad item failing alone, an output
//! directory owned by one run, staging walked without following symlinks, no control
//! character reaching the terminal, and `--rate` holding for every request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod hostile;

use hostile::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn staging(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap().to_os_string();
    name.push(".sharc-partial");
    out.with_file_name(name)
}

#[test]
fn urls_that_differ_by_query_or_nest_as_file_and_folder_get_their_own_payload_files() {
    let mut plan = Plan::good(3);
    let mut by_query = portal::good_item(5, "");
    by_query["N_x1ed9_i_x0020_dung"] =
        "<p>Ảnh một <img src=\"/img.ashx?id=1\"/> và ảnh hai <img src=\"/img.ashx?id=2\"/></p>"
            .into();
    plan.add_item(by_query);
    plan.file(
        &portal::attachment_path(5),
        portal::file_bytes(&portal::attachment_path(5)),
    );
    plan.file("/img.ashx?id=1", b"image one".to_vec());
    plan.file("/img.ashx?id=2", b"image two".to_vec());
    plan.add_item(portal::item_with_attachments(
        6,
        &[("a", "/docs/a"), ("b.txt", "/docs/a/b.txt")],
    ));
    plan.file("/docs/a", b"the file a".to_vec());
    plan.file("/docs/a/b.txt", b"the file a/b.txt".to_vec());
    let farm = Farm::start(plan);
    let tmp = tempfile::tempdir().unwrap();

    for (name, extra) in [
        ("default", vec![]),
        ("one-at-a-time", vec!["--concurrency", "1"]),
    ] {
        let out = tmp.path().join(name);
        let ran = crawl(&farm, &out, &extra, Duration::from_secs(60));
        ran.assert_code(0);
        let recs = records(&out);
        let images = recs[&5]["body"]["images"].as_array().unwrap();
        let got: Vec<Option<Vec<u8>>> = images
            .iter()
            .map(|i| record_file(&out, &i["file"]))
            .collect();
        assert_eq!(
            got,
            [Some(b"image one".to_vec()), Some(b"image two".to_vec())],
            "{name}: ?id=1 and ?id=2 must be two payload files with their own bytes"
        );
        let atts = recs[&6]["attachments"].as_array().unwrap();
        let got: Vec<Option<Vec<u8>>> =
            atts.iter().map(|a| record_file(&out, &a["file"])).collect();
        assert_eq!(
            got,
            [
                Some(b"the file a".to_vec()),
                Some(b"the file a/b.txt".to_vec())
            ],
            "{name}: /docs/a and /docs/a/b.txt must both be archived"
        );
        let map = path_map(&out);
        for needle in [
            "img.ashx?id=1",
            "img.ashx?id=2",
            "/docs/a\t",
            "/docs/a/b.txt",
        ] {
            let rows: Vec<_> = map
                .iter()
                .filter(|(u, p)| format!("{u}\t{p}").contains(needle))
                .collect();
            assert_eq!(
                rows.len(),
                1,
                "{name}: path-map.tsv rows for {needle}: {map:?}"
            );
        }
        let mut payloads: Vec<&String> = map.iter().map(|(_, p)| p).collect();
        let n = payloads.len();
        payloads.sort();
        payloads.dedup();
        assert_eq!(
            payloads.len(),
            n,
            "{name}: two URLs share a payload file: {map:?}"
        );
        assert_items_archived(&out, 1..=3);
        assert_verifies(&out);
    }
}

/// A portal whose files take 300 ms each: a crawl with `--concurrency 1` runs for seconds.
fn slow_plan(prefix: &str) -> Plan {
    let mut plan = Plan::good_with_prefix(6, prefix);
    plan.file_delay = Some(Duration::from_millis(300));
    plan
}

fn file_requests(farm: &Farm) -> usize {
    farm.farm_requests()
        .iter()
        .filter(|s| !s.path().starts_with("/_api/"))
        .count()
}

#[test]
fn a_second_crawl_into_the_same_out_is_refused_while_the_first_runs() {
    let farm = Farm::start(slow_plan(""));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let mut first = Sharc::crawl(&farm.url(), &out);
    first
        .args(["--concurrency", "1", "--page-size", "2"])
        .timeout(Duration::from_secs(90));
    let running = first.spawn();
    assert!(
        wait_until(Duration::from_secs(20), || file_requests(&farm) >= 2),
        "the first crawl never started fetching"
    );

    let mut second = Sharc::crawl(&farm.url(), &out);
    second
        .args(["--concurrency", "1", "--page-size", "2"])
        .timeout(Duration::from_secs(30));
    let ran = second.run();
    let first_ran = running.wait();
    assert!(
        ran.code == Some(1)
            && ran.elapsed < Duration::from_secs(5)
            && ran.err().to_ascii_lowercase().contains("lock"),
        "the second crawl should stop at once with exit 1, naming the lock: {}",
        ran.describe()
    );
    first_ran.assert_code(0);
    assert_items_archived(&out, 1..=6);
    assert_verifies(&out);

    // A lock left by a crawl killed outright does not stop the next run.
    let out2 = tmp.path().join("again");
    let mut cmd = Sharc::crawl(&farm.url(), &out2);
    cmd.args(["--concurrency", "1", "--page-size", "2"])
        .timeout(Duration::from_secs(90));
    let before = file_requests(&farm);
    let running = cmd.spawn();
    assert!(wait_until(Duration::from_secs(20), || file_requests(&farm)
        >= before + 3));
    running.kill();
    let ran = cmd.run();
    ran.assert_code(0);
    assert_verifies(&out2);
}

#[test]
fn resuming_into_the_out_of_another_site_is_refused() {
    let site_a = Farm::start(slow_plan("A: "));
    let site_b = Farm::start(Plan::good_with_prefix(6, "B: "));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let mut cmd = Sharc::crawl(&site_a.url(), &out);
    cmd.args(["--concurrency", "1", "--page-size", "2"])
        .timeout(Duration::from_secs(90));
    let running = cmd.spawn();
    // Two pages' files: the first page's records are written by then.
    assert!(
        wait_until(Duration::from_secs(30), || file_requests(&site_a) >= 8),
        "the crawl of site A never got going"
    );
    running.kill();

    let mut cmd = Sharc::crawl(&site_b.url(), &out);
    cmd.args(["--concurrency", "1", "--page-size", "2"])
        .timeout(Duration::from_secs(60));
    let ran = cmd.run();
    if out.exists() {
        let of_a: Vec<i64> = records(&out)
            .into_iter()
            .filter(|(_, r)| r["title"].as_str().unwrap_or("").starts_with("A: "))
            .map(|(id, _)| id)
            .collect();
        assert!(
            of_a.is_empty(),
            "records of site A {of_a:?} in a bag of site B: {}",
            ran.describe()
        );
    }
    ran.assert_code(2);
    let err = ran.err();
    assert!(
        err.contains(&site_a.host_port()) || err.to_ascii_lowercase().contains("site"),
        "the refusal should say it is another crawl's staging: {}",
        ran.describe()
    );
}

#[test]
fn a_symlinked_staging_data_directory_loses_none_of_the_files_it_points_to() {
    let farm = Farm::start(slow_plan(""));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let mut cmd = Sharc::crawl(&farm.url(), &out);
    cmd.args(["--concurrency", "1", "--page-size", "2"])
        .timeout(Duration::from_secs(90));
    let running = cmd.spawn();
    assert!(wait_until(Duration::from_secs(30), || file_requests(&farm) >= 8));
    running.kill();

    let data = staging(&out).join("data");
    assert!(
        data.is_dir(),
        "no staging data directory at {}",
        data.display()
    );
    std::fs::remove_dir_all(&data).unwrap();
    let victim = tmp.path().join("someone-elses-files");
    let precious = [
        ("precious.txt", "do not delete"),
        ("sub/notes.txt", "notes"),
        (
            "records/000001.json",
            "{\"not\": \"a record of this crawl\"}",
        ),
        (
            "files/Lists/TinTucSuKien/Attachments/1/bao-cao-1.pdf",
            "not the portal's",
        ),
    ];
    for (p, text) in precious {
        let f = victim.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, text).unwrap();
    }
    std::os::unix::fs::symlink(&victim, &data).unwrap();

    let ran = cmd.run();
    let lost: Vec<&str> = precious
        .iter()
        .filter(|(p, text)| std::fs::read_to_string(victim.join(p)).ok().as_deref() != Some(*text))
        .map(|(p, _)| *p)
        .collect();
    assert!(
        lost.is_empty(),
        "files outside the staging directory were deleted or changed: {lost:?}\n{}",
        ran.describe()
    );
    ran.assert_ended_by_itself();
    if ran.code == Some(0) {
        assert_verifies(&out);
    }
}

/// A crawl of good items 1..=3 around `bad`, which must fail alone: exit 4, items 1..=3
/// archived, the bag verifies. Returns the bag's report.
fn crawl_with_bad_item(bad: Value, tmp: &Path) -> (Ran, Value, PathBuf) {
    let mut plan = Plan::good(1);
    plan.items.push(bad);
    plan.add_good_item(2, "");
    plan.add_good_item(3, "");
    let farm = Farm::start(plan);
    let out = tmp.join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));
    ran.assert_code(4);
    assert_items_archived(&out, 1..=3);
    assert_verifies(&out);
    (ran, report(&out), out)
}

#[test]
fn an_item_without_an_id_is_a_per_item_failure_not_an_abort() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = portal::without_attachments(portal::good_item(4, ""));
    let m = bad.as_object_mut().unwrap();
    m.remove("Id");
    m.remove("ID");
    let (_, report, _) = crawl_with_bad_item(bad, tmp.path());
    let mut lists = Vec::new();
    for (k, v) in report.as_object().unwrap() {
        if k != "notes"
            && let Some(a) = v.as_array()
        {
            lists.extend(a.iter().map(|x| x.to_string().to_ascii_lowercase()));
        }
    }
    assert!(
        lists.iter().any(|e| e.contains("id")),
        "the item without an Id should be a listed failure: {report:#}"
    );
}

#[test]
fn an_item_with_a_negative_id_is_a_per_item_failure_not_an_abort() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = portal::good_item(4, "");
    bad["Id"] = (-5).into();
    bad["ID"] = (-5).into();
    let (_, report, out) = crawl_with_bad_item(bad, tmp.path());
    assert!(
        !item_entries(&report, -5).is_empty(),
        "item -5 should be a listed failure: {report:#}"
    );
    assert!(!records(&out).contains_key(&-5), "a record for item -5");
}

#[test]
fn an_attachment_path_of_2100_segments_fails_alone_or_gets_a_short_name() {
    let long = format!("/{}x.pdf", "a/".repeat(2100));
    let mut plan = Plan::good(3);
    plan.add_item(portal::item_with_attachments(4, &[("x.pdf", &long)]));
    plan.file(&long, b"deep".to_vec());
    let farm = Farm::start(plan);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));
    match ran.code {
        Some(4) => assert!(
            !item_entries(&report(&out), 4).is_empty(),
            "item 4 failed, so the report must say why"
        ),
        Some(0) => assert_eq!(
            records(&out)
                .get(&4)
                .and_then(|r| record_file(&out, &r["attachments"][0]["file"])),
            Some(b"deep".to_vec())
        ),
        _ => panic!("one bad path must not stop the crawl: {}", ran.describe()),
    }
    assert_items_archived(&out, 1..=3);
    assert_payload_paths_within(&out, 200);
    assert_verifies(&out);
}

#[test]
fn payload_paths_stay_within_200_characters_and_the_path_map_keeps_the_url() {
    let segment = "thu-muc-tai-lieu-cua-so-tu-phap-long-an"; // 39 characters
    let long = format!(
        "/Lists/TinTucSuKien/Attachments/4/{}bao-cao-tong-ket.pdf",
        format!("{segment}/").repeat(9)
    );
    assert!(long.len() > 380);
    let mut plan = Plan::good(3);
    plan.add_item(portal::item_with_attachments(
        4,
        &[("bao-cao-tong-ket.pdf", &long)],
    ));
    plan.file(&long, b"long but legal".to_vec());
    let farm = Farm::start(plan);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));
    ran.assert_code(0);
    assert_payload_paths_within(&out, 200);
    let rec = &records(&out)[&4];
    let file = &rec["attachments"][0]["file"];
    assert_eq!(record_file(&out, file), Some(b"long but legal".to_vec()));
    let payload = file["path"].as_str().unwrap();
    let map = path_map(&out);
    assert!(
        map.iter()
            .any(|(url, p)| url.ends_with(&long) && p == payload),
        "path-map.tsv should pair the original URL with {payload}: {map:?}"
    );
    assert!(
        rec["attachments"][0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&long)),
        "the record keeps the original URL"
    );
    assert_items_archived(&out, 1..=3);
    assert_verifies(&out);
}

#[test]
fn duplicate_item_ids_are_reported_not_silently_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let mut plan = Plan::good(3);
    plan.add_item(portal::without_attachments(portal::good_item(
        7,
        "bản một: ",
    )));
    plan.add_item(portal::without_attachments(portal::good_item(
        7,
        "bản hai: ",
    )));
    let farm = Farm::start(plan);
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &[], Duration::from_secs(60));
    ran.assert_code(4);
    let report = report(&out);
    assert!(
        !item_entries(&report, 7).is_empty(),
        "the second item 7 should be a listed failure: {report:#}"
    );
    assert_items_archived(&out, 1..=3);
    assert_verifies(&out);
}

fn assert_no_control_characters(what: &str, bytes: &[u8], ran: &Ran) {
    let bad: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| *b == 0x1b || *b == 0x07 || *b == 0x9b)
        .collect();
    assert!(
        bad.is_empty(),
        "{what} carries raw control bytes {bad:02x?}: {}",
        ran.describe()
    );
}

#[test]
fn control_characters_from_the_farm_never_reach_the_terminal_raw() {
    let gone = "/Lists/TinTucSuKien/Attachments/4/gone.pdf";
    let mut plan = Plan::good(3);
    plan.list_title = format!("{}\u{1b}]0;pwned\u{7}", portal::LIST_TITLE);
    plan.add_item(portal::item_with_attachments(
        4,
        &[("\u{1b}[2J\u{1b}[31mgone.pdf\u{7}", gone)],
    ));
    plan.at(
        gone,
        Reply::sp_error(
            404,
            "\u{1b}[2J\u{1b}[31mThe file is gone\u{1b}]0;owned\u{7}",
        ),
    );
    let farm = Farm::start(plan);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let ran = crawl(&farm, &out, &["-v"], Duration::from_secs(60));
    assert_no_control_characters("stderr", &ran.stderr, &ran);
    assert_no_control_characters("stdout", &ran.stdout, &ran);
    ran.assert_code(4);
    assert_items_archived(&out, 1..=3);
}

#[test]
fn control_characters_in_a_manifest_never_reach_the_terminal_raw() {
    let farm = Farm::start(Plan::good(2));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl(&farm, &out, &[], Duration::from_secs(60)).assert_code(0);
    let manifest = out.join("manifest-sha256.txt");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str(&format!(
        "{}  data/\u{1b}[2J\u{1b}[31mevil\u{1b}]0;owned\u{7}.txt\n",
        "0".repeat(64)
    ));
    std::fs::write(&manifest, text).unwrap();
    let ran = verify(&out);
    assert_no_control_characters("stderr", &ran.stderr, &ran);
    assert_no_control_characters("stdout", &ran.stdout, &ran);
    ran.assert_code(3);
}

/// Asserts that the request starts the farm saw never exceed `rate` per second (one more in
/// any one-second window allowed for timing noise) and that the run statistics beside the bag count them all.
#[track_caller]
fn assert_paced(farm: &Farm, out: &Path, rate: usize, what: &str) {
    let mut times: Vec<Instant> = farm.farm_requests().iter().map(|s| s.at).collect();
    times.sort();
    let n = times.len();
    assert!(n >= 10, "{what}: only {n} requests");
    let mut worst = 0;
    for i in 0..n {
        let in_window = times[i..]
            .iter()
            .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
            .count();
        worst = worst.max(in_window);
    }
    assert!(
        worst <= rate + 1,
        "{what}: {worst} requests within one second at --rate {rate}"
    );
    let span = times[n - 1].duration_since(times[0]).as_secs_f64();
    assert!(
        (n - 1) as f64 / span <= rate as f64 * 1.1,
        "{what}: {n} requests in {span:.1}s at --rate {rate}"
    );
    let stats: Value = serde_json::from_slice(
        &std::fs::read(sharc::bundle::crawl_bag::run_stats_path(out)).unwrap(),
    )
    .unwrap();
    assert_eq!(
        stats["http"]["requests"].as_u64(),
        Some(n as u64),
        "{what}: the run statistics should count every request the farm saw: {stats}"
    );
}

#[test]
fn the_rate_holds_for_every_kind_of_request_and_run_stats_count_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    for (source, extra) in [("rest", vec!["--page-size", "2"]), ("html", vec![])] {
        let farm = Farm::start(Plan::good(3));
        let out = tmp.path().join(source);
        let mut args = vec!["--rate", "2", "--source", source];
        args.extend(extra);
        let ran = crawl(&farm, &out, &args, Duration::from_secs(90));
        ran.assert_code(0);
        assert_paced(&farm, &out, 2, source);
    }
}
