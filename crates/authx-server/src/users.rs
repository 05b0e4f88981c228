//! Users in SQLite, passwords hashed with argon2id.

use std::path::Path;
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::{Connection, OptionalExtension, params};

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct User {
    pub(crate) username: String,
    pub(crate) email: Option<String>,
}

#[derive(Debug)]
pub(crate) struct UserError(pub(crate) String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

fn db_err(e: impl std::fmt::Display) -> UserError {
    UserError(format!("user database: {e}"))
}

/// The user table, and the hasher.
#[derive(Clone)]
pub(crate) struct Users {
    conn: Arc<Mutex<Connection>>,
    argon: Arc<Argon2<'static>>,
    /// A hash of nothing anyone knows: verified against when the user does
    /// not exist, so an unknown user costs as much as a wrong password.
    decoy: Arc<String>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    pub(crate) fn open(path: &Path, memory_kib: u32, iterations: u32) -> Result<Self, UserError> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS users (
                 username TEXT PRIMARY KEY,
                 email TEXT,
                 password_hash TEXT NOT NULL,
                 created_ms INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(db_err)?;
        let params = Params::new(memory_kib, iterations, 1, None)
            .map_err(|e| UserError(format!("argon2: {e}")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy = argon
            .hash_password(authx::random_id().as_bytes())
            .map_err(|e| UserError(format!("argon2: {e}")))?
            .to_string();
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            argon: Arc::new(argon),
            decoy: Arc::new(decoy),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, UserError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| UserError("user database lock poisoned".into()))?;
        f(&conn).map_err(db_err)
    }

    fn hash(&self, password: &str) -> Result<String, UserError> {
        Ok(self
            .argon
            .hash_password(password.as_bytes())
            .map_err(|e| UserError(format!("argon2: {e}")))?
            .to_string())
    }

    pub(crate) fn add(
        &self,
        username: &str,
        email: Option<&str>,
        password: &str,
    ) -> Result<(), UserError> {
        validate_username(username)?;
        validate_password(password)?;
        let hash = self.hash(password)?;
        let now = now_ms();
        let inserted = self.with(|c| {
            c.execute(
                "INSERT INTO users (username, email, password_hash, created_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (username) DO NOTHING",
                params![username, email, hash, now],
            )
        })?;
        if inserted == 0 {
            return Err(UserError(format!("user {username:?} already exists")));
        }
        Ok(())
    }

    pub(crate) fn remove(&self, username: &str) -> Result<bool, UserError> {
        self.with(|c| {
            c.execute("DELETE FROM users WHERE username = ?1", [username])
                .map(|n| n > 0)
        })
    }

    pub(crate) fn set_password(&self, username: &str, password: &str) -> Result<bool, UserError> {
        validate_password(password)?;
        let hash = self.hash(password)?;
        self.with(|c| {
            c.execute(
                "UPDATE users SET password_hash = ?2 WHERE username = ?1",
                params![username, hash],
            )
            .map(|n| n > 0)
        })
    }

    pub(crate) fn list(&self) -> Result<Vec<User>, UserError> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT username, email FROM users ORDER BY username")?;
            let rows = stmt.query_map([], |r| {
                Ok(User {
                    username: r.get(0)?,
                    email: r.get(1)?,
                })
            })?;
            rows.collect()
        })
    }

    pub(crate) fn count(&self) -> Result<i64, UserError> {
        self.with(|c| c.query_row("SELECT count(*) FROM users", [], |r| r.get(0)))
    }

    pub(crate) fn get(&self, username: &str) -> Result<Option<User>, UserError> {
        self.with(|c| {
            c.query_row(
                "SELECT username, email FROM users WHERE username = ?1",
                [username],
                |r| {
                    Ok(User {
                        username: r.get(0)?,
                        email: r.get(1)?,
                    })
                },
            )
            .optional()
        })
    }

    /// The user, when the password is right. Unknown users are checked
    /// against a decoy hash, so both failures take the same time.
    pub(crate) fn verify(&self, username: &str, password: &str) -> Result<Option<User>, UserError> {
        let row: Option<(Option<String>, String)> = self.with(|c| {
            c.query_row(
                "SELECT email, password_hash FROM users WHERE username = ?1",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        let (email, hash, known) = match row {
            Some((email, hash)) => (email, hash, true),
            None => (None, self.decoy.as_ref().clone(), false),
        };
        let parsed =
            PasswordHash::new(&hash).map_err(|e| UserError(format!("stored hash: {e}")))?;
        let ok = self
            .argon
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        let current = !known || self.is_current(&parsed);
        if !ok && !current {
            make_up_cost(self.argon.params(), &parsed);
        }
        if !(ok && known) {
            return Ok(None);
        }
        if !current {
            // Hashed with other settings (an older or weaker cost): the
            // password is at hand now, so store it hashed as configured.
            match self.rehash(username, &hash, password) {
                Ok(()) => tracing::info!(
                    event = "password_rehashed",
                    user = %username,
                    "password hash upgraded to the configured argon2 settings"
                ),
                Err(e) => tracing::warn!(
                    event = "password_rehash_failed",
                    user = %username,
                    error = %e,
                    "could not upgrade the password hash; the login goes on"
                ),
            }
        }
        Ok(Some(User {
            username: username.to_owned(),
            email,
        }))
    }

    /// Whether `hash` was made with the configured algorithm and at least
    /// the configured costs. A stronger hash is kept: lowering the cost
    /// (for a load test, say) never weakens the hashes already stored.
    fn is_current(&self, hash: &PasswordHash) -> bool {
        let want = self.argon.params();
        hash.algorithm.as_str() == "argon2id"
            && hash.version == Some(Version::V0x13.into())
            && Params::try_from(hash).is_ok_and(|p| {
                p.m_cost() >= want.m_cost()
                    && p.t_cost() >= want.t_cost()
                    && p.p_cost() >= want.p_cost()
            })
    }

    /// Replaces `old` (the hash `password` was just checked against) with a
    /// hash made with the configured settings, unless the password was
    /// changed in the meantime.
    fn rehash(&self, username: &str, old: &str, password: &str) -> Result<(), UserError> {
        let hash = self.hash(password)?;
        self.with(|c| {
            c.execute(
                "UPDATE users SET password_hash = ?3 WHERE username = ?1 AND password_hash = ?2",
                params![username, old, hash],
            )
            .map(drop)
        })
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, UserError> {
        self.with(|c| {
            c.query_row("SELECT value FROM server_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), UserError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(drop)
        })
    }
}

/// Runs the argon2 work that checking `hash` fell short of the configured
/// settings (`want`) by, and throws the result away. A hash made before the
/// cost was raised verifies faster than the decoy; without this, a wrong
/// password for such an account would answer sooner than one for an
/// unknown user, and the timing would tell which accounts exist until their
/// owners next log in (and get the hash upgraded). Written here because
/// the argon2 crate has nothing like it (Django's `harden_runtime`).
fn make_up_cost(want: &Params, hash: &PasswordHash) {
    let have = Params::try_from(hash).map_or(0, |p| work(&p));
    if let Some(params) = make_up_params(have, want) {
        let mut out = [0u8; 32];
        // Fixed input: only the time this takes matters.
        let _ = Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
            b"authx-make-up-cost",
            b"authx-make-up-salt",
            &mut out,
        );
    }
}

/// Argon2's work, in 1 KiB block fills: memory × passes (lanes fill the
/// same blocks between them, and run on one thread here).
fn work(p: &Params) -> u64 {
    u64::from(p.m_cost()) * u64::from(p.t_cost())
}

/// Argon2 settings for the work `have` falls short of `want` by, or `None`
/// when it does not: one pass over the missing KiB when that is less than
/// the configured memory, else the configured memory with as many passes
/// as make up the rest (never more memory than a login already uses).
fn make_up_params(have: u64, want: &Params) -> Option<Params> {
    let missing = work(want).checked_sub(have).filter(|&m| m > 0)?;
    let memory = u64::from(want.m_cost());
    let (m_cost, t_cost) = if missing <= memory {
        (missing, 1)
    } else {
        (memory, ((missing + memory / 2) / memory).max(1))
    };
    let m_cost = u32::try_from(m_cost).ok()?.max(Params::MIN_M_COST);
    Params::new(m_cost, u32::try_from(t_cost).ok()?, 1, Some(32)).ok()
}

fn validate_username(username: &str) -> Result<(), UserError> {
    if username.is_empty() || username.len() > 64 || !username.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(UserError(
            "username: 1 to 64 visible ASCII characters".into(),
        ));
    }
    Ok(())
}

fn validate_password(password: &str) -> Result<(), UserError> {
    if password.is_empty() || password.len() > 1024 {
        return Err(UserError("password: 1 to 1024 bytes".into()));
    }
    Ok(())
}

/// The least argon2id memory cost (KiB) production mode accepts for a
/// number of iterations: OWASP's recommended settings (46 MiB with 1
/// iteration, 19 MiB with 2, 12 MiB with 3, 9 MiB with 4, 7 MiB with 5 or
/// more).
pub(crate) fn min_argon2_memory_kib(iterations: u32) -> Option<u32> {
    match iterations {
        0 => None,
        1 => Some(47_104),
        2 => Some(19_456),
        3 => Some(12_288),
        4 => Some(9_216),
        _ => Some(7_168),
    }
}

/// Whether an argon2id cost is at least OWASP's recommended one for its
/// number of iterations.
pub(crate) fn argon2_cost_is_strong(memory_kib: u32, iterations: u32) -> bool {
    min_argon2_memory_kib(iterations).is_some_and(|min| memory_kib >= min)
}

pub(crate) fn now_ms() -> i64 {
    authx::clock::Clock::now_millis(&authx::clock::SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_hash(users: &Users, username: &str) -> String {
        users
            .with(|c| {
                c.query_row(
                    "SELECT password_hash FROM users WHERE username = ?1",
                    [username],
                    |r| r.get(0),
                )
            })
            .expect("stored hash")
    }

    #[test]
    fn the_work_an_older_hash_falls_short_by_is_made_up() {
        let costs = |p: Params| (p.m_cost(), p.t_cost(), p.p_cost());
        let params = |m, t| Params::new(m, t, 1, None).expect("params");
        // OWASP's t=2 setting checked under a t=1, 46 MiB configuration.
        let p = make_up_params(19456 * 2, &params(47104, 1)).expect("short");
        assert_eq!(costs(p), (8192, 1, 1));
        // As much work or more: nothing to make up.
        assert!(make_up_params(47104, &params(47104, 1)).is_none());
        assert!(make_up_params(65536 * 3, &params(47104, 1)).is_none());
        // A shortfall under argon2's minimum runs the minimum.
        let tiny = make_up_params(47100, &params(47104, 1)).expect("short");
        assert_eq!(tiny.m_cost(), Params::MIN_M_COST);
        // A hash whose costs cannot be read: the whole configured cost, in
        // no more memory than the configuration uses.
        let all = make_up_params(0, &params(19456, 2)).expect("short");
        assert_eq!(costs(all), (19456, 2, 1));
        let most = make_up_params(4096, &params(7168, 5)).expect("short");
        assert_eq!(costs(most), (7168, 4, 1));
        let huge = make_up_params(0, &params(Params::MAX_M_COST, 4)).expect("short");
        assert_eq!(costs(huge), (Params::MAX_M_COST, 4, 1));
    }

    #[test]
    fn a_hash_made_at_a_lower_cost_is_replaced_at_the_next_login() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("users.db");
        let old = Users::open(&db, 1024, 1).expect("open");
        old.add("alice", None, "pw").expect("add");
        let before = stored_hash(&old, "alice");
        assert!(before.contains("m=1024,t=1,p=1"), "{before}");
        drop(old);

        let users = Users::open(&db, 2048, 2).expect("open");
        // A wrong password changes nothing.
        assert!(users.verify("alice", "nope").expect("verify").is_none());
        assert_eq!(stored_hash(&users, "alice"), before);
        // The right one logs in and upgrades the hash, once.
        assert!(users.verify("alice", "pw").expect("verify").is_some());
        let after = stored_hash(&users, "alice");
        assert!(after.contains("m=2048,t=2,p=1"), "{after}");
        assert!(users.verify("alice", "pw").expect("verify").is_some());
        assert_eq!(stored_hash(&users, "alice"), after, "not rehashed again");
        assert!(users.verify("alice", "nope").expect("verify").is_none());
    }

    #[test]
    fn production_argon2_floor_follows_owasps_table() {
        let table = [
            (47_104, 1),
            (19_456, 2),
            (12_288, 3),
            (9_216, 4),
            (7_168, 5),
        ];
        for (m, t) in table {
            assert!(argon2_cost_is_strong(m, t), "{m} x {t}");
            assert!(!argon2_cost_is_strong(m - 1, t), "{} x {t}", m - 1);
            assert!(argon2_cost_is_strong(m, t + 1), "{m} x {}", t + 1);
        }
        // The same product with fewer iterations is not enough.
        for (m, t) in [
            (35_840, 1),
            (17_920, 2),
            (11_947, 3),
            (1_024, 1),
            (0, u32::MAX),
        ] {
            assert!(!argon2_cost_is_strong(m, t), "{m} x {t}");
        }
        assert!(!argon2_cost_is_strong(u32::MAX, 0));
    }

    #[test]
    fn a_stronger_hash_is_kept_when_the_cost_is_lowered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("users.db");
        let strong = Users::open(&db, 2048, 2).expect("open");
        strong.add("alice", None, "pw").expect("add");
        let before = stored_hash(&strong, "alice");
        drop(strong);
        let weaker = Users::open(&db, 1024, 1).expect("open");
        assert!(weaker.verify("alice", "pw").expect("verify").is_some());
        assert_eq!(stored_hash(&weaker, "alice"), before, "not downgraded");
    }
}
