//! The browser side: the `/app` page and `authx-client.js`, compiled into
//! the binary (`include_str!`), served with a strict Content-Security-Policy
//! and the other security headers.
//!
//! The policy allows scripts, styles and connections from this origin only
//! and no inline script, so an injected `<script>` does not run; and the
//! pattern leaves an XSS nothing durable to steal: the access token lives in
//! a private field of the client, the refresh token in an `HttpOnly` cookie.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::app::AppState;

const APP_HTML: &str = include_str!("../static/app.html");
const APP_CSS: &str = include_str!("../static/app.css");
const APP_JS: &str = include_str!("../static/app.js");
const CLIENT_JS: &str = include_str!("../static/authx-client.js");
const CLIENT_DTS: &str = include_str!("../static/authx-client.d.ts");

/// The page's Content-Security-Policy.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), \
     magnetometer=(), microphone=(), payment=(), usb=(), browsing-topics=()";

/// The routes of the browser side, merged into the service's router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/app", get(page))
        .route("/app/", get(|| async { Redirect::permanent("/app") }))
        .route("/app/app.css", get(css))
        .route("/app/app.js", get(app_js))
        .route("/app/authx-client.js", get(client_js))
        .route("/app/authx-client.d.ts", get(client_dts))
}

/// Headers every file of the browser side carries.
fn secured(content_type: &'static str, cache: &'static str, body: &'static str) -> Response {
    let headers: [(HeaderName, HeaderValue); 8] = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (headers, body).into_response()
}

/// `GET /app`: the demo page. Never cached: it is the page a session
/// starts from.
pub(crate) async fn page() -> Response {
    secured("text/html; charset=utf-8", "no-store", APP_HTML)
}

async fn css() -> Response {
    secured("text/css; charset=utf-8", "no-cache", APP_CSS)
}

async fn app_js() -> Response {
    secured("text/javascript; charset=utf-8", "no-cache", APP_JS)
}

async fn client_js() -> Response {
    secured("text/javascript; charset=utf-8", "no-cache", CLIENT_JS)
}

async fn client_dts() -> Response {
    secured("text/plain; charset=utf-8", "no-cache", CLIENT_DTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_no_inline_script_or_style() {
        // Every <script> loads a file; no inline handlers or style attributes
        // (the CSP would refuse them).
        for (i, chunk) in APP_HTML.split("<script").enumerate().skip(1) {
            let tag = chunk.split('>').next().unwrap_or_default();
            assert!(tag.contains("src="), "inline <script> #{i}");
        }
        assert!(!APP_HTML.contains(" onclick="));
        assert!(!APP_HTML.contains(" onload="));
        assert!(!APP_HTML.contains(" style="));
        assert!(!APP_HTML.contains("<style"));
    }

    #[test]
    fn client_keeps_tokens_out_of_storage() {
        assert!(!CLIENT_JS.contains("localStorage."));
        assert!(!CLIENT_JS.contains("sessionStorage."));
        assert!(!CLIENT_JS.contains("indexedDB."));
        assert!(CLIENT_JS.contains("credentials: 'include'"));
    }
}
