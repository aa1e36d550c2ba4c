//! robots.txt: which pages of a portal sharc may fetch, and how slowly.
//!
//! The HTML source reads pages the way a visitor's browser would, so it follows the rules a
//! portal publishes for robots (RFC 9309): the group for `sharc` or else `*`, the longest
//! matching rule wins, `Crawl-delay` sets the pause between requests. A robots.txt that does
//! not exist (4xx) allows everything; one that cannot be read (5xx, network) allows nothing,
//! so sharc stops and says how to proceed rather than guess.

use crate::fetch::Client;
use crate::source::{SourceError, explain};
use std::time::Duration;
use url::Url;

/// The product token sharc matches in robots.txt groups.
pub(crate) const AGENT: &str = "sharc";

/// A portal's robots.txt, ready to ask.
pub(crate) struct Robots {
    robot: Option<texting_robots::Robot>,
    /// Where it was read from.
    pub url: Url,
    /// `Crawl-delay`, when given.
    pub delay: Option<Duration>,
}

impl Robots {
    /// Everything allowed, no delay (`--ignore-robots`, or no robots.txt).
    pub fn allow_all(url: Url) -> Self {
        Self {
            robot: None,
            url,
            delay: None,
        }
    }

    /// Reads `/robots.txt` at the root of `site`'s origin.
    pub async fn fetch(client: &Client, site: &Url) -> Result<Self, SourceError> {
        let url = site
            .join("/robots.txt")
            .map_err(|_| SourceError::BadUrl(site.to_string()))?;
        match client.get(&url, "text/plain,*/*;q=0.5").await {
            Ok(body) => Self::parse(url, &body.bytes),
            Err(e) if e.status().is_some_and(|s| (400..500).contains(&s)) => {
                tracing::info!(
                    "{url}: HTTP {}; no robots.txt rules apply",
                    e.status().unwrap_or(0)
                );
                Ok(Self::allow_all(url))
            }
            Err(e) => Err(SourceError::Protocol {
                url: url.to_string(),
                message: format!(
                    "robots.txt could not be read ({}); sharc does not crawl a portal whose rules it cannot read: try again later, or pass --ignore-robots if the portal's owner allows it",
                    explain(&e)
                ),
            }),
        }
    }

    /// Parses robots.txt text read from `url`.
    pub fn parse(url: Url, txt: &[u8]) -> Result<Self, SourceError> {
        let robot =
            texting_robots::Robot::new(AGENT, txt).map_err(|e| SourceError::Protocol {
                url: url.to_string(),
                message: format!(
                    "robots.txt is unreadable ({e}); pass --ignore-robots if the portal's owner allows crawling"
                ),
            })?;
        let delay = robot
            .delay
            .filter(|d| d.is_finite() && *d > 0.0)
            .map(|d| Duration::from_secs_f32(d.min(3600.0)));
        Ok(Self {
            robot: Some(robot),
            url,
            delay,
        })
    }

    /// Whether `url` may be fetched.
    pub fn allowed(&self, url: &Url) -> bool {
        match &self.robot {
            None => true,
            Some(r) => {
                let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
                r.allowed(path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robots(txt: &str) -> Robots {
        Robots::parse(Url::parse("http://p/robots.txt").unwrap(), txt.as_bytes()).unwrap()
    }

    fn url(s: &str) -> Url {
        Url::parse(&format!("http://p{s}")).unwrap()
    }

    #[test]
    fn the_sharc_group_or_else_star() {
        let r = robots(
            "User-agent: *\nDisallow: /_layouts/\nDisallow: /Lists/TinTucSuKien/Calendar.aspx\nCrawl-delay: 2\n\nUser-agent: BadBot\nDisallow: /\n",
        );
        assert!(!r.allowed(&url("/_layouts/15/userdisp.aspx?ID=7")));
        assert!(!r.allowed(&url("/Lists/TinTucSuKien/Calendar.aspx?Month=2025-06")));
        assert!(r.allowed(&url("/Lists/TinTucSuKien/DispForm.aspx?ID=1")));
        assert_eq!(r.delay, Some(Duration::from_secs(2)));
        let r = robots("User-agent: sharc\nDisallow: /Lists/\n\nUser-agent: *\nDisallow: /\n");
        assert!(!r.allowed(&url("/Lists/TinTucSuKien/TongQuat.aspx")));
        assert!(r.allowed(&url("/Pages/chi-tiet-tin.aspx?ItemID=5")));
    }

    #[test]
    fn longest_match_wins_and_queries_count() {
        let r = robots(
            "User-agent: *\nDisallow: /Lists/\nAllow: /Lists/TinTucSuKien/\nDisallow: /*?Page=\nCrawl-delay: 0\n",
        );
        assert!(r.allowed(&url("/Lists/TinTucSuKien/DispForm.aspx?ID=1")));
        assert!(!r.allowed(&url("/Lists/Other/AllItems.aspx")));
        assert!(!r.allowed(&url("/x.aspx?Page=2")));
        assert_eq!(r.delay, None, "Crawl-delay: 0 means no pause");
        assert!(Robots::allow_all(url("/robots.txt")).allowed(&url("/_layouts/")));
    }
}
