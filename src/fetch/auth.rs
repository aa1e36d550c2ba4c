//! Signing in: the credentials a crawl carries, which requests get them, and how secrets are
//! kept out of everything sharc prints or stores.
//!
//! Farms that need a sign-in are the rule in migrations: on-premises SharePoint behind
//! Windows authentication (NTLM), forms-based sites that hand out a `FedAuth` cookie,
//! SharePoint Online with an Entra ID access token, the odd site with Basic over TLS. A secret
//! never comes from a command-line flag (visible in `ps` and in crontab): [`Secret::from_env`]
//! and [`Secret::from_file`] read it, and a file other users can read gets a warning.
//!
//! The client adds credentials in its one request path (`Credentials::signing`), and only
//! to the portal's own scheme, host and port as the one [`Scope`](super::Scope) decides it
//! ([`Scope::is_site`](super::Scope::is_site)): a host allowed with `--allow-host` gets none,
//! and a redirect to another host loses them, as in a browser. [`redact_header`] is the one
//! redaction of `Authorization`, `Cookie` and `Set-Cookie` values for anything that shows or
//! keeps HTTP headers (logs, errors, captures).

use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::header::HeaderMap;

/// A secret value: a token, a cookie header, a password. Its `Debug` shows no byte of it and
/// it has no `Display`, so it cannot end up in a log line or an error by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A secret that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable is not set, empty, or not UTF-8.
    #[error(
        "the environment variable {var} {why}: set it to the secret (e.g. `read -rs {var}; export {var}`), or name another variable"
    )]
    Env {
        /// The variable's name.
        var: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The file cannot be read, or holds nothing usable.
    #[error("{}: {why}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

impl Secret {
    /// The secret held by the environment variable `var`, surrounding white space removed.
    pub fn from_env(var: &str) -> Result<Secret, SecretError> {
        let bad = |why| SecretError::Env {
            var: var.to_string(),
            why,
        };
        let value = match std::env::var(var) {
            Ok(v) => v,
            Err(std::env::VarError::NotPresent) => return Err(bad("is not set")),
            Err(std::env::VarError::NotUnicode(_)) => return Err(bad("is not UTF-8")),
        };
        Secret::checked(value.trim()).ok_or_else(|| bad("is empty or holds a line break"))
    }

    /// The secret in the file at `path` (its first line that is not blank), with a warning
    /// when users other than its owner may read the file.
    pub fn from_file(path: &Path) -> Result<Secret, SecretError> {
        let text = read_secret_file(path)?;
        let line = text.lines().map(str::trim).find(|l| !l.is_empty());
        line.and_then(Secret::checked)
            .ok_or_else(|| SecretError::File {
                path: path.to_path_buf(),
                why: "holds no secret: put the token on the file's first line".into(),
            })
    }

    /// A secret given in code (tests, or a program using the library); `None` when it is
    /// empty or holds control characters, which no HTTP header may carry.
    pub fn new(value: &str) -> Option<Secret> {
        Secret::checked(value)
    }

    /// The value as it goes on the wire. Only the client's request path calls this.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// A secret fit for an HTTP header: not empty, no control characters.
    fn checked(value: &str) -> Option<Secret> {
        (!value.is_empty() && !value.chars().any(char::is_control))
            .then(|| Secret(value.to_string()))
    }
}

/// Reads a file holding a secret, warning when its mode lets others read it.
fn read_secret_file(path: &Path) -> Result<String, SecretError> {
    let bad = |why: String| SecretError::File {
        path: path.to_path_buf(),
        why,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("{e}; give a readable file")))?;
    if !meta.is_file() {
        return Err(bad("not a file".into()));
    }
    if meta.len() > SECRET_FILE_LIMIT {
        return Err(bad(format!(
            "larger than {SECRET_FILE_LIMIT} bytes, too large for a token or cookie file"
        )));
    }
    warn_if_shared(path, &meta);
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))
}

/// The largest secret or cookie file read: 1 MiB.
const SECRET_FILE_LIMIT: u64 = 1024 * 1024;

#[cfg(unix)]
fn warn_if_shared(path: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    if mode & 0o044 != 0 {
        tracing::warn!(
            "{} holds a secret and other users may read it (mode {:03o}): `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path, _meta: &std::fs::Metadata) {}

/// A Windows account: `DOMAIN\name` (or a bare name), with its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The domain, empty when none was given.
    pub domain: String,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: Secret,
}

impl Account {
    /// `DOMAIN\name`, `name@domain` or `name`, with `password`.
    pub fn new(given: &str, password: Secret) -> Result<Account, String> {
        let given = given.trim();
        let (domain, user) = match (given.split_once('\\'), given.split_once('@')) {
            (Some((d, u)), _) => (d, u),
            (None, Some((u, d))) => (d, u),
            (None, None) => ("", given),
        };
        if user.is_empty() || user.contains(['\\', '@', ':']) || given.chars().any(char::is_control)
        {
            return Err(format!(
                "`{given}` is not an account name: give DOMAIN\\name, name@domain or name"
            ));
        }
        Ok(Account {
            domain: domain.to_string(),
            user: user.to_string(),
            password,
        })
    }

    /// `DOMAIN\name`, for messages.
    pub fn display(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!("{}\\{}", self.domain, self.user)
        }
    }
}

/// How sharc signs in to the portal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// Not at all: what anonymous readers see.
    #[default]
    Anonymous,
    /// `Authorization: Bearer <token>`: an Entra ID access token for SharePoint Online, or a
    /// farm's add-in token.
    Bearer(Secret),
    /// `Cookie: <cookies>`: `FedAuth`/`rtFa` or any cookies of a signed-in browser.
    Cookie(Secret),
    /// `Authorization: Basic`, user and password.
    Basic(Account),
    /// NTLM (Windows authentication): the three-leg handshake on one connection.
    Ntlm(Account),
}

/// The ways of signing in, for messages and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// No credentials.
    Anonymous,
    /// A bearer token.
    Bearer,
    /// A cookie header.
    Cookie,
    /// HTTP Basic.
    Basic,
    /// NTLM.
    Ntlm,
}

impl AuthMethod {
    /// The method's name as `--auth` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Anonymous => "anonymous",
            AuthMethod::Bearer => "bearer",
            AuthMethod::Cookie => "cookie",
            AuthMethod::Basic => "basic",
            AuthMethod::Ntlm => "ntlm",
        }
    }

    /// The flags that sign in this way.
    pub fn flags(self) -> &'static str {
        match self {
            AuthMethod::Anonymous => "no sign-in flags",
            AuthMethod::Bearer => "--auth bearer --token-env VAR (or --token-file PATH)",
            AuthMethod::Cookie => "--auth cookie --cookie-file PATH",
            AuthMethod::Basic => "--auth basic --user DOMAIN\\name --password-env VAR",
            AuthMethod::Ntlm => "--auth ntlm --user DOMAIN\\name --password-env VAR",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request to one URL carries.
pub(crate) enum Signing<'a> {
    /// Nothing.
    None,
    /// One header, set on every request.
    Header(String),
    /// The NTLM handshake with this account.
    Ntlm(&'a Account),
}

impl Credentials {
    /// The method.
    pub fn method(&self) -> AuthMethod {
        match self {
            Credentials::Anonymous => AuthMethod::Anonymous,
            Credentials::Bearer(_) => AuthMethod::Bearer,
            Credentials::Cookie(_) => AuthMethod::Cookie,
            Credentials::Basic(_) => AuthMethod::Basic,
            Credentials::Ntlm(_) => AuthMethod::Ntlm,
        }
    }

    /// The cookie header from a file: a `Cookie:` header line (or its value alone) copied
    /// from a browser, or a Netscape `cookies.txt`, of which the cookies for `host` are taken.
    pub fn cookie_file(path: &Path, host: &str) -> Result<Credentials, SecretError> {
        let text = read_secret_file(path)?;
        let header = cookie_header(&text, host).ok_or_else(|| SecretError::File {
            path: path.to_path_buf(),
            why: format!(
                "holds no cookie for {host}: give a `Cookie:` header line copied from a signed-in browser, or a cookies.txt exported from one"
            ),
        })?;
        Secret::checked(&header)
            .map(Credentials::Cookie)
            .ok_or_else(|| SecretError::File {
                path: path.to_path_buf(),
                why: "the cookie header holds control characters".into(),
            })
    }

    /// What a request to a URL gets, given whether the URL is the portal's own.
    pub(crate) fn signing(&self, on_site: bool) -> Signing<'_> {
        if !on_site {
            return Signing::None;
        }
        match self {
            Credentials::Anonymous => Signing::None,
            Credentials::Bearer(token) => Signing::Header(format!("Bearer {}", token.expose())),
            Credentials::Cookie(cookies) => Signing::Header(cookies.expose().to_string()),
            Credentials::Basic(a) => {
                let pair = format!("{}:{}", a.display(), a.password.expose());
                Signing::Header(format!("Basic {}", base64_encode(pair.as_bytes())))
            }
            Credentials::Ntlm(a) => Signing::Ntlm(a),
        }
    }

    /// The header name the method's value goes in (`Cookie` or `Authorization`).
    pub(crate) fn header_name(&self) -> reqwest::header::HeaderName {
        match self {
            Credentials::Cookie(_) => reqwest::header::COOKIE,
            _ => reqwest::header::AUTHORIZATION,
        }
    }
}

/// The `Cookie` header value in `text`: a header line, or the cookies for `host` in a
/// Netscape cookies.txt.
fn cookie_header(text: &str, host: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let netscape = lines.iter().any(|l| l.split('\t').count() == 7);
    if !netscape {
        let line = lines
            .iter()
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        let value = match line.split_once(':') {
            Some((name, v)) if name.trim().eq_ignore_ascii_case("cookie") => v.trim(),
            _ => line,
        };
        return (!value.is_empty() && value.contains('=')).then(|| value.to_string());
    }
    let host = host.to_ascii_lowercase();
    let pairs: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            // `#HttpOnly_` marks an HttpOnly cookie (FedAuth is one); other `#` lines are comments.
            let l = l.strip_prefix("#HttpOnly_").unwrap_or(l);
            if l.starts_with('#') {
                return None;
            }
            let f: Vec<&str> = l.split('\t').collect();
            let [domain, _, _, _, _, name, value] = f[..] else {
                return None;
            };
            let domain = domain.trim_start_matches('.').to_ascii_lowercase();
            let matches = host == domain || host.ends_with(&format!(".{domain}"));
            (matches && !name.is_empty()).then(|| format!("{name}={value}"))
        })
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// The headers whose values are secrets.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Whether the value of the header `name` is a secret (`Authorization`, `Proxy-Authorization`,
/// `Cookie`, `Set-Cookie`).
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The value of the header `name` as it may be shown or stored: unchanged for most headers;
/// for `Authorization` the scheme alone (`Bearer [redacted]`), for `Cookie` the cookie names
/// alone (`FedAuth=[redacted]; rtFa=[redacted]`), for `Set-Cookie` the name and attributes
/// without the value. Every capture, log or report that shows HTTP headers calls this.
pub fn redact_header(name: &str, value: &[u8]) -> Vec<u8> {
    if !is_secret_header(name) {
        return value.to_vec();
    }
    let text = String::from_utf8_lossy(value);
    let redacted = if name.eq_ignore_ascii_case("cookie") {
        text.split(';')
            .map(|pair| match pair.split_once('=') {
                Some((n, _)) => format!("{}={REDACTED}", n.trim()),
                None => REDACTED.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; ")
    } else if name.eq_ignore_ascii_case("set-cookie") {
        let (pair, attributes) = text.split_once(';').unwrap_or((&text, ""));
        let name = pair.split_once('=').map(|(n, _)| n.trim()).unwrap_or("");
        match attributes {
            "" => format!("{name}={REDACTED}"),
            a => format!("{name}={REDACTED};{a}"),
        }
    } else {
        match text.trim().split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_string(),
        }
    };
    redacted.into_bytes()
}

/// The authentication schemes a `401` asks for, from its `WWW-Authenticate` headers:
/// `NTLM`, `Negotiate`, `Bearer`, `Basic`, … in the order given.
pub fn challenges(headers: &HeaderMap) -> Vec<String> {
    let mut schemes: Vec<String> = Vec::new();
    for value in headers.get_all(reqwest::header::WWW_AUTHENTICATE) {
        let Ok(value) = value.to_str() else { continue };
        // A header may hold several challenges; a scheme is a token not followed by `=`.
        for part in value.split(',') {
            let word = part.trim().split(' ').next().unwrap_or("");
            if !word.is_empty()
                && !word.contains('=')
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
                && !schemes.iter().any(|s| s.eq_ignore_ascii_case(word))
            {
                schemes.push(word.to_string());
            }
        }
    }
    schemes
}

/// The method sharc would sign in with for a scheme a server asks for.
pub fn method_for_scheme(scheme: &str) -> Option<AuthMethod> {
    match scheme.to_ascii_lowercase().as_str() {
        "ntlm" | "negotiate" => Some(AuthMethod::Ntlm),
        "bearer" => Some(AuthMethod::Bearer),
        "basic" => Some(AuthMethod::Basic),
        _ => None,
    }
}

/// Whether `url` is a sign-in page: SharePoint's own (`/_layouts/…/Authenticate.aspx`,
/// `/_login/`, `/_forms/`, `/_trust/`, `/_windows/default.aspx`) or an identity provider's
/// (Entra ID, AD FS). A redirect there means "not signed in", never content.
pub fn is_login_page(url: &url::Url) -> bool {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    if [
        "login.microsoftonline.com",
        "login.windows.net",
        "login.live.com",
    ]
    .contains(&host.as_str())
    {
        return true;
    }
    let path = url.path().to_ascii_lowercase();
    path.ends_with("/authenticate.aspx")
        || path.ends_with("/accessdenied.aspx") && path.contains("/_layouts/")
        || ["/_login/", "/_forms/", "/_trust/", "/adfs/ls"]
            .iter()
            .any(|p| path.contains(p))
        || path.ends_with("/_windows/default.aspx")
}

/// Standard base64 with padding (RFC 4648), for Basic and NTLM headers.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard base64; `None` for anything else.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let c = Credentials::Bearer(Secret("eyJ0eXAi.s3cr3t".into()));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let a = Account::new("LONGAN\\archivist", Secret("pa55word".into())).unwrap();
        assert!(!format!("{:?}", Credentials::Ntlm(a)).contains("pa55word"));
    }

    #[test]
    fn secret_headers_keep_only_their_shape() {
        let r = |n: &str, v: &str| String::from_utf8(redact_header(n, v.as_bytes())).unwrap();
        assert_eq!(r("Authorization", "Bearer eyJ0.abc"), "Bearer [redacted]");
        assert_eq!(r("authorization", "NTLM TlRMTVNTUAAB"), "NTLM [redacted]");
        assert_eq!(
            r("Cookie", "FedAuth=77u/PD94; rtFa=x=y"),
            "FedAuth=[redacted]; rtFa=[redacted]"
        );
        assert_eq!(
            r("Set-Cookie", "FedAuth=77u; path=/; HttpOnly"),
            "FedAuth=[redacted]; path=/; HttpOnly"
        );
        assert_eq!(r("Proxy-Authorization", "opaque"), "[redacted]");
        assert_eq!(r("Accept", "application/json"), "application/json");
    }

    #[test]
    fn challenges_are_read_from_every_www_authenticate_header() {
        let mut h = HeaderMap::new();
        h.append("www-authenticate", "Negotiate".parse().unwrap());
        h.append("www-authenticate", "NTLM".parse().unwrap());
        h.append(
            "www-authenticate",
            "Bearer realm=\"abc\", error=\"invalid_token\", Basic realm=\"x\""
                .parse()
                .unwrap(),
        );
        assert_eq!(challenges(&h), ["Negotiate", "NTLM", "Bearer", "Basic"]);
    }

    #[test]
    fn cookie_files_are_header_lines_or_netscape_cookies() {
        assert_eq!(
            cookie_header("Cookie: FedAuth=abc; rtFa=def\n", "x").as_deref(),
            Some("FedAuth=abc; rtFa=def")
        );
        assert_eq!(
            cookie_header("FedAuth=abc\n", "x").as_deref(),
            Some("FedAuth=abc")
        );
        let jar = "# Netscape HTTP Cookie File\n#HttpOnly_.longan.gov.vn\tTRUE\t/\tTRUE\t0\tFedAuth\tabc\nstp.longan.gov.vn\tFALSE\t/\tFALSE\t0\trtFa\tdef\nother.vn\tFALSE\t/\tFALSE\t0\tx\ty\n";
        assert_eq!(
            cookie_header(jar, "stp.longan.gov.vn").as_deref(),
            Some("FedAuth=abc; rtFa=def")
        );
        assert_eq!(cookie_header(jar, "baolongan.vn"), None);
        assert_eq!(cookie_header("\n# nothing\n", "x"), None);
    }

    #[test]
    fn accounts_take_the_usual_spellings() {
        let p = || Secret("p".into());
        let a = Account::new("LONGAN\\archivist", p()).unwrap();
        assert_eq!(
            (a.domain.as_str(), a.user.as_str()),
            ("LONGAN", "archivist")
        );
        let a = Account::new("archivist@longan.gov.vn", p()).unwrap();
        assert_eq!(
            (a.domain.as_str(), a.user.as_str()),
            ("longan.gov.vn", "archivist")
        );
        assert!(Account::new("LONGAN\\", p()).is_err());
    }

    #[test]
    fn base64_round_trips() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }

    #[test]
    fn login_pages_are_known() {
        for u in [
            "https://stp.longan.gov.vn/_layouts/15/Authenticate.aspx?Source=%2F",
            "https://stp.longan.gov.vn/_login/default.aspx?ReturnUrl=x",
            "https://login.microsoftonline.com/common/oauth2/authorize",
            "https://stp.longan.gov.vn/_forms/default.aspx",
        ] {
            assert!(is_login_page(&url::Url::parse(u).unwrap()), "{u}");
        }
        let news = url::Url::parse("https://stp.longan.gov.vn/Lists/TinTuc/DispForm.aspx").unwrap();
        assert!(!is_login_page(&news));
    }
}
