//! One backup run's changes: which items to read, which vanished, which of those read really
//! changed, and the state the run leaves when its bundle is in place.
//!
//! The narrow listing gives each item's version and `Modified`; an item whose both are as
//! the state has them is not read at all. One read again is compared by its content hash
//! ([`content_hash`]), which leaves out what moves without the item changing (its version,
//! `Modified`, volatile fields such as a view count): an item that was only saved again gets
//! no record in the bundle, only its new version in the state. A file goes into the bundle
//! only when it changed; otherwise the record points at the copy an earlier bundle holds,
//! and the bundle lists that copy in `data/references.json`.

use super::{ArchiveState, BundleEntry, BundleKind, ChainLink, FileState, ItemState, STATE_FORMAT};
use crate::fetch::Validators;
use crate::fixity::Fixity;
use crate::record::content::content_hash;
use crate::record::{NeutralField, Record};
use crate::source::{ListedItem, RawItem};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Where the tombstones of deleted items sit in an incremental bundle's payload.
pub const DELETIONS: &str = "deletions.json";

/// Where an incremental bundle lists the files its records point to in earlier bundles.
pub const REFERENCES: &str = "references.json";

/// What the listing says of the items, against the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Items new or with another version or `Modified`: to read.
    pub to_read: Vec<i64>,
    /// Items the state has that the portal no longer lists.
    pub vanished: Vec<i64>,
}

impl Listing {
    /// Compares the narrow listing with the state.
    pub fn compare(state: &ArchiveState, listed: &[ListedItem]) -> Listing {
        let mut seen = BTreeSet::new();
        let mut to_read = Vec::new();
        for item in listed {
            if !seen.insert(item.id) {
                continue;
            }
            let same = state
                .items
                .get(&item.id)
                .is_some_and(|s| s.version == item.version && s.modified == item.modified);
            if !same {
                to_read.push(item.id);
            }
        }
        let vanished = state
            .items
            .keys()
            .filter(|id| !seen.contains(id))
            .copied()
            .collect();
        Listing { to_read, vanished }
    }

    /// Whether nothing changed at all.
    pub fn is_empty(&self) -> bool {
        self.to_read.is_empty() && self.vanished.is_empty()
    }
}

/// A deleted item, as `data/deletions.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tombstone {
    /// The item id.
    pub item_id: i64,
    /// The version it had when last archived.
    pub last_version: Option<String>,
    /// The bundle holding its last record.
    pub last_bundle: String,
    /// When the run noticed it was gone.
    pub noticed_at: String,
}

/// A file a record of the bundle points to that an earlier bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// Its payload path, the same there as in a full bag.
    pub path: String,
    /// The bundle that holds it.
    pub bundle: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-512, hex.
    pub sha512: String,
}

/// A file of a record, as the files step left it.
#[derive(Debug, Clone)]
pub struct ItemFile {
    /// Its URL.
    pub url: String,
    /// Its payload path.
    pub path: String,
    /// Its fixity.
    pub fixity: Fixity,
    /// The server's validators.
    pub validators: Validators,
    /// The earlier bundle holding it, or `None` when it is in this bundle.
    pub held_by: Option<String>,
}

/// How many items and files the run found changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// New items.
    pub added: u64,
    /// Changed items.
    pub changed: u64,
    /// Items read again whose content had not changed.
    pub unchanged: u64,
    /// Items deleted on the portal.
    pub deleted: u64,
}

/// One run's changes, building the next state.
#[derive(Debug, Clone)]
pub struct Increment {
    /// Full or incremental.
    pub kind: BundleKind,
    /// The bundle being written.
    pub bundle: String,
    /// Its place in the chain.
    pub link: ChainLink,
    prior: ArchiveState,
    volatile: Vec<NeutralField>,
    noticed_at: String,
    items: BTreeMap<i64, ItemState>,
    files: BTreeMap<String, FileState>,
    /// Items read this run: version, `Modified`, content hash.
    read: BTreeMap<i64, (Option<String>, Option<String>, String)>,
    tombstones: Vec<Tombstone>,
    references: BTreeMap<String, Reference>,
    /// What changed.
    pub tally: Tally,
}

impl Increment {
    /// A run writing bundle `bundle` of kind `kind` after `prior` (the default state for a
    /// new archive); a full bundle starts the series `series`. `volatile` are the mapping's
    /// volatile fields, `now` the run's instant.
    pub fn new(
        prior: ArchiveState,
        (kind, bundle): (BundleKind, String),
        series: String,
        volatile: Vec<NeutralField>,
        now: String,
    ) -> Self {
        let link = link(&prior, kind, series);
        // A full bundle holds everything again: it starts from nothing.
        let (items, files) = match kind {
            BundleKind::Full => (BTreeMap::new(), BTreeMap::new()),
            BundleKind::Incremental => (prior.items.clone(), prior.files.clone()),
        };
        Increment {
            kind,
            bundle,
            link,
            prior,
            volatile,
            noticed_at: now,
            items,
            files,
            read: BTreeMap::new(),
            tombstones: Vec::new(),
            references: BTreeMap::new(),
            tally: Tally::default(),
        }
    }

    /// The files earlier bundles hold, to be asked for only if they changed (none for a
    /// full bundle, which holds its own copy of everything).
    pub fn known_files(&self) -> impl Iterator<Item = (&String, &FileState)> {
        self.files.iter()
    }

    /// Items the portal no longer lists: gone from the state, each with a tombstone.
    pub fn vanish(&mut self, ids: &[i64]) {
        for id in ids {
            if let Some(gone) = self.items.remove(id) {
                self.tally.deleted += 1;
                self.tombstones.push(Tombstone {
                    item_id: *id,
                    last_version: gone.version,
                    last_bundle: gone.bundle,
                    noticed_at: self.noticed_at.clone(),
                });
            }
        }
    }

    /// An item read and mapped: its content hash is kept for [`settle`](Self::settle).
    pub fn read(&mut self, raw: &RawItem, record: &Record) {
        let hash = content_hash(record, &self.volatile);
        let (version, modified) = stamps(raw);
        self.read.insert(raw.id, (version, modified, hash));
    }

    /// An item read that has no record (another content type): remembered with its version,
    /// so it is not read again until it changes.
    pub fn skip(&mut self, raw: &RawItem) {
        let (version, modified) = stamps(raw);
        self.items.insert(
            raw.id,
            ItemState {
                version,
                modified,
                hash: String::new(),
                bundle: String::new(),
                files: Vec::new(),
            },
        );
    }

    /// Decides whether `record` goes into the bundle, and updates the state: a record goes
    /// in when the bundle is full, the item is new, its content hash changed, its files are
    /// others or one of them changed. `complete` is false when a file failed: the record is
    /// written, and the state keeps what it had, so the next run reads the item again.
    pub fn settle(&mut self, record: &Record, files: &[ItemFile], complete: bool) -> bool {
        let id = record.source.item_id;
        let Some((version, modified, hash)) = self.read.remove(&id) else {
            return true;
        };
        if !complete {
            return true;
        }
        let urls: Vec<String> = files.iter().map(|f| f.url.clone()).collect();
        let prior = self.items.get(&id);
        let same = self.kind == BundleKind::Incremental
            && prior.is_some_and(|p| p.hash == hash && !p.bundle.is_empty() && p.files == urls)
            && files.iter().all(|f| f.held_by.is_some());
        if same {
            if let Some(item) = self.items.get_mut(&id) {
                item.version = version;
                item.modified = modified;
            }
            self.tally.unchanged += 1;
            return false;
        }
        match prior {
            Some(p) if !p.bundle.is_empty() => self.tally.changed += 1,
            _ => self.tally.added += 1,
        }
        for f in files {
            let holder = f.held_by.clone().unwrap_or_else(|| self.bundle.clone());
            if let Some(bundle) = &f.held_by {
                self.references.insert(
                    f.path.clone(),
                    Reference {
                        path: f.path.clone(),
                        bundle: bundle.clone(),
                        size: f.fixity.size,
                        sha256: f.fixity.sha256.clone(),
                        sha512: f.fixity.sha512.clone(),
                    },
                );
            }
            self.files.insert(
                f.url.clone(),
                FileState {
                    path: f.path.clone(),
                    size: f.fixity.size,
                    sha256: f.fixity.sha256.clone(),
                    sha512: f.fixity.sha512.clone(),
                    validators: f.validators.clone(),
                    bundle: holder,
                },
            );
        }
        self.items.insert(
            id,
            ItemState {
                version,
                modified,
                hash,
                bundle: self.bundle.clone(),
                files: urls,
            },
        );
        true
    }

    /// Whether the bundle would hold nothing new: no record written, no deletion.
    pub fn is_empty(&self) -> bool {
        self.tally.added == 0 && self.tally.changed == 0 && self.tally.deleted == 0
    }

    /// `data/deletions.json`: the tombstones, by id.
    pub fn deletions_json(&self) -> Vec<u8> {
        let mut t = self.tombstones.clone();
        t.sort_by_key(|t| t.item_id);
        pretty(&t)
    }

    /// `data/references.json`: the files in earlier bundles, by path.
    pub fn references_json(&self) -> Vec<u8> {
        pretty(&self.references.values().collect::<Vec<_>>())
    }

    /// Every file of the portal as this bundle leaves it, `(URL, payload path)` by URL: the
    /// path map a full crawl would write.
    pub fn path_map(&self) -> Vec<(String, String)> {
        self.live_files()
            .map(|(url, f)| (url.clone(), f.path.clone()))
            .collect()
    }

    fn live_files(&self) -> impl Iterator<Item = (&String, &FileState)> {
        let live: BTreeSet<&String> = self.items.values().flat_map(|i| i.files.iter()).collect();
        self.files.iter().filter(move |(url, _)| live.contains(url))
    }

    /// The state once the bundle `entry` is in place: the items and files as they are now,
    /// and the state's other facts as given.
    pub fn next_state(
        self,
        entry: Option<BundleEntry>,
        site: &str,
        list_id: &str,
        mapping_sha256: &str,
    ) -> ArchiveState {
        let files = self
            .live_files()
            .map(|(u, f)| (u.clone(), f.clone()))
            .collect();
        let mut bundles = self.prior.bundles;
        bundles.extend(entry);
        ArchiveState {
            format: STATE_FORMAT,
            site: site.to_string(),
            list_id: list_id.to_string(),
            mapping_sha256: mapping_sha256.to_string(),
            bundles,
            items: self.items,
            files,
        }
    }
}

/// The place in the chain of a bundle of kind `kind` after `prior`'s last one; a full one
/// starts `series`.
fn link(prior: &ArchiveState, kind: BundleKind, series: String) -> ChainLink {
    match (kind, prior.last_bundle()) {
        (BundleKind::Incremental, Some(last)) => ChainLink {
            series: last.link.series.clone(),
            kind,
            sequence: last.link.sequence + 1,
            previous: Some((last.name.clone(), last.tagmanifest_sha512.clone())),
        },
        _ => ChainLink {
            series,
            kind: BundleKind::Full,
            sequence: 1,
            previous: None,
        },
    }
}

/// An item's version label and `Modified`, as served.
fn stamps(raw: &RawItem) -> (Option<String>, Option<String>) {
    let text = |k: &str| {
        raw.props
            .get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    (text("OData__UIVersionString"), text("Modified"))
}

fn pretty(v: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(v).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
