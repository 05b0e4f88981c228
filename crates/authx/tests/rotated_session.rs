//! `RotatedSession`: the refresh token verified and rotated in one step,
//! with one store call per refresh, and every refusal the rotation owes.

#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use authx::axum::{CookieOnly, RefreshToken, RotatedSession};
use authx::sessions::{ClientInfo, SessionTokens, Sessions};
use authx::store::{Family, MemoryStore, Rotation, TokenStore};
use authx::{AuthX, AuthXConfig, TokenLocation, TokenOptions, TokenPair};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use http::{Request, StatusCode};
use tower::ServiceExt;

const SECRET: &str = "rotated-session-secret-0123456789abcdefgh";

/// A memory store that counts every call.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStore,
    calls: AtomicUsize,
}

impl Counting {
    fn hit(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl TokenStore for Counting {
    async fn revoke_jti(&self, jti: &str, until_ms: i64) -> authx::Result<()> {
        self.hit();
        self.inner.revoke_jti(jti, until_ms).await
    }
    async fn is_jti_revoked(&self, jti: &str, now_ms: i64) -> authx::Result<bool> {
        self.hit();
        self.inner.is_jti_revoked(jti, now_ms).await
    }
    async fn revoke_subject_before(
        &self,
        sub: &str,
        at_ms: i64,
        until_ms: i64,
    ) -> authx::Result<()> {
        self.hit();
        self.inner.revoke_subject_before(sub, at_ms, until_ms).await
    }
    async fn subject_cutoff(&self, sub: &str, now_ms: i64) -> authx::Result<Option<i64>> {
        self.hit();
        self.inner.subject_cutoff(sub, now_ms).await
    }
    async fn start_family(&self, family: &Family) -> authx::Result<()> {
        self.hit();
        self.inner.start_family(family).await
    }
    async fn rotate(
        &self,
        family_id: &str,
        presented_jti: &str,
        new_jti: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> authx::Result<Rotation> {
        self.hit();
        self.inner
            .rotate(family_id, presented_jti, new_jti, now_ms, grace_ms)
            .await
    }
    async fn family(&self, family_id: &str, now_ms: i64) -> authx::Result<Option<Family>> {
        self.hit();
        self.inner.family(family_id, now_ms).await
    }
    async fn revoke_family(&self, family_id: &str) -> authx::Result<bool> {
        self.hit();
        self.inner.revoke_family(family_id).await
    }
    async fn families(&self, sub: &str, now_ms: i64) -> authx::Result<Vec<Family>> {
        self.hit();
        self.inner.families(sub, now_ms).await
    }
    async fn revoke_families(&self, sub: &str, now_ms: i64) -> authx::Result<usize> {
        self.hit();
        self.inner.revoke_families(sub, now_ms).await
    }
    async fn purge_expired(&self, now_ms: i64) -> authx::Result<()> {
        self.hit();
        self.inner.purge_expired(now_ms).await
    }
}

fn setup(grace: Duration) -> (Sessions, Arc<Counting>) {
    let store = Arc::new(Counting::default());
    let sessions = Sessions::install(
        AuthX::builder(AuthXConfig {
            secret_key: Some(SECRET.into()),
            token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
            ..AuthXConfig::default()
        }),
        store.clone(),
    )
    .unwrap()
    .with_grace(grace);
    (sessions, store)
}

async fn rotated(rotated: RotatedSession<CookieOnly>) -> impl IntoResponse {
    rotated.tokens.pair.refresh_token
}

async fn two_step(
    State(sessions): State<Sessions>,
    token: RefreshToken<CookieOnly>,
) -> Result<String, authx::Error> {
    Ok(sessions.refresh(&token.payload).await?.pair.refresh_token)
}

fn app(sessions: Sessions) -> Router {
    Router::new()
        .route("/refresh", post(rotated))
        .route("/two-step", post(two_step))
        .with_state(sessions)
}

async fn login(sessions: &Sessions) -> SessionTokens {
    sessions
        .login("u1", ClientInfo::default(), &TokenOptions::new())
        .await
        .unwrap()
}

fn csrf_of(sessions: &Sessions, refresh: &str) -> String {
    sessions
        .auth()
        .decode_token(refresh)
        .unwrap()
        .csrf
        .expect("csrf claim")
}

/// POSTs `path` with the refresh cookie and (optionally) its CSRF header;
/// returns the status and the body.
async fn post_refresh(
    sessions: &Sessions,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
) -> (StatusCode, String) {
    let mut req = Request::post(path).header("cookie", format!("refresh_token_cookie={cookie}"));
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    let res = app(sessions.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn refresh_ok(sessions: &Sessions, path: &str, token: &str) -> String {
    let csrf = csrf_of(sessions, token);
    let (status, body) = post_refresh(sessions, path, token, Some(&csrf)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn error_type(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON error body");
    v["error_type"]
        .as_str()
        .or_else(|| v["detail"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_owned())
}

#[tokio::test]
async fn a_refresh_rotates_with_one_store_call() {
    let (sessions, store) = setup(Duration::from_secs(10));
    let first = login(&sessions).await.pair.refresh_token;
    let before = store.calls.load(Ordering::SeqCst);
    let second = refresh_ok(&sessions, "/refresh", &first).await;
    assert_eq!(
        store.calls.load(Ordering::SeqCst) - before,
        1,
        "one store call"
    );
    assert_ne!(second, first);
    let payload = sessions.auth().decode_token(&second).unwrap();
    assert_eq!(payload.sub, "u1");

    // The two-step pattern asks the store twice for the same refresh.
    let before = store.calls.load(Ordering::SeqCst);
    let third = refresh_ok(&sessions, "/two-step", &second).await;
    assert_eq!(store.calls.load(Ordering::SeqCst) - before, 2);
    // And the chain goes on through the extractor.
    refresh_ok(&sessions, "/refresh", &third).await;
}

#[tokio::test]
async fn a_replay_after_the_grace_window_revokes_the_session() {
    let (sessions, _) = setup(Duration::ZERO);
    let first = login(&sessions).await.pair.refresh_token;
    let second = refresh_ok(&sessions, "/refresh", &first).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let csrf = csrf_of(&sessions, &first);
    let (status, body) = post_refresh(&sessions, "/refresh", &first, Some(&csrf)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_type(&body), "TokenReuseError");
    // The whole family is gone: the legitimate successor is refused too.
    let csrf = csrf_of(&sessions, &second);
    let (status, body) = post_refresh(&sessions, "/refresh", &second, Some(&csrf)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_type(&body), "RevokedTokenError");
}

#[tokio::test]
async fn a_replay_inside_the_grace_window_gets_the_same_successor() {
    let (sessions, _) = setup(Duration::from_secs(10));
    let first = login(&sessions).await.pair.refresh_token;
    let a = refresh_ok(&sessions, "/refresh", &first).await;
    let b = refresh_ok(&sessions, "/refresh", &first).await;
    let jti = |t: &str| sessions.auth().decode_token(t).unwrap().jti;
    assert_eq!(jti(&a), jti(&b), "both replies carry the successor's jti");
}

#[tokio::test]
async fn after_logout_the_refresh_token_is_refused() {
    let (sessions, _) = setup(Duration::from_secs(10));
    let pair: TokenPair = login(&sessions).await.pair;
    let refresh = sessions.auth().decode_token(&pair.refresh_token).unwrap();
    sessions.logout(Some(&refresh), None).await.unwrap();
    let csrf = csrf_of(&sessions, &pair.refresh_token);
    let (status, body) =
        post_refresh(&sessions, "/refresh", &pair.refresh_token, Some(&csrf)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_type(&body), "RevokedTokenError");
}

#[tokio::test]
async fn the_csrf_header_is_required_and_nothing_rotates_without_it() {
    let (sessions, store) = setup(Duration::from_secs(10));
    let first = login(&sessions).await.pair.refresh_token;
    let before = store.calls.load(Ordering::SeqCst);
    let (status, body) = post_refresh(&sessions, "/refresh", &first, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_type(&body), "MissingCSRFTokenError");
    let (status, body) = post_refresh(&sessions, "/refresh", &first, Some("wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_type(&body), "CSRFError");
    assert_eq!(
        store.calls.load(Ordering::SeqCst),
        before,
        "the store was not asked"
    );
    // The token still works with its CSRF value.
    refresh_ok(&sessions, "/refresh", &first).await;
}

#[tokio::test]
async fn an_access_token_in_the_refresh_cookie_is_refused() {
    let (sessions, _) = setup(Duration::from_secs(10));
    let access = login(&sessions).await.pair.access_token;
    let csrf = csrf_of(&sessions, &access);
    let (status, body) = post_refresh(&sessions, "/refresh", &access, Some(&csrf)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_type(&body), "RefreshTokenRequiredError");
}

#[tokio::test]
async fn a_missing_cookie_is_a_missing_token() {
    let (sessions, _) = setup(Duration::from_secs(10));
    let res = app(sessions)
        .oneshot(Request::post("/refresh").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        error_type(std::str::from_utf8(&body).unwrap()),
        "MissingTokenError"
    );
}
