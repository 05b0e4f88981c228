//! Every `AuthXConfig` option, observed through the public API; the
//! validation errors, each naming its option; and `from_lookup` parsing of
//! AuthX's environment variable names and formats.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use authx::clock::ManualClock;
use authx::keys::{generate_pem, public_pem_from_private};
use authx::{
    Algorithm, AuthX, AuthXConfig, ErrorKind, FindOptions, Malformed, RequestToken, SameSite,
    TokenLocation, TokenOptions, TokenType, VerifyOptions,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Method};
use serde_json::{Value, json};

/// 40 bytes: enough for HS256, too short for HS384.
const SECRET: &str = "config-options-test-secret-0123456789abc";
/// 64 bytes: enough for every HMAC algorithm.
const SECRET64: &str = "config-options-test-secret-64-bytes-0123456789abcdef0123456789ab";
const OTHER_SECRET: &str = "another-secret-of-at-least-32-bytes-long";
const NOW: i64 = 1_700_000_000;

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn base() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.into()),
        ..AuthXConfig::default()
    }
}

fn cookie_config() -> AuthXConfig {
    AuthXConfig {
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..base()
    }
}

fn build(config: AuthXConfig) -> AuthX {
    AuthX::new(config).unwrap()
}

fn build_at(config: AuthXConfig, clock: &ManualClock) -> AuthX {
    AuthX::with_clock(config, Arc::new(clock.clone())).unwrap()
}

fn segment(token: &str, i: usize) -> Value {
    let seg = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(seg).unwrap()).unwrap()
}

fn raw_claims(token: &str) -> Value {
    segment(token, 1)
}

fn raw_header(token: &str) -> Value {
    segment(token, 0)
}

fn kind_of<T: std::fmt::Debug>(r: authx::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").into_kind()
}

/// The message of a configuration error (asserting it is one).
fn config_error(config: AuthXConfig) -> String {
    let err = AuthX::new(config).expect_err("expected a configuration error");
    assert_eq!(err.error_type(), "BadConfigurationError", "{err}");
    err.to_string()
}

fn lookup(vars: &[(&str, &str)]) -> authx::Result<AuthXConfig> {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    AuthXConfig::from_lookup(|k| env.get(k).cloned())
}

fn lookup_error(vars: &[(&str, &str)]) -> String {
    let err = lookup(vars).expect_err("expected a parse error");
    assert_eq!(err.error_type(), "BadConfigurationError", "{err}");
    err.to_string()
}

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

/// One `Set-Cookie` value: name, value, and its attributes as a set.
#[derive(Debug)]
struct SetCookie {
    name: String,
    value: String,
    attrs: BTreeSet<String>,
}

impl SetCookie {
    fn has(&self, attr: &str) -> bool {
        self.attrs.contains(attr)
    }
    fn attr(&self, prefix: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find_map(|a| a.strip_prefix(prefix)?.strip_prefix('='))
    }
}

fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|v| {
            let s = v.to_str().unwrap();
            let mut it = s.split("; ");
            let (name, value) = it.next().unwrap().split_once('=').unwrap();
            SetCookie {
                name: name.to_owned(),
                value: value.to_owned(),
                attrs: it.map(str::to_owned).collect(),
            }
        })
        .collect()
}

fn cookie<'a>(cookies: &'a [SetCookie], name: &str) -> &'a SetCookie {
    cookies
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no Set-Cookie for {name}: {cookies:?}"))
}

fn access_cookies(auth: &AuthX) -> Vec<SetCookie> {
    let mut headers = HeaderMap::new();
    let token = auth.create_access_token("u1").unwrap();
    auth.set_access_cookies(&token, &mut headers).unwrap();
    set_cookies(&headers)
}

fn refresh_cookies(auth: &AuthX) -> Vec<SetCookie> {
    let mut headers = HeaderMap::new();
    let token = auth.create_refresh_token("u1").unwrap();
    auth.set_refresh_cookies(&token, &mut headers).unwrap();
    set_cookies(&headers)
}

fn find(auth: &AuthX, parts: &http::request::Parts, kind: TokenType) -> RequestToken {
    auth.get_token_from_request(parts, kind, FindOptions::new())
        .unwrap()
}

// ---------------------------------------------------------------------------
// algorithm, keys, kid
// ---------------------------------------------------------------------------

#[test]
fn algorithm_hs512_signs_tokens_with_hs512() {
    let auth = build(AuthXConfig {
        algorithm: Algorithm::HS512,
        secret_key: Some(SECRET64.into()),
        ..AuthXConfig::default()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(raw_header(&token)["alg"], "HS512");
    assert_eq!(auth.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn algorithm_es256_with_private_key_signs_with_es256() {
    let auth = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        ..AuthXConfig::default()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(raw_header(&token)["alg"], "ES256");
    assert_eq!(auth.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn public_key_alone_verifies_tokens_of_the_matching_private_key() {
    let private = generate_pem(Algorithm::ES256).unwrap();
    let signer = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(private.clone().into()),
        ..AuthXConfig::default()
    });
    let verifier = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        public_key: Some(public_pem_from_private(Algorithm::ES256, &private).unwrap()),
        ..AuthXConfig::default()
    });
    let token = signer.create_access_token("u1").unwrap();
    assert_eq!(verifier.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn public_key_alone_cannot_sign() {
    let private = generate_pem(Algorithm::ES256).unwrap();
    let verifier = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        public_key: Some(public_pem_from_private(Algorithm::ES256, &private).unwrap()),
        ..AuthXConfig::default()
    });
    let err = verifier.create_access_token("u1").unwrap_err();
    assert_eq!(err.error_type(), "BadConfigurationError");
    assert!(err.to_string().contains("private_key"), "{err}");
}

#[test]
fn public_key_of_another_key_pair_rejects_the_signature() {
    let signer = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        ..AuthXConfig::default()
    });
    let other = generate_pem(Algorithm::ES256).unwrap();
    let verifier = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        public_key: Some(public_pem_from_private(Algorithm::ES256, &other).unwrap()),
        ..AuthXConfig::default()
    });
    let token = signer.create_access_token("u1").unwrap();
    assert_eq!(
        kind_of(verifier.decode_token(&token)),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn previous_public_key_verifies_tokens_of_the_old_key_pair() {
    let old = generate_pem(Algorithm::ES256).unwrap();
    let old_signer = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(old.clone().into()),
        ..AuthXConfig::default()
    });
    let token = old_signer.create_access_token("u1").unwrap();
    let rotated = AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        ..AuthXConfig::default()
    };
    assert_eq!(
        kind_of(build(rotated.clone()).decode_token(&token)),
        ErrorKind::InvalidSignature
    );
    let with_previous = build(AuthXConfig {
        previous_public_key: Some(public_pem_from_private(Algorithm::ES256, &old).unwrap()),
        ..rotated
    });
    assert_eq!(with_previous.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn jwks_keys_verify_tokens_by_kid() {
    let signer = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        kid: Some("k1".into()),
        ..AuthXConfig::default()
    });
    let verifier = build(AuthXConfig {
        algorithm: Algorithm::ES256,
        jwks: Some(signer.jwks().to_string()),
        ..AuthXConfig::default()
    });
    let token = signer.create_access_token("u1").unwrap();
    assert_eq!(verifier.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn hs384_token_is_rejected_when_decode_algorithms_is_default() {
    let hs384 = build(AuthXConfig {
        algorithm: Algorithm::HS384,
        secret_key: Some(SECRET64.into()),
        ..AuthXConfig::default()
    });
    let verifier = build(AuthXConfig {
        secret_key: Some(SECRET64.into()),
        ..AuthXConfig::default()
    });
    let token = hs384.create_access_token("u1").unwrap();
    assert_eq!(
        kind_of(verifier.decode_token(&token)),
        ErrorKind::AlgorithmNotAllowed
    );
}

#[test]
fn hs384_token_is_accepted_when_listed_in_decode_algorithms() {
    let hs384 = build(AuthXConfig {
        algorithm: Algorithm::HS384,
        secret_key: Some(SECRET64.into()),
        ..AuthXConfig::default()
    });
    let verifier = build(AuthXConfig {
        secret_key: Some(SECRET64.into()),
        decode_algorithms: vec![Algorithm::HS256, Algorithm::HS384],
        ..AuthXConfig::default()
    });
    let token = hs384.create_access_token("u1").unwrap();
    assert_eq!(verifier.decode_token(&token).unwrap().sub, "u1");
    let own = verifier.create_access_token("u2").unwrap();
    assert_eq!(verifier.decode_token(&own).unwrap().sub, "u2");
}

#[test]
fn secret_key_of_another_instance_fails_the_signature() {
    let token = build(base()).create_access_token("u1").unwrap();
    let other = build(AuthXConfig {
        secret_key: Some(OTHER_SECRET.into()),
        ..AuthXConfig::default()
    });
    assert_eq!(
        kind_of(other.decode_token(&token)),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn previous_secret_key_still_verifies_tokens_of_the_old_secret() {
    let token = build(base()).create_access_token("u1").unwrap();
    let rotated = build(AuthXConfig {
        secret_key: Some(OTHER_SECRET.into()),
        previous_secret_key: Some(SECRET.into()),
        ..AuthXConfig::default()
    });
    assert_eq!(rotated.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn previous_secret_key_is_never_used_to_sign() {
    let rotated = build(AuthXConfig {
        secret_key: Some(OTHER_SECRET.into()),
        previous_secret_key: Some(SECRET.into()),
        ..AuthXConfig::default()
    });
    let token = rotated.create_access_token("u1").unwrap();
    assert_eq!(
        kind_of(build(base()).decode_token(&token)),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn kid_is_written_to_the_token_header() {
    let auth = build(AuthXConfig {
        kid: Some("2025-01".into()),
        ..base()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(raw_header(&token)["kid"], "2025-01");
    assert_eq!(auth.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn no_kid_by_default() {
    let token = build(base()).create_access_token("u1").unwrap();
    assert!(raw_header(&token).get("kid").is_none());
}

#[test]
fn token_with_an_unknown_kid_is_rejected() {
    let a = build(AuthXConfig {
        kid: Some("k1".into()),
        ..base()
    });
    let b = build(AuthXConfig {
        kid: Some("k2".into()),
        ..base()
    });
    let token = a.create_access_token("u1").unwrap();
    assert_eq!(kind_of(b.decode_token(&token)), ErrorKind::UnknownKeyId);
}

#[test]
fn previous_kid_selects_the_previous_secret() {
    let old = build(AuthXConfig {
        kid: Some("old".into()),
        ..base()
    });
    let token = old.create_access_token("u1").unwrap();
    let new = build(AuthXConfig {
        secret_key: Some(OTHER_SECRET.into()),
        kid: Some("new".into()),
        previous_secret_key: Some(SECRET.into()),
        previous_kid: Some("old".into()),
        ..AuthXConfig::default()
    });
    assert_eq!(new.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn previous_kid_that_does_not_match_is_an_unknown_key_id() {
    let old = build(AuthXConfig {
        kid: Some("old".into()),
        ..base()
    });
    let token = old.create_access_token("u1").unwrap();
    let new = build(AuthXConfig {
        secret_key: Some(OTHER_SECRET.into()),
        kid: Some("new".into()),
        previous_secret_key: Some(SECRET.into()),
        previous_kid: Some("older".into()),
        ..AuthXConfig::default()
    });
    assert_eq!(kind_of(new.decode_token(&token)), ErrorKind::UnknownKeyId);
}

// ---------------------------------------------------------------------------
// lifetimes, audience, issuer, leeway, nbf
// ---------------------------------------------------------------------------

#[test]
fn access_token_expires_sets_exp_minus_iat() {
    let auth = build(AuthXConfig {
        access_token_expires: Duration::from_secs(300),
        ..base()
    });
    let p = auth
        .decode_token(&auth.create_access_token("u1").unwrap())
        .unwrap();
    assert_eq!(p.exp - p.iat, 300.0);
}

#[test]
fn access_token_expires_default_is_15_minutes() {
    let auth = build(base());
    let p = auth
        .decode_token(&auth.create_access_token("u1").unwrap())
        .unwrap();
    assert_eq!(p.exp - p.iat, 900.0);
}

#[test]
fn refresh_token_expires_sets_exp_minus_iat() {
    let auth = build(AuthXConfig {
        refresh_token_expires: Duration::from_secs(3600),
        ..base()
    });
    let p = auth
        .decode_token(&auth.create_refresh_token("u1").unwrap())
        .unwrap();
    assert_eq!(p.exp - p.iat, 3600.0);
}

#[test]
fn refresh_token_expires_default_is_20_days() {
    let auth = build(base());
    let p = auth
        .decode_token(&auth.create_refresh_token("u1").unwrap())
        .unwrap();
    assert_eq!(p.exp - p.iat, 20.0 * 24.0 * 3600.0);
}

#[test]
fn encode_audience_single_value_is_a_string_aud_claim() {
    let auth = build(AuthXConfig {
        encode_audience: vec!["api".into()],
        ..base()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(raw_claims(&token)["aud"], "api");
}

#[test]
fn encode_audience_two_values_is_an_array_aud_claim() {
    let auth = build(AuthXConfig {
        encode_audience: vec!["api".into(), "web".into()],
        ..base()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(raw_claims(&token)["aud"], json!(["api", "web"]));
}

#[test]
fn no_aud_or_iss_claim_by_default() {
    let token = build(base()).create_access_token("u1").unwrap();
    let claims = raw_claims(&token);
    assert!(claims.get("aud").is_none());
    assert!(claims.get("iss").is_none());
}

#[test]
fn encode_issuer_sets_the_iss_claim() {
    let auth = build(AuthXConfig {
        encode_issuer: Some("https://issuer.example".into()),
        ..base()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(raw_claims(&token)["iss"], "https://issuer.example");
}

fn token_with_aud(aud: &[&str]) -> String {
    build(AuthXConfig {
        encode_audience: aud.iter().map(|s| (*s).to_owned()).collect(),
        ..base()
    })
    .create_access_token("u1")
    .unwrap()
}

fn audience_verifier(aud: &[&str]) -> AuthX {
    build(AuthXConfig {
        decode_audience: aud.iter().map(|s| (*s).to_owned()).collect(),
        ..base()
    })
}

#[test]
fn decode_audience_accepts_a_matching_aud() {
    let token = token_with_aud(&["api"]);
    let p = audience_verifier(&["web", "api"])
        .decode_token(&token)
        .unwrap();
    assert_eq!(p.aud, ["api"]);
}

#[test]
fn decode_audience_rejects_another_aud() {
    let token = token_with_aud(&["api"]);
    assert_eq!(
        kind_of(audience_verifier(&["web"]).decode_token(&token)),
        ErrorKind::InvalidAudience
    );
}

#[test]
fn decode_audience_rejects_a_prefix_of_the_aud() {
    let token = token_with_aud(&["api"]);
    assert_eq!(
        kind_of(audience_verifier(&["ap"]).decode_token(&token)),
        ErrorKind::InvalidAudience
    );
}

#[test]
fn decode_audience_rejects_a_token_without_aud() {
    let token = build(base()).create_access_token("u1").unwrap();
    assert_eq!(
        kind_of(audience_verifier(&["api"]).decode_token(&token)),
        ErrorKind::InvalidAudience
    );
}

#[test]
fn token_with_aud_is_rejected_when_no_decode_audience_is_configured() {
    let token = token_with_aud(&["api"]);
    assert_eq!(
        kind_of(build(base()).decode_token(&token)),
        ErrorKind::InvalidAudience
    );
}

#[test]
fn decode_issuer_accepts_the_matching_iss() {
    let token = build(AuthXConfig {
        encode_issuer: Some("iss-a".into()),
        ..base()
    })
    .create_access_token("u1")
    .unwrap();
    let verifier = build(AuthXConfig {
        decode_issuer: Some("iss-a".into()),
        ..base()
    });
    assert_eq!(
        verifier.decode_token(&token).unwrap().iss.as_deref(),
        Some("iss-a")
    );
}

#[test]
fn decode_issuer_rejects_another_iss() {
    let token = build(AuthXConfig {
        encode_issuer: Some("iss-a".into()),
        ..base()
    })
    .create_access_token("u1")
    .unwrap();
    let verifier = build(AuthXConfig {
        decode_issuer: Some("iss-b".into()),
        ..base()
    });
    assert_eq!(
        kind_of(verifier.decode_token(&token)),
        ErrorKind::InvalidIssuer
    );
}

#[test]
fn decode_issuer_rejects_a_token_without_iss() {
    let token = build(base()).create_access_token("u1").unwrap();
    let verifier = build(AuthXConfig {
        decode_issuer: Some("iss-a".into()),
        ..base()
    });
    assert_eq!(
        kind_of(verifier.decode_token(&token)),
        ErrorKind::InvalidIssuer
    );
}

fn leeway_case(leeway_secs: u64, after_exp_secs: i64) -> authx::Result<authx::TokenPayload> {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            access_token_expires: Duration::from_secs(60),
            decode_leeway: Duration::from_secs(leeway_secs),
            ..base()
        },
        &clock,
    );
    let token = auth.create_access_token("u1").unwrap();
    clock.set_millis((NOW + 60 + after_exp_secs) * 1000);
    auth.decode_token(&token)
}

#[test]
fn zero_leeway_rejects_a_token_at_exp() {
    assert_eq!(kind_of(leeway_case(0, 0)), ErrorKind::ExpiredToken);
}

#[test]
fn zero_leeway_accepts_a_token_just_before_exp() {
    assert!(leeway_case(0, -1).is_ok());
}

#[test]
fn decode_leeway_accepts_a_token_within_the_leeway_after_exp() {
    assert!(leeway_case(5, 4).is_ok());
}

#[test]
fn decode_leeway_rejects_a_token_at_exp_plus_leeway() {
    assert_eq!(kind_of(leeway_case(5, 5)), ErrorKind::ExpiredToken);
}

#[test]
fn decode_leeway_tolerates_an_issuer_clock_that_is_ahead() {
    let issuer_clock = ManualClock::at_secs(NOW + 10);
    let token = build_at(base(), &issuer_clock)
        .create_access_token("u1")
        .unwrap();
    let clock = ManualClock::at_secs(NOW);
    let strict = build_at(base(), &clock);
    assert_eq!(
        kind_of(strict.decode_token(&token)),
        ErrorKind::ImmatureToken
    );
    let lenient = build_at(
        AuthXConfig {
            decode_leeway: Duration::from_secs(10),
            ..base()
        },
        &clock,
    );
    assert!(lenient.decode_token(&token).is_ok());
}

#[test]
fn encode_nbf_default_emits_nbf_equal_to_iat() {
    let token = build(base()).create_access_token("u1").unwrap();
    let claims = raw_claims(&token);
    assert_eq!(claims["nbf"], claims["iat"]);
}

#[test]
fn encode_nbf_false_emits_no_nbf() {
    let auth = build(AuthXConfig {
        encode_nbf: false,
        ..base()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert!(raw_claims(&token).get("nbf").is_none());
    assert_eq!(auth.decode_token(&token).unwrap().nbf, None);
}

// ---------------------------------------------------------------------------
// identity claim, error message key
// ---------------------------------------------------------------------------

#[test]
fn identity_claim_uid_writes_uid_instead_of_sub() {
    let auth = build(AuthXConfig {
        identity_claim: "uid".into(),
        ..base()
    });
    let claims = raw_claims(&auth.create_access_token("u1").unwrap());
    assert_eq!(claims["uid"], "u1");
    assert!(claims.get("sub").is_none());
}

#[test]
fn identity_claim_uid_reads_the_subject_from_uid() {
    let auth = build(AuthXConfig {
        identity_claim: "uid".into(),
        ..base()
    });
    let p = auth
        .decode_token(&auth.create_access_token("u1").unwrap())
        .unwrap();
    assert_eq!(p.sub, "u1");
    assert!(!p.extra.contains_key("uid"));
}

#[test]
fn identity_claim_uid_rejects_tokens_that_carry_only_sub() {
    let token = build(base()).create_access_token("u1").unwrap();
    let auth = build(AuthXConfig {
        identity_claim: "uid".into(),
        ..base()
    });
    assert_eq!(
        kind_of(auth.decode_token(&token)),
        ErrorKind::MissingClaim("sub")
    );
}

#[test]
fn identity_claim_that_is_a_registered_claim_is_a_config_error() {
    let msg = config_error(AuthXConfig {
        identity_claim: "exp".into(),
        ..base()
    });
    assert!(msg.contains("identity_claim"), "{msg}");
}

#[test]
fn error_message_key_default_is_message() {
    let auth = build(base());
    let err = auth.decode_token("x").unwrap_err();
    let body = err.to_json(&auth.config().error_message_key);
    assert!(body.get("message").is_some(), "{body}");
}

#[test]
fn error_message_key_names_the_message_member_of_error_json() {
    let auth = build(AuthXConfig {
        error_message_key: "msg".into(),
        ..base()
    });
    let err = auth.decode_token("x").unwrap_err();
    let body = err.to_json(&auth.config().error_message_key);
    assert_eq!(
        body,
        json!({"msg": err.message(), "error_type": "JWTDecodeError"})
    );
}

#[test]
fn error_message_key_error_type_is_a_config_error() {
    let msg = config_error(AuthXConfig {
        error_message_key: "error_type".into(),
        ..base()
    });
    assert!(msg.contains("error_message_key"), "{msg}");
}

// ---------------------------------------------------------------------------
// token_location, header name and type, query, JSON
// ---------------------------------------------------------------------------

#[test]
fn token_location_with_cookies_issues_a_csrf_claim() {
    let auth = build(cookie_config());
    let p = auth
        .decode_token(&auth.create_access_token("u1").unwrap())
        .unwrap();
    assert!(p.csrf.as_deref().is_some_and(|c| c.len() >= 22));
}

#[test]
fn token_location_headers_only_issues_no_csrf_claim() {
    let token = build(base()).create_access_token("u1").unwrap();
    assert!(raw_claims(&token).get("csrf").is_none());
}

#[test]
fn token_location_excludes_unlisted_locations() {
    let auth = build(base());
    let p = parts(
        "GET",
        "/?token=a.b.c",
        &[("cookie", "access_token_cookie=a.b.c")],
    );
    assert_eq!(
        kind_of(auth.get_token_from_request(&p, TokenType::Access, FindOptions::new())),
        ErrorKind::MissingToken
    );
}

#[test]
fn header_name_reads_the_token_from_the_configured_header() {
    let auth = build(AuthXConfig {
        header_name: "X-Api-Token".into(),
        ..base()
    });
    let p = parts("GET", "/", &[("x-api-token", "Bearer a.b.c")]);
    assert_eq!(find(&auth, &p, TokenType::Access).token, "a.b.c");
}

#[test]
fn header_name_ignores_the_authorization_header() {
    let auth = build(AuthXConfig {
        header_name: "X-Api-Token".into(),
        ..base()
    });
    let p = parts("GET", "/", &[("authorization", "Bearer a.b.c")]);
    assert_eq!(
        kind_of(auth.get_token_from_request(&p, TokenType::Access, FindOptions::new())),
        ErrorKind::MissingToken
    );
}

#[test]
fn header_type_names_the_required_scheme() {
    let auth = build(AuthXConfig {
        header_type: "JWT".into(),
        ..base()
    });
    let ok = parts("GET", "/", &[("authorization", "JWT a.b.c")]);
    assert_eq!(find(&auth, &ok, TokenType::Access).token, "a.b.c");
    let bearer = parts("GET", "/", &[("authorization", "Bearer a.b.c")]);
    assert_eq!(
        kind_of(auth.get_token_from_request(&bearer, TokenType::Access, FindOptions::new())),
        ErrorKind::MissingToken
    );
}

#[test]
fn empty_header_type_reads_a_bare_token() {
    let auth = build(AuthXConfig {
        header_type: String::new(),
        ..base()
    });
    let p = parts("GET", "/", &[("authorization", "a.b.c")]);
    assert_eq!(find(&auth, &p, TokenType::Access).token, "a.b.c");
    let two = parts("GET", "/", &[("authorization", "Bearer a.b.c")]);
    assert_eq!(
        kind_of(auth.get_token_from_request(&two, TokenType::Access, FindOptions::new())),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn header_type_with_whitespace_is_a_config_error() {
    let msg = config_error(AuthXConfig {
        header_type: "Bearer token".into(),
        ..base()
    });
    assert!(msg.contains("header_type"), "{msg}");
}

#[test]
fn header_name_that_is_not_a_header_name_is_a_config_error() {
    let msg = config_error(AuthXConfig {
        header_name: "Bad Header".into(),
        ..base()
    });
    assert!(msg.contains("header_name"), "{msg}");
}

#[test]
fn query_string_name_reads_the_configured_parameter() {
    let auth = build(AuthXConfig {
        token_location: vec![TokenLocation::Query],
        query_string_name: "jwt".into(),
        ..base()
    });
    let p = parts("GET", "/?jwt=a.b.c", &[]);
    let rt = find(&auth, &p, TokenType::Access);
    assert_eq!(rt.token, "a.b.c");
    assert_eq!(rt.location, TokenLocation::Query);
}

#[test]
fn query_string_name_ignores_the_default_token_parameter() {
    let auth = build(AuthXConfig {
        token_location: vec![TokenLocation::Query],
        query_string_name: "jwt".into(),
        ..base()
    });
    let p = parts("GET", "/?token=a.b.c", &[]);
    assert_eq!(
        kind_of(auth.get_token_from_request(&p, TokenType::Access, FindOptions::new())),
        ErrorKind::MissingToken
    );
}

#[test]
fn json_key_reads_the_access_token_from_the_json_body() {
    let auth = build(AuthXConfig {
        token_location: vec![TokenLocation::Json],
        json_key: "at".into(),
        ..base()
    });
    let p = parts("POST", "/", &[]);
    let body = json!({"at": "a.b.c", "access_token": "x.y.z"});
    let rt = auth
        .get_token_from_request(&p, TokenType::Access, FindOptions::new().json(&body))
        .unwrap();
    assert_eq!(rt.token, "a.b.c");
    assert_eq!(rt.location, TokenLocation::Json);
}

#[test]
fn refresh_json_key_reads_the_refresh_token_from_the_json_body() {
    let auth = build(AuthXConfig {
        token_location: vec![TokenLocation::Json],
        refresh_json_key: "rt".into(),
        ..base()
    });
    let p = parts("POST", "/", &[]);
    let body = json!({"rt": "r.r.r", "at": "a.a.a", "refresh_token": "x.y.z"});
    let rt = auth
        .get_token_from_request(&p, TokenType::Refresh, FindOptions::new().json(&body))
        .unwrap();
    assert_eq!(rt.token, "r.r.r");
    assert_eq!(rt.kind, TokenType::Refresh);
}

#[test]
fn json_key_default_names() {
    let c = AuthXConfig::default();
    assert_eq!(c.json_key, "access_token");
    assert_eq!(c.refresh_json_key, "refresh_token");
    assert_eq!(c.query_string_name, "token");
}

// ---------------------------------------------------------------------------
// cookies
// ---------------------------------------------------------------------------

#[test]
fn access_cookie_name_and_path_appear_in_set_cookie() {
    let auth = build(AuthXConfig {
        access_cookie_name: "at".into(),
        access_cookie_path: "/api".into(),
        ..cookie_config()
    });
    let cookies = access_cookies(&auth);
    assert_eq!(cookie(&cookies, "at").attr("Path"), Some("/api"));
    assert_eq!(
        cookie(&cookies, "csrf_access_token").attr("Path"),
        Some("/")
    );
}

#[test]
fn refresh_cookie_name_and_path_appear_in_set_cookie() {
    let auth = build(AuthXConfig {
        refresh_cookie_name: "rt".into(),
        refresh_cookie_path: "/auth/refresh".into(),
        ..cookie_config()
    });
    let cookies = refresh_cookies(&auth);
    assert_eq!(cookie(&cookies, "rt").attr("Path"), Some("/auth/refresh"));
    assert_eq!(
        cookie(&cookies, "csrf_refresh_token").attr("Path"),
        Some("/")
    );
}

#[test]
fn access_cookie_name_is_read_from_requests() {
    let auth = build(AuthXConfig {
        token_location: vec![TokenLocation::Cookies],
        access_cookie_name: "at".into(),
        ..base()
    });
    let p = parts(
        "GET",
        "/",
        &[("cookie", "access_token_cookie=x.x.x; at=a.b.c")],
    );
    assert_eq!(find(&auth, &p, TokenType::Access).token, "a.b.c");
}

#[test]
fn refresh_cookie_name_is_read_from_requests() {
    let auth = build(AuthXConfig {
        token_location: vec![TokenLocation::Cookies],
        refresh_cookie_name: "rt".into(),
        ..base()
    });
    let p = parts(
        "GET",
        "/",
        &[("cookie", "refresh_token_cookie=x.x.x; rt=r.r.r")],
    );
    assert_eq!(find(&auth, &p, TokenType::Refresh).token, "r.r.r");
}

#[test]
fn access_csrf_cookie_name_and_path_appear_in_set_cookie() {
    let auth = build(AuthXConfig {
        access_csrf_cookie_name: "xsrf_a".into(),
        access_csrf_cookie_path: "/app".into(),
        ..cookie_config()
    });
    let cookies = access_cookies(&auth);
    assert_eq!(cookie(&cookies, "xsrf_a").attr("Path"), Some("/app"));
}

#[test]
fn refresh_csrf_cookie_name_and_path_appear_in_set_cookie() {
    let auth = build(AuthXConfig {
        refresh_csrf_cookie_name: "xsrf_r".into(),
        refresh_csrf_cookie_path: "/auth".into(),
        ..cookie_config()
    });
    let cookies = refresh_cookies(&auth);
    assert_eq!(cookie(&cookies, "xsrf_r").attr("Path"), Some("/auth"));
}

#[test]
fn cookie_domain_is_set_on_every_auth_cookie() {
    let auth = build(AuthXConfig {
        cookie_domain: Some("example.com".into()),
        ..cookie_config()
    });
    let mut all = access_cookies(&auth);
    all.extend(refresh_cookies(&auth));
    assert_eq!(all.len(), 4);
    for c in &all {
        assert_eq!(c.attr("Domain"), Some("example.com"), "{c:?}");
    }
}

#[test]
fn no_domain_by_default() {
    for c in access_cookies(&build(cookie_config())) {
        assert_eq!(c.attr("Domain"), None, "{c:?}");
    }
}

#[test]
fn cookie_secure_false_drops_secure() {
    let auth = build(AuthXConfig {
        cookie_secure: false,
        ..cookie_config()
    });
    for c in access_cookies(&auth) {
        assert!(!c.has("Secure"), "{c:?}");
    }
}

#[test]
fn cookie_secure_default_sets_secure() {
    for c in access_cookies(&build(cookie_config())) {
        assert!(c.has("Secure"), "{c:?}");
    }
}

#[test]
fn cookie_samesite_strict_is_emitted() {
    let auth = build(AuthXConfig {
        cookie_samesite: SameSite::Strict,
        ..cookie_config()
    });
    for c in access_cookies(&auth) {
        assert_eq!(c.attr("SameSite"), Some("Strict"), "{c:?}");
    }
}

#[test]
fn cookie_samesite_none_is_emitted_with_secure() {
    let auth = build(AuthXConfig {
        cookie_samesite: SameSite::None,
        ..cookie_config()
    });
    for c in access_cookies(&auth) {
        assert_eq!(c.attr("SameSite"), Some("None"), "{c:?}");
        assert!(c.has("Secure"), "{c:?}");
    }
}

#[test]
fn cookie_http_only_false_drops_httponly_on_the_token_cookie() {
    let auth = build(AuthXConfig {
        cookie_http_only: false,
        ..cookie_config()
    });
    let cookies = access_cookies(&auth);
    assert!(!cookie(&cookies, "access_token_cookie").has("HttpOnly"));
    assert!(!cookie(&cookies, "csrf_access_token").has("HttpOnly"));
}

#[test]
fn cookie_max_age_sets_max_age_on_both_cookies() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            cookie_max_age: Some(Duration::from_secs(120)),
            ..cookie_config()
        },
        &clock,
    );
    for c in access_cookies(&auth) {
        assert_eq!(c.attr("Max-Age"), Some("120"), "{c:?}");
    }
}

#[test]
fn cookie_max_age_is_capped_by_the_token_lifetime() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            cookie_max_age: Some(Duration::from_secs(24 * 3600)),
            ..cookie_config()
        },
        &clock,
    );
    for c in access_cookies(&auth) {
        assert_eq!(c.attr("Max-Age"), Some("900"), "{c:?}");
    }
}

#[test]
fn session_cookie_default_sets_no_max_age() {
    for c in access_cookies(&build(cookie_config())) {
        assert_eq!(c.attr("Max-Age"), None, "{c:?}");
        assert_eq!(c.attr("Expires"), None, "{c:?}");
    }
}

#[test]
fn session_cookie_false_gives_cookies_the_remaining_token_lifetime() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            session_cookie: false,
            ..cookie_config()
        },
        &clock,
    );
    let token = auth.create_refresh_token("u1").unwrap();
    clock.advance(Duration::from_secs(100));
    let mut headers = HeaderMap::new();
    auth.set_refresh_cookies(&token, &mut headers).unwrap();
    let expected = (20 * 24 * 3600 - 100).to_string();
    for c in set_cookies(&headers) {
        assert_eq!(c.attr("Max-Age"), Some(expected.as_str()), "{c:?}");
    }
}

// ---------------------------------------------------------------------------
// CSRF options
// ---------------------------------------------------------------------------

#[test]
fn cookie_csrf_protect_false_issues_no_csrf_claim_or_cookie() {
    let auth = build(AuthXConfig {
        cookie_csrf_protect: false,
        ..cookie_config()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert!(raw_claims(&token).get("csrf").is_none());
    let mut headers = HeaderMap::new();
    auth.set_access_cookies(&token, &mut headers).unwrap();
    let names: Vec<_> = set_cookies(&headers).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["access_token_cookie"]);
}

#[test]
fn cookie_csrf_protect_false_never_requires_csrf() {
    let auth = build(AuthXConfig {
        cookie_csrf_protect: false,
        ..cookie_config()
    });
    let p = parts("POST", "/", &[("cookie", "access_token_cookie=a.b.c")]);
    assert!(!find(&auth, &p, TokenType::Access).csrf_required);
}

#[test]
fn csrf_in_cookies_false_sets_only_the_token_cookie() {
    let auth = build(AuthXConfig {
        csrf_in_cookies: false,
        ..cookie_config()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert!(raw_claims(&token)["csrf"].is_string());
    let mut headers = HeaderMap::new();
    auth.set_access_cookies(&token, &mut headers).unwrap();
    let cookies = set_cookies(&headers);
    assert_eq!(cookies.len(), 1);
    assert_eq!(cookie(&cookies, "access_token_cookie").value, token);
}

#[test]
fn csrf_in_cookies_false_unsets_only_the_token_cookie() {
    let auth = build(AuthXConfig {
        csrf_in_cookies: false,
        ..cookie_config()
    });
    let mut headers = HeaderMap::new();
    auth.unset_refresh_cookies(&mut headers).unwrap();
    let names: Vec<_> = set_cookies(&headers).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["refresh_token_cookie"]);
}

#[test]
fn csrf_methods_decides_which_methods_require_csrf() {
    let auth = build(AuthXConfig {
        csrf_methods: vec![Method::GET],
        ..cookie_config()
    });
    let cookie = [("cookie", "access_token_cookie=a.b.c")];
    assert!(find(&auth, &parts("GET", "/", &cookie), TokenType::Access).csrf_required);
    assert!(!find(&auth, &parts("POST", "/", &cookie), TokenType::Access).csrf_required);
}

#[test]
fn csrf_methods_default_is_post_put_patch_delete() {
    assert_eq!(
        AuthXConfig::default().csrf_methods,
        [Method::POST, Method::PUT, Method::PATCH, Method::DELETE]
    );
}

#[test]
fn access_csrf_header_name_is_read_for_access_tokens() {
    let auth = build(AuthXConfig {
        access_csrf_header_name: "X-Access-Csrf".into(),
        ..cookie_config()
    });
    let p = parts(
        "POST",
        "/",
        &[
            ("cookie", "access_token_cookie=a.b.c"),
            ("x-access-csrf", "from-custom"),
            ("x-csrf-token", "from-default"),
        ],
    );
    let rt = find(&auth, &p, TokenType::Access);
    assert_eq!(rt.csrf.as_deref(), Some("from-custom"));
}

#[test]
fn refresh_csrf_header_name_is_read_for_refresh_tokens() {
    let auth = build(AuthXConfig {
        refresh_csrf_header_name: "X-Refresh-Csrf".into(),
        ..cookie_config()
    });
    let p = parts(
        "POST",
        "/",
        &[
            ("cookie", "refresh_token_cookie=r.r.r"),
            ("x-refresh-csrf", "from-custom"),
            ("x-csrf-token", "from-default"),
        ],
    );
    let rt = find(&auth, &p, TokenType::Refresh);
    assert_eq!(rt.csrf.as_deref(), Some("from-custom"));
}

#[test]
fn csrf_check_form_reads_the_access_csrf_field_name() {
    let auth = build(AuthXConfig {
        csrf_check_form: true,
        access_csrf_field_name: "xsrf".into(),
        ..cookie_config()
    });
    let token = auth.create_access_token("u1").unwrap();
    let csrf = auth.decode_token(&token).unwrap().csrf.unwrap();
    let p = parts(
        "POST",
        "/",
        &[("cookie", &format!("access_token_cookie={token}"))],
    );
    let form = format!("csrf_token=wrong&xsrf={csrf}");
    let rt = auth
        .get_token_from_request(
            &p,
            TokenType::Access,
            FindOptions::new().form(form.as_bytes()),
        )
        .unwrap();
    assert_eq!(rt.csrf.as_deref(), Some(csrf.as_str()));
    assert!(auth.verify_token(&rt, VerifyOptions::default()).is_ok());
}

#[test]
fn csrf_check_form_reads_the_refresh_csrf_field_name() {
    let auth = build(AuthXConfig {
        csrf_check_form: true,
        refresh_csrf_field_name: "rxsrf".into(),
        ..cookie_config()
    });
    let p = parts("POST", "/", &[("cookie", "refresh_token_cookie=r.r.r")]);
    let rt = auth
        .get_token_from_request(
            &p,
            TokenType::Refresh,
            FindOptions::new().form(b"csrf_token=wrong&rxsrf=value"),
        )
        .unwrap();
    assert_eq!(rt.csrf.as_deref(), Some("value"));
}

#[test]
fn csrf_check_form_false_ignores_the_form() {
    let auth = build(cookie_config());
    let p = parts("POST", "/", &[("cookie", "access_token_cookie=a.b.c")]);
    let rt = auth
        .get_token_from_request(
            &p,
            TokenType::Access,
            FindOptions::new().form(b"csrf_token=value"),
        )
        .unwrap();
    assert!(rt.csrf_required);
    assert_eq!(rt.csrf, None);
}

#[test]
fn csrf_header_wins_over_the_form_field() {
    let auth = build(AuthXConfig {
        csrf_check_form: true,
        ..cookie_config()
    });
    let p = parts(
        "POST",
        "/",
        &[
            ("cookie", "access_token_cookie=a.b.c"),
            ("x-csrf-token", "header"),
        ],
    );
    let rt = auth
        .get_token_from_request(
            &p,
            TokenType::Access,
            FindOptions::new().form(b"csrf_token=form"),
        )
        .unwrap();
    assert_eq!(rt.csrf.as_deref(), Some("header"));
}

// ---------------------------------------------------------------------------
// implicit refresh (consumed by the axum layer), max_token_length, weak secret
// ---------------------------------------------------------------------------

#[test]
fn implicit_refresh_defaults() {
    let c = AuthXConfig::default();
    assert!(c.implicit_refresh_route_exclude.is_empty());
    assert!(c.implicit_refresh_route_include.is_empty());
    assert!(c.implicit_refresh_method_exclude.is_empty());
    assert!(c.implicit_refresh_method_include.is_empty());
    assert_eq!(c.implicit_refresh_deltatime, Duration::from_secs(600));
}

#[test]
fn implicit_refresh_options_parse_from_lookup() {
    let c = lookup(&[
        (
            "JWT_IMPLICIT_REFRESH_ROUTE_EXCLUDE",
            r#"["/logout","/health"]"#,
        ),
        ("JWT_IMPLICIT_REFRESH_ROUTE_INCLUDE", "/api,/app"),
        ("JWT_IMPLICIT_REFRESH_METHOD_EXCLUDE", r#"["POST"]"#),
        ("JWT_IMPLICIT_REFRESH_METHOD_INCLUDE", "GET, HEAD"),
        ("JWT_IMPLICIT_REFRESH_DELTATIME", "120"),
    ])
    .unwrap();
    assert_eq!(c.implicit_refresh_route_exclude, ["/logout", "/health"]);
    assert_eq!(c.implicit_refresh_route_include, ["/api", "/app"]);
    assert_eq!(c.implicit_refresh_method_exclude, [Method::POST]);
    assert_eq!(
        c.implicit_refresh_method_include,
        [Method::GET, Method::HEAD]
    );
    assert_eq!(c.implicit_refresh_deltatime, Duration::from_secs(120));
}

#[test]
fn implicit_refresh_deltatime_bad_value_names_the_variable() {
    let msg = lookup_error(&[("JWT_IMPLICIT_REFRESH_DELTATIME", "ten minutes")]);
    assert!(msg.contains("JWT_IMPLICIT_REFRESH_DELTATIME"), "{msg}");
}

#[test]
fn max_token_length_rejects_longer_tokens_before_decoding() {
    let auth = build(AuthXConfig {
        max_token_length: 64,
        ..base()
    });
    let token = build(base()).create_access_token("u1").unwrap();
    assert!(token.len() > 64);
    assert_eq!(
        kind_of(auth.decode_token(&token)),
        ErrorKind::Malformed(Malformed::TooLong)
    );
}

#[test]
fn max_token_length_refuses_to_mint_longer_tokens() {
    let auth = build(AuthXConfig {
        max_token_length: 1024,
        ..base()
    });
    let opts = TokenOptions::new().claim("blob", "x".repeat(2048)).unwrap();
    let err = auth.create_access_token_with("u1", &opts).unwrap_err();
    assert!(err.to_string().contains("max_token_length"), "{err}");
}

#[test]
fn max_token_length_default_is_8_kib() {
    assert_eq!(AuthXConfig::default().max_token_length, 8 * 1024);
}

#[test]
fn max_token_length_out_of_range_is_a_config_error() {
    let msg = config_error(AuthXConfig {
        max_token_length: 10,
        ..base()
    });
    assert!(msg.contains("max_token_length"), "{msg}");
}

#[test]
fn weak_secret_is_refused_by_default() {
    let msg = config_error(AuthXConfig {
        secret_key: Some("your-secret-key".into()),
        ..AuthXConfig::default()
    });
    assert!(msg.contains("secret_key"), "{msg}");
}

#[test]
fn dangerous_allow_weak_secret_accepts_a_short_secret() {
    let auth = build(AuthXConfig {
        secret_key: Some("your-secret-key".into()),
        dangerous_allow_weak_secret: true,
        ..AuthXConfig::default()
    });
    let token = auth.create_access_token("u1").unwrap();
    assert_eq!(auth.decode_token(&token).unwrap().sub, "u1");
}

#[test]
fn dangerous_allow_weak_secret_still_refuses_an_empty_secret() {
    let msg = config_error(AuthXConfig {
        secret_key: Some("".into()),
        dangerous_allow_weak_secret: true,
        ..AuthXConfig::default()
    });
    assert!(msg.contains("secret_key"), "{msg}");
}

// ---------------------------------------------------------------------------
// validation errors name the option
// ---------------------------------------------------------------------------

fn hmac_config(alg: Algorithm, secret_len: usize) -> AuthXConfig {
    AuthXConfig {
        algorithm: alg,
        secret_key: Some("s".repeat(secret_len).into()),
        ..AuthXConfig::default()
    }
}

#[test]
fn hs256_secret_of_31_bytes_is_refused() {
    let msg = config_error(hmac_config(Algorithm::HS256, 31));
    assert!(msg.contains("secret_key") && msg.contains("32"), "{msg}");
}

#[test]
fn hs256_secret_of_32_bytes_is_accepted() {
    assert!(AuthX::new(hmac_config(Algorithm::HS256, 32)).is_ok());
}

#[test]
fn hs384_secret_of_47_bytes_is_refused() {
    let msg = config_error(hmac_config(Algorithm::HS384, 47));
    assert!(msg.contains("secret_key") && msg.contains("48"), "{msg}");
}

#[test]
fn hs384_secret_of_48_bytes_is_accepted() {
    assert!(AuthX::new(hmac_config(Algorithm::HS384, 48)).is_ok());
}

#[test]
fn hs512_secret_of_63_bytes_is_refused() {
    let msg = config_error(hmac_config(Algorithm::HS512, 63));
    assert!(msg.contains("secret_key") && msg.contains("64"), "{msg}");
}

#[test]
fn hs512_secret_of_64_bytes_is_accepted() {
    assert!(AuthX::new(hmac_config(Algorithm::HS512, 64)).is_ok());
}

#[test]
fn short_previous_secret_key_is_refused() {
    let msg = config_error(AuthXConfig {
        previous_secret_key: Some("short".into()),
        ..base()
    });
    assert!(msg.contains("previous_secret_key"), "{msg}");
}

#[test]
fn hs256_without_secret_key_names_secret_key() {
    let msg = config_error(AuthXConfig::default());
    assert!(msg.contains("secret_key"), "{msg}");
}

#[test]
fn es256_without_any_key_names_private_key() {
    let msg = config_error(AuthXConfig {
        algorithm: Algorithm::ES256,
        ..AuthXConfig::default()
    });
    assert!(msg.contains("private_key"), "{msg}");
}

#[test]
fn unknown_location_from_lookup_names_jwt_token_location() {
    let msg = lookup_error(&[("JWT_TOKEN_LOCATION", r#"["headers","body"]"#)]);
    assert!(msg.contains("JWT_TOKEN_LOCATION"), "{msg}");
    assert!(msg.contains("body"), "{msg}");
}

#[test]
fn host_prefix_cookie_with_cookie_domain_is_refused() {
    let msg = config_error(AuthXConfig {
        refresh_cookie_name: "__Host-refresh".into(),
        cookie_domain: Some("example.com".into()),
        ..cookie_config()
    });
    assert!(
        msg.contains("refresh_cookie_name") && msg.contains("cookie_domain"),
        "{msg}"
    );
}

#[test]
fn host_prefix_cookie_with_a_non_root_path_is_refused() {
    let msg = config_error(AuthXConfig {
        refresh_cookie_name: "__Host-refresh".into(),
        refresh_cookie_path: "/auth".into(),
        ..cookie_config()
    });
    assert!(msg.contains("refresh_cookie_path"), "{msg}");
}

#[test]
fn host_prefix_cookie_without_cookie_secure_is_refused() {
    let msg = config_error(AuthXConfig {
        access_csrf_cookie_name: "__Host-csrf".into(),
        cookie_secure: false,
        ..cookie_config()
    });
    assert!(
        msg.contains("access_csrf_cookie_name") && msg.contains("cookie_secure"),
        "{msg}"
    );
}

#[test]
fn host_prefix_cookie_with_root_path_and_secure_is_accepted() {
    let auth = build(AuthXConfig {
        refresh_cookie_name: "__Host-refresh".into(),
        ..cookie_config()
    });
    let cookies = refresh_cookies(&auth);
    let c = cookie(&cookies, "__Host-refresh");
    assert!(c.has("Secure") && c.attr("Path") == Some("/") && c.attr("Domain").is_none());
}

#[test]
fn secure_prefix_cookie_without_cookie_secure_is_refused() {
    let msg = config_error(AuthXConfig {
        access_cookie_name: "__Secure-access".into(),
        cookie_secure: false,
        ..cookie_config()
    });
    assert!(msg.contains("access_cookie_name"), "{msg}");
}

#[test]
fn samesite_none_without_secure_is_refused() {
    let msg = config_error(AuthXConfig {
        cookie_samesite: SameSite::None,
        cookie_secure: false,
        ..cookie_config()
    });
    assert!(msg.contains("cookie_samesite"), "{msg}");
}

#[test]
fn empty_token_location_is_refused() {
    let msg = config_error(AuthXConfig {
        token_location: vec![],
        ..base()
    });
    assert!(msg.contains("token_location"), "{msg}");
}

#[test]
fn duplicate_token_location_is_refused() {
    let msg = config_error(AuthXConfig {
        token_location: vec![TokenLocation::Headers, TokenLocation::Headers],
        ..base()
    });
    assert!(msg.contains("token_location"), "{msg}");
}

#[test]
fn invalid_cookie_name_is_refused() {
    let msg = config_error(AuthXConfig {
        access_cookie_name: "bad name".into(),
        ..cookie_config()
    });
    assert!(msg.contains("access_cookie_name"), "{msg}");
}

#[test]
fn cookie_path_without_leading_slash_is_refused() {
    let msg = config_error(AuthXConfig {
        refresh_csrf_cookie_path: "auth".into(),
        ..cookie_config()
    });
    assert!(msg.contains("refresh_csrf_cookie_path"), "{msg}");
}

#[test]
fn zero_access_token_expires_is_refused() {
    let msg = config_error(AuthXConfig {
        access_token_expires: Duration::ZERO,
        ..base()
    });
    assert!(msg.contains("access_token_expires"), "{msg}");
}

// ---------------------------------------------------------------------------
// from_lookup: AuthX names and formats
// ---------------------------------------------------------------------------

#[test]
fn lookup_with_nothing_set_gives_the_defaults() {
    let c = lookup(&[]).unwrap();
    let d = AuthXConfig::default();
    assert_eq!(c.token_location, d.token_location);
    assert_eq!(c.access_token_expires, d.access_token_expires);
    assert_eq!(c.cookie_samesite, d.cookie_samesite);
    assert_eq!(c.csrf_methods, d.csrf_methods);
    assert!(c.secret_key.is_none());
}

#[test]
fn lookup_token_location_json_list() {
    let c = lookup(&[("JWT_TOKEN_LOCATION", r#"["headers","cookies"]"#)]).unwrap();
    assert_eq!(
        c.token_location,
        [TokenLocation::Headers, TokenLocation::Cookies]
    );
}

#[test]
fn lookup_token_location_comma_list() {
    let c = lookup(&[("JWT_TOKEN_LOCATION", "cookies, headers,query")]).unwrap();
    assert_eq!(
        c.token_location,
        [
            TokenLocation::Cookies,
            TokenLocation::Headers,
            TokenLocation::Query
        ]
    );
}

#[test]
fn lookup_duplicate_location_fails_validation() {
    let c = lookup(&[
        ("JWT_SECRET_KEY", SECRET),
        ("JWT_TOKEN_LOCATION", r#"["headers","headers"]"#),
    ])
    .unwrap();
    let msg = config_error(c);
    assert!(msg.contains("token_location"), "{msg}");
}

#[test]
fn lookup_duration_integer_seconds() {
    let c = lookup(&[
        ("JWT_ACCESS_TOKEN_EXPIRES", "300"),
        ("JWT_REFRESH_TOKEN_EXPIRES", "86400"),
        ("JWT_DECODE_LEEWAY", "5"),
    ])
    .unwrap();
    assert_eq!(c.access_token_expires, Duration::from_secs(300));
    assert_eq!(c.refresh_token_expires, Duration::from_secs(86400));
    assert_eq!(c.decode_leeway, Duration::from_secs(5));
}

#[test]
fn lookup_duration_float_seconds() {
    let c = lookup(&[("JWT_DECODE_LEEWAY", "1.5")]).unwrap();
    assert_eq!(c.decode_leeway, Duration::from_millis(1500));
}

#[test]
fn lookup_cookie_max_age_seconds() {
    let c = lookup(&[("JWT_COOKIE_MAX_AGE", "3600")]).unwrap();
    assert_eq!(c.cookie_max_age, Some(Duration::from_secs(3600)));
}

#[test]
fn lookup_booleans_true_false_one_zero() {
    let c = lookup(&[
        ("JWT_COOKIE_SECURE", "false"),
        ("JWT_COOKIE_CSRF_PROTECT", "0"),
        ("JWT_CSRF_CHECK_FORM", "true"),
        ("JWT_SESSION_COOKIE", "False"),
        ("JWT_ENCODE_NBF", "no"),
        ("JWT_CSRF_IN_COOKIES", "1"),
        ("AUTHX_DANGEROUS_ALLOW_WEAK_SECRET", "TRUE"),
    ])
    .unwrap();
    assert!(!c.cookie_secure);
    assert!(!c.cookie_csrf_protect);
    assert!(c.csrf_check_form);
    assert!(!c.session_cookie);
    assert!(!c.encode_nbf);
    assert!(c.csrf_in_cookies);
    assert!(c.dangerous_allow_weak_secret);
}

#[test]
fn lookup_cookie_samesite_none() {
    let c = lookup(&[("JWT_COOKIE_SAMESITE", "none")]).unwrap();
    assert_eq!(c.cookie_samesite, SameSite::None);
}

#[test]
fn lookup_cookie_samesite_strict() {
    let c = lookup(&[("JWT_COOKIE_SAMESITE", "strict")]).unwrap();
    assert_eq!(c.cookie_samesite, SameSite::Strict);
}

#[test]
fn lookup_csrf_methods_json_list() {
    let c = lookup(&[("JWT_CSRF_METHODS", r#"["POST"]"#)]).unwrap();
    assert_eq!(c.csrf_methods, [Method::POST]);
}

#[test]
fn lookup_lowercase_csrf_method_is_not_silently_ignored() {
    // AuthX refuses "post" (pydantic Literal of upper-case methods). A
    // lower-case name parsed as the extension method "post" would never
    // equal a request's POST, silently turning CSRF off: it must either be
    // read as POST or be refused naming the variable.
    match lookup(&[("JWT_CSRF_METHODS", r#"["post"]"#)]) {
        Ok(c) => assert_eq!(c.csrf_methods, [Method::POST]),
        Err(e) => assert!(e.to_string().contains("JWT_CSRF_METHODS"), "{e}"),
    }
}

#[test]
fn lookup_lowercase_csrf_methods_still_protect_post_cookie_requests() {
    let Ok(config) = lookup(&[
        ("JWT_SECRET_KEY", SECRET),
        ("JWT_TOKEN_LOCATION", "cookies"),
        ("JWT_CSRF_METHODS", r#"["post","put","patch","delete"]"#),
    ]) else {
        return; // refusing the value is also correct
    };
    let auth = build(config);
    let p = parts("POST", "/", &[("cookie", "access_token_cookie=a.b.c")]);
    assert!(
        find(&auth, &p, TokenType::Access).csrf_required,
        "a POST with a cookie token must be CSRF-checked"
    );
}

#[test]
fn lookup_strings_and_secrets() {
    let c = lookup(&[
        ("JWT_SECRET_KEY", SECRET),
        ("JWT_ALGORITHM", "HS384"),
        ("JWT_DECODE_ALGORITHMS", r#"["HS384","HS512"]"#),
        ("JWT_HEADER_NAME", "X-Token"),
        ("JWT_HEADER_TYPE", "JWT"),
        ("JWT_ACCESS_COOKIE_NAME", "at"),
        ("JWT_REFRESH_COOKIE_PATH", "/refresh"),
        ("JWT_COOKIE_DOMAIN", "example.com"),
        ("JWT_QUERY_STRING_NAME", "jwt"),
        ("JWT_IDENTITY_CLAIM", "uid"),
        ("JWT_ERROR_MESSAGE_KEY", "msg"),
        ("JWT_DECODE_AUDIENCE", "api,web"),
        ("JWT_ENCODE_ISSUER", "me"),
        ("JWT_KID", "k1"),
        ("JWT_MAX_TOKEN_LENGTH", "4096"),
    ])
    .unwrap();
    assert_eq!(c.secret_key.as_ref().unwrap().expose(), SECRET);
    assert_eq!(c.algorithm, Algorithm::HS384);
    assert_eq!(c.decode_algorithms, [Algorithm::HS384, Algorithm::HS512]);
    assert_eq!(c.header_name, "X-Token");
    assert_eq!(c.header_type, "JWT");
    assert_eq!(c.access_cookie_name, "at");
    assert_eq!(c.refresh_cookie_path, "/refresh");
    assert_eq!(c.cookie_domain.as_deref(), Some("example.com"));
    assert_eq!(c.query_string_name, "jwt");
    assert_eq!(c.identity_claim, "uid");
    assert_eq!(c.error_message_key, "msg");
    assert_eq!(c.decode_audience, ["api", "web"]);
    assert_eq!(c.encode_issuer.as_deref(), Some("me"));
    assert_eq!(c.kid.as_deref(), Some("k1"));
    assert_eq!(c.max_token_length, 4096);
}

#[test]
fn authx_debug_output_does_not_contain_the_secrets() {
    let auth = build(AuthXConfig {
        previous_secret_key: Some(OTHER_SECRET.into()),
        ..base()
    });
    let debug = format!("{auth:?}");
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains(OTHER_SECRET), "{debug}");
}

#[test]
fn lookup_secret_key_is_redacted_in_debug_output() {
    let c = lookup(&[("JWT_SECRET_KEY", SECRET)]).unwrap();
    assert!(!format!("{c:?}").contains(SECRET));
}

#[test]
fn lookup_bad_duration_names_the_variable() {
    let msg = lookup_error(&[("JWT_ACCESS_TOKEN_EXPIRES", "15m")]);
    assert!(msg.contains("JWT_ACCESS_TOKEN_EXPIRES"), "{msg}");
}

#[test]
fn lookup_negative_duration_names_the_variable() {
    let msg = lookup_error(&[("JWT_REFRESH_TOKEN_EXPIRES", "-1")]);
    assert!(msg.contains("JWT_REFRESH_TOKEN_EXPIRES"), "{msg}");
}

#[test]
fn lookup_nan_duration_names_the_variable() {
    let msg = lookup_error(&[("JWT_DECODE_LEEWAY", "NaN")]);
    assert!(msg.contains("JWT_DECODE_LEEWAY"), "{msg}");
}

#[test]
fn lookup_bad_cookie_max_age_names_the_variable() {
    let msg = lookup_error(&[("JWT_COOKIE_MAX_AGE", "forever")]);
    assert!(msg.contains("JWT_COOKIE_MAX_AGE"), "{msg}");
}

#[test]
fn lookup_bad_boolean_names_the_variable() {
    let msg = lookup_error(&[("JWT_COOKIE_SECURE", "maybe")]);
    assert!(msg.contains("JWT_COOKIE_SECURE"), "{msg}");
}

#[test]
fn lookup_bad_samesite_names_the_variable() {
    let msg = lookup_error(&[("JWT_COOKIE_SAMESITE", "sideways")]);
    assert!(msg.contains("JWT_COOKIE_SAMESITE"), "{msg}");
}

#[test]
fn lookup_algorithm_none_names_the_variable() {
    let msg = lookup_error(&[("JWT_ALGORITHM", "none")]);
    assert!(msg.contains("JWT_ALGORITHM"), "{msg}");
}

#[test]
fn lookup_malformed_json_list_names_the_variable() {
    let msg = lookup_error(&[("JWT_TOKEN_LOCATION", r#"["headers","#)]);
    assert!(msg.contains("JWT_TOKEN_LOCATION"), "{msg}");
}

#[test]
fn lookup_json_list_of_non_strings_names_the_variable() {
    let msg = lookup_error(&[("JWT_CSRF_METHODS", "[1, 2]")]);
    assert!(msg.contains("JWT_CSRF_METHODS"), "{msg}");
}

#[test]
fn lookup_invalid_method_names_the_variable() {
    let msg = lookup_error(&[("JWT_CSRF_METHODS", r#"["PO ST"]"#)]);
    assert!(msg.contains("JWT_CSRF_METHODS"), "{msg}");
}

#[test]
fn lookup_bad_max_token_length_names_the_variable() {
    let msg = lookup_error(&[("JWT_MAX_TOKEN_LENGTH", "8k")]);
    assert!(msg.contains("JWT_MAX_TOKEN_LENGTH"), "{msg}");
}
