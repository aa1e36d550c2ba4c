//! The sample portal as an HTTP server on 127.0.0.1, started in-process.
//!
//! `sharc serve`, `sharc demo` and the tests all go through [`RunningPortal::serve`], so the
//! crawler is exercised against one emulator only. It is plain hyper, HTTP/1.1, one task per
//! connection. Every request passes through a single handler that parses the raw path
//! itself: SharePoint's URL grammar (quoted literals holding slashes, case-insensitive
//! `/_api/`, aliases) does not fit a router's patterns. The handler is also the one place
//! where farm-wide behaviour is decided before a route runs — the API access mode (open, 401,
//! 403) and the injected faults of [`FaultPlan`](crate::FaultPlan) (throttling, 503 bursts,
//! cut bodies, slow answers; see [`crate::faults`]). In the SharePoint 2010 mode `/_api`
//! answers 404 and the SOAP web services (`/_vti_bin/Lists.asmx`, …; see `soap`) read their
//! envelope from the request body. What the requests share lives in `state`, below the
//! routes.

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::api;
use super::auth;
use super::body::Response;
use super::changes;
use super::data::Portal;
use super::error::SampleError;
use super::faults;
use super::files::{self, Lookup};
use super::odata::{decode, encode_path};
use super::soap;
use super::state::{ApiAccess, Live, PortalOptions, RequestLog, Shared, snapshot};

/// A sample portal answering on 127.0.0.1 until [`RunningPortal::shutdown`] (or drop).
pub struct RunningPortal {
    /// `http://127.0.0.1:PORT/`.
    pub base_url: url::Url,
    live: Arc<Live>,
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
        let web_url = format!("{origin}{}", encode_path(&web_path));
        let mut portal = opts.farm.apply(portal);
        if let Some(n) = opts.items {
            changes::grow(&mut portal, n);
        }
        let log_file = match &opts.request_log {
            Some(path) => {
                Some(
                    std::fs::File::create(path).map_err(|source| SampleError::RequestLog {
                        path: path.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let mut shared = Shared::new(portal, opts, origin, web_url, web_path);
        shared.log_file = log_file.map(|f| Arc::new(std::sync::Mutex::new(f)));
        let live = Arc::new(Live::new(shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&live), stopped));
        tracing::info!(url = %base_url, "sample portal listening");
        Ok(RunningPortal {
            base_url,
            live,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RequestLog> {
        snapshot(&self.live).lock_log().clone()
    }

    /// Applies the deterministic change of `POST /_sharc/change` (see [`crate::changes`])
    /// as that request would, whether or not the portal serves the endpoint; `None` when it
    /// was applied already.
    pub fn change(&self) -> Option<changes::ChangeSummary> {
        changes::change(&self.live)
    }

    /// Edits every `step`th item of the largest list (a new title, a new version); returns
    /// the ids edited.
    pub fn edit_every(&self, step: usize) -> Vec<i64> {
        changes::edit_every(&self.live, step)
    }

    /// Counts one more view of every item, as `POST /_sharc/views` does.
    pub fn count_views(&self) {
        changes::views(&self.live)
    }

    /// How many requests had a path (and query) starting with `path_prefix`, compared as
    /// received (percent-encoded, case-sensitive).
    pub fn hits(&self, path_prefix: &str) -> usize {
        snapshot(&self.live)
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

/// Accepts connections until `stopped` fires (or its sender is dropped), serving each on its
/// own task; then waits for the open ones to finish their answers.
async fn accept_loop(listener: TcpListener, live: Arc<Live>, mut stopped: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    let mut accepted_so_far = 0u64;
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
        accepted_so_far += 1;
        let conn = Arc::new(Conn {
            id: accepted_so_far,
            auth: auth::Connection::default(),
        });
        let live = Arc::clone(&live);
        let service = service_fn(move |request| {
            let live = Arc::clone(&live);
            let conn = Arc::clone(&conn);
            async move {
                // The control endpoints change the farm; they are not part of it, so they
                // are neither logged nor counted.
                if let Some(answer) = changes::control(&live, &request) {
                    return Ok::<_, Infallible>(answer);
                }
                let shared = snapshot(&live);
                let mut answer = handle(&shared, &conn, request).await;
                // hyper writes its own Date only when the answer has none.
                if let Some(at) = shared.opts.frozen_at
                    && let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(at))
                {
                    answer.headers_mut().insert(header::DATE, date);
                }
                Ok::<_, Infallible>(answer)
            }
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

/// One accepted TCP connection: its number and what NTLM remembers on it.
struct Conn {
    id: u64,
    auth: auth::Connection,
}

async fn handle(shared: &Shared, conn: &Conn, request: Request<Incoming>) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    // The sign-in gate, when the portal wants one: who the reader is decides what they see.
    let public;
    let (shared, signed_in) = match &shared.opts.auth {
        None => (shared, false),
        Some(_) if uri.path().eq_ignore_ascii_case(auth::LOGIN_PATH) => {
            return answered(shared, conn, &method, path_and_query, auth::login_page());
        }
        Some(opts) => {
            let headers = request.headers();
            match auth::gate(opts, &shared.uses, &conn.auth, &path_and_query, headers) {
                auth::Reader::SignedIn => (shared, true),
                auth::Reader::Anonymous => {
                    public = shared.public_view();
                    (&public, false)
                }
                auth::Reader::TurnedAway(response) => {
                    return answered(shared, conn, &method, path_and_query, response);
                }
            }
        }
    };
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let accept = header(header::ACCEPT);
    let conditional = files::Conditional {
        if_none_match: header(header::IF_NONE_MATCH),
        if_modified_since: header(header::IF_MODIFIED_SINCE),
    };
    // SharePoint 2010's web services read a SOAP envelope from the request body.
    let service = shared
        .opts
        .sp2010
        .and_then(|_| soap::service(&shared.web_path, uri.path()));
    let soap_call = match service {
        Some(service) => {
            let action = header(header::HeaderName::from_static("soapaction"));
            let limited = http_body_util::Limited::new(request.into_body(), SOAP_BODY_LIMIT);
            match http_body_util::BodyExt::collect(limited).await {
                Ok(body) => Some((service, action, body.to_bytes())),
                Err(_) => return files::html_status(StatusCode::BAD_REQUEST),
            }
        }
        None => None,
    };
    let is_api = api_remainder(&shared.web_path, uri.path()).is_some() || soap_call.is_some();
    let answer = async {
        match &soap_call {
            Some((service, action, body)) => {
                soap_answer(shared, *service, &method, action.as_deref(), body)
            }
            None => {
                let asked = Asked {
                    accept: accept.as_deref(),
                    conditional: &conditional,
                };
                dispatch(shared, &method, uri.path(), uri.query(), asked).await
            }
        }
    };
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
    log(shared, conn, &method, path_and_query, status, signed_in);
    response
}

/// Stamps, logs and returns the sign-in gate's answer, given before any route ran.
fn answered(
    shared: &Shared,
    conn: &Conn,
    method: &Method,
    path_and_query: String,
    mut response: Response,
) -> Response {
    shared.stamp(&mut response);
    let status = response.status().as_u16();
    log(shared, conn, method, path_and_query, status, false);
    response
}

fn log(
    shared: &Shared,
    conn: &Conn,
    method: &Method,
    path_and_query: String,
    status: u16,
    signed_in: bool,
) {
    tracing::debug!(%method, %path_and_query, status, "sample portal");
    shared.log(RequestLog {
        method: method.to_string(),
        path_and_query,
        status,
        connection: conn.id,
        signed_in,
    });
}

/// The largest SOAP request body read: 1 MiB.
const SOAP_BODY_LIMIT: usize = 1024 * 1024;

/// A call to a web service of the 2010 mode, behind the same access gate as `/_api`.
fn soap_answer(
    shared: &Shared,
    service: soap::Service,
    method: &Method,
    action: Option<&str>,
    body: &[u8],
) -> Response {
    if shared.opts.api == ApiAccess::Unauthorized401 {
        return unauthorized();
    }
    soap::handle(shared, service, method, action, body)
}

/// What the request's headers ask of the answer.
#[derive(Clone, Copy)]
struct Asked<'a> {
    accept: Option<&'a str>,
    conditional: &'a files::Conditional,
}

async fn dispatch(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    asked: Asked<'_>,
) -> Response {
    let accept = asked.accept;
    if let Some(rest) = api_remainder(&shared.web_path, path) {
        // SharePoint 2010 has no REST API at all.
        if shared.opts.sp2010.is_some() {
            return files::html_status(StatusCode::NOT_FOUND);
        }
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
            if asked.conditional.not_modified(&target) {
                return files::not_modified(&target);
            }
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
