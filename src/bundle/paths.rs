//! Payload paths planned from where files came from.
//!
//! Files keep the shape of the site in the bag (`Lists/TinTucSuKien/Attachments/12/…`) so a
//! person can find them, but every segment is made portable, and no two files share a path:
//!
//! - each file is planned once, by the key that makes it unique (its URL): the caller keeps
//!   the path with the file (the files step does), and the planner keeps only fingerprints of
//!   the names it gave, so its memory stays small however many files a portal holds;
//! - a URL's query is part of its file's name (`img.ashx?id=1` → `img-id-1.ashx`), and a file
//!   from another host whose name is taken gets that host in its name;
//! - a file and a directory never share a name (`/a` beside `/a/b.txt` → `a` and `a-2/b.txt`),
//!   nor do two names that differ only by case or Unicode normalization;
//! - the `data/…` path stays within [`MAX_PAYLOAD_PATH`] characters: a longer one keeps as
//!   many of its directories as fit and a short name ending in a hash of the key, stable
//!   from run to run (the original URL stays in the record and in `path-map.tsv`).
//!
//! A resumed run replays the names an interrupted one gave ([`PathPlanner::assign`]), so
//! collision suffixes (`-2`) land on the same files as in an uninterrupted run: names are
//! chosen in planning order, each from a list of candidates that depends only on the file.

use super::Result;
use super::names::{NameAllocator, PayloadPath, portable_segment, with_suffix, with_suffix_within};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// Longest payload path, counted as written in manifests (`data/…`), in characters (all of
/// them ASCII). Windows tools choke past 260 characters for the whole path; 200 leaves room
/// for where the bag is unpacked.
pub const MAX_PAYLOAD_PATH: usize = 200;

/// Longest file name given to a file whose path had to be shortened.
const MAX_SHORTENED_NAME: usize = 64;

/// Hex digits of the key's sha256 in a shortened name.
const HASH_DIGITS: usize = 12;

/// Where a file came from, as the planner needs it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// What makes the file unique (its URL): one key, one payload path.
    pub key: &'a str,
    /// The decoded server-relative path, `/`-separated.
    pub path: &'a str,
    /// The query as sent, percent-encoded, when there is one.
    pub query: Option<&'a str>,
    /// The host (and port), when it is not the site's own.
    pub host: Option<&'a str>,
}

/// Plans payload paths below one root directory (e.g. `files`).
#[derive(Debug)]
pub struct PathPlanner {
    root: String,
    allocator: NameAllocator,
    /// Directory segments: fingerprint of (directory, original segment) → the portable name,
    /// as the number of its suffix (see [`DirName`]).
    dirs: HashMap<u64, DirName>,
    /// The few directory names no suffix number describes.
    odd_dirs: HashMap<u64, String>,
}

/// The name a directory segment was given: its portable form, or that with `-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DirName {
    /// The portable segment itself.
    Plain,
    /// The portable segment with this suffix number.
    Numbered(u32),
    /// Something else, kept in `odd_dirs`.
    Odd,
}

impl PathPlanner {
    /// A planner for paths below `root` (a portable payload directory such as `files`).
    pub fn new(root: &str) -> Self {
        Self {
            root: root.to_string(),
            allocator: NameAllocator::new(),
            dirs: HashMap::new(),
            odd_dirs: HashMap::new(),
        }
    }

    /// The payload path of the file `origin` describes: shared with no other key, at most
    /// [`MAX_PAYLOAD_PATH`] characters with `data/`, and the same in every run that plans
    /// (or [`assign`](Self::assign)s) the same files in the same order. Plan each key once.
    pub fn plan(&mut self, origin: &Origin<'_>) -> Result<PayloadPath> {
        let (dir_segments, last) = split(origin.path);
        // Directories as they would be named, without taking any name yet: only those the
        // path ends up using are taken, so what a resumed run replays is all there was.
        let mut dirs = vec![self.root.clone()];
        for segment in &dir_segments {
            let parent = dirs.join("/");
            let name = match self.dir_name(&parent, segment) {
                Some(n) => n,
                None => self
                    .allocator
                    .first_free(&parent, &portable_segment(segment), &[]),
            };
            dirs.push(name);
        }
        let base = file_name(last, origin.query);
        let alternatives: Vec<String> = origin
            .host
            .map(|h| with_suffix(&base, &portable_segment(h)))
            .into_iter()
            .collect();
        let parent = dirs.join("/");
        let name = self.allocator.first_free(&parent, &base, &alternatives);
        if fits(&parent, &name) {
            return self.commit(&dir_segments, &dirs, &name);
        }
        let short = shortened(&base, origin.key);
        for keep in (1..=dirs.len()).rev() {
            let parent = dirs[..keep].join("/");
            let name = self.allocator.first_free(&parent, &short, &[]);
            if fits(&parent, &name) {
                return self.commit(&dir_segments, &dirs[..keep], &name);
            }
        }
        // Unreachable while the root is short: `data/<root>/` and a shortened name fit.
        self.commit(&dir_segments, &dirs[..1], &short)
    }

    /// Takes the names of `dirs` (the root first, then the directories kept) and `name` in
    /// the last of them, and remembers the file's path.
    fn commit(
        &mut self,
        dir_segments: &[&str],
        dirs: &[String],
        name: &str,
    ) -> Result<PayloadPath> {
        let path = PayloadPath::new(&format!("{}/{name}", dirs.join("/")))?;
        self.take(dir_segments, dirs, name);
        Ok(path)
    }

    /// The name given to directory `segment` in `parent`, if one was.
    fn dir_name(&self, parent: &str, segment: &str) -> Option<String> {
        let key = dir_key(parent, segment);
        match self.dirs.get(&key)? {
            DirName::Plain => Some(portable_segment(segment)),
            DirName::Numbered(n) => Some(with_suffix(&portable_segment(segment), &n.to_string())),
            DirName::Odd => self.odd_dirs.get(&key).cloned(),
        }
    }

    /// Remembers that directory `segment` in `parent` is named `name`.
    fn name_dir(&mut self, parent: &str, segment: &str, name: &str) {
        let key = dir_key(parent, segment);
        let base = portable_segment(segment);
        // `-<n>` ends the name, or comes before its extension.
        let numbered = || {
            let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
            [name, stem].into_iter().find_map(|s| {
                let n: u32 = s.rsplit('-').next()?.parse().ok()?;
                (with_suffix(&base, &n.to_string()) == name).then_some(n)
            })
        };
        let kind = if name == base {
            DirName::Plain
        } else if let Some(n) = numbered() {
            DirName::Numbered(n)
        } else {
            self.odd_dirs.insert(key, name.to_string());
            DirName::Odd
        };
        self.dirs.insert(key, kind);
    }

    /// Marks `dirs` (root first) as the names of `dir_segments`, and `name` as taken in the
    /// last directory.
    fn take(&mut self, dir_segments: &[&str], dirs: &[String], name: &str) {
        for (i, segment) in dir_segments.iter().enumerate().take(dirs.len() - 1) {
            let parent = dirs[..=i].join("/");
            let portable = &dirs[i + 1];
            self.allocator.reserve(&parent, portable);
            self.name_dir(&parent, segment, portable);
        }
        self.allocator.reserve(&dirs.join("/"), name);
    }

    /// Records that `origin` was given `payload` (a path below the root, as planned) by an
    /// earlier run, so later plans neither reuse nor rename it.
    pub fn assign(&mut self, origin: &Origin<'_>, payload: &str) {
        let Ok(path) = PayloadPath::new(payload) else {
            return;
        };
        let mut segments: Vec<String> = path.segments().map(str::to_string).collect();
        let Some(name) = segments.pop() else { return };
        if segments.first() != Some(&self.root) {
            return;
        }
        let (dir_segments, _) = split(origin.path);
        self.take(&dir_segments, &segments, &name);
    }
}

/// The fingerprint of directory `segment` (as served) in the payload directory `parent`.
fn dir_key(parent: &str, segment: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    parent.hash(&mut h);
    segment.hash(&mut h);
    h.finish()
}

/// The directory segments of a decoded path and its last segment (empty segments skipped).
fn split(path: &str) -> (Vec<&str>, &str) {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let last = segments.pop().unwrap_or("");
    (segments, last)
}

/// The portable name of a file: its last path segment, with its query when it has one.
fn file_name(last: &str, query: Option<&str>) -> String {
    let base = portable_segment(last);
    match query.filter(|q| !q.is_empty()) {
        Some(q) => {
            let decoded = percent_encoding::percent_decode_str(q).decode_utf8_lossy();
            with_suffix(&base, &portable_segment(&decoded))
        }
        None => base,
    }
}

/// The short name of a file whose path is too long: its name cut, then a hash of its key.
fn shortened(base: &str, key: &str) -> String {
    let hash = crate::fixity::of_bytes(key.as_bytes()).sha256;
    let hash = hash.get(..HASH_DIGITS).unwrap_or(&hash);
    with_suffix_within(base, hash, MAX_SHORTENED_NAME)
}

/// Whether `data/<parent>/<name>` is within [`MAX_PAYLOAD_PATH`].
fn fits(parent: &str, name: &str) -> bool {
    "data/".len() + parent.len() + 1 + name.len() <= MAX_PAYLOAD_PATH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> Origin<'_> {
        Origin {
            key: path,
            path,
            query: None,
            host: None,
        }
    }

    fn plan(p: &mut PathPlanner, o: Origin<'_>) -> String {
        p.plan(&o).unwrap().as_str().to_string()
    }

    #[test]
    fn paths_keep_the_site_shape_and_are_stable() {
        let mut p = PathPlanner::new("files");
        let file = "/Lists/TinTucSuKien/Attachments/12/Quyết định 42-QĐ-UBND.pdf";
        let a = plan(&mut p, at(file));
        assert_eq!(
            a,
            "files/Lists/TinTucSuKien/Attachments/12/Quyet-dinh-42-QD-UBND.pdf"
        );
        assert_eq!(plan(&mut PathPlanner::new("files"), at(file)), a);
    }

    #[test]
    fn names_differing_by_case_or_normalisation_get_distinct_paths() {
        let mut p = PathPlanner::new("files");
        let nfc = "/Attachments/20/Báo cáo.pdf";
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfc).collect();
        let got = [
            plan(&mut p, at(nfc)),
            plan(&mut p, at(&nfd)),
            plan(&mut p, at("/Attachments/20/BAO CAO.pdf")),
        ];
        assert_eq!(
            got,
            [
                "files/Attachments/20/Bao-cao.pdf",
                "files/Attachments/20/Bao-cao-2.pdf",
                "files/Attachments/20/BAO-CAO-3.pdf"
            ]
        );
    }

    #[test]
    fn a_query_is_part_of_the_name() {
        let mut p = PathPlanner::new("files");
        let one = Origin {
            key: "http://h/img.ashx?id=1",
            path: "/img.ashx",
            query: Some("id=1"),
            host: None,
        };
        let two = Origin {
            key: "http://h/img.ashx?id=2",
            query: Some("id=2"),
            ..one
        };
        let named = Origin {
            key: "http://h/img.ashx?name=B%C3%A1o",
            query: Some("name=B%C3%A1o"),
            ..one
        };
        assert_eq!(plan(&mut p, one), "files/img-id-1.ashx");
        assert_eq!(plan(&mut p, two), "files/img-id-2.ashx");
        assert_eq!(plan(&mut p, named), "files/img-name-Bao.ashx");
    }

    #[test]
    fn a_file_from_another_host_gets_its_host_in_the_name_when_the_path_is_taken() {
        let mut p = PathPlanner::new("files");
        let own = Origin {
            key: "http://portal/a/anh.jpg",
            path: "/a/anh.jpg",
            query: None,
            host: None,
        };
        let other = Origin {
            key: "http://media.example:8080/a/anh.jpg",
            host: Some("media.example:8080"),
            ..own
        };
        let only = Origin {
            key: "http://media.example:8080/b/only.jpg",
            path: "/b/only.jpg",
            ..other
        };
        assert_eq!(plan(&mut p, own), "files/a/anh.jpg");
        assert_eq!(plan(&mut p, other), "files/a/anh-media.example-8080.jpg");
        assert_eq!(plan(&mut p, only), "files/b/only.jpg");
    }

    #[test]
    fn a_file_and_a_directory_never_share_a_name() {
        for order in [["/docs/a", "/docs/a/b.txt"], ["/docs/a/b.txt", "/docs/a"]] {
            let mut p = PathPlanner::new("files");
            let got: Vec<String> = order.iter().map(|f| plan(&mut p, at(f))).collect();
            let want = if order[0] == "/docs/a" {
                ["files/docs/a", "files/docs/a-2/b.txt"]
            } else {
                ["files/docs/a/b.txt", "files/docs/a-2"]
            };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn long_paths_are_shortened_with_a_stable_hash_and_stay_within_the_bound() {
        let segment = "thu-muc-tai-lieu-cua-so-tu-phap-long-an";
        let long = format!(
            "/Lists/TinTucSuKien/Attachments/4/{}bao-cao-tong-ket.pdf",
            format!("{segment}/").repeat(9)
        );
        let deep = format!("/{}x.pdf", "a/".repeat(2100));
        for path in [long.as_str(), deep.as_str()] {
            let mut p = PathPlanner::new("files");
            let got = plan(&mut p, at(path));
            assert!(got.len() + "data/".len() <= MAX_PAYLOAD_PATH, "{got}");
            let name = got.rsplit('/').next().unwrap();
            assert!(
                name.ends_with(".pdf") && name.len() <= MAX_SHORTENED_NAME,
                "{got}"
            );
            let hash = crate::fixity::of_bytes(path.as_bytes()).sha256;
            assert!(name.contains(&hash[..HASH_DIGITS]), "{got}");
            assert_eq!(plan(&mut PathPlanner::new("files"), at(path)), got);
        }
        let mut p = PathPlanner::new("files");
        let got = plan(&mut p, at(&long));
        assert!(
            got.starts_with(&format!(
                "files/Lists/TinTucSuKien/Attachments/4/{segment}/"
            )),
            "the directories that fit are kept: {got}"
        );
        // A short file beside the long one's kept directories is named as ever.
        let beside = format!("/Lists/TinTucSuKien/Attachments/4/{segment}/x.pdf");
        assert_eq!(
            plan(&mut p, at(&beside)),
            format!("files/Lists/TinTucSuKien/Attachments/4/{segment}/x.pdf")
        );
    }

    #[test]
    fn a_replayed_plan_gives_the_same_names_in_any_order() {
        let files = [
            "/A/Bao cao.pdf",
            "/A/BAO CAO.pdf",
            "/docs/a",
            "/docs/a/b.txt",
            "/docs/A/c.txt",
        ];
        let long = format!("/docs/{}x.pdf", "a/".repeat(120));
        let all: Vec<&str> = files.iter().copied().chain([long.as_str()]).collect();
        let mut first = PathPlanner::new("files");
        let planned: Vec<String> = all.iter().map(|f| plan(&mut first, at(f))).collect();
        // A resumed run learns only some files (those that finished) and plans the others,
        // in the same order as the first run planned them.
        for kept in [vec![1], vec![3, 5], vec![0, 2, 4], vec![5]] {
            let mut resumed = PathPlanner::new("files");
            for &i in &kept {
                resumed.assign(&at(all[i]), &planned[i]);
            }
            // The files step plans what it did not keep, and keeps the others' paths.
            let again: Vec<String> = (0..all.len())
                .map(|i| match kept.contains(&i) {
                    true => planned[i].clone(),
                    false => plan(&mut resumed, at(all[i])),
                })
                .collect();
            assert_eq!(again, planned, "resumed with {kept:?}");
        }
    }

    #[test]
    fn hostile_segments_stay_inside_the_root() {
        let mut p = PathPlanner::new("files");
        let x = plan(&mut p, at("/Attachments/24/..%2f..%2fetc%2fpasswd.txt"));
        assert!(x.starts_with("files/Attachments/24/"));
        let y = plan(&mut p, at("/../../etc/passwd"));
        assert!(
            y.starts_with("files/") && !y.split('/').any(|s| s == ".."),
            "{y}"
        );
        // `..` folds to `file`, so the directory `file` is taken: a bare `/` is `file-2`.
        assert_eq!(plan(&mut p, at("/")), "files/file-2");
        assert_eq!(plan(&mut PathPlanner::new("files"), at("/")), "files/file");
    }
}
