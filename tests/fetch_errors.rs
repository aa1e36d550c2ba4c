//! The client classifies failures once: transient ones (503 and its kind, timeouts) are
//! retried, permanent ones (other 4xx, URLs out of scope, bodies over their bound) fail at
//! once. Pages are read into memory only up to a cap, counted after decompression; files are
//! asked for without compression and stopped at `max_file`.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

#[path = "hostile/bomb.rs"]
mod bomb;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sharc::fetch::{Client, FetchError, FetchOptions, Refusal, RetryPolicy, Scope};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use url::Url;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A client for the site at `addr` that retries quickly, three attempts at most.
fn client(addr: SocketAddr, edit: impl FnOnce(&mut FetchOptions)) -> Client {
    let site = Url::parse(&format!("http://{addr}/")).unwrap();
    let mut opts = FetchOptions {
        scope: Scope::new(&site, &[]),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..Default::default()
    };
    edit(&mut opts);
    Client::new(&opts).unwrap()
}

/// A route answering `reply` and counting its hits.
fn counted<R: IntoResponse + Clone + Send + Sync + 'static>(
    hits: &Arc<AtomicUsize>,
    reply: R,
) -> axum::routing::MethodRouter {
    let hits = hits.clone();
    get(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        let r = reply.clone();
        async move { r }
    })
}

#[tokio::test]
async fn a_404_fails_at_once_and_a_503_is_retried() {
    let (gone, busy) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let addr = serve(
        Router::new()
            .route("/gone", counted(&gone, (StatusCode::NOT_FOUND, "no")))
            .route(
                "/busy",
                counted(&busy, (StatusCode::SERVICE_UNAVAILABLE, "later")),
            ),
    )
    .await;
    let c = client(addr, |_| {});
    let url = |p: &str| Url::parse(&format!("http://{addr}{p}")).unwrap();

    let e = c.get(&url("/gone"), "*/*").await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    assert_eq!(gone.load(Ordering::SeqCst), 1, "a 404 is asked once");

    let e = c.get(&url("/busy"), "*/*").await.unwrap_err();
    assert!(matches!(e, FetchError::GaveUp { attempts: 3, .. }), "{e:?}");
    assert_eq!(busy.load(Ordering::SeqCst), 3, "a 503 is asked again");
    let stats = c.stats();
    assert_eq!((stats.requests, stats.retries, stats.throttled), (4, 2, 3));
}

#[tokio::test]
async fn a_url_out_of_scope_is_refused_without_a_request() {
    let c = client("127.0.0.1:9".parse().unwrap(), |_| {});
    for (u, want) in [
        (
            "file:///etc/hostname",
            Refusal::BadScheme {
                scheme: "file".into(),
            },
        ),
        ("http://alice:s3cr3t@127.0.0.1:9/x", Refusal::Userinfo),
    ] {
        let e = c.get(&Url::parse(u).unwrap(), "*/*").await.unwrap_err();
        match &e {
            FetchError::Refused { refusal, .. } => assert_eq!(refusal, &want),
            other => panic!("{u}: {other:?}"),
        }
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
    assert_eq!(c.stats().requests, 0);
    assert_eq!(c.stats().refused, 2);
}

#[tokio::test]
async fn a_page_over_the_cap_fails_at_once_counted_after_decompression() {
    let hits = Arc::new(AtomicUsize::new(0));
    // 100 KB on the wire, 100 MB inflated.
    let bomb = bomb::gzip_repeated(b' ', 100_000_000);
    let addr = serve(Router::new().route(
        "/_api/web",
        counted(
            &hits,
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CONTENT_ENCODING, "gzip"),
                ],
                bomb,
            ),
        ),
    ))
    .await;
    let c = client(addr, |o| o.max_page = 1024 * 1024);
    let url = Url::parse(&format!("http://{addr}/_api/web")).unwrap();
    let e = c.get(&url, "application/json").await.unwrap_err();
    assert!(
        matches!(
            e,
            FetchError::PageTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("/_api/web"), "{e}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn files_are_asked_for_as_identity_and_stopped_at_max_file() {
    let addr = serve(
        Router::new()
            .route(
                "/echo",
                get(|h: HeaderMap| async move {
                    h.get(header::ACCEPT_ENCODING)
                        .map(|v| v.as_bytes().to_vec())
                        .unwrap_or_default()
                }),
            )
            .route("/big", get(|| async { vec![b'x'; 5000] })),
    )
    .await;
    let c = client(addr, |o| o.max_file = Some(1000));
    let tmp = tempfile::tempdir().unwrap();
    let url = |p: &str| Url::parse(&format!("http://{addr}{p}")).unwrap();

    let dest = tmp.path().join("echo");
    c.download(&url("/echo"), &dest).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), b"identity");

    let dest = tmp.path().join("big");
    let e = c.download(&url("/big"), &dest).await.unwrap_err();
    assert!(
        matches!(
            e,
            FetchError::FileTooLarge {
                limit: 1000,
                announced: Some(5000),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("--max-file-size"), "{e}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["echo"], "nothing left of the refused file");
}

#[tokio::test]
async fn a_file_compressed_anyway_is_stored_as_sent() {
    let sent = bomb::gzip_repeated(b'%', 10_000_000);
    let body = sent.clone();
    let addr = serve(Router::new().route(
        "/nen.pdf",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_ENCODING, "gzip")], body) }
        }),
    ))
    .await;
    let c = client(addr, |o| o.max_file = Some(1_000_000));
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("nen.pdf");
    let url = Url::parse(&format!("http://{addr}/nen.pdf")).unwrap();
    let fixity = c.download(&url, &dest).await.unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), sent, "not inflated");
    assert_eq!(fixity.size, sent.len() as u64);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_retried_then_given_up() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let addr = serve(Router::new().route(
        "/slow",
        get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }
        }),
    ))
    .await;
    let c = client(addr, |o| {
        o.request_timeout = Duration::from_millis(300);
        o.retry.max_attempts = 2;
    });
    let started = std::time::Instant::now();
    let url = Url::parse(&format!("http://{addr}/slow")).unwrap();
    let e = c.get(&url, "*/*").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{e}");
    assert!(
        matches!(&e, FetchError::GaveUp { attempts: 2, last, .. } if last.contains("--request-timeout")),
        "{e:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}
