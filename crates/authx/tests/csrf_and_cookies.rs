//! The cookie and CSRF double-submit flow through the public API: the exact
//! `Set-Cookie` attributes (K-C1..K-C5), the CSRF checks (X1..X4), and the
//! mapping of every error kind to a status, an AuthX `error_type` and a
//! `WWW-Authenticate` challenge (H2, H3).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use authx::clock::ManualClock;
use authx::{
    AuthX, AuthXConfig, ErrorKind, FindOptions, Malformed, TokenLocation, TokenPayload, TokenType,
    VerifyOptions, cookies,
};
use http::request::Parts;
use http::{HeaderMap, StatusCode};

const SECRET: &str = "csrf-and-cookies-test-secret-0123456789ab";
const NOW: i64 = 1_700_000_000;
const EPOCH: &str = "Expires=Thu, 01 Jan 1970 00:00:00 GMT";

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn config() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..AuthXConfig::default()
    }
}

fn build(config: AuthXConfig) -> AuthX {
    AuthX::new(config).unwrap()
}

fn build_at(config: AuthXConfig, clock: &ManualClock) -> AuthX {
    AuthX::with_clock(config, Arc::new(clock.clone())).unwrap()
}

#[derive(Debug)]
struct SetCookie {
    name: String,
    value: String,
    attrs: BTreeSet<String>,
}

impl SetCookie {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
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

fn attrs(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// What a login response gives the browser.
struct Login {
    access: String,
    refresh: String,
    access_csrf: String,
    refresh_csrf: String,
    cookies: Vec<SetCookie>,
}

impl Login {
    /// The `Cookie` request header a browser would send back.
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn login(auth: &AuthX) -> Login {
    let access = auth.create_access_token("user1").unwrap();
    let refresh = auth.create_refresh_token("user1").unwrap();
    let mut headers = HeaderMap::new();
    auth.set_access_cookies(&access, &mut headers).unwrap();
    auth.set_refresh_cookies(&refresh, &mut headers).unwrap();
    let cookies = set_cookies(&headers);
    Login {
        access_csrf: cookie(&cookies, "csrf_access_token").value.clone(),
        refresh_csrf: cookie(&cookies, "csrf_refresh_token").value.clone(),
        access,
        refresh,
        cookies,
    }
}

fn request(method: &str, cookie_header: &str, csrf: Option<&str>) -> Parts {
    let mut b = http::Request::builder()
        .method(method)
        .uri("/")
        .header("cookie", cookie_header);
    if let Some(csrf) = csrf {
        b = b.header("x-csrf-token", csrf);
    }
    b.body(()).unwrap().into_parts().0
}

fn verify(auth: &AuthX, parts: &Parts, kind: TokenType) -> authx::Result<TokenPayload> {
    let rt = auth.get_token_from_request(parts, kind, FindOptions::new())?;
    auth.verify_token(&rt, VerifyOptions::default())
}

fn err<T: std::fmt::Debug>(r: authx::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").into_kind()
}

fn access_set_cookies(auth: &AuthX) -> Vec<SetCookie> {
    let mut headers = HeaderMap::new();
    let token = auth.create_access_token("user1").unwrap();
    auth.set_access_cookies(&token, &mut headers).unwrap();
    set_cookies(&headers)
}

fn refresh_set_cookies(auth: &AuthX) -> Vec<SetCookie> {
    let mut headers = HeaderMap::new();
    let token = auth.create_refresh_token("user1").unwrap();
    auth.set_refresh_cookies(&token, &mut headers).unwrap();
    set_cookies(&headers)
}

// ---------------------------------------------------------------------------
// Set-Cookie (K-C1, K-C2, K-C3)
// ---------------------------------------------------------------------------

#[test]
fn set_access_cookies_emits_the_csrf_cookie_then_the_token_cookie() {
    let names: Vec<_> = access_set_cookies(&build(config()))
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["csrf_access_token", "access_token_cookie"]);
}

#[test]
fn set_refresh_cookies_emits_the_csrf_cookie_then_the_token_cookie() {
    let names: Vec<_> = refresh_set_cookies(&build(config()))
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["csrf_refresh_token", "refresh_token_cookie"]);
}

#[test]
fn access_token_cookie_attributes_are_exact() {
    let cookies = access_set_cookies(&build(config()));
    assert_eq!(
        cookie(&cookies, "access_token_cookie").attrs,
        attrs(&["HttpOnly", "SameSite=Lax", "Secure", "Path=/"])
    );
}

#[test]
fn access_csrf_cookie_attributes_are_exact() {
    let cookies = access_set_cookies(&build(config()));
    assert_eq!(
        cookie(&cookies, "csrf_access_token").attrs,
        attrs(&["SameSite=Lax", "Secure", "Path=/"])
    );
}

#[test]
fn refresh_cookie_is_httponly_and_csrf_cookie_is_not() {
    let cookies = refresh_set_cookies(&build(config()));
    assert_eq!(
        cookie(&cookies, "refresh_token_cookie").attrs,
        attrs(&["HttpOnly", "SameSite=Lax", "Secure", "Path=/"])
    );
    assert_eq!(
        cookie(&cookies, "csrf_refresh_token").attrs,
        attrs(&["SameSite=Lax", "Secure", "Path=/"])
    );
}

#[test]
fn domain_is_set_on_token_and_csrf_cookies_when_configured() {
    let auth = build(AuthXConfig {
        cookie_domain: Some("example.com".into()),
        ..config()
    });
    let cookies = refresh_set_cookies(&auth);
    assert_eq!(
        cookie(&cookies, "refresh_token_cookie").attrs,
        attrs(&[
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Domain=example.com"
        ])
    );
    assert_eq!(
        cookie(&cookies, "csrf_refresh_token").attr("Domain"),
        Some("example.com")
    );
}

#[test]
fn token_and_csrf_cookies_keep_separate_paths() {
    let auth = build(AuthXConfig {
        refresh_cookie_path: "/auth/refresh".into(),
        ..config()
    });
    let cookies = refresh_set_cookies(&auth);
    assert_eq!(
        cookie(&cookies, "refresh_token_cookie").attr("Path"),
        Some("/auth/refresh")
    );
    assert_eq!(
        cookie(&cookies, "csrf_refresh_token").attr("Path"),
        Some("/")
    );
}

#[test]
fn max_age_and_expires_are_absent_by_default() {
    for c in refresh_set_cookies(&build(config())) {
        assert_eq!(c.attr("Max-Age"), None, "{c:?}");
        assert_eq!(c.attr("Expires"), None, "{c:?}");
    }
}

#[test]
fn cookie_max_age_larger_than_the_token_lifetime_is_capped() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            cookie_max_age: Some(Duration::from_secs(365 * 24 * 3600)),
            ..config()
        },
        &clock,
    );
    for c in access_set_cookies(&auth) {
        assert_eq!(c.attr("Max-Age"), Some("900"), "{c:?}");
    }
    for c in refresh_set_cookies(&auth) {
        assert_eq!(c.attr("Max-Age"), Some("1728000"), "{c:?}");
    }
}

#[test]
fn explicit_max_age_larger_than_the_token_lifetime_is_capped() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(config(), &clock);
    let token = auth.create_access_token("user1").unwrap();
    clock.advance(Duration::from_secs(300));
    let mut headers = HeaderMap::new();
    auth.set_cookies(
        TokenType::Access,
        &token,
        &mut headers,
        Some(Duration::from_secs(3600)),
    )
    .unwrap();
    for c in set_cookies(&headers) {
        assert_eq!(c.attr("Max-Age"), Some("600"), "{c:?}");
    }
}

#[test]
fn cookie_max_age_shorter_than_the_token_lifetime_is_kept() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            cookie_max_age: Some(Duration::from_secs(60)),
            ..config()
        },
        &clock,
    );
    for c in refresh_set_cookies(&auth) {
        assert_eq!(c.attr("Max-Age"), Some("60"), "{c:?}");
    }
}

#[test]
fn session_cookie_false_gives_max_age_equal_to_the_remaining_lifetime() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(
        AuthXConfig {
            session_cookie: false,
            ..config()
        },
        &clock,
    );
    let token = auth.create_access_token("user1").unwrap();
    clock.advance(Duration::from_millis(100_500));
    let mut headers = HeaderMap::new();
    auth.set_access_cookies(&token, &mut headers).unwrap();
    for c in set_cookies(&headers) {
        assert_eq!(c.attr("Max-Age"), Some("799"), "{c:?}");
    }
}

#[test]
fn token_cookie_value_is_the_token() {
    let auth = build(config());
    let l = login(&auth);
    assert_eq!(cookie(&l.cookies, "access_token_cookie").value, l.access);
    assert_eq!(cookie(&l.cookies, "refresh_token_cookie").value, l.refresh);
}

#[test]
fn access_csrf_cookie_value_equals_the_access_token_csrf_claim() {
    let auth = build(config());
    let l = login(&auth);
    let claim = auth.decode_token(&l.access).unwrap().csrf.unwrap();
    assert_eq!(l.access_csrf, claim);
}

#[test]
fn refresh_csrf_cookie_value_equals_the_refresh_token_csrf_claim() {
    let auth = build(config());
    let l = login(&auth);
    let claim = auth.decode_token(&l.refresh).unwrap().csrf.unwrap();
    assert_eq!(l.refresh_csrf, claim);
}

#[test]
fn access_and_refresh_csrf_values_are_independent() {
    let l = login(&build(config()));
    assert_ne!(l.access_csrf, l.refresh_csrf);
}

#[test]
fn csrf_value_carries_at_least_128_random_bits() {
    let l = login(&build(config()));
    // base64url: 22 characters carry 132 bits.
    assert!(l.access_csrf.len() >= 22, "{}", l.access_csrf);
    assert!(
        l.access_csrf
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
}

#[test]
fn set_access_cookies_with_a_refresh_token_is_access_token_required() {
    let auth = build(config());
    let refresh = auth.create_refresh_token("user1").unwrap();
    let mut headers = HeaderMap::new();
    assert_eq!(
        err(auth.set_access_cookies(&refresh, &mut headers)),
        ErrorKind::AccessTokenRequired
    );
    assert!(headers.is_empty());
}

#[test]
fn set_refresh_cookies_with_an_access_token_is_refresh_token_required() {
    let auth = build(config());
    let access = auth.create_access_token("user1").unwrap();
    let mut headers = HeaderMap::new();
    assert_eq!(
        err(auth.set_refresh_cookies(&access, &mut headers)),
        ErrorKind::RefreshTokenRequired
    );
    assert!(headers.is_empty());
}

#[test]
fn set_access_cookies_with_garbage_is_a_decode_error_and_sets_nothing() {
    let auth = build(config());
    let mut headers = HeaderMap::new();
    let e = auth
        .set_access_cookies("not-a-token", &mut headers)
        .unwrap_err();
    assert_eq!(e.error_type(), "JWTDecodeError");
    assert!(headers.is_empty());
}

#[test]
fn set_access_cookies_with_an_expired_token_fails() {
    let clock = ManualClock::at_secs(NOW);
    let auth = build_at(config(), &clock);
    let token = auth.create_access_token("user1").unwrap();
    clock.advance(Duration::from_secs(900));
    let mut headers = HeaderMap::new();
    assert_eq!(
        err(auth.set_access_cookies(&token, &mut headers)),
        ErrorKind::ExpiredToken
    );
}

#[test]
fn token_minted_without_csrf_gets_no_csrf_cookie() {
    let minter = build(AuthXConfig {
        token_location: vec![TokenLocation::Headers],
        ..config()
    });
    let token = minter.create_access_token("user1").unwrap();
    let mut headers = HeaderMap::new();
    build(config())
        .set_access_cookies(&token, &mut headers)
        .unwrap();
    let names: Vec<_> = set_cookies(&headers).into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["access_token_cookie"]);
}

// ---------------------------------------------------------------------------
// CSRF double submit (X1..X4)
// ---------------------------------------------------------------------------

#[test]
fn x1_post_with_cookie_and_matching_csrf_header_passes() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some(&l.access_csrf));
    let payload = verify(&auth, &p, TokenType::Access).unwrap();
    assert_eq!(payload.sub, "user1");
}

#[test]
fn x1_refresh_post_with_refresh_csrf_header_passes() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some(&l.refresh_csrf));
    let payload = verify(&auth, &p, TokenType::Refresh).unwrap();
    assert_eq!(payload.token_type, TokenType::Refresh);
}

#[test]
fn x1_header_is_compared_with_the_claim_not_with_the_csrf_cookie() {
    let auth = build(config());
    let l = login(&auth);
    let forged = format!(
        "access_token_cookie={}; csrf_access_token=attacker-chosen",
        l.access
    );
    let p = request("POST", &forged, Some("attacker-chosen"));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x1_prefix_of_the_csrf_value_is_a_mismatch() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some(&l.access_csrf[..10]));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x1_wrong_csrf_header_is_a_mismatch() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some("wrong"));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x2_post_without_csrf_header_is_missing_csrf_token() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), None);
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::MissingCsrfToken
    );
}

#[test]
fn x2_post_with_empty_csrf_header_is_missing_csrf_token() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some(""));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::MissingCsrfToken
    );
}

#[test]
fn x2_token_minted_without_csrf_is_a_mismatch_over_cookies() {
    let minter = build(AuthXConfig {
        token_location: vec![TokenLocation::Headers],
        ..config()
    });
    let token = minter.create_access_token("user1").unwrap();
    let auth = build(config());
    let p = request(
        "POST",
        &format!("access_token_cookie={token}"),
        Some("anything"),
    );
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

/// A token whose `csrf` claim is the empty string (as AuthX mints when
/// cookies are not a location), signed with our secret.
fn token_with_empty_csrf_claim() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "sub": "user1",
        "jti": "0123456789abcdefghijkl",
        "type": "access",
        "fresh": false,
        "csrf": "",
        "iat": now - 1,
        "exp": now + 600,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[test]
fn x2_empty_csrf_claim_with_empty_header_is_refused() {
    let auth = build(config());
    let token = token_with_empty_csrf_claim();
    assert_eq!(auth.decode_token(&token).unwrap().csrf.as_deref(), Some(""));
    let p = request("POST", &format!("access_token_cookie={token}"), Some(""));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::MissingCsrfToken
    );
}

#[test]
fn x2_empty_csrf_claim_with_a_header_is_a_mismatch() {
    let auth = build(config());
    let token = token_with_empty_csrf_claim();
    let p = request("POST", &format!("access_token_cookie={token}"), Some("x"));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x3_access_csrf_value_at_the_refresh_endpoint_is_a_mismatch() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some(&l.access_csrf));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Refresh)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x3_refresh_csrf_value_at_an_access_endpoint_is_a_mismatch() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), Some(&l.refresh_csrf));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x3_csrf_value_of_another_session_is_a_mismatch() {
    let auth = build(config());
    let mine = login(&auth);
    let theirs = login(&auth);
    let p = request("POST", &mine.cookie_header(), Some(&theirs.access_csrf));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::CsrfMismatch
    );
}

#[test]
fn x4_header_token_on_post_is_never_csrf_checked() {
    let auth = build(config());
    let l = login(&auth);
    let p = http::Request::post("/")
        .header("authorization", format!("Bearer {}", l.access))
        .body(())
        .unwrap()
        .into_parts()
        .0;
    assert!(verify(&auth, &p, TokenType::Access).is_ok());
}

#[test]
fn x4_get_with_cookie_token_is_not_csrf_checked() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("GET", &l.cookie_header(), None);
    assert!(verify(&auth, &p, TokenType::Access).is_ok());
}

#[test]
fn x4_head_and_options_with_cookie_token_are_not_csrf_checked() {
    let auth = build(config());
    let l = login(&auth);
    for method in ["HEAD", "OPTIONS"] {
        let p = request(method, &l.cookie_header(), None);
        assert!(verify(&auth, &p, TokenType::Access).is_ok(), "{method}");
    }
}

#[test]
fn x4_put_with_cookie_token_is_csrf_checked() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("PUT", &l.cookie_header(), None);
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::MissingCsrfToken
    );
    let p = request("PUT", &l.cookie_header(), Some(&l.access_csrf));
    assert!(verify(&auth, &p, TokenType::Access).is_ok());
}

#[test]
fn x4_patch_with_cookie_token_is_csrf_checked() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("PATCH", &l.cookie_header(), None);
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::MissingCsrfToken
    );
    let p = request("PATCH", &l.cookie_header(), Some(&l.access_csrf));
    assert!(verify(&auth, &p, TokenType::Access).is_ok());
}

#[test]
fn x4_delete_with_cookie_token_is_csrf_checked() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("DELETE", &l.cookie_header(), None);
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::MissingCsrfToken
    );
    let p = request("DELETE", &l.cookie_header(), Some(&l.access_csrf));
    assert!(verify(&auth, &p, TokenType::Access).is_ok());
}

#[test]
fn verify_csrf_false_skips_the_check() {
    let auth = build(config());
    let l = login(&auth);
    let p = request("POST", &l.cookie_header(), None);
    let rt = auth
        .get_token_from_request(&p, TokenType::Access, FindOptions::new())
        .unwrap();
    let opts = VerifyOptions {
        verify_csrf: false,
        ..VerifyOptions::default()
    };
    assert!(auth.verify_token(&rt, opts).is_ok());
}

#[test]
fn refresh_token_in_the_access_cookie_is_access_token_required() {
    let auth = build(config());
    let l = login(&auth);
    let swapped = format!(
        "access_token_cookie={}; csrf_access_token={}",
        l.refresh, l.refresh_csrf
    );
    let p = request("POST", &swapped, Some(&l.refresh_csrf));
    assert_eq!(
        err(verify(&auth, &p, TokenType::Access)),
        ErrorKind::AccessTokenRequired
    );
}

// ---------------------------------------------------------------------------
// clearing cookies (K-C5)
// ---------------------------------------------------------------------------

fn unset_config() -> AuthXConfig {
    AuthXConfig {
        cookie_domain: Some("example.com".into()),
        access_cookie_path: "/api".into(),
        refresh_cookie_path: "/auth/refresh".into(),
        ..config()
    }
}

#[test]
fn unset_access_token_cookie_repeats_every_attribute_with_max_age_zero() {
    let mut headers = HeaderMap::new();
    build(unset_config())
        .unset_access_cookies(&mut headers)
        .unwrap();
    let cookies = set_cookies(&headers);
    let c = cookie(&cookies, "access_token_cookie");
    assert_eq!(c.value, "");
    assert_eq!(
        c.attrs,
        attrs(&[
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/api",
            "Domain=example.com",
            "Max-Age=0",
            EPOCH,
        ])
    );
}

#[test]
fn unset_access_csrf_cookie_repeats_every_attribute_with_max_age_zero() {
    let mut headers = HeaderMap::new();
    build(unset_config())
        .unset_access_cookies(&mut headers)
        .unwrap();
    let cookies = set_cookies(&headers);
    let c = cookie(&cookies, "csrf_access_token");
    assert_eq!(c.value, "");
    assert_eq!(
        c.attrs,
        attrs(&[
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Domain=example.com",
            "Max-Age=0",
            EPOCH,
        ])
    );
}

#[test]
fn unset_refresh_token_cookie_repeats_every_attribute_with_max_age_zero() {
    let mut headers = HeaderMap::new();
    build(unset_config())
        .unset_refresh_cookies(&mut headers)
        .unwrap();
    let cookies = set_cookies(&headers);
    let c = cookie(&cookies, "refresh_token_cookie");
    assert_eq!(c.value, "");
    assert_eq!(
        c.attrs,
        attrs(&[
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/auth/refresh",
            "Domain=example.com",
            "Max-Age=0",
            EPOCH,
        ])
    );
}

#[test]
fn unset_refresh_csrf_cookie_repeats_every_attribute_with_max_age_zero() {
    let mut headers = HeaderMap::new();
    build(unset_config())
        .unset_refresh_cookies(&mut headers)
        .unwrap();
    let cookies = set_cookies(&headers);
    let c = cookie(&cookies, "csrf_refresh_token");
    assert_eq!(c.value, "");
    assert_eq!(
        c.attrs,
        attrs(&[
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Domain=example.com",
            "Max-Age=0",
            EPOCH,
        ])
    );
}

#[test]
fn unset_matches_the_attributes_of_set_except_value_and_lifetime() {
    let auth = build(unset_config());
    let set = refresh_set_cookies(&auth);
    let mut headers = HeaderMap::new();
    auth.unset_refresh_cookies(&mut headers).unwrap();
    let unset = set_cookies(&headers);
    for s in &set {
        let u = cookie(&unset, &s.name);
        let mut expected = s.attrs.clone();
        expected.insert("Max-Age=0".into());
        expected.insert(EPOCH.into());
        assert_eq!(u.attrs, expected, "{}", s.name);
    }
}

#[test]
fn unset_repeats_samesite_strict() {
    let auth = build(AuthXConfig {
        cookie_samesite: authx::SameSite::Strict,
        ..config()
    });
    let mut headers = HeaderMap::new();
    auth.unset_access_cookies(&mut headers).unwrap();
    for c in set_cookies(&headers) {
        assert_eq!(c.attr("SameSite"), Some("Strict"), "{c:?}");
    }
}

#[test]
fn unset_cookies_clears_all_four() {
    let mut headers = HeaderMap::new();
    build(config()).unset_cookies(&mut headers).unwrap();
    let names: BTreeSet<_> = set_cookies(&headers).into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        attrs(&[
            "access_token_cookie",
            "csrf_access_token",
            "refresh_token_cookie",
            "csrf_refresh_token"
        ])
    );
}

#[test]
fn no_store_sets_cache_control_no_store() {
    let mut headers = HeaderMap::new();
    cookies::no_store(&mut headers);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
}

#[test]
fn no_store_replaces_an_existing_cache_control() {
    let mut headers = HeaderMap::new();
    headers.insert("cache-control", "public, max-age=3600".parse().unwrap());
    cookies::no_store(&mut headers);
    assert_eq!(headers.get_all("cache-control").iter().count(), 1);
    assert_eq!(headers["cache-control"], "no-store");
}

// ---------------------------------------------------------------------------
// error mapping: status, error_type, WWW-Authenticate (H2, H3)
// ---------------------------------------------------------------------------

fn check(kind: ErrorKind, status: StatusCode, error_type: &str, www: Option<&str>) {
    let e = authx::Error::from(kind.clone());
    assert_eq!(e.status(), status, "{kind:?}");
    assert_eq!(e.error_type(), error_type, "{kind:?}");
    assert_eq!(
        e.www_authenticate()
            .as_ref()
            .map(|v| v.to_str().unwrap().to_owned())
            .as_deref(),
        www,
        "{kind:?}"
    );
    let body = e.to_json("message");
    assert_eq!(body["error_type"], error_type);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

const INVALID: Option<&str> = Some(r#"Bearer error="invalid_token""#);
const BAD_REQUEST: Option<&str> = Some(r#"Bearer error="invalid_request""#);

#[test]
fn missing_token_is_401_with_a_bare_bearer_challenge() {
    check(
        ErrorKind::MissingToken,
        StatusCode::UNAUTHORIZED,
        "MissingTokenError",
        Some("Bearer"),
    );
}

#[test]
fn missing_csrf_token_maps_to_missing_csrf_token_error() {
    check(
        ErrorKind::MissingCsrfToken,
        StatusCode::UNAUTHORIZED,
        "MissingCSRFTokenError",
        INVALID,
    );
}

#[test]
fn csrf_mismatch_maps_to_csrf_error() {
    check(
        ErrorKind::CsrfMismatch,
        StatusCode::UNAUTHORIZED,
        "CSRFError",
        INVALID,
    );
    assert_eq!(
        ErrorKind::CsrfMismatch.message(),
        "CSRF double submit does not match"
    );
}

#[test]
fn duplicate_credentials_is_400_invalid_request() {
    check(
        ErrorKind::DuplicateCredentials,
        StatusCode::BAD_REQUEST,
        "DuplicateCredentialsError",
        BAD_REQUEST,
    );
}

#[test]
fn malformed_authorization_header_is_400_invalid_request() {
    check(
        ErrorKind::MalformedAuthorizationHeader,
        StatusCode::BAD_REQUEST,
        "InvalidAuthorizationHeaderError",
        BAD_REQUEST,
    );
}

#[test]
fn invalid_json_token_is_400_invalid_request() {
    check(
        ErrorKind::InvalidJsonToken,
        StatusCode::BAD_REQUEST,
        "InvalidRequestError",
        BAD_REQUEST,
    );
}

#[test]
fn malformed_token_maps_to_jwt_decode_error() {
    for m in [
        Malformed::TooLong,
        Malformed::SegmentCount,
        Malformed::EmptySegment,
        Malformed::Alphabet,
        Malformed::Base64,
        Malformed::Header,
        Malformed::Claims,
        Malformed::DuplicateMember,
        Malformed::SignatureLength,
    ] {
        check(
            ErrorKind::Malformed(m),
            StatusCode::UNAUTHORIZED,
            "JWTDecodeError",
            INVALID,
        );
    }
}

#[test]
fn forbidden_header_maps_to_jwt_decode_error() {
    check(
        ErrorKind::ForbiddenHeader("crit"),
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn invalid_claim_maps_to_jwt_decode_error() {
    check(
        ErrorKind::InvalidClaim("exp"),
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn missing_claim_maps_to_jwt_decode_error() {
    check(
        ErrorKind::MissingClaim("sub"),
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn algorithm_not_allowed_maps_to_jwt_decode_error() {
    check(
        ErrorKind::AlgorithmNotAllowed,
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn unknown_key_id_maps_to_jwt_decode_error() {
    check(
        ErrorKind::UnknownKeyId,
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn immature_token_maps_to_jwt_decode_error() {
    check(
        ErrorKind::ImmatureToken,
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn issued_in_future_maps_to_jwt_decode_error() {
    check(
        ErrorKind::IssuedInFuture,
        StatusCode::UNAUTHORIZED,
        "JWTDecodeError",
        INVALID,
    );
}

#[test]
fn invalid_signature_maps_to_token_invalid_signature_error() {
    check(
        ErrorKind::InvalidSignature,
        StatusCode::UNAUTHORIZED,
        "TokenInvalidSignatureError",
        INVALID,
    );
}

#[test]
fn expired_token_maps_to_token_expired_error() {
    check(
        ErrorKind::ExpiredToken,
        StatusCode::UNAUTHORIZED,
        "TokenExpiredError",
        INVALID,
    );
}

#[test]
fn invalid_audience_maps_to_token_invalid_audience_error() {
    check(
        ErrorKind::InvalidAudience,
        StatusCode::UNAUTHORIZED,
        "TokenInvalidAudienceError",
        INVALID,
    );
}

#[test]
fn invalid_issuer_maps_to_token_invalid_issuer_error() {
    check(
        ErrorKind::InvalidIssuer,
        StatusCode::UNAUTHORIZED,
        "TokenInvalidIssuerError",
        INVALID,
    );
}

#[test]
fn access_token_required_maps_to_access_token_required_error() {
    check(
        ErrorKind::AccessTokenRequired,
        StatusCode::UNAUTHORIZED,
        "AccessTokenRequiredError",
        INVALID,
    );
}

#[test]
fn refresh_token_required_maps_to_refresh_token_required_error() {
    check(
        ErrorKind::RefreshTokenRequired,
        StatusCode::UNAUTHORIZED,
        "RefreshTokenRequiredError",
        INVALID,
    );
}

#[test]
fn fresh_token_required_maps_to_fresh_token_required_error() {
    check(
        ErrorKind::FreshTokenRequired,
        StatusCode::UNAUTHORIZED,
        "FreshTokenRequiredError",
        INVALID,
    );
}

#[test]
fn revoked_token_is_401_invalid_token() {
    check(
        ErrorKind::RevokedToken,
        StatusCode::UNAUTHORIZED,
        "RevokedTokenError",
        INVALID,
    );
}

#[test]
fn token_reuse_detected_is_401_invalid_token() {
    check(
        ErrorKind::TokenReuseDetected,
        StatusCode::UNAUTHORIZED,
        "TokenReuseError",
        INVALID,
    );
}

#[test]
fn insufficient_scope_is_403_insufficient_scope() {
    check(
        ErrorKind::InsufficientScope {
            required: vec!["admin:write".into()],
            provided: vec!["users:read".into()],
        },
        StatusCode::FORBIDDEN,
        "InsufficientScopeError",
        Some(r#"Bearer error="insufficient_scope""#),
    );
}

#[test]
fn bad_configuration_is_500_without_a_challenge() {
    check(
        ErrorKind::BadConfiguration("secret_key: too short".into()),
        StatusCode::INTERNAL_SERVER_ERROR,
        "BadConfigurationError",
        None,
    );
}

#[test]
fn reserved_claim_is_a_bad_configuration_error() {
    check(
        ErrorKind::ReservedClaim("sub".into()),
        StatusCode::INTERNAL_SERVER_ERROR,
        "BadConfigurationError",
        None,
    );
}

#[test]
fn store_unavailable_is_503_without_a_challenge() {
    check(
        ErrorKind::StoreUnavailable("redis down".into()),
        StatusCode::SERVICE_UNAVAILABLE,
        "StoreUnavailableError",
        None,
    );
}

#[test]
fn store_unavailable_message_does_not_leak_the_detail() {
    let e = authx::Error::from(ErrorKind::StoreUnavailable("redis://:pw@host".into()));
    assert!(!e.to_json("message").to_string().contains("pw@host"));
}

#[test]
fn decode_error_bodies_never_echo_the_token_or_the_secret() {
    let auth = build(config());
    let token = auth.create_access_token("user1").unwrap();
    let (head, sig) = token.rsplit_once('.').unwrap();
    let tampered = format!("{head}.{}", sig.chars().rev().collect::<String>());
    let e = auth.decode_token(&tampered).unwrap_err();
    let body = e.to_json("message").to_string();
    for leak in [tampered.as_str(), head, sig, SECRET] {
        assert!(!body.contains(leak), "{body}");
    }
    assert!(!format!("{e:?}").contains(sig));
}

#[test]
fn csrf_failures_from_the_flow_map_to_authx_names() {
    let auth = build(config());
    let l = login(&auth);
    let missing = verify(
        &auth,
        &request("POST", &l.cookie_header(), None),
        TokenType::Access,
    )
    .unwrap_err();
    assert_eq!(missing.error_type(), "MissingCSRFTokenError");
    let wrong = verify(
        &auth,
        &request("POST", &l.cookie_header(), Some("nope")),
        TokenType::Access,
    )
    .unwrap_err();
    assert_eq!(wrong.error_type(), "CSRFError");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------
// cookies of a freshly issued pair
// ---------------------------------------------------------------------------

fn header_strings(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[test]
fn pair_cookies_equal_the_cookies_of_a_verified_token() {
    for session_cookie in [true, false] {
        let clock = ManualClock::at_secs(NOW);
        let auth = build_at(
            AuthXConfig {
                session_cookie,
                ..config()
            },
            &clock,
        );
        let pair = auth
            .create_token_pair("u1", &authx::TokenOptions::new())
            .unwrap();
        for kind in [TokenType::Access, TokenType::Refresh] {
            let token = match kind {
                TokenType::Access => &pair.access_token,
                TokenType::Refresh => &pair.refresh_token,
            };
            let mut verified = HeaderMap::new();
            auth.set_cookies(kind, token, &mut verified, None).unwrap();
            let mut minted = HeaderMap::new();
            auth.set_pair_cookies(kind, &pair, &mut minted, None)
                .unwrap();
            assert_eq!(header_strings(&minted), header_strings(&verified));
            assert_eq!(header_strings(&minted).len(), 2, "token and CSRF cookies");
        }
    }
}

#[test]
fn a_pair_from_elsewhere_is_verified_before_its_cookies_are_set() {
    let auth = build(config());
    let other = build(AuthXConfig {
        secret_key: Some("another-secret-of-at-least-thirty-two-bytes".into()),
        ..config()
    });
    // Serialised and read back: nothing recorded at minting survives.
    let foreign = other
        .create_token_pair("u1", &authx::TokenOptions::new())
        .unwrap();
    let foreign: authx::TokenPair =
        serde_json::from_str(&serde_json::to_string(&foreign).unwrap()).unwrap();
    let mut headers = HeaderMap::new();
    let err = auth
        .set_pair_cookies(TokenType::Refresh, &foreign, &mut headers, None)
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
    assert!(headers.is_empty());
    // Our own pair, read back the same way, still works (verified).
    let own = auth
        .create_token_pair("u1", &authx::TokenOptions::new())
        .unwrap();
    let read_back: authx::TokenPair =
        serde_json::from_str(&serde_json::to_string(&own).unwrap()).unwrap();
    assert_eq!(read_back, own, "equality looks at the tokens only");
    let own = read_back;
    auth.set_pair_cookies(TokenType::Refresh, &own, &mut headers, None)
        .unwrap();
    assert_eq!(header_strings(&headers).len(), 2);
}

/// A token put in a minted pair's public field is not taken for the one
/// minted there: its own CSRF value goes in the cookie, and a token that
/// does not verify sets no cookie at all.
#[test]
fn a_token_swapped_into_a_minted_pair_is_verified() {
    let auth = build(config());
    let mut pair = auth
        .create_token_pair("u1", &authx::TokenOptions::new())
        .unwrap();
    let other = auth
        .create_token_pair("u2", &authx::TokenOptions::new())
        .unwrap();
    pair.refresh_token.clone_from(&other.refresh_token);
    let mut swapped = HeaderMap::new();
    auth.set_pair_cookies(TokenType::Refresh, &pair, &mut swapped, None)
        .unwrap();
    let mut expected = HeaderMap::new();
    auth.set_cookies(
        TokenType::Refresh,
        &other.refresh_token,
        &mut expected,
        None,
    )
    .unwrap();
    assert_eq!(header_strings(&swapped), header_strings(&expected));

    // The minted token itself edited in place (one payload character,
    // same length, same signature): verified, refused.
    let mut pair = auth
        .create_token_pair("u1", &authx::TokenOptions::new())
        .unwrap();
    let dot = pair.refresh_token.find('.').unwrap();
    let mut bytes = std::mem::take(&mut pair.refresh_token).into_bytes();
    bytes[dot + 5] = if bytes[dot + 5] == b'A' { b'B' } else { b'A' };
    pair.refresh_token = String::from_utf8(bytes).unwrap();
    let mut headers = HeaderMap::new();
    let err = auth
        .set_pair_cookies(TokenType::Refresh, &pair, &mut headers, None)
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature, "{err}");
    assert!(headers.is_empty());
}
