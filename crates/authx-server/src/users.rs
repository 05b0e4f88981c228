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
        Ok((ok && known).then(|| User {
            username: username.to_owned(),
            email,
        }))
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

pub(crate) fn now_ms() -> i64 {
    authx::clock::Clock::now_millis(&authx::clock::SystemClock)
}
