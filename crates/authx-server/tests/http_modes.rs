//! Startup modes of the real binary: production refusals, the development
//! secret, restarts, the user CLI, keygen with an asymmetric key, token
//! decode, demo users.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;
use support::{
    BAD_LOGIN, SECRET, Spawn, Tokens, assert_mentions, claims, clean_command, cli, jwt_header, run,
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `user add` with the password on stdin; panics on failure.
fn add_user(db: &Path, name: &str, email: &str, password: &str) {
    let out = cli(
        db,
        &["user", "add", name, "--email", email],
        Some(&format!("{password}\n")),
        &[],
    );
    assert!(out.status.success(), "user add: {}", out.stderr);
    assert!(
        out.stdout.contains(&format!("added {name}")),
        "{}",
        out.stdout
    );
}

/// A production server that should start: strong secret, no demo users,
/// the default argon2 cost.
fn production(dir: &Path) -> Spawn {
    Spawn::new(dir)
        .configured_argon()
        .arg("--production")
        .env("AUTHX_DEMO_USERS", "false")
}

#[test]
fn production_without_a_secret_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = production(dir.path())
        .without_env("JWT_SECRET_KEY")
        .expect_refusal();
    assert_mentions(&e.stderr, "JWT_SECRET_KEY");
    assert_mentions(&e.stderr, "production");
    // No development secret is generated in production.
    assert!(!dir.path().join("authx.db.secret").exists());
}

#[test]
fn production_with_a_short_secret_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for secret in ["short-secret", "0123456789012345678901234567890"] {
        let e = production(dir.path())
            .env("JWT_SECRET_KEY", secret)
            .expect_refusal();
        assert_mentions(&e.stderr, "secret");
        assert_mentions(&e.stderr, "32 bytes");
        assert!(!e.stderr.contains(secret), "the secret is never printed");
    }
    // 32 bytes is enough for HS256.
    let s = production(dir.path())
        .env("JWT_SECRET_KEY", "01234567890123456789012345678901")
        .start();
    drop(s);
    // And the weak-secret escape hatch is refused in production.
    let e = production(dir.path())
        .env("JWT_SECRET_KEY", "short-secret")
        .env("AUTHX_DANGEROUS_ALLOW_WEAK_SECRET", "true")
        .expect_refusal();
    assert_mentions(&e.stderr, "AUTHX_DANGEROUS_ALLOW_WEAK_SECRET");
}

#[test]
fn production_with_insecure_cookies_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = production(dir.path())
        .args(&["--cookie-secure", "false"])
        .expect_refusal();
    assert_mentions(&e.stderr, "JWT_COOKIE_SECURE");
    let e = production(dir.path())
        .env("JWT_COOKIE_SECURE", "false")
        .expect_refusal();
    assert_mentions(&e.stderr, "JWT_COOKIE_SECURE");
}

#[test]
fn production_with_demo_users_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Demo users are on by default.
    let e = Spawn::new(dir.path()).arg("--production").expect_refusal();
    assert_mentions(&e.stderr, "demo users");
    assert_mentions(&e.stderr, "AUTHX_DEMO_USERS=false");
    let e = Spawn::new(dir.path())
        .arg("--production")
        .env("AUTHX_DEMO_USERS", "true")
        .expect_refusal();
    assert_mentions(&e.stderr, "demo users");
    // The environment variable turns production on as well.
    let e = Spawn::new(dir.path())
        .env("AUTHX_PRODUCTION", "true")
        .expect_refusal();
    assert_mentions(&e.stderr, "demo users");
    // Refused before anything was created.
    let out = cli(&dir.path().join("authx.db"), &["user", "list"], None, &[]);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(out.stdout, "", "no demo users were created");
}

#[test]
fn production_with_a_weak_argon2_cost_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        ["--argon2-memory-kib", "1024", "--argon2-iterations", "1"],
        ["--argon2-memory-kib", "19456", "--argon2-iterations", "1"],
    ] {
        let e = production(dir.path()).args(&args).expect_refusal();
        assert_mentions(&e.stderr, "argon2");
        assert_mentions(&e.stderr, "production");
    }
    let e = production(dir.path())
        .env("AUTHX_ARGON2_ITERATIONS", "1")
        .expect_refusal();
    assert_mentions(&e.stderr, "AUTHX_ARGON2_ITERATIONS");
    // OWASP's other equivalent settings start.
    drop(
        production(dir.path())
            .args(&["--argon2-memory-kib", "47104", "--argon2-iterations", "1"])
            .start(),
    );
}

#[tokio::test]
async fn production_starts_with_a_strong_secret_and_secure_cookies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    add_user(&db, "alice", "alice@example.com", "alice-password");
    let s = production(dir.path()).start();
    assert!(!dir.path().join("authx.db.secret").exists());
    s.login_raw("user1", "password1").await.detail(401);
    let res = s.login_raw("alice", "alice-password").await;
    let t = Tokens::from_resp(&res);
    for name in ["refresh_token_cookie", "csrf_refresh_token"] {
        let c = res.cookie(name);
        assert!(c.has("Secure"), "{}", c.raw);
        assert_eq!(c.attr("samesite"), Some("Lax"), "{}", c.raw);
    }
    assert!(res.cookie("refresh_token_cookie").has("HttpOnly"));
    let res = s.protected(&t.access).await;
    res.expect(200);
    assert_eq!(res.json()["email"], "alice@example.com");
    // alice was added with the tests' fast argon2 cost: her hash was
    // upgraded to the production one at this login.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !s.stderr().contains("password_rehashed") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(s.stderr().contains("password_rehashed"), "{}", s.stderr());
    let t1 = s.refresh(&t).await;
    let res = s.logout(&t1, true).await;
    res.expect(200);
    let cleared = res.cookie("refresh_token_cookie");
    assert!(cleared.clears() && cleared.has("Secure"), "{}", cleared.raw);
    assert_eq!(s.stop().code(), Some(0), "SIGTERM stops it cleanly");
}

#[tokio::test]
async fn production_reads_the_secret_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let secret = dir.path().join("hs256.key");
    let mut cmd = clean_command();
    cmd.args(["keygen", "--algorithm", "HS256", "--out"])
        .arg(&secret);
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(mode(&secret), 0o600);
    let value = std::fs::read_to_string(&secret).expect("secret");
    assert!(value.trim().len() >= 32, "{value:?}");
    assert!(!out.stdout.contains(value.trim()), "not printed with --out");
    add_user(&db, "alice", "a@x", "pw");
    let s = production(dir.path())
        .without_env("JWT_SECRET_KEY")
        .arg("--secret-file")
        .arg(secret.to_str().expect("utf-8"))
        .start();
    let t = s.login("alice", "pw").await;
    s.protected(&t.access).await.expect(200);
    // The file's secret signs: decode verifies with it.
    let out = cli(
        &db,
        &["token", "decode", &t.access],
        None,
        &[("JWT_SECRET_KEY", value.trim())],
    );
    assert!(out.stdout.contains("verified:"), "{}", out.stdout);
}

#[tokio::test]
async fn development_without_a_secret_keeps_one_beside_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spawn = Spawn::new(dir.path()).without_env("JWT_SECRET_KEY");
    let secret_path = dir.path().join("authx.db.secret");
    let s = spawn.start();
    assert!(secret_path.exists(), "development secret file");
    assert_eq!(mode(&secret_path), 0o600, "secret file mode");
    let secret = std::fs::read_to_string(&secret_path).expect("secret");
    assert!(secret.trim().len() >= 32, "strong generated secret");
    assert!(!s.stderr().contains(secret.trim()), "never logged");
    let t = s.login("user1", "password1").await;
    s.protected(&t.access).await.expect(200);
    assert_eq!(s.stop().code(), Some(0));

    let s = spawn.start();
    assert_eq!(
        std::fs::read_to_string(&secret_path).expect("secret"),
        secret,
        "reused, not regenerated"
    );
    assert_eq!(mode(&secret_path), 0o600);
    let res = s.protected(&t.access).await;
    res.expect(200);
    assert_eq!(res.json()["username"], "user1");
    // The refresh token from before the restart rotates too.
    s.refresh(&t).await;
}

#[tokio::test]
async fn restart_keeps_users_sessions_and_revocations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spawn = Spawn::new(dir.path()).args(&["--refresh-grace-ms", "0"]);
    let s = spawn.start();
    assert_mentions(&s.stderr(), "created the demo users");
    for password in ["password1", "password2"] {
        assert!(!s.stderr().contains(password), "no password in a log line");
    }
    let out_t = s.login("user1", "password1").await;
    let logged_out = s.refresh(&out_t).await;
    s.logout(&logged_out, false).await.expect(200);
    let kept = s.login("user2", "password2").await;
    let rotated_from = s.login("user1", "password1").await;
    let rotated_to = s.refresh(&rotated_from).await;
    assert_eq!(s.stop().code(), Some(0));

    let s = spawn.start();
    assert!(
        !s.stderr().contains("created the demo users"),
        "demo users are created once: {}",
        s.stderr()
    );
    // Users are kept.
    s.login("user1", "password1").await;
    // The revocation is kept.
    s.refresh_with(&logged_out).await.detail(401);
    s.refresh_with(&out_t).await.detail(401);
    // A live session is kept.
    let kept2 = s.refresh(&kept).await;
    s.protected(&kept2.access).await.expect(200);
    // The rotation state is kept: the retired token is a replay.
    let res = s.refresh_with(&rotated_from).await;
    assert_eq!(
        res.detail(401),
        "Refresh token reuse detected; session revoked"
    );
    s.refresh_with(&rotated_to).await.detail(401);
}

#[tokio::test]
async fn user_cli_add_passwd_remove_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let s = Spawn::new(dir.path()).start();

    // Added while the server runs: it logs in at once.
    add_user(&db, "alice", "a@x", "first-password");
    let t = s.login("alice", "first-password").await;
    let res = s.protected(&t.access).await;
    res.expect(200);
    assert_eq!(res.json()["username"], "alice");
    assert_eq!(res.json()["email"], "a@x");
    s.login_raw("alice", "wrong").await.detail(401);

    // Only the first line of stdin is the password.
    let out = cli(
        &db,
        &["user", "add", "bob"],
        Some("bob password with spaces\nignored\n"),
        &[],
    );
    assert!(out.status.success(), "{}", out.stderr);
    s.login("bob", "bob password with spaces").await;

    // Adding twice fails.
    let out = cli(&db, &["user", "add", "alice"], Some("x\n"), &[]);
    assert!(!out.status.success());
    assert_mentions(&out.stderr, "already exists");
    // An empty password is refused.
    let out = cli(&db, &["user", "add", "carol"], Some(""), &[]);
    assert!(!out.status.success());
    assert_mentions(&out.stderr, "password");
    s.login_raw("carol", "").await.detail(401);

    let out = cli(&db, &["user", "list"], None, &[]);
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "alice\ta@x\nbob\t\nuser1\tuser1@example.com\nuser2\tuser2@example.com\n"
    );

    let out = cli(
        &db,
        &["user", "passwd", "alice"],
        Some("second-password\n"),
        &[],
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert_eq!(
        s.login_raw("alice", "first-password").await.detail(401),
        BAD_LOGIN
    );
    s.login("alice", "second-password").await;
    let out = cli(&db, &["user", "passwd", "nobody"], Some("x\n"), &[]);
    assert!(!out.status.success());
    assert_mentions(&out.stderr, "nobody");

    let out = cli(&db, &["user", "remove", "alice"], None, &[]);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.trim().starts_with("removed alice"),
        "{}",
        out.stdout
    );
    assert_eq!(
        s.login_raw("alice", "second-password").await.detail(401),
        BAD_LOGIN
    );
    let out = cli(&db, &["user", "remove", "alice"], None, &[]);
    assert!(!out.status.success());
    assert_mentions(&out.stderr, "no user");
    let out = cli(&db, &["user", "list"], None, &[]);
    assert!(!out.stdout.contains("alice"), "{}", out.stdout);

    // The passwords appear in no output.
    for out in [
        cli(&db, &["user", "add", "dave"], Some("dave-secret-pw\n"), &[]),
        cli(&db, &["user", "passwd", "dave"], Some("dave-new-pw\n"), &[]),
    ] {
        assert!(out.status.success(), "{}", out.stderr);
        for pw in ["dave-secret-pw", "dave-new-pw"] {
            assert!(!out.stdout.contains(pw) && !out.stderr.contains(pw));
        }
    }
    assert!(!s.stderr().contains("second-password"));
}

/// A removed user must not keep getting tokens: `user remove` has to end
/// their sessions (or refresh has to check that the user still exists).
#[tokio::test]
async fn a_removed_user_can_no_longer_refresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let s = Spawn::new(dir.path()).start();
    add_user(&db, "mallory", "m@x", "mallory-password");
    let t = s.login("mallory", "mallory-password").await;
    let out = cli(&db, &["user", "remove", "mallory"], None, &[]);
    assert!(out.status.success(), "{}", out.stderr);
    s.login_raw("mallory", "mallory-password").await.detail(401);
    let res = s.refresh_with(&t).await;
    assert_eq!(
        res.status.as_u16(),
        401,
        "a removed user's refresh token still yields new tokens: {}",
        res.text()
    );
}

#[tokio::test]
async fn a_password_change_ends_the_users_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let s = Spawn::new(dir.path()).start();
    add_user(&db, "carol", "c@x", "carol-old-password");
    let t = s.login("carol", "carol-old-password").await;
    let out = cli(
        &db,
        &["user", "passwd", "carol"],
        Some("carol-new-password\n"),
        &[],
    );
    assert!(out.status.success(), "{}", out.stderr);
    let res = s.refresh_with(&t).await;
    assert_eq!(
        res.status.as_u16(),
        401,
        "a session from before the password change still refreshes: {}",
        res.text()
    );
    s.login("carol", "carol-new-password").await;
}

#[test]
fn passwords_are_never_taken_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    for sub in ["add", "passwd"] {
        let out = cli(&db, &["user", sub, "--help"], None, &[]);
        assert!(out.status.success(), "{}", out.stderr);
        assert!(
            !out.stdout.contains("--password"),
            "user {sub} has no password flag: {}",
            out.stdout
        );
    }
    // A password given as an argument is an error, and adds no one.
    let out = cli(
        &db,
        &["user", "add", "eve", "hunter2-pass"],
        Some("x\n"),
        &[],
    );
    assert!(!out.status.success(), "{}", out.stdout);
    let out = cli(
        &db,
        &["user", "add", "eve", "--password", "hunter2-pass"],
        Some("x\n"),
        &[],
    );
    assert!(!out.status.success(), "{}", out.stdout);
    let out = cli(&db, &["user", "list"], None, &[]);
    assert!(!out.stdout.contains("eve"), "{}", out.stdout);
}

#[tokio::test]
async fn keygen_es256_and_a_server_that_signs_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("es256.pem");
    let mut cmd = clean_command();
    cmd.args(["keygen", "--algorithm", "ES256", "--out"])
        .arg(&key);
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", out.stderr);
    let pub_path = dir.path().join("es256.pem.pub");
    assert_eq!(mode(&key), 0o600, "private key mode");
    let private = std::fs::read_to_string(&key).expect("private key");
    let public = std::fs::read_to_string(&pub_path).expect("public key");
    assert!(private.contains("PRIVATE KEY-----"), "{private}");
    assert!(public.contains("-----BEGIN PUBLIC KEY-----"), "{public}");
    assert!(!public.contains("PRIVATE"));
    assert!(!out.stdout.contains("PRIVATE"), "not printed with --out");
    // Never overwrites an existing key.
    let mut cmd = clean_command();
    cmd.args(["keygen", "--algorithm", "ES256", "--out"])
        .arg(&key);
    let again = run(cmd, None);
    assert!(!again.status.success(), "keygen must not overwrite a key");
    assert_eq!(std::fs::read_to_string(&key).expect("key"), private);

    let key_arg = key.to_str().expect("utf-8");
    let s = Spawn::new(dir.path())
        .without_env("JWT_SECRET_KEY")
        .env("JWT_ALGORITHM", "ES256")
        .env("JWT_KID", "test-key-1")
        .args(&["--private-key-file", key_arg])
        .start();
    let res = s.get("/.well-known/jwks.json").await;
    res.expect(200);
    let jwks = res.json();
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{jwks}");
    let k = &keys[0];
    assert_eq!(k["kty"], "EC", "{k}");
    assert_eq!(k["crv"], "P-256", "{k}");
    assert_eq!(k["alg"], "ES256", "{k}");
    assert_eq!(k["kid"], "test-key-1", "{k}");
    assert_eq!(k["use"], "sig", "{k}");
    assert!(k.get("d").is_none(), "no private part: {k}");
    for coord in ["x", "y"] {
        let len = k[coord].as_str().expect(coord).len();
        assert_eq!(len, 43, "32-byte coordinate in base64url: {k}");
    }

    let t = s.login("user1", "password1").await;
    let h = jwt_header(&t.access);
    assert_eq!(h["alg"], "ES256", "{h}");
    assert_eq!(h["kid"], k["kid"], "{h}");
    assert_eq!(jwt_header(&t.refresh)["alg"], "ES256");
    let res = s.protected(&t.access).await;
    res.expect(200);
    assert_eq!(res.json()["username"], "user1");
    let t1 = s.refresh(&t).await;
    s.protected(&t1.access).await.expect(200);

    // An HS256 token signed with some secret is refused by this server.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let hs = Spawn::new(dir2.path()).start();
    let foreign = hs.login("user1", "password1").await;
    s.protected(&foreign.access).await.detail(401);

    // `token decode` verifies with the public key file (and the kid).
    let pub_arg = pub_path.to_str().expect("utf-8");
    let mut cmd = clean_command();
    cmd.env("JWT_KID", "test-key-1").args([
        "token",
        "decode",
        &t.access,
        "--public-key-file",
        pub_arg,
    ]);
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stdout.contains("verified:"), "{}", out.stdout);
    let mut cmd = clean_command();
    cmd.env("JWT_KID", "test-key-1").args([
        "token",
        "decode",
        &foreign.access,
        "--public-key-file",
        pub_arg,
    ]);
    let out = run(cmd, None);
    assert!(!out.stdout.contains("verified:"), "{}", out.stdout);
}

/// `token decode --public-key-file` with the very key that signed the
/// token must say "verified", whether or not the token names a `kid`: the
/// command takes the algorithm from the token's header, and should take
/// its `kid` the same way (the key is given explicitly).
#[tokio::test]
async fn token_decode_verifies_a_kid_token_with_its_public_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("es256.pem");
    let mut cmd = clean_command();
    cmd.args(["keygen", "--algorithm", "ES256", "--out"])
        .arg(&key);
    assert!(run(cmd, None).status.success());
    let s = Spawn::new(dir.path())
        .without_env("JWT_SECRET_KEY")
        .env("JWT_ALGORITHM", "ES256")
        .env("JWT_KID", "test-key-1")
        .args(&["--private-key-file", key.to_str().expect("utf-8")])
        .start();
    let t = s.login("user1", "password1").await;
    let pub_path = dir.path().join("es256.pem.pub");
    let mut cmd = clean_command();
    cmd.args(["token", "decode", &t.access, "--public-key-file"])
        .arg(&pub_path);
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", out.stderr);
    let (_, verdict) = decode_output(&out.stdout);
    assert!(
        verdict.starts_with("verified"),
        "the signing key's public half must verify its token: {verdict}"
    );
}

#[test]
fn an_asymmetric_algorithm_without_a_key_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Spawn::new(dir.path())
        .without_env("JWT_SECRET_KEY")
        .env("JWT_ALGORITHM", "ES256")
        .expect_refusal();
    assert_mentions(&e.stderr, "--private-key-file");
}

#[test]
fn keygen_without_out_prints_the_key_pair() {
    let mut cmd = clean_command();
    cmd.args(["keygen", "--algorithm", "EdDSA"]);
    let out = run(cmd, None);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stdout.contains("PRIVATE KEY-----"), "{}", out.stdout);
    assert!(
        out.stdout.contains("-----BEGIN PUBLIC KEY-----"),
        "{}",
        out.stdout
    );
    let mut cmd = clean_command();
    cmd.args(["keygen", "--algorithm", "nonsense"]);
    let out = run(cmd, None);
    assert!(!out.status.success());
}

/// Splits `token decode` output into its JSON document and its verdict.
fn decode_output(stdout: &str) -> (Value, String) {
    let (json, verdict) = stdout.trim_end().rsplit_once('\n').expect("two parts");
    (
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}")),
        verdict.to_owned(),
    )
}

#[tokio::test]
async fn token_decode_prints_claims_and_verifies_with_the_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let s = Spawn::new(dir.path()).start();
    let t = s.login("user1", "password1").await;

    // Without a key: claims, not verified.
    let out = cli(&db, &["token", "decode", &t.access], None, &[]);
    assert!(out.status.success(), "{}", out.stderr);
    let (doc, verdict) = decode_output(&out.stdout);
    assert_eq!(doc["header"]["alg"], "HS256", "{doc}");
    assert_eq!(doc["claims"], claims(&t.access));
    assert_eq!(doc["claims"]["sub"], "user1");
    assert_eq!(doc["claims"]["type"], "access");
    assert_eq!(verdict, "not verified (no key given)");

    // With the server's secret: verified.
    let out = cli(
        &db,
        &["token", "decode", &t.refresh],
        None,
        &[("JWT_SECRET_KEY", SECRET)],
    );
    assert!(out.status.success(), "{}", out.stderr);
    let (doc, verdict) = decode_output(&out.stdout);
    assert_eq!(doc["claims"]["type"], "refresh");
    assert!(verdict.starts_with("verified"), "{verdict}");

    // With another secret: not valid.
    let out = cli(
        &db,
        &["token", "decode", &t.access],
        None,
        &[(
            "JWT_SECRET_KEY",
            "another-secret-that-is-long-enough-0123456789",
        )],
    );
    let (_, verdict) = decode_output(&out.stdout);
    assert!(verdict.starts_with("NOT valid"), "{verdict}");
    assert!(!out.stdout.contains(SECRET));

    // Not a JWT at all.
    let out = cli(&db, &["token", "decode", "garbage"], None, &[]);
    assert!(!out.status.success());
    assert_mentions(&out.stderr, "three segments");
    let out = cli(&db, &["token", "decode", "a.b.c"], None, &[]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn demo_users_are_created_once_and_can_be_turned_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let s = Spawn::new(dir.path()).start();
    assert_mentions(&s.stderr(), "created the demo users");
    s.login("user1", "password1").await;
    s.login("user2", "password2").await;
    drop(s);
    // Removed demo users stay removed across restarts.
    for u in ["user1", "user2"] {
        let out = cli(&db, &["user", "remove", u], None, &[]);
        assert!(out.status.success(), "{}", out.stderr);
    }
    let s = Spawn::new(dir.path()).start();
    assert!(!s.stderr().contains("created the demo users"));
    s.login_raw("user1", "password1").await.detail(401);
    drop(s);

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("authx.db");
    let s = Spawn::new(dir.path())
        .env("AUTHX_DEMO_USERS", "false")
        .start();
    assert!(
        !s.stderr().contains("demo users"),
        "no demo users: {}",
        s.stderr()
    );
    assert_eq!(
        s.login_raw("user1", "password1").await.detail(401),
        BAD_LOGIN
    );
    s.login_raw("user2", "password2").await.detail(401);
    let out = cli(&db, &["user", "list"], None, &[]);
    assert_eq!(out.stdout, "");
    drop(s);
    // The flag works like the variable.
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Spawn::new(dir.path())
        .args(&["--demo-users", "false"])
        .start();
    s.login_raw("user1", "password1").await.detail(401);
}
