//! Refresh-token rotation with `Sessions` over a `MemoryStore`: each login
//! starts a session; each refresh retires the refresh token and issues a new
//! pair; replaying a retired token after the 10 s grace window revokes the
//! whole session (`TokenReuseError`). Logout ends the session server-side, so
//! its access tokens stop working at once. (`SqliteStore`, feature `sqlite`,
//! keeps sessions across restarts; `RedisStore`, feature `redis`, shares
//! them between instances.) Both tokens travel in the `Authorization` header.
//!
//! ```sh
//! cargo run -p authx --example rotation
//! LOGIN=$(curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d '{"username":"user1","password":"password1"}')
//! ACCESS=$(echo "$LOGIN" | jq -r .access_token); R1=$(echo "$LOGIN" | jq -r .refresh_token)
//! R2=$(curl -s -X POST localhost:8000/refresh -H "Authorization: Bearer $R1" | jq -r .refresh_token)
//! curl localhost:8000/sessions -H "Authorization: Bearer $ACCESS"
//! sleep 11; curl -i -X POST localhost:8000/refresh -H "Authorization: Bearer $R1"  # 401 TokenReuseError
//! curl -i -X POST localhost:8000/refresh -H "Authorization: Bearer $R2"            # 401: session revoked
//! curl -i localhost:8000/sessions -H "Authorization: Bearer $ACCESS"              # 401 too
//! # With a live session: POST /logout (this one), POST /logout-all (every one).
//! ```

use std::sync::Arc;

use authx::axum::{AccessToken, RotatedSession};
use authx::sessions::{ClientInfo, Sessions};
use authx::store::{MemoryStore, SESSION_CLAIM};
use authx::{AuthX, AuthXConfig, Error, TokenOptions};
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Clone)]
struct AppState {
    sessions: Sessions,
}

/// The extractors need the `AuthX` that consults the store.
impl FromRef<AppState> for AuthX {
    fn from_ref(state: &AppState) -> AuthX {
        state.sessions.auth().clone()
    }
}

/// `RotatedSession` needs the `Sessions`.
impl FromRef<AppState> for Sessions {
    fn from_ref(state: &AppState) -> Sessions {
        state.sessions.clone()
    }
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// Responses carrying tokens must not be cached.
const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

async fn login(State(s): State<AppState>, headers: HeaderMap, Json(req): Json<Login>) -> Response {
    if (req.username.as_str(), req.password.as_str()) != ("user1", "password1") {
        let body = json!({ "message": "Invalid username or password" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let client = ClientInfo {
        user_agent: user_agent.map(Into::into),
        ip: None,
    };
    let fresh = TokenOptions::new().fresh(true);
    match s.sessions.login(&req.username, client, &fresh).await {
        Ok(t) => (NO_STORE, Json(t.pair)).into_response(),
        Err(e) => e.into_response(), // 503 when the store is down
    }
}

/// Verifies and rotates in one step (one store call); a replayed retired
/// token revokes the session.
async fn refresh(rotated: RotatedSession) -> Response {
    (NO_STORE, Json(rotated.tokens.pair)).into_response()
}

/// Ends this session: the access token's `sid` names it.
async fn logout(State(s): State<AppState>, token: AccessToken) -> Result<StatusCode, Error> {
    s.sessions.logout(None, Some(&token.payload)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// "Log out everywhere": every session, and every token issued until now.
async fn logout_all(State(s): State<AppState>, token: AccessToken) -> Result<Json<Value>, Error> {
    let ended = s.sessions.logout_all(&token.sub).await?;
    Ok(Json(json!({ "sessions_ended": ended })))
}

async fn list(State(s): State<AppState>, token: AccessToken) -> Result<Json<Value>, Error> {
    let current = token.extra.get(SESSION_CLAIM).and_then(Value::as_str);
    let sessions: Vec<Value> = (s.sessions.list(&token.sub).await?.iter())
        .map(|f| json!({ "id": f.id, "user_agent": f.user_agent, "created_ms": f.created_ms,
                         "last_used_ms": f.last_used_ms, "current": Some(f.id.as_str()) == current }))
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}

fn app(sessions: Sessions) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/logout-all", post(logout_all))
        .route("/sessions", get(list))
        .with_state(AppState { sessions })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").map_or(Ok(8000), |p| p.parse())?;
    let secret = std::env::var("JWT_SECRET_KEY").unwrap_or_else(|_| {
        eprintln!("JWT_SECRET_KEY is not set: using a random secret for this run");
        authx::keys::generate_secret()
    });
    let config = AuthXConfig {
        secret_key: Some(secret.into()),
        ..AuthXConfig::default()
    };
    // Installs the store-backed revocation hook: ended sessions fail at once.
    let sessions = Sessions::install(AuthX::builder(config), Arc::new(MemoryStore::new()))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://localhost:{port}");
    axum::serve(listener, app(sessions)).await?;
    Ok(())
}
