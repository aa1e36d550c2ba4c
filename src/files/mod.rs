//! The files step: the attachments and images records point to, fetched into the bag.
//!
//! A mapped record lists the files it wants ([`WantedFile`]). This step decides which of
//! them still need fetching (each URL once per run, and never again after a resume), plans
//! their payload paths from their URLs (path, query, and host when it is not the site's:
//! [`PathPlanner`] makes sure no two URLs share a path), downloads them concurrently through
//! the one HTTP client — each streamed to its own temporary file, hashed on the way — and
//! moves each into the bag as soon as it is complete, journaled with a typed key
//! ([`JournalKey`]) so an interrupted run keeps it. Then it fills each record's file slots;
//! a file that could not be fetched, or that no file system name can hold, is handed back as
//! a [`FileFailure`] for the crawl report.
//!
//! It knows the client, a [`PayloadSink`] (the bag writer) and the record, nothing of where
//! items came from.

mod download;
mod journal;

pub use download::InFlight;
pub use journal::{JournalKey, OtherCrawl, RunIdentity, record_path};

use crate::bundle::{BundleError, Origin, PathPlanner, PayloadPath, PayloadSink};
use crate::fetch::{Client, FetchError, Validators};
use crate::fixity::Fixity;
use crate::record::{self, FileRef, Record, WantedFile};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use url::Url;

/// The payload directory files go to (`data/files/…`).
const FILES_ROOT: &str = "files";

/// The files of one crawl: fetched, kept from an interrupted run, or failed.
pub struct Files {
    client: Client,
    concurrency: usize,
    /// The site's host and port: files from elsewhere may get their host in their name.
    site: Option<(String, Option<u16>)>,
    paths: PathPlanner,
    /// Every file met so far, by URL.
    index: BTreeMap<String, Fetched>,
    /// Files an earlier bundle holds, by URL: asked for only if they changed.
    known: BTreeMap<String, KnownFile>,
    /// URLs being downloaded, not in the index yet: a later page wanting one does not fetch
    /// it again.
    in_flight: HashSet<String>,
    counts: FileCounts,
}

/// A file an earlier bundle of a backup archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    /// Its payload path there (`data/…`); a changed copy gets the same path.
    pub path: String,
    /// Its fixity.
    pub fixity: Fixity,
    /// What the server said identifies that version.
    pub validators: Validators,
    /// The bundle that holds it.
    pub bundle: String,
}

/// A file a record can point to: in this bag, or (unchanged) in an earlier bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    /// Its payload path (`data/…`).
    pub path: String,
    /// Its fixity.
    pub fixity: Fixity,
    /// What the server said identifies this version.
    pub validators: Validators,
    /// The earlier bundle that holds it; `None` when it is in this bag.
    pub held_by: Option<String>,
}

/// What became of one URL.
enum Fetched {
    /// In the bag (or an earlier bundle) at this path.
    Kept(KeptFile),
    /// Could not be fetched, or could not be named.
    Failed(Arc<FileError>),
}

/// How many files are in the bag and how many bytes they hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCounts {
    /// Files.
    pub files: u64,
    /// Bytes.
    pub bytes: u64,
    /// Files not fetched again because an earlier bundle holds them unchanged.
    pub referenced: u64,
}

/// A file a record wants that is not in the bag.
#[derive(Debug, Clone)]
pub struct FileFailure {
    /// Its URL.
    pub url: String,
    /// Why (shared by every record that wants it).
    pub error: Arc<FileError>,
}

/// Why a file a record wants is not in the bag.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// It could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The file system refused the payload name it was given (a name too long for it, say).
    #[error(
        "{url}: it was downloaded, but the file system refused its payload name {path}: {source}"
    )]
    Unnamable {
        /// Its URL.
        url: String,
        /// The payload path it was given.
        path: String,
        /// What refused it.
        source: BundleError,
    },
}

/// What stops the files step: the bag or the disk, never one file's download.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// Adding to the bag failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Writing a download to disk failed.
    #[error(transparent)]
    Write(FetchError),
}

/// What an interrupted run left, as the files step reads it back.
#[derive(Debug, Default)]
pub struct Resumed {
    /// Files kept.
    pub files: usize,
    /// Items whose complete record is already in the bag.
    pub records: BTreeSet<i64>,
}

impl Files {
    /// A files step fetching through `client`, with `concurrency` requests in flight, for
    /// the site at `site`.
    pub fn new(client: Client, concurrency: usize, site: &Url) -> Self {
        Self {
            client,
            concurrency: concurrency.max(1),
            site: site
                .host_str()
                .map(|h| (h.to_string(), site.port_or_known_default())),
            paths: PathPlanner::new(FILES_ROOT),
            index: BTreeMap::new(),
            known: BTreeMap::new(),
            in_flight: HashSet::new(),
            counts: FileCounts::default(),
        }
    }

    /// Files earlier bundles hold, by URL: each keeps its payload path, and is asked for
    /// with its validators (a conditional GET), so an unchanged one is referenced, not
    /// copied.
    pub fn know(&mut self, known: impl IntoIterator<Item = (String, KnownFile)>) {
        for (url, file) in known {
            let parsed = Url::parse(&url).ok();
            let server_path = parsed.as_ref().map(|u| u.path().to_string());
            let rel = file.path.strip_prefix("data/").unwrap_or(&file.path);
            let origin = self.origin(&url, parsed.as_ref(), server_path.as_deref().unwrap_or(""));
            self.paths.assign(&origin, rel);
            self.known.insert(url, file);
        }
    }

    /// What became of the file at `url`, when it is in this bag or referenced.
    pub fn kept(&self, url: &str) -> Option<&KeptFile> {
        match self.index.get(url)? {
            Fetched::Kept(k) => Some(k),
            Fetched::Failed(_) => None,
        }
    }

    /// Takes over what an interrupted run left in the bag: its files (not fetched again, and
    /// their payload names stay as they were) and its complete records.
    pub fn resume(&mut self, kept: &[crate::bundle::journal::JournalEntry]) -> Resumed {
        let mut resumed = Resumed::default();
        for entry in kept {
            match JournalKey::of(entry) {
                Some(JournalKey::File { url, server_path }) => {
                    let parsed = Url::parse(&url).ok();
                    let origin = self.origin(&url, parsed.as_ref(), &server_path);
                    self.paths.assign(&origin, &entry.path);
                    let path = format!("data/{}", entry.path);
                    self.keep(url, KeptFile::here(path, entry.fixity.clone()));
                    resumed.files += 1;
                }
                Some(JournalKey::Record { item_id }) => {
                    resumed.records.insert(item_id);
                }
                None => {}
            }
        }
        resumed
    }

    /// Files in the bag so far.
    pub fn counts(&self) -> FileCounts {
        self.counts
    }

    /// Every file in the bag: its original URL and payload path (`data/…`), by URL.
    pub fn path_map(&self) -> impl Iterator<Item = (&str, &str)> {
        self.index.iter().filter_map(|(url, f)| match f {
            Fetched::Kept(k) => Some((url.as_str(), k.path.as_str())),
            Fetched::Failed(_) => None,
        })
    }

    /// Fetches every wanted file not met yet, concurrently, into the bag. One file's failure
    /// is remembered for [`attach`](Self::attach); only the bag or the disk stop the step.
    pub async fn fetch<'w>(
        &mut self,
        writer: &mut impl PayloadSink,
        wanted: impl Iterator<Item = &'w WantedFile>,
    ) -> Result<(), FilesError> {
        let in_flight = self.start(writer, wanted)?;
        self.finish(writer, in_flight).await
    }

    /// Starts fetching every wanted file not met yet, in the background; their payload names
    /// are planned now, in the order wanted. [`finish`](Self::finish) adds them to the bag.
    pub fn start<'w>(
        &mut self,
        writer: &mut impl PayloadSink,
        wanted: impl Iterator<Item = &'w WantedFile>,
    ) -> Result<InFlight, FilesError> {
        let jobs = self.plan(writer, wanted)?;
        let in_flight = download::start(self, jobs);
        self.in_flight.extend(in_flight.urls().iter().cloned());
        Ok(in_flight)
    }

    /// Waits for the downloads [`start`](Self::start) began and adds each file to the bag.
    /// One file's failure is remembered for [`attach`](Self::attach); only the bag or the
    /// disk stop the step.
    pub async fn finish(
        &mut self,
        writer: &mut impl PayloadSink,
        in_flight: InFlight,
    ) -> Result<(), FilesError> {
        for url in in_flight.urls() {
            self.in_flight.remove(url);
        }
        download::finish(self, writer, in_flight).await
    }

    /// The downloads still to run: one per URL not met yet.
    fn plan<'w>(
        &mut self,
        writer: &mut impl PayloadSink,
        wanted: impl Iterator<Item = &'w WantedFile>,
    ) -> Result<Vec<download::Job>, FilesError> {
        let mut jobs: Vec<download::Job> = Vec::new();
        for w in wanted {
            if self.index.contains_key(w.url.as_str())
                || self.in_flight.contains(w.url.as_str())
                || jobs.iter().any(|j| j.url == w.url)
            {
                continue;
            }
            let known = self.known.get(w.url.as_str()).cloned();
            let planned = match &known {
                Some(k) => PayloadPath::new(k.path.strip_prefix("data/").unwrap_or(&k.path)),
                None => {
                    let origin = self.origin(w.url.as_str(), Some(&w.url), &w.path);
                    self.paths.plan(&origin)
                }
            };
            let payload = match planned {
                Ok(p) => p,
                Err(source) => {
                    self.unnamable(w.url.as_str(), w.path.clone(), source);
                    continue;
                }
            };
            jobs.push(download::Job {
                url: w.url.clone(),
                server_path: w.path.clone(),
                payload,
                temp: writer.temp_file()?,
                known,
            });
        }
        Ok(jobs)
    }

    /// Where a file came from, for the path planner: `url` (parsed, when it parses) and the
    /// decoded server-relative `path` it was planned from.
    fn origin<'a>(&self, url: &'a str, parsed: Option<&'a Url>, path: &'a str) -> Origin<'a> {
        let host = parsed.and_then(|u| {
            let here = (u.host_str()?.to_string(), u.port_or_known_default());
            (self.site.as_ref() != Some(&here))
                .then(|| &u[url::Position::BeforeHost..url::Position::AfterPort])
        });
        Origin {
            key: url,
            path,
            query: parsed.and_then(Url::query),
            host,
        }
    }

    /// Remembers that the file at `url` could not be given a payload name.
    fn unnamable(&mut self, url: &str, path: String, source: BundleError) {
        tracing::debug!("{url}: no payload name fits it: {source}");
        let error = FileError::Unnamable {
            url: url.to_string(),
            path,
            source,
        };
        self.index
            .insert(url.to_string(), Fetched::Failed(Arc::new(error)));
    }

    /// Records a file that is in the bag, or referenced in an earlier bundle.
    fn keep(&mut self, url: String, kept: KeptFile) {
        if kept.held_by.is_some() {
            self.counts.referenced += 1;
        } else {
            self.counts.files += 1;
            self.counts.bytes += kept.fixity.size;
        }
        self.index.insert(url, Fetched::Kept(kept));
    }

    /// Moves a downloaded file into the bag, journaled with where it came from. A name the
    /// file system refuses fails that file alone; any other trouble with the bag stops the
    /// step.
    fn add(
        &mut self,
        writer: &mut impl PayloadSink,
        job: download::Job,
        fixity: Fixity,
        validators: Validators,
    ) -> Result<(), FilesError> {
        let key = JournalKey::File {
            url: job.url.to_string(),
            server_path: job.server_path,
        };
        match writer.move_file_keyed(&job.payload, &job.temp, fixity.clone(), &key) {
            Ok(()) => {
                let path = format!("data/{}", job.payload.as_str());
                let kept = KeptFile {
                    validators,
                    ..KeptFile::here(path, fixity)
                };
                self.keep(job.url.to_string(), kept);
                Ok(())
            }
            Err(e @ BundleError::Io { .. }) if refused_name(&e) => {
                let _ = std::fs::remove_file(&job.temp);
                let path = job.payload.manifest_path();
                self.unnamable(job.url.as_str(), path, e);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Fills `record`'s file slots from the files fetched; returns the wanted files that
    /// failed (their slots stay empty).
    pub fn attach(&self, record: &mut Record, wanted: &[WantedFile]) -> Vec<FileFailure> {
        let mut failures = Vec::new();
        for w in wanted {
            match self.index.get(w.url.as_str()) {
                Some(Fetched::Kept(k)) => {
                    let media = record::media_type_for(&k.path);
                    record.fill(w.slot, FileRef::new(k.path.clone(), &k.fixity, media));
                }
                Some(Fetched::Failed(error)) => failures.push(FileFailure {
                    url: w.url.to_string(),
                    error: Arc::clone(error),
                }),
                None => {}
            }
        }
        failures
    }
}

impl KeptFile {
    /// A file in this bag, with no validators known.
    fn here(path: String, fixity: Fixity) -> Self {
        KeptFile {
            path,
            fixity,
            validators: Validators::default(),
            held_by: None,
        }
    }
}

/// Whether `e` is a file system refusing a name (too long, or not valid there) rather than
/// the disk or the bag failing.
fn refused_name(e: &BundleError) -> bool {
    matches!(e, BundleError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidFilename)
}

/// Writes `record` into the bag. A complete record (every file it wants is there) is
/// journaled as done, so a resumed run keeps it; an incomplete one is written but retried.
pub fn store_record(
    writer: &mut impl PayloadSink,
    record: &Record,
    complete: bool,
) -> Result<(), BundleError> {
    let item_id = record.source.item_id;
    let path = PayloadPath::new(&record_path(item_id))?;
    let bytes = record.to_json();
    if complete {
        writer.add_bytes_keyed(&path, &bytes, &JournalKey::Record { item_id })?;
    } else {
        writer.add_bytes_keyed(&path, &bytes, &())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::journal::JournalEntry;
    use crate::record::FileSlot;

    fn record() -> Record {
        let mut v = crate::record::sample_json(7);
        v["image"] = serde_json::json!({"url": "/a.jpg", "caption": null, "file": null});
        v["attachments"][0]["url"] = "http://127.0.0.1/k.pdf".into();
        serde_json::from_value(v).unwrap()
    }

    fn wanted(slot: FileSlot, url: &str) -> WantedFile {
        WantedFile {
            slot,
            url: url::Url::parse(url).unwrap(),
            path: url::Url::parse(url).unwrap().path().to_string(),
        }
    }

    #[test]
    fn resumed_files_fill_their_slots_and_the_rest_stay_empty() {
        let client = Client::new(&Default::default()).unwrap();
        let site = url::Url::parse("http://127.0.0.1/").unwrap();
        let mut files = Files::new(client, 2, &site);
        let pdf = crate::fixity::of_bytes(b"%PDF");
        let kept = [
            JournalEntry {
                path: "files/k.pdf".into(),
                fixity: pdf.clone(),
                key: serde_json::to_value(JournalKey::File {
                    url: "http://127.0.0.1/k.pdf".into(),
                    server_path: "/k.pdf".into(),
                })
                .unwrap(),
            },
            JournalEntry {
                path: record_path(3),
                fixity: crate::fixity::of_bytes(b"{}"),
                key: serde_json::to_value(JournalKey::Record { item_id: 3 }).unwrap(),
            },
        ];
        let resumed = files.resume(&kept);
        assert_eq!(resumed.files, 1);
        assert_eq!(resumed.records, BTreeSet::from([3]));
        assert_eq!(
            files.counts(),
            FileCounts {
                files: 1,
                bytes: 4,
                referenced: 0
            }
        );
        assert_eq!(
            files.path_map().collect::<Vec<_>>(),
            [("http://127.0.0.1/k.pdf", "data/files/k.pdf")]
        );

        let mut r = record();
        let failures = files.attach(
            &mut r,
            &[
                wanted(FileSlot::Attachment(0), "http://127.0.0.1/k.pdf"),
                wanted(FileSlot::Image, "http://127.0.0.1/a.jpg"),
            ],
        );
        assert!(failures.is_empty(), "a file never fetched is not a failure");
        let file = r.attachments[0].file.as_ref().unwrap();
        assert_eq!(file.path, "data/files/k.pdf");
        assert_eq!(file.sha256, pdf.sha256);
        assert_eq!(file.media_type, "application/pdf");
        assert!(r.image.as_ref().unwrap().file.is_none());
    }

    /// A bag whose file system refuses every name given to a download, as one with short
    /// name limits would; everything else goes to a real bag.
    struct RefusingNames(crate::bundle::BagWriter);

    impl PayloadSink for RefusingNames {
        fn temp_file(&mut self) -> Result<std::path::PathBuf, BundleError> {
            self.0.temp_file()
        }

        fn move_file_keyed(
            &mut self,
            path: &PayloadPath,
            _from: &std::path::Path,
            _fixity: Fixity,
            _key: &impl serde::Serialize,
        ) -> Result<(), BundleError> {
            Err(BundleError::Io {
                action: "move a download to",
                path: path.as_str().into(),
                source: std::io::ErrorKind::InvalidFilename.into(),
            })
        }

        fn add_bytes_keyed(
            &mut self,
            path: &PayloadPath,
            bytes: &[u8],
            key: &impl serde::Serialize,
        ) -> Result<Fixity, BundleError> {
            self.0.add_bytes_keyed(path, bytes, key)
        }
    }

    #[test]
    fn a_name_the_file_system_refuses_fails_that_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink =
            RefusingNames(crate::bundle::BagWriter::create(&dir.path().join("bag")).unwrap());
        let client = Client::new(&Default::default()).unwrap();
        let site = url::Url::parse("http://127.0.0.1/").unwrap();
        let mut files = Files::new(client, 2, &site);
        let w = wanted(FileSlot::Attachment(0), "http://127.0.0.1/k.pdf");
        let mut jobs = files.plan(&mut sink, [&w].into_iter()).unwrap();
        let job = jobs.remove(0);
        std::fs::write(&job.temp, b"%PDF").unwrap();
        let temp = job.temp.clone();
        files
            .add(
                &mut sink,
                job,
                crate::fixity::of_bytes(b"%PDF"),
                Validators::default(),
            )
            .expect("one refused name does not stop the step");
        assert!(!temp.exists(), "the download is not left behind");
        let failures = files.attach(&mut record(), &[w]);
        assert_eq!(failures.len(), 1);
        assert!(
            matches!(&*failures[0].error, FileError::Unnamable { path, .. } if path == "data/files/k.pdf"),
            "{:?}",
            failures[0].error
        );
        assert_eq!(files.counts(), FileCounts::default());
    }
}
