//! Typed custom claims: login puts a struct into the access token with
//! `TokenOptions::data`; handlers read it back, typed and verified, with
//! `AccessToken<Configured, Claims>`. A token whose claims do not fit
//! `Claims` is refused with 401 (`JWTDecodeError`).
//!
//! ```sh
//! cargo run -p authx --example custom_claims
//! TOKEN=$(curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d '{"username":"alice","password":"password1"}' | jq -r .access_token)
//! curl localhost:8000/me -H "Authorization: Bearer $TOKEN"      # {"sub":"alice","role":"admin",...}
//! curl localhost:8000/admin -H "Authorization: Bearer $TOKEN"   # 200 for alice, 403 for bob
//! ```

use authx::axum::{AccessToken, Configured};
use authx::{AuthX, AuthXConfig, TokenOptions};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the app keeps in the token besides the registered claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    role: Role,
    tenant: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    Admin,
    Member,
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

const USERS: [(&str, &str, Role, &str); 2] = [
    ("alice", "password1", Role::Admin, "acme"),
    ("bob", "password2", Role::Member, "acme"),
];

async fn login(State(auth): State<AuthX>, Json(req): Json<Login>) -> Response {
    let Some(&(_, _, role, tenant)) = USERS
        .iter()
        .find(|(u, p, ..)| *u == req.username && *p == req.password)
    else {
        let body = json!({ "message": "Invalid username or password" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    };
    let claims = Claims {
        role,
        tenant: tenant.into(),
    };
    // `data` refuses a struct that would set a registered claim (sub, exp, ...).
    let token = TokenOptions::new()
        .data(&claims)
        .and_then(|options| auth.create_access_token_with(&req.username, &options));
    match token {
        Ok(token) => {
            let body = json!({ "access_token": token, "token_type": "bearer" });
            ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `Configured`: every configured location (here the header only).
async fn me(token: AccessToken<Configured, Claims>) -> Json<Value> {
    Json(json!({ "sub": token.sub, "role": token.claims.role, "tenant": token.claims.tenant }))
}

async fn admin(token: AccessToken<Configured, Claims>) -> Result<Json<Value>, StatusCode> {
    if token.claims.role != Role::Admin {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(Json(
        json!({ "message": format!("welcome, admin of {}", token.claims.tenant) }),
    ))
}

fn app(auth: AuthX) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/admin", get(admin))
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
