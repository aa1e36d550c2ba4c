//! Manifest lines: writing them, and reading them back strictly.
//!
//! The writer and the verifier share this file so that what one writes is exactly what the
//! other expects: `<hex>  <path>` lines, paths percent-encoded only for CR, LF and `%`
//! (RFC 8493 §2.1.3), any of LF, CR or CRLF accepted as a line ending when reading. Bags
//! older than BagIt 1.0 had no percent-encoding, so their paths are read literally.

use super::digest::digest_len;
use super::report::FindingCode;

/// How paths in a manifest or `fetch.txt` are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathEncoding {
    /// RFC 8493: `%0A`, `%0D` and `%25` only, and a bare `%` is an error.
    Rfc8493,
    /// BagIt 0.97 and earlier: the path is the name, `%` and all.
    Literal,
}

impl PathEncoding {
    /// Decodes a listed path.
    pub(crate) fn decode(self, raw: &str) -> Result<String, String> {
        match self {
            Self::Rfc8493 => decode_path(raw),
            Self::Literal => Ok(raw.to_string()),
        }
    }
}

/// One parsed manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// The checksum, lowercase hex.
    pub digest: String,
    /// The path, percent-decoded.
    pub path: String,
}

/// A line that could not be used, or that was used with a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineProblem {
    /// 1-based line number.
    pub line: usize,
    /// What kind of problem.
    pub code: FindingCode,
    /// What is wrong, in words.
    pub message: String,
    /// True when the entry was still used.
    pub warning: bool,
}

/// The usable entries of a manifest and the problems found on its lines.
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub entries: Vec<Entry>,
    pub problems: Vec<LineProblem>,
}

/// Renders manifest text from `(hex digest, path)` pairs, in the order given.
pub(crate) fn render<'a>(lines: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    lines
        .into_iter()
        .map(|(digest, path)| format!("{digest}  {}\n", encode_path(path)))
        .collect()
}

/// Percent-encodes CR, LF and `%`, and nothing else.
pub(crate) fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Decodes `%0A`, `%0D` and `%25` (either case); any other `%` is an error.
pub(crate) fn decode_path(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("0A") => '\n',
            Some("0D") => '\r',
            Some("25") => '%',
            _ => {
                return Err(
                    "path has a '%' that is not %0A, %0D or %25; RFC 8493 requires a literal % to be written as %25"
                        .to_string(),
                );
            }
        };
        out.push(decoded);
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits text into lines ending in LF, CR or CRLF; a final ending adds no empty line.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\r', '\n']) {
            None => {
                lines.push(rest);
                break;
            }
            Some(at) => {
                lines.push(&rest[..at]);
                let ending = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[at + ending..];
            }
        }
    }
    lines
}

/// Normalises an algorithm name as RFC 8493 §2.4 says: lowercase, alphanumerics only.
pub(crate) fn normalize_algorithm(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Parses manifest text for `algorithm`, reporting each bad line and keeping the good ones.
#[cfg(test)]
pub(crate) fn parse(text: &str, algorithm: &str, encoding: PathEncoding) -> Parsed {
    let mut parsed = Parsed::default();
    for (index, line) in split_lines(text).into_iter().enumerate() {
        if let Some(entry) = parse_one(line, index + 1, algorithm, encoding, &mut parsed.problems) {
            parsed.entries.push(entry);
        }
    }
    parsed
}

/// Parses line `line_no` of a manifest for `algorithm`: the entry when it can be used, and
/// its problems pushed to `problems`.
pub(crate) fn parse_one(
    line: &str,
    line_no: usize,
    algorithm: &str,
    encoding: PathEncoding,
    problems: &mut Vec<LineProblem>,
) -> Option<Entry> {
    match parse_line(line, digest_len(algorithm), encoding) {
        Ok((entry, warnings)) => {
            for (code, message) in warnings {
                problems.push(LineProblem {
                    line: line_no,
                    code,
                    message,
                    warning: true,
                });
            }
            Some(Entry {
                line: line_no,
                ..entry
            })
        }
        Err(message) => {
            problems.push(LineProblem {
                line: line_no,
                code: FindingCode::BadManifestLine,
                message,
                warning: false,
            });
            None
        }
    }
}

/// Calls `each` with every line of `reader` as [`split_lines`] splits text, without holding
/// more than one line: lines end in LF, CR or CRLF, and a final ending adds no empty line.
pub(crate) fn for_each_line(
    reader: impl std::io::Read,
    mut each: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let mut chunk = Vec::new();
    loop {
        chunk.clear();
        if reader.read_until(b'\n', &mut chunk)? == 0 {
            return Ok(());
        }
        let body = chunk.strip_suffix(b"\n").unwrap_or(&chunk);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        for line in body.split(|&b| b == b'\r') {
            each(line)?;
        }
    }
}

/// Warnings about a line that is still used.
type LineWarnings = Vec<(FindingCode, String)>;

/// Parses `checksum 1*WSP path`, with warnings about a usable line.
fn parse_line(
    line: &str,
    digest_len: Option<usize>,
    encoding: PathEncoding,
) -> Result<(Entry, LineWarnings), String> {
    let (digest, rest) = line
        .split_once([' ', '\t'])
        .ok_or_else(|| "expected a checksum, whitespace and a path".to_string())?;
    if digest.is_empty() {
        return Err("line starts with whitespace instead of a checksum".to_string());
    }
    if !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("checksum {digest:?} is not hexadecimal"));
    }
    if let Some(expected) = digest_len.filter(|&n| n != digest.len()) {
        return Err(format!(
            "checksum has {} hex digits where the algorithm has {expected}",
            digest.len()
        ));
    }
    let mut raw_path = rest.trim_start_matches([' ', '\t']);
    let mut warnings = Vec::new();
    if let Some(stripped) = raw_path.strip_prefix('*') {
        raw_path = stripped;
        warnings.push((
            FindingCode::BinaryModeMarker,
            "path starts with '*' (md5sum binary mode); read without it".to_string(),
        ));
    }
    if let Some(stripped) = raw_path.strip_prefix("./") {
        raw_path = stripped;
        warnings.push((
            FindingCode::LeadingDotSlash,
            "path starts with './'; read without it".to_string(),
        ));
    }
    if raw_path.is_empty() {
        return Err("line has no path after the checksum".to_string());
    }
    let path = encoding.decode(raw_path)?;
    let entry = Entry {
        line: 0,
        digest: digest.to_ascii_lowercase(),
        path,
    };
    Ok((entry, warnings))
}

/// An `InvalidInput` error when `path` could reach outside the bag: readers refuse to open it.
pub(crate) fn refuse_escape(path: &str) -> std::io::Result<()> {
    match escape_reason(path) {
        Some(reason) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing to open {path:?}: it {reason}"),
        )),
        None => Ok(()),
    }
}

/// Why a listed path could reach outside the bag, or `None` when it stays inside.
pub(crate) fn escape_reason(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    if path.starts_with('/') {
        Some("is absolute")
    } else if path.contains('\\') {
        Some("contains a backslash, which some systems read as a separator")
    } else if path.starts_with('~') {
        Some("starts with '~', which shells expand to a home directory")
    } else if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        Some("starts with a drive letter")
    } else if path.split('/').any(|segment| segment == "..") {
        Some("has a '..' segment")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn render_uses_two_spaces_and_lf() {
        assert_eq!(
            render([("ab", "data/a.txt"), ("cd", "data/100%.txt")]),
            "ab  data/a.txt\ncd  data/100%25.txt\n"
        );
    }

    #[test]
    fn decode_accepts_only_the_three_escapes() {
        assert_eq!(
            decode_path("data/100%25.txt"),
            Ok("data/100%.txt".to_string())
        );
        assert_eq!(decode_path("a%0ab%0Dc"), Ok("a\nb\rc".to_string()));
        assert!(decode_path("data/%2e%2e/x").is_err());
        assert!(decode_path("data/100%.txt").is_err());
        assert!(decode_path("data/x%2").is_err());
        assert!(decode_path("data/x%é").is_err());
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let path = "data/a%b\nc\rd";
        assert_eq!(decode_path(&encode_path(path)), Ok(path.to_string()));
    }

    #[test]
    fn streamed_lines_split_as_text_does() {
        for text in [
            "a\nb\r\nc\rd",
            "a\n",
            "a\n\nb",
            "",
            "a\r",
            "a\r\r\n",
            "a\rb",
            "\r\n\r",
            "x\r\ny\r",
        ] {
            let mut streamed = Vec::new();
            for_each_line(text.as_bytes(), |l| {
                streamed.push(String::from_utf8_lossy(l).into_owned());
                Ok(())
            })
            .unwrap_or_default();
            assert_eq!(streamed, split_lines(text), "{text:?}");
        }
    }

    #[test]
    fn lines_split_on_every_ending() {
        assert_eq!(split_lines("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(split_lines("a\n"), ["a"]);
        assert_eq!(split_lines("a\n\nb"), ["a", "", "b"]);
        assert!(split_lines("").is_empty());
    }

    #[test]
    fn parses_spaces_tabs_and_uppercase_hex() {
        let text = format!(
            "{}  data/a b.txt\r\n{}\tdata/c.txt",
            SHA256_ABC.to_uppercase(),
            SHA256_ABC
        );
        let parsed = parse(&text, "sha256", PathEncoding::Rfc8493);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(parsed.entries[0].path, "data/a b.txt");
        assert_eq!(parsed.entries[0].digest, SHA256_ABC);
        assert_eq!(parsed.entries[1].line, 2);
    }

    #[test]
    fn reports_bad_lines_with_their_numbers() {
        let text = format!(
            "{SHA256_ABC}  data/ok\nnothex  data/x\n{SHA256_ABC}\n  data/y\nabc  data/short\n\n{SHA256_ABC}  data/%41\n"
        );
        let parsed = parse(&text, "sha256", PathEncoding::Rfc8493);
        assert_eq!(parsed.entries.len(), 1);
        let lines: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7]);
        assert!(parsed.problems.iter().all(|p| !p.warning));
    }

    #[test]
    fn binary_mode_star_and_leading_dot_slash_are_warnings() {
        let parsed = parse(
            &format!("{SHA256_ABC} *./data/a"),
            "sha256",
            PathEncoding::Rfc8493,
        );
        assert_eq!(parsed.entries[0].path, "data/a");
        let codes: Vec<FindingCode> = parsed.problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [FindingCode::BinaryModeMarker, FindingCode::LeadingDotSlash]
        );
        assert!(parsed.problems.iter().all(|p| p.warning));
    }

    #[test]
    fn pre_1_0_paths_are_literal() {
        let text = format!("{SHA256_ABC}  data/%7Etest.txt\n{SHA256_ABC}  data/%test2.txt\n");
        let parsed = parse(&text, "sha256", PathEncoding::Literal);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.entries[1].path, "data/%test2.txt");
        let strict = parse(&text, "sha256", PathEncoding::Rfc8493);
        assert_eq!(strict.problems.len(), 2);
    }

    #[test]
    fn escapes_are_recognised() {
        for path in [
            "/etc/passwd",
            "data/../../x",
            "~root/x",
            "C:/x",
            "data\\x",
            "..",
        ] {
            assert!(escape_reason(path).is_some(), "{path}");
        }
        assert_eq!(escape_reason("data/..x/y"), None);
    }

    #[test]
    fn algorithm_names_normalise() {
        assert_eq!(normalize_algorithm("SHA-256"), "sha256");
        assert_eq!(normalize_algorithm("sha3_256"), "sha3256");
    }
}
