//! The chain of an archive, checked: what `sharc verify <ARCHIVE>` reports besides each
//! bundle's own fixity. Every finding names the bundle it is about.

use super::{ArchiveState, BundleKind, ChainLink};
use serde::Serialize;

/// What the archive holds of one bundle, read from its directory.
#[derive(Debug, Clone)]
pub struct BundleFacts {
    /// Its directory name.
    pub name: String,
    /// The chain its bag-info states, when it states one.
    pub link: Option<ChainLink>,
    /// The sha512 of its `tagmanifest-sha512.txt`, when it can be read.
    pub tagmanifest_sha512: Option<String>,
}

/// A problem of the chain, about one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainFinding {
    /// The bundle.
    pub bundle: String,
    /// What is wrong.
    pub message: String,
}

/// Checks the bundles found (in name order) against each other and against the state.
pub fn audit(state: Option<&ArchiveState>, found: &[BundleFacts]) -> Vec<ChainFinding> {
    let mut out = Vec::new();
    let mut say = |bundle: &str, message: String| {
        out.push(ChainFinding {
            bundle: bundle.to_string(),
            message,
        })
    };
    let mut prev: Option<(&BundleFacts, &ChainLink)> = None;
    for b in found {
        let Some(link) = &b.link else {
            say(
                &b.name,
                "its bag-info.txt states no place in a series (Bag-Group-Identifier, Sharc-Series-Sequence): it is not a bundle this archive wrote, or its bag-info was edited".into(),
            );
            prev = None;
            continue;
        };
        match (link.kind, &link.previous, prev) {
            (BundleKind::Full, _, _) if link.sequence != 1 => say(
                &b.name,
                format!(
                    "a full bundle with sequence number {} (a full bundle starts its series at 1)",
                    link.sequence
                ),
            ),
            (BundleKind::Full, _, _) => {}
            (BundleKind::Incremental, None, _) => say(
                &b.name,
                "an incremental bundle that names no bundle before it".into(),
            ),
            (BundleKind::Incremental, Some((name, _)), None) => {
                let why = if found.iter().any(|f| f.name == *name) {
                    "which does not come before it (bundles reordered or renamed)"
                } else {
                    "which is not in the archive (removed or renamed)"
                };
                say(
                    &b.name,
                    format!("names {name} as the bundle before it, {why}"),
                );
            }
            (BundleKind::Incremental, Some((name, sha)), Some((p, plink))) => {
                if *name != p.name {
                    let missing = !found.iter().any(|f| f.name == *name);
                    let why = if missing {
                        "which is not in the archive (removed or renamed)"
                    } else {
                        "but another bundle comes before it (bundles reordered or renamed)"
                    };
                    say(
                        &b.name,
                        format!(
                            "names {name} as the bundle before it, {why}; before it is {}",
                            p.name
                        ),
                    );
                } else if p.tagmanifest_sha512.as_deref() != Some(sha.as_str()) {
                    say(
                        &p.name,
                        format!(
                            "changed after it was written: its tag manifest is not the one {} recorded (edited or replaced)",
                            b.name
                        ),
                    );
                }
                if link.series != plink.series || link.sequence != plink.sequence + 1 {
                    say(
                        &b.name,
                        format!(
                            "sequence {} of series {} does not follow {} (sequence {} of series {})",
                            link.sequence, link.series, p.name, plink.sequence, plink.series
                        ),
                    );
                }
            }
        }
        prev = Some((b, link));
    }
    if let Some(state) = state {
        // Whole series before the first bundle kept, when that one is full, were pruned.
        let kept = state
            .bundles
            .iter()
            .position(|e| found.iter().any(|f| f.name == e.name));
        let pruned = match kept {
            Some(i) if state.bundles[i].link.kind == BundleKind::Full => i,
            _ => 0,
        };
        for entry in &state.bundles[pruned..] {
            match found.iter().find(|f| f.name == entry.name) {
                None => say(&entry.name, "recorded in sharc-state.json but not in the archive (removed or renamed)".into()),
                Some(f) if f.tagmanifest_sha512.as_deref() != Some(entry.tagmanifest_sha512.as_str()) => say(
                    &entry.name,
                    "changed after it was written: its tag manifest is not the one sharc-state.json recorded (edited or replaced)".into(),
                ),
                Some(_) => {}
            }
        }
        for f in found {
            if !state.bundles.iter().any(|e| e.name == f.name) {
                say(&f.name, "not recorded in sharc-state.json (added, renamed, or left by a run that stopped; the next backup removes such a bundle)".into());
            }
        }
    }
    out.sort_by(|a, b| a.bundle.cmp(&b.bundle));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{BundleEntry, STATE_FORMAT};

    fn bundle(name: &str, kind: BundleKind, seq: u32, prev: Option<&str>) -> BundleEntry {
        BundleEntry {
            name: name.into(),
            link: ChainLink {
                series: format!("s-{}", if kind == BundleKind::Full { name } else { "x" }),
                kind,
                sequence: seq,
                previous: prev.map(|p| (p.to_string(), format!("sha-{p}"))),
            },
            tagmanifest_sha512: format!("sha-{name}"),
        }
    }

    fn facts(e: &BundleEntry) -> BundleFacts {
        BundleFacts {
            name: e.name.clone(),
            link: Some(e.link.clone()),
            tagmanifest_sha512: Some(e.tagmanifest_sha512.clone()),
        }
    }

    #[test]
    fn whole_old_series_may_go_a_bundle_in_the_middle_may_not() {
        let mut b = vec![
            bundle("1-full", BundleKind::Full, 1, None),
            bundle("2-inc", BundleKind::Incremental, 2, Some("1-full")),
            bundle("3-full", BundleKind::Full, 1, None),
            bundle("4-inc", BundleKind::Incremental, 2, Some("3-full")),
            bundle("5-inc", BundleKind::Incremental, 3, Some("4-inc")),
        ];
        for e in &mut b[1..2] {
            e.link.series = "s-1-full".into();
        }
        for e in &mut b[3..] {
            e.link.series = "s-3-full".into();
        }
        let state = ArchiveState {
            format: STATE_FORMAT,
            bundles: b.clone(),
            ..Default::default()
        };
        let all: Vec<BundleFacts> = b.iter().map(facts).collect();
        assert_eq!(audit(Some(&state), &all), vec![]);
        // The first series pruned: accepted.
        assert_eq!(audit(Some(&state), &all[2..]), vec![]);
        // A bundle in the middle removed: named, and so is the one that names it.
        let holed: Vec<BundleFacts> = [&all[..3], &all[4..]].concat();
        let found = audit(Some(&state), &holed);
        let named: Vec<&str> = found.iter().map(|f| f.bundle.as_str()).collect();
        assert!(
            named.contains(&"4-inc") && named.contains(&"5-inc"),
            "{found:?}"
        );
    }
}
