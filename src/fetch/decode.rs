//! Content decoding of pages, done here rather than by the HTTP library, so that an observer
//! sees the bytes as they came over the wire and a page still never inflates past its bound.

use flate2::read::{GzDecoder, ZlibDecoder};
use reqwest::header::{CONTENT_ENCODING, HeaderMap};
use std::io::Read;

/// The `Accept-Encoding` of page requests: the encodings [`content`] decodes.
pub(crate) const ACCEPTED: &str = "gzip, deflate";

/// Why a page's bytes could not be decoded.
pub(crate) enum Failure {
    /// It inflates to more than the page bound.
    TooLarge,
    /// The encoding is broken or unknown; in words.
    Broken(String),
}

/// `raw` decoded as its `Content-Encoding` says, at most `max` bytes. Identity (or no
/// header) gives `raw` back.
pub(crate) fn content(headers: &HeaderMap, raw: Vec<u8>, max: u64) -> Result<Vec<u8>, Failure> {
    let encoding = headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "" | "identity" => Ok(raw),
        "gzip" | "x-gzip" => inflate(GzDecoder::new(raw.as_slice()), max, "gzip"),
        // HTTP's `deflate` is zlib-wrapped; some servers send a bare DEFLATE stream instead.
        "deflate" => match inflate(ZlibDecoder::new(raw.as_slice()), max, "deflate") {
            Err(Failure::Broken(_)) => inflate(
                flate2::read::DeflateDecoder::new(raw.as_slice()),
                max,
                "deflate",
            ),
            done => done,
        },
        other => Err(Failure::Broken(format!(
            "the answer is encoded as `{other}`, which sharc did not ask for and cannot decode"
        ))),
    }
}

fn inflate(reader: impl Read, max: u64, name: &str) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| Failure::Broken(format!("the answer's {name} encoding is broken: {e}")))?;
    if out.len() as u64 > max {
        return Err(Failure::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use reqwest::header::HeaderValue;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn encoded(name: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_str(name).unwrap());
        h
    }

    #[test]
    fn gzip_is_decoded_within_the_bound_and_refused_past_it() {
        let raw = gzip(&[b'x'; 1000]);
        let out = content(&encoded("gzip"), raw.clone(), 1000).ok().unwrap();
        assert_eq!(out, vec![b'x'; 1000]);
        assert!(matches!(
            content(&encoded("gzip"), raw, 999),
            Err(Failure::TooLarge)
        ));
    }

    #[test]
    fn identity_is_kept_and_an_unknown_encoding_is_named() {
        let out = content(&HeaderMap::new(), b"abc".to_vec(), 10)
            .ok()
            .unwrap();
        assert_eq!(out, b"abc");
        match content(&encoded("br"), b"abc".to_vec(), 10) {
            Err(Failure::Broken(why)) => assert!(why.contains("`br`"), "{why}"),
            _ => panic!("br accepted"),
        }
    }
}
