//! Helpers shared by the axum integration tests: drive a `Router` with
//! `oneshot`, read the response, parse `Set-Cookie` headers, decode token
//! claims without verifying them.

#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::Cookie;
use http::header::{CACHE_CONTROL, SET_COOKIE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

/// A collected response.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as JSON; panics with the raw body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?} (status {})",
                String::from_utf8_lossy(&self.body),
                self.status
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The only value of a header, as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut all = self.headers.get_all(name).iter();
        let first = all.next()?;
        assert!(all.next().is_none(), "header {name} sent more than once");
        Some(first.to_str().expect("header is not visible ASCII"))
    }

    pub fn www_authenticate(&self) -> Option<&str> {
        self.header(WWW_AUTHENTICATE.as_str())
    }

    pub fn cache_control(&self) -> Option<&str> {
        self.header(CACHE_CONTROL.as_str())
    }

    /// Every `Set-Cookie` header, raw.
    pub fn set_cookie_headers(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("Set-Cookie is not ASCII").to_owned())
            .collect()
    }

    /// Every `Set-Cookie`, parsed.
    pub fn set_cookies(&self) -> Vec<Cookie<'static>> {
        self.set_cookie_headers()
            .into_iter()
            .map(|s| Cookie::parse_encoded(s.clone()).unwrap_or_else(|e| panic!("{s:?}: {e}")))
            .collect()
    }

    /// The only `Set-Cookie` named `name`.
    pub fn set_cookie(&self, name: &str) -> Option<Cookie<'static>> {
        let mut found: Vec<_> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name() == name)
            .collect();
        assert!(found.len() <= 1, "cookie {name} set {} times", found.len());
        found.pop()
    }

    /// The raw `Set-Cookie` header of the cookie named `name`.
    pub fn raw_set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookie_headers()
            .into_iter()
            .find(|s| s.split_once('=').is_some_and(|(n, _)| n == name))
    }

    /// Panics on any 5xx.
    pub fn assert_not_5xx(&self, what: &str) {
        assert!(
            !self.status.is_server_error(),
            "{what}: server error {} {:?}",
            self.status,
            self.text()
        );
    }
}

/// Sends one request through a clone of `app`.
pub async fn send(app: &Router, req: Request<Body>) -> Resp {
    let res = app
        .clone()
        .oneshot(req)
        .await
        .expect("axum routers are infallible");
    let (parts, body) = res.into_parts();
    let body = body
        .collect()
        .await
        .expect("body collects")
        .to_bytes()
        .to_vec();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A request builder: method, uri, headers, body.
#[derive(Debug)]
pub struct Req {
    method: Method,
    uri: String,
    headers: Vec<(String, HeaderValue)>,
    body: Body,
}

pub fn req(method: Method, uri: &str) -> Req {
    Req {
        method,
        uri: uri.to_owned(),
        headers: Vec::new(),
        body: Body::empty(),
    }
}

pub fn get(uri: &str) -> Req {
    req(Method::GET, uri)
}

pub fn post(uri: &str) -> Req {
    req(Method::POST, uri)
}

impl Req {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((
            name.to_owned(),
            HeaderValue::from_str(value).expect("valid header value"),
        ));
        self
    }

    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.push((
            name.to_owned(),
            HeaderValue::from_bytes(value).expect("valid header bytes"),
        ));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// One `Cookie` header with these pairs.
    pub fn cookies(self, pairs: &[(&str, &str)]) -> Self {
        let value = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.header("cookie", &value)
    }

    pub fn csrf(self, value: &str) -> Self {
        self.header("x-csrf-token", value)
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.headers.push((
            "content-type".to_owned(),
            HeaderValue::from_static("application/json"),
        ));
        self.body = Body::from(serde_json::to_vec(body).expect("serializable"));
        self
    }

    pub fn raw_body(mut self, content_type: &str, body: &'static str) -> Self {
        self.headers.push((
            "content-type".to_owned(),
            HeaderValue::from_str(content_type).expect("valid content type"),
        ));
        self.body = Body::from(body);
        self
    }

    pub fn build(self) -> Request<Body> {
        let mut r = Request::builder().method(self.method).uri(self.uri);
        for (k, v) in self.headers {
            r = r.header(k, v);
        }
        r.body(self.body).expect("valid request")
    }

    pub async fn send(self, app: &Router) -> Resp {
        send(app, self.build()).await
    }
}

/// The claims of a token, decoded without verification (for assertions
/// on what the server issued).
pub fn claims(token: &str) -> Value {
    let seg = token.split('.').nth(1).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).expect("base64url")).expect("JSON claims")
}

/// The token with one character in the middle of its signature changed.
pub fn tamper_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("three segments");
    let mut sig: Vec<u8> = sig.bytes().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(sig).expect("ASCII"))
}
