//! When to try again and how long to wait.
//!
//! Failures are classified once, here and in the client: throttling and passing trouble
//! (429, 503, 502, 504, 408, dropped connections, truncated bodies, timeouts) are
//! *transient* and retried; everything else — other 4xx and 5xx answers, redirect loops,
//! URLs out of scope, bodies over their bound — is *permanent* and fails at once.
//!
//! SharePoint says how long to wait in `Retry-After` (seconds or an HTTP date) on 429 and
//! 503; without it, waits grow exponentially with jitter so that many clients do not retry
//! in lockstep. Waits are capped, and so is the total, so an endless throttle ends in a
//! clear error rather than a hang.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::{Duration, SystemTime};

/// Retry limits.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff step when the server gives no `Retry-After`.
    pub base_delay: Duration,
    /// Longest single wait, `Retry-After` included.
    pub max_delay: Duration,
    /// Longest total wait for one request.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            max_total_wait: Duration::from_secs(900),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1`, given the server's `Retry-After` if any.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let d = match retry_after {
            Some(d) => d,
            None => {
                let exp = self
                    .base_delay
                    .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
                let capped = exp.min(self.max_delay);
                // Equal jitter: half fixed, half random, so waits still grow.
                let half = capped / 2;
                half + jitter(half)
            }
        };
        d.min(self.max_delay)
    }
}

/// Whether an answer with this HTTP status is worth asking again: throttling (429, 503), a
/// gateway that failed or timed out (502, 504), a request the server timed out (408). Any
/// other status that is not success is permanent.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 502 | 503 | 504)
}

/// Parses `Retry-After` as delta-seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn jitter(max: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let frac = nanos.wrapping_mul(2_654_435_761) % 1000;
    max * frac / 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        let future = SystemTime::now() + Duration::from_secs(30);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(future)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
    }

    #[test]
    fn throttling_and_gateway_trouble_are_transient_other_failures_permanent() {
        for s in [408, 429, 502, 503, 504] {
            assert!(is_transient_status(s), "{s}");
        }
        for s in [300, 304, 400, 401, 403, 404, 410, 451, 500, 501, 505] {
            assert!(!is_transient_status(s), "{s}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let d1 = p.delay(1, None);
        let d4 = p.delay(4, None);
        assert!(d1 <= Duration::from_secs(1) && d1 >= Duration::from_millis(500));
        assert!(d4 >= Duration::from_secs(4) && d4 <= Duration::from_secs(8));
        let d30 = p.delay(30, None);
        assert!(
            d30 >= Duration::from_secs(5) && d30 <= Duration::from_secs(10),
            "{d30:?}"
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(600))),
            Duration::from_secs(10)
        );
    }
}
