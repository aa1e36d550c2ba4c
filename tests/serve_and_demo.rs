//! `sharc demo` and `sharc serve` as a user runs them: from a binary copied away from the
//! source tree, from any working directory, on the sample compiled into the binary or on a
//! directory given, and stopped with Ctrl-C.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, interrupt, mapping, sample_dir, wait_for_journal};
use sharc_sample::{FaultPlan, PortalOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The built `sharc`, copied alone into `dir` as a user would install it.
fn copy_binary(dir: &Path) -> PathBuf {
    let copy = dir.join("sharc");
    std::fs::copy(env!("CARGO_BIN_EXE_sharc"), &copy).unwrap();
    copy
}

/// Runs the copied binary in `cwd` with an empty environment: nothing may lead it back to
/// the source tree.
/// A child forked by another test while the copy was open for writing holds it open until
/// it runs its own program; starting the copy meanwhile fails with "text file busy", so that
/// is tried again for a while.
fn run_in(sharc: &Path, cwd: &Path, args: &[&str]) -> Output {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match Command::new(sharc)
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .output()
        {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result.unwrap(),
        }
    }
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// How many items the sample's news list holds.
fn sample_items() -> usize {
    std::fs::read_dir(sample_dir().join("lists/TinTucSuKien/items"))
        .unwrap()
        .count()
}

#[test]
fn demo_runs_from_a_copied_binary_in_any_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("elsewhere");
    std::fs::create_dir(&home).unwrap();
    let sharc = copy_binary(&home);
    for (i, cwd) in [home.as_path(), Path::new("/")].into_iter().enumerate() {
        let bag = tmp.path().join(format!("bag-{i}"));
        let out = run_in(&sharc, cwd, &["demo", "--out", bag.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "demo in {}: {}",
            cwd.display(),
            text(&out)
        );
        let verify = run_in(&sharc, cwd, &["verify", bag.to_str().unwrap()]);
        assert!(verify.status.success(), "{}", text(&verify));
        let records = std::fs::read_dir(bag.join("data/records")).unwrap().count();
        assert_eq!(records, sample_items(), "one record per sample item");
    }
    let left: Vec<_> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["sharc"], "the demo wrote only under --out");
}

#[test]
fn the_built_in_sample_gives_the_same_bag_as_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let demo = |out: &Path, extra: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_sharc"))
            .args([
                "-q",
                "demo",
                "--bagging-date",
                "2025-07-01",
                "--port",
                &port,
            ])
            .arg("--out")
            .arg(out)
            .args(extra)
            .env_remove("SOURCE_DATE_EPOCH")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
    };
    let (built_in, from_dir) = (tmp.path().join("built-in"), tmp.path().join("dir"));
    demo(&built_in, &[]);
    demo(&from_dir, &["--sample-dir", sample_dir().to_str().unwrap()]);
    let manifest = |bag: &Path| std::fs::read_to_string(bag.join("manifest-sha512.txt")).unwrap();
    assert_eq!(manifest(&built_in), manifest(&from_dir));
    assert!(manifest(&built_in).lines().count() > sample_items());
}

/// Sends one GET over plain HTTP/1.0 and returns the whole answer.
fn http_get(url: &str, path: &str) -> String {
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serve_answers_until_ctrl_c_then_exits_130_with_a_serve_message() {
    for dir in [None, Some(sample_dir())] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sharc"));
        command.args(["serve", "--port", "0"]);
        if let Some(dir) = &dir {
            command.arg(dir);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_owned();
        match &dir {
            None => assert!(first.contains("built-in"), "{first}"),
            Some(dir) => assert!(first.contains(dir.to_str().unwrap()), "{first}"),
        }
        let answer = http_get(&url, "/robots.txt");
        assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");

        let (code, stderr) = interrupt(child);
        assert_eq!(code, Some(130), "{stderr}");
        assert!(stderr.contains("stopped serving"), "{stderr}");
        assert!(!stderr.contains("--out"), "{stderr}");
        let said = stderr
            .lines()
            .filter(|l| l.starts_with("interrupted") || l.starts_with("error"))
            .count();
        assert_eq!(said, 1, "one message: {stderr}");
    }
}

#[test]
fn serve_names_the_file_of_a_broken_sample_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("portal.json"), "{ not json").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sharc"))
        .args(["serve", "--port", "0"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("portal.json"), "{stderr}");
}

#[test]
fn a_demo_after_an_interrupted_one_starts_over() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stp");
    // What an interrupted run leaves beside --out: a staged bag with a journal, here from a
    // slow portal on another port, killed once something was journaled. Pages of three items:
    // the journal claims a page's files together, so the first claim must leave pages to go.
    let slow = Portal::start(PortalOptions {
        faults: FaultPlan {
            slow_ms: 30,
            ..Default::default()
        },
        ..Default::default()
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_sharc"))
        .args(["crawl", &slow.url(), "--page-size", "3", "--mapping"])
        .arg(mapping())
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let staging = sharc::bundle::staging_path(&out).unwrap();
    wait_for_journal(&staging, 1, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(staging.exists() && !out.exists());

    let output = Command::new(env!("CARGO_BIN_EXE_sharc"))
        .arg("demo")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("resuming"), "{stderr}");
    assert!(!staging.exists());
    let slow_origin = slow.url();
    for record in std::fs::read_dir(out.join("data/records")).unwrap() {
        let text = std::fs::read_to_string(record.unwrap().path()).unwrap();
        assert!(
            !text.contains(&slow_origin),
            "a record of the killed run: {text}"
        );
    }
}
