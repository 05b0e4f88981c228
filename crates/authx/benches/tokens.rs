//! Create and verify costs, beside a floor measured in the same run.
//!
//! The floor is the least work any HS256 verify must do: HMAC-SHA256 over
//! the signing input with a key prepared once, base64url-decoding the three
//! segments, and one parse of the claims into an owned struct. Run with
//! `cargo bench -p authx --bench tokens`; see BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;

use authx::clock::SystemClock;
use authx::keys::generate_pem;
use authx::{Algorithm, AuthX, AuthXConfig, TokenLocation};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};

const SECRET: &str = "benchmark-secret-of-at-least-32-bytes!!";

fn hs256() -> AuthX {
    AuthX::with_clock(
        AuthXConfig {
            secret_key: Some(SECRET.into()),
            // Cookies in the locations give tokens a `csrf` claim, as in
            // the seed's configuration: the 335-byte token of PERF-NOTES.
            token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
            ..AuthXConfig::default()
        },
        Arc::new(SystemClock),
    )
    .unwrap()
}

fn asymmetric(alg: Algorithm) -> AuthX {
    AuthX::new(AuthXConfig {
        algorithm: alg,
        private_key: Some(generate_pem(alg).unwrap().into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..AuthXConfig::default()
    })
    .unwrap()
}

#[allow(dead_code)]
#[derive(serde::Deserialize)]
struct FloorClaims {
    sub: String,
    jti: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(rename = "type")]
    token_type: String,
    fresh: bool,
    csrf: String,
}

fn floor(token: &str, key: &hmac::Key) -> FloorClaims {
    let (signing_input, sig64) = token.rsplit_once('.').unwrap();
    let (h64, c64) = signing_input.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.decode(h64).unwrap();
    let claims = URL_SAFE_NO_PAD.decode(c64).unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig64).unwrap();
    black_box(&header);
    hmac::verify(key, signing_input.as_bytes(), &sig).unwrap();
    serde_json::from_slice(&claims).unwrap()
}

fn bench(c: &mut Criterion) {
    let auth = hs256();
    let token = auth.create_access_token("user1").unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    assert!(auth.decode_token(&token).is_ok());

    let mut g = c.benchmark_group("hs256");
    g.bench_function("floor", |b| b.iter(|| floor(black_box(&token), &key)));
    g.bench_function("verify", |b| {
        b.iter(|| auth.decode_token(black_box(&token)).unwrap())
    });
    g.bench_function("create", |b| {
        b.iter(|| auth.create_access_token(black_box("user1")).unwrap())
    });
    // The same token again, with the verified-token cache on: what a hit
    // costs (lookup, time checks, a copy of the claims).
    let cached = AuthX::builder(auth.config().clone())
        .verified_token_cache(4096)
        .build()
        .unwrap();
    assert!(cached.decode_token(&token).is_ok());
    g.bench_function("verify_cached", |b| {
        b.iter(|| cached.decode_token(black_box(&token)).unwrap())
    });
    g.finish();

    // A refresh draws four ids (two jti, two csrf).
    c.bench_function("random_id", |b| b.iter(authx::random_id));

    for alg in [Algorithm::ES256, Algorithm::EdDSA] {
        let auth = asymmetric(alg);
        let token = auth.create_access_token("user1").unwrap();
        let mut g = c.benchmark_group(alg.as_str().to_ascii_lowercase());
        g.bench_function("verify", |b| {
            b.iter(|| auth.decode_token(black_box(&token)).unwrap())
        });
        g.bench_function("create", |b| {
            b.iter(|| auth.create_access_token(black_box("user1")).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
