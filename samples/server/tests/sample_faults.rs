//! The sample portal's fault switches, seen from a real HTTP client on loopback: 429 with
//! `Retry-After` in both forms, 503 bursts, connections dropped mid-body, bodies shorter than
//! their `Content-Length`, slow answers, a permanently failing item, a farm that throttles
//! forever, the health-score header. The schedule must be repeatable and must let a retrying
//! client through, or the crawler's resilience tests would be flaky or impossible.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;
use sharc_sample::faults::{MAX_CONSECUTIVE_FAULTS, STATUS_RESET, STATUS_TRUNCATED};
use sharc_sample::{FaultPlan, PortalOptions, RetryAfterStyle, RunningPortal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const API_WEB: &str = "_api/web";
const ITEMS: &str = "_api/web/lists/getbytitle('News')/items";
/// A file of several 64 KiB chunks, so a cut lands in the middle of a stream.
const BIG_LEN: usize = 300_000;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A portal with one list `News` of 8 items; item 2 has `small.txt`, item 3 `big.bin`, item 7
/// (the one made to fail) `broken.pdf`; plus `PublishingImages/logo.png`.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let portal = json!({
        "site": {"title": "Faults", "server_relative_url": "/",
                 "web_id": "b1a2c3d4-0000-4000-8000-000000000009",
                 "time_zone": "Asia/Ho_Chi_Minh", "version": "15.0.0.4701"},
        "lists": [{"id": "3de2e36d-678f-459c-837a-2db7c83afd8c", "title": "News",
                   "url_name": "News", "base_template": 100, "hidden": false}],
        "users": []
    });
    write(&root.join("portal.json"), portal.to_string().as_bytes());
    let fields = json!([{"Title": "Title", "InternalName": "Title", "TypeAsString": "Text"}]);
    write(
        &root.join("lists/News/fields.json"),
        fields.to_string().as_bytes(),
    );
    let attachments = [(2, "small.txt"), (3, "big.bin"), (7, "broken.pdf")];
    for id in 1..=8 {
        let mut item = json!({"Id": id, "ID": id, "Title": format!("News {id}"),
                              "GUID": format!("00000000-0000-4000-8000-{id:012}"),
                              "Attachments": false});
        if let Some((_, name)) = attachments.iter().find(|(i, _)| *i == id) {
            item["Attachments"] = json!(true);
            item["_attachments"] = json!([{"FileName": name, "stored": format!("files/Lists/News/Attachments/{id}/{name}")}]);
        }
        write(
            &root.join(format!("lists/News/items/{id:04}.json")),
            item.to_string().as_bytes(),
        );
    }
    write(
        &root.join("files/Lists/News/Attachments/2/small.txt"),
        b"a small attachment",
    );
    write(
        &root.join("files/Lists/News/Attachments/3/big.bin"),
        &big_bytes(),
    );
    write(
        &root.join("files/Lists/News/Attachments/7/broken.pdf"),
        b"%PDF-1.4 never served",
    );
    write(&root.join("files/PublishingImages/logo.png"), b"PNGDATA");
    dir
}

fn big_bytes() -> Vec<u8> {
    (0..BIG_LEN).map(|i| (i % 251) as u8).collect()
}

async fn start(dir: &Path, faults: FaultPlan) -> RunningPortal {
    let opts = PortalOptions {
        faults,
        ..Default::default()
    };
    RunningPortal::start(dir, opts, 0).await.unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn get(client: &reqwest::Client, portal: &RunningPortal, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", portal.base_url))
        .header("Accept", "application/json;odata=nometadata")
        .send()
        .await
        .unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// What a client made of one request: the status, or that the body broke.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Status(u16),
    BodyError,
}

async fn outcome(client: &reqwest::Client, portal: &RunningPortal, path: &str) -> Outcome {
    let response = get(client, portal, path).await;
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(_) => Outcome::Status(status),
        Err(_) => Outcome::BodyError,
    }
}

/// Retries at once (ignoring `Retry-After`) until a 200 with its whole body; returns the tries.
async fn fetch_with_retries(
    client: &reqwest::Client,
    portal: &RunningPortal,
    path: &str,
) -> (usize, Vec<u8>) {
    for attempt in 1..=10 {
        let response = get(client, portal, path).await;
        if response.status() != 200 {
            continue;
        }
        if let Ok(body) = response.bytes().await {
            return (attempt, body.to_vec());
        }
    }
    panic!("{path}: no clean answer in 10 tries");
}

fn statuses(portal: &RunningPortal) -> Vec<u16> {
    portal.requests().iter().map(|r| r.status).collect()
}

#[tokio::test]
async fn throttling_answers_429_with_retry_after_seconds_on_schedule() {
    let dir = fixture();
    let plan = FaultPlan {
        throttle_percent: 10,
        retry_after: RetryAfterStyle::Seconds(7),
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let client = client();
    // Distinct paths, one at a time: request n is throttled when (n × 37) mod 100 < 10.
    let mut throttled = Vec::new();
    for n in 1..=100u64 {
        let response = get(&client, &portal, &format!("{API_WEB}?n={n}")).await;
        if response.status() == 429 {
            assert_eq!(header(&response, "retry-after"), "7");
            assert_eq!(
                header(&response, "content-type"),
                "text/plain; charset=utf-8"
            );
            assert!(!header(&response, "sprequestguid").is_empty());
            assert_eq!(header(&response, "x-ms-invokeapp"), "1; RequireReadOnly");
            assert_eq!(response.text().await.unwrap(), "429 TOO MANY REQUESTS");
            throttled.push(n);
        } else {
            assert_eq!(response.status(), 200);
        }
    }
    assert_eq!(throttled, [11, 19, 38, 46, 57, 65, 73, 84, 92, 100]);
    let logged: Vec<u64> = portal
        .requests()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 429)
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(
        logged, throttled,
        "the request log records the injected 429s"
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn retry_after_can_be_an_http_date() {
    let dir = fixture();
    let plan = FaultPlan {
        throttle_percent: 100,
        retry_after: RetryAfterStyle::HttpDate(120),
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    // An HTTP date has whole seconds: the server's clock read between `before` and `after`,
    // plus 120 s, truncated to the second. No margin depends on how fast the answer came.
    let before = SystemTime::now();
    let response = get(&client(), &portal, API_WEB).await;
    let after = SystemTime::now();
    assert_eq!(response.status(), 429);
    let at = httpdate::parse_http_date(&header(&response, "retry-after")).unwrap();
    let earliest = before + Duration::from_secs(119);
    let latest = after + Duration::from_secs(120);
    assert!(
        at >= earliest && at <= latest,
        "Retry-After {at:?} is not 120 s after the answer ({before:?} to {after:?})"
    );
    portal.shutdown().await;
}

#[tokio::test]
async fn a_503_burst_covers_its_request_numbers() {
    let dir = fixture();
    let plan = FaultPlan {
        burst_503: Some((3, 4)),
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let client = client();
    for n in 1..=8 {
        let response = get(&client, &portal, &format!("{ITEMS}({n})")).await;
        let expected = if (3..7).contains(&n) { 503 } else { 200 };
        assert_eq!(response.status(), expected, "request {n}");
        if expected == 503 {
            assert_eq!(header(&response, "retry-after"), "1");
            assert_eq!(response.text().await.unwrap(), "503 SERVICE UNAVAILABLE");
        }
    }
    assert_eq!(statuses(&portal), [200, 200, 503, 503, 503, 503, 200, 200]);
    portal.shutdown().await;
}

#[tokio::test]
async fn a_reset_drops_the_connection_mid_body() {
    let dir = fixture();
    let plan = FaultPlan {
        reset_percent: 100,
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let client = client();
    for path in [
        "Lists/News/Attachments/3/big.bin",
        "PublishingImages/logo.png",
        ITEMS,
    ] {
        let mut response = get(&client, &portal, path).await;
        assert_eq!(response.status(), 200, "{path}");
        let announced = response.content_length().unwrap();
        let mut received = 0u64;
        let error = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => received += chunk.len() as u64,
                Ok(None) => panic!("{path}: the body ended cleanly"),
                Err(e) => break e,
            }
        };
        assert!(error.is_body() || error.is_decode(), "{path}: {error:?}");
        assert_eq!(received, announced / 2, "{path}: half the body came first");
    }
    assert_eq!(statuses(&portal), [STATUS_RESET; 3]);
    // HEAD answers have no body to cut.
    let head = client
        .head(format!("{}PublishingImages/logo.png", portal.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(statuses(&portal)[3], 200);
    portal.shutdown().await;
}

/// Raw HTTP/1.1, to count the bytes that really arrive.
async fn raw_get(portal: &RunningPortal, target: &str) -> (String, Vec<u8>) {
    let port = portal.base_url.port().unwrap();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!(
        "GET /{target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json;odata=nometadata\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // The server closes the connection after a cut body, although the client asked to keep it.
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    (head, answer[split + 4..].to_vec())
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .expect("a Content-Length")
}

#[tokio::test]
async fn a_truncated_body_is_shorter_than_its_content_length() {
    let dir = fixture();
    let plan = FaultPlan {
        truncate_percent: 100,
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let (head, body) = raw_get(&portal, "Lists/News/Attachments/3/big.bin").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(content_length(&head), BIG_LEN);
    assert_eq!(body.len(), BIG_LEN / 2);
    assert_eq!(body, big_bytes()[..BIG_LEN / 2]);

    let (head, body) = raw_get(&portal, ITEMS).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body.len(), content_length(&head) / 2);

    let error = get(&client(), &portal, "PublishingImages/logo.png")
        .await
        .bytes()
        .await
        .unwrap_err();
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(statuses(&portal), [STATUS_TRUNCATED; 3]);
    portal.shutdown().await;
}

#[tokio::test]
async fn slow_answers_take_at_least_slow_ms() {
    let dir = fixture();
    let plan = FaultPlan {
        slow_ms: 150,
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let client = client();
    for path in [API_WEB, "PublishingImages/logo.png"] {
        let started = Instant::now();
        let response = get(&client, &portal, path).await;
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        assert!(
            started.elapsed() >= Duration::from_millis(150),
            "{path}: {:?}",
            started.elapsed()
        );
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn a_failing_item_answers_500_for_its_files_only() {
    let dir = fixture();
    let plan = FaultPlan {
        fail_item: Some(7),
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let client = client();
    for _ in 0..3 {
        let response = get(&client, &portal, "Lists/News/Attachments/7/broken.pdf").await;
        assert_eq!(response.status(), 500);
        assert!(response.text().await.unwrap().contains("broken.pdf"));
        let response = get(
            &client,
            &portal,
            &format!("{ITEMS}(7)/AttachmentFiles('broken.pdf')/$value"),
        )
        .await;
        assert_eq!(response.status(), 500);
        let body: serde_json::Value =
            serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(
            body["odata.error"]["code"],
            "-2146232832, Microsoft.SharePoint.SPException"
        );
    }
    // Its record and its attachment list are still served, and other items' files too.
    let response = get(&client, &portal, &format!("{ITEMS}(7)")).await;
    assert_eq!(response.status(), 200);
    let response = get(&client, &portal, &format!("{ITEMS}(7)/AttachmentFiles")).await;
    assert_eq!(response.status(), 200);
    let response = get(&client, &portal, "Lists/News/Attachments/2/small.txt").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "a small attachment");
    let response = get(
        &client,
        &portal,
        &format!("{ITEMS}(2)/AttachmentFiles('small.txt')/$value"),
    )
    .await;
    assert_eq!(response.status(), 200);
    portal.shutdown().await;
}

#[tokio::test]
async fn a_farm_that_throttles_forever_still_serves_files() {
    let dir = fixture();
    let plan = FaultPlan {
        throttle_forever: true,
        ..Default::default()
    };
    let portal = start(dir.path(), plan).await;
    let client = client();
    for _ in 0..(MAX_CONSECUTIVE_FAULTS * 3) {
        let response = get(&client, &portal, ITEMS).await;
        assert_eq!(response.status(), 429);
        assert_eq!(header(&response, "retry-after"), "1");
    }
    let response = get(&client, &portal, "Lists/News/Attachments/2/small.txt").await;
    assert_eq!(response.status(), 200);
    portal.shutdown().await;
}

#[tokio::test]
async fn the_health_score_header_is_configurable() {
    let dir = fixture();
    let portal = start(dir.path(), FaultPlan::default()).await;
    let response = get(&client(), &portal, API_WEB).await;
    assert_eq!(header(&response, "x-sharepointhealthscore"), "0");
    portal.shutdown().await;

    let plan = FaultPlan::parse("health=9").unwrap();
    let portal = start(dir.path(), plan).await;
    let client = client();
    for path in [API_WEB, "PublishingImages/logo.png", "no/such/file"] {
        let response = get(&client, &portal, path).await;
        assert_eq!(header(&response, "x-sharepointhealthscore"), "9", "{path}");
    }
    portal.shutdown().await;
}

/// The spec every mixed test uses: each kind of transient fault, often.
const MIXED: &str = "throttle=20,reset=15,truncate=15,burst503=5:3,retry-after=0";

#[tokio::test]
async fn two_servers_with_the_same_plan_fault_the_same_requests() {
    let dir = fixture();
    let paths: Vec<String> = (0..40)
        .map(|i| match i % 4 {
            0 => format!("{ITEMS}({})", i % 8 + 1),
            1 => "Lists/News/Attachments/3/big.bin".to_owned(),
            2 => "PublishingImages/logo.png".to_owned(),
            _ => format!("{API_WEB}?i={i}"),
        })
        .collect();
    let mut runs = Vec::new();
    for _ in 0..2 {
        let portal = start(dir.path(), FaultPlan::parse(MIXED).unwrap()).await;
        let client = client();
        let mut seen = Vec::new();
        for path in &paths {
            seen.push(outcome(&client, &portal, path).await);
        }
        runs.push((seen, statuses(&portal)));
        portal.shutdown().await;
    }
    assert_eq!(runs[0], runs[1]);
    let (seen, logged) = &runs[0];
    for kind in [429, 503, STATUS_RESET, STATUS_TRUNCATED, 200] {
        assert!(logged.contains(&kind), "{kind} never happened: {logged:?}");
    }
    assert!(seen.contains(&Outcome::BodyError));
    // What the client saw matches the log.
    for (seen, logged) in seen.iter().zip(logged) {
        let expected = match *logged {
            STATUS_RESET | STATUS_TRUNCATED => Outcome::BodyError,
            status => Outcome::Status(status),
        };
        assert_eq!(*seen, expected);
    }
}

#[tokio::test]
async fn a_retrying_client_gets_through_within_three_tries() {
    let dir = fixture();
    // Every request is scheduled for a transient fault; only the bound lets anything through.
    let plan = FaultPlan::parse("throttle=40,reset=30,truncate=30,burst503=1:50").unwrap();
    let portal = start(dir.path(), plan).await;
    let client = client();
    let big = big_bytes();
    for round in 0..3 {
        for path in [
            API_WEB,
            ITEMS,
            "Lists/News/Attachments/3/big.bin",
            "PublishingImages/logo.png",
        ] {
            let (tries, body) = fetch_with_retries(&client, &portal, path).await;
            assert_eq!(
                tries,
                MAX_CONSECUTIVE_FAULTS as usize + 1,
                "{path}, round {round}"
            );
            if path.ends_with("big.bin") {
                assert_eq!(body, big);
            }
        }
    }
    let faulted = statuses(&portal).iter().filter(|s| **s != 200).count();
    assert_eq!(faulted, 3 * 4 * MAX_CONSECUTIVE_FAULTS as usize);
    portal.shutdown().await;
}

#[tokio::test]
async fn a_realistic_plan_lets_a_retrying_client_fetch_everything() {
    let dir = fixture();
    let plan =
        FaultPlan::parse("throttle=10,reset=5,truncate=5,burst503=10:5,retry-after=0").unwrap();
    let portal = start(dir.path(), plan).await;
    let client = client();
    let mut paths = vec![API_WEB.to_owned(), ITEMS.to_owned()];
    paths.extend((1..=8).map(|id| format!("{ITEMS}({id})")));
    paths.push("Lists/News/Attachments/2/small.txt".to_owned());
    paths.push("Lists/News/Attachments/3/big.bin".to_owned());
    paths.push("PublishingImages/logo.png".to_owned());
    for _ in 0..4 {
        for path in &paths {
            let (tries, _) = fetch_with_retries(&client, &portal, path).await;
            assert!(tries <= 3, "{path}: {tries} tries");
        }
    }
    assert!(statuses(&portal).iter().any(|s| *s != 200));
    portal.shutdown().await;
}
