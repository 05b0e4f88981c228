//! ES256 with a key id: the issuer signs with its private key and publishes
//! the public key at `/.well-known/jwks.json`; a verifier built from that
//! JWKS document alone (no secret shared) guards `/protected`. In a real
//! deployment the verifier is another service that fetches the JWKS.
//!
//! This example signs with a private key, so it reads `JWT_PRIVATE_KEY` (a
//! PKCS#8 PEM, e.g. from `openssl genpkey -algorithm EC -pkeyopt
//! ec_paramgen_curve:P-256`) and `JWT_KID` instead of `JWT_SECRET_KEY`;
//! without them it generates a key and a key id for this run.
//!
//! ```sh
//! cargo run -p authx --example asymmetric_jwks
//! curl localhost:8000/.well-known/jwks.json      # {"keys":[{"kty":"EC","crv":"P-256","kid":...}]}
//! TOKEN=$(curl -s -X POST localhost:8000/login -H 'Content-Type: application/json' \
//!      -d '{"username":"user1","password":"password1"}' | jq -r .access_token)
//! curl localhost:8000/protected -H "Authorization: Bearer $TOKEN"
//! ```

use authx::axum::{AccessToken, HeaderOnly};
use authx::{Algorithm, AuthX, AuthXConfig};
use axum::extract::State;
use axum::http::{StatusCode, header};
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

async fn login(State(issuer): State<AuthX>, Json(req): Json<Login>) -> Response {
    if (req.username.as_str(), req.password.as_str()) != ("user1", "password1") {
        let body = json!({ "message": "Invalid username or password" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    match issuer.create_access_token(&req.username) {
        Ok(token) => {
            let body = json!({ "access_token": token, "token_type": "bearer" });
            ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Public keys only; cacheable, unlike tokens.
async fn jwks(State(issuer): State<AuthX>) -> Json<Value> {
    Json(issuer.jwks())
}

/// Verified by the JWKS-only `AuthX`: `alg` must be ES256 and `kid` known.
async fn protected(token: AccessToken<HeaderOnly>) -> Json<Value> {
    Json(json!({ "message": "Access granted", "username": token.sub }))
}

fn app(issuer: AuthX, verifier: AuthX) -> Router {
    let issuing = Router::new()
        .route("/login", post(login))
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(issuer);
    let api = Router::new()
        .route("/protected", get(protected))
        .with_state(verifier);
    issuing.merge(api)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").map_or(Ok(8000), |p| p.parse())?;
    let private_key = match std::env::var("JWT_PRIVATE_KEY") {
        Ok(pem) => pem,
        Err(_) => {
            eprintln!("JWT_PRIVATE_KEY is not set: generating an ES256 key for this run");
            authx::keys::generate_pem(Algorithm::ES256)?
        }
    };
    let kid = std::env::var("JWT_KID").unwrap_or_else(|_| authx::random_id());
    let issuer = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(private_key.into()),
        kid: Some(kid),
        ..AuthXConfig::default()
    })?;
    // What a resource server would build from the fetched document.
    let verifier = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        jwks: Some(issuer.jwks().to_string()),
        ..AuthXConfig::default()
    })?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://localhost:{port}");
    axum::serve(listener, app(issuer, verifier)).await?;
    Ok(())
}
