//! Running the downloads: concurrently, each added to the bag the moment it is complete.

use super::{Fetched, FileError, Files, FilesError, KeptFile, KnownFile};
use crate::bundle::{PayloadPath, PayloadSink};
use crate::fetch::{Conditional, FetchError, Validators};
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// One download to run.
pub(super) struct Job {
    /// Where from.
    pub url: Url,
    /// The decoded server-relative path it was planned from.
    pub server_path: String,
    /// Its payload path.
    pub payload: PayloadPath,
    /// The temporary file it is written to, its own.
    pub temp: PathBuf,
    /// The copy an earlier bundle holds: the file is asked for only if it changed.
    pub known: Option<KnownFile>,
}

/// The downloads of one page, under way in a task of their own: the crawl goes on (the next
/// page read, the last page's records written) while they run. Dropped before it is
/// [`finish`](super::Files::finish)ed, it stops starting new ones; nothing of it reaches the bag.
pub struct InFlight {
    urls: Vec<String>,
    task: Option<tokio::task::JoinHandle<Vec<Finished>>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A download run, and how it ended.
type Finished = Result<(Job, Result<Conditional, FetchError>), tokio::task::JoinError>;

/// Starts `jobs` with at most twice the client's concurrency in flight (the client itself
/// bounds requests); their results wait in the returned [`InFlight`].
pub(super) fn start(files: &Files, jobs: Vec<Job>) -> InFlight {
    let client = files.client.clone();
    // At `--concurrency 1` the downloads go one after another in the plan's order, so that
    // a capture of them (`--warc`) repeats from run to run; otherwise one more in flight per
    // connection keeps the network busy while a finished download is written.
    let limit = match files.concurrency {
        1 => 1,
        n => n * 2,
    };
    let urls = jobs.iter().map(|j| j.url.to_string()).collect();
    // Each download is a task of its own: hashing and writing run on every worker thread,
    // not on the one that drives the crawl.
    let task = tokio::spawn(
        futures::stream::iter(jobs)
            .map(move |job| {
                let client = client.clone();
                tokio::spawn(async move {
                    let held = job
                        .known
                        .as_ref()
                        .map(|k| k.validators.clone())
                        .unwrap_or_default();
                    let r = client.download_if_changed(&job.url, &job.temp, &held).await;
                    (job, r)
                })
            })
            .buffer_unordered(limit)
            .collect::<Vec<_>>(),
    );
    InFlight {
        urls,
        task: Some(task),
    }
}

impl InFlight {
    /// The URLs being fetched.
    pub(super) fn urls(&self) -> &[String] {
        &self.urls
    }
}

/// Waits for the downloads of `in_flight` and adds each file to the bag.
pub(super) async fn finish(
    files: &mut Files,
    writer: &mut impl PayloadSink,
    mut in_flight: InFlight,
) -> Result<(), FilesError> {
    let failed = |e: tokio::task::JoinError| {
        FilesError::Write(FetchError::Io {
            path: std::path::PathBuf::new(),
            source: std::io::Error::other(e),
        })
    };
    let Some(task) = in_flight.task.take() else {
        return Ok(());
    };
    for finished in task.await.map_err(failed)? {
        let (job, result) = finished.map_err(failed)?;
        match result {
            // The same bytes again (a server that does not answer 304): still not copied.
            Ok(Conditional::Fetched(fixity, validators))
                if job.known.as_ref().is_some_and(|k| k.fixity == fixity) =>
            {
                referenced(files, job, validators)
            }
            Ok(Conditional::Fetched(fixity, validators)) => {
                files.add(writer, job, fixity, validators)?
            }
            Ok(Conditional::NotModified(validators)) => referenced(files, job, validators),
            Err(e @ FetchError::Io { .. }) => return Err(FilesError::Write(e)),
            Err(e) => {
                let failed = Fetched::Failed(Arc::new(FileError::Fetch(e)));
                files.index.insert(job.url.to_string(), failed);
            }
        }
    }
    Ok(())
}

/// A file that has not changed since the copy an earlier bundle holds (the server says so,
/// or its bytes are the same): the record points at that copy.
fn referenced(files: &mut Files, job: Job, validators: Validators) {
    let _ = std::fs::remove_file(&job.temp);
    let url = job.url.to_string();
    let Some(known) = job.known else {
        // Only a request that held a copy is answered 304 (the client sees to it).
        return;
    };
    let validators = if validators.is_empty() {
        known.validators
    } else {
        validators
    };
    let kept = KeptFile {
        path: known.path,
        fixity: known.fixity,
        validators,
        held_by: Some(known.bundle),
    };
    files.keep(url, kept);
}
