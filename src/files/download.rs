//! Running the downloads: concurrently, each added to the bag the moment it is complete.

use super::{Fetched, FileError, Files, FilesError};
use crate::bundle::{PayloadPath, PayloadSink};
use crate::fetch::FetchError;
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
}

/// Runs `jobs` with at most twice the client's concurrency in flight (the client itself
/// bounds requests), adding each finished file to the bag as it completes.
pub(super) async fn run(
    files: &mut Files,
    writer: &mut impl PayloadSink,
    jobs: Vec<Job>,
) -> Result<(), FilesError> {
    let client = files.client.clone();
    let limit = files.concurrency * 2;
    let mut results = futures::stream::iter(jobs)
        .map(|job| {
            let client = client.clone();
            async move {
                let r = client.download(&job.url, &job.temp).await;
                (job, r)
            }
        })
        .buffer_unordered(limit);
    while let Some((job, result)) = results.next().await {
        match result {
            Ok(fixity) => files.add(writer, job, fixity)?,
            Err(e @ FetchError::Io { .. }) => return Err(FilesError::Write(e)),
            Err(e) => {
                let failed = Fetched::Failed(Arc::new(FileError::Fetch(e)));
                files.index.insert(job.url.to_string(), failed);
            }
        }
    }
    Ok(())
}
