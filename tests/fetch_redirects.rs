//! The HTTP client follows redirects on the host it was sent to and never to another one,
//! so a crawl cannot be led off the portal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sharc::fetch::{Client, FetchOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn same_host_redirects_are_followed_and_others_are_not() {
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

    let client = Client::new(&FetchOptions::default()).unwrap();
    let url = |p: &str| url::Url::parse(&format!("http://{portal}{p}")).unwrap();
    let body = client.get(&url("/moved"), "*/*").await.unwrap();
    assert_eq!(body.bytes, b"here");

    let err = client.get(&url("/away"), "*/*").await.unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(err.to_string().contains("--allow-host"), "{err}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other host was never contacted"
    );

    let allowed = Client::new(&FetchOptions {
        redirect_hosts: vec!["localhost".into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        allowed.get(&url("/away"), "*/*").await.unwrap().bytes,
        b"elsewhere"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
