//! `sharc backup`: one run of a scheduled backup into an archive directory.
//!
//! The phases: lock the archive (a second run stops at once; a lock left by a dead process
//! is taken over), clear what a run that died left (a staging directory, a bundle the state
//! never recorded), read the state, probe and describe the list over REST, decide full or
//! incremental; for an incremental run list every item narrowly and stop there when nothing
//! changed (the run is logged, no bundle is written); otherwise crawl the new and changed
//! items (or all of them) into a bundle staged beside its place, rename it into place, and
//! only then replace the state and log the run.

use super::Outcome;
use super::crawl::{self, CrawlConfig};
use crate::bundle::{BundleError, StagingLock};
use crate::error::{self, Error};
use crate::source::chosen::ChosenItems;
use crate::source::rest::RestSource;
use crate::source::{Source, SourceError};
use crate::state::increment::Tally;
use crate::state::names::BundleName;
use crate::state::{
    ArchiveState, BundleEntry, BundleKind, Increment, Listing, RunRecord, STATE_FILE,
};
use std::fs;
use std::path::{Path, PathBuf};

/// When a new full bundle starts a new series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullEvery {
    /// After this many bundles in the series.
    Runs(u32),
    /// When the series' full bundle is this many days old.
    Days(u32),
}

impl FullEvery {
    /// `N` (bundles) or `Nd` (days).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (n, days) = match s.strip_suffix('d') {
            Some(n) => (n, true),
            None => (s, false),
        };
        let n: u32 = n.parse().ok().filter(|n| *n > 0)?;
        Some(if days {
            FullEvery::Days(n)
        } else {
            FullEvery::Runs(n)
        })
    }
}

/// Everything `sharc backup` needs, validated.
#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// Site, mapping, HTTP behaviour, clock; `out` is set for each bundle.
    pub crawl: CrawlConfig,
    /// The archive directory.
    pub archive: PathBuf,
    /// When to start a new full bundle.
    pub full_every: Option<FullEvery>,
}

/// What a backup run did.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    /// The bundle written, if any.
    pub bundle: Option<PathBuf>,
    /// Full or incremental.
    pub kind: BundleKind,
    /// Items added, changed, unchanged, deleted.
    pub tally: Tally,
    /// Files downloaded into the bundle.
    pub files_fetched: u64,
    /// Files referenced in earlier bundles.
    pub files_referenced: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Success, or partial when items or files failed.
    pub outcome: Outcome,
}

impl BackupSummary {
    /// The one-line summary.
    pub fn line(&self) -> String {
        let t = &self.tally;
        let what = match &self.bundle {
            Some(b) => format!("{} bundle {}", self.kind.as_str(), b.display()),
            None => "no change: no bundle written".to_string(),
        };
        format!(
            "{what}: {} added, {} changed, {} deleted, {} saved again unchanged; {} files fetched, {} referenced; {} requests",
            t.added,
            t.changed,
            t.deleted,
            t.unchanged,
            self.files_fetched,
            self.files_referenced,
            self.requests
        )
    }
}

/// Runs one backup.
pub async fn run(cfg: &BackupConfig) -> Result<BackupSummary, Error> {
    let lock = lock_archive(&cfg.archive)?;
    let started_at = jiff::Timestamp::now();
    let result = run_locked(cfg).await;
    if let Err(e) = &result {
        let record = RunRecord {
            started_at: started_at.to_string(),
            outcome: "failed".into(),
            exit_code: e.exit_code() as u8,
            error: Some(e.to_string()),
            ..RunRecord::default()
        };
        // The error is what the user needs; a log that cannot be written adds nothing.
        let _ = record.append(&cfg.archive);
    }
    lock.release();
    result
}

/// Locks the archive for this run, creating it when it is new.
fn lock_archive(archive: &Path) -> Result<StagingLock, Error> {
    match StagingLock::acquire(archive) {
        Ok(lock) => Ok(lock),
        Err(BundleError::Locked { lock, pid }) => Err(Error::ArchiveLocked {
            archive: archive.to_path_buf(),
            lock,
            pid,
        }),
        Err(e) => Err(e.into()),
    }
}

async fn run_locked(cfg: &BackupConfig) -> Result<BackupSummary, Error> {
    let prior = ArchiveState::load(&cfg.archive)?;
    clear_leftovers(&cfg.archive, prior.as_ref())?;
    let opened = crawl::open(&cfg.crawl)?;
    let client = opened.client.clone();
    crawl::probe(&client, &cfg.crawl.site).await?;
    let mut rest = RestSource::new(
        client.clone(),
        &cfg.crawl.site,
        &opened.mapping.list.title,
        cfg.crawl.shape,
    );
    rest.probe().await.map_err(|e| needs_rest(cfg, e))?;
    let schema = rest.describe().await.map_err(|e| {
        crawl::with_content_type(e.into(), opened.mapping.list.content_type.clone())
    })?;
    let site = cfg.crawl.site.to_string();
    if let Some(p) = &prior {
        p.check_portal(&cfg.archive, &site, &schema.list.id)?;
    }
    let mapping_sha256 = crate::fixity::of_bytes(opened.mapping_text.as_bytes()).sha256;
    let now = opened.clock.instant;
    let kind = choose_kind(prior.as_ref(), &mapping_sha256, cfg.full_every, now);
    let prior = prior.unwrap_or_default();
    let number = prior
        .bundles
        .iter()
        .filter_map(|b| BundleName::parse(&b.name).map(|n| n.number))
        .max()
        .unwrap_or(0)
        + 1;
    let name = BundleName::new(now, number, kind).to_string();
    let host = crate::mapping::apply::host_key(&cfg.crawl.site);
    let series = format!("urn:sharc:series:{host}:{}:{name}", schema.list.id);
    let stamp = opened.clock.stamp(&opened.zone);
    let mut increment = Increment::new(
        prior.clone(),
        (kind, name.clone()),
        series,
        opened.mapping.volatile_fields(),
        stamp.clone(),
    );
    let list_id = schema.list.id.clone();
    let source = match kind {
        BundleKind::Full => ChosenItems::all(rest, schema),
        BundleKind::Incremental => {
            let (listed, _pages) = rest.list_versions().await?;
            let listing = Listing::compare(&prior, &listed);
            if listing.is_empty() {
                return no_change(cfg, stamp, client.stats().requests);
            }
            increment.vanish(&listing.vanished);
            ChosenItems::only(rest, schema, listing.to_read)
        }
    };
    let mut crawl_cfg = cfg.crawl.clone();
    crawl_cfg.out = cfg.archive.join(&name);
    crawl_cfg.format = crate::bundle::zip::BundleFormat::Dir;
    let setup = opened.lock(&crawl_cfg)?;
    let mut summary = crawl::crawl_source(&crawl_cfg, setup, source, Some(increment)).await?;
    let increment = summary
        .increment
        .take()
        .ok_or_else(|| Error::Usage("the crawl lost the backup's changes".into()))?;
    let entry = if summary.written {
        let tags = summary.bag.join("tagmanifest-sha512.txt");
        let bytes = fs::read(&tags).map_err(error::io(&tags))?;
        Some(BundleEntry {
            name: name.clone(),
            link: increment.link.clone(),
            tagmanifest_sha512: crate::state::chain::tagmanifest_digest(&bytes),
        })
    } else {
        None
    };
    let tally = increment.tally;
    let state = increment.next_state(entry, &site, &list_id, &mapping_sha256);
    state.save(&cfg.archive)?;
    let files = summary.report.counts.files;
    let referenced = summary.files_referenced;
    let requests = client.stats().requests;
    let bundle = summary.written.then(|| summary.bag.clone());
    let record = RunRecord {
        started_at: stamp,
        outcome: if summary.written {
            "bundle"
        } else {
            "no-change"
        }
        .into(),
        bundle: summary.written.then(|| name.clone()),
        items_added: tally.added,
        items_changed: tally.changed,
        items_deleted: tally.deleted,
        items_unchanged: tally.unchanged,
        files_fetched: files,
        files_referenced: referenced,
        requests,
        exit_code: summary.outcome.exit_code() as u8,
        error: None,
    };
    record.append(&cfg.archive)?;
    Ok(BackupSummary {
        bundle,
        kind,
        tally,
        files_fetched: files,
        files_referenced: referenced,
        requests,
        outcome: summary.outcome,
    })
}

/// A run that found nothing changed: logged, no bundle, the state as it was.
fn no_change(cfg: &BackupConfig, stamp: String, requests: u64) -> Result<BackupSummary, Error> {
    let record = RunRecord {
        started_at: stamp,
        outcome: "no-change".into(),
        requests,
        ..RunRecord::default()
    };
    record.append(&cfg.archive)?;
    Ok(BackupSummary {
        bundle: None,
        kind: BundleKind::Incremental,
        tally: Tally::default(),
        files_fetched: 0,
        files_referenced: 0,
        requests,
        outcome: Outcome::Success,
    })
}

/// A portal whose REST API does not answer cannot be backed up.
fn needs_rest(cfg: &BackupConfig, e: SourceError) -> Error {
    match e {
        SourceError::ApiClosed { status, .. } => Error::BackupNeedsRest {
            site: cfg.crawl.site.to_string(),
            why: format!("the REST API answers HTTP {status}"),
        },
        other => other.into(),
    }
}

/// Full when there is no bundle yet, when the mapping changed (records would change shape),
/// or when `--full-every` says the series is long or old enough; incremental otherwise.
fn choose_kind(
    prior: Option<&ArchiveState>,
    mapping_sha256: &str,
    full_every: Option<FullEvery>,
    now: jiff::Timestamp,
) -> BundleKind {
    let Some(prior) = prior else {
        return BundleKind::Full;
    };
    let Some(last) = prior.last_bundle() else {
        return BundleKind::Full;
    };
    if prior.mapping_sha256 != mapping_sha256 {
        tracing::warn!(
            "the mapping file changed since the last bundle: starting a new full bundle"
        );
        return BundleKind::Full;
    }
    let due = match full_every {
        None => false,
        Some(FullEvery::Runs(n)) => last.link.sequence >= n,
        Some(FullEvery::Days(n)) => {
            let first = prior
                .bundles
                .iter()
                .rev()
                .find(|b| b.link.series == last.link.series && b.link.sequence == 1);
            first
                .and_then(|b| BundleName::parse(&b.name)?.instant())
                .is_some_and(|t| now.duration_since(t).as_secs() >= i64::from(n) * 86_400)
        }
    };
    if due {
        BundleKind::Full
    } else {
        BundleKind::Incremental
    }
}

/// Removes what a run that died left in the archive: staging directories, and bundles the
/// state does not record (the run stopped between putting the bundle in place and
/// recording it, so nothing refers to it; the next bundle holds its changes again).
fn clear_leftovers(archive: &Path, state: Option<&ArchiveState>) -> Result<(), Error> {
    let entries = fs::read_dir(archive).map_err(error::io(archive))?;
    for entry in entries {
        let entry = entry.map_err(error::io(archive))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let staged = name
            .strip_suffix(".sharc-partial")
            .is_some_and(|n| BundleName::parse(n).is_some());
        let orphan = BundleName::parse(&name).is_some()
            && !state.is_some_and(|s| s.bundles.iter().any(|b| b.name == name));
        if !(staged || orphan) || name == STATE_FILE {
            continue;
        }
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if !is_dir {
            continue;
        }
        tracing::warn!(
            "removing {}, left by a backup run that stopped before it was recorded",
            path.display()
        );
        fs::remove_dir_all(&path).map_err(error::io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_every_reads_runs_and_days() {
        assert_eq!(FullEvery::parse("7"), Some(FullEvery::Runs(7)));
        assert_eq!(FullEvery::parse("30d"), Some(FullEvery::Days(30)));
        assert_eq!(FullEvery::parse("0"), None);
        assert_eq!(FullEvery::parse("d"), None);
        assert_eq!(FullEvery::parse("week"), None);
    }
}
