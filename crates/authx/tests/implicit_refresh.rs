//! `ImplicitRefreshLayer`: an access token kept in a cookie is re-minted
//! on the way out when less than `implicit_refresh_deltatime` is left, with
//! the same subject, scopes and custom claims, not fresh, and a matching
//! CSRF cookie. Never for an expired or revoked token, a request that fails
//! its CSRF check, a 401/403 answer, a response that already sets the access
//! cookie, or a route or method the filters leave out. Time moves with a
//! `ManualClock`.

#![allow(clippy::unwrap_used)]

mod axum_support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authx::axum::{AccessToken, AuthCookies, ImplicitRefreshLayer};
use authx::clock::ManualClock;
use authx::{AuthX, AuthXConfig, TokenLocation, TokenOptions, TokenPayload};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use axum_support::{Req, Resp, claims, get as get_req, post as post_req, tamper_signature};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const SECRET: &str = "implicit-refresh-test-secret-0123456789abcd";
const NOW: i64 = 1_700_000_000;
/// The default `access_token_expires`.
const LIFETIME: i64 = 15 * 60;
/// The default `implicit_refresh_deltatime`.
const DELTA: i64 = 10 * 60;
/// Milliseconds after issue at which exactly `DELTA` is left.
const AT_DELTA_MS: i64 = (LIFETIME - DELTA) * 1000;

// ---------------------------------------------------------------------------
// the app
// ---------------------------------------------------------------------------

async fn ok() -> &'static str {
    "ok"
}

async fn me(token: AccessToken) -> Json<Value> {
    Json(json!({ "sub": token.sub }))
}

/// Logs in as bob: the handler sets the access cookie itself.
async fn login(State(auth): State<AuthX>) -> impl IntoResponse {
    let token = auth.create_access_token("bob").unwrap();
    (AuthCookies::new(&auth).set_access(&token).unwrap(), "in")
}

async fn logout(State(auth): State<AuthX>) -> impl IntoResponse {
    (AuthCookies::new(&auth).unset_access().unwrap(), "out")
}

/// Revokes the request's token server-side, leaving the cookie alone.
async fn revoke(Extension(revoked): Extension<Revoked>, token: AccessToken) -> &'static str {
    revoked.lock().unwrap().insert(token.jti.clone());
    "revoked"
}

type Revoked = Arc<Mutex<HashSet<String>>>;

fn routes(auth: AuthX, revoked: Revoked) -> Router {
    Router::new()
        .route("/public", get(ok).post(ok).put(ok))
        .route("/other", get(ok).post(ok))
        .route("/me", get(me).post(me))
        .route("/deny", get(|| async { StatusCode::UNAUTHORIZED }))
        .route("/forbid", get(|| async { StatusCode::FORBIDDEN }))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/revoke", post(revoke))
        .layer(Extension(revoked))
        .layer(ImplicitRefreshLayer::new(auth.clone()))
        .with_state(auth)
}

// ---------------------------------------------------------------------------
// fixture
// ---------------------------------------------------------------------------

fn config() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: vec![TokenLocation::Cookies],
        ..AuthXConfig::default()
    }
}

struct Fx {
    clock: ManualClock,
    auth: AuthX,
    app: Router,
    revoked: Revoked,
}

fn fixture_with(config: AuthXConfig) -> Fx {
    let clock = ManualClock::at_secs(NOW);
    let revoked = Arc::new(Mutex::new(HashSet::new()));
    let r = revoked.clone();
    let auth = AuthX::builder(config)
        .clock(Arc::new(clock.clone()))
        .revocation(move |p: &TokenPayload| r.lock().unwrap().contains(&p.jti))
        .build()
        .unwrap();
    Fx {
        clock,
        app: routes(auth.clone(), revoked.clone()),
        auth,
        revoked,
    }
}

fn fixture() -> Fx {
    fixture_with(config())
}

/// An access cookie as the browser holds it.
struct Session {
    token: String,
    csrf: String,
}

impl Session {
    /// The request with the access and CSRF cookies (no CSRF header).
    fn on(&self, req: Req) -> Req {
        req.cookies(&[
            ("access_token_cookie", &self.token),
            ("csrf_access_token", &self.csrf),
        ])
    }

    /// The request with the cookies and the CSRF header.
    fn with_csrf(&self, req: Req) -> Req {
        self.on(req).csrf(&self.csrf)
    }
}

impl Fx {
    fn session_with(&self, opts: &TokenOptions) -> Session {
        let token = self.auth.create_access_token_with("alice", opts).unwrap();
        let csrf = claims(&token)["csrf"].as_str().unwrap().to_owned();
        Session { token, csrf }
    }

    fn session(&self) -> Session {
        self.session_with(&TokenOptions::new())
    }

    /// Moves the clock to `ms` after `NOW`.
    fn at(&self, ms: i64) {
        self.clock.set_millis(NOW * 1000 + ms);
    }

    /// Into the refresh window: just under `DELTA` left.
    fn near_expiry(&self) {
        self.at(AT_DELTA_MS + 1);
    }
}

/// The new access token, if the response refreshed it; checks that it
/// comes with its CSRF cookie.
#[track_caller]
fn refreshed(r: &Resp) -> Option<String> {
    let token = r.set_cookie("access_token_cookie")?;
    let csrf = r
        .set_cookie("csrf_access_token")
        .expect("the CSRF cookie is reset with the access cookie");
    assert_eq!(
        csrf.value(),
        claims(token.value())["csrf"].as_str().unwrap(),
        "the CSRF cookie carries the new token's claim"
    );
    Some(token.value().to_owned())
}

#[track_caller]
fn assert_not_refreshed(r: &Resp, what: &str) {
    assert!(
        r.set_cookie_headers().is_empty(),
        "{what}: unexpected Set-Cookie {:?}",
        r.set_cookie_headers()
    );
}

#[track_caller]
fn assert_refreshed(r: &Resp, what: &str) -> String {
    refreshed(r).unwrap_or_else(|| panic!("{what}: not refreshed ({} {})", r.status, r.text()))
}

// ---------------------------------------------------------------------------
// when
// ---------------------------------------------------------------------------

#[tokio::test]
async fn no_refresh_while_more_than_delta_is_left() {
    let fx = fixture();
    let s = fx.session();
    for ms in [0, 60_000, AT_DELTA_MS - 1, AT_DELTA_MS] {
        fx.at(ms);
        for path in ["/me", "/public"] {
            let r = s.on(get_req(path)).send(&fx.app).await;
            assert_eq!(r.status, 200, "{path} at +{ms} ms: {}", r.text());
            assert_not_refreshed(&r, &format!("{path} at +{ms} ms"));
        }
    }
}

#[tokio::test]
async fn refresh_when_less_than_delta_is_left() {
    let fx = fixture();
    let opts = TokenOptions::new()
        .fresh(true)
        .scopes(["users:*", "admin"])
        .data(&json!({ "tenant": "acme", "roles": ["ops"], "level": 3 }))
        .unwrap();
    let s = fx.session_with(&opts);
    let old = claims(&s.token);
    assert_eq!(old["fresh"], true);

    fx.near_expiry();
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "sub": "alice" }), "the old token served");
    let new = assert_refreshed(&r, "GET /me");

    let payload = fx.auth.decode_token(&new).unwrap();
    assert_eq!(payload.sub, "alice");
    assert!(!payload.fresh, "a refreshed token is never fresh");
    assert_eq!(
        payload.scopes,
        Some(vec!["users:*".to_owned(), "admin".to_owned()])
    );
    assert_eq!(
        Value::Object(payload.extra.clone()),
        json!({ "tenant": "acme", "roles": ["ops"], "level": 3 })
    );
    assert_ne!(payload.jti, old["jti"].as_str().unwrap());
    assert_ne!(payload.csrf.as_deref(), old["csrf"].as_str());
    let now = NOW + LIFETIME - DELTA;
    assert_eq!(payload.iat, now as f64);
    assert_eq!(payload.exp, (now + LIFETIME) as f64);

    // Cookie attributes as configured, for both cookies.
    for (name, http_only) in [
        ("access_token_cookie", Some(true)),
        ("csrf_access_token", None),
    ] {
        let c = r.set_cookie(name).unwrap();
        assert_eq!(c.http_only(), http_only, "{name}");
        assert_eq!(c.secure(), Some(true), "{name}");
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{name}");
        assert_eq!(c.path(), Some("/"), "{name}");
    }
    assert_eq!(r.set_cookies().len(), 2);

    // The new cookie works, and is not refreshed again right away.
    let s2 = Session {
        csrf: payload.csrf.clone().unwrap(),
        token: new,
    };
    let r = s2.with_csrf(post_req("/me")).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_not_refreshed(&r, "new token");

    // A route that does not authenticate refreshes too (AuthX's middleware
    // looks at the cookie, not at the handler).
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "GET /public");
}

/// H6: the refreshed response now carries a token in `Set-Cookie`, so it
/// must not be stored by a cache (`AuthCookies` does this for handlers).
#[tokio::test]
async fn refreshed_response_is_not_cacheable() {
    let fx = fixture();
    let s = fx.session();
    fx.near_expiry();
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "GET /public");
    assert_eq!(
        r.cache_control(),
        Some("no-store"),
        "a response carrying a new access token must be no-store (H6)"
    );
}

#[tokio::test]
async fn no_refresh_for_an_expired_token() {
    let fx = fixture();
    let s = fx.session();
    fx.at(LIFETIME * 1000);
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_eq!(r.status, 200);
    assert_not_refreshed(&r, "expired, public");
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_type"], "TokenExpiredError");
    assert_not_refreshed(&r, "expired, /me");
    // One ms earlier it would have been refreshed.
    fx.at(LIFETIME * 1000 - 1);
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "last ms");
}

#[tokio::test]
async fn no_refresh_for_a_revoked_token() {
    let fx = fixture();
    let s = fx.session();
    fx.revoked
        .lock()
        .unwrap()
        .insert(claims(&s.token)["jti"].as_str().unwrap().to_owned());
    fx.near_expiry();
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_eq!(r.status, 200);
    assert_not_refreshed(&r, "revoked, public");
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_type"], "RevokedTokenError");
    assert_not_refreshed(&r, "revoked, /me");
}

#[tokio::test]
async fn no_refresh_for_anything_but_a_valid_access_cookie() {
    let fx = fixture();
    let s = fx.session();
    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    fx.near_expiry();
    let cases = [
        (
            "tampered",
            get_req("/public").cookies(&[("access_token_cookie", &tamper_signature(&s.token))]),
        ),
        (
            "refresh token in the access cookie",
            get_req("/public").cookies(&[("access_token_cookie", &refresh)]),
        ),
        (
            "access token in the refresh cookie",
            get_req("/public").cookies(&[("refresh_token_cookie", &s.token)]),
        ),
        (
            "access cookie twice",
            get_req("/public").cookies(&[
                ("access_token_cookie", &s.token),
                ("access_token_cookie", &s.token),
            ]),
        ),
        ("no cookie", get_req("/public")),
        (
            "garbage",
            get_req("/public").cookies(&[("access_token_cookie", "x.y.z")]),
        ),
    ];
    for (what, req) in cases {
        let r = req.send(&fx.app).await;
        assert_eq!(r.status, 200, "{what}");
        assert_not_refreshed(&r, what);
    }

    // A token in the Authorization header is not the layer's business.
    let fx = fixture_with(AuthXConfig {
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..config()
    });
    let s = fx.session();
    fx.near_expiry();
    let r = get_req("/me").bearer(&s.token).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_not_refreshed(&r, "header token");
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_refreshed(&r, "cookie token, headers and cookies configured");

    // Cookies not configured: the layer does nothing.
    let fx = fixture_with(AuthXConfig {
        token_location: vec![TokenLocation::Headers],
        ..config()
    });
    let token = fx.auth.create_access_token("alice").unwrap();
    fx.near_expiry();
    let r = get_req("/public")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_not_refreshed(&r, "cookies not configured");
}

// ---------------------------------------------------------------------------
// CSRF
// ---------------------------------------------------------------------------

#[tokio::test]
async fn no_refresh_on_a_csrf_checked_method_without_a_valid_header() {
    let fx = fixture();
    let s = fx.session();
    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    let refresh_csrf = claims(&refresh)["csrf"].as_str().unwrap().to_owned();
    fx.near_expiry();

    for method in [Method::POST, Method::PUT] {
        let cases = [
            (
                "no header",
                s.on(axum_support::req(method.clone(), "/public")),
            ),
            (
                "empty header",
                s.on(axum_support::req(method.clone(), "/public")).csrf(""),
            ),
            (
                "wrong header",
                s.on(axum_support::req(method.clone(), "/public"))
                    .csrf("wrong"),
            ),
            (
                "the refresh token's CSRF value",
                s.on(axum_support::req(method.clone(), "/public"))
                    .csrf(&refresh_csrf),
            ),
            (
                "a forged CSRF cookie echoed in the header",
                axum_support::req(method.clone(), "/public")
                    .cookies(&[
                        ("access_token_cookie", &s.token),
                        ("csrf_access_token", "forged"),
                    ])
                    .csrf("forged"),
            ),
        ];
        for (what, req) in cases {
            let r = req.send(&fx.app).await;
            assert_eq!(r.status, 200, "{method} {what}");
            assert_not_refreshed(&r, &format!("{method} {what}"));
        }
        let r = s
            .with_csrf(axum_support::req(method.clone(), "/public"))
            .send(&fx.app)
            .await;
        assert_refreshed(&r, &format!("{method} with the CSRF header"));
    }
    // GET is not CSRF-checked.
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "GET without CSRF");
}

// ---------------------------------------------------------------------------
// the handler's answer
// ---------------------------------------------------------------------------

#[tokio::test]
async fn no_refresh_on_401_or_403() {
    let fx = fixture();
    let s = fx.session();
    fx.near_expiry();
    for (path, status) in [("/deny", 401), ("/forbid", 403)] {
        let r = s.on(get_req(path)).send(&fx.app).await;
        assert_eq!(r.status, status);
        assert_not_refreshed(&r, path);
    }
}

#[tokio::test]
async fn the_handlers_own_access_cookie_wins() {
    let fx = fixture();
    let s = fx.session();
    fx.near_expiry();

    let r = s.with_csrf(post_req("/login")).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.set_cookie("access_token_cookie").unwrap();
    assert_eq!(claims(token.value())["sub"], "bob", "the handler's cookie");
    assert_eq!(r.set_cookies().len(), 2);

    // Logging out must not be undone by a refresh.
    let r = s.with_csrf(post_req("/logout")).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let cleared = r.set_cookie("access_token_cookie").unwrap();
    assert_eq!(cleared.value(), "");
    assert_eq!(cleared.max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(r.set_cookies().len(), 2);
}

/// The decision is made after the handler ran: a handler that revokes the
/// token server-side (a logout that leaves the cookie) is not undone.
#[tokio::test]
async fn no_refresh_after_the_handler_revoked_the_token() {
    let fx = fixture();
    let s = fx.session();
    fx.near_expiry();
    let r = s.with_csrf(post_req("/revoke")).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_not_refreshed(&r, "revoked by the handler");
}

// ---------------------------------------------------------------------------
// route and method filters
// ---------------------------------------------------------------------------

#[tokio::test]
async fn route_exclude_and_include() {
    let fx = fixture_with(AuthXConfig {
        implicit_refresh_route_exclude: vec!["/public".into()],
        ..config()
    });
    let s = fx.session();
    fx.near_expiry();
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_not_refreshed(&r, "excluded route");
    let r = s.on(get_req("/public?x=1")).send(&fx.app).await;
    assert_not_refreshed(&r, "excluded route with a query");
    let r = s.on(get_req("/other")).send(&fx.app).await;
    assert_refreshed(&r, "other route");
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_refreshed(&r, "/me");

    let fx = fixture_with(AuthXConfig {
        implicit_refresh_route_include: vec!["/me".into()],
        ..config()
    });
    let s = fx.session();
    fx.near_expiry();
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_refreshed(&r, "included route");
    for path in ["/public", "/other"] {
        let r = s.on(get_req(path)).send(&fx.app).await;
        assert_eq!(r.status, 200);
        assert_not_refreshed(&r, &format!("{path}, not included"));
    }

    // Exclusion wins over inclusion.
    let fx = fixture_with(AuthXConfig {
        implicit_refresh_route_include: vec!["/me".into()],
        implicit_refresh_route_exclude: vec!["/me".into()],
        ..config()
    });
    let s = fx.session();
    fx.near_expiry();
    let r = s.on(get_req("/me")).send(&fx.app).await;
    assert_not_refreshed(&r, "included and excluded");
}

/// Under `Router::nest`, axum strips the prefix before inner layers run;
/// the route filters must still see the path the client asked for, as
/// AuthX's middleware does (`request.url.path`). Otherwise an exclusion
/// silently stops applying (and an inclusion never matches).
#[tokio::test]
async fn route_filters_match_the_full_path_under_nest() {
    let clock = ManualClock::at_secs(NOW);
    let auth = AuthX::builder(AuthXConfig {
        implicit_refresh_route_exclude: vec!["/api/public".into()],
        ..config()
    })
    .clock(Arc::new(clock.clone()))
    .build()
    .unwrap();
    let inner: Router<AuthX> = Router::new()
        .route("/public", get(ok))
        .route("/other", get(ok))
        .layer(ImplicitRefreshLayer::new(auth.clone()));
    let app = Router::new().nest("/api", inner).with_state(auth.clone());
    let token = auth.create_access_token("alice").unwrap();
    clock.set_millis(NOW * 1000 + AT_DELTA_MS + 1);

    let r = get_req("/api/other")
        .cookies(&[("access_token_cookie", &token)])
        .send(&app)
        .await;
    assert_eq!(r.status, 200);
    assert_refreshed(&r, "/api/other, not excluded");
    let r = get_req("/api/public")
        .cookies(&[("access_token_cookie", &token)])
        .send(&app)
        .await;
    assert_eq!(r.status, 200);
    assert_not_refreshed(&r, "/api/public is excluded");
}

#[tokio::test]
async fn method_exclude_and_include() {
    let fx = fixture_with(AuthXConfig {
        implicit_refresh_method_exclude: vec![Method::POST],
        ..config()
    });
    let s = fx.session();
    fx.near_expiry();
    let r = s.with_csrf(post_req("/public")).send(&fx.app).await;
    assert_eq!(r.status, 200);
    assert_not_refreshed(&r, "excluded method");
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "GET, not excluded");

    // Include means include (AuthX's `..._METHOD_INCLUDE` excludes).
    let fx = fixture_with(AuthXConfig {
        implicit_refresh_method_include: vec![Method::POST],
        ..config()
    });
    let s = fx.session();
    fx.near_expiry();
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_eq!(r.status, 200);
    assert_not_refreshed(&r, "GET, not included");
    let r = s.with_csrf(post_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "POST, included");
    let r = s
        .with_csrf(axum_support::req(Method::PUT, "/public"))
        .send(&fx.app)
        .await;
    assert_not_refreshed(&r, "PUT, not included");
}

#[tokio::test]
async fn custom_delta() {
    let fx = fixture_with(AuthXConfig {
        implicit_refresh_deltatime: Duration::from_secs(60),
        ..config()
    });
    let s = fx.session();
    fx.at((LIFETIME - 60) * 1000 - 1);
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_not_refreshed(&r, "61 s left");
    fx.at((LIFETIME - 60) * 1000 + 1);
    let r = s.on(get_req("/public")).send(&fx.app).await;
    assert_refreshed(&r, "59.999 s left");
}
