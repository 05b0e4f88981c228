//! The axum extractors, layer, subject loader and cookie helper, through a
//! small app of our own: `Option<AccessToken>`, typed custom claims,
//! `FreshAccessToken`, location markers, `RequireAccessLayer` (scopes all /
//! any, the `ns:*` wildcard, fresh, locations, reuse of its result by the
//! extractors), sync and async revocation hooks (fail closed with 503),
//! `Subject<User>`, `AuthCookies`, and the error body: AuthX's default
//! `{"message", "error_type"}` (or `error_message_key`), the RFC 6750
//! challenge and `Cache-Control: no-store` on every error.

#![allow(clippy::unwrap_used)]

mod axum_support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authx::axum::{
    AccessToken, AuthCookies, AuthRejection, Authenticated, Configured, CookieOnly,
    FreshAccessToken, LoadSubject, QueryOnly, RequireAccessLayer, Subject,
};
use authx::clock::ManualClock;
use authx::revocation::AsyncRevocation;
use authx::{AuthX, AuthXConfig, Error, ErrorKind, TokenLocation, TokenOptions, TokenPayload};
use axum::extract::{FromRef, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use axum_support::{Resp, claims, get as get_req, post as post_req, req, tamper_signature};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const SECRET: &str = "axum-extractors-test-secret-0123456789abcdef";
const NOW: i64 = 1_700_000_000;

const CHALLENGE: &str = "Bearer";
const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;
const INVALID_REQUEST: &str = r#"Bearer error="invalid_request""#;
const INSUFFICIENT_SCOPE: &str = r#"Bearer error="insufficient_scope""#;

// ---------------------------------------------------------------------------
// the app
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
struct User {
    name: String,
    email: String,
}

#[derive(Clone)]
struct AppState {
    auth: AuthX,
    users: Arc<HashMap<String, User>>,
}

impl FromRef<AppState> for AuthX {
    fn from_ref(state: &AppState) -> AuthX {
        state.auth.clone()
    }
}

impl LoadSubject<AppState> for User {
    async fn load(state: &AppState, payload: &TokenPayload) -> Result<Option<Self>, Error> {
        if payload.sub == "db-down" {
            return Err(ErrorKind::StoreUnavailable("user database down".into()).into());
        }
        Ok(state.users.get(&payload.sub).cloned())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MyClaims {
    tenant: String,
    roles: Vec<String>,
    level: u8,
}

async fn optional(token: Option<AccessToken>) -> Json<Value> {
    Json(json!({ "sub": token.map(|t| t.payload.sub) }))
}

async fn typed(token: AccessToken<Configured, MyClaims>) -> Json<Value> {
    Json(json!({
        "claims": token.claims,
        "extra": token.payload.extra,
        "location": token.location,
    }))
}

async fn fresh(token: FreshAccessToken) -> Json<Value> {
    Json(json!({ "sub": token.sub, "fresh": token.fresh }))
}

async fn me(Subject(user): Subject<User>) -> Json<User> {
    Json(user)
}

async fn cookie_only(token: AccessToken<CookieOnly>) -> Json<Value> {
    Json(json!({ "sub": token.sub, "location": token.location }))
}

async fn query_only(token: AccessToken<QueryOnly>) -> Json<Value> {
    Json(json!({ "sub": token.sub, "location": token.location }))
}

/// Behind a `RequireAccessLayer`: the layer's result, and an extractor
/// that should reuse it.
async fn behind_layer(
    Extension(done): Extension<Authenticated>,
    token: AccessToken,
) -> Json<Value> {
    Json(json!({
        "ext_sub": done.payload.sub,
        "ext_jti": done.payload.jti,
        "ext_location": done.location,
        "tok_jti": token.jti,
        "tok_location": token.location,
    }))
}

async fn session_set(State(state): State<AppState>) -> Result<impl IntoResponse, AuthRejection> {
    let auth = &state.auth;
    let run = || -> Result<AuthCookies, Error> {
        let access = auth.create_access_token_with("alice", &TokenOptions::new().fresh(true))?;
        let refresh = auth.create_refresh_token("alice")?;
        AuthCookies::new(auth)
            .set_access(&access)?
            .set_refresh(&refresh)
    };
    let cookies = run().map_err(|e| AuthRejection::new(auth, e))?;
    Ok((cookies, Json(json!({ "ok": true }))))
}

async fn session_unset(State(state): State<AppState>) -> Result<impl IntoResponse, AuthRejection> {
    let auth = &state.auth;
    let cookies = AuthCookies::new(auth)
        .unset_access()
        .and_then(AuthCookies::unset_refresh)
        .map_err(|e| AuthRejection::new(auth, e))?;
    Ok((cookies, Json(json!({ "ok": true }))))
}

fn app(auth: AuthX) -> Router {
    let layer = || RequireAccessLayer::new(auth.clone());
    let users = ["alice", "bob"]
        .into_iter()
        .map(|n| {
            let user = User {
                name: n.into(),
                email: format!("{n}@example.com"),
            };
            (n.to_owned(), user)
        })
        .collect();
    let state = AppState {
        auth: auth.clone(),
        users: Arc::new(users),
    };
    Router::new()
        .route("/optional", get(optional))
        .route("/typed", get(typed))
        .route("/fresh", post(fresh))
        .route("/me", get(me))
        .route("/session", post(session_set).delete(session_unset))
        .route("/cookie", get(cookie_only).post(cookie_only))
        .route("/query", get(query_only))
        .route(
            "/layer/all",
            get(behind_layer).route_layer(layer().scopes(["users:read", "users:write"])),
        )
        .route(
            "/layer/any",
            get(behind_layer).route_layer(layer().scopes(["admin", "users:read"]).any_scope()),
        )
        .route(
            "/layer/ns",
            get(behind_layer).route_layer(layer().scopes(["reports"])),
        )
        .route(
            "/layer/fresh",
            post(behind_layer).route_layer(layer().fresh()),
        )
        .route("/layer/then-fresh", post(fresh).route_layer(layer()))
        .route(
            "/layer/headers",
            get(behind_layer).route_layer(layer().locations(&[TokenLocation::Headers])),
        )
        .route(
            "/layer/cookies",
            get(behind_layer)
                .post(behind_layer)
                .route_layer(layer().locations(&[TokenLocation::Cookies])),
        )
        .route("/layer/me", get(me).route_layer(layer()))
        .with_state(state)
}

// ---------------------------------------------------------------------------
// fixture
// ---------------------------------------------------------------------------

fn config() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..AuthXConfig::default()
    }
}

struct Fx {
    clock: ManualClock,
    auth: AuthX,
    app: Router,
    /// How many times the revocation hook ran.
    calls: Arc<AtomicUsize>,
    /// Revoked `jti`s.
    revoked: Arc<Mutex<HashSet<String>>>,
}

fn fixture_with(config: AuthXConfig) -> Fx {
    let clock = ManualClock::at_secs(NOW);
    let calls = Arc::new(AtomicUsize::new(0));
    let revoked = Arc::new(Mutex::new(HashSet::new()));
    let (c, r) = (calls.clone(), revoked.clone());
    let auth = AuthX::builder(config)
        .clock(Arc::new(clock.clone()))
        .revocation(move |p: &TokenPayload| {
            c.fetch_add(1, Ordering::SeqCst);
            p.sub == "revoked-user" || r.lock().unwrap().contains(&p.jti)
        })
        .build()
        .unwrap();
    Fx {
        clock,
        app: app(auth.clone()),
        auth,
        calls,
        revoked,
    }
}

fn fixture() -> Fx {
    fixture_with(config())
}

impl Fx {
    fn access(&self, sub: &str, opts: &TokenOptions) -> String {
        self.auth.create_access_token_with(sub, opts).unwrap()
    }

    fn plain(&self, sub: &str) -> String {
        self.access(sub, &TokenOptions::new())
    }

    fn scoped(&self, scopes: &[&str]) -> String {
        self.access("alice", &TokenOptions::new().scopes(scopes.iter().copied()))
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// An error answered with AuthX's default body: exactly
/// `{"message", "error_type"}`, the status, the challenge, no-store.
#[track_caller]
fn assert_error(
    r: &Resp,
    status: u16,
    error_type: &str,
    message: &str,
    challenge: Option<&str>,
    what: &str,
) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert_eq!(
        r.json(),
        json!({ "message": message, "error_type": error_type }),
        "{what}"
    );
    assert_eq!(r.www_authenticate(), challenge, "{what}");
    assert_eq!(r.cache_control(), Some("no-store"), "{what}");
}

#[track_caller]
fn assert_missing(r: &Resp, what: &str) {
    assert_error(
        r,
        401,
        "MissingTokenError",
        "Missing JWT in request",
        Some(CHALLENGE),
        what,
    );
}

#[track_caller]
fn assert_revoked(r: &Resp, what: &str) {
    assert_error(
        r,
        401,
        "RevokedTokenError",
        "Invalid token",
        Some(INVALID_TOKEN),
        what,
    );
}

#[track_caller]
fn assert_store_down(r: &Resp, what: &str) {
    assert_error(
        r,
        503,
        "StoreUnavailableError",
        "Token store unavailable",
        None,
        what,
    );
}

fn insufficient(required: &[&str], provided: &[&str]) -> String {
    format!("Missing required scopes: {required:?}. Provided: {provided:?}")
}

// ---------------------------------------------------------------------------
// Option<AccessToken>
// ---------------------------------------------------------------------------

#[tokio::test]
async fn optional_access_token_is_none_without_a_token_and_refuses_a_bad_one() {
    let fx = fixture();
    let token = fx.plain("alice");
    let old = fx.plain("bob");

    for (what, r) in [
        ("no token", get_req("/optional")),
        (
            "another scheme",
            get_req("/optional").header("authorization", "Basic dXNlcjpwYXNz"),
        ),
        (
            "empty access cookie",
            get_req("/optional").cookies(&[("access_token_cookie", "")]),
        ),
    ] {
        let r = r.send(&fx.app).await;
        assert_eq!(r.status, 200, "{what}: {}", r.text());
        assert_eq!(r.json(), json!({ "sub": null }), "{what}");
    }

    let r = get_req("/optional").bearer(&token).send(&fx.app).await;
    assert_eq!(r.json(), json!({ "sub": "alice" }));
    let r = get_req("/optional")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_eq!(r.json(), json!({ "sub": "alice" }), "cookie, GET: no CSRF");

    let r = get_req("/optional")
        .bearer(&tamper_signature(&token))
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "TokenInvalidSignatureError",
        "Signature verification failed",
        Some(INVALID_TOKEN),
        "tampered",
    );
    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    let r = get_req("/optional").bearer(&refresh).send(&fx.app).await;
    assert_error(
        &r,
        401,
        "AccessTokenRequiredError",
        "Access token required",
        Some(INVALID_TOKEN),
        "refresh token",
    );
    let r = get_req("/optional")
        .header("authorization", "Bearer")
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        400,
        "InvalidAuthorizationHeaderError",
        "Authorization header must be 'Bearer <token>'",
        Some(INVALID_REQUEST),
        "malformed header",
    );
    let r = get_req("/optional")
        .bearer(&token)
        .bearer(&token)
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        400,
        "DuplicateCredentialsError",
        "Credentials sent more than once",
        Some(INVALID_REQUEST),
        "two Authorization headers",
    );
    // A bad credential in the first location is not skipped for the next.
    let r = get_req("/optional")
        .bearer("garbage")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 401, "{}", r.text());

    fx.revoked
        .lock()
        .unwrap()
        .insert(claims(&token)["jti"].as_str().unwrap().to_owned());
    let r = get_req("/optional").bearer(&token).send(&fx.app).await;
    assert_revoked(&r, "revoked");

    fx.clock.advance(Duration::from_secs(15 * 60));
    let r = get_req("/optional").bearer(&old).send(&fx.app).await;
    assert_error(
        &r,
        401,
        "TokenExpiredError",
        "Token has expired",
        Some(INVALID_TOKEN),
        "expired",
    );
}

// ---------------------------------------------------------------------------
// typed custom claims
// ---------------------------------------------------------------------------

#[tokio::test]
async fn typed_custom_claims() {
    let fx = fixture();
    let mine = MyClaims {
        tenant: "acme".into(),
        roles: vec!["admin".into(), "ops".into()],
        level: 3,
    };
    let token = fx.access("alice", &TokenOptions::new().data(&mine).unwrap());
    let r = get_req("/typed").bearer(&token).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(
        serde_json::from_value::<MyClaims>(body["claims"].clone()).unwrap(),
        mine
    );
    // Typing the claims leaves the raw map on the payload intact.
    assert_eq!(
        body["extra"],
        json!({ "tenant": "acme", "roles": ["admin", "ops"], "level": 3 })
    );
    assert_eq!(body["location"], "headers");

    // Unknown extra claims are ignored by the typed view.
    let opts = TokenOptions::new()
        .data(&mine)
        .unwrap()
        .claim("unrelated", true)
        .unwrap();
    let r = get_req("/typed")
        .bearer(&fx.access("alice", &opts))
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    for (what, opts) in [
        ("no custom claims", TokenOptions::new()),
        (
            "a missing field",
            TokenOptions::new()
                .data(&json!({ "tenant": "acme", "roles": [] }))
                .unwrap(),
        ),
        (
            "a mistyped field",
            TokenOptions::new()
                .data(&json!({ "tenant": "acme", "roles": [], "level": "high" }))
                .unwrap(),
        ),
        (
            "an out-of-range field",
            TokenOptions::new()
                .data(&json!({ "tenant": "acme", "roles": [], "level": 300 }))
                .unwrap(),
        ),
    ] {
        let r = get_req("/typed")
            .bearer(&fx.access("alice", &opts))
            .send(&fx.app)
            .await;
        assert_error(
            &r,
            401,
            "JWTDecodeError",
            "Invalid Token: invalid 'custom data'",
            Some(INVALID_TOKEN),
            what,
        );
    }
    let r = get_req("/typed").send(&fx.app).await;
    assert_missing(&r, "typed, no token");
}

// ---------------------------------------------------------------------------
// FreshAccessToken
// ---------------------------------------------------------------------------

#[tokio::test]
async fn fresh_access_token_requires_a_fresh_token() {
    let fx = fixture();
    let fresh = fx.access("alice", &TokenOptions::new().fresh(true));
    let r = post_req("/fresh").bearer(&fresh).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "sub": "alice", "fresh": true }));

    let r = post_req("/fresh")
        .bearer(&fx.plain("alice"))
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({ "message": "Fresh token required", "error_type": "FreshTokenRequiredError" })
    );
    assert_eq!(r.www_authenticate(), Some(INVALID_TOKEN));
    assert_eq!(r.cache_control(), Some("no-store"));

    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    let r = post_req("/fresh").bearer(&refresh).send(&fx.app).await;
    assert_error(
        &r,
        401,
        "AccessTokenRequiredError",
        "Access token required",
        Some(INVALID_TOKEN),
        "refresh token on a fresh route",
    );
    let r = post_req("/fresh").send(&fx.app).await;
    assert_missing(&r, "fresh, no token");

    // A fresh token from a cookie on POST still needs its CSRF header.
    let csrf = claims(&fresh)["csrf"].as_str().unwrap().to_owned();
    let r = post_req("/fresh")
        .cookies(&[("access_token_cookie", &fresh)])
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "MissingCSRFTokenError",
        "Missing CSRF token",
        Some(INVALID_TOKEN),
        "fresh cookie without CSRF",
    );
    let r = post_req("/fresh")
        .cookies(&[("access_token_cookie", &fresh)])
        .csrf(&csrf)
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---------------------------------------------------------------------------
// location markers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn location_markers_never_read_other_locations() {
    let fx = fixture();
    let token = fx.plain("alice");

    let r = get_req("/cookie").bearer(&token).send(&fx.app).await;
    assert_missing(&r, "CookieOnly with a header token");
    let r = get_req("/cookie")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_eq!(r.json(), json!({ "sub": "alice", "location": "cookies" }));

    // The query string is not a configured location: QueryOnly finds
    // nothing, even with a token there (narrowing never widens).
    let r = get_req(&format!("/query?token={token}"))
        .send(&fx.app)
        .await;
    assert_missing(&r, "QueryOnly, query not configured");

    let fx = fixture_with(AuthXConfig {
        token_location: vec![TokenLocation::Headers, TokenLocation::Query],
        ..config()
    });
    let token = fx.plain("alice");
    let r = get_req(&format!("/query?token={token}"))
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({ "sub": "alice", "location": "query" }));
    let r = get_req("/query").bearer(&token).send(&fx.app).await;
    assert_missing(&r, "QueryOnly with a header token");
    let r = get_req(&format!("/query?token={token}&token={token}"))
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        400,
        "DuplicateCredentialsError",
        "Credentials sent more than once",
        Some(INVALID_REQUEST),
        "two query tokens",
    );
}

// ---------------------------------------------------------------------------
// RequireAccessLayer
// ---------------------------------------------------------------------------

#[tokio::test]
async fn layer_requires_every_scope() {
    let fx = fixture();
    let required = ["users:read", "users:write"];
    for granted in [
        &["users:read", "users:write"][..],
        &["users:write", "users:read", "other"],
        &["users:*"],
        &["users:read:*", "users:write"],
    ] {
        let r = get_req("/layer/all")
            .bearer(&fx.scoped(granted))
            .send(&fx.app)
            .await;
        assert_eq!(r.status, 200, "{granted:?}: {}", r.text());
    }
    for granted in [
        &["users:read"][..],
        &[],
        &["users"],
        &["usersx:*"],
        &["user:*"],
        &["*"],
        &[":*"],
        &["users:read", "users:writer"],
        &["USERS:*"],
    ] {
        let r = get_req("/layer/all")
            .bearer(&fx.scoped(granted))
            .send(&fx.app)
            .await;
        assert_error(
            &r,
            403,
            "InsufficientScopeError",
            &insufficient(&required, granted),
            Some(INSUFFICIENT_SCOPE),
            &format!("{granted:?}"),
        );
    }
    // A token without any `scopes` claim.
    let r = get_req("/layer/all")
        .bearer(&fx.plain("alice"))
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        403,
        "InsufficientScopeError",
        &insufficient(&required, &[]),
        Some(INSUFFICIENT_SCOPE),
        "no scopes claim",
    );
    // Authentication comes before authorization.
    let r = get_req("/layer/all").send(&fx.app).await;
    assert_missing(&r, "layer, no token");
    let r = get_req("/layer/all")
        .bearer(&tamper_signature(&fx.scoped(&["users:*"])))
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "TokenInvalidSignatureError",
        "Signature verification failed",
        Some(INVALID_TOKEN),
        "layer, tampered",
    );
}

#[tokio::test]
async fn layer_any_scope_and_namespace_wildcard() {
    let fx = fixture();
    for granted in [
        &["admin"][..],
        &["users:read"],
        &["users:*"],
        &["admin:*"],
        &["nope", "admin"],
    ] {
        let r = get_req("/layer/any")
            .bearer(&fx.scoped(granted))
            .send(&fx.app)
            .await;
        assert_eq!(r.status, 200, "{granted:?}: {}", r.text());
    }
    for granted in [&["other"][..], &[], &["users:write"], &["administrator"]] {
        let r = get_req("/layer/any")
            .bearer(&fx.scoped(granted))
            .send(&fx.app)
            .await;
        assert_error(
            &r,
            403,
            "InsufficientScopeError",
            &insufficient(&["admin", "users:read"], granted),
            Some(INSUFFICIENT_SCOPE),
            &format!("{granted:?}"),
        );
    }

    // `reports:*` grants the bare namespace `reports`.
    for granted in [&["reports"][..], &["reports:*"]] {
        let r = get_req("/layer/ns")
            .bearer(&fx.scoped(granted))
            .send(&fx.app)
            .await;
        assert_eq!(r.status, 200, "{granted:?}: {}", r.text());
    }
    for granted in [&["reports:read"][..], &["reportsx:*"], &["report:*"]] {
        let r = get_req("/layer/ns")
            .bearer(&fx.scoped(granted))
            .send(&fx.app)
            .await;
        assert_eq!(r.status, 403, "{granted:?}: {}", r.text());
        assert_eq!(r.www_authenticate(), Some(INSUFFICIENT_SCOPE));
    }
}

#[tokio::test]
async fn layer_fresh() {
    let fx = fixture();
    let fresh = fx.access("alice", &TokenOptions::new().fresh(true));
    let r = post_req("/layer/fresh").bearer(&fresh).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let r = post_req("/layer/fresh")
        .bearer(&fx.plain("alice"))
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "FreshTokenRequiredError",
        "Fresh token required",
        Some(INVALID_TOKEN),
        "fresh layer, non-fresh token",
    );

    // A plain layer, then a FreshAccessToken extractor: the layer's
    // result is reused, and its freshness still checked.
    let before = fx.calls();
    let r = post_req("/layer/then-fresh")
        .bearer(&fresh)
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(fx.calls() - before, 1, "verified once");
    let r = post_req("/layer/then-fresh")
        .bearer(&fx.plain("alice"))
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "FreshTokenRequiredError",
        "Fresh token required",
        Some(INVALID_TOKEN),
        "plain layer, fresh extractor",
    );
}

#[tokio::test]
async fn layer_locations_narrow_the_search() {
    let fx = fixture();
    let token = fx.plain("alice");
    let csrf = claims(&token)["csrf"].as_str().unwrap().to_owned();

    let r = get_req("/layer/headers")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_missing(&r, "headers layer, cookie token");
    let r = get_req("/layer/headers").bearer(&token).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ext_location"], "headers");

    let r = get_req("/layer/cookies").bearer(&token).send(&fx.app).await;
    assert_missing(&r, "cookies layer, header token");
    let r = get_req("/layer/cookies")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["ext_location"], "cookies");
    assert_eq!(r.json()["tok_location"], "cookies");

    // POST from a cookie: the layer checks CSRF.
    let r = post_req("/layer/cookies")
        .cookies(&[("access_token_cookie", &token)])
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "MissingCSRFTokenError",
        "Missing CSRF token",
        Some(INVALID_TOKEN),
        "cookie POST without CSRF",
    );
    let r = post_req("/layer/cookies")
        .cookies(&[("access_token_cookie", &token)])
        .csrf("wrong")
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "CSRFError",
        "CSRF double submit does not match",
        Some(INVALID_TOKEN),
        "cookie POST with a wrong CSRF",
    );
    let r = post_req("/layer/cookies")
        .cookies(&[("access_token_cookie", &token)])
        .csrf(&csrf)
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn extractors_reuse_the_layers_verification() {
    let fx = fixture();
    let token = fx.scoped(&["users:*"]);
    let jti = claims(&token)["jti"].as_str().unwrap().to_owned();

    let before = fx.calls();
    let r = get_req("/layer/all").bearer(&token).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({
            "ext_sub": "alice",
            "ext_jti": jti,
            "ext_location": "headers",
            "tok_jti": jti,
            "tok_location": "headers",
        })
    );
    assert_eq!(fx.calls() - before, 1, "layer and extractor verify once");

    // Subject behind a layer too.
    let before = fx.calls();
    let r = get_req("/layer/me").bearer(&token).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(fx.calls() - before, 1);

    // Without a layer, each extractor verifies.
    let before = fx.calls();
    let r = get_req("/me").bearer(&token).send(&fx.app).await;
    assert_eq!(r.status, 200);
    assert_eq!(fx.calls() - before, 1);
}

// ---------------------------------------------------------------------------
// revocation hooks
// ---------------------------------------------------------------------------

#[tokio::test]
async fn sync_revocation_hook_refuses_revoked_tokens_everywhere() {
    let fx = fixture();
    let mine = MyClaims {
        tenant: "acme".into(),
        roles: vec![],
        level: 1,
    };
    let opts = TokenOptions::new()
        .fresh(true)
        .scopes(["users:*", "admin"])
        .data(&mine)
        .unwrap();
    let token = fx.access("alice", &opts);
    let other = fx.access("alice", &opts);
    let csrf = claims(&token)["csrf"].as_str().unwrap().to_owned();
    fx.revoked
        .lock()
        .unwrap()
        .insert(claims(&token)["jti"].as_str().unwrap().to_owned());

    let routes = [
        (Method::GET, "/optional"),
        (Method::GET, "/typed"),
        (Method::POST, "/fresh"),
        (Method::GET, "/me"),
        (Method::GET, "/layer/all"),
        (Method::GET, "/layer/any"),
        (Method::POST, "/layer/fresh"),
        (Method::GET, "/layer/me"),
    ];
    for (method, path) in &routes {
        let r = req(method.clone(), path).bearer(&token).send(&fx.app).await;
        assert_revoked(&r, path);
        let r = req(method.clone(), path).bearer(&other).send(&fx.app).await;
        assert_eq!(r.status, 200, "{path}, not revoked: {}", r.text());
    }
    let r = get_req("/cookie")
        .cookies(&[("access_token_cookie", &token)])
        .csrf(&csrf)
        .send(&fx.app)
        .await;
    assert_revoked(&r, "cookie");

    // Revocation by subject.
    let r = get_req("/optional")
        .bearer(&fx.plain("revoked-user"))
        .send(&fx.app)
        .await;
    assert_revoked(&r, "revoked subject");
}

#[tokio::test]
async fn async_revocation_store_down_fails_closed_with_503() {
    let clock = ManualClock::at_secs(NOW);
    let down = Arc::new(AtomicBool::new(false));
    let revoked = Arc::new(Mutex::new(HashSet::<String>::new()));
    let (d, rv) = (down.clone(), revoked.clone());
    let check = AsyncRevocation::new(move |jti: String| {
        let (down, revoked) = (d.clone(), rv.clone());
        async move {
            tokio::task::yield_now().await;
            if down.load(Ordering::SeqCst) {
                return Err(ErrorKind::StoreUnavailable("redis: connection refused".into()).into());
            }
            Ok(revoked.lock().unwrap().contains(&jti))
        }
    });
    let auth = AuthX::builder(config())
        .clock(Arc::new(clock.clone()))
        .revocation(check)
        .build()
        .unwrap();
    let app = app(auth.clone());
    let opts = TokenOptions::new()
        .fresh(true)
        .scopes(["users:*", "admin"])
        .data(&MyClaims {
            tenant: "acme".into(),
            roles: vec![],
            level: 1,
        })
        .unwrap();
    let token = auth.create_access_token_with("alice", &opts).unwrap();
    let bad = auth.create_access_token_with("alice", &opts).unwrap();
    revoked
        .lock()
        .unwrap()
        .insert(claims(&bad)["jti"].as_str().unwrap().to_owned());

    let routes = [
        (Method::GET, "/optional"),
        (Method::GET, "/typed"),
        (Method::POST, "/fresh"),
        (Method::GET, "/me"),
        (Method::GET, "/layer/all"),
        (Method::POST, "/layer/fresh"),
        (Method::GET, "/layer/me"),
    ];
    for (method, path) in &routes {
        let r = req(method.clone(), path).bearer(&token).send(&app).await;
        assert_eq!(r.status, 200, "{path}, store up: {}", r.text());
        let r = req(method.clone(), path).bearer(&bad).send(&app).await;
        assert_revoked(&r, path);
    }

    down.store(true, Ordering::SeqCst);
    for (method, path) in &routes {
        let r = req(method.clone(), path).bearer(&token).send(&app).await;
        assert_store_down(&r, path);
    }
    // "Store unknown" is not "no token": Option<AccessToken> fails closed.
    let r = get_req("/optional").bearer(&token).send(&app).await;
    assert_store_down(&r, "optional with a token, store down");
    // Without a token there is nothing to look up.
    let r = get_req("/optional").send(&app).await;
    assert_eq!(r.json(), json!({ "sub": null }));
}

// ---------------------------------------------------------------------------
// Subject<User>
// ---------------------------------------------------------------------------

#[tokio::test]
async fn subject_loads_the_user_or_refuses_with_401() {
    let fx = fixture();
    let r = get_req("/me")
        .bearer(&fx.plain("alice"))
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({ "name": "alice", "email": "alice@example.com" })
    );

    for path in ["/me", "/layer/me"] {
        let r = get_req(path)
            .bearer(&fx.plain("mallory"))
            .send(&fx.app)
            .await;
        assert_error(
            &r,
            401,
            "SubjectNotFoundError",
            "Unknown subject",
            Some(INVALID_TOKEN),
            path,
        );
        let r = get_req(path)
            .bearer(&fx.plain("db-down"))
            .send(&fx.app)
            .await;
        assert_store_down(&r, path);
        let r = get_req(path).send(&fx.app).await;
        assert_missing(&r, path);
    }
    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    let r = get_req("/me").bearer(&refresh).send(&fx.app).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_type"], "AccessTokenRequiredError");
}

// ---------------------------------------------------------------------------
// AuthCookies
// ---------------------------------------------------------------------------

#[tokio::test]
async fn auth_cookies_set_and_unset_from_a_handler() {
    let fx = fixture();
    let r = post_req("/session").send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.cache_control(), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let names: Vec<String> = r.set_cookies().iter().map(|c| c.name().into()).collect();
    assert_eq!(
        names,
        [
            "csrf_access_token",
            "access_token_cookie",
            "csrf_refresh_token",
            "refresh_token_cookie"
        ]
    );
    let access = r.set_cookie("access_token_cookie").unwrap();
    let refresh = r.set_cookie("refresh_token_cookie").unwrap();
    let access_csrf = r.set_cookie("csrf_access_token").unwrap();
    let refresh_csrf = r.set_cookie("csrf_refresh_token").unwrap();
    assert_eq!(claims(access.value())["type"], "access");
    assert_eq!(claims(access.value())["fresh"], true);
    assert_eq!(claims(refresh.value())["type"], "refresh");
    assert_eq!(access_csrf.value(), claims(access.value())["csrf"]);
    assert_eq!(refresh_csrf.value(), claims(refresh.value())["csrf"]);
    assert_ne!(access_csrf.value(), refresh_csrf.value());
    for (c, http_only) in [
        (&access, Some(true)),
        (&refresh, Some(true)),
        (&access_csrf, None),
        (&refresh_csrf, None),
    ] {
        assert_eq!(c.http_only(), http_only, "{}", c.name());
        assert_eq!(c.secure(), Some(true), "{}", c.name());
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{}", c.name());
        assert_eq!(c.path(), Some("/"), "{}", c.name());
        assert_eq!(c.max_age(), None, "{}: session cookie", c.name());
    }

    // The cookies work: GET needs no CSRF, POST needs the access one.
    let jar = [
        ("access_token_cookie", access.value()),
        ("csrf_access_token", access_csrf.value()),
    ];
    let r = get_req("/cookie").cookies(&jar).send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_req("/cookie")
        .cookies(&jar)
        .csrf(access_csrf.value())
        .send(&fx.app)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post_req("/cookie")
        .cookies(&jar)
        .csrf(refresh_csrf.value())
        .send(&fx.app)
        .await;
    assert_error(
        &r,
        401,
        "CSRFError",
        "CSRF double submit does not match",
        Some(INVALID_TOKEN),
        "refresh CSRF for the access cookie",
    );

    let r = req(Method::DELETE, "/session").send(&fx.app).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.cache_control(), Some("no-store"));
    assert_eq!(r.set_cookies().len(), 4);
    for (name, http_only) in [
        ("access_token_cookie", Some(true)),
        ("csrf_access_token", None),
        ("refresh_token_cookie", Some(true)),
        ("csrf_refresh_token", None),
    ] {
        let c = r.set_cookie(name).unwrap();
        assert_eq!(c.value(), "", "{name}");
        assert_eq!(c.max_age(), Some(cookie::time::Duration::ZERO), "{name}");
        assert!(
            c.expires_datetime().unwrap().unix_timestamp() <= NOW,
            "{name}"
        );
        assert_eq!(c.http_only(), http_only, "{name}");
        assert_eq!(c.secure(), Some(true), "{name}: K-C5 keeps Secure");
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{name}");
        assert_eq!(c.path(), Some("/"), "{name}");
    }
}

#[test]
fn auth_cookies_refuse_the_wrong_token() {
    let fx = fixture();
    let access = fx.plain("alice");
    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    let err = AuthCookies::new(&fx.auth).set_access(&refresh).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::AccessTokenRequired);
    let err = AuthCookies::new(&fx.auth).set_refresh(&access).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::RefreshTokenRequired);
    let err = AuthCookies::new(&fx.auth)
        .set_access(&tamper_signature(&access))
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
    fx.clock.advance(Duration::from_secs(15 * 60));
    let err = AuthCookies::new(&fx.auth).set_access(&access).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ExpiredToken);
}

// ---------------------------------------------------------------------------
// error bodies
// ---------------------------------------------------------------------------

#[tokio::test]
async fn error_message_key_changes_the_json_key() {
    let fx = fixture_with(AuthXConfig {
        error_message_key: "msg".into(),
        ..config()
    });
    let cases = [
        (
            get_req("/optional").bearer("garbage"),
            401,
            "Invalid Token: token must have exactly three segments".to_owned(),
            "JWTDecodeError",
        ),
        (
            get_req("/layer/all").bearer(&fx.scoped(&["nope"])),
            403,
            insufficient(&["users:read", "users:write"], &["nope"]),
            "InsufficientScopeError",
        ),
        (
            post_req("/fresh").bearer(&fx.plain("alice")),
            401,
            "Fresh token required".to_owned(),
            "FreshTokenRequiredError",
        ),
        (
            get_req("/me").bearer(&fx.plain("db-down")),
            503,
            "Token store unavailable".to_owned(),
            "StoreUnavailableError",
        ),
        (
            get_req("/me"),
            401,
            "Missing JWT in request".to_owned(),
            "MissingTokenError",
        ),
    ];
    for (req, status, message, error_type) in cases {
        let r = req.send(&fx.app).await;
        assert_eq!(r.status, status, "{error_type}");
        assert_eq!(
            r.json(),
            json!({ "msg": message, "error_type": error_type }),
            "{error_type}"
        );
        assert_eq!(r.cache_control(), Some("no-store"), "{error_type}");
    }
}

/// Every error of this app, default body: exactly `{"message",
/// "error_type"}`, no-store, and the message never echoes the token (H7).
#[tokio::test]
async fn every_error_has_the_default_body_and_no_store() {
    let fx = fixture();
    let token = fx.plain("alice");
    let refresh = fx.auth.create_refresh_token("alice").unwrap();
    let tampered = tamper_signature(&token);
    let mut requests = Vec::new();
    for path in [
        "/optional",
        "/typed",
        "/me",
        "/cookie",
        "/query",
        "/layer/all",
        "/layer/any",
        "/layer/ns",
        "/layer/headers",
        "/layer/cookies",
        "/layer/me",
    ] {
        requests.push(get_req(path).bearer(&token));
        requests.push(get_req(path).bearer(&tampered));
        requests.push(get_req(path).bearer(&refresh));
        requests.push(get_req(path).header("authorization", "Bearer a b"));
        requests.push(get_req(path).cookies(&[("access_token_cookie", &tampered)]));
        requests.push(get_req(path).bearer(&fx.plain("revoked-user")));
    }
    for path in [
        "/fresh",
        "/layer/fresh",
        "/layer/then-fresh",
        "/layer/cookies",
    ] {
        requests.push(post_req(path).bearer(&token));
        requests.push(post_req(path).cookies(&[("access_token_cookie", &token)]));
        requests.push(
            post_req(path)
                .cookies(&[("access_token_cookie", &token)])
                .csrf("x"),
        );
    }
    let mut seen = HashSet::new();
    for req in requests {
        let r = req.send(&fx.app).await;
        if r.status.is_success() {
            continue;
        }
        r.assert_not_5xx("error sweep");
        let body = r.json();
        let obj = body.as_object().unwrap();
        assert_eq!(obj.len(), 2, "{body}");
        assert!(obj["message"].is_string(), "{body}");
        let error_type = obj["error_type"].as_str().unwrap().to_owned();
        assert_eq!(r.cache_control(), Some("no-store"), "{error_type}");
        assert!(r.www_authenticate().is_some(), "{error_type}");
        let text = r.text();
        for secret in [&token, &refresh, &tampered, &SECRET.to_owned()] {
            assert!(!text.contains(secret.as_str()), "{error_type} echoes input");
        }
        seen.insert(error_type);
    }
    for expected in [
        "TokenInvalidSignatureError",
        "AccessTokenRequiredError",
        "InvalidAuthorizationHeaderError",
        "MissingTokenError",
        "RevokedTokenError",
        "FreshTokenRequiredError",
        "MissingCSRFTokenError",
        "CSRFError",
        "InsufficientScopeError",
    ] {
        assert!(
            seen.contains(expected),
            "{expected} not exercised: {seen:?}"
        );
    }
}
