//! Politeness: a request rate cap, a host's own crawl delay, and the farm's health signal.
//!
//! `--rate N` spaces request starts at least 1/N seconds apart across the whole crawl.
//! A host can ask for a delay of its own (robots.txt `Crawl-delay`): requests to it start at
//! least that far apart. SharePoint reports its load in `X-SharePointHealthScore` (0–10; 10
//! means it is about to throttle): from 8 up, every later request waits a little longer, so a
//! crawler backs off before the farm has to answer 503. Every request the client sends —
//! pages, files, robots.txt, each redirect hop and each retry — waits here first.

use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// The score from which sharc slows down.
pub const HEALTH_SLOWDOWN_FROM: u8 = 8;

/// Spaces requests and honours the health score.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    health_step: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next_start: Instant,
    pause_until: Option<Instant>,
    /// Per host (`host:port`): its crawl delay, and when the last request to it started.
    hosts: HashMap<String, HostPace>,
}

#[derive(Debug, Default)]
struct HostPace {
    delay: Option<Duration>,
    last_start: Option<Instant>,
}

/// The key a host's delay is kept under: `host:port`.
fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Pacer {
    /// At most `rate` requests per second (`None`: no cap); each health point from 8 up
    /// adds `health_step` before the next request.
    pub fn new(rate: Option<f64>, health_step: Duration) -> Self {
        let interval = rate
            .filter(|r| *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        let now = Instant::now();
        Self {
            interval,
            health_step,
            state: Mutex::new(State {
                next_start: now,
                pause_until: None,
                hosts: HashMap::new(),
            }),
        }
    }

    /// Requests to `url`'s host start at least `delay` apart from now on (robots.txt
    /// `Crawl-delay`).
    pub fn set_host_delay(&self, url: &Url, delay: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.hosts.entry(host_key(url)).or_default().delay = Some(delay);
        }
    }

    /// Waits until the next request, to `url`, may start.
    pub async fn wait(&self, url: &Url) {
        let until = {
            let Ok(mut s) = self.state.lock() else { return };
            let now = Instant::now();
            let mut start = s.next_start.max(now);
            if let Some(p) = s.pause_until.take() {
                start = start.max(p);
            }
            let host = s.hosts.entry(host_key(url)).or_default();
            if let (Some(delay), Some(last)) = (host.delay, host.last_start) {
                start = start.max(last + delay);
            }
            host.last_start = Some(start);
            if let Some(iv) = self.interval {
                s.next_start = start + iv;
            }
            let wait = start.saturating_duration_since(now);
            if !wait.is_zero() {
                tracing::trace!(
                    "pacing: waiting {} ms before the next request to {} (--rate, crawl delay or health score)",
                    wait.as_millis(),
                    host_key(url)
                );
            }
            start
        };
        tokio::time::sleep_until(until).await;
    }

    /// Reads `X-SharePointHealthScore` from a response; a score of 8 or more delays the
    /// next request. Returns the score when present.
    pub fn observe(&self, headers: &HeaderMap) -> Option<u8> {
        let score: u8 = headers
            .get("x-sharepointhealthscore")?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()?;
        if score >= HEALTH_SLOWDOWN_FROM
            && let Ok(mut s) = self.state.lock()
        {
            let pause = self.health_step * u32::from(score - HEALTH_SLOWDOWN_FROM + 1);
            let until = Instant::now() + pause;
            s.pause_until = Some(s.pause_until.map_or(until, |p| p.max(until)));
            tracing::trace!(
                score,
                ?pause,
                "the farm reports a high health score; slowing down"
            );
        }
        Some(score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_cap_spaces_request_starts() {
        let p = Pacer::new(Some(4.0), Duration::from_millis(100));
        let t0 = Instant::now();
        for _ in 0..5 {
            p.wait(&url("http://a/")).await;
        }
        assert_eq!(Instant::now() - t0, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_delay_spaces_requests_to_that_host_only() {
        let p = Pacer::new(None, Duration::from_millis(100));
        let portal = url("http://portal/robots.txt");
        let t0 = Instant::now();
        p.wait(&portal).await;
        p.set_host_delay(&portal, Duration::from_millis(250));
        for _ in 0..3 {
            p.wait(&url("http://portal/page")).await;
        }
        assert_eq!(Instant::now() - t0, Duration::from_millis(750));
        let t1 = Instant::now();
        p.wait(&url("http://media/a.jpg")).await;
        p.wait(&url("http://portal:8080/other-port")).await;
        assert_eq!(
            Instant::now() - t1,
            Duration::ZERO,
            "other hosts do not wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_high_health_score_delays_the_next_request() {
        let p = Pacer::new(None, Duration::from_millis(100));
        let mut h = HeaderMap::new();
        h.insert("X-SharePointHealthScore", HeaderValue::from_static("9"));
        assert_eq!(p.observe(&h), Some(9));
        let t0 = Instant::now();
        p.wait(&url("http://a/")).await;
        assert_eq!(Instant::now() - t0, Duration::from_millis(200));
        // The pause is used once; a healthy answer adds nothing.
        h.insert("X-SharePointHealthScore", HeaderValue::from_static("2"));
        p.observe(&h);
        let t1 = Instant::now();
        p.wait(&url("http://a/")).await;
        assert_eq!(Instant::now() - t1, Duration::ZERO);
    }
}
