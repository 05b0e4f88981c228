//! The seed's "dual token location" app: access token in the Authorization
//! header, refresh token in an HttpOnly cookie with CSRF protection.
//!
//! ```sh
//! JWT_SECRET_KEY=$(openssl rand -base64 48) cargo run -p authx --example dual_token_location
//! curl -X POST http://localhost:8000/login -H "Content-Type: application/json" \
//!      -d '{"username":"user1","password":"password1"}' -c cookies.txt
//! ```

use std::sync::Arc;

use authx::axum::{AccessToken, AuthCookies, CookieOnly, HeaderOnly, RefreshToken};
use authx::clock::{Clock, SystemClock};
use authx::config::Secret;
use authx::{AuthX, AuthXConfig, TokenLocation};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
}

// Sample user database (in a real app, you would use a database).
const USERS: [(&str, &str, &str); 2] = [
    ("user1", "password1", "user1@example.com"),
    ("user2", "password2", "user2@example.com"),
];

fn email(username: &str) -> Option<&'static str> {
    USERS
        .iter()
        .find(|(u, ..)| *u == username)
        .map(|(.., e)| *e)
}

fn unauthorized(detail: &str) -> Response {
    let challenge = [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))];
    (
        StatusCode::UNAUTHORIZED,
        challenge,
        Json(json!({ "detail": detail })),
    )
        .into_response()
}

/// Responses carrying tokens must not be cached.
const NO_STORE: [(header::HeaderName, HeaderValue); 1] =
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];

/// Access token in the body, refresh token in an HttpOnly cookie.
async fn login(
    State(auth): State<AuthX>,
    Json(data): Json<LoginRequest>,
) -> Result<Response, Response> {
    if !USERS
        .iter()
        .any(|(u, p, _)| *u == data.username && *p == data.password)
    {
        return Err(unauthorized("Invalid username or password"));
    }
    let access_token = auth
        .create_access_token(&data.username)
        .map_err(|e| unauthorized(&e.message()))?;
    let refresh_token = auth
        .create_refresh_token(&data.username)
        .map_err(|e| unauthorized(&e.message()))?;
    let cookies = AuthCookies::new(&auth)
        .set_refresh(&refresh_token)
        .map_err(|e| unauthorized(&e.message()))?;
    Ok((
        cookies,
        Json(TokenResponse {
            access_token,
            token_type: "bearer",
        }),
    )
        .into_response())
}

/// Refresh token from the cookie only (CSRF header required), new access token in the body.
async fn refresh(
    State(auth): State<AuthX>,
    token: RefreshToken<CookieOnly>,
) -> Result<impl IntoResponse, Response> {
    let access_token = auth
        .create_access_token(&token.sub)
        .map_err(|e| unauthorized(&e.message()))?;
    let body = TokenResponse {
        access_token,
        token_type: "bearer",
    };
    Ok((NO_STORE, Json(body)))
}

/// Access token from the Authorization header only; no CSRF for header tokens.
async fn protected(token: AccessToken<HeaderOnly>) -> Json<Value> {
    Json(json!({
        "message": "Access granted",
        "username": token.sub,
        "email": email(&token.sub),
        "token_location": token.location,
    }))
}

async fn protected_action(token: AccessToken<HeaderOnly>) -> Json<Value> {
    Json(json!({ "message": "Action performed successfully", "username": token.sub }))
}

async fn logout(State(auth): State<AuthX>) -> Result<impl IntoResponse, Response> {
    let cookies = AuthCookies::new(&auth)
        .unset_refresh()
        .map_err(|e| unauthorized(&e.message()))?;
    Ok((
        cookies,
        Json(json!({ "message": "Successfully logged out" })),
    ))
}

async fn read_root() -> Json<Value> {
    Json(json!({
        "message": "AuthX Dual Token Location Example",
        "description": "Access tokens in headers, refresh tokens in cookies",
        "flow": {
            "1_login": "POST /login - Returns access_token in body, sets refresh_token cookie",
            "2_api_call": "GET /protected - Send access_token in Authorization header",
            "3_refresh": "POST /refresh - Refresh token sent via cookie, returns new access_token",
            "4_logout": "POST /logout - Clears refresh_token cookie",
        },
        "example_requests": {
            "login": "curl -X POST -H \"Content-Type: application/json\" -d '{\"username\":\"user1\",\"password\":\"password1\"}' http://localhost:8000/login",
            "protected": "curl -H \"Authorization: Bearer <access_token>\" http://localhost:8000/protected",
            "refresh": "curl -X POST -b \"refresh_token_cookie=<token>\" -H \"X-CSRF-TOKEN: <csrf_token>\" http://localhost:8000/refresh",
            "logout": "curl -X POST http://localhost:8000/logout",
        },
    }))
}

/// The seed's configuration, with `secret`.
pub(crate) fn config(secret: impl Into<Secret>) -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(secret.into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        refresh_cookie_name: "refresh_token_cookie".into(),
        refresh_cookie_path: "/".into(),
        cookie_secure: false, // Set to true in production (requires HTTPS).
        cookie_http_only: true,
        cookie_csrf_protect: true,
        refresh_csrf_cookie_name: "csrf_refresh_token".into(),
        refresh_csrf_header_name: "X-CSRF-TOKEN".into(),
        ..AuthXConfig::default()
    }
}

/// The seed's handlers answer every auth failure with 401 {"detail": ...}.
pub(crate) fn build(config: AuthXConfig, clock: Arc<dyn Clock>) -> Result<AuthX, authx::Error> {
    AuthX::builder(config)
        .clock(clock)
        .error_body(|e| (StatusCode::UNAUTHORIZED, json!({ "detail": e.message() })))
        .build()
}

pub(crate) fn app(auth: AuthX) -> Router {
    Router::new()
        .route("/", get(read_root))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/protected", get(protected))
        .route("/protected-action", post(protected_action))
        .route("/logout", post(logout))
        .with_state(auth)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8000);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    println!("listening on http://localhost:{port}");
    // The secret comes from JWT_SECRET_KEY; without one, a random secret is made for this run.
    let secret = std::env::var("JWT_SECRET_KEY").unwrap_or_else(|_| {
        eprintln!("JWT_SECRET_KEY is not set: using a random secret for this run");
        authx::keys::generate_secret()
    });
    let auth = build(config(secret), Arc::new(SystemClock))?;
    axum::serve(listener, app(auth)).await?;
    Ok(())
}
