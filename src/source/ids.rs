//! Sets of item ids kept as runs of consecutive ids.
//!
//! SharePoint numbers a list's items from 1 upwards, so the ids a crawl meets are mostly
//! long runs: kept as runs, a set of a million ids is a handful of pairs, and the ids missing
//! below the highest one are a few ranges however large the ids are. A hostile list that
//! links `ID=2147483647` costs two runs, not two billion entries.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

/// A set of item ids, stored as disjoint runs of consecutive ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdSet {
    /// First id of each run to its last.
    runs: BTreeMap<i64, i64>,
}

impl IdSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: i64) -> bool {
        self.runs
            .range(..=id)
            .next_back()
            .is_some_and(|(_, &last)| id <= last)
    }

    /// Adds `id`; false when it was there already.
    pub fn insert(&mut self, id: i64) -> bool {
        if self.contains(id) {
            return false;
        }
        let before = self
            .runs
            .range(..id)
            .next_back()
            .filter(|(_, last)| last.checked_add(1) == Some(id))
            .map(|(&first, _)| first);
        let after = id
            .checked_add(1)
            .and_then(|next| self.runs.remove(&next).map(|last| (next, last)));
        let first = before.unwrap_or(id);
        let last = after.map_or(id, |(_, last)| last);
        self.runs.insert(first, last);
        true
    }

    /// The highest id, if any.
    pub fn max(&self) -> Option<i64> {
        self.runs.values().next_back().copied()
    }

    /// The runs, lowest first.
    pub fn runs(&self) -> impl Iterator<Item = RangeInclusive<i64>> + '_ {
        self.runs.iter().map(|(&first, &last)| first..=last)
    }

    /// The ids from `from` up to the highest id that are not in the set, as ranges.
    pub fn gaps_from(&self, from: i64) -> Vec<RangeInclusive<i64>> {
        let mut gaps = Vec::new();
        let mut next = from;
        for run in self.runs() {
            if *run.start() > next {
                gaps.push(next..=run.start() - 1);
            }
            match run.end().checked_add(1) {
                Some(after) => next = next.max(after),
                None => break,
            }
        }
        gaps
    }
}

impl FromIterator<i64> for IdSet {
    fn from_iter<I: IntoIterator<Item = i64>>(ids: I) -> Self {
        let mut set = Self::new();
        for id in ids {
            set.insert(id);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_ids_merge_into_one_run() {
        let set: IdSet = [3, 1, 2, 7, 5, 6, 2].into_iter().collect();
        assert_eq!(set.runs().collect::<Vec<_>>(), [1..=3, 5..=7]);
        assert!(set.contains(6) && !set.contains(4) && !set.contains(8));
        assert_eq!(set.max(), Some(7));
    }

    #[test]
    fn insert_says_whether_the_id_is_new() {
        let mut set = IdSet::new();
        assert!(set.insert(10));
        assert!(!set.insert(10));
        assert!(set.insert(9));
        assert!(!set.insert(9));
        assert_eq!(set.runs().collect::<Vec<_>>(), [9..=10]);
    }

    #[test]
    fn gaps_are_ranges_even_for_the_largest_ids() {
        let set: IdSet = [1, 2, 3, 5_000_000, i64::from(i32::MAX), i64::MAX]
            .into_iter()
            .collect();
        assert_eq!(
            set.gaps_from(1),
            [
                4..=4_999_999,
                5_000_001..=i64::from(i32::MAX) - 1,
                i64::from(i32::MAX) + 1..=i64::MAX - 1
            ]
        );
        assert_eq!(
            set.gaps_from(4_000_000),
            [
                4_000_000..=4_999_999,
                5_000_001..=2_147_483_646,
                2_147_483_648..=i64::MAX - 1
            ]
        );
        assert!(IdSet::new().gaps_from(1).is_empty());
    }
}
