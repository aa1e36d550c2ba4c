//! The Library of Congress BagIt conformance suite, case by case: `sharc verify` must accept
//! every `valid` bag (exit 0), reject every `invalid` bag (exit 3) with a finding that names
//! the problem, and accept every `warning` bag while printing a warning that names it.
//! `linux-only` cases must be rejected here; sharc rejects the `windows-only` ones on every
//! system, since a manifest path with a drive letter or a backslash is outside `data/`
//! wherever the bag is read.
//!
//! Each case is its own test, so a failure names the case.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::sharc;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the suite is copied.
fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bagit-conformance")
}

/// What a case must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Exit 0, no finding.
    Valid,
    /// Exit 3, with a finding of this code.
    Invalid(&'static str),
    /// Exit 0, with a warning of this code.
    Warning(&'static str),
}

/// Runs `sharc verify` on one case and checks the outcome.
fn check(case: &str, expect: Expect) {
    let bag = suite().join(case);
    assert!(bag.is_dir(), "{case}: fixture missing at {}", bag.display());
    let out = sharc().arg("verify").arg(&bag).output().unwrap();
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = |prefix: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    };
    let (invalid, warnings) = (lines("invalid: "), lines("warning: "));
    match expect {
        Expect::Valid => {
            assert_eq!(code, Some(0), "{case}: a valid bag was rejected:\n{stderr}");
            assert!(invalid.is_empty(), "{case}: {invalid:?}");
        }
        Expect::Invalid(finding) => {
            assert_eq!(
                code,
                Some(3),
                "{case}: an invalid bag was not rejected:\n{stderr}"
            );
            let tag = format!("({finding})");
            assert!(
                invalid.iter().any(|l| l.ends_with(&tag)),
                "{case}: expected a {finding} finding, got:\n{stderr}"
            );
        }
        Expect::Warning(warning) => {
            assert_eq!(
                code,
                Some(0),
                "{case}: a bag with only warnings was rejected:\n{stderr}"
            );
            let tag = format!("({warning})");
            assert!(
                warnings.iter().any(|l| l.ends_with(&tag)),
                "{case}: expected a {warning} warning, got:\n{stderr}"
            );
        }
    }
}

macro_rules! cases {
    ($($test:ident: $case:literal => $expect:expr;)*) => {
        $(
            #[test]
            fn $test() {
                check($case, $expect);
            }
        )*

        /// Every case in the table, to prove the table covers the suite.
        const CASES: &[&str] = &[$($case),*];
    };
}

use Expect::{Invalid, Valid, Warning};

cases! {
    v1_0_valid_basic_bag: "v1.0/valid/basicBag" => Valid;
    v1_0_invalid_bagit_with_invalid_whitespace:
        "v1.0/invalid/bagit-with-invalid-whitespace" => Invalid("bad-bagit-txt");
    v1_0_invalid_not_all_manifests_list_all_files:
        "v1.0/invalid/notAllManifestsListAllFiles" => Invalid("not-in-manifest");
    v1_0_invalid_same_filename_listed_twice_with_different_hashes:
        "v1.0/invalid/same-filename-listed-twice-with-different-hashes" => Invalid("duplicate-entry");
    v1_0_invalid_same_filename_listed_twice_with_the_same_hash:
        "v1.0/invalid/same-filename-listed-twice-with-the-same-hash" => Invalid("duplicate-entry");

    v0_97_valid_iso_8859_1_encoded_tag_files:
        "v0.97/valid/ISO-8859-1-encoded-tag-files" => Valid;
    v0_97_valid_utf_16_encoded_tag_files: "v0.97/valid/UTF-16-encoded-tag-files" => Valid;
    v0_97_valid_bag_in_a_bag: "v0.97/valid/bag-in-a-bag" => Valid;
    v0_97_valid_bag_with_encoded_names: "v0.97/valid/bag-with-encoded-names" => Valid;
    v0_97_valid_bag_with_escapable_characters:
        "v0.97/valid/bag-with-escapable-characters" => Valid;
    v0_97_valid_bag_with_leading_dot_slash_in_manifest:
        "v0.97/valid/bag-with-leading-dot-slash-in-manifest" => Valid;
    v0_97_valid_bag_with_space: "v0.97/valid/bag-with-space" => Valid;
    v0_97_valid_basic_bag: "v0.97/valid/basic-bag" => Valid;
    v0_97_valid_duplicate_metadata_entries: "v0.97/valid/duplicate-metadata-entries" => Valid;
    v0_97_valid_holey_bag: "v0.97/valid/holey-bag" => Valid;
    v0_97_valid_minimal_bag: "v0.97/valid/minimal-bag" => Valid;
    v0_97_valid_uncommon_metadata_separators:
        "v0.97/valid/uncommon-metadata-separators" => Valid;

    v0_97_invalid_baginfo_missing_encoding:
        "v0.97/invalid/baginfo-missing-encoding" => Invalid("bad-bagit-txt");
    v0_97_invalid_bom_in_bagit_txt: "v0.97/invalid/bom-in-bagit.txt" => Invalid("bad-bagit-txt");
    v0_97_invalid_corrupt_data_file:
        "v0.97/invalid/corrupt-data-file" => Invalid("checksum-mismatch");
    v0_97_invalid_corrupt_tag_file:
        "v0.97/invalid/corrupt-tag-file" => Invalid("checksum-mismatch");
    v0_97_invalid_extra_file_in_bag:
        "v0.97/invalid/extra-file-in-bag" => Invalid("not-in-manifest");
    v0_97_invalid_invalid_version_number:
        "v0.97/invalid/invalid-version-number" => Invalid("bad-bagit-txt");
    v0_97_invalid_missing_baginfo: "v0.97/invalid/missing-baginfo" => Invalid("missing-file");
    v0_97_invalid_missing_bagit_txt:
        "v0.97/invalid/missing-bagit.txt" => Invalid("bad-bagit-txt");
    v0_97_invalid_out_of_scope_file_paths_using_dot_notation:
        "v0.97/invalid/out-of-scope-file-paths-using-dot-notation" => Invalid("path-outside-bag");
    v0_97_invalid_out_of_scope_file_paths_using_dot_notation_for_fetch:
        "v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch"
        => Invalid("path-outside-bag");
    v0_97_invalid_same_filename_listed_twice_with_different_hashes:
        "v0.97/invalid/same-filename-listed-twice-with-different-hashes"
        => Invalid("duplicate-entry");

    v0_97_linux_only_absolute_path:
        "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path" => Invalid("path-outside-bag");
    v0_97_linux_only_absolute_path_for_fetch:
        "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path-for-fetch"
        => Invalid("path-outside-bag");
    v0_97_linux_only_shortcut:
        "v0.97/linux-only/out-of-scope-file-paths-using-shortcut" => Invalid("path-outside-bag");
    v0_97_linux_only_shortcut_for_fetch:
        "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-for-fetch"
        => Invalid("path-outside-bag");
    v0_97_linux_only_shortcut_username:
        "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username"
        => Invalid("path-outside-bag");
    v0_97_linux_only_shortcut_username_for_fetch:
        "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username-for-fetch"
        => Invalid("path-outside-bag");

    v0_97_windows_only_absolute_path:
        "v0.97/windows-only/out-of-scope-file-paths-using-absolute-path"
        => Invalid("path-outside-bag");
    v0_97_windows_only_absolute_path_for_fetch:
        "v0.97/windows-only/out-of-scope-file-paths-using-absolute-path-for-fetch"
        => Invalid("path-outside-bag");
    v0_97_windows_only_shortcut:
        "v0.97/windows-only/out-of-scope-file-paths-using-shortcut" => Invalid("path-outside-bag");
    v0_97_windows_only_shortcut_for_fetch:
        "v0.97/windows-only/out-of-scope-file-paths-using-shortcut-for-fetch"
        => Invalid("path-outside-bag");
    v0_97_windows_only_unc: "v0.97/windows-only/out-of-scope-file-paths-using-unc"
        => Invalid("path-outside-bag");
    v0_97_windows_only_unc_for_fetch:
        "v0.97/windows-only/out-of-scope-file-paths-using-unc-for-fetch"
        => Invalid("path-outside-bag");

    v0_97_warning_duplicate_file_with_different_case:
        "v0.97/warning/duplicate-file-with-different-case" => Warning("case-mismatch");
    v0_97_warning_made_with_md5sum_tools:
        "v0.97/warning/made-with-md5sum-tools" => Warning("binary-mode-marker");
    v0_97_warning_relative_path: "v0.97/warning/relative-path" => Warning("leading-dot-slash");
    v0_97_warning_same_filename_listed_twice_with_different_normalization:
        "v0.97/warning/same-filename-listed-twice-with-different-normalization"
        => Warning("normalization-mismatch");
    v0_97_warning_same_filename_listed_twice_with_the_same_hash:
        "v0.97/warning/same-filename-listed-twice-with-the-same-hash" => Warning("duplicate-entry");
    v0_97_warning_special_system_files:
        "v0.97/warning/special-system-files" => Warning("os-specific-file");
}

#[test]
fn every_case_of_the_suite_is_in_the_table() {
    let mut found = BTreeSet::new();
    for version in ["v1.0", "v0.97"] {
        for class in std::fs::read_dir(suite().join(version)).unwrap() {
            let class = class.unwrap();
            if !class.file_type().unwrap().is_dir() {
                continue;
            }
            for case in std::fs::read_dir(class.path()).unwrap() {
                let case = case.unwrap();
                if case.file_type().unwrap().is_dir() {
                    found.insert(format!(
                        "{version}/{}/{}",
                        class.file_name().to_string_lossy(),
                        case.file_name().to_string_lossy()
                    ));
                }
            }
        }
    }
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.to_string()).collect();
    assert_eq!(found, listed, "cases on disk vs cases in the table");
}

#[test]
fn the_restored_system_file_is_there() {
    let ds_store = suite().join("v0.97/warning/special-system-files/data/.DS_Store");
    assert!(
        ds_store.is_file(),
        "{} is missing: restore it as an empty file (see tests/fixtures/README.md)",
        ds_store.display()
    );
}
