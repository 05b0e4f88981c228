//! A copy of `examples/dual_token_location.rs` from its first `use` to the
//! end of `fn app`, with `auth` and `app` made `pub(crate)`: the example
//! keeps them private, so `seed_flow.rs` cannot call `example::app`.
//! `seed_flow::mirror_is_a_verbatim_copy_of_the_example` fails when the two
//! drift apart. Delete this file once the example exports `app`.

use authx::axum::{AccessToken, AuthCookies, CookieOnly, HeaderOnly, RefreshToken};
use authx::{AuthX, AuthXConfig, TokenLocation};
use axum::extract::State;
use axum::http::StatusCode;
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
    (StatusCode::UNAUTHORIZED, Json(json!({ "detail": detail }))).into_response()
}

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
) -> Result<Json<TokenResponse>, Response> {
    let access_token = auth
        .create_access_token(&token.sub)
        .map_err(|e| unauthorized(&e.message()))?;
    Ok(Json(TokenResponse {
        access_token,
        token_type: "bearer",
    }))
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

/// The seed's configuration. The secret comes from `JWT_SECRET_KEY`; without
/// one, a random secret is made for this run.
pub(crate) fn auth() -> Result<AuthX, authx::Error> {
    let secret = std::env::var("JWT_SECRET_KEY").unwrap_or_else(|_| {
        eprintln!("JWT_SECRET_KEY is not set: using a random secret for this run");
        authx::keys::generate_secret()
    });
    let config = AuthXConfig {
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
    };
    // The seed's handlers answer every auth failure with 401 {"detail": ...}.
    AuthX::builder(config)
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
