//! The hostile farm: a small HTTP/1.1 server on raw TCP (127.0.0.1), so that it can
//! misbehave below HTTP — drip one byte at a time, lie about Content-Length, reset the
//! connection, stream an endless chunked body — besides answering as a SharePoint portal.
//!
//! Every request is logged (listener, target, Host, headers, time), so a test can assert
//! what was fetched and what was not. A second listener stands for "another host": reach it
//! as `localhost:<port>` (another host name) or `127.0.0.1:<port>` (the same host on another
//! port); it answers everything with bytes and JSON worth stealing, and logs like the first.

use super::portal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the farm answers to one request.
#[derive(Clone)]
pub enum Reply {
    /// JSON with this status (`application/json;odata=nometadata`).
    Json(u16, Value),
    /// Any status, headers and body; Content-Length is added.
    Raw {
        /// Status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// A redirect to `location`.
    Redirect(u16, String),
    /// A chunked JSON items page of `total` bytes, generated on the fly.
    ChunkedItems {
        /// Bytes in all.
        total: u64,
    },
    /// Content-Length `length`, then one byte every `every`.
    Drip {
        /// Pause between bytes.
        every: Duration,
        /// Announced length.
        length: u64,
    },
    /// Announces `announced` bytes, sends `body`, closes.
    Truncated {
        /// Content-Length.
        announced: u64,
        /// What is really sent.
        body: Vec<u8>,
    },
    /// Reads the request, then resets the connection.
    Reset,
    /// Waits, then answers.
    Delay(Duration, Box<Reply>),
}

impl Reply {
    /// Bytes with a content type.
    pub fn bytes(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Reply::Raw {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// HTML, UTF-8.
    pub fn html(body: impl Into<String>) -> Self {
        Reply::bytes("text/html; charset=utf-8", body.into().into_bytes())
    }

    /// A SharePoint error body with this status.
    pub fn sp_error(status: u16, message: &str) -> Self {
        Reply::Json(
            status,
            json!({"odata.error": {"code": "-2130575338, Microsoft.SharePoint.SPException",
                                   "message": {"lang": "en-US", "value": message}}}),
        )
    }
}

/// One request as the farm saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When it arrived (its head fully read).
    pub at: Instant,
    /// `farm` or `other`.
    pub listener: &'static str,
    /// The request target as sent (path and query, percent-encoded).
    pub target: String,
    /// The Host header.
    pub host: String,
    /// Every header, names lowercase.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The target's path, percent-decoded.
    pub fn path(&self) -> String {
        let p = self.target.split('?').next().unwrap_or("");
        decode(p)
    }
}

/// A request handed to a test's override.
pub struct Request<'a> {
    /// The target as sent.
    pub target: &'a str,
    /// The path, percent-decoded.
    pub path: String,
    /// The query, as sent.
    pub query: Option<&'a str>,
}

type Override = Arc<dyn Fn(&Request<'_>) -> Option<Reply> + Send + Sync>;
type NextLink = Arc<dyn Fn(usize, Option<String>) -> Option<String> + Send + Sync>;

/// What the farm serves.
#[derive(Clone)]
pub struct Plan {
    /// Items in list order (raw JSON, served as is).
    pub items: Vec<Value>,
    /// Files by percent-decoded path (plus `?query` as sent, when there is one).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Items per page when the request has no `$top`.
    pub page_size: usize,
    /// The list title the portal reports.
    pub list_title: String,
    /// Rewrites the next link of page `n` (0-based); gets the farm's own.
    pub next_link: Option<NextLink>,
    /// Hrefs on the public news list page.
    pub list_links: Vec<String>,
    /// Article pages by item id, for the HTML source (items are used when absent).
    pub articles: BTreeMap<i64, String>,
    /// Answers tried before the portal's own.
    pub overrides: Vec<Override>,
    /// A pause before every file answer (slow farms for kill and lock tests).
    pub file_delay: Option<Duration>,
}

impl Plan {
    /// A portal with good items `1..=n`, their files, and links to them on the list page.
    pub fn good(n: i64) -> Self {
        Self::good_with_prefix(n, "")
    }

    /// Like [`Plan::good`], titles starting with `prefix`.
    pub fn good_with_prefix(n: i64, prefix: &str) -> Self {
        let mut plan = Plan {
            items: Vec::new(),
            files: BTreeMap::new(),
            page_size: 100,
            list_title: portal::LIST_TITLE.into(),
            next_link: None,
            list_links: Vec::new(),
            articles: BTreeMap::new(),
            overrides: Vec::new(),
            file_delay: None,
        };
        for id in 1..=n {
            plan.add_good_item(id, prefix);
        }
        plan
    }

    /// Adds good item `id` with its files and list link.
    pub fn add_good_item(&mut self, id: i64, prefix: &str) {
        self.items.push(portal::good_item(id, prefix));
        for f in portal::good_item_files(id) {
            let bytes = portal::file_bytes(&f);
            self.files.insert(f, bytes);
        }
        self.list_links
            .push(format!("/Lists/TinTucSuKien/DispForm.aspx?ID={id}"));
    }

    /// Adds `item` (raw JSON) with its picture and body picture and its list link; its
    /// attachments are whatever the JSON says (serve them with [`Plan::at`] or `files`).
    pub fn add_item(&mut self, item: Value) {
        if let Some(id) = item.get("Id").and_then(Value::as_i64) {
            for f in [portal::image_path(id), portal::body_image_path(id)] {
                let bytes = portal::file_bytes(&f);
                self.files.insert(f, bytes);
            }
            self.list_links
                .push(format!("/Lists/TinTucSuKien/DispForm.aspx?ID={id}"));
        }
        self.items.push(item);
    }

    /// Serves `bytes` at the decoded path (plus `?query` as sent) `path`.
    pub fn file(&mut self, path: &str, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(path.to_string(), bytes.into());
        self
    }

    /// Makes `a` and `b` redirect to each other.
    pub fn redirect_loop(&mut self, a: &str, b: &str) -> &mut Self {
        self.at(a, Reply::Redirect(302, b.to_string()));
        self.at(b, Reply::Redirect(302, a.to_string()))
    }

    /// Adds an answer tried before the portal's own.
    pub fn on(
        &mut self,
        f: impl Fn(&Request<'_>) -> Option<Reply> + Send + Sync + 'static,
    ) -> &mut Self {
        self.overrides.push(Arc::new(f));
        self
    }

    /// Answers `reply` to every request whose decoded path is `path`.
    pub fn at(&mut self, path: &str, reply: Reply) -> &mut Self {
        let path = path.to_string();
        self.on(move |r| (r.path == path).then(|| reply.clone()))
    }
}

struct State {
    plan: Plan,
    base: String,
    seen: Mutex<Vec<Seen>>,
}

/// The running farm and the other host. Stops when dropped.
pub struct Farm {
    rt: Option<tokio::runtime::Runtime>,
    hosts: Hosts,
    state: Arc<State>,
}

/// The farm's addresses, known before its plan is built.
#[derive(Debug, Clone, Copy)]
pub struct Hosts {
    farm: SocketAddr,
    other: SocketAddr,
}

impl Hosts {
    /// The site URL, `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.farm)
    }

    /// The other listener as another host: `http://localhost:<port>`, no trailing slash.
    pub fn other_host(&self) -> String {
        format!("http://localhost:{}", self.other.port())
    }

    /// The other listener as the same host on another port: `http://127.0.0.1:<port>`.
    pub fn other_port(&self) -> String {
        format!("http://127.0.0.1:{}", self.other.port())
    }
}

impl Farm {
    /// Starts serving `plan`.
    pub fn start(plan: Plan) -> Self {
        Self::start_with(|_| plan)
    }

    /// Starts serving the plan `build` makes, given the farm's addresses.
    pub fn start_with(build: impl FnOnce(&Hosts) -> Plan) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (listener, other) = rt.block_on(async {
            (
                TcpListener::bind("127.0.0.1:0").await.expect("bind"),
                TcpListener::bind("127.0.0.1:0").await.expect("bind"),
            )
        });
        let hosts = Hosts {
            farm: listener.local_addr().expect("addr"),
            other: other.local_addr().expect("addr"),
        };
        let state = Arc::new(State {
            plan: build(&hosts),
            base: hosts.url(),
            seen: Mutex::new(Vec::new()),
        });
        for (l, which) in [(listener, "farm"), (other, "other")] {
            let state = state.clone();
            rt.spawn(async move {
                loop {
                    let Ok((sock, _)) = l.accept().await else {
                        continue;
                    };
                    let state = state.clone();
                    tokio::spawn(async move { serve(sock, state, which).await });
                }
            });
        }
        Farm {
            rt: Some(rt),
            hosts,
            state,
        }
    }

    /// The farm's addresses.
    pub fn hosts(&self) -> Hosts {
        self.hosts
    }

    /// The site URL, `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        self.state.base.clone()
    }

    /// `127.0.0.1:<port>` of the portal.
    pub fn host_port(&self) -> String {
        self.hosts.farm.to_string()
    }

    /// The portal's port.
    pub fn port(&self) -> u16 {
        self.hosts.farm.port()
    }

    /// The other listener as another host: `http://localhost:<port>`, no trailing slash.
    pub fn other_host(&self) -> String {
        self.hosts.other_host()
    }

    /// The other listener as the same host on another port: `http://127.0.0.1:<port>`.
    pub fn other_port(&self) -> String {
        self.hosts.other_port()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().expect("log").clone()
    }

    /// Requests the portal's own listener got.
    pub fn farm_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.listener == "farm")
            .collect()
    }

    /// Requests the other listener got.
    pub fn other_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.listener == "other")
            .collect()
    }

    /// Requests whose decoded path contains `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path().contains(needle))
            .count()
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Percent-decodes, lossily.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

async fn serve(mut sock: TcpStream, state: Arc<State>, which: &'static str) {
    let Some((target, headers)) = read_head(&mut sock).await else {
        return;
    };
    let host = headers
        .iter()
        .find(|(n, _)| n == "host")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    state.seen.lock().expect("log").push(Seen {
        at: Instant::now(),
        listener: which,
        target: target.clone(),
        host,
        headers,
    });
    let reply = if which == "other" {
        other_host(&target)
    } else {
        route(&state, &target)
    };
    write_reply(&mut sock, reply).await;
}

async fn read_head(sock: &mut TcpStream) -> Option<(String, Vec<(String, String)>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Some(end);
            }
            if buf.len() > 256 * 1024 {
                return None;
            }
            let n = sock.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    let end = tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .ok()??;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?;
    let target = request_line.split(' ').nth(1)?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((target, headers))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

async fn write_head(sock: &mut TcpStream, status: u16, headers: &[(String, String)]) -> bool {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    sock.write_all(head.as_bytes()).await.is_ok()
}

fn write_reply<'a>(
    sock: &'a mut TcpStream,
    reply: Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        match reply {
            Reply::Json(status, v) => {
                let body = serde_json::to_vec(&v).expect("json");
                let headers = vec![
                    (
                        "Content-Type".to_string(),
                        "application/json;odata=nometadata;charset=utf-8".to_string(),
                    ),
                    ("Content-Length".to_string(), body.len().to_string()),
                ];
                if write_head(sock, status, &headers).await {
                    let _ = sock.write_all(&body).await;
                }
            }
            Reply::Raw {
                status,
                mut headers,
                body,
            } => {
                headers.push(("Content-Length".into(), body.len().to_string()));
                if write_head(sock, status, &headers).await {
                    let _ = sock.write_all(&body).await;
                }
            }
            Reply::Redirect(status, location) => {
                let headers = vec![
                    ("Location".to_string(), location),
                    ("Content-Length".to_string(), "0".to_string()),
                ];
                write_head(sock, status, &headers).await;
            }
            Reply::ChunkedItems { total } => chunked_items(sock, total).await,
            Reply::Drip { every, length } => {
                let headers = vec![
                    (
                        "Content-Type".to_string(),
                        "application/octet-stream".to_string(),
                    ),
                    ("Content-Length".to_string(), length.to_string()),
                ];
                if write_head(sock, 200, &headers).await {
                    for _ in 0..length {
                        tokio::time::sleep(every).await;
                        if sock.write_all(b"x").await.is_err() || sock.flush().await.is_err() {
                            break;
                        }
                    }
                }
            }
            Reply::Truncated { announced, body } => {
                let headers = vec![
                    (
                        "Content-Type".to_string(),
                        "application/octet-stream".to_string(),
                    ),
                    ("Content-Length".to_string(), announced.to_string()),
                ];
                if write_head(sock, 200, &headers).await {
                    let _ = sock.write_all(&body).await;
                }
            }
            Reply::Reset => {
                let _ = sock.set_zero_linger();
            }
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                write_reply(sock, *inner).await;
            }
        }
        let _ = sock.shutdown().await;
    })
}

/// An items page of `total` bytes, chunk by chunk, never held in memory.
async fn chunked_items(sock: &mut TcpStream, total: u64) {
    let headers = vec![
        (
            "Content-Type".to_string(),
            "application/json;odata=nometadata;charset=utf-8".to_string(),
        ),
        ("Transfer-Encoding".to_string(), "chunked".to_string()),
    ];
    if !write_head(sock, 200, &headers).await {
        return;
    }
    let item = format!(
        "{{\"Id\":1,\"ID\":1,\"Title\":\"{}\"}},",
        "Tin tức ".repeat(60)
    );
    let mut block = String::from("{\"value\":[");
    while block.len() < 60 * 1024 {
        block.push_str(&item);
    }
    let mut sent = 0u64;
    while sent < total {
        let mut chunk = format!("{:x}\r\n", block.len()).into_bytes();
        chunk.extend_from_slice(block.as_bytes());
        chunk.extend_from_slice(b"\r\n");
        if sock.write_all(&chunk).await.is_err() {
            return;
        }
        sent += block.len() as u64;
        if block.starts_with('{') {
            block = item.repeat(60 * 1024 / item.len() + 1);
        }
    }
    let tail = b"{\"Id\":2}]}";
    let mut end = format!("{:x}\r\n", tail.len()).into_bytes();
    end.extend_from_slice(tail);
    end.extend_from_slice(b"\r\n0\r\n\r\n");
    let _ = sock.write_all(&end).await;
}

/// The other host: items and bytes worth stealing, for whoever comes.
fn other_host(target: &str) -> Reply {
    if target.contains("/items") {
        let items: Vec<Value> = (901..=903)
            .map(|id| portal::good_item(id, "OFF-SITE "))
            .collect();
        Reply::Json(200, json!({ "value": items }))
    } else {
        Reply::bytes(
            "application/octet-stream",
            b"OFF-SITE BYTES: never archive me\n".to_vec(),
        )
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (decode(k) == name).then(|| decode(v))
    })
}

fn route(state: &State, target: &str) -> Reply {
    let plan = &state.plan;
    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let path = decode(raw_path);
    let req = Request {
        target,
        path: path.clone(),
        query,
    };
    for o in &plan.overrides {
        if let Some(r) = o(&req) {
            return r;
        }
    }
    let lower = path.to_ascii_lowercase();
    if lower == "/_api/web" || lower == "/_api/web/" {
        return Reply::Json(200, portal::web(&state.base));
    }
    if lower.starts_with("/_api/web/lists/getbytitle(") {
        return Reply::Json(200, portal::list(&plan.list_title, plan.items.len()));
    }
    for prefix in ["/_api/web/lists(guid'", "/_api/lists(guid'"] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let rest = rest.split_once("')").map(|(_, r)| r).unwrap_or("");
            return match rest {
                "" => Reply::Json(200, portal::list(&plan.list_title, plan.items.len())),
                "/fields" => Reply::Json(200, portal::fields()),
                "/contenttypes" => Reply::Json(200, portal::content_types()),
                "/items" => items_page(state, query.unwrap_or("")),
                _ => Reply::sp_error(404, "The endpoint is not there."),
            };
        }
    }
    if lower.starts_with("/_api/") {
        return Reply::sp_error(404, "The endpoint is not there.");
    }
    if lower == "/" {
        return Reply::html("<html><body><h1>Cổng thông tin</h1></body></html>".to_string());
    }
    if lower == "/robots.txt" {
        return Reply::bytes("text/plain", b"User-agent: *\nAllow: /\n".to_vec());
    }
    if lower == "/lists/tintucsukien/tongquat.aspx" {
        return Reply::html(portal::list_page(&plan.list_links));
    }
    if lower == "/lists/tintucsukien/dispform.aspx" {
        let id: Option<i64> = query
            .and_then(|q| query_param(q, "ID"))
            .and_then(|v| v.parse().ok());
        if let Some(id) = id {
            if let Some(page) = plan.articles.get(&id) {
                return Reply::html(page.clone());
            }
            if let Some(item) = plan
                .items
                .iter()
                .find(|i| i.get("Id").and_then(Value::as_i64) == Some(id))
            {
                return Reply::html(portal::article_page(item));
            }
        }
        return Reply::Raw {
            status: 404,
            headers: vec![],
            body: b"not found".to_vec(),
        };
    }
    let key = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    match plan.files.get(&key) {
        Some(bytes) => {
            let reply = Reply::bytes(content_type(&key), bytes.clone());
            match plan.file_delay {
                Some(d) => Reply::Delay(d, Box::new(reply)),
                None => reply,
            }
        }
        None => Reply::sp_error(404, "The file does not exist."),
    }
}

fn content_type(path: &str) -> &'static str {
    if path.ends_with(".pdf") {
        "application/pdf"
    } else if path.ends_with(".jpg") {
        "image/jpeg"
    } else if path.ends_with(".png") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

/// One page of items: `$top` from the query (or the plan's page size), the position to
/// start from in `$skiptoken` (`Paged=TRUE&p_ID=<position>`), the next link like SharePoint's.
fn items_page(state: &State, query: &str) -> Reply {
    let plan = &state.plan;
    let top: usize = query_param(query, "$top")
        .and_then(|v| v.parse().ok())
        .unwrap_or(plan.page_size)
        .max(1);
    let start: usize = query_param(query, "$skiptoken")
        .and_then(|t| {
            t.split('&')
                .find_map(|kv| kv.strip_prefix("p_ID=").map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let end = (start + top).min(plan.items.len());
    let page: Vec<Value> = plan.items.get(start..end).unwrap_or(&[]).to_vec();
    let own_next = (end < plan.items.len()).then(|| portal::items_link(&state.base, end, top));
    let page_no = start / top;
    let next = match &plan.next_link {
        Some(f) => f(page_no, own_next),
        None => own_next,
    };
    let mut body = json!({ "value": page });
    if let Some(n) = next {
        body["odata.nextLink"] = Value::String(n);
    }
    Reply::Json(200, body)
}
