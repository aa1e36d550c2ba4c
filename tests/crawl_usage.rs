//! Crawl options that cannot work are refused before anything is fetched, with exit 2 and a
//! message naming the option; a site URL with a password in it is refused without printing
//! the password.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use std::net::TcpListener;
use std::path::Path;

/// `sharc crawl <site> … <extra>` against a port nobody answers on, and its stderr.
fn crawl_err(site: &str, extra: &[&str]) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mapping = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/tin-tuc-mo-rong.toml");
    let out = Command::cargo_bin("sharc")
        .unwrap()
        .arg("crawl")
        .arg(site)
        .arg("--mapping")
        .arg(mapping)
        .arg("--out")
        .arg(tmp.path().join("bag"))
        .args(extra)
        .output()
        .unwrap();
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "nothing written"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A site URL on a port that was free a moment ago: any request to it would fail.
fn dead_site() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/", l.local_addr().unwrap())
}

#[test]
fn options_that_cannot_work_are_usage_errors_naming_the_option() {
    let site = dead_site();
    for (args, names) in [
        (&["--concurrency", "0"][..], "--concurrency"),
        (&["--rate", "0"][..], "--rate"),
        (&["--request-timeout", "0"][..], "--request-timeout"),
        (
            &["--allow-host", "https://media.longan.gov.vn/"][..],
            "--allow-host",
        ),
        (
            &["--allow-host", "media.longan.gov.vn:http"][..],
            "--allow-host",
        ),
    ] {
        let (code, err) = crawl_err(&site, args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(names), "{args:?}: {err}");
    }
}

#[test]
fn a_site_url_with_a_password_is_refused_without_printing_it() {
    for scheme in ["http", "https"] {
        let site = dead_site().replace("http://", &format!("{scheme}://alice:s3cr3t@"));
        let (code, err) = crawl_err(&site, &[]);
        assert_eq!(code, Some(2), "{site}: {err}");
        assert!(!err.contains("s3cr3t") && !err.contains("alice"), "{err}");
        assert!(err.contains("authentication"), "{err}");
    }
    // A URL too broken to parse is not printed with its password either.
    let (code, err) = crawl_err("http://alice:s3cr3t@127.0.0.1:99999/", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
}

#[test]
fn every_mistake_in_the_options_and_the_mapping_is_reported_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/tin-tuc-mo-rong.toml");
    let text = std::fs::read_to_string(shipped).unwrap().replacen(
        "as = \"integer\"",
        "as = \"integr\"",
        1,
    );
    let mapping = tmp.path().join("m.toml");
    std::fs::write(&mapping, text).unwrap();
    let out = Command::cargo_bin("sharc")
        .unwrap()
        .arg("crawl")
        .arg(dead_site())
        .arg("--mapping")
        .arg(&mapping)
        .arg("--out")
        .arg(tmp.path().join("bag"))
        .args(["--concurrency", "0", "--page-size", "0", "--rate", "0"])
        .args(["--allow-host", "http://media.longan.gov.vn/"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("4 problem(s) with the options"), "{err}");
    for needle in [
        "--concurrency 0",
        "--page-size 0",
        "--rate 0",
        "--allow-host `http://media.longan.gov.vn/`",
        "`integr` is not a conversion; did you mean `integer`?",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(!tmp.path().join("bag").exists());
}
