//! The seed's curl flow against the real binary, every failure path of its
//! endpoints, rotation and reuse detection, sessions, and the operations
//! endpoints. Each test runs its own server on its own database.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{BAD_LOGIN, Server, Spawn, Tokens, claims, jti, jwt_header};

/// The seed's `GET /` document, byte for byte as FastAPI serializes it
/// (compact separators, insertion order).
const ROOT: &str = r#"{"message":"AuthX Dual Token Location Example","description":"Access tokens in headers, refresh tokens in cookies","flow":{"1_login":"POST /login - Returns access_token in body, sets refresh_token cookie","2_api_call":"GET /protected - Send access_token in Authorization header","3_refresh":"POST /refresh - Refresh token sent via cookie, returns new access_token","4_logout":"POST /logout - Clears refresh_token cookie"},"example_requests":{"login":"curl -X POST -H \"Content-Type: application/json\" -d '{\"username\":\"user1\",\"password\":\"password1\"}' http://localhost:8000/login","protected":"curl -H \"Authorization: Bearer <access_token>\" http://localhost:8000/protected","refresh":"curl -X POST -b \"refresh_token_cookie=<token>\" -H \"X-CSRF-TOKEN: <csrf_token>\" http://localhost:8000/refresh","logout":"curl -X POST http://localhost:8000/logout"}}"#;

fn start() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Spawn::new(dir.path()).start();
    (dir, server)
}

fn start_with(args: &[&str]) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Spawn::new(dir.path()).args(args).start();
    (dir, server)
}

/// The seed's `detail` for a cookie refresh token without its CSRF header
/// (AuthX's message, word for word).
const MISSING_CSRF: &str = "Missing CSRF token. Expected in 'X-CSRF-TOKEN' header. Ensure you're using 'set_access_cookies'/'set_refresh_cookies' to set cookies (which also sets the CSRF cookie), then include the CSRF token from that cookie in your request header. To disable CSRF protection, set JWT_COOKIE_CSRF_PROTECT=False.";

/// Flips one character of the signature.
fn tamper(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("JWT");
    let mut sig: Vec<char> = sig.chars().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", sig.into_iter().collect::<String>())
}

#[tokio::test]
async fn root_is_the_seed_document_byte_for_byte() {
    let (_dir, s) = start();
    let res = s.get("/").await;
    res.expect(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        res.header("content-type")
    );
    assert_eq!(res.text(), ROOT);
    // And the constant itself is the seed's document.
    let v: Value = serde_json::from_str(ROOT).expect("ROOT is JSON");
    assert_eq!(
        v["example_requests"]["login"],
        r#"curl -X POST -H "Content-Type: application/json" -d '{"username":"user1","password":"password1"}' http://localhost:8000/login"#
    );
}

#[tokio::test]
async fn the_seed_curl_flow_step_by_step() {
    let (_dir, s) = start();

    // 3. Login.
    let res = s.login_raw("user1", "password1").await;
    res.expect(200);
    assert_eq!(
        res.json()
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["access_token".to_owned(), "token_type".to_owned()]),
        "body keys in the seed's order"
    );
    let refresh_cookie = res.cookie("refresh_token_cookie");
    assert!(refresh_cookie.has("HttpOnly"), "{}", refresh_cookie.raw);
    assert_eq!(
        refresh_cookie.attr("samesite"),
        Some("Lax"),
        "{}",
        refresh_cookie.raw
    );
    assert_eq!(
        refresh_cookie.attr("path"),
        Some("/"),
        "{}",
        refresh_cookie.raw
    );
    assert!(
        !refresh_cookie.has("Secure"),
        "dev mode: {}",
        refresh_cookie.raw
    );
    let csrf_cookie = res.cookie("csrf_refresh_token");
    assert!(
        !csrf_cookie.has("HttpOnly"),
        "JS must read it: {}",
        csrf_cookie.raw
    );
    assert_eq!(
        csrf_cookie.attr("samesite"),
        Some("Lax"),
        "{}",
        csrf_cookie.raw
    );
    assert_eq!(csrf_cookie.attr("path"), Some("/"), "{}", csrf_cookie.raw);
    assert!(!csrf_cookie.has("Secure"), "{}", csrf_cookie.raw);
    // Only the refresh token goes in a cookie.
    assert!(
        res.cookies()
            .iter()
            .all(|c| c.name == "refresh_token_cookie" || c.name == "csrf_refresh_token"),
        "{:?}",
        res.cookies()
    );
    let t = Tokens::from_resp(&res);
    let access = claims(&t.access);
    assert_eq!(access["sub"], "user1");
    assert_eq!(access["type"], "access");
    let refresh = claims(&t.refresh);
    assert_eq!(refresh["sub"], "user1");
    assert_eq!(refresh["type"], "refresh");
    assert_eq!(
        refresh["csrf"],
        t.csrf.as_str(),
        "CSRF cookie matches the token"
    );

    // 4. Protected route with the access token in the header.
    let res = s.protected(&t.access).await;
    res.expect(200);
    assert_eq!(
        res.text(),
        r#"{"message":"Access granted","username":"user1","email":"user1@example.com","token_location":"headers"}"#
    );

    // POST without any CSRF token: headers need none.
    let res = s.post_auth("/protected-action", &t.access).await;
    res.expect(200);
    assert_eq!(
        res.json(),
        json!({"message": "Action performed successfully", "username": "user1"})
    );

    // 5. Refresh with the cookie and the CSRF header: new access token and
    // rotated cookies.
    let res = s.refresh_with(&t).await;
    let t2 = Tokens::from_resp(&res);
    assert_ne!(t2.access, t.access);
    assert_ne!(t2.refresh, t.refresh, "refresh token rotated");
    assert_ne!(t2.csrf, t.csrf, "CSRF token rotated");
    assert_ne!(jti(&t2.refresh), jti(&t.refresh));
    assert_eq!(
        claims(&t2.refresh)["sid"],
        claims(&t.refresh)["sid"],
        "same session"
    );
    let c = res.cookie("refresh_token_cookie");
    assert!(
        c.has("HttpOnly") && c.attr("path") == Some("/"),
        "{}",
        c.raw
    );
    let res = s.protected(&t2.access).await;
    res.expect(200);
    assert_eq!(res.json()["username"], "user1");
    assert_eq!(res.json()["email"], "user1@example.com");
    // The new refresh token works in turn.
    let t3 = s.refresh(&t2).await;

    // 6. Logout clears both cookies.
    let res = s.logout(&t3, false).await;
    res.expect(200);
    assert_eq!(res.json(), json!({"message": "Successfully logged out"}));
    let cleared = res.cookie("refresh_token_cookie");
    assert!(cleared.clears(), "{}", cleared.raw);
    assert_eq!(cleared.attr("path"), Some("/"), "{}", cleared.raw);
    let cleared = res.cookie("csrf_refresh_token");
    assert!(cleared.clears(), "{}", cleared.raw);

    // Logging out with no cookie at all still answers 200 (the seed's).
    let res = s.post("/logout").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"message": "Successfully logged out"}));
    assert!(res.cookie("refresh_token_cookie").clears());
}

#[tokio::test]
async fn user2_gets_their_own_identity() {
    let (_dir, s) = start();
    let t = s.login("user2", "password2").await;
    let res = s.protected(&t.access).await;
    res.expect(200);
    assert_eq!(
        res.json(),
        json!({"message": "Access granted", "username": "user2", "email": "user2@example.com", "token_location": "headers"})
    );
}

#[tokio::test]
async fn login_failures_are_401_with_one_message() {
    let (_dir, s) = start();
    let wrong = s.login_raw("user1", "password2").await;
    let unknown = s.login_raw("nobody", "password1").await;
    let empty = s.login_raw("", "").await;
    let case = s.login_raw("USER1", "password1").await;
    for res in [&wrong, &unknown, &empty, &case] {
        assert_eq!(res.detail(401), BAD_LOGIN);
        assert!(res.cookies().is_empty(), "no cookies on failure");
        assert_eq!(res.header("cache-control"), Some("no-store"));
    }
    assert_eq!(wrong.body, unknown.body, "no user enumeration");
}

#[tokio::test]
async fn login_bodies_that_do_not_validate_are_422() {
    let (_dir, s) = start();
    let url = s.url("/login");
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "text/plain body",
            s.client
                .post(&url)
                .header("content-type", "text/plain")
                .body(r#"{"username":"user1","password":"password1"}"#),
        ),
        (
            "no content type",
            s.client
                .post(&url)
                .body(r#"{"username":"user1","password":"password1"}"#),
        ),
        (
            "form body",
            s.client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("username=user1&password=password1"),
        ),
        (
            "empty body",
            s.client
                .post(&url)
                .header("content-type", "application/json"),
        ),
        (
            "broken JSON",
            s.client
                .post(&url)
                .header("content-type", "application/json")
                .body(r#"{"username":"user1","#),
        ),
        (
            "missing password",
            s.client.post(&url).json(&json!({"username": "user1"})),
        ),
        (
            "missing username",
            s.client.post(&url).json(&json!({"password": "password1"})),
        ),
        ("empty object", s.client.post(&url).json(&json!({}))),
        ("null", s.client.post(&url).json(&Value::Null)),
        (
            "number username",
            s.client
                .post(&url)
                .json(&json!({"username": 1, "password": "password1"})),
        ),
        (
            "null password",
            s.client
                .post(&url)
                .json(&json!({"username": "user1", "password": null})),
        ),
    ];
    for (what, req) in cases {
        let res = s.send(req).await;
        assert_eq!(res.status.as_u16(), 422, "{what}: {}", res.text());
        let body = res.json();
        let detail = body["detail"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: FastAPI's list of errors: {body}"));
        assert!(!detail.is_empty(), "{what}");
        assert!(detail[0]["msg"].is_string(), "{what}: {body}");
        assert_eq!(detail[0]["loc"][0], "body", "{what}: {body}");
        assert!(res.cookies().is_empty(), "{what}");
    }
    // Extra members are ignored, like pydantic's default.
    let res = s
        .login_body(&json!({"username": "user1", "password": "password1", "remember": true}))
        .await;
    res.expect(200);
    // The charset parameter is fine.
    let res = s
        .send(
            s.client
                .post(&url)
                .header("content-type", "application/json; charset=utf-8")
                .body(r#"{"username":"user1","password":"password1"}"#),
        )
        .await;
    res.expect(200);
}

/// FastAPI validates the body against the pydantic model `LoginRequest`:
/// a JSON array is not an object, so the seed answers 422 and logs no one
/// in.
#[tokio::test]
async fn a_json_array_login_body_is_422_like_the_seed() {
    let (_dir, s) = start();
    let res = s.login_body(&json!(["user1", "password1"])).await;
    assert_eq!(
        res.status.as_u16(),
        422,
        "a JSON array must not log anyone in: {}",
        res.text()
    );
    assert!(res.json()["detail"].is_array(), "{}", res.text());
    assert!(res.cookies().is_empty());
}

#[tokio::test]
async fn protected_refuses_everything_but_a_header_access_token() {
    let (_dir, s) = start();
    let t = s.login("user1", "password1").await;
    for path in ["/protected", "/protected-action"] {
        let get = path == "/protected";
        let base = || {
            if get {
                s.client.get(s.url(path))
            } else {
                s.client.post(s.url(path))
            }
        };
        let cases: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
            (
                "no token",
                base(),
                "Missing 'Bearer' in 'Authorization' header.",
            ),
            (
                "refresh token",
                base().bearer_auth(&t.refresh),
                "'access' token required, 'refresh' token received",
            ),
            (
                "tampered",
                base().bearer_auth(tamper(&t.access)),
                "Signature verification failed",
            ),
            (
                "garbage bearer",
                base().bearer_auth("garbage"),
                "Invalid token: Not enough segments",
            ),
            ("garbage JWT", base().bearer_auth("a.b.c"), ""),
            (
                "empty bearer",
                base().header("authorization", "Bearer "),
                "Invalid token: Not enough segments",
            ),
            (
                "basic scheme",
                base().header("authorization", "Basic dXNlcjE6cGFzc3dvcmQx"),
                // The seed decodes "Basic ..." as a token ("Not enough
                // segments"); another scheme is no bearer token here.
                "Missing 'Bearer' in 'Authorization' header.",
            ),
            (
                "no scheme",
                base().header("authorization", t.access.as_str()),
                "",
            ),
            (
                "token only in an access cookie",
                base().header("cookie", format!("access_token_cookie={}", t.access)),
                "Missing 'Bearer' in 'Authorization' header.",
            ),
            (
                "token only in the refresh cookie",
                base().header(
                    "cookie",
                    format!(
                        "refresh_token_cookie={}; csrf_refresh_token={}",
                        t.refresh, t.csrf
                    ),
                ),
                "Missing 'Bearer' in 'Authorization' header.",
            ),
            (
                "token in the query string",
                if get {
                    s.client.get(s.url(&format!("{path}?token={}", t.access)))
                } else {
                    s.client.post(s.url(&format!("{path}?token={}", t.access)))
                },
                "Missing 'Bearer' in 'Authorization' header.",
            ),
            (
                "two Authorization headers",
                base()
                    .header("authorization", format!("Bearer {}", t.access))
                    .header("authorization", format!("Bearer {}", t.access)),
                "",
            ),
            (
                "alg none",
                {
                    let payload = t.access.split('.').nth(1).expect("payload");
                    // {"alg":"none","typ":"JWT"}
                    base().bearer_auth(format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}."))
                },
                "",
            ),
        ];
        for (what, req, message) in cases {
            let res = s.send(req).await;
            let detail = res.detail(401);
            if !message.is_empty() {
                assert_eq!(detail, message, "{path} {what}");
            }
            assert!(
                res.header("www-authenticate")
                    .is_some_and(|w| w.starts_with("Bearer")),
                "{path} {what}: RFC 6750 challenge, got {:?}",
                res.header("www-authenticate")
            );
        }
    }
    // The scheme is case-insensitive (RFC 6750) and the header works.
    let res = s
        .send(
            s.client
                .get(s.url("/protected"))
                .header("authorization", format!("bearer {}", t.access)),
        )
        .await;
    res.expect(200);
}

#[tokio::test]
async fn refresh_failure_paths() {
    let (_dir, s) = start();
    let t = s.login("user1", "password1").await;
    let url = s.url("/refresh");
    let access_csrf = claims(&t.access)["csrf"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_default();
    let cases: Vec<(&str, reqwest::RequestBuilder, &str)> = vec![
        (
            "no cookie",
            s.client.post(&url),
            "Missing cookie 'refresh_token_cookie'.",
        ),
        (
            "no cookie, CSRF header only",
            s.client.post(&url).header("x-csrf-token", &t.csrf),
            "Missing cookie 'refresh_token_cookie'.",
        ),
        (
            "no CSRF header",
            s.client.post(&url).header(
                "cookie",
                format!(
                    "refresh_token_cookie={}; csrf_refresh_token={}",
                    t.refresh, t.csrf
                ),
            ),
            MISSING_CSRF,
        ),
        (
            "wrong CSRF header",
            s.client
                .post(&url)
                .header(
                    "cookie",
                    format!(
                        "refresh_token_cookie={}; csrf_refresh_token={}",
                        t.refresh, t.csrf
                    ),
                )
                .header("x-csrf-token", "not-the-csrf-token"),
            "CSRF token mismatch",
        ),
        (
            "empty CSRF header",
            s.client
                .post(&url)
                .header("cookie", format!("refresh_token_cookie={}", t.refresh))
                .header("x-csrf-token", ""),
            "",
        ),
        (
            "access token in the cookie",
            s.client
                .post(&url)
                .header(
                    "cookie",
                    format!(
                        "refresh_token_cookie={}; csrf_refresh_token={access_csrf}",
                        t.access
                    ),
                )
                .header("x-csrf-token", &access_csrf),
            "'refresh' token required, 'access' token received",
        ),
        (
            "refresh token in the Authorization header",
            s.client.post(&url).bearer_auth(&t.refresh),
            "Missing cookie 'refresh_token_cookie'.",
        ),
        (
            "tampered cookie",
            s.client
                .post(&url)
                .header(
                    "cookie",
                    format!("refresh_token_cookie={}", tamper(&t.refresh)),
                )
                .header("x-csrf-token", &t.csrf),
            "",
        ),
        (
            "garbage cookie",
            s.client
                .post(&url)
                .header("cookie", "refresh_token_cookie=garbage")
                .header("x-csrf-token", &t.csrf),
            "",
        ),
        (
            "two refresh cookies",
            s.client
                .post(&url)
                .header(
                    "cookie",
                    format!(
                        "refresh_token_cookie={}; refresh_token_cookie={}",
                        t.refresh, t.refresh
                    ),
                )
                .header("x-csrf-token", &t.csrf),
            "",
        ),
        (
            "JSON body token",
            s.client
                .post(&url)
                .json(&json!({"refresh_token": t.refresh}))
                .header("x-csrf-token", &t.csrf),
            "Missing cookie 'refresh_token_cookie'.",
        ),
    ];
    for (what, req, message) in cases {
        let res = s.send(req).await;
        let detail = res.detail(401);
        if !message.is_empty() {
            assert_eq!(detail, message, "{what}");
        }
        assert!(
            res.cookies()
                .iter()
                .all(|c| c.name != "refresh_token_cookie" || c.clears()),
            "{what}: no new refresh cookie on failure"
        );
    }
    // None of the failures spent the token.
    s.refresh(&t).await;
}

#[tokio::test]
async fn a_refresh_token_replayed_after_the_grace_window_revokes_the_session() {
    let (_dir, s) = start_with(&["--refresh-grace-ms", "0"]);
    let t0 = s.login("user1", "password1").await;
    let t1 = s.refresh(&t0).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = s.refresh_with(&t0).await;
    assert_eq!(
        res.detail(401),
        "Refresh token reuse detected; session revoked"
    );
    // The thief's token and the victim's newest one are both dead now.
    let res = s.refresh_with(&t1).await;
    res.detail(401);
    let res = s.refresh_with(&t0).await;
    res.detail(401);
    // Metrics saw it.
    let m = s.get("/metrics").await.text();
    assert!(
        m.lines()
            .any(|l| l.starts_with("authx_refresh_reuse_detections_total") && l.ends_with(" 1")),
        "{m}"
    );
    // Another session of the same user is untouched.
    let other = s.login("user1", "password1").await;
    s.refresh(&other).await;
}

#[tokio::test]
async fn a_grandparent_token_is_reuse_even_within_the_grace_window() {
    let (_dir, s) = start();
    let t0 = s.login("user1", "password1").await;
    let t1 = s.refresh(&t0).await;
    let t2 = s.refresh(&t1).await;
    let res = s.refresh_with(&t0).await;
    assert_eq!(
        res.detail(401),
        "Refresh token reuse detected; session revoked"
    );
    s.refresh_with(&t2).await.detail(401);
}

#[tokio::test]
async fn a_replay_within_the_grace_window_gets_the_successor() {
    let (_dir, s) = start_with(&["--refresh-grace-ms", "30000"]);
    let t0 = s.login("user1", "password1").await;
    let t1 = s.refresh(&t0).await;
    // The other tab still holds t0.
    let again = s.refresh(&t0).await;
    assert_eq!(jti(&again.refresh), jti(&t1.refresh), "same successor");
    s.protected(&again.access).await.expect(200);
    // The session goes on with the successor.
    let t2 = s.refresh(&t1).await;
    s.protected(&t2.access).await.expect(200);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_converge() {
    let (_dir, s) = start();
    let t0 = s.login("user1", "password1").await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = s.client.clone();
        let url = s.url("/refresh");
        let t0 = t0.clone();
        tasks.push(tokio::spawn(async move {
            let res = support::refresh_request(&client, url, &t0.refresh, &t0.csrf)
                .send()
                .await
                .expect("request");
            support::Resp::from(res).await
        }));
    }
    let mut jtis = Vec::new();
    for task in tasks {
        let res = task.await.expect("task");
        jtis.push(jti(&Tokens::from_resp(&res).refresh));
    }
    jtis.dedup();
    assert_eq!(jtis.len(), 1, "one successor for all: {jtis:?}");
    let m = s.get("/metrics").await.text();
    assert!(
        !m.lines()
            .any(|l| l.starts_with("authx_refresh_reuse_detections_total") && !l.ends_with(" 0")),
        "{m}"
    );
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let (_dir, s) = start();
    let t = s.login("user1", "password1").await;
    let t1 = s.refresh(&t).await;
    s.logout(&t1, false).await.expect(200);
    let res = s.refresh_with(&t1).await;
    assert_eq!(res.detail(401), "Invalid token");
    // Even within the grace window the previous token does not come back.
    s.refresh_with(&t).await.detail(401);
    // The seed's default: the access token lives until it expires.
    s.protected(&t1.access).await.expect(200);
    // Logging out twice is fine.
    s.logout(&t1, true).await.expect(200);
    // A logout with a tampered or garbage cookie still clears the cookies.
    let res = s
        .send(
            s.client
                .post(s.url("/logout"))
                .header("cookie", "refresh_token_cookie=garbage")
                .bearer_auth("garbage"),
        )
        .await;
    res.expect(200);
    assert!(res.cookie("refresh_token_cookie").clears());
}

/// The refresh cookie ends its session only with its CSRF header: a
/// same-site page can make the browser POST the cookie, not read it. The
/// cookies are cleared either way, as in the seed.
#[tokio::test]
async fn logout_by_cookie_needs_the_csrf_header_to_end_the_session() {
    let (_dir, s) = start();
    let t = s.login("user1", "password1").await;
    let cookie = format!(
        "refresh_token_cookie={}; csrf_refresh_token={}",
        t.refresh, t.csrf
    );
    for csrf in [None, Some("wrong"), Some("")] {
        let mut req = s.client.post(s.url("/logout")).header("cookie", &cookie);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        let res = s.send(req).await;
        res.expect(200);
        assert!(res.cookie("refresh_token_cookie").clears(), "{csrf:?}");
        assert_eq!(s.sessions(&t.access).await.len(), 1, "{csrf:?}: not ended");
    }
    // Each refusal is counted and logged.
    let m = s.get("/metrics").await.text();
    for line in [
        // No header, and an empty one.
        r#"authx_auth_failures_total{reason="MissingCSRFTokenError"} 2"#,
        r#"authx_auth_failures_total{reason="CSRFError"} 1"#,
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
    }
    log_line(&s, "event=\"logout_not_revoked\"").await;
    let t1 = s.refresh(&t).await;
    s.logout(&t1, false).await.expect(200);
    assert_eq!(s.sessions(&t1.access).await.len(), 0);
    s.refresh_with(&t1).await.detail(401);
}

#[tokio::test]
async fn logout_with_only_the_access_token_ends_its_session() {
    let (_dir, s) = start();
    let t = s.login("user1", "password1").await;
    let res = s.post_auth("/logout", &t.access).await;
    res.expect(200);
    s.refresh_with(&t).await.detail(401);
}

#[tokio::test]
async fn sessions_list_end_and_logout_all() {
    let (_dir, s) = start();
    let a = s
        .send(
            s.client
                .post(s.url("/login"))
                .header("user-agent", "browser-a/1.0")
                .json(&json!({"username": "user1", "password": "password1"})),
        )
        .await;
    let a = Tokens::from_resp(&a);
    let long_agent = "x".repeat(1000);
    let b = s
        .send(
            s.client
                .post(s.url("/login"))
                .header("user-agent", &long_agent)
                .json(&json!({"username": "user1", "password": "password1"})),
        )
        .await;
    let b = Tokens::from_resp(&b);
    let other = s.login("user2", "password2").await;

    let list = s.sessions(&a.access).await;
    assert_eq!(list.len(), 2, "{list:?}");
    let sid_a = claims(&a.access)["sid"].as_str().expect("sid").to_owned();
    let sid_b = claims(&b.access)["sid"].as_str().expect("sid").to_owned();
    let sid_other = claims(&other.access)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    let current: Vec<&Value> = list.iter().filter(|e| e["current"] == true).collect();
    assert_eq!(current.len(), 1, "{list:?}");
    assert_eq!(current[0]["id"], sid_a.as_str());
    let entry_a = list.iter().find(|e| e["id"] == sid_a.as_str()).expect("a");
    assert_eq!(entry_a["user_agent"], "browser-a/1.0");
    assert_eq!(entry_a["ip"], "127.0.0.1");
    assert!(entry_a["created_ms"].as_i64().is_some_and(|t| t > 0));
    assert!(entry_a["expires_ms"].as_i64() > entry_a["created_ms"].as_i64());
    let entry_b = list.iter().find(|e| e["id"] == sid_b.as_str()).expect("b");
    let agent = entry_b["user_agent"].as_str().expect("user agent");
    assert!(
        agent.len() <= 256,
        "user agent kept bounded: {}",
        agent.len()
    );
    // From b's point of view, b is current.
    let list = s.sessions(&b.access).await;
    let current: Vec<&Value> = list.iter().filter(|e| e["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], sid_b.as_str());
    // A refresh token is not an access token here either.
    s.get_auth("/sessions", &b.refresh).await.detail(401);
    s.get("/sessions").await.detail(401);

    // user2 cannot end user1's session, nor can anyone end an unknown one.
    let res = s
        .delete_auth(&format!("/sessions/{sid_a}"), &other.access)
        .await;
    assert_eq!(res.detail(404), "Session not found");
    s.delete_auth("/sessions/no-such-session", &a.access)
        .await
        .detail(404);
    s.send(s.client.delete(s.url(&format!("/sessions/{sid_b}"))))
        .await
        .detail(401);
    s.refresh(&a).await;

    // a ends b.
    let res = s
        .delete_auth(&format!("/sessions/{sid_b}"), &a.access)
        .await;
    res.expect(204);
    assert!(res.body.is_empty());
    s.refresh_with(&b).await.detail(401);
    let list = s.sessions(&a.access).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], sid_a.as_str());
    // Ending it again: gone.
    s.delete_auth(&format!("/sessions/{sid_b}"), &a.access)
        .await
        .detail(404);

    // Log out everywhere: a second session first.
    let c = s.login("user1", "password1").await;
    let a2 = s.refresh_with(&a).await;
    // a was rotated by the earlier refresh: within grace it still converges.
    let a2 = Tokens::from_resp(&a2);
    let res = s.post_auth("/logout-all", &c.access).await;
    res.expect(200);
    let body = res.json();
    assert_eq!(body["sessions_ended"], 2, "{body}");
    assert!(res.cookie("refresh_token_cookie").clears());
    s.refresh_with(&a2).await.detail(401);
    s.refresh_with(&c).await.detail(401);
    s.refresh_with(&a).await.detail(401);
    assert!(s.sessions(&c.access).await.is_empty());
    // user2 is untouched.
    s.refresh(&other).await;
    assert_eq!(s.sessions(&other.access).await.len(), 1);
    assert!(!sid_other.is_empty());
    // A new login right after works.
    let d = s.login("user1", "password1").await;
    s.refresh(&d).await;
    s.post("/logout-all").await.detail(401);
}

#[tokio::test]
async fn revoked_access_tokens_stop_working_when_asked() {
    // The default verified-token cache is on: every access token below is
    // used once (and so cached) before it is revoked.
    revoked_access_tokens_stop_working(&["--revoke-access-tokens", "true"]).await;
}

#[tokio::test]
async fn revoked_access_tokens_stop_working_without_the_verified_token_cache() {
    revoked_access_tokens_stop_working(&[
        "--revoke-access-tokens",
        "true",
        "--verified-token-cache",
        "0",
    ])
    .await;
}

async fn revoked_access_tokens_stop_working(args: &[&str]) {
    let (_dir, s) = start_with(args);
    // Logout with both tokens.
    let t = s.login("user1", "password1").await;
    s.protected(&t.access).await.expect(200);
    s.logout(&t, true).await.expect(200);
    assert_eq!(s.protected(&t.access).await.detail(401), "Invalid token");
    s.post_auth("/protected-action", &t.access)
        .await
        .detail(401);

    // Logout with only the refresh cookie ends the session: its access
    // tokens go too.
    let t = s.login("user1", "password1").await;
    s.protected(&t.access).await.expect(200);
    s.logout(&t, false).await.expect(200);
    s.protected(&t.access).await.detail(401);

    // Refreshed access tokens of an ended session, too.
    let t = s.login("user1", "password1").await;
    let t1 = s.refresh(&t).await;
    s.protected(&t.access).await.expect(200);
    s.protected(&t1.access).await.expect(200);
    let sid = claims(&t.access)["sid"].as_str().expect("sid").to_owned();
    let other = s.login("user1", "password1").await;
    s.delete_auth(&format!("/sessions/{sid}"), &other.access)
        .await
        .expect(204);
    s.protected(&t.access).await.detail(401);
    s.protected(&t1.access).await.detail(401);
    s.protected(&other.access).await.expect(200);

    // Log out everywhere cuts every access token; a new login works at once.
    let x = s.login("user1", "password1").await;
    s.protected(&x.access).await.expect(200);
    s.post_auth("/logout-all", &x.access).await.expect(200);
    s.protected(&x.access).await.detail(401);
    s.protected(&other.access).await.detail(401);
    let y = s.login("user1", "password1").await;
    s.protected(&y.access).await.expect(200);
    let y1 = s.refresh(&y).await;
    s.protected(&y1.access).await.expect(200);
    // user2 is untouched.
    let u2 = s.login("user2", "password2").await;
    s.protected(&u2.access).await.expect(200);
}

/// Every refused credential is counted under its AuthX error type, on
/// each endpoint that takes one.
#[tokio::test]
async fn refused_credentials_are_counted_by_reason() {
    let (_dir, s) = start_with(&["--refresh-grace-ms", "0"]);
    let t = s.login("user1", "password1").await;
    // No token on each endpoint that takes one.
    s.get("/protected").await.detail(401);
    s.post("/protected-action").await.detail(401);
    s.get("/sessions").await.detail(401);
    s.send(s.client.delete(s.url("/sessions/x")))
        .await
        .detail(401);
    s.post("/logout-all").await.detail(401);
    s.post("/refresh").await.detail(401);
    s.get_auth("/protected", &tamper(&t.access))
        .await
        .detail(401);
    s.get_auth("/sessions", &t.refresh).await.detail(401);
    s.refresh_raw(&t.refresh, "wrong").await.detail(401);
    let next = s.refresh(&t).await;
    s.refresh_with(&t).await.detail(401);
    s.refresh_with(&next).await.detail(401);
    let m = s.get("/metrics").await.text();
    for (reason, n) in [
        ("MissingTokenError", 6),
        ("TokenInvalidSignatureError", 1),
        ("AccessTokenRequiredError", 1),
        ("CSRFError", 1),
        ("TokenReuseError", 1),
        ("RevokedTokenError", 1),
    ] {
        let line = format!(r#"authx_auth_failures_total{{reason="{reason}"}} {n}"#);
        assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
    }
}

#[tokio::test]
async fn operations_endpoints() {
    let (_dir, s) = start();
    let res = s.get("/healthz").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"status": "ok"}));
    let res = s.get("/readyz").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"status": "ready"}));

    s.login("user1", "password1").await;
    s.login_raw("user1", "nope").await.detail(401);
    let res = s.get("/metrics").await;
    res.expect(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        res.header("content-type")
    );
    let m = res.text();
    assert!(m.contains("authx_logins_total"), "{m}");
    assert!(
        m.contains(r#"authx_logins_total{result="success"} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"authx_logins_total{result="failure"} 1"#),
        "{m}"
    );
    assert!(m.contains("authx_request_duration_seconds"), "{m}");
    assert!(
        m.contains(r#"route="/login""#),
        "latency by route template: {m}"
    );
    // Ids never become label values.
    let t = s.login("user1", "password1").await;
    s.delete_auth("/sessions/some-unknown-id", &t.access)
        .await
        .detail(404);
    // Nor do made-up methods: they are all "other".
    for method in ["FOO", "BARBAZ"] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let res = s.send(s.client.request(m, s.url("/login"))).await;
        res.expect(405);
    }
    let m = s.get("/metrics").await.text();
    assert!(!m.contains("some-unknown-id"), "{m}");
    assert!(!m.contains("FOO") && !m.contains("BARBAZ"), "{m}");
    assert!(m.contains(r#"method="other""#), "{m}");
    assert!(m.contains(r#"route="/sessions/{id}""#), "{m}");

    let res = s.get("/openapi.json").await;
    res.expect(200);
    let doc = res.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{doc}"
    );
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/",
        "/login",
        "/refresh",
        "/protected",
        "/protected-action",
        "/logout",
        "/logout-all",
        "/sessions",
        "/sessions/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/jwks.json",
    ] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(paths["/login"].get("post").is_some());
    assert!(paths["/protected"].get("get").is_some());
    assert!(paths["/sessions/{id}"].get("delete").is_some());

    let res = s.get("/docs").await;
    res.expect(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        res.header("content-type")
    );
    let csp = res
        .header("content-security-policy")
        .expect("CSP on /docs")
        .to_owned();
    assert!(csp.contains("default-src"), "{csp}");
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    let html = res.text();
    assert!(html.to_lowercase().contains("<html"), "{html}");
    // The page's script is served from the same origin.
    let res = s.get("/docs/docs.js").await;
    res.expect(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.contains("javascript"))
    );

    let res = s.get("/.well-known/jwks.json").await;
    res.expect(200);
    assert_eq!(res.json(), json!({"keys": []}));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_4xx() {
    let (_dir, s) = start();
    let res = s.get("/no-such-path").await;
    assert_eq!(res.detail(404), "Not Found");
    for (method, path) in [
        (reqwest::Method::GET, "/login"),
        (reqwest::Method::GET, "/refresh"),
        (reqwest::Method::POST, "/protected"),
        (reqwest::Method::GET, "/logout"),
        (reqwest::Method::PUT, "/"),
    ] {
        let res = s.send(s.client.request(method.clone(), s.url(path))).await;
        assert_eq!(res.status.as_u16(), 405, "{method} {path}: {}", res.text());
    }
}

/// FastAPI answers a wrong method with 405 and its usual error shape
/// `{"detail": "Method Not Allowed"}`, like the 404 here does.
#[tokio::test]
async fn a_wrong_method_gets_the_seed_error_shape() {
    let (_dir, s) = start();
    let res = s.get("/login").await;
    assert_eq!(res.status.as_u16(), 405);
    assert_eq!(res.header("allow"), Some("POST"));
    assert_eq!(
        res.text(),
        r#"{"detail":"Method Not Allowed"}"#,
        "405 body like FastAPI's (and like this server's 404)"
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let (_dir, s) = start_with(&["--access-ttl", "1", "--refresh-ttl", "3"]);
    let t = s.login("user1", "password1").await;
    // `exp` is whole seconds: the access token ends within 1 s of login and
    // the refresh token between 2 and 3 s after it, so at 1.1 s the first
    // has expired and the second has not, whatever the login's fraction of
    // a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        s.protected(&t.access).await.detail(401),
        "Token has expired"
    );
    // The refresh token still lives: a new access token.
    let t1 = s.refresh(&t).await;
    s.protected(&t1.access).await.expect(200);
    // The session's absolute expiry is not extended by rotation.
    let exp = claims(&t1.refresh)["exp"].as_f64().expect("exp");
    assert!(exp <= claims(&t.refresh)["exp"].as_f64().expect("exp"));
    tokio::time::sleep(Duration::from_millis(3100)).await;
    // t1's access token was served (and kept by the verified-token cache)
    // above; its expiry is still checked.
    assert_eq!(
        s.protected(&t1.access).await.detail(401),
        "Token has expired"
    );
    let res = s.refresh_with(&t1).await;
    res.detail(401);
    assert!(
        res.cookies()
            .iter()
            .all(|c| c.clears() || c.name != "refresh_token_cookie")
    );
}

/// Tokens signed with the server's secret but not valid yet get the
/// seed's (PyJWT's) messages.
#[tokio::test]
async fn tokens_from_the_future_are_refused_with_the_seeds_messages() {
    let (_dir, s) = start();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let later = authx::clock::ManualClock::at_secs(i64::try_from(now).expect("secs") + 600);
    for (encode_nbf, message) in [
        (true, "Invalid token: The token is not yet valid (nbf)"),
        (false, "Invalid token: The token is not yet valid (iat)"),
    ] {
        let minter = authx::AuthX::builder(authx::AuthXConfig {
            secret_key: Some(support::SECRET.into()),
            encode_nbf,
            ..Default::default()
        })
        .clock(std::sync::Arc::new(later.clone()))
        .build()
        .expect("minter");
        let token = minter.create_access_token("user1").expect("token");
        assert_eq!(s.protected(&token).await.detail(401), message);
    }
}

#[tokio::test]
async fn tokens_carry_the_session_and_expected_claims() {
    let (_dir, s) = start();
    let t = s.login("user1", "password1").await;
    let h = jwt_header(&t.access);
    assert_eq!(h["alg"], "HS256");
    let a = claims(&t.access);
    let r = claims(&t.refresh);
    assert_eq!(a["fresh"], true, "login issues a fresh token");
    assert_eq!(a["sid"], r["sid"]);
    assert_eq!(a["email"], "user1@example.com");
    let ttl = a["exp"].as_f64().expect("exp") - a["iat"].as_f64().expect("iat");
    assert!((ttl - 900.0).abs() < 2.0, "15-minute access tokens: {ttl}");
    let rttl = r["exp"].as_f64().expect("exp") - r["iat"].as_f64().expect("iat");
    assert!(
        (rttl - 14.0 * 24.0 * 3600.0).abs() < 5.0,
        "14-day refresh tokens: {rttl}"
    );
    // Refreshed access tokens are not fresh but keep the email.
    let t1 = s.refresh(&t).await;
    let a1 = claims(&t1.access);
    assert_eq!(a1["fresh"], false);
    assert_eq!(a1["email"], "user1@example.com");
    // The session's absolute expiry does not move with rotation.
    let r1 = claims(&t1.refresh);
    assert!(r1["exp"].as_f64() <= r["exp"].as_f64(), "{r} {r1}");
}

/// Waits until the server's log holds `needle` (lines are written in
/// batches, at most `--log-flush-ms` late), or panics after 5 s.
async fn log_line(s: &Server, needle: &str) -> String {
    for _ in 0..100 {
        if let Some(line) = s.stderr().lines().find(|l| l.contains(needle)) {
            return line.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no log line with {needle:?} in:\n{}", s.stderr());
}

#[tokio::test]
async fn security_events_are_logged_without_tokens() {
    let (_dir, s) = start_with(&["--refresh-grace-ms", "0"]);
    s.login_raw("user1", "wrong-password").await.detail(401);
    let t0 = s.login("user1", "password1").await;
    let t1 = s.refresh(&t0).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    s.refresh_with(&t0).await.detail(401);
    let t2 = s.login("user2", "password2").await;
    s.logout(&t2, true).await.expect(200);

    assert!(
        log_line(&s, "event=\"login_failure\"")
            .await
            .contains("INFO")
    );
    assert!(
        log_line(&s, "event=\"login_success\"")
            .await
            .contains("user=user1")
    );
    assert!(
        log_line(&s, "event=\"refresh\"")
            .await
            .contains("user=user1")
    );
    let reuse = log_line(&s, "event=\"refresh_reuse_detected\"").await;
    assert!(reuse.contains("WARN"), "{reuse}");
    assert!(
        reuse.contains("user=\"user1\"") || reuse.contains("user=user1"),
        "{reuse}"
    );
    let session = claims(&t0.refresh)["sid"].as_str().map(str::to_owned);
    assert!(
        session.is_some_and(|sid| reuse.contains(&sid)),
        "the session in {reuse}"
    );
    assert!(reuse.contains("127.0.0.1"), "{reuse}");
    assert!(
        log_line(&s, "event=\"logout\"")
            .await
            .contains("user=user2")
    );
    let log = s.stderr();
    for token in [
        &t0.access,
        &t0.refresh,
        &t1.access,
        &t1.refresh,
        &t2.access,
        &t2.refresh,
    ] {
        let signature = token.rsplit('.').next().unwrap_or_default();
        assert!(!log.contains(signature), "a token in the log:\n{log}");
    }
    // (The demo users' start-up line names their documented passwords.)
    assert!(
        !log.contains("wrong-password"),
        "a password in the log:\n{log}"
    );
}

#[tokio::test]
async fn log_lines_are_written_within_the_flush_interval_or_at_once() {
    for flush_ms in ["100", "0"] {
        let (_dir, s) = start_with(&["--log-flush-ms", flush_ms]);
        s.login("user1", "password1").await;
        log_line(&s, "event=\"login_success\"").await;
    }
}
