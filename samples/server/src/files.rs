//! File bytes: attachments by their SharePoint URL, and everything under `files/` by its
//! server-relative path.
//!
//! Attachment names on real portals carry `#`, `%`, `'`, spaces and Vietnamese letters, so the
//! stored copy has a safe name and the URL is matched against `FileName` after
//! percent-decoding. Every other path is confined to the `files/` directory: a segment that
//! is `..` (or hides a slash) is refused before the file system is touched, and the resolved
//! path must still lie inside `files/` (symbolic links included). Bodies on disk are streamed
//! in chunks, never read whole; the built-in sample's are already in memory.

use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use tokio::io::AsyncReadExt;

use super::body::{self, Response};
use super::data::{Item, List, Portal};
use super::grow;
use super::tree::{Blob, Content, Miss};

/// A file that can be served.
#[derive(Debug, Clone)]
pub(crate) struct FileTarget {
    /// Where the bytes are.
    pub content: Content,
    /// The name SharePoint shows (the attachment `FileName`, or the last path segment).
    pub name: String,
    /// The server-relative URL, decoded.
    pub server_relative_url: String,
    /// The size in bytes.
    pub len: u64,
    /// `Last-Modified`.
    pub modified: SystemTime,
    /// `ETag`, SharePoint style: `"{GUID},version"`.
    pub etag: String,
    /// A GUID for `UniqueId`.
    pub unique_id: String,
}

/// The outcome of looking a path up.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The file exists.
    Found(FileTarget),
    /// Nothing is there.
    NotFound,
    /// The path tries to leave `files/` (or is otherwise malformed).
    Refused,
}

/// Resolves decoded path segments (from the root of the server) to a file.
pub(crate) fn resolve(portal: &Portal, web_path: &str, segments: &[String]) -> Lookup {
    if segments
        .iter()
        .any(|s| s == "." || s == ".." || s.contains(['/', '\\', '\0']))
    {
        return Lookup::Refused;
    }
    if let Some(found) = attachment(portal, web_path, segments) {
        return found;
    }
    if segments.is_empty() || segments.iter().any(String::is_empty) {
        return Lookup::NotFound;
    }
    let rel = segments.join("/");
    let blob = match grown_image(portal, web_path, segments) {
        Some(found) => found,
        None => match portal.tree.file("files", &format!("files/{rel}")) {
            Ok(blob) => blob,
            Err(Miss::Outside) => return Lookup::Refused,
            Err(Miss::Unreadable(_) | Miss::NotAFile) => return Lookup::NotFound,
        },
    };
    let modified = blob.modified.unwrap_or(SystemTime::UNIX_EPOCH);
    let stamp = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let unique_id = guid_from(&(rel.as_str(), "file"));
    Lookup::Found(FileTarget {
        name: segments.last().cloned().unwrap_or_default(),
        server_relative_url: format!("/{rel}"),
        len: blob.len,
        modified,
        etag: format!(
            "\"{{{}}},1\"",
            guid_from(&(rel.as_str(), blob.len, stamp)).to_uppercase()
        ),
        unique_id,
        content: blob.content,
    })
}

/// A grown item's own copy of an image (`PublishingImages/_grown/<id>/…`), when the portal
/// is grown and the image it copies exists.
fn grown_image(portal: &Portal, web_path: &str, segments: &[String]) -> Option<Blob> {
    if !portal.grown {
        return None;
    }
    let rest = under_web(web_path, segments)?;
    let (first, rest) = rest.split_first()?;
    if !first.eq_ignore_ascii_case("PublishingImages") {
        return None;
    }
    let (template, content) = grow::image(rest, portal.grown_max_file)?;
    let original = portal.tree.file("files", &template).ok()?;
    let Content::Synthetic { len, .. } = content else {
        return None;
    };
    Some(Blob {
        len,
        modified: original.modified,
        content,
    })
}

/// The request segments below the web's server-relative path (matched ignoring case), or
/// `None` when the request is not under the web.
pub(crate) fn under_web<'a>(web_path: &str, segments: &'a [String]) -> Option<&'a [String]> {
    let web: Vec<&str> = web_path.split('/').filter(|s| !s.is_empty()).collect();
    let inside = segments.len() >= web.len()
        && web
            .iter()
            .zip(segments)
            .all(|(w, s)| w.eq_ignore_ascii_case(s));
    inside.then(|| &segments[web.len()..])
}

/// Matches `<web>/Lists/<url>/Attachments/<id>/<FileName>` against the portal's items.
fn attachment(portal: &Portal, web_path: &str, segments: &[String]) -> Option<Lookup> {
    let rest = under_web(web_path, segments)?;
    if rest.len() != 5 {
        return None;
    }
    if !rest[0].eq_ignore_ascii_case("Lists") || !rest[2].eq_ignore_ascii_case("Attachments") {
        return None;
    }
    let list = portal.list_by_url_name(&rest[1])?;
    let id = rest[3].parse::<i64>().ok()?;
    let item = list.items.get(&id)?;
    attachment_target(portal, list, item, &rest[4], web_path)
}

/// The served file for one attachment of an item.
pub(crate) fn attachment_target(
    portal: &Portal,
    list: &List,
    item: &Item,
    file_name: &str,
    web_path: &str,
) -> Option<Lookup> {
    let att = item.attachment(file_name)?;
    let blob = match grow::synthetic(att) {
        Some(content @ Content::Synthetic { len, .. }) => Blob {
            len: *len,
            modified: None,
            content: content.clone(),
        },
        _ => match portal.tree.file("", &att.stored) {
            Ok(blob) => blob,
            Err(_) => return Some(Lookup::NotFound),
        },
    };
    // The item's Modified is when the attachment last changed, as far as SharePoint tells.
    let modified = item
        .values
        .get("Modified")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .and_then(|t| SystemTime::try_from(t).ok())
        .or(blob.modified)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let key = (list.id.as_str(), item.id, att.file_name.as_str());
    Some(Lookup::Found(FileTarget {
        name: att.file_name.clone(),
        server_relative_url: format!(
            "{web_path}/{}/Attachments/{}/{}",
            list.root_folder(),
            item.id,
            att.file_name
        ),
        len: blob.len,
        modified,
        etag: format!(
            "\"{{{}}},{}\"",
            guid_from(&(key, blob.len)).to_uppercase(),
            item.version()
        ),
        unique_id: guid_from(&key),
        content: blob.content,
    }))
}

/// A stable GUID-shaped id from a value.
pub(crate) fn guid_from(value: &impl Hash) -> String {
    let mut a = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (value, 0x5a_u8).hash(&mut b);
    let (a, b) = (a.finish(), b.finish());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

/// `Content-Type` by file extension, as IIS's MIME map sends it (unknown extensions as
/// `application/octet-stream`).
pub(crate) fn content_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "aspx" | "htm" | "html" => "text/html",
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "tif" | "tiff" => "image/tiff",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "xml" => "text/xml",
        "json" => "application/json",
        "zip" => "application/zip",
        "rar" => "application/vnd.rar",
        "7z" => "application/x-7z-compressed",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// The validators of a conditional GET (`If-None-Match`, `If-Modified-Since`), as sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditional {
    /// `If-None-Match`: one or more entity tags, or `*`.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`: an HTTP date.
    pub if_modified_since: Option<String>,
}

impl Conditional {
    /// Whether the client's copy is current (RFC 9110, 13.2.2): `If-None-Match` decides when
    /// it is sent (weak comparison); otherwise `If-Modified-Since`, to the second.
    pub fn not_modified(&self, target: &FileTarget) -> bool {
        if let Some(tags) = &self.if_none_match {
            let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
            let ours = strip(&target.etag);
            return tags.split(',').any(|t| t.trim() == "*" || strip(t) == ours);
        }
        let Some(since) = self
            .if_modified_since
            .as_deref()
            .and_then(|d| httpdate::parse_http_date(d).ok())
        else {
            return false;
        };
        let secs = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default()
        };
        secs(target.modified) <= secs(since)
    }
}

/// `304 Not Modified` for a file the client holds, with its `ETag` and `Last-Modified`.
pub(crate) fn not_modified(target: &FileTarget) -> Response {
    let mut response = body::response(body::full(Bytes::new()));
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    validators(response.headers_mut(), target);
    response
}

fn validators(headers: &mut hyper::HeaderMap, target: &FileTarget) {
    headers.insert(header::ETAG, header_value(&target.etag));
    headers.insert(
        header::LAST_MODIFIED,
        header_value(&httpdate::fmt_http_date(target.modified)),
    );
}

/// Streams a file with `Content-Type`, `Content-Length`, `ETag` and `Last-Modified`.
pub(crate) async fn respond(target: &FileTarget, content_type: &str) -> Response {
    let body = match &target.content {
        Content::Memory(bytes) => body::full(Bytes::from_static(bytes)),
        Content::Synthetic { seed, len } => body::full(grow::bytes(*seed, *len)),
        Content::Disk(path) => match tokio::fs::File::open(path).await {
            Ok(file) => body::stream(chunks(file)),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot open sample file");
                return plain(StatusCode::NOT_FOUND, "404 NOT FOUND");
            }
        },
    };
    let mut response = body::response(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header_value(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(target.len));
    validators(headers, target);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
    response
}

/// A file's bytes in chunks of 64 KiB, read as they are sent.
fn chunks(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 64 * 1024];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

/// A header value from text; characters a header cannot hold become `?`.
pub(crate) fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| {
        let cleaned: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        HeaderValue::from_str(&cleaned).unwrap_or(HeaderValue::from_static("?"))
    })
}

/// A short plain-text answer.
pub(crate) fn plain(status: StatusCode, body: &'static str) -> Response {
    let mut response = body::response(body::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The HTML page IIS and SharePoint show for a path that does not exist.
pub(crate) fn html_status(status: StatusCode) -> Response {
    let title = match status {
        StatusCode::BAD_REQUEST => "400 BAD REQUEST",
        StatusCode::METHOD_NOT_ALLOWED => "405 METHOD NOT ALLOWED",
        _ => "404 NOT FOUND",
    };
    let body = format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    );
    let mut response = body::response(body::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_and_shaped() {
        let a = guid_from(&("x", 1));
        assert_eq!(a, guid_from(&("x", 1)));
        assert_ne!(a, guid_from(&("x", 2)));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type("Kế hoạch #3.DOCX"), content_type("a.docx"));
        assert_eq!(content_type("a.pdf"), "application/pdf");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
