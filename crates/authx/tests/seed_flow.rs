//! The seed's "dual token location" app (`examples/dual_token_location.rs`)
//! walked end to end through its router: the curl flow of the seed (GET /,
//! login, protected, protected-action, refresh, logout), then every failure
//! each endpoint can meet, each with its status, `{"detail": ...}` body and
//! `WWW-Authenticate` challenge. Time moves with a `ManualClock`; requests go
//! through `oneshot`, no sockets.
//!
//! The tests use the example's own `config`, `build` and `app`, with a
//! fixed secret and a manual clock.

#![allow(clippy::unwrap_used)]

#[path = "../examples/dual_token_location.rs"]
#[allow(dead_code)]
mod example;

mod axum_support;

use std::sync::Arc;
use std::time::Duration;

use authx::clock::ManualClock;
use authx::{AuthX, AuthXConfig, TokenOptions};
use axum::Router;
use axum::http::StatusCode;
use axum_support::{Resp, claims, get, post, tamper_signature};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const SECRET: &str = "seed-flow-test-secret-0123456789abcdefghij";
const NOW: i64 = 1_700_000_000;
const ACCESS_LIFETIME: i64 = 15 * 60;
const REFRESH_LIFETIME: i64 = 20 * 24 * 3600;

const MISSING: &str = "Missing JWT in request";
const CHALLENGE: &str = "Bearer";
const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;
const INVALID_REQUEST: &str = r#"Bearer error="invalid_request""#;
const MALFORMED_HEADER: &str = "Authorization header must be 'Bearer <token>'";

/// The seed's `GET /` document, byte for byte as FastAPI serializes it
/// (`json.dumps(..., separators=(",", ":"), ensure_ascii=False)`).
const ROOT_DOCUMENT: &str = r##"{"message":"AuthX Dual Token Location Example","description":"Access tokens in headers, refresh tokens in cookies","flow":{"1_login":"POST /login - Returns access_token in body, sets refresh_token cookie","2_api_call":"GET /protected - Send access_token in Authorization header","3_refresh":"POST /refresh - Refresh token sent via cookie, returns new access_token","4_logout":"POST /logout - Clears refresh_token cookie"},"example_requests":{"login":"curl -X POST -H \"Content-Type: application/json\" -d '{\"username\":\"user1\",\"password\":\"password1\"}' http://localhost:8000/login","protected":"curl -H \"Authorization: Bearer <access_token>\" http://localhost:8000/protected","refresh":"curl -X POST -b \"refresh_token_cookie=<token>\" -H \"X-CSRF-TOKEN: <csrf_token>\" http://localhost:8000/refresh","logout":"curl -X POST http://localhost:8000/logout"}}"##;

// ---------------------------------------------------------------------------
// fixture
// ---------------------------------------------------------------------------

fn seed_config(secret: &str) -> AuthXConfig {
    example::config(secret)
}

fn seed_auth(clock: &ManualClock) -> AuthX {
    example::build(seed_config(SECRET), Arc::new(clock.clone())).unwrap()
}

struct Seed {
    clock: ManualClock,
    auth: AuthX,
    app: Router,
}

fn seed() -> Seed {
    let clock = ManualClock::at_secs(NOW);
    let auth = seed_auth(&clock);
    let app = example::app(auth.clone());
    Seed { clock, auth, app }
}

/// What a successful login gives the client.
struct Session {
    access: String,
    refresh: String,
    csrf: String,
}

impl Session {
    /// The `Cookie` header a browser sends back after login.
    fn cookie_header(&self) -> String {
        format!(
            "refresh_token_cookie={}; csrf_refresh_token={}",
            self.refresh, self.csrf
        )
    }
}

async fn login_as(app: &Router, username: &str, password: &str) -> Resp {
    post("/login")
        .json(&json!({ "username": username, "password": password }))
        .send(app)
        .await
}

async fn login(app: &Router) -> Session {
    let r = login_as(app, "user1", "password1").await;
    assert_eq!(r.status, 200, "login: {}", r.text());
    Session {
        access: r.json()["access_token"].as_str().unwrap().to_owned(),
        refresh: r
            .set_cookie("refresh_token_cookie")
            .unwrap()
            .value()
            .to_owned(),
        csrf: r
            .set_cookie("csrf_refresh_token")
            .unwrap()
            .value()
            .to_owned(),
    }
}

/// A 401 from the example: `{"detail": detail}`, the challenge, no-store.
#[track_caller]
fn assert_401(r: &Resp, detail: &str, challenge: &str, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    assert_eq!(r.json(), json!({ "detail": detail }), "{what}");
    assert_eq!(r.www_authenticate(), Some(challenge), "{what}");
    assert_eq!(r.cache_control(), Some("no-store"), "{what}");
    assert!(r.set_cookie_headers().is_empty(), "{what}: sets cookies");
}

fn b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

// ---------------------------------------------------------------------------
// the example itself
// ---------------------------------------------------------------------------

/// The example's constructor with the system clock, through the whole
/// happy path.
#[tokio::test]
async fn example_auth_serves_the_seed_flow() {
    let app = example::app(
        example::build(
            example::config(authx::keys::generate_secret()),
            Arc::new(authx::clock::SystemClock),
        )
        .unwrap(),
    );
    let s = login(&app).await;
    let r = get("/protected").bearer(&s.access).send(&app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post("/refresh")
        .header("cookie", &s.cookie_header())
        .csrf(&s.csrf)
        .send(&app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post("/logout").send(&app).await;
    assert_eq!(r.status, 200);
}

// ---------------------------------------------------------------------------
// the seed's flow, step by step
// ---------------------------------------------------------------------------

#[tokio::test]
async fn root_document_is_the_seeds_verbatim() {
    let s = seed();
    let r = get("/").send(&s.app).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let expected: Value = serde_json::from_str(ROOT_DOCUMENT).unwrap();
    assert_eq!(r.json(), expected);
    assert_eq!(r.text(), ROOT_DOCUMENT, "same bytes, same key order");
}

#[tokio::test]
async fn login_returns_access_token_and_sets_refresh_cookies() {
    let s = seed();
    for (user, password) in [("user1", "password1"), ("user2", "password2")] {
        let r = login_as(&s.app, user, password).await;
        assert_eq!(r.status, 200, "{}", r.text());

        // Body: exactly {access_token, token_type: "bearer"}.
        let body = r.json();
        let access = body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(
            body,
            json!({ "access_token": access, "token_type": "bearer" })
        );
        let c = claims(&access);
        assert_eq!(c["sub"], user);
        assert_eq!(c["type"], "access");
        assert_eq!(c["fresh"], false);
        assert_eq!(c["exp"], NOW + ACCESS_LIFETIME);

        // Only the refresh cookie and its CSRF cookie; the access token
        // stays out of cookies.
        let names: Vec<String> = r.set_cookies().iter().map(|c| c.name().into()).collect();
        assert_eq!(names, ["csrf_refresh_token", "refresh_token_cookie"]);

        let refresh = r.set_cookie("refresh_token_cookie").unwrap();
        let rc = claims(refresh.value());
        assert_eq!(rc["sub"], user);
        assert_eq!(rc["type"], "refresh");
        assert_eq!(rc["exp"], NOW + REFRESH_LIFETIME);
        assert_eq!(refresh.http_only(), Some(true));
        assert_eq!(refresh.same_site(), Some(cookie::SameSite::Lax));
        assert_eq!(refresh.path(), Some("/"));
        assert_eq!(refresh.secure(), None, "cookie_secure is off in the seed");
        assert_eq!(refresh.domain(), None);
        assert_eq!(refresh.max_age(), None, "session cookie");

        let csrf = r.set_cookie("csrf_refresh_token").unwrap();
        assert_eq!(csrf.value(), rc["csrf"].as_str().unwrap());
        assert!(csrf.value().len() >= 22, "128 random bits");
        assert_eq!(csrf.http_only(), None, "JavaScript must read it");
        assert_eq!(csrf.same_site(), Some(cookie::SameSite::Lax));
        assert_eq!(csrf.path(), Some("/"));
        assert_eq!(csrf.secure(), None);

        assert_eq!(r.cache_control(), Some("no-store"));
    }
}

#[tokio::test]
async fn protected_accepts_the_bearer_access_token() {
    let s = seed();
    let session = login(&s.app).await;
    let r = get("/protected").bearer(&session.access).send(&s.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({
            "message": "Access granted",
            "username": "user1",
            "email": "user1@example.com",
            "token_location": "headers",
        })
    );
    // A valid token for a user the seed does not know: email null, as
    // Python's `USERS.get(username, {}).get("email")`.
    let ghost = s.auth.create_access_token("ghost").unwrap();
    let r = get("/protected").bearer(&ghost).send(&s.app).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["email"], Value::Null);
    assert_eq!(r.json()["username"], "ghost");
}

#[tokio::test]
async fn protected_action_needs_no_csrf_for_a_header_token() {
    let s = seed();
    let session = login(&s.app).await;
    let r = post("/protected-action")
        .bearer(&session.access)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({ "message": "Action performed successfully", "username": "user1" })
    );
    // Cookies riding along (as a browser would send them) change nothing.
    let r = post("/protected-action")
        .bearer(&session.access)
        .header("cookie", &session.cookie_header())
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn refresh_with_cookie_and_csrf_header_returns_a_working_access_token() {
    let s = seed();
    let session = login(&s.app).await;
    s.clock.advance(Duration::from_secs(60));
    let r = post("/refresh")
        .header("cookie", &session.cookie_header())
        .csrf(&session.csrf)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let access = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({ "access_token": access, "token_type": "bearer" })
    );
    assert_ne!(access, session.access);
    let c = claims(&access);
    assert_eq!(c["sub"], "user1");
    assert_eq!(c["type"], "access");
    assert_eq!(c["fresh"], false);
    assert_eq!(c["iat"], NOW + 60);
    assert!(r.set_cookie_headers().is_empty(), "refresh sets no cookie");

    let r = get("/protected").bearer(&access).send(&s.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["username"], "user1");

    // The header is compared with the token's claim, not with the CSRF
    // cookie: the cookie need not even be sent.
    let r = post("/refresh")
        .cookies(&[("refresh_token_cookie", &session.refresh)])
        .csrf(&session.csrf)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// H6: a response that carries a token is not cacheable. `/login` gets
/// `no-store` from `AuthCookies`; `/refresh` returns a bare `Json`.
#[tokio::test]
async fn refresh_response_is_not_cacheable() {
    let s = seed();
    let session = login(&s.app).await;
    let r = post("/refresh")
        .header("cookie", &session.cookie_header())
        .csrf(&session.csrf)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.cache_control(),
        Some("no-store"),
        "the /refresh response carries an access token (H6)"
    );
}

#[tokio::test]
async fn logout_clears_the_refresh_cookies_with_the_same_attributes() {
    let s = seed();
    let session = login(&s.app).await;
    let r = post("/logout")
        .header("cookie", &session.cookie_header())
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "message": "Successfully logged out" }));
    let names: Vec<String> = r.set_cookies().iter().map(|c| c.name().into()).collect();
    assert_eq!(names, ["refresh_token_cookie", "csrf_refresh_token"]);
    for (name, http_only) in [
        ("refresh_token_cookie", Some(true)),
        ("csrf_refresh_token", None),
    ] {
        let c = r.set_cookie(name).unwrap();
        assert_eq!(c.value(), "", "{name}");
        assert_eq!(
            c.max_age(),
            Some(cookie::time::Duration::ZERO),
            "{name}: Max-Age=0"
        );
        assert!(r.raw_set_cookie(name).unwrap().contains("Max-Age=0"));
        let expires = c.expires_datetime().unwrap();
        assert!(
            expires.unix_timestamp() <= NOW,
            "{name}: Expires in the past"
        );
        assert_eq!(c.http_only(), http_only, "{name}");
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{name}");
        assert_eq!(c.path(), Some("/"), "{name}");
        assert_eq!(c.secure(), None, "{name}");
        assert_eq!(c.domain(), None, "{name}");
    }
    assert_eq!(r.cache_control(), Some("no-store"));

    // Logout needs no session, as in the seed.
    let r = post("/logout").send(&s.app).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.set_cookie_headers().len(), 2);
}

/// The seed's narrative in one go: the access token expires, the client
/// refreshes through the cookie and carries on, then logs out.
#[tokio::test]
async fn the_whole_seed_flow() {
    let s = seed();
    let r = get("/").send(&s.app).await;
    assert_eq!(r.status, 200);

    let session = login(&s.app).await;
    let r = get("/protected").bearer(&session.access).send(&s.app).await;
    assert_eq!(r.status, 200);
    let r = post("/protected-action")
        .bearer(&session.access)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200);

    s.clock.advance(Duration::from_secs(16 * 60));
    let r = get("/protected").bearer(&session.access).send(&s.app).await;
    assert_401(&r, "Token has expired", INVALID_TOKEN, "expired access");

    let r = post("/refresh")
        .header("cookie", &session.cookie_header())
        .csrf(&session.csrf)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let access = r.json()["access_token"].as_str().unwrap().to_owned();
    let r = get("/protected").bearer(&access).send(&s.app).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["token_location"], "headers");

    let r = post("/logout")
        .header("cookie", &session.cookie_header())
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.set_cookie("refresh_token_cookie").unwrap().max_age(),
        Some(cookie::time::Duration::ZERO)
    );
}

// ---------------------------------------------------------------------------
// /login failures
// ---------------------------------------------------------------------------

#[tokio::test]
async fn login_rejects_wrong_password_and_unknown_user() {
    let s = seed();
    for (user, password) in [
        ("user1", "wrong"),
        ("user1", "password2"),
        ("user1", ""),
        ("User1", "password1"),
        ("nobody", "password1"),
        ("", ""),
    ] {
        let what = format!("{user:?}/{password:?}");
        let r = login_as(&s.app, user, password).await;
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(
            r.json(),
            json!({ "detail": "Invalid username or password" }),
            "{what}"
        );
        assert!(r.set_cookie_headers().is_empty(), "{what}");
    }
}

/// RFC 9110 §15.5.2: a 401 response MUST carry `WWW-Authenticate`. The
/// example's `unauthorized()` builds its 401 without one.
#[tokio::test]
async fn login_failure_sends_a_challenge() {
    let s = seed();
    for (user, password) in [("user1", "wrong"), ("nobody", "password1")] {
        let r = login_as(&s.app, user, password).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.www_authenticate(),
            Some(CHALLENGE),
            "{user}: 401 without WWW-Authenticate"
        );
    }
}

#[tokio::test]
async fn login_with_a_bad_body_is_a_client_error() {
    let s = seed();
    let cases = [
        ("no body", post("/login")),
        ("not JSON", post("/login").raw_body("application/json", "{")),
        (
            "wrong content type",
            post("/login").raw_body(
                "text/plain",
                r#"{"username":"user1","password":"password1"}"#,
            ),
        ),
        (
            "missing field",
            post("/login").json(&json!({ "username": "user1" })),
        ),
        (
            "wrong type",
            post("/login").json(&json!({ "username": 1, "password": "password1" })),
        ),
    ];
    for (what, req) in cases {
        let r = req.send(&s.app).await;
        assert!(r.status.is_client_error(), "{what}: {}", r.status);
        assert!(r.set_cookie_headers().is_empty(), "{what}");
    }
}

// ---------------------------------------------------------------------------
// /protected and /protected-action failures
// ---------------------------------------------------------------------------

/// Every way a header-only route refuses a request, on both routes.
#[tokio::test]
async fn header_only_routes_refuse_bad_credentials() {
    let s = seed();
    let session = login(&s.app).await;
    let access = &session.access;
    let other_secret = AuthX::new(seed_config("another-secret-of-at-least-32-bytes-long"))
        .unwrap()
        .create_access_token("user1")
        .unwrap();
    let alg_none = {
        let mut parts = access.split('.');
        let _header = parts.next();
        let claims = parts.next().unwrap();
        let sig = parts.next().unwrap();
        format!(
            "{}.{claims}.{sig}",
            b64_json(&json!({"alg": "none", "typ": "JWT"}))
        )
    };

    for (method, path) in [("GET", "/protected"), ("POST", "/protected-action")] {
        let req = |what: &'static str| {
            let r = if method == "GET" {
                get(path)
            } else {
                post(path)
            };
            (format!("{method} {path}: {what}"), r)
        };
        let cases = vec![
            (req("no token"), MISSING, CHALLENGE),
            (
                {
                    let (w, r) = req("access token in the access cookie");
                    (w, r.cookies(&[("access_token_cookie", access)]))
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, r) = req("access token in the refresh cookie");
                    (
                        w,
                        r.header("cookie", &format!("refresh_token_cookie={access}")),
                    )
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, r) = req("session cookies and CSRF header only");
                    (
                        w,
                        r.header("cookie", &session.cookie_header())
                            .csrf(&session.csrf),
                    )
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, _) = req("token in the query string");
                    let r = if method == "GET" {
                        get(&format!("{path}?token={access}"))
                    } else {
                        post(&format!("{path}?token={access}"))
                    };
                    (w, r)
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, r) = req("refresh token as access token");
                    (w, r.bearer(&session.refresh))
                },
                "Access token required",
                INVALID_TOKEN,
            ),
            (
                {
                    let (w, r) = req("tampered signature");
                    (w, r.bearer(&tamper_signature(access)))
                },
                "Signature verification failed",
                INVALID_TOKEN,
            ),
            (
                {
                    let (w, r) = req("signed with another secret");
                    (w, r.bearer(&other_secret))
                },
                "Signature verification failed",
                INVALID_TOKEN,
            ),
            (
                {
                    let (w, r) = req("alg none");
                    (w, r.bearer(&alg_none))
                },
                "Invalid Token: algorithm not allowed",
                INVALID_TOKEN,
            ),
            (
                {
                    let (w, r) = req("not a JWT");
                    (w, r.bearer("not-a-jwt"))
                },
                "Invalid Token: token must have exactly three segments",
                INVALID_TOKEN,
            ),
            (
                {
                    let (w, r) = req("Bearer without a token");
                    (w, r.header("authorization", "Bearer"))
                },
                MALFORMED_HEADER,
                INVALID_REQUEST,
            ),
            (
                {
                    let (w, r) = req("Bearer with two tokens");
                    (w, r.header("authorization", "Bearer a b"))
                },
                MALFORMED_HEADER,
                INVALID_REQUEST,
            ),
            (
                {
                    let (w, r) = req("Bearer, two spaces");
                    (w, r.header("authorization", &format!("Bearer  {access}")))
                },
                MALFORMED_HEADER,
                INVALID_REQUEST,
            ),
            (
                {
                    let (w, r) = req("Bearer and a trailing token");
                    (
                        w,
                        r.header("authorization", &format!("Bearer {access} extra")),
                    )
                },
                MALFORMED_HEADER,
                INVALID_REQUEST,
            ),
            (
                {
                    let (w, r) = req("non-UTF-8 header");
                    (w, r.header_bytes("authorization", b"Bearer \xff\xfe"))
                },
                MALFORMED_HEADER,
                INVALID_REQUEST,
            ),
            (
                {
                    let (w, r) = req("Basic scheme");
                    (w, r.header("authorization", "Basic x"))
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, r) = req("another scheme with a valid token");
                    (w, r.header("authorization", &format!("Token {access}")))
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, r) = req("bare token without scheme");
                    (w, r.header("authorization", access))
                },
                MISSING,
                CHALLENGE,
            ),
            (
                {
                    let (w, r) = req("two Authorization headers");
                    (w, r.bearer(access).bearer(access))
                },
                "Credentials sent more than once",
                INVALID_REQUEST,
            ),
            (
                {
                    let (w, r) = req("Basic then Bearer");
                    (w, r.header("authorization", "Basic x").bearer(access))
                },
                "Credentials sent more than once",
                INVALID_REQUEST,
            ),
        ];
        for ((what, r), detail, challenge) in cases {
            let r = r.send(&s.app).await;
            assert_401(&r, detail, challenge, &what);
        }

        // The scheme is case-insensitive (RFC 6750 / RFC 9110 §11.1).
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let (what, r) = req("scheme casing");
            let r = r
                .header("authorization", &format!("{scheme} {access}"))
                .send(&s.app)
                .await;
            assert_eq!(r.status, 200, "{what} {scheme}: {}", r.text());
            assert_eq!(r.json()["username"], "user1");
        }
    }
}

#[tokio::test]
async fn access_token_expires_after_fifteen_minutes() {
    let s = seed();
    let session = login(&s.app).await;
    let exp_ms = (NOW + ACCESS_LIFETIME) * 1000;

    s.clock.set_millis(exp_ms - 1);
    for (method, path) in [("GET", "/protected"), ("POST", "/protected-action")] {
        let r = if method == "GET" {
            get(path)
        } else {
            post(path)
        };
        let r = r.bearer(&session.access).send(&s.app).await;
        assert_eq!(r.status, 200, "{path} one ms before exp: {}", r.text());
    }

    s.clock.set_millis(exp_ms);
    for (method, path) in [("GET", "/protected"), ("POST", "/protected-action")] {
        let r = if method == "GET" {
            get(path)
        } else {
            post(path)
        };
        let r = r.bearer(&session.access).send(&s.app).await;
        assert_401(&r, "Token has expired", INVALID_TOKEN, path);
    }

    // An expired and tampered token reports the signature (C13).
    let r = get("/protected")
        .bearer(&tamper_signature(&session.access))
        .send(&s.app)
        .await;
    assert_401(
        &r,
        "Signature verification failed",
        INVALID_TOKEN,
        "expired and tampered",
    );
}

// ---------------------------------------------------------------------------
// /refresh failures
// ---------------------------------------------------------------------------

#[tokio::test]
async fn refresh_refuses_bad_credentials() {
    let s = seed();
    let session = login(&s.app).await;
    let access_csrf = claims(&session.access)["csrf"].as_str().unwrap().to_owned();
    assert_ne!(access_csrf, session.csrf, "X3: independent CSRF values");
    let refresh = session.refresh.as_str();
    let csrf = session.csrf.as_str();

    let cases = vec![
        ("no cookie", post("/refresh"), MISSING, CHALLENGE),
        (
            "no cookie, CSRF header only",
            post("/refresh").csrf(csrf),
            MISSING,
            CHALLENGE,
        ),
        (
            "only the CSRF cookie",
            post("/refresh")
                .cookies(&[("csrf_refresh_token", csrf)])
                .csrf(csrf),
            MISSING,
            CHALLENGE,
        ),
        (
            "access token in the refresh cookie",
            post("/refresh")
                .cookies(&[("refresh_token_cookie", &session.access)])
                .csrf(&access_csrf),
            "Refresh token required",
            INVALID_TOKEN,
        ),
        (
            "access token in the refresh cookie, refresh CSRF",
            post("/refresh")
                .cookies(&[("refresh_token_cookie", &session.access)])
                .csrf(csrf),
            "Refresh token required",
            INVALID_TOKEN,
        ),
        (
            "missing CSRF header",
            post("/refresh").header("cookie", &session.cookie_header()),
            "Missing CSRF token",
            INVALID_TOKEN,
        ),
        (
            "empty CSRF header",
            post("/refresh")
                .header("cookie", &session.cookie_header())
                .csrf(""),
            "Missing CSRF token",
            INVALID_TOKEN,
        ),
        (
            "wrong CSRF header",
            post("/refresh")
                .header("cookie", &session.cookie_header())
                .csrf("wrong-csrf-value"),
            "CSRF double submit does not match",
            INVALID_TOKEN,
        ),
        (
            "prefix of the CSRF value",
            post("/refresh")
                .header("cookie", &session.cookie_header())
                .csrf(&csrf[..csrf.len() - 1]),
            "CSRF double submit does not match",
            INVALID_TOKEN,
        ),
        (
            "the access token's CSRF value",
            post("/refresh")
                .header("cookie", &session.cookie_header())
                .csrf(&access_csrf),
            "CSRF double submit does not match",
            INVALID_TOKEN,
        ),
        (
            "forged CSRF cookie echoed in the header",
            post("/refresh")
                .cookies(&[
                    ("refresh_token_cookie", refresh),
                    ("csrf_refresh_token", "attacker-chosen"),
                ])
                .csrf("attacker-chosen"),
            "CSRF double submit does not match",
            INVALID_TOKEN,
        ),
        (
            "refresh token in the Authorization header",
            post("/refresh").bearer(refresh).csrf(csrf),
            MISSING,
            CHALLENGE,
        ),
        (
            "refresh token in the access cookie",
            post("/refresh")
                .cookies(&[("access_token_cookie", refresh)])
                .csrf(csrf),
            MISSING,
            CHALLENGE,
        ),
        (
            "refresh token in the query string",
            post(&format!("/refresh?token={refresh}")).csrf(csrf),
            MISSING,
            CHALLENGE,
        ),
        (
            "tampered refresh cookie",
            post("/refresh")
                .cookies(&[("refresh_token_cookie", &tamper_signature(refresh))])
                .csrf(csrf),
            "Signature verification failed",
            INVALID_TOKEN,
        ),
        (
            "garbage refresh cookie",
            post("/refresh")
                .cookies(&[("refresh_token_cookie", "garbage")])
                .csrf(csrf),
            "Invalid Token: token must have exactly three segments",
            INVALID_TOKEN,
        ),
        (
            "refresh cookie sent twice",
            post("/refresh")
                .cookies(&[
                    ("refresh_token_cookie", refresh),
                    ("refresh_token_cookie", refresh),
                ])
                .csrf(csrf),
            "Credentials sent more than once",
            INVALID_REQUEST,
        ),
        (
            "refresh cookie in two Cookie headers",
            post("/refresh")
                .cookies(&[("refresh_token_cookie", refresh)])
                .cookies(&[("refresh_token_cookie", refresh)])
                .csrf(csrf),
            "Credentials sent more than once",
            INVALID_REQUEST,
        ),
        (
            "CSRF header sent twice",
            post("/refresh")
                .header("cookie", &session.cookie_header())
                .csrf(csrf)
                .csrf(csrf),
            "Credentials sent more than once",
            INVALID_REQUEST,
        ),
    ];
    for (what, req, detail, challenge) in cases {
        let r = req.send(&s.app).await;
        assert_401(&r, detail, challenge, what);
    }

    // The CSRF header name is case-insensitive; the value is not.
    let r = post("/refresh")
        .header("cookie", &session.cookie_header())
        .header("X-Csrf-Token", csrf)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    if csrf != csrf.to_ascii_uppercase() {
        let r = post("/refresh")
            .header("cookie", &session.cookie_header())
            .csrf(&csrf.to_ascii_uppercase())
            .send(&s.app)
            .await;
        assert_401(
            &r,
            "CSRF double submit does not match",
            INVALID_TOKEN,
            "upper-cased CSRF",
        );
    }

    // Only POST is routed.
    let r = get("/refresh")
        .header("cookie", &session.cookie_header())
        .send(&s.app)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn refresh_token_expires_after_twenty_days() {
    let s = seed();
    let session = login(&s.app).await;
    let exp_ms = (NOW + REFRESH_LIFETIME) * 1000;
    let refresh = || {
        post("/refresh")
            .header("cookie", &session.cookie_header())
            .csrf(&session.csrf)
    };

    s.clock.set_millis(exp_ms - 1);
    let r = refresh().send(&s.app).await;
    assert_eq!(r.status, 200, "one ms before exp: {}", r.text());
    // The new access token is good for its own fifteen minutes, past the
    // refresh token's expiry.
    let access = r.json()["access_token"].as_str().unwrap().to_owned();

    s.clock.set_millis(exp_ms);
    let r = refresh().send(&s.app).await;
    assert_401(&r, "Token has expired", INVALID_TOKEN, "expired refresh");
    let r = get("/protected").bearer(&access).send(&s.app).await;
    assert_eq!(r.status, 200);
}

/// A refresh token with custom options still refreshes; scopes and data on
/// it do not leak into the new access token (the example mints a plain one).
#[tokio::test]
async fn refresh_mints_a_plain_access_token() {
    let s = seed();
    let opts = TokenOptions::new()
        .scopes(["admin"])
        .claim("tenant", "acme")
        .unwrap();
    let refresh = s.auth.create_refresh_token_with("user2", &opts).unwrap();
    let csrf = claims(&refresh)["csrf"].as_str().unwrap().to_owned();
    let r = post("/refresh")
        .cookies(&[("refresh_token_cookie", &refresh)])
        .csrf(&csrf)
        .send(&s.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let c = claims(r.json()["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "user2");
    assert!(c.get("scopes").is_none());
    assert!(c.get("tenant").is_none());
}

// ---------------------------------------------------------------------------
// never a 5xx
// ---------------------------------------------------------------------------

#[tokio::test]
async fn hostile_requests_never_get_a_server_error() {
    let s = seed();
    let session = login(&s.app).await;
    let huge = "a".repeat(100_000);
    let dots = ".".repeat(1_000_000);
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bad_header = |b64: String| format!("{b64}.{}.sig", b64_json(&json!({"sub": "x"})));
    let tokens = vec![
        String::new(),
        huge.clone(),
        dots,
        format!("{huge}.{huge}.{huge}"),
        "a.b.c".to_owned(),
        "..".to_owned(),
        "a.b.c.d.e".to_owned(),
        bad_header(URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","alg":"none"}"#)),
        bad_header(URL_SAFE_NO_PAD.encode(nested.as_bytes())),
        bad_header(URL_SAFE_NO_PAD.encode(b"\xff\xfe")),
        bad_header(b64_json(&json!({"alg": "HS256", "crit": ["exp"]}))),
        bad_header(b64_json(
            &json!({"alg": "HS256", "kid": "../../etc/passwd"}),
        )),
        tamper_signature(&session.access),
        session.refresh.clone(),
    ];
    let paths = [
        ("GET", "/"),
        ("POST", "/login"),
        ("POST", "/refresh"),
        ("GET", "/protected"),
        ("POST", "/protected-action"),
        ("POST", "/logout"),
    ];
    for (method, path) in paths {
        for token in &tokens {
            let base = || {
                if method == "GET" {
                    get(path)
                } else {
                    post(path)
                }
            };
            let what = format!("{method} {path} with {:.40}", token);
            let reqs = [
                base().header("authorization", &format!("Bearer {token}")),
                base()
                    .cookies(&[("refresh_token_cookie", token)])
                    .csrf(token),
                base()
                    .cookies(&[("access_token_cookie", token)])
                    .csrf(&session.csrf),
                base().header("authorization", token),
            ];
            for r in reqs {
                r.send(&s.app).await.assert_not_5xx(&what);
            }
        }
    }
}
