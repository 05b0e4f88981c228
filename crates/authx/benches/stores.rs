//! Token store costs per backend: a refresh rotation, and the revocation
//! check of an access token (`is_jti_revoked`). Redis runs when
//! `REDIS_URL` is set. Run with
//! `REDIS_URL=redis://127.0.0.1:6379 cargo bench -p authx --all-features --bench stores`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use authx::clock::{Clock, SystemClock};
use authx::random_id;
use authx::store::{Family, MemoryStore, RedisStore, SqliteStore, TokenStore};
use criterion::{Criterion, criterion_group, criterion_main};

fn backends(dir: &std::path::Path) -> Vec<(&'static str, Arc<dyn TokenStore>)> {
    let mut out: Vec<(&'static str, Arc<dyn TokenStore>)> = vec![
        ("memory", Arc::new(MemoryStore::new())),
        (
            "sqlite",
            Arc::new(SqliteStore::open(dir.join("bench.db")).unwrap()),
        ),
    ];
    if let Ok(url) = std::env::var("REDIS_URL") {
        let prefix = format!("authx-bench:{}:", random_id());
        out.push((
            "redis",
            Arc::new(RedisStore::connect(&url, &prefix).unwrap()),
        ));
    }
    out
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores = {
        let _runtime = rt.enter();
        backends(dir.path())
    };
    for (name, store) in stores {
        let now = SystemClock.now_millis();
        let family = Family::new(&random_id(), "user1", "jti-0", now, now + 600_000);
        rt.block_on(store.start_family(&family)).unwrap();
        rt.block_on(store.revoke_jti("revoked", now + 600_000))
            .unwrap();
        let counter = AtomicU64::new(0);

        let mut g = c.benchmark_group(format!("store_{name}"));
        g.bench_function("rotate", |b| {
            b.iter(|| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (cur, next) = (format!("jti-{n}"), format!("jti-{}", n + 1));
                let now = SystemClock.now_millis();
                rt.block_on(store.rotate(&family.id, &cur, &next, now, 10_000))
                    .unwrap()
            })
        });
        g.bench_function("is_jti_revoked", |b| {
            b.iter(|| {
                rt.block_on(store.is_jti_revoked("not-revoked", SystemClock.now_millis()))
                    .unwrap()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
