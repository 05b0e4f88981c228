//! One test per row of the security checklist (F*, A*, K*, C*) and per entry
//! of its attack catalogue that concerns token verification. Each asserts the
//! specific [`ErrorKind`].
//!
//! Hostile tokens are built by hand and MACed with the configured HS256
//! secret, so their signature is valid and each rejection is provably due to
//! the row under test (`hand_built_tokens_verify` pins the baseline).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authx::clock::ManualClock;
use authx::keys::{generate_pem, public_pem_from_private};
use authx::{
    Algorithm, AuthX, AuthXConfig, ErrorKind, Malformed, RequestToken, TokenLocation, TokenOptions,
    TokenType, VerifyOptions,
};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// 65 bytes: long enough for HS256, HS384 and HS512.
const SECRET: &str = "verify-attacks-hs256-secret-0123456789abcdef-0123456789abcdef-xyz";
const OTHER_SECRET: &str = "another-hs256-secret-of-more-than-32-bytes!!";
/// The clock of every verifier, in seconds.
const NOW: i64 = 1_700_000_000;
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn mac(key: &[u8], input: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), input)
        .as_ref()
        .to_vec()
}

/// `input.MAC(input)`: a valid HS256 signature under [`SECRET`] over
/// whatever bytes `input` holds.
fn seal(input: &str) -> String {
    seal_with(SECRET.as_bytes(), input)
}

fn seal_with(key: &[u8], input: &str) -> String {
    format!("{input}.{}", b64(&mac(key, input.as_bytes())))
}

/// A token from raw header and claims bytes, validly MACed.
fn raw_token(header: &[u8], claims: &[u8]) -> String {
    seal(&format!("{}.{}", b64(header), b64(claims)))
}

fn token(header: &Value, claims: &Value) -> String {
    raw_token(header.to_string().as_bytes(), claims.to_string().as_bytes())
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// Claims of a valid access token at [`NOW`].
fn claims() -> Value {
    json!({
        "sub": "user1",
        "jti": "0123456789abcdefghijkl",
        "type": "access",
        "fresh": false,
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 600,
    })
}

/// A valid token whose claims are [`claims`] with `key` set to `value`.
fn claims_token(key: &str, value: Value) -> String {
    let mut c = claims();
    c[key] = value;
    token(&hs256(), &c)
}

/// A valid token whose claims are [`claims`] without `key`.
fn claims_token_without(key: &str) -> String {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(key);
    token(&hs256(), &c)
}

fn config() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.into()),
        ..Default::default()
    }
}

fn auth_with(config: AuthXConfig) -> (AuthX, ManualClock) {
    let clock = ManualClock::at_secs(NOW);
    let auth = AuthX::with_clock(config, Arc::new(clock.clone())).unwrap();
    (auth, clock)
}

fn auth() -> AuthX {
    auth_with(config()).0
}

fn decode_err(auth: &AuthX, token: &str) -> ErrorKind {
    auth.decode_token(token).unwrap_err().into_kind()
}

fn jwt_err(auth: &AuthX, token: &str) -> ErrorKind {
    auth.verify_jwt(token).unwrap_err().into_kind()
}

fn jws_err(auth: &AuthX, token: &str) -> ErrorKind {
    auth.verify_jws(token).unwrap_err().into_kind()
}

fn malformed(m: Malformed) -> ErrorKind {
    ErrorKind::Malformed(m)
}

/// `decode_token`, `verify_jwt` and `verify_jws` all reject `token` with
/// `kind` (for rows checked before the claims are read).
fn assert_rejected(auth: &AuthX, token: &str, kind: &ErrorKind, what: &str) {
    assert_eq!(&decode_err(auth, token), kind, "decode_token: {what}");
    assert_eq!(&jwt_err(auth, token), kind, "verify_jwt: {what}");
    assert_eq!(&jws_err(auth, token), kind, "verify_jws: {what}");
}

/// `decode_token` and `verify_jwt` both reject `token` with `kind`.
fn assert_claims_rejected(auth: &AuthX, token: &str, kind: &ErrorKind, what: &str) {
    assert_eq!(&decode_err(auth, token), kind, "decode_token: {what}");
    assert_eq!(&jwt_err(auth, token), kind, "verify_jwt: {what}");
}

fn config_error(result: authx::Result<AuthX>) -> String {
    match result.unwrap_err().into_kind() {
        ErrorKind::BadConfiguration(msg) => msg.into_owned(),
        other => panic!("expected BadConfiguration, got {other:?}"),
    }
}

/// JSON whose length is not a multiple of 3, so its base64url form has
/// unused trailing bits: spaces are added after the opening brace.
fn unaligned(json: &Value) -> Vec<u8> {
    let mut s = json.to_string();
    while s.len().is_multiple_of(3) {
        s.insert(1, ' ');
    }
    s.into_bytes()
}

/// The three segments of a valid token whose segments all have unused
/// trailing bits.
fn unaligned_segments() -> [String; 3] {
    let t = raw_token(&unaligned(&hs256()), &unaligned(&claims()));
    assert!(auth().decode_token(&t).is_ok());
    let parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    for p in &parts {
        assert_ne!(p.len() % 4, 0);
    }
    [parts[0].clone(), parts[1].clone(), parts[2].clone()]
}

/// The token with segment `seg` rewritten by `f`; header and claims edits
/// are re-MACed so that the signature stays valid.
fn edit_segment(seg: usize, f: impl Fn(&str) -> String) -> String {
    let mut p = unaligned_segments();
    p[seg] = f(&p[seg]);
    if seg < 2 {
        seal(&format!("{}.{}", p[0], p[1]))
    } else {
        p.join(".")
    }
}

/// Flips the lowest bit of the last character, which encodes no data.
fn flip_unused_bit(seg: &str) -> String {
    assert_ne!(seg.len() % 4, 0);
    let mut bytes = seg.as_bytes().to_vec();
    let last = bytes.last_mut().unwrap();
    let v = B64URL.iter().position(|c| c == last).unwrap();
    *last = B64URL[v ^ 1];
    String::from_utf8(bytes).unwrap()
}

fn replace_signature(token: &str, signature: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{}", b64(signature))
}

fn es256_auth() -> AuthX {
    AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        ..Default::default()
    })
    .unwrap()
}

/// An ES256 signer and its public key PEM.
fn es256_pair() -> (AuthX, String) {
    let private = generate_pem(Algorithm::ES256).unwrap();
    let public = public_pem_from_private(Algorithm::ES256, &private).unwrap();
    let signer = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(private.into()),
        ..Default::default()
    })
    .unwrap();
    (signer, public)
}

fn request(token: String, kind: TokenType) -> RequestToken {
    RequestToken::new(token, TokenLocation::Headers, kind)
}

// ---------------------------------------------------------------------------
// Baseline
// ---------------------------------------------------------------------------

#[test]
fn hand_built_tokens_verify() {
    let auth = auth();
    let t = token(&hs256(), &claims());
    let payload = auth.decode_token(&t).unwrap();
    assert_eq!(payload.sub, "user1");
    assert_eq!(auth.verify_jwt(&t).unwrap()["sub"], "user1");
    unaligned_segments();
}

// ---------------------------------------------------------------------------
// F1: compact serialization, exactly three non-empty segments
// ---------------------------------------------------------------------------

#[test]
fn two_segments_are_rejected() {
    let t = token(&hs256(), &claims());
    let (two, _) = t.rsplit_once('.').unwrap();
    assert_rejected(&auth(), two, &malformed(Malformed::SegmentCount), two);
}

#[test]
fn four_and_five_segments_are_rejected() {
    let auth = auth();
    let t = token(&hs256(), &claims());
    for bad in [
        format!("{t}.AAAA"),
        format!("{t}."),
        format!("{t}.AAAA.AAAA"),
        // A JWE-shaped token: five segments.
        format!(
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..{}.AAAA.AAAA",
            b64(b"iv")
        ),
    ] {
        assert_rejected(&auth, &bad, &malformed(Malformed::SegmentCount), &bad);
    }
}

#[test]
fn empty_segments_are_rejected() {
    let auth = auth();
    let t = token(&hs256(), &claims());
    let p: Vec<&str> = t.split('.').collect();
    for bad in [
        format!(".{}.{}", p[1], p[2]),
        format!("{}..{}", p[0], p[2]),
        format!("{}.{}.", p[0], p[1]),
        "..".to_owned(),
    ] {
        assert_rejected(&auth, &bad, &malformed(Malformed::EmptySegment), &bad);
    }
}

#[test]
fn empty_string_and_dots_only_are_rejected() {
    let auth = auth();
    for bad in ["", ".", "...", "...."] {
        assert_rejected(&auth, bad, &malformed(Malformed::SegmentCount), bad);
    }
}

#[test]
fn json_serialization_is_rejected() {
    let t = token(&hs256(), &claims());
    let p: Vec<&str> = t.split('.').collect();
    let flattened = json!({"protected": p[0], "payload": p[1], "signature": p[2]}).to_string();
    let general = json!({"payload": p[1], "signatures": [{"protected": p[0], "signature": p[2]}]})
        .to_string();
    // `{` is outside the compact alphabet: refused before any decoding.
    for bad in [flattened, general] {
        assert_rejected(&auth(), &bad, &malformed(Malformed::Alphabet), &bad);
    }
}

// ---------------------------------------------------------------------------
// F2: only A-Z a-z 0-9 - _ .
// ---------------------------------------------------------------------------

#[test]
fn characters_outside_base64url_are_rejected_in_every_segment() {
    let auth = auth();
    let bad_chars = [
        " ", "\t", "=", "+", "/", "\0", "\r\n", "\n", "\r", "é", "\u{ff0e}", "?", "%2E", "\u{7f}",
    ];
    for seg in 0..3 {
        for bad in bad_chars {
            for at in [0, 5] {
                let t = edit_segment(seg, |s| {
                    let mut s = s.to_owned();
                    s.insert_str(at, bad);
                    s
                });
                let what = format!("{bad:?} at {at} of segment {seg}");
                assert_rejected(&auth, &t, &malformed(Malformed::Alphabet), &what);
            }
            let t = edit_segment(seg, |s| format!("{s}{bad}"));
            let what = format!("{bad:?} after segment {seg}");
            assert_rejected(&auth, &t, &malformed(Malformed::Alphabet), &what);
        }
    }
}

#[test]
fn leading_and_trailing_whitespace_is_rejected() {
    let auth = auth();
    let t = token(&hs256(), &claims());
    for bad in [
        format!(" {t}"),
        format!("{t} "),
        format!("{t}\n"),
        format!("\t{t}"),
    ] {
        assert_rejected(&auth, &bad, &malformed(Malformed::Alphabet), &bad);
    }
}

// ---------------------------------------------------------------------------
// F3: strict base64url
// ---------------------------------------------------------------------------

#[test]
fn padding_is_rejected_in_every_segment() {
    // `=` is outside the compact alphabet, so padding fails the F2 check
    // before any decoding.
    let auth = auth();
    for seg in 0..3 {
        for pad in ["=", "=="] {
            let t = edit_segment(seg, |s| format!("{s}{pad}"));
            assert_rejected(&auth, &t, &malformed(Malformed::Alphabet), &t);
        }
    }
}

#[test]
fn modified_unused_bits_are_rejected_in_every_segment() {
    let auth = auth();
    for seg in 0..3 {
        let t = edit_segment(seg, flip_unused_bit);
        assert_rejected(&auth, &t, &malformed(Malformed::Base64), &t);
    }
}

#[test]
fn length_one_mod_four_is_rejected_in_every_segment() {
    let auth = auth();
    for seg in 0..3 {
        let t = edit_segment(seg, |s| {
            let mut s = s.to_owned();
            while s.len() % 4 != 1 {
                s.push('A');
            }
            s
        });
        assert_rejected(&auth, &t, &malformed(Malformed::Base64), &t);
    }
}

// ---------------------------------------------------------------------------
// F4: one UTF-8 JSON object each, nothing after it
// ---------------------------------------------------------------------------

#[test]
fn claims_that_are_not_one_json_object_are_rejected() {
    let auth = auth();
    let ok = claims().to_string();
    for bad in [
        "[]".to_owned(),
        r#""x""#.to_owned(),
        "null".to_owned(),
        "1".to_owned(),
        "{".to_owned(),
        format!("{ok}x"),
        format!("{ok}{{}}"),
        format!("{ok},"),
        format!("{ok}\0"),
    ] {
        let t = raw_token(hs256().to_string().as_bytes(), bad.as_bytes());
        assert_claims_rejected(&auth, &t, &malformed(Malformed::Claims), &bad);
    }
}

#[test]
fn header_that_is_not_one_json_object_is_rejected() {
    let auth = auth();
    let ok = hs256().to_string();
    for bad in [
        "[]".to_owned(),
        r#""HS256""#.to_owned(),
        "null".to_owned(),
        format!("{ok}x"),
        format!("{ok}{{}}"),
        r#"{"alg":"HS256""#.to_owned(),
    ] {
        let t = raw_token(bad.as_bytes(), claims().to_string().as_bytes());
        assert_rejected(&auth, &t, &malformed(Malformed::Header), &bad);
    }
}

/// `claims()` with one more member whose raw JSON text is `member`.
fn claims_with_raw_member(member: &[u8]) -> Vec<u8> {
    let c = claims().to_string();
    let mut out = c.as_bytes()[..c.len() - 1].to_vec();
    out.push(b',');
    out.extend_from_slice(member);
    out.push(b'}');
    out
}

#[test]
fn invalid_utf8_in_the_claims_is_rejected() {
    let auth = auth();
    let header = hs256().to_string();
    for member in [
        &b"\"x\":\"\xff\""[..],
        b"\"x\":\"\xc3\x28\"",
        b"\"x\":[\"\xed\xa0\x80\"]",
        b"\"\xc3\x28\":1",
    ] {
        let t = raw_token(header.as_bytes(), &claims_with_raw_member(member));
        let what = String::from_utf8_lossy(member);
        assert_claims_rejected(&auth, &t, &malformed(Malformed::Claims), &what);
    }
    let t = raw_token(
        header.as_bytes(),
        &claims_with_raw_member(b"\"sub2\":\"\xff\""),
    );
    assert_claims_rejected(&auth, &t, &malformed(Malformed::Claims), "custom claim");
}

#[test]
fn invalid_utf8_in_a_header_name_is_rejected() {
    let t = raw_token(
        b"{\"alg\":\"HS256\",\"\xff\":1}",
        claims().to_string().as_bytes(),
    );
    assert_rejected(&auth(), &t, &malformed(Malformed::Header), "member name");
}

/// Regression: the header parser once skipped the values of members it does
/// not know with `serde::de::IgnoredAny`, and serde_json's `ignore_str` does
/// not validate UTF-8, so a header whose `cty` value held the byte 0xFF was
/// accepted (checklist F4). The whole segment is now checked for UTF-8 and
/// unknown values are parsed.
#[test]
fn invalid_utf8_in_a_header_value_is_rejected() {
    let t = raw_token(
        b"{\"alg\":\"HS256\",\"cty\":\"\xff\"}",
        claims().to_string().as_bytes(),
    );
    assert_rejected(&auth(), &t, &malformed(Malformed::Header), "member value");
}

#[test]
fn lone_surrogates_are_rejected() {
    let auth = auth();
    let base = r#"{"jti":"j","type":"access","iat":1700000000,"exp":1700000600"#;
    let header = hs256().to_string();
    // In a custom claim: the claims are not valid JSON text.
    let t = raw_token(
        header.as_bytes(),
        format!(r#"{base},"sub":"u","x":"\ud800"}}"#).as_bytes(),
    );
    assert_claims_rejected(&auth, &t, &malformed(Malformed::Claims), "custom claim");
    // In the subject: the subject is not a string.
    let t = raw_token(
        header.as_bytes(),
        format!(r#"{base},"sub":"\udc00"}}"#).as_bytes(),
    );
    assert_eq!(decode_err(&auth, &t), ErrorKind::InvalidClaim("sub"));
    assert_eq!(jwt_err(&auth, &t), malformed(Malformed::Claims));
}

/// Regression, same cause as `invalid_utf8_in_a_header_value_is_rejected`:
/// `IgnoredAny` does not decode `\u` escapes, so a lone surrogate in an
/// unknown header member was accepted, while the claims parser rejected it
/// (attack catalogue: "invalid UTF-8, lone surrogates").
#[test]
fn lone_surrogate_in_a_header_value_is_rejected() {
    let t = raw_token(
        br#"{"alg":"HS256","cty":"\ud800"}"#,
        claims().to_string().as_bytes(),
    );
    assert_rejected(&auth(), &t, &malformed(Malformed::Header), "header");
}

// ---------------------------------------------------------------------------
// F5: duplicate member names
// ---------------------------------------------------------------------------

#[test]
fn duplicate_alg_is_rejected() {
    let auth = auth();
    let c = claims().to_string();
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","al\u0067":"none"}"#,
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"b"}"#,
        r#"{"alg":"HS256","cty":"a","cty":"b"}"#,
    ] {
        let t = raw_token(header.as_bytes(), c.as_bytes());
        assert_rejected(&auth, &t, &malformed(Malformed::DuplicateMember), header);
    }
}

#[test]
fn duplicate_type_is_rejected() {
    let auth = auth();
    let base = r#"{"sub":"u","jti":"j","iat":1700000000,"exp":1700000600"#;
    for tail in [
        r#","type":"refresh","type":"access"}"#,
        r#","type":"access","typ\u0065":"refresh"}"#,
        r#","type":"access","exp":1700000600}"#,
        r#","type":"access","x":1,"x":2}"#,
    ] {
        let t = raw_token(
            hs256().to_string().as_bytes(),
            format!("{base}{tail}").as_bytes(),
        );
        assert_claims_rejected(&auth, &t, &malformed(Malformed::DuplicateMember), tail);
    }
}

// ---------------------------------------------------------------------------
// F6: length cap before splitting
// ---------------------------------------------------------------------------

#[test]
fn token_longer_than_8_kib_is_too_long() {
    let auth = auth();
    // Find a valid token of exactly 8192 bytes: accepted; one byte more is
    // refused by the cap.
    let mut exact = None;
    'search: for spaces in 0..3 {
        let header = format!("{{{}\"alg\":\"HS256\"}}", " ".repeat(spaces));
        for pad in 5_900..6_200 {
            let mut c = claims();
            c["pad"] = "p".repeat(pad).into();
            let t = raw_token(header.as_bytes(), c.to_string().as_bytes());
            if t.len() == 8192 {
                exact = Some(t);
                break 'search;
            }
        }
    }
    let exact = exact.unwrap();
    assert!(auth.decode_token(&exact).is_ok());
    let longer = format!("{exact}A");
    assert_rejected(&auth, &longer, &malformed(Malformed::TooLong), "8193 bytes");
}

#[test]
fn one_megabyte_token_is_refused_quickly() {
    let auth = auth();
    let huge = format!(
        "{}.{}.{}",
        "A".repeat(400_000),
        "B".repeat(400_000),
        "C".repeat(200_000)
    );
    let start = Instant::now();
    assert_rejected(&auth, &huge, &malformed(Malformed::TooLong), "1 MB");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_million_dots_are_refused_quickly() {
    let dots = ".".repeat(1_000_000);
    let start = Instant::now();
    assert_rejected(
        &auth(),
        &dots,
        &malformed(Malformed::TooLong),
        "a million dots",
    );
    // Even under the largest cap, splitting stops at the third dot.
    let (big, _) = auth_with(AuthXConfig {
        max_token_length: 1024 * 1024,
        ..config()
    });
    assert_rejected(
        &big,
        &dots,
        &malformed(Malformed::SegmentCount),
        "a million dots",
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

// ---------------------------------------------------------------------------
// F7: bounded JSON nesting
// ---------------------------------------------------------------------------

#[test]
fn ten_thousand_deep_nesting_is_rejected_without_overflow() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let c = claims().to_string();
    let claims_json = format!("{},\"deep\":{deep}}}", &c[..c.len() - 1]);
    let t = raw_token(hs256().to_string().as_bytes(), claims_json.as_bytes());
    // Under the default cap the token is simply too long.
    assert_rejected(&auth(), &t, &malformed(Malformed::TooLong), "default cap");
    // Under a cap that lets it through, serde_json's recursion limit holds.
    let (big, _) = auth_with(AuthXConfig {
        max_token_length: 256 * 1024,
        ..config()
    });
    assert_claims_rejected(&big, &t, &malformed(Malformed::Claims), "claims");
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let c = claims().to_string();
    let claims_json = format!("{},\"deep\":{deep_obj}}}", &c[..c.len() - 1]);
    let t = raw_token(hs256().to_string().as_bytes(), claims_json.as_bytes());
    assert_claims_rejected(&big, &t, &malformed(Malformed::Claims), "objects");
}

// ---------------------------------------------------------------------------
// F8, F9: b64 and crit
// ---------------------------------------------------------------------------

#[test]
fn b64_false_is_forbidden() {
    let auth = auth();
    for b64 in [json!(false), json!(true)] {
        let t = token(
            &json!({"alg": "HS256", "b64": b64, "crit": ["b64"]}),
            &claims(),
        );
        // Members are read in order; b64 comes before crit once sorted.
        assert_rejected(
            &auth,
            &t,
            &ErrorKind::ForbiddenHeader("b64"),
            "b64 with crit",
        );
        let t = token(&json!({"alg": "HS256", "b64": b64}), &claims());
        assert_rejected(&auth, &t, &ErrorKind::ForbiddenHeader("b64"), "b64 alone");
    }
}

#[test]
fn crit_unknown_and_crit_empty_are_forbidden() {
    let auth = auth();
    for crit in [
        json!(["exp"]),
        json!(["urn:example:unknown"]),
        json!([]),
        json!("x"),
    ] {
        let t = token(&json!({"alg": "HS256", "crit": crit}), &claims());
        assert_rejected(
            &auth,
            &t,
            &ErrorKind::ForbiddenHeader("crit"),
            &crit.to_string(),
        );
    }
}

// ---------------------------------------------------------------------------
// F10: wrong JSON types
// ---------------------------------------------------------------------------

#[test]
fn wrong_types_in_the_header_are_invalid() {
    let auth = auth();
    for (name, header) in [
        ("alg", json!({"alg": 256})),
        ("alg", json!({"alg": ["HS256"]})),
        ("alg", json!({"alg": {"name": "HS256"}})),
        ("alg", json!({"alg": true})),
        ("kid", json!({"alg": "HS256", "kid": 1})),
        ("kid", json!({"alg": "HS256", "kid": null})),
        ("kid", json!({"alg": "HS256", "kid": ["a"]})),
        ("typ", json!({"alg": "HS256", "typ": 1})),
        ("typ", json!({"alg": "HS256", "typ": null})),
    ] {
        let t = token(&header, &claims());
        assert_rejected(
            &auth,
            &t,
            &ErrorKind::InvalidClaim(name),
            &header.to_string(),
        );
    }
}

#[test]
fn wrong_types_in_the_claims_are_invalid() {
    let auth = auth();
    for (name, value) in [
        ("sub", json!(1)),
        ("sub", json!(null)),
        ("sub", json!(["user1"])),
        ("sub", json!({"id": "user1"})),
        ("jti", json!(1)),
        ("jti", json!(null)),
        ("jti", json!(["j"])),
        ("type", json!(1)),
        ("type", json!(true)),
        ("type", json!(null)),
        ("type", json!(["access"])),
        ("csrf", json!(1)),
        ("csrf", json!(null)),
        ("csrf", json!(["c"])),
        ("aud", json!(1)),
        ("aud", json!([1])),
        ("aud", json!(["api", null])),
        ("aud", json!({"a": "api"})),
        ("iss", json!(1)),
        ("fresh", json!("true")),
        ("scopes", json!("read")),
    ] {
        let t = claims_token(name, value.clone());
        let what = format!("{name}: {value}");
        assert_eq!(
            decode_err(&auth, &t),
            ErrorKind::InvalidClaim(name),
            "{what}"
        );
    }
}

#[test]
fn wrong_types_of_aud_and_iss_are_invalid_in_verify_jwt() {
    let auth = auth();
    for (name, value) in [
        ("aud", json!(1)),
        ("aud", json!([1])),
        ("aud", json!(null)),
        ("aud", json!({"a": "api"})),
        ("iss", json!(1)),
        ("iss", json!(null)),
        ("iss", json!(["joe"])),
    ] {
        let t = claims_token(name, value.clone());
        assert_eq!(
            jwt_err(&auth, &t),
            ErrorKind::InvalidClaim(name),
            "{name}: {value}"
        );
    }
}

// ---------------------------------------------------------------------------
// A1, A2: allowlist fixed by configuration, exact alg comparison
// ---------------------------------------------------------------------------

#[test]
fn alg_none_in_any_casing_is_not_allowed() {
    let auth = auth();
    for alg in [
        "none", "None", "NONE", "nOnE", "hs256", "HS256 ", " HS256", "HS256\0", "Hs256",
    ] {
        let t = token(&json!({"alg": alg}), &claims());
        assert_rejected(&auth, &t, &ErrorKind::AlgorithmNotAllowed, alg);
    }
}

#[test]
fn alg_none_with_an_empty_signature_is_rejected() {
    let h = b64(br#"{"alg":"none"}"#);
    let c = b64(claims().to_string().as_bytes());
    let t = format!("{h}.{c}.");
    assert_rejected(&auth(), &t, &malformed(Malformed::EmptySegment), &t);
}

#[test]
fn alg_missing_null_or_number_is_rejected() {
    let auth = auth();
    let t = token(&json!({"typ": "JWT"}), &claims());
    assert_rejected(&auth, &t, &ErrorKind::MissingClaim("alg"), "missing");
    let t = token(&json!({"alg": null}), &claims());
    assert_rejected(&auth, &t, &ErrorKind::InvalidClaim("alg"), "null");
    let t = token(&json!({"alg": 256}), &claims());
    assert_rejected(&auth, &t, &ErrorKind::InvalidClaim("alg"), "number");
}

#[test]
fn an_algorithm_outside_the_allowlist_is_not_allowed() {
    let auth = auth();
    for alg in ["HS384", "HS512", "RS256", "ES256", "EdDSA", "PS256"] {
        let t = token(&json!({"alg": alg}), &claims());
        assert_rejected(&auth, &t, &ErrorKind::AlgorithmNotAllowed, alg);
    }
}

#[test]
fn decode_algorithms_widens_the_allowlist_only_as_configured() {
    let (auth, _) = auth_with(AuthXConfig {
        decode_algorithms: vec![Algorithm::HS256, Algorithm::HS384],
        ..config()
    });
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS384"}"#),
        b64(claims().to_string().as_bytes())
    );
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA384, SECRET.as_bytes()),
        input.as_bytes(),
    );
    let t = format!("{input}.{}", b64(tag.as_ref()));
    assert!(auth.decode_token(&t).is_ok());
    let t = token(&json!({"alg": "HS512"}), &claims());
    assert_eq!(decode_err(&auth, &t), ErrorKind::AlgorithmNotAllowed);
}

/// Regression test for a fixed bug (Wycheproof JWK tcIds 25, 26): an `oct`
/// JWK whose `alg` is an encryption algorithm was bound to the configured HS256 (`jwks_verifiers`
/// in src/keys.rs: an unknown `alg` "binds nothing"), although `AuthXConfig::jwks` documents
/// that each key is bound to "its `alg` member" and that keys whose
/// algorithm is not accepted are left out (checklist A1).
#[test]
fn a_jwk_labelled_a256gcm_is_never_used_as_an_hs256_key() {
    let aes_key = [7u8; 32];
    for alg in ["A256GCM", "A256KW", "dir"] {
        let jwks = json!({"keys": [{"kty": "oct", "alg": alg, "kid": "aes", "k": b64(&aes_key)}]});
        let built = AuthX::new(AuthXConfig {
            jwks: Some(jwks.to_string()),
            ..config()
        });
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"HS256","kid":"aes"}"#),
            b64(claims().to_string().as_bytes())
        );
        let t = seal_with(&aes_key, &input);
        if let Ok(auth) = built {
            let result = auth.verify_jws(&t).map(|_| "accepted");
            assert_eq!(
                result.map_err(authx::Error::into_kind),
                Err(ErrorKind::UnknownKeyId),
                "a key labelled {alg} verified an HS256 token"
            );
        }
    }
}

/// Regression test for a fixed bug (Wycheproof JWK tcIds 19, 20): a P-256 JWK labelled with
/// another algorithm (`ES224`, or `ES521`, RFC 7520's spelling of ES512) is
/// bound to ES256 by its curve (`jwks_verifiers` in src/keys.rs) instead of
/// being refused or left out, before the fix (checklist A1: each key is bound to one
/// algorithm, its own).
#[test]
fn a_jwk_labelled_with_another_ec_algorithm_never_verifies_es256() {
    let signer = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        kid: Some("ec".into()),
        ..Default::default()
    })
    .unwrap();
    let t = signer.create_access_token("user1").unwrap();
    for alg in ["ES224", "ES521"] {
        let mut jwk = signer.jwks()["keys"][0].clone();
        jwk["alg"] = alg.into();
        let built = AuthX::new(AuthXConfig {
            algorithm: Algorithm::ES256,
            jwks: Some(json!({ "keys": [jwk] }).to_string()),
            ..Default::default()
        });
        if let Ok(auth) = built {
            let result = auth.verify_jws(&t).map(|_| "accepted");
            assert_eq!(
                result.map_err(authx::Error::into_kind),
                Err(ErrorKind::UnknownKeyId),
                "a P-256 key labelled {alg} verified an ES256 token"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// A3: key confusion
// ---------------------------------------------------------------------------

#[test]
fn hs256_token_maced_with_the_public_key_is_rejected() {
    let (signer, public) = es256_pair();
    let verifier = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        public_key: Some(public.clone()),
        ..Default::default()
    })
    .unwrap();
    let der = pem::parse(public.trim()).unwrap().contents().to_vec();
    let jwk = signer.jwks()["keys"][0].to_string();
    let trimmed = public.trim_end().to_owned();
    let with_newline = format!("{trimmed}\n");
    let keys: [(&str, &[u8]); 5] = [
        ("PEM with newline", with_newline.as_bytes()),
        ("PEM without newline", trimmed.as_bytes()),
        ("PEM as given", public.as_bytes()),
        ("DER", &der),
        ("JWK", jwk.as_bytes()),
    ];
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims().to_string().as_bytes())
    );
    for auth in [&signer, &verifier] {
        for (what, key) in &keys {
            let t = seal_with(key, &input);
            assert_rejected(auth, &t, &ErrorKind::AlgorithmNotAllowed, what);
        }
    }
}

#[test]
fn hmac_cannot_be_added_to_a_public_key_configuration() {
    let (_, public) = es256_pair();
    let err = config_error(AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        decode_algorithms: vec![Algorithm::ES256, Algorithm::HS256],
        public_key: Some(public),
        ..Default::default()
    }));
    assert!(err.contains("HS256"), "{err}");
}

#[test]
fn rs_and_eddsa_tokens_are_not_allowed_by_an_es_verifier() {
    let es = es256_auth();
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::EdDSA,
        Algorithm::ES384,
    ] {
        let signer = AuthX::new(AuthXConfig {
            algorithm: alg,
            private_key: Some(generate_pem(alg).unwrap().into()),
            ..Default::default()
        })
        .unwrap();
        let t = signer.create_access_token("user1").unwrap();
        assert!(signer.decode_token(&t).is_ok());
        assert_rejected(&es, &t, &ErrorKind::AlgorithmNotAllowed, alg.as_str());
    }
}

#[test]
fn es256_token_with_the_header_swapped_to_rs256_is_not_allowed() {
    let es = es256_auth();
    let t = es.create_access_token("user1").unwrap();
    let p: Vec<&str> = t.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT"}"#),
        p[1],
        p[2]
    );
    assert_rejected(
        &es,
        &forged,
        &ErrorKind::AlgorithmNotAllowed,
        "RS256 header",
    );
}

// ---------------------------------------------------------------------------
// A4: HMAC secret length
// ---------------------------------------------------------------------------

#[test]
fn short_and_empty_secrets_are_construction_errors_naming_secret_key() {
    for secret in [
        "",
        "short",
        "your-secret-key",
        "0123456789abcdef0123456789abcde",
    ] {
        let err = config_error(AuthX::new(AuthXConfig {
            secret_key: Some(secret.into()),
            ..Default::default()
        }));
        assert!(err.contains("secret_key"), "{secret:?}: {err}");
    }
    // The size is per hash: 32 bytes is enough for HS256, not for HS512.
    let thirty_two = "0123456789abcdef0123456789abcdef";
    assert!(
        AuthX::new(AuthXConfig {
            secret_key: Some(thirty_two.into()),
            ..Default::default()
        })
        .is_ok()
    );
    let err = config_error(AuthX::new(AuthXConfig {
        algorithm: Algorithm::HS512,
        secret_key: Some(thirty_two.into()),
        ..Default::default()
    }));
    assert!(err.contains("secret_key"), "{err}");
}

#[test]
fn short_previous_secret_is_a_construction_error_naming_it() {
    let err = config_error(AuthX::new(AuthXConfig {
        previous_secret_key: Some("your-secret-key".into()),
        ..config()
    }));
    assert!(err.contains("previous_secret_key"), "{err}");
}

#[test]
fn missing_secret_is_a_construction_error_naming_secret_key() {
    let err = config_error(AuthX::new(AuthXConfig::default()));
    assert!(err.contains("secret_key"), "{err}");
}

#[test]
fn dangerous_allow_weak_secret_lets_the_seed_secret_through() {
    let auth = AuthX::new(AuthXConfig {
        secret_key: Some("your-secret-key".into()),
        dangerous_allow_weak_secret: true,
        ..Default::default()
    })
    .unwrap();
    let t = auth.create_access_token("user1").unwrap();
    assert_eq!(auth.decode_token(&t).unwrap().sub, "user1");
    // An empty secret stays refused even then.
    let err = config_error(AuthX::new(AuthXConfig {
        secret_key: Some("".into()),
        dangerous_allow_weak_secret: true,
        ..Default::default()
    }));
    assert!(err.contains("secret_key"), "{err}");
}

// ---------------------------------------------------------------------------
// A5: RSA >= 2048 bits
// ---------------------------------------------------------------------------

#[test]
fn rsa_jwk_under_2048_bits_is_a_construction_error() {
    for bytes in [128usize, 255] {
        let mut n = vec![0xc5u8; bytes];
        n[bytes - 1] |= 1;
        let jwks = json!({"keys": [{"kty": "RSA", "alg": "RS256", "n": b64(&n), "e": "AQAB"}]});
        let err = config_error(AuthX::new(AuthXConfig {
            algorithm: Algorithm::RS256,
            jwks: Some(jwks.to_string()),
            ..Default::default()
        }));
        assert!(
            err.contains("jwks") && err.contains("2048"),
            "{bytes}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------
// A7: fixed-length signatures, r and s in [1, n-1]
// ---------------------------------------------------------------------------

/// The order of P-256.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

#[test]
fn es256_signatures_of_the_wrong_length_are_rejected() {
    let es = es256_auth();
    let t = es.create_access_token("user1").unwrap();
    let sig = URL_SAFE_NO_PAD
        .decode(t.rsplit('.').next().unwrap())
        .unwrap();
    assert_eq!(sig.len(), 64);
    let mut der = vec![0x30, 68, 0x02, 32];
    der.extend_from_slice(&sig[..32]);
    der.extend_from_slice(&[0x02, 32]);
    der.extend_from_slice(&sig[32..]);
    for bad in [
        sig[..63].to_vec(),
        sig[..32].to_vec(),
        [sig.as_slice(), &[0]].concat(),
        [&[0], sig.as_slice()].concat(),
        [sig.as_slice(), sig.as_slice()].concat(),
        der,
        vec![0],
    ] {
        let forged = replace_signature(&t, &bad);
        let what = format!("{} bytes", bad.len());
        assert_rejected(&es, &forged, &malformed(Malformed::SignatureLength), &what);
    }
}

#[test]
fn es256_r_or_s_of_zero_one_n_minus_one_or_n_are_invalid_signatures() {
    let es = es256_auth();
    let t = es.create_access_token("user1").unwrap();
    let zero = [0u8; 32];
    let mut one = [0u8; 32];
    one[31] = 1;
    let mut n_minus_1 = P256_N;
    n_minus_1[31] -= 1;
    let values = [("0", zero), ("1", one), ("n-1", n_minus_1), ("n", P256_N)];
    for (rn, r) in &values {
        for (sn, s) in &values {
            let forged = replace_signature(&t, &[r.as_slice(), s.as_slice()].concat());
            let what = format!("r={rn} s={sn}");
            assert_rejected(&es, &forged, &ErrorKind::InvalidSignature, &what);
        }
    }
}

#[test]
fn truncated_and_extended_hmac_and_eddsa_signatures_are_rejected() {
    let auth = auth();
    let t = auth.create_access_token("user1").unwrap();
    let sig = URL_SAFE_NO_PAD
        .decode(t.rsplit('.').next().unwrap())
        .unwrap();
    for bad in [
        sig[..31].to_vec(),
        sig[..16].to_vec(),
        [sig.as_slice(), &[0]].concat(),
    ] {
        let forged = replace_signature(&t, &bad);
        assert_rejected(
            &auth,
            &forged,
            &malformed(Malformed::SignatureLength),
            "HS256",
        );
    }
    let ed = AuthX::new(AuthXConfig {
        algorithm: Algorithm::EdDSA,
        private_key: Some(generate_pem(Algorithm::EdDSA).unwrap().into()),
        ..Default::default()
    })
    .unwrap();
    let t = ed.create_access_token("user1").unwrap();
    let sig = URL_SAFE_NO_PAD
        .decode(t.rsplit('.').next().unwrap())
        .unwrap();
    for bad in [sig[..63].to_vec(), [sig.as_slice(), &[0]].concat()] {
        let forged = replace_signature(&t, &bad);
        assert_rejected(
            &ed,
            &forged,
            &malformed(Malformed::SignatureLength),
            "EdDSA",
        );
    }
}

// ---------------------------------------------------------------------------
// K1: kid selects only among configured keys
// ---------------------------------------------------------------------------

fn kid_token(kid: &str) -> String {
    token(&json!({"alg": "HS256", "kid": kid}), &claims())
}

#[test]
fn unknown_kid_is_rejected() {
    let (auth, _) = auth_with(AuthXConfig {
        kid: Some("k1".into()),
        ..config()
    });
    assert!(auth.decode_token(&kid_token("k1")).is_ok());
    for kid in ["k2", "K1", "k1 ", " k1", "k", "k1\0", ""] {
        assert_rejected(&auth, &kid_token(kid), &ErrorKind::UnknownKeyId, kid);
    }
    // A kid when no key has one.
    assert_rejected(
        &self::auth(),
        &kid_token("k1"),
        &ErrorKind::UnknownKeyId,
        "no kids",
    );
}

#[test]
fn kid_path_traversal_and_sql_are_unknown_key_ids() {
    let (auth, _) = auth_with(AuthXConfig {
        kid: Some("k1".into()),
        ..config()
    });
    for kid in [
        "../../etc/passwd",
        "/dev/null",
        "../../../../../../dev/null",
        "k1' OR '1'='1",
        "' UNION SELECT 'secret' --",
        "k1\"; DROP TABLE keys; --",
        "http://attacker.example/key",
    ] {
        assert_rejected(&auth, &kid_token(kid), &ErrorKind::UnknownKeyId, kid);
    }
}

#[test]
fn long_kids_are_capped() {
    let (auth, _) = auth_with(AuthXConfig {
        kid: Some("k1".into()),
        ..config()
    });
    let long = "k".repeat(300);
    assert_rejected(
        &auth,
        &kid_token(&long),
        &ErrorKind::UnknownKeyId,
        "300 chars",
    );
    let huge = "k".repeat(1024 * 1024);
    assert_rejected(
        &auth,
        &kid_token(&huge),
        &malformed(Malformed::TooLong),
        "1 MB",
    );
}

// ---------------------------------------------------------------------------
// K2: keys never come from the token
// ---------------------------------------------------------------------------

#[test]
fn jku_x5u_jwk_and_x5c_headers_are_forbidden() {
    let auth = auth();
    let attacker_jwk = json!({"kty": "oct", "k": b64(SECRET.as_bytes())});
    for (name, value) in [
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", attacker_jwk),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])),
    ] {
        let mut header = hs256();
        header[name] = value;
        let t = token(&header, &claims());
        assert_rejected(&auth, &t, &ErrorKind::ForbiddenHeader(name), name);
    }
}

// ---------------------------------------------------------------------------
// C1: exp
// ---------------------------------------------------------------------------

#[test]
fn exp_boundaries_with_zero_leeway() {
    let (auth, clock) = auth_with(AuthXConfig {
        access_token_expires: Duration::from_secs(60),
        ..config()
    });
    let t = auth.create_access_token("user1").unwrap();
    let exp_ms = (NOW + 60) * 1000;
    assert_eq!(auth.decode_token(&t).unwrap().exp, (NOW + 60) as f64);
    clock.set_millis(exp_ms - 1);
    assert!(auth.decode_token(&t).is_ok());
    assert!(auth.verify_jwt(&t).is_ok());
    clock.set_millis(exp_ms);
    assert_claims_rejected(&auth, &t, &ErrorKind::ExpiredToken, "at exp");
    clock.set_millis(exp_ms + 1);
    assert_claims_rejected(&auth, &t, &ErrorKind::ExpiredToken, "after exp");
}

#[test]
fn exp_boundaries_with_five_seconds_leeway() {
    let (auth, clock) = auth_with(AuthXConfig {
        access_token_expires: Duration::from_secs(60),
        decode_leeway: Duration::from_secs(5),
        ..config()
    });
    let t = auth.create_access_token("user1").unwrap();
    let exp_ms = (NOW + 60) * 1000;
    clock.set_millis(exp_ms + 4_999);
    assert!(auth.decode_token(&t).is_ok());
    assert!(auth.verify_jwt(&t).is_ok());
    clock.set_millis(exp_ms + 5_000);
    assert_claims_rejected(&auth, &t, &ErrorKind::ExpiredToken, "at exp + leeway");
}

#[test]
fn missing_exp_is_rejected() {
    let t = claims_token_without("exp");
    assert_claims_rejected(&auth(), &t, &ErrorKind::MissingClaim("exp"), "no exp");
}

// ---------------------------------------------------------------------------
// C2: nbf
// ---------------------------------------------------------------------------

#[test]
fn nbf_boundaries_with_zero_leeway() {
    let (auth, clock) = auth_with(config());
    let nbf = NOW + 100;
    let mut c = claims();
    c["nbf"] = nbf.into();
    c["exp"] = (NOW + 1000).into();
    let t = token(&hs256(), &c);
    clock.set_millis(nbf * 1000 - 1);
    assert_claims_rejected(&auth, &t, &ErrorKind::ImmatureToken, "just before nbf");
    clock.set_millis(nbf * 1000);
    assert!(auth.decode_token(&t).is_ok());
    assert!(auth.verify_jwt(&t).is_ok());
}

#[test]
fn nbf_boundaries_with_five_seconds_leeway() {
    let (auth, clock) = auth_with(AuthXConfig {
        decode_leeway: Duration::from_secs(5),
        ..config()
    });
    let nbf = NOW + 100;
    let mut c = claims();
    c["nbf"] = nbf.into();
    c["exp"] = (NOW + 1000).into();
    let t = token(&hs256(), &c);
    clock.set_millis((nbf - 5) * 1000 - 1);
    assert_claims_rejected(&auth, &t, &ErrorKind::ImmatureToken, "before nbf - leeway");
    clock.set_millis((nbf - 5) * 1000);
    assert!(auth.decode_token(&t).is_ok());
    assert!(auth.verify_jwt(&t).is_ok());
}

// ---------------------------------------------------------------------------
// C3: iat
// ---------------------------------------------------------------------------

#[test]
fn future_iat_beyond_leeway_is_issued_in_future() {
    let auth = auth();
    let t = claims_token("iat", (NOW + 1).into());
    assert_claims_rejected(&auth, &t, &ErrorKind::IssuedInFuture, "iat = now + 1");
    let (lenient, _) = auth_with(AuthXConfig {
        decode_leeway: Duration::from_secs(5),
        ..config()
    });
    assert!(
        lenient
            .decode_token(&claims_token("iat", (NOW + 5).into()))
            .is_ok()
    );
    let t = claims_token("iat", (NOW + 6).into());
    assert_claims_rejected(&lenient, &t, &ErrorKind::IssuedInFuture, "iat = now + 6");
}

#[test]
fn missing_iat_is_rejected_by_decode_token() {
    let t = claims_token_without("iat");
    assert_eq!(decode_err(&auth(), &t), ErrorKind::MissingClaim("iat"));
    // verify_jwt (non-authx payloads) checks iat only when present.
    assert!(auth().verify_jwt(&t).is_ok());
}

// ---------------------------------------------------------------------------
// C4: wrong-typed time claims
// ---------------------------------------------------------------------------

#[test]
fn wrong_typed_time_claims_are_invalid() {
    let auth = auth();
    let bad_values = [
        json!("1700000600"),
        json!(true),
        json!(null),
        json!([1_700_000_600]),
        json!({"t": 1_700_000_600}),
        json!(-1),
        json!(-0.5),
        json!(1e300),
        json!(253_402_300_800_u64),
        json!(u64::MAX),
        json!(i64::MIN),
    ];
    for name in ["exp", "nbf", "iat"] {
        for value in &bad_values {
            let t = claims_token(name, value.clone());
            let what = format!("{name}: {value}");
            assert_claims_rejected(&auth, &t, &ErrorKind::InvalidClaim(name), &what);
        }
    }
}

// ---------------------------------------------------------------------------
// C5: no overflow
// ---------------------------------------------------------------------------

#[test]
fn huge_expiry_on_creation_is_an_error_not_a_panic() {
    let auth = auth();
    for d in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(i64::MAX as u64),
    ] {
        let err = auth
            .create_access_token_with("user1", &TokenOptions::new().expiry(d))
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::BadConfiguration(_)),
            "{err:?}"
        );
    }
    let far = UNIX_EPOCH
        .checked_add(Duration::from_secs(300_000_000_000))
        .unwrap();
    let err = auth
        .create_access_token_with("user1", &TokenOptions::new().expiry(far))
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::BadConfiguration(_)),
        "{err:?}"
    );
    let past = SystemTime::UNIX_EPOCH;
    let err = auth
        .create_access_token_with("user1", &TokenOptions::new().expiry(past))
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::BadConfiguration(_)),
        "{err:?}"
    );
}

#[test]
fn huge_lifetimes_and_leeway_are_configuration_errors() {
    for config in [
        AuthXConfig {
            access_token_expires: Duration::MAX,
            ..config()
        },
        AuthXConfig {
            refresh_token_expires: Duration::MAX,
            ..config()
        },
        AuthXConfig {
            decode_leeway: Duration::MAX,
            ..config()
        },
    ] {
        config_error(AuthX::new(config));
    }
}

#[test]
fn clocks_at_the_ends_of_time_do_not_panic() {
    let t = token(&hs256(), &claims());
    for ms in [i64::MAX, i64::MIN, 0, -1] {
        let clock = ManualClock::at_millis(ms);
        let auth = AuthX::with_clock(config(), Arc::new(clock)).unwrap();
        let _ = auth.create_access_token("user1");
        let _ = auth.decode_token(&t);
        let _ = auth.verify_jwt(&t);
    }
    let late = AuthX::with_clock(config(), Arc::new(ManualClock::at_millis(i64::MAX))).unwrap();
    assert!(late.create_access_token("user1").is_err());
    assert_eq!(decode_err(&late, &t), ErrorKind::ExpiredToken);
}

// ---------------------------------------------------------------------------
// C6: float NumericDates
// ---------------------------------------------------------------------------

#[test]
fn float_exp_is_accepted() {
    let (auth, clock) = auth_with(config());
    let t = claims_token("exp", json!(NOW as f64 + 60.5));
    clock.set_millis((NOW + 60) * 1000 + 499);
    assert_eq!(auth.decode_token(&t).unwrap().exp, NOW as f64 + 60.5);
    assert!(auth.verify_jwt(&t).is_ok());
    clock.set_millis((NOW + 60) * 1000 + 500);
    assert_claims_rejected(&auth, &t, &ErrorKind::ExpiredToken, "at float exp");
}

#[test]
fn float_nbf_is_accepted() {
    let (auth, clock) = auth_with(config());
    let t = claims_token("nbf", json!(NOW as f64 + 0.25));
    clock.set_millis(NOW * 1000 + 249);
    assert_claims_rejected(&auth, &t, &ErrorKind::ImmatureToken, "before float nbf");
    clock.set_millis(NOW * 1000 + 250);
    assert!(auth.decode_token(&t).is_ok());
}

/// Regression test for a fixed bug: `AuthX::check_time` (src/token.rs) compared `iat` with the
/// current time floored to the second, so a token issued 0.3 s into a second
/// and verified 0.5 s into it (0.2 s later) is refused as issued in the
/// future. Fractional NumericDates are legal (RFC 7519 §2, checklist C6);
/// C3 only refuses an iat in the future beyond the leeway.
#[test]
fn a_fractional_iat_in_the_past_is_accepted() {
    let (auth, clock) = auth_with(config());
    let t = claims_token("iat", json!(NOW as f64 + 0.3));
    clock.set_millis(NOW * 1000 + 500);
    assert_eq!(
        auth.verify_jwt(&t)
            .map(|_| ())
            .map_err(authx::Error::into_kind),
        Ok(())
    );
    assert_eq!(
        auth.decode_token(&t)
            .map(|_| ())
            .map_err(authx::Error::into_kind),
        Ok(())
    );
}

// ---------------------------------------------------------------------------
// C7: aud and iss exact match
// ---------------------------------------------------------------------------

#[test]
fn partial_audience_matches_are_invalid() {
    let (auth, _) = auth_with(AuthXConfig {
        decode_audience: vec!["api".into()],
        ..config()
    });
    assert!(
        auth.decode_token(&claims_token("aud", json!("api")))
            .is_ok()
    );
    assert!(
        auth.decode_token(&claims_token("aud", json!(["other", "api"])))
            .is_ok()
    );
    assert!(auth.verify_jwt(&claims_token("aud", json!("api"))).is_ok());
    for aud in [
        json!("api2"),
        json!("ap"),
        json!("xapi"),
        json!("API"),
        json!("api "),
        json!(""),
        json!(["api2", "ap"]),
        json!([]),
    ] {
        let t = claims_token("aud", aud.clone());
        assert_claims_rejected(&auth, &t, &ErrorKind::InvalidAudience, &aud.to_string());
    }
    let t = claims_token_without("aud");
    assert_claims_rejected(&auth, &t, &ErrorKind::InvalidAudience, "missing aud");
}

#[test]
fn audience_present_while_none_is_configured_is_invalid() {
    for aud in [json!("api"), json!(["api"])] {
        let t = claims_token("aud", aud.clone());
        assert_claims_rejected(&auth(), &t, &ErrorKind::InvalidAudience, &aud.to_string());
    }
}

#[test]
fn partial_issuer_matches_are_invalid() {
    let issuer = "https://issuer.example";
    let (auth, _) = auth_with(AuthXConfig {
        decode_issuer: Some(issuer.into()),
        ..config()
    });
    assert!(
        auth.decode_token(&claims_token("iss", json!(issuer)))
            .is_ok()
    );
    assert!(auth.verify_jwt(&claims_token("iss", json!(issuer))).is_ok());
    for iss in [
        "https://issuer.example.evil",
        "https://issuer.exampl",
        "https://issuer.example/",
        "HTTPS://issuer.example",
        "issuer.example",
        "",
    ] {
        let t = claims_token("iss", json!(iss));
        assert_claims_rejected(&auth, &t, &ErrorKind::InvalidIssuer, iss);
    }
    let t = claims_token_without("iss");
    assert_claims_rejected(&auth, &t, &ErrorKind::InvalidIssuer, "missing iss");
}

// ---------------------------------------------------------------------------
// C9: sub
// ---------------------------------------------------------------------------

#[test]
fn missing_empty_or_non_string_sub_is_rejected() {
    let auth = auth();
    assert_eq!(
        decode_err(&auth, &claims_token_without("sub")),
        ErrorKind::MissingClaim("sub")
    );
    for sub in [
        json!(""),
        json!(1),
        json!(null),
        json!(true),
        json!(["user1"]),
    ] {
        let t = claims_token("sub", sub.clone());
        assert_eq!(
            decode_err(&auth, &t),
            ErrorKind::InvalidClaim("sub"),
            "{sub}"
        );
    }
    let err = auth.create_access_token("").unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::BadConfiguration(_)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// C10: jti
// ---------------------------------------------------------------------------

#[test]
fn missing_empty_non_string_or_long_jti_is_rejected() {
    let auth = auth();
    assert_eq!(
        decode_err(&auth, &claims_token_without("jti")),
        ErrorKind::MissingClaim("jti")
    );
    for jti in [
        json!(""),
        json!(1),
        json!(null),
        json!(["j"]),
        json!("j".repeat(300)),
    ] {
        let t = claims_token("jti", jti.clone());
        assert_eq!(
            decode_err(&auth, &t),
            ErrorKind::InvalidClaim("jti"),
            "{jti}"
        );
    }
    // 256 characters is the longest accepted.
    assert!(
        auth.decode_token(&claims_token("jti", json!("j".repeat(256))))
            .is_ok()
    );
    let t = claims_token("jti", json!("j".repeat(257)));
    assert_eq!(decode_err(&auth, &t), ErrorKind::InvalidClaim("jti"));
}

#[test]
fn issued_jti_carries_128_random_bits() {
    let auth = auth();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let jti = auth
            .decode_token(&auth.create_access_token("u").unwrap())
            .unwrap()
            .jti;
        assert_eq!(jti.len(), 22, "{jti}");
        assert_eq!(URL_SAFE_NO_PAD.decode(&jti).unwrap().len(), 16, "{jti}");
        assert!(seen.insert(jti));
    }
}

// ---------------------------------------------------------------------------
// C11: type
// ---------------------------------------------------------------------------

#[test]
fn refresh_token_is_not_an_access_token() {
    let auth = auth();
    let refresh = auth.create_refresh_token("user1").unwrap();
    let err = auth
        .verify_token(
            &request(refresh, TokenType::Access),
            VerifyOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::AccessTokenRequired);
}

#[test]
fn access_token_is_not_a_refresh_token() {
    let auth = auth();
    let access = auth.create_access_token("user1").unwrap();
    let err = auth
        .verify_token(
            &request(access, TokenType::Refresh),
            VerifyOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::RefreshTokenRequired);
}

#[test]
fn token_without_type_is_rejected() {
    let auth = auth();
    let t = claims_token_without("type");
    for kind in [TokenType::Access, TokenType::Refresh] {
        let err = auth
            .verify_token(&request(t.clone(), kind), VerifyOptions::default())
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::MissingClaim("type"));
    }
}

#[test]
fn type_is_matched_exactly() {
    let auth = auth();
    for ty in [
        "Access",
        "ACCESS",
        "access ",
        "",
        "refresh_token",
        "accesss",
    ] {
        let t = claims_token("type", json!(ty));
        let err = auth
            .verify_token(&request(t, TokenType::Access), VerifyOptions::default())
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidClaim("type"), "{ty:?}");
    }
}

// ---------------------------------------------------------------------------
// C13: signature before claims
// ---------------------------------------------------------------------------

#[test]
fn tampered_and_expired_token_reports_the_signature() {
    let (auth, clock) = auth_with(AuthXConfig {
        access_token_expires: Duration::from_secs(60),
        ..config()
    });
    let t = auth.create_access_token("user1").unwrap();
    clock.set_millis((NOW + 3600) * 1000);
    assert_claims_rejected(&auth, &t, &ErrorKind::ExpiredToken, "expired");
    let p: Vec<&str> = t.split('.').collect();
    let mut c: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p[1]).unwrap()).unwrap();
    c["sub"] = "admin".into();
    let tampered = format!("{}.{}.{}", p[0], b64(c.to_string().as_bytes()), p[2]);
    assert_rejected(
        &auth,
        &tampered,
        &ErrorKind::InvalidSignature,
        "tampered claims",
    );
    let other = seal_with(OTHER_SECRET.as_bytes(), &format!("{}.{}", p[0], p[1]));
    assert_rejected(&auth, &other, &ErrorKind::InvalidSignature, "foreign key");
}

#[test]
fn tampered_token_with_bad_claims_reports_the_signature() {
    let auth = auth();
    let t = token(&hs256(), &claims());
    let p: Vec<&str> = t.split('.').collect();
    for c in [
        json!({"exp": "soon"}),
        json!({}),
        json!({"sub": "admin", "aud": "x"}),
    ] {
        let tampered = format!("{}.{}.{}", p[0], b64(c.to_string().as_bytes()), p[2]);
        assert_rejected(
            &auth,
            &tampered,
            &ErrorKind::InvalidSignature,
            &c.to_string(),
        );
    }
}

// ---------------------------------------------------------------------------
// Key rotation
// ---------------------------------------------------------------------------

fn rotated(kid: Option<&str>, previous_kid: Option<&str>) -> (AuthX, ManualClock) {
    auth_with(AuthXConfig {
        secret_key: Some(OTHER_SECRET.into()),
        previous_secret_key: Some(SECRET.into()),
        kid: kid.map(Into::into),
        previous_kid: previous_kid.map(Into::into),
        ..Default::default()
    })
}

#[test]
fn token_signed_by_the_previous_secret_verifies() {
    let old = auth();
    let (new, _) = rotated(None, None);
    let t = old.create_access_token("user1").unwrap();
    assert_eq!(new.decode_token(&t).unwrap().sub, "user1");
    let t = new.create_access_token("user2").unwrap();
    assert_eq!(new.decode_token(&t).unwrap().sub, "user2");
    assert_eq!(decode_err(&old, &t), ErrorKind::InvalidSignature);
}

#[test]
fn expired_token_signed_with_the_current_key_reports_expiry() {
    // AuthX bug #7: the fallback to the previous key turned an expired token
    // into a signature error.
    let (new, clock) = rotated(None, None);
    let t = new.create_access_token("user1").unwrap();
    clock.set_millis((NOW + 3600) * 1000);
    assert_claims_rejected(&new, &t, &ErrorKind::ExpiredToken, "current key");
    let old = auth();
    let t = old.create_access_token("user1").unwrap();
    assert_claims_rejected(&new, &t, &ErrorKind::ExpiredToken, "previous key");
}

#[test]
fn token_signed_by_neither_key_is_an_invalid_signature() {
    let (new, _) = rotated(None, None);
    let t = seal_with(
        b"a-third-secret-that-was-never-configured!",
        &format!(
            "{}.{}",
            b64(hs256().to_string().as_bytes()),
            b64(claims().to_string().as_bytes())
        ),
    );
    assert_rejected(&new, &t, &ErrorKind::InvalidSignature, "third key");
}

#[test]
fn kid_selects_exactly_the_current_or_previous_key() {
    let (old, _) = auth_with(AuthXConfig {
        kid: Some("k1".into()),
        ..config()
    });
    let (new, _) = rotated(Some("k2"), Some("k1"));
    let from_old = old.create_access_token("user1").unwrap();
    assert_eq!(new.decode_token(&from_old).unwrap().sub, "user1");
    let from_new = new.create_access_token("user2").unwrap();
    assert_eq!(new.decode_token(&from_new).unwrap().sub, "user2");
    // The kid names one key: no fall-through to the other.
    let k2_with_old_key = kid_token("k2");
    assert_rejected(
        &new,
        &k2_with_old_key,
        &ErrorKind::InvalidSignature,
        "k2, old key",
    );
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","kid":"k1"}"#),
        b64(claims().to_string().as_bytes())
    );
    let k1_with_new_key = seal_with(OTHER_SECRET.as_bytes(), &input);
    assert_rejected(
        &new,
        &k1_with_new_key,
        &ErrorKind::InvalidSignature,
        "k1, new key",
    );
    assert_rejected(&new, &kid_token("k3"), &ErrorKind::UnknownKeyId, "k3");
}

#[test]
fn token_signed_by_the_previous_public_key_verifies() {
    let (old, old_public) = es256_pair();
    let new = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(generate_pem(Algorithm::ES256).unwrap().into()),
        previous_public_key: Some(old_public),
        ..Default::default()
    })
    .unwrap();
    let t = old.create_access_token("user1").unwrap();
    assert_eq!(new.decode_token(&t).unwrap().sub, "user1");
    let t = es256_auth().create_access_token("user1").unwrap();
    assert_eq!(decode_err(&new, &t), ErrorKind::InvalidSignature);
}

// ---------------------------------------------------------------------------
// H7: errors never echo the token or the key
// ---------------------------------------------------------------------------

fn assert_no_secrets(err: &authx::Error, secrets: &[&str]) {
    let shown = [
        err.to_string(),
        err.message().into_owned(),
        format!("{err:?}"),
        err.to_json("message").to_string(),
    ];
    for s in &shown {
        for secret in secrets {
            assert!(!s.contains(secret), "{s:?} contains {secret:?}");
        }
    }
}

#[test]
fn errors_never_contain_the_token_or_the_key() {
    let (auth, clock) = auth_with(config());
    let good = auth.create_access_token("user1").unwrap();
    let p: Vec<&str> = good.split('.').collect();
    let forged = format!("{}.{}.{}", p[0], p[1], b64(&[0u8; 32]));
    let expected_sig = p[2];
    let err = auth.decode_token(&forged).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidSignature);
    assert_no_secrets(&err, &[&forged, p[1], expected_sig, SECRET]);
    for bad in [
        format!("{good}.x"),
        format!("{good} "),
        good.replace('.', ".."),
    ] {
        let err = auth.decode_token(&bad).unwrap_err();
        assert_no_secrets(&err, &[&bad, p[1], p[2], SECRET]);
    }
    let none = token(&json!({"alg": "none"}), &claims());
    let err = auth.decode_token(&none).unwrap_err();
    assert_no_secrets(&err, &[&none, none.split('.').nth(1).unwrap()]);
    clock.set_millis((NOW + 3600) * 1000);
    let err = auth.decode_token(&good).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ExpiredToken);
    assert_no_secrets(&err, &[&good, p[1], p[2], SECRET]);
}

#[test]
fn configuration_errors_and_debug_output_never_contain_the_secret() {
    let weak = "Zq9-weak-secret";
    let err = AuthX::new(AuthXConfig {
        secret_key: Some(weak.into()),
        ..Default::default()
    })
    .unwrap_err();
    assert_no_secrets(&err, &[weak]);
    let err = AuthX::new(AuthXConfig {
        previous_secret_key: Some(weak.into()),
        ..config()
    })
    .unwrap_err();
    assert_no_secrets(&err, &[weak, SECRET]);
    let shown = format!("{:?}", auth());
    assert!(!shown.contains(SECRET), "{shown}");
    let private = generate_pem(Algorithm::ES256).unwrap();
    let es = AuthX::new(AuthXConfig {
        algorithm: Algorithm::ES256,
        private_key: Some(private.clone().into()),
        ..Default::default()
    })
    .unwrap();
    let shown = format!("{es:?}");
    let body = private.lines().nth(1).unwrap();
    assert!(!shown.contains(body), "{shown}");
}
