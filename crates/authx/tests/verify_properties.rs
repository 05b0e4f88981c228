//! Properties of verification: every single-bit change of a valid token is
//! rejected (checked exhaustively), no input makes the verifiers panic, and
//! subjects survive a round trip.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use authx::clock::ManualClock;
use authx::keys::generate_pem;
use authx::{Algorithm, AuthX, AuthXConfig};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use serde_json::{Value, json};

const SECRET: &str = "verify-properties-secret-0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fn hs256() -> AuthX {
    AuthX::with_clock(
        AuthXConfig {
            secret_key: Some(SECRET.into()),
            ..Default::default()
        },
        Arc::new(ManualClock::at_secs(NOW)),
    )
    .unwrap()
}

fn asymmetric(alg: Algorithm) -> AuthX {
    AuthX::with_clock(
        AuthXConfig {
            algorithm: alg,
            private_key: Some(generate_pem(alg).unwrap().into()),
            ..Default::default()
        },
        Arc::new(ManualClock::at_secs(NOW)),
    )
    .unwrap()
}

/// Flips every bit of every byte of a freshly issued token, one at a time,
/// and checks that no flip is accepted. Returns the number of flips tried.
fn every_single_bit_flip_is_rejected(auth: &AuthX) -> usize {
    let token = auth.create_access_token("user1").unwrap();
    assert_eq!(auth.decode_token(&token).unwrap().sub, "user1");
    let mut tried = 0;
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] ^= 1 << bit;
            // A flip into the high half is not UTF-8 on its own; it reaches
            // the API as U+FFFD, as a lossy HTTP layer would pass it.
            let flipped = String::from_utf8_lossy(&bytes);
            assert!(
                auth.decode_token(&flipped).is_err(),
                "byte {i} bit {bit} accepted: {flipped}"
            );
            assert!(
                auth.verify_jws(&flipped).is_err(),
                "byte {i} bit {bit} accepted by verify_jws"
            );
            tried += 1;
        }
    }
    assert_eq!(tried, token.len() * 8);
    tried
}

#[test]
fn every_bit_flip_of_an_hs256_token_is_rejected() {
    assert!(every_single_bit_flip_is_rejected(&hs256()) > 1000);
}

/// With the verified-token cache on, the original token is a cache hit
/// before the first flip: no flipped text may be mistaken for it.
#[test]
fn every_bit_flip_of_a_cached_hs256_token_is_rejected() {
    let auth = AuthX::builder(AuthXConfig {
        secret_key: Some(SECRET.into()),
        ..Default::default()
    })
    .clock(Arc::new(ManualClock::at_secs(NOW)))
    .verified_token_cache(16)
    .build()
    .unwrap();
    assert!(every_single_bit_flip_is_rejected(&auth) > 1000);
}

#[test]
fn every_bit_flip_of_an_es256_token_is_rejected() {
    assert!(every_single_bit_flip_is_rejected(&asymmetric(Algorithm::ES256)) > 1000);
}

#[test]
fn every_bit_flip_of_an_eddsa_token_is_rejected() {
    assert!(every_single_bit_flip_is_rejected(&asymmetric(Algorithm::EdDSA)) > 1000);
}

/// Runs every entry point; only panics matter here.
fn exercise(auth: &AuthX, input: &str) {
    let _ = auth.decode_token(input);
    let _ = auth.verify_jws(input);
    let _ = auth.verify_jwt(input);
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A validly MACed token over the given header and claims bytes.
fn sealed(header: &[u8], claims: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes()),
        input.as_bytes(),
    );
    format!("{input}.{}", b64(tag.as_ref()))
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("sub".to_owned()),
                    Just("jti".to_owned()),
                    Just("exp".to_owned()),
                    Just("iat".to_owned()),
                    Just("nbf".to_owned()),
                    Just("type".to_owned()),
                    Just("aud".to_owned()),
                    Just("iss".to_owned()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        exercise(&hs256(), &input);
    }

    #[test]
    fn base64url_and_dots_never_panic(input in "[A-Za-z0-9_.-]{0,600}") {
        exercise(&hs256(), &input);
    }

    #[test]
    fn three_random_segments_never_panic(
        h in "[A-Za-z0-9_-]{0,200}",
        c in "[A-Za-z0-9_-]{0,200}",
        s in "[A-Za-z0-9_-]{0,200}",
    ) {
        let auth = hs256();
        let input = format!("{h}.{c}.{s}");
        exercise(&auth, &input);
        prop_assert!(auth.decode_token(&input).is_err());
    }

    #[test]
    fn random_bytes_in_every_segment_never_panic(
        h in prop::collection::vec(any::<u8>(), 0..120),
        c in prop::collection::vec(any::<u8>(), 0..200),
        s in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let auth = hs256();
        let input = format!("{}.{}.{}", b64(&h), b64(&c), b64(&s));
        exercise(&auth, &input);
        prop_assert!(auth.verify_jws(&input).is_err());
    }

    /// Validly MACed tokens with arbitrary JSON claims: the claim parsers
    /// see every shape, and whatever they accept is a coherent token.
    #[test]
    fn signed_arbitrary_claims_never_panic(claims in json_value(), header_extra in json_value()) {
        let auth = hs256();
        let t = sealed(br#"{"alg":"HS256"}"#, claims.to_string().as_bytes());
        exercise(&auth, &t);
        if let Ok(p) = auth.decode_token(&t) {
            prop_assert!(!p.sub.is_empty());
            prop_assert!(!p.jti.is_empty());
            prop_assert!(p.exp > NOW as f64);
        }
        let header = json!({"alg": "HS256", "x": header_extra});
        let t = sealed(header.to_string().as_bytes(), claims.to_string().as_bytes());
        exercise(&auth, &t);
    }

    #[test]
    fn printable_ascii_subjects_round_trip(sub in "[ -~]{1,64}") {
        let auth = hs256();
        let token = auth.create_access_token(&sub).unwrap();
        prop_assert_eq!(auth.decode_token(&token).unwrap().sub, sub.clone());
        prop_assert_eq!(&auth.verify_jwt(&token).unwrap()["sub"], &Value::from(sub));
    }

    #[test]
    fn printable_unicode_subjects_round_trip(sub in "\\PC{1,64}") {
        let auth = hs256();
        let token = auth.create_refresh_token(&sub).unwrap();
        prop_assert_eq!(auth.decode_token(&token).unwrap().sub, sub);
    }
}
