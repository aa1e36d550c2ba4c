//! What every request of one running portal shares: the loaded portal, the behaviour
//! switches ([`PortalOptions`]), the request log, the fault schedule and the view counters.
//!
//! It sits below the routes (`api`, `html`, `files`) and the server that dispatches to them,
//! so each of them can read it without reaching back up.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use hyper::header::HeaderName;

use super::auth::{self, AuthOptions, Uses};
use super::body::Response;
use super::data::Portal;
use super::farm::Farm;
use super::faults::{FaultPlan, Schedule};
use super::files;
use super::soap::{self, Sp2010};

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
    /// More `Disallow:` lines for robots.txt, each a path prefix as written there.
    pub html_robots_disallow: Vec<String>,
    /// Which farm to answer as: the Long An sample, or another portal of the same content
    /// type on a Vietnamese-language farm (see [`Farm`]).
    pub farm: Farm,
    /// `Some`: answer as SharePoint 2010 — `/_api` is 404, the lists are read through the
    /// SOAP web services (`/_vti_bin/Lists.asmx`), and `MicrosoftSharePointTeamServices`
    /// says 14 (see [`Sp2010`]).
    pub sp2010: Option<Sp2010>,
    /// Also write every request answered to this file, one line each as it is answered:
    /// method, status, path and query as received (`GET 200 /Lists/…`).
    pub request_log: Option<PathBuf>,
    /// `POST /_sharc/change` and `POST /_sharc/views` change the portal between two runs of
    /// a client (see `changes`); off, both answer 404 like any unknown path.
    pub allow_changes: bool,
    /// `Some`: every answer's `Date` header says this instant instead of the clock's, so
    /// that captures of two runs (`sharc demo --warc`) hold the same bytes.
    pub frozen_at: Option<std::time::SystemTime>,
    /// `Some(n)`: the largest list grown to `n` items, copies of its own (see `changes`).
    pub items: Option<usize>,
    /// `Some`: readers must sign in this way (see [`crate::auth`]); signed-in readers also
    /// see the drafts and pending items anonymous readers do not.
    pub auth: Option<AuthOptions>,
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
            html_robots_disallow: Vec::new(),
            farm: Farm::LongAn,
            sp2010: None,
            request_log: None,
            allow_changes: false,
            frozen_at: None,
            items: None,
            auth: None,
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
    /// [`STATUS_RESET`](crate::faults::STATUS_RESET) or
    /// [`STATUS_TRUNCATED`](crate::faults::STATUS_TRUNCATED) (the wire said 200).
    pub status: u16,
    /// The TCP connection it came on, numbered from 1 in the order they were accepted.
    pub connection: u64,
    /// Whether it came signed in (always `false` when the portal requires no sign-in).
    pub signed_in: bool,
}

/// State shared by every request: a snapshot of the portal as it stands, with the counters
/// every snapshot shares. Cheap to clone; a change replaces the portal of the live snapshot
/// ([`Live`]), and requests already running keep the one they started with.
#[derive(Clone)]
pub(crate) struct Shared {
    /// The loaded sample, as changed so far.
    pub portal: Arc<Portal>,
    /// The behaviour switches.
    pub opts: PortalOptions,
    /// `http://127.0.0.1:PORT`, the value of `{{site}}` in item values.
    pub origin: String,
    /// The web's absolute URL without a trailing slash (`origin` for a root site).
    pub web_url: String,
    /// The web's server-relative URL without a trailing slash (empty for a root site).
    pub web_path: String,
    log: Arc<Mutex<Vec<RequestLog>>>,
    /// The file [`PortalOptions::request_log`] names, open.
    pub log_file: Option<Arc<Mutex<std::fs::File>>>,
    counter: Arc<AtomicU64>,
    /// Where the fault schedule stands (request numbers, runs of faults).
    pub schedule: Arc<Schedule>,
    /// Views of each public article page, for its "Lượt người xem".
    pub page_views: Arc<PageViews>,
    /// Changes applied so far by `POST /_sharc/change` (0 or 1).
    pub changes: u32,
    /// Signed-in requests answered, for credentials that expire.
    pub uses: Arc<Uses>,
}

/// The snapshot new requests are answered from; a change swaps it.
pub(crate) type Live = RwLock<Shared>;

/// The snapshot to answer the next request from.
pub(crate) fn snapshot(live: &Live) -> Shared {
    live.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Shared {
    /// The state of a portal about to be served.
    pub fn new(
        portal: Portal,
        opts: PortalOptions,
        origin: String,
        web_url: String,
        web_path: String,
    ) -> Shared {
        Shared {
            portal: Arc::new(portal),
            opts,
            origin,
            web_url,
            web_path,
            log: Arc::default(),
            log_file: None,
            counter: Arc::default(),
            schedule: Arc::default(),
            page_views: Arc::default(),
            changes: 0,
            uses: Arc::default(),
        }
    }

    /// This snapshot as anonymous readers of a portal that wants a sign-in see it: approved
    /// items only; the log, the counters and the fault schedule stay shared.
    pub fn public_view(&self) -> Shared {
        let mut portal = (*self.portal).clone();
        for list in &mut portal.lists {
            list.items.retain(|_, item| auth::approved(&item.values));
        }
        Shared {
            portal: Arc::new(portal),
            ..self.clone()
        }
    }

    /// The requests answered so far.
    pub fn lock_log(&self) -> std::sync::MutexGuard<'_, Vec<RequestLog>> {
        // A panic elsewhere must not hide the log from the test that wants to read it.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs one request answered: in memory, and in the request log file when there is one.
    pub fn log(&self, entry: RequestLog) {
        if let Some(file) = &self.log_file {
            let line = format!(
                "{} {} {}\n",
                entry.method, entry.status, entry.path_and_query
            );
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = file.write_all(line.as_bytes()) {
                tracing::warn!(error = %e, "sample portal: cannot write the request log");
            }
        }
        self.lock_log().push(entry);
    }

    /// Adds the headers a SharePoint farm sends on every answer.
    pub fn stamp(&self, response: &mut Response) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let guid = format!("5ca1ab1e-a0b1-4c2d-8e3f-{n:012x}");
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: &str| {
            headers.insert(HeaderName::from_static(name), files::header_value(value));
        };
        let version = match self.opts.sp2010 {
            Some(_) => soap::VERSION,
            None => &self.portal.site.version,
        };
        set("microsoftsharepointteamservices", version);
        set("sprequestguid", &guid);
        set("request-id", &guid);
        let health = self.opts.faults.health_score.unwrap_or(0).to_string();
        set("x-sharepointhealthscore", &health);
        set("spclientservicerequestduration", "4");
        set("x-ms-invokeapp", "1; RequireReadOnly");
    }
}

/// View counters: how many times each article page was served.
#[derive(Debug, Default)]
pub(crate) struct PageViews(Mutex<HashMap<(String, i64), i64>>);

impl PageViews {
    /// Counts one more view and returns the views served so far.
    pub fn bump(&self, list: &str, id: i64) -> i64 {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry((list.to_string(), id)).or_insert(0);
        *n += 1;
        *n
    }
}
