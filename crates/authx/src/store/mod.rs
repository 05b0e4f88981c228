//! Token stores: revocation by `jti` and by subject, and refresh-token
//! families (sessions) with atomic rotation and reuse detection.
//!
//! One object-safe trait, [`TokenStore`], three backends that pass one
//! conformance suite:
//!
//! | backend | feature | for |
//! |---|---|---|
//! | [`MemoryStore`] | always | tests, single-process apps |
//! | `SqliteStore` | `sqlite` | the embedded, persistent default; one process (or several on one host) |
//! | `RedisStore` | `redis` | many instances sharing revocations and sessions |
//!
//! # Families, rotation and reuse
//!
//! A login starts a *family* (one session: subject, user agent, IP,
//! created and last-used times, absolute expiry) whose *current* refresh
//! `jti` is the one just issued. [`TokenStore::rotate`] atomically checks
//! the presented `jti`:
//!
//! - it is the current one: it is retired (kept as *previous*) and the new
//!   `jti` becomes current: [`Rotation::Rotated`];
//! - it is the previous one, presented within the grace window (less than
//!   `grace_ms` from the moment it was retired, either way, so instances
//!   whose clocks differ a little agree; 0 turns the window off): the caller
//!   gets the already-issued successor, so two tabs refreshing at once
//!   converge: [`Rotation::Grace`];
//! - anything else (the previous one after the grace window, or an older
//!   one): the token was stolen or replayed, and the whole family is
//!   revoked: [`Rotation::Reused`];
//! - the family is unknown, revoked or past its absolute expiry:
//!   [`Rotation::Invalid`].
//!
//! # Failure
//!
//! A store that cannot be reached answers
//! [`ErrorKind::StoreUnavailable`](crate::ErrorKind::StoreUnavailable)
//! (503): refresh, logout and revocation checks fail closed, and succeed
//! again by themselves once the store is back.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::claims::{TokenPayload, TokenType};
use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::revocation::{BoxFuture, RevocationCheck};

#[cfg(any(feature = "sqlite", feature = "redis"))]
mod batch;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The claim that ties access and refresh tokens to their family.
pub const SESSION_CLAIM: &str = "sid";

/// One refresh family: one login, one session.
///
/// ```
/// use authx::store::Family;
/// let f = Family::new("fam-1", "user1", "jti-1", 1_000, 60_000);
/// assert_eq!(f.current_jti, "jti-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Family {
    /// The family (session) id, carried in tokens as `sid`.
    pub id: String,
    /// The subject.
    pub sub: String,
    /// The `jti` of the refresh token that may be rotated now. Never
    /// serialized: session lists must not hand out token ids.
    #[serde(skip_serializing)]
    pub current_jti: String,
    /// The `jti` it replaced, when there was a rotation (not serialized).
    #[serde(skip_serializing, default)]
    pub previous_jti: Option<String>,
    /// When the last rotation happened (ms since the epoch).
    pub rotated_at_ms: Option<i64>,
    /// The client's `User-Agent` at login.
    pub user_agent: Option<String>,
    /// The client's address at login.
    pub ip: Option<String>,
    /// Login time (ms).
    pub created_ms: i64,
    /// Last login or refresh (ms).
    pub last_used_ms: i64,
    /// Absolute expiry (ms): no rotation extends the family past it.
    pub expires_ms: i64,
}

impl Family {
    /// A new family whose current token is `jti`.
    ///
    /// ```
    /// let f = authx::store::Family::new("f", "u", "j", 0, 10);
    /// assert!(f.previous_jti.is_none());
    /// ```
    #[must_use]
    pub fn new(id: &str, sub: &str, jti: &str, now_ms: i64, expires_ms: i64) -> Self {
        Self {
            id: id.to_owned(),
            sub: sub.to_owned(),
            current_jti: jti.to_owned(),
            previous_jti: None,
            rotated_at_ms: None,
            user_agent: None,
            ip: None,
            created_ms: now_ms,
            last_used_ms: now_ms,
            expires_ms,
        }
    }

    /// Sets the client details shown in session lists.
    ///
    /// ```
    /// let f = authx::store::Family::new("f", "u", "j", 0, 10)
    ///     .with_client(Some("curl/8".into()), Some("127.0.0.1".into()));
    /// assert_eq!(f.ip.as_deref(), Some("127.0.0.1"));
    /// ```
    #[must_use]
    pub fn with_client(mut self, user_agent: Option<String>, ip: Option<String>) -> Self {
        self.user_agent = user_agent;
        self.ip = ip;
        self
    }

    /// The rotation rule shared by every backend that runs it in Rust
    /// (memory, SQLite); Redis runs the same rule in Lua.
    pub(crate) fn rotate(
        &mut self,
        presented: &str,
        new_jti: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Rotation {
        if now_ms >= self.expires_ms {
            return Rotation::Invalid;
        }
        if presented == self.current_jti {
            self.previous_jti = Some(std::mem::replace(&mut self.current_jti, new_jti.to_owned()));
            self.rotated_at_ms = Some(now_ms);
            self.last_used_ms = now_ms;
            return Rotation::Rotated {
                expires_ms: self.expires_ms,
            };
        }
        if self.previous_jti.as_deref() == Some(presented)
            && self
                .rotated_at_ms
                .is_some_and(|at| now_ms.abs_diff(at) < grace_ms.unsigned_abs())
        {
            self.last_used_ms = now_ms;
            return Rotation::Grace {
                successor_jti: self.current_jti.clone(),
                expires_ms: self.expires_ms,
            };
        }
        Rotation::Reused
    }
}

/// The outcome of [`TokenStore::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rotation {
    /// The presented token was current; the new `jti` is current now.
    Rotated {
        /// The family's absolute expiry (ms).
        expires_ms: i64,
    },
    /// The presented token was just retired (within the grace window): use
    /// the already-issued successor, whose `jti` this is.
    Grace {
        /// The family's current `jti`.
        successor_jti: String,
        /// The family's absolute expiry (ms).
        expires_ms: i64,
    },
    /// A retired token was replayed: the family has been revoked.
    Reused,
    /// Unknown, revoked or expired family.
    Invalid,
}

/// Storage for revocations and refresh families. Object-safe: choose the
/// backend at startup as an `Arc<dyn TokenStore>`.
///
/// Times are milliseconds since the epoch, passed in by the caller (the
/// [`AuthX`](crate::AuthX) clock), so tests move time instead of sleeping;
/// the Redis backend also sets real TTLs from them.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Revokes a token by `jti` until `until_ms` (its `exp` plus leeway).
    async fn revoke_jti(&self, jti: &str, until_ms: i64) -> Result<()>;

    /// Whether `jti` is revoked at `now_ms`.
    async fn is_jti_revoked(&self, jti: &str, now_ms: i64) -> Result<bool>;

    /// Revokes every token of `sub` issued at or before `at_ms`; the
    /// cut-off is kept until `until_ms` (when every such token has expired).
    /// A later call with an earlier `at_ms` never moves the cut-off back.
    async fn revoke_subject_before(&self, sub: &str, at_ms: i64, until_ms: i64) -> Result<()>;

    /// The subject's cut-off at `now_ms`, if any.
    async fn subject_cutoff(&self, sub: &str, now_ms: i64) -> Result<Option<i64>>;

    /// Records a new family.
    async fn start_family(&self, family: &Family) -> Result<()>;

    /// Rotates atomically; see the [module docs](self).
    async fn rotate(
        &self,
        family_id: &str,
        presented_jti: &str,
        new_jti: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Result<Rotation>;

    /// A live family (not revoked, not expired at `now_ms`).
    async fn family(&self, family_id: &str, now_ms: i64) -> Result<Option<Family>>;

    /// Revokes one family; `true` if it was live.
    async fn revoke_family(&self, family_id: &str) -> Result<bool>;

    /// The subject's live families, newest first.
    async fn families(&self, sub: &str, now_ms: i64) -> Result<Vec<Family>>;

    /// Revokes every family of `sub`; returns how many were live.
    async fn revoke_families(&self, sub: &str, now_ms: i64) -> Result<usize>;

    /// Drops entries that can no longer matter at `now_ms`. Backends with
    /// native expiry (Redis) do nothing.
    async fn purge_expired(&self, now_ms: i64) -> Result<()>;
}

/// The revocation hook backed by a store: plugs into
/// [`AuthXBuilder::revocation_arc`](crate::AuthXBuilder::revocation_arc).
///
/// - refresh tokens: their family must be live (rotation itself decides
///   between current, grace and reuse);
/// - access tokens, when `check_access` is on: not revoked by `jti`, not
///   issued before the subject's cut-off, and their family (if any) live.
///
/// ```
/// use std::sync::Arc;
/// use authx::{AuthX, AuthXConfig, store::{MemoryStore, StoreRevocation, TokenStore}};
/// let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
/// let auth = AuthX::builder(AuthXConfig {
///     secret_key: Some("an-example-secret-of-at-least-32-bytes!".into()),
///     ..Default::default()
/// })
/// .revocation_arc(Arc::new(StoreRevocation::new(store, true)))
/// .build()?;
/// # Ok::<(), authx::Error>(())
/// ```
#[derive(Clone)]
pub struct StoreRevocation {
    store: Arc<dyn TokenStore>,
    check_access: bool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for StoreRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreRevocation")
            .field("check_access", &self.check_access)
            .finish_non_exhaustive()
    }
}

impl StoreRevocation {
    /// Checks refresh tokens always, access tokens when `check_access`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::store::{MemoryStore, StoreRevocation};
    /// let r = StoreRevocation::new(Arc::new(MemoryStore::new()), false);
    /// ```
    #[must_use]
    pub fn new(store: Arc<dyn TokenStore>, check_access: bool) -> Self {
        Self {
            store,
            check_access,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` (the one given to [`AuthX`](crate::AuthX)) for "now".
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use authx::{clock::ManualClock, store::{MemoryStore, StoreRevocation}};
    /// let r = StoreRevocation::new(Arc::new(MemoryStore::new()), true)
    ///     .with_clock(Arc::new(ManualClock::at_secs(0)));
    /// ```
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn revoked(&self, p: &TokenPayload) -> Result<bool> {
        let now = self.clock.now_millis();
        let sid = p.session_id();
        match p.token_type {
            TokenType::Refresh => match sid {
                Some(sid) => Ok(self
                    .store
                    .family(sid, now)
                    .await?
                    .is_none_or(|f| f.sub != p.sub)),
                // A refresh token outside any family cannot be rotated or
                // revoked: refuse it when a store is in charge.
                None => Ok(true),
            },
            TokenType::Access if self.check_access => {
                if self.store.is_jti_revoked(&p.jti, now).await? {
                    return Ok(true);
                }
                if let Some(cutoff) = self.store.subject_cutoff(&p.sub, now).await?
                    && p.issued_at_ms() <= cutoff
                {
                    return Ok(true);
                }
                match sid {
                    Some(sid) => Ok(self.store.family(sid, now).await?.is_none()),
                    None => Ok(false),
                }
            }
            TokenType::Access => Ok(false),
        }
    }
}

impl RevocationCheck for StoreRevocation {
    fn is_revoked<'a>(&'a self, payload: &'a TokenPayload) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.revoked(payload))
    }

    fn checks(&self, token_type: TokenType) -> bool {
        token_type == TokenType::Refresh || self.check_access
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_rule_follows_current_grace_and_reuse() {
        let mut f = Family::new("f", "u", "j1", 0, 100_000);
        assert_eq!(
            f.rotate("j1", "j2", 10, 10_000),
            Rotation::Rotated {
                expires_ms: 100_000
            }
        );
        assert_eq!(
            f.rotate("j1", "j3", 20, 10_000),
            Rotation::Grace {
                successor_jti: "j2".into(),
                expires_ms: 100_000
            }
        );
        assert_eq!(f.rotate("j1", "j3", 10_011, 10_000), Rotation::Reused);
        let mut f = Family::new("f", "u", "j1", 0, 100_000);
        f.rotate("j1", "j2", 10, 10_000);
        f.rotate("j2", "j3", 11, 10_000);
        assert_eq!(
            f.rotate("j1", "j4", 12, 10_000),
            Rotation::Reused,
            "grandparent"
        );
        assert_eq!(
            f.rotate("j3", "j4", 100_000, 10_000),
            Rotation::Invalid,
            "expired"
        );
    }
}
