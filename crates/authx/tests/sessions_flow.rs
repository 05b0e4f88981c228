//! `Sessions` end to end over a real store: login, refresh with rotation,
//! grace and reuse detection, logout, "log out everywhere", session lists,
//! `end`, the family's absolute expiry, and failing closed (503) when the
//! store is down, then recovering by itself.
//!
//! Every flow runs over `MemoryStore`, over `SqliteStore` (feature
//! `sqlite`, a fresh file per test) and, when `REDIS_URL` is set, over
//! `RedisStore` (feature `redis`, a fresh key prefix per test; without
//! `REDIS_URL` those print a note and pass, or fail under
//! `AUTHX_REQUIRE_REDIS=1`). Time moves with a `ManualClock`; the Redis
//! runs start it at the real time, since Redis keys get real TTLs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;
#[cfg(any(feature = "sqlite", feature = "redis"))]
use std::time::Instant;

#[cfg(feature = "redis")]
use authx::clock::SystemClock;
use authx::clock::{Clock, ManualClock};
use authx::sessions::{ClientInfo, SessionTokens, Sessions};
use authx::store::{MemoryStore, TokenStore};
use authx::{
    AuthX, AuthXConfig, ErrorKind, RequestToken, TokenLocation, TokenOptions, TokenPayload,
    TokenType, VerifyOptions,
};

const SECRET: &str = "sessions-flow-secret-0123456789abcdefghij";
/// A login time in the middle of a second (memory and SQLite runs).
const T0: i64 = 1_700_000_000_250;
const REFRESH_LIFETIME: Duration = Duration::from_secs(3600);

fn config() -> AuthXConfig {
    AuthXConfig {
        secret_key: Some(SECRET.to_owned().into()),
        access_token_expires: Duration::from_secs(15 * 60),
        refresh_token_expires: REFRESH_LIFETIME,
        ..Default::default()
    }
}

fn install(store: Arc<dyn TokenStore>, clock: &ManualClock) -> Sessions {
    Sessions::install(
        AuthX::builder(config()).clock(Arc::new(clock.clone())),
        store,
    )
    .unwrap()
}

fn kind<T>(r: authx::Result<T>) -> Result<(), ErrorKind> {
    r.map(drop).map_err(|e| e.kind().clone())
}

// ---------------------------------------------------------------------------
// environment
// ---------------------------------------------------------------------------

/// A `Sessions` over one backend, with its clock.
struct Env {
    sessions: Sessions,
    clock: ManualClock,
    #[cfg(feature = "sqlite")]
    _dir: Option<tempfile::TempDir>,
    /// URL and key prefix, to delete the test's keys at the end.
    #[cfg(feature = "redis")]
    redis: Option<(String, String)>,
}

impl Env {
    fn with_store(store: Arc<dyn TokenStore>, at_ms: i64) -> Self {
        let clock = ManualClock::at_millis(at_ms);
        Self {
            sessions: install(store, &clock),
            clock,
            #[cfg(feature = "sqlite")]
            _dir: None,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    fn memory() -> Self {
        Self::with_store(Arc::new(MemoryStore::new()), T0)
    }

    #[cfg(feature = "sqlite")]
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = authx::store::SqliteStore::open(dir.path().join("tokens.db")).unwrap();
        let mut env = Self::with_store(Arc::new(store), T0);
        env._dir = Some(dir);
        env
    }

    #[cfg(feature = "redis")]
    fn redis() -> Option<Self> {
        let url = match std::env::var("REDIS_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("AUTHX_REQUIRE_REDIS").as_deref() != Ok("1"),
                    "AUTHX_REQUIRE_REDIS=1 but REDIS_URL is unset"
                );
                eprintln!("note: REDIS_URL is unset; Redis sessions test skipped");
                return None;
            }
        };
        let prefix = format!("authx-test:{}:", authx::random_id());
        let store = authx::store::RedisStore::connect(&url, &prefix).unwrap();
        let mut env = Self::with_store(Arc::new(store), SystemClock.now_millis());
        env.redis = Some((url, prefix));
        Some(env)
    }

    /// Deletes the test's Redis keys (they would expire within the hour
    /// anyway).
    #[cfg(feature = "redis")]
    async fn cleanup(&self) {
        if let Some((url, prefix)) = &self.redis {
            let client = redis::Client::open(url.as_str()).unwrap();
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query_async(&mut con)
                .await
                .unwrap();
            if !keys.is_empty() {
                redis::cmd("DEL")
                    .arg(keys)
                    .query_async::<i64>(&mut con)
                    .await
                    .unwrap();
            }
        }
    }

    fn auth(&self) -> &AuthX {
        self.sessions.auth()
    }

    fn store(&self) -> &Arc<dyn TokenStore> {
        self.sessions.store()
    }

    fn now(&self) -> i64 {
        self.clock.now_millis()
    }

    fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    fn decode(&self, token: &str) -> TokenPayload {
        self.auth().decode_token(token).unwrap()
    }

    async fn login(&self, sub: &str) -> SessionTokens {
        self.sessions
            .login(sub, ClientInfo::default(), &TokenOptions::new())
            .await
            .unwrap()
    }

    /// What a protected route does with an access token.
    async fn access(&self, token: &str) -> authx::Result<TokenPayload> {
        let rt = RequestToken::new(token.to_owned(), TokenLocation::Headers, TokenType::Access);
        self.auth()
            .authenticate(&rt, VerifyOptions::default())
            .await
    }

    /// What a refresh route does: authenticate the refresh token (verify,
    /// family live), then rotate.
    async fn refresh(&self, token: &str) -> authx::Result<SessionTokens> {
        let rt = RequestToken::new(token.to_owned(), TokenLocation::Headers, TokenType::Refresh);
        let payload = self
            .auth()
            .authenticate(&rt, VerifyOptions::default())
            .await?;
        self.sessions.refresh(&payload).await
    }
}

/// Generates one `#[tokio::test]` per (flow, backend) pair; each flow is an
/// `async fn(&Env)`.
macro_rules! flows {
    ($($flow:ident => $memory:ident, $sqlite:ident, $redis:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $memory() {
                $flow(&Env::memory()).await;
            }

            #[cfg(feature = "sqlite")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $sqlite() {
                $flow(&Env::sqlite()).await;
            }

            #[cfg(feature = "redis")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $redis() {
                if let Some(env) = Env::redis() {
                    $flow(&env).await;
                    env.cleanup().await;
                }
            }
        )*
    };
}

flows! {
    login_refresh_grace_then_reuse_revokes_the_family =>
        memory_login_refresh_grace_then_reuse_revokes_the_family,
        sqlite_login_refresh_grace_then_reuse_revokes_the_family,
        redis_login_refresh_grace_then_reuse_revokes_the_family;
    logout_revokes_the_family_and_the_access_token =>
        memory_logout_revokes_the_family_and_the_access_token,
        sqlite_logout_revokes_the_family_and_the_access_token,
        redis_logout_revokes_the_family_and_the_access_token;
    logout_all_cuts_everything_up_to_now_but_not_the_next_millisecond =>
        memory_logout_all_cuts_everything_up_to_now_but_not_the_next_millisecond,
        sqlite_logout_all_cuts_everything_up_to_now_but_not_the_next_millisecond,
        redis_logout_all_cuts_everything_up_to_now_but_not_the_next_millisecond;
    end_only_ends_the_callers_own_sessions =>
        memory_end_only_ends_the_callers_own_sessions,
        sqlite_end_only_ends_the_callers_own_sessions,
        redis_end_only_ends_the_callers_own_sessions;
    list_shows_live_sessions_newest_first =>
        memory_list_shows_live_sessions_newest_first,
        sqlite_list_shows_live_sessions_newest_first,
        redis_list_shows_live_sessions_newest_first;
    family_absolute_expiry_is_not_extended_by_rotation =>
        memory_family_absolute_expiry_is_not_extended_by_rotation,
        sqlite_family_absolute_expiry_is_not_extended_by_rotation,
        redis_family_absolute_expiry_is_not_extended_by_rotation;
    access_token_of_an_ended_session_is_refused =>
        memory_access_token_of_an_ended_session_is_refused,
        sqlite_access_token_of_an_ended_session_is_refused,
        redis_access_token_of_an_ended_session_is_refused;
    refresh_refuses_access_tokens_and_sessionless_refresh_tokens =>
        memory_refresh_refuses_access_tokens_and_sessionless_refresh_tokens,
        sqlite_refresh_refuses_access_tokens_and_sessionless_refresh_tokens,
        redis_refresh_refuses_access_tokens_and_sessionless_refresh_tokens;
}

// ---------------------------------------------------------------------------
// flows
// ---------------------------------------------------------------------------

async fn login_refresh_grace_then_reuse_revokes_the_family(e: &Env) {
    let s0 = e.login("alice").await;
    assert!(!s0.grace);
    let r0 = e.decode(&s0.pair.refresh_token);
    assert_eq!(r0.extra["sid"], s0.session_id.as_str());
    e.access(&s0.pair.access_token).await.unwrap();

    // Refresh: rotated.
    e.advance_ms(1_000);
    let s1 = e.refresh(&s0.pair.refresh_token).await.unwrap();
    assert!(!s1.grace);
    assert_eq!(s1.session_id, s0.session_id);
    let r1 = e.decode(&s1.pair.refresh_token);
    assert_ne!(r1.jti, r0.jti);
    assert_eq!(
        e.store()
            .family(&s0.session_id, e.now())
            .await
            .unwrap()
            .unwrap()
            .current_jti,
        r1.jti
    );
    e.access(&s1.pair.access_token).await.unwrap();

    // A second tab refreshes with the retired token, inside the grace
    // window: it gets the successor (same jti), not a new rotation.
    e.advance_ms(2_000);
    let g = e.refresh(&s0.pair.refresh_token).await.unwrap();
    assert!(g.grace, "a replay inside the grace window is flagged");
    assert_eq!(g.session_id, s0.session_id);
    assert_eq!(
        e.decode(&g.pair.refresh_token).jti,
        r1.jti,
        "grace hands out the already-issued successor"
    );
    e.access(&g.pair.access_token).await.unwrap();

    // The retired token replayed after the grace window (10 s by default;
    // 13 s after the rotation now): reuse, and the whole family goes.
    e.advance_ms(11_000);
    assert_eq!(
        kind(e.refresh(&s0.pair.refresh_token).await),
        Err(ErrorKind::TokenReuseDetected)
    );
    let again = e
        .refresh(&s0.pair.refresh_token)
        .await
        .expect_err("replayed again");
    assert_eq!(again.kind(), &ErrorKind::RevokedToken);
    assert_eq!(
        kind(e.refresh(&s1.pair.refresh_token).await),
        Err(ErrorKind::RevokedToken),
        "the successor dies with its family"
    );
    assert_eq!(
        kind(e.sessions.refresh(&r1).await),
        Err(ErrorKind::RevokedToken),
        "and rotation itself refuses it"
    );
    assert_eq!(
        kind(e.refresh(&g.pair.refresh_token).await),
        Err(ErrorKind::RevokedToken)
    );
    for access in [
        &s0.pair.access_token,
        &s1.pair.access_token,
        &g.pair.access_token,
    ] {
        assert_eq!(kind(e.access(access).await), Err(ErrorKind::RevokedToken));
    }
    assert!(e.sessions.list("alice").await.unwrap().is_empty());
}

async fn logout_revokes_the_family_and_the_access_token(e: &Env) {
    let a = e.login("alice").await;
    let other = e.login("alice").await;
    let (ap, rp) = (
        e.decode(&a.pair.access_token),
        e.decode(&a.pair.refresh_token),
    );
    e.access(&a.pair.access_token).await.unwrap();

    e.advance_ms(1);
    e.sessions.logout(Some(&rp), Some(&ap)).await.unwrap();
    assert_eq!(
        kind(e.access(&a.pair.access_token).await),
        Err(ErrorKind::RevokedToken)
    );
    assert!(
        e.store().is_jti_revoked(&ap.jti, e.now()).await.unwrap(),
        "the access token is revoked by jti"
    );
    assert_eq!(
        e.store().family(&a.session_id, e.now()).await.unwrap(),
        None
    );
    assert_eq!(
        kind(e.refresh(&a.pair.refresh_token).await),
        Err(ErrorKind::RevokedToken)
    );
    assert_eq!(
        kind(e.sessions.refresh(&rp).await),
        Err(ErrorKind::RevokedToken)
    );
    // Logging out twice is fine.
    e.sessions.logout(Some(&rp), Some(&ap)).await.unwrap();

    // The user's other session is untouched.
    e.access(&other.pair.access_token).await.unwrap();
    e.refresh(&other.pair.refresh_token).await.unwrap();

    // An access token outside any session: revoked by jti alone, until its
    // expiry.
    let plain = e.auth().create_access_token("alice").unwrap();
    let pp = e.decode(&plain);
    e.access(&plain).await.unwrap();
    e.sessions.logout(None, Some(&pp)).await.unwrap();
    assert_eq!(kind(e.access(&plain).await), Err(ErrorKind::RevokedToken));
    e.clock.set_millis((pp.exp * 1000.0) as i64 - 1);
    assert_eq!(
        kind(e.access(&plain).await),
        Err(ErrorKind::RevokedToken),
        "still revoked in the token's last millisecond"
    );
}

async fn logout_all_cuts_everything_up_to_now_but_not_the_next_millisecond(e: &Env) {
    let s1 = e.login("alice").await;
    e.advance_ms(5);
    let s2 = e.login("alice").await;
    let bob = e.login("bob").await;
    e.advance_ms(5);
    // Issued in the very millisecond of the cut-off.
    let same_ms = e.auth().create_access_token("alice").unwrap();
    let same_ms_session = e.login("alice").await;

    assert_eq!(e.sessions.logout_all("alice").await.unwrap(), 3);
    assert_eq!(
        e.store().subject_cutoff("alice", e.now()).await.unwrap(),
        Some(e.now())
    );
    for access in [
        &s1.pair.access_token,
        &s2.pair.access_token,
        &same_ms,
        &same_ms_session.pair.access_token,
    ] {
        assert_eq!(
            kind(e.access(access).await),
            Err(ErrorKind::RevokedToken),
            "an access token issued up to the cut-off"
        );
    }
    for refresh in [
        &s1.pair.refresh_token,
        &s2.pair.refresh_token,
        &same_ms_session.pair.refresh_token,
    ] {
        assert_eq!(kind(e.refresh(refresh).await), Err(ErrorKind::RevokedToken));
    }
    assert!(e.sessions.list("alice").await.unwrap().is_empty());

    // Bob is untouched.
    e.access(&bob.pair.access_token).await.unwrap();
    e.refresh(&bob.pair.refresh_token).await.unwrap();

    // One millisecond later, a new login works, and so do plain tokens.
    e.advance_ms(1);
    let next = e.login("alice").await;
    e.access(&next.pair.access_token).await.unwrap();
    let plain = e.auth().create_access_token("alice").unwrap();
    e.access(&plain).await.unwrap();
    e.advance_ms(1_000);
    let rotated = e.refresh(&next.pair.refresh_token).await.unwrap();
    e.access(&rotated.pair.access_token).await.unwrap();
    let listed = e.sessions.list("alice").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, next.session_id);
    assert_eq!(e.sessions.logout_all("nobody").await.unwrap(), 0);
}

async fn end_only_ends_the_callers_own_sessions(e: &Env) {
    let alice = e.login("alice").await;
    let bob = e.login("bob").await;

    assert!(
        !e.sessions.end("bob", &alice.session_id).await.unwrap(),
        "bob cannot end alice's session"
    );
    e.access(&alice.pair.access_token).await.unwrap();
    assert!(!e.sessions.end("alice", "no-such-session").await.unwrap());

    assert!(e.sessions.end("alice", &alice.session_id).await.unwrap());
    assert!(
        !e.sessions.end("alice", &alice.session_id).await.unwrap(),
        "already ended"
    );
    assert_eq!(
        kind(e.access(&alice.pair.access_token).await),
        Err(ErrorKind::RevokedToken)
    );
    assert_eq!(
        kind(e.refresh(&alice.pair.refresh_token).await),
        Err(ErrorKind::RevokedToken)
    );
    assert!(e.sessions.list("alice").await.unwrap().is_empty());

    e.access(&bob.pair.access_token).await.unwrap();
    e.refresh(&bob.pair.refresh_token).await.unwrap();
    assert_eq!(e.sessions.list("bob").await.unwrap().len(), 1);
}

async fn list_shows_live_sessions_newest_first(e: &Env) {
    let laptop = e
        .sessions
        .login(
            "alice",
            ClientInfo {
                user_agent: Some("Firefox/140".into()),
                ip: Some("192.0.2.1".into()),
            },
            &TokenOptions::new(),
        )
        .await
        .unwrap();
    let login_ms = e.now();
    e.advance_ms(1_000);
    let phone = e
        .sessions
        .login(
            "alice",
            ClientInfo {
                user_agent: Some("Safari/18".into()),
                ip: None,
            },
            &TokenOptions::new(),
        )
        .await
        .unwrap();
    e.advance_ms(1_000);
    let rotated = e.refresh(&laptop.pair.refresh_token).await.unwrap();

    let listed = e.sessions.list("alice").await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        [phone.session_id.as_str(), laptop.session_id.as_str()],
        "newest first"
    );
    assert_eq!(listed[0].user_agent.as_deref(), Some("Safari/18"));
    assert_eq!(listed[0].ip, None);
    let l = &listed[1];
    assert_eq!(l.sub, "alice");
    assert_eq!(l.user_agent.as_deref(), Some("Firefox/140"));
    assert_eq!(l.ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(l.created_ms, login_ms);
    assert_eq!(l.last_used_ms, e.now(), "refresh updates last use");
    assert_eq!(l.current_jti, e.decode(&rotated.pair.refresh_token).jti);
    assert!(e.sessions.list("bob").await.unwrap().is_empty());
}

async fn family_absolute_expiry_is_not_extended_by_rotation(e: &Env) {
    let login_ms = e.now();
    let lifetime = i64::try_from(REFRESH_LIFETIME.as_millis()).unwrap();
    let s0 = e.login("alice").await;
    let family_exp = e.sessions.list("alice").await.unwrap()[0].expires_ms;
    assert!(
        family_exp <= login_ms + lifetime && family_exp > login_ms + lifetime - 1_000,
        "the family expires refresh_token_expires after login"
    );

    // Rotating every 20 minutes never pushes the expiry.
    let mut current = s0;
    for _ in 0..2 {
        e.advance_ms(20 * 60 * 1000);
        current = e.refresh(&current.pair.refresh_token).await.unwrap();
        assert!(!current.grace);
        let r = e.decode(&current.pair.refresh_token);
        assert!(
            (r.exp * 1000.0) as i64 <= family_exp,
            "a rotated refresh token outlives its family: exp {} > {family_exp}",
            r.exp
        );
        assert_eq!(
            e.sessions.list("alice").await.unwrap()[0].expires_ms,
            family_exp
        );
    }
    // Verified just before the end, presented at refresh_token_expires
    // after login: the store refuses it (the token's own exp aside).
    e.clock.set_millis(family_exp - 1);
    let payload = e.decode(&current.pair.refresh_token);
    e.clock.set_millis(login_ms + lifetime);
    assert_eq!(
        kind(e.sessions.refresh(&payload).await),
        Err(ErrorKind::RevokedToken),
        "refresh after the family's absolute expiry"
    );
    assert!(
        e.refresh(&current.pair.refresh_token).await.is_err(),
        "and the token no longer verifies"
    );
    assert!(e.sessions.list("alice").await.unwrap().is_empty());
}

async fn access_token_of_an_ended_session_is_refused(e: &Env) {
    let s = e.login("alice").await;
    let ap = e.decode(&s.pair.access_token);
    e.access(&s.pair.access_token).await.unwrap();
    assert!(e.store().revoke_family(&s.session_id).await.unwrap());
    assert_eq!(
        kind(e.access(&s.pair.access_token).await),
        Err(ErrorKind::RevokedToken)
    );
    // Neither by jti nor by subject: the family check did it.
    assert!(!e.store().is_jti_revoked(&ap.jti, e.now()).await.unwrap());
    assert_eq!(
        e.store().subject_cutoff("alice", e.now()).await.unwrap(),
        None
    );
}

async fn refresh_refuses_access_tokens_and_sessionless_refresh_tokens(e: &Env) {
    let s = e.login("alice").await;
    let ap = e.decode(&s.pair.access_token);
    assert_eq!(
        kind(e.sessions.refresh(&ap).await),
        Err(ErrorKind::RefreshTokenRequired)
    );
    // A refresh token outside any session cannot be rotated or revoked.
    let plain = e.auth().create_refresh_token("alice").unwrap();
    assert_eq!(
        kind(e.sessions.refresh(&e.decode(&plain)).await),
        Err(ErrorKind::RevokedToken)
    );
    assert_eq!(kind(e.refresh(&plain).await), Err(ErrorKind::RevokedToken));
    // The session is unharmed.
    e.refresh(&s.pair.refresh_token).await.unwrap();
}

// ---------------------------------------------------------------------------
// store down: fail closed (503), recover by itself
// ---------------------------------------------------------------------------

#[cfg(any(feature = "sqlite", feature = "redis"))]
fn assert_unavailable<T: std::fmt::Debug>(what: &str, r: authx::Result<T>, started: Instant) {
    let elapsed = started.elapsed();
    let err = r.expect_err(what);
    assert!(
        matches!(err.kind(), ErrorKind::StoreUnavailable(_)),
        "{what}: {err:?}"
    );
    assert_eq!(err.status().as_u16(), 503, "{what}");
    assert!(elapsed < Duration::from_secs(5), "{what} took {elapsed:?}");
}

/// Tokens with a session claim, made without touching the store.
#[cfg(any(feature = "sqlite", feature = "redis"))]
fn tokens_for(auth: &AuthX, sub: &str, sid: &str) -> (String, TokenPayload, TokenPayload) {
    let opts = TokenOptions::new().claim("sid", sid).unwrap();
    let access = auth.create_token(sub, TokenType::Access, &opts).unwrap();
    let refresh = auth.create_token(sub, TokenType::Refresh, &opts).unwrap();
    let ap = auth.decode_token(&access).unwrap();
    let rp = auth.decode_token(&refresh).unwrap();
    (access, ap, rp)
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_fails_closed_with_503() {
    // Nothing listens on port 1.
    let store =
        authx::store::RedisStore::connect("redis://127.0.0.1:1", "authx-test:down:").unwrap();
    let clock = ManualClock::now();
    let sessions = install(Arc::new(store), &clock);
    let auth = sessions.auth().clone();
    let (access, ap, rp) = tokens_for(&auth, "alice", "some-session");
    let plain = auth.create_access_token("alice").unwrap();
    let all = Instant::now();

    let t = Instant::now();
    let r = sessions
        .login("alice", ClientInfo::default(), &TokenOptions::new())
        .await;
    assert_unavailable("login", r, t);
    let t = Instant::now();
    assert_unavailable("refresh", sessions.refresh(&rp).await, t);
    let t = Instant::now();
    assert_unavailable("logout", sessions.logout(Some(&rp), Some(&ap)).await, t);
    let t = Instant::now();
    assert_unavailable(
        "logout of an access token alone",
        sessions.logout(None, Some(&ap)).await,
        t,
    );
    let t = Instant::now();
    assert_unavailable("logout_all", sessions.logout_all("alice").await, t);
    let t = Instant::now();
    assert_unavailable("list", sessions.list("alice").await, t);
    let t = Instant::now();
    assert_unavailable("end", sessions.end("alice", "some-session").await, t);
    for (what, token, token_type) in [
        ("authenticate access", &access, TokenType::Access),
        ("authenticate sessionless access", &plain, TokenType::Access),
    ] {
        let rt = RequestToken::new(token.clone(), TokenLocation::Headers, token_type);
        let t = Instant::now();
        assert_unavailable(
            what,
            auth.authenticate(&rt, VerifyOptions::default()).await,
            t,
        );
    }
    let t = Instant::now();
    assert_unavailable("check_revoked refresh", auth.check_revoked(&rp).await, t);
    assert!(
        all.elapsed() < Duration::from_secs(20),
        "{:?}",
        all.elapsed()
    );
}

/// SQLite writes failing, then the file coming back.
///
/// The obvious way (`chmod 0444` the file, its `-wal`/`-shm` and the
/// directory) does nothing here: the tests run as root, and root has
/// `CAP_DAC_OVERRIDE`, so permission bits do not stop its writes. So:
///
/// 1. another connection holds the database's write lock (`BEGIN
///    EXCLUSIVE`) for longer than the store's `busy_timeout` (5 s): the
///    store's write waits 5 s, gets `SQLITE_BUSY`, answers 503 and drops its
///    connection. This is a real failure mode (another process holding the
///    lock) and the only wait in this test;
/// 2. with the lock released, the database's directory is moved away and a
///    plain file put at its path, so every reconnect fails at once
///    (`ENOTDIR`), as a vanished or unmountable volume would: every flow
///    answers 503, fast;
/// 3. the directory is put back: the next call reconnects and succeeds,
///    with the data written before the failure intact.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_failure_fails_closed_with_503_then_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("tokens.db");
    let store = authx::store::SqliteStore::open(&path).unwrap();
    let clock = ManualClock::at_millis(T0);
    let sessions = install(Arc::new(store), &clock);
    let auth = sessions.auth().clone();
    let access_ok = |token: String| {
        let auth = auth.clone();
        async move {
            let rt = RequestToken::new(token, TokenLocation::Headers, TokenType::Access);
            auth.authenticate(&rt, VerifyOptions::default()).await
        }
    };
    let alice = sessions
        .login("alice", ClientInfo::default(), &TokenOptions::new())
        .await
        .unwrap();
    let arp = auth.decode_token(&alice.pair.refresh_token).unwrap();

    // 1. The write lock is held elsewhere for longer than busy_timeout.
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let t = Instant::now();
    let err = sessions
        .login("bob", ClientInfo::default(), &TokenOptions::new())
        .await
        .expect_err("a write under someone else's lock");
    let waited = t.elapsed();
    assert!(
        matches!(err.kind(), ErrorKind::StoreUnavailable(_)),
        "{err:?}"
    );
    assert_eq!(err.status().as_u16(), 503);
    assert!(
        waited < Duration::from_secs(10),
        "gave up after busy_timeout, not never: {waited:?}"
    );
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);

    // 2. The database's directory is gone (a file in its place): every
    //    reconnect fails at once.
    let moved = tmp.path().join("db.away");
    std::fs::rename(&dir, &moved).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    clock.advance(Duration::from_secs(1));
    let (access, ap, rp) = tokens_for(&auth, "alice", &alice.session_id);
    let t = Instant::now();
    let r = sessions
        .login("alice", ClientInfo::default(), &TokenOptions::new())
        .await;
    assert_unavailable("login", r, t);
    let t = Instant::now();
    assert_unavailable("refresh", sessions.refresh(&arp).await, t);
    let t = Instant::now();
    assert_unavailable("logout", sessions.logout(Some(&rp), Some(&ap)).await, t);
    let t = Instant::now();
    assert_unavailable("logout_all", sessions.logout_all("alice").await, t);
    let t = Instant::now();
    assert_unavailable("list", sessions.list("alice").await, t);
    let t = Instant::now();
    assert_unavailable("end", sessions.end("alice", &alice.session_id).await, t);
    let t = Instant::now();
    assert_unavailable("authenticate", access_ok(access.clone()).await, t);
    let t = Instant::now();
    assert_unavailable(
        "authenticate the login's access token",
        access_ok(alice.pair.access_token.clone()).await,
        t,
    );

    // 3. Back: the next calls reconnect and succeed, data intact.
    std::fs::remove_file(&dir).unwrap();
    std::fs::rename(&moved, &dir).unwrap();
    access_ok(alice.pair.access_token.clone()).await.unwrap();
    let rotated = sessions.refresh(&arp).await.unwrap();
    assert!(!rotated.grace, "the session written before the failure");
    access_ok(rotated.pair.access_token.clone()).await.unwrap();
    let bob = sessions
        .login("bob", ClientInfo::default(), &TokenOptions::new())
        .await
        .unwrap();
    access_ok(bob.pair.access_token).await.unwrap();
    assert_eq!(sessions.list("alice").await.unwrap().len(), 1);
    sessions.logout(Some(&rp), Some(&ap)).await.unwrap();
    assert_eq!(
        kind(access_ok(alice.pair.access_token.clone()).await),
        Err(ErrorKind::RevokedToken)
    );
}
