//! The one scope policy: which URLs sharc may fetch, decided in one place.
//!
//! A farm hands sharc URLs it cannot trust — attachment paths, next links, image sources,
//! page links, `Location` headers. Every one of them passes [`Scope::check`] before any
//! request is made (the client checks every request and every redirect hop itself, so no
//! caller can forget), and what is refused is never fetched. The rules:
//!
//! - only `http` and `https`;
//! - the site's own origin (scheme, host, port); a site on plain `http` on port 80 may also
//!   be read over `https` on port 443 (an upgrade, never the other way);
//! - besides, hosts the user allows (`--allow-host HOST[:PORT]`, the mapping's `allow_hosts`):
//!   `HOST` alone means its default ports, `HOST:PORT` that port;
//! - never plain `http` when the site is read over `https`, and never a redirect from `https`
//!   to `http` (a downgrade);
//! - never a URL carrying a user name or password.
//!
//! [`redact`] strips user names and passwords from a URL before it is printed or stored.

use std::fmt;
use url::Url;

/// Why a URL is not fetched. The messages say what to do when the refusal is unwanted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not `http` or `https` (`file:`, `ftp:`, `javascript:`, …).
    #[error("`{scheme}:` URLs are never fetched: sharc reads only http and https")]
    BadScheme {
        /// The scheme found.
        scheme: String,
    },
    /// Another host, or another port of the portal's host, not allowed.
    #[error(
        "not on the portal ({site}) nor on a host allowed with --allow-host: never fetched; if it belongs to the portal, pass --allow-host {host}"
    )]
    OffSite {
        /// The portal's origin, e.g. `https://stp.longan.gov.vn`.
        site: String,
        /// The host (and port) that would have to be allowed, e.g. `media.longan.gov.vn:8080`.
        host: String,
    },
    /// Plain `http` where the portal is read over `https`, or a redirect from `https` to `http`.
    #[error("plain http where the portal is read over https (a downgrade): never fetched")]
    Downgrade,
    /// The URL carries a user name or password.
    #[error("the URL carries a user name or password: never fetched, and printed without them")]
    Userinfo,
}

/// A host the user allows besides the portal's own: `HOST` (its default ports) or
/// `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    /// The host, lowercase (IPv6 addresses in brackets).
    host: String,
    /// The port, when one was given.
    port: Option<u16>,
}

/// An `--allow-host` value that is not `HOST` or `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not HOST or HOST:PORT ({why}); e.g. media.longan.gov.vn or 10.0.0.5:8080")]
pub struct BadAllowedHost {
    /// What was given.
    pub given: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl AllowedHost {
    /// Parses `HOST` or `HOST:PORT` (`[::1]:8080` for IPv6).
    pub fn parse(given: &str) -> Result<Self, BadAllowedHost> {
        let bad = |why| BadAllowedHost {
            given: given.to_string(),
            why,
        };
        let s = given.trim();
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.contains("://") {
            return Err(bad("a host, not a URL"));
        }
        if s.contains(['/', '@', '?', '#']) || s.chars().any(char::is_whitespace) {
            return Err(bad("a host name only, no path, user or spaces"));
        }
        let (host, port) = match s.strip_prefix('[') {
            Some(rest) => {
                let (inside, after) = rest.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
                let port = match after {
                    "" => None,
                    p => Some(p.strip_prefix(':').ok_or_else(|| bad("junk after `]`"))?),
                };
                (format!("[{inside}]"), port)
            }
            None => match s.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (s.to_string(), None),
            },
        };
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?,
            ),
        };
        // Let the URL parser normalise the host as it does for every URL (case, IDNA, IPs).
        let probe =
            Url::parse(&format!("http://{host}/")).map_err(|_| bad("not a valid host name"))?;
        let host = probe
            .host_str()
            .ok_or(bad("not a valid host name"))?
            .to_string();
        Ok(Self { host, port })
    }

    fn matches(&self, host: &str, url: &Url) -> bool {
        self.host == host
            && match self.port {
                Some(p) => url.port_or_known_default() == Some(p),
                None => url.port().is_none(),
            }
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// What a crawl may fetch: the site's origin and the hosts allowed besides.
///
/// The default scope has no site and refuses every URL as off-site: a client must be told
/// where it may go.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    site: Option<Url>,
    allowed: Vec<AllowedHost>,
}

impl Scope {
    /// The scope of a crawl of `site`, with `allowed` hosts besides its own.
    pub fn new(site: &Url, allowed: &[AllowedHost]) -> Self {
        Self {
            site: Some(site.clone()),
            allowed: allowed.to_vec(),
        }
    }

    /// Whether `url` may be fetched.
    pub fn check(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::BadScheme {
                scheme: url.scheme().to_string(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Userinfo);
        }
        let host = url.host_str().unwrap_or("");
        if !self.on_site(url) && !self.allowed.iter().any(|a| a.matches(host, url)) {
            return Err(Refusal::OffSite {
                site: self.site_origin(),
                host: host_and_port(url),
            });
        }
        if self.site.as_ref().is_some_and(|s| s.scheme() == "https") && url.scheme() == "http" {
            return Err(Refusal::Downgrade);
        }
        Ok(())
    }

    /// The site's host on its own port, or the other scheme on its default port (an upgrade
    /// passes here; a downgrade is refused by [`check`](Scope::check) as one).
    fn on_site(&self, url: &Url) -> bool {
        self.site.as_ref().is_some_and(|site| {
            site.host_str().is_some()
                && site.host_str() == url.host_str()
                && (url.port_or_known_default() == site.port_or_known_default()
                    || (site.port().is_none() && url.port().is_none()))
        })
    }

    /// Whether `url` is the portal's own (its scheme, host and port, or the `https` upgrade
    /// of a plain-`http` site) and in scope: the only URLs that get the crawl's credentials.
    /// Hosts allowed besides it (`--allow-host`) are not the portal's own.
    pub fn is_site(&self, url: &Url) -> bool {
        self.on_site(url) && self.check(url).is_ok()
    }

    /// Whether a redirect from `from` to `to` may be followed: `to` must be in scope, and a
    /// redirect never leaves `https` for `http`.
    pub fn check_redirect(&self, from: &Url, to: &Url) -> Result<(), Refusal> {
        if from.scheme() == "https" && to.scheme() == "http" {
            return Err(Refusal::Downgrade);
        }
        self.check(to)
    }

    /// The site's origin, for messages (`https://stp.longan.gov.vn`).
    pub fn site_origin(&self) -> String {
        self.site
            .as_ref()
            .map(|s| s.origin().ascii_serialization())
            .unwrap_or_else(|| "no site set".into())
    }
}

/// `host` or `host:port` of a URL (the port when it is not the scheme's default).
fn host_and_port(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => String::new(),
    }
}

/// `url` without its user name and password, for anything printed or stored.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut u = url.clone();
    // Both fail only for URLs that cannot have a user (no host), which have none.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn scope(site: &str, allowed: &[&str]) -> Scope {
        let allowed: Vec<AllowedHost> = allowed
            .iter()
            .map(|a| AllowedHost::parse(a).unwrap())
            .collect();
        Scope::new(&url(site), &allowed)
    }

    #[test]
    fn the_sites_own_origin_and_allowed_hosts_pass_other_hosts_and_ports_do_not() {
        let s = scope("http://stp.longan.gov.vn/", &["media.longan.gov.vn"]);
        let check = |u: &str| s.check(&url(u));
        assert_eq!(
            check("http://STP.longan.gov.vn:80/Lists/TinTucSuKien/DispForm.aspx?ID=1"),
            Ok(())
        );
        assert_eq!(check("https://stp.longan.gov.vn/a.pdf"), Ok(()), "upgrade");
        assert_eq!(check("https://media.longan.gov.vn/a.pdf"), Ok(()));
        assert_eq!(check("http://media.longan.gov.vn/a.pdf"), Ok(()));
        for off in [
            "http://stp.longan.gov.vn:8080/x",
            "https://stp.longan.gov.vn:8443/x",
            "http://media.longan.gov.vn:8080/x",
            "https://baolongan.vn/x",
        ] {
            assert!(
                matches!(check(off), Err(Refusal::OffSite { .. })),
                "{off}: {:?}",
                check(off)
            );
        }
    }

    #[test]
    fn an_allowed_port_is_that_port_only() {
        let s = scope("http://127.0.0.1:8080/", &["127.0.0.1:9000"]);
        assert_eq!(s.check(&url("http://127.0.0.1:9000/x")), Ok(()));
        assert_eq!(s.check(&url("http://127.0.0.1:8080/x")), Ok(()));
        assert!(s.check(&url("http://127.0.0.1:9001/x")).is_err());
        assert!(s.check(&url("http://127.0.0.1/x")).is_err());
    }

    #[test]
    fn other_schemes_and_userinfo_are_refused() {
        let s = scope("http://stp.longan.gov.vn/", &[]);
        assert_eq!(
            s.check(&url("file:///etc/hostname")),
            Err(Refusal::BadScheme {
                scheme: "file".into()
            })
        );
        assert!(matches!(
            s.check(&url("ftp://stp.longan.gov.vn/x")),
            Err(Refusal::BadScheme { .. })
        ));
        assert_eq!(
            s.check(&url("http://alice:s3cr3t@stp.longan.gov.vn/x")),
            Err(Refusal::Userinfo)
        );
    }

    #[test]
    fn an_https_site_never_goes_to_plain_http() {
        let s = scope("https://stp.longan.gov.vn/", &["media.longan.gov.vn"]);
        assert_eq!(
            s.check(&url("http://stp.longan.gov.vn/x")),
            Err(Refusal::Downgrade)
        );
        assert_eq!(
            s.check(&url("http://media.longan.gov.vn/x")),
            Err(Refusal::Downgrade)
        );
        // A redirect from https to http is a downgrade even on a plain-http site.
        let plain = scope("http://stp.longan.gov.vn/", &[]);
        assert_eq!(
            plain.check_redirect(
                &url("https://stp.longan.gov.vn/a"),
                &url("http://stp.longan.gov.vn/b")
            ),
            Err(Refusal::Downgrade)
        );
        assert_eq!(
            plain.check_redirect(
                &url("http://stp.longan.gov.vn/a"),
                &url("https://stp.longan.gov.vn/b")
            ),
            Ok(())
        );
    }

    #[test]
    fn only_the_sites_own_origin_is_the_site() {
        let s = scope("http://stp.longan.gov.vn/", &["media.longan.gov.vn"]);
        let is = |u: &str| s.is_site(&url(u));
        assert!(is("http://stp.longan.gov.vn/_api/web"));
        assert!(is("https://stp.longan.gov.vn/a.pdf"), "upgrade");
        assert!(
            !is("http://media.longan.gov.vn/a.pdf"),
            "allowed, not the site"
        );
        assert!(!is("http://stp.longan.gov.vn:8080/x"));
        assert!(!is("http://u:p@stp.longan.gov.vn/x"));
        let tls = scope("https://stp.longan.gov.vn/", &[]);
        assert!(
            !tls.is_site(&url("http://stp.longan.gov.vn/x")),
            "downgrade"
        );
    }

    #[test]
    fn a_scope_without_a_site_refuses_everything() {
        assert!(matches!(
            Scope::default().check(&url("http://127.0.0.1/")),
            Err(Refusal::OffSite { .. })
        ));
    }

    #[test]
    fn allowed_hosts_parse_as_host_or_host_and_port() {
        let p = |s: &str| AllowedHost::parse(s).map(|a| a.to_string());
        assert_eq!(
            p("Media.LongAn.gov.vn").as_deref(),
            Ok("media.longan.gov.vn")
        );
        assert_eq!(p("10.0.0.5:8080").as_deref(), Ok("10.0.0.5:8080"));
        assert_eq!(p("[::1]:8080").as_deref(), Ok("[::1]:8080"));
        for bad in [
            "", "http://x", "x/y", "alice@x", "x:port", "x:99999", "[::1",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redaction_strips_user_and_password_only() {
        assert_eq!(
            redact(&url("http://alice:s3cr3t@127.0.0.1:8080/a?b=c")),
            "http://127.0.0.1:8080/a?b=c"
        );
        assert_eq!(redact(&url("http://127.0.0.1/a")), "http://127.0.0.1/a");
    }
}
