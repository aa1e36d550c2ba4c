//! Reading a capture's WARC files back, one gzip member (one record) at a time, in bounded
//! memory: where each record is, its named fields, the HTTP head of a request or response,
//! and the digests of its block and payload as computed from the bytes.

use flate2::bufread::GzDecoder;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The most bytes of a record's named fields, or of an HTTP head, that are read.
const HEAD_LIMIT: usize = 256 * 1024;

/// One complete record, as read.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// Where its gzip member starts in the file.
    pub offset: u64,
    /// The member's length in the file.
    pub length: u64,
    /// The named fields, in order.
    pub fields: Vec<(String, String)>,
    /// The HTTP head at the start of a request's or response's block.
    pub http: Option<HttpHead>,
    /// sha256 of the block, as read.
    pub block_sha256: [u8; 32],
    /// sha256 of the payload (the block after the HTTP head), as read.
    pub payload_sha256: [u8; 32],
    /// The payload's size.
    pub payload_len: u64,
}

impl Scanned {
    /// The first named field called `name` (case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The head of an HTTP message.
#[derive(Debug, Clone)]
pub struct HttpHead {
    /// The first line: `HTTP/1.1 200 OK` or `GET /path HTTP/1.1`.
    pub start: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
}

impl HttpHead {
    /// A response's status code.
    pub fn status(&self) -> Option<&str> {
        self.start.split(' ').nth(1)
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How reading a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEnd {
    /// Where the last complete record ends.
    pub good_end: u64,
    /// Why reading stopped before the end of the file, when it did (a torn or damaged
    /// member, a record that is not WARC).
    pub broken: Option<String>,
}

/// A reader that counts what its consumer took.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.pos += n as u64;
        self.inner.consume(n);
    }
}

/// Reads every complete record of the WARC file at `path`, in order, handing each to
/// `each`; stops at the first member that is torn or not a WARC record and says so.
pub fn scan(path: &Path, each: impl FnMut(&Scanned)) -> io::Result<ScanEnd> {
    scan_reader(File::open(path)?, each)
}

/// [`scan`] of a WARC file read from `file`.
pub fn scan_reader(file: impl Read, mut each: impl FnMut(&Scanned)) -> io::Result<ScanEnd> {
    let mut input = Counting {
        inner: BufReader::with_capacity(64 * 1024, file),
        pos: 0,
    };
    loop {
        let offset = input.pos;
        if input.fill_buf()?.is_empty() {
            return Ok(ScanEnd {
                good_end: offset,
                broken: None,
            });
        }
        let mut member = BufReader::new(GzDecoder::new(&mut input));
        let record = read_record(&mut member);
        let rest = record.and_then(|r| {
            let mut tail = Vec::new();
            member.read_to_end(&mut tail)?;
            if tail != b"\r\n\r\n" {
                return Err(io::Error::other(
                    "the record does not end with its block and two CRLFs",
                ));
            }
            Ok(r)
        });
        drop(member);
        match rest {
            Ok(mut r) => {
                r.offset = offset;
                r.length = input.pos - offset;
                each(&r);
            }
            Err(e) => {
                return Ok(ScanEnd {
                    good_end: offset,
                    broken: Some(format!("the record at byte {offset}: {e}")),
                });
            }
        }
    }
}

/// Reads one record's head and block from a decoded member, leaving the two CRLFs after it.
fn read_record(r: &mut impl Read) -> io::Result<Scanned> {
    let head = read_head(r)?;
    let mut lines = head.split("\r\n");
    if lines.next() != Some("WARC/1.1") && !head.starts_with("WARC/1.0") {
        return Err(io::Error::other("not a WARC/1.1 record"));
    }
    let fields = parse_fields(lines);
    let find = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    let len: u64 = find("Content-Length")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::other("no Content-Length"))?;
    let is_http = find("Content-Type").is_some_and(|t| t.starts_with("application/http"));
    let mut block = Sha256::new();
    let mut payload = Sha256::new();
    let mut http_head: Vec<u8> = Vec::new();
    let mut in_payload = !is_http;
    let mut payload_len = 0u64;
    let mut left = len;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the block ends {left} bytes before its Content-Length"),
            ));
        }
        left -= n as u64;
        let chunk = &buf[..n];
        block.update(chunk);
        if in_payload {
            payload.update(chunk);
            payload_len += n as u64;
            continue;
        }
        let before = http_head.len();
        http_head.extend_from_slice(chunk);
        if let Some(end) = find_crlf2(&http_head, before.saturating_sub(3)) {
            let body = &http_head[end..];
            payload.update(body);
            payload_len += body.len() as u64;
            http_head.truncate(end);
            in_payload = true;
        } else if http_head.len() > HEAD_LIMIT {
            return Err(io::Error::other("an HTTP head longer than 256 KiB"));
        }
    }
    let http = (is_http && in_payload).then(|| parse_http(&http_head));
    Ok(Scanned {
        offset: 0,
        length: 0,
        fields,
        http,
        block_sha256: block.finalize().into(),
        payload_sha256: payload.finalize().into(),
        payload_len,
    })
}

/// The record's head up to and without its blank line.
fn read_head(r: &mut impl Read) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the record's head is cut short",
            ));
        }
        head.push(byte[0]);
        if head.len() > HEAD_LIMIT {
            return Err(io::Error::other("a record head longer than 256 KiB"));
        }
    }
    head.truncate(head.len() - 4);
    String::from_utf8(head).map_err(|_| io::Error::other("a record head that is not UTF-8"))
}

fn find_crlf2(bytes: &[u8], from: usize) -> Option<usize> {
    bytes[from..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from + p + 4)
}

fn parse_fields<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn parse_http(head: &[u8]) -> HttpHead {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.trim_end_matches("\r\n").split("\r\n");
    let start = lines.next().unwrap_or_default().to_string();
    HttpHead {
        start,
        headers: parse_fields(lines),
    }
}
