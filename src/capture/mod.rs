//! The capture: every HTTP exchange of a crawl kept as WARC 1.1 records, the evidence the
//! records and files of a bag were derived from.
//!
//! An archivist asks of any record what exactly the portal sent, and when. The bag's records
//! are derived from the portal's answers; the capture keeps the answers themselves — REST
//! pages, SOAP calls, HTML pages, robots.txt, files, redirect hops and error answers — as
//! `request` and `response` records that every web-archiving tool reads. [`Capture`] is the
//! fetch client's [`Observer`]: it receives each exchange as it happens (response bytes as
//! received: transfer-decoded, never content-decoded), spools a body larger than 1 MiB to
//! disk rather than holding it, and writes the pair when the body ended, one gzip member per
//! record, into `.warc.gz` files rolled over at a size ([`warc`]). Secrets never reach it:
//! [`redact`] blanks the values of the headers that carry them, and URLs lose their user
//! info. [`index`] writes the CDXJ index replay tools read; [`read`] reads the files back
//! for the index, for a continued capture and for verify.

pub mod index;
pub mod read;
pub mod verify;
pub mod warc;

use crate::fetch::{BodyEnd, BodyObserver, Captured, Exchange, Observer};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use warc::{Head, WarcWriter};

/// The default size at which a WARC file is closed and the next begun: 1 GiB.
pub const FILE_SIZE: u64 = 1024 * 1024 * 1024;

/// The payload directory of the capture inside a bag.
pub const PAYLOAD_DIR: &str = "capture";

/// The CDXJ index's payload path.
pub const INDEX_PATH: &str = "capture/index.cdxj";

/// Bodies up to this size are held in memory until written; larger ones are spooled to disk.
const SPOOL_IN_MEMORY: usize = 1024 * 1024;

/// The headers whose values are secrets, blanked in the capture.
pub const REDACTED_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "set-cookie2",
];

/// What a redacted header value becomes.
pub const REDACTED: &str = "[redacted]";

/// A header value as the capture keeps it: the value itself, or [`REDACTED`] for a header
/// that carries a secret ([`REDACTED_HEADERS`]).
pub fn redact<'a>(name: &str, value: &'a [u8]) -> &'a [u8] {
    if REDACTED_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name.trim()))
    {
        REDACTED.as_bytes()
    } else {
        value
    }
}

/// The command line for the `warcinfo` record, secrets removed: the value of any option
/// whose name speaks of a secret (`--password`, `--token`, `--cookie`, `--header`, `--auth…`,
/// `--secret`, `--user`) is replaced by [`REDACTED`], and user info is removed from URLs.
pub fn command_line(args: &[String]) -> String {
    let secret = |flag: &str| {
        let name = flag.trim_start_matches('-').to_ascii_lowercase();
        flag.starts_with("--")
            && [
                "password",
                "token",
                "cookie",
                "header",
                "auth",
                "secret",
                "user",
                "credential",
            ]
            .iter()
            .any(|s| name.contains(s))
    };
    let mut out: Vec<String> = Vec::new();
    let mut hide_next = false;
    for arg in args {
        let shown = if hide_next {
            hide_next = false;
            REDACTED.to_string()
        } else if let Some((flag, _)) = arg.split_once('=').filter(|(f, _)| secret(f)) {
            format!("{flag}={REDACTED}")
        } else if secret(arg) {
            hide_next = true;
            arg.clone()
        } else {
            match url::Url::parse(arg) {
                Ok(u) if !u.username().is_empty() || u.password().is_some() => {
                    crate::fetch::redact(&u)
                }
                _ => arg.clone(),
            }
        };
        out.push(shown);
    }
    out.join(" ")
}

/// What a capture says about itself in each WARC file's `warcinfo` record.
#[derive(Debug, Clone, Default)]
pub struct CaptureInfo {
    /// The command line, secrets removed.
    pub command_line: String,
    /// sha256 of the mapping file's text.
    pub mapping_sha256: String,
    /// The bagging date, `YYYY-MM-DD`.
    pub bagging_date: String,
}

impl CaptureInfo {
    /// The `warcinfo` block (`application/warc-fields`).
    fn fields(&self) -> String {
        let mut s = String::new();
        let mut line = |name: &str, value: &str| {
            // A field value is one line: no CR or LF may break the record.
            let value: String = value.chars().filter(|c| !c.is_control()).collect();
            s.push_str(&format!("{name}: {value}\r\n"));
        };
        line(
            "software",
            &format!(
                "sharc/{} (SharePoint portal archiver)",
                env!("CARGO_PKG_VERSION")
            ),
        );
        line("format", "WARC File Format 1.1");
        line(
            "conformsTo",
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        );
        line("command-line", &self.command_line);
        line("mapping-sha256", &self.mapping_sha256);
        line("bagging-date", &self.bagging_date);
        line(
            "redaction",
            &format!(
                "the values of {} are replaced by {REDACTED}; user names and passwords are removed from URLs",
                REDACTED_HEADERS.join(", ")
            ),
        );
        s
    }
}

/// Why the capture failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}; check free space and permissions (the capture needs about the payload's size again)", path.display())]
pub struct CaptureError {
    /// The file or directory being written.
    pub path: PathBuf,
    /// The cause.
    pub source: io::Error,
}

/// The capture of one crawl: the fetch client's observer, writing WARC files into a directory.
/// Cheap to clone; clones share the files.
#[derive(Clone)]
pub struct Capture {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    writer: Mutex<Option<WarcWriter>>,
    /// `WARC-Date` of every record when the run's clock is pinned.
    pinned_date: Option<String>,
    spools: AtomicU64,
    /// The first failure; the crawl stops at it.
    failure: Mutex<Option<CaptureError>>,
}

impl Capture {
    /// A capture into `dir`, continuing what an interrupted run left there.
    pub fn open(
        dir: &Path,
        max_file_size: u64,
        info: &CaptureInfo,
        info_date: &str,
        pinned_date: Option<String>,
    ) -> Result<Self, CaptureError> {
        let writer = WarcWriter::open(dir, max_file_size, info.fields(), info_date.to_string())
            .map_err(|source| CaptureError {
                path: dir.to_path_buf(),
                source,
            })?;
        let spool = dir.join("spool");
        if spool.exists() {
            fs::remove_dir_all(&spool).map_err(|source| CaptureError {
                path: spool.clone(),
                source,
            })?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                writer: Mutex::new(Some(writer)),
                pinned_date,
                spools: AtomicU64::new(0),
                failure: Mutex::new(None),
            }),
        })
    }

    /// The first failure to write, if any (taken: asked again, it says none).
    pub fn failure(&self) -> Option<CaptureError> {
        self.inner.failure.lock().ok().and_then(|mut f| f.take())
    }

    /// Closes the capture; returns the paths of its WARC files, in order.
    pub fn close(&self) -> Result<Vec<PathBuf>, CaptureError> {
        if let Some(e) = self.failure() {
            return Err(e);
        }
        let dir = &self.inner.dir;
        let writer = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        let names = match writer {
            Some(w) => w.close(),
            None => warc::files_in(dir),
        }
        .map_err(|source| CaptureError {
            path: dir.clone(),
            source,
        })?;
        let _ = fs::remove_dir_all(dir.join("spool"));
        Ok(names.into_iter().map(|n| dir.join(n)).collect())
    }
}

impl Inner {
    fn fail(&self, path: &Path, source: io::Error) {
        tracing::error!("the capture failed: {}: {source}", path.display());
        if let Ok(mut f) = self.failure.lock()
            && f.is_none()
        {
            *f = Some(CaptureError {
                path: path.to_path_buf(),
                source,
            });
        }
    }

    fn date(&self) -> String {
        match &self.pinned_date {
            Some(d) => d.clone(),
            None => jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        }
    }

    /// Writes one exchange: the request, then the response pointing at it.
    fn write(
        &self,
        ex: &Pending,
        body: &mut dyn Read,
        body_len: u64,
        end: BodyEnd,
    ) -> io::Result<Captured> {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| io::Error::other("the capture's writer failed earlier"))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| io::Error::other("the capture is closed"))?;
        let request = Head {
            kind: "request",
            date: &ex.date,
            target: Some(&ex.target),
            fields: vec![
                ("Content-Type", "application/http;msgtype=request".into()),
                (
                    "WARC-Block-Digest",
                    warc::digest_field(&Sha256::digest(&ex.request)),
                ),
            ],
        };
        let placed = writer.write(
            &request,
            &mut ex.request.as_slice(),
            ex.request.len() as u64,
        )?;
        let mut fields = vec![
            ("Content-Type", "application/http;msgtype=response".into()),
            ("WARC-Concurrent-To", placed.id.clone()),
            (
                "WARC-Block-Digest",
                warc::digest_field(&ex.block.clone().finalize()),
            ),
            (
                "WARC-Payload-Digest",
                warc::digest_field(&ex.payload.clone().finalize()),
            ),
        ];
        if end == BodyEnd::Cut {
            fields.push(("WARC-Truncated", "length".into()));
        }
        let response = Head {
            kind: "response",
            date: &ex.date,
            target: Some(&ex.target),
            fields,
        };
        let len = ex.response_head.len() as u64 + body_len;
        let mut block = Cursor::new(&ex.response_head).chain(body);
        let placed = writer.write(&response, &mut block, len)?;
        Ok(Captured {
            file: placed.file,
            record: placed.id,
        })
    }
}

impl Observer for Capture {
    fn exchange(&self, ex: &Exchange<'_>) -> Box<dyn BodyObserver> {
        let mut request =
            format!("{} {} HTTP/1.1\r\n", ex.method, request_target(ex.url)).into_bytes();
        push_headers(&mut request, ex.request_headers);
        request.extend_from_slice(ex.request_body);
        let mut response_head =
            format!("{} {} {}\r\n", ex.version, ex.status, ex.reason).into_bytes();
        push_headers(&mut response_head, ex.response_headers);
        let mut block = Sha256::new();
        block.update(&response_head);
        Box::new(Pending {
            capture: self.inner.clone(),
            date: self.inner.date(),
            target: crate::fetch::redact(ex.url),
            request,
            response_head,
            block,
            payload: Sha256::new(),
            spool: Spool::default(),
        })
    }
}

/// An exchange whose response body is arriving.
struct Pending {
    capture: Arc<Inner>,
    date: String,
    /// `WARC-Target-URI`: the URL without user info.
    target: String,
    /// The request block: its head and body.
    request: Vec<u8>,
    /// The response's status line and headers, with the blank line.
    response_head: Vec<u8>,
    block: Sha256,
    payload: Sha256,
    spool: Spool,
}

impl BodyObserver for Pending {
    fn chunk(&mut self, bytes: &[u8]) {
        self.block.update(bytes);
        self.payload.update(bytes);
        if let Err((path, e)) = self.spool.push(bytes, &self.capture) {
            self.capture.fail(&path, e);
        }
    }

    fn end(mut self: Box<Self>, end: BodyEnd) -> Option<Captured> {
        let spool = std::mem::take(&mut self.spool);
        let written = spool
            .reader()
            .and_then(|mut body| self.capture.write(&self, &mut body, spool.len, end));
        spool.remove();
        match written {
            Ok(c) => Some(c),
            Err(e) => {
                self.capture.fail(&self.capture.dir, e);
                None
            }
        }
    }
}

/// A response body until it is written: in memory, or past [`SPOOL_IN_MEMORY`] in a file.
#[derive(Default)]
struct Spool {
    memory: Vec<u8>,
    file: Option<(PathBuf, File)>,
    len: u64,
}

impl Spool {
    fn push(&mut self, bytes: &[u8], capture: &Inner) -> Result<(), (PathBuf, io::Error)> {
        self.len += bytes.len() as u64;
        if self.file.is_none() && self.memory.len() + bytes.len() <= SPOOL_IN_MEMORY {
            self.memory.extend_from_slice(bytes);
            return Ok(());
        }
        if self.file.is_none() {
            let dir = capture.dir.join("spool");
            let n = capture.spools.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{n}.body"));
            let opened = fs::create_dir_all(&dir).and_then(|()| {
                let mut f = File::options()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)?;
                f.write_all(&self.memory)?;
                Ok(f)
            });
            match opened {
                Ok(f) => {
                    self.memory = Vec::new();
                    self.file = Some((path, f));
                }
                Err(e) => return Err((path, e)),
            }
        }
        if let Some((path, f)) = &mut self.file {
            f.write_all(bytes).map_err(|e| (path.clone(), e))?;
        }
        Ok(())
    }

    /// The body from its start.
    fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        match &self.file {
            None => Ok(Box::new(self.memory.as_slice())),
            Some((_, f)) => {
                let mut f = f.try_clone()?;
                f.rewind()?;
                Ok(Box::new(io::BufReader::new(f)))
            }
        }
    }

    fn remove(self) {
        if let Some((path, f)) = self.file {
            drop(f);
            let _ = fs::remove_file(path);
        }
    }
}

/// The request target of a request line: the path and query, as sent.
fn request_target(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Appends `headers` as HTTP header lines, secrets redacted, and the blank line.
fn push_headers(out: &mut Vec<u8>, headers: &reqwest::header::HeaderMap) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(redact(name.as_str(), value.as_bytes()));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// Sends one exchange with `body` through `capture`, as the fetch client does.
    fn exchange(capture: &Capture, url: &str, req: &HeaderMap, resp: &HeaderMap, body: &[u8]) {
        let url = url::Url::parse(url).unwrap();
        let mut b = capture.exchange(&Exchange {
            method: "GET",
            url: &url,
            request_headers: req,
            request_body: b"",
            version: "HTTP/1.1",
            status: 200,
            reason: "OK",
            response_headers: resp,
        });
        for chunk in body.chunks(7) {
            b.chunk(chunk);
        }
        assert!(b.end(BodyEnd::Complete).is_some());
    }

    fn decoded(path: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(File::open(path).unwrap())
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn secrets_in_headers_and_urls_never_reach_the_capture() {
        let dir = tempfile::tempdir().unwrap();
        let info = CaptureInfo {
            command_line: command_line(&[
                "sharc".into(),
                "--password".into(),
                "hunter2-arg".into(),
                "--token=tok-arg".into(),
                "http://ann:pw-url@portal.example/".into(),
            ]),
            ..Default::default()
        };
        let capture =
            Capture::open(dir.path(), FILE_SIZE, &info, "2025-07-01T00:00:00Z", None).unwrap();
        exchange(
            &capture,
            "http://ann:pw-in-url@portal.example/_api/web",
            &headers(&[
                ("authorization", "Bearer tok-in-header"),
                ("cookie", "FedAuth=cookie-secret"),
                ("accept", "application/json"),
            ]),
            &headers(&[
                ("set-cookie", "rtFa=set-cookie-secret; path=/"),
                ("content-type", "application/json"),
            ]),
            b"{\"Title\":\"S\xe1\xbb\x9f\"}",
        );
        let files = capture.close().unwrap();
        let bytes = decoded(&files[0]);
        for secret in [
            "hunter2-arg",
            "tok-arg",
            "pw-url",
            "pw-in-url",
            "ann",
            "tok-in-header",
            "cookie-secret",
            "set-cookie-secret",
        ] {
            assert!(!contains(&bytes, secret), "{secret} is in the capture");
        }
        assert!(contains(&bytes, "authorization: [redacted]\r\n"));
        assert!(contains(&bytes, "set-cookie: [redacted]\r\n"));
        assert!(
            contains(&bytes, "accept: application/json\r\n"),
            "other headers kept"
        );
        assert!(contains(
            &bytes,
            "WARC-Target-URI: http://portal.example/_api/web\r\n"
        ));
        assert!(contains(&bytes, "redaction: the values of authorization"));
    }

    #[test]
    fn a_continued_capture_cuts_a_torn_last_record_and_goes_on_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let info = CaptureInfo::default();
        let open = || Capture::open(dir.path(), FILE_SIZE, &info, "2025-07-01T00:00:00Z", None);
        let capture = open().unwrap();
        let (req, resp) = (headers(&[]), headers(&[("content-type", "text/plain")]));
        exchange(&capture, "http://p.example/one", &req, &resp, b"first");
        // A body past the in-memory limit goes through the spool file.
        let big = vec![b'x'; SPOOL_IN_MEMORY + 10];
        exchange(&capture, "http://p.example/two", &req, &resp, &big);
        let files = capture.close().unwrap();
        let whole = fs::metadata(&files[0]).unwrap().len();
        // As if the run was killed while writing the second exchange's response.
        let f = File::options().write(true).open(&files[0]).unwrap();
        f.set_len(whole - 20).unwrap();
        drop(f);

        let capture = open().unwrap();
        exchange(&capture, "http://p.example/three", &req, &resp, b"third");
        let files = capture.close().unwrap();
        assert_eq!(files.len(), 1, "continued in the same file");
        let mut seen = Vec::new();
        let end = read::scan(&files[0], |r| {
            seen.push((
                r.field("WARC-Type").unwrap().to_string(),
                r.field("WARC-Target-URI").unwrap_or("").to_string(),
            ));
        })
        .unwrap();
        assert_eq!(end.broken, None);
        let targets: Vec<&str> = seen.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            targets,
            [
                "",
                "http://p.example/one",
                "http://p.example/one",
                "http://p.example/three",
                "http://p.example/three"
            ],
            "the torn exchange (its request too) is gone, nothing else"
        );
        assert!(!dir.path().join("spool").exists(), "spool removed");
    }
}
