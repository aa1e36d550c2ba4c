//! The CDXJ index of a capture, as replay tools (pywb) read it: one line per response,
//! `SURT timestamp {json}`, sorted.
//!
//! The lines are those the `cdxj-indexer` tool writes for the same WARC files with `--sort`:
//! the URL key is the SURT form of the target URI as the `surt` library makes it (the IA
//! canonicaliser: unescaped then minimally escaped, lower-cased, `www.` and default ports
//! dropped, query arguments sorted), the JSON fields are `url`, `mime`, `status`, `digest`,
//! `length`, `offset` and `filename`, written as Python's `json.dumps` writes them (non-ASCII
//! as `\uXXXX`). CI builds the index with that tool and compares the bytes.

use super::read::{self, Scanned};
use std::collections::BTreeSet;
use std::io;
use std::path::Path;

/// The index of the WARC files `files` (paths), sorted, identical lines once.
pub fn build(files: &[impl AsRef<Path>]) -> io::Result<Vec<u8>> {
    let mut lines = BTreeSet::new();
    for path in files {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let end = read::scan(path, |r| {
            if let Some(line) = line(r, &name) {
                lines.insert(line);
            }
        })?;
        if let Some(why) = end.broken {
            return Err(io::Error::other(format!("{}: {why}", path.display())));
        }
    }
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

/// The index line of a record, for a response.
fn line(r: &Scanned, file: &str) -> Option<String> {
    if r.field("WARC-Type") != Some("response") {
        return None;
    }
    let url = r.field("WARC-Target-URI")?;
    let date = r.field("WARC-Date")?;
    let mut json: Vec<(&str, String)> = vec![("url", url.to_string())];
    if let Some(http) = &r.http {
        if let Some(ct) = http.header("Content-Type") {
            let mime = ct.split([';', ' ', '\t', '\r', '\n']).next().unwrap_or("");
            json.push(("mime", mime.trim().to_string()));
        }
        if let Some(status) = http.status() {
            json.push(("status", status.to_string()));
        }
    }
    if let Some(d) = r.field("WARC-Payload-Digest") {
        json.push(("digest", d.to_string()));
    }
    json.push(("length", r.length.to_string()));
    json.push(("offset", r.offset.to_string()));
    json.push(("filename", file.to_string()));
    let body: Vec<String> = json
        .iter()
        .map(|(k, v)| format!("{}: {}", py_json_string(k), py_json_string(v)))
        .collect();
    Some(format!(
        "{} {} {{{}}}",
        surt(url),
        timestamp(date),
        body.join(", ")
    ))
}

/// A WARC date as a 14-digit timestamp.
fn timestamp(date: &str) -> String {
    let digits: String = date.chars().filter(char::is_ascii_digit).take(14).collect();
    format!("{digits:0<14}")
}

/// A string as Python's `json.dumps` writes it with its defaults (`ensure_ascii`).
fn py_json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The SURT key of `url`, as `surt.surt(url)` gives it with its defaults.
pub fn surt(url: &str) -> String {
    let Ok(u) = url::Url::parse(url) else {
        return url.to_string();
    };
    let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host.trim_matches('.').replace("..", ".");
    let host = strip_www(&host);
    let host: Vec<&str> = host.split('.').rev().collect();
    let mut key = host.join(",");
    let default = match u.scheme() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    if let Some(p) = u.port()
        && Some(p) != default
    {
        key.push_str(&format!(":{p}"));
    }
    key.push(')');
    let path = escape_once(&normalize_path(&unescape_repeatedly(u.path().as_bytes())));
    let mut path = strip_path_session_id(&path.to_ascii_lowercase());
    if path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    key.push_str(&path);
    if let Some(q) = u.query().filter(|q| !q.is_empty()) {
        let q = escape_once(&unescape_repeatedly(q.as_bytes()));
        let q = strip_query_session_id(&q).to_ascii_lowercase();
        let q = alpha_reorder(&q);
        if !q.is_empty() {
            key.push('?');
            key.push_str(&q);
        }
    }
    key
}

fn strip_www(host: &str) -> &str {
    let Some(rest) = host.strip_prefix("www") else {
        return host;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[digits..].strip_prefix('.').unwrap_or(host)
}

fn unescape_repeatedly(s: &[u8]) -> Vec<u8> {
    let mut s = s.to_vec();
    loop {
        let un: Vec<u8> = percent_encoding::percent_decode(&s).collect();
        if un == s {
            return s;
        }
        s = un;
    }
}

/// Escapes what Python's `quote_from_bytes` escapes with surt's safe set: bytes outside
/// `!`..`~`, `#` and `%`.
fn escape_once(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if (0x21..=0x7e).contains(&b) && b != b'#' && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `.` and `..` segments resolved and empty segments dropped, as surt's `normalizePath`.
fn normalize_path(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b"/".to_vec();
    }
    let mut kept: Vec<&[u8]> = Vec::new();
    for p in path.split(|&b| b == b'/').skip(1) {
        match p {
            b"." => {}
            b".." => {
                if kept.pop().is_none() {
                    kept.push(p);
                }
            }
            _ => kept.push(p),
        }
    }
    let mut out = b"/".to_vec();
    if let Some((last, rest)) = kept.split_last() {
        for p in rest {
            if !p.is_empty() {
                out.extend_from_slice(p);
                out.push(b'/');
            }
        }
        out.extend_from_slice(last);
    }
    out
}

/// The regexes of `patterns`, compiled once into `cell`.
fn compiled(
    cell: &'static std::sync::OnceLock<Vec<regex::Regex>>,
    patterns: &[&str],
) -> &'static [regex::Regex] {
    cell.get_or_init(|| {
        patterns
            .iter()
            .filter_map(|r| regex::Regex::new(r).ok())
            .collect()
    })
}

/// ASP.NET cookieless session ids out of a path, as surt removes them.
fn strip_path_session_id(path: &str) -> String {
    static RES: std::sync::OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    let res = compiled(
        &RES,
        &[
            r"(?is)^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$",
            r"(?is)^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$",
        ],
    );
    let mut path = path.to_string();
    for re in res {
        if let Some(c) = re.captures(&path) {
            path = format!("{}{}", &c[1], &c[3]);
        }
    }
    path
}

/// Session ids out of a query, as surt removes them.
fn strip_query_session_id(query: &str) -> String {
    static RES: std::sync::OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    let res = compiled(
        &RES,
        &[
            r"(?is)^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$",
            r"(?is)^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$",
            r"(?is)^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$",
            r"(?is)^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$",
            r"(?is)^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$",
        ],
    );
    let mut query = query.to_string();
    for re in res {
        if let Some(c) = re.captures(&query) {
            query = match c.get(2) {
                Some(rest) if !rest.as_str().is_empty() => format!("{}{}", &c[1], rest.as_str()),
                _ => c[1].to_string(),
            };
        }
    }
    query
}

/// Query arguments sorted as surt sorts them: by name, then value, an argument without `=`
/// before one with it.
fn alpha_reorder(query: &str) -> String {
    if query.len() <= 1 {
        return query.to_string();
    }
    let mut args: Vec<(&str, Option<&str>)> = query
        .split('&')
        .map(|a| match a.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (a, None),
        })
        .collect();
    args.sort();
    args.iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys `surt.surt` (surt 0.3.1) gives for these URLs.
    #[test]
    fn surt_keys_match_the_surt_library() {
        for (url, key) in [
            (
                "http://127.0.0.1:18800/sites/tin-tuc/_api/web/lists/GetByTitle('Tin%20t%E1%BB%A9c')/items?$top=100&$select=ID,Title",
                "1,0,0,127:18800)/sites/tin-tuc/_api/web/lists/getbytitle('tin%20t%e1%bb%a9c')/items?$select=id,title&$top=100",
            ),
            ("http://127.0.0.1:18800/", "1,0,0,127:18800)/"),
            (
                "http://www.Example.com/A/b?b=2&a=1",
                "com,example)/a/b?a=1&b=2",
            ),
            (
                "http://127.0.0.1:18800/Lists/Tin%20tuc/Attachments/1/T%C3%A0i%20li%E1%BB%87u.pdf",
                "1,0,0,127:18800)/lists/tin%20tuc/attachments/1/t%c3%a0i%20li%e1%bb%87u.pdf",
            ),
            ("http://ex.com/%7Efoo/a%20b", "com,ex)/~foo/a%20b"),
            ("http://127.0.0.1:80/x", "1,0,0,127)/x"),
        ] {
            assert_eq!(surt(url), key, "{url}");
        }
    }

    #[test]
    fn json_strings_are_written_as_python_writes_them() {
        assert_eq!(py_json_string("tức \"x\""), "\"t\\u1ee9c \\\"x\\\"\"");
        assert_eq!(py_json_string("a/b"), "\"a/b\"");
    }
}
