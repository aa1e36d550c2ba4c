//! Bundle names: `20261202T130000Z-0001-full`, the run's UTC time, the bundle's number in
//! the archive and its kind, so that a listing sorted by name is the series in order.

use std::fmt;

/// A full bundle (every item and file) or an incremental one (what changed since the one
/// before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleKind {
    /// Every item and file; starts a series.
    Full,
    /// What changed since the bundle before it.
    Incremental,
}

impl BundleKind {
    /// The word in names and bag-info.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleKind::Full => "full",
            BundleKind::Incremental => "incremental",
        }
    }

    /// The kind a word names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(BundleKind::Full),
            "incremental" => Some(BundleKind::Incremental),
            _ => None,
        }
    }
}

/// The parts of a bundle's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleName {
    /// UTC, `YYYYMMDDTHHMMSSZ`.
    pub stamp: String,
    /// The bundle's number in the archive, from 1.
    pub number: u32,
    /// Full or incremental.
    pub kind: BundleKind,
}

impl BundleName {
    /// The name of bundle `number` of kind `kind`, made at `at`.
    pub fn new(at: jiff::Timestamp, number: u32, kind: BundleKind) -> Self {
        BundleName {
            stamp: at.strftime("%Y%m%dT%H%M%SZ").to_string(),
            number,
            kind,
        }
    }

    /// Reads a name back; `None` for anything sharc does not name so.
    pub fn parse(name: &str) -> Option<Self> {
        let mut parts = name.splitn(3, '-');
        let (stamp, number, kind) = (parts.next()?, parts.next()?, parts.next()?);
        let stamp_ok = stamp.len() == 16
            && stamp.as_bytes()[8] == b'T'
            && stamp.ends_with('Z')
            && stamp[..8]
                .bytes()
                .chain(stamp[9..15].bytes())
                .all(|b| b.is_ascii_digit());
        if !stamp_ok || number.len() < 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(BundleName {
            stamp: stamp.to_string(),
            number: number.parse().ok()?,
            kind: BundleKind::parse(kind)?,
        })
    }

    /// The run's instant.
    pub fn instant(&self) -> Option<jiff::Timestamp> {
        let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", &self.stamp).ok()?;
        jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
    }
}

impl fmt::Display for BundleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:04}-{}",
            self.stamp,
            self.number,
            self.kind.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_read_back() {
        let at: jiff::Timestamp = "2026-12-02T13:00:00Z".parse().expect("an instant");
        let first = BundleName::new(at, 1, BundleKind::Full);
        assert_eq!(first.to_string(), "20261202T130000Z-0001-full");
        let later = BundleName::new(at, 2, BundleKind::Incremental).to_string();
        assert!(first.to_string() < later);
        assert_eq!(BundleName::parse(&later).map(|n| n.number), Some(2));
        assert_eq!(first.instant(), Some(at));
        for bad in [
            "x",
            "20261202T130000Z-1-full",
            "20261202T130000Z-0001-half",
            "runs.jsonl",
        ] {
            assert_eq!(BundleName::parse(bad), None, "{bad}");
        }
    }
}
