//! The SQLite store (feature `sqlite`): embedded, persistent, WAL mode.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::batch::{self, RotationBatch};
use super::{Family, Rotation, TokenStore};
use crate::error::{Error, ErrorKind, Result};

/// The columns `family_row` reads, as a literal for `concat!` (the SQL
/// text is then built once, at compile time, not on every call).
macro_rules! family_columns {
    () => {
        "id, sub, current_jti, previous_jti, rotated_at_ms, user_agent, ip, created_ms, last_used_ms, expires_ms"
    };
}

/// Schema version kept in `PRAGMA user_version`; each step migrates from
/// the one before.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE IF NOT EXISTS authx_revoked_jti (
         jti TEXT PRIMARY KEY,
         until_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE IF NOT EXISTS authx_subject_cutoff (
         sub TEXT PRIMARY KEY,
         at_ms INTEGER NOT NULL,
         until_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE IF NOT EXISTS authx_family (
         id TEXT PRIMARY KEY,
         sub TEXT NOT NULL,
         current_jti TEXT NOT NULL,
         previous_jti TEXT,
         rotated_at_ms INTEGER,
         user_agent TEXT,
         ip TEXT,
         created_ms INTEGER NOT NULL,
         last_used_ms INTEGER NOT NULL,
         expires_ms INTEGER NOT NULL,
         revoked INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX IF NOT EXISTS authx_family_sub ON authx_family (sub);
     CREATE INDEX IF NOT EXISTS authx_family_expires ON authx_family (expires_ms);",
];

/// Purge expired rows once every this many writes.
const PURGE_EVERY: u64 = 512;

/// A [`TokenStore`] in a SQLite file. Rotation runs in one `IMMEDIATE`
/// transaction, so it is atomic across every handle and process using the
/// file; rotations requested at the same moment (by requests that are
/// ready together) are committed in one transaction, each seeing the ones
/// before it (group commit). The schema is created and migrated on open. A failed connection
/// (file gone read-only, disk error) is dropped and reopened on the next
/// call, so the store recovers by itself.
///
/// ```
/// use authx::store::{SqliteStore, TokenStore};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let dir = std::env::temp_dir().join(format!("authx-doc-{}", authx::random_id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = SqliteStore::open(dir.join("tokens.db"))?;
/// store.revoke_jti("j1", i64::MAX).await?;
/// assert!(store.is_jti_revoked("j1", 0).await?);
/// # Ok::<(), authx::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    path: Arc<PathBuf>,
    /// Writes go through one connection, reads through another: WAL lets
    /// them run at once, so revocation checks do not queue behind rotations.
    conn: Arc<Mutex<Option<(Connection, u64)>>>,
    reader: Arc<Mutex<Option<(Connection, u64)>>>,
    /// Bumped on every failure; a connection older than it is reopened, so
    /// a failure seen by one connection retires both.
    generation: Arc<std::sync::atomic::AtomicU64>,
    writes: Arc<std::sync::atomic::AtomicU64>,
    /// The latest "now" a caller passed in: housekeeping follows the
    /// caller's clock, never the wall clock.
    last_now: Arc<std::sync::atomic::AtomicI64>,
    /// Rotations waiting for the batch they will be committed in (see
    /// [`SqliteStore::commit_batch`]).
    pending: Arc<RotationBatch>,
}

/// Checks and rotates one family, inside the caller's transaction (S8).
fn rotate_in(
    tx: &Connection,
    id: &str,
    presented: &str,
    new: &str,
    now_ms: i64,
    grace_ms: i64,
) -> rusqlite::Result<Rotation> {
    let sql = concat!(
        "SELECT ",
        family_columns!(),
        " FROM authx_family WHERE id = ?1 AND revoked = 0"
    );
    let Some(mut family) = row(tx, sql, [id], family_row).optional()? else {
        return Ok(Rotation::Invalid);
    };
    let outcome = family.rotate(presented, new, now_ms, grace_ms);
    match &outcome {
        Rotation::Rotated { .. } | Rotation::Grace { .. } => {
            exec(
                tx,
                "UPDATE authx_family SET current_jti = ?2, previous_jti = ?3, rotated_at_ms = ?4,
                                         last_used_ms = ?5 WHERE id = ?1",
                params![
                    id,
                    family.current_jti,
                    family.previous_jti,
                    family.rotated_at_ms,
                    family.last_used_ms
                ],
            )?;
        }
        Rotation::Reused => {
            exec(
                tx,
                "UPDATE authx_family SET revoked = 1 WHERE id = ?1",
                [id],
            )?;
        }
        Rotation::Invalid => {}
    }
    Ok(outcome)
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    ErrorKind::StoreUnavailable(format!("sqlite: {e}").into()).into()
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.set_prepared_statement_cache_capacity(32);
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let target = i64::try_from(i + 1).unwrap_or(i64::MAX);
        if version < target {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", target)?;
        }
    }
    tx.commit()?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode, and
    /// migrates its schema.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the file cannot be opened or
    /// migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = connect(&path).map_err(unavailable)?;
        let reader = connect(&path).map_err(unavailable)?;
        Ok(Self {
            path: Arc::new(path),
            conn: Arc::new(Mutex::new(Some((conn, 0)))),
            reader: Arc::new(Mutex::new(Some((reader, 0)))),
            generation: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            writes: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            last_now: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
            pending: Arc::default(),
        })
    }

    /// Another handle on the same file with its own connection, as a second
    /// process would have.
    ///
    /// # Errors
    /// [`ErrorKind::StoreUnavailable`] when the file cannot be opened.
    pub fn reopen(&self) -> Result<Self> {
        Self::open(self.path.as_ref())
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits every pending rotation in one `IMMEDIATE` transaction, one
    /// after the other, each seeing the ones before it: the same outcomes
    /// as a transaction each, for one set of locks, one WAL append and one
    /// commit. When the batch fails, every rotation in it fails (none is
    /// committed) and the connection is retired, as for any failure.
    fn commit_batch(&self) {
        let jobs = self.pending.take();
        if jobs.is_empty() {
            return;
        }
        let outcome = self.run_now(true, |c| {
            immediate(c, |tx| {
                jobs.iter()
                    .map(|j| {
                        rotate_in(tx, &j.family_id, &j.presented, &j.new, j.now_ms, j.grace_ms)
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
        });
        batch::reply_all(jobs, outcome.map_err(|e| e.to_string()), |m| unavailable(m));
    }

    fn saw(&self, now_ms: i64) {
        self.last_now
            .fetch_max(now_ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `f` on this handle's connection, on the calling thread: the
    /// statements take microseconds and do no network I/O, so a hop to a
    /// blocking thread would cost more than it saves. Connections from
    /// other handles or processes wait on SQLite's lock (`busy_timeout`).
    async fn run<T, F>(&self, write: bool, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T>,
    {
        self.run_now(write, f)
    }

    /// [`run`](Self::run), for the batch commit.
    fn run_now<T, F>(&self, write: bool, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T>,
    {
        let purge_at = self.last_now.load(std::sync::atomic::Ordering::Relaxed);
        let purge = write
            && purge_at != i64::MIN
            && self
                .writes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                % PURGE_EVERY
                == PURGE_EVERY - 1;
        let slot = if write { &self.conn } else { &self.reader };
        let mut guard = slot
            .lock()
            .map_err(|_| unavailable("connection lock poisoned"))?;
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        if guard.as_ref().is_none_or(|(_, g)| *g < generation) {
            *guard = None;
            *guard = Some((connect(&self.path).map_err(unavailable)?, generation));
        }
        let Some((c, _)) = guard.as_mut() else {
            return Err(unavailable("no connection"));
        };
        match f(c) {
            Ok(v) => {
                if purge {
                    // Housekeeping failures are not the caller's error.
                    let _ = purge_rows(c, purge_at);
                }
                Ok(v)
            }
            Err(e) => {
                // Retire every connection: the next call reconnects, so the
                // store recovers once the file is usable again.
                *guard = None;
                self.generation
                    .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                Err(unavailable(e))
            }
        }
    }
}

/// Runs a statement through the connection's statement cache: parsing SQL
/// costs more than running these statements.
fn exec(c: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

/// Queries one row through the statement cache.
fn row<T>(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(params, f)
}

fn purge_rows(c: &Connection, now_ms: i64) -> rusqlite::Result<()> {
    exec(
        c,
        "DELETE FROM authx_revoked_jti WHERE until_ms <= ?1",
        [now_ms],
    )?;
    exec(
        c,
        "DELETE FROM authx_subject_cutoff WHERE until_ms <= ?1",
        [now_ms],
    )?;
    exec(
        c,
        "DELETE FROM authx_family WHERE expires_ms <= ?1",
        [now_ms],
    )?;
    Ok(())
}

fn family_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Family> {
    Ok(Family {
        id: r.get(0)?,
        sub: r.get(1)?,
        current_jti: r.get(2)?,
        previous_jti: r.get(3)?,
        rotated_at_ms: r.get(4)?,
        user_agent: r.get(5)?,
        ip: r.get(6)?,
        created_ms: r.get(7)?,
        last_used_ms: r.get(8)?,
        expires_ms: r.get(9)?,
    })
}

/// Runs `f` in an `IMMEDIATE` transaction, with `BEGIN` and `COMMIT` from
/// the statement cache: rusqlite's `Transaction` parses both on every
/// call, which cost more than the rotation's own statements. Rolls back
/// when `f` or the commit fails.
fn immediate<T>(
    c: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    exec(c, "BEGIN IMMEDIATE", [])?;
    let outcome = f(c).and_then(|v| exec(c, "COMMIT", []).map(|_| v));
    if outcome.is_err() && !c.is_autocommit() {
        let _ = c.execute_batch("ROLLBACK");
    }
    outcome
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn revoke_jti(&self, jti: &str, until_ms: i64) -> Result<()> {
        let jti = jti.to_owned();
        self.run(true, move |c| {
            exec(
                c,
                "INSERT INTO authx_revoked_jti (jti, until_ms) VALUES (?1, ?2)
                 ON CONFLICT (jti) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
                params![jti, until_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn is_jti_revoked(&self, jti: &str, now_ms: i64) -> Result<bool> {
        self.saw(now_ms);
        let jti = jti.to_owned();
        self.run(false, move |c| {
            row(
                c,
                "SELECT 1 FROM authx_revoked_jti WHERE jti = ?1 AND until_ms > ?2",
                params![jti, now_ms],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        })
        .await
    }

    async fn revoke_subject_before(&self, sub: &str, at_ms: i64, until_ms: i64) -> Result<()> {
        let sub = sub.to_owned();
        self.run(true, move |c| {
            exec(
                c,
                "INSERT INTO authx_subject_cutoff (sub, at_ms, until_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sub) DO UPDATE SET at_ms = max(at_ms, excluded.at_ms),
                                                 until_ms = max(until_ms, excluded.until_ms)",
                params![sub, at_ms, until_ms],
            )
            .map(drop)
        })
        .await
    }

    async fn subject_cutoff(&self, sub: &str, now_ms: i64) -> Result<Option<i64>> {
        self.saw(now_ms);
        let sub = sub.to_owned();
        self.run(false, move |c| {
            row(
                c,
                "SELECT at_ms FROM authx_subject_cutoff WHERE sub = ?1 AND until_ms > ?2",
                params![sub, now_ms],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn start_family(&self, family: &Family) -> Result<()> {
        let f = family.clone();
        self.run(true, move |c| {
            exec(c,
                "INSERT INTO authx_family (id, sub, current_jti, previous_jti, rotated_at_ms, user_agent, ip,
                                           created_ms, last_used_ms, expires_ms, revoked)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0)",
                params![
                    f.id,
                    f.sub,
                    f.current_jti,
                    f.previous_jti,
                    f.rotated_at_ms,
                    f.user_agent,
                    f.ip,
                    f.created_ms,
                    f.last_used_ms,
                    f.expires_ms
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn rotate(
        &self,
        family_id: &str,
        presented_jti: &str,
        new_jti: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Result<Rotation> {
        self.saw(now_ms);
        // Group commit (see `store::batch`).
        batch::rotate(
            &self.pending,
            (family_id, presented_jti, new_jti, now_ms, grace_ms),
            || {
                let store = self.clone();
                async move { store.commit_batch() }
            },
            |m| unavailable(m),
        )
        .await
    }

    async fn family(&self, family_id: &str, now_ms: i64) -> Result<Option<Family>> {
        self.saw(now_ms);
        let id = family_id.to_owned();
        self.run(false, move |c| {
            let sql = concat!(
                "SELECT ",
                family_columns!(),
                " FROM authx_family WHERE id = ?1 AND revoked = 0 AND expires_ms > ?2"
            );
            row(c, sql, params![id, now_ms], family_row).optional()
        })
        .await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<bool> {
        let id = family_id.to_owned();
        self.run(true, move |c| {
            exec(
                c,
                "UPDATE authx_family SET revoked = 1 WHERE id = ?1 AND revoked = 0",
                [&id],
            )
            .map(|n| n > 0)
        })
        .await
    }

    async fn families(&self, sub: &str, now_ms: i64) -> Result<Vec<Family>> {
        self.saw(now_ms);
        let sub = sub.to_owned();
        self.run(false, move |c| {
            let sql = concat!(
                "SELECT ",
                family_columns!(),
                " FROM authx_family WHERE sub = ?1 AND revoked = 0 AND expires_ms > ?2
                 ORDER BY created_ms DESC, id"
            );
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(params![sub, now_ms], family_row)?;
            rows.collect()
        })
        .await
    }

    async fn revoke_families(&self, sub: &str, now_ms: i64) -> Result<usize> {
        self.saw(now_ms);
        let sub = sub.to_owned();
        self.run(true, move |c| {
            exec(c,
                "UPDATE authx_family SET revoked = 1 WHERE sub = ?1 AND revoked = 0 AND expires_ms > ?2",
                params![sub, now_ms],
            )
        })
        .await
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<()> {
        self.run(true, move |c| purge_rows(c, now_ms)).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    async fn store_with(families: &[&str]) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("tokens.db")).unwrap();
        for id in families {
            let family = Family::new(id, "u1", &format!("{id}-j0"), NOW, NOW + 60_000);
            store.start_family(&family).await.unwrap();
        }
        (dir, store)
    }

    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Rotations that are ready together are committed together, each
    /// with its own outcome, in the order they arrived.
    #[tokio::test]
    async fn rotations_arriving_together_each_get_their_outcome() {
        let (_dir, store) = store_with(&["a", "b"]).await;
        let (ra, rb, ra2, rb_reuse) = tokio::join!(
            store.rotate("a", "a-j0", "a-j1", NOW, 10_000),
            store.rotate("b", "b-j0", "b-j1", NOW, 10_000),
            store.rotate("a", "a-j0", "a-j2", NOW, 10_000),
            store.rotate("b", "not-b", "b-j9", NOW, 10_000),
        );
        assert!(matches!(ra.unwrap(), Rotation::Rotated { .. }));
        assert!(matches!(rb.unwrap(), Rotation::Rotated { .. }));
        // The same token again within the grace window: the successor.
        match ra2.unwrap() {
            Rotation::Grace { successor_jti, .. } => assert_eq!(successor_jti, "a-j1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(rb_reuse.unwrap(), Rotation::Reused);
        assert_eq!(
            store
                .rotate("b", "b-j1", "b-j2", NOW, 10_000)
                .await
                .unwrap(),
            Rotation::Invalid,
            "reuse revoked the family"
        );
    }

    /// A request dropped after it started a batch does not strand the
    /// rotations that joined it: the batch is committed by a task of its
    /// own, the dropped request's rotation included.
    #[tokio::test]
    async fn a_cancelled_leader_commits_its_batch() {
        let (_dir, store) = store_with(&["a", "b"]).await;
        let mut leader = Box::pin(store.rotate("a", "a-j0", "a-j1", NOW, 10_000));
        assert!(poll_once(leader.as_mut()).is_pending(), "the leader yields");
        let mut follower = pin!(store.rotate("b", "b-j0", "b-j1", NOW, 10_000));
        assert!(
            poll_once(follower.as_mut()).is_pending(),
            "the follower waits"
        );
        drop(leader);
        let joined = tokio::time::timeout(std::time::Duration::from_secs(5), follower)
            .await
            .expect("the follower was stranded");
        assert!(matches!(joined.unwrap(), Rotation::Rotated { .. }));
        // The cancelled leader's rotation was committed too.
        let a = store.family("a", NOW).await.unwrap().unwrap();
        assert_eq!(a.current_jti, "a-j1");
    }
}
