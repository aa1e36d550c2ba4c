//! What cannot heal stops a crawl at once: before it settles in to retry for minutes, sharc
//! looks at the site once, and a closed port, https spoken to a plain-HTTP port, an unknown
//! host or a site path that is not there ends the run with exit 1 within seconds and a
//! sentence saying what to check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, mapping, sharc};
use sharc_sample::PortalOptions;
use std::time::{Duration, Instant};

/// Crawls `site` into a fresh directory; returns the exit code, stderr and how long it took.
fn crawl(site: &str) -> (Option<i32>, String, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = sharc()
        .args(["crawl", site, "--mapping"])
        .arg(mapping())
        .arg("--out")
        .arg(tmp.path().join("bag"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!tmp.path().join("bag").exists(), "{stderr}");
    (out.status.code(), stderr, started.elapsed())
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_closed_port_stops_the_crawl_within_seconds_naming_the_port() {
    let port = closed_port();
    let (code, stderr, took) = crawl(&format!("http://127.0.0.1:{port}/"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    assert!(
        stderr.contains(&format!(
            "nothing answers at 127.0.0.1:{port} (connection refused): check the port in the site URL"
        )),
        "{stderr}"
    );
}

#[test]
fn https_to_a_plain_http_port_says_to_try_http() {
    let portal = Portal::start(PortalOptions::default());
    let https = portal.url().replacen("http://", "https://", 1);
    let (code, stderr, took) = crawl(&https);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    assert!(
        stderr.contains("does not speak TLS (https)")
            && stderr.contains(&format!("try {}", portal.url())),
        "{stderr}"
    );
}

#[test]
fn a_site_path_that_is_not_there_is_named_as_such() {
    let portal = Portal::start(PortalOptions::default());
    let (code, stderr, took) = crawl(&format!("{}sites/khong-co/", portal.url()));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    assert!(
        stderr.contains("answers HTTP 404 (not found) for the site itself: check the site's path"),
        "{stderr}"
    );
    assert!(!stderr.contains("[html] start"), "{stderr}");
}

#[test]
fn an_unknown_host_is_named() {
    let (code, stderr, took) = crawl("http://khong-co-may-nay.invalid/");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {stderr}");
    assert!(
        stderr.contains("the host `khong-co-may-nay.invalid` is not known"),
        "{stderr}"
    );
}
