//! The HTTP client follows redirects within the crawl's scope and never out of it, so a crawl
//! cannot be led off the portal; a redirect loop fails at once; every hop is a request the
//! client counts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sharc::fetch::{AllowedHost, Client, FetchError, FetchOptions, Refusal, Scope};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn client(site: SocketAddr, allowed: &[AllowedHost]) -> Client {
    let site = url::Url::parse(&format!("http://{site}/")).unwrap();
    Client::new(&FetchOptions {
        scope: Scope::new(&site, allowed),
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn redirects_in_scope_are_followed_and_others_are_not() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    // "localhost" is the same machine but another host name: it stands in for a foreign host.
    let elsewhere = serve(Router::new().route(
        "/x",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { "elsewhere" }
        }),
    ))
    .await;
    let target = format!("http://localhost:{}/x", elsewhere.port());
    let portal = serve(
        Router::new()
            .route(
                "/moved",
                get(|| async {
                    (StatusCode::FOUND, [(header::LOCATION, "/here")]).into_response()
                }),
            )
            .route("/here", get(|| async { "here" }))
            .route(
                "/away",
                get(move || {
                    let t = target.clone();
                    async move { (StatusCode::FOUND, [(header::LOCATION, t)]).into_response() }
                }),
            ),
    )
    .await;

    let client = client(portal, &[]);
    let url = |p: &str| url::Url::parse(&format!("http://{portal}{p}")).unwrap();
    let body = client.get(&url("/moved"), "*/*").await.unwrap();
    assert_eq!(body.bytes, b"here");
    assert_eq!(body.url, url("/here"));

    let err = client.get(&url("/away"), "*/*").await.unwrap_err();
    assert!(
        matches!(
            &err,
            FetchError::Refused {
                redirected_to: Some(_),
                refusal: Refusal::OffSite { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("--allow-host"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other host was never contacted"
    );
    let stats = client.stats();
    assert_eq!(
        (
            stats.requests,
            stats.redirects,
            stats.refused,
            stats.retries
        ),
        (3, 1, 1, 0),
        "two requests and a hop sent, one hop refused, nothing retried"
    );

    // Allowing the host with its port lets the redirect through; the host alone means its
    // default port, which this is not.
    let host_only = client_for(portal, "localhost");
    assert!(host_only.get(&url("/away"), "*/*").await.is_err());
    let with_port = client_for(portal, &format!("localhost:{}", elsewhere.port()));
    assert_eq!(
        with_port.get(&url("/away"), "*/*").await.unwrap().bytes,
        b"elsewhere"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

fn client_for(site: SocketAddr, allowed: &str) -> Client {
    client(site, &[AllowedHost::parse(allowed).unwrap()])
}

#[tokio::test]
async fn a_redirect_loop_fails_at_once_after_one_round() {
    let hits = Arc::new(AtomicUsize::new(0));
    let (a, b) = (hits.clone(), hits.clone());
    let portal = serve(
        Router::new()
            .route(
                "/a",
                get(move || {
                    a.fetch_add(1, Ordering::SeqCst);
                    async { (StatusCode::FOUND, [(header::LOCATION, "/b")]).into_response() }
                }),
            )
            .route(
                "/b",
                get(move || {
                    b.fetch_add(1, Ordering::SeqCst);
                    async {
                        (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/a")]).into_response()
                    }
                }),
            ),
    )
    .await;
    let client = client(portal, &[]);
    let url = url::Url::parse(&format!("http://{portal}/a")).unwrap();
    let err = client.get(&url, "*/*").await.unwrap_err();
    assert!(matches!(err, FetchError::Redirect { .. }), "{err:?}");
    assert!(err.to_string().contains("redirect loop"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 2, "/a and /b once each");
    assert_eq!(client.stats().retries, 0);
}

#[tokio::test]
async fn a_post_keeps_its_body_through_307_is_retried_like_a_get_and_never_becomes_a_get() {
    use axum::routing::post;
    let tries = Arc::new(AtomicUsize::new(0));
    let counter = tries.clone();
    let portal = serve(
        Router::new()
            .route(
                "/svc",
                post(move |headers: axum::http::HeaderMap, body: String| {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n == 0 {
                            // Throttled once: a read sent again is harmless.
                            return (
                                StatusCode::SERVICE_UNAVAILABLE,
                                [(header::RETRY_AFTER, "0")],
                            )
                                .into_response();
                        }
                        let action = headers
                            .get("SOAPAction")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        format!("{action}|{body}").into_response()
                    }
                }),
            )
            .route(
                "/kept",
                post(|| async {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, "/svc")]).into_response()
                }),
            )
            .route(
                "/lost",
                post(|| async {
                    (StatusCode::FOUND, [(header::LOCATION, "/svc")]).into_response()
                }),
            ),
    )
    .await;
    let c = client(portal, &[]);
    let url = |p: &str| url::Url::parse(&format!("http://{portal}{p}")).unwrap();
    let headers = [("SOAPAction", "urn:GetList")];
    let call = sharc::fetch::Post {
        accept: "text/xml",
        content_type: "text/xml; charset=utf-8",
        headers: &headers,
        body: b"<Envelope/>",
    };
    let body = c.post(&url("/kept"), &call).await.unwrap();
    assert_eq!(body.bytes, b"urn:GetList|<Envelope/>");
    assert_eq!(
        tries.load(Ordering::SeqCst),
        2,
        "retried once after the 503"
    );
    let stats = c.stats();
    assert_eq!((stats.retries, stats.redirects), (1, 2));
    match c.post(&url("/lost"), &call).await {
        Err(FetchError::Redirect { message, .. }) => {
            assert!(
                message.contains("a POST is not sent again after a 301, 302 or 303"),
                "{message}"
            )
        }
        other => panic!("a 302 for a POST must not be followed: {other:?}"),
    }
    assert_eq!(
        tries.load(Ordering::SeqCst),
        2,
        "nothing sent after the 302"
    );
    // The scope holds for POSTs as for GETs.
    let off = url::Url::parse("http://localhost:9/svc").unwrap();
    assert!(matches!(
        c.post(&off, &call).await,
        Err(FetchError::Refused { .. })
    ));
}
