//! The chain: what each bundle's `bag-info.txt` says of its place in the series, so that a
//! bundle removed, replaced, reordered or edited is noticed.
//!
//! A full bundle starts a series (`Bag-Group-Identifier`, a new one each time) at sequence
//! 1; each incremental bundle carries the series on, names the bundle before it and the
//! sha512 of that bundle's `tagmanifest-sha512.txt`. Editing a bundle changes its tag
//! manifest (or breaks its fixity), so the link from the next bundle no longer holds.

use super::names::BundleKind;
use serde::{Deserialize, Serialize};

/// `Bag-Group-Identifier`: the series.
pub const GROUP: &str = "Bag-Group-Identifier";
/// The kind of bundle.
pub const KIND: &str = "Sharc-Bundle-Kind";
/// The bundle's sequence number in its series, from 1.
pub const SEQUENCE: &str = "Sharc-Series-Sequence";
/// The name of the bundle before it in the series.
pub const PREVIOUS: &str = "Sharc-Previous-Bundle";
/// The sha512 of the previous bundle's `tagmanifest-sha512.txt`.
pub const PREVIOUS_SHA512: &str = "Sharc-Previous-Tagmanifest-Sha512";

/// One bundle's place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    /// The series (`Bag-Group-Identifier`).
    pub series: String,
    /// Full or incremental.
    pub kind: BundleKind,
    /// Its sequence number in the series, from 1.
    pub sequence: u32,
    /// The bundle before it in the series, with the sha512 of its tag manifest.
    pub previous: Option<(String, String)>,
}

impl ChainLink {
    /// The bag-info elements that say it, in order.
    pub fn elements(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (GROUP.to_string(), self.series.clone()),
            (KIND.to_string(), self.kind.as_str().to_string()),
            (SEQUENCE.to_string(), self.sequence.to_string()),
        ];
        if let Some((name, sha512)) = &self.previous {
            out.push((PREVIOUS.to_string(), name.clone()));
            out.push((PREVIOUS_SHA512.to_string(), sha512.clone()));
        }
        out
    }

    /// Reads the link back from bag-info elements; `None` when they do not hold one.
    pub fn from_elements(elements: &[(String, String)]) -> Option<Self> {
        let get = |label: &str| {
            elements
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(label))
                .map(|(_, v)| v.trim().to_string())
        };
        let previous = match (get(PREVIOUS), get(PREVIOUS_SHA512)) {
            (Some(name), Some(sha)) => Some((name, sha)),
            _ => None,
        };
        Some(ChainLink {
            series: get(GROUP)?,
            kind: BundleKind::parse(&get(KIND)?)?,
            sequence: get(SEQUENCE)?.parse().ok()?,
            previous,
        })
    }
}

/// The sha512 of a tag manifest's bytes, hex.
pub fn tagmanifest_digest(bytes: &[u8]) -> String {
    crate::fixity::of_bytes(bytes).sha512
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_reads_back_from_its_elements() {
        let link = ChainLink {
            series: "urn:sharc:series:x".into(),
            kind: BundleKind::Incremental,
            sequence: 2,
            previous: Some(("20261202T130000Z-0001-full".into(), "ab".repeat(64))),
        };
        assert_eq!(ChainLink::from_elements(&link.elements()), Some(link));
        assert_eq!(ChainLink::from_elements(&[]), None);
    }
}
