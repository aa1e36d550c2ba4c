//! One HTTP client for everything sharc fetches: scope, politeness, retries, bounds, streaming.
//!
//! SharePoint farms throttle with 429/503 and `Retry-After`, drop connections under load and
//! serve attachments of any size; a broken or hostile farm points at other hosts, loops its
//! redirects, compresses a gigabyte into a megabyte or sends one byte every few seconds.
//! Every request — REST page, SOAP call, HTML page, robots.txt, file — goes through [`Client`], down one
//! path: the URL and every redirect hop pass the one [`Scope`] before anything is sent, each
//! hop waits for the [`Pacer`] (`--rate`, a host's crawl delay, the health score) and is
//! counted, failures are classified once (transient ones retried, permanent ones failed at
//! once), bodies read into memory are capped, files are asked for without compression and
//! streamed to disk under `--max-file-size` while their fixity is computed, and every
//! request has a deadline. Credentials ([`Credentials`]) are added on the same path, to the
//! portal's own origin only, and never shown ([`redact_header`]).

pub mod auth;
mod decode;
mod ntlm;
mod observe;
mod pace;
mod retry;
pub mod scope;

pub use auth::{AuthMethod, Credentials, Secret, redact_header};
pub use observe::{BodyEnd, BodyObserver, Captured, Exchange, Observer};
pub use pace::Pacer;
pub use retry::{RetryPolicy, is_transient_status};
pub use scope::{AllowedHost, Refusal, Scope, redact};

use crate::fixity::{Fixity, FixityHasher};
use futures::StreamExt;
use observe::Tap;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    HOST, HeaderMap, HeaderName, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
    USER_AGENT,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use url::Url;

/// The most bytes of an error response kept in [`FetchError::Status`].
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The most bytes of a page (API answer, HTML page, robots.txt) read into memory by default,
/// counted after decompression: 64 MiB.
pub const PAGE_LIMIT: u64 = 64 * 1024 * 1024;

/// The largest file downloaded by default (`--max-file-size`): 2 GiB, SharePoint's own limit
/// on an upload for most of its versions.
pub const FILE_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

/// Redirects followed at most for one request.
pub const MAX_REDIRECTS: usize = 10;

/// How the client behaves on the wire.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time without any byte arriving before a request counts as timed out.
    pub read_timeout: Duration,
    /// The longest one request (one redirect hop) may take, from sending it to its last
    /// byte (`--request-timeout`).
    pub request_timeout: Duration,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// At most this many requests per second (`None`: no cap).
    pub rate: Option<f64>,
    /// What may be fetched; the default scope refuses everything.
    pub scope: Scope,
    /// The most bytes of a page read into memory, after decompression.
    pub max_page: u64,
    /// The largest file downloaded (`None`: no limit).
    pub max_file: Option<u64>,
    /// Extra wait before the next request per health-score point from 8 up.
    pub health_step: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How to sign in; sent only to the site's own origin.
    pub credentials: Credentials,
}

impl FetchOptions {
    /// These options with the scope of the portal at `site` alone (no other host allowed).
    pub fn on_site(&self, site: &Url) -> Self {
        Self {
            scope: Scope::new(site, &[]),
            ..self.clone()
        }
    }
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(600),
            retry: RetryPolicy::default(),
            rate: None,
            scope: Scope::default(),
            max_page: PAGE_LIMIT,
            max_file: Some(FILE_LIMIT),
            health_step: Duration::from_secs(1),
            user_agent: format!(
                "sharc/{} (+archiving; SharePoint portal archiver)",
                env!("CARGO_PKG_VERSION")
            ),
            credentials: Credentials::Anonymous,
        }
    }
}

/// Why a request failed for good. URLs in it are printed without user names or passwords.
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
    /// The URL, or a redirect it led to, is out of scope: nothing was sent there.
    #[error("{url}: {}{refusal}", redirected_to.as_ref().map(|t| format!("redirected to {t}: ")).unwrap_or_default())]
    Refused {
        /// The URL requested.
        url: String,
        /// Where a redirect pointed, when it was a redirect that was refused.
        redirected_to: Option<String>,
        /// Why.
        refusal: Refusal,
    },
    /// Redirects that go round in a circle, go on too long, or point nowhere.
    #[error("{url}: {message}; not retried")]
    Redirect {
        /// The URL requested.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A page larger than sharc reads into memory.
    #[error(
        "{url}: the answer is larger than {limit} bytes, the most sharc reads into memory for one page; not read (for a REST items page, a smaller --page-size helps)"
    )]
    PageTooLarge {
        /// The URL requested.
        url: String,
        /// The limit, bytes.
        limit: u64,
    },
    /// A file larger than `--max-file-size`.
    #[error("{url}: the file is larger than --max-file-size ({limit} bytes){}; not archived: raise --max-file-size to archive it", announced.map(|n| format!(": the server announces {n} bytes")).unwrap_or_default())]
    FileTooLarge {
        /// The URL requested.
        url: String,
        /// The limit, bytes.
        limit: u64,
        /// The size the server announced, when it did.
        announced: Option<u64>,
    },
    /// The site cannot be reached as its URL gives it (refused, unknown host, no TLS, an
    /// untrusted certificate): found by [`Client::probe`], not retried.
    #[error("{url}: {message}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// What kind of failure.
        kind: Unreachable,
        /// What is wrong and what to try.
        message: String,
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
    /// The portal wants a signed-in reader, or refused the credentials given: a `401`, a
    /// redirect to a sign-in page, or a forms sign-in demanded. Never archived as content.
    #[error("{url}: {}", sign_in_words(*status, asks, *sent, login_page.as_deref()))]
    NotSignedIn {
        /// The URL requested.
        url: String,
        /// The HTTP status: 401, a redirect's, or 403.
        status: u16,
        /// The schemes the server's `WWW-Authenticate` asks for (`NTLM`, `Bearer`, …).
        asks: Vec<String>,
        /// How this request signed in.
        sent: AuthMethod,
        /// The sign-in page it was sent to, when it was a redirect.
        login_page: Option<String>,
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
            FetchError::Status { status, .. } | FetchError::NotSignedIn { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// For a request the portal wants signed in: what it asks for, and the flags to use.
    pub fn sign_in_hint(&self) -> Option<String> {
        match self {
            FetchError::NotSignedIn {
                status,
                asks,
                sent,
                login_page,
                ..
            } => Some(sign_in_words(*status, asks, *sent, login_page.as_deref())),
            _ => None,
        }
    }

    /// Whether this is a sign-in refused or lost after sharc sent credentials: the crawl
    /// stops rather than archive what a signed-out reader gets.
    pub fn is_sign_in_lost(&self) -> bool {
        matches!(self, FetchError::NotSignedIn { sent, .. } if *sent != AuthMethod::Anonymous)
    }
}

/// What a `401`, or a redirect to a sign-in page, means, and the flags that help.
fn sign_in_words(status: u16, asks: &[String], sent: AuthMethod, login: Option<&str>) -> String {
    let wanted: Vec<AuthMethod> = asks
        .iter()
        .filter_map(|a| auth::method_for_scheme(a))
        .collect();
    let asked = if asks.is_empty() {
        String::new()
    } else {
        format!(" (WWW-Authenticate: {})", asks.join(", "))
    };
    let how = match (wanted.first(), login) {
        (Some(m), _) => format!("sign in with {}: {}", m.as_str().to_uppercase(), m.flags()),
        (None, Some(_)) => format!(
            "sign in with a cookie of a signed-in browser ({}) or, on SharePoint Online, a token ({})",
            AuthMethod::Cookie.flags(),
            AuthMethod::Bearer.flags()
        ),
        (None, None) => format!(
            "sign in with one of --auth bearer, cookie, basic or ntlm (e.g. {})",
            AuthMethod::Ntlm.flags()
        ),
    };
    let what = match login {
        Some(page) => format!("HTTP {status} to the sign-in page {page}: not signed in"),
        None => format!("HTTP {status}{asked}"),
    };
    if sent == AuthMethod::Anonymous {
        return format!("{what}: the portal wants a signed-in reader; {how}");
    }
    let refused = format!(
        "{what}: the portal refused the --auth {sent} credentials, or they expired (a token or cookie lasts hours, not days)"
    );
    match wanted.first() {
        Some(_) if !wanted.contains(&sent) => format!("{refused}; it asks to {how}"),
        _ => format!(
            "{refused}; get a fresh {}, check the account may read the list, and run again",
            match sent {
                AuthMethod::Bearer => "token",
                AuthMethod::Cookie => "cookie",
                _ => "password",
            }
        ),
    }
}

/// A successful response with its body in memory (pages only, never files).
#[derive(Debug)]
pub struct Body {
    /// The final URL.
    pub url: Url,
    /// Response headers.
    pub headers: HeaderMap,
    /// The bytes, decompressed, at most [`FetchOptions::max_page`].
    pub bytes: Vec<u8>,
    /// Where an [`Observer`] kept the exchange that gave this body, if one did.
    pub capture: Option<Captured>,
}

/// The HTTP client. Cheap to clone; clones share the connections, the scope, the limits,
/// the pacing, the counters and the credentials.
#[derive(Clone)]
pub struct Client {
    /// How to sign in to the site's own origin.
    credentials: Arc<Credentials>,
    /// NTLM's connections: a handshake and its request go out on one of them.
    lanes: Arc<Lanes>,
    /// For pages: never decompresses; pages are decoded here, within the page cap, so an
    /// observer sees the bytes as received.
    pages: reqwest::Client,
    /// For files: no decompression; files are asked for as `identity` and stored as sent.
    files: reqwest::Client,
    user_agent: HeaderValue,
    observer: Option<Arc<dyn Observer>>,
    scope: Arc<Scope>,
    slots: Arc<Semaphore>,
    retry: RetryPolicy,
    pacer: Arc<Pacer>,
    stats: Arc<Stats>,
    limits: Limits,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    max_page: u64,
    max_file: Option<u64>,
    request_timeout: Duration,
    read_timeout: Duration,
}

/// Counts of what the client did, for the run report.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    redirects: AtomicU64,
    refused: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// HTTP requests sent: every page, file, robots.txt, redirect hop and retry.
    pub requests: u64,
    /// Attempts that were retried.
    pub retries: u64,
    /// Answers that asked to slow down (429, 503).
    pub throttled: u64,
    /// Redirects followed.
    pub redirects: u64,
    /// URLs and redirects refused by the scope, never requested.
    pub refused: u64,
}

/// A transient failure: try again after `wait` (the server's `Retry-After`) or a backoff.
struct Retry {
    wait: Option<Duration>,
    why: String,
    /// For a failure below HTTP, what kind it was, when it is one that says the site cannot
    /// be reached as given.
    unreachable: Option<Unreachable>,
}

/// Why a site cannot be reached as its URL gives it: failures that waiting does not heal
/// when they happen on the very first request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// Nothing listens on the port (connection refused).
    Refused,
    /// The host name does not resolve.
    UnknownHost,
    /// `https` spoken to a port that answers plain HTTP.
    NotTls,
    /// The server's TLS certificate is not trusted for this host.
    Certificate,
}

impl Unreachable {
    /// The kind of `e`, read from its chain of causes.
    fn of(e: &reqwest::Error) -> Option<Self> {
        let mut chain = String::new();
        let mut src: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::ConnectionRefused
            {
                return Some(Self::Refused);
            }
            chain.push_str(&s.to_string().to_ascii_lowercase());
            chain.push('\n');
            src = s.source();
        }
        if chain.contains("connection refused") {
            Some(Self::Refused)
        } else if chain.contains("dns error")
            || chain.contains("failed to lookup address")
            || chain.contains("name or service not known")
        {
            Some(Self::UnknownHost)
        } else if chain.contains("invalidcontenttype") || chain.contains("corrupt message") {
            Some(Self::NotTls)
        } else if chain.contains("certificate") {
            Some(Self::Certificate)
        } else {
            None
        }
    }

    /// What is wrong with `url`, and what to try, in one sentence.
    fn explain(self, url: &Url) -> String {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or_default();
        match self {
            Self::Refused => format!(
                "nothing answers at {host}:{port} (connection refused): check the port in the site URL, and that the portal is up"
            ),
            Self::UnknownHost => format!(
                "the host `{host}` is not known (its name does not resolve): check its spelling in the site URL, and this machine's network and DNS"
            ),
            Self::NotTls => {
                let mut plain = url.clone();
                let _ = plain.set_scheme("http");
                format!(
                    "{host}:{port} does not speak TLS (https): the site answers plain HTTP there; try {}",
                    redact(&plain)
                )
            }
            Self::Certificate => format!(
                "the TLS certificate of {host} is not trusted for it: check the host name in the site URL"
            ),
        }
    }
}

/// What one attempt produced.
enum Attempt<T> {
    Done(T),
    Retry(Retry),
}

/// A success response, with the observer of its body.
struct Answer {
    resp: reqwest::Response,
    tap: Tap,
}

/// What is being asked for: a page (decompressed, read into memory), a page asked for with a
/// request body (a [`Post`]), or a file (as sent, streamed to disk).
#[derive(Clone, Copy)]
enum Want<'a> {
    Page {
        accept: &'a str,
    },
    Post(&'a Post<'a>),
    /// A file; with validators, asked for only when it changed (a conditional GET).
    File(Option<&'a Validators>),
}

/// What a server said identifies one version of a file (`ETag`, `Last-Modified`), kept so
/// that the next run can ask for the file only if it changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// `ETag`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified`, as sent (an HTTP date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators in a response's headers.
    fn of(headers: &HeaderMap) -> Self {
        let get = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Validators {
            etag: get(ETAG),
            last_modified: get(LAST_MODIFIED),
        }
    }

    /// Whether there is anything to send back.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// What a conditional download found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// The server says the copy held is current (304); nothing was written.
    NotModified(Validators),
    /// The file changed (or the server does not do conditional GETs): written, with its
    /// fixity and the new validators.
    Fetched(Fixity, Validators),
}

/// A POST whose answer is read like a page: a query sent in a request body, such as a SOAP
/// call (`Content-Type: text/xml`, a `SOAPAction` header). Only for requests that read and
/// change nothing on the server: such a request is idempotent, so it is retried on transient
/// failures exactly like a GET, paced, counted and bounded the same.
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    /// The `Accept` header.
    pub accept: &'a str,
    /// The `Content-Type` of the body.
    pub content_type: &'a str,
    /// Other request headers (e.g. `SOAPAction`).
    pub headers: &'a [(&'a str, &'a str)],
    /// The request body, at most [`POST_BODY_LIMIT`] bytes.
    pub body: &'a [u8],
}

/// The largest request body a [`Post`] may carry: 1 MiB, far more than any query needs.
pub const POST_BODY_LIMIT: usize = 1024 * 1024;

impl Client {
    /// Builds a client.
    pub fn new(opts: &FetchOptions) -> Result<Self, FetchError> {
        Ok(Self {
            credentials: Arc::new(opts.credentials.clone()),
            lanes: Arc::new(Lanes {
                opts: opts.clone(),
                idle: std::sync::Mutex::new(Vec::new()),
            }),
            pages: http_client(opts, false)?,
            files: http_client(opts, false)?,
            user_agent: HeaderValue::from_str(&opts.user_agent).map_err(|_| {
                FetchError::Setup(format!(
                    "the User-Agent `{}` is not a valid HTTP header value",
                    opts.user_agent
                ))
            })?,
            observer: None,
            scope: Arc::new(opts.scope.clone()),
            slots: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            retry: opts.retry.clone(),
            pacer: Arc::new(Pacer::new(opts.rate, opts.health_step)),
            stats: Arc::new(Stats::default()),
            limits: Limits {
                max_page: opts.max_page,
                max_file: opts.max_file,
                request_timeout: opts.request_timeout,
                read_timeout: opts.read_timeout,
            },
        })
    }

    /// This client, with every exchange it makes from now on shown to `observer` (clones
    /// made before share nothing of it).
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// What this client may fetch.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// How this client signs in.
    pub fn auth_method(&self) -> AuthMethod {
        self.credentials.method()
    }

    /// Requests to `url`'s host start at least `delay` apart from now on (a host's
    /// robots.txt `Crawl-delay`).
    pub fn set_crawl_delay(&self, url: &Url, delay: Duration) {
        self.pacer.set_host_delay(url, delay);
    }

    /// What the client has done so far.
    pub fn stats(&self) -> StatsSnapshot {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            requests: n(&self.stats.requests),
            retries: n(&self.stats.retries),
            throttled: n(&self.stats.throttled),
            redirects: n(&self.stats.redirects),
            refused: n(&self.stats.refused),
        }
    }

    /// GETs the page at `url` with `Accept: accept` and returns its body, decompressed, at
    /// most [`FetchOptions::max_page`] bytes.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Body, FetchError> {
        self.page(url, Want::Page { accept }).await
    }

    /// POSTs `post` to `url` and returns the answer's body as [`get`](Client::get) does. The
    /// request is checked against the scope, paced, counted and bounded like a GET, and
    /// retried on transient failures like one (a [`Post`] only reads). A redirect is followed
    /// only when it keeps the method and body (307, 308); after 301, 302 or 303 a client
    /// would send a GET instead, so the request fails naming where it was sent.
    pub async fn post(&self, url: &Url, post: &Post<'_>) -> Result<Body, FetchError> {
        if post.body.len() > POST_BODY_LIMIT {
            return Err(FetchError::Setup(format!(
                "a request body of {} bytes for {}: more than the {POST_BODY_LIMIT} bytes a query may carry",
                post.body.len(),
                redact(url)
            )));
        }
        for (name, value) in post.headers.iter().chain([
            &(ACCEPT.as_str(), post.accept),
            &(CONTENT_TYPE.as_str(), post.content_type),
        ]) {
            if HeaderName::from_bytes(name.as_bytes()).is_err()
                || HeaderValue::from_str(value).is_err()
            {
                return Err(FetchError::Setup(format!(
                    "the request header `{name}: {value}` for {} is not valid HTTP",
                    redact(url)
                )));
            }
        }
        self.page(url, Want::Post(post)).await
    }

    /// A page or a POST's answer, read into memory within the page bound.
    async fn page(&self, url: &Url, want: Want<'_>) -> Result<Body, FetchError> {
        let max = self.limits.max_page;
        let too_large = || FetchError::PageTooLarge {
            url: redact(url),
            limit: max,
        };
        self.with_retries(url, || async {
            let _slot = self.slots.acquire().await;
            let (Answer { resp, mut tap }, _lane) = match self.attempt(url, want).await? {
                Attempt::Done(r) => r,
                Attempt::Retry(r) => return Ok(Attempt::Retry(r)),
            };
            let final_url = resp.url().clone();
            let headers = resp.headers().clone();
            let expected = content_length(&headers);
            if expected.is_some_and(|n| n > max) {
                return Err(too_large());
            }
            let mut bytes = Vec::with_capacity(expected.unwrap_or(0).min(max) as usize);
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => return Ok(Attempt::Retry(self.network_retry(&e))),
                };
                if (bytes.len() + chunk.len()) as u64 > max {
                    return Err(too_large());
                }
                tap.chunk(&chunk);
                bytes.extend_from_slice(&chunk);
            }
            if let Some(expected) = expected
                && bytes.len() as u64 != expected
            {
                return Ok(Attempt::Retry(truncated(bytes.len() as u64, expected)));
            }
            let capture = tap.end(BodyEnd::Complete);
            let bytes = match decode::content(&headers, bytes, max) {
                Ok(b) => b,
                Err(decode::Failure::TooLarge) => return Err(too_large()),
                Err(decode::Failure::Broken(why)) => {
                    return Ok(Attempt::Retry(Retry {
                        wait: None,
                        why,
                        unreachable: None,
                    }));
                }
            };
            Ok(Attempt::Done(Body {
                url: final_url,
                headers,
                bytes,
                capture,
            }))
        })
        .await
    }

    /// Streams the file at `url` into `dest`, computing fixity on the way. The file is asked
    /// for without compression (`Accept-Encoding: identity`); a server that compresses it
    /// anyway has its bytes stored as sent. The bytes go to `dest` with a `.part` suffix
    /// first and are renamed into place only when complete, as long as announced and within
    /// [`FetchOptions::max_file`]; a failed attempt leaves nothing at `dest`. The file is not
    /// synced: whoever keeps it syncs it (the bag syncs its files in batches).
    pub async fn download(&self, url: &Url, dest: &Path) -> Result<Fixity, FetchError> {
        match self.fetch_file(url, dest, None).await? {
            Conditional::Fetched(fixity, _) => Ok(fixity),
            // Only a conditional request is answered 304; any other is an error in `answer`.
            Conditional::NotModified(_) => Err(FetchError::Setup(format!(
                "{}: 304 Not Modified to a request that held no copy",
                redact(url)
            ))),
        }
    }

    /// Downloads the file at `url` into `dest` as [`download`](Client::download) does, but
    /// only when it changed since the copy `held` describes: `If-None-Match` and
    /// `If-Modified-Since` are sent, and a 304 leaves `dest` untouched. The validators of the
    /// answer come back either way, for the next run.
    pub async fn download_if_changed(
        &self,
        url: &Url,
        dest: &Path,
        held: &Validators,
    ) -> Result<Conditional, FetchError> {
        let held = (!held.is_empty()).then_some(held);
        self.fetch_file(url, dest, held).await
    }

    async fn fetch_file(
        &self,
        url: &Url,
        dest: &Path,
        held: Option<&Validators>,
    ) -> Result<Conditional, FetchError> {
        let part = part_path(dest);
        let too_large = |announced| FetchError::FileTooLarge {
            url: redact(url),
            limit: self.limits.max_file.unwrap_or(u64::MAX),
            announced,
        };
        let result = self
            .with_retries(url, || async {
                let _slot = self.slots.acquire().await;
                let (Answer { resp, mut tap }, _lane) =
                    match self.attempt(url, Want::File(held)).await? {
                        Attempt::Done(r) => r,
                        Attempt::Retry(r) => return Ok(Attempt::Retry(r)),
                    };
                let validators = Validators::of(resp.headers());
                if resp.status() == StatusCode::NOT_MODIFIED {
                    tap.end(BodyEnd::Complete);
                    return Ok(Attempt::Done(Conditional::NotModified(validators)));
                }
                let expected = content_length(resp.headers());
                let max = self.limits.max_file;
                if let (Some(max), Some(n)) = (max, expected)
                    && n > max
                {
                    return Err(too_large(Some(n)));
                }
                note_encoding(url, resp.headers());
                let io = |source| FetchError::Io {
                    path: part.clone(),
                    source,
                };
                // Buffered: each write to a tokio file is a trip to a blocking thread. Not
                // synced here: the bag syncs its files in batches before journaling them.
                let file = tokio::fs::File::create(&part).await.map_err(io)?;
                let mut file = tokio::io::BufWriter::with_capacity(256 * 1024, file);
                let mut hasher = FixityHasher::new();
                let mut stream = resp.bytes_stream();
                while let Some(chunk) = stream.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => return Ok(Attempt::Retry(self.network_retry(&e))),
                    };
                    if max.is_some_and(|max| hasher.size() + chunk.len() as u64 > max) {
                        return Err(too_large(None));
                    }
                    hasher.update(&chunk);
                    tap.chunk(&chunk);
                    file.write_all(&chunk).await.map_err(io)?;
                }
                file.flush().await.map_err(io)?;
                if let Some(expected) = expected
                    && hasher.size() != expected
                {
                    return Ok(Attempt::Retry(truncated(hasher.size(), expected)));
                }
                tap.end(BodyEnd::Complete);
                Ok(Attempt::Done(Conditional::Fetched(
                    hasher.finish(),
                    validators,
                )))
            })
            .await;
        match result {
            Ok(Conditional::Fetched(fixity, validators)) => {
                tokio::fs::rename(&part, dest)
                    .await
                    .map_err(|source| FetchError::Io {
                        path: dest.to_path_buf(),
                        source,
                    })?;
                Ok(Conditional::Fetched(fixity, validators))
            }
            Ok(not_modified) => Ok(not_modified),
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    /// One attempt at `url`: sends it and follows its redirects, every hop checked against
    /// the scope, paced, counted and signed in when it is the site's own. Returns a success
    /// response (with the NTLM lane it came on, kept until its body is read), a transient
    /// failure to retry, or a permanent error.
    async fn attempt(
        &self,
        url: &Url,
        want: Want<'_>,
    ) -> Result<Attempt<(Answer, Option<Lane>)>, FetchError> {
        self.scope
            .check(url)
            .map_err(|refusal| self.refused(url, None, refusal))?;
        let mut current = url.clone();
        let mut visited = vec![url.clone()];
        let mut lane: Option<Lane> = None;
        loop {
            self.pacer.wait(&current).await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let signing = self.credentials.signing(self.scope.is_site(&current));
            if matches!(signing, auth::Signing::Ntlm(_)) && lane.is_none() {
                lane = Some(self.lanes.lease()?);
            }
            let (pages, files) = match (&signing, &lane) {
                (auth::Signing::Ntlm(_), Some(l)) => (&l.pages, &l.files),
                _ => (&self.pages, &self.files),
            };
            let http = if matches!(want, Want::File(_)) {
                files
            } else {
                pages
            };
            let request = match want {
                Want::Page { accept } => pages
                    .get(current.clone())
                    .header(ACCEPT, accept)
                    .header(ACCEPT_ENCODING, decode::ACCEPTED),
                Want::Post(post) => {
                    let mut r = pages
                        .post(current.clone())
                        .header(ACCEPT, post.accept)
                        .header(ACCEPT_ENCODING, decode::ACCEPTED)
                        .header(CONTENT_TYPE, post.content_type);
                    for (name, value) in post.headers {
                        r = r.header(*name, *value);
                    }
                    r.body(post.body.to_vec())
                }
                Want::File(held) => {
                    let mut r = files
                        .get(current.clone())
                        .header(ACCEPT_ENCODING, "identity");
                    let valid = |v: &Option<String>| {
                        v.as_deref().and_then(|v| HeaderValue::from_str(v).ok())
                    };
                    if let Some(held) = held {
                        if let Some(etag) = valid(&held.etag) {
                            r = r.header(IF_NONE_MATCH, etag);
                        }
                        if let Some(date) = valid(&held.last_modified) {
                            r = r.header(IF_MODIFIED_SINCE, date);
                        }
                    }
                    r
                }
            };
            let method = if matches!(want, Want::Post(_)) {
                "POST"
            } else {
                "GET"
            };
            let mut handshakes = 0;
            let mut challenged_on = None;
            let (resp, seen) = loop {
                let mut signed = request.try_clone().ok_or_else(|| {
                    FetchError::Setup("a request body that cannot be sent twice".into())
                })?;
                match &signing {
                    auth::Signing::None => {}
                    auth::Signing::Header(value) => {
                        signed = signed.header(self.credentials.header_name(), secret_value(value)?)
                    }
                    auth::Signing::Ntlm(account) => {
                        handshakes += 1;
                        match self.ntlm_handshake(http, &current, account).await {
                            Ok(Some((value, on))) => {
                                challenged_on = on;
                                signed = signed.header(AUTHORIZATION, secret_value(&value)?)
                            }
                            Ok(None) => {}
                            Err(retry) => return Ok(Attempt::Retry(retry)),
                        }
                    }
                }
                let signed = signed
                    .header(USER_AGENT, self.user_agent.clone())
                    .build()
                    .map_err(|e| FetchError::Setup(format!("{}: {e}", redact(&current))))?;
                let seen = self.observer.as_ref().map(|_| SentRequest::of(&signed));
                let sent = std::time::Instant::now();
                let resp = match http.execute(signed).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(
                            "{method} {} failed after {} ms: {e}",
                            redact(&current),
                            sent.elapsed().as_millis()
                        );
                        return Ok(Attempt::Retry(self.network_retry(&e)));
                    }
                };
                // One line per request at -v: method, URL, status, announced size, time.
                tracing::debug!(
                    "{method} {} {} {} {} ms",
                    redact(&current),
                    resp.status().as_u16(),
                    content_length(resp.headers())
                        .map_or_else(|| "? bytes".to_string(), |n| format!("{n} bytes")),
                    sent.elapsed().as_millis()
                );
                // A third leg that went out on another connection than its challenge (the
                // pool had not taken that one back yet) is refused for that alone: the
                // handshake again. A third leg refused on its own connection is a refusal.
                if challenged_on.is_some()
                    && resp.status() == StatusCode::UNAUTHORIZED
                    && local_addr(&resp) != challenged_on
                    && handshakes < NTLM_HANDSHAKES
                {
                    let mut tap = self.tap(seen.as_ref(), &resp);
                    bounded_body(resp, &mut tap).await;
                    tracing::debug!(
                        "{} NTLM: the third leg went out on another connection than its challenge; again",
                        redact(&current)
                    );
                    continue;
                }
                break (resp, seen);
            };
            self.pacer.observe(resp.headers());
            let mut tap = self.tap(seen.as_ref(), &resp);
            let next = match redirect_target(&current, &resp) {
                None if resp.status() == StatusCode::NOT_MODIFIED
                    && matches!(want, Want::File(Some(_))) =>
                {
                    return Ok(Attempt::Done((Answer { resp, tap }, lane)));
                }
                None => {
                    return Ok(match self.answer(url, resp, tap).await? {
                        Attempt::Done(r) => Attempt::Done((r, lane)),
                        Attempt::Retry(r) => Attempt::Retry(r),
                    });
                }
                Some(Err(message)) => {
                    return Err(FetchError::Redirect {
                        url: redact(url),
                        message,
                    });
                }
                Some(Ok(next)) => next,
            };
            let status = resp.status().as_u16();
            bounded_body(resp, &mut tap).await;
            if auth::is_login_page(&next) {
                return Err(FetchError::NotSignedIn {
                    url: redact(url),
                    status,
                    asks: Vec::new(),
                    sent: self.sent_to(&current),
                    login_page: Some(redact(&next)),
                });
            }
            if matches!(want, Want::Post(_)) && !matches!(status, 307 | 308) {
                return Err(FetchError::Redirect {
                    url: redact(url),
                    message: format!(
                        "HTTP {status} to {}: a POST is not sent again after a 301, 302 or 303 (it would become a GET); give the URL it redirects to",
                        redact(&next)
                    ),
                });
            }
            if visited.contains(&next) {
                return Err(FetchError::Redirect {
                    url: redact(url),
                    message: format!(
                        "a redirect loop: {} leads back to {}",
                        redact(&current),
                        redact(&next)
                    ),
                });
            }
            if visited.len() > MAX_REDIRECTS {
                return Err(FetchError::Redirect {
                    url: redact(url),
                    message: format!("more than {MAX_REDIRECTS} redirects"),
                });
            }
            self.scope
                .check_redirect(&current, &next)
                .map_err(|refusal| self.refused(url, Some(&next), refusal))?;
            self.stats.redirects.fetch_add(1, Ordering::Relaxed);
            visited.push(next.clone());
            current = next;
        }
    }

    /// A final (not redirecting) response: success, a transient failure, or a permanent one.
    async fn answer(
        &self,
        url: &Url,
        resp: reqwest::Response,
        mut tap: Tap,
    ) -> Result<Attempt<Answer>, FetchError> {
        let status = resp.status();
        if matches!(status.as_u16(), 429 | 503) {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        }
        if is_transient_status(status.as_u16()) {
            let wait = retry::retry_after(resp.headers());
            bounded_body(resp, &mut tap).await;
            return Ok(Attempt::Retry(Retry {
                wait,
                why: format!("HTTP {status}"),
                unreachable: None,
            }));
        }
        let forms_sign_in = resp.headers().get("x-forms_based_auth_required");
        if status == StatusCode::UNAUTHORIZED
            || (status == StatusCode::FORBIDDEN && forms_sign_in.is_some())
        {
            let e = FetchError::NotSignedIn {
                url: redact(url),
                status: status.as_u16(),
                asks: auth::challenges(resp.headers()),
                sent: self.sent_to(resp.url()),
                login_page: forms_sign_in
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| Url::parse(v).ok())
                    .map(|u| redact(&u)),
            };
            bounded_body(resp, &mut tap).await;
            return Err(e);
        }
        if !status.is_success() {
            let body = bounded_body(resp, &mut tap).await;
            return Err(status_error(url, status, body));
        }
        Ok(Attempt::Done(Answer { resp, tap }))
    }

    /// What the observer is shown of a response to `seen`, and receives its body.
    fn tap(&self, seen: Option<&SentRequest>, resp: &reqwest::Response) -> Tap {
        let (Some(observer), Some(seen)) = (&self.observer, seen) else {
            return Tap::default();
        };
        let status = resp.status();
        Tap::new(Some(observer.exchange(&Exchange {
            method: &seen.method,
            url: &seen.url,
            request_headers: &seen.headers,
            request_body: &seen.body,
            version: http_version(resp.version()),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            response_headers: resp.headers(),
        })))
    }

    /// How a request to `url` signed in: the crawl's method on the site's own origin,
    /// anonymously anywhere else.
    fn sent_to(&self, url: &Url) -> AuthMethod {
        if self.scope.is_site(url) {
            self.credentials.method()
        } else {
            AuthMethod::Anonymous
        }
    }

    /// The first two legs of NTLM on `http` (a lane's client, whose one connection the third
    /// leg, the real request, reuses): sends a `NEGOTIATE_MESSAGE` to `url` and answers the
    /// server's challenge. `None` when the server asks for no NTLM handshake there (the real
    /// request then goes out unsigned, and a `401` to it is explained).
    async fn ntlm_handshake(
        &self,
        http: &reqwest::Client,
        url: &Url,
        account: &auth::Account,
    ) -> Result<Option<(String, Option<std::net::SocketAddr>)>, Retry> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let negotiate = format!("NTLM {}", auth::base64_encode(&ntlm::negotiate()));
        let resp = http
            .get(url.clone())
            .header(AUTHORIZATION, negotiate)
            .send()
            .await
            .map_err(|e| self.network_retry(&e))?;
        let challenge = (resp.status() == StatusCode::UNAUTHORIZED)
            .then(|| {
                resp.headers()
                    .get_all(reqwest::header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(|v| v.strip_prefix("NTLM "))
                    .and_then(auth::base64_decode)
                    .and_then(|m| ntlm::parse_challenge(&m))
            })
            .flatten();
        let on = local_addr(&resp);
        tracing::debug!(
            "GET {} {} (NTLM negotiate{}, connection from {})",
            redact(url),
            resp.status().as_u16(),
            if challenge.is_some() {
                ", challenged"
            } else {
                ", no challenge"
            },
            on.map_or_else(|| "?".to_string(), |a| a.to_string())
        );
        // Read the answer to its end, so its connection is free for the third leg, and let
        // the HTTP stack put it back in the lane's pool before the third leg is sent.
        let _ = error_body(resp).await;
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(challenge.map(|c| {
            let m = ntlm::authenticate(account, &c, ntlm::client_challenge(), ntlm::filetime_now());
            (format!("NTLM {}", auth::base64_encode(&m)), on)
        }))
    }

    fn refused(&self, url: &Url, redirected_to: Option<&Url>, refusal: Refusal) -> FetchError {
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        let e = FetchError::Refused {
            url: redact(url),
            redirected_to: redirected_to.map(redact),
            refusal,
        };
        tracing::debug!("{e}");
        e
    }

    /// A failure below HTTP, in words; always worth another attempt.
    fn network_retry(&self, e: &reqwest::Error) -> Retry {
        let mut why = if e.is_timeout() {
            format!(
                "timed out (a request may take {}s in all, --request-timeout, and wait {}s for a byte)",
                self.limits.request_timeout.as_secs(),
                self.limits.read_timeout.as_secs()
            )
        } else {
            e.to_string()
        };
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            why = format!("{why}: {s}");
            src = s.source();
        }
        Retry {
            wait: None,
            why,
            unreachable: Unreachable::of(e),
        }
    }

    /// One request for `url` within `within`, never retried: whether the site can be reached
    /// at all, before a crawl settles in to retry for minutes. A refused connection, an
    /// unknown host, TLS spoken to a plain-HTTP port and an untrusted certificate are
    /// [`FetchError::Unreachable`]; an HTTP error answer is returned as it is
    /// ([`FetchError::Status`]); anything else — an answer, a throttled one, a slow one —
    /// is `Ok`: retries deal with it later.
    pub async fn probe(&self, url: &Url, within: Duration) -> Result<(), FetchError> {
        let accept = "text/html,*/*;q=0.5";
        match tokio::time::timeout(within, self.attempt(url, Want::Page { accept })).await {
            Ok(Ok(Attempt::Retry(Retry {
                unreachable: Some(kind),
                ..
            }))) => Err(FetchError::Unreachable {
                url: redact(url),
                kind,
                message: kind.explain(url),
            }),
            Ok(Err(e @ FetchError::Status { .. })) => Err(e),
            // Read (within the error-body bound), so an observer keeps the whole answer.
            Ok(Ok(Attempt::Done((Answer { resp, mut tap }, _lane)))) => {
                bounded_body(resp, &mut tap).await;
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(_) => {
                tracing::info!(
                    "{} did not answer within {} s; going on, with the usual retries",
                    redact(url),
                    within.as_secs()
                );
                Ok(())
            }
        }
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
                Attempt::Retry(Retry { wait, why, .. }) => {
                    let delay = self.retry.delay(n, wait);
                    if n >= self.retry.max_attempts {
                        return Err(FetchError::GaveUp {
                            url: redact(url),
                            attempts: n,
                            last: why,
                        });
                    }
                    if waited + delay > self.retry.max_total_wait {
                        let asked = wait
                            .map(|w| format!(" (the server asked for {}s more)", w.as_secs()))
                            .unwrap_or_default();
                        return Err(FetchError::GaveUp {
                            url: redact(url),
                            attempts: n,
                            last: format!(
                                "{why}; waited {}s in all{asked}, and --max-wait allows {}s: raise --max-wait or try again later",
                                waited.as_secs(),
                                self.retry.max_total_wait.as_secs()
                            ),
                        });
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    // Said at the default level, so that a long wait never looks like a hang.
                    tracing::info!(
                        "retrying in {:.1} s: {why} from {} (attempt {} of {})",
                        delay.as_secs_f64(),
                        redact(url),
                        n + 1,
                        self.retry.max_attempts
                    );
                    tokio::time::sleep(delay).await;
                    waited += delay;
                }
            }
        }
    }
}

/// Where a redirect response points: `None` when it is not a redirect to follow (not 301,
/// 302, 303, 307 or 308, or without `Location`), an error when `Location` is not a URL.
fn redirect_target(current: &Url, resp: &reqwest::Response) -> Option<Result<Url, String>> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = resp.headers().get(reqwest::header::LOCATION)?;
    let target = location
        .to_str()
        .ok()
        .and_then(|l| current.join(l.trim()).ok());
    Some(target.ok_or_else(|| {
        format!(
            "HTTP {}: its Location `{}` is not a URL",
            resp.status().as_u16(),
            String::from_utf8_lossy(location.as_bytes())
        )
    }))
}

/// A reqwest client as every request of sharc wants it; `one_connection` keeps at most one idle
/// connection per host, so the legs of an NTLM handshake share theirs.
fn http_client(opts: &FetchOptions, one_connection: bool) -> Result<reqwest::Client, FetchError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(opts.user_agent.clone())
        .connect_timeout(opts.connect_timeout)
        .read_timeout(opts.read_timeout)
        .timeout(opts.request_timeout)
        // Redirects are followed by `attempt`, one hop at a time, each in scope.
        .redirect(reqwest::redirect::Policy::none())
        // Never decoded by reqwest, whatever features another crate of the build turns on:
        // fetch decodes pages itself, after an observer saw the bytes as received.
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .no_zstd();
    if one_connection {
        builder = builder.pool_max_idle_per_host(1);
    }
    builder
        .build()
        .map_err(|e| FetchError::Setup(e.to_string()))
}

/// Handshakes tried at most for one NTLM request whose third leg keeps missing its
/// challenge's connection.
const NTLM_HANDSHAKES: u32 = 3;

/// The local address of the connection an answer came on: which connection it was.
fn local_addr(resp: &reqwest::Response) -> Option<std::net::SocketAddr> {
    resp.extensions()
        .get::<hyper_util::client::legacy::connect::HttpInfo>()
        .map(|i| i.local_addr())
}

/// A header value holding a secret, marked sensitive so the HTTP stack never logs it.
fn secret_value(value: &str) -> Result<HeaderValue, FetchError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        FetchError::Setup("the credentials hold characters no HTTP header may carry".into())
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// NTLM authenticates a connection, not a request: each request signed with NTLM takes a
/// lane (clients keeping one idle connection each, for pages and for files) for itself, so
/// its three legs go out on one connection; the lane goes back when the answer is read.
struct Lanes {
    opts: FetchOptions,
    idle: std::sync::Mutex<Vec<(reqwest::Client, reqwest::Client)>>,
}

/// A lane leased for one request; back to its [`Lanes`] on drop.
struct Lane {
    pages: reqwest::Client,
    files: reqwest::Client,
    home: Arc<Lanes>,
}

impl Lanes {
    fn lease(self: &Arc<Self>) -> Result<Lane, FetchError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (pages, files) = match idle {
            Some(pair) => pair,
            None => (
                http_client(&self.opts, true)?,
                http_client(&self.opts, true)?,
            ),
        };
        Ok(Lane {
            pages,
            files,
            home: Arc::clone(self),
        })
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        let mut idle = self.home.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.home.opts.concurrency.max(1) {
            idle.push((self.pages.clone(), self.files.clone()));
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn truncated(got: u64, expected: u64) -> Retry {
    Retry {
        wait: None,
        why: format!("body truncated: {got} of {expected} bytes"),
        unreachable: None,
    }
}

/// Says so when a file asked for as `identity` came compressed: it is stored as sent.
fn note_encoding(url: &Url, headers: &HeaderMap) {
    let encoding = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    if let Some(e) = encoding {
        tracing::warn!(
            "{}: served with Content-Encoding: {e} although asked for identity; stored as sent, still encoded",
            redact(url)
        );
    }
}

fn status_error(url: &Url, status: StatusCode, mut body: Vec<u8>) -> FetchError {
    body.truncate(ERROR_BODY_LIMIT);
    FetchError::Status {
        url: redact(url),
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
        300..=399 => Some("a redirect sharc cannot follow: no Location to go to"),
        _ => None,
    }
}

/// At most [`ERROR_BODY_LIMIT`] bytes of an error response; the rest is never read.
async fn error_body(resp: reqwest::Response) -> Vec<u8> {
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

/// At most [`ERROR_BODY_LIMIT`] bytes of an answer that is not read as a page or file (an
/// error, a throttling answer, a redirect), shown to the observer; the rest is never read.
async fn bounded_body(resp: reqwest::Response, tap: &mut Tap) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    let mut end = BodyEnd::Cut;
    loop {
        match stream.next().await {
            None => {
                end = BodyEnd::Complete;
                break;
            }
            Some(Err(_)) => break,
            Some(Ok(chunk)) => {
                let room = ERROR_BODY_LIMIT - body.len();
                let kept = &chunk[..chunk.len().min(room)];
                tap.chunk(kept);
                body.extend_from_slice(kept);
                if kept.len() < chunk.len() {
                    break;
                }
            }
        }
    }
    std::mem::take(tap).end(end);
    body
}

/// A request as it goes on the wire, for the observer: reqwest adds no header of its own
/// (no default headers, no compression), and hyper adds `Host`, and `Content-Length` for a
/// body.
struct SentRequest {
    method: String,
    url: Url,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl SentRequest {
    fn of(request: &reqwest::Request) -> Self {
        let url = request.url().clone();
        let mut headers = HeaderMap::new();
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => String::new(),
        };
        if let Ok(v) = HeaderValue::from_str(&host) {
            headers.insert(HOST, v);
        }
        for (name, value) in request.headers() {
            headers.append(name, value.clone());
        }
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        if request.method() == reqwest::Method::POST {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        Self {
            method: request.method().as_str().to_string(),
            url,
            headers,
            body,
        }
    }
}

fn http_version(v: reqwest::Version) -> &'static str {
    match v {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}
