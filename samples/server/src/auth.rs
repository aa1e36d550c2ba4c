//! Signing in to the sample portal: the gate a farm that wants signed-in readers puts before
//! every answer, with fixed test credentials so sharc's tests are deterministic.
//!
//! One method is required at a time ([`AuthOptions`]): a bearer token (`Authorization:
//! Bearer`, answered with SharePoint Online's `WWW-Authenticate: Bearer realm=…`), a cookie
//! (`FedAuth`; without it a forms-based farm redirects to `/_layouts/15/Authenticate.aspx`),
//! Basic, or NTLM as IIS speaks it (`Negotiate` and `NTLM` offered; a challenge with a fixed
//! server challenge; the NTLMv2 response verified against the test password). NTLM
//! authenticates a connection: a challenge is remembered on the connection it was sent on,
//! and an `AUTHENTICATE_MESSAGE` arriving on another connection is refused, so a client that
//! spreads the legs over its pool fails here as it would on IIS.
//!
//! Signed-in readers see every item; anonymous readers, when they are let in at all
//! ([`AuthOptions::anonymous_reads`]), see the approved ones only, as SharePoint shows drafts
//! and pending items to their authors and approvers alone. A token can be made to expire
//! after a number of requests ([`AuthOptions::valid_for`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use hmac::{KeyInit, Mac};
use hyper::StatusCode;
use hyper::header::{self, HeaderMap, HeaderValue};
use md4::{Digest, Md4};

use super::body::{self, Response};

/// The access token the bearer mode accepts.
pub const TEST_TOKEN: &str =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.c2FtcGxlLXBvcnRhbC10b2tlbg.sample-9f3c2e7a";
/// The `FedAuth` cookie value the cookie mode accepts.
pub const TEST_FEDAUTH: &str = "77u/PD94bWwgdmVyc2lvbj0iMS4wIj8+sample-fedauth-41d8c0e2";
/// The domain of the test account (Basic and NTLM).
pub const TEST_DOMAIN: &str = "LONGAN";
/// The user name of the test account.
pub const TEST_USER: &str = "archivist";
/// The password of the test account.
pub const TEST_PASSWORD: &str = "Mật-khẩu-7c41b9d0";
/// The server challenge of every NTLM `CHALLENGE_MESSAGE`, fixed for deterministic tests.
pub const NTLM_SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
/// Where a forms-based farm sends a reader who is not signed in.
pub const LOGIN_PATH: &str = "/_layouts/15/Authenticate.aspx";

/// Which sign-in the portal requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `Authorization: Bearer TEST_TOKEN`.
    Bearer,
    /// `Cookie: FedAuth=TEST_FEDAUTH`.
    Cookie,
    /// `Authorization: Basic` of `LONGAN\archivist` and the test password.
    Basic,
    /// NTLMv2 of the same account.
    Ntlm,
}

/// The sign-in switches of the sample portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthOptions {
    /// The method required.
    pub method: AuthMethod,
    /// Anonymous readers are let in, and see approved items only; `false`: they get the
    /// method's challenge.
    pub anonymous_reads: bool,
    /// The credentials stop working after this many signed-in requests (a token that
    /// expires mid-crawl); `None`: never.
    pub valid_for: Option<u64>,
}

impl AuthOptions {
    /// `method` required of everyone, valid for ever.
    pub fn require(method: AuthMethod) -> AuthOptions {
        AuthOptions {
            method,
            anonymous_reads: false,
            valid_for: None,
        }
    }
}

/// Who a request is from.
pub(crate) enum Reader {
    /// Signed in: sees everything.
    SignedIn,
    /// Not signed in, and let in: sees what anonymous readers see.
    Anonymous,
    /// Turned away with this answer (a challenge, a refusal, a redirect to sign in).
    TurnedAway(Response),
}

/// What one connection remembers: the NTLM challenge sent on it, if any.
#[derive(Debug, Default)]
pub(crate) struct Connection {
    challenge_sent: Mutex<bool>,
}

/// Signed-in requests answered so far, for [`AuthOptions::valid_for`].
#[derive(Debug, Default)]
pub(crate) struct Uses(AtomicU64);

/// Decides who the request with `headers` on `conn` is from.
pub(crate) fn gate(
    opts: &AuthOptions,
    uses: &Uses,
    conn: &Connection,
    path_and_query: &str,
    headers: &HeaderMap,
) -> Reader {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header(header::AUTHORIZATION);
    let given = match opts.method {
        AuthMethod::Bearer => authorization.map(|a| a == format!("Bearer {TEST_TOKEN}")),
        AuthMethod::Basic => authorization.map(|a| a == basic_value()),
        AuthMethod::Cookie => header(header::COOKIE).map(|c| {
            c.split(';')
                .any(|p| p.trim() == format!("FedAuth={TEST_FEDAUTH}"))
        }),
        AuthMethod::Ntlm => match authorization.and_then(|a| a.strip_prefix("NTLM ")) {
            None => None,
            Some(token) => match ntlm_leg(conn, token) {
                Leg::Challenge(m) => return Reader::TurnedAway(challenge(&m)),
                Leg::Verified(ok) => Some(ok),
            },
        },
    };
    match given {
        Some(true) => {
            let n = uses.0.fetch_add(1, Ordering::Relaxed) + 1;
            if opts.valid_for.is_some_and(|max| n > max) {
                Reader::TurnedAway(refuse(opts.method, path_and_query, true))
            } else {
                Reader::SignedIn
            }
        }
        Some(false) => Reader::TurnedAway(refuse(opts.method, path_and_query, true)),
        None if opts.anonymous_reads => Reader::Anonymous,
        None => Reader::TurnedAway(refuse(opts.method, path_and_query, false)),
    }
}

/// The sign-in page a forms-based farm redirects to: served to anyone, never content.
pub(crate) fn login_page() -> Response {
    let mut r = body::response(body::full(
        "<!DOCTYPE html><html><head><title>Sign In</title></head><body><form method=\"post\"><input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>",
    ));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn basic_value() -> String {
    let pair = format!("{TEST_DOMAIN}\\{TEST_USER}:{TEST_PASSWORD}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The answer to a reader without (`given` false) or with wrong or expired credentials.
fn refuse(method: AuthMethod, path_and_query: &str, given: bool) -> Response {
    if method == AuthMethod::Cookie {
        // A forms-based farm sends the reader to sign in, with a 302, as it does a browser.
        let source: String = path_and_query
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let mut r = body::response(body::full("Object moved"));
        *r.status_mut() = StatusCode::FOUND;
        r.headers_mut().insert(
            header::LOCATION,
            header_value(&format!("{LOGIN_PATH}?Source={source}")),
        );
        return r;
    }
    let mut r = body::response(body::full("401 UNAUTHORIZED"));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    let h = r.headers_mut();
    match method {
        AuthMethod::Bearer => {
            let error = if given {
                ", error=\"invalid_token\""
            } else {
                ""
            };
            h.append(
                header::WWW_AUTHENTICATE,
                header_value(&format!(
                    "Bearer realm=\"5ca1ab1e-0000-4000-8000-000000000001\", client_id=\"00000003-0000-0ff1-ce00-000000000000\"{error}"
                )),
            );
        }
        AuthMethod::Basic => {
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"127.0.0.1\""),
            );
        }
        AuthMethod::Ntlm | AuthMethod::Cookie => {
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Negotiate"),
            );
            h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
        }
    }
    r
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("invalid"))
}

enum Leg {
    /// Answer the first leg with this `CHALLENGE_MESSAGE`.
    Challenge(Vec<u8>),
    /// The third leg, verified or not.
    Verified(bool),
}

/// One leg of NTLM on `conn`: a `NEGOTIATE_MESSAGE` gets the challenge, an
/// `AUTHENTICATE_MESSAGE` is verified against the challenge sent on this same connection.
fn ntlm_leg(conn: &Connection, token: &str) -> Leg {
    let Ok(m) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
        return Leg::Verified(false);
    };
    let mut sent = conn
        .challenge_sent
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    match (m.get(..8) == Some(b"NTLMSSP\0"), u32_at(&m, 8)) {
        (true, Some(1)) => {
            *sent = true;
            Leg::Challenge(challenge_message())
        }
        // A third leg is good for the challenge of its own connection only, and only once.
        (true, Some(3)) => Leg::Verified(std::mem::take(&mut *sent) && verify(&m)),
        _ => Leg::Verified(false),
    }
}

fn challenge(message: &[u8]) -> Response {
    let mut r = body::response(body::full("401 UNAUTHORIZED"));
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    let value = format!(
        "NTLM {}",
        base64::engine::general_purpose::STANDARD.encode(message)
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, header_value(&value));
    r
}

/// The `CHALLENGE_MESSAGE`: the fixed server challenge, and target information naming the
/// domain and the server.
fn challenge_message() -> Vec<u8> {
    let mut info = Vec::new();
    for (id, value) in [(2u16, TEST_DOMAIN), (1, "SP2013")] {
        let v = utf16(value);
        info.extend_from_slice(&id.to_le_bytes());
        info.extend_from_slice(&(v.len() as u16).to_le_bytes());
        info.extend_from_slice(&v);
    }
    info.extend_from_slice(&[0; 4]);
    let name = utf16(TEST_DOMAIN);
    let flags: u32 = 0x0000_0001
        | 0x0000_0004
        | 0x0000_0200
        | 0x0001_0000
        | 0x0008_0000
        | 0x0080_0000
        | 0x2000_0000
        | 0x8000_0000;
    let name_at = 48u32;
    let info_at = name_at + name.len() as u32;
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&2u32.to_le_bytes());
    m.extend_from_slice(&(name.len() as u16).to_le_bytes());
    m.extend_from_slice(&(name.len() as u16).to_le_bytes());
    m.extend_from_slice(&name_at.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&NTLM_SERVER_CHALLENGE);
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&info_at.to_le_bytes());
    m.extend_from_slice(&name);
    m.extend_from_slice(&info);
    m
}

/// Verifies an `AUTHENTICATE_MESSAGE`: the account is the test account, and its NTLMv2
/// proof is HMAC-MD5 of the server challenge and the client's blob under the key derived
/// from the test password (MS-NLMP 3.3.2).
fn verify(m: &[u8]) -> bool {
    let (Some(nt), Some(domain), Some(user)) = (field(m, 20), field(m, 28), field(m, 36)) else {
        return false;
    };
    let (domain, user) = (from_utf16(domain), from_utf16(user));
    if !user.eq_ignore_ascii_case(TEST_USER)
        || !(domain.is_empty() || domain.eq_ignore_ascii_case(TEST_DOMAIN))
        || nt.len() < 16 + 28
    {
        return false;
    }
    let (proof, blob) = nt.split_at(16);
    let nt_hash: [u8; 16] = Md4::digest(utf16(TEST_PASSWORD)).into();
    let key = hmac_md5(
        &nt_hash,
        &[&utf16(&format!("{}{domain}", user.to_uppercase()))],
    );
    hmac_md5(&key, &[&NTLM_SERVER_CHALLENGE, blob]) == proof
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = <hmac::Hmac<md5::Md5> as KeyInit>::new_from_slice(key)
        .expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn from_utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

fn u32_at(m: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(m.get(at..at + 4)?.try_into().ok()?))
}

fn field(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16::from_le_bytes(m.get(at..at + 2)?.try_into().ok()?) as usize;
    let offset = u32_at(m, at + 4)? as usize;
    m.get(offset..offset.checked_add(len)?)
}

/// Whether an item is approved (`_ModerationStatus` 0, or no moderation at all): all an
/// anonymous reader sees.
pub(crate) fn approved(values: &serde_json::Map<String, serde_json::Value>) -> bool {
    values
        .get("OData__ModerationStatus")
        .and_then(serde_json::Value::as_i64)
        .is_none_or(|s| s == 0)
}
