//! The README is tested, so it cannot drift from what sharc does: every `sharc` command in
//! its shell examples runs, in order, against the sample portal (the portal's URL in place
//! of the real sites', scratch directories in place of `/tmp` and `/srv`) with the exit code
//! a table below expects; the bag tree it draws is the tree sharc writes; the User-Agent it
//! names is the one sharc sends; and each subcommand's `--help` ends with examples.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, mapping, sharc};
use sharc_sample::PortalOptions;
use std::path::{Path, PathBuf};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Every line of the README's `sh` blocks that runs sharc, comments dropped.
fn sharc_lines(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh && line.starts_with("sharc ") {
            let code = match line.find("  #") {
                Some(i) => &line[..i],
                None => line,
            };
            out.push(code.trim_end().to_string());
        }
    }
    out
}

/// Splits a shell command line into words: spaces separate, double quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// What each README command must do against the sample portal: its exit code, or `None`
/// for commands not run here (servers that run until Ctrl-C, another portal's example, a
/// restore whose date is the day the README was written).
fn expected(line: &str) -> Option<i32> {
    const TABLE: &[(&str, Option<i32>)] = &[
        ("sharc inspect https://stp.longan.gov.vn/", Some(0)),
        (
            "sharc inspect https://stp.longan.gov.vn/ --list \"Tin tức sự kiện\"",
            Some(0),
        ),
        (
            "sharc inspect https://stp.longan.gov.vn/ --list \"Tin tức sự kiện\" --draft-mapping stp.toml",
            Some(0),
        ),
        ("sharc inspect https://stp.longan.gov.vn/ --json", Some(0)),
        ("sharc mapping check stp.toml", Some(0)),
        (
            "sharc mapping check stp.toml --site https://stp.longan.gov.vn/",
            Some(0),
        ),
        // The sample has no list titled "Tin tức": the check says so.
        (
            "sharc mapping check stp.toml --site https://example.gov.vn/ --list \"Tin tức\"",
            Some(2),
        ),
        (
            "sharc crawl https://stp.longan.gov.vn/ --mapping mappings/tin-tuc-mo-rong.toml --out stp-2025-07-01",
            Some(0),
        ),
        ("sharc verify stp-2025-07-01", Some(0)),
        ("sharc verify stp-2025-07-01.zip", Some(0)),
        (
            "sharc crawl https://htpldn.moj.gov.vn/ --mapping moj.toml --out /tmp/moj-try --source html --max-pages 1",
            None,
        ),
        ("sharc verify /tmp/moj-try", None),
        (
            "sharc backup https://stp.longan.gov.vn/ --mapping mappings/tin-tuc-mo-rong.toml --archive /srv/sharc/stp",
            Some(0),
        ),
        (
            "sharc restore /srv/sharc/stp --at 2026-12-02 --out stp-as-of-2026-12-02",
            None,
        ),
        ("sharc verify /srv/sharc/stp", Some(0)),
    ];
    if line.starts_with("sharc serve") {
        return None;
    }
    match TABLE.iter().find(|(l, _)| *l == line) {
        Some((_, code)) => *code,
        None => panic!("a README command this test does not know: add it to the table: {line}"),
    }
}

#[test]
fn every_sharc_command_in_the_readme_runs_against_the_sample_portal() {
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("mappings")).unwrap();
    std::fs::copy(mapping(), dir.join("mappings/tin-tuc-mo-rong.toml")).unwrap();
    let scratch = |w: &str| -> String {
        let mut w = w.to_string();
        for site in ["https://stp.longan.gov.vn/", "https://example.gov.vn/"] {
            w = w.replace(site, &portal.url());
        }
        for root in ["/tmp/", "/srv/"] {
            if let Some(rest) = w.strip_prefix(root) {
                w = dir.join(rest).to_string_lossy().into_owned();
            }
        }
        w
    };
    // The zip the README verifies is written the way its crawl section says.
    sharc()
        .current_dir(dir)
        .args([
            "crawl",
            &portal.url(),
            "--mapping",
            "mappings/tin-tuc-mo-rong.toml",
        ])
        .args(["--out", "stp-2025-07-01.zip", "-q"])
        .assert()
        .success();
    let mut ran = 0;
    for line in sharc_lines(&readme()) {
        let Some(code) = expected(&line) else {
            continue;
        };
        let args: Vec<String> = words(&line).iter().skip(1).map(|w| scratch(w)).collect();
        let out = sharc().current_dir(dir).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{line}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{line}\n{stderr}");
        if line.ends_with("--json") {
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
        }
        ran += 1;
    }
    assert!(ran >= 12, "only {ran} README commands ran");
}

/// The paths the README's bag tree draws, relative to the bag, directories ending in `/`.
fn drawn_tree(readme: &str) -> (String, Vec<String>, Vec<String>) {
    let section = &readme[readme.find("## The bag\n").unwrap()..];
    let block = &section[section.find("```\n").unwrap() + 4..];
    let block = &block[..block.find("```").unwrap()];
    let mut lines = block.lines();
    let root = lines.next().unwrap().to_string();
    let mut inside = Vec::new();
    let mut beside = Vec::new();
    let mut parents: Vec<String> = Vec::new();
    for line in lines {
        let start = line
            .char_indices()
            .find(|(_, c)| c.is_alphanumeric())
            .map(|(i, _)| i);
        let Some(start) = start else { continue };
        let indent = line[..start].chars().count();
        let name = line[start..].split_whitespace().next().unwrap().to_string();
        if indent == 0 {
            beside.push(name);
            continue;
        }
        if !line[..start].contains(['├', '└']) {
            continue; // a continued comment
        }
        let depth = indent / 4;
        parents.truncate(depth - 1);
        let path = format!("{}{name}", parents.concat());
        if name.ends_with('/') {
            parents.push(name.clone());
        }
        inside.push(path);
    }
    (root, inside, beside)
}

#[test]
fn the_bag_tree_in_the_readme_is_the_one_sharc_writes() {
    let (root, drawn, beside) = drawn_tree(&readme());
    assert_eq!(root, "stp-2025-07-01/");
    let portal = Portal::start(PortalOptions::default());
    let tmp = tempfile::tempdir().unwrap();
    let bag: PathBuf = tmp.path().join(root.trim_end_matches('/'));
    // The drawing includes what --warc and --mets add.
    common::crawl_cmd(&portal, &mapping(), &bag)
        .args(["-q", "--warc", "--mets"])
        .assert()
        .success();
    for path in &drawn {
        assert!(
            bag.join(path).exists(),
            "the README draws {path}, the bag has none"
        );
    }
    for name in &beside {
        assert!(
            tmp.path().join(name).is_file(),
            "the README draws {name} beside the bag"
        );
    }
    // And the other way: every tag file and every entry of data/ is drawn.
    for dir in ["", "data/"] {
        for e in std::fs::read_dir(bag.join(dir)).unwrap() {
            let e = e.unwrap();
            let mut name = format!("{dir}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                name.push('/');
            }
            assert!(
                drawn.iter().any(|d| d == &name || d.starts_with(&name)),
                "the bag has {name}, the README's tree does not draw it"
            );
        }
    }
}

#[test]
fn the_user_agent_in_the_readme_is_the_one_sharc_sends() {
    let sent = sharc::fetch::FetchOptions::default().user_agent;
    let drawn = sent.replace(env!("CARGO_PKG_VERSION"), "<version>");
    assert!(
        readme().contains(&format!("`User-Agent: {drawn}`")),
        "the README should say `User-Agent: {drawn}`"
    );
}

#[test]
fn each_subcommands_help_ends_with_examples() {
    for cmd in [
        &["crawl"][..],
        &["verify"],
        &["inspect"],
        &["mapping", "check"],
        &["serve"],
        &["demo"],
        &["backup"],
        &["restore"],
    ] {
        let out = sharc().args(cmd).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        let tail = &help[help
            .rfind("Examples:")
            .unwrap_or_else(|| panic!("sharc {cmd:?} --help has no examples:\n{help}"))..];
        let examples: Vec<&str> = tail
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!((2..=3).contains(&examples.len()), "{cmd:?}: {examples:#?}");
        let prefix = format!("sharc {}", cmd.join(" "));
        for e in examples {
            assert!(e.trim_start().starts_with(&prefix), "{cmd:?}: {e}");
        }
    }
}

#[test]
fn each_help_example_is_a_command_sharc_accepts() {
    let portal = Portal::start(PortalOptions::default());
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}/", l.local_addr().unwrap().port())
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("mappings")).unwrap();
    for m in ["mappings/tin-tuc-mo-rong.toml", "stp.toml", "moj.toml"] {
        std::fs::copy(mapping(), dir.join(m)).unwrap();
    }
    for cmd in [
        &["crawl"][..],
        &["verify"],
        &["inspect"],
        &["mapping", "check"],
        &["backup"],
        &["restore"],
    ] {
        let out = sharc().args(cmd).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        let tail = &help[help.rfind("Examples:").unwrap()..];
        for example in tail.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let code = example.split("  #").next().unwrap().trim();
            // Reading sites goes to the sample portal; crawls and backups, which would
            // take a while, to a closed port: they stop at their first look at the site.
            let site = if matches!(cmd[0], "crawl" | "backup") {
                &closed
            } else {
                &portal.url()
            };
            let args: Vec<String> = words(code)
                .iter()
                .skip(1)
                .map(|w| {
                    if w.starts_with("https://") {
                        site.clone()
                    } else if let Some(rest) = w.strip_prefix("/tmp/").or(w.strip_prefix("/srv/")) {
                        dir.join(rest).to_string_lossy().into_owned()
                    } else {
                        w.clone()
                    }
                })
                .collect();
            let out = sharc()
                .current_dir(dir)
                .args(&args)
                .timeout(std::time::Duration::from_secs(60))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("Usage:") && !stderr.contains("panicked"),
                "sharc does not accept its own example `{code}`:\n{stderr}"
            );
        }
    }
}
