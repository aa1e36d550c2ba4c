//! The observer hook: whoever wants to keep the HTTP exchanges themselves (a WARC capture)
//! sees each one as it happens, without fetch knowing what is done with it.
//!
//! Every request the client sends — page, POST, file, each redirect hop, each retry, the
//! error answers — passes the one attempt function, which hands the [`Observer`] the request
//! as sent and the response head as it arrived, then every body byte as read from the wire
//! (transfer-decoded, never content-decoded), then how the body ended.

use reqwest::header::HeaderMap;
use url::Url;

/// One request and the head of its response.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The URL requested (this hop's).
    pub url: &'a Url,
    /// The request headers as sent, `Host` included.
    pub request_headers: &'a HeaderMap,
    /// The request body (empty for a GET).
    pub request_body: &'a [u8],
    /// The response's HTTP version, such as `HTTP/1.1`.
    pub version: &'static str,
    /// The response status.
    pub status: u16,
    /// The status's reason phrase (the standard one for the status).
    pub reason: &'a str,
    /// The response headers as received.
    pub response_headers: &'a HeaderMap,
}

/// How a response body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEnd {
    /// Every byte the server sent was seen.
    Complete,
    /// Reading stopped early: a bound was reached, an error answer's body was cut at its
    /// limit, or the connection broke.
    Cut,
}

/// Where an observer kept an exchange: a file and a record in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The file, relative to where the observer keeps its files.
    pub file: String,
    /// The id of the record holding the response.
    pub record: String,
}

/// Sees every exchange the client makes.
pub trait Observer: Send + Sync {
    /// A response head arrived for a request; returns what receives its body.
    fn exchange(&self, exchange: &Exchange<'_>) -> Box<dyn BodyObserver>;
}

/// Receives one response body as it streams.
pub trait BodyObserver: Send {
    /// The next bytes of the body, as received.
    fn chunk(&mut self, bytes: &[u8]);
    /// The body ended; returns where the exchange was kept, if it was.
    fn end(self: Box<Self>, end: BodyEnd) -> Option<Captured>;
}

/// The body observer of one response, or nothing when no one observes. Dropped without
/// [`end`](Tap::end), the body counts as cut.
#[derive(Default)]
pub(crate) struct Tap(Option<Box<dyn BodyObserver>>);

impl Tap {
    pub(crate) fn new(body: Option<Box<dyn BodyObserver>>) -> Self {
        Self(body)
    }

    pub(crate) fn chunk(&mut self, bytes: &[u8]) {
        if let Some(b) = &mut self.0 {
            b.chunk(bytes);
        }
    }

    pub(crate) fn end(mut self, end: BodyEnd) -> Option<Captured> {
        self.0.take().and_then(|b| b.end(end))
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        if let Some(b) = self.0.take() {
            b.end(BodyEnd::Cut);
        }
    }
}
