//! Deterministic fault injection: the sample portal as a busy, flaky farm.
//!
//! A crawler's retries, waits and partial results can only be trusted once they have met real
//! faults on a real socket: a 429 with `Retry-After`, a burst of 503s, a connection dropped
//! mid-body, a body shorter than its `Content-Length`, a slow answer, an item whose files
//! never download, a farm that throttles forever. A [`FaultPlan`] switches these on for one
//! [`RunningPortal`](super::RunningPortal); `sharc serve --faults SPEC` builds one with
//! [`FaultPlan::parse`].
//!
//! Nothing here is random, so a failing test fails the same way every run:
//!
//! - Every request gets a number `n` when it arrives (1, 2, 3, … per server).
//! - Requests `start..start+len` of [`FaultPlan::burst_503`] answer 503.
//! - Otherwise the request's slot is `(n × 37) mod 100`, which visits 0..99 once in every 100
//!   consecutive requests. Slots `0..throttle` answer 429, the next `reset` slots drop the
//!   connection mid-body, the next `truncate` slots end the body early. Exactly the given
//!   percentage of each hundred requests is picked, spread out rather than clustered.
//! - **Transient faults are bounded per logical request.** A request (method, path and query)
//!   that has just been faulted [`MAX_CONSECUTIVE_FAULTS`] times in a row is answered
//!   normally, whatever its number says; a normal answer starts its count again. A client
//!   that retries the same request gets through by its third try.
//! - Two faults are permanent and bypass that bound: [`FaultPlan::throttle_forever`] (every
//!   `/_api` request answers 429; files stay reachable) and [`FaultPlan::fail_item`] (the
//!   downloads of one item's attachments answer 500; its record still lists).
//!
//! The numbering follows arrival order, so a client that sends its requests one at a time
//! meets the same faults at the same places on every run; a concurrent client meets the same
//! number of faults, on requests that may differ from run to run.
//!
//! Every fault is logged at debug level and shows in [`RequestLog::status`]: the injected
//! status (429, 503, 500), or [`STATUS_RESET`] / [`STATUS_TRUNCATED`] for a body cut short
//! (those responses went out as 200).
//!
//! [`RequestLog::status`]: super::RequestLog::status

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use http_body_util::{BodyDataStream, BodyExt};
use hyper::body::{Body as _, Bytes};
use hyper::header::{self, HeaderValue};
use hyper::{Method, StatusCode};

use super::body::{self, Body, Response};
use super::files::{self, FileTarget};
use super::render::ApiError;

/// How many times in a row one logical request (method, path and query) can meet a
/// transient fault; the next try is answered normally.
pub const MAX_CONSECUTIVE_FAULTS: u32 = 2;

/// [`RequestLog::status`](super::RequestLog::status) of an answer whose connection was dropped
/// mid-body ([`FaultPlan::reset_percent`]). On the wire the status line said 200.
pub const STATUS_RESET: u16 = 0;

/// [`RequestLog::status`](super::RequestLog::status) of an answer whose body ended before its
/// `Content-Length` ([`FaultPlan::truncate_percent`]). On the wire the status line said 200.
pub const STATUS_TRUNCATED: u16 = 1;

/// The `SPException` code of the 500 a permanently failing item answers with.
const SP_EXCEPTION: &str = "-2146232832, Microsoft.SharePoint.SPException";

/// How long a cut body waits, after its last bytes, before the connection is dropped: long
/// enough for the server to flush those bytes, so the client really sees a partial body.
const FLUSH_PAUSE: Duration = Duration::from_millis(10);

/// Which faults the sample portal injects. [`FaultPlan::default`] injects none.
///
/// Build it field by field with `..Default::default()`, or from a spec with
/// [`FaultPlan::parse`]. The [module documentation](self) describes the schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Percentage (0–100) of requests answered 429 `Too Many Requests` with a `Retry-After`
    /// header and SharePoint's `text/plain` body `429 TOO MANY REQUESTS`.
    pub throttle_percent: u8,
    /// The form of `Retry-After` on 429 and 503 answers.
    pub retry_after: RetryAfterStyle,
    /// `(start, len)`: requests number `start..start + len` (the first request is number 1)
    /// answer 503 `Service Unavailable` with `Retry-After`.
    pub burst_503: Option<(u32, u32)>,
    /// Percentage (0–100) of successful `GET` answers (REST payloads and file bodies) whose
    /// connection is dropped after half the body: the headers, `Content-Length` included,
    /// go out as usual, then the server aborts the response.
    pub reset_percent: u8,
    /// Percentage (0–100) of successful `GET` answers whose body stops after half of the
    /// announced `Content-Length`; the server then closes the connection.
    pub truncate_percent: u8,
    /// Milliseconds every request waits before it is answered (faulted ones included), so
    /// that a test can interrupt a crawl mid-run.
    pub slow_ms: u64,
    /// An item id (in any list) whose attachment downloads always answer 500: the direct file
    /// URL with an HTML error page, `/_api/…/$value` with SharePoint's error body. Its record
    /// and its attachment metadata are still served.
    pub fail_item: Option<i64>,
    /// Every `/_api` request answers 429 with `Retry-After`, forever; files are still served.
    pub throttle_forever: bool,
    /// The `X-SharePointHealthScore` header on every answer (SharePoint: 0–10, where 10 means
    /// the farm is throttling); `None` sends `0`.
    pub health_score: Option<u8>,
}

/// How a throttled answer tells the client when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfterStyle {
    /// `Retry-After: <seconds>`, as SharePoint sends it.
    Seconds(u64),
    /// `Retry-After: <HTTP-date>`, this many seconds after the answer was made.
    HttpDate(u64),
}

impl Default for RetryAfterStyle {
    fn default() -> Self {
        RetryAfterStyle::Seconds(1)
    }
}

impl RetryAfterStyle {
    fn header_value(self) -> HeaderValue {
        match self {
            RetryAfterStyle::Seconds(s) => HeaderValue::from(s),
            RetryAfterStyle::HttpDate(s) => {
                let at = SystemTime::now() + Duration::from_secs(s);
                files::header_value(&httpdate::fmt_http_date(at))
            }
        }
    }
}

/// The tokens [`FaultPlan::parse`] accepts, for error messages.
const VALID_TOKENS: &str = "throttle=PERCENT, retry-after=SECONDS, retry-after=date:SECONDS, \
     burst503=START:LEN, reset=PERCENT, truncate=PERCENT, slow=MILLISECONDS, fail-item=ID, \
     throttle-forever, health=0..10 (or \"none\")";

impl FaultPlan {
    /// Parses a comma-separated spec such as
    /// `throttle=10,reset=5,truncate=5,slow=50,fail-item=7,burst503=20:5,retry-after=1,health=9,throttle-forever`.
    ///
    /// Tokens: `throttle=PERCENT`, `reset=PERCENT`, `truncate=PERCENT` (together at most
    /// 100), `retry-after=SECONDS` or `retry-after=date:SECONDS`, `burst503=START:LEN`
    /// (`START` ≥ 1), `slow=MILLISECONDS`, `fail-item=ID`, `throttle-forever`, `health=0..10`.
    /// An empty spec or `none` injects nothing; spaces and empty tokens are ignored. Each
    /// token may appear once; the error names the token at fault and lists the valid ones.
    pub fn parse(spec: &str) -> Result<FaultPlan, String> {
        let mut plan = FaultPlan::default();
        let spec = spec.trim();
        if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
            return Ok(plan);
        }
        let mut seen: Vec<&str> = Vec::new();
        for token in spec.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (name, value) = match token.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (token, None),
            };
            if seen.contains(&name) {
                return Err(format!(
                    "fault \"{name}\" is given twice in \"{spec}\"; keep one"
                ));
            }
            let bad = |why: &str| format!("bad fault \"{token}\": {why}; valid: {VALID_TOKENS}");
            let need = || value.ok_or_else(|| bad("it needs a value"));
            match name {
                "throttle" => plan.throttle_percent = percent(need()?).map_err(|e| bad(&e))?,
                "reset" => plan.reset_percent = percent(need()?).map_err(|e| bad(&e))?,
                "truncate" => plan.truncate_percent = percent(need()?).map_err(|e| bad(&e))?,
                "retry-after" => {
                    let value = need()?;
                    plan.retry_after = match value.strip_prefix("date:") {
                        Some(s) => RetryAfterStyle::HttpDate(number(s).map_err(|e| bad(&e))?),
                        None => RetryAfterStyle::Seconds(number(value).map_err(|e| bad(&e))?),
                    };
                }
                "burst503" => {
                    let value = need()?;
                    let (start, len) = value
                        .split_once(':')
                        .ok_or_else(|| bad("write START:LEN, e.g. burst503=20:5"))?;
                    let start: u32 = number(start).map_err(|e| bad(&e))?;
                    let len: u32 = number(len).map_err(|e| bad(&e))?;
                    if start == 0 {
                        return Err(bad("requests are numbered from 1"));
                    }
                    plan.burst_503 = Some((start, len));
                }
                "slow" => plan.slow_ms = number(need()?).map_err(|e| bad(&e))?,
                "fail-item" => plan.fail_item = Some(number(need()?).map_err(|e| bad(&e))?),
                "throttle-forever" => {
                    if value.is_some() {
                        return Err(bad("it is a switch and takes no value"));
                    }
                    plan.throttle_forever = true;
                }
                "health" => {
                    let score: u8 = number(need()?).map_err(|e| bad(&e))?;
                    if score > 10 {
                        return Err(bad("SharePoint's health score runs from 0 to 10"));
                    }
                    plan.health_score = Some(score);
                }
                _ => return Err(bad("unknown fault")),
            }
            seen.push(name);
        }
        let total = u16::from(plan.throttle_percent)
            + u16::from(plan.reset_percent)
            + u16::from(plan.truncate_percent);
        if total > 100 {
            return Err(format!(
                "throttle, reset and truncate add up to {total}% in \"{spec}\"; \
                 they share the same requests, so keep the sum at 100 or below"
            ));
        }
        Ok(plan)
    }

    /// Whether any fault is scheduled per request (everything but `fail_item`, `slow_ms` and
    /// `health_score`, which need no schedule).
    fn schedules_faults(&self) -> bool {
        self.throttle_percent > 0
            || self.reset_percent > 0
            || self.truncate_percent > 0
            || self.burst_503.is_some_and(|(_, len)| len > 0)
            || self.throttle_forever
    }

    /// The transient fault for request number `n`, before the per-request bound.
    fn scheduled(&self, n: u64) -> Option<Fault> {
        if let Some((start, len)) = self.burst_503 {
            let start = u64::from(start);
            if n >= start && n < start + u64::from(len) {
                return Some(Fault::Burst503);
            }
        }
        let slot = n.wrapping_mul(37) % 100;
        let throttle = u64::from(self.throttle_percent);
        let reset = throttle + u64::from(self.reset_percent);
        let truncate = reset + u64::from(self.truncate_percent);
        if slot < throttle {
            Some(Fault::Throttle)
        } else if slot < reset {
            Some(Fault::Reset)
        } else if slot < truncate {
            Some(Fault::Truncate)
        } else {
            None
        }
    }
}

impl FromStr for FaultPlan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultPlan::parse(s)
    }
}

impl fmt::Display for FaultPlan {
    /// The plan as a spec [`FaultPlan::parse`] reads back (`none` for no faults).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.throttle_percent > 0 {
            parts.push(format!("throttle={}", self.throttle_percent));
        }
        if self.retry_after != RetryAfterStyle::default() {
            parts.push(match self.retry_after {
                RetryAfterStyle::Seconds(s) => format!("retry-after={s}"),
                RetryAfterStyle::HttpDate(s) => format!("retry-after=date:{s}"),
            });
        }
        if let Some((start, len)) = self.burst_503 {
            parts.push(format!("burst503={start}:{len}"));
        }
        if self.reset_percent > 0 {
            parts.push(format!("reset={}", self.reset_percent));
        }
        if self.truncate_percent > 0 {
            parts.push(format!("truncate={}", self.truncate_percent));
        }
        if self.slow_ms > 0 {
            parts.push(format!("slow={}", self.slow_ms));
        }
        if let Some(id) = self.fail_item {
            parts.push(format!("fail-item={id}"));
        }
        if self.throttle_forever {
            parts.push("throttle-forever".to_owned());
        }
        if let Some(score) = self.health_score {
            parts.push(format!("health={score}"));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

fn number<T: FromStr>(s: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("\"{s}\" is not a whole number in range"))
}

fn percent(s: &str) -> Result<u8, String> {
    let p: u8 = number(s)?;
    if p > 100 {
        return Err(format!("{p} is not a percentage (0 to 100)"));
    }
    Ok(p)
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// 429 with `Retry-After` (transient).
    Throttle,
    /// 503 with `Retry-After` (transient).
    Burst503,
    /// 429 with `Retry-After` on every `/_api` request (permanent).
    ThrottleForever,
    /// Half the body, then the connection is aborted (transient).
    Reset,
    /// Half the body under the full `Content-Length`, then the connection closes (transient).
    Truncate,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::Burst503 => "burst503",
            Fault::ThrottleForever => "throttle-forever",
            Fault::Reset => "reset",
            Fault::Truncate => "truncate",
        }
    }
}

/// Where one server's schedule stands: the request counter and the current run of faults
/// of each logical request.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    inner: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    /// Requests seen so far.
    requests: u64,
    /// Logical requests whose last answer was a transient fault, with the length of that run.
    streaks: HashMap<String, u32>,
}

impl Schedule {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        // A poisoned tally is still a usable tally.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers the request and picks its fault, honouring the per-request bound. A picked
    /// transient fault already counts towards the request's run; [`Schedule::answered`]
    /// takes it back if the fault could not be applied.
    fn decide(&self, plan: &FaultPlan, key: &str, is_api: bool) -> (u64, Option<Fault>) {
        let mut tally = self.lock();
        tally.requests += 1;
        let n = tally.requests;
        if is_api && plan.throttle_forever {
            return (n, Some(Fault::ThrottleForever));
        }
        let streak = tally.streaks.get(key).copied().unwrap_or(0);
        match plan.scheduled(n) {
            Some(fault) if streak < MAX_CONSECUTIVE_FAULTS => {
                tally.streaks.insert(key.to_owned(), streak + 1);
                (n, Some(fault))
            }
            _ => {
                tally.streaks.remove(key);
                (n, None)
            }
        }
    }

    /// Records that the request got a normal answer after all.
    fn answered(&self, key: &str) {
        self.lock().streaks.remove(key);
    }
}

/// Runs one request through the plan: waits `slow_ms`, then either answers with an injected
/// fault or awaits `answer` (the normal route, which does not run when a status fault
/// replaces it) and possibly cuts its body. Returns the response and the status to log.
pub(crate) async fn apply(
    plan: &FaultPlan,
    schedule: &Schedule,
    method: &Method,
    path_and_query: &str,
    is_api: bool,
    answer: impl Future<Output = Response>,
) -> (Response, u16) {
    if plan.slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.slow_ms)).await;
    }
    if !plan.schedules_faults() {
        let response = answer.await;
        let status = response.status().as_u16();
        return (response, status);
    }
    let key = format!("{method} {path_and_query}");
    let (n, fault) = schedule.decide(plan, &key, is_api);
    let injected = |fault: Fault| {
        tracing::debug!(request = n, fault = fault.name(), %method, path_and_query, "injected fault");
    };
    match fault {
        Some(fault @ (Fault::Throttle | Fault::ThrottleForever)) => {
            injected(fault);
            let response = refusal(StatusCode::TOO_MANY_REQUESTS, plan.retry_after);
            (response, StatusCode::TOO_MANY_REQUESTS.as_u16())
        }
        Some(fault @ Fault::Burst503) => {
            injected(fault);
            let response = refusal(StatusCode::SERVICE_UNAVAILABLE, plan.retry_after);
            (response, StatusCode::SERVICE_UNAVAILABLE.as_u16())
        }
        Some(fault @ (Fault::Reset | Fault::Truncate)) => {
            let response = answer.await;
            let status = response.status().as_u16();
            if method != Method::GET || !response.status().is_success() {
                schedule.answered(&key);
                return (response, status);
            }
            let (response, was_cut) = cut(response, fault);
            if !was_cut {
                schedule.answered(&key);
                return (response, status);
            }
            injected(fault);
            let marker = if fault == Fault::Reset {
                STATUS_RESET
            } else {
                STATUS_TRUNCATED
            };
            (response, marker)
        }
        None => {
            let response = answer.await;
            let status = response.status().as_u16();
            (response, status)
        }
    }
}

/// A 429 or 503 the way SharePoint Online sends it: `text/plain` body, `Retry-After`.
fn refusal(status: StatusCode, retry_after: RetryAfterStyle) -> Response {
    let body = match status {
        StatusCode::TOO_MANY_REQUESTS => "429 TOO MANY REQUESTS",
        _ => "503 SERVICE UNAVAILABLE",
    };
    let mut response = files::plain(status, body);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after.header_value());
    response
}

/// Announces the full `Content-Length`, sends the first half of the body and then aborts
/// (reset) or ends (truncate) it; hyper closes the connection either way, since the length
/// was not met. Gives the response back untouched, with `false`, when its length is unknown
/// or below two bytes (nothing to cut).
fn cut(response: Response, fault: Fault) -> (Response, bool) {
    let (mut parts, body) = response.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| body.size_hint().exact());
    let Some(total) = announced.filter(|&t| t >= 2) else {
        return (Response::from_parts(parts, body), false);
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    let reset = fault == Fault::Reset;
    let start = Some((body.into_data_stream(), total / 2));
    let stream = futures::stream::unfold(start, move |state| async move {
        let (mut inner, left): (BodyDataStream<Body>, u64) = state?;
        if left == 0 {
            tokio::time::sleep(FLUSH_PAUSE).await;
            if reset {
                let error = std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sample portal: injected connection reset",
                );
                return Some((Err(error), None));
            }
            return None;
        }
        match inner.next().await {
            Some(Ok(mut chunk)) => {
                let keep = usize::try_from(left).unwrap_or(usize::MAX);
                if chunk.len() > keep {
                    chunk.truncate(keep);
                }
                let left = left - chunk.len() as u64;
                Some((Ok::<Bytes, std::io::Error>(chunk), Some((inner, left))))
            }
            Some(Err(e)) => Some((Err(e), None)),
            None => None,
        }
    });
    // A stream has no size hint, so hyper frames the body by the header set above.
    (Response::from_parts(parts, body::stream(stream)), true)
}

/// Whether `target` is an attachment of the permanently failing item.
pub(crate) fn fails(plan: &FaultPlan, target: &FileTarget) -> bool {
    plan.fail_item.is_some() && plan.fail_item == attachment_item(&target.server_relative_url)
}

/// The item id of `…/Attachments/<id>/<name>`.
fn attachment_item(server_relative_url: &str) -> Option<i64> {
    let mut back = server_relative_url.rsplit('/');
    let _name = back.next()?;
    let id = back.next()?.parse().ok()?;
    back.next()?
        .eq_ignore_ascii_case("Attachments")
        .then_some(id)
}

/// The REST error a download of the failing item's attachments gets.
pub(crate) fn failed_item_error(target: &FileTarget) -> ApiError {
    tracing::debug!(url = %target.server_relative_url, fault = "fail-item", "injected fault");
    ApiError {
        status: 500,
        code: SP_EXCEPTION,
        message: format!(
            "Cannot open file \"{}\": an unexpected error has occurred.",
            target.server_relative_url
        ),
    }
}

/// Serves a file, unless it belongs to the failing item: then SharePoint's 500 page.
pub(crate) async fn respond_file(
    plan: &FaultPlan,
    target: &FileTarget,
    content_type: &str,
) -> Response {
    if !fails(plan, target) {
        return files::respond(target, content_type).await;
    }
    let err = failed_item_error(target);
    let body = format!(
        "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Sorry, something \
         went wrong</h1><p>{}</p></body></html>",
        escape_html(&err.message)
    );
    let mut response = body::response(body::full(body));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_spec_parses_and_prints_back() {
        let spec = "throttle=10,reset=5,truncate=5,slow=50,fail-item=7,burst503=20:5,\
                    retry-after=1,health=9,throttle-forever";
        let plan = FaultPlan::parse(spec).unwrap_or_default();
        assert_eq!(
            plan,
            FaultPlan {
                throttle_percent: 10,
                retry_after: RetryAfterStyle::Seconds(1),
                burst_503: Some((20, 5)),
                reset_percent: 5,
                truncate_percent: 5,
                slow_ms: 50,
                fail_item: Some(7),
                throttle_forever: true,
                health_score: Some(9),
            }
        );
        assert_eq!(FaultPlan::parse(&plan.to_string()), Ok(plan.clone()));
        assert_eq!(
            "throttle=10"
                .parse::<FaultPlan>()
                .map(|p| p.throttle_percent),
            Ok(10)
        );
    }

    #[test]
    fn empty_and_none_mean_no_faults() {
        for spec in ["", "  ", "none", "NONE", ","] {
            assert_eq!(FaultPlan::parse(spec), Ok(FaultPlan::default()), "{spec:?}");
        }
        assert_eq!(FaultPlan::default().to_string(), "none");
        assert!(!FaultPlan::default().schedules_faults());
    }

    #[test]
    fn retry_after_has_two_forms() {
        let plan = FaultPlan::parse("retry-after=date:120").unwrap_or_default();
        assert_eq!(plan.retry_after, RetryAfterStyle::HttpDate(120));
        assert_eq!(plan.to_string(), "retry-after=date:120");
        let plan = FaultPlan::parse(" retry-after = 0 ").unwrap_or_default();
        assert_eq!(plan.retry_after, RetryAfterStyle::Seconds(0));
    }

    #[test]
    fn bad_tokens_are_named_with_the_valid_ones() {
        for (spec, names) in [
            ("throttle=10,bogus=3", "\"bogus=3\""),
            ("throttle=101", "\"throttle=101\""),
            ("throttle=x", "\"throttle=x\""),
            ("throttle", "\"throttle\""),
            ("burst503=5", "\"burst503=5\""),
            ("burst503=0:5", "\"burst503=0:5\""),
            ("health=11", "\"health=11\""),
            ("throttle-forever=yes", "\"throttle-forever=yes\""),
            ("fail-item=seven", "\"fail-item=seven\""),
            ("slow=-1", "\"slow=-1\""),
        ] {
            let err = FaultPlan::parse(spec).err().unwrap_or_default();
            assert!(err.contains(names), "{spec}: {err}");
            assert!(err.contains("valid: throttle=PERCENT"), "{spec}: {err}");
        }
        let err = FaultPlan::parse("reset=1,reset=2")
            .err()
            .unwrap_or_default();
        assert!(err.contains("\"reset\" is given twice"), "{err}");
        let err = FaultPlan::parse("throttle=60,reset=30,truncate=20")
            .err()
            .unwrap_or_default();
        assert!(err.contains("110%"), "{err}");
    }

    #[test]
    fn each_hundred_requests_gets_exactly_the_percentages() {
        let plan = FaultPlan {
            throttle_percent: 10,
            reset_percent: 5,
            truncate_percent: 7,
            ..Default::default()
        };
        for hundred in 0..3u64 {
            let faults: Vec<Option<Fault>> = (1..=100)
                .map(|i| plan.scheduled(hundred * 100 + i))
                .collect();
            let count = |f| faults.iter().filter(|x| **x == Some(f)).count();
            assert_eq!(count(Fault::Throttle), 10);
            assert_eq!(count(Fault::Reset), 5);
            assert_eq!(count(Fault::Truncate), 7);
        }
        // Spread out: the first ten throttled requests are not ten neighbours.
        let throttled: Vec<u64> = (1..=100)
            .filter(|&n| plan.scheduled(n) == Some(Fault::Throttle))
            .collect();
        assert_eq!(throttled, [11, 19, 38, 46, 57, 65, 73, 84, 92, 100]);
    }

    #[test]
    fn a_burst_covers_its_request_numbers() {
        let plan = FaultPlan {
            burst_503: Some((3, 4)),
            ..Default::default()
        };
        let burst: Vec<u64> = (1..=20)
            .filter(|&n| plan.scheduled(n) == Some(Fault::Burst503))
            .collect();
        assert_eq!(burst, [3, 4, 5, 6]);
    }

    #[test]
    fn no_logical_request_is_faulted_more_than_twice_in_a_row() {
        let plan = FaultPlan {
            throttle_percent: 100,
            ..Default::default()
        };
        let schedule = Schedule::default();
        let tries: Vec<Option<Fault>> = (0..6)
            .map(|_| schedule.decide(&plan, "GET /_api/web", true).1)
            .collect();
        assert_eq!(
            tries,
            [
                Some(Fault::Throttle),
                Some(Fault::Throttle),
                None,
                Some(Fault::Throttle),
                Some(Fault::Throttle),
                None
            ]
        );
        // Another request has its own count.
        assert_eq!(
            schedule.decide(&plan, "GET /_api/web/lists", true).1,
            Some(Fault::Throttle)
        );
        // A fault that could not be applied gives the count back.
        schedule.decide(&plan, "GET /x", false);
        schedule.answered("GET /x");
        schedule.decide(&plan, "GET /x", false);
        assert_eq!(
            schedule.decide(&plan, "GET /x", false).1,
            Some(Fault::Throttle)
        );
    }

    #[test]
    fn throttle_forever_hits_the_api_only_and_without_bound() {
        let plan = FaultPlan {
            throttle_forever: true,
            ..Default::default()
        };
        let schedule = Schedule::default();
        for _ in 0..10 {
            assert_eq!(
                schedule.decide(&plan, "GET /_api/web", true).1,
                Some(Fault::ThrottleForever)
            );
        }
        assert_eq!(schedule.decide(&plan, "GET /a.png", false).1, None);
    }

    #[test]
    fn attachment_urls_name_their_item() {
        assert_eq!(
            attachment_item("/Lists/TinTucSuKien/Attachments/7/a b.pdf"),
            Some(7)
        );
        assert_eq!(
            attachment_item("/sites/x/Lists/L/attachments/12/x.txt"),
            Some(12)
        );
        assert_eq!(attachment_item("/PublishingImages/2023/7/a.jpg"), None);
        assert_eq!(attachment_item("/Lists/L/Attachments/x/a.pdf"), None);
        assert_eq!(attachment_item("a.pdf"), None);
    }
}
