//! `sharc restore`: a complete bag of the portal as one backup run found it, made from the
//! bundles of an archive.
//!
//! The bundle asked for (`--at`, by name or date; the last one by default) and the bundles of
//! its series before it, from the full bundle on, are replayed in order: each bundle's records
//! replace earlier ones of the same item, and its tombstones remove items. Every file a
//! remaining record points to is copied from a bundle of the series that holds that path
//! with that sha256 (checked again as it is copied). The schema and the path map come from
//! the bundle asked for, which wrote them for the whole portal. What comes out has the payload
//! a full crawl at that run would have written, and verifies on its own.

use crate::bundle::{self, BagInfo, BagWriter, PayloadPath};
use crate::error::{self, Error};
use crate::record::{FileRef, Record};
use crate::state::increment::DELETIONS;
use crate::state::names::BundleName;
use crate::state::{ArchiveState, BundleEntry, BundleKind, STATE_FILE};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

/// Everything `sharc restore` needs.
#[derive(Debug, Clone)]
pub struct RestoreConfig {
    /// The archive directory.
    pub archive: PathBuf,
    /// A bundle name, a date (`YYYY-MM-DD`, the last run that day, UTC) or an instant
    /// (RFC 3339); the last bundle when absent.
    pub at: Option<String>,
    /// Where the bag goes (must not exist).
    pub out: PathBuf,
}

/// What a restore made.
#[derive(Debug, Clone)]
pub struct RestoreSummary {
    /// The bag.
    pub bag: PathBuf,
    /// The bundle it stands for.
    pub bundle: String,
    /// Records in it.
    pub records: usize,
    /// Files in it.
    pub files: usize,
}

impl RestoreSummary {
    /// The one-line summary.
    pub fn line(&self) -> String {
        format!(
            "restored {} as of {}: {} records, {} files",
            self.bag.display(),
            self.bundle,
            self.records,
            self.files
        )
    }
}

/// Restores a bag from an archive.
pub fn run(cfg: &RestoreConfig) -> Result<RestoreSummary, Error> {
    let state = ArchiveState::load(&cfg.archive)?.ok_or_else(|| {
        Error::NoSuchBundle(format!(
            "{} has no {STATE_FILE}: it is not a sharc backup archive (give the directory `sharc backup --archive` wrote)",
            cfg.archive.display()
        ))
    })?;
    let target = pick(&state.bundles, cfg.at.as_deref())?;
    let start = (0..=target)
        .rev()
        .find(|&i| state.bundles[i].link.kind == BundleKind::Full)
        .ok_or_else(|| {
            Error::NoSuchBundle(format!(
                "no full bundle precedes {} in {}: the start of its series was removed",
                state.bundles[target].name,
                cfg.archive.display()
            ))
        })?;
    let series = &state.bundles[start..=target];
    let dirs: Vec<PathBuf> = series.iter().map(|b| cfg.archive.join(&b.name)).collect();
    let records = replay(&dirs)?;
    let copies = copies(&dirs)?;
    let mut writer = BagWriter::create(&cfg.out)?;
    let mut files = 0;
    for (rel, &i) in &records {
        let path = dirs[i].join("data").join(rel);
        let bytes = fs::read(&path).map_err(error::io(&path))?;
        writer.add_bytes(&PayloadPath::new(rel)?, &bytes)?;
        let record: Record = serde_json::from_slice(&bytes).map_err(|e| {
            Error::NoSuchBundle(format!(
                "{} is not a record sharc can read ({e}); run `sharc verify {}`",
                path.display(),
                cfg.archive.display()
            ))
        })?;
        for file in file_refs(&record) {
            files += copy_file(&mut writer, &dirs, &copies, file)?;
        }
    }
    let last = &dirs[dirs.len() - 1];
    for extra in [
        "schema/record.schema.json",
        bundle::crawl_bag::PATH_MAP,
        bundle::crawl_bag::CRAWL_REPORT,
    ] {
        let path = last.join("data").join(extra);
        let bytes = fs::read(&path).map_err(error::io(&path))?;
        writer.add_bytes(&PayloadPath::new(extra)?, &bytes)?;
    }
    let info = bag_info(last, &series[series.len() - 1])?;
    let finished = writer.finish(info)?;
    Ok(RestoreSummary {
        bag: finished.path,
        bundle: state.bundles[target].name.clone(),
        records: records.len(),
        files,
    })
}

/// The index of the bundle `at` names.
fn pick(bundles: &[BundleEntry], at: Option<&str>) -> Result<usize, Error> {
    let names = || {
        bundles
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(at) = at else {
        return bundles
            .len()
            .checked_sub(1)
            .ok_or_else(|| Error::NoSuchBundle("the archive has no bundle yet".into()));
    };
    if let Some(i) = bundles.iter().position(|b| b.name == at) {
        return Ok(i);
    }
    let until: Option<jiff::Timestamp> = at.parse().ok().or_else(|| {
        let day: jiff::civil::Date = at.parse().ok()?;
        let end = day.to_datetime(jiff::civil::Time::MAX);
        jiff::tz::TimeZone::UTC.to_timestamp(end).ok()
    });
    let Some(until) = until else {
        return Err(Error::Usage(format!(
            "--at `{at}` is neither a bundle of the archive nor a date (YYYY-MM-DD) or instant (RFC 3339); the bundles: {}",
            names()
        )));
    };
    bundles
        .iter()
        .rposition(|b| {
            BundleName::parse(&b.name)
                .and_then(|n| n.instant())
                .is_some_and(|t| t <= until)
        })
        .ok_or_else(|| {
            Error::NoSuchBundle(format!(
                "no bundle of the archive was made by {at}; the bundles: {}",
                names()
            ))
        })
}

/// The records of the snapshot: payload path (`records/…`) → the bundle (index) holding
/// its latest version, tombstoned items left out.
fn replay(dirs: &[PathBuf]) -> Result<BTreeMap<String, usize>, Error> {
    let mut live = BTreeMap::new();
    for (i, dir) in dirs.iter().enumerate() {
        let records = dir.join("data/records");
        if records.is_dir() {
            for entry in fs::read_dir(&records).map_err(error::io(&records))? {
                let entry = entry.map_err(error::io(&records))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".json") {
                    live.insert(format!("records/{name}"), i);
                }
            }
        }
        let deletions = dir.join("data").join(DELETIONS);
        if let Ok(bytes) = fs::read(&deletions) {
            let gone: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap_or_default();
            for t in gone {
                if let Some(id) = t.get("item_id").and_then(serde_json::Value::as_i64) {
                    live.remove(&crate::files::record_path(id));
                }
            }
        }
    }
    Ok(live)
}

/// Which bundle holds each payload path with each sha256 (the latest one).
fn copies(dirs: &[PathBuf]) -> Result<HashMap<(String, String), usize>, Error> {
    let mut held = HashMap::new();
    for (i, dir) in dirs.iter().enumerate() {
        let manifest = dir.join("manifest-sha256.txt");
        let text = fs::read_to_string(&manifest).map_err(error::io(&manifest))?;
        for line in text.lines() {
            if let Some((digest, path)) = line.split_once(char::is_whitespace) {
                let key = (path.trim().to_string(), digest.to_ascii_lowercase());
                held.insert(key, i);
            }
        }
    }
    Ok(held)
}

/// Every archived copy a record points to.
fn file_refs(record: &Record) -> Vec<&FileRef> {
    let image = record.image.iter().filter_map(|i| i.file.as_ref());
    let attachments = record.attachments.iter().filter_map(|a| a.file.as_ref());
    let body = record
        .body
        .iter()
        .flat_map(|b| b.images.iter())
        .filter_map(|i| i.file.as_ref());
    image.chain(attachments).chain(body).collect()
}

/// Copies `file` into the bag from the bundle that holds it, once; 1 when copied.
fn copy_file(
    writer: &mut BagWriter,
    dirs: &[PathBuf],
    copies: &HashMap<(String, String), usize>,
    file: &FileRef,
) -> Result<usize, Error> {
    let rel = file.path.strip_prefix("data/").unwrap_or(&file.path);
    let payload = PayloadPath::new(rel)?;
    if writer.contains(&payload) {
        return Ok(0);
    }
    let key = (file.path.clone(), file.sha256.to_ascii_lowercase());
    let Some(&i) = copies.get(&key) else {
        return Err(Error::NoSuchBundle(format!(
            "no bundle of the series holds {} with sha256 {}: the archive is incomplete; run `sharc verify` on it",
            file.path, file.sha256
        )));
    };
    let from = dirs[i].join(&file.path);
    let temp = writer.temp_file()?;
    fs::copy(&from, &temp).map_err(error::io(&from))?;
    let opened = fs::File::open(&temp).map_err(error::io(&temp))?;
    let fixity = crate::fixity::of_reader(opened).map_err(error::io(&temp))?;
    if !fixity.sha256.eq_ignore_ascii_case(&file.sha256) {
        let _ = fs::remove_file(&temp);
        return Err(Error::NoSuchBundle(format!(
            "{} does not have the sha256 its record says: the bundle was altered; run `sharc verify` on the archive",
            from.display()
        )));
    }
    writer.move_file_keyed(&payload, &temp, fixity, &())?;
    Ok(1)
}

/// The restored bag's `bag-info.txt`: the description of the bundle it stands for, without
/// its place in the chain, naming that bundle.
fn bag_info(dir: &Path, entry: &BundleEntry) -> Result<BagInfo, Error> {
    let path = dir.join("bag-info.txt");
    let text = fs::read_to_string(&path).map_err(error::io(&path))?;
    let mut info = BagInfo {
        software_agent: Some(format!("sharc/{}", env!("CARGO_PKG_VERSION"))),
        tag_files: vec![(
            bundle::profile::PROFILE_TAG_FILE.into(),
            bundle::profile::PROFILE_JSON.into(),
        )],
        ..BagInfo::default()
    };
    for (label, value) in bundle::bag_info_elements(&text) {
        match label.as_str() {
            "Source-Organization" => info.source_organization = Some(value),
            "External-Description" => info.external_description = Some(value),
            "External-Identifier" => info.external_identifier = Some(value),
            "Bagging-Date" => info.bagging_date = value.parse().ok(),
            "Contact-Name"
            | "Contact-Email"
            | "Source-URL"
            | "Sharc-Crawl-Status"
            | "BagIt-Profile-Identifier" => info.extra.push((label, value)),
            _ => {}
        }
    }
    info.extra
        .push(("Sharc-Restored-From".into(), entry.name.clone()));
    Ok(info)
}

/// Whether `dir` is a backup archive rather than a bag.
pub fn is_archive(dir: &Path) -> bool {
    dir.join(STATE_FILE).is_file()
}
