//! Scopes: login puts the user's scopes in the access token;
//! `RequireAccessLayer` guards each route with the scopes it needs. A valid
//! token without them gets 403 with `WWW-Authenticate: Bearer
//! error="insufficient_scope"`; no token at all gets 401.
//!
//! - `GET /articles` needs `articles:read`;
//! - `POST /articles` needs `articles:read` and `articles:write` (all);
//! - `GET /reports` needs `admin` or `auditor` (any);
//! - `DELETE /articles/{id}` checks `articles:delete` in the handler.
//!
//! A token scope `ns:*` grants `ns` and every `ns:...`: alice holds
//! `articles:*`, so she may read, write and delete.
//!
//! ```sh
//! cargo run -p authx --example scopes
//! login() { curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d "{\"username\":\"$1\",\"password\":\"$2\"}" | jq -r .access_token; }
//! ALICE=$(login alice password1); BOB=$(login bob password2)
//! curl -i localhost:8000/articles -H "Authorization: Bearer $BOB"             # 200
//! curl -i -X POST localhost:8000/articles -H "Authorization: Bearer $BOB"     # 403
//! curl -i -X POST localhost:8000/articles -H "Authorization: Bearer $ALICE"   # 200
//! curl -i localhost:8000/reports -H "Authorization: Bearer $ALICE"           # 403
//! curl -i -X DELETE localhost:8000/articles/1 -H "Authorization: Bearer $ALICE"  # 200
//! ```

use authx::axum::{AccessToken, RequireAccessLayer};
use authx::{AuthX, AuthXConfig, TokenOptions};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

const USERS: [(&str, &str, &[&str]); 3] = [
    ("alice", "password1", &["articles:*"]),
    ("bob", "password2", &["articles:read"]),
    ("carol", "password3", &["auditor"]),
];

async fn login(State(auth): State<AuthX>, Json(req): Json<Login>) -> Response {
    let Some((_, _, scopes)) = USERS
        .iter()
        .find(|(u, p, _)| *u == req.username && *p == req.password)
    else {
        let body = json!({ "message": "Invalid username or password" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    };
    let options = TokenOptions::new().scopes(scopes.iter().copied());
    match auth.create_access_token_with(&req.username, &options) {
        Ok(token) => {
            let body = json!({ "access_token": token, "token_type": "bearer" });
            ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The layer has verified the token; the extractor reuses its result.
async fn list(token: AccessToken) -> Json<Value> {
    Json(json!({ "articles": ["hello"], "reader": token.sub }))
}

async fn create(token: AccessToken) -> Json<Value> {
    Json(json!({ "created": true, "author": token.sub }))
}

async fn reports(token: AccessToken) -> Json<Value> {
    Json(json!({ "reports": [], "scopes": token.scopes }))
}

/// A check in the handler: `authx::Error` answers 403 itself.
async fn remove(token: AccessToken, Path(id): Path<u32>) -> Result<Json<Value>, authx::Error> {
    token.require_scopes(&["articles:delete"], true)?;
    Ok(Json(json!({ "deleted": id })))
}

fn app(auth: AuthX) -> Router {
    let require = |scopes: &[&str]| RequireAccessLayer::new(auth.clone()).scopes(scopes.to_vec());
    Router::new()
        .route("/login", post(login))
        // `route_layer`: only matched requests are checked (a wrong method stays 405).
        .route(
            "/articles",
            get(list).route_layer(require(&["articles:read"])),
        )
        .route(
            "/articles",
            post(create).route_layer(require(&["articles:read", "articles:write"])),
        )
        .route(
            "/reports",
            get(reports).route_layer(require(&["admin", "auditor"]).any_scope()),
        )
        .route("/articles/{id}", delete(remove))
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
