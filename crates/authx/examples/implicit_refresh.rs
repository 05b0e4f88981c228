//! Implicit refresh: the access token lives in an `HttpOnly` cookie and
//! `ImplicitRefreshLayer` re-mints it on the way out whenever less than
//! `implicit_refresh_deltatime` is left, so an active user stays signed in
//! and an idle one is signed out when the token expires. There is no
//! refresh token. Cookie-borne tokens need CSRF protection: a `POST` must
//! echo the `csrf_access_token` cookie in the `X-CSRF-TOKEN` header.
//!
//! Lifetimes are short to watch it happen: the token lives 2 minutes and is
//! renewed on any request made in its last 90 seconds.
//!
//! ```sh
//! cargo run -p authx --example implicit_refresh
//! curl -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d '{"username":"user1","password":"password1"}' -c jar.txt
//! sleep 31; curl -i localhost:8000/me -b jar.txt -c jar.txt   # Set-Cookie: a new access token
//! CSRF=$(awk '$6 == "csrf_access_token" {print $7}' jar.txt)
//! curl -i -X POST localhost:8000/notes -b jar.txt -H "X-CSRF-TOKEN: $CSRF" \
//!      -H 'Content-Type: application/json' -d '{"text":"hi"}'   # 200
//! curl -i -X POST localhost:8000/notes -b jar.txt \
//!      -H 'Content-Type: application/json' -d '{"text":"hi"}'   # 401 MissingCSRFTokenError
//! curl -X POST localhost:8000/logout -b jar.txt -c jar.txt
//! ```

use std::time::Duration;

use authx::axum::{AccessToken, AuthCookies, CookieOnly, ImplicitRefreshLayer};
use authx::{AuthX, AuthXConfig, TokenLocation, TokenOptions};
use axum::extract::State;
use axum::http::StatusCode;
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

#[derive(Deserialize)]
struct Note {
    text: String,
}

/// Sets the access cookie and its readable `csrf_access_token` cookie.
async fn login(State(auth): State<AuthX>, Json(req): Json<Login>) -> Response {
    if (req.username.as_str(), req.password.as_str()) != ("user1", "password1") {
        let body = json!({ "message": "Invalid username or password" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let cookies = auth
        .create_access_token_with(&req.username, &TokenOptions::new().fresh(true))
        .and_then(|token| AuthCookies::new(&auth).set_access(&token));
    match cookies {
        Ok(cookies) => (cookies, Json(json!({ "message": "Logged in" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET`: no CSRF check. The layer renews the cookie when it is due.
async fn me(State(auth): State<AuthX>, token: AccessToken<CookieOnly>) -> Json<Value> {
    let left = token.seconds_until_expiry(auth.clock().now_secs_f64());
    Json(json!({ "username": token.sub, "seconds_left": left.round() }))
}

/// `POST`: the extractor requires the CSRF header.
async fn notes(token: AccessToken<CookieOnly>, Json(note): Json<Note>) -> Json<Value> {
    Json(json!({ "saved": note.text, "by": token.sub }))
}

async fn logout(State(auth): State<AuthX>) -> Response {
    match AuthCookies::new(&auth).unset_access() {
        Ok(cookies) => (cookies, Json(json!({ "message": "Logged out" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

fn config(secret: String) -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(secret.into()),
        token_location: vec![TokenLocation::Cookies],
        cookie_secure: false, // http://localhost only; keep `true` behind HTTPS.
        access_token_expires: Duration::from_secs(120),
        implicit_refresh_deltatime: Duration::from_secs(90),
        ..AuthXConfig::default()
    }
}

fn app(auth: AuthX) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/notes", post(notes))
        .route("/logout", post(logout))
        .layer(ImplicitRefreshLayer::new(auth.clone()))
        .with_state(auth)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").map_or(Ok(8000), |p| p.parse())?;
    let secret = std::env::var("JWT_SECRET_KEY").unwrap_or_else(|_| {
        eprintln!("JWT_SECRET_KEY is not set: using a random secret for this run");
        authx::keys::generate_secret()
    });
    let auth = AuthX::new(config(secret))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://localhost:{port}");
    axum::serve(listener, app(auth)).await?;
    Ok(())
}
