//! Signing in: crawls of the sample portal with each method it can require, what anonymous
//! readers are told, a sign-in that expires part-way, and the secret never written anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Portal, crawl_cmd, mapping, records, report, sample_dir};
use predicates::prelude::*;
use sharc_sample::auth::{TEST_DOMAIN, TEST_FEDAUTH, TEST_PASSWORD, TEST_TOKEN, TEST_USER};
use sharc_sample::{AuthMethod, AuthOptions, PortalOptions, RunningPortal};
use std::path::{Path, PathBuf};

/// How a test signs in with `method`: the flags, the environment, and the secrets that must
/// never appear in anything sharc writes.
struct SignIn {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    secrets: Vec<String>,
}

fn sign_in(method: AuthMethod, dir: &Path) -> SignIn {
    let user = format!("{TEST_DOMAIN}\\{TEST_USER}");
    let b64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    match method {
        AuthMethod::Bearer => SignIn {
            args: vec![
                "--auth".into(),
                "bearer".into(),
                "--token-env".into(),
                "SP_TOKEN".into(),
            ],
            env: vec![("SP_TOKEN", TEST_TOKEN.into())],
            secrets: vec![TEST_TOKEN.into()],
        },
        AuthMethod::Cookie => {
            let file = dir.join("cookies.txt");
            std::fs::write(&file, format!("Cookie: FedAuth={TEST_FEDAUTH}; rtFa=x\n")).unwrap();
            private(&file);
            SignIn {
                args: vec!["--cookie-file".into(), file.display().to_string()],
                env: vec![],
                secrets: vec![TEST_FEDAUTH.into(), TEST_FEDAUTH[..24].into()],
            }
        }
        AuthMethod::Basic | AuthMethod::Ntlm => SignIn {
            args: vec![
                "--auth".into(),
                if method == AuthMethod::Basic {
                    "basic"
                } else {
                    "ntlm"
                }
                .into(),
                "--user".into(),
                user.clone(),
                "--password-env".into(),
                "SP_PASSWORD".into(),
                "--allow-insecure-auth".into(),
            ],
            env: vec![("SP_PASSWORD", TEST_PASSWORD.into())],
            secrets: vec![
                TEST_PASSWORD.into(),
                b64(&format!("{user}:{TEST_PASSWORD}")),
            ],
        },
    }
}

#[cfg(unix)]
fn private(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[cfg(not(unix))]
fn private(_: &Path) {}

fn protected(method: AuthMethod) -> PortalOptions {
    PortalOptions {
        auth: Some(AuthOptions::require(method)),
        ..Default::default()
    }
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Fails when any secret is in any file under `dir` (the secret files the test wrote
/// itself aside) or in the output.
fn assert_no_secret(secrets: &[String], dir: &Path, output: &[u8], own: &[PathBuf]) {
    let output = String::from_utf8_lossy(output);
    let mut searched = 0;
    for f in all_files(dir).iter().filter(|f| !own.contains(f)) {
        let bytes = std::fs::read(f).unwrap();
        for s in secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{} holds a secret",
                f.display()
            );
        }
        searched += 1;
    }
    assert!(searched > 3, "only {searched} files were written to search");
    for s in secrets {
        assert!(
            !output.contains(s.as_str()),
            "the output shows a secret:\n{output}"
        );
    }
}

const METHODS: [AuthMethod; 4] = [
    AuthMethod::Bearer,
    AuthMethod::Cookie,
    AuthMethod::Basic,
    AuthMethod::Ntlm,
];

#[test]
fn each_method_crawls_a_protected_portal_with_its_drafts_and_never_writes_the_secret() {
    for method in METHODS {
        let portal = Portal::start(protected(method));
        let tmp = tempfile::tempdir().unwrap();
        let s = sign_in(method, tmp.path());
        let out = tmp.path().join("bag");
        let mut cmd = crawl_cmd(&portal, &mapping(), &out);
        cmd.args(&s.args).arg("-vv").arg("--page-size").arg("10");
        for (k, v) in &s.env {
            cmd.env(k, v);
        }
        let ran = cmd.assert().success();
        let output = ran.get_output();
        let mut all = output.stdout.clone();
        all.extend_from_slice(&output.stderr);

        let recs = records(&out);
        assert_eq!(recs.len(), 31, "{method:?}: every item, drafts included");
        assert_eq!(recs[&29]["approval_status"], "draft", "{method:?}");
        assert_eq!(recs[&31]["approval_status"], "pending", "{method:?}");
        assert_eq!(recs[&27]["approval_status"], "rejected", "{method:?}");
        assert_eq!(report(&out)["via"], "rest", "{method:?}");
        let requests = portal.requests();
        assert!(
            requests.iter().filter(|r| r.signed_in).count() > 31,
            "{method:?}: pages and files were read signed in"
        );
        let own = vec![tmp.path().join("cookies.txt")];
        assert_no_secret(&s.secrets, tmp.path(), &all, &own);
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("GET http://127.0.0.1"),
            "-vv logs each request"
        );
    }
}

#[test]
fn anonymous_readers_of_a_protected_portal_are_told_which_sign_in_it_wants() {
    for (method, says) in [
        (AuthMethod::Bearer, "--auth bearer --token-env VAR"),
        (AuthMethod::Cookie, "--auth cookie --cookie-file PATH"),
        (
            AuthMethod::Basic,
            "--auth basic --user DOMAIN\\name --password-env VAR",
        ),
        (
            AuthMethod::Ntlm,
            "--auth ntlm --user DOMAIN\\name --password-env VAR",
        ),
    ] {
        let portal = Portal::start(protected(method));
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("bag");
        crawl_cmd(&portal, &mapping(), &out)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(says));
        assert!(!out.exists(), "{method:?}: no bag of sign-in pages");
    }
}

#[test]
fn the_wrong_credentials_are_explained_with_the_method_the_portal_wants() {
    let portal = Portal::start(protected(AuthMethod::Ntlm));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    crawl_cmd(&portal, &mapping(), &out)
        .args(["--auth", "bearer", "--token-env", "SP_TOKEN"])
        .env("SP_TOKEN", TEST_TOKEN)
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("refused the --auth bearer credentials")
                .and(predicate::str::contains(
                    "WWW-Authenticate: Negotiate, NTLM",
                ))
                .and(predicate::str::contains("--auth ntlm")),
        );
    // A wrong password for the right method: refused, and never read as the public pages.
    crawl_cmd(&portal, &mapping(), &out)
        .args([
            "--auth",
            "ntlm",
            "--user",
            "LONGAN\\archivist",
            "--password-env",
            "P",
        ])
        .arg("--allow-insecure-auth")
        .env("P", "not-the-password")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "refused the --auth ntlm credentials",
        ));
    assert!(!out.exists());
}

#[test]
fn signed_in_readers_see_drafts_and_pending_items_that_anonymous_readers_do_not() {
    let portal = Portal::start(PortalOptions {
        auth: Some(AuthOptions {
            anonymous_reads: true,
            ..AuthOptions::require(AuthMethod::Ntlm)
        }),
        ..Default::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let anonymous = tmp.path().join("anonymous");
    crawl_cmd(&portal, &mapping(), &anonymous)
        .assert()
        .success();
    let seen = records(&anonymous);
    assert_eq!(seen.len(), 28);
    assert!(seen.values().all(|r| r["approval_status"] == "approved"));

    let signed_in = tmp.path().join("signed-in");
    let s = sign_in(AuthMethod::Ntlm, tmp.path());
    let mut cmd = crawl_cmd(&portal, &mapping(), &signed_in);
    cmd.args(&s.args).envs(s.env.iter().cloned());
    cmd.assert().success();
    let all = records(&signed_in);
    assert_eq!(all.len(), 31);
    let extra: Vec<(i64, String)> = all
        .iter()
        .filter(|(id, _)| !seen.contains_key(id))
        .map(|(id, r)| (*id, r["approval_status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        extra,
        [
            (27, "rejected".to_owned()),
            (29, "draft".to_owned()),
            (31, "pending".to_owned())
        ]
    );
}

#[test]
fn the_three_legs_of_ntlm_arrive_on_one_connection() {
    let portal = Portal::start(protected(AuthMethod::Ntlm));
    let tmp = tempfile::tempdir().unwrap();
    let s = sign_in(AuthMethod::Ntlm, tmp.path());
    let mut cmd = crawl_cmd(&portal, &mapping(), &tmp.path().join("bag"));
    cmd.args(&s.args).envs(s.env.iter().cloned());
    cmd.args(["--concurrency", "4"]).assert().success();
    let requests = portal.requests();
    let signed: Vec<_> = requests.iter().filter(|r| r.signed_in).collect();
    assert!(signed.len() > 31);
    for r in &signed {
        // The request before it on its connection is the challenge it answers.
        let before = requests
            .iter()
            .take_while(|x| !std::ptr::eq(*x, *r))
            .filter(|x| x.connection == r.connection)
            .last()
            .unwrap();
        assert_eq!(
            (before.status, before.signed_in, &before.path_and_query),
            (401, false, &r.path_and_query),
            "{r:?} came without its challenge on connection {}",
            r.connection
        );
    }
    let connections: std::collections::BTreeSet<u64> =
        signed.iter().map(|r| r.connection).collect();
    assert!(
        connections.len() > 1,
        "requests ran on several connections at once"
    );
}

#[test]
fn a_sign_in_that_expires_part_way_stops_the_crawl_and_a_fresh_one_resumes_it() {
    for method in METHODS {
        let tmp = tempfile::tempdir().unwrap();
        let s = sign_in(method, tmp.path());
        let out = tmp.path().join("bag");
        let expiring = PortalOptions {
            auth: Some(AuthOptions {
                valid_for: Some(25),
                ..AuthOptions::require(method)
            }),
            ..Default::default()
        };
        let portal = Portal::start(expiring);
        let port = portal.portal.as_ref().unwrap().base_url.port().unwrap();
        let mut cmd = crawl_cmd(&portal, &mapping(), &out);
        cmd.args(&s.args).envs(s.env.iter().cloned()).args([
            "--page-size",
            "5",
            "--concurrency",
            "1",
            "-vv",
        ]);
        let ran = cmd.assert().code(1).stderr(
            predicate::str::contains("run the same command to resume")
                .and(predicate::str::contains("no sign-in page is archived")),
        );
        let stderr = ran.get_output().stderr.clone();
        assert!(!out.exists(), "{method:?}: no bag");
        let staging = sharc::bundle::staging_path(&out).unwrap();
        let journal = staging.join(sharc::bundle::journal::JOURNAL_NAME);
        assert!(journal.exists(), "{method:?}: the staging journal is kept");
        for f in all_files(&staging) {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            assert!(
                !text.contains("Authenticate.aspx") && !text.contains("401 UNAUTHORIZED"),
                "{}: a sign-in answer was archived",
                f.display()
            );
        }
        assert_no_secret(
            &s.secrets,
            tmp.path(),
            &stderr,
            &[tmp.path().join("cookies.txt")],
        );
        drop(portal);

        // Signed in again: the same command resumes and finishes.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let fresh = rt
            .block_on(RunningPortal::start(&sample_dir(), protected(method), port))
            .unwrap();
        let mut again = common::sharc();
        again
            .arg("crawl")
            .arg(fresh.base_url.as_str())
            .arg("--mapping")
            .arg(mapping())
            .arg("--out")
            .arg(&out)
            .args(&s.args)
            .envs(s.env.iter().cloned())
            .assert()
            .success()
            .stderr(predicate::str::contains("resuming the unfinished bag"));
        assert_eq!(records(&out).len(), 31, "{method:?}");
        rt.block_on(fresh.shutdown());
    }
}

#[test]
fn secrets_come_only_from_the_environment_or_a_file_and_basic_needs_https() {
    let portal = Portal::start(protected(AuthMethod::Basic));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bag");
    let run = |args: &[&str]| {
        let mut c = crawl_cmd(&portal, &mapping(), &out);
        c.args(args).env_remove("SP_UNSET");
        c.assert()
    };
    run(&[
        "--auth",
        "basic",
        "--user",
        "LONGAN\\archivist",
        "--password-env",
        "P",
    ])
    .code(2)
    .stderr(predicate::str::contains("--allow-insecure-auth"));
    run(&["--auth", "bearer", "--token-env", "SP_UNSET"])
        .code(2)
        .stderr(predicate::str::contains("SP_UNSET is not set"));
    run(&["--user", "LONGAN\\archivist"])
        .code(2)
        .stderr(predicate::str::contains("--auth basic or --auth ntlm"));
    // A token file others can read works, with a warning.
    let token = tmp.path().join("token");
    std::fs::write(&token, format!("{TEST_TOKEN}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
        run(&["--token-file", token.to_str().unwrap()])
            .code(1)
            .stderr(
                predicate::str::contains("chmod 600").and(predicate::str::contains(
                    "refused the --auth bearer credentials",
                )),
            );
    }
    assert!(!out.exists());
}

#[test]
fn inspect_mapping_check_and_backup_sign_in_the_same_way_and_keep_no_secret() {
    let portal = Portal::start(protected(AuthMethod::Bearer));
    let tmp = tempfile::tempdir().unwrap();
    let s = sign_in(AuthMethod::Bearer, tmp.path());
    let mut inspect = common::sharc();
    inspect
        .arg("inspect")
        .arg(portal.url())
        .args(&s.args)
        .envs(s.env.iter().cloned());
    inspect
        .assert()
        .success()
        .stdout(predicate::str::contains("Tin tức sự kiện  31"));
    let mut check = common::sharc();
    check
        .args(["mapping", "check"])
        .arg(mapping())
        .arg("--site")
        .arg(portal.url())
        .args(&s.args)
        .envs(s.env.iter().cloned());
    check
        .assert()
        .success()
        .stdout(predicate::str::contains("ok:"));
    let archive = tmp.path().join("archive");
    let mut backup = common::sharc();
    backup
        .arg("backup")
        .arg(portal.url())
        .arg("--mapping")
        .arg(mapping())
        .arg("--archive")
        .arg(&archive)
        .args(&s.args)
        .arg("-vv")
        .envs(s.env.iter().cloned());
    let ran = backup.assert().success();
    let runs = std::fs::read_to_string(archive.join("runs.jsonl")).unwrap();
    assert!(runs.contains("\"items_added\":31"), "{runs}");
    assert_no_secret(&s.secrets, tmp.path(), &ran.get_output().stderr, &[]);
}
