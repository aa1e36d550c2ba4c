//! The request side of SharePoint's OData dialect: `/_api` path segments with their
//! arguments, OData literals, `@alias` parameters, query options and the `Accept` header.
//!
//! Clients write the same request in many spellings (`getByTitle`, `GetByTitle`, `%27` or a
//! raw quote, a doubled quote inside a literal, an alias in the query string), and a real farm
//! accepts them all. Parsing them here, separately from the answers, keeps the route code a
//! plain match on already-decoded values, and makes every malformed request an `Err` that the
//! server turns into a 400 instead of a panic.

use percent_encoding::percent_decode_str;

/// One path segment: `items(5)` is name `items`, args `Some("5")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    /// The name as written.
    pub name: String,
    /// The raw text between the parentheses, if any.
    pub args: Option<String>,
}

impl Segment {
    /// Whether the name equals `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// Percent-decodes a path or query component into UTF-8.
pub(crate) fn decode(raw: &str) -> Result<String, String> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("'{raw}' is not percent-encoded UTF-8"))
}

/// Splits a decoded `/_api/...` remainder into segments, keeping `/` inside quoted literals
/// (`GetFileByServerRelativeUrl('/Lists/a/b.pdf')`) and parentheses together.
pub(crate) fn split_segments(path: &str) -> Result<Vec<Segment>, String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '\'' => in_quote = !in_quote,
            '(' if !in_quote => depth += 1,
            ')' if !in_quote => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| "unbalanced ')'".to_owned())?;
            }
            '/' if !in_quote && depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if in_quote || depth != 0 {
        return Err("unterminated literal or parenthesis".to_owned());
    }
    parts.push(current);
    // A trailing slash (`/_api/web/`) is harmless; empty segments elsewhere are not.
    if parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts.into_iter().map(|p| parse_segment(&p)).collect()
}

fn parse_segment(part: &str) -> Result<Segment, String> {
    if part.is_empty() {
        return Err("empty path segment".to_owned());
    }
    match part.find('(') {
        None => Ok(Segment {
            name: part.to_owned(),
            args: None,
        }),
        Some(open) => {
            let Some(inner) = part[open + 1..].strip_suffix(')') else {
                return Err(format!("'{part}' does not end with ')'"));
            };
            Ok(Segment {
                name: part[..open].to_owned(),
                args: Some(inner.to_owned()),
            })
        }
    }
}

/// An OData literal from a path argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Literal {
    /// `'text'` with `''` undoubled.
    Str(String),
    /// `guid'...'`, lowercased without braces.
    Guid(String),
    /// An integer.
    Int(i64),
}

/// Parses a literal, replacing `@alias` by the value of the query parameter `@alias`.
pub(crate) fn parse_literal(raw: &str, query: &Query) -> Result<Literal, String> {
    let raw = raw.trim();
    if raw.starts_with('@') {
        let Some(value) = query.alias(raw) else {
            return Err(format!("the alias {raw} has no value in the query string"));
        };
        if value.trim_start().starts_with('@') {
            return Err(format!("the alias {raw} points to another alias"));
        }
        return parse_literal(value, query);
    }
    if let Some(rest) = raw
        .strip_prefix("guid'")
        .or_else(|| raw.strip_prefix("GUID'"))
    {
        let Some(guid) = rest.strip_suffix('\'') else {
            return Err(format!("{raw} is not a guid literal"));
        };
        return Ok(Literal::Guid(super::data::normalize_guid(guid)));
    }
    if let Some(body) = raw.strip_prefix('\'') {
        let Some(body) = body.strip_suffix('\'') else {
            return Err(format!("{raw} is not a closed string literal"));
        };
        let mut out = String::with_capacity(body.len());
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                // Inside a literal a quote must be doubled.
                if chars.next() != Some('\'') {
                    return Err(format!("{raw} has a single quote that is not doubled"));
                }
            }
            out.push(c);
        }
        return Ok(Literal::Str(out));
    }
    raw.parse::<i64>()
        .map(Literal::Int)
        .map_err(|_| format!("{raw} is not a literal"))
}

/// Splits `name=value` (for `decodedurl='...'`), outside quotes.
pub(crate) fn named_arg<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let (key, value) = raw.split_once('=')?;
    key.trim().eq_ignore_ascii_case(name).then_some(value)
}

/// The decoded query string, in request order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (`+` and `%20` both mean a space).
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// The value of a system query option (`$top`, ...), matched case-insensitively.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of an `@alias` parameter (exact name).
    pub fn alias(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs in request order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Splits a `$select` / `$expand` value into trimmed, non-empty names.
pub(crate) fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The JSON shape a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/json;odata=verbose`: `{"d":…}` with `__metadata`.
    Verbose,
    /// `application/json;odata=minimalmetadata` (and plain `application/json`).
    Minimal,
    /// `application/json;odata=nometadata`.
    NoMetadata,
}

impl Format {
    /// The response `Content-Type` for this shape.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Verbose => "application/json;odata=verbose;charset=utf-8",
            Format::Minimal => {
                "application/json;odata=minimalmetadata;streaming=true;charset=utf-8"
            }
            Format::NoMetadata => "application/json;odata=nometadata;streaming=true;charset=utf-8",
        }
    }
}

/// What the `Accept` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// A JSON shape; `explicit` is false for plain `application/json`.
    Json { format: Format, explicit: bool },
    /// No JSON media type at all (missing header, `*/*`, Atom, XML).
    NoJson,
}

/// Reads the first `application/json` media range of an `Accept` header.
pub(crate) fn parse_accept(header: Option<&str>) -> Accept {
    let Some(header) = header else {
        return Accept::NoJson;
    };
    for range in header.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        if !media.eq_ignore_ascii_case("application/json") {
            continue;
        }
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim().trim_matches('"').to_ascii_lowercase();
            let format = match (key.as_str(), value.as_str()) {
                ("odata", "verbose") => Some(Format::Verbose),
                ("odata", "minimalmetadata" | "fullmetadata") => Some(Format::Minimal),
                ("odata", "nometadata") => Some(Format::NoMetadata),
                ("odata.metadata", "minimal" | "full") => Some(Format::Minimal),
                ("odata.metadata", "none") => Some(Format::NoMetadata),
                _ => None,
            };
            if let Some(format) = format {
                return Accept::Json {
                    format,
                    explicit: true,
                };
            }
        }
        return Accept::Json {
            format: Format::Minimal,
            explicit: false,
        };
    }
    Accept::NoJson
}

/// Percent-encodes everything but RFC 3986 unreserved characters, with lowercase hex, as
/// SharePoint writes next links (`Paged%3dTRUE%26p_ID%3d2`, `Id%2cTitle`).
pub(crate) fn encode_lower(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// Percent-encodes a path for use in a URL: unreserved characters and `/` stay, everything
/// else (spaces, `#`, `%`, `'`, non-ASCII) becomes uppercase `%XX`.
pub(crate) fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Writes a string as an OData literal: `O'Brien` → `'O''Brien'`.
pub(crate) fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(name: &str, args: Option<&str>) -> Segment {
        Segment {
            name: name.to_owned(),
            args: args.map(str::to_owned),
        }
    }

    #[test]
    fn segments_keep_slashes_inside_literals() {
        let got = split_segments("web/GetFileByServerRelativeUrl('/Lists/a/b (1).pdf')/$value");
        assert_eq!(
            got,
            Ok(vec![
                seg("web", None),
                seg("GetFileByServerRelativeUrl", Some("'/Lists/a/b (1).pdf'")),
                seg("$value", None),
            ])
        );
    }

    #[test]
    fn segments_reject_unbalanced_input() {
        assert!(split_segments("web/lists/getbytitle('x").is_err());
        assert!(split_segments("web/items(5").is_err());
        assert!(split_segments("web)/x").is_err());
        assert!(split_segments("web//lists").is_err());
    }

    #[test]
    fn string_literals_undouble_quotes() {
        let q = Query::default();
        assert_eq!(
            parse_literal("'O''Brien'", &q),
            Ok(Literal::Str("O'Brien".into()))
        );
        assert!(parse_literal("'O'Brien'", &q).is_err());
        assert_eq!(
            parse_literal("guid'{ABC-1}'", &q),
            Ok(Literal::Guid("abc-1".into()))
        );
        assert_eq!(parse_literal("12", &q), Ok(Literal::Int(12)));
        assert!(parse_literal("x12", &q).is_err());
    }

    #[test]
    fn aliases_come_from_the_query() {
        let q = Query::parse(Some("@t='Tin%20t%E1%BB%A9c'&$top=2"));
        assert_eq!(parse_literal("@t", &q), Ok(Literal::Str("Tin tức".into())));
        assert!(parse_literal("@missing", &q).is_err());
    }

    #[test]
    fn accept_headers_map_to_shapes() {
        assert_eq!(parse_accept(None), Accept::NoJson);
        assert_eq!(parse_accept(Some("*/*")), Accept::NoJson);
        assert_eq!(
            parse_accept(Some("application/json; odata=verbose")),
            Accept::Json {
                format: Format::Verbose,
                explicit: true
            }
        );
        assert_eq!(
            parse_accept(Some("text/html, application/json")),
            Accept::Json {
                format: Format::Minimal,
                explicit: false
            }
        );
        assert_eq!(
            parse_accept(Some("application/json;odata=nometadata")),
            Accept::Json {
                format: Format::NoMetadata,
                explicit: true
            }
        );
    }

    #[test]
    fn next_link_encoding_is_lowercase() {
        assert_eq!(encode_lower("Paged=TRUE&p_ID=2"), "Paged%3dTRUE%26p_ID%3d2");
        assert_eq!(encode_lower("$select"), "%24select");
        assert_eq!(encode_lower("Id,Author/Title"), "Id%2cAuthor%2fTitle");
        assert_eq!(encode_lower("Đ"), "%c4%90");
        assert_eq!(encode_path("/a b/#%'.pdf"), "/a%20b/%23%25%27.pdf");
    }
}
