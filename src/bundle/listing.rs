//! The listing of a bag under verification, held compactly.
//!
//! A bag may hold hundreds of thousands of files, and the verifier needs its listing from
//! start to end: to resolve every manifest line, to find files no manifest lists, to compare
//! names that differ only by case or Unicode normalization. Held as a map of strings with
//! per-spelling indexes, that cost a few kilobytes an entry. [`Listing`] keeps every name in
//! one buffer, sorted, with a fixed-size record an entry, and finds names by binary search;
//! the case-folded and normalized spellings are kept only as fingerprints, confirmed by
//! comparing names when one matches.

use std::cell::OnceCell;
use std::hash::{BuildHasher, RandomState};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::is_nfc;

/// Fingerprints of names: 64-bit hashes keyed at random for each run, so a bag cannot be
/// built to make many names share one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fingerprints(RandomState);

impl Fingerprints {
    /// A new, randomly keyed, set of fingerprints.
    pub(crate) fn new() -> Self {
        Self(RandomState::new())
    }

    /// The fingerprint of `bytes`.
    pub(crate) fn of(&self, bytes: &[u8]) -> u64 {
        self.0.hash_one(bytes)
    }
}

/// A name's NFC form, case folded: what Windows and macOS file systems compare.
pub(crate) fn folded(name: &str) -> String {
    if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        name.nfc().collect::<String>().to_lowercase()
    }
}

/// How a listed path matched a stored file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Stored under exactly the listed name.
    Exact,
    /// Stored under a name equal to the listed one after NFC.
    Normalization,
    /// Stored under a name equal to the listed one ignoring case (and normalization).
    Case,
}

/// One listed entry in 16 bytes: where its name is, whether it is a directory, its size.
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: u32,
    /// Length of the name, with [`DIR`] set for a directory.
    len: u32,
    size: u64,
}

/// The bit of [`Slot::len`] that marks a directory.
const DIR: u32 = 1 << 31;

impl Slot {
    fn range(&self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + (self.len & !DIR) as usize
    }

    fn dir(&self) -> bool {
        self.len & DIR != 0
    }
}

/// Collects a listing in any order, the same name possibly more than once.
#[derive(Debug, Default)]
pub(crate) struct ListingBuilder {
    names: String,
    slots: Vec<Slot>,
}

impl ListingBuilder {
    /// Adds a file (`dir` false) or a directory; a name already added as a file keeps that.
    /// False, and nothing added, once the names would pass 4 GiB (a listing no bag has).
    pub(crate) fn push(&mut self, name: &str, dir: bool, size: u64) -> bool {
        let (Ok(start), Ok(len)) = (u32::try_from(self.names.len()), u32::try_from(name.len()))
        else {
            return false;
        };
        if len >= DIR || start.checked_add(len).is_none() {
            return false;
        }
        self.names.push_str(name);
        self.slots.push(Slot {
            start,
            len: if dir { len | DIR } else { len },
            size,
        });
        true
    }

    /// The listing, sorted by name, each name once (a file before a directory of the same
    /// name, and the first of two files).
    pub(crate) fn finish(self) -> Listing {
        let Self {
            mut names,
            mut slots,
        } = self;
        names.shrink_to_fit();
        let name = |s: &Slot| &names[s.range()];
        slots.sort_by(|a, b| name(a).cmp(name(b)).then(a.dir().cmp(&b.dir())));
        slots.dedup_by(|later, first| name(later) == name(first));
        slots.shrink_to_fit();
        let mut listing = Listing {
            names,
            slots,
            folded: OnceCell::new(),
            renormalized: Vec::new(),
            fingerprints: Fingerprints::new(),
        };
        for i in 0..listing.slots.len() {
            let name = listing.name(i);
            if !name.is_ascii() && !is_nfc(name) {
                let nfc: String = name.nfc().collect();
                let fingerprint = listing.fingerprints.of(nfc.as_bytes());
                listing.renormalized.push((fingerprint, i as u32));
            }
        }
        listing.renormalized.sort_unstable();
        listing
    }
}

/// Every file and directory of a bag, sorted by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Listing {
    names: String,
    slots: Vec<Slot>,
    /// Fingerprint of each name's [`folded`] form, with the entry, sorted; made when a
    /// listed path first needs it (a bag whose manifests spell every name as stored never
    /// does).
    folded: OnceCell<Vec<(u64, u32)>>,
    /// Fingerprint of the NFC form of each name not in NFC, with the entry, sorted.
    renormalized: Vec<(u64, u32)>,
    fingerprints: Fingerprints,
}

impl Listing {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The name of entry `i`.
    pub(crate) fn name(&self, i: usize) -> &str {
        &self.names[self.slots[i].range()]
    }

    /// Forgets the case-folded index, once no listed path needs it.
    pub(crate) fn forget_folded(&mut self) {
        self.folded = OnceCell::new();
    }

    /// Whether entry `i` is a directory.
    pub(crate) fn is_dir(&self, i: usize) -> bool {
        self.slots[i].dir()
    }

    /// The size of entry `i` (0 for a directory).
    pub(crate) fn size(&self, i: usize) -> u64 {
        self.slots[i].size
    }

    /// The entry named exactly `name`.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.slots
            .binary_search_by(|s| self.names[s.range()].cmp(name))
            .ok()
    }

    /// The file named exactly `name`.
    pub(crate) fn file(&self, name: &str) -> Option<usize> {
        self.find(name).filter(|&i| !self.is_dir(i))
    }

    /// Whether a directory is named exactly `name`.
    pub(crate) fn has_dir(&self, name: &str) -> bool {
        self.find(name).is_some_and(|i| self.is_dir(i))
    }

    /// Every file, by entry number, in name order.
    pub(crate) fn files(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.slots.len()).filter(|&i| !self.is_dir(i))
    }

    /// Fingerprint of each name's [`folded`] form, with the entry, sorted.
    fn folded_index(&self) -> Vec<(u64, u32)> {
        let mut index: Vec<(u64, u32)> = (0..self.slots.len())
            .map(|i| {
                (
                    self.fingerprints.of(folded(self.name(i)).as_bytes()),
                    i as u32,
                )
            })
            .collect();
        index.sort_unstable();
        index
    }

    /// Entries whose fingerprint in `index` is `fingerprint`.
    fn with_fingerprint(
        index: &[(u64, u32)],
        fingerprint: u64,
    ) -> impl Iterator<Item = usize> + '_ {
        let start = index.partition_point(|p| p.0 < fingerprint);
        index[start..]
            .iter()
            .take_while(move |p| p.0 == fingerprint)
            .map(|p| p.1 as usize)
    }

    /// The stored file a listed path names: exact, else the only one equal after NFC, else
    /// the only one equal ignoring case.
    pub(crate) fn resolve(&self, listed: &str) -> Option<(usize, Match)> {
        if let Some(i) = self.file(listed) {
            return Some((i, Match::Exact));
        }
        let nfc: String = listed.nfc().collect();
        let fingerprint = self.fingerprints.of(nfc.as_bytes());
        let mut same_nfc = Self::with_fingerprint(&self.renormalized, fingerprint)
            .filter(|&i| !self.is_dir(i) && self.name(i).nfc().eq(nfc.chars()))
            .chain(self.file(&nfc));
        if let (Some(only), None) = (same_nfc.next(), same_nfc.next()) {
            return Some((only, Match::Normalization));
        }
        let key = folded(&nfc);
        let fingerprint = self.fingerprints.of(key.as_bytes());
        let index = self.folded.get_or_init(|| self.folded_index());
        let mut same_case = Self::with_fingerprint(index, fingerprint)
            .filter(|&i| !self.is_dir(i) && folded(self.name(i)) == key);
        match (same_case.next(), same_case.next()) {
            (Some(only), None) => Some((only, Match::Case)),
            _ => None,
        }
    }

    /// The names that share their case-folded NFC form with another: the only ones that can
    /// clash on a file system that ignores case or normalization.
    pub(crate) fn clashing(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let index = self.folded_index();
        for group in index.chunk_by(|a, b| a.0 == b.0) {
            if group.len() > 1 {
                out.extend(group.iter().map(|p| self.name(p.1 as usize)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(names: &[(&str, bool)]) -> Listing {
        let mut b = ListingBuilder::default();
        for (name, dir) in names {
            b.push(name, *dir, name.len() as u64);
        }
        b.finish()
    }

    #[test]
    fn names_are_sorted_once_each_a_file_winning_over_a_directory() {
        let l = listing(&[
            ("b", false),
            ("a", true),
            ("b", true),
            ("a", true),
            ("c", false),
        ]);
        let names: Vec<(&str, bool)> = (0..l.len()).map(|i| (l.name(i), l.is_dir(i))).collect();
        assert_eq!(names, [("a", true), ("b", false), ("c", false)]);
        assert_eq!(l.file("b"), Some(1));
        assert_eq!(l.file("a"), None);
        assert!(l.has_dir("a"));
    }

    #[test]
    fn resolves_by_exact_name_then_normalization_then_case() {
        let nfd: String = "data/Quyết.txt".nfd().collect();
        let l = listing(&[("data/a.txt", false), (&nfd, false), ("data/B.txt", false)]);
        assert_eq!(l.resolve("data/a.txt").map(|r| r.1), Some(Match::Exact));
        assert_eq!(
            l.resolve("data/Quyết.txt").map(|r| r.1),
            Some(Match::Normalization)
        );
        assert_eq!(l.resolve("data/QUYẾT.txt").map(|r| r.1), Some(Match::Case));
        assert_eq!(l.resolve("data/b.txt").map(|r| r.1), Some(Match::Case));
        assert_eq!(l.resolve("data/c.txt"), None);
        let both = listing(&[("data/a.txt", false), ("data/A.txt", false)]);
        assert_eq!(both.resolve("data/a.TXT"), None, "two files fold to it");
        assert_eq!(both.clashing().len(), 2);
    }
}
