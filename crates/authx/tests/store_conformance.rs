//! The token-store conformance suite: one generic async suite, run against
//! every backend (memory always, SQLite with feature `sqlite`, Redis with
//! feature `redis`).
//!
//! Each behaviour is an `async fn(Backend)`; `conformance!` turns it into one
//! `#[tokio::test]` per backend, named `<backend>_<behaviour>`.
//!
//! - memory: a fresh `MemoryStore` per test;
//! - SQLite: a fresh database file in a temporary directory per test;
//! - Redis: the server at `REDIS_URL`, each test under its own key prefix
//!   (`authx-test:{random}:`). Every key the suite writes expires within
//!   two minutes. Without `REDIS_URL` the Redis tests print a note and pass,
//!   unless `AUTHX_REQUIRE_REDIS=1`, which makes them fail.
//!
//! "Now" is the real time in milliseconds for every backend (Redis keys get
//! real TTLs through `PEXPIREAT`); memory and SQLite expiry tests pass later
//! "now" values instead of sleeping, Redis expiry tests wait for a real TTL
//! of a few hundred milliseconds (the only sleeps in the suite).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use authx::clock::{Clock, ManualClock, SystemClock};
use authx::store::{Family, MemoryStore, Rotation, StoreRevocation, TokenStore};
use authx::{
    AuthX, AuthXConfig, ErrorKind, RequestToken, TokenLocation, TokenType, VerifyOptions, random_id,
};

/// Grace window used by the suite (the `Sessions` default).
const GRACE: i64 = 10_000;
/// Family lifetime used by the suite.
const LIFE: i64 = 60_000;
/// Revocations the suite wants alive for the whole test.
const LONG: i64 = 120_000;
/// Real TTL of the Redis expiry tests.
const SHORT_TTL: i64 = 400;

const SECRET: &str = "store-conformance-secret-0123456789abcdef";

fn real_now() -> i64 {
    SystemClock.now_millis()
}

fn uid(tag: &str) -> String {
    format!("{tag}-{}", random_id())
}

// ---------------------------------------------------------------------------
// backends
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "redis")]
    Redis,
}

/// One backend under test: the store as the trait object, a "now" base,
/// and what some behaviours need to look behind the trait.
struct Backend {
    kind: Kind,
    store: Arc<dyn TokenStore>,
    now: i64,
    memory: Option<Arc<MemoryStore>>,
    #[cfg(feature = "sqlite")]
    sqlite: Option<authx::store::SqliteStore>,
    #[cfg(feature = "sqlite")]
    _dir: Option<tempfile::TempDir>,
    #[cfg(feature = "redis")]
    redis: Option<(String, String)>,
}

impl Backend {
    fn memory() -> Self {
        let memory = Arc::new(MemoryStore::new());
        Self {
            kind: Kind::Memory,
            store: memory.clone(),
            now: real_now(),
            memory: Some(memory),
            #[cfg(feature = "sqlite")]
            sqlite: None,
            #[cfg(feature = "sqlite")]
            _dir: None,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    #[cfg(feature = "sqlite")]
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = authx::store::SqliteStore::open(dir.path().join("tokens.db")).unwrap();
        Self {
            kind: Kind::Sqlite,
            store: Arc::new(store.clone()),
            now: real_now(),
            memory: None,
            sqlite: Some(store),
            _dir: Some(dir),
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    /// `None` (after a note) when `REDIS_URL` is unset, unless
    /// `AUTHX_REQUIRE_REDIS=1`, which fails the test instead.
    #[cfg(feature = "redis")]
    fn redis() -> Option<Self> {
        let url = match std::env::var("REDIS_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("AUTHX_REQUIRE_REDIS").as_deref() != Ok("1"),
                    "AUTHX_REQUIRE_REDIS=1 but REDIS_URL is unset"
                );
                eprintln!("note: REDIS_URL is unset; Redis conformance test skipped");
                return None;
            }
        };
        let prefix = format!("authx-test:{}:", random_id());
        let store = authx::store::RedisStore::connect(&url, &prefix).unwrap();
        Some(Self {
            kind: Kind::Redis,
            store: Arc::new(store),
            now: real_now(),
            memory: None,
            #[cfg(feature = "sqlite")]
            sqlite: None,
            #[cfg(feature = "sqlite")]
            _dir: None,
            redis: Some((url, prefix)),
        })
    }

    /// Whether entries expire by real time (Redis TTLs) rather than by the
    /// "now" the caller passes.
    fn real_ttl(&self) -> bool {
        #[cfg(feature = "redis")]
        if self.kind == Kind::Redis {
            return true;
        }
        false
    }

    /// A second handle on the same data, as a second process would have:
    /// SQLite `reopen()` (its own connection), a second `RedisStore`
    /// connection; memory has one state per process, so the same store.
    fn second_handle(&self) -> Arc<dyn TokenStore> {
        match self.kind {
            Kind::Memory => self.store.clone(),
            #[cfg(feature = "sqlite")]
            Kind::Sqlite => Arc::new(self.sqlite.as_ref().unwrap().reopen().unwrap()),
            #[cfg(feature = "redis")]
            Kind::Redis => {
                let (url, prefix) = self.redis.as_ref().unwrap();
                Arc::new(authx::store::RedisStore::connect(url, prefix).unwrap())
            }
        }
    }

    /// Every key under this test's prefix (Redis only).
    #[cfg(feature = "redis")]
    async fn redis_keys(&self) -> Vec<String> {
        let (url, prefix) = self.redis.as_ref().unwrap();
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query_async::<Vec<String>>(&mut con)
            .await
            .unwrap()
    }
}

/// Waits until the real clock is past `until_ms` (plus a margin for the
/// server's expiry to run).
async fn sleep_past(until_ms: i64) {
    let wait = (until_ms - real_now()).max(0) + 250;
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
}

/// Generates one `#[tokio::test]` per (behaviour, backend) pair.
macro_rules! conformance {
    ($($behaviour:ident => $memory:ident, $sqlite:ident, $redis:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $memory() {
                $behaviour(Backend::memory()).await;
            }

            #[cfg(feature = "sqlite")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $sqlite() {
                $behaviour(Backend::sqlite()).await;
            }

            #[cfg(feature = "redis")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $redis() {
                if let Some(backend) = Backend::redis() {
                    $behaviour(backend).await;
                }
            }
        )*
    };
}

conformance! {
    rotations_in_one_batch_each_get_their_own_outcome =>
        memory_rotations_in_one_batch_each_get_their_own_outcome,
        sqlite_rotations_in_one_batch_each_get_their_own_outcome,
        redis_rotations_in_one_batch_each_get_their_own_outcome;
    a_cancelled_rotation_does_not_strand_the_others =>
        memory_a_cancelled_rotation_does_not_strand_the_others,
        sqlite_a_cancelled_rotation_does_not_strand_the_others,
        redis_a_cancelled_rotation_does_not_strand_the_others;
    revoke_jti_marks_only_that_jti =>
        memory_revoke_jti_marks_only_that_jti,
        sqlite_revoke_jti_marks_only_that_jti,
        redis_revoke_jti_marks_only_that_jti;
    revoked_jti_expires_at_until_exclusive =>
        memory_revoked_jti_expires_at_until_exclusive,
        sqlite_revoked_jti_expires_at_until_exclusive,
        redis_revoked_jti_expires_at_until_exclusive;
    revoke_jti_again_never_shortens_the_revocation =>
        memory_revoke_jti_again_never_shortens_the_revocation,
        sqlite_revoke_jti_again_never_shortens_the_revocation,
        redis_revoke_jti_again_never_shortens_the_revocation;
    subject_cutoff_is_kept_until_its_expiry =>
        memory_subject_cutoff_is_kept_until_its_expiry,
        sqlite_subject_cutoff_is_kept_until_its_expiry,
        redis_subject_cutoff_is_kept_until_its_expiry;
    subject_cutoff_never_moves_back =>
        memory_subject_cutoff_never_moves_back,
        sqlite_subject_cutoff_never_moves_back,
        redis_subject_cutoff_never_moves_back;
    subject_cutoff_survives_a_later_call_with_an_earlier_until =>
        memory_subject_cutoff_survives_a_later_call_with_an_earlier_until,
        sqlite_subject_cutoff_survives_a_later_call_with_an_earlier_until,
        redis_subject_cutoff_survives_a_later_call_with_an_earlier_until;
    subject_cutoff_revokes_tokens_issued_at_or_before_it =>
        memory_subject_cutoff_revokes_tokens_issued_at_or_before_it,
        sqlite_subject_cutoff_revokes_tokens_issued_at_or_before_it,
        redis_subject_cutoff_revokes_tokens_issued_at_or_before_it;
    family_round_trips_with_client_info =>
        memory_family_round_trips_with_client_info,
        sqlite_family_round_trips_with_client_info,
        redis_family_round_trips_with_client_info;
    families_are_live_only_and_newest_first =>
        memory_families_are_live_only_and_newest_first,
        sqlite_families_are_live_only_and_newest_first,
        redis_families_are_live_only_and_newest_first;
    revoke_family_ends_only_that_family =>
        memory_revoke_family_ends_only_that_family,
        sqlite_revoke_family_ends_only_that_family,
        redis_revoke_family_ends_only_that_family;
    revoke_families_ends_every_family_of_the_subject =>
        memory_revoke_families_ends_every_family_of_the_subject,
        sqlite_revoke_families_ends_every_family_of_the_subject,
        redis_revoke_families_ends_every_family_of_the_subject;
    rotate_moves_current_and_keeps_absolute_expiry =>
        memory_rotate_moves_current_and_keeps_absolute_expiry,
        sqlite_rotate_moves_current_and_keeps_absolute_expiry,
        redis_rotate_moves_current_and_keeps_absolute_expiry;
    rotate_then_grace_returns_same_successor =>
        memory_rotate_then_grace_returns_same_successor,
        sqlite_rotate_then_grace_returns_same_successor,
        redis_rotate_then_grace_returns_same_successor;
    grace_window_ends_at_grace_ms =>
        memory_grace_window_ends_at_grace_ms,
        sqlite_grace_window_ends_at_grace_ms,
        redis_grace_window_ends_at_grace_ms;
    grace_window_holds_for_a_clock_behind =>
        memory_grace_window_holds_for_a_clock_behind,
        sqlite_grace_window_holds_for_a_clock_behind,
        redis_grace_window_holds_for_a_clock_behind;
    zero_grace_means_no_window =>
        memory_zero_grace_means_no_window,
        sqlite_zero_grace_means_no_window,
        redis_zero_grace_means_no_window;
    replay_after_grace_is_reuse_and_revokes_family =>
        memory_replay_after_grace_is_reuse_and_revokes_family,
        sqlite_replay_after_grace_is_reuse_and_revokes_family,
        redis_replay_after_grace_is_reuse_and_revokes_family;
    grandparent_replay_inside_grace_is_reuse =>
        memory_grandparent_replay_inside_grace_is_reuse,
        sqlite_grandparent_replay_inside_grace_is_reuse,
        redis_grandparent_replay_inside_grace_is_reuse;
    unknown_jti_on_live_family_is_reuse =>
        memory_unknown_jti_on_live_family_is_reuse,
        sqlite_unknown_jti_on_live_family_is_reuse,
        redis_unknown_jti_on_live_family_is_reuse;
    rotate_on_unknown_revoked_or_expired_family_is_invalid =>
        memory_rotate_on_unknown_revoked_or_expired_family_is_invalid,
        sqlite_rotate_on_unknown_revoked_or_expired_family_is_invalid,
        redis_rotate_on_unknown_revoked_or_expired_family_is_invalid;
    expired_entries_are_dropped =>
        memory_expired_entries_are_dropped,
        sqlite_expired_entries_are_dropped,
        redis_expired_entries_are_dropped;
    concurrent_rotation_has_one_winner =>
        memory_concurrent_rotation_has_one_winner,
        sqlite_concurrent_rotation_has_one_winner,
        redis_concurrent_rotation_has_one_winner;
    concurrent_rotation_across_two_handles_has_one_winner =>
        memory_concurrent_rotation_across_two_handles_has_one_winner,
        sqlite_concurrent_rotation_across_two_handles_has_one_winner,
        redis_concurrent_rotation_across_two_handles_has_one_winner;
}

// ---------------------------------------------------------------------------
// revocation by jti
// ---------------------------------------------------------------------------

async fn revoke_jti_marks_only_that_jti(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let (j1, j2) = (uid("j1"), uid("j2"));
    assert!(!s.is_jti_revoked(&j1, now).await.unwrap());
    s.revoke_jti(&j1, now + LONG).await.unwrap();
    assert!(s.is_jti_revoked(&j1, now).await.unwrap());
    assert!(
        !s.is_jti_revoked(&j2, now).await.unwrap(),
        "another jti is untouched"
    );
    // Idempotent.
    s.revoke_jti(&j1, now + LONG).await.unwrap();
    assert!(s.is_jti_revoked(&j1, now).await.unwrap());
    // A second handle sees it.
    assert!(b.second_handle().is_jti_revoked(&j1, now).await.unwrap());
}

async fn revoked_jti_expires_at_until_exclusive(b: Backend) {
    let s = &b.store;
    let j = uid("j");
    if b.real_ttl() {
        let until = real_now() + SHORT_TTL;
        s.revoke_jti(&j, until).await.unwrap();
        assert!(s.is_jti_revoked(&j, real_now()).await.unwrap());
        sleep_past(until).await;
        assert!(
            !s.is_jti_revoked(&j, real_now()).await.unwrap(),
            "still revoked after its real TTL"
        );
        return;
    }
    let now = b.now;
    s.revoke_jti(&j, now + 1_000).await.unwrap();
    assert!(s.is_jti_revoked(&j, now).await.unwrap());
    assert!(s.is_jti_revoked(&j, now + 999).await.unwrap());
    assert!(
        !s.is_jti_revoked(&j, now + 1_000).await.unwrap(),
        "revoked until until_ms, exclusive"
    );
    assert!(!s.is_jti_revoked(&j, now + 5_000).await.unwrap());
}

/// A second revocation of the same `jti` with an earlier `until_ms` (a
/// shorter-lived copy, or one computed on a host whose clock lags) must not
/// shorten the first: the revocation lives until the latest `until_ms`.
async fn revoke_jti_again_never_shortens_the_revocation(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let j = uid("j");
    s.revoke_jti(&j, now + LONG).await.unwrap();
    // A shorter revocation of the same jti.
    if b.real_ttl() {
        let short = real_now() + SHORT_TTL;
        s.revoke_jti(&j, short).await.unwrap();
        sleep_past(short).await;
        assert!(
            s.is_jti_revoked(&j, real_now()).await.unwrap(),
            "a later revoke_jti with an earlier until_ms shortened the revocation"
        );
    } else {
        s.revoke_jti(&j, now + 1_000).await.unwrap();
        assert!(
            s.is_jti_revoked(&j, now + 30_000).await.unwrap(),
            "a later revoke_jti with an earlier until_ms shortened the revocation"
        );
    }
    // An until that already passed: on its own, a no-op.
    s.revoke_jti(&j, now - 1_000).await.unwrap();
    assert!(
        s.is_jti_revoked(&j, now).await.unwrap(),
        "a later revoke_jti with an until_ms in the past dropped the revocation"
    );
}

// ---------------------------------------------------------------------------
// revocation by subject
// ---------------------------------------------------------------------------

async fn subject_cutoff_is_kept_until_its_expiry(b: Backend) {
    let s = &b.store;
    let sub = uid("sub");
    assert_eq!(s.subject_cutoff(&sub, b.now).await.unwrap(), None);
    if b.real_ttl() {
        let at = real_now();
        let until = at + SHORT_TTL;
        s.revoke_subject_before(&sub, at, until).await.unwrap();
        assert_eq!(s.subject_cutoff(&sub, real_now()).await.unwrap(), Some(at));
        sleep_past(until).await;
        assert_eq!(
            s.subject_cutoff(&sub, real_now()).await.unwrap(),
            None,
            "cut-off kept after its real TTL"
        );
        return;
    }
    let now = b.now;
    s.revoke_subject_before(&sub, now, now + 1_000)
        .await
        .unwrap();
    assert_eq!(s.subject_cutoff(&sub, now).await.unwrap(), Some(now));
    assert_eq!(s.subject_cutoff(&sub, now + 999).await.unwrap(), Some(now));
    assert_eq!(
        s.subject_cutoff(&sub, now + 1_000).await.unwrap(),
        None,
        "kept until until_ms, exclusive"
    );
    assert_eq!(
        s.subject_cutoff(&uid("other"), now).await.unwrap(),
        None,
        "another subject has no cut-off"
    );
}

async fn subject_cutoff_never_moves_back(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let sub = uid("sub");
    s.revoke_subject_before(&sub, now, now + LONG)
        .await
        .unwrap();
    assert_eq!(s.subject_cutoff(&sub, now).await.unwrap(), Some(now));
    // Earlier at_ms: the cut-off stays.
    s.revoke_subject_before(&sub, now - 1, now + LONG)
        .await
        .unwrap();
    assert_eq!(
        s.subject_cutoff(&sub, now).await.unwrap(),
        Some(now),
        "an earlier at_ms moved the cut-off back"
    );
    s.revoke_subject_before(&sub, now - 60_000, now + LONG)
        .await
        .unwrap();
    assert_eq!(s.subject_cutoff(&sub, now).await.unwrap(), Some(now));
    // Later at_ms: it moves forward, by one millisecond too.
    s.revoke_subject_before(&sub, now + 1, now + LONG)
        .await
        .unwrap();
    assert_eq!(s.subject_cutoff(&sub, now).await.unwrap(), Some(now + 1));
    // A second handle sees the same.
    assert_eq!(
        b.second_handle().subject_cutoff(&sub, now).await.unwrap(),
        Some(now + 1)
    );
}

/// "The cut-off is kept until `until_ms`": a later call with an earlier
/// `until_ms` (and an earlier `at_ms`) must neither drop the cut-off nor
/// shorten its life.
async fn subject_cutoff_survives_a_later_call_with_an_earlier_until(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let sub = uid("sub");
    s.revoke_subject_before(&sub, now, now + LONG)
        .await
        .unwrap();
    // A shorter-lived cut-off for the same subject.
    if b.real_ttl() {
        let short = real_now() + SHORT_TTL;
        s.revoke_subject_before(&sub, now - 5_000, short)
            .await
            .unwrap();
        sleep_past(short).await;
        assert_eq!(
            s.subject_cutoff(&sub, real_now()).await.unwrap(),
            Some(now),
            "a later call with an earlier until_ms shortened the cut-off's life"
        );
    } else {
        s.revoke_subject_before(&sub, now - 5_000, now + 1_000)
            .await
            .unwrap();
        assert_eq!(
            s.subject_cutoff(&sub, now + 30_000).await.unwrap(),
            Some(now),
            "a later call with an earlier until_ms shortened the cut-off's life"
        );
    }
    // An until that already passed.
    s.revoke_subject_before(&sub, now - 5_000, now - 1_000)
        .await
        .unwrap();
    assert_eq!(
        s.subject_cutoff(&sub, now).await.unwrap(),
        Some(now),
        "a later call with an until_ms in the past dropped the cut-off"
    );
}

/// Same-millisecond edges, end to end through `StoreRevocation`: with
/// cut-off T, a token issued at T (or before) is revoked, one issued at T+1
/// is not. Token issue times are set with a `ManualClock`.
async fn subject_cutoff_revokes_tokens_issued_at_or_before_it(b: Backend) {
    let now = b.now;
    let clock = ManualClock::at_millis(now - 1);
    let auth = AuthX::builder(AuthXConfig {
        secret_key: Some(SECRET.to_owned().into()),
        ..Default::default()
    })
    .clock(Arc::new(clock.clone()))
    .revocation_arc(Arc::new(
        StoreRevocation::new(b.store.clone(), true).with_clock(Arc::new(clock.clone())),
    ))
    .build()
    .unwrap();
    let (sub, other) = (uid("sub"), uid("other"));
    let before = auth.create_access_token(&sub).unwrap();
    clock.set_millis(now);
    let at = auth.create_access_token(&sub).unwrap();
    let other_at = auth.create_access_token(&other).unwrap();
    clock.set_millis(now + 1);
    let after = auth.create_access_token(&sub).unwrap();
    assert_eq!(auth.decode_token(&at).unwrap().issued_at_ms(), now);
    assert_eq!(auth.decode_token(&after).unwrap().issued_at_ms(), now + 1);

    b.store
        .revoke_subject_before(&sub, now, now + LONG)
        .await
        .unwrap();
    clock.set_millis(now + 2);
    let check = |token: &str| {
        let rt = RequestToken::new(token.to_owned(), TokenLocation::Headers, TokenType::Access);
        let auth = auth.clone();
        async move { auth.authenticate(&rt, VerifyOptions::default()).await }
    };
    let kind = |r: authx::Result<_>| r.map(drop).map_err(|e: authx::Error| e.kind().clone());
    assert_eq!(kind(check(&before).await), Err(ErrorKind::RevokedToken));
    assert_eq!(
        kind(check(&at).await),
        Err(ErrorKind::RevokedToken),
        "a token issued in the cut-off's millisecond escaped it"
    );
    assert_eq!(
        kind(check(&after).await),
        Ok(()),
        "a token issued one millisecond after the cut-off is revoked"
    );
    assert_eq!(kind(check(&other_at).await), Ok(()), "another subject");
}

// ---------------------------------------------------------------------------
// families
// ---------------------------------------------------------------------------

fn family(id: &str, sub: &str, jti: &str, created: i64, expires: i64) -> Family {
    Family::new(id, sub, jti, created, expires)
}

async fn family_round_trips_with_client_info(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = family(&uid("fam"), &uid("sub"), &uid("j"), now, now + LIFE).with_client(
        Some("Mozilla/5.0 (X11; Linux) curl/8".into()),
        Some("2001:db8::1".into()),
    );
    s.start_family(&f).await.unwrap();
    assert_eq!(s.family(&f.id, now).await.unwrap(), Some(f.clone()));
    assert_eq!(
        b.second_handle().family(&f.id, now).await.unwrap(),
        Some(f.clone())
    );
    assert_eq!(s.family(&uid("unknown"), now).await.unwrap(), None);

    // Without client info.
    let bare = family(&uid("fam"), &f.sub, &uid("j"), now + 1, now + LIFE);
    s.start_family(&bare).await.unwrap();
    let got = s.family(&bare.id, now + 1).await.unwrap().unwrap();
    assert_eq!(got, bare);
    assert_eq!(got.user_agent, None);
    assert_eq!(got.ip, None);
    assert_eq!(got.previous_jti, None);
    assert_eq!(got.rotated_at_ms, None);

    // Live until expires_ms, exclusive.
    assert!(s.family(&f.id, now + LIFE - 1).await.unwrap().is_some());
    assert_eq!(s.family(&f.id, now + LIFE).await.unwrap(), None);
}

async fn families_are_live_only_and_newest_first(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let (sub, other) = (uid("sub"), uid("other"));
    let f1 = family(&uid("f1"), &sub, &uid("j"), now, now + LIFE)
        .with_client(Some("ua-1".into()), Some("10.0.0.1".into()));
    let f2 = family(&uid("f2"), &sub, &uid("j"), now + 1, now + LIFE)
        .with_client(Some("ua-2".into()), None);
    let f3 = family(&uid("f3"), &sub, &uid("j"), now + 2, now + LIFE)
        .with_client(None, Some("10.0.0.3".into()));
    // Expires first: listed until then, not after.
    let short = family(&uid("short"), &sub, &uid("j"), now + 3, now + 10_000);
    let theirs = family(&uid("theirs"), &other, &uid("j"), now + 4, now + LIFE);
    // Started out of order on purpose.
    for f in [&f2, &theirs, &f3, &f1, &short] {
        s.start_family(f).await.unwrap();
    }
    let ids = |v: Vec<Family>| v.into_iter().map(|f| f.id).collect::<Vec<_>>();

    let listed = s.families(&sub, now + 5).await.unwrap();
    assert_eq!(
        listed,
        vec![short.clone(), f3.clone(), f2.clone(), f1.clone()],
        "newest first, client info kept"
    );
    assert_eq!(
        ids(s.families(&sub, now + 10_000).await.unwrap()),
        vec![f3.id.clone(), f2.id.clone(), f1.id.clone()],
        "an expired family is not listed"
    );
    assert_eq!(
        ids(s.families(&other, now + 5).await.unwrap()),
        vec![theirs.id.clone()]
    );
    assert!(s.families(&uid("nobody"), now).await.unwrap().is_empty());
    assert!(
        s.families(&sub, now + LIFE).await.unwrap().is_empty(),
        "all expired"
    );
}

async fn revoke_family_ends_only_that_family(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let sub = uid("sub");
    let a = family(&uid("a"), &sub, &uid("ja"), now, now + LIFE);
    let c = family(&uid("c"), &sub, &uid("jc"), now + 1, now + LIFE);
    s.start_family(&a).await.unwrap();
    s.start_family(&c).await.unwrap();

    assert!(s.revoke_family(&a.id).await.unwrap(), "it was live");
    assert!(
        !s.revoke_family(&a.id).await.unwrap(),
        "already revoked: not live"
    );
    assert!(!s.revoke_family(&uid("unknown")).await.unwrap());
    assert_eq!(s.family(&a.id, now).await.unwrap(), None);
    assert_eq!(b.second_handle().family(&a.id, now).await.unwrap(), None);
    assert_eq!(s.family(&c.id, now).await.unwrap(), Some(c.clone()));
    assert_eq!(s.families(&sub, now + 2).await.unwrap(), vec![c.clone()]);
    assert_eq!(
        s.rotate(&a.id, &a.current_jti, &uid("n"), now + 5, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid,
        "a revoked family's current token no longer rotates"
    );
    assert!(matches!(
        s.rotate(&c.id, &c.current_jti, &uid("n"), now + 5, GRACE)
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));
}

async fn revoke_families_ends_every_family_of_the_subject(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let (sub, other) = (uid("sub"), uid("other"));
    let mine: Vec<Family> = (0..3)
        .map(|i| family(&uid("mine"), &sub, &uid("j"), now + i, now + LIFE))
        .collect();
    let theirs = family(&uid("theirs"), &other, &uid("j"), now, now + LIFE);
    for f in mine.iter().chain([&theirs]) {
        s.start_family(f).await.unwrap();
    }
    // One already revoked: not counted.
    assert!(s.revoke_family(&mine[0].id).await.unwrap());

    assert_eq!(s.revoke_families(&sub, now + 10).await.unwrap(), 2);
    assert!(s.families(&sub, now + 10).await.unwrap().is_empty());
    for f in &mine {
        assert_eq!(s.family(&f.id, now + 10).await.unwrap(), None);
        assert_eq!(
            s.rotate(&f.id, &f.current_jti, &uid("n"), now + 11, GRACE)
                .await
                .unwrap(),
            Rotation::Invalid
        );
    }
    assert_eq!(
        s.families(&other, now + 10).await.unwrap(),
        vec![theirs.clone()],
        "another subject's sessions are untouched"
    );
    assert_eq!(s.revoke_families(&sub, now + 10).await.unwrap(), 0);
    assert_eq!(s.revoke_families(&uid("nobody"), now).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------
// rotation
// ---------------------------------------------------------------------------

/// Starts a family `j0` created at `now`, expiring at `now + LIFE`.
async fn started(b: &Backend) -> Family {
    let f = family(&uid("fam"), &uid("sub"), &uid("j0"), b.now, b.now + LIFE);
    b.store.start_family(&f).await.unwrap();
    f
}

async fn rotate_moves_current_and_keeps_absolute_expiry(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    let (j1, j2) = (uid("j1"), uid("j2"));
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &j1, now + 10, GRACE)
            .await
            .unwrap(),
        Rotation::Rotated {
            expires_ms: f.expires_ms
        }
    );
    let got = s.family(&f.id, now + 10).await.unwrap().unwrap();
    assert_eq!(got.current_jti, j1);
    assert_eq!(got.previous_jti.as_deref(), Some(f.current_jti.as_str()));
    assert_eq!(got.rotated_at_ms, Some(now + 10));
    assert_eq!(got.last_used_ms, now + 10);
    assert_eq!(got.created_ms, now, "login time kept");
    assert_eq!(got.expires_ms, f.expires_ms, "rotation never extends");

    // Long after the grace window, the current token still rotates.
    let later = now + 10 + 3 * GRACE;
    assert_eq!(
        s.rotate(&f.id, &j1, &j2, later, GRACE).await.unwrap(),
        Rotation::Rotated {
            expires_ms: f.expires_ms
        }
    );
    let got = b
        .second_handle()
        .family(&f.id, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.current_jti, j2);
    assert_eq!(got.previous_jti.as_deref(), Some(j1.as_str()));
    assert_eq!(got.rotated_at_ms, Some(later));
    assert_eq!(got.expires_ms, f.expires_ms);
}

async fn rotate_then_grace_returns_same_successor(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    let j1 = uid("j1");
    assert!(matches!(
        s.rotate(&f.id, &f.current_jti, &j1, now + 10, GRACE)
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));
    let grace = Rotation::Grace {
        successor_jti: j1.clone(),
        expires_ms: f.expires_ms,
    };
    for (i, at) in [now + 10, now + 11, now + 5_000, now + 10 + GRACE - 1]
        .into_iter()
        .enumerate()
    {
        let other = uid(&format!("other{i}"));
        assert_eq!(
            s.rotate(&f.id, &f.current_jti, &other, at, GRACE)
                .await
                .unwrap(),
            grace,
            "replay of the immediate predecessor at +{}ms",
            at - now - 10
        );
    }
    // Grace replays install nothing: the successor is still current, and
    // still rotates.
    let got = s.family(&f.id, now + 5_000).await.unwrap().unwrap();
    assert_eq!(got.current_jti, j1);
    assert_eq!(got.previous_jti.as_deref(), Some(f.current_jti.as_str()));
    assert_eq!(got.rotated_at_ms, Some(now + 10), "grace does not restart");
    assert!(matches!(
        s.rotate(&f.id, &j1, &uid("j2"), now + 6_000, GRACE)
            .await
            .unwrap(),
        Rotation::Rotated { .. }
    ));
}

async fn grace_window_ends_at_grace_ms(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    let j1 = uid("j1");
    s.rotate(&f.id, &f.current_jti, &j1, now + 10, GRACE)
        .await
        .unwrap();
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), now + 9 + GRACE, GRACE)
            .await
            .unwrap(),
        Rotation::Grace {
            successor_jti: j1.clone(),
            expires_ms: f.expires_ms
        },
        "one millisecond before the window ends"
    );
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), now + 10 + GRACE, GRACE)
            .await
            .unwrap(),
        Rotation::Reused,
        "exactly grace_ms after the rotation: the window is over"
    );
}

/// A grace of 0 turns the window off: a replay in the same millisecond as
/// the rotation is already reuse, and so is one stamped earlier (another
/// instance's clock behind this one's).
async fn zero_grace_means_no_window(b: Backend) {
    let (s, now) = (&b.store, b.now);
    for replay_at in [now + 10, now + 9] {
        let f = started(&b).await;
        s.rotate(&f.id, &f.current_jti, &uid("j1"), now + 10, 0)
            .await
            .unwrap();
        assert_eq!(
            s.rotate(&f.id, &f.current_jti, &uid("x"), replay_at, 0)
                .await
                .unwrap(),
            Rotation::Reused,
            "replay at {replay_at}"
        );
    }
}

/// A replay stamped before the rotation (clocks of two instances a little
/// apart) is within the window when it is less than `grace_ms` off.
async fn grace_window_holds_for_a_clock_behind(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    let j1 = uid("j1");
    s.rotate(&f.id, &f.current_jti, &j1, now + GRACE, GRACE)
        .await
        .unwrap();
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), now + 1, GRACE)
            .await
            .unwrap(),
        Rotation::Grace {
            successor_jti: j1,
            expires_ms: f.expires_ms
        },
        "grace_ms - 1 behind"
    );
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), now, GRACE)
            .await
            .unwrap(),
        Rotation::Reused,
        "grace_ms behind"
    );
}

async fn replay_after_grace_is_reuse_and_revokes_family(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    let j1 = uid("j1");
    s.rotate(&f.id, &f.current_jti, &j1, now + 10, GRACE)
        .await
        .unwrap();
    let after = now + 10 + GRACE + 1_000;
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), after, GRACE)
            .await
            .unwrap(),
        Rotation::Reused
    );
    assert_eq!(
        s.family(&f.id, after).await.unwrap(),
        None,
        "family revoked"
    );
    assert_eq!(b.second_handle().family(&f.id, after).await.unwrap(), None);
    assert!(s.families(&f.sub, after).await.unwrap().is_empty());
    assert_eq!(
        s.rotate(&f.id, &j1, &uid("j2"), after + 1, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid,
        "the current token of a reused family no longer rotates"
    );
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("y"), after + 2, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid,
        "a revoked family answers Invalid, whoever asks"
    );
    assert!(
        !s.revoke_family(&f.id).await.unwrap(),
        "already revoked by the reuse"
    );
}

async fn grandparent_replay_inside_grace_is_reuse(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    let (j1, j2) = (uid("j1"), uid("j2"));
    s.rotate(&f.id, &f.current_jti, &j1, now + 10, GRACE)
        .await
        .unwrap();
    s.rotate(&f.id, &j1, &j2, now + 20, GRACE).await.unwrap();
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), now + 30, GRACE)
            .await
            .unwrap(),
        Rotation::Reused,
        "only the immediate predecessor gets grace"
    );
    assert_eq!(s.family(&f.id, now + 30).await.unwrap(), None);
    assert_eq!(
        s.rotate(&f.id, &j2, &uid("j3"), now + 40, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        s.rotate(&f.id, &j1, &uid("j3"), now + 40, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

async fn unknown_jti_on_live_family_is_reuse(b: Backend) {
    let (s, now) = (&b.store, b.now);
    let f = started(&b).await;
    // Before any rotation: there is no predecessor to give grace to.
    assert_eq!(
        s.rotate(&f.id, &uid("forged"), &uid("x"), now + 10, GRACE)
            .await
            .unwrap(),
        Rotation::Reused
    );
    assert_eq!(s.family(&f.id, now + 10).await.unwrap(), None);
    assert_eq!(
        s.rotate(&f.id, &f.current_jti, &uid("x"), now + 20, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid
    );
}

async fn rotate_on_unknown_revoked_or_expired_family_is_invalid(b: Backend) {
    let (s, now) = (&b.store, b.now);
    assert_eq!(
        s.rotate(&uid("unknown"), &uid("j"), &uid("n"), now, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid,
        "unknown family"
    );

    let revoked = started(&b).await;
    assert!(s.revoke_family(&revoked.id).await.unwrap());
    assert_eq!(
        s.rotate(&revoked.id, &revoked.current_jti, &uid("n"), now + 1, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid,
        "revoked family"
    );

    // Expired: at expires_ms exactly, even with the current token, and even
    // after a rotation (in grace).
    let expired = started(&b).await;
    let j1 = uid("j1");
    assert_eq!(
        s.rotate(
            &expired.id,
            &expired.current_jti,
            &j1,
            expired.expires_ms - 1,
            GRACE
        )
        .await
        .unwrap(),
        Rotation::Rotated {
            expires_ms: expired.expires_ms
        },
        "one millisecond before the absolute expiry"
    );
    assert_eq!(
        s.rotate(&expired.id, &j1, &uid("n"), expired.expires_ms, GRACE)
            .await
            .unwrap(),
        Rotation::Invalid,
        "current token at the absolute expiry"
    );
    assert_eq!(
        s.rotate(
            &expired.id,
            &expired.current_jti,
            &uid("n"),
            expired.expires_ms,
            GRACE
        )
        .await
        .unwrap(),
        Rotation::Invalid,
        "predecessor in grace, at the absolute expiry"
    );
    assert_eq!(
        s.rotate(
            &expired.id,
            &j1,
            &uid("n"),
            expired.expires_ms + 60_000,
            GRACE
        )
        .await
        .unwrap(),
        Rotation::Invalid
    );
    assert_eq!(
        s.family(&expired.id, expired.expires_ms).await.unwrap(),
        None
    );
}

// ---------------------------------------------------------------------------
// expiry of entries
// ---------------------------------------------------------------------------

/// Entries vanish once they can no longer matter: through the trait at a
/// later "now" and, behind it, from storage (memory: `purge_expired` then
/// `len()`; SQLite: `purge_expired` then a fresh connection's count; Redis:
/// real TTLs, then no key of the dead entries is left).
async fn expired_entries_are_dropped(b: Backend) {
    let s = &b.store;
    let base = if b.real_ttl() { real_now() } else { b.now };
    let dead_until = base + if b.real_ttl() { SHORT_TTL } else { 1_000 };
    let (dead_jti, live_jti) = (uid("deadjti"), uid("livejti"));
    let (dead_sub, live_sub) = (uid("deadsub"), uid("livesub"));
    let dead_fam = family(&uid("deadfam"), &dead_sub, &uid("j"), base, dead_until);
    let live_fam = family(&uid("livefam"), &live_sub, &uid("j"), base, base + LIFE);

    s.revoke_jti(&dead_jti, dead_until).await.unwrap();
    s.revoke_jti(&live_jti, base + LONG).await.unwrap();
    s.revoke_subject_before(&dead_sub, base, dead_until)
        .await
        .unwrap();
    s.revoke_subject_before(&live_sub, base, base + LONG)
        .await
        .unwrap();
    s.start_family(&dead_fam).await.unwrap();
    s.start_family(&live_fam).await.unwrap();

    let later = if b.real_ttl() {
        sleep_past(dead_until).await;
        real_now()
    } else {
        dead_until
    };
    assert!(!s.is_jti_revoked(&dead_jti, later).await.unwrap());
    assert!(s.is_jti_revoked(&live_jti, later).await.unwrap());
    assert_eq!(s.subject_cutoff(&dead_sub, later).await.unwrap(), None);
    assert_eq!(
        s.subject_cutoff(&live_sub, later).await.unwrap(),
        Some(base)
    );
    assert_eq!(s.family(&dead_fam.id, later).await.unwrap(), None);
    assert!(s.families(&dead_sub, later).await.unwrap().is_empty());
    assert_eq!(
        s.family(&live_fam.id, later).await.unwrap(),
        Some(live_fam.clone())
    );

    s.purge_expired(later).await.unwrap();

    match b.kind {
        Kind::Memory => {
            assert_eq!(
                b.memory.as_ref().unwrap().len().unwrap(),
                (1, 1, 1),
                "only the live jti, cut-off and family are left"
            );
        }
        #[cfg(feature = "sqlite")]
        Kind::Sqlite => {
            let path = b.sqlite.as_ref().unwrap().path().to_owned();
            let conn = rusqlite::Connection::open(path).unwrap();
            let col = |sql: &str| -> Vec<String> {
                let mut stmt = conn.prepare(sql).unwrap();
                stmt.query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap()
            };
            assert_eq!(col("SELECT jti FROM authx_revoked_jti"), vec![live_jti]);
            assert_eq!(col("SELECT sub FROM authx_subject_cutoff"), vec![live_sub]);
            assert_eq!(col("SELECT id FROM authx_family"), vec![live_fam.id]);
        }
        #[cfg(feature = "redis")]
        Kind::Redis => {
            let keys = b.redis_keys().await;
            for dead in [&dead_jti, &dead_sub, &dead_fam.id] {
                assert!(
                    !keys.iter().any(|k| k.contains(dead.as_str())),
                    "a key of the expired {dead} is left: {keys:?}"
                );
            }
            for live in [&live_jti, &live_sub, &live_fam.id] {
                assert!(
                    keys.iter().any(|k| k.contains(live.as_str())),
                    "no key for the live {live}: {keys:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// concurrency
// ---------------------------------------------------------------------------

/// `per_handle` tasks on each handle rotate the same presented `jti` at
/// once, each with its own new `jti`: exactly one `Rotated`, every other
/// one `Grace` naming that winner's `jti`, no `Reused`.
async fn rotation_storm(b: &Backend, handles: Vec<Arc<dyn TokenStore>>, per_handle: usize) {
    let f = started(b).await;
    let total = handles.len() * per_handle;
    let barrier = Arc::new(tokio::sync::Barrier::new(total));
    let mut tasks = Vec::with_capacity(total);
    for (h, store) in handles.iter().enumerate() {
        for i in 0..per_handle {
            let (store, barrier, f) = (store.clone(), barrier.clone(), f.clone());
            let new = format!("new-{h}-{i}-{}", random_id());
            let now = b.now + 10;
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let out = store
                    .rotate(&f.id, &f.current_jti, &new, now, GRACE)
                    .await
                    .unwrap();
                (new, out)
            }));
        }
    }
    let mut winners = Vec::new();
    let mut successors = Vec::new();
    let mut others = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (new, Rotation::Rotated { expires_ms }) => {
                assert_eq!(expires_ms, f.expires_ms);
                winners.push(new);
            }
            (
                _,
                Rotation::Grace {
                    successor_jti,
                    expires_ms,
                },
            ) => {
                assert_eq!(expires_ms, f.expires_ms);
                successors.push(successor_jti);
            }
            (_, other) => others.push(other),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one Rotated: {winners:?}");
    assert!(others.is_empty(), "no Reused or Invalid: {others:?}");
    assert_eq!(successors.len(), total - 1);
    let winner = &winners[0];
    assert!(
        successors.iter().all(|s| s == winner),
        "every Grace names the one successor {winner}"
    );
    let unique: HashSet<&String> = successors.iter().collect();
    assert!(unique.len() <= 1);
    let got = b.store.family(&f.id, b.now + 10).await.unwrap().unwrap();
    assert_eq!(&got.current_jti, winner);
    assert_eq!(got.previous_jti.as_deref(), Some(f.current_jti.as_str()));
}

/// Rotations requested together (the stores that batch them commit them
/// in one transaction or script call) get the outcomes they would get one
/// at a time, in order: a rotation, a replay within the grace window, a
/// reuse, and an unknown family.
async fn rotations_in_one_batch_each_get_their_own_outcome(b: Backend) {
    let (s, now) = (&b.store, b.now + 10);
    let (f1, f2) = (started(&b).await, started(&b).await);
    let (r1, r1_again, r2_reused, unknown) = tokio::join!(
        s.rotate(&f1.id, &f1.current_jti, "f1-new", now, GRACE),
        s.rotate(&f1.id, &f1.current_jti, "f1-other", now, GRACE),
        s.rotate(&f2.id, "never-issued", "f2-new", now, GRACE),
        s.rotate("no-such-family", "j", "k", now, GRACE),
    );
    assert!(matches!(r1.unwrap(), Rotation::Rotated { .. }));
    match r1_again.unwrap() {
        Rotation::Grace { successor_jti, .. } => assert_eq!(successor_jti, "f1-new"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r2_reused.unwrap(), Rotation::Reused);
    assert_eq!(unknown.unwrap(), Rotation::Invalid);
    assert!(
        s.family(&f2.id, now).await.unwrap().is_none(),
        "reuse ends the family"
    );
}

/// A rotation whose request is dropped after its first poll (a client
/// that went away) does not leave the rotations that joined its batch
/// waiting.
async fn a_cancelled_rotation_does_not_strand_the_others(b: Backend) {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let (s, now) = (&b.store, b.now + 10);
    let (f1, f2) = (started(&b).await, started(&b).await);
    let mut cx = Context::from_waker(Waker::noop());
    let mut first = Box::pin(s.rotate(&f1.id, &f1.current_jti, "f1-new", now, GRACE));
    let _ = first.as_mut().poll(&mut cx);
    let mut second = Box::pin(s.rotate(&f2.id, &f2.current_jti, "f2-new", now, GRACE));
    let out = match second.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => {
            drop(first);
            tokio::time::timeout(Duration::from_secs(5), second)
                .await
                .expect("a rotation was stranded by a cancelled one")
        }
    };
    assert!(matches!(out.unwrap(), Rotation::Rotated { .. }));
}

async fn concurrent_rotation_has_one_winner(b: Backend) {
    let handles = vec![b.store.clone()];
    rotation_storm(&b, handles, 50).await;
}

async fn concurrent_rotation_across_two_handles_has_one_winner(b: Backend) {
    let handles = vec![b.store.clone(), b.second_handle()];
    rotation_storm(&b, handles, 25).await;
}
