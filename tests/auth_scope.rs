//! Credentials go to the portal's own scheme, host and port only: a host allowed besides it
//! gets none, a redirect to it loses them, and a redirect to a sign-in page is "not signed
//! in", never content.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use sharc::fetch::{
    AllowedHost, AuthMethod, Client, Credentials, FetchError, FetchOptions, Scope, Secret,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>)>>>;

/// A server that records the path, `Authorization` and `Cookie` of every request, answers
/// `/ok`, redirects `/away` to `away` and `/login` to a sign-in page.
async fn recording(seen: Seen, away: Option<String>) -> SocketAddr {
    let record = move |path: &'static str| {
        let seen = seen.clone();
        move |headers: HeaderMap| {
            let h = |n: header::HeaderName| {
                headers
                    .get(n)
                    .map(|v| v.to_str().unwrap_or_default().to_owned())
            };
            seen.lock().unwrap().push((
                path.to_owned(),
                h(header::AUTHORIZATION),
                h(header::COOKIE),
            ));
            async { "ok" }
        }
    };
    let away = away.unwrap_or_default();
    let app = Router::new()
        .route("/ok", get(record("/ok")))
        .route(
            "/away",
            get(move || {
                let t = away.clone();
                async move { (StatusCode::FOUND, [(header::LOCATION, t)]).into_response() }
            }),
        )
        .route(
            "/login",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [(
                        header::LOCATION,
                        "/_layouts/15/Authenticate.aspx?Source=%2Flogin",
                    )],
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn client(site: SocketAddr, allowed: &[AllowedHost], credentials: Credentials) -> Client {
    let site = url::Url::parse(&format!("http://{site}/")).unwrap();
    Client::new(&FetchOptions {
        scope: Scope::new(&site, allowed),
        credentials,
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn credentials_go_to_the_portal_only_never_to_an_allowed_host_or_through_a_redirect() {
    let media_seen = Seen::default();
    let media = recording(media_seen.clone(), None).await;
    let portal_seen = Seen::default();
    let portal = recording(portal_seen.clone(), Some(format!("http://{media}/ok"))).await;
    let allowed = [AllowedHost::parse(&media.to_string()).unwrap()];
    let url = |a: SocketAddr, p: &str| url::Url::parse(&format!("http://{a}{p}")).unwrap();

    for (credentials, header) in [
        (
            Credentials::Bearer(Secret::new("t0ken").unwrap()),
            "Bearer t0ken",
        ),
        (
            Credentials::Cookie(Secret::new("FedAuth=c00kie").unwrap()),
            "FedAuth=c00kie",
        ),
    ] {
        let c = client(portal, &allowed, credentials);
        c.get(&url(portal, "/ok"), "*/*").await.unwrap();
        c.get(&url(media, "/ok"), "*/*").await.unwrap();
        c.get(&url(portal, "/away"), "*/*").await.unwrap();
        let on_portal = portal_seen.lock().unwrap().drain(..).collect::<Vec<_>>();
        assert_eq!(on_portal.len(), 1);
        let (_, auth, cookie) = &on_portal[0];
        assert_eq!(
            auth.as_deref().or(cookie.as_deref()),
            Some(header),
            "the portal gets the credentials"
        );
        let on_media = media_seen.lock().unwrap().drain(..).collect::<Vec<_>>();
        assert_eq!(on_media.len(), 2, "asked directly, and redirected to");
        for (path, auth, cookie) in on_media {
            assert_eq!((auth, cookie), (None, None), "{path} on an allowed host");
        }
    }
}

#[tokio::test]
async fn a_redirect_to_a_sign_in_page_is_not_signed_in_never_content() {
    let portal = recording(Seen::default(), None).await;
    let c = client(
        portal,
        &[],
        Credentials::Cookie(Secret::new("FedAuth=old").unwrap()),
    );
    let u = url::Url::parse(&format!("http://{portal}/login")).unwrap();
    let e = c.get(&u, "*/*").await.unwrap_err();
    assert!(
        matches!(
            &e,
            FetchError::NotSignedIn {
                status: 302,
                sent: AuthMethod::Cookie,
                login_page: Some(p),
                ..
            } if p.contains("Authenticate.aspx")
        ),
        "{e:?}"
    );
    assert!(e.is_sign_in_lost());
    let words = e.to_string();
    assert!(
        words.contains("not signed in") && words.contains("--auth cookie"),
        "{words}"
    );
    assert!(!words.contains("FedAuth=old"));
}
