//! `sharc mapping check`: every problem of a mapping, with its line and a suggestion, offline
//! and against the sample portal's live fields; exit 0 when the mapping is fit, 2 when not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, mapping, sharc};
use predicates::prelude::*;
use sharc_sample::{Farm, PortalOptions};
use std::path::{Path, PathBuf};

/// The shipped mapping with `from` replaced by `to` (which must occur), written to `dir`.
fn edited(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(mapping()).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "the shipped mapping has {from}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("m.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `LINE:COLUMN` (1-based, columns in characters) of `needle` on the first line holding
/// `line_needle`.
fn place_of(path: &Path, line_needle: &str, needle: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains(line_needle))
        .unwrap();
    let col = line[..line.find(needle).unwrap()].chars().count() + 1;
    format!("{}:{col}", n + 1)
}

/// The 1-based line of the first line containing `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

fn check(path: &Path, site: Option<&Portal>) -> assert_cmd::assert::Assert {
    let mut c = sharc();
    c.args(["mapping", "check"]).arg(path);
    if let Some(p) = site {
        c.args(["--site", &p.url()]);
    }
    c.assert()
}

#[test]
fn the_shipped_mapping_is_fine_offline_and_against_the_sample() {
    check(&mapping(), None).success().stdout(
        predicate::str::contains("ok: ")
            .and(predicate::str::contains("22 field(s), checked offline")),
    );
    let portal = Portal::start(PortalOptions::default());
    check(&mapping(), Some(&portal))
        .success()
        .stdout(predicate::str::contains(
            "checked against list `Tin tức sự kiện`",
        ))
        .stderr(predicate::str::is_empty());
}

#[test]
fn an_unknown_key_and_a_typo_in_a_neutral_field_are_named_with_their_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let m = edited(
        tmp.path(),
        &[
            (
                "time_zone = \"Asia/Ho_Chi_Minh\"",
                "time_zone = \"Asia/Ho_Chi_Minh\"\ncolour = \"đỏ\"",
            ),
            ("view_count      =", "veiw_count      ="),
        ],
    );
    let (key_line, field_line) = (line_of(&m, "colour"), line_of(&m, "veiw_count"));
    check(&m, None)
        .code(2)
        .stderr(predicate::str::contains(format!(
            "m.toml:{key_line}:1: [list]: unknown key `colour`; "
        )))
        .stderr(predicate::str::contains("(mapping-unknown-key)"))
        .stderr(predicate::str::contains(format!(
            "m.toml:{field_line}:1: [fields]: `veiw_count` is not a neutral field; did you mean `view_count`? (mapping-unknown-field)"
        )))
        .stdout(predicate::str::contains("2 problem(s)"));
}

#[test]
fn a_conversion_that_cannot_fill_its_field_is_caught_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let m = edited(
        tmp.path(),
        &[(
            "\"Số lượt người đọc\", as = \"integer\"",
            "\"Số lượt người đọc\", as = \"boolean\"",
        )],
    );
    let place = place_of(&m, "\"Số lượt người đọc\", as = \"boolean\"", "\"boolean\"");
    check(&m, None).code(2).stderr(predicate::str::contains(format!(
        "m.toml:{place}: [fields] view_count: conversion `boolean` cannot fill view_count; use one of: integer, number (mapping-conversion-does-not-fit)"
    )));
}

#[test]
fn a_field_missing_on_the_site_is_named_with_the_closest_fields_there() {
    let tmp = tempfile::tempdir().unwrap();
    let m = edited(tmp.path(), &[("\"Ngày xuất bản\"", "\"Ngày xuất bảng\"")]);
    let line = line_of(&m, "Ngày xuất bảng");
    // Offline the name cannot be known to be wrong…
    check(&m, None).success();
    // …against the site it is.
    let portal = Portal::start(PortalOptions::default());
    check(&m, Some(&portal))
        .code(2)
        .stderr(predicate::str::contains(format!(
            "m.toml:{line}: [fields] published_at = `Ngày xuất bảng` is not a field of the list — closest existing: `Ngày xuất bản` (Ng_x00e0_y_x0020_xu_x1ea5_t_x002), DateTime (site-field-missing)"
        )));
    assert!(
        portal
            .requests()
            .iter()
            .all(|r| !r.path_and_query.contains("/items")),
        "a check reads no items"
    );
}

#[test]
fn a_conversion_that_does_not_fit_the_sites_field_type_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    // A lookup conversion on a text field: the neutral field accepts it, the field does not.
    let m = edited(
        tmp.path(),
        &[(
            "{ field = \"Tác giả\", as = \"text\" }",
            "{ field = \"Tác giả\", as = \"lookup\" }",
        )],
    );
    let line = line_of(&m, "\"Tác giả\", as");
    check(&m, None).success();
    let portal = Portal::start(PortalOptions::default());
    check(&m, Some(&portal)).code(2).stderr(predicate::str::contains(format!(
        "m.toml:{line}: [fields] author = `Tác giả` (T_x00e1_c_x0020_gi_x1ea3_) is a Text field; conversion `lookup` cannot read it — use as = \"text\" or \"html\" or \"choice\" (site-field-type)"
    )));
}

#[test]
fn a_missing_list_is_reported_at_the_title_line_and_list_picks_another() {
    let portal = Portal::start(PortalOptions {
        farm: Farm::Vietnamese,
        ..Default::default()
    });
    let line = line_of(&mapping(), "title = \"Tin tức sự kiện\"");
    check(&mapping(), Some(&portal))
        .code(2)
        .stderr(predicate::str::contains(format!(
            "tin-tuc-mo-rong.toml:{line}: list `Tin tức sự kiện` not found"
        )))
        .stderr(predicate::str::contains(
            "the site has: `Tin tức` (31 items, content type Tin Tức Mở Rộng)",
        ));
    // On the Vietnamese farm, with its list's title, the shipped mapping is fine: the
    // built-ins are named by internal name, the other fields by their display names.
    sharc()
        .args(["mapping", "check"])
        .arg(mapping())
        .args(["--site", &portal.url(), "--list", "Tin tức"])
        .assert()
        .success()
        .stdout(predicate::str::contains("checked against list `Tin tức`"));
}

#[test]
fn a_file_that_is_not_toml_is_a_problem_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m.toml");
    std::fs::write(&m, "[list]\ntitle = \"Tin tức\n[fields]\n").unwrap();
    check(&m, None)
        .code(2)
        .stderr(predicate::str::contains("m.toml:2:"))
        .stderr(predicate::str::contains("not TOML"))
        .stderr(predicate::str::contains("(mapping-syntax)"));
    sharc()
        .args(["mapping", "check"])
        .arg(tmp.path().join("absent.toml"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("absent.toml"));
}

#[test]
fn the_same_wrong_value_on_three_lines_is_reported_on_each_with_its_column() {
    let tmp = tempfile::tempdir().unwrap();
    let m = edited(
        tmp.path(),
        &[
            (
                "{ field = \"Tác giả\", as = \"text\" }",
                "{ field = \"Tác giả\", as = \"txt\" }",
            ),
            (
                "{ field = \"Tóm tắt\", as = \"text\" }",
                "{ field = \"Tóm tắt\", as = \"txt\" }",
            ),
            ("as = \"integer\"", "as = \"txt\""),
        ],
    );
    let text = std::fs::read_to_string(&m).unwrap();
    let places: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"txt\""))
        .map(|(n, l)| {
            format!(
                "m.toml:{}:{}:",
                n + 1,
                l[..l.find("\"txt\"").unwrap()].chars().count() + 1
            )
        })
        .collect();
    assert_eq!(places.len(), 3);
    // The checker and the crawl both report every one, before anything is fetched.
    let out = tmp.path().join("bag");
    for assert in [
        check(&m, None),
        sharc()
            .args(["crawl", "http://127.0.0.1:9/", "--mapping"])
            .arg(&m)
            .arg("--out")
            .arg(&out)
            .assert(),
    ] {
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert_eq!(assert.get_output().status.code(), Some(2), "{stderr}");
        for place in &places {
            assert!(
                stderr.contains(&format!("{place} [fields] "))
                    && stderr.contains("`txt` is not a conversion; did you mean `text`?"),
                "{place}: {stderr}"
            );
        }
    }
    assert!(!out.exists());
}

#[test]
fn a_mapping_without_fields_is_not_blamed_on_line_one() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m.toml");
    std::fs::write(&m, "[list]\ntitle = \"Tin tức\"\n").unwrap();
    check(&m, None)
        .code(2)
        .stderr(predicate::str::contains(
            "m.toml: there is no [fields] section",
        ))
        .stderr(predicate::str::contains("m.toml:1").not());
}

#[test]
fn an_unclosed_or_malformed_selector_is_worded_by_sharc() {
    let tmp = tempfile::tempdir().unwrap();
    let m = edited(
        tmp.path(),
        &[(".news-list a.news-link", ".news-list a[news-link")],
    );
    check(&m, None).code(2).stderr(predicate::str::contains(
        "`.news-list a[news-link` is not a CSS selector: the `[` at character 13 is never closed; close it with `]`",
    ));
    let m = edited(
        tmp.path(),
        &[(".news-detail h1.news-title", ".news-detail h1.!title")],
    );
    check(&m, None)
        .code(2)
        .stderr(predicate::str::contains(
            "is not a CSS selector: a `.` must be followed by a class name",
        ))
        .stderr(predicate::str::contains("ClassNeedsIdent").not())
        .stderr(predicate::str::contains("report this").not());
}
