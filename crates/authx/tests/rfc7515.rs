//! RFC 7515 appendix A.1: the HS256 example JWS, verified with a fixed clock
//! (its `exp` is 1300819380).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use authx::clock::ManualClock;
use authx::keys::generate_secret;
use authx::{Algorithm, AuthX, AuthXConfig, ErrorKind};
use serde_json::json;

/// The JWK `k` of appendix A.1 (64 bytes, not UTF-8: it can only be given
/// through `jwks`, never through `secret_key`).
const K: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

const TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const EXP: i64 = 1_300_819_380;

fn jwks() -> String {
    json!({"keys": [{"kty": "oct", "alg": "HS256", "k": K}]}).to_string()
}

/// The configuration the RFC example calls for: the oct key in `jwks`, HS256.
fn rfc_config() -> AuthXConfig {
    AuthXConfig {
        algorithm: Algorithm::HS256,
        decode_algorithms: vec![Algorithm::HS256],
        jwks: Some(jwks()),
        ..Default::default()
    }
}

/// A verifier at `secs`. Written when an HMAC configuration needed a
/// `secret_key` even with `jwks` holding the keys (fixed since, see
/// `an_oct_jwk_alone_builds_an_hmac_verifier`): the fresh random secret
/// cannot verify the example, which the JWKS key verifies.
fn verifier_at(secs: i64) -> AuthX {
    let config = AuthXConfig {
        secret_key: Some(generate_secret().into()),
        ..rfc_config()
    };
    AuthX::with_clock(config, Arc::new(ManualClock::at_secs(secs))).unwrap()
}

/// Regression test for a fixed bug: `KeySet::from_config` (src/keys.rs) returned "secret_key:
/// algorithm HS256 requires secret_key" when `jwks` supplies the HMAC keys,
/// while its public-key branch accepts `jwks` alone. A verify-only HMAC
/// configuration from a JWKS (the only way to use a binary key such as this
/// one) cannot be built.
#[test]
fn an_oct_jwk_alone_builds_an_hmac_verifier() {
    let clock = ManualClock::at_secs(EXP - 1);
    let auth = AuthX::with_clock(rfc_config(), Arc::new(clock));
    let auth = auth.unwrap();
    assert_eq!(auth.verify_jwt(TOKEN).unwrap()["iss"], "joe");
}

#[test]
fn appendix_a1_verifies_one_second_before_exp() {
    let claims = verifier_at(EXP - 1).verify_jwt(TOKEN).unwrap();
    assert_eq!(claims["iss"], "joe");
    assert_eq!(claims["exp"], EXP);
    assert_eq!(claims["http://example.com/is_root"], true);
}

#[test]
fn appendix_a1_payload_is_returned_byte_for_byte() {
    let payload = verifier_at(EXP - 1).verify_jws(TOKEN).unwrap();
    assert_eq!(
        payload,
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    );
}

#[test]
fn appendix_a1_is_expired_at_exp() {
    let err = verifier_at(EXP).verify_jwt(TOKEN).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ExpiredToken);
}

#[test]
fn appendix_a1_is_not_an_authx_token() {
    let err = verifier_at(EXP - 1).decode_token(TOKEN).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::MissingClaim("sub"));
}

#[test]
fn appendix_a1_with_another_signature_is_rejected() {
    let forged = TOKEN.replace("dBjftJeZ", "eBjftJeZ");
    let err = verifier_at(EXP - 1).verify_jwt(&forged).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
}
