//! Payload paths planned from the paths files have on the portal.
//!
//! Files keep the shape of the site in the bag (`Lists/TinTucSuKien/Attachments/12/…`) so a
//! person can find them, but every segment is made portable and unique ignoring case within
//! its directory. The same original path always gets the same payload path within a run, and
//! a resumed run replays the names an interrupted one gave, so collision suffixes (`-2`) land
//! on the same files as in an uninterrupted run.

use super::Result;
use super::names::{NameAllocator, PayloadPath};
use std::collections::BTreeMap;

/// Plans payload paths below one root directory (e.g. `files`).
#[derive(Debug)]
pub struct PathPlanner {
    root: String,
    allocator: NameAllocator,
    segments: BTreeMap<(String, String), String>,
}

impl PathPlanner {
    /// A planner for paths below `root` (a portable payload directory such as `files`).
    pub fn new(root: &str) -> Self {
        Self {
            root: root.to_string(),
            allocator: NameAllocator::new(),
            segments: BTreeMap::new(),
        }
    }

    /// The payload path for an original `/`-separated path (decoded, as the portal reports
    /// it); empty segments are skipped.
    pub fn plan(&mut self, original: &str) -> Result<PayloadPath> {
        let mut dir = self.root.clone();
        for segment in original.split('/').filter(|s| !s.is_empty()) {
            let key = (dir.clone(), segment.to_string());
            let portable = match self.segments.get(&key) {
                Some(s) => s.clone(),
                None => {
                    let s = self.allocator.allocate(&dir, segment);
                    self.segments.insert(key, s.clone());
                    s
                }
            };
            dir = format!("{dir}/{portable}");
        }
        PayloadPath::new(&dir)
    }

    /// Records that `original` was given `payload` (a path below the root) by an earlier
    /// run, so later plans neither reuse nor rename it.
    pub fn assign(&mut self, original: &str, payload: &str) {
        let mut planned = payload.split('/');
        let Some(mut dir) = planned.next().map(str::to_string) else {
            return;
        };
        for (segment, portable) in original.split('/').filter(|s| !s.is_empty()).zip(planned) {
            self.allocator.reserve(&dir, portable);
            self.segments
                .insert((dir.clone(), segment.to_string()), portable.to_string());
            dir = format!("{dir}/{portable}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_the_site_shape_and_are_stable() {
        let mut p = PathPlanner::new("files");
        let a = p
            .plan("/Lists/TinTucSuKien/Attachments/12/Quyết định 42-QĐ-UBND.pdf")
            .unwrap();
        assert_eq!(
            a.as_str(),
            "files/Lists/TinTucSuKien/Attachments/12/Quyet-dinh-42-QD-UBND.pdf"
        );
        let again = p
            .plan("/Lists/TinTucSuKien/Attachments/12/Quyết định 42-QĐ-UBND.pdf")
            .unwrap();
        assert_eq!(a, again);
    }

    #[test]
    fn names_differing_by_case_get_distinct_paths() {
        let mut p = PathPlanner::new("files");
        let a = p.plan("/Attachments/20/Bao cao.pdf").unwrap();
        let b = p.plan("/Attachments/20/BAO CAO.pdf").unwrap();
        assert_ne!(a.as_str().to_lowercase(), b.as_str().to_lowercase());
    }

    #[test]
    fn a_replayed_plan_gives_the_same_names_in_any_order() {
        let mut first = PathPlanner::new("files");
        let a = first.plan("/A/Bao cao.pdf").unwrap();
        let b = first.plan("/A/BAO CAO.pdf").unwrap();
        // A resumed run learns only the second file (it finished first) and plans the other.
        let mut resumed = PathPlanner::new("files");
        resumed.assign("/A/BAO CAO.pdf", b.as_str());
        assert_eq!(resumed.plan("/A/Bao cao.pdf").unwrap(), a);
        assert_eq!(resumed.plan("/A/BAO CAO.pdf").unwrap(), b);
    }

    #[test]
    fn hostile_segments_stay_inside_the_root() {
        let mut p = PathPlanner::new("files");
        let x = p
            .plan("/Attachments/24/..%2f..%2fetc%2fpasswd.txt")
            .unwrap();
        assert!(x.as_str().starts_with("files/Attachments/24/"));
        let y = p.plan("/../../etc/passwd").unwrap();
        assert!(
            y.as_str().starts_with("files/") && !y.as_str().split('/').any(|s| s == ".."),
            "{y}"
        );
    }
}
