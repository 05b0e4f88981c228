//! In-process cost of authx on a request: the same small JSON route with
//! and without an `AccessToken<HeaderOnly>` extractor, driven through
//! `Router` + `oneshot`. Run with `cargo bench -p authx --bench axum`.

use std::hint::black_box;

use authx::axum::{AccessToken, HeaderOnly};
use authx::{AuthX, AuthXConfig, TokenLocation};
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::{Json, Router};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn open() -> Json<Value> {
    Json(json!({ "message": "Access granted", "username": "user1" }))
}

async fn protected(token: AccessToken<HeaderOnly>) -> Json<Value> {
    Json(json!({ "message": "Access granted", "username": token.sub }))
}

fn bench(c: &mut Criterion) {
    let auth = AuthX::new(AuthXConfig {
        secret_key: Some("benchmark-secret-of-at-least-32-bytes!!".into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..AuthXConfig::default()
    })
    .unwrap();
    let bearer = format!("Bearer {}", auth.create_access_token("user1").unwrap());
    let app = Router::new()
        .route("/open", get(open))
        .route("/protected", get(protected))
        .with_state(auth);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let request = |path: &str| {
        Request::get(path)
            .header("authorization", bearer.as_str())
            .body(Body::empty())
            .unwrap()
    };
    let mut g = c.benchmark_group("axum_oneshot");
    g.bench_function("unprotected", |b| {
        b.iter(|| {
            rt.block_on(app.clone().oneshot(black_box(request("/open"))))
                .unwrap()
        })
    });
    g.bench_function("protected", |b| {
        b.iter(|| {
            rt.block_on(app.clone().oneshot(black_box(request("/protected"))))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
