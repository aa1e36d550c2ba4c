//! Response bodies: the one place that knows hyper's body types.
//!
//! Every route answers with a [`Response`] whose [`Body`] is either bytes in memory
//! ([`full`]) or a stream of chunks ([`stream`]) that may fail mid-way, which hyper turns into
//! a dropped connection — the injected faults rely on that.

use std::convert::Infallible;

use futures::{Stream, TryStreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::StatusCode;
use hyper::body::{Bytes, Frame};
use hyper::header::{self, HeaderValue};

/// A response body: its chunks, or an I/O error that aborts the connection.
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A response as the routes build it.
pub(crate) type Response = hyper::Response<Body>;

/// A body held in memory; its length is known, so hyper sends `Content-Length`.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// A body streamed chunk by chunk; an error ends the connection mid-body.
pub(crate) fn stream(
    chunks: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) -> Body {
    StreamBody::new(chunks.map_ok(Frame::data)).boxed_unsync()
}

/// A response with this body and status 200; routes set the rest.
pub(crate) fn response(body: Body) -> Response {
    hyper::Response::new(body)
}

/// A response with a status, content type and body.
pub(crate) fn text_response(status: u16, content_type: &'static str, body: String) -> Response {
    let mut response = response(full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
