//! The sample portal as an HTTP server on 127.0.0.1, started in-process.
//!
//! `sharc serve`, `sharc demo` and the tests all go through [`RunningPortal::serve`], so the
//! crawler is exercised against one emulator only. It is plain hyper, HTTP/1.1, one task per
//! connection. Every request passes through a single handler that parses the raw path
//! itself: SharePoint's URL grammar (quoted literals holding slashes, case-insensitive
//! `/_api/`, aliases) does not fit a router's patterns. The handler is also the one place
//! where farm-wide behaviour is decided before a route runs — the API access mode (open, 401, 403) and the injected faults of
//! [`FaultPlan`] (throttling, 503 bursts, cut bodies, slow answers; see [`super::faults`]).

use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::api;
use super::body::{self, Response};
use super::data::Portal;
use super::error::SampleError;
use super::faults::{self, FaultPlan, Schedule};
use super::files::{self, Lookup};
use super::odata::{decode, encode_path};

/// How the emulated farm behaves. Build it with `..Default::default()` so that switches added
/// later keep old code compiling.
#[derive(Debug, Clone)]
pub struct PortalOptions {
    /// `true`: JSON Light is installed (verbose, minimalmetadata and nometadata are served;
    /// plain `application/json` means minimalmetadata). `false`: SharePoint 2013 before SP1,
    /// which answers only `application/json;odata=verbose` and rejects the rest with 406.
    pub json_light: bool,
    /// Whether `/_api` is open to the client; files are served in every mode.
    pub api: ApiAccess,
    /// Items per page when `$top` is absent (SharePoint: 100).
    pub default_page_size: usize,
    /// The largest `$top` accepted (SharePoint: 5000); larger values get a 400.
    pub max_page_size: usize,
    /// Injected faults (throttling, bursts, cut bodies, …); the default injects none.
    pub faults: FaultPlan,
    /// Articles per page of the public news list (`TongQuat.aspx`).
    pub html_page_size: usize,
    /// The public news list offers a "next" link on every page, even past the last one.
    pub html_endless_paging: bool,
    /// This item's public page is served in windows-1258, declared only in `<meta>`.
    pub html_windows_1258_item: Option<i64>,
    /// `Crawl-delay` in robots.txt, in seconds (`None`: no such line).
    pub html_crawl_delay: Option<f64>,
}

impl Default for PortalOptions {
    fn default() -> Self {
        PortalOptions {
            json_light: true,
            api: ApiAccess::Open,
            default_page_size: 100,
            max_page_size: 5000,
            faults: FaultPlan::default(),
            html_page_size: 10,
            html_endless_paging: false,
            html_windows_1258_item: Some(3),
            html_crawl_delay: Some(0.0),
        }
    }
}

/// How the farm answers `/_api` requests of an anonymous client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiAccess {
    /// Every request is answered.
    #[default]
    Open,
    /// 401 with `WWW-Authenticate: NTLM` and the body `401 UNAUTHORIZED`.
    Unauthorized401,
    /// 403 with `System.UnauthorizedAccessException` ("Access denied. …").
    Forbidden403,
}

/// One request the portal answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLog {
    /// The HTTP method (`GET`, `HEAD`, ...).
    pub method: String,
    /// The path and query exactly as received (still percent-encoded).
    pub path_and_query: String,
    /// The HTTP status of the answer; for a body cut short by an injected fault,
    /// [`faults::STATUS_RESET`] or [`faults::STATUS_TRUNCATED`] (the wire said 200).
    pub status: u16,
}

/// State shared by every request.
pub(crate) struct Shared {
    /// The loaded sample.
    pub portal: Portal,
    /// The behaviour switches.
    pub opts: PortalOptions,
    /// `http://127.0.0.1:PORT`, the value of `{{site}}` in item values.
    pub origin: String,
    /// The web's absolute URL without a trailing slash (`origin` for a root site).
    pub web_url: String,
    /// The web's server-relative URL without a trailing slash (empty for a root site).
    pub web_path: String,
    log: Mutex<Vec<RequestLog>>,
    counter: AtomicU64,
    /// Where the fault schedule stands (request numbers, runs of faults).
    pub schedule: Schedule,
    /// Views of each public article page, for its "Lượt người xem".
    pub page_views: super::html::PageViews,
}

/// A sample portal answering on 127.0.0.1 until [`RunningPortal::shutdown`] (or drop).
pub struct RunningPortal {
    /// `http://127.0.0.1:PORT/`.
    pub base_url: url::Url,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningPortal {
    /// Loads the portal in `dir` and serves it on `127.0.0.1:port` (`0` = any free port).
    pub async fn start(
        dir: &Path,
        opts: PortalOptions,
        port: u16,
    ) -> Result<RunningPortal, SampleError> {
        // Loading reads many small files; keep it off the async worker threads.
        let owned = dir.to_path_buf();
        let portal = tokio::task::spawn_blocking(move || Portal::load(&owned))
            .await
            .map_err(|e| SampleError::Read {
                path: dir.to_path_buf(),
                source: std::io::Error::other(e),
            })??;
        RunningPortal::serve(portal, opts, port).await
    }

    /// Serves the Long An sample compiled into this crate ([`Portal::built_in`]) on
    /// `127.0.0.1:port` (`0` = any free port).
    pub async fn start_built_in(
        opts: PortalOptions,
        port: u16,
    ) -> Result<RunningPortal, SampleError> {
        RunningPortal::serve(Portal::built_in()?, opts, port).await
    }

    /// Serves a loaded portal on `127.0.0.1:port` (`0` = any free port).
    pub async fn serve(
        portal: Portal,
        opts: PortalOptions,
        port: u16,
    ) -> Result<RunningPortal, SampleError> {
        let addr = format!("127.0.0.1:{port}");
        let bind_error = |source| SampleError::Bind {
            addr: addr.clone(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let origin = format!("http://127.0.0.1:{}", local.port());
        let base_url = url::Url::parse(&format!("{origin}/"))
            .map_err(|e| bind_error(std::io::Error::other(e)))?;
        let web_path = portal
            .site
            .server_relative_url
            .trim_end_matches('/')
            .to_owned();
        let web_path = if web_path.is_empty() || web_path.starts_with('/') {
            web_path
        } else {
            format!("/{web_path}")
        };
        let shared = Arc::new(Shared {
            web_url: format!("{origin}{}", encode_path(&web_path)),
            origin,
            web_path,
            portal,
            opts,
            log: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
            schedule: Schedule::default(),
            page_views: Default::default(),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), stopped));
        tracing::info!(url = %base_url, "sample portal listening");
        Ok(RunningPortal {
            base_url,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.shared.lock_log().clone()
    }

    /// How many requests had a path (and query) starting with `path_prefix`, compared as
    /// received (percent-encoded, case-sensitive).
    pub fn hits(&self, path_prefix: &str) -> usize {
        self.shared
            .lock_log()
            .iter()
            .filter(|r| r.path_and_query.starts_with(path_prefix))
            .count()
    }

    /// Stops accepting connections and waits (at most five seconds) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            let wait = tokio::time::timeout(std::time::Duration::from_secs(5), &mut task).await;
            if wait.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for RunningPortal {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Shared {
    fn lock_log(&self) -> std::sync::MutexGuard<'_, Vec<RequestLog>> {
        // A panic elsewhere must not hide the log from the test that wants to read it.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the headers a SharePoint farm sends on every answer.
    fn stamp(&self, response: &mut Response) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let guid = format!("5ca1ab1e-a0b1-4c2d-8e3f-{n:012x}");
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: &str| {
            headers.insert(HeaderName::from_static(name), files::header_value(value));
        };
        set("microsoftsharepointteamservices", &self.portal.site.version);
        set("sprequestguid", &guid);
        set("request-id", &guid);
        let health = self.opts.faults.health_score.unwrap_or(0).to_string();
        set("x-sharepointhealthscore", &health);
        set("spclientservicerequestduration", "4");
        set("x-ms-invokeapp", "1; RequireReadOnly");
    }
}

/// Accepts connections until `stopped` fires (or its sender is dropped), serving each on its
/// own task; then waits for the open ones to finish their answers.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "sample portal: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stopped => break,
        };
        let shared = Arc::clone(&shared);
        let service = service_fn(move |request| {
            let shared = Arc::clone(&shared);
            async move { Ok::<_, Infallible>(handle(&shared, request).await) }
        });
        let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                // Injected resets and cut bodies end here, as do clients that hang up.
                tracing::debug!(error = %e, "sample portal: connection ended early");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    let is_api = api_remainder(&shared.web_path, uri.path()).is_some();
    let answer = dispatch(shared, &method, uri.path(), uri.query(), accept.as_deref());
    // The fault gate: may replace the answer (429, 503) or cut its body short.
    let (mut response, status) = faults::apply(
        &shared.opts.faults,
        &shared.schedule,
        &method,
        &path_and_query,
        is_api,
        answer,
    )
    .await;
    shared.stamp(&mut response);
    tracing::debug!(%method, %path_and_query, status, "sample portal");
    shared.lock_log().push(RequestLog {
        method: method.to_string(),
        path_and_query,
        status,
    });
    response
}

async fn dispatch(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    accept: Option<&str>,
) -> Response {
    if let Some(rest) = api_remainder(&shared.web_path, path) {
        // The farm-wide gate: decided before any route runs.
        match shared.opts.api {
            ApiAccess::Open => {}
            ApiAccess::Unauthorized401 => return unauthorized(),
            ApiAccess::Forbidden403 => return api::access_denied(shared, accept),
        }
        return api::handle(shared, method, rest, query, accept).await;
    }
    if method != Method::GET && method != Method::HEAD {
        return files::html_status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let mut segments = Vec::new();
    for raw in path.split('/').skip(1) {
        match decode(raw) {
            Ok(s) => segments.push(s),
            Err(_) => return files::html_status(StatusCode::BAD_REQUEST),
        }
    }
    // The public pages (news list, articles, robots.txt); see super::html.
    if let Some(page) = super::html::route(shared, method, &segments, query) {
        return page;
    }
    match files::resolve(&shared.portal, &shared.web_path, &segments) {
        Lookup::Found(target) => {
            let content_type = files::content_type(&target.name);
            faults::respond_file(&shared.opts.faults, &target, content_type).await
        }
        Lookup::NotFound => files::html_status(StatusCode::NOT_FOUND),
        Lookup::Refused => files::html_status(StatusCode::BAD_REQUEST),
    }
}

/// The raw path after `<web>/_api/` (matched case-insensitively), if it is an API path.
fn api_remainder<'a>(web_path: &str, path: &'a str) -> Option<&'a str> {
    let prefix = format!("{}/_api", encode_path(web_path)).to_ascii_lowercase();
    let head = path.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(&prefix) {
        return None;
    }
    let rest = &path[prefix.len()..];
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('/')
    }
}

fn unauthorized() -> Response {
    let mut response = files::plain(StatusCode::UNAUTHORIZED, "401 UNAUTHORIZED");
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
    response
}

/// A response with a status, content type and body.
pub(crate) fn text_response(status: u16, content_type: &'static str, body: String) -> Response {
    let mut response = body::response(body::full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_match_case_insensitively() {
        assert_eq!(api_remainder("", "/_api/web"), Some("web"));
        assert_eq!(api_remainder("", "/_API/Web/Lists"), Some("Web/Lists"));
        assert_eq!(api_remainder("", "/_api"), Some(""));
        assert_eq!(api_remainder("", "/_apix/web"), None);
        assert_eq!(api_remainder("", "/Lists/_api/web"), None);
        assert_eq!(api_remainder("/sites/x", "/sites/X/_api/web"), Some("web"));
        assert_eq!(api_remainder("/sites/x", "/_api/web"), None);
        assert_eq!(api_remainder("", "/_ap"), None);
    }
}
