//! The hostile farm and what tests need around it: a SharePoint portal on raw TCP that can
//! misbehave in every way issue "survive a broken or hostile farm" lists, compression bombs,
//! a bounded runner for the `sharc` binary, and readers for the bag and crawl report.
//!
//! Tests drive sharc through its command line only: exit codes, stderr, the bag on disk,
//! the crawl report, and what the farm saw.
#![allow(dead_code, unused_imports)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod bag;
pub mod bomb;
pub mod farm;
pub mod portal;
pub mod run;
pub mod tls;

pub use bag::*;
pub use farm::{Farm, Hosts, Plan, Reply, Seen};
pub use run::{Ran, Sharc, wait_until};

use std::path::Path;
use std::time::Duration;

/// The memory a crawl or a verify may use at most, whatever the farm sends.
pub const RSS_BOUND_MIB: u64 = 200;

/// `sharc verify <bag>`, bounded.
pub fn verify(bag: &Path) -> Ran {
    Sharc::verify(bag)
        .timeout(Duration::from_secs(60))
        .rss_limit_mib(RSS_BOUND_MIB)
        .run()
}

/// Asserts `sharc verify` accepts the bag.
#[track_caller]
pub fn assert_verifies(bag: &Path) {
    let v = verify(bag);
    assert_eq!(
        v.code,
        Some(0),
        "sharc verify {}: {}",
        bag.display(),
        v.describe()
    );
}

/// A crawl of `farm` into `out` with `extra` arguments, bounded by `timeout` and by
/// [`RSS_BOUND_MIB`].
pub fn crawl(farm: &Farm, out: &Path, extra: &[&str], timeout: Duration) -> Ran {
    let mut s = Sharc::crawl(&farm.url(), out);
    s.args(extra).timeout(timeout).rss_limit_mib(RSS_BOUND_MIB);
    s.run()
}

/// Asserts the other listener got no request at all.
#[track_caller]
pub fn assert_other_host_untouched(farm: &Farm, ran: &Ran) {
    let other: Vec<String> = farm
        .other_requests()
        .iter()
        .map(|s| s.target.clone())
        .collect();
    assert!(
        other.is_empty(),
        "the other host was asked for {other:?}\n{}",
        ran.describe()
    );
}

/// Asserts the run ended by itself, under [`RSS_BOUND_MIB`], sooner than `limit`.
#[track_caller]
pub fn assert_bounded(ran: &Ran, limit: Duration, what: &str) {
    ran.assert_ended_by_itself();
    assert!(
        ran.peak_rss_mib <= RSS_BOUND_MIB && ran.elapsed < limit,
        "{what}: want at most {RSS_BOUND_MIB} MiB and {limit:?}: {}",
        ran.describe()
    );
}
