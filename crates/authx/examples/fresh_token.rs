//! Fresh tokens: a password login issues a *fresh* access token, a refresh
//! issues a non-fresh one. Sensitive actions take `FreshAccessToken`, so a
//! token obtained by refreshing (for instance with a stolen refresh token)
//! cannot change the password: the user must type it again.
//!
//! Both tokens travel in the `Authorization` header here, as an API client
//! would send them.
//!
//! ```sh
//! cargo run -p authx --example fresh_token
//! LOGIN=$(curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d '{"username":"user1","password":"password1"}')
//! ACCESS=$(echo "$LOGIN" | jq -r .access_token); REFRESH=$(echo "$LOGIN" | jq -r .refresh_token)
//! curl -i -X POST localhost:8000/change-password -H "Authorization: Bearer $ACCESS"  # 200: fresh
//! ACCESS=$(curl -s -X POST localhost:8000/refresh -H "Authorization: Bearer $REFRESH" | jq -r .access_token)
//! curl -i localhost:8000/profile -H "Authorization: Bearer $ACCESS"                  # 200
//! curl -i -X POST localhost:8000/change-password -H "Authorization: Bearer $ACCESS"  # 401 FreshTokenRequiredError
//! ```

use authx::axum::{AccessToken, FreshAccessToken, HeaderOnly, RefreshToken};
use authx::{AuthX, AuthXConfig, TokenOptions};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

const USERS: [(&str, &str); 2] = [("user1", "password1"), ("user2", "password2")];

/// Responses carrying tokens must not be cached.
const NO_STORE: [(header::HeaderName, HeaderValue); 1] =
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];

/// The password was just checked: both tokens, the access token fresh.
async fn login(State(auth): State<AuthX>, Json(req): Json<Login>) -> Response {
    if !USERS.contains(&(req.username.as_str(), req.password.as_str())) {
        let body = json!({ "message": "Invalid username or password" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    match auth.create_token_pair(&req.username, &TokenOptions::new().fresh(true)) {
        Ok(pair) => (NO_STORE, Json(pair)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// No password here: the new access token is not fresh.
async fn refresh(State(auth): State<AuthX>, token: RefreshToken<HeaderOnly>) -> Response {
    match auth.create_access_token(&token.sub) {
        Ok(access_token) => {
            (NO_STORE, Json(json!({ "access_token": access_token }))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Any valid access token, fresh or not.
async fn profile(token: AccessToken<HeaderOnly>) -> Json<Value> {
    Json(json!({ "username": token.sub, "fresh": token.fresh }))
}

/// Only a fresh access token: a refreshed one gets 401 `FreshTokenRequiredError`.
async fn change_password(token: FreshAccessToken<HeaderOnly>) -> Json<Value> {
    Json(json!({ "message": "Password changed", "username": token.sub }))
}

fn app(auth: AuthX) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/profile", get(profile))
        .route("/change-password", post(change_password))
        .with_state(auth)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").map_or(Ok(8000), |p| p.parse())?;
    let secret = std::env::var("JWT_SECRET_KEY").unwrap_or_else(|_| {
        eprintln!("JWT_SECRET_KEY is not set: using a random secret for this run");
        authx::keys::generate_secret()
    });
    let auth = AuthX::new(AuthXConfig {
        secret_key: Some(secret.into()),
        ..AuthXConfig::default()
    })?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://localhost:{port}");
    axum::serve(listener, app(auth)).await?;
    Ok(())
}
