//! The verified-token cache (`AuthXBuilder::verified_token_cache`): a token
//! served from the cache gets the same answer as one verified from scratch.
//! Each test first makes the token a cache hit, then asserts that the
//! checks which must still run on every use still refuse it, with the
//! specific error.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use authx::clock::ManualClock;
use authx::{
    AuthX, AuthXConfig, ErrorKind, RequestToken, TokenLocation, TokenOptions, TokenPayload,
    TokenType, VerifyOptions,
};

const SECRET: &str = "verified-token-cache-secret-0123456789abcdef";
const NOW: i64 = 1_700_000_000;

fn config() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..Default::default()
    }
}

fn cached(clock: &ManualClock) -> AuthX {
    cached_with(config(), clock)
}

fn cached_with(config: AuthXConfig, clock: &ManualClock) -> AuthX {
    AuthX::builder(config)
        .clock(Arc::new(clock.clone()))
        .verified_token_cache(64)
        .build()
        .unwrap()
}

/// Verifies `token` twice, so the second answer comes from the cache.
fn warm(auth: &AuthX, token: &str) -> TokenPayload {
    let first = auth.decode_token(token).unwrap();
    let second = auth.decode_token(token).unwrap();
    assert_eq!(first, second);
    second
}

fn header_token(token: &str, kind: TokenType) -> RequestToken {
    RequestToken::new(token.to_owned(), TokenLocation::Headers, kind)
}

#[test]
fn a_hit_returns_what_a_full_verification_returns() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached(&clock);
    let plain = AuthX::with_clock(config(), Arc::new(clock.clone())).unwrap();
    let opts = TokenOptions::new()
        .fresh(true)
        .scopes(["read", "write"])
        .claim("email", "user1@example.com")
        .unwrap();
    let token = auth.create_access_token_with("user1", &opts).unwrap();
    let hit = warm(&auth, &token);
    assert_eq!(hit, plain.decode_token(&token).unwrap());
    assert_eq!(hit.extra["email"], "user1@example.com");
    assert!(hit.fresh);
}

#[test]
fn expiry_is_checked_on_every_hit() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached(&clock);
    let opts = TokenOptions::new().expiry(Duration::from_secs(60));
    let token = auth.create_access_token_with("user1", &opts).unwrap();
    warm(&auth, &token);
    clock.advance(Duration::from_secs(59));
    assert!(auth.decode_token(&token).is_ok());
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        auth.decode_token(&token).unwrap_err(),
        ErrorKind::ExpiredToken
    );
}

#[test]
fn issued_at_is_checked_on_every_hit() {
    let clock = ManualClock::at_secs(NOW);
    // Without `nbf`, so `iat` is what a clock set back trips over.
    let auth = cached_with(
        AuthXConfig {
            encode_nbf: false,
            ..config()
        },
        &clock,
    );
    let token = auth.create_access_token("user1").unwrap();
    warm(&auth, &token);
    // The clock is set back (say, corrected by NTP): the token now claims
    // to be issued in the future.
    clock.set_millis((NOW - 60) * 1000);
    assert_eq!(
        auth.decode_token(&token).unwrap_err(),
        ErrorKind::IssuedInFuture
    );
}

#[test]
fn not_before_is_checked_on_every_hit() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached_with(
        AuthXConfig {
            encode_nbf: true,
            ..config()
        },
        &clock,
    );
    let token = auth.create_access_token("user1").unwrap();
    warm(&auth, &token);
    clock.set_millis((NOW - 60) * 1000);
    let err = auth.decode_token(&token).unwrap_err();
    // nbf and iat are both in the future now; nbf is checked first.
    assert_eq!(err, ErrorKind::ImmatureToken);
}

#[test]
fn type_freshness_and_csrf_are_checked_on_every_hit() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached(&clock);
    let token = auth.create_access_token("user1").unwrap();
    warm(&auth, &token);

    let as_refresh = header_token(&token, TokenType::Refresh);
    assert_eq!(
        auth.verify_token(&as_refresh, VerifyOptions::default())
            .unwrap_err(),
        ErrorKind::RefreshTokenRequired
    );

    let fresh = VerifyOptions {
        verify_fresh: true,
        ..Default::default()
    };
    assert_eq!(
        auth.verify_token(&header_token(&token, TokenType::Access), fresh)
            .unwrap_err(),
        ErrorKind::FreshTokenRequired
    );

    let mut from_cookie =
        RequestToken::new(token.clone(), TokenLocation::Cookies, TokenType::Access);
    from_cookie.csrf_required = true;
    assert_eq!(
        auth.verify_token(&from_cookie, VerifyOptions::default())
            .unwrap_err(),
        ErrorKind::MissingCsrfToken
    );
    from_cookie.csrf = Some("not-the-claim".into());
    assert_eq!(
        auth.verify_token(&from_cookie, VerifyOptions::default())
            .unwrap_err(),
        ErrorKind::CsrfMismatch
    );
    from_cookie.csrf = warm(&auth, &token).csrf;
    assert!(
        auth.verify_token(&from_cookie, VerifyOptions::default())
            .is_ok()
    );
}

#[tokio::test]
async fn the_revocation_hook_runs_on_every_hit() {
    let clock = ManualClock::at_secs(NOW);
    let revoked = Arc::new(AtomicBool::new(false));
    let flag = revoked.clone();
    let auth = AuthX::builder(config())
        .clock(Arc::new(clock))
        .verified_token_cache(64)
        .revocation(move |_: &TokenPayload| flag.load(Ordering::SeqCst))
        .build()
        .unwrap();
    let token = auth.create_access_token("user1").unwrap();
    let rt = header_token(&token, TokenType::Access);
    for _ in 0..2 {
        auth.authenticate(&rt, VerifyOptions::default())
            .await
            .unwrap();
    }
    revoked.store(true, Ordering::SeqCst);
    assert_eq!(
        auth.authenticate(&rt, VerifyOptions::default())
            .await
            .unwrap_err(),
        ErrorKind::RevokedToken
    );
}

#[test]
fn a_token_one_character_away_from_a_cached_one_is_verified_in_full() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached(&clock);
    let token = auth.create_access_token("user1").unwrap();
    warm(&auth, &token);
    // A middle character of the signature (the last carries only 4 bits).
    let sig_start = token.rfind('.').unwrap() + 1;
    let i = sig_start + (token.len() - sig_start) / 2;
    let mut bytes = token.clone().into_bytes();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        auth.decode_token(&tampered).unwrap_err(),
        ErrorKind::InvalidSignature
    );
    // A cut-off or extended copy of the cached text is not a hit either.
    assert!(auth.decode_token(&token[..token.len() - 1]).is_err());
    assert!(auth.decode_token(&format!("{token}A")).is_err());
    // And the original is still served.
    assert!(auth.decode_token(&token).is_ok());
}

#[test]
fn the_cache_belongs_to_one_instance_and_its_keys() {
    let clock = ManualClock::at_secs(NOW);
    let issuer = cached(&clock);
    let token = issuer.create_access_token("user1").unwrap();
    warm(&issuer, &token);
    let other = cached_with(
        AuthXConfig {
            secret_key: Some("a-different-secret-0123456789abcdef-xyz".into()),
            ..config()
        },
        &clock,
    );
    assert_eq!(
        other.decode_token(&token).unwrap_err(),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn refused_tokens_stay_refused_when_presented_again() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached(&clock);
    let opts = TokenOptions::new().expiry(Duration::from_secs(1));
    let token = auth.create_access_token_with("user1", &opts).unwrap();
    clock.advance(Duration::from_secs(5));
    for _ in 0..3 {
        assert_eq!(
            auth.decode_token(&token).unwrap_err(),
            ErrorKind::ExpiredToken
        );
    }
    // Turning the clock back makes it valid again: nothing about a refusal
    // was remembered.
    clock.set_millis(NOW * 1000);
    assert!(auth.decode_token(&token).is_ok());
}

#[test]
fn refresh_tokens_get_the_same_answers_through_a_cached_instance() {
    let clock = ManualClock::at_secs(NOW);
    let auth = cached(&clock);
    let plain = AuthX::with_clock(config(), Arc::new(clock.clone())).unwrap();
    let refresh = auth.create_refresh_token("user1").unwrap();
    assert_eq!(
        auth.decode_token(&refresh).unwrap(),
        plain.decode_token(&refresh).unwrap()
    );
    let rt = header_token(&refresh, TokenType::Access);
    assert_eq!(
        auth.verify_token(&rt, VerifyOptions::default())
            .unwrap_err(),
        ErrorKind::AccessTokenRequired
    );
}
