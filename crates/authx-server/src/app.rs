//! The HTTP service: the seed's endpoints with the seed's contract, plus
//! sessions, operations endpoints and API docs.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authx::axum::{
    AccessToken, AuthCookies, AuthRejection, CookieOnly, HeaderOnly, RotatedSession,
};
use authx::sessions::{ClientInfo, Sessions};
use authx::store::{Family, TokenStore};
use authx::{
    AuthX, Error, ErrorKind, FindOptions, Malformed, TokenLocation, TokenOptions, TokenType,
    VerifyOptions,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::layers::{ObserveLayer, RequestChecksLayer};
use crate::metrics::Metrics;
use crate::ratelimit::LoginLimiter;
use crate::users::Users;

/// Everything a handler needs, behind one `Arc`: extracting the state
/// is one reference-count increment per request, not one per field.
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The shared parts of [`AppState`].
pub(crate) struct AppInner {
    pub(crate) auth: AuthX,
    pub(crate) sessions: Sessions,
    pub(crate) users: Users,
    pub(crate) limiter: LoginLimiter,
    pub(crate) metrics: Metrics,
    pub(crate) trust_forwarded_for: bool,
    /// How long a request body may take to arrive.
    pub(crate) body_read_timeout: Duration,
    /// Password hashes at once: each argon2 run holds its memory cost
    /// (19 MiB by default), so a login flood must queue, not exhaust memory.
    pub(crate) hashing: Arc<tokio::sync::Semaphore>,
}

impl FromRef<AppState> for AuthX {
    fn from_ref(state: &AppState) -> AuthX {
        state.auth.clone()
    }
}

impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Sessions {
        state.sessions.clone()
    }
}

/// Limits and browser settings of the router.
#[derive(Debug, Clone)]
pub(crate) struct HttpLimits {
    pub(crate) max_body_bytes: usize,
    pub(crate) max_header_bytes: usize,
    pub(crate) cors_origins: Vec<HeaderValue>,
}

/// The seed's error shape: every auth failure on its endpoints is a 401
/// `{"detail": ...}`; a missing scope stays 403 and an unreachable store
/// 503 (failing closed is not "unauthorized").
pub(crate) fn error_body(e: &Error) -> (StatusCode, Value) {
    (refusal_status(e), json!({ "detail": e.message() }))
}

/// The status of a refusal: 401 for every auth failure (AuthX's 400s
/// included), as in the seed; others (403, 503) as AuthX has them.
fn refusal_status(e: &Error) -> StatusCode {
    match e.status() {
        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => StatusCode::UNAUTHORIZED,
        s => s,
    }
}

pub(crate) fn detail(status: StatusCode, msg: &str) -> Response {
    let mut res = (status, Json(json!({ "detail": msg }))).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The `detail` the seed answers for a refused credential: `str(e)` of the
/// exception AuthX (or PyJWT under it) raises, for the failures the seed
/// can have; this server's own (revocation, reuse, duplicates, store) keep
/// their messages. `kind` is the token the endpoint takes.
fn seed_detail(e: &Error, kind: TokenType, auth: &AuthX) -> Cow<'static, str> {
    let c = auth.config();
    match e.kind() {
        ErrorKind::MissingToken => match kind {
            TokenType::Access => {
                format!("Missing '{}' in '{}' header.", c.header_type, c.header_name).into()
            }
            TokenType::Refresh => format!("Missing cookie '{}'.", c.refresh_cookie_name).into(),
        },
        ErrorKind::MissingCsrfToken => format!(
            "Missing CSRF token. Expected in '{}' header. Ensure you're using \
             'set_access_cookies'/'set_refresh_cookies' to set cookies (which also sets the \
             CSRF cookie), then include the CSRF token from that cookie in your request \
             header. To disable CSRF protection, set JWT_COOKIE_CSRF_PROTECT=False.",
            match kind {
                TokenType::Access => &c.access_csrf_header_name,
                TokenType::Refresh => &c.refresh_csrf_header_name,
            }
        )
        .into(),
        ErrorKind::CsrfMismatch => "CSRF token mismatch".into(),
        ErrorKind::AccessTokenRequired => {
            "'access' token required, 'refresh' token received".into()
        }
        ErrorKind::RefreshTokenRequired => {
            "'refresh' token required, 'access' token received".into()
        }
        // The seed reads whatever follows the header's scheme as the token.
        ErrorKind::MalformedAuthorizationHeader | ErrorKind::Malformed(Malformed::SegmentCount) => {
            "Invalid token: Not enough segments".into()
        }
        ErrorKind::ImmatureToken => "Invalid token: The token is not yet valid (nbf)".into(),
        ErrorKind::IssuedInFuture => "Invalid token: The token is not yet valid (iat)".into(),
        ErrorKind::Malformed(_)
        | ErrorKind::ForbiddenHeader(_)
        | ErrorKind::InvalidClaim(_)
        | ErrorKind::MissingClaim(_)
        | ErrorKind::AlgorithmNotAllowed
        | ErrorKind::UnknownKeyId => e
            .message()
            .replacen("Invalid Token", "Invalid token", 1)
            .into(),
        _ => e.message(),
    }
}

/// An endpoint's refusal of its credential, counted as [`reject`] counts
/// it, answered with the seed's `detail` (see [`seed_detail`]) and AuthX's
/// challenge header.
fn reject_as(state: &AppState, e: Error, kind: TokenType, request: &Parts) -> Response {
    count_refusal(state, &e, Some(request));
    let mut res = detail(refusal_status(&e), &seed_detail(&e, kind, &state.auth));
    if let Some(challenge) = e.www_authenticate() {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    res
}

fn reject(state: &AppState, e: Error) -> Response {
    count_refusal(state, &e, None);
    AuthRejection::new(&state.auth, e).into_response()
}

/// Counts (and, for a replay or a store outage, logs) a refusal; `request`
/// (its head) adds who and where to the log line of a replayed refresh
/// token.
fn count_refusal(state: &AppState, e: &Error, request: Option<&Parts>) {
    state
        .metrics
        .auth_failures
        .with_label_values(&[e.error_type()])
        .inc();
    match e.kind() {
        ErrorKind::TokenReuseDetected => {
            state.metrics.reuse_detections.inc();
            state
                .metrics
                .revocations
                .with_label_values(&["reuse"])
                .inc();
            log_reuse(state, request);
        }
        ErrorKind::StoreUnavailable(why) => log_store_unavailable(why),
        _ => {}
    }
}

/// The security event of a replayed refresh token, with its subject and
/// session (read again from the cookie, whose signature was verified
/// before the replay was found) and the client's address; never the token.
fn log_reuse(state: &AppState, request: Option<&Parts>) {
    let cookie_only = FindOptions::new().locations(&[TokenLocation::Cookies]);
    let payload = request.and_then(|parts| {
        let found = state
            .auth
            .get_token_from_request(parts, TokenType::Refresh, cookie_only)
            .ok()?;
        state.auth.decode_token(&found.token).ok()
    });
    let ip = request.map(|parts| {
        client_ip(
            state,
            &parts.headers,
            parts.extensions.get::<ConnectInfo<SocketAddr>>(),
        )
    });
    tracing::warn!(
        event = "refresh_reuse_detected",
        user = payload.as_ref().map(|p| p.sub.as_str()),
        session = payload.as_ref().and_then(|p| p.session_id()),
        ip = ip.as_deref(),
        "a rotated refresh token was replayed; session revoked"
    );
}

/// Logs that the token store cannot be reached, at most once a second:
/// during an outage every request would otherwise log it. governor's
/// limiter, as for logins: monotonic, so a wall-clock step cannot silence
/// it.
fn log_store_unavailable(why: &str) {
    use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
    static LIMIT: std::sync::LazyLock<DefaultDirectRateLimiter> = std::sync::LazyLock::new(|| {
        RateLimiter::direct(Quota::per_second(std::num::NonZeroU32::MIN))
    });
    if LIMIT.check().is_ok() {
        tracing::warn!(event = "store_unavailable", reason = %why, "token store unavailable; answering 503");
    }
}

/// An extractor's outcome, its refusal counted (and, for a replayed
/// refresh token or an unreachable store, logged) by [`count_refusal`] and
/// answered with the seed's `detail`: a handler taking
/// `Counted<AccessToken<HeaderOnly>>` runs only for a valid token, and
/// every refusal is in the metrics.
pub(crate) struct Counted<E>(pub(crate) E);

/// The kind of token a credential extractor takes.
pub(crate) trait Credential {
    const KIND: TokenType;
}

impl<L, T> Credential for AccessToken<L, T> {
    const KIND: TokenType = TokenType::Access;
}

impl<L> Credential for RotatedSession<L> {
    const KIND: TokenType = TokenType::Refresh;
}

impl<E> FromRequestParts<AppState> for Counted<E>
where
    E: FromRequestParts<AppState, Rejection = AuthRejection> + Credential + Send,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        E::from_request_parts(parts, state)
            .await
            .map(Counted)
            .map_err(|r| reject_as(state, r.into_error(), E::KIND, parts))
    }
}

fn client_ip(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<&ConnectInfo<SocketAddr>>,
) -> String {
    if state.trust_forwarded_for
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return first.to_owned();
    }
    connect.map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

// Serialize: the tests compare `string_object` with serde_json.
#[cfg_attr(test, derive(Serialize))]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        string_object(&[
            ("access_token", Some(&self.access_token)),
            ("token_type", Some(self.token_type)),
        ])
    }
}

/// A JSON object whose values are strings or `null`, as serde_json would
/// write it (same bytes), for the bodies of the seed's hot endpoints. The
/// keys are constants without anything JSON escapes. A value that holds
/// nothing to escape (no `"`, `\` or control character: tokens, and nearly
/// every name) is copied after one branch-free check; any other goes
/// through serde_json. serde_json's own string writer looks every byte up
/// in its escape table, which cost more than the rest of building these
/// small bodies.
fn string_object(fields: &[(&'static str, Option<&str>)]) -> Response {
    let len: usize = fields
        .iter()
        .map(|(k, v)| k.len() + v.map_or(4, str::len) + 6)
        .sum();
    let mut body = Vec::with_capacity(len + 2);
    body.push(b'{');
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.push(b'"');
        body.extend_from_slice(key.as_bytes());
        body.extend_from_slice(b"\":");
        match value {
            None => body.extend_from_slice(b"null"),
            Some(v) if needs_no_escape(v) => {
                body.push(b'"');
                body.extend_from_slice(v.as_bytes());
                body.push(b'"');
            }
            Some(v) => {
                if serde_json::to_writer(&mut body, v).is_err() {
                    // Writing a `str` into a `Vec` cannot fail; should it,
                    // the field is still valid JSON.
                    body.extend_from_slice(b"null");
                }
            }
        }
    }
    body.push(b'}');
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Whether JSON writes `s` between quotes as it is (RFC 8259 §7).
fn needs_no_escape(s: &str) -> bool {
    s.bytes()
        .fold(true, |ok, b| ok & (b != b'"') & (b != b'\\') & (b >= 0x20))
}

/// FastAPI's 422 shape for a body that does not validate.
fn unprocessable(rejection: &JsonRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
    }
    let (kind, msg) = match rejection {
        JsonRejection::MissingJsonContentType(_) => (
            "model_attributes_type",
            "Expected a JSON body (Content-Type: application/json)",
        ),
        JsonRejection::JsonSyntaxError(_) => ("json_invalid", "JSON decode error"),
        JsonRejection::JsonDataError(_) => {
            ("missing", "username and password are required strings")
        }
        _ => ("value_error", "Invalid request body"),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(ValidationErrors::body(kind, msg)),
    )
        .into_response()
}

/// FastAPI's 422 body, `{"detail": [{"type", "loc", "msg"}]}`, with its
/// key order.
#[derive(Serialize)]
struct ValidationErrors {
    detail: [ValidationError; 1],
}

#[derive(Serialize)]
struct ValidationError {
    #[serde(rename = "type")]
    kind: &'static str,
    loc: [&'static str; 1],
    msg: &'static str,
}

impl ValidationErrors {
    fn body(kind: &'static str, msg: &'static str) -> Self {
        Self {
            detail: [ValidationError {
                kind,
                loc: ["body"],
                msg,
            }],
        }
    }
}

async fn login(State(state): State<AppState>, headers: HeaderMap, request: Request) -> Response {
    let connect = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .cloned();
    // An object, as FastAPI's model requires: serde would also accept a
    // JSON array for a struct.
    let body = <Json<serde_json::Map<String, Value>> as axum::extract::FromRequest<AppState>>::from_request(
        request, &state,
    );
    // A deadline for the whole body, not between its bytes: a client
    // trickling a byte at a time would hold the connection for hours.
    let Ok(body) = tokio::time::timeout(state.body_read_timeout, body).await else {
        let mut res = detail(
            StatusCode::REQUEST_TIMEOUT,
            "Request body not received in time",
        );
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    };
    let Json(object) = match body {
        Ok(b) => b,
        Err(rejection) => return unprocessable(&rejection),
    };
    let Ok(data) = serde_json::from_value::<LoginRequest>(Value::Object(object)) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ValidationErrors::body(
                "missing",
                "username and password are required strings",
            )),
        )
            .into_response();
    };
    let ip = client_ip(&state, &headers, connect.as_ref());
    if let Err(wait) = state.limiter.check(&ip, &data.username) {
        state
            .metrics
            .logins
            .with_label_values(&["rate_limited"])
            .inc();
        tracing::warn!(event = "login_rate_limited", %ip, "login rate limit reached");
        let secs = wait.as_secs().max(1);
        let mut res = detail(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts; retry later",
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return res;
    }
    let users = state.users.clone();
    let (username, password) = (data.username.clone(), data.password);
    // argon2 is CPU-bound: keep it off the async workers.
    let Ok(_permit) = state.hashing.clone().acquire_owned().await else {
        return detail(StatusCode::SERVICE_UNAVAILABLE, "Login unavailable");
    };
    let verified = tokio::task::spawn_blocking(move || users.verify(&username, &password)).await;
    let user = match verified {
        Ok(Ok(Some(user))) => user,
        Ok(Ok(None)) => {
            state.metrics.logins.with_label_values(&["failure"]).inc();
            tracing::info!(event = "login_failure", %ip, "invalid username or password");
            return detail(StatusCode::UNAUTHORIZED, "Invalid username or password");
        }
        Ok(Err(e)) => {
            tracing::error!(event = "login_error", error = %e, "user database error");
            return detail(StatusCode::SERVICE_UNAVAILABLE, "User database unavailable");
        }
        Err(_) => return detail(StatusCode::SERVICE_UNAVAILABLE, "Login unavailable"),
    };
    let client = ClientInfo {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect()),
        ip: Some(ip.clone()),
    };
    let mut options = TokenOptions::new().fresh(true);
    if let Some(email) = &user.email {
        options = match options.claim("email", email.as_str()) {
            Ok(o) => o,
            Err(e) => return reject(&state, e),
        };
    }
    let issued = match state.sessions.login(&user.username, client, &options).await {
        Ok(t) => t,
        Err(e) => return reject(&state, e),
    };
    let cookies =
        match AuthCookies::new(&state.auth).set_from_pair(TokenType::Refresh, &issued.pair) {
            Ok(c) => c,
            Err(e) => return reject(&state, e),
        };
    state.metrics.logins.with_label_values(&["success"]).inc();
    tracing::info!(event = "login_success", user = %user.username, session = %issued.session_id, %ip, "login");
    (
        cookies,
        TokenResponse {
            access_token: issued.pair.access_token,
            token_type: "bearer",
        },
    )
        .into_response()
}

/// Rotates the refresh token: new refresh and CSRF cookies every time.
/// The refresh cookie is verified (signature, type, CSRF) and then rotated:
/// the rotation is the store check, done once and atomically, so the
/// revocation hook's separate session lookup is skipped here.
async fn refresh(
    State(state): State<AppState>,
    Counted(rotated): Counted<RotatedSession<CookieOnly>>,
) -> Response {
    // Verified (signature, type, CSRF) and rotated in one step: the store
    // is asked once, by the rotation.
    let (payload, issued) = (rotated.presented, rotated.tokens);
    let cookies =
        match AuthCookies::new(&state.auth).set_from_pair(TokenType::Refresh, &issued.pair) {
            Ok(c) => c,
            Err(e) => return reject(&state, e),
        };
    state.metrics.refreshes.inc();
    tracing::info!(event = "refresh", user = %payload.sub, session = %issued.session_id, grace = issued.grace, "refresh");
    (
        cookies,
        TokenResponse {
            access_token: issued.pair.access_token,
            token_type: "bearer",
        },
    )
        .into_response()
}

// Serialize: the tests compare `string_object` with serde_json.
#[cfg_attr(test, derive(Serialize))]
struct ProtectedResponse<'a> {
    message: &'static str,
    username: &'a str,
    email: Option<&'a str>,
    token_location: TokenLocation,
}

impl IntoResponse for ProtectedResponse<'_> {
    fn into_response(self) -> Response {
        string_object(&[
            ("message", Some(self.message)),
            ("username", Some(self.username)),
            ("email", self.email),
            ("token_location", Some(self.token_location.as_str())),
        ])
    }
}

async fn protected(Counted(token): Counted<AccessToken<HeaderOnly>>) -> Response {
    ProtectedResponse {
        message: "Access granted",
        username: &token.payload.sub,
        email: token.payload.extra.get("email").and_then(Value::as_str),
        token_location: token.location,
    }
    .into_response()
}

// Serialize: the tests compare `string_object` with serde_json.
#[cfg_attr(test, derive(Serialize))]
struct ActionResponse<'a> {
    message: &'static str,
    username: &'a str,
}

impl IntoResponse for ActionResponse<'_> {
    fn into_response(self) -> Response {
        string_object(&[
            ("message", Some(self.message)),
            ("username", Some(self.username)),
        ])
    }
}

async fn protected_action(Counted(token): Counted<AccessToken<HeaderOnly>>) -> Response {
    ActionResponse {
        message: "Action performed successfully",
        username: &token.payload.sub,
    }
    .into_response()
}

/// Clears the cookies and ends the session server-side: the refresh
/// cookie's family (only with its CSRF header: the browser sends the cookie
/// on any same-site POST, so without the check any page on a sibling origin
/// could end the session), and the access token of the Authorization
/// header when one is sent. Invalid or absent tokens still get their
/// cookies cleared, as in the seed.
async fn logout(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let auth = &state.auth;
    let cookie_only = FindOptions::new().locations(&[TokenLocation::Cookies]);
    let refresh = match auth.get_token_from_request(&parts, TokenType::Refresh, cookie_only) {
        Err(_) => None,
        Ok(rt) => match auth.verify_token(&rt, VerifyOptions::default()) {
            Ok(p) => Some(p),
            Err(e) => {
                // A refresh cookie that does not verify (most often: sent
                // without its CSRF header) ends no session; say so, since
                // the answer is still the seed's 200.
                count_refusal(&state, &e, None);
                tracing::info!(
                    event = "logout_not_revoked",
                    reason = e.error_type(),
                    "logout: the refresh cookie did not verify; its session stays"
                );
                None
            }
        },
    };
    let header_only = FindOptions::new().locations(&[TokenLocation::Headers]);
    let access = auth
        .get_token_from_request(&parts, TokenType::Access, header_only)
        .ok()
        .and_then(|rt| auth.decode_token(&rt.token).ok())
        .filter(|p| p.token_type == TokenType::Access);
    let cookies = match AuthCookies::new(auth).unset_refresh() {
        Ok(c) => c,
        Err(e) => return reject(&state, e),
    };
    if let Err(e) = state
        .sessions
        .logout(refresh.as_ref(), access.as_ref())
        .await
    {
        // Fail closed, but still clear the browser's cookies.
        let mut res = reject(&state, e);
        let cleared = (cookies, ()).into_response();
        for v in cleared.headers().get_all(header::SET_COOKIE) {
            res.headers_mut().append(header::SET_COOKIE, v.clone());
        }
        return res;
    }
    if let Some(p) = refresh.as_ref().or(access.as_ref()) {
        state
            .metrics
            .revocations
            .with_label_values(&["logout"])
            .inc();
        tracing::info!(event = "logout", user = %p.sub, "logout");
    }
    (
        cookies,
        Json(json!({ "message": "Successfully logged out" })),
    )
        .into_response()
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    current: bool,
    user_agent: Option<String>,
    ip: Option<String>,
    created_ms: i64,
    last_used_ms: i64,
    expires_ms: i64,
}

fn view(f: Family, current: Option<&str>) -> SessionView {
    SessionView {
        current: current == Some(f.id.as_str()),
        id: f.id,
        user_agent: f.user_agent,
        ip: f.ip,
        created_ms: f.created_ms,
        last_used_ms: f.last_used_ms,
        expires_ms: f.expires_ms,
    }
}

async fn list_sessions(
    State(state): State<AppState>,
    Counted(token): Counted<AccessToken<HeaderOnly>>,
) -> Response {
    let current = token.payload.session_id();
    match state.sessions.list(&token.payload.sub).await {
        Ok(list) => {
            let sessions: Vec<SessionView> = list.into_iter().map(|f| view(f, current)).collect();
            (no_store(), Json(json!({ "sessions": sessions }))).into_response()
        }
        Err(e) => reject(&state, e),
    }
}

async fn end_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Counted(token): Counted<AccessToken<HeaderOnly>>,
) -> Response {
    match state.sessions.end(&token.payload.sub, &id).await {
        Ok(true) => {
            state
                .metrics
                .revocations
                .with_label_values(&["session_end"])
                .inc();
            tracing::info!(event = "session_end", user = %token.payload.sub, session = %id, "session ended");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => detail(StatusCode::NOT_FOUND, "Session not found"),
        Err(e) => reject(&state, e),
    }
}

async fn logout_all(
    State(state): State<AppState>,
    Counted(token): Counted<AccessToken<HeaderOnly>>,
) -> Response {
    let ended = match state.sessions.logout_all(&token.payload.sub).await {
        Ok(n) => n,
        Err(e) => return reject(&state, e),
    };
    state
        .metrics
        .revocations
        .with_label_values(&["logout_all"])
        .inc();
    tracing::info!(event = "logout_all", user = %token.payload.sub, sessions = ended, "logged out everywhere");
    match AuthCookies::new(&state.auth).unset_refresh() {
        Ok(cookies) => (
            cookies,
            Json(json!({ "message": "Logged out of all sessions", "sessions_ended": ended })),
        )
            .into_response(),
        Err(e) => reject(&state, e),
    }
}

fn no_store() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

/// The seed's root document, byte for byte (key order included), as
/// FastAPI renders it: compact separators, keys in source order.
const ROOT_DOCUMENT: &str = r#"{"message":"AuthX Dual Token Location Example","description":"Access tokens in headers, refresh tokens in cookies","flow":{"1_login":"POST /login - Returns access_token in body, sets refresh_token cookie","2_api_call":"GET /protected - Send access_token in Authorization header","3_refresh":"POST /refresh - Refresh token sent via cookie, returns new access_token","4_logout":"POST /logout - Clears refresh_token cookie"},"example_requests":{"login":"curl -X POST -H \"Content-Type: application/json\" -d '{\"username\":\"user1\",\"password\":\"password1\"}' http://localhost:8000/login","protected":"curl -H \"Authorization: Bearer <access_token>\" http://localhost:8000/protected","refresh":"curl -X POST -b \"refresh_token_cookie=<token>\" -H \"X-CSRF-TOKEN: <csrf_token>\" http://localhost:8000/refresh","logout":"curl -X POST http://localhost:8000/logout"}}"#;

async fn read_root() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        ROOT_DOCUMENT,
    )
        .into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let store: &Arc<dyn TokenStore> = state.sessions.store();
    let probe =
        tokio::time::timeout(Duration::from_secs(3), store.family("readiness-probe", 0)).await;
    match probe {
        Ok(Ok(_)) => Json(json!({ "status": "ready" })).into_response(),
        _ => detail(StatusCode::SERVICE_UNAVAILABLE, "Token store unavailable"),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.auth.jwks())
}

async fn openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

async fn docs() -> Response {
    let mut res = Html(crate::openapi::DOCS_HTML).into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"),
    );
    res
}

async fn docs_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        crate::openapi::DOCS_JS,
    )
        .into_response()
}

async fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

async fn method_not_allowed() -> Response {
    detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

pub(crate) fn router(state: AppState, limits: &HttpLimits) -> Router {
    let mut app = Router::new()
        .route("/", get(read_root))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/protected", get(protected))
        .route("/protected-action", post(protected_action))
        .route("/logout", post(logout))
        .route("/logout-all", post(logout_all))
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}", delete(end_session))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
        .route("/docs/docs.js", get(docs_js))
        .merge(crate::web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(ObserveLayer {
            latency: state.metrics.latency.clone(),
        })
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(RequestChecksLayer {
            limit: limits.max_header_bytes,
            max_body: limits.max_body_bytes,
        })
        .with_state(state);
    if !limits.cors_origins.is_empty() {
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(limits.cors_origins.clone()))
                .allow_credentials(true)
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::HeaderName::from_static("x-csrf-token"),
                ])
                .max_age(Duration::from_secs(600)),
        );
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(res: Response) -> (Option<HeaderValue>, String) {
        let ct = res.headers().get(header::CONTENT_TYPE).cloned();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (ct, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn token_response_is_what_serde_json_writes() {
        for token in [
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLV8",
            "not a token: ü, ~ and \u{7f}",
            "a\"b\\c\n\u{1}",
        ] {
            let (ct, body) = body_of(
                TokenResponse {
                    access_token: token.to_owned(),
                    token_type: "bearer",
                }
                .into_response(),
            )
            .await;
            assert_eq!(ct, Some(HeaderValue::from_static("application/json")));
            let expected = serde_json::to_string(&TokenResponse {
                access_token: token.to_owned(),
                token_type: "bearer",
            })
            .unwrap_or_default();
            assert_eq!(body, expected, "{token:?}");
        }
    }

    #[tokio::test]
    async fn token_response_escapes_what_needs_escaping() {
        // Not a token we would mint, but never invalid JSON either.
        let odd = "a\"b\\c";
        let (_, body) = body_of(
            TokenResponse {
                access_token: odd.to_owned(),
                token_type: "bearer",
            }
            .into_response(),
        )
        .await;
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(v["access_token"], odd);
        assert_eq!(v["token_type"], "bearer");
    }

    #[tokio::test]
    async fn protected_bodies_are_what_serde_json_writes() {
        let names = [
            "user1",
            "",
            "ü~\u{7f} 名前",
            "quote\" backslash\\ tab\t nul\u{0} del\u{1f}",
        ];
        for name in names {
            for email in [None, Some("user1@example.com"), Some(name)] {
                let r = ProtectedResponse {
                    message: "Access granted",
                    username: name,
                    email,
                    token_location: TokenLocation::Headers,
                };
                let expected = serde_json::to_string(&r).unwrap_or_default();
                let (ct, body) = body_of(r.into_response()).await;
                assert_eq!(ct, Some(HeaderValue::from_static("application/json")));
                assert_eq!(body, expected, "{name:?} {email:?}");
            }
            let r = ActionResponse {
                message: "Action performed successfully",
                username: name,
            };
            let expected = serde_json::to_string(&r).unwrap_or_default();
            let (_, body) = body_of(r.into_response()).await;
            assert_eq!(body, expected, "{name:?}");
        }
    }

    #[test]
    fn only_quote_backslash_and_control_characters_need_escaping() {
        assert!(needs_no_escape("abc.DEF-_~ ü 名 \u{7f}"));
        for c in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
            assert!(!needs_no_escape(&format!("a{c}b")), "{c:?}");
        }
    }

    #[test]
    fn root_document_is_the_seed_json() {
        let v: Value = serde_json::from_str(ROOT_DOCUMENT).unwrap_or_default();
        assert_eq!(v["message"], "AuthX Dual Token Location Example");
        assert_eq!(v["flow"].as_object().map(serde_json::Map::len), Some(4));
    }
}
