//! Two server processes sharing one Redis: sessions, revocations and
//! rotation are shared. Runs when `REDIS_URL` is set; without it the tests
//! print a note and pass, unless `AUTHX_REQUIRE_REDIS=1` (then they fail).

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::{Resp, Server, Spawn, Tokens, claims, jti};

/// The Redis URL, or `None` (after a note) when the tests should be skipped.
fn redis_url() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("AUTHX_REQUIRE_REDIS").as_deref() != Ok("1"),
                "AUTHX_REQUIRE_REDIS=1 but REDIS_URL is not set"
            );
            eprintln!("note: REDIS_URL is not set; skipping this Redis test");
            None
        }
    }
}

/// A key prefix no other test (or run) uses.
fn unique_prefix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "authx-test:{}:{nanos}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Two servers on one Redis (one prefix, one secret), each with its own
/// SQLite user database (both create the demo users).
struct Pair {
    _dirs: [tempfile::TempDir; 2],
    a: Server,
    b: Server,
}

fn pair(url: &str, extra: &[&str]) -> Pair {
    let prefix = unique_prefix();
    let da = tempfile::tempdir().expect("tempdir");
    let db = tempfile::tempdir().expect("tempdir");
    let spawn = |dir: &std::path::Path| {
        Spawn::new(dir)
            .env("REDIS_URL", url)
            .args(&["--redis-prefix", &prefix])
            // Short sessions: the test's keys expire from Redis soon.
            .args(&["--refresh-ttl", "600"])
            .args(extra)
            .start()
    };
    let a = spawn(da.path());
    let b = spawn(db.path());
    for s in [&a, &b] {
        support::assert_mentions(&s.stderr(), "token store: Redis");
    }
    Pair {
        _dirs: [da, db],
        a,
        b,
    }
}

async fn reuse_detections(s: &Server) -> u64 {
    let m = s.get("/metrics").await.text();
    m.lines()
        .find_map(|l| l.strip_prefix("authx_refresh_reuse_detections_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn both_instances_are_ready() {
    let Some(url) = redis_url() else { return };
    let p = pair(&url, &[]);
    for s in [&p.a, &p.b] {
        let res = s.get("/readyz").await;
        res.expect(200);
        assert_eq!(res.json()["status"], "ready");
    }
}

#[tokio::test]
async fn login_on_one_instance_refresh_on_the_other() {
    let Some(url) = redis_url() else { return };
    let p = pair(&url, &[]);
    let t = p.a.login("user1", "password1").await;
    // The HS256 secret is shared: B accepts A's access token.
    p.b.protected(&t.access).await.expect(200);
    let t1 = p.b.refresh(&t).await;
    assert_eq!(claims(&t1.refresh)["sid"], claims(&t.refresh)["sid"]);
    let t2 = p.a.refresh(&t1).await;
    p.b.protected(&t2.access).await.expect(200);
    // The session list is shared.
    let list = p.b.sessions(&t2.access).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["current"], true);
}

#[tokio::test]
async fn logout_on_one_instance_is_seen_by_the_other() {
    let Some(url) = redis_url() else { return };
    let p = pair(&url, &["--revoke-access-tokens", "true"]);
    let t = p.a.login("user1", "password1").await;
    let t1 = p.b.refresh(&t).await;
    p.a.logout(&t1, true).await.expect(200);
    p.b.refresh_with(&t1).await.detail(401);
    p.b.protected(&t1.access).await.detail(401);
    p.a.refresh_with(&t1).await.detail(401);

    // Ending a session on B cuts it on A; log out everywhere too.
    let x = p.a.login("user2", "password2").await;
    let y = p.b.login("user2", "password2").await;
    let sid = claims(&x.access)["sid"].as_str().expect("sid").to_owned();
    p.b.delete_auth(&format!("/sessions/{sid}"), &y.access)
        .await
        .expect(204);
    p.a.refresh_with(&x).await.detail(401);
    p.a.protected(&x.access).await.detail(401);
    let z = p.a.login("user2", "password2").await;
    p.b.post_auth("/logout-all", &z.access).await.expect(200);
    p.a.refresh_with(&z).await.detail(401);
    p.a.refresh_with(&y).await.detail(401);
    p.a.protected(&y.access).await.detail(401);
}

#[tokio::test]
async fn reuse_detected_on_one_instance_revokes_everywhere() {
    let Some(url) = redis_url() else { return };
    let p = pair(&url, &["--refresh-grace-ms", "0"]);
    let t0 = p.a.login("user1", "password1").await;
    let t1 = p.a.refresh(&t0).await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let res = p.b.refresh_with(&t0).await;
    assert_eq!(
        res.detail(401),
        "Refresh token reuse detected; session revoked"
    );
    p.a.refresh_with(&t1).await.detail(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_on_both_instances_converge() {
    let Some(url) = redis_url() else { return };
    let p = pair(&url, &[]);
    let t0 = p.a.login("user1", "password1").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let server = if i % 2 == 0 { &p.a } else { &p.b };
        let client = server.client.clone();
        let url = server.url("/refresh");
        let t0 = t0.clone();
        tasks.push(tokio::spawn(async move {
            let res = support::refresh_request(&client, url, &t0.refresh, &t0.csrf)
                .send()
                .await
                .expect("request");
            Resp::from(res).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        let res = task.await.expect("task");
        assert_eq!(res.status.as_u16(), 200, "{}", res.text());
        results.push(Tokens::from_resp(&res));
    }
    let first = jti(&results[0].refresh);
    for t in &results {
        assert_eq!(jti(&t.refresh), first, "one successor jti for all 20");
        assert_eq!(claims(&t.refresh)["sid"], claims(&t0.refresh)["sid"]);
    }
    assert_eq!(reuse_detections(&p.a).await, 0);
    assert_eq!(reuse_detections(&p.b).await, 0);
    // The session goes on with the successor, on either instance.
    let next = p.b.refresh(&results[0]).await;
    p.a.protected(&next.access).await.expect(200);
}

/// No Redis server needed: an unreachable store fails closed (503), and
/// the process stays alive.
#[tokio::test]
async fn an_unreachable_redis_fails_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Port 1 on localhost: nothing listens there.
    let s = Spawn::new(dir.path())
        .env("REDIS_URL", "redis://127.0.0.1:1/")
        .start();
    s.get("/healthz").await.expect(200);
    let res = s.get("/readyz").await;
    assert_eq!(res.detail(503), "Token store unavailable");
    let res = s.login_raw("user1", "password1").await;
    assert_eq!(res.detail(503), "Token store unavailable");
    assert!(res.cookies().is_empty(), "no session, no cookies");
    s.login_raw("user1", "wrong").await.detail(401);
    s.get("/healthz").await.expect(200);
    // The outage is in the log (a warning: written at once), once a second
    // at most however many requests fail.
    let warnings = || {
        s.stderr()
            .lines()
            .filter(|l| l.contains("event=\"store_unavailable\"") && l.contains("WARN"))
            .count()
    };
    let logged_by = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while warnings() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        warnings()
    };
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = warnings();
    assert!(before >= 1, "{}", s.stderr());
    let started = std::time::Instant::now();
    for _ in 0..5 {
        s.login_raw("user1", "password1").await.detail(503);
    }
    let quick = started.elapsed() < Duration::from_millis(900);
    // The first of the five logs (a second has passed); the others not.
    assert_eq!(logged_by(before + 1), before + 1, "{}", s.stderr());
    tokio::time::sleep(Duration::from_millis(200)).await;
    if quick {
        assert_eq!(warnings(), before + 1, "{}", s.stderr());
    }
}
