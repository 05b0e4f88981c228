//! Finding tokens in requests: the `Authorization` header grammar (H1),
//! duplicate credentials (H4), per-call location allowlists (H5), search
//! order, JSON bodies, and when a CSRF check applies.

#![allow(clippy::unwrap_used)]

use authx::{AuthX, AuthXConfig, ErrorKind, FindOptions, RequestToken, TokenLocation, TokenType};
use http::HeaderValue;
use http::request::Parts;
use proptest::prelude::*;
use serde_json::json;

const SECRET: &str = "request-tokens-test-secret-0123456789abc";
const ALL: [TokenLocation; 4] = [
    TokenLocation::Headers,
    TokenLocation::Cookies,
    TokenLocation::Json,
    TokenLocation::Query,
];

fn auth_with(locations: &[TokenLocation]) -> AuthX {
    AuthX::new(AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: locations.to_vec(),
        ..AuthXConfig::default()
    })
    .unwrap()
}

/// Headers only (the default).
fn headers_auth() -> AuthX {
    auth_with(&[TokenLocation::Headers])
}

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

fn auth_header(value: &str) -> Parts {
    parts("GET", "/", &[("authorization", value)])
}

fn find(auth: &AuthX, p: &Parts, kind: TokenType) -> authx::Result<RequestToken> {
    auth.get_token_from_request(p, kind, FindOptions::new())
}

fn access(auth: &AuthX, p: &Parts) -> authx::Result<RequestToken> {
    find(auth, p, TokenType::Access)
}

fn err(r: authx::Result<RequestToken>) -> ErrorKind {
    r.expect_err("expected an error").into_kind()
}

// ---------------------------------------------------------------------------
// H1: Authorization: Bearer <token>
// ---------------------------------------------------------------------------

#[test]
fn bearer_token_is_read_from_the_authorization_header() {
    let rt = access(&headers_auth(), &auth_header("Bearer a.b.c")).unwrap();
    assert_eq!(rt.token, "a.b.c");
    assert_eq!(rt.location, TokenLocation::Headers);
    assert_eq!(rt.kind, TokenType::Access);
    assert!(!rt.csrf_required);
}

#[test]
fn bearer_scheme_lowercase_is_accepted() {
    let rt = access(&headers_auth(), &auth_header("bearer a.b.c")).unwrap();
    assert_eq!(rt.token, "a.b.c");
}

#[test]
fn bearer_scheme_uppercase_is_accepted() {
    let rt = access(&headers_auth(), &auth_header("BEARER a.b.c")).unwrap();
    assert_eq!(rt.token, "a.b.c");
}

#[test]
fn bearer_scheme_without_token_is_malformed() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer"))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn bearer_scheme_with_empty_token_is_malformed() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer "))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn bearer_with_two_tokens_is_malformed() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer a b"))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn bearer_with_two_spaces_is_malformed() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer  a"))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn bearer_with_trailing_space_is_malformed() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer a.b.c "))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn bearer_with_a_tab_inside_the_token_is_malformed() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer a\tb"))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn bearer_separated_by_a_tab_is_malformed() {
    // RFC 7235: one SP between scheme and credentials. "Bearer<TAB>token"
    // names the bearer scheme but is not `Bearer <token>`; it must not be
    // taken for "no credentials" (which would fall through to cookies).
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Bearer\ta.b.c"))),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn basic_scheme_is_not_a_bearer_credential() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("Basic xyz"))),
        ErrorKind::MissingToken
    );
}

#[test]
fn bare_token_without_scheme_is_not_a_bearer_credential() {
    assert_eq!(
        err(access(&headers_auth(), &auth_header("a.b.c"))),
        ErrorKind::MissingToken
    );
}

#[test]
fn non_visible_ascii_header_value_is_malformed() {
    let mut p = parts("GET", "/", &[]);
    p.headers.insert(
        "authorization",
        HeaderValue::from_bytes(b"Bearer t\xC3\xA9st").unwrap(),
    );
    assert_eq!(
        err(access(&headers_auth(), &p)),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn refresh_token_is_read_from_the_same_header() {
    let rt = find(
        &headers_auth(),
        &auth_header("Bearer r.r.r"),
        TokenType::Refresh,
    )
    .unwrap();
    assert_eq!(rt.token, "r.r.r");
    assert_eq!(rt.kind, TokenType::Refresh);
}

proptest! {
    #[test]
    fn any_authorization_header_never_panics_and_yields_one_clean_token(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"Bearer "[..]), Just(&b"bearer"[..])],
    ) {
        let mut value = prefix.to_vec();
        value.extend_from_slice(&bytes);
        if let Ok(v) = HeaderValue::from_bytes(&value) {
            let mut p = parts("GET", "/", &[]);
            p.headers.insert("authorization", v);
            if let Ok(rt) = access(&headers_auth(), &p) {
                prop_assert!(!rt.token.is_empty());
                prop_assert!(rt.token.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// H4: the same credential twice
// ---------------------------------------------------------------------------

#[test]
fn two_authorization_headers_are_duplicate_credentials() {
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer a.b.c"),
            ("authorization", "Bearer d.e.f"),
        ],
    );
    assert_eq!(
        err(access(&headers_auth(), &p)),
        ErrorKind::DuplicateCredentials
    );
}

#[test]
fn two_identical_authorization_headers_are_duplicate_credentials() {
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer a.b.c"),
            ("authorization", "Bearer a.b.c"),
        ],
    );
    assert_eq!(
        err(access(&headers_auth(), &p)),
        ErrorKind::DuplicateCredentials
    );
}

#[test]
fn same_cookie_twice_in_one_cookie_header_is_duplicate_credentials() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[(
            "cookie",
            "access_token_cookie=a.b.c; other=1; access_token_cookie=d.e.f",
        )],
    );
    assert_eq!(err(access(&auth, &p)), ErrorKind::DuplicateCredentials);
}

#[test]
fn same_cookie_across_two_cookie_headers_is_duplicate_credentials() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("cookie", "access_token_cookie=a.b.c"),
            ("cookie", "access_token_cookie=a.b.c"),
        ],
    );
    assert_eq!(err(access(&auth, &p)), ErrorKind::DuplicateCredentials);
}

#[test]
fn two_refresh_cookies_are_duplicate_credentials() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "POST",
        "/refresh",
        &[(
            "cookie",
            "refresh_token_cookie=a.b.c;refresh_token_cookie=d.e.f",
        )],
    );
    assert_eq!(
        err(find(&auth, &p, TokenType::Refresh)),
        ErrorKind::DuplicateCredentials
    );
}

#[test]
fn access_and_refresh_cookies_together_are_not_duplicates() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[(
            "cookie",
            "access_token_cookie=a.a.a; refresh_token_cookie=r.r.r",
        )],
    );
    assert_eq!(access(&auth, &p).unwrap().token, "a.a.a");
    assert_eq!(find(&auth, &p, TokenType::Refresh).unwrap().token, "r.r.r");
}

#[test]
fn two_token_query_parameters_are_duplicate_credentials() {
    let auth = auth_with(&[TokenLocation::Query]);
    let p = parts("GET", "/?token=a.b.c&x=1&token=d.e.f", &[]);
    assert_eq!(err(access(&auth, &p)), ErrorKind::DuplicateCredentials);
}

#[test]
fn two_csrf_headers_on_a_csrf_checked_request_are_duplicate_credentials() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "POST",
        "/",
        &[
            ("cookie", "access_token_cookie=a.b.c"),
            ("x-csrf-token", "one"),
            ("x-csrf-token", "two"),
        ],
    );
    assert_eq!(err(access(&auth, &p)), ErrorKind::DuplicateCredentials);
}

#[test]
fn two_csrf_form_fields_are_duplicate_credentials() {
    let auth = AuthX::new(AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: vec![TokenLocation::Cookies],
        csrf_check_form: true,
        ..AuthXConfig::default()
    })
    .unwrap();
    let p = parts("POST", "/", &[("cookie", "access_token_cookie=a.b.c")]);
    let r = auth.get_token_from_request(
        &p,
        TokenType::Access,
        FindOptions::new().form(b"csrf_token=one&csrf_token=two"),
    );
    assert_eq!(err(r), ErrorKind::DuplicateCredentials);
}

#[test]
fn duplicate_authorization_headers_are_refused_even_with_a_valid_cookie_behind() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer a.b.c"),
            ("authorization", "Bearer d.e.f"),
            ("cookie", "access_token_cookie=g.h.i"),
        ],
    );
    assert_eq!(err(access(&auth, &p)), ErrorKind::DuplicateCredentials);
}

// ---------------------------------------------------------------------------
// H5: locations are allowlisted; narrowing never widens
// ---------------------------------------------------------------------------

#[test]
fn cookie_token_is_missing_when_only_headers_are_configured() {
    let p = parts("GET", "/", &[("cookie", "access_token_cookie=a.b.c")]);
    assert_eq!(err(access(&headers_auth(), &p)), ErrorKind::MissingToken);
}

#[test]
fn query_token_is_missing_unless_query_is_configured() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts("GET", "/?token=a.b.c", &[]);
    assert_eq!(err(access(&auth, &p)), ErrorKind::MissingToken);
}

#[test]
fn json_token_is_missing_unless_json_is_configured() {
    let body = json!({"access_token": "a.b.c"});
    let r = headers_auth().get_token_from_request(
        &parts("POST", "/", &[]),
        TokenType::Access,
        FindOptions::new().json(&body),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

#[test]
fn narrowing_to_query_when_only_headers_are_configured_is_missing() {
    let p = parts("GET", "/?token=a.b.c", &[]);
    let r = headers_auth().get_token_from_request(
        &p,
        TokenType::Access,
        FindOptions::new().locations(&[TokenLocation::Query]),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

#[test]
fn narrowing_to_cookies_ignores_a_present_header_token() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts("GET", "/", &[("authorization", "Bearer a.b.c")]);
    let r = auth.get_token_from_request(
        &p,
        TokenType::Access,
        FindOptions::new().locations(&[TokenLocation::Cookies]),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

#[test]
fn narrowing_to_headers_ignores_a_present_cookie_token() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts("GET", "/", &[("cookie", "refresh_token_cookie=r.r.r")]);
    let r = auth.get_token_from_request(
        &p,
        TokenType::Refresh,
        FindOptions::new().locations(&[TokenLocation::Headers]),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

#[test]
fn narrowing_skips_a_malformed_header_outside_the_allowed_locations() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer a b"),
            ("cookie", "access_token_cookie=c.c.c"),
        ],
    );
    let rt = auth
        .get_token_from_request(
            &p,
            TokenType::Access,
            FindOptions::new().locations(&[TokenLocation::Cookies]),
        )
        .unwrap();
    assert_eq!(rt.token, "c.c.c");
}

#[test]
fn empty_narrowing_list_allows_nothing() {
    let p = auth_header("Bearer a.b.c");
    let r = headers_auth().get_token_from_request(
        &p,
        TokenType::Access,
        FindOptions::new().locations(&[]),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

#[test]
fn no_token_anywhere_is_missing() {
    let auth = auth_with(&ALL);
    let body = json!({});
    let r = auth.get_token_from_request(
        &parts("POST", "/", &[]),
        TokenType::Access,
        FindOptions::new().json(&body),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

#[test]
fn empty_cookie_value_is_missing() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts("GET", "/", &[("cookie", "access_token_cookie=")]);
    assert_eq!(err(access(&auth, &p)), ErrorKind::MissingToken);
}

#[test]
fn empty_query_value_is_missing() {
    let auth = auth_with(&[TokenLocation::Query]);
    let p = parts("GET", "/?token=", &[]);
    assert_eq!(err(access(&auth, &p)), ErrorKind::MissingToken);
}

#[test]
fn auth_cookie_is_found_next_to_a_cookie_with_utf8_bytes() {
    // Browsers send UTF-8 cookie values set by other parts of the site
    // (RFC 6265 forbids them, but they occur); Starlette, under AuthX, reads
    // the auth cookie regardless. One such cookie must not hide ours.
    let auth = auth_with(&[TokenLocation::Cookies]);
    let mut p = parts("GET", "/", &[]);
    p.headers.insert(
        "cookie",
        HeaderValue::from_bytes(b"lang=fran\xC3\xA7ais; access_token_cookie=a.b.c").unwrap(),
    );
    assert_eq!(access(&auth, &p).unwrap().token, "a.b.c");
}

#[test]
fn cookie_name_match_is_exact() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[(
            "cookie",
            "xaccess_token_cookie=a.b.c; access_token_cookiex=d.e.f",
        )],
    );
    assert_eq!(err(access(&auth, &p)), ErrorKind::MissingToken);
}

// ---------------------------------------------------------------------------
// search order
// ---------------------------------------------------------------------------

fn everywhere() -> (Parts, serde_json::Value) {
    let p = parts(
        "GET",
        "/?token=q.q.q",
        &[
            ("authorization", "Bearer h.h.h"),
            ("cookie", "access_token_cookie=c.c.c"),
        ],
    );
    (p, json!({"access_token": "j.j.j"}))
}

fn first_found(order: &[TokenLocation]) -> RequestToken {
    let (p, body) = everywhere();
    auth_with(order)
        .get_token_from_request(&p, TokenType::Access, FindOptions::new().json(&body))
        .unwrap()
}

#[test]
fn search_order_follows_token_location_headers_first() {
    let rt = first_found(&ALL);
    assert_eq!(
        (rt.location, rt.token.as_str()),
        (TokenLocation::Headers, "h.h.h")
    );
}

#[test]
fn search_order_follows_token_location_cookies_first() {
    let rt = first_found(&[TokenLocation::Cookies, TokenLocation::Headers]);
    assert_eq!(
        (rt.location, rt.token.as_str()),
        (TokenLocation::Cookies, "c.c.c")
    );
}

#[test]
fn search_order_follows_token_location_json_first() {
    let rt = first_found(&[
        TokenLocation::Json,
        TokenLocation::Query,
        TokenLocation::Headers,
    ]);
    assert_eq!(
        (rt.location, rt.token.as_str()),
        (TokenLocation::Json, "j.j.j")
    );
}

#[test]
fn search_order_follows_token_location_query_first() {
    let rt = first_found(&[TokenLocation::Query, TokenLocation::Json]);
    assert_eq!(
        (rt.location, rt.token.as_str()),
        (TokenLocation::Query, "q.q.q")
    );
}

#[test]
fn narrowing_keeps_the_configured_order() {
    let (p, body) = everywhere();
    let rt = auth_with(&[TokenLocation::Query, TokenLocation::Cookies])
        .get_token_from_request(
            &p,
            TokenType::Access,
            FindOptions::new()
                .json(&body)
                .locations(&[TokenLocation::Cookies, TokenLocation::Query]),
        )
        .unwrap();
    assert_eq!(rt.location, TokenLocation::Query);
}

#[test]
fn a_missing_location_falls_through_to_the_next() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts("GET", "/", &[("cookie", "access_token_cookie=c.c.c")]);
    assert_eq!(access(&auth, &p).unwrap().location, TokenLocation::Cookies);
}

#[test]
fn other_scheme_header_falls_through_to_cookies() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Basic dXNlcjpwYXNz"),
            ("cookie", "access_token_cookie=c.c.c"),
        ],
    );
    assert_eq!(access(&auth, &p).unwrap().location, TokenLocation::Cookies);
}

#[test]
fn malformed_header_in_the_first_location_is_an_error_not_a_fall_through() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer a b"),
            ("cookie", "access_token_cookie=c.c.c"),
        ],
    );
    assert_eq!(
        err(access(&auth, &p)),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn tab_separated_bearer_header_does_not_fall_through_to_cookies() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer\th.h.h"),
            ("cookie", "access_token_cookie=c.c.c"),
        ],
    );
    assert_eq!(
        err(access(&auth, &p)),
        ErrorKind::MalformedAuthorizationHeader
    );
}

#[test]
fn invalid_token_in_the_first_location_is_returned_not_skipped() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer garbage"),
            ("cookie", "access_token_cookie=c.c.c"),
        ],
    );
    let rt = access(&auth, &p).unwrap();
    assert_eq!(
        (rt.location, rt.token.as_str()),
        (TokenLocation::Headers, "garbage")
    );
}

#[test]
fn duplicate_cookie_behind_a_present_header_is_not_looked_at() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("authorization", "Bearer h.h.h"),
            ("cookie", "access_token_cookie=a; access_token_cookie=b"),
        ],
    );
    assert_eq!(access(&auth, &p).unwrap().token, "h.h.h");
}

// ---------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------

fn json_find(body: &serde_json::Value, kind: TokenType) -> authx::Result<RequestToken> {
    auth_with(&[TokenLocation::Json]).get_token_from_request(
        &parts("POST", "/", &[]),
        kind,
        FindOptions::new().json(body),
    )
}

#[test]
fn json_body_string_token_is_read() {
    let rt = json_find(&json!({"access_token": "a.b.c"}), TokenType::Access).unwrap();
    assert_eq!(
        (rt.location, rt.token.as_str()),
        (TokenLocation::Json, "a.b.c")
    );
}

#[test]
fn json_body_refresh_token_uses_the_refresh_key() {
    let body = json!({"access_token": "a.a.a", "refresh_token": "r.r.r"});
    assert_eq!(json_find(&body, TokenType::Refresh).unwrap().token, "r.r.r");
}

#[test]
fn json_body_number_token_is_invalid() {
    assert_eq!(
        err(json_find(&json!({"access_token": 42}), TokenType::Access)),
        ErrorKind::InvalidJsonToken
    );
}

#[test]
fn json_body_array_token_is_invalid() {
    assert_eq!(
        err(json_find(
            &json!({"access_token": ["a.b.c"]}),
            TokenType::Access
        )),
        ErrorKind::InvalidJsonToken
    );
}

#[test]
fn json_body_object_token_is_invalid() {
    assert_eq!(
        err(json_find(
            &json!({"refresh_token": {"t": "a.b.c"}}),
            TokenType::Refresh
        )),
        ErrorKind::InvalidJsonToken
    );
}

#[test]
fn json_body_bool_token_is_invalid() {
    assert_eq!(
        err(json_find(&json!({"access_token": true}), TokenType::Access)),
        ErrorKind::InvalidJsonToken
    );
}

#[test]
fn json_body_null_token_is_missing() {
    assert_eq!(
        err(json_find(&json!({"access_token": null}), TokenType::Access)),
        ErrorKind::MissingToken
    );
}

#[test]
fn json_body_that_is_not_an_object_is_missing() {
    assert_eq!(
        err(json_find(&json!(["access_token"]), TokenType::Access)),
        ErrorKind::MissingToken
    );
}

#[test]
fn json_location_without_a_body_is_missing() {
    let r = auth_with(&[TokenLocation::Json]).get_token_from_request(
        &parts("POST", "/", &[]),
        TokenType::Access,
        FindOptions::new(),
    );
    assert_eq!(err(r), ErrorKind::MissingToken);
}

// ---------------------------------------------------------------------------
// csrf_required
// ---------------------------------------------------------------------------

fn cookie_request(method: &str) -> Parts {
    parts(method, "/", &[("cookie", "access_token_cookie=a.b.c")])
}

fn csrf_required_for(auth: &AuthX, p: &Parts) -> bool {
    access(auth, p).unwrap().csrf_required
}

#[test]
fn csrf_is_required_for_cookie_tokens_on_post_put_patch_delete() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        assert!(
            csrf_required_for(&auth, &cookie_request(method)),
            "{method}"
        );
    }
}

#[test]
fn csrf_is_not_required_for_cookie_tokens_on_get_head_options() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    for method in ["GET", "HEAD", "OPTIONS"] {
        let rt = access(&auth, &cookie_request(method)).unwrap();
        assert!(!rt.csrf_required, "{method}");
        assert_eq!(rt.csrf, None, "{method}");
    }
}

#[test]
fn csrf_is_not_required_for_header_tokens_on_post() {
    let auth = auth_with(&[TokenLocation::Headers, TokenLocation::Cookies]);
    let p = parts("POST", "/", &[("authorization", "Bearer a.b.c")]);
    assert!(!csrf_required_for(&auth, &p));
}

#[test]
fn csrf_is_not_required_for_query_tokens_on_post() {
    let auth = auth_with(&[TokenLocation::Query, TokenLocation::Cookies]);
    assert!(!csrf_required_for(
        &auth,
        &parts("POST", "/?token=a.b.c", &[])
    ));
}

#[test]
fn csrf_is_not_required_for_json_tokens_on_post() {
    let body = json!({"access_token": "a.b.c"});
    let rt = auth_with(&[TokenLocation::Json, TokenLocation::Cookies])
        .get_token_from_request(
            &parts("POST", "/", &[]),
            TokenType::Access,
            FindOptions::new().json(&body),
        )
        .unwrap();
    assert!(!rt.csrf_required);
}

#[test]
fn csrf_is_not_required_when_cookie_csrf_protect_is_off() {
    let auth = AuthX::new(AuthXConfig {
        secret_key: Some(SECRET.into()),
        token_location: vec![TokenLocation::Cookies],
        cookie_csrf_protect: false,
        ..AuthXConfig::default()
    })
    .unwrap();
    assert!(!csrf_required_for(&auth, &cookie_request("POST")));
}

#[test]
fn csrf_value_is_taken_from_the_x_csrf_token_header() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "DELETE",
        "/",
        &[
            ("cookie", "access_token_cookie=a.b.c"),
            ("X-CSRF-TOKEN", "the-value"),
        ],
    );
    assert_eq!(
        access(&auth, &p).unwrap().csrf.as_deref(),
        Some("the-value")
    );
}

#[test]
fn csrf_value_is_none_without_the_header() {
    let rt = access(
        &auth_with(&[TokenLocation::Cookies]),
        &cookie_request("POST"),
    )
    .unwrap();
    assert!(rt.csrf_required);
    assert_eq!(rt.csrf, None);
}

#[test]
fn duplicate_csrf_headers_on_get_are_not_looked_at() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let p = parts(
        "GET",
        "/",
        &[
            ("cookie", "access_token_cookie=a.b.c"),
            ("x-csrf-token", "one"),
            ("x-csrf-token", "two"),
        ],
    );
    assert!(access(&auth, &p).is_ok());
}

// ---------------------------------------------------------------------------
// RequestToken
// ---------------------------------------------------------------------------

#[test]
fn request_token_debug_does_not_contain_the_token_or_the_csrf_value() {
    let auth = auth_with(&[TokenLocation::Cookies]);
    let token = "eyJzZWNyZXQtdG9rZW4.eyJwYXlsb2Fk.c2lnbmF0dXJl";
    let p = parts(
        "POST",
        "/",
        &[
            ("cookie", &format!("access_token_cookie={token}")),
            ("x-csrf-token", "csrf-secret-value"),
        ],
    );
    let rt = access(&auth, &p).unwrap();
    let debug = format!("{rt:?}");
    let pretty = format!("{rt:#?}");
    for out in [&debug, &pretty] {
        assert!(!out.contains(token), "{out}");
        assert!(!out.contains("eyJ"), "{out}");
        assert!(!out.contains("csrf-secret-value"), "{out}");
    }
    assert!(debug.contains("Cookies"), "{debug}");
}
