//! One HTTP client for everything sharc fetches: retries, politeness, streaming downloads.
//!
//! SharePoint farms throttle with 429/503 and `Retry-After`, drop connections under load and
//! serve attachments of any size. Every request goes through [`Client`], which bounds
//! concurrency, retries what is worth retrying (and only that), and streams downloads to
//! disk while computing their fixity, so no file is ever held in memory or read twice.

mod pace;
mod retry;

pub use pace::Pacer;
pub use retry::RetryPolicy;

use crate::fixity::{Fixity, FixityHasher};
use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, HeaderMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use url::Url;

/// The most bytes of an error response kept in [`FetchError::Status`].
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// How the client behaves on the wire.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time without any byte arriving before a request counts as timed out.
    pub read_timeout: Duration,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// At most this many requests per second (`None`: no cap).
    pub rate: Option<f64>,
    /// Hosts a redirect may lead to besides the one first asked (the portal's own host is
    /// always allowed); a redirect elsewhere is not followed.
    pub redirect_hosts: Vec<String>,
    /// Extra wait before the next request per health-score point from 8 up.
    pub health_step: Duration,
    /// Extra headers on every request (e.g. `Accept-Language`).
    pub user_agent: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            rate: None,
            redirect_hosts: Vec::new(),
            health_step: Duration::from_secs(1),
            user_agent: format!(
                "sharc/{} (+archiving; SharePoint portal archiver)",
                env!("CARGO_PKG_VERSION")
            ),
        }
    }
}

/// Why a request failed for good.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with a status that is not success.
    #[error("{url}: HTTP {status}{}", status_hint(*status).map(|h| format!(" ({h})")).unwrap_or_default())]
    Status {
        /// The URL requested.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The response body, at most [`ERROR_BODY_LIMIT`] bytes, for callers that know the
        /// server's error format.
        body: Vec<u8>,
    },
    /// Connecting, sending or receiving failed.
    #[error("{url}: {message}")]
    Network {
        /// The URL requested.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The body ended before the length the server announced.
    #[error("{url}: body truncated: got {got} of {expected} bytes")]
    Truncated {
        /// The URL requested.
        url: String,
        /// Content-Length.
        expected: u64,
        /// Bytes received.
        got: u64,
    },
    /// Retries ran out.
    #[error("{url}: gave up after {attempts} attempts; last error: {last}")]
    GaveUp {
        /// The URL requested.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Writing the download to disk failed.
    #[error("{}: {source}; check free space and permissions", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl FetchError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A successful response with its body in memory (API responses only, never files).
#[derive(Debug)]
pub struct Body {
    /// The final URL.
    pub url: Url,
    /// Response headers.
    pub headers: HeaderMap,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The HTTP client. Cheap to clone; clones share the connection pool and the limits.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    slots: Arc<Semaphore>,
    retry: RetryPolicy,
    pacer: Arc<Pacer>,
    stats: Arc<Stats>,
}

/// Counts of what the client did, for the run report.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// HTTP requests sent (attempts, retries included).
    pub requests: u64,
    /// Attempts that were retried.
    pub retries: u64,
    /// Answers that asked to slow down (429, 503).
    pub throttled: u64,
}

/// What one attempt produced.
enum Attempt<T> {
    Done(T),
    Retry { wait: Option<Duration>, why: String },
}

impl Client {
    /// Builds a client.
    pub fn new(opts: &FetchOptions) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .connect_timeout(opts.connect_timeout)
            .read_timeout(opts.read_timeout)
            .redirect(redirect_policy(opts.redirect_hosts.clone()))
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            slots: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            retry: opts.retry.clone(),
            pacer: Arc::new(Pacer::new(opts.rate, opts.health_step)),
            stats: Arc::new(Stats::default()),
        })
    }

    /// What the client has done so far.
    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.stats.requests.load(Ordering::Relaxed),
            retries: self.stats.retries.load(Ordering::Relaxed),
            throttled: self.stats.throttled.load(Ordering::Relaxed),
        }
    }

    /// Waits for a request slot's turn and counts the request.
    async fn before_request(&self) {
        self.pacer.wait().await;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// GETs `url` with `Accept: accept` and returns the body (for API responses).
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Body, FetchError> {
        self.with_retries(url, || async {
            let _slot = self.slots.acquire().await;
            let resp = match self
                .http
                .get(url.clone())
                .header(ACCEPT, accept)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return Ok(network_attempt(url, &e)),
            };
            if let Some(a) = self.retryable_status(&resp) {
                return Ok(a);
            }
            let status = resp.status();
            let final_url = resp.url().clone();
            let headers = resp.headers().clone();
            let expected = content_length(&headers);
            let bytes = match resp.bytes().await {
                Ok(b) => b.to_vec(),
                Err(e) => return Ok(network_attempt(url, &e)),
            };
            if let Some(expected) = expected
                && bytes.len() as u64 != expected
            {
                return Ok(Attempt::Retry {
                    wait: None,
                    why: format!("body truncated: {} of {expected} bytes", bytes.len()),
                });
            }
            if !status.is_success() {
                return Err(status_error(url, status, bytes));
            }
            Ok(Attempt::Done(Body {
                url: final_url,
                headers,
                bytes,
            }))
        })
        .await
    }

    /// Streams `url` into `dest`, computing fixity on the way. The bytes go to `dest` with a
    /// `.part` suffix first and are renamed into place only when complete and as long as
    /// announced; a failed attempt leaves nothing at `dest`.
    pub async fn download(&self, url: &Url, dest: &Path) -> Result<Fixity, FetchError> {
        let part = part_path(dest);
        let result = self
            .with_retries(url, || async {
                let _slot = self.slots.acquire().await;
                self.before_request().await;
                let resp = match self.http.get(url.clone()).send().await {
                    Ok(r) => r,
                    Err(e) => return Ok(network_attempt(url, &e)),
                };
                if let Some(a) = self.retryable_status(&resp) {
                    return Ok(a);
                }
                let status = resp.status();
                if !status.is_success() {
                    return Err(status_error(url, status, bounded_body(resp).await));
                }
                let expected = content_length(resp.headers());
                let io = |source| FetchError::Io {
                    path: part.clone(),
                    source,
                };
                let mut file = tokio::fs::File::create(&part).await.map_err(io)?;
                let mut hasher = FixityHasher::new();
                let mut stream = resp.bytes_stream();
                while let Some(chunk) = stream.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => return Ok(network_attempt(url, &e)),
                    };
                    hasher.update(&chunk);
                    file.write_all(&chunk).await.map_err(io)?;
                }
                file.sync_all().await.map_err(io)?;
                if let Some(expected) = expected
                    && hasher.size() != expected
                {
                    return Ok(Attempt::Retry {
                        wait: None,
                        why: format!("body truncated: {} of {expected} bytes", hasher.size()),
                    });
                }
                Ok(Attempt::Done(hasher.finish()))
            })
            .await;
        match result {
            Ok(fixity) => {
                tokio::fs::rename(&part, dest)
                    .await
                    .map_err(|source| FetchError::Io {
                        path: dest.to_path_buf(),
                        source,
                    })?;
                Ok(fixity)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    fn retryable_status<T>(&self, resp: &reqwest::Response) -> Option<Attempt<T>> {
        self.pacer.observe(resp.headers());
        let status = resp.status();
        if matches!(status.as_u16(), 429 | 503) {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        }
        if !matches!(status.as_u16(), 429 | 503 | 504 | 408 | 502) {
            return None;
        }
        let wait = retry::retry_after(resp.headers());
        Some(Attempt::Retry {
            wait,
            why: format!("HTTP {status}"),
        })
    }

    async fn with_retries<T, F, Fut>(&self, url: &Url, mut attempt: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Attempt<T>, FetchError>>,
    {
        let mut n = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            n += 1;
            match attempt().await? {
                Attempt::Done(v) => return Ok(v),
                Attempt::Retry { wait, why } => {
                    let delay = self.retry.delay(n, wait);
                    if n >= self.retry.max_attempts {
                        return Err(FetchError::GaveUp {
                            url: url.to_string(),
                            attempts: n,
                            last: why,
                        });
                    }
                    if waited + delay > self.retry.max_total_wait {
                        let asked = wait
                            .map(|w| format!(" (the server asked for {}s more)", w.as_secs()))
                            .unwrap_or_default();
                        return Err(FetchError::GaveUp {
                            url: url.to_string(),
                            attempts: n,
                            last: format!(
                                "{why}; waited {}s in all{asked}, and --max-wait allows {}s: raise --max-wait or try again later",
                                waited.as_secs(),
                                self.retry.max_total_wait.as_secs()
                            ),
                        });
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%url, attempt = n, ?delay, %why, "retrying");
                    tokio::time::sleep(delay).await;
                    waited += delay;
                }
            }
        }
    }
}

/// Follows at most 10 redirects, and only to the host first asked or an allowed one: a crawl
/// never wanders off the portal because a server said so.
fn redirect_policy(allowed: Vec<String>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let first_host = attempt
            .previous()
            .first()
            .and_then(|u| u.host_str())
            .map(str::to_string);
        let to = attempt.url().host_str().unwrap_or("");
        if attempt.previous().len() > 10 {
            attempt.error("more than 10 redirects")
        } else if first_host
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case(to))
            || allowed.iter().any(|a| a.eq_ignore_ascii_case(to))
        {
            attempt.follow()
        } else {
            tracing::warn!(to = %attempt.url(), "not following a redirect to another host");
            attempt.stop()
        }
    })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn network_attempt<T>(url: &Url, e: &reqwest::Error) -> Attempt<T> {
    let _ = url;
    let mut why = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        why = format!("{why}: {s}");
        src = s.source();
    }
    Attempt::Retry { wait: None, why }
}

fn status_error(url: &Url, status: StatusCode, mut body: Vec<u8>) -> FetchError {
    body.truncate(ERROR_BODY_LIMIT);
    FetchError::Status {
        url: url.to_string(),
        status: status.as_u16(),
        body,
    }
}

/// What an HTTP status most likely means for a crawl, when there is something to say.
pub fn status_hint(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("authentication required: this identity may not read it"),
        403 => Some("access denied: this identity may not read it"),
        404 => Some("not found"),
        300..=399 => Some(
            "a redirect to another host, not followed: allow the host with --allow-host if it belongs to the portal",
        ),
        _ => None,
    }
}

/// At most [`ERROR_BODY_LIMIT`] bytes of an error response; the rest is never read.
async fn bounded_body(resp: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = ERROR_BODY_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    body
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}
