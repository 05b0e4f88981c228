//! Interoperability with Python AuthX 1.7.1 (fixtures in
//! `tests/fixtures/authx_py/`, see its README):
//!
//! - Python → Rust: every token AuthX minted into `tokens.json` verifies
//!   here, with the same claims (float `exp` included).
//! - Rust → Python: tokens minted here verify under AuthX (`verify.py`).
//!   Needs `AUTHX_PYTHON` (a Python with `authx` installed, e.g.
//!   `target/authx-py-venv/bin/python`); without it these tests skip, unless
//!   `AUTHX_REQUIRE_PYTHON=1`, which makes them fail instead.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

use authx::{
    AuthX, AuthXConfig, ErrorKind, RequestToken, TokenLocation, TokenOptions, TokenPayload,
    TokenType, VerifyOptions,
};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/authx_py")
}

fn tokens_json() -> Value {
    let text = std::fs::read_to_string(fixtures().join("tokens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn secret() -> String {
    tokens_json()["secret"].as_str().unwrap().to_owned()
}

/// The verifier the brief asks for: AuthX's fixture config, in Rust.
fn auth() -> AuthX {
    AuthX::new(AuthXConfig {
        secret_key: Some(secret().into()),
        token_location: vec![TokenLocation::Headers, TokenLocation::Cookies],
        ..AuthXConfig::default()
    })
    .unwrap()
}

/// (token, claims as AuthX wrote them) for one fixture entry.
fn fixture(name: &str) -> (String, Value) {
    let all = tokens_json();
    let entry = &all["tokens"][name];
    (
        entry["token"].as_str().unwrap().to_owned(),
        entry["claims"].clone(),
    )
}

fn decode_fixture(name: &str) -> (TokenPayload, Value) {
    let (token, claims) = fixture(name);
    let payload = auth()
        .decode_token(&token)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    (payload, claims)
}

// ---------------------------------------------------------------------------
// Python -> Rust
// ---------------------------------------------------------------------------

#[test]
fn fixtures_were_minted_by_authx_1_7_1() {
    let all = tokens_json();
    assert_eq!(all["authx_version"], "1.7.1");
    assert_eq!(all["algorithm"], "HS256");
    assert_eq!(all["tokens"].as_object().unwrap().len(), 3);
}

#[test]
fn every_python_token_decodes() {
    let all = tokens_json();
    let auth = auth();
    for (name, entry) in all["tokens"].as_object().unwrap() {
        let token = entry["token"].as_str().unwrap();
        assert!(auth.decode_token(token).is_ok(), "{name}");
    }
}

#[test]
fn python_access_fresh_token_has_the_fixture_claims() {
    let (p, c) = decode_fixture("access_fresh");
    assert_eq!(p.sub, c["sub"].as_str().unwrap());
    assert_eq!(p.jti, c["jti"].as_str().unwrap());
    assert_eq!(p.csrf.as_deref(), c["csrf"].as_str());
    assert_eq!(p.token_type, TokenType::Access);
    assert_eq!(c["type"], "access");
    assert!(p.fresh);
    assert_eq!(c["fresh"], true);
    assert_eq!(p.scopes, None);
    assert!(p.extra.is_empty(), "{:?}", p.extra);
}

#[test]
fn python_refresh_token_has_the_fixture_claims() {
    let (p, c) = decode_fixture("refresh");
    assert_eq!(p.sub, c["sub"].as_str().unwrap());
    assert_eq!(p.jti, c["jti"].as_str().unwrap());
    assert_eq!(p.csrf.as_deref(), c["csrf"].as_str());
    assert_eq!(p.token_type, TokenType::Refresh);
    assert_eq!(c["type"], "refresh");
    assert!(c.get("fresh").is_none());
    assert!(!p.fresh);
}

#[test]
fn python_scoped_token_has_the_scopes_and_the_role_claim() {
    let (p, c) = decode_fixture("access_scoped");
    assert_eq!(p.sub, c["sub"].as_str().unwrap());
    assert_eq!(p.jti, c["jti"].as_str().unwrap());
    assert_eq!(p.csrf.as_deref(), c["csrf"].as_str());
    assert!(!p.fresh);
    let scopes: Vec<String> = serde_json::from_value(c["scopes"].clone()).unwrap();
    assert_eq!(p.scopes.as_deref(), Some(&scopes[..]));
    assert_eq!(scopes, ["read", "write"]);
    assert_eq!(p.extra.get("role"), Some(&c["role"]));
    assert_eq!(p.extra["role"], "admin");
    assert!(p.has_scopes(&["read", "write"], true));
}

#[test]
fn python_float_exp_is_accepted_exactly() {
    for name in ["access_fresh", "refresh", "access_scoped"] {
        let (p, c) = decode_fixture(name);
        let exp = c["exp"].as_f64().unwrap();
        assert!(exp.fract() != 0.0, "{name}: fixture exp should be a float");
        assert_eq!(p.exp, exp, "{name}");
        assert_eq!(p.iat, c["iat"].as_f64().unwrap(), "{name}");
        assert_eq!(p.nbf, None, "{name}");
    }
}

#[test]
fn python_tokens_pass_verify_token_with_their_type() {
    let auth = auth();
    for (name, kind) in [
        ("access_fresh", TokenType::Access),
        ("access_scoped", TokenType::Access),
        ("refresh", TokenType::Refresh),
    ] {
        let (token, _) = fixture(name);
        let rt = RequestToken::new(token, TokenLocation::Headers, kind);
        assert!(
            auth.verify_token(&rt, VerifyOptions::default()).is_ok(),
            "{name}"
        );
    }
}

#[test]
fn python_fresh_token_passes_a_fresh_check() {
    let (token, _) = fixture("access_fresh");
    let rt = RequestToken::new(token, TokenLocation::Headers, TokenType::Access);
    let opts = VerifyOptions {
        verify_fresh: true,
        ..VerifyOptions::default()
    };
    assert!(auth().verify_token(&rt, opts).is_ok());
}

#[test]
fn python_refresh_token_is_refused_as_an_access_token() {
    let (token, _) = fixture("refresh");
    let rt = RequestToken::new(token, TokenLocation::Headers, TokenType::Access);
    assert_eq!(
        auth()
            .verify_token(&rt, VerifyOptions::default())
            .unwrap_err()
            .into_kind(),
        ErrorKind::AccessTokenRequired
    );
}

#[test]
fn python_token_fails_under_another_secret() {
    let (token, _) = fixture("access_fresh");
    let other = AuthX::new(AuthXConfig {
        secret_key: Some("a-different-secret-of-32-bytes-!!".into()),
        ..AuthXConfig::default()
    })
    .unwrap();
    assert_eq!(
        other.decode_token(&token).unwrap_err().into_kind(),
        ErrorKind::InvalidSignature
    );
}

// ---------------------------------------------------------------------------
// Rust -> Python
// ---------------------------------------------------------------------------

/// The Python to run `verify.py` with, or `None` to skip.
fn python() -> Option<PathBuf> {
    match std::env::var_os("AUTHX_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var("AUTHX_REQUIRE_PYTHON").as_deref() != Ok("1"),
                "AUTHX_REQUIRE_PYTHON=1 but AUTHX_PYTHON is not set \
                 (e.g. AUTHX_PYTHON=target/authx-py-venv/bin/python)"
            );
            eprintln!(
                "note: AUTHX_PYTHON is not set; skipping the Rust -> Python AuthX check \
                 (set it to a Python with authx 1.7.1, e.g. target/authx-py-venv/bin/python)"
            );
            None
        }
    }
}

fn run_verify(python: &PathBuf, token: &str, kind: &str) -> Output {
    Command::new(python)
        .arg(fixtures().join("verify.py"))
        .arg(token)
        .arg(kind)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()))
}

/// Runs `verify.py`, asserts exit 0 and returns the printed payload.
fn python_accepts(python: &PathBuf, token: &str, kind: &str) -> Value {
    let out = run_verify(python, token, kind);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify.py rejected the token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rust_access_token(auth: &AuthX) -> String {
    let opts = TokenOptions::new()
        .fresh(true)
        .scopes(["read", "write"])
        .claim("role", "admin")
        .unwrap();
    auth.create_access_token_with("user1", &opts).unwrap()
}

#[test]
fn rust_access_token_verifies_under_python_authx() {
    let Some(py) = python() else { return };
    let auth = auth();
    let token = rust_access_token(&auth);
    let ours = auth.decode_token(&token).unwrap();
    let theirs = python_accepts(&py, &token, "access");
    assert_eq!(theirs["sub"], "user1");
    assert_eq!(theirs["jti"], ours.jti.as_str());
    assert_eq!(theirs["type"], "access");
    assert_eq!(theirs["fresh"], true);
    assert_eq!(theirs["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(theirs["role"], "admin");
    assert_eq!(theirs["csrf"].as_str(), ours.csrf.as_deref());
}

#[test]
fn rust_refresh_token_verifies_under_python_authx() {
    let Some(py) = python() else { return };
    let auth = auth();
    let opts = TokenOptions::new()
        .scopes(["refresh:self"])
        .claim("role", "admin")
        .unwrap();
    let token = auth.create_refresh_token_with("user1", &opts).unwrap();
    let ours = auth.decode_token(&token).unwrap();
    let theirs = python_accepts(&py, &token, "refresh");
    assert_eq!(theirs["sub"], "user1");
    assert_eq!(theirs["jti"], ours.jti.as_str());
    assert_eq!(theirs["type"], "refresh");
    assert_eq!(theirs["scopes"], serde_json::json!(["refresh:self"]));
    assert_eq!(theirs["role"], "admin");
}

#[test]
fn rust_access_token_is_refused_by_python_as_a_refresh_token() {
    let Some(py) = python() else { return };
    let token = rust_access_token(&auth());
    let out = run_verify(&py, &token, "refresh");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn tampered_rust_token_is_refused_by_python_authx() {
    let Some(py) = python() else { return };
    let token = rust_access_token(&auth());
    // Flip the first character of the signature.
    let (head, sig) = token.rsplit_once('.').unwrap();
    let first = if sig.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{head}.{first}{}", &sig[1..]);
    let out = run_verify(&py, &tampered, "access");
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Signature"), "{stderr}");
}

#[test]
fn rust_token_with_another_secret_is_refused_by_python_authx() {
    let Some(py) = python() else { return };
    let other = AuthX::new(AuthXConfig {
        secret_key: Some("a-different-secret-of-32-bytes-!!".into()),
        ..AuthXConfig::default()
    })
    .unwrap();
    let token = other.create_access_token("user1").unwrap();
    assert_eq!(run_verify(&py, &token, "access").status.code(), Some(1));
}
